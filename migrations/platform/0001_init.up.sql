-- Platform tables: no business nouns. Idempotency records and the event
-- infrastructure (watermill outbox topics live in schema "events").
CREATE SCHEMA IF NOT EXISTS platform;
CREATE SCHEMA IF NOT EXISTS events;

CREATE TABLE platform.idempotency_keys (
    scope         text        NOT NULL,
    key           text        NOT NULL,
    method        text        NOT NULL,
    path          text        NOT NULL,
    request_hash  bytea       NOT NULL,
    status        int,
    content_type  text,
    body          bytea,
    locked_until  timestamptz,
    created_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (scope, key)
);
CREATE INDEX idempotency_keys_created_at ON platform.idempotency_keys (created_at);

CREATE TABLE events.dead_letters (
    id            bigserial   PRIMARY KEY,
    consumer      text        NOT NULL,
    topic         text        NOT NULL,
    event_id      text        NOT NULL,
    payload       jsonb       NOT NULL,
    error         text        NOT NULL,
    attempts      int         NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    UNIQUE (consumer, event_id)
);
