-- Administrators, learnt from auth's events, are told about payments that
-- need review (a provider's success for the wrong amount or currency).
ALTER TABLE notify.users ADD COLUMN role text NOT NULL DEFAULT 'customer';
CREATE INDEX users_admins ON notify.users (user_id) WHERE role = 'admin';
