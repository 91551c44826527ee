/*
 * GET /metrics (docs/http.md) end to end: the real daemon with http.enabled,
 * scraped with curl over real TLS.  Every scrape goes through a checker of
 * the Prometheus text format 0.0.4 (well-formed lines, HELP/TYPE before the
 * samples, counters named _total, histogram buckets cumulative with +Inf =
 * _count); then the figures: counters move with requests, the tickets by
 * department match the database; who may scrape (loopback, or an admin
 * certificate from elsewhere: tested on a non-loopback address of this
 * machine when it has one); and scraping during load disturbs no client.
 */
#include <arpa/inet.h>
#include <check.h>
#include <ctype.h>
#include <ifaddrs.h>
#include <math.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tdaemon.h"
#include "thttp.h"
#include "tdb.h"

/* ---- curl ---- */

/* One request with curl to host:port (thttp.h: the certificate's name
 * "localhost" is resolved to host); login NULL = no client certificate. */
static struct thttp_res hget(struct tdaemon *d, const char *host, int port, const char *login,
                             const char *path)
{
	return thttp(
	        d, &(struct thttp_req){ .port = port, .host = host, .login = login, .path = path });
}

/* ---- the format checker ---- */

#define MAX_SAMPLES  4096
#define MAX_FAMILIES 128

struct sample {
	char series[512]; /* name{labels} as written */
	char name[128];
	char labels[384]; /* inside the braces, "" if none */
	double value;
};

struct scrape {
	struct sample s[MAX_SAMPLES];
	int n;
	char family[MAX_FAMILIES][128];
	char type[MAX_FAMILIES][16];
	int nfamilies;
};

static int family_of(const struct scrape *sc, const char *name)
{
	for (int i = 0; i < sc->nfamilies; i++)
		if (strcmp(sc->family[i], name) == 0)
			return i;
	return -1;
}

static bool is_name(const char *s, size_t n)
{
	if (n == 0 || !(isalpha((unsigned char)s[0]) || s[0] == '_' || s[0] == ':'))
		return false;
	for (size_t i = 1; i < n; i++)
		if (!(isalnum((unsigned char)s[i]) || s[i] == '_' || s[i] == ':'))
			return false;
	return true;
}

/* Checks labels k="v",k="v" (escapes \\ \" \n); fails the test otherwise. */
static void check_labels(const char *l, const char *line)
{
	while (*l) {
		const char *eq = strchr(l, '=');

		ck_assert_msg(eq && is_name(l, (size_t)(eq - l)), "bad label name: %s", line);
		ck_assert_msg(eq[1] == '"', "label value not quoted: %s", line);
		l = eq + 2;
		while (*l && *l != '"') {
			if (*l == '\\') {
				ck_assert_msg(l[1] == '\\' || l[1] == '"' || l[1] == 'n',
				              "bad escape: %s", line);
				l++;
			}
			l++;
		}
		ck_assert_msg(*l == '"', "label value not closed: %s", line);
		l++;
		if (*l == ',')
			l++;
		else
			ck_assert_msg(*l == '\0', "junk after a label: %s", line);
	}
}

/* The family a sample belongs to: its own name, or a histogram's name without
 * _bucket/_sum/_count. */
static int sample_family(const struct scrape *sc, const char *name)
{
	static const char *const suffix[] = { "_bucket", "_sum", "_count" };
	int f = family_of(sc, name);

	if (f >= 0)
		return f;
	for (int i = 0; i < 3; i++) {
		size_t n = strlen(name), k = strlen(suffix[i]);
		char base[128];

		if (n > k && strcmp(name + n - k, suffix[i]) == 0 && n - k < sizeof(base)) {
			memcpy(base, name, n - k);
			base[n - k] = '\0';
			f = family_of(sc, base);
			if (f >= 0 && strcmp(sc->type[f], "histogram") == 0)
				return f;
		}
	}
	return -1;
}

static void parse_scrape(struct scrape *sc, const char *text)
{
	const char *p = text;
	char help_for[128] = "";

	memset(sc, 0, sizeof(*sc));
	ck_assert_msg(*text && text[strlen(text) - 1] == '\n', "the text does not end a line");
	while (*p) {
		const char *eol = strchr(p, '\n');
		char line[1024];
		size_t n = (size_t)(eol - p);

		ck_assert_msg(n < sizeof(line), "line too long");
		memcpy(line, p, n);
		line[n] = '\0';
		p = eol + 1;
		ck_assert_msg(n > 0, "empty line");
		if (strncmp(line, "# HELP ", 7) == 0) {
			char *sp = strchr(line + 7, ' ');

			ck_assert_msg(sp && is_name(line + 7, (size_t)(sp - line - 7)),
			              "bad HELP: %s", line);
			*sp = '\0';
			ck_assert_msg(family_of(sc, line + 7) < 0, "HELP after its samples: %s",
			              line);
			snprintf(help_for, sizeof(help_for), "%s", line + 7);
		} else if (strncmp(line, "# TYPE ", 7) == 0) {
			char *sp = strchr(line + 7, ' ');
			int f;

			ck_assert_msg(sp, "bad TYPE: %s", line);
			*sp = '\0';
			ck_assert_msg(strcmp(help_for, line + 7) == 0, "TYPE without HELP: %s",
			              line + 7);
			ck_assert_msg(strcmp(sp + 1, "counter") == 0 ||
			                      strcmp(sp + 1, "gauge") == 0 ||
			                      strcmp(sp + 1, "histogram") == 0,
			              "unknown type: %s", sp + 1);
			ck_assert_msg(family_of(sc, line + 7) < 0, "TYPE twice: %s", line + 7);
			if (strcmp(sp + 1, "counter") == 0)
				ck_assert_msg(strlen(line + 7) > 6 &&
				                      strcmp(line + 7 + strlen(line + 7) - 6,
				                             "_total") == 0,
				              "a counter not named _total: %s", line + 7);
			ck_assert_int_lt(sc->nfamilies, MAX_FAMILIES);
			f = sc->nfamilies++;
			snprintf(sc->family[f], sizeof(sc->family[f]), "%s", line + 7);
			snprintf(sc->type[f], sizeof(sc->type[f]), "%s", sp + 1);
		} else {
			struct sample *s;
			char *brace = strchr(line, '{'), *sp, *end;
			size_t nl;
			int f;

			ck_assert_msg(line[0] != '#', "unknown comment: %s", line);
			ck_assert_int_lt(sc->n, MAX_SAMPLES);
			s = &sc->s[sc->n++];
			if (brace) {
				char *close = strstr(brace, "} ");

				ck_assert_msg(close, "labels not closed: %s", line);
				nl = (size_t)(brace - line);
				memcpy(s->labels, brace + 1, (size_t)(close - brace - 1));
				check_labels(s->labels, line);
				sp = close + 1;
			} else {
				sp = strchr(line, ' ');
				ck_assert_msg(sp, "no value: %s", line);
				nl = (size_t)(sp - line);
			}
			ck_assert_msg(is_name(line, nl), "bad metric name: %s", line);
			memcpy(s->name, line, nl);
			memcpy(s->series, line, (size_t)(sp - line));
			f = sample_family(sc, s->name);
			ck_assert_msg(f >= 0, "a sample before its TYPE (or of another type): %s",
			              line);
			ck_assert_msg(f == sc->nfamilies - 1, "a sample away from its family: %s",
			              line);
			s->value = strtod(sp + 1, &end);
			ck_assert_msg(end != sp + 1 && *end == '\0', "bad value: %s", line);
		}
	}
	/* histograms: per label set, buckets rise with le and +Inf = _count */
	for (int i = 0; i < sc->n; i++) {
		const struct sample *b = &sc->s[i];
		size_t nn = strlen(b->name);
		char base[128], rest[384], count_series[600];
		const char *le;
		double last = -1, last_le = -INFINITY;

		if (nn < 7 || strcmp(b->name + nn - 7, "_bucket") != 0)
			continue;
		if (i > 0 && strcmp(sc->s[i - 1].name, b->name) == 0 &&
		    strcmp(sc->s[i - 1].labels, b->labels) != 0) {
			/* only the first bucket of a label set starts a walk */
			const char *a = strstr(sc->s[i - 1].labels, "le=\"");
			const char *c = strstr(b->labels, "le=\"");

			if (a && c &&
			    (size_t)(a - sc->s[i - 1].labels) == (size_t)(c - b->labels) &&
			    strncmp(sc->s[i - 1].labels, b->labels, (size_t)(c - b->labels)) == 0)
				continue;
		}
		memcpy(base, b->name, nn - 7);
		base[nn - 7] = '\0';
		le = strstr(b->labels, "le=\"");
		ck_assert_msg(le, "a bucket without le: %s", b->series);
		snprintf(rest, sizeof(rest), "%.*s", (int)(le - b->labels), b->labels);
		for (int j = i; j < sc->n && strcmp(sc->s[j].name, b->name) == 0; j++) {
			const char *l = strstr(sc->s[j].labels, "le=\"");
			double bound;

			if (!l || strncmp(sc->s[j].labels, rest, strlen(rest)) != 0 ||
			    (size_t)(l - sc->s[j].labels) != strlen(rest))
				break;
			bound = strncmp(l + 4, "+Inf", 4) == 0 ? (double)INFINITY
			                                       : strtod(l + 4, NULL);
			ck_assert_msg(bound > last_le, "buckets not in le order: %s",
			              sc->s[j].series);
			ck_assert_msg(sc->s[j].value >= last, "buckets not cumulative: %s",
			              sc->s[j].series);
			last_le = bound;
			last = sc->s[j].value;
		}
		ck_assert_msg(isinf(last_le), "no +Inf bucket: %s", b->series);
		/* the label set without le, as the _count series writes it */
		if (rest[0]) {
			size_t r = strlen(rest);

			if (rest[r - 1] == ',')
				rest[r - 1] = '\0';
			snprintf(count_series, sizeof(count_series), "%s_count{%s}", base, rest);
		} else {
			snprintf(count_series, sizeof(count_series), "%s_count", base);
		}
		{
			bool found = false;

			for (int j = 0; j < sc->n; j++)
				if (strcmp(sc->s[j].series, count_series) == 0) {
					ck_assert_msg(sc->s[j].value == last, "+Inf %g != %s %g",
					              last, count_series, sc->s[j].value);
					found = true;
				}
			ck_assert_msg(found, "no %s", count_series);
		}
	}
}

/* The value of a series (exactly as written), or -1 if absent. */
static double val(const struct scrape *sc, const char *series)
{
	for (int i = 0; i < sc->n; i++)
		if (strcmp(sc->s[i].series, series) == 0)
			return sc->s[i].value;
	return -1;
}

static struct scrape *scrape(struct tdaemon *d, int port)
{
	struct scrape *sc = malloc(sizeof(*sc));
	struct thttp_res r = hget(d, "127.0.0.1", port, NULL, "/metrics");

	ck_assert_ptr_nonnull(sc);
	ck_assert_msg(r.status == 200, "/metrics: %d %s", r.status, r.body);
	parse_scrape(sc, r.body);
	thttp_free(&r);
	return sc;
}

static struct tdaemon *start(int *port, const char *host)
{
	*port = tdaemon_free_port();
	return tdaemon_start(tdb_fmt("http.enabled=true\nhttp.listen=%s:%d\n", host, *port));
}

/* ---- the tests ---- */

START_TEST(test_format_and_counters)
{
	int port;
	struct tdaemon *d = start(&port, "127.0.0.1");
	struct tclient *c = tclient_connect(d, "zhang.wei");
	struct scrape *a, *b;

	tclient_ok(c, "{\"op\":\"whoami\"}");
	tclient_err(c, "not_found", "{\"op\":\"get\",\"ticket\":999999999}");
	a = scrape(d, port);
	ck_assert(val(a, "streetd_requests_total{op=\"whoami\",code=\"ok\"}") >= 1);
	ck_assert(val(a, "streetd_requests_total{op=\"get\",code=\"not_found\"}") >= 1);
	ck_assert(val(a, "streetd_request_duration_seconds_count{op=\"whoami\"}") >= 1);
	ck_assert(val(a, "streetd_sessions{state=\"ready\"}") >= 1);
	ck_assert(val(a, "streetd_tls_handshakes_total{listener=\"socket\",result=\"ok\"}") >= 1);
	ck_assert(val(a, "streetd_tls_handshakes_total{listener=\"https\",result=\"ok\"}") >= 1);
	ck_assert(val(a, "streetd_http_connections") >= 1);
	ck_assert(val(a, "streetd_db_connections") >= 1);
	ck_assert(val(a, "streetd_db_connections_ready") >= 1);
	ck_assert(val(a, "streetd_db_queries_waiting") >= 0);
	ck_assert(val(a, "streetd_sweeper_leader") == 0 || val(a, "streetd_sweeper_leader") == 1);
	ck_assert(val(a, "streetd_events_position") >= 0);
	ck_assert(val(a, "streetd_events_lag_seconds") >= 0);
	ck_assert(val(a, "streetd_push_backlog_bytes") >= 0);

	/* counters move with what happens, by exactly what happened */
	tclient_ok(c, "{\"op\":\"whoami\"}");
	tclient_ok(c, "{\"op\":\"whoami\"}");
	{
		struct tclient *bad = NULL;
		char err[256];

		bad = tclient_try_connect(d, ttls_path("rogue.crt"), ttls_path("rogue.key"), err,
		                          sizeof(err));
		if (bad)
			tclient_close(bad);
	}
	b = scrape(d, port);
	ck_assert(val(b, "streetd_requests_total{op=\"whoami\",code=\"ok\"}") ==
	          val(a, "streetd_requests_total{op=\"whoami\",code=\"ok\"}") + 2);
	ck_assert(val(b, "streetd_request_duration_seconds_count{op=\"whoami\"}") ==
	          val(a, "streetd_request_duration_seconds_count{op=\"whoami\"}") + 2);
	ck_assert(val(b, "streetd_tls_handshakes_total{listener=\"https\",result=\"ok\"}") >
	          val(a, "streetd_tls_handshakes_total{listener=\"https\",result=\"ok\"}"));
	ck_assert(val(b, "streetd_tls_handshakes_total{listener=\"socket\",result=\"failed\"}") ==
	          val(a, "streetd_tls_handshakes_total{listener=\"socket\",result=\"failed\"}") +
	                  1);
	free(a);
	free(b);
	tclient_close(c);
	tdaemon_stop(d, SIGTERM);
}
END_TEST

/* An action is a group commit (of one here) and moves the log reader. */
START_TEST(test_group_commit_and_reader)
{
	int port;
	struct tdaemon *d = start(&port, "127.0.0.1");
	struct tclient *c = tclient_connect(d, "wang.fang");
	PGconn *db = tdb_connect(false);
	struct scrape *a, *b;
	long long head;

	a = scrape(d, port);
	tclient_ok(c,
	           "{\"op\":\"report\",\"category\":%d,\"grid\":%d,"
	           "\"description\":\"metrics test\"}",
	           tdb_category(db, "pollution.dust"), tdb_grid(db, "jg-yanan-02"));
	head = tdb_int(db, "SELECT max(seq) FROM street.ticket_event", 0, NULL);
	/* the reader delivers the event a little after the commit */
	for (int i = 0; i < 100; i++) {
		b = scrape(d, port);
		if (val(b, "streetd_events_position") >= (double)head)
			break;
		free(b);
		b = NULL;
		usleep(100 * 1000);
	}
	ck_assert_ptr_nonnull(b);
	ck_assert(val(b, "streetd_events_seen") >= val(b, "streetd_events_position"));
	ck_assert(val(b, "streetd_db_group_commit_size_count") >=
	          val(a, "streetd_db_group_commit_size_count") + 1);
	ck_assert(val(b, "streetd_db_group_commit_size_sum") >=
	          val(a, "streetd_db_group_commit_size_sum") + 1);
	ck_assert(val(b, "streetd_requests_total{op=\"report\",code=\"ok\"}") >= 1);
	free(a);
	free(b);
	PQfinish(db);
	tclient_close(c);
	tdaemon_stop(d, SIGTERM);
}
END_TEST

/* What the database says of a department ("" = not dispatched): open or
 * overdue tickets. */
static long long db_count(PGconn *db, const char *code, bool overdue)
{
	static const char open_sql[] =
	        "SELECT count(*) FROM street.ticket t LEFT JOIN street.department d"
	        " ON d.id = t.department_id WHERE t.due_at IS NOT NULL AND coalesce(d.code, '') = "
	        "$1";
	static const char overdue_sql[] =
	        "SELECT count(*) FROM street.ticket t LEFT JOIN street.department d"
	        " ON d.id = t.department_id WHERE t.due_at < now() AND coalesce(d.code, '') = $1";
	const char *p[1] = { code };

	return tdb_int(db, overdue ? overdue_sql : open_sql, 1, p);
}

/* Open and overdue by department: what the database says, every department
 * present.  Other suites may write tickets meanwhile, so a figure is held to
 * the database's counts before and after the scrapes (equal when nobody
 * touched that department). */
START_TEST(test_tickets_by_department)
{
	int port;
	struct tdaemon *d = start(&port, "127.0.0.1");
	PGconn *db = tdb_connect(false);
	struct scrape *sc = NULL;
	long long ndept = tdb_int(db, "SELECT count(*) FROM street.department", 0, NULL);
	char *codes = tdb_str(
	        db, "SELECT string_agg(code, ' ' ORDER BY code) FROM street.department", 0, NULL);
	long long before[2][256];
	int nbefore = 0, seen = 0;
	char *save = NULL;

	ck_assert_int_lt(ndept, 255);
	before[0][nbefore] = db_count(db, "", false);
	before[1][nbefore++] = db_count(db, "", true);
	for (char *t = strtok_r(codes, " ", &save); t; t = strtok_r(NULL, " ", &save)) {
		before[0][nbefore] = db_count(db, t, false);
		before[1][nbefore++] = db_count(db, t, true);
	}
	/* the first scrape starts the query; a later one shows its figures */
	for (int i = 0; i < 100; i++) {
		sc = scrape(d, port);
		if (val(sc, "streetd_tickets_age_seconds") >= 0)
			break;
		free(sc);
		sc = NULL;
		usleep(50 * 1000);
	}
	ck_assert_ptr_nonnull(sc);
	for (int i = 0; i < sc->n; i++) {
		char code[64];
		long long lo, hi, now_;
		double got;

		if (strcmp(sc->s[i].name, "streetd_tickets_open") != 0)
			continue;
		ck_assert(strncmp(sc->s[i].labels, "department=\"", 12) == 0);
		snprintf(code, sizeof(code), "%.*s", (int)strlen(sc->s[i].labels) - 13,
		         sc->s[i].labels + 12);
		ck_assert_int_lt(seen, nbefore);
		/* the same order: "" first, then by code */
		for (int k = 0; k < 2; k++) {
			got = k == 0 ? sc->s[i].value
			             : val(sc, tdb_fmt("streetd_tickets_overdue{department=\"%s\"}",
			                               code));
			now_ = db_count(db, code, k == 1);
			lo = before[k][seen] < now_ ? before[k][seen] : now_;
			hi = before[k][seen] < now_ ? now_ : before[k][seen];
			ck_assert_msg(got >= (double)lo && got <= (double)hi,
			              "department %s %s: %g, the database %lld..%lld", code,
			              k ? "overdue" : "open", got, lo, hi);
		}
		seen++;
	}
	ck_assert_int_eq(seen, ndept + 1); /* every department, and "" */
	free(codes);
	free(sc);
	PQfinish(db);
	tdaemon_stop(d, SIGTERM);
}
END_TEST

/* A non-loopback address of this machine, or false if it has none. */
static bool other_address(char *buf, size_t cap)
{
	struct ifaddrs *ifa, *i;
	bool found = false;

	if (getifaddrs(&ifa) != 0)
		return false;
	for (i = ifa; i && !found; i = i->ifa_next) {
		const struct sockaddr_in *in =
		        (const struct sockaddr_in *)(const void *)i->ifa_addr;

		if (!i->ifa_addr || i->ifa_addr->sa_family != AF_INET ||
		    (ntohl(in->sin_addr.s_addr) >> 24) == 127)
			continue;
		found = inet_ntop(AF_INET, &in->sin_addr, buf, (socklen_t)cap) != NULL;
	}
	freeifaddrs(ifa);
	return found;
}

/* From elsewhere than loopback only an admin's certificate may scrape. */
START_TEST(test_who_may_scrape)
{
	char host[64];
	int port;
	struct tdaemon *d;
	struct thttp_res r;

	if (!other_address(host, sizeof(host))) {
		fprintf(stderr, "test_who_may_scrape: no non-loopback address here; skipped\n");
		return;
	}
	d = start(&port, host);
	r = hget(d, host, port, NULL, "/metrics");
	ck_assert_int_eq(r.status, 403);
	ck_assert_ptr_nonnull(strstr(r.body, "\"forbidden\""));
	thttp_free(&r);
	r = hget(d, host, port, "zhang.wei", "/metrics");
	ck_assert_int_eq(r.status, 403);
	thttp_free(&r);
	r = hget(d, host, port, "admin", "/metrics");
	ck_assert_msg(r.status == 200, "admin: %d %s", r.status, r.body);
	ck_assert_ptr_nonnull(strstr(r.body, "# TYPE streetd_requests_total counter\n"));
	thttp_free(&r);
	/* the other routes are not held to the rule */
	r = hget(d, host, port, NULL, "/healthz");
	ck_assert_int_eq(r.status, 200);
	thttp_free(&r);
	tdaemon_stop(d, SIGTERM);
}
END_TEST

/* Scraping in a loop while clients work: every request still answered, every
 * event still pushed, and the counters add up. */
START_TEST(test_scrape_during_load)
{
	int port;
	struct tdaemon *d = start(&port, "127.0.0.1");
	struct tclient *c1 = tclient_connect(d, "zhang.wei");
	struct tclient *c2 = tclient_connect(d, "liu.yang");
	struct scrape *a, *b;
	pid_t pid;
	int status;
	const int rounds = 300;

	tclient_ok(c1, "{\"op\":\"whoami\"}"); /* the series exists from here */
	a = scrape(d, port);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		/* 100 scrapes on one keep-alive connection */
		char url[128], *argv[210];
		int n = 0;

		snprintf(url, sizeof(url), "https://127.0.0.1:%d/metrics", port);
		argv[n++] = strdup("curl");
		argv[n++] = strdup("-sS");
		argv[n++] = strdup("-o");
		argv[n++] = strdup("/dev/null");
		argv[n++] = strdup("--cacert");
		argv[n++] = strdup(ttls_path("ca.crt"));
		for (int i = 0; i < 100; i++)
			argv[n++] = url;
		argv[n] = NULL;
		/* -o covers the first URL only: the other bodies go to stdout */
		freopen("/dev/null", "w", stdout);
		execvp("curl", argv);
		_exit(127);
	}
	for (int i = 0; i < rounds; i++) {
		tclient_ok(c1, "{\"op\":\"whoami\"}");
		tclient_ok(c2, "{\"op\":\"whoami\"}");
	}
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	ck_assert(!tclient_closed(c1) && !tclient_closed(c2));
	b = scrape(d, port);
	ck_assert(val(b, "streetd_requests_total{op=\"whoami\",code=\"ok\"}") ==
	          val(a, "streetd_requests_total{op=\"whoami\",code=\"ok\"}") + 2 * rounds);
	free(a);
	free(b);
	tclient_close(c1);
	tclient_close(c2);
	tdaemon_stop(d, SIGTERM);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("daemon_metrics");
	TCase *tc = tcase_create("metrics");

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_format_and_counters);
	tcase_add_test(tc, test_group_commit_and_reader);
	tcase_add_test(tc, test_tickets_by_department);
	tcase_add_test(tc, test_who_may_scrape);
	tcase_add_test(tc, test_scrape_during_load);
	suite_add_tcase(s, tc);
	return tdaemon_run_suite(s);
}
