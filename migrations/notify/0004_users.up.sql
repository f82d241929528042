-- Whom notify can email outside orders (chat messages to offline users):
-- learnt from auth's events, never read from auth's schema.
CREATE TABLE notify.users (
    user_id    uuid        PRIMARY KEY,
    email      text        NOT NULL,
    name       text        NOT NULL DEFAULT '',
    updated_at timestamptz NOT NULL DEFAULT now()
);
