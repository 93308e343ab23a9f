/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * iova_live.h - what only the BPF programs and src/source_live.c share:
 * the records that never leave the live source (the --verify read-back of
 * user bitmaps) and the layout of the maps user space reads directly.
 *
 * The public record ABI is include/iova_trace.h; the types here use tags
 * from IOVA_LIVE_TYPE_BASE up so that they can never be mistaken for one,
 * and source_live.c consumes them instead of handing them to the sink.
 */
#ifndef IOVA_LIVE_H
#define IOVA_LIVE_H

#include "iova_trace.h"

#define IOVA_LIVE_TYPE_BASE	0x100
/* A chunk of a user bitmap, read by bpf_probe_read_user() (--verify). */
#define IOVA_LIVE_UBITS		0x100

#define IOVA_LIVE_UBITS_CHUNK	256
/*
 * Up to IOVA_LIVE_BATCH merged ranges of one report in one ring-buffer
 * record: the hot path reserves a record per batch, not per range. The
 * live source hands them on as IOVA_REC_RANGE records, one per entry.
 */
#define IOVA_LIVE_RANGES	0x101
#define IOVA_LIVE_BATCH		16

/* iova_live_ubits.phase */
#define IOVA_UBITS_BEFORE	0	/* at iova_bitmap_alloc: what the buffer held */
#define IOVA_UBITS_AFTER	1	/* at for_each exit: what the kernel left */

struct iova_live_ubits {
	struct iova_rec_hdr hdr;
	__u64 bitmap_id;
	__u64 report_id;	/* 0 for IOVA_UBITS_BEFORE */
	__u64 offset;		/* byte offset of data[] in the user bitmap */
	__u64 total;		/* bytes of the whole user bitmap */
	__u32 nbytes;		/* valid bytes in data[] */
	__s32 err;		/* bpf_probe_read_user(): 0 or -errno */
	__u32 phase;		/* IOVA_UBITS_* */
	__u32 reserved;
	__u8 data[IOVA_LIVE_UBITS_CHUNK];
};

struct iova_live_range {
	__u64 iova;
	__u64 length;
	__u64 ncalls;
};

struct iova_live_ranges {
	struct iova_rec_hdr hdr;
	__u64 bitmap_id;
	__u64 report_id;
	__u32 count;		/* valid entries of r[] */
	__u32 reserved;
	struct iova_live_range r[IOVA_LIVE_BATCH];
};

/*
 * The kernel-side bitmap (the "kbits" array map, BPF_F_MMAPABLE, u64
 * words): on layouts where a report's bits do not depend on the window
 * (6.11 on), each report gets an area of it when it begins, the hot path
 * sets the bits of in-range calls there instead of shipping ranges, and
 * user space turns the area into RANGE records when the report ends. A
 * call never waits for ring space, so none is lost to a full ring.
 *
 * The areas are described in the .bss table kb_areas[]. Who moves a
 * descriptor from one state to the next:
 *
 *   FREE -> LIVE        BPF, for_each entry, holding kb_lock
 *   LIVE -> DONE        BPF, for_each exit, before REPORT_END
 *   LIVE -> ABANDONED   BPF, when the report is known never to end
 *   DONE, ABANDONED -> FREE
 *                       user space, after reading and zeroing the words
 */
#define IOVA_KB_AREAS		64
#define IOVA_KB_FREE		0
#define IOVA_KB_LIVE		1
#define IOVA_KB_DONE		2
#define IOVA_KB_ABANDONED	3

struct iova_kb_area {
	__u64 report_id;
	__u64 bitmap_id;
	__u64 off;		/* first word in kbits */
	__u64 nwords;
	__u64 iova;		/* the bitmap's: bit 0 */
	__u64 length;
	__u64 pgshift;
	__u64 state;		/* IOVA_KB_*; 64 bits for the atomic exchange */
};

/*
 * The hot path's entry of a report with an area, one per bitmap, found by
 * the bitmap's address (kb_fast[] in the BPF program's .bss; only the BPF
 * side uses it, user space sees it through the skeleton).
 */
#define IOVA_KB_FAST_ENTRIES	256

struct iova_kb_fast {
	__u64 bitmap;		/* owner; 0 free */
	__u64 first;		/* window start, a whole page from the base */
	__u64 pgshift;
	__u64 nbits;		/* whole pages of the window from first */
	__u64 bit0;		/* first's bit in kbits (word * 64 + bit) */
	__u64 calls;		/* joins bm_state on release */
	__u64 report_id;
} __attribute__((aligned(64)));

/* Index of the counters in the "counters" per-CPU array. */
#define IOVA_CNT_RINGBUF_DROPS	0	/* bpf_ringbuf_reserve() failed */
#define IOVA_CNT_UNATTRIBUTED	2	/* set calls outside any traced report */
#define IOVA_CNT_SET_AHEAD	3	/* 6.8 .. 6.10 set-ahead replays skipped */
#define IOVA_CNT_PREEMPTED	4	/* set calls that found the slot busy */
#define IOVA_CNT_END_STASHED	5	/* REPORT_ENDs kept in unsent_ends */
/* for_each entries the bitmaps map had no room for: reports not traced */
#define IOVA_CNT_MAP_FULL	6
#define IOVA_CNT_MAP_FULL_CALLS	7	/* the set calls of those reports */
/* reports that found no room in the kernel-side bitmap: ranges instead */
#define IOVA_CNT_KB_NOROOM	8
#define IOVA_CNT_MAX		9

/* What names a report's device (bm_state.dev). */
struct iova_devkey {
	__u32 path;		/* IOVA_PATH_* */
	__u32 hwpt_id;
	__u32 ictx_id;		/* iommufd context of the hwpt, 0 unknown */
	__u32 reserved;
	char devname[IOVA_DEVNAME_LEN];
};


#endif /* IOVA_LIVE_H */
