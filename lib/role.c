#include "role.h"

#include <string.h>

static const char *const role_names[ROLE_COUNT] = {
	[ROLE_COLLECTOR] = "collector",   [ROLE_STREET] = "street",
	[ROLE_DEPARTMENT] = "department", [ROLE_SUPERVISOR] = "supervisor",
	[ROLE_ADMIN] = "admin",           [ROLE_SYSTEM] = "system",
};

const char *role_name(enum role r)
{
	if ((unsigned)r >= ROLE_COUNT)
		return "?";
	return role_names[r];
}

bool role_parse(const char *name, enum role *out)
{
	for (int i = 0; i < ROLE_COUNT; i++) {
		if (strcmp(name, role_names[i]) == 0) {
			*out = (enum role)i;
			return true;
		}
	}
	return false;
}
