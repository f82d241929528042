DROP TABLE cart.recovery_emails;
