-- The trace context (W3C traceparent) of the event that queued an email or
-- a text: the dispatcher sends it as part of that trace.
ALTER TABLE notify.emails ADD COLUMN trace_parent text;
ALTER TABLE notify.sms ADD COLUMN trace_parent text;
