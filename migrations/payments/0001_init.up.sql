CREATE SCHEMA IF NOT EXISTS payments;

CREATE TABLE payments.payments (
    id                  uuid        PRIMARY KEY,
    order_id            uuid        NOT NULL UNIQUE,
    gateway             text        NOT NULL CHECK (gateway IN ('stripe', 'test')),
    provider_intent_id  text        NOT NULL,
    client_secret       text        NOT NULL,
    amount              bigint      NOT NULL CHECK (amount >= 0),
    currency            char(3)     NOT NULL,
    status              text        NOT NULL CHECK (status IN ('requires_payment', 'succeeded', 'failed', 'canceled')),
    amount_refunded     bigint      NOT NULL DEFAULT 0 CHECK (amount_refunded >= 0),
    cancel_requested_at timestamptz,
    provider_canceled_at timestamptz,
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now(),
    CHECK (amount_refunded <= amount)
);
CREATE INDEX payments_intent ON payments.payments (gateway, provider_intent_id);
CREATE INDEX payments_cancel_pending ON payments.payments (cancel_requested_at) WHERE cancel_requested_at IS NOT NULL AND provider_canceled_at IS NULL;

-- Refunds are recorded as pending before the provider is called (the
-- refund id is the provider idempotency key), so a crash in between is
-- retried, never doubled.
CREATE TABLE payments.refunds (
    id                 uuid        PRIMARY KEY,
    payment_id         uuid        NOT NULL REFERENCES payments.payments (id),
    amount             bigint      NOT NULL CHECK (amount > 0),
    reason             text        NOT NULL,
    status             text        NOT NULL CHECK (status IN ('pending', 'succeeded', 'failed')),
    provider_refund_id text,
    created_at         timestamptz NOT NULL DEFAULT now(),
    updated_at         timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX refunds_payment ON payments.refunds (payment_id);
CREATE INDEX refunds_pending ON payments.refunds (created_at) WHERE status = 'pending';

-- Each provider event is applied once.
CREATE TABLE payments.webhook_events (
    gateway     text        NOT NULL,
    event_id    text        NOT NULL,
    type        text        NOT NULL,
    received_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (gateway, event_id)
);

CREATE TABLE payments.inbox (
    consumer     text        NOT NULL,
    event_id     text        NOT NULL,
    processed_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (consumer, event_id)
);
