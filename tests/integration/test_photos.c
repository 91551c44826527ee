/*
 * Photos (sql/functions/30_photos.sql): chunked upload with its checks, attaching to a
 * report and a resolve, reading back by whoever may see the ticket, and every
 * refusal with its exact SQLSTATE, leaving the ticket and the photos as they were.
 *
 * Other suites run at the same time: each test uses its own photos and tickets.
 * The accounts here keep their uploads under the limit of 20 in progress
 * (failed ones stay until the purge): wang.fang for the normal path,
 * zhao.lei for the failures, t.collector.other (of the fixtures, which no other
 * suite uploads with) for the limit itself.
 */
#include <check.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tdb.h"

static PGconn *db;
static int wang, zhao, spare, zhang, liu, chen, yang, sun, ma, admin_acct, disabled;
static int grid, category;

static void setup(void)
{
	db = tdb_connect(false);
	wang = tdb_account(db, "wang.fang");
	zhao = tdb_account(db, "zhao.lei");
	spare = tdb_account(db, "t.collector.other");
	zhang = tdb_account(db, "zhang.wei");
	liu = tdb_account(db, "liu.yang");
	chen = tdb_account(db, "chen.jing");
	yang = tdb_account(db, "yang.min");
	sun = tdb_account(db, "sun.li");
	ma = tdb_account(db, "ma.jun");
	admin_acct = tdb_account(db, "admin");
	disabled = tdb_account(db, "t.disabled");
	grid = tdb_grid(db, "jg-yanan-02");
	category = tdb_category(db, "pollution.dust"); /* routed to sthj: yang.min */
}

static void teardown(void)
{
	PQfinish(db);
}

/* Uploads an earlier run on the same database left in progress (refused ones
 * stay until the purge) would count against the limit of 20: drop them. */
static void forget_uploads(int account)
{
	PGconn *admin = tdb_connect(true);
	char a[16];
	const char *p[] = { a };
	PGresult *r;

	snprintf(a, sizeof(a), "%d", account);
	r = PQexecParams(admin, "DELETE FROM street.photo_upload WHERE account_id = $1", 1, NULL, p,
	                 NULL, NULL, 0);
	ck_assert_msg(PQresultStatus(r) == PGRES_COMMAND_OK, "%s", PQresultErrorMessage(r));
	PQclear(r);
	PQfinish(admin);
}

/* ---- bytes ---- */

static const unsigned char png_sig[] = { 0x89, 'P', 'N', 'G', 0x0d, 0x0a, 0x1a, 0x0a };
static const unsigned char jpeg_sig[] = { 0xff, 0xd8, 0xff, 0xe0 };

static void put32(unsigned char *p, unsigned long v)
{
	p[0] = (unsigned char)(v >> 24);
	p[1] = (unsigned char)(v >> 16);
	p[2] = (unsigned char)(v >> 8);
	p[3] = (unsigned char)v;
}

/* A well-formed image of exactly size bytes, of the type the signature names
 * (PNG: at least 57 bytes, JPEG: at least 27), its payload a pattern of seed:
 * PNG  = signature, IHDR (1..100 x 1..100), one IDAT of the pattern, IEND;
 * JPEG = SOI, SOF0 (16 x 16), SOS, entropy-coded pattern (no 0xff), EOI. */
static unsigned char *image(const unsigned char *sig, size_t siglen, size_t size, int seed)
{
	unsigned char *b = malloc(size);

	ck_assert_ptr_nonnull(b);
	for (size_t i = 0; i < size; i++)
		b[i] = (unsigned char)((i * 31 + (size_t)seed * 7 + (i >> 8)) & 0x7f);
	if (sig[0] == 0x89) {
		ck_assert_uint_ge(size, 57);
		memcpy(b, png_sig, 8);
		put32(b + 8, 13);
		memcpy(b + 12, "IHDR", 4);
		put32(b + 16, 1 + (unsigned long)seed % 100);
		put32(b + 20, 1 + (unsigned long)seed % 100);
		put32(b + 33, (unsigned long)(size - 57));
		memcpy(b + 37, "IDAT", 4);
		put32(b + size - 12, 0);
		memcpy(b + size - 8, "IEND", 4);
	} else {
		static const unsigned char head[] = { 0xff, 0xd8, 0xff, 0xc0, 0x00, 0x0b, 0x08,
			                              0x00, 0x10, 0x00, 0x10, 0x01, 0x01, 0x11,
			                              0x00, 0xff, 0xda, 0x00, 0x08, 0x01, 0x01,
			                              0x00, 0x00, 0x3f, 0x00 };

		ck_assert_uint_ge(size, sizeof(head) + 2);
		memcpy(b, head, sizeof(head));
		b[size - 2] = 0xff;
		b[size - 1] = 0xd9;
	}
	(void)siglen;
	return b;
}

static char *base64(const unsigned char *b, size_t n)
{
	static const char abc[] =
	        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	char *out = malloc(4 * ((n + 2) / 3) + 1), *o = out;

	ck_assert_ptr_nonnull(out);
	for (size_t i = 0; i < n; i += 3) {
		unsigned v = (unsigned)b[i] << 16;

		if (i + 1 < n)
			v |= (unsigned)b[i + 1] << 8;
		if (i + 2 < n)
			v |= b[i + 2];
		*o++ = abc[(v >> 18) & 63];
		*o++ = abc[(v >> 12) & 63];
		*o++ = i + 1 < n ? abc[(v >> 6) & 63] : '=';
		*o++ = i + 2 < n ? abc[v & 63] : '=';
	}
	*o = 0;
	return out;
}

/* The SHA-256 of the bytes, computed by PostgreSQL; the caller frees it. */
static char *sha256_hex(const unsigned char *b, size_t n)
{
	char *b64 = base64(b, n), *h;

	h = tdb_str(db, "SELECT encode(sha256(decode($1, 'base64')), 'hex')", 1,
	            (const char *[]){ b64 });
	free(b64);
	return h;
}

/* ---- calling the functions ---- */

struct res {
	char state[6]; /* "" on success */
	char message[512];
	json_object *json;
};

static void call(struct res *r, const char *sql, int n, const char *const *p)
{
	PGresult *pr = tdb_query(db, sql, n, p);

	memset(r, 0, sizeof(*r));
	if (PQresultStatus(pr) != PGRES_TUPLES_OK) {
		const char *st = PQresultErrorField(pr, PG_DIAG_SQLSTATE);
		const char *msg = PQresultErrorField(pr, PG_DIAG_MESSAGE_PRIMARY);

		snprintf(r->state, sizeof(r->state), "%s", st ? st : "?????");
		snprintf(r->message, sizeof(r->message), "%s", msg ? msg : "");
	} else if (!PQgetisnull(pr, 0, 0)) {
		r->json = json_tokener_parse(PQgetvalue(pr, 0, 0));
		ck_assert_ptr_nonnull(r->json);
	}
	PQclear(pr);
}

static void done(struct res *r)
{
	json_object_put(r->json);
	r->json = NULL;
}

static void must_fail(const struct res *r, const char *state, const char *message, const char *what)
{
	ck_assert_msg(strcmp(r->state, state) == 0, "%s: want %s, got %s %s", what, state,
	              r->state[0] ? r->state : "success", r->message);
	if (message)
		ck_assert_msg(strstr(r->message, message), "%s: message '%s' lacks '%s'", what,
		              r->message, message);
}

static json_object *key(json_object *o, const char *k)
{
	json_object *v = NULL;

	ck_assert_msg(json_object_object_get_ex(o, k, &v), "no key %s in %s", k,
	              json_object_to_json_string(o));
	return v;
}

static long long jint(json_object *o, const char *k)
{
	return json_object_get_int64(key(o, k));
}

static const char *jstr(json_object *o, const char *k)
{
	return json_object_get_string(key(o, k));
}

static void begin(struct res *r, int actor, long long size, const char *sha, long long max)
{
	char a[16], s[32], m[32];

	snprintf(a, sizeof(a), "%d", actor);
	snprintf(s, sizeof(s), "%lld", size);
	snprintf(m, sizeof(m), "%lld", max);
	call(r, "SELECT street.st_photo_begin($1, $2, $3, $4)", 4,
	     (const char *[]){ a, s, sha, m });
}

static void chunk(struct res *r, int actor, long long upload, long long offset, const char *data)
{
	char a[16], u[32], o[32];

	snprintf(a, sizeof(a), "%d", actor);
	snprintf(u, sizeof(u), "%lld", upload);
	snprintf(o, sizeof(o), "%lld", offset);
	call(r, "SELECT street.st_photo_chunk($1, $2, $3, $4)", 4,
	     (const char *[]){ a, u, o, data });
}

static void end(struct res *r, int actor, long long upload)
{
	char a[16], u[32];

	snprintf(a, sizeof(a), "%d", actor);
	snprintf(u, sizeof(u), "%lld", upload);
	call(r, "SELECT street.st_photo_end($1, $2)", 2, (const char *[]){ a, u });
}

static void photo_get(struct res *r, int actor, long long photo, const char *offset,
                      const char *length)
{
	char a[16], p[32];

	snprintf(a, sizeof(a), "%d", actor);
	snprintf(p, sizeof(p), "%lld", photo);
	call(r, "SELECT street.st_photo_get($1, $2, $3, $4)", 4,
	     (const char *[]){ a, p, offset, length });
}

/* Begins an upload of these bytes (declaring sha, or their own if NULL). */
static long long begin_ok(int actor, const unsigned char *b, size_t n, const char *sha)
{
	struct res r;
	char *own = sha ? NULL : sha256_hex(b, n);
	long long id;

	begin(&r, actor, (long long)n, sha ? sha : own, 5 * 1024 * 1024);
	ck_assert_msg(r.state[0] == 0, "begin: %s %s", r.state, r.message);
	id = jint(r.json, "upload");
	ck_assert_int_gt(id, 0);
	done(&r);
	free(own);
	return id;
}

/* Sends bytes [from, to) in chunks of at most step bytes. */
static void send_range(int actor, long long upload, const unsigned char *b, size_t from, size_t to,
                       size_t step)
{
	for (size_t off = from; off < to; off += step) {
		size_t n = to - off < step ? to - off : step;
		char *data = base64(b + off, n);
		struct res r;

		chunk(&r, actor, upload, (long long)off, data);
		ck_assert_msg(r.state[0] == 0, "chunk at %zu: %s %s", off, r.state, r.message);
		ck_assert_int_eq(jint(r.json, "received"), (long long)(off + n));
		done(&r);
		free(data);
	}
}

/* A finished photo of these bytes: its id. */
static long long upload(int actor, const unsigned char *b, size_t n, size_t step)
{
	long long up = begin_ok(actor, b, n, NULL), id;
	struct res r;
	char *sha = sha256_hex(b, n);

	send_range(actor, up, b, 0, n, step);
	end(&r, actor, up);
	ck_assert_msg(r.state[0] == 0, "end: %s %s", r.state, r.message);
	{
		json_object *p = key(r.json, "photo");

		id = jint(p, "id");
		ck_assert_int_gt(id, 0);
		ck_assert_str_eq(jstr(p, "sha256"), sha);
		ck_assert_int_eq(jint(p, "size"), (long long)n);
		ck_assert_str_eq(jstr(p, "mime"), b[0] == 0x89 ? "image/png" : "image/jpeg");
	}
	done(&r);
	free(sha);
	return id;
}

/* ---- tickets ---- */

static unsigned long counter;

/* Reports with these photos ("{1,2}" or NULL); the outcome in o. */
static void report(int actor, const char *description, const char *photos, const char *idem,
                   struct tdb_outcome *o)
{
	char a[16], c[16], g[16];
	const char *p[] = { a, c, g, description, NULL, NULL, NULL, NULL, photos, NULL, idem };

	snprintf(a, sizeof(a), "%d", actor);
	snprintf(c, sizeof(c), "%d", category);
	snprintf(g, sizeof(g), "%d", grid);
	tdb_call(db, "st_report", 11, p, o);
}

static void step(const char *func, int actor, long long t, int version, struct tdb_outcome *o)
{
	char a[16], id[32], v[16];
	const char *p[] = { a, id, v, NULL };

	snprintf(a, sizeof(a), "%d", actor);
	snprintf(id, sizeof(id), "%lld", t);
	snprintf(v, sizeof(v), "%d", version);
	tdb_call(db, func, 4, p, o);
	ck_assert_msg(o->ok, "%s: %s %s", func, o->sqlstate, o->message);
}

/* A ticket reported by wang.fang, dispatched to sthj and accepted by yang.min. */
static long long accepted_ticket(int *version)
{
	struct tdb_outcome o;
	char d[64];

	snprintf(d, sizeof(d), "photo resolve %d-%lu", (int)getpid(), ++counter);
	report(wang, d, NULL, NULL, &o);
	ck_assert_msg(o.ok, "report: %s", o.message);
	step("st_dispatch", zhang, o.ticket, 1, &o);
	step("st_accept", yang, o.ticket, 2, &o);
	*version = o.version;
	return o.ticket;
}

static void resolve(int actor, long long t, int version, const char *photos, const char *idem,
                    struct tdb_outcome *o)
{
	char a[16], id[32], v[16];
	const char *p[] = { a, id, v, "已处理", photos, idem };

	snprintf(a, sizeof(a), "%d", actor);
	snprintf(id, sizeof(id), "%lld", t);
	snprintf(v, sizeof(v), "%d", version);
	tdb_call(db, "st_resolve", 6, p, o);
}

/* The ticket row and its events, as text, to compare before and after. */
static char *snapshot(long long t)
{
	const char *p[] = { tdb_fmt("%lld", t) };

	return tdb_str(
	        db,
	        "SELECT t::text || (SELECT count(*) FROM ticket_event e WHERE e.ticket_id = t.id)"
	        " FROM ticket t WHERE t.id = $1",
	        1, p);
}

static long long attached_to(long long photo)
{
	return tdb_int(db, "SELECT coalesce(ticket_id, 0) FROM photo WHERE id = $1", 1,
	               (const char *[]){ tdb_fmt("%lld", photo) });
}

static long long tickets_described(const char *d)
{
	return tdb_int(db, "SELECT count(*) FROM ticket WHERE description = $1", 1,
	               (const char *[]){ d });
}

/* ---- the tests ---- */

START_TEST(upload_attach_and_read)
{
	const size_t n = 100;
	unsigned char *png = image(png_sig, sizeof(png_sig), n, 1);
	char *sha = sha256_hex(png, n), *whole = base64(png, n), d[64];
	long long up = begin_ok(wang, png, n, NULL), photo;
	struct tdb_outcome o;
	struct res r;

	/* three chunks: 40 + 40 + 20 */
	send_range(wang, up, png, 0, n, 40);
	end(&r, wang, up);
	ck_assert_msg(r.state[0] == 0, "end: %s %s", r.state, r.message);
	photo = jint(key(r.json, "photo"), "id");
	ck_assert_str_eq(jstr(key(r.json, "photo"), "mime"), "image/png");
	ck_assert_str_eq(jstr(key(r.json, "photo"), "sha256"), sha);
	ck_assert_int_eq(jint(key(r.json, "photo"), "size"), (long long)n);
	done(&r);
	/* the upload is gone; the photo is its uploader's alone until attached */
	end(&r, wang, up);
	must_fail(&r, "SD404", "not found", "end twice");
	photo_get(&r, wang, photo, NULL, NULL);
	ck_assert_msg(r.state[0] == 0, "uploader reads: %s %s", r.state, r.message);
	ck_assert_str_eq(jstr(r.json, "data"), whole);
	ck_assert(json_object_is_type(key(key(r.json, "photo"), "ticket_id"), json_type_null));
	done(&r);
	photo_get(&r, zhang, photo, NULL, NULL);
	must_fail(&r, "SD404", "not found", "street before attaching");

	/* attached to a report */
	snprintf(d, sizeof(d), "photo report %d-%lu", (int)getpid(), ++counter);
	report(wang, d, tdb_fmt("{%lld}", photo), NULL, &o);
	ck_assert_msg(o.ok, "report: %s %s", o.sqlstate, o.message);
	ck_assert_int_eq(attached_to(photo), o.ticket);
	ck_assert_int_eq(tdb_int(db, "SELECT event_seq FROM photo WHERE id = $1", 1,
	                         (const char *[]){ tdb_fmt("%lld", photo) }),
	                 o.seq);
	/* the event names it */
	ck_assert_int_eq(tdb_int(db,
	                         "SELECT (data->'photos'->>0)::bigint FROM ticket_event"
	                         " WHERE seq = $1",
	                         1, (const char *[]){ tdb_fmt("%lld", o.seq) }),
	                 photo);

	/* st_get by the street shows it */
	{
		const char *p[] = { tdb_fmt("%d", zhang), tdb_fmt("%lld", o.ticket) };

		call(&r, "SELECT street.st_get($1, $2)", 2, p);
		ck_assert_msg(r.state[0] == 0, "get: %s %s", r.state, r.message);
		{
			json_object *photos = key(r.json, "photos"), *ph;

			ck_assert_int_eq(json_object_array_length(photos), 1);
			ph = json_object_array_get_idx(photos, 0);
			ck_assert_int_eq(json_object_object_length(ph), 5);
			ck_assert_int_eq(jint(ph, "id"), photo);
			ck_assert_str_eq(jstr(ph, "sha256"), sha);
			ck_assert_str_eq(jstr(ph, "mime"), "image/png");
			ck_assert_int_eq(jint(ph, "size"), (long long)n);
			ck_assert_int_eq(jint(ph, "event_seq"), o.seq);
		}
		done(&r);
	}
	/* read back whole and in slices by everyone who sees the ticket */
	{
		const int readers[] = { wang, zhang, sun, ma };

		for (size_t i = 0; i < sizeof(readers) / sizeof(readers[0]); i++) {
			photo_get(&r, readers[i], photo, NULL, NULL);
			ck_assert_msg(r.state[0] == 0, "reader %d: %s %s", readers[i], r.state,
			              r.message);
			ck_assert_str_eq(jstr(r.json, "data"), whole);
			ck_assert_int_eq(jint(r.json, "offset"), 0);
			ck_assert_int_eq(jint(key(r.json, "photo"), "id"), photo);
			ck_assert_int_eq(jint(key(r.json, "photo"), "ticket_id"), o.ticket);
			ck_assert_int_eq(jint(key(r.json, "photo"), "size"), (long long)n);
			ck_assert_str_eq(jstr(key(r.json, "photo"), "mime"), "image/png");
			ck_assert_str_eq(jstr(key(r.json, "photo"), "sha256"), sha);
			done(&r);
		}
	}
	{
		char *slice = base64(png + 30, 50);

		photo_get(&r, zhang, photo, "30", "50");
		ck_assert_msg(r.state[0] == 0, "slice: %s %s", r.state, r.message);
		ck_assert_str_eq(jstr(r.json, "data"), slice);
		ck_assert_int_eq(jint(r.json, "offset"), 30);
		done(&r);
		free(slice);
		slice = base64(png + 90, 10);
		photo_get(&r, zhang, photo, "90", "32768"); /* past the end: what there is */
		ck_assert_str_eq(jstr(r.json, "data"), slice);
		done(&r);
		free(slice);
		photo_get(&r, zhang, photo, "100", NULL); /* at the end: nothing */
		ck_assert_str_eq(jstr(r.json, "data"), "");
		done(&r);
	}
	photo_get(&r, zhang, photo, "101", NULL);
	must_fail(&r, "SD400", NULL, "offset past the end");
	photo_get(&r, zhang, photo, "-1", NULL);
	must_fail(&r, "SD400", NULL, "negative offset");
	photo_get(&r, zhang, photo, NULL, "0");
	must_fail(&r, "SD400", NULL, "length 0");
	photo_get(&r, zhang, photo, NULL, "32769");
	must_fail(&r, "SD400", NULL, "length 32769");
	/* refused, as not found, to those who may not see the ticket */
	{
		const int blind[] = { liu, zhao, chen, yang, admin_acct };

		for (size_t i = 0; i < sizeof(blind) / sizeof(blind[0]); i++) {
			photo_get(&r, blind[i], photo, NULL, NULL);
			must_fail(&r, "SD404", tdb_fmt("photo %lld not found", photo),
			          "blind reader");
		}
	}
	photo_get(&r, zhang, 9000000000000LL, NULL, NULL);
	must_fail(&r, "SD404", "photo 9000000000000 not found", "no such photo");
	photo_get(&r, disabled, photo, NULL, NULL);
	must_fail(&r, "SD403", NULL, "disabled reader");
	free(png);
	free(sha);
	free(whole);
}
END_TEST

/* A photo larger than one chunk: chunks of at most 32768 bytes. */
START_TEST(large_photo_in_big_chunks)
{
	const size_t n = 70000;
	unsigned char *jpeg = image(jpeg_sig, sizeof(jpeg_sig), n, 2);
	long long up = begin_ok(wang, jpeg, n, NULL), photo;
	struct res r;
	char *b64;

	/* one byte over a chunk's limit is refused */
	b64 = base64(jpeg, 32769);
	chunk(&r, wang, up, 0, b64);
	must_fail(&r, "SD400", "at most 32768 bytes", "chunk of 32769");
	free(b64);
	send_range(wang, up, jpeg, 0, n, 32768);
	end(&r, wang, up);
	ck_assert_msg(r.state[0] == 0, "end: %s %s", r.state, r.message);
	photo = jint(key(r.json, "photo"), "id");
	ck_assert_str_eq(jstr(key(r.json, "photo"), "mime"), "image/jpeg");
	done(&r);
	/* read back in pieces of 32768, reassembled equal */
	for (size_t off = 0; off < n; off += 32768) {
		size_t len = n - off < 32768 ? n - off : 32768;
		char *want = base64(jpeg + off, len);
		char o[32];

		snprintf(o, sizeof(o), "%zu", off);
		photo_get(&r, wang, photo, o, NULL);
		ck_assert_msg(r.state[0] == 0, "get: %s %s", r.state, r.message);
		ck_assert_msg(strchr(jstr(r.json, "data"), '\n') == NULL, "newlines in base64");
		ck_assert_str_eq(jstr(r.json, "data"), want);
		done(&r);
		free(want);
	}
	free(jpeg);
}
END_TEST

START_TEST(upload_refusals)
{
	const size_t n = 64;
	unsigned char *png = image(png_sig, sizeof(png_sig), n, 3);
	char *sha = sha256_hex(png, n), *b64;
	struct res r;
	long long up;

	forget_uploads(zhao);
	/* begin: size, digest, the daemon's limit */
	begin(&r, zhao, 0, sha, 5242880);
	must_fail(&r, "SD400", NULL, "size 0");
	begin(&r, zhao, -3, sha, 5242880);
	must_fail(&r, "SD400", NULL, "negative size");
	begin(&r, zhao, 5242881, sha, 5242880);
	must_fail(&r, "SD413", NULL, "over the limit");
	begin(&r, zhao, 1001, sha, 1000);
	must_fail(&r, "SD413", NULL, "over a configured limit");
	begin(&r, zhao, 64, "abc", 5242880);
	must_fail(&r, "SD400", "SHA-256", "short digest");
	{
		char upper[65];

		for (int i = 0; i < 65; i++)
			upper[i] = (char)((sha[i] >= 'a' && sha[i] <= 'f') ? sha[i] - 32 : sha[i]);
		begin(&r, zhao, 64, upper, 5242880);
		must_fail(&r, "SD400", "SHA-256", "upper-case digest");
	}
	begin(&r, zhao, 64, NULL, 5242880);
	must_fail(&r, "SD400", "SHA-256", "no digest");
	/* roles with no ticket to attach a photo to, and disabled accounts */
	begin(&r, sun, 64, sha, 5242880);
	must_fail(&r, "SD403", NULL, "supervisor");
	begin(&r, admin_acct, 64, sha, 5242880);
	must_fail(&r, "SD403", NULL, "admin");
	begin(&r, disabled, 64, sha, 5242880);
	must_fail(&r, "SD403", NULL, "disabled");

	/* chunks: the offset must be what was received so far */
	up = begin_ok(zhao, png, n, NULL);
	b64 = base64(png, 20);
	chunk(&r, zhao, up, 5, b64);
	must_fail(&r, "SD400", "expected offset 0", "offset ahead");
	send_range(zhao, up, png, 0, 20, 20);
	chunk(&r, zhao, up, 0, b64); /* the same chunk again, as a retry would */
	must_fail(&r, "SD400", "expected offset 20", "chunk repeated");
	free(b64);
	chunk(&r, zhao, up, 20, "not base64!");
	must_fail(&r, "SD400", "base64", "bad base64");
	chunk(&r, zhao, up, 20, "");
	must_fail(&r, "SD400", NULL, "empty chunk");
	/* others' uploads do not exist for them */
	b64 = base64(png + 20, 20);
	chunk(&r, wang, up, 20, b64);
	must_fail(&r, "SD404", "not found", "someone else's upload");
	end(&r, wang, up);
	must_fail(&r, "SD404", "not found", "someone else's end");
	chunk(&r, zhao, 9000000000000LL, 0, b64);
	must_fail(&r, "SD404", "not found", "no such upload");
	free(b64);
	/* growing past the declared size */
	b64 = base64(png, 45);
	chunk(&r, zhao, up, 20, b64);
	must_fail(&r, "SD400", "past its declared size", "too much");
	free(b64);
	/* ending before everything came */
	end(&r, zhao, up);
	must_fail(&r, "SD400", "20 of its 64 bytes", "incomplete");
	/* the refusals changed nothing: the rest completes it */
	send_range(zhao, up, png, 20, n, 30);
	end(&r, zhao, up);
	ck_assert_msg(r.state[0] == 0, "end after refusals: %s %s", r.state, r.message);
	done(&r);

	/* end: the digest must match the data */
	{
		unsigned char *other = image(png_sig, sizeof(png_sig), n, 4);
		char *wrong = sha256_hex(other, n);

		up = begin_ok(zhao, png, n, wrong);
		send_range(zhao, up, png, 0, n, 64);
		end(&r, zhao, up);
		must_fail(&r, "SD400", "SHA-256", "wrong digest");
		free(wrong);
		free(other);
	}
	/* end: the content must be a JPEG or a PNG, whatever the client says */
	{
		static const char gif[] = "GIF89a\x01\x00\x01\x00\x80\x00\x00\xff\xff\xff";
		static const char text[] = "just some text, not an image at all";
		static const unsigned char almost_png[] = { 0x89, 'P',  'N',  'G',
			                                    0x0d, 0x0a, 0x1a, 0x0b };
		const struct {
			const unsigned char *b;
			size_t n;
		} bad[] = {
			{ (const unsigned char *)gif, sizeof(gif) - 1 },
			{ (const unsigned char *)text, sizeof(text) - 1 },
			{ almost_png, sizeof(almost_png) },
			{ jpeg_sig, 2 },
		};

		for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
			up = begin_ok(zhao, bad[i].b, bad[i].n, NULL);
			send_range(zhao, up, bad[i].b, 0, bad[i].n, 100);
			end(&r, zhao, up);
			must_fail(&r, "SD400", "neither a JPEG nor a PNG", "not an image");
		}
	}
	free(png);
	free(sha);
}
END_TEST

START_TEST(at_most_20_uploads_in_progress)
{
	unsigned char *png = image(png_sig, sizeof(png_sig), 64, 5);
	char *sha = sha256_hex(png, 64);
	long long first = 0;
	struct res r;

	forget_uploads(spare);
	for (int i = 0; i < 20; i++) {
		long long up = begin_ok(spare, png, 64, sha);

		if (!first)
			first = up;
	}
	begin(&r, spare, 64, sha, 5242880);
	must_fail(&r, "SD400", "20 uploads in progress", "21st upload");
	/* finishing one frees its place */
	send_range(spare, first, png, 0, 64, 64);
	end(&r, spare, first);
	ck_assert_msg(r.state[0] == 0, "end: %s %s", r.state, r.message);
	done(&r);
	begin(&r, spare, 64, sha, 5242880);
	ck_assert_msg(r.state[0] == 0, "after finishing one: %s %s", r.state, r.message);
	done(&r);
	free(png);
	free(sha);
}
END_TEST

/* The type is checked by structure: a JPEG or PNG magic followed by garbage,
 * or a broken structure behind it, is refused. */
START_TEST(structure_checked)
{
	enum { N = 96 };
	unsigned char *bad[8];
	const char *what[8];
	int nbad = 0;
	struct res r;

	/* magic then garbage */
	bad[nbad] = image(png_sig, 8, N, 40);
	memset(bad[nbad] + 8, 0x5a, N - 8);
	what[nbad++] = "PNG magic, then garbage";
	bad[nbad] = image(jpeg_sig, 4, N, 41);
	memset(bad[nbad] + 4, 0x5a, N - 4);
	what[nbad++] = "JPEG magic, then garbage";
	/* PNG: zero width; data after IEND; a chunk running past the end */
	bad[nbad] = image(png_sig, 8, N, 42);
	put32(bad[nbad] + 16, 0);
	what[nbad++] = "PNG of width 0";
	bad[nbad] = image(png_sig, 8, N, 43);
	put32(bad[nbad] + 33, N - 57 - 4); /* IEND then 4 stray bytes */
	memcpy(bad[nbad] + N - 16, "\0\0\0\0IEND", 8);
	what[nbad++] = "data after the PNG's IEND";
	bad[nbad] = image(png_sig, 8, N, 44);
	put32(bad[nbad] + 33, 4000);
	what[nbad++] = "a PNG chunk past the end";
	/* JPEG: no EOI; a frame of height 0; a scan before any frame */
	bad[nbad] = image(jpeg_sig, 4, N, 45);
	bad[nbad][N - 1] = 0x00;
	what[nbad++] = "a JPEG without EOI";
	bad[nbad] = image(jpeg_sig, 4, N, 46);
	bad[nbad][7] = bad[nbad][8] = 0;
	what[nbad++] = "a JPEG of height 0";
	bad[nbad] = image(jpeg_sig, 4, N, 47);
	bad[nbad][3] = 0xe0; /* the SOF0 becomes an APP0 */
	what[nbad++] = "a JPEG scan without a frame";

	for (int i = 0; i < nbad; i++) {
		long long up = begin_ok(zhao, bad[i], N, NULL);

		send_range(zhao, up, bad[i], 0, N, N);
		end(&r, zhao, up);
		must_fail(&r, "SD400", "neither a JPEG nor a PNG", what[i]);
		free(bad[i]);
	}
	forget_uploads(zhao);
}
END_TEST

/* At most 20 finished photos wait unattached per account. */
START_TEST(at_most_20_unattached_photos)
{
	unsigned char *png = image(png_sig, sizeof(png_sig), 64, 50);
	char *sha = sha256_hex(png, 64);
	PGconn *admin = tdb_connect(true);
	const char *p[] = { tdb_fmt("%d", spare) };
	PGresult *pr;
	long long last = 0;
	struct res r;

	forget_uploads(spare);
	pr = PQexecParams(admin,
	                  "DELETE FROM street.photo WHERE account_id = $1 AND ticket_id IS NULL", 1,
	                  NULL, p, NULL, NULL, 0);
	ck_assert_msg(PQresultStatus(pr) == PGRES_COMMAND_OK, "%s", PQresultErrorMessage(pr));
	PQclear(pr);
	for (int i = 0; i < 20; i++)
		last = upload(spare, png, 64, 64);
	begin(&r, spare, 64, sha, 5242880);
	must_fail(&r, "SD400", "20 finished photos not attached", "21st unattached photo");
	/* one gone (purged, or attached) frees its place */
	p[0] = tdb_fmt("%lld", last);
	pr = PQexecParams(admin, "DELETE FROM street.photo WHERE id = $1", 1, NULL, p, NULL, NULL,
	                  0);
	ck_assert_msg(PQresultStatus(pr) == PGRES_COMMAND_OK, "%s", PQresultErrorMessage(pr));
	PQclear(pr);
	begin(&r, spare, 64, sha, 5242880);
	ck_assert_msg(r.state[0] == 0, "after one left: %s %s", r.state, r.message);
	done(&r);
	forget_uploads(spare);
	PQfinish(admin);
	free(png);
	free(sha);
}
END_TEST

START_TEST(resolve_with_photos)
{
	int version;
	long long t = accepted_ticket(&version), ph[10];
	struct tdb_outcome o;
	char ten[256], nine[256], idem[64], *before;
	size_t len = 0;
	struct res r;

	for (int i = 0; i < 10; i++) {
		unsigned char *jpeg = image(jpeg_sig, sizeof(jpeg_sig), 200 + (size_t)i, 10 + i);

		ph[i] = upload(yang, jpeg, 200 + (size_t)i, 64);
		free(jpeg);
	}
	/* ten are too many; nothing changes */
	before = snapshot(t);
	for (int i = 0; i < 10; i++) {
		if (i == 9)
			snprintf(nine, sizeof(nine), "%.*s}", (int)len, ten);
		len += (size_t)snprintf(ten + len, sizeof(ten) - len, "%c%lld", i ? ',' : '{',
		                        ph[i]);
	}
	snprintf(ten + len, sizeof(ten) - len, "}");
	resolve(yang, t, version, ten, NULL, &o);
	ck_assert_msg(!o.ok && strcmp(o.sqlstate, "SD400") == 0, "10 photos: %s %s", o.sqlstate,
	              o.message);
	ck_assert_ptr_nonnull(strstr(o.message, "at most 9"));
	{
		char *after = snapshot(t);

		ck_assert_str_eq(before, after);
		free(after);
	}
	for (int i = 0; i < 10; i++)
		ck_assert_int_eq(attached_to(ph[i]), 0);
	/* one listed twice */
	resolve(yang, t, version, tdb_fmt("{%lld,%lld}", ph[0], ph[0]), NULL, &o);
	ck_assert_str_eq(o.sqlstate, "SD400");
	/* nine are fine */
	snprintf(idem, sizeof(idem), "resolve-photos-%d", (int)getpid());
	resolve(yang, t, version, nine, idem, &o);
	ck_assert_msg(o.ok, "resolve with 9: %s %s", o.sqlstate, o.message);
	ck_assert_str_eq(o.state, "resolved");
	for (int i = 0; i < 9; i++) {
		ck_assert_int_eq(attached_to(ph[i]), t);
		ck_assert_int_eq(tdb_int(db, "SELECT event_seq FROM photo WHERE id = $1", 1,
		                         (const char *[]){ tdb_fmt("%lld", ph[i]) }),
		                 o.seq);
	}
	ck_assert_int_eq(attached_to(ph[9]), 0);
	/* a retry with the same key replays, attaching nothing twice */
	{
		struct tdb_outcome again;

		resolve(yang, t, version, nine, idem, &again);
		ck_assert_msg(again.ok && again.replayed, "replay: %s %s", again.sqlstate,
		              again.message);
		ck_assert_int_eq(again.seq, o.seq);
	}
	/* the reporter sees them with the ticket, and may read them */
	{
		const char *p[] = { tdb_fmt("%d", wang), tdb_fmt("%lld", t) };
		json_object *photos;

		call(&r, "SELECT street.st_get($1, $2)", 2, p);
		ck_assert_msg(r.state[0] == 0, "get: %s %s", r.state, r.message);
		photos = key(r.json, "photos");
		ck_assert_int_eq(json_object_array_length(photos), 9);
		for (size_t i = 0; i < 9; i++) {
			ck_assert_int_eq(jint(json_object_array_get_idx(photos, i), "id"), ph[i]);
			ck_assert_int_eq(jint(json_object_array_get_idx(photos, i), "event_seq"),
			                 o.seq);
			ck_assert_str_eq(jstr(json_object_array_get_idx(photos, i), "mime"),
			                 "image/jpeg");
		}
		done(&r);
		photo_get(&r, wang, ph[3], NULL, NULL);
		ck_assert_msg(r.state[0] == 0, "reporter reads: %s %s", r.state, r.message);
		done(&r);
		photo_get(&r, chen, ph[3], NULL, NULL);
		must_fail(&r, "SD404", NULL, "another department");
	}
	/* attached photos are history: not even the owner of the tables may change them */
	{
		PGconn *admin = tdb_connect(true);
		PGresult *pr;
		const char *p[] = { tdb_fmt("%lld", ph[0]) };

		pr = PQexecParams(admin, "DELETE FROM street.photo WHERE id = $1", 1, NULL, p, NULL,
		                  NULL, 0);
		ck_assert_int_eq(PQresultStatus(pr), PGRES_FATAL_ERROR);
		PQclear(pr);
		pr = PQexecParams(admin,
		                  "UPDATE street.photo SET ticket_id = NULL, event_seq = NULL"
		                  " WHERE id = $1",
		                  1, NULL, p, NULL, NULL, 0);
		ck_assert_int_eq(PQresultStatus(pr), PGRES_FATAL_ERROR);
		PQclear(pr);
		PQfinish(admin);
		/* and the daemon's role writes nothing at all */
		pr = tdb_query(db, "UPDATE photo SET ticket_id = NULL WHERE id = $1", 1, p);
		ck_assert_str_eq(PQresultErrorField(pr, PG_DIAG_SQLSTATE), "42501");
		PQclear(pr);
	}
	free(before);
}
END_TEST

/* Each refused attachment: SD400, no ticket or nothing changed, photo still free. */
START_TEST(attach_refusals)
{
	unsigned char *a = image(png_sig, sizeof(png_sig), 64, 20);
	unsigned char *b = image(png_sig, sizeof(png_sig), 64, 21);
	long long mine = upload(wang, a, 64, 64), theirs = upload(zhao, b, 64, 64), used;
	long long unknown =
	        tdb_int(db, "SELECT coalesce(max(id), 0) + 1000000 FROM photo", 0, NULL);
	struct tdb_outcome o;
	char d[64], idem[64];

	/* someone else's photo */
	snprintf(d, sizeof(d), "photo refused %d-%lu", (int)getpid(), ++counter);
	report(wang, d, tdb_fmt("{%lld}", theirs), NULL, &o);
	ck_assert_msg(!o.ok && strcmp(o.sqlstate, "SD400") == 0, "theirs: %s", o.sqlstate);
	ck_assert_ptr_nonnull(strstr(o.message, "not a finished upload of yours"));
	ck_assert_int_eq(tickets_described(d), 0);
	ck_assert_int_eq(attached_to(theirs), 0);
	/* an unknown one (or an upload not finished: no photo has its id) */
	report(wang, d, tdb_fmt("{%lld,%lld}", mine, unknown), NULL, &o);
	ck_assert_msg(!o.ok && strcmp(o.sqlstate, "SD400") == 0, "unknown: %s", o.sqlstate);
	ck_assert_int_eq(tickets_described(d), 0);
	ck_assert_int_eq(attached_to(mine), 0);
	/* a NULL in the list */
	report(wang, d, "{NULL}", NULL, &o);
	ck_assert_str_eq(o.sqlstate, "SD400");
	/* the same twice in one list */
	report(wang, d, tdb_fmt("{%lld,%lld}", mine, mine), NULL, &o);
	ck_assert_str_eq(o.sqlstate, "SD400");
	ck_assert_int_eq(tickets_described(d), 0);
	/* a street account reporting with a collector's photo */
	report(zhang, d, tdb_fmt("{%lld}", mine), NULL, &o);
	ck_assert_str_eq(o.sqlstate, "SD400");
	ck_assert_int_eq(tickets_described(d), 0);
	/* attached once ... */
	snprintf(idem, sizeof(idem), "photo-once-%d", (int)getpid());
	report(wang, d, tdb_fmt("{%lld}", mine), idem, &o);
	ck_assert_msg(o.ok, "report: %s %s", o.sqlstate, o.message);
	used = o.ticket;
	ck_assert_int_eq(attached_to(mine), used);
	/* ... a retry with its key replays ... */
	report(wang, d, tdb_fmt("{%lld}", mine), idem, &o);
	ck_assert(o.ok && o.replayed && o.ticket == used);
	/* ... and never twice */
	snprintf(d, sizeof(d), "photo twice %d-%lu", (int)getpid(), ++counter);
	report(wang, d, tdb_fmt("{%lld}", mine), NULL, &o);
	ck_assert_msg(!o.ok && strcmp(o.sqlstate, "SD400") == 0, "twice: %s", o.sqlstate);
	ck_assert_ptr_nonnull(strstr(o.message, "already attached"));
	ck_assert_int_eq(tickets_described(d), 0);
	ck_assert_int_eq(attached_to(mine), used);
	/* nor to a resolve: the department's check comes after its own */
	{
		int version;
		long long t = accepted_ticket(&version);
		char *before = snapshot(t), *after;
		unsigned char *c = image(jpeg_sig, sizeof(jpeg_sig), 64, 22);
		long long dept = upload(yang, c, 64, 64);

		resolve(yang, t, version, tdb_fmt("{%lld}", mine), NULL, &o);
		ck_assert_str_eq(o.sqlstate, "SD400");
		resolve(yang, t, version, tdb_fmt("{%lld}", theirs), NULL, &o);
		ck_assert_str_eq(o.sqlstate, "SD400");
		resolve(yang, t, version, tdb_fmt("{%lld,%lld}", dept, unknown), NULL, &o);
		ck_assert_str_eq(o.sqlstate, "SD400");
		after = snapshot(t);
		ck_assert_str_eq(before, after);
		ck_assert_int_eq(attached_to(dept), 0);
		ck_assert_int_eq(attached_to(theirs), 0);
		/* a stale version is still a conflict, before the photos are looked at */
		resolve(yang, t, version - 1, tdb_fmt("{%lld}", dept), NULL, &o);
		ck_assert_str_eq(o.sqlstate, "SD409");
		free(after);
		free(before);
		free(c);
	}
	free(a);
	free(b);
}
END_TEST

START_TEST(purge_unattached)
{
	unsigned char *a = image(png_sig, sizeof(png_sig), 64, 30);
	long long fresh = upload(wang, a, 64, 64), old = upload(wang, a, 64, 64);
	long long up = begin_ok(wang, a, 64, NULL);
	PGconn *admin = tdb_connect(true);
	const char *p[] = { tdb_fmt("%lld", old), tdb_fmt("%lld", up) };
	PGresult *pr;
	struct res r;

	/* age one photo and one upload by two days (the test's own rows only) */
	pr = PQexecParams(
	        admin,
	        "WITH a AS (UPDATE street.photo SET created_at = now() - interval '2 days'"
	        " WHERE id = $1 RETURNING 1)"
	        " UPDATE street.photo_upload SET created_at = now() - interval '2 days'"
	        " WHERE id = $2",
	        2, NULL, p, NULL, NULL, 0);
	ck_assert_msg(PQresultStatus(pr) == PGRES_COMMAND_OK, "%s", PQresultErrorMessage(pr));
	PQclear(pr);
	PQfinish(admin);
	call(&r, "SELECT street.st_photo_purge()", 0, NULL);
	ck_assert_msg(r.state[0] == 0, "purge: %s %s", r.state, r.message);
	ck_assert_int_ge(jint(r.json, "photos"), 1);
	ck_assert_int_ge(jint(r.json, "uploads"), 1);
	done(&r);
	ck_assert_int_eq(tdb_int(db, "SELECT count(*) FROM photo WHERE id = $1", 1,
	                         (const char *[]){ tdb_fmt("%lld", old) }),
	                 0);
	ck_assert_int_eq(tdb_int(db, "SELECT count(*) FROM photo WHERE id = $1", 1,
	                         (const char *[]){ tdb_fmt("%lld", fresh) }),
	                 1);
	ck_assert_int_eq(tdb_int(db, "SELECT count(*) FROM photo_upload WHERE id = $1", 1,
	                         (const char *[]){ tdb_fmt("%lld", up) }),
	                 0);
	free(a);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("photos");
	TCase *tc = tcase_create("photos");
	SRunner *sr;
	int failed;

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, upload_attach_and_read);
	tcase_add_test(tc, large_photo_in_big_chunks);
	tcase_add_test(tc, upload_refusals);
	tcase_add_test(tc, at_most_20_uploads_in_progress);
	tcase_add_test(tc, structure_checked);
	tcase_add_test(tc, at_most_20_unattached_photos);
	tcase_add_test(tc, resolve_with_photos);
	tcase_add_test(tc, attach_refusals);
	tcase_add_test(tc, purge_unattached);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
