/*
 * proto: the wire protocol codec.
 *
 * A line goes through two parsers.  json-c builds the tree the fields are
 * read from, but json-c 0.16 is lax (NaN, single quotes, raw control
 * characters, overlong UTF-8, lone surrogates, "-01", "1.", clamped
 * integers, duplicate keys kept last-wins), so a small recursive scanner of
 * our own checks the same bytes against RFC 8259 and strict UTF-8 first.
 * The scanner is the authority on syntax; json-c only has to agree.
 * Duplicate keys are found by counting: the scanner counts every object
 * member it sees, json-c's tree holds one per distinct key, so the totals
 * differ exactly when some object repeats a key (the outermost such object
 * always survives into the tree).  Only then are the root's keys compared
 * pairwise to name the culprit.
 */
#include "proto.h"

#include <json-c/json.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define PROTO_STR_(x) #x
#define PROTO_STR(x)  PROTO_STR_(x)

/* Longest client-supplied name (key, op) quoted back in a message, in bytes. */
#define PROTO_ECHO_MAX 40

/* ------------------------------------------------------------------------ */
/* The op table.  Field order is the SQL binding order: see proto.h. */

static const char *const proto_states[] = {
	"reported", "dispatched", "accepted", "resolved", "closed", "cancelled", NULL,
};

#define F_INT(n, req, lo, hi)                                                                      \
	{                                                                                          \
		.name = (n), .type = PROTO_T_INT, .required = (req), .min = (lo), .max = (hi)      \
	}
/* A bigint id (ticket, event seq, photo, upload): 1 .. 2^53-1. */
#define F_ID(n, req) F_INT(n, req, 1, PROTO_INT_MAX)
/* An integer id or count the SQL side binds as "integer". */
#define F_ID4(n, req) F_INT(n, req, 1, PROTO_INT4_MAX)
#define F_TEXT(n, req, hi)                                                                         \
	{                                                                                          \
		.name = (n), .type = PROTO_T_TEXT, .required = (req), .min = 0, .max = (hi)        \
	}
#define F_BOOL(n, req)                                                                             \
	{                                                                                          \
		.name = (n), .type = PROTO_T_BOOL, .required = (req)                               \
	}
#define F_TS(n, req)                                                                               \
	{                                                                                          \
		.name = (n), .type = PROTO_T_TIMESTAMP, .required = (req)                          \
	}
#define F_NUM(n, lo, hi)                                                                           \
	{                                                                                          \
		.name = (n), .type = PROTO_T_NUMBER, .dmin = (lo), .dmax = (hi)                    \
	}
#define F_PHOTOS                                                                                   \
	{                                                                                          \
		.name = "photos", .type = PROTO_T_ID_ARRAY, .min = 1, .max = PROTO_MAX_PHOTOS      \
	}
#define F_KEY                                                                                      \
	{                                                                                          \
		.name = "key", .type = PROTO_T_TEXT, .min = 1, .max = 100                          \
	}
#define F_TICKET       F_ID("ticket", true)
#define F_VERSION(req) F_ID4("version", req)
#define F_LIMIT        F_INT("limit", false, 1, 200)

static const struct proto_field proto_f_report[] = {
	F_ID4("category", true),
	F_ID4("grid", true),
	F_TEXT("description", true, 4000),
	F_TEXT("address", false, 400),
	F_NUM("lat", -90.0, 90.0),
	F_NUM("lon", -180.0, 180.0),
	F_BOOL("urgent", false),
	F_PHOTOS,
	F_KEY,
};
static const struct proto_field proto_f_dispatch[] = {
	F_TICKET, F_VERSION(true), F_ID4("department", false), F_TEXT("note", false, 4000), F_KEY,
};
static const struct proto_field proto_f_return[] = {
	F_TICKET,
	F_VERSION(true),
	F_TEXT("reason", true, 4000),
	F_KEY,
};
static const struct proto_field proto_f_accept[] = {
	F_TICKET,
	F_VERSION(true),
	F_KEY,
};
static const struct proto_field proto_f_resolve[] = {
	F_TICKET, F_VERSION(true), F_TEXT("note", true, 4000), F_PHOTOS, F_KEY,
};
static const struct proto_field proto_f_confirm[] = {
	F_TICKET, F_VERSION(true), F_INT("rating", true, 1, 5), F_TEXT("comment", false, 4000),
	F_KEY,
};
static const struct proto_field proto_f_reopen[] = {
	F_TICKET,
	F_VERSION(true),
	F_TEXT("reason", true, 4000),
	F_KEY,
};
static const struct proto_field proto_f_cancel[] = {
	F_TICKET, F_VERSION(true), F_TEXT("reason", false, 4000), F_ID("duplicate_of", false),
	F_KEY,
};
/* urge, extend_grant, extend_deny */
static const struct proto_field proto_f_note_only[] = {
	F_TICKET,
	F_TEXT("note", false, 4000),
	F_VERSION(false),
	F_KEY,
};
static const struct proto_field proto_f_extend_request[] = {
	F_TICKET, F_TS("until", true), F_TEXT("reason", true, 4000), F_VERSION(false), F_KEY,
};
static const struct proto_field proto_f_comment[] = {
	F_TICKET,
	F_TEXT("text", true, 4000),
	F_VERSION(false),
	F_KEY,
};
static const struct proto_field proto_f_arbitrate[] = {
	F_TICKET,
	F_ID("return_seq", true),
	F_BOOL("upheld", true),
	F_TEXT("note", false, 4000),
	F_VERSION(false),
	F_KEY,
};
/* get, route */
static const struct proto_field proto_f_ticket_only[] = {
	F_TICKET,
};
static const struct proto_field proto_f_list[] = {
	{ .name = "state", .type = PROTO_T_ENUM, .choices = proto_states },
	F_ID4("category", false),
	F_ID4("grid", false),
	F_ID4("department", false),
	F_BOOL("overdue", false),
	F_TEXT("text", false, 100),
	F_TS("from", false),
	F_TS("to", false),
	F_ID("after", false),
	F_LIMIT,
};
static const struct proto_field proto_f_overdue[] = {
	{ .name = "after", .type = PROTO_T_CURSOR, .min = 1, .max = 100 },
	F_LIMIT,
};
static const struct proto_field proto_f_subscribe[] = {
	F_INT("since", false, 0, PROTO_INT_MAX),
	F_ID4("category", false),
	F_ID4("grid", false),
	{ .name = "state", .type = PROTO_T_ENUM, .choices = proto_states },
};
static const struct proto_field proto_f_photo_begin[] = {
	F_INT("size", true, 1, PROTO_INT4_MAX),
	{ .name = "sha256", .type = PROTO_T_SHA256, .required = true, .min = 64, .max = 64 },
};
static const struct proto_field proto_f_photo_chunk[] = {
	F_ID("upload", true),
	F_INT("offset", true, 0, PROTO_INT4_MAX),
	{ .name = "data", .type = PROTO_T_BASE64, .required = true, .min = 4, .max = 43692 },
};
static const struct proto_field proto_f_photo_end[] = {
	F_ID("upload", true),
};
static const struct proto_field proto_f_photo_get[] = {
	F_ID("photo", true),
	F_INT("offset", false, 0, PROTO_INT4_MAX),
	F_INT("length", false, 1, PROTO_CHUNK_MAX),
};

/* fn: the database function the op calls (street.fn), NULL when the daemon
 * answers it itself; OPP: limits.max_photo is passed as the last argument. */
#define OPX(e, n, fn, act, f, mp)                                                                  \
	[e] = {                                                                                    \
		.name = (n),                                                                       \
		.op = (e),                                                                         \
		.action = (act),                                                                   \
		.nfields = (int)(sizeof(f) / sizeof((f)[0])),                                      \
		.fields = (f),                                                                     \
		.sql_func = (fn),                                                                  \
		.sql_max_photo = (mp),                                                             \
	}
#define OP(e, n, fn, act, f) OPX(e, n, fn, act, f, false)
#define OPP(e, n, fn, f)     OPX(e, n, fn, false, f, true)
#define OP0(e, n, fn)        [e] = { .name = (n), .op = (e), .sql_func = (fn) }

static const struct proto_op_spec proto_ops[PROTO_OP_COUNT] = {
	OP0(PROTO_OP_WHOAMI, "whoami", "st_whoami"),
	OP0(PROTO_OP_CATEGORIES, "categories", "st_categories"),
	OP0(PROTO_OP_DEPARTMENTS, "departments", "st_departments"),
	OP0(PROTO_OP_PLACES, "places", "st_places"),
	OP(PROTO_OP_REPORT, "report", "st_report", true, proto_f_report),
	OP(PROTO_OP_DISPATCH, "dispatch", "st_dispatch", true, proto_f_dispatch),
	OP(PROTO_OP_RETURN, "return", "st_return", true, proto_f_return),
	OP(PROTO_OP_ACCEPT, "accept", "st_accept", true, proto_f_accept),
	OP(PROTO_OP_RESOLVE, "resolve", "st_resolve", true, proto_f_resolve),
	OP(PROTO_OP_CONFIRM, "confirm", "st_confirm", true, proto_f_confirm),
	OP(PROTO_OP_REOPEN, "reopen", "st_reopen", true, proto_f_reopen),
	OP(PROTO_OP_CANCEL, "cancel", "st_cancel", true, proto_f_cancel),
	OP(PROTO_OP_URGE, "urge", "st_urge", true, proto_f_note_only),
	OP(PROTO_OP_EXTEND_REQUEST, "extend_request", "st_extend_request", true,
	   proto_f_extend_request),
	OP(PROTO_OP_EXTEND_GRANT, "extend_grant", "st_extend_grant", true, proto_f_note_only),
	OP(PROTO_OP_EXTEND_DENY, "extend_deny", "st_extend_deny", true, proto_f_note_only),
	OP(PROTO_OP_COMMENT, "comment", "st_comment", true, proto_f_comment),
	OP(PROTO_OP_ARBITRATE, "arbitrate", "st_arbitrate", true, proto_f_arbitrate),
	OP(PROTO_OP_GET, "get", "st_get", false, proto_f_ticket_only),
	OP(PROTO_OP_LIST, "list", "st_list", false, proto_f_list),
	OP(PROTO_OP_OVERDUE, "overdue", "st_overdue", false, proto_f_overdue),
	OP(PROTO_OP_ROUTE, "route", "st_route_ticket", false, proto_f_ticket_only),
	OPP(PROTO_OP_PHOTO_BEGIN, "photo_begin", "st_photo_begin", proto_f_photo_begin),
	OP(PROTO_OP_PHOTO_CHUNK, "photo_chunk", "st_photo_chunk", false, proto_f_photo_chunk),
	OP(PROTO_OP_PHOTO_END, "photo_end", "st_photo_end", false, proto_f_photo_end),
	OP(PROTO_OP_PHOTO_GET, "photo_get", "st_photo_get", false, proto_f_photo_get),
	OP(PROTO_OP_SUBSCRIBE, "subscribe", NULL, false, proto_f_subscribe),
	OP0(PROTO_OP_UNSUBSCRIBE, "unsubscribe", NULL),
};

static const char *const proto_error_names[PROTO_ERR_COUNT] = {
	[PROTO_OK] = "ok",
	[PROTO_ERR_BAD_REQUEST] = "bad_request",
	[PROTO_ERR_UNAUTHENTICATED] = "unauthenticated",
	[PROTO_ERR_FORBIDDEN] = "forbidden",
	[PROTO_ERR_NOT_FOUND] = "not_found",
	[PROTO_ERR_BAD_STATE] = "bad_state",
	[PROTO_ERR_CONFLICT] = "conflict",
	[PROTO_ERR_TOO_LARGE] = "too_large",
	[PROTO_ERR_RATE_LIMITED] = "rate_limited",
	[PROTO_ERR_UNAVAILABLE] = "unavailable",
	[PROTO_ERR_INTERNAL] = "internal",
};

const char *proto_error_name(enum proto_error code)
{
	if ((unsigned)code >= PROTO_ERR_COUNT)
		return "internal";
	return proto_error_names[code];
}

const struct proto_op_spec *proto_op_spec(enum proto_op op)
{
	if (op <= PROTO_OP_NONE || op >= PROTO_OP_COUNT)
		return NULL;
	return &proto_ops[op];
}

const char *proto_op_name(enum proto_op op)
{
	const struct proto_op_spec *spec = proto_op_spec(op);

	return spec ? spec->name : "none";
}

bool proto_op_parse(const char *name, enum proto_op *op)
{
	for (int i = PROTO_OP_NONE + 1; i < PROTO_OP_COUNT; i++) {
		if (strcmp(proto_ops[i].name, name) == 0) {
			*op = (enum proto_op)i;
			return true;
		}
	}
	return false;
}

bool proto_op_is_action(enum proto_op op)
{
	const struct proto_op_spec *spec = proto_op_spec(op);

	return spec && spec->action;
}

/* ------------------------------------------------------------------------ */
/* UTF-8 */

/*
 * Length of the well-formed UTF-8 sequence at p (RFC 3629: no overlong forms,
 * no surrogates, nothing above U+10FFFF), or 0.  Reads p[i] only after p[i-1]
 * was a lead or continuation byte, so it is safe on a NUL-terminated string
 * with n = SIZE_MAX.
 */
static size_t utf8_seq(const unsigned char *p, size_t n)
{
	unsigned char c = p[0], lo = 0x80, hi = 0xbf;
	size_t need;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf) {
		need = 1;
	} else if (c >= 0xe0 && c <= 0xef) {
		need = 2;
		if (c == 0xe0)
			lo = 0xa0; /* overlong */
		else if (c == 0xed)
			hi = 0x9f; /* surrogates */
	} else if (c >= 0xf0 && c <= 0xf4) {
		need = 3;
		if (c == 0xf0)
			lo = 0x90; /* overlong */
		else if (c == 0xf4)
			hi = 0x8f; /* above U+10FFFF */
	} else {
		return 0;
	}
	if (n <= need || p[1] < lo || p[1] > hi)
		return 0;
	for (size_t i = 2; i <= need; i++)
		if ((p[i] & 0xc0) != 0x80)
			return 0;
	return need + 1;
}

static uint32_t utf8_decode(const unsigned char *p, size_t n)
{
	switch (n) {
	case 1:
		return p[0];
	case 2:
		return (uint32_t)(p[0] & 0x1f) << 6 | (p[1] & 0x3f);
	case 3:
		return (uint32_t)(p[0] & 0x0f) << 12 | (uint32_t)(p[1] & 0x3f) << 6 | (p[2] & 0x3f);
	default:
		return (uint32_t)(p[0] & 0x07) << 18 | (uint32_t)(p[1] & 0x3f) << 12 |
		       (uint32_t)(p[2] & 0x3f) << 6 | (p[3] & 0x3f);
	}
}

static size_t utf8_encode(uint32_t cp, char *out)
{
	if (cp < 0x80) {
		out[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		out[0] = (char)(0xc0 | cp >> 6);
		out[1] = (char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		out[0] = (char)(0xe0 | cp >> 12);
		out[1] = (char)(0x80 | (cp >> 6 & 0x3f));
		out[2] = (char)(0x80 | (cp & 0x3f));
		return 3;
	}
	out[0] = (char)(0xf0 | cp >> 18);
	out[1] = (char)(0x80 | (cp >> 12 & 0x3f));
	out[2] = (char)(0x80 | (cp >> 6 & 0x3f));
	out[3] = (char)(0x80 | (cp & 0x3f));
	return 4;
}

/* Characters (not bytes) of a string already known to be valid UTF-8. */
static size_t utf8_chars(const char *s, size_t n)
{
	size_t chars = 0;

	for (size_t i = 0; i < n; i++)
		chars += ((unsigned char)s[i] & 0xc0) != 0x80;
	return chars;
}

/* n, or less so that s[0..n) does not end inside a multi-byte character. */
static size_t utf8_whole(const char *s, size_t n)
{
	size_t i = n, k = 0, need;
	unsigned char lead;

	while (i > 0 && k < 3 && ((unsigned char)s[i - 1] & 0xc0) == 0x80) {
		i--;
		k++;
	}
	if (i == 0)
		return n;
	lead = (unsigned char)s[i - 1];
	need = lead >= 0xf0 ? 4 : lead >= 0xe0 ? 3 : lead >= 0xc0 ? 2 : 1;
	return need > k + 1 ? i - 1 : n;
}

/* The longest prefix of s, at most max bytes, that ends on a character boundary. */
static int utf8_clip(const char *s, size_t max)
{
	size_t n = strlen(s);

	if (n > max) {
		n = max;
		while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80)
			n--;
	}
	return (int)n;
}

/* ------------------------------------------------------------------------ */
/* The strict scanner */

struct proto_scan {
	const unsigned char *s;
	size_t len, pos;
	size_t members;              /* object members at every level */
	unsigned nkeys;              /* members of the root object */
	size_t keys[PROTO_MAX_KEYS]; /* where each root key's opening quote is */
	const char *msg;             /* why the scan failed, at pos */
	size_t first;                /* where the value starts */
};

static bool scan_fail(struct proto_scan *sc, const char *msg)
{
	sc->msg = msg;
	return false;
}

static void scan_ws(struct proto_scan *sc)
{
	while (sc->pos < sc->len) {
		unsigned char c = sc->s[sc->pos];

		if (c != ' ' && c != '\t' && c != '\n' && c != '\r')
			break;
		sc->pos++;
	}
}

static int hex_value(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* The 4 hex digits at p (n bytes available) into *cp. */
static bool hex4(const unsigned char *p, size_t n, uint32_t *cp)
{
	uint32_t v = 0;

	if (n < 4)
		return false;
	for (int i = 0; i < 4; i++) {
		int h = hex_value(p[i]);

		if (h < 0)
			return false;
		v = v << 4 | (uint32_t)h;
	}
	*cp = v;
	return true;
}

static bool scan_string(struct proto_scan *sc)
{
	const unsigned char *s = sc->s;
	size_t len = sc->len;

	sc->pos++; /* the opening quote */
	for (;;) {
		size_t at = sc->pos, n;
		unsigned char c;

		if (at >= len)
			return scan_fail(sc, "unterminated string");
		c = s[at];
		if (c == '"') {
			sc->pos++;
			return true;
		}
		if (c == '\\') {
			uint32_t cp, lo;

			if (at + 1 >= len)
				return scan_fail(sc, "unterminated string");
			switch (s[at + 1]) {
			case '"':
			case '\\':
			case '/':
			case 'b':
			case 'f':
			case 'n':
			case 'r':
			case 't':
				sc->pos += 2;
				continue;
			case 'u':
				break;
			default:
				return scan_fail(sc, "invalid escape in a string");
			}
			if (!hex4(s + at + 2, len - at - 2, &cp))
				return scan_fail(sc, "invalid \\u escape");
			if (cp == 0)
				return scan_fail(sc, "\\u0000 is not allowed");
			if (cp >= 0xdc00 && cp <= 0xdfff)
				return scan_fail(sc, "unpaired surrogate in a \\u escape");
			sc->pos += 6;
			if (cp >= 0xd800 && cp <= 0xdbff) {
				if (sc->pos + 1 >= len || s[sc->pos] != '\\' ||
				    s[sc->pos + 1] != 'u' ||
				    !hex4(s + sc->pos + 2, len - sc->pos - 2, &lo) || lo < 0xdc00 ||
				    lo > 0xdfff) {
					sc->pos = at;
					return scan_fail(sc, "unpaired surrogate in a \\u escape");
				}
				sc->pos += 6;
			}
			continue;
		}
		if (c < 0x20)
			return scan_fail(sc, "raw control character in a string");
		if (c < 0x80) {
			sc->pos++;
			continue;
		}
		n = utf8_seq(s + at, len - at);
		if (n == 0)
			return scan_fail(sc, "invalid UTF-8");
		sc->pos += n;
	}
}

static bool is_digit(const struct proto_scan *sc)
{
	return sc->pos < sc->len && sc->s[sc->pos] >= '0' && sc->s[sc->pos] <= '9';
}

/* RFC 8259 number; an integer (no fraction, no exponent) must fit in int64. */
static bool scan_number(struct proto_scan *sc)
{
	size_t start = sc->pos;
	bool neg = false, integral = true, overflow = false;
	uint64_t v = 0;

	if (sc->s[sc->pos] == '-') {
		neg = true;
		sc->pos++;
		if (sc->pos < sc->len && (sc->s[sc->pos] == 'I' || sc->s[sc->pos] == 'N'))
			return scan_fail(sc, "NaN and Infinity are not allowed");
	}
	if (!is_digit(sc))
		return scan_fail(sc, "invalid number");
	if (sc->s[sc->pos] == '0') {
		sc->pos++;
		if (is_digit(sc))
			return scan_fail(sc, "leading zeros are not allowed");
	} else {
		while (is_digit(sc)) {
			unsigned d = sc->s[sc->pos++] - '0';

			if (v > (UINT64_MAX - d) / 10)
				overflow = true;
			else
				v = v * 10 + d;
		}
	}
	if (sc->pos < sc->len && sc->s[sc->pos] == '.') {
		integral = false;
		sc->pos++;
		if (!is_digit(sc))
			return scan_fail(sc, "invalid number");
		while (is_digit(sc))
			sc->pos++;
	}
	if (sc->pos < sc->len && (sc->s[sc->pos] == 'e' || sc->s[sc->pos] == 'E')) {
		integral = false;
		sc->pos++;
		if (sc->pos < sc->len && (sc->s[sc->pos] == '+' || sc->s[sc->pos] == '-'))
			sc->pos++;
		if (!is_digit(sc))
			return scan_fail(sc, "invalid number");
		while (is_digit(sc))
			sc->pos++;
	}
	/* json-c would clamp these silently. */
	if (integral && (overflow || v > (neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX))) {
		sc->pos = start;
		return scan_fail(sc, "integer out of range");
	}
	return true;
}

static bool scan_literal(struct proto_scan *sc, const char *word)
{
	size_t n = strlen(word);

	if (sc->len - sc->pos < n || memcmp(sc->s + sc->pos, word, n) != 0)
		return scan_fail(sc, "unexpected character");
	sc->pos += n;
	return true;
}

static bool scan_container(struct proto_scan *sc, int level);

/* One value; level is how many containers enclose it. */
static bool scan_value(struct proto_scan *sc, int level)
{
	scan_ws(sc);
	if (sc->pos >= sc->len)
		return scan_fail(sc, "unexpected end of input");
	switch (sc->s[sc->pos]) {
	case '{':
	case '[':
		return scan_container(sc, level + 1);
	case '"':
		return scan_string(sc);
	case '\'':
		return scan_fail(sc, "single-quoted strings are not allowed");
	case '-':
	case '0':
	case '1':
	case '2':
	case '3':
	case '4':
	case '5':
	case '6':
	case '7':
	case '8':
	case '9':
		return scan_number(sc);
	case 't':
		return scan_literal(sc, "true");
	case 'f':
		return scan_literal(sc, "false");
	case 'n':
		return scan_literal(sc, "null");
	case 'N':
	case 'I':
		return scan_fail(sc, "NaN and Infinity are not allowed");
	default:
		return scan_fail(sc, "unexpected character");
	}
}

/* An object or array at nesting level (the root object is level 1). */
static bool scan_container(struct proto_scan *sc, int level)
{
	bool object = sc->s[sc->pos] == '{';
	unsigned char close = object ? '}' : ']';

	if (level > PROTO_MAX_DEPTH)
		return scan_fail(sc, "nesting deeper than " PROTO_STR(PROTO_MAX_DEPTH) " levels");
	sc->pos++;
	scan_ws(sc);
	if (sc->pos < sc->len && sc->s[sc->pos] == close) {
		sc->pos++;
		return true;
	}
	for (;;) {
		if (object) {
			scan_ws(sc);
			if (sc->pos >= sc->len)
				return scan_fail(sc, "unexpected end of input");
			if (sc->s[sc->pos] == '\'')
				return scan_fail(sc, "single-quoted strings are not allowed");
			if (sc->s[sc->pos] != '"')
				return scan_fail(sc, "expected a quoted key");
			if (level == 1) {
				if (sc->nkeys == PROTO_MAX_KEYS)
					return scan_fail(sc, "more than " PROTO_STR(
					                             PROTO_MAX_KEYS) " fields");
				sc->keys[sc->nkeys++] = sc->pos;
			}
			if (!scan_string(sc))
				return false;
			scan_ws(sc);
			if (sc->pos >= sc->len || sc->s[sc->pos] != ':')
				return scan_fail(sc, "expected ':' after a key");
			sc->pos++;
			sc->members++;
		}
		if (!scan_value(sc, level))
			return false;
		scan_ws(sc);
		if (sc->pos >= sc->len)
			return scan_fail(sc, "unexpected end of input");
		if (sc->s[sc->pos] == close) {
			sc->pos++;
			return true;
		}
		if (sc->s[sc->pos] != ',')
			return scan_fail(sc,
			                 object ? "expected ',' or '}'" : "expected ',' or ']'");
		sc->pos++;
	}
}

static bool scan_all(struct proto_scan *sc, const char *s, size_t len)
{
	sc->s = (const unsigned char *)s;
	sc->len = len;
	sc->pos = 0;
	sc->members = 0;
	sc->nkeys = 0;
	sc->msg = NULL;
	scan_ws(sc);
	if (sc->pos >= len)
		return scan_fail(sc, "empty request");
	sc->first = sc->pos;
	if (!scan_value(sc, 0))
		return false;
	scan_ws(sc);
	if (sc->pos < len)
		return scan_fail(sc, "unexpected bytes after the JSON value");
	return true;
}

/*
 * The next code point of a raw JSON string the scanner accepted, *pos just
 * inside it; -1 at the closing quote.  Used only to compare and name keys.
 */
static int32_t raw_next(const unsigned char *s, size_t *pos)
{
	size_t p = *pos;
	uint32_t cp, lo;

	if (s[p] == '"')
		return -1;
	if (s[p] != '\\') {
		size_t n = utf8_seq(s + p, SIZE_MAX);

		*pos = p + n;
		return (int32_t)utf8_decode(s + p, n);
	}
	*pos = p + 2;
	switch (s[p + 1]) {
	case 'b':
		return '\b';
	case 'f':
		return '\f';
	case 'n':
		return '\n';
	case 'r':
		return '\r';
	case 't':
		return '\t';
	case 'u':
		hex4(s + p + 2, 4, &cp);
		*pos = p + 6;
		if (cp >= 0xd800 && cp <= 0xdbff) {
			hex4(s + p + 8, 4, &lo);
			*pos = p + 12;
			cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
		}
		return (int32_t)cp;
	default:
		return s[p + 1];
	}
}

static bool raw_keys_equal(const unsigned char *s, size_t a, size_t b)
{
	size_t pa = a + 1, pb = b + 1;

	for (;;) {
		int32_t ca = raw_next(s, &pa), cb = raw_next(s, &pb);

		if (ca != cb)
			return false;
		if (ca < 0)
			return true;
	}
}

/* The raw key at off, decoded and cut at PROTO_ECHO_MAX bytes, into out. */
static void raw_key_name(const unsigned char *s, size_t off, char *out, size_t cap)
{
	size_t p = off + 1, n = 0;
	int32_t cp;

	while ((cp = raw_next(s, &p)) >= 0) {
		char tmp[4];
		size_t k = utf8_encode((uint32_t)cp, tmp);

		if (n + k >= cap)
			break;
		memcpy(out + n, tmp, k);
		n += k;
	}
	out[n] = '\0';
}

/* Object members in a json-c tree; distinct keys only, as json-c keeps them. */
static size_t tree_members(struct json_object *o)
{
	size_t n = 0;

	if (json_object_is_type(o, json_type_object)) {
		struct json_object_iterator it = json_object_iter_begin(o);
		struct json_object_iterator end = json_object_iter_end(o);

		while (!json_object_iter_equal(&it, &end)) {
			n += 1 + tree_members(json_object_iter_peek_value(&it));
			json_object_iter_next(&it);
		}
	} else if (json_object_is_type(o, json_type_array)) {
		size_t len = json_object_array_length(o);

		for (size_t i = 0; i < len; i++)
			n += tree_members(json_object_array_get_idx(o, i));
	}
	return n;
}

/* ------------------------------------------------------------------------ */
/* Decoding */

struct proto_ctx {
	struct proto_request *req;
	char *err;
	size_t errlen;
};

__attribute__((format(printf, 3, 4))) static int fail(struct proto_ctx *c, int code,
                                                      const char *fmt, ...)
{
	va_list ap;
	int n;

	if (c->errlen == 0)
		return code;
	va_start(ap, fmt);
	n = vsnprintf(c->err, c->errlen, fmt, ap);
	va_end(ap);
	if (n < 0) {
		c->err[0] = '\0';
	} else if ((size_t)n >= c->errlen) {
		/* Do not leave half a character at the cut. */
		c->err[utf8_whole(c->err, c->errlen - 1)] = '\0';
	}
	return code;
}

static char *arena_alloc(struct proto_request *req, size_t n)
{
	char *p;

	if (PROTO_ARENA_SIZE - req->arena_used < n)
		return NULL;
	p = req->arena + req->arena_used;
	req->arena_used += n;
	return p;
}

/* printf into the arena; NULL when it does not fit (a bug: the arena is sized for the table). */
__attribute__((format(printf, 2, 3))) static const char *arena_printf(struct proto_request *req,
                                                                      const char *fmt, ...)
{
	size_t room = PROTO_ARENA_SIZE - req->arena_used;
	char *p = req->arena + req->arena_used;
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(p, room, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= room)
		return NULL;
	req->arena_used += (size_t)n + 1;
	return p;
}

enum proto_id_state { PROTO_ID_MISSING, PROTO_ID_BAD, PROTO_ID_OK };

/* Reads the id into req->id (JSON text) if it is one the protocol allows. */
static enum proto_id_state read_id(struct proto_request *req, struct json_object *root)
{
	struct json_object *v;
	const char *s;
	size_t n, o = 0;

	if (!json_object_object_get_ex(root, "id", &v))
		return PROTO_ID_MISSING;
	if (json_object_is_type(v, json_type_int)) {
		int64_t id = json_object_get_int64(v);

		/* json-c clamps out-of-range literals to INT64_MAX/MIN: both fail here. */
		if (id < 0 || id > PROTO_INT_MAX)
			return PROTO_ID_BAD;
		snprintf(req->id, sizeof(req->id), "%lld", (long long)id);
		return PROTO_ID_OK;
	}
	if (!json_object_is_type(v, json_type_string))
		return PROTO_ID_BAD;
	s = json_object_get_string(v);
	n = (size_t)json_object_get_string_len(v);
	if (n < 1 || n > PROTO_ID_MAX_BYTES || strlen(s) != n)
		return PROTO_ID_BAD;
	/* The scanner has not run yet: check UTF-8 here, the id is echoed verbatim. */
	for (size_t i = 0; i < n;) {
		size_t k = utf8_seq((const unsigned char *)s + i, n - i);

		if (k == 0 || (unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return PROTO_ID_BAD;
		i += k;
	}
	req->id[o++] = '"';
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '"' || s[i] == '\\')
			req->id[o++] = '\\';
		req->id[o++] = s[i];
	}
	req->id[o++] = '"';
	req->id[o] = '\0';
	return PROTO_ID_OK;
}

static bool is_leap(int y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

/* n decimal digits at s into *v. */
static bool digits(const char *s, int n, int *v)
{
	int x = 0;

	for (int i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		x = x * 10 + (s[i] - '0');
	}
	*v = x;
	return true;
}

/* RFC 3339 date-time, as proto.h describes; s is NUL-terminated, n its length. */
static bool timestamp_ok(const char *s, size_t n)
{
	static const int mdays[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	int y, mo, d, h, mi, sec, oh, om;
	size_t p = 19;

	if (n < 20 || !digits(s, 4, &y) || s[4] != '-' || !digits(s + 5, 2, &mo) || s[7] != '-' ||
	    !digits(s + 8, 2, &d) || (s[10] != 'T' && s[10] != ' ') || !digits(s + 11, 2, &h) ||
	    s[13] != ':' || !digits(s + 14, 2, &mi) || s[16] != ':' || !digits(s + 17, 2, &sec))
		return false;
	if (y < 1 || mo < 1 || mo > 12 || d < 1 ||
	    d > mdays[mo - 1] + (mo == 2 && is_leap(y) ? 1 : 0) || h > 23 || mi > 59 || sec > 59)
		return false;
	if (s[p] == '.') {
		size_t start = ++p;

		while (p < n && s[p] >= '0' && s[p] <= '9')
			p++;
		if (p == start || p - start > 9)
			return false;
	}
	if (p < n && s[p] == 'Z')
		return p + 1 == n;
	if (p >= n || (s[p] != '+' && s[p] != '-') || n - p != 6 || !digits(s + p + 1, 2, &oh) ||
	    s[p + 3] != ':' || !digits(s + p + 4, 2, &om))
		return false;
	return oh <= 23 && om <= 59;
}

static bool cursor_ok(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		char c = s[i];

		if (!((c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		      c == ':' || c == '.' || c == '_' || c == '-'))
			return false;
	}
	return true;
}

static bool sha256_ok(const char *s, size_t n)
{
	if (n != 64)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return true;
}

/* Base64 with padding; the decoded size is checked by the caller. */
static bool base64_ok(const char *s, size_t n, size_t *decoded)
{
	size_t pad = 0;

	if (n % 4 != 0)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];

		if (c == '=') {
			if (i + 2 < n) /* only the last two may be padding */
				return false;
			pad++;
		} else if (pad || !((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		                    (c >= '0' && c <= '9') || c == '+' || c == '/')) {
			return false;
		}
	}
	*decoded = n / 4 * 3 - pad;
	return true;
}

/* "an integer ≥ 1" or "an integer from 1 to 5" */
static int fail_int(struct proto_ctx *c, const struct proto_field *f)
{
	if (f->max >= PROTO_INT4_MAX)
		return fail(c, PROTO_ERR_BAD_REQUEST,
		            "field \"%s\" must be an integer ≥ %lld (at most %lld)", f->name,
		            (long long)f->min, (long long)f->max);
	return fail(c, PROTO_ERR_BAD_REQUEST, "field \"%s\" must be an integer from %lld to %lld",
	            f->name, (long long)f->min, (long long)f->max);
}

static int check_ids(struct proto_ctx *c, const struct proto_field *f, struct json_object *v,
                     const char **out)
{
	int64_t ids[PROTO_MAX_PHOTOS];
	size_t n;
	char *p;
	size_t used = 0, room = 3 + PROTO_MAX_PHOTOS * 17;

	if (!json_object_is_type(v, json_type_array))
		goto bad;
	n = json_object_array_length(v);
	if (n < (size_t)f->min || n > (size_t)f->max || n > PROTO_MAX_PHOTOS)
		goto bad;
	for (size_t i = 0; i < n; i++) {
		struct json_object *e = json_object_array_get_idx(v, i);

		if (!json_object_is_type(e, json_type_int))
			goto bad;
		ids[i] = json_object_get_int64(e);
		if (ids[i] < 1 || ids[i] > PROTO_INT_MAX)
			goto bad;
		for (size_t j = 0; j < i; j++)
			if (ids[j] == ids[i])
				return fail(c, PROTO_ERR_BAD_REQUEST,
				            "field \"%s\" lists %lld twice", f->name,
				            (long long)ids[i]);
	}
	/* "{" + up to 16 digits and a separator per id + "}" */
	p = arena_alloc(c->req, room);
	if (!p)
		return fail(c, PROTO_ERR_INTERNAL, "request arena exhausted");
	p[used++] = '{';
	for (size_t i = 0; i < n; i++)
		used += (size_t)snprintf(p + used, room - used, "%s%lld", i ? "," : "",
		                         (long long)ids[i]);
	p[used++] = '}';
	p[used] = '\0';
	*out = p;
	return PROTO_OK;
bad:
	return fail(c, PROTO_ERR_BAD_REQUEST,
	            "field \"%s\" must be an array of %lld to %lld distinct integers ≥ 1", f->name,
	            (long long)f->min, (long long)f->max);
}

/* Checks one field's value and sets *out to its SQL text. */
static int check_field(struct proto_ctx *c, const struct proto_field *f, struct json_object *v,
                       const char **out)
{
	const char *s = NULL;
	size_t n = 0;

	if (json_object_is_type(v, json_type_string)) {
		s = json_object_get_string(v);
		n = (size_t)json_object_get_string_len(v);
		if (strlen(s) != n) /* an embedded \u0000: the scanner refuses it already */
			return fail(c, PROTO_ERR_BAD_REQUEST, "field \"%s\" contains \\u0000",
			            f->name);
	}
	switch (f->type) {
	case PROTO_T_INT: {
		int64_t x;

		if (!json_object_is_type(v, json_type_int))
			return fail_int(c, f);
		x = json_object_get_int64(v);
		if (x < f->min || x > f->max)
			return fail_int(c, f);
		*out = arena_printf(c->req, "%lld", (long long)x);
		break;
	}
	case PROTO_T_NUMBER: {
		bool number = true;
		double x = 0;

		if (json_object_is_type(v, json_type_double))
			x = json_object_get_double(v);
		else if (json_object_is_type(v, json_type_int))
			x = (double)json_object_get_int64(v);
		else
			number = false;
		/* 1e400 arrives as inf, NaN as NaN: json-c accepts both. */
		if (!number || !isfinite(x) || x < f->dmin || x > f->dmax)
			return fail(c, PROTO_ERR_BAD_REQUEST,
			            "field \"%s\" must be a number from %g to %g", f->name, f->dmin,
			            f->dmax);
		*out = arena_printf(c->req, "%.17g", x);
		break;
	}
	case PROTO_T_BOOL:
		if (!json_object_is_type(v, json_type_boolean))
			return fail(c, PROTO_ERR_BAD_REQUEST, "field \"%s\" must be true or false",
			            f->name);
		*out = json_object_get_boolean(v) ? "true" : "false";
		return PROTO_OK;
	case PROTO_T_TEXT: {
		size_t chars;

		if (!s)
			return fail(c, PROTO_ERR_BAD_REQUEST, "field \"%s\" must be a string",
			            f->name);
		chars = utf8_chars(s, n);
		if (chars > (size_t)f->max)
			return fail(c, PROTO_ERR_BAD_REQUEST,
			            "field \"%s\" is longer than %lld characters", f->name,
			            (long long)f->max);
		if (chars < (size_t)f->min)
			return fail(c, PROTO_ERR_BAD_REQUEST,
			            "field \"%s\" must have %lld to %lld characters", f->name,
			            (long long)f->min, (long long)f->max);
		*out = s;
		return PROTO_OK;
	}
	case PROTO_T_TIMESTAMP:
		if (!s || !timestamp_ok(s, n))
			return fail(c, PROTO_ERR_BAD_REQUEST,
			            "field \"%s\" must be an RFC 3339 timestamp such as "
			            "\"2026-12-01T17:00:00+08:00\"",
			            f->name);
		*out = s;
		return PROTO_OK;
	case PROTO_T_ENUM:
		for (const char *const *ch = f->choices; s && *ch; ch++) {
			if (strcmp(*ch, s) == 0) {
				*out = *ch;
				return PROTO_OK;
			}
		}
		if (f->choices == proto_states)
			return fail(c, PROTO_ERR_BAD_REQUEST,
			            "field \"%s\" must be one of reported, dispatched, accepted, "
			            "resolved, closed, cancelled",
			            f->name);
		return fail(c, PROTO_ERR_BAD_REQUEST, "field \"%s\" has an unknown value", f->name);
	case PROTO_T_CURSOR:
		if (!s || n < (size_t)f->min || n > (size_t)f->max || !cursor_ok(s, n))
			return fail(c, PROTO_ERR_BAD_REQUEST,
			            "field \"%s\" must be a cursor of %lld to %lld characters from "
			            "[0-9A-Za-z:._-]",
			            f->name, (long long)f->min, (long long)f->max);
		*out = s;
		return PROTO_OK;
	case PROTO_T_SHA256:
		if (!s || !sha256_ok(s, n))
			return fail(c, PROTO_ERR_BAD_REQUEST,
			            "field \"%s\" must be 64 lower-case hex digits", f->name);
		*out = s;
		return PROTO_OK;
	case PROTO_T_BASE64: {
		size_t decoded;

		if (!s || n < (size_t)f->min || n > (size_t)f->max || !base64_ok(s, n, &decoded))
			return fail(c, PROTO_ERR_BAD_REQUEST,
			            "field \"%s\" must be padded base64 of %lld to %lld characters",
			            f->name, (long long)f->min, (long long)f->max);
		if (decoded > PROTO_CHUNK_MAX)
			return fail(c, PROTO_ERR_BAD_REQUEST,
			            "field \"%s\" holds more than %d bytes", f->name,
			            PROTO_CHUNK_MAX);
		*out = s;
		return PROTO_OK;
	}
	case PROTO_T_ID_ARRAY:
		return check_ids(c, f, v, out);
	}
	if (!*out)
		return fail(c, PROTO_ERR_INTERNAL, "request arena exhausted");
	return PROTO_OK;
}

/* After syntax: the id, the op and the op's fields. */
static int decode_fields(struct proto_ctx *c, struct json_object *root, enum proto_id_state id)
{
	struct proto_request *req = c->req;
	const struct proto_op_spec *spec;
	struct json_object *v;
	struct json_object_iterator it, end;
	const char *name;
	enum proto_op op;

	if (id == PROTO_ID_MISSING)
		return fail(c, PROTO_ERR_BAD_REQUEST, "field \"id\" is required");
	if (id == PROTO_ID_BAD)
		return fail(c, PROTO_ERR_BAD_REQUEST,
		            "field \"id\" must be an integer from 0 to %lld or a string of 1 to "
		            "%d bytes without control characters",
		            (long long)PROTO_INT_MAX, PROTO_ID_MAX_BYTES);
	if (!json_object_object_get_ex(root, "op", &v))
		return fail(c, PROTO_ERR_BAD_REQUEST, "field \"op\" is required");
	if (!json_object_is_type(v, json_type_string))
		return fail(c, PROTO_ERR_BAD_REQUEST, "field \"op\" must be a string");
	name = json_object_get_string(v);
	if (!proto_op_parse(name, &op))
		return fail(c, PROTO_ERR_BAD_REQUEST, "unknown op \"%.*s\"",
		            utf8_clip(name, PROTO_ECHO_MAX), name);
	spec = proto_op_spec(op);
	req->op = op;
	req->nparams = spec->nfields;

	it = json_object_iter_begin(root);
	end = json_object_iter_end(root);
	for (; !json_object_iter_equal(&it, &end); json_object_iter_next(&it)) {
		const char *key = json_object_iter_peek_name(&it);
		int i, rc;

		if (strcmp(key, "id") == 0 || strcmp(key, "op") == 0)
			continue;
		for (i = 0; i < spec->nfields; i++)
			if (strcmp(spec->fields[i].name, key) == 0)
				break;
		if (i == spec->nfields)
			return fail(c, PROTO_ERR_BAD_REQUEST,
			            "unknown field \"%.*s\" for op \"%s\"",
			            utf8_clip(key, PROTO_ECHO_MAX), key, spec->name);
		v = json_object_iter_peek_value(&it);
		if (!v) /* JSON null: the same as leaving the field out */
			continue;
		rc = check_field(c, &spec->fields[i], v, &req->params[i]);
		if (rc != PROTO_OK)
			return rc;
	}
	for (int i = 0; i < spec->nfields; i++)
		if (spec->fields[i].required && !req->params[i])
			return fail(c, PROTO_ERR_BAD_REQUEST, "field \"%s\" is required",
			            spec->fields[i].name);
	return PROTO_OK;
}

int proto_decode(const char *line, size_t len, struct proto_request *req, char *err, size_t errlen)
{
	struct proto_ctx c = { .req = req, .err = err, .errlen = err ? errlen : 0 };
	struct proto_scan sc;
	struct json_tokener *tok;
	struct json_object *root;
	enum json_tokener_error jerr;
	enum proto_id_state id = PROTO_ID_MISSING;
	size_t end;
	bool scanned;

	memcpy(req->id, "null", 5);
	req->op = PROTO_OP_NONE;
	req->nparams = 0;
	memset(req->params, 0, sizeof(req->params));
	req->root = NULL;
	req->arena_used = 0;
	if (c.errlen)
		err[0] = '\0';

	if (len > 0 && line[len - 1] == '\r')
		len--;
	if (len == 0)
		return fail(&c, PROTO_ERR_BAD_REQUEST, "empty request");
	if (len > INT_MAX)
		return fail(&c, PROTO_ERR_TOO_LARGE, "request too large");

	/* json-c's depth counts one more than our levels (measured on 0.16). */
	tok = json_tokener_new_ex(PROTO_MAX_DEPTH + 1);
	if (!tok)
		return fail(&c, PROTO_ERR_INTERNAL, "out of memory");
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
	root = json_tokener_parse_ex(tok, line, (int)len);
	jerr = json_tokener_get_error(tok);
	end = json_tokener_get_parse_end(tok);
	json_tokener_free(tok);
	req->root = root;

	/* Read the id first, so that syntax errors below can still carry it. */
	if (json_object_is_type(root, json_type_object))
		id = read_id(req, root);

	scanned = scan_all(&sc, line, len);
	if (!scanned)
		return fail(&c, PROTO_ERR_BAD_REQUEST, "%s at byte %zu", sc.msg, sc.pos);
	/* Before json-c's verdict: it cannot tell where a bare number at the end ends. */
	if (sc.s[sc.first] != '{')
		return fail(&c, PROTO_ERR_BAD_REQUEST, "a request must be a JSON object");
	if (jerr != json_tokener_success || end != len)
		return fail(&c, PROTO_ERR_BAD_REQUEST, "invalid JSON (%s)",
		            jerr != json_tokener_success ? json_tokener_error_desc(jerr)
		                                         : "unexpected bytes after the object");
	if (!json_object_is_type(root, json_type_object))
		return fail(&c, PROTO_ERR_BAD_REQUEST, "a request must be a JSON object");

	if ((size_t)json_object_object_length(root) != sc.nkeys) {
		char name[PROTO_ECHO_MAX + 1];

		for (unsigned i = 1; i < sc.nkeys; i++) {
			for (unsigned j = 0; j < i; j++) {
				if (!raw_keys_equal(sc.s, sc.keys[j], sc.keys[i]))
					continue;
				raw_key_name(sc.s, sc.keys[i], name, sizeof(name));
				/* Two ids: neither can be trusted to match the reply. */
				if (strcmp(name, "id") == 0)
					memcpy(req->id, "null", 5);
				return fail(&c, PROTO_ERR_BAD_REQUEST, "duplicate key \"%s\"",
				            name);
			}
		}
		return fail(&c, PROTO_ERR_INTERNAL, "json-c and the scanner disagree on the keys");
	}
	if (tree_members(root) != sc.members)
		return fail(&c, PROTO_ERR_BAD_REQUEST, "duplicate key in a nested object");

	return decode_fields(&c, root, id);
}

void proto_request_free(struct proto_request *req)
{
	if (!req)
		return;
	json_object_put(req->root);
	memset(req, 0, sizeof(*req));
}

/* ------------------------------------------------------------------------ */
/* Replies */

size_t proto_json_escape(char *dst, size_t cap, const char *src)
{
	const unsigned char *p = (const unsigned char *)src;
	size_t o = 0;

	if (cap == 0)
		return 0;
	while (*p) {
		char tmp[8];
		const char *piece = tmp;
		size_t n, adv = 1;
		unsigned char ch = *p;

		if (ch == '"' || ch == '\\') {
			tmp[0] = '\\';
			tmp[1] = (char)ch;
			n = 2;
		} else if (ch < 0x20) {
			static const char short_esc[] = {
				['\b'] = 'b', ['\f'] = 'f', ['\n'] = 'n', ['\r'] = 'r', ['\t'] = 't'
			};

			if (ch < sizeof(short_esc) && short_esc[ch]) {
				tmp[0] = '\\';
				tmp[1] = short_esc[ch];
				n = 2;
			} else {
				static const char hex[] = "0123456789abcdef";

				memcpy(tmp, "\\u00", 4);
				tmp[4] = hex[ch >> 4];
				tmp[5] = hex[ch & 0xf];
				n = 6;
			}
		} else if (ch < 0x80) {
			piece = (const char *)p;
			n = 1;
		} else {
			adv = utf8_seq(p, SIZE_MAX);
			if (adv == 0) {
				piece = "\\ufffd"; /* keep the reply valid UTF-8 */
				n = 6;
				adv = 1;
			} else {
				piece = (const char *)p;
				n = adv;
			}
		}
		if (cap - o <= n)
			break;
		memcpy(dst + o, piece, n);
		o += n;
		p += adv;
	}
	dst[o] = '\0';
	return o;
}

/* Appends s to buf at *o if it fits with room for the NUL and reserve bytes. */
static bool put(char *buf, size_t cap, size_t *o, const char *s, size_t reserve)
{
	size_t n = strlen(s);

	if (cap - *o <= n + reserve)
		return false;
	memcpy(buf + *o, s, n + 1);
	*o += n;
	return true;
}

size_t proto_format_error(char *buf, size_t cap, const char *id_json, enum proto_error code,
                          const char *message)
{
	static const char tail[] = "\"}}\n";
	size_t o = 0;

	if (cap == 0)
		return 0;
	if (!put(buf, cap, &o, "{\"id\":", 0) ||
	    !put(buf, cap, &o, id_json ? id_json : "null", 0) ||
	    !put(buf, cap, &o, ",\"ok\":false,\"error\":{\"code\":\"", 0) ||
	    !put(buf, cap, &o, proto_error_name(code), 0) ||
	    !put(buf, cap, &o, "\",\"message\":\"", sizeof(tail) - 1)) {
		buf[0] = '\0';
		return 0;
	}
	o += proto_json_escape(buf + o, cap - o - (sizeof(tail) - 1), message ? message : "");
	memcpy(buf + o, tail, sizeof(tail));
	return o + sizeof(tail) - 1;
}

size_t proto_format_ok_prefix(char *buf, size_t cap, const char *id_json)
{
	size_t o = 0;

	if (cap == 0)
		return 0;
	if (!put(buf, cap, &o, "{\"id\":", 0) ||
	    !put(buf, cap, &o, id_json ? id_json : "null", 0) ||
	    !put(buf, cap, &o, ",\"ok\":true,\"result\":", 0)) {
		buf[0] = '\0';
		return 0;
	}
	return o;
}
