#include "thttp.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	char *buf;
	long n;

	if (!f)
		return strdup("");
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	buf = calloc(1, (size_t)n + 1);
	ck_assert_ptr_nonnull(buf);
	if (n > 0)
		ck_assert_int_eq(fread(buf, 1, (size_t)n, f), n);
	fclose(f);
	return buf;
}

static char *join(const char *a, const char *b)
{
	char *s = malloc(strlen(a) + strlen(b) + 1);

	ck_assert_ptr_nonnull(s);
	strcpy(s, a);
	strcat(s, b);
	return s;
}

struct thttp_res thttp(struct tdaemon *d, const struct thttp_req *q)
{
	const char *dir = tdaemon_dir(d);
	char *bodyf = join(dir, "/req.body"), *headf = join(dir, "/resp.head"),
	     *outf = join(dir, "/resp.body"), *argv[40], code[16] = "", port[16];
	int n = 0, status, pfd[2];
	pid_t pid;
	struct thttp_res r = { 0 };

	snprintf(port, sizeof(port), "%d", q->port);
	unlink(headf);
	unlink(outf);
#define ARG(s)     (argv[n++] = strdup(s))
#define ARG2(a, b) (argv[n++] = join((a), (b)))
	ARG("curl");
	ARG("-sS");
	ARG("--max-time");
	ARG("10");
	ARG("--cacert");
	ARG(ttls_path("ca.crt"));
	ARG("-o");
	ARG(outf);
	ARG("-D");
	ARG(headf);
	ARG("-w");
	ARG("%{http_code}");
	ARG("-X");
	ARG(q->method ? q->method : "GET");
	if (q->host) {
		char resolve[160];

		snprintf(resolve, sizeof(resolve), "localhost:%d:%s", q->port, q->host);
		ARG("--resolve");
		ARG(resolve);
	}
	if (q->login) {
		char *base = join(q->login, ".crt");

		ARG("--cert");
		ARG(ttls_path(base));
		free(base);
		base = join(q->login, ".key");
		ARG("--key");
		ARG(ttls_path(base));
		free(base);
	}
	if (q->ctype) {
		ARG("-H");
		ARG2("Content-Type: ", q->ctype);
	}
	if (q->origin) {
		ARG("-H");
		ARG2("Origin: ", q->origin);
	}
	if (q->header) {
		ARG("-H");
		ARG(q->header);
	}
	if (q->body) {
		FILE *f = fopen(bodyf, "w");

		ck_assert_ptr_nonnull(f);
		fputs(q->body, f);
		fclose(f);
		ARG("--data-binary");
		ARG2("@", bodyf);
	}
	{
		char *url = join(q->host ? "https://localhost:" : "https://127.0.0.1:", port);

		ARG2(url, q->path);
		free(url);
	}
#undef ARG
#undef ARG2
	argv[n] = NULL;
	ck_assert_int_eq(pipe(pfd), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		dup2(pfd[1], 1);
		close(pfd[0]);
		execvp("curl", argv);
		_exit(127);
	}
	close(pfd[1]);
	ck_assert_int_ge(read(pfd[0], code, sizeof(code) - 1), 0);
	close(pfd[0]);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	for (int i = 0; i < n; i++)
		free(argv[i]);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	              "curl %s %s failed (status %d)", q->method ? q->method : "GET", q->path,
	              status);
	r.status = atoi(code);
	r.head = slurp(headf);
	r.body = slurp(outf);
	r.json = json_tokener_parse(r.body);
	free(bodyf);
	free(headf);
	free(outf);
	return r;
}

void thttp_free(struct thttp_res *r)
{
	free(r->head);
	free(r->body);
	json_object_put(r->json);
	memset(r, 0, sizeof(*r));
}

bool thttp_has_header(const struct thttp_res *r, const char *line)
{
	return strcasestr(r->head, line) != NULL;
}
