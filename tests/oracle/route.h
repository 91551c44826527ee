/*
 * Routing: (category, place) -> department.  The most specific rule wins:
 * the deeper category first (the kind of problem decides the department),
 * then the smaller place (grid > community > street > district > city).
 * Same order as street.st_route() in sql/functions/20_helpers.sql;
 * tests/integration/test_route_sql.c compares the two on the demo rules.
 * A test oracle only: the daemon routes in SQL (docs/decisions.md).
 */
#ifndef STREET_ROUTE_H
#define STREET_ROUTE_H

#include <stddef.h>
#include <stdint.h>

enum route_level {
	ROUTE_GRID,
	ROUTE_COMMUNITY,
	ROUTE_STREET,
	ROUTE_DISTRICT,
	ROUTE_CITY, /* no place: the whole city */
};

struct route_rule {
	int32_t category_id;
	enum route_level level;
	int32_t place_id; /* id at that level; ignored for ROUTE_CITY */
	int32_t department_id;
};

/* Where a ticket is: its grid and the grid's ancestors. */
struct route_place {
	int32_t grid_id;
	int32_t community_id;
	int32_t street_id;
	int32_t district_id;
};

/*
 * Finds the department for a ticket.  category_path lists the ticket's
 * category first, then its parent, up to the root (depth entries).  The
 * caller passes only rules of active departments.  Returns the rule that
 * wins, or NULL when none applies.  Borrows everything; allocates nothing.
 */
const struct route_rule *route_match(const struct route_rule *rules, size_t nrules,
                                     const int32_t *category_path, size_t depth,
                                     const struct route_place *place);

#endif
