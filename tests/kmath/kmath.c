// SPDX-License-Identifier: GPL-2.0
/*
 * kmath.c - the decode library against the kernel's own iova_bitmap.c.
 *
 * Built by tests/kmath/run.sh with KFILE naming a pristine kernel source
 * file (never copied into this tree) and RULE the decode rule that claims
 * to mirror it, with the kernel's PAGE_SIZE 1 << KMATH_PAGE_SHIFT (12
 * unless run.sh says 14 or 16). Each trial picks a bitmap (page size 4
 * KiB..256 KiB, up to three windows, base anywhere up to the top of the
 * address space, user buffer at a random page offset) and a list of calls, in range or not,
 * applies them with the decoder and with the kernel code on an arena of
 * pages with guard pages around the buffer, and compares the buffer, the
 * bits set before and after it, and whether the kernel never returned.
 * Trials where the decoder reports 6.1.0 writes through unpinned page
 * pointers are skipped: the arena cannot reproduce those (under any other
 * rule such a report is a mismatch). A run that skips every trial fails.
 *
 * usage: kmath TRIALS MODE SEED   (MODE 0: calls start in range, 1: odd
 * calls but no zero length, 2: everything)
 */
#include "shim.h"
#include KFILE
#include "iova_bitmap_decode.h"

jmp_buf kmath_hang;
long kmath_ticks;
unsigned long kmath_saved[4], kmath_power, kmath_lam;
unsigned long kmath_arena_lo, kmath_arena_hi;

/*
 * Bits of a full window: PAGE_SIZE / 8 pinned pages of PAGE_SIZE * 8 bits,
 * 2^24 with 4 KiB pages, 2^28 (32 MiB of bitmap) with 16 KiB. With 64 KiB
 * pages a window is 512 MiB of bitmap, more than an arena per trial
 * should take, so there the large kind stays at 2^24 bits.
 */
#if PAGE_SHIFT <= 14
#define KMATH_WINDOW_BITS	((PAGE_SIZE / 8) * PAGE_SIZE * 8ULL)
#else
#define KMATH_WINDOW_BITS	(1ULL << 24)
#endif

static uint64_t rs;

static uint64_t rnd(void)
{
	rs ^= rs << 13;
	rs ^= rs >> 7;
	rs ^= rs << 17;
	return rs;
}

static uint64_t rr(uint64_t n)
{
	return n ? rnd() % n : 0;
}

#ifdef ITER
/* The 6.1 iterator's window holding iova, as the decoder assumes. */
static void kpin_window_of(struct iova_bitmap *kb, unsigned long iova)
{
	struct iova_bitmap_map *m = &kb->mapped;

	if (m->npages && iova >= m->iova &&
	    iova - m->iova <= iova_bitmap_mapped_length(kb) - 1)
		return;
	if (!m->npages || iova < m->iova) {
		iova_bitmap_put(kb);
		kb->mapped_base_index = 0;
		iova_bitmap_get(kb);
	}
	while (m->npages && iova - m->iova > iova_bitmap_mapped_length(kb) - 1)
		iova_bitmap_advance(kb);
}
#endif

static long popcnt(const unsigned char *p, size_t n)
{
	long c = 0;

	while (n--)
		c += __builtin_popcount(*p++);
	return c;
}

int main(int argc, char **argv)
{
	long trials = argc > 1 ? atol(argv[1]) : 300, t, bad = 0, skipped = 0;
	long hangs = 0, odd = 0;
	int mode = argc > 2 ? atoi(argv[2]) : 2;

	rs = argc > 3 ? strtoull(argv[3], NULL, 0) : 88172645463325252ULL;
	for (t = 0; t < trials; t++) {
		unsigned int s = 12 + (unsigned int)(rr(4) * (rr(3) ? 1 : 2));
		uint64_t ps = 1ULL << s, nb, base, len, off, nbytes, apages, i;
		uint64_t ncalls, nmodel, *ci, *cl;
		int kind = (int)rr(4), khung = 0;
		unsigned char *arena, *U;
		struct iova_bitmap *kb;
		struct ibd d;
		long under, spill;
		int kerr_bad = 0;

		if (kind == 0)
			nb = 1 + rr(200);
		else if (kind == 1)
			nb = 1 + rr(70000);
		else if (kind == 2)
			nb = (1 + rr(3)) * 32768 * 8 + rr(300) - 150;
		else
			nb = KMATH_WINDOW_BITS + rr(3) * (KMATH_WINDOW_BITS / 2) +
			     rr(100000);
		len = nb * ps - (rr(3) ? 0 : rr(ps));
		base = rr(4) == 0 ? (uint64_t)0 - len - rr(3) * ps :
			rr(1ULL << 40) & ~(rr(2) ? ps - 1 : 0);
		if (rr(5) == 0)
			base = 0;
		if (len - 1 > UINT64_MAX - base)
			base = UINT64_MAX - (len - 1);
		off = rr(3) == 0 ? 0 : rr(3) == 0 ? 0xff1 :
			(rr(2) ? rr(PAGE_SIZE) & ~7ULL : rr(PAGE_SIZE));
		if (ibd_init_kpage(&d, base, len, ps, RULE, PAGE_SIZE)) {
			printf("ibd_init_kpage failed\n");
			return 1;
		}
		ibd_set_user_addr(&d, off);
		nbytes = d.nwords * 8;
		apages = 2 + (off + nbytes) / PAGE_SIZE + 6;
		arena = aligned_alloc(PAGE_SIZE, apages * PAGE_SIZE);
		memset(arena, 0, apages * PAGE_SIZE);
		kmath_arena_lo = (unsigned long)arena;
		kmath_arena_hi = kmath_arena_lo + apages * PAGE_SIZE;
		U = arena + 2 * PAGE_SIZE + off;

		ncalls = 1 + rr(kind == 3 ? 300 : 60);
		ci = malloc(ncalls * 2 * sizeof(*ci));
		cl = ci + ncalls;
		for (i = 0; i < ncalls; i++) {
			int k = mode == 0 ? 11 : (int)(mode == 1 ? 1 + rr(11) : rr(12));
			uint64_t io = base + rr(len);
			uint64_t l = 1 + rr(rr(2) ? 4 * ps : len / 4 + 1);

			if (mode == 1 && (k == 4 || k == 7))
				k = 11;
			if (k == 0) {
				l = 0;
			} else if (k == 1) {
				io = base - 1 - rr(64 * ps);
			} else if (k == 2) {
				io = base + len - 1 - rr(3 * ps);
				l = 1 + rr(100 * ps);
			} else if (k == 3) {
				io = base + len + rr(4 * ps);
			} else if (k == 4) {
				l = 0;
				io = base + (rr(nb) & ~7ULL) * ps;
			} else if (k == 5) {
				io = base - rr(3 * ps);
				l = rr(6 * ps);
			} else if (k == 6) {
				l = (uint64_t)0 - io + rr(3);
			} else if (k == 7) {
				io = base + rr(nb / 8 + 1) * 8 * ps;
				l = 0;
			}
			if (io - base <= len - 1 && io + l - 1 > base + len - 1 &&
			    l > 200 * ps)
				l = 200 * ps;
			ci[i] = io;
			cl[i] = l;
		}

		nmodel = ncalls;
		for (i = 0; i < ncalls; i++) {
			uint64_t h = d.hangs;

			ibd_set(&d, ci[i], cl[i]);
			if (d.hangs != h) {
				nmodel = i + 1;
				break;
			}
		}
		if (d.anomalies)
			odd++;
		if (d.wild_bits) {
			/* only 6.1.0 writes through pages it never pinned */
			if (RULE != IBD_RULE_V6_1_0 && ++bad <= 3)
				printf("trial %ld: the decoder reports %lu wild bits, "
				       "which only the 6.1.0 rule can make\n", t,
				       (unsigned long)d.wild_bits);
			skipped++;
			goto next;
		}

		kb = iova_bitmap_alloc(base, len, ps, (void *)U);
		if (IS_ERR(kb)) {
			printf("iova_bitmap_alloc failed\n");
			return 1;
		}
		for (i = 0; i < nmodel; i++) {
#ifdef ITER
			if (ci[i] >= base && ci[i] - base <= len - 1)
				kpin_window_of(kb, ci[i]);
#endif
			kmath_ticks = 0;
			kmath_saved[0] = kmath_saved[1] = ~0UL;
			kmath_saved[2] = kmath_saved[3] = ~0UL;
			kmath_power = 1;
			kmath_lam = 0;
			if (setjmp(kmath_hang)) {
				khung = 1;
				break;
			}
			iova_bitmap_set(kb, ci[i], cl[i]);
		}
		hangs += khung;
#ifdef KERR
		/* the strict kernels: refused calls fail the report, and only they */
		kerr_bad = (kb->err != 0) != (d.rejected != 0) ||
			   (kb->err && kb->err != -EPROTO);
#endif
		under = popcnt(arena, (size_t)(U - arena));
		spill = popcnt(U + nbytes, (size_t)(arena + apages * PAGE_SIZE - (U + nbytes)));
		if (memcmp(U, d.words, nbytes) || (uint64_t)under != d.under_bits ||
		    (uint64_t)spill != d.spill_bits || khung != !!d.hangs || kerr_bad) {
			if (++bad <= 3) {
				printf("mismatch in trial %ld: base=%#lx len=%#lx page=%#lx "
				       "buf_offset=%#lx: under %ld/%lu spill %ld/%lu hang "
				       "%d/%lu words %s%s (kernel/decoder)\n", t, base, len, ps,
				       off, under, d.under_bits, spill, d.spill_bits, khung,
				       d.hangs, memcmp(U, d.words, nbytes) ? "differ" : "agree",
				       kerr_bad ? ", -EPROTO differs" : "");
				for (i = 0; i < nmodel; i++)
					printf("  %#lx %#lx\n", ci[i], cl[i]);
			}
		}
		iova_bitmap_free(kb);
next:
		free(ci);
		free(arena);
		ibd_free(&d);
	}
	printf("%s, %lu KiB pages: %ld trials, %ld with odd calls, %ld mismatches, "
	       "%ld skipped (6.1.0 wild writes), %ld calls the kernel never "
	       "returns from\n", NAME, PAGE_SIZE >> 10, trials, odd, bad,
	       skipped, hangs);
	/* a run that compared nothing proves nothing */
	if (skipped >= trials)
		printf("%s: no trial was compared with the kernel\n", NAME);
	return bad != 0 || skipped >= trials;
}
