/*
 * accounts: which sessions each account has open, for the per-account
 * session limit and for cutting off an account that an admin disables or
 * changes (each session remembers, in session.acct_revision, the account's
 * revision at login: sql/migrations/011_account_pin.sql).
 * Sessions are linked through session.acct_next; the index owns only its
 * buckets, never the sessions.  Streams that are not sessions (an HTTPS
 * event stream, http_sse.c) count against the same limit through
 * accounts_hold/accounts_release; they follow account changes themselves.
 */
#ifndef STREETD_ACCOUNTS_H
#define STREETD_ACCOUNTS_H

#include <stddef.h>

struct accounts;
struct session;

struct accounts *accounts_new(void);
void accounts_free(struct accounts *a);

/* Adds s under s->account_id; -1 on ENOMEM. */
int accounts_add(struct accounts *a, struct session *s);
void accounts_remove(struct accounts *a, struct session *s);
/* Sessions and held streams of the account. */
int accounts_count(const struct accounts *a, int account_id);

/* One more (or one fewer) stream of the account that is not a session;
 * accounts_hold returns -1 on ENOMEM. */
int accounts_hold(struct accounts *a, int account_id);
void accounts_release(struct accounts *a, int account_id);

/* Writes the connected account ids, and for each the oldest revision its
 * sessions logged in at, as two PostgreSQL array literals of the same order
 * ("{1,5,9}", "{3,1,12}") into *ids and *revisions (malloc'd, the caller frees
 * both); returns -1 on ENOMEM (both then NULL). */
int accounts_revision_arrays(const struct accounts *a, char **ids, char **revisions);

/* Closes every session of the account, telling each why. */
void accounts_close(struct accounts *a, int account_id, const char *why);

/* Closes the account's sessions that logged in at a revision older than
 * revision, telling each why; returns how many. */
int accounts_close_before(struct accounts *a, int account_id, long long revision, const char *why);

#endif
