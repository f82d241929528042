-- Per-user sequence numbers: the SSE event id. Notification inserts of one
-- user are serialised (advisory lock), so seq order is commit order and a
-- stream can tell a gap (seq > last + 1) from a duplicate (seq <= last).
ALTER TABLE notify.notifications ADD COLUMN seq bigint;
ALTER TABLE notify.notifications ADD COLUMN event_id text;
-- Pushed to Redis after commit; a sweeper pushes what a crash left behind.
ALTER TABLE notify.notifications ADD COLUMN pushed_at timestamptz;
UPDATE notify.notifications n SET seq = s.rn, pushed_at = now()
FROM (SELECT id, row_number() OVER (PARTITION BY user_id ORDER BY created_at, id) AS rn FROM notify.notifications) s
WHERE s.id = n.id;
ALTER TABLE notify.notifications ALTER COLUMN seq SET NOT NULL;
CREATE UNIQUE INDEX notifications_user_seq ON notify.notifications (user_id, seq);
CREATE INDEX notifications_event ON notify.notifications (event_id);
CREATE INDEX notifications_unpushed ON notify.notifications (created_at) WHERE pushed_at IS NULL;

-- What notify knows of an order, from ordering's events: whom to tell
-- about payment and shipping events that carry only the order id.
CREATE TABLE notify.orders (
    order_id   text        PRIMARY KEY,
    user_id    uuid        NOT NULL,
    email      text        NOT NULL DEFAULT '',
    phone      text        NOT NULL DEFAULT '',
    updated_at timestamptz NOT NULL DEFAULT now()
);

-- Text messages to send, like notify.emails: queued in the consumer's
-- transaction (id derived from the event, so once per event), delivered
-- with retries through the provider chain.
CREATE TABLE notify.sms (
    id              uuid        PRIMARY KEY,
    kind            text        NOT NULL,
    user_id         uuid,
    to_phone        text        NOT NULL,
    body            text        NOT NULL,
    status          text        NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sent', 'failed')),
    provider        text,
    attempts        int         NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    last_error      text,
    created_at      timestamptz NOT NULL DEFAULT now(),
    sent_at         timestamptz
);
CREATE INDEX sms_pending ON notify.sms (next_attempt_at) WHERE status = 'pending';

-- Who accepted each email, like each text.
ALTER TABLE notify.emails ADD COLUMN provider text;
