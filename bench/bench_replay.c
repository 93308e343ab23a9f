// SPDX-License-Identifier: GPL-2.0
/*
 * bench_replay.c - records per second through the replay path (trace file
 * reader -> model, no terminal), side by side with reading the same file's
 * bytes and with the reader alone, for raw and zstd traces: with the
 * default 4 KiB blocks, with 64 KiB blocks (what format 1's chunks were)
 * and with one record per block (record --block-bytes 1). The write rate
 * says whether the recorder keeps up with each.
 *
 * The synthetic trace looks like pre-copy on two devices: reports on a
 * 4 GiB bitmap of 4 KiB pages, each with 4096 RANGE records of 1 to 16
 * pages at scattered offsets, so the model's rebuild does real work.
 *
 * The target is judged on what record writes by default, zstd in 4 KiB
 * blocks; the other codecs are shown beside it. Every figure is the median
 * of RUNS rounds, each round writing and reading every codec in turn (so
 * that the machine's drift spreads over all of them), with min and max.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"
#include "model.h"
#include "trace_file.h"

#define RANGES_PER_REPORT	4096
#define TARGET			10e6	/* records per second, one core */
#define RUNS			5

static uint64_t rng = 0x9e3779b97f4a7c15ull;

static uint64_t next_rand(void)
{
	return bench_rand(&rng);
}

static int add(struct trace_writer *w, void *rec)
{
	return trace_writer_add(w, rec);
}

/* Returns the number of records written, or 0 on failure. */
static uint64_t make_trace(const char *path, uint32_t codec, uint32_t block,
			   uint64_t want, double *cpu)
{
	struct trace_writer_opts o = { .codec = codec, .block_bytes = block };
	/* as record writes a trace without --qmp: replay reads it once */
	struct trace_meta meta = { .layout = IOVA_LAYOUT_V6_11,
				   .contents = TRACE_CONTENTS_DECLARED };
	struct trace_writer *w;
	uint64_t n = 0, ts = 1000000000ull, id = 1, i;
	char err[256];
	int ret = 0;

	strcpy(meta.probe_mode, "synthetic");
	*cpu = cpu_s();
	w = trace_writer_open(path, &meta, &o, err, sizeof(err));
	if (!w) {
		fprintf(stderr, "bench_replay: %s\n", err);
		return 0;
	}
	rng = 0x9e3779b97f4a7c15ull;
	while (n < want && !ret) {
		uint64_t bid = id++, rid = id++, base = (id & 2) ? 0x100000000ull : 0x800000000ull;
		struct iova_rec_alloc a = {
			.hdr = { IOVA_REC_ALLOC, sizeof(a), 0, ts }, .bitmap_id = bid,
			.iova = base, .length = 4ull << 30, .page_size = 4096,
			.user_addr = 0x7f0000000000ull,
		};
		struct iova_rec_report_begin b = {
			.hdr = { IOVA_REC_REPORT_BEGIN, sizeof(b), 0, ts + 1 },
			.bitmap_id = bid, .report_id = rid, .path = IOVA_PATH_VFIO,
			.iova = base, .length = 4ull << 30,
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

		snprintf(b.devname, sizeof(b.devname), "0000:%02x:00.0",
			 (unsigned int)(id & 2));
		ret |= add(w, &a) | add(w, &b);
		for (i = 0; i < RANGES_PER_REPORT && !ret; i++) {
			uint64_t rnd = next_rand();

			r.iova = base + ((rnd >> 20) % (1ull << 20)) * 4096;
			r.length = (1 + rnd % 16) * 4096;
			if (r.iova + r.length > base + (4ull << 30))
				r.length = 4096;
			ret = add(w, &r);
		}
		ret |= add(w, &e) | add(w, &f);
		n += 4 + RANGES_PER_REPORT;
		ts += 50000000;	/* 20 reports a second */
	}
	if (ret) {
		fprintf(stderr, "bench_replay: %s\n", trace_writer_error(w));
		trace_writer_abandon(w);
		return 0;
	}
	if (trace_writer_close(w, err, sizeof(err))) {
		fprintf(stderr, "bench_replay: %s\n", err);
		return 0;
	}
	*cpu = cpu_s() - *cpu;
	return n;
}

/* Plain read() of the whole file: the floor any reader stands on. */
static double raw_read(const char *path, uint64_t *bytes)
{
	static char buf[1 << 20];
	double t0 = cpu_s();
	ssize_t k;
	int fd = open(path, O_RDONLY);

	*bytes = 0;
	if (fd < 0)
		return 0;
	while ((k = read(fd, buf, sizeof(buf))) > 0)
		*bytes += (uint64_t)k;
	close(fd);
	return cpu_s() - t0;
}

static int count_sink(void *ctx, const struct iova_rec_hdr *rec)
{
	uint64_t *n = ctx;

	*n += rec->size;	/* touch the record as a consumer would */
	return 0;
}

/*
 * Reader alone (sink = nothing) or reader -> model. Returns CPU seconds
 * (the machine may be shared; one core's work is what the target is
 * about), wall seconds in *wall.
 */
static double replay(const char *path, bool with_model, uint64_t *records,
		     double *wall)
{
	struct model_opts mo = { 0 };
	struct trace_reader *r;
	struct model_snapshot s;
	struct model *m = NULL;
	double t0, c0;
	uint64_t bytes = 0;
	char err[256];
	int ret;

	r = trace_open(path, err, sizeof(err));
	if (!r) {
		fprintf(stderr, "bench_replay: %s\n", err);
		return 0;
	}
	if (with_model)
		m = model_new(&mo);
	t0 = now_s();
	c0 = cpu_s();
	ret = with_model ? trace_read_all(r, model_apply, m) :
			   trace_read_all(r, count_sink, &bytes);
	if (with_model) {
		model_finish(m);
		model_snapshot(m, model_now(m), MODEL_SORT_RATE, false, NULL, &s);
	}
	c0 = cpu_s() - c0;
	*wall = now_s() - t0;
	*records = trace_read_totals(r)->records;
	if (ret || trace_state(r) != TRACE_OK)
		fprintf(stderr, "bench_replay: reading failed: %d %s\n", ret,
			trace_status_msg(r));
	model_free(m);
	trace_close(r);
	return c0;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* Sort a figure's rounds; its median. */
static double med(double *v)
{
	qsort(v, RUNS, sizeof(*v), cmp_double);
	return v[RUNS / 2];
}

int main(int argc, char **argv)
{
	uint64_t want = argc > 1 ? strtoull(argv[1], NULL, 10) : 2000000;
	static const struct {
		uint32_t codec, block;
		const char *name;
	} cfgs[] = {
		{ TRACE_CODEC_ZSTD, 0, "zstd 4K" },	/* record's default: the target's */
		{ TRACE_CODEC_NONE, 0, "none 4K" },
		{ TRACE_CODEC_ZSTD, 64 << 10, "zstd 64K" },
		{ TRACE_CODEC_NONE, 1, "none 1rec" },
		{ TRACE_CODEC_ZSTD, 1, "zstd 1rec" },
	};
	enum { NCFG = sizeof(cfgs) / sizeof(cfgs[0]) };
	/* per codec and round: rates in records (or MiB) per CPU second */
	static double wr[NCFG][RUNS], raw[NCFG][RUNS], rd[NCFG][RUNS], md[NCFG][RUNS],
		      wall[NCFG][RUNS], ns[NCFG][RUNS];
	uint64_t recs[NCFG] = { 0 }, fbytes[NCFG] = { 0 };
	char path[] = "/tmp/iovatop-bench-XXXXXX";
	int fd = mkstemp(path);
	unsigned int i, r;
	double def;

	if (fd < 0) {
		perror("bench_replay: mkstemp");
		return 1;
	}
	close(fd);
	for (r = 0; r < RUNS; r++)
		for (i = 0; i < NCFG; i++) {
			uint64_t n, bytes, recs_r = 0, recs_m = 0;
			double t_wr, t_raw, t_rd, t_md, wall_rd, wall_md;

			n = make_trace(path, cfgs[i].codec, cfgs[i].block, want, &t_wr);
			if (!n) {
				unlink(path);
				return 1;
			}
			/* first pass warms the page cache, as a replay of a fresh file */
			raw_read(path, &bytes);
			t_raw = raw_read(path, &bytes);
			t_rd = replay(path, false, &recs_r, &wall_rd);
			t_md = replay(path, true, &recs_m, &wall_md);
			if (recs_r != n || recs_m != n) {
				fprintf(stderr, "bench_replay: read %llu/%llu of %llu records\n",
					(unsigned long long)recs_r, (unsigned long long)recs_m,
					(unsigned long long)n);
				unlink(path);
				return 1;
			}
			recs[i] = n;
			fbytes[i] = bytes;
			wr[i][r] = (double)n / t_wr / 1e6;
			raw[i][r] = (double)bytes / (1 << 20) / t_raw;
			rd[i][r] = (double)n / t_rd / 1e6;
			md[i][r] = (double)n / t_md / 1e6;
			wall[i][r] = (double)n / wall_md / 1e6;
			ns[i][r] = (t_md - t_rd) * 1e9 / (double)n;
		}
	unlink(path);
	printf("bench_replay: replay path, trace file -> model, no terminal; rates per CPU second,\n"
	       "  median of %d interleaved rounds; reader+model with (min-max)\n", RUNS);
	printf("  blocks: 4K the default, 64K as format 1's chunks, 1rec one record per block (--block-bytes 1)\n");
	printf("  %-9s %9s %9s %9s %12s %12s %12s %27s %12s %8s\n", "codec", "records",
	       "file MiB", "B/record", "write rec/s", "read() MiB/s", "reader rec/s",
	       "reader+model rec/s (min-max)", "(wall rec/s)", "model ns");
	for (i = 0; i < NCFG; i++) {
		double m = med(md[i]);

		printf("  %-9s %9llu %9.1f %9.2f %10.1f M %12.0f %10.1f M %10.1f M (%5.1f-%5.1f) %10.1f M %8.1f\n",
		       cfgs[i].name, (unsigned long long)recs[i],
		       (double)fbytes[i] / (1 << 20), (double)fbytes[i] / (double)recs[i],
		       med(wr[i]), med(raw[i]), med(rd[i]), m, md[i][0], md[i][RUNS - 1],
		       med(wall[i]), med(ns[i]));
	}
	def = md[0][RUNS / 2];
	printf("  target >= %.0f M records/s through reader -> model with record's default (zstd, 4 KiB blocks): %s (%.1f M/s, min %.1f)\n",
	       TARGET / 1e6, def * 1e6 >= TARGET ? "met" : "NOT met", def, md[0][0]);
	return 0;
}
