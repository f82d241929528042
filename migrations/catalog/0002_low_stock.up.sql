-- The admin dashboard lists products with little available stock, lowest
-- first: an index on available (on hand minus reserved) reads them in order.
CREATE INDEX stock_available ON catalog.stock ((on_hand - reserved), product_id);
