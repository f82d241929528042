CREATE SCHEMA IF NOT EXISTS webhooks;

-- Endpoints administrators registered. secret signs every delivery;
-- during a rotation previous_secret signs too, until previous_expires_at.
-- failing_since is when the current run of failed attempts began (NULL
-- after a success): 24 hours of it disables the endpoint.
CREATE TABLE webhooks.endpoints (
    id                  uuid        PRIMARY KEY,
    url                 text        NOT NULL,
    description         text        NOT NULL DEFAULT '',
    events              text[]      NOT NULL,
    secret              text        NOT NULL,
    previous_secret     text,
    previous_expires_at timestamptz,
    enabled             boolean     NOT NULL DEFAULT true,
    disabled_reason     text,
    failing_since       timestamptz,
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now()
);
-- The consumer looks up the enabled endpoints of an event type.
CREATE INDEX endpoints_events ON webhooks.endpoints USING gin (events) WHERE enabled;

-- One delivery of one event to one endpoint. The original delivery of an
-- event is unique per endpoint (exactly once per event id); a replay is a
-- new delivery of the same event (replay_of names the one replayed).
-- next_attempt_at is when the dispatcher may next try it (a claimed
-- delivery's lease while an attempt is in flight).
CREATE TABLE webhooks.deliveries (
    id              uuid        PRIMARY KEY,
    endpoint_id     uuid        NOT NULL REFERENCES webhooks.endpoints (id) ON DELETE CASCADE,
    event_id        text        NOT NULL,
    event_type      text        NOT NULL,
    payload         text        NOT NULL,
    status          text        NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'succeeded', 'failed')),
    attempts        int         NOT NULL DEFAULT 0,
    next_attempt_at timestamptz,
    replay_of       uuid,
    created_at      timestamptz NOT NULL DEFAULT now(),
    completed_at    timestamptz
);
CREATE UNIQUE INDEX deliveries_once ON webhooks.deliveries (endpoint_id, event_id) WHERE replay_of IS NULL;
CREATE INDEX deliveries_due ON webhooks.deliveries (next_attempt_at) WHERE status = 'pending';
CREATE INDEX deliveries_by_endpoint ON webhooks.deliveries (endpoint_id, id DESC);

-- The log: one row per HTTP attempt of a delivery.
CREATE TABLE webhooks.attempts (
    delivery_id   uuid        NOT NULL REFERENCES webhooks.deliveries (id) ON DELETE CASCADE,
    n             int         NOT NULL,
    attempted_at  timestamptz NOT NULL,
    latency_ms    int         NOT NULL,
    response_code int,
    response_body text        NOT NULL DEFAULT '',
    error         text        NOT NULL DEFAULT '',
    PRIMARY KEY (delivery_id, n)
);

CREATE TABLE webhooks.inbox (
    consumer     text        NOT NULL,
    event_id     text        NOT NULL,
    processed_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (consumer, event_id)
);
