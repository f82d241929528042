DROP TABLE IF EXISTS notify.notifications;
