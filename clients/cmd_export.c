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
#include "fail.h"
#include "fmt.h"
#include "outfile.h"
#include "period.h"
#include "rpc.h"
#include "xlsx.h"

/* The step kinds, in the order the columns show them. */
static const char *const kinds[] = { "dispatch", "accept", "resolve", "feedback" };
#define NKINDS 4

/* The columns, the one list CSV and xlsx share: a key of the row (or, for a
 * step kind, of its last instance), and the cell's kind in a spreadsheet. */
struct export_key {
	const char *key;
	enum xlsx_kind kind;
};

static const struct export_key head_keys[] = {
	{ "id", XLSX_NUMBER },          { "state", XLSX_TEXT },
	{ "urgent", XLSX_BOOL },        { "category", XLSX_TEXT },
	{ "category_name", XLSX_TEXT }, { "district", XLSX_TEXT },
	{ "street", XLSX_TEXT },        { "street_name", XLSX_TEXT },
	{ "grid", XLSX_TEXT },          { "reported_at", XLSX_TIME },
	{ "department", XLSX_TEXT },    { "department_name", XLSX_TEXT },
};
static const struct export_key step_keys[] = {
	{ "started_at", XLSX_TIME }, { "deadline", XLSX_TIME },   { "ended_at", XLSX_TIME },
	{ "actor", XLSX_TEXT },      { "department", XLSX_TEXT }, { "overdue", XLSX_BOOL },
};
static const struct export_key tail_keys[] = {
	{ "closed_at", XLSX_TIME }, { "close_kind", XLSX_TEXT }, { "rating", XLSX_NUMBER },
	{ "returns", XLSX_NUMBER }, { "reopens", XLSX_NUMBER },  { "urges", XLSX_NUMBER },
	{ "overdue", XLSX_BOOL },
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

/* A value as text: strings as they are, numbers and booleans as JSON, null
 * or missing as NULL (an empty field). */
static const char *text_of(json_object *o, const char *key)
{
	json_object *v = fmt_get(o, key);

	return v == NULL ? NULL : json_object_get_string(v);
}

/* One ticket as a record of NCOLS cells (pointing into row): for each step
 * kind, its last instance (a ticket returned or reopened has several;
 * --json gives them all). */
static void export_record(const char **cells, json_object *row)
{
	json_object *steps = fmt_get(row, "steps"), *last[NKINDS] = { NULL };
	int n = 0;

	for (size_t i = 0; steps && i < json_object_array_length(steps); i++) {
		json_object *s = json_object_array_get_idx(steps, i);
		const char *kind = fmt_str(s, "kind");

		for (int k = 0; k < NKINDS; k++)
			if (kind && strcmp(kind, kinds[k]) == 0)
				last[k] = s;
	}
	for (int i = 0; i < NHEAD; i++)
		cells[n++] = text_of(row, head_keys[i].key);
	for (int k = 0; k < NKINDS; k++)
		for (int i = 0; i < NSTEPKEYS; i++)
			cells[n++] = last[k] ? text_of(last[k], step_keys[i].key) : NULL;
	for (int i = 0; i < NTAIL; i++)
		cells[n++] = text_of(row, tail_keys[i].key);
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
};

/* Writes one ticket; 0, or an exit code after one error line. */
static int sink_row(struct sink *k, json_object *row)
{
	const char *cells[NCOLS];

	if (k->json) {
		fprintf(k->f, "%s\n", json_object_to_json_string_ext(row, JSON_C_TO_STRING_PLAIN));
		return 0;
	}
	export_record(cells, row);
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

int cmd_export(struct ctl *ctl, const struct args *a)
{
	static const char *const formats[] = { "csv", "xlsx", NULL };
	char from[PERIOD_DAY_MAX], to[PERIOD_DAY_MAX];
	const char *fmt = args_get(a, "format"), *err;
	struct outfile out;
	struct sink k = { .json = ctl->json };
	long long after = 0, count = 0;
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

		for (int i = 0; i < NCOLS; i++)
			names[i] = cols[i].name;
		csv_bom(out.f);
		csv_row(out.f, names, NCOLS);
	}
	/* page after page, each written before the next is asked for */
	for (;;) {
		json_object *req = rpc_new("export"), *res = NULL, *rows, *next;

		json_object_object_add(req, "from", json_object_new_string(from));
		json_object_object_add(req, "to", json_object_new_string(to));
		json_object_object_add(req, "limit", json_object_new_int(1000));
		if (after > 0)
			json_object_object_add(req, "after", json_object_new_int64(after));
		rc = rpc_call(ctl, req, &res);
		json_object_put(req);
		if (rc != 0)
			break;
		rows = fmt_get(res, "rows");
		for (size_t i = 0; rc == 0 && rows && i < json_object_array_length(rows); i++) {
			rc = sink_row(&k, json_object_array_get_idx(rows, i));
			count++;
		}
		next = fmt_get(res, "next");
		after = next ? json_object_get_int64(next) : 0;
		json_object_put(res);
		if (rc != 0 || after == 0)
			break;
	}
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
