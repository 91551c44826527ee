/*
 * Unit tests for lib/config: the table, every type's good and bad values,
 * the file syntax, atomic failure, overrides, reload checks and messages.
 */
#include "config.h"

#include <check.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

static struct streetd_config cfg;
static struct config_error err;

static void setup(void)
{
	ck_assert_int_eq(config_defaults(&cfg), 0);
	memset(&err, 0, sizeof(err));
}

static void teardown(void)
{
	config_free(&cfg);
}

static int parse(const char *text)
{
	return config_parse(&cfg, text, strlen(text), "streetd.conf", &err);
}

static const char *formatted(const struct streetd_config *c, const char *name)
{
	static char buf[CONFIG_MAX_LINE * 2 + 3];
	const struct config_entry *e = config_lookup(name);

	ck_assert_msg(e != NULL, "no key %s", name);
	ck_assert_int_ge(config_format_value(c, e, buf, sizeof(buf)), 0);
	return buf;
}

static const char *error_line(void)
{
	static char buf[1024];

	config_error_format(&err, buf, sizeof(buf));
	return buf;
}

/* etc/streetd.conf, read by main() from the path meson passes: the sample that
 * ships must parse to the defaults and list every key. */
static char *sample_conf;

/* --- the table ----------------------------------------------------------- */

START_TEST(test_table)
{
	size_t n;
	const struct config_entry *t = config_table(&n);
	size_t fixed = 0;

	ck_assert_uint_eq(n, 38);
	for (size_t i = 0; i < n; i++) {
		char name[128];

		snprintf(name, sizeof(name), "%s.%s", t[i].section, t[i].key);
		ck_assert_str_eq(t[i].name, name);
		ck_assert_ptr_eq(config_lookup(name), &t[i]);
		ck_assert(t[i].doc && t[i].doc[0]);
		ck_assert(t[i].def != NULL);
		if (t[i].type == CONFIG_INT || t[i].type == CONFIG_DURATION ||
		    t[i].type == CONFIG_SIZE)
			ck_assert_int_le(t[i].min, t[i].max);
		if (t[i].type == CONFIG_ENUM)
			ck_assert(t[i].choices && t[i].choices[0].name);
		/* The default is written as the formatter would write it, or at least reads back.
		 */
		ck_assert_int_eq(config_set(&cfg, t[i].name, t[i].def, &err), 0);
		if (!t[i].reload)
			fixed++;
	}
	ck_assert_uint_eq(fixed, 7);
	ck_assert(!config_lookup("server.listen")->reload);
	ck_assert(!config_lookup("http.enabled")->reload);
	ck_assert(!config_lookup("http.listen")->reload);
	ck_assert(!config_lookup("database.conninfo")->reload);
	ck_assert(!config_lookup("database.pool_size")->reload);
	ck_assert(!config_lookup("database.read_conninfo")->reload);
	ck_assert(!config_lookup("database.read_pool_size")->reload);
	ck_assert(config_lookup("database.read_max_lag")->reload);
	ck_assert_ptr_null(config_lookup("limits"));
	ck_assert_ptr_null(config_lookup("limits.nope"));
	ck_assert_ptr_null(config_lookup(".max_line"));
}
END_TEST

START_TEST(test_defaults)
{
	ck_assert_str_eq(cfg.server.listen.host, "127.0.0.1");
	ck_assert_int_eq(cfg.server.listen.port, 7443);
	ck_assert_str_eq(cfg.tls.cert, "/etc/streetd/server.crt");
	ck_assert_str_eq(cfg.tls.key, "/etc/streetd/server.key");
	ck_assert_str_eq(cfg.tls.ca, "/etc/streetd/ca.crt");
	ck_assert_int_eq(cfg.tls.min_version, CONFIG_TLS_1_2);
	ck_assert_str_eq(cfg.tls.crl, "");
	ck_assert_str_eq(cfg.database.conninfo, "dbname=streetd");
	ck_assert_int_eq(cfg.database.pool_size, 4);
	ck_assert_int_eq(cfg.database.connect_timeout_ms, 5000);
	ck_assert_int_eq(cfg.database.statement_timeout_ms, 10000);
	ck_assert_int_eq(cfg.database.reconnect_max_ms, 10000);
	ck_assert_str_eq(cfg.database.read_conninfo, "");
	ck_assert_int_eq(cfg.database.read_pool_size, 2);
	ck_assert_int_eq(cfg.database.read_max_lag_ms, 30000);
	ck_assert_int_eq(cfg.limits.max_line, 64 * 1024);
	ck_assert_int_eq(cfg.limits.max_inflight, 16);
	ck_assert_int_eq(cfg.limits.max_sessions, 10000);
	ck_assert_int_eq(cfg.limits.max_sessions_per_account, 8);
	ck_assert_int_eq(cfg.limits.handshake_timeout_ms, 10000);
	ck_assert_int_eq(cfg.limits.idle_timeout_ms, 300000);
	ck_assert_int_eq(cfg.limits.max_backlog, 1024 * 1024);
	ck_assert_int_eq(cfg.limits.max_photo, 5 * 1024 * 1024);
	ck_assert_int_eq(cfg.limits.drain_timeout_ms, 10000);
	ck_assert_int_eq(cfg.log.level, CONFIG_LOG_INFO);
	ck_assert(cfg.sweeper.enabled);
	ck_assert_int_eq(cfg.sweeper.max_interval_ms, 60000);
	ck_assert_int_eq(cfg.audit.checkpoint_interval_ms, 3600000);
	ck_assert_int_eq(cfg.audit.checkpoint_events, 100000);
}
END_TEST

START_TEST(test_sample_conf)
{
	struct streetd_config defaults;
	size_t n;
	const struct config_entry *t = config_table(&n);

	ck_assert_int_eq(config_defaults(&defaults), 0);
	ck_assert_msg(parse(sample_conf) == 0, "%s", error_line());
	ck_assert_uint_eq(config_changed(&defaults, &cfg, NULL, 0), 0);
	config_free(&defaults);

	/* Every key is there, commented out, under its section, with the table's default. */
	for (size_t i = 0; i < n; i++) {
		char section[64], line[256];
		const char *at;

		snprintf(section, sizeof(section), "\n[%s]\n", t[i].section);
		snprintf(line, sizeof(line), "\n#%s = %s\n", t[i].key,
		         t[i].def[0] ? t[i].def : "\"\"");
		at = strstr(sample_conf, section);
		ck_assert_msg(at != NULL, "no %s", section);
		at = strstr(at, line);
		ck_assert_msg(at != NULL, "no %s", line);
		/* ...and no later section header comes between the two. */
		for (const char *p = strstr(sample_conf, section) + 1; p < at; p++)
			ck_assert_msg(!(p[0] == '\n' && p[1] == '['), "%s is misplaced", t[i].name);
	}
}
END_TEST

/* Every key, none at its default, with the syntax a hand-written file has. */
static const char full_conf[] = "# streetd for the Changji street offices\n"
                                "\n"
                                "[server]\n"
                                "listen = [2001:db8::7]:8443\n"
                                "\n"
                                "[tls]\n"
                                "  ; indented comment\n"
                                "cert = /srv/tls/cert.pem\n"
                                "key\t=\t/srv/tls/key.pem\n"
                                "ca = /srv/tls/ca.pem\n"
                                "min_version = 1.3\n"
                                "crl = /srv/tls/crl.pem\n"
                                "[database]\n"
                                "conninfo = \"host=/run/postgresql dbname=street#1\"\n"
                                "pool_size = 16\n"
                                "connect_timeout = 1500ms\n"
                                "statement_timeout = 2m\n"
                                "reconnect_max = 30s\n"
                                "read_conninfo = \"host=/run/standby dbname=streetd\"\n"
                                "read_pool_size = 3\n"
                                "read_max_lag = 5s\n"
                                "[limits]\n"
                                "max_line = 128KiB\n"
                                "max_inflight = 32\n"
                                "max_sessions = 19000\n"
                                "max_sessions_per_account = 1\n"
                                "handshake_timeout = 5s\n"
                                "idle_timeout = 1h\n"
                                "max_backlog = 4MiB\n"
                                "max_photo = 10MiB\n"
                                "drain_timeout = 0ms\n"
                                "   \t\n"
                                "[log]\n"
                                "level = debug\n"
                                "[sweeper]\n"
                                "enabled = no\n"
                                "# a section may be reopened; keys still may not repeat\n"
                                "[limits]\n"
                                "[sweeper]\n"
                                "max_interval = 90s\n";

START_TEST(test_full_file)
{
	ck_assert_msg(parse(full_conf) == 0, "%s", error_line());
	ck_assert_str_eq(cfg.server.listen.host, "2001:db8::7");
	ck_assert_int_eq(cfg.server.listen.port, 8443);
	ck_assert_str_eq(cfg.tls.cert, "/srv/tls/cert.pem");
	ck_assert_str_eq(cfg.tls.key, "/srv/tls/key.pem");
	ck_assert_str_eq(cfg.tls.ca, "/srv/tls/ca.pem");
	ck_assert_int_eq(cfg.tls.min_version, CONFIG_TLS_1_3);
	ck_assert_str_eq(cfg.tls.crl, "/srv/tls/crl.pem");
	ck_assert_str_eq(cfg.database.conninfo, "host=/run/postgresql dbname=street#1");
	ck_assert_int_eq(cfg.database.pool_size, 16);
	ck_assert_int_eq(cfg.database.connect_timeout_ms, 1500);
	ck_assert_int_eq(cfg.database.statement_timeout_ms, 120000);
	ck_assert_int_eq(cfg.database.reconnect_max_ms, 30000);
	ck_assert_str_eq(cfg.database.read_conninfo, "host=/run/standby dbname=streetd");
	ck_assert_int_eq(cfg.database.read_pool_size, 3);
	ck_assert_int_eq(cfg.database.read_max_lag_ms, 5000);
	ck_assert_int_eq(cfg.limits.max_line, 128 * 1024);
	ck_assert_int_eq(cfg.limits.max_inflight, 32);
	ck_assert_int_eq(cfg.limits.max_sessions, 19000);
	ck_assert_int_eq(cfg.limits.max_sessions_per_account, 1);
	ck_assert_int_eq(cfg.limits.handshake_timeout_ms, 5000);
	ck_assert_int_eq(cfg.limits.idle_timeout_ms, 3600000);
	ck_assert_int_eq(cfg.limits.max_backlog, 4 * 1024 * 1024);
	ck_assert_int_eq(cfg.limits.max_photo, 10 * 1024 * 1024);
	ck_assert_int_eq(cfg.limits.drain_timeout_ms, 0);
	ck_assert_int_eq(cfg.log.level, CONFIG_LOG_DEBUG);
	ck_assert(!cfg.sweeper.enabled);
	ck_assert_int_eq(cfg.sweeper.max_interval_ms, 90000);
}
END_TEST

/* Parsing only what is given leaves the other keys where they were. */
START_TEST(test_layered)
{
	ck_assert_int_eq(parse("[limits]\nmax_inflight = 2\n"), 0);
	ck_assert_int_eq(parse("[limits]\nmax_sessions = 3\n"), 0);
	ck_assert_int_eq(cfg.limits.max_inflight, 2);
	ck_assert_int_eq(cfg.limits.max_sessions, 3);
	ck_assert_int_eq(config_parse(&cfg, NULL, 0, "empty.conf", &err), 0);
	ck_assert_int_eq(parse("\n\n# nothing\n"), 0);
	ck_assert_int_eq(cfg.limits.max_inflight, 2);
}
END_TEST

/* --- good values: input -> the canonical text config_format_value gives ---- */

struct good_case {
	const char *key;
	const char *value;
	const char *canonical;
};

static const struct good_case good_cases[] = {
	{ "database.pool_size", "1", "1" },
	{ "database.pool_size", "64", "64" },
	{ "database.pool_size", "  8\t", "8" },
	{ "database.pool_size", "\"8\"", "8" },
	{ "limits.max_sessions", "19000", "19000" },
	{ "limits.max_inflight", "1024", "1024" },
	{ "limits.max_line", "1KiB", "1KiB" },
	{ "limits.max_line", "16MiB", "16MiB" },
	{ "limits.max_line", "65536B", "64KiB" },
	{ "limits.max_line", "2048KiB", "2MiB" },
	{ "limits.max_line", "1025B", "1025B" },
	{ "limits.max_backlog", "1GiB", "1GiB" },
	{ "limits.max_backlog", "64KiB", "64KiB" },
	{ "database.connect_timeout", "100ms", "100ms" },
	{ "database.connect_timeout", "60s", "1m" },
	{ "database.connect_timeout", "1500ms", "1500ms" },
	{ "database.statement_timeout", "10m", "10m" },
	{ "limits.idle_timeout", "24h", "24h" },
	{ "limits.idle_timeout", "1s", "1s" },
	{ "limits.idle_timeout", "90m", "90m" },
	{ "limits.idle_timeout", "120m", "2h" },
	{ "limits.drain_timeout", "0ms", "0s" },
	{ "limits.drain_timeout", "0s", "0s" },
	{ "limits.drain_timeout", "-0s", "0s" },
	{ "sweeper.max_interval", "1h", "1h" },
	{ "sweeper.enabled", "true", "true" },
	{ "sweeper.enabled", "yes", "true" },
	{ "sweeper.enabled", "on", "true" },
	{ "sweeper.enabled", "1", "true" },
	{ "sweeper.enabled", "false", "false" },
	{ "sweeper.enabled", "no", "false" },
	{ "sweeper.enabled", "off", "false" },
	{ "sweeper.enabled", "0", "false" },
	{ "log.level", "debug", "debug" },
	{ "log.level", "info", "info" },
	{ "log.level", "notice", "notice" },
	{ "log.level", "warning", "warning" },
	{ "log.level", "err", "err" },
	{ "tls.min_version", "1.3", "1.3" },
	{ "tls.min_version", "\"1.2\"", "1.2" },
	{ "server.listen", "[::1]:7443", "[::1]:7443" },
	{ "server.listen", "[::]:1", "[::]:1" },
	{ "server.listen", "0.0.0.0:65535", "0.0.0.0:65535" },
	{ "server.listen", "localhost:7443", "localhost:7443" },
	{ "server.listen", "db-1.Example.org:8443", "db-1.Example.org:8443" },
	{ "tls.cert", "relative/cert.pem", "relative/cert.pem" },
	{ "tls.cert", "/路径/证书.pem", "/路径/证书.pem" },
	{ "tls.crl", "", "\"\"" },
	{ "tls.crl", "\"\"", "\"\"" },
	{ "tls.crl", "\" padded \"", "\" padded \"" },
	{ "tls.crl", "\"a\\\"b\\\\c\"", "a\"b\\c" },
	{ "tls.crl", "a\"b", "a\"b" },
	{ "tls.crl", "\"#x;y\"", "\"#x;y\"" },
	{ "database.conninfo", "host=/run/postgresql dbname=x", "host=/run/postgresql dbname=x" },
};

START_TEST(test_good_value)
{
	const struct good_case *c = &good_cases[_i];
	struct streetd_config back;

	ck_assert_msg(config_set(&cfg, c->key, c->value, &err) == 0, "%s = %s: %s", c->key,
	              c->value, error_line());
	ck_assert_str_eq(formatted(&cfg, c->key), c->canonical);
	/* The canonical text reads back to the same value. */
	ck_assert_int_eq(config_defaults(&back), 0);
	ck_assert_int_eq(config_set(&back, c->key, formatted(&cfg, c->key), &err), 0);
	ck_assert_uint_eq(config_changed(&cfg, &back, NULL, 0), 0);
	config_free(&back);
}
END_TEST

START_TEST(test_good_fields)
{
	ck_assert_int_eq(config_set(&cfg, "server.listen", "[fe80::1]:443", &err), 0);
	ck_assert_str_eq(cfg.server.listen.host, "fe80::1");
	ck_assert_int_eq(cfg.server.listen.port, 443);
	ck_assert_int_eq(config_set(&cfg, "server.listen", "localhost:7443", &err), 0);
	ck_assert_str_eq(cfg.server.listen.host, "localhost");
	ck_assert_int_eq(config_set(&cfg, "limits.max_photo", "64MiB", &err), 0);
	ck_assert_int_eq(cfg.limits.max_photo, INT64_C(64) * 1024 * 1024);
	ck_assert_int_eq(config_set(&cfg, "limits.max_backlog", "1GiB", &err), 0);
	ck_assert_int_eq(cfg.limits.max_backlog, INT64_C(1) << 30);
	ck_assert_int_eq(config_set(&cfg, "tls.crl", "\" a#b \"", &err), 0);
	ck_assert_str_eq(cfg.tls.crl, " a#b ");
	ck_assert_int_eq(config_set(&cfg, "log.level", "err", &err), 0);
	ck_assert_int_eq(cfg.log.level, CONFIG_LOG_ERR);
	/* the standby: a conninfo with spaces and '=' must be quoted; 0s = only a caught-up one */
	ck_assert_int_eq(config_set(&cfg, "database.read_conninfo",
	                            "\"host=/run/standby port=5433 dbname=streetd\"", &err),
	                 0);
	ck_assert_str_eq(cfg.database.read_conninfo, "host=/run/standby port=5433 dbname=streetd");
	ck_assert_int_eq(config_set(&cfg, "database.read_max_lag", "0s", &err), 0);
	ck_assert_int_eq(cfg.database.read_max_lag_ms, 0);
	ck_assert_int_eq(config_set(&cfg, "database.read_max_lag", "1h", &err), 0);
	ck_assert_int_eq(cfg.database.read_max_lag_ms, 3600000);
	ck_assert_int_eq(config_set(&cfg, "database.read_pool_size", "1", &err), 0);
	ck_assert_int_eq(cfg.database.read_pool_size, 1);
}
END_TEST

/* --- bad input: each must fail with this line, key and message ----------- */

struct bad_case {
	const char *text;
	size_t len; /* 0: strlen(text); set when the text holds a NUL */
	int line;
	const char *section;
	const char *key;
	const char *msg; /* substring of err.msg */
};

static const struct bad_case bad_cases[] = {
	/* structure */
	{ "[nope]\n", 0, 1, "", "", "unknown section [nope]" },
	{ "[limits]\n[Limits]\n", 0, 2, "", "", "unknown section [Limits]" },
	{ "[limits]\nnope = 1\n", 0, 2, "limits", "nope", "unknown key" },
	{ "[limits]\nMax_line = 1KiB\n", 0, 2, "limits", "Max_line", "unknown key" },
	{ "[tls]\nmax_line = 1KiB\n", 0, 2, "tls", "max_line", "unknown key" },
	{ "max_line = 64KiB\n", 0, 1, "", "max_line", "key outside any section" },
	{ "# c\n\nmax_line = 64KiB\n[limits]\n", 0, 3, "", "max_line", "key outside any section" },
	{ "[limits]\nmax_line = 64KiB\nmax_line = 128KiB\n", 0, 3, "limits", "max_line",
	  "duplicate key (first set on line 2)" },
	{ "[limits]\nmax_line = 64KiB\n[tls]\n[limits]\nmax_line = 64KiB\n", 0, 5, "limits",
	  "max_line", "duplicate key" },
	{ "[limits]\n\nmax_line 64KiB\n", 0, 3, "limits", "max_line", "missing '='" },
	{ "[limits]\n= 5\n", 0, 2, "limits", "", "missing key before '='" },
	{ "[limits\n", 0, 1, "", "", "section header without closing ']'" },
	{ "[limits] x\n", 0, 1, "", "", "text after the section header" },
	{ "[]\n", 0, 1, "", "", "empty section name" },
	{ "[tls]\ncrl = \"abc\n", 0, 2, "tls", "crl", "unterminated quote" },
	{ "[tls]\ncrl = \"abc\\\"\n", 0, 2, "tls", "crl", "unterminated quote" },
	{ "[tls]\ncrl = \"abc\\\n", 0, 2, "tls", "crl", "unterminated quote" },
	{ "[tls]\ncrl = \"a\"b\n", 0, 2, "tls", "crl", "text after the closing quote" },
	{ "[tls]\ncrl = \"a\\n\"\n", 0, 2, "tls", "crl", "unknown escape '\\n'" },
	{ "[tls]\ncrl = a # comment\n", 0, 2, "tls", "crl", "'#' in an unquoted value" },
	{ "[limits]\nmax_line = 64KiB ; c\n", 0, 2, "limits", "max_line",
	  "';' in an unquoted value" },
	/* bytes */
	{ "[limits]\nmax_\0line = 1\n", 22, 2, "", "", "NUL byte at column 5" },
	{ "[limits]\nmax_line = 1KiB\n\0", 26, 3, "", "", "NUL byte at column 1" },
	{ "[tls]\ncrl = \xff\n", 0, 2, "", "", "invalid UTF-8 at column 7" },
	{ "[tls]\ncrl = \xc0\xaf\n", 0, 2, "", "", "invalid UTF-8 at column 7" },
	{ "[tls]\ncrl = \xed\xa0\x80\n", 0, 2, "", "", "invalid UTF-8 at column 7" },
	{ "[tls]\ncrl = \xf4\x90\x80\x80\n", 0, 2, "", "", "invalid UTF-8 at column 7" },
	{ "[tls]\ncrl = ab\xe4\xb8", 0, 2, "", "", "invalid UTF-8 at column 9" },
	{ "[tls]\ncrl = \xe4\xb8x\n", 0, 2, "", "", "invalid UTF-8 at column 7" },
	{ "[tls]\ncrl = a\x1b\n", 0, 2, "", "", "control character 0x1b at column 8" },
	{ "[tls]\ncrl = a\rb\n", 0, 2, "", "", "control character 0x0d" },
	{ "[tls]\ncrl = a\r\r\n", 0, 2, "", "", "control character 0x0d" },
	/* int */
	{ "[database]\npool_size = 99999999999999999999\n", 0, 2, "database", "pool_size",
	  "\"99999999999999999999\" is out of range (1..64)" },
	{ "[database]\npool_size = -99999999999999999999\n", 0, 2, "database", "pool_size",
	  "is out of range (1..64)" },
	{ "[database]\npool_size = 2147483652\n", 0, 2, "database", "pool_size",
	  "is out of range (1..64)" },
	{ "[database]\npool_size = -1\n", 0, 2, "database", "pool_size",
	  "\"-1\" is out of range (1..64)" },
	{ "[database]\npool_size = 0\n", 0, 2, "database", "pool_size", "is out of range" },
	{ "[database]\npool_size = 65\n", 0, 2, "database", "pool_size", "is out of range" },
	{ "[limits]\nmax_sessions = 19001\n", 0, 2, "limits", "max_sessions",
	  "\"19001\" is out of range (1..19000)" },
	{ "[database]\npool_size = 1e3\n", 0, 2, "database", "pool_size",
	  "\"1e3\" is not a decimal integer" },
	{ "[database]\npool_size = 0x10\n", 0, 2, "database", "pool_size",
	  "\"0x10\" is not a decimal integer" },
	{ "[database]\npool_size = 010\n", 0, 2, "database", "pool_size",
	  "is not a decimal integer" },
	{ "[database]\npool_size = +4\n", 0, 2, "database", "pool_size",
	  "is not a decimal integer" },
	{ "[database]\npool_size = 4 4\n", 0, 2, "database", "pool_size",
	  "is not a decimal integer" },
	{ "[database]\npool_size = 4.0\n", 0, 2, "database", "pool_size",
	  "is not a decimal integer" },
	{ "[database]\npool_size = -\n", 0, 2, "database", "pool_size",
	  "is not a decimal integer" },
	{ "[database]\npool_size =\n", 0, 2, "database", "pool_size",
	  "\"\" is not a decimal integer" },
	{ "[database]\npool_size = ４\n", 0, 2, "database", "pool_size",
	  "is not a decimal integer" },
	/* size */
	{ "[limits]\nmax_line = 64XB\n", 0, 2, "limits", "max_line",
	  "\"64XB\" is not a size (use B, KiB, MiB or GiB)" },
	{ "[limits]\nmax_line = 64kib\n", 0, 2, "limits", "max_line", "\"64kib\" is not a size" },
	{ "[limits]\nmax_line = 64KB\n", 0, 2, "limits", "max_line", "is not a size" },
	{ "[limits]\nmax_line = 64K\n", 0, 2, "limits", "max_line", "is not a size" },
	{ "[limits]\nmax_line = 64 KiB\n", 0, 2, "limits", "max_line", "is not a size" },
	{ "[limits]\nmax_line = 1.5KiB\n", 0, 2, "limits", "max_line", "is not a size" },
	{ "[limits]\nmax_line = KiB\n", 0, 2, "limits", "max_line", "is not a size" },
	{ "[limits]\nmax_line = 65536\n", 0, 2, "limits", "max_line",
	  "\"65536\" has no unit (use B, KiB, MiB or GiB)" },
	{ "[limits]\nmax_line = 1023B\n", 0, 2, "limits", "max_line",
	  "\"1023B\" is out of range (1KiB..16MiB)" },
	{ "[limits]\nmax_line = 17MiB\n", 0, 2, "limits", "max_line", "is out of range" },
	{ "[limits]\nmax_line = -1KiB\n", 0, 2, "limits", "max_line", "is out of range" },
	{ "[limits]\nmax_line = 99999999999GiB\n", 0, 2, "limits", "max_line",
	  "is out of range (1KiB..16MiB)" },
	{ "[limits]\nmax_line = 99999999999999999999B\n", 0, 2, "limits", "max_line",
	  "is out of range" },
	{ "[limits]\nmax_backlog = 2GiB\n", 0, 2, "limits", "max_backlog",
	  "is out of range (64KiB..1GiB)" },
	/* duration */
	{ "[limits]\nidle_timeout = 10\n", 0, 2, "limits", "idle_timeout",
	  "\"10\" has no unit (use ms, s, m or h)" },
	{ "[limits]\ndrain_timeout = 0\n", 0, 2, "limits", "drain_timeout", "has no unit" },
	{ "[limits]\nidle_timeout = 10x\n", 0, 2, "limits", "idle_timeout",
	  "\"10x\" is not a duration (use ms, s, m or h)" },
	{ "[limits]\nidle_timeout = 10S\n", 0, 2, "limits", "idle_timeout", "is not a duration" },
	{ "[limits]\nidle_timeout = 10sec\n", 0, 2, "limits", "idle_timeout", "is not a duration" },
	{ "[limits]\nidle_timeout = 1.5s\n", 0, 2, "limits", "idle_timeout", "is not a duration" },
	{ "[limits]\nidle_timeout = s\n", 0, 2, "limits", "idle_timeout", "is not a duration" },
	{ "[limits]\nidle_timeout = 999ms\n", 0, 2, "limits", "idle_timeout",
	  "\"999ms\" is out of range (1s..24h)" },
	{ "[limits]\nidle_timeout = 25h\n", 0, 2, "limits", "idle_timeout", "is out of range" },
	{ "[database]\nconnect_timeout = 99ms\n", 0, 2, "database", "connect_timeout",
	  "is out of range (100ms..1m)" },
	{ "[database]\nread_max_lag = 61m\n", 0, 2, "database", "read_max_lag",
	  "\"61m\" is out of range (0s..1h)" },
	{ "[database]\nread_max_lag = 30\n", 0, 2, "database", "read_max_lag", "has no unit" },
	{ "[database]\nread_pool_size = 0\n", 0, 2, "database", "read_pool_size",
	  "is out of range" },
	{ "[database]\nread_pool_size = 65\n", 0, 2, "database", "read_pool_size",
	  "is out of range" },
	{ "[limits]\ndrain_timeout = -1s\n", 0, 2, "limits", "drain_timeout",
	  "\"-1s\" is out of range (0s..10m)" },
	{ "[limits]\ndrain_timeout = 9999999999999999h\n", 0, 2, "limits", "drain_timeout",
	  "is out of range" },
	/* bool */
	{ "[sweeper]\nenabled = maybe\n", 0, 2, "sweeper", "enabled",
	  "\"maybe\" is not a bool (use true/false, yes/no, on/off or 1/0)" },
	{ "[sweeper]\nenabled = True\n", 0, 2, "sweeper", "enabled", "is not a bool" },
	{ "[sweeper]\nenabled = 2\n", 0, 2, "sweeper", "enabled", "is not a bool" },
	{ "[sweeper]\nenabled =\n", 0, 2, "sweeper", "enabled", "is not a bool" },
	/* enum */
	{ "[log]\nlevel = warn\n", 0, 2, "log", "level",
	  "\"warn\" is not one of: debug, info, notice, warning, err" },
	{ "[log]\nlevel = INFO\n", 0, 2, "log", "level", "is not one of" },
	{ "[tls]\nmin_version = 1.1\n", 0, 2, "tls", "min_version",
	  "\"1.1\" is not one of: 1.2, 1.3" },
	/* path */
	{ "[tls]\ncert =\n", 0, 2, "tls", "cert", "a path must not be empty" },
	{ "[tls]\nkey = \"\"\n", 0, 2, "tls", "key", "a path must not be empty" },
	/* listen */
	{ "[server]\nlisten = 127.0.0.1\n", 0, 2, "server", "listen", "has no port" },
	{ "[server]\nlisten = :7443\n", 0, 2, "server", "listen", "has no host" },
	{ "[server]\nlisten = 127.0.0.1:0\n", 0, 2, "server", "listen",
	  "port must be a number in 1..65535" },
	{ "[server]\nlisten = 127.0.0.1:65536\n", 0, 2, "server", "listen", "port must be" },
	{ "[server]\nlisten = 127.0.0.1:\n", 0, 2, "server", "listen", "port must be" },
	{ "[server]\nlisten = 127.0.0.1:http\n", 0, 2, "server", "listen", "port must be" },
	{ "[server]\nlisten = 127.0.0.1:07443\n", 0, 2, "server", "listen", "port must be" },
	{ "[server]\nlisten = ::1:7443\n", 0, 2, "server", "listen",
	  "an IPv6 address must be in brackets" },
	{ "[server]\nlisten = [::1]\n", 0, 2, "server", "listen", "is not a listen address" },
	{ "[server]\nlisten = [::1]7443\n", 0, 2, "server", "listen", "is not a listen address" },
	{ "[server]\nlisten = [::g]:7443\n", 0, 2, "server", "listen",
	  "\"::g\" is not a valid IPv6 address" },
	{ "[server]\nlisten = [127.0.0.1]:7443\n", 0, 2, "server", "listen",
	  "is not a valid IPv6 address" },
	{ "[server]\nlisten = 256.1.1.1:7443\n", 0, 2, "server", "listen",
	  "\"256.1.1.1\" is not a valid IPv4 address" },
	{ "[server]\nlisten = 1.2.3:7443\n", 0, 2, "server", "listen",
	  "is not a valid IPv4 address" },
	{ "[server]\nlisten = bad_host:7443\n", 0, 2, "server", "listen",
	  "\"bad_host\" is not a valid host name" },
	{ "[server]\nlisten = -x.example:7443\n", 0, 2, "server", "listen",
	  "is not a valid host name" },
	{ "[server]\nlisten = a..b:7443\n", 0, 2, "server", "listen", "is not a valid host name" },
	{ "[server]\nlisten = *:7443\n", 0, 2, "server", "listen", "is not a valid host name" },
};

START_TEST(test_bad_input)
{
	const struct bad_case *c = &bad_cases[_i];
	size_t len = c->len ? c->len : strlen(c->text);

	ck_assert_msg(config_parse(&cfg, c->text, len, "bad.conf", &err) == -1,
	              "case %d parsed: %s", _i, c->text);
	ck_assert_str_eq(err.file, "bad.conf");
	ck_assert_msg(err.line == c->line, "case %d: line %d, want %d (%s)", _i, err.line, c->line,
	              error_line());
	ck_assert_str_eq(err.section, c->section);
	ck_assert_str_eq(err.key, c->key);
	ck_assert_msg(strstr(err.msg, c->msg) != NULL, "case %d: \"%s\" lacks \"%s\"", _i, err.msg,
	              c->msg);
}
END_TEST

/* --- syntax details -------------------------------------------------------- */

START_TEST(test_quoted_values)
{
	ck_assert_int_eq(parse("[tls]\n"
	                       "crl = \"  spaced  \"\n"
	                       "cert = \"/a#b;c\"\t\n"
	                       "key = \"q\\\"uote\\\\d\"\n"
	                       "ca = \"/plain\"\n"),
	                 0);
	ck_assert_str_eq(cfg.tls.crl, "  spaced  ");
	ck_assert_str_eq(cfg.tls.cert, "/a#b;c");
	ck_assert_str_eq(cfg.tls.key, "q\"uote\\d");
	ck_assert_str_eq(cfg.tls.ca, "/plain");
	/* Unquoted: inner spaces stay, outer spaces go, a backslash is plain. */
	ck_assert_int_eq(parse("[database]\nconninfo =   host=a  dbname=b\\c  \n"), 0);
	ck_assert_str_eq(cfg.database.conninfo, "host=a  dbname=b\\c");
	/* The first '=' splits; later ones belong to the value. */
	ck_assert_int_eq(parse("[database]\nconninfo=a=b\n"), 0);
	ck_assert_str_eq(cfg.database.conninfo, "a=b");
}
END_TEST

START_TEST(test_comments)
{
	ck_assert_int_eq(parse("# hash\n"
	                       "; semicolon\n"
	                       "   # indented\n"
	                       "\t; tabbed\n"
	                       "#[nope]\n"
	                       ";nope = 1\n"
	                       "[limits]\n"
	                       "#max_line = 1\n"
	                       "max_inflight = 3\n"),
	                 0);
	ck_assert_int_eq(cfg.limits.max_inflight, 3);
	ck_assert_int_eq(cfg.limits.max_line, 64 * 1024);
}
END_TEST

START_TEST(test_line_endings)
{
	ck_assert_int_eq(parse("[limits]\r\nmax_line = 128KiB\r\n\r\n# c\r\n[tls]\r\n"
	                       "crl = \"x \"\r\n"),
	                 0);
	ck_assert_int_eq(cfg.limits.max_line, 128 * 1024);
	ck_assert_str_eq(cfg.tls.crl, "x ");
	/* No newline at the end, with and without CR. */
	ck_assert_int_eq(parse("[log]\nlevel = debug"), 0);
	ck_assert_int_eq(cfg.log.level, CONFIG_LOG_DEBUG);
	ck_assert_int_eq(parse("[log]\r\nlevel = notice\r"), 0);
	ck_assert_int_eq(cfg.log.level, CONFIG_LOG_NOTICE);
	/* A UTF-8 byte order mark is skipped; line numbers are unchanged. */
	ck_assert_int_eq(parse("\xef\xbb\xbf[log]\nlevel = err\n"), 0);
	ck_assert_int_eq(cfg.log.level, CONFIG_LOG_ERR);
	ck_assert_int_eq(parse("\xef\xbb\xbf[nope]\n"), -1);
	ck_assert_int_eq(err.line, 1);
	/* UTF-8 text is fine. */
	ck_assert_int_eq(parse("# 街道派单、部门接单\n[tls]\ncrl = /证书/吊销.pem\n"), 0);
	ck_assert_str_eq(cfg.tls.crl, "/证书/吊销.pem");
}
END_TEST

static char *line_of(size_t content, const char *eol)
{
	const char *head = "[tls]\ncrl = ";
	size_t hlen = strlen(head), prefix = strlen("crl = ");
	char *text = malloc(hlen + content + 3);

	ck_assert_ptr_nonnull(text);
	memcpy(text, head, hlen);
	memset(text + hlen, 'a', content - prefix);
	strcpy(text + hlen + content - prefix, eol);
	return text;
}

START_TEST(test_long_line)
{
	char *ok = line_of(CONFIG_MAX_LINE, "\n");
	char *ok_crlf = line_of(CONFIG_MAX_LINE, "\r\n");
	char *ok_last = line_of(CONFIG_MAX_LINE, "");
	char *bad = line_of(CONFIG_MAX_LINE + 1, "\n");
	char *bad_last = line_of(CONFIG_MAX_LINE + 1, "");

	ck_assert_msg(parse(ok) == 0, "%s", error_line());
	ck_assert_uint_eq(strlen(cfg.tls.crl), CONFIG_MAX_LINE - strlen("crl = "));
	ck_assert_int_eq(parse(ok_crlf), 0);
	ck_assert_int_eq(parse(ok_last), 0);
	ck_assert_int_eq(parse(bad), -1);
	ck_assert_int_eq(err.line, 2);
	ck_assert_str_eq(err.msg, "line is longer than 4096 bytes");
	ck_assert_int_eq(parse(bad_last), -1);
	ck_assert_int_eq(err.line, 2);
	/* A long bad value is cut in the message, which still says what is wrong. */
	ck_assert_int_eq(
	        config_set(&cfg, "limits.max_line", ok_last + strlen("[tls]\ncrl = "), &err), -1);
	ck_assert_ptr_nonnull(strstr(err.msg, "...\" is not a size"));
	free(ok);
	free(ok_crlf);
	free(ok_last);
	free(bad);
	free(bad_last);
}
END_TEST

START_TEST(test_input_too_large)
{
	size_t len = CONFIG_MAX_INPUT + 1;
	char *text = malloc(len);

	ck_assert_ptr_nonnull(text);
	memset(text, '\n', len);
	ck_assert_int_eq(config_parse(&cfg, text, len, "big.conf", &err), -1);
	ck_assert_int_eq(err.line, 0);
	ck_assert_str_eq(error_line(), "big.conf: file is larger than 1048576 bytes");
	ck_assert_int_eq(config_parse(&cfg, text, len - 1, "big.conf", &err), 0);
	free(text);
}
END_TEST

/* --- atomicity -------------------------------------------------------------- */

START_TEST(test_failed_parse_unchanged)
{
	struct streetd_config before;
	char *crl, *host;

	ck_assert_int_eq(config_set(&cfg, "tls.crl", "/old.pem", &err), 0);
	ck_assert_int_eq(config_set(&cfg, "limits.max_inflight", "7", &err), 0);
	ck_assert_int_eq(config_copy(&before, &cfg), 0);
	crl = cfg.tls.crl;
	host = cfg.server.listen.host;

	ck_assert_int_eq(parse("[tls]\ncrl = /new.pem\n[server]\nlisten = [::1]:1\n"
	                       "[limits]\nmax_inflight = 9\nmax_line = 1\n"),
	                 -1);
	ck_assert_int_eq(err.line, 7);
	ck_assert_uint_eq(config_changed(&before, &cfg, NULL, 0), 0);
	/* Not even reallocated: the caller's pointers stay valid. */
	ck_assert_ptr_eq(cfg.tls.crl, crl);
	ck_assert_ptr_eq(cfg.server.listen.host, host);
	ck_assert_int_eq(cfg.limits.max_inflight, 7);

	/* The same for config_set, and for a NULL err. */
	ck_assert_int_eq(config_set(&cfg, "server.listen", "bad", &err), -1);
	ck_assert_int_eq(config_parse(&cfg, "[x]\n", 4, "f", NULL), -1);
	ck_assert_int_eq(config_set(&cfg, "tls.cert", "", NULL), -1);
	ck_assert_uint_eq(config_changed(&before, &cfg, NULL, 0), 0);
	ck_assert_ptr_eq(cfg.server.listen.host, host);
	config_free(&before);
}
END_TEST

START_TEST(test_copy_free)
{
	struct streetd_config copy;

	ck_assert_int_eq(config_set(&cfg, "tls.crl", "/x.pem", &err), 0);
	ck_assert_int_eq(config_copy(&copy, &cfg), 0);
	ck_assert_ptr_ne(copy.tls.crl, cfg.tls.crl);
	ck_assert_str_eq(copy.tls.crl, "/x.pem");
	ck_assert_ptr_ne(copy.server.listen.host, cfg.server.listen.host);
	ck_assert_uint_eq(config_changed(&copy, &cfg, NULL, 0), 0);
	config_free(&copy);
	ck_assert_ptr_null(copy.tls.crl);
	ck_assert_ptr_null(copy.server.listen.host);
	config_free(&copy); /* twice is harmless */
}
END_TEST

/* --- overrides -------------------------------------------------------------- */

START_TEST(test_config_set)
{
	ck_assert_int_eq(config_set(&cfg, "limits.max_line", "128KiB", &err), 0);
	ck_assert_int_eq(cfg.limits.max_line, 128 * 1024);
	/* Later overrides win, and may follow a parsed file that set the key. */
	ck_assert_int_eq(parse("[limits]\nmax_line = 2KiB\n"), 0);
	ck_assert_int_eq(config_set(&cfg, "limits.max_line", "4KiB", &err), 0);
	ck_assert_int_eq(config_set(&cfg, "limits.max_line", "8KiB", &err), 0);
	ck_assert_int_eq(cfg.limits.max_line, 8 * 1024);

	ck_assert_int_eq(config_set(&cfg, "limits.max_line", "64XB", &err), -1);
	ck_assert_str_eq(err.file, "--set");
	ck_assert_int_eq(err.line, 0);
	ck_assert_str_eq(err.section, "limits");
	ck_assert_str_eq(err.key, "max_line");

	ck_assert_int_eq(config_set(&cfg, "max_line", "1KiB", &err), -1);
	ck_assert_str_eq(err.key, "max_line");
	ck_assert_str_eq(err.msg, "expected section.key");
	ck_assert_int_eq(config_set(&cfg, "nope.max_line", "1KiB", &err), -1);
	ck_assert_str_eq(err.msg, "unknown section");
	ck_assert_int_eq(config_set(&cfg, "limits.nope", "1", &err), -1);
	ck_assert_str_eq(err.section, "limits");
	ck_assert_str_eq(err.key, "nope");
	ck_assert_str_eq(err.msg, "unknown key");
	ck_assert_int_eq(config_set(&cfg, "tls.crl", "a\nb", &err), -1);
	ck_assert_ptr_nonnull(strstr(err.msg, "control character 0x0a"));
	ck_assert_int_eq(config_set(&cfg, "tls.crl", "\xff", &err), -1);
	ck_assert_ptr_nonnull(strstr(err.msg, "invalid UTF-8"));
	ck_assert_int_eq(config_set(&cfg, "tls.crl", "a#b", &err), -1);
	ck_assert_int_eq(config_set(&cfg, "tls.crl", "\"a#b\"", &err), 0);
	ck_assert_str_eq(cfg.tls.crl, "a#b");
	ck_assert_int_eq(cfg.limits.max_line, 8 * 1024);
}
END_TEST

/* --- reload ----------------------------------------------------------------- */

START_TEST(test_changed_fixed)
{
	struct streetd_config next;
	const char *keys[8] = { NULL };

	ck_assert_int_eq(config_copy(&next, &cfg), 0);
	ck_assert_uint_eq(config_changed_fixed(&cfg, &next, keys, 8), 0);
	ck_assert_uint_eq(config_changed(&cfg, &next, keys, 8), 0);

	ck_assert_int_eq(config_set(&next, "limits.max_line", "128KiB", &err), 0);
	ck_assert_int_eq(config_set(&next, "log.level", "debug", &err), 0);
	ck_assert_uint_eq(config_changed_fixed(&cfg, &next, keys, 8), 0);
	ck_assert_uint_eq(config_changed(&cfg, &next, keys, 8), 2);
	ck_assert_str_eq(keys[0], "limits.max_line");
	ck_assert_str_eq(keys[1], "log.level");

	ck_assert_int_eq(config_set(&next, "server.listen", "127.0.0.1:7444", &err), 0);
	ck_assert_int_eq(config_set(&next, "database.conninfo", "dbname=other", &err), 0);
	ck_assert_int_eq(config_set(&next, "database.pool_size", "5", &err), 0);
	ck_assert_uint_eq(config_changed_fixed(&cfg, &next, keys, 8), 3);
	ck_assert_str_eq(keys[0], "server.listen");
	ck_assert_str_eq(keys[1], "database.conninfo");
	ck_assert_str_eq(keys[2], "database.pool_size");
	ck_assert_uint_eq(config_changed(&cfg, &next, keys, 8), 5);

	/* the standby's conninfo and pool are restart-only, its lag limit reloads */
	ck_assert_int_eq(config_set(&next, "database.read_conninfo", "\"port=5433\"", &err), 0);
	ck_assert_int_eq(config_set(&next, "database.read_pool_size", "3", &err), 0);
	ck_assert_int_eq(config_set(&next, "database.read_max_lag", "5s", &err), 0);
	ck_assert_uint_eq(config_changed_fixed(&cfg, &next, keys, 8), 5);
	ck_assert_str_eq(keys[3], "database.read_conninfo");
	ck_assert_str_eq(keys[4], "database.read_pool_size");
	ck_assert_uint_eq(config_changed(&cfg, &next, keys, 8), 8);
	ck_assert_int_eq(config_set(&next, "database.read_conninfo", "\"\"", &err), 0);
	ck_assert_int_eq(config_set(&next, "database.read_pool_size", "2", &err), 0);
	ck_assert_int_eq(config_set(&next, "database.read_max_lag", "30s", &err), 0);

	/* The count is the full count even when keys[] is short. */
	keys[1] = NULL;
	ck_assert_uint_eq(config_changed_fixed(&cfg, &next, keys, 1), 3);
	ck_assert_str_eq(keys[0], "server.listen");
	ck_assert_ptr_null(keys[1]);
	ck_assert_uint_eq(config_changed_fixed(&cfg, &next, NULL, 0), 3);

	/* Host and port each count; the same value set again does not. */
	ck_assert_int_eq(config_set(&next, "server.listen", "localhost:7443", &err), 0);
	ck_assert_int_eq(config_set(&next, "database.conninfo", "dbname=streetd", &err), 0);
	ck_assert_int_eq(config_set(&next, "database.pool_size", "4", &err), 0);
	ck_assert_uint_eq(config_changed_fixed(&cfg, &next, keys, 8), 1);
	ck_assert_str_eq(keys[0], "server.listen");
	config_free(&next);
}
END_TEST

/* --- round trip: a non-default value for every key --------------------------- */

static const struct good_case other_values[] = {
	{ "server.listen", "[2001:db8::1]:9000", NULL },
	{ "http.enabled", "true", NULL },
	{ "http.listen", "127.0.0.1:9443", NULL },
	{ "http.max_connections", "7", NULL },
	{ "http.max_handshakes", "3", NULL },
	{ "http.max_header", "2KiB", NULL },
	{ "http.request_timeout", "7s", NULL },
	{ "http.keepalive_timeout", "2m", NULL },
	{ "http.web_root", "/srv/web", NULL },
	{ "http.js_root", "\"/opt/js\"", NULL },
	{ "tls.cert", "/c.pem", NULL },
	{ "tls.key", "\" k#ey \"", NULL },
	{ "tls.ca", "\"#a\\\\b\\\"c\"", NULL },
	{ "tls.min_version", "1.3", NULL },
	{ "tls.crl", "\";\"", NULL },
	{ "database.conninfo", "\"\"", NULL },
	{ "database.pool_size", "63", NULL },
	{ "database.connect_timeout", "1001ms", NULL },
	{ "database.statement_timeout", "9m", NULL },
	{ "database.reconnect_max", "61s", NULL },
	{ "database.read_conninfo", "\"host=/s port=1\"", NULL },
	{ "database.read_pool_size", "7", NULL },
	{ "database.read_max_lag", "0ms", NULL },
	{ "limits.max_line", "1000KiB", NULL },
	{ "limits.max_inflight", "1", NULL },
	{ "limits.max_sessions", "18999", NULL },
	{ "limits.max_sessions_per_account", "1000", NULL },
	{ "limits.max_handshakes", "2", NULL },
	{ "limits.handshake_timeout", "100ms", NULL },
	{ "limits.idle_timeout", "86399s", NULL },
	{ "limits.max_backlog", "65537B", NULL },
	{ "limits.max_photo", "64MiB", NULL },
	{ "limits.drain_timeout", "0ms", NULL },
	{ "log.level", "warning", NULL },
	{ "sweeper.enabled", "off", NULL },
	{ "sweeper.max_interval", "3599999ms", NULL },
	{ "audit.checkpoint_interval", "90s", NULL },
	{ "audit.checkpoint_events", "7", NULL },
};

START_TEST(test_round_trip)
{
	size_t n;
	const struct config_entry *t = config_table(&n);
	struct streetd_config back;
	char text[4 * CONFIG_MAX_LINE], value[CONFIG_MAX_LINE];
	size_t used = 0;
	const char *section = "";

	ck_assert_uint_eq(ARRAY_SIZE(other_values), n);
	for (size_t i = 0; i < n; i++) {
		ck_assert_str_eq(other_values[i].key, t[i].name);
		ck_assert_msg(config_set(&cfg, t[i].name, other_values[i].value, &err) == 0, "%s",
		              error_line());
	}
	/* Every key differs from its default... */
	ck_assert_int_eq(config_defaults(&back), 0);
	ck_assert_uint_eq(config_changed(&cfg, &back, NULL, 0), n);

	/* ...and a file written with config_format_value reads back identical. */
	for (size_t i = 0; i < n; i++) {
		int len = config_format_value(&cfg, &t[i], value, sizeof(value));

		ck_assert_int_gt(len, 0);
		ck_assert_int_lt(len, (int)sizeof(value));
		if (strcmp(section, t[i].section) != 0) {
			section = t[i].section;
			used += (size_t)snprintf(text + used, sizeof(text) - used, "[%s]\n",
			                         section);
		}
		used += (size_t)snprintf(text + used, sizeof(text) - used, "%s = %s\n", t[i].key,
		                         value);
		ck_assert_uint_lt(used, sizeof(text));
	}
	ck_assert_msg(config_parse(&back, text, used, "dump", &err) == 0, "%s", error_line());
	ck_assert_uint_eq(config_changed(&cfg, &back, NULL, 0), 0);
	config_free(&back);

	/* Snprintf semantics: a short buffer gets a truncated, terminated prefix. */
	ck_assert_int_eq(config_format_value(&cfg, config_lookup("tls.key"), value, 4), 8);
	ck_assert_str_eq(value, "\" k");
	ck_assert_int_eq(config_format_value(&cfg, config_lookup("tls.key"), NULL, 0), 8);
	ck_assert_int_eq(config_format_value(&cfg, config_lookup("tls.ca"), value, sizeof(value)),
	                 10);
	ck_assert_str_eq(value, "\"#a\\\\b\\\"c\"");
}
END_TEST

/* --- messages ---------------------------------------------------------------- */

START_TEST(test_error_format)
{
	char small[16];

	ck_assert_int_eq(parse("[limits]\nmax_line = 64XB\n"), -1);
	ck_assert_str_eq(error_line(), "streetd.conf:2: [limits] max_line: \"64XB\" is not a size "
	                               "(use B, KiB, MiB or GiB)");
	ck_assert_int_eq(config_set(&cfg, "limits.max_line", "64XB", &err), -1);
	ck_assert_str_eq(
	        error_line(),
	        "--set: [limits] max_line: \"64XB\" is not a size (use B, KiB, MiB or GiB)");
	ck_assert_int_eq(parse("# x\n[nope]\n"), -1);
	ck_assert_str_eq(error_line(), "streetd.conf:2: unknown section [nope]");
	ck_assert_int_eq(parse("max_line = 1KiB\n"), -1);
	ck_assert_str_eq(error_line(), "streetd.conf:1: max_line: key outside any section (add a "
	                               "[section] header above it)");
	ck_assert_int_eq(parse("[limits]\nmax_line = 1KiB\nmax_line = 2KiB\n"), -1);
	ck_assert_str_eq(error_line(),
	                 "streetd.conf:3: [limits] max_line: duplicate key (first set on line 2)");
	ck_assert_int_eq(config_parse(&cfg, "[x]", 3, NULL, &err), -1);
	ck_assert_str_eq(error_line(), "<input>:1: unknown section [x]");
	/* snprintf semantics. */
	ck_assert_int_eq(config_error_format(&err, small, sizeof(small)),
	                 (int)strlen("<input>:1: unknown section [x]"));
	ck_assert_str_eq(small, "<input>:1: unkn");
}
END_TEST

static Suite *config_suite(void)
{
	Suite *s = suite_create("config");
	TCase *tc = tcase_create("config");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_table);
	tcase_add_test(tc, test_defaults);
	tcase_add_test(tc, test_sample_conf);
	tcase_add_test(tc, test_full_file);
	tcase_add_test(tc, test_layered);
	tcase_add_loop_test(tc, test_good_value, 0, (int)ARRAY_SIZE(good_cases));
	tcase_add_test(tc, test_good_fields);
	tcase_add_loop_test(tc, test_bad_input, 0, (int)ARRAY_SIZE(bad_cases));
	tcase_add_test(tc, test_quoted_values);
	tcase_add_test(tc, test_comments);
	tcase_add_test(tc, test_line_endings);
	tcase_add_test(tc, test_long_line);
	tcase_add_test(tc, test_input_too_large);
	tcase_add_test(tc, test_failed_parse_unchanged);
	tcase_add_test(tc, test_copy_free);
	tcase_add_test(tc, test_config_set);
	tcase_add_test(tc, test_changed_fixed);
	tcase_add_test(tc, test_round_trip);
	tcase_add_test(tc, test_error_format);
	suite_add_tcase(s, tc);
	return s;
}

static char *read_text(const char *path)
{
	FILE *f = fopen(path, "rb");
	char *buf = calloc(1, CONFIG_MAX_INPUT + 1);
	size_t n;

	if (!f || !buf) {
		fprintf(stderr, "test_config: cannot read %s\n", path);
		exit(EXIT_FAILURE);
	}
	n = fread(buf, 1, CONFIG_MAX_INPUT, f);
	buf[n] = 0;
	fclose(f);
	return buf;
}

int main(int argc, char **argv)
{
	SRunner *sr;
	int failed;

	if (argc != 2) {
		fprintf(stderr, "usage: test_config path/to/etc/streetd.conf\n");
		return EXIT_FAILURE;
	}
	sample_conf = read_text(argv[1]);
	sr = srunner_create(config_suite());

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	free(sample_conf);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
