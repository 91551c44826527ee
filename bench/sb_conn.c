#include "sb_conn.h"

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/bufferevent_ssl.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <stdio.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "sb_util.h"

/* One tokener for every connection of a thread (event loops are per thread). */
static _Thread_local json_tokener *sb_tok;

static void sb_conn_down(struct sb_conn *c, const char *why)
{
	if (c->down)
		return;
	c->down = true;
	c->up = false;
	if (c->bev)
		bufferevent_disable(c->bev, EV_READ | EV_WRITE);
	c->on_event(c, SB_CONN_DOWN, why);
}

static void sb_conn_parse(struct sb_conn *c, const char *line, size_t len, double at)
{
	json_object *msg;

	if (len > 0 && line[len - 1] == '\r')
		len--;
	if (len == 0 || (c->on_raw && c->on_raw(c, line, len, at)))
		return;
	if (!sb_tok && !(sb_tok = json_tokener_new_ex(16))) {
		sb_log("conn %d: out of memory", c->index);
		return;
	}
	json_tokener_reset(sb_tok);
	msg = json_tokener_parse_ex(sb_tok, line, (int)len);
	if (!msg || json_tokener_get_error(sb_tok) != json_tokener_success) {
		sb_log("conn %d: unparsable line of %zu bytes: %.80s", c->index, len, line);
		json_object_put(msg);
		return;
	}
	c->on_msg(c, msg, at);
	json_object_put(msg);
}

static void sb_conn_read_cb(struct bufferevent *bev, void *arg)
{
	struct sb_conn *c = arg;
	struct evbuffer *in = bufferevent_get_input(bev);
	double at = sb_now();

	if (c->on_read) {
		c->on_read(c, in, at);
		return;
	}
	while (!c->down) {
		size_t eol_len = 0;
		struct evbuffer_ptr p = evbuffer_search_eol(in, NULL, &eol_len, EVBUFFER_EOL_LF);
		const char *line;

		if (p.pos < 0)
			return;
		line = (const char *)evbuffer_pullup(in, p.pos + 1);
		if (!line) {
			sb_conn_down(c, "out of memory");
			return;
		}
		sb_conn_parse(c, line, (size_t)p.pos, at);
		evbuffer_drain(in, (size_t)p.pos + 1);
	}
}

static void sb_conn_event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct sb_conn *c = arg;
	char why[256];
	unsigned long e;

	if (what & BEV_EVENT_CONNECTED) {
		evutil_socket_t fd = bufferevent_getfd(bev);
		int one = 1;

		/* a benchmark client must not add Nagle's delays of its own */
		if (fd >= 0)
			setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		c->up = true;
		c->on_event(c, SB_CONN_UP, NULL);
		return;
	}
	if (what & BEV_EVENT_EOF) {
		sb_conn_down(c, c->up ? "closed by the server"
		                      : "closed before the TLS handshake completed (refused?)");
		return;
	}
	e = bufferevent_get_openssl_error(bev);
	if (e)
		ERR_error_string_n(e, why, sizeof(why));
	else
		snprintf(why, sizeof(why), "%s",
		         EVUTIL_SOCKET_ERROR()
		                 ? evutil_socket_error_to_string(EVUTIL_SOCKET_ERROR())
		                 : "connection error");
	sb_conn_down(c, why);
}

struct sb_conn *sb_conn_open(struct event_base *base, SSL_CTX *ctx, const struct sockaddr_in *addr,
                             sb_conn_msg_fn on_msg, sb_conn_event_fn on_event, void *arg, int index)
{
	struct sb_conn *c = calloc(1, sizeof(*c));
	SSL *ssl = c ? SSL_new(ctx) : NULL;

	if (!sb_tok)
		sb_tok = json_tokener_new_ex(16);
	if (!ssl || !sb_tok) {
		free(c);
		return NULL;
	}
	c->on_msg = on_msg;
	c->on_event = on_event;
	c->arg = arg;
	c->index = index;
	c->bev = bufferevent_openssl_socket_new(base, -1, ssl, BUFFEREVENT_SSL_CONNECTING,
	                                        BEV_OPT_CLOSE_ON_FREE);
	if (!c->bev) {
		free(c);
		return NULL;
	}
	bufferevent_openssl_set_allow_dirty_shutdown(c->bev, 1);
	bufferevent_setcb(c->bev, sb_conn_read_cb, NULL, sb_conn_event_cb, c);
	bufferevent_enable(c->bev, EV_READ | EV_WRITE);
	if (bufferevent_socket_connect(c->bev, (const struct sockaddr *)addr, sizeof(*addr)) != 0) {
		bufferevent_free(c->bev);
		free(c);
		return NULL;
	}
	return c;
}

int sb_conn_sendf(struct sb_conn *c, const char *fmt, ...)
{
	char line[1024];
	va_list ap;
	int n;

	if (c->down)
		return -1;
	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line) - 1, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(line) - 1)
		return -1;
	line[n++] = '\n';
	return sb_conn_write(c, line, (size_t)n);
}

int sb_conn_write(struct sb_conn *c, const void *data, size_t n)
{
	if (c->down)
		return -1;
	/* Nothing queued: straight to the connection, as streetd writes its
	 * replies (no write event armed and disarmed, no extra loop turn); only
	 * what fits one TLS record, which a retry of the bufferevent's can
	 * finish (SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER). */
	if (c->up && evbuffer_get_length(bufferevent_get_output(c->bev)) == 0 &&
	    n <= SSL3_RT_MAX_PLAIN_LENGTH) {
		int w = SSL_write(bufferevent_openssl_get_ssl(c->bev), data, (int)n);

		if (w == (int)n)
			return 0;
		ERR_clear_error();
		if (w > 0)
			return -1; /* cannot happen: partial writes are not enabled */
	}
	/* one piece: one TLS record, one segment */
	return evbuffer_add(bufferevent_get_output(c->bev), data, n) == 0 ? 0 : -1;
}

void sb_conn_free(struct sb_conn *c)
{
	if (!c)
		return;
	if (c->bev)
		bufferevent_free(c->bev); /* frees the SSL too */
	free(c);
}

json_object *sb_json_get(json_object *o, const char *key)
{
	json_object *v = NULL;

	if (!o || !json_object_is_type(o, json_type_object) ||
	    !json_object_object_get_ex(o, key, &v))
		return NULL;
	return v;
}

long long sb_json_int(json_object *o, const char *k1, const char *k2, const char *k3)
{
	const char *keys[3] = { k1, k2, k3 };

	for (int i = 0; i < 3 && keys[i]; i++)
		o = sb_json_get(o, keys[i]);
	if (!o || !json_object_is_type(o, json_type_int))
		return -1;
	return (long long)json_object_get_int64(o);
}

const char *sb_json_error_code(json_object *msg)
{
	json_object *ok = sb_json_get(msg, "ok"), *code;

	if (ok && json_object_get_boolean(ok))
		return NULL;
	code = sb_json_get(sb_json_get(msg, "error"), "code");
	return code ? json_object_get_string(code) : "unknown";
}
