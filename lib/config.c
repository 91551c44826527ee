/*
 * config: ini-style parser driven by one table. See config.h and docs/config.md.
 *
 * Every value, defaults included, goes through parse_value() then
 * store_value(): parsing allocates nothing the field keeps until it succeeds,
 * storing cannot fail. config_parse() works on a copy so that a bad line
 * anywhere leaves the caller's config untouched.
 */
#include "config.h"

#include <arpa/inet.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "utf8.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

#define MS   1LL
#define SEC  (1000 * MS)
#define MIN  (60 * SEC)
#define HOUR (60 * MIN)

#define KIB 1024LL
#define MIB (1024 * KIB)
#define GIB (1024 * MIB)

/* Enum fields are read and written through an int. */
_Static_assert(sizeof(enum config_log_level) == sizeof(int), "enum storage");
_Static_assert(sizeof(enum config_tls_version) == sizeof(int), "enum storage");

static const struct config_choice tls_versions[] = {
	{ "1.2", CONFIG_TLS_1_2 },
	{ "1.3", CONFIG_TLS_1_3 },
	{ NULL, 0 },
};

static const struct config_choice log_levels[] = {
	{ "debug", CONFIG_LOG_DEBUG },   { "info", CONFIG_LOG_INFO },
	{ "notice", CONFIG_LOG_NOTICE }, { "warning", CONFIG_LOG_WARNING },
	{ "err", CONFIG_LOG_ERR },       { NULL, 0 },
};

#define ENTRY(sec, k, t, d, lo, hi, ch, rel, field, text)                                          \
	{                                                                                          \
		.name = sec "." k, .section = sec, .key = k, .type = t, .def = d, .min = lo,       \
		.max = hi, .choices = ch, .reload = rel,                                           \
		.offset = offsetof(struct streetd_config, field), .doc = text,                     \
	}

/* Documentation order: by section, then by how an operator reads them. */
static const struct config_entry table[] = {
	ENTRY("server", "listen", CONFIG_LISTEN, "127.0.0.1:7443", 0, 0, NULL, false, server.listen,
	      "address and TCP port on which clients connect over TLS"),

	ENTRY("http", "enabled", CONFIG_BOOL, "false", 0, 0, NULL, false, http.enabled,
	      "serve HTTPS (Open311, the browser API, /metrics) on http.listen"),
	ENTRY("http", "listen", CONFIG_LISTEN, "127.0.0.1:8443", 0, 0, NULL, false, http.listen,
	      "address and TCP port of the HTTPS listener (same certificate and TLS policy)"),
	ENTRY("http", "max_connections", CONFIG_INT, "1000", 1, 19000, NULL, true,
	      http.max_connections,
	      "HTTPS connections open at once; past it new ones wait in the kernel's backlog"),
	ENTRY("http", "max_handshakes", CONFIG_INT, "256", 1, 19000, NULL, true,
	      http.max_handshakes, "HTTPS connections still in their TLS handshake at once"),
	ENTRY("http", "max_header", CONFIG_SIZE, "8KiB", 1 * KIB, 64 * KIB, NULL, true,
	      http.max_header, "largest request line and headers together (past it: 400, closed)"),
	ENTRY("http", "request_timeout", CONFIG_DURATION, "10s", 100 * MS, 5 * MIN, NULL, true,
	      http.request_timeout_ms,
	      "time for the handshake and a whole request to arrive (then the connection is "
	      "closed)"),
	ENTRY("http", "keepalive_timeout", CONFIG_DURATION, "30s", 1 * SEC, 1 * HOUR, NULL, true,
	      http.keepalive_timeout_ms, "an idle keep-alive connection is closed after this"),
	ENTRY("http", "web_root", CONFIG_PATH, "/usr/share/streetd/web", 0, 0, NULL, true,
	      http.web_root, "directory of the web console's files, served at / (docs/console.md)"),
	ENTRY("http", "js_root", CONFIG_PATH, "/usr/share/javascript", 0, 0, NULL, true,
	      http.js_root,
	      "Debian's libjs-* directory: only chart.js/ and leaflet/ are served, under "
	      "/javascript/"),

	ENTRY("tls", "cert", CONFIG_PATH, "/etc/streetd/server.crt", 0, 0, NULL, true, tls.cert,
	      "server certificate chain (PEM)"),
	ENTRY("tls", "key", CONFIG_PATH, "/etc/streetd/server.key", 0, 0, NULL, true, tls.key,
	      "private key of the server certificate (PEM)"),
	ENTRY("tls", "ca", CONFIG_PATH, "/etc/streetd/ca.crt", 0, 0, NULL, true, tls.ca,
	      "CA certificates (PEM) that client certificates must chain to"),
	ENTRY("tls", "min_version", CONFIG_ENUM, "1.2", 0, 0, tls_versions, true, tls.min_version,
	      "oldest TLS version accepted"),
	ENTRY("tls", "crl", CONFIG_STRING, "", 0, 0, NULL, true, tls.crl,
	      "certificate revocation list (PEM) checked for client certificates; empty = none"),

	ENTRY("database", "conninfo", CONFIG_STRING, "dbname=streetd", 0, 0, NULL, false,
	      database.conninfo, "libpq connection string"),
	ENTRY("database", "pool_size", CONFIG_INT, "4", 1, 64, NULL, false, database.pool_size,
	      "database connections kept open"),
	ENTRY("database", "connect_timeout", CONFIG_DURATION, "5s", 100 * MS, 60 * SEC, NULL, true,
	      database.connect_timeout_ms, "time allowed to establish one database connection"),
	ENTRY("database", "statement_timeout", CONFIG_DURATION, "10s", 100 * MS, 10 * MIN, NULL,
	      true, database.statement_timeout_ms, "time allowed to one database statement"),
	ENTRY("database", "reconnect_max", CONFIG_DURATION, "10s", 100 * MS, 5 * MIN, NULL, true,
	      database.reconnect_max_ms, "ceiling of the backoff between reconnect attempts"),
	ENTRY("database", "read_conninfo", CONFIG_STRING, "", 0, 0, NULL, false,
	      database.read_conninfo,
	      "libpq connection string of a hot standby for the heavy reads; empty = none"),
	ENTRY("database", "read_pool_size", CONFIG_INT, "2", 1, 64, NULL, false,
	      database.read_pool_size, "connections kept open to the standby"),
	ENTRY("database", "read_max_lag", CONFIG_DURATION, "30s", 0, 1 * HOUR, NULL, true,
	      database.read_max_lag_ms,
	      "a standby further behind than this is not used; reports go to the primary"),

	ENTRY("limits", "max_line", CONFIG_SIZE, "64KiB", 1 * KIB, 16 * MIB, NULL, true,
	      limits.max_line, "longest request line a client may send"),
	ENTRY("limits", "max_inflight", CONFIG_INT, "16", 1, 1024, NULL, true, limits.max_inflight,
	      "requests in flight per session"),
	ENTRY("limits", "max_sessions", CONFIG_INT, "10000", 1, 19000, NULL, true,
	      limits.max_sessions, "sessions open at once, all accounts together"),
	ENTRY("limits", "max_sessions_per_account", CONFIG_INT, "8", 1, 1000, NULL, true,
	      limits.max_sessions_per_account, "sessions open at once for one account"),
	ENTRY("limits", "max_handshakes", CONFIG_INT, "1000", 1, 19000, NULL, true,
	      limits.max_handshakes, "connections still in their TLS handshake at once"),
	ENTRY("limits", "handshake_timeout", CONFIG_DURATION, "10s", 100 * MS, 5 * MIN, NULL, true,
	      limits.handshake_timeout_ms, "time allowed to complete the TLS handshake"),
	ENTRY("limits", "idle_timeout", CONFIG_DURATION, "300s", 1 * SEC, 24 * HOUR, NULL, true,
	      limits.idle_timeout_ms, "a session silent for this long is closed"),
	ENTRY("limits", "max_backlog", CONFIG_SIZE, "1MiB", 64 * KIB, 1 * GIB, NULL, true,
	      limits.max_backlog, "pushed events left unread by one session before it is cut off"),
	ENTRY("limits", "max_photo", CONFIG_SIZE, "5MiB", 1 * KIB, 64 * MIB, NULL, true,
	      limits.max_photo, "largest photo attached to a ticket"),
	ENTRY("limits", "drain_timeout", CONFIG_DURATION, "10s", 0, 10 * MIN, NULL, true,
	      limits.drain_timeout_ms, "on SIGTERM, time given to sessions to finish before exit"),

	ENTRY("log", "level", CONFIG_ENUM, "info", 0, 0, log_levels, true, log.level,
	      "least severe message logged"),

	ENTRY("sweeper", "enabled", CONFIG_BOOL, "true", 0, 0, NULL, true, sweeper.enabled,
	      "run the deadline sweeper (one instance acts, under an advisory lock)"),
	ENTRY("sweeper", "max_interval", CONFIG_DURATION, "60s", 1 * SEC, 1 * HOUR, NULL, true,
	      sweeper.max_interval_ms, "longest sleep between two deadline checks"),

	ENTRY("audit", "checkpoint_interval", CONFIG_DURATION, "1h", 1 * SEC, 24 * HOUR, NULL, true,
	      audit.checkpoint_interval_ms,
	      "longest time between two signed checkpoints of the event chain (when it moved)"),
	ENTRY("audit", "checkpoint_events", CONFIG_INT, "100000", 1, 100000000, NULL, true,
	      audit.checkpoint_events,
	      "events chained since the last checkpoint that call for a new one"),
};

#define NENTRIES ARRAY_SIZE(table)

/* Where errors go while one value or one line is being handled. */
struct errctx {
	struct config_error *err;
	const char *file;
	int line;
	const char *section; /* NULL or not NUL-terminated: see section_len */
	size_t section_len;
	const char *key;
};

/* A parsed value, not yet stored; s and listen.host are owned until stored. */
union value {
	char *s;
	bool b;
	int64_t i;
	struct config_listen listen;
};

/* Copies len bytes of src into dst, cutting at a UTF-8 character boundary if too long. */
static void copy_str(char *dst, size_t size, const char *src, size_t len)
{
	if (len >= size)
		len = utf8_trim(src, size - 1);
	memcpy(dst, src, len);
	dst[len] = '\0';
}

__attribute__((format(printf, 2, 3))) static int set_error(struct errctx *ec, const char *fmt, ...)
{
	struct config_error *err = ec->err;
	va_list ap;

	if (!err)
		return -1;
	copy_str(err->file, sizeof(err->file), ec->file, strlen(ec->file));
	err->line = ec->line;
	if (ec->section)
		copy_str(err->section, sizeof(err->section), ec->section, ec->section_len);
	else
		err->section[0] = '\0';
	copy_str(err->key, sizeof(err->key), ec->key ? ec->key : "", ec->key ? strlen(ec->key) : 0);
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
	return -1;
}

/*
 * Copies user text into buf for a message, cut at a character boundary so
 * one long value cannot push the rest of the message out of err->msg.
 */
static const char *shown(char *buf, size_t size, const char *s)
{
	size_t len = strlen(s);

	if (len < size) {
		memcpy(buf, s, len + 1);
		return buf;
	}
	len = utf8_trim(s, size - 4);
	memcpy(buf, s, len);
	memcpy(buf + len, "...", 4);
	return buf;
}

#define SHOWN(s) shown((char[64]){ 0 }, 64, (s))

/* --- input checks ------------------------------------------------------- */

/* Rejects NUL, control characters other than tab, and invalid UTF-8. */
static int check_text(const char *text, size_t n, struct errctx *ec)
{
	const unsigned char *s = (const unsigned char *)text;

	for (size_t i = 0; i < n;) {
		size_t len;

		if (s[i] == '\0')
			return set_error(ec, "NUL byte at column %zu", i + 1);
		if ((s[i] < 0x20 && s[i] != '\t') || s[i] == 0x7f)
			return set_error(ec, "control character 0x%02x at column %zu", s[i], i + 1);
		len = utf8_decode(text + i, n - i, NULL);
		if (len == 0)
			return set_error(ec, "invalid UTF-8 at column %zu", i + 1);
		i += len;
	}
	return 0;
}

static bool is_blank(char c)
{
	return c == ' ' || c == '\t';
}

/* Trims spaces and tabs in place; returns the new start. */
static char *trim(char *s)
{
	size_t len;

	while (is_blank(*s))
		s++;
	len = strlen(s);
	while (len > 0 && is_blank(s[len - 1]))
		s[--len] = '\0';
	return s;
}

/* --- value parsers: text -> union value, allocating only on success ------- */

/*
 * Strict decimal: optional '-', digits, no leading zero, no '+', no spaces.
 * Stops at the first non-digit (*end). Returns 0, -1 if not a number, or 1 if
 * it does not fit in int64_t.
 */
static int scan_decimal(const char *s, int64_t *out, const char **end)
{
	bool neg = *s == '-';
	uint64_t limit = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
	uint64_t v = 0;
	bool overflow = false;
	const char *p = s + neg;

	if (*p < '0' || *p > '9')
		return -1;
	if (p[0] == '0' && p[1] >= '0' && p[1] <= '9')
		return -1;
	for (; *p >= '0' && *p <= '9'; p++) {
		unsigned d = (unsigned)(*p - '0');

		if (v > (limit - d) / 10)
			overflow = true;
		else
			v = v * 10 + d;
	}
	*end = p;
	if (overflow)
		return 1;
	if (neg)
		*out = v == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)v;
	else
		*out = (int64_t)v;
	return 0;
}

struct unit {
	const char *name;
	int64_t mult;
};

static const struct unit duration_units[] = {
	{ "h", HOUR }, { "m", MIN }, { "s", SEC }, { "ms", MS }, { NULL, 0 },
};

static const struct unit size_units[] = {
	{ "GiB", GIB }, { "MiB", MIB }, { "KiB", KIB }, { "B", 1 }, { NULL, 0 },
};

/* Writes v in the largest unit that holds it exactly ("90s", "64KiB"; zero is "0s" or "0B"). */
static int format_unit(char *buf, size_t size, int64_t v, const struct unit *units)
{
	const struct unit *u = units;

	if (v == 0)
		return snprintf(buf, size, "0%s", units == duration_units ? "s" : "B");
	while (u[1].name && v % u->mult != 0)
		u++;
	return snprintf(buf, size, "%" PRId64 "%s", v / u->mult, u->name);
}

static int out_of_range(const struct config_entry *e, const char *text, struct errctx *ec)
{
	char lo[32], hi[32];

	switch (e->type) {
	case CONFIG_DURATION:
		format_unit(lo, sizeof(lo), e->min, duration_units);
		format_unit(hi, sizeof(hi), e->max, duration_units);
		break;
	case CONFIG_SIZE:
		format_unit(lo, sizeof(lo), e->min, size_units);
		format_unit(hi, sizeof(hi), e->max, size_units);
		break;
	default:
		snprintf(lo, sizeof(lo), "%" PRId64, e->min);
		snprintf(hi, sizeof(hi), "%" PRId64, e->max);
		break;
	}
	return set_error(ec, "\"%s\" is out of range (%s..%s)", SHOWN(text), lo, hi);
}

static int parse_int(const struct config_entry *e, const char *s, int64_t *out, struct errctx *ec)
{
	const char *end;
	int rc = scan_decimal(s, out, &end);

	if (rc < 0 || *end != '\0')
		return set_error(ec, "\"%s\" is not a decimal integer", SHOWN(s));
	if (rc > 0 || *out < e->min || *out > e->max)
		return out_of_range(e, s, ec);
	return 0;
}

/* Shared by durations and sizes: a number immediately followed by a unit. */
static int parse_with_unit(const struct config_entry *e, const char *s, const struct unit *units,
                           const char *what, const char *hint, int64_t *out, struct errctx *ec)
{
	const char *end;
	int64_t n;
	int rc = scan_decimal(s, &n, &end);
	const struct unit *u;

	if (rc < 0)
		return set_error(ec, "\"%s\" is not a %s (use %s)", SHOWN(s), what, hint);
	if (*end == '\0')
		return set_error(ec, "\"%s\" has no unit (use %s)", SHOWN(s), hint);
	for (u = units; u->name; u++) {
		if (strcmp(end, u->name) == 0)
			break;
	}
	if (!u->name)
		return set_error(ec, "\"%s\" is not a %s (use %s)", SHOWN(s), what, hint);
	if (rc > 0 || n > INT64_MAX / u->mult || n < INT64_MIN / u->mult)
		return out_of_range(e, s, ec);
	*out = n * u->mult;
	if (*out < e->min || *out > e->max)
		return out_of_range(e, s, ec);
	return 0;
}

static int parse_bool(const char *s, bool *out, struct errctx *ec)
{
	static const char *const yes[] = { "true", "yes", "on", "1" };
	static const char *const no[] = { "false", "no", "off", "0" };

	for (size_t i = 0; i < ARRAY_SIZE(yes); i++) {
		if (strcmp(s, yes[i]) == 0) {
			*out = true;
			return 0;
		}
		if (strcmp(s, no[i]) == 0) {
			*out = false;
			return 0;
		}
	}
	return set_error(ec, "\"%s\" is not a bool (use true/false, yes/no, on/off or 1/0)",
	                 SHOWN(s));
}

static int parse_enum(const struct config_entry *e, const char *s, int64_t *out, struct errctx *ec)
{
	char list[128];
	size_t used = 0;

	for (const struct config_choice *c = e->choices; c->name; c++) {
		if (strcmp(s, c->name) == 0) {
			*out = c->value;
			return 0;
		}
	}
	list[0] = '\0';
	for (const struct config_choice *c = e->choices; c->name && used < sizeof(list); c++) {
		int n = snprintf(list + used, sizeof(list) - used, "%s%s",
		                 c == e->choices ? "" : ", ", c->name);
		if (n < 0)
			break;
		used += (size_t)n;
	}
	return set_error(ec, "\"%s\" is not one of: %s", SHOWN(s), list);
}

/* RFC 1123 host name: dot-separated labels of letters, digits and '-'. */
static bool valid_hostname(const char *s)
{
	size_t total = strlen(s), label = 0;

	if (total == 0 || total > 253)
		return false;
	for (const char *p = s;; p++) {
		if (*p == '.' || *p == '\0') {
			if (label == 0 || label > 63 || p[-1] == '-')
				return false;
			if (*p == '\0')
				return true;
			label = 0;
			continue;
		}
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		      (*p >= '0' && *p <= '9') || *p == '-'))
			return false;
		if (label == 0 && *p == '-')
			return false;
		label++;
	}
}

static int parse_listen(const char *s, struct config_listen *out, struct errctx *ec)
{
	char host[256];
	const char *colon, *port;
	size_t hlen;
	unsigned char addr[16];
	int64_t n;
	const char *end;

	if (s[0] == '[') {
		const char *close = strchr(s, ']');

		if (!close || close[1] != ':')
			return set_error(ec, "\"%s\" is not a listen address (use [IPv6]:port)",
			                 SHOWN(s));
		hlen = (size_t)(close - s - 1);
		if (hlen >= sizeof(host))
			return set_error(ec, "\"%s\": host is too long", SHOWN(s));
		memcpy(host, s + 1, hlen);
		host[hlen] = '\0';
		if (inet_pton(AF_INET6, host, addr) != 1)
			return set_error(ec, "\"%s\" is not a valid IPv6 address", SHOWN(host));
		port = close + 2;
	} else {
		colon = strrchr(s, ':');
		if (!colon)
			return set_error(ec, "\"%s\" has no port (use host:port)", SHOWN(s));
		hlen = (size_t)(colon - s);
		if (hlen == 0)
			return set_error(ec, "\"%s\" has no host (use host:port)", SHOWN(s));
		if (hlen >= sizeof(host))
			return set_error(ec, "\"%s\": host is too long", SHOWN(s));
		memcpy(host, s, hlen);
		host[hlen] = '\0';
		if (strchr(host, ':'))
			return set_error(ec, "\"%s\": an IPv6 address must be in brackets",
			                 SHOWN(s));
		if (strspn(host, "0123456789.") == hlen) {
			if (inet_pton(AF_INET, host, addr) != 1)
				return set_error(ec, "\"%s\" is not a valid IPv4 address",
				                 SHOWN(host));
		} else if (!valid_hostname(host)) {
			return set_error(ec, "\"%s\" is not a valid host name", SHOWN(host));
		}
		port = colon + 1;
	}
	if (scan_decimal(port, &n, &end) != 0 || *end != '\0' || n < 1 || n > 65535)
		return set_error(ec, "\"%s\": port must be a number in 1..65535", SHOWN(s));
	out->host = strdup(host);
	if (!out->host)
		return set_error(ec, "out of memory");
	out->port = (int)n;
	return 0;
}

/* Parses the already unquoted text s for entry e. */
static int parse_value(const struct config_entry *e, const char *s, union value *v,
                       struct errctx *ec)
{
	switch (e->type) {
	case CONFIG_STRING:
	case CONFIG_PATH:
		if (e->type == CONFIG_PATH && *s == '\0')
			return set_error(ec, "a path must not be empty");
		v->s = strdup(s);
		if (!v->s)
			return set_error(ec, "out of memory");
		return 0;
	case CONFIG_BOOL:
		return parse_bool(s, &v->b, ec);
	case CONFIG_INT:
		return parse_int(e, s, &v->i, ec);
	case CONFIG_DURATION:
		return parse_with_unit(e, s, duration_units, "duration", "ms, s, m or h", &v->i,
		                       ec);
	case CONFIG_SIZE:
		return parse_with_unit(e, s, size_units, "size", "B, KiB, MiB or GiB", &v->i, ec);
	case CONFIG_ENUM:
		return parse_enum(e, s, &v->i, ec);
	case CONFIG_LISTEN:
		return parse_listen(s, &v->listen, ec);
	}
	return set_error(ec, "internal error: unknown type");
}

/* --- field access -------------------------------------------------------- */

static void *field(struct streetd_config *cfg, const struct config_entry *e)
{
	return (char *)cfg + e->offset;
}

static const void *cfield(const struct streetd_config *cfg, const struct config_entry *e)
{
	return (const char *)cfg + e->offset;
}

/* Moves v into cfg, freeing what the field held. Cannot fail. */
static void store_value(struct streetd_config *cfg, const struct config_entry *e, union value *v)
{
	void *f = field(cfg, e);
	int i;

	switch (e->type) {
	case CONFIG_STRING:
	case CONFIG_PATH:
		free(*(char **)f);
		*(char **)f = v->s;
		break;
	case CONFIG_BOOL:
		*(bool *)f = v->b;
		break;
	case CONFIG_INT:
		*(int *)f = (int)v->i;
		break;
	case CONFIG_DURATION:
	case CONFIG_SIZE:
		*(int64_t *)f = v->i;
		break;
	case CONFIG_ENUM:
		i = (int)v->i;
		memcpy(f, &i, sizeof(i));
		break;
	case CONFIG_LISTEN:
		free(((struct config_listen *)f)->host);
		*(struct config_listen *)f = v->listen;
		break;
	}
}

static bool value_equal(const struct config_entry *e, const struct streetd_config *a,
                        const struct streetd_config *b)
{
	const void *fa = cfield(a, e), *fb = cfield(b, e);
	const struct config_listen *la = fa, *lb = fb;
	const char *sa, *sb;

	switch (e->type) {
	case CONFIG_STRING:
	case CONFIG_PATH:
		sa = *(char *const *)fa;
		sb = *(char *const *)fb;
		return sa == sb || (sa && sb && strcmp(sa, sb) == 0);
	case CONFIG_BOOL:
		return *(const bool *)fa == *(const bool *)fb;
	case CONFIG_INT:
	case CONFIG_ENUM:
		return memcmp(fa, fb, sizeof(int)) == 0;
	case CONFIG_DURATION:
	case CONFIG_SIZE:
		return *(const int64_t *)fa == *(const int64_t *)fb;
	case CONFIG_LISTEN:
		if (la->port != lb->port)
			return false;
		return la->host == lb->host ||
		       (la->host && lb->host && !strcmp(la->host, lb->host));
	}
	return false;
}

/*
 * Handles the right-hand side of "key = value" (also config_set's value):
 * trims, unquotes, parses and stores into cfg.
 */
static int apply_rhs(struct streetd_config *cfg, const struct config_entry *e, char *rhs,
                     struct errctx *ec)
{
	char *s = trim(rhs);
	union value v;

	if (*s == '"') {
		char *out = s, *p = s + 1;

		for (;; p++) {
			if (*p == '\0')
				return set_error(ec, "unterminated quote");
			if (*p == '"')
				break;
			if (*p == '\\') {
				p++;
				if (*p != '"' && *p != '\\') {
					if (*p == '\0')
						return set_error(ec, "unterminated quote");
					return set_error(ec,
					                 "unknown escape '\\%c' in quotes "
					                 "(only \\\" and \\\\)",
					                 *p);
				}
			}
			*out++ = *p;
		}
		if (p[1] != '\0')
			return set_error(ec, "text after the closing quote");
		*out = '\0';
	} else if (strpbrk(s, "#;")) {
		/* Only full-line comments exist: a '#' here is a mistake or needs quotes. */
		return set_error(ec,
		                 "'%c' in an unquoted value: comments go on their own line, "
		                 "or quote the value",
		                 *strpbrk(s, "#;"));
	}
	if (parse_value(e, s, &v, ec) < 0)
		return -1;
	store_value(cfg, e, &v);
	return 0;
}

/* --- table ------------------------------------------------------------------ */

const struct config_entry *config_table(size_t *n)
{
	if (n)
		*n = NENTRIES;
	return table;
}

static bool section_known(const char *s, size_t len)
{
	for (size_t i = 0; i < NENTRIES; i++) {
		if (strlen(table[i].section) == len && memcmp(table[i].section, s, len) == 0)
			return true;
	}
	return false;
}

static const struct config_entry *lookup(const char *section, size_t slen, const char *key)
{
	for (size_t i = 0; i < NENTRIES; i++) {
		if (strlen(table[i].section) == slen &&
		    memcmp(table[i].section, section, slen) == 0 && strcmp(table[i].key, key) == 0)
			return &table[i];
	}
	return NULL;
}

const struct config_entry *config_lookup(const char *dotted_key)
{
	const char *dot = strchr(dotted_key, '.');

	if (!dot)
		return NULL;
	return lookup(dotted_key, (size_t)(dot - dotted_key), dot + 1);
}

/* --- lifetime ---------------------------------------------------------------- */

void config_free(struct streetd_config *cfg)
{
	for (size_t i = 0; i < NENTRIES; i++) {
		void *f = field(cfg, &table[i]);

		if (table[i].type == CONFIG_STRING || table[i].type == CONFIG_PATH) {
			free(*(char **)f);
			*(char **)f = NULL;
		} else if (table[i].type == CONFIG_LISTEN) {
			free(((struct config_listen *)f)->host);
			((struct config_listen *)f)->host = NULL;
		}
	}
}

int config_defaults(struct streetd_config *cfg)
{
	struct errctx ec = { .file = "<defaults>" };
	char buf[CONFIG_MAX_LINE + 1];

	memset(cfg, 0, sizeof(*cfg));
	for (size_t i = 0; i < NENTRIES; i++) {
		copy_str(buf, sizeof(buf), table[i].def, strlen(table[i].def));
		if (apply_rhs(cfg, &table[i], buf, &ec) < 0) {
			config_free(cfg);
			return -1;
		}
	}
	return 0;
}

int config_copy(struct streetd_config *dst, const struct streetd_config *src)
{
	*dst = *src;
	/* First drop every borrowed pointer, so a failure frees only our own copies. */
	for (size_t i = 0; i < NENTRIES; i++) {
		void *f = field(dst, &table[i]);

		if (table[i].type == CONFIG_STRING || table[i].type == CONFIG_PATH)
			*(char **)f = NULL;
		else if (table[i].type == CONFIG_LISTEN)
			((struct config_listen *)f)->host = NULL;
	}
	for (size_t i = 0; i < NENTRIES; i++) {
		const void *sf = cfield(src, &table[i]);
		void *df = field(dst, &table[i]);
		const char *s;
		char **d;

		if (table[i].type == CONFIG_STRING || table[i].type == CONFIG_PATH) {
			s = *(char *const *)sf;
			d = (char **)df;
		} else if (table[i].type == CONFIG_LISTEN) {
			s = ((const struct config_listen *)sf)->host;
			d = &((struct config_listen *)df)->host;
		} else {
			continue;
		}
		if (s && !(*d = strdup(s))) {
			config_free(dst);
			return -1;
		}
	}
	return 0;
}

/* --- parsing -------------------------------------------------------------- */

/* "[section]": checks the name and makes it current. */
static int parse_section(char *s, struct errctx *ec, const char **section, size_t *section_len)
{
	char *close = strchr(s, ']');
	char *name;

	ec->section = NULL;
	ec->key = NULL;
	if (!close)
		return set_error(ec, "section header without closing ']'");
	if (close[1] != '\0')
		return set_error(ec, "text after the section header");
	*close = '\0';
	name = trim(s + 1);
	if (*name == '\0')
		return set_error(ec, "empty section name");
	/* Point into the table, not into the line buffer, which is reused. */
	for (size_t i = 0; i < NENTRIES; i++) {
		if (strcmp(table[i].section, name) == 0) {
			*section = table[i].section;
			*section_len = strlen(*section);
			return 0;
		}
	}
	return set_error(ec, "unknown section [%s]", SHOWN(name));
}

struct parse_state {
	struct streetd_config *cfg;
	struct errctx *ec;
	const char *section; /* static, from the table; NULL before the first header */
	size_t section_len;
	int set_on[NENTRIES]; /* line where each key was set, 0 = not yet */
};

static int parse_line(struct parse_state *st, char *line)
{
	struct errctx *ec = st->ec;
	char *s = trim(line), *eq, *key;
	const struct config_entry *e;

	if (*s == '\0' || *s == '#' || *s == ';')
		return 0;
	if (*s == '[')
		return parse_section(s, ec, &st->section, &st->section_len);

	ec->section = st->section;
	ec->section_len = st->section_len;
	eq = strchr(s, '=');
	if (!eq) {
		ec->key = s;
		s[strcspn(s, " \t")] = '\0';
		return set_error(ec, "missing '=' (expected key = value)");
	}
	*eq = '\0';
	key = trim(s);
	ec->key = key;
	if (*key == '\0')
		return set_error(ec, "missing key before '='");
	if (!st->section)
		return set_error(ec, "key outside any section (add a [section] header above it)");
	e = lookup(st->section, st->section_len, key);
	if (!e)
		return set_error(ec, "unknown key");
	if (st->set_on[e - table])
		return set_error(ec, "duplicate key (first set on line %d)", st->set_on[e - table]);
	if (apply_rhs(st->cfg, e, eq + 1, ec) < 0)
		return -1;
	st->set_on[e - table] = ec->line;
	return 0;
}

static int parse_text(struct streetd_config *cfg, const char *text, size_t len, struct errctx *ec)
{
	struct parse_state st = { .cfg = cfg, .ec = ec };
	char buf[CONFIG_MAX_LINE + 1];
	size_t pos = 0;

	/* Editors on Windows may add a byte order mark. */
	if (len >= 3 && memcmp(text, "\xef\xbb\xbf", 3) == 0)
		pos = 3;
	while (pos < len) {
		const char *nl = memchr(text + pos, '\n', len - pos);
		size_t end = nl ? (size_t)(nl - text) : len;
		size_t n = end - pos;

		ec->line++;
		ec->section = NULL;
		ec->key = NULL;
		if (n > 0 && text[pos + n - 1] == '\r')
			n--;
		if (n > CONFIG_MAX_LINE)
			return set_error(ec, "line is longer than %d bytes", CONFIG_MAX_LINE);
		if (check_text(text + pos, n, ec) < 0)
			return -1;
		memcpy(buf, text + pos, n);
		buf[n] = '\0';
		if (parse_line(&st, buf) < 0)
			return -1;
		pos = nl ? end + 1 : len;
	}
	return 0;
}

static void clear_error(struct config_error *err)
{
	if (err)
		memset(err, 0, sizeof(*err));
}

int config_parse(struct streetd_config *cfg, const char *text, size_t len, const char *filename,
                 struct config_error *err)
{
	struct errctx ec = { .err = err, .file = filename ? filename : "<input>" };
	struct streetd_config tmp;

	clear_error(err);
	if (len > CONFIG_MAX_INPUT)
		return set_error(&ec, "file is larger than %d bytes", CONFIG_MAX_INPUT);
	if (config_copy(&tmp, cfg) < 0)
		return set_error(&ec, "out of memory");
	if (parse_text(&tmp, text, len, &ec) < 0) {
		config_free(&tmp);
		return -1;
	}
	config_free(cfg);
	*cfg = tmp;
	return 0;
}

int config_set(struct streetd_config *cfg, const char *dotted_key, const char *value,
               struct config_error *err)
{
	struct errctx ec = { .err = err, .file = "--set", .key = dotted_key };
	const char *dot = strchr(dotted_key, '.');
	const struct config_entry *e;
	char buf[CONFIG_MAX_LINE + 1];
	size_t vlen = strlen(value);

	clear_error(err);
	if (check_text(dotted_key, strlen(dotted_key), &ec) < 0)
		return -1;
	if (!dot)
		return set_error(&ec, "expected section.key");
	if (!section_known(dotted_key, (size_t)(dot - dotted_key)))
		return set_error(&ec, "unknown section");
	ec.section = dotted_key;
	ec.section_len = (size_t)(dot - dotted_key);
	ec.key = dot + 1;
	e = lookup(dotted_key, ec.section_len, ec.key);
	if (!e)
		return set_error(&ec, "unknown key");
	if (vlen > CONFIG_MAX_LINE)
		return set_error(&ec, "value is longer than %d bytes", CONFIG_MAX_LINE);
	if (check_text(value, vlen, &ec) < 0)
		return -1;
	memcpy(buf, value, vlen + 1);
	return apply_rhs(cfg, e, buf, &ec);
}

/* --- comparing and printing ------------------------------------------------ */

static size_t changed(const struct streetd_config *old, const struct streetd_config *next,
                      const char **keys, size_t max, bool fixed_only)
{
	size_t count = 0;

	for (size_t i = 0; i < NENTRIES; i++) {
		if (fixed_only && table[i].reload)
			continue;
		if (value_equal(&table[i], old, next))
			continue;
		if (keys && count < max)
			keys[count] = table[i].name;
		count++;
	}
	return count;
}

size_t config_changed(const struct streetd_config *old, const struct streetd_config *next,
                      const char **keys, size_t max)
{
	return changed(old, next, keys, max, false);
}

size_t config_changed_fixed(const struct streetd_config *old, const struct streetd_config *next,
                            const char **keys, size_t max)
{
	return changed(old, next, keys, max, true);
}

/* Appends c if it fits, counting it either way, as snprintf() does. */
static void put(char *buf, size_t size, size_t *used, char c)
{
	if (*used + 1 < size)
		buf[*used] = c;
	(*used)++;
}

/* Unquoted text reads back the same unless it is empty, padded, or holds '#', ';' or a leading '"'.
 */
static int format_string(char *buf, size_t size, const char *s)
{
	size_t len = strlen(s), used = 0;

	if (len > 0 && !is_blank(s[0]) && !is_blank(s[len - 1]) && s[0] != '"' && !strpbrk(s, "#;"))
		return snprintf(buf, size, "%s", s);
	put(buf, size, &used, '"');
	for (const char *p = s; *p; p++) {
		if (*p == '"' || *p == '\\')
			put(buf, size, &used, '\\');
		put(buf, size, &used, *p);
	}
	put(buf, size, &used, '"');
	if (size > 0)
		buf[used < size ? used : size - 1] = '\0';
	return (int)used;
}

int config_format_value(const struct streetd_config *cfg, const struct config_entry *e, char *buf,
                        size_t size)
{
	const void *f = cfield(cfg, e);
	const struct config_listen *l = f;
	int i;

	switch (e->type) {
	case CONFIG_STRING:
	case CONFIG_PATH:
		if (!*(char *const *)f)
			return -1;
		return format_string(buf, size, *(char *const *)f);
	case CONFIG_BOOL:
		return snprintf(buf, size, "%s", *(const bool *)f ? "true" : "false");
	case CONFIG_INT:
		return snprintf(buf, size, "%d", *(const int *)f);
	case CONFIG_DURATION:
		return format_unit(buf, size, *(const int64_t *)f, duration_units);
	case CONFIG_SIZE:
		return format_unit(buf, size, *(const int64_t *)f, size_units);
	case CONFIG_ENUM:
		memcpy(&i, f, sizeof(i));
		for (const struct config_choice *c = e->choices; c->name; c++) {
			if (c->value == i)
				return snprintf(buf, size, "%s", c->name);
		}
		return -1;
	case CONFIG_LISTEN:
		if (!l->host)
			return -1;
		if (strchr(l->host, ':'))
			return snprintf(buf, size, "[%s]:%d", l->host, l->port);
		return snprintf(buf, size, "%s:%d", l->host, l->port);
	}
	return -1;
}

int config_error_format(const struct config_error *err, char *buf, size_t size)
{
	char where[300];

	if (err->line > 0)
		snprintf(where, sizeof(where), "%s:%d", err->file, err->line);
	else
		snprintf(where, sizeof(where), "%s", err->file);
	if (err->section[0])
		return snprintf(buf, size, "%s: [%s] %s: %s", where, err->section, err->key,
		                err->msg);
	if (err->key[0])
		return snprintf(buf, size, "%s: %s: %s", where, err->key, err->msg);
	return snprintf(buf, size, "%s: %s", where, err->msg);
}
