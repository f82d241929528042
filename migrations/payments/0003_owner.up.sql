-- The order's owner, so that only they may confirm a test-gateway payment
-- from the browser (NULL for payments created before this column).
ALTER TABLE payments.payments ADD COLUMN user_id uuid;
