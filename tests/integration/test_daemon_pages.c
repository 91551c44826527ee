/*
 * Bounded replies (issue 12): get pages a ticket's history (after/next), and
 * list and overdue stop early when a page's tickets reach the byte bound, with
 * their cursors going on from the last ticket returned.  On the real database
 * (sql/functions/50_queries.sql), then through the real daemon, where a reply
 * is one line on the wire.
 *
 * The bound is st_page_bytes() (256 KiB) of rows (events or tickets); a reply
 * adds the ticket of a get, its photos and the keys around them.  Each suite
 * of the integration tests shares the database: these tests report as an
 * account of their own (t.pager, created here) or mark their tickets with a
 * text of their own, and assert on those.
 */
#include <check.h>
#include <json-c/json.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "tdaemon.h"
#include "tdb.h"

enum {
	BOUND = 262144, /* st_page_bytes() */
	SLACK = 32768,  /* a ticket of a get (4000-character texts), photos, keys */
	MAX_EVENTS = 100,
};

static PGconn *db;
static int pager; /* t.pager: a collector whose tickets only these tests report */

static void setup(void)
{
	PGconn *admin = tdb_connect(true);
	PGresult *r;

	/* in the fixtures' other district, so that few lists of other suites see
	 * these tickets; created here to keep the shared fixtures as they are */
	r = tdb_query(admin,
	              "INSERT INTO street.account (login, name, name_en, role, street_id, cert_cn)"
	              " SELECT 't.pager', '测试分页', 'Test pager', 'collector', id, 't.pager'"
	              " FROM street.street WHERE code = 't-other-st' ON CONFLICT DO NOTHING",
	              0, NULL);
	ck_assert_msg(PQresultStatus(r) == PGRES_COMMAND_OK, "%s", PQerrorMessage(admin));
	PQclear(r);
	r = tdb_query(admin,
	              "INSERT INTO street.account_grid (account_id, street_id, grid_id)"
	              " SELECT a.id, a.street_id, g.id FROM street.account a, street.grid g"
	              " WHERE a.login = 't.pager' AND g.code = 't-other-01' ON CONFLICT DO NOTHING",
	              0, NULL);
	ck_assert_msg(PQresultStatus(r) == PGRES_COMMAND_OK, "%s", PQerrorMessage(admin));
	PQclear(r);
	PQfinish(admin);
	db = tdb_connect(false);
	pager = tdb_account(db, "t.pager");
}

static void teardown(void)
{
	PQfinish(db);
}

/* ---- helpers ---- */

static unsigned long counter;

static void marker(char *buf, size_t size, const char *what)
{
	snprintf(buf, size, "pg%s-%d-%lu-%ld", what, (int)getpid(), ++counter, random() % 100000);
}

/* A text of exactly 4000 characters starting with head: ASCII when i is
 * even, 3-byte CJK when odd (so that rows differ in bytes).  Caller frees. */
static char *long_text(const char *head, int i)
{
	static const char cjk[] = "路";
	size_t hl = strlen(head), n = 4000 - hl, unit = i % 2 ? strlen(cjk) : 1;
	char *s = malloc(hl + n * unit + 1), *p;

	ck_assert_ptr_nonnull(s);
	memcpy(s, head, hl);
	p = s + hl;
	for (size_t k = 0; k < n; k++, p += unit)
		memcpy(p, i % 2 ? cjk : "abcdefghij" + k % 10, unit);
	*p = '\0';
	return s;
}

static long long report(int actor, const char *category, const char *description)
{
	struct tdb_outcome o;
	const char *p[] = { tdb_fmt("%d", actor), tdb_fmt("%d", tdb_category(db, category)),
		            tdb_fmt("%d", tdb_grid(db, "t-other-01")), description };

	tdb_call(db, "st_report", 4, p, &o);
	ck_assert_msg(o.ok, "report: %s %s", o.sqlstate, o.message);
	return o.ticket;
}

static void comment(int actor, long long t, const char *text)
{
	struct tdb_outcome o;
	const char *p[] = { tdb_fmt("%d", actor), tdb_fmt("%lld", t), text };

	tdb_call(db, "st_comment", 3, p, &o);
	ck_assert_msg(o.ok, "comment: %s %s", o.sqlstate, o.message);
}

/* One reply of a query function, measured as the daemon sends it (jsonb::text). */
struct page {
	json_object *r;        /* the parsed reply; the caller puts it */
	long long bytes;       /* the whole reply */
	long long rows_bytes;  /* its rows (events or tickets), each as its own text */
	long long first_bytes; /* the first row (0: none) */
	int n;                 /* rows */
};

/* Runs SELECT <call> with params; a failure is returned as its SQLSTATE in
 * state (and pg->r NULL), success leaves state "". */
static void page_try(const char *call, const char *rows, int n, const char *const *p,
                     struct page *pg, char state[6])
{
	char sql[512];
	PGresult *r;

	snprintf(sql, sizeof(sql),
	         "SELECT j::text, octet_length(j::text),"
	         " (SELECT coalesce(sum(octet_length(e::text)), 0)"
	         "  FROM jsonb_array_elements(j->'%s') e),"
	         " coalesce(octet_length((j->'%s'->0)::text), 0), jsonb_array_length(j->'%s')"
	         " FROM (SELECT %s AS j) s",
	         rows, rows, rows, call);
	memset(pg, 0, sizeof(*pg));
	state[0] = '\0';
	r = tdb_query(db, sql, n, p);
	if (PQresultStatus(r) != PGRES_TUPLES_OK) {
		const char *st = PQresultErrorField(r, PG_DIAG_SQLSTATE);

		snprintf(state, 6, "%s", st ? st : "?????");
		PQclear(r);
		return;
	}
	ck_assert_int_eq(PQntuples(r), 1);
	pg->r = json_tokener_parse(PQgetvalue(r, 0, 0));
	ck_assert_ptr_nonnull(pg->r);
	pg->bytes = atoll(PQgetvalue(r, 0, 1));
	pg->rows_bytes = atoll(PQgetvalue(r, 0, 2));
	pg->first_bytes = atoll(PQgetvalue(r, 0, 3));
	pg->n = atoi(PQgetvalue(r, 0, 4));
	PQclear(r);
}

static void page_ok(const char *call, const char *rows, int n, const char *const *p,
                    struct page *pg)
{
	char st[6];

	page_try(call, rows, n, p, pg, st);
	ck_assert_msg(st[0] == '\0', "%s: %s", call, st);
}

static json_object *key(json_object *o, const char *k)
{
	json_object *v = NULL;

	ck_assert_msg(json_object_object_get_ex(o, k, &v), "no key %s", k);
	return v;
}

static bool is_null(json_object *o, const char *k)
{
	return json_object_is_type(key(o, k), json_type_null);
}

static long long jint(json_object *o, const char *k)
{
	return json_object_get_int64(key(o, k));
}

/* A page that stopped before its count limit did so because the next row
 * would not have fitted: the bound is tight, not merely kept. */
static void tight(const struct page *pg, int limit, long long next_first)
{
	if (pg->n < limit)
		ck_assert_msg(pg->rows_bytes + next_first > BOUND,
		              "a page of %d rows (%lld bytes) stopped though the next (%lld bytes) "
		              "fitted",
		              pg->n, pg->rows_bytes, next_first);
}

/* ---- get ---- */

static const char get_call[] = "street.st_get($1, $2, $3::bigint)";

/* Every page of a ticket's history, as the account sees it: checks each page's
 * bounds and that the pages join up; returns the seqs (malloc'd) in *seqs. */
static int get_all(int actor, long long t, long long **seqs, int *npages)
{
	char after[32] = "";
	int n = 0, cap = 512;
	struct page prev = { 0 };
	bool have_prev = false;

	*seqs = malloc(sizeof(long long) * (size_t)cap);
	ck_assert_ptr_nonnull(*seqs);
	*npages = 0;
	for (;;) {
		const char *p[] = { tdb_fmt("%d", actor), tdb_fmt("%lld", t),
			            after[0] ? after : NULL };
		struct page pg;
		json_object *ev;

		page_ok(get_call, "events", 3, p, &pg);
		(*npages)++;
		ck_assert_int_lt(*npages, 1000);
		ck_assert_int_eq(jint(key(pg.r, "ticket"), "id"), t);
		ck_assert(json_object_is_type(key(pg.r, "photos"), json_type_array));
		ck_assert_int_le(pg.n, MAX_EVENTS);
		ck_assert_msg(pg.rows_bytes <= BOUND, "events of %lld bytes", pg.rows_bytes);
		ck_assert_msg(pg.bytes <= BOUND + SLACK, "a reply of %lld bytes", pg.bytes);
		if (have_prev)
			tight(&prev, MAX_EVENTS, pg.first_bytes);
		ev = key(pg.r, "events");
		for (int i = 0; i < pg.n; i++) {
			long long s = jint(json_object_array_get_idx(ev, (size_t)i), "seq");

			if (n > 0)
				ck_assert_msg(s > (*seqs)[n - 1], "seq %lld after %lld", s,
				              (*seqs)[n - 1]);
			ck_assert_int_eq(
			        jint(json_object_array_get_idx(ev, (size_t)i), "ticket_id"), t);
			(*seqs)[n++] = s;
			ck_assert_int_lt(n, cap);
		}
		if (is_null(pg.r, "next")) {
			json_object_put(pg.r);
			json_object_put(prev.r);
			return n;
		}
		/* next is the last seq of this page, and a page with more after it is
		 * never empty */
		ck_assert_int_gt(pg.n, 0);
		ck_assert_int_eq(jint(pg.r, "next"), (*seqs)[n - 1]);
		snprintf(after, sizeof(after), "%lld", jint(pg.r, "next"));
		json_object_put(prev.r);
		prev = pg;
		have_prev = true;
	}
}

/* The ticket's event seqs as stored, oldest first. */
static int stored_seqs(long long t, long long *out, int cap)
{
	const char *p[] = { tdb_fmt("%lld", t) };
	PGresult *r = tdb_query(db,
	                        "SELECT seq FROM street.ticket_event WHERE ticket_id = $1"
	                        " ORDER BY seq",
	                        1, p);
	int n;

	ck_assert_int_eq(PQresultStatus(r), PGRES_TUPLES_OK);
	n = PQntuples(r);
	ck_assert_int_le(n, cap);
	for (int i = 0; i < n; i++)
		out[i] = atoll(PQgetvalue(r, i, 0));
	PQclear(r);
	return n;
}

START_TEST(get_pages_a_long_history)
{
	char m[64];
	long long t, *seqs, want[512], last;
	int n, nwant, pages;
	enum { N = 250 };

	marker(m, sizeof(m), "long");
	t = report(pager, "pollution.dust", m);
	for (int i = 0; i < N; i++) {
		char *text = long_text(tdb_fmt("%s-%03d-", m, i), i);

		comment(pager, t, text);
		free(text);
	}

	n = get_all(pager, t, &seqs, &pages);
	nwant = stored_seqs(t, want, 512);
	ck_assert_int_eq(nwant, N + 1);
	ck_assert_int_eq(n, nwant);
	for (int i = 0; i < n; i++)
		ck_assert_int_eq(seqs[i], want[i]);
	/* 250 events of 4 to 12 KB: the bytes, not the count, cut these pages */
	ck_assert_int_ge(pages, 5);
	last = seqs[n - 1];
	free(seqs);

	/* the comments in order, each once */
	{
		const char *p[] = { tdb_fmt("%d", pager), tdb_fmt("%lld", t),
			            tdb_fmt("%lld", want[99]) };
		struct page pg;
		json_object *e;

		page_ok(get_call, "events", 3, p, &pg);
		e = json_object_array_get_idx(key(pg.r, "events"), 0);
		ck_assert_int_eq(jint(e, "seq"), want[100]);
		ck_assert(strncmp(json_object_get_string(key(key(e, "data"), "text")),
		                  tdb_fmt("%s-%03d-", m, 99), strlen(m) + 5) == 0);
		json_object_put(pg.r);
	}

	/* after the last, or far beyond it: nothing, and no next */
	for (int k = 0; k < 2; k++) {
		const char *p[] = { tdb_fmt("%d", pager), tdb_fmt("%lld", t),
			            tdb_fmt("%lld", k ? last + 1000000000LL : last) };
		struct page pg;

		page_ok(get_call, "events", 3, p, &pg);
		ck_assert_int_eq(pg.n, 0);
		ck_assert(is_null(pg.r, "next"));
		ck_assert_int_eq(jint(key(pg.r, "ticket"), "id"), t);
		json_object_put(pg.r);
	}
	/* after 0 is the first page */
	{
		const char *p[] = { tdb_fmt("%d", pager), tdb_fmt("%lld", t), "0" };
		struct page pg;

		page_ok(get_call, "events", 3, p, &pg);
		ck_assert_int_eq(jint(json_object_array_get_idx(key(pg.r, "events"), 0), "seq"),
		                 want[0]);
		ck_assert(!is_null(pg.r, "next"));
		json_object_put(pg.r);
	}
	/* a negative seq is refused; so is the page of a ticket one may not see */
	{
		const char *p[] = { tdb_fmt("%d", pager), tdb_fmt("%lld", t), "-1" };
		const char *q[] = { tdb_fmt("%d", tdb_account(db, "wang.fang")), tdb_fmt("%lld", t),
			            "1" };
		struct page pg;
		char st[6];

		page_try(get_call, "events", 3, p, &pg, st);
		ck_assert_str_eq(st, "SD400");
		page_try(get_call, "events", 3, q, &pg, st);
		ck_assert_str_eq(st, "SD404");
	}
}
END_TEST

START_TEST(get_pages_by_count)
{
	char m[64];
	long long t, *seqs, want[256];
	int n, pages;
	enum { N = 150 };

	marker(m, sizeof(m), "many");
	t = report(pager, "pollution.dust", m);
	for (int i = 0; i < N; i++)
		comment(pager, t, tdb_fmt("%s %d", m, i));
	n = get_all(pager, t, &seqs, &pages);
	ck_assert_int_eq(stored_seqs(t, want, 256), N + 1);
	ck_assert_int_eq(n, N + 1);
	ck_assert_int_eq(pages, 2); /* 100, then 51 */
	for (int i = 0; i < n; i++)
		ck_assert_int_eq(seqs[i], want[i]);
	free(seqs);
	/* the first page's next is its 100th event */
	{
		const char *p[] = { tdb_fmt("%d", pager), tdb_fmt("%lld", t), NULL };
		struct page pg;

		page_ok(get_call, "events", 3, p, &pg);
		ck_assert_int_eq(pg.n, MAX_EVENTS);
		ck_assert_int_eq(jint(pg.r, "next"), want[99]);
		json_object_put(pg.r);
	}
}
END_TEST

/* ---- list and overdue ---- */

static const char list_call[] =
        "street.st_list($1, NULL, NULL, NULL, NULL, NULL, $2, NULL, NULL, $3::bigint, 200)";
static const char overdue_call[] = "street.st_overdue($1, $2, 200)";

/* Walks every page (limit 200) of the list or the overdue list; checks each
 * page's bound and that it is tight, that no ticket comes twice and that the
 * order holds; returns the ids in *out (malloc'd) and their number. */
static int walk(bool overdue, const char *text, long long **out, int *npages)
{
	char after[64] = "";
	int n = 0, cap = 4096;
	struct page prev = { 0 };
	bool have_prev = false;

	*out = malloc(sizeof(long long) * (size_t)cap);
	ck_assert_ptr_nonnull(*out);
	*npages = 0;
	for (;;) {
		struct page pg;
		json_object *ts;

		if (overdue) {
			const char *p[] = { tdb_fmt("%d", pager), after[0] ? after : NULL };

			page_ok(overdue_call, "tickets", 2, p, &pg);
		} else {
			const char *p[] = { tdb_fmt("%d", pager), text, after[0] ? after : NULL };

			page_ok(list_call, "tickets", 3, p, &pg);
		}
		(*npages)++;
		ck_assert_int_lt(*npages, 1000);
		ck_assert_int_le(pg.n, 200);
		ck_assert_msg(pg.rows_bytes <= BOUND, "tickets of %lld bytes", pg.rows_bytes);
		ck_assert_msg(pg.bytes <= BOUND + 4096, "a reply of %lld bytes", pg.bytes);
		if (have_prev)
			tight(&prev, 200, pg.first_bytes);
		ts = key(pg.r, "tickets");
		for (int i = 0; i < pg.n; i++) {
			json_object *x = json_object_array_get_idx(ts, (size_t)i);
			long long id = jint(x, "id");

			for (int k = 0; k < n; k++)
				ck_assert_msg((*out)[k] != id, "ticket %lld twice", id);
			if (!overdue && n > 0)
				ck_assert_int_lt(id, (*out)[n - 1]);
			ck_assert_int_eq(jint(x, "reporter_id"), pager);
			(*out)[n++] = id;
			ck_assert_int_lt(n, cap);
		}
		if (is_null(pg.r, "next")) {
			json_object_put(pg.r);
			json_object_put(prev.r);
			return n;
		}
		ck_assert_int_gt(pg.n, 0);
		if (overdue) {
			snprintf(after, sizeof(after), "%s",
			         json_object_get_string(key(pg.r, "next")));
		} else {
			ck_assert_int_eq(jint(pg.r, "next"), (*out)[n - 1]);
			snprintf(after, sizeof(after), "%lld", jint(pg.r, "next"));
		}
		json_object_put(prev.r);
		prev = pg;
		have_prev = true;
	}
}

START_TEST(lists_are_bounded)
{
	char m[64];
	long long mine[200], *got;
	int n, pages, found;
	enum { N = 200 };

	/* t-tiny: overdue a second after the report */
	marker(m, sizeof(m), "wide");
	for (int i = 0; i < N; i++) {
		char *d = long_text(tdb_fmt("%s-%03d-", m, i), i);

		mine[i] = report(pager, "t-tiny", d);
		free(d);
	}

	/* list: exactly these, newest first, over several bounded pages */
	n = walk(false, m, &got, &pages);
	ck_assert_int_eq(n, N);
	ck_assert_int_ge(pages, 4);
	for (int i = 0; i < N; i++)
		ck_assert_int_eq(got[i], mine[N - 1 - i]);
	free(got);

	/* without a filter: every ticket of the account, once (earlier runs' too) */
	n = walk(false, NULL, &got, &pages);
	ck_assert_int_eq(n, tdb_int(db, "SELECT count(*) FROM street.ticket WHERE reporter_id = $1",
	                            1, (const char *[]){ tdb_fmt("%d", pager) }));
	free(got);

	/* overdue: each of these once, in deadline order (the walk checks the
	 * order of ids only for list; here the SQL says which order is right) */
	usleep(1500 * 1000);
	n = walk(true, NULL, &got, &pages);
	ck_assert_int_ge(pages, 4);
	found = 0;
	for (int i = 0; i < n; i++) {
		for (int k = 0; k < N; k++)
			found += got[i] == mine[k];
	}
	ck_assert_int_eq(found, N);
	{
		char *ids = malloc(24 * (size_t)n + 3);
		size_t len = 0;

		ck_assert_ptr_nonnull(ids);
		len += (size_t)sprintf(ids, "{");
		for (int i = 0; i < n; i++)
			len += (size_t)sprintf(ids + len, "%s%lld", i ? "," : "", got[i]);
		sprintf(ids + len, "}");
		/* the order of the walk is (due_at, id) */
		ck_assert_int_eq(tdb_int(db,
		                         "SELECT count(*) FROM (SELECT n, row_number() OVER"
		                         " (ORDER BY t.due_at, t.id) AS k FROM"
		                         " unnest($1::bigint[]) WITH ORDINALITY AS u(id, n)"
		                         " JOIN street.ticket t ON t.id = u.id) s WHERE n <> k",
		                         1, (const char *[]){ ids }),
		                 0);
		free(ids);
	}
	free(got);
}
END_TEST

/* ---- through the daemon ---- */

START_TEST(daemon_pages_get)
{
	struct tdaemon *d = tdaemon_start(NULL);
	struct tclient *c = tclient_connect(d, "wang.fang");
	json_object *r;
	long long t, after = 0, seen = 0, prev_seq = 0;
	char m[64];
	int pages = 0;
	enum { N = 120 };

	marker(m, sizeof(m), "wire");
	r = tclient_ok(c, "{\"op\":\"report\",\"category\":%d,\"grid\":%d,\"description\":\"%s\"}",
	               tdb_category(db, "pollution.dust"), tdb_grid(db, "jg-yanan-02"), m);
	t = tj_ticket_id(r);
	for (int i = 0; i < N; i++) {
		char *text = long_text(tdb_fmt("%s-%03d-", m, i), i);

		tclient_ok(c, "{\"op\":\"comment\",\"ticket\":%lld,\"text\":\"%s\"}", t, text);
		free(text);
	}

	/* each reply is one line under the bound; following next reads them all */
	for (;;) {
		char req[128];
		char *line;
		json_object *o, *ev, *next;

		if (after)
			snprintf(req, sizeof(req),
			         "{\"id\":\"p\",\"op\":\"get\",\"ticket\":%lld,\"after\":%lld}", t,
			         after);
		else
			snprintf(req, sizeof(req), "{\"id\":\"p\",\"op\":\"get\",\"ticket\":%lld}",
			         t);
		ck_assert_int_eq(tclient_send(c, req), 0);
		line = tclient_recv_line(c, 10000);
		ck_assert_ptr_nonnull(line);
		ck_assert_msg(strlen(line) <= BOUND + SLACK, "a reply line of %zu bytes",
		              strlen(line));
		o = json_tokener_parse(line);
		ck_assert_msg(tj_ok(o), "%.200s", line);
		ev = tj_get(o, "result.events");
		ck_assert_int_le(json_object_array_length(ev), MAX_EVENTS);
		for (size_t i = 0; i < json_object_array_length(ev); i++) {
			long long s = tj_int(json_object_array_get_idx(ev, i), "seq");

			ck_assert_int_gt(s, prev_seq);
			prev_seq = s;
			seen++;
		}
		pages++;
		/* present, null at the end */
		if (tj_is_null(o, "result.next")) {
			json_object_put(o);
			free(line);
			break;
		}
		next = tj_get(o, "result.next");
		ck_assert_ptr_nonnull(next);
		ck_assert_int_eq(json_object_get_int64(next), prev_seq);
		after = json_object_get_int64(next);
		json_object_put(o);
		free(line);
	}
	ck_assert_int_eq(seen, N + 1);
	ck_assert_int_ge(pages, 2);

	/* a bad after is the protocol layer's bad_request; the session goes on */
	tclient_err(c, "bad_request", "{\"op\":\"get\",\"ticket\":%lld,\"after\":-1}", t);
	tclient_err(c, "bad_request", "{\"op\":\"get\",\"ticket\":%lld,\"after\":\"5\"}", t);
	tclient_err(c, "bad_request", "{\"op\":\"get\",\"ticket\":%lld,\"after\":1.5}", t);
	tclient_err(c, "bad_request", "{\"op\":\"get\",\"ticket\":%lld,\"after\":true}", t);
	r = tclient_ok(c, "{\"op\":\"get\",\"ticket\":%lld,\"after\":%lld}", t, prev_seq);
	ck_assert_int_eq(tj_len(r, "result.events"), 0);
	ck_assert(tj_is_null(r, "result.next"));

	tclient_close(c);
	ck_assert_int_eq(tdaemon_stop(d, SIGTERM), 0);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("pages");
	TCase *tc = tcase_create("pages");

	srandom((unsigned)time(NULL) ^ (unsigned)getpid());
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 240);
	tcase_add_test(tc, get_pages_a_long_history);
	tcase_add_test(tc, get_pages_by_count);
	tcase_add_test(tc, lists_are_bounded);
	tcase_add_test(tc, daemon_pages_get);
	suite_add_tcase(s, tc);
	return tdaemon_run_suite(s);
}
