/*
 * rpc: one request, one reply, over ctl's connection (opened on first use).
 *
 * Requests are checked here first with the daemon's own codec
 * (proto_decode), so a value out of range is a usage error (64) before
 * anything is sent, with the same wording the server would use.
 *
 * Retries: a reply "unavailable" is retried up to RPC_RETRIES times, and so
 * is a connection lost before the reply (after reconnecting) for reads and
 * for actions, which always carry an idempotency key: the retry returns the
 * first outcome instead of acting twice.  Photo uploads are not retried.
 */
#ifndef STREETCTL_RPC_H
#define STREETCTL_RPC_H

#include <json-c/json.h>

#include "ctl.h"

#define RPC_RETRIES  3
#define RPC_REPLY_MS 60000
/* "sc-" and 32 hex digits, NUL */
#define RPC_KEY_SIZE 36

/* {"op": op}: the caller adds the fields. */
json_object *rpc_new(const char *op);

/* A fresh idempotency key. */
void rpc_new_key(char key[RPC_KEY_SIZE]);

/*
 * Sends req and waits for its reply.  Returns 0 with *result (the reply's
 * result; the caller puts it), or an exit code after printing the error.
 */
int rpc_call(struct ctl *ctl, json_object *req, json_object **result);

/*
 * Same, but a refusal by the server is not printed: it is returned in
 * *error ({code, message}; the caller puts it) with its exit code.
 * Connection and usage failures are printed and *error stays NULL.
 */
int rpc_try(struct ctl *ctl, json_object *req, json_object **result, json_object **error);

/*
 * A request sent ahead, so the server works on it while the client writes
 * what it has (export's pages).  rpc_send sends req and returns its id, or 0
 * when it could not be sent.  rpc_await waits for the reply to that id and
 * takes it as rpc_call does; when nothing was sent, the connection was lost
 * or the reply is "unavailable", it sends req again through rpc_call (with
 * its retries), so req must be the request sent, kept until then.  One
 * request ahead at a time.
 */
int rpc_send(struct ctl *ctl, json_object *req);
int rpc_await(struct ctl *ctl, json_object *req, int id, json_object **result);

/*
 * rpc_await for a big result (export's pages): the result is handed over as
 * its JSON text, not parsed into a tree and, when it ends the reply (as the
 * daemon writes it), not checked either: the caller reads it with the strict
 * pull scanner (proto_scan.h), one pass over it, not two.
 *
 * *text (malloc'd, NUL-terminated; the caller frees it) and its length
 * *len.  A reply that is not strict JSON is EX_PROTOCOL after one error
 * line; the rest as rpc_await (a reply taken again through rpc_call comes
 * back as its text too).
 */
int rpc_await_text(struct ctl *ctl, json_object *req, int id, char **text, size_t *len);

/*
 * rpc_await_text with a look at the result while it arrives (conn.h,
 * conn_recv_line_peek): until peek returns true, it is called with the
 * result's first n bytes so far, once the reply to id is known to be a
 * success; not at all when the result came in one read, or the reply is a
 * refusal or is taken again.
 */
int rpc_await_text_peek(struct ctl *ctl, json_object *req, int id, char **text, size_t *len,
                        bool (*peek)(void *arg, const char *result, size_t n), void *arg);

/* Checks req locally as the server would; 0 or EX_USAGE after printing. */
int rpc_check(const struct ctl *ctl, json_object *req);

/* Opens ctl's connection if it is not open; 0 or an exit code after printing. */
int rpc_connect(struct ctl *ctl);

/* Sleeps ms milliseconds (interrupted early by a signal). */
void rpc_sleep_ms(int ms);

#endif
