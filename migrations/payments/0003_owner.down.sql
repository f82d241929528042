ALTER TABLE payments.payments DROP COLUMN user_id;
