/*
 * proto_ctx: the state of one proto_decode() call shared by the proto_*
 * files (internal): where the error message goes, and the request's arena
 * that the params[] of formatted numbers live in.
 *
 * Ownership: a struct proto_ctx borrows the request and the caller's error
 * buffer for the length of one proto_decode() call; it owns nothing.
 */
#ifndef STREETD_PROTO_CTX_H
#define STREETD_PROTO_CTX_H

#include <stddef.h>

#include "proto.h"

/* Longest client-supplied name (key, op) quoted back in a message, in bytes. */
#define PROTO_ECHO_MAX 40

struct proto_ctx {
	struct proto_request *req;
	char *err;     /* the message, NUL-terminated; NULL when errlen is 0 */
	size_t errlen; /* bytes at err */
};

/*
 * Formats the message for the client into c->err (cut short to whole UTF-8
 * characters) and returns code, so that "return proto_fail(...)" refuses.
 */
__attribute__((format(printf, 3, 4))) int proto_fail(struct proto_ctx *c, int code, const char *fmt,
                                                     ...);

/* n bytes of the request's arena, NULL when it is full (see PROTO_ARENA_SIZE). */
char *proto_arena_alloc(struct proto_request *req, size_t n);

/*
 * printf into the arena, NUL-terminated; NULL when it does not fit (a bug:
 * the arena is sized for the op table).
 */
__attribute__((format(printf, 2, 3))) const char *proto_arena_printf(struct proto_request *req,
                                                                     const char *fmt, ...);

#endif
