/* cmd_ref: whoami and the reference data (categories, departments, grids). */
#include <stdio.h>
#include <string.h>

#include "cmd.h"
#include "fmt.h"
#include "out.h"
#include "ref.h"
#include "rpc.h"
#include "table.h"

/* Sends an op without fields; prints the result as JSON when asked. */
static int ref_simple(struct ctl *ctl, const char *op, json_object **res)
{
	json_object *req = rpc_new(op);
	int rc = rpc_call(ctl, req, res);

	json_object_put(req);
	if (rc == 0 && ctl->json)
		cmd_print_json(*res);
	return rc;
}

int cmd_whoami(struct ctl *ctl, const struct args *a)
{
	json_object *res = NULL, *acc, *grids;
	char buf[2048], nb[32];
	const char *name_en;
	int rc = ref_simple(ctl, "whoami", &res);

	if (rc != 0 || ctl->json) {
		json_object_put(res);
		return rc;
	}
	acc = fmt_get(res, "account");
	if (ref_load(ctl, REF_GRID) != 0 || ref_load(ctl, REF_DEPARTMENT) != 0)
		fputs("streetctl: showing ids: the names could not be read\n", stderr);
	name_en = fmt_str(acc, "name_en");
	out_line(stdout, "%-11s %s", "login", fmt_str(acc, "login") ? fmt_str(acc, "login") : "-");
	out_line(stdout, "%-11s %s%s%s%s", "name",
	         fmt_str(acc, "name") ? fmt_str(acc, "name") : "-", name_en ? " (" : "",
	         name_en ? name_en : "", name_en ? ")" : "");
	out_line(stdout, "%-11s %s", "role", fmt_str(acc, "role") ? fmt_str(acc, "role") : "-");
	if (fmt_int(acc, "district_id", 0) > 0)
		out_line(stdout, "%-11s %s", "district",
		         ref_name(ctl, REF_DISTRICT, fmt_int(acc, "district_id", 0), nb,
		                  sizeof(nb)));
	if (fmt_int(acc, "street_id", 0) > 0)
		out_line(stdout, "%-11s %s", "street",
		         ref_name(ctl, REF_STREET, fmt_int(acc, "street_id", 0), nb, sizeof(nb)));
	if (fmt_int(acc, "department_id", 0) > 0)
		out_line(stdout, "%-11s %s", "department",
		         ref_name(ctl, REF_DEPARTMENT, fmt_int(acc, "department_id", 0), nb,
		                  sizeof(nb)));
	grids = fmt_get(acc, "grids");
	if (grids != NULL && json_object_array_length(grids) > 0) {
		size_t o = 0;

		buf[0] = '\0';
		for (size_t i = 0; i < json_object_array_length(grids) && o < sizeof(buf); i++) {
			long long g = json_object_get_int64(json_object_array_get_idx(grids, i));
			const char *code = ref_code(ctl, REF_GRID, g);

			o += (size_t)snprintf(buf + o, sizeof(buf) - o, "%s%s", i ? ", " : "",
			                      code ? code
			                           : ref_name(ctl, REF_GRID, g, nb, sizeof(nb)));
		}
		out_line(stdout, "%-11s %s", "grids", buf);
	}
	out_line(stdout, "%-11s %s, protocol %lld", "server",
	         fmt_str(res, "server") ? fmt_str(res, "server") : "streetd",
	         fmt_int(res, "protocol", 0));
	json_object_put(res);
	return 0;
}

/* A deadline in working time (8-hour days): "2h", "5d", "30m". */
static const char *ref_work(char *buf, size_t cap, long long s)
{
	if (s >= 28800 && s % 28800 == 0)
		snprintf(buf, cap, "%lldd", s / 28800);
	else if (s >= 3600 && s % 3600 == 0)
		snprintf(buf, cap, "%lldh", s / 3600);
	else
		snprintf(buf, cap, "%lldm", (s + 59) / 60);
	return buf;
}

/* An elapsed-time deadline: "15m", "12h", "24h". */
static const char *ref_clock(char *buf, size_t cap, long long s)
{
	if (s >= 3600 && s % 3600 == 0)
		snprintf(buf, cap, "%lldh", s / 3600);
	else
		snprintf(buf, cap, "%lldm", (s + 59) / 60);
	return buf;
}

int cmd_categories(struct ctl *ctl, const struct args *a)
{
	static const char *const h[] = { "CODE",   "NAME",    "URGENT",   "DISPATCH",
		                         "ACCEPT", "RESOLVE", "FEEDBACK", "URGENT D/A/R/F" };
	json_object *res = NULL, *rows;
	struct table *tb;
	int rc = ref_simple(ctl, "categories", &res);

	if (rc != 0 || ctl->json) {
		json_object_put(res);
		return rc;
	}
	rows = fmt_get(res, "categories");
	tb = table_new(8, h);
	for (size_t i = 0; rows != NULL && i < json_object_array_length(rows); i++) {
		json_object *c = json_object_array_get_idx(rows, i);
		char d[24], ac[24], r[24], f[24], u[4][24], urg[120];
		const char *cells[8];

		snprintf(urg, sizeof(urg), "%s/%s/%s/%s",
		         ref_clock(u[0], sizeof(u[0]), fmt_int(c, "urgent_dispatch_s", 0)),
		         ref_clock(u[1], sizeof(u[1]), fmt_int(c, "urgent_accept_s", 0)),
		         ref_clock(u[2], sizeof(u[2]), fmt_int(c, "urgent_resolve_s", 0)),
		         ref_clock(u[3], sizeof(u[3]), fmt_int(c, "urgent_feedback_s", 0)));
		cells[0] = fmt_str(c, "code");
		cells[1] = fmt_str(c, "name");
		cells[2] = fmt_bool(c, "urgent") ? "yes" : "";
		cells[3] = ref_work(d, sizeof(d), fmt_int(c, "dispatch_s", 0));
		cells[4] = ref_work(ac, sizeof(ac), fmt_int(c, "accept_s", 0));
		cells[5] = ref_work(r, sizeof(r), fmt_int(c, "resolve_s", 0));
		cells[6] = ref_work(f, sizeof(f), fmt_int(c, "feedback_s", 0));
		cells[7] = urg;
		table_add(tb, cells);
	}
	table_print(tb, stdout, ctl->colour, 0);
	printf("\ndeadlines in working time (8-hour days); urgent ones in elapsed time\n");
	table_free(tb);
	json_object_put(res);
	return 0;
}

int cmd_departments(struct ctl *ctl, const struct args *a)
{
	static const char *const h[] = { "ID", "CODE", "NAME", "NAME_EN", "ACTIVE" };
	json_object *res = NULL, *rows;
	struct table *tb;
	int rc = ref_simple(ctl, "departments", &res);

	if (rc != 0 || ctl->json) {
		json_object_put(res);
		return rc;
	}
	rows = fmt_get(res, "departments");
	tb = table_new(5, h);
	table_right(tb, 0);
	for (size_t i = 0; rows != NULL && i < json_object_array_length(rows); i++) {
		json_object *d = json_object_array_get_idx(rows, i);
		char id[24];
		const char *cells[5];

		snprintf(id, sizeof(id), "%lld", fmt_int(d, "id", 0));
		cells[0] = id;
		cells[1] = fmt_str(d, "code");
		cells[2] = fmt_str(d, "name");
		cells[3] = fmt_str(d, "name_en");
		cells[4] = fmt_bool(d, "active") ? "yes" : "no";
		table_add(tb, cells);
	}
	table_print(tb, stdout, ctl->colour, 0);
	table_free(tb);
	json_object_put(res);
	return 0;
}

int cmd_grids(struct ctl *ctl, const struct args *a)
{
	static const char *const h[] = { "ID", "CODE", "NAME", "COMMUNITY", "STREET" };
	json_object *rows;
	struct table *tb;
	int rc = ref_load(ctl, REF_GRID);

	if (rc != 0)
		return rc;
	if (ctl->json) {
		cmd_print_json(ctl->places);
		return 0;
	}
	rows = ref_rows(ctl, REF_GRID);
	tb = table_new(5, h);
	table_right(tb, 0);
	for (size_t i = 0; rows != NULL && i < json_object_array_length(rows); i++) {
		json_object *g = json_object_array_get_idx(rows, i);
		json_object *comm = ref_find(ctl, REF_COMMUNITY, fmt_int(g, "community_id", 0));
		char id[24], nb[32];
		const char *cells[5];

		snprintf(id, sizeof(id), "%lld", fmt_int(g, "id", 0));
		cells[0] = id;
		cells[1] = fmt_str(g, "code");
		cells[2] = fmt_str(g, "name");
		cells[3] = fmt_str(comm, "name");
		cells[4] = ref_name(ctl, REF_STREET, fmt_int(comm, "street_id", 0), nb, sizeof(nb));
		table_add(tb, cells);
	}
	table_print(tb, stdout, ctl->colour, 0);
	table_free(tb);
	return 0;
}
