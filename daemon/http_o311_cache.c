#include "http_o311_cache.h"

#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "handlers.h"
#include "http_call.h"
#include "log.h"
#include "open311_xml.h"
#include "proto_pairs.h"

/* One answer kept: services (code NULL) or a service's definition. */
struct o311_entry {
	LIST_ENTRY(o311_entry) link;
	enum proto_op op;
	char *code;
	struct o311_doc *doc; /* the last answer read, or NULL */
	uint64_t gen;         /* bumped by each invalidation */
	struct fill *filling; /* the read in flight, or NULL */
	LIST_HEAD(, o311_wait) waiters;
};

/* A read of one entry: the daemon's own call (no connection, no request). */
struct fill {
	struct http_call k;   /* first */
	struct o311_entry *e; /* NULL: the entry went (o311_cache_free) */
	uint64_t gen;         /* the entry's generation when the read began */
};

static LIST_HEAD(, o311_entry) entries = LIST_HEAD_INITIALIZER(entries);
static size_t nentries;
static uint64_t generation; /* bumped by each invalidation; entries start at it */

/* Who the reads run as: nobody (account 0), like the public requests. */
static const struct identity anonymous = { .account_id = 0, .login = "" };

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void doc_free(struct o311_doc *d)
{
	if (!d)
		return;
	free(d->json);
	free(d->xml);
	free(d);
}

/* FNV-1a, 64 bits: a validator of the bytes, the same in every instance. */
static uint64_t fnv1a(const char *p, size_t n)
{
	uint64_t h = 0xcbf29ce484222325ULL;

	for (size_t i = 0; i < n; i++) {
		h ^= (unsigned char)p[i];
		h *= 0x100000001b3ULL;
	}
	return h;
}

static struct o311_doc *doc_new(const char *json, size_t len)
{
	struct o311_doc *d = calloc(1, sizeof(*d));
	uint64_t h = fnv1a(json, len);

	if (!d || !(d->json = malloc(len + 1))) {
		free(d);
		return NULL;
	}
	memcpy(d->json, json, len);
	d->json[len] = '\0';
	d->json_len = len;
	snprintf(d->etag, sizeof(d->etag), "\"%016llx\"", (unsigned long long)h);
	snprintf(d->etag_xml, sizeof(d->etag_xml), "\"%016llxx\"", (unsigned long long)h);
	d->read_ms = now_ms();
	return d;
}

static struct o311_entry *find(enum proto_op op, const char *code)
{
	struct o311_entry *e;

	LIST_FOREACH(e, &entries, link)
	if (e->op == op && (code ? e->code && strcmp(e->code, code) == 0 : !e->code))
		return e;
	return NULL;
}

static void entry_free(struct o311_entry *e)
{
	struct o311_wait *w;

	LIST_REMOVE(e, link);
	nentries--;
	while ((w = LIST_FIRST(&e->waiters))) {
		LIST_REMOVE(w, link);
		w->e = NULL;
	}
	if (e->filling)
		e->filling->e = NULL;
	doc_free(e->doc);
	free(e->code);
	free(e);
}

struct o311_doc *o311_cache_get(enum proto_op op, const char *code)
{
	struct o311_entry *e = find(op, code);

	if (!e || !e->doc || now_ms() - e->doc->read_ms >= O311_CACHE_TTL_MS)
		return NULL;
	return e->doc;
}

/* The waiters that came by the fill's generation get its outcome (doc, or
 * NULL and the error); later ones need a read of their own. */
static void answer(struct o311_entry *e, uint64_t upto, struct o311_doc *doc, enum proto_error code,
                   const char *msg)
{
	struct o311_wait *w, *next;

	for (w = LIST_FIRST(&e->waiters); w; w = next) {
		next = LIST_NEXT(w, link);
		if (w->gen > upto)
			continue;
		LIST_REMOVE(w, link);
		w->e = NULL;
		w->done(w, doc, code, msg); /* may free w, never another waiter */
	}
}

static void start_fill(const struct handlers_env *env, struct o311_entry *e);

/* After a read: the entry goes if nothing keeps it, or is read again for
 * waiters that came after an invalidation. */
static void after_fill(const struct handlers_env *env, struct o311_entry *e)
{
	if (!LIST_EMPTY(&e->waiters))
		start_fill(env, e);
	else if (!e->doc && e->code)
		entry_free(e); /* an unknown code: never kept */
}

static void fill_ok(struct http_call *k, const char *id, const char *result, size_t len)
{
	struct fill *f = (struct fill *)(void *)k;
	struct o311_entry *e = f->e;
	struct o311_doc *d;

	(void)id;
	if (!e)
		return;
	e->filling = NULL;
	d = doc_new(result, len);
	if (!d) {
		answer(e, f->gen, NULL, PROTO_ERR_INTERNAL, "out of memory");
	} else if (f->gen == e->gen) {
		doc_free(e->doc);
		e->doc = d;
		answer(e, f->gen, d, PROTO_OK, NULL);
	} else { /* read before the catalogue changed: for who asked before */
		answer(e, f->gen, d, PROTO_OK, NULL);
		doc_free(d);
	}
	after_fill(k->env, e);
}

static void fill_error(struct http_call *k, const char *id, enum proto_error code, const char *msg)
{
	struct fill *f = (struct fill *)(void *)k;
	struct o311_entry *e = f->e;

	(void)id;
	if (!e)
		return;
	e->filling = NULL;
	answer(e, f->gen, NULL, code, msg);
	after_fill(k->env, e);
}

static const struct http_call_render fill_render = {
	.ok = fill_ok,
	.error = fill_error,
	.cleanup = NULL,
};

static void start_fill(const struct handlers_env *env, struct o311_entry *e)
{
	struct proto_request preq;
	struct fill *f;
	char err[256];
	int rc;

	memset(&preq, 0, sizeof(preq));
	rc = e->code ? proto_decode_pairs(e->op, (const char *const[]){ "service_code" },
	                                  (const char *const[]){ e->code }, 1, &preq, err,
	                                  sizeof(err))
	             : proto_decode_pairs(e->op, NULL, NULL, 0, &preq, err, sizeof(err));
	f = rc == PROTO_OK ? (struct fill *)(void *)http_call_new(NULL, NULL, env, &anonymous,
	                                                          &fill_render, sizeof(*f))
	                   : NULL;
	if (!f) {
		proto_request_free(&preq);
		answer(e, e->gen, NULL, rc == PROTO_OK ? PROTO_ERR_INTERNAL : (enum proto_error)rc,
		       rc == PROTO_OK ? "out of memory" : err);
		if (!e->doc && e->code)
			entry_free(e);
		return;
	}
	f->e = e;
	f->gen = e->gen;
	e->filling = f;
	log_debug("open311 cache fill op=%s code=%s generation=%llu", proto_op_name(e->op),
	          e->code ? e->code : "-", (unsigned long long)e->gen);
	http_call_run(&f->k, &preq); /* may answer (and free f) before it returns */
	proto_request_free(&preq);
}

int o311_cache_wait(const struct handlers_env *env, enum proto_op op, const char *code,
                    struct o311_wait *w)
{
	struct o311_entry *e = find(op, code);

	if (!e) {
		if (nentries >= O311_CACHE_MAX || !(e = calloc(1, sizeof(*e))))
			return -1;
		if (code && !(e->code = strdup(code))) {
			free(e);
			return -1;
		}
		e->op = op;
		e->gen = generation;
		LIST_INIT(&e->waiters);
		LIST_INSERT_HEAD(&entries, e, link);
		nentries++;
	}
	w->e = e;
	w->gen = e->gen;
	LIST_INSERT_HEAD(&e->waiters, w, link);
	if (!e->filling)
		start_fill(env, e);
	return 0;
}

void o311_cache_unwait(struct o311_wait *w)
{
	if (!w->e)
		return;
	LIST_REMOVE(w, link);
	w->e = NULL;
}

const char *o311_cache_xml(struct o311_doc *d, enum proto_op op, size_t *len)
{
	if (!d->xml) {
		struct json_object *o = json_tokener_parse(d->json);
		char *out = NULL;
		size_t n = 0;
		int rc = open311_xml(op, o, &out, &n);

		json_object_put(o);
		if (rc != 0) {
			log_err("open311: cannot write the XML of %s", proto_op_name(op));
			return NULL;
		}
		d->xml = out;
		d->xml_len = n;
	}
	*len = d->xml_len;
	return d->xml;
}

void o311_cache_invalidate(void)
{
	struct o311_entry *e, *next;

	generation++;
	for (e = LIST_FIRST(&entries); e; e = next) {
		next = LIST_NEXT(e, link);
		e->gen = generation;
		doc_free(e->doc);
		e->doc = NULL;
		if (e->code && !e->filling && LIST_EMPTY(&e->waiters))
			entry_free(e);
	}
	log_debug("open311 cache invalidated generation=%llu", (unsigned long long)generation);
}

void o311_cache_free(const struct handlers_env *env)
{
	struct o311_entry *e;

	while ((e = LIST_FIRST(&entries))) {
		struct fill *f = e->filling;

		entry_free(e);
		if (f) {
			handlers_caller_gone(env, &f->k.c);
			http_call_free(&f->k);
		}
	}
}
