// SPDX-License-Identifier: GPL-2.0
/*
 * bench_view.c - what the curses view costs while the model takes 1 M
 * records per second.
 *
 * Each simulated second, 1 M records of pre-copy on 16 devices go into
 * the model through view_run_record() (the live path minus the ring
 * buffer); at the boundary the shared loop snapshots the model and draws
 * the screen, and, as the live loop does, the keyboard is polled every
 * 50 ms. The screen is a real curses screen (newterm on /dev/null, 200x50,
 * xterm-256color) in the detail mode, which draws the most. The view's
 * share is its CPU time per simulated second: the target is <= 5 % of a
 * core. The model's own cost at that rate is printed beside it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench.h"
#include "model.h"
#include "view.h"

#define NDEV		16
#define RATE		1000000	/* records per simulated second */
#define SECONDS		10
#define RANGES		2044	/* per report: with 4 more records, 2048 */
#define KEY_POLLS	20	/* the live loop looks at keys every 50 ms */
#define TARGET_PCT	5.0

static uint64_t rng = 0x2545f4914f6cdd1dull;

static uint64_t next_rand(void)
{
	return bench_rand(&rng);
}

static void hdr(struct iova_rec_hdr *h, unsigned int type, uint64_t ts)
{
	h->type = (uint16_t)type;
	h->size = (uint16_t)iova_rec_size(type);
	h->cpu = 0;
	h->ts_ns = ts;
}

struct feed {
	struct view_run *r;
	uint64_t ts, bitmap_id, report_id, records;
	double model_cpu;
};

static int apply(struct feed *f, void *rec)
{
	f->records++;
	return view_run_record(f->r, rec);
}

/* One report of device d: ALLOC, BEGIN, RANGES ranges, END, FREE. */
static int report(struct feed *f, unsigned int d, uint64_t step_ns)
{
	struct iova_rec_alloc a = { 0 };
	struct iova_rec_report_begin b = { 0 };
	struct iova_rec_range rg = { 0 };
	struct iova_rec_report_end e = { 0 };
	struct iova_rec_free fr = { 0 };
	uint64_t base = 0x100000000ull * (d + 1), len = 4ull << 30;
	/* each device dirties its own share of the bitmap, device 3 the most */
	uint64_t span = (d == 3 ? 1024ull : 64ull) << 20;
	unsigned int i;
	int err = 0;

	f->bitmap_id++;
	f->report_id++;
	hdr(&a.hdr, IOVA_REC_ALLOC, f->ts);
	a.bitmap_id = f->bitmap_id;
	a.iova = base;
	a.length = len;
	a.page_size = 4096;
	a.user_addr = 0x7f0000000000ull;
	a.layout = IOVA_LAYOUT_V6_11;
	a.task.pid = 1000 + d;
	snprintf(a.task.comm, sizeof(a.task.comm), "qemu-vm%u", d);
	err |= apply(f, &a);

	hdr(&b.hdr, IOVA_REC_REPORT_BEGIN, f->ts);
	b.bitmap_id = f->bitmap_id;
	b.report_id = f->report_id;
	b.path = IOVA_PATH_VFIO;
	b.iova = base;
	b.length = len;
	b.task = a.task;
	snprintf(b.devname, sizeof(b.devname), "0000:%02x:00.%u", 0x3b + d / 8, d % 8);
	err |= apply(f, &b);

	for (i = 0; i < RANGES && !err; i++) {
		f->ts += step_ns;
		hdr(&rg.hdr, IOVA_REC_RANGE, f->ts);
		rg.bitmap_id = f->bitmap_id;
		rg.report_id = f->report_id;
		rg.iova = base + (0x10000000ull + next_rand() % span) / 4096 * 4096;
		rg.length = (1 + next_rand() % 16) * 4096;
		rg.ncalls = rg.length / 4096;
		err |= apply(f, &rg);
	}
	hdr(&e.hdr, IOVA_REC_REPORT_END, f->ts);
	e.bitmap_id = f->bitmap_id;
	e.report_id = f->report_id;
	e.ranges = RANGES;
	e.set_calls = RANGES;
	err |= apply(f, &e);
	hdr(&fr.hdr, IOVA_REC_FREE, f->ts);
	fr.bitmap_id = f->bitmap_id;
	err |= apply(f, &fr);
	return err;
}

int main(void)
{
	struct model_opts mo = { 0 };
	struct feed f = { 0 };
	struct view_run r;
	struct model *m;
	char err[256];
	double c0, c1, view_cpu = 0, total_cpu;
	uint64_t step_ns = 1000000000ull / RATE, t0 = 1000000000000ull;
	FILE *null_out, *null_in;
	unsigned int d = 0;
	int s, k;

	setenv("LINES", "50", 1);
	setenv("COLUMNS", "200", 1);
	null_out = fopen("/dev/null", "w");
	null_in = fopen("/dev/null", "r");
	m = model_new(&mo);
	if (!null_out || !null_in || !m) {
		fprintf(stderr, "bench_view: cannot open /dev/null or make a model.\n");
		return 1;
	}
	view_run_init(&r, m, 1000000000ull, 0);
	r.meta.live = true;
	r.meta.source = "live";
	r.meta.kernel = "bench";
	r.meta.probe = "none";
	r.meta.layout = "6.11";
	r.st.mode = VIEW_DETAIL;
	r.vc = view_curses_open(null_out, null_in, "xterm-256color", err, sizeof(err));
	if (!r.vc) {
		fprintf(stderr, "bench_view: %s\n", err);
		return 1;
	}
	view_run_start(&r, t0);
	f.r = &r;
	f.ts = t0;

	total_cpu = cpu_s();
	for (s = 1; s <= SECONDS; s++) {
		uint64_t end = t0 + (uint64_t)s * 1000000000ull;

		/* the model's part: records up to the boundary */
		c0 = cpu_s();
		while (f.ts + (RANGES + 4) * step_ns < end)
			if (report(&f, d++ % NDEV, step_ns)) {
				view_curses_close(r.vc);
				fprintf(stderr, "bench_view: the model refused a record.\n");
				return 1;
			}
		c1 = cpu_s();
		f.model_cpu += c1 - c0;

		/* the view's part: the boundary (snapshot + draw) and key polls */
		view_run_clock(&r, end);
		for (k = 0; k < KEY_POLLS; k++)
			view_run_keys(&r);
		view_cpu += cpu_s() - c1;
	}
	total_cpu = cpu_s() - total_cpu;
	view_curses_close(r.vc);

	printf("bench_view: curses view (200x50, detail) while the model takes %.1f M records/s, %d devices\n",
	       (double)f.records / SECONDS / 1e6, NDEV);
	printf("  %-28s %10.2f ms per second  %6.2f %% of a core\n", "view (snapshot+draw+keys)",
	       view_cpu / SECONDS * 1e3, view_cpu / SECONDS * 100);
	printf("  %-28s %10.2f ms per second  %6.2f %% of a core\n", "model (apply)",
	       f.model_cpu / SECONDS * 1e3, f.model_cpu / SECONDS * 100);
	printf("  %-28s %10.2f ms per second\n", "everything", total_cpu / SECONDS * 1e3);
	printf("  intervals drawn %ld, records %llu\n", r.shown,
	       (unsigned long long)f.records);
	printf("  target view <= %.0f %% of a core: %s (%.2f %%)\n", TARGET_PCT,
	       view_cpu / SECONDS * 100 <= TARGET_PCT ? "met" : "MISSED",
	       view_cpu / SECONDS * 100);
	model_free(m);
	fclose(null_out);
	fclose(null_in);
	return view_cpu / SECONDS * 100 <= TARGET_PCT ? 0 : 1;
}
