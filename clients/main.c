/*
 * streetctl: the thin client of streetd for every role (issue 5,
 * docs/streetctl.md).  main() reads the command line and the settings and
 * runs one subcommand; the exit code tells scripts what happened (ctl.h).
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "args.h"
#include "cmd.h"
#include "conf.h"
#include "conn.h"
#include "fail.h"

#ifndef STREETCTL_VERSION
#define STREETCTL_VERSION "0"
#endif

void ctl_free(struct ctl *ctl)
{
	conn_close(ctl->conn);
	json_object_put(ctl->whoami);
	json_object_put(ctl->categories);
	json_object_put(ctl->departments);
	json_object_put(ctl->places);
	memset(ctl, 0, sizeof(*ctl));
}

void cmd_print_json(json_object *o)
{
	puts(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
	                                               JSON_C_TO_STRING_NOSLASHESCAPE));
}

/* Flags over the config file over the defaults. */
static int main_settings(struct ctl *ctl, const struct args *a)
{
	char path[CTL_PATH_MAX], cwd[CTL_PATH_MAX];
	const char *v;
	bool must = false;
	int rc;

	conf_defaults(&ctl->set);
	if ((v = args_get(a, "config")) != NULL) {
		snprintf(path, sizeof(path), "%s", v);
		must = true;
	} else if (conf_path(path, sizeof(path), &must) != 0) {
		path[0] = '\0';
	}
	if (path[0] != '\0' && (rc = conf_load(&ctl->set, path, must)) != 0)
		return rc;
	/* paths on the command line are relative to where streetctl runs */
	if (getcwd(cwd, sizeof(cwd)) == NULL)
		snprintf(cwd, sizeof(cwd), ".");
	if ((v = args_get(a, "server")) != NULL)
		snprintf(ctl->set.server, sizeof(ctl->set.server), "%s", v);
	if (args_has(a, "port")) {
		long long p = 0;

		rc = args_int(a, "port", 1, 65535, &p);
		if (rc != 0)
			return rc;
		ctl->set.port = (int)p;
	}
	if ((v = args_get(a, "ca")) != NULL)
		conf_resolve_path(ctl->set.ca, sizeof(ctl->set.ca), v, cwd);
	if ((v = args_get(a, "cert")) != NULL)
		conf_resolve_path(ctl->set.cert, sizeof(ctl->set.cert), v, cwd);
	if ((v = args_get(a, "tls-key")) != NULL)
		conf_resolve_path(ctl->set.key, sizeof(ctl->set.key), v, cwd);
	return 0;
}

int main(int argc, char **argv)
{
	struct ctl ctl = { 0 };
	struct args a;
	const char *no_color = getenv("NO_COLOR");
	int rc;

	signal(SIGPIPE, SIG_IGN); /* a closed socket or pipe is an error return, not death */
	if (argc >= 2 && strcmp(argv[1], "help") == 0) {
		for (int i = 0; argc >= 3 && i < cmd_count; i++) {
			if (strcmp(cmd_table[i].name, argv[2]) == 0) {
				args_help(&cmd_table[i], cmd_table, cmd_count);
				return 0;
			}
		}
		if (argc >= 3)
			return fail_usage(NULL, "unknown command '%s'", argv[2]);
		args_help(NULL, cmd_table, cmd_count);
		return 0;
	}
	rc = args_parse(&a, argc, argv, cmd_table, cmd_count);
	if (rc != 0)
		return rc;
	if (a.cmd == NULL) {
		if (args_has(&a, "show-version")) {
			printf("streetctl %s\n", STREETCTL_VERSION);
			return 0;
		}
		if (args_has(&a, "help")) {
			args_help(NULL, cmd_table, cmd_count);
			return 0;
		}
		return fail_usage(NULL, "no command given");
	}
	if (args_has(&a, "help")) {
		args_help(a.cmd, cmd_table, cmd_count);
		return 0;
	}
	ctl.cmd = a.cmd->name;
	fail_set_command(a.cmd->name);
	ctl.json = args_has(&a, "json");
	ctl.colour = isatty(STDOUT_FILENO) && no_color == NULL;
	rc = main_settings(&ctl, &a);
	if (rc == 0)
		rc = a.cmd->run(&ctl, &a);
	ctl_free(&ctl);
	if (fflush(stdout) != 0 && rc == 0)
		rc = EX_IOERR;
	return rc;
}
