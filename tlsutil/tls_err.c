/* tls_err: see tls_err.h. */
#include "tls_err.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <openssl/err.h>

void tls_reasons(char *buf, size_t cap)
{
	char pieces[4][160];
	int n = 0;
	unsigned long e;
	const char *data;
	int flags;
	size_t used = 0;

	while ((e = ERR_get_error_all(NULL, NULL, NULL, &data, &flags)) != 0) {
		const char *reason = ERR_reason_error_string(e);
		const char *lib = ERR_lib_error_string(e);
		char *p;

		if (n == (int)(sizeof(pieces) / sizeof(pieces[0])))
			continue; /* still drained */
		p = pieces[n++];
		snprintf(p, sizeof(pieces[0]), "%s", reason != NULL ? reason : "error");
		if (lib != NULL)
			snprintf(p + strlen(p), sizeof(pieces[0]) - strlen(p), " (%s)", lib);
		if ((flags & ERR_TXT_STRING) && data != NULL && data[0] != '\0')
			snprintf(p + strlen(p), sizeof(pieces[0]) - strlen(p), " [%s]", data);
	}
	if (cap == 0)
		return;
	buf[0] = '\0';
	if (n == 0) {
		snprintf(buf, cap, "unknown error");
		return;
	}
	/* OpenSSL queues the root cause first; print the outermost error first. */
	for (int i = n - 1; i >= 0 && used < cap; i--) {
		int r = snprintf(buf + used, cap - used, "%s%s", i == n - 1 ? "" : ": ", pieces[i]);

		if (r < 0)
			break;
		used += (size_t)r;
	}
}

void tls_fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

void tls_fail_ssl(char *err, size_t errlen, const char *label, const char *path, const char *what)
{
	char reasons[512];

	tls_reasons(reasons, sizeof(reasons));
	tls_fail(err, errlen, "%s %s: %s: %s", label, path, what, reasons);
}
