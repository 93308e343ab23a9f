/* SPDX-License-Identifier: GPL-2.0 */
/*
 * iova_bitmap_decode.h - the kernel's iova_bitmap index math in user space.
 *
 * A decoder holds a zeroed copy of the user bitmap an ioctl would fill and
 * applies iova_bitmap_set() calls to it exactly as the running kernel does,
 * so that a report rebuilt from traced ranges can be compared byte for byte
 * with what the kernel wrote. Pure C: no libbpf, no I/O.
 *
 * "Exactly" includes calls a driver should never make (outside the bitmap,
 * zero length, wrapping): the decoder replays the kernel's own arithmetic,
 * modulo 2^64 and with its integer truncations, against a model of the
 * pinned user pages. Bits that land inside the user's u64 array (including
 * the bits past nbits in its last word) are in words[]; bits the kernel
 * writes into the same pinned pages before or after the array are counted
 * in under_bits / spill_bits and never stored in words[]. docs/decode.md
 * walks through each case per kernel.
 */
#ifndef IOVA_BITMAP_DECODE_H
#define IOVA_BITMAP_DECODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Words of the bitmap per bit of struct ibd.touched: one cache line. */
#define IBD_LINE_WORDS		8

/* Which iova_bitmap_set() the kernel runs. */
enum ibd_rule {
	/*
	 * 6.11+ (mirrored from 6.12): every bit from (iova - base) >> shift to
	 * (iova + length - 1 - base) >> shift, user pages pinned lazily by
	 * iova_bitmap_set() itself ("iommufd/iova_bitmap: Dynamic pinning on
	 * iova_bitmap_set()"). For calls inside the bitmap it is also the rule
	 * of 6.2+ and of 6.1.y after commit b058ea3ab5af ("vfio/iova_bitmap:
	 * refactor iova_bitmap_set() to better handle page boundaries").
	 */
	IBD_RULE_CURRENT = 0,
	/*
	 * 6.1.0 as merged (the seed's v5): max(1, length >> shift) bits from
	 * (iova - base) >> shift, u64 indexes, the 6.1 windowed iterator.
	 */
	IBD_RULE_V6_1_0 = 1,
	/*
	 * 6.1.y as of 6.1.192: the current rule for in-range calls, but the
	 * 6.1 iterator pins the windows and iova_bitmap_set() stops at the
	 * last pinned page instead of pinning more.
	 */
	IBD_RULE_V6_1_Y = 2,
	/*
	 * 6.12.118 and kernels with upstream's "iommufd/iova_bitmap: Ensure
	 * that iova_bitmap_set() handles the full IOVA": the current rule for
	 * calls inside the bitmap, but a call not wholly inside it (zero
	 * length, below the base, past the end, wrapping) sets no bit at all
	 * and makes the report fail with -EPROTO (iova_bitmap::err). Told by
	 * that member in BTF.
	 */
	IBD_RULE_STRICT = 3,
};

/* Parse "current", "v6.1" / "v6.1.0", "v6.1.y"; -1 if unknown. */
int ibd_rule_parse(const char *s);
const char *ibd_rule_name(enum ibd_rule rule);

/*
 * The window of user pages the kernel has pinned: struct iova_bitmap_map
 * plus mapped_base_index of struct iova_bitmap. Indexes are in the
 * kernel's unit, which is one byte of bitmap since 6.8 and in 6.1.y
 * ("iommufd/iova_bitmap: Switch iova_bitmap::bitmap to an u8 array") and
 * one u64 word in 6.1.0: see struct ibd.index_bits.
 */
struct ibd_map {
	uint64_t iova;		/* mapped.iova: IOVA of bit 0 of the window */
	uint64_t length;	/* mapped.length (6.11+) / mapped_length() */
	uint64_t pgoff;		/* mapped.pgoff: window start's offset in its page */
	uint64_t npages;	/* mapped.npages: 0 = nothing pinned */
	uint64_t base_index;	/* mapped_base_index */
};

struct ibd {
	uint64_t iova;		/* base IOVA of the whole bitmap */
	uint64_t length;	/* IOVA bytes covered */
	unsigned int pgshift;	/* log2(page size) */
	unsigned int kpage_shift; /* log2 of the kernel's PAGE_SIZE */
	enum ibd_rule rule;
	uint64_t nbits;		/* bits the bitmap covers: ceil(length / page) */
	size_t nwords;		/* u64 words of user bitmap: ceil(nbits / 64) */
	uint64_t *words;	/* the rebuilt user bitmap, little-endian values */
	void *words_alloc;	/* what words lies in (aligned for huge pages) */
	/*
	 * One bit per IBD_LINE_WORDS words of words[] that may hold a set
	 * bit: clearing, counting and walking a report cost what it dirtied,
	 * not the size of the bitmap (a 1 TiB guest's is 32 MiB).
	 */
	uint64_t *touched;
	size_t ntouched;	/* u64 words of touched[] */
	uint64_t *touched_words; /* one bit per word of touched[] not zero */
	uint64_t set_calls;	/* ibd_set() calls applied */
	uint64_t anomalies;	/* calls that were (partly) outside the bitmap */
	uint64_t rejected;	/* strict rule: calls the kernel refused (-EPROTO) */
	/*
	 * Distinct bits the kernel sets in the pinned pages after the last
	 * word of the user bitmap (the bitmap's own tail bits, past nbits in
	 * the last word, are in words[]): memory that is not the bitmap.
	 */
	uint64_t spill_bits;
	/* Distinct bits it sets in the pinned page before the user bitmap. */
	uint64_t under_bits;
	/*
	 * Bit writes that go through no pinned user page at all (6.1.0 only:
	 * a stale mapped->pages[] entry, or past the end of a kmap'd page).
	 * Where they land is unknowable; they are counted, never stored.
	 */
	uint64_t wild_bits;
	/* Bits of in-range calls that the kernel left unset (6.1.y: a call
	 * crossing the pinned window stops at its last page). */
	uint64_t lost_bits;
	/* Calls from which the kernel never returns (it loops in
	 * iova_bitmap_set()); the bitmap holds what it wrote until then. */
	uint64_t hangs;

	/* The kernel's state, for the calls that depend on it. */
	uint64_t user_addr;	/* user address of the bitmap (page offset matters) */
	unsigned int index_bits; /* bits per kernel index: 8, or 64 on 6.1.0 */
	uint64_t total_index;	/* mapped_total_index */
	struct ibd_map map;	/* the pinned window */
	uint64_t *guard_before;	/* shadow of the page before the bitmap */
	uint64_t *guard_after;	/* shadow of the pages after it */
};

/* Why a set call is odd; 0 when it lies within [iova, iova + length). */
enum ibd_anomaly {
	IBD_OK = 0,
	IBD_BELOW_BASE = 1,	/* iova < base */
	IBD_BEYOND_END = 2,	/* starts at or past base + length */
	IBD_CROSSES_END = 3,	/* starts inside, ends past base + length */
	IBD_ZERO_LENGTH = 4,	/* length == 0 */
	IBD_WRAPS = 5,		/* iova + length - 1 overflows */
};
const char *ibd_anomaly_name(enum ibd_anomaly kind);

/*
 * The kernel's PAGE_SIZE: what it pins the user bitmap in. 4 KiB on
 * x86-64 (and what ibd_init() assumes); arm64 kernels are built with 4, 16
 * or 64 KiB pages, and the windows, the page offset of the user buffer and
 * where a stray call's bits land all follow it.
 */
#define IBD_KPAGE_SIZE_DEFAULT	4096u
#define IBD_KPAGE_SIZE_MIN	4096u
#define IBD_KPAGE_SIZE_MAX	(256u << 10)	/* the largest any arch has */
/* A power of two from IBD_KPAGE_SIZE_MIN to IBD_KPAGE_SIZE_MAX. */
bool ibd_kpage_size_ok(uint64_t kpage_size);

/*
 * Validate and allocate a zeroed bitmap for iova_bitmap_alloc(iova,
 * length, page_size, data) with data page aligned (see
 * ibd_set_user_addr()) on a kernel with 4 KiB pages. Returns 0, -EINVAL
 * for a page size that is not a power of two (or >= 2 GiB on 6.1.0, whose
 * v5 code computes 1 << pgshift in an int), a zero length or iova +
 * length - 1 past 2^64 - 1, -ENOMEM when the bitmap does not fit in
 * memory.
 */
int ibd_init(struct ibd *d, uint64_t iova, uint64_t length, uint64_t page_size,
	     enum ibd_rule rule);
/* The same on a kernel whose PAGE_SIZE is kpage_size (-EINVAL if not ok). */
int ibd_init_kpage(struct ibd *d, uint64_t iova, uint64_t length,
		   uint64_t page_size, enum ibd_rule rule, uint64_t kpage_size);
/*
 * The same for a decoder d that was cleared (ibd_clear()) or is all zero:
 * its memory is kept when the new bitmap has as many words on the same
 * kernel page size, else freed. On error d holds nothing.
 */
int ibd_reinit_kpage(struct ibd *d, uint64_t iova, uint64_t length,
		     uint64_t page_size, enum ibd_rule rule, uint64_t kpage_size);
void ibd_free(struct ibd *d);
/*
 * Words [first, first + n) of words[] were written other than by
 * ibd_set() (n > 0): counting, walking and clearing must look at them.
 */
void ibd_words_written(struct ibd *d, size_t first, size_t n);
/* Zero the bitmap and the counters, keep the geometry: a new report. */
void ibd_clear(struct ibd *d);
/*
 * Where the user bitmap lives (the data argument of iova_bitmap_alloc):
 * only its offset within a kernel page changes what the kernel does. Resets
 * the pinned window to what iova_bitmap_alloc() leaves.
 */
void ibd_set_user_addr(struct ibd *d, uint64_t user_addr);

/*
 * Apply one iova_bitmap_set(bitmap, iova, length) the way d->rule's kernel
 * does. Returns the anomaly kind (IBD_OK when the call was in range).
 *
 * On the iterator rules (6.1.0, 6.1.y) a call made inside the bitmap is
 * taken to come from the callback of the window holding its iova (drivers
 * only get that window's range), so that window is pinned first; other
 * calls run against the window pinned last. ibd_map_at() pins a window
 * explicitly, e.g. from a traced window record.
 */
enum ibd_anomaly ibd_set(struct ibd *d, uint64_t iova, uint64_t length);

/* Classify a call without applying it. */
enum ibd_anomaly ibd_classify(const struct ibd *d, uint64_t iova,
			      uint64_t length);

/* Set bits (dirty pages) in bits [0, nbits), or in bits [first, first+n). */
uint64_t ibd_count(const struct ibd *d);
uint64_t ibd_count_range(const struct ibd *d, uint64_t first, uint64_t n);

/*
 * The first and the last set bit in bits [first, first + n) (of those below
 * nbits), or UINT64_MAX when none of them is set.
 */
uint64_t ibd_first_set(const struct ibd *d, uint64_t first, uint64_t n);
uint64_t ibd_last_set(const struct ibd *d, uint64_t first, uint64_t n);

/*
 * Call fn for each maximal run of set bits below nbits, in order. Stops
 * early and returns fn's value when it is non-zero.
 */
typedef int (*ibd_run_fn)(uint64_t first_bit, uint64_t nbits, void *ctx);
int ibd_for_each_run(const struct ibd *d, ibd_run_fn fn, void *ctx);

/*
 * Dirty density for a heatmap: bits [0, nbits) split into nbuckets spans
 * as equal as integers allow, out[i] = set bits in span i.
 */
void ibd_histogram(const struct ibd *d, uint64_t *out, size_t nbuckets);

/*
 * The kernel's iova_bitmap_offset_to_index() / iova_bitmap_index_to_offset()
 * for d->rule: an IOVA offset from the base to an index in kernel units
 * (d->index_bits bits each) and back.
 */
uint64_t ibd_offset_to_index(const struct ibd *d, uint64_t offset);
uint64_t ibd_index_to_offset(const struct ibd *d, uint64_t index);

/*
 * Windows. The kernel pins at most PAGE_SIZE / sizeof(struct page *) user
 * pages of bitmap at a time: with 4 KiB kernel pages 512, 2 MiB of bitmap,
 * 64 GiB of IOVA at 4 KiB bits; with 16 KiB pages 2048 (32 MiB of bitmap),
 * with 64 KiB pages 8192 (512 MiB). On 6.1 the iterator walks the windows in order and calls
 * back once per window; the first one is shortened by the user buffer's
 * offset in its page (6.1.y) or overlaps the next page (6.1.0, which
 * ignores that offset). On 6.11+ a window starts at the index of the first
 * set call that missed the pinned one.
 */
struct ibd_window {
	uint64_t base_index;	/* mapped_base_index (kernel units) */
	uint64_t first_bit;	/* bit of the bitmap at the window start */
	uint64_t iova;		/* IOVA of that bit */
	uint64_t length;	/* IOVA bytes the window covers */
	uint32_t npages;	/* user pages pinned */
	uint32_t pgoff;		/* offset of the first index in its page */
};
/*
 * The window iova_bitmap_get() pins at index start_index for a bitmap at
 * user_addr; -ERANGE when start_index is past the bitmap.
 */
int ibd_window_at(const struct ibd *d, uint64_t user_addr,
		  uint64_t start_index, struct ibd_window *w);
/*
 * Window n (0, 1, 2, ...) of the walk: the 6.1 iterator's sequence on the
 * iterator rules; on 6.11+ the windows a walk in IOVA order pins. -ERANGE
 * past the last window.
 */
int ibd_window_nth(const struct ibd *d, uint64_t user_addr, uint64_t n,
		   struct ibd_window *w);
/* Number of the window (as ibd_window_nth counts) holding iova, or -ERANGE. */
int64_t ibd_window_of(const struct ibd *d, uint64_t user_addr, uint64_t iova);
/* Pin the window at start_index now (what a window record reports). */
int ibd_map_at(struct ibd *d, uint64_t start_index);

#endif /* IOVA_BITMAP_DECODE_H */
