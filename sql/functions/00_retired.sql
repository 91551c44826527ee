-- Functions that no longer exist under these signatures.  CREATE OR REPLACE
-- cannot change a function's argument types, argument names or result type,
-- so a function whose signature changes is dropped here first and created
-- anew by its file; scripts/migrate runs this file first, on every run (on a
-- database that never had the old signature the DROP does nothing).  A new
-- function gets the schema's default privileges (sql/bootstrap.sql): callable
-- by streetd_daemon, not by PUBLIC, exactly like the one it replaces.

-- 010: a replay returns the outcome stored with the key, not the ticket now.
DROP FUNCTION IF EXISTS st_replay(bigint);
DROP FUNCTION IF EXISTS st_idem_claim(account, text, text, bigint);
DROP FUNCTION IF EXISTS st_idem_done(account, text, ticket_event);
-- 010: st_report takes p_urgent_reason (a street office lowering urgency).
DROP FUNCTION IF EXISTS st_report(integer, integer, integer, text, text, double precision,
	double precision, boolean, bigint[], text);
-- 011: the login lookup takes the peer certificate's pins; the daemon asks
-- st_changed_accounts (revisions) instead of st_disabled_accounts.
DROP FUNCTION IF EXISTS st_account_by_cn(text);
DROP FUNCTION IF EXISTS st_disabled_accounts(integer[]);
-- issue 12: get pages a ticket's history (p_after); the lists bound a page's
-- bytes (st_tickets_page).
DROP FUNCTION IF EXISTS st_get(integer, bigint);
DROP FUNCTION IF EXISTS st_tickets_json(account, bigint[]);
-- issue 13: a return names the department responsible; a ruling may name
-- where the ticket goes (p_department, before p_key in both).
DROP FUNCTION IF EXISTS st_return(integer, bigint, integer, text, text);
DROP FUNCTION IF EXISTS st_arbitrate(integer, bigint, bigint, boolean, text, integer, text);
-- issue 13: export builds its rows a chunk of tickets at a time (st_export_rows).
DROP FUNCTION IF EXISTS st_export_row(ticket);
-- issue 13: export reads the rows the follower keeps (assess_export) and
-- returns json (compact rows, names once per page), not jsonb.
DROP FUNCTION IF EXISTS st_export(integer, text, text, bigint, integer);
DROP FUNCTION IF EXISTS st_export_rows(account, timestamptz, timestamptz, bigint, integer);
DROP FUNCTION IF EXISTS st_export_in_scope(account, ticket);
DROP FUNCTION IF EXISTS st_assess_unit_json(text, integer);
-- issue 13: an export page comes as rows (SETOF text), and takes p_upto, the
-- end of a window of ticket ids (session 9).
DROP FUNCTION IF EXISTS st_export_page(integer, text, text, bigint, integer);
-- session 9: export's rows have a generated column (row_len, migration 025),
-- so the builder returns the columns it makes, not the table's row type.
DO $$
BEGIN
	IF EXISTS (SELECT FROM pg_proc WHERE proname = 'st_export_build'
			AND pronamespace = 'street'::regnamespace
			AND prorettype = 'street.assess_export'::regtype) THEN
		DROP FUNCTION st_export_build(bigint[]);
	END IF;
END
$$;
-- issue 14: GET requests' JSON is returned as text (88_open311.sql: json
-- would parse it again).
DROP FUNCTION IF EXISTS st_o311_request(integer, text);
DROP FUNCTION IF EXISTS st_o311_requests(integer, text, text, timestamptz, timestamptz, text);
DROP FUNCTION IF EXISTS st_o311_json(bigint[]);
-- issue 15: places can leave the grids' boundaries out (p_boundaries).
DROP FUNCTION IF EXISTS st_places(integer);
-- session 7: the follower folds a batch set-wise (80_follow.sql, st_assess_fold
-- over a seq range); the per-event fold and its helpers are gone.
DROP FUNCTION IF EXISTS st_assess_fold(ticket_event);
DROP FUNCTION IF EXISTS st_assess_add(ticket_event, date, integer, integer, integer, integer,
	integer, integer, integer, integer, integer, integer, integer, integer, integer, integer,
	integer, integer, integer, integer, integer, integer, integer, integer, integer, integer,
	integer, bigint);
DROP FUNCTION IF EXISTS st_assess_hist_add(ticket_event, date, integer, text, bigint);
DROP FUNCTION IF EXISTS st_assess_delta_tables();
