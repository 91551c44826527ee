/*
 * Accounts pinned to their certificate's issuer, against the real streetd
 * during a CA changeover: tls.ca holds the test CA and a second CA with the
 * same subject (scripts/tls: ca-both.crt), and the second CA has minted a
 * certificate for t.pinned (second.crt). The handshake accepts both
 * certificates; the pin decides. Unpinned accounts are refused while tls.ca
 * holds two CAs, and accepted with a warning when it holds one.
 *
 * Only this suite uses t.pinned; an unchecked fixture unpins it.
 */
#include <check.h>
#include <openssl/bn.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tdaemon.h"
#include "tdb.h"

static X509 *read_cert(const char *name)
{
	FILE *f = fopen(ttls_path(name), "r");
	X509 *x;

	ck_assert_msg(f != NULL, "cannot open %s", ttls_path(name));
	x = PEM_read_X509(f, NULL, NULL, NULL);
	fclose(f);
	ck_assert_msg(x != NULL, "no certificate in %s", ttls_path(name));
	return x;
}

/* sha256 of the certificate's SubjectPublicKeyInfo, lower-case hex (65 bytes). */
static void spki_of(const char *name, char *hex)
{
	X509 *x = read_cert(name);
	unsigned char *der = NULL, md[32];
	unsigned int n = 0;
	int len = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(x), &der);

	ck_assert_int_gt(len, 0);
	ck_assert_int_eq(EVP_Digest(der, (size_t)len, md, &n, EVP_sha256(), NULL), 1);
	for (unsigned int i = 0; i < n; i++)
		snprintf(hex + 2 * i, 3, "%02x", md[i]);
	OPENSSL_free(der);
	X509_free(x);
}

static void serial_of(const char *name, char *out, size_t cap)
{
	X509 *x = read_cert(name);
	BIGNUM *bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(x), NULL);
	char *hex = BN_bn2hex(bn);

	const char *digits = hex;

	while (digits[0] == '0' && digits[1] != '\0')
		digits++; /* the pin's form: no leading zeros */
	snprintf(out, cap, "%s", digits);
	OPENSSL_free(hex);
	BN_free(bn);
	X509_free(x);
}

/* Sets t.pinned's pins (NULL = none). */
static void pin(const char *issuer, const char *serial, const char *spki)
{
	PGconn *admin = tdb_connect(true);
	const char *p[] = { issuer, serial, spki };

	tdb_int(admin,
	        "WITH u AS (UPDATE street.account SET pin_issuer_spki = $1, pin_serial = $2,"
	        " pin_spki = $3 WHERE login = 't.pinned' RETURNING 1) SELECT count(*) FROM u",
	        3, p);
	PQfinish(admin);
}

static void unpin(void)
{
	pin(NULL, NULL, NULL);
}

static struct tdaemon *start_two_cas(void)
{
	char set[4200];

	snprintf(set, sizeof(set), "tls.ca=\"%s\"", ttls_path("ca-both.crt"));
	return tdaemon_start(set);
}

/* Connects with the certificate; expects one unauthenticated line whose
 * message holds `why`, then the close. */
static void expect_refused(struct tdaemon *d, const char *name, const char *why)
{
	char crt[64], key[64];
	struct tclient *c;
	json_object *r;

	snprintf(crt, sizeof(crt), "%s.crt", name);
	snprintf(key, sizeof(key), "%s.key", name);
	c = tclient_connect_files(d, ttls_path(crt), ttls_path(key));
	r = tclient_recv(c, 10000);
	ck_assert_msg(r != NULL, "%s: no refusal line (%s)", name,
	              tclient_closed(c) ? "closed without a line" : "timeout");
	ck_assert_reply_code(r, "unauthenticated");
	ck_assert_msg(strstr(tj_str(r, "error.message"), why) != NULL, "%s: want \"%s\", got %s",
	              name, why, tj_dump(r));
	ck_assert_msg(tclient_wait_closed(c, 5000) >= 0, "%s: still open after the refusal", name);
	tclient_close(c);
}

/* Connects with the certificate name.crt: logged in as t.pinned. */
static void expect_in(struct tdaemon *d, const char *name)
{
	struct tclient *c = tclient_connect(d, name);

	ck_assert_str_eq(tj_str(tclient_ok(c, "{\"op\":\"whoami\"}"), "result.account.login"),
	                 "t.pinned");
	tclient_close(c);
}

START_TEST(two_cas_refuse_unpinned_accounts)
{
	struct tdaemon *d = start_two_cas();

	expect_refused(d, "t.pinned", "not pinned to a CA");
	/* the second CA's certificate passes the handshake: only the policy stops it */
	expect_refused(d, "second", "not pinned to a CA");
	expect_refused(d, "zhang.wei", "not pinned to a CA");
	ck_assert_int_eq(tdaemon_stop(d, SIGTERM), 0);
}
END_TEST

START_TEST(pinned_to_issuer_other_ca_refused)
{
	char issuer[65], other[65];
	struct tdaemon *d;

	spki_of("ca.crt", issuer);
	spki_of("second-ca.crt", other);
	ck_assert_str_ne(issuer, other);
	pin(issuer, NULL, NULL);
	d = start_two_cas();
	expect_in(d, "t.pinned");
	expect_refused(d, "second", "not from the CA account t.pinned is pinned to");
	ck_assert_msg(tdaemon_log_wait(d, "session refused", 3000), "%s", tdaemon_log(d));

	/* re-pinned to the second CA: the other way round */
	pin(other, NULL, NULL);
	expect_in(d, "second");
	expect_refused(d, "t.pinned", "not from the CA");
	ck_assert_int_eq(tdaemon_stop(d, SIGTERM), 0);
}
END_TEST

START_TEST(pinned_to_certificate)
{
	char issuer[65], spki[65], serial[80];
	struct tdaemon *d;

	spki_of("ca.crt", issuer);
	spki_of("t.pinned.crt", spki);
	serial_of("t.pinned.crt", serial, sizeof(serial));
	pin(issuer, serial, spki);
	d = start_two_cas();
	expect_in(d, "t.pinned");
	pin(issuer, "ABC", NULL);
	expect_refused(d, "t.pinned", "(serial)");
	pin(issuer, NULL, issuer);
	expect_refused(d, "t.pinned", "(key)");
	pin(issuer, serial, NULL);
	expect_in(d, "t.pinned");
	ck_assert_int_eq(tdaemon_stop(d, SIGTERM), 0);
}
END_TEST

START_TEST(pin_change_closes_open_session)
{
	char issuer[65], other[65];
	struct tdaemon *d;
	struct tclient *c;
	json_object *r;

	spki_of("ca.crt", issuer);
	spki_of("second-ca.crt", other);
	pin(issuer, NULL, NULL);
	d = start_two_cas();
	c = tclient_connect(d, "t.pinned");
	tclient_ok(c, "{\"op\":\"whoami\"}");
	pin(other, NULL, NULL);
	ck_assert_msg(tclient_wait_closed(c, 10000) >= 0, "still open after re-pinning");
	r = tclient_recv(c, 0);
	ck_assert_msg(r != NULL, "closed without a line");
	ck_assert_reply_code(r, "unauthenticated");
	tclient_close(c);
	ck_assert_int_eq(tdaemon_stop(d, SIGTERM), 0);
}
END_TEST

START_TEST(one_ca_unpinned_accepted_with_warning)
{
	struct tdaemon *d = tdaemon_start(NULL);

	expect_in(d, "t.pinned");
	ck_assert_msg(tdaemon_log_wait(d, "account not pinned to a CA account=t.pinned", 3000),
	              "no warning:\n%s", tdaemon_log(d));
	ck_assert_int_eq(tdaemon_stop(d, SIGTERM), 0);
}
END_TEST

START_TEST(bad_pins_are_refused_by_the_schema)
{
	PGconn *admin = tdb_connect(true);
	const char *bad[][3] = {
		{ "ABCDEF", NULL, NULL }, /* not a SHA-256 */
		{ NULL, "ABC", NULL },    /* a serial without its issuer */
		{ "0000000000000000000000000000000000000000000000000000000000000000", "0ABC",
		  NULL }, /* a leading zero */
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		PGresult *res = PQexecParams(
		        admin,
		        "UPDATE street.account SET pin_issuer_spki = $1, pin_serial = $2,"
		        " pin_spki = $3 WHERE login = 't.pinned'",
		        3, NULL, bad[i], NULL, NULL, 0);

		ck_assert_msg(PQresultStatus(res) == PGRES_FATAL_ERROR, "pin %zu was accepted", i);
		ck_assert_str_eq(PQresultErrorField(res, PG_DIAG_SQLSTATE), "23514");
		PQclear(res);
	}
	PQfinish(admin);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("daemon_pin");
	TCase *tc = tcase_create("pin");

	tcase_add_unchecked_fixture(tc, unpin, unpin);
	tcase_add_checked_fixture(tc, unpin, NULL);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, two_cas_refuse_unpinned_accounts);
	tcase_add_test(tc, pinned_to_issuer_other_ca_refused);
	tcase_add_test(tc, pinned_to_certificate);
	tcase_add_test(tc, pin_change_closes_open_session);
	tcase_add_test(tc, one_ca_unpinned_accepted_with_warning);
	tcase_add_test(tc, bad_pins_are_refused_by_the_schema);
	suite_add_tcase(s, tc);
	return tdaemon_run_suite(s);
}
