// SPDX-License-Identifier: GPL-2.0
/*
 * bench_stats.c - medians and spreads of the VM benchmarks' samples.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_proc.h"
#include "bench_stats.h"

static int cmp_d(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

double bench_median(const double *v, unsigned int n)
{
	double *t, m;

	if (!n)
		return 0;
	/* a sorted copy: callers keep their samples in the order taken */
	t = malloc(n * sizeof(*t));
	if (!t)
		bench_die("out of memory for %u samples", n);
	memcpy(t, v, n * sizeof(*v));
	qsort(t, n, sizeof(*t), cmp_d);
	m = n % 2 ? t[n / 2] : (t[n / 2 - 1] + t[n / 2]) / 2;
	free(t);
	return m;
}

struct bench_spread bench_spread_of(const double *v, unsigned int n)
{
	struct bench_spread s = { 0, 0, 0 };
	unsigned int i;

	if (!n)
		return s;
	s.med = bench_median(v, n);
	s.min = s.max = v[0];
	for (i = 1; i < n; i++) {
		s.min = v[i] < s.min ? v[i] : s.min;
		s.max = v[i] > s.max ? v[i] : s.max;
	}
	return s;
}

const char *bench_fmt_spread(char *buf, size_t n, struct bench_spread s)
{
	snprintf(buf, n, "%.0f [%.0f,%.0f]", s.med, s.min, s.max);
	return buf;
}
