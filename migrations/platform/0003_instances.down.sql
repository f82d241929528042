ALTER TABLE platform.idempotency_keys DROP COLUMN IF EXISTS owner;
DROP TABLE IF EXISTS platform.instances;
