/* SPDX-License-Identifier: GPL-2.0 */
/*
 * qmp_record.h - QEMU's query-migrate samples as trace records
 * (IOVA_REC_QMP, docs/trace-format.md), and the samples of a trace kept
 * in time order, so that replay and report join each instant with what
 * QEMU had said by then, as the live view does (qmp_client_sample_at()).
 */
#ifndef IOVATOP_QMP_RECORD_H
#define IOVATOP_QMP_RECORD_H

#include <stddef.h>
#include <stdint.h>

#include "iova_trace.h"
#include "qmp_client.h"

/* A sample as a record, and back. The record's status is NUL-terminated. */
void qmp_record_fill(struct iova_rec_qmp *r, const struct qmp_migrate *m);
void qmp_record_read(struct qmp_migrate *m, const struct iova_rec_qmp *r);

/* The samples of a trace, every QEMU's, in time order. */
struct qmp_samples {
	struct qmp_migrate *v;
	size_t n, cap;
};

/* Add one (an out-of-order one goes where its time says). 0 or -ENOMEM. */
int qmp_samples_add(struct qmp_samples *s, const struct qmp_migrate *m);
/* The same from a record, any other record ignored: an iova_sink_fn. */
int qmp_samples_sink(void *ctx, const struct iova_rec_hdr *rec);
/*
 * QEMU pid's latest sample at or before ts_ns; NULL when it has none that
 * early. qmp_samples_first() is its first at all.
 */
const struct qmp_migrate *qmp_samples_at(const struct qmp_samples *s,
					 uint32_t pid, uint64_t ts_ns);
const struct qmp_migrate *qmp_samples_first(const struct qmp_samples *s,
					    uint32_t pid);
const struct qmp_migrate *qmp_samples_last(const struct qmp_samples *s,
					   uint32_t pid);
/* The QEMUs sampled, in the order of their first sample; how many. */
unsigned int qmp_samples_pids(const struct qmp_samples *s, uint32_t *pids,
			      unsigned int max);
/*
 * Every QMP record of the trace at path (a first pass: replay paces its
 * records, and a sample the recorder wrote a little after the device
 * records of its instant must still be there when that instant is shown).
 * 0, or -1 with a sentence in err.
 */
int qmp_samples_load(struct qmp_samples *s, const char *path, char *err,
		     size_t errlen);
void qmp_samples_free(struct qmp_samples *s);

#endif /* IOVATOP_QMP_RECORD_H */
