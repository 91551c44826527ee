/*
 * http_static: the web console's files (docs/console.md) from http.web_root,
 * and Debian's Chart.js and Leaflet under /javascript/chart.js/ and
 * /javascript/leaflet/ from http.js_root.  GET and HEAD, no client
 * certificate needed (what the pages fetch through /api does need one).
 *
 * A name is served only when every segment of the path is plain ([A-Za-z0-9_-]
 * and dots, not first), its extension is on the whitelist (which decides the
 * Content-Type), it resolves (realpath) inside its root, and it is a regular
 * file of at most HTTP_STATIC_MAX_FILE bytes; anything else is 404, the
 * same answer as a missing file.  Files are read per request (they are
 * small, and an edit under web_root shows on the next load); answers carry an
 * ETag (inode, size, mtime) with Cache-Control: no-cache, so a reload is a
 * 304.
 */
#ifndef STREETD_HTTP_STATIC_H
#define STREETD_HTTP_STATIC_H

#include "http_conn.h"

#define HTTP_STATIC_MAX_FILE (4 * 1024 * 1024)

/* The catch-all route (every GET or HEAD no other route takes); "/" is
 * index.html. */
void http_static_get(struct http_conn *c, struct evhttp_request *req);

#endif
