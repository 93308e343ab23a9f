// SPDX-License-Identifier: GPL-2.0
/*
 * fuzz_trace.c - libFuzzer target: any bytes through the trace reader, on
 * into the model and the whole-trace aggregation, and out through every
 * output that takes strings from the trace: the report as text, JSON and
 * CSV, and the batch view as text, JSON lines and CSV. Device names, comm,
 * the hostname and the kernel release are whatever the input says, so the
 * outputs see hostile strings; the text and CSV ones must come out as
 * plain printable ASCII lines (include/text_escape.h), or the target
 * aborts.
 *
 * QEMU's samples (IOVA_REC_QMP, record --qmp) go to the forecast, which
 * the report then prints per iteration in all three formats, joined with
 * whatever figures the input claims QEMU said (and with an assumed link
 * when it has none).
 *
 * Built with -DFUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION (make fuzz), the
 * reader accepts any CRC, so the fuzzer reaches the frame, decompression,
 * record and model code instead of stopping at the first checksum.
 */
#define _GNU_SOURCE	/* open_memstream */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "forecast_report.h"
#include "model.h"
#include "qmp_record.h"
#include "report.h"
#include "report_fmt.h"
#include "trace_file.h"
#include "view.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Text for a terminal: printable ASCII, tabs (TSV) and newlines only. */
static void check_plain(const char *what, const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if ((c >= 0x20 && c < 0x7f) || c == '\n')
			continue;
		fprintf(stderr, "fuzz_trace: %s wrote byte 0x%02x at %zu\n", what, c, i);
		abort();
	}
}

struct sink {
	char *buf;
	size_t len;
	FILE *f;
};

static FILE *sink_open(struct sink *s)
{
	s->buf = NULL;
	s->len = 0;
	s->f = open_memstream(&s->buf, &s->len);
	return s->f;
}

/* Close the stream; check its text when plain is set. */
static void sink_close(struct sink *s, const char *what, int plain)
{
	if (!s->f)
		return;
	fclose(s->f);
	if (plain)
		check_plain(what, s->buf, s->len);
	free(s->buf);
}

static void outputs(struct model *m, struct report *rp, struct trace_reader *r,
		    const struct qmp_samples *smp)
{
	struct forecast_opts fo = { .link_bytes_s = 12.5e6 };
	struct forecast_trace fc = { 0 };
	struct model_anomaly anom[MODEL_ANOM_LOG];
	struct model_snapshot snap;
	struct view_state st;
	struct view_meta meta = { 0 };
	struct out o = { 0 };
	struct sink s;
	int fmt;

	if (model_snapshot(m, model_now(m), MODEL_SORT_RATE, false, NULL, &snap))
		return;
	report_sort_rows(&snap);
	report_finish(rp, REPORT_DEFAULT_TOP);
	o.file = "fuzz.trace";
	o.meta = trace_meta(r);
	o.tot = trace_read_totals(r);
	o.state = trace_state(r);
	o.status = trace_status_msg(r);
	o.cut_lost = trace_cut_lost(r);
	o.s = &snap;
	o.rp = rp;
	o.anom = anom;
	o.nanom = model_anomalies(m, anom, MODEL_ANOM_LOG);
	/* the forecast on the input's QEMU samples, else on an assumed link */
	if (!forecast_trace_build(&fc, &fo, rp, &snap, smp))
		o.fc = &fc;
	for (fmt = FMT_TEXT; fmt <= FMT_CSV; fmt++) {
		o.f = sink_open(&s);
		if (!o.f)
			continue;
		report_print(&o, (enum fmt)fmt);
		sink_close(&s, fmt == FMT_TEXT ? "report text" : fmt == FMT_CSV ?
			   "report csv" : "report json", 1);	/* JSON escapes to ASCII */
	}

	/* the batch views, as replay -b prints them */
	view_state_init(&st);
	st.replay = true;
	meta.source = "fuzz.trace";
	meta.kernel = trace_meta(r)->kernel_release;
	meta.probe = trace_meta(r)->probe_mode;
	meta.layout = view_layout_name(trace_meta(r)->layout);
	meta.t0_ns = o.tot->first_ts_ns;
	meta.at_end = true;
	if (sink_open(&s)) {
		view_batch_print(s.f, &meta, &st, &snap);
		sink_close(&s, "batch text", 1);
	}
	if (sink_open(&s)) {
		view_csv_print(s.f, &meta, &snap, true);
		sink_close(&s, "batch csv", 1);
	}
	if (sink_open(&s)) {
		view_json_print(s.f, &meta, &st, &snap);
		sink_close(&s, "batch json", 1);	/* JSON escapes to ASCII too */
	}
	forecast_trace_free(&fc);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct iova_rec_hdr *rec;
	struct model_snapshot snap;
	struct trace_reader *r;
	struct report rp;
	struct model *m;
	struct model_opts mo = { 0 };
	struct qmp_samples smp = { 0 };
	char err[256];
	int n = 0;

	r = trace_open_mem(data, size, err, sizeof(err));
	if (!r)
		return 0;
	/* any rule the header names, even one this build does not know */
	mo.rule = (enum ibd_rule)(trace_meta(r)->rule % 3);
	mo.max_bitmap_bytes = 1 << 20;	/* keep each input fast */
	memset(&rp, 0, sizeof(rp));
	m = model_new(&mo);
	if (m) {
		report_hooks(&rp, m);
		while (trace_next(r, &rec) == 1) {
			if (model_apply(m, rec) == -E2BIG)
				break;
			if (qmp_samples_sink(&smp, rec))
				break;
			/* snapshots in between, as the live view takes them */
			if (++n % 64 == 0)
				model_snapshot(m, model_now(m), MODEL_SORT_RATE, false,
					       NULL, &snap);
		}
		model_finish(m);
		model_snapshot(m, model_now(m), MODEL_SORT_NAME, true, "vfio", &snap);
		if (!rp.err)
			outputs(m, &rp, r, &smp);
		model_free(m);
	}
	report_free(&rp);
	qmp_samples_free(&smp);
	(void)trace_state(r);
	(void)trace_status_msg(r);
	trace_close(r);
	return 0;
}
