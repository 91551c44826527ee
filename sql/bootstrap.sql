-- Cluster-level set-up that a migration cannot do on its own: the roles and the
-- schema they own.  Run once per database by a superuser (or a role with
-- CREATEROLE that owns the database) before the numbered migrations; safe to
-- run again.
--
--   streetd_owner   NOLOGIN; owns every table and function.  Migrations run
--                   under SET ROLE streetd_owner.
--   streetd_daemon  NOLOGIN; what the daemon's login role is granted.  It may
--                   read and call the action functions, and nothing else: every
--                   change goes through a SECURITY DEFINER function, so it can
--                   never UPDATE or DELETE the event log.
DO $$
BEGIN
	IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'streetd_owner') THEN
		CREATE ROLE streetd_owner NOLOGIN;
	END IF;
	IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'streetd_daemon') THEN
		CREATE ROLE streetd_daemon NOLOGIN;
	END IF;
END
$$;

CREATE SCHEMA IF NOT EXISTS street AUTHORIZATION streetd_owner;
GRANT USAGE ON SCHEMA street TO streetd_daemon;
REVOKE CREATE ON SCHEMA public FROM PUBLIC;

-- Whatever the owner creates in the schema later is readable by the daemon and
-- callable only by it: functions are not executable by PUBLIC.
ALTER DEFAULT PRIVILEGES FOR ROLE streetd_owner IN SCHEMA street
	GRANT SELECT ON TABLES TO streetd_daemon;
-- Sequences: readable, never advanced (nextval needs USAGE): every number is
-- taken by a SECURITY DEFINER function, as the owner.  A number taken by the
-- daemon's role would only leave a hole in the event log's seq.
ALTER DEFAULT PRIVILEGES FOR ROLE streetd_owner IN SCHEMA street
	GRANT SELECT ON SEQUENCES TO streetd_daemon;
ALTER DEFAULT PRIVILEGES FOR ROLE streetd_owner IN SCHEMA street
	REVOKE USAGE ON SEQUENCES FROM streetd_daemon;
ALTER DEFAULT PRIVILEGES FOR ROLE streetd_owner
	REVOKE EXECUTE ON FUNCTIONS FROM PUBLIC;
ALTER DEFAULT PRIVILEGES FOR ROLE streetd_owner IN SCHEMA street
	GRANT EXECUTE ON FUNCTIONS TO streetd_daemon;

SET ROLE streetd_owner;
CREATE TABLE IF NOT EXISTS street.schema_version (
	version integer PRIMARY KEY,
	name text NOT NULL,
	applied_at timestamptz NOT NULL DEFAULT now()
);
RESET ROLE;
