/*
 * The browser suite's harness: starts the real streetd (tests/integration/
 * tdaemon.c) with the HTTPS listener on a free port and http.web_root at the
 * checkout's clients/web, then runs `node tests/browser/NAME.mjs` and passes
 * or fails on its exit status.  The script drives Debian's Chromium through
 * playwright-core (tests/browser/lib.mjs).
 *
 * The script gets (environment):
 *   STREETD_URL          https://127.0.0.1:PORT (the console)
 *   STREETD_TLS_DIR      ca.crt and LOGIN.crt/.key for every account
 *   STREETD_SOCKET_PORT  the daemon's socket port (for streetctl --port)
 *   STREETD_STREETCTL    the built streetctl
 *   STREETD_SHOTS        where screenshots go (the build's meson-logs/browser)
 *   STREETD_CHROMIUM     /usr/bin/chromium (or $STREETD_CHROMIUM as given)
 * and can ask the harness for what only it can do, by writing one line
 * "@@COMMAND [ARG]" on stdout and reading the answer line on stdin:
 *   @@stop              SIGTERM the daemon, wait for it      -> "ok"
 *   @@start             start it again (same ports, config)  -> "ok SOCKET_PORT"
 *   @@sql SQL           run SQL as the database superuser    -> "ok FIRST_VALUE" or "err MESSAGE"
 * (@@sql is how a change is made while the daemon is down: the action
 * functions are SQL.)  Every other line of its stdout is copied to the log.
 */
#include <check.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tdaemon.h"
#include "tdb.h"

static const char *script; /* NAME of tests/browser/NAME.mjs */
static char overrides[2048];
static int http_port;

static const char *env_or(const char *name, const char *def)
{
	const char *v = getenv(name);

	return v && *v ? v : def;
}

/* One answer line: word, then arg if any. */
static void reply(FILE *to, const char *word, const char *arg)
{
	fprintf(to, "%s%s%s\n", word, arg ? " " : "", arg ? arg : "");
	fflush(to);
}

/* @@sql: one statement as the superuser; the first value of the first row. */
static void run_sql(FILE *to, const char *sql)
{
	PGconn *c = tdb_connect(true);
	PGresult *r = PQexec(c, sql);
	char buf[600];

	if (PQresultStatus(r) == PGRES_TUPLES_OK || PQresultStatus(r) == PGRES_COMMAND_OK) {
		snprintf(buf, sizeof(buf), "%s",
		         PQntuples(r) > 0 && PQnfields(r) > 0 ? PQgetvalue(r, 0, 0) : "");
		reply(to, "ok", buf);
	} else {
		snprintf(buf, sizeof(buf), "%s", PQresultErrorMessage(r));
		buf[strcspn(buf, "\n")] = '\0';
		reply(to, "err", buf);
	}
	PQclear(r);
	PQfinish(c);
}

START_TEST(test_script)
{
	const char *src = env_or("STREETD_BROWSER_DIR", ".");
	const char *shots = env_or("STREETD_SHOTS", "/tmp");
	struct tdaemon *d;
	int to_node[2], from_node[2], status;
	char path[1024], url[64], sport[16];
	FILE *in, *out;
	char *line = NULL;
	size_t cap = 0;
	pid_t pid;

	http_port = tdaemon_free_port();
	snprintf(overrides, sizeof(overrides),
	         "http.enabled=true\nhttp.listen=127.0.0.1:%d\nhttp.web_root=\"%s\"\n", http_port,
	         env_or("STREETD_WEB_ROOT", "clients/web"));
	d = tdaemon_start(overrides);
	snprintf(url, sizeof(url), "https://127.0.0.1:%d", http_port);
	snprintf(sport, sizeof(sport), "%d", tdaemon_port(d));
	snprintf(path, sizeof(path), "%s/%s.mjs", src, script);
	mkdir(shots, 0755);
	ck_assert_int_eq(pipe(to_node), 0);
	ck_assert_int_eq(pipe(from_node), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		dup2(to_node[0], 0);
		dup2(from_node[1], 1);
		close(to_node[1]);
		close(from_node[0]);
		setenv("STREETD_URL", url, 1);
		setenv("STREETD_SOCKET_PORT", sport, 1);
		setenv("STREETD_CHROMIUM", env_or("STREETD_CHROMIUM", "/usr/bin/chromium"), 1);
		setenv("STREETD_SHOTS", shots, 1);
		if (chdir(src) != 0)
			_exit(126);
		execlp("node", "node", path, (char *)NULL);
		fprintf(stderr, "cannot run node: %s\n", strerror(errno));
		_exit(127);
	}
	close(to_node[0]);
	close(from_node[1]);
	in = fdopen(from_node[0], "r");
	out = fdopen(to_node[1], "w");
	ck_assert(in && out);
	signal(SIGPIPE, SIG_IGN);
	while (getline(&line, &cap, in) >= 0) {
		line[strcspn(line, "\n")] = '\0';
		if (strncmp(line, "@@", 2) != 0) {
			printf("%s\n", line);
			fflush(stdout);
			continue;
		}
		printf("harness: %s\n", line);
		fflush(stdout);
		if (strcmp(line, "@@stop") == 0) {
			if (d)
				tdaemon_stop(d, SIGTERM);
			d = NULL;
			reply(out, "ok", NULL);
		} else if (strcmp(line, "@@start") == 0) {
			if (!d)
				d = tdaemon_start(overrides);
			snprintf(sport, sizeof(sport), "%d", tdaemon_port(d));
			reply(out, "ok", sport);
		} else if (strncmp(line, "@@sql ", 6) == 0) {
			run_sql(out, line + 6);
		} else {
			reply(out, "err unknown command", line);
		}
	}
	free(line);
	fclose(in);
	fclose(out);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	if (d)
		tdaemon_stop(d, SIGTERM);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "%s.mjs failed (status %d)",
	              script, WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
}
END_TEST

int main(int argc, char **argv)
{
	Suite *s = suite_create("browser");
	TCase *tc = tcase_create("browser");

	if (argc != 2) {
		fprintf(stderr, "usage: %s NAME (runs tests/browser/NAME.mjs)\n", argv[0]);
		return 2;
	}
	script = argv[1];
	tcase_set_timeout(tc, 240);
	tcase_add_test(tc, test_script);
	suite_add_tcase(s, tc);
	return tdaemon_run_suite(s);
}
