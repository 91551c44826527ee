/*
 * cmd_audit: the tamper-evident record (docs/audit.md).
 *
 *   streetctl audit export DIR   events.tsv and checkpoints/ID.{txt,sig,crt}
 *                                from the server (a city-wide supervisor)
 *   streetctl audit verify DIR   offline: recomputes the chain, checks every
 *                                checkpoint's signature and certificate
 *                                against --ca, and names the first event that
 *                                was changed, removed or inserted
 *
 * verify needs neither the server nor its database: only the files and the
 * CA.  Memory stays flat: the events are read one line at a time; only the
 * checkpoints (few) are held.
 */
#include <dirent.h>
#include <errno.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "cmd.h"
#include "fail.h"
#include "fmt.h"
#include "rpc.h"

#define HASH_HEX 64
#define H0       "0000000000000000000000000000000000000000000000000000000000000000"

/* ---- export ---- */

/* Writes len bytes to dir/name through a temporary file, so that a file
 * appears whole or not at all.  0 or an exit code after printing. */
static int write_file(const char *dir, const char *name, const void *data, size_t len)
{
	char path[CTL_PATH_MAX + 64], tmp[CTL_PATH_MAX + 80];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	f = fopen(tmp, "wb");
	if (!f)
		return fail(EX_CANTCREAT, "cannot create %s: %s", tmp, strerror(errno));
	if ((len && fwrite(data, 1, len, f) != len) | (fclose(f) != 0) || rename(tmp, path) != 0) {
		remove(tmp);
		return fail(EX_IOERR, "cannot write %s: %s", path, strerror(errno));
	}
	return 0;
}

static int make_dir(const char *path)
{
	if (mkdir(path, 0755) != 0 && errno != EEXIST)
		return fail(EX_CANTCREAT, "cannot create %s: %s", path, strerror(errno));
	return 0;
}

/* The base64 of a checkpoint's signature, decoded into a malloc'd buffer. */
static unsigned char *unbase64(const char *s, size_t *len)
{
	size_t n = strlen(s);
	unsigned char *out = malloc(n / 4 * 3 + 3);
	int got;

	if (!out || n % 4 != 0)
		goto bad;
	got = EVP_DecodeBlock(out, (const unsigned char *)s, (int)n);
	if (got < 0)
		goto bad;
	got -= (n > 0 && s[n - 1] == '=') + (n > 1 && s[n - 2] == '=');
	*len = (size_t)got;
	return out;
bad:
	free(out);
	return NULL;
}

static int export_events(struct ctl *ctl, const char *dir, long long after, long long *count)
{
	char path[CTL_PATH_MAX + 64], tmp[CTL_PATH_MAX + 80];
	bool first = true;
	int rc = 0;
	FILE *f;

	snprintf(path, sizeof(path), "%s/events.tsv", dir);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	if (!(f = fopen(tmp, "wb")))
		return fail(EX_CANTCREAT, "cannot create %s: %s", tmp, strerror(errno));
	for (;;) {
		json_object *req = rpc_new("audit_events"), *res = NULL, *evs;

		json_object_object_add(req, "after", json_object_new_int64(after));
		json_object_object_add(req, "limit", json_object_new_int(1000));
		rc = rpc_call(ctl, req, &res);
		json_object_put(req);
		if (rc != 0)
			break;
		/* a partial export: where its chain starts */
		if (first && fmt_int(res, "after_seq", 0) > 0 && fmt_str(res, "after_hash")) {
			char start[128];
			int n = snprintf(start, sizeof(start), "%lld %s\n",
			                 fmt_int(res, "after_seq", 0), fmt_str(res, "after_hash"));

			rc = write_file(dir, "start.txt", start, (size_t)n);
			if (rc != 0) {
				json_object_put(res);
				break;
			}
		}
		first = false;
		evs = fmt_get(res, "events");
		for (size_t i = 0; evs && i < json_object_array_length(evs); i++) {
			json_object *e = json_object_array_get_idx(evs, i);
			const char *hash = fmt_str(e, "hash"), *canon = fmt_str(e, "canonical");
			long long prev = fmt_int(e, "prev", 0);

			fprintf(f, "%lld\t", fmt_int(e, "seq", 0));
			if (prev > 0)
				fprintf(f, "%lld", prev);
			fprintf(f, "\t%s\t%s\n", hash ? hash : "", canon ? canon : "");
			(*count)++;
		}
		after = fmt_int(res, "next", 0);
		json_object_put(res);
		if (after <= 0)
			break;
	}
	if ((fclose(f) != 0 && rc == 0) || (rc == 0 && rename(tmp, path) != 0))
		rc = fail(EX_IOERR, "cannot write %s: %s", path, strerror(errno));
	if (rc != 0)
		remove(tmp);
	return rc;
}

static int export_checkpoint(const char *cdir, json_object *c)
{
	char name[64];
	long long id = fmt_int(c, "id", 0);
	const char *body = fmt_str(c, "body"), *cert = fmt_str(c, "cert"),
	           *sig64 = fmt_str(c, "signature");
	unsigned char *sig;
	size_t siglen = 0;
	int rc;

	if (!body || !cert || !sig64 || !(sig = unbase64(sig64, &siglen)))
		return fail(EX_PROTOCOL, "checkpoint %lld: the server's reply is incomplete", id);
	snprintf(name, sizeof(name), "%lld.txt", id);
	rc = write_file(cdir, name, body, strlen(body));
	snprintf(name, sizeof(name), "%lld.sig", id);
	if (rc == 0)
		rc = write_file(cdir, name, sig, siglen);
	snprintf(name, sizeof(name), "%lld.crt", id);
	if (rc == 0)
		rc = write_file(cdir, name, cert, strlen(cert));
	free(sig);
	return rc;
}

static int export_checkpoints(struct ctl *ctl, const char *dir, long long *count)
{
	char cdir[CTL_PATH_MAX + 16];
	long long after = 0;
	int rc;

	snprintf(cdir, sizeof(cdir), "%s/checkpoints", dir);
	if ((rc = make_dir(cdir)) != 0)
		return rc;
	for (;;) {
		json_object *req = rpc_new("audit_checkpoints"), *res = NULL, *cps;

		json_object_object_add(req, "after", json_object_new_int64(after));
		rc = rpc_call(ctl, req, &res);
		json_object_put(req);
		if (rc != 0)
			return rc;
		cps = fmt_get(res, "checkpoints");
		for (size_t i = 0; rc == 0 && cps && i < json_object_array_length(cps); i++) {
			rc = export_checkpoint(cdir, json_object_array_get_idx(cps, i));
			(*count)++;
		}
		after = fmt_int(res, "next", 0);
		json_object_put(res);
		if (rc != 0 || after <= 0)
			return rc;
	}
}

static int audit_export(struct ctl *ctl, const struct args *a, const char *dir)
{
	long long nev = 0, ncp = 0, after = 0;
	int rc = args_has(a, "after") ? args_int(a, "after", 0, PROTO_INT_MAX, &after) : 0;

	if (rc == 0)
		rc = make_dir(dir);

	/* checkpoints first: every one then lies within the events fetched after it */
	if (rc == 0)
		rc = export_checkpoints(ctl, dir, &ncp);
	if (rc == 0)
		rc = export_events(ctl, dir, after, &nev);
	if (rc == 0 && !ctl->json)
		printf("exported %lld events and %lld checkpoints to %s\n", nev, ncp, dir);
	return rc;
}

/* ---- verify ---- */

struct cp {
	long long id, seq;
	char head[HASH_HEX + 1];
	char at[40];
	bool seen; /* the event stream reached its seq */
};

struct verify {
	struct cp *cps;
	size_t ncps;
	bool failed;
};

static void bad(struct verify *v, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void bad(struct verify *v, const char *fmt, ...)
{
	va_list ap;

	v->failed = true;
	fputs("streetctl: audit verify: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static char *read_all(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	long n;

	if (!f)
		return NULL;
	if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 && n < (1L << 24) &&
	    fseek(f, 0, SEEK_SET) == 0 && (buf = malloc((size_t)n + 1))) {
		if (fread(buf, 1, (size_t)n, f) != (size_t)n) {
			free(buf);
			buf = NULL;
		} else {
			buf[n] = '\0';
			*len = (size_t)n;
		}
	}
	fclose(f);
	return buf;
}

/* "at 2026-11-27T10:00:00.123456Z" as a time_t, or -1. */
static time_t parse_at(const char *at)
{
	struct tm tm = { 0 };

	if (sscanf(at, "%4d-%2d-%2dT%2d:%2d:%2d", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour,
	           &tm.tm_min, &tm.tm_sec) != 6)
		return -1;
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	return timegm(&tm);
}

/* Whether the certificates of pem chain to the CA store as a TLS server's
 * at time t; the leaf is returned in *leaf (the caller frees it). */
static bool cert_ok(X509_STORE *store, const char *pem, time_t t, X509 **leaf, char *why,
                    size_t cap)
{
	BIO *bio = BIO_new_mem_buf(pem, -1);
	STACK_OF(X509) *rest = sk_X509_new_null();
	X509_STORE_CTX *ctx = X509_STORE_CTX_new();
	X509 *x;
	bool ok = false;

	*leaf = NULL;
	if (!bio || !rest || !ctx || !(*leaf = PEM_read_bio_X509(bio, NULL, NULL, NULL))) {
		snprintf(why, cap, "no certificate");
		goto out;
	}
	while ((x = PEM_read_bio_X509(bio, NULL, NULL, NULL)))
		sk_X509_push(rest, x);
	if (X509_STORE_CTX_init(ctx, store, *leaf, rest) != 1 ||
	    X509_STORE_CTX_set_purpose(ctx, X509_PURPOSE_SSL_SERVER) != 1) {
		snprintf(why, cap, "cannot check the certificate");
		goto out;
	}
	X509_STORE_CTX_set_time(ctx, 0, t);
	ok = X509_verify_cert(ctx) == 1;
	if (!ok)
		snprintf(why, cap, "certificate: %s",
		         X509_verify_cert_error_string(X509_STORE_CTX_get_error(ctx)));
out:
	X509_STORE_CTX_free(ctx);
	sk_X509_pop_free(rest, X509_free);
	BIO_free(bio);
	return ok;
}

/* Checks checkpoint dir/ID.{txt,sig,crt}; fills *cp from its body. */
static void verify_checkpoint(struct verify *v, X509_STORE *store, const char *cdir, long long id,
                              struct cp *cp)
{
	char path[CTL_PATH_MAX + 64], why[160];
	char *body = NULL, *sig = NULL, *pem = NULL, reason[128];
	size_t blen = 0, slen = 0, plen = 0;
	EVP_MD_CTX *md = NULL;
	X509 *leaf = NULL;
	const char *at;

	memset(cp, 0, sizeof(*cp));
	cp->id = id;
	snprintf(path, sizeof(path), "%s/%lld.txt", cdir, id);
	body = read_all(path, &blen);
	snprintf(path, sizeof(path), "%s/%lld.sig", cdir, id);
	sig = read_all(path, &slen);
	snprintf(path, sizeof(path), "%s/%lld.crt", cdir, id);
	pem = read_all(path, &plen);
	if (!body || !sig || !pem) {
		bad(v, "checkpoint %lld: its .txt, .sig or .crt file is missing", id);
		goto out;
	}
	if (sscanf(body, "streetd checkpoint v1\nseq %lld\nhead %64[0-9a-f]\nreason %127[^\n]\n",
	           &cp->seq, cp->head, reason) != 3 ||
	    strlen(cp->head) != HASH_HEX || !(at = strstr(body, "\nat ")) || parse_at(at + 4) < 0) {
		bad(v, "checkpoint %lld: the body is not a checkpoint", id);
		cp->seq = 0;
		goto out;
	}
	snprintf(cp->at, sizeof(cp->at), "%.*s", (int)strcspn(at + 4, "\n"), at + 4);
	if (!cert_ok(store, pem, parse_at(cp->at), &leaf, why, sizeof(why))) {
		bad(v, "checkpoint %lld (seq %lld): %s", id, cp->seq, why);
		cp->seq = 0;
		goto out;
	}
	md = EVP_MD_CTX_new();
	if (!md ||
	    EVP_DigestVerifyInit(md, NULL, EVP_sha256(), NULL, X509_get0_pubkey(leaf)) != 1 ||
	    EVP_DigestVerify(md, (const unsigned char *)sig, slen, (const unsigned char *)body,
	                     blen) != 1) {
		bad(v, "checkpoint %lld (seq %lld): the signature does not verify", id, cp->seq);
		cp->seq = 0;
	}
out:
	EVP_MD_CTX_free(md);
	X509_free(leaf);
	free(body);
	free(sig);
	free(pem);
}

static int cp_cmp(const void *a, const void *b)
{
	const struct cp *x = a, *y = b;

	return x->seq < y->seq ? -1 : x->seq > y->seq ? 1 : (x->id > y->id) - (x->id < y->id);
}

/* Reads and checks every checkpoint in dir/checkpoints (any file N.txt);
 * those that verify are kept in v->cps, sorted by seq. */
static int id_cmp(const void *a, const void *b)
{
	long long x = *(const long long *)a, y = *(const long long *)b;

	return (x > y) - (x < y);
}

static int load_checkpoints(struct verify *v, const char *dir, const char *ca)
{
	char cdir[CTL_PATH_MAX + 16];
	X509_STORE *store = X509_STORE_new();
	DIR *d;
	struct dirent *de;
	long long *ids = NULL;
	size_t nids = 0, cap = 0;

	snprintf(cdir, sizeof(cdir), "%s/checkpoints", dir);
	if (!store || X509_STORE_load_file(store, ca) != 1) {
		X509_STORE_free(store);
		return fail(EX_NOINPUT, "cannot read the CA certificates %s", ca);
	}
	if (!(d = opendir(cdir))) {
		X509_STORE_free(store);
		return fail(EX_NOINPUT, "cannot read %s: %s", cdir, strerror(errno));
	}
	while ((de = readdir(d))) {
		long long id;
		char ext[8];

		if (sscanf(de->d_name, "%lld.%7s", &id, ext) != 2 || strcmp(ext, "txt") != 0 ||
		    id <= 0)
			continue;
		if (nids == cap) {
			long long *n = realloc(ids, (cap = cap ? 2 * cap : 16) * sizeof(*n));

			if (!n)
				break;
			ids = n;
		}
		ids[nids++] = id;
	}
	closedir(d);
	/* in id order, so that messages come in a stable order */
	qsort(ids, nids, sizeof(*ids), id_cmp);
	v->cps = calloc(nids ? nids : 1, sizeof(*v->cps));
	for (size_t i = 0; v->cps && i < nids; i++) {
		verify_checkpoint(v, store, cdir, ids[i], &v->cps[v->ncps]);
		if (v->cps[v->ncps].seq > 0)
			v->ncps++;
	}
	free(ids);
	X509_STORE_free(store);
	if (!v->cps)
		return fail(EX_SOFTWARE, "out of memory");
	qsort(v->cps, v->ncps, sizeof(*v->cps), cp_cmp);
	return 0;
}

static void sha256_hex(const char *prev, const char *canon, size_t len, char out[HASH_HEX + 1])
{
	unsigned char md[32];
	unsigned int n = 0;
	EVP_MD_CTX *c = EVP_MD_CTX_new();

	out[0] = '\0';
	if (!c || EVP_DigestInit_ex(c, EVP_sha256(), NULL) != 1 ||
	    EVP_DigestUpdate(c, prev, HASH_HEX) != 1 || EVP_DigestUpdate(c, canon, len) != 1 ||
	    EVP_DigestFinal_ex(c, md, &n) != 1 || n != 32) {
		EVP_MD_CTX_free(c);
		return;
	}
	EVP_MD_CTX_free(c);
	for (int i = 0; i < 32; i++)
		snprintf(out + 2 * i, 3, "%02x", md[i]);
}

/* The checkpoints at seq (there may be several), against the chain's hash
 * there; last_cp is the seq of the last checkpoint that matched. */
static void check_cps_at(struct verify *v, long long seq, const char *hash, long long *last_cp)
{
	for (size_t i = 0; i < v->ncps; i++) {
		struct cp *cp = &v->cps[i];

		if (cp->seq != seq || cp->seen)
			continue;
		cp->seen = true;
		if (strcmp(cp->head, hash) != 0)
			bad(v,
			    "the chain at seq %lld differs from checkpoint %lld signed at %s: an "
			    "event "
			    "after seq %lld and up to seq %lld was changed, removed or inserted, "
			    "and the "
			    "chain recomputed",
			    seq, cp->id, cp->at, *last_cp, seq);
		else
			*last_cp = seq;
	}
}

/* One pass over events.tsv; stops at the first event that fails. */
static int verify_events(struct verify *v, const char *dir, long long *nev, long long *last,
                         char head[HASH_HEX + 1])
{
	char path[CTL_PATH_MAX + 64];
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;
	long long lineno = 0, last_seq = 0, chained = 0, last_cp = 0;
	FILE *f;

	snprintf(head, HASH_HEX + 1, "%s", H0);
	/* a partial export starts at the hash of the event before it; the
	 * checkpoints before that are not this export's to check */
	snprintf(path, sizeof(path), "%s/start.txt", dir);
	if ((f = fopen(path, "rb"))) {
		char h[HASH_HEX + 2] = "";

		if (fscanf(f, "%lld %65s", &chained, h) != 2 || chained <= 0 ||
		    strlen(h) != HASH_HEX) {
			fclose(f);
			bad(v, "start.txt is not 'SEQ HASH'");
			return 0;
		}
		fclose(f);
		memcpy(head, h, HASH_HEX + 1);
		last_seq = chained;
		for (size_t i = 0; i < v->ncps; i++)
			if (v->cps[i].seq < chained)
				v->cps[i].seen = true;
		check_cps_at(v, chained, head, &last_cp);
	}
	snprintf(path, sizeof(path), "%s/events.tsv", dir);
	if (!(f = fopen(path, "rb")))
		return fail(EX_NOINPUT, "cannot read %s: %s", path, strerror(errno));
	while (!v->failed && (len = getline(&line, &cap, f)) > 0) {
		char *p = line, *prev_s, *hash, *canon, *end;
		long long seq, prev, cseq;
		char h[HASH_HEX + 1];

		lineno++;
		if (line[len - 1] == '\n')
			line[--len] = '\0';
		seq = strtoll(p, &end, 10);
		if (*end != '\t' || seq <= 0) {
			bad(v, "events.tsv line %lld is not an event line", lineno);
			break;
		}
		prev_s = end + 1;
		hash = strchr(prev_s, '\t');
		canon = hash ? strchr(hash + 1, '\t') : NULL;
		if (!canon) {
			bad(v, "events.tsv line %lld is not an event line", lineno);
			break;
		}
		*hash++ = '\0';
		*canon++ = '\0';
		prev = *prev_s ? strtoll(prev_s, NULL, 10) : 0;
		if (seq <= last_seq) {
			bad(v, "events.tsv is not in seq order at line %lld (seq %lld)", lineno,
			    seq);
			break;
		}
		last_seq = seq;
		/* the checkpoints between the last chained event and this one: their
		 * events are gone */
		for (size_t i = 0; i < v->ncps; i++)
			if (!v->cps[i].seen && v->cps[i].seq > chained && v->cps[i].seq < seq) {
				v->cps[i].seen = true;
				bad(v, "event %lld was removed: checkpoint %lld is signed on it",
				    v->cps[i].seq, v->cps[i].id);
			}
		if (v->failed)
			break;
		if (*hash == '\0') {
			bad(v, "event %lld was inserted: it is in the log but not in the chain",
			    seq);
			break;
		}
		if (*canon == '\0') {
			bad(v,
			    "event %lld was removed: the chain has its hash, the log has no event",
			    seq);
			break;
		}
		if (prev != chained) {
			if (prev > chained)
				bad(v, "event %lld was removed: event %lld is chained after it",
				    prev, seq);
			else
				bad(v,
				    "event %lld was inserted: event %lld is chained after event "
				    "%lld",
				    chained, seq, prev);
			break;
		}
		cseq = strtoll(canon, &end, 10);
		sha256_hex(head, canon, (size_t)(line + len - canon), h);
		if (cseq != seq || *end != '\t' || strcmp(h, hash) != 0) {
			bad(v, "event %lld was changed: its hash does not match the chain", seq);
			break;
		}
		memcpy(head, h, sizeof(h));
		chained = seq;
		(*nev)++;
		check_cps_at(v, seq, head, &last_cp);
	}
	free(line);
	fclose(f);
	*last = chained;
	for (size_t i = 0; !v->failed && i < v->ncps; i++)
		if (!v->cps[i].seen)
			bad(v,
			    "events after seq %lld were removed: checkpoint %lld is signed on seq "
			    "%lld",
			    chained, v->cps[i].id, v->cps[i].seq);
	return 0;
}

static int audit_verify(struct ctl *ctl, const char *dir)
{
	struct verify v = { 0 };
	char head[HASH_HEX + 1];
	long long nev = 0, last = 0;
	int rc;

	if (ctl->set.ca[0] == '\0')
		return fail_usage("audit",
		                  "verify needs --ca FILE: the CA of the server's certificate");
	rc = load_checkpoints(&v, dir, ctl->set.ca);
	if (rc == 0)
		rc = verify_events(&v, dir, &nev, &last, head);
	if (rc == 0 && v.failed)
		rc = EX_DATAERR;
	else if (rc == 0 && v.ncps == 0)
		printf("verified: %lld events up to seq %lld, head %s; no checkpoint\n", nev, last,
		       head);
	else if (rc == 0)
		printf("verified: %lld events up to seq %lld, head %s; %zu checkpoints, the latest "
		       "signed at %s on seq %lld\n",
		       nev, last, head, v.ncps, v.cps[v.ncps - 1].at, v.cps[v.ncps - 1].seq);
	free(v.cps);
	return rc;
}

int cmd_audit(struct ctl *ctl, const struct args *a)
{
	if (strcmp(a->pos[0], "export") == 0)
		return audit_export(ctl, a, a->pos[1]);
	if (strcmp(a->pos[0], "verify") == 0)
		return audit_verify(ctl, a->pos[1]);
	return fail_usage("audit", "'%s' is not export or verify", a->pos[0]);
}
