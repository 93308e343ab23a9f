/* SPDX-License-Identifier: GPL-2.0 */
/*
 * report_fmt.h - what iovatop report writes (src/report_fmt.c): the
 * summary as text, JSON (docs/report-json.md) or CSV, and the rebuilt
 * bitmaps of --dump-bitmaps with their index.
 */
#ifndef IOVATOP_REPORT_FMT_H
#define IOVATOP_REPORT_FMT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "model.h"
#include "report.h"
#include "trace_file.h"

/* FMT_CHROME is written by src/report_chrome_trace.c, not report_print(). */
enum fmt { FMT_TEXT, FMT_JSON, FMT_CSV, FMT_CHROME };

struct forecast_trace;

struct out {
	FILE *f;
	const char *file;
	const struct trace_meta *meta;
	const struct trace_totals *tot;
	enum trace_state state;
	const char *status;
	uint32_t cut_lost;	/* records of the block a cut fell into */
	struct model_snapshot *s;
	struct report *rp;
	struct model_anomaly *anom;
	size_t nanom;
	const struct forecast_trace *fc;	/* --link-rate ..., or NULL */
};

/* Write the summary in format fmt to o->f. */
void report_print(const struct out *o, enum fmt fmt);

/*
 * --dump-bitmaps: create dir and its index.tsv (0, or -1 after saying why
 * on stderr); then each rebuilt report goes to dir/<report>.bin.
 */
int report_dump_open(struct report *rp, const char *dir);
int report_dump_bitmap(struct report *rp, const struct model_report *r);

#endif /* IOVATOP_REPORT_FMT_H */
