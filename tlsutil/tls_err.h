/*
 * tls_err: one-line error messages for TLS set-up, shared by the daemon and
 * streetctl.  Messages name the config key or file and OpenSSL's reasons:
 *   tls.key /etc/streetd/server.key: mode 0644 is readable by others; chmod 600 it
 * err is always the caller's buffer of errlen bytes (errlen may be 0: then
 * nothing is written); nothing here allocates.
 */
#ifndef STREET_TLS_ERR_H
#define STREET_TLS_ERR_H

#include <stddef.h>

/*
 * Drains this thread's OpenSSL error queue into buf as "reason (library)"
 * pieces joined by ": ", root cause last, so the message reads from what
 * failed to why; "unknown error" when the queue was empty.
 */
void tls_reasons(char *buf, size_t cap);

/* printf into err (errlen bytes, NUL-terminated, cut short when too long). */
__attribute__((format(printf, 3, 4))) void tls_fail(char *err, size_t errlen, const char *fmt, ...);

/* Fails with "LABEL PATH: WHAT: <OpenSSL reasons>", draining the queue. */
void tls_fail_ssl(char *err, size_t errlen, const char *label, const char *path, const char *what);

#endif
