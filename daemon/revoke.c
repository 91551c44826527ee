#include "revoke.h"

#include <event2/bufferevent_ssl.h>
#include <stdio.h>
#include <stdlib.h>

#include "log.h"
#include "session.h"
#include "tls.h"

#define DAY_S  (24 * 3600)
#define HOUR_S 3600

struct revoke {
	const struct session_hub *hub; /* its sessions, current context and config */
	struct event *timer;
};

/* Logs how long the CRL has left; returns seconds until the next check. */
static long long revoke_crl_check(struct revoke *r)
{
	const char *path = r->hub->cfg->tls.crl;
	char issuer[256], when[32];
	long long left;

	if (path == NULL || path[0] == '\0' ||
	    !tls_ctx_crl_next_update(r->hub->ssl_ctx, &left, issuer, sizeof(issuer), when,
	                             sizeof(when)))
		return DAY_S;
	if (left <= 0) {
		log_err("tls.crl %s: the CRL of %s expired at %s: every new connection is refused "
		        "(CRL has expired); publish a new CRL (streetd-admin crl CA_DIR), copy it "
		        "to %s and reload streetd",
		        path, issuer, when, path);
		return HOUR_S;
	}
	if (left <= (long long)REVOKE_CRL_WARN_DAYS * DAY_S) {
		log_warn(
		        "tls.crl %s: the CRL of %s expires at %s, in %lld h: after that every new "
		        "connection is refused; publish a new CRL (streetd-admin crl CA_DIR), copy "
		        "it to %s and reload streetd",
		        path, issuer, when, left / HOUR_S, path);
	}
	/* once a day, and again the moment it expires */
	return left < DAY_S ? left + 1 : DAY_S;
}

static void revoke_arm(struct revoke *r, long long seconds)
{
	struct timeval tv = { (time_t)seconds, 0 };

	evtimer_add(r->timer, &tv);
}

static void revoke_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct revoke *r = arg;

	revoke_arm(r, revoke_crl_check(r));
}

struct revoke *revoke_new(struct event_base *base, const struct session_hub *hub)
{
	struct revoke *r = calloc(1, sizeof(*r));

	if (!r)
		return NULL;
	r->hub = hub;
	r->timer = evtimer_new(base, revoke_timer_cb, r);
	if (!r->timer) {
		free(r);
		return NULL;
	}
	revoke_arm(r, revoke_crl_check(r));
	return r;
}

void revoke_free(struct revoke *r)
{
	if (!r)
		return;
	event_free(r->timer);
	free(r);
}

void revoke_after_reload(struct revoke *r)
{
	int closed = 0;

	for (struct session *s = TAILQ_FIRST(&r->hub->sessions), *next; s; s = next) {
		SSL *ssl;
		int err;
		struct tls_pins pins;
		char msg[160];

		next = TAILQ_NEXT(s, link);
		/* handshakes under way finish on the context they started on and are
		 * checked when they authenticate; closing ones are going anyway */
		if (s->state != SESSION_AUTH && s->state != SESSION_READY)
			continue;
		ssl = bufferevent_openssl_get_ssl(s->bev);
		err = ssl ? tls_peer_recheck(r->hub->ssl_ctx, ssl) : X509_V_OK;
		if (err == X509_V_OK)
			continue;
		if (tls_peer_pins(ssl, &pins) != 0)
			snprintf(pins.serial, sizeof(pins.serial), "?");
		if (err != X509_V_ERR_CERT_REVOKED) {
			log_notice(
			        "certificate would be refused now; session kept (only revocation "
			        "closes one) session=%llu account=%s serial=%s reason=\"%s\"",
			        (unsigned long long)s->id, s->who.login[0] ? s->who.login : "-",
			        pins.serial, X509_verify_cert_error_string(err));
			continue;
		}
		log_notice("certificate no longer accepted: closing session=%llu account=%s cn=%s "
		           "serial=%s reason=\"%s\"",
		           (unsigned long long)s->id, s->who.login[0] ? s->who.login : "-", s->cn,
		           pins.serial, X509_verify_cert_error_string(err));
		snprintf(msg, sizeof(msg), "your certificate is no longer accepted: %s",
		         X509_verify_cert_error_string(err));
		session_reply_error(s, "null", PROTO_ERR_UNAUTHENTICATED, msg);
		session_close(s, msg, true);
		closed++;
	}
	if (closed > 0)
		log_notice("reload: closed sessions=%d whose certificate is revoked", closed);
	evtimer_del(r->timer);
	revoke_arm(r, revoke_crl_check(r));
}
