/*
 * sb_http: the little of HTTP/1.1 that streetbench's HTTPS clients need: a
 * response taken whole off an input buffer (status line, headers, a body of
 * Content-Length bytes: what evhttp sends for every whole answer), and the
 * status line alone (for streams, whose body never ends).
 */
#ifndef STREETBENCH_SB_HTTP_H
#define STREETBENCH_SB_HTTP_H

#include <event2/buffer.h>

/* Takes one whole response off the front of in and returns 1 with its status
 * in *status; 0 (in untouched) until all of it has arrived; -1 when it is not
 * an HTTP/1.x response with a Content-Length (in untouched). */
int sb_http_take(struct evbuffer *in, int *status);

/* The status of the response whose status line starts in, once that line
 * has arrived (nothing is drained); 0 before; -1 if it is not HTTP/1.x. */
int sb_http_status(struct evbuffer *in);

#endif
