#include "visible.h"

/* SQL's "x = y" inside coalesce(..., false): NULL (0) never matches. */
static bool same(long long x, long long y)
{
	return x != 0 && y != 0 && x == y;
}

bool visible_to(const struct visible_account *a, const struct visible_item *it)
{
	switch (a->role) {
	case ROLE_COLLECTOR:
		return same(it->reporter_id, a->id);
	case ROLE_STREET:
		return same(it->street_id, a->street_id);
	case ROLE_DEPARTMENT:
		return same(it->department_id, a->department_id);
	case ROLE_SUPERVISOR:
		return a->district_id == 0 || same(it->district_id, a->district_id);
	default:
		return false;
	}
}
