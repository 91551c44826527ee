/* fail: see fail.h. */
#include "fail.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sysexits.h>

#include "out.h"

/* What a user can do about each wire error: the second half of the line. */
static const struct fail_hint {
	const char *code;
	int exit;
	const char *hint;
} fail_hints[] = {
	{ "bad_request", EX_DATAERR, "check the values given" },
	{ "unauthenticated", EX_NOPERM,
	  "check that the certificate (cert, key) belongs to an enabled account" },
	{ "forbidden", EX_NOPERM, "ask someone whose role and scope allow it" },
	{ "not_found", EX_NOINPUT, "check the number (streetctl list shows what you may see)" },
	{ "bad_state", EX_TEMPFAIL, "refresh (streetctl show) and try again" },
	{ "conflict", EX_TEMPFAIL, "refresh and try again" },
	{ "too_large", EX_DATAERR, "send less (photos are at most 5 MiB by default)" },
	{ "rate_limited", EX_UNAVAILABLE,
	  "too many requests or sessions: wait a moment and retry" },
	{ "unavailable", EX_UNAVAILABLE, "try again later (the same command is safe to repeat)" },
	{ "internal", EX_SOFTWARE, "this is a server bug: report it with the time it happened" },
};

static const struct fail_hint *fail_find(const char *code)
{
	for (size_t i = 0; code != NULL && i < sizeof(fail_hints) / sizeof(fail_hints[0]); i++) {
		if (strcmp(fail_hints[i].code, code) == 0)
			return &fail_hints[i];
	}
	return NULL;
}

static const char *fail_cmd;

void fail_set_command(const char *cmd)
{
	fail_cmd = cmd;
}

int fail(int code, const char *fmt, ...)
{
	va_list ap;

	fflush(stdout);
	fputs("streetctl: ", stderr);
	/* server messages quote what people typed: cleaned, and one line whatever they hold */
	va_start(ap, fmt);
	out_vprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return code;
}

int fail_usage(const char *cmd, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (cmd != NULL)
		return fail(EX_USAGE, "%s; see streetctl %s --help", msg, cmd);
	return fail(EX_USAGE, "%s; see streetctl --help", msg);
}

int fail_code_exit(const char *code)
{
	const struct fail_hint *h = fail_find(code);

	return h != NULL ? h->exit : EX_SOFTWARE;
}

int fail_reply(json_object *error)
{
	json_object *jc = NULL, *jm = NULL;
	const char *code, *msg;
	const struct fail_hint *h;

	json_object_object_get_ex(error, "code", &jc);
	json_object_object_get_ex(error, "message", &jm);
	code = json_object_get_string(jc);
	msg = json_object_get_string(jm);
	if (msg == NULL || msg[0] == '\0')
		msg = code != NULL ? code : "the server refused the request";
	h = fail_find(code);
	if (h == NULL)
		return fail(EX_SOFTWARE, "%s (%s); this streetctl does not know that error", msg,
		            code != NULL ? code : "no code");
	/* a conflict's "...; refresh and try again" already says what to do */
	if (strstr(msg, "try again") != NULL)
		return fail(h->exit, "%s", msg);
	if (h->exit == EX_DATAERR && fail_cmd != NULL)
		return fail(h->exit, "%s; %s (streetctl %s --help)", msg, h->hint, fail_cmd);
	return fail(h->exit, "%s; %s", msg, h->hint);
}
