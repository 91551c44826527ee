-- 015: the tamper-evident record (issue 13 §7; docs/audit.md).  Every event's
-- hash chained to the previous one in seq order, computed after commit by the
-- leader instance (st_chain_advance, sql/functions/90_chain.sql), never in an
-- action's transaction; and checkpoints: the chain's head at a seq, signed by
-- the daemon with its TLS key (the key never reaches the database).
--
-- event_hash and checkpoint are append-only like the event log itself: the
-- same trigger refuses UPDATE, DELETE and TRUNCATE.  That stops mistakes, not
-- the database's owner; what stops the owner is that a changed history no
-- longer matches checkpoints already exported and kept elsewhere.

-- One row per chained event.  prev_seq: the event chained before it (NULL
-- for the first), so that a removed event is seen as a gap in the links.
CREATE TABLE event_hash (
	seq bigint PRIMARY KEY,
	prev_seq bigint,
	hash bytea NOT NULL CHECK (length(hash) = 32),
	CHECK (prev_seq < seq)
);
CREATE TRIGGER event_hash_no_update BEFORE UPDATE OR DELETE ON event_hash
	FOR EACH ROW EXECUTE FUNCTION ticket_event_immutable();
CREATE TRIGGER event_hash_no_truncate BEFORE TRUNCATE ON event_hash
	FOR EACH STATEMENT EXECUTE FUNCTION ticket_event_immutable();

-- Where the chain stands: every seq up to last_seq is chained or known never
-- to have committed; head is the hash of the last chained event (head_seq).
-- probe/probe_seq settle holes: every transaction that held a seq <=
-- probe_seq had an xid below probe (90_chain.sql explains).
CREATE TABLE chain_state (
	only_row boolean PRIMARY KEY DEFAULT true CHECK (only_row),
	last_seq bigint NOT NULL DEFAULT 0,
	head_seq bigint NOT NULL DEFAULT 0,
	head bytea NOT NULL DEFAULT '\x0000000000000000000000000000000000000000000000000000000000000000'
		CHECK (length(head) = 32),
	probe xid8,
	probe_seq bigint
);
INSERT INTO chain_state DEFAULT VALUES;

-- A checkpoint wanted: by the period lock (reason 'period_lock ...'), by an
-- operator, or made periodic by st_checkpoint_due.  upto: the log's head
-- when asked; the leader signs once the chain has reached it.
CREATE TABLE checkpoint_request (
	id bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY,
	requested_at timestamptz NOT NULL DEFAULT now(),
	reason text NOT NULL CHECK (reason ~ '^[a-z_]{1,40}( [0-9A-Za-z:._-]{1,80})?$'),
	upto bigint NOT NULL,
	done_at timestamptz
);
CREATE INDEX checkpoint_request_pending ON checkpoint_request (id) WHERE done_at IS NULL;

-- A signed checkpoint.  body is the exact text signed (docs/audit.md gives
-- its lines); signature is over SHA-256 of body with the key of cert (PEM,
-- the daemon's certificate file as it was: leaf first, then any chain).
CREATE TABLE checkpoint (
	id bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY,
	request_id bigint REFERENCES checkpoint_request,
	seq bigint NOT NULL,
	head bytea NOT NULL CHECK (length(head) = 32),
	reason text NOT NULL,
	signed_at timestamptz NOT NULL DEFAULT now(),
	body text NOT NULL,
	signature bytea NOT NULL,
	cert text NOT NULL
);
CREATE INDEX checkpoint_seq ON checkpoint (seq);
CREATE TRIGGER checkpoint_no_update BEFORE UPDATE OR DELETE ON checkpoint
	FOR EACH ROW EXECUTE FUNCTION ticket_event_immutable();
CREATE TRIGGER checkpoint_no_truncate BEFORE TRUNCATE ON checkpoint
	FOR EACH STATEMENT EXECUTE FUNCTION ticket_event_immutable();
