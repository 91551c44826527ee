/* rpc: see rpc.h. */
#include "rpc.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/rand.h>

#include "conn.h"
#include "fail.h"
#include "proto.h"
#include "proto_scan.h"

json_object *rpc_new(const char *op)
{
	json_object *o = json_object_new_object();

	if (o == NULL)
		abort(); /* out of memory in a short-lived client */
	json_object_object_add(o, "op", json_object_new_string(op));
	return o;
}

void rpc_new_key(char key[RPC_KEY_SIZE])
{
	unsigned char r[16];

	if (RAND_bytes(r, sizeof(r)) != 1) {
		/* no entropy source: time and pid still make a key unique enough here */
		unsigned long long t =
		        (unsigned long long)time(NULL) ^ ((unsigned long long)clock() << 20);

		memcpy(r, &t, sizeof(t));
		memset(r + sizeof(t), 0x5a, sizeof(r) - sizeof(t));
	}
	memcpy(key, "sc-", 3);
	for (size_t i = 0; i < sizeof(r); i++)
		snprintf(key + 3 + 2 * i, 3, "%02x", r[i]);
}

void rpc_sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

static const char *rpc_line(json_object *req)
{
	return json_object_to_json_string_ext(req, JSON_C_TO_STRING_PLAIN |
	                                                   JSON_C_TO_STRING_NOSLASHESCAPE);
}

/*
 * Rewrites the codec's 'field "return_seq"' as '--return-seq', the way the
 * user typed it; the ticket is the positional ID.
 */
static void rpc_user_words(char *dst, size_t cap, const char *msg)
{
	size_t o = 0;

	while (*msg != '\0' && o + 1 < cap) {
		const char *end;

		if (strncmp(msg, "field \"", 7) == 0 && (end = strchr(msg + 7, '"')) != NULL) {
			size_t n = (size_t)(end - (msg + 7));
			char name[64];

			snprintf(name, sizeof(name), "%.*s", (int)n, msg + 7);
			if (strcmp(name, "ticket") == 0)
				o += (size_t)snprintf(dst + o, cap - o, "the ticket ID");
			else if (strcmp(name, "text") == 0)
				o += (size_t)snprintf(dst + o, cap - o, "the comment TEXT");
			else {
				o += (size_t)snprintf(dst + o, cap - o, "--");
				for (size_t i = 0; name[i] != '\0' && o + 1 < cap; i++)
					dst[o++] = name[i] == '_' ? '-' : name[i];
			}
			if (o >= cap)
				o = cap - 1;
			msg = end + 1;
			continue;
		}
		dst[o++] = *msg++;
	}
	dst[o] = '\0';
}

int rpc_check(const struct ctl *ctl, json_object *req)
{
	struct proto_request pr;
	char err[256], words[320];
	const char *line;
	int rc;

	json_object_object_add(req, "id", json_object_new_int(1));
	line = rpc_line(req);
	rc = proto_decode(line, strlen(line), &pr, err, sizeof(err));
	proto_request_free(&pr);
	json_object_object_del(req, "id");
	if (rc == PROTO_OK)
		return 0;
	rpc_user_words(words, sizeof(words), err);
	return fail_usage(ctl->cmd, "%s", words);
}

int rpc_connect(struct ctl *ctl)
{
	if (ctl->conn != NULL)
		return 0;
	return conn_open(&ctl->set, &ctl->conn, false);
}

/* Whether a request may be sent again after the connection was lost. */
static bool rpc_resendable(json_object *req)
{
	json_object *op = NULL;

	json_object_object_get_ex(req, "op", &op);
	return op != NULL && strncmp(json_object_get_string(op), "photo_", 6) != 0;
}

/* True when o is the reply to id: same id, or id null (the server could not read ours). */
static bool rpc_is_reply(json_object *o, int id)
{
	json_object *jid;

	if (!json_object_object_get_ex(o, "id", &jid))
		return false; /* a pushed line */
	return jid == NULL ||
	       (json_object_is_type(jid, json_type_int) && json_object_get_int(jid) == id);
}

/* Waits for the reply to id; 1 with *reply, -1 when the connection is gone. */
static int rpc_wait(struct ctl *ctl, int id, json_object **reply, int timeout_ms)
{
	for (;;) {
		json_object *o;
		int r = conn_recv(ctl->conn, timeout_ms, &o);

		if (r < 0)
			return -1;
		if (r == 0)
			return -1; /* no answer in time: treated as a lost connection */
		if (rpc_is_reply(o, id)) {
			*reply = o;
			return 1;
		}
		json_object_put(o);
	}
}

/* Request ids, one sequence for rpc_try and rpc_send. */
static int next_id = 1;

int rpc_try(struct ctl *ctl, json_object *req, json_object **result, json_object **error)
{
	char lost[600] = "";
	int rc, lost_exit = EX_IOERR;

	*result = NULL;
	*error = NULL;
	rc = rpc_check(ctl, req);
	if (rc != 0)
		return rc;
	for (int attempt = 0;; attempt++) {
		json_object *reply = NULL, *jok, *jv;
		int id = next_id++, got;

		if (attempt > 0)
			rpc_sleep_ms(500 << (attempt - 1));
		rc = rpc_connect(ctl);
		if (rc != 0)
			return rc;
		json_object_object_add(req, "id", json_object_new_int(id));
		got = conn_send(ctl->conn, rpc_line(req)) == 0
		              ? rpc_wait(ctl, id, &reply, RPC_REPLY_MS)
		              /* the server may have said why before it closed */
		              : rpc_wait(ctl, id, &reply, 1000);
		json_object_object_del(req, "id");
		if (got < 0) {
			snprintf(lost, sizeof(lost), "%s", conn_error(ctl->conn));
			lost_exit = conn_error_exit(ctl->conn);
			conn_close(ctl->conn);
			ctl->conn = NULL;
			if (attempt < RPC_RETRIES && rpc_resendable(req) && lost_exit == EX_IOERR)
				continue;
			break;
		}
		if (json_object_object_get_ex(reply, "ok", &jok) && json_object_get_boolean(jok)) {
			if (json_object_object_get_ex(reply, "result", &jv))
				*result = json_object_get(jv);
			else
				*result = json_object_new_object();
			json_object_put(reply);
			return 0;
		}
		if (!json_object_object_get_ex(reply, "error", &jv)) {
			json_object_put(reply);
			return fail(EX_IOERR,
			            "the server sent a reply with neither result nor error; "
			            "check that server and port name a streetd");
		}
		*error = json_object_get(jv);
		json_object_put(reply);
		{
			json_object *jc = NULL;
			const char *code;

			json_object_object_get_ex(*error, "code", &jc);
			code = json_object_get_string(jc);
			if (code != NULL && strcmp(code, "unavailable") == 0 &&
			    attempt < RPC_RETRIES) {
				json_object_put(*error);
				*error = NULL;
				continue;
			}
			if (code != NULL && strcmp(code, "unauthenticated") == 0) {
				conn_close(ctl->conn); /* the server closes it too */
				ctl->conn = NULL;
			}
			return fail_code_exit(code);
		}
	}
	{
		json_object *key = NULL;

		if (lost_exit == EX_IOERR && json_object_object_get_ex(req, "key", &key))
			return fail(
			        lost_exit,
			        "%s before the reply: the outcome is unknown; run the same command "
			        "again with --key %s (it will not act twice)",
			        lost, json_object_get_string(key));
		if (lost_exit == EX_NOPERM)
			return fail(lost_exit, "%s; check cert and key", lost);
		return fail(lost_exit, "%s before the reply; check the network and try again",
		            lost);
	}
}

int rpc_call(struct ctl *ctl, json_object *req, json_object **result)
{
	json_object *error = NULL;
	int rc = rpc_try(ctl, req, result, &error);

	if (error != NULL) {
		rc = fail_reply(error);
		json_object_put(error);
	}
	return rc;
}

int rpc_send(struct ctl *ctl, json_object *req)
{
	int id = next_id++, rc;

	if (ctl->conn == NULL && conn_open(&ctl->set, &ctl->conn, true) != 0)
		return 0; /* rpc_await's rpc_call connects again and says why */
	json_object_object_add(req, "id", json_object_new_int(id));
	rc = conn_send(ctl->conn, rpc_line(req));
	json_object_object_del(req, "id");
	return rc == 0 ? id : 0;
}

/* Takes the reply to a request sent ahead (rpc_await's): ok, a refusal, or
 * "unavailable" sent again through rpc_call.  Puts reply. */
static int rpc_take(struct ctl *ctl, json_object *req, json_object *reply, json_object **result)
{
	json_object *jok, *jv, *jc = NULL;
	const char *code;
	int rc;

	if (json_object_object_get_ex(reply, "ok", &jok) && json_object_get_boolean(jok)) {
		*result = json_object_object_get_ex(reply, "result", &jv)
		                  ? json_object_get(jv)
		                  : json_object_new_object();
		json_object_put(reply);
		return 0;
	}
	if (!json_object_object_get_ex(reply, "error", &jv)) {
		json_object_put(reply);
		return fail(EX_IOERR, "the server sent a reply with neither result nor error; "
		                      "check that server and port name a streetd");
	}
	json_object_object_get_ex(jv, "code", &jc);
	code = json_object_get_string(jc);
	if (code != NULL && strcmp(code, "unavailable") == 0) {
		json_object_put(reply);
		return rpc_call(ctl, req, result);
	}
	if (code != NULL && strcmp(code, "unauthenticated") == 0) {
		conn_close(ctl->conn);
		ctl->conn = NULL;
	}
	rc = fail_reply(jv);
	json_object_put(reply);
	return rc;
}

/* The connection is of no more use: rpc_call opens a new one. */
static void rpc_drop(struct ctl *ctl)
{
	if (ctl->conn != NULL) {
		conn_close(ctl->conn);
		ctl->conn = NULL;
		ctl->conn_drops++;
	}
}

int rpc_await(struct ctl *ctl, json_object *req, int id, json_object **result)
{
	json_object *reply = NULL;

	*result = NULL;
	if (id == 0 || ctl->conn == NULL || rpc_wait(ctl, id, &reply, RPC_REPLY_MS) < 0) {
		rpc_drop(ctl);
		return rpc_call(ctl, req, result);
	}
	return rpc_take(ctl, req, reply, result);
}

/* What a reply line says, read by the pull scanner: its id (-1 none: a
 * pushed line; 0 null), whether ok is true, where its result is. */
struct rpc_envelope {
	long long id;
	bool ok;
	struct proto_scan_val result;
};

/* Reads the envelope of line; false with sc->msg when it is not strict JSON
 * (as far as it was read: an ok result that ends the line is not). */
static bool rpc_envelope(struct proto_scan *sc, const char *line, size_t n, struct rpc_envelope *e)
{
	struct proto_scan_val k, v;
	int r;

	e->id = -1;
	e->ok = false;
	e->result = (struct proto_scan_val){ .type = PROTO_SCAN_NULL };
	proto_scan_begin(sc, line, n);
	if (!proto_scan_enter(sc, PROTO_SCAN_OBJECT))
		return false;
	while ((r = proto_scan_item(sc, &k)) == 1) {
		if (proto_scan_is(&k, "result") && e->ok && e->id >= 0) {
			/* the daemon's reply ends in the result and "}": take the
			 * rest of the line unchecked, the caller's reader checks it
			 * all (one pass over a big page, not two) */
			size_t end = n;

			while (end > sc->pos && (line[end - 1] == ' ' || line[end - 1] == '\t'))
				end--;
			if (end > sc->pos && line[end - 1] == '}') {
				e->result = (struct proto_scan_val){ .type = PROTO_SCAN_OBJECT,
					                             .raw = line + sc->pos,
					                             .len = end - 1 - sc->pos };
				return true;
			}
		}
		if (!proto_scan_next(sc, &v))
			return false;
		if (proto_scan_is(&k, "id"))
			e->id = v.type == PROTO_SCAN_NUMBER ? strtoll(v.raw, NULL, 10)
			        : v.type == PROTO_SCAN_NULL ? 0
			                                    : -2;
		else if (proto_scan_is(&k, "ok"))
			e->ok = v.type == PROTO_SCAN_TRUE;
		else if (proto_scan_is(&k, "result"))
			e->result = v;
	}
	return r == 0 && proto_scan_end(sc);
}

/* A look at a reply while it arrives (rpc_await_text_peek). */
struct rpc_peek {
	int id;
	bool (*peek)(void *arg, const char *result, size_t n);
	void *arg;
};

/* The envelope's head, {"id":ID,"ok":true,"result": as the daemon writes it,
 * then the result so far to peek; true to stop looking (not the reply to
 * id, not a success, or peek is done). */
static bool rpc_peek_line(void *arg, const char *buf, size_t n)
{
	const struct rpc_peek *p = arg;
	struct proto_scan sc;
	struct proto_scan_val k, v;
	long long id = -1;
	bool ok = false;

	proto_scan_begin(&sc, buf, n);
	if (!proto_scan_enter(&sc, PROTO_SCAN_OBJECT))
		return n > 0;
	while (proto_scan_item(&sc, &k) == 1) {
		if (proto_scan_is(&k, "result"))
			return id != p->id || !ok || p->peek(p->arg, buf + sc.pos, n - sc.pos);
		if (!proto_scan_next(&sc, &v))
			return false; /* cut short: wait for more */
		if (proto_scan_is(&k, "id"))
			id = v.type == PROTO_SCAN_NUMBER ? strtoll(v.raw, NULL, 10) : -2;
		else if (proto_scan_is(&k, "ok"))
			ok = v.type == PROTO_SCAN_TRUE;
		else
			return true; /* not the daemon's reply head */
	}
	return n > 256; /* no "result" in a head this long: not a reply's */
}

int rpc_await_text(struct ctl *ctl, json_object *req, int id, char **text, size_t *len)
{
	return rpc_await_text_peek(ctl, req, id, text, len, NULL, NULL);
}

int rpc_await_text_peek(struct ctl *ctl, json_object *req, int id, char **text, size_t *len,
                        bool (*peek)(void *arg, const char *result, size_t n), void *arg)
{
	struct rpc_peek pk = { id, peek, arg };
	json_object *result = NULL, *reply;
	const char *s;
	int rc;

	*text = NULL;
	*len = 0;
	while (id != 0 && ctl->conn != NULL) {
		struct proto_scan sc;
		struct rpc_envelope e;
		char *line;
		size_t n;

		if (conn_recv_line_peek(ctl->conn, RPC_REPLY_MS, &line, &n,
		                        peek ? rpc_peek_line : NULL, &pk) <= 0)
			break; /* lost, or no answer in time: as rpc_await */
		if (!rpc_envelope(&sc, line, n, &e)) {
			rc = fail(
			        EX_PROTOCOL,
			        "the server sent a reply that is not valid JSON (%s at byte %zu of "
			        "%zu); use a streetctl of the server's version",
			        sc.msg, sc.pos, n);
			free(line);
			rpc_drop(ctl);
			return rc;
		}
		if (e.id != 0 && e.id != id) {
			free(line); /* a pushed line, or not ours */
			continue;
		}
		if (e.ok && e.result.raw != NULL) {
			/* the result's text to the start of the line: one buffer */
			size_t off = (size_t)(e.result.raw - line), rn = e.result.len;

			if (e.result.type == PROTO_SCAN_STRING) {
				off--; /* keep a string's quotes */
				rn += 2;
			}
			memmove(line, line + off, rn);
			line[rn] = '\0';
			*text = line;
			*len = rn;
			return 0;
		}
		/* a refusal (or an odd reply): small, read as a tree */
		reply = json_tokener_parse(line);
		free(line);
		if (reply == NULL)
			return fail(EX_PROTOCOL,
			            "the server sent a reply json-c cannot read; use a "
			            "streetctl of the server's version");
		rc = rpc_take(ctl, req, reply, &result);
		goto as_text;
	}
	rpc_drop(ctl);
	rc = rpc_call(ctl, req, &result);
as_text:
	/* a reply taken as a tree (sent again): its text, for one way on */
	if (rc != 0)
		return rc;
	s = json_object_to_json_string_ext(result, JSON_C_TO_STRING_PLAIN);
	*len = strlen(s);
	*text = strdup(s);
	json_object_put(result);
	if (*text == NULL)
		abort(); /* out of memory in a short-lived client */
	return 0;
}
