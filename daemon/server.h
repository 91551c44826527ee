/*
 * server: the daemon-wide state shared by the listener, the sessions and the
 * request handlers.  One per process, owned by main.c.
 */
#ifndef STREETD_SERVER_H
#define STREETD_SERVER_H

#include <event2/event.h>
#include <event2/listener.h>
#include <openssl/ssl.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/queue.h>

#include "config.h"

struct db_pool;
struct session;
struct accounts;
struct push;
struct events;
struct revoke;

TAILQ_HEAD(session_list, session);

struct server {
	struct event_base *base;
	struct streetd_config cfg; /* the live configuration; SIGHUP replaces reloadable keys */
	const char *config_path;
	char *const *overrides; /* --set key=value, applied again on reload */
	int noverrides;
	SSL_CTX *ssl_ctx; /* new connections use the current one; SIGHUP swaps it */
	struct db_pool *db;
	struct evconnlistener *listener;
	struct session_list sessions; /* every session, oldest first */
	struct session_list reaped;   /* closed, to be freed at the next safe point */
	struct event *ev_reap;
	struct accounts *accounts;
	struct push *push;     /* subscriptions and fan-out */
	struct events *events; /* the log reader, doorbell and deadline sweeper */
	struct revoke *revoke; /* re-checks certificates at reload, watches the CRL's expiry */
	void (*on_events_running)(struct server *srv); /* the reader has its start position */
	struct event *ev_account_check;
	bool account_check_busy;
	int nsessions;
	int nhandshakes; /* sessions in SESSION_HANDSHAKE */
	uint64_t next_session_id;
	bool draining;
	struct event *ev_drain_timeout;
	int exit_code;
};

/* Sets up the lists, the reap event and the account check; -1 on ENOMEM. */
int server_init(struct server *srv);

/* Closes everything the server holds (at exit). */
void server_free(struct server *srv);

/* Opens the listener once the database is reachable; fatal only at start-up. */
void server_listen(struct server *srv);

/* SIGTERM: stop accepting, finish what is in flight (within limits.drain_timeout),
 * close every session, then leave the loop. */
void server_drain(struct server *srv);

/* SIGHUP: read the config file again and apply what may change live. */
void server_reload(struct server *srv);

/* Called by session.c when a session is gone, to end a drain. */
void server_session_gone(struct server *srv);

#endif
