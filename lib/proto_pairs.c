/* proto_pairs: see proto_pairs.h. */
#include "proto_pairs.h"

#include <errno.h>
#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>

#include "proto_ctx.h"
#include "proto_fields.h"
#include "utf8.h"

/* [-]digits: what a JSON integer literal is. */
static bool is_integer(const char *s)
{
	if (*s == '-')
		s++;
	if (!*s)
		return false;
	for (; *s; s++)
		if (*s < '0' || *s > '9')
			return false;
	return true;
}

/* A JSON number literal (-? digits (. digits)? ([eE] [+-]? digits)?): no
 * "inf", "nan", hex or spaces, which strtod() alone would take. */
static bool is_number(const char *s)
{
	if (*s == '-')
		s++;
	if (*s < '0' || *s > '9')
		return false;
	while (*s >= '0' && *s <= '9')
		s++;
	if (*s == '.') {
		s++;
		if (*s < '0' || *s > '9')
			return false;
		while (*s >= '0' && *s <= '9')
			s++;
	}
	if (*s == 'e' || *s == 'E') {
		s++;
		if (*s == '+' || *s == '-')
			s++;
		if (*s < '0' || *s > '9')
			return false;
		while (*s >= '0' && *s <= '9')
			s++;
	}
	return *s == '\0';
}

/* The JSON value a JSON client would have sent for f; NULL when out of memory. */
static struct json_object *value_for(const struct proto_field *f, const char *s)
{
	switch (f->type) {
	case PROTO_T_INT:
		if (is_integer(s)) {
			long long x;

			errno = 0;
			x = strtoll(s, NULL, 10);
			if (errno == 0)
				return json_object_new_int64(x);
		}
		break;
	case PROTO_T_NUMBER:
		if (is_number(s))
			return json_object_new_double(strtod(s, NULL)); /* inf: the check refuses */
		break;
	case PROTO_T_BOOL:
		if (strcmp(s, "true") == 0 || strcmp(s, "false") == 0)
			return json_object_new_boolean(s[0] == 't');
		break;
	default:
		break;
	}
	return json_object_new_string(s);
}

int proto_decode_pairs(enum proto_op op, const char *const *names, const char *const *values,
                       size_t n, struct proto_request *req, char *err, size_t errlen)
{
	struct proto_ctx c = { .req = req, .err = err, .errlen = err ? errlen : 0 };
	const struct proto_op_spec *spec = proto_op_spec(op);
	bool seen[PROTO_MAX_FIELDS] = { false };

	memcpy(req->id, "null", 5);
	req->op = PROTO_OP_NONE;
	req->nparams = 0;
	memset(req->params, 0, sizeof(req->params));
	req->arena_used = 0;
	if (c.errlen)
		err[0] = '\0';
	if (!spec)
		return proto_fail(&c, PROTO_ERR_BAD_REQUEST, "unknown op");
	/* the values live in this object, as a JSON line's live in its tree */
	req->root = json_object_new_object();
	if (!req->root)
		return proto_fail(&c, PROTO_ERR_INTERNAL, "out of memory");
	req->op = op;
	req->nparams = spec->nfields;
	for (size_t k = 0; k < n; k++) {
		const char *s = values[k];
		struct json_object *v;
		int i, rc;

		for (i = 0; i < spec->nfields; i++)
			if (strcmp(spec->fields[i].name, names[k]) == 0)
				break;
		if (i == spec->nfields)
			return proto_fail(
			        &c, PROTO_ERR_BAD_REQUEST, "unknown field \"%.*s\" for op \"%s\"",
			        (int)utf8_trim(names[k], strnlen(names[k], PROTO_ECHO_MAX)),
			        names[k], spec->name);
		if (seen[i])
			return proto_fail(&c, PROTO_ERR_BAD_REQUEST, "field \"%s\" is given twice",
			                  spec->fields[i].name);
		seen[i] = true;
		if (!utf8_valid(s, strlen(s)))
			return proto_fail(&c, PROTO_ERR_BAD_REQUEST, "field \"%s\" is not UTF-8",
			                  spec->fields[i].name);
		if (s[0] == '\0') /* an empty form field: absent, like JSON null */
			continue;
		v = value_for(&spec->fields[i], s);
		if (!v || json_object_object_add(req->root, spec->fields[i].name, v) != 0) {
			json_object_put(v);
			return proto_fail(&c, PROTO_ERR_INTERNAL, "out of memory");
		}
		rc = proto_field_check(&c, &spec->fields[i], v, &req->params[i]);
		if (rc != PROTO_OK)
			return rc;
	}
	for (int i = 0; i < spec->nfields; i++)
		if (spec->fields[i].required && !req->params[i])
			return proto_fail(&c, PROTO_ERR_BAD_REQUEST, "field \"%s\" is required",
			                  spec->fields[i].name);
	return PROTO_OK;
}
