/*
 * fail: the one-line error messages and their exit codes.
 *
 *   streetctl: <what went wrong>; <what to do>
 *
 * The daemon's messages already name what went wrong (and conflicts already
 * say what to do); fail_reply() adds the hint of the error code when the
 * message has none.
 */
#ifndef STREETCTL_FAIL_H
#define STREETCTL_FAIL_H

#include <json-c/json.h>

/* The subcommand running, named in the hints of bad requests. */
void fail_set_command(const char *cmd);

/* Prints "streetctl: MESSAGE" and returns code (a sysexits.h value). */
int fail(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* A usage error of the subcommand cmd (NULL: streetctl itself): the message,
 * then "see streetctl CMD --help"; returns EX_USAGE. */
int fail_usage(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* The exit code for a wire error code ("conflict" -> EX_TEMPFAIL). */
int fail_code_exit(const char *code);

/* Prints a reply's error object ({code, message}) with the code's hint, and
 * returns its exit code. */
int fail_reply(json_object *error);

#endif
