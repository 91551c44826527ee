/*
 * http_form: application/x-www-form-urlencoded bodies and URL query strings
 * (the same syntax) into name -> value pairs, for Open311's HTTP layer
 * (docs/open311.md, "Endpoints").  Pure: no I/O.
 *
 * "a=1&b=x+y&c=%E5%99%AA": '+' is a space, %XX a byte; pairs are split at
 * '&' (empty pieces are skipped), a piece without '=' has an empty value.
 * Every decoded name and value must be UTF-8 without NUL: a form that is not
 * is refused as a whole, with a message naming the parameter, never cut or
 * repaired (a refused form is never half applied).
 *
 * Ownership: a struct http_form owns its pairs and their decoded text
 * (NUL-terminated, in one buffer); http_form_free() releases them.  The
 * input is only read.
 */
#ifndef STREETD_HTTP_FORM_H
#define STREETD_HTTP_FORM_H

#include <stdbool.h>
#include <stddef.h>

/* Most pairs in one form or query string. */
#define HTTP_FORM_MAX_PAIRS 64
/* Longest name, in bytes once decoded ("attribute[code][]" included). */
#define HTTP_FORM_MAX_NAME 128
/* Longest attribute code in "attribute[code]" (bytes). */
#define HTTP_FORM_MAX_CODE 100

struct http_form_pair {
	const char *name;
	const char *value;
	size_t value_len; /* bytes, without the NUL */
};

struct http_form {
	struct http_form_pair pairs[HTTP_FORM_MAX_PAIRS];
	size_t n;
	char *buf; /* private: the decoded text */
};

/*
 * Parses s (len bytes, need not be NUL-terminated; NULL with len 0 is an
 * empty form).  Returns 0, or -1 with a message for the client in err (bad
 * percent escape, a NUL, invalid UTF-8, too many pairs, a name too long,
 * out of memory).  *f is overwritten; call http_form_free() either way.
 */
int http_form_parse(const char *s, size_t len, struct http_form *f, char *err, size_t errlen);

/*
 * The value of name, NULL when absent; *count (may be NULL) is how many
 * times name occurs (the first occurrence is returned).
 */
const char *http_form_get(const struct http_form *f, const char *name, int *count);

/*
 * GeoReport v2's attributes: "attribute[code]=v" as "code": "v" and
 * "attribute[code][]=v" (repeatable) as "code": ["v", ...], into a JSON
 * object text (*json malloc()ed, the caller frees it), NULL when the form
 * has none.  Returns 0, or -1 with a message: an empty or too long code, a
 * code given both ways or "attribute[code]" twice, anything after the
 * brackets, out of memory.
 */
int http_form_attributes(const struct http_form *f, char **json, char *err, size_t errlen);

void http_form_free(struct http_form *f);

#endif
