// SPDX-License-Identifier: GPL-2.0
/*
 * test_view_run.c - the loop live mode and replay share, without a
 * terminal: where interval boundaries fall, what a record past one does,
 * the clock, COUNT, long gaps, the end of a trace, and re-sorting at the
 * last boundary without disturbing the rates.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "view.h"

#define S	1000000000ull
#define T0	(1000 * S)

struct fixture {
	struct model *m;
	struct view_run r;
	char *out;
	size_t len;
	uint64_t bitmap_id;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct model_opts mo = { 0 };

	if (!f)
		return -1;
	f->m = model_new(&mo);
	if (!f->m)
		return -1;
	view_run_init(&f->r, f->m, S, 0);
	f->r.batch = open_memstream(&f->out, &f->len);
	f->r.meta.source = "t";
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	fclose(f->r.batch);
	free(f->out);
	model_free(f->m);
	free(f);
	return 0;
}

static void hdr(struct iova_rec_hdr *h, unsigned int type, uint64_t ts)
{
	h->type = (uint16_t)type;
	h->size = (uint16_t)iova_rec_size(type);
	h->ts_ns = ts;
}

/* One report of 256 dirty 4 KiB pages (1 MiB) on device 0000:3b:00.<dev>. */
static int report(struct fixture *f, uint64_t ts, unsigned int dev)
{
	struct iova_rec_alloc a = { 0 };
	struct iova_rec_report_begin b = { 0 };
	struct iova_rec_range r = { 0 };
	struct iova_rec_report_end e = { 0 };
	int err = 0;

	f->bitmap_id++;
	hdr(&a.hdr, IOVA_REC_ALLOC, ts);
	a.bitmap_id = f->bitmap_id;
	a.length = 1ull << 30;
	a.page_size = 4096;
	err |= view_run_record(&f->r, &a.hdr);
	hdr(&b.hdr, IOVA_REC_REPORT_BEGIN, ts);
	b.bitmap_id = f->bitmap_id;
	b.report_id = f->bitmap_id;
	b.path = IOVA_PATH_VFIO;
	b.length = 1ull << 30;
	snprintf(b.devname, sizeof(b.devname), "0000:3b:00.%u", dev);
	err |= view_run_record(&f->r, &b.hdr);
	hdr(&r.hdr, IOVA_REC_RANGE, ts);
	r.bitmap_id = f->bitmap_id;
	r.report_id = f->bitmap_id;
	r.iova = 0x100000;
	r.length = 256 * 4096;
	r.ncalls = 256;
	err |= view_run_record(&f->r, &r.hdr);
	hdr(&e.hdr, IOVA_REC_REPORT_END, ts);
	e.bitmap_id = f->bitmap_id;
	e.report_id = f->bitmap_id;
	e.ranges = 1;
	e.set_calls = 256;
	err |= view_run_record(&f->r, &e.hdr);
	return err;
}

static int blocks(struct fixture *f)
{
	const char *p;
	int n = 0;

	fflush(f->r.batch);
	for (p = f->out; p && (p = strstr(p, "\niovatop ")); p++)
		n++;
	return n + (f->out && !strncmp(f->out, "iovatop ", 8));
}

static void test_boundaries_on_the_grid(void **state)
{
	struct fixture *f = *state;

	/* started 0.3 s past a second: the first interval is 0.7 s long */
	view_run_start(&f->r, T0 + S * 3 / 10);
	assert_int_equal(f->r.next_tick_ns, T0 + S);
	{
		FILE *out = f->r.batch;

		view_run_init(&f->r, f->m, S, 0);
		f->r.batch = out;
	}
	/* 0.4 s to go is too short for rates: the first interval is 1.4 s */
	view_run_start(&f->r, T0 + S * 6 / 10);
	assert_int_equal(f->r.next_tick_ns, T0 + 2 * S);
}

static void test_record_past_boundary(void **state)
{
	struct fixture *f = *state;

	view_run_start(&f->r, T0);
	assert_int_equal(f->r.next_tick_ns, T0 + S);
	assert_int_equal(report(f, T0 + S / 2, 1), 0);
	assert_int_equal(f->r.shown, 0);
	/* a record in the next interval emits the boundary before it counts */
	assert_int_equal(report(f, T0 + S + 1, 1), 0);
	assert_int_equal(f->r.shown, 1);
	assert_int_equal(f->r.last_tick_ns, T0 + S);
	assert_int_equal(f->r.snap.nrows, 1);
	/* one report of 1 MiB in the interval: 1 MiB/s */
	assert_true(f->r.snap.rows[0].dirty_mib_s > 0.999 &&
		    f->r.snap.rows[0].dirty_mib_s < 1.001);
	assert_int_equal(blocks(f), 1);
	assert_non_null(strstr(f->out, "+1.000s"));

	/* the clock emits boundaries nobody crossed with a record */
	assert_int_equal(view_run_clock(&f->r, T0 + 3 * S + 5), 2);
	assert_int_equal(f->r.shown, 3);
	assert_true(f->r.snap.rows[0].dirty_mib_s == 0);
	assert_int_equal(view_run_clock(&f->r, T0 + 3 * S + 6), 0);
	/* a record from before the last boundary counts in the current one */
	assert_int_equal(report(f, T0 + 2 * S, 2), 0);
	assert_int_equal(f->r.shown, 3);
	view_run_clock(&f->r, T0 + 4 * S);
	assert_int_equal(f->r.snap.nrows, 2);
}

static void test_count_stops(void **state)
{
	struct fixture *f = *state;

	f->r.count = 2;
	view_run_start(&f->r, T0);
	assert_int_equal(report(f, T0 + 1, 1), 0);
	assert_int_equal(view_run_clock(&f->r, T0 + 10 * S), 2);
	assert_true(f->r.done);
	/* the source is told to stop, the record is not applied */
	assert_int_equal(report(f, T0 + 11 * S, 1), 1);
	assert_int_equal(f->r.shown, 2);
	assert_int_equal(blocks(f), 2);
}

static void test_long_gap(void **state)
{
	struct fixture *f = *state;

	view_run_start(&f->r, T0);
	assert_int_equal(report(f, T0 + 1, 1), 0);
	/* a day later: one interval for the gap, not 86400 */
	assert_int_equal(report(f, T0 + 86400 * S + 7, 1), 0);
	assert_true(f->r.shown <= 2);
	assert_int_equal(f->r.next_tick_ns, T0 + 86401 * S);
}

static void test_finish(void **state)
{
	struct fixture *f = *state;

	view_run_start(&f->r, T0);
	assert_int_equal(report(f, T0 + S / 4, 1), 0);
	assert_int_equal(report(f, T0 + S + S / 4, 1), 0);
	assert_int_equal(f->r.shown, 1);
	view_run_finish(&f->r);
	/* the interval the last records fell in is shown, marked as the end */
	assert_int_equal(f->r.shown, 2);
	assert_true(f->r.meta.at_end);
	assert_non_null(strstr(f->out, "+2.000s  [end of trace]"));
}

static void test_finish_empty(void **state)
{
	struct fixture *f = *state;

	/* nothing at all: still one block to look at, with zero rows */
	view_run_finish(&f->r);
	assert_int_equal(f->r.shown, 1);
	assert_non_null(strstr(f->out, "devices 0 (0 shown)"));
}

static void test_resort_keeps_rates(void **state)
{
	struct fixture *f = *state;
	double a, b;

	view_run_start(&f->r, T0);
	assert_int_equal(report(f, T0 + 1, 1), 0);
	assert_int_equal(report(f, T0 + 2, 1), 0);
	assert_int_equal(report(f, T0 + 3, 2), 0);
	view_run_clock(&f->r, T0 + S);
	assert_string_equal(f->r.snap.rows[0].name, "vfio 0000:3b:00.1");
	a = f->r.snap.rows[0].dirty_mib_s;
	b = f->r.snap.rows[1].dirty_mib_s;
	assert_true(a > b);
	/* what view_run_keys() does on 'r': the same boundary, the other order */
	f->r.st.reverse = true;
	model_snapshot(f->m, f->r.last_tick_ns, f->r.st.sort, f->r.st.reverse,
		       f->r.st.filter, &f->r.snap);
	assert_string_equal(f->r.snap.rows[0].name, "vfio 0000:3b:00.2");
	assert_true(f->r.snap.rows[0].dirty_mib_s == b);
	assert_true(f->r.snap.rows[1].dirty_mib_s == a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_boundaries_on_the_grid, setup, teardown),
		cmocka_unit_test_setup_teardown(test_record_past_boundary, setup, teardown),
		cmocka_unit_test_setup_teardown(test_count_stops, setup, teardown),
		cmocka_unit_test_setup_teardown(test_long_gap, setup, teardown),
		cmocka_unit_test_setup_teardown(test_finish, setup, teardown),
		cmocka_unit_test_setup_teardown(test_finish_empty, setup, teardown),
		cmocka_unit_test_setup_teardown(test_resort_keeps_rates, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
