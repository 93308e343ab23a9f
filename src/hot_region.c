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

/* A granule; hits 0 means it holds nothing yet. */
struct hot_cell {
	uint64_t hits;
	uint32_t lo, hi;	/* extent of its dirty pages, from the granule start */
};

struct hot_leaf {
	uint64_t key;		/* granule number >> HOT_LEAF_SHIFT */
	struct hot_cell c[HOT_LEAF_GRANULES];
};

static size_t slot_of(uint64_t key, size_t cap)
{
	return (size_t)((key * 0x9e3779b97f4a7c15ull) >> 7) & (cap - 1);
}

static int dir_grow(struct hot_map *h)
{
	size_t cap = h->dir_cap ? h->dir_cap * 2 : 16, i, j;
	struct hot_leaf **d = calloc(cap, sizeof(*d));

	if (!d)
		return -ENOMEM;
	for (i = 0; i < h->dir_cap; i++) {
		if (!h->dir[i])
			continue;
		for (j = slot_of(h->dir[i]->key, cap); d[j]; j = (j + 1) & (cap - 1))
			;
		d[j] = h->dir[i];
	}
	free(h->dir);
	h->dir = d;
	h->dir_cap = cap;
	return 0;
}

/* The leaf of a granule; a new one only when none holds it yet. */
static struct hot_leaf *leaf_get(struct hot_map *h, uint64_t granule)
{
	uint64_t key = granule >> HOT_LEAF_SHIFT;
	struct hot_leaf *l;
	size_t j;

	if (h->last && h->last->key == key)
		return h->last;
	if (h->dir_cap)
		for (j = slot_of(key, h->dir_cap); h->dir[j]; j = (j + 1) & (h->dir_cap - 1))
			if (h->dir[j]->key == key)
				return h->last = h->dir[j];
	/* looked up first: a map that holds the granule never grows */
	if ((h->nleaves + 1) * 2 > h->dir_cap && dir_grow(h))
		return NULL;
	l = calloc(1, sizeof(*l));
	if (!l)
		return NULL;
	l->key = key;
	for (j = slot_of(key, h->dir_cap); h->dir[j]; j = (j + 1) & (h->dir_cap - 1))
		;
	h->dir[j] = l;
	h->nleaves++;
	return h->last = l;
}

void hot_map_free(struct hot_map *h)
{
	size_t i;

	for (i = 0; i < h->dir_cap; i++)
		free(h->dir[i]);
	free(h->dir);
	memset(h, 0, sizeof(*h));
}

void hot_map_clear(struct hot_map *h)
{
	size_t i;

	if (h->n)
		for (i = 0; i < h->dir_cap; i++)
			if (h->dir[i])
				memset(h->dir[i]->c, 0, sizeof(h->dir[i]->c));
	h->n = 0;
	h->hits = 0;
}

int hot_map_add(struct hot_map *h, uint64_t lo, uint64_t hi, uint64_t page)
{
	if (!page)
		return 0;
	while (lo < hi) {
		uint64_t g = lo >> HOT_GRANULE_SHIFT;
		uint64_t gend = (g + 1) << HOT_GRANULE_SHIFT;	/* 0 past the top */
		uint64_t e = gend && gend < hi ? gend : hi, start = g << HOT_GRANULE_SHIFT;
		struct hot_leaf *l = leaf_get(h, g);
		uint64_t pages = (e - lo - 1) / page + 1;
		struct hot_cell *c;

		if (!l)
			return -ENOMEM;
		c = &l->c[g & (HOT_LEAF_GRANULES - 1)];
		/* both within the granule: [0, 2 MiB] */
		if (!c->hits) {
			c->lo = (uint32_t)(lo - start);
			c->hi = (uint32_t)(e - start);
			h->n++;
		}
		if (lo - start < c->lo)
			c->lo = (uint32_t)(lo - start);
		if (e - start > c->hi)
			c->hi = (uint32_t)(e - start);
		c->hits += pages;
		h->hits += pages;
		lo = e;
	}
	return 0;
}

int hot_map_merge(struct hot_map *dst, const struct hot_map *src)
{
	size_t i, k;

	if (!src->n)
		return 0;
	for (i = 0; i < src->dir_cap; i++) {
		const struct hot_leaf *s = src->dir[i];
		struct hot_leaf *l;

		if (!s)
			continue;
		l = leaf_get(dst, s->key << HOT_LEAF_SHIFT);
		if (!l)
			return -ENOMEM;
		for (k = 0; k < HOT_LEAF_GRANULES; k++) {
			const struct hot_cell *a = &s->c[k];
			struct hot_cell *c = &l->c[k];

			if (!a->hits)
				continue;
			if (!c->hits) {
				*c = *a;
				dst->n++;
			} else {
				c->lo = a->lo < c->lo ? a->lo : c->lo;
				c->hi = a->hi > c->hi ? a->hi : c->hi;
				c->hits += a->hits;
			}
			dst->hits += a->hits;
		}
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

static int cmp_leaf(const void *a, const void *b)
{
	const struct hot_leaf *x = *(struct hot_leaf * const *)a;
	const struct hot_leaf *y = *(struct hot_leaf * const *)b;

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
	struct hot_leaf **leaves;
	struct hot_region *r = NULL;
	uint64_t busiest = 0, prev = 0;
	size_t i, k, nl = 0, n = 0, nr = 0;

	if (!h->n || !max)
		return 0;
	leaves = malloc(h->nleaves * sizeof(*leaves));
	if (!leaves)
		return -ENOMEM;
	for (i = 0; i < h->dir_cap; i++)
		if (h->dir[i])
			leaves[nl++] = h->dir[i];
	for (i = 0; i < nl; i++)
		for (k = 0; k < HOT_LEAF_GRANULES; k++)
			if (leaves[i]->c[k].hits > busiest)
				busiest = leaves[i]->c[k].hits;
	/* only the hot granules make regions: few, next to all of them */
	for (i = 0; i < nl; i++)
		for (k = 0; k < HOT_LEAF_GRANULES; k++)
			if (leaves[i]->c[k].hits && leaves[i]->c[k].hits * HOT_FRACTION >= busiest)
				n++;
	r = malloc(n * sizeof(*r));
	if (!r) {
		free(leaves);
		return -ENOMEM;
	}
	/* in address order, adjacent hot granules join */
	qsort(leaves, nl, sizeof(*leaves), cmp_leaf);
	for (i = 0; i < nl; i++)
		for (k = 0; k < HOT_LEAF_GRANULES; k++) {
			const struct hot_cell *c = &leaves[i]->c[k];
			uint64_t g = leaves[i]->key << HOT_LEAF_SHIFT | k;
			uint64_t start = g << HOT_GRANULE_SHIFT;

			if (!c->hits || c->hits * HOT_FRACTION < busiest)
				continue;
			if (nr && prev + 1 == g) {
				r[nr - 1].hi = start + c->hi;
				r[nr - 1].hits += c->hits;
			} else {
				r[nr++] = (struct hot_region){ start + c->lo, start + c->hi, c->hits };
			}
			prev = g;
		}
	qsort(r, nr, sizeof(*r), cmp_region);
	if (nr > max)
		nr = max;
	memcpy(out, r, nr * sizeof(*r));
	free(leaves);
	free(r);
	return (int)nr;
}
