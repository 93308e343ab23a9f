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
/*
 * Devices the model keeps apart. A host has a few dozen; a trace naming
 * more is crafted or broken, and model_apply() refuses it.
 */
#define MODEL_MAX_DEVICES	65536

struct model;

/*
 * The memory one rebuilt bitmap may take by default: 64 MiB, a bitmap of
 * 2 TiB of guest at 4 KiB pages (a byte covers 8 pages, 32 KiB). The
 * option --max-bitmap raises it; past it a report is counted, not rebuilt.
 */
#define MODEL_DEFAULT_MAX_BITMAP	(64ull << 20)
#define MODEL_MIN_MAX_BITMAP		(1ull << 20)
#define MODEL_MAX_MAX_BITMAP		(1ull << 40)

struct model_opts {
	enum ibd_rule rule;		/* decode rule of the traced kernel */
	uint64_t max_bitmap_bytes;	/* larger reports are counted, not rebuilt */
	/*
	 * The caller gathers hot regions itself (report, over the whole
	 * trace): the rows' hot region stays empty, and no memory or time
	 * goes to it here.
	 */
	bool no_hot;
};

/* One finished report, as handed to the report hook. */
struct model_report {
	uint64_t bitmap_id;
	uint64_t report_id;
	/* "vfio 0000:3b:00.1", "iommufd hwpt 5 ctx 1" ("... pid N" in ABI 1 traces) */
	const char *device;
	uint32_t path;			/* IOVA_PATH_* */
	uint32_t hwpt_id;
	uint32_t ictx_id;		/* iommufd context, 0 unknown */
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
	uint64_t windows;		/* window records (6.1: one per callback) */
	uint64_t dirty_pages;		/* set bits of the rebuild */
	int32_t ret;
	uint32_t flags;			/* IOVA_REPORT_* */
	const struct ibd *bitmap;	/* the rebuild, NULL if not rebuilt */
};

typedef void (*model_report_fn)(void *ctx, const struct model_report *r);

/*
 * An iteration of one device: the reports that read its dirty log once.
 * QEMU asks for each mapped range separately, so one pre-copy pass is a run
 * of reports over disjoint ranges. An iteration ends when its reports have
 * covered every range the device has reported so far, or when the next
 * report overlaps one already in it (docs/report-json.md).
 */
struct model_iteration {
	const char *device;
	uint64_t index;			/* 0, 1, 2 ... per device */
	uint64_t ts_begin_ns;		/* first report's begin */
	uint64_t ts_end_ns;		/* last report's end */
	uint64_t reports;
	uint64_t incomplete;		/* of those, incomplete */
	uint64_t dirty_pages;
	uint64_t dirty_bytes;		/* pages times their page size */
	uint64_t covered_bytes;		/* IOVA bytes the reports covered */
	/*
	 * dirty_bytes over the time since the previous iteration ended: what
	 * the device dirtied per second. 0 for the first iteration, whose
	 * start (the DMA logging start) is not traced.
	 */
	double dirty_bytes_per_s;
};

typedef void (*model_iteration_fn)(void *ctx, const struct model_iteration *it);

/* Kinds of anomaly beyond the kernel's IOVA_ANOM_* (1..6). */
#define MODEL_ANOM_VERIFY_MISMATCH	16	/* rebuild != user bitmap */
#define MODEL_ANOM_REPORT_FAILED	17	/* for_each returned an error */
#define MODEL_ANOM_ALLOC_FAILED		18	/* iova_bitmap_alloc failed */
#define MODEL_ANOM_NO_END		19	/* report ended without its END */
#define MODEL_ANOM_SPILL		20	/* rebuild set bits past the bitmap */

/* One anomaly, kept in a ring of the latest MODEL_ANOM_LOG. */
#define MODEL_ANOM_LOG		64
struct model_anomaly {
	uint64_t ts_ns;
	uint32_t kind;			/* IOVA_ANOM_* or MODEL_ANOM_* */
	uint32_t count;			/* how many it stands for (>= 1) */
	char device[MODEL_NAME_LEN];
	uint64_t bitmap_id;
	uint64_t report_id;
	uint64_t iova;
	uint64_t length;
};
const char *model_anomaly_name(uint32_t kind);

enum model_sort {
	MODEL_SORT_RATE = 0,	/* dirty MiB/s, the default: hottest first */
	MODEL_SORT_DIRTY,	/* dirty pages in the last report */
	MODEL_SORT_PCT,		/* % of the tracked range dirty */
	MODEL_SORT_REPORTS,	/* reports per second */
	MODEL_SORT_NAME,
	MODEL_SORT_MAX,
};

/*
 * Trend over the last MODEL_TREND_WINDOW iterations (at least 3): the
 * least-squares slope of dirty pages per iteration, relative to their mean.
 * Below -MODEL_TREND_PCT % per iteration the dirty set shrinks (an
 * all-zero history counts as shrinking), above +PCT % it grows, in between
 * it is flat. Names: "shrinking", "flat", "growing". Whether pre-copy
 * converges is the forecast's verdict, not this (src/forecast.c).
 */
#define MODEL_TREND_WINDOW	8
#define MODEL_TREND_PCT		5.0
#define MODEL_TREND_UNKNOWN	0
#define MODEL_TREND_CONVERGING	1
#define MODEL_TREND_FLAT	2
#define MODEL_TREND_DIVERGING	3
/*
 * Not the model's own: the forecast (src/forecast.c) sets it on the rows
 * whose dirty rate stops pre-copy from converging.
 */
#define MODEL_TREND_BLOCKS	4

/*
 * The names of the model's enums, in one place: "converging", "flat",
 * "diverging" or "unknown"; "vfio", "iommufd" or "unknown" (IOVA_PATH_*).
 * Reports and exports print them as they are; the screen has its own
 * short forms (view_trend_name(), view_path_name()) built on them.
 */
const char *model_trend_name(uint32_t trend);
const char *model_path_name(uint32_t path);

struct model_row {
	char name[MODEL_NAME_LEN];	/* device identity, see model_report */
	uint32_t path;
	uint32_t pid;			/* process that asked last */
	char comm[IOVA_COMM_LEN];
	double reports_per_s;
	double dirty_mib_s;
	uint64_t dirty_pages_last;	/* in the last report */
	uint64_t dirty_pages_iter;	/* in the last finished iteration */
	uint64_t dirty_pages_total;	/* in all its reports */
	uint64_t bitmap_pages_total;	/* pages all its reports covered */
	uint64_t dirty_bytes_iter;	/* the same pages times their page size */
	double iter_bytes_per_s;	/* its dirty_bytes_per_s (model_iteration) */
	uint64_t iter_end_ns;		/* when it ended, 0 before the first */
	double pct_dirty;		/* of the last report's bitmap */
	uint32_t trend;			/* MODEL_TREND_* */
	/*
	 * Its hottest region (include/hot_region.h) over the reports of the
	 * last interval, or since the start with model_sort_totals(); 0 and 0
	 * when it had none.
	 */
	uint64_t hot_iova;
	uint64_t hot_length;
	uint64_t tracked_iova;		/* range the heat buckets span */
	uint64_t tracked_length;
	uint64_t page_size;
	uint64_t reports;		/* totals since start */
	uint64_t dirty_bytes;
	uint64_t dirty_pages;		/* set bits of all its reports */
	uint64_t set_calls;
	uint64_t lost;
	uint64_t anomalies;
	uint64_t incomplete;		/* reports marked incomplete */
	uint64_t iterations;		/* finished iterations */
	uint64_t verified;		/* reports read back: ok and mismatched */
	uint64_t verify_mismatch;
	uint64_t verify_skipped;	/* read-back skipped: not verified */
	uint64_t last_ts_ns;		/* end of its last report */
	uint32_t nhistory;
	uint64_t history[MODEL_HISTORY];	/* dirty pages per iteration, oldest first */
	uint32_t heat[MODEL_HEAT_BUCKETS];	/* dirty pages per bucket, decayed */
};

struct model_snapshot {
	uint64_t now_ns;
	uint64_t start_ns;		/* where the first snapshot's rates began */
	double interval_s;		/* since the previous snapshot */
	uint32_t ndevices;		/* before the filter */
	uint32_t nrows;			/* after the filter */
	struct model_row *rows;		/* owned by the model, valid until next call */
	double dirty_mib_s;		/* all devices */
	uint64_t reports;
	uint64_t lost;			/* all lost records, device known or not */
	uint64_t anomalies;
	uint64_t incomplete;
	uint64_t records;		/* applied so far */
	uint64_t open_reports;		/* begun, not yet ended */
	uint64_t not_rebuilt;		/* reports too large or without geometry */
	/*
	 * Of those, the reports whose bitmap needs more than max_bitmap_bytes
	 * (--max-bitmap), and the IOVA length of the largest: their devices
	 * get no hot regions and no trend, and the views say why.
	 */
	uint64_t too_large, too_large_length, too_large_bytes, max_bitmap_bytes;
};

struct model *model_new(const struct model_opts *opts);

/*
 * The one sentence that says why reports were not rebuilt for want of
 * --max-bitmap, and what to give; 0 (and "") when none was.
 */
size_t model_too_large_note(const struct model_snapshot *s, char *buf, size_t len);
void model_free(struct model *m);
void model_on_report(struct model *m, model_report_fn fn, void *ctx);
void model_on_iteration(struct model *m, model_iteration_fn fn, void *ctx);

/*
 * Feed one record. Returns 0, -EINVAL for a record whose size does not
 * match its type (the caller names the file offset), or -E2BIG for one
 * that names a device past MODEL_MAX_DEVICES (model_strerror() says so).
 * Matches iova_sink_fn with ctx = the model.
 */
int model_apply(void *m, const struct iova_rec_hdr *rec);

/* What an error of model_apply() means, as a phrase for a sentence. */
const char *model_strerror(int err);

/*
 * Rows sorted by sort (reverse flips it), only the devices filter selects
 * (include/filter.h; NULL or "" for all). Rates are over [previous
 * snapshot, now_ns].
 */
int model_snapshot(struct model *m, uint64_t now_ns, enum model_sort sort,
		   bool reverse, const char *filter, struct model_snapshot *out);

/*
 * Sort the numeric keys by totals since the start instead of this
 * interval (the view's cumulative mode, 'c'): rate by dirty bytes,
 * reports by their count, pages and pct by their means over all reports;
 * the rows' hot regions are then those of all their reports too.
 */
void model_sort_totals(struct model *m, bool totals);

/*
 * Keep the rows of one process (the VMM, by pid) together: processes in
 * the order of their first row in the sort, rows in sort order within.
 */
void model_group_by_process(struct model *m, bool group);

/*
 * The source has ended: reports still open are finished as incomplete (their
 * END never came) and open iterations are closed, so the hooks see them.
 */
void model_finish(struct model *m);

/* Timestamp of the latest record applied (the model's clock). */
uint64_t model_now(const struct model *m);

/* Copy up to max of the latest anomalies, oldest first; returns how many. */
size_t model_anomalies(const struct model *m, struct model_anomaly *out,
		       size_t max);

/* Records applied, by type, and records with an unknown type (skipped). */
uint64_t model_records(const struct model *m, unsigned int type);

#endif /* IOVATOP_MODEL_H */
