// SPDX-License-Identifier: GPL-2.0
/*
 * hot_region.c - hot regions in 2 MiB granules (include/hot_region.h),
 * shared by the live view's model and by report so that the two cannot
 * tell different stories about the same reports.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "hot_region.h"

struct hot_cell {
	uint64_t key;		/* granule number + 1, so 0 means free */
	uint64_t hits;
	uint64_t lo, hi;	/* extent of its dirty pages */
};

static size_t slot_of(uint64_t key, size_t cap)
{
	return (size_t)((key * 0x9e3779b97f4a7c15ull) >> 7) & (cap - 1);
}

static int grow(struct hot_map *h)
{
	size_t cap = h->cap ? h->cap * 2 : 16, i, j;
	struct hot_cell *c = calloc(cap, sizeof(*c));

	if (!c)
		return -ENOMEM;
	for (i = 0; i < h->cap; i++) {
		if (!h->cells[i].key)
			continue;
		for (j = slot_of(h->cells[i].key, cap); c[j].key; j = (j + 1) & (cap - 1))
			;
		c[j] = h->cells[i];
	}
	free(h->cells);
	h->cells = c;
	h->cap = cap;
	h->last = NULL;
	return 0;
}

static struct hot_cell *cell_get(struct hot_map *h, uint64_t granule)
{
	uint64_t key = granule + 1;
	size_t j;

	if (h->last && h->last->key == key)
		return h->last;
	if ((h->n + 1) * 2 > h->cap && grow(h))
		return NULL;
	for (j = slot_of(key, h->cap); h->cells[j].key; j = (j + 1) & (h->cap - 1))
		if (h->cells[j].key == key)
			return h->last = &h->cells[j];
	h->cells[j].key = key;
	h->n++;
	return h->last = &h->cells[j];
}

void hot_map_free(struct hot_map *h)
{
	free(h->cells);
	memset(h, 0, sizeof(*h));
}

void hot_map_clear(struct hot_map *h)
{
	if (h->n)
		memset(h->cells, 0, h->cap * sizeof(*h->cells));
	h->n = 0;
	h->hits = 0;
	h->last = NULL;
}

int hot_map_add(struct hot_map *h, uint64_t lo, uint64_t hi, uint64_t page)
{
	if (!page)
		return 0;
	while (lo < hi) {
		uint64_t g = lo >> HOT_GRANULE_SHIFT;
		uint64_t gend = (g + 1) << HOT_GRANULE_SHIFT;	/* 0 past the top */
		uint64_t e = gend && gend < hi ? gend : hi;
		struct hot_cell *c = cell_get(h, g);
		uint64_t pages = (e - lo - 1) / page + 1;

		if (!c)
			return -ENOMEM;
		if (!c->hits || lo < c->lo)
			c->lo = lo;
		if (e > c->hi)
			c->hi = e;
		c->hits += pages;
		h->hits += pages;
		lo = e;
	}
	return 0;
}

struct run_ctx {
	struct hot_map *h;
	uint64_t base, page, end;
};

static int add_run(uint64_t first_bit, uint64_t nbits, void *arg)
{
	struct run_ctx *c = arg;
	uint64_t lo = c->base + first_bit * c->page, hi = lo + nbits * c->page;

	if (lo < c->base || lo >= c->end)
		return 0;
	if (hi > c->end || hi < lo)
		hi = c->end;
	return hot_map_add(c->h, lo, hi, c->page);
}

int hot_map_add_bitmap(struct hot_map *h, const struct ibd *bm, uint64_t iova,
		       uint64_t length, uint64_t page)
{
	struct run_ctx c = { h, iova, page, iova + length };

	if (!bm || !page)
		return 0;
	if (c.end < iova)
		c.end = UINT64_MAX;	/* the last byte of IOVA space is lost */
	return ibd_for_each_run(bm, add_run, &c);
}

static int cmp_key(const void *a, const void *b)
{
	const struct hot_cell *x = a, *y = b;

	return x->key < y->key ? -1 : x->key > y->key;
}

static int cmp_region(const void *a, const void *b)
{
	const struct hot_region *x = a, *y = b;

	if (x->hits != y->hits)
		return x->hits < y->hits ? 1 : -1;
	return x->lo < y->lo ? -1 : x->lo > y->lo;
}

int hot_map_regions(const struct hot_map *h, struct hot_region *out, size_t max)
{
	struct hot_cell *hot;
	struct hot_region *r;
	uint64_t busiest = 0;
	size_t i, n = 0, nr = 0;

	for (i = 0; i < h->cap; i++)
		if (h->cells[i].key && h->cells[i].hits > busiest)
			busiest = h->cells[i].hits;
	if (!busiest || !max)
		return 0;
	/* only the hot granules are ordered: few, next to all of them */
	for (i = 0; i < h->cap; i++)
		if (h->cells[i].key && h->cells[i].hits * HOT_FRACTION >= busiest)
			n++;
	hot = malloc(n * sizeof(*hot));
	r = malloc(n * sizeof(*r));
	if (!hot || !r) {
		free(hot);
		free(r);
		return -ENOMEM;
	}
	n = 0;
	for (i = 0; i < h->cap; i++)
		if (h->cells[i].key && h->cells[i].hits * HOT_FRACTION >= busiest)
			hot[n++] = h->cells[i];
	qsort(hot, n, sizeof(*hot), cmp_key);
	for (i = 0; i < n; i++) {
		if (nr && hot[i - 1].key + 1 == hot[i].key) {
			r[nr - 1].hi = hot[i].hi;
			r[nr - 1].hits += hot[i].hits;
			continue;
		}
		r[nr++] = (struct hot_region){ hot[i].lo, hot[i].hi, hot[i].hits };
	}
	qsort(r, nr, sizeof(*r), cmp_region);
	if (nr > max)
		nr = max;
	memcpy(out, r, nr * sizeof(*r));
	free(hot);
	free(r);
	return (int)nr;
}
