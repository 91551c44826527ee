/*
 * handlers: the request path.  A decoded request of a caller (caller.h: an
 * account and where the replies go, whatever the transport) becomes the
 * statement of its op (stmts.c), with the account's id first; the database
 * answers with the reply's "result" as JSON text, which goes to the caller
 * as it is: nothing is parsed or copied per recipient on the way (an op
 * marked sql_rows answers with rows of text, written one after the other:
 * export's pages, never one big value in the database).  subscribe
 * and unsubscribe go to subscribe.c.  A heavy read (proto_op_is_heavy_read)
 * goes to the standby when readpool_pick() offers it; one that fails there
 * for the standby's sake (connection, recovery conflict) runs once more on
 * the primary, so the reply is always one whole statement's result.
 *
 * Ownership: the requests in flight belong to handlers and sit on their
 * caller's list until answered; handlers_caller_gone() drops them (and the
 * caller's subscription) when the caller goes away.
 */
#ifndef STREETD_HANDLERS_H
#define STREETD_HANDLERS_H

#include <stddef.h>

#include "proto.h"
#include "subscribe.h"

struct caller;
struct readpool;
struct streetd_config;

/* What the request path needs; owned by the server, outlives every caller. */
struct handlers_env {
	const struct streetd_config *cfg; /* the live configuration (limits.max_photo) */
	struct subscribe_env sub;         /* the database pool, the log reader, push */
	struct readpool *read;            /* the heavy reads' standby, NULL when none */
};

/* Runs a decoded request for the caller; the reply comes later (or at once). */
void handlers_run(const struct handlers_env *env, struct caller *c,
                  const struct proto_request *req);

/* The caller is going away: its requests are dropped (no reply, no callback)
 * and its subscription ended. */
void handlers_caller_gone(const struct handlers_env *env, struct caller *c);

/* The wire error for a database error (SQLSTATE), and whether to log it. */
enum proto_error handlers_map_sqlstate(const char *sqlstate, int *log_level);

#endif
