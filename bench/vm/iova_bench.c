// SPDX-License-Identifier: GPL-2.0
/*
 * iova_bench - what tracing iova_bitmap_set() costs, in the test VM
 * (bench/vm/run.sh boots it; 'make bench' runs that).
 *
 * A 256 MiB iommufd mock domain (the selftest driver: one iova_bitmap_set()
 * per dirty 2 KiB mock page, reported at a 2 KiB page size, so one call
 * per bit, as mlx5 and pds call it per dirty page) is dirtied in eight
 * patterns (bench/vm/dirty_pattern.c: contiguous blocks at 1, 10, 50 and
 * 100 %, random pages at 1, 10 and 50 %, runs of 2 to 8 pages at 10 %) and
 * read with IOMMU_HWPT_GET_DIRTY_BITMAP under four configurations:
 *
 *   untraced   nothing attached
 *   bare       a fentry program that only counts calls (bpf/bench_count)
 *   iovatop    'iovatop record' to a file in tmpfs
 *   bpftrace   kfunc:iova_bitmap_set printing one line per call
 *   ranges     'iovatop record --kernel-bitmap 0': the design before the
 *              kernel-side bitmap, every call through the ring as a range
 *
 * Two methods, in the same boot:
 *
 * ioctl time. A round runs an untraced block before each traced one
 * (U B U I U T; odd rounds swap B and I so that a drift over the round
 * favours neither). Every block makes the same number of timed reports per
 * pattern; a traced configuration's added time in a round is the median of
 * its reports minus the median of the untraced block just before it, per
 * set call. The table gives the median over rounds and the smallest and
 * largest round. "noise" is the largest spread, per call, between the
 * untraced blocks of one round: an added time below it is not a
 * measurement.
 *
 * BPF stats. After its timed reports, each traced block switches the
 * kernel's run-time stats on (the kernel.bpf_stats_enabled switch, by
 * BPF_ENABLE_STATS) for a few more reports and reads run_time_ns and
 * run_cnt of every program attached to iova_bitmap_set() before and after
 * each: the programs' own time per call, median and range over reports.
 * Stats are off during the timed reports, whose clock reads would
 * otherwise add to both tracers alike.
 *
 * The consumer. The bench runs in a guest of one vCPU (bench/vm/run.sh
 * boots it so), for two reasons. Under single-threaded TCG the vCPUs are
 * emulated in turn, so a consumer on another vCPU would still land in the
 * ioctl time, and in the BPF stats whenever the emulator switched vCPUs
 * inside a program run. And QEMU's plugin callbacks name the vCPU that
 * translated a block, not the one running it (QEMU 10.0.2, measured: a
 * loop first run on CPU 0 is counted on vCPU 0 when CPU 1 runs it), so
 * with two vCPUs a report's instruction count mixes both. With the
 * kernel's preemption model "none" (the test kernel's) a program run is
 * never interrupted by the consumer, whose CPU time then falls between
 * program runs. The BPF stats figure leaves it out; the
 * consumer's own CPU time (utime + stime from /proc/PID/stat over the
 * timed reports) is shown per call beside the ioctl figure, which holds
 * whatever part of it ran while the ioctl did. bpftrace, 20 to 100 times
 * the bare counter, and ranges, the design iovatop replaced, are measured
 * in the first round only.
 *
 * Losses are checked against the calls made (each pattern's page count
 * per report): the bare counter's map, bpftrace's printed lines, and
 * iovatop's trace rebuilt by 'iovatop report --dump-bitmaps' and compared
 * bit by bit with the pages dirtied, report by report.
 */
#define _GNU_SOURCE	/* sched_setaffinity */
#include <errno.h>
#include <getopt.h>
#include <sched.h>
#include <inttypes.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bench_proc.h"
#include "bench_stats.h"
#include "bench_tracer.h"
#include "dirty_pattern.h"
#include "icount_mark.h"
#include "mock_domain.h"
#include "prog_stats.h"

/*
 * 256 MiB: 128 Ki mock pages, 1.3 K to 128 K calls a report. The mock walks
 * every page of the domain, dirty or not, and under a loaded emulator a
 * report of 1 GiB took 1.3 to 3.4 s; a quarter of that buys rounds.
 */
#define DOMAIN_BYTES	(256ull << 20)
#define NPAGES		(DOMAIN_BYTES / MOCK_PAGE)
#define MAX_ROUNDS	16
#define MAX_REPS	16
#define WARMUP		1
#define MAX_LOG		4096	/* reports one traced block makes */

/* the tracers, in bench_tracer.h's order */
enum cfg {
	CFG_UNTRACED = BENCH_UNTRACED,
	CFG_BARE = BENCH_BARE,
	CFG_IOVATOP = BENCH_IOVATOP,
	CFG_BPFTRACE = BENCH_BPFTRACE,
	CFG_RANGES = BENCH_RANGES,
	CFG_MAX = BENCH_TRACERS,
};
#define cfg_name bench_tracer_name

static struct dirty_pattern pats[] = {
	{ .kind = DIRTY_CONTIG, .pct = 1 },
	{ .kind = DIRTY_CONTIG, .pct = 10 },
	{ .kind = DIRTY_CONTIG, .pct = 50 },
	{ .kind = DIRTY_CONTIG, .pct = 100 },
	{ .kind = DIRTY_RANDOM, .pct = 1 },
	{ .kind = DIRTY_RANDOM, .pct = 10 },
	{ .kind = DIRTY_RANDOM, .pct = 50 },
	{ .kind = DIRTY_RUNS, .pct = 10 },
};
#define NPAT (sizeof(pats) / sizeof(pats[0]))

static struct {
	const char *iovatop;
	const char *bpftrace;
	unsigned int rounds;
	unsigned int reps;
	unsigned int stat_reps;
	const char *tmp;
} opt = { .rounds = 3, .reps = 3, .stat_reps = 3, .tmp = "/tmp" };

struct cell {
	double t[MAX_ROUNDS][MAX_REPS];		/* traced ioctl, ns */
	double base[MAX_ROUNDS][MAX_REPS];	/* the untraced block before it */
	double stat_ns[MAX_ROUNDS * MAX_REPS];	/* BPF stats: program ns per call */
	unsigned int nstat;
	uint64_t stat_misses;			/* runs the kernel skipped */
	uint64_t stat_short;			/* calls made - program runs */
	uint64_t cons_ticks, cons_calls;	/* consumer CPU over timed reports */
	uint64_t made, seen;			/* calls made; calls the tracer has */
	uint64_t extra;				/* iovatop: bits never set by the kernel */
};

static struct cell cells[CFG_MAX][NPAT];
static double umed[NPAT][MAX_ROUNDS][4];	/* untraced block medians */
static bool uran[MAX_ROUNDS][4];		/* which of them ran */
static struct prog_stat sizes[CFG_MAX][PROG_STATS_MAX];
static unsigned int nsizes[CFG_MAX];
static uint64_t lost_records[CFG_MAX], unmatched[CFG_MAX];
static bool iovatop_checked;
static unsigned int blog[MAX_LOG], nblog;	/* patterns of a block's reports */

static struct mock_domain dom;

/*
 * The label file of the instruction count (--icount-labels): a line per
 * report, in the order made, for the marks the QEMU plugin counted
 * around its ioctl: "KIND CFG ROUND PATTERN CALLS NAME", KIND U for a
 * counted untraced report of the block before CFG's, T for a counted
 * report under CFG (icount_reports()), X for any other (warm-up, timed,
 * BPF stats).
 */
static FILE *icount_labels;
static char icount_kind = 'X';
static enum cfg icount_cfg;
static unsigned int icount_round;

static void icount_as(char kind, enum cfg c, unsigned int r)
{
	icount_kind = kind;
	icount_cfg = c;
	icount_round = r;
}

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

/* Dirty pattern k's pages, then time one report of the whole domain. */
static double one_report(unsigned int k)
{
	int64_t marked = mock_domain_dirty(&dom, pats[k].marks);
	double t0, t1;

	if (marked < 0)
		bench_die("%s", dom.err);
	if ((uint64_t)marked != pats[k].calls) {
		fprintf(stderr, "iova_bench: the mock domain marked %" PRId64 " pages dirty, not %" PRIu64 "\n",
			marked, pats[k].calls);
		exit(1);
	}
	t0 = now_ns();
	icount_mark(ICOUNT_MARK_BEGIN);
	if (mock_domain_report(&dom))
		bench_die("%s", dom.err);
	icount_mark(ICOUNT_MARK_END);
	t1 = now_ns();
	if (icount_labels &&
	    fprintf(icount_labels, "%c %s %u %u %" PRIu64 " %s\n", icount_kind,
		    cfg_name[icount_cfg], icount_round, k, pats[k].calls, pats[k].name) < 0)
		bench_die("cannot write the instruction-count labels: %s", strerror(errno));
	if (memcmp(dom.bitmap, pats[k].marks, NPAGES / 8))
		bench_die("the report's bitmap differs from the pages dirtied (%s)", pats[k].name);
	if (nblog < MAX_LOG)
		blog[nblog] = k;
	nblog++;
	return t1 - t0;
}

/* ns per call of the programs on iova_bitmap_set during one report of k */
static void stat_report(enum cfg c, unsigned int k)
{
	struct prog_stat a[PROG_STATS_MAX], b[PROG_STATS_MAX];
	struct cell *cl = &cells[c][k];
	unsigned int na, nb, i, j, nact = 0;
	uint64_t ns = 0, runs = 0, misses = 0;
	bool act[PROG_STATS_MAX] = { false };

	na = prog_stats_read(a, PROG_STATS_MAX);
	one_report(k);
	nb = prog_stats_read(b, PROG_STATS_MAX);
	for (i = 0; i < nb; i++)
		for (j = 0; j < na; j++) {
			if (a[j].id != b[i].id)
				continue;
			/*
			 * A program of an earlier block the kernel has not
			 * freed yet is still listed; only those that ran count.
			 */
			if (b[i].run_cnt == a[j].run_cnt)
				continue;
			act[i] = true;
			ns += b[i].run_ns - a[j].run_ns;
			/* every program on the function runs once per call */
			if (b[i].run_cnt - a[j].run_cnt > runs)
				runs = b[i].run_cnt - a[j].run_cnt;
			misses += b[i].misses - a[j].misses;
		}
	if (!nsizes[c]) {
		for (i = 0; i < nb; i++)
			if (act[i]) {
				sizes[c][nact] = b[i];
				sizes[c][nact++].jited_insns =
					prog_stats_jited_insns(b[i].id, opt.tmp);
			}
		nsizes[c] = nact;
	}
	if (!runs) {
		fprintf(stderr, "iova_bench: no program on iova_bitmap_set ran under %s (%s)\n",
			cfg_name[c], pats[k].name);
		cl->stat_short += pats[k].calls;
		return;
	}
	cl->stat_ns[cl->nstat++] = (double)ns / pats[k].calls;
	cl->stat_misses += misses;
	cl->stat_short += runs < pats[k].calls ? pats[k].calls - runs : 0;
}

/*
 * The reports the QEMU plugin counts, kind U (untraced, before tracer
 * c's block) or T (under c): as many as are timed, each after the same
 * pause, once c's consumer (pid, 0 for none) has caught up, with the
 * bench at SCHED_FIFO meanwhile. The consumer, woken by a report, then waits for the bench to
 * sleep: a task of the normal class preempts a real-time one neither on
 * waking nor at a tick, so it cannot take the CPU on the ioctl's way back
 * to user space, before the second mark (at SCHED_IDLE it still did, at
 * the tick that ended the bench's slice). The count holds what tracing
 * costs the ioctl's CPU, the wakeup of the consumer included, and not the
 * consumer's own work (its CPU time is beside the ioctl figure). Both
 * kinds run so, since a tick costs a real-time task fewer instructions
 * than a normal one. The kernel's real-time throttling, which would hand
 * the CPU to the consumer after 0.95 s of a long report, is off.
 */
static void icount_reports(char kind, pid_t pid, enum cfg c, unsigned int r, unsigned int k)
{
	struct sched_param fifo = { .sched_priority = 1 }, other = { .sched_priority = 0 };
	unsigned int i;

	if (!icount_labels)
		return;
	for (i = 0; i < opt.reps; i++) {
		/* untraced too: the pause itself leaves work for the next tick */
		if (!bench_caught_up(pid))
			bench_die("%s's reader was still busy after 5 s", cfg_name[c]);
		if (sched_setscheduler(0, SCHED_FIFO, &fifo))
			bench_die("cannot run the bench at SCHED_FIFO: %s", strerror(errno));
		icount_as(kind, c, r);
		one_report(k);
		icount_as('X', c, r);
		if (sched_setscheduler(0, SCHED_OTHER, &other))
			bench_die("cannot run the bench at SCHED_OTHER again: %s", strerror(errno));
	}
}

static void untraced_block(enum cfg next, unsigned int r, unsigned int slot)
{
	unsigned int k, i;

	for (k = 0; k < NPAT; k++) {
		struct cell *cl = &cells[next][k];

		for (i = 0; i < WARMUP; i++)
			one_report(k);
		for (i = 0; i < opt.reps; i++)
			cl->base[r][i] = one_report(k);
		umed[k][r][slot] = bench_median(cl->base[r], opt.reps);
		icount_reports('U', 0, next, r, k);
	}
	uran[r][slot] = true;
}

/* One report of iovatop's trace against the pages the bench dirtied for it. */
static void iovatop_row(unsigned int row, uint64_t flags, const uint8_t *got, void *ctx)
{
	const enum cfg *c = ctx;
	unsigned int k = blog[row];

	(void)flags;
	cells[*c][k].seen += pats[k].calls - bench_bits_missing(pats[k].marks, got, NPAGES / 8);
	cells[*c][k].extra += bench_bits_missing(got, pats[k].marks, NPAGES / 8);
}

/*
 * Rebuild every report of iovatop's trace with 'iovatop report
 * --dump-bitmaps' and set each against the pages the bench dirtied for
 * it: what is missing is lost, whatever iovatop itself counted. Its
 * reports are in the order the bench made them.
 */
static void check_iovatop(const char *trace, enum cfg c)
{
	unsigned int rows;

	if (nblog > MAX_LOG)
		bench_die("one block made more reports than the bench can follow");
	rows = bench_iovatop_bitmaps(opt.iovatop, trace, opt.tmp, NPAGES / 8, nblog,
				     iovatop_row, &c);
	/* reports with no row at all: none of their calls was seen */
	unmatched[c] += rows < nblog ? nblog - rows : 0;
	if (c == CFG_IOVATOP)
		iovatop_checked = true;
}

/*
 * For a profile of the counted reports (icount_plugin's profile=): the
 * kernel's symbols with the tracer's programs and trampolines attached,
 * which move with every start of a tracer, into DIR/kallsyms.CFG.ROUND.
 */
static const char *kallsyms_dir;

static void save_kallsyms(enum cfg c, unsigned int r)
{
	char path[PATH_MAX], buf[65536];
	FILE *in, *out;
	size_t n;

	if (!kallsyms_dir)
		return;
	snprintf(path, sizeof(path), "%s/kallsyms.%s.%u", kallsyms_dir, cfg_name[c], r);
	in = fopen("/proc/kallsyms", "r");
	out = fopen(path, "w");
	if (!in || !out)
		bench_die("cannot copy /proc/kallsyms to %s: %s", path, strerror(errno));
	while ((n = fread(buf, 1, sizeof(buf), in)) > 0)
		if (fwrite(buf, 1, n, out) != n)
			bench_die("cannot write %s: %s", path, strerror(errno));
	if (ferror(in) || fclose(out))
		bench_die("cannot copy /proc/kallsyms to %s: %s", path, strerror(errno));
	fclose(in);
}

static void traced_block(enum cfg c, unsigned int r)
{
	struct bench_tracer t;
	unsigned int k, i;
	uint64_t before = 0, after;

	bench_tracer_start(&t, (enum bench_tracer_kind)c, c == CFG_BPFTRACE ? opt.bpftrace :
			   opt.iovatop, opt.tmp, "bench");
	save_kallsyms(c, r);
	nblog = 0;
	for (k = 0; k < NPAT; k++) {
		struct cell *cl = &cells[c][k];
		uint64_t t0, t1;
		int sfd;

		/*
		 * Attaching patches kernel text, and QEMU then translates the
		 * code it runs again: untimed reports first.
		 */
		for (i = 0; i < WARMUP; i++)
			one_report(k);
		t0 = t.pid ? bench_cpu_ticks(t.pid) : 0;
		for (i = 0; i < opt.reps; i++)
			cl->t[r][i] = one_report(k);
		t1 = t.pid ? bench_cpu_ticks(t.pid) : 0;
		icount_reports('T', t.pid, c, r, k);
		cl->cons_ticks += t1 - t0;
		cl->cons_calls += opt.reps * pats[k].calls;
		sfd = prog_stats_enable();
		if (sfd < 0)
			exit(1);
		one_report(k);	/* switching stats on patched kernel text too */
		for (i = 0; i < opt.stat_reps; i++)
			stat_report(c, k);
		close(sfd);
		cl->made += (WARMUP + opt.reps * (icount_labels ? 2 : 1) + 1 + opt.stat_reps) *
			    pats[k].calls;
		if (c == CFG_BARE || c == CFG_BPFTRACE) {
			after = bench_tracer_seen(&t);
			cl->seen += after - before;
			before = after;
		}
	}
	bench_tracer_stop(&t);
	if (c == CFG_IOVATOP || c == CFG_RANGES) {
		lost_records[c] += bench_iovatop_lost(t.log);
		check_iovatop(t.trace, c);
		unlink(t.trace);
	}
}

/* Added ns per call of c at k: one figure a round, paired with its baseline. */
static struct bench_spread added(enum cfg c, unsigned int k)
{
	double per[MAX_ROUNDS];
	unsigned int r, rounds = c == CFG_BPFTRACE || c == CFG_RANGES ? 1 : opt.rounds;

	for (r = 0; r < rounds; r++)
		per[r] = (bench_median(cells[c][k].t[r], opt.reps) -
			  bench_median(cells[c][k].base[r], opt.reps)) / pats[k].calls;
	return bench_spread_of(per, rounds);
}

/* The widest gap between untraced blocks of one round, per call. */
static double noise(unsigned int k)
{
	double worst = 0;
	unsigned int r, s;

	for (r = 0; r < opt.rounds; r++) {
		double lo = umed[k][r][0], hi = lo;

		for (s = 1; s < 4; s++) {
			if (!uran[r][s])
				continue;
			lo = umed[k][r][s] < lo ? umed[k][r][s] : lo;
			hi = umed[k][r][s] > hi ? umed[k][r][s] : hi;
		}
		worst = hi - lo > worst ? hi - lo : worst;
	}
	return worst / pats[k].calls;
}

static double traced_median(enum cfg c, unsigned int k)
{
	double all[MAX_ROUNDS * MAX_REPS];
	unsigned int n = 0, r, i;

	for (r = 0; r < opt.rounds; r++)
		for (i = 0; i < opt.reps; i++)
			all[n++] = cells[c][k].t[r][i];
	return bench_median(all, n);
}

/*
 * iovatop's added cost over the bare counter's. A bare figure at or below
 * zero is no cost at all but noise, so it gives no ratio; a negative
 * iovatop figure is marked, and so is a bare one inside the noise.
 */
static const char *fmt_ratio(char *buf, size_t n, double iv, double bare, double nz)
{
	if (bare <= 0)
		return "noise";
	snprintf(buf, n, "%.2f%s", iv / bare, iv < 0 ? "!" : bare < nz ? "~" : "");
	return buf;
}

static uint64_t missed(enum cfg c, unsigned int k)
{
	const struct cell *cl = &cells[c][k];

	return cl->made > cl->seen ? cl->made - cl->seen : 0;
}

static void print_sizes(enum cfg c)
{
	unsigned int i;

	for (i = 0; i < nsizes[c]; i++) {
		printf("  %-9s %-16s %4u xlated insns, %5u bytes JITed", cfg_name[c],
		       sizes[c][i].name, sizes[c][i].xlated_insns, sizes[c][i].jited_bytes);
		if (sizes[c][i].jited_insns >= 0)
			printf(" (%d x86 insns)", sizes[c][i].jited_insns);
		printf("\n");
	}
}

static void print_tables(void)
{
	unsigned int k, worst_k = 0;
	double worst = -1, best_rate = 0;
	unsigned int best_k = NPAT;
	uint64_t lost = 0, extra = 0, misses = 0, shortfall = 0;
	char a[48], b[48], c[48], d[48];
	long hz = sysconf(_SC_CLK_TCK);

	printf("iova_bitmap_set() tracing overhead: IOMMU_HWPT_GET_DIRTY_BITMAP on a 256 MiB\n"
	       "iommufd mock domain, 2 KiB pages, one set call per dirty page.\n"
	       "%u interleaved rounds (bpftrace: the first only); per round and configuration\n"
	       "%u timed reports and %u with BPF stats per pattern. Figures: median [min,max].\n\n",
	       opt.rounds, opt.reps, opt.stat_reps);

	printf("ioctl time: ns added per set call (per round: median traced - median untraced)\n");
	printf("%-12s %7s %8s %6s | %-18s | %-18s %7s %8s | %-18s\n", "pattern", "calls",
	       "untraced", "noise", "bare", "iovatop", "x bare", "consumer", "bpftrace");
	printf("%-12s %7s %8s %6s | %-18s | %-18s %7s %8s | %-18s\n", "", "/report", "ms",
	       "ns", "+ns/call", "+ns/call", "", "ns/call", "+ns/call");
	for (k = 0; k < NPAT; k++) {
		double all[MAX_ROUNDS * MAX_REPS * 3];
		unsigned int n = 0, r, i;
		struct bench_spread sb = added(CFG_BARE, k), si = added(CFG_IOVATOP, k);
		double nz = noise(k);
		const struct cell *ci = &cells[CFG_IOVATOP][k];

		for (r = 0; r < opt.rounds; r++)
			for (i = 0; i < opt.reps; i++) {
				all[n++] = cells[CFG_BARE][k].base[r][i];
				all[n++] = cells[CFG_IOVATOP][k].base[r][i];
			}
		printf("%-12s %7" PRIu64 " %8.1f %6.0f | %-18s | %-18s %7s %8.0f | %-18s\n",
		       pats[k].name, pats[k].calls, bench_median(all, n) / 1e6, nz,
		       bench_fmt_spread(a, sizeof(a), sb), bench_fmt_spread(b, sizeof(b), si),
		       fmt_ratio(c, sizeof(c), si.med, sb.med, nz),
		       ci->cons_calls ? ci->cons_ticks * 1e9 / hz / ci->cons_calls : 0.0,
		       opt.bpftrace ? bench_fmt_spread(d, sizeof(d), added(CFG_BPFTRACE, k)) : "-");
	}

	printf("\nBPF stats: program ns per set call (run_time_ns / calls, kernel only)\n");
	printf("%-12s | %-14s | %-14s %6s | %-14s %6s | %-16s | %-30s\n", "pattern", "bare",
	       "iovatop", "x bare", "ranges", "x bare", "bpftrace", "calls lost");
	printf("%-12s | %-14s | %-14s %6s | %-14s %6s | %-16s | %5s %7s %7s %8s\n", "",
	       "ns/call", "ns/call", "", "ns/call", "", "ns/call", "bare", "iovatop", "ranges",
	       "bpftrace");
	for (k = 0; k < NPAT; k++) {
		const struct cell *cb = &cells[CFG_BARE][k], *ci = &cells[CFG_IOVATOP][k];
		const struct cell *cr = &cells[CFG_RANGES][k];
		struct bench_spread sb = bench_spread_of(cb->stat_ns, cb->nstat);
		struct bench_spread si = bench_spread_of(ci->stat_ns, ci->nstat);
		struct bench_spread sr = bench_spread_of(cr->stat_ns, cr->nstat);
		double ratio = sb.med > 0 ? si.med / sb.med : 0;
		char e[48], f[16];
		double rate;

		printf("%-12s | %-14s | %-14s %6s | %-14s %6s | %-16s | %5" PRIu64 " %7" PRIu64
		       " %7" PRIu64,
		       pats[k].name, bench_fmt_spread(a, sizeof(a), sb), bench_fmt_spread(b, sizeof(b), si),
		       fmt_ratio(c, sizeof(c), si.med, sb.med, 0), bench_fmt_spread(e, sizeof(e), sr),
		       fmt_ratio(f, sizeof(f), sr.med, sb.med, 0),
		       opt.bpftrace ? bench_fmt_spread(d, sizeof(d),
						 bench_spread_of(cells[CFG_BPFTRACE][k].stat_ns,
							   cells[CFG_BPFTRACE][k].nstat)) : "-",
		       missed(CFG_BARE, k), missed(CFG_IOVATOP, k), missed(CFG_RANGES, k));
		if (opt.bpftrace)
			printf(" %8" PRIu64 "\n", missed(CFG_BPFTRACE, k));
		else
			printf(" %8s\n", "-");
		if (ratio > worst) {
			worst = ratio;
			worst_k = k;
		}
		lost += missed(CFG_IOVATOP, k);
		extra += ci->extra;
		misses += cb->stat_misses + ci->stat_misses;
		shortfall += cb->stat_short + ci->stat_short;
		rate = pats[k].calls / (traced_median(CFG_IOVATOP, k) / 1e9);
		if (!missed(CFG_IOVATOP, k) && rate > best_rate) {
			best_rate = rate;
			best_k = k;
		}
	}

	printf("\nprograms on iova_bitmap_set (xlated and JITed size, from the kernel):\n");
	print_sizes(CFG_BARE);
	print_sizes(CFG_IOVATOP);
	print_sizes(CFG_RANGES);
	if (opt.bpftrace)
		print_sizes(CFG_BPFTRACE);

	printf("\nreading: x bare = iovatop's figure / the bare counter's. In the ioctl table\n"
	       "\"noise\" means the bare counter added nothing measurable (no ratio), \"~\" a\n"
	       "bare figure below the untraced blocks' own spread, \"!\" a negative iovatop\n"
	       "figure. consumer = CPU time of iovatop's reader (utime + stime) per call; it\n"
	       "shares CPU 0 with the bench, between program runs: part of it is in the\n"
	       "ioctl time, none in the BPF stats. calls lost = calls made - calls seen:\n"
	       "the bare counter's map, bpftrace's lines, iovatop's rebuilt bitmaps\n"
	       "compared bit by bit with the pages dirtied.\n");
	printf("ranges = iovatop --kernel-bitmap 0, the design before the kernel-side\n"
	       "bitmap: each call merged into a per-CPU range, shipped through the ring.\n");
	if (lost_records[CFG_IOVATOP] || unmatched[CFG_IOVATOP])
		printf("iovatop reported %" PRIu64 " records lost; %" PRIu64
		       " reports were missing from its traces\n",
		       lost_records[CFG_IOVATOP], unmatched[CFG_IOVATOP]);
	if (lost_records[CFG_RANGES] || unmatched[CFG_RANGES])
		printf("ranges reported %" PRIu64 " records lost; %" PRIu64
		       " reports were missing from its traces\n",
		       lost_records[CFG_RANGES], unmatched[CFG_RANGES]);
	if (extra)
		printf("iovatop's bitmaps held %" PRIu64 " pages the kernel never reported\n", extra);
	if (misses || shortfall)
		printf("the kernel skipped %" PRIu64 " program runs (recursion) and ran the"
		       " programs %" PRIu64 " times fewer than calls were made\n", misses, shortfall);
	if (best_k < NPAT)
		printf("fastest pattern iovatop traced with nothing lost: %.2f M set calls/s (%s);\n"
		       "that is the emulated ioctl's pace, not a limit of iovatop\n",
		       best_rate / 1e6, pats[best_k].name);
	if (!iovatop_checked)
		printf("iovatop's trace was never checked\n");
	printf("bpf stats: worst ratio %.2f (%s), lost %" PRIu64 "\n", worst, pats[worst_k].name,
	       lost);
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: iova_bench --iovatop PATH [--bpftrace PATH] [-r ROUNDS] [-n REPS]\n"
		"                  [-s STAT_REPS] [--icount-labels FILE]\n"
		"Time IOMMU_HWPT_GET_DIRTY_BITMAP on a 256 MiB iommufd mock domain,\n"
		"untraced and under a bare fentry counter, iovatop and bpftrace, and\n"
		"read the programs' own cost from the kernel's BPF stats.\n"
		"  -r, --rounds N     interleaved rounds (default 3, max %d)\n"
		"  -n, --reps N       timed reports per pattern and block (default 3, max %d)\n"
		"  -s, --stat-reps N  reports with BPF stats per pattern and block (default 3)\n"
		"  --icount-labels FILE\n"
		"                     a line per report into FILE, naming the marks the QEMU\n"
		"                     plugin counts around its ioctl (bench/vm/icount_table)\n"
		"  --kallsyms DIR     the kernel's symbols under each tracer into DIR, for a\n"
		"                     profile of the counted reports (bench/vm/icount_profile)\n",
		MAX_ROUNDS, MAX_REPS);
}

static unsigned int number(const char *s, unsigned int max)
{
	char *end;
	unsigned long v = strtoul(s, &end, 10);

	if (*s < '0' || *s > '9' || *end || !v || v > max) {
		fprintf(stderr, "iova_bench: %s is not a number from 1 to %u\n", s, max);
		exit(2);
	}
	return v;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "iovatop", required_argument, NULL, 'i' },
		{ "bpftrace", required_argument, NULL, 'b' },
		{ "rounds", required_argument, NULL, 'r' },
		{ "reps", required_argument, NULL, 'n' },
		{ "stat-reps", required_argument, NULL, 's' },
		{ "icount-labels", required_argument, NULL, 'L' },
		{ "kallsyms", required_argument, NULL, 'K' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	unsigned int k, r;
	int c;

	while ((c = getopt_long(argc, argv, "i:b:r:n:s:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'i': opt.iovatop = optarg; break;
		case 'b': opt.bpftrace = optarg; break;
		case 'r': opt.rounds = number(optarg, MAX_ROUNDS); break;
		case 'n': opt.reps = number(optarg, MAX_REPS); break;
		case 's': opt.stat_reps = number(optarg, MAX_REPS); break;
		case 'L':
			icount_labels = fopen(optarg, "w");
			if (!icount_labels)
				bench_die("cannot create %s: %s", optarg, strerror(errno));
			break;
		case 'K':
			kallsyms_dir = optarg;
			/* the programs and trampolines by name, not only by address */
			{
				FILE *f = fopen("/proc/sys/net/core/bpf_jit_kallsyms", "w");

				if (!f || fputs("1", f) < 0 || fclose(f))
					bench_die("cannot list BPF programs in /proc/kallsyms: %s",
						  strerror(errno));
			}
			break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (!opt.iovatop) {
		fprintf(stderr, "iova_bench: --iovatop PATH is required\n");
		return 2;
	}
	for (k = 0; k < NPAT; k++)
		if (dirty_pattern_build(&pats[k], NPAGES))
			bench_die("cannot build the dirty patterns");
	if (prog_stats_init())
		return 1;
	/* see "The consumer" at the top */
	if (icount_labels && sysconf(_SC_NPROCESSORS_ONLN) != 1)
		bench_die("the instruction count needs a guest of one vCPU (bench/vm/run.sh boots one): "
			  "QEMU counts a block on the vCPU that translated it");
	if (icount_labels)
		bench_rt_unthrottle();	/* see icount_reports() */
	{
		cpu_set_t one;

		/* the consumers started later inherit it (see the top) */
		CPU_ZERO(&one);
		CPU_SET(0, &one);
		if (sched_setaffinity(0, sizeof(one), &one))
			bench_die("cannot pin the bench to CPU 0: %s", strerror(errno));
	}
	if (mock_domain_open(&dom, DOMAIN_BYTES))
		bench_die("%s", dom.err);
	one_report(3);	/* warm up at 100 %: first pins, page faults */

	for (r = 0; r < opt.rounds; r++) {
		/* odd rounds swap bare and iovatop: a drift favours neither */
		enum cfg first = r % 2 ? CFG_IOVATOP : CFG_BARE;
		enum cfg second = r % 2 ? CFG_BARE : CFG_IOVATOP;

		untraced_block(first, r, 0);
		traced_block(first, r);
		untraced_block(second, r, 1);
		traced_block(second, r);
		if (opt.bpftrace && !r) {
			untraced_block(CFG_BPFTRACE, r, 2);
			traced_block(CFG_BPFTRACE, r);
		}
		if (!r) {
			untraced_block(CFG_RANGES, r, 3);
			traced_block(CFG_RANGES, r);
		}
		fprintf(stderr, "iova_bench: round %u of %u done\n", r + 1, opt.rounds);
	}
	if (icount_labels && fclose(icount_labels))
		bench_die("cannot write the instruction-count labels: %s", strerror(errno));
	print_tables();
	return 0;
}
