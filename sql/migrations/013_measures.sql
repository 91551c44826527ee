-- 013: the assessment's measures (docs/assessment.md), derived from the event
-- log after commit by the follower (sql/functions/80_follow.sql), never in
-- an action's transaction: per-step facts, daily rollups the reports read,
-- the follower's durable cursor, and the ranking's weights and settings.

-- Where the fold stands: every seq up to position is folded (or known never
-- to have committed).  hole_seq/hole_probe: the first missing number seen and
-- a transaction id taken when it was seen; the hole is settled once a
-- snapshot's xmin reaches the probe (the rule of sql/functions/60_log.sql).
CREATE TABLE assess_cursor (
	only_row boolean PRIMARY KEY DEFAULT true CHECK (only_row),
	position bigint NOT NULL DEFAULT 0,
	hole_seq bigint,
	hole_probe xid8,
	updated_at timestamptz NOT NULL DEFAULT now()
);
INSERT INTO assess_cursor DEFAULT VALUES;

-- What the fold remembers of a ticket between its events.  No foreign key
-- to ticket, here or in assess_step: checking one takes a KEY SHARE lock on
-- the ticket row, so a follower batch holding many of them deadlocked with the
-- actions that lock those tickets FOR UPDATE (bench/run, 16 clients and more);
-- every ticket_id comes from an event, which references its ticket already.
CREATE TABLE assess_ticket (
	ticket_id bigint PRIMARY KEY,
	urgent boolean NOT NULL,
	dispatched boolean NOT NULL DEFAULT false,  -- dispatched at least once
	last_resolve_met boolean                    -- the last resolve step was on time
);

-- One row per step instance (docs/assessment.md, "Steps"); the open one of a
-- ticket has ended_at NULL.
CREATE TABLE assess_step (
	id bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY,
	ticket_id bigint NOT NULL,
	kind text NOT NULL CHECK (kind IN ('dispatch', 'accept', 'resolve', 'feedback')),
	start_seq bigint NOT NULL,
	started_at timestamptz NOT NULL,
	deadline timestamptz,
	department_id integer,          -- who holds it (NULL: the street)
	charged_department_id integer,  -- ownerless time after a return goes to this department
	overdue_marked boolean NOT NULL DEFAULT false,
	end_seq bigint,
	ended_at timestamptz,
	end_action text,
	met boolean,
	working_s bigint
);
CREATE UNIQUE INDEX assess_step_open ON assess_step (ticket_id) WHERE ended_at IS NULL;
CREATE INDEX assess_step_start ON assess_step (start_seq);

-- Daily rollups per (day in UTC+8, grid, category, department; 0: none).
-- Street and district ride along (a grid's never change) so that reports
-- group without joins.  open_delta / overdue_delta sum, over the days
-- before an instant, to the tickets open (overdue) at it.
CREATE TABLE assess_day (
	day date NOT NULL,
	grid_id integer NOT NULL,
	category_id integer NOT NULL,
	department_id integer NOT NULL,
	street_id integer NOT NULL,
	district_id integer NOT NULL,
	reported integer NOT NULL DEFAULT 0,
	dispatched integer NOT NULL DEFAULT 0,
	dispatched_ontime integer NOT NULL DEFAULT 0,
	dispatched_tickets integer NOT NULL DEFAULT 0,
	accept_ended integer NOT NULL DEFAULT 0,
	accepted integer NOT NULL DEFAULT 0,
	accepted_ontime integer NOT NULL DEFAULT 0,
	returned integer NOT NULL DEFAULT 0,
	returned_counted integer NOT NULL DEFAULT 0,
	resolved integer NOT NULL DEFAULT 0,
	resolved_ontime integer NOT NULL DEFAULT 0,
	reopened integer NOT NULL DEFAULT 0,
	closed integer NOT NULL DEFAULT 0,
	closed_ontime integer NOT NULL DEFAULT 0,
	confirmed integer NOT NULL DEFAULT 0,
	no_feedback integer NOT NULL DEFAULT 0,
	satisfied integer NOT NULL DEFAULT 0,
	dissatisfied integer NOT NULL DEFAULT 0,
	cancelled integer NOT NULL DEFAULT 0,
	cancelled_dispatched integer NOT NULL DEFAULT 0,
	urged integer NOT NULL DEFAULT 0,
	overdue_marks integer NOT NULL DEFAULT 0,
	open_delta integer NOT NULL DEFAULT 0,
	overdue_delta integer NOT NULL DEFAULT 0,
	ownerless_s bigint NOT NULL DEFAULT 0,
	PRIMARY KEY (day, grid_id, category_id, department_id)
);
CREATE INDEX assess_day_department ON assess_day (department_id, day);
CREATE INDEX assess_day_street ON assess_day (street_id, day);

-- Working-time histograms per step kind, for the percentiles: bucket b of
-- st_assess_bounds() (docs/assessment.md lists the bounds).
CREATE TABLE assess_day_hist (
	day date NOT NULL,
	grid_id integer NOT NULL,
	category_id integer NOT NULL,
	department_id integer NOT NULL,
	street_id integer NOT NULL,
	district_id integer NOT NULL,
	kind text NOT NULL CHECK (kind IN ('dispatch', 'accept', 'resolve', 'feedback')),
	bucket smallint NOT NULL,
	n integer NOT NULL DEFAULT 0,
	PRIMARY KEY (day, grid_id, category_id, department_id, kind, bucket)
);

-- The composite's measures and weights per group (data; docs/assessment.md,
-- "Ranking").  invert: lower is better, enters as (1 - rate).
CREATE TABLE assessment_weight (
	grp text NOT NULL CHECK (grp IN ('department', 'street')),
	measure text NOT NULL CHECK (measure IN ('dispatch_ontime_rate', 'response_rate',
		'resolve_ontime_rate', 'close_rate', 'close_ontime_rate', 'satisfaction_rate',
		'dissatisfaction_rate', 'return_rate', 'reopen_rate', 'street_score')),
	weight numeric NOT NULL CHECK (weight > 0),
	invert boolean NOT NULL DEFAULT false,
	PRIMARY KEY (grp, measure),
	CHECK (measure <> 'street_score' OR (grp = 'department' AND NOT invert))
);
INSERT INTO assessment_weight (grp, measure, weight, invert) VALUES
	('department', 'response_rate', 20, false),
	('department', 'resolve_ontime_rate', 20, false),
	('department', 'close_rate', 10, false),
	('department', 'satisfaction_rate', 15, false),
	('department', 'return_rate', 5, true),
	('department', 'street_score', 30, false),
	('street', 'dispatch_ontime_rate', 40, false),
	('street', 'close_rate', 20, false),
	('street', 'satisfaction_rate', 40, false);

CREATE TABLE assessment_setting (
	key text PRIMARY KEY CHECK (key IN ('min_volume')),
	value numeric NOT NULL CHECK (value >= 0)
);
INSERT INTO assessment_setting (key, value) VALUES ('min_volume', 5);
