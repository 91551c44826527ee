/*
 * tdaemon: see tdaemon.h.  Blocking on purpose: a test is one client at a time
 * and may wait; every wait has a deadline.
 */
#include "tdaemon.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define START_TIMEOUT_MS 15000
#define STOP_TIMEOUT_MS  15000
#define CALL_TIMEOUT_MS  10000
#define SEND_TIMEOUT_MS  10000

struct tdaemon {
	pid_t pid;  /* 0 before launch */
	int status; /* tdaemon_stop()'s encoding once exited, -1 before */
	int port;
	char dir[512];
	char conf[600];
	char log[600];
	char *logbuf;
	char *overrides;
};

/* ---- small helpers ---- */

long long tnow_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

static const char *env_or_die(const char *name)
{
	const char *v = getenv(name);

	ck_assert_msg(v != NULL && *v != '\0', "%s is not set: run the tests through scripts/test",
	              name);
	return v;
}

static void ignore_sigpipe(void)
{
	static bool done;

	if (!done) {
		signal(SIGPIPE, SIG_IGN);
		done = true;
	}
}

static char *read_file(const char *path, size_t *len_out)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	size_t len = 0, cap = 0;

	if (f != NULL) {
		for (;;) {
			size_t n;

			if (cap - len < 4096) {
				cap = cap ? cap * 2 : 8192;
				buf = realloc(buf, cap + 1);
				if (buf == NULL)
					abort(); /* no ck_assert: also used outside tests */
			}
			n = fread(buf + len, 1, cap - len, f);
			len += n;
			if (n == 0)
				break;
		}
		fclose(f);
	}
	if (buf == NULL) {
		buf = malloc(1);
		if (buf == NULL)
			abort();
	}
	buf[len] = '\0';
	if (len_out)
		*len_out = len;
	return buf;
}

static void write_text(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	ck_assert_msg(f != NULL, "cannot write %s: %s", path, strerror(errno));
	fputs(text, f);
	ck_assert_int_eq(fclose(f), 0);
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	remove(path);
	return 0;
}

static void rm_rf(const char *path)
{
	nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static int encode_status(int wstatus)
{
	if (WIFEXITED(wstatus))
		return WEXITSTATUS(wstatus);
	if (WIFSIGNALED(wstatus))
		return 128 + WTERMSIG(wstatus);
	return 255;
}

/* The per-run base directory (set by tdaemon_run_suite, else made on first use). */
static const char *base_dir(void)
{
	static char made[64];
	const char *b = getenv("TDAEMON_BASE");

	if (b != NULL && *b != '\0')
		return b;
	if (made[0] == '\0') {
		snprintf(made, sizeof(made), "/tmp/tdaemon.XXXXXX");
		ck_assert_msg(mkdtemp(made) != NULL, "mkdtemp: %s", strerror(errno));
		setenv("TDAEMON_BASE", made, 1);
	}
	return made;
}

int tdaemon_free_port(void)
{
	struct sockaddr_in sa = { 0 };
	socklen_t len = sizeof(sa);
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	int port;

	ck_assert_int_ge(fd, 0);
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sa.sin_port = 0;
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
	port = ntohs(sa.sin_port);
	close(fd);
	return port;
}

static int next_rcvbuf, next_port;

void tclient_set_rcvbuf(int bytes)
{
	next_rcvbuf = bytes;
}

void tclient_set_port(int port)
{
	next_port = port;
}

static int tcp_connect_port(int port, int rcvbuf)
{
	struct sockaddr_in sa = { 0 };
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -1;
	if (rcvbuf > 0)
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sa.sin_port = htons((uint16_t)port);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/* ---- the config file ---- */

struct kv {
	char section[64];
	char key[64];
	char value[1024];
};

static void kv_set(struct kv *t, size_t *n, size_t cap, const char *section, const char *key,
                   const char *value)
{
	size_t i;

	for (i = 0; i < *n; i++) {
		if (strcmp(t[i].section, section) == 0 && strcmp(t[i].key, key) == 0)
			break;
	}
	if (i == *n) {
		ck_assert_msg(*n < cap, "too many config keys");
		(*n)++;
	}
	snprintf(t[i].section, sizeof(t[i].section), "%s", section);
	snprintf(t[i].key, sizeof(t[i].key), "%s", key);
	snprintf(t[i].value, sizeof(t[i].value), "%s", value);
}

static void quote_into(char *out, size_t cap, const char *s)
{
	size_t o = 0;

	out[o++] = '"';
	for (; *s && o + 3 < cap; s++) {
		if (*s == '"' || *s == '\\')
			out[o++] = '\\';
		out[o++] = *s;
	}
	out[o++] = '"';
	out[o] = '\0';
}

static void write_config(struct tdaemon *d)
{
	struct kv t[64];
	size_t n = 0;
	char buf[1024];
	const char *tls = env_or_die("STREETD_TEST_TLS_DIR");
	FILE *f;

	snprintf(buf, sizeof(buf), "127.0.0.1:%d", d->port);
	kv_set(t, &n, 64, "server", "listen", buf);
	snprintf(buf, sizeof(buf), "%s/server.crt", tls);
	kv_set(t, &n, 64, "tls", "cert", buf);
	snprintf(buf, sizeof(buf), "%s/server.key", tls);
	kv_set(t, &n, 64, "tls", "key", buf);
	snprintf(buf, sizeof(buf), "%s/ca.crt", tls);
	kv_set(t, &n, 64, "tls", "ca", buf);
	quote_into(buf, sizeof(buf), env_or_die("STREETD_TEST_DB"));
	kv_set(t, &n, 64, "database", "conninfo", buf);
	kv_set(t, &n, 64, "database", "pool_size", "2");
	kv_set(t, &n, 64, "sweeper", "enabled", "false");
	kv_set(t, &n, 64, "log", "level", "debug");

	if (d->overrides != NULL) {
		char *copy = strdup(d->overrides), *save = NULL;

		ck_assert_ptr_nonnull(copy);
		for (char *line = strtok_r(copy, "\n", &save); line != NULL;
		     line = strtok_r(NULL, "\n", &save)) {
			char *dot, *eq, *k, *v;

			while (*line == ' ' || *line == '\t')
				line++;
			if (*line == '\0')
				continue;
			dot = strchr(line, '.');
			eq = strchr(line, '=');
			ck_assert_msg(dot != NULL && eq != NULL && dot < eq,
			              "override '%s' is not section.key=value", line);
			*dot = '\0';
			*eq = '\0';
			k = dot + 1;
			v = eq + 1;
			for (char *e = eq - 1; e >= k && (*e == ' ' || *e == '\t'); e--)
				*e = '\0';
			while (*v == ' ' || *v == '\t')
				v++;
			kv_set(t, &n, 64, line, k, v);
		}
		free(copy);
	}

	f = fopen(d->conf, "w");
	ck_assert_msg(f != NULL, "cannot write %s: %s", d->conf, strerror(errno));
	fprintf(f, "# written by tests/integration/tdaemon.c\n");
	for (size_t i = 0; i < n; i++) {
		bool first = true;

		for (size_t j = 0; j < i; j++) {
			if (strcmp(t[j].section, t[i].section) == 0)
				first = false;
		}
		if (!first)
			continue;
		fprintf(f, "[%s]\n", t[i].section);
		for (size_t j = i; j < n; j++) {
			if (strcmp(t[j].section, t[i].section) == 0)
				fprintf(f, "%s = %s\n", t[j].key, t[j].value);
		}
	}
	ck_assert_int_eq(fclose(f), 0);
}

/* ---- the daemon ---- */

struct tdaemon *tdaemon_new(const char *overrides)
{
	struct tdaemon *d = calloc(1, sizeof(*d));

	ignore_sigpipe();
	ck_assert_ptr_nonnull(d);
	d->status = -1;
	snprintf(d->dir, sizeof(d->dir), "%s/d.XXXXXX", base_dir());
	ck_assert_msg(mkdtemp(d->dir) != NULL, "mkdtemp: %s", strerror(errno));
	chmod(d->dir, 0700);
	snprintf(d->conf, sizeof(d->conf), "%s/streetd.conf", d->dir);
	snprintf(d->log, sizeof(d->log), "%s/streetd.log", d->dir);
	d->port = tdaemon_free_port();
	d->overrides = overrides ? strdup(overrides) : NULL;
	write_config(d);
	return d;
}

void tdaemon_rewrite_config(struct tdaemon *d, const char *overrides)
{
	free(d->overrides);
	d->overrides = overrides ? strdup(overrides) : NULL;
	write_config(d);
}

void tdaemon_write_file(struct tdaemon *d, const char *name, const char *text)
{
	char path[700];

	snprintf(path, sizeof(path), "%s/%s", d->dir, name);
	write_text(path, text);
}

static bool reap(struct tdaemon *d, bool block)
{
	int ws;
	pid_t r;

	if (d->status >= 0 || d->pid <= 0)
		return d->status >= 0;
	do {
		r = waitpid(d->pid, &ws, block ? 0 : WNOHANG);
	} while (r < 0 && errno == EINTR);
	if (r == d->pid) {
		d->status = encode_status(ws);
		return true;
	}
	return false;
}

bool tdaemon_launch(struct tdaemon *d)
{
	const char *exe = env_or_die("STREETD_TEST_DAEMON");
	pid_t parent = getpid();
	long long deadline;
	pid_t pid;

	fflush(NULL);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		int fd;

		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != parent)
			_exit(127);
		fd = open(d->log, O_WRONLY | O_CREAT | O_APPEND, 0600);
		if (fd >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
			close(fd);
		}
		fd = open("/dev/null", O_RDONLY);
		if (fd >= 0) {
			dup2(fd, 0);
			close(fd);
		}
		signal(SIGPIPE, SIG_DFL);
		execl(exe, exe, "-c", d->conf, (char *)NULL);
		dprintf(2, "tdaemon: cannot run %s: %s\n", exe, strerror(errno));
		_exit(127);
	}
	d->pid = pid;
	d->status = -1;
	deadline = tnow_ms() + START_TIMEOUT_MS;
	while (tnow_ms() < deadline) {
		int fd;

		if (reap(d, false))
			return false;
		fd = tcp_connect_port(d->port, 0);
		if (fd >= 0) {
			close(fd);
			return true;
		}
		sleep_ms(25);
	}
	return false;
}

struct tdaemon *tdaemon_start(const char *overrides)
{
	struct tdaemon *d = NULL;

	/* A port picked free may be taken by the time the daemon binds: try thrice. */
	for (int attempt = 0; attempt < 3; attempt++) {
		d = tdaemon_new(overrides);
		if (tdaemon_launch(d))
			return d;
		if (d->status < 0)
			break; /* still running but not listening: a hang */
		if (strstr(tdaemon_log(d), "in use") == NULL)
			break;
		tdaemon_stop(d, 0);
		d = NULL;
	}
	ck_assert_ptr_nonnull(d);
	{
		const char *log = tdaemon_log(d);
		size_t len = strlen(log);
		const char *tail = len > 3000 ? log + len - 3000 : log;

		fprintf(stderr, "---- streetd did not start (%s); its log %s:\n%s\n----\n",
		        d->status >= 0 ? "exited" : "not listening after 15 s", d->log, log);
		ck_abort_msg("streetd did not start (status %d, port %d); log tail:\n%s", d->status,
		             d->port, tail);
	}
	return NULL;
}

int tdaemon_port(const struct tdaemon *d)
{
	return d->port;
}

const char *tdaemon_dir(const struct tdaemon *d)
{
	return d->dir;
}

const char *tdaemon_conf(const struct tdaemon *d)
{
	return d->conf;
}

const char *tdaemon_log(struct tdaemon *d)
{
	free(d->logbuf);
	d->logbuf = read_file(d->log, NULL);
	return d->logbuf;
}

bool tdaemon_log_wait(struct tdaemon *d, const char *needle, int timeout_ms)
{
	long long deadline = tnow_ms() + timeout_ms;

	for (;;) {
		if (strstr(tdaemon_log(d), needle) != NULL)
			return true;
		if (tnow_ms() >= deadline)
			return false;
		sleep_ms(50);
	}
}

void tdaemon_signal(struct tdaemon *d, int sig)
{
	if (d->pid > 0 && !reap(d, false))
		kill(d->pid, sig);
}

bool tdaemon_running(struct tdaemon *d)
{
	return d->pid > 0 && !reap(d, false);
}

int tdaemon_wait(struct tdaemon *d, int timeout_ms)
{
	long long deadline = tnow_ms() + timeout_ms;

	if (d->pid <= 0)
		return d->status;
	for (;;) {
		if (reap(d, false))
			return d->status;
		if (tnow_ms() >= deadline)
			return -1;
		sleep_ms(10);
	}
}

int tdaemon_exit_status(const struct tdaemon *d)
{
	return d->status;
}

int tdaemon_stop(struct tdaemon *d, int sig)
{
	int status;

	if (d->pid > 0 && !reap(d, false)) {
		if (sig != 0)
			kill(d->pid, sig);
		if (tdaemon_wait(d, STOP_TIMEOUT_MS) < 0) {
			fprintf(stderr,
			        "tdaemon: streetd (pid %d) still running 15 s after signal %d;"
			        " SIGKILL\n",
			        (int)d->pid, sig);
			kill(d->pid, SIGKILL);
			reap(d, true);
		}
	}
	status = d->status;
	if (status >= 128) {
		const char *log = tdaemon_log(d);
		size_t len = strlen(log);

		fprintf(stderr,
		        "---- streetd ended with status %d (signal %d); log tail:\n%s\n----\n",
		        status, status - 128, len > 20000 ? log + len - 20000 : log);
	}
	if (getenv("TDAEMON_KEEP") == NULL)
		rm_rf(d->dir);
	free(d->logbuf);
	free(d->overrides);
	free(d);
	return status;
}

int tdaemon_run_sync(const char *conf, char **output, const char *arg, ...)
{
	const char *exe = env_or_die("STREETD_TEST_DAEMON");
	char *argv[32];
	char out_path[600];
	int argc = 0, fd, ws = 0;
	long long deadline;
	pid_t pid, r;
	va_list ap;

	argv[argc++] = strdup(exe);
	argv[argc++] = strdup("-c");
	argv[argc++] = strdup(conf);
	va_start(ap, arg);
	for (const char *a = arg; a != NULL && argc < 31; a = va_arg(ap, const char *))
		argv[argc++] = strdup(a);
	va_end(ap);
	argv[argc] = NULL;

	snprintf(out_path, sizeof(out_path), "%s/run.XXXXXX", base_dir());
	fd = mkstemp(out_path);
	ck_assert_int_ge(fd, 0);
	fflush(NULL);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		int null = open("/dev/null", O_RDONLY);

		prctl(PR_SET_PDEATHSIG, SIGKILL);
		dup2(fd, 1);
		dup2(fd, 2);
		if (null >= 0)
			dup2(null, 0);
		execv(exe, argv);
		dprintf(2, "tdaemon: cannot run %s: %s\n", exe, strerror(errno));
		_exit(127);
	}
	close(fd);
	for (int i = 0; i < argc; i++)
		free(argv[i]);
	deadline = tnow_ms() + START_TIMEOUT_MS;
	for (;;) {
		r = waitpid(pid, &ws, WNOHANG);
		if (r == pid)
			break;
		if (tnow_ms() >= deadline) {
			kill(pid, SIGKILL);
			waitpid(pid, &ws, 0);
			break;
		}
		sleep_ms(10);
	}
	if (output != NULL)
		*output = read_file(out_path, NULL);
	unlink(out_path);
	return encode_status(ws);
}

int tdaemon_run_suite(Suite *s)
{
	char base[] = "/tmp/tdaemon.XXXXXX";
	SRunner *sr;
	int failed;
	DIR *dir;

	ignore_sigpipe();
	/* No ck_assert here: outside a test there is nothing to report it to. */
	if (mkdtemp(base) == NULL) {
		perror("tdaemon: mkdtemp");
		return EXIT_FAILURE;
	}
	setenv("TDAEMON_BASE", base, 1);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_ENV); /* CK_VERBOSITY, default normal */
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);

	/* Directories still here belong to tests that did not reach tdaemon_stop(). */
	dir = failed ? opendir(base) : NULL;
	if (dir != NULL) {
		struct dirent *e;

		while ((e = readdir(dir)) != NULL) {
			char path[600];
			char *log;
			size_t len;

			if (strncmp(e->d_name, "d.", 2) != 0)
				continue;
			snprintf(path, sizeof(path), "%s/%s/streetd.log", base, e->d_name);
			log = read_file(path, &len);
			fprintf(stderr,
			        "\n---- log of a streetd left behind by a failed test (%s, %zu "
			        "bytes) ----\n%s%s---- end of %s ----\n",
			        path, len, len > 200000 ? "(first 200000 bytes)\n" : "",
			        len > 200000 ? "" : log, path);
			if (len > 200000)
				fwrite(log, 1, 200000, stderr);
			free(log);
		}
		closedir(dir);
	}
	if (getenv("TDAEMON_KEEP") == NULL)
		rm_rf(base);
	else
		fprintf(stderr, "tdaemon: TDAEMON_KEEP is set: daemon directories kept in %s\n",
		        base);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

int tdaemon_tcp_connect(struct tdaemon *d)
{
	int fd = tcp_connect_port(d->port, 0);

	ck_assert_msg(fd >= 0, "cannot connect to 127.0.0.1:%d: %s", d->port, strerror(errno));
	return fd;
}

int tfd_wait_closed(int fd, int timeout_ms)
{
	long long start = tnow_ms(), deadline = start + timeout_ms;
	char buf[4096];

	for (;;) {
		struct pollfd p = { fd, POLLIN, 0 };
		long long left = deadline - tnow_ms();
		ssize_t n;

		if (left <= 0)
			return -1;
		if (poll(&p, 1, (int)left) <= 0)
			continue;
		n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
		if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR))
			return (int)(tnow_ms() - start);
	}
}

bool tfd_peer_closed(int fd)
{
	struct tcp_info ti;
	socklen_t len = sizeof(ti);

	memset(&ti, 0, sizeof(ti));
	if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &len) != 0)
		return true;
	return ti.tcpi_state == TCP_CLOSE_WAIT || ti.tcpi_state == TCP_CLOSE ||
	       ti.tcpi_state == TCP_LAST_ACK || ti.tcpi_state == TCP_CLOSING;
}

char *tconninfo_get(const char *conninfo, const char *key)
{
	size_t klen = strlen(key);
	const char *p = conninfo;

	while (*p) {
		while (*p == ' ')
			p++;
		if (strncmp(p, key, klen) == 0 && p[klen] == '=') {
			const char *v = p + klen + 1;
			size_t n = strcspn(v, " ");
			char *out = strndup(v, n);

			ck_assert_ptr_nonnull(out);
			return out;
		}
		p += strcspn(p, " ");
	}
	ck_abort_msg("no %s= in '%s'", key, conninfo);
	return NULL;
}

/* ---- the TLS client ---- */

struct tclient {
	SSL_CTX *ctx;
	SSL *ssl;
	int fd;
	char *buf;
	size_t len, cap;
	bool closed;
	char why[256];
	long long next_id;
	json_object **queue;
	size_t qlen, qcap;
	json_object **owned;
	size_t nowned, owncap;
};

const char *ttls_path(const char *name)
{
	static char bufs[8][512];
	static unsigned next;
	char *b = bufs[next++ % 8];

	snprintf(b, sizeof(bufs[0]), "%s/%s", env_or_die("STREETD_TEST_TLS_DIR"), name);
	return b;
}

static void ssl_errors(char *out, size_t cap)
{
	unsigned long e;
	size_t o = strlen(out);

	while ((e = ERR_get_error()) != 0 && o + 2 < cap) {
		char one[256];

		ERR_error_string_n(e, one, sizeof(one));
		o += (size_t)snprintf(out + o, cap - o, "%s%s", o ? "; " : "", one);
		if (o >= cap)
			break;
	}
}

struct tclient *tclient_try_connect(struct tdaemon *d, const char *cert, const char *key, char *err,
                                    size_t errlen)
{
	struct tclient *c;
	long long deadline;
	int one = 1, fl;

	ignore_sigpipe();
	if (err && errlen)
		err[0] = '\0';
	c = calloc(1, sizeof(*c));
	ck_assert_ptr_nonnull(c);
	c->next_id = 1;
	c->fd = -1;
	c->ctx = SSL_CTX_new(TLS_client_method());
	ck_assert_ptr_nonnull(c->ctx);
	SSL_CTX_set_min_proto_version(c->ctx, TLS1_2_VERSION);
	SSL_CTX_set_verify(c->ctx, SSL_VERIFY_PEER, NULL);
	SSL_CTX_set_mode(c->ctx, SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
	ck_assert_msg(SSL_CTX_load_verify_locations(c->ctx, ttls_path("ca.crt"), NULL) == 1,
	              "cannot load %s", ttls_path("ca.crt"));
	if (cert != NULL) {
		ck_assert_msg(SSL_CTX_use_certificate_chain_file(c->ctx, cert) == 1,
		              "cannot load certificate %s", cert);
		ck_assert_msg(SSL_CTX_use_PrivateKey_file(c->ctx, key, SSL_FILETYPE_PEM) == 1,
		              "cannot load key %s", key);
	}
	c->fd = tcp_connect_port(next_port ? next_port : d->port, next_rcvbuf);
	if (c->fd < 0) {
		if (err)
			snprintf(err, errlen, "connect: %s", strerror(errno));
		tclient_close(c);
		return NULL;
	}
	setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	fl = fcntl(c->fd, F_GETFL);
	fcntl(c->fd, F_SETFL, fl | O_NONBLOCK);
	c->ssl = SSL_new(c->ctx);
	ck_assert_ptr_nonnull(c->ssl);
	SSL_set_fd(c->ssl, c->fd);
	X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(c->ssl), "127.0.0.1");
	deadline = tnow_ms() + CALL_TIMEOUT_MS;
	ERR_clear_error();
	for (;;) {
		int r = SSL_connect(c->ssl), e;
		struct pollfd p = { c->fd, 0, 0 };
		long long left;

		if (r == 1)
			return c;
		e = SSL_get_error(c->ssl, r);
		if (e == SSL_ERROR_WANT_READ)
			p.events = POLLIN;
		else if (e == SSL_ERROR_WANT_WRITE)
			p.events = POLLOUT;
		else {
			if (err) {
				long v = SSL_get_verify_result(c->ssl);

				snprintf(err, errlen, "handshake failed (ssl error %d%s%s): ", e,
				         v != X509_V_OK ? ", verify: " : "",
				         v != X509_V_OK ? X509_verify_cert_error_string(v) : "");
				ssl_errors(err, errlen);
			}
			tclient_close(c);
			return NULL;
		}
		left = deadline - tnow_ms();
		if (left <= 0) {
			if (err)
				snprintf(err, errlen, "handshake timed out");
			tclient_close(c);
			return NULL;
		}
		poll(&p, 1, (int)left);
	}
}

struct tclient *tclient_connect_files(struct tdaemon *d, const char *cert, const char *key)
{
	char err[1024];
	struct tclient *c = tclient_try_connect(d, cert, key, err, sizeof(err));

	ck_assert_msg(c != NULL, "TLS connection as %s to port %d: %s", cert ? cert : "(no cert)",
	              d->port, err);
	return c;
}

struct tclient *tclient_connect(struct tdaemon *d, const char *login)
{
	char cert[512], key[512];

	if (login == NULL)
		return tclient_connect_files(d, NULL, NULL);
	snprintf(cert, sizeof(cert), "%s", ttls_path(login));
	snprintf(key, sizeof(key), "%s", cert);
	strncat(cert, ".crt", sizeof(cert) - strlen(cert) - 1);
	strncat(key, ".key", sizeof(key) - strlen(key) - 1);
	return tclient_connect_files(d, cert, key);
}

bool tclient_closed(const struct tclient *c)
{
	return c->closed;
}

int tclient_fd(const struct tclient *c)
{
	return c->fd;
}

/* Reads what is available into buf: 1 data, 0 timeout, -1 closed. */
static int fill(struct tclient *c, long long deadline)
{
	char tmp[16384];

	for (;;) {
		int n, e;
		struct pollfd p = { c->fd, 0, 0 };
		long long left;

		if (c->closed)
			return -1;
		ERR_clear_error();
		n = SSL_read(c->ssl, tmp, sizeof(tmp));
		if (n > 0) {
			if (c->cap - c->len < (size_t)n + 1) {
				c->cap = (c->len + (size_t)n + 1) * 2;
				c->buf = realloc(c->buf, c->cap);
				ck_assert_ptr_nonnull(c->buf);
			}
			memcpy(c->buf + c->len, tmp, (size_t)n);
			c->len += (size_t)n;
			return 1;
		}
		e = SSL_get_error(c->ssl, n);
		if (e == SSL_ERROR_WANT_READ)
			p.events = POLLIN;
		else if (e == SSL_ERROR_WANT_WRITE)
			p.events = POLLOUT;
		else {
			c->closed = true;
			snprintf(c->why, sizeof(c->why), "%s (ssl error %d, errno %d): ",
			         e == SSL_ERROR_ZERO_RETURN ? "close_notify" : "closed", e, errno);
			ssl_errors(c->why, sizeof(c->why));
			return -1;
		}
		left = deadline - tnow_ms();
		if (left <= 0)
			return 0;
		poll(&p, 1, (int)left);
	}
}

static char *next_line(struct tclient *c, long long deadline)
{
	for (;;) {
		char *nl = c->len ? memchr(c->buf, '\n', c->len) : NULL;

		if (nl != NULL) {
			size_t n = (size_t)(nl - c->buf);
			char *line = malloc(n + 1);

			ck_assert_ptr_nonnull(line);
			memcpy(line, c->buf, n);
			line[n] = '\0';
			if (n > 0 && line[n - 1] == '\r')
				line[n - 1] = '\0';
			memmove(c->buf, nl + 1, c->len - n - 1);
			c->len -= n + 1;
			return line;
		}
		if (fill(c, deadline) <= 0)
			return NULL;
	}
}

char *tclient_recv_line(struct tclient *c, int timeout_ms)
{
	return next_line(c, tnow_ms() + timeout_ms);
}

static json_object *own(struct tclient *c, json_object *o)
{
	if (c->nowned == c->owncap) {
		c->owncap = c->owncap ? c->owncap * 2 : 32;
		c->owned = realloc(c->owned, c->owncap * sizeof(*c->owned));
		ck_assert_ptr_nonnull(c->owned);
	}
	c->owned[c->nowned++] = o;
	return o;
}

/* Parses one line as exactly one JSON object; NULL if it is not. */
static json_object *parse_line(const char *line)
{
	json_tokener *tok = json_tokener_new();
	size_t len = strlen(line);
	json_object *o = json_tokener_parse_ex(tok, line, (int)len);

	if (o != NULL &&
	    (json_tokener_get_error(tok) != json_tokener_success ||
	     json_tokener_get_parse_end(tok) != len || !json_object_is_type(o, json_type_object))) {
		json_object_put(o);
		o = NULL;
	}
	json_tokener_free(tok);
	return o;
}

static json_object *read_msg(struct tclient *c, long long deadline)
{
	char *line = next_line(c, deadline);
	json_object *o;

	if (line == NULL)
		return NULL;
	o = parse_line(line);
	if (o == NULL) {
		fprintf(stderr, "tclient: server sent a line that is not a JSON object: %s\n",
		        line);
		ck_abort_msg("server sent a line that is not a JSON object: %.300s", line);
	}
	free(line);
	return own(c, o);
}

static void enqueue(struct tclient *c, json_object *o)
{
	if (c->qlen == c->qcap) {
		c->qcap = c->qcap ? c->qcap * 2 : 16;
		c->queue = realloc(c->queue, c->qcap * sizeof(*c->queue));
		ck_assert_ptr_nonnull(c->queue);
	}
	c->queue[c->qlen++] = o;
}

static json_object *dequeue_at(struct tclient *c, size_t i)
{
	json_object *o = c->queue[i];

	memmove(c->queue + i, c->queue + i + 1, (c->qlen - i - 1) * sizeof(*c->queue));
	c->qlen--;
	return o;
}

size_t tclient_queued(const struct tclient *c)
{
	return c->qlen;
}

json_object *tclient_recv(struct tclient *c, int timeout_ms)
{
	if (c->qlen > 0)
		return dequeue_at(c, 0);
	return read_msg(c, tnow_ms() + timeout_ms);
}

int tclient_wait_closed(struct tclient *c, int timeout_ms)
{
	long long start = tnow_ms(), deadline = start + timeout_ms;

	while (!c->closed) {
		char *line = next_line(c, deadline);

		if (line != NULL) {
			json_object *o = parse_line(line);

			if (o != NULL)
				enqueue(c, own(c, o));
			free(line);
			continue;
		}
		if (!c->closed)
			return -1;
	}
	return (int)(tnow_ms() - start);
}

int tclient_send_raw_timeout(struct tclient *c, const void *buf, size_t len, int timeout_ms)
{
	long long deadline = tnow_ms() + timeout_ms;
	const char *p = buf;

	while (len > 0) {
		int chunk = len > 1 << 20 ? 1 << 20 : (int)len;
		int n, e;
		struct pollfd pf = { c->fd, 0, 0 };
		long long left;

		if (c->closed)
			return -1;
		ERR_clear_error();
		n = SSL_write(c->ssl, p, chunk);
		if (n > 0) {
			p += n;
			len -= (size_t)n;
			continue;
		}
		e = SSL_get_error(c->ssl, n);
		if (e == SSL_ERROR_WANT_WRITE)
			pf.events = POLLOUT;
		else if (e == SSL_ERROR_WANT_READ)
			pf.events = POLLIN;
		else {
			c->closed = true;
			snprintf(c->why, sizeof(c->why),
			         "write failed (ssl error %d, errno %d): ", e, errno);
			ssl_errors(c->why, sizeof(c->why));
			return -1;
		}
		left = deadline - tnow_ms();
		if (left <= 0)
			return -2;
		poll(&pf, 1, (int)left);
	}
	return 0;
}

int tclient_send_raw(struct tclient *c, const void *buf, size_t len)
{
	return tclient_send_raw_timeout(c, buf, len, SEND_TIMEOUT_MS) == 0 ? 0 : -1;
}

int tclient_send(struct tclient *c, const char *line)
{
	size_t n = strlen(line);
	char *b = malloc(n + 2);
	int r;

	ck_assert_ptr_nonnull(b);
	memcpy(b, line, n);
	b[n] = '\n';
	b[n + 1] = '\0';
	r = tclient_send_raw(c, b, n + 1);
	free(b);
	return r;
}

long long tclient_next_id(const struct tclient *c)
{
	return c->next_id;
}

static bool has_id(json_object *o, long long id)
{
	json_object *v;

	return json_object_object_get_ex(o, "id", &v) && json_object_is_type(v, json_type_int) &&
	       json_object_get_int64(v) == id;
}

/* Sends the formatted request with a fresh id; returns the reply, NULL on
 * timeout/close (and *sent_line the line, for messages). */
static json_object *vcall(struct tclient *c, int timeout_ms, char **sent_line, const char *fmt,
                          va_list ap)
{
	char *body = NULL, *line = NULL;
	long long id = c->next_id++;
	long long deadline;

	ck_assert_int_ge(vasprintf(&body, fmt, ap), 0);
	ck_assert_msg(body[0] == '{', "a request is a JSON object: %s", body);
	if (strcmp(body, "{}") == 0)
		ck_assert_int_ge(asprintf(&line, "{\"id\":%lld}", id), 0);
	else
		ck_assert_int_ge(asprintf(&line, "{\"id\":%lld,%s", id, body + 1), 0);
	free(body);
	*sent_line = line;
	if (tclient_send(c, line) != 0)
		return NULL;
	deadline = tnow_ms() + timeout_ms;
	for (;;) {
		json_object *o = read_msg(c, deadline);

		if (o == NULL)
			return NULL;
		if (has_id(o, id))
			return o;
		enqueue(c, o);
	}
}

/* The caller's place, without the directories. */
static const char *base_name(const char *file)
{
	const char *slash = strrchr(file, '/');

	return slash ? slash + 1 : file;
}

json_object *tclient_call_at(const char *file, int line, struct tclient *c, const char *fmt, ...)
{
	va_list ap;
	char *sent = NULL;
	json_object *r;

	va_start(ap, fmt);
	r = vcall(c, CALL_TIMEOUT_MS, &sent, fmt, ap);
	va_end(ap);
	ck_assert_msg(r != NULL, "%s:%d: no reply within 10 s to %.300s (%s)", base_name(file),
	              line, sent, c->closed ? c->why : "timeout");
	free(sent);
	return r;
}

json_object *tclient_try_call(struct tclient *c, int timeout_ms, const char *fmt, ...)
{
	va_list ap;
	char *sent = NULL;
	json_object *r;

	va_start(ap, fmt);
	r = vcall(c, timeout_ms, &sent, fmt, ap);
	va_end(ap);
	free(sent);
	return r;
}

json_object *tclient_ok_at(const char *file, int line, struct tclient *c, const char *fmt, ...)
{
	va_list ap;
	char *sent = NULL;
	json_object *r;

	va_start(ap, fmt);
	r = vcall(c, CALL_TIMEOUT_MS, &sent, fmt, ap);
	va_end(ap);
	ck_assert_msg(r != NULL, "%s:%d: no reply within 10 s to %.300s (%s)", base_name(file),
	              line, sent, c->closed ? c->why : "timeout");
	ck_assert_msg(tj_ok(r), "%s:%d: expected ok for %.500s\ngot %.1500s", base_name(file), line,
	              sent, tj_dump(r));
	free(sent);
	return r;
}

json_object *tclient_err_at(const char *file, int line, struct tclient *c, const char *code,
                            const char *fmt, ...)
{
	va_list ap;
	char *sent = NULL;
	json_object *r;
	const char *got;

	va_start(ap, fmt);
	r = vcall(c, CALL_TIMEOUT_MS, &sent, fmt, ap);
	va_end(ap);
	ck_assert_msg(r != NULL, "%s:%d: no reply within 10 s to %.300s (%s)", base_name(file),
	              line, sent, c->closed ? c->why : "timeout");
	got = tj_code(r);
	ck_assert_msg(got != NULL && strcmp(got, code) == 0,
	              "%s:%d: expected %s for %.500s\ngot %.1500s", base_name(file), line, code,
	              sent, tj_dump(r));
	free(sent);
	return r;
}

json_object *tclient_next_event(struct tclient *c, int timeout_ms)
{
	long long deadline = tnow_ms() + timeout_ms;

	for (size_t i = 0; i < c->qlen; i++) {
		if (!json_object_object_get_ex(c->queue[i], "id", NULL))
			return dequeue_at(c, i);
	}
	for (;;) {
		json_object *o = read_msg(c, deadline);

		if (o == NULL)
			return NULL;
		if (!json_object_object_get_ex(o, "id", NULL))
			return o;
		enqueue(c, o);
	}
}

bool tclient_refused(struct tdaemon *d, const char *cert, const char *key, int timeout_ms,
                     char *detail, size_t detail_len)
{
	struct tclient *c = tclient_try_connect(d, cert, key, detail, detail_len);
	char *line;
	bool refused;

	if (c == NULL)
		return true;
	line = tclient_recv_line(c, timeout_ms);
	if (line != NULL) {
		snprintf(detail, detail_len, "handshake accepted; server sent: %.200s", line);
		refused = false;
		free(line);
	} else if (c->closed) {
		snprintf(detail, detail_len, "refused after the client's handshake: %s", c->why);
		refused = true;
	} else {
		snprintf(detail, detail_len, "handshake accepted; no verdict within %d ms",
		         timeout_ms);
		refused = false;
	}
	tclient_close(c);
	return refused;
}

void tclient_close(struct tclient *c)
{
	if (c == NULL)
		return;
	if (c->ssl != NULL) {
		if (!c->closed)
			SSL_shutdown(c->ssl);
		SSL_free(c->ssl);
	}
	if (c->fd >= 0)
		close(c->fd);
	SSL_CTX_free(c->ctx);
	for (size_t i = 0; i < c->nowned; i++)
		json_object_put(c->owned[i]);
	free(c->owned);
	free(c->queue);
	free(c->buf);
	free(c);
}

/* ---- reading replies ---- */

json_object *tj_get(json_object *o, const char *path)
{
	char seg[128];
	const char *p = path;

	while (o != NULL && *p) {
		size_t n = strcspn(p, ".");
		char *end;
		long idx;

		snprintf(seg, sizeof(seg), "%.*s", (int)n, p);
		p += n;
		if (*p == '.')
			p++;
		if (json_object_is_type(o, json_type_array)) {
			idx = strtol(seg, &end, 10);
			if (*end != '\0' || idx < 0 || (size_t)idx >= json_object_array_length(o))
				return NULL;
			o = json_object_array_get_idx(o, (size_t)idx);
		} else if (json_object_is_type(o, json_type_object)) {
			if (!json_object_object_get_ex(o, seg, &o))
				return NULL;
		} else {
			return NULL;
		}
	}
	return o;
}

long long tj_int(json_object *o, const char *path)
{
	json_object *v = tj_get(o, path);

	return v ? json_object_get_int64(v) : 0;
}

const char *tj_str(json_object *o, const char *path)
{
	json_object *v = tj_get(o, path);

	return v && json_object_is_type(v, json_type_string) ? json_object_get_string(v) : NULL;
}

bool tj_bool(json_object *o, const char *path)
{
	json_object *v = tj_get(o, path);

	return v && json_object_is_type(v, json_type_boolean) && json_object_get_boolean(v);
}

bool tj_is_null(json_object *o, const char *path)
{
	json_object *parent = o;
	const char *last = strrchr(path, '.');

	if (o == NULL)
		return false;
	if (last != NULL) {
		char head[256];

		snprintf(head, sizeof(head), "%.*s", (int)(last - path), path);
		parent = tj_get(o, head);
		last++;
	} else {
		last = path;
	}
	if (parent == NULL || !json_object_is_type(parent, json_type_object))
		return false;
	{
		json_object *v = NULL;

		return json_object_object_get_ex(parent, last, &v) && v == NULL;
	}
}

size_t tj_len(json_object *o, const char *path)
{
	json_object *v = tj_get(o, path);

	return v && json_object_is_type(v, json_type_array) ? json_object_array_length(v) : 0;
}

bool tj_ok(json_object *r)
{
	return r != NULL && tj_bool(r, "ok");
}

const char *tj_code(json_object *r)
{
	return tj_str(r, "error.code");
}

long long tj_ticket_id(json_object *r)
{
	return tj_int(r, "result.ticket.id");
}

int tj_ticket_version(json_object *r)
{
	return (int)tj_int(r, "result.ticket.version");
}

const char *tj_ticket_state(json_object *r)
{
	return tj_str(r, "result.ticket.state");
}

const char *tj_dump(json_object *o)
{
	if (o == NULL)
		return "(no reply: timeout or connection closed)";
	return json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
	                                                 JSON_C_TO_STRING_NOSLASHESCAPE);
}

/* ---- the shared test cluster ---- */

static int run_cmd(const char *cmd)
{
	int st;

	fflush(NULL);
	st = system(cmd);
	return st == -1 ? -1 : (WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st));
}

static const char *as_pg(void)
{
	return geteuid() == 0 ? "cd / && runuser -u postgres -- " : "";
}

int tcluster_stop(const char *mode)
{
	char cmd[2048];

	snprintf(cmd, sizeof(cmd), "%s'%s/pg_ctl' -D '%s/data' -m %s -w -t 60 stop >&2", as_pg(),
	         getenv("STREETD_TEST_PGBIN"), getenv("STREETD_TEST_PGDIR"), mode);
	return run_cmd(cmd);
}

bool tcluster_running(void)
{
	char cmd[2048];

	snprintf(cmd, sizeof(cmd), "%s'%s/pg_ctl' -D '%s/data' status >/dev/null 2>&1", as_pg(),
	         getenv("STREETD_TEST_PGBIN"), getenv("STREETD_TEST_PGDIR"));
	return run_cmd(cmd) == 0;
}

int tcluster_start(void)
{
	char cmd[2048], *port;
	const char *sql = getenv("STREETD_TEST_SQL_DIR"), *db = getenv("STREETD_TEST_DB");

	if (sql == NULL || db == NULL)
		return -1;
	port = tconninfo_get(db, "port");
	snprintf(cmd, sizeof(cmd), "'%s/../scripts/pg' start '%s' '%s' >&2", sql,
	         getenv("STREETD_TEST_PGDIR"), port);
	free(port);
	return run_cmd(cmd);
}

void tcluster_ensure(void)
{
	if (getenv("STREETD_TEST_PGDIR") == NULL || getenv("STREETD_TEST_PGBIN") == NULL)
		return;
	if (!tcluster_running()) {
		fprintf(stderr, "tdaemon: starting the test cluster again\n");
		if (tcluster_start() != 0)
			fprintf(stderr, "tdaemon: COULD NOT START THE TEST CLUSTER\n");
	}
}
