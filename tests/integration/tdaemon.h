/*
 * tdaemon: the end-to-end harness.  Starts the real streetd ($STREETD_TEST_DAEMON)
 * on a free 127.0.0.1 port with a config written for the test, and talks to it
 * as a blocking TLS client on plain OpenSSL (not libevent), the way a client
 * program would.
 *
 * Environment (exported by scripts/test; the suites' meson block adds the daemon):
 *   STREETD_TEST_DAEMON   the streetd executable
 *   STREETD_TEST_TLS_DIR  server.crt/.key, ca.crt, LOGIN.crt/.key, nobody.*, rogue.*
 *   STREETD_TEST_DB       conninfo of the daemon's role
 *
 * Config: the file is built from a small key -> value table (the base below)
 * merged with the test's overrides.  An override string holds one
 * "section.key=value" per line (value written as in the file: quote it if it
 * needs quotes); it replaces the base key of the same name or adds the key, so
 * no key is ever written twice.  Base:
 *   server.listen       = 127.0.0.1:<free port>
 *   tls.cert/key/ca     = $STREETD_TEST_TLS_DIR/server.crt, server.key, ca.crt
 *   database.conninfo   = "$STREETD_TEST_DB"
 *   database.pool_size  = 2
 *   sweeper.enabled     = false   (other suites drive the sweep themselves)
 *   log.level           = debug
 * The file is <dir>/streetd.conf, the daemon's stderr goes to <dir>/streetd.log.
 *
 * Processes: the daemon is a child of the test process with PR_SET_PDEATHSIG
 * = SIGKILL, so a test that fails (Check _exit()s the forked test) or times
 * out never leaves it running.  Each daemon's directory lives under a per-run
 * base directory; tdaemon_stop() removes it, so whatever is left when the
 * suite ends belongs to a failed test: tdaemon_run_suite() prints those logs.
 * With TDAEMON_KEEP set in the environment nothing is removed (the base
 * directory is named on stderr), to read the logs of passing tests too.
 *
 * Ownership: every json_object a tclient function returns belongs to the client
 * and lives until tclient_close(); tests never json_object_put() them.
 * Functions documented as "fails the test" call ck_abort_msg().
 */
#ifndef STREET_TEST_TDAEMON_H
#define STREET_TEST_TDAEMON_H

#include <check.h>
#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>
#include <string.h>

struct tdaemon;
struct tclient;

/* ---- the shared test cluster ($STREETD_TEST_PGDIR; suites that stop it run
 * alone, and register tcluster_ensure as an unchecked fixture) ---- */

/* pg_ctl stop with mode "fast" or "immediate" (as the cluster's owner when root). */
int tcluster_stop(const char *mode);
bool tcluster_running(void);
/* scripts/pg start on the port of $STREETD_TEST_DB. */
int tcluster_start(void);
/* Whatever happened, leave the cluster running. */
void tcluster_ensure(void);

/* ---- the daemon ---- */

/* Writes the config (base + overrides, NULL for none), starts the daemon and waits
 * (<= 15 s) until its port accepts a TCP connection; fails the test, with the
 * daemon's log, if it exits or does not listen in time. */
struct tdaemon *tdaemon_start(const char *overrides);

/* The two halves of tdaemon_start, for tests that expect the start to fail:
 * tdaemon_new() makes the directory and writes the config without starting;
 * tdaemon_launch() starts it and returns true once it listens, false if it
 * exited first (its status is then tdaemon_exit_status()). */
struct tdaemon *tdaemon_new(const char *overrides);
bool tdaemon_launch(struct tdaemon *d);

/* Rewrites the config file with new overrides (same port), e.g. before SIGHUP. */
void tdaemon_rewrite_config(struct tdaemon *d, const char *overrides);
/* Writes raw text as the config file (for broken files). */
void tdaemon_write_file(struct tdaemon *d, const char *name, const char *text);

int tdaemon_port(const struct tdaemon *d);
/* A 127.0.0.1 TCP port free right now (for http.listen and the like). */
int tdaemon_free_port(void);
const char *tdaemon_dir(const struct tdaemon *d);
const char *tdaemon_conf(const struct tdaemon *d);

/* The daemon's log so far (read again at each call; valid until the next call). */
const char *tdaemon_log(struct tdaemon *d);
/* Waits up to timeout_ms for the log to contain needle. */
bool tdaemon_log_wait(struct tdaemon *d, const char *needle, int timeout_ms);

/* Sends a signal without waiting. */
void tdaemon_signal(struct tdaemon *d, int sig);
/* True while the daemon process has not exited. */
bool tdaemon_running(struct tdaemon *d);
/* Waits up to timeout_ms for the daemon to exit; returns its status as
 * tdaemon_stop() does, or -1 if it is still running. */
int tdaemon_wait(struct tdaemon *d, int timeout_ms);
/* The exit status once it has exited (see tdaemon_stop), -1 while running. */
int tdaemon_exit_status(const struct tdaemon *d);

/* Sends sig (0: none, e.g. after tdaemon_signal), waits <= 15 s, SIGKILLs on
 * timeout; returns the exit code (0..255) if it exited, 128 + the signal number
 * if a signal killed it (so a SIGKILL after a hang is 137).  Removes the
 * directory and frees d. */
int tdaemon_stop(struct tdaemon *d, int sig);

/* Runs "$STREETD_TEST_DAEMON -c conf [extra args...] " to completion (<= 15 s),
 * stdout and stderr captured into *output (malloc'd, NUL-terminated; may be NULL
 * if not wanted); returns the exit code as tdaemon_stop() does.  args ends with NULL. */
int tdaemon_run_sync(const char *conf, char **output, const char *arg, ...)
        __attribute__((sentinel));

/* Runs the suite (CK_ENV: $CK_VERBOSITY, normal by default); prints the logs of daemons left behind
 * by failed tests; returns EXIT_SUCCESS / EXIT_FAILURE for main(). */
int tdaemon_run_suite(Suite *s);

/* A TCP connection to the daemon's port without TLS (for handshake tests). */
int tdaemon_tcp_connect(struct tdaemon *d);
/* Waits up to timeout_ms for the peer to close fd (EOF or reset), reading and
 * discarding anything it sends; returns the milliseconds it took, or -1. */
int tfd_wait_closed(int fd, int timeout_ms);

/* Whether the peer of a TCP socket has closed its side (FIN or reset), seen
 * without reading (TCP_INFO). */
bool tfd_peer_closed(int fd);

/* The value of KEY=VALUE in a libpq conninfo ("port" of STREETD_TEST_DB); malloc'd. */
char *tconninfo_get(const char *conninfo, const char *key);

/* Milliseconds on the monotonic clock. */
long long tnow_ms(void);

/* ---- the TLS client ---- */

/* Connects as login ($STREETD_TEST_TLS_DIR/LOGIN.crt/.key; NULL = no client
 * certificate), verifying the server certificate against ca.crt for 127.0.0.1.
 * Fails the test if the TCP connection or the TLS handshake fails.  (With TLS 1.3
 * the server's verdict on the client certificate arrives after the client's
 * handshake has finished: a refusal then shows as EOF on the first read.) */
struct tclient *tclient_connect(struct tdaemon *d, const char *login);
/* Same with explicit certificate and key paths (NULL, NULL = none). */
struct tclient *tclient_connect_files(struct tdaemon *d, const char *cert, const char *key);
/* Same, but returns NULL (and the reason in err) if the handshake fails. */
struct tclient *tclient_try_connect(struct tdaemon *d, const char *cert, const char *key, char *err,
                                    size_t errlen);
/* SO_RCVBUF for the sockets of the following connections (0: the system's). */
void tclient_set_rcvbuf(int bytes);
/* The port the following connections go to (0: the daemon's server.listen),
 * e.g. its http.listen. */
void tclient_set_port(int port);
/* $STREETD_TEST_TLS_DIR/name in a static rotating buffer (8 of them). */
const char *ttls_path(const char *name);

/* Whether the server refuses this certificate during or right after the handshake:
 * the handshake fails, or the first read (<= timeout_ms) ends in an alert or EOF
 * without a byte of application data.  *detail gets a short description. */
bool tclient_refused(struct tdaemon *d, const char *cert, const char *key, int timeout_ms,
                     char *detail, size_t detail_len);

/* Sends line + "\n" / len raw bytes; 0 on success, -1 if the connection failed or
 * the peer did not take the bytes within 10 s. */
int tclient_send(struct tclient *c, const char *line);
int tclient_send_raw(struct tclient *c, const void *buf, size_t len);
/* Same with a timeout; -2 on timeout. */
int tclient_send_raw_timeout(struct tclient *c, const void *buf, size_t len, int timeout_ms);

/* The next line from the server (queued ones first), parsed; NULL on timeout or
 * when the connection is closed (tclient_closed() tells which).  A line that is
 * not one JSON object fails the test. */
json_object *tclient_recv(struct tclient *c, int timeout_ms);
/* The next raw line (without "\n"), malloc'd; NULL on timeout/close.  Bypasses
 * the queue. */
char *tclient_recv_line(struct tclient *c, int timeout_ms);
bool tclient_closed(const struct tclient *c);
/* Waits up to timeout_ms for the server to close, discarding (but queueing)
 * what it sends; returns the milliseconds it took or -1. */
int tclient_wait_closed(struct tclient *c, int timeout_ms);

/* Formats a request WITHOUT an id ("{\"op\":\"get\",\"ticket\":%lld}"), inserts a
 * fresh "id":N, sends it and returns the reply with that id; lines without an id
 * (pushed events) and replies to other ids are queued (tclient_next_event,
 * tclient_recv).  Fails the test on a 10 s timeout or a closed connection.
 * tclient_call, tclient_ok and tclient_err are macros that add the caller's
 * file and line to the failure message. */
json_object *tclient_call_at(const char *file, int line, struct tclient *c, const char *fmt, ...)
        __attribute__((format(printf, 4, 5)));
#define tclient_call(c, ...) tclient_call_at(__FILE__, __LINE__, (c), __VA_ARGS__)
/* Same, returning NULL on timeout or close instead of failing. */
json_object *tclient_try_call(struct tclient *c, int timeout_ms, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));
/* tclient_call that fails the test unless the reply is ok / has error code `code`. */
json_object *tclient_ok_at(const char *file, int line, struct tclient *c, const char *fmt, ...)
        __attribute__((format(printf, 4, 5)));
#define tclient_ok(c, ...) tclient_ok_at(__FILE__, __LINE__, (c), __VA_ARGS__)
json_object *tclient_err_at(const char *file, int line, struct tclient *c, const char *code,
                            const char *fmt, ...) __attribute__((format(printf, 5, 6)));
#define tclient_err(c, code, ...) tclient_err_at(__FILE__, __LINE__, (c), (code), __VA_ARGS__)
/* The id the next tclient_call will use. */
long long tclient_next_id(const struct tclient *c);
/* The next pushed event (a line without "id"), from the queue or the wire; NULL
 * on timeout/close. */
json_object *tclient_next_event(struct tclient *c, int timeout_ms);
/* Number of queued lines not yet handed out. */
size_t tclient_queued(const struct tclient *c);
/* The underlying socket (e.g. for TCP_INFO). */
int tclient_fd(const struct tclient *c);
void tclient_close(struct tclient *c);

/* ---- reading replies ---- */

/* The value at a dotted path ("result.ticket.id", "result.events.0.action");
 * NULL if absent. */
json_object *tj_get(json_object *o, const char *path);
long long tj_int(json_object *o, const char *path);   /* 0 if absent or null */
const char *tj_str(json_object *o, const char *path); /* NULL if absent or null */
bool tj_bool(json_object *o, const char *path);       /* false if absent */
bool tj_is_null(json_object *o, const char *path);    /* present and null */
size_t tj_len(json_object *o, const char *path);      /* array length, 0 if not an array */
bool tj_ok(json_object *r);
const char *tj_code(json_object *r); /* error.code, NULL if absent */
long long tj_ticket_id(json_object *r);
int tj_ticket_version(json_object *r);
const char *tj_ticket_state(json_object *r);
const char *tj_dump(json_object *o); /* compact JSON ("(null)" for NULL) */

#define ck_assert_reply_ok(r) ck_assert_msg(tj_ok(r), "expected ok, got %s", tj_dump(r))
#define ck_assert_reply_code(r, code)                                                              \
	ck_assert_msg(tj_code(r) != NULL && strcmp(tj_code(r), (code)) == 0,                       \
	              "expected error %s, got %s", (code), tj_dump(r))

#endif
