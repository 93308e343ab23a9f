/* SPDX-License-Identifier: GPL-2.0 */
/*
 * bench_stats.h - medians and spreads of the VM benchmarks' samples, and
 * how the tables print them.
 */
#ifndef BENCH_STATS_H
#define BENCH_STATS_H

#include <stddef.h>

struct bench_spread {
	double med, min, max;
};

/* The median of n samples (0 for none); v is left as it was. */
double bench_median(const double *v, unsigned int n);

/* Median, smallest and largest of n samples; all 0 for none. */
struct bench_spread bench_spread_of(const double *v, unsigned int n);

/* "MED [MIN,MAX]", whole numbers, into buf */
const char *bench_fmt_spread(char *buf, size_t n, struct bench_spread s);

#endif /* BENCH_STATS_H */
