/* SPDX-License-Identifier: GPL-2.0 */
/*
 * itp.h - dirty patterns of the iovatop test vfio driver.
 *
 * Shared by the kernel module (which makes the iova_bitmap_set() calls) and
 * the workload (which programs them and predicts what they must be), so the
 * workload can check the driver did what it was told. Pure integer code:
 * no libc, no kernel headers beyond linux/types.h.
 *
 * A program is up to ITP_MAX_STREAMS streams; each stream is a list of
 * iova_bitmap_set(iova, length) calls that depends only on the stream's
 * fields, so every window of a report (6.1 walks big bitmaps in windows)
 * sees the same list.
 */
#ifndef ITP_H
#define ITP_H

#include <linux/types.h>

#define ITP_MAX_STREAMS		4
/* Bounds that keep one report's work sane on a software-emulated CPU. */
#define ITP_MAX_COUNT		(1u << 20)
#define ITP_MAX_CHUNKS		(1ull << 32)

enum itp_kind {
	ITP_NONE = 0,
	/* count pages from page seed % npages on, in calls of run pages */
	ITP_SWEEP = 1,
	/*
	 * count distinct chunks of run pages at seeded random places, in
	 * increasing IOVA order as hardware dirty logs are read out
	 */
	ITP_RANDOM = 2,
	/*
	 * Deliberately out of [base, base + size): calls that cross the end,
	 * lie wholly beyond it, or start below base, cycling through the
	 * variants whose bits are set in mask. For the anomaly checks.
	 */
	ITP_OOR = 3,
	/*
	 * as ITP_RANDOM, but in a scattered order: each call may fall far from
	 * the last, which makes 6.11+ re-pin the bitmap window.
	 */
	ITP_SCATTER = 4,
};

enum itp_oor_variant {
	ITP_OOR_CROSS_END = 1 << 0,	/* (end - page, 2 * page) */
	ITP_OOR_BEYOND_END = 1 << 1,	/* (end + page, page) */
	ITP_OOR_BELOW_BASE = 1 << 2,	/* (base - 2 * page, page) */
};

struct itp_stream {
	__u32 kind;
	__u32 mask;	/* ITP_OOR: variants to cycle through */
	__u64 base;	/* IOVA of the region the stream dirties */
	__u64 size;	/* bytes, a multiple of page */
	__u64 page;	/* dirty granularity, a power of two */
	__u64 count;	/* pages (sweep), chunks (random), calls (oor) */
	__u64 run;	/* pages per call */
	__u64 seed;
};

typedef int (*itp_emit_fn)(__u64 iova, __u64 length, void *ctx);

static inline __u64 itp_gcd(__u64 a, __u64 b)
{
	while (b) {
		__u64 t = a % b;

		a = b;
		b = t;
	}
	return a;
}

/* Check a stream's fields; 0 when valid, else a static reason. */
static inline const char *itp_invalid(const struct itp_stream *s)
{
	if (s->kind == ITP_NONE)
		return 0;
	if (s->kind > ITP_SCATTER)
		return "unknown kind";
	if (!s->page || (s->page & (s->page - 1)))
		return "page is not a power of two";
	if (!s->size || s->size % s->page)
		return "size is not a non-zero multiple of page";
	if (s->base + s->size - 1 < s->base)
		return "base + size wraps";
	if (s->count > ITP_MAX_COUNT)
		return "count is too large";
	if (s->kind != ITP_OOR && !s->run)
		return "run must be at least 1";
	if (s->kind == ITP_OOR && !(s->mask & 7))
		return "mask selects no out-of-range variant";
	if ((s->kind == ITP_RANDOM || s->kind == ITP_SCATTER) &&
	    s->size / s->page / s->run >= ITP_MAX_CHUNKS)
		return "too many chunks";
	return 0;
}

/* splitmix64's finaliser: a well-spread value for (seed, i). */
static inline __u64 itp_mix(__u64 seed, __u64 i)
{
	__u64 x = seed + (i + 1) * 0x9e3779b97f4a7c15ull;

	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
	return x ^ (x >> 31);
}

/*
 * A multiplier coprime with n, so that i -> (a * i + b) % n visits every
 * chunk once: distinct pages without a bitmap, in a scattered order.
 */
static inline __u64 itp_stride(__u64 n, __u64 seed)
{
	__u64 a;

	if (n <= 2)
		return 1;
	a = (seed * 0x9e3779b97f4a7c15ull >> 17) % n;
	if (a < 2)
		a = 2;
	while (itp_gcd(a, n) != 1)
		a = a + 1 < n ? a + 1 : 2;
	return a;
}

/*
 * Emit the calls of one stream in order. Returns 0, or the first non-zero
 * value emit returned.
 */
static inline int itp_generate(const struct itp_stream *s, itp_emit_fn emit,
			       void *ctx)
{
	__u64 npages = s->size / s->page, i;
	int ret;

	switch (s->kind) {
	case ITP_SWEEP: {
		__u64 count = s->count < npages ? s->count : npages;
		__u64 p = s->seed % npages, done = 0;

		while (done < count) {
			__u64 n = s->run;

			if (n > count - done)
				n = count - done;
			if (n > npages - p)
				n = npages - p;
			ret = emit(s->base + p * s->page, n * s->page, ctx);
			if (ret)
				return ret;
			done += n;
			p = (p + n) % npages;
		}
		return 0;
	}
	case ITP_RANDOM: {
		__u64 nchunks = npages / s->run;
		__u64 count = s->count < nchunks ? s->count : nchunks;

		/* chunk i lies somewhere in the i-th of count equal gaps */
		for (i = 0; i < count; i++) {
			/* i < 2^20, nchunks < 2^32: no overflow */
			__u64 lo = i * nchunks / count;
			__u64 hi = (i + 1) * nchunks / count;
			__u64 c = lo + itp_mix(s->seed, i) % (hi - lo);

			ret = emit(s->base + c * s->run * s->page,
				   s->run * s->page, ctx);
			if (ret)
				return ret;
		}
		return 0;
	}
	case ITP_SCATTER: {
		__u64 nchunks = npages / s->run, a, b;
		__u64 count = s->count < nchunks ? s->count : nchunks;

		if (!nchunks)
			return 0;
		a = itp_stride(nchunks, s->seed);
		b = s->seed % nchunks;
		for (i = 0; i < count; i++) {
			/* a, i < 2^32: the product cannot overflow */
			__u64 c = (a * i + b) % nchunks;

			ret = emit(s->base + c * s->run * s->page,
				   s->run * s->page, ctx);
			if (ret)
				return ret;
		}
		return 0;
	}
	case ITP_OOR: {
		__u64 end = s->base + s->size;
		unsigned int k = 0;

		for (i = 0; i < s->count; i++) {
			__u64 iova, len;

			while (!(s->mask & (1u << k)))
				k = (k + 1) % 3;
			switch (1u << k) {
			case ITP_OOR_CROSS_END:
				iova = end - s->page;
				len = 2 * s->page;
				break;
			case ITP_OOR_BEYOND_END:
				iova = end + s->page;
				len = s->page;
				break;
			default:
				iova = s->base - 2 * s->page;
				len = s->page;
				break;
			}
			k = (k + 1) % 3;
			ret = emit(iova, len, ctx);
			if (ret)
				return ret;
		}
		return 0;
	}
	default:
		return 0;
	}
}

#endif /* ITP_H */
