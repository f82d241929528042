-- The per-topic tables are recreated empty by the older binary at start.
DROP TABLE events.consumer_offsets;
DROP TABLE events.outbox;
