/* export_scan: see export_scan.h. */
#include "export_scan.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

__attribute__((format(printf, 2, 3))) static int scan_error(struct export_scan *s, const char *fmt,
                                                            ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(s->err, sizeof(s->err), fmt, ap);
	va_end(ap);
	return -1;
}

/* The scanner's fault, where it is in the page. */
static int scan_fault(struct export_scan *s)
{
	return scan_error(s, "the export page is not valid JSON: %s at byte %zu",
	                  s->sc.msg ? s->sc.msg : "?",
	                  (size_t)((const char *)s->sc.s - s->text) + s->sc.pos);
}

/* Where name is in the json-c array cols (of strings), or -1; -2 when cols is not one. */
static int col_find(json_object *cols, const char *name, int *n)
{
	int at = -1;

	if (!json_object_is_type(cols, json_type_array))
		return -2;
	*n = (int)json_object_array_length(cols);
	for (int i = 0; i < *n; i++) {
		json_object *c = json_object_array_get_idx(cols, (size_t)i);

		if (!json_object_is_type(c, json_type_string))
			return -2;
		if (at < 0 && strcmp(json_object_get_string(c), name) == 0)
			at = i;
	}
	return at;
}

/* The page without its rows: text[0..head) + "[]" + tail[0..tail_len),
 * through json-c into s->page; 0 or -1. */
static int parse_rest(struct export_scan *s, const char *text, size_t head, const char *tail,
                      size_t tail_len)
{
	char *rest = malloc(head + 2 + tail_len + 1);
	json_tokener *tok;

	if (rest == NULL)
		return scan_error(s, "out of memory");
	memcpy(rest, text, head);
	memcpy(rest + head, "[]", 2);
	memcpy(rest + head + 2, tail, tail_len);
	rest[head + 2 + tail_len] = '\0';
	tok = json_tokener_new();
	s->page = tok ? json_tokener_parse_ex(tok, rest, (int)(head + 2 + tail_len)) : NULL;
	if (tok)
		json_tokener_free(tok);
	free(rest);
	if (!json_object_is_type(s->page, json_type_object)) {
		json_object_put(s->page);
		s->page = NULL;
		return scan_error(s, "the export page cannot be read");
	}
	return 0;
}

/* Finds the rows in the page and parses the rest; 0 with s->sc on the rows.
 * When "next" came before "rows" (as the server writes it), the rest is
 * what precedes the rows and the rows are read where they are, by the one
 * scanner over the page: they are scanned once, not skipped first (the
 * members after them, if any, are checked at the end and ignored).  Else the
 * rows are skipped to find the members after them, and read in a second
 * pass. */
static int open_page(struct export_scan *s, const char *text, size_t len)
{
	struct proto_scan_val k, v, rows = { 0 };
	struct proto_scan *sc = &s->sc;
	bool saw_next = false;
	int r;

	proto_scan_begin(sc, text, len);
	if (!proto_scan_enter(sc, PROTO_SCAN_OBJECT))
		return scan_fault(s);
	while ((r = proto_scan_item(sc, &k)) == 1) {
		if (proto_scan_is(&k, "rows") && saw_next) {
			size_t at = sc->pos;

			while (at < len && (text[at] == ' ' || text[at] == '\t' ||
			                    text[at] == '\n' || text[at] == '\r'))
				at++;
			if (at < len && text[at] == '[') {
				/* the rest: the members so far, rows empty, the object closed */
				if (parse_rest(s, text, at, "}", 1) != 0)
					return -1;
				s->in_place = true;
				if (proto_scan_enter(sc, PROTO_SCAN_ARRAY))
					return 0;
				json_object_put(s->page);
				s->page = NULL;
				return scan_fault(s);
			}
		}
		if (!proto_scan_next(sc, &v))
			return scan_fault(s);
		if (proto_scan_is(&k, "next"))
			saw_next = true;
		if (proto_scan_is(&k, "rows"))
			rows = v;
	}
	if (r < 0 || !proto_scan_end(sc))
		return scan_fault(s);
	if (rows.raw == NULL || rows.type != PROTO_SCAN_ARRAY)
		return scan_error(s, "the export page has no rows array");
	if (parse_rest(s, text, (size_t)(rows.raw - text), rows.raw + rows.len,
	               len - (size_t)(rows.raw - text) - rows.len) != 0)
		return -1;
	proto_scan_begin(sc, rows.raw, rows.len);
	if (!proto_scan_enter(sc, PROTO_SCAN_ARRAY))
		return scan_fault(s);
	return 0;
}

int export_scan_open(struct export_scan *s, const char *text, size_t len, const char *const *kinds,
                     int nkinds)
{
	json_object *cols = NULL, *scols = NULL;

	memset(s, 0, sizeof(*s));
	s->text = text;
	s->kinds = kinds;
	s->nkinds = nkinds;
	if (open_page(s, text, len) != 0)
		return -1;
	json_object_object_get_ex(s->page, "columns", &cols);
	json_object_object_get_ex(s->page, "step_columns", &scols);
	s->steps = col_find(cols, "steps", &s->ncols);
	s->kind = col_find(scols, "kind", &s->nstep);
	if (s->steps == -2 || s->kind == -2 || s->ncols == 0) {
		export_scan_close(s);
		return scan_error(s, "the export page's columns or step_columns are not "
		                     "arrays of names");
	}
	s->row = calloc((size_t)s->ncols, sizeof(*s->row));
	s->cur = calloc((size_t)s->nstep + 1, sizeof(*s->cur));
	s->last = calloc((size_t)(nkinds * s->nstep) + 1, sizeof(*s->last));
	if (s->row == NULL || s->cur == NULL || s->last == NULL) {
		export_scan_close(s);
		return scan_error(s, "out of memory");
	}
	return 0;
}

/* The cells of one step into s->cur; 0 or -1. */
static int read_step(struct export_scan *s)
{
	struct proto_scan *sc = &s->sc;
	int n = 0, r;

	if (!proto_scan_enter(sc, PROTO_SCAN_ARRAY))
		return sc->msg && strcmp(sc->msg, "expected an array") == 0
		               ? scan_error(s, "row %lld: a step is not an array", s->rows + 1)
		               : scan_fault(s);
	while ((r = proto_scan_item(sc, NULL)) == 1) {
		struct proto_scan_val v;

		if (!proto_scan_next(sc, &v))
			return scan_fault(s);
		if (n >= s->nstep)
			return scan_error(s, "row %lld: a step of more than %d cells", s->rows + 1,
			                  s->nstep);
		if (v.type == PROTO_SCAN_ARRAY || v.type == PROTO_SCAN_OBJECT)
			return scan_error(s, "row %lld: a step's cell is not a single value",
			                  s->rows + 1);
		s->cur[n++] = v;
	}
	if (r < 0)
		return scan_fault(s);
	if (n != s->nstep)
		return scan_error(s, "row %lld: a step of %d cells, not %d", s->rows + 1, n,
		                  s->nstep);
	return 0;
}

/* The row's steps (the cursor before them): each kind's last instance kept. */
static int read_steps(struct export_scan *s)
{
	struct proto_scan *sc = &s->sc;
	int r;

	if (!proto_scan_enter(sc, PROTO_SCAN_ARRAY)) {
		struct proto_scan_val v;

		/* null: no steps */
		if (proto_scan_next(sc, &v) && v.type == PROTO_SCAN_NULL)
			return 0;
		return sc->msg && strcmp(sc->msg, "expected an array") != 0
		               ? scan_fault(s)
		               : scan_error(s, "row %lld: its steps are not an array", s->rows + 1);
	}
	while ((r = proto_scan_item(sc, NULL)) == 1) {
		const struct proto_scan_val *kind;

		if (read_step(s) != 0)
			return -1;
		kind = s->kind >= 0 ? &s->cur[s->kind] : NULL;
		for (int k = 0; kind && k < s->nkinds; k++)
			if (proto_scan_is(kind, s->kinds[k]))
				memcpy(&s->last[k * s->nstep], s->cur,
				       (size_t)s->nstep * sizeof(*s->cur));
	}
	return r < 0 ? scan_fault(s) : 0;
}

int export_scan_row(struct export_scan *s)
{
	struct proto_scan *sc = &s->sc;
	size_t start;
	int n = 0, r = proto_scan_item(sc, NULL);

	if (r == 0 && s->in_place) {
		/* past the rows, in the page: any members after them are checked,
		 * then the page must end */
		struct proto_scan_val k, v;

		while ((r = proto_scan_item(sc, &k)) == 1)
			if (!proto_scan_next(sc, &v))
				return scan_fault(s);
		return r == 0 && proto_scan_end(sc) ? 0 : scan_fault(s);
	}
	if (r == 0)
		return proto_scan_end(sc) ? 0 : scan_fault(s);
	if (r < 0)
		return scan_fault(s);
	for (int i = 0; i < s->nkinds * s->nstep; i++)
		s->last[i] = (struct proto_scan_val){ .type = PROTO_SCAN_NULL };
	start = sc->pos;
	if (!proto_scan_enter(sc, PROTO_SCAN_ARRAY))
		return sc->msg && strcmp(sc->msg, "expected an array") == 0
		               ? scan_error(s, "row %lld is not an array", s->rows + 1)
		               : scan_fault(s);
	while ((r = proto_scan_item(sc, NULL)) == 1) {
		if (n >= s->ncols)
			return scan_error(s, "row %lld has more than %d cells", s->rows + 1,
			                  s->ncols);
		if (n == s->steps) {
			if (read_steps(s) != 0)
				return -1;
			s->row[n++] = (struct proto_scan_val){ .type = PROTO_SCAN_ARRAY };
			continue;
		}
		if (!proto_scan_next(sc, &s->row[n]))
			return scan_fault(s);
		if (s->row[n].type == PROTO_SCAN_ARRAY || s->row[n].type == PROTO_SCAN_OBJECT)
			return scan_error(s, "row %lld: cell %d is not a single value", s->rows + 1,
			                  n + 1);
		n++;
	}
	if (r < 0)
		return scan_fault(s);
	if (n != s->ncols)
		return scan_error(s, "row %lld has %d cells, not %d", s->rows + 1, n, s->ncols);
	s->row_len = sc->pos - start;
	s->rows++;
	return 1;
}

int export_scan_peek_head(const char *text, size_t len, long long *next, long long *end)
{
	struct proto_scan sc;
	struct proto_scan_val k, v;
	int r;

	*end = 0;
	proto_scan_begin(&sc, text, len);
	if (!proto_scan_enter(&sc, PROTO_SCAN_OBJECT))
		return len > 0 && text[0] != '{' ? -1 : 0;
	while ((r = proto_scan_item(&sc, &k)) == 1) {
		bool is_next, is_end;

		if (proto_scan_is(&k, "rows"))
			return -1;
		if (!proto_scan_next(&sc, &v))
			return 0; /* cut short (or wrong: the whole page will tell) */
		is_next = proto_scan_is(&k, "next");
		is_end = proto_scan_is(&k, "end");
		if (!is_next && !is_end)
			continue;
		/* a number is whole only when something follows it */
		if (sc.pos >= len)
			return 0;
		if (is_end) {
			if (v.type != PROTO_SCAN_NUMBER || (*end = strtoll(v.raw, NULL, 10)) < 0)
				return -1;
			continue;
		}
		if (v.type == PROTO_SCAN_NULL) {
			*next = 0;
			return 1;
		}
		if (v.type != PROTO_SCAN_NUMBER)
			return -1;
		*next = strtoll(v.raw, NULL, 10);
		return *next > 0 ? 1 : -1;
	}
	return r == 0 ? -1 : 0;
}

void export_scan_close(struct export_scan *s)
{
	json_object_put(s->page);
	free(s->row);
	free(s->cur);
	free(s->last);
	s->page = NULL;
	s->row = s->cur = s->last = NULL;
}
