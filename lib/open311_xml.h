/*
 * open311_xml: the XML form of Open311 GeoReport v2 (docs/open311.md).  The
 * HTTP layer runs an Open311 op like any other (its SQL returns the spec's
 * JSON) and, for a ".xml" URL, hands the parsed result here.  Pure: no I/O;
 * libxml2's xmlTextWriter writes into memory and escapes every text, so a
 * description holding "<script>", "]]>" or "&" comes out as text.
 *
 * Characters XML 1.0 cannot carry (U+0000..U+001F except tab, line feed and
 * carriage return, U+FFFE, U+FFFF) are replaced by U+FFFD, as are bytes that
 * are not UTF-8 (the request path never lets either in; this is the writer's
 * own guarantee): the reader sees that something was there.
 *
 * Ownership: *out is malloc()ed, NUL-terminated (*len excludes the NUL), and
 * the caller free()s it.  On failure *out is NULL and *len 0; the input is
 * only read.
 */
#ifndef STREETD_OPEN311_XML_H
#define STREETD_OPEN311_XML_H

#include <stddef.h>

#include "proto.h"

struct json_object;

/*
 * The spec's document for the result of op:
 *   o311_services                         <services><service>…
 *   o311_service                          <service_definition>…<attributes><attribute>…
 *                                         <values><value><key/><name/>
 *   o311_requests, o311_request, o311_post <service_requests><request>…
 * An object's members become elements in their order, an array's items
 * elements named for it (attributes/attribute, values/value, requests and
 * services by the op, endpoints/endpoint, formats/format), null an empty
 * element, booleans true/false, numbers as JSON writes them.
 * Returns 0, or -1: another op, a result of the wrong shape (not an array
 * where the spec has a list, a member name that is not an XML name, nesting
 * deeper than 8), or out of memory.
 */
int open311_xml(enum proto_op op, struct json_object *result, char **out, size_t *len);

/*
 * <errors><error><code>CODE</code><description>DESC</description></error>
 * </errors>: code is the HTTP status the spec gives the error (400, 403,
 * 404...), desc the message (NULL: empty).  Returns 0 or -1 (out of memory).
 */
int open311_xml_errors(int code, const char *desc, char **out, size_t *len);

/*
 * <discovery> from a JSON object {changeset, contact, key_service,
 * endpoints: [{specification, url, changeset, type, formats: [...]}]}: the
 * discovery document is data (the HTTP layer's), written like a result.
 */
int open311_xml_discovery(struct json_object *discovery, char **out, size_t *len);

#endif
