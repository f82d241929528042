-- A provider's success only pays an order when its amount and currency
-- are the intent's; otherwise the payment waits for review. Refunds are
-- bounded by what was actually captured.
ALTER TABLE payments.payments DROP CONSTRAINT payments_status_check;
ALTER TABLE payments.payments ADD CONSTRAINT payments_status_check
    CHECK (status IN ('requires_payment', 'succeeded', 'failed', 'canceled', 'amount_mismatch'));
ALTER TABLE payments.payments ADD COLUMN amount_captured bigint NOT NULL DEFAULT 0 CHECK (amount_captured >= 0);
UPDATE payments.payments SET amount_captured = amount WHERE status = 'succeeded';
ALTER TABLE payments.payments ADD CONSTRAINT payments_refunds_within_capture CHECK (amount_refunded <= amount_captured);
CREATE INDEX payments_review ON payments.payments (updated_at) WHERE status IN ('amount_mismatch', 'failed');

-- What each provider event said and what was done with it.
ALTER TABLE payments.webhook_events
    ADD COLUMN payment_id uuid,
    ADD COLUMN amount     bigint,
    ADD COLUMN currency   text,
    ADD COLUMN outcome    text;
