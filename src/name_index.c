// SPDX-License-Identifier: GPL-2.0
/*
 * name_index.c - names to indexes, hashed (include/name_index.h).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "name_index.h"

struct name_slot {
	uint32_t hash;
	uint32_t idx1;		/* index + 1; 0 is a free slot */
};

/* FNV-1a: names are short, and the table size is a power of two. */
static uint32_t name_hash(const char *s)
{
	uint32_t h = 2166136261u;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 16777619u;
	/* the low bits pick the slot: fold the high ones in */
	return h ^ (h >> 15);
}

int64_t name_index_find(const struct name_index *x, const char *name,
			name_of_fn name_of, const void *ctx)
{
	uint32_t h, i, mask;

	if (!x->cap)
		return -1;
	h = name_hash(name);
	mask = x->cap - 1;
	for (i = h & mask; x->slot[i].idx1; i = (i + 1) & mask)
		if (x->slot[i].hash == h &&
		    !strcmp(name_of(ctx, x->slot[i].idx1 - 1), name))
			return x->slot[i].idx1 - 1;
	return -1;
}

static void put(struct name_slot *slot, uint32_t cap, uint32_t hash,
		uint32_t idx1)
{
	uint32_t i;

	for (i = hash & (cap - 1); slot[i].idx1; i = (i + 1) & (cap - 1))
		;
	slot[i].hash = hash;
	slot[i].idx1 = idx1;
}

int name_index_add(struct name_index *x, const char *name, uint32_t i)
{
	if (i == UINT32_MAX)
		return -ENOMEM;
	/* at most half full, so probes stay short */
	if ((x->n + 1) * 2 > x->cap) {
		uint32_t cap = x->cap ? x->cap * 2 : 64, k;
		struct name_slot *slot;

		if (!cap)
			return -ENOMEM;
		slot = calloc(cap, sizeof(*slot));
		if (!slot)
			return -ENOMEM;
		for (k = 0; k < x->cap; k++)
			if (x->slot[k].idx1)
				put(slot, cap, x->slot[k].hash, x->slot[k].idx1);
		free(x->slot);
		x->slot = slot;
		x->cap = cap;
	}
	put(x->slot, x->cap, name_hash(name), i + 1);
	x->n++;
	return 0;
}

void name_index_free(struct name_index *x)
{
	free(x->slot);
	memset(x, 0, sizeof(*x));
}
