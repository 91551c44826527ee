/*
 * cmd_score: streets scoring departments (考核赋分): criteria, score get,
 * score set and lock.  A period is given as --month YYYY-MM, --quarter
 * YYYY-Qn, --year YYYY, or --from and --to (YYYY-MM-DD, [from, to)); the
 * server checks the dates (docs/assessment.md, "Scores and locks").
 *
 * score get fetches every page and shows one row per street and department
 * with a column per criterion and the weighted score (the criteria's weights,
 * only when every criterion is scored), then the comments; --json prints one
 * document with all the scores.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cmd.h"
#include "fail.h"
#include "fmt.h"
#include "out.h"
#include "period.h"
#include "proto.h"
#include "ref.h"
#include "rpc.h"
#include "table.h"

/* Criteria shown as columns, beside STREET, DEPARTMENT and WEIGHTED. */
#define SCORE_MAX_CRIT (TABLE_MAX_COLS - 3)

/* The period the options name, as from/to 'YYYY-MM-DD' in the request. */
static int score_period(const struct args *a, json_object *req)
{
	char f[PERIOD_DAY_MAX], t[PERIOD_DAY_MAX];
	int rc = period_parse(a, f, t);

	if (rc != 0)
		return rc;
	json_object_object_add(req, "from", json_object_new_string(f));
	json_object_object_add(req, "to", json_object_new_string(t));
	return 0;
}

/* The day before a 'YYYY-MM-DD' date (the period's last day), or the date as given. */
static const char *score_last_day(char *buf, size_t cap, const char *to)
{
	struct tm tm = { 0 };
	time_t t;

	if (to == NULL || strlen(to) != 10 ||
	    sscanf(to, "%4d-%2d-%2d", &tm.tm_year, &tm.tm_mon, &tm.tm_mday) != 3) {
		snprintf(buf, cap, "%s", to != NULL ? to : "-");
		return buf;
	}
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	tm.tm_mday -= 1; /* timegm normalises day 0 to the month before's last */
	tm.tm_hour = 12;
	t = timegm(&tm);
	gmtime_r(&t, &tm);
	strftime(buf, cap, "%Y-%m-%d", &tm);
	return buf;
}

/* "period 2026-11-01 – 2026-11-30: open" (or who locked it), first line of get and lock. */
static void score_period_line(json_object *res)
{
	json_object *per = fmt_get(res, "period"), *lock = fmt_get(res, "locked");
	char when[32], last[16];

	score_last_day(last, sizeof(last), fmt_str(per, "to"));
	if (lock != NULL)
		out_line(stdout, "period %s – %s: locked by %s (%s) at %s", fmt_str(per, "from"),
		         last, fmt_str(fmt_get(lock, "by"), "name"),
		         fmt_str(fmt_get(lock, "by"), "login"),
		         fmt_time(when, sizeof(when), fmt_str(lock, "at")));
	else
		out_line(stdout, "period %s – %s: open", fmt_str(per, "from"), last);
}

int cmd_criteria(struct ctl *ctl, const struct args *a)
{
	static const char *const h[] = { "CODE", "NAME", "NAME_EN", "WEIGHT", "SHARE" };
	json_object *req = rpc_new("criteria"), *res = NULL, *rows;
	struct table *tb;
	int rc = rpc_call(ctl, req, &res);

	json_object_put(req);
	if (rc != 0 || ctl->json) {
		if (rc == 0)
			cmd_print_json(res);
		json_object_put(res);
		return rc;
	}
	rows = fmt_get(res, "criteria");
	tb = table_new(5, h);
	table_right(tb, 3);
	table_right(tb, 4);
	for (size_t i = 0; rows != NULL && i < json_object_array_length(rows); i++) {
		json_object *c = json_object_array_get_idx(rows, i);
		char share[16];
		const char *cells[5];

		snprintf(share, sizeof(share), "%.0f%%",
		         100.0 * json_object_get_double(fmt_get(c, "share")));
		cells[0] = fmt_str(c, "code");
		cells[1] = fmt_str(c, "name");
		cells[2] = fmt_str(c, "name_en");
		cells[3] = json_object_get_string(fmt_get(c, "weight"));
		cells[4] = share;
		table_add(tb, cells);
	}
	table_print(tb, stdout, ctl->colour, 0);
	printf("\nthe weighted score of a department is the sum of score × share\n");
	table_free(tb);
	json_object_put(res);
	return 0;
}

/* Every page of score_get into one document ({period, locked, scores, next: null}). */
static int score_fetch(struct ctl *ctl, json_object *req, json_object **out)
{
	json_object *all = json_object_new_array(), *first = NULL;
	int rc;

	for (;;) {
		json_object *res = NULL, *page, *next;

		rc = rpc_call(ctl, req, &res);
		if (rc != 0)
			break;
		page = fmt_get(res, "scores");
		for (size_t i = 0; page != NULL && i < json_object_array_length(page); i++)
			json_object_array_add(all,
			                      json_object_get(json_object_array_get_idx(page, i)));
		next = fmt_get(res, "next");
		if (next != NULL)
			json_object_object_add(
			        req, "after", json_object_new_string(json_object_get_string(next)));
		if (first == NULL)
			first = res;
		else
			json_object_put(res);
		if (next == NULL)
			break;
	}
	if (rc != 0) {
		json_object_put(all);
		json_object_put(first);
		return rc;
	}
	json_object_object_add(first, "scores", all);
	json_object_object_add(first, "next", NULL);
	*out = first;
	return 0;
}

/* The weighted score of one row: sum of score × share, when every criterion is there. */
static const char *score_weighted(char *buf, size_t cap, json_object *crit, const double *v,
                                  const bool *has, size_t n)
{
	double sum = 0;

	for (size_t k = 0; k < n; k++) {
		if (!has[k])
			return "-";
		sum += v[k] *
		       json_object_get_double(fmt_get(json_object_array_get_idx(crit, k), "share"));
	}
	snprintf(buf, cap, "%.2f", sum);
	return buf;
}

/* The scores as a table: a row per street and department, a column per criterion. */
static void score_table(struct ctl *ctl, json_object *res, json_object *crit)
{
	const char *h[TABLE_MAX_COLS];
	json_object *rows = fmt_get(res, "scores");
	size_t ncrit = crit != NULL ? json_object_array_length(crit) : 0, nrows;
	struct table *tb;
	int ncols;

	nrows = rows != NULL ? json_object_array_length(rows) : 0;
	if (ncrit > SCORE_MAX_CRIT)
		ncrit = SCORE_MAX_CRIT;
	h[0] = "STREET";
	h[1] = "DEPARTMENT";
	for (size_t k = 0; k < ncrit; k++)
		h[2 + k] = fmt_str(json_object_array_get_idx(crit, k), "name");
	h[2 + ncrit] = "WEIGHTED";
	ncols = (int)ncrit + 3;
	tb = table_new(ncols, h);
	for (int c = 2; c < ncols; c++)
		table_right(tb, c);
	for (size_t i = 0; i < nrows;) {
		json_object *s = json_object_array_get_idx(rows, i);
		long long street = fmt_int(s, "street_id", 0),
		          dept = fmt_int(s, "department_id", 0);
		char cellbuf[SCORE_MAX_CRIT][16], wbuf[16], sb[32], db[32];
		const char *cells[TABLE_MAX_COLS];
		double v[SCORE_MAX_CRIT] = { 0 };
		bool has[SCORE_MAX_CRIT] = { false };

		/* the scores come in (street, department, criterion) order */
		for (; i < nrows; i++) {
			json_object *x = json_object_array_get_idx(rows, i);

			if (fmt_int(x, "street_id", 0) != street ||
			    fmt_int(x, "department_id", 0) != dept)
				break;
			for (size_t k = 0; k < ncrit; k++) {
				if (fmt_int(json_object_array_get_idx(crit, k), "id", 0) ==
				    fmt_int(x, "criterion_id", 0)) {
					v[k] = json_object_get_double(fmt_get(x, "score"));
					has[k] = true;
				}
			}
		}
		cells[0] = ref_name(ctl, REF_STREET, street, sb, sizeof(sb));
		cells[1] = ref_name(ctl, REF_DEPARTMENT, dept, db, sizeof(db));
		for (size_t k = 0; k < ncrit; k++) {
			if (has[k])
				snprintf(cellbuf[k], sizeof(cellbuf[k]), "%.2f", v[k]);
			else
				snprintf(cellbuf[k], sizeof(cellbuf[k]), "-");
			cells[2 + k] = cellbuf[k];
		}
		cells[2 + ncrit] = score_weighted(wbuf, sizeof(wbuf), crit, v, has, ncrit);
		table_add(tb, cells);
	}
	table_print(tb, stdout, ctl->colour, 0);
	table_free(tb);
}

/* The comments under the table, one line each. */
static void score_comments(struct ctl *ctl, json_object *res, json_object *crit)
{
	json_object *rows = fmt_get(res, "scores");
	bool first = true;

	for (size_t i = 0; rows != NULL && i < json_object_array_length(rows); i++) {
		json_object *s = json_object_array_get_idx(rows, i);
		const char *comment = fmt_str(s, "comment"), *cname = fmt_str(s, "criterion");
		char sb[32], db[32], when[32];

		if (comment == NULL || comment[0] == '\0')
			continue;
		if (first)
			printf("\ncomments:\n");
		first = false;
		for (size_t k = 0; crit != NULL && k < json_object_array_length(crit); k++) {
			json_object *c = json_object_array_get_idx(crit, k);

			if (fmt_int(c, "id", 0) == fmt_int(s, "criterion_id", 0))
				cname = fmt_str(c, "name");
		}
		out_line(stdout, "  %s → %s, %s: %s (%s, %s)",
		         ref_name(ctl, REF_STREET, fmt_int(s, "street_id", 0), sb, sizeof(sb)),
		         ref_name(ctl, REF_DEPARTMENT, fmt_int(s, "department_id", 0), db,
		                  sizeof(db)),
		         cname, comment, fmt_str(fmt_get(s, "set_by"), "name"),
		         fmt_time(when, sizeof(when), fmt_str(s, "set_at")));
	}
}

static int score_get(struct ctl *ctl, const struct args *a)
{
	json_object *req = rpc_new("score_get"), *res = NULL, *creq, *cres = NULL;
	int rc = score_period(a, req);

	if (rc == 0)
		rc = ref_add_option(ctl, req, a, REF_STREET, "street");
	if (rc == 0)
		rc = ref_add_option(ctl, req, a, REF_DEPARTMENT, "department");
	if (rc == 0)
		rc = rpc_check(ctl, req);
	if (rc == 0)
		rc = score_fetch(ctl, req, &res);
	json_object_put(req);
	if (rc != 0)
		return rc;
	if (ctl->json) {
		cmd_print_json(res);
		json_object_put(res);
		return 0;
	}
	creq = rpc_new("criteria");
	rc = rpc_call(ctl, creq, &cres);
	json_object_put(creq);
	if (rc == 0) {
		if (ref_load(ctl, REF_STREET) != 0 || ref_load(ctl, REF_DEPARTMENT) != 0)
			fputs("streetctl: showing ids: the names could not be read\n", stderr);
		score_period_line(res);
		if (json_object_array_length(fmt_get(res, "scores")) == 0) {
			printf("no scores\n");
		} else {
			printf("\n");
			score_table(ctl, res, fmt_get(cres, "criteria"));
			score_comments(ctl, res, fmt_get(cres, "criteria"));
		}
	}
	json_object_put(cres);
	json_object_put(res);
	return rc;
}

static int score_set(struct ctl *ctl, const struct args *a)
{
	json_object *req = rpc_new("score_set"), *res = NULL, *s;
	const char *v = a->npos > 1 ? a->pos[1] : NULL;
	char *end;
	double d;
	int rc;

	if (v == NULL) {
		json_object_put(req);
		return fail_usage(a->cmd->name, "score set needs the score (0 to 100)");
	}
	d = strtod(v, &end);
	if (end == v || *end != '\0') {
		json_object_put(req);
		return fail_usage(a->cmd->name, "'%s' is not a score (0 to 100)", v);
	}
	if (!args_has(a, "department") || !args_has(a, "criterion")) {
		json_object_put(req);
		return fail_usage(a->cmd->name, "score set needs --department and --criterion");
	}
	rc = score_period(a, req);
	if (rc == 0)
		rc = ref_add_option(ctl, req, a, REF_DEPARTMENT, "department");
	if (rc == 0) {
		json_object_object_add(req, "criterion",
		                       json_object_new_string(args_get(a, "criterion")));
		/* the number as typed: "92.35" stays 92.35 on the wire */
		json_object_object_add(req, "score", json_object_new_double_s(d, v));
		if (args_has(a, "comment"))
			json_object_object_add(req, "comment",
			                       json_object_new_string(args_get(a, "comment")));
		rc = rpc_check(ctl, req);
	}
	if (rc == 0)
		rc = rpc_call(ctl, req, &res);
	json_object_put(req);
	if (rc != 0)
		return rc;
	if (ctl->json) {
		cmd_print_json(res);
	} else {
		char db[32];

		s = fmt_get(res, "score");
		if (ref_load(ctl, REF_DEPARTMENT) != 0)
			fputs("streetctl: showing ids: the names could not be read\n", stderr);
		out_line(stdout, "%s %s, %s: %s%s",
		         fmt_bool(res, "changed") ? "scored" : "unchanged",
		         ref_name(ctl, REF_DEPARTMENT, fmt_int(s, "department_id", 0), db,
		                  sizeof(db)),
		         fmt_str(s, "criterion"), json_object_get_string(fmt_get(s, "score")),
		         fmt_bool(res, "changed") ? "" : " (already so; nothing recorded)");
	}
	json_object_put(res);
	return 0;
}

int cmd_score(struct ctl *ctl, const struct args *a)
{
	if (strcmp(a->pos[0], "get") == 0) {
		if (a->npos > 1)
			return fail_usage(a->cmd->name, "score get takes no score");
		return score_get(ctl, a);
	}
	if (strcmp(a->pos[0], "set") == 0)
		return score_set(ctl, a);
	return fail_usage(a->cmd->name, "'%s': say score get or score set", a->pos[0]);
}

int cmd_lock(struct ctl *ctl, const struct args *a)
{
	json_object *req = rpc_new("period_lock"), *res = NULL;
	int rc = score_period(a, req);

	if (rc == 0)
		rc = rpc_check(ctl, req);
	if (rc == 0)
		rc = rpc_call(ctl, req, &res);
	json_object_put(req);
	if (rc != 0)
		return rc;
	if (ctl->json) {
		cmd_print_json(res);
	} else {
		score_period_line(res);
		out_line(stdout, "%lld scores frozen, sha256 %s (audit event %lld)",
		         fmt_int(res, "scores", 0), fmt_str(res, "scores_sha256"),
		         fmt_int(res, "seq", 0));
	}
	json_object_put(res);
	return 0;
}
