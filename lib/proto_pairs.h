/*
 * proto_pairs: the second way into a struct proto_request, from name ->
 * value text pairs (an HTTP form or query string, an URL's path segment)
 * instead of a JSON line.  The same op table and the same field checks as
 * proto_decode() (proto_fields.c): each value becomes the JSON value its
 * field's type reads (a number for a number field when it is one, else the
 * text, which the check then refuses with the usual message) and goes
 * through proto_field_check().  An empty value is an absent field, as JSON
 * null is.  Pure: no I/O.
 *
 * Ownership: as proto_decode(): *req owns what params[] point into; call
 * proto_request_free() after every call.  names/values are only read.
 */
#ifndef STREETD_PROTO_PAIRS_H
#define STREETD_PROTO_PAIRS_H

#include <stddef.h>

#include "proto.h"

/*
 * Fills *req (overwritten, id "null") for op from n pairs.  Returns PROTO_OK
 * or an error code with the client's message in err: a name that is not a
 * field of op, a field given twice, a value that is not UTF-8 or holds a
 * NUL, a field check's refusal, a required field missing.
 */
int proto_decode_pairs(enum proto_op op, const char *const *names, const char *const *values,
                       size_t n, struct proto_request *req, char *err, size_t errlen);

#endif
