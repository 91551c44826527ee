-- 004: the types of the action functions (sql/functions/40_actions.sql, where
-- the functions and their description now live; scripts/migrate applies them
-- after the migrations on every run).

CREATE TYPE action_result AS (ticket jsonb, event jsonb, replayed boolean);

-- What every action needs before it acts: the actor, the locked ticket, or the
-- sequence number of the event to replay.
CREATE TYPE action_ctx AS (actor account, ticket ticket, replay bigint);
