/*
 * streetd: start-up, signals and the event loop.  fatal() is allowed here
 * and nowhere after the loop starts.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include "config_file.h"
#include "db.h"
#include "events.h"
#include "log.h"
#include "notify.h"
#include "server.h"
#include "stmts.h"
#include "tls.h"

#ifndef STREETD_VERSION
#define STREETD_VERSION "0.0.0"
#endif
#ifndef DEFAULT_CONFIG /* meson: sysconfdir/streetd/streetd.conf */
#define DEFAULT_CONFIG "/etc/streetd/streetd.conf"
#endif
/* --migrate runs these (meson sets the installed paths) */
#ifndef STREETD_MIGRATE_PROGRAM
#define STREETD_MIGRATE_PROGRAM "/usr/local/libexec/streetd/streetd-migrate"
#endif
#ifndef STREETD_SQL_DIR
#define STREETD_SQL_DIR "/usr/local/share/streetd/sql"
#endif

static void usage(FILE *f)
{
	fprintf(f,
	        "usage: streetd [-c FILE] [--set section.key=value]... [--check-config]\n"
	        "       streetd [-c FILE | --migrate-conninfo CONNINFO] --migrate\n"
	        "\n"
	        "  -c, --config FILE   configuration file (default " DEFAULT_CONFIG ")\n"
	        "      --set K=V       override one key of the file, e.g. --set "
	        "limits.max_line=128KiB\n"
	        "      --check-config  check the file (and the TLS files it names), then exit:\n"
	        "                      0 when good, 78 with a message naming file, line and key\n"
	        "      --migrate       bring the database up to this version's schema (and the\n"
	        "                      calendar data), then exit; 65 if the database is newer\n"
	        "      --migrate-conninfo CONNINFO\n"
	        "                      libpq connection for --migrate, as a superuser (default:\n"
	        "                      database.conninfo of the file, which is then read)\n"
	        "  -V, --version       print the version\n"
	        "  -h, --help          this text\n"
	        "\n"
	        "Signals: TERM or INT drains and exits 0; HUP reloads the file and the "
	        "certificates.\n"
	        "See streetd(8) and streetd.conf(5).\n");
}

static void on_signal(evutil_socket_t sig, short what, void *arg)
{
	struct server *srv = arg;
	bool was_draining = srv->draining;

	if (sig == SIGHUP) {
		if (!was_draining)
			notify_reloading();
		server_reload(srv);
		if (!was_draining)
			notify_reloaded(srv);
	} else {
		server_drain(srv);
		if (!was_draining)
			notify_stopping(srv);
	}
}

/*
 * --migrate: becomes the installed migration script (scripts/migrate), which
 * applies the SQL files of this version with psql and refuses (exit 65) a
 * database whose schema is newer.  The event loop never starts.  The
 * environment may point elsewhere (a relocated install, the tests):
 * STREETD_MIGRATE_PROGRAM and STREETD_SQL_DIR.
 */
static _Noreturn void run_migrate(char *conninfo)
{
	static char default_prog[] = STREETD_MIGRATE_PROGRAM, default_sql[] = STREETD_SQL_DIR;
	char opt_sql[] = "--sql-dir", opt_data[] = "--data", opt_end[] = "--", opt_d[] = "-d";
	char *prog = getenv("STREETD_MIGRATE_PROGRAM"), *sql = getenv("STREETD_SQL_DIR");
	char *args[8];

	if (!prog || !*prog)
		prog = default_prog;
	if (!sql || !*sql)
		sql = default_sql;
	args[0] = prog;
	args[1] = opt_sql;
	args[2] = sql;
	args[3] = opt_data;
	args[4] = opt_end;
	args[5] = opt_d;
	args[6] = conninfo;
	args[7] = NULL;
	/* the script names itself so in its messages */
	setenv("ST_PROG", "streetd --migrate", 1);
	fflush(NULL);
	execv(prog, args);
	fatal_exit(errno == ENOENT ? EX_UNAVAILABLE : EX_OSERR, "--migrate: cannot run %s: %s",
	           prog, strerror(errno));
}

/* Opens the listener (and tells systemd READY=1) once a client can be served
 * fully: a database connection is ready and the event reader knows where the
 * log stands, so that even a first subscribe is answered. */
static void maybe_listen(void *arg)
{
	struct server *srv = arg;

	if (srv->listener || srv->draining || !srv->db || !srv->events ||
	    db_pool_ready(srv->db) == 0 || !events_running(srv->events))
		return;
	server_listen(srv);
	notify_ready(srv);
}

static void on_db_state(void *arg, int ready, int size)
{
	struct server *srv = arg;
	static int last = -1;

	maybe_listen(srv);
	if ((ready == 0) != (last == 0))
		log_notice("database connections ready=%d of %d", ready, size);
	last = ready;
	notify_status(srv);
}

/* The event loop.  With epoll's changelist, an event added and deleted again
 * before the loop waits costs no epoll_ctl: an HTTPS answer written at once
 * (http_respond) enables and disables its write event in one turn, which
 * was two epoll_ctl calls a request.  (The changelist's known trap is a
 * descriptor dup()ed while registered; the daemon dups none.) */
static struct event_base *new_base(void)
{
	struct event_config *cfg = event_config_new();
	struct event_base *base;

	if (!cfg)
		return NULL;
	event_config_set_flag(cfg, EVENT_BASE_FLAG_EPOLL_USE_CHANGELIST);
	base = event_base_new_with_config(cfg);
	event_config_free(cfg);
	return base;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "set", required_argument, NULL, 's' },
		{ "check-config", no_argument, NULL, 'k' },
		{ "version", no_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },
		{ "migrate", no_argument, NULL, 'm' },
		{ "migrate-conninfo", required_argument, NULL, 'M' },
		{ NULL, 0, NULL, 0 },
	};
	struct server srv;
	const char *path = DEFAULT_CONFIG;
	char **sets = calloc((size_t)argc + 1, sizeof(char *));
	int nsets = 0, opt;
	bool check = false, migrate = false;
	char *migrate_conninfo = NULL;
	char err[1024];
	struct event *sigs[3];
	const int signums[3] = { SIGTERM, SIGINT, SIGHUP };

	memset(&srv, 0, sizeof(srv));
	if (!sets)
		fatal_exit(EX_OSERR, "out of memory");
	while ((opt = getopt_long(argc, argv, "c:Vh", longopts, NULL)) != -1) {
		switch (opt) {
		case 'c':
			path = optarg;
			break;
		case 's':
			sets[nsets++] = optarg;
			break;
		case 'k':
			check = true;
			break;
		case 'm':
			migrate = true;
			break;
		case 'M':
			migrate_conninfo = optarg;
			break;
		case 'V':
			printf("streetd %s\n", STREETD_VERSION);
			return 0;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return EX_USAGE;
		}
	}
	if (optind != argc || (migrate && check) || (migrate_conninfo && !migrate)) {
		usage(stderr);
		return EX_USAGE;
	}
	if (migrate && migrate_conninfo)
		run_migrate(migrate_conninfo); /* the file is not needed (nor perhaps readable) */
	if (config_file_load(path, sets, nsets, &srv.cfg, err, sizeof(err)) != 0)
		fatal_exit(EX_CONFIG, "%s", err);
	log_init((int)srv.cfg.log.level, log_stderr_is_journal());
	if (migrate)
		run_migrate(srv.cfg.database.conninfo);
	srv.config_path = path;
	srv.overrides = sets;
	srv.noverrides = nsets;
	srv.ssl_ctx = tls_server_ctx(&srv.cfg, err, sizeof(err));
	if (!srv.ssl_ctx)
		fatal_exit(EX_CONFIG, "%s", err);
	if (check) {
		printf("%s: configuration OK\n", path);
		SSL_CTX_free(srv.ssl_ctx);
		config_free(&srv.cfg);
		free(sets);
		return 0;
	}
	signal(SIGPIPE, SIG_IGN);
	srv.base = new_base();
	if (!srv.base || stmts_init() != 0 || server_init(&srv, on_db_state, maybe_listen) != 0)
		fatal_exit(EX_OSERR, "cannot set up the event loop");
	for (int i = 0; i < 3; i++) {
		sigs[i] = evsignal_new(srv.base, signums[i], on_signal, &srv);
		if (!sigs[i] || event_add(sigs[i], NULL) != 0)
			fatal_exit(EX_OSERR, "cannot install signal handlers");
	}
	if (notify_start(&srv) != 0)
		fatal_exit(EX_OSERR, "out of memory");
	log_notice("streetd %s starting: waiting for the database", STREETD_VERSION);
	event_base_dispatch(srv.base);

	for (int i = 0; i < 3; i++)
		event_free(sigs[i]);
	notify_stop();
	server_free(&srv);
	stmts_free();
	event_base_free(srv.base);
	free(sets);
	return srv.exit_code;
}
