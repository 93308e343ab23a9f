// SPDX-License-Identifier: GPL-2.0
/*
 * dirty_pattern.c - the dirty patterns of the VM benchmark.
 *
 * mlx5 and pds call iova_bitmap_set() once per dirty page, so how much
 * iovatop can merge in the kernel depends on where the dirty pages lie:
 * contiguous blocks merge into a few ranges, random pages at 1 or 10 %
 * almost never merge, and runs of 2 to 8 pages sit between. The random
 * choices come from a fixed seed, so every run of the bench, and every
 * report of one run, dirties the same pages and the call counts are exact.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dirty_pattern.h"

#define CONTIG_BLOCK	512u	/* pages: 1 MiB of 2 KiB mock pages */
#define RUN_MIN		2u
#define RUN_MAX		8u

/* xorshift64: enough for spreading pages, and the same on every host */
static uint64_t next_rand(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static void mark(uint8_t *m, uint64_t p)
{
	m[p / 8] |= 1u << (p % 8);
}

static int marked(const uint8_t *m, uint64_t p)
{
	return m[p / 8] >> (p % 8) & 1;
}

int dirty_pattern_build(struct dirty_pattern *p, uint64_t npages)
{
	static const char *const kinds[] = { "contig", "random", "runs2-8" };
	uint64_t seed = 0x9e3779b97f4a7c15ull ^ p->pct ^ (uint64_t)p->kind << 32;
	uint64_t pg, i, period;

	if (!p->pct || p->pct > 100)
		return -1;
	p->marks = calloc(1, npages / 8);
	if (!p->marks)
		return -1;
	snprintf(p->name, sizeof(p->name), "%s %u%%", kinds[p->kind], p->pct);
	switch (p->kind) {
	case DIRTY_CONTIG:
		period = CONTIG_BLOCK * 100ull / p->pct;
		for (pg = 0; pg < npages; pg += period)
			for (i = 0; i < CONTIG_BLOCK && pg + i < npages; i++)
				mark(p->marks, pg + i);
		break;
	case DIRTY_RANDOM:
		for (pg = 0; pg < npages; pg++)
			if (next_rand(&seed) % 100 < p->pct)
				mark(p->marks, pg);
		break;
	case DIRTY_RUNS: {
		/*
		 * Runs average 5 pages, so gaps averaging 5 * (100 - pct) / pct
		 * keep pct % dirty: gaps are drawn from 1 .. twice that.
		 */
		uint64_t gap = (RUN_MIN + RUN_MAX) * (100 - p->pct) / p->pct;

		pg = 0;
		for (;;) {
			uint64_t run = RUN_MIN + next_rand(&seed) % (RUN_MAX - RUN_MIN + 1);

			pg += 1 + (gap > 1 ? next_rand(&seed) % (gap - 1) : 0);
			if (pg >= npages)
				break;
			for (i = 0; i < run && pg < npages; i++, pg++)
				mark(p->marks, pg);
		}
		break;
	}
	default:
		return -1;
	}
	p->calls = p->runs = 0;
	for (pg = 0; pg < npages; pg++) {
		if (!marked(p->marks, pg))
			continue;
		p->calls++;
		p->runs += !pg || !marked(p->marks, pg - 1);
	}
	return 0;
}
