/* SPDX-License-Identifier: GPL-2.0 */
/*
 * bench.h - the clocks and the random numbers the host benchmarks share,
 * so that every figure they print is taken the same way.
 */
#ifndef IOVATOP_BENCH_H
#define IOVATOP_BENCH_H

#include <stdint.h>
#include <time.h>

static inline double bench_clock_s(clockid_t clk)
{
	struct timespec ts;

	clock_gettime(clk, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Wall time, and this process's CPU time: the rates are per CPU second. */
static inline double now_s(void) { return bench_clock_s(CLOCK_MONOTONIC); }
static inline double cpu_s(void) { return bench_clock_s(CLOCK_PROCESS_CPUTIME_ID); }

/* xorshift64: cheap, and the same sequence for a seed on every run. */
static inline uint64_t bench_rand(uint64_t *state)
{
	uint64_t x = *state;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	return *state = x;
}

#endif /* IOVATOP_BENCH_H */
