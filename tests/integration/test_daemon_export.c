/*
 * export through the real daemon: a page comes from SQL as rows
 * (st_export_page, SETOF text) that the daemon writes one after the other
 * into its reply (lib/proto.h, sql_rows).  The reply is byte for byte the
 * page st_export gives in SQL, on the wire and on HTTPS /api, page after page
 * by the cursor; a client that reads slowly under a small max_backlog gets
 * its pages whole; a client gone mid-export leaves the daemon answering.
 *
 * Its own 3000 tickets of May 2018 (no events: their export rows are built
 * as the follower would), removed at the end.
 */
#include <check.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tdaemon.h"
#include "tdb.h"
#include "thttp.h"

#define NTICKETS 3000
#define FROM     "2018-05-01"
#define TO       "2018-06-01"

static long long ma_jun;

/* tdb_fmt with room for a long statement (four buffers in turn). */
__attribute__((format(printf, 1, 2))) static const char *fmt(const char *f, ...)
{
	static char bufs[4][1024];
	static unsigned next;
	char *b = bufs[next++ % 4];
	va_list ap;

	va_start(ap, f);
	vsnprintf(b, sizeof(bufs[0]), f, ap);
	va_end(ap);
	return b;
}

/* Begins (lock) or commits a transaction holding the follower's lock:
 * test_export's backfill case holds it while it rebuilds every export row of
 * the district these tickets copy and compares them with those it kept, so
 * the tickets and their rows appear and go between its looks, never during. */
static void follower_lock(PGconn *db, bool lock)
{
	if (lock) {
		PQclear(tdb_query(db, "BEGIN", 0, NULL));
		tdb_int(db, "SELECT 1 FROM pg_advisory_xact_lock(hashtext('streetd.rollup'))", 0,
		        NULL);
	} else {
		PQclear(tdb_query(db, "COMMIT", 0, NULL));
	}
}

static void setup(void)
{
	PGconn *db = tdb_connect(true);

	ma_jun = tdb_int(db, "SELECT id FROM street.account WHERE login = 'ma.jun'", 0, NULL);
	follower_lock(db, true);
	tdb_int(db,
	        fmt("WITH t AS (SELECT * FROM street.ticket ORDER BY id LIMIT 1), "
	            "n AS (INSERT INTO street.ticket (state, category_id, urgent, grid_id, "
	            "street_id, district_id, description, reporter_id, created_at, "
	            "updated_at, closed_at, close_kind) SELECT 'cancelled', t.category_id, "
	            "false, t.grid_id, t.street_id, t.district_id, 'daemon export ' || i, "
	            "t.reporter_id, '2018-05-10 09:00+08'::timestamptz + i * interval "
	            "'1 minute', '2018-05-10 09:00+08'::timestamptz + i * interval '1 "
	            "minute', '2018-05-20 09:00+08', 'cancelled' FROM t, "
	            "generate_series(1, %d) i RETURNING 1) SELECT count(*) FROM n",
	            NTICKETS),
	        0, NULL);
	tdb_int(db,
	        "SELECT 1 FROM street.st_export_refresh(ARRAY(SELECT id FROM street.ticket "
	        "WHERE description LIKE 'daemon export %'))",
	        0, NULL);
	follower_lock(db, false);
	PQfinish(db);
}

static void teardown(void)
{
	PGconn *db = tdb_connect(true);

	follower_lock(db, true);
	tdb_int(db,
	        "WITH d AS (DELETE FROM street.assess_export x USING street.ticket t WHERE "
	        "t.id = x.ticket_id AND t.description LIKE 'daemon export %' RETURNING 1) "
	        "SELECT count(*) FROM d",
	        0, NULL);
	tdb_int(db,
	        "WITH d AS (DELETE FROM street.ticket WHERE description LIKE 'daemon export %' "
	        "RETURNING 1) SELECT count(*) FROM d",
	        0, NULL);
	follower_lock(db, false);
	PQfinish(db);
}

/* The page as SQL gives it (st_export's json text), malloc'd. */
static char *sql_page(const char *from, const char *to, long long after, int limit)
{
	PGconn *db = tdb_connect(true);
	char *s = tdb_str(db,
	                  fmt("SELECT street.st_export(%lld, '%s', '%s', %lld, %d)::text", ma_jun,
	                      from, to, after, limit),
	                  0, NULL);

	PQfinish(db);
	return s;
}

/* The request line for a page, with id. */
static const char *page_req(long long id, const char *from, const char *to, long long after,
                            int limit)
{
	return fmt("{\"id\":%lld,\"op\":\"export\",\"from\":\"%s\",\"to\":\"%s\","
	           "\"after\":%lld,\"limit\":%d}",
	           id, from, to, after, limit);
}

/* Checks that line is the ok reply to id whose result is exactly want. */
static void assert_reply_is(const char *line, long long id, const char *want)
{
	const char *prefix = fmt("{\"id\":%lld,\"ok\":true,\"result\":", id);
	size_t np = strlen(prefix), nl = strlen(line), nw = strlen(want);

	ck_assert_msg(line != NULL && strncmp(line, prefix, np) == 0, "reply: %.200s", line);
	ck_assert_uint_eq(nl, np + nw + 1);
	ck_assert_msg(memcmp(line + np, want, nw) == 0, "the page differs from SQL's");
	ck_assert_int_eq(line[nl - 1], '}');
}

/* The page's "next" (0: null). */
static long long page_next(const char *page)
{
	json_object *o = json_tokener_parse(page), *n = NULL;
	long long v;

	ck_assert_ptr_nonnull(o);
	ck_assert(json_object_object_get_ex(o, "next", &n));
	v = n ? json_object_get_int64(n) : 0;
	json_object_put(o);
	return v;
}

/* The rows of a page. */
static size_t page_rows(const char *page)
{
	json_object *o = json_tokener_parse(page), *r = NULL;
	size_t n;

	ck_assert(json_object_object_get_ex(o, "rows", &r));
	n = json_object_array_length(r);
	json_object_put(o);
	return n;
}

START_TEST(wire_pages_are_sql_pages)
{
	struct tdaemon *d = tdaemon_start(NULL);
	struct tclient *c = tclient_connect(d, "ma.jun");
	long long after = 0, id = 100;
	size_t rows = 0;
	int pages = 0;

	/* page after page by the cursor, each reply exactly SQL's page: big
	 * pages (1000 rows) and small ones (7 rows, under the daemon's 8 KiB
	 * one-piece path), and a period with no rows */
	for (int limit = 1000; limit > 0; limit = limit == 1000 ? 7 : 0) {
		after = 0;
		rows = 0;
		pages = 0;
		do {
			char *want = sql_page(FROM, TO, after, limit), *line;

			ck_assert_int_eq(tclient_send(c, page_req(++id, FROM, TO, after, limit)),
			                 0);
			line = tclient_recv_line(c, 30000);
			assert_reply_is(line, id, want);
			rows += page_rows(want);
			after = page_next(want);
			pages++;
			free(line);
			free(want);
		} while (after != 0 && (limit == 1000 || pages < 5));
		if (limit == 1000) {
			ck_assert_uint_eq(rows, NTICKETS);
			ck_assert_int_eq(pages, NTICKETS / 1000);
		} else {
			ck_assert_uint_eq(rows, 5 * 7);
		}
	}
	{
		char *want = sql_page("1990-01-01", "1990-02-01", 0, 1000), *line;

		ck_assert_int_eq(
		        tclient_send(c, page_req(++id, "1990-01-01", "1990-02-01", 0, 1000)), 0);
		line = tclient_recv_line(c, 30000);
		assert_reply_is(line, id, want);
		ck_assert_uint_eq(page_rows(want), 0);
		ck_assert_int_eq(page_next(want), 0);
		free(line);
		free(want);
	}
	tclient_close(c);
	tdaemon_stop(d, SIGTERM);
}
END_TEST

START_TEST(https_api_same_page)
{
	int port = tdaemon_free_port();
	struct tdaemon *d =
	        tdaemon_start(fmt("http.enabled=true\nhttp.listen=127.0.0.1:%d\n", port));
	char *want = sql_page(FROM, TO, 1000, 1000);
	struct thttp_res r =
	        thttp(d, &(struct thttp_req){ .port = port,
	                                      .login = "ma.jun",
	                                      .method = "POST",
	                                      .path = "/api",
	                                      .ctype = "application/json",
	                                      .body = "{\"id\":7,\"op\":\"export\",\"from\":\"" FROM
	                                              "\",\"to\":\"" TO
	                                              "\",\"after\":1000,\"limit\":1000}" });
	const char *at;

	ck_assert_msg(r.status == 200, "%d %s", r.status, r.body);
	at = strstr(r.body, "\"result\":");
	ck_assert_ptr_nonnull(at);
	at += strlen("\"result\":");
	ck_assert_msg(strncmp(at, want, strlen(want)) == 0, "the HTTPS page differs");
	ck_assert_str_eq(at + strlen(want), "}\n");
	thttp_free(&r);
	free(want);
	tdaemon_stop(d, SIGTERM);
}
END_TEST

START_TEST(slow_reader_small_backlog)
{
	/* pages of ~170 KiB against a 64 KiB max_backlog: replies are exempt
	 * from it, so a client that asks three pages at once and reads late gets
	 * all three whole, and is not cut off */
	struct tdaemon *d = tdaemon_start("limits.max_backlog=64KiB\n");
	struct tclient *c;
	long long after = 0;

	tclient_set_rcvbuf(16384);
	c = tclient_connect(d, "ma.jun");
	tclient_set_rcvbuf(0);
	for (int i = 0; i < 3; i++) {
		char *want = sql_page(FROM, TO, after, 1000);

		ck_assert_int_eq(tclient_send(c, page_req(i + 1, FROM, TO, after, 1000)), 0);
		after = page_next(want);
		free(want);
	}
	usleep(500 * 1000);
	after = 0;
	for (int i = 0; i < 3; i++) {
		char *want = sql_page(FROM, TO, after, 1000), *line = tclient_recv_line(c, 30000);

		ck_assert_msg(strlen(want) > 64 * 1024, "a page of %zu bytes", strlen(want));
		assert_reply_is(line, i + 1, want);
		after = page_next(want);
		free(line);
		free(want);
	}
	ck_assert(!tclient_closed(c));
	tclient_close(c);
	tdaemon_stop(d, SIGTERM);
}
END_TEST

START_TEST(client_gone_mid_export)
{
	struct tdaemon *d = tdaemon_start(NULL);
	struct tclient *c = tclient_connect(d, "ma.jun"), *c2;
	char *want = sql_page(FROM, TO, 0, 1000), *line;

	/* three pages asked, a few bytes of the first read, then gone: the
	 * daemon drops the rest (queries in flight, replies queued) */
	for (int i = 0; i < 3; i++)
		ck_assert_int_eq(tclient_send(c, page_req(i + 1, FROM, TO, i * 1000, 1000)), 0);
	{
		char buf[64];
		struct pollfd p = { .fd = tclient_fd(c), .events = POLLIN };

		ck_assert_int_eq(poll(&p, 1, 30000), 1);
		ck_assert_int_gt(read(tclient_fd(c), buf, sizeof(buf)), 0);
	}
	tclient_close(c);
	/* and answers the next client at once, whole */
	c2 = tclient_connect(d, "ma.jun");
	ck_assert_int_eq(tclient_send(c2, page_req(7, FROM, TO, 0, 1000)), 0);
	line = tclient_recv_line(c2, 30000);
	assert_reply_is(line, 7, want);
	free(line);
	free(want);
	tclient_close(c2);
	ck_assert(tdaemon_running(d));
	ck_assert_ptr_null(strstr(tdaemon_log(d), "status=internal"));
	ck_assert_int_eq(tdaemon_stop(d, SIGTERM), 0);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("daemon_export");
	TCase *tc = tcase_create("export");

	tcase_add_unchecked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 180);
	tcase_add_test(tc, wire_pages_are_sql_pages);
	tcase_add_test(tc, https_api_same_page);
	tcase_add_test(tc, slow_reader_small_backlog);
	tcase_add_test(tc, client_gone_mid_export);
	suite_add_tcase(s, tc);
	return tdaemon_run_suite(s);
}
