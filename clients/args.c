/* args: see args.h. */
#include "args.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fail.h"

const struct args_opt args_global[] = {
	{ "server", "HOST", "streetd's host name or address (default 127.0.0.1)", NULL },
	{ "port", "N", "streetd's port (default 7443)", NULL },
	{ "ca", "FILE", "CA certificates the server's certificate must chain to", NULL },
	{ "cert", "FILE", "your client certificate (its CN is your login)", NULL },
	{ "key", "FILE", "its private key (before the subcommand; or --tls-key)", NULL },
	{ "tls-key", "FILE", "the same, anywhere on the line", NULL },
	{ "config", "FILE",
	  "read settings from FILE (default $STREETCTL_CONFIG, "
	  "~/.config/streetctl/config)",
	  NULL },
	{ "json", NULL, "print the server's result as JSON (one document; one per line for watch)",
	  NULL },
	{ "help", NULL, "show help (streetctl COMMAND --help for a command)", NULL },
	{ "version", NULL, "print streetctl's version (before the subcommand)", NULL },
	{ NULL, NULL, NULL, NULL },
};

/* Global options that mean something else after the subcommand. */
static bool args_global_only(const char *name)
{
	return strcmp(name, "key") == 0 || strcmp(name, "version") == 0;
}

static int args_count(const struct args_opt *o)
{
	int n = 0;

	while (o != NULL && o[n].name != NULL)
		n++;
	return n;
}

static int args_store(struct args *a, const char *name, const char *value)
{
	if (a->nv == ARGS_MAX_VALUES)
		return fail_usage(a->cmd ? a->cmd->name : NULL, "too many options");
	a->v[a->nv].name = name;
	a->v[a->nv].value = value != NULL ? value : "";
	a->nv++;
	return 0;
}

/* Whether name is one of opts. */
static bool args_has_opt(const struct args_opt **opts, int n, const char *name)
{
	for (int i = 0; i < n; i++) {
		if (strcmp(opts[i]->name, name) == 0)
			return true;
	}
	return false;
}

/* Runs getopt_long over argv with opts (n of them); stores what it finds. */
static int args_scan(struct args *a, int argc, char **argv, const struct args_opt **opts, int n,
                     bool stop_at_word)
{
	struct option *lo = calloc((size_t)n + 1, sizeof(*lo));
	const char *cmd = a->cmd != NULL ? a->cmd->name : NULL;
	int rc = 0, c;

	if (lo == NULL)
		return fail(EX_SOFTWARE, "out of memory");
	for (int i = 0; i < n; i++) {
		lo[i].name = opts[i]->name;
		lo[i].has_arg = opts[i]->metavar != NULL ? required_argument : no_argument;
		lo[i].val = 256 + i;
	}
	opterr = 0;
	optind = 0; /* GNU: start over */
	while ((c = getopt_long(argc, argv, stop_at_word ? "+:h" : ":ho:", lo, NULL)) != -1) {
		const char *bad = argv[optind - 1];

		if (c == 'h') {
			rc = args_store(a, "help", NULL);
		} else if (c == 'o' && args_has_opt(opts, n, "output")) {
			rc = args_store(a, "output", optarg); /* -o FILE, the usual short form */
		} else if (c >= 256) {
			const char *name = lo[c - 256].name;

			/* before the subcommand these two mean something else (args.h) */
			if (stop_at_word && strcmp(name, "key") == 0)
				name = "tls-key";
			else if (stop_at_word && strcmp(name, "version") == 0)
				name = "show-version";
			rc = args_store(a, name, optarg);
		} else if (c == ':') {
			rc = fail_usage(cmd, "%s needs a value", bad);
		} else if (strcmp(bad, "--key") == 0 || strcmp(bad, "--version") == 0) {
			rc = fail_usage(cmd,
			                "%s is not an option of %s (put --key FILE and --version "
			                "before the subcommand)",
			                bad, cmd ? cmd : "streetctl");
		} else {
			rc = fail_usage(cmd, "unknown option %s", bad);
		}
		if (rc != 0)
			break;
	}
	free(lo);
	return rc;
}

int args_parse(struct args *a, int argc, char **argv, const struct args_cmd *cmds, int n)
{
	const struct args_opt *all[96];
	int ng = args_count(args_global), na = 0, rc, first;

	memset(a, 0, sizeof(*a));
	for (int i = 0; i < ng; i++)
		all[na++] = &args_global[i];
	rc = args_scan(a, argc, argv, all, na, true);
	if (rc != 0)
		return rc;
	first = optind;
	if (first >= argc)
		return 0;
	for (int i = 0; i < n; i++) {
		if (strcmp(cmds[i].name, argv[first]) == 0)
			a->cmd = &cmds[i];
	}
	if (a->cmd == NULL)
		return fail_usage(NULL, "unknown command '%s'", argv[first]);
	na = 0;
	for (int i = 0; i < ng; i++) {
		if (!args_global_only(args_global[i].name))
			all[na++] = &args_global[i];
	}
	for (int i = 0; a->cmd->opts != NULL && a->cmd->opts[i].name != NULL; i++) {
		if (na < (int)(sizeof(all) / sizeof(all[0])))
			all[na++] = &a->cmd->opts[i];
	}
	rc = args_scan(a, argc - first, argv + first, all, na, false);
	if (rc != 0)
		return rc;
	for (int i = first + optind; i < argc; i++) {
		if (a->npos == ARGS_MAX_POS || a->npos == a->cmd->max_pos) {
			if (args_has(a, "help"))
				return 0;
			return fail_usage(a->cmd->name, "unexpected argument '%s'", argv[i]);
		}
		a->pos[a->npos++] = argv[i];
	}
	if (a->npos < a->cmd->min_pos && !args_has(a, "help"))
		return fail_usage(a->cmd->name, "missing %s", a->cmd->positional);
	return 0;
}

const char *args_get(const struct args *a, const char *name)
{
	for (int i = a->nv - 1; i >= 0; i--) {
		if (strcmp(a->v[i].name, name) == 0)
			return a->v[i].value;
	}
	return NULL;
}

bool args_has(const struct args *a, const char *name)
{
	return args_get(a, name) != NULL;
}

int args_all(const struct args *a, const char *name, const char **out, int max)
{
	int n = 0;

	for (int i = 0; i < a->nv && n < max; i++) {
		if (strcmp(a->v[i].name, name) == 0)
			out[n++] = a->v[i].value;
	}
	return n;
}

static int args_parse_ll(const char *s, long long min, long long max, long long *out)
{
	char *end;
	long long v;

	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

int args_int(const struct args *a, const char *name, long long min, long long max, long long *out)
{
	const char *v = args_get(a, name);

	if (v == NULL)
		return 0;
	if (args_parse_ll(v, min, max, out) != 0)
		return fail_usage(a->cmd->name, "--%s: '%s' is not a number from %lld to %lld",
		                  name, v, min, max);
	return 0;
}

int args_pos_int(const struct args *a, int i, const char *what, long long *out)
{
	if (i >= a->npos || args_parse_ll(a->pos[i], 1, PROTO_INT_MAX, out) != 0)
		return fail_usage(a->cmd->name, "%s: '%s' is not a ticket number", what,
		                  i < a->npos ? a->pos[i] : "");
	return 0;
}

/* ---- help ---- */

/* The field's bounds from the op table, as a short note ("1-5"). */
static void args_bounds(char *buf, size_t cap, enum proto_op op, const char *field)
{
	const struct proto_op_spec *spec = proto_op_spec(op);

	buf[0] = '\0';
	if (spec == NULL || field == NULL)
		return;
	for (int i = 0; i < spec->nfields; i++) {
		const struct proto_field *f = &spec->fields[i];
		const char *req = f->required ? "required; " : "";

		if (strcmp(f->name, field) != 0)
			continue;
		switch (f->type) {
		case PROTO_T_INT:
			if (f->max < PROTO_INT4_MAX)
				snprintf(buf, cap, " [%s%lld-%lld]", req, (long long)f->min,
				         (long long)f->max);
			else if (f->required)
				snprintf(buf, cap, " [required]");
			break;
		case PROTO_T_NUMBER:
			snprintf(buf, cap, " [%g to %g]", f->dmin, f->dmax);
			break;
		case PROTO_T_TEXT:
			snprintf(buf, cap, " [%sat most %lld characters]", req, (long long)f->max);
			break;
		case PROTO_T_TIMESTAMP:
			snprintf(buf, cap, " [%sRFC 3339, e.g. 2026-12-01T17:00:00+08:00]", req);
			break;
		case PROTO_T_ENUM: {
			size_t o = (size_t)snprintf(buf, cap, " [one of");

			for (int k = 0; f->choices[k] != NULL && o < cap; k++)
				o += (size_t)snprintf(buf + o, cap - o, "%s %s", k ? "," : "",
				                      f->choices[k]);
			if (o < cap)
				snprintf(buf + o, cap - o, "]");
			break;
		}
		case PROTO_T_ID_ARRAY:
			snprintf(buf, cap, " [up to %lld]", (long long)f->max);
			break;
		default:
			if (f->required)
				snprintf(buf, cap, " [required]");
			break;
		}
	}
}

static void args_print_opts(const struct args_opt *o, enum proto_op op)
{
	for (int i = 0; o != NULL && o[i].name != NULL; i++) {
		char left[64], bounds[160];

		snprintf(left, sizeof(left), "--%s%s%s", o[i].name, o[i].metavar ? " " : "",
		         o[i].metavar ? o[i].metavar : "");
		args_bounds(bounds, sizeof(bounds), op, o[i].field);
		printf("  %-22s %s%s\n", left, o[i].help, bounds);
	}
}

static void args_print_exits(void)
{
	printf("\nexit status:\n"
	       "  0   ok\n"
	       "  64  usage: the command line is wrong (unknown option, missing or bad value)\n"
	       "  65  bad request: the server refused a value (unknown grid, blank reason...)\n"
	       "  66  not found: no such ticket, or not one you may see\n"
	       "  69  unavailable: streetd or its database cannot be reached now; try later\n"
	       "  70  internal: a bug in streetd or streetctl\n"
	       "  73  cannot create the output file (photo: it exists and no --force)\n"
	       "  74  I/O or TLS failure (connection lost, server certificate not trusted)\n"
	       "  75  conflict or bad state: the ticket changed or is in another state; "
	       "refresh and retry\n"
	       "  77  not authorised: forbidden, unknown or disabled account, refused "
	       "certificate\n"
	       "  78  the config file or a certificate file is unusable\n");
}

void args_help(const struct args_cmd *cmd, const struct args_cmd *cmds, int n)
{
	if (cmd == NULL) {
		printf("usage: streetctl [OPTIONS] COMMAND [ARGS...]\n\n"
		       "The client of streetd, the street-office ticket loop "
		       "(街道派单、部门接单).\n\ncommands:\n");
		for (int i = 0; i < n; i++)
			printf("  %-12s %s\n", cmds[i].name, cmds[i].summary);
		printf("\noptions (before the command; all but --key and --version also after "
		       "it):\n");
		args_print_opts(args_global, PROTO_OP_NONE);
		printf("\nsettings: ~/.config/streetctl/config or $STREETCTL_CONFIG, lines "
		       "'key = value' for\nserver, port, ca, cert and key; flags override them.  "
		       "Colour only on a terminal\nwithout NO_COLOR.  See streetctl(1).\n");
		args_print_exits();
		return;
	}
	printf("usage: streetctl [OPTIONS] %s%s%s%s\n\n%s\n", cmd->name,
	       cmd->positional[0] ? " " : "", cmd->positional,
	       cmd->opts != NULL && cmd->opts[0].name != NULL ? " [OPTIONS]" : "", cmd->summary);
	if (cmd->details != NULL)
		printf("\n%s\n", cmd->details);
	if (cmd->opts != NULL && cmd->opts[0].name != NULL) {
		printf("\noptions:\n");
		args_print_opts(cmd->opts, cmd->op);
	}
	printf("\nglobal options: --server HOST, --port N, --ca FILE, --cert FILE, --tls-key FILE,"
	       "\n  --config FILE, --json (see streetctl --help)\n");
	args_print_exits();
}
