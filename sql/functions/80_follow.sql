-- The follower: work that must see every committed event in seq order but
-- must not sit in an action's transaction.  The leader instance calls
-- st_follow() on its event connection after each log read that delivered
-- events and at least every second, never overlapping itself
-- (daemon/events.c).  Returns the number of events processed.
--
-- (Branch wt-chain: only the hash chain; the measures' rollups add
-- st_rollup_advance here.)
CREATE OR REPLACE FUNCTION st_follow() RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER SET search_path = street, pg_temp AS $$
DECLARE
	n integer := 0;
BEGIN
	n := n + st_chain_advance(5000);
	RETURN n;
END
$$;
