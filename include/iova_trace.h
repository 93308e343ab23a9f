/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * iova_trace.h - the record ABI shared by the BPF programs, the live source,
 * the trace file and the model.
 *
 * Every record starts with struct iova_rec_hdr, whose first field is the
 * type tag. Fields are fixed-width and naturally aligned so that the BPF
 * side (clang -target bpf) and user space (gcc, x86-64) agree on every
 * offset; the sizes are asserted in user space. The trace file stores these
 * records byte for byte (docs/trace-format.md), so a change here is a change
 * of the file format: add record types or use the reserved fields, and bump
 * IOVA_TRACE_ABI_VERSION when a layout changes.
 *
 * Kernel addresses never reach user space: a bitmap is named by a sequence
 * number the BPF side hands out in iova_bitmap_alloc (the struct
 * iova_bitmap pointer is reused as soon as it is freed), an iommufd
 * context by another (iova_rec_report_begin.ictx_id), and the callback
 * iova_bitmap_for_each() was given by what it is (IOVA_CB_*), compared in
 * the kernel with the addresses user space resolved at attach time.
 *
 * ABI version 2 (this one) differs from version 1 in three fields, and
 * readers of version 1 traces convert (src/trace_file.c):
 *   - iova_rec_alloc grew kpage_shift (v1: 88 bytes, 4 KiB kernel pages);
 *   - iova_rec_report_begin.callback, the callback's kernel address in v1,
 *     is IOVA_CB_* plus ictx_id in the same 8 bytes;
 *   - iova_rec_anomaly.callback likewise is IOVA_CB_* and a reserved word.
 */
#ifndef IOVA_TRACE_H
#define IOVA_TRACE_H

#ifdef __bpf__
/* vmlinux.h already gave the BPF side __u8 .. __u64 */
#else
#include <linux/types.h>
#endif

#define IOVA_TRACE_ABI_VERSION	2
#define IOVA_TRACE_ABI_VERSION_MIN 1	/* oldest a reader converts */

#define IOVA_COMM_LEN		16
/* dev_name() of a vfio device: a PCI BDF ("0000:3b:00.1") or an mdev UUID */
#define IOVA_DEVNAME_LEN	40

/* Record type tags (iova_rec_hdr.type). Stored as __u16, never as an enum. */
#define IOVA_REC_ALLOC		1	/* iova_bitmap_alloc returned */
#define IOVA_REC_REPORT_BEGIN	2	/* iova_bitmap_for_each entered */
#define IOVA_REC_RANGE		3	/* coalesced iova_bitmap_set calls */
#define IOVA_REC_WINDOW		4	/* the pinned window moved */
#define IOVA_REC_REPORT_END	5	/* iova_bitmap_for_each returned */
#define IOVA_REC_FREE		6	/* iova_bitmap_free called */
#define IOVA_REC_LOST		7	/* records that could not be delivered */
#define IOVA_REC_ANOMALY	8	/* a set call outside the bitmap */
#define IOVA_REC_VERIFY		9	/* user space read back the user bitmap */
#define IOVA_REC_QMP		10	/* QEMU's query-migrate (record --qmp) */
#define IOVA_REC_TYPE_MAX	10

/* Which kernel path drove the report (iova_rec_report_begin.path). */
#define IOVA_PATH_UNKNOWN	0
#define IOVA_PATH_VFIO		1	/* VFIO_DEVICE_FEATURE_DMA_LOGGING_REPORT */
#define IOVA_PATH_IOMMUFD	2	/* IOMMU_HWPT_GET_DIRTY_BITMAP */

/*
 * The callback iova_bitmap_for_each() was given (report_begin.callback,
 * anomaly.callback). Never its address: the BPF side compares it with the
 * addresses of the known callbacks, which user space looks up in
 * /proc/kallsyms before it loads the programs.
 */
#define IOVA_CB_UNKNOWN		0	/* not looked up (v1 anomaly records) */
#define IOVA_CB_VFIO		1	/* vfio_device_log_read_and_clear */
#define IOVA_CB_IOMMUFD		2	/* __iommu_read_and_clear_dirty */
#define IOVA_CB_OTHER		3	/* none of those: a new kernel's reader */

/* iova_rec_report_end.flags */
#define IOVA_REPORT_INCOMPLETE	(1u << 0)	/* records of it were lost */
#define IOVA_REPORT_NO_BEGIN	(1u << 1)	/* begin record never seen */
#define IOVA_REPORT_ANOMALY	(1u << 2)	/* it had out-of-range set calls */

/* iova_rec_anomaly.kind */
#define IOVA_ANOM_BELOW_BASE	1	/* iova < bitmap base */
#define IOVA_ANOM_BEYOND_END	2	/* starts at or past base + length */
#define IOVA_ANOM_CROSSES_END	3	/* starts inside, ends past base + length */
#define IOVA_ANOM_ZERO_LENGTH	4	/* length == 0 */
#define IOVA_ANOM_WRAPS		5	/* iova + length - 1 overflows */
#define IOVA_ANOM_NO_BITMAP	6	/* set on a bitmap never seen allocated */
/* 6.1 layout: outside the pinned window; the RANGE holds only what was written */
#define IOVA_ANOM_OUTSIDE_WINDOW 7

/*
 * iova_rec_lost.where: which stage dropped the records. 2 and 3 were
 * "coalescing" and "reader", which nothing ever wrote; no trace holds them.
 */
#define IOVA_LOST_RINGBUF	1	/* bpf_ringbuf_reserve failed */
/* the kernel skipped a program of ours (recursion_misses): set calls */
#define IOVA_LOST_SKIPPED	2
#define IOVA_LOST_MAP_FULL	3	/* reports the bitmaps map had no room for */

struct iova_rec_hdr {
	__u16 type;		/* IOVA_REC_* */
	__u16 size;		/* whole record in bytes, header included */
	__u32 cpu;		/* CPU that produced it */
	__u64 ts_ns;		/* CLOCK_MONOTONIC, bpf_ktime_get_ns() */
};

/* Who asked: the task that entered the ioctl. */
struct iova_rec_task {
	__u32 pid;		/* thread group id, what ps shows */
	__u32 tid;
	char comm[IOVA_COMM_LEN];
};

struct iova_rec_alloc {
	struct iova_rec_hdr hdr;
	__u64 bitmap_id;	/* sequence number, unique per boot */
	__u64 iova;		/* base IOVA of the whole bitmap */
	__u64 length;		/* IOVA length the bitmap covers */
	__u64 page_size;	/* bytes of IOVA per bit */
	__u64 user_addr;	/* user bitmap address in the asking process */
	__s32 ret;		/* 0, or the errno iova_bitmap_alloc failed with */
	__u32 layout;		/* IOVA_LAYOUT_* seen by CO-RE on this kernel */
	struct iova_rec_task task;
	/*
	 * log2 of the kernel's PAGE_SIZE: the unit the kernel pins the user
	 * bitmap in, so where windows start and what a stray call spills
	 * into. 0 (and v1 records) mean 12, 4 KiB: iova_kpage_shift().
	 */
	__u32 kpage_shift;
	__u32 reserved;
};

/* Version 1 of iova_rec_alloc ended before kpage_shift. */
#define IOVA_REC_ALLOC_V1_SIZE	88
#define IOVA_KPAGE_SHIFT_V1	12

/* Bitmap layouts since 6.1 (see bpf/iova_compat.bpf.h for the commits). */
#define IOVA_LAYOUT_UNKNOWN	0
#define IOVA_LAYOUT_V6_1	1	/* iterator windows, for_each calls back per window */
#define IOVA_LAYOUT_V6_8	2	/* set_ahead_length */
#define IOVA_LAYOUT_V6_11	3	/* mapped.length, dynamic pinning, one callback */

struct iova_rec_report_begin {
	struct iova_rec_hdr hdr;
	__u64 bitmap_id;
	__u64 report_id;	/* sequence number of this for_each call */
	__u32 callback;		/* IOVA_CB_* of fn (v1: its address, 8 bytes) */
	/*
	 * iommufd path: which iommufd context (an open of /dev/iommu) the
	 * hwpt belongs to, as a sequence number the BPF side gives each
	 * (context, process) it sees; 0 when unknown. hwpt ids are per
	 * context, so two VMMs both have a "hwpt 2": a device is the pair.
	 */
	__u32 ictx_id;
	__u32 path;		/* IOVA_PATH_* */
	__u32 hwpt_id;		/* iommufd path: the hwpt the ioctl named */
	__u64 iova;		/* what for_each was asked to cover */
	__u64 length;
	char devname[IOVA_DEVNAME_LEN];	/* vfio path: dev_name() */
	struct iova_rec_task task;
};

/*
 * One or more iova_bitmap_set calls of one report, merged in the kernel
 * because they were contiguous or overlapping. [iova, iova + length) is the
 * union; ncalls says how many calls it stands for, so that the per-call
 * rate stays exact even though the ring sees one record.
 */
struct iova_rec_range {
	struct iova_rec_hdr hdr;
	__u64 bitmap_id;
	__u64 report_id;
	__u64 iova;
	__u64 length;
	__u64 ncalls;
};

/* The pinned window after it moved (iova_bitmap_get on any layout). */
struct iova_rec_window {
	struct iova_rec_hdr hdr;
	__u64 bitmap_id;
	__u64 report_id;
	__u64 iova;		/* mapped.iova */
	__u64 length;		/* mapped IOVA length */
	__u64 base_index;	/* mapped_base_index, in u64 words */
	__u32 npages;		/* user pages pinned */
	__u32 pgoff;		/* offset of bit 0 in the first pinned page */
};

struct iova_rec_report_end {
	struct iova_rec_hdr hdr;
	__u64 bitmap_id;
	__u64 report_id;
	__u64 duration_ns;	/* for_each entry to exit */
	__u64 set_calls;	/* iova_bitmap_set calls during the report */
	__u64 ranges;		/* range records emitted for it */
	__u64 lost;		/* range/window records of it that were dropped */
	__u64 anomalies;	/* out-of-range set calls */
	__s32 ret;		/* for_each's return code */
	__u32 flags;		/* IOVA_REPORT_* */
};

struct iova_rec_free {
	struct iova_rec_hdr hdr;
	__u64 bitmap_id;
};

/* Emitted once drops are noticed; counts are deltas since the last one. */
struct iova_rec_lost {
	struct iova_rec_hdr hdr;
	__u64 count;
	__u32 where;		/* IOVA_LOST_* */
	__u32 reserved;
};

struct iova_rec_anomaly {
	struct iova_rec_hdr hdr;
	__u64 bitmap_id;
	__u64 report_id;
	__u64 iova;		/* the offending call's range */
	__u64 length;
	__u32 callback;		/* the report's IOVA_CB_*: who made the call */
	__u32 reserved0;	/* v1: the callback's address, 8 bytes */
	__u32 kind;		/* IOVA_ANOM_* */
	__u32 reserved;
};

/*
 * --verify: at the end of a report user space read the user bitmap back and
 * compared it with its own rebuild.
 */
struct iova_rec_verify {
	struct iova_rec_hdr hdr;
	__u64 bitmap_id;
	__u64 report_id;
	__u64 words;		/* u64 words compared */
	__u64 mismatches;	/* words that differ */
	__u64 first_bad_word;	/* index of the first one, if any */
	__u64 kernel_word;	/* its value in the user bitmap */
	__u64 rebuilt_word;	/* its value in the rebuild */
	__u32 status;		/* IOVA_VERIFY_* */
	__u32 reserved;
};

#define IOVA_VERIFY_OK		0
#define IOVA_VERIFY_MISMATCH	1
#define IOVA_VERIFY_SKIPPED	2	/* too large, or the process is gone */

/*
 * record --qmp: one answer of QEMU's query-migrate and
 * query-migrate-parameters (src/qmp_client.c), made in user space, so
 * that replay and report join the devices with what QEMU said at the time
 * (docs/forecast.md). Trace format version 3 and later only. Figures in
 * QEMU's units; ts_ns is when query-migrate answered, on the records'
 * clock. 32-bit fields saturate (QEMU's downtime-limit is at most 2000 s).
 */
#define IOVA_QMP_STATUS_LEN	24
#define IOVA_QMP_HAVE_RAM	(1u << 0)	/* the "ram" object was there */
#define IOVA_QMP_HAVE_PARAMS	(1u << 1)	/* query-migrate-parameters too */

struct iova_rec_qmp {
	struct iova_rec_hdr hdr;
	__u32 pid;		/* QEMU's, from the socket's peer */
	__u32 flags;		/* IOVA_QMP_HAVE_* */
	char status[IOVA_QMP_STATUS_LEN];	/* "active" ..., NUL-padded */
	__u64 seq;		/* samples of this QEMU so far, 1 for the first */
	__u64 ram_transferred;	/* bytes */
	__u64 ram_remaining;	/* bytes */
	__u64 dirty_pages_rate;	/* pages per second */
	__u64 dirty_sync_count;
	__u64 bits_per_s;	/* ram.mbps x 10^6, rounded */
	__u64 max_bandwidth;	/* bytes per second */
	__u64 avail_switchover_bandwidth;	/* bytes per second, 0: unset */
	__u32 expected_downtime_ms;
	__u32 downtime_limit_ms;
	__u32 downtime_ms;	/* of a completed migration */
	__u32 page_size;	/* ram.page-size, bytes */
};

/* Largest record; readers size their buffers with it. */
#define IOVA_REC_MAX_SIZE	128

#ifndef __bpf__
#include <stddef.h>

_Static_assert(sizeof(struct iova_rec_hdr) == 16, "hdr");
_Static_assert(sizeof(struct iova_rec_task) == 24, "task");
_Static_assert(sizeof(struct iova_rec_alloc) == 96, "alloc");
_Static_assert(offsetof(struct iova_rec_alloc, kpage_shift) == IOVA_REC_ALLOC_V1_SIZE,
	       "alloc v1 prefix");
_Static_assert(sizeof(struct iova_rec_report_begin) == 128, "report_begin");
_Static_assert(sizeof(struct iova_rec_range) == 56, "range");
_Static_assert(sizeof(struct iova_rec_window) == 64, "window");
_Static_assert(sizeof(struct iova_rec_report_end) == 80, "report_end");
_Static_assert(sizeof(struct iova_rec_free) == 24, "free");
_Static_assert(sizeof(struct iova_rec_lost) == 32, "lost");
_Static_assert(sizeof(struct iova_rec_anomaly) == 64, "anomaly");
_Static_assert(sizeof(struct iova_rec_verify) == 80, "verify");
_Static_assert(sizeof(struct iova_rec_qmp) == 128, "qmp");
_Static_assert(offsetof(struct iova_rec_report_begin, devname) == 64, "devname");
_Static_assert(offsetof(struct iova_rec_report_begin, path) == 40, "begin v1 prefix");
_Static_assert(offsetof(struct iova_rec_anomaly, kind) == 56, "anomaly v1 prefix");

/* Expected size of each record type, 0 for unknown types. */
static inline unsigned int iova_rec_size(unsigned int type)
{
	switch (type) {
	case IOVA_REC_ALLOC: return sizeof(struct iova_rec_alloc);
	case IOVA_REC_REPORT_BEGIN: return sizeof(struct iova_rec_report_begin);
	case IOVA_REC_RANGE: return sizeof(struct iova_rec_range);
	case IOVA_REC_WINDOW: return sizeof(struct iova_rec_window);
	case IOVA_REC_REPORT_END: return sizeof(struct iova_rec_report_end);
	case IOVA_REC_FREE: return sizeof(struct iova_rec_free);
	case IOVA_REC_LOST: return sizeof(struct iova_rec_lost);
	case IOVA_REC_ANOMALY: return sizeof(struct iova_rec_anomaly);
	case IOVA_REC_VERIFY: return sizeof(struct iova_rec_verify);
	case IOVA_REC_QMP: return sizeof(struct iova_rec_qmp);
	}
	return 0;
}

/* The kernel page shift an ALLOC record stands for. */
static inline unsigned int iova_kpage_shift(const struct iova_rec_alloc *a)
{
	return a->kpage_shift ? a->kpage_shift : IOVA_KPAGE_SHIFT_V1;
}

/* The same for records of ABI version abi (1 or IOVA_TRACE_ABI_VERSION). */
static inline unsigned int iova_rec_size_abi(unsigned int type, unsigned int abi)
{
	if (abi == 1 && type == IOVA_REC_ALLOC)
		return IOVA_REC_ALLOC_V1_SIZE;
	return iova_rec_size(type);
}
#endif /* !__bpf__ */

#endif /* IOVA_TRACE_H */
