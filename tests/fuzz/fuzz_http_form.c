/*
 * libFuzzer harness for Open311's HTTP input (lib/http_form.c,
 * lib/proto_pairs.c): any bytes as a form or query string, then, as
 * daemon/http_open311.c does, the attributes and every pair as the fields
 * of each Open311 op.  Besides "no crash, no leak, no UB": a form either
 * parses into NUL-free UTF-8 names and values or is refused with a
 * message, and the attributes are a JSON object json-c reads back.
 * Built twice: with -fsanitize=fuzzer, and into replay_http_form for the
 * normal test run (see meson.build).
 */
#include <json-c/json.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http_form.h"
#include "proto.h"
#include "proto_pairs.h"
#include "utf8.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond)                                                                                \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond);   \
			abort();                                                                   \
		}                                                                                  \
	} while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const enum proto_op ops[] = { PROTO_OP_O311_SERVICE, PROTO_OP_O311_REQUESTS,
		                             PROTO_OP_O311_REQUEST, PROTO_OP_O311_POST };
	const char *names[HTTP_FORM_MAX_PAIRS], *values[HTTP_FORM_MAX_PAIRS];
	struct http_form f;
	struct proto_request req;
	char err[256], *attrs = NULL;

	if (size > 65536)
		return 0;
	if (http_form_parse((const char *)data, size, &f, err, sizeof(err)) != 0) {
		CHECK(err[0] != '\0');
		http_form_free(&f);
		return 0;
	}
	for (size_t i = 0; i < f.n; i++) {
		CHECK(utf8_valid(f.pairs[i].name, strlen(f.pairs[i].name)));
		CHECK(strlen(f.pairs[i].value) == f.pairs[i].value_len);
		CHECK(utf8_valid(f.pairs[i].value, f.pairs[i].value_len));
		names[i] = f.pairs[i].name;
		values[i] = f.pairs[i].value;
	}
	if (http_form_attributes(&f, &attrs, err, sizeof(err)) == 0 && attrs) {
		json_object *o = json_tokener_parse(attrs);

		CHECK(o && json_object_is_type(o, json_type_object));
		json_object_put(o);
	}
	free(attrs);
	for (size_t k = 0; k < sizeof(ops) / sizeof(ops[0]); k++) {
		int rc;

		memset(&req, 0, sizeof(req));
		rc = proto_decode_pairs(ops[k], names, values, f.n, &req, err, sizeof(err));
		CHECK(rc == PROTO_OK || err[0] != '\0');
		if (rc == PROTO_OK)
			for (int i = 0; i < req.nparams; i++)
				CHECK(!req.params[i] ||
				      utf8_valid(req.params[i], strlen(req.params[i])));
		proto_request_free(&req);
	}
	http_form_free(&f);
	return 0;
}
