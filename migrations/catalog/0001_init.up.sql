CREATE SCHEMA IF NOT EXISTS catalog;

CREATE TABLE catalog.products (
    id           uuid        PRIMARY KEY,
    sku          text        NOT NULL,
    name         text        NOT NULL,
    description  text        NOT NULL DEFAULT '',
    category     text        NOT NULL,
    brand        text        NOT NULL DEFAULT '',
    attributes   jsonb       NOT NULL DEFAULT '{}',
    price        bigint      NOT NULL CHECK (price >= 0),
    currency     char(3)     NOT NULL,
    images       jsonb       NOT NULL DEFAULT '[]',
    weight_grams int         NOT NULL DEFAULT 0 CHECK (weight_grams >= 0),
    status       text        NOT NULL CHECK (status IN ('active', 'archived')),
    version      int         NOT NULL DEFAULT 1,
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX products_sku_key ON catalog.products (sku);
CREATE INDEX products_status_id ON catalog.products (status, id);
CREATE INDEX products_category ON catalog.products (status, category, id);
CREATE INDEX products_brand ON catalog.products (status, brand, id);

-- Stock lives beside the product row so reservations never contend with
-- product edits. available = on_hand - reserved is never negative.
CREATE TABLE catalog.stock (
    product_id uuid        PRIMARY KEY REFERENCES catalog.products (id),
    on_hand    int         NOT NULL DEFAULT 0 CHECK (on_hand >= 0),
    reserved   int         NOT NULL DEFAULT 0 CHECK (reserved >= 0),
    updated_at timestamptz NOT NULL DEFAULT now(),
    CHECK (reserved <= on_hand)
);

CREATE TABLE catalog.reservations (
    order_id   uuid        NOT NULL,
    product_id uuid        NOT NULL REFERENCES catalog.products (id),
    quantity   int         NOT NULL CHECK (quantity > 0),
    status     text        NOT NULL CHECK (status IN ('reserved', 'released', 'committed')),
    expires_at timestamptz,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (order_id, product_id)
);
CREATE INDEX reservations_expiry ON catalog.reservations (expires_at) WHERE status = 'reserved' AND expires_at IS NOT NULL;

-- Every stock movement, with why and for what.
CREATE TABLE catalog.stock_ledger (
    id             bigserial   PRIMARY KEY,
    product_id     uuid        NOT NULL REFERENCES catalog.products (id),
    kind           text        NOT NULL CHECK (kind IN ('adjust', 'reserve', 'release', 'commit')),
    delta_on_hand  int         NOT NULL,
    delta_reserved int         NOT NULL,
    reason         text        NOT NULL,
    reference      text        NOT NULL DEFAULT '',
    created_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX stock_ledger_product ON catalog.stock_ledger (product_id, id);

CREATE TABLE catalog.inbox (
    consumer     text        NOT NULL,
    event_id     text        NOT NULL,
    processed_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (consumer, event_id)
);
