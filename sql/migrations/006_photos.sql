-- 006: photos: uploads in progress, their chunks, and finished photos.  The
-- functions that upload, attach and read them are in
-- sql/functions/30_photos.sql, which describes the flow.  A finished photo
-- attached to a ticket is history: the trigger below keeps it unchanged.

CREATE TABLE photo_upload (
	id bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY,
	account_id integer NOT NULL REFERENCES account,
	size integer NOT NULL CHECK (size > 0),
	sha256 text NOT NULL CHECK (sha256 ~ '^[0-9a-f]{64}$'),
	received integer NOT NULL DEFAULT 0 CHECK (received BETWEEN 0 AND size),
	created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX photo_upload_account ON photo_upload (account_id);
CREATE INDEX photo_upload_created ON photo_upload (created_at);

CREATE TABLE photo_part (
	upload_id bigint NOT NULL REFERENCES photo_upload ON DELETE CASCADE,
	"offset" integer NOT NULL CHECK ("offset" >= 0),
	data bytea NOT NULL CHECK (length(data) BETWEEN 1 AND 32768),
	PRIMARY KEY (upload_id, "offset")
);

CREATE TABLE photo (
	id bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY,
	account_id integer NOT NULL REFERENCES account, -- the uploader
	sha256 text NOT NULL CHECK (sha256 ~ '^[0-9a-f]{64}$'),
	mime text NOT NULL CHECK (mime IN ('image/jpeg', 'image/png')),
	size integer NOT NULL CHECK (size > 0),
	data bytea NOT NULL,
	created_at timestamptz NOT NULL DEFAULT now(),
	ticket_id bigint REFERENCES ticket,
	event_seq bigint REFERENCES ticket_event, -- the report or resolve that attached it
	CHECK ((ticket_id IS NULL) = (event_seq IS NULL)),
	CHECK (length(data) = size)
);
-- JPEG and PNG are compressed already: store them as they are, so that reading
-- a slice (st_photo_get) fetches only the TOAST chunks it needs.
ALTER TABLE photo ALTER COLUMN data SET STORAGE EXTERNAL;
CREATE INDEX photo_ticket ON photo (ticket_id, event_seq, id) WHERE ticket_id IS NOT NULL;
CREATE INDEX photo_unattached ON photo (account_id, created_at) WHERE ticket_id IS NULL;

-- Attached photos are history: no one changes or deletes them.
CREATE FUNCTION photo_attached_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	IF OLD.ticket_id IS NOT NULL THEN
		RAISE EXCEPTION 'photo % is attached to ticket % and cannot be changed (% refused)',
			OLD.id, OLD.ticket_id, TG_OP USING ERRCODE = 'SD400';
	END IF;
	RETURN CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END;
END
$$;
CREATE TRIGGER photo_attached_no_change BEFORE UPDATE OR DELETE ON photo
	FOR EACH ROW EXECUTE FUNCTION photo_attached_immutable();
