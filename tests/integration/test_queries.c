/*
 * The read side (sql/functions/50_queries.sql) on the real database: who am
 * I, reference data, a ticket with its history, lists by scope and by every
 * filter with keyset pagination, the overdue list and its cursor, routing
 * proposals, and the two functions the daemon calls at authentication.
 *
 * Other suites run at the same time on the same database: every test creates
 * its own tickets, marked with a text of its own, and asserts on those (or on
 * properties every row must have), never on global counts.
 */
#include <check.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "tdb.h"

static PGconn *db;

/* ---- accounts ---- */

static const char *const logins[] = {
	"wang.fang",         "zhao.lei", "li.na",  "zhang.wei",          "liu.yang", "chen.jing",
	"yang.min",          "sun.li",   "ma.jun", "t.supervisor.other", "admin",    "t.disabled",
	"t.collector.other",
};
#define NLOGINS (sizeof(logins) / sizeof(logins[0]))
static int ids[NLOGINS];

static int uid_of(const char *login)
{
	for (size_t i = 0; i < NLOGINS; i++) {
		if (strcmp(logins[i], login) == 0)
			return ids[i];
	}
	ck_abort_msg("unknown login %s", login);
	return 0;
}

static void setup(void)
{
	db = tdb_connect(false);
	for (size_t i = 0; i < NLOGINS; i++)
		ids[i] = tdb_account(db, logins[i]);
}

static void teardown(void)
{
	PQfinish(db);
}

/* ---- calling the query functions ---- */

/* Runs a query whose one column is jsonb.  On success returns the parsed value
 * (NULL for SQL NULL) and sets state to ""; on failure returns NULL and sets
 * state to the SQLSTATE (and message, if given). */
static json_object *jq(const char *sql, int n, const char *const *p, char state[6], char *message,
                       size_t msize)
{
	PGresult *r = tdb_query(db, sql, n, p);
	json_object *o = NULL;

	state[0] = 0;
	if (PQresultStatus(r) != PGRES_TUPLES_OK) {
		const char *st = PQresultErrorField(r, PG_DIAG_SQLSTATE);
		const char *msg = PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY);

		snprintf(state, 6, "%s", st ? st : "?????");
		if (message)
			snprintf(message, msize, "%s", msg ? msg : "");
		PQclear(r);
		return NULL;
	}
	ck_assert_int_eq(PQntuples(r), 1);
	if (!PQgetisnull(r, 0, 0)) {
		o = json_tokener_parse(PQgetvalue(r, 0, 0));
		ck_assert_msg(o != NULL, "not JSON: %s", PQgetvalue(r, 0, 0));
	}
	PQclear(r);
	return o;
}

/* A query that must succeed and return a JSON value. */
static json_object *jok(const char *sql, int n, const char *const *p)
{
	char st[6], msg[512];
	json_object *o = jq(sql, n, p, st, msg, sizeof(msg));

	ck_assert_msg(st[0] == 0, "%s: %s %s", sql, st, msg);
	ck_assert_msg(o != NULL, "%s returned NULL", sql);
	return o;
}

/* A query that must fail with this SQLSTATE. */
static void jfail(const char *want, const char *sql, int n, const char *const *p)
{
	char st[6], msg[512] = "";
	json_object *o = jq(sql, n, p, st, msg, sizeof(msg));

	ck_assert_msg(strcmp(st, want) == 0, "%s: want %s, got %s %s", sql, want,
	              st[0] ? st : "success", msg);
	json_object_put(o);
}

static json_object *key(json_object *o, const char *k)
{
	json_object *v = NULL;

	ck_assert_msg(json_object_object_get_ex(o, k, &v), "no key %s in %s", k,
	              json_object_to_json_string(o));
	return v;
}

static bool has(json_object *o, const char *k)
{
	return json_object_object_get_ex(o, k, NULL);
}

static long long jint(json_object *o, const char *k)
{
	return json_object_get_int64(key(o, k));
}

static const char *jstr(json_object *o, const char *k)
{
	json_object *v = key(o, k);

	return json_object_is_type(v, json_type_null) ? NULL : json_object_get_string(v);
}

static bool jnull(json_object *o, const char *k)
{
	return json_object_is_type(key(o, k), json_type_null);
}

/* ---- tickets ---- */

static unsigned long counter;

/* A marker no other suite (or run of this one) uses. */
static void marker(char *buf, size_t size, const char *what)
{
	snprintf(buf, size, "q%s-%d-%lu-%ld", what, (int)getpid(), ++counter, random() % 100000);
}

static long long report_as(const char *login, const char *category, const char *grid,
                           const char *description, const char *address)
{
	struct tdb_outcome o;
	char a[16], c[16], g[16];
	const char *p[10] = { a, c, g, description, address, NULL, NULL, NULL, NULL, NULL };

	snprintf(a, sizeof(a), "%d", uid_of(login));
	snprintf(c, sizeof(c), "%d", tdb_category(db, category));
	snprintf(g, sizeof(g), "%d", tdb_grid(db, grid));
	tdb_call(db, "st_report", 10, p, &o);
	ck_assert_msg(o.ok, "report by %s: %s %s", login, o.sqlstate, o.message);
	return o.ticket;
}

static int version_of(long long t)
{
	const char *p[] = { tdb_fmt("%lld", t) };

	return (int)tdb_int(db, "SELECT version FROM ticket WHERE id = $1", 1, p);
}

static void dispatch(const char *login, long long t)
{
	struct tdb_outcome o;
	char a[16], id[32], v[16];
	const char *p[] = { a, id, v, NULL, NULL, NULL };

	snprintf(a, sizeof(a), "%d", uid_of(login));
	snprintf(id, sizeof(id), "%lld", t);
	snprintf(v, sizeof(v), "%d", version_of(t));
	tdb_call(db, "st_dispatch", 6, p, &o);
	ck_assert_msg(o.ok, "dispatch: %s %s", o.sqlstate, o.message);
}

static void accept_ticket(const char *login, long long t)
{
	struct tdb_outcome o;
	char a[16], id[32], v[16];
	const char *p[] = { a, id, v, NULL };

	snprintf(a, sizeof(a), "%d", uid_of(login));
	snprintf(id, sizeof(id), "%lld", t);
	snprintf(v, sizeof(v), "%d", version_of(t));
	tdb_call(db, "st_accept", 4, p, &o);
	ck_assert_msg(o.ok, "accept: %s %s", o.sqlstate, o.message);
}

static void comment(const char *login, long long t, const char *text)
{
	struct tdb_outcome o;
	char a[16], id[32];
	const char *p[] = { a, id, text, NULL, NULL };

	snprintf(a, sizeof(a), "%d", uid_of(login));
	snprintf(id, sizeof(id), "%lld", t);
	tdb_call(db, "st_comment", 5, p, &o);
	ck_assert_msg(o.ok, "comment: %s %s", o.sqlstate, o.message);
}

/* ---- st_list ---- */

struct listq {
	const char *state, *category, *grid, *department, *overdue, *text, *from, *to, *after,
	        *limit;
};

static const char list_sql[] =
        "SELECT street.st_list($1, $2, $3::integer, $4::integer, $5::integer, $6::boolean, $7,"
        " $8::timestamptz, $9::timestamptz, $10::bigint, $11::integer)";

static json_object *list_try(const char *login, const struct listq *q, char state[6])
{
	char a[16];
	const char *p[] = { a,       q->state, q->category, q->grid,  q->department, q->overdue,
		            q->text, q->from,  q->to,       q->after, q->limit };

	snprintf(a, sizeof(a), "%d", uid_of(login));
	return jq(list_sql, 11, p, state, NULL, 0);
}

static json_object *list(const char *login, const struct listq *q)
{
	char a[16];
	const char *p[] = { a,       q->state, q->category, q->grid,  q->department, q->overdue,
		            q->text, q->from,  q->to,       q->after, q->limit };

	snprintf(a, sizeof(a), "%d", uid_of(login));
	return jok(list_sql, 11, p);
}

static void list_fails(const char *want, const char *login, const struct listq *q)
{
	char a[16];
	const char *p[] = { a,       q->state, q->category, q->grid,  q->department, q->overdue,
		            q->text, q->from,  q->to,       q->after, q->limit };

	snprintf(a, sizeof(a), "%d", uid_of(login));
	jfail(want, list_sql, 11, p);
}

/* A growing list of ticket ids. */
struct idset {
	int n, cap;
	long long *id;
};

static void add_id(struct idset *s, long long id)
{
	if (s->n == s->cap) {
		s->cap = s->cap ? 2 * s->cap : 256;
		s->id = realloc(s->id, sizeof(long long) * (size_t)s->cap);
		ck_assert_ptr_nonnull(s->id);
	}
	s->id[s->n++] = id;
}

/* The ids as a PostgreSQL array literal; the caller frees it. */
static char *id_array(const struct idset *s)
{
	size_t size = 24 * (size_t)s->n + 3, len = 0;
	char *a = malloc(size);

	ck_assert_ptr_nonnull(a);
	len += (size_t)snprintf(a, size, "{");
	for (int i = 0; i < s->n; i++)
		len += (size_t)snprintf(a + len, size - len, "%s%lld", i ? "," : "", s->id[i]);
	snprintf(a + len, size - len, "}");
	return a;
}

/* Every page of a list with this query (limit as given), checking that the
 * pages are in strictly descending id order with no duplicates or gaps
 * between them. */
static void list_all(const char *login, struct listq q, struct idset *out)
{
	char after[32];

	out->n = 0;
	for (int pages = 0;; pages++) {
		json_object *r = list(login, &q), *t = key(r, "tickets");
		int n = (int)json_object_array_length(t);

		ck_assert_int_lt(pages, 1000);
		for (int i = 0; i < n; i++) {
			long long id = jint(json_object_array_get_idx(t, (size_t)i), "id");

			if (out->n > 0)
				ck_assert_msg(id < out->id[out->n - 1],
				              "ids not descending: %lld after %lld", id,
				              out->id[out->n - 1]);
			add_id(out, id);
		}
		if (jnull(r, "next")) {
			json_object_put(r);
			break;
		}
		/* next is the last id of this page: full, or cut short by the
		 * reply's byte bound (long descriptions, test_daemon_pages.c) */
		ck_assert_int_le(n, q.limit ? atoi(q.limit) : 50);
		ck_assert_int_gt(n, 0);
		ck_assert_int_eq(jint(r, "next"), out->id[out->n - 1]);
		snprintf(after, sizeof(after), "%lld", jint(r, "next"));
		q.after = after;
		json_object_put(r);
	}
}

static void list_ids(const char *login, const struct listq *q, struct idset *out)
{
	struct listq all = *q;

	if (!all.limit)
		all.limit = "200";
	list_all(login, all, out);
}

static int cmp_ll(const void *a, const void *b)
{
	long long x = *(const long long *)a, y = *(const long long *)b;

	return x < y ? -1 : x > y;
}

/* The set equals exactly these ids (given in any order, 0-terminated). */
static void same_set(const char *what, const struct idset *s, const long long *want)
{
	long long a[64], b[64];
	int na = s->n, nb = 0;

	while (want[nb])
		nb++;
	ck_assert_msg(na == nb, "%s: %d tickets, want %d", what, na, nb);
	memcpy(a, s->id, sizeof(long long) * (size_t)na);
	memcpy(b, want, sizeof(long long) * (size_t)nb);
	qsort(a, (size_t)na, sizeof(a[0]), cmp_ll);
	qsort(b, (size_t)nb, sizeof(b[0]), cmp_ll);
	for (int i = 0; i < na; i++)
		ck_assert_msg(a[i] == b[i], "%s: got ticket %lld, want %lld", what, a[i], b[i]);
}

/* Every ticket of a page (as the page shows it, whatever happened since) is
 * one the account may see. */
static void all_visible(const char *login, json_object *tickets)
{
	const char *p[] = { json_object_to_json_string(tickets), tdb_fmt("%d", uid_of(login)) };

	ck_assert_msg(tdb_int(db,
	                      "SELECT count(*) FROM account a, jsonb_array_elements($1::jsonb) j,"
	                      " jsonb_populate_record(NULL::ticket, j) t"
	                      " WHERE a.id = $2 AND NOT st_visible(a, t)",
	                      2, p) == 0,
	              "%s was shown a ticket outside its scope", login);
}

/* ---- whoami and reference data ---- */

START_TEST(whoami_each_role)
{
	static const struct {
		const char *login, *role;
	} cases[] = {
		{ "wang.fang", "collector" },
		{ "zhao.lei", "collector" },
		{ "zhang.wei", "street" },
		{ "liu.yang", "street" },
		{ "chen.jing", "department" },
		{ "yang.min", "department" },
		{ "sun.li", "supervisor" },
		{ "ma.jun", "supervisor" },
		{ "t.supervisor.other", "supervisor" },
		{ "admin", "admin" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *p[] = { tdb_fmt("%d", uid_of(cases[i].login)) };
		json_object *r = jok("SELECT street.st_whoami($1)", 1, p);
		json_object *a = key(r, "account");
		json_object *grids = key(a, "grids");
		const char *q[] = { cases[i].login };
		char *want_grids = tdb_str(
		        db,
		        "SELECT coalesce(json_agg(g.grid_id ORDER BY g.grid_id)::text, '[]')"
		        " FROM account_grid g JOIN account a ON a.id = g.account_id"
		        " WHERE a.login = $1",
		        1, q);
		json_object *wg = json_tokener_parse(want_grids);

		ck_assert_int_eq(jint(r, "protocol"), 1);
		ck_assert_int_eq(jint(a, "id"), uid_of(cases[i].login));
		ck_assert_str_eq(jstr(a, "login"), cases[i].login);
		ck_assert_str_eq(jstr(a, "role"), cases[i].role);
		ck_assert_ptr_nonnull(jstr(a, "name"));
		ck_assert_ptr_nonnull(jstr(a, "name_en"));
		ck_assert(has(a, "district_id") && has(a, "street_id") && has(a, "department_id"));
		ck_assert_msg(!has(a, "disabled"), "whoami shows disabled");
		ck_assert(json_object_is_type(grids, json_type_array));
		ck_assert_msg(json_object_equal(grids, wg), "%s grids %s, want %s", cases[i].login,
		              json_object_to_json_string(grids), want_grids);
		json_object_put(wg);
		free(want_grids);
		json_object_put(r);
	}
	/* the scopes of a few */
	{
		json_object *r;
		const char *p[1];

		p[0] = tdb_fmt("%d", uid_of("wang.fang"));
		r = jok("SELECT street.st_whoami($1)", 1, p);
		ck_assert_int_eq(json_object_array_length(key(key(r, "account"), "grids")), 3);
		ck_assert_int_eq(
		        jint(key(r, "account"), "street_id"),
		        tdb_int(db, "SELECT id FROM street WHERE code = 'jianguolu'", 0, NULL));
		/* a collector's and street staff's district is their street's */
		ck_assert_int_eq(jint(key(r, "account"), "district_id"),
		                 tdb_int(db,
		                         "SELECT district_id FROM street WHERE code = 'jianguolu'",
		                         0, NULL));
		json_object_put(r);
		p[0] = tdb_fmt("%d", uid_of("liu.yang"));
		r = jok("SELECT street.st_whoami($1)", 1, p);
		ck_assert_int_eq(
		        jint(key(r, "account"), "district_id"),
		        tdb_int(db, "SELECT district_id FROM street WHERE code = 'beijingnanlu'", 0,
		                NULL));
		json_object_put(r);
		p[0] = tdb_fmt("%d", uid_of("chen.jing"));
		r = jok("SELECT street.st_whoami($1)", 1, p);
		ck_assert_int_eq(jint(key(r, "account"), "department_id"),
		                 tdb_department(db, "cgj"));
		ck_assert(jnull(key(r, "account"), "street_id"));
		json_object_put(r);
		p[0] = tdb_fmt("%d", uid_of("sun.li"));
		r = jok("SELECT street.st_whoami($1)", 1, p);
		ck_assert_int_eq(
		        jint(key(r, "account"), "district_id"),
		        tdb_int(db, "SELECT id FROM district WHERE code = 'changji'", 0, NULL));
		json_object_put(r);
		p[0] = tdb_fmt("%d", uid_of("ma.jun"));
		r = jok("SELECT street.st_whoami($1)", 1, p);
		ck_assert(jnull(key(r, "account"), "district_id"));
		json_object_put(r);
	}
	/* a disabled or unknown account is refused */
	jfail("SD403", "SELECT street.st_whoami($1)", 1,
	      (const char *[]){ tdb_fmt("%d", uid_of("t.disabled")) });
	jfail("SD403", "SELECT street.st_whoami($1)", 1, (const char *[]){ "999999999" });
}
END_TEST

START_TEST(reference_data)
{
	static const char *const cat_keys[] = {
		"id",
		"parent_id",
		"code",
		"name",
		"name_en",
		"urgent",
		"dispatch_s",
		"accept_s",
		"resolve_s",
		"feedback_s",
		"urgent_dispatch_s",
		"urgent_accept_s",
		"urgent_resolve_s",
		"urgent_feedback_s",
	};
	/* every account may read reference data, the admin too */
	static const char *const readers[] = { "wang.fang", "chen.jing", "ma.jun", "admin" };

	for (size_t k = 0; k < sizeof(readers) / sizeof(readers[0]); k++) {
		const char *p[] = { tdb_fmt("%d", uid_of(readers[k])) };
		json_object *r = jok("SELECT street.st_categories($1)", 1, p);
		json_object *cats = key(r, "categories");
		int n = (int)json_object_array_length(cats);
		bool tiny = false;

		ck_assert_int_eq(n, tdb_int(db, "SELECT count(*) FROM category", 0, NULL));
		for (int i = 0; i < n; i++) {
			json_object *c = json_object_array_get_idx(cats, (size_t)i);

			ck_assert_int_eq(json_object_object_length(c),
			                 sizeof(cat_keys) / sizeof(cat_keys[0]));
			for (size_t j = 0; j < sizeof(cat_keys) / sizeof(cat_keys[0]); j++)
				ck_assert_msg(has(c, cat_keys[j]), "category without %s",
				              cat_keys[j]);
			if (i > 0)
				ck_assert_int_gt(
				        jint(c, "id"),
				        jint(json_object_array_get_idx(cats, (size_t)i - 1), "id"));
			if (strcmp(jstr(c, "code"), "t-tiny") == 0) {
				tiny = true;
				ck_assert(json_object_get_boolean(key(c, "urgent")));
				ck_assert_int_eq(jint(c, "urgent_dispatch_s"), 1);
				ck_assert(jnull(c, "parent_id"));
			}
			if (strcmp(jstr(c, "code"), "pollution.noise") == 0)
				ck_assert_int_eq(jint(c, "parent_id"),
				                 tdb_category(db, "pollution"));
		}
		ck_assert(tiny);
		json_object_put(r);

		r = jok("SELECT street.st_departments($1)", 1, p);
		{
			json_object *d = key(r, "departments");

			n = (int)json_object_array_length(d);
			ck_assert_int_eq(n,
			                 tdb_int(db, "SELECT count(*) FROM department", 0, NULL));
			for (int i = 0; i < n; i++) {
				json_object *x = json_object_array_get_idx(d, (size_t)i);

				ck_assert_int_eq(json_object_object_length(x), 5);
				ck_assert(has(x, "id") && has(x, "code") && has(x, "name") &&
				          has(x, "name_en") && has(x, "active"));
				if (strcmp(jstr(x, "code"), "cgj") == 0)
					ck_assert_int_eq(jint(x, "id"), tdb_department(db, "cgj"));
			}
		}
		json_object_put(r);

		r = jok("SELECT street.st_places($1)", 1, p);
		{
			static const struct {
				const char *name, *table, *parent;
			} kinds[] = {
				{ "districts", "district", NULL },
				{ "streets", "street", "district_id" },
				{ "communities", "community", "street_id" },
				{ "grids", "grid", "community_id" },
			};

			ck_assert_int_eq(json_object_object_length(r), 4);
			for (size_t j = 0; j < 4; j++) {
				json_object *arr = key(r, kinds[j].name);
				char sql[128];

				snprintf(sql, sizeof(sql), "SELECT count(*) FROM %s",
				         kinds[j].table);
				n = (int)json_object_array_length(arr);
				ck_assert_int_eq(n, tdb_int(db, sql, 0, NULL));
				for (int i = 0; i < n; i++) {
					json_object *x = json_object_array_get_idx(arr, (size_t)i);

					ck_assert(has(x, "id") && has(x, "code") &&
					          has(x, "name") && has(x, "name_en"));
					ck_assert_int_eq(json_object_object_length(x),
					                 kinds[j].parent ? (j == 3 ? 6 : 5) : 4);
					if (kinds[j].parent)
						ck_assert(!jnull(x, kinds[j].parent));
				}
			}
			/* jg-yanan-01 names its community */
			{
				json_object *grids = key(r, "grids");
				int found = 0;

				for (size_t i = 0; i < json_object_array_length(grids); i++) {
					json_object *g = json_object_array_get_idx(grids, i);

					if (strcmp(jstr(g, "code"), "jg-yanan-01") == 0) {
						found++;
						ck_assert_int_eq(jint(g, "id"),
						                 tdb_grid(db, "jg-yanan-01"));
						ck_assert_int_eq(jint(g, "community_id"),
						                 tdb_int(db,
						                         "SELECT id FROM community "
						                         "WHERE code = 'jg-yanan'",
						                         0, NULL));
						/* its boundary: the demo's rectangle, [lon, lat] */
						json_object *b = key(g, "boundary");
						ck_assert_int_eq((int)json_object_array_length(b),
						                 4);
						for (size_t pi = 0; pi < 4; pi++) {
							json_object *pt =
							        json_object_array_get_idx(b, pi);
							double lon = json_object_get_double(
							        json_object_array_get_idx(pt, 0));
							double lat = json_object_get_double(
							        json_object_array_get_idx(pt, 1));

							ck_assert(lon >= 87.28 - 1e-9 &&
							          lon <= 87.30 + 1e-9);
							ck_assert(lat >= 44.015 - 1e-9 &&
							          lat <= 44.025 + 1e-9);
						}
					}
					if (strcmp(jstr(g, "code"), "t-other-01") == 0)
						ck_assert(jnull(g, "boundary")); /* none recorded */
				}
				ck_assert_int_eq(found, 1);
			}
		}
		json_object_put(r);

		/* boundaries false: the same places, the grids without "boundary"
		 * (the console's start-up); null is the default, with them */
		{
			const char *pf[] = { p[0], "false" }, *pn[] = { p[0], NULL };
			json_object *full = jok("SELECT street.st_places($1)", 1, p);
			json_object *nul = jok("SELECT street.st_places($1, $2)", 2, pn);
			json_object *grids, *fgrids;

			r = jok("SELECT street.st_places($1, $2)", 2, pf);
			ck_assert_int_eq(json_object_object_length(r), 4);
			ck_assert(json_object_equal(key(r, "streets"), key(full, "streets")));
			ck_assert(
			        json_object_equal(key(r, "communities"), key(full, "communities")));
			ck_assert(json_object_equal(nul, full));
			grids = key(r, "grids");
			fgrids = key(full, "grids");
			ck_assert_int_eq((int)json_object_array_length(grids),
			                 (int)json_object_array_length(fgrids));
			for (size_t i = 0; i < json_object_array_length(grids); i++) {
				json_object *g = json_object_array_get_idx(grids, i);
				json_object *fg = json_object_array_get_idx(fgrids, i);

				ck_assert_int_eq(json_object_object_length(g), 5);
				ck_assert(!has(g, "boundary"));
				ck_assert_int_eq(jint(g, "id"), jint(fg, "id"));
				ck_assert_int_eq(jint(g, "community_id"), jint(fg, "community_id"));
				ck_assert_str_eq(jstr(g, "code"), jstr(fg, "code"));
			}
			json_object_put(nul);
			json_object_put(full);
			json_object_put(r);
		}
	}
	{
		const char *p[] = { tdb_fmt("%d", uid_of("t.disabled")) };

		jfail("SD403", "SELECT street.st_categories($1)", 1, p);
		jfail("SD403", "SELECT street.st_departments($1)", 1, p);
		jfail("SD403", "SELECT street.st_places($1)", 1, p);
	}
}
END_TEST

/* ---- get ---- */

START_TEST(get_with_history)
{
	char m[64];
	long long t, seq_prev = 0;
	json_object *r, *events;
	static const char *const see[] = { "wang.fang", "zhang.wei", "yang.min", "sun.li",
		                           "ma.jun" };
	static const char *const blind[] = { "zhao.lei",           "li.na", "liu.yang", "chen.jing",
		                             "t.supervisor.other", "admin" };
	static const char *const actions[] = { "report", "dispatch", "accept", "comment" };

	marker(m, sizeof(m), "get");
	t = report_as("wang.fang", "pollution.dust", "jg-yanan-02", m, "延安北路 3 号");
	dispatch("zhang.wei", t); /* routed to sthj */
	accept_ticket("yang.min", t);
	comment("sun.li", t, "请加快");

	for (size_t k = 0; k < sizeof(see) / sizeof(see[0]); k++) {
		const char *p[] = { tdb_fmt("%d", uid_of(see[k])), tdb_fmt("%lld", t) };
		json_object *ticket;

		r = jok("SELECT street.st_get($1, $2)", 2, p);
		ck_assert_int_eq(json_object_object_length(r), 4);
		ck_assert(jnull(r, "next")); /* one page: paging is test_daemon_pages.c's */
		ticket = key(r, "ticket");
		ck_assert_int_eq(jint(ticket, "id"), t);
		ck_assert_str_eq(jstr(ticket, "state"), "accepted");
		ck_assert_int_eq(jint(ticket, "version"), 3);
		ck_assert_str_eq(jstr(ticket, "description"), m);
		ck_assert_str_eq(jstr(ticket, "address"), "延安北路 3 号");
		ck_assert_int_eq(jint(ticket, "department_id"), tdb_department(db, "sthj"));
		ck_assert_int_eq(jint(ticket, "reporter_id"), uid_of("wang.fang"));
		ck_assert(has(ticket, "due_at") && has(ticket, "overdue") &&
		          has(ticket, "urge_count") && has(ticket, "created_at"));
		events = key(r, "events");
		ck_assert_int_eq(json_object_array_length(events), 4);
		seq_prev = 0;
		for (size_t i = 0; i < 4; i++) {
			json_object *e = json_object_array_get_idx(events, i);

			ck_assert_str_eq(jstr(e, "action"), actions[i]);
			ck_assert_int_eq(jint(e, "ticket_id"), t);
			ck_assert_int_gt(jint(e, "seq"), seq_prev);
			seq_prev = jint(e, "seq");
			ck_assert_msg(!has(e, "xid"), "an event shows its xid");
			ck_assert(has(e, "at") && has(e, "actor_id") && has(e, "from_state") &&
			          has(e, "to_state") && has(e, "version") && has(e, "data"));
		}
		ck_assert(jnull(json_object_array_get_idx(events, 0), "from_state"));
		ck_assert_int_eq(jint(json_object_array_get_idx(events, 3), "actor_id"),
		                 uid_of("sun.li"));
		ck_assert_str_eq(jstr(key(json_object_array_get_idx(events, 3), "data"), "text"),
		                 "请加快");
		ck_assert_int_eq(json_object_array_length(key(r, "photos")), 0);
		json_object_put(r);
	}
	/* not visible and missing look the same */
	for (size_t k = 0; k < sizeof(blind) / sizeof(blind[0]); k++) {
		const char *p[] = { tdb_fmt("%d", uid_of(blind[k])), tdb_fmt("%lld", t) };
		char st[6], msg[256];

		r = jq("SELECT street.st_get($1, $2)", 2, p, st, msg, sizeof(msg));
		ck_assert_msg(strcmp(st, "SD404") == 0, "%s sees ticket %lld", blind[k], t);
		ck_assert_str_eq(msg, tdb_fmt("ticket %lld not found", t));
	}
	{
		const char *p[] = { tdb_fmt("%d", uid_of("ma.jun")), "9000000000000" };
		char st[6], msg[256];

		r = jq("SELECT street.st_get($1, $2)", 2, p, st, msg, sizeof(msg));
		ck_assert_str_eq(st, "SD404");
		ck_assert_str_eq(msg, "ticket 9000000000000 not found");
	}
	jfail("SD403", "SELECT street.st_get($1, $2)", 2,
	      (const char *[]){ tdb_fmt("%d", uid_of("t.disabled")), tdb_fmt("%lld", t) });
}
END_TEST

/* ---- list ---- */

START_TEST(list_scope_per_role)
{
	char m[64];
	long long t1, t2, t3, t4, t5;
	struct idset s = { 0 };
	static struct {
		const char *login;
		int want[6]; /* indexes into t[] (1-based), 0-terminated */
	} cases[] = {
		{ "wang.fang", { 1 } },
		{ "zhao.lei", { 2 } },
		{ "li.na", { 3 } },
		{ "zhang.wei", { 1, 2 } },
		{ "liu.yang", { 3, 4 } },
		{ "yang.min", { 1 } },
		{ "chen.jing", { 3 } },
		{ "sun.li", { 1, 2, 3, 4 } },
		{ "ma.jun", { 1, 2, 3, 4, 5 } },
		{ "t.supervisor.other", { 5 } },
		{ "admin", { 0 } },
	};

	marker(m, sizeof(m), "scope");
	t1 = report_as("wang.fang", "pollution.dust", "jg-yanan-01", m, NULL);
	t2 = report_as("zhao.lei", "pollution.dust", "jg-jianguo-01", m, NULL);
	t3 = report_as("li.na", "construction.road", "bn-beijingnan-01", m, NULL);
	t4 = report_as("liu.yang", "pollution.dust", "bn-tunhe-01", m, NULL);
	t5 = report_as("t.collector.other", "pollution.dust", "t-other-01", m, NULL);
	dispatch("zhang.wei", t1); /* sthj: yang.min */
	dispatch("liu.yang", t3);  /* cgj: chen.jing */

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		long long all[] = { 0, t1, t2, t3, t4, t5 }, want[8] = { 0 };
		struct listq q = { .text = m };
		int n = 0;

		for (int k = 0; cases[i].want[k]; k++)
			want[n++] = all[cases[i].want[k]];
		list_ids(cases[i].login, &q, &s);
		same_set(cases[i].login, &s, want);
	}

	/* without a filter, every ticket of a page is in the account's scope */
	{
		static const char *const who[] = { "wang.fang", "zhao.lei",  "zhang.wei",
			                           "liu.yang",  "chen.jing", "yang.min",
			                           "sun.li",    "ma.jun",    "t.supervisor.other" };

		for (size_t i = 0; i < sizeof(who) / sizeof(who[0]); i++) {
			struct listq q = { .limit = "200" };
			json_object *r = list(who[i], &q), *t = key(r, "tickets");

			ck_assert_int_gt(json_object_array_length(t), 0);
			all_visible(who[i], t);
			json_object_put(r);
		}
	}
	{
		struct listq q = { 0 };

		list_fails("SD403", "t.disabled", &q);
	}
	free(s.id);
}
END_TEST

START_TEST(list_filters)
{
	char m[64], up[64], addr[80], cat[16], grid[16], dep[16], from[64], to[64];
	long long a, b, c, d, e, f;
	struct idset s = { 0 };

	marker(m, sizeof(m), "filter");
	for (size_t i = 0; i <= strlen(m); i++)
		up[i] = (char)((m[i] >= 'a' && m[i] <= 'z') ? m[i] - 32 : m[i]);
	snprintf(addr, sizeof(addr), "建国路 %s 号", m);
	/* created in this order, one transaction each: created_at increases */
	a = report_as("zhang.wei", "pollution.dust", "jg-yanan-01", tdb_fmt("%s alpha", up), NULL);
	b = report_as("zhang.wei", "pollution.noise", "jg-jianguo-01", tdb_fmt("%s beta", m), NULL);
	c = report_as("zhang.wei", "construction.road", "jg-yanan-01", tdb_fmt("%s gamma", m),
	              NULL);
	d = report_as("zhang.wei", "safety.fire", "jg-wenhua-01", "delta, described elsewhere",
	              addr);
	e = report_as("zhang.wei", "t-tiny", "jg-wenhua-02", tdb_fmt("%s epsilon", m), NULL);
	f = report_as("zhang.wei", "pollution.noise", "jg-yanan-01", tdb_fmt("%s zeta", m), NULL);
	dispatch("zhang.wei", a); /* sthj */
	dispatch("zhang.wei", b); /* cgj (the street's noise rule) */
	dispatch("zhang.wei", f); /* sthj (the grid's noise rule) */

	/* text: case-insensitive, in the description or the address */
	{
		struct listq q = { .text = m };

		list_ids("zhang.wei", &q, &s);
		same_set("text", &s, (long long[]){ a, b, c, d, e, f, 0 });
		q.text = up;
		list_ids("zhang.wei", &q, &s);
		same_set("TEXT", &s, (long long[]){ a, b, c, d, e, f, 0 });
		q.text = tdb_fmt("%s ALPHA", m);
		list_ids("zhang.wei", &q, &s);
		same_set("text alpha", &s, (long long[]){ a, 0 });
		q.text = tdb_fmt("%s 号", m);
		list_ids("zhang.wei", &q, &s);
		same_set("address", &s, (long long[]){ d, 0 });
	}
	/* state */
	{
		struct listq q = { .text = m, .state = "dispatched" };

		list_ids("zhang.wei", &q, &s);
		same_set("dispatched", &s, (long long[]){ a, b, f, 0 });
		q.state = "reported";
		list_ids("zhang.wei", &q, &s);
		same_set("reported", &s, (long long[]){ c, d, e, 0 });
		q.state = "closed";
		list_ids("zhang.wei", &q, &s);
		same_set("closed", &s, (long long[]){ 0 });
	}
	/* category, with its sub-categories */
	{
		struct listq q = { .text = m, .category = cat };

		snprintf(cat, sizeof(cat), "%d", tdb_category(db, "pollution"));
		list_ids("zhang.wei", &q, &s);
		same_set("pollution", &s, (long long[]){ a, b, f, 0 });
		snprintf(cat, sizeof(cat), "%d", tdb_category(db, "pollution.noise"));
		list_ids("zhang.wei", &q, &s);
		same_set("pollution.noise", &s, (long long[]){ b, f, 0 });
		snprintf(cat, sizeof(cat), "%d", tdb_category(db, "construction"));
		list_ids("zhang.wei", &q, &s);
		same_set("construction", &s, (long long[]){ c, 0 });
		snprintf(cat, sizeof(cat), "%d", tdb_category(db, "safety"));
		list_ids("zhang.wei", &q, &s);
		same_set("safety", &s, (long long[]){ d, 0 });
	}
	/* grid */
	{
		struct listq q = { .text = m, .grid = grid };

		snprintf(grid, sizeof(grid), "%d", tdb_grid(db, "jg-yanan-01"));
		list_ids("zhang.wei", &q, &s);
		same_set("grid", &s, (long long[]){ a, c, f, 0 });
		snprintf(grid, sizeof(grid), "%d", tdb_grid(db, "bn-tunhe-01"));
		list_ids("zhang.wei", &q, &s);
		same_set("grid of another street", &s, (long long[]){ 0 });
	}
	/* department */
	{
		struct listq q = { .text = m, .department = dep };

		snprintf(dep, sizeof(dep), "%d", tdb_department(db, "sthj"));
		list_ids("zhang.wei", &q, &s);
		same_set("sthj", &s, (long long[]){ a, f, 0 });
		snprintf(dep, sizeof(dep), "%d", tdb_department(db, "cgj"));
		list_ids("zhang.wei", &q, &s);
		same_set("cgj", &s, (long long[]){ b, 0 });
		/* and for a department itself: what is assigned to it */
		q.department = NULL;
		list_ids("yang.min", &q, &s);
		same_set("yang.min", &s, (long long[]){ a, f, 0 });
	}
	/* several filters together */
	{
		struct listq q = {
			.text = m, .category = cat, .grid = grid, .state = "dispatched"
		};

		snprintf(cat, sizeof(cat), "%d", tdb_category(db, "pollution"));
		snprintf(grid, sizeof(grid), "%d", tdb_grid(db, "jg-yanan-01"));
		list_ids("zhang.wei", &q, &s);
		same_set("combined", &s, (long long[]){ a, f, 0 });
	}
	/* created in [from, to) */
	{
		struct listq q = { .text = m, .from = from, .to = to };
		char *x;

		x = tdb_str(db, "SELECT created_at::text FROM ticket WHERE id = $1", 1,
		            (const char *[]){ tdb_fmt("%lld", c) });
		snprintf(from, sizeof(from), "%s", x);
		free(x);
		x = tdb_str(db, "SELECT created_at::text FROM ticket WHERE id = $1", 1,
		            (const char *[]){ tdb_fmt("%lld", e) });
		snprintf(to, sizeof(to), "%s", x);
		free(x);
		list_ids("zhang.wei", &q, &s);
		same_set("from c to e", &s, (long long[]){ c, d, 0 });
		q.to = NULL;
		list_ids("zhang.wei", &q, &s);
		same_set("from c", &s, (long long[]){ c, d, e, f, 0 });
		q.from = NULL;
		q.to = to;
		list_ids("zhang.wei", &q, &s);
		same_set("to e", &s, (long long[]){ a, b, c, d, 0 });
	}
	/* overdue: e's 1-second dispatch deadline passes */
	usleep(1500 * 1000);
	{
		struct listq q = { .text = m, .overdue = "true" };

		list_ids("zhang.wei", &q, &s);
		same_set("overdue", &s, (long long[]){ e, 0 });
		q.overdue = "false";
		list_ids("zhang.wei", &q, &s);
		same_set("not overdue", &s, (long long[]){ a, b, c, d, f, 0 });
	}
	/* the same filters reach nothing outside the scope */
	{
		struct listq q = { .text = m };

		list_ids("liu.yang", &q, &s);
		same_set("liu.yang", &s, (long long[]){ 0 });
		list_ids("chen.jing", &q, &s);
		same_set("chen.jing", &s, (long long[]){ b, 0 });
	}
	free(s.id);
}
END_TEST

/* The user's text is a substring, not a pattern: % _ and \ match themselves. */
START_TEST(list_text_is_literal)
{
	char m[64];
	long long pct, nopct, under, nounder, bs, nobs;
	struct idset s = { 0 };

	marker(m, sizeof(m), "like");
	pct = report_as("zhang.wei", "pollution.dust", "jg-yanan-01", tdb_fmt("%s 100%% sure", m),
	                NULL);
	nopct = report_as("zhang.wei", "pollution.dust", "jg-yanan-01", tdb_fmt("%s 100 sure", m),
	                  NULL);
	under = report_as("zhang.wei", "pollution.dust", "jg-yanan-01", tdb_fmt("%s a_b", m), NULL);
	nounder =
	        report_as("zhang.wei", "pollution.dust", "jg-yanan-01", tdb_fmt("%s axb", m), NULL);
	bs = report_as("zhang.wei", "pollution.dust", "jg-yanan-01", tdb_fmt("%s back\\slash", m),
	               NULL);
	nobs = report_as("zhang.wei", "pollution.dust", "jg-yanan-01", tdb_fmt("%s backslash", m),
	                 NULL);
	{
		struct listq q = { .text = tdb_fmt("%s 100%%", m) };

		list_ids("zhang.wei", &q, &s);
		same_set("100%", &s, (long long[]){ pct, 0 });
		q.text = tdb_fmt("%s a_b", m);
		list_ids("zhang.wei", &q, &s);
		same_set("a_b", &s, (long long[]){ under, 0 });
		q.text = "k\\s";
		list_ids("zhang.wei", &q, &s);
		for (int i = 0; i < s.n; i++)
			ck_assert_int_ne(s.id[i], nobs);
		q.text = tdb_fmt("%s back\\slash", m);
		list_ids("zhang.wei", &q, &s);
		same_set("backslash", &s, (long long[]){ bs, 0 });
		q.text = tdb_fmt("%s back\\\\slash", m);
		list_ids("zhang.wei", &q, &s);
		same_set("two backslashes", &s, (long long[]){ 0 });
	}
	/* "%" alone finds only tickets with a percent sign, ours among them */
	{
		struct listq q = { .text = "%" };
		bool found = false;
		char *arr;

		list_ids("zhang.wei", &q, &s);
		for (int i = 0; i < s.n; i++) {
			found |= s.id[i] == pct;
			ck_assert(s.id[i] != nopct && s.id[i] != under && s.id[i] != nounder);
		}
		ck_assert(found);
		arr = id_array(&s);
		ck_assert_int_eq(tdb_int(db,
		                         "SELECT count(*) FROM ticket WHERE id = ANY ($1::bigint[])"
		                         " AND strpos(description, '%') = 0"
		                         " AND strpos(address, '%') = 0",
		                         1, (const char *[]){ arr }),
		                 0);
		free(arr);
		q.text = "_";
		list_ids("zhang.wei", &q, &s);
		found = false;
		for (int i = 0; i < s.n; i++) {
			found |= s.id[i] == under;
			ck_assert(s.id[i] != pct && s.id[i] != nounder);
		}
		ck_assert(found);
	}
	free(s.id);
}
END_TEST

START_TEST(list_pagination)
{
	char m[64];
	long long t[7];
	struct idset s = { 0 };

	marker(m, sizeof(m), "page");
	for (int i = 0; i < 7; i++)
		t[i] = report_as("zhang.wei", "pollution.dust", "jg-yanan-01", m, NULL);
	/* pages of 3: 3 + 3 + 1, newest first, "next" the last id of a full page */
	{
		struct listq q = { .text = m, .limit = "3" };
		json_object *r = list("zhang.wei", &q), *tk = key(r, "tickets");
		char after[32];

		ck_assert_int_eq(json_object_array_length(tk), 3);
		ck_assert_int_eq(jint(json_object_array_get_idx(tk, 0), "id"), t[6]);
		ck_assert_int_eq(jint(json_object_array_get_idx(tk, 2), "id"), t[4]);
		ck_assert_int_eq(jint(r, "next"), t[4]);
		snprintf(after, sizeof(after), "%lld", t[4]);
		json_object_put(r);
		q.after = after;
		r = list("zhang.wei", &q);
		tk = key(r, "tickets");
		ck_assert_int_eq(json_object_array_length(tk), 3);
		ck_assert_int_eq(jint(json_object_array_get_idx(tk, 0), "id"), t[3]);
		ck_assert_int_eq(jint(r, "next"), t[1]);
		snprintf(after, sizeof(after), "%lld", t[1]);
		json_object_put(r);
		r = list("zhang.wei", &q);
		tk = key(r, "tickets");
		ck_assert_int_eq(json_object_array_length(tk), 1);
		ck_assert_int_eq(jint(json_object_array_get_idx(tk, 0), "id"), t[0]);
		ck_assert(jnull(r, "next"));
		json_object_put(r);
	}
	/* a page that ends exactly at the last ticket says so */
	{
		struct listq q = { .text = m, .limit = "7" };
		json_object *r = list("zhang.wei", &q);

		ck_assert_int_eq(json_object_array_length(key(r, "tickets")), 7);
		ck_assert(jnull(r, "next"));
		json_object_put(r);
	}
	for (int lim = 1; lim <= 8; lim++) {
		struct listq q = { .text = m, .limit = tdb_fmt("%d", lim) };

		list_all("zhang.wei", q, &s);
		same_set("pages", &s, (long long[]){ t[0], t[1], t[2], t[3], t[4], t[5], t[6], 0 });
	}
	/* the street's whole list, page by page, in one snapshot (other suites
	 * keep adding tickets), is exactly the street's tickets */
	{
		struct listq q = { .limit = "200" };
		char *arr;
		long long n;

		PQclear(PQexec(db, "BEGIN ISOLATION LEVEL REPEATABLE READ"));
		list_all("zhang.wei", q, &s);
		ck_assert_int_gt(s.n, 7);
		arr = id_array(&s);
		{
			const char *p[] = { arr, tdb_fmt("%d", uid_of("zhang.wei")) };

			n = tdb_int(
			        db,
			        "SELECT count(*) FROM ticket t JOIN account a ON a.id = $2"
			        " WHERE t.street_id = a.street_id AND t.id <> ALL ($1::bigint[])",
			        2, p);
			ck_assert_msg(n == 0, "%lld tickets of the street missing from the walk",
			              n);
			n = tdb_int(
			        db,
			        "SELECT count(*) FROM ticket t JOIN account a ON a.id = $2"
			        " WHERE t.street_id = a.street_id AND t.id = ANY ($1::bigint[])",
			        2, p);
			ck_assert_int_eq(n, s.n);
		}
		PQclear(PQexec(db, "COMMIT"));
		free(arr);
	}
	free(s.id);
}
END_TEST

START_TEST(list_bad_arguments)
{
	static const struct listq bad[] = {
		{ .state = "open" },
		{ .state = "" },
		{ .state = "REPORTED" },
		{ .limit = "0" },
		{ .limit = "201" },
		{ .limit = "-5" },
		{ .after = "0" },
		{ .category = "999999" },
		{ .grid = "999999" },
		{ .department = "999999" },
		{ .text = "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
		          "xxxxxx"
		          "xxxxxxxxxxxxxxxxxxxxxxx" },
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		list_fails("SD400", "zhang.wei", &bad[i]);
	{
		struct listq q = { .limit = "200", .state = "cancelled" };
		char st[6];
		json_object *r = list_try("zhang.wei", &q, st);

		ck_assert_str_eq(st, "");
		ck_assert_int_le(json_object_array_length(key(r, "tickets")), 200);
		json_object_put(r);
	}
	/* an admin may ask, and sees nothing */
	{
		struct listq q = { 0 };
		json_object *r = list("admin", &q);

		ck_assert_int_eq(json_object_array_length(key(r, "tickets")), 0);
		ck_assert(jnull(r, "next"));
		json_object_put(r);
	}
}
END_TEST

/* ---- overdue ---- */

static const char overdue_sql[] = "SELECT street.st_overdue($1, $2, $3::integer)";

/* Walks every page of an account's overdue list and returns the ids.  Checks
 * each ticket as the page shows it (other suites move tickets meanwhile): in
 * (due_at, id) order after the one before, past due, visible to the account. */
static void overdue_all(const char *login, int limit, struct idset *out, int *pages)
{
	char cursor[64] = "", lim[16], prev_due[64] = "-infinity", prev_id[32] = "0", who[16];

	snprintf(lim, sizeof(lim), "%d", limit);
	snprintf(who, sizeof(who), "%d", uid_of(login));
	out->n = 0;
	*pages = 0;
	for (;;) {
		const char *p[] = { who, cursor[0] ? cursor : NULL, lim };
		json_object *r = jok(overdue_sql, 3, p), *t = key(r, "tickets");
		int n = (int)json_object_array_length(t);

		(*pages)++;
		ck_assert_int_lt(*pages, 1000);
		ck_assert_int_le(n, limit);
		for (int i = 0; i < n; i++) {
			json_object *x = json_object_array_get_idx(t, (size_t)i);
			const char *q[] = { json_object_to_json_string(x), who, prev_due, prev_id };

			ck_assert_msg(
			        tdb_int(db,
			                "SELECT count(*) FROM account a,"
			                " jsonb_populate_record(NULL::ticket, $1::jsonb) t"
			                " WHERE a.id = $2 AND st_visible(a, t) AND t.due_at < now()"
			                " AND (t.due_at, t.id) > ($3::timestamptz, $4::bigint)",
			                4, q) == 1,
			        "%s: ticket %s out of order, not overdue or not visible", login,
			        q[0]);
			snprintf(prev_due, sizeof(prev_due), "%s", jstr(x, "due_at"));
			snprintf(prev_id, sizeof(prev_id), "%lld", jint(x, "id"));
			add_id(out, jint(x, "id"));
		}
		if (jnull(r, "next")) {
			json_object_put(r);
			break;
		}
		/* full, or cut short by the byte bound */
		ck_assert_int_gt(n, 0);
		snprintf(cursor, sizeof(cursor), "%s", jstr(r, "next"));
		json_object_put(r);
	}
}

/* Ours among the ids, in the order they came: how many (into out[]). */
static int ours(const struct idset *s, const long long *mine, int nmine, long long *out)
{
	int n = 0;

	for (int i = 0; i < s->n; i++) {
		for (int k = 0; k < nmine; k++) {
			if (s->id[i] == mine[k])
				out[n++] = s->id[i];
		}
	}
	return n;
}

START_TEST(overdue_order_and_cursor)
{
	char m[64];
	long long k1, k2, k3, normal, mine[4], seen[64];
	struct idset s = { 0 }, whole = { 0 };
	int pages;

	/* zhao.lei reports only here: his overdue list changes only with this test */
	marker(m, sizeof(m), "late");
	k1 = report_as("zhao.lei", "t-tiny", "jg-jianguo-01", m, NULL);
	k2 = report_as("zhao.lei", "t-tiny", "jg-jianguo-02", m, NULL);
	k3 = report_as("zhao.lei", "t-tiny", "jg-jianguo-01", m, NULL);
	normal = report_as("zhao.lei", "pollution.dust", "jg-jianguo-01", m, NULL);
	mine[0] = k1;
	mine[1] = k2;
	mine[2] = k3;
	mine[3] = normal;
	usleep(1500 * 1000);

	overdue_all("zhao.lei", 200, &whole, &pages);
	ck_assert_int_eq(ours(&whole, mine, 4, seen), 3);
	ck_assert(seen[0] == k1 && seen[1] == k2 && seen[2] == k3);
	/* a page at a time, or two: the same list, no duplicates, no gaps */
	for (int lim = 1; lim <= 2; lim++) {
		overdue_all("zhao.lei", lim, &s, &pages);
		ck_assert_int_eq(s.n, whole.n);
		/* a last page that is full says there is no next one */
		ck_assert_int_eq(pages, whole.n ? (whole.n + lim - 1) / lim : 1);
		for (int i = 0; i < s.n; i++)
			ck_assert_int_eq(s.id[i], whole.id[i]);
	}
	/* the tickets themselves come with the list */
	{
		const char *p[] = { tdb_fmt("%d", uid_of("zhao.lei")), NULL, "200" };
		json_object *r = jok(overdue_sql, 3, p), *t = key(r, "tickets");

		for (size_t i = 0; i < json_object_array_length(t); i++) {
			json_object *x = json_object_array_get_idx(t, i);

			if (jint(x, "id") != k1)
				continue;
			ck_assert_str_eq(jstr(x, "state"), "reported");
			ck_assert_str_eq(jstr(x, "description"), m);
			ck_assert_int_eq(jint(x, "reporter_id"), uid_of("zhao.lei"));
		}
		json_object_put(r);
	}

	/* in the scope of the street, supervisors of the district and the city */
	{
		static const char *const see[] = { "zhang.wei", "sun.li", "ma.jun" };
		static const char *const blind[] = { "liu.yang", "chen.jing", "wang.fang",
			                             "t.supervisor.other", "admin" };

		for (size_t i = 0; i < sizeof(see) / sizeof(see[0]); i++) {
			overdue_all(see[i], 200, &s, &pages);
			ck_assert_msg(ours(&s, mine, 4, seen) == 3 && seen[0] == k1 &&
			                      seen[1] == k2 && seen[2] == k3,
			              "%s: k1..k3 missing or out of order", see[i]);
		}
		for (size_t i = 0; i < sizeof(blind) / sizeof(blind[0]); i++) {
			overdue_all(blind[i], 200, &s, &pages);
			ck_assert_int_eq(ours(&s, mine, 4, seen), 0);
		}
	}

	/* k1 dispatched to cgj: a new deadline, now the latest of the three, and
	 * the department's */
	dispatch("zhang.wei", k1);
	usleep(1500 * 1000);
	overdue_all("chen.jing", 200, &s, &pages);
	ck_assert_int_eq(ours(&s, mine, 4, seen), 1);
	ck_assert_int_eq(seen[0], k1);
	overdue_all("zhao.lei", 200, &s, &pages);
	ck_assert_int_eq(ours(&s, mine, 4, seen), 3);
	ck_assert(seen[0] == k2 && seen[1] == k3 && seen[2] == k1);
	overdue_all("zhao.lei", 1, &s, &pages);
	ck_assert_int_eq(ours(&s, mine, 4, seen), 3);
	ck_assert(seen[0] == k2 && seen[1] == k3 && seen[2] == k1);

	/* bad cursors and limits */
	{
		static const char *const bad[] = { "",
			                           "abc",
			                           "12",
			                           "12:",
			                           ":12",
			                           "1:2:3",
			                           "1.5:2",
			                           "x1:2",
			                           "1:-2",
			                           " 1:2",
			                           "1:2 ",
			                           "99999999999999999999:1",
			                           "-999999999999999999:1" };

		for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
			jfail("SD400", overdue_sql, 3,
			      (const char *[]){ tdb_fmt("%d", uid_of("zhang.wei")), bad[i], NULL });
		jfail("SD400", overdue_sql, 3,
		      (const char *[]){ tdb_fmt("%d", uid_of("zhang.wei")), NULL, "0" });
		jfail("SD400", overdue_sql, 3,
		      (const char *[]){ tdb_fmt("%d", uid_of("zhang.wei")), NULL, "201" });
		jfail("SD403", overdue_sql, 3,
		      (const char *[]){ tdb_fmt("%d", uid_of("t.disabled")), NULL, NULL });
	}
	free(s.id);
	free(whole.id);
}
END_TEST

/* ---- route ---- */

START_TEST(route_proposal)
{
	static const struct {
		const char *category, *grid, *department;
	} cases[] = {
		{ "pollution.noise", "jg-yanan-01", "sthj" },       /* the grid's rule */
		{ "pollution.noise", "jg-jianguo-01", "cgj" },      /* the street's rule */
		{ "construction.billboard", "jg-yanan-01", "cgj" }, /* the parent's rule */
		{ "pollution.water", "jg-yanan-02", "sw" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		long long t =
		        report_as("zhang.wei", cases[i].category, cases[i].grid, "route", NULL);
		const char *p[] = { tdb_fmt("%d", uid_of("zhang.wei")), tdb_fmt("%lld", t) };
		json_object *r = jok("SELECT street.st_route_ticket($1, $2)", 2, p);
		json_object *d = key(r, "department");

		ck_assert_int_eq(json_object_object_length(r), 1);
		ck_assert_int_eq(json_object_object_length(d), 4);
		ck_assert_str_eq(jstr(d, "code"), cases[i].department);
		ck_assert_int_eq(jint(d, "id"), tdb_department(db, cases[i].department));
		ck_assert_ptr_nonnull(jstr(d, "name"));
		ck_assert_ptr_nonnull(jstr(d, "name_en"));
		ck_assert_int_eq(
		        jint(d, "id"),
		        tdb_int(db,
		                "SELECT st_route(category_id, grid_id) FROM ticket WHERE id = $1",
		                1, (const char *[]){ tdb_fmt("%lld", t) }));
		json_object_put(r);
		/* the same as what dispatch then picks */
		dispatch("zhang.wei", t);
		ck_assert_int_eq(tdb_int(db, "SELECT department_id FROM ticket WHERE id = $1", 1,
		                         (const char *[]){ tdb_fmt("%lld", t) }),
		                 tdb_department(db, cases[i].department));
		/* not visible: not found */
		jfail("SD404", "SELECT street.st_route_ticket($1, $2)", 2,
		      (const char *[]){ tdb_fmt("%d", uid_of("liu.yang")), tdb_fmt("%lld", t) });
		jfail("SD404", "SELECT street.st_route_ticket($1, $2)", 2,
		      (const char *[]){ tdb_fmt("%d", uid_of("admin")), tdb_fmt("%lld", t) });
	}
	jfail("SD404", "SELECT street.st_route_ticket($1, $2)", 2,
	      (const char *[]){ tdb_fmt("%d", uid_of("ma.jun")), "9000000000000" });
}
END_TEST

/* ---- authentication ---- */

START_TEST(account_by_cn_and_disabled)
{
	json_object *r;
	char st[6];

	r = jok("SELECT street.st_account_by_cn($1)", 1, (const char *[]){ "wang.fang" });
	ck_assert_int_eq(jint(r, "id"), uid_of("wang.fang"));
	ck_assert_str_eq(jstr(r, "login"), "wang.fang");
	ck_assert_str_eq(jstr(r, "role"), "collector");
	ck_assert(!json_object_get_boolean(key(r, "disabled")));
	ck_assert_int_eq(json_object_array_length(key(r, "grids")), 3);
	ck_assert(has(r, "name") && has(r, "name_en") && has(r, "district_id") &&
	          has(r, "street_id") && has(r, "department_id"));
	json_object_put(r);

	r = jok("SELECT street.st_account_by_cn($1)", 1, (const char *[]){ "t.disabled" });
	ck_assert_int_eq(jint(r, "id"), uid_of("t.disabled"));
	ck_assert(json_object_get_boolean(key(r, "disabled")));
	json_object_put(r);

	r = jok("SELECT street.st_account_by_cn($1)", 1, (const char *[]){ "ma.jun" });
	ck_assert(jnull(r, "district_id"));
	ck_assert_int_eq(json_object_array_length(key(r, "grids")), 0);
	json_object_put(r);

	/* no such certificate name: NULL */
	r = jq("SELECT street.st_account_by_cn($1)", 1, (const char *[]){ "nobody.at.all" }, st,
	       NULL, 0);
	ck_assert_str_eq(st, "");
	ck_assert_ptr_null(r);
	r = jq("SELECT street.st_account_by_cn($1)", 1, (const char *[]){ "WANG.FANG" }, st, NULL,
	       0);
	ck_assert_ptr_null(r);

	/* accounts changed since login: disabled, gone, or at another revision */
	{
		const char *acct_ids = tdb_fmt("{%d,%d,%d,999999999}", uid_of("wang.fang"),
		                               uid_of("t.disabled"), uid_of("zhang.wei"));
		const char *sql =
		        "SELECT street.st_changed_accounts($1::integer[], ARRAY["
		        "(SELECT revision FROM street.account WHERE login = 'wang.fang'),"
		        "(SELECT revision FROM street.account WHERE login = 't.disabled'),"
		        "0, 1]::bigint[])";
		json_object *want;

		r = jok(sql, 1, (const char *[]){ acct_ids });
		want = json_tokener_parse(tdb_fmt(
		        "[[%d, null, true], [%d, %lld, true], [%d, %lld, false]]", 999999999,
		        uid_of("t.disabled"),
		        tdb_int(db,
		                "SELECT revision FROM street.account WHERE login = 't.disabled'", 0,
		                NULL),
		        uid_of("zhang.wei"),
		        tdb_int(db, "SELECT revision FROM street.account WHERE login = 'zhang.wei'",
		                0, NULL)));
		ck_assert_ptr_nonnull(want);
		ck_assert_int_eq(json_object_array_length(r), 3);
		for (size_t i = 0; i < 3; i++) {
			bool found = false;

			for (size_t j = 0; j < 3; j++)
				found = found ||
				        json_object_equal(json_object_array_get_idx(r, i),
				                          json_object_array_get_idx(want, j));
			ck_assert_msg(found, "got %s", json_object_to_json_string(r));
		}
		json_object_put(want);
		json_object_put(r);
		r = jok("SELECT street.st_changed_accounts('{}'::integer[], '{}'::bigint[])", 0,
		        NULL);
		ck_assert_int_eq(json_object_array_length(r), 0);
		json_object_put(r);
	}
}
END_TEST

/* ---- the console's reads (sql/functions/55_console.sql) ---- */

/* A return of ticket t by the department holding it, naming another one;
 * the return event's seq. */
static long long return_ticket(long long t, const char *reason)
{
	struct tdb_outcome o;
	const char *q[] = { tdb_fmt("%lld", t) };
	long long dept = tdb_int(db, "SELECT department_id FROM ticket WHERE id = $1", 1, q);
	long long who = tdb_int(db,
	                        "SELECT min(a.id) FROM account a JOIN ticket t ON"
	                        " t.department_id = a.department_id WHERE t.id = $1"
	                        " AND NOT a.disabled AND a.login NOT LIKE 't.%'",
	                        1, q);
	int named = tdb_department(db, "cgj") == dept ? tdb_department(db, "sthj")
	                                              : tdb_department(db, "cgj");
	char a[16], id[32], v[16], d[16];
	const char *p[] = { a, id, v, reason, d, NULL };

	snprintf(a, sizeof(a), "%lld", who);
	snprintf(id, sizeof(id), "%lld", t);
	snprintf(v, sizeof(v), "%d", version_of(t));
	snprintf(d, sizeof(d), "%d", named);
	tdb_call(db, "st_return", 6, p, &o);
	ck_assert_msg(o.ok, "return: %s %s", o.sqlstate, o.message);
	return o.seq;
}

/* The queue's row for the return at seq as LOGIN sees it (walking every page
 * from just before it, one row a page), or NULL; *rows counts the rows read. */
static json_object *queue_row(const char *login, long long seq, json_object **holder)
{
	char after[32];

	snprintf(after, sizeof(after), "%lld", seq - 1);
	for (int i = 0; i < 1000; i++) {
		const char *p[] = { tdb_fmt("%d", uid_of(login)), after, "1" };
		json_object *r = jok("SELECT street.st_returns($1, $2, $3::integer)", 3, p);
		json_object *rows = key(r, "returns");

		ck_assert_int_le((int)json_object_array_length(rows), 1);
		for (size_t j = 0; j < json_object_array_length(rows); j++) {
			json_object *row = json_object_array_get_idx(rows, j);

			ck_assert_int_gt(jint(row, "seq"), atoll(after));
			if (jint(row, "seq") == seq) {
				*holder = r;
				return row;
			}
		}
		if (jnull(r, "next")) {
			json_object_put(r);
			return NULL;
		}
		snprintf(after, sizeof(after), "%lld", jint(r, "next"));
		json_object_put(r);
	}
	ck_abort_msg("the queue never ended");
	return NULL;
}

START_TEST(returns_queue)
{
	char m[64];
	long long t1, t2, s1, s2;
	json_object *holder = NULL, *row;

	marker(m, sizeof(m), "ret");
	t1 = report_as("wang.fang", "pollution.noise", "jg-yanan-01", m, NULL);
	dispatch("zhang.wei", t1);
	s1 = return_ticket(t1, "不属于本部门 <b>x</b>");
	t2 = report_as("wang.fang", "pollution.noise", "jg-yanan-01", m, NULL);
	dispatch("zhang.wei", t2);
	s2 = return_ticket(t2, "second");
	dispatch("zhang.wei", t2); /* the street office re-dispatched it: not pending */

	/* the city-wide and the district supervisor see both, with what to rule on */
	static const char *const sees[] = { "ma.jun", "sun.li" };
	for (size_t i = 0; i < 2; i++) {
		const char *q[] = { tdb_fmt("%lld", s1) };

		row = queue_row(sees[i], s1, &holder);
		ck_assert_msg(row != NULL, "%s does not see the return", sees[i]);
		ck_assert_int_eq(jint(key(row, "ticket"), "id"), t1);
		ck_assert_str_eq(jstr(row, "reason"), "不属于本部门 <b>x</b>");
		ck_assert_int_eq(
		        jint(row, "returned_by"),
		        tdb_int(db, "SELECT department_id FROM ticket_event WHERE seq = $1", 1, q));
		ck_assert_int_eq(jint(row, "named"),
		                 tdb_int(db,
		                         "SELECT (data->>'department_id')::int FROM ticket_event"
		                         " WHERE seq = $1",
		                         1, q));
		ck_assert(json_object_get_boolean(key(row, "pending")));
		ck_assert_str_eq(jstr(key(row, "actor"), "role"), "department");
		ck_assert(has(row, "at"));
		json_object_put(holder);
		row = queue_row(sees[i], s2, &holder);
		ck_assert(row != NULL);
		ck_assert(!json_object_get_boolean(key(row, "pending")));
		json_object_put(holder);
	}
	/* another district's supervisor: not in its queue */
	ck_assert_ptr_null(queue_row("t.supervisor.other", s1, &holder));
	/* no one else has a queue */
	static const char *const not [] = { "zhang.wei", "wang.fang", "yang.min", "admin" };
	for (size_t i = 0; i < 4; i++) {
		const char *p[] = { tdb_fmt("%d", uid_of(not [i])) };

		jfail("SD403", "SELECT street.st_returns($1)", 1, p);
	}
	{
		const char *p[] = { tdb_fmt("%d", uid_of("ma.jun")), "0", "0" };

		jfail("SD400", "SELECT street.st_returns($1, $2, $3::integer)", 3, p);
		p[2] = "201";
		jfail("SD400", "SELECT street.st_returns($1, $2, $3::integer)", 3, p);
		p[1] = "-1";
		p[2] = "1";
		jfail("SD400", "SELECT street.st_returns($1, $2, $3::integer)", 3, p);
	}
	/* ruled on: out of the queue */
	{
		struct tdb_outcome o;
		const char *p[] = { tdb_fmt("%d", uid_of("sun.li")),
			            tdb_fmt("%lld", t1),
			            tdb_fmt("%lld", s1),
			            "false",
			            NULL,
			            NULL,
			            NULL,
			            NULL };

		tdb_call(db, "st_arbitrate", 8, p, &o);
		ck_assert_msg(o.ok, "arbitrate: %s %s", o.sqlstate, o.message);
		ck_assert_str_eq(o.state, "dispatched");
	}
	ck_assert_ptr_null(queue_row("ma.jun", s1, &holder));
	row = queue_row("ma.jun", s2, &holder);
	ck_assert(row != NULL);
	json_object_put(holder);
}
END_TEST

/* grid_load: open and overdue tickets per grid, in scope. */
static json_object *load_of(const char *login, const char *grid, json_object **holder)
{
	const char *p[] = { tdb_fmt("%d", uid_of(login)) };
	json_object *r = jok("SELECT street.st_grid_load($1)", 1, p), *grids = key(r, "grids");
	long long g = tdb_grid(db, grid), last = 0;
	json_object *found = NULL;

	for (size_t i = 0; i < json_object_array_length(grids); i++) {
		json_object *x = json_object_array_get_idx(grids, i);

		ck_assert_int_gt(jint(x, "grid"), last); /* by id, each once */
		last = jint(x, "grid");
		ck_assert_int_ge(jint(x, "open"), 1);
		ck_assert_int_ge(jint(x, "overdue"), 0);
		ck_assert_int_le(jint(x, "overdue"), jint(x, "open"));
		if (last == g)
			found = x;
	}
	*holder = r;
	return found;
}

START_TEST(grid_load_counts)
{
	char m[64];
	json_object *holder, *x;

	marker(m, sizeof(m), "load");
	/* t-tiny: a deadline of a second, soon past */
	report_as("wang.fang", "t-tiny", "jg-yanan-02", m, NULL);
	sleep(2);
	static const char *const sees[] = { "wang.fang", "zhang.wei", "sun.li", "ma.jun" };
	for (size_t i = 0; i < 4; i++) {
		x = load_of(sees[i], "jg-yanan-02", &holder);
		ck_assert_msg(x != NULL, "%s: no row for the grid", sees[i]);
		ck_assert_int_ge(jint(x, "overdue"), 1);
		json_object_put(holder);
	}
	static const char *const not [] = { "t.supervisor.other", "liu.yang", "admin", "li.na" };
	for (size_t i = 0; i < 4; i++) {
		ck_assert_msg(load_of(not [i], "jg-yanan-02", &holder) == NULL, "%s sees it",
		              not [i]);
		json_object_put(holder);
	}
	{
		const char *p[] = { tdb_fmt("%d", uid_of("t.disabled")) };

		jfail("SD403", "SELECT street.st_grid_load($1)", 1, p);
	}
}
END_TEST

int main(void)
{
	Suite *s = suite_create("queries");
	TCase *tc = tcase_create("queries");
	SRunner *sr;
	int failed;

	srandom((unsigned)time(NULL) ^ (unsigned)getpid());
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, whoami_each_role);
	tcase_add_test(tc, reference_data);
	tcase_add_test(tc, get_with_history);
	tcase_add_test(tc, list_scope_per_role);
	tcase_add_test(tc, list_filters);
	tcase_add_test(tc, list_text_is_literal);
	tcase_add_test(tc, list_pagination);
	tcase_add_test(tc, list_bad_arguments);
	tcase_add_test(tc, overdue_order_and_cursor);
	tcase_add_test(tc, route_proposal);
	tcase_add_test(tc, account_by_cn_and_disabled);
	tcase_add_test(tc, returns_queue);
	tcase_add_test(tc, grid_load_counts);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
