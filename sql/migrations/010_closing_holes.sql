-- 010: closing holes (issue 12).

-- The daemon's role reads sequences but never advances one: the sequences
-- created so far got USAGE from the old default privileges (bootstrap.sql no
-- longer grants it).
REVOKE USAGE ON ALL SEQUENCES IN SCHEMA street FROM streetd_daemon;

-- A replay returns the outcome as first answered, stored with the key; never
-- the ticket as it is now.  Keys used before this migration get the outcome
-- rebuilt from their event (which never changes): the event itself, and of
-- the ticket only what the event records (id, state and version after it).
ALTER TABLE idempotency ADD COLUMN result jsonb;
UPDATE idempotency i SET result = jsonb_build_object(
	'ticket', jsonb_build_object('id', e.ticket_id, 'state', e.to_state, 'version', e.version),
	'event', to_jsonb(e) - 'xid')
FROM ticket_event e WHERE e.seq = i.seq;
-- What st_begin hands an action: the outcome to replay, not an event's seq.
ALTER TYPE action_ctx DROP ATTRIBUTE replay, ADD ATTRIBUTE replay action_result;
