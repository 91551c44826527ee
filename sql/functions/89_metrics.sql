-- GET /metrics (docs/http.md): open and overdue tickets by department.  The
-- daemon runs this at most once per 15 s, whatever the scrape rate
-- (daemon/metrics_tickets.c).  Every department appears (zeros included);
-- tickets not yet dispatched to one are under the empty code ''.  Open is
-- a running clock (due_at set: the index ticket_open), overdue is one past
-- its deadline now, marked by the sweeper or not yet.
CREATE OR REPLACE FUNCTION st_metrics_tickets()
RETURNS TABLE (department text, open bigint, overdue bigint)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = street, pg_temp AS $$
	WITH c AS (
		SELECT t.department_id, count(*) AS open,
			count(*) FILTER (WHERE t.due_at < now()) AS overdue
		FROM ticket t
		WHERE t.due_at IS NOT NULL
		GROUP BY t.department_id
	)
	SELECT '', coalesce((SELECT c.open FROM c WHERE c.department_id IS NULL), 0),
		coalesce((SELECT c.overdue FROM c WHERE c.department_id IS NULL), 0)
	UNION ALL
	(SELECT d.code, coalesce(c.open, 0), coalesce(c.overdue, 0)
	FROM department d LEFT JOIN c ON c.department_id = d.id
	ORDER BY d.code)
$$;
