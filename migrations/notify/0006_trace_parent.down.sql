ALTER TABLE notify.sms DROP COLUMN trace_parent;
ALTER TABLE notify.emails DROP COLUMN trace_parent;
