DROP INDEX IF EXISTS ordering.orders_paid;
DROP INDEX IF EXISTS ordering.orders_created;
