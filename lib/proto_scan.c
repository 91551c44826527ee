/* proto_scan: see proto_scan.h. */
#include "proto_scan.h"

#include <json-c/json.h>
#include <string.h>

#include "utf8.h"

#define PROTO_STR_(x) #x
#define PROTO_STR(x)  PROTO_STR_(x)

static bool scan_fail(struct proto_scan *sc, const char *msg)
{
	sc->msg = msg;
	return false;
}

static void scan_ws(struct proto_scan *sc)
{
	size_t p = sc->pos; /* in a local, as in scan_string */

	while (p < sc->len &&
	       (sc->s[p] == ' ' || sc->s[p] == '\t' || sc->s[p] == '\n' || sc->s[p] == '\r'))
		p++;
	sc->pos = p;
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
	sc->escaped = false;
	for (;;) {
		size_t at = sc->pos, n;
		unsigned char c;

		/* a run of plain ASCII (most of an export page) in a local: sc->pos
		 * would be reloaded at every byte, s may alias it */
		while (at < len && s[at] >= 0x20 && s[at] < 0x80 && s[at] != '"' && s[at] != '\\')
			at++;
		sc->pos = at;
		if (at >= len)
			return scan_fail(sc, "unterminated string");
		c = s[at];
		if (c == '"') {
			sc->pos++;
			return true;
		}
		if (c == '\\') {
			uint32_t cp, lo;

			sc->escaped = true;
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
		n = utf8_decode((const char *)s + at, len - at, NULL);
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
			if (level == 1 && !sc->pull) {
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

bool proto_scan_all(struct proto_scan *sc, const char *s, size_t len)
{
	sc->s = (const unsigned char *)s;
	sc->len = len;
	sc->pos = 0;
	sc->members = 0;
	sc->nkeys = 0;
	sc->msg = NULL;
	sc->pull = false;
	sc->depth = 0;
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
		uint32_t c = 0;

		/* The scanner accepted the string: the character is well-formed. */
		*pos = p + utf8_decode((const char *)s + p, SIZE_MAX, &c);
		return (int32_t)c;
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

bool proto_scan_keys_equal(const struct proto_scan *sc, size_t a, size_t b)
{
	const unsigned char *s = sc->s;
	size_t pa = a + 1, pb = b + 1;

	for (;;) {
		int32_t ca = raw_next(s, &pa), cb = raw_next(s, &pb);

		if (ca != cb)
			return false;
		if (ca < 0)
			return true;
	}
}

void proto_scan_key_name(const struct proto_scan *sc, size_t off, char *out, size_t cap)
{
	const unsigned char *s = sc->s;
	size_t p = off + 1, n = 0;
	int32_t cp;

	while ((cp = raw_next(s, &p)) >= 0) {
		char tmp[UTF8_MAX_BYTES];
		size_t k = utf8_encode((uint32_t)cp, tmp);

		if (n + k >= cap)
			break;
		memcpy(out + n, tmp, k);
		n += k;
	}
	out[n] = '\0';
}

void proto_scan_begin(struct proto_scan *sc, const char *s, size_t len)
{
	memset(sc, 0, sizeof(*sc));
	sc->s = (const unsigned char *)s;
	sc->len = len;
	sc->pull = true;
}

bool proto_scan_next(struct proto_scan *sc, struct proto_scan_val *v)
{
	size_t start;
	bool ok;

	scan_ws(sc);
	start = sc->pos;
	if (start >= sc->len)
		return scan_fail(sc, "unexpected end of input");
	switch (sc->s[start]) {
	case '{':
	case '[':
		v->type = sc->s[start] == '{' ? PROTO_SCAN_OBJECT : PROTO_SCAN_ARRAY;
		ok = scan_container(sc, (int)sc->depth + 1);
		break;
	case '"':
		v->type = PROTO_SCAN_STRING;
		ok = scan_string(sc);
		break;
	case 't':
	case 'f':
	case 'n':
		v->type = sc->s[start] == 't'   ? PROTO_SCAN_TRUE
		          : sc->s[start] == 'f' ? PROTO_SCAN_FALSE
		                                : PROTO_SCAN_NULL;
		ok = scan_value(sc, (int)sc->depth);
		break;
	default:
		v->type = PROTO_SCAN_NUMBER;
		ok = scan_value(sc, (int)sc->depth); /* a number, or the fault named */
	}
	if (!ok)
		return false;
	v->escaped = v->type == PROTO_SCAN_STRING && sc->escaped;
	v->raw = (const char *)sc->s + start;
	v->len = sc->pos - start;
	if (v->type == PROTO_SCAN_STRING) {
		v->raw++;
		v->len -= 2;
	}
	return true;
}

bool proto_scan_enter(struct proto_scan *sc, enum proto_scan_type t)
{
	unsigned char open = t == PROTO_SCAN_OBJECT ? '{' : '[';

	scan_ws(sc);
	if (sc->pos >= sc->len)
		return scan_fail(sc, "unexpected end of input");
	if (sc->s[sc->pos] != open)
		return scan_fail(sc, t == PROTO_SCAN_OBJECT ? "expected an object"
		                                            : "expected an array");
	if (sc->depth >= PROTO_MAX_DEPTH)
		return scan_fail(sc, "nesting deeper than " PROTO_STR(PROTO_MAX_DEPTH) " levels");
	sc->stack[sc->depth++] = open;
	sc->pos++;
	sc->fresh = true;
	return true;
}

int proto_scan_item(struct proto_scan *sc, struct proto_scan_val *key)
{
	bool object;

	if (sc->depth == 0)
		return scan_fail(sc, "not inside a container"), -1;
	object = sc->stack[sc->depth - 1] == '{';
	scan_ws(sc);
	if (sc->pos >= sc->len)
		return scan_fail(sc, "unexpected end of input"), -1;
	if (sc->s[sc->pos] == (object ? '}' : ']')) {
		sc->pos++;
		sc->depth--;
		sc->fresh = false;
		return 0;
	}
	if (!sc->fresh) {
		if (sc->s[sc->pos] != ',')
			return scan_fail(sc,
			                 object ? "expected ',' or '}'" : "expected ',' or ']'"),
			       -1;
		sc->pos++;
	}
	sc->fresh = false;
	if (object) {
		struct proto_scan_val k;

		scan_ws(sc);
		if (sc->pos >= sc->len || sc->s[sc->pos] != '"')
			return scan_fail(sc, "expected a quoted key"), -1;
		if (!proto_scan_next(sc, &k))
			return -1;
		scan_ws(sc);
		if (sc->pos >= sc->len || sc->s[sc->pos] != ':')
			return scan_fail(sc, "expected ':' after a key"), -1;
		sc->pos++;
		sc->members++;
		if (key != NULL)
			*key = k;
	}
	return 1;
}

bool proto_scan_leave(struct proto_scan *sc)
{
	struct proto_scan_val v;
	int r;

	while ((r = proto_scan_item(sc, NULL)) == 1)
		if (!proto_scan_next(sc, &v))
			return false;
	return r == 0;
}

bool proto_scan_end(struct proto_scan *sc)
{
	scan_ws(sc);
	if (sc->pos < sc->len)
		return scan_fail(sc, "unexpected bytes after the JSON value");
	return true;
}

bool proto_scan_is(const struct proto_scan_val *v, const char *s)
{
	size_t n = strlen(s);

	if (v->type != PROTO_SCAN_STRING)
		return false;
	if (!v->escaped)
		return v->len == n && memcmp(v->raw, s, n) == 0;
	{
		/* rare (the server escapes no key): decode a short one */
		char buf[256];
		size_t m;

		return v->len < sizeof(buf) && proto_scan_unescape(v->raw, v->len, buf, &m) &&
		       m == n && memcmp(buf, s, n) == 0;
	}
}

bool proto_scan_unescape(const char *raw, size_t len, char *out, size_t *n)
{
	const unsigned char *s = (const unsigned char *)raw;
	size_t i = 0, o = 0;

	while (i < len) {
		const unsigned char *bs = memchr(s + i, '\\', len - i);
		size_t run = bs ? (size_t)(bs - (s + i)) : len - i;
		uint32_t cp, lo;

		memcpy(out + o, s + i, run);
		o += run;
		i += run;
		if (i >= len)
			break;
		if (i + 1 >= len)
			return false;
		switch (s[i + 1]) {
		case '"':
		case '\\':
		case '/':
			out[o++] = (char)s[i + 1];
			i += 2;
			continue;
		case 'b':
			out[o++] = '\b';
			i += 2;
			continue;
		case 'f':
			out[o++] = '\f';
			i += 2;
			continue;
		case 'n':
			out[o++] = '\n';
			i += 2;
			continue;
		case 'r':
			out[o++] = '\r';
			i += 2;
			continue;
		case 't':
			out[o++] = '\t';
			i += 2;
			continue;
		case 'u':
			break;
		default:
			return false;
		}
		if (!hex4(s + i + 2, len - i - 2, &cp) || cp == 0 || (cp >= 0xdc00 && cp <= 0xdfff))
			return false;
		i += 6;
		if (cp >= 0xd800 && cp <= 0xdbff) {
			if (i + 1 >= len || s[i] != '\\' || s[i + 1] != 'u' ||
			    !hex4(s + i + 2, len - i - 2, &lo) || lo < 0xdc00 || lo > 0xdfff)
				return false;
			i += 6;
			cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
		}
		o += utf8_encode(cp, out + o);
	}
	out[o] = '\0';
	*n = o;
	return true;
}

size_t proto_scan_tree_members(struct json_object *o)
{
	size_t n = 0;

	if (json_object_is_type(o, json_type_object)) {
		struct json_object_iterator it = json_object_iter_begin(o);
		struct json_object_iterator end = json_object_iter_end(o);

		while (!json_object_iter_equal(&it, &end)) {
			n += 1 + proto_scan_tree_members(json_object_iter_peek_value(&it));
			json_object_iter_next(&it);
		}
	} else if (json_object_is_type(o, json_type_array)) {
		size_t len = json_object_array_length(o);

		for (size_t i = 0; i < len; i++)
			n += proto_scan_tree_members(json_object_array_get_idx(o, i));
	}
	return n;
}
