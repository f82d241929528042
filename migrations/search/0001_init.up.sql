CREATE SCHEMA IF NOT EXISTS search;
-- Trigram similarity for typo tolerance (a trusted extension: no superuser
-- needed on PostgreSQL 13+ for a database owner).
CREATE EXTENSION IF NOT EXISTS pg_trgm;

-- Search's read model of the catalog, fed by catalog events (never by
-- reading the catalog schema). doc is the product as hits return it.
CREATE TABLE search.products (
    id          uuid        PRIMARY KEY,
    name        text        NOT NULL,
    description text        NOT NULL DEFAULT '',
    category    text        NOT NULL DEFAULT '',
    brand       text        NOT NULL DEFAULT '',
    price       bigint      NOT NULL,
    status      text        NOT NULL,
    version     int         NOT NULL,
    created_at  timestamptz NOT NULL,
    doc         jsonb       NOT NULL,
    -- Weighted full text: name > brand and category > description.
    tsv tsvector GENERATED ALWAYS AS (
        setweight(to_tsvector('english', name), 'A') ||
        setweight(to_tsvector('english', brand || ' ' || category), 'B') ||
        setweight(to_tsvector('english', description), 'C')) STORED,
    -- Version last sent to Meilisearch (SEARCH_BACKEND=meilisearch).
    synced_version int      NOT NULL DEFAULT 0
);
CREATE INDEX products_tsv ON search.products USING gin (tsv) WHERE status = 'active';
CREATE INDEX products_price ON search.products (price, id) WHERE status = 'active';
CREATE INDEX products_newest ON search.products (created_at DESC, id DESC) WHERE status = 'active';
CREATE INDEX products_category ON search.products (category) WHERE status = 'active';
CREATE INDEX products_brand ON search.products (brand) WHERE status = 'active';
CREATE INDEX products_name_prefix ON search.products (lower(name) text_pattern_ops) WHERE status = 'active';
CREATE INDEX products_unsynced ON search.products (id) WHERE synced_version <> version;

-- Stock kept apart from products: its events may arrive before the
-- product's on another topic.
CREATE TABLE search.stock (
    product_id uuid PRIMARY KEY,
    on_hand    int  NOT NULL,
    reserved   int  NOT NULL
);

-- Words of names, brands and categories: the dictionary typos are
-- corrected against (trigram similarity).
CREATE TABLE search.terms (
    term text PRIMARY KEY
);
CREATE INDEX terms_trgm ON search.terms USING gin (term gin_trgm_ops);

-- Query log for analytics, written in batches off the request path.
CREATE TABLE search.queries (
    id      bigserial   PRIMARY KEY,
    query   text        NOT NULL,
    hits    int         NOT NULL,
    took_ms real        NOT NULL,
    at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX queries_at ON search.queries (at);

CREATE TABLE search.inbox (
    consumer     text        NOT NULL,
    event_id     text        NOT NULL,
    processed_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (consumer, event_id)
);
