/*
 * Hostile clients.  In each test a well-behaved client (zhang.wei) sends
 * whoami and list requests in a loop from a thread of its own, first alone
 * (its baseline), then while one attacker does its worst:
 *   - a slowloris: an authenticated session trickling a line that never ends,
 *     one byte per 100 ms, and a TCP connection trickling its ClientHello;
 *   - a 100 MB line, streamed;
 *   - 5,000 TCP connections that never finish the TLS handshake;
 *   - a flood of requests on one session, and more sessions than an account
 *     may have;
 *   - a subscriber that never reads its pushes.
 * Each test asserts that streetd stays up, that the attacker is limited the
 * way docs/protocol.md says (the error code, the close), and that every one
 * of the well-behaved client's requests succeeded.
 *
 * Timings are not asserted: the machines running the tests are shared and
 * noisy, and the project measures speed with benchmarks, never with timed
 * assertions in tests.  Each test prints the well-behaved client's p50/p99
 * during the attack next to its baseline, for information only; bench/ holds
 * the measured comparison against the target (p99 within 2x of the
 * baseline).  The waits below are deadlines for something to happen at all.
 */
#include <check.h>
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "tdaemon.h"
#include "tdb.h"

/* Every hostile daemon logs at info: debug would log each of 5,000 sessions. */
#define BASE "log.level=info\n"

static struct tdaemon *d;

static void sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

static long long now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* ---- the daemon's process ---- */

/* streetd is a child of this process (tdaemon forks it): find it in /proc. */
static int daemon_pid(void)
{
	DIR *dir = opendir("/proc");
	struct dirent *e;
	int found = 0;

	ck_assert_ptr_nonnull(dir);
	while ((e = readdir(dir)) != NULL && found == 0) {
		char path[300], buf[512], comm[64];
		int pid, ppid;
		FILE *f;

		if (!isdigit((unsigned char)e->d_name[0]))
			continue;
		snprintf(path, sizeof(path), "/proc/%s/stat", e->d_name);
		f = fopen(path, "r");
		if (f == NULL)
			continue;
		if (fgets(buf, sizeof(buf), f) != NULL &&
		    sscanf(buf, "%d (%63[^)]) %*c %d", &pid, comm, &ppid) == 3 &&
		    ppid == (int)getpid() && strcmp(comm, "streetd") == 0)
			found = pid;
		fclose(f);
	}
	closedir(dir);
	ck_assert_msg(found > 0, "streetd is not a child of the test process");
	return found;
}

/* Resident set size in KiB (VmRSS), 0 if the process is gone. */
static long rss_kib(int pid)
{
	char path[64], line[256];
	long kib = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", pid);
	f = fopen(path, "r");
	if (f == NULL)
		return 0;
	while (fgets(line, sizeof(line), f) != NULL) {
		if (sscanf(line, "VmRSS: %ld kB", &kib) == 1)
			break;
	}
	fclose(f);
	return kib;
}

static int count_in_log(const char *needle)
{
	const char *log = tdaemon_log(d);
	int n = 0;

	for (const char *p = strstr(log, needle); p != NULL; p = strstr(p + 1, needle))
		n++;
	return n;
}

/* ---- the well-behaved client ---- */

static struct good {
	struct tclient *c;
	pthread_t thread;
	atomic_bool stop;
	long long *lat; /* microseconds */
	size_t n, cap;
	long requests;
	char failure[2048];
	double base_p50, base_p99;
	size_t base_n;
} good;

/* One request, alternately whoami and a short list; false (and failure set)
 * unless it succeeded. */
static bool good_request(void)
{
	long long t0 = now_us();
	json_object *r;
	bool list = good.requests % 2 == 1;

	r = list ? tclient_try_call(good.c, 10000, "{\"op\":\"list\",\"limit\":10}")
	         : tclient_try_call(good.c, 10000, "{\"op\":\"whoami\"}");
	good.requests++;
	if (r == NULL || !tj_ok(r) ||
	    (!list && (tj_str(r, "result.account.login") == NULL ||
	               strcmp(tj_str(r, "result.account.login"), "zhang.wei") != 0))) {
		snprintf(good.failure, sizeof(good.failure),
		         "the well-behaved client's request %ld (%s) failed: %s", good.requests,
		         list ? "list" : "whoami",
		         r ? tj_dump(r) : (tclient_closed(good.c) ? "closed" : "no reply in 10 s"));
		return false;
	}
	if (good.n == good.cap) {
		good.cap = good.cap ? good.cap * 2 : 1024;
		good.lat = realloc(good.lat, good.cap * sizeof(*good.lat));
		if (good.lat == NULL)
			abort();
	}
	good.lat[good.n++] = now_us() - t0;
	/* queued pushes or stray lines would mean someone else's traffic reached us */
	if (tclient_queued(good.c) != 0) {
		snprintf(good.failure, sizeof(good.failure),
		         "the well-behaved client got %zu lines it did not ask for",
		         tclient_queued(good.c));
		return false;
	}
	return true;
}

static int cmp_ll(const void *a, const void *b)
{
	long long x = *(const long long *)a, y = *(const long long *)b;

	return (x > y) - (x < y);
}

static void percentiles(double *p50, double *p99)
{
	qsort(good.lat, good.n, sizeof(*good.lat), cmp_ll);
	*p50 = good.n ? (double)good.lat[good.n / 2] / 1000.0 : 0;
	*p99 = good.n ? (double)good.lat[good.n * 99 / 100 < good.n ? good.n * 99 / 100
	                                                            : good.n - 1] /
	                        1000.0
	              : 0;
}

static void *good_loop(void *arg)
{
	(void)arg;
	while (!atomic_load(&good.stop) && good_request())
		sleep_ms(2);
	return NULL;
}

/* Starts the daemon and the well-behaved client; measures its baseline
 * (300 requests alone), then leaves it running in its thread. */
static void start(const char *overrides)
{
	char conf[1024];

	snprintf(conf, sizeof(conf), "%s%s", BASE, overrides ? overrides : "");
	d = tdaemon_start(conf);
	memset(&good, 0, sizeof(good));
	good.c = tclient_connect(d, "zhang.wei");
	for (int i = 0; i < 300; i++)
		ck_assert_msg(good_request(), "%s", good.failure);
	percentiles(&good.base_p50, &good.base_p99);
	good.base_n = good.n;
	good.n = 0;
	ck_assert_int_eq(pthread_create(&good.thread, NULL, good_loop, NULL), 0);
}

/* Stops the well-behaved client, checks it never failed, prints its
 * latencies (information only), checks streetd is up and stops it. */
static void finish(const char *attack)
{
	double p50, p99;

	atomic_store(&good.stop, true);
	pthread_join(good.thread, NULL);
	ck_assert_msg(good.failure[0] == '\0', "during %s: %s", attack, good.failure);
	ck_assert_msg(good.n > 0, "the well-behaved client made no request during %s", attack);
	percentiles(&p50, &p99);
	fprintf(stderr,
	        "hostile %s: well-behaved client p50 %.2f ms, p99 %.2f ms over %zu requests"
	        " (baseline p50 %.2f ms, p99 %.2f ms over %zu); information only, the 2x"
	        " target is measured in bench/\n",
	        attack, p50, p99, good.n, good.base_p50, good.base_p99, good.base_n);
	ck_assert_msg(tdaemon_running(d), "streetd exited (status %d) during %s",
	              tdaemon_exit_status(d), attack);
	tclient_close(good.c);
	free(good.lat);
	ck_assert_int_eq(tdaemon_stop(d, SIGTERM), 0);
	d = NULL;
}

/* ---- slowloris ---- */

/* A session that trickles a line, one byte per 100 ms, and never ends it is
 * closed once idle_timeout passes without a complete request: bytes of a
 * line that never ends are not activity.  So is a TCP connection trickling
 * its ClientHello, by handshake_timeout. */
START_TEST(slowloris)
{
	static const char head[] = "{\"id\":1,\"op\":\"whoami\",\"pad\":\"";
	static const unsigned char hello[] = { 0x16, 0x03, 0x01, 0x02, 0x00, 0x01,
		                               0x00, 0x01, 0xfc, 0x03, 0x03 };
	struct tclient *slow;
	long long t0;
	size_t sent = 0;
	int fd, tcp_sent = 0, ms = -1;
	bool tcp_closed = false;

	start("limits.idle_timeout=2s\nlimits.handshake_timeout=2s\n");
	slow = tclient_connect(d, "li.na");
	ck_assert_reply_ok(tclient_call(slow, "{\"op\":\"whoami\"}"));
	fd = tdaemon_tcp_connect(d);
	t0 = tnow_ms();
	/* at most 6 s: three idle timeouts */
	while (tnow_ms() - t0 < 6000) {
		char b = sent < sizeof(head) - 1 ? head[sent] : 'z';

		if (!tcp_closed) {
			if (tfd_peer_closed(fd))
				tcp_closed = true;
			else if (write(fd, &hello[tcp_sent % (int)sizeof(hello)], 1) == 1)
				tcp_sent++;
		}
		if (tfd_peer_closed(tclient_fd(slow)) ||
		    tclient_send_raw_timeout(slow, &b, 1, 1000) != 0) {
			ms = (int)(tnow_ms() - t0);
			break;
		}
		sent++;
		sleep_ms(100);
	}
	fprintf(stderr, "slowloris: %zu bytes trickled over %lld ms, %s\n", sent, tnow_ms() - t0,
	        ms >= 0 ? "then closed" : "still open");
	ck_assert_msg(tcp_closed || tfd_wait_closed(fd, 3000) >= 0,
	              "a connection trickling its ClientHello is still open after 6 s"
	              " (handshake_timeout 2 s)");
	ck_assert_msg(ms >= 0,
	              "a session trickling one byte per 100 ms of a line that never ends is still"
	              " open after %lld ms (idle_timeout 2 s): a slowloris holds its session"
	              " for as long as it likes (until max_line: 64 KiB at 10 B/s is 109 min)",
	              tnow_ms() - t0);
	close(fd);
	tclient_close(slow);
	finish("a slowloris");
}
END_TEST

/* ---- a 100 MB line ---- */

START_TEST(hundred_megabyte_line)
{
	static const char head[] = "{\"id\":1,\"op\":\"whoami\",\"pad\":\"";
	const size_t total = 100u << 20, chunk = 1u << 20;
	char *buf = malloc(chunk);
	struct tclient *big;
	json_object *r = NULL;
	size_t sent = 0;
	long max_rss, rss0;
	int pid, rc = 0;
	const char *how;

	ck_assert_ptr_nonnull(buf);
	memset(buf, 'x', chunk);
	start(NULL);
	pid = daemon_pid();
	rss0 = max_rss = rss_kib(pid);
	big = tclient_connect(d, "wang.fang");
	ck_assert_reply_ok(tclient_call(big, "{\"op\":\"whoami\"}"));
	ck_assert_int_eq(tclient_send_raw(big, head, sizeof(head) - 1), 0);
	/* Stream.  The reply must be read before a write meets the reset of the
	 * closed connection (the harness stops reading once a write failed): for
	 * the first 4 MiB, small pieces and a short look for the reply after
	 * each; past that (the daemon should long have answered) as fast as the
	 * socket takes it. */
	while (sent < total) {
		bool early = sent < (4u << 20);
		size_t len = early ? 16u << 10 : chunk;
		struct pollfd p = { tclient_fd(big), POLLIN, 0 };
		long rss;

		rc = tclient_send_raw_timeout(big, buf, len, 3000);
		if (rc != 0)
			break;
		sent += len;
		rss = rss_kib(pid);
		if (rss > max_rss)
			max_rss = rss;
		if (poll(&p, 1, early ? 20 : 0) > 0) {
			r = tclient_recv(big, 2000);
			break;
		}
	}
	if (r == NULL)
		r = tclient_recv(big, 5000);
	how = rc == 0 ? "ok" : rc == -2 ? "stalled" : "failed";
	fprintf(stderr,
	        "100 MB line: %zu KiB sent before the server %s (send %s); streetd RSS %ld KiB"
	        " before, at most %ld KiB during\n",
	        sent >> 10, r ? "answered" : "closed", how, rss0, max_rss);
	ck_assert_msg(r != NULL, "no too_large reply to a line growing past max_line (%s)",
	              tclient_closed(big) ? "closed without it" : "no reply in 5 s");
	ck_assert_reply_code(r, "too_large");
	ck_assert_msg(tclient_wait_closed(big, 5000) >= 0,
	              "the connection is open after too_large");
	ck_assert_msg(sent < total, "the whole 100 MB went in: nothing stopped the line");
	ck_assert_msg(max_rss < 200 * 1024, "streetd grew to %ld KiB while the line came in",
	              max_rss);
	tclient_close(big);
	free(buf);
	finish("a 100 MB line");
}
END_TEST

/* ---- 5,000 unfinished handshakes ---- */

#define HALF_OPEN 5000
#define BATCH     250

START_TEST(five_thousand_unfinished_handshakes)
{
	static int fds[HALF_OPEN];
	struct sockaddr_in sa = { 0 };
	int opened = 0, connected = 0, closed = 0, refused, pid;
	long max_rss, rss0;
	long long t0, until;

	/* max_sessions below the attack: the daemon must refuse the rest, not fall */
	start("limits.max_sessions=4000\nlimits.max_handshakes=19000\n"
	      "limits.handshake_timeout=3s\n");
	pid = daemon_pid();
	rss0 = max_rss = rss_kib(pid);
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sa.sin_port = htons((uint16_t)tdaemon_port(d));
	t0 = tnow_ms();
	while (opened < HALF_OPEN) {
		int first = opened;
		struct pollfd p[BATCH];
		long rss;

		for (; opened < first + BATCH && opened < HALF_OPEN; opened++) {
			int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

			ck_assert_msg(fd >= 0, "socket %d: %s", opened, strerror(errno));
			ck_assert_msg(connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0 ||
			                      errno == EINPROGRESS,
			              "connect %d: %s", opened, strerror(errno));
			fds[opened] = fd;
		}
		/* wait (briefly) for the batch's TCP handshakes, never sending a byte */
		for (int i = first; i < opened; i++)
			p[i - first] = (struct pollfd){ fds[i], POLLOUT, 0 };
		until = tnow_ms() + 2000;
		for (int pending = opened - first; pending > 0 && tnow_ms() < until;) {
			int n = poll(p, (nfds_t)(opened - first), 100);

			if (n <= 0)
				continue;
			for (int i = 0; i < opened - first; i++) {
				int err = 0;
				socklen_t len = sizeof(err);

				if (p[i].fd < 0 || !(p[i].revents & (POLLOUT | POLLERR | POLLHUP)))
					continue;
				getsockopt(p[i].fd, SOL_SOCKET, SO_ERROR, &err, &len);
				connected += err == 0;
				p[i].fd = -1;
				pending--;
			}
		}
		rss = rss_kib(pid);
		if (rss > max_rss)
			max_rss = rss;
	}
	fprintf(stderr, "unfinished handshakes: %d opened (%d TCP-connected) in %lld ms\n", opened,
	        connected, tnow_ms() - t0);
	ck_assert_msg(tdaemon_running(d), "streetd exited with %d half-open connections",
	              connected);

	/* Beyond max_sessions: closed at once; the rest: at handshake_timeout. */
	until = tnow_ms() + 20000;
	while (tnow_ms() < until) {
		long rss = rss_kib(pid);

		if (rss > max_rss)
			max_rss = rss;
		closed = 0;
		for (int i = 0; i < opened; i++)
			closed += tfd_peer_closed(fds[i]);
		if (closed == opened)
			break;
		sleep_ms(250);
	}
	refused = count_in_log("connection refused: session limit");
	fprintf(stderr,
	        "unfinished handshakes: %d of %d closed by streetd after %lld ms, %d refused at"
	        " once (max_sessions); streetd RSS %ld KiB before, at most %ld KiB during\n",
	        closed, opened, tnow_ms() - t0, refused, rss0, max_rss);
	ck_assert_msg(
	        closed == opened,
	        "%d of %d unfinished handshakes still open 20 s later (handshake_timeout 3 s)",
	        opened - closed, opened);
	ck_assert_msg(refused > 0, "%d connections, max_sessions 4000: none refused", opened);
	for (int i = 0; i < opened; i++)
		close(fds[i]);
	/* RSS is printed above, not asserted: what a connection costs before its
	 * handshake is bench/'s to measure (bounded here by max_sessions). */

	/* The places are free again: a new client gets in. */
	{
		struct tclient *c = tclient_connect(d, "wang.fang");

		ck_assert_reply_ok(tclient_call(c, "{\"op\":\"whoami\"}"));
		tclient_close(c);
	}
	finish("5,000 unfinished handshakes");
}
END_TEST

/* ---- a flood of requests ---- */

#define FLOOD 400

START_TEST(request_flood)
{
	static char buf[FLOOD * 64];
	static unsigned char seen[FLOOD + 1];
	struct tclient *f, *extra[8];
	size_t n = 0;
	int ok = 0, limited = 0, nextra = 0;

	/* max_line 4 KiB: the burst (13 KB, one TLS record) is three times the
	 * longest line; a client may pipeline any number of lines, each within
	 * max_line */
	start("limits.max_line=4KiB\n");
	f = tclient_connect(d, "li.na");
	/* FLOOD lists in one burst, without reading a reply; the first few go to the
	 * database, the rest find max_inflight (16) full: each is answered */
	for (int i = 1; i <= FLOOD; i++)
		n += (size_t)snprintf(buf + n, sizeof(buf) - n,
		                      "{\"id\":%d,\"op\":\"list\",\"limit\":1}\n", i);
	ck_assert_int_eq(tclient_send_raw(f, buf, n), 0);
	for (int i = 0; i < FLOOD; i++) {
		json_object *r = tclient_recv(f, 5000);
		long long id;

		if (r == NULL) {
			int first = 0, missing = 0;

			for (int j = FLOOD; j >= 1; j--) {
				if (!seen[j]) {
					first = j;
					missing++;
				}
			}
			ck_abort_msg(
			        "only %d of %d replies to a burst of %zu bytes (%s); %d requests"
			        " from id %d on are not answered: the end of the burst waits"
			        " in the server until the client sends something more",
			        i, FLOOD, n, tclient_closed(f) ? "closed" : "5 s timeout", missing,
			        first);
		}
		id = tj_int(r, "id");
		ck_assert_msg(id >= 1 && id <= FLOOD && seen[id]++ == 0, "unexpected reply %s",
		              tj_dump(r));
		if (tj_ok(r)) {
			ok++;
		} else {
			ck_assert_reply_code(r, "rate_limited");
			limited++;
		}
	}
	fprintf(stderr, "request flood: %d requests, %d done, %d rate_limited\n", FLOOD, ok,
	        limited);
	ck_assert_int_gt(limited, 0);
	ck_assert_int_gt(ok, 0);
	/* the flooder's session is still usable once it waits for its replies */
	ck_assert(!tclient_closed(f));
	ck_assert_reply_ok(tclient_call(f, "{\"op\":\"whoami\"}"));

	/* More sessions than an account may have (8): the ninth is refused. */
	for (; nextra < 7; nextra++) {
		extra[nextra] = tclient_connect(d, "li.na");
		ck_assert_reply_ok(tclient_call(extra[nextra], "{\"op\":\"whoami\"}"));
	}
	{
		struct tclient *ninth = tclient_connect(d, "li.na");
		json_object *r = tclient_recv(ninth, 5000);

		ck_assert_msg(r != NULL, "the ninth session of li.na got no refusal (%s)",
		              tclient_closed(ninth) ? "closed silently" : "timeout");
		ck_assert_reply_code(r, "rate_limited");
		ck_assert_msg(tclient_wait_closed(ninth, 5000) >= 0,
		              "the ninth session of li.na is still open");
		tclient_close(ninth);
	}
	for (int i = 0; i < nextra; i++)
		tclient_close(extra[i]);
	tclient_close(f);
	finish("a request flood");
}
END_TEST

/* ---- a subscriber that never reads ---- */

START_TEST(subscriber_never_reads)
{
	PGconn *admin;
	struct tclient *deaf, *w;
	json_object *r;
	long long ticket;
	const char *p[2];
	int pid;
	long rss0, max_rss;

	start("limits.max_backlog=64KiB\n");
	pid = daemon_pid();
	rss0 = max_rss = rss_kib(pid);
	/* The fixtures' other district: suites running alongside subscribe to
	 * jianguolu and would get this flood of events too. */
	tclient_set_rcvbuf(4096);
	deaf = tclient_connect(d, "t.street.other");
	tclient_set_rcvbuf(0);
	ck_assert_reply_ok(tclient_call(deaf, "{\"op\":\"subscribe\"}"));
	w = tclient_connect(d, "t.collector.other");
	{
		PGconn *db = tdb_connect(false);

		r = tclient_ok(w,
		               "{\"op\":\"report\",\"category\":%d,\"grid\":%d,"
		               "\"description\":\"hostile: never reads\"}",
		               tdb_category(db, "pollution.dust"), tdb_grid(db, "t-other-01"));
		PQfinish(db);
	}
	ticket = tj_ticket_id(r);
	/* ~6 MB of events (1,500 comments of 4,000 characters), written straight
	 * into the log: more than the kernel's socket buffers can hide */
	admin = tdb_connect(true);
	p[0] = tdb_fmt("%d", tdb_account(admin, "t.collector.other"));
	p[1] = tdb_fmt("%lld", ticket);
	for (int round = 0; round < 6 && !tdaemon_log_wait(d, "client does not read", 0); round++) {
		PGresult *res = tdb_query(admin,
		                          "SELECT count(street.st_comment($1::int, $2::bigint,"
		                          " repeat('x', 4000))) FROM generate_series(1, 250)",
		                          2, p);

		ck_assert_msg(PQresultStatus(res) == PGRES_TUPLES_OK, "comments: %s",
		              PQresultErrorMessage(res));
		PQclear(res);
		{
			long rss = rss_kib(pid);

			if (rss > max_rss)
				max_rss = rss;
		}
	}
	PQfinish(admin);
	ck_assert_msg(tdaemon_log_wait(d, "client does not read", 10000),
	              "the subscriber that never reads was not cut off at max_backlog");
	fprintf(stderr,
	        "never-reading subscriber: cut off; streetd RSS %ld KiB before, at most %ld KiB"
	        " during\n",
	        rss0, max_rss);
	/* reading now, it finds the end of the stream */
	ck_assert_msg(tclient_wait_closed(deaf, 10000) >= 0,
	              "the cut-off subscriber's connection is still open");
	ck_assert_msg(max_rss < 200 * 1024, "streetd grew to %ld KiB", max_rss);
	tclient_close(deaf);
	tclient_close(w);
	finish("a subscriber that never reads");
}
END_TEST

int main(void)
{
	Suite *s = suite_create("daemon_hostile");
	TCase *tc = tcase_create("hostile");

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, slowloris);
	tcase_add_test(tc, hundred_megabyte_line);
	tcase_add_test(tc, five_thousand_unfinished_handshakes);
	tcase_add_test(tc, request_flood);
	tcase_add_test(tc, subscriber_never_reads);
	suite_add_tcase(s, tc);
	return tdaemon_run_suite(s);
}
