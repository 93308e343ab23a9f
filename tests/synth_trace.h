/* SPDX-License-Identifier: GPL-2.0 */
/*
 * synth_trace.h - a synthetic migration written with the trace writer, for
 * the view tests (tests/test_view_replay.c) until and besides the traces
 * recorded in the test VM. Three devices with known behaviour:
 *
 *   vfio 0000:3b:00.1  hot: ~40k pages per report at 10 reports/s in
 *                      0x140000000+256M, shrinking 6 % a report (converging)
 *   iommufd hwpt 7     2000 pages per report at 5 reports/s in
 *                      0x8000000+64M, growing 8 % a report (diverging)
 *   vfio 0000:3c:00.0  500 pages every 0.5 s in 0x40000000+16M (flat); one
 *                      report loses records, one set call is out of range
 *
 * plus a ring-buffer loss of 3 records. Everything is deterministic, so
 * the batch output of a replay is a golden file.
 */
#ifndef IOVATOP_TESTS_SYNTH_TRACE_H
#define IOVATOP_TESTS_SYNTH_TRACE_H

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "iova_trace.h"
#include "trace_file.h"

#define SYNTH_T0	1000000000000ull	/* records' clock: 1000 s after boot */
#define SYNTH_MS	1000000ull

struct synth_dev {
	const char *devname;	/* vfio: dev_name(); NULL for iommufd */
	uint32_t hwpt;
	uint32_t pid;
	const char *comm;
	uint64_t iova, length, page;
	uint64_t hot_iova, hot_len;
	double pages0;		/* dirty pages in the first report */
	double factor;		/* per report */
	uint64_t period_ns;
	uint64_t offset_ns;	/* first report */
};

static const struct synth_dev synth_devs[] = {
	{ "0000:3b:00.1", 0, 4242, "qemu-system-x86", 0x100000000ull, 4ull << 30,
	  4096, 0x140000000ull, 256ull << 20, 40000, 0.94, 100 * SYNTH_MS, 10 * SYNTH_MS },
	{ NULL, 7, 4242, "qemu-system-x86", 0, 1ull << 30, 4096, 0x8000000ull,
	  64ull << 20, 2000, 1.08, 200 * SYNTH_MS, 30 * SYNTH_MS },
	{ "0000:3c:00.0", 0, 5151, "qemu-vm2", 0, 2ull << 30, 4096, 0x40000000ull,
	  16ull << 20, 500, 1.0, 500 * SYNTH_MS, 70 * SYNTH_MS },
};

#define SYNTH_NDEVS	(sizeof(synth_devs) / sizeof(synth_devs[0]))

struct synth {
	struct trace_writer *w;
	uint64_t bitmap_id, report_id;
	int err;
};

static void synth_hdr(struct iova_rec_hdr *h, unsigned int type, uint64_t ts)
{
	h->type = (uint16_t)type;
	h->size = (uint16_t)iova_rec_size(type);
	h->cpu = 1;
	h->ts_ns = ts;
}

static void synth_add(struct synth *s, void *rec)
{
	if (!s->err)
		s->err = trace_writer_add(s->w, rec);
}

static void synth_task(struct iova_rec_task *t, const struct synth_dev *d)
{
	t->pid = d->pid;
	t->tid = d->pid + 1;
	snprintf(t->comm, sizeof(t->comm), "%s", d->comm);
}

/* One report: alloc, begin, runs of 64 dirty pages spread over the hot region, end, free. */
static void synth_report(struct synth *s, const struct synth_dev *d,
			 uint64_t ts, uint64_t pages, bool lose, bool anomaly)
{
	struct iova_rec_alloc a = { 0 };
	struct iova_rec_report_begin b = { 0 };
	struct iova_rec_range r = { 0 };
	struct iova_rec_report_end e = { 0 };
	struct iova_rec_free f = { 0 };
	struct iova_rec_anomaly an = { 0 };
	uint64_t hot_pages = d->hot_len / d->page;
	uint64_t nruns = (pages + 63) / 64, stride, i, left = pages, nranges = 0;

	if (nruns > hot_pages / 64)
		nruns = hot_pages / 64;
	stride = nruns ? hot_pages / nruns : 0;

	s->bitmap_id++;
	s->report_id++;
	synth_hdr(&a.hdr, IOVA_REC_ALLOC, ts);
	a.bitmap_id = s->bitmap_id;
	a.iova = d->iova;
	a.length = d->length;
	a.page_size = d->page;
	a.user_addr = 0x7f0000000000ull + (s->bitmap_id << 20);
	a.layout = IOVA_LAYOUT_V6_11;
	a.kpage_shift = 12;
	synth_task(&a.task, d);
	synth_add(s, &a);

	synth_hdr(&b.hdr, IOVA_REC_REPORT_BEGIN, ts + 1000);
	b.bitmap_id = s->bitmap_id;
	b.report_id = s->report_id;
	b.callback = d->devname ? IOVA_CB_VFIO : IOVA_CB_IOMMUFD;
	/* the iommufd devices belong to one VMM's one iommufd */
	b.ictx_id = d->devname ? 0 : 1;
	b.path = d->devname ? IOVA_PATH_VFIO : IOVA_PATH_IOMMUFD;
	b.hwpt_id = d->hwpt;
	b.iova = d->iova;
	b.length = d->length;
	if (d->devname)
		snprintf(b.devname, sizeof(b.devname), "%s", d->devname);
	synth_task(&b.task, d);
	synth_add(s, &b);

	for (i = 0; i < nruns && left; i++) {
		uint64_t n = left < 64 ? left : 64;

		/* a lossy report: the third range never reaches user space */
		if (!(lose && i == 2)) {
			synth_hdr(&r.hdr, IOVA_REC_RANGE, ts + 2000 + i);
			r.bitmap_id = s->bitmap_id;
			r.report_id = s->report_id;
			r.iova = d->hot_iova + i * stride * d->page;
			r.length = n * d->page;
			r.ncalls = n;
			synth_add(s, &r);
		}
		nranges++;
		left -= n;
	}
	if (anomaly) {
		synth_hdr(&an.hdr, IOVA_REC_ANOMALY, ts + 2000 + i);
		an.bitmap_id = s->bitmap_id;
		an.report_id = s->report_id;
		an.iova = d->iova + d->length;
		an.length = d->page;
		an.callback = b.callback;
		an.kind = IOVA_ANOM_BEYOND_END;
		synth_add(s, &an);
	}

	synth_hdr(&e.hdr, IOVA_REC_REPORT_END, ts + 40000);
	e.bitmap_id = s->bitmap_id;
	e.report_id = s->report_id;
	e.duration_ns = 39000;
	e.set_calls = pages + (anomaly ? 1 : 0);
	e.ranges = nranges;
	e.lost = lose ? 1 : 0;
	e.anomalies = anomaly ? 1 : 0;
	e.flags = (lose ? IOVA_REPORT_INCOMPLETE : 0) |
		  (anomaly ? IOVA_REPORT_ANOMALY : 0);
	synth_add(s, &e);

	synth_hdr(&f.hdr, IOVA_REC_FREE, ts + 41000);
	f.bitmap_id = s->bitmap_id;
	synth_add(s, &f);
}

/*
 * Write seconds of the workload to path. ndevs limits the devices (0: no
 * records at all, a header-only trace). Returns 0 or a negative errno with
 * a sentence in err.
 */
static int synth_write(const char *path, double seconds, unsigned int ndevs,
		       char *err, size_t errlen)
{
	struct trace_meta meta = { 0 };
	struct synth s = { 0 };
	uint64_t next[SYNTH_NDEVS], nrep[SYNTH_NDEVS] = { 0 };
	uint64_t end = SYNTH_T0 + (uint64_t)(seconds * 1e9), t;
	struct iova_rec_lost lost = { 0 };
	bool lost_done = false;
	unsigned int i;

	if (ndevs > SYNTH_NDEVS)
		ndevs = SYNTH_NDEVS;
	meta.layout = IOVA_LAYOUT_V6_11;
	meta.rule = 0;
	meta.codec = TRACE_CODEC_NONE;
	snprintf(meta.kernel_release, sizeof(meta.kernel_release), "6.12.0-synthetic");
	snprintf(meta.probe_mode, sizeof(meta.probe_mode), "synthetic");
	snprintf(meta.hostname, sizeof(meta.hostname), "synth");
	meta.start_realtime_ns = 1767225600ull * 1000000000ull;
	meta.start_mono_ns = SYNTH_T0;

	s.w = trace_writer_open(path, &meta, NULL, err, errlen);
	if (!s.w)
		return -EIO;
	for (i = 0; i < SYNTH_NDEVS; i++)
		next[i] = SYNTH_T0 + synth_devs[i].offset_ns;
	/* time steps of 10 ms; reports are short, so they never overlap */
	for (t = SYNTH_T0; t < end && !s.err; t += 10 * SYNTH_MS) {
		for (i = 0; i < ndevs; i++) {
			const struct synth_dev *d = &synth_devs[i];
			double pages = d->pages0;
			uint64_t k;

			if (next[i] > t)
				continue;
			for (k = 0; k < nrep[i]; k++)
				pages *= d->factor;
			synth_report(&s, d, next[i] + i * 100000, (uint64_t)pages,
				     i == 2 && nrep[i] == 3, i == 2 && nrep[i] == 5);
			nrep[i]++;
			next[i] += d->period_ns;
		}
		if (ndevs && !lost_done && t >= SYNTH_T0 + 2500 * SYNTH_MS) {
			synth_hdr(&lost.hdr, IOVA_REC_LOST, t + 5 * SYNTH_MS);
			lost.count = 3;
			lost.where = IOVA_LOST_RINGBUF;
			synth_add(&s, &lost);
			lost_done = true;
		}
	}
	if (s.err) {
		snprintf(err, errlen, "writing the synthetic trace failed: %s",
			 trace_writer_error(s.w));
		trace_writer_abandon(s.w);
		return s.err;
	}
	return trace_writer_close(s.w, err, errlen);
}

#endif /* IOVATOP_TESTS_SYNTH_TRACE_H */
