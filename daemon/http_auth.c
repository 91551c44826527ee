/*
 * http_auth: who an HTTPS client is.  A connection with no client
 * certificate is anonymous (public endpoints only); one with a certificate
 * is looked up once, by the socket protocol's rule (its CN names the
 * account; pins, disabled accounts and a CRL swapped in by a reload as in
 * session.c), and keeps that identity for its life, which keep-alive bounds
 * (http.keepalive_timeout).  Requests that arrive during the lookup wait.
 */
#include <stdlib.h>
#include <string.h>

#include <event2/bufferevent_ssl.h>

#include "account_login.h"
#include "db.h"
#include "http.h"
#include "http_conn.h"
#include "log.h"
#include "stmts.h"

struct http_wait {
	TAILQ_ENTRY(http_wait) link;
	struct evhttp_request *req;
	http_route_fn fn;
};

static void refuse(struct http_conn *c, enum proto_error code, const char *msg)
{
	char q[300], qcn[160];

	c->auth = HTTP_AUTH_REFUSED;
	c->refusal_code = code;
	snprintf(c->refusal, sizeof(c->refusal), "%s", msg);
	log_notice("http client refused conn=%llu peer=%s cn=%s reason=%s",
	           (unsigned long long)c->id, c->peer, log_quote(qcn, sizeof(qcn), c->cn),
	           log_quote(q, sizeof(q), msg));
}

/* Runs the waiting requests now that the identity is known. */
static void release_waiting(struct http_conn *c)
{
	struct http_wait *w;

	while (!c->closed && (w = TAILQ_FIRST(&c->waiting))) {
		TAILQ_REMOVE(&c->waiting, w, link);
		w->fn(c, w->req);
		free(w);
	}
}

static void lookup_done(void *arg, enum db_status st, const PGresult *res)
{
	struct http_conn *c = arg;
	SSL *ssl = bufferevent_openssl_get_ssl(c->bev);
	char msg[200];
	enum proto_error code;

	c->auth_query = NULL;
	if (st != DB_OK) {
		/* not a verdict on the client: the next request tries again */
		struct http_wait *w;

		c->auth = HTTP_AUTH_UNKNOWN;
		while ((w = TAILQ_FIRST(&c->waiting))) {
			TAILQ_REMOVE(&c->waiting, w, link);
			http_respond_error(c, w->req, PROTO_ERR_UNAVAILABLE,
			                   "the database is unavailable; try again");
			free(w);
		}
		return;
	}
	code = account_login_record(&c->who, c->cn, ssl, res, msg, sizeof(msg));
	if (code != PROTO_OK)
		refuse(c, code, msg);
	else {
		c->auth = HTTP_AUTH_OK;
		log_info("http client authenticated conn=%llu account=%s role=%s peer=%s",
		         (unsigned long long)c->id, c->who.login, role_name(c->who.role), c->peer);
	}
	release_waiting(c);
}

/* Starts finding out who the client is; sets c->auth. */
static void identify(struct http_conn *c)
{
	SSL *ssl = bufferevent_openssl_get_ssl(c->bev);
	SSL_CTX *live = *http_env_of(c)->ssl_ctx;
	struct tls_pins pins;
	const char *params[4];

	if (!SSL_get0_peer_certificate(ssl)) {
		c->auth = HTTP_AUTH_NONE;
		return;
	}
	if (tls_peer_cn(ssl, c->cn, sizeof(c->cn)) != 0) {
		char msg[160];

		snprintf(msg, sizeof(msg), "the client certificate has no usable common name: %s",
		         tls_verify_error(ssl));
		refuse(c, PROTO_ERR_UNAUTHENTICATED, msg);
		return;
	}
	/* begun before a reload: held to the new CRL too (revoke.h) */
	if (SSL_get_SSL_CTX(ssl) != live &&
	    tls_peer_recheck(live, ssl) == X509_V_ERR_CERT_REVOKED) {
		refuse(c, PROTO_ERR_UNAUTHENTICATED, "certificate revoked");
		return;
	}
	if (tls_peer_pins(ssl, &pins) != 0) {
		refuse(c, PROTO_ERR_UNAUTHENTICATED, "unreadable client certificate");
		return;
	}
	account_login_params(c->cn, &pins, params);
	c->auth = HTTP_AUTH_LOOKUP;
	c->auth_query =
	        db_query(http_env_of(c)->db, STMTS_ACCOUNT_BY_CN, 4, params, lookup_done, c);
	if (!c->auth_query)
		refuse(c, PROTO_ERR_INTERNAL, "out of memory");
}

void http_auth_then(struct http_conn *c, struct evhttp_request *req, http_route_fn fn)
{
	struct http_wait *w;

	if (c->auth == HTTP_AUTH_UNKNOWN)
		identify(c);
	if (c->auth != HTTP_AUTH_LOOKUP) {
		fn(c, req);
		return;
	}
	w = calloc(1, sizeof(*w));
	if (!w) {
		http_respond_error(c, req, PROTO_ERR_INTERNAL, "out of memory");
		return;
	}
	w->req = req;
	w->fn = fn;
	TAILQ_INSERT_TAIL(&c->waiting, w, link);
}

bool http_auth_revoked(struct http_conn *c)
{
	SSL *ssl;

	/* anonymous, refused already, or still being looked up (the lookup
	 * rechecks against the live context itself) */
	if (c->auth != HTTP_AUTH_OK || c->closed)
		return false;
	ssl = bufferevent_openssl_get_ssl(c->bev);
	if (!ssl || tls_peer_recheck(*http_env_of(c)->ssl_ctx, ssl) != X509_V_ERR_CERT_REVOKED)
		return false;
	refuse(c, PROTO_ERR_UNAUTHENTICATED, "certificate revoked");
	return true;
}

bool http_auth_require(struct http_conn *c, struct evhttp_request *req)
{
	if (c->auth == HTTP_AUTH_NONE) {
		http_respond_error(c, req, PROTO_ERR_UNAUTHENTICATED,
		                   "a client certificate that maps to an account is required");
		return false;
	}
	if (c->auth != HTTP_AUTH_OK) {
		http_respond_error(c, req, c->refusal_code, c->refusal);
		return false;
	}
	return true;
}

void http_auth_closed(struct http_conn *c)
{
	struct http_wait *w;

	if (c->auth_query) {
		db_query_cancel(c->auth_query);
		c->auth_query = NULL;
	}
	while ((w = TAILQ_FIRST(&c->waiting))) {
		TAILQ_REMOVE(&c->waiting, w, link);
		http_request_abandon(w->req);
		free(w);
	}
}
