/*
 * allow: what this account's role may do, from lib/ticket_fsm (the C copy
 * of the rule table: which role may take which action from which state).
 * streetctl uses it to refuse, before sending anything, an action the role
 * may never take, and to tell show's reader what they may do now.  The
 * server stays the authority (scope, state, version are its to decide).
 */
#ifndef STREETCTL_ALLOW_H
#define STREETCTL_ALLOW_H

#include <json-c/json.h>
#include <stddef.h>

#include "ctl.h"

/* ctl->whoami, read once; 0 or an exit code after printing. */
int allow_whoami(struct ctl *ctl);

/*
 * Whether the account's role may ever take op (a wire action: "dispatch",
 * "extend_grant"...).  Reads whoami when needed.  0, or EX_NOPERM after
 * printing one line naming the roles that may; another exit code when
 * whoami failed.
 */
int allow_action(struct ctl *ctl, const char *op);

/*
 * The streetctl commands the role may use on ticket t (a get result's
 * ticket) in its current state, "accept, return, comment", into buf; ""
 * when none.  NULL when the role or the state is unknown.
 */
const char *allow_list(struct ctl *ctl, json_object *t, char *buf, size_t cap);

#endif
