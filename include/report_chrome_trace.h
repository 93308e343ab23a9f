/* SPDX-License-Identifier: GPL-2.0 */
/*
 * report_chrome_trace.h - a trace's reports and iterations as Trace Event
 * JSON, the format Perfetto's UI and chrome://tracing load
 * (docs/chrome-trace.md):
 *
 *   M  process_name per VMM ("qemu-vm1 (pid 83)"), thread_name per device
 *   X  each report, ALLOC to FREE, its pages and anomalies as args; each
 *      iteration, enclosing its reports on the device's track
 *   C  per device "dirty MiB/s" (each iteration's rate over the time it
 *      took) and "dirty MiB" (the running total at each report's end)
 *   i  each anomaly the model kept, on its device's track
 *
 * ts and dur are in microseconds from the trace's first record. It is fed
 * by the model's hooks and writes at the end, every track sorted by time.
 */
#ifndef IOVATOP_REPORT_CHROME_TRACE_H
#define IOVATOP_REPORT_CHROME_TRACE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "model.h"

struct chrome_trace;

struct chrome_trace *chrome_trace_new(void);
void chrome_trace_free(struct chrome_trace *ct);

/* Feed from model_on_report / model_on_iteration. 0 or -ENOMEM. */
int chrome_trace_report(struct chrome_trace *ct, const struct model_report *r);
int chrome_trace_iteration(struct chrome_trace *ct,
			   const struct model_iteration *it);
int chrome_trace_anomaly(struct chrome_trace *ct, const struct model_anomaly *a);

/*
 * Everything fed so far, as one JSON object, with t0_ns (the trace's first
 * record) as time 0. Once only. 0, or -1 (errno) on a write error.
 */
int chrome_trace_write(struct chrome_trace *ct, FILE *f, const char *source,
		       uint64_t t0_ns);

#endif /* IOVATOP_REPORT_CHROME_TRACE_H */
