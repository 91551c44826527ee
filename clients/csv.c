/* csv: RFC 4180 records (csv.h). */
#include "csv.h"

#include <stdlib.h>
#include <string.h>

void csv_bom(FILE *f)
{
	fputs("\xef\xbb\xbf", f);
}

/* A record is put together in one buffer and written with one fwrite: an
 * export writes ~45 fields a row, and a stdio call or two per field (the
 * quoting test, then the field) were a sixth of streetctl's time. */
struct csv_buf {
	char *p;
	size_t len, cap;
};

static void csv_reserve(struct csv_buf *b, size_t more)
{
	if (b->len + more <= b->cap)
		return;
	while (b->cap < b->len + more)
		b->cap = b->cap ? b->cap * 2 : 4096;
	b->p = realloc(b->p, b->cap);
	if (b->p == NULL)
		abort(); /* out of memory in a short-lived client */
}

/* One field: as it is, or quoted (quotes doubled) when it holds a comma, a
 * quote, CR or LF. */
static void csv_field(struct csv_buf *b, const char *s)
{
	size_t n, at;

	if (s == NULL)
		return;
	n = strlen(s);
	at = strcspn(s, ",\"\r\n");
	if (at == n) {
		csv_reserve(b, n);
		memcpy(b->p + b->len, s, n);
		b->len += n;
		return;
	}
	csv_reserve(b, 2 * n + 2); /* every byte a quote, at worst */
	b->p[b->len++] = '"';
	memcpy(b->p + b->len, s, at);
	b->len += at;
	for (s += at; *s; s++) {
		if (*s == '"')
			b->p[b->len++] = '"';
		b->p[b->len++] = *s;
	}
	b->p[b->len++] = '"';
}

void csv_row(FILE *f, const char *const *fields, int n)
{
	static struct csv_buf b; /* kept: one record at a time, reused */

	b.len = 0;
	for (int i = 0; i < n; i++) {
		if (i > 0) {
			csv_reserve(&b, 1);
			b.p[b.len++] = ',';
		}
		csv_field(&b, fields[i]);
	}
	csv_reserve(&b, 2);
	b.p[b.len++] = '\r';
	b.p[b.len++] = '\n';
	fwrite(b.p, 1, b.len, f);
}

void csv_out_reserve(struct csv_out *o, size_t more)
{
	if (o->len + more <= o->cap)
		return;
	while (o->cap < o->len + more)
		o->cap = o->cap ? o->cap * 2 : 65536;
	o->p = realloc(o->p, o->cap);
	if (o->p == NULL)
		abort(); /* out of memory in a short-lived client */
}

/* s[0..n) quoted, its quotes doubled. */
static void csv_out_quoted(struct csv_out *o, const char *s, size_t n)
{
	csv_out_reserve(o, 2 * n + 2); /* every byte a quote, at worst */
	o->p[o->len++] = '"';
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '"')
			o->p[o->len++] = '"';
		o->p[o->len++] = s[i];
	}
	o->p[o->len++] = '"';
}

void csv_out_field(struct csv_out *o, const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (s[i] == ',' || s[i] == '"' || s[i] == '\r' || s[i] == '\n') {
			csv_out_quoted(o, s, n);
			return;
		}
	csv_out_reserve(o, n);
	memcpy(o->p + o->len, s, n);
	o->len += n;
}

void csv_out_plain(struct csv_out *o, const char *s, size_t n)
{
	if (memchr(s, ',', n) != NULL) {
		csv_out_quoted(o, s, n);
		return;
	}
	csv_out_reserve(o, n);
	memcpy(o->p + o->len, s, n);
	o->len += n;
}

void csv_out_free(struct csv_out *o)
{
	free(o->p);
	*o = (struct csv_out){ 0 };
}
