/*
 * revoke: certificate revocation for sessions that are already open, and the
 * CRL's expiry.
 *
 * A handshake checks the client certificate once. After a reload (SIGHUP)
 * that installed a new TLS context, revoke_after_reload() verifies every
 * open session's certificate again against the new context (its CAs and
 * CRLs, now) and closes the sessions whose certificate is revoked: the
 * client gets one line (code unauthenticated) and the close; the log names
 * the account and the serial. Other failures (a CA taken out of tls.ca, a
 * certificate expired since its handshake) are logged and the session is
 * kept: a mistaken tls.ca must not cut every client off at once, and those
 * certificates are refused at their next handshake anyway.
 *
 * CRL expiry: once the nextUpdate of a CRL in tls.crl passes, OpenSSL refuses
 * every new handshake ("CRL has expired") and a reload with that CRL is
 * refused. So the daemon warns from REVOKE_CRL_WARN_DAYS days before (at
 * start, at each reload and once a day), and logs an error once it has
 * passed (at that moment too, then hourly).
 *
 * Ownership: the server owns its struct revoke (server.revoke); it borrows
 * the session hub (its sessions, current context and configuration).
 */
#ifndef STREETD_REVOKE_H
#define STREETD_REVOKE_H

#define REVOKE_CRL_WARN_DAYS 7

#include <event2/event.h>

struct session_hub;
struct revoke;

/* Checks the CRL's expiry now and arms the timer; NULL on ENOMEM. */
struct revoke *revoke_new(struct event_base *base, const struct session_hub *hub);
void revoke_free(struct revoke *r);

/* After hub->ssl_ctx was replaced: re-checks open sessions and the CRL. */
void revoke_after_reload(struct revoke *r);

#endif
