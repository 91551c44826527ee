/*
 * cmd_export: the assessment's documents (docs/assessment.md, "Export" and
 * "Bulletin").  export streams the ticket-level rows page after page to CSV,
 * an xlsx sheet (xlsx.h) or JSON lines (--json), so a year of a city never
 * sits in memory;
 * bulletin renders the monthly 通报 as Markdown or CSV.  Both write to -o FILE
 * (whole or not at all, outfile.h) or to standard output.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

#include "cmd.h"
#include "csv.h"
#include "export_pager.h"
#include "export_scan.h"
#include "fail.h"
#include "fmt.h"
#include "outfile.h"
#include "period.h"
#include "rpc.h"
#include "xlsx.h"

/* The step kinds, in the order the columns show them. */
static const char *const kinds[] = { "dispatch", "accept", "resolve", "feedback" };
#define NKINDS 4

/* The columns, the one list CSV and xlsx share: a column of the server's
 * row (or, for a step kind, of its last instance's), and the cell's kind in a
 * spreadsheet.  names: the cell is the name, from the page's "names" of that
 * kind, of the unit whose code is column named (a unit's name is sent once a
 * page, not in every row). */
struct export_key {
	const char *key;
	enum xlsx_kind kind;
	const char *names;
};

static const struct export_key head_keys[] = {
	{ "id", XLSX_NUMBER, NULL },
	{ "state", XLSX_TEXT, NULL },
	{ "urgent", XLSX_BOOL, NULL },
	{ "category", XLSX_TEXT, NULL },
	{ "category_name", XLSX_TEXT, "category" },
	{ "district", XLSX_TEXT, NULL },
	{ "street", XLSX_TEXT, NULL },
	{ "street_name", XLSX_TEXT, "street" },
	{ "grid", XLSX_TEXT, NULL },
	{ "reported_at", XLSX_TIME, NULL },
	{ "department", XLSX_TEXT, NULL },
	{ "department_name", XLSX_TEXT, "department" },
};
static const struct export_key step_keys[] = {
	{ "started_at", XLSX_TIME, NULL }, { "deadline", XLSX_TIME, NULL },
	{ "ended_at", XLSX_TIME, NULL },   { "actor", XLSX_TEXT, NULL },
	{ "department", XLSX_TEXT, NULL }, { "overdue", XLSX_BOOL, NULL },
};
static const struct export_key tail_keys[] = {
	{ "closed_at", XLSX_TIME, NULL }, { "close_kind", XLSX_TEXT, NULL },
	{ "rating", XLSX_NUMBER, NULL },  { "returns", XLSX_NUMBER, NULL },
	{ "reopens", XLSX_NUMBER, NULL }, { "urges", XLSX_NUMBER, NULL },
	{ "overdue", XLSX_BOOL, NULL },
};
#define NHEAD     (int)(sizeof(head_keys) / sizeof(head_keys[0]))
#define NSTEPKEYS (int)(sizeof(step_keys) / sizeof(step_keys[0]))
#define NTAIL     (int)(sizeof(tail_keys) / sizeof(tail_keys[0]))
#define NCOLS     (NHEAD + NKINDS * NSTEPKEYS + NTAIL)

/* The header: the columns' names ("dispatch_started_at" for a step's) and
 * kinds; static, made once. */
static const struct xlsx_col *export_columns(void)
{
	static struct xlsx_col cols[NCOLS];
	static char names[NKINDS * NSTEPKEYS][32];
	int n = 0;

	if (cols[0].name != NULL)
		return cols;
	for (int i = 0; i < NHEAD; i++)
		cols[n++] = (struct xlsx_col){ head_keys[i].key, head_keys[i].kind };
	for (int k = 0; k < NKINDS; k++)
		for (int i = 0; i < NSTEPKEYS; i++) {
			char *s = names[k * NSTEPKEYS + i];

			snprintf(s, 32, "%s_%s", kinds[k], step_keys[i].key);
			cols[n++] = (struct xlsx_col){ s, step_keys[i].kind };
		}
	for (int i = 0; i < NTAIL; i++)
		cols[n++] = (struct xlsx_col){ tail_keys[i].key, tail_keys[i].kind };
	return cols;
}

/* A page's layout: where each column is in a row (and a step) of this page,
 * from its "columns" and "step_columns", found once a page. */
struct layout {
	json_object *page;
	json_object *cols, *step_cols;
	int head[NHEAD], tail[NTAIL], step[NSTEPKEYS];
	int code[NHEAD];           /* a name column: where its unit's code is */
	json_object *names[NHEAD]; /* a name column: the page's names of its kind */
	int steps, kind;
};

/* Where name is in cols, or -1. */
static int col_index(json_object *cols, const char *name)
{
	for (size_t i = 0; cols && i < json_object_array_length(cols); i++) {
		const char *c = json_object_get_string(json_object_array_get_idx(cols, i));

		if (c != NULL && strcmp(c, name) == 0)
			return (int)i;
	}
	return -1;
}

/* Fills l from page; 0, or an exit code after one error line (a server
 * whose rows lack a column this streetctl writes). */
static int layout_read(struct layout *l, json_object *page)
{
	const char *missing = NULL;

	l->page = page;
	l->cols = fmt_get(page, "columns");
	l->step_cols = fmt_get(page, "step_columns");
	l->steps = col_index(l->cols, "steps");
	l->kind = col_index(l->step_cols, "kind");
	if (l->steps < 0 || l->kind < 0)
		missing = l->steps < 0 ? "steps" : "kind";
	for (int i = 0; i < NHEAD; i++) {
		const struct export_key *k = &head_keys[i];

		l->head[i] = k->names ? -1 : col_index(l->cols, k->key);
		l->code[i] = k->names ? col_index(l->cols, k->names) : -1;
		l->names[i] = k->names ? fmt_get(fmt_get(page, "names"), k->names) : NULL;
		if ((k->names ? l->code[i] : l->head[i]) < 0)
			missing = k->names ? k->names : k->key;
	}
	for (int i = 0; i < NSTEPKEYS; i++)
		if ((l->step[i] = col_index(l->step_cols, step_keys[i].key)) < 0)
			missing = step_keys[i].key;
	for (int i = 0; i < NTAIL; i++)
		if ((l->tail[i] = col_index(l->cols, tail_keys[i].key)) < 0)
			missing = tail_keys[i].key;
	if (missing != NULL)
		return fail(EX_PROTOCOL,
		            "the server's export rows have no column '%s'; use a streetctl of "
		            "the server's version",
		            missing);
	return 0;
}

/* A value as text: strings as they are, numbers and booleans as JSON, null
 * or missing as NULL (an empty field). */
static const char *text_at(json_object *arr, int i)
{
	json_object *v = i < 0 ? NULL : json_object_array_get_idx(arr, (size_t)i);

	return v == NULL ? NULL : json_object_get_string(v);
}

/* The name of the unit of kind whose code is at column i of row. */
static json_object *name_at(const struct layout *l, const char *kind, json_object *row, int i)
{
	json_object *code = json_object_array_get_idx(row, (size_t)i);

	if (code == NULL)
		return NULL;
	return fmt_get(fmt_get(fmt_get(l->page, "names"), kind), json_object_get_string(code));
}

/* One ticket as a record of NCOLS cells (pointing into row and the page):
 * for each step kind, its last instance (a ticket returned or reopened has
 * several; --json gives them all). */
static void export_record(const char **cells, const struct layout *l, json_object *row)
{
	json_object *steps = json_object_array_get_idx(row, (size_t)l->steps),
	            *last[NKINDS] = { NULL };
	int n = 0;

	for (size_t i = 0; steps && i < json_object_array_length(steps); i++) {
		json_object *s = json_object_array_get_idx(steps, i);
		const char *kind = text_at(s, l->kind);

		for (int k = 0; k < NKINDS; k++)
			if (kind && strcmp(kind, kinds[k]) == 0)
				last[k] = s;
	}
	for (int i = 0; i < NHEAD; i++) {
		if (head_keys[i].names != NULL) {
			json_object *v = name_at(l, head_keys[i].names, row, l->code[i]);

			cells[n++] = v ? json_object_get_string(v) : NULL;
		} else {
			cells[n++] = text_at(row, l->head[i]);
		}
	}
	for (int k = 0; k < NKINDS; k++)
		for (int i = 0; i < NSTEPKEYS; i++)
			cells[n++] = last[k] ? text_at(last[k], l->step[i]) : NULL;
	for (int i = 0; i < NTAIL; i++)
		cells[n++] = text_at(row, l->tail[i]);
}

/* One compact array as an object of cols' names (the caller puts it). */
static json_object *zip(json_object *cols, json_object *arr)
{
	json_object *o = json_object_new_object();

	for (size_t i = 0; i < json_object_array_length(cols); i++)
		json_object_object_add(o,
		                       json_object_get_string(json_object_array_get_idx(cols, i)),
		                       json_object_get(json_object_array_get_idx(arr, i)));
	return o;
}

/* A ticket as --json prints it: one object, its steps objects, the names of
 * its category, street and department beside their codes. */
static json_object *export_object(const struct layout *l, json_object *row)
{
	json_object *o = json_object_new_object(), *steps, *so = json_object_new_array();

	for (size_t i = 0; i < json_object_array_length(l->cols); i++) {
		const char *c = json_object_get_string(json_object_array_get_idx(l->cols, i));

		json_object_object_add(o, c, json_object_get(json_object_array_get_idx(row, i)));
		for (int h = 0; h < NHEAD; h++)
			if (head_keys[h].names != NULL && l->code[h] == (int)i)
				json_object_object_add(
				        o, head_keys[h].key,
				        json_object_get(
				                name_at(l, head_keys[h].names, row, l->code[h])));
	}
	steps = json_object_array_get_idx(row, (size_t)l->steps);
	for (size_t i = 0; steps && i < json_object_array_length(steps); i++)
		json_object_array_add(so, zip(l->step_cols, json_object_array_get_idx(steps, i)));
	json_object_object_add(o, "steps", so);
	return o;
}

/* --format: one of the two allowed. */
static int check_format(const struct args *a, const char *const *allowed)
{
	const char *fmt = args_get(a, "format");

	if (fmt == NULL)
		return 0;
	for (int i = 0; allowed[i]; i++)
		if (strcmp(fmt, allowed[i]) == 0)
			return 0;
	return fail_usage(a->cmd->name, "--format must be %s or %s, not '%s'", allowed[0],
	                  allowed[1], fmt);
}

/* Where export's rows go: JSON lines, CSV or an xlsx sheet. */
struct sink {
	FILE *f;
	struct xlsx *x; /* xlsx, or NULL */
	bool json;
	struct csv_out csv; /* CSV from scanned pages: a page's records, one fwrite */
};

static int sink_cells(struct sink *k, const char **cells);

/* Writes one ticket; 0, or an exit code after one error line. */
static int sink_row(struct sink *k, const struct layout *l, json_object *row)
{
	const char *cells[NCOLS];

	if (k->json) {
		json_object *o = export_object(l, row);

		fprintf(k->f, "%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
		json_object_put(o);
		return 0;
	}
	export_record(cells, l, row);
	return sink_cells(k, cells);
}

/* Writes one ticket's NCOLS cells as CSV or to the sheet; 0, or an exit code
 * after one error line. */
static int sink_cells(struct sink *k, const char **cells)
{
	if (k->x == NULL) {
		csv_row(k->f, cells, NCOLS);
		return 0;
	}
	switch (xlsx_row(k->x, cells)) {
	case XLSX_OK:
		return 0;
	case XLSX_FULL:
		return fail(EX_CANTCREAT,
		            "more than %ld tickets, past the %ld rows of an Excel sheet; nothing "
		            "written; narrow the period or use --format csv",
		            XLSX_MAX_ROWS - 1, XLSX_MAX_ROWS);
	default:
		return fail(EX_SOFTWARE, "cannot write the xlsx sheet: %s; nothing written",
		            xlsx_error(k->x));
	}
}

/* xlsx needs a file: a zip is written by seeking, and a terminal or a pipe
 * would get binary; --json writes lines, not a sheet. */
static int check_xlsx(const struct ctl *ctl, const struct args *a)
{
	const char *fmt = args_get(a, "format"), *path = args_get(a, "output");

	if (fmt == NULL || strcmp(fmt, "xlsx") != 0)
		return 0;
	if (ctl->json)
		return fail_usage(a->cmd->name, "--json writes JSON lines, not xlsx; "
		                                "drop --json or --format xlsx");
	if (path == NULL || strcmp(path, "-") == 0)
		return fail_usage(a->cmd->name, "--format xlsx writes a file, not standard output; "
		                                "give -o FILE.xlsx");
	return 0;
}

/* The rows a page holds at most, as streetctl asks (the server's most). */
#define EXPORT_LIMIT 1000

/* The request for the page after ticket id after (0: the first), up to
 * ticket id upto (0: no window). */
static json_object *export_request(const char *from, const char *to, long long after,
                                   long long upto)
{
	json_object *req = rpc_new("export");

	json_object_object_add(req, "from", json_object_new_string(from));
	json_object_object_add(req, "to", json_object_new_string(to));
	json_object_object_add(req, "limit", json_object_new_int(EXPORT_LIMIT));
	if (after > 0)
		json_object_object_add(req, "after", json_object_new_int64(after));
	if (upto > 0)
		json_object_object_add(req, "upto", json_object_new_int64(upto));
	return req;
}

/* The pages asked for (export_pager.h) and where they go. */
struct pages {
	struct ctl *ctl;
	const char *from, *to;
	struct export_pager pager;
	int bad; /* the head named an impossible next: EX_PROTOCOL once the page is in */
};

/* export_pager's send: one request on the connection, not awaited. */
static int pages_send(void *arg, long long after, long long upto, unsigned *drops)
{
	struct pages *pg = arg;
	json_object *req = export_request(pg->from, pg->to, after, upto);
	int id = rpc_send(pg->ctl, req);

	json_object_put(req);
	*drops = pg->ctl->conn_drops;
	return id;
}

/* The current page's head: the pager asks for what follows. */
static void pages_head(struct pages *pg, long long next, long long end)
{
	if (export_pager_head(&pg->pager, next, end, pages_send, pg) != 0)
		pg->bad = 1;
}

/* The same from a page read whole (a page small enough to come in one read
 * is not peeked at); 0, or an exit code after one error line. */
static int pages_head_of(struct pages *pg, json_object *page)
{
	json_object *next = fmt_get(page, "next"), *end = fmt_get(page, "end");

	pages_head(pg, next ? json_object_get_int64(next) : 0,
	           end ? json_object_get_int64(end) : 0);
	if (pg->bad)
		return fail(EX_PROTOCOL, "the server's export page names a next page that is not "
		                         "after it; use a streetctl of the server's version");
	return 0;
}

/* A look at the page while it arrives (rpc_await_text_peek): its head names
 * what follows, asked for then, so that the server makes it while this one
 * is still on its way (not only while it is written).  True: done. */
static bool page_peek(void *arg, const char *text, size_t n)
{
	struct pages *pg = arg;
	long long next = 0, end = 0;
	int r = export_scan_peek_head(text, n, &next, &end);

	if (r == 1)
		pages_head(pg, next, end);
	/* a head is a few KiB: past 1 MiB without "next", the whole page says */
	return r != 0 || n > (1u << 20);
}

/* The current page's request, and its id if it is still to be awaited on
 * this connection (0: sent on one lost since, to be sent again). */
static json_object *page_request(struct pages *pg, const struct export_req *r, int *id)
{
	*id = r->drops == pg->ctl->conn_drops ? r->id : 0;
	return export_request(pg->from, pg->to, r->after, r->upto);
}

/* One page the json-c way: the reply as a tree.  0, or an exit code after
 * one error line. */
static int export_page_tree(struct pages *pg, struct sink *k, const struct export_req *r,
                            long long *count)
{
	json_object *res = NULL, *rows, *req;
	struct layout l;
	long long n = 0;
	int id, rc;

	req = page_request(pg, r, &id);
	rc = rpc_await(pg->ctl, req, id, &res);
	json_object_put(req);
	if (rc == 0)
		rc = layout_read(&l, res);
	if (rc == 0)
		rc = pages_head_of(pg, res);
	if (rc == 0) {
		rows = fmt_get(res, "rows");
		for (size_t i = 0; rc == 0 && rows && i < json_object_array_length(rows); i++) {
			rc = sink_row(k, &l, json_object_array_get_idx(rows, i));
			n++;
		}
	}
	json_object_put(res);
	*count += n;
	export_pager_done(&pg->pager, n);
	return rc;
}

/* A scanned non-null cell's text copied to p (v->len + 1 bytes at least),
 * NUL-terminated, its length in *n; false for a string whose escapes are
 * invalid. */
static bool cell_copy(const struct proto_scan_val *v, char *p, size_t *n)
{
	*n = v->len;
	if (v->type == PROTO_SCAN_STRING && v->escaped)
		return proto_scan_unescape(v->raw, v->len, p, n);
	memcpy(p, v->raw, *n); /* a number or boolean as JSON, as json-c gives it */
	p[*n] = '\0';
	return true;
}

/* A scanned cell's text, NUL-terminated at buf + *o (NULL for null); false
 * for a string whose escapes are invalid. */
static bool scan_text(const char **out, const struct proto_scan_val *v, char *buf, size_t *o)
{
	char *p = buf + *o;
	size_t n;

	*out = NULL;
	if (v->type == PROTO_SCAN_NULL)
		return true;
	if (!cell_copy(v, p, &n))
		return false;
	*o += n + 1;
	*out = p;
	return true;
}

/* The error of a page row with an invalid escape: EX_PROTOCOL after its line. */
static int bad_escape(const struct export_scan *s)
{
	return fail(EX_PROTOCOL,
	            "the export page's row %lld has a string with an invalid escape; use a "
	            "streetctl of the server's version",
	            s->rows);
}

/* One ticket of a scanned page as NCOLS cells, their text in buf (row_len
 * + NCOLS bytes at least); 0, or an exit code after one error line. */
static int scan_record(const char **cells, const struct layout *l, const struct export_scan *s,
                       char *buf)
{
	size_t o = 0;
	int n = 0;
	bool ok = true;

	for (int i = 0; i < NHEAD; i++) {
		if (head_keys[i].names != NULL) {
			const char *code = NULL;
			json_object *v = NULL;

			ok = ok && scan_text(&code, &s->row[l->code[i]], buf, &o);
			if (code != NULL)
				json_object_object_get_ex(l->names[i], code, &v);
			cells[n++] = v ? json_object_get_string(v) : NULL;
		} else {
			ok = ok && scan_text(&cells[n++], &s->row[l->head[i]], buf, &o);
		}
	}
	for (int k = 0; k < NKINDS; k++)
		for (int i = 0; i < NSTEPKEYS; i++)
			ok = ok &&
			     scan_text(&cells[n++], &s->last[k * s->nstep + l->step[i]], buf, &o);
	for (int i = 0; i < NTAIL; i++)
		ok = ok && scan_text(&cells[n++], &s->row[l->tail[i]], buf, &o);
	return ok ? 0 : bad_escape(s);
}

/* A scanned cell as a CSV field, straight from the page's bytes: null is
 * empty, a number or boolean its JSON text, a string its text (unescaped into
 * scratch, row_len + 1 bytes, only when it has escapes).  False for an
 * invalid escape. */
static bool csv_cell(struct csv_out *o, const struct proto_scan_val *v, char *scratch)
{
	size_t n;

	switch (v->type) {
	case PROTO_SCAN_NULL:
		return true;
	case PROTO_SCAN_STRING:
		if (!v->escaped) {
			csv_out_plain(o, v->raw, v->len);
			return true;
		}
		if (!proto_scan_unescape(v->raw, v->len, scratch, &n))
			return false;
		csv_out_field(o, scratch, n);
		return true;
	default:
		csv_out_reserve(o, v->len);
		memcpy(o->p + o->len, v->raw, v->len);
		o->len += v->len;
		return true;
	}
}

/* The name cell of the unit whose code is the scanned v (empty when the page
 * does not name it); false for an invalid escape. */
static bool csv_name(struct csv_out *o, json_object *names, const struct proto_scan_val *v,
                     char *scratch)
{
	json_object *name = NULL;
	size_t n;

	if (v->type == PROTO_SCAN_NULL)
		return true;
	if (!cell_copy(v, scratch, &n))
		return false;
	if (json_object_object_get_ex(names, scratch, &name) && name != NULL) {
		const char *t = json_object_get_string(name);

		csv_out_field(o, t, strlen(t));
	}
	return true;
}

/* One ticket of a scanned page as a CSV record appended to o, the same
 * fields as scan_record then csv_row give (the tests compare them), without
 * a copy of each cell or a strlen; 0, or an exit code after one error line. */
static int csv_record(struct csv_out *o, const struct layout *l, const struct export_scan *s,
                      char *scratch)
{
	bool ok = true;

	for (int i = 0; i < NHEAD; i++) {
		if (i > 0)
			csv_out_comma(o);
		if (head_keys[i].names != NULL)
			ok = ok && csv_name(o, l->names[i], &s->row[l->code[i]], scratch);
		else
			ok = ok && csv_cell(o, &s->row[l->head[i]], scratch);
	}
	for (int k = 0; k < NKINDS; k++)
		for (int i = 0; i < NSTEPKEYS; i++) {
			csv_out_comma(o);
			ok = ok && csv_cell(o, &s->last[k * s->nstep + l->step[i]], scratch);
		}
	for (int i = 0; i < NTAIL; i++) {
		csv_out_comma(o);
		ok = ok && csv_cell(o, &s->row[l->tail[i]], scratch);
	}
	csv_out_end(o);
	return ok ? 0 : bad_escape(s);
}

/* One page the scanner's way: the reply's text, its rows read in place. */
static int export_page_scan(struct pages *pg, struct sink *k, const struct export_req *rq,
                            long long *count)
{
	struct export_scan s;
	struct layout l;
	char *text = NULL, *buf = NULL;
	size_t len, cap = 0;
	long long n0 = *count;
	json_object *req;
	int rc, r, id;

	req = page_request(pg, rq, &id);
	rc = rpc_await_text_peek(pg->ctl, req, id, &text, &len, page_peek, pg);
	json_object_put(req);
	if (rc != 0)
		return rc;
	if (export_scan_open(&s, text, len, kinds, NKINDS) != 0) {
		free(text);
		return fail(EX_PROTOCOL, "%s; use a streetctl of the server's version", s.err);
	}
	rc = layout_read(&l, s.page);
	if (rc == 0)
		rc = pages_head_of(pg, s.page);
	while (rc == 0 && (r = export_scan_row(&s)) != 0) {
		const char *cells[NCOLS];

		if (r < 0) {
			rc = fail(EX_PROTOCOL, "%s; use a streetctl of the server's version",
			          s.err);
			break;
		}
		if (cap < s.row_len + NCOLS + 1) {
			char *nb = realloc(buf, s.row_len + NCOLS + 1);

			if (nb == NULL)
				abort(); /* out of memory in a short-lived client */
			buf = nb;
			cap = s.row_len + NCOLS + 1;
		}
		if (k->x == NULL) {
			rc = csv_record(&k->csv, &l, &s, buf);
		} else {
			rc = scan_record(cells, &l, &s, buf);
			if (rc == 0)
				rc = sink_cells(k, cells);
		}
		(*count)++;
	}
	/* the page's records in one write */
	if (k->csv.len > 0) {
		fwrite(k->csv.p, 1, k->csv.len, k->f);
		k->csv.len = 0;
	}
	free(buf);
	export_scan_close(&s);
	free(text);
	export_pager_done(&pg->pager, *count - n0);
	return rc;
}

int cmd_export(struct ctl *ctl, const struct args *a)
{
	static const char *const formats[] = { "csv", "xlsx", NULL };
	char from[PERIOD_DAY_MAX], to[PERIOD_DAY_MAX];
	const char *fmt = args_get(a, "format"), *err;
	struct outfile out;
	struct sink k = { .json = ctl->json };
	long long count = 0;
	int rc = period_parse(a, from, to);

	if (rc == 0)
		rc = check_format(a, formats);
	if (rc == 0)
		rc = check_xlsx(ctl, a);
	if (rc == 0)
		rc = outfile_open(&out, args_get(a, "output"), args_has(a, "force"));
	if (rc != 0)
		return rc;
	k.f = out.f;
	if (fmt != NULL && strcmp(fmt, "xlsx") == 0) {
		/* libxlsxwriter writes the zip by name, into outfile's temporary file */
		k.x = xlsx_open(out.tmp, "tickets", export_columns(), NCOLS, 0, &err);
		if (k.x == NULL) {
			outfile_abort(&out);
			return fail(EX_CANTCREAT,
			            "cannot start the xlsx file: %s; check the directory", err);
		}
	} else if (!ctl->json) {
		const struct xlsx_col *cols = export_columns();
		const char *names[NCOLS];

		/* a write(2) per 1 MiB, not per 4 KiB (stdio's default, st_blksize):
		 * glibc ignores the size when it is given no buffer, so one is given */
		static char obuf[1 << 20];

		setvbuf(out.f, obuf, _IOFBF, sizeof(obuf));

		for (int i = 0; i < NCOLS; i++)
			names[i] = cols[i].name;
		csv_bom(out.f);
		csv_row(out.f, names, NCOLS);
	}
	/* page after page, each asked for ahead (export_pager.h), so the server
	 * makes the next while this one travels and is written */
	{
		/* --json builds each ticket's object from a json-c tree of the page;
		 * CSV and xlsx read the rows' bytes (export_scan.h).  The tree way for
		 * CSV too with STREETCTL_EXPORT_TREE=1: the reference the tests compare
		 * the scanner's output with. */
		const char *tree_env = getenv("STREETCTL_EXPORT_TREE");
		bool tree = k.json || (tree_env != NULL && strcmp(tree_env, "1") == 0);
		struct pages pg = { .ctl = ctl, .from = from, .to = to };
		const struct export_req *r;

		if (export_pager_start(&pg.pager, EXPORT_LIMIT, pages_send, &pg) != 0)
			rc = fail(EX_SOFTWARE, "cannot start the export");
		while (rc == 0 && (r = export_pager_current(&pg.pager)) != NULL)
			rc = tree ? export_page_tree(&pg, &k, r, &count)
			          : export_page_scan(&pg, &k, r, &count);
	}
	csv_out_free(&k.csv);
	if (k.x != NULL) {
		if (rc != 0) {
			xlsx_abort(k.x);
		} else if (xlsx_close(k.x, &err) != 0) {
			rc = fail(EX_IOERR, "cannot write %s: %s; nothing written", out.path, err);
		}
	}
	if (rc != 0) {
		outfile_abort(&out);
		return rc;
	}
	if (out.path != NULL) {
		char *path = strdup(out.path);

		rc = outfile_commit(&out);
		if (rc == 0)
			fprintf(stderr, "%lld tickets written to %s\n", count, path ? path : "?");
		free(path);
		return rc;
	}
	return outfile_commit(&out);
}

/* ---- bulletin ---- */

/* Writes one table, Markdown or CSV: a row of cells at a time. */
struct doc {
	FILE *f;
	bool md;
};

static void md_cell(FILE *f, const char *s)
{
	for (; s && *s; s++) {
		if (*s == '|')
			fputs("\\|", f);
		else if (*s == '\n' || *s == '\r')
			fputc(' ', f);
		else
			fputc(*s, f);
	}
}

static void doc_row(const struct doc *d, const char *const *cells, int n)
{
	if (!d->md) {
		csv_row(d->f, cells, n);
		return;
	}
	fputs("|", d->f);
	for (int i = 0; i < n; i++) {
		fputc(' ', d->f);
		md_cell(d->f, cells[i] ? cells[i] : "-");
		fputs(" |", d->f);
	}
	fputc('\n', d->f);
}

/* The header row; align has one letter per column, 'r' for numbers. */
static void doc_head(const struct doc *d, const char *const *cells, int n, const char *align)
{
	doc_row(d, cells, n);
	if (d->md) {
		fputs("|", d->f);
		for (int i = 0; i < n; i++)
			fputs(align[i] == 'r' ? "---:|" : "---|", d->f);
		fputc('\n', d->f);
	}
}

static void doc_section(const struct doc *d, const char *title)
{
	if (d->md) {
		fprintf(d->f, "\n## %s\n\n", title);
	} else {
		const char *cells[] = { title };

		fputs("\r\n", d->f);
		csv_row(d->f, cells, 1);
	}
}

static void doc_line(const struct doc *d, const char *text)
{
	if (d->md) {
		fprintf(d->f, "%s\n", text);
	} else {
		const char *cells[] = { text };

		csv_row(d->f, cells, 1);
	}
}

static void bulletin_units(const struct doc *d, json_object *rows)
{
	static const char *const head[] = { "单位",    "派单",       "签收",   "办结",
		                            "结案",    "及时派单率", "响应率", "按期办结率",
		                            "结案率",  "满意率",     "退单率", "期末未结",
		                            "期末超时" };
	int n = (int)(sizeof(head) / sizeof(head[0]));

	doc_head(d, head, n, "lrrrrrrrrrrrr");
	for (size_t i = 0; rows && i < json_object_array_length(rows); i++) {
		json_object *r = json_object_array_get_idx(rows, i);
		char b[12][32];
		const char *cells[] = {
			fmt_unit_name(r),
			fmt_number(b[0], 32, r, "dispatched"),
			fmt_number(b[1], 32, r, "accepted"),
			fmt_number(b[2], 32, r, "resolved"),
			fmt_number(b[3], 32, r, "closed"),
			fmt_rate(b[4], 32, r, "dispatch_ontime_rate"),
			fmt_rate(b[5], 32, r, "response_rate"),
			fmt_rate(b[6], 32, r, "resolve_ontime_rate"),
			fmt_rate(b[7], 32, r, "close_rate"),
			fmt_rate(b[8], 32, r, "satisfaction_rate"),
			fmt_rate(b[9], 32, r, "return_rate"),
			fmt_number(b[10], 32, r, "open_at_end"),
			fmt_number(b[11], 32, r, "overdue_at_end"),
		};
		doc_row(d, cells, n);
	}
}

static void bulletin_ranking(const struct doc *d, json_object *rk)
{
	static const char *const head[] = { "名次", "单位", "综合得分", "件数", "榜" };
	json_object *rows = fmt_get(rk, "rows");
	char line[2048];

	doc_head(d, head, 5, "rlrrl");
	for (size_t i = 0; rows && i < json_object_array_length(rows); i++) {
		json_object *r = json_object_array_get_idx(rows, i);
		char b[3][32];
		const char *cells[] = {
			fmt_get(r, "rank") ? fmt_number(b[0], 32, r, "rank") : "未排名",
			fmt_unit_name(r),
			fmt_number(b[1], 32, r, "composite"),
			fmt_number(b[2], 32, r, "volume"),
			fmt_bool(r, "red")     ? "红榜"
			: fmt_bool(r, "black") ? "黑榜"
			                       : "",
		};
		doc_row(d, cells, 5);
	}
	for (int l = 0; l < 2; l++) {
		json_object *list = fmt_get(rk, l == 0 ? "red" : "black");
		size_t len = 0;

		len += (size_t)snprintf(line, sizeof line, "%s：", l == 0 ? "红榜" : "黑榜");
		for (size_t i = 0; list && i < json_object_array_length(list) && len < sizeof line;
		     i++)
			len += (size_t)snprintf(line + len, sizeof line - len, "%s%s",
			                        i ? "、" : "",
			                        fmt_unit_name(json_object_array_get_idx(list, i)));
		if (list == NULL || json_object_array_length(list) == 0)
			snprintf(line + len, sizeof line - len, "无");
		if (d->md)
			fputc('\n', d->f);
		doc_line(d, line);
	}
}

static void bulletin_overdue(const struct doc *d, json_object *od)
{
	static const char *const head[] = { "工单", "环节", "街道", "部门", "时限", "完成" };
	json_object *t = fmt_get(od, "tickets");
	char line[128];

	snprintf(line, sizeof line, "共 %lld 项%s", fmt_int(od, "count", 0),
	         fmt_int(od, "count", 0) > fmt_int(od, "shown", 0) ? "（列出前 200 项）" : "");
	doc_line(d, line);
	if (d->md)
		fputc('\n', d->f);
	doc_head(d, head, 6, "rlllll");
	for (size_t i = 0; t && i < json_object_array_length(t); i++) {
		json_object *r = json_object_array_get_idx(t, i);
		char b[32];
		const char *kind = fmt_str(r, "kind");
		const char *cells[] = {
			fmt_number(b, 32, r, "ticket"),
			kind == NULL                    ? "?"
			: strcmp(kind, "dispatch") == 0 ? "派单"
			: strcmp(kind, "accept") == 0   ? "签收"
			: strcmp(kind, "resolve") == 0  ? "办理"
			                                : "评价",
			fmt_str(r, "street_name"),
			fmt_str(r, "department_name"),
			fmt_str(r, "deadline"),
			fmt_str(r, "ended_at") ? fmt_str(r, "ended_at") : "未完成",
		};
		doc_row(d, cells, 6);
	}
}

/* The title's period: "2026年11月" for a month, else "from – to". */
static void bulletin_title(char *buf, size_t cap, const struct args *a, const char *from,
                           const char *to)
{
	const char *m = args_get(a, "month");

	if (m != NULL && strlen(m) == 7)
		snprintf(buf, cap, "%.4s年%d月", m, atoi(m + 5));
	else
		snprintf(buf, cap, "%s 至 %s（不含）", from, to);
}

int cmd_bulletin(struct ctl *ctl, const struct args *a)
{
	static const char *const formats[] = { "md", "csv", NULL };
	char from[PERIOD_DAY_MAX], to[PERIOD_DAY_MAX], title[160], line[256];
	const char *fmt = args_get(a, "format");
	struct outfile out;
	struct doc d;
	json_object *req, *res = NULL;
	int rc = period_parse(a, from, to);

	if (rc == 0)
		rc = check_format(a, formats);
	if (rc != 0)
		return rc;
	req = rpc_new("bulletin");
	json_object_object_add(req, "from", json_object_new_string(from));
	json_object_object_add(req, "to", json_object_new_string(to));
	rc = rpc_call(ctl, req, &res);
	json_object_put(req);
	if (rc != 0)
		return rc;
	if (ctl->json) {
		cmd_print_json(res);
		json_object_put(res);
		return 0;
	}
	rc = outfile_open(&out, args_get(a, "output"), args_has(a, "force"));
	if (rc != 0) {
		json_object_put(res);
		return rc;
	}
	d.f = out.f;
	d.md = fmt == NULL || strcmp(fmt, "md") == 0;
	bulletin_title(title, sizeof title, a, from, to);
	snprintf(line, sizeof line, "%s 街道派单 部门接单 考核通报", title);
	if (d.md) {
		fprintf(d.f,
		        "# %s\n\n统计期：%s 至 %s（不含），按北京时间；指标定义见 "
		        "docs/assessment.md。\n",
		        line, from, to);
	} else {
		csv_bom(d.f);
		doc_line(&d, line);
	}
	doc_section(&d, "一、部门指标");
	bulletin_units(&d, fmt_get(res, "departments"));
	doc_section(&d, "二、街道指标");
	bulletin_units(&d, fmt_get(res, "streets"));
	doc_section(&d, "三、部门排名");
	bulletin_ranking(&d, fmt_get(res, "department_ranking"));
	if (fmt_get(res, "street_ranking") != NULL) {
		doc_section(&d, "四、街道排名");
		bulletin_ranking(&d, fmt_get(res, "street_ranking"));
	}
	doc_section(&d, "五、期内超时事项");
	bulletin_overdue(&d, fmt_get(res, "overdue"));
	json_object_put(res);
	return outfile_commit(&out);
}
