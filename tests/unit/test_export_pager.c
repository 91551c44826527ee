/*
 * export_pager (clients/export_pager.c) against a server simulated as the
 * SQL function pages (sql/functions/87_export.sql, st_export_page): the
 * rows of (after, upto] in id order, at most limit of them and a byte
 * budget (always one), "next" the last one's id when more are left in the
 * range, "end" on the first page.  Whatever the ids' density and the rows'
 * sizes, the pages read give every id once, in order; the pager keeps pages
 * asked for ahead; a server without windows is read by cursor.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "export_pager.h"

#define MAXIDS 400000

struct sim {
	long long ids[MAXIDS];
	int size[MAXIDS];
	int n;
	int limit, budget;
	bool no_end;   /* a server without windows */
	bool bad_next; /* a server whose next goes back */
	/* the requests sent, in order, and those answered so far */
	long long sent_after[16384], sent_upto[16384];
	int nsent, nanswered;
	int id;
};

static struct sim S;

static int sim_send(void *arg, long long after, long long upto, unsigned *drops)
{
	struct sim *s = arg;

	ck_assert_int_lt(s->nsent, 16384);
	s->sent_after[s->nsent] = after;
	s->sent_upto[s->nsent] = upto;
	s->nsent++;
	*drops = 0;
	return ++s->id;
}

/* The page of (after, upto]: the index of its first row, its rows, next. */
static void sim_page(const struct sim *s, long long after, long long upto, int *first, int *rows,
                     long long *next)
{
	int i = 0, hi = s->n, n = 0, bytes = 0;

	while (i < hi) { /* the first id after after */
		int m = (i + hi) / 2;

		if (s->ids[m] <= after)
			i = m + 1;
		else
			hi = m;
	}
	*first = i;
	while (i + n < s->n && (upto == 0 || s->ids[i + n] <= upto) && n < s->limit &&
	       (n == 0 || bytes + s->size[i + n] <= s->budget)) {
		bytes += s->size[i + n];
		n++;
	}
	*rows = n;
	*next = (i + n < s->n && (upto == 0 || s->ids[i + n] <= upto)) ? s->ids[i + n - 1] : 0;
	if (s->bad_next && after > 0)
		*next = after;
}

/* Reads the export through the pager; the ids written, in *out (n of
 * them); the pages read and the pages dropped (asked, then stale). */
static int run(struct sim *s, long long *out, int *nout, int *read, int *dropped, int *min_ahead)
{
	struct export_pager p;
	const struct export_req *r;

	s->nsent = s->nanswered = 0;
	*nout = *read = *dropped = 0;
	*min_ahead = EXPORT_PAGER_MAX;
	ck_assert_int_eq(export_pager_start(&p, s->limit, sim_send, s), 0);
	while ((r = export_pager_current(&p)) != NULL) {
		int first, rows, ahead = 0;
		long long next, end = 0;

		/* the replies come in the order asked: the stale ones before
		 * this one are read and dropped */
		while (s->sent_after[s->nanswered] != r->after ||
		       s->sent_upto[s->nanswered] != r->upto) {
			s->nanswered++;
			(*dropped)++;
			ck_assert_int_lt(s->nanswered, s->nsent);
		}
		s->nanswered++;
		sim_page(s, r->after, r->upto, &first, &rows, &next);
		if (r->after == 0 && !s->no_end)
			end = s->n > 0 ? s->ids[s->n - 1] : 0;
		if (export_pager_head(&p, next, end, sim_send, s) != 0)
			return -1;
		for (int i = 1; i < p.nq; i++)
			ahead += !p.q[i].stale;
		/* while windows are left beyond this page, some are asked for */
		if (p.sent_to < p.end && ahead < *min_ahead)
			*min_ahead = ahead;
		ck_assert_int_le(p.nq, EXPORT_PAGER_MAX);
		for (int i = 0; i < rows; i++)
			out[(*nout)++] = s->ids[first + i];
		(*read)++;
		export_pager_done(&p, rows);
		ck_assert_int_lt(*read, 1000000);
	}
	return 0;
}

static long long OUT[MAXIDS];

static void assert_all(struct sim *s, int *read, int *dropped)
{
	int nout, min_ahead;

	ck_assert_int_eq(run(s, OUT, &nout, read, dropped, &min_ahead), 0);
	ck_assert_int_eq(nout, s->n);
	for (int i = 0; i < s->n; i++)
		ck_assert_int_eq(OUT[i], s->ids[i]);
	if (!s->no_end && *read > 3)
		ck_assert_int_ge(min_ahead, 1);
}

static unsigned rnd_state;
static unsigned rnd(void)
{
	rnd_state = rnd_state * 1103515245u + 12345u;
	return (rnd_state >> 8) & 0xffffff;
}

/* ids from 1 to max, each kept with probability density(id) in 1/1000 */
static void fill(struct sim *s, long long max, int (*density)(long long), int size_lo, int size_hi)
{
	s->n = 0;
	for (long long id = 1; id <= max && s->n < MAXIDS; id++) {
		if ((int)(rnd() % 1000) < density(id)) {
			s->ids[s->n] = id;
			s->size[s->n] = size_lo + (int)(rnd() % (unsigned)(size_hi - size_lo + 1));
			s->n++;
		}
	}
}

static int dense(long long id)
{
	(void)id;
	return 1000;
}

static int mixed(long long id)
{
	/* sparse, then dense, then a long empty stretch, then sparse again */
	return id < 50000 ? 10 : id < 120000 ? 900 : id < 400000 ? 0 : 3;
}

static int steps(long long id)
{
	return (int)((id / 7000) % 5) * 250; /* 0, 250, 500, 750, 1000 */
}

/* A well-behaved server of pages of limit rows and budget bytes; seed
 * for fill's ids and sizes. */
static void sim_setup(unsigned seed, int limit, int budget)
{
	rnd_state = seed;
	S.limit = limit;
	S.budget = budget;
	S.no_end = S.bad_next = false;
}

/* Every id as dense as can be: windows of a page, none dropped. */
START_TEST(test_dense)
{
	int read, dropped;

	sim_setup(1, 1000, 1 << 30);
	fill(&S, 100000, dense, 500, 700);
	assert_all(&S, &read, &dropped);
	ck_assert_int_le(read, 100000 / 850 + 3);
	ck_assert_int_eq(dropped, 0);
}
END_TEST

/* Density changing 90-fold, a long stretch of no rows, sizes that cut pages
 * by bytes: every id once, in order, few pages dropped. */
START_TEST(test_varying)
{
	int read, dropped;

	sim_setup(7, 1000, 1 << 30);
	fill(&S, 1000000, mixed, 300, 900);
	assert_all(&S, &read, &dropped);
	ck_assert_int_le(dropped, read / 4 + 4);

	fill(&S, 200000, steps, 300, 900);
	assert_all(&S, &read, &dropped);
	ck_assert_int_le(dropped, read / 4 + 4);

	S.budget = 20000; /* 22-66 rows a page: windows cut by bytes */
	fill(&S, 60000, steps, 300, 900);
	assert_all(&S, &read, &dropped);
	ck_assert_int_le(dropped, read / 4 + 4);

	S.limit = 1; /* a row a page */
	S.budget = 1 << 30;
	fill(&S, 3000, mixed, 10, 20);
	assert_all(&S, &read, &dropped);
	ck_assert_int_le(dropped, read / 4 + 4);
}
END_TEST

/* No rows; one row; a server without windows (no "end"): by cursor. */
START_TEST(test_edges)
{
	int read, dropped, nout, min_ahead;

	sim_setup(3, 1000, 1 << 30);
	S.n = 0;
	assert_all(&S, &read, &dropped);
	ck_assert_int_eq(read, 1);

	S.n = 1;
	S.ids[0] = 42;
	S.size[0] = 10;
	assert_all(&S, &read, &dropped);
	ck_assert_int_eq(read, 1);

	S.no_end = true;
	fill(&S, 50000, mixed, 300, 900);
	assert_all(&S, &read, &dropped);
	ck_assert_int_eq(dropped, 0);
	for (int i = 0; i < S.nsent; i++)
		ck_assert_int_eq(S.sent_upto[i], 0);

	/* a next that does not move on is refused, not followed */
	S.no_end = false;
	S.bad_next = true;
	S.limit = 50;
	ck_assert_int_eq(run(&S, OUT, &nout, &read, &dropped, &min_ahead), -1);
	S.bad_next = false;
}
END_TEST

int main(void)
{
	Suite *s = suite_create("export_pager");
	TCase *tc = tcase_create("export_pager");
	SRunner *sr;
	int failed;

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_dense);
	tcase_add_test(tc, test_varying);
	tcase_add_test(tc, test_edges);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
