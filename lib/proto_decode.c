/*
 * proto_decode: one request line to a struct proto_request.
 *
 * A line goes through two parsers: the strict scanner (proto_scan.c) is the
 * authority on syntax, json-c builds the tree the fields are read from
 * (proto_fields.c checks them against the op table, proto_ops.c).
 * Duplicate keys are found by counting: the scanner counts every object
 * member it sees, json-c's tree holds one per distinct key, so the totals
 * differ exactly when some object repeats a key (the outermost such object
 * always survives into the tree).  Only then are the root's keys compared
 * pairwise to name the culprit.
 */
#include "proto.h"

#include <json-c/json.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "proto_ctx.h"
#include "proto_fields.h"
#include "proto_scan.h"
#include "utf8.h"

/* How many bytes of a client-supplied name to quote back: whole characters only. */
static int echo_len(const char *s)
{
	size_t n = strlen(s);

	return (int)utf8_trim(s, n < PROTO_ECHO_MAX ? n : PROTO_ECHO_MAX);
}

enum proto_id_state { PROTO_ID_MISSING, PROTO_ID_BAD, PROTO_ID_OK };

/* Reads the id into req->id (JSON text) if it is one the protocol allows. */
static enum proto_id_state read_id(struct proto_request *req, struct json_object *root)
{
	struct json_object *v;
	const char *s;
	size_t n, o = 0;

	if (!json_object_object_get_ex(root, "id", &v))
		return PROTO_ID_MISSING;
	if (json_object_is_type(v, json_type_int)) {
		int64_t id = json_object_get_int64(v);

		/* json-c clamps out-of-range literals to INT64_MAX/MIN: both fail here. */
		if (id < 0 || id > PROTO_INT_MAX)
			return PROTO_ID_BAD;
		snprintf(req->id, sizeof(req->id), "%lld", (long long)id);
		return PROTO_ID_OK;
	}
	if (!json_object_is_type(v, json_type_string))
		return PROTO_ID_BAD;
	s = json_object_get_string(v);
	n = (size_t)json_object_get_string_len(v);
	if (n < 1 || n > PROTO_ID_MAX_BYTES || strlen(s) != n)
		return PROTO_ID_BAD;
	/* The scanner has not run yet: check UTF-8 here, the id is echoed verbatim. */
	for (size_t i = 0; i < n;) {
		size_t k = utf8_decode(s + i, n - i, NULL);

		if (k == 0 || (unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return PROTO_ID_BAD;
		i += k;
	}
	req->id[o++] = '"';
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '"' || s[i] == '\\')
			req->id[o++] = '\\';
		req->id[o++] = s[i];
	}
	req->id[o++] = '"';
	req->id[o] = '\0';
	return PROTO_ID_OK;
}

/* After syntax: the id, the op and the op's fields. */
static int decode_fields(struct proto_ctx *c, struct json_object *root, enum proto_id_state id)
{
	struct proto_request *req = c->req;
	const struct proto_op_spec *spec;
	struct json_object *v;
	struct json_object_iterator it, end;
	const char *name;
	enum proto_op op;

	if (id == PROTO_ID_MISSING)
		return proto_fail(c, PROTO_ERR_BAD_REQUEST, "field \"id\" is required");
	if (id == PROTO_ID_BAD)
		return proto_fail(
		        c, PROTO_ERR_BAD_REQUEST,
		        "field \"id\" must be an integer from 0 to %lld or a string of 1 to "
		        "%d bytes without control characters",
		        (long long)PROTO_INT_MAX, PROTO_ID_MAX_BYTES);
	if (!json_object_object_get_ex(root, "op", &v))
		return proto_fail(c, PROTO_ERR_BAD_REQUEST, "field \"op\" is required");
	if (!json_object_is_type(v, json_type_string))
		return proto_fail(c, PROTO_ERR_BAD_REQUEST, "field \"op\" must be a string");
	name = json_object_get_string(v);
	if (!proto_op_parse(name, &op))
		return proto_fail(c, PROTO_ERR_BAD_REQUEST, "unknown op \"%.*s\"", echo_len(name),
		                  name);
	spec = proto_op_spec(op);
	req->op = op;
	req->nparams = spec->nfields;

	it = json_object_iter_begin(root);
	end = json_object_iter_end(root);
	for (; !json_object_iter_equal(&it, &end); json_object_iter_next(&it)) {
		const char *key = json_object_iter_peek_name(&it);
		int i, rc;

		if (strcmp(key, "id") == 0 || strcmp(key, "op") == 0)
			continue;
		for (i = 0; i < spec->nfields; i++)
			if (strcmp(spec->fields[i].name, key) == 0)
				break;
		if (i == spec->nfields)
			return proto_fail(c, PROTO_ERR_BAD_REQUEST,
			                  "unknown field \"%.*s\" for op \"%s\"", echo_len(key),
			                  key, spec->name);
		v = json_object_iter_peek_value(&it);
		if (!v) /* JSON null: the same as leaving the field out */
			continue;
		rc = proto_field_check(c, &spec->fields[i], v, &req->params[i]);
		if (rc != PROTO_OK)
			return rc;
	}
	for (int i = 0; i < spec->nfields; i++)
		if (spec->fields[i].required && !req->params[i])
			return proto_fail(c, PROTO_ERR_BAD_REQUEST, "field \"%s\" is required",
			                  spec->fields[i].name);
	return PROTO_OK;
}

int proto_decode(const char *line, size_t len, struct proto_request *req, char *err, size_t errlen)
{
	struct proto_ctx c = { .req = req, .err = err, .errlen = err ? errlen : 0 };
	struct proto_scan sc;
	struct json_tokener *tok;
	struct json_object *root;
	enum json_tokener_error jerr;
	enum proto_id_state id = PROTO_ID_MISSING;
	size_t end;
	bool scanned;

	memcpy(req->id, "null", 5);
	req->op = PROTO_OP_NONE;
	req->nparams = 0;
	memset(req->params, 0, sizeof(req->params));
	req->root = NULL;
	req->arena_used = 0;
	if (c.errlen)
		err[0] = '\0';

	if (len > 0 && line[len - 1] == '\r')
		len--;
	if (len == 0)
		return proto_fail(&c, PROTO_ERR_BAD_REQUEST, "empty request");
	if (len > INT_MAX)
		return proto_fail(&c, PROTO_ERR_TOO_LARGE, "request too large");

	/* json-c's depth counts one more than our levels (measured on 0.16). */
	tok = json_tokener_new_ex(PROTO_MAX_DEPTH + 1);
	if (!tok)
		return proto_fail(&c, PROTO_ERR_INTERNAL, "out of memory");
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
	root = json_tokener_parse_ex(tok, line, (int)len);
	jerr = json_tokener_get_error(tok);
	end = json_tokener_get_parse_end(tok);
	json_tokener_free(tok);
	req->root = root;

	/* Read the id first, so that syntax errors below can still carry it. */
	if (json_object_is_type(root, json_type_object))
		id = read_id(req, root);

	scanned = proto_scan_all(&sc, line, len);
	if (!scanned)
		return proto_fail(&c, PROTO_ERR_BAD_REQUEST, "%s at byte %zu", sc.msg, sc.pos);
	/* Before json-c's verdict: it cannot tell where a bare number at the end ends. */
	if (sc.s[sc.first] != '{')
		return proto_fail(&c, PROTO_ERR_BAD_REQUEST, "a request must be a JSON object");
	if (jerr != json_tokener_success || end != len)
		return proto_fail(&c, PROTO_ERR_BAD_REQUEST, "invalid JSON (%s)",
		                  jerr != json_tokener_success
		                          ? json_tokener_error_desc(jerr)
		                          : "unexpected bytes after the object");
	if (!json_object_is_type(root, json_type_object))
		return proto_fail(&c, PROTO_ERR_BAD_REQUEST, "a request must be a JSON object");

	if ((size_t)json_object_object_length(root) != sc.nkeys) {
		char name[PROTO_ECHO_MAX + 1];

		for (unsigned i = 1; i < sc.nkeys; i++) {
			for (unsigned j = 0; j < i; j++) {
				if (!proto_scan_keys_equal(&sc, sc.keys[j], sc.keys[i]))
					continue;
				proto_scan_key_name(&sc, sc.keys[i], name, sizeof(name));
				/* Two ids: neither can be trusted to match the reply. */
				if (strcmp(name, "id") == 0)
					memcpy(req->id, "null", 5);
				return proto_fail(&c, PROTO_ERR_BAD_REQUEST, "duplicate key \"%s\"",
				                  name);
			}
		}
		return proto_fail(&c, PROTO_ERR_INTERNAL,
		                  "json-c and the scanner disagree on the keys");
	}
	if (proto_scan_tree_members(root) != sc.members)
		return proto_fail(&c, PROTO_ERR_BAD_REQUEST, "duplicate key in a nested object");

	return decode_fields(&c, root, id);
}

void proto_request_free(struct proto_request *req)
{
	if (!req)
		return;
	json_object_put(req->root);
	memset(req, 0, sizeof(*req));
}
