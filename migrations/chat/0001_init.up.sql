CREATE SCHEMA IF NOT EXISTS chat;

-- A support conversation (a customer and whichever admins join) or a
-- group conversation of chosen participants. last_seq numbers messages:
-- taking the next one locks the row, so order is commit order.
CREATE TABLE chat.conversations (
    id              uuid        PRIMARY KEY,
    kind            text        NOT NULL CHECK (kind IN ('support', 'group')),
    title           text        NOT NULL,
    status          text        NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'closed')),
    created_by      uuid        NOT NULL,
    last_seq        bigint      NOT NULL DEFAULT 0,
    created_at      timestamptz NOT NULL DEFAULT now(),
    last_message_at timestamptz
);
CREATE INDEX conversations_unassigned ON chat.conversations (created_at) WHERE kind = 'support' AND status = 'open';

CREATE TABLE chat.participants (
    conversation_id uuid        NOT NULL REFERENCES chat.conversations (id),
    user_id         uuid        NOT NULL,
    role            text        NOT NULL CHECK (role IN ('owner', 'member', 'customer', 'agent')),
    last_read_seq   bigint      NOT NULL DEFAULT 0,
    joined_at       timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (conversation_id, user_id)
);
CREATE INDEX participants_user ON chat.participants (user_id);

-- Messages, persisted before delivery. (conversation, sender, client_id)
-- makes a resend idempotent.
CREATE TABLE chat.messages (
    id              uuid        PRIMARY KEY,
    conversation_id uuid        NOT NULL REFERENCES chat.conversations (id),
    seq             bigint      NOT NULL,
    sender_id       uuid        NOT NULL,
    client_id       text        NOT NULL,
    kind            text        NOT NULL CHECK (kind IN ('text', 'image', 'file')),
    text            text        NOT NULL DEFAULT '',
    attachment      jsonb,
    created_at      timestamptz NOT NULL DEFAULT now(),
    tsv             tsvector GENERATED ALWAYS AS (to_tsvector('simple', text)) STORED,
    UNIQUE (conversation_id, seq),
    UNIQUE (conversation_id, sender_id, client_id)
);
CREATE INDEX messages_tsv ON chat.messages USING gin (tsv);
