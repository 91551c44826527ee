/*
 * args: the command line, declared as tables.  Each subcommand lists its
 * options (struct args_opt) and positional arguments; args_parse() reads
 * argv with getopt_long against the global options plus the subcommand's,
 * and args_help() prints --help from the same tables, so the two never
 * disagree.  Where an option sets a wire field of the subcommand's op, its
 * bounds (1..5, at most 4000 characters) come from lib/proto's op table.
 *
 * Position matters for two names: before the subcommand --key is the TLS
 * key file and --version prints the program's version; after it they are
 * the action's idempotency key and the ticket version (git's convention
 * for global vs subcommand options).  --tls-key works in both places.
 */
#ifndef STREETCTL_ARGS_H
#define STREETCTL_ARGS_H

#include <stdbool.h>

#include "ctl.h"
#include "proto.h"

#define ARGS_MAX_VALUES 64
#define ARGS_MAX_POS    4

struct ctl;
struct args;

struct args_opt {
	const char *name;    /* long option, without "--" */
	const char *metavar; /* NULL: a flag */
	const char *help;
	const char *field; /* the wire field it sets, for its bounds in --help (or NULL) */
};

struct args_cmd {
	const char *name;
	const char *positional; /* synopsis of positional arguments: "ID", "ID TEXT", "" */
	int min_pos, max_pos;
	enum proto_op op; /* for field bounds in --help; PROTO_OP_NONE if none */
	const char *summary;
	const char *details;         /* more lines for --help, or NULL */
	const struct args_opt *opts; /* terminated by a {NULL} row */
	int (*run)(struct ctl *ctl, const struct args *a);
};

struct args {
	const struct args_cmd *cmd;
	int npos;
	const char *pos[ARGS_MAX_POS];
	int nv;
	struct {
		const char *name;
		const char *value; /* "" for a flag */
	} v[ARGS_MAX_VALUES];
};

/* The global options (accepted before the subcommand, most also after it). */
extern const struct args_opt args_global[];

/*
 * Parses argv: global options, the subcommand (looked up in cmds, n rows),
 * its options and positional arguments.  Returns 0, or EX_USAGE after
 * printing why.  *a->cmd is NULL when no subcommand was given (then a holds
 * only global options: --help, --version).
 */
int args_parse(struct args *a, int argc, char **argv, const struct args_cmd *cmds, int n);

/* The last value given for an option, or NULL. */
const char *args_get(const struct args *a, const char *name);
bool args_has(const struct args *a, const char *name);
/* Every value of a repeatable option, in order; returns how many (at most max). */
int args_all(const struct args *a, const char *name, const char **out, int max);

/*
 * Parses an integer option value in [min, max]; 0, or EX_USAGE after
 * printing "--name: ...".
 */
int args_int(const struct args *a, const char *name, long long min, long long max, long long *out);
/* The same for positional argument i (what names it in messages: "ID"). */
int args_pos_int(const struct args *a, int i, const char *what, long long *out);

/* --help of one subcommand, or of streetctl (cmd NULL). */
void args_help(const struct args_cmd *cmd, const struct args_cmd *cmds, int n);

#endif
