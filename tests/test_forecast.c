// SPDX-License-Identifier: GPL-2.0
/*
 * test_forecast.c - the forecast's arithmetic against cases computed by
 * hand (each expected value is worked out in the comment above it), its
 * edge cases (no bandwidth, a quiet device, a completed migration), the
 * blame and the units of --link-rate and --downtime-limit.
 */
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "forecast.h"

#define SEC	1000000000ull
#define MB	1e6

static struct model_row rows[8];
static struct model_snapshot snap;

/* A device that finished iterations, the last one ending at end_s. */
static void add_row(const char *name, uint32_t pid, double rate,
		    double bytes, uint64_t iterations, double end_s)
{
	struct model_row *r = &rows[snap.nrows++];

	memset(r, 0, sizeof(*r));
	snprintf(r->name, sizeof(r->name), "%s", name);
	r->pid = pid;
	r->iter_bytes_per_s = rate;
	r->dirty_bytes_iter = (uint64_t)bytes;
	r->iterations = iterations;
	r->iter_end_ns = (uint64_t)(end_s * 1e9);
	r->trend = MODEL_TREND_FLAT;
}

static int setup(void **state)
{
	(void)state;
	memset(&snap, 0, sizeof(snap));
	snap.rows = rows;
	snap.now_ns = 100 * SEC;
	return 0;
}

static void converges_in_four(void **state)
{
	struct forecast_opts o = { 0 };
	struct forecast f;
	char line[256];

	(void)state;
	assert_int_equal(forecast_parse_rate("800M", &o.link_bytes_s), 0);
	assert_int_equal(forecast_parse_duration("10ms", &o.downtime_limit_s), 0);
	add_row("vfio 0000:00:05.0", 10, 10 * MB, 50 * MB, 3, 99.5);
	add_row("vfio 0000:00:06.0", 10, 15 * MB, 30 * MB, 3, 99.5);
	forecast_compute(&f, &o, &snap, NULL, NULL);

	/*
	 * bw 100 MB/s, dl 10 ms: threshold 1 MB. Pending 50 + 30 = 80 MB,
	 * dirtied 25 MB/s: rho 0.25, so 80 -> 20 -> 5 -> 1.25 -> 0.3125 MB,
	 * below 1 MB after 4 iterations. Expected downtime now 80/100 s.
	 */
	assert_int_equal(f.verdict, FORECAST_CONVERGES);
	assert_true(fabs(f.bw - 100 * MB) < 1);
	assert_true(fabs(f.threshold - 1 * MB) < 1);
	assert_true(fabs(f.pending - 80 * MB) < 1);
	assert_true(fabs(f.dirty_rate - 25 * MB) < 1);
	assert_int_equal(f.iters_left, 4);
	assert_true(fabs(f.expected_downtime - 0.8) < 1e-9);
	assert_int_equal(f.bw_src, FORECAST_SRC_OPTION);
	assert_int_equal(f.dl_src, FORECAST_SRC_OPTION);
	assert_int_equal(f.iteration, 3);
	/* shares of the link: 10 and 15 of 100 */
	assert_true(fabs(f.dev[0].share_link - 0.10) < 1e-9);
	assert_true(fabs(f.dev[1].share_link - 0.15) < 1e-9);
	assert_true(f.dev[0].share_qemu < 0);
	forecast_format_line(line, sizeof(line), &f, 200);
	assert_non_null(strstr(line, "converges in ~4 iters"));
	assert_non_null(strstr(line, "bw 100 MB/s assumed"));
	assert_non_null(strstr(line, "limit 10ms assumed"));
}

static void cannot_names_the_device(void **state)
{
	struct forecast_opts o = { .link_bytes_s = 10 * MB };
	struct forecast f;
	char text[512];

	(void)state;
	add_row("vfio 0000:00:05.0", 10, 40 * MB, 40 * MB, 5, 99.5);
	add_row("vfio 0000:00:06.0", 10, 3 * MB, 3 * MB, 5, 99.5);
	add_row("vfio 0000:00:07.0", 10, 0.5 * MB, 0.5 * MB, 5, 99.5);
	forecast_compute(&f, &o, &snap, NULL, NULL);

	/*
	 * 43.5 MB/s dirtied, 10 MB/s link: without .05 the rest (3.5) would
	 * shrink fast enough, so .05 alone is named. At 45 MB/s rho is 0.967
	 * and the threshold 13.5 MB: ceil(ln(0.3103) / ln(0.9667)) = 35
	 * iterations, too many; at 46 MB/s, 21: the link that would do lies
	 * between, and converges as the forecast says.
	 */
	assert_int_equal(f.verdict, FORECAST_CANNOT);
	assert_int_equal(f.dl_src, FORECAST_SRC_DEFAULT);
	assert_true(fabs(f.dl - 0.3) < 1e-12);
	assert_int_equal(f.nblame, 1);
	assert_int_equal(f.blame[0], 0);
	assert_true(f.dev[0].blamed);
	assert_false(f.dev[1].blamed);
	assert_true(f.needed_bw > 45 * MB && f.needed_bw < 46 * MB);
	forecast_format_verdict(text, sizeof(text), &f);
	assert_non_null(strstr(text, "cannot converge at 10.0 MB/s: vfio 0000:00:05.0 dirties 40.0 MB/s"));
	assert_non_null(strstr(text, "a link of 45."));
	{
		struct forecast g;
		struct forecast_opts o2 = { .link_bytes_s = f.needed_bw };

		forecast_compute(&g, &o2, &snap, NULL, NULL);
		assert_int_equal(g.verdict, FORECAST_CONVERGES);
		assert_true(g.iters_left <= FORECAST_SLOW_ITERS);
		o2.link_bytes_s = f.needed_bw * 0.99;
		forecast_compute(&g, &o2, &snap, NULL, NULL);
		assert_int_equal(g.verdict, FORECAST_CANNOT);
	}

	forecast_mark_rows(&f, &snap);
	assert_int_equal(rows[0].trend, MODEL_TREND_BLOCKS);
	assert_int_equal(rows[1].trend, MODEL_TREND_FLAT);
}

static void cannot_names_two(void **state)
{
	struct forecast_opts o = { .link_bytes_s = 5 * MB };
	struct forecast f;

	(void)state;
	add_row("b", 10, 5.5 * MB, 1 * MB, 4, 99);
	add_row("a", 10, 6 * MB, 1 * MB, 4, 99);
	add_row("c", 10, 4 * MB, 1 * MB, 4, 99);
	forecast_compute(&f, &o, &snap, NULL, NULL);
	/* 15.5 >= 5; without a: 9.5 >= 5; without b too: 4 < 5 */
	assert_int_equal(f.verdict, FORECAST_CANNOT);
	assert_int_equal(f.nblame, 2);
	assert_string_equal(f.dev[f.blame[0]].name, "a");
	assert_string_equal(f.dev[f.blame[1]].name, "b");
	assert_false(f.dev[2].blamed);
}

static void switchover_due(void **state)
{
	struct forecast_opts o = { .link_bytes_s = 100 * MB,
				   .downtime_limit_s = 0.3 };
	struct forecast f;

	(void)state;
	/* 20 MB pending under the 30 MB threshold: QEMU stops now */
	add_row("a", 10, 200 * MB, 20 * MB, 2, 99.9);
	forecast_compute(&f, &o, &snap, NULL, NULL);
	assert_int_equal(f.verdict, FORECAST_CONVERGES);
	assert_int_equal(f.iters_left, 0);
	assert_true(fabs(f.expected_downtime - 0.2) < 1e-9);
}

static void zero_bandwidth(void **state)
{
	struct qmp_migrate q = { .pid = 10, .seq = 1, .have_ram = true,
				 .ram_remaining = 64 * 1000000ull,
				 .page_size = 4096, .mbps = 0,
				 .have_params = true, .downtime_limit_ms = 300 };
	struct forecast f;
	char line[256];

	(void)state;
	snprintf(q.status, sizeof(q.status), "active");
	add_row("a", 10, 1 * MB, 1 * MB, 2, 99.9);
	/* nothing measured, no cap, no option: no division, no verdict */
	forecast_compute(&f, NULL, &snap, &q, NULL);
	assert_int_equal(f.verdict, FORECAST_UNKNOWN);
	assert_int_equal(f.bw_src, FORECAST_SRC_NONE);
	assert_true(f.expected_downtime < 0);
	assert_true(f.threshold == 0);
	assert_false(isnan(f.dev[0].share_link));
	forecast_format_line(line, sizeof(line), &f, 200);
	assert_non_null(strstr(line, "no bandwidth: give --link-rate or --qmp"));

	/* QEMU's cap stands in until it has measured */
	q.max_bandwidth = 128ull << 20;
	forecast_compute(&f, NULL, &snap, &q, NULL);
	assert_int_equal(f.bw_src, FORECAST_SRC_QEMU);
	assert_true(fabs(f.bw - 134217728.0) < 1);
	assert_int_equal(f.verdict, FORECAST_CONVERGES);
}

static void quiet_device(void **state)
{
	struct forecast_opts o = { .link_bytes_s = 10 * MB };
	struct forecast f;

	(void)state;
	/* 30 s since its last iteration (period 1 s): no longer migrating */
	add_row("old", 10, 20 * MB, 20 * MB, 3, 70);
	/* still reporting, but nothing finished: no rate yet */
	add_row("new", 10, 0, 0, 0, 0);
	add_row("live", 10, 2 * MB, 4 * MB, 3, 99);
	forecast_compute(&f, &o, &snap, NULL, NULL);
	assert_true(f.dev[0].quiet);
	assert_true(f.dev[0].rate == 0);
	assert_true(f.dev[1].quiet);
	assert_false(f.dev[2].quiet);
	/* only "live" counts: 2 MB/s, pending 4 MB, threshold 3 MB */
	assert_true(fabs(f.dirty_rate - 2 * MB) < 1);
	assert_true(fabs(f.pending - 4 * MB) < 1);
	assert_int_equal(f.verdict, FORECAST_CONVERGES);
	/* rho 0.2: 4 -> 0.8 MB, under 3 MB after 1 */
	assert_int_equal(f.iters_left, 1);

	/* a slow device (period 20 s) is not quiet after 30 s */
	memset(&snap, 0, sizeof(snap));
	snap.rows = rows;
	snap.now_ns = 100 * SEC;
	add_row("slow", 10, 1 * MB, 20 * MB, 3, 70);
	forecast_compute(&f, &o, &snap, NULL, NULL);
	assert_false(f.dev[0].quiet);
}

static void completed(void **state)
{
	struct qmp_migrate q = { .pid = 10, .seq = 9, .have_ram = true,
				 .dirty_sync_count = 4, .downtime_ms = 34,
				 .page_size = 4096, .mbps = 900,
				 .have_params = true, .downtime_limit_ms = 300 };
	struct forecast f;
	char line[256];

	(void)state;
	snprintf(q.status, sizeof(q.status), "completed");
	add_row("a", 10, 50 * MB, 10 * MB, 4, 99);
	forecast_compute(&f, NULL, &snap, &q, NULL);
	assert_int_equal(f.verdict, FORECAST_COMPLETED);
	assert_true(fabs(f.expected_downtime - 0.034) < 1e-9);
	assert_int_equal(f.iteration, 4);
	forecast_format_line(line, sizeof(line), &f, 200);
	assert_non_null(strstr(line, "qemu 10 completed iter 4: completed, downtime 34 ms"));

	snprintf(q.status, sizeof(q.status), "cancelled");
	forecast_compute(&f, NULL, &snap, &q, NULL);
	assert_int_equal(f.verdict, FORECAST_ENDED);
}

static void qemu_figures(void **state)
{
	struct qmp_migrate q = { .pid = 100, .seq = 3, .have_ram = true,
				 .ram_remaining = 50000000,
				 .dirty_pages_rate = 2560, .page_size = 4096,
				 .dirty_sync_count = 6, .mbps = 80,
				 .have_params = true, .downtime_limit_ms = 300,
				 .max_bandwidth = 1ull << 30 };
	struct forecast_opts o = { .link_bytes_s = 1e9, .downtime_limit_s = 2 };
	struct forecast f;

	(void)state;
	snprintf(q.status, sizeof(q.status), "active");
	add_row("vm1 dev", 100, 5242880, 5242880, 6, 99.5);
	add_row("vm2 dev", 200, 90 * MB, 90 * MB, 6, 99.5);
	forecast_compute(&f, &o, &snap, &q, NULL);

	/* only QEMU 100's device; QEMU's figures beat the options */
	assert_int_equal(f.ndev, 1);
	assert_string_equal(f.dev[0].name, "vm1 dev");
	assert_int_equal(f.bw_src, FORECAST_SRC_QEMU);
	assert_int_equal(f.dl_src, FORECAST_SRC_QEMU);
	/* 80 Mbit/s = 10 MB/s; threshold 10 MB/s x 0.3 s = 3 MB */
	assert_true(fabs(f.bw - 10 * MB) < 1e-6);
	assert_true(fabs(f.threshold - 3 * MB) < 1e-6);
	/* 2560 pages/s x 4 KiB = 10485760 B/s, the device explains half */
	assert_true(fabs(f.qemu_rate - 10485760.0) < 1e-6);
	assert_true(fabs(f.dev[0].share_qemu - 0.5) < 1e-9);
	assert_true(f.pending_qemu);
	assert_true(fabs(f.pending - 50000000.0) < 1e-6);
	assert_int_equal(f.iteration, 6);
	/* 10.49 MB/s >= 10 MB/s; without the device 5.24 fits */
	assert_int_equal(f.verdict, FORECAST_CANNOT);
	assert_int_equal(f.nblame, 1);
	assert_false(f.blame_guest);
	/* what would converge in 30 iterations does, a little less not */
	{
		struct qmp_migrate q2 = q;
		struct forecast g;

		q2.mbps = f.needed_bw * 8 / 1e6;
		forecast_compute(&g, &o, &snap, &q2, NULL);
		assert_int_equal(g.verdict, FORECAST_CONVERGES);
		q2.mbps *= 0.99;
		forecast_compute(&g, &o, &snap, &q2, NULL);
		assert_int_equal(g.verdict, FORECAST_CANNOT);
	}

	/* avail-switchover-bandwidth is what QEMU's threshold uses */
	q.avail_switchover_bandwidth = 100000000;
	forecast_compute(&f, &o, &snap, &q, NULL);
	assert_true(fabs(f.bw - 1e8) < 1e-6);
	assert_true(fabs(f.threshold - 3e7) < 1e-6);
	assert_int_equal(f.verdict, FORECAST_CONVERGES);
	/* rho 0.1048576: 50 MB -> 5.24 MB < 30 MB after 1 */
	assert_int_equal(f.iters_left, 1);
}

/*
 * What QEMU 10.0.2 said of a guest rewriting 512 KiB in a loop, 1 MiB/s
 * cap, 30 ms limit (the same figures as tests/test_qmp_live.sh sees).
 */
static void saturated_set(void **state)
{
	struct qmp_migrate q = { .pid = 100, .seq = 9, .have_ram = true,
				 .ram_remaining = 262144,
				 .dirty_pages_rate = 300, .page_size = 4096,
				 .dirty_sync_count = 14, .mbps = 10.1,
				 .expected_downtime_ms = 415,
				 .have_params = true, .downtime_limit_ms = 30 };
	struct forecast f, prev;
	char text[512];

	(void)state;
	snprintf(q.status, sizeof(q.status), "active");
	forecast_compute(&prev, NULL, &snap, &q, NULL);
	q.dirty_sync_count++;
	forecast_compute(&f, NULL, &snap, &q, &prev);
	/*
	 * bw 1262500 B/s, threshold 37875 B. At the last sync 415 ms of
	 * it were dirty: 523937.5 B. Dirtied 1228800 B/s, rho 0.9733: 97
	 * iterations, more than 30, so it cannot. The sync before had as
	 * much: the set is rewritten whatever the pace, so only a threshold
	 * holding 523937.5 B will do: 17.46 MB/s for 30 ms.
	 */
	assert_true(prev.verdict == FORECAST_CANNOT);
	assert_true(prev.needed_bw < 2e6);
	assert_true(fabs(f.rho_seen - 1) < 1e-12);
	assert_true(f.pending_sync);
	assert_true(fabs(f.pending - 523937.5) < 1e-6);
	assert_true(fabs(f.threshold - 37875) < 1e-6);
	assert_int_equal(f.verdict, FORECAST_CANNOT);
	assert_true(fabs(f.needed_bw - 523937.5 / 0.03) < 1e-3);
	assert_int_equal(f.nblame, 0);
	assert_true(f.blame_guest);
	forecast_format_verdict(text, sizeof(text), &f);
	assert_non_null(strstr(text, "cannot converge at 1.26 MB/s: the guest's own writes 1.23 MB/s"));

	/* the limit raised to 2 s: threshold 2.5 MB holds it, switch now */
	q.downtime_limit_ms = 2000;
	forecast_compute(&f, NULL, &snap, &q, NULL);
	assert_int_equal(f.verdict, FORECAST_CONVERGES);
	assert_int_equal(f.iters_left, 0);
}

/*
 * QEMU's first dirty rate spans the bulk pass and lags; the pending bytes
 * of two syncs in a row say what pre-copy really carried over.
 */
static void rho_seen_between_syncs(void **state)
{
	struct qmp_migrate q = { .pid = 100, .seq = 5, .have_ram = true,
				 .ram_remaining = 100000,
				 .dirty_pages_rate = 107, .page_size = 4096,
				 .dirty_sync_count = 2, .mbps = 10.48,
				 .expected_downtime_ms = 399,
				 .have_params = true, .downtime_limit_ms = 30 };
	struct forecast f, prev;

	(void)state;
	snprintf(q.status, sizeof(q.status), "active");
	forecast_compute(&prev, NULL, &snap, &q, NULL);
	/*
	 * bw 1.31 MB/s, threshold 39300 B, pending 0.399 x 1.31e6 = 522690;
	 * rate 438272 B/s, rho 0.33456: ceil(ln(0.07519) / ln(0.33456)) = 3
	 */
	assert_int_equal(prev.verdict, FORECAST_CONVERGES);
	assert_int_equal(prev.iters_left, 3);
	assert_true(prev.rho_seen < 0);

	/*
	 * next sync: the same 522690 B pending again, rho seen 1; one
	 * iteration of that is not enough (near the threshold a sync may
	 * carry a little more than the one before and the next switch over)
	 */
	q.dirty_sync_count = 3;
	forecast_compute(&f, NULL, &snap, &q, &prev);
	assert_int_equal(f.sync_iter_prev, 2);
	assert_true(fabs(f.rho_seen - 1.0) < 1e-12);
	assert_int_equal(f.stuck_iters, 1);
	assert_int_equal(f.verdict, FORECAST_CONVERGES);

	/* a later sample of the same sync keeps the sync before */
	prev = f;
	forecast_compute(&f, NULL, &snap, &q, &prev);
	assert_int_equal(f.sync_iter_prev, 2);
	assert_int_equal(f.stuck_iters, 1);
	assert_int_equal(f.verdict, FORECAST_CONVERGES);

	/* and again at the next: two iterations stuck, it cannot */
	prev = f;
	q.dirty_sync_count = 4;
	forecast_compute(&f, NULL, &snap, &q, &prev);
	assert_int_equal(f.sync_iter_prev, 3);
	assert_int_equal(f.stuck_iters, 2);
	assert_int_equal(f.verdict, FORECAST_CANNOT);
	prev = f;
	forecast_compute(&f, NULL, &snap, &q, &prev);
	assert_int_equal(f.stuck_iters, 2);
	assert_int_equal(f.verdict, FORECAST_CANNOT);

	/* two syncs on, a fifth of it left: rho seen sqrt(0.2) */
	prev = f;
	q.dirty_sync_count = 6;
	q.expected_downtime_ms = 80;
	forecast_compute(&f, NULL, &snap, &q, &prev);
	assert_int_equal(f.sync_iter_prev, 4);
	assert_int_equal(f.stuck_iters, 0);
	assert_true(fabs(f.rho_seen - sqrt(80.0 / 399.0)) < 1e-12);
	assert_true(fabs(f.rho - f.rho_seen) < 1e-12);
	assert_int_equal(f.verdict, FORECAST_CONVERGES);
}

/*
 * Two devices that rewrite the same pages every iteration (the test
 * driver's programs): their rates look small against the link, but each
 * pass carries the whole set again.
 */
static void steady_sets(void **state)
{
	struct forecast_opts o = { .link_bytes_s = 4 * MB,
				   .downtime_limit_s = 0.3 };
	struct forecast f;
	char text[512];

	(void)state;
	/* A: 416 pages a sync, B: 128; syncs 2.5 s apart */
	add_row("vfio A", 10, 416 * 4096 / 2.5, 416 * 4096, 3, 99.5);
	add_row("vfio B", 10, 128 * 4096 / 2.5, 128 * 4096, 3, 99.5);
	rows[0].nhistory = rows[1].nhistory = 3;
	rows[0].history[0] = rows[0].history[1] = rows[0].history[2] = 416;
	rows[1].history[0] = 128;
	rows[1].history[1] = 120;	/* 128 / 120 is within 0.9 */
	rows[1].history[2] = 128;
	forecast_compute(&f, &o, &snap, NULL, NULL);
	/*
	 * threshold 4 MB/s x 0.3 s = 1.2 MB; the rates (681.6 + 209.7 KB/s)
	 * would shrink pending 2228224 B by rho 0.2228 a pass: ~2. But the
	 * sets are 1703936 + 524288 = 2228224 B a pass, over 1.2 MB: it
	 * cannot. A alone (1.70 MB) fills it; B's 524 KB alone would fit, so
	 * A is named and not B; a link whose 0.3 s holds both sets would do:
	 * 7.43 MB/s.
	 */
	assert_true(f.dev[0].steady && f.dev[1].steady);
	assert_true(fabs(f.set_bytes - 2228224) < 1e-6);
	assert_int_equal(f.verdict, FORECAST_CANNOT);
	assert_true(f.set_stuck);
	assert_int_equal(f.nblame, 1);
	assert_string_equal(f.dev[f.blame[0]].name, "vfio A");
	assert_false(f.dev[1].blamed);
	assert_true(fabs(f.needed_bw - 2228224 / 0.3) < 10);
	forecast_format_verdict(text, sizeof(text), &f);
	assert_non_null(strstr(text, "cannot converge at 4.00 MB/s: vfio A rewrites 1.70 MB each iteration (2.23 MB a pass in all"));

	/* the sets drop (the late scenario): A's last is 16 pages, not steady */
	rows[0].history[2] = 16;
	rows[0].dirty_bytes_iter = 16 * 4096;
	rows[0].iter_bytes_per_s = 16 * 4096 / 2.5;
	rows[1].history[2] = 24;
	rows[1].dirty_bytes_iter = 24 * 4096;
	rows[1].iter_bytes_per_s = 24 * 4096 / 2.5;
	forecast_compute(&f, &o, &snap, NULL, NULL);
	assert_false(f.dev[0].steady);
	assert_int_equal(f.verdict, FORECAST_CONVERGES);
	assert_int_equal(f.iters_left, 0);	/* 160 KB pending < 1.2 MB */

	/* steady sets under the threshold: nothing to say against them */
	rows[0].history[1] = 16;
	rows[1].history[1] = 24;
	forecast_compute(&f, &o, &snap, NULL, NULL);
	assert_true(f.dev[0].steady && f.dev[1].steady);
	assert_false(f.set_stuck);
	assert_int_equal(f.verdict, FORECAST_CONVERGES);
}

/*
 * QEMU's mbps is over its last 100 ms and swings under emulation: the
 * bandwidth is the highest over the last whole sync and this one, and
 * the pending bytes come from QEMU's own expected-downtime x bandwidth
 * pair only when that period sent enough to have recomputed both.
 */
static void qemu_bandwidth_over_syncs(void **state)
{
	struct qmp_migrate q = { .pid = 100, .seq = 1, .have_ram = true,
				 .ram_remaining = 2000000, .ram_transferred = 1000000,
				 .dirty_pages_rate = 0, .page_size = 4096,
				 .dirty_sync_count = 1, .mbps = 40,
				 .expected_downtime_ms = 300,
				 .have_params = true, .downtime_limit_ms = 300 };
	struct forecast f, prev;

	(void)state;
	snprintf(q.status, sizeof(q.status), "active");
	forecast_compute(&f, NULL, &snap, &q, NULL);
	/* 40 Mbit/s: 5 MB/s, threshold 1.5 MB */
	assert_true(fabs(f.bw - 5 * MB) < 1e-6);
	assert_true(fabs(f.threshold - 1.5 * MB) < 1e-6);

	/* a starved period of the same sync: 2 Mbit/s; the bandwidth holds */
	prev = f;
	q.mbps = 2;
	q.ram_transferred += 25000;
	forecast_compute(&f, NULL, &snap, &q, &prev);
	assert_true(fabs(f.bw_sample - 0.25 * MB) < 1e-6);
	assert_true(fabs(f.bw - 5 * MB) < 1e-6);

	/* the next sync: still the sync before's best */
	prev = f;
	q.dirty_sync_count = 2;
	q.mbps = 16;
	q.dirty_pages_rate = 500;
	q.expected_downtime_ms = 1100;
	q.ram_transferred += 500000;
	forecast_compute(&f, NULL, &snap, &q, &prev);
	assert_true(fabs(f.bw - 5 * MB) < 1e-6);
	assert_true(fabs(f.bw_max_cur - 2 * MB) < 1e-6);
	/* QEMU's pair: 1.1 s of its own 2 MB/s period is 2.2 MB pending */
	assert_true(f.pending_sync);
	assert_true(fabs(f.pending - 2.2 * MB) < 1e-3);

	/*
	 * a period that sent under 10000 bytes (0.4 Mbit/s) leaves
	 * expected-downtime as it was while mbps is new: their product is
	 * no pending figure; the same sync's pair before stands
	 */
	prev = f;
	q.mbps = 0.4;
	q.ram_transferred += 5000;
	forecast_compute(&f, NULL, &snap, &q, &prev);
	assert_true(f.pending_sync);
	assert_true(fabs(f.pending - 2.2 * MB) < 1e-3);

	/* two syncs on, the first's best has aged out */
	prev = f;
	q.dirty_sync_count = 3;
	q.mbps = 8;
	q.expected_downtime_ms = 2200;
	q.ram_transferred += 500000;
	forecast_compute(&f, NULL, &snap, &q, &prev);
	assert_true(fabs(f.bw - 2 * MB) < 1e-6);
	assert_true(fabs(f.pending - 2.2 * MB) < 1e-3);	/* 2.2 s x 1 MB/s */

	/*
	 * the next sync carries as much again (0.44 s x 5 MB/s), but near
	 * the threshold: 2.2 MB against 5 MB/s x 0.3 s = 1.5 MB, less than
	 * twice it, so it does not count as stuck (QEMU syncs with pages
	 * unsent and may switch over at its next check)
	 */
	prev = f;
	q.dirty_sync_count = 4;
	q.mbps = 40;
	q.expected_downtime_ms = 440;
	q.ram_transferred += 500000;
	forecast_compute(&f, NULL, &snap, &q, &prev);
	assert_true(fabs(f.pending - 2.2 * MB) < 1e-3);
	assert_true(fabs(f.rho_seen - 1) < 1e-9);
	assert_int_equal(f.stuck_iters, 0);

	/* QEMU stopped the VM for the last pass: the switchover is under way */
	prev = f;
	snprintf(q.status, sizeof(q.status), "device");
	forecast_compute(&f, NULL, &snap, &q, &prev);
	assert_int_equal(f.verdict, FORECAST_CONVERGES);
	assert_int_equal(f.iters_left, 0);

	/* a new migration on the same QEMU starts afresh */
	snprintf(q.status, sizeof(q.status), "active");
	prev = f;
	q.dirty_sync_count = 1;
	q.ram_transferred = 1000;
	q.mbps = 4;
	forecast_compute(&f, NULL, &snap, &q, &prev);
	assert_true(fabs(f.bw - 0.5 * MB) < 1e-6);
}

static void guest_to_blame(void **state)
{
	struct qmp_migrate q = { .pid = 100, .seq = 3, .have_ram = true,
				 .ram_remaining = 50000000,
				 .dirty_pages_rate = 7324, .page_size = 4096,
				 .mbps = 80, .have_params = true,
				 .downtime_limit_ms = 300 };
	struct forecast f;
	char text[512];

	(void)state;
	snprintf(q.status, sizeof(q.status), "active");
	add_row("dev", 100, 2 * MB, 2 * MB, 3, 99.5);
	forecast_compute(&f, NULL, &snap, &q, NULL);
	/* 30 MB/s VM-wide, 2 MB/s of it the device: 28 MB/s still > 10 */
	assert_int_equal(f.verdict, FORECAST_CANNOT);
	assert_int_equal(f.nblame, 1);
	assert_true(f.blame_guest);
	forecast_format_verdict(text, sizeof(text), &f);
	assert_non_null(strstr(text, "the guest's own writes"));
}

static void no_iteration_no_forecast(void **state)
{
	struct forecast_opts o = { .link_bytes_s = 10 * MB };
	struct forecast f;

	(void)state;
	add_row("new", 10, 0, 0, 0, 0);
	forecast_compute(&f, &o, &snap, NULL, NULL);
	assert_int_equal(f.verdict, FORECAST_UNKNOWN);
	forecast_compute(&f, &o, NULL, NULL, NULL);
	assert_int_equal(f.verdict, FORECAST_UNKNOWN);
}

static void units(void **state)
{
	double v;

	(void)state;
	assert_int_equal(forecast_parse_rate("10G", &v), 0);
	assert_true(v == 1.25e9);
	assert_int_equal(forecast_parse_rate("1.25GB/s", &v), 0);
	assert_true(v == 1.25e9);
	assert_int_equal(forecast_parse_rate("128MiB/s", &v), 0);
	assert_true(v == 134217728.0);
	assert_int_equal(forecast_parse_rate("100Mbit/s", &v), 0);
	assert_true(v == 12.5e6);
	assert_int_equal(forecast_parse_rate("25Gbps", &v), 0);
	assert_true(v == 3.125e9);
	assert_int_equal(forecast_parse_rate("8000", &v), 0);
	assert_true(v == 1000);
	assert_int_equal(forecast_parse_rate("", &v), -EINVAL);
	assert_int_equal(forecast_parse_rate("fast", &v), -EINVAL);
	assert_int_equal(forecast_parse_rate("10X", &v), -EINVAL);
	assert_int_equal(forecast_parse_rate("-1G", &v), -EINVAL);
	assert_int_equal(forecast_parse_rate("10GB/h", &v), -EINVAL);

	assert_int_equal(forecast_parse_duration("300ms", &v), 0);
	assert_true(fabs(v - 0.3) < 1e-12);
	assert_int_equal(forecast_parse_duration("2s", &v), 0);
	assert_true(v == 2.0);
	assert_int_equal(forecast_parse_duration("500", &v), 0);
	assert_true(fabs(v - 0.5) < 1e-12);
	assert_int_equal(forecast_parse_duration("250us", &v), 0);
	assert_true(fabs(v - 0.00025) < 1e-12);
	assert_int_equal(forecast_parse_duration("1h", &v), -EINVAL);
	assert_int_equal(forecast_parse_duration("ms", &v), -EINVAL);
}

static void line_fits(void **state)
{
	struct forecast_opts o = { .link_bytes_s = 10 * MB };
	struct forecast f;
	char line[256];
	size_t n;

	(void)state;
	add_row("vfio 0000:00:05.0", 10, 40 * MB, 40 * MB, 5, 99.5);
	forecast_compute(&f, &o, &snap, NULL, NULL);
	n = forecast_format_line(line, sizeof(line), &f, 60);
	assert_int_equal(n, 60);
	assert_int_equal(strlen(line), 60);
	assert_null(strchr(line, '\n'));
	n = forecast_format_line(line, 8, &f, 200);
	assert_int_equal(n, 7);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(converges_in_four, setup),
		cmocka_unit_test_setup(cannot_names_the_device, setup),
		cmocka_unit_test_setup(cannot_names_two, setup),
		cmocka_unit_test_setup(switchover_due, setup),
		cmocka_unit_test_setup(zero_bandwidth, setup),
		cmocka_unit_test_setup(quiet_device, setup),
		cmocka_unit_test_setup(completed, setup),
		cmocka_unit_test_setup(qemu_figures, setup),
		cmocka_unit_test_setup(saturated_set, setup),
		cmocka_unit_test_setup(rho_seen_between_syncs, setup),
		cmocka_unit_test_setup(steady_sets, setup),
		cmocka_unit_test_setup(qemu_bandwidth_over_syncs, setup),
		cmocka_unit_test_setup(guest_to_blame, setup),
		cmocka_unit_test_setup(no_iteration_no_forecast, setup),
		cmocka_unit_test(units),
		cmocka_unit_test_setup(line_fits, setup),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
