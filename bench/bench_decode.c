// SPDX-License-Identifier: GPL-2.0
/*
 * bench_decode.c - how fast the decode library rebuilds a user bitmap,
 * side by side with memset() of the same bytes (the floor for writing
 * them) and a naive loop that sets one bit at a time.
 *
 * Throughput is GiB of user bitmap produced per second: the bitmap's size
 * divided by the time the calls of one report take (the bitmap is zeroed
 * outside the timing, as the kernel gets it zeroed from user space). Time
 * is this thread's CPU time, so that a busy machine skews all columns
 * alike instead of whichever ran while a compiler had the core. Per
 * pattern, memset, the decoder and the naive loop are each warmed up once
 * (pages faulted in, caches as in steady use), then timed in ROUNDS
 * interleaved rounds of at least SAMPLE_SECONDS each: every figure is the
 * median of its rounds, with their min and max.
 * Patterns:
 *   dense, runs        every page dirty, 1 GiB, 128 MiB or 2 MiB of IOVA a
 *                      call (what the tracer's coalesced range records
 *                      of a dirty region look like)
 *   dense, page/call   every page dirty, one call a page (as mlx5 reports)
 *   sparse, page/call  1 page in 64 dirty, random, one call a page
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "iova_bitmap_decode.h"

#define PG		4096ULL
#define BITMAP_BYTES	(8ULL << 20)	/* 8 MiB: 256 GiB of IOVA, 4 windows */
#define NBITS		(BITMAP_BYTES * 8)
#define BASE		(1ULL << 40)
#define SAMPLE_SECONDS	0.02
#define ROUNDS		7

/*
 * A report's calls: runs of `pages` pages over the whole bitmap, or (sparse)
 * the precomputed list of one-page calls. Dense calls are generated in the
 * timed loop, the same way for the decoder and the naive loop, so that a
 * page-per-call report of 2^26 calls needs no 1 GiB list.
 */
struct pattern {
	const char *name;
	uint64_t pages;
	uint64_t *iova;		/* sparse only */
	size_t n;
};

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void barrier(void *p)
{
	__asm__ volatile("" : : "r"(p) : "memory");
}

static uint64_t rng = 0x9e3779b97f4a7c15ULL;

static uint64_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static void make_dense(struct pattern *p, const char *name, uint64_t pages)
{
	p->name = name;
	p->pages = pages;
	p->iova = NULL;
	p->n = NBITS / pages;
}

static void make_sparse(struct pattern *p, const char *name, unsigned int every)
{
	uint64_t b;

	p->name = name;
	p->pages = 1;
	p->n = 0;
	p->iova = malloc(NBITS / every * 2 * sizeof(uint64_t));
	if (!p->iova) {
		fprintf(stderr, "bench_decode: out of memory.\n");
		exit(1);
	}
	for (b = 0; b < NBITS && p->n < NBITS / every * 2; b++)
		if (!(rnd() % every))
			p->iova[p->n++] = BASE + b * PG;
}

static uint64_t call_iova(const struct pattern *p, size_t i)
{
	return p->iova ? p->iova[i] : BASE + i * p->pages * PG;
}

/* Seconds per report with the decoder. */
static double time_decode(struct ibd *d, const struct pattern *p)
{
	uint64_t len = p->pages * PG;
	double t = 0, start;
	int reps = 0;
	size_t i;

	while (t < SAMPLE_SECONDS) {
		ibd_clear(d);
		start = now();
		for (i = 0; i < p->n; i++)
			ibd_set(d, call_iova(p, i), len);
		barrier(d->words);
		t += now() - start;
		reps++;
	}
	return t / reps;
}

/* Seconds per report with a loop that sets one bit at a time. */
static double time_naive(uint64_t *words, const struct pattern *p)
{
	uint64_t len = p->pages * PG;
	double t = 0, start;
	int reps = 0;
	size_t i;

	while (t < SAMPLE_SECONDS) {
		memset(words, 0, BITMAP_BYTES);
		start = now();
		for (i = 0; i < p->n; i++) {
			uint64_t iova = call_iova(p, i), b;
			uint64_t first = (iova - BASE) / PG;
			uint64_t last = (iova + len - 1 - BASE) / PG;

			for (b = first; b <= last; b++)
				words[b / 64] |= 1ULL << (b % 64);
		}
		barrier(words);
		t += now() - start;
		reps++;
	}
	return t / reps;
}

static double time_memset(uint64_t *words)
{
	double t = 0, start;
	int reps = 0;

	while (t < SAMPLE_SECONDS) {
		start = now();
		memset(words, 0xff, BITMAP_BYTES);
		barrier(words);
		t += now() - start;
		reps++;
	}
	return t / reps;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* Sort the rounds; the median. */
static double median(double *v)
{
	qsort(v, ROUNDS, sizeof(*v), cmp_double);
	return v[ROUNDS / 2];
}

static double gibps(double seconds)
{
	return (double)BITMAP_BYTES / (1ULL << 30) / seconds;
}

int main(void)
{
	struct pattern pats[5];
	uint64_t *naive = malloc(BITMAP_BYTES);
	struct ibd d;
	int i;

	if (!naive || ibd_init(&d, BASE, NBITS * PG, PG, IBD_RULE_CURRENT)) {
		fprintf(stderr, "bench_decode: cannot allocate an 8 MiB bitmap.\n");
		return 1;
	}
	make_dense(&pats[0], "dense, 1 GiB runs", 262144);
	make_dense(&pats[1], "dense, 128 MiB runs", 32768);
	make_dense(&pats[2], "dense, 2 MiB runs", 512);
	make_dense(&pats[3], "dense, page/call (mlx5)", 1);
	make_sparse(&pats[4], "sparse 1/64, page/call", 64);

	printf("decode: GiB of user bitmap per second (CPU time), %llu MiB bitmap "
	       "= %llu GiB of IOVA at 4 KiB pages, rule current;\n"
	       "  median of %d interleaved rounds (min-max), memset warm and timed beside each pattern\n",
	       BITMAP_BYTES >> 20, (NBITS * PG) >> 30, ROUNDS);
	printf("%-24s %9s %21s %9s %9s %11s %8s\n", "pattern", "calls",
	       "ibd_set (min-max)", "naive", "memset", "ibd/memset", "ns/call");
	for (i = 0; i < 5; i++) {
		double td[ROUNDS], tn[ROUNDS], tm[ROUNDS], md, mn, mm;
		int r;

		/* untimed: faults the pages in, warms the caches */
		time_memset(naive);
		time_decode(&d, &pats[i]);
		time_naive(naive, &pats[i]);
		for (r = 0; r < ROUNDS; r++) {
			tm[r] = time_memset(naive);
			td[r] = time_decode(&d, &pats[i]);
			tn[r] = time_naive(naive, &pats[i]);
		}
		md = median(td);
		mn = median(tn);
		mm = median(tm);
		printf("%-24s %9zu %7.2f (%5.2f-%5.2f) %9.2f %9.2f %10.2fx %8.2f\n",
		       pats[i].name, pats[i].n, gibps(md), gibps(td[ROUNDS - 1]),
		       gibps(td[0]), gibps(mn), gibps(mm), mm / md,
		       md * 1e9 / (double)pats[i].n);
		if (!pats[i].iova && ibd_count(&d) != NBITS) {
			fprintf(stderr, "bench_decode: a dense bitmap has %llu "
				"bits set, not %llu: the decoder is wrong.\n",
				(unsigned long long)ibd_count(&d),
				(unsigned long long)NBITS);
			return 1;
		}
		free(pats[i].iova);
	}
	printf("(one call a page cannot approach memset: 16 bytes of input per "
	       "bit of output; the tracer merges adjacent calls into range "
	       "records, so dense reports reach the decoder as runs)\n");
	ibd_free(&d);
	free(naive);
	return 0;
}
