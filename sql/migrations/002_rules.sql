-- 002: which action is legal from which state, by which role, and on which
-- relation between the actor and the ticket.  This table is the one source of
-- truth: the action functions (004) consult it, and the C copy in
-- lib/ticket_fsm.c is checked row for row against it by
-- tests/integration/test_rules.c.
--
-- relation says which tickets of that role's the rule reaches:
--   grid      the ticket's grid is one of the collector's grids (report only)
--   street    the ticket is in the actor's street
--   assigned  the ticket is assigned to the actor's department
--   reporter  the actor reported the ticket
--   district  the ticket is in the supervisor's district (or the supervisor is city-wide)
--   system    the daemon itself (deadline sweeper)
CREATE TABLE ticket_rule (
	action text NOT NULL,
	from_state ticket_state, -- NULL: the action creates the ticket
	to_state ticket_state NOT NULL,
	role text NOT NULL CHECK (role IN ('collector', 'street', 'department', 'supervisor',
		'admin', 'system')),
	relation text NOT NULL CHECK (relation IN ('grid', 'street', 'assigned', 'reporter',
		'district', 'system')),
	CHECK ((role = 'system') = (relation = 'system')),
	UNIQUE NULLS NOT DISTINCT (action, from_state, role)
);

INSERT INTO ticket_rule (action, from_state, to_state, role, relation) VALUES
	-- 1 collect
	('report', NULL, 'reported', 'collector', 'grid'),
	('report', NULL, 'reported', 'street', 'street'),
	-- 2 dispatch
	('dispatch', 'reported', 'dispatched', 'street', 'street'),
	('cancel', 'reported', 'cancelled', 'street', 'street'),
	-- 3 accept: the assigned department claims it, sends it back, or finishes it
	('accept', 'dispatched', 'accepted', 'department', 'assigned'),
	('return', 'dispatched', 'reported', 'department', 'assigned'),
	('resolve', 'accepted', 'resolved', 'department', 'assigned'),
	-- 4 feedback
	('confirm', 'resolved', 'closed', 'collector', 'reporter'),
	('confirm', 'resolved', 'closed', 'street', 'street'),
	('reopen', 'resolved', 'accepted', 'collector', 'reporter'),
	('reopen', 'resolved', 'accepted', 'street', 'street'),
	('auto_close', 'resolved', 'closed', 'system', 'system'),
	-- deadlines passing, marked once per step; a missed feedback deadline is the auto-close
	('overdue', 'reported', 'reported', 'system', 'system'),
	('overdue', 'dispatched', 'dispatched', 'system', 'system'),
	('overdue', 'accepted', 'accepted', 'system', 'system'),
	-- extensions: the department asks, the street or a supervisor decides
	('extend_request', 'accepted', 'accepted', 'department', 'assigned'),
	('extend_grant', 'accepted', 'accepted', 'street', 'street'),
	('extend_grant', 'accepted', 'accepted', 'supervisor', 'district'),
	('extend_deny', 'accepted', 'accepted', 'street', 'street'),
	('extend_deny', 'accepted', 'accepted', 'supervisor', 'district'),
	-- urging (督办) presses whoever holds the current step: a supervisor may press
	-- the street (reported), the department (dispatched, accepted) or the
	-- feedback (resolved); the street presses the department
	('urge', 'reported', 'reported', 'supervisor', 'district'),
	('urge', 'dispatched', 'dispatched', 'supervisor', 'district'),
	('urge', 'accepted', 'accepted', 'supervisor', 'district'),
	('urge', 'resolved', 'resolved', 'supervisor', 'district'),
	('urge', 'dispatched', 'dispatched', 'street', 'street'),
	('urge', 'accepted', 'accepted', 'street', 'street');

-- Comments from everyone who can see the ticket, in every state; a supervisor's
-- ruling on a return (upheld: not counted against the department) in every state,
-- since the ticket may have moved on by the time it is arbitrated.
INSERT INTO ticket_rule (action, from_state, to_state, role, relation)
SELECT 'comment', s, s, r.role, r.relation
FROM unnest(enum_range(NULL::ticket_state)) AS s,
	(VALUES ('collector', 'reporter'), ('street', 'street'), ('department', 'assigned'),
		('supervisor', 'district')) AS r(role, relation)
UNION ALL
SELECT 'arbitrate', s, s, 'supervisor', 'district'
FROM unnest(enum_range(NULL::ticket_state)) AS s;
