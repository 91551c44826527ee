/* http_form: see http_form.h. */
#include "http_form.h"

#include <json-c/json.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "utf8.h"

__attribute__((format(printf, 3, 4))) static int fail(char *err, size_t errlen, const char *fmt,
                                                      ...)
{
	va_list ap;

	if (err && errlen) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
		err[utf8_trim(err, strlen(err))] = '\0';
	}
	return -1;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Decodes s[0..n) to out (NUL-terminated); returns the bytes written, or -1
 * on a bad escape or a NUL. */
static long decode(const char *s, size_t n, char *out)
{
	size_t o = 0;

	for (size_t i = 0; i < n; i++) {
		char ch = s[i];

		if (ch == '+') {
			ch = ' ';
		} else if (ch == '%') {
			int hi, lo;

			if (i + 2 >= n) /* fewer than two bytes left */
				return -1;
			hi = hexval(s[i + 1]);
			lo = hexval(s[i + 2]);
			if (hi < 0 || lo < 0)
				return -1;
			ch = (char)(hi * 16 + lo);
			i += 2;
		}
		if (ch == '\0')
			return -1;
		out[o++] = ch;
	}
	out[o] = '\0';
	return (long)o;
}

/* A name quoted back in a message: whole characters, at most 40 bytes. */
static int echo(const char *s)
{
	size_t n = strlen(s);

	return (int)utf8_trim(s, n < 40 ? n : 40);
}

int http_form_parse(const char *s, size_t len, struct http_form *f, char *err, size_t errlen)
{
	size_t i = 0, o = 0;

	f->n = 0;
	if (err && errlen)
		err[0] = '\0';
	/* decoded text is never longer than its source; two NULs per pair */
	f->buf = malloc(len + 2 * HTTP_FORM_MAX_PAIRS + 2);
	if (!f->buf)
		return fail(err, errlen, "out of memory");
	while (i < len) {
		size_t end = i, eq;
		long nn, nv;
		char *name, *value;

		while (end < len && s[end] != '&')
			end++;
		if (end == i) {
			i++;
			continue;
		}
		if (f->n == HTTP_FORM_MAX_PAIRS)
			return fail(err, errlen, "more than %d parameters", HTTP_FORM_MAX_PAIRS);
		eq = i;
		while (eq < end && s[eq] != '=')
			eq++;
		name = f->buf + o;
		nn = decode(s + i, eq - i, name);
		if (nn < 0)
			return fail(err, errlen, "a parameter name has a bad %%-escape or a NUL");
		if (!utf8_valid(name, (size_t)nn))
			return fail(err, errlen, "a parameter name is not UTF-8");
		if (nn > HTTP_FORM_MAX_NAME)
			return fail(err, errlen, "a parameter name is longer than %d bytes",
			            HTTP_FORM_MAX_NAME);
		o += (size_t)nn + 1;
		value = f->buf + o;
		nv = eq < end ? decode(s + eq + 1, end - eq - 1, value) : (value[0] = '\0', 0);
		if (nv < 0)
			return fail(err, errlen, "parameter %.*s has a bad %%-escape or a NUL",
			            echo(name), name);
		if (!utf8_valid(value, (size_t)nv))
			return fail(err, errlen, "parameter %.*s is not UTF-8", echo(name), name);
		o += (size_t)nv + 1;
		f->pairs[f->n].name = name;
		f->pairs[f->n].value = value;
		f->pairs[f->n].value_len = (size_t)nv;
		f->n++;
		i = end + 1;
	}
	return 0;
}

const char *http_form_get(const struct http_form *f, const char *name, int *count)
{
	const char *v = NULL;
	int k = 0;

	for (size_t i = 0; i < f->n; i++) {
		if (strcmp(f->pairs[i].name, name) != 0)
			continue;
		if (!v)
			v = f->pairs[i].value;
		k++;
	}
	if (count)
		*count = k;
	return v;
}

/* "attribute[code]" or "attribute[code][]": the code into code[], and
 * whether it is a list.  0, 1 (not an attribute), or -1 (malformed). */
static int attribute_name(const char *name, char *code, bool *list)
{
	const char *p = name + strlen("attribute[");
	const char *close;
	size_t n;

	if (strncmp(name, "attribute[", strlen("attribute[")) != 0)
		return 1;
	close = strchr(p, ']');
	if (!close)
		return -1;
	n = (size_t)(close - p);
	if (n == 0 || n > HTTP_FORM_MAX_CODE)
		return -1;
	memcpy(code, p, n);
	code[n] = '\0';
	if (strcmp(close, "]") == 0)
		*list = false;
	else if (strcmp(close, "][]") == 0)
		*list = true;
	else
		return -1;
	return 0;
}

int http_form_attributes(const struct http_form *f, char **json, char *err, size_t errlen)
{
	struct json_object *o = NULL;
	char code[HTTP_FORM_MAX_CODE + 1];
	int rc = -1;

	*json = NULL;
	for (size_t i = 0; i < f->n; i++) {
		struct json_object *have, *v;
		bool list;
		int k = attribute_name(f->pairs[i].name, code, &list);

		if (k == 1)
			continue;
		if (k < 0) {
			fail(err, errlen,
			     "parameter %.*s is not attribute[code] or attribute[code][] with a "
			     "code "
			     "of 1 to %d bytes",
			     echo(f->pairs[i].name), f->pairs[i].name, HTTP_FORM_MAX_CODE);
			goto out;
		}
		if (!o && !(o = json_object_new_object()))
			goto oom;
		v = json_object_new_string_len(f->pairs[i].value, (int)f->pairs[i].value_len);
		if (!v)
			goto oom;
		if (!json_object_object_get_ex(o, code, &have)) {
			if (list) {
				struct json_object *a = json_object_new_array();

				if (!a || json_object_array_add(a, v) != 0) {
					json_object_put(a);
					json_object_put(v);
					goto oom;
				}
				v = a;
			}
			if (json_object_object_add(o, code, v) != 0) {
				json_object_put(v);
				goto oom;
			}
			continue;
		}
		if (!list || !json_object_is_type(have, json_type_array)) {
			json_object_put(v);
			fail(err, errlen,
			     "attribute %.*s is given twice (use attribute[%.*s][] for a list)",
			     echo(code), code, echo(code), code);
			goto out;
		}
		if (json_object_array_add(have, v) != 0) {
			json_object_put(v);
			goto oom;
		}
	}
	if (o) {
		const char *s = json_object_to_json_string_ext(
		        o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);

		if (!s || !(*json = strdup(s)))
			goto oom;
	}
	rc = 0;
	goto out;
oom:
	fail(err, errlen, "out of memory");
out:
	json_object_put(o);
	return rc;
}

void http_form_free(struct http_form *f)
{
	if (!f)
		return;
	free(f->buf);
	f->buf = NULL;
	f->n = 0;
}
