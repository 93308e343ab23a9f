// SPDX-License-Identifier: GPL-2.0
/*
 * test_hot_region.c - the one rule for hot regions (src/hot_region.c),
 * which the live view and report both use: 2 MiB granules, hot at 1/8 of
 * the busiest, adjacent hot granules joined, ranked by dirty pages.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "hot_region.h"

#define MiB	(1ull << 20)
#define PG	4096ull

static int regions(struct hot_map *h, struct hot_region *r, size_t max)
{
	memset(r, 0, max * sizeof(*r));
	return hot_map_regions(h, r, max);
}

static void test_empty(void **unused)
{
	struct hot_map h = { 0 };
	struct hot_region r[2];

	(void)unused;
	assert_int_equal(regions(&h, r, 2), 0);
	assert_int_equal(hot_map_add(&h, 5 * MiB, 5 * MiB, PG), 0);	/* empty run */
	assert_int_equal(regions(&h, r, 2), 0);
	hot_map_free(&h);
}

/* A region is the dirty extent, not the granules' edges. */
static void test_extent_and_crossing(void **unused)
{
	struct hot_map h = { 0 };
	struct hot_region r[4];

	(void)unused;
	/* 3 pages ending 1 page past a granule edge: 2 + 1 hits */
	assert_int_equal(hot_map_add(&h, 4 * MiB - 2 * PG, 4 * MiB + PG, PG), 0);
	assert_int_equal(regions(&h, r, 4), 1);
	assert_int_equal(r[0].lo, 4 * MiB - 2 * PG);
	assert_int_equal(r[0].hi, 4 * MiB + PG);
	assert_int_equal(r[0].hits, 3);
	assert_int_equal(h.hits, 3);
	hot_map_free(&h);
}

/*
 * Hot is at least 1/8 of the busiest granule: exactly 1/8 joins, just
 * below does not, and a cool granule between two hot ones splits them.
 */
static void test_threshold_and_ranking(void **unused)
{
	struct hot_map h = { 0 };
	struct hot_region r[4];

	(void)unused;
	hot_map_add(&h, 0, 64 * PG, PG);			/* granule 0: 64 */
	hot_map_add(&h, 2 * MiB, 2 * MiB + 8 * PG, PG);		/* granule 1: 8 = 1/8 */
	hot_map_add(&h, 4 * MiB, 4 * MiB + 7 * PG, PG);		/* granule 2: 7 < 1/8 */
	hot_map_add(&h, 6 * MiB, 6 * MiB + 40 * PG, PG);	/* granule 3: 40 */
	hot_map_add(&h, 20 * MiB, 20 * MiB + 40 * PG, PG);	/* granule 10: 40 */
	assert_int_equal(regions(&h, r, 4), 3);
	assert_int_equal(r[0].lo, 0);			/* granules 0-1: 72 */
	assert_int_equal(r[0].hi, 2 * MiB + 8 * PG);
	assert_int_equal(r[0].hits, 72);
	assert_int_equal(r[1].lo, 6 * MiB);		/* a tie: the lower first */
	assert_int_equal(r[1].hits, 40);
	assert_int_equal(r[2].lo, 20 * MiB);
	/* max cuts after the ranking */
	assert_int_equal(regions(&h, r, 1), 1);
	assert_int_equal(r[0].hits, 72);
	hot_map_free(&h);
}

/*
 * The seen failure: a device dirtying 96 GiB thinly, with one cluster,
 * was given the whole 96 GiB by the view's 64 cells and 6.69 MiB by
 * report. Thin pages everywhere stay below 1/8 of the cluster.
 */
static void test_thin_spread_keeps_the_cluster(void **unused)
{
	struct hot_map h = { 0 };
	struct hot_region r[2];
	uint64_t g;

	(void)unused;
	for (g = 0; g < 96 * 512; g += 3)	/* one page in every third granule */
		assert_int_equal(hot_map_add(&h, (g << 21) + PG, (g << 21) + 2 * PG, PG), 0);
	hot_map_add(&h, 0x266d20000ull, 0x266d20000ull + 16 * PG, PG);
	assert_int_equal(regions(&h, r, 2), 1);
	assert_int_equal(r[0].lo, 0x266d20000ull);
	assert_int_equal(r[0].hi, 0x266d20000ull + 16 * PG);
	assert_true(h.n > 10000);	/* the table grew and kept every granule */
	hot_map_free(&h);
}

static void test_clear_keeps_working(void **unused)
{
	struct hot_map h = { 0 };
	struct hot_region r[2];

	(void)unused;
	hot_map_add(&h, 0, 8 * PG, PG);
	hot_map_clear(&h);
	assert_int_equal(regions(&h, r, 2), 0);
	assert_int_equal(h.hits, 0);
	hot_map_add(&h, 8 * MiB, 9 * MiB, PG);
	assert_int_equal(regions(&h, r, 2), 1);
	assert_int_equal(r[0].lo, 8 * MiB);
	assert_int_equal(r[0].hits, 256);
	hot_map_free(&h);
}

/* A run at the top of IOVA space ends; it neither wraps nor loops. */
static void test_top_of_iova_space(void **unused)
{
	struct hot_map h = { 0 };
	struct hot_region r[2];

	(void)unused;
	assert_int_equal(hot_map_add(&h, UINT64_MAX - 2 * PG + 1, UINT64_MAX, PG), 0);
	assert_int_equal(regions(&h, r, 2), 1);
	assert_int_equal(r[0].lo, UINT64_MAX - 2 * PG + 1);
	assert_int_equal(r[0].hi, UINT64_MAX);
	assert_int_equal(r[0].hits, 2);
	hot_map_free(&h);
}

/* A rebuilt bitmap: its set bits, clipped to the bitmap's length. */
static void test_bitmap(void **unused)
{
	struct hot_map h = { 0 };
	struct hot_region r[2];
	struct ibd d;

	(void)unused;
	/* 10 pages from 1 GiB + 0x800: the last page is half outside */
	assert_int_equal(ibd_init(&d, (1ull << 30) + 0x800, 10 * PG, PG, IBD_RULE_CURRENT), 0);
	ibd_set(&d, (1ull << 30) + 0x800 + 2 * PG, 3 * PG);
	ibd_set(&d, (1ull << 30) + 0x800 + 9 * PG, PG);
	assert_int_equal(hot_map_add_bitmap(&h, &d, d.iova, d.length, PG), 0);
	assert_int_equal(regions(&h, r, 2), 1);
	assert_int_equal(r[0].lo, (1ull << 30) + 0x800 + 2 * PG);
	assert_int_equal(r[0].hi, (1ull << 30) + 0x800 + 10 * PG);
	assert_int_equal(r[0].hits, 4);
	/* clipped: only the first 5 pages of the bitmap */
	hot_map_clear(&h);
	assert_int_equal(hot_map_add_bitmap(&h, &d, d.iova, 4 * PG + 0x10, PG), 0);
	assert_int_equal(regions(&h, r, 2), 1);
	assert_int_equal(r[0].hi, (1ull << 30) + 0x800 + 4 * PG + 0x10);
	assert_int_equal(r[0].hits, 3);
	ibd_free(&d);
	hot_map_free(&h);
}

/*
 * The view merges each interval's map into the whole run's: merging
 * gives the map that adding every run to one would have, in regions,
 * pages and granules.
 */
static void test_merge_equals_adding(void **unused)
{
	struct hot_map a = { 0 }, b = { 0 }, all = { 0 }, sum = { 0 };
	struct hot_region ra[16], rb[16];
	uint64_t seed = 99, i;
	int n, k;

	(void)unused;
	for (i = 0; i < 3000; i++) {
		uint64_t lo, len;

		seed = seed * 6364136223846793005ull + 1442695040888963407ull;
		lo = (seed >> 20) % (300ull << 30) / PG * PG;
		len = (1 + (seed >> 8) % 700) * PG;
		/* half to each: same granules, some in both */
		assert_int_equal(hot_map_add(i % 2 ? &a : &b, lo, lo + len, PG), 0);
		assert_int_equal(hot_map_add(&all, lo, lo + len, PG), 0);
	}
	assert_int_equal(hot_map_merge(&sum, &a), 0);
	assert_int_equal(hot_map_merge(&sum, &b), 0);
	assert_int_equal(sum.n, all.n);
	assert_int_equal(sum.hits, all.hits);
	n = regions(&all, ra, 16);
	assert_true(n > 0);
	assert_int_equal(regions(&sum, rb, 16), n);
	for (k = 0; k < n; k++) {
		assert_int_equal(ra[k].lo, rb[k].lo);
		assert_int_equal(ra[k].hi, rb[k].hi);
		assert_int_equal(ra[k].hits, rb[k].hits);
	}
	hot_map_free(&a);
	hot_map_free(&b);
	hot_map_free(&all);
	hot_map_free(&sum);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_empty),
		cmocka_unit_test(test_extent_and_crossing),
		cmocka_unit_test(test_threshold_and_ranking),
		cmocka_unit_test(test_thin_spread_keeps_the_cluster),
		cmocka_unit_test(test_clear_keeps_working),
		cmocka_unit_test(test_top_of_iova_space),
		cmocka_unit_test(test_bitmap),
		cmocka_unit_test(test_merge_equals_adding),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
