/*
 * conn: one blocking-style TLS connection to streetd, line in, line out.
 *
 * The socket is non-blocking and every wait is a poll() with a deadline,
 * so a dead server or network never hangs the client, and a signal (Ctrl-C
 * in watch) interrupts a wait.  Mutual TLS through daemon/tls.c's
 * tls_client_ctx() and tls_client_set_host(), so the client checks the
 * server exactly as the tests and the daemon's docs say.
 */
#ifndef STREETCTL_CONN_H
#define STREETCTL_CONN_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>

#include "ctl.h"

/* Connect + handshake deadline, and how long a request may wait for its reply. */
#define CONN_CONNECT_MS 10000
#define CONN_SEND_MS    10000

/*
 * Connects and completes the TLS handshake.  Returns 0 with *out, or an
 * exit code after printing why: EX_UNAVAILABLE when nothing listens or the
 * address does not resolve, EX_NOPERM when the server refuses the client
 * certificate, EX_IOERR for other TLS or I/O failures, EX_CONFIG for
 * unusable certificate files.  quiet: print nothing (watch retries).
 */
int conn_open(const struct ctl_settings *s, struct conn **out, bool quiet);

/* Why the last conn_open() failed (empty before any failure). */
const char *conn_open_error(void);

void conn_close(struct conn *c);

/* Sends line and a "\n".  0, or -1 when the connection failed (conn_error). */
int conn_send(struct conn *c, const char *line);

/*
 * The next line from the server as a JSON object (the caller owns *msg).
 * Returns 1; 0 on timeout or when a signal interrupted the wait; -1 when
 * the connection is closed or failed, or the line is not a JSON object.
 */
int conn_recv(struct conn *c, int timeout_ms, json_object **msg);

/*
 * The next line from the server as it came, without its end of line: *line
 * (malloc'd, NUL-terminated; the caller frees it) and its length *len.
 * Returns as conn_recv does, without checking that the line is JSON.
 */
int conn_recv_line(struct conn *c, int timeout_ms, char **line, size_t *len);

/*
 * conn_recv_line with a look at the line while it arrives: until peek
 * returns true, it is called with the line's first n bytes received so far
 * (n grows; the end of line not among them) after each read that did not
 * complete the line.  So a client can act on a big reply's head before its
 * tail is in (export asks for the next page).
 */
typedef bool (*conn_peek_fn)(void *arg, const char *buf, size_t n);
int conn_recv_line_peek(struct conn *c, int timeout_ms, char **line, size_t *len, conn_peek_fn peek,
                        void *arg);

/* Why the last call failed ("the server closed the connection"). */
const char *conn_error(const struct conn *c);

/* The exit code that failure deserves (EX_IOERR, or EX_NOPERM for a refused certificate). */
int conn_error_exit(const struct conn *c);

#endif
