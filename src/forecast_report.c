// SPDX-License-Identifier: GPL-2.0
/*
 * forecast_report.c - the forecast over a recorded trace, iteration by
 * iteration (include/forecast_report.h).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "forecast_report.h"
#include "qmp_record.h"
#include "text_escape.h"

/* The rows of one VM, as a snapshot at the end of an iteration shows them. */
struct vm_rows {
	struct model_row rows[FORECAST_MAX_DEVICES];
	const struct rdev *dev[FORECAST_MAX_DEVICES];
	size_t next[FORECAST_MAX_DEVICES];	/* its next iteration */
	uint32_t n;
};

/* Room for one more step. */
static struct forecast_step *new_step(struct forecast_vm_trace *vt, size_t *cap)
{
	if (vt->nsteps == *cap) {
		size_t nc = *cap ? *cap * 2 : 16;
		struct forecast_step *ns = realloc(vt->steps, nc * sizeof(*ns));

		if (!ns)
			return NULL;
		vt->steps = ns;
		*cap = nc;
	}
	return &vt->steps[vt->nsteps];
}

/*
 * QEMU's sample as of ts_ns, as the live view joins them: the latest at or
 * before it; NULL when QEMU was not recorded, or not yet.
 */
static const struct qmp_migrate *qemu_at(const struct qmp_samples *smp,
					 uint32_t pid, uint64_t ts_ns)
{
	return smp ? qmp_samples_at(smp, pid, ts_ns) : NULL;
}

/*
 * The forecast carries QEMU's figures from sample to sample (its best
 * bandwidth over a sync, the pending bytes of the sync before): run it
 * through every sample of the VM's QEMU up to ts_ns, as a live view
 * with an interval as short as the recorder's would have, so that a
 * step sees what those samples said and not only its own.
 */
static void through_samples(struct forecast *chain, bool *have,
			    const struct forecast_opts *vo,
			    const struct model_snapshot *s,
			    const struct qmp_samples *smp, uint32_t pid,
			    size_t *next, uint64_t ts_ns)
{
	struct model_snapshot at = *s;
	struct forecast f;

	for (; smp && *next < smp->n && smp->v[*next].ts_ns <= ts_ns; (*next)++) {
		if (smp->v[*next].pid != pid)
			continue;
		at.now_ns = smp->v[*next].ts_ns;
		forecast_compute(&f, vo, &at, &smp->v[*next], *have ? chain : NULL);
		*chain = f;
		*have = true;
	}
}

static int build_vm(struct forecast_vm_trace *vt, const struct forecast_opts *o,
		    const struct report *rp, const struct model_snapshot *snap,
		    const struct qmp_samples *smp)
{
	struct forecast *chain = calloc(1, sizeof(*chain));
	bool have_chain = false;
	size_t next_sample = 0;
	const struct qmp_migrate *last = smp ? qmp_samples_last(smp, vt->pid) : NULL;
	struct vm_rows *v = calloc(1, sizeof(*v));
	struct model_snapshot s = { 0 };
	struct forecast_opts vo = *o;
	size_t cap = 0;
	uint32_t i;

	if (!v || !chain) {
		free(v);
		free(chain);
		return -ENOMEM;
	}
	for (i = 0; i < snap->nrows && v->n < FORECAST_MAX_DEVICES; i++) {
		const struct model_row *r = &snap->rows[i];
		struct model_row *w;

		if (r->pid != vt->pid)
			continue;
		w = &v->rows[v->n];
		snprintf(w->name, sizeof(w->name), "%s", r->name);
		w->pid = r->pid;
		w->path = r->path;
		v->dev[v->n++] = report_dev(rp, r->name);
	}
	vo.pid = vt->pid;
	s.rows = v->rows;
	s.nrows = v->n;
	s.ndevices = v->n;
	for (;;) {
		const struct model_iteration *it = NULL;
		struct forecast_step *st;
		uint32_t best = 0;

		/* the next iteration to end, over the VM's devices */
		for (i = 0; i < v->n; i++) {
			const struct rdev *d = v->dev[i];

			if (v->next[i] < d->nits &&
			    (!it || d->its[v->next[i]].ts_end_ns < it->ts_end_ns)) {
				it = &d->its[v->next[i]];
				best = i;
			}
		}
		if (!it)
			break;
		v->next[best]++;
		v->rows[best].iterations = v->next[best];
		v->rows[best].dirty_pages_iter = it->dirty_pages;
		v->rows[best].dirty_bytes_iter = it->dirty_bytes;
		v->rows[best].iter_bytes_per_s = it->dirty_bytes_per_s;
		v->rows[best].iter_end_ns = it->ts_end_ns;
		/* the pages of each iteration, as the model's row keeps them */
		if (v->rows[best].nhistory == MODEL_HISTORY) {
			memmove(v->rows[best].history, v->rows[best].history + 1,
				(MODEL_HISTORY - 1) * sizeof(v->rows[best].history[0]));
			v->rows[best].nhistory--;
		}
		v->rows[best].history[v->rows[best].nhistory++] = it->dirty_pages;
		s.now_ns = it->ts_end_ns;

		st = new_step(vt, &cap);
		if (!st) {
			free(v);
			free(chain);
			return -ENOMEM;
		}
		st->ts_ns = it->ts_end_ns;
		through_samples(chain, &have_chain, &vo, &s, smp, vt->pid,
				&next_sample, it->ts_end_ns);
		forecast_compute(&st->f, &vo, &s, qemu_at(smp, vt->pid, it->ts_end_ns),
				 have_chain ? chain : vt->nsteps ?
				 &vt->steps[vt->nsteps - 1].f : NULL);
		*chain = st->f;
		have_chain = true;
		vt->nsteps++;
	}
	/*
	 * QEMU said more after the devices' last iteration (the switchover,
	 * "completed" or "cancelled"): that is how the migration ended
	 */
	if (last && (!vt->nsteps || last->ts_ns > vt->steps[vt->nsteps - 1].ts_ns)) {
		struct forecast_step *st = new_step(vt, &cap);

		if (!st) {
			free(v);
			free(chain);
			return -ENOMEM;
		}
		st->ts_ns = last->ts_ns;
		s.now_ns = last->ts_ns;
		through_samples(chain, &have_chain, &vo, &s, smp, vt->pid,
				&next_sample, last->ts_ns - 1);
		forecast_compute(&st->f, &vo, &s, last,
				 have_chain ? chain : vt->nsteps ?
				 &vt->steps[vt->nsteps - 1].f : NULL);
		vt->nsteps++;
	}
	free(v);
	free(chain);
	return 0;
}

int forecast_trace_build(struct forecast_trace *ft, const struct forecast_opts *o,
			 const struct report *rp, const struct model_snapshot *snap,
			 const struct qmp_samples *smp)
{
	uint32_t i;
	size_t k;

	memset(ft, 0, sizeof(*ft));
	ft->opts = *o;
	for (i = 0; i < snap->nrows; i++) {
		const struct model_row *r = &snap->rows[i];

		for (k = 0; k < ft->nvm && ft->vm[k].pid != r->pid; k++)
			;
		if (k < ft->nvm || ft->nvm == FORECAST_MAX_DEVICES)
			continue;
		ft->vm[ft->nvm].pid = r->pid;
		memcpy(ft->vm[ft->nvm].comm, r->comm, sizeof(r->comm));
		ft->nvm++;
	}
	for (k = 0; k < ft->nvm; k++)
		if (build_vm(&ft->vm[k], o, rp, snap, smp && smp->n ? smp : NULL)) {
			forecast_trace_free(ft);
			return -ENOMEM;
		}
	return 0;
}

void forecast_trace_free(struct forecast_trace *ft)
{
	size_t k;

	for (k = 0; k < ft->nvm; k++)
		free(ft->vm[k].steps);
	memset(ft, 0, sizeof(*ft));
}

static double rel_s(uint64_t ts, uint64_t t0)
{
	return ts >= t0 ? (double)(ts - t0) / 1e9 : 0;
}

void forecast_trace_text(FILE *f, const struct forecast_trace *ft, uint64_t t0_ns)
{
	char line[FORECAST_MAX_DEVICES * 96];
	size_t k, i;

	/* comm and the device names in the lines come from the trace */
	fprintf(f, "\nforecast (docs/forecast.md), at the end of each iteration:\n");
	for (k = 0; k < ft->nvm; k++) {
		const struct forecast_vm_trace *vt = &ft->vm[k];

		fprintf(f, "  pid %u ", vt->pid);
		text_escape_fputs(f, vt->comm, IOVA_COMM_LEN);
		if (!vt->nsteps) {
			fprintf(f, ": no iteration finished\n");
			continue;
		}
		forecast_format_verdict(line, sizeof(line), &vt->steps[vt->nsteps - 1].f);
		fprintf(f, ": ");
		text_escape_fputs(f, line, sizeof(line));
		fputc('\n', f);
		for (i = 0; i < vt->nsteps; i++) {
			forecast_format_line(line, sizeof(line), &vt->steps[i].f, -1);
			fprintf(f, "    %9.3f s  ", rel_s(vt->steps[i].ts_ns, t0_ns));
			text_escape_fputs(f, line, sizeof(line));
			fputc('\n', f);
		}
	}
}

/* The report's names are plain ASCII device identities; escape anyway. */
static void jstr(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			fprintf(f, "\\%c", c);
		else if (c < 0x20 || c >= 0x7f)
			fprintf(f, "\\u%04x", c);
		else
			fputc(c, f);
	}
	fputc('"', f);
}

void forecast_trace_json(FILE *f, const struct forecast_trace *ft, uint64_t t0_ns)
{
	char line[FORECAST_MAX_DEVICES * 96];
	size_t k, i;
	uint32_t b;

	fprintf(f, "{\"link_bytes_per_s\": %.3f, \"downtime_limit_s\": %.6f, \"vms\": [",
		ft->opts.link_bytes_s, ft->opts.downtime_limit_s > 0 ?
		ft->opts.downtime_limit_s : FORECAST_DEFAULT_DL_S);
	for (k = 0; k < ft->nvm; k++) {
		const struct forecast_vm_trace *vt = &ft->vm[k];
		const struct forecast *last = vt->nsteps ?
			&vt->steps[vt->nsteps - 1].f : NULL;

		fprintf(f, "%s\n    {\"pid\": %u, \"comm\": ", k ? "," : "", vt->pid);
		{
			char comm[IOVA_COMM_LEN + 1];

			snprintf(comm, sizeof(comm), "%.*s", IOVA_COMM_LEN, vt->comm);
			jstr(f, comm);
		}
		fprintf(f, ", \"verdict\": \"%s\", \"says\": ",
			forecast_verdict_key(last ? last->verdict : FORECAST_UNKNOWN));
		if (last)
			forecast_format_verdict(line, sizeof(line), last);
		else
			snprintf(line, sizeof(line), "no iteration finished");
		jstr(f, line);
		fprintf(f, ",\n     \"iterations\": [");
		for (i = 0; i < vt->nsteps; i++) {
			const struct forecast *fc = &vt->steps[i].f;

			fprintf(f, "%s\n      {\"t_s\": %.3f, \"iteration\": %" PRIu64
				", \"verdict\": \"%s\", \"iterations_left\": %u"
				", \"dirty_bytes_per_s\": %.3f, \"pending_bytes\": %.0f"
				", \"threshold_bytes\": %.0f, \"needed_bytes_per_s\": %.3f"
				", \"blamed\": [",
				i ? "," : "", rel_s(vt->steps[i].ts_ns, t0_ns),
				fc->iteration, forecast_verdict_key(fc->verdict), fc->iters_left,
				fc->dirty_rate, fc->pending, fc->threshold,
				fc->needed_bw);
			for (b = 0; b < fc->nblame; b++) {
				fprintf(f, "%s", b ? ", " : "");
				jstr(f, fc->dev[fc->blame[b]].name);
			}
			fprintf(f, "]}");
		}
		fprintf(f, "%s]}", vt->nsteps ? "\n     " : "");
	}
	fprintf(f, "%s]}", ft->nvm ? "\n  " : "");
}

/*
 * One row per step after a header of its own: the report's CSV puts this
 * table after the devices', one empty line between (docs/report-json.md).
 * The last row of each VM carries its verdict (last = 1).
 */
void forecast_trace_csv(FILE *f, const struct forecast_trace *ft, uint64_t t0_ns)
{
	char line[FORECAST_MAX_DEVICES * 96];
	size_t k, i;
	uint32_t b;

	fprintf(f, "pid,comm,t_s,iteration,verdict,iterations_left,"
		"bandwidth_bytes_s,bandwidth_source,downtime_limit_s,"
		"dirty_bytes_s,pending_bytes,threshold_bytes,needed_bytes_s,"
		"blamed,last,says\n");
	for (k = 0; k < ft->nvm; k++) {
		const struct forecast_vm_trace *vt = &ft->vm[k];

		if (!vt->nsteps) {
			fprintf(f, "%u,", vt->pid);
			text_escape_csv(f, vt->comm, IOVA_COMM_LEN);
			fprintf(f, ",,,unknown,,,,,,,,,\"\",1,\"no iteration finished\"\n");
			continue;
		}
		for (i = 0; i < vt->nsteps; i++) {
			const struct forecast *fc = &vt->steps[i].f;
			size_t off = 0;

			fprintf(f, "%u,", vt->pid);
			text_escape_csv(f, vt->comm, IOVA_COMM_LEN);
			fprintf(f, ",%.3f,%" PRIu64 ",%s,", rel_s(vt->steps[i].ts_ns, t0_ns),
				fc->iteration, forecast_verdict_key(fc->verdict));
			if (fc->verdict == FORECAST_CONVERGES)
				fprintf(f, "%u", fc->iters_left);
			fprintf(f, ",%.3f,%s,%.6f,%.3f,%.0f,%.0f,", fc->bw,
				forecast_src_name(fc->bw_src), fc->dl, fc->dirty_rate,
				fc->pending, fc->threshold);
			if (fc->verdict == FORECAST_CANNOT)
				fprintf(f, "%.3f", fc->needed_bw);
			fputc(',', f);
			/* the blamed devices, space-separated, in one field */
			line[0] = '\0';
			for (b = 0; b < fc->nblame && off < sizeof(line); b++)
				off += (size_t)snprintf(line + off, sizeof(line) - off, "%s%s",
							b ? " " : "", fc->dev[fc->blame[b]].name);
			text_escape_csv(f, line, sizeof(line));
			fprintf(f, ",%d,", i + 1 == vt->nsteps);
			forecast_format_verdict(line, sizeof(line), fc);
			text_escape_csv(f, line, sizeof(line));
			fputc('\n', f);
		}
	}
}
