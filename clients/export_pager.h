/*
 * export_pager: which export pages streetctl asks for, and when
 * (docs/protocol.md, "export"; docs/assessment.md, "Export and bulletin").
 *
 * The first page is asked for by cursor alone; its head names the first
 * ticket after it ("next") and the last ticket there is ("end").  From
 * there the pager asks for windows of ticket ids, (after, upto], each one
 * page as a rule, and keeps EXPORT_PAGER_AHEAD of them asked for beyond the
 * page being read: the daemon queues a session's requests, so the database
 * starts the next page the moment it has made this one, instead of waiting
 * for this page to reach streetctl and the next request to come back.  A
 * window spans as many ids as should hold ~85 % of a page's rows at the
 * density the last page had (rows per id), so it is rarely cut; a page
 * holds as many rows as the last page cut did (the limit, or fewer where
 * the server's byte budget ends pages first).
 *
 * A window the server cut (its page full: "next" names a ticket inside it)
 * goes on from that "next", in windows no wider than ~85 % of the full
 * page's span; the windows asked for beyond it are then stale (their rows
 * would come too early) and are skipped: their replies are read and
 * dropped, and those ids are asked for again in the new windows.  Rows are
 * written in id order, each ticket once.
 *
 * A server without windows ("end" absent) is read page after page by
 * cursor, as before.  Pure logic: the requests go out through the send
 * callback, so the tests drive it without a server.
 */
#ifndef STREETCTL_EXPORT_PAGER_H
#define STREETCTL_EXPORT_PAGER_H

#include <stdbool.h>

#define EXPORT_PAGER_AHEAD 2
#define EXPORT_PAGER_MAX   8

/* Sends the request for the rows in (after, upto] (upto 0: after after,
 * no window); its id (0: not sent, to be sent again when awaited) and the
 * connection's drop count it went out under. */
typedef int (*export_send_fn)(void *arg, long long after, long long upto, unsigned *drops);

struct export_req {
	long long after, upto; /* upto 0: by cursor alone */
	int id;
	unsigned drops;
	long long next; /* its page's "next" once its head came (0: none) */
	bool stale;     /* asked for before an earlier window was cut: skipped */
};

struct export_pager {
	int limit;      /* rows a page may hold, as asked */
	long long full; /* rows the last page cut held (limit before one is) */
	struct export_req q[EXPORT_PAGER_MAX]; /* asked for, oldest (the page read) first */
	int nq;
	long long sent_to; /* the end of the last window asked for */
	long long end;     /* the last ticket id (0: not known, or no windows) */
	double width;      /* ids the next window spans */
	bool head_seen;    /* the head of q[0]'s page was acted on */
};

/* Starts: asks for the first page.  0, or -1 if it cannot be queued. */
int export_pager_start(struct export_pager *p, int limit, export_send_fn send, void *arg);

/* The request whose page comes next (stale ones skipped), or NULL when the
 * export is done. */
const struct export_req *export_pager_current(struct export_pager *p);

/* The head of the current page came: next (0: null) and end (0: absent).
 * Asks for what follows; 0, or -1 for a next that cannot be (not after the
 * page's cursor, or not inside its window).  Once per page; later calls do
 * nothing. */
int export_pager_head(struct export_pager *p, long long next, long long end, export_send_fn send,
                      void *arg);

/* The current page was read whole, rows in it. */
void export_pager_done(struct export_pager *p, long long rows);

#endif
