/* SPDX-License-Identifier: GPL-2.0 */
/*
 * synth_devices.h - a trace that names many devices, one report each, as a
 * crafted file would: for the test that such a trace reads in reasonable
 * time and is refused past the model's device limit (tests/test_hostile.c)
 * and for the benchmark of device lookup (bench/bench_devices.c).
 */
#ifndef IOVATOP_TESTS_SYNTH_DEVICES_H
#define IOVATOP_TESTS_SYNTH_DEVICES_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "iova_trace.h"
#include "trace_file.h"

/*
 * ndevs devices "vfio dev-N", each with one report (begin, a range of one
 * page, end) on its own bitmap, no ALLOC or FREE: about 250 bytes of
 * records a device; with begin_only, only the REPORT_BEGIN that names the
 * device. Returns 0, or -1 with err set.
 */
static inline int synth_devices_trace(const char *path, uint32_t ndevs,
				      bool begin_only, char *err, size_t errlen)
{
	struct trace_meta meta = { .layout = IOVA_LAYOUT_V6_11 };
	struct iova_rec_report_begin b;
	struct iova_rec_range r;
	struct iova_rec_report_end e;
	struct trace_writer *w;
	uint64_t ts = 1000000000ull;
	uint32_t i;
	int ret = 0;

	strcpy(meta.probe_mode, "synthetic");
	w = trace_writer_open(path, &meta, NULL, err, errlen);
	if (!w)
		return -1;
	for (i = 0; i < ndevs && !ret; i++, ts += 1000) {
		memset(&b, 0, sizeof(b));
		b.hdr = (struct iova_rec_hdr){ IOVA_REC_REPORT_BEGIN, sizeof(b), 0, ts };
		b.bitmap_id = i + 1;
		b.report_id = i + 1;
		b.path = IOVA_PATH_VFIO;
		b.length = 1 << 20;
		snprintf(b.devname, sizeof(b.devname), "dev-%u", i);
		b.task.pid = 1000;
		strcpy(b.task.comm, "vmm");
		memset(&r, 0, sizeof(r));
		r.hdr = (struct iova_rec_hdr){ IOVA_REC_RANGE, sizeof(r), 0, ts + 1 };
		r.bitmap_id = r.report_id = i + 1;
		r.length = 4096;
		r.ncalls = 1;
		memset(&e, 0, sizeof(e));
		e.hdr = (struct iova_rec_hdr){ IOVA_REC_REPORT_END, sizeof(e), 0, ts + 2 };
		e.bitmap_id = e.report_id = i + 1;
		e.set_calls = e.ranges = 1;
		ret = trace_writer_add(w, &b.hdr);
		if (!begin_only && !ret)
			ret = trace_writer_add(w, &r.hdr) || trace_writer_add(w, &e.hdr);
	}
	if (ret) {
		snprintf(err, errlen, "cannot write %s", path);
		trace_writer_abandon(w);
		return -1;
	}
	return trace_writer_close(w, err, errlen) ? -1 : 0;
}

#endif /* IOVATOP_TESTS_SYNTH_DEVICES_H */
