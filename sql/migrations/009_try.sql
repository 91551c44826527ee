-- 009: the result type of st_try, the form in which streetd commits several
-- actions together (sql/functions/70_try.sql).

CREATE TYPE try_result AS (result text, sqlstate text, message text);
