/*
 * sb_hostile: what the two hostile modes share.  sb_hostile.c runs the
 * phases (baseline, attack, baseline, …), keeps the well-behaved client's
 * latencies and prints the rows, and has the socket port's attacks;
 * sb_hostile_http.c has the HTTPS port's client and attacks (--http PORT).
 * Each side plugs in through struct sb_hostile_side.
 */
#ifndef STREETBENCH_SB_HOSTILE_H
#define STREETBENCH_SB_HOSTILE_H

#include <netinet/in.h>
#include <openssl/ssl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>

#include "sb_conn.h"
#include "sb_modes.h"
#include "sb_util.h"

#define SB_SLOW_TLS  100
#define SB_SLOW_TCP  100
#define SB_HALF_OPEN 5000
#define SB_BIG_TOTAL (100u << 20)
#define SB_BIG_CHUNK (256u << 10)

/* The kinds of attack, in both modes (each names and makes them its way). */
enum { PH_BASE, PH_SLOW, PH_BIG, PH_SHAKE, PH_FLOOD, PH_NONREADER, PH_COUNT };

struct sb_hostile;

struct sb_hostile_side {
	const char *label;                 /* first word of each row */
	const char *const names[PH_COUNT]; /* phase=NAME */
	/* opens the well-behaved client on h->good_base; 0 or -1 */
	int (*start)(struct sb_hostile *h);
	/* the attack of h->phase, every 10 ms while attacking */
	void (*tick)(struct sb_hostile *h, unsigned ticks);
	/* after a phase, before stop: more key=value words for its row (may be
	 * empty); returns false if the attack could not be made (then the row
	 * says status=skipped and why, in out) */
	bool (*report)(struct sb_hostile *h, char *out, size_t n);
	/* every attacker closed (the half-open sockets are closed by the caller) */
	void (*stop)(struct sb_hostile *h);
	void (*free)(struct sb_hostile *h);
};

struct sb_hostile {
	const struct sb_opts *o;
	const struct sb_hostile_side *side;
	struct event_base *base;
	SSL_CTX *good_ctx, *rep_ctx, *att_ctx, *sub_ctx;
	int step, phase; /* phase = the sequence's step-th */
	bool measuring;  /* else pausing before the phase */
	unsigned long long base_n;
	double base_p50, base_p99;
	bool attacking;
	/* the well-behaved client, on good_base in its own thread; lock guards
	 * good_n, good_err and lat */
	struct event_base *good_base;
	pthread_t good_thread;
	pthread_mutex_t lock;
	atomic_bool good_stop;
	unsigned long long good_id, good_n, good_err;
	double good_sent;
	struct sb_samples lat;
	struct event *ev_good; /* the side's: when to send the next request */
	/* the background reporter (socket protocol) */
	struct sb_conn *rep;
	unsigned long long rep_id;
	/* TCP connections that never finish a handshake: slowloris' trickles
	 * use the first SB_SLOW_TCP, the handshake attack all */
	int tcp[SB_HALF_OPEN];
	int shake_opened;
	void *side_state; /* the side's own */
	struct event *ev_tick, *ev_phase, *ev_report;
	int rc;
};

/* The well-behaved client's answer to the request sent at h->good_sent came
 * at `at` (error: not the answer wanted); the next goes 2 ms later.  Called
 * on good_base's thread. */
void sb_hostile_answered(struct sb_hostile *h, bool error, double at);
/* It lost its connection (counted as an error). */
void sb_hostile_lost(struct sb_hostile *h, const char *why);

/* A non-blocking TCP connection to addr started, or -1. */
int sb_hostile_tcp_open(const struct sockaddr_in *addr);
/* True once the peer closed (or reset) fd; never blocks. */
bool sb_hostile_tcp_gone(int fd);
/* Slowloris' TCP half: SB_SLOW_TCP connections to addr each trickling a
 * ClientHello one byte a second (reopened when the server closes one). */
void sb_hostile_trickle_hello(struct sb_hostile *h, const struct sockaddr_in *addr, unsigned ticks);
/* The handshake attack: SB_HALF_OPEN connections to addr that never send a
 * byte, opened 250 a tick. */
void sb_hostile_half_open(struct sb_hostile *h, const struct sockaddr_in *addr);
/* How many of them the server has closed so far. */
int sb_hostile_half_open_cut(const struct sb_hostile *h);

/* Frees *c and sets it NULL (no-op on NULL). */
void sb_hostile_drop(struct sb_conn **c);

extern const struct sb_hostile_side sb_hostile_http_side;

#endif
