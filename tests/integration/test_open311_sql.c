/*
 * Open311 GeoReport v2 on the real database (sql/functions/88_open311.sql):
 * each op's result shape, GET requests' filters and defaults, POST requests
 * with good, unknown and revoked keys, bad places and attributes, and that a
 * refused post writes nothing.
 *
 * The read tests build their tickets inside a transaction they roll back
 * (as the superuser, straight into street.ticket like bench/growth.sql), so
 * no other suite ever sees them; the post tests commit for real, in the demo
 * grids that have boundaries (sql/demo/changji.sql), as the daemon's role.
 */
#include <check.h>
#include <json-c/json.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tdb.h"

static PGconn *db; /* the daemon's role */
static PGconn *adm;

static void setup(void)
{
	db = tdb_connect(false);
	adm = tdb_connect(true);
}

static void teardown(void)
{
	PQfinish(db);
	PQfinish(adm);
}

static void exec_ok(PGconn *c, const char *sql)
{
	PGresult *r = PQexec(c, sql);

	ck_assert_msg(PQresultStatus(r) == PGRES_COMMAND_OK || PQresultStatus(r) == PGRES_TUPLES_OK,
	              "%s: %s", sql, PQerrorMessage(c));
	PQclear(r);
}

/* Runs sql (one json column); returns the parsed value, or NULL with state
 * and msg set.  On an error inside a transaction, rolls back to savepoint o. */
static json_object *call(PGconn *c, const char *sql, int n, const char *const *p, char state[6],
                         char *msg, size_t msglen)
{
	PGresult *r;
	json_object *o = NULL;
	bool in_tx = PQtransactionStatus(c) == PQTRANS_INTRANS;

	if (in_tx)
		exec_ok(c, "SAVEPOINT o");
	r = tdb_query(c, sql, n, p);
	state[0] = 0;
	if (msg)
		msg[0] = 0;
	if (PQresultStatus(r) != PGRES_TUPLES_OK) {
		const char *st = PQresultErrorField(r, PG_DIAG_SQLSTATE);
		const char *m = PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY);

		snprintf(state, 6, "%s", st ? st : "?????");
		if (msg)
			snprintf(msg, msglen, "%s", m ? m : "");
		PQclear(r);
		if (in_tx)
			exec_ok(c, "ROLLBACK TO SAVEPOINT o");
		return NULL;
	}
	ck_assert_int_eq(PQntuples(r), 1);
	/* a reply is one line on the wire */
	ck_assert_ptr_null(strchr(PQgetvalue(r, 0, 0), '\n'));
	o = json_tokener_parse(PQgetvalue(r, 0, 0));
	ck_assert_ptr_nonnull(o);
	PQclear(r);
	return o;
}

static const char *str(json_object *o, const char *key)
{
	json_object *v = json_object_object_get(o, key);

	return v && json_object_is_type(v, json_type_string) ? json_object_get_string(v) : NULL;
}

/* ------------------------------------------------------------------------ */

START_TEST(test_services)
{
	char st[6];
	json_object *a = call(db, "SELECT street.st_o311_services(0)", 0, NULL, st, NULL, 0);
	json_object *noise = NULL, *def, *attrs, *when;
	static const char *const keys[] = { "service_code", "service_name", "description",
		                            "metadata",     "type",         "keywords",
		                            "group" };

	ck_assert_ptr_nonnull(a);
	ck_assert(json_object_is_type(a, json_type_array));
	for (size_t i = 0; i < json_object_array_length(a); i++) {
		json_object *s = json_object_array_get_idx(a, i);
		const char *code = str(s, "service_code");
		size_t k = 0;

		/* only leaves: a parent category is a group, not a service */
		ck_assert_str_ne(code, "pollution");
		ck_assert_str_ne(code, "construction");
		json_object_object_foreach(s, key, val)
		{
			(void)val;
			ck_assert_uint_lt(k, 7);
			ck_assert_str_eq(key, keys[k++]);
		}
		ck_assert_uint_eq(k, 7);
		ck_assert_str_eq(str(s, "type"), "realtime");
		if (strcmp(code, "pollution.noise") == 0)
			noise = s;
	}
	ck_assert_ptr_nonnull(noise);
	ck_assert_str_eq(str(noise, "service_name"), "噪声扰民");
	ck_assert_str_eq(str(noise, "group"), "环境污染");
	ck_assert_ptr_nonnull(strstr(str(noise, "keywords"), "Noise nuisance"));
	ck_assert(json_object_get_boolean(json_object_object_get(noise, "metadata")));

	def = call(db, "SELECT street.st_o311_service(NULL, 'pollution.noise')", 0, NULL, st, NULL,
	           0);
	ck_assert_ptr_nonnull(def);
	ck_assert_str_eq(str(def, "service_code"), "pollution.noise");
	attrs = json_object_object_get(def, "attributes");
	ck_assert_uint_eq(json_object_array_length(attrs), 2);
	when = json_object_array_get_idx(attrs, 0);
	ck_assert_str_eq(str(when, "code"), "when");
	ck_assert_str_eq(str(when, "datatype"), "singlevaluelist");
	ck_assert(json_object_get_boolean(json_object_object_get(when, "required")));
	ck_assert(json_object_get_boolean(json_object_object_get(when, "variable")));
	ck_assert_int_eq(json_object_get_int(json_object_object_get(when, "order")), 1);
	ck_assert_uint_eq(json_object_array_length(json_object_object_get(when, "values")), 3);
	ck_assert_str_eq(
	        str(json_object_array_get_idx(json_object_object_get(when, "values"), 1), "key"),
	        "night");
	json_object_put(def);
	json_object_put(a);

	/* unknown, and a group that is not a service: not found */
	ck_assert_ptr_null(
	        call(db, "SELECT street.st_o311_service(0, 'no.such')", 0, NULL, st, NULL, 0));
	ck_assert_str_eq(st, "SD404");
	ck_assert_ptr_null(
	        call(db, "SELECT street.st_o311_service(0, 'pollution')", 0, NULL, st, NULL, 0));
	ck_assert_str_eq(st, "SD404");
}
END_TEST

/* ------------------------------------------------------------------------ */
/* GET requests, in a transaction rolled back at the end */

static long long t_open, t_closed, t_old, t_2024;

static void requests_fixture(void)
{
	exec_ok(adm, "BEGIN");
	exec_ok(adm, "SET LOCAL search_path = street");
	exec_ok(adm, "INSERT INTO category (code, name, name_en, dispatch_s, accept_s, resolve_s,"
	             " feedback_s, urgent_dispatch_s, urgent_accept_s, urgent_resolve_s,"
	             " urgent_feedback_s) VALUES ('o311t', '测试组', 'Test group',"
	             " 1,1,1,1,1,1,1,1)");
	exec_ok(adm, "INSERT INTO category (parent_id, code, name, name_en, dispatch_s, accept_s,"
	             " resolve_s, feedback_s, urgent_dispatch_s, urgent_accept_s, urgent_resolve_s,"
	             " urgent_feedback_s) SELECT id, v, v, v, 1,1,1,1,1,1,1,1 FROM category,"
	             " unnest(ARRAY['o311t.many', 'o311t.few']) v WHERE code = 'o311t'");
	exec_ok(adm, "CREATE TEMP TABLE o311t_place ON COMMIT DROP AS SELECT g.id AS grid_id,"
	             " g.street_id, s.district_id, a.id AS reporter_id FROM grid g"
	             " JOIN street s ON s.id = g.street_id, account a"
	             " WHERE g.code = 'jg-yanan-01' AND a.login = 'zhang.wei'");
	/* 1005 open tickets in the last day: more than one page of 1000 */
	exec_ok(adm, "INSERT INTO ticket (state, category_id, urgent, grid_id, street_id,"
	             " district_id, description, reporter_id, created_at, updated_at, due_at)"
	             " SELECT 'reported', c.id, false, p.grid_id, p.street_id, p.district_id,"
	             " 'many ' || i, p.reporter_id, now() - i * interval '1 minute',"
	             " now() - i * interval '1 minute', now() + interval '1 day'"
	             " FROM category c, o311t_place p, generate_series(1, 1005) i"
	             " WHERE c.code = 'o311t.many'");
}

static long long few(const char *state, const char *created, const char *dept)
{
	const char *p[] = { state, created, dept };

	return tdb_int(adm,
	               "INSERT INTO street.ticket (state, category_id, urgent, grid_id, street_id,"
	               " district_id, description, address, lat, lon, reporter_id, department_id,"
	               " created_at, updated_at, due_at, closed_at, close_kind)"
	               " SELECT $1::street.ticket_state, c.id, false, p.grid_id, p.street_id,"
	               " p.district_id, 'few <&> ' || $1, 'Yan''an Rd 1', 44.02, 87.285,"
	               " p.reporter_id, d.id, $2::timestamptz, $2::timestamptz,"
	               " CASE WHEN $1 IN ('closed', 'cancelled') THEN NULL"
	               " ELSE now() + interval '1 day' END,"
	               " CASE WHEN $1 IN ('closed', 'cancelled') THEN $2::timestamptz END,"
	               " CASE $1 WHEN 'closed' THEN 'no_feedback' WHEN 'cancelled' THEN"
	               " 'cancelled' END"
	               " FROM street.category c, o311t_place p"
	               " LEFT JOIN street.department d ON d.code = $3"
	               " WHERE c.code = 'o311t.few' RETURNING id",
	               3, p);
}

static json_object *requests(const char *ids, const char *codes, const char *from, const char *to,
                             const char *status, char st[6])
{
	const char *p[] = { ids, codes, from, to, status };

	return call(adm, "SELECT street.st_o311_requests(0, $1, $2, $3, $4, $5)", 5, p, st, NULL,
	            0);
}

/* The ids of a result, "3,5" in its order. */
static const char *ids_of(json_object *a)
{
	static char buf[256];
	size_t n = 0;

	buf[0] = 0;
	for (size_t i = 0; i < json_object_array_length(a) && n < sizeof(buf) - 24; i++)
		n += (size_t)snprintf(buf + n, sizeof(buf) - n, "%s%s", i ? "," : "",
		                      str(json_object_array_get_idx(a, i), "service_request_id"));
	return buf;
}

static const char *ids_expect(int n, const long long *v)
{
	static char buf[256];
	size_t o = 0;

	buf[0] = 0;
	for (int i = 0; i < n; i++)
		o += (size_t)snprintf(buf + o, sizeof(buf) - o, "%s%lld", i ? "," : "", v[i]);
	return buf;
}

START_TEST(test_requests)
{
	char st[6];
	json_object *a, *r;
	static const char *const keys[] = {
		"service_request_id",
		"status",
		"status_notes",
		"service_name",
		"service_code",
		"description",
		"agency_responsible",
		"service_notice",
		"requested_datetime",
		"updated_datetime",
		"expected_datetime",
		"address",
		"address_id",
		"zipcode",
		"lat",
		"long",
		"media_url",
	};
	size_t k = 0;
	regex_t w3c;

	requests_fixture();
	t_open = few("dispatched", tdb_fmt("%s", "now"), "cgj");
	exec_ok(adm, "UPDATE ticket SET created_at = now() - interval '1 day' WHERE id = (SELECT"
	             " max(id) FROM ticket)");
	t_closed = few("cancelled", "now", NULL);
	exec_ok(adm, "UPDATE ticket SET created_at = now() - interval '2 days' WHERE id = (SELECT"
	             " max(id) FROM ticket)");
	t_old = few("reported", "now", NULL);
	exec_ok(adm, "UPDATE ticket SET created_at = now() - interval '100 days' WHERE id ="
	             " (SELECT max(id) FROM ticket)");
	t_2024 = few("closed", "2024-01-10T10:00:00+08:00", "sthj");

	/* at most 1000, newest first */
	a = requests(NULL, "o311t.many", NULL, NULL, NULL, st);
	ck_assert_ptr_nonnull(a);
	ck_assert_uint_eq(json_object_array_length(a), 1000);
	ck_assert_str_eq(str(json_object_array_get_idx(a, 0), "description"), "many 1");
	ck_assert_str_eq(str(json_object_array_get_idx(a, 999), "description"), "many 1000");
	json_object_put(a);

	/* no dates: the last 90 days (t_old and t_2024 are older) */
	a = requests(NULL, "o311t.few", NULL, NULL, NULL, st);
	ck_assert_str_eq(ids_of(a), ids_expect(2, (long long[]){ t_open, t_closed }));
	/* the spec's fields in the spec's order, W3C times in +08:00, never the reporter */
	r = json_object_array_get_idx(a, 0);
	json_object_object_foreach(r, key, val)
	{
		(void)val;
		ck_assert_uint_lt(k, 17);
		ck_assert_str_eq(key, keys[k++]);
		ck_assert_ptr_null(strstr(key, "reporter"));
	}
	ck_assert_uint_eq(k, 17);
	ck_assert_str_eq(str(r, "status"), "open");
	ck_assert_str_eq(str(r, "agency_responsible"), "城市管理局");
	ck_assert_str_eq(str(r, "service_code"), "o311t.few");
	ck_assert_str_eq(str(r, "description"), "few <&> dispatched");
	ck_assert_str_eq(str(r, "address"), "Yan'an Rd 1");
	ck_assert(json_object_get_double(json_object_object_get(r, "long")) == 87.285);
	ck_assert_int_eq(regcomp(&w3c,
	                         "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\\+08:00$",
	                         REG_EXTENDED | REG_NOSUB),
	                 0);
	ck_assert_int_eq(regexec(&w3c, str(r, "requested_datetime"), 0, NULL, 0), 0);
	ck_assert_int_eq(regexec(&w3c, str(r, "expected_datetime"), 0, NULL, 0), 0);
	regfree(&w3c);
	r = json_object_array_get_idx(a, 1);
	ck_assert_str_eq(str(r, "status"), "closed");
	ck_assert_ptr_null(str(r, "expected_datetime")); /* no deadline once closed */
	ck_assert_ptr_null(str(r, "agency_responsible"));
	json_object_put(a);

	/* status */
	a = requests(NULL, "o311t.few", NULL, NULL, "open", st);
	ck_assert_str_eq(ids_of(a), ids_expect(1, &t_open));
	json_object_put(a);
	a = requests(NULL, "o311t.few", NULL, NULL, "closed", st);
	ck_assert_str_eq(ids_of(a), ids_expect(1, &t_closed));
	json_object_put(a);
	a = requests(NULL, "o311t.few", NULL, NULL, "closed,open", st);
	ck_assert_uint_eq(json_object_array_length(a), 2);
	json_object_put(a);
	ck_assert_ptr_null(requests(NULL, "o311t.few", NULL, NULL, "pending", st));
	ck_assert_str_eq(st, "SD400");

	/* one bound: 90 days from it; both: as given */
	a = requests(NULL, "o311t.few", tdb_fmt("%s", "now"), NULL, NULL, st);
	ck_assert_uint_eq(json_object_array_length(a), 0);
	json_object_put(a);
	a = requests(NULL, "o311t.few,o311t.many", "2023-12-01T00:00:00Z",
	             "2024-02-01T00:00:00+08:00", NULL, st);
	ck_assert_str_eq(ids_of(a), ids_expect(1, &t_2024));
	ck_assert_str_eq(str(json_object_array_get_idx(a, 0), "agency_responsible"), "生态环境局");
	json_object_put(a);
	{
		char *from = tdb_str(adm, "SELECT (now() - interval '120 days')::text", 0, NULL);

		a = requests(NULL, "o311t.few", from, NULL, NULL, st);
		ck_assert_str_eq(ids_of(a), ids_expect(1, &t_old));
		json_object_put(a);
		free(from);
	}
	ck_assert_ptr_null(
	        requests(NULL, NULL, "2024-02-01T00:00:00Z", "2024-01-01T00:00:00Z", NULL, st));
	ck_assert_str_eq(st, "SD400");

	/* service_code: an unknown one or a group is an error */
	ck_assert_ptr_null(requests(NULL, "o311t.few,nope", NULL, NULL, NULL, st));
	ck_assert_str_eq(st, "SD404");

	/* ids: those, whatever the other filters say; newest first */
	a = requests(tdb_fmt("%lld, %lld,%lld,%lld", t_2024, t_old, t_open, t_old), "o311t.many",
	             NULL, NULL, "open", st);
	ck_assert_str_eq(ids_of(a), ids_expect(3, (long long[]){ t_open, t_old, t_2024 }));
	json_object_put(a);
	ck_assert_ptr_null(requests("1,x", NULL, NULL, NULL, NULL, st));
	ck_assert_str_eq(st, "SD400");
	ck_assert_ptr_null(requests("0", NULL, NULL, NULL, NULL, st));
	ck_assert_str_eq(st, "SD400");

	/* one request: the spec's one-element array */
	a = call(adm, "SELECT street.st_o311_request(0, $1)", 1,
	         (const char *const[]){ tdb_fmt("%lld", t_closed) }, st, NULL, 0);
	ck_assert_uint_eq(json_object_array_length(a), 1);
	ck_assert_str_eq(str(json_object_array_get_idx(a, 0), "status"), "closed");
	json_object_put(a);
	ck_assert_ptr_null(call(adm, "SELECT street.st_o311_request(0, '9007199254740991')", 0,
	                        NULL, st, NULL, 0));
	ck_assert_str_eq(st, "SD404");
	ck_assert_ptr_null(
	        call(adm, "SELECT street.st_o311_request(NULL, 'abc')", 0, NULL, st, NULL, 0));
	ck_assert_str_eq(st, "SD404");

	exec_ok(adm, "ROLLBACK");
}
END_TEST

/* GET requests without a service_code: each status (one static statement
 * per shape of the filters in st_o311_requests) over a window holding only
 * the fixture's tickets of January 2024. */
START_TEST(test_requests_any_service)
{
	char st[6];
	json_object *a;
	long long a_closed, a_open, a_cancelled;

	requests_fixture();
	a_closed = few("closed", "2024-01-10T10:00:00+08:00", "sthj");
	a_open = few("accepted", "2024-01-11T10:00:00+08:00", "cgj");
	a_cancelled = few("cancelled", "2024-01-09T10:00:00+08:00", NULL);
	a = requests(NULL, NULL, "2024-01-08T00:00:00+08:00", "2024-01-12T00:00:00+08:00", NULL,
	             st);
	ck_assert_msg(a != NULL, "%s", st);
	ck_assert_str_eq(ids_of(a), ids_expect(3, (long long[]){ a_open, a_closed, a_cancelled }));
	json_object_put(a);
	a = requests(NULL, NULL, "2024-01-08T00:00:00+08:00", "2024-01-12T00:00:00+08:00", "open",
	             st);
	ck_assert_msg(a != NULL, "%s", st);
	ck_assert_str_eq(ids_of(a), ids_expect(1, &a_open));
	json_object_put(a);
	a = requests(NULL, NULL, "2024-01-08T00:00:00+08:00", "2024-01-12T00:00:00+08:00", "closed",
	             st);
	ck_assert_msg(a != NULL, "%s", st);
	ck_assert_str_eq(ids_of(a), ids_expect(2, (long long[]){ a_closed, a_cancelled }));
	json_object_put(a);
	a = requests(NULL, NULL, "2024-01-08T00:00:00+08:00", "2024-01-12T00:00:00+08:00",
	             "open,closed", st);
	ck_assert_msg(a != NULL, "%s", st);
	ck_assert_uint_eq(json_object_array_length(a), 3);
	json_object_put(a);
	exec_ok(adm, "ROLLBACK");
}
END_TEST

/* status_notes: the last note of a step that moved the ticket, not a comment */
START_TEST(test_status_notes)
{
	int wang = tdb_account(db, "wang.fang"), zhang = tdb_account(db, "zhang.wei");
	struct tdb_outcome o;
	char st[6];
	json_object *a;
	const char *pr[] = { tdb_fmt("%d", wang), tdb_fmt("%d", tdb_category(db, "pollution.dust")),
		             tdb_fmt("%d", tdb_grid(db, "jg-yanan-01")), "dust from a site" };

	tdb_call(db, "st_report", 4, pr, &o);
	ck_assert_msg(o.ok, "%s", o.message);
	{
		const char *p[] = { tdb_fmt("%d", zhang), tdb_fmt("%lld", o.ticket), "1", NULL,
			            "please cover the pile" };

		tdb_call(db, "st_dispatch", 5, p, &o);
		ck_assert_msg(o.ok, "%s", o.message);
	}
	{
		const char *p[] = { tdb_fmt("%d", zhang), tdb_fmt("%lld", o.ticket),
			            "internal: call them" };

		tdb_call(db, "st_comment", 3, p, &o);
		ck_assert_msg(o.ok, "%s", o.message);
	}
	a = call(db, "SELECT street.st_o311_request(0, $1)", 1,
	         (const char *const[]){ tdb_fmt("%lld", o.ticket) }, st, NULL, 0);
	ck_assert_ptr_nonnull(a);
	ck_assert_str_eq(str(json_object_array_get_idx(a, 0), "status_notes"),
	                 "please cover the pile");
	json_object_put(a);
}
END_TEST

/* The status_notes the events of ticket say: the note of its last step a
 * person took that moved it (NULL if none), from the log itself. */
static char *notes_from_log(long long ticket)
{
	return tdb_str(adm,
	               "SELECT coalesce(e.data->>'note', e.data->>'reason', e.data->>'comment')"
	               " FROM street.ticket_event e WHERE e.ticket_id = $1 AND e.action IN"
	               " ('dispatch', 'return', 'resolve', 'confirm', 'reopen', 'cancel')"
	               " ORDER BY e.seq DESC LIMIT 1",
	               1, (const char *const[]){ tdb_fmt("%lld", ticket) });
}

/* GET requests/{id}'s status_notes equals the log's, and is want (NULL: null);
 * the protocol's ticket JSON does not carry it. */
static void notes_check(long long ticket, const char *want, const char *after)
{
	char st[6];
	json_object *a = call(db, "SELECT street.st_o311_request(0, $1)", 1,
	                      (const char *const[]){ tdb_fmt("%lld", ticket) }, st, NULL, 0);
	json_object *r, *v = NULL;
	char *log = notes_from_log(ticket);

	ck_assert_ptr_nonnull(a);
	r = json_object_array_get_idx(a, 0);
	ck_assert_msg(json_object_object_get_ex(r, "status_notes", &v), "after %s", after);
	if (want == NULL) {
		ck_assert_msg(v == NULL, "after %s: status_notes %s, want null", after,
		              json_object_get_string(v));
		ck_assert_msg(log == NULL || log[0] == '\0', "after %s: the log says %s", after,
		              log);
	} else {
		ck_assert_msg(v != NULL && strcmp(json_object_get_string(v), want) == 0,
		              "after %s: status_notes %s, want %s", after,
		              v ? json_object_get_string(v) : "null", want);
		ck_assert_msg(log != NULL && strcmp(log, want) == 0, "after %s: the log says %s",
		              after, log ? log : "null");
	}
	free(log);
	json_object_put(a);
	ck_assert_int_eq(tdb_int(adm,
	                         "SELECT (street.st_ticket_json(t) ? 'status_notes')::int"
	                         " FROM street.ticket t WHERE t.id = $1",
	                         1, (const char *const[]){ tdb_fmt("%lld", ticket) }),
	                 0);
}

/* One action, which must succeed (o: its outcome, the ticket's new version). */
static void step(const char *func, int n, const char *const *p, struct tdb_outcome *o)
{
	tdb_call(db, func, n, p, o);
	ck_assert_msg(o->ok, "%s: %s", func, o->message);
}

/* status_notes after every step of the loop, through the actions: each that
 * moves the ticket sets it (to null when it has no note), the others leave
 * it; and st_o311_notes_fill, for events written straight into the log,
 * gives the same. */
START_TEST(test_status_notes_steps)
{
	/* tdb_fmt's buffers rotate: what is kept across calls gets its own */
	char wang[16], zhang[16], yang[16], sthj[16], cgj[16], cat[16], grid[16], id[24], ver[16];
	struct tdb_outcome o;
	long long t, t2, n;

	snprintf(wang, sizeof wang, "%d", tdb_account(db, "wang.fang"));
	snprintf(zhang, sizeof zhang, "%d", tdb_account(db, "zhang.wei"));
	snprintf(yang, sizeof yang, "%d", tdb_account(db, "yang.min"));
	snprintf(sthj, sizeof sthj, "%d", tdb_department(db, "sthj"));
	snprintf(cgj, sizeof cgj, "%d", tdb_department(db, "cgj"));
	snprintf(cat, sizeof cat, "%d", tdb_category(db, "pollution.dust"));
	snprintf(grid, sizeof grid, "%d", tdb_grid(db, "jg-yanan-02"));
	step("st_report", 4, (const char *const[]){ wang, cat, grid, "dust, every step" }, &o);
	t = o.ticket;
	snprintf(id, sizeof id, "%lld", t);
#define V() (snprintf(ver, sizeof ver, "%d", o.version), ver)
	notes_check(t, NULL, "report");
	step("st_dispatch", 5, (const char *const[]){ zhang, id, V(), sthj, "先派环保" }, &o);
	notes_check(t, "先派环保", "dispatch");
	step("st_comment", 3, (const char *const[]){ zhang, id, "内部：已电话联系" }, &o);
	notes_check(t, "先派环保", "comment");
	step("st_urge", 3, (const char *const[]){ zhang, id, "请尽快签收" }, &o);
	notes_check(t, "先派环保", "urge");
	step("st_return", 5, (const char *const[]){ yang, id, V(), "不属于本部门, \"城管\"", cgj },
	     &o);
	notes_check(t, "不属于本部门, \"城管\"", "return");
	step("st_dispatch", 4, (const char *const[]){ zhang, id, V(), sthj }, &o);
	notes_check(t, NULL, "dispatch without a note");
	step("st_accept", 3, (const char *const[]){ yang, id, V() }, &o);
	notes_check(t, NULL, "accept");
	step("st_resolve", 4, (const char *const[]){ yang, id, V(), "已洒水降尘" }, &o);
	notes_check(t, "已洒水降尘", "resolve");
	step("st_reopen", 4, (const char *const[]){ wang, id, V(), "仍有扬尘" }, &o);
	notes_check(t, "仍有扬尘", "reopen");
	step("st_resolve", 4, (const char *const[]){ yang, id, V(), "已覆盖防尘网" }, &o);
	notes_check(t, "已覆盖防尘网", "resolve again");
	step("st_confirm", 5, (const char *const[]){ wang, id, V(), "5", "满意" }, &o);
	notes_check(t, "满意", "confirm");

	step("st_report", 4, (const char *const[]){ wang, cat, grid, "dust, cancelled" }, &o);
	t2 = o.ticket;
	snprintf(id, sizeof id, "%lld", t2);
	step("st_cancel", 4, (const char *const[]){ zhang, id, V(), "重复上报" }, &o);
	notes_check(t2, "重复上报", "cancel");
#undef V

	/* events written straight into the log (as the demo's history and
	 * bench/growth.sql do): the fill gives what the actions kept */
	exec_ok(adm, "BEGIN");
	exec_ok(adm,
	        tdb_fmt("UPDATE street.ticket SET status_notes = NULL WHERE id IN (%lld, %lld)", t,
	                t2));
	/* these two at least (another suite's tickets may be past t too) */
	n = tdb_int(adm, tdb_fmt("SELECT street.st_o311_notes_fill(%lld)", t - 1), 0, NULL);
	ck_assert_int_ge(n, 2);
	ck_assert_int_eq(
	        tdb_int(adm,
	                tdb_fmt("SELECT count(*) FROM street.ticket WHERE (id, status_notes)"
	                        " IN ((%lld, '满意'), (%lld, '重复上报'))",
	                        t, t2),
	                0, NULL),
	        2);
	exec_ok(adm, "ROLLBACK");
}
END_TEST

/* ------------------------------------------------------------------------ */
/* POST requests, committed */

static char good_key[64], revoked_key[64];

static void make_keys(void)
{
	int pid = (int)getpid();

	snprintf(good_key, sizeof(good_key), "test-good-key-%d", pid);
	snprintf(revoked_key, sizeof(revoked_key), "test-revoked-key-%d", pid);
	tdb_int(adm,
	        "INSERT INTO street.api_client (name, key_sha256, account_id, revoked_at)"
	        " SELECT 't-o311-' || $1 || '-' || v.n, sha256(convert_to(v.k, 'UTF8')), a.id,"
	        " v.r FROM street.account a, (VALUES ('g', $2, NULL::timestamptz),"
	        " ('r', $3, now())) v (n, k, r) WHERE a.login = 'zhang.wei' RETURNING 1",
	        3, (const char *const[]){ tdb_fmt("%d", pid), good_key, revoked_key });
}

/* lat, long as text (NULL: none) */
static json_object *post(const char *key, const char *code, const char *lat, const char *lon,
                         const char *address, const char *desc, const char *media,
                         const char *attrs, const char *idem, char st[6], char *msg)
{
	const char *p[] = {
		key,     code,     lat,   lon,   address,           "addr-7", "x@example.org",
		"dev-1", "acct-9", "Mei", "Han", "+86 994 1234567", desc,     media,
		attrs,   idem
	};

	return call(db,
	            "SELECT street.st_o311_post(0, $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11,"
	            " $12, $13, $14, $15, $16)",
	            16, p, st, msg, 256);
}

/* Tickets with this description: a refused post must leave none. */
static long long written(const char *desc)
{
	return tdb_int(adm,
	               "SELECT count(*) FROM street.ticket t LEFT JOIN street.o311_request o"
	               " ON o.ticket_id = t.id WHERE t.description = $1",
	               1, (const char *const[]){ desc });
}

START_TEST(test_post)
{
	char st[6], msg[256], desc[64];
	json_object *a, *r;
	long long id;
	char *s;

	make_keys();
	snprintf(desc, sizeof(desc), "o311 post %d", (int)getpid());
	a = post(good_key, "pollution.noise", "44.02", "87.285", "延安北路 12号", desc,
	         "https://photos.example.org/a.jpg", "{\"when\": \"night\", \"source\": \"a bar\"}",
	         NULL, st, msg);
	ck_assert_msg(a, "%s %s", st, msg);
	ck_assert_uint_eq(json_object_array_length(a), 1);
	r = json_object_array_get_idx(a, 0);
	id = atoll(str(r, "service_request_id"));
	ck_assert_int_gt(id, 0);
	ck_assert_str_eq(str(r, "account_id"), "acct-9");
	ck_assert_ptr_nonnull(str(r, "service_notice"));
	json_object_put(a);

	/* reported as the key's account, in the grid holding the point, through st_report */
	ck_assert_int_eq(tdb_int(adm, "SELECT reporter_id FROM street.ticket WHERE id = $1", 1,
	                         (const char *const[]){ tdb_fmt("%lld", id) }),
	                 tdb_account(db, "zhang.wei"));
	ck_assert_int_eq(tdb_int(adm, "SELECT grid_id FROM street.ticket WHERE id = $1", 1,
	                         (const char *const[]){ tdb_fmt("%lld", id) }),
	                 tdb_grid(db, "jg-yanan-01"));
	ck_assert_int_eq(tdb_int(adm,
	                         "SELECT actor_id FROM street.ticket_event WHERE ticket_id = $1"
	                         " AND action = 'report'",
	                         1, (const char *const[]){ tdb_fmt("%lld", id) }),
	                 tdb_account(db, "zhang.wei"));
	s = tdb_str(adm,
	            "SELECT concat_ws('|', o.media_url, o.address_id, o.attributes::text,"
	            " o.contact->>'email', o.contact->>'phone', t.address, c.name)"
	            " FROM street.o311_request o JOIN street.ticket t ON t.id = o.ticket_id"
	            " JOIN street.api_client c ON c.id = o.client_id WHERE o.ticket_id = $1",
	            1, (const char *const[]){ tdb_fmt("%lld", id) });
	{
		char want[512];

		snprintf(want, sizeof(want),
		         "https://photos.example.org/a.jpg|addr-7|{\"when\": \"night\", \"source\":"
		         " \"a bar\"}|x@example.org|+86 994 1234567|延安北路 12号|t-o311-%d-g",
		         (int)getpid());
		ck_assert_str_eq(s, want);
	}
	free(s);

	/* GET shows it with its media_url, never the requester */
	a = call(db, "SELECT street.st_o311_request(0, $1)", 1,
	         (const char *const[]){ tdb_fmt("%lld", id) }, st, NULL, 0);
	r = json_object_array_get_idx(a, 0);
	ck_assert_str_eq(str(r, "media_url"), "https://photos.example.org/a.jpg");
	ck_assert_str_eq(str(r, "address_id"), "addr-7");
	ck_assert_ptr_null(strstr(json_object_to_json_string(a), "example.org\""));
	ck_assert_ptr_null(strstr(json_object_to_json_string(a), "Mei"));
	ck_assert_ptr_null(strstr(json_object_to_json_string(a), "1234567"));
	json_object_put(a);

	/* a multivaluelist; an idempotency key replays the first outcome */
	snprintf(desc, sizeof(desc), "o311 fire %d", (int)getpid());
	for (int i = 0; i < 2; i++) {
		a = post(good_key, "safety.fire", "44.0", "87.29", NULL, desc, NULL,
		         "{\"hazard\": [\"blocked_lane\", \"extinguisher\"]}",
		         tdb_fmt("o311-%d", (int)getpid()), st, msg);
		ck_assert_msg(a, "%s %s", st, msg);
		json_object_put(a);
	}
	ck_assert_int_eq(written(desc), 1);

	/* the group-commit form (st_try) answers the same */
	snprintf(desc, sizeof(desc), "o311 try %d", (int)getpid());
	s = tdb_str(db,
	            "SELECT coalesce(result, sqlstate) FROM street.st_try('o311_post', ARRAY['0',"
	            " $1, 'pollution.dust', '44.02', '87.285', NULL, NULL, NULL, NULL, NULL, NULL,"
	            " NULL, NULL, $2, NULL, NULL, NULL])",
	            2, (const char *const[]){ good_key, desc });
	ck_assert_ptr_nonnull(strstr(s, "service_request_id"));
	free(s);
	ck_assert_int_eq(written(desc), 1);
}
END_TEST

static const struct {
	const char *name;
	int key; /* 0 good, 1 revoked, 2 unknown */
	const char *code, *lat, *lon, *media, *attrs;
	const char *state, *msg_part;
} bad_posts[] = {
	{ "unknown key", 2, "pollution.dust", "44.02", "87.285", NULL, NULL, "SD403", "api_key" },
	{ "revoked key", 1, "pollution.dust", "44.02", "87.285", NULL, NULL, "SD403", "api_key" },
	{ "outside every grid", 0, "pollution.dust", "45.5", "87.285", NULL, NULL, "SD400",
	  "lat/long is outside every grid" },
	{ "address only", 0, "pollution.dust", NULL, NULL, NULL, NULL, "SD400", "lat and long" },
	{ "lat without long", 0, "pollution.dust", "44.02", NULL, NULL, NULL, "SD400", "together" },
	{ "another street's grid", 0, "pollution.dust", "44.02", "87.315", NULL, NULL, "SD403",
	  "not in your street" },
	{ "unknown service", 0, "pollution", "44.02", "87.285", NULL, NULL, "SD400",
	  "service_code pollution" },
	{ "required attribute missing", 0, "pollution.noise", "44.02", "87.285", NULL,
	  "{\"source\": \"x\"}", "SD400", "attribute when is required" },
	{ "no attributes at all", 0, "pollution.noise", "44.02", "87.285", NULL, NULL, "SD400",
	  "attribute when is required" },
	{ "invalid list value", 0, "pollution.noise", "44.02", "87.285", NULL,
	  "{\"when\": \"sometimes\"}", "SD400", "attribute when: sometimes is not one" },
	{ "two values for a single list", 0, "pollution.noise", "44.02", "87.285", NULL,
	  "{\"when\": [\"day\", \"night\"]}", "SD400", "attribute when takes one value" },
	{ "unknown attribute", 0, "pollution.noise", "44.02", "87.285", NULL,
	  "{\"when\": \"day\", \"colour\": \"red\"}", "SD400", "attribute colour" },
	{ "attributes not an object", 0, "pollution.noise", "44.02", "87.285", NULL, "[\"day\"]",
	  "SD400", "attributes must be a JSON object" },
	{ "attributes not JSON", 0, "pollution.noise", "44.02", "87.285", NULL, "{when: day}",
	  "SD400", "attributes must be a JSON object" },
	{ "media_url not http", 0, "pollution.dust", "44.02", "87.285", "javascript:alert(1)", NULL,
	  "SD400", "media_url" },
	{ "an attribute for a service without any", 0, "pollution.dust", "44.02", "87.285", NULL,
	  "{\"when\": \"day\"}", "SD400", "attribute when is not one" },
};

START_TEST(test_post_refused)
{
	char st[6], msg[256], desc[64];
	const char *key;

	if (!good_key[0])
		make_keys();
	key = bad_posts[_i].key == 0 ? good_key : bad_posts[_i].key == 1 ? revoked_key : "nope";
	snprintf(desc, sizeof(desc), "o311 refused %d %d", (int)getpid(), _i);
	ck_assert_ptr_null(post(key, bad_posts[_i].code, bad_posts[_i].lat, bad_posts[_i].lon,
	                        "somewhere", desc, bad_posts[_i].media, bad_posts[_i].attrs, NULL,
	                        st, msg));
	ck_assert_msg(strcmp(st, bad_posts[_i].state) == 0, "%s: %s %s", bad_posts[_i].name, st,
	              msg);
	ck_assert_msg(strstr(msg, bad_posts[_i].msg_part), "%s: %s", bad_posts[_i].name, msg);
	/* nothing written */
	ck_assert_int_eq(written(desc), 0);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* The requests the follower keeps as text (migration 024) */

/* How many of the tickets "a,b" have kept pieces of their current version. */
static long long kept_current(const char *ids)
{
	return tdb_int(adm,
	               "SELECT count(*) FROM street.o311_request_json j JOIN street.ticket t"
	               " ON t.id = j.ticket_id AND t.version = j.version"
	               " WHERE t.id = ANY (string_to_array($1, ',')::bigint[])",
	               1, (const char *const[]){ ids });
}

/* The follower called until the tickets "a,b" (n of them) have kept pieces
 * of their current version: other suites' events may be ahead of theirs. */
static void follow_until_kept(const char *ids, long long n)
{
	for (int i = 0; i < 200 && kept_current(ids) < n; i++)
		tdb_int(adm, "SELECT street.st_follow()", 0, NULL);
	ck_assert_int_eq(kept_current(ids), n);
}

static char *requests_text(const char *ids)
{
	return tdb_str(adm, "SELECT street.st_o311_json(string_to_array($1, ',')::bigint[])", 1,
	               (const char *const[]){ ids });
}

/* GET requests from the kept pieces is byte for byte what it makes itself;
 * a ticket changed since (the follower held off) shows its change, not the
 * kept pieces; a renamed department shows its new name at once. */
START_TEST(test_requests_kept)
{
	char st[6], msg[256], desc[96], ids[64], id[24], ver[16], zhang[16], yang[16];
	const char *tricky = "\"quoted\" \\ back\tslash 换行\n</description><x>&amp; \u2028";
	struct tdb_outcome o;
	json_object *a;
	long long posted;
	char *kept, *built, *later, *renamed;

	snprintf(zhang, sizeof zhang, "%d", tdb_account(db, "zhang.wei"));
	snprintf(yang, sizeof yang, "%d", tdb_account(db, "yang.min"));
	make_keys();
	snprintf(desc, sizeof(desc), "%s %d", tricky, (int)getpid());
	a = post(good_key, "pollution.noise", "44.02", "87.285", "延安北路 \"12\"号", desc,
	         "https://photos.example.org/k.jpg", "{\"when\": \"night\"}", NULL, st, msg);
	ck_assert_msg(a, "%s %s", st, msg);
	posted = atoll(str(json_object_array_get_idx(a, 0), "service_request_id"));
	json_object_put(a);
	snprintf(id, sizeof id, "%lld", posted);
	step("st_dispatch", 5,
	     (const char *const[]){ zhang, id, "1", tdb_fmt("%d", tdb_department(db, "sthj")),
	                            "派 \"环保\"\n速办" },
	     &o);
	snprintf(ver, sizeof ver, "%d", o.version);
	{
		struct tdb_outcome r;
		const char *pr[] = { zhang, tdb_fmt("%d", tdb_category(db, "pollution.dust")),
			             tdb_fmt("%d", tdb_grid(db, "jg-yanan-01")),
			             "kept, no Open311 row" };

		step("st_report", 4, pr, &r);
		snprintf(ids, sizeof ids, "%lld,%lld", posted, r.ticket);
	}
	follow_until_kept(ids, 2);

	kept = requests_text(ids);
	exec_ok(adm, "BEGIN");
	exec_ok(adm, tdb_fmt("DELETE FROM street.o311_request_json WHERE ticket_id IN (%s)", ids));
	built = requests_text(ids);
	exec_ok(adm, "ROLLBACK");
	ck_assert_str_eq(kept, built);
	a = json_tokener_parse(kept);
	ck_assert_ptr_nonnull(a);
	ck_assert_uint_eq(json_object_array_length(a), 2);
	ck_assert_str_eq(str(json_object_array_get_idx(a, 1), "description"), desc);
	ck_assert_str_eq(str(json_object_array_get_idx(a, 1), "status_notes"), "派 \"环保\"\n速办");
	ck_assert_str_eq(str(json_object_array_get_idx(a, 1), "media_url"),
	                 "https://photos.example.org/k.jpg");
	json_object_put(a);

	/* the follower held off (its lock): the department accepts, the kept
	 * pieces are of the version before, GET shows the accepted ticket */
	exec_ok(adm, "BEGIN");
	tdb_int(adm, "SELECT 1 FROM pg_advisory_xact_lock(hashtext('streetd.rollup'))", 0, NULL);
	step("st_accept", 3, (const char *const[]){ yang, id, ver }, &o);
	ck_assert_int_eq(kept_current(ids), 1);
	later = requests_text(ids);
	exec_ok(adm, "ROLLBACK");
	ck_assert_str_ne(later, kept);
	a = json_tokener_parse(later);
	ck_assert_str_eq(str(json_object_array_get_idx(a, 1), "service_notice"),
	                 "the department is working on it");
	json_object_put(a);
	follow_until_kept(ids, 2);
	free(kept);
	kept = requests_text(ids);
	ck_assert_str_eq(kept, later);

	/* the backfill (tickets older than migration 024): from nothing, a
	 * ticket a call, the same pieces */
	exec_ok(adm, "BEGIN");
	exec_ok(adm, tdb_fmt("DELETE FROM street.o311_request_json WHERE ticket_id IN (%s)", ids));
	exec_ok(adm, tdb_fmt("UPDATE street.o311_request_json_fill SET position = %lld - 1,"
	                     " upto = (SELECT max(x) FROM unnest('{%s}'::bigint[]) x)",
	                     posted, ids));
	ck_assert_int_eq(kept_current(ids), 0);
	for (int i = 0; i < 2000 && tdb_int(adm, "SELECT street.st_o311_backfill(1)", 0, NULL) > 0;
	     i++)
		;
	ck_assert_int_eq(kept_current(ids), 2);
	free(built);
	built = requests_text(ids);
	exec_ok(adm, "ROLLBACK");
	ck_assert_str_eq(built, kept);

	/* a renamed department: its new name, the pieces still kept */
	exec_ok(adm, "BEGIN");
	exec_ok(adm, "UPDATE street.department SET name = name || ' \"新\"' WHERE code = 'sthj'");
	renamed = requests_text(ids);
	ck_assert_int_eq(kept_current(ids), 2);
	exec_ok(adm, "ROLLBACK");
	a = json_tokener_parse(renamed);
	ck_assert_ptr_nonnull(
	        strstr(str(json_object_array_get_idx(a, 1), "agency_responsible"), " \"新\""));
	json_object_put(a);
	free(kept);
	free(built);
	free(later);
	free(renamed);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("open311_sql");
	TCase *tc = tcase_create("open311_sql");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_services);
	tcase_add_test(tc, test_requests);
	tcase_add_test(tc, test_status_notes);
	tcase_add_test(tc, test_status_notes_steps);
	tcase_add_test(tc, test_requests_any_service);
	tcase_add_test(tc, test_post);
	tcase_add_test(tc, test_requests_kept);
	tcase_add_loop_test(tc, test_post_refused, 0,
	                    (int)(sizeof(bad_posts) / sizeof(bad_posts[0])));
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
