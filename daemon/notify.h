/*
 * notify: what the daemon tells its service manager, through libsystemd's
 * sd_notify().  Every function is a no-op when NOTIFY_SOCKET is not set (the
 * daemon started by hand or by a test), so callers never check.
 *
 *   READY=1        once the listener is open and the database pool has a
 *                  ready connection (main.c, when server_listen() succeeded);
 *   RELOADING=1    when SIGHUP arrives, then READY=1 when the reload is done
 *                  (applied or refused: either way the daemon runs again);
 *   STOPPING=1     when SIGTERM/SIGINT starts the drain;
 *   STATUS=...     a one-line summary for "systemctl status", refreshed every
 *                  NOTIFY_STATUS_EVERY_MS while it changes;
 *   WATCHDOG=1     when systemd asks for it (WatchdogSec=), see below.
 *
 * The watchdog rule: a timer is armed for WATCHDOG_USEC/2 and measures how
 * late it fires (monotonic clock).  It pings only if it fired at most half its
 * interval late, i.e. the event loop was not blocked for more than
 * WATCHDOG_USEC/4.  A loop that is blocked never pings (the timer cannot run);
 * a loop that stalled too long skips one ping and logs it, and because the
 * previous ping is then more than WATCHDOG_USEC old when the next one would
 * be sent, systemd kills and restarts the daemon.  The database being
 * unreachable does not stop the pings: the daemon reconnects by itself and a
 * restart would not help.
 *
 * One per process: the state is static, set up by notify_start() and torn
 * down by notify_stop().
 */
#ifndef STREETD_NOTIFY_H
#define STREETD_NOTIFY_H

#include <stdbool.h>
#include <stddef.h>

struct server;

/* How often STATUS= is recomputed (sent only when the text changed). */
#define NOTIFY_STATUS_EVERY_MS 5000

/* Arms the status timer and, if systemd enabled it, the watchdog timer, on
 * srv->base; sends the first STATUS=.  0, or -1 if a timer cannot be made. */
int notify_start(struct server *srv);

/* Frees the timers (at exit). */
void notify_stop(void);

/* READY=1 with a fresh STATUS=; later calls only refresh the status. */
void notify_ready(struct server *srv);

/* True once READY=1 has been sent. */
bool notify_is_ready(void);

/* Around server_reload(): RELOADING=1, then READY=1 and a fresh STATUS=.
 * Both do nothing before the first READY=1 (nothing to reload from). */
void notify_reloading(void);
void notify_reloaded(struct server *srv);

/* STOPPING=1 with a STATUS= saying the daemon is draining. */
void notify_stopping(struct server *srv);

/* Recomputes STATUS= now and sends it if it changed. */
void notify_status(struct server *srv);

/* The STATUS= text for srv (also logged by tests); returns buf. */
const char *notify_status_text(struct server *srv, char *buf, size_t len);

#endif
