-- In-app notifications, one per user and event (the id comes from the
-- event, so a redelivery cannot add a second one).
CREATE TABLE notify.notifications (
    id         uuid        PRIMARY KEY,
    user_id    uuid        NOT NULL,
    kind       text        NOT NULL,
    title      text        NOT NULL,
    body       text        NOT NULL,
    read_at    timestamptz,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX notifications_user ON notify.notifications (user_id, id DESC);
CREATE INDEX notifications_unread ON notify.notifications (user_id) WHERE read_at IS NULL;
