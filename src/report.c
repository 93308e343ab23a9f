// SPDX-License-Identifier: GPL-2.0
/*
 * report.c - whole-trace aggregation for iovatop report (include/report.h):
 * per device, its iterations and where its dirty pages fell over the whole
 * trace, in the granules of include/hot_region.h, the live view's too.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "report.h"
#include "report_fmt.h"

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

void report_on_report(void *ctx, const struct model_report *r)
{
	struct report *rp = ctx;
	struct rdev *d;
	int err;

	if (rp->err)
		return;
	d = rdev_get(rp, r->device);
	if (!d) {
		rp->err = -ENOMEM;
		return;
	}
	d->dirty_pages += r->dirty_pages;
	if (r->bitmap) {
		err = hot_map_add_bitmap(&d->hot, r->bitmap, r->iova, r->length,
					 r->page_size);
		if (err)
			rp->err = err;
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

/* The device's hottest regions over the whole trace (include/hot_region.h). */
static int hot_regions(struct rdev *d, size_t top)
{
	int n;

	if (top > REPORT_MAX_TOP)
		top = REPORT_MAX_TOP;
	n = hot_map_regions(&d->hot, d->top, top);
	if (n < 0)
		return n;
	d->ntop = (size_t)n;
	return 0;
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
		if (hot_regions(&rp->devs[i], top) && !rp->err)
			rp->err = -ENOMEM;
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
		hot_map_free(&rp->devs[i].hot);
	}
	free(rp->devs);
	name_index_free(&rp->by_name);
	if (rp->dump_dir && rp->dump_fd >= 0)
		close(rp->dump_fd);
	memset(rp, 0, sizeof(*rp));
}
