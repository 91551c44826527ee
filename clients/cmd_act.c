/*
 * cmd_act: the loop's actions.  Each builds its request from the options,
 * checks it locally, reads the ticket's version when the op needs one and
 * --version was not given, and always sends an idempotency key, so that a
 * retry (here after "unavailable", or by the user with --key) never acts
 * twice.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "allow.h"
#include "cmd.h"
#include "fail.h"
#include "fmt.h"
#include "out.h"
#include "photo.h"
#include "proto.h"
#include "ref.h"
#include "rpc.h"

/* Adds --opt's text as field, if given. */
static void act_text(json_object *req, const struct args *a, const char *opt, const char *field)
{
	const char *v = args_get(a, opt);

	if (v != NULL)
		json_object_object_add(req, field, json_object_new_string(v));
}

/* Adds --opt's integer as field, if given; 0 or EX_USAGE. */
static int act_int(json_object *req, const struct args *a, const char *opt, const char *field)
{
	long long v;
	int rc;

	if (!args_has(a, opt))
		return 0;
	rc = args_int(a, opt, 0, PROTO_INT_MAX, &v);
	if (rc == 0)
		json_object_object_add(req, field, json_object_new_int64(v));
	return rc;
}

/* Adds --opt's number as field, if given; 0 or EX_USAGE. */
static int act_num(json_object *req, const struct args *a, const char *opt, const char *field)
{
	const char *v = args_get(a, opt);
	char *end;
	double d;

	if (v == NULL)
		return 0;
	d = strtod(v, &end);
	if (end == v || *end != '\0')
		return fail_usage(a->cmd->name, "--%s: '%s' is not a number", opt, v);
	json_object_object_add(req, field, json_object_new_double(d));
	return 0;
}

/* Uploads every --photo and adds their ids as "photos". */
static int act_photos(struct ctl *ctl, json_object *req, const struct args *a)
{
	const char *files[PROTO_MAX_PHOTOS + 1];
	int n = args_all(a, "photo", files, PROTO_MAX_PHOTOS + 1);
	json_object *ids;

	if (n == 0)
		return 0;
	if (n > PROTO_MAX_PHOTOS)
		return fail_usage(a->cmd->name, "at most %d photos", PROTO_MAX_PHOTOS);
	ids = json_object_new_array();
	json_object_object_add(req, "photos", ids);
	for (int i = 0; i < n; i++) {
		long long id = 0;
		int rc = photo_upload(ctl, files[i], &id);

		if (rc != 0)
			return rc;
		json_object_array_add(ids, json_object_new_int64(id));
	}
	return 0;
}

/* The ticket's current version (and state, for messages) read with get. */
static int act_version(struct ctl *ctl, long long ticket, long long *version)
{
	json_object *req = rpc_new("get"), *res = NULL;
	int rc;

	json_object_object_add(req, "ticket", json_object_new_int64(ticket));
	rc = rpc_call(ctl, req, &res);
	json_object_put(req);
	if (rc == 0)
		*version = fmt_int(fmt_get(res, "ticket"), "version", 0);
	json_object_put(res);
	return rc;
}

/* What an action did, in one line for people. */
static void act_print(struct ctl *ctl, json_object *res)
{
	json_object *t = fmt_get(res, "ticket"), *e = fmt_get(res, "event");
	const char *from = fmt_str(e, "from_state"), *to = fmt_str(e, "to_state");
	const char *action = fmt_str(e, "action");
	long long dept = fmt_int(t, "department_id", 0), named;
	char when[32], nb[32];

	if (ref_load(ctl, REF_DEPARTMENT) != 0)
		fputs("(department names unavailable)\n", stderr);
	out_printf(stdout, "ticket %lld: %s %s", fmt_int(t, "id", 0), fmt_action_zh(action),
	           action ? action : "-");
	if (from == NULL || to == NULL || strcmp(from, to) != 0)
		out_printf(stdout, ", %s → %s %s", from ? from : "new", to ? to : "-",
		           fmt_state_zh(to));
	out_line(stdout, " (version %lld, event %lld)", fmt_int(t, "version", 0),
	         fmt_int(e, "seq", 0));
	if (dept > 0)
		out_line(stdout, "  department: %s (%s)",
		         ref_name(ctl, REF_DEPARTMENT, dept, nb, sizeof(nb)),
		         ref_code(ctl, REF_DEPARTMENT, dept) ? ref_code(ctl, REF_DEPARTMENT, dept)
		                                             : "?");
	named = fmt_int(fmt_get(e, "data"), "department_id", 0);
	if (named > 0 && action != NULL && strcmp(action, "return") == 0)
		out_line(stdout, "  named as responsible: %s (%s)",
		         ref_name(ctl, REF_DEPARTMENT, named, nb, sizeof(nb)),
		         ref_code(ctl, REF_DEPARTMENT, named) ? ref_code(ctl, REF_DEPARTMENT, named)
		                                              : "?");
	if (fmt_str(t, "due_at") != NULL)
		out_line(stdout, "  due: %s", fmt_time(when, sizeof(when), fmt_str(t, "due_at")));
	if (fmt_bool(res, "replayed"))
		out_line(stdout, "  replayed: this key was used before; nothing was done again");
}

/*
 * Sends req for ticket (0 for report): --key or a new key, --version or the
 * one read with get when need_version.  Prints the outcome.
 */
static int act_send(struct ctl *ctl, const struct args *a, json_object *req, long long ticket,
                    bool need_version)
{
	char key[RPC_KEY_SIZE];
	json_object *res = NULL;
	long long version = 0;
	int rc;

	if (ticket > 0)
		json_object_object_add(req, "ticket", json_object_new_int64(ticket));
	rc = act_int(req, a, "version", "version");
	if (rc != 0)
		return rc;
	if (args_has(a, "key")) {
		act_text(req, a, "key", "key");
	} else {
		rpc_new_key(key);
		json_object_object_add(req, "key", json_object_new_string(key));
	}
	/* check the rest first: a missing --reason should not cost a round trip */
	if (need_version && !args_has(a, "version"))
		json_object_object_add(req, "version", json_object_new_int(1));
	rc = rpc_check(ctl, req);
	/* a role that may never do this is told so before the ticket is read */
	if (rc == 0)
		rc = allow_action(ctl, fmt_str(req, "op"));
	if (rc == 0 && need_version && !args_has(a, "version")) {
		rc = act_version(ctl, ticket, &version);
		if (rc != 0)
			return rc;
		json_object_object_add(req, "version", json_object_new_int64(version));
	}
	if (rc == 0)
		rc = rpc_check(ctl, req);
	if (rc == 0)
		rc = act_photos(ctl, req, a);
	if (rc == 0)
		rc = rpc_call(ctl, req, &res);
	if (rc == 0) {
		if (ctl->json)
			cmd_print_json(res);
		else
			act_print(ctl, res);
	}
	json_object_put(res);
	return rc;
}

/* Runs the simple actions: op on ticket ID with the given text options. */
static int act_simple(struct ctl *ctl, const struct args *a, const char *op,
                      const char *const *texts, bool need_version)
{
	json_object *req = rpc_new(op);
	long long ticket;
	int rc = args_pos_int(a, 0, "ID", &ticket);

	for (int i = 0; rc == 0 && texts != NULL && texts[i] != NULL; i++)
		act_text(req, a, texts[i], texts[i]);
	if (rc == 0)
		rc = act_send(ctl, a, req, ticket, need_version);
	json_object_put(req);
	return rc;
}

int cmd_report(struct ctl *ctl, const struct args *a)
{
	json_object *req = rpc_new("report");
	long long id;
	int rc = 0;

	if (!args_has(a, "category") || !args_has(a, "grid") || !args_has(a, "description")) {
		json_object_put(req);
		return fail_usage(a->cmd->name, "--category, --grid and --description are needed");
	}
	rc = allow_action(ctl, "report");
	if (rc == 0)
		rc = ref_resolve(ctl, REF_CATEGORY, args_get(a, "category"), "category", &id);
	if (rc == 0) {
		json_object_object_add(req, "category", json_object_new_int64(id));
		rc = ref_resolve(ctl, REF_GRID, args_get(a, "grid"), "grid", &id);
	}
	if (rc == 0) {
		json_object_object_add(req, "grid", json_object_new_int64(id));
		act_text(req, a, "description", "description");
		act_text(req, a, "address", "address");
		rc = act_num(req, a, "lat", "lat");
	}
	if (rc == 0)
		rc = act_num(req, a, "lon", "lon");
	if (rc == 0 && args_has(a, "lat") != args_has(a, "lon"))
		rc = fail_usage(a->cmd->name, "--lat and --lon go together");
	if (rc == 0 && args_has(a, "urgent"))
		json_object_object_add(req, "urgent", json_object_new_boolean(1));
	if (rc == 0)
		rc = act_send(ctl, a, req, 0, false);
	json_object_put(req);
	return rc;
}

int cmd_dispatch(struct ctl *ctl, const struct args *a)
{
	json_object *req = rpc_new("dispatch"), *res = NULL;
	long long ticket, dept = 0;
	char nb[32];
	int rc = args_pos_int(a, 0, "ID", &ticket);

	/* before route: a collector is not shown a department it cannot send to */
	if (rc == 0)
		rc = allow_action(ctl, "dispatch");
	if (rc == 0 && args_has(a, "to")) {
		rc = ref_resolve(ctl, REF_DEPARTMENT, args_get(a, "to"), "to", &dept);
	} else if (rc == 0) {
		json_object *rq = rpc_new("route");

		json_object_object_add(rq, "ticket", json_object_new_int64(ticket));
		rc = rpc_call(ctl, rq, &res);
		json_object_put(rq);
		dept = rc == 0 ? fmt_int(fmt_get(res, "department"), "id", 0) : 0;
		if (rc == 0 && dept <= 0)
			rc = fail(EX_DATAERR,
			          "no routing rule chooses a department for ticket %lld; name one "
			          "with --to DEPT (streetctl departments lists them)",
			          ticket);
		if (rc == 0 && !ctl->json)
			out_line(stdout, "routed to %s (%s)",
			         fmt_str(fmt_get(res, "department"), "name"),
			         fmt_str(fmt_get(res, "department"), "code"));
		json_object_put(res);
	}
	if (rc == 0 && args_has(a, "to") && !ctl->json && ref_load(ctl, REF_DEPARTMENT) == 0)
		out_line(stdout, "sending to %s",
		         ref_name(ctl, REF_DEPARTMENT, dept, nb, sizeof(nb)));
	if (rc == 0) {
		/* the department shown is the one sent, even if the rules change meanwhile */
		json_object_object_add(req, "department", json_object_new_int64(dept));
		act_text(req, a, "note", "note");
		rc = act_send(ctl, a, req, ticket, true);
	}
	json_object_put(req);
	return rc;
}

int cmd_accept(struct ctl *ctl, const struct args *a)
{
	return act_simple(ctl, a, "accept", NULL, true);
}

/* Adds --department (a code or an id) as "department", if given; 0 or an exit code. */
static int act_department(struct ctl *ctl, json_object *req, const struct args *a)
{
	long long dept = 0;
	int rc;

	if (!args_has(a, "department"))
		return 0;
	rc = ref_resolve(ctl, REF_DEPARTMENT, args_get(a, "department"), "department", &dept);
	if (rc == 0)
		json_object_object_add(req, "department", json_object_new_int64(dept));
	return rc;
}

int cmd_return(struct ctl *ctl, const struct args *a)
{
	json_object *req = rpc_new("return");
	long long ticket;
	int rc = args_pos_int(a, 0, "ID", &ticket);

	if (rc == 0 && (!args_has(a, "reason") || !args_has(a, "department")))
		rc = fail_usage(a->cmd->name,
		                "--reason TEXT and --department DEPT (the department you believe "
		                "responsible; streetctl departments lists them) are required");
	if (rc == 0)
		rc = allow_action(ctl, "return");
	if (rc == 0)
		rc = act_department(ctl, req, a);
	if (rc == 0) {
		act_text(req, a, "reason", "reason");
		rc = act_send(ctl, a, req, ticket, true);
	}
	json_object_put(req);
	return rc;
}

int cmd_resolve(struct ctl *ctl, const struct args *a)
{
	static const char *const t[] = { "note", NULL };

	return act_simple(ctl, a, "resolve", t, true);
}

int cmd_confirm(struct ctl *ctl, const struct args *a)
{
	static const char *const t[] = { "comment", NULL };
	json_object *req = rpc_new("confirm");
	long long ticket;
	int rc = args_pos_int(a, 0, "ID", &ticket);

	if (rc == 0 && !args_has(a, "rating"))
		rc = fail_usage(a->cmd->name, "--rating is required (1 to 5)");
	if (rc == 0)
		rc = act_int(req, a, "rating", "rating");
	for (int i = 0; rc == 0 && t[i] != NULL; i++)
		act_text(req, a, t[i], t[i]);
	if (rc == 0)
		rc = act_send(ctl, a, req, ticket, true);
	json_object_put(req);
	return rc;
}

int cmd_reopen(struct ctl *ctl, const struct args *a)
{
	static const char *const t[] = { "reason", NULL };

	return act_simple(ctl, a, "reopen", t, true);
}

int cmd_cancel(struct ctl *ctl, const struct args *a)
{
	static const char *const t[] = { "reason", NULL };
	json_object *req = rpc_new("cancel");
	long long ticket;
	int rc = args_pos_int(a, 0, "ID", &ticket);

	if (rc == 0 && !args_has(a, "reason") && !args_has(a, "duplicate-of"))
		rc = fail_usage(a->cmd->name,
		                "--reason is required unless --duplicate-of is given");
	if (rc == 0)
		rc = act_int(req, a, "duplicate-of", "duplicate_of");
	for (int i = 0; rc == 0 && t[i] != NULL; i++)
		act_text(req, a, t[i], t[i]);
	if (rc == 0)
		rc = act_send(ctl, a, req, ticket, true);
	json_object_put(req);
	return rc;
}

int cmd_urge(struct ctl *ctl, const struct args *a)
{
	static const char *const t[] = { "note", NULL };

	return act_simple(ctl, a, "urge", t, false);
}

int cmd_extend(struct ctl *ctl, const struct args *a)
{
	static const char *const ask[] = { "until", "reason", NULL };
	static const char *const decide[] = { "note", NULL };
	bool grant = args_has(a, "grant"), deny = args_has(a, "deny");
	bool asking = args_has(a, "until") || args_has(a, "reason");

	if ((grant && deny) || ((grant || deny) && asking))
		return fail_usage(a->cmd->name,
		                  "use either --until/--reason (ask), --grant or --deny");
	if (grant || deny)
		return act_simple(ctl, a, grant ? "extend_grant" : "extend_deny", decide, false);
	if (args_has(a, "note"))
		return fail_usage(a->cmd->name, "--note goes with --grant or --deny; a request "
		                                "takes --reason");
	if (!args_has(a, "until") || !args_has(a, "reason"))
		return fail_usage(a->cmd->name, "a request needs --until TIME and --reason TEXT");
	return act_simple(ctl, a, "extend_request", ask, false);
}

int cmd_comment(struct ctl *ctl, const struct args *a)
{
	json_object *req = rpc_new("comment");
	long long ticket;
	int rc = args_pos_int(a, 0, "ID", &ticket);

	if (rc == 0) {
		json_object_object_add(req, "text", json_object_new_string(a->pos[1]));
		rc = act_send(ctl, a, req, ticket, false);
	}
	json_object_put(req);
	return rc;
}

int cmd_arbitrate(struct ctl *ctl, const struct args *a)
{
	static const char *const t[] = { "note", NULL };
	json_object *req = rpc_new("arbitrate");
	bool up = args_has(a, "upheld"), rej = args_has(a, "rejected");
	long long ticket;
	int rc = args_pos_int(a, 0, "ID", &ticket);

	if (rc == 0 && up == rej)
		rc = fail_usage(a->cmd->name, "give exactly one of --upheld and --rejected");
	if (rc == 0 && !args_has(a, "return-seq"))
		rc = fail_usage(a->cmd->name,
		                "--return-seq N is required (streetctl show %lld "
		                "shows the return's seq)",
		                ticket);
	if (rc == 0 && rej && args_has(a, "department"))
		rc = fail_usage(a->cmd->name,
		                "--department goes with --upheld; a rejected return goes back to "
		                "the department that returned it");
	if (rc == 0)
		rc = act_int(req, a, "return-seq", "return_seq");
	if (rc == 0)
		rc = act_department(ctl, req, a);
	if (rc == 0) {
		json_object_object_add(req, "upheld", json_object_new_boolean(up));
		for (int i = 0; t[i] != NULL; i++)
			act_text(req, a, t[i], t[i]);
		rc = act_send(ctl, a, req, ticket, false);
	}
	json_object_put(req);
	return rc;
}
