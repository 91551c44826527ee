/* fmt: see fmt.h. */
#include "fmt.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

json_object *fmt_get(json_object *o, const char *key)
{
	json_object *v = NULL;

	if (o == NULL || !json_object_object_get_ex(o, key, &v))
		return NULL;
	return v;
}

const char *fmt_str(json_object *o, const char *key)
{
	json_object *v = fmt_get(o, key);

	return v != NULL && json_object_is_type(v, json_type_string) ? json_object_get_string(v)
	                                                             : NULL;
}

long long fmt_int(json_object *o, const char *key, long long dflt)
{
	json_object *v = fmt_get(o, key);

	return v != NULL ? (long long)json_object_get_int64(v) : dflt;
}

bool fmt_bool(json_object *o, const char *key)
{
	json_object *v = fmt_get(o, key);

	return v != NULL && json_object_get_boolean(v);
}

const char *fmt_time(char *buf, size_t cap, const char *s)
{
	if (s == NULL || strlen(s) < 16) {
		snprintf(buf, cap, "-");
		return buf;
	}
	snprintf(buf, cap, "%.10s %.5s", s, s + 11);
	return buf;
}

/* Reads exactly n digits at s. */
static int fmt_digits(const char *s, int n)
{
	int v = 0;

	for (int i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	return v;
}

int fmt_parse_time(const char *s, time_t *out)
{
	long long ms;

	if (fmt_parse_time_ms(s, &ms) != 0)
		return -1;
	*out = (time_t)(ms >= 0 ? ms / 1000 : -((-ms + 999) / 1000));
	return 0;
}

int fmt_parse_time_ms(const char *s, long long *out)
{
	struct tm tm = { 0 };
	const char *p;
	long off = 0;
	int frac = 0;

	if (s == NULL || strlen(s) < 19 || s[4] != '-' || s[7] != '-' ||
	    (s[10] != 'T' && s[10] != ' ') || s[13] != ':' || s[16] != ':')
		return -1;
	tm.tm_year = fmt_digits(s, 4) - 1900;
	tm.tm_mon = fmt_digits(s + 5, 2) - 1;
	tm.tm_mday = fmt_digits(s + 8, 2);
	tm.tm_hour = fmt_digits(s + 11, 2);
	tm.tm_min = fmt_digits(s + 14, 2);
	tm.tm_sec = fmt_digits(s + 17, 2);
	if (tm.tm_year < -1899 || tm.tm_mon < 0 || tm.tm_mday < 0 || tm.tm_hour < 0 ||
	    tm.tm_min < 0 || tm.tm_sec < 0)
		return -1;
	p = s + 19;
	if (*p == '.') {
		int scale = 100;

		for (p++; *p >= '0' && *p <= '9'; p++, scale /= 10)
			frac += (*p - '0') * scale;
	}
	if (*p == '+' || *p == '-') {
		int h = fmt_digits(p + 1, 2), m = p[3] == ':' ? fmt_digits(p + 4, 2) : 0;

		if (h < 0 || m < 0)
			return -1;
		off = (h * 3600L + m * 60L) * (*p == '-' ? -1 : 1);
	} else if (*p != 'Z' && *p != 'z') {
		return -1;
	}
	*out = ((long long)timegm(&tm) - off) * 1000 + frac;
	return 0;
}

long long fmt_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

const char *fmt_duration(char *buf, size_t cap, long long s)
{
	if (s < 0)
		s = 0;
	if (s >= 86400)
		snprintf(buf, cap, "%lldd %lldh", s / 86400, s % 86400 / 3600);
	else if (s >= 3600)
		snprintf(buf, cap, "%lldh %lldm", s / 3600, s % 3600 / 60);
	else
		snprintf(buf, cap, "%lldm", s / 60);
	return buf;
}

static const char *const fmt_states[][2] = {
	{ "reported", "待派单" }, { "dispatched", "已派单" }, { "accepted", "处理中" },
	{ "resolved", "待确认" }, { "closed", "已办结" },     { "cancelled", "已撤销" },
};

static const char *const fmt_actions[][2] = {
	{ "report", "上报" },
	{ "dispatch", "派单" },
	{ "return", "退单" },
	{ "accept", "接单" },
	{ "resolve", "处置完成" },
	{ "confirm", "确认办结" },
	{ "reopen", "重新办理" },
	{ "cancel", "撤销" },
	{ "urge", "督办" },
	{ "extend_request", "申请延期" },
	{ "extend_grant", "同意延期" },
	{ "extend_deny", "驳回延期" },
	{ "comment", "备注" },
	{ "arbitrate", "退单仲裁" },
	{ "overdue", "超时" },
	{ "auto_close", "自动办结" },
};

#define FMT_N(t) (sizeof(t) / sizeof((t)[0]))

const char *fmt_state_zh(const char *state)
{
	for (size_t i = 0; state != NULL && i < FMT_N(fmt_states); i++) {
		if (strcmp(fmt_states[i][0], state) == 0)
			return fmt_states[i][1];
	}
	return state != NULL ? state : "-";
}

const char *fmt_action_zh(const char *action)
{
	for (size_t i = 0; action != NULL && i < FMT_N(fmt_actions); i++) {
		if (strcmp(fmt_actions[i][0], action) == 0)
			return fmt_actions[i][1];
	}
	return action != NULL ? action : "-";
}

const char *fmt_state_sgr(const char *state)
{
	if (state == NULL)
		return NULL;
	if (strcmp(state, "reported") == 0)
		return "33"; /* waiting for the street office */
	if (strcmp(state, "dispatched") == 0 || strcmp(state, "accepted") == 0)
		return "36";
	if (strcmp(state, "resolved") == 0)
		return "32";
	return "2"; /* closed, cancelled: dim */
}

const char *fmt_rate(char *buf, size_t cap, json_object *row, const char *key)
{
	json_object *v = fmt_get(row, key);

	if (v == NULL)
		return "-";
	snprintf(buf, cap, "%.1f%%", json_object_get_double(v) * 100);
	return buf;
}

const char *fmt_number(char *buf, size_t cap, json_object *row, const char *key)
{
	json_object *v = fmt_get(row, key);

	if (v == NULL)
		return "-";
	snprintf(buf, cap, "%s", json_object_get_string(v));
	return buf;
}

const char *fmt_unit_name(json_object *row)
{
	const char *n = fmt_str(fmt_get(row, "unit"), "name");

	return n ? n : "?";
}
