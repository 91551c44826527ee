/*
 * http_metrics: GET /metrics (Prometheus text, metrics_text.c) for a peer on
 * loopback, or a client certificate of an admin account from anywhere; any
 * other client gets 403.  Loopback needs no certificate (the local
 * Prometheus or node agent), and is answered without a database lookup; a
 * non-loopback client is identified first (http_auth.c, once per
 * connection).
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <string.h>
#include <sys/socket.h>

#include "http.h"
#include "http_conn.h"
#include "metrics_text.h"
#include "metrics_tickets.h"
#include "role.h"

#define METRICS_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

/* 127.0.0.0/8, ::1, or 127.0.0.0/8 mapped into IPv6. */
static bool is_loopback(const struct sockaddr *sa)
{
	if (!sa)
		return false;
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)(const void *)sa;

		return (ntohl(in->sin_addr.s_addr) >> 24) == 127;
	}
	if (sa->sa_family == AF_INET6) {
		const struct in6_addr *a =
		        &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr;

		return IN6_IS_ADDR_LOOPBACK(a) ||
		       (IN6_IS_ADDR_V4MAPPED(a) && a->s6_addr[12] == 127);
	}
	return false;
}

static void serve(struct http_conn *c, struct evhttp_request *req)
{
	const char *text;
	size_t len;

	metrics_tickets_refresh(http_env_of(c)->db);
	text = metrics_text_render(&len);
	if (!text) {
		http_respond_error(c, req, PROTO_ERR_INTERNAL, "out of memory");
		return;
	}
	http_respond(c, req, 200, METRICS_CONTENT_TYPE, text, len);
}

static void after_identify(struct http_conn *c, struct evhttp_request *req)
{
	if (c->auth == HTTP_AUTH_OK && c->who.role == ROLE_ADMIN)
		serve(c, req);
	else
		http_respond_error(c, req, PROTO_ERR_FORBIDDEN,
		                   "/metrics is for loopback clients and admin accounts' "
		                   "certificates");
}

void http_metrics_get(struct http_conn *c, struct evhttp_request *req)
{
	struct evhttp_connection *evcon = evhttp_request_get_connection(req);

	if (evcon && is_loopback(evhttp_connection_get_addr(evcon)))
		serve(c, req);
	else
		http_auth_then(c, req, after_identify);
}
