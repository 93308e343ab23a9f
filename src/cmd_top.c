// SPDX-License-Identifier: GPL-2.0
/*
 * cmd_top.c - iovatop [OPTIONS] [INTERVAL [COUNT]]: the live view.
 *
 * The live source (src/source_live.c) feeds the ring buffer's records
 * through view_run_record() into the model; the shared loop in
 * src/view_run.c snapshots it at each interval boundary for the curses or
 * the batch view. Replay (src/cmd_replay.c) runs the same loop from a file.
 */
#include <argp.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "cli_util.h"
#include "commands.h"
#include "export_openmetrics.h"
#include "forecast_session.h"
#include "model.h"
#include "source_live.h"
#include "view.h"

/*
 * A boundary is emitted this long after it passed unless a later record
 * came first: records stamped just before it may still be in the ring.
 */
#define LIVE_GRACE_NS	(100 * 1000000ull)
#define KEY_POLL_MS	50

struct top_args {
	struct view_args v;
	struct live_opts live;
	struct om_args om;
	struct forecast_args fc;
};

static error_t top_parse(int key, char *arg, struct argp_state *state)
{
	struct top_args *a = state->input;

	(void)arg;
	if (key != ARGP_KEY_INIT)
		return ARGP_ERR_UNKNOWN;
	state->child_inputs[0] = &a->live;
	state->child_inputs[1] = &a->v;
	state->child_inputs[2] = &a->om;
	state->child_inputs[3] = &a->fc;
	return 0;
}

static const char top_doc[] =
	"Show per-device dirty-page tracking of vfio and iommufd live.\n\n"
	"Commands:\n"
	"  iovatop [OPTIONS] [INTERVAL [COUNT]]  this live view\n"
	"  iovatop record -o FILE [-d SECS]      record a trace\n"
	"  iovatop replay FILE [INTERVAL]        the live view from a trace\n"
	"  iovatop report FILE [--format F]      a trace summarised per device\n"
	"  iovatop decode --iova B --length L --page-size P   the kernel's bitmap math\n"
	"Each takes -h; iovatop --version says which this is.\v"
	"INTERVAL is in seconds (default 1, fractions allowed); COUNT stops after "
	"that many intervals.\n\n"
	"EXAMPLES:\n"
	"    iovatop              # live view, refreshed every second\n"
	"    iovatop 2            # every 2 seconds\n"
	"    iovatop -b 1 10      # plain text, 10 intervals, then exit\n"
	"    iovatop -s pct -f 0000:3b   # sort by % dirty, only matching devices\n"
	"    iovatop --openmetrics :9877 # and serve /metrics to Prometheus\n"
	"    iovatop --qmp /run/vm1.qmp  # will vm1's migration converge?\n"
	"    iovatop --link-rate 10G --downtime-limit 300ms  # ... on these terms\n"
	"    iovatop replay t.trace      # the same view from a recorded trace\n\n"
	"Needs root, a kernel with iova_bitmap_set (CONFIG_IOMMUFD_DRIVER) and BTF. "
	"Other commands: iovatop record, replay, report, decode (each has --help); "
	"keys: press ? in the view.";

static const struct argp_child top_children[] = {
	{ &live_args_argp, 0, NULL, 0 },
	{ &view_args_argp, 0, NULL, 0 },
	{ &om_args_argp, 0, NULL, 0 },
	{ &forecast_args_argp, 0, NULL, 0 },
	{ 0 },
};

static const struct argp top_argp = {
	.parser = top_parse,
	.args_doc = "[INTERVAL [COUNT]]",
	.doc = top_doc,
	.children = top_children,
};

int cmd_top(int argc, char **argv)
{
	struct top_args a = { 0 };
	struct trace_meta tm;
	char err[512];
	struct view_run r;
	struct live *l = NULL;
	struct om_server *srv = NULL;
	struct forecast_session *fs;
	int ret = 0, n;

	memset(&r, 0, sizeof(r));
	view_args_init(&a.v, false);
	argp_err_exit_status = EXIT_USAGE;
	if (argp_parse(&top_argp, argc, argv, 0, NULL, &a))
		return EXIT_USAGE;

	/* QEMU's sockets first: a wrong one is refused before any probe */
	fs = forecast_session_open(&a.fc, a.v.interval_ns, &n);
	if (n)
		return n;
	if (a.om.listen) {
		/* before the probes: a port in use must not cost an attach */
		struct om_meta om = { .source = "live" };

		srv = om_server_start(a.om.listen, &om, err, sizeof(err));
		if (!srv) {
			fprintf(stderr, "%s: %s\n", cli_name, err);
			forecast_session_close(fs);
			return EXIT_RUNTIME;
		}
	}
	l = live_open(&a.live, err, sizeof(err));
	if (!l) {
		fprintf(stderr, "%s: %s\n", cli_name, err);
		om_server_stop(srv);
		forecast_session_close(fs);
		return EXIT_RUNTIME;
	}
	if (a.live.verbose)
		fprintf(stderr, "%s: attached with %s; iova_bitmap layout %s.\n", cli_name,
			live_probe_mode(l), view_layout_name(live_layout(l)));

	live_meta(l, &tm);
	if (view_run_open(&r, &a.v, &tm, "live")) {
		forecast_session_close(fs);
		ret = EXIT_RUNTIME;
		goto cleanup;
	}
	r.forecast = fs;
	if (view_run_show(&r, &a.v)) {
		ret = EXIT_RUNTIME;
		goto cleanup;
	}
	r.meta.live = true;
	r.ring_fn = live_ring_hook;
	r.ring_ctx = l;
	if (srv) {
		struct om_meta om = { .source = "live", .kernel = tm.kernel_release,
				      .probe = tm.probe_mode, .layout = r.meta.layout,
				      .forecasts = fs, .ring = &r.ring };

		om_server_set_meta(srv, &om);
		r.snap_fn = om_snap_hook;
		r.snap_ctx = srv;
	}
	{
		uint64_t mono = clock_ns(CLOCK_MONOTONIC);

		r.meta.wall_offset_ns = (int64_t)(clock_ns(CLOCK_REALTIME) - mono);
		if (a.live.verbose)
			fprintf(stderr, "%s: starts at CLOCK_MONOTONIC %llu ns, CLOCK_REALTIME %lld ns ahead.\n", cli_name,
				(unsigned long long)mono, (long long)r.meta.wall_offset_ns);
		view_run_start(&r, mono);
	}
	view_run_redraw(&r, true);

	while (!r.done && !stop_signal) {
		uint64_t now = clock_ns(CLOCK_MONOTONIC);
		int timeout = KEY_POLL_MS;

		if (r.batch) {
			/* nothing to read from the keyboard: sleep to the boundary */
			uint64_t due = r.next_tick_ns + LIVE_GRACE_NS;

			timeout = due > now ? (int)((due - now) / 1000000) + 1 : 0;
		}
		n = live_poll(l, timeout, view_run_record, &r);
		if (n == -E2BIG) {
			view_msg("%s: this host reports %s; stopping.\n", cli_name,
				 model_strerror(n));
			ret = EXIT_RUNTIME;
			break;
		}
		if (n < 0 && n != -EINTR) {
			view_msg("%s: reading the ring buffer failed: %s.\n", cli_name,
				 strerror(-n));
			ret = EXIT_RUNTIME;
			break;
		}
		now = clock_ns(CLOCK_MONOTONIC);
		view_run_clock(&r, now > LIVE_GRACE_NS ? now - LIVE_GRACE_NS : 0);
		view_run_keys(&r);
	}
	if (!view_run_output_ok(&r))
		ret = EXIT_RUNTIME;

cleanup:
	view_run_close(&r);
	if (l && live_lost(l))
		fprintf(stderr, "%s: %llu records were lost; a larger ring buffer or a longer interval may help.\n", cli_name,
			(unsigned long long)live_lost(l));
	live_close(l);
	om_server_stop(srv);
	return ret;
}
