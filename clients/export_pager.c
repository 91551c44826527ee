#include "export_pager.h"

#include <string.h>

/* The share of a page's rows a window aims at: room for the density to vary
 * from one window to the next before the page is full and the window cut. */
#define EXPORT_PAGER_FILL 0.85

/* The widest window: past this the ids are as good as unbounded. */
#define EXPORT_PAGER_WIDTH_MAX 1e15

static int push(struct export_pager *p, long long after, long long upto, export_send_fn send,
                void *arg)
{
	struct export_req *r;

	if (p->nq == EXPORT_PAGER_MAX)
		return -1;
	r = &p->q[p->nq++];
	*r = (struct export_req){ .after = after, .upto = upto };
	r->id = send(arg, after, upto, &r->drops);
	return 0;
}

static void set_width(struct export_pager *p, double w)
{
	p->width = w < 1 ? 1 : w > EXPORT_PAGER_WIDTH_MAX ? EXPORT_PAGER_WIDTH_MAX : w;
}

/* Asks for windows from sent_to until EXPORT_PAGER_AHEAD are asked for
 * beyond the page read, or the last one ends at end. */
static void top_up(struct export_pager *p, export_send_fn send, void *arg)
{
	int live = 0;

	for (int i = 1; i < p->nq; i++)
		live += !p->q[i].stale;
	while (live < EXPORT_PAGER_AHEAD && p->sent_to < p->end) {
		long long w = (long long)p->width; /* whole ids; width >= 1 */
		long long upto = w >= p->end - p->sent_to ? p->end : p->sent_to + w;

		if (push(p, p->sent_to, upto, send, arg) != 0)
			return;
		p->sent_to = upto;
		live++;
	}
}

int export_pager_start(struct export_pager *p, int limit, export_send_fn send, void *arg)
{
	memset(p, 0, sizeof(*p));
	p->limit = p->full = limit;
	set_width(p, limit);
	return push(p, 0, 0, send, arg);
}

const struct export_req *export_pager_current(struct export_pager *p)
{
	while (p->nq > 0 && p->q[0].stale) {
		memmove(p->q, p->q + 1, (size_t)(p->nq - 1) * sizeof(p->q[0]));
		p->nq--;
	}
	return p->nq > 0 ? &p->q[0] : NULL;
}

int export_pager_head(struct export_pager *p, long long next, long long end, export_send_fn send,
                      void *arg)
{
	struct export_req *cur = &p->q[0];

	if (p->head_seen || p->nq == 0)
		return 0;
	/* a cursor that does not move on, or leaves its window, would repeat
	 * or skip rows */
	if (next < 0 || (next != 0 && next <= cur->after) || (cur->upto > 0 && next >= cur->upto))
		return -1;
	p->head_seen = true;
	cur->next = next;
	if (cur->upto == 0) {
		/* by cursor: the first page, or every page of a server without
		 * windows */
		if (next == 0)
			return 0;
		if (end <= next)
			return push(p, next, 0, send, arg);
		p->end = end;
		p->sent_to = next;
	} else if (next != 0) {
		/* the window was cut: what is asked beyond it would come before
		 * its rest; its rest and beyond are asked again, in windows no
		 * wider than this full page's */
		for (int i = 1; i < p->nq; i++)
			p->q[i].stale = true;
		p->sent_to = next;
		if (p->width > EXPORT_PAGER_FILL * (double)(next - cur->after))
			set_width(p, EXPORT_PAGER_FILL * (double)(next - cur->after));
	}
	top_up(p, send, arg);
	return 0;
}

void export_pager_done(struct export_pager *p, long long rows)
{
	const struct export_req *cur = &p->q[0];

	if (p->nq == 0)
		return;
	/* a page cut holds as many rows as fit: the limit, or fewer where the
	 * server's byte budget ends pages first */
	if (cur->next != 0 && rows > 0)
		p->full = rows;
	if (cur->upto > 0) {
		/* the density of the ids this page spanned */
		double span = (double)((cur->next ? cur->next : cur->upto) - cur->after);

		set_width(p, rows > 0 ? EXPORT_PAGER_FILL * (double)p->full * span / (double)rows
		                      : 8 * span);
	}
	memmove(p->q, p->q + 1, (size_t)(p->nq - 1) * sizeof(p->q[0]));
	p->nq--;
	p->head_seen = false;
}
