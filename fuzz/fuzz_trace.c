// SPDX-License-Identifier: GPL-2.0
/*
 * fuzz_trace.c - libFuzzer target: any bytes through the trace reader and
 * on into the model, as 'iovatop report' and 'replay' would take them.
 *
 * Built with -DFUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION (make fuzz), the
 * reader accepts any CRC, so the fuzzer reaches the frame, decompression,
 * record and model code instead of stopping at the first checksum.
 */
#include <stddef.h>
#include <stdint.h>

#include "model.h"
#include "trace_file.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct iova_rec_hdr *rec;
	struct model_snapshot snap;
	struct model_anomaly anom[8];
	struct trace_reader *r;
	struct model *m;
	struct model_opts mo = { 0 };
	char err[256];
	int n = 0;

	r = trace_open_mem(data, size, err, sizeof(err));
	if (!r)
		return 0;
	/* any rule the header names, even one this build does not know */
	mo.rule = (enum ibd_rule)(trace_meta(r)->rule % 3);
	mo.max_bitmap_bytes = 1 << 20;	/* keep each input fast */
	m = model_new(&mo);
	if (m) {
		while (trace_next(r, &rec) == 1) {
			model_apply(m, rec);
			/* snapshots in between, as the live view takes them */
			if (++n % 64 == 0)
				model_snapshot(m, model_now(m), MODEL_SORT_RATE, false,
					       NULL, &snap);
		}
		model_finish(m);
		model_snapshot(m, model_now(m), MODEL_SORT_NAME, true, "vfio", &snap);
		model_anomalies(m, anom, 8);
		model_free(m);
	}
	(void)trace_state(r);
	(void)trace_status_msg(r);
	trace_close(r);
	return 0;
}
