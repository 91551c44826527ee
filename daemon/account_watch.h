/*
 * account_watch: closes the sessions of accounts that changed since they
 * logged in: disabled, deleted, or with another role, scope, certificate CN
 * or pin (any change that bumps account.revision, see
 * sql/migrations/011_account_pin.sql). A session caches its account's scope
 * and push delivers by it, so such a session must not go on; its client gets
 * one line (code unauthenticated: "account disabled", or "your account
 * changed; reconnect") and the close, and reconnects with the new scope.
 *
 * Every 2 s it asks the database (one query in flight at a time) which of
 * the connected accounts moved on.  Ownership: the server owns the watch;
 * the watch borrows the pool, the account index and the hub.
 */
#ifndef STREETD_ACCOUNT_WATCH_H
#define STREETD_ACCOUNT_WATCH_H

#include <event2/event.h>

struct accounts;
struct db_pool;
struct session_hub;
struct account_watch;

/* Starts the timer; NULL on ENOMEM. */
struct account_watch *account_watch_new(struct event_base *base, struct db_pool *db,
                                        struct accounts *accounts, const struct session_hub *hub);
void account_watch_free(struct account_watch *w);

#endif
