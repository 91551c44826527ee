/* proto_ctx: see proto_ctx.h. */
#include "proto_ctx.h"

#include <stdarg.h>
#include <stdio.h>

#include "utf8.h"

int proto_fail(struct proto_ctx *c, int code, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (c->errlen == 0)
		return code;
	va_start(ap, fmt);
	n = vsnprintf(c->err, c->errlen, fmt, ap);
	va_end(ap);
	if (n < 0) {
		c->err[0] = '\0';
	} else if ((size_t)n >= c->errlen) {
		/* Do not leave half a character at the cut. */
		c->err[utf8_trim(c->err, c->errlen - 1)] = '\0';
	}
	return code;
}

char *proto_arena_alloc(struct proto_request *req, size_t n)
{
	char *p;

	if (PROTO_ARENA_SIZE - req->arena_used < n)
		return NULL;
	p = req->arena + req->arena_used;
	req->arena_used += n;
	return p;
}

const char *proto_arena_printf(struct proto_request *req, const char *fmt, ...)
{
	size_t room = PROTO_ARENA_SIZE - req->arena_used;
	char *p = req->arena + req->arena_used;
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(p, room, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= room)
		return NULL;
	req->arena_used += (size_t)n + 1;
	return p;
}
