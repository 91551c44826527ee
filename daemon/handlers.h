/*
 * handlers: every operation of the protocol is one prepared statement that
 * calls one database function (sql/migrations/004-006) with the account's id
 * first and the request's fields in the protocol's order.  The database
 * answers with the reply's "result" as JSON text, which goes to the client
 * as it is: nothing is parsed or copied per recipient on the way.
 */
#ifndef STREETD_HANDLERS_H
#define STREETD_HANDLERS_H

#include <stddef.h>
#include <sys/queue.h>
#include <time.h>

#include "proto.h"

struct session;
struct db_query;
struct db_stmt;

/* One request in flight, owned by its session's list until it completes.  A
 * session has one request at a time in the database (s->db_running); the
 * others wait in its queue (wait_link), in order, their query made but not
 * submitted. */
struct request {
	LIST_ENTRY(request) link;
	TAILQ_ENTRY(request) wait_link;
	struct session *s;
	struct db_query *q;
	enum proto_op op;
	struct timespec started;
	char id[PROTO_ID_JSON_MAX];
};

/* Builds the statement table; -1 on ENOMEM.  handlers_free() releases it. */
int handlers_init(void);
void handlers_free(void);
const struct db_stmt *handlers_statements(size_t *n);

/* The statements the daemon itself uses. */
int handlers_stmt_account_by_cn(void);
int handlers_stmt_changed_accounts(void);
int handlers_stmt_log_replay(void);

/* Runs a decoded request for the session's account; the reply comes later. */
void handlers_run(struct session *s, const struct proto_request *req);

/* Drops a request whose session is closing: no reply, no callback. */
void handlers_cancel(struct request *r);

/* The wire error for a database error (SQLSTATE), and whether to log it. */
enum proto_error handlers_map_sqlstate(const char *sqlstate, int *log_level);

#endif
