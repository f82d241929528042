-- Dead-letter retries: an administrator's request marks the row
-- (retry_requested_at) from any process; the process hosting the
-- consumer re-delivers the stored event through the consumer's inbox and
-- records retried_at, or the new error and attempt count and clears the
-- request when it fails again.
ALTER TABLE events.dead_letters
    ADD COLUMN retry_requested_at timestamptz,
    ADD COLUMN retried_at         timestamptz;
CREATE INDEX dead_letters_retry_requested ON events.dead_letters (consumer, id)
    WHERE retry_requested_at IS NOT NULL AND retried_at IS NULL;
CREATE INDEX dead_letters_listing ON events.dead_letters ((retried_at IS NOT NULL), id DESC);

-- Audit log of administrators' changes: one row per POST, PUT, PATCH or
-- DELETE on an admin route, written after the handler with its status.
-- Never the request body.
CREATE TABLE platform.audit_log (
    id          uuid        PRIMARY KEY,
    at          timestamptz NOT NULL DEFAULT now(),
    actor_id    text        NOT NULL,
    actor_email text,
    method      text        NOT NULL,
    route       text        NOT NULL,
    path        text        NOT NULL,
    status      int         NOT NULL,
    request_id  text        NOT NULL
);
CREATE INDEX audit_log_actor ON platform.audit_log (actor_id, id DESC);
