// SPDX-License-Identifier: GPL-2.0
/*
 * source_live.c - the live source: with what src/live_probe.c found
 * about the kernel, pick fentry/fexit or kprobes, load and attach
 * bpf/iova_trace.bpf.c, and hand every record of its ring buffer, in
 * order, to a sink (with the --verify verdicts of src/verify.c).
 *
 * Besides the ring buffer it reads the maps the BPF side keeps: the per-CPU
 * counters (drops turned into IOVA_REC_LOST records, set calls of reports
 * begun before the probes attached), and the records the ring had no room
 * for (unsent_allocs, unsent_begins, unsent_ends), delivered in order.
 * And what the kernel counts for us: every program's recursion_misses,
 * the runs it skipped (see skipped_sample()).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "cli_util.h"
#include "iova_bitmap_decode.h"
#include "kbits_runs.h"
#include "live_probe.h"
#include "source_live.h"
#include "verify.h"
#include "iova_trace.skel.h"
#include "../bpf/iova_live.h"

#define DEFAULT_RINGBUF_BYTES	(8u << 20)
#define OPEN_REPORTS		64
#define SEEN_ALLOCS		256

struct open_report {
	uint64_t report_id;
	uint64_t bitmap_id;
	bool used;
};

struct live {
	struct live_opts opts;
	struct iova_trace_bpf *skel;
	struct ring_buffer *rb;
	uint32_t rb_bytes;		/* the ring's size */
	/* its consumer and producer pages, read-only, for the fill */
	void *rb_pos;
	size_t rb_pos_len;
	struct ksym ksyms[FN_MAX];
	const char *mode;		/* "fentry" or "kprobe" */
	char mode_why[512];
	uint32_t layout;
	int ncpus;
	uint64_t drops_seen;		/* drops already reported as LOST */
	uint64_t last_ts;		/* latest timestamp delivered */
	uint64_t map_full_seen;		/* untraced reports reported as LOST */
	uint64_t skipped_seen;		/* recursion_misses reported as LOST */
	uint64_t skipped_ts;		/* when an increase was last seen */
	uint64_t lost_total;
	/* the sink of the current live_poll() */
	iova_sink_fn sink;
	void *sink_ctx;
	int sink_ret;
	int delivered;
	struct open_report open[OPEN_REPORTS];
	uint64_t seen_alloc[SEEN_ALLOCS];	/* ALLOCs delivered lately */
	unsigned int seen_next;
	uint64_t no_begin;		/* report whose BEGIN is nowhere */
	enum ibd_rule rule;
	uint32_t index_bits;		/* 8 or 64: unit of mapped_base_index */
	struct verify vf;		/* --verify; vf.max 0 when off */
	/* the kernel-side bitmap, mapped; NULL when off */
	uint64_t *kb;
	size_t kb_len;
	uint64_t kb_words;
};

static bool verbose_libbpf;

static int libbpf_print(enum libbpf_print_level level, const char *fmt,
			va_list ap)
{
	(void)level;
	/* warnings too: our own sentences say what failed */
	if (!verbose_libbpf)
		return 0;
	return vfprintf(stderr, fmt, ap);
}

static void vlog(const struct live *l, const char *fmt, ...)
{
	va_list ap;

	if (!l->opts.verbose)
		return;
	va_start(ap, fmt);
	fprintf(stderr, "%s: ", cli_name);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}


/* Attach p now, if it is to be loaded; the skeleton skips it later. */
static int attach_now(struct bpf_program *p, struct bpf_link **link)
{
	if (!bpf_program__autoload(p))
		return 0;
	*link = bpf_program__attach(p);
	return *link ? 0 : -errno;
}

/*
 * The probe on iommufd_hwpt_get_dirty_bitmap() goes first. Attaching
 * takes a while (each trampoline is a text patch, ~0.1 s under
 * emulation), and in the old order, iova_bitmap first, the live demo
 * showed the first reports of every hwpt as "hwpt ?": they ran before
 * the probe that names their hwpt.
 */
static int attach_hwpt_first(struct iova_trace_bpf *s)
{
	int ret;

	ret = attach_now(s->progs.fentry_hwpt_dirty, &s->links.fentry_hwpt_dirty);
	if (!ret)
		ret = attach_now(s->progs.kprobe_hwpt_dirty,
				 &s->links.kprobe_hwpt_dirty);
	return ret;
}


/*
 * The hwpt probes only name a report; without them it is still traced,
 * as "hwpt ?" of its process. So a probe that does not attach (the
 * function inlined or renamed by the compiler, blacklisted for kprobes)
 * is dropped, not fatal: what did attach is detached, the skeleton is
 * told not to try again, and -v says why.
 */
static void drop_hwpt_probes(struct iova_trace_bpf *s)
{
	struct bpf_program *progs[] = {
		s->progs.fentry_hwpt_dirty, s->progs.kprobe_hwpt_dirty,
	};
	struct bpf_link **links[] = {
		&s->links.fentry_hwpt_dirty, &s->links.kprobe_hwpt_dirty,
	};
	size_t i;

	for (i = 0; i < sizeof(progs) / sizeof(progs[0]); i++) {
		bpf_link__destroy(*links[i]);
		*links[i] = NULL;
		bpf_program__set_autoattach(progs[i], false);
	}
}

static void set_fentry_progs(struct iova_trace_bpf *s, bool on, bool hwpt)
{
	bpf_program__set_autoload(s->progs.fexit_alloc, on);
	bpf_program__set_autoload(s->progs.fentry_for_each, on);
	bpf_program__set_autoload(s->progs.fexit_for_each, on);
	bpf_program__set_autoload(s->progs.fentry_set, on);
	bpf_program__set_autoload(s->progs.fentry_free, on);
	bpf_program__set_autoload(s->progs.fentry_hwpt_dirty, on && hwpt);
}

static void set_kprobe_progs(struct iova_trace_bpf *s, bool on, bool hwpt)
{
	bpf_program__set_autoload(s->progs.kprobe_alloc, on);
	bpf_program__set_autoload(s->progs.kretprobe_alloc, on);
	bpf_program__set_autoload(s->progs.kprobe_for_each, on);
	bpf_program__set_autoload(s->progs.kretprobe_for_each, on);
	bpf_program__set_autoload(s->progs.kprobe_set, on);
	bpf_program__set_autoload(s->progs.kprobe_free, on);
	bpf_program__set_autoload(s->progs.kprobe_hwpt_dirty, on && hwpt);
}

static uint32_t round_ringbuf(uint32_t bytes)
{
	uint32_t r = 4096;

	while (r < bytes && r < (1u << 30))
		r <<= 1;
	return r;
}

static int deliver(struct live *l, const struct iova_rec_hdr *h)
{
	int ret = l->sink ? l->sink(l->sink_ctx, h) : 0;

	if (h->ts_ns > l->last_ts)
		l->last_ts = h->ts_ns;
	if (ret) {
		l->sink_ret = ret;
		return ret;
	}
	l->delivered++;
	return 0;
}

static struct open_report *open_find(struct live *l, uint64_t report_id)
{
	int i;

	for (i = 0; i < OPEN_REPORTS; i++)
		if (l->open[i].used && l->open[i].report_id == report_id)
			return &l->open[i];
	return NULL;
}

static void open_add(struct live *l, uint64_t report_id, uint64_t bitmap_id)
{
	int i, victim = 0;

	for (i = 0; i < OPEN_REPORTS; i++) {
		if (!l->open[i].used) {
			victim = i;
			break;
		}
		if (l->open[i].report_id < l->open[victim].report_id)
			victim = i;
	}
	l->open[victim].used = true;
	l->open[victim].report_id = report_id;
	l->open[victim].bitmap_id = bitmap_id;
}

static bool alloc_seen(struct live *l, uint64_t bitmap_id)
{
	int i;

	for (i = 0; i < SEEN_ALLOCS; i++)
		if (l->seen_alloc[i] == bitmap_id)
			return true;
	return false;
}

static void alloc_mark(struct live *l, uint64_t bitmap_id)
{
	l->seen_alloc[l->seen_next++ % SEEN_ALLOCS] = bitmap_id;
}

/*
 * Records the ring had no room for, left in maps by the BPF side: an
 * ALLOC goes before the first REPORT_BEGIN of its bitmap, a REPORT_BEGIN
 * before the first record of its report that did arrive. Then the report
 * is attributed and rebuilt as if nothing had been lost.
 */
static int deliver_unsent_alloc(struct live *l, uint64_t bitmap_id)
{
	int fd = bpf_map__fd(l->skel->maps.unsent_allocs);
	struct iova_rec_alloc a;

	if (!bitmap_id || alloc_seen(l, bitmap_id))
		return 0;
	if (bpf_map_lookup_elem(fd, &bitmap_id, &a))
		return 0;
	bpf_map_delete_elem(fd, &bitmap_id);
	alloc_mark(l, bitmap_id);
	if (l->vf.max)
		verify_record(&l->vf, &a.hdr);
	return deliver(l, &a.hdr);
}

static int ensure_begin(struct live *l, uint64_t report_id)
{
	int fd = bpf_map__fd(l->skel->maps.unsent_begins);
	struct iova_rec_report_begin b;
	int ret;

	if (!report_id || open_find(l, report_id) || report_id == l->no_begin)
		return 0;
	if (bpf_map_lookup_elem(fd, &report_id, &b)) {
		l->no_begin = report_id;	/* do not ask again per record */
		return 0;
	}
	bpf_map_delete_elem(fd, &report_id);
	ret = deliver_unsent_alloc(l, b.bitmap_id);
	if (ret)
		return ret;
	open_add(l, b.report_id, b.bitmap_id);
	if (l->vf.max)
		verify_record(&l->vf, &b.hdr);
	return deliver(l, &b.hdr);
}

/*
 * The time of a record user space makes up (a lost END, a LOST count): the
 * latest one delivered, so a trace that ends in a loss still spans its
 * records; before any, now on the records' clock (bpf_ktime_get_ns()).
 */
static uint64_t stamp(const struct live *l)
{
	struct timespec ts;

	if (l->last_ts || clock_gettime(CLOCK_MONOTONIC, &ts))
		return l->last_ts;
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* What a run of an area becomes: a RANGE record of its report. */
struct kb_emit {
	struct live *l;
	const struct iova_kb_area *a;
	struct iova_rec_range r;
};

static int kb_run(void *ctx, uint64_t first_bit, uint64_t last_bit)
{
	struct kb_emit *e = ctx;
	uint64_t shift = e->a->pgshift & 63;
	uint64_t first = e->a->iova + (first_bit << shift);
	uint64_t last = e->a->iova + ((last_bit + 1) << shift) - 1;
	uint64_t bm_last = e->a->iova + e->a->length - 1;

	/* the last page may reach past the bitmap; the kernel's bit does not */
	if (last > bm_last || last < first)
		last = bm_last;
	e->r.iova = first;
	e->r.length = last - first + 1;
	if (e->l->vf.max)
		verify_record(&e->l->vf, &e->r.hdr);
	return deliver(e->l, &e->r.hdr) ? -ECANCELED : 0;
}

/* Hand an area back to the BPF side: its words are zero again. */
static void kb_free(struct live *l, struct iova_kb_area *a)
{
	__atomic_store_n(&a->state, IOVA_KB_FREE, __ATOMIC_RELEASE);
	/* after the state: the BPF side reads zero only when all are FREE */
	__atomic_fetch_sub(&l->skel->bss->kb_nlive, 1, __ATOMIC_RELEASE);
}

/* Zero an area nobody will read: its report never ended. */
static int kb_discard_run(void *ctx, uint64_t first_bit, uint64_t last_bit)
{
	(void)ctx;
	(void)first_bit;
	(void)last_bit;
	return 0;
}

static bool kb_area_ok(const struct live *l, const struct iova_kb_area *a)
{
	return a->off <= l->kb_words && a->nwords <= l->kb_words - a->off;
}

/*
 * The bits report_id left in the kernel-side bitmap, as RANGE records
 * stamped with its end (they go just before its REPORT_END, which counts
 * the calls: the records carry ncalls 0). Every bit is in the area when
 * the BPF side marks it DONE, before it writes or stashes REPORT_END.
 */
static int kb_deliver(struct live *l, uint64_t report_id,
		      const struct iova_rec_hdr *end)
{
	struct iova_kb_area *areas;
	struct kb_emit e;
	unsigned int i;
	int ret;

	if (!l->kb)
		return 0;
	areas = l->skel->bss->kb_areas;
	for (i = 0; i < IOVA_KB_AREAS; i++) {
		struct iova_kb_area *a = &areas[i];

		if (__atomic_load_n(&a->state, __ATOMIC_ACQUIRE) != IOVA_KB_DONE ||
		    a->report_id != report_id)
			continue;
		if (!kb_area_ok(l, a)) {
			kb_free(l, a);	/* cannot happen: the BPF side fits them */
			return 0;
		}
		memset(&e, 0, sizeof(e));
		e.l = l;
		e.a = a;
		e.r.hdr.type = IOVA_REC_RANGE;
		e.r.hdr.size = sizeof(e.r);
		e.r.hdr.cpu = end->cpu;
		e.r.hdr.ts_ns = end->ts_ns;
		e.r.bitmap_id = a->bitmap_id;
		e.r.report_id = report_id;
		ret = kbits_runs(l->kb + a->off, a->nwords, kb_run, &e);
		if (ret)
			return ret;
		kb_free(l, a);
		return 0;
	}
	return 0;
}

/*
 * Areas whose report will never end (ABANDONED), and, at a FREE, those
 * of that bitmap still DONE: their REPORT_END was lost entirely, and the
 * report is closed as incomplete without them. Cleared and freed.
 */
static void kb_sweep(struct live *l, bool any_done, uint64_t bitmap_id)
{
	struct iova_kb_area *areas;
	unsigned int i;

	if (!l->kb)
		return;
	areas = l->skel->bss->kb_areas;
	for (i = 0; i < IOVA_KB_AREAS; i++) {
		struct iova_kb_area *a = &areas[i];
		uint64_t st = __atomic_load_n(&a->state, __ATOMIC_ACQUIRE);

		if (st != IOVA_KB_ABANDONED &&
		    !(any_done && st == IOVA_KB_DONE && a->bitmap_id == bitmap_id))
			continue;
		if (kb_area_ok(l, a))
			kbits_runs(l->kb + a->off, a->nwords, kb_discard_run, NULL);
		kb_free(l, a);
	}
}

/* A REPORT_END that was lost entirely: say so, never leave it open. */
static int synth_end(struct live *l, uint64_t bitmap_id, uint64_t report_id)
{
	struct iova_rec_report_end e;

	memset(&e, 0, sizeof(e));
	e.hdr.type = IOVA_REC_REPORT_END;
	e.hdr.size = sizeof(e);
	e.hdr.cpu = 0;
	e.hdr.ts_ns = stamp(l);
	e.bitmap_id = bitmap_id;
	e.report_id = report_id;
	e.lost = 1;
	e.flags = IOVA_REPORT_INCOMPLETE;
	return deliver(l, &e.hdr);
}

/* Deliver the REPORT_END stashed under key, if it is still there. */
static int deliver_unsent_end(struct live *l, int fd, uint64_t key)
{
	struct iova_rec_report_end e;
	struct open_report *o;
	int ret;

	if (bpf_map_lookup_elem(fd, &key, &e)) {
		bpf_map_delete_elem(fd, &key);
		return 0;
	}
	bpf_map_delete_elem(fd, &key);
	ret = ensure_begin(l, e.report_id);
	if (ret)
		return ret;
	ret = kb_deliver(l, e.report_id, &e.hdr);
	if (ret)
		return ret;
	o = open_find(l, e.report_id);
	if (o)
		o->used = false;
	e.flags |= IOVA_REPORT_INCOMPLETE;
	return deliver(l, &e.hdr);
}

/* Every stashed REPORT_END: only once the ring has been read. */
static int drain_unsent_ends(struct live *l)
{
	int fd = bpf_map__fd(l->skel->maps.unsent_ends);
	uint64_t next;
	int ret;

	while (!bpf_map_get_next_key(fd, NULL, &next)) {
		ret = deliver_unsent_end(l, fd, next);
		if (ret)
			return ret;
	}
	return 0;
}

static uint64_t sum_counter(struct live *l, uint32_t idx)
{
	uint64_t vals[l->ncpus > 0 ? l->ncpus : 1], sum = 0;
	int i;

	if (bpf_map_lookup_elem(bpf_map__fd(l->skel->maps.counters), &idx,
				vals))
		return 0;
	for (i = 0; i < l->ncpus; i++)
		sum += vals[i];
	return sum;
}

static int deliver_lost_rec(struct live *l, uint32_t where, uint64_t count,
			    uint64_t ts_ns)
{
	struct iova_rec_lost r;

	memset(&r, 0, sizeof(r));
	r.hdr.type = IOVA_REC_LOST;
	r.hdr.size = sizeof(r);
	r.hdr.ts_ns = ts_ns;
	r.count = count;
	r.where = where;
	l->lost_total += count;
	return deliver(l, &r.hdr);
}

/*
 * Runs of our programs the kernel skipped, summed over every program
 * loaded: bpf_prog_info.recursion_misses (5.12+). A trampoline runs its
 * program with migration disabled but preemption on, and lets one run per
 * CPU at a time: an fentry program preempted on its CPU makes the kernel
 * skip that program for every other task there until it resumes, and
 * only this counter knows. Kprobe programs count their skipped runs there
 * too (6.7+). Nothing says which report a skipped iova_bitmap_set() call
 * belonged to, so any report running when one was skipped is suspect.
 */
static uint64_t skipped_total(struct live *l)
{
	struct bpf_program *p;
	uint64_t sum = 0;

	bpf_object__for_each_program(p, l->skel->obj) {
		struct bpf_prog_info info;
		__u32 len = sizeof(info);
		int fd = bpf_program__fd(p);

		if (fd < 0)
			continue;
		memset(&info, 0, sizeof(info));
		if (!bpf_obj_get_info_by_fd(fd, &info, &len))
			sum += info.recursion_misses;
	}
	/* set calls the per-bitmap entry could not place (none expected) */
	sum += __atomic_load_n(&l->skel->bss->kb_fast_missed, __ATOMIC_RELAXED);
	return sum;
}

/*
 * Read the skipped runs; a rise becomes an IOVA_REC_LOST stamped with the
 * time read after the counters, so it is no earlier than any run it counts.
 * A report whose REPORT_BEGIN is older than that stamp may have lost calls
 * to it (skipped_suspect()). The model marks every report open at the
 * LOST record incomplete; a report whose records arrive later is caught
 * by its stamp.
 */
static int skipped_sample(struct live *l)
{
	uint64_t n = skipped_total(l), ts = clock_ns(CLOCK_MONOTONIC);

	if (n <= l->skipped_seen)
		return 0;
	l->skipped_ts = ts;
	n -= l->skipped_seen;
	l->skipped_seen += n;
	return deliver_lost_rec(l, IOVA_LOST_SKIPPED, n, ts);
}

/*
 * A report is suspect when runs were skipped after it began (the last rise
 * seen, up to now, is newer). The 1 ms margin covers the two clocks
 * (bpf_ktime_get_ns() and clock_gettime() read the same CLOCK_MONOTONIC by
 * different routes); a report marked needlessly is only marked.
 */
static bool skipped_suspect(const struct live *l, uint64_t ts_begin)
{
	return l->skipped_ts && l->skipped_ts + 1000000 >= ts_begin;
}

static int deliver_lost(struct live *l)
{
	uint64_t drops = sum_counter(l, IOVA_CNT_RINGBUF_DROPS);
	uint64_t full = sum_counter(l, IOVA_CNT_MAP_FULL);
	uint64_t now = clock_ns(CLOCK_MONOTONIC);
	int ret = 0;

	if (drops > l->drops_seen) {
		ret = deliver_lost_rec(l, IOVA_LOST_RINGBUF,
				       drops - l->drops_seen, now);
		l->drops_seen = drops;
	}
	if (!ret && full > l->map_full_seen) {
		ret = deliver_lost_rec(l, IOVA_LOST_MAP_FULL,
				       full - l->map_full_seen, now);
		l->map_full_seen = full;
	}
	if (!ret)
		ret = skipped_sample(l);
	return ret;
}


/* A batch of merged ranges becomes the RANGE records the sink knows. */
static int deliver_batch(struct live *l, const struct iova_live_ranges *b)
{
	struct iova_rec_range r;
	uint32_t i;

	memset(&r, 0, sizeof(r));
	r.hdr.type = IOVA_REC_RANGE;
	r.hdr.size = sizeof(r);
	r.hdr.cpu = b->hdr.cpu;
	r.hdr.ts_ns = b->hdr.ts_ns;
	r.bitmap_id = b->bitmap_id;
	r.report_id = b->report_id;
	if (ensure_begin(l, b->report_id))
		return -ECANCELED;
	for (i = 0; i < b->count && i < IOVA_LIVE_BATCH; i++) {
		r.iova = b->r[i].iova;
		r.length = b->r[i].length;
		r.ncalls = b->r[i].ncalls;
		if (l->vf.max)
			verify_record(&l->vf, &r.hdr);
		if (deliver(l, &r.hdr))
			return -ECANCELED;
	}
	return 0;
}

static int on_record(void *ctx, void *data, size_t size)
{
	struct live *l = ctx;
	const struct iova_rec_hdr *h = data;
	struct iova_rec_report_end end;
	struct open_report *o;
	int ret;

	if (size < sizeof(*h) || h->size > size)
		return 0;	/* cannot happen: the BPF side sizes them */
	if (h->type == IOVA_LIVE_RANGES) {
		if (h->size != sizeof(struct iova_live_ranges))
			return 0;
		return deliver_batch(l, data);
	}
	if (h->type == IOVA_LIVE_UBITS) {
		/* --verify read-backs stay here, the sink gets the verdict */
		if (h->size == sizeof(struct iova_live_ubits) && l->vf.max)
			verify_ubits(&l->vf, data);
		return 0;
	}
	if (iova_rec_size(h->type) != h->size)
		return 0;

	/* what precedes this record but was left in a map */
	switch (h->type) {
	case IOVA_REC_REPORT_BEGIN:
		ret = deliver_unsent_alloc(l, ((const struct iova_rec_report_begin *)h)->bitmap_id);
		break;
	case IOVA_REC_RANGE:
		ret = ensure_begin(l, ((const struct iova_rec_range *)h)->report_id);
		break;
	case IOVA_REC_WINDOW:
		ret = ensure_begin(l, ((const struct iova_rec_window *)h)->report_id);
		break;
	case IOVA_REC_ANOMALY:
		ret = ensure_begin(l, ((const struct iova_rec_anomaly *)h)->report_id);
		break;
	case IOVA_REC_REPORT_END:
		ret = ensure_begin(l, ((const struct iova_rec_report_end *)h)->report_id);
		if (ret)
			break;
		/*
		 * Runs skipped while this report ran (read now: after its
		 * end) mean calls of it may be missing.
		 */
		ret = skipped_sample(l);
		if (!ret)
			ret = kb_deliver(l, ((const struct iova_rec_report_end *)h)->report_id, h);
		memcpy(&end, h, sizeof(end));
		if (skipped_suspect(l, end.hdr.ts_ns - end.duration_ns))
			end.flags |= IOVA_REPORT_INCOMPLETE;
		h = &end.hdr;
		data = &end;
		break;
	default:
		ret = 0;
	}
	if (ret)
		return -ECANCELED;
	if (l->vf.max)
		verify_record(&l->vf, h);

	switch (h->type) {
	case IOVA_REC_ALLOC:
		alloc_mark(l, ((const struct iova_rec_alloc *)h)->bitmap_id);
		break;
	case IOVA_REC_REPORT_BEGIN: {
		const struct iova_rec_report_begin *b = data;

		open_add(l, b->report_id, b->bitmap_id);
		break;
	}
	case IOVA_REC_REPORT_END: {
		const struct iova_rec_report_end *e = data;

		o = open_find(l, e->report_id);
		if (o)
			o->used = false;
		break;
	}
	case IOVA_REC_FREE: {
		const struct iova_rec_free *f = data;
		int i;

		/*
		 * A report of this bitmap still open: its END was lost, and
		 * perhaps stashed in unsent_ends. Deliver it before the FREE;
		 * that one only: the ENDs stashed for other bitmaps may have
		 * records of their reports still behind this FREE in the ring,
		 * and an END delivered before them would close their report
		 * early (a report of the same id again, in two parts).
		 */
		for (i = 0; i < OPEN_REPORTS; i++) {
			if (!l->open[i].used || l->open[i].bitmap_id != f->bitmap_id)
				continue;
			ret = deliver_unsent_end(l, bpf_map__fd(l->skel->maps.unsent_ends),
						 l->open[i].report_id);
			if (ret)
				return -ECANCELED;
			if (l->open[i].used) {
				l->open[i].used = false;
				ret = synth_end(l, f->bitmap_id, l->open[i].report_id);
				if (ret)
					return -ECANCELED;
			}
		}
		kb_sweep(l, true, f->bitmap_id);
		break;
	}
	}
	if (deliver(l, h))
		return -ECANCELED;
	if (h->type == IOVA_REC_REPORT_END && l->vf.max) {
		struct iova_rec_verify vr;

		if (verify_end(&l->vf, data, &vr) && deliver(l, &vr.hdr))
			return -ECANCELED;
	}
	return 0;
}

/* The test and benchmark knobs of source_live.h, for every subcommand. */
static void env_opts(struct live_opts *o)
{
	const char *v;
	char *end;
	unsigned long n;

	v = getenv("IOVATOP_RINGBUF_BYTES");
	if (v && *v && !o->ringbuf_bytes) {
		errno = 0;
		n = strtoul(v, &end, 0);
		if (!errno && !*end && n && n <= (1ul << 30))
			o->ringbuf_bytes = n;
	}
	v = getenv("IOVATOP_KPROBE");
	if (v && !strcmp(v, "1"))
		o->force_kprobe = true;
}

static bool env_verify_flip(void)
{
	const char *v = getenv("IOVATOP_VERIFY_FLIP");

	return v && !strcmp(v, "1");
}

struct live *live_open(const struct live_opts *opts, char *err, size_t errlen)
{
	struct live *l;
	char why[400], pwhy[160];
	bool fentry, hwpt, strict;
	uint32_t rb_bytes;
	long pagesz;
	int ret;

	l = calloc(1, sizeof(*l));
	if (!l) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	l->opts = *opts;
	env_opts(&l->opts);
	opts = &l->opts;
	verbose_libbpf = opts->verbose;
	libbpf_set_print(libbpf_print);

	ret = read_kallsyms(l->ksyms);
	if (ret) {
		snprintf(err, errlen,
			 "cannot read /proc/kallsyms (%s); is /proc mounted?",
			 strerror(-ret));
		goto fail;
	}
	if (!l->ksyms[FN_SET].found) {
		snprintf(err, errlen,
			 "this kernel has no iova_bitmap_set(): modprobe vfio (6.1 "
			 "to 6.7) or iommufd (6.8 on), or build it with CONFIG_VFIO "
			 "or CONFIG_IOMMUFD_DRIVER (selected by IOMMU drivers with "
			 "dirty tracking and by the mlx5/pds vfio drivers)");
		goto fail;
	}
	if (!l->ksyms[FN_ALLOC].found || !l->ksyms[FN_FOR_EACH].found ||
	    !l->ksyms[FN_FREE].found) {
		snprintf(err, errlen,
			 "this kernel has iova_bitmap_set() but not all of "
			 "iova_bitmap_alloc/for_each/free; iovatop needs all four");
		goto fail;
	}
	if (!have_bpf_caps()) {
		snprintf(err, errlen,
			 "tracing needs root (CAP_BPF and CAP_PERFMON); run iovatop "
			 "with sudo");
		goto fail;
	}
	hwpt = l->ksyms[FN_HWPT].found;

	if (opts->force_kprobe) {
		fentry = false;
		snprintf(l->mode_why, sizeof(l->mode_why),
			 "kprobes forced (--kprobe or IOVATOP_KPROBE=1)");
	} else {
		fentry = fentry_can_attach(&l->ksyms[FN_SET], fn_names[FN_SET], why,
					   sizeof(why));
		snprintf(l->mode_why, sizeof(l->mode_why), "%s", why);
	}
	l->mode = fentry ? "fentry" : "kprobe";
	vlog(l, "probe mode %s: %s", l->mode, l->mode_why);
	/*
	 * Say where the kernel may skip runs (trampoline_preemptible()):
	 * they are counted as "skipped by the kernel". Kprobes are not
	 * skipped that way, and --kprobe is the user's to give: fentry
	 * stays the default, as a 7.x kernel built for size with a gcc
	 * before 14 puts ftrace handlers on odd addresses, which its ftrace
	 * takes for a jump and oopses on (docs/kernels.md).
	 */
	if (fentry && trampoline_preemptible(pwhy, sizeof(pwhy)) == 1)
		vlog(l, "on %s the kernel can skip a preempted trampoline's "
		     "program: such runs are counted as lost, skipped by the "
		     "kernel, and mark their reports incomplete; --kprobe "
		     "avoids that", pwhy);
	if (!hwpt)
		vlog(l, "no %s in /proc/kallsyms (a kernel before 6.7, or one "
		     "without IOMMUFD, or the compiler inlined or renamed it): "
		     "iommufd reports are traced and named 'hwpt ?' with their "
		     "process", fn_names[FN_HWPT]);
	else if (fentry && !fentry_can_attach(&l->ksyms[FN_HWPT],
					      fn_names[FN_HWPT], why, sizeof(why))) {
		/* the rest runs on fentry; this one name is not worth a fallback */
		hwpt = false;
		vlog(l, "hwpt attribution probe off: %s; iommufd reports are "
		     "traced and named 'hwpt ?' with their process", why);
	}
	if (!fentry && access("/sys/kernel/btf/vmlinux", R_OK)) {
		snprintf(err, errlen,
			 "this kernel has no BTF (/sys/kernel/btf/vmlinux), which "
			 "the tracer needs to read struct iova_bitmap on any "
			 "kernel; build it with CONFIG_DEBUG_INFO_BTF=y");
		goto fail;
	}
	l->layout = btf_layout(&l->ksyms[FN_SET], &l->index_bits, &strict);
	l->rule = layout_rule(l->layout, l->index_bits, strict);
	l->vf.rule = l->rule;
	vlog(l, "struct iova_bitmap layout %u (1: 6.1, 2: 6.8, 3: 6.11), "
	     "%u-bit index unit, decode rule %s", l->layout, l->index_bits,
	     ibd_rule_name(l->rule));

	l->skel = iova_trace_bpf__open();
	if (!l->skel) {
		snprintf(err, errlen, "cannot open the BPF object: %s",
			 strerror(errno));
		goto fail;
	}
	set_fentry_progs(l->skel, fentry, hwpt);
	set_kprobe_progs(l->skel, !fentry, hwpt);

	l->ncpus = libbpf_num_possible_cpus();
	if (l->ncpus <= 0) {
		snprintf(err, errlen, "cannot count the possible CPUs: %s",
			 strerror(-l->ncpus));
		goto fail;
	}
	l->skel->rodata->nr_cpus = l->ncpus;
	l->skel->rodata->cb_vfio = l->ksyms[FN_CB_VFIO].addr;
	l->skel->rodata->cb_iommufd = l->ksyms[FN_CB_IOMMUFD].addr;
	/*
	 * The kernel pins user bitmaps in its own pages, which need not be
	 * 4 KiB (arm64: 16 or 64 KiB); user space's page size is the
	 * kernel's PAGE_SIZE.
	 */
	pagesz = sysconf(_SC_PAGESIZE);
	if (pagesz <= 0 || !ibd_kpage_size_ok((uint64_t)pagesz)) {
		snprintf(err, errlen, "this kernel's page size (%ld bytes) is "
			 "not one iovatop can rebuild bitmaps for (4 KiB to "
			 "256 KiB, a power of two)", pagesz);
		goto fail;
	}
	l->skel->rodata->kpage_shift = (uint32_t)__builtin_ctzl((unsigned long)pagesz);
	/*
	 * 6.1.0 sets max(1, length >> shift) bits per call, so the union of
	 * two calls is not the same as the two calls: no merging there.
	 */
	l->skel->rodata->coalesce = l->rule != IBD_RULE_V6_1_0;
	if (opts->verify) {
		l->vf.max = opts->verify_max_bytes ? opts->verify_max_bytes :
							 LIVE_VERIFY_MAX_BYTES;
		l->vf.flip = env_verify_flip();
	}
	l->skel->rodata->verify_max_bytes = l->vf.max;
	rb_bytes = round_ringbuf(opts->ringbuf_bytes ? opts->ringbuf_bytes :
						       DEFAULT_RINGBUF_BYTES);
	l->skel->rodata->wakeup_bytes = rb_bytes / 4;
	if (bpf_map__set_max_entries(l->skel->maps.rb, rb_bytes)) {
		snprintf(err, errlen, "cannot size the ring buffer to %u bytes",
			 rb_bytes);
		goto fail;
	}

	/*
	 * The kernel-side bitmap, on 6.11 and later only: before, where the
	 * kernel puts a call's bits depends on the window pinned at the
	 * time, and ranges keep that order in the records.
	 */
	l->kb_words = (opts->kbits_given ? opts->kbits_bytes : LIVE_KBITS_BYTES) / 8;
	if (l->kb_words && l->layout != IOVA_LAYOUT_V6_11) {
		vlog(l, "kernel-side bitmap off: this kernel's iova_bitmap puts a "
		     "call's bits by the window pinned at the time (before 6.11); "
		     "every call goes through the ring buffer");
		l->kb_words = 0;
	}
	l->skel->rodata->kb_words = l->kb_words;
	if (bpf_map__set_max_entries(l->skel->maps.kbits,
				     l->kb_words ? (uint32_t)l->kb_words : 1)) {
		snprintf(err, errlen, "cannot size the kernel-side bitmap to %llu words",
			 (unsigned long long)l->kb_words);
		goto fail;
	}

	ret = iova_trace_bpf__load(l->skel);
	if (ret) {
		if (errno == EPERM || ret == -EPERM)
			snprintf(err, errlen,
				 "loading the BPF programs was refused (%s): tracing "
				 "needs root (CAP_BPF and CAP_PERFMON), and a kernel "
				 "in lockdown mode refuses it even to root",
				 strerror(EPERM));
		else
			snprintf(err, errlen,
				 "loading the BPF programs failed: %s; run with -v to "
				 "see libbpf's and the verifier's messages",
				 strerror(-ret));
		goto fail;
	}
	if (hwpt) {
		ret = attach_hwpt_first(l->skel);
		if (ret) {
			drop_hwpt_probes(l->skel);
			vlog(l, "hwpt attribution probe off: attaching %s probes to %s "
			     "failed (%s); iommufd reports are traced and named "
			     "'hwpt ?' with their process", l->mode,
			     fn_names[FN_HWPT], strerror(-ret));
		}
	}
	ret = iova_trace_bpf__attach(l->skel);
	if (ret) {
		snprintf(err, errlen,
			 "attaching the %s programs failed: %s; run with -v, or try "
			 "--kprobe", l->mode, strerror(-ret));
		goto fail;
	}
	if (l->kb_words) {
		l->kb_len = (size_t)l->kb_words * 8;
		l->kb_len = (l->kb_len + (size_t)pagesz - 1) & ~((size_t)pagesz - 1);
		l->kb = mmap(NULL, l->kb_len, PROT_READ | PROT_WRITE, MAP_SHARED,
			     bpf_map__fd(l->skel->maps.kbits), 0);
		if (l->kb == MAP_FAILED) {
			l->kb = NULL;
			snprintf(err, errlen,
				 "cannot map the kernel-side bitmap (%s); "
				 "--kernel-bitmap 0 does without it", strerror(errno));
			goto fail;
		}
		vlog(l, "kernel-side bitmap: %llu KiB, reports of up to %llu GiB "
		     "at 4 KiB pages", (unsigned long long)(l->kb_words >> 7),
		     (unsigned long long)(l->kb_words >> 12));
	}
	l->rb = ring_buffer__new(bpf_map__fd(l->skel->maps.rb), on_record, l,
				 NULL);
	if (!l->rb) {
		snprintf(err, errlen, "cannot set up the ring buffer reader: %s",
			 strerror(errno));
		goto fail;
	}
	l->rb_bytes = rb_bytes;
	/*
	 * libbpf 1.1 does not tell how full its ring is: map the two pages
	 * that hold the consumer and producer positions once more, read-only
	 * (ringbuf_map_mmap_kern() refuses only writable mappings past the
	 * consumer page). Without them the fill is left out, never made up.
	 */
	l->rb_pos_len = 2 * (size_t)pagesz;
	l->rb_pos = mmap(NULL, l->rb_pos_len, PROT_READ, MAP_SHARED,
			 bpf_map__fd(l->skel->maps.rb), 0);
	if (l->rb_pos == MAP_FAILED) {
		vlog(l, "cannot map the ring buffer's positions (%s): its fill is not shown",
		     strerror(errno));
		l->rb_pos = NULL;
	}
	vlog(l, "attached %s programs, ring buffer %u KiB%s", l->mode,
	     rb_bytes >> 10, opts->verify ? ", --verify on" : "");
	return l;
fail:
	live_close(l);
	return NULL;
}

int live_poll(struct live *l, int timeout_ms, iova_sink_fn sink, void *ctx)
{
	int ret;

	l->sink = sink;
	l->sink_ctx = ctx;
	l->sink_ret = 0;
	l->delivered = 0;

	ret = ring_buffer__poll(l->rb, timeout_ms);
	if (l->sink_ret)
		return l->sink_ret;
	if (ret < 0 && ret != -EINTR)
		return ret;
	/*
	 * Most records come without a wakeup (the BPF side wakes the reader
	 * only when the ring or the kernel-side bitmap fills up), and epoll
	 * reports a ring only after one: take what is there.
	 */
	ret = ring_buffer__consume(l->rb);
	if (l->sink_ret)
		return l->sink_ret;
	if (ret < 0)
		return ret;
	ret = deliver_lost(l);
	if (!ret)
		ret = drain_unsent_ends(l);
	if (ret)
		return ret;
	kb_sweep(l, false, 0);
	return l->delivered;
}

void live_meta(const struct live *l, struct trace_meta *meta)
{
	struct utsname uts;

	memset(meta, 0, sizeof(*meta));
	if (!uname(&uts)) {
		snprintf(meta->kernel_release, sizeof(meta->kernel_release), "%s",
			 uts.release);
		snprintf(meta->hostname, sizeof(meta->hostname), "%s",
			 uts.nodename);
	}
	snprintf(meta->probe_mode, sizeof(meta->probe_mode), "%s", l->mode);
	meta->layout = l->layout;
	meta->rule = l->rule;
	meta->start_realtime_ns = clock_ns(CLOCK_REALTIME);
	meta->start_mono_ns = clock_ns(CLOCK_MONOTONIC);
}

const char *live_probe_mode(const struct live *l)
{
	return l->mode;
}

uint32_t live_layout(const struct live *l)
{
	return l->layout;
}

enum ibd_rule live_rule(const struct live *l)
{
	return l->rule;
}

uint64_t live_lost(const struct live *l)
{
	return l->lost_total;
}

void live_ring_fill(struct live *l, struct ring_fill *f)
{
	uint64_t peak;

	memset(f, 0, sizeof(*f));
	if (!l->rb_pos || !l->skel->bss)
		return;
	f->size_bytes = l->rb_bytes;
	{
		/* struct bpf_ringbuf: consumer_pos, a page later producer_pos */
		const unsigned long *cons = l->rb_pos;
		const unsigned long *prod = (const void *)((const char *)l->rb_pos +
							   l->rb_pos_len / 2);
		unsigned long c = __atomic_load_n(cons, __ATOMIC_ACQUIRE);
		unsigned long p = __atomic_load_n(prod, __ATOMIC_ACQUIRE);

		f->now_bytes = p > c ? p - c : 0;
	}
	peak = __atomic_exchange_n(&l->skel->bss->ring_peak, 0, __ATOMIC_RELAXED);
	f->peak_bytes = peak > f->now_bytes ? peak : f->now_bytes;
	if (f->peak_bytes > f->size_bytes)	/* a race of positions: cap */
		f->peak_bytes = f->size_bytes;
	if (f->now_bytes > f->size_bytes)
		f->now_bytes = f->size_bytes;
}

void live_ring_hook(void *ctx, struct ring_fill *f)
{
	live_ring_fill(ctx, f);
}

void live_close(struct live *l)
{
	if (!l)
		return;
	if (l->rb) {	/* it attached */
		uint64_t untraced = sum_counter(l, IOVA_CNT_UNATTRIBUTED);
		uint64_t full = sum_counter(l, IOVA_CNT_MAP_FULL);
		uint64_t skipped = skipped_total(l);

		/* not lost, but not in any record either: say so */
		if (untraced)
			fprintf(stderr, "%s: %llu iova_bitmap_set() calls belonged to reports already running when iovatop attached; they are in no record.\n", cli_name,
				(unsigned long long)untraced);
		if (full)
			fprintf(stderr, "%s: %llu reports (%llu iova_bitmap_set() calls) were not traced: the tracer's map of %u bitmaps was full; they are counted as lost.\n",
				cli_name, (unsigned long long)full,
				(unsigned long long)sum_counter(l, IOVA_CNT_MAP_FULL_CALLS),
				(unsigned)bpf_map__max_entries(l->skel->maps.bitmaps));
		if (skipped)
			fprintf(stderr, "%s: the kernel skipped %llu runs of iovatop's programs (one of them was preempted on the same CPU); counted as lost, and the reports running then are marked incomplete. With --kprobe the programs run with preemption off and are not skipped.\n",
				cli_name, (unsigned long long)skipped);
	}
	if (l->rb)
		vlog(l, "counters: %llu set-ahead replays skipped, %llu set calls bypassed a busy slot, %llu report ends kept for lack of ring space, %llu reports without room in the kernel-side bitmap",
		     (unsigned long long)sum_counter(l, IOVA_CNT_SET_AHEAD),
		     (unsigned long long)sum_counter(l, IOVA_CNT_PREEMPTED),
		     (unsigned long long)sum_counter(l, IOVA_CNT_END_STASHED),
		     (unsigned long long)sum_counter(l, IOVA_CNT_KB_NOROOM));
	verify_free(&l->vf);
	if (l->rb_pos)
		munmap(l->rb_pos, l->rb_pos_len);
	if (l->kb)
		munmap(l->kb, l->kb_len);
	ring_buffer__free(l->rb);
	iova_trace_bpf__destroy(l->skel);
	free(l);
}
