/*
 * cmd: the subcommands.  commands.c holds the table (names, options, help
 * texts); the cmd_*.c files run them.  Each run function returns the exit
 * code, having printed its output or one error line.
 */
#ifndef STREETCTL_CMD_H
#define STREETCTL_CMD_H

#include "args.h"
#include "ctl.h"

extern const struct args_cmd cmd_table[];
extern const int cmd_count;

/* cmd_act.c: the loop's actions */
int cmd_report(struct ctl *ctl, const struct args *a);
int cmd_dispatch(struct ctl *ctl, const struct args *a);
int cmd_accept(struct ctl *ctl, const struct args *a);
int cmd_return(struct ctl *ctl, const struct args *a);
int cmd_resolve(struct ctl *ctl, const struct args *a);
int cmd_confirm(struct ctl *ctl, const struct args *a);
int cmd_reopen(struct ctl *ctl, const struct args *a);
int cmd_cancel(struct ctl *ctl, const struct args *a);
int cmd_urge(struct ctl *ctl, const struct args *a);
int cmd_extend(struct ctl *ctl, const struct args *a);
int cmd_comment(struct ctl *ctl, const struct args *a);
int cmd_arbitrate(struct ctl *ctl, const struct args *a);

/* cmd_show.c */
int cmd_show(struct ctl *ctl, const struct args *a);

/* cmd_list.c */
int cmd_list(struct ctl *ctl, const struct args *a);
int cmd_overdue(struct ctl *ctl, const struct args *a);

/* cmd_ref.c: who am I, and the reference data */
int cmd_whoami(struct ctl *ctl, const struct args *a);
int cmd_categories(struct ctl *ctl, const struct args *a);
int cmd_departments(struct ctl *ctl, const struct args *a);
int cmd_grids(struct ctl *ctl, const struct args *a);

/* cmd_photo.c */
int cmd_photo(struct ctl *ctl, const struct args *a);

/* cmd_assess.c: the assessment's reports */
int cmd_stats(struct ctl *ctl, const struct args *a);
int cmd_ranking(struct ctl *ctl, const struct args *a);

/* cmd_score.c: streets score departments (考核赋分) */
int cmd_criteria(struct ctl *ctl, const struct args *a);
int cmd_score(struct ctl *ctl, const struct args *a);
int cmd_lock(struct ctl *ctl, const struct args *a);

/* cmd_audit.c: export and verify the tamper-evident record */
int cmd_audit(struct ctl *ctl, const struct args *a);

/* cmd_export.c: the assessment's documents */
int cmd_export(struct ctl *ctl, const struct args *a);
int cmd_bulletin(struct ctl *ctl, const struct args *a);

/* cmd_watch.c */
int cmd_watch(struct ctl *ctl, const struct args *a);

/* Prints o as one line of compact JSON on stdout. */
void cmd_print_json(json_object *o);

#endif
