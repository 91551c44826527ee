-- 024: Open311's requests kept as text (docs/open311.md, "How GET requests
-- is fast"; sql/functions/88_open311.sql): a GET requests of 1000 rows spent
-- ~13 ms of its ~18 putting the objects together (three times to_char, seven
-- to_json, ~35 concatenations a row).  The follower keeps each ticket's
-- object ready in three pieces at the ticket's version; the names of its
-- service and department are joined live (a rename shows at once), and a
-- ticket whose kept pieces are missing or of an older version is put
-- together as before.  Written by the follower only (st_o311_refresh, in
-- its transaction after the fold), never in an action's transaction; no
-- foreign key to ticket, as assess_export (migration 019).

-- The follower must not run while the table and its fill are set up.
DO $$ BEGIN PERFORM pg_advisory_xact_lock(hashtext('streetd.rollup')); END $$;

CREATE TABLE o311_request_json (
	ticket_id bigint PRIMARY KEY,
	-- the ticket's version the pieces were made from: used only while equal
	version integer NOT NULL,
	-- '{"service_request_id":…,"status":…,"status_notes":…'
	head text NOT NULL,
	-- ',"description":…'
	mid text NOT NULL,
	-- ',"service_notice":…,…,"media_url":…}'
	tail text NOT NULL
);

-- The tickets that existed before this migration are filled by the
-- follower, a batch per call (st_o311_backfill, st_backfill): ids in
-- (position, upto].
-- Until then GET requests puts their objects together itself.
CREATE TABLE o311_request_json_fill (
	only_row boolean PRIMARY KEY DEFAULT true CHECK (only_row),
	position bigint NOT NULL DEFAULT 0,
	upto bigint NOT NULL
);
INSERT INTO o311_request_json_fill (upto) SELECT coalesce(max(id), 0) FROM ticket;
