/*
 * thttp: one HTTPS request to the daemon's http.listen with curl, the real
 * client the HTTPS suites drive the listener with (test_daemon_http.c,
 * test_daemon_open311.c, test_daemon_metrics.c).  Files go to the daemon's
 * test directory (req.body, resp.head, resp.body).  Fails the test if curl
 * itself fails (no connection, TLS refused): an HTTP error is a status.
 */
#ifndef STREET_TEST_THTTP_H
#define STREET_TEST_THTTP_H

#include <json-c/json.h>
#include <stdbool.h>

#include "tdaemon.h"

struct thttp_req {
	int port;
	const char *host;   /* NULL: https://127.0.0.1; else https://localhost (the
	                     * certificate's name) resolved to this address */
	const char *login;  /* client certificate LOGIN.crt/.key; NULL: none */
	const char *method; /* NULL: GET */
	const char *path;
	const char *ctype;  /* Content-Type of the body; NULL: none */
	const char *origin; /* Origin header; NULL: none */
	const char *body;   /* NULL: no body */
	const char *header; /* one more request header ("Name: value"); NULL: none */
};

struct thttp_res {
	int status;
	char *head; /* the response headers as curl -D writes them */
	char *body;
	json_object *json; /* the body parsed; NULL if it is not JSON */
};

struct thttp_res thttp(struct tdaemon *d, const struct thttp_req *q);
void thttp_free(struct thttp_res *r);
bool thttp_has_header(const struct thttp_res *r, const char *line);

#endif
