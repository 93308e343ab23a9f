/* SPDX-License-Identifier: GPL-2.0 */
/*
 * iova_bitmap_decode.h - the kernel's iova_bitmap index math in user space.
 *
 * A decoder holds a zeroed copy of the user bitmap an ioctl would fill and
 * applies iova_bitmap_set() calls to it exactly as the running kernel does,
 * so that a report rebuilt from traced ranges can be compared byte for byte
 * with what the kernel wrote. Pure C: no libbpf, no I/O.
 */
#ifndef IOVA_BITMAP_DECODE_H
#define IOVA_BITMAP_DECODE_H

#include <stddef.h>
#include <stdint.h>

/* Which iova_bitmap_set() rule the kernel applies. */
enum ibd_rule {
	/*
	 * 6.2+ and 6.1.y after commit b058ea3ab5af ("vfio/iova_bitmap: refactor
	 * iova_bitmap_set() to better handle page boundaries"): every bit from
	 * (iova - base) >> shift to (iova + length - 1 - base) >> shift.
	 */
	IBD_RULE_CURRENT = 0,
	/* 6.1.0 as merged (the seed's v5): max(1, length >> shift) bits. */
	IBD_RULE_V6_1_0 = 1,
};

struct ibd {
	uint64_t iova;		/* base IOVA of the whole bitmap */
	uint64_t length;	/* IOVA bytes covered */
	unsigned int pgshift;	/* log2(page size) */
	enum ibd_rule rule;
	uint64_t nbits;		/* bits the bitmap covers: ceil(length / page) */
	size_t nwords;		/* u64 words of user bitmap: ceil(nbits / 64) */
	uint64_t *words;	/* the rebuilt user bitmap, little-endian values */
	uint64_t set_calls;	/* ibd_set() calls applied */
	uint64_t anomalies;	/* calls that were (partly) outside the bitmap */
	uint64_t spill_bits;	/* bits the kernel would set past nwords */
};

/* Why a set call is odd; 0 when it lies within [iova, iova + length). */
enum ibd_anomaly {
	IBD_OK = 0,
	IBD_BELOW_BASE = 1,
	IBD_BEYOND_END = 2,
	IBD_CROSSES_END = 3,
	IBD_ZERO_LENGTH = 4,
	IBD_WRAPS = 5,
};

/*
 * Validate and allocate. Returns 0, -EINVAL for a page size that is not a
 * power of two, a zero length or iova + length - 1 past 2^64 - 1, -ENOMEM.
 */
int ibd_init(struct ibd *d, uint64_t iova, uint64_t length, uint64_t page_size,
	     enum ibd_rule rule);
void ibd_free(struct ibd *d);
/* Zero the bitmap and the counters, keep the geometry: a new report. */
void ibd_clear(struct ibd *d);

/*
 * Apply one iova_bitmap_set(bitmap, iova, length). Bits the kernel would
 * write are set word by word; nothing is ever written outside words[].
 * Returns the anomaly kind (IBD_OK when the call was in range).
 */
enum ibd_anomaly ibd_set(struct ibd *d, uint64_t iova, uint64_t length);

/* Classify a call without applying it. */
enum ibd_anomaly ibd_classify(const struct ibd *d, uint64_t iova,
			      uint64_t length);

/* Set bits (dirty pages) in the whole bitmap, or in bits [first, first+n). */
uint64_t ibd_count(const struct ibd *d);
uint64_t ibd_count_range(const struct ibd *d, uint64_t first, uint64_t n);

/*
 * Call fn for each maximal run of set bits, in order. Stops early and
 * returns fn's value when it is non-zero.
 */
typedef int (*ibd_run_fn)(uint64_t first_bit, uint64_t nbits, void *ctx);
int ibd_for_each_run(const struct ibd *d, ibd_run_fn fn, void *ctx);

/*
 * Dirty density for a heatmap: the bitmap's bits split into nbuckets equal
 * spans, out[i] = set bits in span i.
 */
void ibd_histogram(const struct ibd *d, uint64_t *out, size_t nbuckets);

/* Kernel's iova_bitmap_offset_to_index()/index_to_offset() (u64 words). */
uint64_t ibd_offset_to_index(const struct ibd *d, uint64_t offset);
uint64_t ibd_index_to_offset(const struct ibd *d, uint64_t index);

/*
 * Windows. The 6.1 iterator pins at most 512 user pages of bitmap a time
 * (PAGE_SIZE / sizeof(struct page *)); the first window is shortened by the
 * user buffer's offset in its page. On 6.11+ pinning is lazy, but a window
 * has the same span, starting at the word of the first set that missed.
 * ibd_window_at() gives the window that a set at iova falls in, for a
 * window that starts at u64 word start_index.
 */
struct ibd_window {
	uint64_t base_index;	/* first u64 word mapped */
	uint64_t iova;		/* IOVA of bit 0 of that word */
	uint64_t length;	/* IOVA bytes the window covers */
	uint32_t npages;	/* user pages pinned */
	uint32_t pgoff;		/* offset of the first word in its page */
};
#define IBD_HOST_PAGE_SIZE	4096u
#define IBD_MAX_PIN_PAGES	(IBD_HOST_PAGE_SIZE / 8u)
int ibd_window_at(const struct ibd *d, uint64_t user_addr,
		  uint64_t start_index, struct ibd_window *w);
/* The sequence of windows the 6.1 iterator walks: 0, 1, 2, ... */
int ibd_window_nth(const struct ibd *d, uint64_t user_addr, uint64_t n,
		   struct ibd_window *w);

#endif /* IOVA_BITMAP_DECODE_H */
