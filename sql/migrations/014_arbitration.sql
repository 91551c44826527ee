-- 014: a supervisor's ruling on a return binds (issue 13).
--
-- A return (退单) names the department the returner believes responsible, and
-- the ticket waits in 'reported' for the street office.  While that return is
-- still the ticket's latest move (nothing has dispatched or cancelled it
-- since), a supervisor's ruling moves the ticket: upheld, to the named (or
-- another) department; rejected, back to the returning one; either way
-- 'dispatched' with a new accept deadline.  Once the street office has acted
-- on the ticket, the ruling only records whether the return counts
-- (docs/decisions.md, "Returns and arbitration").  So arbitrate from
-- 'reported' now leads to 'dispatched'; from every other state it stays.
UPDATE ticket_rule SET to_state = 'dispatched'
WHERE action = 'arbitrate' AND from_state = 'reported' AND role = 'supervisor';

-- One ruling per return, whatever writes the log (the functions check it
-- first, under the ticket's lock, for a clear message); also how the measures
-- find a return's ruling.
CREATE UNIQUE INDEX ticket_event_return_ruling ON ticket_event (((data ->> 'return_seq')::bigint))
WHERE action = 'arbitrate';
