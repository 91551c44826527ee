/*
 * csv: RFC 4180 output for spreadsheets.  A field is quoted when it holds a
 * comma, a double quote, CR or LF (its quotes doubled); records end in CRLF.
 * The file starts with a UTF-8 byte order mark so that Excel reads Chinese
 * as UTF-8 rather than the system's code page.  Bytes are written as given
 * (the server's text is UTF-8).
 */
#ifndef STREETCTL_CSV_H
#define STREETCTL_CSV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

/* Writes the UTF-8 byte order mark (EF BB BF). */
void csv_bom(FILE *f);

/* Writes one record of n fields (NULL is an empty field), then CRLF. */
void csv_row(FILE *f, const char *const *fields, int n);

/*
 * Records built in memory from fields given with their lengths, for a
 * writer that knows its fields' kind (an export page: ~45 fields a row,
 * most codes, times and numbers; csv_row's strlen and four-byte search per
 * field were a sixth of streetctl's time).  The caller writes p[0..len) and
 * empties it (len = 0); the struct owns p until csv_out_free.
 */
struct csv_out {
	char *p;
	size_t len, cap;
};

/* Makes room for more bytes; aborts when out of memory (a short-lived client). */
void csv_out_reserve(struct csv_out *o, size_t more);

/* A field of n bytes, quoted when it holds a comma, a quote, CR or LF. */
void csv_out_field(struct csv_out *o, const char *s, size_t n);

/* A field known to hold no quote, CR or LF (the text of a JSON string with no
 * escape: JSON escapes those): quoted only when it holds a comma. */
void csv_out_plain(struct csv_out *o, const char *s, size_t n);

/* The separator between two fields, and the end of a record (CRLF). */
static inline void csv_out_comma(struct csv_out *o)
{
	csv_out_reserve(o, 1);
	o->p[o->len++] = ',';
}

static inline void csv_out_end(struct csv_out *o)
{
	csv_out_reserve(o, 2);
	o->p[o->len++] = '\r';
	o->p[o->len++] = '\n';
}

void csv_out_free(struct csv_out *o);

#endif
