-- 025: export finds where a page ends without reading its rows
-- (docs/assessment.md, "Export and bulletin"; sql/functions/87_export.sql).
-- A page's first statement reads its candidates' ids, units, period and
-- sizes to find the cut and the names; it read them from the ~730 MB table
-- of rows (1 M tickets), each row's heap tuple fetched twice a page.  Each
-- row's size is now kept beside it (generated, so it cannot disagree with
-- the row), and an index holds all that statement reads, so that it is an
-- index-only scan of ~90 MB; the rows themselves are read once, by the
-- page's second statement.  The table is rewritten once (the new column).

-- The follower must not write the table while it is rewritten.
DO $$ BEGIN PERFORM pg_advisory_xact_lock(hashtext('streetd.rollup')); END $$;

ALTER TABLE assess_export
	ADD COLUMN row_len integer GENERATED ALWAYS AS (octet_length(row_json::text) + 1) STORED;

CREATE INDEX assess_export_page ON assess_export (ticket_id)
	INCLUDE (created_at, ended_at, district_id, street_id, category_id, department_ids, row_len);
