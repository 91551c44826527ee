/* Account roles, as the schema's account_role enum spells them. */
#ifndef STREET_ROLE_H
#define STREET_ROLE_H

#include <stdbool.h>

enum role {
	ROLE_COLLECTOR,  /* grid worker, street steward: reports in their grids */
	ROLE_STREET,     /* street office staff: dispatches in their street */
	ROLE_DEPARTMENT, /* department staff: accepts what is dispatched to them */
	ROLE_SUPERVISOR, /* audits and presses in a district, or the whole city */
	ROLE_ADMIN,      /* reference data and accounts; no ticket work */
	ROLE_SYSTEM,     /* the daemon itself (deadline sweeper); no account has it */
	ROLE_COUNT
};

/* Returns the lower-case name ("street"), or "?" for an out-of-range value. */
const char *role_name(enum role r);

/* Parses a name; returns false if it is not one of the roles. */
bool role_parse(const char *name, enum role *out);

#endif
