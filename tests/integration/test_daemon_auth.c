/*
 * Who gets in: the real streetd against certificates without an account, from
 * another CA, of disabled accounts, and an account disabled while its session
 * is open; and the start-up check of the private key's permissions.
 *
 * This suite disables zhao.lei for a while (test_actions expects it enabled), so
 * meson runs it alone (is_parallel: false), and an unchecked fixture enables
 * the account again whatever happens to the test.
 */
#include <check.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tdaemon.h"
#include "tdb.h"

static struct tdaemon *d;

static void start(void)
{
	d = tdaemon_start(NULL);
}

static void stop(void)
{
	int status = tdaemon_stop(d, SIGTERM);

	ck_assert_msg(status >= 0 && status < 128, "streetd crashed or hung (status %d)", status);
}

static void set_zhao_lei(bool disabled)
{
	PGconn *admin = tdb_connect(true);
	const char *p[] = { disabled ? "true" : "false" };

	tdb_int(admin, "UPDATE street.account SET disabled = $1::boolean WHERE login = 'zhao.lei'",
	        1, p);
	PQfinish(admin);
}

static void enable_zhao_lei(void)
{
	set_zhao_lei(false);
}

/* A client that works, to show the refusals hurt nobody else. */
static void others_fine(void)
{
	struct tclient *c = tclient_connect(d, "zhang.wei");
	json_object *r = tclient_ok(c, "{\"op\":\"whoami\"}");

	ck_assert_str_eq(tj_str(r, "result.account.login"), "zhang.wei");
	tclient_close(c);
}

/* Connects with the certificate; expects one unauthenticated line with id null,
 * then the close. */
static void expect_unauthenticated(const char *cert, const char *key)
{
	struct tclient *c = tclient_connect_files(d, cert, key);
	json_object *r = tclient_recv(c, 10000), *idv = NULL;

	ck_assert_msg(r != NULL, "no refusal line for %s (%s)", cert,
	              tclient_closed(c) ? "closed without a line" : "timeout");
	ck_assert_reply_code(r, "unauthenticated");
	ck_assert_msg(json_object_object_get_ex(r, "id", &idv) && idv == NULL,
	              "the refusal should have \"id\":null: %s", tj_dump(r));
	ck_assert_msg(tj_get(r, "ok") != NULL && !tj_bool(r, "ok"), "%s", tj_dump(r));
	ck_assert_msg(tclient_wait_closed(c, 5000) >= 0, "still open after unauthenticated");
	ck_assert_msg(tclient_queued(c) == 0, "more lines after the refusal");
	tclient_close(c);
}

START_TEST(no_client_certificate)
{
	char detail[1024];

	ck_assert_msg(tclient_refused(d, NULL, NULL, 5000, detail, sizeof(detail)),
	              "a client without a certificate got in: %s", detail);
	others_fine();
}
END_TEST

START_TEST(certificate_of_another_ca)
{
	char detail[1024];

	/* rogue.crt says CN=wang.fang, signed by the rogue CA. */
	ck_assert_msg(tclient_refused(d, ttls_path("rogue.crt"), ttls_path("rogue.key"), 5000,
	                              detail, sizeof(detail)),
	              "a certificate from another CA got in: %s", detail);
	/* The rogue CA's own certificate as a client certificate. */
	ck_assert_msg(tclient_refused(d, ttls_path("rogue-ca.crt"), ttls_path("rogue-ca.key"), 5000,
	                              detail, sizeof(detail)),
	              "the rogue CA certificate got in: %s", detail);
	others_fine();
}
END_TEST

START_TEST(certificate_without_account)
{
	expect_unauthenticated(ttls_path("nobody.crt"), ttls_path("nobody.key"));
	ck_assert_msg(tdaemon_log_wait(d, "nobody", 3000),
	              "the refusal of nobody is not logged:\n%s", tdaemon_log(d));
	others_fine();
}
END_TEST

START_TEST(disabled_account)
{
	expect_unauthenticated(ttls_path("t.disabled.crt"), ttls_path("t.disabled.key"));
	ck_assert_msg(tdaemon_log_wait(d, "t.disabled", 3000),
	              "the refusal of t.disabled is not logged:\n%s", tdaemon_log(d));
	others_fine();
}
END_TEST

START_TEST(disabled_while_connected)
{
	struct tclient *c, *again;
	json_object *r;
	int ms;
	long long deadline;

	enable_zhao_lei();
	c = tclient_connect(d, "zhao.lei");
	r = tclient_ok(c, "{\"op\":\"whoami\"}");
	ck_assert_str_eq(tj_str(r, "result.account.login"), "zhao.lei");

	set_zhao_lei(true);
	ms = tclient_wait_closed(c, 10000);
	if (ms < 0) {
		set_zhao_lei(false);
		ck_abort_msg("the session of zhao.lei is still open 10 s after the account was "
		             "disabled");
	}
	/* Any line before the close must be a refusal, not a reply. */
	while ((r = tclient_recv(c, 0)) != NULL)
		ck_assert_msg(!tj_ok(r), "got %s after the account was disabled", tj_dump(r));
	tclient_close(c);

	/* A new session of the disabled account is refused. */
	expect_unauthenticated(ttls_path("zhao.lei.crt"), ttls_path("zhao.lei.key"));
	others_fine();

	/* Enabled again: admitted again (allowing the daemon a moment to notice). */
	set_zhao_lei(false);
	deadline = tnow_ms() + 10000;
	for (;;) {
		json_object *w;

		again = tclient_connect(d, "zhao.lei");
		w = tclient_try_call(again, 5000, "{\"op\":\"whoami\"}");
		if (w != NULL && tj_ok(w))
			break;
		tclient_close(again);
		ck_assert_msg(tnow_ms() < deadline,
		              "zhao.lei still refused 10 s after re-enabling");
		usleep(250000);
	}
	tclient_close(again);
}
END_TEST

START_TEST(private_key_readable_by_others)
{
	struct tdaemon *bad;
	char key[700], set[800], *text;
	size_t len;
	FILE *f;
	bool up;

	text = NULL;
	f = fopen(ttls_path("server.key"), "rb");
	ck_assert_ptr_nonnull(f);
	{
		char buf[8192];

		len = fread(buf, 1, sizeof(buf) - 1, f);
		buf[len] = '\0';
		text = strdup(buf);
	}
	fclose(f);
	snprintf(key, sizeof(key), "%s/server-0644.key", tdaemon_dir(d));
	f = fopen(key, "wb");
	ck_assert_ptr_nonnull(f);
	fwrite(text, 1, len, f);
	fclose(f);
	free(text);
	ck_assert_int_eq(chmod(key, 0644), 0);

	snprintf(set, sizeof(set), "tls.key=%s", key);
	bad = tdaemon_new(set);
	up = tdaemon_launch(bad);
	if (up) {
		tdaemon_stop(bad, SIGKILL);
		ck_abort_msg("streetd started with a private key readable by others (%s)", key);
	}
	ck_assert_msg(tdaemon_exit_status(bad) == 78, "exit status %d, not 78; log:\n%s",
	              tdaemon_exit_status(bad), tdaemon_log(bad));
	ck_assert_msg(strstr(tdaemon_log(bad), key) != NULL,
	              "the message does not name the key file %s:\n%s", key, tdaemon_log(bad));
	{
		char *out = NULL;
		int st = tdaemon_run_sync(tdaemon_conf(bad), &out, "--check-config", (char *)NULL);

		ck_assert_msg(st == 78 && strstr(out, key) != NULL,
		              "--check-config with the key at 0644: status %d, output:\n%s", st,
		              out);
		free(out);
	}
	tdaemon_stop(bad, 0);

	/* Mode 0600 again: the same file is fine. */
	ck_assert_int_eq(chmod(key, 0600), 0);
	bad = tdaemon_new(set);
	ck_assert_msg(tdaemon_launch(bad), "streetd did not start with the key at 0600:\n%s",
	              tdaemon_log(bad));
	ck_assert_int_eq(tdaemon_stop(bad, SIGTERM), 0);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("daemon_auth");
	TCase *tc = tcase_create("auth");

	tcase_add_unchecked_fixture(tc, enable_zhao_lei, enable_zhao_lei);
	tcase_add_checked_fixture(tc, start, stop);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, no_client_certificate);
	tcase_add_test(tc, certificate_of_another_ca);
	tcase_add_test(tc, certificate_without_account);
	tcase_add_test(tc, disabled_account);
	tcase_add_test(tc, disabled_while_connected);
	tcase_add_test(tc, private_key_readable_by_others);
	suite_add_tcase(s, tc);
	return tdaemon_run_suite(s);
}
