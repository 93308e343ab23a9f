// SPDX-License-Identifier: GPL-2.0
/*
 * qmp_record.c - QEMU's query-migrate samples in a trace (IOVA_REC_QMP),
 * written by record --qmp and read back by replay and report
 * (include/qmp_record.h).
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "qmp_record.h"
#include "trace_file.h"

static uint32_t sat32(uint64_t v)
{
	return v > UINT32_MAX ? UINT32_MAX : (uint32_t)v;
}

void qmp_record_fill(struct iova_rec_qmp *r, const struct qmp_migrate *m)
{
	double bits = m->mbps * 1e6;

	memset(r, 0, sizeof(*r));
	r->hdr.type = IOVA_REC_QMP;
	r->hdr.size = sizeof(*r);
	r->hdr.ts_ns = m->ts_ns;
	r->pid = m->pid;
	r->flags = (m->have_ram ? IOVA_QMP_HAVE_RAM : 0) |
		   (m->have_params ? IOVA_QMP_HAVE_PARAMS : 0);
	/* NUL-padded; a status longer than the field is cut, still ended */
	memcpy(r->status, m->status, strnlen(m->status, sizeof(r->status) - 1));
	r->seq = m->seq;
	r->ram_transferred = m->ram_transferred;
	r->ram_remaining = m->ram_remaining;
	r->dirty_pages_rate = m->dirty_pages_rate;
	r->dirty_sync_count = m->dirty_sync_count;
	r->bits_per_s = isfinite(bits) && bits > 0 ?
			(bits >= 1.8e19 ? UINT64_MAX : (uint64_t)(bits + 0.5)) : 0;
	r->max_bandwidth = m->max_bandwidth;
	r->avail_switchover_bandwidth = m->avail_switchover_bandwidth;
	r->expected_downtime_ms = sat32(m->expected_downtime_ms);
	r->downtime_limit_ms = sat32(m->downtime_limit_ms);
	r->downtime_ms = sat32(m->downtime_ms);
	r->page_size = sat32(m->page_size);
}

void qmp_record_read(struct qmp_migrate *m, const struct iova_rec_qmp *r)
{
	memset(m, 0, sizeof(*m));
	m->ts_ns = r->hdr.ts_ns;
	m->pid = r->pid;
	m->seq = r->seq;
	/* a trace is input: the status need not be terminated in it */
	memcpy(m->status, r->status, sizeof(r->status) < sizeof(m->status) ?
	       sizeof(r->status) : sizeof(m->status) - 1);
	m->status[sizeof(m->status) - 1] = '\0';
	m->have_ram = r->flags & IOVA_QMP_HAVE_RAM;
	m->have_params = r->flags & IOVA_QMP_HAVE_PARAMS;
	m->ram_transferred = r->ram_transferred;
	m->ram_remaining = r->ram_remaining;
	m->dirty_pages_rate = r->dirty_pages_rate;
	m->dirty_sync_count = r->dirty_sync_count;
	m->mbps = (double)r->bits_per_s / 1e6;
	m->max_bandwidth = r->max_bandwidth;
	m->avail_switchover_bandwidth = r->avail_switchover_bandwidth;
	m->expected_downtime_ms = r->expected_downtime_ms;
	m->downtime_limit_ms = r->downtime_limit_ms;
	m->downtime_ms = r->downtime_ms;
	m->page_size = r->page_size;
}

int qmp_samples_add(struct qmp_samples *s, const struct qmp_migrate *m)
{
	size_t i;

	if (s->n == s->cap) {
		size_t nc = s->cap ? s->cap * 2 : 64;
		struct qmp_migrate *nv = realloc(s->v, nc * sizeof(*nv));

		if (!nv)
			return -ENOMEM;
		s->v = nv;
		s->cap = nc;
	}
	/* the recorder writes them nearly in order: look from the end */
	for (i = s->n; i > 0 && s->v[i - 1].ts_ns > m->ts_ns; i--)
		;
	memmove(&s->v[i + 1], &s->v[i], (s->n - i) * sizeof(*s->v));
	s->v[i] = *m;
	s->n++;
	return 0;
}

int qmp_samples_sink(void *ctx, const struct iova_rec_hdr *rec)
{
	struct qmp_migrate m;

	if (rec->type != IOVA_REC_QMP || rec->size != sizeof(struct iova_rec_qmp))
		return 0;
	qmp_record_read(&m, (const struct iova_rec_qmp *)rec);
	return qmp_samples_add(ctx, &m);
}

const struct qmp_migrate *qmp_samples_at(const struct qmp_samples *s,
					 uint32_t pid, uint64_t ts_ns)
{
	size_t lo = 0, hi = s->n, mid;

	/* the first sample later than ts_ns, then back to pid's */
	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (s->v[mid].ts_ns <= ts_ns)
			lo = mid + 1;
		else
			hi = mid;
	}
	while (lo > 0) {
		lo--;
		if (s->v[lo].pid == pid)
			return &s->v[lo];
	}
	return NULL;
}

const struct qmp_migrate *qmp_samples_first(const struct qmp_samples *s,
					    uint32_t pid)
{
	size_t i;

	for (i = 0; i < s->n; i++)
		if (s->v[i].pid == pid)
			return &s->v[i];
	return NULL;
}

const struct qmp_migrate *qmp_samples_last(const struct qmp_samples *s,
					   uint32_t pid)
{
	return qmp_samples_at(s, pid, UINT64_MAX);
}

unsigned int qmp_samples_pids(const struct qmp_samples *s, uint32_t *pids,
			      unsigned int max)
{
	unsigned int n = 0, k;
	size_t i;

	for (i = 0; i < s->n && n < max; i++) {
		for (k = 0; k < n && pids[k] != s->v[i].pid; k++)
			;
		if (k == n)
			pids[n++] = s->v[i].pid;
	}
	return n;
}

int qmp_samples_load(struct qmp_samples *s, const char *path, char *err,
		     size_t errlen)
{
	struct trace_reader *r = trace_open(path, err, errlen);
	int ret;

	if (!r)
		return -1;
	ret = trace_read_all(r, qmp_samples_sink, s);
	trace_close(r);
	if (ret) {
		snprintf(err, errlen, "cannot read the QMP samples of %s: %s", path,
			 strerror(ret < 0 ? -ret : ENOMEM));
		return -1;
	}
	/* a cut or corrupt trace is the second pass's to report */
	return 0;
}

void qmp_samples_free(struct qmp_samples *s)
{
	free(s->v);
	memset(s, 0, sizeof(*s));
}
