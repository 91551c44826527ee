-- Photos.  A photo (JPEG or PNG, checked by its content) is uploaded in
-- chunks before the report or resolve that attaches it:
--
--   st_photo_begin  declares the size and SHA-256, under the daemon's limit;
--   st_photo_chunk  appends the next chunk, at exactly the offset received so
--                   far (a retried chunk is detected, never stored twice);
--   st_photo_end    checks size, SHA-256 and type, and makes it a photo.
--
-- A finished photo belongs to its uploader until st_report or st_resolve (004)
-- attaches it, once, to the ticket and the event that brought it; from then on
-- it is part of the ticket's history and is never changed or deleted.  Uploads
-- and photos left unattached for a day are purged by st_photo_purge().
--
-- Errors: SD400 bad argument, SD403 the role has no use for photos, SD404 no
-- such upload or photo (or not the caller's), SD413 larger than the limit.

--
-- The tables are migration 006's.

CREATE OR REPLACE FUNCTION st_photos_check(a account, p_photos bigint[]) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
	n integer := coalesce(cardinality(p_photos), 0);
	x bigint;
	p photo;
BEGIN
	IF n = 0 THEN
		RETURN;
	END IF;
	IF n > 9 THEN
		PERFORM st_fail('SD400', format('at most 9 photos may be attached, not %s', n));
	END IF;
	IF array_position(p_photos, NULL) IS NOT NULL THEN
		PERFORM st_fail('SD400', 'a photo id is missing');
	END IF;
	IF (SELECT count(DISTINCT v) FROM unnest(p_photos) v) <> n THEN
		PERFORM st_fail('SD400', 'a photo is listed twice');
	END IF;
	-- locked in id order, so that two actions never wait for each other
	PERFORM 1 FROM photo WHERE id = ANY (p_photos) ORDER BY id FOR UPDATE;
	FOREACH x IN ARRAY p_photos LOOP
		SELECT * INTO p FROM photo WHERE id = x;
		IF NOT FOUND OR p.account_id <> a.id THEN
			PERFORM st_fail('SD400', format('photo %s is not a finished upload of yours', x));
		END IF;
		IF p.ticket_id IS NOT NULL THEN
			PERFORM st_fail('SD400', format('photo %s is already attached to a ticket', x));
		END IF;
	END LOOP;
END
$$;

CREATE OR REPLACE FUNCTION st_photos_attach(a account, p_photos bigint[], p_ticket bigint, p_seq bigint)
RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
	IF coalesce(cardinality(p_photos), 0) = 0 THEN
		RETURN;
	END IF;
	PERFORM st_photos_check(a, p_photos);
	UPDATE photo SET ticket_id = p_ticket, event_seq = p_seq WHERE id = ANY (p_photos);
END
$$;

-- The photo ids as the event records them (NULL when there are none, so that
-- the key is left out of the event's data).
CREATE OR REPLACE FUNCTION st_photos_json(p_photos bigint[]) RETURNS jsonb
LANGUAGE sql STABLE AS $$
	SELECT CASE WHEN coalesce(cardinality(p_photos), 0) > 0 THEN to_jsonb(p_photos) END
$$;

-- The image type of the bytes, checked by structure, not only the magic
-- bytes; SD400 naming what is wrong otherwise.
--   PNG:  the signature, IHDR first (length 13, width and height not 0), then
--         chunks walked by their lengths to IEND, which ends the data.
--   JPEG: SOI, marker segments walked by their lengths to a SOFn frame with
--         height and width not 0 before SOS, and EOI at the end.
CREATE OR REPLACE FUNCTION st_photo_kind(b bytea) RETURNS text
LANGUAGE plpgsql IMMUTABLE AS $$
DECLARE
	n integer := length(b);
	pos integer;
	len bigint;
	typ bytea;
	m integer;
	frame boolean := false;
	why text;
BEGIN
	IF n >= 8 AND substring(b FROM 1 FOR 8) = '\x89504e470d0a1a0a'::bytea THEN
		pos := 8; -- zero-based offset of the next chunk
		LOOP
			IF pos + 12 > n THEN
				why := 'a PNG chunk runs past the end';
				EXIT;
			END IF;
			len := (get_byte(b, pos)::bigint << 24) | (get_byte(b, pos + 1) << 16)
				| (get_byte(b, pos + 2) << 8) | get_byte(b, pos + 3);
			typ := substring(b FROM pos + 5 FOR 4);
			IF pos + 12 + len > n THEN
				why := 'a PNG chunk runs past the end';
				EXIT;
			END IF;
			IF pos = 8 AND (typ <> 'IHDR'::bytea OR len <> 13) THEN
				why := 'a PNG starts with a 13-byte IHDR chunk';
				EXIT;
			END IF;
			IF pos = 8 AND (substring(b FROM 17 FOR 4) = '\x00000000'::bytea
					OR substring(b FROM 21 FOR 4) = '\x00000000'::bytea) THEN
				why := 'the PNG has no width or no height';
				EXIT;
			END IF;
			pos := pos + 12 + len::integer;
			IF typ = 'IEND'::bytea THEN
				IF pos <> n THEN
					why := 'data follows the PNG''s IEND';
				END IF;
				EXIT;
			END IF;
		END LOOP;
		IF why IS NULL THEN
			RETURN 'image/png';
		END IF;
	ELSIF n >= 4 AND substring(b FROM 1 FOR 2) = '\xffd8'::bytea THEN
		pos := 2;
		LOOP
			IF pos + 2 > n OR get_byte(b, pos) <> 255 THEN
				why := 'a JPEG marker is missing where a segment should start';
				EXIT;
			END IF;
			m := get_byte(b, pos + 1);
			IF m = 255 THEN -- a fill byte
				pos := pos + 1;
				CONTINUE;
			END IF;
			IF m = 1 OR m BETWEEN 208 AND 215 THEN -- TEM, RSTn: no length
				pos := pos + 2;
				CONTINUE;
			END IF;
			IF m IN (216, 217) THEN -- SOI or EOI before any scan
				why := 'the JPEG ends before its image data';
				EXIT;
			END IF;
			IF pos + 4 > n THEN
				why := 'a JPEG segment runs past the end';
				EXIT;
			END IF;
			len := (get_byte(b, pos + 2) << 8) | get_byte(b, pos + 3);
			IF len < 2 OR pos + 2 + len > n THEN
				why := 'a JPEG segment runs past the end';
				EXIT;
			END IF;
			IF m BETWEEN 192 AND 207 AND m NOT IN (196, 200, 204) THEN -- SOFn
				IF len < 8 OR ((get_byte(b, pos + 5) << 8) | get_byte(b, pos + 6)) = 0
						OR ((get_byte(b, pos + 7) << 8) | get_byte(b, pos + 8)) = 0 THEN
					why := 'the JPEG frame has no width or no height';
					EXIT;
				END IF;
				frame := true;
			END IF;
			IF m = 218 THEN -- SOS: entropy-coded data follows, up to EOI
				IF NOT frame THEN
					why := 'the JPEG has no frame header before its scan';
				ELSIF n < pos + 2 + len + 2
						OR substring(b FROM n - 1 FOR 2) <> '\xffd9'::bytea THEN
					why := 'the JPEG does not end with EOI';
				END IF;
				EXIT;
			END IF;
			pos := pos + 2 + len::integer;
		END LOOP;
		IF why IS NULL THEN
			RETURN 'image/jpeg';
		END IF;
	END IF;
	PERFORM st_fail('SD400', 'the data is neither a JPEG nor a PNG image'
		|| coalesce(' (' || why || ')', ''));
	RETURN NULL;
END
$$;

-- p_max is the daemon's limit (limits.max_photo).  Only roles that can attach
-- a photo (those that report or resolve) may upload one; an account has at
-- most 20 uploads in progress and at most 20 finished photos not attached.
CREATE OR REPLACE FUNCTION st_photo_begin(p_actor integer, p_size integer, p_sha256 text, p_max integer)
RETURNS jsonb
LANGUAGE plpgsql SECURITY DEFINER SET search_path = street, pg_temp AS $$
DECLARE
	a account;
	u photo_upload;
	lim integer := coalesce(p_max, 5242880);
BEGIN
	a := st_actor(p_actor);
	IF NOT EXISTS (SELECT 1 FROM ticket_rule
			WHERE action IN ('report', 'resolve') AND role = a.role::text) THEN
		PERFORM st_fail('SD403', format('a %s account has no ticket to attach a photo to', a.role));
	END IF;
	IF p_size IS NULL OR p_size < 1 THEN
		PERFORM st_fail('SD400', 'a photo''s size is at least 1 byte');
	END IF;
	IF p_sha256 IS NULL OR p_sha256 !~ '^[0-9a-f]{64}$' THEN
		PERFORM st_fail('SD400', 'the SHA-256 is 64 lower-case hexadecimal digits');
	END IF;
	IF p_size > lim THEN
		PERFORM st_fail('SD413', format('a photo is at most %s bytes, not %s', lim, p_size));
	END IF;
	-- one begin at a time per account, so that the count below holds
	PERFORM pg_advisory_xact_lock(hashtext('street.photo_upload'), a.id);
	IF (SELECT count(*) FROM photo_upload WHERE account_id = a.id) >= 20 THEN
		PERFORM st_fail('SD400', 'you have 20 uploads in progress; finish them first');
	END IF;
	-- finished photos wait for a report or resolve: at most 20 at a time
	IF (SELECT count(*) FROM photo WHERE account_id = a.id AND ticket_id IS NULL) >= 20 THEN
		PERFORM st_fail('SD400', 'you have 20 finished photos not attached to a ticket; attach '
			'them to a report or resolve first (unattached ones are purged after a day)');
	END IF;
	INSERT INTO photo_upload (account_id, size, sha256) VALUES (a.id, p_size, p_sha256)
	RETURNING * INTO u;
	RETURN jsonb_build_object('upload', u.id);
END
$$;

-- The next chunk, at exactly the offset received so far: a chunk sent twice
-- (a retry after a lost reply) is refused with the offset expected, so the
-- client knows where to go on.
CREATE OR REPLACE FUNCTION st_photo_chunk(p_actor integer, p_upload bigint, p_offset integer, p_data text)
RETURNS jsonb
LANGUAGE plpgsql SECURITY DEFINER SET search_path = street, pg_temp AS $$
DECLARE
	a account;
	u photo_upload;
	bytes bytea;
BEGIN
	a := st_actor(p_actor);
	SELECT * INTO u FROM photo_upload WHERE id = p_upload AND account_id = a.id FOR UPDATE;
	IF NOT FOUND THEN
		PERFORM st_fail('SD404', format('upload %s not found', p_upload));
	END IF;
	IF p_offset IS NULL OR p_offset <> u.received THEN
		PERFORM st_fail('SD400', format('expected offset %s', u.received));
	END IF;
	BEGIN
		bytes := decode(p_data, 'base64');
	EXCEPTION WHEN invalid_parameter_value OR invalid_text_representation THEN
		PERFORM st_fail('SD400', 'the data is not valid base64');
	END;
	IF bytes IS NULL OR length(bytes) = 0 THEN
		PERFORM st_fail('SD400', 'a chunk carries at least one byte');
	END IF;
	IF length(bytes) > 32768 THEN
		PERFORM st_fail('SD400', format('a chunk is at most 32768 bytes, not %s', length(bytes)));
	END IF;
	IF u.received::bigint + length(bytes) > u.size THEN
		PERFORM st_fail('SD400', format('the upload would grow past its declared size of %s bytes',
			u.size));
	END IF;
	INSERT INTO photo_part (upload_id, "offset", data) VALUES (u.id, u.received, bytes);
	UPDATE photo_upload SET received = received + length(bytes) WHERE id = u.id
	RETURNING received INTO u.received;
	RETURN jsonb_build_object('received', u.received);
END
$$;

CREATE OR REPLACE FUNCTION st_photo_end(p_actor integer, p_upload bigint)
RETURNS jsonb
LANGUAGE plpgsql SECURITY DEFINER SET search_path = street, pg_temp AS $$
DECLARE
	a account;
	u photo_upload;
	bytes bytea;
	digest text;
	kind text;
	p photo;
BEGIN
	a := st_actor(p_actor);
	SELECT * INTO u FROM photo_upload WHERE id = p_upload AND account_id = a.id FOR UPDATE;
	IF NOT FOUND THEN
		PERFORM st_fail('SD404', format('upload %s not found', p_upload));
	END IF;
	IF u.received <> u.size THEN
		PERFORM st_fail('SD400', format('upload %s has %s of its %s bytes', u.id, u.received, u.size));
	END IF;
	SELECT string_agg(data, ''::bytea ORDER BY "offset") INTO bytes
	FROM photo_part WHERE upload_id = u.id;
	IF bytes IS NULL OR length(bytes) <> u.size THEN
		PERFORM st_fail('SD400', format('upload %s has %s bytes, not %s', u.id,
			coalesce(length(bytes), 0), u.size));
	END IF;
	digest := encode(sha256(bytes), 'hex');
	IF digest <> u.sha256 THEN
		PERFORM st_fail('SD400', format('the data''s SHA-256 is %s, not the %s declared',
			digest, u.sha256));
	END IF;
	kind := st_photo_kind(bytes);
	INSERT INTO photo (account_id, sha256, mime, size, data)
	VALUES (a.id, digest, kind, u.size, bytes)
	RETURNING * INTO p;
	DELETE FROM photo_upload WHERE id = u.id; -- and its parts
	RETURN jsonb_build_object('photo', jsonb_build_object('id', p.id, 'sha256', p.sha256,
		'mime', p.mime, 'size', p.size));
END
$$;

-- A slice of a photo, for its uploader or anyone who may see its ticket.
CREATE OR REPLACE FUNCTION st_photo_get(p_actor integer, p_photo bigint, p_offset integer DEFAULT NULL,
	p_length integer DEFAULT NULL)
RETURNS jsonb
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = street, pg_temp AS $$
DECLARE
	a account;
	ph_id bigint;
	uploader integer;
	digest text;
	kind text;
	bytes integer;
	tid bigint;
	t ticket;
	off integer := coalesce(p_offset, 0);
	len integer := coalesce(p_length, 32768);
BEGIN
	a := st_actor(p_actor);
	SELECT id, account_id, sha256, mime, size, ticket_id
	INTO ph_id, uploader, digest, kind, bytes, tid
	FROM photo WHERE id = p_photo;
	IF FOUND AND uploader <> a.id THEN
		SELECT * INTO t FROM ticket WHERE id = tid;
		IF NOT FOUND OR NOT st_visible(a, t) THEN
			ph_id := NULL;
		END IF;
	END IF;
	IF ph_id IS NULL THEN
		PERFORM st_fail('SD404', format('photo %s not found', p_photo));
	END IF;
	IF off < 0 OR off > bytes THEN
		PERFORM st_fail('SD400', format('the offset is 0 to %s', bytes));
	END IF;
	IF len NOT BETWEEN 1 AND 32768 THEN
		PERFORM st_fail('SD400', 'the length is 1 to 32768');
	END IF;
	RETURN jsonb_build_object(
		'photo', jsonb_build_object('id', ph_id, 'sha256', digest, 'mime', kind,
			'size', bytes, 'ticket_id', tid),
		'offset', off,
		'data', (SELECT translate(encode(substring(data FROM off + 1 FOR len), 'base64'),
			E'\n', '') FROM photo WHERE id = ph_id));
END
$$;

-- Uploads and photos left unattached for a day: the number of each removed.
CREATE OR REPLACE FUNCTION st_photo_purge() RETURNS jsonb
LANGUAGE plpgsql SECURITY DEFINER SET search_path = street, pg_temp AS $$
DECLARE
	uploads integer;
	photos integer;
BEGIN
	DELETE FROM photo_upload WHERE created_at < now() - interval '1 day';
	GET DIAGNOSTICS uploads = ROW_COUNT;
	DELETE FROM photo WHERE ticket_id IS NULL AND created_at < now() - interval '1 day';
	GET DIAGNOSTICS photos = ROW_COUNT;
	RETURN jsonb_build_object('uploads', uploads, 'photos', photos);
END
$$;
