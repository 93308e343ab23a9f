// SPDX-License-Identifier: GPL-2.0
/*
 * view_run.c - the loop live mode and replay share. Records pass through
 * view_run_record() on their way to the model; the interval boundaries are
 * multiples of the interval on the records' own clock (CLOCK_MONOTONIC),
 * and a boundary is emitted either when a record past it arrives or when
 * the caller's clock passes it. A replay of a trace therefore cuts it at
 * the same instants, and shows the same numbers, as a live view that ran
 * while it was recorded.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "cli_util.h"
#include "forecast_session.h"
#include "view_note.h"
#include "trace_file.h"
#include "view.h"

/*
 * A gap longer than this many intervals (a trace paused for an hour, or a
 * corrupt timestamp) is shown as one interval, not as a flood of empty ones.
 */
#define MAX_EMPTY_TICKS		3600

void view_run_init(struct view_run *r, struct model *m, uint64_t interval_ns,
		   long count)
{
	memset(r, 0, sizeof(*r));
	r->model = m;
	view_state_init(&r->st);
	r->interval_ns = interval_ns ? interval_ns : 1000000000ull;
	r->st.interval_s = (double)r->interval_ns / 1e9;
	r->count = count;
	tzset();	/* the header's clock must not read files while drawing */
}

int view_run_open(struct view_run *r, const struct view_args *a,
		  const struct trace_meta *tm, const char *source)
{
	struct model_opts mo = { .rule = (enum ibd_rule)tm->rule,
				 .max_bitmap_bytes = a->max_bitmap };
	struct model *m = model_new(&mo);

	view_run_init(r, m, a->interval_ns, a->count);
	if (!m) {
		fprintf(stderr, "%s: out of memory for the model.\n", cli_name);
		return -1;
	}
	view_args_apply(a, &r->st);
	r->note_file = a->note_file;
	r->meta.source = source;
	r->meta.kernel = tm->kernel_release;
	r->meta.probe = tm->probe_mode;
	r->meta.layout = view_layout_name(tm->layout);
	if (tm->start_realtime_ns && tm->start_mono_ns)
		r->meta.wall_offset_ns = (int64_t)(tm->start_realtime_ns -
						   tm->start_mono_ns);
	catch_signals(true);
	return 0;
}

int view_run_show(struct view_run *r, const struct view_args *a)
{
	char err[512];

	if (view_args_batch(a)) {
		r->batch = stdout;
		r->batch_fmt = a->format;
		return 0;
	}
	r->vc = view_curses_open(stdout, stdin, NULL, err, sizeof(err));
	if (!r->vc) {
		fprintf(stderr, "%s: %s\n", cli_name, err);
		return -1;
	}
	return 0;
}

void view_run_close(struct view_run *r)
{
	view_curses_close(r->vc);
	r->vc = NULL;
	model_free(r->model);
	r->model = NULL;
	forecast_session_close(r->forecast);
	r->forecast = NULL;
	r->meta.forecast = NULL;
	r->meta.forecasts = NULL;
}

static uint64_t next_boundary(const struct view_run *r, uint64_t t)
{
	return (t / r->interval_ns + 1) * r->interval_ns;
}

void view_run_start(struct view_run *r, uint64_t start_ns)
{
	struct model_snapshot base;

	/* the first snapshot only sets where the first interval's rates begin */
	model_snapshot(r->model, start_ns, r->st.sort, r->st.reverse,
		       r->st.filter, &base);
	r->last_tick_ns = start_ns;
	/* a first interval shorter than half of one gives noisy rates: skip it */
	r->next_tick_ns = next_boundary(r, start_ns + r->interval_ns / 2);
	if (!r->meta.t0_ns)
		r->meta.t0_ns = start_ns;
}

/* What the view's keys ask of the model's snapshots: totals, grouping. */
static void view_run_model_opts(struct view_run *r)
{
	model_sort_totals(r->model, r->st.cumulative);
	model_group_by_process(r->model, r->st.group);
}

static void emit(struct view_run *r, uint64_t tick_ns)
{
	/*
	 * Paused live, the screen must stay as it was, re-sorted or resized
	 * included: take no snapshot (the rows belong to the model until the
	 * next one). The model counts on, and the first interval after the
	 * pause averages over it. A paused replay's clock stands still, so a
	 * boundary there is a step and is shown.
	 */
	if (r->vc && !r->batch && r->st.paused && !r->st.replay)
		return;
	view_run_model_opts(r);
	if (model_snapshot(r->model, tick_ns, r->st.sort, r->st.reverse,
			   r->st.filter, &r->snap)) {
		/*
		 * out of memory for the rows: show none until a snapshot
		 * works again, but count the interval
		 */
		view_msg("%s: out of memory for a snapshot at +%.3fs.\n", cli_name,
			 (double)(tick_ns - r->meta.t0_ns) / 1e9);
		r->have_snap = false;
		r->shown++;
		return;
	}
	r->have_snap = true;
	/* a note that cannot be read is no note: the view goes on */
	if (r->note_file) {
		if (view_note_read(r->note_file, r->note, sizeof(r->note)))
			r->note[0] = '\0';
		r->meta.note = r->note;
	}
	if (r->forecast) {
		forecast_session_update(r->forecast, &r->snap);
		r->meta.forecast = forecast_session_line(r->forecast);
		r->meta.forecasts = r->forecast;
	}
	r->last_tick_ns = tick_ns;
	r->pending = 0;
	if (r->ring_fn) {
		r->ring_fn(r->ring_ctx, &r->ring);
		r->meta.ring = r->ring.size_bytes ? &r->ring : NULL;
	}
	if (r->snap_fn)
		r->snap_fn(r->snap_ctx, &r->snap);
	if (r->batch && r->batch_fmt == VIEW_FMT_JSON)
		view_json_print(r->batch, &r->meta, &r->st, &r->snap);
	else if (r->batch && r->batch_fmt == VIEW_FMT_CSV)
		view_csv_print(r->batch, &r->meta, &r->snap, r->shown == 0);
	else if (r->batch)
		view_batch_print(r->batch, &r->meta, &r->st, &r->snap);
	/* the printers flush: an output that takes no more ends the run */
	if (r->batch && ferror(r->batch) && !r->batch_errno) {
		r->batch_errno = errno ? errno : EIO;
		r->done = true;
	}
	if (r->vc)
		view_curses_draw(r->vc, &r->st, &r->meta, &r->snap, false);
	r->shown++;
	if (r->count > 0 && r->shown >= r->count)
		r->done = true;
}

/* Emit every boundary up to and including t. */
static int tick_until(struct view_run *r, uint64_t t)
{
	int n = 0;

	if (!r->next_tick_ns)
		view_run_start(r, t);
	if (t >= r->next_tick_ns &&
	    (t - r->next_tick_ns) / r->interval_ns > MAX_EMPTY_TICKS)
		r->next_tick_ns = t / r->interval_ns * r->interval_ns;
	while (!r->done && t >= r->next_tick_ns) {
		emit(r, r->next_tick_ns);
		r->next_tick_ns += r->interval_ns;
		n++;
	}
	return n;
}

int view_run_record(void *ctx, const struct iova_rec_hdr *rec)
{
	struct view_run *r = ctx;
	int err;

	tick_until(r, rec->ts_ns);
	if (r->done)
		return 1;	/* count reached: stop the source */
	err = model_apply(r->model, rec);
	if (!err)
		r->pending++;
	return err;
}

int view_run_clock(struct view_run *r, uint64_t now_ns)
{
	return tick_until(r, now_ns);
}

/* Records after the last boundary too few to make a rate of their own. */
static uint64_t sliver_ns(const struct view_run *r)
{
	uint64_t half = r->interval_ns / 2;

	return half < 1000000000ull ? half : 1000000000ull;
}

void view_run_finish(struct view_run *r)
{
	model_finish(r->model);
	r->meta.at_end = true;
	if (r->done)
		return;
	/* the interval the last records fell in, or something to look at */
	if (r->pending || !r->have_snap) {
		uint64_t end = model_now(r->model), t;

		if (!r->next_tick_ns)
			view_run_start(r, end);
		/*
		 * The last interval ends with the last record, not on the grid
		 * after it: a 3 s trace at interval 30 is not shown at +42 s,
		 * and its rates are over the time the records cover. Unless
		 * it is a sliver after a boundary: a report or two over a few
		 * milliseconds make no rate, so that one keeps its interval.
		 * A sliver is under half an interval, and never a second or
		 * more: 12 s of migration after a boundary at interval 30 are
		 * shown as 12 s, not stretched to 30.
		 */
		t = r->next_tick_ns;
		if (r->pending && end > r->last_tick_ns && end < t &&
		    (!r->have_snap || end - r->last_tick_ns >= sliver_ns(r)))
			t = end;
		emit(r, t);
		r->next_tick_ns += r->interval_ns;
	} else if (r->vc) {
		view_run_redraw(r, false);
	}
}

bool view_run_output_ok(struct view_run *r)
{
	if (!r->batch)
		return true;
	errno = 0;
	if ((fflush(r->batch) || ferror(r->batch)) && !r->batch_errno)
		r->batch_errno = errno ? errno : EIO;
	if (!r->batch_errno)
		return true;
	view_msg("%s: cannot write the batch output: %s.\n", cli_name,
		 strerror(r->batch_errno));
	return false;
}

void view_run_redraw(struct view_run *r, bool clear)
{
	if (r->vc)
		view_curses_draw(r->vc, &r->st, &r->meta,
				 r->have_snap ? &r->snap : NULL, clear);
}

/*
 * A new sort or filter re-snapshots at the last boundary: the model keeps
 * the rates of that interval, so only the order and the rows shown change.
 */
static void resort(struct view_run *r)
{
	if (!r->have_snap)
		return;
	view_run_model_opts(r);
	model_snapshot(r->model, r->last_tick_ns, r->st.sort, r->st.reverse,
		       r->st.filter, &r->snap);
	forecast_session_mark(r->forecast, &r->snap);
}

unsigned int view_run_keys(struct view_run *r)
{
	unsigned int flags = 0, f;
	int key;

	if (!r->vc)
		return 0;
	while ((key = view_curses_key(r->vc)) >= 0) {
		f = view_key(&r->st, key);
		if (f & VIEW_R_RESORT)
			resort(r);
		if (f & VIEW_R_QUIT)
			r->done = true;
		if (f & VIEW_R_INTERVAL) {
			/*
			 * The new grid: multiples of the new interval, the first
			 * after the last boundary shown, as if it had started so
			 */
			r->interval_ns = (uint64_t)(r->st.interval_s * 1e9 + 0.5);
			if (r->next_tick_ns)
				r->next_tick_ns = next_boundary(r, r->last_tick_ns);
		}
		flags |= f;
		/*
		 * The caller acts on these one key at a time (three steps are
		 * three intervals; p p must pause and resume the clock).
		 */
		if (f & (VIEW_R_QUIT | VIEW_R_STEP | VIEW_R_PAUSE | VIEW_R_SPEED))
			break;
	}
	if (flags & (VIEW_R_DRAW | VIEW_R_CLEAR))
		view_run_redraw(r, flags & VIEW_R_CLEAR);
	return flags;
}
