/* allow: see allow.h. */
#include "allow.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "fail.h"
#include "fmt.h"
#include "role.h"
#include "rpc.h"
#include "ticket_fsm.h"

int allow_whoami(struct ctl *ctl)
{
	json_object *req;
	int rc;

	if (ctl->whoami != NULL)
		return 0;
	req = rpc_new("whoami");
	rc = rpc_call(ctl, req, &ctl->whoami);
	json_object_put(req);
	return rc;
}

/* The account's role; false when whoami has none we know. */
static bool allow_role(struct ctl *ctl, enum role *r)
{
	const char *name = fmt_str(fmt_get(ctl->whoami, "account"), "role");

	return name != NULL && role_parse(name, r);
}

int allow_action(struct ctl *ctl, const char *op)
{
	enum ticket_action act;
	enum role me;
	char who[128] = "";
	size_t o = 0;
	int rc, n = 0;

	if (!ticket_action_parse(op, &act))
		return 0; /* not a ticket action: nothing to check here */
	rc = allow_whoami(ctl);
	if (rc != 0)
		return rc;
	if (!allow_role(ctl, &me) || ticket_role_may(act, me))
		return 0; /* an unknown role is the server's to judge */
	for (int r = 0; r < ROLE_COUNT; r++) {
		if (r == ROLE_SYSTEM || !ticket_role_may(act, (enum role)r))
			continue;
		o += (size_t)snprintf(who + o, sizeof(who) - o, "%s%s", n++ ? " or " : "",
		                      role_name((enum role)r));
		if (o >= sizeof(who))
			break;
	}
	return fail(EX_NOPERM, "%s accounts may not %s; only %s accounts may (nothing was sent)",
	            role_name(me), op, n > 0 ? who : "no");
}

/* show's words for the actions, in the loop's order. */
static const struct allow_cmd {
	enum ticket_action act;
	const char *cmd;
} allow_cmds[] = {
	{ ACT_DISPATCH, "dispatch" },
	{ ACT_ACCEPT, "accept" },
	{ ACT_RETURN, "return" },
	{ ACT_RESOLVE, "resolve" },
	{ ACT_EXTEND_REQUEST, "extend --until" },
	{ ACT_EXTEND_GRANT, "extend --grant/--deny" },
	{ ACT_CONFIRM, "confirm" },
	{ ACT_REOPEN, "reopen" },
	{ ACT_CANCEL, "cancel" },
	{ ACT_URGE, "urge" },
	{ ACT_ARBITRATE, "arbitrate" },
	{ ACT_COMMENT, "comment" },
};

const char *allow_list(struct ctl *ctl, json_object *t, char *buf, size_t cap)
{
	enum ticket_state st;
	enum role me;
	bool pending = fmt_str(t, "ext_until") != NULL;
	size_t o = 0;

	if (cap == 0 || !allow_role(ctl, &me) || !ticket_state_parse(fmt_str(t, "state"), &st))
		return NULL;
	buf[0] = '\0';
	for (size_t i = 0; i < sizeof(allow_cmds) / sizeof(allow_cmds[0]); i++) {
		enum ticket_action a = allow_cmds[i].act;

		if (ticket_rule_find(a, st, me) == NULL)
			continue;
		/* what the rule table cannot see: a pending request, a return to judge */
		if ((a == ACT_EXTEND_REQUEST && pending) || (a == ACT_EXTEND_GRANT && !pending) ||
		    (a == ACT_ARBITRATE && fmt_int(t, "return_count", 0) == 0))
			continue;
		o += (size_t)snprintf(buf + o, cap - o, "%s%s", o ? ", " : "", allow_cmds[i].cmd);
		if (o >= cap) {
			buf[cap - 1] = '\0';
			break;
		}
	}
	return buf;
}
