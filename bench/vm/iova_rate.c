// SPDX-License-Identifier: GPL-2.0
/*
 * iova_rate - the highest iova_bitmap_set() call rate the test VM makes,
 * and whether iovatop keeps every call of it (bench/vm/run.sh boots the
 * VM; 'make bench' runs it after iova_bench).
 *
 * Several iommufd mock domains (the selftest driver: one set call per
 * dirty 2 KiB mock page, as mlx5 and pds call it per dirty page), each
 * with its own /dev/iommu and its own thread, are dirtied and read with
 * IOMMU_HWPT_GET_DIRTY_BITMAP back to back, all at once, for a fixed time
 * per block: no pause, no pinning, as many calls as the emulated CPUs
 * can make. Each pattern runs in four blocks:
 *
 *   untraced   nothing attached: the rate the VM makes
 *   bare       the fentry counter (bpf/bench_count): the floor
 *   iovatop    'iovatop record' to a file in tmpfs
 *   bpftrace   kfunc:iova_bitmap_set printing one line per call
 *   ranges     'iovatop record --kernel-bitmap 0': iovatop as it was before
 *              its kernel-side bitmap, every call shipped through the ring
 *              as a range (checked as iovatop is)
 *
 * Every report's bitmap is checked against the pages dirtied as it
 * comes back, so the rate is of correct reports only. The calls each
 * tracer kept are counted against the calls made: the counter's map,
 * bpftrace's lines, and for iovatop every report of its trace rebuilt by
 * 'iovatop report --dump-bitmaps' and compared bit by bit with the pages
 * dirtied (a report the trace lacks has lost all its calls); beside that,
 * the records iovatop itself counted as lost and the reports it marked
 * incomplete.
 *
 * Patterns: contiguous 100 % (the issue's: every page, one call each; the
 * ranges merge), random 50 % and random 10 % (almost every call its own
 * range: the most records a call).
 *
 * The last line, for scripts: "rate: iovatop lost N of M calls, W of R
 * bitmaps wrong (U of them unmarked), at best X.XX M calls/s (PATTERN)".
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bench_proc.h"
#include "bench_tracer.h"
#include "dirty_pattern.h"
#include "mock_domain.h"

#define DOMAIN_BYTES	(256ull << 20)	/* 128 Ki mock pages, as iova_bench */
#define NPAGES		(DOMAIN_BYTES / MOCK_PAGE)
#define MAX_DEVICES	16
#define BPFTRACE_SECS	3	/* a line a call: its output grows fast */

static struct dirty_pattern pats[] = {
	{ .kind = DIRTY_CONTIG, .pct = 100 },
	{ .kind = DIRTY_RANDOM, .pct = 50 },
	{ .kind = DIRTY_RANDOM, .pct = 10 },
};
#define NPAT (sizeof(pats) / sizeof(pats[0]))

static struct {
	const char *iovatop;
	const char *bpftrace;
	unsigned int devices;
	unsigned int seconds;
	const char *tmp;
} opt = { .devices = 4, .seconds = 10, .tmp = "/tmp" };

struct block {
	bool ran;
	uint64_t reports, calls;	/* made, all devices, warm-up too */
	double rate;			/* calls a second over the timed part */
	uint64_t seen;			/* calls the tracer has */
	bool counted;			/* seen is known */
	/* iovatop */
	const struct dirty_pattern *pat;
	uint64_t rows, exact, wrong, marked, unmarked, lost_records, missing, extra;
};

static struct block blocks[NPAT][BENCH_TRACERS];
static struct mock_domain dom[MAX_DEVICES];

struct worker {
	struct mock_domain *d;
	const struct dirty_pattern *p;
	double deadline;
	uint64_t reports, calls;
	const char *err;
};

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Dirty and read one report; NULL, or why it went wrong. */
static const char *one_report(struct mock_domain *d, const struct dirty_pattern *p)
{
	int64_t marked = mock_domain_dirty(d, p->marks);

	if (marked < 0)
		return d->err;
	if ((uint64_t)marked != p->calls)
		return "the mock domain marked another number of pages dirty than the pattern";
	if (mock_domain_report(d))
		return d->err;
	if (memcmp(d->bitmap, p->marks, NPAGES / 8))
		return "a report's bitmap differs from the pages dirtied";
	return NULL;
}

static void *work(void *arg)
{
	struct worker *w = arg;

	while (now_s() < w->deadline) {
		w->err = one_report(w->d, w->p);
		if (w->err)
			break;
		w->reports++;
		w->calls += w->p->calls;
	}
	return NULL;
}

/* All devices at once for SECS seconds; the block's counts. */
static void run_block(struct block *b, const struct dirty_pattern *p, unsigned int secs)
{
	struct worker w[MAX_DEVICES];
	pthread_t th[MAX_DEVICES];
	double t0 = now_s();
	unsigned int i;

	for (i = 0; i < opt.devices; i++) {
		w[i] = (struct worker){ .d = &dom[i], .p = p, .deadline = t0 + secs };
		errno = pthread_create(&th[i], NULL, work, &w[i]);
		if (errno)
			bench_die("cannot start a thread: %s", strerror(errno));
	}
	for (i = 0; i < opt.devices; i++) {
		pthread_join(th[i], NULL);
		if (w[i].err)
			bench_die("%s (%s)", w[i].err, p->name);
		b->reports += w[i].reports;
		b->calls += w[i].calls;
	}
	b->rate = b->calls / (now_s() - t0);
	b->ran = true;
}

/* One report of iovatop's trace: every report of a block dirtied the same pages. */
static void iovatop_row(unsigned int row, uint64_t flags, const uint8_t *got, void *ctx)
{
	struct block *b = ctx;
	const struct dirty_pattern *p = b->pat;
	uint64_t lost = bench_bits_missing(p->marks, got, NPAGES / 8);
	uint64_t extra = bench_bits_missing(got, p->marks, NPAGES / 8);

	(void)row;
	b->rows++;
	/* IOVA_REPORT_INCOMPLETE and its kin: any flag marks it */
	if (flags)
		b->marked++;
	b->missing += lost;
	b->extra += extra;
	if (lost || extra) {
		b->wrong++;
		/* the one outcome that must never be: short and not said */
		if (!flags)
			b->unmarked++;
	} else {
		b->exact++;
	}
}

static void traced_block(enum bench_tracer_kind c, unsigned int k)
{
	struct block *b = &blocks[k][c];
	const struct dirty_pattern *p = &pats[k];
	struct bench_tracer t;
	unsigned int i;

	b->pat = p;
	bench_tracer_start(&t, c, c == BENCH_BPFTRACE ? opt.bpftrace : opt.iovatop,
			   opt.tmp, "rate");
	/*
	 * Attaching patches kernel text and QEMU translates it again: one
	 * untimed report per device first, serially. Their calls count.
	 */
	for (i = 0; i < opt.devices; i++) {
		const char *err = one_report(&dom[i], p);

		if (err)
			bench_die("%s (%s, warm-up)", err, p->name);
	}
	run_block(b, p, c == BENCH_BPFTRACE ? BPFTRACE_SECS : opt.seconds);
	b->reports += opt.devices;
	b->calls += opt.devices * p->calls;
	if (c == BENCH_BARE || c == BENCH_BPFTRACE) {
		b->seen = bench_tracer_seen(&t);
		b->counted = true;
	}
	bench_tracer_stop(&t);
	if (c != BENCH_IOVATOP && c != BENCH_RANGES)
		return;
	b->lost_records = bench_iovatop_lost(t.log);
	bench_iovatop_bitmaps(opt.iovatop, t.trace, opt.tmp, NPAGES / 8, UINT_MAX,
			      iovatop_row, b);
	/* reports the trace does not hold lost every call */
	if (b->rows < b->reports)
		b->missing += (b->reports - b->rows) * p->calls;
	b->seen = b->calls > b->missing ? b->calls - b->missing : 0;
	b->counted = true;
	if (b->missing || b->wrong) {
		char keep[300], log[300];

		/* a trace that lost calls is kept for a look, with its log */
		snprintf(keep, sizeof(keep), "%s/rate-short-%s-%u.trace", opt.tmp,
			 bench_tracer_name[c], k);
		snprintf(log, sizeof(log), "%s/rate-short-%s-%u.log", opt.tmp,
			 bench_tracer_name[c], k);
		if (!rename(t.trace, keep) && !rename(t.log, log))
			fprintf(stderr, "iova_rate: %s: iovatop's trace kept in %s, its log in %s\n",
				p->name, keep, log);
		return;
	}
	unlink(t.trace);
}

static void print_table(void)
{
	unsigned int k, c, best_k = 0;
	uint64_t lost = 0, made = 0, wrong = 0, unmarked = 0, rows = 0;
	double best = 0;

	printf("iova_bitmap_set() at the highest rate the test VM makes: %u iommufd mock\n"
	       "domains of %llu MiB (2 KiB pages, one set call per dirty page), each read by\n"
	       "its own thread back to back, all at once; %u s a block (bpftrace %u s). Every\n"
	       "report's bitmap matched the pages dirtied; \"missing\" is calls made that the\n"
	       "tracer does not have (iovatop: set bits missing from its rebuilt bitmaps).\n\n",
	       opt.devices, DOMAIN_BYTES >> 20, opt.seconds, BPFTRACE_SECS);
	printf("%-12s %-9s %8s %10s %9s %16s %14s %8s %7s\n", "pattern", "tracer",
	       "reports", "set calls", "M calls/s", "calls missing", "bitmaps exact",
	       "marked", "records");
	printf("%-12s %-9s %8s %10s %9s %16s %14s %8s %7s\n", "", "", "", "", "", "",
	       "", "short", "lost");
	for (k = 0; k < NPAT; k++)
		for (c = 0; c < BENCH_TRACERS; c++) {
			const struct block *b = &blocks[k][c];
			uint64_t miss = b->calls > b->seen ? b->calls - b->seen : 0;
			double rate = b->rate / 1e6;
			char m[32] = "-", ex[32] = "-", mk[16] = "-", lr[16] = "-";

			if (!b->ran)
				continue;
			if (b->counted)
				snprintf(m, sizeof(m), "%" PRIu64 " (%.1f%%)", miss,
					 b->calls ? 100.0 * miss / b->calls : 0);
			if (c == BENCH_IOVATOP || c == BENCH_RANGES) {
				snprintf(ex, sizeof(ex), "%" PRIu64 " of %" PRIu64,
					 b->exact, b->reports);
				snprintf(mk, sizeof(mk), "%" PRIu64, b->marked);
				snprintf(lr, sizeof(lr), "%" PRIu64, b->lost_records);
			}
			if (c == BENCH_IOVATOP) {
				lost += miss;
				made += b->calls;
				wrong += b->reports - b->exact;
				unmarked += b->unmarked;
				rows += b->reports;
				if (rate > best) {
					best = rate;
					best_k = k;
				}
			}
			printf("%-12s %-9s %8" PRIu64 " %9.2fM %9.2f %16s %14s %8s %7s\n",
			       c ? "" : pats[k].name, bench_tracer_name[c], b->reports, b->calls / 1e6,
			       rate, m, ex, mk, lr);
		}
	printf("\nReading it: the untraced rate is what the emulated VM makes; each tracer's\n"
	       "rate is what it let the VM make. The goal is 0 calls missing and every bitmap\n"
	       "exact in every pattern. Records iovatop loses (its ring buffer full) are\n"
	       "counted and their reports marked \"short\", never hidden: a wrong bitmap\n"
	       "that is not marked would be a bug. The test kernel does not preempt (preempt=\n"
	       "none) and the reports are long ioctls on every vCPU, so a reader may not run\n"
	       "for seconds: \"ranges\" (every call through the ring, a record per 16\n"
	       "scattered calls) fills its ring then; iovatop sets in-range calls' bits in its\n"
	       "kernel-side bitmap and ships a few records a report.\n");
	printf("rate: iovatop lost %" PRIu64 " of %" PRIu64 " calls, %" PRIu64 " of %" PRIu64
	       " bitmaps wrong (%" PRIu64 " of them unmarked), at best %.2f M calls/s (%s)\n",
	       lost, made, wrong, rows, unmarked, best, pats[best_k].name);
}

static void usage(FILE *f)
{
	fprintf(f, "usage: iova_rate --iovatop PATH [--bpftrace PATH] [--devices N (1-%d)]\n"
		   "                 [--seconds S] [--tmp DIR]\n", MAX_DEVICES);
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "iovatop", required_argument, NULL, 'i' },
		{ "bpftrace", required_argument, NULL, 'b' },
		{ "devices", required_argument, NULL, 'd' },
		{ "seconds", required_argument, NULL, 's' },
		{ "tmp", required_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	unsigned int k, i;
	char *end;
	int c;

	while ((c = getopt_long(argc, argv, "i:b:d:s:t:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'i':
			opt.iovatop = optarg;
			break;
		case 'b':
			opt.bpftrace = optarg;
			break;
		case 'd':
			opt.devices = (unsigned int)strtoul(optarg, &end, 10);
			if (*end || !opt.devices || opt.devices > MAX_DEVICES) {
				fprintf(stderr, "iova_rate: --devices takes 1 to %d, not '%s'\n",
					MAX_DEVICES, optarg);
				return 2;
			}
			break;
		case 's':
			opt.seconds = (unsigned int)strtoul(optarg, &end, 10);
			if (*end || !opt.seconds || opt.seconds > 3600) {
				fprintf(stderr, "iova_rate: --seconds takes 1 to 3600, not '%s'\n",
					optarg);
				return 2;
			}
			break;
		case 't':
			opt.tmp = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (!opt.iovatop || optind < argc) {
		usage(stderr);
		return 2;
	}
	for (k = 0; k < NPAT; k++)
		if (dirty_pattern_build(&pats[k], NPAGES))
			bench_die("cannot build the dirty patterns");
	for (i = 0; i < opt.devices; i++)
		if (mock_domain_open(&dom[i], DOMAIN_BYTES))
			bench_die("device %u: %s", i, dom[i].err);
	for (k = 0; k < NPAT; k++) {
		traced_block(BENCH_UNTRACED, k);
		traced_block(BENCH_BARE, k);
		traced_block(BENCH_IOVATOP, k);
		traced_block(BENCH_RANGES, k);
		if (opt.bpftrace)
			traced_block(BENCH_BPFTRACE, k);
		fprintf(stderr, "iova_rate: %s done\n", pats[k].name);
	}
	print_table();
	for (i = 0; i < opt.devices; i++)
		mock_domain_close(&dom[i]);
	return 0;
}
