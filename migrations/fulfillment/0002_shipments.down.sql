DROP TABLE IF EXISTS fulfillment.fulfillments;
