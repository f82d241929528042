-- Every query scans the full-text index's pending list (rows inserted
-- since its last merge). The default limit, 4 MB, let a query after a
-- burst of catalog changes cost 10 ms instead of under 1 ms; 256 kB keeps
-- merges frequent and small.
ALTER INDEX search.products_tsv SET (gin_pending_list_limit = 256);
