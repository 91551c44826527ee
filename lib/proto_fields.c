/* proto_fields: see proto_fields.h. */
#include "proto_fields.h"

#include <json-c/json.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "utf8.h"

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
		return proto_fail(c, PROTO_ERR_BAD_REQUEST,
		                  "field \"%s\" must be an integer ≥ %lld (at most %lld)", f->name,
		                  (long long)f->min, (long long)f->max);
	return proto_fail(c, PROTO_ERR_BAD_REQUEST,
	                  "field \"%s\" must be an integer from %lld to %lld", f->name,
	                  (long long)f->min, (long long)f->max);
}

/* "must be one of a, b, c": the choices from the table, so the message never goes stale. */
static int fail_enum(struct proto_ctx *c, const struct proto_field *f)
{
	char list[256];
	size_t o = 0;

	list[0] = '\0';
	for (const char *const *ch = f->choices; *ch; ch++) {
		int n = snprintf(list + o, sizeof(list) - o, "%s%s", o ? ", " : "", *ch);

		if (n < 0 || (size_t)n >= sizeof(list) - o)
			break; /* cut short: proto_fail() cuts the message anyway */
		o += (size_t)n;
	}
	return proto_fail(c, PROTO_ERR_BAD_REQUEST, "field \"%s\" must be one of %s", f->name,
	                  list);
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
				return proto_fail(c, PROTO_ERR_BAD_REQUEST,
				                  "field \"%s\" lists %lld twice", f->name,
				                  (long long)ids[i]);
	}
	/* "{" + up to 16 digits and a separator per id + "}" */
	p = proto_arena_alloc(c->req, room);
	if (!p)
		return proto_fail(c, PROTO_ERR_INTERNAL, "request arena exhausted");
	p[used++] = '{';
	for (size_t i = 0; i < n; i++)
		used += (size_t)snprintf(p + used, room - used, "%s%lld", i ? "," : "",
		                         (long long)ids[i]);
	p[used++] = '}';
	p[used] = '\0';
	*out = p;
	return PROTO_OK;
bad:
	return proto_fail(c, PROTO_ERR_BAD_REQUEST,
	                  "field \"%s\" must be an array of %lld to %lld distinct integers ≥ 1",
	                  f->name, (long long)f->min, (long long)f->max);
}

int proto_field_check(struct proto_ctx *c, const struct proto_field *f, struct json_object *v,
                      const char **out)
{
	const char *s = NULL;
	size_t n = 0;

	if (json_object_is_type(v, json_type_string)) {
		s = json_object_get_string(v);
		n = (size_t)json_object_get_string_len(v);
		if (strlen(s) != n) /* an embedded \u0000: the scanner refuses it already */
			return proto_fail(c, PROTO_ERR_BAD_REQUEST, "field \"%s\" contains \\u0000",
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
		*out = proto_arena_printf(c->req, "%lld", (long long)x);
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
			return proto_fail(c, PROTO_ERR_BAD_REQUEST,
			                  "field \"%s\" must be a number from %g to %g", f->name,
			                  f->dmin, f->dmax);
		*out = proto_arena_printf(c->req, "%.17g", x);
		break;
	}
	case PROTO_T_BOOL:
		if (!json_object_is_type(v, json_type_boolean))
			return proto_fail(c, PROTO_ERR_BAD_REQUEST,
			                  "field \"%s\" must be true or false", f->name);
		*out = json_object_get_boolean(v) ? "true" : "false";
		return PROTO_OK;
	case PROTO_T_TEXT: {
		size_t chars;

		if (!s)
			return proto_fail(c, PROTO_ERR_BAD_REQUEST, "field \"%s\" must be a string",
			                  f->name);
		chars = utf8_count(s, n);
		if (chars > (size_t)f->max)
			return proto_fail(c, PROTO_ERR_BAD_REQUEST,
			                  "field \"%s\" is longer than %lld characters", f->name,
			                  (long long)f->max);
		if (chars < (size_t)f->min)
			return proto_fail(c, PROTO_ERR_BAD_REQUEST,
			                  "field \"%s\" must have %lld to %lld characters", f->name,
			                  (long long)f->min, (long long)f->max);
		*out = s;
		return PROTO_OK;
	}
	case PROTO_T_TIMESTAMP:
		if (!s || !timestamp_ok(s, n))
			return proto_fail(c, PROTO_ERR_BAD_REQUEST,
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
		return fail_enum(c, f);
	case PROTO_T_CURSOR:
		if (!s || n < (size_t)f->min || n > (size_t)f->max || !cursor_ok(s, n))
			return proto_fail(
			        c, PROTO_ERR_BAD_REQUEST,
			        "field \"%s\" must be a cursor of %lld to %lld characters from "
			        "[0-9A-Za-z:._-]",
			        f->name, (long long)f->min, (long long)f->max);
		*out = s;
		return PROTO_OK;
	case PROTO_T_SHA256:
		if (!s || !sha256_ok(s, n))
			return proto_fail(c, PROTO_ERR_BAD_REQUEST,
			                  "field \"%s\" must be 64 lower-case hex digits", f->name);
		*out = s;
		return PROTO_OK;
	case PROTO_T_BASE64: {
		size_t decoded;

		if (!s || n < (size_t)f->min || n > (size_t)f->max || !base64_ok(s, n, &decoded))
			return proto_fail(
			        c, PROTO_ERR_BAD_REQUEST,
			        "field \"%s\" must be padded base64 of %lld to %lld characters",
			        f->name, (long long)f->min, (long long)f->max);
		if (decoded > PROTO_CHUNK_MAX)
			return proto_fail(c, PROTO_ERR_BAD_REQUEST,
			                  "field \"%s\" holds more than %d bytes", f->name,
			                  PROTO_CHUNK_MAX);
		*out = s;
		return PROTO_OK;
	}
	case PROTO_T_ID_ARRAY:
		return check_ids(c, f, v, out);
	}
	if (!*out)
		return proto_fail(c, PROTO_ERR_INTERNAL, "request arena exhausted");
	return PROTO_OK;
}
