/*
 * The action functions on the real database: the whole loop, then every
 * action x state x actor combination against an oracle built from the C rule
 * table (itself checked against the SQL one by test_rules) and a visibility
 * table written here from DESIGN.md.  Refused actions must leave the ticket,
 * its history and the idempotency keys exactly as they were.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tdb.h"
#include "ticket_fsm.h"

static PGconn *db;

/* Demo and fixture ids, looked up once per test. */
static int grid_home, grid_other_street, category;
static int dept_sthj, dept_cgj, dept_yjgl;

struct actor {
	const char *login;
	enum role role;
	bool reporter;  /* wang.fang reports every fixture ticket */
	bool own_place; /* street: the ticket's street; supervisor: its district */
	bool assigned;  /* department: the one the tickets are routed to */
	bool disabled;
	int id;
};

static struct actor actors[] = {
	{ "wang.fang", ROLE_COLLECTOR, true, false, false, false, 0 },
	{ "zhao.lei", ROLE_COLLECTOR, false, false, false, false, 0 },
	{ "zhang.wei", ROLE_STREET, false, true, false, false, 0 },
	{ "liu.yang", ROLE_STREET, false, false, false, false, 0 },
	{ "yang.min", ROLE_DEPARTMENT, false, false, true, false, 0 },
	{ "chen.jing", ROLE_DEPARTMENT, false, false, false, false, 0 },
	{ "sun.li", ROLE_SUPERVISOR, false, true, false, false, 0 },
	{ "ma.jun", ROLE_SUPERVISOR, false, true, false, false, 0 },
	{ "t.supervisor.other", ROLE_SUPERVISOR, false, false, false, false, 0 },
	{ "admin", ROLE_ADMIN, false, false, false, false, 0 },
	{ "t.disabled", ROLE_STREET, false, true, false, true, 0 },
};
#define NACTORS (sizeof(actors) / sizeof(actors[0]))

static int id_of(const char *login)
{
	for (size_t i = 0; i < NACTORS; i++) {
		if (strcmp(actors[i].login, login) == 0)
			return actors[i].id;
	}
	ck_abort_msg("unknown actor %s", login);
	return 0;
}

static void setup(void)
{
	db = tdb_connect(false);
	grid_home = tdb_grid(db, "jg-yanan-02");
	grid_other_street = tdb_grid(db, "bn-beijingnan-01");
	category = tdb_category(db, "pollution.dust");
	dept_sthj = tdb_department(db, "sthj");
	dept_cgj = tdb_department(db, "cgj");
	dept_yjgl = tdb_department(db, "yjgl");
	for (size_t i = 0; i < NACTORS; i++)
		actors[i].id = tdb_account(db, actors[i].login);
}

static void teardown(void)
{
	PQfinish(db);
}

/* ---- calling actions ---- */

static unsigned long marker_counter;

static void report(const char *login, int grid, const char *key, struct tdb_outcome *o)
{
	const char *p[] = { tdb_fmt("%d", id_of(login)),
		            tdb_fmt("%d", category),
		            tdb_fmt("%d", grid),
		            tdb_fmt("matrix %d-%lu", (int)getpid(), ++marker_counter),
		            "延安北路 1 号",
		            NULL,
		            NULL,
		            NULL,
		            NULL,
		            NULL,
		            key };

	tdb_call(db, "st_report", 11, p, o);
}

/* Takes an action with valid arguments; version < 0 means "the ticket's own". */
static void act(enum ticket_action a, int actor, long long ticket, int version,
                long long return_seq, struct tdb_outcome *o)
{
	const char *id = tdb_fmt("%d", actor), *t = tdb_fmt("%lld", ticket);
	const char *v = tdb_fmt("%d", version);

	switch (a) {
	case ACT_DISPATCH: {
		const char *p[] = { id, t, v, NULL, "请处理", NULL };
		tdb_call(db, "st_dispatch", 6, p, o);
		break;
	}
	case ACT_RETURN: {
		/* names cgj as responsible (fixtures are sthj's) */
		const char *p[] = { id, t, v, "不属于本部门职责", tdb_fmt("%d", dept_cgj), NULL };
		tdb_call(db, "st_return", 6, p, o);
		break;
	}
	case ACT_ACCEPT: {
		const char *p[] = { id, t, v, NULL };
		tdb_call(db, "st_accept", 4, p, o);
		break;
	}
	case ACT_RESOLVE: {
		const char *p[] = { id, t, v, "已整改完毕", NULL, NULL };
		tdb_call(db, "st_resolve", 6, p, o);
		break;
	}
	case ACT_CONFIRM: {
		const char *p[] = { id, t, v, "4", "满意", NULL };
		tdb_call(db, "st_confirm", 6, p, o);
		break;
	}
	case ACT_REOPEN: {
		const char *p[] = { id, t, v, "问题仍然存在", NULL };
		tdb_call(db, "st_reopen", 5, p, o);
		break;
	}
	case ACT_CANCEL: {
		const char *p[] = { id, t, v, "重复上报", NULL, NULL };
		tdb_call(db, "st_cancel", 6, p, o);
		break;
	}
	case ACT_URGE: {
		const char *p[] = { id, t, "请尽快办理", v, NULL };
		tdb_call(db, "st_urge", 5, p, o);
		break;
	}
	case ACT_EXTEND_REQUEST: {
		const char *p[] = { id, t, "2099-01-01 00:00+08", "需要采购材料", v, NULL };
		tdb_call(db, "st_extend_request", 6, p, o);
		break;
	}
	case ACT_EXTEND_GRANT: {
		const char *p[] = { id, t, "同意", v, NULL };
		tdb_call(db, "st_extend_grant", 5, p, o);
		break;
	}
	case ACT_EXTEND_DENY: {
		const char *p[] = { id, t, "不同意", v, NULL };
		tdb_call(db, "st_extend_deny", 5, p, o);
		break;
	}
	case ACT_COMMENT: {
		const char *p[] = { id, t, "补充情况", v, NULL };
		tdb_call(db, "st_comment", 5, p, o);
		break;
	}
	case ACT_ARBITRATE: {
		const char *p[] = { id,   t,   tdb_fmt("%lld", return_seq), "true", "退单合理", v,
			            NULL, NULL };
		tdb_call(db, "st_arbitrate", 8, p, o);
		break;
	}
	default:
		ck_abort_msg("act: %s is not an account's action", ticket_action_name(a));
	}
}

static void must(const struct tdb_outcome *o, const char *what)
{
	ck_assert_msg(o->ok, "%s failed: %s %s", what, o->sqlstate, o->message);
}

/* ---- fixtures: a ticket in a given state, reached by the legal path ---- */

struct fixture {
	long long id;
	int version;
	long long return_seq; /* every fixture has been returned once */
	enum ticket_state state;
};

static void step(struct fixture *f, enum ticket_action a, const char *login)
{
	struct tdb_outcome o;

	act(a, id_of(login), f->id, f->version, f->return_seq, &o);
	must(&o, ticket_action_name(a));
	f->version = o.version;
	if (a == ACT_RETURN)
		f->return_seq = o.seq;
}

static void make_fixture(enum ticket_state s, bool pending_extension, struct fixture *f)
{
	struct tdb_outcome o;

	report("wang.fang", grid_home, NULL, &o);
	must(&o, "report");
	f->id = o.ticket;
	f->version = o.version;
	step(f, ACT_DISPATCH, "zhang.wei");
	step(f, ACT_RETURN, "yang.min");
	if (s == TICKET_CANCELLED)
		step(f, ACT_CANCEL, "zhang.wei");
	if (s >= TICKET_DISPATCHED && s != TICKET_CANCELLED)
		step(f, ACT_DISPATCH, "zhang.wei");
	if (s >= TICKET_ACCEPTED && s != TICKET_CANCELLED)
		step(f, ACT_ACCEPT, "yang.min");
	if (s == TICKET_ACCEPTED && pending_extension)
		step(f, ACT_EXTEND_REQUEST, "yang.min");
	if (s >= TICKET_RESOLVED && s != TICKET_CANCELLED)
		step(f, ACT_RESOLVE, "yang.min");
	if (s == TICKET_CLOSED)
		step(f, ACT_CONFIRM, "wang.fang");
	f->state = s;
}

/* Everything about a ticket that an action could change, as text. */
static char *snapshot(long long ticket)
{
	const char *p[] = { tdb_fmt("%lld", ticket) };

	return tdb_str(db,
	               "SELECT t::text || '|' || (SELECT count(*) FROM ticket_event e"
	               " WHERE e.ticket_id = t.id) || '|' || (SELECT count(*) FROM idempotency i"
	               " WHERE i.ticket_id = t.id)"
	               " FROM ticket t WHERE t.id = $1",
	               1, p);
}

/* ---- the oracle ---- */

static bool visible(const struct actor *a, enum ticket_state s)
{
	switch (a->role) {
	case ROLE_COLLECTOR:
		return a->reporter;
	case ROLE_STREET:
	case ROLE_SUPERVISOR:
		return a->own_place;
	case ROLE_DEPARTMENT:
		/* assigned from dispatch on; reported and cancelled fixtures have no department */
		return a->assigned && s != TICKET_REPORTED && s != TICKET_CANCELLED;
	default:
		return false;
	}
}

/* The SQLSTATE an action must end with ("" for success). */
static const char *expect(const struct actor *a, enum ticket_action act, enum ticket_state s)
{
	if (a->disabled)
		return "SD403";
	if (!visible(a, s))
		return "SD404";
	if (!ticket_role_may(act, a->role))
		return "SD403";
	if (!ticket_rule_find(act, s, a->role))
		return "SD412";
	return "";
}

START_TEST(whole_loop)
{
	struct tdb_outcome o;
	struct fixture f = { 0 };
	char *history, idbuf[32];
	const char *p[] = { idbuf };

	report("wang.fang", grid_home, NULL, &o);
	must(&o, "report");
	ck_assert_str_eq(o.state, "reported");
	ck_assert_int_eq(o.version, 1);
	f.id = o.ticket;
	f.version = 1;
	snprintf(idbuf, sizeof(idbuf), "%lld", f.id);
	/* dispatch goes to the routed department (pollution.dust -> sthj) */
	step(&f, ACT_DISPATCH, "zhang.wei");
	ck_assert_int_eq(tdb_int(db, "SELECT department_id FROM ticket WHERE id = $1", 1, p),
	                 dept_sthj);
	step(&f, ACT_ACCEPT, "yang.min");
	step(&f, ACT_EXTEND_REQUEST, "yang.min");
	step(&f, ACT_EXTEND_GRANT, "sun.li");
	ck_assert_int_eq(
	        tdb_int(db,
	                "SELECT (due_at = '2099-01-01 00:00+08')::int FROM ticket WHERE id = $1", 1,
	                p),
	        1);
	step(&f, ACT_URGE, "zhang.wei");
	step(&f, ACT_RESOLVE, "yang.min");
	step(&f, ACT_REOPEN, "wang.fang");
	step(&f, ACT_RESOLVE, "yang.min");
	step(&f, ACT_COMMENT, "ma.jun");
	step(&f, ACT_CONFIRM, "wang.fang");
	ck_assert_int_eq(f.version, 7);

	history = tdb_str(
	        db,
	        "SELECT string_agg(action || ':' || coalesce(from_state::text, '-') || '>' ||"
	        " to_state || ':' || version, ' ' ORDER BY seq) FROM ticket_event"
	        " WHERE ticket_id = $1",
	        1, p);
	ck_assert_str_eq(history, "report:->reported:1 dispatch:reported>dispatched:2 "
	                          "accept:dispatched>accepted:3 extend_request:accepted>accepted:3 "
	                          "extend_grant:accepted>accepted:3 urge:accepted>accepted:3 "
	                          "resolve:accepted>resolved:4 reopen:resolved>accepted:5 "
	                          "resolve:accepted>resolved:6 comment:resolved>resolved:6 "
	                          "confirm:resolved>closed:7");
	free(history);
	ck_assert_int_eq(
	        tdb_int(db,
	                "SELECT count(*) FROM ticket WHERE id = $1 AND state = 'closed' AND"
	                " rating = 4 AND close_kind = 'confirmed' AND reopen_count = 1 AND"
	                " urge_count = 1 AND due_at IS NULL AND closed_at IS NOT NULL",
	                1, p),
	        1);
	/* every event names its actor and carries the ticket's scope */
	ck_assert_int_eq(
	        tdb_int(db,
	                "SELECT count(*) FROM ticket_event e JOIN ticket t ON t.id = e.ticket_id"
	                " WHERE e.ticket_id = $1 AND e.actor_id IS NOT NULL AND"
	                " e.street_id = t.street_id AND e.district_id = t.district_id AND"
	                " e.reporter_id = t.reporter_id",
	                1, p),
	        11);
}
END_TEST

START_TEST(return_and_cancel_paths)
{
	struct tdb_outcome o;
	struct fixture f, g;
	char idbuf[32];
	const char *p[] = { idbuf };

	make_fixture(TICKET_REPORTED, false, &f);
	snprintf(idbuf, sizeof(idbuf), "%lld", f.id);
	/* the return event names the returning department; the ticket has none now */
	ck_assert_int_eq(tdb_int(db, "SELECT department_id FROM ticket_event WHERE seq = $1", 1,
	                         (const char *[]){ tdb_fmt("%lld", f.return_seq) }),
	                 dept_sthj);
	ck_assert_int_eq(tdb_int(db,
	                         "SELECT count(*) FROM ticket WHERE id = $1 AND"
	                         " department_id IS NULL AND return_count = 1",
	                         1, p),
	                 1);
	/* the department that returned it no longer sees it */
	act(ACT_COMMENT, id_of("yang.min"), f.id, f.version, 0, &o);
	ck_assert_str_eq(o.sqlstate, "SD404");
	/* a supervisor upholds the return, once: it goes to the department it named */
	act(ACT_ARBITRATE, id_of("sun.li"), f.id, f.version, f.return_seq, &o);
	must(&o, "arbitrate");
	ck_assert_str_eq(o.state, "dispatched");
	f.version = o.version;
	act(ACT_ARBITRATE, id_of("ma.jun"), f.id, f.version, f.return_seq, &o);
	ck_assert_str_eq(o.sqlstate, "SD412");
	/* cancelled as a duplicate of another ticket */
	make_fixture(TICKET_REPORTED, false, &g);
	{
		const char *cp[] = { tdb_fmt("%d", id_of("zhang.wei")),
			             tdb_fmt("%lld", g.id),
			             tdb_fmt("%d", g.version),
			             NULL,
			             tdb_fmt("%lld", f.id),
			             NULL };
		tdb_call(db, "st_cancel", 6, cp, &o);
	}
	must(&o, "cancel as duplicate");
	ck_assert_str_eq(o.state, "cancelled");
	ck_assert_int_eq(tdb_int(db, "SELECT duplicate_of FROM ticket WHERE id = $1", 1,
	                         (const char *[]){ tdb_fmt("%lld", g.id) }),
	                 f.id);
}
END_TEST

/* Every action by every actor from every state. */
START_TEST(matrix)
{
	static const enum ticket_action actions[] = {
		ACT_DISPATCH,    ACT_RETURN,  ACT_ACCEPT,    ACT_RESOLVE,        ACT_CONFIRM,
		ACT_REOPEN,      ACT_CANCEL,  ACT_URGE,      ACT_EXTEND_REQUEST, ACT_EXTEND_GRANT,
		ACT_EXTEND_DENY, ACT_COMMENT, ACT_ARBITRATE,
	};
	struct fixture cache[TICKET_STATE_COUNT][2];
	bool have[TICKET_STATE_COUNT][2] = { { false } };
	int allowed = 0, refused = 0;

	for (size_t ai = 0; ai < sizeof(actions) / sizeof(actions[0]); ai++) {
		enum ticket_action a = actions[ai];
		bool pending = a == ACT_EXTEND_GRANT || a == ACT_EXTEND_DENY;

		for (int s = 0; s < TICKET_STATE_COUNT; s++) {
			for (size_t k = 0; k < NACTORS; k++) {
				const struct actor *who = &actors[k];
				struct fixture *f = &cache[s][pending];
				const char *want = expect(who, a, s);
				struct tdb_outcome o;
				char *before, *after;

				if (!have[s][pending]) {
					make_fixture(s, pending, f);
					have[s][pending] = true;
				}
				before = snapshot(f->id);
				act(a, who->id, f->id, f->version, f->return_seq, &o);
				if (*want) {
					ck_assert_msg(!o.ok && strcmp(o.sqlstate, want) == 0,
					              "%s by %s from %s: want %s, got %s %s",
					              ticket_action_name(a), who->login,
					              ticket_state_name(s), want,
					              o.ok ? "success" : o.sqlstate, o.message);
					after = snapshot(f->id);
					ck_assert_str_eq(before, after);
					free(after);
					refused++;
				} else {
					const struct ticket_rule *r =
					        ticket_rule_find(a, s, who->role);
					const char *p[] = { tdb_fmt("%lld", o.seq) };
					char *ev;

					ck_assert_msg(o.ok,
					              "%s by %s from %s: want success, got %s %s",
					              ticket_action_name(a), who->login,
					              ticket_state_name(s), o.sqlstate, o.message);
					ck_assert_str_eq(o.state, ticket_state_name(r->to));
					ck_assert_int_eq(o.version,
					                 f->version + (r->to != r->from ? 1 : 0));
					ev = tdb_str(db,
					             "SELECT action || ' ' || from_state || ' ' || "
					             "to_state"
					             " || ' ' || actor_id FROM ticket_event WHERE "
					             "seq = $1",
					             1, p);
					ck_assert_str_eq(
					        ev, tdb_fmt("%s %s %s %d", ticket_action_name(a),
					                    ticket_state_name(s),
					                    ticket_state_name(r->to), who->id));
					free(ev);
					have[s][pending] = false; /* it moved on: make a new one */
					allowed++;
				}
				free(before);
			}
		}
	}
	/* every rule of an account's role was exercised from its state, by an actor in scope */
	ck_assert_int_eq(allowed, 66);
	ck_assert_int_eq(refused, 13 * TICKET_STATE_COUNT * (int)NACTORS - 66);
}
END_TEST

START_TEST(report_matrix)
{
	for (size_t k = 0; k < NACTORS; k++) {
		const struct actor *who = &actors[k];
		bool may = !who->disabled && ((who->role == ROLE_COLLECTOR && who->reporter) ||
		                              (who->role == ROLE_STREET && who->own_place));
		const char *p[] = { tdb_fmt("matrix %d-%lu", (int)getpid(), marker_counter + 1) };
		struct tdb_outcome o;
		long long n;

		report(who->login, grid_home, NULL, &o);
		n = tdb_int(db, "SELECT count(*) FROM ticket WHERE description = $1", 1, p);
		if (may) {
			must(&o, who->login);
			ck_assert_str_eq(o.state, "reported");
			ck_assert_int_eq(n, 1);
		} else {
			ck_assert_msg(!o.ok && strcmp(o.sqlstate, "SD403") == 0,
			              "report by %s: want SD403, got %s %s", who->login,
			              o.ok ? "success" : o.sqlstate, o.message);
			ck_assert_int_eq(n, 0);
		}
	}
	/* a collector outside their grids, a street outside its street */
	{
		struct tdb_outcome o;

		report("wang.fang", grid_other_street, NULL, &o);
		ck_assert_str_eq(o.sqlstate, "SD403");
		report("zhang.wei", grid_other_street, NULL, &o);
		ck_assert_str_eq(o.sqlstate, "SD403");
		report("liu.yang", grid_other_street, NULL, &o);
		must(&o, "liu.yang in beijingnanlu");
	}
}
END_TEST

/* A stale version is a conflict for every state change, and changes nothing. */
START_TEST(stale_version_conflicts)
{
	static const struct {
		enum ticket_action a;
		enum ticket_state s;
		const char *login;
	} cases[] = {
		{ ACT_DISPATCH, TICKET_REPORTED, "zhang.wei" },
		{ ACT_CANCEL, TICKET_REPORTED, "zhang.wei" },
		{ ACT_RETURN, TICKET_DISPATCHED, "yang.min" },
		{ ACT_ACCEPT, TICKET_DISPATCHED, "yang.min" },
		{ ACT_RESOLVE, TICKET_ACCEPTED, "yang.min" },
		{ ACT_CONFIRM, TICKET_RESOLVED, "wang.fang" },
		{ ACT_REOPEN, TICKET_RESOLVED, "zhang.wei" },
		{ ACT_URGE, TICKET_ACCEPTED, "sun.li" },
		{ ACT_COMMENT, TICKET_CLOSED, "wang.fang" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct fixture f;
		struct tdb_outcome o;
		char *before, *after;

		make_fixture(cases[i].s, false, &f);
		before = snapshot(f.id);
		act(cases[i].a, id_of(cases[i].login), f.id, f.version - 1, f.return_seq, &o);
		ck_assert_msg(!o.ok && strcmp(o.sqlstate, "SD409") == 0,
		              "%s: want SD409, got %s %s", ticket_action_name(cases[i].a),
		              o.ok ? "success" : o.sqlstate, o.message);
		ck_assert_ptr_nonnull(strstr(o.message, "refresh and try again"));
		after = snapshot(f.id);
		ck_assert_str_eq(before, after);
		free(before);
		free(after);
	}
}
END_TEST

/* Bad arguments: a clear SD400 and nothing written. */
START_TEST(bad_arguments)
{
	static const struct {
		const char *func;
		enum ticket_state s;
		const char *login;
		int nparams;
		const char *params[8]; /* "$T" ticket, "$V" version, "$A" actor */
		const char *message;
	} cases[] = {
		{ "st_return",
		  TICKET_DISPATCHED,
		  "yang.min",
		  4,
		  { "$A", "$T", "$V", "  " },
		  "a reason is required" },
		{ "st_resolve",
		  TICKET_ACCEPTED,
		  "yang.min",
		  4,
		  { "$A", "$T", "$V", NULL },
		  "a resolution note is required" },
		{ "st_confirm",
		  TICKET_RESOLVED,
		  "wang.fang",
		  5,
		  { "$A", "$T", "$V", "6", "x" },
		  "rating from 1 to 5" },
		{ "st_confirm",
		  TICKET_RESOLVED,
		  "wang.fang",
		  5,
		  { "$A", "$T", "$V", "0", "x" },
		  "rating from 1 to 5" },
		{ "st_confirm",
		  TICKET_RESOLVED,
		  "wang.fang",
		  5,
		  { "$A", "$T", "$V", NULL, "x" },
		  "rating from 1 to 5" },
		{ "st_reopen",
		  TICKET_RESOLVED,
		  "wang.fang",
		  4,
		  { "$A", "$T", "$V", "" },
		  "a reason is required" },
		{ "st_cancel",
		  TICKET_REPORTED,
		  "zhang.wei",
		  5,
		  { "$A", "$T", "$V", NULL, NULL },
		  "a reason is required" },
		{ "st_cancel",
		  TICKET_REPORTED,
		  "zhang.wei",
		  5,
		  { "$A", "$T", "$V", "dup", "$T" },
		  "not a ticket this one can duplicate" },
		{ "st_dispatch",
		  TICKET_REPORTED,
		  "zhang.wei",
		  4,
		  { "$A", "$T", "$V", "999999" },
		  "does not exist or is inactive" },
		{ "st_dispatch",
		  TICKET_REPORTED,
		  "zhang.wei",
		  3,
		  { "$A", "$T", NULL },
		  "needs the ticket's version" },
		{ "st_extend_request",
		  TICKET_ACCEPTED,
		  "yang.min",
		  4,
		  { "$A", "$T", "2001-01-01", "r" },
		  "later than the current one" },
		{ "st_extend_request",
		  TICKET_ACCEPTED,
		  "yang.min",
		  4,
		  { "$A", "$T", "2099-01-01", "" },
		  "a reason is required" },
		{ "st_comment",
		  TICKET_CLOSED,
		  "wang.fang",
		  3,
		  { "$A", "$T", " " },
		  "the comment is required" },
		{ "st_arbitrate",
		  TICKET_REPORTED,
		  "sun.li",
		  4,
		  { "$A", "$T", "1", "true" },
		  "is not a return of ticket" },
		{ "st_arbitrate",
		  TICKET_REPORTED,
		  "sun.li",
		  4,
		  { "$A", "$T", "$R", NULL },
		  "upheld (true or false) is required" },
		/* a return names another, active department; a ruling sends it to one */
		{ "st_return",
		  TICKET_DISPATCHED,
		  "yang.min",
		  5,
		  { "$A", "$T", "$V", "r", NULL },
		  "names the department responsible" },
		{ "st_return",
		  TICKET_DISPATCHED,
		  "yang.min",
		  5,
		  { "$A", "$T", "$V", "r", "$S" },
		  "another department than the one returning it" },
		{ "st_return",
		  TICKET_DISPATCHED,
		  "yang.min",
		  5,
		  { "$A", "$T", "$V", "r", "999999" },
		  "department 999999 does not exist or is inactive" },
		{ "st_arbitrate",
		  TICKET_REPORTED,
		  "sun.li",
		  7,
		  { "$A", "$T", "$R", "true", NULL, NULL, "$S" },
		  "does not go back to the department that returned it" },
		{ "st_arbitrate",
		  TICKET_REPORTED,
		  "sun.li",
		  7,
		  { "$A", "$T", "$R", "false", NULL, NULL, "$C" },
		  "a rejected return goes back to the department that returned it" },
		{ "st_arbitrate",
		  TICKET_REPORTED,
		  "sun.li",
		  7,
		  { "$A", "$T", "$R", "true", NULL, NULL, "999999" },
		  "department 999999 does not exist or is inactive" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct fixture f;
		struct tdb_outcome o;
		const char *p[8];
		char *before, *after;

		make_fixture(cases[i].s, false, &f);
		for (int k = 0; k < cases[i].nparams; k++) {
			const char *v = cases[i].params[k];

			if (v && strcmp(v, "$T") == 0)
				v = tdb_fmt("%lld", f.id);
			else if (v && strcmp(v, "$V") == 0)
				v = tdb_fmt("%d", f.version);
			else if (v && strcmp(v, "$A") == 0)
				v = tdb_fmt("%d", id_of(cases[i].login));
			else if (v && strcmp(v, "$R") == 0)
				v = tdb_fmt("%lld", f.return_seq);
			else if (v && strcmp(v, "$S") == 0)
				v = tdb_fmt("%d", dept_sthj);
			else if (v && strcmp(v, "$C") == 0)
				v = tdb_fmt("%d", dept_cgj);
			p[k] = v;
		}
		before = snapshot(f.id);
		tdb_call(db, cases[i].func, cases[i].nparams, p, &o);
		ck_assert_msg(!o.ok && strcmp(o.sqlstate, "SD400") == 0, "%s case %zu: got %s %s",
		              cases[i].func, i, o.ok ? "success" : o.sqlstate, o.message);
		ck_assert_msg(strstr(o.message, cases[i].message), "case %zu: message '%s'", i,
		              o.message);
		after = snapshot(f.id);
		ck_assert_str_eq(before, after);
		free(before);
		free(after);
	}
}
END_TEST

START_TEST(bad_reports)
{
	static const struct {
		const char *params[11]; /* $A is wang.fang, $G her grid, $C the category */
		const char *message;
	} cases[] = {
		{ { "$A", "999999", "$G", "x", NULL, NULL, NULL, NULL, NULL, NULL },
		  "category 999999 does not exist" },
		{ { "$A", "$C", "999999", "x", NULL, NULL, NULL, NULL, NULL, NULL },
		  "grid 999999 does not exist" },
		{ { "$A", "$C", "$G", "   ", NULL, NULL, NULL, NULL, NULL, NULL },
		  "a description is required" },
		{ { "$A", "$C", "$G", "x", NULL, "44", NULL, NULL, NULL, NULL }, "go together" },
		{ { "$A", "$C", "$G", "x", NULL, "91", "87", NULL, NULL, NULL },
		  "latitude is -90..90" },
		{ { "$A", "$C", "$G", "x", NULL, "NaN", "87", NULL, NULL, NULL },
		  "latitude is -90..90" },
		{ { "$A", "$C", "$G", "x", NULL, "44", "Infinity", NULL, NULL, NULL },
		  "latitude is -90..90" },
		{ { "$A", "$C", "$G", "x", NULL, NULL, NULL, NULL, NULL, NULL, "" },
		  "1 to 100 characters" },
	};
	char *longtext = malloc(4002);
	long long before = tdb_int(db, "SELECT count(*) FROM ticket", 0, NULL);

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *p[11];
		struct tdb_outcome o;

		for (int k = 0; k < 11; k++) {
			const char *v = cases[i].params[k];

			if (v && strcmp(v, "$A") == 0)
				v = tdb_fmt("%d", id_of("wang.fang"));
			else if (v && strcmp(v, "$G") == 0)
				v = tdb_fmt("%d", grid_home);
			else if (v && strcmp(v, "$C") == 0)
				v = tdb_fmt("%d", category);
			p[k] = v;
		}
		tdb_call(db, "st_report", 11, p, &o);
		ck_assert_msg(!o.ok && strcmp(o.sqlstate, "SD400") == 0, "case %zu: got %s %s", i,
		              o.ok ? "success" : o.sqlstate, o.message);
		ck_assert_msg(strstr(o.message, cases[i].message), "case %zu: message '%s'", i,
		              o.message);
	}
	memset(longtext, 'x', 4001);
	longtext[4001] = 0;
	{
		const char *p[] = { tdb_fmt("%d", id_of("wang.fang")),
			            tdb_fmt("%d", category),
			            tdb_fmt("%d", grid_home),
			            longtext,
			            NULL,
			            NULL,
			            NULL,
			            NULL,
			            NULL,
			            NULL };
		struct tdb_outcome o;

		tdb_call(db, "st_report", 10, p, &o);
		ck_assert_str_eq(o.sqlstate, "SD400");
		ck_assert_ptr_nonnull(strstr(o.message, "longer than 4000"));
	}
	free(longtext);
	/* no ticket of this test's marker appeared (others run in parallel: count ours) */
	ck_assert_int_eq(
	        tdb_int(db, "SELECT count(*) FROM ticket WHERE description = 'x'", 0, NULL), 0);
	ck_assert_int_ge(tdb_int(db, "SELECT count(*) FROM ticket", 0, NULL), before);
}
END_TEST

START_TEST(idempotent_retries)
{
	struct tdb_outcome a, b, c;
	char key[64];
	struct fixture f;

	snprintf(key, sizeof(key), "report-%d-%ld", (int)getpid(), (long)random());
	report("wang.fang", grid_home, key, &a);
	must(&a, "first report");
	ck_assert(!a.replayed);
	report("wang.fang", grid_home, key, &b);
	must(&b, "retried report");
	ck_assert(b.replayed);
	ck_assert_int_eq(b.ticket, a.ticket);
	ck_assert_int_eq(b.seq, a.seq);
	ck_assert_int_eq(tdb_int(db, "SELECT count(*) FROM ticket_event WHERE ticket_id = $1", 1,
	                         (const char *[]){ tdb_fmt("%lld", a.ticket) }),
	                 1);
	/* the same key for another account is another request */
	{
		const char *p[] = { tdb_fmt("%d", id_of("zhang.wei")),
			            tdb_fmt("%d", category),
			            tdb_fmt("%d", grid_home),
			            "x2",
			            NULL,
			            NULL,
			            NULL,
			            NULL,
			            NULL,
			            NULL,
			            key };
		tdb_call(db, "st_report", 11, p, &c);
		must(&c, "other account, same key");
		ck_assert(!c.replayed);
		ck_assert_int_ne(c.ticket, a.ticket);
	}
	/* a retried dispatch replays even though the version moved on */
	make_fixture(TICKET_REPORTED, false, &f);
	{
		const char *p[] = { tdb_fmt("%d", id_of("zhang.wei")),
			            tdb_fmt("%lld", f.id),
			            tdb_fmt("%d", f.version),
			            NULL,
			            NULL,
			            tdb_fmt("%s-d", key) };
		tdb_call(db, "st_dispatch", 6, p, &a);
		must(&a, "dispatch");
		tdb_call(db, "st_dispatch", 6, p, &b);
		must(&b, "retried dispatch");
		ck_assert(b.replayed);
		ck_assert_int_eq(b.seq, a.seq);
	}
	/* the key of a dispatch used for an accept is refused */
	{
		const char *p[] = { tdb_fmt("%d", id_of("zhang.wei")),
			            tdb_fmt("%lld", f.id),
			            "1",
			            "r",
			            NULL,
			            tdb_fmt("%s-d", key) };
		tdb_call(db, "st_cancel", 6, p, &c);
		ck_assert_str_eq(c.sqlstate, "SD400");
		ck_assert_ptr_nonnull(strstr(c.message, "already used for another request"));
	}
	/* a failed attempt leaves its key unused, so a corrected retry works */
	{
		const char *bad[] = { tdb_fmt("%d", id_of("wang.fang")),
			              tdb_fmt("%d", category),
			              tdb_fmt("%d", grid_home),
			              "",
			              NULL,
			              NULL,
			              NULL,
			              NULL,
			              NULL,
			              NULL,
			              tdb_fmt("%s-r", key) };
		const char *good[] = { bad[0], bad[1], bad[2], "fixed", NULL,   NULL,
			               NULL,   NULL,   NULL,   NULL,    bad[10] };

		tdb_call(db, "st_report", 11, bad, &a);
		ck_assert_str_eq(a.sqlstate, "SD400");
		tdb_call(db, "st_report", 11, good, &b);
		must(&b, "corrected retry");
		ck_assert(!b.replayed);
	}
}
END_TEST

/* A replay answers exactly what the first call answered, never the ticket as
 * it is now: a department that returned a ticket no longer sees it, and must
 * not learn its new department, deadline or state by retrying.  Both the
 * direct call and the group-commit form (st_try) replay. */
static char *outcome_json(const char *sql, int n, const char *const *p, bool *replayed)
{
	PGresult *r = tdb_query(db, sql, n, p);
	char *s;

	ck_assert_msg(PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1 &&
	                      !PQgetisnull(r, 0, 0),
	              "%s: %s", sql, PQerrorMessage(db));
	s = strdup(PQgetvalue(r, 0, 0));
	*replayed = strcmp(PQgetvalue(r, 0, 1), "true") == 0;
	PQclear(r);
	return s;
}

static const char direct_return[] =
        "SELECT (to_jsonb(r) - 'replayed')::text, to_jsonb(r)->>'replayed'"
        " FROM street.st_return($1, $2, $3, $4, $5, $6) r";
static const char try_return[] =
        "SELECT (result::jsonb - 'replayed')::text, result::jsonb->>'replayed'"
        " FROM street.st_try('return', ARRAY[$1, $2, $3, $4, $5, $6])";

START_TEST(replay_returns_first_outcome)
{
	static const char *const first_forms[] = { direct_return, try_return };

	for (int form = 0; form < 2; form++) {
		struct fixture f;
		struct tdb_outcome o;
		char key[64];
		bool replayed;
		char *first, *again;

		make_fixture(TICKET_DISPATCHED, false, &f);
		snprintf(key, sizeof(key), "leak-%d-%d-%ld", form, (int)getpid(), (long)random());
		{
			const char *p[] = { tdb_fmt("%d", id_of("yang.min")), tdb_fmt("%lld", f.id),
				            tdb_fmt("%d", f.version),         "不属于本部门职责",
				            tdb_fmt("%d", dept_cgj),          key };

			first = outcome_json(first_forms[form], 6, p, &replayed);
			ck_assert(!replayed);
			/* the ticket moves on: another department, a new deadline */
			{
				const char *d[] = { tdb_fmt("%d", id_of("zhang.wei")),
					            tdb_fmt("%lld", f.id),
					            tdb_fmt("%d", f.version + 1),
					            tdb_fmt("%d", tdb_department(db, "cgj")),
					            "改派城管",
					            NULL };
				tdb_call(db, "st_dispatch", 6, d, &o);
				must(&o, "dispatch elsewhere");
			}
			again = outcome_json(direct_return, 6, p, &replayed);
			ck_assert(replayed);
			ck_assert_str_eq(again, first);
			free(again);
			again = outcome_json(try_return, 6, p, &replayed);
			ck_assert(replayed);
			ck_assert_str_eq(again, first);
			free(again);
		}
		ck_assert_ptr_null(strstr(first, "改派城管"));
		free(first);
	}
}
END_TEST

/* ---- a ruling on a return binds (issue 13) ---- */

/* A supervisor's ruling on return ret of f; dept 0: none named; key may be NULL. */
static void arbitrate(const char *login, const struct fixture *f, long long ret, bool upheld,
                      int dept, const char *key, struct tdb_outcome *o)
{
	const char *p[] = { tdb_fmt("%d", id_of(login)),
		            tdb_fmt("%lld", f->id),
		            tdb_fmt("%lld", ret),
		            upheld ? "true" : "false",
		            "裁定",
		            NULL,
		            dept ? tdb_fmt("%d", dept) : NULL,
		            key };

	tdb_call(db, "st_arbitrate", 8, p, o);
}

/* "state department version" of a ticket. */
static char *where_is(long long ticket)
{
	return tdb_str(db,
	               "SELECT state || ' ' || coalesce(department_id, 0) || ' ' || version"
	               " FROM ticket WHERE id = $1",
	               1, (const char *[]){ tdb_fmt("%lld", ticket) });
}

static void assert_where(long long ticket, const char *state, int dept, int version)
{
	char *w = where_is(ticket);

	ck_assert_str_eq(w, tdb_fmt("%s %d %d", state, dept, version));
	free(w);
}

/* "action from>to column-department data-department upheld return_seq" of an event. */
static char *event_of(long long seq)
{
	return tdb_str(db,
	               "SELECT action || ' ' || from_state || '>' || to_state || ' ' ||"
	               " coalesce(department_id, 0) || ' ' || coalesce(data->>'department_id', '-')"
	               " || ' ' || coalesce(data->>'upheld', '-') || ' ' ||"
	               " coalesce(data->>'return_seq', '-') FROM ticket_event WHERE seq = $1",
	               1, (const char *[]){ tdb_fmt("%lld", seq) });
}

static void assert_event(long long seq, const char *want)
{
	char *e = event_of(seq);

	ck_assert_str_eq(e, want);
	free(e);
}

/* A street office re-dispatches f to dept. */
static void redispatch(struct fixture *f, int dept)
{
	const char *p[] = { tdb_fmt("%d", id_of("zhang.wei")),
		            tdb_fmt("%lld", f->id),
		            tdb_fmt("%d", f->version),
		            tdb_fmt("%d", dept),
		            NULL,
		            NULL };
	struct tdb_outcome o;

	tdb_call(db, "st_dispatch", 6, p, &o);
	must(&o, "re-dispatch");
	f->version = o.version;
}

/* While the return is pending, the ruling sends the ticket on: upheld to the
 * department the return named or another one, rejected back to the returner;
 * dispatched, with a new accept deadline. */
START_TEST(ruling_on_a_pending_return_moves_the_ticket)
{
	struct fixture f, g, h;
	struct tdb_outcome o;

	/* the return: the column names the returner, the data the one it names */
	make_fixture(TICKET_REPORTED, false, &f);
	assert_event(f.return_seq,
	             tdb_fmt("return dispatched>reported %d %d - -", dept_sthj, dept_cgj));
	assert_where(f.id, "reported", 0, f.version);

	/* upheld: to the department the return named */
	arbitrate("sun.li", &f, f.return_seq, true, 0, NULL, &o);
	must(&o, "upheld");
	ck_assert_str_eq(o.state, "dispatched");
	ck_assert_int_eq(o.version, f.version + 1);
	assert_where(f.id, "dispatched", dept_cgj, f.version + 1);
	assert_event(o.seq, tdb_fmt("arbitrate reported>dispatched %d %d true %lld", dept_cgj,
	                            dept_cgj, f.return_seq));
	/* a new accept deadline, from the ruling, in the event too; no overdue mark */
	ck_assert_int_eq(tdb_int(db,
	                         "SELECT count(*) FROM ticket t JOIN ticket_event e ON"
	                         " e.ticket_id = t.id WHERE e.seq = $1 AND NOT t.overdue AND"
	                         " t.due_at = st_due(e.at, t.category_id, t.urgent, 'dispatched')"
	                         " AND (e.data->>'due_at')::timestamptz = t.due_at",
	                         1, (const char *[]){ tdb_fmt("%lld", o.seq) }),
	                 1);
	/* it is cgj's now: cgj accepts it; sthj does not see it */
	f.version = o.version;
	act(ACT_COMMENT, id_of("yang.min"), f.id, f.version, 0, &o);
	ck_assert_str_eq(o.sqlstate, "SD404");
	step(&f, ACT_ACCEPT, "chen.jing");

	/* upheld, to another department than the one named */
	make_fixture(TICKET_REPORTED, false, &g);
	arbitrate("ma.jun", &g, g.return_seq, true, dept_yjgl, NULL, &o);
	must(&o, "upheld elsewhere");
	assert_where(g.id, "dispatched", dept_yjgl, g.version + 1);
	assert_event(o.seq, tdb_fmt("arbitrate reported>dispatched %d %d true %lld", dept_yjgl,
	                            dept_yjgl, g.return_seq));

	/* rejected: back to the department that returned it, which accepts it again */
	make_fixture(TICKET_REPORTED, false, &h);
	arbitrate("sun.li", &h, h.return_seq, false, 0, NULL, &o);
	must(&o, "rejected");
	assert_where(h.id, "dispatched", dept_sthj, h.version + 1);
	assert_event(o.seq, tdb_fmt("arbitrate reported>dispatched %d %d false %lld", dept_sthj,
	                            dept_sthj, h.return_seq));
	h.version = o.version;
	step(&h, ACT_ACCEPT, "yang.min");
	/* a rejection may name the returner (nothing else) */
	make_fixture(TICKET_REPORTED, false, &h);
	arbitrate("sun.li", &h, h.return_seq, false, dept_sthj, NULL, &o);
	must(&o, "rejected, naming the returner");
	assert_where(h.id, "dispatched", dept_sthj, h.version + 1);
}
END_TEST

/* The street office may act on a returned ticket before any ruling; the ruling
 * then records whether the return counts and moves nothing. */
START_TEST(ruling_after_the_street_acted_records_only)
{
	struct fixture f, g;
	struct tdb_outcome o;
	char *before, *after;

	make_fixture(TICKET_REPORTED, false, &f);
	redispatch(&f, dept_yjgl);
	/* naming a department is refused: the ruling cannot send it anywhere now */
	before = snapshot(f.id);
	arbitrate("sun.li", &f, f.return_seq, true, dept_cgj, NULL, &o);
	ck_assert_str_eq(o.sqlstate, "SD412");
	ck_assert_ptr_nonnull(strstr(o.message, "recorded only"));
	after = snapshot(f.id);
	ck_assert_str_eq(before, after);
	free(before);
	free(after);
	arbitrate("sun.li", &f, f.return_seq, false, 0, NULL, &o);
	must(&o, "recorded ruling");
	ck_assert_str_eq(o.state, "dispatched");
	ck_assert_int_eq(o.version, f.version);
	assert_where(f.id, "dispatched", dept_yjgl, f.version);
	/* the column names the returner, so that the ruling reaches it; the data no destination */
	assert_event(o.seq, tdb_fmt("arbitrate dispatched>dispatched %d - false %lld", dept_sthj,
	                            f.return_seq));
	/* once per return */
	before = snapshot(f.id);
	arbitrate("ma.jun", &f, f.return_seq, true, 0, NULL, &o);
	ck_assert_str_eq(o.sqlstate, "SD412");
	ck_assert_ptr_nonnull(strstr(o.message, "already arbitrated"));
	after = snapshot(f.id);
	ck_assert_str_eq(before, after);
	free(before);
	free(after);

	/* cancelled before the ruling: recorded the same way */
	make_fixture(TICKET_CANCELLED, false, &g);
	arbitrate("sun.li", &g, g.return_seq, true, 0, NULL, &o);
	must(&o, "ruling on a cancelled ticket");
	assert_where(g.id, "cancelled", 0, g.version);
	assert_event(o.seq, tdb_fmt("arbitrate cancelled>cancelled %d - true %lld", dept_sthj,
	                            g.return_seq));
}
END_TEST

/* A ticket waiting on a later return takes the ruling on that one first; the
 * earlier one is then recorded only. */
START_TEST(ruling_on_an_earlier_return)
{
	struct fixture f;
	struct tdb_outcome o;
	long long first;
	char *before, *after;

	make_fixture(TICKET_REPORTED, false, &f); /* sthj returned it, naming cgj */
	first = f.return_seq;
	redispatch(&f, dept_cgj);
	{
		const char *p[] = { tdb_fmt("%d", id_of("chen.jing")), tdb_fmt("%lld", f.id),
			            tdb_fmt("%d", f.version),          "属于应急局",
			            tdb_fmt("%d", dept_yjgl),          NULL };

		tdb_call(db, "st_return", 6, p, &o);
		must(&o, "second return");
		f.version = o.version;
		f.return_seq = o.seq;
	}
	before = snapshot(f.id);
	arbitrate("sun.li", &f, first, true, 0, NULL, &o);
	ck_assert_str_eq(o.sqlstate, "SD412");
	ck_assert_ptr_nonnull(
	        strstr(o.message, tdb_fmt("waits on a later return (event %lld)", f.return_seq)));
	after = snapshot(f.id);
	ck_assert_str_eq(before, after);
	free(before);
	free(after);
	/* the pending one: upheld, to yjgl as cgj named */
	arbitrate("sun.li", &f, f.return_seq, true, 0, NULL, &o);
	must(&o, "ruling on the pending return");
	assert_where(f.id, "dispatched", dept_yjgl, f.version + 1);
	f.version = o.version;
	/* the earlier one now: recorded, the column naming its returner */
	arbitrate("sun.li", &f, first, false, 0, NULL, &o);
	must(&o, "ruling on the earlier return");
	assert_where(f.id, "dispatched", dept_yjgl, f.version);
	assert_event(o.seq,
	             tdb_fmt("arbitrate dispatched>dispatched %d - false %lld", dept_sthj, first));
}
END_TEST

/* Who may rule, and departments that cannot take the ticket: refused, nothing written. */
START_TEST(ruling_scope_and_inactive_departments)
{
	static const char *const refused[][2] = {
		{ "zhang.wei", "SD403" }, { "yang.min", "SD404" },
		{ "chen.jing", "SD404" }, { "t.supervisor.other", "SD404" },
		{ "admin", "SD404" },     { "wang.fang", "SD403" },
	};
	PGconn *admin = tdb_connect(true);
	struct fixture f, g;
	struct tdb_outcome o;
	char *before, *after;

	make_fixture(TICKET_REPORTED, false, &f);
	make_fixture(TICKET_DISPATCHED, false, &g);
	before = snapshot(f.id);
	for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
		arbitrate(refused[i][0], &f, f.return_seq, true, 0, NULL, &o);
		ck_assert_msg(!o.ok && strcmp(o.sqlstate, refused[i][1]) == 0,
		              "%s: want %s, got %s %s", refused[i][0], refused[i][1],
		              o.ok ? "success" : o.sqlstate, o.message);
	}
	/* an inactive department: neither named by a return nor sent a ticket by a
	 * ruling (made inactive in a transaction of this test's own, rolled back) */
	PQclear(PQexec(admin, "SET search_path = street"));
	for (int k = 0; k < 2; k++) {
		PGresult *r = PQexec(admin, "BEGIN");

		PQclear(r);
		PQclear(tdb_query(admin, "UPDATE department SET active = false WHERE id = $1", 1,
		                  (const char *[]){ tdb_fmt("%d", dept_yjgl) }));
		if (k == 0) {
			const char *p[] = { tdb_fmt("%d", id_of("sun.li")),
				            tdb_fmt("%lld", f.id),
				            tdb_fmt("%lld", f.return_seq),
				            "true",
				            NULL,
				            NULL,
				            tdb_fmt("%d", dept_yjgl),
				            NULL };

			tdb_call(admin, "st_arbitrate", 8, p, &o);
		} else {
			const char *p[] = { tdb_fmt("%d", id_of("yang.min")), tdb_fmt("%lld", g.id),
				            tdb_fmt("%d", g.version),         "r",
				            tdb_fmt("%d", dept_yjgl),         NULL };

			tdb_call(admin, "st_return", 6, p, &o);
		}
		ck_assert_msg(!o.ok && strcmp(o.sqlstate, "SD400") == 0, "case %d: got %s %s", k,
		              o.ok ? "success" : o.sqlstate, o.message);
		ck_assert_ptr_nonnull(strstr(o.message, "does not exist or is inactive"));
		PQclear(PQexec(admin, "ROLLBACK"));
	}
	after = snapshot(f.id);
	ck_assert_str_eq(before, after);
	free(before);
	free(after);
	assert_where(g.id, "dispatched", dept_sthj, g.version);
	PQfinish(admin);
}
END_TEST

/* A retried ruling replays its first outcome (direct and try forms) and moves nothing again. */
START_TEST(ruling_replays_with_its_key)
{
	struct fixture f, g;
	struct tdb_outcome a, b;
	char key[64];

	snprintf(key, sizeof(key), "ruling-%d-%ld", (int)getpid(), (long)random());
	make_fixture(TICKET_REPORTED, false, &f);
	arbitrate("sun.li", &f, f.return_seq, true, dept_yjgl, key, &a);
	must(&a, "ruling");
	ck_assert(!a.replayed);
	arbitrate("sun.li", &f, f.return_seq, true, dept_yjgl, key, &b);
	must(&b, "retried ruling");
	ck_assert(b.replayed);
	ck_assert_int_eq(b.seq, a.seq);
	ck_assert_str_eq(b.state, "dispatched");
	assert_where(f.id, "dispatched", dept_yjgl, f.version + 1);
	{
		const char *p[] = { tdb_fmt("%d", id_of("sun.li")),
			            tdb_fmt("%lld", f.id),
			            tdb_fmt("%lld", f.return_seq),
			            "true",
			            "裁定",
			            NULL,
			            tdb_fmt("%d", dept_yjgl),
			            key };
		char *r =
		        tdb_str(db,
		                "SELECT (result::jsonb->>'replayed') || ' ' ||"
		                " (result::jsonb->'event'->>'seq') FROM street.st_try('arbitrate',"
		                " ARRAY[$1, $2, $3, $4, $5, $6, $7, $8])",
		                8, p);

		ck_assert_str_eq(r, tdb_fmt("true %lld", a.seq));
		free(r);
	}
	ck_assert_int_eq(tdb_int(db,
	                         "SELECT count(*) FROM ticket_event WHERE ticket_id = $1 AND"
	                         " action = 'arbitrate'",
	                         1, (const char *[]){ tdb_fmt("%lld", f.id) }),
	                 1);
	assert_where(f.id, "dispatched", dept_yjgl, f.version + 1);
	/* the try form of a ruling that moves the ticket */
	make_fixture(TICKET_REPORTED, false, &g);
	{
		const char *p[] = { tdb_fmt("%d", id_of("sun.li")),
			            tdb_fmt("%lld", g.id),
			            tdb_fmt("%lld", g.return_seq),
			            "false",
			            NULL,
			            tdb_fmt("%d", g.version),
			            NULL,
			            NULL };
		char *r = tdb_str(db,
		                  "SELECT coalesce(sqlstate, result::jsonb->'ticket'->>'state')"
		                  " FROM street.st_try('arbitrate', ARRAY[$1, $2, $3, $4, $5, $6,"
		                  " $7, $8])",
		                  8, p);

		ck_assert_str_eq(r, "dispatched");
		free(r);
	}
	assert_where(g.id, "dispatched", dept_sthj, g.version + 1);
}
END_TEST

/* Urgency: the category's unless raised; only a street office lowers it, with
 * a reason the event records. */
static void report_urgency(const char *login, const char *cat, const char *urgent,
                           const char *reason, struct tdb_outcome *o)
{
	const char *p[] = { tdb_fmt("%d", id_of(login)),
		            tdb_fmt("%d", tdb_category(db, cat)),
		            tdb_fmt("%d", grid_home),
		            "燃气味道",
		            NULL,
		            NULL,
		            NULL,
		            urgent,
		            NULL,
		            reason,
		            NULL };

	tdb_call(db, "st_report", 11, p, o);
}

static bool ticket_urgent(long long id)
{
	return tdb_int(db, "SELECT urgent::int FROM ticket WHERE id = $1", 1,
	               (const char *[]){ tdb_fmt("%lld", id) }) == 1;
}

START_TEST(urgency_not_lowered_by_reporter)
{
	struct tdb_outcome o;
	char *reason;

	report_urgency("wang.fang", "safety.gas", "false", NULL, &o);
	ck_assert_str_eq(o.sqlstate, "SD403");
	report_urgency("wang.fang", "safety.gas", "false", "不急", &o);
	ck_assert_str_eq(o.sqlstate, "SD403");
	report_urgency("wang.fang", "safety.gas", NULL, NULL, &o);
	must(&o, "gas leak, default urgency");
	ck_assert(ticket_urgent(o.ticket));
	report_urgency("wang.fang", "pollution.dust", "true", NULL, &o);
	must(&o, "raised urgency");
	ck_assert(ticket_urgent(o.ticket));
	report_urgency("zhang.wei", "safety.gas", "false", NULL, &o);
	ck_assert_str_eq(o.sqlstate, "SD400");
	report_urgency("zhang.wei", "safety.gas", "true", "多余", &o);
	ck_assert_str_eq(o.sqlstate, "SD400");
	report_urgency("zhang.wei", "safety.gas", "false", "  已确认是演习  ", &o);
	must(&o, "street office lowers with a reason");
	ck_assert(!ticket_urgent(o.ticket));
	reason = tdb_str(db, "SELECT data->>'urgent_reason' FROM ticket_event WHERE seq = $1", 1,
	                 (const char *[]){ tdb_fmt("%lld", o.seq) });
	ck_assert_str_eq(reason, "已确认是演习");
	free(reason);
}
END_TEST

START_TEST(event_log_is_append_only)
{
	PGconn *admin = tdb_connect(true);
	PGresult *r;
	struct fixture f;
	char idbuf[32];
	const char *p[] = { idbuf };

	make_fixture(TICKET_REPORTED, false, &f);
	snprintf(idbuf, sizeof(idbuf), "%lld", f.id);
	/* the daemon's role may not write anything directly */
	r = tdb_query(db, "UPDATE ticket_event SET data = '{}' WHERE ticket_id = $1", 1, p);
	ck_assert_str_eq(PQresultErrorField(r, PG_DIAG_SQLSTATE), "42501");
	PQclear(r);
	r = tdb_query(db, "DELETE FROM ticket_event WHERE ticket_id = $1", 1, p);
	ck_assert_str_eq(PQresultErrorField(r, PG_DIAG_SQLSTATE), "42501");
	PQclear(r);
	r = tdb_query(db, "UPDATE ticket SET state = 'closed' WHERE id = $1", 1, p);
	ck_assert_str_eq(PQresultErrorField(r, PG_DIAG_SQLSTATE), "42501");
	PQclear(r);
	r = tdb_query(
	        db,
	        "INSERT INTO ticket_event (ticket_id, action, from_state, to_state, version,"
	        " street_id, district_id, reporter_id) SELECT id, 'overdue', state, state, version,"
	        " street_id, district_id, reporter_id FROM ticket WHERE id = $1",
	        1, p);
	ck_assert_str_eq(PQresultErrorField(r, PG_DIAG_SQLSTATE), "42501");
	PQclear(r);
	/* nor may the table's owner or a superuser change history */
	PQclear(PQexec(admin, "SET search_path = street"));
	r = tdb_query(admin, "UPDATE ticket_event SET data = '{}' WHERE ticket_id = $1", 1, p);
	ck_assert_str_eq(PQresultErrorField(r, PG_DIAG_SQLSTATE), "SD400");
	PQclear(r);
	r = tdb_query(admin, "DELETE FROM ticket_event WHERE ticket_id = $1", 1, p);
	ck_assert_str_eq(PQresultErrorField(r, PG_DIAG_SQLSTATE), "SD400");
	PQclear(r);
	r = PQexec(admin, "BEGIN; TRUNCATE ticket_event CASCADE");
	ck_assert_str_eq(PQresultErrorField(r, PG_DIAG_SQLSTATE), "SD400");
	PQclear(r);
	PQclear(PQexec(admin, "ROLLBACK"));
	ck_assert_int_eq(
	        tdb_int(db, "SELECT count(*) FROM ticket_event WHERE ticket_id = $1", 1, p), 3);
	PQfinish(admin);
}
END_TEST

START_TEST(schema_refuses_bad_data)
{
	/* the constraints hold even for a superuser writing by hand */
	static const char *const bad[] = {
		"INSERT INTO account (login, name, name_en, role, cert_cn) VALUES"
		" ('t.bad1', 'x', 'x', 'street', 't.bad1')", /* street staff without a street */
		"INSERT INTO account (login, name, name_en, role, street_id, department_id, "
		"cert_cn)"
		" VALUES ('t.bad2', 'x', 'x', 'department', 1, 1, 't.bad2')",
		"UPDATE ticket SET rating = 6 WHERE id = (SELECT max(id) FROM ticket)",
		"UPDATE ticket SET state = 'closed' WHERE id = (SELECT min(id) FROM ticket"
		" WHERE state = 'reported')", /* closed without closed_at, department */
		"UPDATE ticket SET street_id = (SELECT id FROM street WHERE code = 'beijingnanlu')"
		" WHERE id = (SELECT max(id) FROM ticket WHERE street_id ="
		" (SELECT id FROM street WHERE code = 'jianguolu'))", /* street disagrees with grid
		                                                       */
		"INSERT INTO calendar_day VALUES ('2026-11-25', 'workday', 'a Wednesday')",
		"INSERT INTO account_grid (account_id, street_id, grid_id) SELECT a.id, "
		"a.street_id,"
		" g.id FROM account a, grid g WHERE a.login = 'zhang.wei' AND g.code = "
		"'jg-yanan-01'",
		"UPDATE category SET parent_id = (SELECT id FROM category WHERE code = "
		"'pollution.dust')"
		" WHERE code = 'pollution'",
	};
	PGconn *admin = tdb_connect(true);

	PQclear(PQexec(admin, "SET search_path = street"));
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		PGresult *r = PQexec(admin, bad[i]);

		ck_assert_msg(PQresultStatus(r) == PGRES_FATAL_ERROR, "accepted: %s", bad[i]);
		PQclear(r);
	}
	PQfinish(admin);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("actions");
	TCase *tc = tcase_create("actions");
	SRunner *sr;
	int failed;

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, whole_loop);
	tcase_add_test(tc, return_and_cancel_paths);
	tcase_add_test(tc, matrix);
	tcase_add_test(tc, report_matrix);
	tcase_add_test(tc, stale_version_conflicts);
	tcase_add_test(tc, bad_arguments);
	tcase_add_test(tc, bad_reports);
	tcase_add_test(tc, idempotent_retries);
	tcase_add_test(tc, replay_returns_first_outcome);
	tcase_add_test(tc, ruling_on_a_pending_return_moves_the_ticket);
	tcase_add_test(tc, ruling_after_the_street_acted_records_only);
	tcase_add_test(tc, ruling_on_an_earlier_return);
	tcase_add_test(tc, ruling_scope_and_inactive_departments);
	tcase_add_test(tc, ruling_replays_with_its_key);
	tcase_add_test(tc, urgency_not_lowered_by_reporter);
	tcase_add_test(tc, event_log_is_append_only);
	tcase_add_test(tc, schema_refuses_bad_data);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
