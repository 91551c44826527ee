#include "ticket_fsm.h"

#include <string.h>

static const char *const state_names[TICKET_STATE_COUNT] = {
	[TICKET_REPORTED] = "reported", [TICKET_DISPATCHED] = "dispatched",
	[TICKET_ACCEPTED] = "accepted", [TICKET_RESOLVED] = "resolved",
	[TICKET_CLOSED] = "closed",     [TICKET_CANCELLED] = "cancelled",
};

static const char *const action_names[ACT_COUNT] = {
	[ACT_REPORT] = "report",
	[ACT_DISPATCH] = "dispatch",
	[ACT_RETURN] = "return",
	[ACT_ACCEPT] = "accept",
	[ACT_RESOLVE] = "resolve",
	[ACT_CONFIRM] = "confirm",
	[ACT_REOPEN] = "reopen",
	[ACT_CANCEL] = "cancel",
	[ACT_AUTO_CLOSE] = "auto_close",
	[ACT_URGE] = "urge",
	[ACT_EXTEND_REQUEST] = "extend_request",
	[ACT_EXTEND_GRANT] = "extend_grant",
	[ACT_EXTEND_DENY] = "extend_deny",
	[ACT_COMMENT] = "comment",
	[ACT_ARBITRATE] = "arbitrate",
	[ACT_OVERDUE] = "overdue",
};

static const char *const relation_names[REL_COUNT] = {
	[REL_GRID] = "grid",         [REL_STREET] = "street",     [REL_ASSIGNED] = "assigned",
	[REL_REPORTER] = "reporter", [REL_DISTRICT] = "district", [REL_SYSTEM] = "system",
};

/*
 * The table as written in 002_rules.sql.  A row with from = TICKET_STATE_COUNT
 * stands for every state, with the ticket staying where it is.
 */
#define ANY TICKET_STATE_COUNT
#define R(act, f, t, role, rel)                                                                    \
	{                                                                                          \
		ACT_##act, TICKET_##f, TICKET_##t, ROLE_##role, REL_##rel                          \
	}
#define RALL(act, role, rel)                                                                       \
	{                                                                                          \
		ACT_##act, ANY, ANY, ROLE_##role, REL_##rel                                        \
	}

static const struct ticket_rule compact[] = {
	R(REPORT, NONE, REPORTED, COLLECTOR, GRID),
	R(REPORT, NONE, REPORTED, STREET, STREET),
	R(DISPATCH, REPORTED, DISPATCHED, STREET, STREET),
	R(CANCEL, REPORTED, CANCELLED, STREET, STREET),
	R(ACCEPT, DISPATCHED, ACCEPTED, DEPARTMENT, ASSIGNED),
	R(RETURN, DISPATCHED, REPORTED, DEPARTMENT, ASSIGNED),
	R(RESOLVE, ACCEPTED, RESOLVED, DEPARTMENT, ASSIGNED),
	R(CONFIRM, RESOLVED, CLOSED, COLLECTOR, REPORTER),
	R(CONFIRM, RESOLVED, CLOSED, STREET, STREET),
	R(REOPEN, RESOLVED, ACCEPTED, COLLECTOR, REPORTER),
	R(REOPEN, RESOLVED, ACCEPTED, STREET, STREET),
	R(AUTO_CLOSE, RESOLVED, CLOSED, SYSTEM, SYSTEM),
	R(OVERDUE, REPORTED, REPORTED, SYSTEM, SYSTEM),
	R(OVERDUE, DISPATCHED, DISPATCHED, SYSTEM, SYSTEM),
	R(OVERDUE, ACCEPTED, ACCEPTED, SYSTEM, SYSTEM),
	R(EXTEND_REQUEST, ACCEPTED, ACCEPTED, DEPARTMENT, ASSIGNED),
	R(EXTEND_GRANT, ACCEPTED, ACCEPTED, STREET, STREET),
	R(EXTEND_GRANT, ACCEPTED, ACCEPTED, SUPERVISOR, DISTRICT),
	R(EXTEND_DENY, ACCEPTED, ACCEPTED, STREET, STREET),
	R(EXTEND_DENY, ACCEPTED, ACCEPTED, SUPERVISOR, DISTRICT),
	R(URGE, REPORTED, REPORTED, SUPERVISOR, DISTRICT),
	R(URGE, DISPATCHED, DISPATCHED, SUPERVISOR, DISTRICT),
	R(URGE, ACCEPTED, ACCEPTED, SUPERVISOR, DISTRICT),
	R(URGE, RESOLVED, RESOLVED, SUPERVISOR, DISTRICT),
	R(URGE, DISPATCHED, DISPATCHED, STREET, STREET),
	R(URGE, ACCEPTED, ACCEPTED, STREET, STREET),
	RALL(COMMENT, COLLECTOR, REPORTER),
	RALL(COMMENT, STREET, STREET),
	RALL(COMMENT, DEPARTMENT, ASSIGNED),
	RALL(COMMENT, SUPERVISOR, DISTRICT),
	/* a ruling on a pending return sends the ticket to a department; later, it records */
	R(ARBITRATE, REPORTED, DISPATCHED, SUPERVISOR, DISTRICT),
	R(ARBITRATE, DISPATCHED, DISPATCHED, SUPERVISOR, DISTRICT),
	R(ARBITRATE, ACCEPTED, ACCEPTED, SUPERVISOR, DISTRICT),
	R(ARBITRATE, RESOLVED, RESOLVED, SUPERVISOR, DISTRICT),
	R(ARBITRATE, CLOSED, CLOSED, SUPERVISOR, DISTRICT),
	R(ARBITRATE, CANCELLED, CANCELLED, SUPERVISOR, DISTRICT),
};

#define NCOMPACT (sizeof(compact) / sizeof(compact[0]))
/*
 * A row expands to one row, or to one per state: this bound holds whatever
 * rows are added, so the table can grow without a count to keep in step
 * (a hard-coded count of every-state rows would overflow expanded[]).
 */
#define NEXPANDED (NCOMPACT * TICKET_STATE_COUNT)

static struct ticket_rule expanded[NEXPANDED];
static size_t nexpanded;

/* Built on first use (the programs using libstreet are single-threaded). */
static void expand(void)
{
	size_t n = 0;

	if (nexpanded)
		return;
	for (size_t i = 0; i < NCOMPACT; i++) {
		if (compact[i].from != ANY) {
			expanded[n++] = compact[i];
			continue;
		}
		for (int s = 0; s < TICKET_STATE_COUNT; s++) {
			expanded[n] = compact[i];
			expanded[n].from = expanded[n].to = (enum ticket_state)s;
			n++;
		}
	}
	nexpanded = n;
}

const struct ticket_rule *ticket_rules(size_t *n)
{
	expand();
	*n = nexpanded;
	return expanded;
}

const struct ticket_rule *ticket_rule_find(enum ticket_action a, enum ticket_state from,
                                           enum role r)
{
	size_t n;
	const struct ticket_rule *rules = ticket_rules(&n);

	for (size_t i = 0; i < n; i++) {
		if (rules[i].action == a && rules[i].from == from && rules[i].role == r)
			return &rules[i];
	}
	return NULL;
}

bool ticket_role_may(enum ticket_action a, enum role r)
{
	for (size_t i = 0; i < NCOMPACT; i++) {
		if (compact[i].action == a && compact[i].role == r)
			return true;
	}
	return false;
}

bool ticket_action_changes_state(enum ticket_action a)
{
	for (size_t i = 0; i < NCOMPACT; i++) {
		if (compact[i].action == a && compact[i].from != compact[i].to)
			return true;
	}
	return false;
}

bool ticket_state_is_open(enum ticket_state s)
{
	return s == TICKET_REPORTED || s == TICKET_DISPATCHED || s == TICKET_ACCEPTED ||
	       s == TICKET_RESOLVED;
}

const char *ticket_state_name(enum ticket_state s)
{
	if (s == TICKET_NONE)
		return "none";
	if ((unsigned)s >= TICKET_STATE_COUNT)
		return "?";
	return state_names[s];
}

const char *ticket_action_name(enum ticket_action a)
{
	if ((unsigned)a >= ACT_COUNT)
		return "?";
	return action_names[a];
}

const char *ticket_relation_name(enum ticket_relation r)
{
	if ((unsigned)r >= REL_COUNT)
		return "?";
	return relation_names[r];
}

static int find_name(const char *const *names, int count, const char *name)
{
	for (int i = 0; i < count; i++) {
		if (strcmp(names[i], name) == 0)
			return i;
	}
	return -1;
}

bool ticket_state_parse(const char *name, enum ticket_state *out)
{
	int i = find_name(state_names, TICKET_STATE_COUNT, name);

	if (i < 0)
		return false;
	*out = (enum ticket_state)i;
	return true;
}

bool ticket_action_parse(const char *name, enum ticket_action *out)
{
	int i = find_name(action_names, ACT_COUNT, name);

	if (i < 0)
		return false;
	*out = (enum ticket_action)i;
	return true;
}

bool ticket_relation_parse(const char *name, enum ticket_relation *out)
{
	int i = find_name(relation_names, REL_COUNT, name);

	if (i < 0)
		return false;
	*out = (enum ticket_relation)i;
	return true;
}
