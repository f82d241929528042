DROP TABLE IF EXISTS platform.audit_log;
DROP INDEX IF EXISTS events.dead_letters_listing;
DROP INDEX IF EXISTS events.dead_letters_retry_requested;
ALTER TABLE events.dead_letters DROP COLUMN IF EXISTS retried_at, DROP COLUMN IF EXISTS retry_requested_at;
