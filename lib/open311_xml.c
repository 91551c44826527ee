/* open311_xml: see open311_xml.h. */
#include "open311_xml.h"

#include <json-c/json.h>
#include <libxml/xmlwriter.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "utf8.h"

/* Deepest nesting of objects and arrays a result may have. */
#define OPEN311_XML_MAX_DEPTH 8

/* libxml2's strings are unsigned char; its BAD_CAST drops const. */
static const xmlChar *XC(const char *s)
{
	return (const xmlChar *)s;
}

struct writer {
	xmlBufferPtr buf;
	xmlTextWriterPtr w;
	char *text; /* scratch for cleaned text */
	size_t text_cap;
};

/* An element name we write: [A-Za-z_][A-Za-z0-9_.-]*, at most 64 bytes
 * (every member of the spec's documents; "xml" prefixes are not refused:
 * none of ours has one). */
static bool xml_name_ok(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > 64 ||
	    !((s[0] >= 'A' && s[0] <= 'Z') || (s[0] >= 'a' && s[0] <= 'z') || s[0] == '_'))
		return false;
	for (size_t i = 1; i < n; i++) {
		char c = s[i];

		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		      c == '_' || c == '.' || c == '-'))
			return false;
	}
	return true;
}

/* What XML 1.0 can carry (its Char production). */
static bool xml_char_ok(uint32_t cp)
{
	if (cp < 0x20)
		return cp == 0x09 || cp == 0x0A || cp == 0x0D;
	return cp != 0xFFFE && cp != 0xFFFF;
}

/* s[0..n) with what XML cannot carry replaced by U+FFFD, into w->text. */
static const char *clean_text(struct writer *w, const char *s, size_t n)
{
	static const char fffd[] = "\xEF\xBF\xBD";
	size_t o = 0;

	if (n > (SIZE_MAX - 1) / 3)
		return NULL;
	if (w->text_cap < 3 * n + 1) { /* each byte becomes at most 3 */
		char *p = realloc(w->text, 3 * n + 1);

		if (!p)
			return NULL;
		w->text = p;
		w->text_cap = 3 * n + 1;
	}
	for (size_t i = 0; i < n;) {
		uint32_t cp = 0;
		size_t len = utf8_decode(s + i, n - i, &cp);

		if (len == 0 || !xml_char_ok(cp)) {
			memcpy(w->text + o, fffd, 3);
			o += 3;
			i += len ? len : 1;
		} else {
			memcpy(w->text + o, s + i, len);
			o += len;
			i += len;
		}
	}
	w->text[o] = '\0';
	return w->text;
}

/* The element an array's items get, by the array's own name. */
static const char *item_name(const char *list)
{
	static const struct {
		const char *list, *item;
	} names[] = {
		{ "attributes", "attribute" }, { "values", "value" },
		{ "endpoints", "endpoint" },   { "formats", "format" },
		{ "services", "service" },     { "service_requests", "request" },
		{ "errors", "error" },
	};

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strcmp(names[i].list, list) == 0)
			return names[i].item;
	return NULL;
}

static int write_value(struct writer *w, const char *name, struct json_object *v, int depth);

static int write_text(struct writer *w, const char *s, size_t n)
{
	const char *t = clean_text(w, s, n);

	return t && xmlTextWriterWriteString(w->w, XC(t)) >= 0 ? 0 : -1;
}

/* The members of o as elements, in their order. */
static int write_members(struct writer *w, struct json_object *o, int depth)
{
	json_object_object_foreach(o, key, val)
	{
		if (write_value(w, key, val, depth + 1) < 0)
			return -1;
	}
	return 0;
}

/* The items of a as <item> elements. */
static int write_items(struct writer *w, const char *item, struct json_object *a, int depth)
{
	size_t n = json_object_array_length(a);

	for (size_t i = 0; i < n; i++)
		if (write_value(w, item, json_object_array_get_idx(a, i), depth + 1) < 0)
			return -1;
	return 0;
}

/* <name>v</name>, for any JSON value. */
static int write_value(struct writer *w, const char *name, struct json_object *v, int depth)
{
	int rc = 0;

	if (depth > OPEN311_XML_MAX_DEPTH || !xml_name_ok(name))
		return -1;
	if (xmlTextWriterStartElement(w->w, XC(name)) < 0)
		return -1;
	switch (json_object_get_type(v)) {
	case json_type_null:
		break;
	case json_type_boolean:
		rc = xmlTextWriterWriteString(w->w,
		                              XC(json_object_get_boolean(v) ? "true" : "false")) < 0
		             ? -1
		             : 0;
		break;
	case json_type_int:
	case json_type_double: {
		const char *s = json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN);

		rc = s ? write_text(w, s, strlen(s)) : -1;
		break;
	}
	case json_type_string:
		rc = write_text(w, json_object_get_string(v),
		                (size_t)json_object_get_string_len(v));
		break;
	case json_type_object:
		rc = write_members(w, v, depth);
		break;
	case json_type_array: {
		const char *item = item_name(name);

		rc = item ? write_items(w, item, v, depth) : -1;
		break;
	}
	}
	if (rc < 0 || xmlTextWriterEndElement(w->w) < 0)
		return -1;
	return 0;
}

/* 0, or -1 with nothing left to free. */
static int writer_open(struct writer *w)
{
	memset(w, 0, sizeof(*w));
	w->buf = xmlBufferCreate();
	if (!w->buf)
		return -1;
	w->w = xmlNewTextWriterMemory(w->buf, 0);
	if (w->w && xmlTextWriterStartDocument(w->w, "1.0", "utf-8", NULL) >= 0)
		return 0;
	if (w->w)
		xmlFreeTextWriter(w->w);
	xmlBufferFree(w->buf);
	return -1;
}

/* Ends the document and hands its bytes to *out when ok; frees the rest. */
static int writer_close(struct writer *w, bool ok, char **out, size_t *len)
{
	*out = NULL;
	*len = 0;
	if (ok && xmlTextWriterEndDocument(w->w) < 0)
		ok = false;
	xmlFreeTextWriter(w->w); /* flushes into buf */
	if (ok) {
		size_t n = (size_t)xmlBufferLength(w->buf);

		*out = malloc(n + 1);
		if (*out) {
			memcpy(*out, xmlBufferContent(w->buf), n);
			(*out)[n] = '\0';
			*len = n;
		} else {
			ok = false;
		}
	}
	xmlBufferFree(w->buf);
	free(w->text);
	return ok ? 0 : -1;
}

/* A whole document: <root> holding result's items (list) or members. */
static int write_document(const char *root, bool list, struct json_object *result, char **out,
                          size_t *len)
{
	struct writer w;
	bool ok;

	*out = NULL;
	*len = 0;
	if (!json_object_is_type(result, list ? json_type_array : json_type_object))
		return -1;
	if (writer_open(&w) < 0)
		return -1;
	ok = write_value(&w, root, result, 1) == 0;
	return writer_close(&w, ok, out, len);
}

int open311_xml(enum proto_op op, struct json_object *result, char **out, size_t *len)
{
	switch (op) {
	case PROTO_OP_O311_SERVICES:
		return write_document("services", true, result, out, len);
	case PROTO_OP_O311_SERVICE:
		return write_document("service_definition", false, result, out, len);
	case PROTO_OP_O311_REQUESTS:
	case PROTO_OP_O311_REQUEST:
	case PROTO_OP_O311_POST:
		return write_document("service_requests", true, result, out, len);
	default:
		*out = NULL;
		*len = 0;
		return -1;
	}
}

int open311_xml_errors(int code, const char *desc, char **out, size_t *len)
{
	struct writer w;
	char num[16];
	bool ok;

	*out = NULL;
	*len = 0;
	if (writer_open(&w) < 0)
		return -1;
	snprintf(num, sizeof(num), "%d", code);
	ok = xmlTextWriterStartElement(w.w, XC("errors")) >= 0 &&
	     xmlTextWriterStartElement(w.w, XC("error")) >= 0 &&
	     xmlTextWriterWriteElement(w.w, XC("code"), XC(num)) >= 0 &&
	     xmlTextWriterStartElement(w.w, XC("description")) >= 0 &&
	     write_text(&w, desc ? desc : "", desc ? strlen(desc) : 0) == 0 &&
	     xmlTextWriterEndElement(w.w) >= 0 && xmlTextWriterEndElement(w.w) >= 0 &&
	     xmlTextWriterEndElement(w.w) >= 0;
	return writer_close(&w, ok, out, len);
}

int open311_xml_discovery(struct json_object *discovery, char **out, size_t *len)
{
	return write_document("discovery", false, discovery, out, len);
}
