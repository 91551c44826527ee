/*
 * streetctl against a real streetd: the whole loop as each role, tables and
 * --json, watch resuming across a cut connection and a daemon restart, and
 * every error path with its exit code.  streetctl runs as a subprocess
 * ($STREETD_TEST_STREETCTL) with a config file pointing at the test's daemon.
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <sysexits.h>
#include <unistd.h>

#include "display.h"
#include "tdaemon.h"
#include "tdb.h"

/* ---- running streetctl ---- */

struct run {
	int status; /* exit code, or 128 + signal */
	char *out, *err;
	size_t out_len; /* stdout may hold NUL bytes (photo -o -) */
};

static void run_free(struct run *r)
{
	free(r->out);
	free(r->err);
	memset(r, 0, sizeof(*r));
}

static const char *ctl_exe(void)
{
	const char *p = getenv("STREETD_TEST_STREETCTL");

	ck_assert_msg(p != NULL && *p != '\0', "STREETD_TEST_STREETCTL is not set");
	return p;
}

/* A directory for this test's HOME and state (watch's seq files). */
static const char *home_dir(void)
{
	static char dir[64];

	if (dir[0] == '\0') {
		snprintf(dir, sizeof(dir), "/tmp/tstreetctl.XXXXXX");
		ck_assert_ptr_nonnull(mkdtemp(dir));
	}
	return dir;
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	remove(path);
	return 0;
}

/* Removes the test's directory (a failed test leaves it, for a look). */
static void home_cleanup(void)
{
	nftw(home_dir(), rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* Writes a config for login pointing at port; returns its path (malloc'd). */
static char *conf_for(int port, const char *login)
{
	char path[256], crt[64], key[64];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s-%d.conf", home_dir(), login, port);
	snprintf(crt, sizeof(crt), "%s.crt", login);
	snprintf(key, sizeof(key), "%s.key", login);
	f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fprintf(f, "# streetctl test config\nserver = 127.0.0.1\nport = %d\nca = %s\n", port,
	        ttls_path("ca.crt"));
	fprintf(f, "cert = %s\nkey = \"%s\"\n", ttls_path(crt), ttls_path(key));
	ck_assert_int_eq(fclose(f), 0);
	return strdup(path);
}

/* The child side: environment, then exec streetctl with argv. */
static void exec_ctl(const char *conf, char **argv)
{
	char state[128];

	snprintf(state, sizeof(state), "%s/state", home_dir());
	setenv("STREETCTL_CONFIG", conf, 1);
	setenv("XDG_STATE_HOME", state, 1);
	setenv("HOME", home_dir(), 1);
	setenv("NO_COLOR", "1", 1);
	unsetenv("XDG_CONFIG_HOME");
	execv(ctl_exe(), argv);
	dprintf(2, "cannot run %s: %s\n", ctl_exe(), strerror(errno));
	_exit(127);
}

/* Appends what fd has to *buf; false at EOF. */
static bool slurp(int fd, char **buf, size_t *len)
{
	char tmp[4096];
	ssize_t n = read(fd, tmp, sizeof(tmp));

	if (n <= 0)
		return n < 0 && errno == EINTR;
	*buf = realloc(*buf, *len + (size_t)n + 1);
	ck_assert_ptr_nonnull(*buf);
	memcpy(*buf + *len, tmp, (size_t)n);
	*len += (size_t)n;
	(*buf)[*len] = '\0';
	return true;
}

/* Runs streetctl with conf and the NULL-terminated arguments; waits <= 60 s. */
static struct run ctl_run(const char *conf, const char *arg, ...)
{
	char *argv[40];
	int argc = 0, po[2], pe[2];
	struct run r = { 0 };
	size_t lo = 0, le = 0;
	bool open_o = true, open_e = true;
	long long deadline = tnow_ms() + 60000;
	va_list ap;
	pid_t pid;
	int ws;

	argv[argc++] = strdup("streetctl");
	va_start(ap, arg);
	for (const char *a = arg; a != NULL && argc < 39; a = va_arg(ap, const char *))
		argv[argc++] = strdup(a);
	va_end(ap);
	argv[argc] = NULL;
	home_dir(); /* made here, not once per child */
	ck_assert_int_eq(pipe(po), 0);
	ck_assert_int_eq(pipe(pe), 0);
	fflush(NULL);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		dup2(po[1], 1);
		dup2(pe[1], 2);
		close(po[0]);
		close(pe[0]);
		close(po[1]);
		close(pe[1]);
		exec_ctl(conf, argv);
	}
	for (int i = 0; i < argc; i++)
		free(argv[i]);
	close(po[1]);
	close(pe[1]);
	r.out = calloc(1, 1);
	r.err = calloc(1, 1);
	while ((open_o || open_e) && tnow_ms() < deadline) {
		struct pollfd p[2] = { { open_o ? po[0] : -1, POLLIN, 0 },
			               { open_e ? pe[0] : -1, POLLIN, 0 } };

		if (poll(p, 2, 1000) <= 0)
			continue;
		if (p[0].revents && !slurp(po[0], &r.out, &lo))
			open_o = false;
		if (p[1].revents && !slurp(pe[0], &r.err, &le))
			open_e = false;
	}
	if (open_o || open_e)
		kill(pid, SIGKILL);
	close(po[0]);
	close(pe[0]);
	ck_assert_int_eq(waitpid(pid, &ws, 0), pid);
	r.status = WIFEXITED(ws) ? WEXITSTATUS(ws) : 128 + WTERMSIG(ws);
	r.out_len = lo;
	return r;
}

#define ck_assert_run(r, code)                                                                     \
	ck_assert_msg((r).status == (code), "exit %d, expected %d\nstdout: %s\nstderr: %s",        \
	              (r).status, (code), (r).out, (r).err)

/* An error run: the status, and one line "streetctl: ...; ..." on stderr. */
static void assert_error(struct run *r, int code, const char *needle)
{
	ck_assert_run(*r, code);
	ck_assert_msg(strncmp(r->err, "streetctl: ", 11) == 0, "stderr: %s", r->err);
	ck_assert_msg(strchr(r->err, ';') != NULL, "no hint in: %s", r->err);
	ck_assert_msg(strchr(r->err, '\n') == r->err + strlen(r->err) - 1, "not one line: %s",
	              r->err);
	if (needle != NULL)
		ck_assert_msg(strstr(r->err, needle) != NULL, "'%s' not in: %s", needle, r->err);
}

static json_object *parse_json(const char *text)
{
	json_object *o = json_tokener_parse(text);

	ck_assert_msg(o != NULL, "not JSON: %s", text);
	return o;
}

/* Reports through streetctl --json; returns the new ticket's id. */
static long long report(const char *conf, const char *grid, const char *category, const char *what)
{
	struct run r = ctl_run(conf, "--json", "report", "--category", category, "--grid", grid,
	                       "--description", what, NULL);
	json_object *o;
	long long id;

	ck_assert_run(r, 0);
	o = parse_json(r.out);
	id = tj_int(o, "ticket.id");
	ck_assert_int_gt(id, 0);
	json_object_put(o);
	run_free(&r);
	return id;
}

/* The ticket as streetctl show --json sees it (caller puts). */
static json_object *show_json(const char *conf, long long id)
{
	char ids[24];
	struct run r;
	json_object *o;

	snprintf(ids, sizeof(ids), "%lld", id);
	r = ctl_run(conf, "--json", "show", ids, NULL);
	ck_assert_run(r, 0);
	o = parse_json(r.out);
	run_free(&r);
	return o;
}

/* The display column where needle starts on the line of text that holds it (-1 if absent). */
static long column_of(const char *text, const char *line_has, const char *needle)
{
	const char *l = strstr(text, line_has), *start, *hit;

	if (l == NULL)
		return -1;
	start = l;
	while (start > text && start[-1] != '\n')
		start--;
	hit = strstr(start, needle);
	if (hit == NULL || (strchr(start, '\n') != NULL && hit > strchr(start, '\n')))
		return -1;
	return (long)display_width_n(start, (size_t)(hit - start));
}

/* ---- the loop ---- */

START_TEST(loop_as_each_role)
{
	struct tdaemon *d = tdaemon_start(NULL);
	char *wang = conf_for(tdaemon_port(d), "wang.fang");
	char *zhang = conf_for(tdaemon_port(d), "zhang.wei");
	char *yang = conf_for(tdaemon_port(d), "yang.min");
	char *sun = conf_for(tdaemon_port(d), "sun.li");
	char ids[24], text[64];
	struct run r;
	json_object *o;
	long long id;

	/* a collector reports, in a table for people */
	snprintf(text, sizeof(text), "夜间施工噪声 ctl-%lld", tnow_ms());
	r = ctl_run(wang, "report", "--category", "pollution.noise", "--grid", "jg-yanan-01",
	            "--description", text, "--address", "延安北路12号", NULL);
	ck_assert_run(r, 0);
	ck_assert_msg(strstr(r.out, "report") && strstr(r.out, "reported"), "%s", r.out);
	run_free(&r);
	r = ctl_run(wang, "--json", "list", "--text", text, NULL);
	ck_assert_run(r, 0);
	o = parse_json(r.out);
	ck_assert_uint_eq(tj_len(o, "tickets"), 1);
	id = tj_int(o, "tickets.0.id");
	ck_assert_str_eq(tj_str(o, "tickets.0.state"), "reported");
	ck_assert_str_eq(tj_str(o, "tickets.0.address"), "延安北路12号");
	json_object_put(o);
	run_free(&r);
	snprintf(ids, sizeof(ids), "%lld", id);

	r = ctl_run(zhang, "show", ids, NULL);
	ck_assert_run(r, 0);
	ck_assert_msg(strstr(r.out, "you may      dispatch, cancel, comment\n") != NULL, "%s",
	              r.out);
	run_free(&r);

	/* the street office dispatches: the routed department is shown (grid rule: sthj) */
	r = ctl_run(zhang, "dispatch", ids, NULL);
	ck_assert_run(r, 0);
	ck_assert_msg(strstr(r.out, "routed to 生态环境局 (sthj)") != NULL, "%s", r.out);
	ck_assert_msg(strstr(r.out, "reported → dispatched") != NULL, "%s", r.out);
	run_free(&r);

	r = ctl_run(yang, "show", ids, NULL);
	ck_assert_run(r, 0);
	ck_assert_msg(strstr(r.out, "you may      accept, return, comment\n") != NULL, "%s", r.out);
	run_free(&r);
	r = ctl_run(sun, "show", ids, NULL);
	ck_assert_run(r, 0);
	ck_assert_msg(strstr(r.out, "you may      urge, comment\n") != NULL, "%s", r.out);
	run_free(&r);

	/* the department accepts and resolves */
	r = ctl_run(yang, "accept", ids, NULL);
	ck_assert_run(r, 0);
	ck_assert_msg(strstr(r.out, "dispatched → accepted") != NULL, "%s", r.out);
	run_free(&r);
	r = ctl_run(yang, "--json", "resolve", ids, "--note", "已停工整改", NULL);
	ck_assert_run(r, 0);
	o = parse_json(r.out);
	ck_assert_str_eq(tj_str(o, "ticket.state"), "resolved");
	ck_assert_int_eq(tj_int(o, "ticket.version"), 4);
	ck_assert_str_eq(tj_str(o, "event.action"), "resolve");
	ck_assert_str_eq(tj_str(o, "event.data.note"), "已停工整改");
	ck_assert(!tj_bool(o, "replayed"));
	json_object_put(o);
	run_free(&r);

	/* show says what the account's role may do in the ticket's state */
	r = ctl_run(wang, "show", ids, NULL);
	ck_assert_run(r, 0);
	ck_assert_msg(strstr(r.out, "you may      confirm, reopen, comment\n") != NULL, "%s",
	              r.out);
	run_free(&r);
	r = ctl_run(yang, "show", ids, NULL);
	ck_assert_run(r, 0);
	ck_assert_msg(strstr(r.out, "you may      comment\n") != NULL, "%s", r.out);
	run_free(&r);

	/* the reporter confirms */
	r = ctl_run(wang, "confirm", ids, "--rating", "5", "--comment", "很满意", NULL);
	ck_assert_run(r, 0);
	ck_assert_msg(strstr(r.out, "resolved → closed") != NULL, "%s", r.out);
	run_free(&r);

	/* closed: comments only */
	r = ctl_run(zhang, "show", ids, NULL);
	ck_assert_run(r, 0);
	ck_assert_msg(strstr(r.out, "you may      comment\n") != NULL, "%s", r.out);
	run_free(&r);

	/* the supervisor sees it all: the timeline has every step in order */
	r = ctl_run(sun, "show", ids, NULL);
	ck_assert_run(r, 0);
	{
		const char *steps[] = { "上报 report", "派单 dispatch", "接单 accept",
			                "处置完成 resolve", "确认办结 confirm" };
		const char *at = r.out;

		for (size_t i = 0; i < 5; i++) {
			const char *hit = strstr(at, steps[i]);

			ck_assert_msg(hit != NULL, "'%s' missing or out of order:\n%s", steps[i],
			              r.out);
			at = hit;
		}
	}
	ck_assert_msg(strstr(r.out, "噪声扰民 (pollution.noise)") != NULL, "%s", r.out);
	ck_assert_msg(strstr(r.out, "延安北路社区第1网格 (jg-yanan-01)") != NULL, "%s", r.out);
	ck_assert_msg(strstr(r.out, "rating 5/5") != NULL, "%s", r.out);
	/* people by name and login, not by account id */
	ck_assert_msg(column_of(r.out, "reporter ", "王芳 (wang.fang)") > 0, "%s", r.out);
	ck_assert_msg(column_of(r.out, "派单 dispatch", "张伟 (zhang.wei)") > 0, "%s", r.out);
	ck_assert_msg(column_of(r.out, "接单 accept", "杨敏 (yang.min)") > 0, "%s", r.out);
	ck_assert_msg(column_of(r.out, "确认办结 confirm", "王芳 (wang.fang)") > 0, "%s", r.out);
	ck_assert_msg(strstr(r.out, " #") == NULL, "an account id is shown:\n%s", r.out);
	run_free(&r);
	r = ctl_run(zhang, "show", ids, NULL);
	ck_assert_run(r, 0);
	ck_assert_msg(column_of(r.out, "派单 dispatch", "张伟 (zhang.wei, you)") > 0, "%s", r.out);
	/* the timeline's columns line up although actions are Chinese and English */
	ck_assert_int_eq(column_of(r.out, "上报 report", "reported"),
	                 column_of(r.out, "处置完成 resolve", "accepted → resolved"));
	ck_assert_int_eq(column_of(r.out, "SEQ", "STATE"),
	                 column_of(r.out, "确认办结 confirm", "resolved → closed"));
	run_free(&r);

	o = show_json(sun, id);
	ck_assert_str_eq(tj_str(o, "ticket.state"), "closed");
	ck_assert_int_eq(tj_int(o, "ticket.rating"), 5);
	ck_assert_uint_eq(tj_len(o, "events"), 5);
	ck_assert_str_eq(tj_str(o, "events.4.action"), "confirm");
	json_object_put(o);

	/* list as a table: Chinese names in columns that line up with the header */
	r = ctl_run(zhang, "list", "--text", text, NULL);
	ck_assert_run(r, 0);
	ck_assert_int_eq(column_of(r.out, "ID", "DEPARTMENT"),
	                 column_of(r.out, "噪声扰民", "生态环境局"));
	ck_assert_int_eq(column_of(r.out, "ID", "DESCRIPTION"), column_of(r.out, "噪声扰民", text));
	run_free(&r);

	free(wang);
	free(zhang);
	free(yang);
	free(sun);
	tdaemon_stop(d, SIGTERM);
	home_cleanup();
}
END_TEST

START_TEST(json_and_reference_data)
{
	struct tdaemon *d = tdaemon_start(NULL);
	char *wang = conf_for(tdaemon_port(d), "wang.fang");
	char *liu = conf_for(tdaemon_port(d), "liu.yang");
	struct run r;
	json_object *o;

	r = ctl_run(wang, "whoami", "--json", NULL);
	ck_assert_run(r, 0);
	o = parse_json(r.out);
	ck_assert_str_eq(tj_str(o, "account.login"), "wang.fang");
	ck_assert_str_eq(tj_str(o, "account.role"), "collector");
	ck_assert_uint_eq(tj_len(o, "account.grids"), 3);
	ck_assert_int_eq(tj_int(o, "protocol"), 1);
	json_object_put(o);
	run_free(&r);

	r = ctl_run(liu, "whoami", NULL);
	ck_assert_run(r, 0);
	ck_assert_msg(strstr(r.out, "北京南路街道") != NULL && strstr(r.out, "street") != NULL,
	              "%s", r.out);
	run_free(&r);

	r = ctl_run(wang, "--json", "departments", NULL);
	ck_assert_run(r, 0);
	o = parse_json(r.out);
	ck_assert_uint_ge(tj_len(o, "departments"), 7);
	json_object_put(o);
	run_free(&r);

	/* grids: the COMMUNITY column starts at the same column for every row */
	r = ctl_run(wang, "grids", NULL);
	ck_assert_run(r, 0);
	ck_assert_int_gt(column_of(r.out, "jg-yanan-01", "延安北路社区 "), 0);
	ck_assert_int_eq(column_of(r.out, "jg-yanan-01", "延安北路社区 "),
	                 column_of(r.out, "t-other-01", "测试社区"));
	ck_assert_int_eq(column_of(r.out, "CODE", "COMMUNITY"),
	                 column_of(r.out, "bn-tunhe-01", "屯河社区 "));
	run_free(&r);

	r = ctl_run(wang, "categories", NULL);
	ck_assert_run(r, 0);
	ck_assert_msg(strstr(r.out, "pollution.noise") != NULL, "%s", r.out);
	ck_assert_int_eq(column_of(r.out, "safety.gas ", "yes"),
	                 column_of(r.out, "CODE", "URGENT"));
	run_free(&r);

	/* --json list with --all is one document */
	report(wang, "jg-yanan-02", "pollution.dust", "ctl json 1");
	report(wang, "jg-yanan-02", "pollution.dust", "ctl json 2");
	r = ctl_run(wang, "--json", "list", "--limit", "1", "--all", "--text", "ctl json", NULL);
	ck_assert_run(r, 0);
	o = parse_json(r.out);
	ck_assert_uint_ge(tj_len(o, "tickets"), 2);
	ck_assert(tj_is_null(o, "next"));
	json_object_put(o);
	run_free(&r);

	free(wang);
	free(liu);
	tdaemon_stop(d, SIGTERM);
	home_cleanup();
}
END_TEST

/* A 1x1 PNG. */
static const unsigned char png[] = {
	0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48,
	0x44, 0x52, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x06, 0x00, 0x00,
	0x00, 0x1f, 0x15, 0xc4, 0x89, 0x00, 0x00, 0x00, 0x0a, 0x49, 0x44, 0x41, 0x54, 0x78,
	0x9c, 0x63, 0xf8, 0x0f, 0x00, 0x00, 0x01, 0x01, 0x00, 0x05, 0x18, 0xd8, 0x4e, 0x00,
	0x00, 0x00, 0x00, 0x49, 0x45, 0x4e, 0x44, 0xae, 0x42, 0x60, 0x82,
};

/* Whether the file at path holds exactly these bytes. */
static bool file_is(const char *path, const void *bytes, size_t len)
{
	char buf[4096];
	FILE *f = fopen(path, "rb");
	size_t n;

	if (f == NULL)
		return false;
	n = fread(buf, 1, sizeof(buf), f);
	fclose(f);
	return n == len && memcmp(buf, bytes, len) == 0;
}

/* photo -o - with a terminal (a pseudo-terminal) as standard output: 64, no bytes. */
static void photo_to_terminal(const char *conf, const char *photo)
{
	int m = posix_openpt(O_RDWR | O_NOCTTY), s, ws;
	char buf[4096];
	ssize_t n = 0, got;
	pid_t pid;

	ck_assert_int_ge(m, 0);
	ck_assert_int_eq(grantpt(m), 0);
	ck_assert_int_eq(unlockpt(m), 0);
	s = open(ptsname(m), O_RDWR | O_NOCTTY);
	ck_assert_int_ge(s, 0);
	fflush(NULL);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		char *argv[] = { strdup("streetctl"), strdup("photo"), strdup(photo),
			         strdup("-o"),        strdup("-"),     NULL };

		dup2(s, 1);
		close(m);
		close(s);
		exec_ctl(conf, argv);
	}
	close(s);
	ck_assert_int_eq(waitpid(pid, &ws, 0), pid);
	fcntl(m, F_SETFL, O_NONBLOCK);
	while ((got = read(m, buf + n, sizeof(buf) - (size_t)n)) > 0)
		n += got;
	close(m);
	ck_assert_msg(WIFEXITED(ws) && WEXITSTATUS(ws) == EX_USAGE, "status %d", ws);
	ck_assert_msg(memmem(buf, (size_t)n, "PNG", 3) == NULL, "photo bytes on a terminal");
}

START_TEST(photos_and_idempotency)
{
	struct tdaemon *d = tdaemon_start(NULL);
	char *wang = conf_for(tdaemon_port(d), "wang.fang");
	char *zhang = conf_for(tdaemon_port(d), "zhang.wei");
	char path[256], ids[24], key[64];
	struct run r;
	json_object *o;
	long long id;
	FILE *f;

	snprintf(path, sizeof(path), "%s/site.png", home_dir());
	f = fopen(path, "wb");
	ck_assert_ptr_nonnull(f);
	fwrite(png, 1, sizeof(png), f);
	fclose(f);
	r = ctl_run(wang, "--json", "report", "--category", "pollution.garbage", "--grid",
	            "jg-yanan-03", "--description", "垃圾乱堆", "--lat", "44.01", "--lon", "87.30",
	            "--photo", path, "--photo", path, NULL);
	ck_assert_run(r, 0);
	o = parse_json(r.out);
	id = tj_int(o, "ticket.id");
	ck_assert_uint_eq(tj_len(o, "event.data.photos"), 2);
	json_object_put(o);
	run_free(&r);
	o = show_json(wang, id);
	ck_assert_uint_eq(tj_len(o, "photos"), 2);
	ck_assert_str_eq(tj_str(o, "photos.0.mime"), "image/png");
	ck_assert_int_eq(tj_int(o, "photos.0.size"), (long long)sizeof(png));
	json_object_put(o);

	/* download: the same bytes, whole, never over a file without --force */
	{
		char got[256], ph[24];
		json_object *p;
		PGconn *db;
		struct stat st;

		o = show_json(wang, id);
		snprintf(ph, sizeof(ph), "%lld", tj_int(o, "photos.0.id"));
		json_object_put(o);
		snprintf(got, sizeof(got), "%s/got.png", home_dir());
		r = ctl_run(wang, "photo", ph, "-o", got, NULL);
		ck_assert_run(r, 0);
		ck_assert_msg(strstr(r.out, "SHA-256 checked") != NULL, "%s", r.out);
		run_free(&r);
		ck_assert(file_is(got, png, sizeof(png)));
		/* an existing file is kept (73) unless --force */
		f = fopen(got, "wb");
		fputs("mine", f);
		fclose(f);
		r = ctl_run(wang, "photo", ph, "--output", got, NULL);
		assert_error(&r, EX_CANTCREAT, "--force");
		run_free(&r);
		ck_assert(file_is(got, "mine", 4));
		r = ctl_run(wang, "--json", "photo", ph, "-o", got, "--force", NULL);
		ck_assert_run(r, 0);
		p = parse_json(r.out);
		ck_assert_str_eq(tj_str(p, "photo.mime"), "image/png");
		ck_assert_str_eq(tj_str(p, "path"), got);
		json_object_put(p);
		run_free(&r);
		ck_assert(file_is(got, png, sizeof(png)));
		/* standard output when it is not a terminal: the bytes, nothing else */
		r = ctl_run(wang, "photo", ph, "-o", "-", NULL);
		ck_assert_run(r, 0);
		ck_assert_uint_eq(r.out_len, sizeof(png));
		ck_assert(memcmp(r.out, png, sizeof(png)) == 0);
		run_free(&r);
		/* a terminal never gets the bytes */
		photo_to_terminal(wang, ph);
		/* not one of this account's tickets: not found, nothing written */
		r = ctl_run(zhang, "photo", "987654321", "-o", got, "--force", NULL);
		assert_error(&r, EX_NOINPUT, NULL);
		run_free(&r);
		/* damaged in storage: the SHA-256 check refuses it and writes nothing */
		db = tdb_connect(true);
		PQclear(tdb_query(db, "SET session_replication_role = replica", 0, NULL));
		PQclear(tdb_query(db,
		                  "UPDATE street.photo SET data = overlay(data placing '\\x00' "
		                  "from 20) WHERE id = $1",
		                  1, (const char *const[]){ ph }));
		PQfinish(db);
		snprintf(got, sizeof(got), "%s/damaged.png", home_dir());
		r = ctl_run(wang, "photo", ph, "-o", got, NULL);
		assert_error(&r, EX_IOERR, "SHA-256");
		run_free(&r);
		ck_assert_int_ne(stat(got, &st), 0);
	}

	/* the same --key twice acts once: the second is a replay */
	snprintf(ids, sizeof(ids), "%lld", id);
	snprintf(key, sizeof(key), "ctl-urge-%lld", id);
	r = ctl_run(zhang, "--json", "comment", ids, "第一次", "--key", key, NULL);
	ck_assert_run(r, 0);
	run_free(&r);
	r = ctl_run(zhang, "--json", "comment", ids, "第一次", "--key", key, NULL);
	ck_assert_run(r, 0);
	o = parse_json(r.out);
	ck_assert(tj_bool(o, "replayed"));
	json_object_put(o);
	run_free(&r);
	o = show_json(zhang, id);
	ck_assert_uint_eq(tj_len(o, "events"), 2);
	json_object_put(o);

	/* a missing photo file is named, and nothing is reported */
	r = ctl_run(wang, "report", "--category", "pollution.garbage", "--grid", "jg-yanan-03",
	            "--description", "x", "--photo", "/nonexistent.jpg", NULL);
	assert_error(&r, EX_NOINPUT, "/nonexistent.jpg");
	run_free(&r);

	free(wang);
	free(zhang);
	tdaemon_stop(d, SIGTERM);
	home_cleanup();
}
END_TEST

/* Runs an action as conf with --json; returns the event's seq after checking its action. */
static long long act(const char *conf, const char *action, const char *cmd, const char *id,
                     const char *a1, const char *a2, const char *a3, const char *a4)
{
	struct run r = ctl_run(conf, "--json", cmd, id, a1, a2, a3, a4, NULL);
	json_object *o;
	long long seq;

	ck_assert_run(r, 0);
	o = parse_json(r.out);
	ck_assert_str_eq(tj_str(o, "event.action"), action);
	seq = tj_int(o, "event.seq");
	json_object_put(o);
	run_free(&r);
	return seq;
}

START_TEST(return_arbitrate_extend_urge_reopen_cancel)
{
	struct tdaemon *d = tdaemon_start(NULL);
	char *wang = conf_for(tdaemon_port(d), "wang.fang");
	char *zhang = conf_for(tdaemon_port(d), "zhang.wei");
	char *yang = conf_for(tdaemon_port(d), "yang.min");
	char *sun = conf_for(tdaemon_port(d), "sun.li");
	long long id = report(wang, "jg-yanan-02", "pollution.dust", "ctl other actions");
	long long dup = report(wang, "jg-yanan-02", "pollution.dust", "ctl duplicate");
	char ids[24], seq[24], dups[24];
	json_object *o;

	snprintf(ids, sizeof(ids), "%lld", id);
	act(zhang, "dispatch", "dispatch", ids, "--to", "sthj", NULL, NULL);
	snprintf(seq, sizeof(seq), "%lld",
	         act(yang, "return", "return", ids, "--reason", "不属于本部门", "--department",
	             "cgj"));
	/* rejected while pending: back to sthj, dispatched */
	act(sun, "arbitrate", "arbitrate", ids, "--return-seq", seq, "--rejected", NULL);
	act(yang, "accept", "accept", ids, NULL, NULL, NULL, NULL);
	act(yang, "extend_request", "extend", ids, "--until", "2027-01-29T17:00:00+08:00",
	    "--reason", "需要采样检测");
	act(zhang, "extend_grant", "extend", ids, "--grant", "--note", "同意", NULL);
	act(sun, "urge", "urge", ids, "--note", "请加快", NULL, NULL);
	act(yang, "resolve", "resolve", ids, "--note", "完成", NULL, NULL);
	act(zhang, "reopen", "reopen", ids, "--reason", "仍有扬尘", NULL, NULL);
	o = show_json(zhang, id);
	ck_assert_str_eq(tj_str(o, "ticket.state"), "accepted");
	ck_assert_int_eq(tj_int(o, "ticket.return_count"), 1);
	ck_assert_int_eq(tj_int(o, "ticket.reopen_count"), 1);
	ck_assert_int_eq(tj_int(o, "ticket.urge_count"), 1);
	ck_assert_uint_eq(tj_len(o, "events"), 10);
	json_object_put(o);

	/* the duplicate is cancelled, naming the first */
	snprintf(dups, sizeof(dups), "%lld", dup);
	act(zhang, "cancel", "cancel", dups, "--duplicate-of", ids, NULL, NULL);
	o = show_json(zhang, dup);
	ck_assert_str_eq(tj_str(o, "ticket.state"), "cancelled");
	ck_assert_int_eq(tj_int(o, "ticket.duplicate_of"), id);
	json_object_put(o);

	free(wang);
	free(zhang);
	free(yang);
	free(sun);
	tdaemon_stop(d, SIGTERM);
	home_cleanup();
}
END_TEST

/* A return names the department responsible; a ruling on it while it is
 * pending sends the ticket there or to the department the supervisor names. */
START_TEST(return_names_and_ruling_sends)
{
	struct tdaemon *d = tdaemon_start(NULL);
	char *wang = conf_for(tdaemon_port(d), "wang.fang");
	char *zhang = conf_for(tdaemon_port(d), "zhang.wei");
	char *yang = conf_for(tdaemon_port(d), "yang.min");
	char *sun = conf_for(tdaemon_port(d), "sun.li");
	long long id = report(wang, "jg-yanan-02", "pollution.dust", "ctl ruling");
	char ids[24], seq[24];
	struct run r;
	json_object *o;

	snprintf(ids, sizeof(ids), "%lld", id);
	act(zhang, "dispatch", "dispatch", ids, "--to", "sthj", NULL, NULL);
	/* no department named, or one that does not exist: nothing is sent */
	r = ctl_run(yang, "return", ids, "--reason", "不属于本部门", NULL);
	assert_error(&r, EX_USAGE, "--department");
	run_free(&r);
	r = ctl_run(yang, "return", ids, "--reason", "不属于本部门", "--department", "no-such",
	            NULL);
	assert_error(&r, EX_USAGE, "no-such");
	run_free(&r);
	/* naming itself: the server refuses it */
	r = ctl_run(yang, "return", ids, "--reason", "不属于本部门", "--department", "sthj", NULL);
	assert_error(&r, EX_DATAERR, "another department");
	run_free(&r);
	/* for people: the department named */
	r = ctl_run(yang, "return", ids, "--reason", "属于城管", "--department", "cgj", NULL);
	ck_assert_run(r, 0);
	ck_assert_msg(strstr(r.out, "named as responsible") && strstr(r.out, "(cgj)"), "%s", r.out);
	run_free(&r);
	o = show_json(zhang, id);
	snprintf(seq, sizeof(seq), "%lld", tj_int(o, "events.2.seq"));
	ck_assert_str_eq(tj_str(o, "events.2.action"), "return");
	json_object_put(o);
	/* the street office sees whom it named */
	r = ctl_run(zhang, "show", ids, NULL);
	ck_assert_run(r, 0);
	ck_assert_msg(strstr(r.out, "names 城市管理局"), "%s", r.out);
	run_free(&r);
	r = ctl_run(sun, "arbitrate", ids, "--return-seq", seq, "--rejected", "--department", "cgj",
	            NULL);
	assert_error(&r, EX_USAGE, "--department goes with --upheld");
	run_free(&r);
	/* upheld, to another department than the one named */
	r = ctl_run(sun, "arbitrate", ids, "--return-seq", seq, "--upheld", "--department", "yjgl",
	            NULL);
	ck_assert_run(r, 0);
	ck_assert_msg(strstr(r.out, "reported → dispatched") && strstr(r.out, "(yjgl)"), "%s",
	              r.out);
	run_free(&r);
	o = show_json(zhang, id);
	ck_assert_str_eq(tj_str(o, "ticket.state"), "dispatched");
	ck_assert_int_eq(tj_int(o, "events.3.data.department_id"),
	                 tj_int(o, "ticket.department_id"));
	json_object_put(o);
	/* once */
	r = ctl_run(sun, "arbitrate", ids, "--return-seq", seq, "--upheld", NULL);
	assert_error(&r, EX_TEMPFAIL, "already arbitrated");
	run_free(&r);

	free(wang);
	free(zhang);
	free(yang);
	free(sun);
	tdaemon_stop(d, SIGTERM);
	home_cleanup();
}
END_TEST

/* ---- errors ---- */

START_TEST(error_paths)
{
	struct tdaemon *d = tdaemon_start(NULL);
	char *wang = conf_for(tdaemon_port(d), "wang.fang");
	char *zhang = conf_for(tdaemon_port(d), "zhang.wei");
	char *yang = conf_for(tdaemon_port(d), "yang.min");
	char *nobody = conf_for(tdaemon_port(d), "nobody");
	char *rogue = conf_for(tdaemon_port(d), "rogue");
	char ids[24], msg[128];
	struct run r;
	json_object *o;
	long long id;

	/* usage: 64, before anything is sent */
	r = ctl_run(wang, "frobnicate", NULL);
	assert_error(&r, EX_USAGE, "unknown command");
	run_free(&r);
	r = ctl_run(wang, "accept", NULL);
	assert_error(&r, EX_USAGE, "missing ID");
	run_free(&r);
	r = ctl_run(wang, "confirm", "1", "--rating", "9", NULL);
	assert_error(&r, EX_USAGE, "--rating");
	run_free(&r);
	r = ctl_run(wang, "return", "1", NULL);
	assert_error(&r, EX_USAGE, "--reason");
	run_free(&r);
	r = ctl_run(wang, "list", "--bogus", NULL);
	assert_error(&r, EX_USAGE, "--bogus");
	run_free(&r);

	id = report(wang, "jg-yanan-02", "pollution.dust", "ctl errors");
	snprintf(ids, sizeof(ids), "%lld", id);

	/* not authorised: 77 (the role may not, or no account for the certificate) */
	r = ctl_run(wang, "dispatch", ids, "--to", "cgj", NULL);
	assert_error(&r, EX_NOPERM, "may not dispatch");
	run_free(&r);
	/* refused by streetctl itself, from the rule table: no routed department first */
	r = ctl_run(wang, "dispatch", ids, NULL);
	assert_error(&r, EX_NOPERM,
	             "collector accounts may not dispatch; only street accounts may");
	ck_assert_msg(r.out[0] == '\0', "printed before refusing: %s", r.out);
	run_free(&r);
	r = ctl_run(yang, "cancel", ids, "--reason", "x", NULL);
	assert_error(&r, EX_NOPERM, "department accounts may not cancel");
	ck_assert_msg(r.out[0] == '\0', "%s", r.out);
	run_free(&r);
	r = ctl_run(yang, "report", "--category", "pollution.dust", "--grid", "jg-yanan-02",
	            "--description", "x", NULL);
	assert_error(&r, EX_NOPERM, "only collector or street accounts may");
	run_free(&r);
	/* a usage error is still found first, without a round trip */
	r = ctl_run(yang, "cancel", ids, NULL);
	assert_error(&r, EX_USAGE, "--reason");
	run_free(&r);
	r = ctl_run(nobody, "whoami", NULL);
	assert_error(&r, EX_NOPERM, NULL);
	run_free(&r);
	r = ctl_run(rogue, "whoami", NULL);
	assert_error(&r, EX_NOPERM, "refused the client certificate");
	run_free(&r);
	/* a server whose certificate does not chain to our CA: a TLS failure, 74 */
	r = ctl_run(zhang, "--ca", ttls_path("rogue-ca.crt"), "whoami", NULL);
	assert_error(&r, EX_IOERR, "not trusted");
	run_free(&r);

	/* not found: 66 */
	r = ctl_run(zhang, "show", "987654321", NULL);
	assert_error(&r, EX_NOINPUT, "not found");
	run_free(&r);

	/* bad request: 65 (a grid the server does not know) */
	r = ctl_run(wang, "report", "--category", "pollution.dust", "--grid", "999999",
	            "--description", "x", NULL);
	assert_error(&r, EX_DATAERR, "999999");
	run_free(&r);

	/* conflict: 75, and the refused action changed nothing */
	r = ctl_run(zhang, "dispatch", ids, "--to", "sthj", NULL);
	ck_assert_run(r, 0);
	run_free(&r);
	r = ctl_run(yang, "accept", ids, "--version", "1", NULL);
	assert_error(&r, EX_TEMPFAIL, "refresh and try again");
	run_free(&r);
	/* bad state: 75 with the state named */
	r = ctl_run(zhang, "dispatch", ids, "--to", "sthj", NULL);
	snprintf(msg, sizeof(msg), "ticket %lld is dispatched", id);
	assert_error(&r, EX_TEMPFAIL, msg);
	ck_assert_msg(strstr(r.err, "try again") != NULL, "%s", r.err);
	run_free(&r);
	o = show_json(zhang, id);
	ck_assert_str_eq(tj_str(o, "ticket.state"), "dispatched");
	ck_assert_int_eq(tj_int(o, "ticket.version"), 2);
	json_object_put(o);

	/* unavailable: 69 once the daemon is gone, in one line, for watch too */
	tdaemon_stop(d, SIGTERM);
	r = ctl_run(zhang, "whoami", NULL);
	assert_error(&r, EX_UNAVAILABLE, "is streetd running");
	run_free(&r);
	r = ctl_run(zhang, "watch", NULL);
	assert_error(&r, EX_UNAVAILABLE, "is streetd running");
	run_free(&r);
	r = ctl_run(zhang, "--json", "watch", NULL);
	assert_error(&r, EX_UNAVAILABLE, "is streetd running");
	run_free(&r);

	free(wang);
	free(zhang);
	free(yang);
	free(nobody);
	free(rogue);
	home_cleanup();
}
END_TEST

/* ---- the assessment (the fixture months of fixtures_assessment.sql) ---- */

/* Folds the log as the leader instance would (these daemons do not sweep). */
static void assess_catch_up(void)
{
	PGconn *admin = tdb_connect(true);
	long long head = tdb_int(admin, "SELECT max(seq) FROM street.ticket_event", 0, NULL);

	for (int i = 0; i < 2000; i++) {
		tdb_int(admin, "SELECT street.st_follow()", 0, NULL);
		if (tdb_int(admin, "SELECT position FROM street.assess_cursor", 0, NULL) >= head)
			break;
		usleep(10000);
	}
	PQfinish(admin);
}

START_TEST(stats_and_ranking)
{
	struct tdaemon *d = tdaemon_start(NULL);
	char *super = conf_for(tdaemon_port(d), "ta.super");
	char *wang = conf_for(tdaemon_port(d), "wang.fang");
	struct run r;
	json_object *o;

	assess_catch_up();
	/* May: C and D tie at 100 (rank 1, 1), E 78.57 (rank 3), a bar each */
	r = ctl_run(super, "ranking", "--month", "2025-05", "--top", "1", NULL);
	ck_assert_run(r, 0);
	ck_assert_msg(strstr(r.out, "考核丙局") && strstr(r.out, "考核戊局"), "%s", r.out);
	ck_assert_msg(strstr(r.out, "████████████████████████") != NULL, "no full bar: %s", r.out);
	ck_assert_msg(strstr(r.out, "红榜") && strstr(r.out, "黑榜"), "no lists: %s", r.out);
	/* Chinese names and right-aligned numbers line up */
	ck_assert_int_eq(column_of(r.out, "考核丙局", "100.00") + 6,
	                 column_of(r.out, "考核戊局", "78.57") + 5);
	ck_assert_int_eq(column_of(r.out, "考核丙局", "考核丙局"),
	                 column_of(r.out, "RANK", "UNIT"));
	run_free(&r);

	/* the figures, every one in --json; the same period named three ways */
	r = ctl_run(super, "--json", "stats", "--month", "2025-03", NULL);
	ck_assert_run(r, 0);
	o = parse_json(r.out);
	ck_assert_int_eq(json_object_array_length(tj_get(o, "rows")), 2);
	ck_assert_str_eq(tj_str(o, "from"), "2025-03-01");
	ck_assert_str_eq(tj_str(o, "to"), "2025-04-01");
	json_object_put(o);
	run_free(&r);
	r = ctl_run(super, "--json", "stats", "--quarter", "2025Q1", "--by", "street", NULL);
	ck_assert_run(r, 0);
	o = parse_json(r.out);
	ck_assert_str_eq(tj_str(o, "to"), "2025-04-01");
	json_object_put(o);
	run_free(&r);
	r = ctl_run(super, "stats", "--from", "2025-03-01", "--to", "2025-04-01", "--series",
	            "week", NULL);
	ck_assert_run(r, 0);
	ck_assert_msg(strstr(r.out, "2025-03-03") && strstr(r.out, "▏") == NULL &&
	                      strstr(r.out, "█") != NULL,
	              "%s", r.out);
	run_free(&r);

	/* usage errors before any request, then the server's refusals */
	r = ctl_run(super, "stats", NULL);
	ck_assert_run(r, EX_USAGE);
	run_free(&r);
	r = ctl_run(super, "ranking", "--month", "2025-13", NULL);
	ck_assert_run(r, EX_USAGE);
	run_free(&r);
	r = ctl_run(super, "stats", "--from", "2025-04-01", "--to", "2025-03-01", NULL);
	assert_error(&r, EX_DATAERR, "period");
	run_free(&r);
	r = ctl_run(super, "stats", "--month", "2025-03", "--by", "city",
	            NULL); /* checked locally */
	ck_assert_run(r, EX_USAGE);
	ck_assert_msg(strstr(r.err, "group") != NULL, "%s", r.err);
	run_free(&r);
	r = ctl_run(wang, "ranking", "--year", "2025", NULL);
	assert_error(&r, EX_NOPERM, NULL);
	run_free(&r);
	free(super);
	free(wang);
	tdaemon_stop(d, SIGTERM);
}
END_TEST

/* Reads a whole file (NUL-terminated; the caller frees), or NULL. */
static char *read_all(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	size_t cap = 0, n = 0, got;

	if (f == NULL)
		return NULL;
	do {
		if (n + 4096 + 1 > cap) {
			cap = cap * 2 + 8192;
			buf = realloc(buf, cap);
			ck_assert_ptr_nonnull(buf);
		}
		got = fread(buf + n, 1, 4096, f);
		n += got;
	} while (got > 0);
	fclose(f);
	buf[n] = 0;
	*len = n;
	return buf;
}

static int count_of(const char *text, const char *needle)
{
	int n = 0;

	for (const char *p = strstr(text, needle); p; p = strstr(p + 1, needle))
		n++;
	return n;
}

START_TEST(export_and_bulletin)
{
	struct tdaemon *d = tdaemon_start(NULL);
	char *super = conf_for(tdaemon_port(d), "ta.super");
	char *wang = conf_for(tdaemon_port(d), "wang.fang");
	char path[128], *csv, want[2048];
	size_t len;
	struct run r;
	long long t1;
	PGconn *db;

	assess_catch_up();
	db = tdb_connect(true);
	t1 = tdb_int(db,
	             "SELECT min(t.id) FROM street.ticket t JOIN street.grid g "
	             "ON g.id = t.grid_id WHERE g.code = 'ta-grid1' "
	             "AND t.created_at = '2025-03-03 09:00+08'",
	             0, NULL);
	PQfinish(db);
	snprintf(path, sizeof path, "%s/march.csv", home_dir());
	unlink(path);
	r = ctl_run(super, "export", "--month", "2025-03", "-o", path, NULL);
	ck_assert_run(r, 0);
	ck_assert_msg(strstr(r.err, "9 tickets written") != NULL, "%s", r.err);
	run_free(&r);
	csv = read_all(path, &len);
	ck_assert_ptr_nonnull(csv);
	/* a BOM, the header, nine records, every line ending in CRLF */
	ck_assert_mem_eq(csv, "\xef\xbb\xbfid,state,urgent,category,", 26);
	ck_assert_int_eq(count_of(csv, "\r\n"), 10);
	ck_assert_int_eq(count_of(csv, "\n"), 10);
	ck_assert_msg(len > 2 && memcmp(csv + len - 2, "\r\n", 2) == 0, "no CRLF at the end");
	/* T1's record, byte for byte: the last step of each kind, local times */
	snprintf(want, sizeof want,
	         "\r\n%lld,closed,false,ta.cat,考核类,ta-district,ta-street1,考核一街道,ta-grid1,"
	         "2025-03-03T09:00:00+08:00,ta-dept-a,考核甲局,"
	         "2025-03-03T09:00:00+08:00,2025-03-03T10:00:00+08:00,2025-03-03T09:30:00+08:00,"
	         "ta.street1,,false,"
	         "2025-03-03T09:30:00+08:00,2025-03-03T11:30:00+08:00,2025-03-03T10:00:00+08:00,"
	         "ta.dept.a,ta-dept-a,false,"
	         "2025-03-03T10:00:00+08:00,2025-03-04T10:00:00+08:00,2025-03-03T15:00:00+08:00,"
	         "ta.dept.a,ta-dept-a,false,",
	         t1);
	ck_assert_msg(strstr(csv, want) != NULL, "no %s in\n%s", want, csv);
	ck_assert_msg(strstr(csv, ",2025-03-04T10:00:00+08:00,confirmed,5,0,0,0,false\r\n") != NULL,
	              "%s", csv);
	free(csv);

	/* an existing file is kept without --force, replaced with it */
	r = ctl_run(super, "export", "--month", "2025-02", "-o", path, NULL);
	assert_error(&r, EX_CANTCREAT, "--force");
	run_free(&r);
	csv = read_all(path, &len);
	ck_assert_int_eq(count_of(csv, "\r\n"), 10);
	free(csv);
	r = ctl_run(super, "export", "--month", "2025-02", "-o", path, "--force", NULL);
	ck_assert_run(r, 0);
	run_free(&r);
	csv = read_all(path, &len);
	ck_assert_int_eq(count_of(csv, "\r\n"), 2); /* T9 only */
	free(csv);

	/* --json: one ticket per line, with all its steps */
	r = ctl_run(super, "--json", "export", "--month", "2025-03", NULL);
	ck_assert_run(r, 0);
	ck_assert_int_eq(count_of(r.out, "\n"), 9);
	ck_assert_int_eq(count_of(r.out, "\"steps\":["), 9);
	run_free(&r);

	/* refusals: nothing written */
	snprintf(path, sizeof path, "%s/refused.csv", home_dir());
	r = ctl_run(wang, "export", "--month", "2025-03", "-o", path, NULL);
	assert_error(&r, EX_NOPERM, NULL);
	run_free(&r);
	ck_assert_int_ne(access(path, F_OK), 0);
	r = ctl_run(super, "export", "--from", "2025-04-01", "--to", "2025-03-01", "-o", path,
	            NULL);
	assert_error(&r, EX_DATAERR, "period");
	run_free(&r);
	ck_assert_int_ne(access(path, F_OK), 0);

	/* the bulletin: title, every section, the overdue items */
	r = ctl_run(super, "bulletin", "--month", "2025-03", NULL);
	ck_assert_run(r, 0);
	{
		const char *title = "# 2025年3月 街道派单 部门接单 考核通报\n";

		ck_assert_msg(strncmp(r.out, title, strlen(title)) == 0, "%s", r.out);
	}
	ck_assert_msg(strstr(r.out, "## 一、部门指标") && strstr(r.out, "## 二、街道指标") &&
	                      strstr(r.out, "## 三、部门排名") &&
	                      strstr(r.out, "## 四、街道排名") &&
	                      strstr(r.out, "## 五、期内超时事项"),
	              "%s", r.out);
	ck_assert_msg(strstr(r.out, "| 考核甲局 |") && strstr(r.out, "| 考核一街道 |"), "%s",
	              r.out);
	ck_assert_msg(strstr(r.out, "共 6 项") && strstr(r.out, "红榜：") &&
	                      strstr(r.out, "黑榜："),
	              "%s", r.out);
	run_free(&r);
	r = ctl_run(super, "bulletin", "--month", "2025-03", "--format", "csv", NULL);
	ck_assert_run(r, 0);
	ck_assert_mem_eq(r.out, "\xef\xbb\xbf", 3);
	ck_assert_msg(
	        strstr(r.out, "五、期内超时事项\r\n共 6 项\r\n工单,环节,街道,部门,时限,完成\r\n"),
	        "%s", r.out);
	run_free(&r);
	r = ctl_run(wang, "bulletin", "--month", "2025-03", NULL);
	assert_error(&r, EX_NOPERM, NULL);
	run_free(&r);

	free(super);
	free(wang);
	tdaemon_stop(d, SIGTERM);
}
END_TEST

START_TEST(help_and_usage)
{
	struct run r = ctl_run("/nonexistent", "--help", NULL);
	const char *codes[] = { " 64 ", " 65 ", " 66 ", " 69 ", " 70 ", " 74 ", " 75 ", " 77 " };

	ck_assert_run(r, 0);
	for (size_t i = 0; i < sizeof(codes) / sizeof(codes[0]); i++)
		ck_assert_msg(strstr(r.out, codes[i]) != NULL, "%s missing:\n%s", codes[i], r.out);
	ck_assert_msg(strstr(r.out, "watch") && strstr(r.out, "arbitrate"), "%s", r.out);
	run_free(&r);
	r = ctl_run("/nonexistent", "extend", "--help", NULL);
	ck_assert_run(r, 0);
	ck_assert_msg(strstr(r.out, "usage: streetctl") && strstr(r.out, "--until"), "%s", r.out);
	run_free(&r);
	/* an unreadable config named by $STREETCTL_CONFIG is a config error */
	r = ctl_run("/nonexistent/streetctl.conf", "whoami", NULL);
	assert_error(&r, EX_CONFIG, "/nonexistent/streetctl.conf");
	run_free(&r);
	home_cleanup();
}
END_TEST

/* ---- watch: a TCP proxy the test can cut and re-point ---- */

struct proxy {
	int lfd, port;
	volatile int target; /* 0: close every connection at once */
	volatile int cut, stop;
	/* > 0: once the server sent this many bytes on a connection, it is cut
	 * and target set to 0 (the daemon is down from then on) */
	volatile long long budget;
	volatile long long sent; /* bytes the server sent on the last connection */
	pthread_t th;
};

static int tcp_to(int port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sa.sin_port = htons((uint16_t)port);
	if (fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		close(fd);
		fd = -1;
	}
	return fd;
}

/* Copies from one side to the other; the bytes copied, 0 at EOF or error. */
static ssize_t pump(int from, int to)
{
	char buf[16384];
	ssize_t n = read(from, buf, sizeof(buf));

	if (n <= 0)
		return 0;
	for (ssize_t off = 0; off < n;) {
		ssize_t w = write(to, buf + off, (size_t)(n - off));

		if (w <= 0)
			return 0;
		off += w;
	}
	return n;
}

static void *proxy_main(void *arg)
{
	struct proxy *p = arg;

	while (!p->stop) {
		struct pollfd lp = { p->lfd, POLLIN, 0 };
		int c, s;

		if (poll(&lp, 1, 100) <= 0)
			continue;
		c = accept(p->lfd, NULL, NULL);
		if (c < 0)
			continue;
		s = p->target > 0 ? tcp_to(p->target) : -1;
		p->cut = 0;
		p->sent = 0;
		while (s >= 0 && !p->stop && !p->cut) {
			struct pollfd fds[2] = { { c, POLLIN, 0 }, { s, POLLIN, 0 } };
			ssize_t n = 0;

			if (poll(fds, 2, 100) <= 0)
				continue;
			if ((fds[0].revents && !pump(c, s)) ||
			    (fds[1].revents && !(n = pump(s, c))))
				break;
			p->sent += n;
			if (p->budget > 0 && p->sent >= p->budget) {
				p->target = 0;
				break;
			}
		}
		if (s >= 0)
			close(s);
		close(c);
	}
	return NULL;
}

static struct proxy *proxy_start(int target)
{
	struct proxy *p = calloc(1, sizeof(*p));
	struct sockaddr_in sa = { .sin_family = AF_INET };
	socklen_t len = sizeof(sa);

	ck_assert_ptr_nonnull(p);
	p->lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_eq(bind(p->lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	ck_assert_int_eq(listen(p->lfd, 8), 0);
	ck_assert_int_eq(getsockname(p->lfd, (struct sockaddr *)&sa, &len), 0);
	p->port = ntohs(sa.sin_port);
	p->target = target;
	ck_assert_int_eq(pthread_create(&p->th, NULL, proxy_main, p), 0);
	return p;
}

static void proxy_stop(struct proxy *p)
{
	p->stop = 1;
	pthread_join(p->th, NULL);
	close(p->lfd);
	free(p);
}

/* ---- export --format xlsx ---- */

/* Runs tests/integration/xlsx_cells.py on an xlsx and a CSV export; its exit
 * status, with what it printed in *out (the caller frees). */
static int xlsx_cells(const char *xlsx, const char *csv, char **out)
{
	const char *script = getenv("STREETD_TEST_XLSX_CELLS");
	char cmd[1024], buf[4096];
	size_t len = 0;
	FILE *f;
	int st;

	ck_assert_msg(script != NULL && *script != '\0', "STREETD_TEST_XLSX_CELLS is not set");
	snprintf(cmd, sizeof cmd, "python3 '%s' '%s' '%s' 2>&1", script, xlsx, csv);
	fflush(NULL);
	f = popen(cmd, "r");
	ck_assert_ptr_nonnull(f);
	*out = calloc(1, 1);
	for (size_t n; (n = fread(buf, 1, sizeof buf, f)) > 0; len += n) {
		*out = realloc(*out, len + n + 1);
		ck_assert_ptr_nonnull(*out);
		memcpy(*out + len, buf, n);
		(*out)[len + n] = '\0';
	}
	st = pclose(f);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128;
}

/* Whether the test's directory holds a file whose name starts with prefix
 * (outfile's temporary files are "NAME.XXXXXX"). */
static bool left_behind(const char *prefix)
{
	DIR *dir = opendir(home_dir());
	bool found = false;

	ck_assert_ptr_nonnull(dir);
	for (struct dirent *e; (e = readdir(dir)) != NULL;)
		if (strncmp(e->d_name, prefix, strlen(prefix)) == 0)
			found = true;
	closedir(dir);
	return found;
}

START_TEST(export_xlsx)
{
	struct tdaemon *d = tdaemon_start(NULL);
	char *super = conf_for(tdaemon_port(d), "ta.super"), *via, *out;
	char csv[128], xlsx[128];
	const char *formats[] = { "csv", "xlsx" };
	struct proxy *p;
	struct run r;
	PGconn *db;

	assess_catch_up();
	snprintf(csv, sizeof csv, "%s/x-march.csv", home_dir());
	snprintf(xlsx, sizeof xlsx, "%s/x-march.xlsx", home_dir());
	unlink(csv);
	unlink(xlsx);
	r = ctl_run(super, "export", "--month", "2025-03", "-o", csv, NULL);
	ck_assert_run(r, 0);
	run_free(&r);
	r = ctl_run(super, "export", "--month", "2025-03", "--format", "xlsx", "-o", xlsx, NULL);
	ck_assert_run(r, 0);
	ck_assert_msg(strstr(r.err, "9 tickets written to") != NULL, "%s", r.err);
	run_free(&r);
	/* the same cells as the CSV: times as dates, numbers, booleans, Chinese */
	ck_assert_msg(xlsx_cells(xlsx, csv, &out) == 0, "%s", out);
	ck_assert_msg(strstr(out, "ok 10 rows 43 columns") != NULL, "%s", out);
	free(out);
	ck_assert(!left_behind("x-march.xlsx."));
	/* an existing file is kept without --force */
	r = ctl_run(super, "export", "--month", "2025-02", "--format", "xlsx", "-o", xlsx, NULL);
	assert_error(&r, EX_CANTCREAT, "--force");
	run_free(&r);
	ck_assert_msg(xlsx_cells(xlsx, csv, &out) == 0, "%s", out);
	free(out);

	/* xlsx to standard output, with --json, an unknown format: usage errors */
	r = ctl_run(super, "export", "--month", "2025-03", "--format", "xlsx", NULL);
	ck_assert_run(r, EX_USAGE);
	ck_assert_msg(strstr(r.err, "-o FILE") != NULL && r.out[0] == '\0', "%s", r.err);
	run_free(&r);
	r = ctl_run(super, "export", "--month", "2025-03", "--format", "xlsx", "-o", "-", NULL);
	ck_assert_run(r, EX_USAGE);
	ck_assert_msg(strstr(r.err, "-o FILE") != NULL && r.out[0] == '\0', "%s", r.err);
	run_free(&r);
	r = ctl_run(super, "--json", "export", "--month", "2025-03", "--format", "xlsx", "-o", xlsx,
	            "--force", NULL);
	ck_assert_run(r, EX_USAGE);
	run_free(&r);
	r = ctl_run(super, "export", "--month", "2025-03", "--format", "ods", NULL);
	ck_assert_run(r, EX_USAGE);
	ck_assert_msg(strstr(r.err, "csv or xlsx") != NULL, "%s", r.err);
	run_free(&r);
	/* where nothing can be written: a missing directory, a directory */
	r = ctl_run(super, "export", "--month", "2025-03", "--format", "xlsx", "-o",
	            "/nonexistent/dir/t.xlsx", NULL);
	assert_error(&r, EX_CANTCREAT, "/nonexistent/dir/t.xlsx");
	run_free(&r);
	r = ctl_run(super, "export", "--month", "2025-03", "--format", "xlsx", "-o", home_dir(),
	            "--force", NULL);
	assert_error(&r, EX_CANTCREAT, "not a regular file");
	run_free(&r);

	/* the daemon gone mid-export: 4000 tickets of June 2019 take several
	 * pages (over 600 kB of compact rows); the proxy passes 300 kB and cuts
	 * the page it is in, and takes no connection after (streetctl retries
	 * reads): no file, no temporary.  Inserted without events, so their
	 * export rows are built here as the follower would build them. */
	db = tdb_connect(true);
	tdb_int(db,
	        "WITH t AS (SELECT * FROM street.ticket ORDER BY id LIMIT 1) "
	        "INSERT INTO street.ticket (state, category_id, urgent, grid_id, street_id, "
	        "district_id, description, reporter_id, created_at, updated_at, closed_at, "
	        "close_kind) SELECT 'cancelled', t.category_id, false, t.grid_id, t.street_id, "
	        "t.district_id, 'export cut ' || i, t.reporter_id, "
	        "'2019-06-10 09:00+08'::timestamptz + i * interval '1 minute', "
	        "'2019-06-10 09:00+08'::timestamptz + i * interval '1 minute', "
	        "'2019-06-20 09:00+08', 'cancelled' FROM t, generate_series(1, 4000) i",
	        0, NULL);
	tdb_int(db,
	        "SELECT 1 FROM street.st_export_refresh(ARRAY(SELECT id FROM street.ticket "
	        "WHERE description LIKE 'export cut %'))",
	        0, NULL);
	p = proxy_start(tdaemon_port(d));
	via = conf_for(p->port, "ta.super");
	snprintf(csv, sizeof csv, "%s/x-june.csv", home_dir());
	unlink(csv);
	r = ctl_run(via, "export", "--month", "2019-06", "-o", csv, NULL);
	ck_assert_run(r, 0);
	ck_assert_msg(strstr(r.err, "4000 tickets written") != NULL, "%s", r.err);
	run_free(&r);
	ck_assert_msg(p->sent > 600000, "the export is %lld bytes", p->sent);
	/* read in windows of ids asked ahead (clients/export_pager.c): each
	 * ticket once, in id order */
	{
		size_t len;
		char *text = read_all(csv, &len), *line;
		long long last = 0;
		int n = 0;

		ck_assert_ptr_nonnull(text);
		line = strstr(text, "\r\n"); /* past the header */
		while (line != NULL && line[2] != '\0') {
			long long id = strtoll(line + 2, NULL, 10);

			ck_assert_int_gt(id, last);
			last = id;
			n++;
			line = strstr(line + 2, "\r\n");
		}
		ck_assert_int_eq(n, 4000);
		free(text);
	}
	for (int i = 0; i < 2; i++) {
		char path[128], prefix[32];

		snprintf(prefix, sizeof prefix, "x-cut.%s", formats[i]);
		snprintf(path, sizeof path, "%s/%s", home_dir(), prefix);
		p->budget = 300000;
		p->target = tdaemon_port(d);
		r = ctl_run(via, "export", "--month", "2019-06", "--format", formats[i], "-o", path,
		            NULL);
		ck_assert_msg(r.status == EX_IOERR || r.status == EX_UNAVAILABLE, "exit %d: %s",
		              r.status, r.err);
		run_free(&r);
		ck_assert_int_eq(p->target, 0); /* it was cut, not finished */
		ck_assert_int_ne(access(path, F_OK), 0);
		ck_assert(!left_behind(prefix));
	}
	proxy_stop(p);
	tdb_int(db, "DELETE FROM street.ticket WHERE description LIKE 'export cut %'", 0, NULL);
	tdb_int(db,
	        "DELETE FROM street.assess_export x WHERE NOT EXISTS "
	        "(SELECT FROM street.ticket t WHERE t.id = x.ticket_id)",
	        0, NULL);
	PQfinish(db);

	free(via);
	free(super);
	tdaemon_stop(d, SIGTERM);
}
END_TEST

/* ---- export: the scanner's CSV against json-c's ---- */

/* A CSV export of period into a file named name, the scanner's way or (tree)
 * json-c's (STREETCTL_EXPORT_TREE=1); the file's bytes (the caller frees). */
static char *export_csv(const char *conf, const char *from, const char *to, const char *name,
                        bool tree, size_t *len)
{
	char path[160];
	struct run r;
	char *csv;

	snprintf(path, sizeof path, "%s/%s", home_dir(), name);
	unlink(path);
	if (tree)
		setenv("STREETCTL_EXPORT_TREE", "1", 1); /* the child inherits it */
	r = ctl_run(conf, "export", "--from", from, "--to", to, "-o", path, NULL);
	unsetenv("STREETCTL_EXPORT_TREE");
	ck_assert_run(r, 0);
	run_free(&r);
	csv = read_all(path, len);
	ck_assert_ptr_nonnull(csv);
	return csv;
}

/* Both ways give the same bytes for the period. */
static void assert_same_csv(const char *conf, const char *from, const char *to, int records)
{
	size_t n1, n2;
	char *a = export_csv(conf, from, to, "scan.csv", false, &n1);
	char *b = export_csv(conf, from, to, "tree.csv", true, &n2);

	ck_assert_int_ge(count_of(a, "\r\n"), records + 1);
	ck_assert_msg(n1 == n2 && memcmp(a, b, n1) == 0, "scanner:\n%s\njson-c:\n%s", a, b);
	free(a);
	free(b);
}

START_TEST(export_scan_same)
{
	struct tdaemon *d = tdaemon_start(NULL);
	char *super = conf_for(tdaemon_port(d), "ta.super");
	char path[128];
	struct run r;
	PGconn *db;
	static const struct {
		const char *row, *says; /* a broken row_json, what streetctl says of it */
	} broken[] = {
		{ "[1, \"closed\"]", "cells, not" },
		{ "[1, {\"a\": 1}]", "not a single value" },
		{ "[1, \"\\u0000\"]", "\\u0000 is not allowed" },
		{ "[1, \"\\ud800\"]", "not valid JSON" },
	};

	assess_catch_up();
	/* the fixture's month: steps returned and reopened, names, nulls */
	assert_same_csv(super, "2025-01-01", "2025-06-01", 9);

	/* three tickets of January 2018 whose rows hold every kind of escape,
	 * quotes, commas and line ends (as a unit's or actor's text could) */
	db = tdb_connect(true);
	tdb_int(db,
	        "WITH t AS (SELECT * FROM street.ticket ORDER BY id LIMIT 1) "
	        "INSERT INTO street.ticket (state, category_id, urgent, grid_id, street_id, "
	        "district_id, description, reporter_id, created_at, updated_at, closed_at, "
	        "close_kind) SELECT 'cancelled', t.category_id, false, t.grid_id, t.street_id, "
	        "t.district_id, 'export scan ' || i, t.reporter_id, "
	        "'2018-01-10 09:00+08'::timestamptz + i * interval '1 minute', "
	        "'2018-01-10 09:00+08'::timestamptz + i * interval '1 minute', "
	        "'2018-01-20 09:00+08', 'cancelled' FROM t, generate_series(1, 3) i",
	        0, NULL);
	tdb_int(db,
	        "SELECT 1 FROM street.st_export_refresh(ARRAY(SELECT id FROM street.ticket "
	        "WHERE description LIKE 'export scan %'))",
	        0, NULL);
	tdb_int(db,
	        "UPDATE street.assess_export x SET row_json = replace(x.row_json::text, "
	        "'\"cancelled\"', '\"can\\\"cel, \\\\ \\/\\u00e9\\u4E2D\\ud83d\\ude00\\r\\n"
	        "\\t\\b\\f end\"')::json FROM street.ticket t WHERE t.id = x.ticket_id "
	        "AND t.description = 'export scan 2'",
	        0, NULL);
	/* a comma in a string with no escape (its text taken as it is: only a
	 * comma can make it need quotes) */
	tdb_int(db,
	        "UPDATE street.assess_export x SET row_json = replace(x.row_json::text, "
	        "'\"cancelled\"', '\"plain, comma\"')::json FROM street.ticket t "
	        "WHERE t.id = x.ticket_id AND t.description = 'export scan 1'",
	        0, NULL);
	assert_same_csv(super, "2018-01-01", "2018-02-01", 3);
	{
		size_t n;
		char *csv = export_csv(super, "2018-01-01", "2018-02-01", "scan.csv", false, &n);

		ck_assert_msg(
		        strstr(csv, ",\"can\"\"cel, \\ /é中\xf0\x9f\x98\x80\r\n\t\b\f end\",") !=
		                NULL,
		        "%s", csv);
		ck_assert_msg(strstr(csv, ",\"plain, comma\",") != NULL, "%s", csv);
		free(csv);
	}

	/* a broken row: a clear error, no file */
	snprintf(path, sizeof path, "%s/broken.csv", home_dir());
	for (size_t i = 0; i < sizeof broken / sizeof broken[0]; i++) {
		const char *params[] = { broken[i].row };

		tdb_int(db,
		        "UPDATE street.assess_export x SET row_json = $1::json "
		        "FROM street.ticket t WHERE t.id = x.ticket_id "
		        "AND t.description = 'export scan 3'",
		        1, params);
		unlink(path);
		r = ctl_run(super, "export", "--from", "2018-01-01", "--to", "2018-02-01", "-o",
		            path, NULL);
		assert_error(&r, EX_PROTOCOL, broken[i].says);
		run_free(&r);
		ck_assert_int_ne(access(path, F_OK), 0);
		ck_assert(!left_behind("broken.csv"));
	}

	tdb_int(db, "DELETE FROM street.ticket WHERE description LIKE 'export scan %'", 0, NULL);
	tdb_int(db,
	        "DELETE FROM street.assess_export x WHERE NOT EXISTS "
	        "(SELECT FROM street.ticket t WHERE t.id = x.ticket_id)",
	        0, NULL);
	PQfinish(db);
	free(super);
	tdaemon_stop(d, SIGTERM);
}
END_TEST

/* A running "streetctl --json watch" whose stdout the test reads line by line. */
struct watcher {
	pid_t pid;
	int out, err;
	char buf[65536];
	size_t len;
	long long last_seq;
};

/* Starts watch as conf: --json unless human, with "opt value" when opt is not NULL. */
static struct watcher *watch_start_as(const char *conf, bool human, const char *opt,
                                      const char *value)
{
	struct watcher *w = calloc(1, sizeof(*w));
	int po[2], pe[2], n = 0;
	char *argv[6];

	argv[n++] = strdup("streetctl");
	if (!human)
		argv[n++] = strdup("--json");
	argv[n++] = strdup("watch");
	if (opt != NULL) {
		argv[n++] = strdup(opt);
		argv[n++] = strdup(value);
	}
	argv[n] = NULL;

	ck_assert_ptr_nonnull(w);
	ck_assert_int_eq(pipe(po), 0);
	ck_assert_int_eq(pipe(pe), 0);
	fflush(NULL);
	w->pid = fork();
	ck_assert_int_ge(w->pid, 0);
	if (w->pid == 0) {
		dup2(po[1], 1);
		dup2(pe[1], 2);
		close(po[0]);
		close(pe[0]);
		close(po[1]);
		close(pe[1]);
		exec_ctl(conf, argv);
	}
	for (int i = 0; argv[i] != NULL; i++)
		free(argv[i]);
	close(po[1]);
	close(pe[1]);
	w->out = po[0];
	w->err = pe[0];
	fcntl(w->err, F_SETFL, O_NONBLOCK);
	return w;
}

static struct watcher *watch_start(const char *conf, const char *keepalive)
{
	return watch_start_as(conf, false, keepalive ? "--keepalive" : NULL, keepalive);
}

/* A human watch's output until it holds needle (or timeout_ms passed); static buffer. */
static const char *watch_text_until(struct watcher *w, const char *needle, int timeout_ms)
{
	long long deadline = tnow_ms() + timeout_ms;

	w->buf[w->len] = '\0';
	while (strstr(w->buf, needle) == NULL && tnow_ms() < deadline &&
	       w->len + 1 < sizeof(w->buf)) {
		struct pollfd p = { w->out, POLLIN, 0 };
		ssize_t n;

		if (poll(&p, 1, (int)(deadline - tnow_ms())) <= 0)
			break;
		n = read(w->out, w->buf + w->len, sizeof(w->buf) - 1 - w->len);
		if (n <= 0)
			break;
		w->len += (size_t)n;
		w->buf[w->len] = '\0';
	}
	return w->buf;
}

/* The next line of watch's stdout as JSON (caller puts); NULL after timeout_ms. */
static json_object *watch_line(struct watcher *w, int timeout_ms)
{
	long long deadline = tnow_ms() + timeout_ms;

	for (;;) {
		char *nl = memchr(w->buf, '\n', w->len);
		struct pollfd p = { w->out, POLLIN, 0 };
		ssize_t n;

		if (nl != NULL) {
			json_object *o;

			*nl = '\0';
			o = parse_json(w->buf);
			w->len -= (size_t)(nl + 1 - w->buf);
			memmove(w->buf, nl + 1, w->len);
			return o;
		}
		if (tnow_ms() >= deadline || poll(&p, 1, (int)(deadline - tnow_ms())) <= 0)
			return NULL;
		n = read(w->out, w->buf + w->len, sizeof(w->buf) - w->len);
		if (n <= 0)
			return NULL;
		w->len += (size_t)n;
	}
}

/* Reads events until one of ticket with action; checks seqs only ever grow. */
static void watch_expect(struct watcher *w, long long ticket, const char *action)
{
	long long deadline = tnow_ms() + 30000;

	while (tnow_ms() < deadline) {
		json_object *o = watch_line(w, (int)(deadline - tnow_ms()));
		long long seq;
		bool hit;

		ck_assert_msg(o != NULL, "watch printed no %s event for ticket %lld", action,
		              ticket);
		seq = tj_int(o, "event.seq");
		ck_assert_msg(seq > w->last_seq, "seq %lld after %lld: repeated or out of order",
		              seq, w->last_seq);
		w->last_seq = seq;
		hit = tj_int(o, "event.ticket_id") == ticket &&
		      strcmp(tj_str(o, "event.action"), action) == 0;
		json_object_put(o);
		if (hit)
			return;
	}
	ck_abort_msg("timed out waiting for %s of ticket %lld", action, ticket);
}

/* What watch wrote to stderr so far. */
static const char *watch_stderr(struct watcher *w)
{
	static char err[8192];
	static size_t len;
	ssize_t n;

	while (len + 1 < sizeof(err) && (n = read(w->err, err + len, sizeof(err) - 1 - len)) > 0)
		len += (size_t)n;
	err[len] = '\0';
	return err;
}

/* Ctrl-C: watch exits 0. */
static void watch_interrupt(struct watcher *w)
{
	long long deadline = tnow_ms() + 10000;
	int ws = 0;
	pid_t r = 0;

	kill(w->pid, SIGINT);
	while (tnow_ms() < deadline && (r = waitpid(w->pid, &ws, WNOHANG)) == 0)
		usleep(20000);
	if (r == 0)
		kill(w->pid, SIGKILL);
	ck_assert_msg(r == w->pid, "watch did not stop on SIGINT");
	ck_assert_msg(WIFEXITED(ws) && WEXITSTATUS(ws) == 0, "watch ended with status %d: %s", ws,
	              watch_stderr(w));
	close(w->out);
	close(w->err);
	free(w);
}

/* Waits until watch has saved a seq file (it is subscribed then). */
static void wait_subscribed(void)
{
	char dir[128];
	long long deadline = tnow_ms() + 15000;

	snprintf(dir, sizeof(dir), "%s/state/streetctl", home_dir());
	while (tnow_ms() < deadline) {
		DIR *dp = opendir(dir);
		struct dirent *de;
		bool found = false;

		while (dp != NULL && (de = readdir(dp)) != NULL) {
			size_t n = strlen(de->d_name);

			if (strncmp(de->d_name, "watch-", 6) == 0 && n > 4 &&
			    strcmp(de->d_name + n - 4, ".seq") == 0)
				found = true;
		}
		if (dp != NULL)
			closedir(dp);
		if (found)
			return;
		usleep(50000);
	}
	ck_abort_msg("watch never subscribed");
}

START_TEST(watch_resumes_without_loss)
{
	struct tdaemon *d = tdaemon_start(NULL);
	struct proxy *p = proxy_start(tdaemon_port(d));
	char *watcher_conf = conf_for(p->port, "zhang.wei");
	char *wang = conf_for(tdaemon_port(d), "wang.fang");
	char *zhang, ids[24];
	struct watcher *w = watch_start(watcher_conf, NULL);
	long long t1, t2, t3;
	struct run r;

	wait_subscribed();
	t1 = report(wang, "jg-yanan-02", "pollution.dust", "ctl watch live");
	watch_expect(w, t1, "report");

	/* the connection is cut: what happens meanwhile still arrives, once */
	p->cut = 1;
	t2 = report(wang, "jg-yanan-02", "pollution.dust", "ctl watch after cut");
	watch_expect(w, t2, "report");

	/* the daemon restarts: nothing is there for a while, then a new one */
	p->target = 0;
	p->cut = 1;
	tdaemon_stop(d, SIGTERM);
	free(wang);
	d = tdaemon_start(NULL);
	wang = conf_for(tdaemon_port(d), "wang.fang");
	zhang = conf_for(tdaemon_port(d), "zhang.wei");
	t3 = report(wang, "jg-yanan-01", "pollution.noise", "ctl watch while down");
	snprintf(ids, sizeof(ids), "%lld", t3);
	r = ctl_run(zhang, "dispatch", ids, NULL);
	ck_assert_run(r, 0);
	run_free(&r);
	p->target = tdaemon_port(d);
	watch_expect(w, t3, "report");
	watch_expect(w, t3, "dispatch");
	ck_assert_msg(strstr(watch_stderr(w), "reconnecting") != NULL, "%s", watch_stderr(w));

	watch_interrupt(w);
	proxy_stop(p);
	free(watcher_conf);
	free(wang);
	free(zhang);
	tdaemon_stop(d, SIGTERM);
	home_cleanup();
}
END_TEST

START_TEST(watch_keeps_an_idle_connection)
{
	struct tdaemon *d = tdaemon_start("limits.idle_timeout=2s");
	char *zhang = conf_for(tdaemon_port(d), "zhang.wei");
	char *wang = conf_for(tdaemon_port(d), "wang.fang");
	struct watcher *w = watch_start(zhang, "1");
	long long t;

	wait_subscribed();
	usleep(5000000); /* well past the idle timeout */
	t = report(wang, "jg-yanan-02", "pollution.dust", "ctl watch keepalive");
	watch_expect(w, t, "report");
	ck_assert_msg(strstr(watch_stderr(w), "reconnecting") == NULL,
	              "the idle timeout closed the watch: %s", watch_stderr(w));
	watch_interrupt(w);
	free(zhang);
	free(wang);
	tdaemon_stop(d, SIGTERM);
	home_cleanup();
}
END_TEST

/* ---- text from other people cannot drive the terminal ---- */

/* OSC title + BEL, clear screen, CR, C1 CSI (U+009B), DEL, a bidi override. */
#define HOSTILE                                                                                    \
	"a\x1b]0;pwned\x07 b\x1b[2J c\rd \xc2\x9b"                                                 \
	"31m e\x7f f\xe2\x80\xae"                                                                  \
	"g"

/* Human output holds none of the bytes a terminal would act on. */
static void assert_inert(const char *what, const char *text)
{
	static const char *const bad[] = {
		"\x1b", "\x07", "\r", "\xc2\x9b", "\x7f", "\xe2\x80\xae"
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(strstr(text, bad[i]) == NULL, "%s lets byte %02x through:\n%s", what,
		              (unsigned char)bad[i][0], text);
}

START_TEST(other_peoples_text_is_inert)
{
	struct tdaemon *d = tdaemon_start(NULL);
	char *wang = conf_for(tdaemon_port(d), "wang.fang");
	char *zhang = conf_for(tdaemon_port(d), "zhang.wei");
	char *yang = conf_for(tdaemon_port(d), "yang.min");
	char ids[24], desc[128];
	struct watcher *w;
	struct run r;
	json_object *o;
	long long id;

	/* a watch for people sees it all happen */
	w = watch_start_as(zhang, true, NULL, NULL);
	wait_subscribed();
	snprintf(desc, sizeof(desc), "hostile %lld " HOSTILE, tnow_ms());
	id = report(wang, "jg-yanan-01", "pollution.noise", desc);
	snprintf(ids, sizeof(ids), "%lld", id);
	r = ctl_run(zhang, "dispatch", ids, "--to", "sthj", "--note", "note " HOSTILE, NULL);
	ck_assert_run(r, 0);
	assert_inert("dispatch", r.out);
	run_free(&r);
	act(yang, "return", "return", ids, "--reason", "reason " HOSTILE, "--department", "cgj");
	act(zhang, "comment", "comment", ids, "comment " HOSTILE "end-of-it", NULL, NULL, NULL);

	/* show: the text is there, its control characters are not */
	r = ctl_run(zhang, "show", ids, NULL);
	ck_assert_run(r, 0);
	assert_inert("show", r.out);
	ck_assert_msg(strstr(r.out, "pwned") && strstr(r.out, "reason a") &&
	                      strstr(r.out, "end-of-it"),
	              "%s", r.out);
	ck_assert_msg(strstr(r.out, "a\xef\xbf\xbd]0;pwned\xef\xbf\xbd b") != NULL,
	              "escapes are not shown as U+FFFD:\n%s", r.out);
	run_free(&r);

	/* list: one row, still one line */
	r = ctl_run(zhang, "list", "--text", "hostile", NULL);
	ck_assert_run(r, 0);
	assert_inert("list", r.out);
	run_free(&r);

	/* --json is the server's JSON: exact strings, control characters escaped as JSON */
	r = ctl_run(zhang, "--json", "show", ids, NULL);
	ck_assert_run(r, 0);
	ck_assert_msg(strstr(r.out, "\\u001b]0;pwned\\u0007 b\\u001b[2J c\\rd") != NULL, "%s",
	              r.out);
	ck_assert_msg(strchr(r.out, '\x1b') == NULL && strchr(r.out, '\r') == NULL, "%s", r.out);
	o = parse_json(r.out);
	ck_assert_str_eq(tj_str(o, "ticket.description"), desc);
	ck_assert_str_eq(tj_str(o, "events.2.data.reason"), "reason " HOSTILE);
	ck_assert_str_eq(tj_str(o, "events.3.data.text"), "comment " HOSTILE "end-of-it");
	json_object_put(o);
	run_free(&r);

	/* watch, for people: the events are as inert */
	{
		const char *text = watch_text_until(w, "end-of-it", 30000);

		ck_assert_msg(strstr(text, "end-of-it") != NULL, "watch printed:\n%s", text);
		assert_inert("watch", text);
	}
	watch_interrupt(w);

	/* error lines quote what was typed: cleaned as well, and still one line */
	r = ctl_run(zhang, "list", "--grid", "x\x1b]0;pwned\x07\ny", NULL);
	assert_error(&r, EX_USAGE, "pwned");
	assert_inert("an error line", r.err);
	run_free(&r);

	free(wang);
	free(zhang);
	free(yang);
	tdaemon_stop(d, SIGTERM);
	home_cleanup();
}
END_TEST

/* ---- a long history: show fetches every page of get ---- */

START_TEST(show_reads_the_whole_history)
{
	struct tdaemon *d = tdaemon_start(NULL);
	char *wang = conf_for(tdaemon_port(d), "wang.fang");
	long long id = report(wang, "jg-yanan-02", "pollution.dust", "ctl long history");
	struct tclient *c = tclient_connect(d, "wang.fang");
	char ids[24], text[32];
	struct run r;
	json_object *o;
	enum { N = 130 }; /* more than one page of get */

	for (int i = 1; i <= N; i++)
		tclient_ok(c, "{\"op\":\"comment\",\"ticket\":%lld,\"text\":\"page-%03d\"}", id, i);
	tclient_close(c);
	snprintf(ids, sizeof(ids), "%lld", id);

	/* --json: one document with every event, nothing left to fetch */
	r = ctl_run(wang, "--json", "show", ids, NULL);
	ck_assert_run(r, 0);
	o = parse_json(r.out);
	ck_assert_uint_eq(tj_len(o, "events"), N + 1);
	ck_assert_str_eq(tj_str(o, "events.0.action"), "report");
	ck_assert_str_eq(tj_str(o, "events.130.data.text"), "page-130");
	ck_assert(tj_get(o, "next") == NULL);
	/* no event twice, none missing at a page's seam */
	for (int i = 1; i <= N; i++) {
		json_object *ev = json_object_object_get(o, "events");
		json_object *a = json_object_array_get_idx(ev, (size_t)i - 1);
		json_object *b = json_object_array_get_idx(ev, (size_t)i);

		ck_assert_int_lt(tj_int(a, "seq"), tj_int(b, "seq"));
		snprintf(text, sizeof(text), "page-%03d", i);
		ck_assert_str_eq(tj_str(b, "data.text"), text);
	}
	json_object_put(o);
	run_free(&r);

	/* for people: every comment, in order */
	r = ctl_run(wang, "show", ids, NULL);
	ck_assert_run(r, 0);
	{
		const char *at = r.out;

		for (int i = 1; i <= N; i++) {
			const char *hit;

			snprintf(text, sizeof(text), "page-%03d", i);
			hit = strstr(at, text);
			ck_assert_msg(hit != NULL, "%s missing or out of order", text);
			at = hit;
		}
	}
	run_free(&r);

	free(wang);
	tdaemon_stop(d, SIGTERM);
	home_cleanup();
}
END_TEST

/* ---- list marks urgent and overdue tickets in text, not only in colour ---- */

/* The line of text that holds needle, copied into buf. */
static const char *line_of(const char *text, const char *needle, char *buf, size_t cap)
{
	const char *hit = strstr(text, needle), *start, *end;

	ck_assert_msg(hit != NULL, "'%s' not in:\n%s", needle, text);
	for (start = hit; start > text && start[-1] != '\n'; start--)
		;
	end = strchr(hit, '\n');
	snprintf(buf, cap, "%.*s", (int)(end != NULL ? end - start : (long)strlen(start)), start);
	return buf;
}

START_TEST(list_marks_urgent_and_overdue)
{
	struct tdaemon *d = tdaemon_start(NULL);
	char *wang = conf_for(tdaemon_port(d), "wang.fang");
	char tag[64], urgent[96], plain[96], line[1024];
	long long deadline;
	struct run r;
	bool late = false;

	snprintf(tag, sizeof(tag), "ctl flags %lld", tnow_ms());
	snprintf(urgent, sizeof(urgent), "%s urgent", tag);
	snprintf(plain, sizeof(plain), "%s plain", tag);
	report(wang, "jg-yanan-02", "t-tiny", urgent); /* urgent, deadlines of 1 s */
	report(wang, "jg-yanan-02", "pollution.dust", plain);
	/* the server, not a clock here, says when the urgent one is overdue */
	deadline = tnow_ms() + 15000;
	while (!late && tnow_ms() < deadline) {
		json_object *o;

		r = ctl_run(wang, "--json", "list", "--overdue", "--text", tag, NULL);
		ck_assert_run(r, 0);
		o = parse_json(r.out);
		late = tj_len(o, "tickets") == 1;
		json_object_put(o);
		run_free(&r);
		if (!late)
			usleep(200000);
	}
	ck_assert_msg(late, "the t-tiny ticket never became overdue");

	/* in a pipe with NO_COLOR: the FLAG column says it */
	r = ctl_run(wang, "list", "--text", tag, NULL);
	ck_assert_run(r, 0);
	ck_assert_msg(column_of(r.out, "ID", "FLAG") > 0, "%s", r.out);
	ck_assert_msg(column_of(r.out, urgent, "!⏰") == column_of(r.out, "ID", "FLAG"), "%s",
	              r.out);
	line_of(r.out, plain, line, sizeof(line));
	ck_assert_msg(strchr(line, '!') == NULL && strstr(line, "⏰") == NULL, "%s", line);
	run_free(&r);
	r = ctl_run(wang, "overdue", NULL);
	ck_assert_run(r, 0);
	ck_assert_msg(column_of(r.out, urgent, "!⏰") == column_of(r.out, "ID", "FLAG"), "%s",
	              r.out);
	run_free(&r);
	r = ctl_run(wang, "list", "--help", NULL);
	ck_assert_run(r, 0);
	ck_assert_msg(strstr(r.out, "! urgent") && strstr(r.out, "⏰ overdue"), "%s", r.out);
	run_free(&r);

	free(wang);
	tdaemon_stop(d, SIGTERM);
	home_cleanup();
}
END_TEST

/* ---- scores (考核赋分) ---- */

/* "YYYY-MM-DD" of today + off in Asia/Shanghai (malloc'd). */
static char *sh_day(int off)
{
	PGconn *db = tdb_connect(false);
	const char *p[] = { tdb_fmt("%d", off) };
	char *s = tdb_str(db,
	                  "SELECT to_char((now() AT TIME ZONE INTERVAL '+08:00')::date + $1::int,"
	                  " 'YYYY-MM-DD')",
	                  1, p);

	PQfinish(db);
	return s;
}

START_TEST(scores_and_lock)
{
	struct tdaemon *d = tdaemon_start(NULL);
	char *wang = conf_for(tdaemon_port(d), "wang.fang");
	char *zhang = conf_for(tdaemon_port(d), "zhang.wei");
	char *chen = conf_for(tdaemon_port(d), "chen.jing");
	char *ma = conf_for(tdaemon_port(d), "ma.jun");
	char *sun = conf_for(tdaemon_port(d), "sun.li");
	/* a period of this test's own, holding the dispatch below */
	char *from = sh_day(-40), *to = sh_day(1);
	const char *crit[][2] = { { "response", "92.35" },
		                  { "cooperation", "80" },
		                  { "delivery", "90" },
		                  { "attitude", "70" } };
	char ids[24];
	struct run r;
	json_object *o;

	snprintf(ids, sizeof(ids), "%lld",
	         report(wang, "jg-yanan-02", "pollution.dust", "ctl scores: a dispatch"));
	r = ctl_run(zhang, "dispatch", ids, "--to", "cgj", NULL);
	ck_assert_run(r, 0);
	run_free(&r);

	r = ctl_run(wang, "criteria", NULL);
	ck_assert_run(r, 0);
	ck_assert_msg(strstr(r.out, "响应速度") && strstr(r.out, "30%"), "%s", r.out);
	run_free(&r);

	/* a street scores: set, the same again (unchanged), each criterion */
	r = ctl_run(zhang, "score", "set", "--from", from, "--to", to, "--department", "cgj",
	            "--criterion", "response", "92.35", "--comment", "接单很快", NULL);
	ck_assert_run(r, 0);
	ck_assert_msg(strstr(r.out, "scored") && strstr(r.out, "92.35"), "%s", r.out);
	run_free(&r);
	r = ctl_run(zhang, "score", "set", "--from", from, "--to", to, "--department", "cgj",
	            "--criterion", "response", "92.35", "--comment", "接单很快", NULL);
	ck_assert_run(r, 0);
	ck_assert_msg(strstr(r.out, "unchanged"), "%s", r.out);
	run_free(&r);
	for (size_t i = 1; i < 4; i++) {
		r = ctl_run(zhang, "--json", "score", "set", "--from", from, "--to", to,
		            "--department", "cgj", "--criterion", crit[i][0], crit[i][1], NULL);
		ck_assert_run(r, 0);
		o = parse_json(r.out);
		ck_assert(tj_bool(o, "changed"));
		json_object_put(o);
		run_free(&r);
	}

	/* the table: a column per criterion, right-aligned under its CJK header,
	 * and the weighted score 92.35×.25 + 80×.25 + 90×.3 + 70×.2 = 84.09 */
	r = ctl_run(zhang, "score", "get", "--from", from, "--to", to, NULL);
	ck_assert_run(r, 0);
	ck_assert_msg(strstr(r.out, "open") && strstr(r.out, "84.09") &&
	                      strstr(r.out, "响应速度: 接单很快"),
	              "%s", r.out);
	ck_assert_int_eq(column_of(r.out, "STREET", "响应速度") + 8,
	                 column_of(r.out, "城市管理局", "92.35") + 5);
	run_free(&r);
	r = ctl_run(chen, "--json", "score", "get", "--from", from, "--to", to, NULL);
	ck_assert_run(r, 0);
	o = parse_json(r.out);
	ck_assert_uint_eq(tj_len(o, "scores"), 4);
	ck_assert(tj_is_null(o, "locked"));
	json_object_put(o);
	run_free(&r);

	/* refusals and their exit codes */
	r = ctl_run(zhang, "score", "set", "--from", from, "--to", to, "--department", "cgj",
	            "--criterion", "speed", "90", NULL);
	assert_error(&r, EX_DATAERR, "not a criterion");
	run_free(&r);
	r = ctl_run(zhang, "score", "set", "--from", from, "--to", to, "--department", "cgj",
	            "--criterion", "response", "101", NULL);
	assert_error(&r, EX_USAGE, "0 to 100");
	run_free(&r);
	r = ctl_run(chen, "score", "set", "--from", from, "--to", to, "--department", "cgj",
	            "--criterion", "response", "90", NULL);
	assert_error(&r, EX_NOPERM, "street");
	run_free(&r);
	r = ctl_run(zhang, "score", "set", "--department", "cgj", "--criterion", "response", "90",
	            NULL);
	assert_error(&r, EX_USAGE, "period");
	run_free(&r);
	r = ctl_run(zhang, "score", "get", "--month", "2026-13", NULL);
	assert_error(&r, EX_USAGE, "--month");
	run_free(&r);
	r = ctl_run(zhang, "score", "frob", NULL);
	assert_error(&r, EX_USAGE, "score get or score set");
	run_free(&r);
	r = ctl_run(wang, "score", "get", "--month", "2026-11", NULL);
	assert_error(&r, EX_NOPERM, NULL);
	run_free(&r);

	/* locks: a city-wide supervisor only, once */
	r = ctl_run(ma, "lock", "--month", "2021-03", NULL);
	ck_assert_run(r, 0);
	ck_assert_msg(strstr(r.out, "2021-03-01 – 2021-03-31") && strstr(r.out, "0 scores"), "%s",
	              r.out);
	run_free(&r);
	r = ctl_run(ma, "lock", "--month", "2021-03", NULL);
	assert_error(&r, EX_TEMPFAIL, "already locked");
	run_free(&r);
	r = ctl_run(sun, "lock", "--quarter", "2021-Q1", NULL);
	assert_error(&r, EX_NOPERM, "city-wide");
	run_free(&r);
	r = ctl_run(ma, "--json", "lock", "--from", from, "--to", to, NULL);
	ck_assert_run(r, 0);
	o = parse_json(r.out);
	ck_assert_int_eq(tj_int(o, "scores"), 4);
	json_object_put(o);
	run_free(&r);
	r = ctl_run(zhang, "score", "set", "--from", from, "--to", to, "--department", "cgj",
	            "--criterion", "response", "10", NULL);
	assert_error(&r, EX_TEMPFAIL, "locked");
	run_free(&r);
	r = ctl_run(zhang, "score", "get", "--from", from, "--to", to, NULL);
	ck_assert_run(r, 0);
	ck_assert_msg(strstr(r.out, "locked by 马军") && strstr(r.out, "92.35"), "%s", r.out);
	run_free(&r);

	free(from);
	free(to);
	free(wang);
	free(zhang);
	free(chen);
	free(ma);
	free(sun);
	tdaemon_stop(d, SIGTERM);
	home_cleanup();
}
END_TEST

int main(void)
{
	Suite *s = suite_create("streetctl");
	TCase *tc = tcase_create("streetctl");

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, loop_as_each_role);
	tcase_add_test(tc, json_and_reference_data);
	tcase_add_test(tc, stats_and_ranking);
	tcase_add_test(tc, export_and_bulletin);
	tcase_add_test(tc, export_xlsx);
	tcase_add_test(tc, export_scan_same);
	tcase_add_test(tc, photos_and_idempotency);
	tcase_add_test(tc, return_arbitrate_extend_urge_reopen_cancel);
	tcase_add_test(tc, return_names_and_ruling_sends);
	tcase_add_test(tc, error_paths);
	tcase_add_test(tc, help_and_usage);
	tcase_add_test(tc, watch_resumes_without_loss);
	tcase_add_test(tc, watch_keeps_an_idle_connection);
	tcase_add_test(tc, other_peoples_text_is_inert);
	tcase_add_test(tc, show_reads_the_whole_history);
	tcase_add_test(tc, list_marks_urgent_and_overdue);
	tcase_add_test(tc, scores_and_lock);
	suite_add_tcase(s, tc);
	return tdaemon_run_suite(s);
}
