/* SPDX-License-Identifier: GPL-2.0 */
/*
 * forecast_report.h - the forecast over a recorded trace, iteration by
 * iteration, for iovatop report --link-rate (src/forecast_report.c).
 *
 * Each process in the trace is a VM. At the end of each iteration of any
 * of its devices the forecast (src/forecast.c) is computed again from what
 * every device of that VM had finished by then, as the live view would
 * have shown it at that instant.
 */
#ifndef IOVATOP_FORECAST_REPORT_H
#define IOVATOP_FORECAST_REPORT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "forecast.h"
#include "report.h"

struct forecast_step {
	uint64_t ts_ns;			/* the iteration's end */
	struct forecast f;
};

struct forecast_vm_trace {
	uint32_t pid;
	char comm[IOVA_COMM_LEN];
	struct forecast_step *steps;
	size_t nsteps;
};

struct forecast_trace {
	struct forecast_opts opts;
	struct forecast_vm_trace vm[FORECAST_MAX_DEVICES];
	size_t nvm;
};

struct qmp_samples;
/*
 * The steps of every VM in snap (the report's final snapshot, whose rows
 * give each device's pid) from rp's iterations. smp, QEMU's samples the
 * trace recorded (record --qmp; NULL or empty: none), joins each step
 * with what the VM's QEMU had said by then, and adds a last step at
 * QEMU's last sample when that came later (how the migration ended).
 * 0, or -ENOMEM.
 */
int forecast_trace_build(struct forecast_trace *ft, const struct forecast_opts *o,
			 const struct report *rp, const struct model_snapshot *snap,
			 const struct qmp_samples *smp);
void forecast_trace_free(struct forecast_trace *ft);

/* The report's forecast section; times relative to t0_ns. */
void forecast_trace_text(FILE *f, const struct forecast_trace *ft, uint64_t t0_ns);
/* The value of the report's "forecast" key (docs/report-json.md). */
void forecast_trace_json(FILE *f, const struct forecast_trace *ft, uint64_t t0_ns);
/* The report's CSV forecast table: a header, a row per step. */
void forecast_trace_csv(FILE *f, const struct forecast_trace *ft, uint64_t t0_ns);

#endif /* IOVATOP_FORECAST_REPORT_H */
