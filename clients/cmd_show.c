/*
 * cmd_show: one ticket and its history as a timeline, with the names of
 * categories, places and departments from the reference data.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "allow.h"
#include "cmd.h"
#include "fail.h"
#include "event.h"
#include "fmt.h"
#include "out.h"
#include "ref.h"
#include "rpc.h"
#include "table.h"

static void show_field(const char *label, const char *value)
{
	if (value != NULL && value[0] != '\0')
		out_line(stdout, "%-12s %s", label, value);
}

/* "name (code)" of a reference row. */
static const char *show_ref(struct ctl *ctl, enum ref_kind k, long long id, char *buf, size_t cap)
{
	char nb[32];
	const char *code = ref_code(ctl, k, id);

	if (id <= 0)
		return NULL;
	snprintf(buf, cap, "%s%s%s%s", ref_name(ctl, k, id, nb, sizeof(nb)), code ? " (" : "",
	         code ? code : "", code ? ")" : "");
	return buf;
}

/* The reporter, named by the report event's actor (get gives it). */
static const char *show_reporter(struct ctl *ctl, json_object *t, json_object *events, char *buf,
                                 size_t cap)
{
	json_object *me = fmt_get(ctl->whoami, "account");
	long long id = fmt_int(t, "reporter_id", 0);

	for (size_t i = 0; events != NULL && i < json_object_array_length(events); i++) {
		json_object *e = json_object_array_get_idx(events, i);

		if (fmt_int(e, "actor_id", -1) == id && fmt_get(e, "actor") != NULL)
			return event_person(fmt_get(e, "actor"),
			                    me != NULL && fmt_int(me, "id", 0) == id, buf, cap);
	}
	if (id <= 0)
		return NULL;
	snprintf(buf, cap, "#%lld", id);
	return buf;
}

static void show_header(struct ctl *ctl, json_object *t, json_object *events)
{
	const char *state = fmt_str(t, "state");
	char buf[512], w1[32], w2[64];
	time_t due;

	out_style(stdout, ctl->colour, "1");
	out_printf(stdout, "ticket %lld", fmt_int(t, "id", 0));
	out_style(stdout, ctl->colour, NULL);
	out_line(stdout, "  %s %s  version %lld%s%s", fmt_state_zh(state), state ? state : "-",
	         fmt_int(t, "version", 0), fmt_bool(t, "urgent") ? "  [urgent 紧急]" : "",
	         fmt_bool(t, "overdue") ? "  [overdue 超时]" : "");
	show_field("category",
	           show_ref(ctl, REF_CATEGORY, fmt_int(t, "category_id", 0), buf, sizeof(buf)));
	show_field("grid", show_ref(ctl, REF_GRID, fmt_int(t, "grid_id", 0), buf, sizeof(buf)));
	show_field("street",
	           show_ref(ctl, REF_STREET, fmt_int(t, "street_id", 0), buf, sizeof(buf)));
	show_field("address", fmt_str(t, "address"));
	if (fmt_get(t, "lat") != NULL) {
		snprintf(buf, sizeof(buf), "%s, %s", json_object_get_string(fmt_get(t, "lat")),
		         json_object_get_string(fmt_get(t, "lon")));
		show_field("location", buf);
	}
	show_field("description", fmt_str(t, "description"));
	show_field("department",
	           show_ref(ctl, REF_DEPARTMENT, fmt_int(t, "department_id", 0), buf, sizeof(buf)));
	show_field("reporter", show_reporter(ctl, t, events, buf, sizeof(buf)));
	show_field("reported", fmt_time(w1, sizeof(w1), fmt_str(t, "created_at")));
	if (fmt_str(t, "due_at") != NULL) {
		fmt_time(w1, sizeof(w1), fmt_str(t, "due_at"));
		if (fmt_parse_time(fmt_str(t, "due_at"), &due) == 0 && due < time(NULL))
			snprintf(buf, sizeof(buf), "%s (overdue by %s)", w1,
			         fmt_duration(w2, sizeof(w2), (long long)(time(NULL) - due)));
		else
			snprintf(buf, sizeof(buf), "%s", w1);
		show_field("due", buf);
	}
	if (fmt_str(t, "ext_until") != NULL) {
		snprintf(buf, sizeof(buf), "asked until %s: %s",
		         fmt_time(w1, sizeof(w1), fmt_str(t, "ext_until")),
		         fmt_str(t, "ext_reason") ? fmt_str(t, "ext_reason") : "");
		show_field("extension", buf);
	}
	if (fmt_get(t, "rating") != NULL) {
		snprintf(buf, sizeof(buf), "%lld/5%s%s", fmt_int(t, "rating", 0),
		         fmt_str(t, "feedback") ? "  " : "",
		         fmt_str(t, "feedback") ? fmt_str(t, "feedback") : "");
		show_field("rating", buf);
	}
	if (fmt_str(t, "closed_at") != NULL) {
		snprintf(buf, sizeof(buf), "%s (%s)",
		         fmt_time(w1, sizeof(w1), fmt_str(t, "closed_at")),
		         fmt_str(t, "close_kind") ? fmt_str(t, "close_kind") : "-");
		show_field("closed", buf);
	}
	if (fmt_get(t, "duplicate_of") != NULL) {
		snprintf(buf, sizeof(buf), "%lld", fmt_int(t, "duplicate_of", 0));
		show_field("duplicate of", buf);
	}
	snprintf(buf, sizeof(buf), "returned %lld, reopened %lld, urged %lld",
	         fmt_int(t, "return_count", 0), fmt_int(t, "reopen_count", 0),
	         fmt_int(t, "urge_count", 0));
	show_field("counts", buf);
}

static void show_timeline(struct ctl *ctl, json_object *events)
{
	static const char *const h[] = { "SEQ", "TIME", "ACTION", "STATE", "BY", "DETAILS" };
	struct table *tb = table_new(6, h);
	size_t n = events != NULL ? json_object_array_length(events) : 0;

	table_right(tb, 0);
	for (size_t i = 0; i < n; i++) {
		json_object *e = json_object_array_get_idx(events, i);
		const char *from = fmt_str(e, "from_state"), *to = fmt_str(e, "to_state");
		const char *action = fmt_str(e, "action");
		char seq[24], when[32], act[64], st[64], by[128], det[1024];
		const char *cells[6];
		int row;

		snprintf(seq, sizeof(seq), "%lld", fmt_int(e, "seq", 0));
		snprintf(act, sizeof(act), "%s %s", fmt_action_zh(action), action ? action : "-");
		if (from != NULL && to != NULL && strcmp(from, to) != 0)
			snprintf(st, sizeof(st), "%s → %s", from, to);
		else
			snprintf(st, sizeof(st), "%s", to ? to : "-");
		cells[0] = seq;
		cells[1] = fmt_time(when, sizeof(when), fmt_str(e, "at"));
		cells[2] = act;
		cells[3] = st;
		cells[4] = event_actor(ctl, e, by, sizeof(by));
		cells[5] = event_details(ctl, e, det, sizeof(det));
		row = table_add(tb, cells);
		if (action != NULL &&
		    (strcmp(action, "overdue") == 0 || strcmp(action, "return") == 0))
			table_style(tb, row, 2, "31");
	}
	printf("\n");
	table_print(tb, stdout, ctl->colour, table_term_width());
	table_free(tb);
}

/*
 * get, every page of it: the first page's result with the events of the
 * following ones appended.  get pages the history: while its "next" is not
 * null, more events follow after that seq.  A server that does not page
 * sends no "next" (one page).  0 and *out (owned), or an exit code.
 */
static int show_fetch(struct ctl *ctl, long long ticket, json_object **out)
{
	json_object *req = rpc_new("get"), *res = NULL, *events = NULL;
	long long after = 0;
	int rc;

	json_object_object_add(req, "ticket", json_object_new_int64(ticket));
	for (;;) {
		json_object *page = NULL, *pe, *next;

		rc = rpc_call(ctl, req, &page);
		if (rc != 0)
			break;
		pe = fmt_get(page, "events");
		if (res == NULL) {
			res = page;
			events = pe;
			if (!json_object_is_type(events, json_type_array)) {
				events = json_object_new_array();
				json_object_object_add(res, "events", events);
			}
		} else {
			for (size_t i = 0; json_object_is_type(pe, json_type_array) &&
			                   i < json_object_array_length(pe);
			     i++)
				json_object_array_add(
				        events, json_object_get(json_object_array_get_idx(pe, i)));
		}
		next = fmt_get(page, "next");
		if (next == NULL) {
			if (page != res)
				json_object_put(page);
			break;
		}
		if (json_object_get_int64(next) <= after) {
			/* a cursor that does not move would loop for ever */
			if (page != res)
				json_object_put(page);
			rc = fail(EX_SOFTWARE,
			          "the server's next page of ticket %lld starts at %lld again; "
			          "report this server bug",
			          ticket, (long long)json_object_get_int64(next));
			break;
		}
		after = json_object_get_int64(next);
		if (page != res)
			json_object_put(page);
		json_object_object_add(req, "after", json_object_new_int64(after));
	}
	json_object_put(req);
	if (rc != 0) {
		json_object_put(res);
		return rc;
	}
	/* the pages joined are one document: nothing more to fetch */
	if (json_object_object_get_ex(res, "next", NULL))
		json_object_object_add(res, "next", NULL);
	*out = res;
	return 0;
}

int cmd_show(struct ctl *ctl, const struct args *a)
{
	json_object *res = NULL, *photos;
	long long ticket;
	char buf[512];
	int rc = args_pos_int(a, 0, "ID", &ticket);

	if (rc == 0)
		rc = show_fetch(ctl, ticket, &res);
	if (rc != 0 || ctl->json) {
		if (rc == 0)
			cmd_print_json(res);
		json_object_put(res);
		return rc;
	}
	/* names are a comfort: a failure to read them is not the command's failure */
	if (ref_load(ctl, REF_CATEGORY) != 0 || ref_load(ctl, REF_DEPARTMENT) != 0 ||
	    ref_load(ctl, REF_GRID) != 0)
		fputs("streetctl: showing ids: the names could not be read\n", stderr);
	/* the same: without it (already said why) "you" and "you may" are left out */
	(void)allow_whoami(ctl);
	show_header(ctl, fmt_get(res, "ticket"), fmt_get(res, "events"));
	if (allow_list(ctl, fmt_get(res, "ticket"), buf, sizeof(buf)) != NULL)
		show_field("you may", buf[0] != '\0' ? buf : "look (nothing else in this state)");
	photos = fmt_get(res, "photos");
	if (photos != NULL && json_object_array_length(photos) > 0) {
		out_printf(stdout, "%-12s", "photos");
		for (size_t i = 0; i < json_object_array_length(photos); i++) {
			json_object *p = json_object_array_get_idx(photos, i);

			out_printf(stdout, " #%lld (%s, %lld bytes)", fmt_int(p, "id", 0),
			           fmt_str(p, "mime") ? fmt_str(p, "mime") : "?",
			           fmt_int(p, "size", 0));
		}
		printf("\n");
	}
	show_timeline(ctl, fmt_get(res, "events"));
	json_object_put(res);
	return 0;
}
