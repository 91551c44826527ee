/*
 * cmd_assess: the assessment's reports, stats and ranking
 * (docs/assessment.md).  A period is given as --month 2026-11, --quarter
 * 2026Q4, --year 2026 or --from/--to days; the server checks it again.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bars.h"
#include "cmd.h"
#include "fail.h"
#include "fmt.h"
#include "out.h"
#include "period.h"
#include "rpc.h"
#include "table.h"

#define BAR_WIDTH 24

/* "YYYY-MM-DD" of the first day of month m (1..13: 13 is January of y + 1). */
static json_object *request(const char *op, const char *from, const char *to, const char *group)
{
	json_object *req = rpc_new(op);

	json_object_object_add(req, "from", json_object_new_string(from));
	json_object_object_add(req, "to", json_object_new_string(to));
	json_object_object_add(req, "group", json_object_new_string(group));
	return req;
}

static void print_stats(const struct ctl *ctl, json_object *rows, bool series)
{
	static const char *const head[] = { "UNIT",     "REPORTED", "DISPATCHED", "CLOSED",
		                            "RESPONSE", "ON-TIME",  "SATISFIED",  "RETURNS",
		                            "OPEN",     "OVERDUE" };
	static const char *const shead[] = { "PERIOD",   "UNIT",      "DISPATCHED", "CLOSED",
		                             "RESPONSE", "SATISFIED", "OPEN",       "" };
	struct table *t = table_new(series ? 8 : 10, series ? shead : head);
	long long max = 0;
	size_t n = json_object_array_length(rows);

	for (size_t i = 0; i < n; i++) {
		long long d = fmt_int(json_object_array_get_idx(rows, i), "dispatched", 0);

		max = d > max ? d : max;
	}
	for (size_t i = 0; i < n; i++) {
		json_object *r = json_object_array_get_idx(rows, i);
		char b[10][32], bar[3 * BAR_WIDTH + 1];

		if (series) {
			const char *cells[] = {
				fmt_str(r, "from"),
				fmt_unit_name(r),
				fmt_number(b[0], 32, r, "dispatched"),
				fmt_number(b[1], 32, r, "closed"),
				fmt_rate(b[2], 32, r, "response_rate"),
				fmt_rate(b[3], 32, r, "satisfaction_rate"),
				fmt_number(b[4], 32, r, "open_at_end"),
				bars_render(bar, sizeof(bar), (double)fmt_int(r, "dispatched", 0),
				            (double)max, BAR_WIDTH),
			};
			table_add(t, cells);
		} else {
			const char *cells[] = {
				fmt_unit_name(r),
				fmt_number(b[0], 32, r, "reported"),
				fmt_number(b[1], 32, r, "dispatched"),
				fmt_number(b[2], 32, r, "closed"),
				fmt_rate(b[3], 32, r, "response_rate"),
				fmt_rate(b[4], 32, r, "resolve_ontime_rate"),
				fmt_rate(b[5], 32, r, "satisfaction_rate"),
				fmt_rate(b[6], 32, r, "return_rate"),
				fmt_number(b[7], 32, r, "open_at_end"),
				fmt_number(b[8], 32, r, "overdue_at_end"),
			};
			table_add(t, cells);
		}
	}
	for (int c = series ? 2 : 1; c < (series ? 7 : 10); c++)
		table_right(t, c);
	table_print(t, stdout, ctl->colour, 0);
	table_free(t);
}

int cmd_stats(struct ctl *ctl, const struct args *a)
{
	char from[16], to[16];
	const char *group = args_get(a, "by") ? args_get(a, "by") : "department";
	const char *series = args_get(a, "series");
	json_object *all = json_object_new_array(), *res = NULL;
	long long after = 0;
	int rc = period_parse(a, from, to);

	/* every page, one after the other, into one list of rows */
	while (rc == 0) {
		json_object *req = request("stats", from, to, group), *rows, *next;

		if (series)
			json_object_object_add(req, "series", json_object_new_string(series));
		if (after > 0)
			json_object_object_add(req, "after", json_object_new_int64(after));
		rc = rpc_call(ctl, req, &res);
		json_object_put(req);
		if (rc != 0)
			break;
		rows = fmt_get(res, "rows");
		for (size_t i = 0; rows && i < json_object_array_length(rows); i++)
			json_object_array_add(all,
			                      json_object_get(json_object_array_get_idx(rows, i)));
		next = fmt_get(res, "next");
		if (next == NULL)
			break;
		after = json_object_get_int64(next);
		json_object_put(res);
		res = NULL;
	}
	if (rc == 0) {
		if (ctl->json) {
			json_object_object_add(res, "rows", json_object_get(all));
			json_object_object_add(res, "next", NULL);
			cmd_print_json(res);
		} else {
			out_line(stdout, "%s … %s (before %s), by %s%s%s", from, to, to, group,
			         series ? ", per " : "", series ? series : "");
			if (json_object_array_length(all) == 0)
				out_line(stdout, "nothing happened in this period");
			else
				print_stats(ctl, all, series != NULL);
		}
	}
	json_object_put(res);
	json_object_put(all);
	return rc;
}

static void print_list(json_object *res, const char *key, const char *title)
{
	json_object *l = fmt_get(res, key);
	size_t n = l ? json_object_array_length(l) : 0;

	if (n == 0)
		return;
	out_printf(stdout, "%s:", title);
	for (size_t i = 0; i < n; i++) {
		json_object *e = json_object_array_get_idx(l, i);

		out_printf(stdout, "%s %s (%lld)", i ? "," : "", fmt_unit_name(e),
		           fmt_int(e, "rank", 0));
	}
	fputc('\n', stdout); /* out_printf turns a newline into a space */
}

int cmd_ranking(struct ctl *ctl, const struct args *a)
{
	static const char *const head[] = { "RANK", "UNIT", "COMPOSITE", "", "VOLUME", "SCORE" };
	char from[16], to[16];
	const char *group = args_get(a, "by") ? args_get(a, "by") : "department";
	json_object *req, *res = NULL, *rows;
	long long top = 0;
	struct table *t;
	int rc = period_parse(a, from, to);

	if (rc != 0)
		return rc;
	if (args_get(a, "top") && (rc = args_int(a, "top", 1, 50, &top)) != 0)
		return rc;
	req = request("ranking", from, to, group);
	if (top > 0)
		json_object_object_add(req, "top", json_object_new_int64(top));
	rc = rpc_call(ctl, req, &res);
	json_object_put(req);
	if (rc != 0 || ctl->json) {
		if (rc == 0)
			cmd_print_json(res);
		json_object_put(res);
		return rc;
	}
	rows = fmt_get(res, "rows");
	out_line(stdout, "%s … %s (before %s), %s ranking; ranked from %lld %s", from, to, to,
	         group, fmt_int(res, "min_volume", 0),
	         strcmp(group, "department") == 0 ? "dispatches" : "reports");
	if (!rows || json_object_array_length(rows) == 0) {
		out_line(stdout, "nothing to rank in this period");
		json_object_put(res);
		return 0;
	}
	t = table_new(6, head);
	for (size_t i = 0; i < json_object_array_length(rows); i++) {
		json_object *r = json_object_array_get_idx(rows, i), *c = fmt_get(r, "composite");
		json_object *s = fmt_get(r, "street_score");
		char rank[16], comp[16], score[16], vol[24], bar[3 * BAR_WIDTH + 1];
		const char *cells[6];
		int row;

		snprintf(rank, sizeof(rank), "%lld", fmt_int(r, "rank", 0));
		snprintf(comp, sizeof(comp), "%.2f", c ? json_object_get_double(c) : 0.0);
		snprintf(score, sizeof(score), "%.2f", s ? json_object_get_double(s) : 0.0);
		snprintf(vol, sizeof(vol), "%lld", fmt_int(r, "volume", 0));
		cells[0] = fmt_get(r, "rank") ? rank : "-";
		cells[1] = fmt_unit_name(r);
		cells[2] = c ? comp : "-";
		cells[3] = bars_render(bar, sizeof(bar), c ? json_object_get_double(c) : 0, 100,
		                       BAR_WIDTH);
		cells[4] = vol;
		cells[5] = s ? score : "-";
		row = table_add(t, cells);
		if (fmt_bool(r, "red"))
			table_style(t, row, 3, "32");
		else if (fmt_bool(r, "black"))
			table_style(t, row, 3, "31");
	}
	table_right(t, 0);
	table_right(t, 2);
	table_right(t, 4);
	table_right(t, 5);
	table_print(t, stdout, ctl->colour, 0);
	table_free(t);
	print_list(res, "red", "红榜 red list");
	print_list(res, "black", "黑榜 black list");
	json_object_put(res);
	return 0;
}
