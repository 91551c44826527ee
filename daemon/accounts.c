#include "accounts.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "session.h"

#define NBUCKETS 4096

struct entry {
	struct entry *next;
	int account_id;
	int count;   /* sessions + streams */
	int streams; /* held by accounts_hold */
	struct session *sessions;
};

struct accounts {
	struct entry *buckets[NBUCKETS];
	size_t naccounts;
};

static struct entry **slot(struct accounts *a, int id)
{
	struct entry **e = &a->buckets[(unsigned)id % NBUCKETS];

	while (*e && (*e)->account_id != id)
		e = &(*e)->next;
	return e;
}

struct accounts *accounts_new(void)
{
	return calloc(1, sizeof(struct accounts));
}

void accounts_free(struct accounts *a)
{
	if (!a)
		return;
	for (size_t i = 0; i < NBUCKETS; i++) {
		while (a->buckets[i]) {
			struct entry *e = a->buckets[i];

			a->buckets[i] = e->next;
			free(e);
		}
	}
	free(a);
}

/* The account's entry, made if missing; NULL on ENOMEM. */
static struct entry *entry_get(struct accounts *a, int id)
{
	struct entry **e = slot(a, id);

	if (!*e) {
		*e = calloc(1, sizeof(**e));
		if (!*e)
			return NULL;
		(*e)->account_id = id;
		a->naccounts++;
	}
	return *e;
}

/* Frees the entry at *e once nothing of its account is left. */
static void entry_drop_if_empty(struct accounts *a, struct entry **e)
{
	struct entry *gone = *e;

	if (gone->count > 0)
		return;
	*e = gone->next;
	free(gone);
	a->naccounts--;
}

int accounts_add(struct accounts *a, struct session *s)
{
	struct entry *e = entry_get(a, s->who.account_id);

	if (!e)
		return -1;
	s->acct_next = e->sessions;
	e->sessions = s;
	e->count++;
	return 0;
}

void accounts_remove(struct accounts *a, struct session *s)
{
	struct entry **e = slot(a, s->who.account_id);
	struct session **p;

	if (!*e)
		return;
	for (p = &(*e)->sessions; *p; p = &(*p)->acct_next) {
		if (*p == s) {
			*p = s->acct_next;
			s->acct_next = NULL;
			(*e)->count--;
			break;
		}
	}
	entry_drop_if_empty(a, e);
}

int accounts_hold(struct accounts *a, int account_id)
{
	struct entry *e = entry_get(a, account_id);

	if (!e)
		return -1;
	e->streams++;
	e->count++;
	return 0;
}

void accounts_release(struct accounts *a, int account_id)
{
	struct entry **e = slot(a, account_id);

	if (!*e || (*e)->streams == 0)
		return;
	(*e)->streams--;
	(*e)->count--;
	entry_drop_if_empty(a, e);
}

int accounts_count(const struct accounts *a, int account_id)
{
	const struct entry *e = a->buckets[(unsigned)account_id % NBUCKETS];

	while (e && e->account_id != account_id)
		e = e->next;
	return e ? e->count : 0;
}

int accounts_revision_arrays(const struct accounts *a, char **ids, char **revisions)
{
	size_t cap = 3 + a->naccounts * 21, n = 0, m = 0;

	*ids = malloc(cap);
	*revisions = malloc(cap);
	if (!*ids || !*revisions) {
		free(*ids);
		free(*revisions);
		*ids = *revisions = NULL;
		return -1;
	}
	(*ids)[n++] = '{';
	(*revisions)[m++] = '{';
	for (size_t i = 0; i < NBUCKETS; i++) {
		for (const struct entry *e = a->buckets[i]; e; e = e->next) {
			long long oldest = LLONG_MAX;

			if (!e->sessions) /* streams only: they watch for themselves */
				continue;
			/* the oldest is enough: every session older than the
			 * account's current revision is closed, none can be newer */
			for (const struct session *s = e->sessions; s; s = s->acct_next)
				if (s->who.revision < oldest)
					oldest = s->who.revision;
			n += (size_t)snprintf(*ids + n, cap - n, "%s%d", n > 1 ? "," : "",
			                      e->account_id);
			m += (size_t)snprintf(*revisions + m, cap - m, "%s%lld", m > 1 ? "," : "",
			                      oldest);
		}
	}
	(*ids)[n++] = '}';
	(*ids)[n] = 0;
	(*revisions)[m++] = '}';
	(*revisions)[m] = 0;
	return 0;
}

void accounts_close(struct accounts *a, int account_id, const char *why)
{
	struct entry **e;

	/* session_close() removes the session from the entry, which may free it */
	while (*(e = slot(a, account_id)) && (*e)->sessions) {
		struct session *s = (*e)->sessions;

		session_reply_error(s, "null", PROTO_ERR_UNAUTHENTICATED, why);
		session_close(s, why, true);
	}
}

int accounts_close_before(struct accounts *a, int account_id, long long revision, const char *why)
{
	int closed = 0;
	struct entry **e;
	struct session *s;

	/* session_close() unlinks the session and may free the entry: look again
	 * from the start after each close */
	do {
		e = slot(a, account_id);
		for (s = *e ? (*e)->sessions : NULL; s && s->who.revision >= revision;
		     s = s->acct_next)
			;
		if (s) {
			session_reply_error(s, "null", PROTO_ERR_UNAUTHENTICATED, why);
			session_close(s, why, true);
			closed++;
		}
	} while (s);
	return closed;
}
