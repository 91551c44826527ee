/*
 * log: one line per event on stderr, for journald.
 *
 * Every line starts with the syslog priority "<N>" (journald reads it as the
 * level), then a message and key=value fields:
 *   <6>session opened session=12 peer=127.0.0.1:50412
 * When stderr is not the journal (a terminal, a file), a local ISO 8601
 * timestamp with milliseconds comes first:
 *   2026-03-01T09:15:02.417+08:00 <6>session opened session=12 ...
 *
 * A line is built in a buffer of LOG_LINE_MAX bytes (truncated, ending in
 * "...", never in the middle of a UTF-8 character) and written with one
 * write(2), so lines never interleave or break; control characters that reach
 * the formatter are replaced with spaces. Values that may hold spaces, quotes
 * or anything a client chose (a certificate CN, a message) go through
 * log_quote() first.
 *
 * Every function keeps errno as it was. State is two globals written only by
 * log_init()/log_set_level(): call those before starting threads.
 */
#ifndef STREETD_LOG_H
#define STREETD_LOG_H

#include <stdbool.h>
#include <stddef.h>
#include <syslog.h> /* LOG_ERR .. LOG_DEBUG: the levels used here */

/* Longest line written, in bytes, including the timestamp and the newline. */
#define LOG_LINE_MAX 2048

/*
 * Sets the most verbose level written (LOG_ERR..LOG_DEBUG; values outside
 * 0..7 are clamped) and whether stderr is the journal (no timestamp then).
 * Before log_init() the level is LOG_INFO and a timestamp is written.
 */
void log_init(int max_level, bool stderr_is_journal);

/*
 * True when stderr is a systemd journal stream: JOURNAL_STREAM is set and
 * names the device and inode of fd 2 (a bare "is it set" check would also
 * be true for a child whose stderr was redirected).
 */
bool log_stderr_is_journal(void);

/* Changes the level (SIGHUP may change log.level). */
void log_set_level(int max_level);

/* True when a message at level would be written: skip costly formatting. */
bool log_enabled(int level);

/* Writes one line at level (LOG_ERR..LOG_DEBUG). */
void log_msg(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Like log_msg(), with ": strerror(errno)" appended (errno as on entry). */
void log_errno(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define log_err(...)    log_msg(LOG_ERR, __VA_ARGS__)
#define log_warn(...)   log_msg(LOG_WARNING, __VA_ARGS__)
#define log_notice(...) log_msg(LOG_NOTICE, __VA_ARGS__)
#define log_info(...)   log_msg(LOG_INFO, __VA_ARGS__)
#define log_debug(...)  log_msg(LOG_DEBUG, __VA_ARGS__)

#define log_err_errno(...)  log_errno(LOG_ERR, __VA_ARGS__)
#define log_warn_errno(...) log_errno(LOG_WARNING, __VA_ARGS__)

/*
 * Drains the whole OpenSSL error queue of this thread, writing one line per
 * queued error at level:
 *   <3>WHAT ssl_error="error:0A000086:SSL routines::certificate verify failed"
 * WHAT is written as given (e.g. "handshake failed session=12"). The queue is
 * drained even when level is not enabled, so an old error never shows up in
 * another connection's diagnosis. Returns the number of errors drained.
 */
int log_ssl_errors(int level, const char *what);

/*
 * Writes s into buf (cap bytes) as a log value, and returns buf:
 *   - as it is when it is not empty and holds only printable ASCII other than
 *     space, '"', '\\' and '=' or valid UTF-8 above U+009F: wang.fang, 王芳;
 *   - otherwise in double quotes, with \" \\ \n \r \t, \xNN for other control
 *     characters and bytes that are not UTF-8, \uNNNN for U+0080..U+009F and
 *     for the invisible characters that reorder or break text on a terminal
 *     (U+200E/F, U+2028/9, U+202A..E, U+2066..9): "Wang Fang", "", "a\"b".
 * A value that does not fit is cut at a character boundary and ends in
 * `..."`. NULL is written as -. buf is always NUL-terminated; with cap < 6
 * it holds "" (cap 0: nothing is written).
 */
const char *log_quote(char *buf, size_t cap, const char *s);

/*
 * Start-up failures only (a bad config, a listener that cannot be opened):
 * a misbehaving client or a lost database never ends the process.
 * Each logs at LOG_ERR and exits. fatal() appends ": strerror(errno)" and
 * exits 1; fatalx() exits 1; fatal_exit() exits with code, a sysexits.h value
 * (EX_CONFIG 78 for configuration, EX_UNAVAILABLE 69, EX_SOFTWARE 70...).
 */
_Noreturn void fatal(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
_Noreturn void fatalx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
_Noreturn void fatal_exit(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif /* STREETD_LOG_H */
