/*
 * libFuzzer harness for lib/proto_*.c.  Besides "no crash, no leak, no UB" it
 * checks what the daemon relies on: a decoded request is complete and its
 * params are clean C strings, and every reply built from what the decoder
 * said (id, message) is one line of strict JSON that our own decoder would
 * accept.  Built twice: with -fsanitize=fuzzer, and into replay_proto for
 * the normal test run (see meson.build).
 */
#include <json-c/json.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond)                                                                                \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond);   \
			abort();                                                                   \
		}                                                                                  \
	} while (0)

/* A reply must be one line of strict JSON, and its escaped message acceptable to proto. */
static void check_reply(const char *line, size_t n, const char *message)
{
	struct json_tokener *tok = json_tokener_new_ex(8);
	struct json_object *o, *v, *e;
	char req[8192], err[256], esc[4100];
	struct proto_request r;
	int rc;

	CHECK(n > 0 && line[n - 1] == '\n' && memchr(line, '\n', n - 1) == NULL);
	CHECK(tok);
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
	o = json_tokener_parse_ex(tok, line, (int)n);
	CHECK(o && json_tokener_get_error(tok) == json_tokener_success);
	CHECK(json_object_object_get_ex(o, "id", &v));
	CHECK(json_object_object_get_ex(o, "error", &e));
	CHECK(json_object_object_get_ex(e, "message", &v));
	CHECK(json_object_is_type(v, json_type_string));
	json_object_put(o);
	json_tokener_free(tok);

	/* The escaped message as a comment's text: our strict decoder must accept it. */
	proto_json_escape(esc, sizeof(esc), message ? message : "");
	snprintf(req, sizeof(req), "{\"id\":1,\"op\":\"comment\",\"ticket\":1,\"text\":\"%s\"}",
	         esc);
	rc = proto_decode(req, strlen(req), &r, err, sizeof(err));
	CHECK(rc == PROTO_OK);
	proto_request_free(&r);
}

/* An echoed id must be one the decoder accepts back, unchanged. */
static void check_id(const char *id)
{
	char req[256], err[256];
	struct proto_request r;

	if (strcmp(id, "null") == 0)
		return;
	snprintf(req, sizeof(req), "{\"id\":%s,\"op\":\"whoami\"}", id);
	CHECK(proto_decode(req, strlen(req), &r, err, sizeof(err)) == PROTO_OK);
	CHECK(strcmp(r.id, id) == 0);
	proto_request_free(&r);
}

static void check_request(const struct proto_request *r)
{
	const struct proto_op_spec *spec = proto_op_spec(r->op);

	CHECK(spec && r->nparams == spec->nfields);
	for (int i = 0; i < PROTO_MAX_FIELDS; i++) {
		if (i >= r->nparams || !spec->fields[i].required)
			continue;
		CHECK(r->params[i] != NULL);
	}
	for (int i = r->nparams; i < PROTO_MAX_FIELDS; i++)
		CHECK(r->params[i] == NULL);
	for (int i = 0; i < r->nparams; i++)
		if (r->params[i])
			CHECK(strlen(r->params[i]) < 65536);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct proto_request r;
	char err[256], reply[512], text[4001];
	size_t n;
	int rc;

	rc = proto_decode((const char *)data, size, &r, err, sizeof(err));
	CHECK(strlen(r.id) < sizeof(r.id));
	check_id(r.id);
	if (rc == PROTO_OK) {
		check_request(&r);
		n = proto_format_ok_prefix(reply, sizeof(reply), r.id);
		CHECK(n > 0 && n == strlen(reply));
	} else {
		CHECK(rc > PROTO_OK && rc < PROTO_ERR_COUNT && err[0] != '\0');
		/* Either would mean json-c and proto's scanner disagree about the syntax. */
		CHECK(rc != PROTO_ERR_INTERNAL);
		CHECK(strncmp(err, "invalid JSON", 12) != 0);
		n = proto_format_error(reply, sizeof(reply), r.id, (enum proto_error)rc, err);
		CHECK(n > 0 && n == strlen(reply));
		check_reply(reply, n, err);
	}
	proto_request_free(&r);
	proto_request_free(&r);

	/* The raw bytes as an error message: escaped, cut short, still one valid line. */
	n = size < sizeof(text) - 1 ? size : sizeof(text) - 1;
	memcpy(text, data, n);
	text[n] = '\0';
	n = proto_format_error(reply, sizeof(reply), "\"x\"", PROTO_ERR_CONFLICT, text);
	CHECK(n > 0 && n == strlen(reply) && n < sizeof(reply));
	check_reply(reply, n, text);
	return 0;
}
