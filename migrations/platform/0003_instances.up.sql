-- Running processes and their heartbeats: an Idempotency-Key lease names
-- the process holding it, and a lease whose process stopped beating (or
-- removed its row on a clean shutdown) is abandoned and taken over at
-- once instead of after the 2-minute cap.
CREATE TABLE platform.instances (
    id           uuid        PRIMARY KEY,
    started_at   timestamptz NOT NULL DEFAULT now(),
    heartbeat_at timestamptz NOT NULL DEFAULT now()
);

ALTER TABLE platform.idempotency_keys ADD COLUMN owner uuid;
