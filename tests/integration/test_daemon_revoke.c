/*
 * Revocation against the real streetd: a certificate revoked by a CRL reload
 * (SIGHUP) loses its open sessions, not only its next handshake; the daemon
 * warns before the CRL's nextUpdate, and once it has passed OpenSSL refuses
 * every new handshake until a fresh CRL is installed and reloaded.
 *
 * The CRLs are made here, signed with the test CA's key, into the daemon's
 * own directory.
 */
#include <check.h>
#include <openssl/bn.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "tdaemon.h"

static X509 *read_cert(const char *path)
{
	FILE *f = fopen(path, "r");
	X509 *x;

	ck_assert_msg(f != NULL, "cannot open %s", path);
	x = PEM_read_X509(f, NULL, NULL, NULL);
	fclose(f);
	ck_assert_msg(x != NULL, "no certificate in %s", path);
	return x;
}

/* The serial of a test certificate as the daemon logs it. */
static char *serial_of(const char *name)
{
	X509 *x = read_cert(ttls_path(name));
	BIGNUM *bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(x), NULL);
	char *hex = BN_bn2hex(bn), *digits = hex, *out;

	while (digits[0] == '0' && digits[1] != '\0')
		digits++; /* logged without leading zeros */
	out = strdup(digits);

	OPENSSL_free(hex);
	BN_free(bn);
	X509_free(x);
	return out;
}

/* Writes a CRL of the test CA to path, valid from a minute ago until
 * next_s seconds from now, revoking the certificate `revoke` (or none). */
static void make_crl(const char *path, const char *revoke, long next_s)
{
	X509 *ca = read_cert(ttls_path("ca.crt"));
	FILE *f = fopen(ttls_path("ca.key"), "r");
	EVP_PKEY *key;
	X509_CRL *crl = X509_CRL_new();
	ASN1_TIME *last = X509_gmtime_adj(NULL, -60), *next = X509_gmtime_adj(NULL, next_s);
	char tmp[4200];

	ck_assert_ptr_nonnull(f);
	key = PEM_read_PrivateKey(f, NULL, NULL, NULL);
	fclose(f);
	ck_assert_ptr_nonnull(key);
	ck_assert_int_eq(X509_CRL_set_version(crl, 1), 1);
	ck_assert_int_eq(X509_CRL_set_issuer_name(crl, X509_get_subject_name(ca)), 1);
	ck_assert_int_eq(X509_CRL_set1_lastUpdate(crl, last), 1);
	ck_assert_int_eq(X509_CRL_set1_nextUpdate(crl, next), 1);
	if (revoke) {
		X509 *victim = read_cert(ttls_path(revoke));
		X509_REVOKED *r = X509_REVOKED_new();

		X509_REVOKED_set_serialNumber(r, X509_get_serialNumber(victim));
		X509_REVOKED_set_revocationDate(r, last);
		ck_assert_int_eq(X509_CRL_add0_revoked(crl, r), 1);
		X509_free(victim);
	}
	X509_CRL_sort(crl);
	ck_assert_int_gt(X509_CRL_sign(crl, key, EVP_sha256()), 0);
	/* written whole, then renamed: the daemon never reads half a file */
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	f = fopen(tmp, "w");
	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(PEM_write_X509_CRL(f, crl), 1);
	fclose(f);
	ck_assert_int_eq(rename(tmp, path), 0);
	ASN1_TIME_free(last);
	ASN1_TIME_free(next);
	X509_CRL_free(crl);
	X509_free(ca);
	EVP_PKEY_free(key);
}

/* A daemon whose tls.crl is <dir>/crl.pem, made first by make_crl(revoke, next_s),
 * with more settings (lines). */
static struct tdaemon *start_with_crl_and(const char *revoke, long next_s, char *crl, size_t cap,
                                          const char *more)
{
	struct tdaemon *d = tdaemon_new(NULL);
	char set[4800];

	snprintf(crl, cap, "%s/crl.pem", tdaemon_dir(d));
	make_crl(crl, revoke, next_s);
	snprintf(set, sizeof(set), "tls.crl=\"%s\"\n%s", crl, more);
	tdaemon_rewrite_config(d, set);
	ck_assert_msg(tdaemon_launch(d), "streetd did not start:\n%s", tdaemon_log(d));
	return d;
}

/* A daemon whose tls.crl is <dir>/crl.pem, made first by make_crl(revoke, next_s). */
static struct tdaemon *start_with_crl(const char *revoke, long next_s, char *crl, size_t cap)
{
	return start_with_crl_and(revoke, next_s, crl, cap, "");
}

static int count(const char *hay, const char *needle)
{
	int n = 0;

	for (const char *p = hay; (p = strstr(p, needle)) != NULL; p++)
		n++;
	return n;
}

/* A raw TLS connection to the HTTPS port as login; with request (e.g. "GET
 * /api/events"), sends it and reads the status line and headers. */
static struct tclient *http_open(int port, struct tdaemon *d, const char *login,
                                 const char *request)
{
	struct tclient *t;
	char req[256], *line;
	int n;

	tclient_set_port(port);
	t = tclient_connect(d, login);
	tclient_set_port(0);
	if (!request)
		return t;
	n = snprintf(req, sizeof(req), "%s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n\r\n", request, port);
	ck_assert_int_eq(tclient_send_raw(t, req, (size_t)n), 0);
	line = tclient_recv_line(t, 10000);
	ck_assert_msg(line != NULL && strstr(line, " 200 ") != NULL, "%s: %s", request,
	              line ? line : "no answer");
	do
		free(line);
	while ((line = tclient_recv_line(t, 10000)) != NULL && line[0]);
	free(line);
	return t;
}

/* POST /api whoami on a kept-alive connection; the answer's HTTP status. */
static int http_whoami(struct tclient *t, int port)
{
	static const char body[] = "{\"id\":1,\"op\":\"whoami\"}";
	char req[512], *line;
	int n, status = 0, length = -1;

	n = snprintf(req, sizeof(req),
	             "POST /api HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nOrigin: https://127.0.0.1:%d\r\n"
	             "Content-Type: application/json\r\nContent-Length: %zu\r\n\r\n%s",
	             port, port, sizeof(body) - 1, body);
	ck_assert_int_eq(tclient_send_raw(t, req, (size_t)n), 0);
	line = tclient_recv_line(t, 10000);
	ck_assert_msg(line != NULL && sscanf(line, "HTTP/1.1 %d", &status) == 1, "no status line");
	do {
		if (strncasecmp(line, "Content-Length:", 15) == 0)
			length = atoi(line + 15);
		free(line);
	} while ((line = tclient_recv_line(t, 10000)) != NULL && line[0]);
	free(line);
	ck_assert_int_gt(length, 0);
	line = tclient_recv_line(t, 10000); /* the body: one JSON line */
	ck_assert_msg(line != NULL && strlen(line) + 1 == (size_t)length, "body: %s",
	              line ? line : "none");
	free(line);
	return status;
}

/* Sends SIGHUP and waits for the nth reload's outcome ("reloaded" or
 * "reload refused"). */
static void reload(struct tdaemon *d, int nth)
{
	long long until = tnow_ms() + 10000;

	tdaemon_signal(d, SIGHUP);
	while (count(tdaemon_log(d), "reloaded") + count(tdaemon_log(d), "reload refused") < nth) {
		ck_assert_msg(tnow_ms() < until, "reload %d did not finish:\n%s", nth,
		              tdaemon_log(d));
		usleep(50000);
	}
}

START_TEST(revoked_on_reload_closes_open_sessions)
{
	char crl[4096], want[256], *serial = serial_of("wang.fang.crt");
	struct tdaemon *d = start_with_crl(NULL, 30L * 86400, crl, sizeof(crl));
	struct tclient *victim = tclient_connect(d, "wang.fang");
	struct tclient *other = tclient_connect(d, "zhang.wei");
	char detail[512];
	json_object *r;

	tclient_ok(victim, "{\"op\":\"subscribe\"}");
	tclient_ok(other, "{\"op\":\"whoami\"}");

	make_crl(crl, "wang.fang.crt", 30L * 86400);
	reload(d, 1);
	ck_assert_msg(tclient_wait_closed(victim, 5000) >= 0,
	              "the session of a revoked certificate is still open after the reload");
	r = tclient_recv(victim, 0);
	ck_assert_msg(r != NULL, "closed without a line");
	ck_assert_reply_code(r, "unauthenticated");
	ck_assert_msg(strstr(tj_str(r, "error.message"), "certificate revoked") != NULL, "%s",
	              tj_dump(r));
	snprintf(want, sizeof(want), "account=wang.fang cn=wang.fang serial=%s", serial);
	ck_assert_msg(strstr(tdaemon_log(d), want) != NULL, "the log does not say \"%s\":\n%s",
	              want, tdaemon_log(d));
	tclient_close(victim);

	/* the others are untouched, and the revoked certificate cannot come back */
	tclient_ok(other, "{\"op\":\"whoami\"}");
	ck_assert_msg(tclient_refused(d, ttls_path("wang.fang.crt"), ttls_path("wang.fang.key"),
	                              5000, detail, sizeof(detail)),
	              "the revoked certificate got in again: %s", detail);
	tclient_close(other);
	free(serial);
	ck_assert_int_eq(tdaemon_stop(d, SIGTERM), 0);
}
END_TEST

/* Over HTTPS as well: after the reload a revoked certificate's event stream
 * ends with an error event, and its kept-alive connection is refused. */
START_TEST(revoked_on_reload_ends_https_streams)
{
	char crl[4096], set[128], *line;
	int port = tdaemon_free_port();
	struct tdaemon *d;
	struct tclient *stream, *kept, *other;
	bool ended = false;

	snprintf(set, sizeof(set), "http.enabled=true\nhttp.listen=127.0.0.1:%d\n", port);
	d = start_with_crl_and(NULL, 30L * 86400, crl, sizeof(crl), set);
	stream = http_open(port, d, "wang.fang", "GET /api/events");
	kept = http_open(port, d, "wang.fang", NULL);
	other = http_open(port, d, "zhang.wei", "GET /api/events");
	ck_assert_int_eq(http_whoami(kept, port), 200);

	make_crl(crl, "wang.fang.crt", 30L * 86400);
	reload(d, 1);
	/* the stream's last message is an error event, then it ends */
	while (!ended && (line = tclient_recv_line(stream, 10000)) != NULL) {
		ended = strstr(line, "\"unauthenticated\"") != NULL &&
		        strstr(line, "certificate revoked") != NULL;
		free(line);
	}
	ck_assert_msg(ended, "the revoked certificate's event stream did not end:\n%s",
	              tdaemon_log(d));
	ck_assert_int_ge(tclient_wait_closed(stream, 10000), 0);
	ck_assert_int_eq(http_whoami(kept, port), 401);
	ck_assert_msg(strstr(tdaemon_log(d), "refused https connections=2") != NULL, "%s",
	              tdaemon_log(d));
	/* another account's stream goes on */
	ck_assert_int_eq(tclient_wait_closed(other, 500), -1);
	tclient_close(stream);
	tclient_close(kept);
	tclient_close(other);
	ck_assert_int_eq(tdaemon_stop(d, SIGTERM), 0);
}
END_TEST

START_TEST(reload_that_revokes_nothing_closes_nothing)
{
	char crl[4096];
	struct tdaemon *d = start_with_crl(NULL, 30L * 86400, crl, sizeof(crl));
	struct tclient *c = tclient_connect(d, "wang.fang");

	tclient_ok(c, "{\"op\":\"whoami\"}");
	make_crl(crl, "nobody.crt", 30L * 86400);
	reload(d, 1);
	tclient_ok(c, "{\"op\":\"whoami\"}");
	ck_assert_msg(strstr(tdaemon_log(d), "no longer accepted") == NULL, "%s", tdaemon_log(d));
	tclient_close(c);
	ck_assert_int_eq(tdaemon_stop(d, SIGTERM), 0);
}
END_TEST

START_TEST(crl_close_to_next_update_warns)
{
	char crl[4096];
	struct tdaemon *d = start_with_crl(NULL, 3L * 86400, crl, sizeof(crl));

	ck_assert_msg(tdaemon_log_wait(d, "expires at", 5000),
	              "no warning at start for a CRL that expires in 3 days:\n%s", tdaemon_log(d));
	ck_assert_msg(strstr(tdaemon_log(d), "in 71 h") || strstr(tdaemon_log(d), "in 72 h"), "%s",
	              tdaemon_log(d));
	ck_assert_int_eq(tdaemon_stop(d, SIGTERM), 0);

	/* a month left: no warning */
	d = start_with_crl(NULL, 30L * 86400, crl, sizeof(crl));
	tclient_close(tclient_connect(d, "zhang.wei"));
	ck_assert_msg(strstr(tdaemon_log(d), "expires at") == NULL, "%s", tdaemon_log(d));
	ck_assert_int_eq(tdaemon_stop(d, SIGTERM), 0);
}
END_TEST

/* What docs/operations.md tells the operator about an expired CRL. */
START_TEST(expired_crl_refuses_new_handshakes_until_a_new_one)
{
	char crl[4096], detail[512];
	struct tdaemon *d = start_with_crl(NULL, 3, crl, sizeof(crl));
	struct tclient *c = tclient_connect(d, "zhang.wei");

	tclient_ok(c, "{\"op\":\"whoami\"}");
	ck_assert_msg(tdaemon_log_wait(d, "expired at", 10000),
	              "no error when the CRL expired:\n%s", tdaemon_log(d));
	ck_assert_msg(tclient_refused(d, ttls_path("wang.fang.crt"), ttls_path("wang.fang.key"),
	                              5000, detail, sizeof(detail)),
	              "a new handshake succeeded with an expired CRL: %s", detail);
	ck_assert_msg(tdaemon_log_wait(d, "CRL has expired", 3000), "%s", tdaemon_log(d));
	/* a session opened before stays (it is re-checked only at a reload) */
	tclient_ok(c, "{\"op\":\"whoami\"}");

	/* reloading the same file is refused, and changes nothing */
	reload(d, 1);
	ck_assert_msg(strstr(tdaemon_log(d), "reload refused") != NULL, "%s", tdaemon_log(d));
	ck_assert_msg(tclient_refused(d, ttls_path("wang.fang.crt"), ttls_path("wang.fang.key"),
	                              5000, detail, sizeof(detail)),
	              "%s", detail);

	/* a fresh CRL and a reload: in again */
	make_crl(crl, NULL, 30L * 86400);
	reload(d, 2);
	ck_assert_msg(strstr(tdaemon_log(d), "reloaded") != NULL, "%s", tdaemon_log(d));
	tclient_close(c);
	c = tclient_connect(d, "wang.fang");
	tclient_ok(c, "{\"op\":\"whoami\"}");
	tclient_close(c);
	ck_assert_int_eq(tdaemon_stop(d, SIGTERM), 0);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("daemon_revoke");
	TCase *tc = tcase_create("revoke");

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, revoked_on_reload_closes_open_sessions);
	tcase_add_test(tc, revoked_on_reload_ends_https_streams);
	tcase_add_test(tc, reload_that_revokes_nothing_closes_nothing);
	tcase_add_test(tc, crl_close_to_next_update_warns);
	tcase_add_test(tc, expired_crl_refuses_new_handshakes_until_a_new_one);
	suite_add_tcase(s, tc);
	return tdaemon_run_suite(s);
}
