// SPDX-License-Identifier: GPL-2.0
/*
 * bench_scale.c - how iovatop's memory and speed follow the size of the
 * bitmap it rebuilds: tracked size 1 GiB to 4 TiB, peak RSS and records
 * per CPU second of `iovatop report` and of `iovatop replay -b`, each run
 * as its own process (the peak is the child's, from wait4()'s rusage) and
 * each beside its goal.
 *
 * The trace is one device of the tracked size (4 KiB pages) whose reports
 * each hold 4096 RANGE records of 1 to 16 pages at random offsets over the
 * whole bitmap, bracketed by alloc, begin, end and free as the kernel does
 * per report: the worst case for anything that grows with the bitmap
 * rather than with what is dirty.
 *
 * Goals (issue 15): RSS at most 2 x the bitmap + 16 MiB (80 MiB at 1 TiB)
 * and at least 10 M records/s. Past 2 TiB the rebuild is opted into with
 * --max-bitmap, which the row names.
 *
 * usage: bench_scale [IOVATOP [RECORDS [GIB]]] (default ./iovatop, 1000000,
 * every size; GIB runs that tracked size alone). With BENCH_SCALE_KEEP=1
 * the last trace stays in /tmp for a profiler, and its name is printed.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <fcntl.h>
#include <unistd.h>

#include "bench.h"
#include "trace_file.h"

#define RANGES_PER_REPORT	4096
#define TARGET_RATE		10e6	/* records per CPU second */
#define RSS_SLACK		(16ull << 20)
#define RUNS			5	/* the median of these, per figure */

static uint64_t rng;

static int add(struct trace_writer *w, const struct iova_rec_hdr *rec)
{
	return trace_writer_add(w, rec);
}

/*
 * Returns the number of records written (0 for want 0: a trace of its
 * header alone), or UINT64_MAX on failure.
 */
static uint64_t make_trace(const char *path, uint64_t tracked, uint64_t spread,
			   uint64_t want)
{
	/* as record writes a trace without --qmp: replay reads it once */
	struct trace_meta meta = { .layout = IOVA_LAYOUT_V6_11,
				   .contents = TRACE_CONTENTS_DECLARED };
	const uint64_t base = 0x100000000ull, pages = spread / 4096;
	uint64_t n = 0, ts = 1000000000ull, id = 1, i;
	struct trace_writer *w;
	char err[256];
	int ret = 0;

	strcpy(meta.probe_mode, "synthetic");
	w = trace_writer_open(path, &meta, NULL, err, sizeof(err));
	if (!w) {
		fprintf(stderr, "bench_scale: %s\n", err);
		return UINT64_MAX;
	}
	rng = 0x9e3779b97f4a7c15ull;
	while (n < want && !ret) {
		uint64_t bid = id++, rid = id++;
		struct iova_rec_alloc a = {
			.hdr = { IOVA_REC_ALLOC, sizeof(a), 0, ts }, .bitmap_id = bid,
			.iova = base, .length = tracked, .page_size = 4096,
			.user_addr = 0x7f0000000000ull, .kpage_shift = 12,
		};
		struct iova_rec_report_begin b = {
			.hdr = { IOVA_REC_REPORT_BEGIN, sizeof(b), 0, ts + 1 },
			.bitmap_id = bid, .report_id = rid, .path = IOVA_PATH_VFIO,
			.iova = base, .length = tracked,
		};
		struct iova_rec_range r = {
			.hdr = { IOVA_REC_RANGE, sizeof(r), 0, ts + 2 },
			.bitmap_id = bid, .report_id = rid, .ncalls = 1,
		};
		struct iova_rec_report_end e = {
			.hdr = { IOVA_REC_REPORT_END, sizeof(e), 0, ts + 3 },
			.bitmap_id = bid, .report_id = rid,
			.ranges = RANGES_PER_REPORT, .set_calls = RANGES_PER_REPORT,
		};
		struct iova_rec_free f = {
			.hdr = { IOVA_REC_FREE, sizeof(f), 0, ts + 4 }, .bitmap_id = bid,
		};

		snprintf(b.devname, sizeof(b.devname), "0000:3b:00.0");
		ret = add(w, &a.hdr) || add(w, &b.hdr);
		for (i = 0; i < RANGES_PER_REPORT && !ret; i++) {
			uint64_t rnd = bench_rand(&rng);

			r.iova = base + (rnd >> 8) % pages * 4096;
			r.length = (1 + rnd % 16) * 4096;
			if (r.iova + r.length > base + spread)
				r.length = 4096;
			ret = add(w, &r.hdr);
		}
		ret = ret || add(w, &e.hdr) || add(w, &f.hdr);
		n += 4 + RANGES_PER_REPORT;
		ts += 50000000;	/* 20 reports a second */
	}
	if (ret) {
		fprintf(stderr, "bench_scale: %s\n", trace_writer_error(w));
		trace_writer_abandon(w);
		return UINT64_MAX;
	}
	if (trace_writer_close(w, err, sizeof(err))) {
		fprintf(stderr, "bench_scale: %s\n", err);
		return UINT64_MAX;
	}
	return n;
}

/* Run argv with stdout to /dev/null: its CPU seconds and peak RSS in bytes. */
static int run(char *const argv[], double *cpu, uint64_t *rss)
{
	struct rusage ru;
	int status;
	pid_t pid = fork();

	if (pid < 0)
		return -errno;
	if (!pid) {
		int fd = open("/dev/null", O_WRONLY);

		if (fd >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
		}
		execv(argv[0], argv);
		_exit(127);
	}
	if (wait4(pid, &status, 0, &ru) != pid)
		return -errno;
	if (!WIFEXITED(status) || WEXITSTATUS(status))
		return -ECHILD;
	*cpu = (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
	       (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
	*rss = (uint64_t)ru.ru_maxrss << 10;
	return 0;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static const char *size_name(uint64_t b, char *buf, size_t len)
{
	if (b >= 1ull << 40)
		snprintf(buf, len, "%llu TiB", (unsigned long long)(b >> 40));
	else
		snprintf(buf, len, "%llu GiB", (unsigned long long)(b >> 30));
	return buf;
}

/* The median of RUNS figures, sorted in place, and its min and max. */
struct fig {
	double v[RUNS];
};

static double med(struct fig *f)
{
	qsort(f->v, RUNS, sizeof(double), cmp_double);
	return f->v[RUNS / 2];
}

/*
 * Run both commands RUNS times, interleaved so that the machine's drift
 * spreads over both, on the trace at path of n records. The rate is per
 * CPU second past start[c], what the command takes on a trace without
 * records (loading the program, libraries and the header): about 10 ms
 * here, a tenth of a run.
 */
static int measure(char *cmds[2][6], uint64_t n, const double start[2], struct fig rate[2],
		   struct fig rss[2])
{
	unsigned int c, k;

	for (k = 0; k < RUNS; k++)
		for (c = 0; c < 2; c++) {
			double cpu = 0;
			uint64_t peak = 0;
			int err = run(cmds[c], &cpu, &peak);

			if (err) {
				fprintf(stderr, "bench_scale: %s %s failed (%d)\n", cmds[c][0],
					cmds[c][1], err);
				return err;
			}
			rate[c].v[k] = n ? (double)n / (cpu - start[c] > 1e-6 ? cpu - start[c] : 1e-6) :
					   cpu;
			rss[c].v[k] = (double)peak;
		}
	return 0;
}

int main(int argc, char **argv)
{
	static const uint64_t sizes[] = {
		1ull << 30, 16ull << 30, 256ull << 30, 1ull << 40, 2ull << 40, 4ull << 40,
	};
	char *bin = argc > 1 ? argv[1] : "./iovatop";
	uint64_t want = argc > 2 ? strtoull(argv[2], NULL, 10) : 1000000;
	uint64_t only = argc > 3 ? strtoull(argv[3], NULL, 10) << 30 : 0;
	char path[] = "/tmp/iovatop-scale-XXXXXX";
	bool ok = true;
	unsigned int i, c;
	int fd = mkstemp(path);

	if (fd < 0) {
		perror("bench_scale: mkstemp");
		return 1;
	}
	close(fd);
	setvbuf(stdout, NULL, _IOLBF, 0);	/* a row as soon as it is measured */
	printf("bench_scale: one device of the tracked size, reports of %d ranges of 1-16 pages;\n"
	       "  each command its own process: peak RSS (wait4) and records per CPU second\n"
	       "  (past the CPU time it takes on a trace of no records: start-up),\n"
	       "  median of %d interleaved runs (min-max). Two traces per size:\n"
	       "  spread  the ranges anywhere in the bitmap: the most memory (hot regions over\n"
	       "          all of it); its rate is bounded by one cache miss a record\n"
	       "  window  the ranges in its first 4 GiB, as bench_replay: the same records at\n"
	       "          every size, so the rate shows what the bitmap's size costs\n"
	       "  goals: RSS <= 2 x bitmap + 16 MiB (spread), rate >= %.0f M records/s (window)\n",
	       RANGES_PER_REPORT, RUNS, TARGET_RATE / 1e6);
	printf("  %-7s %7s %-9s %24s %6s %26s %6s %20s\n", "tracked", "bitmap", "command",
	       "RSS MiB spread (min-max)", "goal", "M rec/s window (min-max)", "goal",
	       "M rec/s spread");
	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		uint64_t tracked = sizes[i], bm = tracked / 4096 / 8, n;
		char sz[32], opt[64];
		/* past the default cap the user opts into the memory */
		bool big = bm > (64ull << 20);
		char *cmds[2][6] = {
			{ bin, "report", path, NULL, NULL, NULL },
			{ bin, "replay", "-b", path, NULL, NULL },
		};
		struct fig rate_s[2], rss_s[2], rate_w[2], rss_w[2], empty[2], rss_e[2];
		double start[2] = { 0, 0 };
		double goal_rss = (double)(2 * bm + RSS_SLACK);

		if (only && tracked != only)
			continue;
		snprintf(opt, sizeof(opt), "--max-bitmap=%lluM",
			 (unsigned long long)(bm >> 20));
		if (big) {
			cmds[0][2] = opt;
			cmds[0][3] = path;
			cmds[1][3] = opt;
			cmds[1][4] = path;
		}
		/* a trace of no records: the CPU time of starting up */
		if (make_trace(path, tracked, tracked, 0) || measure(cmds, 0, start, empty, rss_e))
			goto fail;
		start[0] = med(&empty[0]);
		start[1] = med(&empty[1]);
		n = make_trace(path, tracked, tracked, want);
		if (n == UINT64_MAX || measure(cmds, n, start, rate_s, rss_s))
			goto fail;
		n = make_trace(path, tracked, tracked < (4ull << 30) ? tracked : 4ull << 30, want);
		if (n == UINT64_MAX || measure(cmds, n, start, rate_w, rss_w))
			goto fail;
		for (c = 0; c < 2; c++) {
			double r = med(&rss_s[c]), w = med(&rate_w[c]), sp = med(&rate_s[c]);

			ok = ok && r <= goal_rss && w >= TARGET_RATE;
			printf("  %-7s %5llu %s %-9s %9.1f (%5.1f-%5.1f) %6.0f %s %10.2f (%5.2f-%5.2f) %3.0f %s %7.2f (%4.2f-%4.2f)%s\n",
			       c ? "" : size_name(tracked, sz, sizeof(sz)),
			       (unsigned long long)(bm >= 1 << 20 ? bm >> 20 : bm >> 10),
			       bm >= 1 << 20 ? "M" : "K", c ? "replay -b" : "report",
			       r / 1048576, rss_s[c].v[0] / 1048576, rss_s[c].v[RUNS - 1] / 1048576,
			       goal_rss / 1048576, r <= goal_rss ? "ok" : "NO",
			       w / 1e6, rate_w[c].v[0] / 1e6, rate_w[c].v[RUNS - 1] / 1e6,
			       TARGET_RATE / 1e6, w >= TARGET_RATE ? "ok" : "NO",
			       sp / 1e6, rate_s[c].v[0] / 1e6, rate_s[c].v[RUNS - 1] / 1e6,
			       big ? "  --max-bitmap" : "");
		}
	}
	if (getenv("BENCH_SCALE_KEEP"))
		printf("  trace kept: %s\n", path);
	else
		unlink(path);
	printf("  scale goals: %s\n", ok ? "met" : "NOT met");
	return 0;
fail:
	unlink(path);
	return 1;
}
