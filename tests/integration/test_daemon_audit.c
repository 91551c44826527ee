/*
 * The tamper-evident record (docs/audit.md) end to end: a real daemon chains
 * the log and signs checkpoints with its TLS key; streetctl exports them and
 * verifies the export offline, as does the documented openssl + shell check.
 * As the database superuser, each tamper test changes, removes or inserts an
 * event (the append-only trigger disabled for the moment) and sees both
 * checks fail naming that event; then it puts the log back, so that the next
 * test starts from a log that verifies.  The suite runs alone (is_parallel
 * false): its tampering is visible to any other suite's export.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <sysexits.h>
#include <unistd.h>

#include "tdaemon.h"
#include "tdb.h"

static struct tdaemon *d;
static PGconn *admin;
static char dir[64];
static int grid_home, cat_noise;

/* The daemon leads (sweeper on) and signs at least every second's worth of
 * chain movement when asked: checkpoints here come from explicit requests. */
static void setup(void)
{
	d = tdaemon_start("sweeper.enabled=true\nsweeper.max_interval=1s\n");
	admin = tdb_connect(true);
	snprintf(dir, sizeof(dir), "/tmp/taudit.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	grid_home = tdb_grid(admin, "jg-yanan-02");
	cat_noise = tdb_category(admin, "pollution.noise");
}

static void teardown(void)
{
	char cmd[128];

	PQfinish(admin);
	tdaemon_stop(d, SIGTERM);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", dir);
}

/* Runs a shell command line; returns its exit code; stdout+stderr in *out
 * (static, valid until the next call). */
static int sh(const char **out, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int sh(const char **out, const char *fmt, ...)
{
	static char buf[8192];
	char cmd[4096];
	va_list ap;
	FILE *p;
	size_t n;
	int st;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	strncat(cmd, " 2>&1", sizeof(cmd) - strlen(cmd) - 1);
	p = popen(cmd, "r");
	ck_assert_ptr_nonnull(p);
	n = fread(buf, 1, sizeof(buf) - 1, p);
	buf[n] = '\0';
	st = pclose(p);
	if (out)
		*out = buf;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128;
}

/* streetctl as login, with a config for the test's daemon. */
static int ctl(const char **out, const char *login, const char *args)
{
	const char *exe = getenv("STREETD_TEST_STREETCTL");
	char conf[128];
	FILE *f;

	ck_assert_msg(exe && *exe, "STREETD_TEST_STREETCTL is not set");
	snprintf(conf, sizeof(conf), "%s/%s.conf", dir, login);
	f = fopen(conf, "w");
	ck_assert_ptr_nonnull(f);
	fprintf(f, "server = 127.0.0.1\nport = %d\nca = %s\n", tdaemon_port(d),
	        ttls_path("ca.crt"));
	fprintf(f, "cert = %s\n", ttls_path(tdb_fmt("%s.crt", login)));
	fprintf(f, "key = %s\n", ttls_path(tdb_fmt("%s.key", login)));
	ck_assert_int_eq(fclose(f), 0);
	return sh(out, "HOME='%s' NO_COLOR=1 STREETCTL_CONFIG='%s' '%s' %s", dir, conf, exe, args);
}

/* The shell check as docs/audit.md gives it, run on an export. */
static int doc_check(const char **out, const char *export)
{
	const char *src = getenv("STREETD_SOURCE_ROOT");

	ck_assert_msg(src && *src, "STREETD_SOURCE_ROOT is not set");
	ck_assert_int_eq(sh(NULL,
	                    "sed -n '/^# audit-check begin/,/^# audit-check end/p' "
	                    "'%s/docs/audit.md' > '%s/check.sh' && test -s '%s/check.sh'",
	                    src, dir, dir),
	                 0);
	return sh(out, "sh '%s/check.sh' '%s' '%s'", dir, export, ttls_path("ca.crt"));
}

/* Waits (<= 30 s) until the chain has passed seq. */
static void wait_chained(long long seq)
{
	for (long long until = tnow_ms() + 30000; tnow_ms() < until; usleep(50000))
		if (tdb_int(admin, "SELECT last_seq FROM street.chain_state", 0, NULL) >= seq)
			return;
	ck_abort_msg("the chain did not reach seq %lld", seq);
}

/* Asks for a checkpoint and waits (<= 30 s) until the leader signed it. */
static long long checkpoint_now(void)
{
	long long req = tdb_int(admin, "SELECT street.st_checkpoint_request('test')", 0, NULL);

	for (long long until = tnow_ms() + 30000; tnow_ms() < until; usleep(50000)) {
		long long id =
		        tdb_int(admin, "SELECT id FROM street.checkpoint WHERE request_id = $1", 1,
		                (const char *[]){ tdb_fmt("%lld", req) });
		if (id > 0)
			return id;
	}
	ck_abort_msg("checkpoint request %lld was not signed: %s", req, tdaemon_log(d));
	return 0;
}

/* A ticket with comments (no idempotency key: an event nothing references);
 * returns the seq of the last comment, the others are seq - 1, seq - 2. */
static long long ticket_with_comments(long long *ticket)
{
	struct tdb_outcome o;
	int collector = tdb_account(admin, "wang.fang"), street = tdb_account(admin, "zhang.wei");

	tdb_call(admin, "st_report", 4,
	         (const char *[]){ tdb_fmt("%d", collector), tdb_fmt("%d", cat_noise),
	                           tdb_fmt("%d", grid_home), "audit: 夜间施工\t\"噪声\"" },
	         &o);
	ck_assert_msg(o.ok, "%s", o.message);
	*ticket = o.ticket;
	for (int i = 0; i < 3; i++) {
		tdb_call(admin, "st_comment", 3,
		         (const char *[]){ tdb_fmt("%d", street), tdb_fmt("%lld", *ticket),
		                           tdb_fmt("comment %d: \\ \"q\" 注意", i) },
		         &o);
		ck_assert_msg(o.ok, "%s", o.message);
	}
	return o.seq;
}

static void exec_ok(const char *sql)
{
	PGresult *r = tdb_query(admin, sql, 0, NULL);

	ck_assert_msg(PQresultStatus(r) == PGRES_COMMAND_OK || PQresultStatus(r) == PGRES_TUPLES_OK,
	              "%s: %s", sql, PQerrorMessage(admin));
	PQclear(r);
}

/* Exports as the city-wide supervisor into dir/name the events after
 * `after` (0: all); returns the path.  The tests export only their own
 * events: the shell check takes a fork per event, and an earlier test's
 * events are not this one's business. */
static const char *export(const char *name, long long after)
{
	static char path[128];
	const char *out;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	ck_assert_msg(ctl(&out, "ma.jun", tdb_fmt("audit export '%s' --after %lld", path, after)) ==
	                      0,
	              "%s", out);
	return path;
}

/* The log's newest seq now: what a test's export starts after. */
static long long log_head(void)
{
	return tdb_int(admin, "SELECT coalesce(max(seq), 0) FROM street.ticket_event", 0, NULL);
}

/* verify must fail with exit 65 naming want; so must the documented check
 * (doc_want, or NULL to only require that it fails). */
static void both_fail(const char *path, const char *want, const char *doc_want)
{
	const char *out;
	int rc = ctl(&out, "ma.jun",
	             tdb_fmt("audit verify '%s' --ca '%s'", path, ttls_path("ca.crt")));

	ck_assert_msg(rc == EX_DATAERR && strstr(out, want), "verify: want %s, got %d: %s", want,
	              rc, out);
	rc = doc_check(&out, path);
	ck_assert_msg(rc != 0 && (!doc_want || strstr(out, doc_want)), "shell check: got %d: %s",
	              rc, out);
}

static void both_pass(const char *path)
{
	const char *out;
	int rc = ctl(&out, "ma.jun",
	             tdb_fmt("audit verify '%s' --ca '%s'", path, ttls_path("ca.crt")));

	ck_assert_msg(rc == 0 && strstr(out, "verified:"), "verify: %d: %s", rc, out);
	rc = doc_check(&out, path);
	ck_assert_msg(rc == 0, "shell check: %d: %s", rc, out);
}

START_TEST(untouched_log_verifies)
{
	long long base = log_head(), ticket, seq = ticket_with_comments(&ticket), cp;
	const char *path, *out;
	struct stat st;
	int rc;

	wait_chained(seq);
	cp = checkpoint_now();
	/* the whole log, by streetctl */
	path = export("all", 0);
	ck_assert_int_ne(stat(tdb_fmt("%s/start.txt", path), &st), 0);
	rc = ctl(&out, "ma.jun", tdb_fmt("audit verify '%s' --ca '%s'", path, ttls_path("ca.crt")));
	ck_assert_msg(rc == 0 && strstr(out, "verified:"), "verify: %d: %s", rc, out);
	/* this test's events, by both checks */
	path = export("clean", base);
	ck_assert_int_eq(stat(tdb_fmt("%s/checkpoints/%lld.sig", path, cp), &st), 0);
	ck_assert_int_eq(stat(tdb_fmt("%s/start.txt", path), &st), base > 0 ? 0 : -1);
	both_pass(path);
	/* the canonical text is the database's, byte for byte */
	ck_assert_int_eq(sh(&out, "grep -c '^%lld\t' '%s/events.tsv'", seq, path), 0);
	ck_assert_str_eq(out, "1\n");
}
END_TEST

START_TEST(changed_event_is_named)
{
	long long base = log_head(), ticket, seq = ticket_with_comments(&ticket) - 1;
	char *orig;

	wait_chained(seq + 1);
	checkpoint_now();
	orig = tdb_str(admin, "SELECT data::text FROM street.ticket_event WHERE seq = $1", 1,
	               (const char *[]){ tdb_fmt("%lld", seq) });
	exec_ok("ALTER TABLE street.ticket_event DISABLE TRIGGER ticket_event_no_update");
	tdb_int(admin,
	        "WITH u AS (UPDATE street.ticket_event SET data = '{\"text\": \"nothing "
	        "happened\"}'"
	        " WHERE seq = $1 RETURNING 1) SELECT count(*) FROM u",
	        1, (const char *[]){ tdb_fmt("%lld", seq) });
	exec_ok("ALTER TABLE street.ticket_event ENABLE TRIGGER ticket_event_no_update");
	both_fail(export("changed", base), tdb_fmt("event %lld was changed", seq),
	          tdb_fmt("event %lld: changed", seq));
	/* put it back: the same bytes verify again */
	exec_ok("ALTER TABLE street.ticket_event DISABLE TRIGGER ticket_event_no_update");
	tdb_int(admin,
	        "WITH u AS (UPDATE street.ticket_event SET data = $2::jsonb WHERE seq = $1"
	        " RETURNING 1) SELECT count(*) FROM u",
	        2, (const char *[]){ tdb_fmt("%lld", seq), orig });
	exec_ok("ALTER TABLE street.ticket_event ENABLE TRIGGER ticket_event_no_update");
	free(orig);
	both_pass(export("restored", base));
}
END_TEST

START_TEST(removed_event_is_named)
{
	long long base = log_head(), ticket, seq = ticket_with_comments(&ticket) - 1;
	char seq_s[24];
	const char *p[] = { seq_s };

	snprintf(seq_s, sizeof(seq_s), "%lld", seq);

	wait_chained(seq + 1);
	exec_ok("CREATE TEMP TABLE saved AS SELECT * FROM street.ticket_event WITH NO DATA");
	tdb_int(admin,
	        "WITH s AS (INSERT INTO saved SELECT * FROM street.ticket_event WHERE seq = $1"
	        " RETURNING 1) SELECT count(*) FROM s",
	        1, p);
	exec_ok("ALTER TABLE street.ticket_event DISABLE TRIGGER ticket_event_no_update");
	ck_assert_int_eq(tdb_int(admin,
	                         "WITH x AS (DELETE FROM street.ticket_event WHERE seq = $1"
	                         " RETURNING 1) SELECT count(*) FROM x",
	                         1, p),
	                 1);
	exec_ok("ALTER TABLE street.ticket_event ENABLE TRIGGER ticket_event_no_update");
	both_fail(export("removed", base), tdb_fmt("event %lld was removed", seq),
	          tdb_fmt("event %lld: inserted or removed", seq));
	exec_ok("INSERT INTO street.ticket_event OVERRIDING SYSTEM VALUE SELECT * FROM saved");
	both_pass(export("restored", base));
}
END_TEST

START_TEST(inserted_event_is_named)
{
	long long ticket, seq, hole, base;
	char hole_s[24];
	const char *p[] = { hole_s };

	/* a number taken and never used: the chain skips it once it is settled */
	base = log_head();
	hole = tdb_int(admin,
	               "SELECT nextval(pg_get_serial_sequence('street.ticket_event', 'seq'))", 0,
	               NULL);
	seq = ticket_with_comments(&ticket);
	wait_chained(seq);
	ck_assert_int_eq(tdb_int(admin, "SELECT count(*) FROM street.event_hash WHERE seq = $1", 1,
	                         (const char *[]){ tdb_fmt("%lld", hole) }),
	                 0);
	/* an event slipped into the past, at the unused number */
	snprintf(hole_s, sizeof(hole_s), "%lld", hole);
	ck_assert_int_eq(
	        tdb_int(admin,
	                "WITH i AS (INSERT INTO street.ticket_event OVERRIDING SYSTEM VALUE"
	                " SELECT $1::bigint, xid, at, ticket_id, actor_id, action,"
	                " from_state, to_state, version, street_id, district_id,"
	                " reporter_id, department_id, category_id, grid_id,"
	                " '{\"text\": \"always said so\"}'"
	                " FROM street.ticket_event WHERE seq > $1::bigint ORDER BY seq"
	                " LIMIT 1"
	                " RETURNING 1) SELECT count(*) FROM i",
	                1, p),
	        1);
	both_fail(export("inserted", base), tdb_fmt("event %lld was inserted", hole),
	          tdb_fmt("event %lld: inserted or removed", hole));
	exec_ok("ALTER TABLE street.ticket_event DISABLE TRIGGER ticket_event_no_update");
	tdb_int(admin,
	        "WITH x AS (DELETE FROM street.ticket_event WHERE seq = $1 RETURNING 1)"
	        " SELECT count(*) FROM x",
	        1, p);
	exec_ok("ALTER TABLE street.ticket_event ENABLE TRIGGER ticket_event_no_update");
	both_pass(export("restored", base));
}
END_TEST

/* The owner's best attempt: change an event and recompute every hash after
 * it, so that the chain is consistent again.  Only a checkpoint signed before
 * tells, and it must. */
static void rechain_from(long long seq)
{
	/* under the chain's lock, so that the leader does not chain meanwhile */
	exec_ok("BEGIN");
	exec_ok("SELECT pg_advisory_xact_lock(hashtext('streetd.chain'))");
	exec_ok("ALTER TABLE street.event_hash DISABLE TRIGGER event_hash_no_update");
	tdb_int(admin,
	        "WITH RECURSIVE c AS ("
	        "  SELECT x.seq, x.hash FROM street.event_hash x"
	        "  WHERE x.seq = (SELECT max(seq) FROM street.event_hash WHERE seq < $1)"
	        " UNION ALL"
	        "  SELECT n.seq, street.st_chain_hash(c.hash, street.st_event_canonical(e))"
	        "  FROM c, LATERAL (SELECT * FROM street.event_hash y WHERE y.seq > c.seq"
	        "    ORDER BY y.seq LIMIT 1) n JOIN street.ticket_event e ON e.seq = n.seq),"
	        " u AS (UPDATE street.event_hash h SET hash = c.hash FROM c WHERE h.seq = c.seq"
	        "  AND h.seq >= $1 RETURNING 1)"
	        " SELECT count(*) FROM u",
	        1, (const char *[]){ tdb_fmt("%lld", seq) });
	exec_ok("UPDATE street.chain_state SET head = h.hash FROM street.event_hash h"
	        " WHERE h.seq = chain_state.head_seq");
	exec_ok("ALTER TABLE street.event_hash ENABLE TRIGGER event_hash_no_update");
	exec_ok("COMMIT");
}

START_TEST(rewritten_chain_fails_its_checkpoint)
{
	long long base = log_head(), ticket, seq = ticket_with_comments(&ticket) - 2, cp, cp_seq;
	char *orig, seq_s[24];
	const char *p[] = { seq_s };

	snprintf(seq_s, sizeof(seq_s), "%lld", seq);

	wait_chained(seq + 2);
	cp = checkpoint_now();
	cp_seq = tdb_int(admin, "SELECT seq FROM street.checkpoint WHERE id = $1", 1,
	                 (const char *[]){ tdb_fmt("%lld", cp) });
	orig = tdb_str(admin, "SELECT data::text FROM street.ticket_event WHERE seq = $1", 1, p);
	exec_ok("ALTER TABLE street.ticket_event DISABLE TRIGGER ticket_event_no_update");
	tdb_int(admin,
	        "WITH u AS (UPDATE street.ticket_event SET data = '{\"text\": \"rewritten\"}'"
	        " WHERE seq = $1 RETURNING 1) SELECT count(*) FROM u",
	        1, p);
	exec_ok("ALTER TABLE street.ticket_event ENABLE TRIGGER ticket_event_no_update");
	rechain_from(seq);
	/* the first checkpoint on or after the change fails: ours, or a periodic one */
	ck_assert_int_ge(cp_seq, seq);
	both_fail(export("rewritten", base), "differs from checkpoint", "the chain differs");
	exec_ok("ALTER TABLE street.ticket_event DISABLE TRIGGER ticket_event_no_update");
	tdb_int(admin,
	        "WITH u AS (UPDATE street.ticket_event SET data = $2::jsonb WHERE seq = $1"
	        " RETURNING 1) SELECT count(*) FROM u",
	        2, (const char *[]){ p[0], orig });
	exec_ok("ALTER TABLE street.ticket_event ENABLE TRIGGER ticket_event_no_update");
	free(orig);
	rechain_from(seq);
	both_pass(export("restored", base));
}
END_TEST

START_TEST(broken_signature_fails)
{
	long long base = log_head(), ticket, seq = ticket_with_comments(&ticket), cp;
	const char *path;

	wait_chained(seq);
	cp = checkpoint_now();
	path = export("badsig", base);
	/* one bit of the signature's last byte flipped */
	ck_assert_int_eq(sh(NULL,
	                    "f='%s/checkpoints/%lld.sig'; n=$(($(wc -c < \"$f\") - 1));"
	                    " b=$(od -An -tu1 -j$n -N1 \"$f\" | tr -d ' ');"
	                    " printf \"\\\\$(printf %%o $((b ^ 1)))\" | dd of=\"$f\" bs=1 seek=$n"
	                    " conv=notrunc 2>/dev/null",
	                    path, cp),
	                 0);
	both_fail(path, tdb_fmt("checkpoint %lld (seq", cp), NULL);
}
END_TEST

START_TEST(a_client_certificate_cannot_sign)
{
	long long base = log_head(), ticket, seq = ticket_with_comments(&ticket), cp;
	const char *path, *k = ttls_path("zhang.wei.key"), *c = ttls_path("zhang.wei.crt");

	wait_chained(seq);
	cp = checkpoint_now();
	path = export("clientsig", base);
	/* re-signed by a key the CA vouches for, but for a client, not the server */
	ck_assert_int_eq(sh(NULL,
	                    "cd '%s/checkpoints' && openssl dgst -sha256 -sign '%s' -out %lld.sig"
	                    " %lld.txt && cp '%s' %lld.crt",
	                    path, k, cp, cp, c, cp),
	                 0);
	both_fail(path, tdb_fmt("checkpoint %lld (seq", cp), NULL);
}
END_TEST

START_TEST(audit_scope)
{
	struct tclient *city = tclient_connect(d, "ma.jun"),
	               *district = tclient_connect(d, "sun.li"), *adm = tclient_connect(d, "admin"),
	               *street = tclient_connect(d, "zhang.wei");
	json_object *r;

	r = tclient_ok(city, "{\"op\":\"audit_events\",\"limit\":2}");
	ck_assert_int_le(tj_len(r, "result.events"), 2);
	ck_assert_ptr_nonnull(tj_get(r, "result.chained"));
	tclient_err(district, "forbidden", "{\"op\":\"audit_events\"}");
	tclient_err(adm, "forbidden", "{\"op\":\"audit_events\"}");
	tclient_err(street, "forbidden", "{\"op\":\"audit_checkpoints\"}");
	tclient_err(district, "forbidden", "{\"op\":\"audit_checkpoints\"}");
	tclient_ok(adm, "{\"op\":\"audit_checkpoints\",\"limit\":1}");
	tclient_ok(city, "{\"op\":\"audit_checkpoints\"}");
	tclient_err(city, "bad_request", "{\"op\":\"audit_events\",\"limit\":0}");
	tclient_close(city);
	tclient_close(district);
	tclient_close(adm);
	tclient_close(street);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("daemon_audit");
	TCase *tc = tcase_create("audit");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, untouched_log_verifies);
	tcase_add_test(tc, changed_event_is_named);
	tcase_add_test(tc, removed_event_is_named);
	tcase_add_test(tc, inserted_event_is_named);
	tcase_add_test(tc, rewritten_chain_fails_its_checkpoint);
	tcase_add_test(tc, broken_signature_fails);
	tcase_add_test(tc, a_client_certificate_cannot_sign);
	tcase_add_test(tc, audit_scope);
	suite_add_tcase(s, tc);
	return tdaemon_run_suite(s);
}
