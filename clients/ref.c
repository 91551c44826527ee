/* ref: see ref.h. */
#include "ref.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fail.h"
#include "fmt.h"
#include "rpc.h"

static const struct {
	const char *op, *key, *noun;
} ref_kinds[] = {
	[REF_CATEGORY] = { "categories", "categories", "category" },
	[REF_DEPARTMENT] = { "departments", "departments", "department" },
	[REF_GRID] = { "places", "grids", "grid" },
	[REF_STREET] = { "places", "streets", "street" },
	[REF_COMMUNITY] = { "places", "communities", "community" },
	[REF_DISTRICT] = { "places", "districts", "district" },
};

static json_object **ref_slot(struct ctl *ctl, enum ref_kind kind)
{
	if (kind == REF_CATEGORY)
		return &ctl->categories;
	if (kind == REF_DEPARTMENT)
		return &ctl->departments;
	return &ctl->places;
}

int ref_load(struct ctl *ctl, enum ref_kind kind)
{
	json_object **slot = ref_slot(ctl, kind);
	json_object *req;
	int rc;

	if (*slot != NULL)
		return 0;
	req = rpc_new(ref_kinds[kind].op);
	rc = rpc_call(ctl, req, slot);
	json_object_put(req);
	return rc;
}

json_object *ref_rows(struct ctl *ctl, enum ref_kind kind)
{
	json_object *rows = fmt_get(*ref_slot(ctl, kind), ref_kinds[kind].key);

	return rows != NULL && json_object_is_type(rows, json_type_array) ? rows : NULL;
}

json_object *ref_find(struct ctl *ctl, enum ref_kind kind, long long id)
{
	json_object *rows = ref_rows(ctl, kind);
	size_t n = rows != NULL ? json_object_array_length(rows) : 0;

	for (size_t i = 0; i < n; i++) {
		json_object *r = json_object_array_get_idx(rows, i);

		if (fmt_int(r, "id", 0) == id)
			return r;
	}
	return NULL;
}

int ref_resolve(struct ctl *ctl, enum ref_kind kind, const char *text, const char *opt,
                long long *id)
{
	json_object *rows;
	char *end;
	long long v;
	int rc;

	if (text[0] >= '0' && text[0] <= '9') {
		v = strtoll(text, &end, 10);
		if (*end == '\0' && v > 0) {
			*id = v;
			return 0;
		}
	}
	rc = ref_load(ctl, kind);
	if (rc != 0)
		return rc;
	rows = ref_rows(ctl, kind);
	for (size_t i = 0; rows != NULL && i < json_object_array_length(rows); i++) {
		json_object *r = json_object_array_get_idx(rows, i);
		const char *code = fmt_str(r, "code"), *name = fmt_str(r, "name");

		if ((code != NULL && strcmp(code, text) == 0) ||
		    (name != NULL && strcmp(name, text) == 0)) {
			*id = fmt_int(r, "id", 0);
			return 0;
		}
	}
	return fail_usage(ctl->cmd, "--%s: no %s has the code '%s' (streetctl %s lists them)", opt,
	                  ref_kinds[kind].noun, text,
	                  kind == REF_CATEGORY     ? "categories"
	                  : kind == REF_DEPARTMENT ? "departments"
	                                           : "grids");
}

const char *ref_name(struct ctl *ctl, enum ref_kind kind, long long id, char *buf, size_t cap)
{
	json_object *r;
	const char *name;

	if (id <= 0)
		return "-";
	r = ref_find(ctl, kind, id);
	name = fmt_str(r, "name");
	if (name != NULL)
		return name;
	snprintf(buf, cap, "#%lld", id);
	return buf;
}

const char *ref_code(struct ctl *ctl, enum ref_kind kind, long long id)
{
	return fmt_str(ref_find(ctl, kind, id), "code");
}

int ref_add_option(struct ctl *ctl, json_object *req, const struct args *a, enum ref_kind kind,
                   const char *opt)
{
	long long id;
	int rc;

	if (!args_has(a, opt))
		return 0;
	rc = ref_resolve(ctl, kind, args_get(a, opt), opt, &id);
	if (rc == 0)
		json_object_object_add(req, opt, json_object_new_int64(id));
	return rc;
}
