/*
 * The ticket's life: states, actions, and which role may take which action
 * from which state.  The SQL table street.ticket_rule (sql/migrations/
 * 002_rules.sql) is the source of truth; this is its C copy, for clients to
 * offer only what is possible and for the daemon to answer early.
 * tests/integration/test_rules.c fails if the two ever differ.
 */
#ifndef STREET_TICKET_FSM_H
#define STREET_TICKET_FSM_H

#include <stdbool.h>
#include <stddef.h>

#include "role.h"

enum ticket_state {
	TICKET_NONE = -1,  /* before the ticket exists (report starts here) */
	TICKET_REPORTED,   /* collected; the street office must dispatch it */
	TICKET_DISPATCHED, /* with a department, not yet accepted */
	TICKET_ACCEPTED,   /* the department is working on it */
	TICKET_RESOLVED,   /* done, waiting for the reporter's or street's feedback */
	TICKET_CLOSED,     /* confirmed, or auto-closed with no feedback */
	TICKET_CANCELLED,  /* invalid or a duplicate */
	TICKET_STATE_COUNT
};

enum ticket_action {
	ACT_REPORT,
	ACT_DISPATCH,
	ACT_RETURN,
	ACT_ACCEPT,
	ACT_RESOLVE,
	ACT_CONFIRM,
	ACT_REOPEN,
	ACT_CANCEL,
	ACT_AUTO_CLOSE,
	ACT_URGE,
	ACT_EXTEND_REQUEST,
	ACT_EXTEND_GRANT,
	ACT_EXTEND_DENY,
	ACT_COMMENT,
	ACT_ARBITRATE,
	ACT_OVERDUE,
	ACT_COUNT
};

/* Which tickets of the role a rule reaches (see 002_rules.sql). */
enum ticket_relation {
	REL_GRID,     /* the collector's grids (report only) */
	REL_STREET,   /* the actor's street */
	REL_ASSIGNED, /* assigned to the actor's department */
	REL_REPORTER, /* the actor reported it */
	REL_DISTRICT, /* the supervisor's district, or the whole city */
	REL_SYSTEM,   /* the daemon */
	REL_COUNT
};

/* One row of the rule table. */
struct ticket_rule {
	enum ticket_action action;
	enum ticket_state from;
	enum ticket_state to;
	enum role role;
	enum ticket_relation relation;
};

/* The whole table, expanded to one row per (action, from, role).  Static storage. */
const struct ticket_rule *ticket_rules(size_t *n);

/* The rule for this action from this state by this role, or NULL. */
const struct ticket_rule *ticket_rule_find(enum ticket_action a, enum ticket_state from,
                                           enum role r);

/* Whether the role may take the action from any state at all. */
bool ticket_role_may(enum ticket_action a, enum role r);

/* Whether the action moves the ticket to another state (and so bumps its version). */
bool ticket_action_changes_state(enum ticket_action a);

/* Open states have a deadline: reported, dispatched, accepted, resolved. */
bool ticket_state_is_open(enum ticket_state s);

/* Names as the schema and the wire spell them; "?" when out of range. */
const char *ticket_state_name(enum ticket_state s);
const char *ticket_action_name(enum ticket_action a);
const char *ticket_relation_name(enum ticket_relation r);
bool ticket_state_parse(const char *name, enum ticket_state *out);
bool ticket_action_parse(const char *name, enum ticket_action *out);
bool ticket_relation_parse(const char *name, enum ticket_relation *out);

#endif
