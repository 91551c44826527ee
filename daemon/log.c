#include "log.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>

#include "utf8.h"

static int log_max_level = LOG_INFO;
static bool log_journal;

static int log_clamp(int level)
{
	if (level < LOG_EMERG)
		return LOG_EMERG;
	if (level > LOG_DEBUG)
		return LOG_DEBUG;
	return level;
}

void log_init(int max_level, bool stderr_is_journal)
{
	log_max_level = log_clamp(max_level);
	log_journal = stderr_is_journal;
}

bool log_stderr_is_journal(void)
{
	const char *env = getenv("JOURNAL_STREAM");
	uintmax_t dev, ino;
	char end;
	struct stat st;
	int saved = errno;
	bool is;

	/* JOURNAL_STREAM is "DEV:INO" of the stream systemd connected. */
	if (env == NULL || sscanf(env, "%ju:%ju%c", &dev, &ino, &end) != 2)
		return false;
	is = fstat(STDERR_FILENO, &st) == 0 && (uintmax_t)st.st_dev == dev &&
	     (uintmax_t)st.st_ino == ino;
	errno = saved;
	return is;
}

void log_set_level(int max_level)
{
	log_max_level = log_clamp(max_level);
}

bool log_enabled(int level)
{
	return log_clamp(level) <= log_max_level;
}

/* "2026-03-01T09:15:02.417+08:00 " into buf; returns its length (0 on failure). */
static size_t log_timestamp(char *buf, size_t cap)
{
	struct timespec ts;
	struct tm tm;
	size_t n;
	long off;
	int r;

	if (clock_gettime(CLOCK_REALTIME, &ts) != 0 || localtime_r(&ts.tv_sec, &tm) == NULL)
		return 0;
	n = strftime(buf, cap, "%Y-%m-%dT%H:%M:%S", &tm);
	if (n == 0)
		return 0;
	off = tm.tm_gmtoff / 60;
	r = snprintf(buf + n, cap - n, ".%03ld%c%02ld:%02ld ", ts.tv_nsec / 1000000,
	             off < 0 ? '-' : '+', labs(off) / 60, labs(off) % 60);
	if (r < 0 || (size_t)r >= cap - n)
		return 0;
	return n + (size_t)r;
}

static void log_write_all(const char *buf, size_t len)
{
	while (len > 0) {
		ssize_t w = write(STDERR_FILENO, buf, len);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return; /* nowhere left to report it */
		buf += w;
		len -= (size_t)w;
	}
}

/*
 * Builds and writes one line. errnum >= 0 appends ": strerror(errnum)".
 * force: write whatever the level (fatal).
 */
__attribute__((format(printf, 2, 0))) static void log_vwrite(int level, const char *fmt, va_list ap,
                                                             int errnum, bool force)
{
	char line[LOG_LINE_MAX];
	const size_t room = sizeof(line) - 1; /* the last byte is kept for '\n' */
	size_t n = 0, body;
	bool cut = false;
	int saved = errno;
	int r;

	level = log_clamp(level);
	if (!force && level > log_max_level)
		return;
	if (!log_journal)
		n = log_timestamp(line, room);
	r = snprintf(line + n, room - n, "<%d>", level);
	n += (size_t)r;
	body = n;

	r = vsnprintf(line + n, room + 1 - n, fmt, ap);
	if (r < 0)
		r = 0;
	if ((size_t)r > room - n) {
		cut = true;
		n = room;
	} else {
		n += (size_t)r;
	}
	if (errnum >= 0 && !cut) {
		char eb[128];
		const char *es = strerror_r(errnum, eb, sizeof(eb));

		r = snprintf(line + n, room + 1 - n, ": %s", es);
		if (r < 0)
			r = 0;
		if ((size_t)r > room - n) {
			cut = true;
			n = room;
		} else {
			n += (size_t)r;
		}
	}
	if (cut) {
		/* Make room for "...", without leaving half a UTF-8 character. */
		n = body + utf8_trim(line + body, room - 3 - body);
		memcpy(line + n, "...", 3);
		n += 3;
	}
	/* Callers quote what they do not control; this is the last guard for one line. */
	for (size_t i = body; i < n; i++) {
		unsigned char c = (unsigned char)line[i];

		if (c < 0x20 || c == 0x7f)
			line[i] = ' ';
	}
	line[n++] = '\n';
	log_write_all(line, n);
	errno = saved;
}

void log_msg(int level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vwrite(level, fmt, ap, -1, false);
	va_end(ap);
}

void log_errno(int level, const char *fmt, ...)
{
	int errnum = errno;
	va_list ap;

	va_start(ap, fmt);
	log_vwrite(level, fmt, ap, errnum, false);
	va_end(ap);
}

int log_ssl_errors(int level, const char *what)
{
	bool on = log_enabled(level);
	int saved = errno;
	int count = 0;
	unsigned long e;
	const char *data;
	int flags;

	while ((e = ERR_get_error_all(NULL, NULL, NULL, &data, &flags)) != 0) {
		char es[256], full[512], q[640];

		count++;
		if (!on)
			continue; /* still drained */
		ERR_error_string_n(e, es, sizeof(es));
		if ((flags & ERR_TXT_STRING) && data != NULL && data[0] != '\0')
			snprintf(full, sizeof(full), "%s (%s)", es, data);
		else
			snprintf(full, sizeof(full), "%s", es);
		log_msg(level, "%s ssl_error=%s", what, log_quote(q, sizeof(q), full));
	}
	errno = saved;
	return count;
}

/* Characters that reorder or break text on a terminal without being seen. */
static bool log_invisible(uint32_t c)
{
	return (c >= 0x80 && c <= 0x9F) || c == 0x200E || c == 0x200F || c == 0x2028 ||
	       c == 0x2029 || (c >= 0x202A && c <= 0x202E) || (c >= 0x2066 && c <= 0x2069);
}

/*
 * The form of the character at s inside quotes, into rep (at least 9 bytes);
 * returns how many bytes of s it stands for. *plain is false when the
 * character forces quoting.
 */
static size_t log_escape_one(const unsigned char *s, char *rep, bool *plain)
{
	uint32_t c;
	size_t len = utf8_decode((const char *)s, SIZE_MAX, &c); /* s is NUL-terminated */

	*plain = false;
	if (len == 0) {
		snprintf(rep, 9, "\\x%02X", s[0]);
		return 1;
	}
	switch (c) {
	case '"':
		strcpy(rep, "\\\"");
		return len;
	case '\\':
		strcpy(rep, "\\\\");
		return len;
	case '\n':
		strcpy(rep, "\\n");
		return len;
	case '\r':
		strcpy(rep, "\\r");
		return len;
	case '\t':
		strcpy(rep, "\\t");
		return len;
	default:
		break;
	}
	if (c < 0x20 || c == 0x7F) {
		snprintf(rep, 9, "\\x%02" PRIX32, c);
	} else if (log_invisible(c)) {
		snprintf(rep, 9, "\\u%04X", (unsigned)(c & 0xFFFF)); /* all in the BMP */
	} else {
		memcpy(rep, s, len);
		rep[len] = '\0';
		*plain = c != ' ' && c != '=';
	}
	return len;
}

const char *log_quote(char *buf, size_t cap, const char *s)
{
	const unsigned char *p;
	size_t need = 2, n = 0; /* the quotes */
	bool quote;
	char rep[9];

	if (cap == 0)
		return buf;
	if (s == NULL)
		s = "-";
	quote = s[0] == '\0';
	for (p = (const unsigned char *)s; *p != '\0';) {
		bool plain;

		p += log_escape_one(p, rep, &plain);
		need += strlen(rep);
		quote = quote || !plain;
	}
	if (!quote && need - 2 < cap) {
		memcpy(buf, s, need - 2);
		buf[need - 2] = '\0';
		return buf;
	}
	if (cap < 6) {
		buf[0] = '\0';
		return buf;
	}
	/* Quoted; when it does not fit, keep room for `..."` and the NUL. */
	buf[n++] = '"';
	for (p = (const unsigned char *)s; *p != '\0';) {
		bool plain;
		size_t used = log_escape_one(p, rep, &plain);
		size_t len = strlen(rep);

		if (need + 1 > cap && n + len + 4 + 1 > cap) {
			memcpy(buf + n, "...", 3);
			n += 3;
			break;
		}
		memcpy(buf + n, rep, len);
		n += len;
		p += used;
	}
	buf[n++] = '"';
	buf[n] = '\0';
	return buf;
}

_Noreturn void fatal(const char *fmt, ...)
{
	int errnum = errno;
	va_list ap;

	va_start(ap, fmt);
	log_vwrite(LOG_ERR, fmt, ap, errnum, true);
	va_end(ap);
	exit(1);
}

_Noreturn void fatalx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vwrite(LOG_ERR, fmt, ap, -1, true);
	va_end(ap);
	exit(1);
}

_Noreturn void fatal_exit(int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vwrite(LOG_ERR, fmt, ap, -1, true);
	va_end(ap);
	exit(code);
}
