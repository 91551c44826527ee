/*
 * libFuzzer harness for lib/config.c.  Besides "no crash, no leak, no UB" it
 * checks the promises of config.h:
 *   - a failed parse fills the error (a message, a line within the input) and
 *     leaves the config exactly as it was;
 *   - after a successful parse, every key's config_format_value() text is
 *     accepted back, by config_set() and inside a file, and gives the same
 *     value (config_changed() finds no difference);
 *   - config_copy() gives an equal config.
 * Built twice: with -fsanitize=fuzzer, and into replay_config for the normal
 * test run (see meson.build).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond)                                                                                \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond);   \
			abort();                                                                   \
		}                                                                                  \
	} while (0)

/* Longest formatted value: a 4096-byte line can hold no longer one, but the
 * buffer is larger so that a formatter writing more is caught, not cut. */
#define VALUE_MAX (4 * CONFIG_MAX_LINE)

static void report_diff(const char *what, const struct streetd_config *a,
                        const struct streetd_config *b)
{
	const char *keys[64];
	size_t n = config_changed(a, b, keys, 64);

	if (n == 0)
		return;
	for (size_t i = 0; i < n && i < 64; i++) {
		const struct config_entry *e = config_lookup(keys[i]);
		char va[256], vb[256];

		va[0] = vb[0] = '\0';
		if (e) {
			config_format_value(a, e, va, sizeof(va));
			config_format_value(b, e, vb, sizeof(vb));
		}
		fprintf(stderr, "%s: %s differs: '%s' vs '%s'\n", what, keys[i], va, vb);
	}
	abort();
}

/* The error of a failed parse names a line of the input (or none). */
static void check_error(const struct config_error *err, const uint8_t *data, size_t size)
{
	char line[2048];
	size_t lines = 1;
	int n;

	for (size_t i = 0; i < size; i++)
		lines += data[i] == '\n';
	CHECK(err->msg[0] != '\0');
	CHECK(memchr(err->msg, '\0', sizeof(err->msg)) != NULL);
	CHECK(memchr(err->file, '\0', sizeof(err->file)) != NULL);
	CHECK(memchr(err->section, '\0', sizeof(err->section)) != NULL);
	CHECK(memchr(err->key, '\0', sizeof(err->key)) != NULL);
	CHECK(err->line >= 0 && (size_t)err->line <= lines);
	n = config_error_format(err, line, sizeof(line));
	CHECK(n > 0 && (size_t)n == strlen(line));
	CHECK(strchr(line, '\n') == NULL);
}

/* Every key's formatted value, set again on the defaults, gives cfg back. */
static void check_set_roundtrip(const struct streetd_config *cfg)
{
	const struct config_entry *t;
	struct streetd_config back;
	struct config_error err;
	static char buf[VALUE_MAX];
	size_t n;

	t = config_table(&n);
	CHECK(config_defaults(&back) == 0);
	for (size_t i = 0; i < n; i++) {
		int len = config_format_value(cfg, &t[i], buf, sizeof(buf));

		CHECK(len >= 0 && (size_t)len < sizeof(buf) && (size_t)len == strlen(buf));
		if (config_set(&back, t[i].name, buf, &err) != 0) {
			char msg[600];

			config_error_format(&err, msg, sizeof(msg));
			fprintf(stderr, "config_set(%s, '%s') refused its own format: %s\n",
			        t[i].name, buf, msg);
			abort();
		}
	}
	report_diff("config_set round trip", cfg, &back);
	config_free(&back);
}

/* The same inside a file: one "[section]" per key, "key=value" (never longer
 * than the line the value came from, or than a default's line). */
static void check_file_roundtrip(const struct streetd_config *cfg)
{
	const struct config_entry *t;
	struct streetd_config back;
	struct config_error err;
	static char buf[VALUE_MAX], file[64 * (VALUE_MAX + 128)];
	size_t n, used = 0;

	t = config_table(&n);
	CHECK(n <= 64);
	for (size_t i = 0; i < n; i++) {
		int len = config_format_value(cfg, &t[i], buf, sizeof(buf));

		CHECK(len >= 0 && (size_t)len < sizeof(buf));
		used += (size_t)snprintf(file + used, sizeof(file) - used, "[%s]\n%s=%s\n",
		                         t[i].section, t[i].key, buf);
		CHECK(used < sizeof(file));
	}
	CHECK(config_defaults(&back) == 0);
	if (config_parse(&back, file, used, "roundtrip.conf", &err) != 0) {
		char msg[600];

		config_error_format(&err, msg, sizeof(msg));
		fprintf(stderr, "the file of formatted values does not parse: %s\n", msg);
		abort();
	}
	report_diff("file round trip", cfg, &back);
	config_free(&back);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct streetd_config cfg, def, copy;
	struct config_error err;

	CHECK(config_defaults(&cfg) == 0);
	CHECK(config_defaults(&def) == 0);
	if (config_parse(&cfg, (const char *)data, size, "fuzz.conf", &err) != 0) {
		check_error(&err, data, size);
		/* A refused file leaves the config untouched. */
		report_diff("after a failed parse", &def, &cfg);
	} else {
		check_set_roundtrip(&cfg);
		check_file_roundtrip(&cfg);
		CHECK(config_copy(&copy, &cfg) == 0);
		report_diff("config_copy", &cfg, &copy);
		config_free(&copy);
		/* Parsing the same text again on top succeeds and changes nothing. */
		CHECK(config_copy(&copy, &cfg) == 0);
		CHECK(config_parse(&cfg, (const char *)data, size, "fuzz.conf", NULL) == 0);
		report_diff("parsed twice", &copy, &cfg);
		config_free(&copy);
	}
	config_free(&cfg);
	config_free(&def);
	/* Safe twice (config_free NULLs what it frees). */
	config_free(&cfg);
	return 0;
}
