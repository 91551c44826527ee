-- 021: the daemon keeps Open311's services and service definitions rendered
-- (daemon/http_o311_cache.c) and must hear when what they are made of
-- changes: every statement that writes category or category_attribute
-- NOTIFYs street_catalog at its commit (one notification per transaction and
-- channel: PostgreSQL folds equal ones).  The daemon's event reader LISTENs
-- on it.  A trigger function, like st_account_revision (011): migrate's check
-- for stale functions leaves trigger functions alone.

CREATE FUNCTION st_catalog_changed() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
	PERFORM pg_notify('street_catalog', '');
	RETURN NULL;
END
$$;

CREATE TRIGGER category_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON category
	FOR EACH STATEMENT EXECUTE FUNCTION st_catalog_changed();
CREATE TRIGGER category_attribute_changed
	AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON category_attribute
	FOR EACH STATEMENT EXECUTE FUNCTION st_catalog_changed();
