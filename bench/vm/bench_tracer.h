/* SPDX-License-Identifier: GPL-2.0 */
/*
 * bench_tracer.h - the tracers the VM benchmarks put on iova_bitmap_set()
 * (none, the bare fentry counter, iovatop, bpftrace, and iovatop without
 * its kernel-side bitmap) and what each kept of the calls made.
 */
#ifndef BENCH_TRACER_H
#define BENCH_TRACER_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

enum bench_tracer_kind {
	BENCH_UNTRACED,
	BENCH_BARE,		/* bpf/bench_count: counts calls, the floor */
	BENCH_IOVATOP,		/* 'iovatop record' to a file */
	BENCH_BPFTRACE,		/* kfunc:iova_bitmap_set, a line a call */
	BENCH_RANGES,		/* iovatop --kernel-bitmap 0: every call a range */
	BENCH_TRACERS,
};

extern const char *const bench_tracer_name[BENCH_TRACERS];

struct bench_tracer {
	enum bench_tracer_kind kind;
	struct bench_count_bpf *bc;	/* the bare counter */
	pid_t pid;			/* iovatop, bpftrace */
	char log[256];			/* its stderr (iovatop: its summary) */
	char out[256];			/* bpftrace's lines */
	char trace[256];		/* iovatop's trace */
};

/*
 * Attach KIND; PROG is the iovatop or bpftrace to run. Its files are in
 * TMP, named after TAG. Returns once it traces; dies when it does not.
 */
void bench_tracer_start(struct bench_tracer *t, enum bench_tracer_kind kind,
			const char *prog, const char *tmp, const char *tag);

/* Calls it has counted so far: the bare counter, bpftrace; 0 for others. */
uint64_t bench_tracer_seen(struct bench_tracer *t);

/* Detach: the counter closed, a process drained and stopped. */
void bench_tracer_stop(struct bench_tracer *t);

/* Bits of WANT that GOT lacks, over N bytes. */
uint64_t bench_bits_missing(const uint8_t *want, const uint8_t *got, size_t n);

/* Called per report of a trace, in order: its IOVA_REPORT_* flags, its bits. */
typedef void (*bench_bitmap_fn)(unsigned int row, uint64_t flags, const uint8_t *bits,
				void *ctx);

/*
 * Every report of TRACE rebuilt by 'IOVATOP report --dump-bitmaps' (in a
 * directory under TMP, removed after): FN gets each bitmap's first NBYTES
 * (zeros for a report without a file), up to MAX reports. Returns how
 * many reports the trace has.
 */
unsigned int bench_iovatop_bitmaps(const char *iovatop, const char *trace, const char *tmp,
				   size_t nbytes, unsigned int max, bench_bitmap_fn fn,
				   void *ctx);

#endif
