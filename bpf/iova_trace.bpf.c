// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * iova_trace.bpf.c - trace the kernel's iova_bitmap helpers.
 *
 * iova_bitmap_alloc()     -> IOVA_REC_ALLOC (geometry of the user bitmap)
 * iova_bitmap_for_each()  -> IOVA_REC_REPORT_BEGIN / IOVA_REC_REPORT_END
 * iova_bitmap_set()       -> IOVA_REC_RANGE (coalesced), IOVA_REC_WINDOW,
 *                            IOVA_REC_ANOMALY
 * iova_bitmap_free()      -> IOVA_REC_FREE
 * iommufd_hwpt_get_dirty_bitmap() names the hwpt of the iommufd path.
 *
 * Every program exists twice, as fentry/fexit and as kprobe/kretprobe;
 * src/source_live.c decides before loading which set can attach and turns
 * the other off. Both share the handlers below, which take a "btf" flag
 * that is a compile-time constant: with BTF the kernel structs are read
 * with plain loads, otherwise through bpf_probe_read_kernel().
 *
 * The hot path is iova_bitmap_set(): mlx5 and pds call it once per dirty
 * page. On 6.11 and later a report gets an area of the kernel-side bitmap
 * (kbits, see iova_live.h) when it begins, and an in-range call only sets
 * its bits there: no ring space, so no call lost to a full ring, and
 * scattered pages cost what contiguous ones do. Without an area (before
 * 6.11, no room, --kernel-bitmap 0) each CPU keeps one pending range in a
 * per-CPU slot and extends it while calls are contiguous or overlapping;
 * it is written to the ring buffer only when a call does not fit, the
 * window moves, or the report ends. Out-of-range calls are always ranges
 * and anomalies. See the comment above struct slot for how a task that
 * migrates in the middle of a report is handled.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>

#include "iova_trace.h"
#include "iova_live.h"
#include "iova_compat.bpf.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/*
 * Set by user space before load (src/source_live.c). The callbacks'
 * addresses come from /proc/kallsyms and only serve to recognise them
 * (IOVA_CB_*): no record carries an address.
 */
const volatile __u64 cb_vfio = 0;	/* &vfio_device_log_read_and_clear */
const volatile __u64 cb_iommufd = 0;	/* &__iommu_read_and_clear_dirty */
/* PAGE_SHIFT of the running kernel: the unit user bitmaps are pinned in */
const volatile __u32 kpage_shift = 12;
const volatile __u32 nr_cpus = 1;
const volatile __u64 verify_max_bytes = 0;	/* 0: no --verify read-back */
const volatile __u64 wakeup_bytes = 256 * 1024;
const volatile bool coalesce = true;
/* words of kbits areas may take; 0: the kernel-side bitmap is off */
const volatile __u64 kb_words = 0;

#define MAX_BITMAPS	4096
#define MAX_TASKS	4096
#define MAX_CPUS	4096
#define ERRNO_MAX	4095

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 8 << 20);	/* resized by user space */
} rb SEC(".maps");

/*
 * The kernel-side bitmap (see iova_live.h): u64 words, sized by user
 * space, mapped by it to read the areas of finished reports.
 */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, 1);	/* resized by user space */
	__type(key, __u32);
	__type(value, __u64);
} kbits SEC(".maps");

struct iova_kb_area kb_areas[IOVA_KB_AREAS];
__u64 kb_lock = 0;
/*
 * Descriptors not FREE, or more: kb_open() adds one under kb_lock before
 * an area goes LIVE, user space takes one off after it marks an area
 * FREE. Zero thus means every descriptor is free and kbits all clear, and
 * the fit can start at word 0 without visiting the 64 of them.
 */
__u64 kb_nlive = 0;

/*
 * The hot path of a report with an area: one entry per bitmap, found by
 * the bitmap's address alone, so that a call costs one table index, one
 * compare of the owner, the window bounds and the bits. No per-CPU slot:
 * only the task inside iova_bitmap_for_each() calls iova_bitmap_set() on
 * its bitmap, one call at a time, so the entry has one writer and needs
 * neither a busy flag nor an owner check per CPU.
 *
 * bitmap says who holds the entry:
 *
 *   0               free
 *   KB_FAST_CLAIMING
 *                   being filled by the report that won it from 0
 *   the address     the report on that bitmap takes calls inside
 *                   [first, last] here
 *
 * Only that report's task claims (set_slow(), once its window is known),
 * refreshes (set_slow() again when the window moves) and releases it (at
 * for_each exit); for_each entry, free and alloc release an entry a report
 * left behind before its area is abandoned, so no call lands in an area
 * handed back to user space. Two bitmaps whose addresses share an entry:
 * the second one's calls take the per-CPU slot path, correctly.
 */
#define KB_FAST_CLAIMING	1ULL	/* never the address of a bitmap */

struct iova_kb_fast kb_fast[IOVA_KB_FAST_ENTRIES];
__u64 kb_fast_missed = 0;	/* see kb_fast_set() */

/*
 * The entry of a bitmap, by its address. The fentry programs see that
 * address as a pointer to the struct, which the verifier lets no one
 * shift or mask, but the difference of two pointers is a number: the
 * offset from kb_fast[] itself serves as well as the address. Hence only
 * the BTF programs use the entries; the kprobe ones keep to the slots.
 */
static __always_inline __u32 kb_fast_index(__u64 bitmap)
{
	__u64 d = bitmap - (__u64)kb_fast;

	/* subtract first: no shift may reach the pointers themselves */
	asm volatile("" : "+r"(d));
	/* struct iova_bitmap comes from kmalloc-96 or -128: bits 6 up vary */
	return (d >> 6) & (IOVA_KB_FAST_ENTRIES - 1);
}

static __always_inline struct iova_kb_fast *kb_fast_of(__u64 bitmap)
{
	return &kb_fast[kb_fast_index(bitmap)];
}

/* What is known of one live struct iova_bitmap, keyed by its address. */
struct bm_state {
	__u64 bitmap_id;
	__u64 iova;		/* the whole bitmap */
	__u64 length;
	__u64 page_size;
	__u64 user_addr;
	__u64 pgshift;
	__u64 index_bits;	/* unit of mapped_base_index, see compat */
	__u64 report_id;	/* report in progress, 0 when none */
	__u64 ts_begin;
	__u64 callback;		/* IOVA_CB_* */
	/* counters of the report in progress; slots on other CPUs add too */
	__u64 set_calls;
	__u64 ranges;
	__u64 range_bytes;
	__u64 lost;
	__u64 anomalies;
	__u64 cpus;		/* CPUs whose slot took this report, bit 63: >= 63 */
	__u64 ahead_first;	/* 6.8 .. 6.10: range a set-ahead will replay */
	__u64 ahead_last;
	__u64 win_iova;		/* last window reported */
	__u64 win_npages;
	__u64 alloc_lost;	/* the ALLOC record reached neither ring nor map */
	__u64 kb_area;		/* kb_areas[] index + 1 of the report, 0: none */
	__u64 kb_off;
	__u64 kb_nwords;
	/*
	 * kb_fast[] index + 1 of the entry the report holds, 0: none. Set
	 * by the claim, where the fentry program still has the address as a
	 * pointer to index with; the releases off the hot path, where it may
	 * have become a number the verifier will not subtract a pointer
	 * from, go by it.
	 */
	__u64 kb_fast_held;
	struct iova_devkey dev;
	struct iova_rec_task task;
	__u32 layout;
	__u32 path;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, MAX_BITMAPS);
	__type(key, __u64);
	__type(value, struct bm_state);
} bitmaps SEC(".maps");	/* hash, not LRU: an evicted bitmap would be silently wrong */

/*
 * Per task: the hwpt the task's last iommufd dirty-bitmap ioctl named,
 * set at its entry and taken by the report it makes (name_device()). Task
 * storage, not a hash keyed by pid: a lookup in the task's own list
 * instead of a hashed update at entry and a delete at exit, and no exit
 * probe at all. An ioctl that fails before its report leaves its hwpt
 * behind; only a report of the iommufd callback (or an unknown one) takes
 * it, and the next such ioctl of the task replaces it first.
 */
struct hwpt_task {
	__u64 hwpt;		/* low 32 bits the hwpt id, high 32 its context's number */
	__u64 ictx;		/* that context, whose number it is */
	__u32 ictx_id;
	__u32 set;		/* hwpt is this ioctl's, not yet taken */
};

struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct hwpt_task);
} hwpt_ctx SEC(".maps");

/*
 * iommufd contexts by number: hwpt ids are per context, so a device of the
 * iommufd path is (context, hwpt). The context is known by its struct
 * iommufd_ctx address, which must not leave the kernel; records carry the
 * number handed out here instead. The process is part of the key, so a
 * context freed and its address reused by another VMM gets a new number.
 * LRU: a VMM asks for its dirty bitmaps all the time, only contexts gone
 * quiet are dropped, and one that comes back gets a new number.
 */
struct ictx_key {
	__u64 ictx;
	__u32 tgid;
	__u32 pad;
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, MAX_TASKS);
	__type(key, struct ictx_key);
	__type(value, __u32);
} ictx_ids SEC(".maps");

/* Per task: what a kprobe saw, for its kretprobe (which only gets ret). */
struct kp_args {
	__u64 a[4];
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, MAX_TASKS);
	__type(key, __u64);
	__type(value, struct kp_args);
} alloc_args SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, MAX_TASKS);
	__type(key, __u64);
	__type(value, __u64);
} for_each_args SEC(".maps");

/*
 * The pending range of one CPU. A slot belongs to one report (bitmap and
 * report_id) while it holds a range. The task of that report is the only
 * one that extends it, but it may migrate: then its old slot keeps a range
 * until another task on that CPU needs the slot, or the report ends and
 * for_each's exit flushes every CPU the report touched (bm_state.cpus).
 * Those two can race from different CPUs (and from the same CPU: a task
 * preempted in the middle of a release, another one's for_each exit), so
 * report_id says who holds the slot:
 *
 *   0                       free; only a program on the slot's own CPU
 *                           claims it, and publishes report_id last
 *   R                       report R's range
 *   R | SLOT_RELEASING      being released by whoever won the
 *                           compare-and-swap from R; nobody else touches it
 *
 * A releaser names the report it expects (slot_release()), so it can
 * neither release a slot claimed meanwhile by another report nor release
 * the same range twice, and it writes its records with that id, never with
 * what the slot holds by then. "busy" guards an update against a second
 * run of the program on the same CPU; the kernel lets none in (it skips
 * it, kprobe or fentry, and src/source_live.c counts the skipped runs as
 * lost), but the guard costs one store.
 */
#define SLOT_RELEASING	(1ULL << 63)	/* report ids never get there */

struct slot {
	__u64 bitmap;		/* owner, 0 when free */
	__u64 report_id;	/* see above */
	__u64 bitmap_id;
	__u64 first;		/* pending range, inclusive; ncalls 0: none */
	__u64 last;
	__u64 ncalls;
	__u64 bm_first;		/* the owner's bitmap, inclusive */
	__u64 bm_last;
	__u64 win_iova;		/* window when the slot was set up */
	__u64 win_last;		/* last IOVA the pinned pages hold */
	/*
	 * Calls inside [fast_first, fast_last] are inside both the bitmap
	 * and the pinned window, so they neither move the window nor are
	 * anomalies: the hot path takes them without reading the struct.
	 */
	__u64 fast_first;
	__u64 fast_last;
	/* the owner report's area in kbits; kb_nwords 0: none, ranges */
	__u64 kb_off;
	__u64 kb_nwords;
	__u64 pgshift;
	__u32 layout;
	__u32 busy;
	/*
	 * The owner report's counters for what went through this slot; they
	 * join bm_state when the slot is released, so that the hot path
	 * touches no shared cache line and makes no hash lookup.
	 */
	__u64 calls;
	__u64 ranges;
	__u64 bytes;
	__u64 lost;
	__u64 nbatch;		/* batch records written */
	__u32 bq_n;		/* ranges waiting in bq[] */
	__u32 pad32;
	struct iova_live_range bq[IOVA_LIVE_BATCH];
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct slot);
} slots SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, IOVA_CNT_MAX);
	__type(key, __u32);
	__type(value, __u64);
} counters SEC(".maps");

/* REPORT_ENDs the ring had no room for; user space drains them. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, __u64);
	__type(value, struct iova_rec_report_end);
} unsent_ends SEC(".maps");

/*
 * REPORT_BEGINs that could not be sent even again at the report's end;
 * user space delivers one just before its REPORT_END, so that every
 * report is attributed to its device.
 */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, __u64);
	__type(value, struct iova_rec_report_begin);
} unsent_begins SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, __u64);
	__type(value, struct iova_rec_alloc);
} unsent_allocs SEC(".maps");

/* Room to build a stashed record: the BPF stack is only 512 bytes. */
union scratch {
	struct iova_rec_alloc alloc;
	struct iova_rec_report_begin begin;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, union scratch);
} scratch SEC(".maps");

/* What new bitmaps_state entries start from, kept off the stack too. */
static const struct bm_state bm_zero;

static __always_inline void kb_close(struct bm_state *bm, __u64 state);

/* Sequence numbers: a bitmap's, a report's, an iommufd context's name. */
__u64 bitmap_seq = 0;
__u64 report_seq = 0;
__u64 ictx_seq = 0;

/*
 * The report in progress of each bitmap, indexed by bitmap_id (two live
 * bitmaps 4096 ids apart share an entry, and the one that is not in it
 * takes the slow path, correctly). The hot path compares its slot's
 * report_id with it: a slot left behind by a report that never ended (a
 * kretprobe the kernel missed, a fexit it skipped) holds an id that is no
 * longer here, so it cannot take the calls of the bitmap's next report,
 * nor those of a new bitmap at the same address. An array in .bss, not a
 * hash lookup: the hot path stays one load away from it.
 */
#define OPEN_REPORTS	MAX_BITMAPS
__u64 open_report[OPEN_REPORTS];

static __always_inline __u64 *open_report_of(__u64 bitmap_id)
{
	return &open_report[bitmap_id & (OPEN_REPORTS - 1)];
}

/* The report rid of a bitmap is over: its entry goes, if still its own. */
static __always_inline void open_report_end(__u64 bitmap_id, __u64 rid)
{
	if (rid)
		__sync_val_compare_and_swap(open_report_of(bitmap_id), rid, 0);
}

/*
 * for_each entries the bitmaps map had no room for: their calls are
 * counted as the map's loss (IOVA_CNT_MAP_FULL_CALLS), not as calls of
 * reports begun before iovatop attached.
 */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, MAX_BITMAPS);
	__type(key, __u64);
	__type(value, __u64);
} untraced SEC(".maps");

static __always_inline void cnt_add(__u32 idx, __u64 n)
{
	__u64 *c = bpf_map_lookup_elem(&counters, &idx);

	if (c)
		*c += n;
}

/*
 * The most bytes waiting in the ring buffer since user space last took
 * the figure (src/source_live.c swaps it for 0 at every snapshot): the
 * ring's fill peak, for the tool's health. Noted only where the ring is
 * asked anyway (rec_submit(), the hot path every 4th batch) and where a
 * record found no room, so the hot path pays one compare. Not atomic: two
 * CPUs racing may keep the lower of two close figures, never a wrong one.
 */
__u64 ring_peak = 0;

static __always_inline void ring_peak_note(__u64 avail)
{
	if (avail > ring_peak)
		ring_peak = avail;
}

/* A record the ring had no room for: counted, and the ring is full. */
static __always_inline void ring_drop(void)
{
	cnt_add(IOVA_CNT_RINGBUF_DROPS, 1);
	ring_peak_note(bpf_ringbuf_query(&rb, BPF_RB_AVAIL_DATA));
}

static __always_inline void *rec_reserve(__u32 size, __u16 type)
{
	struct iova_rec_hdr *h = bpf_ringbuf_reserve(&rb, size, 0);

	if (!h) {
		ring_drop();
		return NULL;
	}
	h->type = type;
	h->size = size;
	h->cpu = bpf_get_smp_processor_id();
	h->ts_ns = bpf_ktime_get_ns();
	return h;
}

/*
 * Wake the reader only when it matters: at a report end that needs it
 * (handle_for_each_exit()), or when the ring fills up. A wakeup per
 * record costs more than the record; the reader takes the rest when its
 * poll times out.
 */
static __always_inline void rec_submit(void *rec, bool wake)
{
	__u64 avail = bpf_ringbuf_query(&rb, BPF_RB_AVAIL_DATA);
	__u64 flags = BPF_RB_NO_WAKEUP;

	ring_peak_note(avail);
	if (wake || avail >= wakeup_bytes)
		flags = BPF_RB_FORCE_WAKEUP;
	bpf_ringbuf_submit(rec, flags);
}

/*
 * The hot path's variant: asks how full the ring is only every 4th batch
 * record of a slot (64 ranges), which is plenty with a wakeup threshold
 * of a quarter of the ring.
 */
static __always_inline void rec_submit_hot(void *rec, __u64 nth)
{
	if (nth % 4 == 0)
		rec_submit(rec, false);
	else
		bpf_ringbuf_submit(rec, BPF_RB_NO_WAKEUP);
}

/*
 * Write the queued ranges as one record of report rid (the slot's, which a
 * releaser knows better than the slot does); counters stay in the slot.
 */
static __always_inline void slot_flush_batch(struct slot *s, __u64 rid)
{
	struct iova_live_ranges *r;
	__u32 n = s->bq_n;

	if (!n)
		return;
	s->bq_n = 0;
	r = rec_reserve(sizeof(*r), IOVA_LIVE_RANGES);
	if (!r) {
		s->lost += n;
		return;
	}
	r->bitmap_id = s->bitmap_id;
	r->report_id = rid;
	r->count = n;
	r->reserved = 0;
	__builtin_memcpy(r->r, s->bq, sizeof(r->r));
	s->ranges += n;
	rec_submit_hot(r, s->nbatch++);
}

/* Queue the slot's pending range; a full queue goes to the ring. */
static __always_inline void slot_emit(struct slot *s, __u64 rid)
{
	__u32 i = s->bq_n;

	s->calls += s->ncalls;
	s->bytes += s->last - s->first + 1;
	if (i >= IOVA_LIVE_BATCH) {
		slot_flush_batch(s, rid);
		i = 0;
	}
	i &= IOVA_LIVE_BATCH - 1;	/* for the verifier */
	s->bq[i].iova = s->first;
	s->bq[i].length = s->last - s->first + 1;
	s->bq[i].ncalls = s->ncalls;
	s->bq_n = i + 1;
	if (s->bq_n == IOVA_LIVE_BATCH)
		slot_flush_batch(s, rid);
}

/* Hand the slot's counters to its report (bm_state). */
static __always_inline void slot_account(struct slot *s, __u64 bitmap,
					 __u64 rid)
{
	struct bm_state *bm = bpf_map_lookup_elem(&bitmaps, &bitmap);

	if (bm && bm->report_id == rid) {
		__sync_fetch_and_add(&bm->set_calls, s->calls);
		__sync_fetch_and_add(&bm->ranges, s->ranges);
		__sync_fetch_and_add(&bm->range_bytes, s->bytes);
		if (s->lost)
			__sync_fetch_and_add(&bm->lost, s->lost);
	}
	s->calls = 0;
	s->ranges = 0;
	s->bytes = 0;
	s->lost = 0;
}

static __always_inline void fill_task(struct iova_rec_task *t)
{
	__u64 id = bpf_get_current_pid_tgid();

	t->pid = id >> 32;
	t->tid = (__u32)id;
	bpf_get_current_comm(t->comm, sizeof(t->comm));
}

static __always_inline void bm_lost(struct bm_state *bm)
{
	if (bm)
		__sync_fetch_and_add(&bm->lost, 1);
}

static __always_inline void emit_range(struct bm_state *bm, __u64 bitmap_id,
				       __u64 report_id, __u64 first,
				       __u64 last, __u64 ncalls)
{
	struct iova_rec_range *r;

	r = rec_reserve(sizeof(*r), IOVA_REC_RANGE);
	if (r) {
		r->bitmap_id = bitmap_id;
		r->report_id = report_id;
		r->iova = first;
		r->length = last - first + 1;
		r->ncalls = ncalls;
		rec_submit(r, false);
	}
	if (bm && bm->report_id == report_id) {
		__sync_fetch_and_add(&bm->set_calls, ncalls);
		__sync_fetch_and_add(&bm->range_bytes, last - first + 1);
		if (r)
			__sync_fetch_and_add(&bm->ranges, 1);
		else
			__sync_fetch_and_add(&bm->lost, 1);
	}
}

static __always_inline void emit_anomaly(struct bm_state *bm, __u64 iova,
					 __u64 length, __u32 kind)
{
	struct iova_rec_anomaly *a;

	if (bm)
		__sync_fetch_and_add(&bm->anomalies, 1);
	a = rec_reserve(sizeof(*a), IOVA_REC_ANOMALY);
	if (!a) {
		bm_lost(bm);
		return;
	}
	a->bitmap_id = bm ? bm->bitmap_id : 0;
	a->report_id = bm ? bm->report_id : 0;
	a->iova = iova;
	a->length = length;
	a->callback = bm ? bm->callback : IOVA_CB_UNKNOWN;
	a->reserved0 = 0;
	a->kind = kind;
	a->reserved = 0;
	rec_submit(a, false);
}

/* What slot_release() found. */
#define REL_WON		0	/* the range was report rid's and is written */
#define REL_GONE	1	/* the slot holds no range of rid (any more) */
#define REL_BUSY	2	/* someone else is writing rid's range right now */

/*
 * Release the slot's pending range if it belongs to report rid and this
 * caller wins it (see struct slot): the compare-and-swap from rid to
 * rid | SLOT_RELEASING lets exactly one releaser through, and the records
 * name rid, which the caller passed, never what the slot holds meanwhile.
 * The slot is free again only once report_id is 0, stored last with an
 * atomic exchange, which orders every write of the release before it.
 */
static __always_inline int slot_release(struct slot *s, __u64 rid)
{
	__u64 old, bitmap;

	if (!rid || (rid & SLOT_RELEASING))
		return REL_GONE;
	old = __sync_val_compare_and_swap(&s->report_id, rid,
					  rid | SLOT_RELEASING);
	if (old != rid)
		return old == (rid | SLOT_RELEASING) ? REL_BUSY : REL_GONE;
	bitmap = s->bitmap;
	if (s->ncalls)
		slot_emit(s, rid);
	slot_flush_batch(s, rid);
	s->ncalls = 0;
	s->fast_first = 1;
	s->fast_last = 0;
	slot_account(s, bitmap, rid);
	s->bitmap = 0;
	__sync_lock_test_and_set(&s->report_id, 0);
	return REL_WON;
}

struct win {
	__u64 iova;
	__u64 npages;
	__u64 pgoff;
};

/* Last IOVA the pinned pages can hold: 6.1 drops bits past it. */
static __always_inline __u64 win_capacity_last(const struct win *w,
					       __u64 pgshift)
{
	__u64 bits = (w->npages << ((kpage_shift + 3) & 63)) - w->pgoff * 8;

	return w->iova + (bits << (pgshift & 63)) - 1;
}

static __always_inline void read_win(struct iova_bitmap *b, struct win *w,
				     const bool btf)
{
	if (btf) {
		w->iova = b->mapped.iova;
		w->npages = b->mapped.npages;
		w->pgoff = b->mapped.pgoff;
	} else {
		w->iova = BPF_CORE_READ(b, mapped.iova);
		w->npages = BPF_CORE_READ(b, mapped.npages);
		w->pgoff = BPF_CORE_READ(b, mapped.pgoff);
	}
}

static __always_inline void emit_window(struct bm_state *bm,
					struct iova_bitmap *b,
					const struct win *w)
{
	struct iova_rec_window *r;

	bm->win_iova = w->iova;
	bm->win_npages = w->npages;
	if (!w->npages)
		return;		/* 6.11+: nothing pinned yet */
	r = rec_reserve(sizeof(*r), IOVA_REC_WINDOW);
	if (!r) {
		bm_lost(bm);
		return;
	}
	r->bitmap_id = bm->bitmap_id;
	r->report_id = bm->report_id;
	r->iova = w->iova;
	r->length = compat_mapped_length(b, bm->index_bits, kpage_shift);
	/* in u64 words of the user bitmap, whatever the kernel's unit */
	r->base_index = ((w->iova - bm->iova) >> (bm->pgshift & 63)) / 64;
	r->npages = w->npages;
	r->pgoff = w->pgoff;
	rec_submit(r, false);
}

/*
 * 6.8 .. 6.10: iova_bitmap_advance() replays the part of a call that ran
 * past the pinned pages by calling iova_bitmap_set() itself, while
 * set_ahead_length is still non-zero. Such a call lies inside the range
 * recorded when the original call overran (ahead_first..ahead_last); that
 * range is already in the records, so the replay is neither recorded nor
 * counted. A genuine call made while set_ahead_length is pending and that
 * falls inside the same range would be missed in the call count only:
 * its bits are covered. Untested on a running kernel (see compat header).
 */
static __always_inline bool is_set_ahead(struct bm_state *bm, __u64 iova,
					 __u64 last)
{
	return bm && bm->ahead_last && iova >= bm->ahead_first &&
	       last <= bm->ahead_last;
}

/*
 * A call inside the bitmap and the window: merge it into the pending range
 * when it touches or overlaps it, else queue that range and start anew.
 */
static __always_inline void slot_merge(struct slot *s, __u64 iova, __u64 last)
{
	if (coalesce && s->ncalls) {
		if (iova - 1 == s->last) {
			/* the common case: the next page up */
			s->last = last;
			s->ncalls++;
			return;
		}
		if ((iova <= s->last || iova - s->last == 1) &&
		    (last >= s->first || s->first - last == 1)) {
			if (iova < s->first)
				s->first = iova;
			if (last > s->last)
				s->last = last;
			s->ncalls++;
			return;
		}
	}
	if (s->ncalls)
		slot_emit(s, s->report_id);
	s->first = iova;
	s->last = last;
	s->ncalls = 1;
}

/*
 * Set bits fb..lb of the area that starts at word off, as the kernel sets
 * them in the user bitmap: bit i stands for the page at bitmap iova + i
 * pages. At most 64 bits, so one or two words. The words are written
 * without atomics: a report's calls come from the task in
 * iova_bitmap_for_each(), one at a time, and the kernel writes the user
 * bitmap the same way.
 *
 * This is most of the hot path's work, so the masks are made before the
 * lookups and nothing of the call is needed after them: the compiler
 * then keeps no value on the stack across them. A lookup cannot fail (an
 * area lies inside the array, kb_open); false if one did.
 */
static __always_inline bool kb_or(__u64 off, __u64 fb, __u64 lb)
{
	__u32 i0 = off + (fb >> 6), i1 = i0 + 1;
	__u64 m0, m1, *w;

	if ((fb >> 6) == (lb >> 6)) {
		/* one word: a call of one page, nearly always */
		m0 = (~0ULL >> ((63 - (lb - fb)) & 63)) << (fb & 63);
		w = bpf_map_lookup_elem(&kbits, &i0);
		if (!w)
			return false;
		*w |= m0;
		return true;
	}
	m0 = ~0ULL << (fb & 63);
	m1 = ~0ULL >> ((63 - (lb & 63)) & 63);
	w = bpf_map_lookup_elem(&kbits, &i0);
	if (!w)
		return false;
	*w |= m0;
	w = bpf_map_lookup_elem(&kbits, &i1);
	if (!w)
		return false;
	*w |= m1;
	return true;
}

/*
 * A call of the slot's report into its area. Only calls within 64 bits
 * are taken here; longer ones are cheap as ranges. The caller has checked
 * that the call lies inside the bitmap. A failed lookup is counted as
 * lost, which marks the report incomplete.
 */
static __always_inline bool kb_set(struct slot *s, __u64 iova, __u64 last)
{
	__u64 fb = (iova - s->bm_first) >> (s->pgshift & 63);
	__u64 lb = (last - s->bm_first) >> (s->pgshift & 63);

	/* also what no area (kb_nwords 0) gives */
	if (lb - fb >= 64 || (lb >> 6) >= s->kb_nwords)
		return false;
	s->calls++;
	if (!kb_or(s->kb_off, fb, lb))
		s->lost++;
	return true;
}

/*
 * The hot path of a report with an area (see kb_fast[]): a call that
 * falls in one whole page of its window sets its bit and is counted.
 * False for anything else, which the slot path takes. The page is found
 * from the window's start, which lies a whole number of pages from the
 * bitmap's base: the same bit the kernel's (iova - mapped.iova) >>
 * pgshift gives. One unsigned comparison against the window's whole
 * pages stands for both ends: a call below the window wraps to a huge
 * page number. A call whose last byte is in another page (or before
 * its first, a zero length on a page boundary) fails the equality.
 * A failed lookup, which cannot happen (the claim checked the window
 * against the area, and areas lie inside kbits), is counted in
 * kb_fast_missed, which user space adds to the runs the kernel skipped:
 * every report running then is marked incomplete. Counting it in the
 * entry would keep the entry's address in a callee-saved register
 * across the lookup, two instructions more on every call.
 */
static __always_inline bool kb_fast_set(__u64 b, __u64 iova, __u64 len)
{
	struct iova_kb_fast *e = kb_fast_of(b);
	__u64 x, y, *w;
	__u32 i;

	/* one register: clang would otherwise rebuild the address per field */
	asm volatile("" : "+r"(e));
	if (e->bitmap != b)
		return false;
	x = iova - e->first;
	y = x + len - 1;
	x >>= e->pgshift;
	y >>= e->pgshift;
	if (x != y || x >= e->nbits)
		return false;
	x += e->bit0;
	i = x >> 6;
	/* counted before the lookup: one jump fewer on the way out */
	e->calls++;
	w = bpf_map_lookup_elem(&kbits, &i);
	if (w)
		*w |= 1ULL << (x & 63);
	else
		__sync_fetch_and_add(&kb_fast_missed, 1);
	return true;
}

/*
 * Give the slot's report the entry of its bitmap, or refresh the window
 * of the one it holds. Called by the report's task from the slow path,
 * after set_fast_range(): the window is the slot's fast range, cut to
 * whole pages. A window that does not start a whole number of pages
 * from the base, or whose pages would leave the area, gets no entry.
 * Kernels with set-ahead (6.8 .. 6.10) keep to the slots, which skip
 * its replays.
 */
static __always_inline bool kb_fast_window(struct iova_kb_fast *e,
					   const struct bm_state *bm,
					   const struct slot *s)
{
	__u64 sh = bm->pgshift & 63, first = s->fast_first, rel, nbits;

	if (s->fast_last < first || first < bm->iova)
		return false;
	rel = first - bm->iova;
	if (rel & ((1ULL << sh) - 1))
		return false;
	nbits = (s->fast_last - first + 1) >> sh;
	rel >>= sh;
	if (!nbits || rel + nbits > bm->kb_nwords * 64)
		return false;
	e->first = first;
	e->pgshift = sh;
	e->nbits = nbits;
	e->bit0 = bm->kb_off * 64 + rel;
	return true;
}

static __always_inline void kb_fast_claim(struct bm_state *bm, __u64 b,
					  const struct slot *s, __u32 idx)
{
	struct iova_kb_fast *e;

	if (idx >= IOVA_KB_FAST_ENTRIES || !bm->kb_nwords || compat_has_set_ahead())
		return;
	e = &kb_fast[idx];
	if (e->bitmap == b) {
		/* a window that cannot be had: no call may use the old one */
		if (!kb_fast_window(e, bm, s))
			e->nbits = 0;
		return;
	}
	if (__sync_val_compare_and_swap(&e->bitmap, 0, KB_FAST_CLAIMING))
		return;		/* another bitmap's: the slot path it is */
	if (!kb_fast_window(e, bm, s)) {
		__sync_lock_test_and_set(&e->bitmap, 0);
		return;
	}
	e->calls = 0;
	e->report_id = bm->report_id;
	bm->kb_fast_held = idx + 1;
	/* an exchange: the fields are visible before the owner */
	__sync_lock_test_and_set(&e->bitmap, b);
}

/*
 * The bitmap's entry goes back, with its calls to its report if that is
 * still bm's open one. Before kb_close(): once the area is handed back,
 * no call may find it through the entry.
 */
static __always_inline void kb_fast_release(struct bm_state *bm, __u64 b)
{
	struct iova_kb_fast *e;
	__u64 i = bm->kb_fast_held;

	if (!i)
		return;
	bm->kb_fast_held = 0;
	e = &kb_fast[(i - 1) & (IOVA_KB_FAST_ENTRIES - 1)];
	if (e->bitmap != b)
		return;
	if (bm->report_id && e->report_id == bm->report_id)
		__sync_fetch_and_add(&bm->set_calls, e->calls);
	e->calls = 0;
	__sync_lock_test_and_set(&e->bitmap, 0);
}

/* An in-range call: into the area when the report has one, else a range. */
static __always_inline void slot_take(struct slot *s, __u64 iova, __u64 last)
{
	if (kb_set(s, iova, last))
		return;
	slot_merge(s, iova, last);
}

/*
 * Apply one call to the slot, which belongs to bm's report. Out-of-range
 * calls are never merged: each is its own RANGE (the decode library gives
 * it the kernel's treatment) plus an ANOMALY.
 */
static __always_inline void slot_apply(struct slot *s, struct bm_state *bm,
				       __u64 iova, __u64 len)
{
	__u64 last = iova + len - 1;
	__u32 kind = 0;

	if (!len)
		kind = IOVA_ANOM_ZERO_LENGTH;
	else if (last < iova)
		kind = IOVA_ANOM_WRAPS;
	else if (iova < s->bm_first)
		kind = IOVA_ANOM_BELOW_BASE;
	else if (iova > s->bm_last)
		kind = IOVA_ANOM_BEYOND_END;
	else if (last > s->bm_last)
		kind = IOVA_ANOM_CROSSES_END;

	if (!kind && s->layout == IOVA_LAYOUT_V6_1 &&
	    (iova < s->win_iova || last > s->win_last))
		kind = IOVA_ANOM_OUTSIDE_WINDOW;
	if (!kind && s->layout == IOVA_LAYOUT_V6_8 && last > s->win_last) {
		/* remember what the set-ahead will replay */
		bm->ahead_first = iova > s->win_last ? iova : s->win_last + 1;
		bm->ahead_last = last;
	}

	if (kind) {
		if (s->ncalls)
			slot_emit(s, s->report_id);
		slot_flush_batch(s, s->report_id);
		s->ncalls = 0;
		emit_anomaly(bm, iova, len, kind);
		if (kind == IOVA_ANOM_OUTSIDE_WINDOW) {
			/*
			 * 6.1 writes nothing for a call starting below the
			 * window and stops at the last pinned page: record
			 * only what it wrote.
			 */
			if (iova < s->win_iova) {
				__sync_fetch_and_add(&bm->set_calls, 1);
				return;
			}
			last = s->win_last;
		}
		emit_range(bm, s->bitmap_id, s->report_id, iova, last, 1);
		return;
	}
	slot_take(s, iova, last);
}

/* A call that cannot use the slot: recorded on its own. */
static __always_inline void set_direct(struct bm_state *bm, __u64 iova,
				       __u64 len)
{
	emit_range(bm, bm->bitmap_id, bm->report_id, iova, iova + len - 1, 1);
}

/*
 * The range the hot path may take unchecked: the window (6.11+: what
 * iova_bitmap_set() itself tests before moving it; before: what the
 * pinned pages hold) within the bitmap. Empty while nothing is pinned.
 */
static __always_inline void set_fast_range(struct slot *s,
					   struct iova_bitmap *b,
					   const struct win *w,
					   struct bm_state *bm)
{
	__u64 first = w->iova, last;

	s->fast_first = 1;
	s->fast_last = 0;
	if (!w->npages)
		return;
	if (s->layout == IOVA_LAYOUT_V6_11) {
		__u64 len = compat_mapped_length(b, bm->index_bits,
						 kpage_shift);

		if (!len)
			return;
		last = first + len - 1;
	} else {
		last = s->win_last;
	}
	if (first < s->bm_first)
		first = s->bm_first;
	if (last > s->bm_last)
		last = s->bm_last;
	s->fast_first = first;
	s->fast_last = last;
}

/*
 * Slow path: the slot belongs to another report (or none), or the call
 * lies outside the slot's fast range, or a 6.8 set-ahead is pending.
 */
static __always_inline void set_slow(struct slot *s, struct iova_bitmap *b,
				     __u64 iova, __u64 len,
				     const struct win *w, __u64 ahead,
				     const bool btf, __u32 fast_idx)
{
	__u64 bptr = (__u64)b, held, *entry;
	struct bm_state *bm;
	__u32 cpu;

	bm = bpf_map_lookup_elem(&bitmaps, &bptr);
	if (!bm || !bm->report_id) {
		/*
		 * No report traced: the bitmaps map had no room for it, or
		 * the tracer started in the middle of it.
		 */
		if (bpf_map_lookup_elem(&untraced, &bptr))
			cnt_add(IOVA_CNT_MAP_FULL_CALLS, 1);
		else
			cnt_add(IOVA_CNT_UNATTRIBUTED, 1);
		return;
	}
	if (ahead && is_set_ahead(bm, iova, iova + len - 1)) {
		cnt_add(IOVA_CNT_SET_AHEAD, 1);
		return;
	}
	if (s->bitmap != bptr || s->report_id != bm->report_id) {
		held = s->report_id;
		if (held && slot_release(s, held) != REL_WON) {
			/* released elsewhere right now: the slot is not ours */
			set_direct(bm, iova, len);
			return;
		}
		/* free: no range, no queue, counters zero */
		s->bitmap_id = bm->bitmap_id;
		s->bm_first = bm->iova;
		s->bm_last = bm->iova + bm->length - 1;
		s->layout = bm->layout;
		s->kb_off = bm->kb_off;
		s->kb_nwords = bm->kb_nwords;
		s->pgshift = bm->pgshift;
		s->bitmap = bptr;
		cpu = bpf_get_smp_processor_id();
		bm->cpus |= cpu < 63 ? 1ULL << cpu : 1ULL << 63;
		/* claimed once a releaser elsewhere can see the fields */
		__sync_lock_test_and_set(&s->report_id, bm->report_id);
	} else {
		/* the window moved: ranges before it go first */
		if (s->ncalls)
			slot_emit(s, s->report_id);
		slot_flush_batch(s, s->report_id);
		s->ncalls = 0;
	}
	/* the hot path checks the report against this entry */
	entry = open_report_of(bm->bitmap_id);
	if (*entry != bm->report_id)
		*entry = bm->report_id;
	if (w->iova != bm->win_iova || w->npages != bm->win_npages)
		emit_window(bm, b, w);
	s->win_iova = w->iova;
	s->win_last = win_capacity_last(w, bm->pgshift);
	set_fast_range(s, b, w, bm);
	kb_fast_claim(bm, bptr, s, fast_idx);
	slot_apply(s, bm, iova, len);
}

/* Every call kb_fast_set() does not take: the per-CPU slot. */
static __always_inline int set_slot_path(struct iova_bitmap *b, __u64 iova,
					 __u64 len, const bool btf, __u32 fast_idx)
{
	__u32 zero = 0;
	__u64 ahead = 0, last = iova + len - 1;
	struct slot *s;
	struct win w;

	s = bpf_map_lookup_elem(&slots, &zero);
	if (!s)
		return 0;
	/*
	 * Read once for both paths. compat_has_set_ahead() is a CO-RE
	 * constant: on kernels without set_ahead_length (6.1-6.7, 6.11+) the
	 * load is not even in the program.
	 */
	if (compat_has_set_ahead()) {
		if (btf)
			ahead = ((struct iova_bitmap___v6_8 *)b)->set_ahead_length;
		else
			ahead = BPF_CORE_READ((struct iova_bitmap___v6_8 *)b,
					      set_ahead_length);
	}
	if (!ahead && s->bitmap == (__u64)b && !s->busy &&
	    s->report_id == *open_report_of(s->bitmap_id) &&
	    iova >= s->fast_first && last <= s->fast_last && last >= iova) {
		s->busy = 1;
		asm volatile("" ::: "memory");
		slot_take(s, iova, last);
		asm volatile("" ::: "memory");
		s->busy = 0;
		return 0;
	}
	if (btf) {
		w.iova = b->mapped.iova;
		w.npages = b->mapped.npages;
	} else {
		w.iova = BPF_CORE_READ(b, mapped.iova);
		w.npages = BPF_CORE_READ(b, mapped.npages);
	}

	if (s->busy) {
		/* preempted an update of this slot on this CPU: bypass it */
		__u64 bptr = (__u64)b;
		struct bm_state *bm = bpf_map_lookup_elem(&bitmaps, &bptr);

		cnt_add(IOVA_CNT_PREEMPTED, 1);
		if (bm && bm->report_id)
			set_direct(bm, iova, len);
		return 0;
	}
	s->busy = 1;
	asm volatile("" ::: "memory");
	w.pgoff = btf ? b->mapped.pgoff : BPF_CORE_READ(b, mapped.pgoff);
	set_slow(s, b, iova, len, &w, ahead, btf, fast_idx);
	asm volatile("" ::: "memory");
	s->busy = 0;
	return 0;
}

/*
 * The slot path out of line, once per flavour: the hot path then needs
 * nothing of the call after its own lookup, and the compiler spills
 * nothing on its way. The fentry flavour takes the program's context and
 * reads the arguments again: the hot path may then compute in the
 * registers that held them instead of copying them first.
 */
static __noinline int set_slot_btf(__u64 *ctx)
{
	return set_slot_path((struct iova_bitmap *)ctx[0], ctx[1], ctx[2], true,
			     kb_fast_index(ctx[0]));
}

static __noinline int set_slot_kprobe(struct iova_bitmap *b, __u64 iova,
				      __u64 len)
{
	/* the kprobe programs keep to the slots (see kb_fast_of()) */
	return set_slot_path(b, iova, len, false, IOVA_KB_FAST_ENTRIES);
}

/* Fill a bm_state from the struct itself (alloc, or first seen later). */
static __always_inline void bm_init(struct bm_state *bm, struct iova_bitmap *b,
				    __u64 page_size, const bool btf)
{
	__u64 total;

	bm->bitmap_id = __sync_fetch_and_add(&bitmap_seq, 1) + 1;
	/* the fentry flavour loads the fields itself: no probe read each */
	if (btf) {
		bm->iova = b->iova;
		bm->length = b->length;
		bm->pgshift = b->mapped.pgshift;
		bm->user_addr = (__u64)b->bitmap;
		total = b->mapped_total_index;
	} else {
		bm->iova = BPF_CORE_READ(b, iova);
		bm->length = BPF_CORE_READ(b, length);
		bm->pgshift = BPF_CORE_READ(b, mapped.pgshift);
		bm->user_addr = (__u64)BPF_CORE_READ(b, bitmap);
		total = BPF_CORE_READ(b, mapped_total_index);
	}
	bm->page_size = page_size ? page_size : 1ULL << (bm->pgshift & 63);
	bm->index_bits = compat_index_bits(bm->length, bm->pgshift, total);
	bm->layout = compat_layout();
	bm->win_iova = ~0ULL;
	bm->win_npages = ~0ULL;
}

struct ubits_ctx {
	__u64 bitmap_id;
	__u64 report_id;
	__u64 uaddr;
	__u64 total;
	__u32 phase;
	__u32 failed;
};

static long ubits_chunk(__u32 i, struct ubits_ctx *c)
{
	struct iova_live_ubits *u;
	__u64 off = (__u64)i * IOVA_LIVE_UBITS_CHUNK;
	__u32 n;

	if (off >= c->total)
		return 1;
	n = c->total - off > IOVA_LIVE_UBITS_CHUNK ? IOVA_LIVE_UBITS_CHUNK :
						      c->total - off;
	u = rec_reserve(sizeof(*u), IOVA_LIVE_UBITS);
	if (!u) {
		c->failed = 1;
		return 1;
	}
	u->bitmap_id = c->bitmap_id;
	u->report_id = c->report_id;
	u->offset = off;
	u->total = c->total;
	u->nbytes = n;
	u->phase = c->phase;
	u->reserved = 0;
	if (n > IOVA_LIVE_UBITS_CHUNK)	/* for the verifier */
		n = IOVA_LIVE_UBITS_CHUNK;
	u->err = bpf_probe_read_user(u->data, n, (void *)(c->uaddr + off));
	rec_submit(u, false);
	return 0;
}

/*
 * --verify: copy the user bitmap into the ring, in the task that made the
 * ioctl, so it is exactly what the kernel wrote (or, at alloc, what the
 * buffer held before: the kernel ORs into it).
 */
static __always_inline void read_user_bitmap(struct bm_state *bm, __u64 rid,
					     __u32 phase)
{
	struct ubits_ctx c = {};
	__u64 nbits, nbytes;

	if (!verify_max_bytes)
		return;
	nbits = ((bm->length - 1) >> (bm->pgshift & 63)) + 1;
	nbytes = (nbits + 63) / 64 * 8;
	if (nbytes > verify_max_bytes)
		return;		/* user space reports it as skipped */
	c.bitmap_id = bm->bitmap_id;
	c.report_id = rid;
	c.uaddr = bm->user_addr;
	c.total = nbytes;
	c.phase = phase;
	bpf_loop((nbytes + IOVA_LIVE_UBITS_CHUNK - 1) / IOVA_LIVE_UBITS_CHUNK,
		 ubits_chunk, &c, 0);
}

static __always_inline void fill_alloc(struct iova_rec_alloc *a,
				       struct bm_state *bm, __s32 ret,
				       __u64 iova, __u64 length,
				       __u64 page_size, __u64 uaddr)
{
	a->hdr.type = IOVA_REC_ALLOC;
	a->hdr.size = sizeof(*a);
	a->hdr.cpu = bpf_get_smp_processor_id();
	a->hdr.ts_ns = bpf_ktime_get_ns();
	a->bitmap_id = bm ? bm->bitmap_id : 0;
	a->iova = iova;
	a->length = length;
	a->page_size = page_size;
	a->user_addr = uaddr;
	a->ret = ret;
	a->layout = compat_layout();
	/* the bitmap's task was named just before: no second comm copy */
	if (bm)
		a->task = bm->task;
	else
		fill_task(&a->task);
	a->kpage_shift = kpage_shift;
	a->reserved = 0;
}

/*
 * An ALLOC the ring has no room for waits in unsent_allocs: user space
 * delivers it before the bitmap's first REPORT_BEGIN, so the report can
 * still be rebuilt. Only when that fails too is the report incomplete.
 */
static __always_inline void emit_alloc(struct bm_state *bm, __s32 ret,
				       __u64 iova, __u64 length,
				       __u64 page_size, __u64 uaddr)
{
	struct iova_rec_alloc *a;
	union scratch *st;
	__u32 zero = 0;

	a = bpf_ringbuf_reserve(&rb, sizeof(*a), 0);
	if (a) {
		fill_alloc(a, bm, ret, iova, length, page_size, uaddr);
		rec_submit(a, false);
		return;
	}
	ring_drop();
	if (!bm)
		return;		/* a failed alloc: nothing to rebuild */
	st = bpf_map_lookup_elem(&scratch, &zero);
	if (!st) {
		bm->alloc_lost = 1;
		return;
	}
	fill_alloc(&st->alloc, bm, ret, iova, length, page_size, uaddr);
	if (bpf_map_update_elem(&unsent_allocs, &bm->bitmap_id, &st->alloc,
				BPF_ANY))
		bm->alloc_lost = 1;
}

static __always_inline int handle_alloc(__u64 iova, __u64 length,
					__u64 page_size, __u64 data, __u64 ret,
					const bool btf)
{
	struct iova_bitmap *b = (void *)ret;
	struct bm_state *bm;

	if (ret >= (__u64)-ERRNO_MAX || !ret) {
		emit_alloc(NULL, ret ? (__s32)ret : -12, iova, length,
			   page_size, data);
		return 0;
	}
	/* a new address, as it should be: no lookup before the insert */
	if (bpf_map_update_elem(&bitmaps, &ret, &bm_zero, BPF_NOEXIST)) {
		bm = bpf_map_lookup_elem(&bitmaps, &ret);
		if (!bm)
			return 0;	/* no room: for_each entry tries again, counts the loss */
		/* its FREE was missed: a report it left open is over */
		open_report_end(bm->bitmap_id, bm->report_id);
		kb_fast_release(bm, ret);
		kb_close(bm, IOVA_KB_ABANDONED);
		bm->report_id = 0;
		if (bpf_map_update_elem(&bitmaps, &ret, &bm_zero, BPF_ANY))
			return 0;
	}
	bm = bpf_map_lookup_elem(&bitmaps, &ret);
	if (!bm)
		return 0;
	bm_init(bm, b, page_size, btf);
	fill_task(&bm->task);
	emit_alloc(bm, 0, iova, length, page_size, data);
	read_user_bitmap(bm, 0, IOVA_UBITS_BEFORE);
	return 0;
}

static __always_inline void name_device(struct bm_state *bm, void *opaque,
					__u64 fn)
{
	struct hwpt_task *h = NULL;

	__builtin_memset(&bm->dev, 0, sizeof(bm->dev));
	if (cb_vfio && fn == cb_vfio)
		bm->callback = IOVA_CB_VFIO;
	else if (cb_iommufd && fn == cb_iommufd)
		bm->callback = IOVA_CB_IOMMUFD;
	else
		bm->callback = IOVA_CB_OTHER;
	/* a vfio device's report never takes an hwpt a failed ioctl left */
	if (bm->callback != IOVA_CB_VFIO)
		h = bpf_task_storage_get(&hwpt_ctx, bpf_get_current_task_btf(), NULL, 0);
	if (h && h->set) {
		h->set = 0;
		bm->path = IOVA_PATH_IOMMUFD;
		bm->dev.hwpt_id = (__u32)h->hwpt;
		bm->dev.ictx_id = h->hwpt >> 32;
	} else if (bm->callback == IOVA_CB_VFIO) {
		struct vfio_device *vdev = opaque;
		struct device *dev = BPF_CORE_READ(vdev, dev);
		const char *name = BPF_CORE_READ(dev, kobj.name);

		if (!name)
			name = BPF_CORE_READ(dev, init_name);
		bm->path = IOVA_PATH_VFIO;
		if (name)
			bpf_probe_read_kernel_str(bm->dev.devname,
						  sizeof(bm->dev.devname), name);
	} else if (bm->callback == IOVA_CB_IOMMUFD) {
		bm->path = IOVA_PATH_IOMMUFD;	/* hwpt not seen */
	} else {
		bm->path = IOVA_PATH_UNKNOWN;
	}
	bm->dev.path = bm->path;
}

static __always_inline void emit_begin(struct bm_state *bm);

/*
 * First fit in kbits for c->n words: each pass moves the candidate past
 * every area it overlaps. A candidate only grows and passes one area's end
 * at most once, so IOVA_KB_AREAS + 1 passes settle it.
 */
struct kb_fit {
	__u64 cand;
	__u64 n;
	__u64 end;
	__s64 free_idx;
	__u64 moved;
	__u64 found;
};

/*
 * One descriptor against the candidate. Its own callback, not an inner
 * loop of the pass: unrolled, the verifier would walk every combination
 * of what 64 descriptors may hold.
 */
static long kb_fit_visit(__u32 j, struct kb_fit *c)
{
	struct iova_kb_area *d = &kb_areas[j & (IOVA_KB_AREAS - 1)];

	if (*(volatile __u64 *)&d->state == IOVA_KB_FREE) {
		if (c->free_idx < 0)
			c->free_idx = j;
		return 0;
	}
	if (d->off < c->end && c->cand < d->off + d->nwords) {
		c->cand = d->off + d->nwords;
		c->end = c->cand + c->n;
		c->moved = 1;
	}
	return 0;
}

static long kb_fit_pass(__u32 pass, struct kb_fit *c)
{
	c->end = c->cand + c->n;
	c->moved = 0;
	c->free_idx = -1;
	bpf_loop(IOVA_KB_AREAS, kb_fit_visit, c, 0);
	if (!c->moved) {
		c->found = 1;
		return 1;
	}
	return c->end > kb_words;	/* no room left further up */
}

/*
 * Give the report beginning on bm an area of kbits, on layouts where the
 * bits of a call do not depend on the window (6.11 on). Without one (the
 * option is 0, kbits is full, all descriptors are taken, or another CPU
 * holds the lock) the report's calls go through the ring as ranges, as
 * every call did before the kernel-side bitmap.
 */
static __always_inline void kb_open(struct bm_state *bm)
{
	struct kb_fit c = { .cand = 0, .free_idx = -1 };
	struct iova_kb_area *d;
	__u32 i;

	if (!kb_words || bm->layout != IOVA_LAYOUT_V6_11 || !bm->length)
		return;
	c.n = (((bm->length - 1) >> (bm->pgshift & 63)) >> 6) + 1;
	if (c.n > kb_words) {
		cnt_add(IOVA_CNT_KB_NOROOM, 1);
		return;
	}
	if (__sync_val_compare_and_swap(&kb_lock, 0, 1)) {
		cnt_add(IOVA_CNT_KB_NOROOM, 1);
		return;
	}
	if (!*(volatile __u64 *)&kb_nlive) {
		c.found = 1;
		c.free_idx = 0;
	} else {
		bpf_loop(IOVA_KB_AREAS + 1, kb_fit_pass, &c, 0);
	}
	if (!c.found || c.free_idx < 0 || c.cand + c.n > kb_words) {
		__sync_lock_test_and_set(&kb_lock, 0);
		cnt_add(IOVA_CNT_KB_NOROOM, 1);
		return;
	}
	i = c.free_idx & (IOVA_KB_AREAS - 1);
	d = &kb_areas[i];
	d->report_id = bm->report_id;
	d->bitmap_id = bm->bitmap_id;
	d->off = c.cand;
	d->nwords = c.n;
	d->iova = bm->iova;
	d->length = bm->length;
	d->pgshift = bm->pgshift;
	__sync_fetch_and_add(&kb_nlive, 1);
	d->state = IOVA_KB_LIVE;
	__sync_lock_test_and_set(&kb_lock, 0);
	bm->kb_area = i + 1;
	bm->kb_off = c.cand;
	bm->kb_nwords = c.n;
}

/*
 * The report on bm is over: DONE hands its area to user space, which
 * reads it before the REPORT_END; ABANDONED, for a report that will never
 * end, has it cleared and freed unread.
 */
static __always_inline void kb_close(struct bm_state *bm, __u64 state)
{
	__u64 i = bm->kb_area;

	if (!i)
		return;
	bm->kb_area = 0;
	bm->kb_off = 0;
	bm->kb_nwords = 0;
	i = (i - 1) & (IOVA_KB_AREAS - 1);
	/* an exchange: every bit set before it is visible with the state */
	__sync_lock_test_and_set(&kb_areas[i].state, state);
}

static __always_inline int handle_for_each_entry(struct iova_bitmap *b,
						 void *opaque, __u64 fn,
						 const bool btf)
{
	__u64 bptr = (__u64)b;
	struct bm_state *bm;

	bm = bpf_map_lookup_elem(&bitmaps, &bptr);
	if (!bm) {
		/* allocated before we attached: describe it from the struct */
		if (bpf_map_update_elem(&bitmaps, &bptr, &bm_zero, BPF_ANY)) {
			/* the map is full: this report goes untraced */
			__u64 one = 1;

			cnt_add(IOVA_CNT_MAP_FULL, 1);
			bpf_map_update_elem(&untraced, &bptr, &one, BPF_ANY);
			return 0;
		}
		bm = bpf_map_lookup_elem(&bitmaps, &bptr);
		if (!bm)
			return 0;
		bm_init(bm, b, 0, btf);
		fill_task(&bm->task);
		emit_alloc(bm, 0, bm->iova, bm->length, bm->page_size,
			   bm->user_addr);
	}
	/* a report whose exit was missed: its slots must not take ours */
	open_report_end(bm->bitmap_id, bm->report_id);
	kb_fast_release(bm, bptr);
	kb_close(bm, IOVA_KB_ABANDONED);
	bm->report_id = __sync_fetch_and_add(&report_seq, 1) + 1;
	bm->ts_begin = bpf_ktime_get_ns();
	bm->set_calls = 0;
	bm->ranges = 0;
	bm->range_bytes = 0;
	bm->lost = bm->alloc_lost;
	bm->anomalies = 0;
	bm->cpus = 0;
	bm->ahead_first = 0;
	bm->ahead_last = 0;
	/* alloc named it, and the same task reports: its comm stands */
	if (!bm->task.pid || bpf_get_current_pid_tgid() !=
	    ((__u64)bm->task.pid << 32 | bm->task.tid))
		fill_task(&bm->task);
	name_device(bm, opaque, fn);
	kb_open(bm);

	emit_begin(bm);
	*open_report_of(bm->bitmap_id) = bm->report_id;
	return 0;
}

static __always_inline void fill_begin(struct iova_rec_report_begin *r,
				       struct bm_state *bm)
{
	r->hdr.type = IOVA_REC_REPORT_BEGIN;
	r->hdr.size = sizeof(*r);
	r->hdr.cpu = bpf_get_smp_processor_id();
	r->hdr.ts_ns = bm->ts_begin;
	r->bitmap_id = bm->bitmap_id;
	r->report_id = bm->report_id;
	r->callback = bm->callback;
	r->ictx_id = bm->dev.ictx_id;
	r->path = bm->path;
	r->hwpt_id = bm->dev.hwpt_id;
	r->iova = bm->iova;
	r->length = bm->length;
	__builtin_memcpy(r->devname, bm->dev.devname, sizeof(r->devname));
	r->task = bm->task;
}

/*
 * REPORT_BEGIN names the device. One the ring has no room for waits in
 * unsent_begins, and user space delivers it before the first record of
 * the report that does arrive; only when that fails too is the report
 * incomplete (and it may stay unattributed).
 */
static __always_inline void emit_begin(struct bm_state *bm)
{
	struct iova_rec_report_begin *r;
	union scratch *st;
	__u32 zero = 0;

	r = bpf_ringbuf_reserve(&rb, sizeof(*r), 0);
	if (r) {
		fill_begin(r, bm);
		rec_submit(r, false);
		return;
	}
	ring_drop();
	st = bpf_map_lookup_elem(&scratch, &zero);
	if (!st) {
		bm->lost++;
		return;
	}
	fill_begin(&st->begin, bm);
	if (bpf_map_update_elem(&unsent_begins, &bm->report_id, &st->begin,
				BPF_ANY))
		bm->lost++;
}

struct flush_ctx {
	__u64 rid;
	__u64 cpus;
	__u64 late;
	__u32 busy_cpu;		/* the last CPU found releasing our slot */
	__u32 released;	/* that release has ended (wait_release_step()) */
};

/*
 * Another CPU's releaser that took over our slot emits our last range and
 * adds our calls (slot_account()) within a few hundred instructions; the
 * report's end waits for it, so that the END holds them. It runs with
 * migration disabled and cannot be preempted on the test kernels; under
 * emulation it may only run once the emulator switches vCPUs, every
 * 100 ms: 2 M steps outlast that. A release still going after them, as a
 * preempted one can be, marks the report incomplete as before.
 */
#define RELEASE_WAIT_STEPS	(1U << 21)

static long wait_release_step(__u32 i, struct flush_ctx *c)
{
	__u32 zero = 0;
	struct slot *s = bpf_map_lookup_percpu_elem(&slots, &zero, c->busy_cpu);

	if (!s || *(volatile __u64 *)&s->report_id != (c->rid | SLOT_RELEASING)) {
		c->released = 1;
		return 1;
	}
	return 0;
}

/* The number of the highest bit set, from 1; 0 for none. */
static __always_inline __u32 fls64_(__u64 x)
{
	__u32 n = 0;

	if (x >> 32) {
		n += 32;
		x >>= 32;
	}
	if (x >> 16) {
		n += 16;
		x >>= 16;
	}
	if (x >> 8) {
		n += 8;
		x >>= 8;
	}
	if (x >> 4) {
		n += 4;
		x >>= 4;
	}
	if (x >> 2) {
		n += 2;
		x >>= 2;
	}
	if (x >> 1) {
		n += 1;
		x >>= 1;
	}
	return n + (x != 0);
}

static long flush_cpu(__u32 cpu, struct flush_ctx *c)
{
	__u32 zero = 0;
	struct slot *s;

	if (cpu >= nr_cpus)
		return 1;
	if (cpu < 63 && !(c->cpus & (1ULL << cpu)))
		return 0;
	if (cpu >= 63 && !(c->cpus & (1ULL << 63)))
		return 1;
	s = bpf_map_lookup_percpu_elem(&slots, &zero, cpu);
	if (s && slot_release(s, c->rid) == REL_BUSY) {
		/*
		 * Another task on that CPU is emitting our range right now;
		 * the exit waits for one such (wait_release_step()), and a
		 * report it could not wait for is marked incomplete rather
		 * than possibly wrong.
		 */
		c->late++;
		c->busy_cpu = cpu;
	}
	return 0;
}

static __always_inline int handle_for_each_exit(struct iova_bitmap *b,
						__s32 ret, const bool btf)
{
	__u64 bptr = (__u64)b;
	struct iova_rec_report_end end = {}, *e;
	struct flush_ctx fc;
	struct bm_state *bm;
	struct win w;
	bool wake;

	bm = bpf_map_lookup_elem(&bitmaps, &bptr);
	if (!bm || !bm->report_id)
		return 0;

	/*
	 * Every CPU the report's task ran on may hold a pending range. Most
	 * reports ran on one: its slot directly, without a loop; else the
	 * loop stops at the highest CPU marked, not at the machine's last.
	 */
	fc.rid = bm->report_id;
	fc.cpus = bm->cpus;
	fc.late = 0;
	fc.busy_cpu = 0;
	fc.released = 0;
	if (fc.cpus) {
		__u32 n = fc.cpus >> 63 ? MAX_CPUS : fls64_(fc.cpus);

		if (n <= 63 && !(fc.cpus & (fc.cpus - 1)))
			flush_cpu(n - 1, &fc);
		else
			bpf_loop(n < nr_cpus ? n : nr_cpus < MAX_CPUS ? nr_cpus : MAX_CPUS,
				 flush_cpu, &fc, 0);
	}
	if (fc.late == 1) {
		fc.released = 0;
		bpf_loop(RELEASE_WAIT_STEPS, wait_release_step, &fc, 0);
		if (fc.released)
			fc.late = 0;
	}
	if (fc.late)
		__sync_fetch_and_add(&bm->lost, fc.late);

	/* 6.11+: the last call may have moved the window */
	read_win(b, &w, btf);
	if (w.iova != bm->win_iova || w.npages != bm->win_npages)
		emit_window(bm, b, &w);

	read_user_bitmap(bm, bm->report_id, IOVA_UBITS_AFTER);
	/*
	 * The reader polls every 100 ms at most and takes what came without
	 * a wakeup then; a wakeup per report (an interrupt and a task to
	 * enqueue) is worth it only where an area held until the reader comes
	 * could leave the next report without one: kbits past half full, or
	 * the first half of the descriptors taken. A report without an area
	 * (ranges) wakes it as before.
	 */
	wake = !bm->kb_area || bm->kb_area > IOVA_KB_AREAS / 2 ||
	       bm->kb_off + bm->kb_nwords > kb_words / 2;
	/* the slots and the entry are released: every call's bits are in */
	kb_fast_release(bm, bptr);
	kb_close(bm, IOVA_KB_DONE);

	end.hdr.type = IOVA_REC_REPORT_END;
	end.hdr.size = sizeof(end);
	end.hdr.cpu = bpf_get_smp_processor_id();
	end.hdr.ts_ns = bpf_ktime_get_ns();
	end.bitmap_id = bm->bitmap_id;
	end.report_id = bm->report_id;
	end.duration_ns = end.hdr.ts_ns - bm->ts_begin;
	end.set_calls = bm->set_calls;
	end.ranges = bm->ranges;
	end.lost = bm->lost;
	end.anomalies = bm->anomalies;
	end.ret = ret;
	if (end.lost)
		end.flags |= IOVA_REPORT_INCOMPLETE;
	if (end.anomalies)
		end.flags |= IOVA_REPORT_ANOMALY;

	e = bpf_ringbuf_reserve(&rb, sizeof(*e), 0);
	if (e) {
		__builtin_memcpy(e, &end, sizeof(end));
		rec_submit(e, wake);
	} else {
		/* user space finds it there and marks it incomplete */
		ring_drop();
		cnt_add(IOVA_CNT_END_STASHED, 1);
		end.flags |= IOVA_REPORT_INCOMPLETE;
		bpf_map_update_elem(&unsent_ends, &end.report_id, &end,
				    BPF_ANY);
	}
	open_report_end(bm->bitmap_id, bm->report_id);
	bm->report_id = 0;
	bm->alloc_lost = 0;
	return 0;
}

static __always_inline int handle_free(struct iova_bitmap *b, const bool btf)
{
	__u64 bptr = (__u64)b;
	struct iova_rec_free *f;
	struct bm_state *bm;

	bm = bpf_map_lookup_elem(&bitmaps, &bptr);
	if (!bm) {
		bpf_map_delete_elem(&untraced, &bptr);
		return 0;
	}
	/* a report still open here never ended: none of its slots may live on */
	open_report_end(bm->bitmap_id, bm->report_id);
	kb_fast_release(bm, bptr);
	kb_close(bm, IOVA_KB_ABANDONED);
	f = rec_reserve(sizeof(*f), IOVA_REC_FREE);
	if (f) {
		f->bitmap_id = bm->bitmap_id;
		rec_submit(f, false);	/* nothing waits on it: the next poll */
	}
	bpf_map_delete_elem(&bitmaps, &bptr);
	return 0;
}

/*
 * The number of the iommufd context ictx in this process (see ictx_ids),
 * handing out the next one the first time; 0 when ictx is unknown or the
 * map refuses it (the report is then named by its process alone).
 */
static __always_inline __u32 ictx_number(__u64 ictx, __u32 tgid)
{
	struct ictx_key k = { .ictx = ictx, .tgid = tgid };
	__u32 *have, n;

	if (!ictx)
		return 0;
	have = bpf_map_lookup_elem(&ictx_ids, &k);
	if (have)
		return *have;
	n = (__u32)(__sync_fetch_and_add(&ictx_seq, 1) + 1);
	/* another thread of the VMM may have numbered it first: take that */
	if (bpf_map_update_elem(&ictx_ids, &k, &n, BPF_NOEXIST)) {
		have = bpf_map_lookup_elem(&ictx_ids, &k);
		return have ? *have : 0;
	}
	return n;
}

static __always_inline void task_set_hwpt(struct iommufd_ucmd *ucmd, const bool btf)
{
	struct hwpt_task *h;
	__u64 ictx;

	h = bpf_task_storage_get(&hwpt_ctx, bpf_get_current_task_btf(), NULL,
				 BPF_LOCAL_STORAGE_GET_F_CREATE);
	if (!h)
		return;		/* the report is named "hwpt ?" of its process */
	/* a VMM's thread asks of one context: number it once, not per ioctl */
	ictx = compat_ucmd_ictx(ucmd, btf);
	if (ictx != h->ictx || !h->ictx_id) {
		h->ictx_id = ictx_number(ictx, bpf_get_current_pid_tgid() >> 32);
		h->ictx = ictx;
	}
	h->hwpt = (compat_ucmd_hwpt(ucmd, btf) & 0xffffffffULL) | (__u64)h->ictx_id << 32;
	h->set = 1;
}

/* ---- fentry / fexit ---------------------------------------------------- */

SEC("fexit/iova_bitmap_alloc")
int BPF_PROG(fexit_alloc, unsigned long iova, size_t length,
	     unsigned long page_size, u64 *data, struct iova_bitmap *ret)
{
	return handle_alloc(iova, length, page_size, (__u64)data, (__u64)ret,
			    true);
}

/*
 * The third argument is a function pointer, which the verifier refuses
 * to read from the context ("is not a struct"): bpf_get_func_arg() reads
 * it from the trampoline's copy instead.
 */
SEC("fentry/iova_bitmap_for_each")
int fentry_for_each(unsigned long long *ctx)
{
	struct iova_bitmap *b = (void *)ctx[0];
	__u64 opaque = 0, fn = 0;

	bpf_get_func_arg(ctx, 1, &opaque);
	bpf_get_func_arg(ctx, 2, &fn);
	return handle_for_each_entry(b, (void *)opaque, fn, true);
}

SEC("fexit/iova_bitmap_for_each")
int fexit_for_each(unsigned long long *ctx)
{
	struct iova_bitmap *b = (void *)ctx[0];
	__u64 ret = 0;

	bpf_get_func_ret(ctx, &ret);
	return handle_for_each_exit(b, (__s32)ret, true);
}

/* struct iova_bitmap *bitmap, unsigned long iova, size_t length */
SEC("fentry/iova_bitmap_set")
int fentry_set(__u64 *ctx)
{
	if (kb_fast_set(ctx[0], ctx[1], ctx[2]))
		return 0;
	return set_slot_btf(ctx);
}

SEC("fentry/iova_bitmap_free")
int BPF_PROG(fentry_free, struct iova_bitmap *bitmap)
{
	return handle_free(bitmap, true);
}

SEC("fentry/iommufd_hwpt_get_dirty_bitmap")
int BPF_PROG(fentry_hwpt_dirty, struct iommufd_ucmd *ucmd)
{
	task_set_hwpt(ucmd, true);
	return 0;
}

/* ---- kprobe / kretprobe: no BTF for the function ------------------------ */

SEC("kprobe/iova_bitmap_alloc")
int BPF_KPROBE(kprobe_alloc, unsigned long iova, size_t length,
	       unsigned long page_size, void *data)
{
	__u64 id = bpf_get_current_pid_tgid();
	struct kp_args a = { { iova, length, page_size, (__u64)data } };

	bpf_map_update_elem(&alloc_args, &id, &a, BPF_ANY);
	return 0;
}

SEC("kretprobe/iova_bitmap_alloc")
int BPF_KRETPROBE(kretprobe_alloc, void *ret)
{
	__u64 id = bpf_get_current_pid_tgid();
	struct kp_args *a = bpf_map_lookup_elem(&alloc_args, &id);

	if (!a)
		return 0;
	handle_alloc(a->a[0], a->a[1], a->a[2], a->a[3], (__u64)ret, false);
	bpf_map_delete_elem(&alloc_args, &id);
	return 0;
}

SEC("kprobe/iova_bitmap_for_each")
int BPF_KPROBE(kprobe_for_each, struct iova_bitmap *bitmap, void *opaque,
	       void *fn)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u64 b = (__u64)bitmap;

	bpf_map_update_elem(&for_each_args, &id, &b, BPF_ANY);
	return handle_for_each_entry(bitmap, opaque, (__u64)fn, false);
}

SEC("kretprobe/iova_bitmap_for_each")
int BPF_KRETPROBE(kretprobe_for_each, int ret)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u64 *b = bpf_map_lookup_elem(&for_each_args, &id);

	if (!b)
		return 0;
	handle_for_each_exit((void *)*b, ret, false);
	bpf_map_delete_elem(&for_each_args, &id);
	return 0;
}

SEC("kprobe/iova_bitmap_set")
int BPF_KPROBE(kprobe_set, struct iova_bitmap *bitmap, unsigned long iova,
	       size_t length)
{
	return set_slot_kprobe(bitmap, iova, length);
}

SEC("kprobe/iova_bitmap_free")
int BPF_KPROBE(kprobe_free, struct iova_bitmap *bitmap)
{
	return handle_free(bitmap, false);
}

SEC("kprobe/iommufd_hwpt_get_dirty_bitmap")
int BPF_KPROBE(kprobe_hwpt_dirty, struct iommufd_ucmd *ucmd)
{
	task_set_hwpt(ucmd, false);
	return 0;
}
