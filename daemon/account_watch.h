/*
 * account_watch: closes the sessions of accounts that changed since they
 * logged in: disabled, deleted, or with another role, scope, certificate CN
 * or pin (any change that bumps account.revision, see
 * sql/migrations/011_account_pin.sql). A session caches its account's scope
 * and push delivers by it, so such a session must not go on; its client gets
 * one line (code unauthenticated: "account disabled", or "your account
 * changed; reconnect") and the close, and reconnects with the new scope.
 *
 * The server's account-check timer (every 2 s) calls account_watch_tick();
 * one query is in flight at a time (server.account_check_busy).
 */
#ifndef STREETD_ACCOUNT_WATCH_H
#define STREETD_ACCOUNT_WATCH_H

struct server;

void account_watch_tick(struct server *srv);

#endif
