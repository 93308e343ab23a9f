/* SPDX-License-Identifier: GPL-2.0 */
/*
 * kbits_runs.h - read an area of the kernel-side bitmap (bpf/iova_live.h)
 * as runs of set bits, clearing it for the next report (src/kbits_runs.c).
 */
#ifndef IOVATOP_KBITS_RUNS_H
#define IOVATOP_KBITS_RUNS_H

#include <stdint.h>

/* Called once per run of set bits, first..last inclusive, in order. */
typedef int (*kbits_run_fn)(void *ctx, uint64_t first_bit, uint64_t last_bit);

/*
 * Hand every maximal run of set bits of words[0, nwords) to fn, bit i of
 * word w being bit 64 * w + i, and zero the words that had any. Stops at
 * the first non-zero return of fn and returns it (the words up to there
 * are zeroed, the rest left as they were); 0 when every run was taken.
 */
int kbits_runs(uint64_t *words, uint64_t nwords, kbits_run_fn fn, void *ctx);

#endif /* IOVATOP_KBITS_RUNS_H */
