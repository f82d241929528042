CREATE SCHEMA IF NOT EXISTS cart;

-- One active cart per customer.
CREATE TABLE cart.carts (
    id         uuid        PRIMARY KEY,
    user_id    uuid        NOT NULL UNIQUE,
    currency   char(3),
    promo_code text,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE cart.items (
    cart_id    uuid        NOT NULL REFERENCES cart.carts (id) ON DELETE CASCADE,
    product_id uuid        NOT NULL,
    quantity   int         NOT NULL CHECK (quantity BETWEEN 1 AND 99),
    added_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (cart_id, product_id)
);

CREATE TABLE cart.promotions (
    id                uuid        PRIMARY KEY,
    code              text        NOT NULL CHECK (code = upper(code)),
    kind              text        NOT NULL CHECK (kind IN ('percent', 'fixed')),
    value             bigint      NOT NULL CHECK (value > 0),
    currency          char(3),
    min_subtotal      bigint      NOT NULL DEFAULT 0 CHECK (min_subtotal >= 0),
    max_uses          int         CHECK (max_uses IS NULL OR max_uses > 0),
    uses              int         NOT NULL DEFAULT 0 CHECK (uses >= 0),
    once_per_customer boolean     NOT NULL DEFAULT true,
    starts_at         timestamptz,
    ends_at           timestamptz,
    active            boolean     NOT NULL DEFAULT true,
    created_at        timestamptz NOT NULL DEFAULT now(),
    CHECK (max_uses IS NULL OR uses <= max_uses),
    CHECK (kind <> 'percent' OR value <= 100),
    CHECK (kind <> 'fixed' OR currency IS NOT NULL),
    CHECK (starts_at IS NULL OR ends_at IS NULL OR starts_at < ends_at)
);
CREATE UNIQUE INDEX promotions_code_key ON cart.promotions (code);

-- A use is counted when an order is placed and released if that order
-- expires or is canceled.
CREATE TABLE cart.promotion_uses (
    promotion_id uuid        NOT NULL REFERENCES cart.promotions (id),
    order_id     uuid        NOT NULL,
    user_id      uuid        NOT NULL,
    status       text        NOT NULL CHECK (status IN ('used', 'released')),
    created_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (promotion_id, order_id)
);
CREATE INDEX promotion_uses_user ON cart.promotion_uses (promotion_id, user_id) WHERE status = 'used';

CREATE TABLE cart.checkout_sessions (
    id              uuid        PRIMARY KEY,
    user_id         uuid        NOT NULL,
    status          text        NOT NULL CHECK (status IN ('pending', 'order_placed', 'expired', 'canceled')),
    items           jsonb       NOT NULL,
    subtotal        bigint      NOT NULL,
    discount        bigint      NOT NULL,
    shipping_cost   bigint      NOT NULL,
    total           bigint      NOT NULL CHECK (total >= 0),
    currency        char(3)     NOT NULL,
    promo_code      text,
    promotion_id    uuid        REFERENCES cart.promotions (id),
    address         jsonb       NOT NULL,
    courier         text        NOT NULL,
    payment_gateway text        NOT NULL,
    eta_days        int         NOT NULL,
    order_id        uuid,
    expires_at      timestamptz NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    CHECK (total = subtotal - discount + shipping_cost)
);
CREATE INDEX checkout_sessions_user ON cart.checkout_sessions (user_id, created_at);
CREATE INDEX checkout_sessions_order ON cart.checkout_sessions (order_id) WHERE order_id IS NOT NULL;

CREATE TABLE cart.inbox (
    consumer     text        NOT NULL,
    event_id     text        NOT NULL,
    processed_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (consumer, event_id)
);
