// SPDX-License-Identifier: GPL-2.0
/*
 * report.c - whole-trace aggregation for iovatop report (include/report.h):
 * per device, its iterations and where its dirty pages fell over the whole
 * trace, in 2 MiB granules; runs of hot granules become hot regions.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "report.h"
#include "report_fmt.h"

#define GRANULE_SHIFT	21	/* hot regions are found in 2 MiB granules */
#define HOT_FRACTION	8	/* granules >= max/8 of the device are hot */

struct granule {
	uint64_t key;		/* iova >> GRANULE_SHIFT, +1 so 0 means free */
	uint64_t hits;		/* dirty pages seen in it over all reports */
	uint64_t lo, hi;	/* extent of those pages */
};

static const char *rdev_name_of(const void *ctx, uint32_t i)
{
	return ((const struct report *)ctx)->devs[i].name;
}

/* Hashed: every report and every output row looks its device up. */
static struct rdev *rdev_of(const struct report *rp, const char *name)
{
	int64_t i = name_index_find(&rp->by_name, name, rdev_name_of, rp);

	return i >= 0 ? &rp->devs[i] : NULL;
}

static struct rdev *rdev_get(struct report *rp, const char *name)
{
	struct rdev *d = rdev_of(rp, name);

	if (d)
		return d;
	if (rp->ndevs == rp->cap) {
		size_t cap = rp->cap ? rp->cap * 2 : 8;

		d = realloc(rp->devs, cap * sizeof(*d));
		if (!d)
			return NULL;
		rp->devs = d;
		rp->cap = cap;
	}
	d = &rp->devs[rp->ndevs];
	memset(d, 0, sizeof(*d));
	snprintf(d->name, sizeof(d->name), "%s", name);
	if (name_index_add(&rp->by_name, d->name, (uint32_t)rp->ndevs))
		return NULL;
	rp->ndevs++;
	return d;
}

static int granule_grow(struct rdev *d)
{
	size_t cap = d->gcap ? d->gcap * 2 : 16, i, j;
	struct granule *g = calloc(cap, sizeof(*g));

	if (!g)
		return -ENOMEM;
	for (i = 0; i < d->gcap; i++) {
		if (!d->g[i].key)
			continue;
		for (j = (d->g[i].key * 0x9e3779b97f4a7c15ull) >> 7 & (cap - 1);
		     g[j].key; j = (j + 1) & (cap - 1))
			;
		g[j] = d->g[i];
	}
	free(d->g);
	d->g = g;
	d->gcap = cap;
	return 0;
}

static struct granule *granule_get(struct rdev *d, uint64_t key)
{
	size_t j;

	key++;
	if ((d->gn + 1) * 2 > d->gcap && granule_grow(d))
		return NULL;
	for (j = (key * 0x9e3779b97f4a7c15ull) >> 7 & (d->gcap - 1);
	     d->g[j].key; j = (j + 1) & (d->gcap - 1))
		if (d->g[j].key == key)
			return &d->g[j];
	d->g[j].key = key;
	d->gn++;
	return &d->g[j];
}

struct run_ctx {
	struct rdev *d;
	uint64_t base, page, end;
	int err;
};

static int region_run(uint64_t first_bit, uint64_t nbits, void *arg)
{
	struct run_ctx *c = arg;
	uint64_t lo = c->base + first_bit * c->page, hi = lo + nbits * c->page;

	if (hi > c->end || hi < lo)
		hi = c->end;
	while (lo < hi) {
		uint64_t key = lo >> GRANULE_SHIFT;
		uint64_t gend = (key + 1) << GRANULE_SHIFT;
		uint64_t e = gend && gend < hi ? gend : hi;
		struct granule *g = granule_get(c->d, key);

		if (!g)
			return c->err = -ENOMEM;
		if (!g->hits || lo < g->lo)
			g->lo = lo;
		if (e > g->hi)
			g->hi = e;
		g->hits += (e - lo + c->page - 1) / c->page;
		lo = e;
	}
	return 0;
}

void report_on_report(void *ctx, const struct model_report *r)
{
	struct report *rp = ctx;
	struct rdev *d;
	struct run_ctx c;

	if (rp->err)
		return;
	d = rdev_get(rp, r->device);
	if (!d) {
		rp->err = -ENOMEM;
		return;
	}
	d->dirty_pages += r->dirty_pages;
	if (r->bitmap) {
		c = (struct run_ctx){ .d = d, .base = r->iova, .page = r->page_size,
				      .end = r->iova + r->length };
		if (c.end < c.base)
			c.end = UINT64_MAX;
		ibd_for_each_run(r->bitmap, region_run, &c);
		if (c.err)
			rp->err = c.err;
		d->hits += r->dirty_pages;
		if (rp->index && !rp->err)
			rp->err = report_dump_bitmap(rp, r);
	}
}

void report_on_iteration(void *ctx, const struct model_iteration *it)
{
	struct report *rp = ctx;
	struct rdev *d = rdev_get(rp, it->device);

	if (!d) {
		rp->err = -ENOMEM;
		return;
	}
	if (d->nits == d->cap_its) {
		size_t cap = d->cap_its ? d->cap_its * 2 : 16;
		struct model_iteration *p = realloc(d->its, cap * sizeof(*p));

		if (!p) {
			rp->err = -ENOMEM;
			return;
		}
		d->its = p;
		d->cap_its = cap;
	}
	d->its[d->nits] = *it;
	d->its[d->nits].device = NULL;	/* the model's string does not outlive it */
	d->nits++;
}

static int cmp_granule(const void *a, const void *b)
{
	const struct granule *x = a, *y = b;

	return x->key < y->key ? -1 : x->key > y->key;
}

static int cmp_region(const void *a, const void *b)
{
	const struct region *x = a, *y = b;

	if (x->hits != y->hits)
		return x->hits < y->hits ? 1 : -1;
	return x->lo < y->lo ? -1 : x->lo > y->lo;
}

/* Runs of adjacent hot granules, hottest first. */
static void hot_regions(struct rdev *d, size_t top)
{
	struct region r[64];
	size_t i, n = 0, nr = 0;
	uint64_t max = 0;

	if (!d->gn)
		return;
	for (i = 0; i < d->gcap; i++)
		if (d->g[i].key)
			d->g[n++] = d->g[i];
	d->gcap = n;
	qsort(d->g, n, sizeof(*d->g), cmp_granule);
	for (i = 0; i < n; i++)
		if (d->g[i].hits > max)
			max = d->g[i].hits;
	for (i = 0; i < n; i++) {
		const struct granule *g = &d->g[i];

		if (g->hits * HOT_FRACTION < max)
			continue;
		if (nr && i && d->g[i - 1].key + 1 == g->key &&
		    d->g[i - 1].hits * HOT_FRACTION >= max) {
			r[nr - 1].hi = g->hi;
			r[nr - 1].hits += g->hits;
			continue;
		}
		if (nr == sizeof(r) / sizeof(r[0])) {
			qsort(r, nr, sizeof(r[0]), cmp_region);
			nr--;	/* drop the coolest to make room */
		}
		r[nr++] = (struct region){ g->lo, g->hi, g->hits };
	}
	qsort(r, nr, sizeof(r[0]), cmp_region);
	if (top > sizeof(d->top) / sizeof(d->top[0]))
		top = sizeof(d->top) / sizeof(d->top[0]);
	d->ntop = nr < top ? nr : top;
	memcpy(d->top, r, d->ntop * sizeof(r[0]));
}

void report_hooks(struct report *rp, struct model *m)
{
	model_on_report(m, report_on_report, rp);
	model_on_iteration(m, report_on_iteration, rp);
}

void report_finish(struct report *rp, size_t top)
{
	size_t i;

	for (i = 0; i < rp->ndevs; i++)
		hot_regions(&rp->devs[i], top);
}

static int cmp_total(const void *a, const void *b)
{
	const struct model_row *x = a, *y = b;

	if (x->dirty_bytes != y->dirty_bytes)
		return x->dirty_bytes > y->dirty_bytes ? -1 : 1;
	return strcmp(x->name, y->name);
}

/* Names are the model's device identities, unique: the order is total. */
void report_sort_rows(struct model_snapshot *s)
{
	if (s->nrows > 1)	/* no rows may come with no array */
		qsort(s->rows, s->nrows, sizeof(*s->rows), cmp_total);
}

const struct rdev *report_dev(const struct report *rp, const char *name)
{
	static const struct rdev empty;
	const struct rdev *d = rdev_of(rp, name);

	return d ? d : &empty;
}

struct rates report_rates(const struct rdev *d)
{
	struct rates r = { 0 };
	uint64_t bytes = 0;
	size_t i;

	for (i = 1; i < d->nits; i++) {
		double v = d->its[i].dirty_bytes_per_s;

		if (!r.n || v < r.min)
			r.min = v;
		if (!r.n || v > r.max)
			r.max = v;
		bytes += d->its[i].dirty_bytes;
		r.n++;
	}
	if (r.n && d->its[d->nits - 1].ts_end_ns > d->its[0].ts_end_ns)
		r.avg = (double)bytes * 1e9 /
			(double)(d->its[d->nits - 1].ts_end_ns - d->its[0].ts_end_ns);
	return r;
}

double report_share(const struct rdev *d, size_t k, double scale)
{
	return d->hits ? scale * (double)d->top[k].hits / (double)d->hits : 0;
}

void report_free(struct report *rp)
{
	size_t i;

	for (i = 0; i < rp->ndevs; i++) {
		free(rp->devs[i].its);
		free(rp->devs[i].g);
	}
	free(rp->devs);
	name_index_free(&rp->by_name);
	if (rp->dump_dir && rp->dump_fd >= 0)
		close(rp->dump_fd);
	memset(rp, 0, sizeof(*rp));
}
