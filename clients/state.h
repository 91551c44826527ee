/*
 * state: where watch remembers the last event it handled, one file per
 * server and login:
 *   $XDG_STATE_HOME/streetctl/watch-SERVER-LOGIN.seq  (~/.local/state/...)
 * holding the seq as decimal text.  Written through a temporary file and
 * rename(), so a crash leaves the old number or the new one, never half.
 */
#ifndef STREETCTL_STATE_H
#define STREETCTL_STATE_H

#include <stddef.h>

/* The file for this server (port appended when not 7443) and login; 0 or -1 (no HOME). */
int state_path(char *buf, size_t cap, const char *server, int port, const char *login);

/* 0 and *seq; 1 when there is no file yet; -1 when it is unreadable or not a number. */
int state_read(const char *path, long long *seq);

/* Writes seq (creating the directories); 0, or -1 with errno. */
int state_write(const char *path, long long seq);

#endif
