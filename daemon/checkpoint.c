#include "checkpoint.h"

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "db.h"
#include "events.h"
#include "evtime.h"
#include "log.h"

/* How often the leader asks what to sign: a period lock's checkpoint is
 * signed within about this long of the chain reaching it. */
#define CHECK_MS 1000
#define MAGIC    "streetd checkpoint v1\n"

enum { CP_DUE, CP_STORE, CP_NSTMTS };

static const struct db_stmt cp_stmts[CP_NSTMTS] = {
	[CP_DUE] = { "cp_due", "SELECT request_id, seq, body FROM street.st_checkpoint_due($1, $2)",
	             2, NULL },
	[CP_STORE] = { "cp_store", "SELECT street.st_checkpoint_store($1, $2, $3, $4, $5)", 5,
	               NULL },
};

struct checkpoint {
	const struct streetd_config *cfg;
	const struct events *events;
	SSL_CTX *const *ssl_ctx;
	struct db_pool *db;
	struct event *ev_check;
	int busy; /* queries on the wire: no new round until they are done */
};

int checkpoint_sign(SSL_CTX *ctx, const char *data, size_t len, unsigned char **sig, size_t *siglen)
{
	EVP_PKEY *key = ctx ? SSL_CTX_get0_privatekey(ctx) : NULL;
	EVP_MD_CTX *md = NULL;
	unsigned char *buf = NULL;
	size_t n = 0;
	int rc = -1;

	*sig = NULL;
	*siglen = 0;
	if (!key || len < strlen(MAGIC) || memcmp(data, MAGIC, strlen(MAGIC)) != 0)
		return -1;
	md = EVP_MD_CTX_new();
	if (!md || EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, key) != 1 ||
	    EVP_DigestSign(md, NULL, &n, (const unsigned char *)data, len) != 1)
		goto out;
	buf = malloc(n);
	if (!buf || EVP_DigestSign(md, buf, &n, (const unsigned char *)data, len) != 1)
		goto out;
	*sig = buf;
	*siglen = n;
	buf = NULL;
	rc = 0;
out:
	free(buf);
	EVP_MD_CTX_free(md);
	return rc;
}

char *checkpoint_cert_pem(SSL_CTX *ctx)
{
	X509 *leaf = ctx ? SSL_CTX_get0_certificate(ctx) : NULL;
	STACK_OF(X509) *chain = NULL;
	BIO *bio;
	char *out = NULL, *p;
	long n;
	bool ok;

	if (!leaf || !(bio = BIO_new(BIO_s_mem())))
		return NULL;
	ok = PEM_write_bio_X509(bio, leaf) == 1;
	if (ok && SSL_CTX_get0_chain_certs(ctx, &chain) == 1 && chain)
		for (int i = 0; ok && i < sk_X509_num(chain); i++)
			ok = PEM_write_bio_X509(bio, sk_X509_value(chain, i)) == 1;
	n = BIO_get_mem_data(bio, &p);
	if (ok && n > 0 && (out = malloc((size_t)n + 1))) {
		memcpy(out, p, (size_t)n);
		out[n] = '\0';
	}
	BIO_free(bio);
	return out;
}

static void store_done(void *arg, enum db_status st, const PGresult *res)
{
	struct checkpoint *cp = arg;

	cp->busy--;
	if (st != DB_OK)
		log_warn("storing a checkpoint failed: %s",
		         st == DB_ERROR ? db_error_message(res) : "no database");
	else if (!PQgetisnull(res, 0, 0))
		log_info("checkpoint signed id=%s", PQgetvalue(res, 0, 0));
}

/* Signs one due row and stores it; false if it could not be sent. */
static bool sign_row(struct checkpoint *cp, const PGresult *res, int i)
{
	const char *body = PQgetvalue(res, i, 2);
	unsigned char *sig = NULL;
	size_t siglen = 0;
	char *hex = NULL, *pem = checkpoint_cert_pem(*cp->ssl_ctx);
	bool sent = false;

	if (!pem || checkpoint_sign(*cp->ssl_ctx, body, strlen(body), &sig, &siglen) != 0 ||
	    !(hex = malloc(2 * siglen + 3))) {
		log_err("cannot sign checkpoint request=%s with the TLS key",
		        PQgetvalue(res, i, 0));
		goto out;
	}
	memcpy(hex, "\\x", 2);
	for (size_t k = 0; k < siglen; k++)
		snprintf(hex + 2 + 2 * k, 3, "%02x", sig[k]);
	sent = db_query(cp->db, CP_STORE, 5,
	                (const char *[]){ PQgetvalue(res, i, 0), PQgetvalue(res, i, 1), body, hex,
	                                  pem },
	                store_done, cp) != NULL;
out:
	free(sig);
	free(hex);
	free(pem);
	return sent;
}

static void due_done(void *arg, enum db_status st, const PGresult *res)
{
	struct checkpoint *cp = arg;

	cp->busy--;
	if (st != DB_OK) {
		log_warn("asking for due checkpoints failed: %s",
		         st == DB_ERROR ? db_error_message(res) : "no database");
		return;
	}
	for (int i = 0; i < PQntuples(res); i++)
		if (sign_row(cp, res, i))
			cp->busy++;
}

static void check_cb(evutil_socket_t fd, short what, void *arg)
{
	struct checkpoint *cp = arg;
	char interval[24], events[24];

	evtime_add_ms(cp->ev_check, CHECK_MS);
	if (cp->busy > 0 || !events_is_sweeper(cp->events) || db_pool_ready(cp->db) == 0)
		return;
	snprintf(interval, sizeof(interval), "%lld",
	         (long long)cp->cfg->audit.checkpoint_interval_ms);
	snprintf(events, sizeof(events), "%d", cp->cfg->audit.checkpoint_events);
	if (db_query(cp->db, CP_DUE, 2, (const char *[]){ interval, events }, due_done, cp))
		cp->busy++;
}

struct checkpoint *checkpoint_new(struct event_base *base, const struct streetd_config *cfg,
                                  const struct events *events, SSL_CTX *const *ssl_ctx)
{
	struct checkpoint *cp = calloc(1, sizeof(*cp));
	struct db_pool_config c = db_pool_config_of(cfg);

	if (!cp)
		return NULL;
	cp->cfg = cfg;
	cp->events = events;
	cp->ssl_ctx = ssl_ctx;
	c.size = 1;
	c.max_queue = 100;
	c.pipeline_depth = 8;
	c.application_name = "streetd checkpoint";
	cp->ev_check = evtimer_new(base, check_cb, cp);
	cp->db = db_pool_new(base, &c, cp_stmts, CP_NSTMTS, NULL, NULL);
	if (!cp->ev_check || !cp->db) {
		checkpoint_free(cp);
		return NULL;
	}
	evtime_add_ms(cp->ev_check, CHECK_MS);
	return cp;
}

void checkpoint_free(struct checkpoint *cp)
{
	if (!cp)
		return;
	db_pool_free(cp->db);
	if (cp->ev_check)
		event_free(cp->ev_check);
	free(cp);
}
