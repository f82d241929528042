DROP TABLE IF EXISTS events.outbox_purge;
ALTER TABLE events.consumer_offsets DROP COLUMN IF EXISTS topics;
