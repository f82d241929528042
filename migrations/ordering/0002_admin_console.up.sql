-- The admin console filters orders by creation time and sums revenue by
-- payment time (the dashboard's today and last 7 days).
CREATE INDEX orders_created ON ordering.orders (created_at);
CREATE INDEX orders_paid ON ordering.orders (paid_at) WHERE paid_at IS NOT NULL;
