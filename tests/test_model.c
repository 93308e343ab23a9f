// SPDX-License-Identifier: GPL-2.0
/*
 * test_model.c - the model without a terminal: attribution, rebuilds,
 * rates, trend, hottest region, iterations, losses, anomalies, windows,
 * zero rows, sorting.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "model.h"

#define MS	1000000ull
#define SEC	1000000000ull
#define MiB	(1ull << 20)

/* What the hooks saw. */
struct seen {
	unsigned int reports;
	struct model_report last;
	char device[MODEL_NAME_LEN];
	uint64_t words[64];	/* first words of the last rebuild */
	size_t nwords;
	size_t bitmap_words;	/* all of the last rebuild's */
	unsigned int iterations;
	struct model_iteration its[32];
};

static struct seen seen;

static void on_report(void *ctx, const struct model_report *r)
{
	(void)ctx;
	seen.reports++;
	seen.last = *r;
	snprintf(seen.device, sizeof(seen.device), "%s", r->device);
	seen.nwords = 0;
	/* the bitmap is gone once the report's FREE record is applied */
	seen.bitmap_words = r->bitmap ? r->bitmap->nwords : 0;
	if (r->bitmap) {
		seen.nwords = r->bitmap->nwords < 64 ? r->bitmap->nwords : 64;
		memcpy(seen.words, r->bitmap->words, seen.nwords * 8);
	}
}

static void on_iteration(void *ctx, const struct model_iteration *it)
{
	(void)ctx;
	if (seen.iterations < 32)
		seen.its[seen.iterations] = *it;
	seen.iterations++;
}

static struct model *new_model(enum ibd_rule rule, uint64_t max_bytes)
{
	struct model_opts o = { .rule = rule, .max_bitmap_bytes = max_bytes };
	struct model *m = model_new(&o);

	assert_non_null(m);
	memset(&seen, 0, sizeof(seen));
	model_on_report(m, on_report, NULL);
	model_on_iteration(m, on_iteration, NULL);
	return m;
}

static void apply(struct model *m, void *rec)
{
	assert_int_equal(model_apply(m, rec), 0);
}

static void rec_alloc(struct model *m, uint64_t ts, uint64_t bid, uint64_t iova,
		      uint64_t len, uint64_t page)
{
	struct iova_rec_alloc a = {
		.hdr = { IOVA_REC_ALLOC, sizeof(a), 0, ts },
		.bitmap_id = bid, .iova = iova, .length = len, .page_size = page,
		.user_addr = 0x7f0000000000ull, .task = { .pid = 4242 },
	};

	memcpy(a.task.comm, "qemu-system", 11);
	apply(m, &a);
}

/* dev: "0000:..." for vfio, "#N" for iommufd hwpt N, "#N@C" in context C. */
/* The pid the next reports carry (the VMM asking). */
static uint32_t task_pid = 4242;

static void rec_begin(struct model *m, uint64_t ts, uint64_t bid, uint64_t rid,
		      const char *dev)
{
	struct iova_rec_report_begin b = {
		.hdr = { IOVA_REC_REPORT_BEGIN, sizeof(b), 0, ts },
		.bitmap_id = bid, .report_id = rid, .task = { .pid = task_pid },
	};

	memcpy(b.task.comm, "qemu-system", 11);
	if (dev[0] == '#') {
		b.path = IOVA_PATH_IOMMUFD;
		b.callback = IOVA_CB_IOMMUFD;
		b.hwpt_id = (uint32_t)atoi(dev + 1);
		if (strchr(dev, '@'))
			b.ictx_id = (uint32_t)atoi(strchr(dev, '@') + 1);
	} else {
		b.path = IOVA_PATH_VFIO;
		snprintf(b.devname, sizeof(b.devname), "%s", dev);
	}
	apply(m, &b);
}

static void rec_range(struct model *m, uint64_t ts, uint64_t bid, uint64_t rid,
		      uint64_t iova, uint64_t len)
{
	struct iova_rec_range r = {
		.hdr = { IOVA_REC_RANGE, sizeof(r), 0, ts },
		.bitmap_id = bid, .report_id = rid, .iova = iova, .length = len,
		.ncalls = 1,
	};

	apply(m, &r);
}

static void rec_end(struct model *m, uint64_t ts, uint64_t bid, uint64_t rid,
		    uint64_t lost)
{
	struct iova_rec_report_end e = {
		.hdr = { IOVA_REC_REPORT_END, sizeof(e), 0, ts },
		.bitmap_id = bid, .report_id = rid, .lost = lost,
	};

	apply(m, &e);
}

static void rec_free(struct model *m, uint64_t ts, uint64_t bid)
{
	struct iova_rec_free f = {
		.hdr = { IOVA_REC_FREE, sizeof(f), 0, ts }, .bitmap_id = bid,
	};

	apply(m, &f);
}

static void rec_lost_where(struct model *m, uint64_t ts, uint64_t count,
			   uint32_t where)
{
	struct iova_rec_lost l = {
		.hdr = { IOVA_REC_LOST, sizeof(l), 0, ts }, .count = count,
		.where = where,
	};

	apply(m, &l);
}

static void rec_lost(struct model *m, uint64_t ts, uint64_t count)
{
	rec_lost_where(m, ts, count, IOVA_LOST_RINGBUF);
}

static uint64_t next_id = 1;

/*
 * One whole ioctl as vfio does it: alloc, for_each with pages dirty pages
 * from first (one range each, stride 2 pages), end, free.
 */
static void report(struct model *m, uint64_t ts, const char *dev, uint64_t iova,
		   uint64_t len, uint64_t first, uint64_t pages)
{
	uint64_t bid = next_id++, rid = next_id++, i;

	rec_alloc(m, ts, bid, iova, len, 4096);
	rec_begin(m, ts + 1, bid, rid, dev);
	for (i = 0; i < pages; i++)
		rec_range(m, ts + 2, bid, rid, first + i * 8192, 4096);
	rec_end(m, ts + 3, bid, rid, 0);
	rec_free(m, ts + 4, bid);
}

static struct model_row *row(struct model_snapshot *s, const char *name)
{
	uint32_t i;

	for (i = 0; i < s->nrows; i++)
		if (!strcmp(s->rows[i].name, name))
			return &s->rows[i];
	fail_msg("no row named %s", name);
	return NULL;
}

static void test_attribution(void **state)
{
	struct model *m = new_model(IBD_RULE_CURRENT, 0);
	struct model_snapshot s;
	struct model_row *r;

	(void)state;
	report(m, 1 * MS, "0000:3b:00.1", 0x100000000ull, 64 * MiB, 0x100000000ull, 10);
	assert_string_equal(seen.device, "vfio 0000:3b:00.1");
	assert_int_equal(seen.last.path, IOVA_PATH_VFIO);
	assert_int_equal(seen.last.dirty_pages, 10);
	assert_int_equal(seen.last.flags, 0);
	report(m, 2 * MS, "#5", 0x8000000, 16 * MiB, 0x8000000, 3);
	assert_string_equal(seen.device, "iommufd hwpt 5 pid 4242");
	assert_int_equal(seen.last.hwpt_id, 5);
	report(m, 3 * MS, "0000:3b:00.1", 0x100000000ull, 64 * MiB, 0x100000000ull, 4);

	assert_int_equal(model_snapshot(m, 4 * MS, MODEL_SORT_NAME, false, NULL, &s), 0);
	assert_int_equal(s.ndevices, 2);
	assert_int_equal(s.nrows, 2);
	assert_int_equal(s.reports, 3);
	r = row(&s, "vfio 0000:3b:00.1");
	assert_int_equal(r->path, IOVA_PATH_VFIO);
	assert_int_equal(r->pid, 4242);
	assert_string_equal(r->comm, "qemu-system");
	assert_int_equal(r->reports, 2);
	assert_int_equal(r->dirty_pages_last, 4);
	assert_int_equal(r->dirty_bytes, 14 * 4096);
	assert_int_equal(r->page_size, 4096);
	assert_true(r->tracked_iova == 0x100000000ull);
	assert_int_equal(r->tracked_length, 64 * MiB);
	r = row(&s, "iommufd hwpt 5 pid 4242");
	assert_int_equal(r->path, IOVA_PATH_IOMMUFD);
	assert_int_equal(r->reports, 1);
	/* sorted by name */
	assert_string_equal(s.rows[0].name, "iommufd hwpt 5 pid 4242");
	/* a report whose hwpt ioctl ran before the probes: never "hwpt 0" */
	report(m, 5 * MS, "#0", 0x8000000, 16 * MiB, 0x8000000, 1);
	assert_string_equal(seen.device, "iommufd hwpt ? pid 4242");
	model_free(m);
}

/*
 * hwpt ids are numbered per iommufd context, so every VMM has a "hwpt 2":
 * two VMMs' hwpt 2 are two devices, by their context where the tracer
 * numbered it and by their process where it could not (an ABI 1 trace).
 * One context's hwpt 2, asked by any of its threads, is one device.
 */
static void test_iommufd_contexts(void **state)
{
	struct model *m = new_model(IBD_RULE_CURRENT, 0);
	struct model_snapshot s;
	struct model_row *r;

	(void)state;
	task_pid = 100;
	report(m, 1 * MS, "#2@1", 0x8000000, 16 * MiB, 0x8000000, 10);
	assert_string_equal(seen.device, "iommufd hwpt 2 ctx 1");
	assert_int_equal(seen.last.ictx_id, 1);
	task_pid = 200;
	report(m, 2 * MS, "#2@2", 0x8000000, 16 * MiB, 0x8000000, 3);
	assert_string_equal(seen.device, "iommufd hwpt 2 ctx 2");
	report(m, 3 * MS, "#2@2", 0x8000000, 16 * MiB, 0x8000000, 4);
	/* context unknown: the process keeps them apart */
	report(m, 4 * MS, "#2", 0x8000000, 16 * MiB, 0x8000000, 5);
	assert_string_equal(seen.device, "iommufd hwpt 2 pid 200");
	task_pid = 100;
	report(m, 5 * MS, "#2", 0x8000000, 16 * MiB, 0x8000000, 6);
	assert_string_equal(seen.device, "iommufd hwpt 2 pid 100");

	assert_int_equal(model_snapshot(m, 6 * MS, MODEL_SORT_NAME, false, NULL, &s), 0);
	assert_int_equal(s.ndevices, 4);
	r = row(&s, "iommufd hwpt 2 ctx 1");
	assert_int_equal(r->pid, 100);
	assert_int_equal(r->reports, 1);
	assert_int_equal(r->dirty_pages, 10);
	r = row(&s, "iommufd hwpt 2 ctx 2");
	assert_int_equal(r->pid, 200);
	assert_int_equal(r->reports, 2);
	assert_int_equal(r->dirty_pages, 7);
	r = row(&s, "iommufd hwpt 2 pid 200");
	assert_int_equal(r->pid, 200);
	assert_int_equal(r->dirty_pages, 5);
	r = row(&s, "iommufd hwpt 2 pid 100");
	assert_int_equal(r->pid, 100);
	assert_int_equal(r->dirty_pages, 6);
	task_pid = 4242;
	model_free(m);
}

/*
 * Bitmaps that end at 2^64: the heat buckets once summed absolute IOVAs
 * and wrapped (a stack overflow in the heat walk, or a division by zero
 * when one device also had a bitmap at 0).
 */
static void test_heat_top_of_space(void **state)
{
	struct model *m = new_model(IBD_RULE_CURRENT, 0);
	const uint64_t top = 0xfffffffffff00000ull;
	struct model_snapshot s;
	struct model_row *r;
	uint32_t i, hot = 0;

	(void)state;
	report(m, 1 * MS, "0000:3b:00.7", top, 1 << 20, 0xfffffffffffff000ull, 1);
	assert_int_equal(seen.last.dirty_pages, 1);
	assert_int_equal(model_snapshot(m, 2 * MS, MODEL_SORT_NAME, false, NULL, &s), 0);
	r = row(&s, "vfio 0000:3b:00.7");
	assert_true(r->hot_iova == 0xfffffffffffff000ull);
	assert_true(r->hot_length == 0xfff);
	/* the same device at the bottom of the space as well */
	report(m, 3 * MS, "0000:3b:00.7", 0, 1 << 20, 0, 1);
	assert_int_equal(model_snapshot(m, 4 * MS, MODEL_SORT_NAME, false, NULL, &s), 0);
	r = row(&s, "vfio 0000:3b:00.7");
	for (i = 0; i < MODEL_HEAT_BUCKETS; i++)
		hot += r->heat[i] != 0;
	assert_int_equal(hot, 2);
	model_free(m);
}

static void test_rebuild_bits(void **state)
{
	struct model *m = new_model(IBD_RULE_CURRENT, 0);

	(void)state;
	rec_alloc(m, 10, 1, 0x10000, 64 * 4096 * 2, 4096);
	rec_begin(m, 11, 1, 2, "0000:00:01.0");
	rec_range(m, 12, 1, 2, 0x10000, 4096);		/* bit 0 */
	rec_range(m, 12, 1, 2, 0x10000 + 5 * 4096, 3 * 4096);	/* bits 5-7 */
	rec_range(m, 12, 1, 2, 0x10000 + 64 * 4096 + 100, 1);	/* bit 64 */
	rec_range(m, 12, 1, 2, 0x10000 + 127 * 4096, 4096);	/* bit 127 */
	rec_end(m, 13, 1, 2, 0);
	assert_int_equal(seen.reports, 1);
	assert_non_null(seen.last.bitmap);
	assert_int_equal(seen.nwords, 2);
	assert_true(seen.words[0] == 0xe1);
	assert_true(seen.words[1] == (1ull | 1ull << 63));
	assert_int_equal(seen.last.dirty_pages, 6);
	assert_int_equal(seen.last.ranges, 4);
	assert_int_equal(seen.last.set_calls, 4);
	assert_int_equal(seen.last.ts_begin_ns, 11);
	assert_int_equal(seen.last.ts_end_ns, 13);
	/* a second report on the same bitmap starts from a clean slate */
	rec_begin(m, 20, 1, 3, "0000:00:01.0");
	rec_range(m, 21, 1, 3, 0x10000 + 4096, 4096);
	rec_end(m, 22, 1, 3, 0);
	assert_true(seen.words[0] == 0x2 && seen.words[1] == 0);
	rec_free(m, 23, 1);
	model_free(m);
}

static void test_rates(void **state)
{
	struct model *m = new_model(IBD_RULE_CURRENT, 0);
	struct model_snapshot s;
	struct model_row *r;
	int i;

	(void)state;
	/* 10 reports in the first second, 256 pages (1 MiB) each */
	for (i = 0; i < 10; i++)
		report(m, i * 100 * MS, "0000:00:02.0", 0, 256 * MiB, 0, 256);
	assert_int_equal(model_snapshot(m, 1 * SEC, MODEL_SORT_RATE, false, NULL, &s), 0);
	r = row(&s, "vfio 0000:00:02.0");
	assert_true(s.interval_s > 0.999 && s.interval_s < 1.001);
	assert_true(r->reports_per_s > 9.99 && r->reports_per_s < 10.01);
	assert_true(r->dirty_mib_s > 9.99 && r->dirty_mib_s < 10.01);
	assert_true(s.dirty_mib_s > 9.99 && s.dirty_mib_s < 10.01);
	assert_int_equal(r->dirty_pages_last, 256);
	/* 256 of 65536 pages */
	assert_true(r->pct_dirty > 0.39 && r->pct_dirty < 0.40);
	/* 2 reports in the next two seconds */
	report(m, 1500 * MS, "0000:00:02.0", 0, 256 * MiB, 0, 128);
	report(m, 2500 * MS, "0000:00:02.0", 0, 256 * MiB, 0, 128);
	assert_int_equal(model_snapshot(m, 3 * SEC, MODEL_SORT_RATE, false, NULL, &s), 0);
	r = row(&s, "vfio 0000:00:02.0");
	assert_true(r->reports_per_s > 0.99 && r->reports_per_s < 1.01);
	assert_true(r->dirty_mib_s > 0.49 && r->dirty_mib_s < 0.51);
	/* a snapshot at the same instant keeps the rates */
	assert_int_equal(model_snapshot(m, 3 * SEC, MODEL_SORT_RATE, false, NULL, &s), 0);
	assert_true(row(&s, "vfio 0000:00:02.0")->dirty_mib_s > 0.49);
	/* nothing more: the rate falls to zero, the totals stay */
	assert_int_equal(model_snapshot(m, 4 * SEC, MODEL_SORT_RATE, false, NULL, &s), 0);
	r = row(&s, "vfio 0000:00:02.0");
	assert_true(r->dirty_mib_s == 0 && r->reports_per_s == 0);
	assert_int_equal(r->reports, 12);
	assert_int_equal(r->dirty_bytes, (10 * 256 + 2 * 128) * 4096);
	model_free(m);
}

static uint32_t trend_of(const uint64_t *pages, int n)
{
	struct model *m = new_model(IBD_RULE_CURRENT, 0);
	struct model_snapshot s;
	uint32_t t;
	int i;

	for (i = 0; i < n; i++)
		report(m, (uint64_t)i * SEC, "0000:00:03.0", 0, 64 * MiB, 0, pages[i]);
	assert_int_equal(model_snapshot(m, (uint64_t)n * SEC, 0, false, NULL, &s), 0);
	/* one range: every report is an iteration */
	assert_int_equal(s.rows[0].iterations, n);
	assert_int_equal(s.rows[0].nhistory, n);
	assert_int_equal(s.rows[0].history[n - 1], pages[n - 1]);
	t = s.rows[0].trend;
	model_free(m);
	return t;
}

static void test_trend(void **state)
{
	const uint64_t down[] = { 1000, 800, 640, 512, 410, 328 };
	const uint64_t flat[] = { 500, 510, 495, 505, 500, 498 };
	const uint64_t up[] = { 100, 150, 220, 330, 500, 750 };
	const uint64_t zero[] = { 0, 0, 0, 0 };
	const uint64_t two[] = { 10, 1 };
	/* the window is the last 8: an old peak does not count */
	const uint64_t late[] = { 5000, 5000, 5000, 100, 120, 140, 160, 180, 200, 220, 240 };

	(void)state;
	assert_int_equal(trend_of(down, 6), MODEL_TREND_CONVERGING);
	assert_int_equal(trend_of(flat, 6), MODEL_TREND_FLAT);
	assert_int_equal(trend_of(up, 6), MODEL_TREND_DIVERGING);
	assert_int_equal(trend_of(zero, 4), MODEL_TREND_CONVERGING);
	assert_int_equal(trend_of(two, 2), MODEL_TREND_UNKNOWN);
	assert_int_equal(trend_of(late, 11), MODEL_TREND_DIVERGING);
}

static void test_hottest_region(void **state)
{
	struct model *m = new_model(IBD_RULE_CURRENT, 0);
	struct model_snapshot s;
	uint64_t base = 0x40000000, bid, rid, i;
	struct model_row *r;
	int rep;

	(void)state;
	for (rep = 0; rep < 5; rep++) {
		bid = next_id++;
		rid = next_id++;
		rec_alloc(m, rep * SEC, bid, base, 1ull << 30, 4096);
		rec_begin(m, rep * SEC + 1, bid, rid, "0000:00:04.0");
		/* background: one page every 16 MiB */
		for (i = 0; i < 64; i++)
			rec_range(m, rep * SEC + 2, bid, rid, base + i * 16 * MiB, 4096);
		/* the hot spot: 4 MiB at +288 MiB, every page */
		rec_range(m, rep * SEC + 2, bid, rid, base + 288 * MiB, 4 * MiB);
		rec_end(m, rep * SEC + 3, bid, rid, 0);
		rec_free(m, rep * SEC + 4, bid);
	}
	assert_int_equal(model_snapshot(m, 5 * SEC, 0, false, NULL, &s), 0);
	r = &s.rows[0];
	assert_true(r->hot_iova == base + 288 * MiB);
	assert_int_equal(r->hot_length, 4 * MiB);
	assert_true(r->tracked_iova == base);
	assert_int_equal(r->tracked_length, 1ull << 30);
	/* bucket 18 of 64 (16 MiB each) holds the hot spot */
	for (i = 0; i < MODEL_HEAT_BUCKETS; i++)
		if (i != 18)
			assert_true(r->heat[i] < r->heat[18] / 100);
	assert_int_equal(r->dirty_pages_last, 64 + 1024 - 1);
	model_free(m);
}

/* Three ranges read one after another make one iteration. */
static void test_iterations_multi_range(void **state)
{
	struct model *m = new_model(IBD_RULE_CURRENT, 0);
	struct model_snapshot s;
	const uint64_t ranges[3] = { 0, 1ull << 30, 4ull << 30 };
	uint64_t ts = 0;
	int pass, k;

	(void)state;
	for (pass = 0; pass < 4; pass++)
		for (k = 0; k < 3; k++) {
			ts += 100 * MS;
			report(m, ts, "0000:00:05.0", ranges[k], 256 * MiB, ranges[k],
			       (uint64_t)(100 * (k + 1) * (4 - pass)));
		}
	/* the first pass closes when range 0 comes back; the others at once */
	assert_int_equal(seen.iterations, 4);
	assert_int_equal(seen.its[0].reports, 3);
	assert_int_equal(seen.its[0].dirty_pages, 600 * 4);
	assert_int_equal(seen.its[1].dirty_pages, 600 * 3);
	assert_int_equal(seen.its[3].dirty_pages, 600 * 1);
	assert_int_equal(seen.its[3].covered_bytes, 3 * 256 * MiB);
	assert_true(seen.its[0].dirty_bytes_per_s == 0);
	/* pass 1: 1800 pages over the 300 ms since pass 0 ended */
	assert_true(seen.its[1].dirty_bytes_per_s > 1800.0 * 4096 / 0.3 * 0.999 &&
		    seen.its[1].dirty_bytes_per_s < 1800.0 * 4096 / 0.3 * 1.001);
	assert_int_equal(model_snapshot(m, ts + SEC, 0, false, NULL, &s), 0);
	assert_int_equal(s.rows[0].iterations, 4);
	assert_int_equal(s.rows[0].dirty_pages_iter, 600);
	assert_int_equal(s.rows[0].trend, MODEL_TREND_CONVERGING);
	model_free(m);
}

static void test_lost_incomplete(void **state)
{
	struct model *m = new_model(IBD_RULE_CURRENT, 0);
	struct model_snapshot s;
	struct model_anomaly a[MODEL_ANOM_LOG];
	size_t n, i;
	bool no_end = false;

	(void)state;
	/* records lost while a report is open: it cannot be trusted */
	rec_alloc(m, 10, 1, 0, 16 * MiB, 4096);
	rec_begin(m, 11, 1, 2, "0000:00:06.0");
	rec_range(m, 12, 1, 2, 0, 4096);
	rec_lost(m, 13, 7);
	rec_end(m, 14, 1, 2, 0);
	assert_true(seen.last.flags & IOVA_REPORT_INCOMPLETE);
	rec_free(m, 15, 1);

	/* the kernel counted drops of this report */
	rec_alloc(m, 20, 3, 0, 16 * MiB, 4096);
	rec_begin(m, 21, 3, 4, "0000:00:06.0");
	rec_end(m, 22, 3, 4, 2);
	assert_true(seen.last.flags & IOVA_REPORT_INCOMPLETE);
	assert_int_equal(seen.last.lost, 2);
	rec_free(m, 23, 3);

	/* END never came: FREE finishes it */
	rec_alloc(m, 30, 5, 0, 16 * MiB, 4096);
	rec_begin(m, 31, 5, 6, "0000:00:06.0");
	rec_range(m, 32, 5, 6, 0, 8192);
	rec_free(m, 33, 5);
	assert_int_equal(seen.reports, 3);
	assert_true(seen.last.flags & IOVA_REPORT_INCOMPLETE);
	assert_int_equal(seen.last.dirty_pages, 2);

	/* a clean one is not marked */
	report(m, 40, "0000:00:06.0", 0, 16 * MiB, 0, 1);
	assert_int_equal(seen.last.flags, 0);

	/* open at the end of the trace: model_finish closes it */
	rec_alloc(m, 50, 7, 0, 16 * MiB, 4096);
	rec_begin(m, 51, 7, 8, "0000:00:06.0");
	assert_int_equal(model_snapshot(m, 60, 0, false, NULL, &s), 0);
	assert_int_equal(s.open_reports, 1);
	model_finish(m);
	assert_int_equal(seen.reports, 5);
	assert_true(seen.last.flags & IOVA_REPORT_INCOMPLETE);

	assert_int_equal(model_snapshot(m, 70, 0, false, NULL, &s), 0);
	assert_int_equal(s.lost, 7);
	assert_int_equal(s.incomplete, 4);
	assert_int_equal(s.open_reports, 0);
	assert_int_equal(s.rows[0].incomplete, 4);
	assert_int_equal(s.rows[0].lost, 2);
	assert_int_equal(s.rows[0].reports, 5);
	n = model_anomalies(m, a, MODEL_ANOM_LOG);
	for (i = 0; i < n; i++)
		if (a[i].kind == MODEL_ANOM_NO_END)
			no_end = true;
	assert_true(no_end);
	model_free(m);
}

/*
 * Seen: a row "iommufd hwpt 18 ... 0 -" with pid 0 and no name while its
 * first report was still open. The process asking is known at BEGIN.
 */
static void test_open_first_report_has_its_process(void **state)
{
	struct model *m = new_model(IBD_RULE_CURRENT, 0);
	struct model_snapshot s;

	(void)state;
	task_pid = 87;
	rec_alloc(m, 10, 1, 0, 16 * MiB, 4096);
	rec_begin(m, 11, 1, 2, "#18");
	assert_int_equal(model_snapshot(m, 20, 0, false, NULL, &s), 0);
	assert_int_equal(s.nrows, 1);
	assert_int_equal(s.rows[0].reports, 0);
	/* no context in a synthetic record: named by its process */
	assert_string_equal(s.rows[0].name, "iommufd hwpt 18 pid 87");
	assert_int_equal(s.rows[0].pid, 87);
	assert_string_equal(s.rows[0].comm, "qemu-system");
	task_pid = 4242;
	model_free(m);
}

/*
 * Runs the kernel skipped (IOVA_LOST_SKIPPED) may have been any open
 * report's calls; a report the tracer's map had no room for
 * (IOVA_LOST_MAP_FULL) is untraced and leaves the open ones whole. Both
 * count as lost.
 */
static void test_lost_stages(void **state)
{
	struct model *m = new_model(IBD_RULE_CURRENT, 0);
	struct model_snapshot s;

	(void)state;
	rec_alloc(m, 10, 1, 0, 16 * MiB, 4096);
	rec_begin(m, 11, 1, 2, "0000:00:06.0");
	rec_range(m, 12, 1, 2, 0, 4096);
	rec_lost_where(m, 13, 2, IOVA_LOST_MAP_FULL);
	rec_end(m, 14, 1, 2, 0);
	assert_int_equal(seen.last.flags & IOVA_REPORT_INCOMPLETE, 0);
	rec_free(m, 15, 1);

	rec_alloc(m, 20, 3, 0, 16 * MiB, 4096);
	rec_begin(m, 21, 3, 4, "0000:00:06.0");
	rec_range(m, 22, 3, 4, 0, 4096);
	rec_lost_where(m, 23, 5, IOVA_LOST_SKIPPED);
	rec_end(m, 24, 3, 4, 0);
	assert_true(seen.last.flags & IOVA_REPORT_INCOMPLETE);
	rec_free(m, 25, 3);

	assert_int_equal(model_snapshot(m, 30, 0, false, NULL, &s), 0);
	assert_int_equal(s.lost, 7);
	assert_int_equal(s.incomplete, 1);
	model_free(m);
}

static void test_no_begin(void **state)
{
	struct model *m = new_model(IBD_RULE_CURRENT, 0);

	(void)state;
	/* BEGIN lost: the ranges still count, under the asking process */
	rec_alloc(m, 10, 1, 0, 16 * MiB, 4096);
	rec_range(m, 12, 1, 2, 0, 4096);
	rec_end(m, 14, 1, 2, 0);
	assert_int_equal(seen.reports, 1);
	assert_true(seen.last.flags & IOVA_REPORT_NO_BEGIN);
	assert_string_equal(seen.device, "unknown pid 4242");
	assert_int_equal(seen.last.dirty_pages, 1);
	model_free(m);
}

static void test_anomalies(void **state)
{
	struct model *m = new_model(IBD_RULE_CURRENT, 0);
	struct iova_rec_anomaly an = {
		.hdr = { IOVA_REC_ANOMALY, sizeof(an), 0, 13 },
		.bitmap_id = 1, .report_id = 2, .iova = 0x2000000, .length = 4096,
		.kind = IOVA_ANOM_BEYOND_END,
	};
	struct iova_rec_alloc bad = {
		.hdr = { IOVA_REC_ALLOC, sizeof(bad), 0, 30 }, .bitmap_id = 9,
		.ret = -ENOMEM,
	};
	struct model_anomaly a[MODEL_ANOM_LOG];
	struct model_snapshot s;
	size_t n;

	(void)state;
	rec_alloc(m, 10, 1, 0, 16 * MiB, 4096);
	rec_begin(m, 11, 1, 2, "0000:00:07.0");
	rec_range(m, 12, 1, 2, 0x2000000, 4096);	/* past the end */
	apply(m, &an);
	rec_range(m, 14, 1, 2, 0x1000, 4096);
	rec_end(m, 15, 1, 2, 0);
	assert_true(seen.last.flags & IOVA_REPORT_ANOMALY);
	assert_true(seen.last.anomalies >= 1);
	assert_int_equal(seen.last.dirty_pages, 1);	/* nothing outside stored */
	apply(m, &bad);
	assert_int_equal(model_snapshot(m, 40, 0, false, NULL, &s), 0);
	assert_int_equal(s.anomalies, 2);
	assert_int_equal(s.rows[0].anomalies, 1);
	n = model_anomalies(m, a, MODEL_ANOM_LOG);
	assert_int_equal(n, 2);
	assert_int_equal(a[0].kind, IOVA_ANOM_BEYOND_END);
	assert_int_equal(a[0].count, 2);	/* the rebuild's and the record */
	assert_string_equal(a[0].device, "vfio 0000:00:07.0");
	assert_int_equal(a[1].kind, MODEL_ANOM_ALLOC_FAILED);
	assert_non_null(strstr(model_anomaly_name(a[1].kind), "allocation"));
	/* a smaller buffer gets the newest */
	n = model_anomalies(m, a, 1);
	assert_int_equal(n, 1);
	assert_int_equal(a[0].kind, MODEL_ANOM_ALLOC_FAILED);
	model_free(m);
}

static void test_windows(void **state)
{
	struct model *m = new_model(IBD_RULE_V6_1_Y, 0);
	struct iova_rec_window w = {
		.hdr = { IOVA_REC_WINDOW, sizeof(w), 0, 12 },
		.bitmap_id = 1, .report_id = 2,
	};
	/* 128 GiB at 4 KiB: 4 MiB of bitmap, two 6.1 windows */
	uint64_t len = 128ull << 30;

	(void)state;
	rec_alloc(m, 10, 1, 0, len, 4096);
	rec_begin(m, 11, 1, 2, "0000:00:08.0");
	apply(m, &w);
	rec_range(m, 12, 1, 2, 0, 4096);
	w.base_index = (64ull << 30) / 4096 / 64;	/* u64 words */
	w.iova = 64ull << 30;
	apply(m, &w);
	rec_range(m, 13, 1, 2, (64ull << 30) + 4096, 4096);
	rec_range(m, 13, 1, 2, len - 4096, 4096);
	rec_end(m, 14, 1, 2, 0);
	assert_int_equal(seen.last.windows, 2);
	assert_int_equal(seen.last.dirty_pages, 3);
	assert_non_null(seen.last.bitmap);
	assert_true(seen.last.bitmap->words[0] == 1);
	assert_true(seen.last.bitmap->words[(64ull << 30) / 4096 / 64] == 2);
	model_free(m);
}

static void test_not_rebuilt(void **state)
{
	struct model *m = new_model(IBD_RULE_CURRENT, 64);	/* 4096 pages max */
	struct model_snapshot s;

	(void)state;
	report(m, 10, "0000:00:09.0", 0, 64 * MiB, 0, 5);
	assert_null(seen.last.bitmap);
	assert_int_equal(seen.last.dirty_pages, 5);	/* from the ranges */
	report(m, 20, "0000:00:09.0", 0, 1 * MiB, 0, 5);
	assert_non_null(seen.last.bitmap);
	assert_int_equal(model_snapshot(m, 30, 0, false, NULL, &s), 0);
	assert_int_equal(s.not_rebuilt, 1);
	model_free(m);
}

/*
 * The default cap is 64 MiB of bitmap, which is 2 TiB of guest at 4 KiB
 * pages exactly: 2 TiB is rebuilt, one page more is not, and says so in
 * one sentence that names the --max-bitmap to give; with that, 4 TiB is
 * rebuilt.
 */
static void test_bitmap_cap_exact(void **state)
{
	const uint64_t TiB = 1ull << 40;
	struct model *m = new_model(IBD_RULE_CURRENT, 0);
	struct model_snapshot s;
	char note[512];

	(void)state;
	report(m, 10, "0000:00:0a.0", 0, 2 * TiB, 2 * TiB - 4 * 8192, 4);
	assert_non_null(seen.last.bitmap);
	assert_int_equal(seen.bitmap_words * 8, 64 * MiB);
	assert_int_equal(seen.last.dirty_pages, 4);
	assert_int_equal(model_snapshot(m, 20, 0, false, NULL, &s), 0);
	assert_int_equal(s.too_large, 0);
	assert_int_equal(model_too_large_note(&s, note, sizeof(note)), 0);
	assert_string_equal(note, "");
	assert_true(row(&s, "vfio 0000:00:0a.0")->hot_length > 0);

	report(m, 30, "0000:00:0a.0", 0, 2 * TiB + 4096, 0, 3);
	assert_null(seen.last.bitmap);
	assert_int_equal(seen.last.dirty_pages, 3);	/* from the ranges */
	assert_int_equal(model_snapshot(m, 40, 0, false, NULL, &s), 0);
	assert_int_equal(s.too_large, 1);
	assert_int_equal(s.too_large_length, 2 * TiB + 4096);
	assert_int_equal(s.max_bitmap_bytes, 64 * MiB);
	assert_true(model_too_large_note(&s, note, sizeof(note)) > 0);
	assert_non_null(strstr(note, "1 report was not rebuilt"));
	assert_non_null(strstr(note, "2048.0 GiB"));
	assert_non_null(strstr(note, "--max-bitmap 65M"));
	model_free(m);

	m = new_model(IBD_RULE_CURRENT, 128 * MiB);
	report(m, 10, "0000:00:0a.0", 0, 4 * TiB, 4 * TiB - 8192, 1);
	assert_non_null(seen.last.bitmap);
	assert_int_equal(seen.last.dirty_pages, 1);
	assert_int_equal(model_snapshot(m, 20, 0, false, NULL, &s), 0);
	assert_int_equal(s.too_large, 0);
	assert_int_equal(row(&s, "vfio 0000:00:0a.0")->hot_iova, 4 * TiB - 8192);
	model_free(m);
}

static void test_zero_rows(void **state)
{
	struct model *m = new_model(IBD_RULE_CURRENT, 0);
	struct model_snapshot s;

	(void)state;
	assert_int_equal(model_snapshot(m, 0, MODEL_SORT_RATE, false, NULL, &s), 0);
	assert_int_equal(s.nrows, 0);
	assert_int_equal(s.ndevices, 0);
	assert_true(s.dirty_mib_s == 0);
	assert_int_equal(model_snapshot(m, 5 * SEC, MODEL_SORT_NAME, true, "x", &s), 0);
	assert_int_equal(s.nrows, 0);
	model_finish(m);
	report(m, 6 * SEC, "0000:00:0a.0", 0, MiB, 0, 1);
	assert_int_equal(model_snapshot(m, 7 * SEC, 0, false, "nomatch", &s), 0);
	assert_int_equal(s.ndevices, 1);
	assert_int_equal(s.nrows, 0);
	assert_int_equal(model_snapshot(m, 8 * SEC, 0, false, "0a.0", &s), 0);
	assert_int_equal(s.nrows, 1);
	model_free(m);
	model_free(NULL);
}

static void test_sorting(void **state)
{
	struct model *m = new_model(IBD_RULE_CURRENT, 0);
	struct model_snapshot s;

	(void)state;
	report(m, 1 * MS, "0000:00:0b.0", 0, 16 * MiB, 0, 10);
	report(m, 2 * MS, "0000:00:0c.0", 0, 16 * MiB, 0, 300);
	report(m, 3 * MS, "0000:00:0d.0", 0, 16 * MiB, 0, 50);
	assert_int_equal(model_snapshot(m, SEC, MODEL_SORT_RATE, false, NULL, &s), 0);
	assert_string_equal(s.rows[0].name, "vfio 0000:00:0c.0");
	assert_string_equal(s.rows[2].name, "vfio 0000:00:0b.0");
	assert_int_equal(model_snapshot(m, SEC, MODEL_SORT_RATE, true, NULL, &s), 0);
	assert_string_equal(s.rows[0].name, "vfio 0000:00:0b.0");
	assert_int_equal(model_snapshot(m, SEC, MODEL_SORT_NAME, false, NULL, &s), 0);
	assert_string_equal(s.rows[0].name, "vfio 0000:00:0b.0");
	assert_string_equal(s.rows[1].name, "vfio 0000:00:0c.0");
	assert_int_equal(model_snapshot(m, SEC, MODEL_SORT_DIRTY, false, NULL, &s), 0);
	assert_string_equal(s.rows[1].name, "vfio 0000:00:0d.0");
	model_free(m);
}

/* Totals since the start: what the view's cumulative mode shows and sorts. */
static void test_totals(void **state)
{
	struct model *m = new_model(IBD_RULE_CURRENT, 0);
	struct model_snapshot s;
	struct model_row *r;

	(void)state;
	/* b: 1000 pages in the first second, a: 10 + 10 pages, then 400 */
	report(m, 1 * MS, "0000:00:0b.0", 0, 16 * MiB, 0, 1000);
	report(m, 2 * MS, "0000:00:0a.0", 0, 16 * MiB, 0, 10);
	report(m, 3 * MS, "0000:00:0a.0", 0, 16 * MiB, 0, 10);
	assert_int_equal(model_snapshot(m, SEC, MODEL_SORT_RATE, false, NULL, &s), 0);
	assert_int_equal(s.start_ns, 1 * MS);
	report(m, SEC + MS, "0000:00:0a.0", 0, 16 * MiB, 0, 400);
	assert_int_equal(model_snapshot(m, 2 * SEC, MODEL_SORT_RATE, false, NULL, &s), 0);
	/* this interval a is the faster */
	assert_string_equal(s.rows[0].name, "vfio 0000:00:0a.0");
	r = row(&s, "vfio 0000:00:0a.0");
	assert_int_equal(r->dirty_pages_total, 420);
	assert_int_equal(r->bitmap_pages_total, 3 * 4096);
	assert_int_equal(s.start_ns, 1 * MS);
	/* since the start b dirtied more */
	model_sort_totals(m, true);
	assert_int_equal(model_snapshot(m, 2 * SEC, MODEL_SORT_RATE, false, NULL, &s), 0);
	assert_string_equal(s.rows[0].name, "vfio 0000:00:0b.0");
	assert_int_equal(model_snapshot(m, 2 * SEC, MODEL_SORT_REPORTS, false, NULL, &s), 0);
	assert_string_equal(s.rows[0].name, "vfio 0000:00:0a.0");	/* 3 reports */
	assert_int_equal(model_snapshot(m, 2 * SEC, MODEL_SORT_DIRTY, false, NULL, &s), 0);
	assert_string_equal(s.rows[0].name, "vfio 0000:00:0b.0");	/* 1000 vs 140 */
	assert_int_equal(model_snapshot(m, 2 * SEC, MODEL_SORT_DIRTY, true, NULL, &s), 0);
	assert_string_equal(s.rows[0].name, "vfio 0000:00:0a.0");
	model_sort_totals(m, false);
	assert_int_equal(model_snapshot(m, 2 * SEC, MODEL_SORT_RATE, false, NULL, &s), 0);
	assert_string_equal(s.rows[0].name, "vfio 0000:00:0a.0");
	model_free(m);
}

/* 'g': the rows of a process together, processes by their first row. */
static void test_group(void **state)
{
	struct model *m = new_model(IBD_RULE_CURRENT, 0);
	struct model_snapshot s;
	static const char *const want[] = {
		"vfio 0000:00:01.0", "vfio 0000:00:03.0", "vfio 0000:00:02.0",
		"vfio 0000:00:04.0", "vfio 0000:00:05.0",
	};
	uint32_t i;

	(void)state;
	/* by rate: 1 (pid 10), 2 (20), 3 (10), 4 (20), 5 (pid 0, unseen) */
	task_pid = 10;
	report(m, 1 * MS, "0000:00:01.0", 0, 16 * MiB, 0, 500);
	report(m, 2 * MS, "0000:00:03.0", 0, 16 * MiB, 0, 300);
	task_pid = 20;
	report(m, 3 * MS, "0000:00:02.0", 0, 16 * MiB, 0, 400);
	report(m, 4 * MS, "0000:00:04.0", 0, 16 * MiB, 0, 200);
	task_pid = 0;
	report(m, 5 * MS, "0000:00:05.0", 0, 16 * MiB, 0, 100);
	task_pid = 4242;
	model_group_by_process(m, true);
	assert_int_equal(model_snapshot(m, SEC, MODEL_SORT_RATE, false, NULL, &s), 0);
	assert_int_equal(s.nrows, 5);
	for (i = 0; i < 5; i++)
		assert_string_equal(s.rows[i].name, want[i]);
	/* a filter first, then the groups */
	assert_int_equal(model_snapshot(m, SEC, MODEL_SORT_RATE, false, "pid=20", &s), 0);
	assert_int_equal(s.nrows, 2);
	assert_string_equal(s.rows[0].name, "vfio 0000:00:02.0");
	model_group_by_process(m, false);
	assert_int_equal(model_snapshot(m, SEC, MODEL_SORT_RATE, false, NULL, &s), 0);
	assert_string_equal(s.rows[1].name, "vfio 0000:00:02.0");
	model_free(m);
}

static void test_bad_records(void **state)
{
	struct model *m = new_model(IBD_RULE_CURRENT, 0);
	struct iova_rec_range r = { .hdr = { IOVA_REC_RANGE, 48, 0, 1 } };
	struct { struct iova_rec_hdr hdr; uint64_t x; } unknown = {
		.hdr = { 200, 24, 0, 2 },
	};

	(void)state;
	assert_int_equal(model_apply(m, &r.hdr), -EINVAL);
	assert_int_equal(model_apply(m, &unknown.hdr), 0);
	assert_int_equal(model_records(m, 0), 1);
	assert_int_equal(model_records(m, IOVA_REC_RANGE), 0);
	/* a range on a bitmap never allocated: counted, not rebuilt */
	r.hdr.size = sizeof(r);
	r.bitmap_id = 77;
	r.report_id = 78;
	r.length = 4096;
	assert_int_equal(model_apply(m, &r.hdr), 0);
	model_finish(m);
	assert_int_equal(seen.reports, 1);
	assert_null(seen.last.bitmap);
	assert_true(seen.last.flags & IOVA_REPORT_INCOMPLETE);
	model_free(m);
}

static void test_verify(void **state)
{
	struct model *m = new_model(IBD_RULE_CURRENT, 0);
	struct iova_rec_verify v = {
		.hdr = { IOVA_REC_VERIFY, sizeof(v), 0, 100 },
		.status = IOVA_VERIFY_MISMATCH, .mismatches = 1,
	};
	struct model_snapshot s;

	(void)state;
	report(m, 10, "0000:00:0e.0", 0, MiB, 0, 1);
	v.bitmap_id = seen.last.bitmap_id;
	v.report_id = seen.last.report_id;
	apply(m, &v);
	v.status = IOVA_VERIFY_OK;
	apply(m, &v);
	assert_int_equal(model_snapshot(m, 200, 0, false, NULL, &s), 0);
	assert_int_equal(s.rows[0].verified, 2);
	assert_int_equal(s.rows[0].verify_mismatch, 1);
	assert_int_equal(s.anomalies, 1);
	model_free(m);
}

/*
 * A read-back that was skipped (too large, a chunk lost or faulted)
 * verified nothing: it must not count as verified.
 */
static void test_verify_skipped(void **state)
{
	struct model *m = new_model(IBD_RULE_CURRENT, 0);
	struct iova_rec_verify v = {
		.hdr = { IOVA_REC_VERIFY, sizeof(v), 0, 100 },
		.status = IOVA_VERIFY_SKIPPED,
	};
	struct model_snapshot s;

	(void)state;
	report(m, 10, "0000:00:0e.0", 0, MiB, 0, 1);
	v.bitmap_id = seen.last.bitmap_id;
	v.report_id = seen.last.report_id;
	apply(m, &v);
	report(m, 20, "0000:00:0e.0", 0, MiB, 0, 1);
	v.bitmap_id = seen.last.bitmap_id;
	v.report_id = seen.last.report_id;
	v.status = IOVA_VERIFY_OK;
	apply(m, &v);
	assert_int_equal(model_snapshot(m, 200, 0, false, NULL, &s), 0);
	assert_int_equal(s.rows[0].reports, 2);
	assert_int_equal(s.rows[0].verified, 1);
	assert_int_equal(s.rows[0].verify_mismatch, 0);
	assert_int_equal(s.rows[0].verify_skipped, 1);
	model_free(m);
}

/* A LOST without a time (older recorders) starts no interval at 0. */
static void test_lost_without_time(void **state)
{
	struct model *m = new_model(IBD_RULE_CURRENT, 0);
	struct model_snapshot s;

	(void)state;
	rec_lost(m, 0, 3);
	report(m, 5000000000ull, "0000:00:0e.0", 0, MiB, 0, 1);
	assert_int_equal(model_snapshot(m, 6000000000ull, 0, false, NULL, &s), 0);
	assert_int_equal(s.start_ns, 5000000000ull);
	assert_int_equal(s.lost, 3);
	model_free(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_attribution),
		cmocka_unit_test(test_iommufd_contexts),
		cmocka_unit_test(test_heat_top_of_space),
		cmocka_unit_test(test_rebuild_bits),
		cmocka_unit_test(test_rates),
		cmocka_unit_test(test_trend),
		cmocka_unit_test(test_hottest_region),
		cmocka_unit_test(test_iterations_multi_range),
		cmocka_unit_test(test_lost_incomplete),
		cmocka_unit_test(test_open_first_report_has_its_process),
		cmocka_unit_test(test_lost_stages),
		cmocka_unit_test(test_no_begin),
		cmocka_unit_test(test_anomalies),
		cmocka_unit_test(test_windows),
		cmocka_unit_test(test_not_rebuilt),
		cmocka_unit_test(test_bitmap_cap_exact),
		cmocka_unit_test(test_zero_rows),
		cmocka_unit_test(test_sorting),
		cmocka_unit_test(test_totals),
		cmocka_unit_test(test_group),
		cmocka_unit_test(test_bad_records),
		cmocka_unit_test(test_verify),
		cmocka_unit_test(test_verify_skipped),
		cmocka_unit_test(test_lost_without_time),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
