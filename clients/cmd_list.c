/*
 * cmd_list: list and overdue, as tables or (--json) as one document.  With
 * --all every page is fetched and the tickets joined into one "tickets"
 * array, so a script sees the same shape either way.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "cmd.h"
#include "fail.h"
#include "fmt.h"
#include "out.h"
#include "proto.h"
#include "ref.h"
#include "rpc.h"
#include "table.h"

#define LIST_FLAG_URGENT  "!"
#define LIST_FLAG_OVERDUE "⏰"

/* Fetches one page or all of them into *out ({"tickets": [...], "next": ...}). */
static int list_fetch(struct ctl *ctl, json_object *req, bool all, bool string_cursor,
                      json_object **out)
{
	json_object *tickets = json_object_new_array(), *next = NULL;
	int rc;

	for (;;) {
		json_object *res = NULL, *page;

		rc = rpc_call(ctl, req, &res);
		if (rc != 0)
			break;
		page = fmt_get(res, "tickets");
		for (size_t i = 0; page != NULL && i < json_object_array_length(page); i++)
			json_object_array_add(tickets,
			                      json_object_get(json_object_array_get_idx(page, i)));
		json_object_put(next);
		next = json_object_get(fmt_get(res, "next"));
		json_object_put(res);
		if (!all || next == NULL)
			break;
		json_object_object_add(
		        req, "after",
		        string_cursor ? json_object_new_string(json_object_get_string(next))
		                      : json_object_new_int64(json_object_get_int64(next)));
	}
	if (rc != 0) {
		json_object_put(tickets);
		json_object_put(next);
		return rc;
	}
	*out = json_object_new_object();
	json_object_object_add(*out, "tickets", tickets);
	json_object_object_add(*out, "next", next);
	return 0;
}

static void list_more(const char *cmd, json_object *res)
{
	json_object *next = fmt_get(res, "next");

	if (next != NULL)
		out_line(stderr, "more: streetctl %s --after %s (or --all)", cmd,
		         json_object_get_string(next));
}

/*
 * The FLAG column: "!" urgent, "⏰" overdue (its current deadline has
 * passed), so that both survive a pipe and NO_COLOR.  The legend is in
 * list's --help (commands.c).
 */
static const char *list_flags(char *buf, size_t cap, json_object *t, bool late)
{
	snprintf(buf, cap, "%s%s", fmt_bool(t, "urgent") ? LIST_FLAG_URGENT : "",
	         late ? LIST_FLAG_OVERDUE : "");
	return buf;
}

/* The tickets as a table; overdue adds how long each is past its deadline. */
static void list_table(struct ctl *ctl, json_object *tickets, bool overdue)
{
	static const char *const h_list[] = { "ID",   "FLAG",       "STATE", "CATEGORY",
		                              "GRID", "DEPARTMENT", "DUE",   "DESCRIPTION" };
	static const char *const h_over[] = {
		"ID", "FLAG", "OVERDUE BY", "STATE", "CATEGORY", "DEPARTMENT", "DUE", "DESCRIPTION"
	};
	struct table *tb = table_new(8, overdue ? h_over : h_list);
	size_t n = tickets != NULL ? json_object_array_length(tickets) : 0;
	long long now = fmt_now_ms();

	table_right(tb, 0);
	for (size_t i = 0; i < n; i++) {
		json_object *t = json_object_array_get_idx(tickets, i);
		const char *state = fmt_str(t, "state");
		char id[24], due[32], late[32] = "-", flags[16], b1[32], b2[32], b3[32];
		const char *cells[8];
		long long d;
		bool is_late;
		int row, c = 0;

		snprintf(id, sizeof(id), "%lld", fmt_int(t, "id", 0));
		/* to the millisecond: a 1-second deadline is not late for a whole second here */
		if (fmt_parse_time_ms(fmt_str(t, "due_at"), &d) == 0 && d < now)
			fmt_duration(late, sizeof(late), (now - d) / 1000);
		is_late = fmt_bool(t, "overdue") || strcmp(late, "-") != 0;
		cells[c++] = id;
		cells[c++] = list_flags(flags, sizeof(flags), t, is_late);
		if (overdue)
			cells[c++] = late;
		cells[c++] = state;
		cells[c++] =
		        ref_name(ctl, REF_CATEGORY, fmt_int(t, "category_id", 0), b1, sizeof(b1));
		if (!overdue)
			cells[c++] =
			        ref_name(ctl, REF_GRID, fmt_int(t, "grid_id", 0), b2, sizeof(b2));
		cells[c++] = ref_name(ctl, REF_DEPARTMENT, fmt_int(t, "department_id", 0), b3,
		                      sizeof(b3));
		cells[c++] = fmt_time(due, sizeof(due), fmt_str(t, "due_at"));
		cells[c++] = fmt_str(t, "description");
		row = table_add(tb, cells);
		table_style(tb, row, overdue ? 3 : 2, fmt_state_sgr(state));
		if (is_late)
			table_style(tb, row, overdue ? 2 : 6, "31");
	}
	table_print(tb, stdout, ctl->colour, table_term_width());
	table_free(tb);
}

/* Loads the names the table shows; a failure only costs the names. */
static void list_names(struct ctl *ctl)
{
	if (ref_load(ctl, REF_CATEGORY) != 0 || ref_load(ctl, REF_DEPARTMENT) != 0 ||
	    ref_load(ctl, REF_GRID) != 0)
		fputs("streetctl: showing ids: the names could not be read\n", stderr);
}

int cmd_list(struct ctl *ctl, const struct args *a)
{
	json_object *req = rpc_new("list"), *res = NULL;
	long long v;
	int rc = 0;

	if (args_has(a, "state"))
		json_object_object_add(req, "state", json_object_new_string(args_get(a, "state")));
	rc = ref_add_option(ctl, req, a, REF_CATEGORY, "category");
	if (rc == 0)
		rc = ref_add_option(ctl, req, a, REF_GRID, "grid");
	if (rc == 0)
		rc = ref_add_option(ctl, req, a, REF_DEPARTMENT, "department");
	if (rc == 0 && args_has(a, "overdue"))
		json_object_object_add(req, "overdue", json_object_new_boolean(1));
	if (rc == 0) {
		const char *texts[] = { "text", "from", "to" };

		for (size_t i = 0; i < 3; i++) {
			if (args_has(a, texts[i]))
				json_object_object_add(
				        req, texts[i],
				        json_object_new_string(args_get(a, texts[i])));
		}
	}
	if (rc == 0 && args_has(a, "limit") && (rc = args_int(a, "limit", 1, 200, &v)) == 0)
		json_object_object_add(req, "limit", json_object_new_int64(v));
	if (rc == 0 && args_has(a, "after") &&
	    (rc = args_int(a, "after", 1, PROTO_INT_MAX, &v)) == 0)
		json_object_object_add(req, "after", json_object_new_int64(v));
	if (rc == 0)
		rc = rpc_check(ctl, req);
	if (rc == 0)
		rc = list_fetch(ctl, req, args_has(a, "all"), false, &res);
	json_object_put(req);
	if (rc != 0)
		return rc;
	if (ctl->json) {
		cmd_print_json(res);
	} else {
		list_names(ctl);
		list_table(ctl, fmt_get(res, "tickets"), false);
		list_more("list", res);
	}
	json_object_put(res);
	return 0;
}

int cmd_overdue(struct ctl *ctl, const struct args *a)
{
	json_object *req = rpc_new("overdue"), *res = NULL;
	long long v;
	int rc = 0;

	if (args_has(a, "limit") && (rc = args_int(a, "limit", 1, 200, &v)) == 0)
		json_object_object_add(req, "limit", json_object_new_int64(v));
	if (rc == 0 && args_has(a, "after"))
		json_object_object_add(req, "after", json_object_new_string(args_get(a, "after")));
	if (rc == 0)
		rc = list_fetch(ctl, req, args_has(a, "all"), true, &res);
	json_object_put(req);
	if (rc != 0)
		return rc;
	if (ctl->json) {
		cmd_print_json(res);
	} else {
		list_names(ctl);
		list_table(ctl, fmt_get(res, "tickets"), true);
		list_more("overdue", res);
	}
	json_object_put(res);
	return 0;
}
