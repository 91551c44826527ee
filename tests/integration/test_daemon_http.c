/*
 * The HTTPS listener (docs/http.md) end to end: the real daemon with
 * http.enabled, driven by curl over real TLS with the test certificates:
 * /healthz and /readyz, POST /api running the wire protocol's ops as the
 * certificate's account (same replies, an HTTP status per error code), the
 * CSRF rules, the headers on every response, refusals, and the connection
 * limits (a slow request is cut at http.request_timeout; past
 * http.max_connections new connections wait until one closes; a slowloris
 * filling http.max_connections leaves the socket port serving).
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tdaemon.h"
#include "thttp.h"
#include "tdb.h"

/* One request with curl (thttp.h): login NULL = no client certificate;
 * ctype, origin, body NULL = not sent. */
static struct thttp_res hcall(struct tdaemon *d, int port, const char *login, const char *method,
                              const char *path, const char *ctype, const char *origin,
                              const char *body)
{
	return thttp(d, &(struct thttp_req){ .port = port,
	                                     .login = login,
	                                     .method = method,
	                                     .path = path,
	                                     .ctype = ctype,
	                                     .origin = origin,
	                                     .body = body });
}

#define hfree      thttp_free
#define has_header thttp_has_header

static struct tdaemon *start(int *http_port, const char *more)
{
	*http_port = tdaemon_free_port();
	return tdaemon_start(tdb_fmt("http.enabled=true\nhttp.listen=127.0.0.1:%d\n%s", *http_port,
	                             more ? more : ""));
}

START_TEST(test_health_and_headers)
{
	int port;
	struct tdaemon *d = start(&port, NULL);
	struct thttp_res r = hcall(d, port, NULL, "GET", "/healthz", NULL, NULL, NULL);

	ck_assert_int_eq(r.status, 200);
	ck_assert_str_eq(r.body, "ok\n");
	ck_assert(has_header(&r, "Content-Security-Policy: default-src 'self'; script-src 'self'"));
	ck_assert(has_header(&r, "frame-ancestors 'none'"));
	ck_assert(has_header(&r, "Strict-Transport-Security: max-age="));
	ck_assert(has_header(&r, "X-Content-Type-Options: nosniff"));
	ck_assert(has_header(&r, "Cache-Control: no-store"));
	hfree(&r);
	r = hcall(d, port, NULL, "GET", "/readyz", NULL, NULL, NULL);
	ck_assert_int_eq(r.status, 200);
	hfree(&r);
	r = hcall(d, port, NULL, "GET", "/nothing-here", NULL, NULL, NULL);
	ck_assert_int_eq(r.status, 404);
	ck_assert_str_eq(tj_code(r.json), "not_found");
	ck_assert(has_header(&r, "Content-Security-Policy:"));
	hfree(&r);
	r = hcall(d, port, "zhang.wei", "GET", "/api", NULL, NULL, NULL);
	ck_assert_int_eq(r.status, 405);
	hfree(&r);
	tdaemon_stop(d, SIGTERM);
}
END_TEST

START_TEST(test_api_runs_the_ops)
{
	int port;
	struct tdaemon *d = start(&port, NULL);
	struct tclient *sub = tclient_connect(d, "zhang.wei");
	struct thttp_res r = hcall(d, port, "wang.fang", "POST", "/api", "application/json", NULL,
	                           "{\"id\":7,\"op\":\"whoami\"}");
	long long ticket;
	json_object *ev;

	ck_assert_int_eq(r.status, 200);
	ck_assert_int_eq(tj_int(r.json, "id"), 7);
	ck_assert(tj_ok(r.json));
	ck_assert_str_eq(tj_str(r.json, "result.account.login"), "wang.fang");
	ck_assert(has_header(&r, "Content-Type: application/json"));
	hfree(&r);

	/* an action over HTTPS is pushed to a socket subscriber like any other */
	tclient_ok(sub, "{\"op\":\"subscribe\"}");
	{
		PGconn *db = tdb_connect(false);

		r = hcall(d, port, "wang.fang", "POST", "/api", "application/json; charset=utf-8",
		          tdb_fmt("https://127.0.0.1:%d", port),
		          tdb_fmt("{\"id\":\"r1\",\"op\":\"report\",\"category\":%d,"
		                  "\"grid\":%d,\"description\":\"http test: dust\"}",
		                  tdb_category(db, "pollution.dust"), tdb_grid(db, "jg-yanan-02")));
		PQfinish(db);
	}
	ck_assert_msg(r.status == 200, "report: %d %s", r.status, r.body);
	ticket = tj_int(r.json, "result.ticket.id");
	ck_assert_int_gt(ticket, 0);
	hfree(&r);
	/* (other suites report in the same street meanwhile: skip their events) */
	do
		ev = tclient_next_event(sub, 10000);
	while (ev && tj_int(ev, "event.ticket_id") != ticket);
	ck_assert_msg(ev != NULL, "the report over HTTPS was not pushed to the socket subscriber");

	/* errors keep the wire's shape and get a status of their own */
	r = hcall(d, port, "wang.fang", "POST", "/api", "application/json", NULL,
	          tdb_fmt("{\"id\":8,\"op\":\"dispatch\",\"ticket\":%lld,\"version\":1}", ticket));
	ck_assert_int_eq(r.status, 403);
	ck_assert_int_eq(tj_int(r.json, "id"), 8);
	ck_assert_str_eq(tj_code(r.json), "forbidden");
	hfree(&r);
	r = hcall(d, port, "wang.fang", "POST", "/api", "application/json", NULL, "{\"op\":");
	ck_assert_int_eq(r.status, 400);
	ck_assert_str_eq(tj_code(r.json), "bad_request");
	hfree(&r);
	r = hcall(d, port, "wang.fang", "POST", "/api", "application/json", NULL,
	          "{\"id\":9,\"op\":\"subscribe\"}");
	ck_assert_int_eq(r.status, 400);
	hfree(&r);
	tclient_close(sub);
	tdaemon_stop(d, SIGTERM);
}
END_TEST

START_TEST(test_api_refusals)
{
	int port;
	struct tdaemon *d = start(&port, NULL);
	const char *who = "{\"id\":1,\"op\":\"whoami\"}";
	struct thttp_res r;

	r = hcall(d, port, NULL, "POST", "/api", "application/json", NULL, who);
	ck_assert_int_eq(r.status, 401);
	ck_assert_str_eq(tj_code(r.json), "unauthenticated");
	hfree(&r);
	r = hcall(d, port, "nobody", "POST", "/api", "application/json", NULL, who);
	ck_assert_int_eq(r.status, 401);
	ck_assert_msg(strstr(r.body, "no account") != NULL, "%s", r.body);
	hfree(&r);
	/* CSRF: a form's content type, or another origin */
	r = hcall(d, port, "wang.fang", "POST", "/api", "application/x-www-form-urlencoded", NULL,
	          who);
	ck_assert_int_eq(r.status, 415);
	hfree(&r);
	r = hcall(d, port, "wang.fang", "POST", "/api", "text/plain", NULL, who);
	ck_assert_int_eq(r.status, 415);
	hfree(&r);
	r = hcall(d, port, "wang.fang", "POST", "/api", "application/json", "https://evil.example",
	          who);
	ck_assert_int_eq(r.status, 403);
	ck_assert_str_eq(tj_code(r.json), "forbidden");
	hfree(&r);
	r = hcall(d, port, "wang.fang", "POST", "/api", "application/json",
	          tdb_fmt("http://127.0.0.1:%d", port), who);
	ck_assert_int_eq(r.status, 403);
	hfree(&r);
	tdaemon_stop(d, SIGTERM);
}
END_TEST

/* A body over limits.max_line is refused by evhttp (413) before it is read whole. */
START_TEST(test_api_body_limit)
{
	int port;
	struct tdaemon *d = start(&port, "limits.max_line=1KiB\n");
	char *big = malloc(4096);
	struct thttp_res r;

	memset(big, ' ', 4095);
	big[4095] = '\0';
	memcpy(big, "{\"id\":1,\"op\":\"whoami\",\"x\":\"", 27);
	big[4093] = '"';
	big[4094] = '}';
	r = hcall(d, port, "wang.fang", "POST", "/api", "application/json", NULL, big);
	ck_assert_int_eq(r.status, 413);
	hfree(&r);
	free(big);
	r = hcall(d, port, "wang.fang", "POST", "/api", "application/json", NULL,
	          "{\"id\":2,\"op\":\"whoami\"}");
	ck_assert_msg(r.status == 200, "%d %s", r.status, r.body);
	hfree(&r);
	tdaemon_stop(d, SIGTERM);
}
END_TEST

/* Slowloris: a request that does not arrive whole within http.request_timeout
 * is cut; the daemon goes on serving. */
START_TEST(test_slow_request_is_cut)
{
	int port;
	struct tdaemon *d = start(&port, "http.request_timeout=1s\n");
	struct tclient *slow;
	struct thttp_res r;
	int ms;

	tclient_set_port(port);
	slow = tclient_connect(d, NULL);
	tclient_set_port(0);
	ck_assert_int_eq(tclient_send_raw(slow, "GET /healthz HTTP/1.1\r\nHost: x\r\n", 33), 0);
	ms = tclient_wait_closed(slow, 5000);
	ck_assert_msg(ms >= 0, "a half-sent request was not cut");
	tclient_close(slow);
	r = hcall(d, port, NULL, "GET", "/healthz", NULL, NULL, NULL);
	ck_assert_int_eq(r.status, 200);
	hfree(&r);
	ck_assert(tdaemon_log_wait(d, "http connection timed out", 2000));
	tdaemon_stop(d, SIGTERM);
}
END_TEST

/* Past http.max_connections a new connection waits (not accepted) until one
 * closes. */
START_TEST(test_max_connections)
{
	int port;
	struct tdaemon *d = start(&port, "http.max_connections=2\nhttp.request_timeout=60s\n");
	struct tclient *a, *b, *c;
	char err[200];

	tclient_set_port(port);
	a = tclient_connect(d, NULL);
	b = tclient_connect(d, NULL);
	/* the kernel completes the TCP connection; the TLS handshake waits */
	c = tclient_try_connect(d, NULL, NULL, err, sizeof(err));
	ck_assert_msg(c == NULL, "a third connection was served past max_connections");
	tclient_close(a);
	c = tclient_try_connect(d, NULL, NULL, err, sizeof(err));
	ck_assert_msg(c != NULL, "not served after one closed: %s", err);
	tclient_set_port(0);
	tclient_close(b);
	tclient_close(c);
	tdaemon_stop(d, SIGTERM);
}
END_TEST

/* An HTTPS slowloris of http.max_connections connections, each holding a
 * request that never ends (the listener then accepts no more), leaves the
 * socket protocol's listener alone: a session already open and a new one both
 * answer whoami at once, and HTTPS serves again once the slow ones go. */
START_TEST(test_slowloris_spares_the_socket_port)
{
	enum { N = 40 };
	int port;
	struct tdaemon *d = start(&port, tdb_fmt("http.max_connections=%d\n"
	                                         "http.request_timeout=60s\n",
	                                         N));
	struct tclient *slow[N], *before, *after, *extra;
	static const char head[] = "GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ";
	char err[200];
	long long t0;
	struct thttp_res r;

	before = tclient_connect(d, "zhang.wei");
	tclient_set_port(port);
	for (int i = 0; i < N; i++) {
		slow[i] = tclient_connect(d, NULL);
		ck_assert_int_eq(tclient_send_raw(slow[i], head, sizeof(head) - 1), 0);
	}
	/* the attack is real: the HTTPS listener takes no one more */
	extra = tclient_try_connect(d, NULL, NULL, err, sizeof(err));
	ck_assert_msg(extra == NULL, "a connection past max_connections was served");
	tclient_set_port(0);
	for (int round = 0; round < 3; round++) {
		/* one more byte on every slow request: none ever ends */
		for (int i = 0; i < N; i++)
			ck_assert_int_eq(tclient_send_raw(slow[i], "a", 1), 0);
		t0 = tnow_ms();
		tclient_ok(before, "{\"op\":\"whoami\"}");
		after = tclient_connect(d, "li.na");
		tclient_ok(after, "{\"op\":\"whoami\"}");
		tclient_ok(after, "{\"op\":\"list\",\"limit\":5}");
		tclient_close(after);
		/* generous: a shared machine; the point is an answer, not a speed */
		ck_assert_msg(tnow_ms() - t0 < 5000, "the socket port took %lld ms",
		              tnow_ms() - t0);
	}
	for (int i = 0; i < N; i++)
		ck_assert_msg(!tfd_peer_closed(tclient_fd(slow[i])),
		              "slow connection %d was closed early", i);
	for (int i = 0; i < N; i++)
		tclient_close(slow[i]);
	tclient_close(before);
	r = hcall(d, port, NULL, "GET", "/healthz", NULL, NULL, NULL);
	ck_assert_int_eq(r.status, 200);
	hfree(&r);
	tdaemon_stop(d, SIGTERM);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("daemon_http");
	TCase *tc = tcase_create("http");

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_health_and_headers);
	tcase_add_test(tc, test_api_runs_the_ops);
	tcase_add_test(tc, test_api_refusals);
	tcase_add_test(tc, test_api_body_limit);
	tcase_add_test(tc, test_slow_request_is_cut);
	tcase_add_test(tc, test_max_connections);
	tcase_add_test(tc, test_slowloris_spares_the_socket_port);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return tdaemon_run_suite(suite());
}
