/* event: see event.h. */
#include "event.h"

#include <stdio.h>
#include <string.h>

#include "fmt.h"
#include "ref.h"

const char *event_person(json_object *who, bool you, char *buf, size_t cap)
{
	const char *name = fmt_str(who, "name"), *login = fmt_str(who, "login");

	if (name == NULL)
		name = login != NULL ? login : "?";
	if (login != NULL)
		snprintf(buf, cap, "%s (%s%s)", name, login, you ? ", you" : "");
	else
		snprintf(buf, cap, "%s%s", name, you ? " (you)" : "");
	return buf;
}

/* Who did it, in words. */
const char *event_actor(struct ctl *ctl, json_object *e, char *buf, size_t cap)
{
	json_object *me = fmt_get(ctl->whoami, "account"), *who = NULL;
	const char *action = fmt_str(e, "action");
	long long actor = fmt_int(e, "actor_id", 0);
	char nb[32];

	if (fmt_get(e, "actor_id") == NULL)
		return "streetd";
	/* get names every actor; pushed events carry only the id */
	if (json_object_object_get_ex(e, "actor", &who) && who != NULL)
		return event_person(who, me != NULL && fmt_int(me, "id", 0) == actor, buf, cap);
	if (me != NULL && fmt_int(me, "id", 0) == actor) {
		snprintf(buf, cap, "%s (you)", fmt_str(me, "name") ? fmt_str(me, "name") : "you");
		return buf;
	}
	if (action != NULL && fmt_int(e, "department_id", 0) > 0 &&
	    (strcmp(action, "accept") == 0 || strcmp(action, "resolve") == 0 ||
	     strcmp(action, "return") == 0 || strcmp(action, "extend_request") == 0)) {
		snprintf(buf, cap, "%s #%lld",
		         ref_name(ctl, REF_DEPARTMENT, fmt_int(e, "department_id", 0), nb,
		                  sizeof(nb)),
		         actor);
		return buf;
	}
	if (actor == fmt_int(e, "reporter_id", -1)) {
		snprintf(buf, cap, "reporter #%lld", actor);
		return buf;
	}
	snprintf(buf, cap, "#%lld", actor);
	return buf;
}

/* Appends "; label value" to buf. */
static void event_add(char *buf, size_t cap, const char *label, const char *value)
{
	size_t n = strlen(buf);

	if (value == NULL || n + 4 >= cap)
		return;
	snprintf(buf + n, cap - n, "%s%s%s", n ? "; " : "", label, value);
}

/* The event's own fields in words. */
const char *event_details(struct ctl *ctl, json_object *e, char *buf, size_t cap)
{
	json_object *d = fmt_get(e, "data");
	char tmp[64], nb[32];

	buf[0] = '\0';
	/* where a dispatch or a ruling sent it; whom a return named as responsible */
	if (fmt_int(d, "department_id", 0) > 0 && fmt_str(e, "action") != NULL)
		event_add(buf, cap, strcmp(fmt_str(e, "action"), "return") == 0 ? "names " : "to ",
		          ref_name(ctl, REF_DEPARTMENT, fmt_int(d, "department_id", 0), nb,
		                   sizeof(nb)));
	if (fmt_get(d, "rating") != NULL) {
		snprintf(tmp, sizeof(tmp), "%lld/5", fmt_int(d, "rating", 0));
		event_add(buf, cap, "rating ", tmp);
	}
	event_add(buf, cap, "reason: ", fmt_str(d, "reason"));
	event_add(buf, cap, "note: ", fmt_str(d, "note"));
	event_add(buf, cap, "comment: ", fmt_str(d, "comment"));
	event_add(buf, cap, "", fmt_str(d, "text"));
	if (fmt_get(d, "duplicate_of") != NULL) {
		snprintf(tmp, sizeof(tmp), "%lld", fmt_int(d, "duplicate_of", 0));
		event_add(buf, cap, "duplicate of ", tmp);
	}
	if (fmt_get(d, "return_seq") != NULL) {
		snprintf(tmp, sizeof(tmp), "%lld %s", fmt_int(d, "return_seq", 0),
		         fmt_bool(d, "upheld") ? "upheld" : "rejected");
		event_add(buf, cap, "return ", tmp);
	}
	event_add(buf, cap, "until ",
	          fmt_str(d, "until") ? fmt_time(tmp, sizeof(tmp), fmt_str(d, "until")) : NULL);
	event_add(buf, cap, "due ",
	          fmt_str(d, "due_at") ? fmt_time(tmp, sizeof(tmp), fmt_str(d, "due_at")) : NULL);
	if (json_object_is_type(fmt_get(d, "photos"), json_type_array)) {
		snprintf(tmp, sizeof(tmp), "%zu", json_object_array_length(fmt_get(d, "photos")));
		event_add(buf, cap, "photos ", tmp);
	}
	return buf;
}
