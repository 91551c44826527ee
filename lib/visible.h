/*
 * Who sees what: the one visibility rule, in C.  The database's copy is
 * street.st_sees (sql/functions/20_helpers.sql), which every query, action and
 * log replay asks; tests/integration/test_daemon_visible.c checks the two against
 * each other on random scopes and items, and checks that the daemon pushes
 * each subscriber exactly the events this predicate allows.
 *
 * Ids are the database's; 0 stands for NULL (no such scope).  Pure logic, no
 * allocation: the caller owns both structs.
 */
#ifndef STREET_VISIBLE_H
#define STREET_VISIBLE_H

#include <stdbool.h>

#include "role.h"

/* An account's scope. */
struct visible_account {
	enum role role;
	long long id;
	long long street_id;     /* collector, street */
	long long district_id;   /* supervisor; 0: the whole city */
	long long department_id; /* department */
};

/* A ticket's or an event's scope (an event's department is the one it
 * concerns: for a return, the department that returned the ticket). */
struct visible_item {
	long long street_id;
	long long district_id;
	long long department_id; /* 0: none assigned */
	long long reporter_id;
};

/*
 * Whether the account sees the item: a collector what they reported, street
 * staff their street's, a department what concerns it, a supervisor their
 * district's (or all with no district), an admin (or anything else) nothing.
 */
bool visible_to(const struct visible_account *a, const struct visible_item *it);

#endif
