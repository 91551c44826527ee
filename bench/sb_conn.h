/*
 * sb_conn: one client TLS session to streetd on a bufferevent_openssl, speaking
 * line-delimited JSON.  Every complete line is parsed with json-c and handed to
 * on_msg with the time the bytes were read; on_event says when the handshake
 * completed (SB_CONN_UP) or the connection is gone (SB_CONN_DOWN, with why).
 * on_msg must not free the connection; on_event may.
 */
#ifndef STREETBENCH_SB_CONN_H
#define STREETBENCH_SB_CONN_H

#include <event2/bufferevent.h>
#include <json-c/json.h>
#include <netinet/in.h>
#include <openssl/ssl.h>
#include <stdbool.h>

enum { SB_CONN_UP = 1, SB_CONN_DOWN = 2 };

struct sb_conn;
typedef void (*sb_conn_msg_fn)(struct sb_conn *c, json_object *msg, double at);
/* Sees a line before it is parsed; returns true if it took it (then on_msg
 * does not see it).  Must not free the connection. */
typedef bool (*sb_conn_raw_fn)(struct sb_conn *c, const char *line, size_t len, double at);
typedef void (*sb_conn_event_fn)(struct sb_conn *c, int what, const char *why);
/* Takes the bytes read instead of the line splitter (HTTP answers are not
 * lines): consumes what it can of in.  Must not free the connection. */
typedef void (*sb_conn_read_fn)(struct sb_conn *c, struct evbuffer *in, double at);

struct sb_conn {
	struct bufferevent *bev;
	sb_conn_msg_fn on_msg;
	sb_conn_event_fn on_event;
	sb_conn_raw_fn on_raw;   /* optional; set after sb_conn_open() */
	sb_conn_read_fn on_read; /* optional, set after sb_conn_open(): no lines then */
	void *arg;               /* the owner's */
	int index;               /* the owner's */
	bool up;
	bool down;
};

/* Starts connecting to addr; NULL if that cannot even start. */
struct sb_conn *sb_conn_open(struct event_base *base, SSL_CTX *ctx, const struct sockaddr_in *addr,
                             sb_conn_msg_fn on_msg, sb_conn_event_fn on_event, void *arg,
                             int index);

/* Queues one request line (the newline is added). */
int sb_conn_sendf(struct sb_conn *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Queues n bytes as they are (one TLS record when nothing is queued). */
int sb_conn_write(struct sb_conn *c, const void *data, size_t n);

/* Closes the socket (no close_notify) and frees everything. */
void sb_conn_free(struct sb_conn *c);

/* Helpers for replies: a member of an object, or NULL. */
json_object *sb_json_get(json_object *o, const char *key);
/* The integer at a path of up to three keys (NULL ends it early), or -1. */
long long sb_json_int(json_object *o, const char *k1, const char *k2, const char *k3);
/* error.code of a reply, or NULL when it is not an error. */
const char *sb_json_error_code(json_object *msg);

#endif
