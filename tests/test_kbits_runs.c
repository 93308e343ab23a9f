// SPDX-License-Identifier: GPL-2.0
/*
 * test_kbits_runs.c - an area of the kernel-side bitmap read as runs
 * (src/kbits_runs.c): the runs are exactly the set bits, maximal, in
 * order, across word boundaries and up to the last bit; the words are
 * zeroed; a callback's error stops the scan.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "kbits_runs.h"

#define NW	64

struct runs {
	uint64_t got[NW];	/* the bits the runs cover */
	uint64_t prev_last;	/* last bit of the previous run + 1, or 0 */
	unsigned int n;
	unsigned int stop_at;	/* fail on this run (1-based), 0: never */
};

static int take(void *ctx, uint64_t first, uint64_t last)
{
	struct runs *r = ctx;
	uint64_t b;

	assert_true(first <= last);
	assert_true(last < NW * 64);
	/* in order and maximal: a gap of at least one clear bit between */
	if (r->n)
		assert_true(first > r->prev_last);
	for (b = first; b <= last; b++)
		r->got[b / 64] |= 1ull << (b % 64);
	r->prev_last = last + 1;
	r->n++;
	if (r->stop_at && r->n == r->stop_at)
		return -7;
	return 0;
}

static unsigned int naive_runs(const uint64_t *w)
{
	unsigned int n = 0, b;
	int prev = 0;

	for (b = 0; b < NW * 64; b++) {
		int on = (w[b / 64] >> (b % 64)) & 1;

		if (on && !prev)
			n++;
		prev = on;
	}
	return n;
}

static void check(const uint64_t *want)
{
	uint64_t words[NW];
	struct runs r;
	unsigned int i;

	memcpy(words, want, sizeof(words));
	memset(&r, 0, sizeof(r));
	assert_int_equal(kbits_runs(words, NW, take, &r), 0);
	assert_memory_equal(r.got, want, sizeof(r.got));
	assert_int_equal(r.n, naive_runs(want));
	for (i = 0; i < NW; i++)
		assert_true(words[i] == 0);
}

static void test_shapes(void **unused)
{
	uint64_t w[NW];

	(void)unused;
	memset(w, 0, sizeof(w));
	check(w);			/* nothing */
	w[0] = 1;
	check(w);			/* bit 0 */
	memset(w, 0, sizeof(w));
	w[NW - 1] = 1ull << 63;
	check(w);			/* the very last bit */
	memset(w, 0xff, sizeof(w));
	check(w);			/* one run over everything */
	memset(w, 0, sizeof(w));
	w[3] = ~0ull << 60;
	w[4] = ~0ull;
	w[5] = 0x7;
	check(w);			/* a run over three words */
	memset(w, 0, sizeof(w));
	w[7] = 0x5555555555555555ull;
	w[8] = 0xaaaaaaaaaaaaaaaaull;
	check(w);			/* every other bit, 64 runs */
	memset(w, 0, sizeof(w));
	w[9] = 1ull << 63;
	w[10] = 1;
	check(w);			/* two bits, one run, across a word */
}

static void test_random(void **unused)
{
	uint64_t w[NW];
	unsigned int round, i;

	(void)unused;
	srand(15);
	for (round = 0; round < 2000; round++) {
		unsigned int density = (unsigned int)rand() % 4;

		for (i = 0; i < NW; i++) {
			uint64_t v = ((uint64_t)rand() << 33) ^ ((uint64_t)rand() << 11) ^
				     (uint64_t)rand();

			/* sparse, mixed, dense and whole words */
			if (density == 0)
				v &= v >> 7 & v >> 13;
			else if (density == 2)
				v |= v << 3;
			else if (density == 3)
				v = rand() % 3 ? ~0ull : 0;
			w[i] = v;
		}
		check(w);
	}
}

static void test_stop(void **unused)
{
	uint64_t words[NW];
	struct runs r;

	(void)unused;
	memset(words, 0, sizeof(words));
	words[1] = 1;
	words[2] = 1;
	words[5] = 1;
	memset(&r, 0, sizeof(r));
	r.stop_at = 2;
	assert_int_equal(kbits_runs(words, NW, take, &r), -7);
	assert_int_equal(r.n, 2);
	/* what was handed on is cleared, what was not is kept */
	assert_true(words[1] == 0 && words[2] == 0);
	assert_true(words[5] == 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_shapes),
		cmocka_unit_test(test_random),
		cmocka_unit_test(test_stop),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
