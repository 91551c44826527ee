-- Functions that no longer exist under these signatures.  CREATE OR REPLACE
-- cannot change a function's argument types, argument names or result type,
-- so a function whose signature changes is dropped here first and created
-- anew by its file; scripts/migrate runs this file first, on every run (on a
-- database that never had the old signature the DROP does nothing).  A new
-- function gets the schema's default privileges (sql/bootstrap.sql): callable
-- by streetd_daemon, not by PUBLIC, exactly like the one it replaces.

SELECT 1; -- (nothing retired yet)
