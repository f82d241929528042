DROP INDEX IF EXISTS fulfillment.fulfillments_status;
