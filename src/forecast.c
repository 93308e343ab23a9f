// SPDX-License-Identifier: GPL-2.0
/*
 * forecast.c - will pre-copy converge, and which device stops it?
 *
 * QEMU's rules, written again here (docs/forecast.md cites them):
 *
 *   migration_update_counters()   bandwidth = bytes sent / time, per
 *                                 period; threshold = bandwidth x
 *                                 downtime-limit (or avail-switchover-
 *                                 bandwidth x limit when that is set);
 *                                 expected downtime = dirty bytes at the
 *                                 last sync / bandwidth
 *   migration_iteration_run()     switch over when pending is 0 or below
 *                                 the threshold
 *   migration_bitmap_sync()       dirty-pages-rate = pages newly dirty in
 *                                 a period of at least a second / period
 *
 * Between two syncs QEMU sends what was pending, P bytes, which takes
 * P / bw seconds, while the VM dirties D bytes/s. So the next iteration
 * carries P x D / bw: the pending bytes shrink by rho = D / bw per
 * iteration, which converges only when D < bw, and reaches the threshold
 * T after ceil(log(T / P) / log(rho)) iterations. More than
 * FORECAST_SLOW_ITERS of them counts as "cannot": a guest or device that
 * rewrites a set faster than the link sends it makes QEMU measure a dirty
 * rate just under the bandwidth (each pass finds the whole set dirty
 * again), so rho creeps towards 1 rather than past it.
 *
 * A device that rewrites the same set each iteration (its last iteration
 * held at least 0.9 of the one before) dirties it whatever the pass's
 * length: every pass carries that set again, and if the sets add up to
 * the threshold or more the migration cannot converge, however fast its
 * rate looks against the link.
 */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "forecast.h"

/*
 * QEMU asks every device at each bitmap sync; a device that has not
 * finished an iteration for this long, and for three of its own periods,
 * is no longer being migrated, so its last rate no longer counts.
 */
#define QUIET_NS	(10ull * 1000000000ull)
/* an iteration of at least this much of the one before: a steady set */
#define STEADY_RATIO	0.9
/*
 * QEMU recomputes expected-downtime only in a period that sent more than
 * 10000 bytes (migration_update_counters), while mbps is new each
 * period: below this mbps (10000 bytes in QEMU's 100 ms) the two may be
 * of different periods, and their product is not the pending bytes.
 */
#define PAIR_MIN_MBPS	0.8

const char *forecast_verdict_name(enum forecast_verdict v)
{
	switch (v) {
	case FORECAST_CONVERGES: return "converges";
	case FORECAST_CANNOT: return "CANNOT CONVERGE";
	case FORECAST_COMPLETED: return "completed";
	case FORECAST_ENDED: return "ended";
	default: return "no forecast";
	}
}

const char *forecast_verdict_key(enum forecast_verdict v)
{
	switch (v) {
	case FORECAST_CONVERGES: return "converges";
	case FORECAST_CANNOT: return "cannot";
	case FORECAST_COMPLETED: return "completed";
	case FORECAST_ENDED: return "ended";
	default: return "unknown";
	}
}

const char *forecast_src_name(enum forecast_src s)
{
	switch (s) {
	case FORECAST_SRC_DEFAULT: return "default";
	case FORECAST_SRC_OPTION: return "assumed";
	case FORECAST_SRC_QEMU: return "qemu";
	default: return "unknown";
	}
}

size_t forecast_fmt_rate(char *buf, size_t len, double v)
{
	static const char *const unit[] = { "B/s", "KB/s", "MB/s", "GB/s", "TB/s" };
	unsigned int u = 0;

	while (fabs(v) >= 1000.0 && u < 4) {
		v /= 1000.0;
		u++;
	}
	return (size_t)snprintf(buf, len, "%.*f %s",
				u == 0 || fabs(v) >= 100.0 ? 0 :
				fabs(v) >= 10.0 ? 1 : 2, v, unit[u]);
}

static size_t fmt_size(char *buf, size_t len, double v)
{
	static const char *const unit[] = { "B", "KB", "MB", "GB", "TB" };
	unsigned int u = 0;

	while (fabs(v) >= 1000.0 && u < 4) {
		v /= 1000.0;
		u++;
	}
	return (size_t)snprintf(buf, len, "%.*f %s",
				u == 0 || fabs(v) >= 100.0 ? 0 :
				fabs(v) >= 10.0 ? 1 : 2, v, unit[u]);
}

/* ---- units ------------------------------------------------------------ */

/* The number and a decimal or binary multiplier; *rest points past them. */
static int parse_scaled(const char *s, double *v, const char **rest)
{
	char *end;
	double x, mul = 1;

	if (!s || !*s)
		return -EINVAL;
	errno = 0;
	x = strtod(s, &end);
	if (end == s || errno || !isfinite(x) || x < 0)
		return -EINVAL;
	switch (*end) {
	case 'k': case 'K': mul = 1e3; break;
	case 'M': mul = 1e6; break;
	case 'G': mul = 1e9; break;
	case 'T': mul = 1e12; break;
	default: mul = 0; break;
	}
	if (mul) {
		end++;
		if (*end == 'i') {
			mul = mul == 1e3 ? 1024.0 : mul == 1e6 ? 1048576.0 :
			      mul == 1e9 ? 1073741824.0 : 1099511627776.0;
			end++;
		}
	} else {
		mul = 1;
	}
	*v = x * mul;
	*rest = end;
	return 0;
}

int forecast_parse_rate(const char *s, double *bytes_per_s)
{
	const char *u;
	double v;

	if (parse_scaled(s, &v, &u))
		return -EINVAL;
	if (!*u || !strcmp(u, "b/s") || !strcmp(u, "bit/s") ||
	    !strcmp(u, "bps") || !strcmp(u, "bit"))
		*bytes_per_s = v / 8.0;
	else if (!strcmp(u, "B") || !strcmp(u, "B/s") || !strcmp(u, "Bps"))
		*bytes_per_s = v;
	else
		return -EINVAL;
	return 0;
}

int forecast_parse_duration(const char *s, double *seconds)
{
	const char *u;
	char *end;
	double v;

	if (!s || !*s)
		return -EINVAL;
	errno = 0;
	v = strtod(s, &end);
	if (end == s || errno || !isfinite(v) || v < 0)
		return -EINVAL;
	u = end;
	if (!*u || !strcmp(u, "ms"))
		*seconds = v / 1e3;
	else if (!strcmp(u, "s"))
		*seconds = v;
	else if (!strcmp(u, "us"))
		*seconds = v / 1e6;
	else
		return -EINVAL;
	return 0;
}

/* ---- the arithmetic --------------------------------------------------- */

static bool status_is(const struct qmp_migrate *q, const char *s)
{
	return !strcmp(q->status, s);
}

static void device_rate(struct forecast_dev *d, const struct model_row *r,
			uint64_t now_ns)
{
	double period_s;
	uint64_t quiet_ns = QUIET_NS, since;

	d->iterations = r->iterations;
	d->dirty_bytes = r->dirty_bytes_iter;
	if (!r->iterations) {
		/* nothing finished yet: no rate to speak of */
		d->quiet = true;
		return;
	}
	if (r->nhistory >= 2 && r->nhistory <= MODEL_HISTORY &&
	    r->history[r->nhistory - 2] > 0 &&
	    (double)r->history[r->nhistory - 1] >=
	    STEADY_RATIO * (double)r->history[r->nhistory - 2])
		d->steady = true;
	d->rate = r->iter_bytes_per_s;
	if (d->rate > 0) {
		period_s = (double)r->dirty_bytes_iter / d->rate;
		/* a hostile trace's period can be longer than a u64 holds */
		if (period_s * 3e9 >= 1.8e19)
			quiet_ns = UINT64_MAX;
		else if (period_s * 3e9 > (double)quiet_ns)
			quiet_ns = (uint64_t)(period_s * 3e9);
	}
	since = now_ns > r->iter_end_ns ? now_ns - r->iter_end_ns : 0;
	if (since > quiet_ns) {
		d->quiet = true;
		d->rate = 0;
		d->steady = false;
	}
}

/*
 * The steady devices' sets, largest first, until what is left of them
 * fits under the threshold: they alone make every pass carry more than
 * the downtime lets through.
 */
static void blame_sets(struct forecast *f)
{
	bool taken[FORECAST_MAX_DEVICES] = { false };
	double left = f->set_bytes;
	uint32_t i, best;

	while (left >= f->threshold && f->nblame < FORECAST_MAX_BLAME) {
		best = f->ndev;
		for (i = 0; i < f->ndev; i++)
			if (!taken[i] && f->dev[i].steady &&
			    (best == f->ndev ||
			     f->dev[i].dirty_bytes > f->dev[best].dirty_bytes))
				best = i;
		if (best == f->ndev)
			break;
		taken[best] = true;
		f->dev[best].blamed = true;
		f->blame[f->nblame++] = best;
		left -= (double)f->dev[best].dirty_bytes;
	}
}

/*
 * QEMU's bandwidth over the last whole sync and this one: the highest
 * 100 ms period it measured (see struct forecast). A new migration on
 * the same QEMU (fewer bytes sent, or fewer syncs) starts afresh.
 */
static void qemu_bandwidth(struct forecast *f, const struct qmp_migrate *q,
			   const struct forecast *prev)
{
	bool same = prev && prev->have_qemu && prev->qemu.pid == q->pid &&
		    q->have_ram && prev->qemu.have_ram &&
		    q->dirty_sync_count >= prev->bw_sync &&
		    q->ram_transferred >= prev->qemu.ram_transferred;

	f->bw_sample = q->mbps > 0 ? q->mbps * 1e6 / 8.0 : 0;
	f->bw_sync = q->dirty_sync_count;
	f->bw_max_cur = f->bw_sample;
	if (same && q->dirty_sync_count == prev->bw_sync) {
		if (prev->bw_max_cur > f->bw_max_cur)
			f->bw_max_cur = prev->bw_max_cur;
		f->bw_max_prev = prev->bw_max_prev;
	} else if (same) {
		f->bw_max_prev = prev->bw_max_cur;
	}
}

/*
 * Name the devices that stop it: the fastest first, until what is left
 * would shrink by at least rho_ok per iteration (enough to reach the
 * threshold within FORECAST_SLOW_ITERS).
 */
static void blame(struct forecast *f, double rho_ok)
{
	bool taken[FORECAST_MAX_DEVICES] = { false };
	double left = f->dirty_rate, target = f->bw * rho_ok;
	uint32_t i, best;

	while (left >= target && f->nblame < FORECAST_MAX_BLAME) {
		best = f->ndev;
		for (i = 0; i < f->ndev; i++)
			if (!taken[i] && f->dev[i].rate > 0 &&
			    (best == f->ndev || f->dev[i].rate > f->dev[best].rate))
				best = i;
		if (best == f->ndev)
			break;
		taken[best] = true;
		f->dev[best].blamed = true;
		f->blame[f->nblame++] = best;
		left -= f->dev[best].rate;
	}
	/*
	 * Without the named devices the rest still fills the link: what is
	 * left is QEMU's rate beyond the devices, the guest's own writes.
	 */
	if (left >= target && f->qemu_rate > f->device_rate)
		f->blame_guest = true;
	/*
	 * The rates alone would converge, but the pending bytes did not
	 * shrink between syncs (rho_seen): name the busiest writer there is.
	 */
	if (!f->nblame && !f->blame_guest) {
		best = f->ndev;
		for (i = 0; i < f->ndev; i++)
			if (f->dev[i].rate > 0 &&
			    (best == f->ndev || f->dev[i].rate > f->dev[best].rate))
				best = i;
		if (best < f->ndev && f->dev[best].rate >= f->qemu_rate - f->device_rate) {
			f->dev[best].blamed = true;
			f->blame[f->nblame++] = best;
		} else if (f->qemu_rate > f->device_rate) {
			f->blame_guest = true;
		}
	}
}

/*
 * Iterations until pending falls below the threshold, each one carrying
 * rho times the one before; UINT32_MAX when it never does.
 */
static uint32_t iterations_to(double pending, double threshold, double rho)
{
	double n;

	if (rho >= 1 || threshold <= 0)
		return UINT32_MAX;
	if (rho <= 0)
		return 1;	/* one pass sends it all */
	n = ceil(log(threshold / pending) / log(rho));
	if (n < 1)
		n = 1;
	return n > FORECAST_SLOW_ITERS ? UINT32_MAX : (uint32_t)n;
}

/*
 * The slowest link on which the same dirtying converges within
 * FORECAST_SLOW_ITERS, or whose threshold holds what is pending now (QEMU
 * then switches over at its next check): the threshold grows with the
 * link and rho shrinks.
 * When the pending bytes did not shrink as the rates say they should
 * (rho_seen above them), the guest or a device rewrites a set whatever
 * the pace: then only a threshold that holds it all will do, pending / dl.
 */
static double needed_bw(const struct forecast *f)
{
	double lo = 0, hi, mid, set = 0;
	int i;

	if (f->dl <= 0)
		return 0;	/* no downtime at all: no link is enough */
	if (f->rho_seen >= 0.9 ||
	    (f->rho_seen > 0 && f->bw > 0 && f->rho_seen > f->dirty_rate / f->bw))
		set = f->pending / f->dl;
	/* a threshold above pending switches over at once: enough anyway */
	hi = f->pending / f->dl * 1.000001;
	if (hi <= 0)
		return set;
	for (i = 0; i < 60; i++) {
		mid = (lo + hi) / 2;
		if (f->pending < mid * f->dl ||
		    iterations_to(f->pending, mid * f->dl,
				  mid > 0 ? f->dirty_rate / mid : 1) != UINT32_MAX)
			hi = mid;
		else
			lo = mid;
	}
	return hi > set ? hi : set;
}

void forecast_compute(struct forecast *f, const struct forecast_opts *o,
		      const struct model_snapshot *snap,
		      const struct qmp_migrate *q, const struct forecast *prev)
{
	struct forecast_opts none = { 0 };
	uint64_t it_max = 0;
	bool any_iter = false;
	uint32_t i;

	memset(f, 0, sizeof(*f));
	if (!o)
		o = &none;
	f->qemu_rate = -1;
	f->expected_downtime = -1;
	f->rho_seen = -1;
	f->pid = q ? q->pid : o->pid;
	if (q) {
		f->have_qemu = true;
		f->qemu = *q;
	}

	for (i = 0; snap && i < snap->nrows; i++) {
		const struct model_row *r = &snap->rows[i];
		struct forecast_dev d = { 0 };

		if (q ? q->pid && r->pid != q->pid : o->pid && r->pid != o->pid)
			continue;
		snprintf(d.name, sizeof(d.name), "%s", r->name);
		d.pid = r->pid;
		d.share_qemu = -1;
		device_rate(&d, r, snap->now_ns);
		if (r->iterations) {
			any_iter = true;
			if (r->iterations > it_max)
				it_max = r->iterations;
		}
		f->device_rate += d.rate;
		if (!d.quiet)
			f->pending += (double)d.dirty_bytes;
		if (f->ndev < FORECAST_MAX_DEVICES)
			f->dev[f->ndev++] = d;
		else
			f->nother++;
	}
	f->dirty_rate = f->device_rate;
	f->iteration = it_max;

	/* QEMU's own figures replace ours where it has them */
	if (q) {
		if (q->have_ram) {
			f->pending = (double)q->ram_remaining;
			f->pending_qemu = true;
			f->iteration = q->dirty_sync_count;
			if (q->page_size)
				f->qemu_rate = (double)q->dirty_pages_rate *
					       (double)q->page_size;
		}
		if (q->avail_switchover_bandwidth) {
			f->bw = (double)q->avail_switchover_bandwidth;
			f->bw_src = FORECAST_SRC_QEMU;
		} else {
			qemu_bandwidth(f, q, prev);
			f->bw = f->bw_max_cur > f->bw_max_prev ? f->bw_max_cur :
								 f->bw_max_prev;
			if (f->bw > 0)
				f->bw_src = FORECAST_SRC_QEMU;
		}
		if (q->have_params) {
			f->dl = (double)q->downtime_limit_ms / 1e3;
			f->dl_src = FORECAST_SRC_QEMU;
		}
	}
	if (f->bw_src == FORECAST_SRC_NONE && o->link_bytes_s > 0) {
		f->bw = o->link_bytes_s;
		f->bw_src = FORECAST_SRC_OPTION;
	}
	/* before its first measurement QEMU's rate cap is the best guess */
	if (f->bw_src == FORECAST_SRC_NONE && q && q->max_bandwidth) {
		f->bw = (double)q->max_bandwidth;
		f->bw_src = FORECAST_SRC_QEMU;
	}
	if (f->dl_src == FORECAST_SRC_NONE) {
		f->dl = o->downtime_limit_s > 0 ? o->downtime_limit_s :
						  FORECAST_DEFAULT_DL_S;
		f->dl_src = o->downtime_limit_s > 0 ? FORECAST_SRC_OPTION :
						      FORECAST_SRC_DEFAULT;
	}
	if (f->qemu_rate > f->dirty_rate)
		f->dirty_rate = f->qemu_rate;
	f->threshold = f->bw * f->dl;

	for (i = 0; i < f->ndev; i++) {
		struct forecast_dev *d = &f->dev[i];

		if (f->bw > 0)
			d->share_link = d->rate / f->bw;
		if (f->qemu_rate > 0)
			d->share_qemu = d->rate / f->qemu_rate;
		if (d->steady)
			f->set_bytes += (double)d->dirty_bytes;
	}

	if (q && status_is(q, "completed")) {
		f->verdict = FORECAST_COMPLETED;
		f->expected_downtime = (double)q->downtime_ms / 1e3;
		return;
	}
	if (q && (status_is(q, "failed") || status_is(q, "cancelled") ||
		  status_is(q, "cancelling"))) {
		f->verdict = FORECAST_ENDED;
		return;
	}
	/*
	 * QEMU decided: the VM is stopped for the last pass (migration_
	 * completion(): "device", or "pre-switchover" when it waits to be let
	 * on); its figures are the stop-and-copy's, not a pre-copy's
	 */
	if (q && (status_is(q, "device") || status_is(q, "pre-switchover"))) {
		f->verdict = FORECAST_CONVERGES;
		f->iters_left = 0;
		return;
	}
	/* no migration (yet): the devices' reports are no pre-copy's */
	if (q && (status_is(q, "none") || status_is(q, "setup")))
		return;
	/* nothing to forecast from: no bandwidth, or no pass seen at all */
	if (f->bw_src == FORECAST_SRC_NONE || (!f->pending_qemu && !any_iter))
		return;

	/*
	 * Once QEMU measures a dirty rate, its expected-downtime is the dirty
	 * bytes at the last sync over its bandwidth (migration_update_counters),
	 * which is what QEMU compares with the threshold; ram.remaining, read
	 * mid-pass, is only what is still unsent of it.
	 */
	if (f->pending_qemu && q->dirty_pages_rate && q->expected_downtime_ms &&
	    f->bw_src == FORECAST_SRC_QEMU && q->mbps > PAIR_MIN_MBPS &&
	    !q->avail_switchover_bandwidth) {
		/* QEMU's own pair: expected-downtime over its period's bandwidth */
		f->pending = (double)q->expected_downtime_ms / 1e3 * f->bw_sample;
		f->pending_sync = true;
	} else if (f->pending_qemu && q->dirty_pages_rate && q->expected_downtime_ms &&
		   q->avail_switchover_bandwidth) {
		f->pending = (double)q->expected_downtime_ms / 1e3 * f->bw;
		f->pending_sync = true;
	} else if (f->pending_qemu && prev && prev->pending_sync &&
		   prev->have_qemu && prev->qemu.pid == q->pid &&
		   prev->iteration == f->iteration) {
		/* a period too short to say: the same sync's figure as before */
		f->pending = prev->pending;
		f->pending_sync = true;
	}
	/*
	 * Between two syncs the pending bytes went from the previous to this:
	 * that is rho as it happened. QEMU's dirty-pages-rate lags (its first
	 * period spans the bulk pass), so the larger of the two decides; but
	 * a pending that did not shrink is believed only over two iterations
	 * or more, since near the threshold one sync may well carry a little
	 * more than the one before and the next still switch over.
	 */
	if (prev && f->pending_sync) {
		if (prev->pending_sync && f->iteration > prev->iteration) {
			f->sync_pending_prev = prev->pending;
			f->sync_iter_prev = prev->iteration;
			f->stuck_iters = prev->stuck_iters;
		} else if (f->iteration == prev->iteration) {
			f->sync_pending_prev = prev->sync_pending_prev;
			f->sync_iter_prev = prev->sync_iter_prev;
			f->stuck_iters = prev->stuck_iters_before;
		}
		f->stuck_iters_before = f->stuck_iters;
		if (f->sync_iter_prev && f->sync_pending_prev > 0) {
			uint64_t n = f->iteration - f->sync_iter_prev;

			f->rho_seen = pow(f->pending / f->sync_pending_prev,
					  1.0 / (double)n);
			/*
			 * near the threshold (within twice it) a sync that
			 * carries as much as the one before says little: QEMU
			 * syncs with pages still unsent, and its next check
			 * may well switch over
			 */
			f->stuck_iters = f->rho_seen >= 0.9 &&
					 f->pending >= 2 * f->threshold ?
					 f->stuck_iters + n : 0;
		}
	}
	if (f->bw > 0)
		f->expected_downtime = f->pending / f->bw;
	/* migration_iteration_run(): !pending || pending < threshold */
	if (f->pending <= 0 || f->pending < f->threshold) {
		f->verdict = FORECAST_CONVERGES;
		f->iters_left = 0;
		return;
	}
	f->rho = f->bw > 0 ? f->dirty_rate / f->bw : 1;
	if (f->rho_seen > f->rho && (f->rho_seen < 0.9 || f->stuck_iters >= 2))
		f->rho = f->rho_seen;
	/* sets rewritten every pass that the downtime cannot hold */
	if (f->set_bytes > 0 && f->set_bytes >= f->threshold) {
		f->iters_left = 0;
		f->verdict = FORECAST_CANNOT;
		f->set_stuck = true;
		f->needed_bw = needed_bw(f);
		if (f->dl > 0 && f->set_bytes / f->dl * 1.000001 > f->needed_bw)
			f->needed_bw = f->set_bytes / f->dl * 1.000001;
		blame_sets(f);
		return;
	}
	f->iters_left = iterations_to(f->pending, f->threshold, f->rho);
	if (f->iters_left != UINT32_MAX) {
		f->verdict = FORECAST_CONVERGES;
		return;
	}
	f->iters_left = 0;
	f->verdict = FORECAST_CANNOT;
	f->needed_bw = needed_bw(f);
	blame(f, f->threshold > 0 && f->pending > 0 ?
		 pow(f->threshold / f->pending, 1.0 / FORECAST_SLOW_ITERS) : 1);
}

void forecast_mark_rows(const struct forecast *f, struct model_snapshot *snap)
{
	uint32_t i, b;

	if (f->verdict != FORECAST_CANNOT)
		return;
	for (i = 0; i < snap->nrows; i++)
		for (b = 0; b < f->nblame; b++) {
			const struct forecast_dev *d = &f->dev[f->blame[b]];

			if (d->pid == snap->rows[i].pid &&
			    !strcmp(d->name, snap->rows[i].name))
				snap->rows[i].trend = MODEL_TREND_BLOCKS;
		}
}

/* ---- text ------------------------------------------------------------- */

/* Append to buf at *off, never past len; keeps the string terminated. */
static void put(char *buf, size_t len, size_t *off, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static void put(char *buf, size_t len, size_t *off, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (*off >= len)
		return;
	va_start(ap, fmt);
	n = vsnprintf(buf + *off, len - *off, fmt, ap);
	va_end(ap);
	if (n > 0)
		*off = *off + (size_t)n < len ? *off + (size_t)n : len - 1;
}

size_t forecast_format_line(char *buf, size_t len, const struct forecast *f,
			    int width)
{
	char a[48], b[32], c[32];
	size_t off = 0;

	if (!len)
		return 0;
	buf[0] = '\0';
	/* whose migration: a QEMU asked (and its state), a traced process */
	if (f->have_qemu)
		put(buf, len, &off, "qemu %u %s iter %llu: ", f->qemu.pid,
		    f->qemu.status, (unsigned long long)f->iteration);
	else if (f->pid)
		put(buf, len, &off, "pid %u iter %llu: ", f->pid,
		    (unsigned long long)f->iteration);
	else
		put(buf, len, &off, "forecast iter %llu: ",
		    (unsigned long long)f->iteration);

	switch (f->verdict) {
	case FORECAST_CONVERGES:
		if (f->iters_left)
			put(buf, len, &off, "converges in ~%u iter%s", f->iters_left,
			    f->iters_left == 1 ? "" : "s");
		else
			put(buf, len, &off, "converges, switchover due");
		break;
	case FORECAST_CANNOT:
		if (f->set_stuck && f->nblame) {
			/* a set per pass: its size says more than a rate */
			fmt_size(c, sizeof(c), (double)f->dev[f->blame[0]].dirty_bytes);
			snprintf(a, sizeof(a), "%s/iter", c);
		} else {
			forecast_fmt_rate(a, sizeof(a), f->nblame ?
					  f->dev[f->blame[0]].rate : f->dirty_rate);
		}
		forecast_fmt_rate(b, sizeof(b), f->needed_bw);
		put(buf, len, &off, "CANNOT CONVERGE: %s%s %s, needs %s",
		    f->nblame ? f->dev[f->blame[0]].name :
		    f->blame_guest ? "guest" : "dirtied",
		    f->nblame > 1 || (f->nblame && f->blame_guest) ? " +" : "",
		    a, b);
		break;
	case FORECAST_COMPLETED:
		put(buf, len, &off, "completed, downtime %.0f ms",
		    f->expected_downtime * 1e3);
		break;
	case FORECAST_ENDED:
		put(buf, len, &off, "no forecast");
		break;
	default:
		if (f->have_qemu && (status_is(&f->qemu, "none") ||
				     status_is(&f->qemu, "setup")))
			put(buf, len, &off, "no migration yet");
		else if (f->bw_src == FORECAST_SRC_NONE)
			put(buf, len, &off, "no bandwidth: give --link-rate or --qmp");
		else
			put(buf, len, &off, "no iteration seen yet");
		break;
	}
	/* the assumptions before the figures: a narrow screen cuts the tail */
	if (f->bw_src != FORECAST_SRC_NONE && f->verdict != FORECAST_ENDED) {
		forecast_fmt_rate(a, sizeof(a), f->bw);
		put(buf, len, &off, "  bw %s %s  limit %.0fms %s", a,
		    forecast_src_name(f->bw_src), f->dl * 1e3,
		    forecast_src_name(f->dl_src));
		forecast_fmt_rate(a, sizeof(a), f->dirty_rate);
		put(buf, len, &off, "  dirty %s", a);
		/* how much of QEMU's own dirty rate the devices explain */
		if (f->qemu_rate > 0)
			put(buf, len, &off, " (devices %.0f%%)",
			    100.0 * f->device_rate / f->qemu_rate);
		fmt_size(b, sizeof(b), f->pending);
		fmt_size(c, sizeof(c), f->threshold);
		put(buf, len, &off, "  pending %s thr %s", b, c);
	}
	if (width >= 0 && (size_t)width < len)
		buf[width] = '\0';
	return strlen(buf);
}

size_t forecast_format_verdict(char *buf, size_t len, const struct forecast *f)
{
	char a[32], b[32], c[32], d[32], e[32];
	size_t off = 0;
	uint32_t i;

	if (!len)
		return 0;
	buf[0] = '\0';
	forecast_fmt_rate(a, sizeof(a), f->bw);
	forecast_fmt_rate(b, sizeof(b), f->dirty_rate);
	fmt_size(c, sizeof(c), f->pending);
	fmt_size(d, sizeof(d), f->threshold);
	switch (f->verdict) {
	case FORECAST_CONVERGES:
		if (f->iters_left)
			put(buf, len, &off,
			    "converges in about %u more iteration%s: %s dirtied against %s, so pending %s falls below the %s threshold",
			    f->iters_left, f->iters_left == 1 ? "" : "s", b, a,
			    c, d);
		else
			put(buf, len, &off,
			    "converges: pending %s is below the %s threshold, so QEMU switches over at its next check",
			    c, d);
		if (f->expected_downtime >= 0)
			put(buf, len, &off, "; expected downtime %.0f ms",
			    f->expected_downtime * 1e3);
		break;
	case FORECAST_CANNOT:
		put(buf, len, &off, "cannot converge at %s:", a);
		if (f->set_stuck) {
			for (i = 0; i < f->nblame; i++) {
				const struct forecast_dev *dv = &f->dev[f->blame[i]];

				fmt_size(c, sizeof(c), (double)dv->dirty_bytes);
				put(buf, len, &off, "%s %s rewrites %s each iteration",
				    i ? "," : "", dv->name, c);
			}
			fmt_size(c, sizeof(c), f->set_bytes);
			forecast_fmt_rate(e, sizeof(e), f->needed_bw);
			put(buf, len, &off, " (%s a pass in all, every pass again, against a %s threshold); a link of %s would suffice",
			    c, d, e);
			break;
		}
		for (i = 0; i < f->nblame; i++) {
			const struct forecast_dev *dv = &f->dev[f->blame[i]];

			forecast_fmt_rate(c, sizeof(c), dv->rate);
			put(buf, len, &off, "%s %s dirties %s", i ? "," : "",
			    dv->name, c);
		}
		if (f->blame_guest) {
			forecast_fmt_rate(c, sizeof(c), f->qemu_rate - f->device_rate);
			put(buf, len, &off, "%s the guest's own writes %s",
			    f->nblame ? "," : "", c);
		}
		fmt_size(c, sizeof(c), f->pending);
		forecast_fmt_rate(e, sizeof(e), f->needed_bw);
		put(buf, len, &off, " (%s dirtied in all, pending %s against a %s threshold); a link of %s would suffice",
		    b, c, d, e);
		break;
	case FORECAST_COMPLETED:
		put(buf, len, &off, "completed after %llu iterations, downtime %.0f ms",
		    (unsigned long long)f->iteration, f->expected_downtime * 1e3);
		break;
	case FORECAST_ENDED:
		put(buf, len, &off, "migration %s", f->qemu.status);
		break;
	default:
		if (f->have_qemu && (status_is(&f->qemu, "none") ||
				     status_is(&f->qemu, "setup"))) {
			put(buf, len, &off, "no forecast: QEMU is not migrating yet (%s)",
			    f->qemu.status);
			break;
		}
		put(buf, len, &off, f->bw_src == FORECAST_SRC_NONE ?
		    "no forecast: no bandwidth known (give --link-rate, or --qmp for QEMU's own)" :
		    "no forecast: no device has finished an iteration");
		break;
	}
	if (f->bw_src != FORECAST_SRC_NONE)
		put(buf, len, &off, " [bandwidth %s, %s; downtime limit %.0f ms, %s]",
		    a, forecast_src_name(f->bw_src), f->dl * 1e3,
		    forecast_src_name(f->dl_src));
	return strlen(buf);
}
