CREATE SCHEMA IF NOT EXISTS notify;

-- Emails to send: written in the consumer's transaction (with the inbox
-- row), delivered by the dispatcher with retries, so a crash loses none.
CREATE TABLE notify.emails (
    id              uuid        PRIMARY KEY,
    kind            text        NOT NULL,
    user_id         uuid,
    to_addr         text        NOT NULL,
    subject         text        NOT NULL,
    text_body       text        NOT NULL,
    html_body       text        NOT NULL,
    status          text        NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sent', 'failed')),
    attempts        int         NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    last_error      text,
    created_at      timestamptz NOT NULL DEFAULT now(),
    sent_at         timestamptz
);
CREATE INDEX emails_pending ON notify.emails (next_attempt_at) WHERE status = 'pending';

CREATE TABLE notify.inbox (
    consumer     text        NOT NULL,
    event_id     text        NOT NULL,
    processed_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (consumer, event_id)
);
