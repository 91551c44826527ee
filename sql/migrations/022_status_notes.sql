-- 022: a ticket keeps the note of the last step a person took that moved it
-- (Open311's status_notes, docs/open311.md), written by st_move in the
-- UPDATE of the ticket it makes anyway, so GET requests reads it with the
-- ticket instead of looking up each ticket's last such event (a LATERAL
-- per ticket into ticket_event: a third of requests.json's time at 1 M
-- tickets).  Not on the wire as a ticket field (st_ticket_json leaves it
-- out): it is Open311's.
ALTER TABLE ticket ADD COLUMN status_notes text;

-- The tickets that have such events already: their last one's note, in one
-- pass over the event log (migrations may not call the functions; the same
-- rule as st_move and st_o311_notes_fill, 40_actions.sql and 88_open311.sql).
UPDATE ticket t SET status_notes = n.notes
FROM (
	SELECT DISTINCT ON (e.ticket_id) e.ticket_id,
		coalesce(e.data->>'note', e.data->>'reason', e.data->>'comment') AS notes
	FROM ticket_event e
	WHERE e.action IN ('dispatch', 'return', 'resolve', 'confirm', 'reopen', 'cancel')
	ORDER BY e.ticket_id, e.seq DESC) n
WHERE n.ticket_id = t.id AND n.notes IS NOT NULL;
