/* SPDX-License-Identifier: GPL-2.0 */
/*
 * model.h - pure aggregation: records in, snapshots out.
 *
 * The model knows nothing of curses, files or BPF. It rebuilds each
 * report's user bitmap with the decode library from the range records,
 * keeps per-device counters, rates, history and heat, and hands views a
 * sorted snapshot. Live mode, record and replay all feed it the same
 * records through model_apply(), so they cannot disagree.
 */
#ifndef IOVATOP_MODEL_H
#define IOVATOP_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "iova_bitmap_decode.h"
#include "iova_trace.h"

#define MODEL_NAME_LEN		64
#define MODEL_HISTORY		60	/* reports kept per device for trends */
#define MODEL_HEAT_BUCKETS	64	/* heatmap columns over the tracked range */

struct model;

struct model_opts {
	enum ibd_rule rule;		/* decode rule of the traced kernel */
	uint64_t max_bitmap_bytes;	/* larger reports are counted, not rebuilt */
};

/* One finished report, as handed to the report hook. */
struct model_report {
	uint64_t bitmap_id;
	uint64_t report_id;
	const char *device;		/* "vfio 0000:3b:00.1", "iommufd hwpt 5" */
	uint32_t path;			/* IOVA_PATH_* */
	uint32_t hwpt_id;
	struct iova_rec_task task;
	uint64_t ts_begin_ns;
	uint64_t ts_end_ns;
	uint64_t iova;			/* the bitmap's base and length */
	uint64_t length;
	uint64_t page_size;
	uint64_t user_addr;
	uint64_t set_calls;
	uint64_t ranges;
	uint64_t lost;
	uint64_t anomalies;
	uint64_t dirty_pages;		/* set bits of the rebuild */
	int32_t ret;
	uint32_t flags;			/* IOVA_REPORT_* */
	const struct ibd *bitmap;	/* the rebuild, NULL if not rebuilt */
};

typedef void (*model_report_fn)(void *ctx, const struct model_report *r);

enum model_sort {
	MODEL_SORT_RATE = 0,	/* dirty MiB/s, the default: hottest first */
	MODEL_SORT_DIRTY,	/* dirty pages in the last report */
	MODEL_SORT_PCT,		/* % of the tracked range dirty */
	MODEL_SORT_REPORTS,	/* reports per second */
	MODEL_SORT_NAME,
	MODEL_SORT_MAX,
};

/* Trend over the last reports: is pre-copy converging for this device? */
#define MODEL_TREND_UNKNOWN	0
#define MODEL_TREND_CONVERGING	1
#define MODEL_TREND_FLAT	2
#define MODEL_TREND_DIVERGING	3

struct model_row {
	char name[MODEL_NAME_LEN];	/* device identity, see model_report */
	uint32_t path;
	uint32_t pid;			/* process that asked last */
	char comm[IOVA_COMM_LEN];
	double reports_per_s;
	double dirty_mib_s;
	uint64_t dirty_pages_last;	/* in the last report */
	double pct_dirty;		/* of the tracked range, last report */
	uint32_t trend;			/* MODEL_TREND_* */
	uint64_t hot_iova;		/* hottest region in the last reports */
	uint64_t hot_length;
	uint64_t tracked_iova;		/* range the heat buckets span */
	uint64_t tracked_length;
	uint64_t page_size;
	uint64_t reports;		/* totals since start */
	uint64_t dirty_bytes;
	uint64_t set_calls;
	uint64_t lost;
	uint64_t anomalies;
	uint64_t incomplete;		/* reports marked incomplete */
	uint32_t nhistory;
	uint64_t history[MODEL_HISTORY];	/* dirty pages per report, oldest first */
	uint32_t heat[MODEL_HEAT_BUCKETS];	/* dirty pages per bucket, decayed */
};

struct model_snapshot {
	uint64_t now_ns;
	double interval_s;		/* since the previous snapshot */
	uint32_t ndevices;		/* before the filter */
	uint32_t nrows;			/* after the filter */
	struct model_row *rows;		/* owned by the model, valid until next call */
	double dirty_mib_s;		/* all devices */
	uint64_t reports;
	uint64_t lost;			/* all lost records, device known or not */
	uint64_t anomalies;
	uint64_t incomplete;
};

struct model *model_new(const struct model_opts *opts);
void model_free(struct model *m);
void model_on_report(struct model *m, model_report_fn fn, void *ctx);

/*
 * Feed one record. Returns 0, or -EINVAL for a record whose size does not
 * match its type (the caller names the file offset). Matches iova_sink_fn
 * with ctx = the model.
 */
int model_apply(void *m, const struct iova_rec_hdr *rec);

/*
 * Rows sorted by sort (reverse flips it), only names containing filter
 * (NULL or "" for all). Rates are over [previous snapshot, now_ns].
 */
int model_snapshot(struct model *m, uint64_t now_ns, enum model_sort sort,
		   bool reverse, const char *filter, struct model_snapshot *out);

#endif /* IOVATOP_MODEL_H */
