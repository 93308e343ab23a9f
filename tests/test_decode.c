// SPDX-License-Identifier: GPL-2.0
/*
 * test_decode.c - the decode library and `iovatop decode`.
 *
 * In-range calls are checked against a naive per-bit model of the rule
 * (fixed seeds, thousands of calls); the calls drivers should never make
 * are checked against values worked out by hand from the kernel sources
 * (each test says which lines); the kernel's selftest shapes run with the
 * user buffer offset by a page and by 0xff1. The CLI tests run the real
 * binary ($IOVATOP, exported by make check) and check exit codes, stderr
 * sentences and the exact bytes written.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "iova_bitmap_decode.h"

#define KB	1024ULL
#define MB	(1024 * KB)
#define GB	(1024 * MB)
#define PG	4096ULL

/* ---- a naive per-bit model ------------------------------------------ */

static uint64_t rng_state;

static uint64_t rnd(void)
{
	/* xorshift64: fixed seeds give the same calls on every machine */
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

static uint64_t rnd_below(uint64_t n)
{
	return n ? rnd() % n : 0;
}

struct naive {
	uint64_t base, nbits;
	unsigned int shift;
	unsigned char *bit;	/* one byte per bit: nothing clever */
};

static void naive_init(struct naive *n, uint64_t base, uint64_t length,
		       unsigned int shift)
{
	n->base = base;
	n->shift = shift;
	n->nbits = ((length - 1) >> shift) + 1;
	n->bit = calloc(n->nbits, 1);
	assert_non_null(n->bit);
}

/* The current rule for an in-range call: pages first..last. */
static void naive_set_current(struct naive *n, uint64_t iova, uint64_t len)
{
	uint64_t b;

	for (b = (iova - n->base) >> n->shift;
	     b <= (iova + len - 1 - n->base) >> n->shift; b++)
		n->bit[b] = 1;
}

/* The 6.1.0 rule for an in-range call: max(1, len >> shift) bits. */
static void naive_set_v6_1_0(struct naive *n, uint64_t iova, uint64_t len)
{
	uint64_t first = (iova - n->base) >> n->shift, cnt = len >> n->shift, b;

	if (!cnt)
		cnt = 1;
	for (b = first; b < first + cnt; b++)
		n->bit[b] = 1;
}

/* Every bit of d->words equals the model; tail bits and spill are zero. */
static void assert_same(const struct ibd *d, const struct naive *n)
{
	uint64_t b, set = 0;

	assert_int_equal(d->nbits, n->nbits);
	for (b = 0; b < d->nwords * 64; b++) {
		int got = (int)((d->words[b / 64] >> (b % 64)) & 1);
		int want = b < n->nbits ? n->bit[b] : 0;

		if (got != want)
			fail_msg("bit %llu: decoder %d, naive model %d",
				 (unsigned long long)b, got, want);
		set += (uint64_t)want;
	}
	assert_int_equal(ibd_count(d), set);
	assert_int_equal(d->spill_bits, 0);
	assert_int_equal(d->under_bits, 0);
	assert_int_equal(d->wild_bits, 0);
}

static int bit_is_set(const struct ibd *d, uint64_t b)
{
	return (int)((d->words[b / 64] >> (b % 64)) & 1);
}

/* ---- kernel selftest shapes ----------------------------------------- */

/*
 * tools/testing/selftests/iommu/iommufd.c dirty-tracking fixtures: buffer
 * sizes chosen so the bitmap is under a word, a word, a page, over a page,
 * several pages; each run with the bitmap page aligned, a page further,
 * and at +0xff1 so that it straddles a page boundary.
 */
struct shape {
	uint64_t buffer_size;
	uint64_t buf_offset;
};

static struct shape shapes[] = {
	{ 8 * KB, 0 }, { 8 * KB, PG }, { 8 * KB, 0xff1 },
	{ 16 * KB, 0 }, { 16 * KB, PG }, { 16 * KB, 0xff1 },
	{ 128 * KB, 0 }, { 128 * KB, PG }, { 128 * KB, 0xff1 },
	{ 256 * KB, 0 }, { 256 * KB, PG }, { 256 * KB, 0xff1 },
	{ 640 * KB, 0 }, { 640 * KB, PG }, { 640 * KB, 0xff1 },
	{ 128 * MB, 0 }, { 128 * MB, PG }, { 128 * MB, 0xff1 },
};

/*
 * As the selftest's mock domain reports: one iova_bitmap_set(iova, 2048)
 * per dirty 2 KiB IO page, at the IOVA the mock aperture starts at, for
 * bitmap page sizes of 2 KiB (one call a bit) and 4 KiB (two calls a bit),
 * with every page dirty, every other page, and a random half; all rules
 * agree on these in-range calls.
 */
static void test_selftest_shape(void **state)
{
	const struct shape *sh = *state;
	static const uint64_t psizes[] = { 2048, 4096 };
	uint64_t base = 16 * MB, mock = 2048;
	size_t p;
	int pattern, rule;

	for (p = 0; p < 2; p++) {
		for (pattern = 0; pattern < 3; pattern++) {
			for (rule = 0; rule < 3; rule++) {
				struct ibd d;
				struct naive n;
				uint64_t iova;

				rng_state = 0x5e1f7e57 + pattern;
				assert_int_equal(ibd_init(&d, base, sh->buffer_size,
							  psizes[p], rule), 0);
				ibd_set_user_addr(&d, 0x7f0000000000ULL + sh->buf_offset);
				naive_init(&n, base, sh->buffer_size,
					   (unsigned int)__builtin_ctzll(psizes[p]));
				for (iova = base; iova < base + sh->buffer_size;
				     iova += mock) {
					uint64_t i = (iova - base) / mock;

					if (pattern == 1 && (i & 1))
						continue;
					if (pattern == 2 && (rnd() & 1))
						continue;
					assert_int_equal(ibd_set(&d, iova, mock), IBD_OK);
					if (rule == IBD_RULE_V6_1_0)
						naive_set_v6_1_0(&n, iova, mock);
					else
						naive_set_current(&n, iova, mock);
				}
				if (rule == IBD_RULE_V6_1_0 && sh->buf_offset % PG &&
				    sh->buf_offset % PG + d.nwords * 8 > PG) {
					/*
					 * 6.1.0 pins too few pages for a bitmap
					 * that straddles a page and ignores the
					 * offset past the first chunk: bits go
					 * astray ("vfio/iova_bitmap: Fix
					 * PAGE_SIZE unaligned bitmaps").
					 */
					if (pattern == 0)
						assert_true(d.wild_bits > 0);
				} else {
					assert_same(&d, &n);
					if (pattern == 0)
						assert_int_equal(ibd_count(&d), d.nbits);
				}
				assert_int_equal(d.anomalies, 0);
				assert_int_equal(d.lost_bits, 0);
				free(n.bit);
				ibd_free(&d);
			}
		}
	}
}

/* ---- random in-range calls against the naive model ------------------ */

struct geometry {
	uint64_t base, length, page;
	unsigned int shift;
};

static void random_geometry(struct geometry *g, unsigned int min_shift,
			    unsigned int max_shift, uint64_t max_bits)
{
	uint64_t nbits;

	g->shift = min_shift + (unsigned int)rnd_below(max_shift - min_shift + 1);
	g->page = 1ULL << g->shift;
	nbits = 1 + rnd_below(max_bits);
	/* unaligned base and end half of the time */
	g->length = nbits * g->page - (rnd() & 1 ? rnd_below(g->page) : 0);
	g->base = rnd_below(1ULL << 50);
	if (rnd() & 1)
		g->base &= ~(g->page - 1);
}

static void random_calls(enum ibd_rule rule, uint64_t seed, int bitmaps,
			 int calls, uint64_t buf_offset)
{
	int i, c;

	rng_state = seed;
	for (i = 0; i < bitmaps; i++) {
		struct geometry g;
		struct ibd d;
		struct naive n;

		random_geometry(&g, 12, 30, 5000);
		assert_int_equal(ibd_init(&d, g.base, g.length, g.page, rule), 0);
		ibd_set_user_addr(&d, buf_offset);
		naive_init(&n, g.base, g.length, g.shift);
		for (c = 0; c < calls; c++) {
			uint64_t off = rnd_below(g.length);
			uint64_t room = g.length - off, len;

			/* short calls (one or two pages) and long runs */
			if (rnd() & 1)
				len = 1 + rnd_below(room < 2 * g.page ? room : 2 * g.page);
			else
				len = 1 + rnd_below(room);
			assert_int_equal(ibd_set(&d, g.base + off, len), IBD_OK);
			if (rule == IBD_RULE_V6_1_0)
				naive_set_v6_1_0(&n, g.base + off, len);
			else
				naive_set_current(&n, g.base + off, len);
		}
		assert_same(&d, &n);
		assert_int_equal(d.set_calls, (uint64_t)calls);
		free(n.bit);
		ibd_free(&d);
	}
}

static void test_random_current(void **state)
{
	(void)state;
	random_calls(IBD_RULE_CURRENT, 1, 200, 25, 0);
}

static void test_random_current_unaligned_buffer(void **state)
{
	(void)state;
	random_calls(IBD_RULE_CURRENT, 2, 200, 25, 0xff1);
}

static void test_random_v6_1_y(void **state)
{
	(void)state;
	random_calls(IBD_RULE_V6_1_Y, 3, 200, 25, 0);
	random_calls(IBD_RULE_V6_1_Y, 4, 100, 25, 0xff1);
}

static void test_random_v6_1_0(void **state)
{
	(void)state;
	/* 6.1.0 ignores the buffer's page offset, so only aligned buffers
	 * follow the formula; see test_v6_1_0_unaligned_buffer */
	random_calls(IBD_RULE_V6_1_0, 5, 200, 25, 0);
	random_calls(IBD_RULE_V6_1_0, 6, 100, 25, 8 * 100);
}

/* The rules differ exactly where the current rule rounds the end up. */
static void test_rules_differ_on_unaligned_calls(void **state)
{
	struct ibd cur, old;

	(void)state;
	assert_int_equal(ibd_init(&cur, 0, 64 * PG, PG, IBD_RULE_CURRENT), 0);
	assert_int_equal(ibd_init(&old, 0, 64 * PG, PG, IBD_RULE_V6_1_0), 0);
	/* half a page into page 1, one page long: pages 1 and 2 */
	ibd_set(&cur, PG + PG / 2, PG);
	ibd_set(&old, PG + PG / 2, PG);
	assert_int_equal(cur.words[0], 0x6);
	assert_int_equal(old.words[0], 0x2);
	/* a 100-byte call: one page for both */
	ibd_set(&cur, 10 * PG + 5, 100);
	ibd_set(&old, 10 * PG + 5, 100);
	assert_true(bit_is_set(&cur, 10) && bit_is_set(&old, 10));
	/* three pages minus one byte from a page start: 3 bits vs 2 */
	ibd_set(&cur, 20 * PG, 3 * PG - 1);
	ibd_set(&old, 20 * PG, 3 * PG - 1);
	assert_int_equal(ibd_count_range(&cur, 20, 3), 3);
	assert_int_equal(ibd_count_range(&old, 20, 3), 2);
	ibd_free(&cur);
	ibd_free(&old);
}

/* ---- page sizes and IOVAs near 2^64 --------------------------------- */

static void test_page_sizes_4k_to_1g(void **state)
{
	unsigned int shift;

	(void)state;
	for (shift = 12; shift <= 30; shift++) {
		uint64_t ps = 1ULL << shift;
		struct ibd d;
		int rule;

		for (rule = 0; rule < 3; rule++) {
			assert_int_equal(ibd_init(&d, 3 * ps, 100 * ps, ps, rule), 0);
			assert_int_equal(d.pgshift, shift);
			assert_int_equal(d.nbits, 100);
			assert_int_equal(d.nwords, 2);
			/* the last page, one byte of it */
			ibd_set(&d, 3 * ps + 99 * ps + ps - 1, 1);
			/* pages 0..63 in one call */
			ibd_set(&d, 3 * ps, 64 * ps);
			assert_int_equal(d.words[0], ~0ULL);
			assert_int_equal(d.words[1], 1ULL << 35);
			assert_int_equal(ibd_count(&d), 65);
			ibd_free(&d);
		}
	}
}

static void test_init_rejects_bad_geometry(void **state)
{
	struct ibd d;

	(void)state;
	assert_int_equal(ibd_init(&d, 0, PG, 3000, IBD_RULE_CURRENT), -EINVAL);
	assert_int_equal(ibd_init(&d, 0, PG, 0, IBD_RULE_CURRENT), -EINVAL);
	assert_int_equal(ibd_init(&d, 0, 0, PG, IBD_RULE_CURRENT), -EINVAL);
	/* the last byte would be 2^64 */
	assert_int_equal(ibd_init(&d, UINT64_MAX - PG + 2, PG, PG,
				  IBD_RULE_CURRENT), -EINVAL);
	/* v5 computes 1 << pgshift in an int */
	assert_int_equal(ibd_init(&d, 0, 4 * GB, 2 * GB, IBD_RULE_V6_1_0), -EINVAL);
	assert_int_equal(ibd_init(&d, 0, 4 * GB, 2 * GB, IBD_RULE_CURRENT), 0);
	ibd_free(&d);
	assert_int_equal(ibd_init(&d, 0, PG, PG, (enum ibd_rule)7), -EINVAL);
	/* exactly up to 2^64 - 1 is fine */
	assert_int_equal(ibd_init(&d, UINT64_MAX - PG + 1, PG, PG,
				  IBD_RULE_CURRENT), 0);
	assert_int_equal(d.nbits, 1);
	ibd_free(&d);
}

static void test_iova_near_2_64(void **state)
{
	uint64_t base = 0 - 16 * PG;	/* the last 16 pages of the space */
	struct ibd d;
	int rule;

	(void)state;
	for (rule = 0; rule < 3; rule++) {
		assert_int_equal(ibd_init(&d, base, 16 * PG, PG, rule), 0);
		assert_int_equal(ibd_set(&d, UINT64_MAX, 1), IBD_OK);
		assert_int_equal(ibd_set(&d, base, PG), IBD_OK);
		assert_int_equal(ibd_set(&d, base + 4 * PG + 7, 2 * PG), IBD_OK);
		assert_int_equal(d.words[0],
				 rule == IBD_RULE_V6_1_0 ? 0x8031 : 0x8071);
		assert_int_equal(ibd_classify(&d, UINT64_MAX, 2), IBD_WRAPS);
		ibd_free(&d);
	}
}

/*
 * 6.12 iova_bitmap_set() with a call that wraps past 2^64 inside the top
 * page: nothing pinned yet, so advance_to(iova) pins from byte 1 (pgoff 1,
 * two pages); cur_bit = 7 + 8, last_bit = ((4095 - mapped.iova) >> 12) + 8
 * = 16: bit 15 (page 2^64 - 4096) and bit 16, a tail bit of the only word.
 */
static void test_wrapping_call_current(void **state)
{
	uint64_t base = 0 - 16 * PG;
	struct ibd d;

	(void)state;
	assert_int_equal(ibd_init(&d, base, 16 * PG, PG, IBD_RULE_CURRENT), 0);
	assert_int_equal(ibd_set(&d, 0 - PG, 2 * PG), IBD_WRAPS);
	assert_int_equal(d.words[0], (1ULL << 15) | (1ULL << 16));
	assert_int_equal(ibd_count(&d), 1);
	assert_int_equal(d.anomalies, 1);
	assert_int_equal(d.spill_bits, 0);
	ibd_free(&d);
}

/* ---- calls outside the bitmap --------------------------------------- */

/*
 * Below the base: 6.12 advance_to() finds (iova - base) >> shift wrapped
 * past mapped_total_index and returns; 6.1.y computes a page index that
 * truncates to a huge unsigned int and breaks. Nothing is written.
 */
static void test_below_base_writes_nothing(void **state)
{
	struct ibd d;
	int rule;

	(void)state;
	for (rule = 0; rule < 3; rule++) {
		assert_int_equal(ibd_init(&d, 1 * GB, 1 * GB, PG, rule), 0);
		assert_int_equal(ibd_set(&d, 1 * GB - PG, PG), IBD_BELOW_BASE);
		assert_int_equal(ibd_set(&d, 0, PG), IBD_BELOW_BASE);
		assert_int_equal(ibd_count(&d), 0);
		assert_int_equal(d.anomalies, 2);
		assert_int_equal(d.spill_bits + d.under_bits, 0);
		if (rule != IBD_RULE_V6_1_0)
			assert_int_equal(d.wild_bits, 0);
		ibd_free(&d);
	}
}

/*
 * 6.1.y with the buffer at +0xff1: a call one page below the window makes
 * cur_bit = 2^52 - 1 + 0xff1 * 8, which wraps into page 0 at bit
 * 0xff1 * 8 - 1: the last bit of the byte before the user's array.
 */
static void test_v6_1_y_below_base_writes_before_buffer(void **state)
{
	struct ibd d;

	(void)state;
	assert_int_equal(ibd_init(&d, 1 * GB, 1 * GB, PG, IBD_RULE_V6_1_Y), 0);
	ibd_set_user_addr(&d, 0xff1);
	assert_int_equal(ibd_set(&d, 1 * GB - PG, PG), IBD_BELOW_BASE);
	assert_int_equal(ibd_count(&d), 0);
	assert_int_equal(d.under_bits, 1);
	/*
	 * A call from there into the bitmap: last_bit = 32649 is below the
	 * wrapped cur_bit, so last_bit - cur_bit + 1 is huge and nbits is
	 * the rest of page 0: the bit before the array and bits 0..119.
	 */
	assert_int_equal(ibd_set(&d, 1 * GB - PG, 3 * PG), IBD_BELOW_BASE);
	assert_int_equal(ibd_count(&d), 120);
	assert_int_equal(d.words[0], ~0ULL);
	assert_int_equal(d.under_bits, 1);
	ibd_free(&d);
}

/*
 * Calls that start past the end. 100 pages: 13 bytes of index (6.12,
 * 6.1.y), 2 words of array. At exactly base + length the byte index is
 * still 12 < mapped_total_index, so every rule sets bit 100, a tail bit of
 * the array. Further on 6.12's advance_to() refuses the index; 6.1.y and
 * 6.1.0 still write wherever the pinned page reaches (bit 120: the tail;
 * bit 200: after the array); far away 6.1.y finds no pinned page and 6.1.0
 * reads a pages[] entry it never pinned.
 */
static void test_beyond_end(void **state)
{
	struct ibd d;
	int rule;

	(void)state;
	for (rule = 0; rule < 3; rule++) {
		int iter = rule != IBD_RULE_CURRENT;

		assert_int_equal(ibd_init(&d, 0, 100 * PG, PG, rule), 0);
		assert_int_equal(ibd_set(&d, 100 * PG, PG), IBD_BEYOND_END);
		assert_int_equal(d.words[1], 1ULL << 36);
		assert_int_equal(ibd_set(&d, 120 * PG, PG), IBD_BEYOND_END);
		assert_int_equal(d.words[1], (1ULL << 36) | (iter ? 1ULL << 56 : 0));
		assert_int_equal(ibd_set(&d, 200 * PG, PG), IBD_BEYOND_END);
		assert_int_equal(d.spill_bits, iter ? 1 : 0);
		assert_int_equal(ibd_set(&d, 5 * GB, 10 * PG), IBD_BEYOND_END);
		assert_int_equal(d.wild_bits, rule == IBD_RULE_V6_1_0 ? 10 : 0);
		assert_int_equal(ibd_count(&d), 0);
		assert_int_equal(d.anomalies, 4);
		ibd_free(&d);
	}
}

/*
 * A call that starts inside and crosses the end: the kernel computes
 * last_bit past nbits and sets every bit up to it that lies in a pinned
 * page. Bits 100..127 are the last word's tail: in the user's array, so in
 * the output. Bits from 128 on are after the array: counted, not stored.
 */
static void test_crosses_end_sets_tail_and_spill(void **state)
{
	struct ibd d;
	int rule;

	(void)state;
	for (rule = 0; rule < 3; rule++) {
		assert_int_equal(ibd_init(&d, 0, 100 * PG, PG, rule), 0);
		assert_int_equal(ibd_set(&d, 98 * PG, 10 * PG), IBD_CROSSES_END);
		assert_int_equal(d.words[1], 0x3ffULL << 34);
		assert_int_equal(ibd_count(&d), 2);
		assert_int_equal(d.spill_bits, 0);
		assert_int_equal(ibd_set(&d, 99 * PG, 100 * PG), IBD_CROSSES_END);
		assert_int_equal(d.words[1], ~0ULL << 34);
		assert_int_equal(d.spill_bits, 199 - 128);
		assert_int_equal(d.anomalies, 2);
		ibd_free(&d);
	}
}

/*
 * 6.12, a bitmap of exactly one page of bitmap and a call from its last
 * byte to far past the end: advance_to() pins from byte 4095, which is not
 * page aligned, so iova_bitmap_get() asks for one page more. The kernel
 * fills both pinned pages, then the carried-over rest indexes past
 * mapped_total_index and it returns: 8 bits in the array, the whole next
 * page after it (at +0xff1 the window starts at 0xff0 into a page, so 120
 * bits more spill out of the first page too).
 */
static void test_crosses_end_fills_pinned_pages(void **state)
{
	struct ibd d;

	(void)state;
	assert_int_equal(ibd_init(&d, 0, 32768 * PG, PG, IBD_RULE_CURRENT), 0);
	assert_int_equal(ibd_set(&d, 32760 * PG, 1 * GB), IBD_CROSSES_END);
	assert_int_equal(ibd_count(&d), 8);
	assert_int_equal(d.map.npages, 2);
	assert_int_equal(d.spill_bits, 32768);
	ibd_set_user_addr(&d, 0xff1);
	ibd_clear(&d);
	ibd_set(&d, 32760 * PG, 1 * GB);
	assert_int_equal(ibd_count(&d), 8);
	assert_int_equal(d.map.pgoff, 0xff0);
	assert_int_equal(d.spill_bits, 120 + 32768);
	ibd_free(&d);
}

/*
 * Zero length on 6.12: last_bit is computed from iova - 1. Inside a pinned
 * window and off a page boundary that is cur_bit's own page (one bit); on
 * a page boundary last_bit = cur_bit - 1 and nbits = 0 (nothing).
 */
static void test_zero_length_current(void **state)
{
	struct ibd d;

	(void)state;
	assert_int_equal(ibd_init(&d, 0x10000, 256 * PG, PG, IBD_RULE_CURRENT), 0);
	ibd_set(&d, 0x10000, PG);		/* pins the window */
	assert_int_equal(ibd_set(&d, 0x10000 + 5 * PG + 1, 0), IBD_ZERO_LENGTH);
	assert_int_equal(ibd_set(&d, 0x10000 + 9 * PG, 0), IBD_ZERO_LENGTH);
	assert_int_equal(d.words[0], 0x21);
	assert_int_equal(d.hangs, 0);
	ibd_free(&d);
}

/*
 * Zero length at the start of the pinned window (here its first call, at
 * a base that is not 0): last_bit = ((mapped.iova - 1 - mapped.iova) >>
 * shift) + pgoff * 8 = 2^52 - 1, so the kernel fills the pinned page,
 * carries over a length of 2^64 - 2^27 that maps back into the same
 * window, and loops for ever re-checking it.
 */
static void test_zero_length_at_window_start_hangs(void **state)
{
	struct ibd d;

	(void)state;
	assert_int_equal(ibd_init(&d, 0x1000, 256 * PG, PG, IBD_RULE_CURRENT), 0);
	assert_int_equal(ibd_set(&d, 0x1000, 0), IBD_ZERO_LENGTH);
	assert_int_equal(d.hangs, 1);
	assert_int_equal(ibd_count(&d), 256);
	assert_int_equal(d.spill_bits, 32768 - 256);
	ibd_free(&d);
}

/*
 * With base 0 the same call returns: mapped.iova - 1 wraps to 2^64 - 1,
 * past the window, so advance_to() runs and finds the carried-over IOVA
 * (2^27) past the bitmap. The page is filled and the call returns.
 */
static void test_zero_length_at_iova_0(void **state)
{
	struct ibd d;

	(void)state;
	assert_int_equal(ibd_init(&d, 0, 256 * PG, PG, IBD_RULE_CURRENT), 0);
	assert_int_equal(ibd_set(&d, 0, 0), IBD_ZERO_LENGTH);
	assert_int_equal(d.hangs, 0);
	assert_int_equal(ibd_count(&d), 256);
	assert_int_equal(d.spill_bits, 32768 - 256);
	/* at +0xff1 two pages are pinned: the tail of the first, all of the next */
	ibd_set_user_addr(&d, 0xff1);
	ibd_clear(&d);
	ibd_set(&d, 0, 0);
	assert_int_equal(ibd_count(&d), 256);
	assert_int_equal(d.spill_bits, (4096 - 0xff1) * 8 + 32768 - 256);
	ibd_free(&d);
}

/* Zero length on 6.1.0: max(1, 0 >> shift) = one bit, always. */
static void test_zero_length_v6_1_0(void **state)
{
	struct ibd d;

	(void)state;
	assert_int_equal(ibd_init(&d, 0x1000, 256 * PG, PG, IBD_RULE_V6_1_0), 0);
	assert_int_equal(ibd_set(&d, 0x1000, 0), IBD_ZERO_LENGTH);
	assert_int_equal(ibd_set(&d, 0x1000 + 7 * PG, 0), IBD_ZERO_LENGTH);
	assert_int_equal(d.words[0], 0x81);
	ibd_free(&d);
}

/*
 * 6.1.0 ignores the buffer's page offset past the first chunk: a call
 * spanning two pages of bitmap writes its second part pgoff bytes early
 * (mapped->pages[1] at offset 0 instead of the user's next byte).
 */
static void test_v6_1_0_unaligned_buffer(void **state)
{
	struct ibd d;
	uint64_t nb = 3 * 32768;	/* three pages of bitmap */

	(void)state;
	assert_int_equal(ibd_init(&d, 0, nb * PG, PG, IBD_RULE_V6_1_0), 0);
	ibd_set_user_addr(&d, 0x100);
	/* bits 32760..32775: 8 in page 0, the rest written at page 1 + 0 */
	ibd_set(&d, 32760 * PG, 16 * PG);
	assert_int_equal(ibd_count_range(&d, 32760, 16), 0);
	/* the first 8 bits ran past kaddr + 0x100 + 4095: not in the user page */
	assert_int_equal(d.wild_bits, 8);
	/* the other 8 landed 0x100 bytes before where they belong */
	assert_int_equal(ibd_count_range(&d, 32768 - 0x100 * 8, 8), 8);
	assert_int_equal(ibd_count(&d), 8);
	ibd_free(&d);
}

/* ---- windows -------------------------------------------------------- */

/* 4 KiB pages: a window is 2 MiB of bitmap, 2^24 bits, 64 GiB of IOVA. */
#define WBITS	(2 * MB * 8)

static void test_window_nth_v6_1_y(void **state)
{
	struct ibd d;
	struct ibd_window w;

	(void)state;
	assert_int_equal(ibd_init(&d, 0, (2 * WBITS + 1000) * PG, PG,
				  IBD_RULE_V6_1_Y), 0);
	/* aligned: 512 pages, 64 GiB each, then the 1000-bit rest */
	assert_int_equal(ibd_window_nth(&d, 0x10000, 0, &w), 0);
	assert_int_equal(w.npages, 512);
	assert_int_equal(w.length, 64 * GB);
	assert_int_equal(ibd_window_nth(&d, 0x10000, 1, &w), 0);
	assert_int_equal(w.base_index, 2 * MB);
	assert_int_equal(w.iova, 64 * GB);
	assert_int_equal(ibd_window_nth(&d, 0x10000, 2, &w), 0);
	assert_int_equal(w.first_bit, 2 * WBITS);
	assert_int_equal(w.length, 1000 * PG);
	assert_int_equal(w.npages, 1);
	assert_int_equal(ibd_window_nth(&d, 0x10000, 3, &w), -ERANGE);
	/* at +0xff1 the first window is 0xff1 bytes shorter */
	assert_int_equal(ibd_window_nth(&d, 0x10ff1, 0, &w), 0);
	assert_int_equal(w.pgoff, 0xff1);
	assert_int_equal(w.length, (2 * MB - 0xff1) * 8 * PG);
	assert_int_equal(ibd_window_nth(&d, 0x10ff1, 1, &w), 0);
	assert_int_equal(w.base_index, 2 * MB - 0xff1);
	assert_int_equal(w.pgoff, 0);
	ibd_free(&d);
}

/*
 * Kernel pages of 16 KiB (arm64): the kernel pins up to PAGE_SIZE / 8 =
 * 2048 pages, 32 MiB of bitmap, 2^28 bits, 1 TiB of IOVA at 4 KiB bits,
 * and the user buffer's offset is taken within a 16 KiB page. Worked out
 * from iova_bitmap_get() and iova_bitmap_mapped_remaining() of 6.12.
 */
#define WBITS16	(32 * MB * 8)

static void test_kpage_16k_windows(void **state)
{
	struct ibd d;
	struct ibd_window w;

	(void)state;
	assert_int_equal(ibd_init_kpage(&d, 0, (WBITS16 + 1000) * PG, PG,
					IBD_RULE_CURRENT, 16 * KB), 0);
	assert_int_equal(d.kpage_shift, 14);
	assert_int_equal(ibd_window_at(&d, 0, 0, &w), 0);
	assert_int_equal(w.npages, 2048);
	assert_int_equal(w.length, 1024 * GB);
	/* +0x3ff1 is an offset in a 16 KiB page (in a 4 KiB one: 0xff1) */
	assert_int_equal(ibd_window_at(&d, 0x3ff1, 0, &w), 0);
	assert_int_equal(w.pgoff, 0x3ff1);
	assert_int_equal(w.npages, 2048);
	assert_int_equal(w.length, (32 * MB - 0x3ff1) * 8 * PG);
	assert_int_equal(ibd_window_nth(&d, 0, 1, &w), 0);
	assert_int_equal(w.iova, 1024 * GB);
	assert_int_equal(w.npages, 1);
	assert_int_equal(w.length, 1000 * PG);
	assert_int_equal(ibd_window_of(&d, 0, 1024 * GB - 1), 0);
	assert_int_equal(ibd_window_of(&d, 0, 1024 * GB), 1);
	assert_int_equal(ibd_window_of(&d, 0x3ff1, 1024 * GB - 1), 1);
	ibd_free(&d);

	/* the same bitmap with 4 KiB kernel pages: windows of 64 GiB */
	assert_int_equal(ibd_init(&d, 0, (WBITS16 + 1000) * PG, PG,
				  IBD_RULE_CURRENT), 0);
	assert_int_equal(ibd_window_at(&d, 0x3ff1, 0, &w), 0);
	assert_int_equal(w.npages, 512);
	assert_int_equal(w.pgoff, 0xff1);
	assert_int_equal(ibd_window_of(&d, 0, 1024 * GB - 1), 15);
	ibd_free(&d);

	/*
	 * 6.1.y stops a call at the last pinned page: at 64 GiB a 4 KiB
	 * kernel's window ends and two of four bits are lost; a 16 KiB
	 * kernel's window runs on to 1 TiB and sets all four.
	 */
	assert_int_equal(ibd_init_kpage(&d, 0, (WBITS16 + 1000) * PG, PG,
					IBD_RULE_V6_1_Y, 16 * KB), 0);
	assert_int_equal(ibd_set(&d, 64 * GB - 2 * PG, 4 * PG), IBD_OK);
	assert_int_equal(ibd_count(&d), 4);
	assert_int_equal(d.lost_bits, 0);
	ibd_free(&d);
	assert_int_equal(ibd_init(&d, 0, (WBITS16 + 1000) * PG, PG,
				  IBD_RULE_V6_1_Y), 0);
	assert_int_equal(ibd_set(&d, 64 * GB - 2 * PG, 4 * PG), IBD_OK);
	assert_int_equal(ibd_count(&d), 2);
	assert_int_equal(d.lost_bits, 2);
	ibd_free(&d);
}

/*
 * Kernel pages of 64 KiB: a call crossing the end of an 8-byte bitmap at
 * +0x8ff8 writes on through the pinned pages. With 64 KiB pages the
 * buffer's page offset is 0x8ff8 and all 40000 bits past the end land in
 * its first page; with 4 KiB pages (offset 0xff8) the two pinned pages
 * end 32768 bits after the array. Both rules pin two pages here (the
 * buffer is not page aligned), 6.12 from the call's index (7) on.
 */
static void test_kpage_64k_spill(void **state)
{
	static const enum ibd_rule rules[] = { IBD_RULE_CURRENT, IBD_RULE_V6_1_Y };
	unsigned int i;
	struct ibd d;

	(void)state;
	for (i = 0; i < 2; i++) {
		assert_int_equal(ibd_init_kpage(&d, 0, 64 * PG, PG, rules[i],
						64 * KB), 0);
		ibd_set_user_addr(&d, 0x8ff8);
		assert_int_equal(ibd_set(&d, 60 * PG, 40004 * PG), IBD_CROSSES_END);
		assert_int_equal(d.words[0], 0xfULL << 60);
		assert_int_equal(d.spill_bits, 40000);
		assert_int_equal(d.under_bits, 0);
		assert_int_equal(d.wild_bits, 0);
		assert_int_equal(d.hangs, 0);
		ibd_free(&d);

		assert_int_equal(ibd_init(&d, 0, 64 * PG, PG, rules[i]), 0);
		ibd_set_user_addr(&d, 0x8ff8);
		assert_int_equal(ibd_set(&d, 60 * PG, 40004 * PG), IBD_CROSSES_END);
		assert_int_equal(d.words[0], 0xfULL << 60);
		assert_int_equal(d.spill_bits, 32768);
		ibd_free(&d);
	}
}

/* In-range calls set the same bits whatever the kernel's page size. */
static void test_kpage_random_in_range(void **state)
{
	static const uint64_t kpages[] = { 4 * KB, 16 * KB, 64 * KB };
	unsigned int i, k;

	(void)state;
	for (k = 0; k < 3; k++) {
		struct naive n;
		struct ibd d;

		rng_state = 4242 + k;
		assert_int_equal(ibd_init_kpage(&d, 0x40000000, 96 * MB, 2048,
						IBD_RULE_CURRENT, kpages[k]), 0);
		ibd_set_user_addr(&d, 0x10000 + 0x808 * (k + 1));
		naive_init(&n, 0x40000000, 96 * MB, 11);
		for (i = 0; i < 2000; i++) {
			uint64_t iova = 0x40000000 + rnd_below(96 * MB - 1);
			uint64_t len = 1 + rnd_below(96 * MB - (iova - 0x40000000));

			if (rnd_below(4))
				len = 1 + rnd_below(len < 64 * KB ? len : 64 * KB);
			assert_int_equal(ibd_set(&d, iova, len), IBD_OK);
			naive_set_current(&n, iova, len);
		}
		assert_same(&d, &n);
		assert_int_equal(d.lost_bits, 0);
		free(n.bit);
		ibd_free(&d);
	}
	/* what no kernel has */
	assert_false(ibd_kpage_size_ok(0));
	assert_false(ibd_kpage_size_ok(2048));
	assert_false(ibd_kpage_size_ok(12288));
	assert_false(ibd_kpage_size_ok(512 * KB));
	assert_true(ibd_kpage_size_ok(256 * KB));
	{
		struct ibd d;

		assert_int_equal(ibd_init_kpage(&d, 0, PG, PG, IBD_RULE_CURRENT,
						8192 + 4096), -EINVAL);
	}
}

static void test_window_nth_v6_1_0(void **state)
{
	struct ibd d;
	struct ibd_window w;

	(void)state;
	assert_int_equal(ibd_init(&d, 0, (2 * WBITS + 1000) * PG, PG,
				  IBD_RULE_V6_1_0), 0);
	/* u64 indexes; the page offset does not shorten the window */
	assert_int_equal(ibd_window_nth(&d, 0xff1, 0, &w), 0);
	assert_int_equal(w.length, 64 * GB);
	assert_int_equal(ibd_window_nth(&d, 0xff1, 1, &w), 0);
	assert_int_equal(w.base_index, 2 * MB / 8);
	assert_int_equal(w.first_bit, WBITS);
	ibd_free(&d);
}

static void test_window_at_and_of(void **state)
{
	struct ibd d;
	struct ibd_window w;

	(void)state;
	assert_int_equal(ibd_init(&d, 1 * GB, (2 * WBITS + 1000) * PG, PG,
				  IBD_RULE_CURRENT), 0);
	/* 6.11+: a window starts at the byte of the set that missed */
	assert_int_equal(ibd_window_at(&d, 0, 12345, &w), 0);
	assert_int_equal(w.iova, 1 * GB + 12345ULL * 8 * PG);
	assert_int_equal(w.npages, 512);
	assert_int_equal(w.length, (2 * MB - (12345 % 4096)) * 8 * PG);
	assert_int_equal(ibd_window_at(&d, 0, d.total_index, &w), -ERANGE);
	assert_int_equal(ibd_window_of(&d, 0, 1 * GB), 0);
	assert_int_equal(ibd_window_of(&d, 0, 1 * GB + 64 * GB - 1), 0);
	assert_int_equal(ibd_window_of(&d, 0, 1 * GB + 64 * GB), 1);
	assert_int_equal(ibd_window_of(&d, 0, 1 * GB + 128 * GB), 2);
	assert_int_equal(ibd_window_of(&d, 0xff1, 1 * GB + 64 * GB - 1), 1);
	assert_int_equal(ibd_window_of(&d, 0, 1 * GB - 1), -ERANGE);
	ibd_free(&d);
}

/*
 * 6.1.y: a call that crosses from one window into the next stops at the
 * last pinned page (it breaks instead of pinning more); 6.12 re-pins and
 * sets it all.
 */
static void test_window_crossing_call(void **state)
{
	struct ibd cur, y;
	uint64_t iova = (WBITS - 2) * PG;

	(void)state;
	assert_int_equal(ibd_init(&cur, 0, 2 * WBITS * PG, PG, IBD_RULE_CURRENT), 0);
	assert_int_equal(ibd_init(&y, 0, 2 * WBITS * PG, PG, IBD_RULE_V6_1_Y), 0);
	assert_int_equal(ibd_set(&cur, iova, 4 * PG), IBD_OK);
	assert_int_equal(ibd_set(&y, iova, 4 * PG), IBD_OK);
	assert_int_equal(ibd_count(&cur), 4);
	assert_int_equal(ibd_count(&y), 2);
	assert_int_equal(y.lost_bits, 2);
	assert_int_equal(cur.lost_bits, 0);
	/* a call inside window 1 pins it first */
	assert_int_equal(ibd_set(&y, (WBITS + 5) * PG, PG), IBD_OK);
	assert_true(bit_is_set(&y, WBITS + 5));
	assert_int_equal(y.map.base_index, 2 * MB);
	/* and back in window 0 */
	assert_int_equal(ibd_set(&y, 3 * PG, PG), IBD_OK);
	assert_true(bit_is_set(&y, 3));
	assert_int_equal(y.map.base_index, 0);
	ibd_free(&cur);
	ibd_free(&y);
}

/* 6.12 pins lazily: nothing before the first set, the set's byte after. */
static void test_lazy_pinning(void **state)
{
	struct ibd d;

	(void)state;
	assert_int_equal(ibd_init(&d, 0, 2 * WBITS * PG, PG, IBD_RULE_CURRENT), 0);
	assert_int_equal(d.map.npages, 0);
	ibd_set(&d, 1000 * 8 * PG, PG);
	assert_int_equal(d.map.base_index, 1000);
	assert_int_equal(d.map.npages, 512);
	assert_int_equal(ibd_map_at(&d, 7), 0);
	assert_int_equal(d.map.base_index, 7);
	assert_int_equal(ibd_map_at(&d, d.total_index), -ERANGE);
	ibd_free(&d);
}

/* ---- index math ----------------------------------------------------- */

static void test_offset_index_math(void **state)
{
	struct ibd cur, old;

	(void)state;
	assert_int_equal(ibd_init(&cur, 0, 1 * GB, PG, IBD_RULE_CURRENT), 0);
	assert_int_equal(ibd_init(&old, 0, 1 * GB, PG, IBD_RULE_V6_1_0), 0);
	/* since "Switch iova_bitmap::bitmap to an u8 array": byte indexes */
	assert_int_equal(cur.index_bits, 8);
	assert_int_equal(ibd_offset_to_index(&cur, 8 * PG), 1);
	assert_int_equal(ibd_offset_to_index(&cur, 8 * PG - 1), 0);
	assert_int_equal(ibd_index_to_offset(&cur, 3), 24 * PG);
	assert_int_equal(cur.total_index, 1 * GB / PG / 8);
	/* 6.1.0: u64 words */
	assert_int_equal(old.index_bits, 64);
	assert_int_equal(ibd_offset_to_index(&old, 64 * PG), 1);
	assert_int_equal(ibd_index_to_offset(&old, 3), 192 * PG);
	assert_int_equal(old.total_index, 1 * GB / PG / 64);
	ibd_free(&cur);
	ibd_free(&old);
}

/* ---- runs, counts, histogram ---------------------------------------- */

struct runs {
	uint64_t first[64], len[64];
	int n, stop_at;
};

static int collect_run(uint64_t first, uint64_t n, void *ctx)
{
	struct runs *r = ctx;

	r->first[r->n] = first;
	r->len[r->n] = n;
	r->n++;
	return r->n == r->stop_at ? 42 : 0;
}

static void test_runs(void **state)
{
	struct ibd d;
	struct runs r = { .stop_at = 0 };

	(void)state;
	assert_int_equal(ibd_init(&d, 0, 300 * PG, PG, IBD_RULE_CURRENT), 0);
	assert_int_equal(ibd_for_each_run(&d, collect_run, &r), 0);
	assert_int_equal(r.n, 0);
	ibd_set(&d, 0, PG);			/* 0 */
	ibd_set(&d, 60 * PG, 70 * PG);		/* 60..129: crosses words */
	ibd_set(&d, 131 * PG, PG);		/* 131 */
	ibd_set(&d, 299 * PG, 10 * PG);		/* 299 + tail bits */
	assert_int_equal(ibd_for_each_run(&d, collect_run, &r), 0);
	assert_int_equal(r.n, 4);
	assert_int_equal(r.first[0], 0);
	assert_int_equal(r.len[0], 1);
	assert_int_equal(r.first[1], 60);
	assert_int_equal(r.len[1], 70);
	assert_int_equal(r.first[2], 131);
	assert_int_equal(r.first[3], 299);
	assert_int_equal(r.len[3], 1);		/* tail bits are not pages */
	r.n = 0;
	r.stop_at = 2;
	assert_int_equal(ibd_for_each_run(&d, collect_run, &r), 42);
	assert_int_equal(r.n, 2);
	ibd_free(&d);
}

static int count_runs_cb(uint64_t first, uint64_t n, void *ctx)
{
	uint64_t *acc = ctx;

	(void)first;
	acc[0]++;
	acc[1] += n;
	return 0;
}

/*
 * Clearing, counting and walking skip the lines of words no set call
 * wrote (struct ibd.touched): after reports of scattered calls on a
 * bitmap of many lines, each cleared before the next, every count, run
 * and histogram equals a scan of every bit, and a clear leaves all zero.
 */
struct run_sum {
	uint64_t bits, runs, last_end;
};

static int sum_run(uint64_t first, uint64_t n, void *ctx)
{
	struct run_sum *r = ctx;

	assert_true(first > r->last_end || !r->runs);
	r->bits += n;
	r->runs++;
	r->last_end = first + n;
	return 0;
}

static void test_touched_lines_lose_no_bit(void **state)
{
	const uint64_t nbits = 64 * IBD_LINE_WORDS * 100 + 77;
	int rep, k;
	struct ibd d;

	(void)state;
	rng_state = 777;
	assert_int_equal(ibd_init(&d, 1ull << 30, nbits * 4096, 4096, IBD_RULE_CURRENT), 0);
	for (rep = 0; rep < 20; rep++) {
		uint64_t want = 0, wruns = 0, b, hist[7], whist[7] = { 0 };
		struct run_sum rs = { 0 };
		bool prev = false;
		size_t w;

		ibd_clear(&d);
		for (w = 0; w < d.nwords; w++)
			assert_true(d.words[w] == 0);
		for (k = 0; k < 1 + rep * 7; k++) {
			uint64_t first = rnd_below(nbits), n = 1 + rnd_below(rep % 3 ? 40 : 2000);

			ibd_set(&d, d.iova + first * 4096, n * 4096);
		}
		for (b = 0; b < nbits; b++) {
			bool on = bit_is_set(&d, b);

			want += on;
			wruns += on && !prev;
			prev = on;
		}
		assert_int_equal(ibd_count(&d), want);
		assert_int_equal(ibd_for_each_run(&d, sum_run, &rs), 0);
		assert_int_equal(rs.bits, want);
		assert_int_equal(rs.runs, wruns);
		ibd_histogram(&d, hist, 7);
		for (k = 0; k < 7; k++) {
			uint64_t lo = nbits * (uint64_t)k / 7, hi = nbits * (uint64_t)(k + 1) / 7;

			for (b = lo; b < hi; b++)
				whist[k] += (uint64_t)bit_is_set(&d, b);
			assert_int_equal(hist[k], whist[k]);
		}
	}
	ibd_free(&d);
}

/*
 * ibd_first_set()/ibd_last_set() against a bit-by-bit scan: random words
 * (tail bits past nbits set too, which must not count), ranges that start
 * or end past nbits, empty ranges and ranges that would wrap.
 */
static void test_first_last_set_against_naive(void **state)
{
	int i, k;

	(void)state;
	rng_state = 4242;
	for (i = 0; i < 200; i++) {
		uint64_t nbits = 1 + rnd_below(1000), w;
		struct ibd d;

		assert_int_equal(ibd_init(&d, 0, nbits * 4096, 4096,
					  IBD_RULE_CURRENT), 0);
		for (w = 0; w < d.nwords; w++)
			d.words[w] = rnd() & rnd() & (i % 3 ? rnd() : ~0ull);
		/* written behind ibd_set()'s back: every line may hold bits */
		ibd_words_written(&d, 0, d.nwords);
		for (k = 0; k < 50; k++) {
			uint64_t first = rnd_below(nbits + 70), b, end;
			uint64_t n = k % 10 == 0 ? 0 : k % 10 == 1 ? UINT64_MAX - first / 2 :
				     rnd_below(nbits + 70);
			uint64_t want_first = UINT64_MAX, want_last = UINT64_MAX;

			end = first >= nbits ? first :
			      n > nbits - first ? nbits : first + n;
			for (b = first; b < end; b++) {
				if (!bit_is_set(&d, b))
					continue;
				if (want_first == UINT64_MAX)
					want_first = b;
				want_last = b;
			}
			if (ibd_first_set(&d, first, n) != want_first ||
			    ibd_last_set(&d, first, n) != want_last)
				fail_msg("nbits %llu [%llu, +%llu): first %llu/%llu last %llu/%llu",
					 (unsigned long long)nbits,
					 (unsigned long long)first, (unsigned long long)n,
					 (unsigned long long)ibd_first_set(&d, first, n),
					 (unsigned long long)want_first,
					 (unsigned long long)ibd_last_set(&d, first, n),
					 (unsigned long long)want_last);
		}
		ibd_free(&d);
	}
}

static void test_runs_random_against_naive(void **state)
{
	int i;

	(void)state;
	rng_state = 77;
	for (i = 0; i < 300; i++) {
		struct geometry g;
		struct ibd d;
		struct naive n;
		uint64_t acc[2] = { 0, 0 }, runs = 0, set = 0, b;
		int c;

		random_geometry(&g, 12, 21, 3000);
		assert_int_equal(ibd_init(&d, g.base, g.length, g.page,
					  IBD_RULE_CURRENT), 0);
		naive_init(&n, g.base, g.length, g.shift);
		for (c = 0; c < 30; c++) {
			uint64_t off = rnd_below(g.length), room = g.length - off;
			uint64_t len = 1 + rnd_below(room < 8 * g.page ? room : 8 * g.page);

			ibd_set(&d, g.base + off, len);
			naive_set_current(&n, g.base + off, len);
		}
		for (b = 0; b < n.nbits; b++) {
			set += n.bit[b];
			runs += n.bit[b] && (!b || !n.bit[b - 1]);
		}
		ibd_for_each_run(&d, count_runs_cb, acc);
		assert_int_equal(acc[0], runs);
		assert_int_equal(acc[1], set);
		assert_int_equal(ibd_count(&d), set);
		/* count_range against the model on random spans */
		for (c = 0; c < 20; c++) {
			uint64_t first = rnd_below(n.nbits), len = rnd_below(n.nbits + 5);
			uint64_t want = 0;

			for (b = first; b < first + len && b < n.nbits; b++)
				want += n.bit[b];
			assert_int_equal(ibd_count_range(&d, first, len), want);
		}
		free(n.bit);
		ibd_free(&d);
	}
}

static void test_histogram(void **state)
{
	struct ibd d;
	uint64_t h[7], sum = 0, one[1], many[500];
	size_t i;

	(void)state;
	assert_int_equal(ibd_init(&d, 0, 100 * PG, PG, IBD_RULE_CURRENT), 0);
	ibd_set(&d, 0, 10 * PG);		/* 0..9 */
	ibd_set(&d, 95 * PG, 10 * PG);		/* 95..99 + tail 100..104 */
	ibd_histogram(&d, h, 4);		/* spans of 25 */
	assert_int_equal(h[0], 10);
	assert_int_equal(h[1], 0);
	assert_int_equal(h[2], 0);
	assert_int_equal(h[3], 5);
	ibd_histogram(&d, h, 7);		/* uneven spans still add up */
	for (i = 0; i < 7; i++)
		sum += h[i];
	assert_int_equal(sum, 15);
	ibd_histogram(&d, one, 1);
	assert_int_equal(one[0], 15);
	ibd_histogram(&d, many, 500);		/* more buckets than bits */
	for (sum = 0, i = 0; i < 500; i++)
		sum += many[i];
	assert_int_equal(sum, 15);
	ibd_free(&d);
}

static void test_clear_keeps_geometry(void **state)
{
	struct ibd d;

	(void)state;
	assert_int_equal(ibd_init(&d, 0, 100 * PG, PG, IBD_RULE_CURRENT), 0);
	ibd_set(&d, 99 * PG, 100 * PG);
	ibd_set(&d, 0x1000000000ULL, 1);
	assert_true(d.spill_bits > 0);
	ibd_clear(&d);
	assert_int_equal(ibd_count(&d), 0);
	assert_int_equal(d.words[1], 0);
	assert_int_equal(d.set_calls + d.anomalies + d.spill_bits, 0);
	assert_int_equal(d.nbits, 100);
	assert_int_equal(d.map.npages, 0);
	ibd_free(&d);
}

/*
 * The strict rule (6.12.118): a call not wholly inside the bitmap sets no
 * bit, not even its part inside, and is counted as refused; the calls in
 * range around it set theirs as under the current rule, which writes the
 * inside part of a call crossing the end.
 */
static void test_strict_refuses_out_of_range(void **state)
{
	static const struct { uint64_t iova, len; } calls[] = {
		{ 0x10000, 0x2000 },			/* in range: bits 0, 1 */
		{ 0x10000 + 0x3e000, 0x4000 },		/* crosses the end */
		{ 0xf000, 0x2000 },			/* starts below the base */
		{ 0x10000 + 0x40000, 0x1000 },		/* past the end */
		{ 0x10000 + 0x5000, 0 },		/* zero length */
		{ 0x10000 + 0x8000, 0x1000 },		/* in range: bit 8 */
	};
	struct ibd s, c;
	unsigned int i;

	(void)state;
	assert_int_equal(ibd_init(&s, 0x10000, 0x40000, 0x1000, IBD_RULE_STRICT), 0);
	assert_int_equal(ibd_init(&c, 0x10000, 0x40000, 0x1000, IBD_RULE_CURRENT), 0);
	for (i = 0; i < sizeof(calls) / sizeof(calls[0]); i++) {
		assert_int_equal(ibd_set(&s, calls[i].iova, calls[i].len),
				 ibd_set(&c, calls[i].iova, calls[i].len));
	}
	assert_int_equal(s.words[0], 0x103);
	assert_int_equal(s.rejected, 4);
	assert_int_equal(s.anomalies, 4);
	assert_int_equal(s.set_calls, 6);
	/* the current rule wrote the last two pages of the crossing call */
	assert_int_equal(c.rejected, 0);
	assert_true(ibd_count(&c) > ibd_count(&s));
	ibd_free(&s);
	ibd_free(&c);
}

static void test_rule_names(void **state)
{
	(void)state;
	assert_int_equal(ibd_rule_parse("current"), IBD_RULE_CURRENT);
	assert_int_equal(ibd_rule_parse("v6.1"), IBD_RULE_V6_1_0);
	assert_int_equal(ibd_rule_parse("v6.1.0"), IBD_RULE_V6_1_0);
	assert_int_equal(ibd_rule_parse("v6.1.y"), IBD_RULE_V6_1_Y);
	assert_int_equal(ibd_rule_parse("strict"), IBD_RULE_STRICT);
	assert_string_equal(ibd_rule_name(IBD_RULE_STRICT), "strict");
	assert_int_equal(ibd_rule_parse("6.1"), -1);
	assert_string_equal(ibd_rule_name(IBD_RULE_V6_1_Y), "v6.1.y");
	assert_string_equal(ibd_anomaly_name(IBD_CROSSES_END), "crosses the end");
}

/* ---- iovatop decode, the binary ------------------------------------- */

struct run {
	int status;		/* exit code, or -1 if it did not exit */
	char out[65536];
	size_t out_len;
	char err[8192];
};

static void slurp(int fd, char *buf, size_t cap, size_t *len)
{
	ssize_t n;
	size_t got = 0;

	lseek(fd, 0, SEEK_SET);
	while (got < cap - 1 && (n = read(fd, buf + got, cap - 1 - got)) > 0)
		got += (size_t)n;
	buf[got] = '\0';
	if (len)
		*len = got;
}

/* Run $IOVATOP decode ARGS... with input on stdin; NULL-terminated args. */
static void run_decode(struct run *r, const char *input, ...)
{
	const char *bin = getenv("IOVATOP");
	char *argv[32];
	int in, out, err, argc = 0, status;
	char tin[] = "/tmp/iovatop-dec-in-XXXXXX";
	char tout[] = "/tmp/iovatop-dec-out-XXXXXX";
	char terr[] = "/tmp/iovatop-dec-err-XXXXXX";
	va_list ap;
	pid_t pid;

	if (!bin)
		fail_msg("IOVATOP is not set: run the tests with make check");
	argv[argc++] = (char *)bin;
	argv[argc++] = (char *)"decode";
	va_start(ap, input);
	while (argc < 31 && (argv[argc] = va_arg(ap, char *)))
		argc++;
	va_end(ap);
	argv[argc] = NULL;
	in = mkstemp(tin);
	out = mkstemp(tout);
	err = mkstemp(terr);
	assert_true(in >= 0 && out >= 0 && err >= 0);
	unlink(tin);
	unlink(tout);
	unlink(terr);
	assert_int_equal(write(in, input, strlen(input)), (ssize_t)strlen(input));
	lseek(in, 0, SEEK_SET);
	pid = fork();
	assert_true(pid >= 0);
	if (!pid) {
		dup2(in, 0);
		dup2(out, 1);
		dup2(err, 2);
		execv(bin, argv);
		_exit(127);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	r->status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
	slurp(out, r->out, sizeof(r->out), &r->out_len);
	slurp(err, r->err, sizeof(r->err), NULL);
	close(in);
	close(out);
	close(err);
}

static void test_cli_exact_bytes(void **state)
{
	struct run r;
	static const unsigned char want[24] = {
		0x06, 0, 0, 0, 0, 0, 0, 0x80,	/* bits 1, 2, 63 */
		0, 0, 0, 0, 0, 0, 0, 0,
		0x01, 0, 0, 0, 0, 0, 0, 0,	/* bit 128, the last page */
	};

	(void)state;
	run_decode(&r, "0x1800 0x1000\n# a comment\n\n0x3f000 1\n"
		   "0x80fff 1 # the last byte\n",
		   "--iova", "0", "--length", "0x81000", "--page-size", "4096",
		   NULL);
	assert_int_equal(r.status, 0);
	assert_int_equal(r.out_len, 24);	/* ceil(129 / 64) words */
	assert_memory_equal(r.out, want, 24);
	assert_string_equal(r.err, "");
}

static void test_cli_file_argument_and_hex(void **state)
{
	char path[] = "/tmp/iovatop-dec-file-XXXXXX";
	struct run r;
	int fd = mkstemp(path);

	(void)state;
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "0x10000 0x2000\n", 15), 15);
	close(fd);
	run_decode(&r, "", "-i", "0x10000", "-l", "0x100000", "-p", "0x1000",
		   "-x", path, NULL);
	unlink(path);
	assert_int_equal(r.status, 0);
	assert_string_equal(r.out, "0000000000000003\n0000000000000000\n"
			    "0000000000000000\n0000000000000000\n");
}

static void test_cli_rule_v6_1(void **state)
{
	struct run r;

	(void)state;
	run_decode(&r, "0x1800 0x1000\n", "-i", "0", "-l", "0x40000", "-p",
		   "4096", "--rule=v6.1", "-x", NULL);
	assert_int_equal(r.status, 0);
	assert_string_equal(r.out, "0000000000000002\n");
	run_decode(&r, "0x1800 0x1000\n", "-i", "0", "-l", "0x40000", "-p",
		   "4096", "--rule", "v6.1.y", "-x", NULL);
	assert_string_equal(r.out, "0000000000000006\n");
	/* crossing the end: strict sets nothing and says the call was refused */
	run_decode(&r, "0x3f000 0x2000\n0x1000 0x1000\n", "-i", "0", "-l", "0x40000", "-p",
		   "4096", "--rule=strict", "-x", "--stats", NULL);
	assert_int_equal(r.status, 0);
	assert_string_equal(r.out, "0000000000000002\n");
	assert_non_null(strstr(r.err, "rule=strict\n"));
	assert_non_null(strstr(r.err, "rejected=1\n"));
	run_decode(&r, "", "-i", "0", "-l", "0x40000", "-p", "4096",
		   "--rule=v5", NULL);
	assert_int_equal(r.status, 2);
	assert_non_null(strstr(r.err, "unknown rule 'v5'"));
}

static void test_cli_malformed_line(void **state)
{
	struct run r;

	(void)state;
	run_decode(&r, "0x1000 0x1000\n\n0x2000 banana\n", "-i", "0", "-l",
		   "0x100000", "-p", "4096", NULL);
	assert_int_equal(r.status, 1);
	assert_non_null(strstr(r.err, "line 3: the LENGTH is not a decimal or "
			       "0x-hex number"));
	run_decode(&r, "0x1000\n", "-i", "0", "-l", "0x100000", "-p", "4096",
		   NULL);
	assert_int_equal(r.status, 1);
	assert_non_null(strstr(r.err, "line 1: the LENGTH is missing"));
	run_decode(&r, "1 2 3\n", "-i", "0", "-l", "0x100000", "-p", "4096",
		   NULL);
	assert_int_equal(r.status, 1);
	assert_non_null(strstr(r.err, "line 1: there is more than"));
	run_decode(&r, "0x10000000000000000 1\n", "-i", "0", "-l", "0x100000",
		   "-p", "4096", NULL);
	assert_int_equal(r.status, 1);
	assert_non_null(strstr(r.err, "does not fit in 64 bits"));
	run_decode(&r, "-5 1\n", "-i", "0", "-l", "0x100000", "-p", "4096",
		   NULL);
	assert_int_equal(r.status, 1);
	assert_int_equal(r.out_len, 0);
}

static void test_cli_usage_errors(void **state)
{
	struct run r;

	(void)state;
	run_decode(&r, "", "-i", "0", "-l", "0x100000", "-p", "3000", NULL);
	assert_int_equal(r.status, 2);
	assert_non_null(strstr(r.err, "page size 3000 is not a power of two"));
	run_decode(&r, "", "-i", "0", "-l", "0", "-p", "4096", NULL);
	assert_int_equal(r.status, 2);
	assert_non_null(strstr(r.err, "the length is zero"));
	run_decode(&r, "", "-i", "0xfffffffffffff000", "-l", "0x2000", "-p",
		   "4096", NULL);
	assert_int_equal(r.status, 2);
	assert_non_null(strstr(r.err, "runs past 2^64"));
	run_decode(&r, "", "-i", "0", "-l", "0x1000", NULL);
	assert_int_equal(r.status, 2);
	assert_non_null(strstr(r.err, "are all required"));
	run_decode(&r, "", "-i", "zero", "-l", "0x1000", "-p", "4096", NULL);
	assert_int_equal(r.status, 2);
	assert_non_null(strstr(r.err, "--iova 'zero' is not a number"));
	run_decode(&r, "", "--bogus", NULL);
	assert_int_equal(r.status, 2);
	assert_non_null(strstr(r.err, "unrecognized option '--bogus'"));
	run_decode(&r, "", "-i", "0", "-l", "0x1000", "-p", "4096", "-o",
		   "4096", NULL);
	assert_int_equal(r.status, 2);
	run_decode(&r, "", "-i", "0", "-l", "0x1000", "-p", "4096", "a", "b",
		   NULL);
	assert_int_equal(r.status, 2);
	run_decode(&r, "", "-i", "0", "-l", "0x1000", "-p", "4096",
		   "/nonexistent/sets.txt", NULL);
	assert_int_equal(r.status, 1);
	assert_non_null(strstr(r.err, "cannot open /nonexistent/sets.txt"));
}

static void test_cli_help(void **state)
{
	struct run r;

	(void)state;
	run_decode(&r, "", "--help", NULL);
	assert_int_equal(r.status, 0);
	assert_non_null(strstr(r.out, "Usage: iovatop decode [OPTION...] -i BASE -l LEN -p PS [FILE]"));
	assert_non_null(strstr(r.out, "--buf-offset=OFF"));
	assert_non_null(strstr(r.out, "EXAMPLES"));
	assert_string_equal(r.err, "");
	run_decode(&r, "", "-h", NULL);
	assert_int_equal(r.status, 0);
	assert_non_null(strstr(r.out, "Usage: iovatop decode"));
}

/* argp, as every command: --version, -V, and one prefix on every error. */
static void test_cli_version_and_wrong_flags(void **state)
{
	static const char *const wrong[][8] = {
		{ "--bogus", NULL },
		{ "-q", NULL },
		{ "-i", NULL },				/* a value missing */
		{ "--rule", NULL },
		{ "--hex=yes", NULL },			/* a flag given a value */
		{ "-i", "0", "-l", "0x1000", "-p", "4096", "--buf-offset=-1", NULL },
		{ "-i", "0", "-l", "0x1000", "-p", "4096", "--page-size=0x", NULL },
		{ "-l", "0x1000", "-p", "4096", NULL },	/* no --iova */
	};
	struct run r;
	size_t i;

	(void)state;
	run_decode(&r, "", "--version", NULL);
	assert_int_equal(r.status, 0);
	assert_true(!strncmp(r.out, "iovatop ", 8));
	assert_non_null(strstr(r.out, "libbpf"));
	run_decode(&r, "", "-V", NULL);
	assert_int_equal(r.status, 0);
	assert_true(!strncmp(r.out, "iovatop ", 8));
	for (i = 0; i < sizeof(wrong) / sizeof(wrong[0]); i++) {
		const char *const *a = wrong[i];

		run_decode(&r, "", a[0], a[1], a[2], a[3], a[4], a[5], a[6], a[7]);
		if (r.status != 2 || strncmp(r.err, "iovatop decode: ", 16) ||
		    !strstr(r.err, "Try `iovatop decode --help'") || r.out_len)
			fail_msg("decode %s ...: status %d, stderr '%s'", a[0],
				 r.status, r.err);
	}
}

static void test_cli_reports_anomalies(void **state)
{
	struct run r;
	uint64_t w[4];

	(void)state;
	run_decode(&r, "0x1000 0x1000\n0 0x1000\n0xfe000 0x4000\n"
		   "0x200000 0x1000\n", "-i", "0x1000", "-l", "0xff000", "-p",
		   "4096", NULL);
	assert_int_equal(r.status, 0);
	assert_int_equal(r.out_len, 32);
	memcpy(w, r.out, sizeof(w));
	/* bit 0; 253, 254 and the tail bit 255 (the crossing call) */
	assert_int_equal(w[0], 1);
	assert_int_equal(w[3], 7ULL << 61);
	assert_non_null(strstr(r.err, "line 2: iova_bitmap_set(0x0, 0x1000) "
			       "starts below the base"));
	assert_non_null(strstr(r.err, "line 3: iova_bitmap_set(0xfe000, 0x4000) "
			       "crosses the end"));
	assert_non_null(strstr(r.err, "3 of 4 calls were outside the bitmap: "
			       "1 below the base, 1 past the end, 1 crossing "
			       "the end."));
	assert_non_null(strstr(r.err, "sets 1 more bit after the bitmap"));
}

static void test_cli_stats_and_buf_offset(void **state)
{
	struct run r;

	(void)state;
	run_decode(&r, "0 0\n", "-i", "0", "-l", "0x100000", "-p", "4096",
		   "--buf-offset", "0xff1", "--stats", NULL);
	assert_int_equal(r.status, 0);
	assert_non_null(strstr(r.err, "set_bits=256\n"));
	assert_non_null(strstr(r.err, "spill_bits=32632\n"));
	assert_non_null(strstr(r.err, "anomalies=1\n"));
}

static void test_cli_kernel_page_size(void **state)
{
	struct run r;
	uint64_t w;

	(void)state;
	/* test_kpage_64k_spill through the command */
	run_decode(&r, "0x3c000 0x9c44000\n", "-i", "0", "-l", "0x40000", "-p",
		   "4096", "--buf-offset", "0x8ff8", "--kernel-page-size", "65536",
		   "--stats", NULL);
	assert_int_equal(r.status, 0);
	assert_int_equal(r.out_len, 8);
	memcpy(&w, r.out, 8);
	assert_int_equal(w, 0xfULL << 60);
	assert_non_null(strstr(r.err, "spill_bits=40000\n"));
	/* 0x8ff8 is no offset in a 4 KiB page */
	run_decode(&r, "", "-i", "0", "-l", "0x40000", "-p", "4096",
		   "--buf-offset", "0x8ff8", NULL);
	assert_int_equal(r.status, 2);
	assert_non_null(strstr(r.err, "not an offset within a kernel page of 4096 bytes"));
	run_decode(&r, "", "-i", "0", "-l", "0x40000", "-p", "4096",
		   "--kernel-page-size", "12288", NULL);
	assert_int_equal(r.status, 2);
	assert_non_null(strstr(r.err, "--kernel-page-size 12288 is not a kernel page size"));
}

static void test_cli_hang_exits_1(void **state)
{
	struct run r;

	(void)state;
	run_decode(&r, "0x1000 0\n0x2000 0x1000\n", "-i", "0x1000", "-l",
		   "0x100000", "-p", "4096", NULL);
	assert_int_equal(r.status, 1);
	assert_non_null(strstr(r.err, "line 1: the kernel never returns"));
	assert_int_equal(r.out_len, 32);
}

/* The binary and the library agree on random input (both rules). */
static void test_cli_matches_library(void **state)
{
	char input[65536];
	size_t used = 0;
	struct run r;
	struct ibd d;
	int rule, i;

	(void)state;
	for (rule = 0; rule < 3; rule++) {
		rng_state = 99 + (uint64_t)rule;
		used = 0;
		assert_int_equal(ibd_init(&d, 0x40000000, 0x3000000, 2048, rule), 0);
		ibd_set_user_addr(&d, 0x808);
		for (i = 0; i < 500; i++) {
			uint64_t iova = 0x40000000 + rnd_below(0x3000000);
			uint64_t len = 1 + rnd_below(0x8000);

			ibd_set(&d, iova, len);
			used += (size_t)snprintf(input + used, sizeof(input) - used,
						 i & 1 ? "0x%llx %llu\n" : "%llu 0x%llx\n",
						 (unsigned long long)iova,
						 (unsigned long long)len);
		}
		run_decode(&r, input, "-i", "0x40000000", "-l", "0x3000000", "-p",
			   "2048", "-o", "0x808", "-r",
			   rule == 0 ? "current" : rule == 1 ? "v6.1" : "v6.1.y",
			   NULL);
		assert_int_equal(r.status, 0);
		assert_int_equal(r.out_len, d.nwords * 8);
		assert_memory_equal(r.out, d.words, d.nwords * 8);
		ibd_free(&d);
	}
}

int main(void)
{
	struct CMUnitTest tests[80];
	size_t n = 0, i;

	for (i = 0; i < sizeof(shapes) / sizeof(shapes[0]); i++) {
		static char names[18][48];

		snprintf(names[i], sizeof(names[i]), "selftest_shape_%lluk_off_%#llx",
			 (unsigned long long)(shapes[i].buffer_size / KB),
			 (unsigned long long)shapes[i].buf_offset);
		tests[n] = (struct CMUnitTest)cmocka_unit_test_prestate(
			test_selftest_shape, &shapes[i]);
		tests[n++].name = names[i];
	}
#define T(f) tests[n++] = (struct CMUnitTest)cmocka_unit_test(f)
	T(test_random_current);
	T(test_random_current_unaligned_buffer);
	T(test_random_v6_1_y);
	T(test_random_v6_1_0);
	T(test_rules_differ_on_unaligned_calls);
	T(test_page_sizes_4k_to_1g);
	T(test_init_rejects_bad_geometry);
	T(test_iova_near_2_64);
	T(test_wrapping_call_current);
	T(test_below_base_writes_nothing);
	T(test_v6_1_y_below_base_writes_before_buffer);
	T(test_beyond_end);
	T(test_crosses_end_sets_tail_and_spill);
	T(test_crosses_end_fills_pinned_pages);
	T(test_zero_length_current);
	T(test_zero_length_at_window_start_hangs);
	T(test_zero_length_at_iova_0);
	T(test_zero_length_v6_1_0);
	T(test_v6_1_0_unaligned_buffer);
	T(test_window_nth_v6_1_y);
	T(test_window_nth_v6_1_0);
	T(test_window_at_and_of);
	T(test_kpage_16k_windows);
	T(test_kpage_64k_spill);
	T(test_kpage_random_in_range);
	T(test_window_crossing_call);
	T(test_lazy_pinning);
	T(test_offset_index_math);
	T(test_runs);
	T(test_runs_random_against_naive);
	T(test_first_last_set_against_naive);
	T(test_touched_lines_lose_no_bit);
	T(test_histogram);
	T(test_clear_keeps_geometry);
	T(test_rule_names);
	T(test_strict_refuses_out_of_range);
	T(test_cli_exact_bytes);
	T(test_cli_file_argument_and_hex);
	T(test_cli_rule_v6_1);
	T(test_cli_malformed_line);
	T(test_cli_usage_errors);
	T(test_cli_help);
	T(test_cli_version_and_wrong_flags);
	T(test_cli_reports_anomalies);
	T(test_cli_stats_and_buf_offset);
	T(test_cli_kernel_page_size);
	T(test_cli_hang_exits_1);
	T(test_cli_matches_library);
#undef T
	return _cmocka_run_group_tests("decode", tests, n, NULL, NULL);
}
