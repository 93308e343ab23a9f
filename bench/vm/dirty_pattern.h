/* SPDX-License-Identifier: GPL-2.0 */
/*
 * dirty_pattern.h - which mock pages the VM benchmark dirties before each
 * report: contiguous blocks, random pages, and short random runs.
 */
#ifndef DIRTY_PATTERN_H
#define DIRTY_PATTERN_H

#include <stdint.h>

enum dirty_kind {
	DIRTY_CONTIG,	/* 512-page blocks spread evenly, pct % of the pages */
	DIRTY_RANDOM,	/* each page dirty with probability pct / 100 */
	DIRTY_RUNS,	/* runs of 2 to 8 pages at random gaps, pct % on average */
};

struct dirty_pattern {
	enum dirty_kind kind;
	unsigned int pct;
	char name[24];		/* "contig 10%", what the tables print */
	uint8_t *marks;		/* one bit per page, little-endian bytes */
	uint64_t calls;		/* pages marked: one iova_bitmap_set() each */
	uint64_t runs;		/* maximal runs of marked pages */
};

/* Fill p->marks (npages / 8 bytes, allocated here) and the counts. */
int dirty_pattern_build(struct dirty_pattern *p, uint64_t npages);

#endif
