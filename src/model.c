// SPDX-License-Identifier: GPL-2.0
/*
 * model.c - records in, snapshots out (see include/model.h).
 *
 * Per bitmap the model holds the geometry from IOVA_REC_ALLOC and a decoder
 * (src/iova_bitmap_decode.c) into which the RANGE records of the report in
 * flight are replayed; REPORT_END finishes the report, which is then folded
 * into its device: totals, the interval counters the next snapshot turns
 * into rates, heat over the device's IOVA span, and iterations (one pass of
 * reports over the device's ranges) whose dirty pages make the trend.
 *
 * No I/O and no curses here, and no allocation per record: the hot path is
 * one cached lookup and one ibd_set() per RANGE record.
 */
#define _GNU_SOURCE	/* qsort_r */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "filter.h"
#include "hot_region.h"
#include "model.h"
#include "name_index.h"

#define DEV_RANGES		64	/* distinct ranges remembered per device */
#define IDLE_NS			(30ull * 1000000000ull)	/* stale bitmap */
#define MAX_BITMAPS		(1u << 16)
#define RECENT_REPORTS		64	/* report_id -> device, for VERIFY */
#define HEAT_DECAY		0.875	/* per report covering the bucket */
/* all decoders together may hold this many times max_bitmap_bytes */
#define REBUILD_BUDGET		16

#define STR_(x)			#x
#define STR(x)			STR_(x)

struct span {
	uint64_t lo, hi;	/* [lo, hi) */
};

struct mdev {
	struct model_row row;		/* name, totals, history; rates set at snapshot */
	double heat[MODEL_HEAT_BUCKETS];
	/*
	 * hot regions (include/hot_region.h): this interval's, and all of
	 * them before it (each interval's is merged in as it ends, so a
	 * report's bitmap is walked once)
	 */
	struct hot_map hot_iv, hot_all;
	struct hot_region iv_hot;	/* of the last interval, set at snapshot */
	struct hot_region all_hot;	/* of hot_all, when all_fresh */
	bool all_fresh;
	uint64_t span_lo, span_hi;	/* union of its bitmaps: heat's range */

	uint64_t iv_reports;		/* since the last snapshot */
	uint64_t iv_dirty_bytes;
	double rate_reports, rate_mib;	/* as of the last snapshot */

	/* distinct IOVA ranges reported, to know when an iteration is whole */
	struct span known[DEV_RANGES];
	uint32_t nknown;
	bool known_overflow;
	uint64_t known_bytes;
	bool stable;			/* a range came back: known is complete */

	/* the iteration being gathered */
	struct span it_ranges[DEV_RANGES];
	uint32_t it_nranges;
	uint64_t it_ts_begin, it_ts_end, it_reports, it_incomplete;
	uint64_t it_dirty_pages, it_dirty_bytes, it_covered;
	uint64_t it_index, prev_it_end;
};

/* A report in flight on a bitmap. */
struct mreport {
	bool open;
	bool begun;			/* REPORT_BEGIN seen */
	bool lost;			/* records may be missing */
	uint64_t report_id;
	uint64_t ts_begin;
	uint32_t path, hwpt_id, ictx_id;
	int dev;			/* index in m->devs, -1 unknown yet */
	struct iova_rec_task task;
	uint64_t ranges, set_calls, windows, anomaly_recs;
	uint64_t range_bytes;		/* estimate when not rebuilt */
};

struct mbitmap {
	uint64_t id;
	bool have_geometry;		/* from ALLOC */
	bool rebuild;			/* ibd is initialised */
	uint64_t iova, length, page_size, user_addr;
	uint64_t kpage_size;		/* the kernel's PAGE_SIZE, 0: not usable */
	struct iova_rec_task task;
	uint64_t last_ts;
	int last_dev;
	struct ibd ibd;
	struct mreport rep;
};

struct model {
	struct model_opts opts;
	model_report_fn report_fn;
	void *report_ctx;
	model_iteration_fn iter_fn;
	void *iter_ctx;

	/* bitmaps by id: open addressing, linear probing */
	struct mbitmap **tab;
	uint32_t tab_cap, nbitmaps;
	struct mbitmap *last;		/* the RANGE fast path */

	struct mdev *devs;
	uint32_t ndevs, devs_cap;
	struct name_index dev_index;	/* name -> index in devs */
	bool too_many;			/* a device past MODEL_MAX_DEVICES */
	struct model_row *rows;		/* snapshot output */
	uint32_t rows_cap;

	struct { uint64_t report_id; int dev; } recent[RECENT_REPORTS];
	uint32_t recent_next;

	struct model_anomaly anom[MODEL_ANOM_LOG];
	uint32_t anom_next, nanom;

	uint64_t now_ns, first_ts, last_snap_ns;
	uint64_t start_ns;		/* where the first snapshot's rates began */
	bool have_snap;
	bool totals;			/* sort keys compare totals since start */
	bool group;			/* rows of one process together */
	uint64_t records, by_type[IOVA_REC_TYPE_MAX + 1], unknown_types;
	uint64_t reports, lost, anomalies, incomplete, not_rebuilt;
	uint64_t open_reports;
	uint64_t rebuild_bytes;		/* held by the decoders of live bitmaps */
	/*
	 * The decoder of the last freed bitmap, cleared: the kernel allocates
	 * a bitmap per report, and a new 32 MiB one for each would cost a
	 * page fault per page the report touches.
	 */
	struct ibd spare;
	uint64_t too_large;		/* reports past max_bitmap_bytes */
	uint64_t too_large_length;	/* the IOVA length of the largest */
	uint64_t too_large_bytes;	/* and the bitmap bytes it needs */
};

/* ---- bitmap table ----------------------------------------------------- */

static uint32_t hash_id(uint64_t id)
{
	id ^= id >> 33;
	id *= 0xff51afd7ed558ccdull;
	id ^= id >> 33;
	return (uint32_t)id;
}

static struct mbitmap *bm_find(struct model *m, uint64_t id)
{
	uint32_t mask = m->tab_cap - 1, i = hash_id(id) & mask;

	if (m->last && m->last->id == id)
		return m->last;
	for (; m->tab[i]; i = (i + 1) & mask)
		if (m->tab[i]->id == id)
			return m->last = m->tab[i];
	return NULL;
}

static int tab_grow(struct model *m)
{
	uint32_t cap = m->tab_cap * 2, i, j;
	struct mbitmap **tab = calloc(cap, sizeof(*tab));

	if (!tab)
		return -ENOMEM;
	for (i = 0; i < m->tab_cap; i++) {
		if (!m->tab[i])
			continue;
		for (j = hash_id(m->tab[i]->id) & (cap - 1); tab[j];
		     j = (j + 1) & (cap - 1))
			;
		tab[j] = m->tab[i];
	}
	free(m->tab);
	m->tab = tab;
	m->tab_cap = cap;
	return 0;
}

static void finish_report(struct model *m, struct mbitmap *b,
			  const struct iova_rec_report_end *end, uint32_t flags);

/*
 * The bitmap is gone (freed, reused, evicted, idle): a report still open on
 * it ends incomplete. Removal is by backward shift, so probes never need
 * tombstones.
 */
static void bm_remove(struct model *m, struct mbitmap *b)
{
	uint32_t mask = m->tab_cap - 1, i = hash_id(b->id) & mask, j, k;

	finish_report(m, b, NULL, IOVA_REPORT_INCOMPLETE);
	while (m->tab[i] != b)
		i = (i + 1) & mask;
	m->tab[i] = NULL;
	for (j = (i + 1) & mask; m->tab[j]; j = (j + 1) & mask) {
		k = hash_id(m->tab[j]->id) & mask;
		/* move j back to i unless its home lies cyclically in (i, j] */
		if ((j > i && (k <= i || k > j)) || (j < i && k <= i && k > j)) {
			m->tab[i] = m->tab[j];
			m->tab[j] = NULL;
			i = j;
		}
	}
	if (m->last == b)
		m->last = NULL;
	if (b->rebuild) {
		m->rebuild_bytes -= b->ibd.nwords * 8;
		/* the newest geometry is the likeliest to come again */
		ibd_free(&m->spare);
		ibd_clear(&b->ibd);
		m->spare = b->ibd;
	}
	free(b);
	m->nbitmaps--;
}

static void evict_oldest(struct model *m)
{
	struct mbitmap *old = NULL;
	uint32_t i;

	for (i = 0; i < m->tab_cap; i++)
		if (m->tab[i] && (!old || m->tab[i]->last_ts < old->last_ts))
			old = m->tab[i];
	if (old)
		bm_remove(m, old);
}

static struct mbitmap *bm_add(struct model *m, uint64_t id)
{
	struct mbitmap *b;
	uint32_t i;

	if (m->nbitmaps >= MAX_BITMAPS)
		evict_oldest(m);
	if ((m->nbitmaps + 1) * 2 > m->tab_cap && tab_grow(m))
		return NULL;
	b = calloc(1, sizeof(*b));
	if (!b)
		return NULL;
	b->id = id;
	b->last_dev = -1;
	b->rep.dev = -1;
	for (i = hash_id(id) & (m->tab_cap - 1); m->tab[i];
	     i = (i + 1) & (m->tab_cap - 1))
		;
	m->tab[i] = b;
	m->nbitmaps++;
	return m->last = b;
}

/* ---- devices ---------------------------------------------------------- */

static void device_name(char *buf, size_t len, uint32_t path, uint32_t hwpt,
			uint32_t ictx, const char *devname,
			const struct iova_rec_task *task)
{
	char id[16];

	char dn[IOVA_DEVNAME_LEN + 1];

	switch (path) {
	case IOVA_PATH_VFIO:
		memcpy(dn, devname, IOVA_DEVNAME_LEN);
		dn[IOVA_DEVNAME_LEN] = '\0';
		snprintf(buf, len, "vfio %s", dn[0] ? dn : "?");
		break;
	case IOVA_PATH_IOMMUFD:
		/*
		 * iommufd numbers its objects from 1: 0 means the tracer saw
		 * the report but not the ioctl that named the hwpt (it was
		 * already running when the probes attached).
		 */
		if (hwpt)
			snprintf(id, sizeof(id), "%u", hwpt);
		else
			snprintf(id, sizeof(id), "?");
		/*
		 * hwpt ids are numbered per iommufd context: every VMM has a
		 * "hwpt 2". The context (numbered per context and process by
		 * the tracer) tells them apart; where it is unknown (an ABI 1
		 * trace, a kernel whose ucmd has no ictx) the process does.
		 */
		if (ictx)
			snprintf(buf, len, "iommufd hwpt %s ctx %u", id, ictx);
		else
			snprintf(buf, len, "iommufd hwpt %s pid %u", id,
				 task ? task->pid : 0);
		break;
	default:
		/* no begin record: all we know is who asked */
		snprintf(buf, len, "unknown pid %u", task ? task->pid : 0);
	}
}

static const char *dev_name_of(const void *ctx, uint32_t i)
{
	return ((const struct model *)ctx)->devs[i].row.name;
}

/*
 * A trace names its devices, and a crafted one can name any number: the
 * lookup is hashed, and past MODEL_MAX_DEVICES no device is added (the
 * record's model_apply() says -E2BIG).
 */
static int dev_get(struct model *m, const char *name, uint32_t path)
{
	struct mdev *d;
	int64_t i = name_index_find(&m->dev_index, name, dev_name_of, m);

	if (i >= 0)
		return (int)i;
	if (m->ndevs >= MODEL_MAX_DEVICES) {
		m->too_many = true;
		return -1;
	}
	if (m->ndevs == m->devs_cap) {
		uint32_t cap = m->devs_cap ? m->devs_cap * 2 : 8;

		d = realloc(m->devs, cap * sizeof(*d));
		if (!d)
			return -1;
		m->devs = d;
		m->devs_cap = cap;
	}
	d = &m->devs[m->ndevs];
	memset(d, 0, sizeof(*d));
	snprintf(d->row.name, sizeof(d->row.name), "%s", name);
	d->row.path = path;
	if (name_index_add(&m->dev_index, d->row.name, m->ndevs))
		return -1;
	return (int)m->ndevs++;
}

static int report_dev(struct model *m, struct mbitmap *b)
{
	char name[MODEL_NAME_LEN];

	if (b->rep.dev >= 0)
		return b->rep.dev;
	/* RANGE before any BEGIN: the bitmap's previous report says who */
	if (b->last_dev >= 0)
		return b->rep.dev = b->last_dev;
	device_name(name, sizeof(name), IOVA_PATH_UNKNOWN, 0, 0, NULL,
		    &b->rep.task);
	return b->rep.dev = dev_get(m, name, IOVA_PATH_UNKNOWN);
}

const char *model_trend_name(uint32_t trend)
{
	switch (trend) {
	/*
	 * What the dirty pages per iteration do, not whether pre-copy
	 * converges: that is the forecast's to say (src/forecast.c), and it
	 * marks the devices that stop it "blocks".
	 */
	case MODEL_TREND_CONVERGING: return "shrinking";
	case MODEL_TREND_FLAT: return "flat";
	case MODEL_TREND_DIVERGING: return "growing";
	case MODEL_TREND_BLOCKS: return "blocks";
	}
	return "unknown";
}

const char *model_path_name(uint32_t path)
{
	switch (path) {
	case IOVA_PATH_VFIO: return "vfio";
	case IOVA_PATH_IOMMUFD: return "iommufd";
	}
	return "unknown";
}

/* ---- anomalies -------------------------------------------------------- */

const char *model_anomaly_name(uint32_t kind)
{
	switch (kind) {
	case IOVA_ANOM_BELOW_BASE: return "set below the bitmap base";
	case IOVA_ANOM_BEYOND_END: return "set past the bitmap end";
	case IOVA_ANOM_CROSSES_END: return "set crossing the bitmap end";
	case IOVA_ANOM_ZERO_LENGTH: return "set of zero length";
	case IOVA_ANOM_WRAPS: return "set wrapping past 2^64";
	case IOVA_ANOM_NO_BITMAP: return "set on an unknown bitmap";
	case IOVA_ANOM_OUTSIDE_WINDOW: return "set outside the pinned window";
	case MODEL_ANOM_VERIFY_MISMATCH: return "rebuild differs from the user bitmap";
	case MODEL_ANOM_REPORT_FAILED: return "report returned an error";
	case MODEL_ANOM_ALLOC_FAILED: return "bitmap allocation failed";
	case MODEL_ANOM_NO_END: return "report ended without its end record";
	case MODEL_ANOM_SPILL: return "bits set past the user bitmap";
	}
	return "unknown anomaly";
}

static void anom_log(struct model *m, uint32_t kind, int dev, uint64_t bitmap_id,
		     uint64_t report_id, uint64_t iova, uint64_t length,
		     uint64_t ts)
{
	struct model_anomaly *a;

	/* a burst of one kind in one report is one entry */
	if (m->nanom) {
		a = &m->anom[(m->anom_next + MODEL_ANOM_LOG - 1) % MODEL_ANOM_LOG];
		if (a->kind == kind && a->report_id == report_id &&
		    a->bitmap_id == bitmap_id && a->count < UINT32_MAX) {
			a->count++;
			return;
		}
	}
	a = &m->anom[m->anom_next];
	m->anom_next = (m->anom_next + 1) % MODEL_ANOM_LOG;
	if (m->nanom < MODEL_ANOM_LOG)
		m->nanom++;
	memset(a, 0, sizeof(*a));
	a->ts_ns = ts;
	a->kind = kind;
	a->count = 1;
	snprintf(a->device, sizeof(a->device), "%s",
		 dev >= 0 ? m->devs[dev].row.name : "-");
	a->bitmap_id = bitmap_id;
	a->report_id = report_id;
	a->iova = iova;
	a->length = length;
}

size_t model_anomalies(const struct model *m, struct model_anomaly *out,
		       size_t max)
{
	uint32_t first = (m->anom_next + MODEL_ANOM_LOG - m->nanom) % MODEL_ANOM_LOG;
	size_t i, n = m->nanom < max ? m->nanom : max;

	/* the newest n of them */
	first = (first + m->nanom - (uint32_t)n) % MODEL_ANOM_LOG;
	for (i = 0; i < n; i++)
		out[i] = m->anom[(first + i) % MODEL_ANOM_LOG];
	return n;
}

/* ---- heat ------------------------------------------------------------- */

/* The end of [iova, iova + length), saturated at the top of the IOVA space. */
static uint64_t span_end(uint64_t iova, uint64_t length)
{
	return iova + length < iova ? UINT64_MAX : iova + length;
}

/*
 * Bytes per heat bucket of a span of len bytes: ceil(len / buckets), which
 * must not overflow for a span reaching the top of the IOVA space. The
 * heat math below works in offsets from the span's start for the same
 * reason: no absolute address past it is ever formed.
 */
static uint64_t bucket_width(uint64_t len)
{
	return len / MODEL_HEAT_BUCKETS + !!(len % MODEL_HEAT_BUCKETS);
}

/* Grow the device's span to cover [lo, hi), moving heat to the new buckets. */
static void heat_cover(struct mdev *d, uint64_t lo, uint64_t hi)
{
	double heat[MODEL_HEAT_BUCKETS] = { 0 };
	uint64_t olo = d->span_lo, ohi = d->span_hi, olen = ohi - olo, ow, nw;
	unsigned int i, j;

	if (olen && lo >= olo && hi <= ohi)
		return;
	if (olen) {
		lo = lo < olo ? lo : olo;
		hi = hi > ohi ? hi : ohi;
	}
	d->span_lo = lo;
	d->span_hi = hi;
	if (!olen)
		return;
	ow = bucket_width(olen);
	nw = bucket_width(hi - lo);
	for (i = 0; i < MODEL_HEAT_BUCKETS; i++) {
		uint64_t mid = i * ow + ow / 2;	/* in the old span */

		if (mid >= olen)
			mid = olen - 1;
		j = (unsigned int)((olo - lo + mid) / nw);
		heat[j] += d->heat[i];
	}
	memcpy(d->heat, heat, sizeof(heat));
}

/*
 * Fold a rebuilt report into the heat; returns its dirty pages. Each run of
 * dirty pages adds to a bucket its IOVA bytes inside the bucket in pages,
 * rounded up. Only a run over the whole bucket can begin
 * and end mid-page there, so that is the popcount of the pages the bucket
 * touches, or its own bytes in pages when all of them are dirty: a word at
 * a time, however many runs there are.
 */
static uint64_t heat_update(struct mdev *d, const struct mbitmap *b)
{
	const struct ibd *bm = &b->ibd;
	uint64_t end = span_end(b->iova, b->length), len, w, base, stop;
	unsigned int shift = bm->pgshift, k, first, last;

	heat_cover(d, b->iova, end);
	len = d->span_hi - d->span_lo;
	w = bucket_width(len);
	/* the report's IOVA range, as offsets in the span */
	base = b->iova - d->span_lo;
	stop = end - d->span_lo;
	if (stop <= base)	/* empty span, or one byte at 2^64 - 1 */
		return ibd_count(bm);
	first = (unsigned int)(base / w);
	last = (unsigned int)((stop - 1) / w);
	/* only the buckets this report covered age: others were not read */
	for (k = first; k <= last; k++) {
		uint64_t lo = (uint64_t)k * w, hi = k + 1 < MODEL_HEAT_BUCKETS ?
						    (uint64_t)(k + 1) * w : len;
		uint64_t a, z, n, pages;

		lo = lo > base ? lo : base;
		hi = hi < stop ? hi : stop;
		/* bits a..z: the pages [lo, hi) touches */
		a = (lo - base) >> shift;
		z = (hi - 1 - base) >> shift;
		n = ibd_count_range(bm, a, z - a + 1);
		pages = n;
		if (n == z - a + 1)
			pages = ((hi - lo - 1) >> shift) + 1;	/* ceil */
		d->heat[k] = d->heat[k] * HEAT_DECAY + (double)pages;
	}
	return ibd_count(bm);
}

/*
 * The report's dirty pages into the hot regions of the interval and of the
 * whole run. Out of memory, a map keeps what it had: its regions are then
 * those of the reports it could take.
 */
static void hot_update(const struct model *m, struct mdev *d, const struct mbitmap *b)
{
	if (m->opts.no_hot)
		return;
	hot_map_add_bitmap(&d->hot_iv, &b->ibd, b->iova, b->length, b->page_size);
	d->all_fresh = false;
}

/* The hottest region of a map, or none. */
static struct hot_region hottest(const struct hot_map *h)
{
	struct hot_region r = { 0 };

	if (hot_map_regions(h, &r, 1) < 1)
		memset(&r, 0, sizeof(r));
	return r;
}

/*
 * The hottest region of the whole run: hot_all and the interval not yet
 * merged into it (two snapshots at once leave one).
 */
static struct hot_region hottest_all(struct mdev *d)
{
	struct hot_map sum = { 0 };
	struct hot_region r;

	if (!d->hot_iv.n)
		return hottest(&d->hot_all);
	if (hot_map_merge(&sum, &d->hot_all) || hot_map_merge(&sum, &d->hot_iv))
		memset(&r, 0, sizeof(r));
	else
		r = hottest(&sum);
	hot_map_free(&sum);
	return r;
}

/* ---- iterations ------------------------------------------------------- */

static bool overlaps(const struct span *s, uint32_t n, uint64_t lo, uint64_t hi)
{
	uint32_t i;

	for (i = 0; i < n; i++)
		if (lo < s[i].hi && s[i].lo < hi)
			return true;
	return false;
}

static void iteration_close(struct model *m, struct mdev *d)
{
	struct model_iteration it = { 0 };
	uint64_t dt;

	if (!d->it_reports)
		return;
	it.device = d->row.name;
	it.index = d->it_index++;
	it.ts_begin_ns = d->it_ts_begin;
	it.ts_end_ns = d->it_ts_end;
	it.reports = d->it_reports;
	it.incomplete = d->it_incomplete;
	it.dirty_pages = d->it_dirty_pages;
	it.dirty_bytes = d->it_dirty_bytes;
	it.covered_bytes = d->it_covered;
	if (it.index > 0 && d->it_ts_end > d->prev_it_end) {
		dt = d->it_ts_end - d->prev_it_end;
		it.dirty_bytes_per_s = (double)it.dirty_bytes * 1e9 / (double)dt;
	}
	d->prev_it_end = d->it_ts_end;

	if (d->row.nhistory == MODEL_HISTORY) {
		memmove(d->row.history, d->row.history + 1,
			(MODEL_HISTORY - 1) * sizeof(d->row.history[0]));
		d->row.nhistory--;
	}
	d->row.history[d->row.nhistory++] = it.dirty_pages;
	d->row.iterations++;
	d->row.dirty_pages_iter = it.dirty_pages;
	d->row.dirty_bytes_iter = it.dirty_bytes;
	d->row.iter_bytes_per_s = it.dirty_bytes_per_s;
	d->row.iter_end_ns = it.ts_end_ns;

	d->it_nranges = 0;
	d->it_reports = d->it_incomplete = 0;
	d->it_dirty_pages = d->it_dirty_bytes = d->it_covered = 0;
	if (m->iter_fn)
		m->iter_fn(m->iter_ctx, &it);
}

static void known_add(struct mdev *d, uint64_t lo, uint64_t hi)
{
	uint32_t i;

	for (i = 0; i < d->nknown; i++)
		if (d->known[i].lo == lo && d->known[i].hi == hi)
			return;
	if (overlaps(d->known, d->nknown, lo, hi) || d->nknown == DEV_RANGES) {
		/* ranges that shift between passes: only overlap ends a pass */
		d->known_overflow = true;
		return;
	}
	d->known[d->nknown++] = (struct span){ lo, hi };
	d->known_bytes += hi - lo;
}

static void iteration_add(struct model *m, struct mdev *d,
			  const struct model_report *r)
{
	uint64_t lo = r->iova, hi = span_end(r->iova, r->length);

	known_add(d, lo, hi);
	if (d->it_reports && overlaps(d->it_ranges, d->it_nranges, lo, hi)) {
		iteration_close(m, d);
		d->stable = true;
	}
	if (!d->it_reports)
		d->it_ts_begin = r->ts_begin_ns;
	d->it_ts_end = r->ts_end_ns;
	d->it_reports++;
	if (r->flags & IOVA_REPORT_INCOMPLETE)
		d->it_incomplete++;
	d->it_dirty_pages += r->dirty_pages;
	d->it_dirty_bytes += r->dirty_pages * r->page_size;
	d->it_covered += hi - lo;
	if (d->it_nranges < DEV_RANGES)
		d->it_ranges[d->it_nranges++] = (struct span){ lo, hi };
	else
		iteration_close(m, d);	/* cannot check overlap any more */
	if (d->stable && !d->known_overflow && d->it_covered >= d->known_bytes)
		iteration_close(m, d);
}

static uint32_t trend(const struct mdev *d)
{
	uint32_t n = d->row.nhistory < MODEL_TREND_WINDOW ? d->row.nhistory :
							  MODEL_TREND_WINDOW;
	const uint64_t *h = d->row.history + d->row.nhistory - n;
	double sx = 0, sy = 0, sxx = 0, sxy = 0, mean, slope;
	uint32_t i;

	if (n < 3)
		return MODEL_TREND_UNKNOWN;
	for (i = 0; i < n; i++) {
		sx += i;
		sy += (double)h[i];
		sxx += (double)i * i;
		sxy += (double)i * (double)h[i];
	}
	mean = sy / n;
	if (mean == 0)
		return MODEL_TREND_CONVERGING;
	slope = (n * sxy - sx * sy) / (n * sxx - sx * sx);
	if (slope / mean * 100.0 < -MODEL_TREND_PCT)
		return MODEL_TREND_CONVERGING;
	if (slope / mean * 100.0 > MODEL_TREND_PCT)
		return MODEL_TREND_DIVERGING;
	return MODEL_TREND_FLAT;
}

/* ---- reports ---------------------------------------------------------- */

static void recent_add(struct model *m, uint64_t report_id, int dev)
{
	m->recent[m->recent_next].report_id = report_id;
	m->recent[m->recent_next].dev = dev;
	m->recent_next = (m->recent_next + 1) % RECENT_REPORTS;
}

static int recent_dev(const struct model *m, uint64_t report_id)
{
	uint32_t i;

	for (i = 0; i < RECENT_REPORTS; i++)
		if (m->recent[i].report_id == report_id && m->recent[i].dev > 0)
			return m->recent[i].dev - 1;
	return -1;
}

static void start_report(struct model *m, struct mbitmap *b, uint64_t report_id,
			 uint64_t ts)
{
	struct mreport *r = &b->rep;
	uint64_t bytes, nbits;
	int err;

	memset(r, 0, sizeof(*r));
	r->open = true;
	r->report_id = report_id;
	r->ts_begin = ts;
	r->dev = -1;
	r->task = b->task;
	m->open_reports++;
	if (b->rebuild) {
		/* keeps user_addr and re-pins as iova_bitmap_alloc() did */
		ibd_clear(&b->ibd);
		return;
	}
	if (!b->have_geometry || !b->page_size || !b->kpage_size)
		return;
	if (!b->length)
		return;
	/* the decoder's words: ceil(ceil(length / page) / 64) */
	nbits = (b->length - 1) / b->page_size + 1;
	bytes = (nbits / 64 + !!(nbits % 64)) * 8;
	/* a trace full of huge bitmaps must not exhaust memory */
	if (bytes > m->opts.max_bitmap_bytes) {
		m->too_large++;
		if (bytes > m->too_large_bytes) {
			m->too_large_bytes = bytes;
			m->too_large_length = b->length;
		}
		return;
	}
	if (m->rebuild_bytes + bytes > m->opts.max_bitmap_bytes * REBUILD_BUDGET)
		return;
	if (m->spare.words) {
		b->ibd = m->spare;
		memset(&m->spare, 0, sizeof(m->spare));
		err = ibd_reinit_kpage(&b->ibd, b->iova, b->length, b->page_size,
				       m->opts.rule, b->kpage_size);
	} else {
		err = ibd_init_kpage(&b->ibd, b->iova, b->length, b->page_size,
				     m->opts.rule, b->kpage_size);
	}
	if (!err) {
		/* the kernel's pinning depends on the buffer's page offset */
		ibd_set_user_addr(&b->ibd, b->user_addr);
		b->rebuild = true;
		m->rebuild_bytes += b->ibd.nwords * 8;
	}
}

/* End the report open on b, if any: fold it into its device, call the hooks. */
static void finish_report(struct model *m, struct mbitmap *b,
			  const struct iova_rec_report_end *end, uint32_t flags)
{
	struct mreport *rp = &b->rep;
	struct model_report r = { 0 };
	struct mdev *d;
	int dev;

	if (!rp->open)
		return;
	dev = report_dev(m, b);
	rp->open = false;
	m->open_reports--;
	if (!rp->begun)
		flags |= IOVA_REPORT_NO_BEGIN;
	if (rp->lost)
		flags |= IOVA_REPORT_INCOMPLETE;
	if (end) {
		flags |= end->flags;
		if (end->lost)
			flags |= IOVA_REPORT_INCOMPLETE;
		r.ts_end_ns = end->hdr.ts_ns;
		r.ret = end->ret;
		r.lost = end->lost;
		r.set_calls = end->set_calls > rp->set_calls ? end->set_calls :
								  rp->set_calls;
		r.anomalies = end->anomalies;
		/* a range record missing while END counts more is a loss */
		if (end->ranges > rp->ranges) {
			flags |= IOVA_REPORT_INCOMPLETE;
			if (!r.lost)
				r.lost = end->ranges - rp->ranges;
		}
	} else {
		flags |= IOVA_REPORT_INCOMPLETE;
		r.ts_end_ns = b->last_ts;
		r.set_calls = rp->set_calls;
		anom_log(m, MODEL_ANOM_NO_END, dev, b->id, rp->report_id,
			 b->iova, b->length, b->last_ts);
	}
	if (rp->anomaly_recs > r.anomalies)
		r.anomalies = rp->anomaly_recs;
	if (b->rebuild && b->ibd.anomalies > r.anomalies)
		r.anomalies = b->ibd.anomalies;
	if (r.anomalies)
		flags |= IOVA_REPORT_ANOMALY;

	r.bitmap_id = b->id;
	r.report_id = rp->report_id;
	r.path = rp->path;
	r.hwpt_id = rp->hwpt_id;
	r.ictx_id = rp->ictx_id;
	r.task = rp->task;
	r.ts_begin_ns = rp->ts_begin;
	r.iova = b->iova;
	r.length = b->length;
	r.page_size = b->page_size;
	r.user_addr = b->user_addr;
	r.ranges = rp->ranges;
	r.windows = rp->windows;
	r.flags = flags;
	if (b->rebuild) {
		r.bitmap = &b->ibd;
		r.dirty_pages = dev >= 0 ? heat_update(&m->devs[dev], b) :
					   ibd_count(&b->ibd);
		if (dev >= 0)
			hot_update(m, &m->devs[dev], b);
		if (b->ibd.spill_bits)
			anom_log(m, MODEL_ANOM_SPILL, dev, b->id, rp->report_id,
				 b->iova, b->length, r.ts_end_ns);
	} else {
		m->not_rebuilt++;
		if (b->page_size)
			r.dirty_pages = rp->range_bytes / b->page_size;
	}
	if (dev < 0) {
		/* out of memory for a device: the report still counts */
		m->reports++;
		return;
	}
	d = &m->devs[dev];
	r.device = d->row.name;
	if (end && end->ret) {
		anom_log(m, MODEL_ANOM_REPORT_FAILED, dev, b->id, rp->report_id,
			 b->iova, b->length, r.ts_end_ns);
	}

	m->reports++;
	m->anomalies += r.anomalies;
	if (flags & IOVA_REPORT_INCOMPLETE)
		m->incomplete++;
	b->last_dev = dev;
	recent_add(m, rp->report_id, dev + 1);

	/*
	 * A report whose task the tracer did not see (pid 0) keeps the
	 * process that asked before: the device still belongs to it.
	 */
	if (r.task.pid || !d->row.pid) {
		d->row.pid = r.task.pid;
		memcpy(d->row.comm, r.task.comm, IOVA_COMM_LEN);
		d->row.comm[IOVA_COMM_LEN - 1] = '\0';
	}
	d->row.reports++;
	d->row.dirty_bytes += r.dirty_pages * r.page_size;
	d->row.dirty_pages += r.dirty_pages;
	d->row.set_calls += r.set_calls;
	d->row.lost += r.lost;
	d->row.anomalies += r.anomalies;
	if (flags & IOVA_REPORT_INCOMPLETE)
		d->row.incomplete++;
	d->row.dirty_pages_last = r.dirty_pages;
	d->row.dirty_pages_total += r.dirty_pages;
	d->row.page_size = r.page_size;
	d->row.last_ts_ns = r.ts_end_ns;
	if (r.page_size && r.length) {
		uint64_t pages = (r.length + r.page_size - 1) / r.page_size;

		d->row.pct_dirty = 100.0 * (double)r.dirty_pages / (double)pages;
		d->row.bitmap_pages_total += pages;
	}
	d->iv_reports++;
	d->iv_dirty_bytes += r.dirty_pages * r.page_size;
	if (!b->rebuild && b->have_geometry && b->length)
		heat_cover(d, b->iova, span_end(b->iova, b->length));

	if (m->report_fn)
		m->report_fn(m->report_ctx, &r);
	iteration_add(m, d, &r);
}

/* ---- records ---------------------------------------------------------- */

static struct mbitmap *bm_get(struct model *m, uint64_t id)
{
	struct mbitmap *b = bm_find(m, id);

	return b ? b : bm_add(m, id);
}

static void on_alloc(struct model *m, const struct iova_rec_alloc *a)
{
	struct mbitmap *b;

	if (a->ret) {
		anom_log(m, MODEL_ANOM_ALLOC_FAILED, -1, a->bitmap_id, 0, a->iova,
			 a->length, a->hdr.ts_ns);
		m->anomalies++;
		return;
	}
	b = bm_find(m, a->bitmap_id);
	/* ids are unique per boot: a repeat means FREE was lost */
	if (b)
		bm_remove(m, b);
	b = bm_add(m, a->bitmap_id);
	if (!b)
		return;
	b->have_geometry = true;
	b->iova = a->iova;
	b->length = a->length;
	b->page_size = a->page_size;
	b->user_addr = a->user_addr;
	/*
	 * Pinning is in kernel pages: a page size the decoder cannot model
	 * (a hostile trace) leaves the bitmap estimated, not rebuilt wrong.
	 */
	b->kpage_size = iova_kpage_shift(a) < 32 &&
			ibd_kpage_size_ok(1ull << iova_kpage_shift(a)) ?
			1ull << iova_kpage_shift(a) : 0;
	b->task = a->task;
	b->last_ts = a->hdr.ts_ns;
}

/* The report a record names, opening it (without a begin) if need be. */
static struct mbitmap *report_for(struct model *m, uint64_t bitmap_id,
				  uint64_t report_id, uint64_t ts)
{
	struct mbitmap *b = bm_get(m, bitmap_id);

	if (!b)
		return NULL;
	b->last_ts = ts;
	if (b->rep.open && b->rep.report_id == report_id)
		return b;
	finish_report(m, b, NULL, IOVA_REPORT_INCOMPLETE);
	start_report(m, b, report_id, ts);
	return b;
}

static void on_begin(struct model *m, const struct iova_rec_report_begin *rb)
{
	struct mbitmap *b = report_for(m, rb->bitmap_id, rb->report_id,
				       rb->hdr.ts_ns);
	char name[MODEL_NAME_LEN];

	if (!b)
		return;
	if (b->rep.begun)
		return;	/* one report, announced again: keep the first */
	b->rep.begun = true;
	b->rep.path = rb->path;
	b->rep.hwpt_id = rb->hwpt_id;
	b->rep.ictx_id = rb->ictx_id;
	b->rep.task = rb->task;
	if (!b->have_geometry) {
		/* ALLOC was lost: the extent is known, the page size is not */
		b->iova = rb->iova;
		b->length = rb->length;
	}
	device_name(name, sizeof(name), rb->path, rb->hwpt_id, rb->ictx_id,
		    rb->devname, &rb->task);
	b->rep.dev = dev_get(m, name, rb->path);
	/*
	 * A device whose first report is still open is on screen already:
	 * the process asking is its process, not "pid 0, no name".
	 */
	if (b->rep.dev >= 0 && !m->devs[b->rep.dev].row.pid && rb->task.pid) {
		struct model_row *row = &m->devs[b->rep.dev].row;

		row->pid = rb->task.pid;
		memcpy(row->comm, rb->task.comm, IOVA_COMM_LEN);
		row->comm[IOVA_COMM_LEN - 1] = '\0';
	}
}

static void on_range(struct model *m, const struct iova_rec_range *rr)
{
	struct mbitmap *b = m->last;
	enum ibd_anomaly a;

	if (!b || b->id != rr->bitmap_id || !b->rep.open ||
	    b->rep.report_id != rr->report_id)
		b = report_for(m, rr->bitmap_id, rr->report_id, rr->hdr.ts_ns);
	if (!b)
		return;
	b->last_ts = rr->hdr.ts_ns;
	b->rep.ranges++;
	b->rep.set_calls += rr->ncalls;
	b->rep.range_bytes += rr->length;
	if (b->rebuild) {
		a = ibd_set(&b->ibd, rr->iova, rr->length);
		if (a != IBD_OK)
			anom_log(m, (uint32_t)a, report_dev(m, b), b->id,
				 rr->report_id, rr->iova, rr->length,
				 rr->hdr.ts_ns);
	}
}

static void on_window(struct model *m, const struct iova_rec_window *w)
{
	struct mbitmap *b = report_for(m, w->bitmap_id, w->report_id,
				       w->hdr.ts_ns);

	if (!b)
		return;
	b->rep.windows++;
	/*
	 * On the 6.1 iterator the window decides where out-of-range calls
	 * land; pin the one the kernel reported. The record's base_index is
	 * in u64 words; the decoder wants the kernel's unit (bytes on 6.1.y),
	 * which the kernel's own offset_to_index() of mapped.iova gives.
	 */
	if (b->rebuild && (m->opts.rule == IBD_RULE_V6_1_0 ||
			   m->opts.rule == IBD_RULE_V6_1_Y) && w->iova >= b->iova)
		ibd_map_at(&b->ibd, ibd_offset_to_index(&b->ibd, w->iova - b->iova));
}

static void on_end(struct model *m, const struct iova_rec_report_end *e)
{
	struct mbitmap *b = report_for(m, e->bitmap_id, e->report_id,
				       e->hdr.ts_ns);

	if (b)
		finish_report(m, b, e, 0);
}

static void on_free(struct model *m, const struct iova_rec_free *f)
{
	struct mbitmap *b = bm_find(m, f->bitmap_id);

	if (!b)
		return;
	b->last_ts = f->hdr.ts_ns;
	bm_remove(m, b);
}

static void on_lost(struct model *m, const struct iova_rec_lost *l)
{
	uint32_t i;

	m->lost += l->count;
	/* a report the tracer had no room for leaves the others whole */
	if (l->where == IOVA_LOST_MAP_FULL)
		return;
	/* any report in flight may have lost records: none can be trusted */
	for (i = 0; i < m->tab_cap; i++)
		if (m->tab[i] && m->tab[i]->rep.open)
			m->tab[i]->rep.lost = true;
}

static void on_anomaly(struct model *m, const struct iova_rec_anomaly *a)
{
	struct mbitmap *b = bm_find(m, a->bitmap_id);
	int dev = -1;

	if (b && b->rep.open && b->rep.report_id == a->report_id) {
		b->rep.anomaly_recs++;
		dev = report_dev(m, b);
	} else {
		/* outside any report we know: count it here */
		m->anomalies++;
		if (b)
			dev = b->last_dev;
	}
	anom_log(m, a->kind, dev, a->bitmap_id, a->report_id, a->iova,
		 a->length, a->hdr.ts_ns);
}

static void on_verify(struct model *m, const struct iova_rec_verify *v)
{
	int dev = recent_dev(m, v->report_id);

	if (dev < 0)
		return;
	/* a skipped read-back (too large, lost, faulted) verified nothing */
	if (v->status != IOVA_VERIFY_OK && v->status != IOVA_VERIFY_MISMATCH) {
		m->devs[dev].row.verify_skipped++;
		return;
	}
	m->devs[dev].row.verified++;
	if (v->status == IOVA_VERIFY_MISMATCH) {
		m->devs[dev].row.verify_mismatch++;
		m->devs[dev].row.anomalies++;
		m->anomalies++;
		anom_log(m, MODEL_ANOM_VERIFY_MISMATCH, dev, v->bitmap_id,
			 v->report_id, v->first_bad_word, v->mismatches,
			 v->hdr.ts_ns);
	}
}

int model_apply(void *ctx, const struct iova_rec_hdr *rec)
{
	struct model *m = ctx;
	unsigned int want = iova_rec_size(rec->type);

	if (!want) {
		/* a newer writer's record type: skip it, but count it */
		m->unknown_types++;
		return 0;
	}
	if (rec->size != want)
		return -EINVAL;
	/*
	 * QEMU's sample (record --qmp) is the forecast's, not the model's:
	 * counted, but it moves no clock, or a trace with samples after its
	 * last report would end its last interval later than one without
	 */
	if (rec->type == IOVA_REC_QMP) {
		m->records++;
		m->by_type[rec->type]++;
		return 0;
	}
	/* a record without a time (older recorders' LOST) starts nothing */
	if (!m->first_ts)
		m->first_ts = rec->ts_ns;
	m->records++;
	m->by_type[rec->type]++;
	if (rec->ts_ns > m->now_ns)
		m->now_ns = rec->ts_ns;

	switch (rec->type) {
	case IOVA_REC_RANGE:
		on_range(m, (const struct iova_rec_range *)rec);
		break;
	case IOVA_REC_ALLOC:
		on_alloc(m, (const struct iova_rec_alloc *)rec);
		break;
	case IOVA_REC_REPORT_BEGIN:
		on_begin(m, (const struct iova_rec_report_begin *)rec);
		break;
	case IOVA_REC_WINDOW:
		on_window(m, (const struct iova_rec_window *)rec);
		break;
	case IOVA_REC_REPORT_END:
		on_end(m, (const struct iova_rec_report_end *)rec);
		break;
	case IOVA_REC_FREE:
		on_free(m, (const struct iova_rec_free *)rec);
		break;
	case IOVA_REC_LOST:
		on_lost(m, (const struct iova_rec_lost *)rec);
		break;
	case IOVA_REC_ANOMALY:
		on_anomaly(m, (const struct iova_rec_anomaly *)rec);
		break;
	case IOVA_REC_VERIFY:
		on_verify(m, (const struct iova_rec_verify *)rec);
		break;
	}
	if (m->too_many) {
		m->too_many = false;
		return -E2BIG;
	}
	return 0;
}

/* ---- snapshots -------------------------------------------------------- */

/* Reports whose END and FREE were both lost would stay open forever. */
static void expire(struct model *m)
{
	uint32_t i;

	if (m->now_ns < IDLE_NS)
		return;
	for (i = 0; i < m->tab_cap; i++) {
		struct mbitmap *b = m->tab[i];

		if (!b || b->last_ts + IDLE_NS > m->now_ns)
			continue;
		bm_remove(m, b);
		i--;	/* the backward shift may have moved one here */
	}
}

struct sort_by {
	enum model_sort key;
	bool reverse;
	bool totals;
};

/* Since the start: a device's dirty pages per report, and their share. */
static double avg_pages(const struct model_row *r)
{
	return r->reports ? (double)r->dirty_pages_total / (double)r->reports : 0;
}

static double avg_pct(const struct model_row *r)
{
	return r->bitmap_pages_total ? 100.0 * (double)r->dirty_pages_total /
		(double)r->bitmap_pages_total : 0;
}

static int cmp_double(double a, double b)
{
	return a < b ? -1 : a > b;
}

/* Hottest first for the numeric keys, A to Z for the name. */
static int row_cmp(const void *pa, const void *pb, void *arg)
{
	const struct model_row *a = pa, *b = pb;
	const struct sort_by *by = arg;
	int c = 0;

	if (by->totals && by->key != MODEL_SORT_NAME) {
		/* rate: bytes since the start, the same order as their rate */
		switch (by->key) {
		case MODEL_SORT_DIRTY:
			c = cmp_double(avg_pages(b), avg_pages(a));
			break;
		case MODEL_SORT_PCT:
			c = cmp_double(avg_pct(b), avg_pct(a));
			break;
		case MODEL_SORT_REPORTS:
			c = cmp_double((double)b->reports, (double)a->reports);
			break;
		default:
			c = cmp_double((double)b->dirty_bytes, (double)a->dirty_bytes);
			break;
		}
		if (!c)
			c = strcmp(a->name, b->name);
		return by->reverse ? -c : c;
	}
	switch (by->key) {
	case MODEL_SORT_RATE:
		c = cmp_double(b->dirty_mib_s, a->dirty_mib_s);
		if (!c)
			c = cmp_double((double)b->dirty_bytes, (double)a->dirty_bytes);
		break;
	case MODEL_SORT_DIRTY:
		c = cmp_double((double)b->dirty_pages_last,
			       (double)a->dirty_pages_last);
		break;
	case MODEL_SORT_PCT:
		c = cmp_double(b->pct_dirty, a->pct_dirty);
		break;
	case MODEL_SORT_REPORTS:
		c = cmp_double(b->reports_per_s, a->reports_per_s);
		break;
	default:
		break;
	}
	if (!c)
		c = strcmp(a->name, b->name);
	return by->reverse ? -c : c;
}

/*
 * Rows of one process together, the processes in the order of their first
 * row, each one's rows in sort order: a stable partition in place (a few
 * dozen devices; no allocation).
 */
static void group_rows(struct model_row *rows, uint32_t n)
{
	struct model_row t;
	uint32_t p, q;

	for (p = 0; p + 1 < n; p++) {
		for (q = p + 1; q < n; q++) {
			if (rows[q].pid != rows[p].pid)
				continue;
			if (q != p + 1) {
				t = rows[q];
				memmove(&rows[p + 2], &rows[p + 1],
					(q - p - 1) * sizeof(*rows));
				rows[p + 1] = t;
			}
			p++;
		}
	}
}

int model_snapshot(struct model *m, uint64_t now_ns, enum model_sort sort,
		   bool reverse, const char *filter, struct model_snapshot *out)
{
	struct sort_by by;
	double dt;
	uint32_t i;

	expire(m);
	if (!m->have_snap) {
		m->last_snap_ns = m->records ? m->first_ts : now_ns;
		m->start_ns = m->last_snap_ns;
		m->have_snap = true;
	}
	dt = now_ns > m->last_snap_ns ? (double)(now_ns - m->last_snap_ns) / 1e9 : 0;
	if (m->rows_cap < m->ndevs) {
		struct model_row *rows = realloc(m->rows, m->ndevs * sizeof(*rows));

		if (!rows)
			return -ENOMEM;
		m->rows = rows;
		m->rows_cap = m->ndevs;
	}
	memset(out, 0, sizeof(*out));
	out->now_ns = now_ns;
	out->start_ns = m->start_ns;
	out->interval_s = dt;
	out->ndevices = m->ndevs;
	out->rows = m->rows;
	for (i = 0; i < m->ndevs; i++) {
		struct mdev *d = &m->devs[i];
		struct model_row *r;

		/* a zero interval (two snapshots at once) keeps the last rates */
		if (dt > 0) {
			d->rate_reports = (double)d->iv_reports / dt;
			d->rate_mib = (double)d->iv_dirty_bytes / dt / (1 << 20);
			d->iv_reports = d->iv_dirty_bytes = 0;
			d->iv_hot = hottest(&d->hot_iv);
			/* out of memory, the whole run's keeps what it had */
			hot_map_merge(&d->hot_all, &d->hot_iv);
			hot_map_clear(&d->hot_iv);
		}
		out->dirty_mib_s += d->rate_mib;
		if (filter && *filter && !filter_match(filter, &d->row))
			continue;
		r = &m->rows[out->nrows++];
		*r = d->row;
		r->reports_per_s = d->rate_reports;
		r->dirty_mib_s = d->rate_mib;
		r->trend = trend(d);
		/* the hot region of the period the row's figures are for */
		if (m->totals && !d->all_fresh) {
			d->all_hot = hottest_all(d);
			d->all_fresh = true;
		}
		r->hot_iova = m->totals ? d->all_hot.lo : d->iv_hot.lo;
		r->hot_length = m->totals ? d->all_hot.hi - d->all_hot.lo :
					    d->iv_hot.hi - d->iv_hot.lo;
		r->tracked_iova = d->span_lo;
		r->tracked_length = d->span_hi - d->span_lo;
		for (unsigned int k = 0; k < MODEL_HEAT_BUCKETS; k++)
			r->heat[k] = d->heat[k] >= UINT32_MAX ? UINT32_MAX :
					(uint32_t)lround(d->heat[k]);
	}
	if (dt > 0)
		m->last_snap_ns = now_ns;
	by.key = sort < MODEL_SORT_MAX ? sort : MODEL_SORT_RATE;
	by.reverse = reverse;
	by.totals = m->totals;
	if (out->nrows)
		qsort_r(m->rows, out->nrows, sizeof(*m->rows), row_cmp, &by);
	if (m->group)
		group_rows(m->rows, out->nrows);
	out->reports = m->reports;
	out->lost = m->lost;
	out->anomalies = m->anomalies;
	out->incomplete = m->incomplete;
	out->records = m->records;
	out->open_reports = m->open_reports;
	out->not_rebuilt = m->not_rebuilt;
	out->too_large = m->too_large;
	out->too_large_length = m->too_large_length;
	out->too_large_bytes = m->too_large_bytes;
	out->max_bitmap_bytes = m->opts.max_bitmap_bytes;
	return 0;
}

void model_finish(struct model *m)
{
	uint32_t i;

	for (i = 0; i < m->tab_cap; i++)
		if (m->tab[i])
			finish_report(m, m->tab[i], NULL, IOVA_REPORT_INCOMPLETE);
	for (i = 0; i < m->ndevs; i++)
		iteration_close(m, &m->devs[i]);
}

void model_sort_totals(struct model *m, bool totals)
{
	m->totals = totals;
}

void model_group_by_process(struct model *m, bool group)
{
	m->group = group;
}

uint64_t model_now(const struct model *m)
{
	return m->now_ns;
}

uint64_t model_records(const struct model *m, unsigned int type)
{
	if (type == 0)
		return m->unknown_types;
	return type <= IOVA_REC_TYPE_MAX ? m->by_type[type] : 0;
}

/* ---- life ------------------------------------------------------------- */

size_t model_too_large_note(const struct model_snapshot *s, char *buf, size_t len)
{
	int n;

	if (len)
		buf[0] = '\0';
	if (!s->too_large || !len)
		return 0;
	n = snprintf(buf, len, "%" PRIu64 " report%s not rebuilt, so %s no hot region and %s dirty pages "
		     "are estimated from the ranges: a bitmap of %.1f GiB of IOVA needs %" PRIu64
		     " MiB, more than the %" PRIu64 " MiB --max-bitmap allows; give --max-bitmap %"
		     PRIu64 "M to rebuild it.",
		     s->too_large, s->too_large == 1 ? " was" : "s were",
		     s->too_large == 1 ? "it has" : "they have", s->too_large == 1 ? "its" : "their",
		     (double)s->too_large_length / (1ull << 30),
		     (s->too_large_bytes + (1 << 20) - 1) >> 20, s->max_bitmap_bytes >> 20,
		     (s->too_large_bytes + (1 << 20) - 1) >> 20);
	return n < 0 ? 0 : (size_t)n < len ? (size_t)n : len - 1;
}

struct model *model_new(const struct model_opts *opts)
{
	struct model *m = calloc(1, sizeof(*m));

	if (!m)
		return NULL;
	if (opts)
		m->opts = *opts;
	if (!m->opts.max_bitmap_bytes)
		m->opts.max_bitmap_bytes = MODEL_DEFAULT_MAX_BITMAP;
	m->tab_cap = 64;
	m->tab = calloc(m->tab_cap, sizeof(*m->tab));
	if (!m->tab) {
		free(m);
		return NULL;
	}
	return m;
}

void model_free(struct model *m)
{
	uint32_t i;

	if (!m)
		return;
	for (i = 0; i < m->tab_cap; i++) {
		if (!m->tab[i])
			continue;
		if (m->tab[i]->rebuild)
			ibd_free(&m->tab[i]->ibd);
		free(m->tab[i]);
	}
	free(m->tab);
	ibd_free(&m->spare);
	for (i = 0; i < m->ndevs; i++) {
		hot_map_free(&m->devs[i].hot_iv);
		hot_map_free(&m->devs[i].hot_all);
	}
	free(m->devs);
	name_index_free(&m->dev_index);
	free(m->rows);
	free(m);
}

void model_on_report(struct model *m, model_report_fn fn, void *ctx)
{
	m->report_fn = fn;
	m->report_ctx = ctx;
}

void model_on_iteration(struct model *m, model_iteration_fn fn, void *ctx)
{
	m->iter_fn = fn;
	m->iter_ctx = ctx;
}

const char *model_strerror(int err)
{
	switch (err) {
	case -EINVAL:
		return "a record whose size does not match its type";
	case -E2BIG:
		return "more than " STR(MODEL_MAX_DEVICES) " devices, more than a host has";
	}
	return "an error the model does not know";
}
