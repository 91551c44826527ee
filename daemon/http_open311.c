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
 * anonymous caller (http_call.h; account 0: the ops are public; a post acts
 * as its api_key's account inside SQL).  services and service definitions
 * are answered from http_o311_cache.c (read once per catalogue change, with
 * an ETag: If-None-Match gets 304).  The answer is the op's JSON result as it
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
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include "config.h"
#include "evtime.h"
#include "handlers.h"
#include "http.h"
#include "http_call.h"
#include "http_conn.h"
#include "http_form.h"
#include "http_o311_cache.h"
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

struct o311_call {
	struct http_call k; /* first: the one-shot caller */
	enum proto_op op;
	bool xml;
	bool post; /* a refused key charges the buckets */
	unsigned char key_id[RATELIMIT_KEY], addr_id[RATELIMIT_KEY];
	struct event *hold;    /* a 429 held back (hold_cb), or NULL */
	int retry_after;       /* its Retry-After, seconds */
	struct o311_wait wait; /* a cached answer being read (cached()) */
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

void http_open311_shutdown(const struct http_env *env)
{
	o311_cache_free(env->handlers);
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

static struct o311_call *o311_of(struct http_call *k)
{
	return (struct o311_call *)(void *)k;
}

static void render_ok(struct http_call *k, const char *id, const char *result, size_t len)
{
	struct o311_call *o = o311_of(k);

	(void)id;
	respond_doc(k->conn, k->req, o->xml, o->op, result, len);
}

static void render_error(struct http_call *k, const char *id, enum proto_error code,
                         const char *msg)
{
	struct o311_call *o = o311_of(k);

	(void)id;
	if (o->post && code == PROTO_ERR_FORBIDDEN) {
		double t = now_s();

		ratelimit_charge(by_addr, o->addr_id, t);
		ratelimit_charge(by_key, o->key_id, t);
	}
	respond_error(k->conn, k->req, o->xml, http_status_of(code), msg);
}

static void render_cleanup(struct http_call *k)
{
	struct o311_call *o = o311_of(k);

	if (o->hold)
		event_free(o->hold);
	o311_cache_unwait(&o->wait);
}

static const struct http_call_render o311_render = {
	.ok = render_ok,
	.error = render_error,
	.cleanup = render_cleanup,
};

static struct o311_call *call_new(struct http_conn *c, struct evhttp_request *req, bool xml,
                                  enum proto_op op)
{
	struct o311_call *o = (struct o311_call *)(void *)http_call_new(
	        c, req, http_env_of(c)->handlers, &anonymous, &o311_render, sizeof(*o));

	if (o) {
		o->xml = xml;
		o->op = op;
	}
	return o;
}

/* How long a 429 is held back before it is sent.  Answered at once, a flood
 * of bad keys gets its refusals as fast as the loop can write them (64
 * connections took ~14,000 a second from the one event loop, and the
 * well-behaved clients' p99 went 3.5-fold); held, each flooding connection
 * gets one a second, and waits like the client it is. */
#define HOLD_429_MS 1000

static void hold_cb(evutil_socket_t fd, short what, void *arg)
{
	struct o311_call *o = arg;
	char secs[16];

	(void)fd, (void)what;
	snprintf(secs, sizeof(secs), "%d", o->retry_after);
	evhttp_add_header(evhttp_request_get_output_headers(o->k.req), "Retry-After", secs);
	respond_error(o->k.conn, o->k.req, o->xml, 429,
	              "too many requests with a bad api_key: retry later");
	http_call_free(&o->k);
}

/* Answers 429 after HOLD_429_MS; a connection closed meanwhile drops it
 * (http_call_closed frees the call with its timer). */
static void hold_429(struct http_conn *c, struct evhttp_request *req, bool xml, int retry_after)
{
	struct o311_call *o = call_new(c, req, xml, PROTO_OP_O311_POST);

	if (o)
		o->hold = evtimer_new(
		        evhttp_connection_get_base(evhttp_request_get_connection(req)), hold_cb, o);
	if (!o || !o->hold) {
		if (o)
			http_call_free(&o->k);
		respond_error(c, req, xml, 429,
		              "too many requests with a bad api_key: retry later");
		return;
	}
	o->retry_after = retry_after;
	evtime_add_ms(o->hold, HOLD_429_MS);
}

/* Decodes the pairs as op's fields and runs the op; answers either way.
 * post (a POST's key and address) is charged when the key is refused. */
static void run(struct http_conn *c, struct evhttp_request *req, bool xml, enum proto_op op,
                const char *const *names, const char *const *values, size_t n,
                const struct o311_call *post)
{
	struct proto_request preq;
	struct o311_call *o;
	char err[256];
	int rc;

	memset(&preq, 0, sizeof(preq));
	rc = proto_decode_pairs(op, names, values, n, &preq, err, sizeof(err));
	if (rc != PROTO_OK) {
		proto_request_free(&preq);
		respond_error(c, req, xml, http_status_of((enum proto_error)rc), err);
		return;
	}
	o = call_new(c, req, xml, op);
	if (!o) {
		proto_request_free(&preq);
		respond_error(c, req, xml, 500, "out of memory");
		return;
	}
	if (post) {
		o->post = true;
		memcpy(o->key_id, post->key_id, sizeof(o->key_id));
		memcpy(o->addr_id, post->addr_id, sizeof(o->addr_id));
	}
	http_call_run(&o->k, &preq);
	proto_request_free(&preq);
}

/* ---------------------------------------------------------------- cached answers */

/* If-None-Match names etag (or is "*"). */
static bool not_modified(struct evhttp_request *req, const char *etag)
{
	const char *inm =
	        evhttp_find_header(evhttp_request_get_input_headers(req), "If-None-Match");

	return inm && (strcmp(inm, "*") == 0 || strstr(inm, etag));
}

static void respond_cached(struct http_conn *c, struct evhttp_request *req, bool xml,
                           enum proto_op op, struct o311_doc *d)
{
	const char *etag = xml ? d->etag_xml : d->etag;
	const char *body = d->json;
	size_t len = d->json_len;

	if (xml && !(body = o311_cache_xml(d, op, &len))) {
		respond_error(c, req, true, 500, "the answer cannot be written as XML");
		return;
	}
	evhttp_add_header(evhttp_request_get_output_headers(req), "ETag", etag);
	if (not_modified(req, etag))
		http_respond(c, req, 304, NULL, NULL, 0);
	else
		http_respond(c, req, 200, ctype_of(xml), body, len);
}

static void wait_done(struct o311_wait *w, struct o311_doc *doc, enum proto_error code,
                      const char *msg)
{
	struct o311_call *o =
	        (struct o311_call *)(void *)((char *)w - offsetof(struct o311_call, wait));

	if (doc)
		respond_cached(o->k.conn, o->k.req, o->xml, o->op, doc);
	else
		respond_error(o->k.conn, o->k.req, o->xml, http_status_of(code), msg);
	http_call_free(&o->k);
}

/* services (code NULL) or a service's definition, from the cache; a miss
 * waits for the one read of it.  Uncached (past the cache's bound, ENOMEM):
 * the op runs for this request alone. */
static void cached(struct http_conn *c, struct evhttp_request *req, bool xml, enum proto_op op,
                   const char *code)
{
	struct o311_doc *d = o311_cache_get(op, code);
	struct o311_call *o;

	if (d) {
		respond_cached(c, req, xml, op, d);
		return;
	}
	o = call_new(c, req, xml, op);
	if (o) {
		o->wait.done = wait_done;
		if (o311_cache_wait(http_env_of(c)->handlers, op, code, &o->wait) == 0)
			return; /* answered by wait_done, maybe already */
		http_call_free(&o->k);
	}
	if (code)
		run(c, req, xml, op, (const char *const[]){ "service_code" },
		    (const char *const[]){ code }, 1, NULL);
	else
		run(c, req, xml, op, NULL, NULL, 0, NULL);
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
	struct o311_call post = { .post = true };
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

/* GET services.{fmt}, services/{code}.{fmt}, requests/{id}.{fmt}. */
static void get_services(struct http_conn *c, struct evhttp_request *req, bool xml, const char *arg)
{
	(void)arg;
	cached(c, req, xml, PROTO_OP_O311_SERVICES, NULL);
}

static void get_service(struct http_conn *c, struct evhttp_request *req, bool xml, const char *code)
{
	cached(c, req, xml, PROTO_OP_O311_SERVICE, code);
}

static void get_request(struct http_conn *c, struct evhttp_request *req, bool xml, const char *id)
{
	run(c, req, xml, PROTO_OP_O311_REQUEST, (const char *const[]){ "service_request_id" },
	    (const char *const[]){ id }, 1, NULL);
}

static void get_discovery(struct http_conn *c, struct evhttp_request *req, bool xml,
                          const char *arg)
{
	(void)arg;
	discovery(c, req, xml);
}

static void get_requests_of(struct http_conn *c, struct evhttp_request *req, bool xml,
                            const char *arg)
{
	(void)arg;
	get_requests(c, req, xml);
}

static void post_requests(struct http_conn *c, struct evhttp_request *req, bool xml,
                          const char *arg)
{
	(void)arg;
	post_request(c, req, xml);
}

typedef void (*o311_fn)(struct http_conn *c, struct evhttp_request *req, bool xml, const char *arg);

/* The endpoints under O311_BASE: "name.{fmt}" (dir NULL), or "dir/{arg}.{fmt}"
 * (name NULL: the segment, decoded, is the argument); GET takes HEAD too. */
static const struct o311_route {
	const char *dir, *name;
	o311_fn get, post;
} o311_routes[] = {
	{ NULL, "discovery", get_discovery, NULL },
	{ NULL, "services", get_services, NULL },
	{ NULL, "requests", get_requests_of, post_requests },
	{ "services", NULL, get_service, NULL },
	{ "requests", NULL, get_request, NULL },
};

void http_open311(struct http_conn *c, struct evhttp_request *req)
{
	const char *path = evhttp_uri_get_path(evhttp_request_get_evhttp_uri(req));
	enum evhttp_cmd_type cmd = evhttp_request_get_command(req);
	const char *rest = path + strlen(O311_BASE);
	const char *slash = strchr(rest, '/');
	size_t dirlen = slash ? (size_t)(slash - rest) : 0;
	const struct o311_route *r = o311_routes,
	                        *end = o311_routes + sizeof(o311_routes) / sizeof(o311_routes[0]);
	bool xml = false;
	char *name = NULL;

	/* the directory's routes (the top level's: dir NULL, listed first) */
	while (r < end &&
	       (slash ? !r->dir || strlen(r->dir) != dirlen || strncmp(rest, r->dir, dirlen) != 0
	              : r->dir != NULL))
		r++;
	if (r < end)
		name = split_format(slash ? slash + 1 : rest, &xml);
	while (name && !slash && r < end && !r->dir && strcmp(r->name, name) != 0)
		r++;
	if (!name || r == end || (!slash && r->dir))
		respond_error(c, req, xml, 404,
		              "no such Open311 endpoint (see " O311_BASE "discovery.json)");
	else if (cmd == EVHTTP_REQ_POST && r->post)
		r->post(c, req, xml, name);
	else if (cmd != EVHTTP_REQ_POST)
		r->get(c, req, xml, name); /* GET or HEAD */
	else
		method_not_allowed(c, req, xml, "GET, HEAD");
	free(name);
}
