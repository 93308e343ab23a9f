/* SPDX-License-Identifier: GPL-2.0 */
/*
 * report.h - whole-trace aggregation for iovatop report (src/report.c).
 *
 * The model does the per-report work (rebuild, attribution, iterations,
 * trend); this gathers, through the model's hooks, what a summary of the
 * whole trace needs on top: the iterations of each device for rates, and
 * the hot IOVA regions over all reports (include/hot_region.h: the same
 * rule as the view's, over the whole trace).
 * No I/O here but the optional bitmap dump (src/report_fmt.c).
 */
#ifndef IOVATOP_REPORT_H
#define IOVATOP_REPORT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "hot_region.h"
#include "model.h"
#include "name_index.h"

#define REPORT_DEFAULT_TOP	5
#define REPORT_MAX_TOP		16	/* hot regions kept per device */

struct rdev {
	char name[MODEL_NAME_LEN];
	struct model_iteration *its;
	size_t nits, cap_its;
	struct hot_map hot;	/* over the whole trace */
	uint64_t hits;		/* all dirty pages of all reports */
	uint64_t dirty_pages;
	struct hot_region top[REPORT_MAX_TOP];
	size_t ntop;
};

struct report {
	struct rdev *devs;
	size_t ndevs, cap;
	struct name_index by_name;	/* name -> index in devs */
	const char *dump_dir;
	int dump_fd;		/* dump_dir, opened: files are made under it */
	FILE *index;
	int err;
	char errmsg[4200];
};

struct rates {
	double min, avg, max;	/* bytes per second, over iterations 1.. */
	size_t n;
};

/* Gather from m's report and iteration hooks into rp (zeroed before). */
void report_hooks(struct report *rp, struct model *m);
/*
 * The hooks themselves (ctx is rp), for a caller that hands the same
 * reports to other outputs as well (the timeline, the heatmaps).
 */
void report_on_report(void *ctx, const struct model_report *r);
void report_on_iteration(void *ctx, const struct model_iteration *it);

/* After the model finished: the top hot regions of every device. */
void report_finish(struct report *rp, size_t top);

/* Hottest first: by the whole trace's dirty bytes, then by name. */
void report_sort_rows(struct model_snapshot *s);

/* The device of that name; an empty one if it never reported. */
const struct rdev *report_dev(const struct report *rp, const char *name);

/* Dirty rate min/avg/max over iterations 1.. (the first has no start). */
struct rates report_rates(const struct rdev *d);

/* The part of a device's dirty page hits in hot region k, times scale. */
double report_share(const struct rdev *d, size_t k, double scale);

void report_free(struct report *rp);

#endif /* IOVATOP_REPORT_H */
