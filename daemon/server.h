/*
 * server: the daemon-wide state: the configuration, the listener, the
 * database pool, the log reader, push, the sessions (their hub) and what the
 * request path needs; drain, reload and the disabled-account check.  One per
 * process, owned by main.c; every object it points to is its own.
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
#include "db.h"
#include "handlers.h"
#include "session.h"
#include "wire.h"

struct accounts;
struct push;
struct events;
struct revoke;
struct account_watch;
struct checkpoint;
struct http_server;
struct readpool;

struct server {
	struct event_base *base;
	struct streetd_config cfg; /* the live configuration; SIGHUP replaces reloadable keys */
	const char *config_path;
	char *const *overrides; /* --set key=value, applied again on reload */
	int noverrides;
	SSL_CTX *ssl_ctx; /* new connections use the current one; SIGHUP swaps it */
	struct db_pool *db;
	struct readpool *read; /* the heavy reads' standby; NULL when none is configured */
	struct evconnlistener *listener;
	struct session_hub hub; /* every session */
	struct accounts *accounts;
	struct push *push;     /* subscriptions and fan-out */
	struct events *events; /* the log reader, doorbell and deadline sweeper */
	struct revoke *revoke; /* re-checks certificates at reload, watches the CRL's expiry */
	struct handlers_env env;
	struct wire wire;
	struct account_watch *account_watch; /* closes sessions of changed accounts */
	struct checkpoint *checkpoint;       /* signs the event chain's checkpoints (leader) */
	struct http_server *http;            /* the HTTPS listener, when http.enabled */
	bool draining;
	struct event *ev_drain_timeout;
	int exit_code;
};

/* Makes everything but the listener (srv->base and srv->cfg set): the
 * database pool (on_db_state is its state callback, with srv), the log
 * reader (on_events_running(srv) once it knows where the log stands), push,
 * the session hub and the account check.  -1 on ENOMEM. */
int server_init(struct server *srv, void (*on_db_state)(void *srv, int ready, int size),
                void (*on_events_running)(void *srv));

/* Closes everything the server holds (at exit). */
void server_free(struct server *srv);

/* Opens the listener once the database is reachable; fatal only at start-up. */
void server_listen(struct server *srv);

/* SIGTERM: stop accepting, finish what is in flight (within limits.drain_timeout),
 * close every session, then leave the loop. */
void server_drain(struct server *srv);

/* SIGHUP: read the config file again and apply what may change live. */
void server_reload(struct server *srv);

#endif
