/*
 * proto_fields: checks one field's value against its row of the op table
 * (struct proto_field: type and bounds) and gives its SQL text (internal to
 * the proto_* files).
 *
 * Ownership: *out points into the json-c tree the value belongs to, into
 * the request's arena, or to static storage: valid as long as the request
 * (proto_request_free() ends it).
 */
#ifndef STREETD_PROTO_FIELDS_H
#define STREETD_PROTO_FIELDS_H

#include "proto.h"
#include "proto_ctx.h"

struct json_object;

/*
 * Checks v (not JSON null) as field f; PROTO_OK with *out set, or an error
 * code with the client's message in c (see proto_fail()).
 */
int proto_field_check(struct proto_ctx *c, const struct proto_field *f, struct json_object *v,
                      const char **out);

#endif
