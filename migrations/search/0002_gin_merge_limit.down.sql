ALTER INDEX search.products_tsv RESET (gin_pending_list_limit);
