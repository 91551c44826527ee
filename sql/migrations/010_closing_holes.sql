-- 010: closing holes (issue 12).

-- The daemon's role reads sequences but never advances one: the sequences
-- created so far got USAGE from the old default privileges (bootstrap.sql no
-- longer grants it).
REVOKE USAGE ON ALL SEQUENCES IN SCHEMA street FROM streetd_daemon;
