/*
 * libFuzzer harness for lib/open311_xml.c: any JSON json-c parses (strings
 * with any bytes, control characters, deep nesting, odd member names) as the
 * result of each Open311 op.  Besides "no crash, no leak, no UB": a document
 * written is well-formed XML (libxml2 reads it back), and a failure leaves
 * no output.  The first byte picks the op; the rest is the JSON.
 * Built twice: with -fsanitize=fuzzer, and into replay_open311_xml for the
 * normal test run (see meson.build).
 */
#include <json-c/json.h>
#include <libxml/parser.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "open311_xml.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond)                                                                                \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond);   \
			abort();                                                                   \
		}                                                                                  \
	} while (0)

static void check_doc(int rc, char *out, size_t len)
{
	xmlDocPtr doc;

	if (rc != 0) {
		CHECK(out == NULL && len == 0);
		return;
	}
	CHECK(out != NULL && strlen(out) == len && len < INT32_MAX);
	doc = xmlReadMemory(out, (int)len, "f.xml", NULL,
	                    XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
	CHECK(doc != NULL);
	xmlFreeDoc(doc);
	free(out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const enum proto_op ops[] = {
		PROTO_OP_O311_SERVICES, PROTO_OP_O311_SERVICE, PROTO_OP_O311_REQUESTS,
		PROTO_OP_O311_REQUEST,  PROTO_OP_O311_POST,    PROTO_OP_GET,
	};
	struct json_tokener *tok;
	json_object *o;
	char *out;
	size_t len;

	if (size < 1 || size > 65536)
		return 0;
	tok = json_tokener_new_ex(32);
	if (!tok)
		return 0;
	o = json_tokener_parse_ex(tok, (const char *)data + 1, (int)(size - 1));
	json_tokener_free(tok);
	if (o) {
		int op = data[0] % 7, rc;

		/* the call first: check_doc() reads what it wrote */
		if (op < 6)
			rc = open311_xml(ops[op], o, &out, &len);
		else
			rc = open311_xml_discovery(o, &out, &len);
		check_doc(rc, out, len);
		if (json_object_is_type(o, json_type_string)) {
			rc = open311_xml_errors(data[0], json_object_get_string(o), &out, &len);
			check_doc(rc, out, len);
		}
		json_object_put(o);
	}
	return 0;
}
