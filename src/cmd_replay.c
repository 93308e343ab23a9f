// SPDX-License-Identifier: GPL-2.0
/*
 * cmd_replay.c - iovatop replay [OPTIONS] FILE [INTERVAL [COUNT]]: the live
 * view driven from a trace file.
 *
 * Records go through the same view_run_record() -> model -> view path as in
 * live mode; only the clock differs. A virtual clock on the trace's own
 * timeline runs at --speed times real time, stops on 'p', and moves one
 * interval per key with --step. Batch output without --speed reads the
 * file as fast as it can.
 */
#include <argp.h>
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "cli_util.h"
#include "commands.h"
#include "export_openmetrics.h"
#include "forecast_session.h"
#include "model.h"
#include "qmp_record.h"
#include "trace_file.h"
#include "view.h"

#define WAIT_MAX_MS	100	/* keys stay responsive while waiting */
#define FEED_MAX	65536	/* records per turn before looking at keys */

struct replay_args {
	struct view_args v;
	struct om_args om;
	struct forecast_args fc;
	double speed;		/* 0: as fast as possible (batch only) */
	bool step;
};

struct replay {
	struct view_run r;
	struct trace_reader *tr;
	struct qmp_samples qmp;		/* QEMU's samples, if it recorded them */
	/*
	 * The next record, read but not yet due: the reader's own, valid
	 * until the next trace_next(), so it is never copied.
	 */
	const struct iova_rec_hdr *rec;
	bool eof;
	int read_err;		/* negative errno from the reader */
	uint64_t vt_base;	/* virtual time at wall_base */
	uint64_t wall_base;
	uint64_t vt_frozen;	/* virtual time while paused */
};

enum { OPT_SPEED = 0x100, OPT_STEP };

static const struct argp_option replay_options[] = {
	{ "speed", OPT_SPEED, "X", 0, "Replay X times faster than real time (default 1; with -b, as fast as possible)", 0 },
	{ "step", OPT_STEP, NULL, 0, "Start paused; n or Space moves one interval on", 0 },
	{ 0 },
};

static error_t replay_parse(int key, char *arg, struct argp_state *state)
{
	struct replay_args *a = state->input;

	switch (key) {
	case ARGP_KEY_INIT:
		state->child_inputs[0] = &a->v;
		state->child_inputs[1] = &a->om;
		state->child_inputs[2] = &a->fc;
		return 0;
	case ARGP_KEY_END:
		if (a->fc.nqmp)
			argp_error(state, "--qmp asks a running QEMU, and replay reads a trace; drop --qmp and give --link-rate instead.");
		return 0;
	case OPT_SPEED:
		if (parse_double(arg, VIEW_SPEED_MIN, VIEW_SPEED_MAX, &a->speed))
			argp_error(state, "the speed '%s' is not a factor between 1/64 and 4096.",
				   arg);
		return 0;
	case OPT_STEP:
		a->step = true;
		return 0;
	}
	return ARGP_ERR_UNKNOWN;
}

static const char replay_doc[] =
	"Show a recorded trace (iovatop record) in the live view.\v"
	"INTERVAL is in seconds of trace time (default 1); COUNT stops after that "
	"many intervals. The intervals fall on the same instants as in the live "
	"view that ran while the trace was recorded, so the numbers match.\n\n"
	"EXAMPLES:\n"
	"    iovatop replay t.trace            # in real time\n"
	"    iovatop replay --speed 10 t.trace # ten times faster\n"
	"    iovatop replay --step t.trace     # one interval per key press\n"
	"    iovatop replay -b t.trace 0.5     # plain text, half-second intervals\n"
	"    iovatop replay -b --openmetrics :9877 t.trace  # Prometheus scrapes it\n"
	"    iovatop replay --link-rate 10G t.trace  # would it converge at 10 Gbit/s?\n\n"
	"A trace recorded with --qmp shows the forecast on QEMU's own figures, "
	"as the live view did.\n\n"
	"With --openmetrics and -b, replay keeps serving the last figures after "
	"the end of the trace until it is interrupted.";

static const struct argp_child replay_children[] = {
	{ &view_args_argp, 0, NULL, 0 },
	{ &om_args_argp, 0, NULL, 0 },
	{ &forecast_args_argp, 0, NULL, 0 },
	{ 0 },
};

static const struct argp replay_argp = {
	.options = replay_options,
	.parser = replay_parse,
	.args_doc = "FILE [INTERVAL [COUNT]]",
	.doc = replay_doc,
	.children = replay_children,
};

/* Read the next record into p->rec unless one is waiting. */
static bool peek(struct replay *p)
{
	int ret;

	if (p->rec)
		return true;
	if (p->eof)
		return false;
	ret = trace_next(p->tr, &p->rec);
	if (ret <= 0) {
		p->rec = NULL;
		p->eof = true;
		p->read_err = ret;
		return false;
	}
	return true;
}

/*
 * Hand the model every record stamped at or before vt, at most max of
 * them; p->rec is then the next record, if any.
 */
static int feed_until(struct replay *p, uint64_t vt, long max)
{
	const struct iova_rec_hdr *rec;
	int err;

	while (!p->r.done && peek(p) && p->rec->ts_ns <= vt && max-- > 0) {
		rec = p->rec;
		p->rec = NULL;
		err = view_run_record(&p->r, rec);
		if (err < 0)
			return err;
	}
	return 0;
}

static uint64_t vclock(const struct replay *p, uint64_t now)
{
	if (p->r.st.paused)
		return p->vt_frozen;
	return p->vt_base + (uint64_t)((double)(now - p->wall_base) * p->r.st.speed);
}

/* Say how the trace ended; returns the exit status it deserves. */
static int end_status(struct replay *p)
{
	if (p->read_err < 0) {
		view_msg("%s: reading the trace failed: %s.\n", cli_name,
			 strerror(-p->read_err));
		return EXIT_RUNTIME;
	}
	switch (trace_state(p->tr)) {
	case TRACE_TRUNCATED:
		view_msg("%s: %s\n", cli_name, trace_status_msg(p->tr));
		return 0;	/* everything up to the cut was shown */
	case TRACE_CORRUPT:
		view_msg("%s: %s\n", cli_name, trace_status_msg(p->tr));
		return EXIT_RUNTIME;
	default:
		return 0;
	}
}

static int bad_record(struct replay *p, int err)
{
	if (err == -E2BIG) {
		view_msg("%s: the trace names %s; refusing it.\n", cli_name,
			 model_strerror(err));
		return EXIT_RUNTIME;
	}
	view_msg("%s: a record at byte %llu of the trace is malformed: %s.\n", cli_name,
		 (unsigned long long)trace_offset(p->tr), strerror(-err));
	return EXIT_RUNTIME;
}

/*
 * Batch replay with an endpoint: the trace is over, the scrapers are not.
 * Serve the last figures until a signal says stop.
 */
static void linger(const struct om_server *srv)
{
	if (stop_signal)
		return;
	fprintf(stderr, "%s: the trace has ended; serving its last figures on %s until interrupted.\n",
		cli_name, om_server_addr(srv));
	while (!stop_signal)
		poll(NULL, 0, WAIT_MAX_MS);
}

/* The records have run out: the last interval, and how the trace ended. */
static int finish(struct replay *p)
{
	p->r.meta.trace_incomplete = trace_state(p->tr) != TRACE_OK;
	view_run_finish(&p->r);
	return end_status(p);
}

static int run_fast(struct replay *p)
{
	int err = feed_until(p, UINT64_MAX, LONG_MAX);

	return err < 0 ? bad_record(p, err) : finish(p);
}

static int run_paced(struct replay *p, double speed)
{
	struct pollfd pfd = { .fd = -1, .events = POLLIN };
	bool finished = false;
	int ret = 0, err;

	if (p->r.vc)
		pfd.fd = view_curses_fd(p->r.vc);
	p->wall_base = clock_ns(CLOCK_MONOTONIC);
	p->vt_frozen = p->vt_base;
	p->r.st.speed = speed;
	p->r.meta.paced = true;
	while (!p->r.done && !stop_signal) {
		uint64_t now = clock_ns(CLOCK_MONOTONIC), vt, due;
		unsigned int keys;
		int timeout = WAIT_MAX_MS;

		vt = vclock(p, now);
		err = feed_until(p, vt, FEED_MAX);
		if (err < 0)
			return bad_record(p, err);
		/*
		 * A turn cut short by FEED_MAX leaves records that are due:
		 * the clock stops at the first of them, or the boundaries
		 * after it would go out before its records went in.
		 */
		due = p->rec && p->rec->ts_ns < vt ? p->rec->ts_ns : vt;
		if (p->rec || !p->eof)
			view_run_clock(&p->r, due);
		if (p->eof && !p->rec && !finished) {
			ret = finish(p);
			finished = true;
			if (!p->r.vc)
				break;	/* batch: the last interval is out */
		}

		keys = view_run_keys(&p->r);
		if (keys & VIEW_R_QUIT)
			break;
		if (keys & VIEW_R_PAUSE) {
			if (p->r.st.paused) {
				p->vt_frozen = vt;
			} else {
				p->vt_base = p->vt_frozen;
				p->wall_base = now;
			}
		}
		if (keys & VIEW_R_STEP) {
			/* up to the next boundary: the loop above emits it */
			if (p->vt_frozen < p->r.next_tick_ns)
				p->vt_frozen = p->r.next_tick_ns;
			continue;
		}
		if ((keys & VIEW_R_SPEED) && !p->r.st.paused) {
			p->vt_base = vt;
			p->wall_base = now;
		}
		if (keys & (VIEW_R_PAUSE | VIEW_R_SPEED))
			continue;	/* more keys may be waiting */

		if (!p->r.st.paused && !finished) {
			due = p->r.next_tick_ns;
			if (p->rec && p->rec->ts_ns < due)
				due = p->rec->ts_ns;
			if (due <= vt)
				timeout = 0;
			else if ((double)(due - vt) / p->r.st.speed < WAIT_MAX_MS * 1e6)
				timeout = (int)((double)(due - vt) / p->r.st.speed / 1e6) + 1;
		}
		if (timeout)
			poll(&pfd, pfd.fd >= 0 ? 1 : 0, timeout);
	}
	return ret;
}

int cmd_replay(int argc, char **argv)
{
	struct replay_args a = { 0 };
	const struct trace_meta *tm;
	struct replay rp = { 0 }, *p = &rp;
	struct om_server *srv = NULL;
	char err[512];
	int ret;

	static char name[] = "iovatop replay";

	view_args_init(&a.v, true);
	argp_err_exit_status = EXIT_USAGE;
	argv[0] = name;		/* what usage messages call us */
	cli_name = name;	/* and every other message */
	if (argp_parse(&replay_argp, argc, argv, 0, NULL, &a))
		return EXIT_USAGE;

	p->tr = trace_open(a.v.file, err, sizeof(err));
	if (!p->tr) {
		fprintf(stderr, "%s: %s.\n", cli_name, err);
		return EXIT_RUNTIME;
	}
	tm = trace_meta(p->tr);
	if (view_run_open(&p->r, &a.v, tm, base_name(a.v.file))) {
		ret = EXIT_RUNTIME;
		goto cleanup;
	}
	/*
	 * QEMU's samples (record --qmp) first, all of them: the recorder
	 * wrote each a little after the device records of its instant. That
	 * is a pass over the whole trace, a third of a replay's time: not
	 * for a trace whose header says it holds none.
	 */
	if (trace_may_hold_qmp(tm) &&
	    qmp_samples_load(&p->qmp, a.v.file, err, sizeof(err))) {
		fprintf(stderr, "%s: %s.\n", cli_name, err);
		ret = EXIT_RUNTIME;
		goto cleanup;
	}
	/* no --qmp here, so this only fails for want of memory */
	p->r.forecast = forecast_session_replay(&a.fc, &p->qmp, &ret);
	if (ret)
		goto cleanup;
	p->r.st.replay = true;
	if (a.om.listen) {
		struct om_meta om = {
			.source = "replay",
			.kernel = tm->kernel_release,
			.probe = tm->probe_mode,
			.layout = p->r.meta.layout,
			.forecasts = p->r.forecast,
		};

		srv = om_server_start(a.om.listen, &om, err, sizeof(err));
		if (!srv) {
			fprintf(stderr, "%s: %s\n", cli_name, err);
			ret = EXIT_RUNTIME;
			goto cleanup;
		}
		p->r.snap_fn = om_snap_hook;
		p->r.snap_ctx = srv;
	}

	/* the trace's start, or its first record, is where the grid begins */
	if (tm->start_mono_ns)
		p->vt_base = tm->start_mono_ns;
	else if (peek(p))
		p->vt_base = p->rec->ts_ns;
	if (p->vt_base)
		view_run_start(&p->r, p->vt_base);

	if (view_run_show(&p->r, &a.v)) {
		ret = EXIT_RUNTIME;
		goto cleanup;
	}
	if (p->r.batch) {
		/* no keys to step with: --step means nothing here */
		ret = a.speed > 0 ? run_paced(p, a.speed) : run_fast(p);
		if (!view_run_output_ok(&p->r))
			ret = EXIT_RUNTIME;
		else if (srv && !ret)
			linger(srv);
		goto cleanup;
	}
	p->r.st.paused = a.step;
	view_run_redraw(&p->r, true);
	ret = run_paced(p, a.speed > 0 ? a.speed : 1);

cleanup:
	view_run_close(&p->r);
	om_server_stop(srv);
	trace_close(p->tr);
	qmp_samples_free(&p->qmp);
	return ret;
}
