/*
 * accounts: which sessions each account has open, for the per-account
 * session limit and for cutting off an account that an admin disables.
 * Sessions are linked through session.acct_next; the index owns only its
 * buckets, never the sessions.
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
int accounts_count(const struct accounts *a, int account_id);

/* Writes the connected account ids as a PostgreSQL array literal "{1,5,9}";
 * returns a malloc'd string the caller frees, NULL on ENOMEM. */
char *accounts_id_array(const struct accounts *a);

/* Closes every session of the account, telling each why. */
void accounts_close(struct accounts *a, int account_id, const char *why);

#endif
