/* SPDX-License-Identifier: GPL-2.0 */
/*
 * forecast_session.h - the forecast over a whole session: its options
 * (--link-rate, --downtime-limit, --qmp), one QMP client per VM, and the
 * forecast of each VM after every snapshot.
 *
 * The view loop calls forecast_session_update() with each new snapshot;
 * it copies the latest QMP samples (never waiting for QEMU), computes each
 * VM's forecast (src/forecast.c) and marks the rows it blames. The views
 * only draw forecast_session_line(); other outputs read the forecasts
 * themselves with forecast_session_count() and forecast_session_get().
 */
#ifndef IOVATOP_FORECAST_SESSION_H
#define IOVATOP_FORECAST_SESSION_H

#include <argp.h>
#include <stdbool.h>
#include <stdint.h>

#include "forecast.h"

#define FORECAST_MAX_VMS	8	/* --qmp sockets */
#define FORECAST_LINE_LEN	256

struct forecast_args {
	struct forecast_opts opts;
	const char *qmp[FORECAST_MAX_VMS];
	int nqmp;
	bool given;		/* any of the options: show the forecast */
};

/*
 * The argp child for the three options. A command lists it among its
 * children and passes its struct forecast_args in state->child_inputs.
 */
extern const struct argp forecast_args_argp;

struct forecast_session;

/*
 * NULL with *exit_code 0 when no forecast option was given (nothing to
 * show); NULL with a sentence on stderr and *exit_code 1 (QEMU not
 * reachable) or 2 (a socket that is not QMP) on failure. The QMP clients
 * poll every interval_ns on their own threads.
 */
struct forecast_session *forecast_session_open(const struct forecast_args *a,
					       uint64_t interval_ns,
					       int *exit_code);

struct qmp_samples;
/*
 * Replay: one VM per QEMU whose samples the trace recorded (record --qmp),
 * each forecast on QEMU's sample at the snapshot's instant as live did;
 * without samples, forecast_session_open() with no QMP. smp must outlive
 * the session.
 */
struct forecast_session *forecast_session_replay(const struct forecast_args *a,
						 const struct qmp_samples *smp,
						 int *exit_code);

/* After a snapshot: new forecasts, and the rows they blame marked. */
void forecast_session_update(struct forecast_session *s,
			     struct model_snapshot *snap);
/* A re-sorted snapshot of the same instant: mark its rows again. */
void forecast_session_mark(const struct forecast_session *s,
			   struct model_snapshot *snap);

/* The header's forecast line (the VM in the worst state), "" before any. */
const char *forecast_session_line(const struct forecast_session *s);

/* The forecasts of the last update: one per --qmp VM, or one for all. */
unsigned int forecast_session_count(const struct forecast_session *s);
const struct forecast *forecast_session_get(const struct forecast_session *s,
					    unsigned int i);

void forecast_session_close(struct forecast_session *s);

#endif /* IOVATOP_FORECAST_SESSION_H */
