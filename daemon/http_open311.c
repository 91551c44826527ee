/*
 * http_open311: Open311 GeoReport v2 over HTTPS (docs/open311.md,
 * "Endpoints"), under /open311/v2/:
 *
 *   GET  discovery.{json,xml}            the endpoint and its formats (data here)
 *   GET  services.{fmt}                  o311_services
 *   GET  services/{service_code}.{fmt}   o311_service
 *   GET  requests.{fmt}?filters          o311_requests
 *   GET  requests/{id}.{fmt}             o311_request
 *   POST requests.{fmt} (form-encoded)   o311_post
 *
 * Each URL becomes its op's request (proto_decode_pairs: the op table's
 * field checks, as for a JSON line) and runs through handlers_run() as the
 * anonymous caller (account 0: the ops are public; a post acts as its
 * api_key's account inside SQL).  The answer is the op's JSON result as it
 * is, or open311_xml() of it; an error is the spec's error list with the
 * HTTP status of its code.
 *
 * Failed api_keys are rate-limited (a flood of guesses): per client address
 * (IPv6 by /64) and per key, token buckets of RATE_BURST refilled at
 * RATE_PER_MINUTE, in fixed tables of RATE_SLOTS entries; an empty bucket
 * is answered 429 with Retry-After before the database is asked.
 */
#include <arpa/inet.h>
#include <json-c/json.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include "caller.h"
#include "config.h"
#include "evtime.h"
#include "handlers.h"
#include "http.h"
#include "http_conn.h"
#include "http_form.h"
#include "log.h"
#include "open311_xml.h"
#include "proto_pairs.h"
#include "ratelimit.h"
#include "utf8.h"

#define O311_BASE "/open311/v2/"

/* Failed api_key posts: 10 a minute, in bursts of 10, per address and per key. */
#define RATE_BURST      10.0
#define RATE_PER_MINUTE 10.0
#define RATE_SLOTS      4096

/* The discovery document's changeset: when the endpoint list last changed. */
#define O311_CHANGESET "2026-01-15T00:00:00+08:00"

struct http_o311_call {
	struct caller c; /* first: the request path's view */
	LIST_ENTRY(http_o311_call) link;
	struct http_conn *conn;
	struct evhttp_request *req;
	enum proto_op op;
	bool xml;
	bool started; /* handlers_run took it: request_done ends it */
	bool post;    /* a refused key charges the buckets */
	unsigned char key_id[RATELIMIT_KEY], addr_id[RATELIMIT_KEY];
	struct event *hold; /* a 429 held back (hold_cb), or NULL */
	int retry_after;    /* its Retry-After, seconds */
};

/* Who the public ops run as: nobody (account 0). */
static const struct identity anonymous = { .account_id = 0, .login = "" };

static struct ratelimit *by_addr, *by_key;
static unsigned char addr_salt[32];

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static bool limits_ready(void)
{
	if (by_addr && by_key)
		return true;
	if (RAND_bytes(addr_salt, sizeof(addr_salt)) != 1)
		return false;
	by_addr = by_addr ? by_addr : ratelimit_new(RATE_SLOTS, RATE_BURST, RATE_PER_MINUTE / 60);
	by_key = by_key ? by_key : ratelimit_new(RATE_SLOTS, RATE_BURST, RATE_PER_MINUTE / 60);
	return by_addr && by_key;
}

static void sha256(const void *a, size_t alen, const void *b, size_t blen,
                   unsigned char out[RATELIMIT_KEY])
{
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	unsigned int n = 0;

	if (!md || EVP_DigestInit_ex(md, EVP_sha256(), NULL) != 1 ||
	    EVP_DigestUpdate(md, a, alen) != 1 || EVP_DigestUpdate(md, b, blen) != 1 ||
	    EVP_DigestFinal_ex(md, out, &n) != 1)
		memset(out, 0, RATELIMIT_KEY); /* out of memory: one shared bucket */
	EVP_MD_CTX_free(md);
}

/* The client's address ("addr:port" in c->peer) as a bucket key: salted, so
 * that no client can aim at a set of the table; IPv6 by its /64, which one
 * host usually holds whole. */
static void addr_key(const struct http_conn *c, unsigned char out[RATELIMIT_KEY])
{
	char host[sizeof(c->peer)];
	unsigned char bin[17] = { 0 };
	char *colon;

	snprintf(host, sizeof(host), "%s", c->peer);
	colon = strrchr(host, ':');
	if (colon)
		*colon = '\0';
	if (inet_pton(AF_INET, host, bin + 1) == 1) {
		bin[0] = 4;
	} else if (inet_pton(AF_INET6, host, bin + 1) == 1) {
		bin[0] = 6;
		memset(bin + 9, 0, 8);
	}
	sha256(addr_salt, sizeof(addr_salt), bin, sizeof(bin), out);
}

void http_open311_shutdown(void)
{
	ratelimit_free(by_addr);
	ratelimit_free(by_key);
	by_addr = by_key = NULL;
}

/* ---------------------------------------------------------------- answers */

static const char *ctype_of(bool xml)
{
	return xml ? "text/xml; charset=utf-8" : "application/json; charset=utf-8";
}

/* The spec's error list, [{"code":404,"description":"…"}] or <errors>. */
static void respond_error(struct http_conn *c, struct evhttp_request *req, bool xml, int status,
                          const char *msg)
{
	char *out = NULL;
	size_t len = 0;

	if (xml) {
		if (open311_xml_errors(status, msg, &out, &len) != 0)
			out = NULL;
	} else {
		struct json_object *a = json_object_new_array(), *e = json_object_new_object();

		if (a && e && json_object_array_add(a, e) == 0) {
			const char *s;

			json_object_object_add(e, "code", json_object_new_int(status));
			json_object_object_add(e, "description",
			                       json_object_new_string(msg ? msg : ""));
			s = json_object_to_json_string_ext(
			        a, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
			out = s ? strdup(s) : NULL;
			len = out ? strlen(out) : 0;
			e = NULL;
		}
		json_object_put(e);
		json_object_put(a);
	}
	if (!out) {
		http_respond(c, req, 500, "text/plain; charset=utf-8", "out of memory\n", 14);
		return;
	}
	http_respond(c, req, status, ctype_of(xml), out, len);
	free(out);
}

/* A JSON document as the format asks: as it is, or the op's XML. */
static void respond_doc(struct http_conn *c, struct evhttp_request *req, bool xml, enum proto_op op,
                        const char *json, size_t len)
{
	struct json_object *o;
	char *out = NULL;
	size_t n = 0;
	int rc;

	if (!xml) {
		http_respond(c, req, 200, ctype_of(false), json, len);
		return;
	}
	o = json_tokener_parse(json);
	rc = op == PROTO_OP_NONE ? open311_xml_discovery(o, &out, &n)
	                         : open311_xml(op, o, &out, &n);
	json_object_put(o);
	if (rc != 0) {
		log_err("open311: cannot write the XML of %s", proto_op_name(op));
		respond_error(c, req, true, 500, "the answer cannot be written as XML");
		return;
	}
	http_respond(c, req, 200, ctype_of(true), out, n);
	free(out);
}

/* ---------------------------------------------------------------- the caller */

static struct http_o311_call *call_of(struct caller *c)
{
	return (struct http_o311_call *)(void *)c;
}

static void call_free(struct http_o311_call *k)
{
	LIST_REMOVE(k, link);
	if (k->hold)
		event_free(k->hold);
	free(k);
}

static void call_answered(struct http_o311_call *k)
{
	k->req = NULL;
	if (!k->started)
		call_free(k); /* answered at once: handlers_run holds nothing of it */
}

static void op_reply_ok(struct caller *c, const char *id, const char *result, size_t len)
{
	struct http_o311_call *k = call_of(c);

	(void)id;
	respond_doc(k->conn, k->req, k->xml, k->op, result, len);
	call_answered(k);
}

static void op_reply_error(struct caller *c, const char *id, enum proto_error code, const char *msg)
{
	struct http_o311_call *k = call_of(c);

	(void)id;
	if (k->post && code == PROTO_ERR_FORBIDDEN) {
		double t = now_s();

		ratelimit_charge(by_addr, k->addr_id, t);
		ratelimit_charge(by_key, k->key_id, t);
	}
	respond_error(k->conn, k->req, k->xml, http_status_of(code), msg);
	call_answered(k);
}

static void op_close(struct caller *c, const char *reason)
{
	(void)c, (void)reason; /* a one-shot call has no stream to end */
}

static void op_request_started(struct caller *c)
{
	call_of(c)->started = true;
}

static void op_request_done(struct caller *c)
{
	call_free(call_of(c));
}

static const struct caller_ops o311_caller_ops = {
	.reply_ok = op_reply_ok,
	.reply_error = op_reply_error,
	.push = NULL,
	.close = op_close,
	.request_started = op_request_started,
	.request_done = op_request_done,
};

/* How long a 429 is held back before it is sent.  Answered at once, a flood
 * of bad keys gets its refusals as fast as the loop can write them (64
 * connections took ~14,000 a second from the one event loop, and the
 * well-behaved clients' p99 went 3.5-fold); held, each flooding connection
 * gets one a second, and waits like the client it is. */
#define HOLD_429_MS 1000

static void hold_cb(evutil_socket_t fd, short what, void *arg)
{
	struct http_o311_call *k = arg;
	char secs[16];

	(void)fd, (void)what;
	snprintf(secs, sizeof(secs), "%d", k->retry_after);
	evhttp_add_header(evhttp_request_get_output_headers(k->req), "Retry-After", secs);
	respond_error(k->conn, k->req, k->xml, 429,
	              "too many requests with a bad api_key: retry later");
	call_free(k);
}

/* Answers 429 after HOLD_429_MS; a connection closed meanwhile drops it
 * (http_open311_closed frees the call with its timer). */
static void hold_429(struct http_conn *c, struct evhttp_request *req, bool xml, int retry_after)
{
	struct http_o311_call *k = calloc(1, sizeof(*k));

	if (k)
		k->hold = evtimer_new(
		        evhttp_connection_get_base(evhttp_request_get_connection(req)), hold_cb, k);
	if (!k || !k->hold) {
		free(k);
		respond_error(c, req, xml, 429,
		              "too many requests with a bad api_key: retry later");
		return;
	}
	k->conn = c;
	k->req = req;
	k->xml = xml;
	k->retry_after = retry_after;
	caller_init(&k->c, &anonymous, &o311_caller_ops, c->id);
	LIST_INSERT_HEAD(&c->o311_calls, k, link);
	evtime_add_ms(k->hold, HOLD_429_MS);
}

/* Decodes the pairs as op's fields and runs the op; answers either way. */
static void run(struct http_conn *c, struct evhttp_request *req, bool xml, enum proto_op op,
                const char *const *names, const char *const *values, size_t n,
                const struct http_o311_call *post)
{
	struct proto_request preq;
	struct http_o311_call *k;
	char err[256];
	int rc;

	memset(&preq, 0, sizeof(preq));
	rc = proto_decode_pairs(op, names, values, n, &preq, err, sizeof(err));
	if (rc != PROTO_OK) {
		proto_request_free(&preq);
		respond_error(c, req, xml, http_status_of((enum proto_error)rc), err);
		return;
	}
	k = calloc(1, sizeof(*k));
	if (!k) {
		proto_request_free(&preq);
		respond_error(c, req, xml, 500, "out of memory");
		return;
	}
	if (post)
		*k = *post;
	k->conn = c;
	k->req = req;
	k->op = op;
	k->xml = xml;
	caller_init(&k->c, &anonymous, &o311_caller_ops, c->id);
	LIST_INSERT_HEAD(&c->o311_calls, k, link);
	handlers_run(http_env_of(c)->handlers, &k->c, &preq);
	proto_request_free(&preq);
}

/* ---------------------------------------------------------------- endpoints */

/* The Host the client asked for, when it is a plain host[:port]; else the
 * listen address (the discovery URL must not carry anything else). */
static void base_url(struct http_conn *c, struct evhttp_request *req, char *out, size_t n)
{
	const char *host = evhttp_find_header(evhttp_request_get_input_headers(req), "Host");
	const struct config_listen *l = &http_env_of(c)->cfg->http.listen;
	bool ok = host && host[0] && strlen(host) <= 255;

	for (const char *p = host; ok && *p; p++)
		ok = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		     (*p >= '0' && *p <= '9') || strchr(".-:[]", *p);
	if (ok)
		snprintf(out, n, "https://%s" O311_BASE, host);
	else
		snprintf(out, n, "https://%s:%d" O311_BASE, l->host, l->port);
}

static void discovery(struct http_conn *c, struct evhttp_request *req, bool xml)
{
	struct json_object *d = json_object_new_object(), *eps = json_object_new_array(),
	                   *ep = json_object_new_object(), *fmts = json_object_new_array();
	char url[400];
	const char *s;

	base_url(c, req, url, sizeof(url));
	if (!d || !eps || !ep || !fmts) {
		json_object_put(d), json_object_put(eps), json_object_put(ep),
		        json_object_put(fmts);
		respond_error(c, req, xml, 500, "out of memory");
		return;
	}
	json_object_array_add(fmts, json_object_new_string("text/xml"));
	json_object_array_add(fmts, json_object_new_string("application/json"));
	json_object_object_add(ep, "specification",
	                       json_object_new_string("http://wiki.open311.org/GeoReport_v2"));
	json_object_object_add(ep, "url", json_object_new_string(url));
	json_object_object_add(ep, "changeset", json_object_new_string(O311_CHANGESET));
	json_object_object_add(ep, "type", json_object_new_string("production"));
	json_object_object_add(ep, "formats", fmts);
	json_object_array_add(eps, ep);
	json_object_object_add(d, "changeset", json_object_new_string(O311_CHANGESET));
	json_object_object_add(d, "contact",
	                       json_object_new_string("the street office that runs this server"));
	json_object_object_add(d, "key_service",
	                       json_object_new_string("keys are issued by the server's operator "
	                                              "(streetd-admin apikey create)"));
	json_object_object_add(d, "endpoints", eps);
	s = json_object_to_json_string_ext(d,
	                                   JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
	if (s)
		respond_doc(c, req, xml, PROTO_OP_NONE, s, strlen(s));
	else
		respond_error(c, req, xml, 500, "out of memory");
	json_object_put(d);
}

/* GET requests: the spec's filters; other parameters (jurisdiction_id, …)
 * are ignored, as the spec lets a server do. */
static void get_requests(struct http_conn *c, struct evhttp_request *req, bool xml)
{
	static const char *const filters[] = { "service_request_id", "service_code", "start_date",
		                               "end_date", "status" };
	const char *query = evhttp_uri_get_query(evhttp_request_get_evhttp_uri(req));
	const char *names[HTTP_FORM_MAX_PAIRS], *values[HTTP_FORM_MAX_PAIRS];
	struct http_form f;
	size_t n = 0;
	char err[256];

	if (http_form_parse(query, query ? strlen(query) : 0, &f, err, sizeof(err)) != 0) {
		http_form_free(&f);
		respond_error(c, req, xml, 400, err);
		return;
	}
	for (size_t i = 0; i < f.n; i++)
		for (size_t j = 0; j < sizeof(filters) / sizeof(filters[0]); j++)
			if (strcmp(f.pairs[i].name, filters[j]) == 0) {
				names[n] = f.pairs[i].name;
				values[n++] = f.pairs[i].value;
			}
	run(c, req, xml, PROTO_OP_O311_REQUESTS, names, values, n, NULL);
	http_form_free(&f);
}

static bool is_form(const char *ct)
{
	size_t n = strlen("application/x-www-form-urlencoded");

	return ct && strncasecmp(ct, "application/x-www-form-urlencoded", n) == 0 &&
	       (ct[n] == '\0' || ct[n] == ';' || ct[n] == ' ');
}

/* POST requests: the spec's fields from the form; the api_key only from the
 * body (a key in a URL ends up in logs); jurisdiction_id and anything else
 * ignored.  A client address or key that failed too often is refused
 * before the database is asked. */
static void post_request(struct http_conn *c, struct evhttp_request *req, bool xml)
{
	static const char *const fields[] = {
		"api_key",    "service_code", "lat",         "long",       "address_string",
		"address_id", "email",        "device_id",   "account_id", "first_name",
		"last_name",  "phone",        "description", "media_url",
	};
	struct evbuffer *body = evhttp_request_get_input_buffer(req);
	size_t len = evbuffer_get_length(body);
	const char *names[HTTP_FORM_MAX_PAIRS + 1], *values[HTTP_FORM_MAX_PAIRS + 1];
	struct http_o311_call post = { .post = true };
	struct http_form f;
	const char *key;
	char err[256], *attrs = NULL;
	size_t n = 0;
	int wait;
	double t = now_s();

	if (!is_form(evhttp_find_header(evhttp_request_get_input_headers(req), "Content-Type"))) {
		respond_error(c, req, xml, 415,
		              "the body must be Content-Type: application/x-www-form-urlencoded");
		return;
	}
	if (!limits_ready()) {
		respond_error(c, req, xml, 503, "out of memory");
		return;
	}
	addr_key(c, post.addr_id);
	if (http_form_parse((const char *)evbuffer_pullup(body, -1), len, &f, err, sizeof(err)) !=
	            0 ||
	    http_form_attributes(&f, &attrs, err, sizeof(err)) != 0) {
		http_form_free(&f);
		respond_error(c, req, xml, 400, err);
		return;
	}
	key = http_form_get(&f, "api_key", NULL);
	sha256("", 0, key ? key : "", key ? strlen(key) : 0, post.key_id);
	wait = ratelimit_wait(by_addr, post.addr_id, t);
	if (ratelimit_wait(by_key, post.key_id, t) > wait)
		wait = ratelimit_wait(by_key, post.key_id, t);
	if (wait > 0) {
		log_debug("open311 post rate-limited conn=%llu peer=%s retry=%d",
		          (unsigned long long)c->id, c->peer, wait);
		hold_429(c, req, xml, wait);
		free(attrs);
		http_form_free(&f);
		return;
	}
	for (size_t i = 0; i < f.n; i++)
		for (size_t j = 0; j < sizeof(fields) / sizeof(fields[0]); j++)
			if (strcmp(f.pairs[i].name, fields[j]) == 0) {
				names[n] = f.pairs[i].name;
				values[n++] = f.pairs[i].value;
			}
	if (attrs) {
		names[n] = "attributes";
		values[n++] = attrs;
	}
	run(c, req, xml, PROTO_OP_O311_POST, names, values, n, &post);
	free(attrs);
	http_form_free(&f);
}

/* "name.json" / "name.xml" → name (decoded, NUL-free UTF-8) and the format;
 * NULL when the suffix is neither or the name is not text.  malloc()ed. */
static char *split_format(const char *seg, bool *xml)
{
	const char *dot = strrchr(seg, '.');
	char *enc, *dec;
	size_t n = 0;

	if (!dot || dot == seg)
		return NULL;
	if (strcmp(dot, ".json") == 0)
		*xml = false;
	else if (strcmp(dot, ".xml") == 0)
		*xml = true;
	else
		return NULL;
	enc = strndup(seg, (size_t)(dot - seg));
	dec = enc ? evhttp_uridecode(enc, 0, &n) : NULL;
	free(enc);
	if (dec && (strlen(dec) != n || !utf8_valid(dec, n) || strchr(dec, '/'))) {
		free(dec);
		return NULL;
	}
	return dec;
}

static void method_not_allowed(struct http_conn *c, struct evhttp_request *req, bool xml,
                               const char *allow)
{
	evhttp_add_header(evhttp_request_get_output_headers(req), "Allow", allow);
	respond_error(c, req, xml, 405, "method not allowed here");
}

void http_open311(struct http_conn *c, struct evhttp_request *req)
{
	const char *path = evhttp_uri_get_path(evhttp_request_get_evhttp_uri(req));
	enum evhttp_cmd_type cmd = evhttp_request_get_command(req);
	bool get = cmd == EVHTTP_REQ_GET || cmd == EVHTTP_REQ_HEAD;
	const char *rest = path + strlen(O311_BASE);
	const char *slash = strchr(rest, '/');
	bool xml = false;
	char *name;

	if (!slash) {
		name = split_format(rest, &xml);
		if (!name)
			goto unknown;
		if (strcmp(name, "discovery") == 0 || strcmp(name, "services") == 0) {
			if (!get)
				method_not_allowed(c, req, xml, "GET, HEAD");
			else if (name[0] == 'd')
				discovery(c, req, xml);
			else
				run(c, req, xml, PROTO_OP_O311_SERVICES, NULL, NULL, 0, NULL);
		} else if (strcmp(name, "requests") == 0) {
			if (cmd == EVHTTP_REQ_POST)
				post_request(c, req, xml);
			else
				get_requests(c, req, xml);
		} else {
			free(name);
			goto unknown;
		}
		free(name);
		return;
	}
	if ((size_t)(slash - rest) == strlen("services") && strncmp(rest, "services/", 9) == 0) {
		name = split_format(slash + 1, &xml);
		if (!name)
			goto unknown;
		if (!get)
			method_not_allowed(c, req, xml, "GET, HEAD");
		else
			run(c, req, xml, PROTO_OP_O311_SERVICE,
			    (const char *const[]){ "service_code" }, (const char *const[]){ name },
			    1, NULL);
		free(name);
		return;
	}
	if ((size_t)(slash - rest) == strlen("requests") && strncmp(rest, "requests/", 9) == 0) {
		name = split_format(slash + 1, &xml);
		if (!name)
			goto unknown;
		if (!get)
			method_not_allowed(c, req, xml, "GET, HEAD");
		else
			run(c, req, xml, PROTO_OP_O311_REQUEST,
			    (const char *const[]){ "service_request_id" },
			    (const char *const[]){ name }, 1, NULL);
		free(name);
		return;
	}
unknown:
	respond_error(c, req, xml, 404,
	              "no such Open311 endpoint (see " O311_BASE "discovery.json)");
}

void http_open311_closed(struct http_conn *c)
{
	struct http_o311_call *k;

	while ((k = LIST_FIRST(&c->o311_calls))) {
		handlers_caller_gone(http_env_of(c)->handlers, &k->c);
		if (k->req)
			http_request_abandon(k->req);
		call_free(k);
	}
}
