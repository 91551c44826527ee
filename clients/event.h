/*
 * event: an event of a ticket's history in words, for show's timeline and
 * watch's lines.  Accounts have no lookup op, so actors are named when it
 * is cheap: you, the daemon, a department acting on its own step, the
 * reporter; otherwise by account id.
 */
#ifndef STREETCTL_EVENT_H
#define STREETCTL_EVENT_H

#include <json-c/json.h>
#include <stddef.h>

#include "ctl.h"

/* Who did it: "王芳 (you)", "生态环境局 #12", "reporter #9", "streetd", "#7". */
const char *event_actor(struct ctl *ctl, json_object *e, char *buf, size_t cap);

/* The action's own fields: "to 生态环境局; due 2026-11-27 17:00", "reason: ...". */
const char *event_details(struct ctl *ctl, json_object *e, char *buf, size_t cap);

#endif
