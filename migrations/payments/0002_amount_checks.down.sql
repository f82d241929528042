ALTER TABLE payments.webhook_events DROP COLUMN outcome, DROP COLUMN currency, DROP COLUMN amount, DROP COLUMN payment_id;
DROP INDEX payments.payments_review;
ALTER TABLE payments.payments DROP CONSTRAINT payments_refunds_within_capture;
ALTER TABLE payments.payments DROP COLUMN amount_captured;
UPDATE payments.payments SET status = 'requires_payment' WHERE status = 'amount_mismatch';
ALTER TABLE payments.payments DROP CONSTRAINT payments_status_check;
ALTER TABLE payments.payments ADD CONSTRAINT payments_status_check
    CHECK (status IN ('requires_payment', 'succeeded', 'failed', 'canceled'));
