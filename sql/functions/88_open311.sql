-- Open311 GeoReport v2 (docs/open311.md): the ops o311_services, o311_service,
-- o311_requests, o311_request and o311_post.  Each returns the spec's JSON
-- (json, not jsonb: the fields keep the spec's order), which the daemon's HTTP
-- layer sends as it is or writes as XML (lib/open311_xml.c).
--
-- These ops are public (lib/proto.h, "public"): an unauthenticated HTTPS
-- caller may run them, so p_actor is 0 or NULL then and none of these
-- functions reads it.  The reads show what GeoReport v2 makes public about
-- every ticket (state, category, description, address, place, dates, the
-- department), never who reported it.  o311_post authenticates by its api_key
-- and reports as the key's account, through st_report itself.
--
-- Errors (docs/errors.md): SD400 bad input (named), SD403 an unknown or
-- revoked api_key, or the key's account may not report there, SD404 an
-- unknown service or request.

-- A time as the spec writes it: W3C (RFC 3339) in Beijing time with its
-- offset, e.g. 2026-12-01T17:00:00+08:00.  China has kept +08:00 all year
-- since 1991, so the offset is a constant.
CREATE OR REPLACE FUNCTION st_o311_time(p timestamptz) RETURNS text
LANGUAGE sql STABLE AS $$
	-- the export's local time (87_export.sql): the same text.  STABLE as
	-- to_char is: an IMMUTABLE wrapper around it is never inlined, and ran as
	-- a function call three times a request row
	SELECT st_export_ts(p)
$$;

-- The categories that are services: the leaves of the category tree (a
-- parent groups them: its name is the service's group).
CREATE OR REPLACE FUNCTION st_o311_is_service(p_category integer) RETURNS boolean
LANGUAGE sql STABLE AS $$
	SELECT NOT EXISTS (SELECT 1 FROM category x WHERE x.parent_id = p_category)
$$;

-- A service by its code (the category's code); SD404 when none.
CREATE OR REPLACE FUNCTION st_o311_category(p_code text) RETURNS category
LANGUAGE plpgsql STABLE AS $$
DECLARE
	c category;
BEGIN
	SELECT * INTO c FROM category WHERE code = p_code;
	IF NOT FOUND OR NOT st_o311_is_service(c.id) THEN
		PERFORM st_fail('SD404', format('service_code %s is not a service', p_code));
	END IF;
	RETURN c;
END
$$;

CREATE OR REPLACE FUNCTION st_o311_services(p_actor integer) RETURNS json
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = street, pg_temp AS $$
	SELECT coalesce(json_agg(json_build_object(
		'service_code', c.code,
		'service_name', c.name,
		'description', c.name_en,
		'metadata', EXISTS (SELECT 1 FROM category_attribute a WHERE a.category_id = c.id),
		'type', 'realtime',
		-- the names a search might use: the category's and its group's, both languages
		'keywords', concat_ws(',', replace(c.name, ',', ' '), replace(c.name_en, ',', ' '),
			replace(p.name, ',', ' '), replace(p.name_en, ',', ' ')),
		'group', p.name) ORDER BY c.code), '[]')
	FROM category c LEFT JOIN category p ON p.id = c.parent_id
	WHERE st_o311_is_service(c.id)
$$;

CREATE OR REPLACE FUNCTION st_o311_service(p_actor integer, p_service_code text) RETURNS json
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = street, pg_temp AS $$
DECLARE
	c category := st_o311_category(p_service_code);
BEGIN
	RETURN json_build_object('service_code', c.code, 'attributes',
		(SELECT coalesce(json_agg(json_build_object(
			'variable', a.variable,
			'code', a.code,
			'datatype', a.datatype,
			'required', a.required,
			'datatype_description', a.datatype_description,
			'order', a.ord,
			'description', a.description,
			'values', a.choices) ORDER BY a.ord), '[]')
		FROM category_attribute a WHERE a.category_id = c.id));
END
$$;

CREATE OR REPLACE FUNCTION st_o311_notice(p_state ticket_state) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
	SELECT CASE p_state
		WHEN 'reported' THEN 'the street office sends it to the department responsible'
		WHEN 'dispatched' THEN 'waiting for the department to take it on'
		WHEN 'accepted' THEN 'the department is working on it'
		WHEN 'resolved' THEN 'resolved; waiting for confirmation'
		WHEN 'closed' THEN 'closed'
		WHEN 'cancelled' THEN 'cancelled: invalid or a duplicate'
	END
$$;

-- status_notes of tickets whose events went in other than through the
-- actions (sql/demo/history/generate.sql, bench/growth.sql write the log
-- straight): the note of each one's last step that a person took to move it
-- (dispatch note, return reason, resolve note, confirm comment, reopen or
-- cancel reason), as st_move keeps it (40_actions.sql) and migration 022
-- filled it.  p_from: only tickets with an id above it.  Returns how many
-- tickets changed.
CREATE OR REPLACE FUNCTION st_o311_notes_fill(p_from bigint DEFAULT 0) RETURNS bigint
LANGUAGE sql AS $$
	WITH n AS (
		SELECT DISTINCT ON (e.ticket_id) e.ticket_id,
			coalesce(e.data->>'note', e.data->>'reason', e.data->>'comment') AS notes
		FROM ticket_event e
		WHERE e.ticket_id > p_from
			AND e.action IN ('dispatch', 'return', 'resolve', 'confirm', 'reopen', 'cancel')
		ORDER BY e.ticket_id, e.seq DESC),
	u AS (
		UPDATE ticket t SET status_notes = n.notes
		FROM n
		WHERE n.ticket_id = t.id AND t.status_notes IS DISTINCT FROM n.notes
		RETURNING t.id),
	-- the ticket's version stays: its kept pieces (migration 024) would
	-- show the old note, so they go (GET requests makes them until the
	-- follower keeps them again)
	k AS (
		DELETE FROM o311_request_json j USING u WHERE j.ticket_id = u.id)
	SELECT count(*) FROM u
$$;

-- A request's object is put together as text, every string escaped by
-- to_json: json_build_object of 17 pairs cost ~10 us a row (its variadic
-- "any" arguments are looked at again on every call).  The text is JSON by
-- construction (every string through to_json, numbers as float8 prints
-- them, which json_build_object printed too), and it is returned as text,
-- not json: json's input function would parse the half megabyte of 1000
-- requests once more (~3 ms) only to check it.  The spec's fields in the
-- spec's order; never the reporter.  status_notes: the note of the last
-- step a person took that moved the ticket (dispatch note, return, reopen
-- or cancel reason, resolve note, confirm comment), kept on the ticket by
-- st_move (migration 022); comments and urges are the staff talking among
-- themselves and stay internal.
--
-- The object in five pieces: three from the ticket alone (head, mid, tail:
-- what the follower keeps in o311_request_json at the ticket's version,
-- migration 024) and between them the names of its service and its
-- department, always joined live.  These three are SQL functions of one
-- expression, so the planner inlines them: a query calling them per row
-- pays no call.
CREATE OR REPLACE FUNCTION st_o311_head(t ticket) RETURNS text
LANGUAGE sql STABLE AS $$
	SELECT '{"service_request_id":"' || t.id
		|| '","status":"' || CASE WHEN t.state IN ('closed', 'cancelled') THEN 'closed'
			ELSE 'open' END
		|| '","status_notes":' || coalesce(to_json(t.status_notes)::text, 'null')
$$;

CREATE OR REPLACE FUNCTION st_o311_mid(t ticket) RETURNS text
LANGUAGE sql STABLE AS $$
	SELECT ',"description":' || to_json(t.description)::text
$$;

-- p_address_id, p_media_url: its o311_request's (NULL for a ticket not
-- posted through Open311).  Scalars, not the row: a row given as a subquery
-- is used twice here, and the planner inlines no function whose costly
-- argument would be evaluated twice (it was called per row, 50 us each).
CREATE OR REPLACE FUNCTION st_o311_tail(t ticket, p_address_id text, p_media_url text)
RETURNS text
LANGUAGE sql STABLE AS $$
	SELECT ',"service_notice":' || to_json(st_o311_notice(t.state))::text
		|| ',"requested_datetime":"' || st_o311_time(t.created_at)
		|| '","updated_datetime":"' || st_o311_time(t.updated_at)
		|| '","expected_datetime":' || coalesce('"' || st_o311_time(t.due_at) || '"', 'null')
		|| ',"address":' || coalesce(to_json(nullif(t.address, ''))::text, 'null')
		|| ',"address_id":' || coalesce(to_json(p_address_id)::text, 'null')
		|| ',"zipcode":null,"lat":' || coalesce(t.lat::text, 'null')
		|| ',"long":' || coalesce(t.lon::text, 'null')
		|| ',"media_url":' || coalesce(to_json(p_media_url)::text, 'null')
		|| '}'
$$;

-- Keeps the pieces of the tickets p_ids at their current version (the
-- follower, after its fold, for the tickets of the events it folded; the
-- backfill).  Callers hold the follower's lock.  A ticket whose pieces are of
-- its version already is not written again (a generated history's ticket
-- has its last version before the follower reads its first event).
CREATE OR REPLACE FUNCTION st_o311_refresh(p_ids bigint[]) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
	INSERT INTO o311_request_json AS x (ticket_id, version, head, mid, tail)
	SELECT t.id, t.version, st_o311_head(t), st_o311_mid(t),
		st_o311_tail(t, o.address_id, o.media_url)
	FROM ticket t
	LEFT JOIN o311_request o ON o.ticket_id = t.id
	WHERE t.id = ANY (p_ids)
	ON CONFLICT (ticket_id) DO UPDATE SET version = excluded.version, head = excluded.head,
		mid = excluded.mid, tail = excluded.tail
	WHERE x.version <> excluded.version;
END
$$;

-- Keeps the pieces of up to p_limit of the tickets that existed before
-- migration 024 (o311_request_json_fill) and returns how many; 0 once done
-- (st_backfill, 80_follow.sql).
CREATE OR REPLACE FUNCTION st_o311_backfill(p_limit integer) RETURNS integer
LANGUAGE sql AS $$
	SELECT street.st_backfill('street.o311_request_json_fill', 'street.st_o311_refresh', p_limit)
$$;

-- The requests of these tickets, newest first: one join for up to 1000
-- tickets (GET requests' budget is 20 ms), the kept pieces where they are of
-- the ticket's version, else the same pieces made here (a ticket changed
-- since the follower's last call, or not reached by the backfill yet); the
-- names escaped once per service and department, not once per row.
-- PL/pgSQL, not SQL: its statement's plan is kept for the session (a SQL
-- function's was made again at every call, ~3 ms of planning).
CREATE OR REPLACE FUNCTION st_o311_json(p_tickets bigint[]) RETURNS text
LANGUAGE plpgsql STABLE AS $$
BEGIN
	RETURN (WITH c AS MATERIALIZED (
			SELECT id, ',"service_name":' || to_json(name)::text
				|| ',"service_code":' || to_json(code)::text AS names
			FROM category),
		d AS MATERIALIZED (
			SELECT id, ',"agency_responsible":' || to_json(name)::text AS name
			FROM department)
		SELECT '[' || coalesce(string_agg(coalesce(j.head, st_o311_head(t)) || c.names
			|| coalesce(j.mid, st_o311_mid(t))
			|| coalesce(d.name, ',"agency_responsible":null')
			|| coalesce(j.tail, st_o311_tail(t,
				(SELECT o.address_id FROM o311_request o WHERE o.ticket_id = t.id),
				(SELECT o.media_url FROM o311_request o WHERE o.ticket_id = t.id))),
			',' ORDER BY t.created_at DESC, t.id DESC), '') || ']'
		FROM ticket t
		JOIN c ON c.id = t.category_id
		LEFT JOIN d ON d.id = t.department_id
		LEFT JOIN o311_request_json j ON j.ticket_id = t.id AND j.version = t.version
		WHERE t.id = ANY (p_tickets));
END
$$;

-- "3,5, 8": distinct ticket ids; SD400 naming a bad one.
CREATE OR REPLACE FUNCTION st_o311_ids(p_ids text) RETURNS bigint[]
LANGUAGE plpgsql IMMUTABLE AS $$
DECLARE
	v text;
	ids bigint[] := '{}';
BEGIN
	FOREACH v IN ARRAY string_to_array(p_ids, ',') LOOP
		v := btrim(v);
		IF v !~ '^[0-9]{1,16}$' OR v::bigint < 1 OR v::bigint > 9007199254740991 THEN
			PERFORM st_fail('SD400', format('service_request_id %s is not a request id', v));
		END IF;
		IF NOT v::bigint = ANY (ids) THEN
			ids := ids || v::bigint;
		END IF;
	END LOOP;
	IF cardinality(ids) > 1000 THEN
		PERFORM st_fail('SD400', 'service_request_id lists more than 1000 ids');
	END IF;
	RETURN ids;
END
$$;

-- GET requests with the spec's rules: ids given, those (the other filters
-- ignored); else the window [start_date, end_date] on requested_datetime,
-- 90 days when a bound is missing (the last 90 days when both are), the
-- services of a comma list of codes, status "open", "closed" or both; at most
-- 1000, newest first.
-- jit off: the plan of 1000 known ids (a custom plan: each session's first
-- five calls) is costed past jit_above_cost, and compiling it took ~55 ms of
-- a call's ~70, four times the query itself.
CREATE OR REPLACE FUNCTION st_o311_requests(p_actor integer, p_service_request_id text,
	p_service_code text, p_start_date timestamptz, p_end_date timestamptz, p_status text)
RETURNS text
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = street, pg_temp SET jit = off AS $$
DECLARE
	ids bigint[];
	cats integer[];
	cat integer;
	v text;
	want_open boolean := false;
	want_closed boolean := false;
	s timestamptz := p_start_date;
	e timestamptz := p_end_date;
BEGIN
	IF nullif(btrim(p_service_request_id), '') IS NOT NULL THEN
		RETURN st_o311_json(st_o311_ids(p_service_request_id));
	END IF;
	IF nullif(btrim(p_status), '') IS NOT NULL THEN
		FOREACH v IN ARRAY string_to_array(p_status, ',') LOOP
			CASE btrim(v)
			WHEN 'open' THEN want_open := true;
			WHEN 'closed' THEN want_closed := true;
			ELSE PERFORM st_fail('SD400', format('status %s is not open or closed', btrim(v)));
			END CASE;
		END LOOP;
	END IF;
	IF nullif(btrim(p_service_code), '') IS NOT NULL THEN
		FOREACH v IN ARRAY string_to_array(p_service_code, ',') LOOP
			cat := (st_o311_category(btrim(v))).id;
			-- a service named twice is read once (each is read on its own below)
			IF cats IS NULL OR NOT cat = ANY (cats) THEN
				cats := cats || cat;
			END IF;
		END LOOP;
	END IF;
	IF s IS NULL AND e IS NULL THEN
		e := now();
		s := e - interval '90 days';
	ELSIF s IS NULL THEN
		s := e - interval '90 days';
	ELSIF e IS NULL THEN
		e := s + interval '90 days';
	END IF;
	IF s > e THEN
		PERFORM st_fail('SD400', 'start_date is after end_date');
	END IF;
	-- one static statement per shape of the filters, so that each has its
	-- own index (open: every open state has a deadline, and the open ones
	-- are partial indexes) and its plan is kept for the session: EXECUTE of
	-- the filters as text planned each call again (~3 ms of 1000 rows' ~10).
	-- With services, the newest 1000 of each service (an index range read
	-- backwards from the window's end), then the newest 1000 of those: the
	-- plan the session keeps for "category = ANY (cats)" read every open
	-- ticket of the window in those services to sort them (8,707 rows for
	-- two services at 1 M tickets, 23 ms; this way 2,000 at most, ~4 ms).
	IF cats IS NULL THEN
		IF want_open = want_closed THEN
			ids := ARRAY(SELECT id FROM ticket WHERE created_at BETWEEN s AND e
				ORDER BY created_at DESC, id DESC LIMIT 1000);
		ELSIF want_open THEN
			ids := ARRAY(SELECT id FROM ticket WHERE created_at BETWEEN s AND e
				AND due_at IS NOT NULL ORDER BY created_at DESC, id DESC LIMIT 1000);
		ELSE
			ids := ARRAY(SELECT id FROM ticket WHERE created_at BETWEEN s AND e
				AND due_at IS NULL ORDER BY created_at DESC, id DESC LIMIT 1000);
		END IF;
	ELSIF want_open = want_closed THEN
		ids := ARRAY(SELECT x.id FROM unnest(cats) k (id) CROSS JOIN LATERAL (
				SELECT t.id, t.created_at FROM ticket t WHERE t.category_id = k.id
					AND t.created_at BETWEEN s AND e
				ORDER BY t.created_at DESC, t.id DESC LIMIT 1000) x
			ORDER BY x.created_at DESC, x.id DESC LIMIT 1000);
	ELSIF want_open THEN
		ids := ARRAY(SELECT x.id FROM unnest(cats) k (id) CROSS JOIN LATERAL (
				SELECT t.id, t.created_at FROM ticket t WHERE t.category_id = k.id
					AND t.created_at BETWEEN s AND e AND t.due_at IS NOT NULL
				ORDER BY t.created_at DESC, t.id DESC LIMIT 1000) x
			ORDER BY x.created_at DESC, x.id DESC LIMIT 1000);
	ELSE
		ids := ARRAY(SELECT x.id FROM unnest(cats) k (id) CROSS JOIN LATERAL (
				SELECT t.id, t.created_at FROM ticket t WHERE t.category_id = k.id
					AND t.created_at BETWEEN s AND e AND t.due_at IS NULL
				ORDER BY t.created_at DESC, t.id DESC LIMIT 1000) x
			ORDER BY x.created_at DESC, x.id DESC LIMIT 1000);
	END IF;
	RETURN st_o311_json(ids);
END
$$;

-- GET requests/{id}: the spec's one-element array; SD404 for an id that is
-- not a ticket (or not an id at all: it came from a URL).
CREATE OR REPLACE FUNCTION st_o311_request(p_actor integer, p_service_request_id text)
RETURNS text
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = street, pg_temp SET jit = off AS $$
DECLARE
	t ticket;
	v text := btrim(coalesce(p_service_request_id, ''));
BEGIN
	IF v ~ '^[0-9]{1,16}$' THEN
		SELECT * INTO t FROM ticket WHERE id = v::bigint;
	END IF;
	IF t.id IS NULL THEN
		PERFORM st_fail('SD404', format('request %s not found', v));
	END IF;
	RETURN st_o311_json(ARRAY[t.id]);
END
$$;

-- The longest value of a string (one line) or text attribute.
CREATE OR REPLACE FUNCTION st_o311_max_len(p_datatype text) RETURNS integer
LANGUAGE sql IMMUTABLE AS $$
	SELECT CASE p_datatype WHEN 'string' THEN 400 ELSE 4000 END
$$;

-- The posted attributes checked against the service's definition: p_attrs is
-- a JSON object, code -> a string (or number) or an array of them.  Returns
-- them normalised (code -> string, or array of strings for a
-- multivaluelist); SD400 naming the first attribute at fault.
CREATE OR REPLACE FUNCTION st_o311_attributes(c category, p_attrs text) RETURNS jsonb
LANGUAGE plpgsql STABLE AS $$
DECLARE
	j jsonb;
	a category_attribute;
	v jsonb;
	k text;
	vals text[];
	out jsonb := '{}';
BEGIN
	IF nullif(btrim(p_attrs), '') IS NOT NULL THEN
		BEGIN
			j := p_attrs::jsonb;
		EXCEPTION WHEN invalid_text_representation THEN
			PERFORM st_fail('SD400', 'attributes must be a JSON object');
		END;
		IF jsonb_typeof(j) <> 'object' THEN
			PERFORM st_fail('SD400', 'attributes must be a JSON object');
		END IF;
	ELSE
		j := '{}';
	END IF;
	FOR k IN SELECT jsonb_object_keys(j) LOOP
		IF NOT EXISTS (SELECT 1 FROM category_attribute x
				WHERE x.category_id = c.id AND x.code = k AND x.variable) THEN
			PERFORM st_fail('SD400', format('attribute %s is not one service %s asks for',
				left(k, 60), c.code));
		END IF;
	END LOOP;
	FOR a IN SELECT * FROM category_attribute x WHERE x.category_id = c.id AND x.variable
			ORDER BY x.ord LOOP
		v := j -> a.code;
		IF v IS NULL OR v = 'null' OR v = '""' OR v = '[]' THEN
			IF a.required THEN
				PERFORM st_fail('SD400', format('attribute %s is required', a.code));
			END IF;
			CONTINUE;
		END IF;
		IF jsonb_typeof(v) = 'array' THEN
			IF EXISTS (SELECT 1 FROM jsonb_array_elements(v) x
					WHERE jsonb_typeof(x) NOT IN ('string', 'number')) THEN
				PERFORM st_fail('SD400', format('attribute %s: values must be strings', a.code));
			END IF;
			SELECT array_agg(x #>> '{}') INTO vals FROM jsonb_array_elements(v) x;
		ELSIF jsonb_typeof(v) IN ('string', 'number') THEN
			vals := ARRAY[v #>> '{}'];
		ELSE
			PERFORM st_fail('SD400', format('attribute %s: the value must be a string', a.code));
		END IF;
		IF cardinality(vals) > 1 AND a.datatype <> 'multivaluelist' THEN
			PERFORM st_fail('SD400', format('attribute %s takes one value', a.code));
		END IF;
		IF a.datatype IN ('singlevaluelist', 'multivaluelist') THEN
			FOREACH k IN ARRAY vals LOOP
				IF NOT EXISTS (SELECT 1 FROM jsonb_array_elements(a.choices) x
						WHERE x->>'key' = k) THEN
					PERFORM st_fail('SD400', format('attribute %s: %s is not one of its values',
						a.code, left(k, 60)));
				END IF;
			END LOOP;
		ELSIF a.datatype = 'number' THEN
			IF vals[1] !~ '^-?[0-9]{1,15}(\.[0-9]{1,15})?$' THEN
				PERFORM st_fail('SD400', format('attribute %s must be a number', a.code));
			END IF;
		ELSIF a.datatype = 'datetime' THEN
			BEGIN
				PERFORM vals[1]::timestamptz;
			EXCEPTION WHEN data_exception THEN
				PERFORM st_fail('SD400', format('attribute %s must be a date and time', a.code));
			END;
		ELSIF length(vals[1]) > st_o311_max_len(a.datatype) THEN
			PERFORM st_fail('SD400', format('attribute %s is too long', a.code));
		END IF;
		out := out || jsonb_build_object(a.code, CASE WHEN a.datatype = 'multivaluelist'
			THEN to_jsonb(vals) ELSE to_jsonb(vals[1]) END);
	END LOOP;
	RETURN out;
END
$$;

-- The grid whose boundary holds the point (x = longitude, y = latitude); on a
-- shared edge, the lowest id.  NULL when none.  GiST has no polygon @> point:
-- && with the point as a one-point polygon is the index's (bounding-box)
-- test, @> the exact one.
CREATE OR REPLACE FUNCTION st_o311_grid_at(p_lat double precision, p_long double precision)
RETURNS integer
LANGUAGE sql STABLE AS $$
	SELECT b.grid_id FROM grid_boundary b
	WHERE b.boundary && polygon(box(point(p_long, p_lat), point(p_long, p_lat)))
		AND b.boundary @> point(p_long, p_lat)
	ORDER BY b.grid_id
	LIMIT 1
$$;

-- POST requests.  The key is looked up by its SHA-256 (an index probe on
-- the hash, never a comparison of the key's bytes, so the time taken tells
-- nothing about any stored key), then the ticket is reported as the key's
-- account by st_report: the same rules, event and push as the account's own
-- reports.  p_key: streetd's idempotency key (optional; the HTTP form has
-- none).  Anything refused raises, and nothing is written.
CREATE OR REPLACE FUNCTION st_o311_post(p_actor integer, p_api_key text, p_service_code text,
	p_lat double precision, p_long double precision, p_address_string text, p_address_id text,
	p_email text, p_device_id text, p_account_id text, p_first_name text, p_last_name text,
	p_phone text, p_description text, p_media_url text, p_attributes text, p_key text)
RETURNS json
LANGUAGE plpgsql SECURITY DEFINER SET search_path = street, pg_temp AS $$
DECLARE
	k api_client;
	c category;
	g integer;
	attrs jsonb;
	media text := nullif(btrim(coalesce(p_media_url, '')), '');
	r action_result;
	tid bigint;
BEGIN
	SELECT * INTO k FROM api_client
	WHERE key_sha256 = sha256(convert_to(coalesce(p_api_key, ''), 'UTF8'));
	IF NOT FOUND OR k.revoked_at IS NOT NULL THEN
		PERFORM st_fail('SD403', 'api_key is not a valid key');
	END IF;
	BEGIN
		c := st_o311_category(p_service_code);
	EXCEPTION WHEN SQLSTATE 'SD404' THEN
		PERFORM st_fail('SD400', format('service_code %s is not a service', p_service_code));
	END;
	IF (p_lat IS NULL) <> (p_long IS NULL) THEN
		PERFORM st_fail('SD400', 'lat and long go together');
	END IF;
	IF p_lat IS NULL THEN
		-- no geocoder: an address alone cannot be placed in a grid
		PERFORM st_fail('SD400', 'lat and long are required: streetd places a request in a '
			'grid by its location (address_string alone is kept, not geocoded)');
	END IF;
	g := st_o311_grid_at(p_lat, p_long);
	IF g IS NULL THEN
		PERFORM st_fail('SD400', 'lat/long is outside every grid');
	END IF;
	IF media IS NOT NULL AND media !~ '^https?://[^[:space:][:cntrl:]"<>]+$' THEN
		PERFORM st_fail('SD400', 'media_url must be an http or https URL');
	END IF;
	attrs := st_o311_attributes(c, p_attributes);
	r := st_report(k.account_id, c.id, g, p_description, p_address_string, p_lat, p_long,
		NULL, NULL, NULL, p_key);
	tid := (r.ticket->>'id')::bigint;
	INSERT INTO o311_request (ticket_id, client_id, media_url, address_id, attributes, contact)
	VALUES (tid, k.id, media, st_text(p_address_id, 'address_id', false, 200), attrs,
		jsonb_strip_nulls(jsonb_build_object('email', st_text(p_email, 'email', false, 254),
			'device_id', st_text(p_device_id, 'device_id', false, 200),
			'account_id', st_text(p_account_id, 'account_id', false, 200),
			'first_name', st_text(p_first_name, 'first_name', false, 100),
			'last_name', st_text(p_last_name, 'last_name', false, 100),
			'phone', st_text(p_phone, 'phone', false, 40))))
	ON CONFLICT (ticket_id) DO NOTHING; -- a replay (p_key) has it already
	RETURN json_build_array(json_build_object('service_request_id', tid::text,
		'service_notice', st_o311_notice('reported'),
		'account_id', st_text(p_account_id, 'account_id', false, 200)));
END
$$;
