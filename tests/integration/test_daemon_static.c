/*
 * The web console's files (daemon/http_static.c, docs/http.md "The
 * console's files") end to end: the real daemon with http.web_root and
 * http.js_root pointed at trees the test makes, driven by curl and, for
 * what curl would normalise away (/../, HEAD, If-None-Match), by raw HTTP
 * over the harness's TLS client.  Content types by extension, GET / as
 * index.html, the security headers on every answer, ETag and 304, HEAD, and
 * every way out of the root refused with 404: "..", percent escapes
 * (%2e%2e, %2f), dotfiles, a symlink out of the root, a FIFO, a file over
 * the size bound, an extension not on the list, a library not served.
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tdaemon.h"
#include "tdb.h"
#include "thttp.h"

static char web[] = "/tmp/streetd-static-XXXXXX";
static char outside[512];
static char jsroot[512];

/* Checks that hold outside a test too (the trees are made in main). */
#define MUST(cond)                                                                                 \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fprintf(stderr, "%s:%d: %s failed: %s\n", __FILE__, __LINE__, #cond,       \
			        strerror(errno));                                                  \
			exit(1);                                                                   \
		}                                                                                  \
	} while (0)

static void put(const char *dir, const char *name, const char *text)
{
	char p[512];
	FILE *f;

	snprintf(p, sizeof(p), "%s/%s", dir, name);
	f = fopen(p, "w");
	MUST(f != NULL);
	fputs(text, f);
	fclose(f);
}

static void sub(const char *dir, const char *name)
{
	char p[512];

	snprintf(p, sizeof(p), "%s/%s", dir, name);
	MUST(mkdir(p, 0755) == 0);
}

/* The trees: web/ (the console), outside/ (what must not leak), js/ (a
 * stand-in for /usr/share/javascript). */
static void make_trees(void)
{
	char p[512], big[4096];
	FILE *f;

	MUST(mkdtemp(web) != NULL);
	snprintf(outside, sizeof(outside), "%s-outside", web);
	snprintf(jsroot, sizeof(jsroot), "%s-js", web);
	MUST(mkdir(outside, 0755) == 0);
	MUST(mkdir(jsroot, 0755) == 0);
	put(web, "index.html", "<!doctype html><title>console</title>\n");
	put(web, "app.js", "export const x = 1;\n");
	put(web, "app.css", "body { margin: 0 }\n");
	put(web, "logo.svg", "<svg xmlns=\"http://www.w3.org/2000/svg\"/>\n");
	put(web, "logo.png", "\x89PNG\r\n");
	put(web, "strings.json", "{}\n");
	put(web, "app.js.map", "{}\n");
	put(web, "mod.mjs", "export default 1;\n");
	put(web, ".secret.js", "secret\n");
	put(web, "notes.txt", "not served\n");
	put(web, "run.sh", "not served\n");
	sub(web, "views");
	put(web, "views/ticket.js", "export const route = 1;\n");
	sub(web, ".git");
	put(web, ".git/config.json", "{}\n");
	put(outside, "secret.js", "SECRET OUTSIDE\n");
	snprintf(p, sizeof(p), "%s/escape", web);
	MUST(symlink(outside, p) == 0);
	snprintf(p, sizeof(p), "%s/out.js", web);
	snprintf(big, sizeof(big), "%s/secret.js", outside);
	MUST(symlink(big, p) == 0);
	snprintf(p, sizeof(p), "%s/alias.js", web);
	MUST(symlink("app.js", p) == 0); /* inside the root: served */
	snprintf(p, sizeof(p), "%s/fifo.js", web);
	MUST(mkfifo(p, 0644) == 0);
	sub(web, "dir.js");
	/* one byte over the bound */
	snprintf(p, sizeof(p), "%s/big.js", web);
	f = fopen(p, "w");
	MUST(f != NULL);
	memset(big, 'x', sizeof(big));
	for (int i = 0; i < 4 * 1024 * 1024 / (int)sizeof(big); i++)
		fwrite(big, 1, sizeof(big), f);
	fputc('x', f);
	fclose(f);
	sub(jsroot, "chart.js");
	put(jsroot, "chart.js/chart.mjs", "export const Chart = 1;\n");
	sub(jsroot, "leaflet");
	put(jsroot, "leaflet/leaflet.css", ".leaflet {}\n");
	sub(jsroot, "jquery");
	put(jsroot, "jquery/jquery.js", "jquery\n");
}

static void remove_trees(void)
{
	char cmd[2000];

	if (web[strlen(web) - 1] == 'X')
		return;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s' '%s' '%s'", web, outside, jsroot);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", web);
}

static struct tdaemon *start(int *port)
{
	char conf[1200];

	*port = tdaemon_free_port();
	snprintf(conf, sizeof(conf),
	         "http.enabled=true\nhttp.listen=127.0.0.1:%d\n"
	         "http.web_root=\"%s\"\nhttp.js_root=\"%s\"\n",
	         *port, web, jsroot);
	return tdaemon_start(conf);
}

static struct thttp_res get(struct tdaemon *d, int port, const char *path)
{
	return thttp(d, &(struct thttp_req){ .port = port, .path = path });
}

/* One raw request (what curl would rewrite), "Connection: close"; returns
 * the whole answer (head and body, lines joined by "\n"), malloc'd. */
static char *raw(struct tdaemon *d, int port, const char *method, const char *path,
                 const char *extra)
{
	struct tclient *c;
	char req[1024], *line;
	size_t len = 0, cap = 1 << 16;
	char *all = calloc(1, cap);

	ck_assert_ptr_nonnull(all);
	tclient_set_port(port);
	c = tclient_connect(d, NULL);
	tclient_set_port(0);
	snprintf(req, sizeof(req),
	         "%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\n%sConnection: close\r\n\r\n", method, path,
	         extra ? extra : "");
	ck_assert_int_eq(tclient_send_raw(c, req, strlen(req)), 0);
	while ((line = tclient_recv_line(c, 5000)) != NULL) {
		size_t n = strlen(line);

		if (len + n + 2 < cap) {
			memcpy(all + len, line, n);
			len += n;
			all[len++] = '\n';
		}
		free(line);
	}
	tclient_close(c);
	return all;
}

/* The status code of a raw answer. */
static int raw_status(const char *answer)
{
	int status = 0;

	ck_assert_msg(sscanf(answer, "HTTP/1.1 %d", &status) == 1, "no status line in: %.200s",
	              answer);
	return status;
}

static void assert_served(struct tdaemon *d, int port, const char *path, const char *type,
                          const char *body)
{
	struct thttp_res r = get(d, port, path);
	char want[200];

	ck_assert_msg(r.status == 200, "%s: status %d", path, r.status);
	snprintf(want, sizeof(want), "Content-Type: %s", type);
	ck_assert_msg(thttp_has_header(&r, want), "%s: no %s in\n%s", path, want, r.head);
	ck_assert_msg(thttp_has_header(&r, "Content-Security-Policy: default-src 'self'; "
	                                   "script-src 'self'"),
	              "%s: no CSP", path);
	ck_assert(thttp_has_header(&r, "X-Content-Type-Options: nosniff"));
	ck_assert(thttp_has_header(&r, "X-Frame-Options: DENY"));
	ck_assert(thttp_has_header(&r, "Strict-Transport-Security: max-age="));
	ck_assert(thttp_has_header(&r, "Cache-Control: no-cache"));
	ck_assert(!thttp_has_header(&r, "no-store"));
	ck_assert(thttp_has_header(&r, "ETag: \""));
	if (body)
		ck_assert_str_eq(r.body, body);
	thttp_free(&r);
}

static void assert_404(struct tdaemon *d, int port, const char *path)
{
	struct thttp_res r = get(d, port, path);

	ck_assert_msg(r.status == 404, "%s: status %d, body %.100s", path, r.status, r.body);
	ck_assert(thttp_has_header(&r, "Content-Security-Policy:"));
	ck_assert(thttp_has_header(&r, "X-Content-Type-Options: nosniff"));
	ck_assert_msg(strstr(r.body, "SECRET") == NULL && strstr(r.body, "secret") == NULL,
	              "%s leaked: %s", path, r.body);
	thttp_free(&r);
}

static void assert_raw_404(struct tdaemon *d, int port, const char *path)
{
	char *a = raw(d, port, "GET", path, NULL);

	ck_assert_msg(raw_status(a) == 404, "%s: %.200s", path, a);
	ck_assert_msg(strstr(a, "SECRET") == NULL, "%s leaked: %s", path, a);
	ck_assert(strstr(a, "Content-Security-Policy: ") != NULL);
	free(a);
}

START_TEST(test_types_and_headers)
{
	int port;
	struct tdaemon *d = start(&port);

	assert_served(d, port, "/", "text/html; charset=utf-8",
	              "<!doctype html><title>console</title>\n");
	assert_served(d, port, "/index.html", "text/html; charset=utf-8", NULL);
	assert_served(d, port, "/app.js", "text/javascript; charset=utf-8",
	              "export const x = 1;\n");
	assert_served(d, port, "/mod.mjs", "text/javascript; charset=utf-8", NULL);
	assert_served(d, port, "/app.css", "text/css; charset=utf-8", "body { margin: 0 }\n");
	assert_served(d, port, "/logo.svg", "image/svg+xml", NULL);
	assert_served(d, port, "/logo.png", "image/png", NULL);
	assert_served(d, port, "/strings.json", "application/json; charset=utf-8", NULL);
	assert_served(d, port, "/app.js.map", "application/json; charset=utf-8", NULL);
	assert_served(d, port, "/views/ticket.js", "text/javascript; charset=utf-8", NULL);
	assert_served(d, port, "/alias.js", "text/javascript; charset=utf-8",
	              "export const x = 1;\n");
	assert_served(d, port, "/app.js?v=2", "text/javascript; charset=utf-8", NULL);
	/* the two libraries from js_root */
	assert_served(d, port, "/javascript/chart.js/chart.mjs", "text/javascript; charset=utf-8",
	              "export const Chart = 1;\n");
	assert_served(d, port, "/javascript/leaflet/leaflet.css", "text/css; charset=utf-8", NULL);
	/* the other routes still win over the files */
	{
		struct thttp_res r = get(d, port, "/healthz");

		ck_assert_int_eq(r.status, 200);
		ck_assert_str_eq(r.body, "ok\n");
		ck_assert(thttp_has_header(&r, "Cache-Control: no-store"));
		thttp_free(&r);
	}
	ck_assert_int_eq(tdaemon_stop(d, SIGTERM), 0);
}
END_TEST

START_TEST(test_refusals)
{
	int port;
	struct tdaemon *d = start(&port);

	assert_404(d, port, "/missing.js");
	assert_404(d, port, "/notes.txt"); /* extension not on the list */
	assert_404(d, port, "/run.sh");
	assert_404(d, port, "/views");            /* a directory, no extension */
	assert_404(d, port, "/views/");           /* empty segment */
	assert_404(d, port, "/dir.js");           /* a directory with a listed extension */
	assert_404(d, port, "/.secret.js");       /* dotfile */
	assert_404(d, port, "/.git/config.json"); /* dot directory */
	assert_404(d, port, "/out.js");           /* symlink to a file outside */
	assert_404(d, port, "/escape/secret.js"); /* symlinked directory outside */
	assert_404(d, port, "/fifo.js");          /* not a regular file (and no hang) */
	assert_404(d, port, "/big.js");           /* over the 4 MiB bound */
	assert_404(d, port, "/%2e%2e/streetd-static-outside/secret.js");
	assert_404(d, port, "/%2E%2E%2Fetc%2Fpasswd");
	assert_404(d, port, "/views%2fticket.js"); /* encoded slash */
	assert_404(d, port, "/app%2ejs");
	assert_404(d, port, "/app.js%00.html");
	assert_404(d, port, "/views//ticket.js");
	assert_404(d, port, "/javascript/jquery/jquery.js"); /* a library not served */
	assert_404(d, port, "/javascript/chart.js");         /* the directory */
	assert_404(d, port, "/javascript/chart.jsx/chart.mjs");
	assert_404(d, port, "/javascript/leaflet/.hidden.css");
	/* what curl would normalise: sent raw */
	assert_raw_404(d, port, "/../streetd-static-outside/secret.js");
	assert_raw_404(d, port, "/views/../../etc/passwd.json");
	assert_raw_404(d, port, "/./app.js");
	assert_raw_404(d, port, "/javascript/chart.js/../jquery/jquery.js");
	assert_raw_404(d, port, "/javascript/../../../etc/hostname.js");
	assert_raw_404(d, port, "/views\\ticket.js");
	/* POST is not for files */
	{
		struct thttp_res r = thttp(d, &(struct thttp_req){ .port = port,
		                                                   .method = "POST",
		                                                   .path = "/app.js",
		                                                   .ctype = "application/json",
		                                                   .body = "{}" });

		ck_assert_int_eq(r.status, 405);
		thttp_free(&r);
	}
	/* the daemon is fine after all of it */
	assert_served(d, port, "/app.js", "text/javascript; charset=utf-8", NULL);
	ck_assert_int_eq(tdaemon_stop(d, SIGTERM), 0);
}
END_TEST

START_TEST(test_head_and_etag)
{
	int port;
	struct tdaemon *d = start(&port);
	char *a = raw(d, port, "HEAD", "/app.js", NULL), etag[100] = "", cond[160];
	const char *e;

	ck_assert_int_eq(raw_status(a), 200);
	ck_assert_msg(strstr(a, "Content-Length: 20\n") != NULL, "%s", a);
	ck_assert(strstr(a, "export const") == NULL); /* no body */
	ck_assert(strstr(a, "Content-Security-Policy: ") != NULL);
	e = strstr(a, "ETag: ");
	ck_assert_ptr_nonnull(e);
	ck_assert_int_eq(sscanf(e, "ETag: %99[^\r\n]", etag), 1);
	free(a);
	snprintf(cond, sizeof(cond), "If-None-Match: %s\r\n", etag);
	a = raw(d, port, "GET", "/app.js", cond);
	ck_assert_msg(raw_status(a) == 304, "%s", a);
	ck_assert(strstr(a, "export const") == NULL);
	ck_assert(strstr(a, "Content-Security-Policy: ") != NULL);
	free(a);
	/* a changed file has another ETag */
	put(web, "app.js", "export const x = 22;\n");
	a = raw(d, port, "GET", "/app.js", cond);
	ck_assert_msg(raw_status(a) == 200, "%s", a);
	ck_assert(strstr(a, "export const x = 22;") != NULL);
	free(a);
	put(web, "app.js", "export const x = 1;\n");
	ck_assert_int_eq(tdaemon_stop(d, SIGTERM), 0);
}
END_TEST

/* No web_root there: 404 with a log line, nothing else breaks. */
START_TEST(test_missing_root)
{
	int port = tdaemon_free_port();
	struct tdaemon *d = tdaemon_start(tdb_fmt("http.enabled=true\nhttp.listen=127.0.0.1:%d\n"
	                                          "http.web_root=/nonexistent/streetd-web\n",
	                                          port));

	assert_404(d, port, "/");
	ck_assert(tdaemon_log_wait(d, "root /nonexistent/streetd-web", 2000));
	ck_assert_int_eq(tdaemon_stop(d, SIGTERM), 0);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("daemon_static");
	TCase *tc = tcase_create("static");
	int rc;

	make_trees();
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_types_and_headers);
	tcase_add_test(tc, test_refusals);
	tcase_add_test(tc, test_head_and_etag);
	tcase_add_test(tc, test_missing_root);
	suite_add_tcase(s, tc);
	rc = tdaemon_run_suite(s);
	remove_trees();
	return rc;
}
