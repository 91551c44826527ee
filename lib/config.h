/*
 * config: the streetd configuration file, driven by one table.
 *
 * Pure logic: the daemon reads the file and hands the bytes to config_parse();
 * nothing here touches files, the environment or the network (no DNS).
 *
 * Every key is one row of the table (config_table()): section, key, type,
 * default (as text, parsed by the same code as the file), range, whether
 * SIGHUP reloads it, where it lives in struct streetd_config, and a one-line
 * doc. docs/config.md and etc/streetd.conf describe the same table.
 *
 * Ownership: a struct streetd_config owns its strings (every char * and
 * struct config_listen.host). config_defaults() and config_copy() fill a
 * struct whose old contents are NOT freed; config_parse() and config_set()
 * update a filled struct in place; config_free() releases the strings.
 * After config_defaults() no string field is ever NULL (an empty value is "").
 */
#ifndef STREETD_CONFIG_H
#define STREETD_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Longest line accepted, in bytes, not counting the "\n" or "\r\n". */
#define CONFIG_MAX_LINE 4096
/* Largest input config_parse() accepts: the daemon need read no more than this + 1. */
#define CONFIG_MAX_INPUT (1024 * 1024)

enum config_type {
	CONFIG_STRING,   /* any text, may be empty */
	CONFIG_PATH,     /* non-empty text */
	CONFIG_BOOL,     /* true/false, yes/no, on/off, 1/0 */
	CONFIG_INT,      /* strict decimal, range-checked, stored as int */
	CONFIG_DURATION, /* integer + ms, s, m or h; stored as int64_t milliseconds */
	CONFIG_SIZE,     /* integer + B, KiB, MiB or GiB; stored as int64_t bytes */
	CONFIG_ENUM,     /* one of the entry's choices; stored as the choice's value */
	CONFIG_LISTEN,   /* host:port; stored as struct config_listen */
};

/* Values match the syslog priorities (LOG_ERR .. LOG_DEBUG). */
enum config_log_level {
	CONFIG_LOG_ERR = 3,
	CONFIG_LOG_WARNING = 4,
	CONFIG_LOG_NOTICE = 5,
	CONFIG_LOG_INFO = 6,
	CONFIG_LOG_DEBUG = 7,
};

/* Values match OpenSSL's TLS1_2_VERSION / TLS1_3_VERSION. */
enum config_tls_version {
	CONFIG_TLS_1_2 = 0x0303,
	CONFIG_TLS_1_3 = 0x0304,
};

/*
 * A listen address. host is an IPv4 literal ("127.0.0.1"), an IPv6 literal
 * without its brackets ("::1"), or a host name ("localhost") that the daemon
 * still has to resolve. Owned by the struct streetd_config.
 */
struct config_listen {
	char *host;
	int port; /* 1..65535 */
};

/* Field names: durations end in _ms (milliseconds), sizes are in bytes. */
struct streetd_config {
	struct {
		struct config_listen listen;
	} server;
	struct {
		bool enabled;
		struct config_listen listen;
		int max_connections;
		int max_handshakes;
		int64_t max_header;
		int64_t request_timeout_ms;
		int64_t keepalive_timeout_ms;
		char *web_root; /* the web console's files */
		char *js_root;  /* Debian's libjs-* (chart.js/, leaflet/ under it) */
	} http;
	struct {
		char *cert;
		char *key;
		char *ca;
		enum config_tls_version min_version;
		char *crl; /* "" = no CRL */
	} tls;
	struct {
		char *conninfo;
		int pool_size;
		int64_t connect_timeout_ms;
		int64_t statement_timeout_ms;
		int64_t reconnect_max_ms;
		char *read_conninfo; /* "" = no standby: every read goes to conninfo */
		int read_pool_size;
		int64_t read_max_lag_ms;
	} database;
	struct {
		int64_t max_line;
		int max_inflight;
		int max_sessions;
		int max_sessions_per_account;
		int max_handshakes;
		int64_t handshake_timeout_ms;
		int64_t idle_timeout_ms;
		int64_t max_backlog;
		int64_t max_photo;
		int64_t drain_timeout_ms;
	} limits;
	struct {
		enum config_log_level level;
	} log;
	struct {
		bool enabled;
		int64_t max_interval_ms;
	} sweeper;
	struct {
		int64_t checkpoint_interval_ms;
		int checkpoint_events;
	} audit;
};

/* One allowed word of a CONFIG_ENUM key; arrays end with { NULL, 0 }. */
struct config_choice {
	const char *name;
	int value;
};

/* One row of the table. All strings are static. */
struct config_entry {
	const char *name;    /* dotted: "limits.max_line" */
	const char *section; /* "limits" */
	const char *key;     /* "max_line" */
	enum config_type type;
	const char *def;                     /* default, written as in the file */
	int64_t min, max;                    /* INT, DURATION (ms), SIZE (bytes); else unused */
	const struct config_choice *choices; /* ENUM only */
	bool reload;                         /* true: SIGHUP applies a new value */
	size_t offset;                       /* of the field in struct streetd_config */
	const char *doc;
};

/*
 * The first error of a parse. line is 1-based, 0 when there is no line
 * (config_set(), input too large). section and key are "" when the error is
 * not about one key (a bad section header, a NUL byte...).
 */
struct config_error {
	char file[256];
	int line;
	char section[64];
	char key[128];
	char msg[256];
};

/* The table, in documentation order; *n gets its length. */
const struct config_entry *config_table(size_t *n);

/* Finds an entry by dotted name ("limits.max_line"); NULL if unknown. */
const struct config_entry *config_lookup(const char *dotted_key);

/*
 * Fills cfg with every default of the table; cfg's old contents are not freed.
 * Returns 0, or -1 when out of memory (cfg then holds no allocation).
 */
int config_defaults(struct streetd_config *cfg);

/*
 * Applies text (len bytes, need not be NUL-terminated) on top of cfg, which
 * must already be filled (config_defaults()). filename is only used in
 * messages. Returns 0; or -1 with *err filled (err may be NULL) and cfg left
 * exactly as it was.
 */
int config_parse(struct streetd_config *cfg, const char *text, size_t len, const char *filename,
                 struct config_error *err);

/*
 * Sets one key, for command-line overrides: config_set(cfg, "limits.max_line",
 * "128KiB", err). value has the syntax of the right-hand side of a line in the
 * file (trimmed; may be "quoted"). Errors name the file "--set" and line 0.
 * Returns 0, or -1 with *err filled and cfg unchanged.
 */
int config_set(struct streetd_config *cfg, const char *dotted_key, const char *value,
               struct config_error *err);

/* Frees cfg's strings and sets them to NULL; safe on a zeroed struct. */
void config_free(struct streetd_config *cfg);

/*
 * Deep copy; dst's old contents are not freed. Returns 0, or -1 when out of
 * memory (dst then holds no allocation).
 */
int config_copy(struct streetd_config *dst, const struct streetd_config *src);

/*
 * Compares two configs: stores in keys[] (up to max, static strings) the
 * dotted names of the keys whose values differ, and returns how many differ
 * (which may be more than max). config_changed_fixed() only counts the keys
 * that SIGHUP cannot reload.
 */
size_t config_changed(const struct streetd_config *old, const struct streetd_config *next,
                      const char **keys, size_t max);
size_t config_changed_fixed(const struct streetd_config *old, const struct streetd_config *next,
                            const char **keys, size_t max);

/*
 * Writes e's current value in cfg as it would be written in the file
 * (quoted when needed, durations and sizes in their largest exact unit):
 * parsing that text gives the same value. Returns the length snprintf()
 * would, or -1 if the field holds something the type cannot print.
 */
int config_format_value(const struct streetd_config *cfg, const struct config_entry *e, char *buf,
                        size_t size);

/*
 * Writes the error as one line, without newline:
 *   streetd.conf:12: [limits] max_line: "64XB" is not a size (use B, KiB, MiB or GiB)
 * Returns the length snprintf() would.
 */
int config_error_format(const struct config_error *err, char *buf, size_t size);

#endif /* STREETD_CONFIG_H */
