/*
 * ref: reference data (categories, departments, places), fetched once per
 * run and only when needed, to turn codes typed by people into the ids the
 * wire wants and ids in replies into Chinese names.
 */
#ifndef STREETCTL_REF_H
#define STREETCTL_REF_H

#include <json-c/json.h>
#include <stddef.h>

#include "args.h"
#include "ctl.h"

enum ref_kind {
	REF_CATEGORY,
	REF_DEPARTMENT,
	REF_GRID,
	REF_STREET,
	REF_COMMUNITY,
	REF_DISTRICT,
};

/* Fetches the list of a kind (once); 0 or an exit code after printing. */
int ref_load(struct ctl *ctl, enum ref_kind kind);

/* The array of rows of a kind (NULL before ref_load). */
json_object *ref_rows(struct ctl *ctl, enum ref_kind kind);

/* The row with this id, or NULL. */
json_object *ref_find(struct ctl *ctl, enum ref_kind kind, long long id);

/*
 * An id from what a person typed: a number is taken as an id, anything
 * else as a code ("pollution.noise", "jg-yanan-01", "sthj").  opt names the
 * option in messages.  0 and *id, or EX_USAGE / another exit code after
 * printing.
 */
int ref_resolve(struct ctl *ctl, enum ref_kind kind, const char *text, const char *opt,
                long long *id);

/* When the command has option opt, resolves its value (a code or an id of
 * kind) and adds it to req as field opt; 0, or ref_resolve's exit code. */
int ref_add_option(struct ctl *ctl, json_object *req, const struct args *a, enum ref_kind kind,
                   const char *opt);

/* "噪声扰民" for an id (the row's name), "#id" when unknown, "-" for id <= 0. */
const char *ref_name(struct ctl *ctl, enum ref_kind kind, long long id, char *buf, size_t cap);
/* The row's code, or NULL. */
const char *ref_code(struct ctl *ctl, enum ref_kind kind, long long id);

#endif
