/* SPDX-License-Identifier: GPL-2.0 */
/*
 * prog_stats.h - the kernel's own account of the BPF programs attached to
 * iova_bitmap_set(): run time, run count and size.
 */
#ifndef PROG_STATS_H
#define PROG_STATS_H

#include <stdint.h>

/* programs of earlier blocks linger until the kernel frees them */
#define PROG_STATS_MAX	64

struct prog_stat {
	uint32_t id;
	char name[16];
	uint64_t run_ns;	/* only counted while stats are enabled */
	uint64_t run_cnt;
	uint64_t misses;	/* runs the kernel skipped (recursion) */
	uint32_t xlated_insns;
	uint32_t jited_bytes;
	int jited_insns;	/* -1: no disassembler to count them */
};

/* Look up iova_bitmap_set in the kernel's BTF; 0 or a sentence on stderr. */
int prog_stats_init(void);

/* Every tracing program attached to iova_bitmap_set() now, at most max. */
unsigned int prog_stats_read(struct prog_stat *out, unsigned int max);

/* Turn run-time stats on (returns a descriptor to close) or -1. */
int prog_stats_enable(void);

/* Instructions of the program's JITed image, by objdump; -1 if unknown. */
int prog_stats_jited_insns(uint32_t id, const char *tmpdir);

#endif
