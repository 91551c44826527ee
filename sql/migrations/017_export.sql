-- 017: what export and bulletin (sql/functions/87_export.sql) read besides
-- the tables of 013: a ticket's steps in order (an export row lists them all;
-- a department's scope is "a step of the ticket was its"), and the steps by
-- deadline (the bulletin lists the steps whose deadline passed in a period).
-- Both are written by the follower only, never in an action's transaction.
CREATE INDEX assess_step_ticket ON assess_step (ticket_id, id);
CREATE INDEX assess_step_deadline ON assess_step (deadline) WHERE deadline IS NOT NULL;
