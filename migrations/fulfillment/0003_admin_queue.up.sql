-- The admin's fulfillment queue pages by status, oldest first (UUIDv7 ids).
CREATE INDEX fulfillments_status ON fulfillment.fulfillments (status, id);
