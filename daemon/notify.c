#include "notify.h"

#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <systemd/sd-daemon.h>
#include <time.h>

#include <event2/event.h>

#include "db.h"
#include "events.h"
#include "log.h"
#include "push.h"
#include "server.h"

static struct {
	struct event *ev_status;
	struct event *ev_watchdog;
	bool ready;
	bool send_failed;      /* logged once */
	uint64_t watchdog_us;  /* interval between pings: WATCHDOG_USEC / 2 */
	uint64_t watchdog_due; /* monotonic time the watchdog timer should fire */
	char last_status[256]; /* what STATUS= said last */
} notify_state;

static uint64_t notify_now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static void notify_send(const char *msg)
{
	int rc = sd_notify(0, msg);

	if (rc < 0 && !notify_state.send_failed) {
		notify_state.send_failed = true;
		log_warn("cannot notify the service manager (NOTIFY_SOCKET): %s", strerror(-rc));
	}
}

const char *notify_status_text(struct server *srv, char *buf, size_t len)
{
	int ready = srv->db ? db_pool_ready(srv->db) : 0;
	int size = srv->cfg.database.pool_size;
	const char *sweeper;
	char db[96];

	if (srv->draining) {
		snprintf(buf, len, "shutting down: %d session%s finishing", srv->hub.nsessions,
		         srv->hub.nsessions == 1 ? "" : "s");
		return buf;
	}
	if (!notify_state.ready) {
		snprintf(buf, len,
		         "starting: waiting for the database (%d of %d connections ready)", ready,
		         size);
		return buf;
	}
	if (ready == 0)
		snprintf(db, sizeof(db), "database unreachable (0 of %d connections), reconnecting",
		         size);
	else
		snprintf(db, sizeof(db), "database %d of %d connections ready", ready, size);
	if (!srv->cfg.sweeper.enabled)
		sweeper = "off";
	else if (srv->events && events_is_sweeper(srv->events))
		sweeper = "this instance";
	else
		sweeper = "standby";
	snprintf(buf, len, "%d session%s, %zu subscribed; %s; deadline sweeper: %s",
	         srv->hub.nsessions, srv->hub.nsessions == 1 ? "" : "s",
	         srv->push ? push_subscribers(srv->push) : 0, db, sweeper);
	return buf;
}

/* Sends STATUS= if the text changed, or always when force. */
static void notify_status_send(struct server *srv, const char *prefix, bool force)
{
	char text[sizeof(notify_state.last_status)];
	char msg[sizeof(text) + 64];

	notify_status_text(srv, text, sizeof(text));
	if (!force && strcmp(text, notify_state.last_status) == 0)
		return;
	memcpy(notify_state.last_status, text, sizeof(text));
	snprintf(msg, sizeof(msg), "%sSTATUS=%s", prefix, text);
	notify_send(msg);
}

void notify_status(struct server *srv)
{
	notify_status_send(srv, "", false);
}

static void notify_status_cb(evutil_socket_t fd, short what, void *arg)
{
	notify_status(arg);
}

static void notify_watchdog_arm(void)
{
	struct timeval tv = {
		.tv_sec = (time_t)(notify_state.watchdog_us / 1000000u),
		.tv_usec = (suseconds_t)(notify_state.watchdog_us % 1000000u),
	};

	notify_state.watchdog_due = notify_now_us() + notify_state.watchdog_us;
	evtimer_add(notify_state.ev_watchdog, &tv);
}

/* Pings only if this timer ran on time: its lateness is how long the loop was
 * kept from turning. */
static void notify_watchdog_cb(evutil_socket_t fd, short what, void *arg)
{
	uint64_t now = notify_now_us();
	uint64_t late = now > notify_state.watchdog_due ? now - notify_state.watchdog_due : 0;

	if (late > notify_state.watchdog_us / 2)
		log_warn("event loop stalled: watchdog timer %" PRIu64 " ms late (limit %" PRIu64
		         " ms); withholding WATCHDOG=1",
		         late / 1000, notify_state.watchdog_us / 2000);
	else
		notify_send("WATCHDOG=1");
	notify_watchdog_arm();
}

int notify_start(struct server *srv)
{
	struct timeval every = { NOTIFY_STATUS_EVERY_MS / 1000,
		                 (NOTIFY_STATUS_EVERY_MS % 1000) * 1000 };
	uint64_t usec = 0;

	notify_state.ev_status = event_new(srv->base, -1, EV_PERSIST, notify_status_cb, srv);
	if (!notify_state.ev_status || event_add(notify_state.ev_status, &every) != 0)
		return -1;
	if (sd_watchdog_enabled(0, &usec) > 0 && usec > 0) {
		notify_state.watchdog_us = usec / 2;
		notify_state.ev_watchdog = evtimer_new(srv->base, notify_watchdog_cb, srv);
		if (!notify_state.ev_watchdog)
			return -1;
		log_notice("watchdog enabled: WATCHDOG=1 every %" PRIu64
		           " ms while the event loop is never blocked for more than %" PRIu64 " ms",
		           notify_state.watchdog_us / 1000, notify_state.watchdog_us / 2000);
		notify_send("WATCHDOG=1");
		notify_watchdog_arm();
	}
	notify_status_send(srv, "", true);
	return 0;
}

void notify_stop(void)
{
	if (notify_state.ev_status)
		event_free(notify_state.ev_status);
	if (notify_state.ev_watchdog)
		event_free(notify_state.ev_watchdog);
	memset(&notify_state, 0, sizeof(notify_state));
}

void notify_ready(struct server *srv)
{
	if (notify_state.ready) {
		notify_status(srv);
		return;
	}
	notify_state.ready = true;
	notify_status_send(srv, "READY=1\n", true);
}

bool notify_is_ready(void)
{
	return notify_state.ready;
}

void notify_reloading(void)
{
	char msg[64];

	if (!notify_state.ready)
		return;
	/* MONOTONIC_USEC: what systemd 253+ expects with RELOADING=1; 252 ignores it */
	snprintf(msg, sizeof(msg), "RELOADING=1\nMONOTONIC_USEC=%" PRIu64, notify_now_us());
	notify_send(msg);
}

void notify_reloaded(struct server *srv)
{
	if (!notify_state.ready)
		return;
	notify_status_send(srv, "READY=1\n", true);
}

void notify_stopping(struct server *srv)
{
	notify_status_send(srv, "STOPPING=1\n", true);
}
