/*
 * streetbench: the load generator of bench/run.  Speaks streetd's protocol
 * over mutual TLS with the demo certificates, on libevent (one thread, up to
 * ~19,000 sessions) except for the handshake loop (blocking threads).
 *
 * Usage:
 *   streetbench actions    --clients N --seconds S [--warmup W]
 *   streetbench idle       --sessions N --accounts a,b,... [--hold S]
 *   streetbench push       --sessions N --accounts a,b,... --seconds S
 *                          [--since SEQ] [--rate R] [--in-scope K]
 *                          [--sse-port P] (subscribers as SSE streams on
 *                          the HTTPS port P, the driver on --port)
 *   streetbench handshakes --seconds S [--threads T] [--login L]
 *   streetbench hostile    --seconds S [--warmup W] [--login L]
 *                          [--accounts ATTACKER,NONREADER] [--http PORT]
 *                          (--http: the attacks and the well-behaved client
 *                          on the HTTPS listener at PORT, sb_hostile_http.c)
 *   streetbench rtt        --seconds S [--warmup W] [--login L]
 *   streetbench pingpong   --seconds S [--warmup W] (no daemon needed)
 * Common: --host 127.0.0.1 --port 7443 --tls DIR (LOGIN.crt/.key, ca.crt)
 *         --category ID --grid ID (of the reports) --reporter L --street L
 *         --dept L (the accounts of the loop) --connecting K (handshakes in
 *         progress at once while opening sessions) --setup-timeout S
 *         --server-pid PID (report the daemon's CPU time while measuring)
 * Output: one line of key=value pairs per measurement on stdout ("ready N"
 * for idle as soon as the sessions are up); diagnostics on stderr.
 *
 * Build: bench/build OUT (a plain cc, not meson: the top-level meson.build is
 * the product's, not the benchmark's; bench/run and the bench_tool test use it).
 */
#include <arpa/inet.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

#include "sb_modes.h"
#include "sb_util.h"

static void usage(FILE *f)
{
	fprintf(f,
	        "usage: streetbench actions|idle|push|handshakes|hostile|rtt|pingpong [options]\n"
	        "  actions    --clients N --seconds S [--warmup W]\n"
	        "  idle       --sessions N --accounts a,b,... [--hold S]\n"
	        "  push       --sessions N --accounts a,b,... --seconds S [--since SEQ]"
	        " [--rate R] [--in-scope K] [--sse-port P]\n"
	        "  handshakes --seconds S [--threads T] [--login L]\n"
	        "  hostile    --seconds S [--warmup W] [--login L] [--accounts A,NONREADER]"
	        " [--http PORT]\n"
	        "  rtt        --seconds S [--warmup W] [--login L]\n"
	        "  pingpong   --seconds S [--warmup W]\n"
	        "common: --host H --port P --tls DIR --category ID --grid ID --reporter L"
	        " --street L --dept L\n"
	        "        --connecting K --setup-timeout S --server-pid PID\n");
}

static int parse_num(const char *name, const char *s, double lo, double hi, double *out)
{
	char *end;
	double v = strtod(s, &end);

	if (end == s || *end || v < lo || v > hi) {
		sb_log("--%s: %s is not a number in %g..%g", name, s, lo, hi);
		return -1;
	}
	*out = v;
	return 0;
}

static int parse_opts(int argc, char **argv, struct sb_opts *o)
{
	static const struct option longopts[] = {
		{ "host", required_argument, NULL, 'H' },
		{ "port", required_argument, NULL, 'P' },
		{ "tls", required_argument, NULL, 'T' },
		{ "clients", required_argument, NULL, 'c' },
		{ "seconds", required_argument, NULL, 's' },
		{ "warmup", required_argument, NULL, 'w' },
		{ "sessions", required_argument, NULL, 'n' },
		{ "accounts", required_argument, NULL, 'a' },
		{ "hold", required_argument, NULL, 'h' },
		{ "since", required_argument, NULL, 'S' },
		{ "rate", required_argument, NULL, 'r' },
		{ "in-scope", required_argument, NULL, 'i' },
		{ "sse-port", required_argument, NULL, 'e' },
		{ "threads", required_argument, NULL, 't' },
		{ "login", required_argument, NULL, 'l' },
		{ "http", required_argument, NULL, 'y' },
		{ "category", required_argument, NULL, 'C' },
		{ "grid", required_argument, NULL, 'G' },
		{ "reporter", required_argument, NULL, 'R' },
		{ "street", required_argument, NULL, 'X' },
		{ "dept", required_argument, NULL, 'D' },
		{ "connecting", required_argument, NULL, 'k' },
		{ "setup-timeout", required_argument, NULL, 'u' },
		{ "server-pid", required_argument, NULL, 'p' },
		{ NULL, 0, NULL, 0 },
	};
	double v;
	int opt;

	while ((opt = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		const char *name = NULL;

		for (int i = 0; longopts[i].name; i++)
			if (longopts[i].val == opt)
				name = longopts[i].name;
		switch (opt) {
		case 'H':
			o->host = optarg;
			continue;
		case 'T':
			o->tls_dir = optarg;
			continue;
		case 'a':
			o->accounts = optarg;
			continue;
		case 'l':
			o->login = optarg;
			continue;
		case 'R':
			o->reporter = optarg;
			continue;
		case 'X':
			o->street = optarg;
			continue;
		case 'D':
			o->dept = optarg;
			continue;
		case '?':
			return -1;
		default:
			break;
		}
		if (parse_num(name, optarg, 0, 1e12, &v) != 0)
			return -1;
		switch (opt) {
		case 'P':
			o->port = (int)v;
			break;
		case 'c':
			o->clients = (int)v;
			break;
		case 's':
			o->seconds = v;
			break;
		case 'w':
			o->warmup = v;
			break;
		case 'i':
			o->in_scope = (int)v;
			break;
		case 'e':
			o->sse_port = (int)v;
			break;
		case 'n':
			o->sessions = (int)v;
			break;
		case 'h':
			o->hold = v;
			break;
		case 'S':
			o->since = (long long)v;
			break;
		case 'r':
			o->rate = v;
			break;
		case 't':
			o->threads = (int)v;
			break;
		case 'C':
			o->category = (int)v;
			break;
		case 'G':
			o->grid = (int)v;
			break;
		case 'k':
			o->max_connecting = (int)v;
			break;
		case 'u':
			o->setup_timeout = v;
			break;
		case 'p':
			o->server_pid = (int)v;
			break;
		case 'y':
			o->http_port = (int)v;
			break;
		default:
			return -1;
		}
	}
	if (optind != argc) {
		sb_log("unexpected argument: %s", argv[optind]);
		return -1;
	}
	memset(&o->addr, 0, sizeof(o->addr));
	o->addr.sin_family = AF_INET;
	o->addr.sin_port = htons((uint16_t)o->port);
	if (inet_pton(AF_INET, o->host, &o->addr.sin_addr) != 1) {
		sb_log("--host: %s is not an IPv4 address", o->host);
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct sb_opts o = {
		.host = "127.0.0.1",
		.port = 7443,
		.tls_dir = "var-bench/tls",
		.clients = 1,
		.reporter = "wang.fang",
		.street = "zhang.wei",
		.dept = "yang.min",
		.warmup = 2,
		.seconds = 10,
		.sessions = 1000,
		.accounts = "zhang.wei",
		.hold = 600,
		.rate = 20,
		.threads = 2,
		.login = "wang.fang",
		.max_connecting = 64,
		.setup_timeout = 180,
	};
	const char *mode;

	if (argc < 2 || strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0) {
		usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? EX_USAGE : 0;
	}
	mode = argv[1];
	if (parse_opts(argc - 1, argv + 1, &o) != 0) {
		usage(stderr);
		return EX_USAGE;
	}
	signal(SIGPIPE, SIG_IGN);
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (strcmp(mode, "actions") == 0 && o.category > 0 && o.grid > 0 && o.clients > 0)
		return sb_mode_actions(&o);
	if (strcmp(mode, "idle") == 0 && o.sessions > 0)
		return sb_mode_idle(&o);
	if (strcmp(mode, "push") == 0 && o.sessions > 0 && o.rate > 0 && o.category > 0 &&
	    o.grid > 0)
		return sb_mode_push(&o);
	if (strcmp(mode, "handshakes") == 0 && o.threads > 0)
		return sb_mode_handshakes(&o);
	if (strcmp(mode, "hostile") == 0 && o.category > 0 && o.grid > 0)
		return sb_mode_hostile(&o);
	if (strcmp(mode, "rtt") == 0)
		return sb_mode_rtt(&o);
	if (strcmp(mode, "pingpong") == 0)
		return sb_mode_pingpong(&o);
	sb_log("unknown mode or missing option (actions and push need --category and --grid)");
	usage(stderr);
	return EX_USAGE;
}
