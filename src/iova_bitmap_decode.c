// SPDX-License-Identifier: GPL-2.0
/*
 * iova_bitmap_decode.c - the kernel's iova_bitmap index math in user space.
 *
 * The kernel sources this mirrors, read line by line:
 *   current  linux 6.12  drivers/iommu/iommufd/iova_bitmap.c (6.11+ code)
 *   v6.1.y   linux 6.1.192 drivers/vfio/iova_bitmap.c
 *   v6.1.0   the seed patch v5, "vfio: Add an IOVA bitmap support"
 *
 * Every quantity the kernel keeps in an unsigned long is a uint64_t here
 * and wraps the same way; where the kernel narrows to unsigned int, so do
 * we. The kernel writes with bitmap_set() into kmap'd pinned user pages;
 * we translate (page index, bit offset) back to a bit position relative to
 * the start of the user's array, and store the bits that land in it a
 * word at a time. Bits that land elsewhere in the pinned pages are counted
 * (under_bits, spill_bits), bits that land in no pinned page at all
 * (wild_bits) too. The pinned pages are modelled as pin_user_pages_fast()
 * succeeding for every page asked, which holds for the user's own buffer;
 * only the spill counts can be larger than on a machine where the page
 * after the buffer is unmapped.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include <linux/types.h>
#include "iova_bitmap_decode.h"
#include "iova_trace.h"

_Static_assert(IBD_BELOW_BASE == IOVA_ANOM_BELOW_BASE, "anomaly ABI");
_Static_assert(IBD_BEYOND_END == IOVA_ANOM_BEYOND_END, "anomaly ABI");
_Static_assert(IBD_CROSSES_END == IOVA_ANOM_CROSSES_END, "anomaly ABI");
_Static_assert(IBD_ZERO_LENGTH == IOVA_ANOM_ZERO_LENGTH, "anomaly ABI");
_Static_assert(IBD_WRAPS == IOVA_ANOM_WRAPS, "anomaly ABI");

/*
 * The kernel's PAGE_SIZE is d->kpage_shift: 4 KiB on x86-64, 4, 16 or
 * 64 KiB on arm64. It is the unit of pinning: bits per pinned page, the
 * user buffer's offset in its first page, and the 512, 2048 or 8192 page
 * pointers (one page of them) a window holds.
 */
#define KPAGE_SIZE(d)		(1ULL << (d)->kpage_shift)
#define BITS_PER_PAGE(d)	(KPAGE_SIZE(d) * 8)
#define MAX_PIN_PAGES(d)	(KPAGE_SIZE(d) / 8)

/* Shadow of the user memory around the array, in pages. */
#define GUARD_BEFORE_PAGES	1
#define GUARD_AFTER_PAGES	3
#define GUARD_BEFORE_BITS(d)	((int64_t)(GUARD_BEFORE_PAGES * BITS_PER_PAGE(d)))
#define GUARD_AFTER_BITS(d)	((int64_t)(GUARD_AFTER_PAGES * BITS_PER_PAGE(d)))

/* Chunks a 6.1.y call may write before cur_bit must have wrapped. */
#define HANG_SLACK		64
/* Passes of the 6.12 re-pin loop after which we give up and call it a hang. */
#define MAX_PASSES		(1u << 22)
/*
 * Passes a 6.12 drift (see drift()) may take and still count as a call
 * that returns: 2^30 passes of a few ns each already hold the CPU for
 * seconds, where the soft-lockup watchdog starts to complain.
 */
#define MAX_DRIFT		(1ULL << 30)

/* What the 6.12 iova_bitmap_set() loop depends on at update_indexes. */
struct kstate {
	uint64_t iova, length, base_index, npages;
};

static uint64_t min_u64(uint64_t a, uint64_t b)
{
	return a < b ? a : b;
}

static uint64_t div_round_up(uint64_t n, uint64_t d)
{
	return n / d + !!(n % d);
}

static int iterator_rule(const struct ibd *d)
{
	return d->rule == IBD_RULE_V6_1_0 || d->rule == IBD_RULE_V6_1_Y;
}

int ibd_rule_parse(const char *s)
{
	if (!strcmp(s, "current") || !strcmp(s, "v6.12"))
		return IBD_RULE_CURRENT;
	if (!strcmp(s, "v6.1") || !strcmp(s, "v6.1.0"))
		return IBD_RULE_V6_1_0;
	if (!strcmp(s, "v6.1.y"))
		return IBD_RULE_V6_1_Y;
	if (!strcmp(s, "strict"))
		return IBD_RULE_STRICT;
	return -1;
}

const char *ibd_rule_name(enum ibd_rule rule)
{
	switch (rule) {
	case IBD_RULE_CURRENT: return "current";
	case IBD_RULE_V6_1_0: return "v6.1.0";
	case IBD_RULE_V6_1_Y: return "v6.1.y";
	case IBD_RULE_STRICT: return "strict";
	}
	return "unknown";
}

bool ibd_kpage_size_ok(uint64_t kpage_size)
{
	return kpage_size >= IBD_KPAGE_SIZE_MIN && kpage_size <= IBD_KPAGE_SIZE_MAX &&
	       !(kpage_size & (kpage_size - 1));
}

const char *ibd_anomaly_name(enum ibd_anomaly kind)
{
	switch (kind) {
	case IBD_OK: return "in range";
	case IBD_BELOW_BASE: return "starts below the base";
	case IBD_BEYOND_END: return "starts past the end";
	case IBD_CROSSES_END: return "crosses the end";
	case IBD_ZERO_LENGTH: return "has zero length";
	case IBD_WRAPS: return "wraps past 2^64";
	}
	return "unknown";
}

/* ---- bit ranges, a word at a time ---------------------------------- */

/* Set bits [start, start + n) of w; n > 0. */
static inline __attribute__((always_inline)) void set_range(uint64_t *w, uint64_t start, uint64_t n)
{
	uint64_t end = start + n - 1;
	uint64_t i = start / 64, last = end / 64;
	uint64_t head = ~0ULL << (start % 64);
	uint64_t tail = ~0ULL >> (63 - end % 64);

	if (i == last) {
		w[i] |= head & tail;
		return;
	}
	w[i++] |= head;
	if (last > i)
		memset(&w[i], 0xff, (last - i) * sizeof(*w));
	w[last] |= tail;
}

/* Like set_range(), returns how many bits were not set before. */
static uint64_t set_range_new(uint64_t *w, uint64_t start, uint64_t n)
{
	uint64_t end = start + n - 1;
	uint64_t i, added = 0;

	for (i = start / 64; i <= end / 64; i++) {
		uint64_t m = ~0ULL;

		if (i == start / 64)
			m &= ~0ULL << (start % 64);
		if (i == end / 64)
			m &= ~0ULL >> (63 - end % 64);
		added += __builtin_popcountll(m & ~w[i]);
		w[i] |= m;
	}
	return added;
}

/*
 * Set bits [start, start + n) of the user's array, and mark their lines in
 * touched[]: every write to words[] goes through here.
 */
static inline __attribute__((always_inline)) void store_range(struct ibd *d, uint64_t start,
								uint64_t n)
{
	uint64_t l0 = start / (64 * IBD_LINE_WORDS);
	uint64_t l1 = (start + n - 1) / (64 * IBD_LINE_WORDS);

	set_range(d->words, start, n);
	if (l0 == l1) {
		/* no branch: the lines of scattered calls are not predictable */
		d->touched[l0 / 64] |= 1ULL << (l0 % 64);
		d->touched_words[l0 / 4096] |= 1ULL << (l0 / 64 % 64);
	} else {
		set_range(d->touched, l0, l1 - l0 + 1);
		set_range(d->touched_words, l0 / 64, l1 / 64 - l0 / 64 + 1);
	}
}

void ibd_words_written(struct ibd *d, size_t first, size_t n)
{
	uint64_t l0 = first / IBD_LINE_WORDS, l1 = (first + n - 1) / IBD_LINE_WORDS;

	set_range(d->touched, l0, l1 - l0 + 1);
	set_range(d->touched_words, l0 / 64, l1 / 64 - l0 / 64 + 1);
}

/* The first word of touched[] at or after i that is not zero, or ntouched. */
static uint64_t next_word(const struct ibd *d, uint64_t i)
{
	uint64_t k = i / 64, w;

	if (i >= d->ntouched)
		return d->ntouched;
	w = d->touched_words[k] & (~0ULL << (i % 64));
	while (!w) {
		if (++k * 64 >= d->ntouched)
			return d->ntouched;
		w = d->touched_words[k];
	}
	return k * 64 + (uint64_t)__builtin_ctzll(w);
}

/*
 * The next line at or after line l, below end, whose touched[] bit is
 * want (1 or 0), or end: untouched lines hold only zero bits.
 */
static uint64_t next_line(const struct ibd *d, uint64_t l, uint64_t end, int want)
{
	uint64_t i, w;

	if (l >= end)
		return end;
	i = l / 64;
	w = (want ? d->touched[i] : ~d->touched[i]) & (~0ULL << (l % 64));
	while (!w) {
		/* words of untouched lines are skipped 64 at a time */
		i = want ? next_word(d, i + 1) : i + 1;
		if (i >= d->ntouched)
			return end;
		w = want ? d->touched[i] : ~d->touched[i];
	}
	l = i * 64 + (uint64_t)__builtin_ctzll(w);
	return l < end ? l : end;
}

/*
 * Set bits in bits [first, first + n) of w. Without the popcnt instruction
 * (not in baseline x86-64) each word costs a libgcc call; the model counts
 * every report's words per heat bucket, so pick it at load time.
 */
#if defined(__x86_64__)
__attribute__((target_clones("popcnt", "default")))
#endif
static uint64_t count_bits(const uint64_t *w, uint64_t first, uint64_t n)
{
	uint64_t end, i, last, c = 0;

	if (!n)
		return 0;
	end = first + n - 1;
	i = first / 64;
	last = end / 64;
	if (i == last)
		return __builtin_popcountll(w[i] & (~0ULL << (first % 64)) &
					    (~0ULL >> (63 - end % 64)));
	c = __builtin_popcountll(w[i++] & (~0ULL << (first % 64)));
	for (; i < last; i++)
		c += __builtin_popcountll(w[i]);
	return c + __builtin_popcountll(w[last] & (~0ULL >> (63 - end % 64)));
}

/*
 * The kernel's bitmap_set(kmap_local_page(mapped->pages[page_idx]), bit,
 * nbits), with page_idx < mapped->npages and bit + nbits <= BITS_PER_PAGE:
 * store what lands in the user's array, count what lands beside it.
 * Returns the bits stored in the array.
 */
static uint64_t kwrite(struct ibd *d, uint64_t page_idx, uint64_t bit,
		       uint64_t nbits)
{
	int64_t base_bytes = (int64_t)(d->map.base_index * (d->index_bits / 8));
	int64_t lo = (base_bytes - (int64_t)d->map.pgoff) * 8 +
		     (int64_t)(page_idx * BITS_PER_PAGE(d) + bit);
	const int64_t gb = GUARD_BEFORE_BITS(d), ga = GUARD_AFTER_BITS(d);
	int64_t hi = lo + (int64_t)nbits;
	int64_t arr = (int64_t)d->nwords * 64;
	int64_t a, b;
	uint64_t stored = 0;

	if (!nbits)
		return 0;
	/* The page before the array (only the window's first page can be). */
	a = lo > -gb ? lo : -gb;
	b = hi < 0 ? hi : 0;
	if (a < b)
		d->under_bits += set_range_new(d->guard_before,
					       (uint64_t)(a + gb),
					       (uint64_t)(b - a));
	/* The array itself: the output. */
	a = lo > 0 ? lo : 0;
	b = hi < arr ? hi : arr;
	if (a < b) {
		store_range(d, (uint64_t)a, (uint64_t)(b - a));
		stored = (uint64_t)(b - a);
	}
	/* The pages after it. */
	a = lo > arr ? lo : arr;
	b = hi < arr + ga ? hi : arr + ga;
	if (a < b)
		d->spill_bits += set_range_new(d->guard_after, (uint64_t)(a - arr),
					       (uint64_t)(b - a));
	/* Pinned pages reach no further than the shadows; keep it honest. */
	if (lo < -gb)
		d->wild_bits += (uint64_t)((hi < -gb ? hi : -gb) - lo);
	if (hi > arr + ga)
		d->wild_bits += (uint64_t)(hi - (lo > arr + ga ? lo : arr + ga));
	return stored;
}

/* ---- index math ---------------------------------------------------- */

/*
 * iova_bitmap_offset_to_index(), 6.12 and 6.1.192: (iova >> pgshift) /
 * BITS_PER_TYPE(u8). Seed v5 (6.1.0): iova / (BITS_PER_TYPE(u64) *
 * pgsize), the same number for the page sizes it accepts.
 */
uint64_t ibd_offset_to_index(const struct ibd *d, uint64_t offset)
{
	return (offset >> d->pgshift) / d->index_bits;
}

/* iova_bitmap_index_to_offset(), 6.12, 6.1.192 and seed v5. */
uint64_t ibd_index_to_offset(const struct ibd *d, uint64_t index)
{
	return (index * d->index_bits) << d->pgshift;
}

/* iova_bitmap_mapped_iova(), 6.12, 6.1.192 and seed v5. */
static uint64_t mapped_iova(const struct ibd *d, const struct ibd_map *m)
{
	return d->iova + ibd_index_to_offset(d, m->base_index);
}

/*
 * iova_bitmap_mapped_remaining(), 6.12 and 6.1.192: the pinned bytes minus
 * the page offset ("vfio/iova_bitmap: Fix PAGE_SIZE unaligned bitmaps").
 * Seed v5: npages << PAGE_SHIFT, in u64 words, offset ignored.
 */
static uint64_t mapped_remaining(const struct ibd *d, const struct ibd_map *m)
{
	uint64_t remaining = d->total_index - m->base_index;

	if (d->rule == IBD_RULE_V6_1_0)
		return min_u64(remaining, (m->npages << d->kpage_shift) / 8);
	return min_u64(remaining, (m->npages << d->kpage_shift) - m->pgoff);
}

/* iova_bitmap_mapped_length(), 6.12, 6.1.192 and seed v5. */
static uint64_t mapped_length(const struct ibd *d, const struct ibd_map *m)
{
	uint64_t max_iova = d->iova + d->length - 1;
	uint64_t iova = mapped_iova(d, m);
	uint64_t remaining = ibd_index_to_offset(d, mapped_remaining(d, m));

	if (iova + remaining - 1 > max_iova)
		remaining -= (iova + remaining - 1) - max_iova;
	return remaining;
}

/*
 * iova_bitmap_get(), 6.12 and 6.1.192: pin DIV_ROUND_UP(bytes left,
 * PAGE_SIZE) pages, one more when the start is not page aligned, at most
 * 512. Seed v5: without the extra page. pin_user_pages_fast() is taken to
 * pin them all.
 */
static int kget(const struct ibd *d, struct ibd_map *m)
{
	uint64_t ib = d->index_bits / 8;
	uint64_t npages = div_round_up((d->total_index - m->base_index) * ib,
				       KPAGE_SIZE(d));
	uint64_t addr = d->user_addr + m->base_index * ib;

	if (d->rule != IBD_RULE_V6_1_0)
		npages += !!(addr % KPAGE_SIZE(d));
	npages = min_u64(npages, MAX_PIN_PAGES(d));
	if (!npages)
		return -EFAULT;
	m->npages = npages;
	m->iova = mapped_iova(d, m);
	m->pgoff = addr % KPAGE_SIZE(d);
	m->length = mapped_length(d, m);
	return 0;
}

/* iova_bitmap_done(), 6.1.192 and seed v5. */
static int kdone(const struct ibd *d, const struct ibd_map *m)
{
	return m->base_index >= d->total_index;
}

/* iova_bitmap_advance(), 6.1.192 and seed v5: the iterator's next window. */
static int kadvance(const struct ibd *d, struct ibd_map *m)
{
	uint64_t iova = mapped_length(d, m) - 1;
	uint64_t count = ibd_offset_to_index(d, iova) + 1;

	m->base_index += count;
	m->npages = 0;
	if (kdone(d, m))
		return 0;
	return kget(d, m);
}

/* iova_bitmap_advance_to(), 6.12: pin from the index of iova. */
static int kadvance_to(const struct ibd *d, struct ibd_map *m, uint64_t iova)
{
	uint64_t index = ibd_offset_to_index(d, iova - d->iova);

	if (index >= d->total_index)
		return -EINVAL;
	m->base_index = index;
	m->npages = 0;
	return kget(d, m);
}

/* iova_bitmap_mapped_range(), 6.12. */
static int kmapped_range(const struct ibd_map *m, uint64_t iova,
			 uint64_t length)
{
	return m->npages && iova >= m->iova &&
	       iova + length - 1 <= m->iova + m->length - 1;
}

/* What iova_bitmap_alloc() leaves: 6.12 pins nothing, 6.1 pins window 0. */
static void kalloc_state(struct ibd *d)
{
	memset(&d->map, 0, sizeof(d->map));
	d->map.iova = d->iova;
	if (iterator_rule(d))
		kget(d, &d->map);
}

/* ---- iova_bitmap_set() --------------------------------------------- */

/*
 * A pass of the 6.12 loop that finds its range mapped but its cur_bit
 * past the last pinned page writes nothing and carries over
 *   iova' - mapped.iova = round_down(iova - mapped.iova, page)
 *                         - page + ((E - mapped.iova) % page) + 1
 * where E = iova + length - 1 never changes. From the second such pass on,
 * iova steps down exactly one page per pass while mapped_range() keeps
 * holding, until cur_bit's page index (truncated to 32 bits, as the
 * kernel's unsigned int page_idx is) falls within the pinned pages. That
 * can take up to 2^47 passes; jump straight to the first pass that
 * writes. Returns 1 if it moved iova, -1 if the walk is so long that the
 * kernel is stuck for good (a soft lockup, not a call that returns).
 */
static int drift(const struct ibd *d, uint64_t *iova, uint64_t *length)
{
	const struct ibd_map *m = &d->map;
	uint64_t page = 1ULL << d->pgshift, e = *iova + *length - 1;
	uint64_t x = *iova - m->iova, y = ((e - m->iova) & (page - 1)) + 1;
	uint64_t cur_bit = (x >> d->pgshift) + m->pgoff * 8;
	uint64_t g = cur_bit / BITS_PER_PAGE(d), target;

	if ((uint32_t)g <= m->npages - 1 || y == page || (x & (page - 1)) != y)
		return 0;
	/* the last cur_bit whose truncated page index is a pinned page */
	target = ((g & ~0xffffffffULL) + m->npages - 1) * BITS_PER_PAGE(d) +
		 BITS_PER_PAGE(d) - 1;
	if (target >= cur_bit)		/* cannot happen: g's low half is larger */
		return 0;
	if (cur_bit - target > MAX_DRIFT)
		return -1;
	*iova -= (cur_bit - target) << d->pgshift;
	*length = e - *iova + 1;
	return 1;
}

/*
 * iova_bitmap_set(), 6.12 (6.11+): on a miss re-pin at the call's index;
 * walk cur_bit..last_bit page by page; past the last pinned page, carry
 * the rest of the range over and re-check. Returns the bits stored.
 */
static uint64_t set_current(struct ibd *d, uint64_t iova, uint64_t length)
{
	struct ibd_map *m = &d->map;
	uint64_t cur_bit, last_bit, last_page_idx, stored = 0;
	struct kstate saved = { iova, length, m->base_index, m->npages };
	uint64_t passes = 0, power = 1, lam = 0;
	int moved;

update_indexes:
	/*
	 * Everything below is a function of (iova, length, the pinned
	 * window): once that state comes back, the kernel loops for ever
	 * and has already written all it ever will (Brent's cycle check).
	 * A zero-length call at the start of the pinned window does this,
	 * as do wrapping calls whose carried-over length lost its high bits.
	 */
	if (passes++) {
		struct kstate now = { iova, length, m->base_index, m->npages };

		if (!memcmp(&now, &saved, sizeof(now)) || passes > MAX_PASSES) {
			d->hangs++;
			return stored;
		}
		if (++lam == power) {
			saved = now;
			power *= 2;
			lam = 0;
		}
	}
	if (!kmapped_range(m, iova, length)) {
		if (kadvance_to(d, m, iova))
			return stored;
	} else if ((moved = drift(d, &iova, &length))) {
		if (moved < 0) {
			d->hangs++;
			return stored;
		}
		power = 1;
		lam = 0;
		saved = (struct kstate){ iova, length, m->base_index, m->npages };
	}
	last_page_idx = m->npages - 1;
	cur_bit = ((iova - m->iova) >> d->pgshift) + m->pgoff * 8;
	last_bit = (((iova + length - 1) - m->iova) >> d->pgshift) + m->pgoff * 8;
	do {
		unsigned int page_idx = (unsigned int)(cur_bit / BITS_PER_PAGE(d));
		unsigned int offset = (unsigned int)(cur_bit % BITS_PER_PAGE(d));
		unsigned int nbits = (unsigned int)min_u64(BITS_PER_PAGE(d) - offset,
							    last_bit - cur_bit + 1);

		if (page_idx > last_page_idx) {
			uint64_t left = (last_bit - cur_bit + 1) << d->pgshift;

			iova += length - left;
			length = left;
			goto update_indexes;
		}
		stored += kwrite(d, page_idx, offset, nbits);
		cur_bit += nbits;
	} while (cur_bit <= last_bit);
	return stored;
}

/*
 * iova_bitmap_set(), 6.1.192: the same walk over the window the iterator
 * pinned, but it stops at the last pinned page.
 */
static uint64_t set_v6_1_y(struct ibd *d, uint64_t iova, uint64_t length)
{
	struct ibd_map *m = &d->map;
	uint64_t cur_bit = ((iova - m->iova) >> d->pgshift) + m->pgoff * 8;
	uint64_t last_bit = (((iova + length - 1) - m->iova) >> d->pgshift) +
			    m->pgoff * 8;
	uint64_t last_page_idx = m->npages - 1, stored = 0, chunks = 0;

	do {
		unsigned int page_idx = (unsigned int)(cur_bit / BITS_PER_PAGE(d));
		unsigned int offset = (unsigned int)(cur_bit % BITS_PER_PAGE(d));
		unsigned int nbits = (unsigned int)min_u64(BITS_PER_PAGE(d) - offset,
							    last_bit - cur_bit + 1);

		if (page_idx > last_page_idx)
			break;
		if (++chunks > MAX_PIN_PAGES(d) + HANG_SLACK) {
			/* cur_bit wrapped past 2^64: the walk restarts at 0 */
			d->hangs++;
			break;
		}
		stored += kwrite(d, page_idx, offset, nbits);
		cur_bit += nbits;
	} while (cur_bit <= last_bit);
	return stored;
}

/*
 * iova_bitmap_set(), seed v5 (6.1.0): nbits = max(1, length >> pgshift)
 * from offset (iova - mapped.iova) >> pgshift; the first chunk is written
 * at kaddr + pgoff, later ones at the start of their page. There is no
 * bounds check: a page index past the pinned pages reads a stale or
 * uninitialised mapped->pages[] entry, and a first chunk that runs past
 * its page writes into whatever page follows it in the kernel's direct
 * map. Those bits are counted in wild_bits.
 */
static uint64_t set_v6_1_0(struct ibd *d, uint64_t iova, uint64_t length)
{
	struct ibd_map *m = &d->map;
	uint64_t offset = (iova - m->iova) >> d->pgshift;
	uint64_t nbits = length >> d->pgshift;
	uint64_t page_idx = offset / BITS_PER_PAGE(d);
	uint64_t page_offset = m->pgoff, stored = 0;

	if (nbits < 1)
		nbits = 1;
	offset %= BITS_PER_PAGE(d);
	do {
		uint64_t size = min_u64(BITS_PER_PAGE(d) - offset, nbits);
		uint64_t bit = page_offset * 8 + offset;

		if (page_idx >= m->npages) {
			d->wild_bits += nbits;
			break;
		}
		if (bit + size > BITS_PER_PAGE(d)) {
			uint64_t in = bit < BITS_PER_PAGE(d) ? BITS_PER_PAGE(d) - bit : 0;

			d->wild_bits += size - in;
			stored += kwrite(d, page_idx, bit, in);
		} else {
			stored += kwrite(d, page_idx, bit, size);
		}
		page_offset = offset = 0;
		nbits -= size;
		page_idx++;
	} while (nbits > 0);
	return stored;
}

/* ---- API ----------------------------------------------------------- */

enum ibd_anomaly ibd_classify(const struct ibd *d, uint64_t iova,
			      uint64_t length)
{
	uint64_t last = d->iova + d->length - 1;

	if (!length)
		return IBD_ZERO_LENGTH;
	if (iova + length - 1 < iova)
		return IBD_WRAPS;
	if (iova < d->iova)
		return IBD_BELOW_BASE;
	if (iova > last)
		return IBD_BEYOND_END;
	if (iova + length - 1 > last)
		return IBD_CROSSES_END;
	return IBD_OK;
}

/*
 * On the iterator rules a call inside the bitmap was made by the callback
 * of the window holding it: walk the iterator there, as the kernel did
 * before calling back.
 */
static void pin_window_of(struct ibd *d, uint64_t iova)
{
	struct ibd_map *m = &d->map;

	if (m->npages && iova >= m->iova && iova - m->iova <= m->length - 1)
		return;
	if (!m->npages || iova < m->iova)
		kalloc_state(d);
	while (m->npages && iova - m->iova > m->length - 1)
		kadvance(d, m);
	if (!m->npages)		/* cannot happen for iova in the bitmap */
		kalloc_state(d);
}

enum ibd_anomaly ibd_set(struct ibd *d, uint64_t iova, uint64_t length)
{
	enum ibd_anomaly kind;
	int inside;

	/*
	 * The common case, taken without the page walk: a call inside the
	 * pinned window (which lies inside the bitmap). 6.12 and 6.1.y then
	 * set exactly bits (iova - base) >> shift .. (iova + length - 1 -
	 * base) >> shift, all in pinned pages, and change no state.
	 */
	if (d->rule != IBD_RULE_V6_1_0 && length && iova + length - 1 >= iova &&
	    kmapped_range(&d->map, iova, length)) {
		uint64_t first = (iova - d->iova) >> d->pgshift;

		d->set_calls++;
		store_range(d, first,
			    ((iova + length - 1 - d->iova) >> d->pgshift) - first + 1);
		return IBD_OK;
	}
	kind = ibd_classify(d, iova, length);
	inside = iova >= d->iova && iova - d->iova <= d->length - 1;
	d->set_calls++;
	if (kind != IBD_OK)
		d->anomalies++;
	if (inside && iterator_rule(d))
		pin_window_of(d, iova);
	switch (d->rule) {
	case IBD_RULE_STRICT:
		/* refused before anything is written: the ioctl fails */
		if (kind != IBD_OK) {
			d->rejected++;
			break;
		}
		set_current(d, iova, length);
		break;
	case IBD_RULE_CURRENT:
		set_current(d, iova, length);
		break;
	case IBD_RULE_V6_1_Y: {
		uint64_t stored = set_v6_1_y(d, iova, length);

		if (kind == IBD_OK) {
			uint64_t want = ((iova + length - 1 - d->iova) >> d->pgshift) -
					((iova - d->iova) >> d->pgshift) + 1;

			/* in-range chunks are disjoint and in the array */
			d->lost_bits += want - stored;
		}
		break;
	}
	case IBD_RULE_V6_1_0:
		set_v6_1_0(d, iova, length);
		break;
	}
	return kind;
}

/*
 * A large bitmap is written at random offsets, one cache line a call: on
 * 4 KiB pages nearly every set call of a 1 TiB guest's 32 MiB bitmap also
 * misses the TLB. Such bitmaps are aligned to, and asked for in, 2 MiB
 * pages (where the kernel has transparent huge pages on madvise).
 */
#define HUGE_BYTES	(2ull << 20)

static uint64_t *alloc_words(struct ibd *d)
{
	size_t bytes = d->nwords * sizeof(uint64_t);
	uintptr_t p;

	if (bytes < 2 * HUGE_BYTES)
		return d->words_alloc = calloc(d->nwords, sizeof(uint64_t));
	/*
	 * calloc() of a fresh mapping writes nothing, so only the pages a
	 * report touches are ever faulted in (and zeroed by the kernel).
	 */
	d->words_alloc = calloc(1, bytes + HUGE_BYTES);
	if (!d->words_alloc)
		return NULL;
	p = ((uintptr_t)d->words_alloc + HUGE_BYTES - 1) & ~(uintptr_t)(HUGE_BYTES - 1);
	/* a hint: without it, 4 KiB pages */
	madvise((void *)p, (bytes + HUGE_BYTES - 1) & ~(size_t)(HUGE_BYTES - 1), MADV_HUGEPAGE);
	return (uint64_t *)p;
}

static int alloc_state(struct ibd *d)
{
	d->words = alloc_words(d);
	d->ntouched = (d->nwords + 64 * IBD_LINE_WORDS - 1) / (64 * IBD_LINE_WORDS);
	d->touched = calloc(d->ntouched, sizeof(*d->touched));
	d->touched_words = calloc((d->ntouched + 63) / 64, sizeof(*d->touched_words));
	d->guard_before = calloc(GUARD_BEFORE_BITS(d) / 64, sizeof(uint64_t));
	d->guard_after = calloc(GUARD_AFTER_BITS(d) / 64, sizeof(uint64_t));
	if (!d->words || !d->touched || !d->touched_words || !d->guard_before ||
	    !d->guard_after) {
		ibd_free(d);
		return -ENOMEM;
	}
	return 0;
}

int ibd_init(struct ibd *d, uint64_t iova, uint64_t length, uint64_t page_size,
	     enum ibd_rule rule)
{
	return ibd_init_kpage(d, iova, length, page_size, rule,
			      IBD_KPAGE_SIZE_DEFAULT);
}

/* Validate and set the geometry of d, allocating nothing. */
static int geometry(struct ibd *d, uint64_t iova, uint64_t length,
		    uint64_t page_size, enum ibd_rule rule, uint64_t kpage_size)
{
	memset(d, 0, sizeof(*d));
	if (!page_size || (page_size & (page_size - 1)) || !length ||
	    length - 1 > UINT64_MAX - iova)
		return -EINVAL;
	if (!ibd_kpage_size_ok(kpage_size))
		return -EINVAL;
	d->kpage_shift = (unsigned int)__builtin_ctzll(kpage_size);
	if (rule != IBD_RULE_CURRENT && rule != IBD_RULE_V6_1_0 &&
	    rule != IBD_RULE_V6_1_Y && rule != IBD_RULE_STRICT)
		return -EINVAL;
	d->pgshift = (unsigned int)__builtin_ctzll(page_size);
	/* v5 computes 1 << pgshift in an int: undefined from 2 GiB on */
	if (rule == IBD_RULE_V6_1_0 && d->pgshift > 30)
		return -EINVAL;
	d->iova = iova;
	d->length = length;
	d->rule = rule;
	d->index_bits = rule == IBD_RULE_V6_1_0 ? 64 : 8;
	d->nbits = ((length - 1) >> d->pgshift) + 1;
	/* iova_bitmap_alloc(): offset_to_index(length - 1) + 1 */
	d->total_index = ibd_offset_to_index(d, length - 1) + 1;
	if (d->nbits / 64 + 1 > SIZE_MAX / 16)
		return -ENOMEM;
	d->nwords = (size_t)((d->nbits + 63) / 64);
	return 0;
}

int ibd_init_kpage(struct ibd *d, uint64_t iova, uint64_t length,
		   uint64_t page_size, enum ibd_rule rule, uint64_t kpage_size)
{
	int err = geometry(d, iova, length, page_size, rule, kpage_size);

	if (err)
		return err;
	if (alloc_state(d))
		return -ENOMEM;
	kalloc_state(d);
	return 0;
}

int ibd_reinit_kpage(struct ibd *d, uint64_t iova, uint64_t length,
		     uint64_t page_size, enum ibd_rule rule, uint64_t kpage_size)
{
	struct ibd old = *d;
	int err = geometry(d, iova, length, page_size, rule, kpage_size);

	/* the same words and shadow pages: keep them (ibd_clear() zeroed them) */
	if (!err && old.words && old.nwords == d->nwords &&
	    old.kpage_shift == d->kpage_shift) {
		d->words = old.words;
		d->words_alloc = old.words_alloc;
		d->touched = old.touched;
		d->touched_words = old.touched_words;
		d->ntouched = old.ntouched;
		d->guard_before = old.guard_before;
		d->guard_after = old.guard_after;
		kalloc_state(d);
		return 0;
	}
	ibd_free(&old);
	if (err)
		return err;
	if (alloc_state(d))
		return -ENOMEM;
	kalloc_state(d);
	return 0;
}

void ibd_free(struct ibd *d)
{
	free(d->words_alloc);
	free(d->touched);
	free(d->touched_words);
	free(d->guard_before);
	free(d->guard_after);
	d->words = d->touched = d->touched_words = NULL;
	d->words_alloc = NULL;
	d->guard_before = d->guard_after = NULL;
}

void ibd_clear(struct ibd *d)
{
	uint64_t nlines = d->ntouched * 64, l;

	for (l = next_line(d, 0, nlines, 1); l < nlines; l = next_line(d, l + 1, nlines, 1)) {
		size_t w = (size_t)l * IBD_LINE_WORDS;

		memset(&d->words[w], 0, (d->nwords - w < IBD_LINE_WORDS ?
					 d->nwords - w : IBD_LINE_WORDS) * sizeof(*d->words));
	}
	for (l = next_word(d, 0); l < d->ntouched; l = next_word(d, l + 1))
		d->touched[l] = 0;
	memset(d->touched_words, 0, (d->ntouched + 63) / 64 * sizeof(*d->touched_words));
	memset(d->guard_before, 0, GUARD_BEFORE_BITS(d) / 8);
	memset(d->guard_after, 0, GUARD_AFTER_BITS(d) / 8);
	d->set_calls = d->anomalies = 0;
	d->spill_bits = d->under_bits = d->wild_bits = 0;
	d->lost_bits = d->hangs = 0;
	kalloc_state(d);
}

void ibd_set_user_addr(struct ibd *d, uint64_t user_addr)
{
	d->user_addr = user_addr;
	kalloc_state(d);
}

/* Bits per line of touched[]. */
#define LINE_BITS	(64 * IBD_LINE_WORDS)

uint64_t ibd_count_range(const struct ibd *d, uint64_t first, uint64_t n)
{
	uint64_t end, nl, l, e, c = 0;

	if (first >= d->nbits || !n)
		return 0;
	end = first + min_u64(n, d->nbits - first);
	nl = (end - 1) / LINE_BITS + 1;
	/* runs of touched lines, clipped to [first, end) */
	for (l = next_line(d, first / LINE_BITS, nl, 1); l < nl;
	     l = next_line(d, e, nl, 1)) {
		uint64_t a, b;

		e = next_line(d, l, nl, 0);
		a = l * LINE_BITS > first ? l * LINE_BITS : first;
		b = min_u64(e * LINE_BITS, end);
		c += count_bits(d->words, a, b - a);
	}
	return c;
}

uint64_t ibd_count(const struct ibd *d)
{
	return ibd_count_range(d, 0, d->nbits);
}

static bool line_touched(const struct ibd *d, uint64_t word)
{
	uint64_t l = word / IBD_LINE_WORDS;

	return d->touched[l / 64] >> (l % 64) & 1;
}

/* First bit in [bit, end) that equals want (1 or 0), or end; end <= nbits. */
static uint64_t find_next(const struct ibd *d, uint64_t bit, uint64_t end,
			  int want)
{
	uint64_t i, last, w, l;

	if (bit >= end)
		return end;
	last = (end - 1) / 64;
again:
	/* a set bit lies only in a touched line: skip the others */
	if (want) {
		l = next_line(d, bit / LINE_BITS, (end - 1) / LINE_BITS + 1, 1);
		if (l * LINE_BITS >= end)
			return end;
		if (l * LINE_BITS > bit)
			bit = l * LINE_BITS;
	}
	i = bit / 64;
	w = (want ? d->words[i] : ~d->words[i]) & (~0ULL << (bit % 64));
	while (!w) {
		if (++i > last)
			return end;
		if (want && !(i % IBD_LINE_WORDS) && !line_touched(d, i)) {
			bit = i * 64;
			goto again;
		}
		w = want ? d->words[i] : ~d->words[i];
	}
	return min_u64(i * 64 + (uint64_t)__builtin_ctzll(w), end);
}

uint64_t ibd_first_set(const struct ibd *d, uint64_t first, uint64_t n)
{
	uint64_t end, bit;

	if (first >= d->nbits || !n)
		return UINT64_MAX;
	end = first + min_u64(n, d->nbits - first);
	bit = find_next(d, first, end, 1);
	return bit < end ? bit : UINT64_MAX;
}

uint64_t ibd_last_set(const struct ibd *d, uint64_t first, uint64_t n)
{
	uint64_t last, i, w;

	if (first >= d->nbits || !n)
		return UINT64_MAX;
	last = first + min_u64(n, d->nbits - first) - 1;
	i = last / 64;
	w = d->words[i] & (~0ULL >> (63 - last % 64));
	while (!w) {
		if (i-- == first / 64)
			return UINT64_MAX;
		w = d->words[i];
	}
	last = i * 64 + 63 - (uint64_t)__builtin_clzll(w);
	return last >= first ? last : UINT64_MAX;
}

/*
 * Runs a word at a time, over the touched lines only: a run open at the
 * end of a block of touched lines ends there (the next line is zero).
 */
int ibd_for_each_run(const struct ibd *d, ibd_run_fn fn, void *ctx)
{
	uint64_t nl = (d->nwords + IBD_LINE_WORDS - 1) / IBD_LINE_WORDS;
	uint64_t l, e = 0, i, start = 0;
	bool open = false;
	int ret;

	for (l = next_line(d, 0, nl, 1); l < nl; l = next_line(d, e, nl, 1)) {
		uint64_t wend;

		e = next_line(d, l, nl, 0);
		wend = min_u64(e * IBD_LINE_WORDS, d->nwords);
		for (i = l * IBD_LINE_WORDS; i < wend; i++) {
			uint64_t w = d->words[i], m;
			unsigned int pos = 0;

			while (pos < 64) {
				m = (open ? ~w : w) & (~0ULL << pos);
				if (!m)
					break;
				pos = (unsigned int)__builtin_ctzll(m);
				if (open) {
					open = false;
					if (start >= d->nbits)
						return 0;
					ret = fn(start, min_u64(i * 64 + pos, d->nbits) - start, ctx);
					if (ret)
						return ret;
				} else {
					open = true;
					start = i * 64 + pos;
				}
			}
		}
		if (open) {
			open = false;
			if (start >= d->nbits)
				return 0;
			ret = fn(start, min_u64(wend * 64, d->nbits) - start, ctx);
			if (ret)
				return ret;
		}
	}
	return 0;
}

void ibd_histogram(const struct ibd *d, uint64_t *out, size_t nbuckets)
{
	size_t i;

	for (i = 0; i < nbuckets; i++) {
		uint64_t lo = (uint64_t)((unsigned __int128)d->nbits * i / nbuckets);
		uint64_t hi = (uint64_t)((unsigned __int128)d->nbits * (i + 1) /
					 nbuckets);

		out[i] = ibd_count_range(d, lo, hi - lo);
	}
}

static void fill_window(const struct ibd *d, const struct ibd_map *m,
			struct ibd_window *w)
{
	w->base_index = m->base_index;
	w->first_bit = m->base_index * d->index_bits;
	w->iova = m->iova;
	w->length = m->length;
	w->npages = (uint32_t)m->npages;
	w->pgoff = (uint32_t)m->pgoff;
}

int ibd_window_at(const struct ibd *d, uint64_t user_addr,
		  uint64_t start_index, struct ibd_window *w)
{
	struct ibd tmp = *d;
	struct ibd_map m = { .base_index = start_index };

	if (start_index >= d->total_index)
		return -ERANGE;
	tmp.user_addr = user_addr;
	if (kget(&tmp, &m))
		return -ERANGE;
	fill_window(d, &m, w);
	return 0;
}

/*
 * Step from window m to the next in a walk: iova_bitmap_advance() on the
 * iterator rules; on 6.11+ the first index the window did not cover.
 */
static int next_window(const struct ibd *d, struct ibd_map *m)
{
	if (iterator_rule(d))
		return kadvance(d, m) || !m->npages ? -ERANGE : 0;
	m->base_index += mapped_remaining(d, m);
	m->npages = 0;
	if (m->base_index >= d->total_index)
		return -ERANGE;
	return kget(d, m) ? -ERANGE : 0;
}

int ibd_window_nth(const struct ibd *d, uint64_t user_addr, uint64_t n,
		   struct ibd_window *w)
{
	struct ibd tmp = *d;
	struct ibd_map m = { .base_index = 0 };
	uint64_t i;

	tmp.user_addr = user_addr;
	if (kget(&tmp, &m))
		return -ERANGE;
	for (i = 0; i < n; i++)
		if (next_window(&tmp, &m))
			return -ERANGE;
	fill_window(d, &m, w);
	return 0;
}

int64_t ibd_window_of(const struct ibd *d, uint64_t user_addr, uint64_t iova)
{
	struct ibd tmp = *d;
	struct ibd_map m = { .base_index = 0 };
	int64_t n = 0;

	if (iova < d->iova || iova - d->iova > d->length - 1)
		return -ERANGE;
	tmp.user_addr = user_addr;
	if (kget(&tmp, &m))
		return -ERANGE;
	while (iova - m.iova > m.length - 1) {
		if (next_window(&tmp, &m))
			return -ERANGE;
		n++;
	}
	return n;
}

int ibd_map_at(struct ibd *d, uint64_t start_index)
{
	struct ibd_map m = { .base_index = start_index };

	if (start_index >= d->total_index)
		return -ERANGE;
	if (kget(d, &m))
		return -EFAULT;
	d->map = m;
	return 0;
}
