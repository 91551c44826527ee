/*
 * event: an event of a ticket's history in words, for show's timeline and
 * watch's lines.  get gives each event its actor ({login, name, ...}), so
 * show names everyone: "杨敏 (yang.min)".  A pushed event (watch) carries
 * only actor_id, and there is no op to look an account up, so watch names
 * actors when it can tell: you, the daemon, a department acting on its own
 * step, the reporter; otherwise by account id.
 */
#ifndef STREETCTL_EVENT_H
#define STREETCTL_EVENT_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>

#include "ctl.h"

/* Who did it: with e's "actor" (get) "杨敏 (yang.min)", "王芳 (wang.fang, you)";
 * without (a pushed event) "王芳 (you)", "生态环境局 #12", "reporter #9", "#7";
 * "streetd" for the daemon. */
const char *event_actor(struct ctl *ctl, json_object *e, char *buf, size_t cap);

/* A person ({login, name}) in words: "杨敏 (yang.min)", with ", you" when you. */
const char *event_person(json_object *who, bool you, char *buf, size_t cap);

/* The action's own fields: "to 生态环境局; due 2026-11-27 17:00", "reason: ...". */
const char *event_details(struct ctl *ctl, json_object *e, char *buf, size_t cap);

#endif
