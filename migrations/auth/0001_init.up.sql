CREATE SCHEMA IF NOT EXISTS auth;

CREATE TABLE auth.users (
    id            uuid        PRIMARY KEY,
    email         text        NOT NULL CHECK (email = lower(email)),
    name          text        NOT NULL,
    password_hash text        NOT NULL,
    role          text        NOT NULL CHECK (role IN ('customer', 'admin')),
    status        text        NOT NULL CHECK (status IN ('unverified', 'active', 'disabled')),
    verified_at   timestamptz,
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX users_email_key ON auth.users (email);

-- Single-use tokens (email verification, password reset); only hashes stored.
CREATE TABLE auth.tokens (
    hash        bytea       PRIMARY KEY,
    user_id     uuid        NOT NULL REFERENCES auth.users (id) ON DELETE CASCADE,
    purpose     text        NOT NULL CHECK (purpose IN ('verify_email', 'password_reset')),
    expires_at  timestamptz NOT NULL,
    used_at     timestamptz,
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX tokens_user ON auth.tokens (user_id, purpose);

-- Refresh tokens rotate within a family; reuse of a rotated one revokes the family.
CREATE TABLE auth.refresh_tokens (
    id          uuid        PRIMARY KEY,
    family_id   uuid        NOT NULL,
    user_id     uuid        NOT NULL REFERENCES auth.users (id) ON DELETE CASCADE,
    token_hash  bytea       NOT NULL UNIQUE,
    expires_at  timestamptz NOT NULL,
    rotated_at  timestamptz,
    revoked_at  timestamptz,
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX refresh_tokens_family ON auth.refresh_tokens (family_id);
CREATE INDEX refresh_tokens_user ON auth.refresh_tokens (user_id) WHERE revoked_at IS NULL;

CREATE TABLE auth.addresses (
    id          uuid        PRIMARY KEY,
    user_id     uuid        NOT NULL REFERENCES auth.users (id) ON DELETE CASCADE,
    label       text        NOT NULL DEFAULT '',
    line1       text        NOT NULL,
    line2       text        NOT NULL DEFAULT '',
    city        text        NOT NULL,
    region      text        NOT NULL DEFAULT '',
    postal_code text        NOT NULL,
    country     char(2)     NOT NULL CHECK (country ~ '^[A-Z]{2}$'),
    phone       text        NOT NULL DEFAULT '',
    is_default  boolean     NOT NULL DEFAULT false,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX addresses_user ON auth.addresses (user_id);
-- At most one default per user...
CREATE UNIQUE INDEX addresses_one_default ON auth.addresses (user_id) WHERE is_default;
-- ...and at least one while the user has any address, checked at commit.
CREATE FUNCTION auth.check_default_address() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE uid uuid := COALESCE(NEW.user_id, OLD.user_id);
BEGIN
    IF EXISTS (SELECT 1 FROM auth.addresses WHERE user_id = uid)
       AND NOT EXISTS (SELECT 1 FROM auth.addresses WHERE user_id = uid AND is_default) THEN
        RAISE EXCEPTION 'user % has addresses but no default', uid USING ERRCODE = 'check_violation';
    END IF;
    RETURN NULL;
END $$;
CREATE CONSTRAINT TRIGGER addresses_default_exists
    AFTER INSERT OR UPDATE OR DELETE ON auth.addresses
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION auth.check_default_address();

CREATE TABLE auth.inbox (
    consumer     text        NOT NULL,
    event_id     text        NOT NULL,
    processed_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (consumer, event_id)
);
