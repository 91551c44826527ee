-- 005: indexes for the read side (sql/functions/50_queries.sql, where the
-- query functions and their description now live).  The lists state each
-- role's scope as an equality on an indexed column, so that a street's, a
-- department's or a reporter's tickets are read from their own index however
-- many tickets there are.

-- A supervisor's tickets, newest first.
CREATE INDEX ticket_district ON ticket (district_id, id);
-- Open tickets by deadline, for the overdue lists of the roles whose scope
-- 001 does not index that way (street and department use ticket_street_open
-- and ticket_department_open): a collector's, a district's, the whole city's.
CREATE INDEX ticket_reporter_open ON ticket (reporter_id, due_at, id) WHERE due_at IS NOT NULL;
CREATE INDEX ticket_district_open ON ticket (district_id, due_at, id) WHERE due_at IS NOT NULL;
CREATE INDEX ticket_open ON ticket (due_at, id) WHERE due_at IS NOT NULL;
