-- One fulfillment per paid order (unique order_id); the carrier call is
-- retried with backoff from these columns and never blocks other orders.
CREATE TABLE fulfillment.fulfillments (
    id              uuid        PRIMARY KEY,
    order_id        uuid        NOT NULL UNIQUE,
    user_id         uuid        NOT NULL,
    email           text        NOT NULL DEFAULT '',
    status          text        NOT NULL CHECK (status IN ('pending', 'in_progress', 'shipped', 'delivered')),
    courier         text        NOT NULL,
    country         text        NOT NULL,
    weight_grams    int         NOT NULL DEFAULT 0,
    currency        char(3)     NOT NULL,
    tracking_id     text,
    eta             timestamptz,
    attempts        int         NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    last_error      text,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX fulfillments_pending ON fulfillment.fulfillments (next_attempt_at) WHERE status = 'pending';
