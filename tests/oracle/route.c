#include "route.h"

#include <stdbool.h>

static bool place_matches(const struct route_rule *r, const struct route_place *p)
{
	switch (r->level) {
	case ROUTE_GRID:
		return r->place_id == p->grid_id;
	case ROUTE_COMMUNITY:
		return r->place_id == p->community_id;
	case ROUTE_STREET:
		return r->place_id == p->street_id;
	case ROUTE_DISTRICT:
		return r->place_id == p->district_id;
	case ROUTE_CITY:
		return true;
	}
	return false;
}

const struct route_rule *route_match(const struct route_rule *rules, size_t nrules,
                                     const int32_t *category_path, size_t depth,
                                     const struct route_place *place)
{
	const struct route_rule *best = NULL;
	size_t best_depth = 0;

	for (size_t i = 0; i < nrules; i++) {
		const struct route_rule *r = &rules[i];
		size_t d;

		if ((unsigned)r->level > ROUTE_CITY || !place_matches(r, place))
			continue;
		for (d = 0; d < depth && category_path[d] != r->category_id; d++)
			;
		if (d == depth)
			continue;
		/* Lower depth is a more specific category; at equal depth, a lower level
		 * is a smaller place. */
		if (!best || d < best_depth || (d == best_depth && r->level < best->level)) {
			best = r;
			best_depth = d;
		}
	}
	return best;
}
