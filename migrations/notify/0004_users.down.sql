DROP TABLE IF EXISTS notify.users;
