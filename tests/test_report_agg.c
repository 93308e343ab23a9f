// SPDX-License-Identifier: GPL-2.0
/*
 * test_report_agg.c - the whole-trace aggregation of iovatop report
 * (src/report.c) on records fed to a model: hot regions from granules,
 * adjacent hot granules merged, cool ones left out; rates over
 * iterations; the order of rows; a device that never reported.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "model.h"
#include "report.h"

#define SEC	1000000000ull
#define MiB	(1ull << 20)
#define PAGE	4096ull

static uint64_t next_id = 1;

static void apply(struct model *m, void *rec)
{
	assert_int_equal(model_apply(m, rec), 0);
}

struct span {
	uint64_t iova, pages;
};

/* One whole vfio ioctl on dev over [0, 16 MiB): alloc, spans, end, free. */
static void one_report(struct model *m, uint64_t ts, const char *dev,
		       const struct span *sp, size_t n)
{
	uint64_t bid = next_id++, rid = next_id++;
	struct iova_rec_alloc a = {
		.hdr = { IOVA_REC_ALLOC, sizeof(a), 0, ts },
		.bitmap_id = bid, .iova = 0, .length = 16 * MiB,
		.page_size = PAGE, .user_addr = 0x7f0000000000ull,
	};
	struct iova_rec_report_begin b = {
		.hdr = { IOVA_REC_REPORT_BEGIN, sizeof(b), 0, ts + 1 },
		.bitmap_id = bid, .report_id = rid, .path = IOVA_PATH_VFIO,
	};
	struct iova_rec_report_end e = {
		.hdr = { IOVA_REC_REPORT_END, sizeof(e), 0, ts + 3 },
		.bitmap_id = bid, .report_id = rid,
	};
	struct iova_rec_free f = {
		.hdr = { IOVA_REC_FREE, sizeof(f), 0, ts + 4 }, .bitmap_id = bid,
	};
	size_t i;

	snprintf(b.devname, sizeof(b.devname), "%s", dev);
	apply(m, &a);
	apply(m, &b);
	for (i = 0; i < n; i++) {
		struct iova_rec_range r = {
			.hdr = { IOVA_REC_RANGE, sizeof(r), 0, ts + 2 },
			.bitmap_id = bid, .report_id = rid,
			.iova = sp[i].iova, .length = sp[i].pages * PAGE,
			.ncalls = 1,
		};

		apply(m, &r);
	}
	apply(m, &e);
	apply(m, &f);
}

static struct model *new_model(struct report *rp)
{
	struct model_opts o = { .rule = IBD_RULE_CURRENT };
	struct model *m = model_new(&o);

	assert_non_null(m);
	memset(rp, 0, sizeof(*rp));
	report_hooks(rp, m);
	return m;
}

/*
 * 120 pages in the 2 MiB granule at 0, 5 in the one at 4 MiB (under an
 * eighth of the hottest: not hot), 50 on each side of 8 MiB (two
 * adjacent hot granules: one region of 100).
 */
static void test_hot_regions(void **state)
{
	const struct span sp[] = {
		{ 0, 120 },
		{ 4 * MiB, 5 },
		{ 8 * MiB - 50 * PAGE, 100 },
	};
	struct report rp;
	struct model *m = new_model(&rp);
	const struct rdev *d;

	(void)state;
	one_report(m, SEC, "0000:01:00.0", sp, 3);
	model_finish(m);
	assert_int_equal(rp.err, 0);
	report_finish(&rp, REPORT_DEFAULT_TOP);
	d = report_dev(&rp, "vfio 0000:01:00.0");
	assert_int_equal(d->dirty_pages, 225);
	assert_int_equal(d->hits, 225);
	assert_int_equal(d->ntop, 2);
	assert_int_equal(d->top[0].lo, 0);
	assert_int_equal(d->top[0].hi, 120 * PAGE);
	assert_int_equal(d->top[0].hits, 120);
	assert_int_equal(d->top[1].lo, 8 * MiB - 50 * PAGE);
	assert_int_equal(d->top[1].hi, 8 * MiB + 50 * PAGE);
	assert_int_equal(d->top[1].hits, 100);
	assert_true(report_share(d, 0, 225.0) == 120.0);
	assert_true(report_share(d, 1, 1.0) == 100.0 / 225.0);
	report_free(&rp);
	model_free(m);
}

/* --top 1 keeps the hottest region only; --top 0 none. */
static void test_top_limit(void **state)
{
	const struct span sp[] = { { 0, 120 }, { 8 * MiB, 100 } };
	struct report rp;
	struct model *m = new_model(&rp);

	(void)state;
	one_report(m, SEC, "0000:01:00.0", sp, 2);
	model_finish(m);
	report_finish(&rp, 1);
	assert_int_equal(report_dev(&rp, "vfio 0000:01:00.0")->ntop, 1);
	assert_int_equal(report_dev(&rp, "vfio 0000:01:00.0")->top[0].hits, 120);
	report_free(&rp);
	model_free(m);
}

/*
 * Three reports over the same range, a second apart: three iterations.
 * The first has no start, so rates are over the two later ones: 1 MiB/s
 * and 2 MiB/s, 3 MiB over 2 s on average.
 */
static void test_rates(void **state)
{
	const struct span s0 = { 0, 10 }, s1 = { 0, 256 }, s2 = { 0, 512 };
	struct report rp;
	struct model *m = new_model(&rp);
	const struct rdev *d;
	struct rates r;

	(void)state;
	one_report(m, 1 * SEC, "0000:01:00.0", &s0, 1);
	one_report(m, 2 * SEC, "0000:01:00.0", &s1, 1);
	one_report(m, 3 * SEC, "0000:01:00.0", &s2, 1);
	model_finish(m);
	report_finish(&rp, REPORT_DEFAULT_TOP);
	d = report_dev(&rp, "vfio 0000:01:00.0");
	assert_int_equal(d->nits, 3);
	assert_int_equal(d->its[2].dirty_pages, 512);
	assert_null(d->its[0].device);	/* not the model's string */
	r = report_rates(d);
	assert_int_equal(r.n, 2);
	assert_true(r.min == (double)MiB);
	assert_true(r.max == 2.0 * MiB);
	assert_true(r.avg == 1.5 * MiB);
	report_free(&rp);
	model_free(m);
}

/* Rows go by the whole trace's dirty bytes, then by name. */
static void test_sort_rows(void **state)
{
	const struct span few = { 0, 1 }, many = { 0, 300 };
	struct model_snapshot snap;
	struct report rp;
	struct model *m = new_model(&rp);

	(void)state;
	one_report(m, 1 * SEC, "0000:0c:00.0", &few, 1);
	one_report(m, 1 * SEC + 10, "0000:0b:00.0", &many, 1);
	one_report(m, 1 * SEC + 20, "0000:0a:00.0", &few, 1);
	model_finish(m);
	assert_int_equal(model_snapshot(m, model_now(m), MODEL_SORT_NAME, false,
					NULL, &snap), 0);
	report_sort_rows(&snap);
	assert_int_equal(snap.nrows, 3);
	assert_string_equal(snap.rows[0].name, "vfio 0000:0b:00.0");
	assert_string_equal(snap.rows[1].name, "vfio 0000:0a:00.0");
	assert_string_equal(snap.rows[2].name, "vfio 0000:0c:00.0");
	report_free(&rp);
	model_free(m);
}

/* A device the trace never names reads as empty, not as a crash. */
static void test_unknown_device(void **state)
{
	struct model_snapshot snap;
	struct report rp;
	struct model *m = new_model(&rp);
	const struct rdev *d;
	struct rates r;

	(void)state;
	model_finish(m);
	report_finish(&rp, REPORT_DEFAULT_TOP);
	/* a trace without devices: no rows, perhaps no array either */
	assert_int_equal(model_snapshot(m, model_now(m), MODEL_SORT_RATE, false,
					NULL, &snap), 0);
	report_sort_rows(&snap);
	assert_int_equal(snap.nrows, 0);
	d = report_dev(&rp, "vfio 0000:99:00.0");
	assert_non_null(d);
	assert_int_equal(d->nits, 0);
	assert_int_equal(d->ntop, 0);
	r = report_rates(d);
	assert_int_equal(r.n, 0);
	assert_true(report_share(d, 0, 100.0) == 0);
	report_free(&rp);
	model_free(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hot_regions),
		cmocka_unit_test(test_top_limit),
		cmocka_unit_test(test_rates),
		cmocka_unit_test(test_sort_rows),
		cmocka_unit_test(test_unknown_device),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
