/*
 * wire: what a line on a TLS session means (docs/protocol.md): each line is
 * one request, decoded by proto and run by the request path (handlers.c) for
 * the session's account, its replies written back as lines.  Also the
 * session-level rules of the protocol: max_inflight, the per-account session
 * limit, and the account index (accounts.c) that a disabled account's
 * sessions are found through.
 *
 * Ownership: the server owns the struct wire and passes it as the hub's
 * proto_arg; each ready session gets a caller (s->data) that lives until the
 * session is freed, after handlers_caller_gone() at its close.
 */
#ifndef STREETD_WIRE_H
#define STREETD_WIRE_H

#include "session.h"

struct accounts;
struct handlers_env;

struct wire {
	struct accounts *accounts;
	const struct handlers_env *env;
};

/* The session_proto of request lines; the hub's proto_arg is a struct wire. */
extern const struct session_proto wire_proto;

#endif
