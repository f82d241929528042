-- One outbox for every topic, delivered in a commit-ordered sequence that
-- the relay assigns after commit. Nothing here reads the cluster's oldest
-- snapshot, so no transaction anywhere on the server (a report, pg_dump,
-- another database's stuck session) can hold delivery back, and a
-- dump/restore keeps working (no transaction ids are stored).
CREATE TABLE events.outbox (
    id           bigserial   PRIMARY KEY,  -- insertion order
    seq          bigint      UNIQUE,       -- delivery order; NULL until the relay sequences it
    topic        text        NOT NULL,
    event_id     text        NOT NULL,
    aggregate_id text        NOT NULL DEFAULT '',
    payload      json        NOT NULL,  -- the envelope, byte for byte
    created_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX outbox_unsequenced ON events.outbox (id) WHERE seq IS NULL;
CREATE INDEX outbox_topic_seq ON events.outbox (topic, seq);

-- Where each consumer (or Kafka forwarder) stands in the sequence.
CREATE TABLE events.consumer_offsets (
    consumer   text        PRIMARY KEY,
    seq        bigint      NOT NULL DEFAULT 0,
    updated_at timestamptz NOT NULL DEFAULT now()
);

-- Messages of the former per-topic tables (watermill-sql) move over in
-- their order; consumers read them again from the start and their inboxes
-- drop what was already applied.
DO $$
DECLARE
    t record;
BEGIN
    FOR t IN SELECT tablename FROM pg_tables WHERE schemaname = 'events' AND tablename LIKE 'messages\_%' ORDER BY tablename LOOP
        EXECUTE format('INSERT INTO events.outbox (topic, event_id, aggregate_id, payload, created_at)
            SELECT %L, uuid, coalesce(payload::jsonb->>''aggregate_id'', ''''), payload::json, created_at FROM events.%I WHERE payload IS NOT NULL ORDER BY "offset"',
            substr(t.tablename, length('messages_') + 1), t.tablename);
        EXECUTE format('DROP TABLE events.%I', t.tablename);
    END LOOP;
    FOR t IN SELECT tablename FROM pg_tables WHERE schemaname = 'events' AND tablename LIKE 'offsets\_%' LOOP
        EXECUTE format('DROP TABLE events.%I', t.tablename);
    END LOOP;
END $$;
