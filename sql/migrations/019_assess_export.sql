-- 019: export's rows kept ready (docs/assessment.md, "Export and bulletin";
-- sql/functions/87_export.sql), so that an export page is an index range
-- scan and a join of texts instead of building every row from the ticket,
-- its steps and their events: ~260 ms a page of 200 rows before.  One row
-- per ticket, written by the follower only (st_export_refresh at its flush,
-- in its transaction), never in an action's transaction; no foreign key to
-- ticket for the reason migration 013 gives (KEY SHARE locks deadlocked the
-- follower with the actions).

-- The follower must not fold while the table and its fill are set up: its
-- lock, held to the end of the migration's transaction.
DO $$ BEGIN PERFORM pg_advisory_xact_lock(hashtext('streetd.rollup')); END $$;

CREATE TABLE assess_export (
	ticket_id bigint PRIMARY KEY,
	-- what the period and scope filters read (st_export): reported, closed
	-- or cancelled (NULL: open), where, and every department that held a
	-- step or holds the ticket (a department's scope)
	created_at timestamptz NOT NULL,
	ended_at timestamptz,
	district_id integer NOT NULL,
	street_id integer NOT NULL,
	category_id integer NOT NULL,
	department_ids integer[] NOT NULL,
	-- the row as export sends it: a JSON array in st_export_columns() order,
	-- codes not names (names come once per page), steps an array of arrays.
	-- json, not jsonb: sent as it is stored, never re-parsed or re-printed.
	row_json json NOT NULL
);

-- The tickets that existed before this migration are filled by the
-- follower, a batch per call (st_export_backfill), since a migration must
-- not call the functions (scripts/migrate): ids in (position, upto] are
-- still to do; export refuses until position reaches upto.
CREATE TABLE assess_export_fill (
	only_row boolean PRIMARY KEY DEFAULT true CHECK (only_row),
	position bigint NOT NULL DEFAULT 0,
	upto bigint NOT NULL
);
INSERT INTO assess_export_fill (upto) SELECT coalesce(max(id), 0) FROM ticket;
