/* SPDX-License-Identifier: GPL-2.0 */
/*
 * hot_region.h - the one definition of a hot region, for the live view
 * (src/model.c) and report (src/report.c) alike.
 *
 * IOVA space is cut into granules of 2 MiB (HOT_GRANULE_SHIFT). Over a
 * period, a granule counts the dirty pages of the reports that fell in it
 * (a run of dirty pages crossing a granule edge counts in each granule
 * its part, rounded up to whole pages) and remembers where the first and
 * the last of them lie. A granule is hot when it holds at least
 * 1/HOT_FRACTION of the dirty pages of the busiest granule; a hot region
 * is a run of adjacent hot granules, from the first dirty byte of its
 * first granule to the end of the last dirty page of its last. Regions
 * rank by their dirty pages, then by address: the first is "the hottest
 * region".
 *
 * Only the period differs between the users: report takes the whole
 * trace, the view the interval on screen (or the whole run with its
 * cumulative mode), so a replay in cumulative mode ends with report's
 * hottest region, exactly.
 */
#ifndef IOVATOP_HOT_REGION_H
#define IOVATOP_HOT_REGION_H

#include <stddef.h>
#include <stdint.h>

#include "iova_bitmap_decode.h"

#define HOT_GRANULE_SHIFT	21	/* 2 MiB */
#define HOT_FRACTION		8	/* hot: >= 1/8 of the busiest granule */

struct hot_region {
	uint64_t lo, hi;	/* [lo, hi): first dirty byte to last page's end */
	uint64_t hits;		/* dirty pages in it over the period */
};

struct hot_leaf;

/*
 * Granules of one device over one period; all zero is an empty map. The
 * granules live in leaves of HOT_LEAF_GRANULES adjacent ones (128 MiB of
 * IOVA, 1 KiB), found through a small table: 16 bytes a granule however
 * full, so a 1 TiB guest dirty everywhere costs 8 MiB, and no rehash ever
 * holds two copies.
 */
#define HOT_LEAF_SHIFT		6
#define HOT_LEAF_GRANULES	(1u << HOT_LEAF_SHIFT)

struct hot_map {
	struct hot_leaf **dir;	/* open addressing by leaf number */
	size_t dir_cap, nleaves;
	size_t n;		/* granules holding dirty pages */
	struct hot_leaf *last;	/* runs come in order: the leaf of the last */
	uint64_t hits;		/* all dirty pages added */
};

void hot_map_free(struct hot_map *h);
/* Empty it for the next period, keeping its memory. */
void hot_map_clear(struct hot_map *h);

/*
 * Add a run of dirty pages [lo, hi) of page size page (a run reaching the
 * top of IOVA space ends at UINT64_MAX). 0 or -ENOMEM, which leaves the map as it was before
 * the granule that could not be added.
 */
int hot_map_add(struct hot_map *h, uint64_t lo, uint64_t hi, uint64_t page);

/*
 * Add a rebuilt report: the set bits of bm, a bitmap of pages of size page
 * from iova, clipped to [iova, iova + length).
 */
int hot_map_add_bitmap(struct hot_map *h, const struct ibd *bm, uint64_t iova,
		       uint64_t length, uint64_t page);

/*
 * Add everything src holds to dst, as if the runs added to src had been
 * added to dst too. 0 or -ENOMEM (dst then holds part of src).
 */
int hot_map_merge(struct hot_map *dst, const struct hot_map *src);

/*
 * The hot regions, hottest first, at most max of them into out. Returns
 * how many, or -ENOMEM.
 */
int hot_map_regions(const struct hot_map *h, struct hot_region *out, size_t max);

#endif /* IOVATOP_HOT_REGION_H */
