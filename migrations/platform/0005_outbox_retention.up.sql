-- Delivered outbox rows are purged after OUTBOX_RETENTION (a periodic
-- task). A row goes only once every consumer and Kafka forwarder of its
-- topic has read past it, so each offset row now names its topics (NULL
-- on rows written before this: such a consumer holds back every topic
-- until it starts again and records its own).
ALTER TABLE events.consumer_offsets ADD COLUMN topics text[];

-- When the purge last deleted rows: `commerce check` does not expect an event
-- behind an email written before purged_at.
CREATE TABLE events.outbox_purge (
    only_row  boolean     PRIMARY KEY DEFAULT true CHECK (only_row),
    purged_at timestamptz NOT NULL
);
