/*
 * The whole loop end to end: the real streetd over mutual TLS, one client per
 * role, checking replies, the history `get` returns, scope, idempotency,
 * photos, and the exact error code of every refusal (docs/decisions.md's order:
 * not_found, forbidden by role, conflict, bad_state, forbidden by relation).
 */
#include <check.h>
#include <openssl/evp.h>
#include <openssl/sha.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tdaemon.h"
#include "tdb.h"
#include "ticket_fsm.h"

static struct tdaemon *d;

/* Ids looked up through the daemon (categories, places, departments) and tdb. */
static struct {
	long long dust, garbage;
	long long grid02, grid_jg01, grid_bn01;
	long long sthj, cgj, zrzy;
	long long street_jg, street_bn;
	long long wang, zhang;
} id;

static unsigned serial;

#define REPORT_FMT                                                                                 \
	"{\"op\":\"report\",\"category\":%lld,\"grid\":%lld,\"description\":\"谁能上报\"}"
#define KEYED_FMT                                                                                  \
	"{\"op\":\"report\",\"category\":%lld,\"grid\":%lld,\"description\":\"%s\",\"key\":\"%"    \
	"s\"}"

static long long find_code(json_object *r, const char *array, const char *code)
{
	json_object *a = tj_get(r, array);

	ck_assert_msg(a != NULL && json_object_is_type(a, json_type_array), "no %s in %s", array,
	              tj_dump(r));
	for (size_t i = 0; i < json_object_array_length(a); i++) {
		json_object *e = json_object_array_get_idx(a, i);
		const char *c = tj_str(e, "code");

		if (c != NULL && strcmp(c, code) == 0)
			return tj_int(e, "id");
	}
	ck_abort_msg("no %s with code %s", array, code);
	return 0;
}

static void setup(void)
{
	struct tclient *c;
	json_object *r;
	PGconn *db;

	d = tdaemon_start(NULL);
	c = tclient_connect(d, "wang.fang");
	r = tclient_ok(c, "{\"op\":\"categories\"}");
	id.dust = find_code(r, "result.categories", "pollution.dust");
	id.garbage = find_code(r, "result.categories", "pollution.garbage");
	r = tclient_ok(c, "{\"op\":\"places\"}");
	id.grid02 = find_code(r, "result.grids", "jg-yanan-02");
	id.grid_jg01 = find_code(r, "result.grids", "jg-jianguo-01");
	id.grid_bn01 = find_code(r, "result.grids", "bn-beijingnan-01");
	id.street_jg = find_code(r, "result.streets", "jianguolu");
	id.street_bn = find_code(r, "result.streets", "beijingnanlu");
	r = tclient_ok(c, "{\"op\":\"departments\"}");
	id.sthj = find_code(r, "result.departments", "sthj");
	id.cgj = find_code(r, "result.departments", "cgj");
	id.zrzy = find_code(r, "result.departments", "zrzy");
	tclient_close(c);

	/* The daemon's answers must agree with the database. */
	db = tdb_connect(false);
	ck_assert_int_eq(id.dust, tdb_category(db, "pollution.dust"));
	ck_assert_int_eq(id.grid02, tdb_grid(db, "jg-yanan-02"));
	ck_assert_int_eq(id.sthj, tdb_department(db, "sthj"));
	id.wang = tdb_account(db, "wang.fang");
	id.zhang = tdb_account(db, "zhang.wei");
	PQfinish(db);
}

static void teardown(void)
{
	int status = tdaemon_stop(d, SIGTERM);

	ck_assert_msg(status >= 0 && status < 128, "streetd crashed or hung (status %d)", status);
}

/* A description no other test run uses, so `list` can find the ticket by text. */
static const char *marker(const char *what)
{
	static char bufs[4][128];
	char *b = bufs[serial % 4];

	snprintf(b, sizeof(bufs[0]), "e2e %s %d-%u-%lld", what, (int)getpid(), ++serial, tnow_ms());
	return b;
}

static long long report_dust(struct tclient *c, const char *desc)
{
	json_object *r = tclient_ok(c,
	                            "{\"op\":\"report\",\"category\":%lld,\"grid\":%lld,"
	                            "\"description\":\"%s\",\"address\":\"延安北路12号\"}",
	                            id.dust, id.grid02, desc);

	ck_assert_str_eq(tj_ticket_state(r), "reported");
	ck_assert_int_eq(tj_ticket_version(r), 1);
	return tj_ticket_id(r);
}

/* "report,dispatch,..." from a `get` reply's events. */
static const char *actions_of(json_object *r)
{
	static char buf[1024];
	size_t n = tj_len(r, "result.events"), o = 0;
	long long prev = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < n; i++) {
		char path[64];
		long long seq;

		snprintf(path, sizeof(path), "result.events.%zu.action", i);
		o += (size_t)snprintf(buf + o, sizeof(buf) - o, "%s%s", i ? "," : "",
		                      tj_str(r, path) ? tj_str(r, path) : "?");
		snprintf(path, sizeof(path), "result.events.%zu.seq", i);
		seq = tj_int(r, path);
		ck_assert_msg(seq > prev, "events not oldest first: %s", tj_dump(r));
		prev = seq;
		if (o >= sizeof(buf))
			break;
	}
	return buf;
}

/* The list reply's tickets contain this id. */
static bool list_has(json_object *r, long long ticket)
{
	size_t n = tj_len(r, "result.tickets");

	for (size_t i = 0; i < n; i++) {
		char path[64];

		snprintf(path, sizeof(path), "result.tickets.%zu.id", i);
		if (tj_int(r, path) == ticket)
			return true;
	}
	return false;
}

/* Every ticket of a list reply has field == want. */
static void list_all(json_object *r, const char *field, long long want)
{
	size_t n = tj_len(r, "result.tickets");

	ck_assert_msg(tj_get(r, "result.tickets") != NULL, "no tickets array: %s", tj_dump(r));
	for (size_t i = 0; i < n; i++) {
		char path[96];

		snprintf(path, sizeof(path), "result.tickets.%zu.%s", i, field);
		ck_assert_msg(tj_int(r, path) == want, "ticket %zu has %s %lld, not %lld: %.600s",
		              i, field, tj_int(r, path), want,
		              json_object_to_json_string(
		                      json_object_array_get_idx(tj_get(r, "result.tickets"), i)));
	}
}

START_TEST(whole_loop)
{
	struct tclient *w = tclient_connect(d, "wang.fang");
	struct tclient *z = tclient_connect(d, "zhang.wei");
	struct tclient *y = tclient_connect(d, "yang.min");
	struct tclient *ch = tclient_connect(d, "chen.jing");
	struct tclient *l = tclient_connect(d, "liu.yang");
	struct tclient *s = tclient_connect(d, "sun.li");
	struct tclient *a = tclient_connect(d, "admin");
	const char *desc = marker("loop");
	json_object *r;
	long long t;

	r = tclient_ok(w,
	               "{\"op\":\"report\",\"category\":%lld,\"grid\":%lld,\"description\":\"%s\","
	               "\"address\":\"延安北路12号\"}",
	               id.dust, id.grid02, desc);
	t = tj_ticket_id(r);
	ck_assert_int_gt(t, 0);
	ck_assert_str_eq(tj_ticket_state(r), "reported");
	ck_assert_int_eq(tj_ticket_version(r), 1);
	ck_assert_int_eq(tj_int(r, "result.ticket.category_id"), id.dust);
	ck_assert_int_eq(tj_int(r, "result.ticket.grid_id"), id.grid02);
	ck_assert_int_eq(tj_int(r, "result.ticket.street_id"), id.street_jg);
	ck_assert_int_eq(tj_int(r, "result.ticket.reporter_id"), id.wang);
	ck_assert_str_eq(tj_str(r, "result.ticket.description"), desc);
	ck_assert_msg(tj_is_null(r, "result.ticket.department_id"), "%s", tj_dump(r));
	ck_assert_str_eq(tj_str(r, "result.event.action"), "report");
	ck_assert_int_eq(tj_int(r, "result.event.ticket_id"), t);
	ck_assert_msg(tj_get(r, "result.replayed") != NULL && !tj_bool(r, "result.replayed"), "%s",
	              tj_dump(r));

	/* Refusals while reported, in the documented order. */
	tclient_err(y, "not_found", "{\"op\":\"accept\",\"ticket\":%lld,\"version\":1}", t);
	tclient_err(w, "forbidden", "{\"op\":\"dispatch\",\"ticket\":%lld,\"version\":1}", t);
	tclient_err(w, "forbidden", "{\"op\":\"accept\",\"ticket\":%lld,\"version\":7}", t);
	tclient_err(z, "forbidden", "{\"op\":\"accept\",\"ticket\":%lld,\"version\":1}", t);
	tclient_err(s, "forbidden", "{\"op\":\"dispatch\",\"ticket\":%lld,\"version\":1}", t);
	tclient_err(z, "conflict", "{\"op\":\"dispatch\",\"ticket\":%lld,\"version\":2}", t);
	tclient_err(z, "bad_state",
	            "{\"op\":\"confirm\",\"ticket\":%lld,\"version\":1,\"rating\":5}", t);
	tclient_err(z, "bad_state", "{\"op\":\"urge\",\"ticket\":%lld}", t);
	tclient_err(l, "not_found", "{\"op\":\"get\",\"ticket\":%lld}", t);
	tclient_err(l, "not_found", "{\"op\":\"dispatch\",\"ticket\":%lld,\"version\":1}", t);
	tclient_err(a, "not_found", "{\"op\":\"get\",\"ticket\":%lld}", t);
	tclient_err(a, "not_found", "{\"op\":\"dispatch\",\"ticket\":%lld,\"version\":1}", t);
	tclient_err(z, "not_found", "{\"op\":\"get\",\"ticket\":999999999}");
	tclient_err(z, "not_found", "{\"op\":\"dispatch\",\"ticket\":999999999,\"version\":1}");

	/* The street office routes, then dispatches to the routed department. */
	r = tclient_ok(z, "{\"op\":\"route\",\"ticket\":%lld}", t);
	ck_assert_int_eq(tj_int(r, "result.department.id"), id.sthj);
	ck_assert_str_eq(tj_str(r, "result.department.code"), "sthj");
	r = tclient_ok(z, "{\"op\":\"dispatch\",\"ticket\":%lld,\"version\":1,\"note\":\"请处理\"}",
	               t);
	ck_assert_str_eq(tj_ticket_state(r), "dispatched");
	ck_assert_int_eq(tj_ticket_version(r), 2);
	ck_assert_int_eq(tj_int(r, "result.ticket.department_id"), id.sthj);
	ck_assert_str_eq(tj_str(r, "result.event.action"), "dispatch");

	/* Only the assigned department sees it. */
	tclient_err(ch, "not_found", "{\"op\":\"get\",\"ticket\":%lld}", t);
	tclient_err(ch, "not_found", "{\"op\":\"accept\",\"ticket\":%lld,\"version\":2}", t);
	tclient_err(y, "forbidden", "{\"op\":\"dispatch\",\"ticket\":%lld,\"version\":2}", t);
	tclient_err(y, "conflict", "{\"op\":\"accept\",\"ticket\":%lld,\"version\":1}", t);
	tclient_err(y, "bad_state",
	            "{\"op\":\"resolve\",\"ticket\":%lld,\"version\":2,\"note\":\"x\"}", t);
	r = tclient_ok(y, "{\"op\":\"accept\",\"ticket\":%lld,\"version\":2}", t);
	ck_assert_str_eq(tj_ticket_state(r), "accepted");
	ck_assert_int_eq(tj_ticket_version(r), 3);

	tclient_err(w, "bad_state",
	            "{\"op\":\"confirm\",\"ticket\":%lld,\"version\":3,\"rating\":5}", t);
	tclient_err(y, "forbidden",
	            "{\"op\":\"confirm\",\"ticket\":%lld,\"version\":3,\"rating\":5}", t);
	tclient_err(y, "bad_request", "{\"op\":\"resolve\",\"ticket\":%lld,\"version\":3}", t);
	tclient_err(y, "bad_request",
	            "{\"op\":\"resolve\",\"ticket\":%lld,\"version\":3,\"note\":\"   \"}", t);
	r = tclient_ok(
	        y, "{\"op\":\"resolve\",\"ticket\":%lld,\"version\":3,\"note\":\"已洒水覆盖\"}", t);
	ck_assert_str_eq(tj_ticket_state(r), "resolved");
	ck_assert_int_eq(tj_ticket_version(r), 4);
	tclient_err(y, "bad_state",
	            "{\"op\":\"resolve\",\"ticket\":%lld,\"version\":4,\"note\":\"x\"}", t);

	/* The reporter confirms. */
	tclient_err(w, "bad_request",
	            "{\"op\":\"confirm\",\"ticket\":%lld,\"version\":4,\"rating\":7}", t);
	tclient_err(w, "bad_request", "{\"op\":\"confirm\",\"ticket\":%lld,\"version\":4}", t);
	r = tclient_ok(w,
	               "{\"op\":\"confirm\",\"ticket\":%lld,\"version\":4,\"rating\":5,"
	               "\"comment\":\"很满意\"}",
	               t);
	ck_assert_str_eq(tj_ticket_state(r), "closed");
	ck_assert_int_eq(tj_ticket_version(r), 5);
	ck_assert_int_eq(tj_int(r, "result.ticket.rating"), 5);
	ck_assert_str_eq(tj_str(r, "result.ticket.close_kind"), "confirmed");
	tclient_err(w, "bad_state",
	            "{\"op\":\"reopen\",\"ticket\":%lld,\"version\":5,\"reason\":\"又有了\"}", t);
	tclient_err(s, "bad_state", "{\"op\":\"urge\",\"ticket\":%lld}", t);

	/* The history, oldest first, as every party in scope sees it. */
	r = tclient_ok(z, "{\"op\":\"get\",\"ticket\":%lld}", t);
	ck_assert_str_eq(tj_str(r, "result.ticket.state"), "closed");
	ck_assert_int_eq(tj_int(r, "result.ticket.version"), 5);
	ck_assert_str_eq(actions_of(r), "report,dispatch,accept,resolve,confirm");
	ck_assert_msg(tj_is_null(r, "result.events.0.from_state"), "%s", tj_dump(r));
	ck_assert_str_eq(tj_str(r, "result.events.0.to_state"), "reported");
	ck_assert_int_eq(tj_int(r, "result.events.0.actor_id"), id.wang);
	ck_assert_int_eq(tj_int(r, "result.events.1.actor_id"), id.zhang);
	ck_assert_str_eq(tj_str(r, "result.events.1.from_state"), "reported");
	ck_assert_str_eq(tj_str(r, "result.events.1.to_state"), "dispatched");
	ck_assert_int_eq(tj_int(r, "result.events.1.department_id"), id.sthj);
	ck_assert_str_eq(tj_str(r, "result.events.3.data.note"), "已洒水覆盖");
	ck_assert_int_eq(tj_int(r, "result.events.4.data.rating"), 5);
	for (int i = 0; i < 5; i++) {
		char path[64];

		snprintf(path, sizeof(path), "result.events.%d.version", i);
		ck_assert_int_eq(tj_int(r, path), i + 1);
		snprintf(path, sizeof(path), "result.events.%d.ticket_id", i);
		ck_assert_int_eq(tj_int(r, path), t);
	}
	ck_assert_msg(tj_get(r, "result.photos") != NULL && tj_len(r, "result.photos") == 0, "%s",
	              tj_dump(r));
	r = tclient_ok(w, "{\"op\":\"get\",\"ticket\":%lld}", t);
	ck_assert_int_eq(tj_len(r, "result.events"), 5);
	r = tclient_ok(s, "{\"op\":\"get\",\"ticket\":%lld}", t);
	ck_assert_int_eq(tj_len(r, "result.events"), 5);
	tclient_err(l, "not_found", "{\"op\":\"get\",\"ticket\":%lld}", t);

	tclient_close(w);
	tclient_close(z);
	tclient_close(y);
	tclient_close(ch);
	tclient_close(l);
	tclient_close(s);
	tclient_close(a);
}
END_TEST

START_TEST(return_override_arbitrate_extend_urge_comment_reopen)
{
	struct tclient *w = tclient_connect(d, "wang.fang");
	struct tclient *z = tclient_connect(d, "zhang.wei");
	struct tclient *y = tclient_connect(d, "yang.min");
	struct tclient *ch = tclient_connect(d, "chen.jing");
	struct tclient *l = tclient_connect(d, "liu.yang");
	struct tclient *s = tclient_connect(d, "sun.li");
	struct tclient *so = tclient_connect(d, "t.supervisor.other");
	struct tclient *a = tclient_connect(d, "admin");
	json_object *r;
	long long t, ret_seq = 0, report_seq;
	char *due_before;

	t = report_dust(w, marker("return"));
	r = tclient_ok(z, "{\"op\":\"dispatch\",\"ticket\":%lld,\"version\":1}", t);
	ck_assert_int_eq(tj_int(r, "result.ticket.department_id"), id.sthj);

	/* The department returns it, naming the department it believes responsible:
	 * back to reported, no department, out of its sight. */
	tclient_err(y, "bad_request",
	            "{\"op\":\"return\",\"ticket\":%lld,\"version\":2,\"department\":%lld}", t,
	            id.cgj);
	tclient_err(y, "bad_request",
	            "{\"op\":\"return\",\"ticket\":%lld,\"version\":2,\"reason\":\"\","
	            "\"department\":%lld}",
	            t, id.cgj);
	tclient_err(y, "bad_request",
	            "{\"op\":\"return\",\"ticket\":%lld,\"version\":2,\"reason\":\"x\"}", t);
	tclient_err(y, "bad_request",
	            "{\"op\":\"return\",\"ticket\":%lld,\"version\":2,\"reason\":\"x\","
	            "\"department\":%lld}",
	            t, id.sthj);
	r = tclient_ok(y,
	               "{\"op\":\"return\",\"ticket\":%lld,\"version\":2,"
	               "\"reason\":\"属于城管职责\",\"department\":%lld}",
	               t, id.cgj);
	ck_assert_str_eq(tj_ticket_state(r), "reported");
	ck_assert_int_eq(tj_ticket_version(r), 3);
	ck_assert_msg(tj_is_null(r, "result.ticket.department_id"), "%s", tj_dump(r));
	ck_assert_int_eq(tj_int(r, "result.ticket.return_count"), 1);
	ck_assert_str_eq(tj_str(r, "result.event.action"), "return");
	ck_assert_int_eq(tj_int(r, "result.event.department_id"), id.sthj);
	ck_assert_int_eq(tj_int(r, "result.event.data.department_id"), id.cgj);
	ret_seq = tj_int(r, "result.event.seq");
	tclient_err(y, "not_found", "{\"op\":\"get\",\"ticket\":%lld}", t);
	tclient_err(y, "not_found", "{\"op\":\"accept\",\"ticket\":%lld,\"version\":3}", t);

	r = tclient_ok(z, "{\"op\":\"get\",\"ticket\":%lld}", t);
	ck_assert_str_eq(actions_of(r), "report,dispatch,return");
	ck_assert_int_eq(tj_int(r, "result.events.2.seq"), ret_seq);
	ck_assert_str_eq(tj_str(r, "result.events.2.data.reason"), "属于城管职责");
	report_seq = tj_int(r, "result.events.0.seq");

	/* Re-dispatched with an override: cgj instead of the routed sthj. */
	tclient_err(z, "bad_request",
	            "{\"op\":\"dispatch\",\"ticket\":%lld,\"version\":3,\"department\":999999}", t);
	r = tclient_ok(z,
	               "{\"op\":\"dispatch\",\"ticket\":%lld,\"version\":3,\"department\":%lld,"
	               "\"note\":\"改派城管\"}",
	               t, id.cgj);
	ck_assert_str_eq(tj_ticket_state(r), "dispatched");
	ck_assert_int_eq(tj_ticket_version(r), 4);
	ck_assert_int_eq(tj_int(r, "result.ticket.department_id"), id.cgj);
	ck_assert_int_eq(tj_int(r, "result.event.data.department_id"), id.cgj);
	ck_assert_int_eq(tj_int(r, "result.event.data.routed_department_id"), id.sthj);
	ck_assert(tj_bool(r, "result.event.data.overridden"));
	tclient_err(y, "not_found", "{\"op\":\"get\",\"ticket\":%lld}", t);
	r = tclient_ok(ch, "{\"op\":\"accept\",\"ticket\":%lld,\"version\":4}", t);
	ck_assert_str_eq(tj_ticket_state(r), "accepted");
	ck_assert_int_eq(tj_ticket_version(r), 5);

	/* Arbitration of the return, once, by a supervisor in scope; the street
	 * re-dispatched it first, so the ruling is recorded only. */
	tclient_err(z, "forbidden",
	            "{\"op\":\"arbitrate\",\"ticket\":%lld,\"return_seq\":%lld,\"upheld\":true}", t,
	            ret_seq);
	tclient_err(so, "not_found",
	            "{\"op\":\"arbitrate\",\"ticket\":%lld,\"return_seq\":%lld,\"upheld\":true}", t,
	            ret_seq);
	tclient_err(s, "bad_request",
	            "{\"op\":\"arbitrate\",\"ticket\":%lld,\"return_seq\":%lld,\"upheld\":true}", t,
	            report_seq);
	tclient_err(s, "bad_request", "{\"op\":\"arbitrate\",\"ticket\":%lld,\"return_seq\":%lld}",
	            t, ret_seq);
	tclient_err(s, "conflict",
	            "{\"op\":\"arbitrate\",\"ticket\":%lld,\"return_seq\":%lld,\"upheld\":true,"
	            "\"version\":4}",
	            t, ret_seq);
	tclient_err(s, "bad_state",
	            "{\"op\":\"arbitrate\",\"ticket\":%lld,\"return_seq\":%lld,\"upheld\":true,"
	            "\"department\":%lld}",
	            t, ret_seq, id.cgj);
	r = tclient_ok(s,
	               "{\"op\":\"arbitrate\",\"ticket\":%lld,\"return_seq\":%lld,\"upheld\":true,"
	               "\"note\":\"退单合理\"}",
	               t, ret_seq);
	ck_assert_int_eq(tj_ticket_version(r), 5);
	ck_assert_str_eq(tj_ticket_state(r), "accepted");
	ck_assert_int_eq(tj_int(r, "result.ticket.department_id"), id.cgj);
	ck_assert_msg(tj_get(r, "result.event.data.department_id") == NULL, "%s", tj_dump(r));
	ck_assert_str_eq(tj_str(r, "result.event.action"), "arbitrate");
	ck_assert(tj_bool(r, "result.event.data.upheld"));
	ck_assert_int_eq(tj_int(r, "result.event.data.return_seq"), ret_seq);
	tclient_err(s, "bad_state",
	            "{\"op\":\"arbitrate\",\"ticket\":%lld,\"return_seq\":%lld,\"upheld\":false}",
	            t, ret_seq);

	/* Extensions: request, deny, request again, grant. */
	tclient_err(ch, "bad_request",
	            "{\"op\":\"extend_request\",\"ticket\":%lld,\"until\":\"2030-06-28T17:00:00+08:"
	            "00\"}",
	            t);
	tclient_err(ch, "bad_request",
	            "{\"op\":\"extend_request\",\"ticket\":%lld,\"until\":\"2000-01-03T17:00:00+08:"
	            "00\","
	            "\"reason\":\"需要更多时间\"}",
	            t);
	tclient_err(ch, "bad_request",
	            "{\"op\":\"extend_request\",\"ticket\":%lld,\"until\":\"next week\","
	            "\"reason\":\"需要更多时间\"}",
	            t);
	r = tclient_ok(ch,
	               "{\"op\":\"extend_request\",\"ticket\":%lld,\"until\":\"2030-06-28T17:00:00+"
	               "08:00\","
	               "\"reason\":\"需要协调施工方\"}",
	               t);
	ck_assert_int_eq(tj_ticket_version(r), 5);
	ck_assert_ptr_nonnull(tj_str(r, "result.ticket.ext_until"));
	ck_assert_str_eq(tj_str(r, "result.ticket.ext_reason"), "需要协调施工方");
	due_before = strdup(tj_str(r, "result.ticket.due_at"));
	tclient_err(ch, "bad_state",
	            "{\"op\":\"extend_request\",\"ticket\":%lld,\"until\":\"2030-07-28T17:00:00+08:"
	            "00\","
	            "\"reason\":\"再延\"}",
	            t);
	tclient_err(ch, "forbidden", "{\"op\":\"extend_grant\",\"ticket\":%lld}", t);
	tclient_err(w, "forbidden", "{\"op\":\"extend_grant\",\"ticket\":%lld}", t);
	tclient_err(l, "not_found", "{\"op\":\"extend_grant\",\"ticket\":%lld}", t);
	r = tclient_ok(z, "{\"op\":\"extend_deny\",\"ticket\":%lld,\"note\":\"请按期完成\"}", t);
	ck_assert_msg(tj_is_null(r, "result.ticket.ext_until"), "%s", tj_dump(r));
	ck_assert_str_eq(tj_str(r, "result.ticket.due_at"), due_before);
	ck_assert_int_eq(tj_ticket_version(r), 5);
	tclient_err(z, "bad_state", "{\"op\":\"extend_deny\",\"ticket\":%lld}", t);
	tclient_err(s, "bad_state", "{\"op\":\"extend_grant\",\"ticket\":%lld}", t);
	tclient_ok(ch,
	           "{\"op\":\"extend_request\",\"ticket\":%lld,\"until\":\"2030-06-28T17:00:00+08:"
	           "00\","
	           "\"reason\":\"施工方下周撤场\",\"version\":5}",
	           t);
	r = tclient_ok(s, "{\"op\":\"extend_grant\",\"ticket\":%lld,\"version\":5}", t);
	ck_assert_msg(tj_is_null(r, "result.ticket.ext_until"), "%s", tj_dump(r));
	ck_assert_msg(strcmp(tj_str(r, "result.ticket.due_at"), due_before) != 0,
	              "grant did not move the deadline: %s", tj_dump(r));
	ck_assert_int_eq(tj_ticket_version(r), 5);
	free(due_before);

	/* Urging (督办) and comments change no version. */
	tclient_err(w, "forbidden", "{\"op\":\"urge\",\"ticket\":%lld}", t);
	tclient_err(y, "not_found", "{\"op\":\"urge\",\"ticket\":%lld}", t);
	tclient_err(s, "conflict", "{\"op\":\"urge\",\"ticket\":%lld,\"version\":4}", t);
	r = tclient_ok(z, "{\"op\":\"urge\",\"ticket\":%lld,\"note\":\"请尽快\"}", t);
	ck_assert_int_eq(tj_int(r, "result.ticket.urge_count"), 1);
	ck_assert_int_eq(tj_ticket_version(r), 5);
	r = tclient_ok(s, "{\"op\":\"urge\",\"ticket\":%lld,\"version\":5}", t);
	ck_assert_int_eq(tj_int(r, "result.ticket.urge_count"), 2);

	tclient_err(w, "bad_request", "{\"op\":\"comment\",\"ticket\":%lld,\"text\":\"\"}", t);
	tclient_err(w, "bad_request", "{\"op\":\"comment\",\"ticket\":%lld}", t);
	tclient_err(l, "not_found", "{\"op\":\"comment\",\"ticket\":%lld,\"text\":\"路过\"}", t);
	tclient_err(a, "not_found", "{\"op\":\"comment\",\"ticket\":%lld,\"text\":\"路过\"}", t);
	tclient_err(y, "not_found", "{\"op\":\"comment\",\"ticket\":%lld,\"text\":\"路过\"}", t);
	tclient_err(ch, "conflict",
	            "{\"op\":\"comment\",\"ticket\":%lld,\"text\":\"x\",\"version\":1}", t);
	r = tclient_ok(w, "{\"op\":\"comment\",\"ticket\":%lld,\"text\":\"还在起尘\"}", t);
	ck_assert_str_eq(tj_str(r, "result.event.data.text"), "还在起尘");
	tclient_ok(ch, "{\"op\":\"comment\",\"ticket\":%lld,\"text\":\"已联系施工方\"}", t);
	tclient_ok(s, "{\"op\":\"comment\",\"ticket\":%lld,\"text\":\"关注\",\"version\":5}", t);

	/* Resolve, reopen (same department, accepted again), resolve, confirm by the street. */
	r = tclient_ok(ch, "{\"op\":\"resolve\",\"ticket\":%lld,\"version\":5,\"note\":\"已覆盖\"}",
	               t);
	ck_assert_int_eq(tj_ticket_version(r), 6);
	tclient_err(z, "bad_request", "{\"op\":\"reopen\",\"ticket\":%lld,\"version\":6}", t);
	tclient_err(ch, "forbidden",
	            "{\"op\":\"reopen\",\"ticket\":%lld,\"version\":6,\"reason\":\"x\"}", t);
	r = tclient_ok(w,
	               "{\"op\":\"reopen\",\"ticket\":%lld,\"version\":6,"
	               "\"reason\":\"覆盖不完整\"}",
	               t);
	ck_assert_str_eq(tj_ticket_state(r), "accepted");
	ck_assert_int_eq(tj_ticket_version(r), 7);
	ck_assert_int_eq(tj_int(r, "result.ticket.department_id"), id.cgj);
	ck_assert_int_eq(tj_int(r, "result.ticket.reopen_count"), 1);
	r = tclient_ok(
	        ch, "{\"op\":\"resolve\",\"ticket\":%lld,\"version\":7,\"note\":\"全部覆盖\"}", t);
	ck_assert_int_eq(tj_ticket_version(r), 8);
	r = tclient_ok(z, "{\"op\":\"confirm\",\"ticket\":%lld,\"version\":8,\"rating\":3}", t);
	ck_assert_str_eq(tj_ticket_state(r), "closed");
	ck_assert_int_eq(tj_ticket_version(r), 9);
	ck_assert_int_eq(tj_int(r, "result.ticket.rating"), 3);

	r = tclient_ok(s, "{\"op\":\"get\",\"ticket\":%lld}", t);
	ck_assert_str_eq(
	        actions_of(r),
	        "report,dispatch,return,dispatch,accept,arbitrate,extend_request,"
	        "extend_deny,extend_request,extend_grant,urge,urge,comment,comment,comment,"
	        "resolve,reopen,resolve,confirm");
	ck_assert_int_eq(tj_int(r, "result.ticket.return_count"), 1);
	ck_assert_int_eq(tj_int(r, "result.ticket.urge_count"), 2);

	tclient_close(w);
	tclient_close(z);
	tclient_close(y);
	tclient_close(ch);
	tclient_close(l);
	tclient_close(s);
	tclient_close(so);
	tclient_close(a);
}
END_TEST

/* The next pushed event of this ticket and action, within timeout_ms; NULL if none. */
static json_object *pushed(struct tclient *c, long long ticket, const char *action, int timeout_ms)
{
	long long end = tnow_ms() + timeout_ms;

	for (;;) {
		long long left = end - tnow_ms();
		json_object *e;

		if (left <= 0)
			return NULL;
		e = tclient_next_event(c, (int)left);
		if (!e)
			return NULL;
		if (tj_int(e, "event.ticket_id") == ticket && tj_str(e, "event.action") &&
		    strcmp(tj_str(e, "event.action"), action) == 0)
			return e;
	}
}

/* A ruling on a pending return sends the ticket on, and the department it goes
 * to is told at once (the push follows the event's department); rejected, the
 * returner gets it back and is told. */
START_TEST(ruling_sends_the_ticket_and_tells_its_new_holder)
{
	struct tclient *w = tclient_connect(d, "wang.fang");
	struct tclient *z = tclient_connect(d, "zhang.wei");
	struct tclient *y = tclient_connect(d, "yang.min");
	struct tclient *ch = tclient_connect(d, "chen.jing");
	struct tclient *s = tclient_connect(d, "sun.li");
	json_object *r, *e;
	long long t, ret_seq;

	tclient_ok(ch, "{\"op\":\"subscribe\"}");
	tclient_ok(y, "{\"op\":\"subscribe\"}");
	for (int upheld = 1; upheld >= 0; upheld--) {
		struct tclient *holder = upheld ? ch : y;

		t = report_dust(w, marker("ruling"));
		tclient_ok(z, "{\"op\":\"dispatch\",\"ticket\":%lld,\"version\":1}", t);
		r = tclient_ok(y,
		               "{\"op\":\"return\",\"ticket\":%lld,\"version\":2,"
		               "\"reason\":\"属于城管职责\",\"department\":%lld}",
		               t, id.cgj);
		ret_seq = tj_int(r, "result.event.seq");
		r = tclient_ok(s,
		               "{\"op\":\"arbitrate\",\"ticket\":%lld,\"return_seq\":%lld,"
		               "\"upheld\":%s,\"version\":3}",
		               t, ret_seq, upheld ? "true" : "false");
		ck_assert_str_eq(tj_ticket_state(r), "dispatched");
		ck_assert_int_eq(tj_ticket_version(r), 4);
		ck_assert_int_eq(tj_int(r, "result.ticket.department_id"),
		                 upheld ? id.cgj : id.sthj);
		ck_assert_int_eq(tj_int(r, "result.event.data.department_id"),
		                 upheld ? id.cgj : id.sthj);
		ck_assert(tj_get(r, "result.event.data.due_at") != NULL);
		e = pushed(holder, t, "arbitrate", 5000);
		ck_assert_msg(e != NULL, "the new holder got no push of the ruling");
		ck_assert_str_eq(tj_str(e, "event.to_state"), "dispatched");
		ck_assert_int_eq(tj_bool(e, "event.data.upheld"), upheld);
		r = tclient_ok(holder, "{\"op\":\"accept\",\"ticket\":%lld,\"version\":%lld}", t,
		               tj_int(e, "event.version"));
		ck_assert_str_eq(tj_ticket_state(r), "accepted");
		/* a second ruling on the same return */
		tclient_err(s, "bad_state",
		            "{\"op\":\"arbitrate\",\"ticket\":%lld,\"return_seq\":%lld,\"upheld\":"
		            "true}",
		            t, ret_seq);
	}
	tclient_close(w);
	tclient_close(z);
	tclient_close(y);
	tclient_close(ch);
	tclient_close(s);
}
END_TEST

START_TEST(cancel_as_duplicate)
{
	struct tclient *w = tclient_connect(d, "wang.fang");
	struct tclient *z = tclient_connect(d, "zhang.wei");
	struct tclient *l = tclient_connect(d, "liu.yang");
	struct tclient *s = tclient_connect(d, "sun.li");
	json_object *r;
	long long t1 = report_dust(w, marker("original"));
	long long t2 = report_dust(w, marker("duplicate"));

	tclient_err(w, "forbidden",
	            "{\"op\":\"cancel\",\"ticket\":%lld,\"version\":1,\"duplicate_of\":%lld}", t2,
	            t1);
	tclient_err(s, "forbidden",
	            "{\"op\":\"cancel\",\"ticket\":%lld,\"version\":1,\"duplicate_of\":%lld}", t2,
	            t1);
	tclient_err(l, "not_found",
	            "{\"op\":\"cancel\",\"ticket\":%lld,\"version\":1,\"duplicate_of\":%lld}", t2,
	            t1);
	tclient_err(z, "bad_request", "{\"op\":\"cancel\",\"ticket\":%lld,\"version\":1}", t2);
	tclient_err(z, "bad_request",
	            "{\"op\":\"cancel\",\"ticket\":%lld,\"version\":1,\"duplicate_of\":%lld}", t2,
	            t2);
	tclient_err(z, "bad_request",
	            "{\"op\":\"cancel\",\"ticket\":%lld,\"version\":1,\"duplicate_of\":999999999}",
	            t2);
	tclient_err(z, "conflict",
	            "{\"op\":\"cancel\",\"ticket\":%lld,\"version\":2,\"duplicate_of\":%lld}", t2,
	            t1);
	r = tclient_ok(z, "{\"op\":\"cancel\",\"ticket\":%lld,\"version\":1,\"duplicate_of\":%lld}",
	               t2, t1);
	ck_assert_str_eq(tj_ticket_state(r), "cancelled");
	ck_assert_int_eq(tj_ticket_version(r), 2);
	ck_assert_int_eq(tj_int(r, "result.ticket.duplicate_of"), t1);
	ck_assert_str_eq(tj_str(r, "result.ticket.close_kind"), "cancelled");
	ck_assert_int_eq(tj_int(r, "result.event.data.duplicate_of"), t1);
	tclient_err(z, "bad_state", "{\"op\":\"dispatch\",\"ticket\":%lld,\"version\":2}", t2);
	tclient_err(z, "bad_state", "{\"op\":\"urge\",\"ticket\":%lld}", t2);
	tclient_err(s, "bad_state", "{\"op\":\"urge\",\"ticket\":%lld}", t2);
	tclient_err(z, "bad_state",
	            "{\"op\":\"cancel\",\"ticket\":%lld,\"version\":2,\"reason\":\"重复\"}", t2);

	/* Cancelled with a reason, and comments still work on a cancelled ticket. */
	r = tclient_ok(
	        z, "{\"op\":\"cancel\",\"ticket\":%lld,\"version\":1,\"reason\":\"无效举报\"}", t1);
	ck_assert_str_eq(tj_ticket_state(r), "cancelled");
	tclient_ok(w, "{\"op\":\"comment\",\"ticket\":%lld,\"text\":\"知道了\"}", t2);
	r = tclient_ok(w, "{\"op\":\"get\",\"ticket\":%lld}", t2);
	ck_assert_str_eq(actions_of(r), "report,cancel,comment");

	tclient_close(w);
	tclient_close(z);
	tclient_close(l);
	tclient_close(s);
}
END_TEST

START_TEST(who_may_report)
{
	struct tclient *w = tclient_connect(d, "wang.fang");
	struct tclient *z = tclient_connect(d, "zhang.wei");
	struct tclient *y = tclient_connect(d, "yang.min");
	struct tclient *s = tclient_connect(d, "sun.li");
	struct tclient *a = tclient_connect(d, "admin");
	json_object *r;

	tclient_err(y, "forbidden", REPORT_FMT, id.dust, id.grid02);
	tclient_err(s, "forbidden", REPORT_FMT, id.dust, id.grid02);
	tclient_err(a, "forbidden", REPORT_FMT, id.dust, id.grid02);
	tclient_err(w, "forbidden", REPORT_FMT, id.dust, id.grid_jg01); /* zhao.lei's grid */
	tclient_err(w, "forbidden", REPORT_FMT, id.dust, id.grid_bn01);
	tclient_err(z, "forbidden", REPORT_FMT, id.dust, id.grid_bn01); /* another street */
	tclient_err(w, "bad_request", REPORT_FMT, 999999LL, id.grid02);
	tclient_err(w, "bad_request", REPORT_FMT, id.dust, 999999LL);
	tclient_err(w, "bad_request",
	            "{\"op\":\"report\",\"category\":%lld,\"grid\":%lld,\"description\":\"  \"}",
	            id.dust, id.grid02);
	tclient_err(w, "bad_request",
	            "{\"op\":\"report\",\"category\":%lld,\"grid\":%lld,\"description\":\"x\","
	            "\"lat\":44.0}",
	            id.dust, id.grid02);
	tclient_err(w, "bad_request",
	            "{\"op\":\"report\",\"category\":%lld,\"grid\":%lld,\"description\":\"x\","
	            "\"lat\":144.0,\"lon\":87.3}",
	            id.dust, id.grid02);

	/* Street staff report anywhere in their street; urgent and coordinates kept. */
	r = tclient_ok(z,
	               "{\"op\":\"report\",\"category\":%lld,\"grid\":%lld,\"description\":\"%s\","
	               "\"lat\":44.0113,\"lon\":87.3041,\"urgent\":true}",
	               id.garbage, id.grid_jg01, marker("street report"));
	ck_assert_str_eq(tj_ticket_state(r), "reported");
	ck_assert(tj_bool(r, "result.ticket.urgent"));
	ck_assert_int_eq(tj_int(r, "result.ticket.reporter_id"), id.zhang);
	r = tclient_ok(z, "{\"op\":\"route\",\"ticket\":%lld}", tj_ticket_id(r));
	ck_assert_str_eq(tj_str(r, "result.department.code"), "cgj");

	tclient_close(w);
	tclient_close(z);
	tclient_close(y);
	tclient_close(s);
	tclient_close(a);
}
END_TEST

START_TEST(scope_of_list_and_overdue)
{
	struct tclient *w = tclient_connect(d, "wang.fang");
	struct tclient *z = tclient_connect(d, "zhang.wei");
	struct tclient *y = tclient_connect(d, "yang.min");
	struct tclient *ch = tclient_connect(d, "chen.jing");
	struct tclient *l = tclient_connect(d, "liu.yang");
	struct tclient *s = tclient_connect(d, "sun.li");
	struct tclient *so = tclient_connect(d, "t.supervisor.other");
	struct tclient *a = tclient_connect(d, "admin");
	const char *desc = marker("scope");
	json_object *r;
	long long t, first, l_street, ch_dept, y_dept;

	t = report_dust(w, desc);
	tclient_ok(z, "{\"op\":\"dispatch\",\"ticket\":%lld,\"version\":1}", t);

	r = tclient_ok(l, "{\"op\":\"whoami\"}");
	l_street = tj_int(r, "result.account.street_id");
	ck_assert_int_eq(l_street, id.street_bn);
	r = tclient_ok(ch, "{\"op\":\"whoami\"}");
	ch_dept = tj_int(r, "result.account.department_id");
	ck_assert_int_eq(ch_dept, id.cgj);
	r = tclient_ok(y, "{\"op\":\"whoami\"}");
	y_dept = tj_int(r, "result.account.department_id");

	/* liu.yang (beijingnanlu) sees none of jianguolu's tickets. */
	tclient_err(l, "not_found", "{\"op\":\"get\",\"ticket\":%lld}", t);
	r = tclient_ok(l, "{\"op\":\"list\",\"limit\":200}");
	list_all(r, "street_id", l_street);
	ck_assert(!list_has(r, t));
	r = tclient_ok(l, "{\"op\":\"list\",\"text\":\"%s\"}", desc);
	ck_assert_int_eq(tj_len(r, "result.tickets"), 0);
	r = tclient_ok(l, "{\"op\":\"overdue\",\"limit\":200}");
	list_all(r, "street_id", l_street);

	/* The street office and the reporter see it; so does the district's supervisor. */
	r = tclient_ok(z, "{\"op\":\"list\",\"text\":\"%s\"}", desc);
	ck_assert_int_eq(tj_len(r, "result.tickets"), 1);
	ck_assert(list_has(r, t));
	r = tclient_ok(z, "{\"op\":\"list\",\"limit\":200}");
	list_all(r, "street_id", id.street_jg);
	r = tclient_ok(w, "{\"op\":\"list\",\"limit\":200}");
	list_all(r, "reporter_id", id.wang);
	ck_assert(list_has(r, t));
	r = tclient_ok(s, "{\"op\":\"list\",\"text\":\"%s\"}", desc);
	ck_assert(list_has(r, t));
	r = tclient_ok(so, "{\"op\":\"list\",\"text\":\"%s\"}", desc);
	ck_assert_int_eq(tj_len(r, "result.tickets"), 0);
	tclient_err(so, "not_found", "{\"op\":\"get\",\"ticket\":%lld}", t);

	/* Departments see what is assigned to them: chen.jing not sthj's. */
	r = tclient_ok(y, "{\"op\":\"list\",\"text\":\"%s\"}", desc);
	ck_assert(list_has(r, t));
	r = tclient_ok(y, "{\"op\":\"list\",\"limit\":200}");
	list_all(r, "department_id", y_dept);
	r = tclient_ok(ch, "{\"op\":\"list\",\"text\":\"%s\"}", desc);
	ck_assert_int_eq(tj_len(r, "result.tickets"), 0);
	r = tclient_ok(ch, "{\"op\":\"list\",\"limit\":200}");
	list_all(r, "department_id", ch_dept);
	ck_assert(!list_has(r, t));
	r = tclient_ok(ch, "{\"op\":\"overdue\",\"limit\":200}");
	list_all(r, "department_id", ch_dept);
	tclient_err(ch, "not_found", "{\"op\":\"get\",\"ticket\":%lld}", t);

	/* An admin does no ticket work and sees none. */
	r = tclient_ok(a, "{\"op\":\"list\"}");
	ck_assert_int_eq(tj_len(r, "result.tickets"), 0);
	r = tclient_ok(a, "{\"op\":\"overdue\"}");
	ck_assert_int_eq(tj_len(r, "result.tickets"), 0);

	/* Filters and paging: newest first, `next` as `after`. */
	r = tclient_ok(z, "{\"op\":\"list\",\"state\":\"dispatched\",\"limit\":200}");
	for (size_t i = 0; i < tj_len(r, "result.tickets"); i++) {
		char path[64];

		snprintf(path, sizeof(path), "result.tickets.%zu.state", i);
		ck_assert_str_eq(tj_str(r, path), "dispatched");
	}
	ck_assert(list_has(r, t));
	r = tclient_ok(z, "{\"op\":\"list\",\"department\":%lld,\"category\":%lld,\"limit\":200}",
	               id.sthj, id.dust);
	ck_assert(list_has(r, t));
	list_all(r, "department_id", id.sthj);
	list_all(r, "category_id", id.dust);
	r = tclient_ok(z, "{\"op\":\"list\",\"grid\":%lld,\"limit\":200}", id.grid02);
	list_all(r, "grid_id", id.grid02);
	report_dust(w, marker("scope second"));
	r = tclient_ok(z, "{\"op\":\"list\",\"limit\":1}");
	ck_assert_int_eq(tj_len(r, "result.tickets"), 1);
	first = tj_int(r, "result.tickets.0.id");
	ck_assert_msg(tj_get(r, "result.next") != NULL, "no next cursor: %s", tj_dump(r));
	r = tclient_ok(z, "{\"op\":\"list\",\"limit\":1,\"after\":%lld}", tj_int(r, "result.next"));
	ck_assert_int_eq(tj_len(r, "result.tickets"), 1);
	ck_assert_int_lt(tj_int(r, "result.tickets.0.id"), first);
	tclient_err(z, "bad_request", "{\"op\":\"list\",\"limit\":0}");
	tclient_err(z, "bad_request", "{\"op\":\"list\",\"limit\":201}");
	tclient_err(z, "bad_request", "{\"op\":\"list\",\"state\":\"sleeping\"}");
	tclient_err(z, "bad_request", "{\"op\":\"list\",\"overdue\":\"yes\"}");

	tclient_close(w);
	tclient_close(z);
	tclient_close(y);
	tclient_close(ch);
	tclient_close(l);
	tclient_close(s);
	tclient_close(so);
	tclient_close(a);
}
END_TEST

START_TEST(whoami_every_role)
{
	static const struct {
		const char *login, *role;
	} who[] = {
		{ "wang.fang", "collector" },    { "li.na", "collector" },
		{ "zhang.wei", "street" },       { "liu.yang", "street" },
		{ "chen.jing", "department" },   { "yang.min", "department" },
		{ "huang.qiang", "department" }, { "sun.li", "supervisor" },
		{ "ma.jun", "supervisor" },      { "admin", "admin" },
	};
	PGconn *db = tdb_connect(false);

	for (size_t i = 0; i < sizeof(who) / sizeof(who[0]); i++) {
		struct tclient *c = tclient_connect(d, who[i].login);
		json_object *r = tclient_ok(c, "{\"op\":\"whoami\"}");
		const char *server = tj_str(r, "result.server");

		ck_assert_str_eq(tj_str(r, "result.account.login"), who[i].login);
		ck_assert_str_eq(tj_str(r, "result.account.role"), who[i].role);
		ck_assert_int_eq(tj_int(r, "result.account.id"), tdb_account(db, who[i].login));
		ck_assert_ptr_nonnull(tj_str(r, "result.account.name"));
		ck_assert_int_eq(tj_int(r, "result.protocol"), 1);
		ck_assert_msg(server != NULL && strncmp(server, "streetd", 7) == 0, "%s",
		              tj_dump(r));
		ck_assert_msg(tj_get(r, "result.account.grids") != NULL, "no grids: %s",
		              tj_dump(r));
		if (strcmp(who[i].login, "wang.fang") == 0) {
			ck_assert_int_eq(tj_len(r, "result.account.grids"), 3);
			ck_assert_int_eq(tj_int(r, "result.account.street_id"), id.street_jg);
		}
		if (strcmp(who[i].login, "zhang.wei") == 0)
			ck_assert_int_eq(tj_int(r, "result.account.street_id"), id.street_jg);
		if (strcmp(who[i].login, "yang.min") == 0)
			ck_assert_int_eq(tj_int(r, "result.account.department_id"), id.sthj);
		if (strcmp(who[i].login, "sun.li") == 0)
			ck_assert_int_gt(tj_int(r, "result.account.district_id"), 0);
		if (strcmp(who[i].login, "ma.jun") == 0)
			ck_assert_msg(tj_is_null(r, "result.account.district_id"), "%s",
			              tj_dump(r));
		tclient_close(c);
	}
	PQfinish(db);
}
END_TEST

START_TEST(idempotent_retries)
{
	struct tclient *w = tclient_connect(d, "wang.fang");
	struct tclient *z = tclient_connect(d, "zhang.wei");
	char key[96], key2[128];
	const char *desc = marker("idem");
	json_object *r1, *r2, *r;
	long long t;

	snprintf(key, sizeof(key), "e2e-idem-%d-%lld", (int)getpid(), tnow_ms());
	snprintf(key2, sizeof(key2), "%s-b", key);
	r1 = tclient_ok(w, KEYED_FMT, id.dust, id.grid02, desc, key);
	t = tj_ticket_id(r1);
	ck_assert(!tj_bool(r1, "result.replayed"));
	r2 = tclient_ok(w, KEYED_FMT, id.dust, id.grid02, desc, key);
	ck_assert_int_eq(tj_ticket_id(r2), t);
	ck_assert_msg(tj_bool(r2, "result.replayed"), "not replayed: %s", tj_dump(r2));
	ck_assert_int_eq(tj_int(r2, "result.event.seq"), tj_int(r1, "result.event.seq"));
	/* A retry on another connection of the same account replays too. */
	{
		struct tclient *w2 = tclient_connect(d, "wang.fang");

		r = tclient_ok(w2, KEYED_FMT, id.dust, id.grid02, desc, key);
		ck_assert_int_eq(tj_ticket_id(r), t);
		ck_assert(tj_bool(r, "result.replayed"));
		tclient_close(w2);
	}
	r = tclient_ok(z, "{\"op\":\"list\",\"text\":\"%s\"}", desc);
	ck_assert_int_eq(tj_len(r, "result.tickets"), 1);

	/* The same key for another action is refused; keys are per account. */
	tclient_err(w, "bad_request",
	            "{\"op\":\"comment\",\"ticket\":%lld,\"text\":\"x\",\"key\":\"%s\"}", t, key);
	r = tclient_ok(z, KEYED_FMT, id.dust, id.grid02, marker("idem other account"), key);
	ck_assert_int_ne(tj_ticket_id(r), t);
	ck_assert(!tj_bool(r, "result.replayed"));

	/* A replay holds even after the ticket moved on. */
	r1 = tclient_ok(z, "{\"op\":\"dispatch\",\"ticket\":%lld,\"version\":1,\"key\":\"%s-d\"}",
	                t, key);
	ck_assert_int_eq(tj_ticket_version(r1), 2);
	r2 = tclient_ok(z, "{\"op\":\"dispatch\",\"ticket\":%lld,\"version\":1,\"key\":\"%s-d\"}",
	                t, key);
	ck_assert(tj_bool(r2, "result.replayed"));
	ck_assert_int_eq(tj_ticket_version(r2), 2);
	ck_assert_int_eq(tj_int(r2, "result.event.seq"), tj_int(r1, "result.event.seq"));

	/* A refused attempt leaves its key unused. */
	tclient_err(w, "forbidden", KEYED_FMT, id.dust, id.grid_bn01, desc, key2);
	r = tclient_ok(w, KEYED_FMT, id.dust, id.grid02, desc, key2);
	ck_assert(!tj_bool(r, "result.replayed"));
	ck_assert_int_ne(tj_ticket_id(r), t);

	tclient_err(w, "bad_request", KEYED_FMT, id.dust, id.grid02, desc, "");
	tclient_close(w);
	tclient_close(z);
}
END_TEST

/* ---- photos ---- */

static void sha256_hex(const unsigned char *p, size_t n, char out[65])
{
	unsigned char md[32];

	SHA256(p, n, md);
	for (int i = 0; i < 32; i++)
		snprintf(out + 2 * i, 3, "%02x", md[i]);
}

static char *b64(const unsigned char *p, size_t n)
{
	char *out = malloc(4 * ((n + 2) / 3) + 1);

	ck_assert_ptr_nonnull(out);
	EVP_EncodeBlock((unsigned char *)out, p, (int)n);
	return out;
}

static size_t unb64(const char *s, unsigned char *out, size_t cap)
{
	size_t len = strlen(s);
	int n;

	ck_assert_uint_le(len / 4 * 3, cap);
	n = EVP_DecodeBlock(out, (const unsigned char *)s, (int)len);
	ck_assert_int_ge(n, 0);
	if (len >= 1 && s[len - 1] == '=')
		n--;
	if (len >= 2 && s[len - 2] == '=')
		n--;
	return (size_t)n;
}

/* Uploads bytes in two chunks; returns the photo id. */
static long long upload(struct tclient *c, const unsigned char *p, size_t n)
{
	char sha[65];
	char *c1, *c2;
	json_object *r;
	long long up;
	size_t half = n / 2;

	sha256_hex(p, n, sha);
	r = tclient_ok(c, "{\"op\":\"photo_begin\",\"size\":%zu,\"sha256\":\"%s\"}", n, sha);
	up = tj_int(r, "result.upload");
	ck_assert_msg(tj_get(r, "result.upload") != NULL, "%s", tj_dump(r));
	c1 = b64(p, half);
	c2 = b64(p + half, n - half);
	r = tclient_ok(c, "{\"op\":\"photo_chunk\",\"upload\":%lld,\"offset\":0,\"data\":\"%s\"}",
	               up, c1);
	ck_assert_int_eq(tj_int(r, "result.received"), (long long)half);
	/* A chunk at the wrong offset is refused and changes nothing. */
	tclient_err(c, "bad_request",
	            "{\"op\":\"photo_chunk\",\"upload\":%lld,\"offset\":0,\"data\":\"%s\"}", up,
	            c2);
	r = tclient_ok(c, "{\"op\":\"photo_chunk\",\"upload\":%lld,\"offset\":%zu,\"data\":\"%s\"}",
	               up, half, c2);
	ck_assert_int_eq(tj_int(r, "result.received"), (long long)n);
	free(c1);
	free(c2);
	r = tclient_ok(c, "{\"op\":\"photo_end\",\"upload\":%lld}", up);
	ck_assert_str_eq(tj_str(r, "result.photo.mime"), "image/png");
	ck_assert_int_eq(tj_int(r, "result.photo.size"), (long long)n);
	ck_assert_str_eq(tj_str(r, "result.photo.sha256"), sha);
	return tj_int(r, "result.photo.id");
}

START_TEST(photo_upload_attach_download)
{
	struct tclient *w = tclient_connect(d, "wang.fang");
	struct tclient *z = tclient_connect(d, "zhang.wei");
	struct tclient *l = tclient_connect(d, "liu.yang");
	unsigned char png[100], got[256];
	char sha[65], zeros[65];
	char *enc;
	json_object *r;
	long long photo, t, up, left[4];
	size_t n, nleft = 0;

	memcpy(png, "\x89PNG\r\n\x1a\n", 8);
	for (size_t i = 8; i < sizeof(png); i++)
		png[i] = (unsigned char)(i * 37 + (size_t)getpid());
	/* a valid chunk structure: IHDR 1x1, an IDAT of the pattern, IEND */
	memcpy(png + 8, "\0\0\0\x0dIHDR\0\0\0\x01\0\0\0\x01", 16);
	memcpy(png + 33, "\0\0\0\x2bIDAT", 8);
	memcpy(png + 88, "\0\0\0\0IEND", 8);
	sha256_hex(png, sizeof(png), sha);

	photo = upload(w, png, sizeof(png));
	ck_assert_int_gt(photo, 0);
	r = tclient_ok(w,
	               "{\"op\":\"report\",\"category\":%lld,\"grid\":%lld,\"description\":\"%s\","
	               "\"photos\":[%lld]}",
	               id.dust, id.grid02, marker("photo"), photo);
	t = tj_ticket_id(r);

	/* Attached once only. */
	tclient_err(w, "bad_request",
	            "{\"op\":\"report\",\"category\":%lld,\"grid\":%lld,\"description\":\"again\","
	            "\"photos\":[%lld]}",
	            id.dust, id.grid02, photo);

	r = tclient_ok(z, "{\"op\":\"get\",\"ticket\":%lld}", t);
	ck_assert_int_eq(tj_len(r, "result.photos"), 1);
	ck_assert_int_eq(tj_int(r, "result.photos.0.id"), photo);
	ck_assert_str_eq(tj_str(r, "result.photos.0.sha256"), sha);
	ck_assert_str_eq(tj_str(r, "result.photos.0.mime"), "image/png");
	ck_assert_int_eq(tj_int(r, "result.photos.0.size"), (long long)sizeof(png));

	r = tclient_ok(z, "{\"op\":\"photo_get\",\"photo\":%lld}", photo);
	ck_assert_int_eq(tj_int(r, "result.photo.ticket_id"), t);
	ck_assert_str_eq(tj_str(r, "result.photo.sha256"), sha);
	ck_assert_int_eq(tj_int(r, "result.offset"), 0);
	n = unb64(tj_str(r, "result.data"), got, sizeof(got));
	ck_assert_uint_eq(n, sizeof(png));
	ck_assert_mem_eq(got, png, sizeof(png));
	r = tclient_ok(z, "{\"op\":\"photo_get\",\"photo\":%lld,\"offset\":50,\"length\":20}",
	               photo);
	ck_assert_int_eq(tj_int(r, "result.offset"), 50);
	n = unb64(tj_str(r, "result.data"), got, sizeof(got));
	ck_assert_uint_eq(n, 20);
	ck_assert_mem_eq(got, png + 50, 20);
	tclient_err(z, "bad_request", "{\"op\":\"photo_get\",\"photo\":%lld,\"length\":32769}",
	            photo);
	tclient_err(l, "not_found", "{\"op\":\"photo_get\",\"photo\":%lld}", photo);
	tclient_err(z, "not_found", "{\"op\":\"photo_get\",\"photo\":999999999}");

	/* Uploads that do not match what photo_begin announced. */
	memset(zeros, '0', 64);
	zeros[64] = '\0';
	r = tclient_ok(w, "{\"op\":\"photo_begin\",\"size\":%zu,\"sha256\":\"%s\"}", sizeof(png),
	               zeros);
	up = tj_int(r, "result.upload");
	left[nleft++] = up;
	enc = b64(png, sizeof(png));
	tclient_ok(w, "{\"op\":\"photo_chunk\",\"upload\":%lld,\"offset\":0,\"data\":\"%s\"}", up,
	           enc);
	tclient_err(w, "bad_request", "{\"op\":\"photo_end\",\"upload\":%lld}", up);
	r = tclient_ok(w, "{\"op\":\"photo_begin\",\"size\":%zu,\"sha256\":\"%s\"}", sizeof(png),
	               sha);
	up = tj_int(r, "result.upload");
	left[nleft++] = up;
	tclient_ok(w, "{\"op\":\"photo_chunk\",\"upload\":%lld,\"offset\":0,\"data\":\"%.40s\"}",
	           up, enc);
	tclient_err(w, "bad_request", "{\"op\":\"photo_end\",\"upload\":%lld}", up);
	free(enc);
	{
		static const unsigned char text[] = "this is not an image, just some text bytes!";
		char tsha[65];

		sha256_hex(text, sizeof(text) - 1, tsha);
		r = tclient_ok(w, "{\"op\":\"photo_begin\",\"size\":%zu,\"sha256\":\"%s\"}",
		               sizeof(text) - 1, tsha);
		up = tj_int(r, "result.upload");
		left[nleft++] = up;
		enc = b64(text, sizeof(text) - 1);
		tclient_ok(w,
		           "{\"op\":\"photo_chunk\",\"upload\":%lld,\"offset\":0,\"data\":\"%s\"}",
		           up, enc);
		free(enc);
		tclient_err(w, "bad_request", "{\"op\":\"photo_end\",\"upload\":%lld}", up);
	}
	/* Someone else's upload is not found. */
	r = tclient_ok(w, "{\"op\":\"photo_begin\",\"size\":%zu,\"sha256\":\"%s\"}", sizeof(png),
	               sha);
	up = tj_int(r, "result.upload");
	left[nleft++] = up;
	tclient_err(z, "not_found",
	            "{\"op\":\"photo_chunk\",\"upload\":%lld,\"offset\":0,\"data\":\"AAAA\"}", up);
	tclient_err(
	        w, "bad_request",
	        "{\"op\":\"photo_chunk\",\"upload\":%lld,\"offset\":0,\"data\":\"not base64!\"}",
	        up);
	/* Over limits.max_photo (5 MiB): too_large, and the session goes on. */
	tclient_err(w, "too_large", "{\"op\":\"photo_begin\",\"size\":104857600,\"sha256\":\"%s\"}",
	            sha);
	tclient_err(w, "bad_request", "{\"op\":\"photo_begin\",\"size\":100,\"sha256\":\"XYZ\"}");
	tclient_ok(w, "{\"op\":\"whoami\"}");

	/* The uploads left unfinished count against wang.fang's 20: remove them. */
	{
		PGconn *admin = tdb_connect(true);

		for (size_t i = 0; i < nleft; i++) {
			const char *p[] = { tdb_fmt("%lld", left[i]) };

			tdb_int(admin, "DELETE FROM street.photo_upload WHERE id = $1", 1, p);
		}
		PQfinish(admin);
	}

	tclient_close(w);
	tclient_close(z);
	tclient_close(l);
}
END_TEST

/* Two sessions racing: one dispatch wins, the other is a conflict; two retries of
 * one keyed report make one ticket. */
START_TEST(racing_sessions)
{
	struct tclient *w = tclient_connect(d, "wang.fang");
	struct tclient *w2 = tclient_connect(d, "wang.fang");
	struct tclient *z1 = tclient_connect(d, "zhang.wei");
	struct tclient *z2 = tclient_connect(d, "zhang.wei");
	long long t = report_dust(w, marker("race"));
	char line[512], key[96];
	json_object *r1, *r2;
	int ok = 0;

	snprintf(line, sizeof(line), "{\"id\":1,\"op\":\"dispatch\",\"ticket\":%lld,\"version\":1}",
	         t);
	ck_assert_int_eq(tclient_send(z1, line), 0);
	ck_assert_int_eq(tclient_send(z2, line), 0);
	r1 = tclient_recv(z1, 10000);
	r2 = tclient_recv(z2, 10000);
	ck_assert_msg(r1 != NULL && r2 != NULL, "a racing dispatch got no reply");
	ok = tj_ok(r1) + tj_ok(r2);
	ck_assert_msg(ok == 1, "%d of 2 racing dispatches succeeded: %s / %s", ok, tj_dump(r1),
	              tj_dump(r2));
	ck_assert_reply_code(tj_ok(r1) ? r2 : r1, "conflict");

	snprintf(key, sizeof(key), "e2e-race-%d-%lld", (int)getpid(), tnow_ms());
	snprintf(line, sizeof(line),
	         "{\"id\":2,\"op\":\"report\",\"category\":%lld,\"grid\":%lld,"
	         "\"description\":\"race %s\",\"key\":\"%s\"}",
	         id.dust, id.grid02, key, key);
	ck_assert_int_eq(tclient_send(w, line), 0);
	ck_assert_int_eq(tclient_send(w2, line), 0);
	r1 = tclient_recv(w, 10000);
	r2 = tclient_recv(w2, 10000);
	ck_assert_reply_ok(r1);
	ck_assert_reply_ok(r2);
	ck_assert_int_eq(tj_ticket_id(r1), tj_ticket_id(r2));
	ck_assert_msg(tj_bool(r1, "result.replayed") != tj_bool(r2, "result.replayed"),
	              "exactly one should be a replay: %s / %s", tj_dump(r1), tj_dump(r2));

	tclient_close(w);
	tclient_close(w2);
	tclient_close(z1);
	tclient_close(z2);
}
END_TEST

/*
 * Every role against every action in every state, over the wire: the expected
 * refusal comes from the C rule table (checked against the SQL one by
 * test_rules) and the visibility rules, in the order of docs/decisions.md.
 * Cases that would act are left to the tests above (they change the ticket).
 */
struct mactor {
	const char *login;
	enum role role;
	bool sees_reported; /* sees a ticket of wang.fang's in jianguolu with no department */
	bool sees_assigned; /* ... and one assigned to sthj */
};

START_TEST(refusal_matrix)
{
	static const struct mactor actors[] = {
		{ "wang.fang", ROLE_COLLECTOR, true, true }, /* the reporter */
		{ "li.na", ROLE_COLLECTOR, false, false },
		{ "zhang.wei", ROLE_STREET, true, true },
		{ "liu.yang", ROLE_STREET, false, false },
		{ "yang.min", ROLE_DEPARTMENT, false, true }, /* sthj */
		{ "chen.jing", ROLE_DEPARTMENT, false, false },
		{ "sun.li", ROLE_SUPERVISOR, true, true },
		{ "t.supervisor.other", ROLE_SUPERVISOR, false, false },
		{ "admin", ROLE_ADMIN, false, false },
	};
	static const struct {
		enum ticket_action action;
		const char *extra; /* the action's own fields */
	} actions[] = {
		{ ACT_DISPATCH, "" },
		{ ACT_RETURN, ",\"reason\":\"不归我们\",\"department\":1" },
		{ ACT_ACCEPT, "" },
		{ ACT_RESOLVE, ",\"note\":\"好了\"" },
		{ ACT_CONFIRM, ",\"rating\":4" },
		{ ACT_REOPEN, ",\"reason\":\"没好\"" },
		{ ACT_CANCEL, ",\"reason\":\"无效\"" },
		{ ACT_URGE, ",\"note\":\"快\"" },
		{ ACT_EXTEND_REQUEST,
		  ",\"until\":\"2030-06-28T17:00:00+08:00\",\"reason\":\"慢\"" },
		{ ACT_EXTEND_GRANT, "" },
		{ ACT_EXTEND_DENY, "" },
		{ ACT_COMMENT, ",\"text\":\"看看\"" },
		{ ACT_ARBITRATE, ",\"return_seq\":1,\"upheld\":true" },
	};
	struct {
		enum ticket_state state;
		long long id;
		int version;
		bool assigned; /* department_id = sthj */
	} tickets[6];
	struct tclient *c[sizeof(actors) / sizeof(actors[0])];
	struct tclient *w, *z, *y;
	int checked = 0;

	for (size_t i = 0; i < sizeof(actors) / sizeof(actors[0]); i++)
		c[i] = tclient_connect(d, actors[i].login);
	w = c[0];
	z = c[2];
	y = c[4];
	for (int s = TICKET_REPORTED; s <= TICKET_CANCELLED; s++) {
		long long t = report_dust(w, marker("matrix"));
		int v = 1;

		if (s == TICKET_CANCELLED) {
			tclient_ok(z,
			           "{\"op\":\"cancel\",\"ticket\":%lld,\"version\":1,\"reason\":"
			           "\"x\"}",
			           t);
			v = 2;
		}
		if (s >= TICKET_DISPATCHED && s <= TICKET_CLOSED)
			tclient_ok(z, "{\"op\":\"dispatch\",\"ticket\":%lld,\"version\":%d}", t,
			           v++);
		if (s >= TICKET_ACCEPTED && s <= TICKET_CLOSED)
			tclient_ok(y, "{\"op\":\"accept\",\"ticket\":%lld,\"version\":%d}", t, v++);
		if (s >= TICKET_RESOLVED && s <= TICKET_CLOSED)
			tclient_ok(y,
			           "{\"op\":\"resolve\",\"ticket\":%lld,\"version\":%d,\"note\":"
			           "\"n\"}",
			           t, v++);
		if (s == TICKET_CLOSED)
			tclient_ok(
			        w,
			        "{\"op\":\"confirm\",\"ticket\":%lld,\"version\":%d,\"rating\":5}",
			        t, v++);
		tickets[s].state = (enum ticket_state)s;
		tickets[s].id = t;
		tickets[s].version = v;
		tickets[s].assigned = s >= TICKET_DISPATCHED && s <= TICKET_CLOSED;
		ck_assert_str_eq(tj_str(tclient_ok(z, "{\"op\":\"get\",\"ticket\":%lld}", t),
		                        "result.ticket.state"),
		                 ticket_state_name((enum ticket_state)s));
	}

	for (size_t a = 0; a < sizeof(actors) / sizeof(actors[0]); a++) {
		for (int s = TICKET_REPORTED; s <= TICKET_CANCELLED; s++) {
			for (size_t k = 0; k < sizeof(actions) / sizeof(actions[0]); k++) {
				enum ticket_action act = actions[k].action;
				bool sees = tickets[s].assigned ? actors[a].sees_assigned
				                                : actors[a].sees_reported;
				const char *want;

				if (!sees)
					want = "not_found";
				else if (!ticket_role_may(act, actors[a].role))
					want = "forbidden";
				else if (ticket_rule_find(act, tickets[s].state, actors[a].role) ==
				         NULL)
					want = "bad_state";
				else if (act == ACT_EXTEND_GRANT || act == ACT_EXTEND_DENY)
					want = "bad_state"; /* nothing pending */
				else
					continue; /* it would act */
				tclient_err(c[a], want,
				            "{\"op\":\"%s\",\"ticket\":%lld,\"version\":%d%s}",
				            ticket_action_name(act), tickets[s].id,
				            tickets[s].version, actions[k].extra);
				checked++;
			}
		}
	}
	ck_assert_int_gt(checked, 400);
	/* Nothing refused changed anything. */
	for (int s = TICKET_REPORTED; s <= TICKET_CANCELLED; s++) {
		json_object *r = tclient_ok(z, "{\"op\":\"get\",\"ticket\":%lld}", tickets[s].id);

		ck_assert_int_eq(tj_int(r, "result.ticket.version"), tickets[s].version);
		ck_assert_int_eq(tj_int(r, "result.ticket.urge_count"), 0);
	}
	for (size_t i = 0; i < sizeof(actors) / sizeof(actors[0]); i++)
		tclient_close(c[i]);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("daemon_loop");
	TCase *tc = tcase_create("loop");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, whole_loop);
	tcase_add_test(tc, return_override_arbitrate_extend_urge_comment_reopen);
	tcase_add_test(tc, ruling_sends_the_ticket_and_tells_its_new_holder);
	tcase_add_test(tc, cancel_as_duplicate);
	tcase_add_test(tc, who_may_report);
	tcase_add_test(tc, scope_of_list_and_overdue);
	tcase_add_test(tc, whoami_every_role);
	tcase_add_test(tc, idempotent_retries);
	tcase_add_test(tc, photo_upload_attach_download);
	tcase_add_test(tc, racing_sessions);
	tcase_add_test(tc, refusal_matrix);
	suite_add_tcase(s, tc);
	return tdaemon_run_suite(s);
}
