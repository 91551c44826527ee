/*
 * sb_modes: the measurements of streetbench, one function per mode.  Each
 * prints one machine-readable line to stdout (key=value pairs) and returns
 * the exit status: 0 measured (or "not available"), 1 failed.
 */
#ifndef STREETBENCH_SB_MODES_H
#define STREETBENCH_SB_MODES_H

#include <netinet/in.h>

struct sb_opts {
	const char *host;
	int port;
	const char *tls_dir;
	/* actions, and the push driver */
	int clients;
	const char *reporter, *street, *dept; /* logins */
	int category, grid;
	double warmup, seconds;
	/* idle and push */
	int sessions;         /* idle sessions, or push subscribers */
	const char *accounts; /* their logins, comma-separated, used in turn */
	double hold;          /* idle: longest time to hold the sessions */
	long long since;      /* push: subscribe from after this seq */
	double rate;          /* push: driver actions per second */
	int in_scope;         /* push: the first in_scope accounts see the driver's
	                       * events, the others none (0: all of them) */
	int sse_port;         /* push: subscribers are GET /api/events streams on
	                       * this HTTPS port (0: socket sessions) */
	/* handshakes */
	int threads;
	const char *login;
	/* hostile: against the HTTPS listener on this port (0: the socket's) */
	int http_port;
	/* all */
	int server_pid; /* the daemon, for its CPU time during the measurement */
	int max_connecting;
	double setup_timeout;
	struct sockaddr_in addr;
};

int sb_mode_actions(const struct sb_opts *o);
int sb_mode_idle(const struct sb_opts *o);
int sb_mode_push(const struct sb_opts *o);
int sb_mode_handshakes(const struct sb_opts *o);
int sb_mode_hostile(const struct sb_opts *o);
int sb_mode_rtt(const struct sb_opts *o);
int sb_mode_pingpong(const struct sb_opts *o);

#endif
