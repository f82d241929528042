DROP INDEX IF EXISTS catalog.stock_available;
