DROP INDEX notify.users_admins;
ALTER TABLE notify.users DROP COLUMN role;
