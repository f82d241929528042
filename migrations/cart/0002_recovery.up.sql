-- Recovery emails of abandoned carts: one row per email asked of notify
-- (cart.abandoned); recovered_at is set by an order within 7 days of it.
CREATE TABLE cart.recovery_emails (
    id           uuid        PRIMARY KEY,
    cart_id      uuid        NOT NULL,
    user_id      uuid        NOT NULL,
    sent_at      timestamptz NOT NULL DEFAULT now(),
    recovered_at timestamptz,
    order_id     uuid
);
CREATE INDEX recovery_emails_cart ON cart.recovery_emails (cart_id, sent_at);
CREATE INDEX recovery_emails_open ON cart.recovery_emails (user_id, sent_at) WHERE recovered_at IS NULL;
