/*
 * ctl: what every streetctl module shares: the settings, the open
 * connection, the output mode and the exit codes.
 *
 * Exit codes are sysexits.h values, one per kind of failure, so that a
 * script can tell "try again later" from "you may not" (docs/streetctl.md):
 *   0  ok                      69 EX_UNAVAILABLE  server or its database down
 *   64 EX_USAGE   command line 70 EX_SOFTWARE     internal error (a bug)
 *   65 EX_DATAERR bad request  73 EX_CANTCREAT    an output file cannot be created
 *   66 EX_NOINPUT not found    74 EX_IOERR        I/O or TLS failure
 *                              75 EX_TEMPFAIL     conflict/bad state: refresh, retry
 *   77 EX_NOPERM  not authorised (forbidden, unauthenticated, refused certificate)
 *   78 EX_CONFIG  the config file is wrong
 */
#ifndef STREETCTL_CTL_H
#define STREETCTL_CTL_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>
#include <sysexits.h>

#define CTL_PATH_MAX    1024
#define CTL_DEFAULT_SRV "127.0.0.1"
#define CTL_DEFAULT_PRT 7443

/* Where to connect and as whom: defaults < config file < flags. */
struct ctl_settings {
	char server[256];
	int port;
	char ca[CTL_PATH_MAX];
	char cert[CTL_PATH_MAX];
	char key[CTL_PATH_MAX];
};

struct conn;

/* One run of streetctl. */
struct ctl {
	struct ctl_settings set;
	const char *cmd;     /* the subcommand, for messages */
	bool json;           /* --json: print replies' results as JSON */
	bool colour;         /* stdout is a terminal and NO_COLOR is unset */
	struct conn *conn;   /* opened on the first request */
	unsigned conn_drops; /* connections dropped so far (a request sent ahead on one is lost) */
	/* results cached for this run (owned; NULL until fetched) */
	json_object *whoami, *categories, *departments, *places;
};

void ctl_free(struct ctl *ctl);

#endif
