/* SPDX-License-Identifier: GPL-2.0 */
/*
 * shim.h - just enough of the kernel for drivers/.../iova_bitmap.c to build
 * and run in user space, so the decode library can be compared with the
 * kernel's own code (tests/kmath/run.sh).
 *
 * User memory is an arena of real pages: pin_user_pages_fast() hands out
 * pointers into it (and pins nothing past its end), kmap_local_page() is the
 * identity. The kernel's infinite loops are cut by a cycle check on the
 * state at the top of each pass of iova_bitmap_set(): unlikely() is only
 * used there, and its first use in each pass is the mapped-range test.
 */
#ifndef KMATH_SHIM_H
#define KMATH_SHIM_H
#include <setjmp.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef uint8_t u8;
typedef uint64_t u64;
#define __user
/* the kernel's page size; run.sh builds with 12, 14 and 16 (arm64) */
#ifndef KMATH_PAGE_SHIFT
#define KMATH_PAGE_SHIFT 12
#endif
#define PAGE_SHIFT KMATH_PAGE_SHIFT
#define PAGE_SIZE (1UL << PAGE_SHIFT)
#define BITS_PER_BYTE 8
#define BITS_PER_TYPE(t) (sizeof(t) * BITS_PER_BYTE)
#define DIV_ROUND_UP(n, d) (((n) + (d) - 1) / (d))
#define min(a, b) ({ __auto_type _a = (a); __auto_type _b = (b); _a < _b ? _a : _b; })
#define max(a, b) ({ __auto_type _a = (a); __auto_type _b = (b); _a > _b ? _a : _b; })
#define min_t(t, a, b) ({ t _a = (a); t _b = (b); _a < _b ? _a : _b; })
#define offset_in_page(p) ((unsigned long)(p) & (PAGE_SIZE - 1))
#define __ffs(x) ((unsigned long)__builtin_ctzl(x))
#define GFP_KERNEL 0
#define FOLL_WRITE 1
#define ENOMEM 12
#define EFAULT 14
#define EINVAL 22
#define EPROTO 71	/* 6.12.118: an out-of-range set call fails the report */
#define EXPORT_SYMBOL_NS_GPL(a, b)
#define EXPORT_SYMBOL_GPL(a)
#define ERR_PTR(e) ((void *)(long)(e))
#define IS_ERR(p) ((unsigned long)(p) >= (unsigned long)-4095)
#define PTR_ERR(p) ((long)(p))

struct page;
struct iova_bitmap;
typedef int (*iova_bitmap_fn_t)(struct iova_bitmap *bitmap, unsigned long iova,
				size_t length, void *opaque);

/* the cycle check (Brent) and a hard cap, both longjmp to the caller */
extern jmp_buf kmath_hang;
extern long kmath_ticks;
extern unsigned long kmath_saved[4], kmath_power, kmath_lam;

static inline int kmath_pass(int top, unsigned long a, unsigned long b,
			     unsigned long c, unsigned long d)
{
	if (++kmath_ticks > (1L << 31) + (1L << 22))
		longjmp(kmath_hang, 2);
	if (!top)
		return 0;
	if (kmath_saved[0] == a && kmath_saved[1] == b && kmath_saved[2] == c &&
	    kmath_saved[3] == d)
		longjmp(kmath_hang, 1);
	if (++kmath_lam == kmath_power) {
		kmath_saved[0] = a;
		kmath_saved[1] = b;
		kmath_saved[2] = c;
		kmath_saved[3] = d;
		kmath_power *= 2;
		kmath_lam = 0;
	}
	return 0;
}
#define unlikely(x) (kmath_pass(#x[0] == '!', iova, length,			\
				bitmap->mapped_base_index,			\
				bitmap->mapped.npages) + __builtin_expect(!!(x), 0))

static inline void *kzalloc(size_t n, int f) { (void)f; return calloc(1, n); }
static inline void kfree(void *p) { free(p); }
/* 7.2's typed allocator: one zeroed object of P's type, GFP_KERNEL unless given */
#define kzalloc_obj(P, ...) ((typeof(P) *)kzalloc(sizeof(P), GFP_KERNEL))
static inline unsigned long __get_free_page(int f)
{
	(void)f;
	return (unsigned long)calloc(1, PAGE_SIZE);
}
static inline void free_page(unsigned long p) { free((void *)p); }

extern unsigned long kmath_arena_lo, kmath_arena_hi;

static inline long pin_user_pages_fast(unsigned long start, int nr,
				       unsigned int flags, struct page **pages)
{
	long i;

	(void)flags;
	start &= ~(PAGE_SIZE - 1);
	for (i = 0; i < nr; i++) {
		unsigned long a = start + (unsigned long)i * PAGE_SIZE;

		if (a < kmath_arena_lo || a >= kmath_arena_hi)
			break;
		pages[i] = (struct page *)a;
	}
	return i ? i : -EFAULT;
}
static inline void unpin_user_pages(struct page **p, unsigned long n)
{
	(void)p;
	(void)n;
}
static inline void *kmap_local_page(struct page *p)
{
	if (!p)		/* an entry never pinned: the kernel would oops */
		abort();
	return (void *)p;
}
static inline void kunmap_local(void *p) { (void)p; }

/* bitmap_set(): bit by bit at the edges, whole bytes between */
static inline void bitmap_set(unsigned long *map, unsigned int start,
			      unsigned int nbits)
{
	unsigned char *p = (unsigned char *)map;
	unsigned int end = start + nbits;

	while (start < end && start % 8) {
		p[start / 8] |= 1u << (start % 8);
		start++;
	}
	if (end - start >= 8) {
		memset(p + start / 8, 0xff, (end - start) / 8);
		start += (end - start) / 8 * 8;
	}
	while (start < end) {
		p[start / 8] |= 1u << (start % 8);
		start++;
	}
}
#endif
