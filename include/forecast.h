/* SPDX-License-Identifier: GPL-2.0 */
/*
 * forecast.h - will pre-copy converge, and which device stops it?
 *
 * Pure arithmetic on a model snapshot and, when asked, QEMU's own
 * query-migrate figures; no I/O. It follows QEMU's rules (docs/forecast.md
 * cites the functions): a threshold of bandwidth x downtime limit, a
 * switchover as soon as the pending bytes are below it, an expected
 * downtime of pending / bandwidth. Each device's dirty rate comes from its
 * last iteration (bytes over the time since the one before ended); what the
 * link must carry per second is the sum, or QEMU's VM-wide dirty rate when
 * that is larger (the devices' dirty pages land in QEMU's RAM bitmap, so
 * QEMU's figure includes them).
 */
#ifndef IOVATOP_FORECAST_H
#define IOVATOP_FORECAST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "model.h"
#include "qmp_client.h"

#define FORECAST_MAX_DEVICES	32	/* more are summed as "others" */
#define FORECAST_MAX_BLAME	4	/* devices named in a verdict */
#define FORECAST_SLOW_ITERS	30	/* more iterations than this: cannot */
#define FORECAST_DEFAULT_DL_S	0.3	/* QEMU's default downtime-limit */

/* Where an assumption comes from, as the header says it. */
enum forecast_src {
	FORECAST_SRC_NONE = 0,	/* not known */
	FORECAST_SRC_DEFAULT,	/* QEMU's default (downtime limit only) */
	FORECAST_SRC_OPTION,	/* --link-rate / --downtime-limit */
	FORECAST_SRC_QEMU,	/* query-migrate / query-migrate-parameters */
};

enum forecast_verdict {
	FORECAST_UNKNOWN = 0,	/* no bandwidth: nothing to say */
	FORECAST_CONVERGES,	/* pending falls below the threshold */
	FORECAST_CANNOT,	/* the dirty rate is not below the bandwidth */
	FORECAST_COMPLETED,	/* QEMU says it is done */
	FORECAST_ENDED,		/* QEMU: failed or cancelled */
};

/* What the user said on the command line; 0 is "not given". */
struct forecast_opts {
	double link_bytes_s;
	double downtime_limit_s;
	uint32_t pid;			/* without QEMU: only this QEMU's rows */
};

struct forecast_dev {
	char name[MODEL_NAME_LEN];
	uint32_t pid;
	uint64_t iterations;		/* finished, from the model */
	uint64_t dirty_bytes;		/* in its last iteration */
	double rate;			/* bytes/s it dirties; 0 when quiet */
	double share_link;		/* rate / bandwidth, 0 when none */
	double share_qemu;		/* rate / QEMU's dirty rate, -1: unknown */
	bool quiet;			/* no iteration lately: rate taken as 0 */
	/*
	 * Its last iteration dirtied at least 0.9 of the one before: a set
	 * it rewrites each iteration, whatever the pace, so every pass will
	 * carry it again (counted in forecast.set_bytes).
	 */
	bool steady;
	bool blamed;			/* named by a "cannot converge" verdict */
};

struct forecast {
	enum forecast_verdict verdict;
	uint32_t pid;			/* QEMU's, or the rows' (0: all rows) */
	double bw;			/* bytes/s */
	double dl;			/* seconds */
	enum forecast_src bw_src, dl_src;
	double threshold;		/* bw x dl, bytes */
	double pending;			/* bytes left to send */
	bool pending_qemu;		/* from QEMU's ram.remaining */
	bool pending_sync;		/* from QEMU's expected-downtime x bw */
	double dirty_rate;		/* bytes/s the link must carry */
	double device_rate;		/* of which the devices' sum */
	double qemu_rate;		/* QEMU's dirty-pages-rate x page, -1 */
	double expected_downtime;	/* pending / bw, seconds; -1: unknown */
	uint64_t iteration;		/* QEMU's dirty-sync-count, or the devices' */
	double rho;			/* pending carried over per iteration */
	double rho_seen;		/* the same, seen between two syncs, -1 */
	uint64_t stuck_iters;		/* iterations it has not shrunk (>= 0.9) */
	uint64_t stuck_iters_before;	/* the same before this sync's pair */
	double sync_pending_prev;	/* pending at the sync before, bytes */
	uint64_t sync_iter_prev;	/* and its iteration, 0: none */
	/*
	 * QEMU's bandwidth is over its last 100 ms (migration_update_counters):
	 * bw is the highest it measured over the last whole sync and this
	 * one (QEMU switches over at the first check whose threshold holds
	 * the pending bytes), carried from forecast to forecast.
	 */
	double bw_sample;		/* this sample's mbps, bytes/s */
	double bw_max_cur;		/* the highest in this sync */
	double bw_max_prev;		/* in the sync before */
	uint64_t bw_sync;		/* the sync they are of */
	/* bytes each pass carries at least: the steady devices' sets */
	double set_bytes;
	bool set_stuck;			/* CANNOT because set_bytes >= threshold */
	uint32_t iters_left;		/* CONVERGES: more iterations, 0: now */
	double needed_bw;		/* CANNOT: a link this fast would do */
	uint32_t nblame;
	uint32_t blame[FORECAST_MAX_BLAME];	/* indexes into dev[] */
	bool blame_guest;		/* guest CPU writes alone exceed bw */
	bool have_qemu;
	struct qmp_migrate qemu;	/* the sample used, when have_qemu */
	uint32_t ndev;
	uint32_t nother;		/* devices past FORECAST_MAX_DEVICES */
	struct forecast_dev dev[FORECAST_MAX_DEVICES];
};

/*
 * The forecast of one VM: rows of the snapshot whose pid is qemu->pid
 * when a QEMU sample is given, else o->pid (0 there: every row).
 * now_ns is the snapshot's clock, for the staleness of a device's rate.
 * prev, the VM's forecast before this one (or NULL), carries the pending
 * bytes of QEMU's previous sync: what pre-copy really carried over.
 */
void forecast_compute(struct forecast *f, const struct forecast_opts *o,
		      const struct model_snapshot *snap,
		      const struct qmp_migrate *qemu,
		      const struct forecast *prev);

/*
 * Mark the rows the verdict blames (trend MODEL_TREND_BLOCKS), so that
 * the views' TREND column says which device stops the migration.
 */
void forecast_mark_rows(const struct forecast *f, struct model_snapshot *snap);

/* "converges", "CANNOT CONVERGE" ... */
const char *forecast_verdict_name(enum forecast_verdict v);
/*
 * The same as one word for machines (report's and the batch's JSON):
 * "converges", "cannot", "completed", "ended", "unknown".
 */
const char *forecast_verdict_key(enum forecast_verdict v);
const char *forecast_src_name(enum forecast_src s);

/*
 * The header line: status and iteration, the verdict, its assumptions,
 * fitted to width and NUL-terminated. Returns the length.
 */
size_t forecast_format_line(char *buf, size_t len, const struct forecast *f,
			    int width);

/*
 * A longer explanation: the verdict sentence with the devices named, their
 * rates and the bandwidth that would suffice (for the report and batch).
 */
size_t forecast_format_verdict(char *buf, size_t len, const struct forecast *f);

/*
 * Units on the command line. A rate: a number with an optional decimal
 * prefix (K, M, G, T) or binary one (Ki, Mi, Gi, Ti) and a unit: bits by
 * default ("10G" is 10 Gbit/s, as links are sold; "b/s", "bit/s", "bps"
 * say so), bytes with "B" or "B/s" ("1.25GB/s"). A duration: a number with
 * "ms", "s" or "us"; a bare number is milliseconds, as in QEMU's
 * downtime-limit. Return 0, or -EINVAL.
 */
int forecast_parse_rate(const char *s, double *bytes_per_s);
int forecast_parse_duration(const char *s, double *seconds);

/* "1.2 GB/s", "880 KB/s": decimal bytes per second, as QEMU counts. */
size_t forecast_fmt_rate(char *buf, size_t len, double bytes_per_s);

#endif /* IOVATOP_FORECAST_H */
