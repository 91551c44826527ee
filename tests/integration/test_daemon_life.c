/*
 * The daemon's life: SIGTERM (drain, exit 0, replies delivered first), SIGHUP
 * (reload without dropping sessions; a broken file keeps the running config),
 * --check-config, and PostgreSQL going away and coming back.
 *
 * The last test stops the shared test cluster, so meson runs this suite alone
 * (is_parallel: false), and an unchecked fixture (run by the Check runner, not
 * the forked test) starts the cluster again whatever happens to the test.
 */
#include <check.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tdaemon.h"
#include "tdb.h"

/* ---- helpers ---- */

static void must_stop_cleanly(struct tdaemon *d)
{
	int status = tdaemon_stop(d, SIGTERM);

	ck_assert_msg(status == 0, "streetd exited with status %d on SIGTERM", status);
}

static void whoami_ok(struct tclient *c, const char *login)
{
	json_object *r = tclient_ok(c, "{\"op\":\"whoami\"}");

	ck_assert_str_eq(tj_str(r, "result.account.login"), login);
}

/* A whoami line of exactly n bytes with its newline. */
static char *padded_whoami(size_t n)
{
	static const char head[] = "{\"id\":1,\"op\":\"whoami\"";
	size_t h = sizeof(head) - 1;
	char *b = malloc(n + 1);

	ck_assert_ptr_nonnull(b);
	memcpy(b, head, h);
	memset(b + h, ' ', n - h - 2);
	b[n - 2] = '}';
	b[n - 1] = '\n';
	b[n] = '\0';
	return b;
}

/* ---- SIGTERM ---- */

START_TEST(sigterm_idle_client)
{
	struct tdaemon *d = tdaemon_start(NULL);
	struct tclient *c = tclient_connect(d, "wang.fang");
	long long start;
	int ms, status;

	whoami_ok(c, "wang.fang");
	start = tnow_ms();
	tdaemon_signal(d, SIGTERM);
	ms = tclient_wait_closed(c, 15000);
	ck_assert_msg(ms >= 0, "the idle session is still open 15 s after SIGTERM");
	status = tdaemon_wait(d, 15000);
	ck_assert_msg(status == 0, "exit status %d after SIGTERM (-1: still running)", status);
	fprintf(stderr, "sigterm_idle_client: session closed after %d ms, exit after %lld ms\n", ms,
	        tnow_ms() - start);
	/* Nothing listens any more. */
	tclient_close(c);
	ck_assert_int_eq(tdaemon_stop(d, 0), 0);
}
END_TEST

START_TEST(sigterm_request_in_flight)
{
	struct tdaemon *d = tdaemon_start(NULL);
	struct tclient *w = tclient_connect(d, "wang.fang");
	struct tclient *z = tclient_connect(d, "zhang.wei");
	PGconn *admin = tdb_connect(true);
	PGconn *db = tdb_connect(false);
	json_object *r;
	long long t;
	char line[256];
	const char *p[1];
	PGresult *res;
	int status;

	r = tclient_ok(
	        w, "{\"op\":\"report\",\"category\":%d,\"grid\":%d,\"description\":\"drain %d\"}",
	        tdb_category(db, "pollution.dust"), tdb_grid(db, "jg-yanan-02"), (int)getpid());
	t = tj_ticket_id(r);
	PQfinish(db);

	/* Hold the ticket's row so that a comment on it waits in the database. */
	p[0] = tdb_fmt("%lld", t);
	res = PQexec(admin, "BEGIN");
	ck_assert_int_eq(PQresultStatus(res), PGRES_COMMAND_OK);
	PQclear(res);
	ck_assert_int_eq(
	        tdb_int(admin, "SELECT id FROM street.ticket WHERE id = $1 FOR UPDATE", 1, p), t);

	snprintf(line, sizeof(line),
	         "{\"id\":77,\"op\":\"comment\",\"ticket\":%lld,\"text\":\"drain me\"}", t);
	ck_assert_int_eq(tclient_send(z, line), 0);
	ck_assert_msg(tclient_recv(z, 500) == NULL && !tclient_closed(z),
	              "the comment did not wait for the row lock");

	tdaemon_signal(d, SIGTERM);
	usleep(1000000);
	ck_assert_msg(tdaemon_running(d),
	              "streetd exited (status %d) with a request in flight, without draining",
	              tdaemon_exit_status(d));

	res = PQexec(admin, "COMMIT");
	ck_assert_int_eq(PQresultStatus(res), PGRES_COMMAND_OK);
	PQclear(res);
	PQfinish(admin);

	r = tclient_recv(z, 10000);
	ck_assert_msg(r != NULL, "the request in flight got no reply before the close (%s)",
	              tclient_closed(z) ? "closed" : "timeout");
	ck_assert_int_eq(tj_int(r, "id"), 77);
	ck_assert_reply_ok(r);
	ck_assert_msg(tclient_wait_closed(z, 12000) >= 0, "session still open after the drain");
	ck_assert_msg(tclient_wait_closed(w, 12000) >= 0,
	              "idle session still open after the drain");
	status = tdaemon_wait(d, 15000);
	ck_assert_msg(status == 0, "exit status %d after SIGTERM (-1: still running)", status);
	tclient_close(w);
	tclient_close(z);
	ck_assert_int_eq(tdaemon_stop(d, 0), 0);

	/* The comment was committed exactly once. */
	db = tdb_connect(false);
	p[0] = tdb_fmt("%lld", t);
	ck_assert_int_eq(tdb_int(db,
	                         "SELECT count(*) FROM street.ticket_event WHERE ticket_id = $1 "
	                         "AND action = 'comment'",
	                         1, p),
	                 1);
	PQfinish(db);
}
END_TEST

START_TEST(sigterm_drain_timeout)
{
	struct tdaemon *d = tdaemon_start("limits.drain_timeout=1s");
	struct tclient *w = tclient_connect(d, "wang.fang");
	PGconn *admin = tdb_connect(true);
	PGconn *db = tdb_connect(false);
	json_object *r;
	long long t, start;
	char line[256];
	const char *p[1];
	int status;

	r = tclient_ok(w,
	               "{\"op\":\"report\",\"category\":%d,\"grid\":%d,\"description\":\"drain "
	               "timeout %d\"}",
	               tdb_category(db, "pollution.dust"), tdb_grid(db, "jg-yanan-02"),
	               (int)getpid());
	t = tj_ticket_id(r);
	PQfinish(db);
	p[0] = tdb_fmt("%lld", t);
	PQclear(PQexec(admin, "BEGIN"));
	ck_assert_int_eq(
	        tdb_int(admin, "SELECT id FROM street.ticket WHERE id = $1 FOR UPDATE", 1, p), t);
	snprintf(line, sizeof(line), "{\"id\":5,\"op\":\"comment\",\"ticket\":%lld,\"text\":\"x\"}",
	         t);
	ck_assert_int_eq(tclient_send(w, line), 0);
	usleep(300000);

	/* The request cannot finish: streetd gives up after drain_timeout, still exit 0. */
	start = tnow_ms();
	tdaemon_signal(d, SIGTERM);
	status = tdaemon_wait(d, 5000);
	ck_assert_msg(status == 0,
	              "status %d 5 s after SIGTERM with drain_timeout = 1s (-1: running)", status);
	ck_assert_msg(tnow_ms() - start >= 800, "exited after %lld ms, before drain_timeout",
	              tnow_ms() - start);
	ck_assert_msg(tclient_wait_closed(w, 2000) >= 0, "the session outlived the daemon");
	PQclear(PQexec(admin, "COMMIT"));
	PQfinish(admin);
	tclient_close(w);
	ck_assert_int_eq(tdaemon_stop(d, 0), 0);
}
END_TEST

/* ---- SIGHUP ---- */

START_TEST(sighup_reload)
{
	struct tdaemon *d = tdaemon_start(NULL);
	struct tclient *c = tclient_connect(d, "wang.fang"), *c2;
	json_object *r;
	char *line;

	whoami_ok(c, "wang.fang");

	/* A plain reload: the session stays, new ones still come in. */
	tdaemon_signal(d, SIGHUP);
	usleep(500000);
	ck_assert_msg(tdaemon_running(d), "SIGHUP ended streetd (status %d)",
	              tdaemon_exit_status(d));
	whoami_ok(c, "wang.fang");
	c2 = tclient_connect(d, "zhang.wei");
	whoami_ok(c2, "zhang.wei");
	tclient_close(c2);

	/* A reloadable key takes effect: max_line 1 KiB refuses a 2 KiB line. */
	tdaemon_rewrite_config(d, "limits.max_line=1KiB");
	tdaemon_signal(d, SIGHUP);
	usleep(700000);
	ck_assert(tdaemon_running(d));
	whoami_ok(c, "wang.fang");
	c2 = tclient_connect(d, "zhang.wei");
	line = padded_whoami(2048);
	ck_assert_int_eq(tclient_send_raw(c2, line, 2048), 0);
	free(line);
	r = tclient_recv(c2, 10000);
	ck_assert_msg(r != NULL, "no reply to a 2 KiB line after reloading max_line = 1KiB (%s)",
	              tclient_closed(c2) ? "closed" : "timeout");
	ck_assert_reply_code(r, "too_large");
	tclient_close(c2);

	/* A broken file: the reload is refused and the running config kept. */
	tdaemon_write_file(d, "streetd.conf", "[limits]\nmax_line = 64XB\n");
	tdaemon_signal(d, SIGHUP);
	ck_assert_msg(tdaemon_log_wait(d, "64XB", 3000) || tdaemon_log_wait(d, "max_line", 100),
	              "the refused reload is not logged:\n%s", tdaemon_log(d));
	ck_assert_msg(tdaemon_running(d), "a broken file on SIGHUP ended streetd (status %d)",
	              tdaemon_exit_status(d));
	whoami_ok(c, "wang.fang");
	c2 = tclient_connect(d, "zhang.wei");
	whoami_ok(c2, "zhang.wei");
	line = padded_whoami(2048);
	ck_assert_int_eq(tclient_send_raw(c2, line, 2048), 0);
	free(line);
	r = tclient_recv(c2, 10000);
	ck_assert_msg(r != NULL, "no reply to a 2 KiB line (%s)",
	              tclient_closed(c2) ? "closed" : "timeout");
	ck_assert_reply_code(r, "too_large");
	tclient_close(c2);

	whoami_ok(c, "wang.fang");
	tclient_close(c);
	must_stop_cleanly(d);
}
END_TEST

/* limits.max_line is reloadable: a session open before the reload may send the
 * longer lines the new value allows. */
START_TEST(sighup_raises_max_line_for_live_sessions)
{
	struct tdaemon *d = tdaemon_start("limits.max_line=4KiB");
	struct tclient *c = tclient_connect(d, "wang.fang"), *c2;
	json_object *r;
	char *line;

	whoami_ok(c, "wang.fang");
	tdaemon_rewrite_config(d, "limits.max_line=64KiB");
	tdaemon_signal(d, SIGHUP);
	usleep(700000);
	ck_assert(tdaemon_running(d));

	c2 = tclient_connect(d, "zhang.wei");
	line = padded_whoami(8192);
	ck_assert_int_eq(tclient_send_raw(c2, line, 8192), 0);
	r = tclient_recv(c2, 5000);
	ck_assert_msg(r != NULL, "a new session: no reply to an 8 KiB line after max_line = 64KiB");
	ck_assert_reply_ok(r);
	tclient_close(c2);

	ck_assert_int_eq(tclient_send_raw(c, line, 8192), 0);
	free(line);
	r = tclient_recv(c, 5000);
	ck_assert_msg(r != NULL,
	              "a session opened before the reload got no reply within 5 s to an 8 KiB "
	              "line (max_line 4KiB -> 64KiB) and is %s",
	              tclient_closed(c) ? "closed" : "still open: it hangs");
	ck_assert_reply_ok(r);
	whoami_ok(c, "wang.fang");
	tclient_close(c);
	must_stop_cleanly(d);
}
END_TEST

/* SIGHUP reloads the certificates: a new CA decides who gets in from then on;
 * sessions already open stay. */
START_TEST(sighup_reloads_certificates)
{
	struct tdaemon *d = tdaemon_start(NULL);
	struct tclient *c = tclient_connect(d, "zhang.wei"), *c2;
	char set[700], detail[1024];
	json_object *r;

	whoami_ok(c, "zhang.wei");
	snprintf(set, sizeof(set), "tls.ca=%s", ttls_path("rogue-ca.crt"));
	tdaemon_rewrite_config(d, set);
	tdaemon_signal(d, SIGHUP);
	usleep(700000);
	ck_assert(tdaemon_running(d));
	whoami_ok(c, "zhang.wei");
	/* The demo CA's clients are refused now; the rogue CA's wang.fang gets in. */
	ck_assert_msg(tclient_refused(d, ttls_path("wang.fang.crt"), ttls_path("wang.fang.key"),
	                              5000, detail, sizeof(detail)),
	              "a demo-CA client got in after the CA was reloaded: %s", detail);
	c2 = tclient_connect_files(d, ttls_path("rogue.crt"), ttls_path("rogue.key"));
	r = tclient_ok(c2, "{\"op\":\"whoami\"}");
	ck_assert_str_eq(tj_str(r, "result.account.login"), "wang.fang");
	tclient_close(c2);

	/* A reload naming a certificate that does not exist is refused as a whole. */
	snprintf(set, sizeof(set), "tls.cert=%s/no-such.crt", tdaemon_dir(d));
	tdaemon_rewrite_config(d, set);
	tdaemon_signal(d, SIGHUP);
	usleep(700000);
	ck_assert_msg(tdaemon_running(d), "a missing certificate on SIGHUP ended streetd");
	c2 = tclient_connect_files(d, ttls_path("rogue.crt"), ttls_path("rogue.key"));
	whoami_ok(c2, "wang.fang");
	tclient_close(c2);

	/* Back to the demo CA. */
	tdaemon_rewrite_config(d, NULL);
	tdaemon_signal(d, SIGHUP);
	usleep(700000);
	c2 = tclient_connect(d, "wang.fang");
	whoami_ok(c2, "wang.fang");
	tclient_close(c2);
	ck_assert(tclient_refused(d, ttls_path("rogue.crt"), ttls_path("rogue.key"), 5000, detail,
	                          sizeof(detail)));
	whoami_ok(c, "zhang.wei");
	tclient_close(c);
	must_stop_cleanly(d);
}
END_TEST

/* ---- --check-config ---- */

START_TEST(check_config)
{
	struct tdaemon *d = tdaemon_new(NULL); /* never launched: only its files */
	char path[800], *out = NULL;
	int st;
	static const struct {
		const char *text;
		int line;
		const char *key;
	} bad[] = {
		{ "# a comment\n[server]\nlisten = 127.0.0.1:7443\n[limits]\nmax_line = 64XB\n", 5,
		  "max_line" },
		{ "[limits]\nmax_inflight = 16\nmax_linez = 1KiB\n", 3, "max_linez" },
		{ "[limits]\nidle_timeout = 10s\n\nidle_timeout = 20s\n", 4, "idle_timeout" },
		{ "[log]\nlevel = loud\n", 2, "level" },
		{ "[limits]\nmax_line = 64KiB # was 32KiB\n", 2, "max_line" },
		{ "[database]\npool_size = 0\n", 2, "pool_size" },
	};

	st = tdaemon_run_sync(tdaemon_conf(d), &out, "--check-config", (char *)NULL);
	ck_assert_msg(st == 0, "--check-config on a good file: status %d, output:\n%s", st, out);
	free(out);

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char where[64];

		snprintf(path, sizeof(path), "%s/bad%zu.conf", tdaemon_dir(d), i);
		tdaemon_write_file(d, strrchr(path, '/') + 1, bad[i].text);
		st = tdaemon_run_sync(path, &out, "--check-config", (char *)NULL);
		ck_assert_msg(st == 78, "--check-config on bad file %zu: status %d, output:\n%s", i,
		              st, out);
		snprintf(where, sizeof(where), "bad%zu.conf:%d:", i, bad[i].line);
		ck_assert_msg(strstr(out, where) != NULL, "the message does not say %s:\n%s", where,
		              out);
		ck_assert_msg(strstr(out, bad[i].key) != NULL, "the message does not name %s:\n%s",
		              bad[i].key, out);
		free(out);
	}

	/* --set is checked too. */
	st = tdaemon_run_sync(tdaemon_conf(d), &out, "--set", "limits.max_line=65536",
	                      "--check-config", (char *)NULL);
	ck_assert_msg(st == 78, "--set with a bad value: status %d, output:\n%s", st, out);
	ck_assert_msg(strstr(out, "max_line") != NULL, "the message does not name max_line:\n%s",
	              out);
	free(out);
	st = tdaemon_run_sync(tdaemon_conf(d), &out, "--set", "limits.max_line=128KiB",
	                      "--check-config", (char *)NULL);
	ck_assert_msg(st == 0, "--set with a good value: status %d, output:\n%s", st, out);
	free(out);

	/* A missing file. */
	snprintf(path, sizeof(path), "%s/missing.conf", tdaemon_dir(d));
	st = tdaemon_run_sync(path, &out, "--check-config", (char *)NULL);
	ck_assert_msg(st != 0, "--check-config on a missing file exits 0:\n%s", out);
	ck_assert_msg(strstr(out, "missing.conf") != NULL,
	              "the message does not name the file:\n%s", out);
	free(out);
	tdaemon_stop(d, 0);
}
END_TEST

/* ---- PostgreSQL trouble ---- */

START_TEST(database_goes_away_and_comes_back)
{
	struct tdaemon *d = tdaemon_start(NULL);
	struct tclient *c = tclient_connect(d, "zhang.wei");
	json_object *r;
	long long start, deadline;
	int ms;

	tclient_ok(c, "{\"op\":\"list\",\"limit\":5}");

	/* The connection is lost while a request waits in the database (on a row lock):
	 * unavailable, the message says the outcome is unknown, and a retry with the
	 * same key acts once the database is back.  (The backend is terminated on its
	 * own: a fast shutdown would end the lock holder too, and the request could
	 * then commit before its own backend goes.) */
	{
		struct tclient *w = tclient_connect(d, "wang.fang");
		PGconn *admin = tdb_connect(true), *db = tdb_connect(false);
		const char *p[1];
		char line[256], key[64];
		long long t, waited;

		r = tclient_ok(w,
		               "{\"op\":\"report\",\"category\":%d,\"grid\":%d,"
		               "\"description\":\"outage %d\"}",
		               tdb_category(db, "pollution.dust"), tdb_grid(db, "jg-yanan-02"),
		               (int)getpid());
		PQfinish(db);
		t = tj_ticket_id(r);
		p[0] = tdb_fmt("%lld", t);
		PQclear(PQexec(admin, "BEGIN"));
		ck_assert_int_eq(tdb_int(admin,
		                         "SELECT id FROM street.ticket WHERE id = $1 FOR UPDATE", 1,
		                         p),
		                 t);
		snprintf(key, sizeof(key), "outage-%d-%lld", (int)getpid(), tnow_ms());
		snprintf(line, sizeof(line),
		         "{\"id\":500,\"op\":\"comment\",\"ticket\":%lld,\"text\":\"x\","
		         "\"key\":\"%s\"}",
		         t, key);
		ck_assert_int_eq(tclient_send(w, line), 0);
		for (waited = 0;; waited += 50) {
			PGconn *look = tdb_connect(true);
			long long n =
			        tdb_int(look,
			                "SELECT count(pg_terminate_backend(pid)) FROM "
			                "pg_stat_activity WHERE usename = 'streetd' AND "
			                "wait_event_type = 'Lock' AND query LIKE '%st_comment%'",
			                0, NULL);

			PQfinish(look);
			if (n > 0)
				break;
			ck_assert_msg(waited < 5000, "the comment never waited on the row lock");
			usleep(50000);
		}
		start = tnow_ms();
		r = tclient_recv(w, 5000);
		ck_assert_msg(r != NULL, "the request in flight got no reply within 5 s (%s)",
		              tclient_closed(w) ? "closed" : "timeout");
		ck_assert_int_eq(tj_int(r, "id"), 500);
		ck_assert_reply_code(r, "unavailable");
		ck_assert_msg(tj_str(r, "error.message") != NULL &&
		                      strstr(tj_str(r, "error.message"), "unknown") != NULL,
		              "the message should say the outcome is unknown: %s", tj_dump(r));
		fprintf(stderr, "database connection lost mid-request: %s after %lld ms\n",
		        tj_dump(r), tnow_ms() - start);
		PQclear(PQexec(admin, "COMMIT"));
		PQfinish(admin);
		/* The retry with the same key: acted once, now. */
		deadline = tnow_ms() + 15000;
		for (;;) {
			r = tclient_try_call(w, 5000,
			                     "{\"op\":\"comment\",\"ticket\":%lld,\"text\":\"x\","
			                     "\"key\":\"%s\"}",
			                     t, key);
			if (r != NULL && tj_ok(r))
				break;
			ck_assert_msg(tnow_ms() < deadline, "the retry still fails: %s",
			              tj_dump(r));
			usleep(300000);
		}
		ck_assert(!tj_bool(r, "result.replayed"));
		r = tclient_ok(w, "{\"op\":\"get\",\"ticket\":%lld}", t);
		ck_assert_int_eq(tj_len(r, "result.events"), 2);
		tclient_close(w);
	}

	ck_assert_msg(tcluster_stop("fast") == 0, "could not stop the test cluster");

	/* Unavailable, quickly, not a hang; twice (the second after the pool noticed). */
	for (int i = 0; i < 2; i++) {
		start = tnow_ms();
		r = tclient_try_call(c, 5000, "{\"op\":\"list\",\"limit\":5}");
		ms = (int)(tnow_ms() - start);
		ck_assert_msg(r != NULL, "no reply within 5 s with the database down (%s)",
		              tclient_closed(c) ? "closed" : "timeout");
		ck_assert_reply_code(r, "unavailable");
		fprintf(stderr, "database down: unavailable after %d ms\n", ms);
	}
	r = tclient_try_call(c, 5000, "{\"op\":\"get\",\"ticket\":1}");
	ck_assert_msg(r != NULL, "no reply within 5 s to get with the database down");
	ck_assert_reply_code(r, "unavailable");
	ck_assert_msg(tdaemon_running(d), "streetd exited (status %d) when the database went away",
	              tdaemon_exit_status(d));

	ck_assert_msg(tcluster_start() == 0, "could not start the test cluster again");
	start = tnow_ms();
	deadline = start + 15000;
	for (;;) {
		r = tclient_try_call(c, 5000, "{\"op\":\"list\",\"limit\":5}");
		if (r != NULL && tj_ok(r))
			break;
		ck_assert_msg(r == NULL || strcmp(tj_code(r) ? tj_code(r) : "", "unavailable") == 0,
		              "while reconnecting: %s", tj_dump(r));
		ck_assert_msg(!tclient_closed(c), "the session was closed while reconnecting");
		ck_assert_msg(tnow_ms() < deadline,
		              "requests still fail 15 s after the database came back: %s",
		              tj_dump(r));
		usleep(300000);
	}
	fprintf(stderr, "database back: requests work after %lld ms\n", tnow_ms() - start);
	whoami_ok(c, "zhang.wei");
	tclient_close(c);

	/* New sessions are admitted again (their account is read from the database). */
	c = tclient_connect(d, "wang.fang");
	whoami_ok(c, "wang.fang");
	tclient_ok(c, "{\"op\":\"list\",\"limit\":5}");
	tclient_close(c);
	must_stop_cleanly(d);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("daemon_life");
	TCase *tc = tcase_create("signals");
	TCase *pg = tcase_create("database");

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, sigterm_idle_client);
	tcase_add_test(tc, sigterm_request_in_flight);
	tcase_add_test(tc, sigterm_drain_timeout);
	tcase_add_test(tc, sighup_reload);
	tcase_add_test(tc, sighup_raises_max_line_for_live_sessions);
	tcase_add_test(tc, sighup_reloads_certificates);
	tcase_add_test(tc, check_config);
	suite_add_tcase(s, tc);

	tcase_add_unchecked_fixture(pg, tcluster_ensure, tcluster_ensure);
	tcase_set_timeout(pg, 180);
	tcase_add_test(pg, database_goes_away_and_comes_back);
	suite_add_tcase(s, pg);
	return tdaemon_run_suite(s);
}
