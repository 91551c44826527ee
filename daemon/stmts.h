/*
 * stmts: the SQL statements the main database pool prepares on every
 * connection.  Every op that calls the database is one statement calling
 * the function named in proto's op table (sql/functions/), with the
 * account's id first, the request's fields in the table's order, and
 * limits.max_photo last where the table says so; actions also get their try
 * form for group commit (sql/functions/70_try.sql).  Then the daemon's own statements.
 *
 * Ownership: one static table per process, built by stmts_init() before the
 * pool is made and released by stmts_free() after the pool is gone.
 */
#ifndef STREETD_STMTS_H
#define STREETD_STMTS_H

#include <stddef.h>

#include "proto.h"

struct db_stmt;

/* The daemon's own statements (indexes into the table). */
enum stmts_own {
	/* $1 CN, $2 issuer SPKI, $3 serial, $4 SPKI (the peer's pins) -> the
	 * account as JSON with its revision, {"refused": why} or NULL */
	STMTS_ACCOUNT_BY_CN,
	/* $1 int[] ids, $2 bigint[] revisions at login -> [[id, revision,
	 * disabled]…] of those changed since (account_watch.c) */
	STMTS_CHANGED_ACCOUNTS,
	STMTS_LOG_REPLAY, /* $1 actor, $2 after, $3 upto, $4 limit -> events */
	STMTS_LOG_HEAD,   /* -> the newest seq committed */
	/* -> (department code, open, overdue) rows (metrics_tickets.c) */
	STMTS_METRICS_TICKETS,
	STMTS_NOWN
};

/* Builds the table; -1 on ENOMEM. */
int stmts_init(void);
void stmts_free(void);
const struct db_stmt *stmts_table(size_t *n);

/* The statement of an op, -1 if the op calls no database function. */
int stmts_of_op(enum proto_op op);

#endif
