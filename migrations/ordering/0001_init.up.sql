CREATE SCHEMA IF NOT EXISTS ordering;

CREATE TABLE ordering.orders (
    id                  uuid        PRIMARY KEY,
    user_id             uuid        NOT NULL,
    email               text        NOT NULL DEFAULT '',
    checkout_session_id uuid        NOT NULL,
    status              text        NOT NULL CHECK (status IN ('placing', 'failed', 'pending_payment', 'paid', 'fulfilling',
                                                              'shipped', 'delivered', 'expired', 'canceled', 'refunded')),
    items               jsonb       NOT NULL,
    subtotal            bigint      NOT NULL,
    discount            bigint      NOT NULL,
    shipping_cost       bigint      NOT NULL,
    total               bigint      NOT NULL,
    currency            char(3)     NOT NULL,
    promo_code          text,
    address             jsonb       NOT NULL,
    courier             text        NOT NULL,
    payment_gateway     text        NOT NULL,
    payment_id          text,
    intent_id           text,
    client_secret       text,
    refunded_amount     bigint      NOT NULL DEFAULT 0,
    late_refund_due     boolean     NOT NULL DEFAULT false,
    failure             text,
    expires_at          timestamptz,
    paid_at             timestamptz,
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now(),
    CHECK (refunded_amount <= total)
);
-- One order per checkout session, whatever the concurrency.
CREATE UNIQUE INDEX orders_one_per_session ON ordering.orders (checkout_session_id) WHERE status <> 'failed';
CREATE INDEX orders_user ON ordering.orders (user_id, id);
CREATE INDEX orders_status ON ordering.orders (status, id);
CREATE INDEX orders_placing ON ordering.orders (created_at) WHERE status = 'placing';
CREATE INDEX orders_late_refund ON ordering.orders (id) WHERE late_refund_due;

-- The saga/timeline of each order.
CREATE TABLE ordering.timeline (
    id         bigserial   PRIMARY KEY,
    order_id   uuid        NOT NULL,
    type       text        NOT NULL,
    detail     jsonb       NOT NULL DEFAULT '{}',
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX timeline_order ON ordering.timeline (order_id, id);

-- Durable deadlines: reminders and the payment timeout. The worker claims
-- due rows with SKIP LOCKED and marks them fired in the same transaction
-- as their effect, so none is lost across restarts and none fires twice.
CREATE TABLE ordering.deadlines (
    order_id uuid        NOT NULL,
    kind     text        NOT NULL CHECK (kind IN ('reminder', 'expire')),
    seq      int         NOT NULL,
    due_at   timestamptz NOT NULL,
    fired_at timestamptz,
    PRIMARY KEY (order_id, kind, seq)
);
CREATE INDEX deadlines_due ON ordering.deadlines (due_at) WHERE fired_at IS NULL;

-- Refunds applied to orders (by refund id: applied once).
CREATE TABLE ordering.refunds (
    refund_id  uuid        PRIMARY KEY,
    order_id   uuid        NOT NULL,
    amount     bigint      NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE ordering.inbox (
    consumer     text        NOT NULL,
    event_id     text        NOT NULL,
    processed_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (consumer, event_id)
);
