#include "push.h"

#include <stdlib.h>
#include <string.h>

#include "caller.h"

/* What a subscriber is indexed by: its role's scope. */
enum push_kind {
	KIND_STREET,     /* street staff: their street */
	KIND_DEPARTMENT, /* department staff: their department */
	KIND_DISTRICT,   /* a district supervisor */
	KIND_CITY,       /* a city-wide supervisor */
	KIND_REPORTER,   /* a collector: their own reports */
};

#define NBUCKETS 4096
/* Live events one subscriber may have held back while its replay runs. */
#define PUSH_MAX_QUEUED 100000

struct subscription {
	struct caller *c;
	struct push_filter f;
	enum push_kind kind;
	int key;
	struct subscription *next, **pprev; /* in its bucket */
	bool replaying;
	int64_t last_sent;         /* the highest seq written: nothing at or below it again */
	struct push_event **queue; /* live events held while replaying */
	size_t nqueue, capqueue;
};

struct push {
	struct subscription *buckets[NBUCKETS];
	size_t count;
};

static unsigned bucket(enum push_kind kind, int key)
{
	return ((unsigned)kind * 2654435761u ^ (unsigned)key * 40503u) % NBUCKETS;
}

struct push *push_new(void)
{
	return calloc(1, sizeof(struct push));
}

void push_free(struct push *p)
{
	free(p); /* callers unsubscribe before the server frees push */
}

struct push_event *push_event_new(int64_t seq, const char *json, size_t len)
{
	static const char head[] = "{\"event\":";
	struct push_event *ev = malloc(sizeof(*ev) + sizeof(head) - 1 + len + 2);

	if (!ev)
		return NULL;
	memset(ev, 0, sizeof(*ev));
	ev->refs = 1;
	ev->seq = seq;
	memcpy(ev->line, head, sizeof(head) - 1);
	memcpy(ev->line + sizeof(head) - 1, json, len);
	memcpy(ev->line + sizeof(head) - 1 + len, "}\n", 2);
	ev->len = sizeof(head) - 1 + len + 2;
	return ev;
}

void push_event_unref(struct push_event *ev)
{
	if (ev && --ev->refs == 0)
		free(ev);
}

static void unref_cb(const void *data, size_t len, void *arg)
{
	push_event_unref(arg);
}

bool push_filter_match(const struct push_filter *f, int category_id, int grid_id,
                       enum ticket_state to_state)
{
	return (!f->category_id || f->category_id == category_id) &&
	       (!f->grid_id || f->grid_id == grid_id) &&
	       (f->state == TICKET_NONE || f->state == to_state);
}

static void send_live(struct subscription *sub, struct push_event *ev)
{
	if (ev->seq <= sub->last_sent)
		return;
	sub->last_sent = ev->seq;
	ev->refs++;
	sub->c->ops->push(sub->c, ev->seq, ev->line, ev->len, unref_cb, ev);
}

int push_subscribe(struct push *p, struct caller *c, const struct push_filter *f, bool replaying,
                   int64_t skip_upto)
{
	struct subscription *sub;
	unsigned b;

	push_unsubscribe(p, c);
	sub = calloc(1, sizeof(*sub));
	if (!sub)
		return -1;
	sub->c = c;
	sub->f = *f;
	sub->replaying = replaying;
	sub->last_sent = skip_upto;
	switch (c->who->role) {
	case ROLE_STREET:
		sub->kind = KIND_STREET;
		sub->key = c->who->street_id;
		break;
	case ROLE_DEPARTMENT:
		sub->kind = KIND_DEPARTMENT;
		sub->key = c->who->department_id;
		break;
	case ROLE_SUPERVISOR:
		sub->kind = c->who->district_id ? KIND_DISTRICT : KIND_CITY;
		sub->key = c->who->district_id;
		break;
	case ROLE_COLLECTOR:
		sub->kind = KIND_REPORTER;
		sub->key = c->who->account_id;
		break;
	default:
		free(sub); /* an admin sees no tickets: nothing to push */
		return 0;
	}
	b = bucket(sub->kind, sub->key);
	sub->next = p->buckets[b];
	if (sub->next)
		sub->next->pprev = &sub->next;
	sub->pprev = &p->buckets[b];
	p->buckets[b] = sub;
	c->sub = sub;
	p->count++;
	return 0;
}

void push_unsubscribe(struct push *p, struct caller *c)
{
	struct subscription *sub = c->sub;

	if (!sub)
		return;
	*sub->pprev = sub->next;
	if (sub->next)
		sub->next->pprev = sub->pprev;
	for (size_t i = 0; i < sub->nqueue; i++)
		push_event_unref(sub->queue[i]);
	free(sub->queue);
	free(sub);
	c->sub = NULL;
	p->count--;
}

void push_send_replayed(struct caller *c, int64_t seq, const char *json, size_t len)
{
	struct subscription *sub = c->sub;
	struct push_event *ev;

	if (!sub || seq <= sub->last_sent)
		return;
	ev = push_event_new(seq, json, len);
	if (!ev) {
		c->ops->close(c, "out of memory");
		return;
	}
	send_live(sub, ev);
	push_event_unref(ev);
}

void push_replay_done(struct push *p, struct caller *c)
{
	struct subscription *sub = c->sub;

	if (!sub)
		return;
	sub->replaying = false;
	for (size_t i = 0;; i++) {
		/* the caller may be cut off (backlog) part way: sub is then freed,
		 * so c->sub is looked at before sub is read again */
		if (c->sub != sub)
			return;
		if (i >= sub->nqueue)
			break;
		send_live(sub, sub->queue[i]);
	}
	for (size_t i = 0; i < sub->nqueue; i++)
		push_event_unref(sub->queue[i]);
	free(sub->queue);
	sub->queue = NULL;
	sub->nqueue = sub->capqueue = 0;
}

static void deliver_to(struct push *p, enum push_kind kind, int key, struct push_event *ev)
{
	struct subscription *sub, *next;

	for (sub = p->buckets[bucket(kind, key)]; sub; sub = next) {
		next = sub->next; /* a write may cut the caller off and free sub */
		if (sub->kind != kind || sub->key != key ||
		    !push_filter_match(&sub->f, ev->category_id, ev->grid_id, ev->to_state))
			continue;
		if (!sub->replaying) {
			send_live(sub, ev);
			continue;
		}
		if (sub->nqueue >= PUSH_MAX_QUEUED) {
			sub->c->ops->close(sub->c, "too many events while replaying");
			continue;
		}
		if (sub->nqueue == sub->capqueue) {
			size_t cap = sub->capqueue ? 2 * sub->capqueue : 16;
			struct push_event **q = realloc(sub->queue, cap * sizeof(*q));

			if (!q) {
				sub->c->ops->close(sub->c, "out of memory");
				continue;
			}
			sub->queue = q;
			sub->capqueue = cap;
		}
		ev->refs++;
		sub->queue[sub->nqueue++] = ev;
	}
}

void push_deliver(struct push *p, struct push_event *ev)
{
	deliver_to(p, KIND_STREET, ev->street_id, ev);
	if (ev->department_id)
		deliver_to(p, KIND_DEPARTMENT, ev->department_id, ev);
	deliver_to(p, KIND_DISTRICT, ev->district_id, ev);
	deliver_to(p, KIND_CITY, 0, ev);
	deliver_to(p, KIND_REPORTER, ev->reporter_id, ev);
}

size_t push_subscribers(const struct push *p)
{
	return p->count;
}
