ALTER TABLE notify.emails DROP COLUMN IF EXISTS provider;
DROP TABLE IF EXISTS notify.sms;
DROP TABLE IF EXISTS notify.orders;
DROP INDEX IF EXISTS notify.notifications_unpushed;
DROP INDEX IF EXISTS notify.notifications_event;
DROP INDEX IF EXISTS notify.notifications_user_seq;
ALTER TABLE notify.notifications DROP COLUMN IF EXISTS pushed_at;
ALTER TABLE notify.notifications DROP COLUMN IF EXISTS event_id;
ALTER TABLE notify.notifications DROP COLUMN IF EXISTS seq;
