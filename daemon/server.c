#include "server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <event2/bufferevent.h>
#include <json-c/json.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <systemd/sd-daemon.h>

#include "account_watch.h"
#include "accounts.h"
#include "checkpoint.h"
#include "config_file.h"
#include "db.h"
#include "events.h"
#include "evtime.h"
#include "http.h"
#include "http_o311_cache.h"
#include "log.h"
#include "metrics.h"
#include "metrics_text.h"
#include "metrics_tickets.h"
#include "push.h"
#include "readpool.h"
#include "revoke.h"
#include "stmts.h"
#include "tls.h"

static void accept_cb(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *addr, int len,
                      void *arg)
{
	struct server *srv = arg;

	session_accept(&srv->hub, srv->ssl_ctx, fd, addr, len);
}

static void accept_error_cb(struct evconnlistener *l, void *arg)
{
	/* EMFILE and friends: keep serving who is connected; the listener retries */
	log_warn_errno("accept failed");
}

/* Socket activation: the listening socket systemd passed (streetd.socket), or
 * -1 when it passed none.  Start-up only, so fatal on anything unexpected. */
static int server_activated_fd(void)
{
	int n = sd_listen_fds(1);

	if (n == 0)
		return -1;
	if (n < 0)
		fatal_exit(EX_OSERR, "socket activation: %s", strerror(-n));
	if (n > 1)
		fatal_exit(EX_CONFIG,
		           "socket activation: systemd passed %d sockets; streetd takes one "
		           "(one ListenStream= in streetd.socket)",
		           n);
	if (sd_is_socket_inet(SD_LISTEN_FDS_START, AF_UNSPEC, SOCK_STREAM, 1, 0) <= 0)
		fatal_exit(EX_CONFIG, "socket activation: fd %d is not a listening TCP socket",
		           SD_LISTEN_FDS_START);
	return SD_LISTEN_FDS_START;
}

/* Serves the socket systemd passed instead of binding server.listen. */
static void server_listen_activated(struct server *srv, int fd)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	char host[NI_MAXHOST] = "?", port[NI_MAXSERV] = "?";

	if (getsockname(fd, (struct sockaddr *)&ss, &len) == 0)
		getnameinfo((struct sockaddr *)&ss, len, host, sizeof(host), port, sizeof(port),
		            NI_NUMERICHOST | NI_NUMERICSERV);
	if (evutil_make_socket_nonblocking(fd) != 0)
		fatal_exit(EX_OSERR, "socket activation: fd %d: %s", fd, strerror(errno));
	srv->listener = evconnlistener_new(srv->base, accept_cb, srv,
	                                   LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC, -1, fd);
	if (!srv->listener)
		fatal_exit(EX_UNAVAILABLE, "socket activation: cannot listen on fd %d: %s", fd,
		           strerror(errno));
	evconnlistener_set_error_cb(srv->listener, accept_error_cb);
	if (srv->http)
		http_listen(srv->http);
	log_notice("listening address=%s%s%s:%s on the socket passed by systemd (server.listen "
	           "%s:%d is not used)",
	           ss.ss_family == AF_INET6 ? "[" : "", host, ss.ss_family == AF_INET6 ? "]" : "",
	           port, srv->cfg.server.listen.host, srv->cfg.server.listen.port);
}

void server_listen(struct server *srv)
{
	struct addrinfo hints = { 0 }, *ai = NULL;
	char port[16];
	int rc, fd;

	if (srv->listener)
		return;
	fd = server_activated_fd();
	if (fd >= 0) {
		server_listen_activated(srv, fd);
		return;
	}
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
	snprintf(port, sizeof(port), "%d", srv->cfg.server.listen.port);
	/* start-up only: resolving "localhost" here never stalls live sessions */
	rc = getaddrinfo(srv->cfg.server.listen.host, port, &hints, &ai);
	if (rc != 0 || !ai)
		fatal_exit(EX_CONFIG, "server.listen %s:%s: %s", srv->cfg.server.listen.host, port,
		           gai_strerror(rc));
	srv->listener = evconnlistener_new_bind(srv->base, accept_cb, srv,
	                                        LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE |
	                                                LEV_OPT_CLOSE_ON_EXEC,
	                                        1024, ai->ai_addr, (int)ai->ai_addrlen);
	freeaddrinfo(ai);
	if (!srv->listener)
		fatal_exit(EX_UNAVAILABLE, "cannot listen on %s:%s: %s",
		           srv->cfg.server.listen.host, port, strerror(errno));
	evconnlistener_set_error_cb(srv->listener, accept_error_cb);
	log_notice("listening address=%s:%s", srv->cfg.server.listen.host, port);
	if (srv->http)
		http_listen(srv->http);
}

/* A session was freed: the last one ends a drain. */
static void server_session_gone(void *arg)
{
	struct server *srv = arg;

	if (srv->draining && srv->hub.nsessions == 0) {
		log_notice("drained; exiting");
		event_base_loopbreak(srv->base);
	}
}

static void drain_timeout_cb(evutil_socket_t fd, short what, void *arg)
{
	struct server *srv = arg;

	log_warn("drain timed out with sessions=%d still open; exiting", srv->hub.nsessions);
	event_base_loopbreak(srv->base);
}

void server_drain(struct server *srv)
{
	if (srv->draining)
		return;
	srv->draining = true;
	log_notice("shutting down: finishing requests in flight sessions=%d", srv->hub.nsessions);
	if (srv->listener)
		evconnlistener_disable(srv->listener);
	if (srv->http)
		http_drain(srv->http);
	session_hub_drain(&srv->hub);
	srv->ev_drain_timeout = evtimer_new(srv->base, drain_timeout_cb, srv);
	if (srv->ev_drain_timeout)
		evtime_add_ms(srv->ev_drain_timeout, srv->cfg.limits.drain_timeout_ms);
	server_session_gone(srv);
}

void server_reload(struct server *srv)
{
	struct streetd_config next;
	const char *fixed[16];
	size_t nfixed;
	SSL_CTX *ctx;
	char err[512];

	log_notice("reloading config=%s", srv->config_path);
	if (config_file_load(srv->config_path, srv->overrides, srv->noverrides, &next, err,
	                     sizeof(err)) != 0) {
		log_err("reload refused, keeping the running configuration: %s", err);
		return;
	}
	ctx = tls_server_ctx(&next, err, sizeof(err));
	if (!ctx) {
		log_err("reload refused, keeping the running configuration: %s", err);
		config_free(&next);
		return;
	}
	nfixed = config_changed_fixed(&srv->cfg, &next, fixed, 16);
	for (size_t i = 0; i < nfixed && i < 16; i++)
		log_warn("reload: %s changed, but only a restart applies it; keeping the old value",
		         fixed[i]);
	/* keep what cannot change live; take the rest */
	free(next.server.listen.host);
	next.server.listen.host = strdup(srv->cfg.server.listen.host);
	next.server.listen.port = srv->cfg.server.listen.port;
	free(next.database.conninfo);
	next.database.conninfo = strdup(srv->cfg.database.conninfo);
	next.database.pool_size = srv->cfg.database.pool_size;
	free(next.database.read_conninfo);
	next.database.read_conninfo = strdup(srv->cfg.database.read_conninfo);
	next.database.read_pool_size = srv->cfg.database.read_pool_size;
	next.http.enabled = srv->cfg.http.enabled;
	free(next.http.listen.host);
	next.http.listen.host = strdup(srv->cfg.http.listen.host);
	next.http.listen.port = srv->cfg.http.listen.port;
	if (!next.server.listen.host || !next.database.conninfo || !next.database.read_conninfo ||
	    !next.http.listen.host) {
		log_err("reload refused: out of memory");
		config_free(&next);
		SSL_CTX_free(ctx);
		return;
	}
	config_free(&srv->cfg);
	srv->cfg = next;
	/* sessions keep a reference to the context they started with */
	SSL_CTX_free(srv->ssl_ctx);
	srv->ssl_ctx = ctx;
	srv->hub.ssl_ctx = ctx;
	revoke_after_reload(srv->revoke); /* open sessions face the new CRL too */
	log_set_level((int)srv->cfg.log.level);
	db_pool_set_timeouts(srv->db, srv->cfg.database.connect_timeout_ms,
	                     srv->cfg.database.statement_timeout_ms,
	                     srv->cfg.database.reconnect_max_ms);
	session_hub_apply_limits(&srv->hub);
	if (srv->http) {
		http_apply_limits(srv->http);
		http_after_reload(srv->http); /* and its connections, streams */
	}
	log_notice("reloaded");
}

/* /readyz: what maybe_listen waits for (main.c). */
static bool server_ready(void *arg)
{
	struct server *srv = arg;

	return !srv->draining && db_pool_ready(srv->db) > 0 && events_running(srv->events);
}

/* Open311's cached answers follow the catalogue (http_o311_cache.h). */
static void catalog_changed(void *arg)
{
	(void)arg;
	o311_cache_invalidate();
}

int server_init(struct server *srv, void (*on_db_state)(void *srv, int ready, int size),
                void (*on_events_running)(void *srv))
{
	struct db_pool_config dbc = db_pool_config_of(&srv->cfg);
	const struct db_stmt *stmts;
	size_t nstmts;

	dbc.max_queue = 10000;
	dbc.pipeline_depth = 64;
	stmts = stmts_table(&nstmts);
	srv->db = db_pool_new(srv->base, &dbc, stmts, nstmts, on_db_state, srv);
	srv->accounts = accounts_new();
	srv->push = push_new();
	if (!srv->db || !srv->accounts || !srv->push)
		return -1;
	/* the heavy reads' standby, if any (restart-only: see server_reload) */
	if (srv->cfg.database.read_conninfo[0] &&
	    !(srv->read = readpool_new(srv->base, &srv->cfg, stmts, nstmts)))
		return -1;
	srv->events = events_new(srv->base, &srv->cfg, srv->push, on_events_running, srv);
	if (!srv->events)
		return -1;
	srv->env = (struct handlers_env){
		.cfg = &srv->cfg,
		.sub = { .db = srv->db, .events = srv->events, .push = srv->push },
		.read = srv->read,
	};
	srv->wire = (struct wire){ .accounts = srv->accounts, .env = &srv->env };
	if (session_hub_init(&srv->hub, srv->base, &srv->cfg, srv->db, &wire_proto, &srv->wire,
	                     server_session_gone, srv) != 0)
		return -1;
	srv->hub.ssl_ctx = srv->ssl_ctx;
	srv->account_watch = account_watch_new(srv->base, srv->db, srv->accounts, &srv->hub);
	srv->revoke = revoke_new(srv->base, &srv->hub);
	srv->checkpoint = checkpoint_new(srv->base, &srv->cfg, srv->events, &srv->ssl_ctx);
	if (!srv->account_watch || !srv->revoke || !srv->checkpoint)
		return -1;
	if (srv->cfg.http.enabled) {
		const struct http_env he = {
			.cfg = &srv->cfg,
			.ssl_ctx = &srv->ssl_ctx,
			.db = srv->db,
			.accounts = srv->accounts,
			.handlers = &srv->env,
			.ready = server_ready,
			.ready_arg = srv,
		};

		if (!(srv->http = http_new(srv->base, &he)))
			return -1;
		events_on_catalog(srv->events, catalog_changed, NULL);
	}
	metrics_attach(&(struct metrics_sources){
	        .hub = &srv->hub, .db = srv->db, .events = srv->events, .http = srv->http });
	return 0;
}

void server_free(struct server *srv)
{
	metrics_attach(&(struct metrics_sources){ 0 });
	metrics_text_free();
	metrics_tickets_free();
	http_free(srv->http);
	session_hub_free(&srv->hub);
	if (srv->listener)
		evconnlistener_free(srv->listener);
	account_watch_free(srv->account_watch);
	checkpoint_free(srv->checkpoint);
	if (srv->ev_drain_timeout)
		event_free(srv->ev_drain_timeout);
	revoke_free(srv->revoke);
	accounts_free(srv->accounts);
	events_free(srv->events);
	push_free(srv->push);
	readpool_free(srv->read);
	db_pool_free(srv->db);
	SSL_CTX_free(srv->ssl_ctx);
	config_free(&srv->cfg);
}
