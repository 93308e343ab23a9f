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
#include "text_escape.h"

/* The rows of one VM, as a snapshot at the end of an iteration shows them. */
struct vm_rows {
	struct model_row rows[FORECAST_MAX_DEVICES];
	const struct rdev *dev[FORECAST_MAX_DEVICES];
	size_t next[FORECAST_MAX_DEVICES];	/* its next iteration */
	uint32_t n;
};

static int build_vm(struct forecast_vm_trace *vt, const struct forecast_opts *o,
		    const struct report *rp, const struct model_snapshot *snap)
{
	struct vm_rows *v = calloc(1, sizeof(*v));
	struct model_snapshot s = { 0 };
	struct forecast_opts vo = *o;
	size_t cap = 0;
	uint32_t i;

	if (!v)
		return -ENOMEM;
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
		s.now_ns = it->ts_end_ns;

		if (vt->nsteps == cap) {
			size_t nc = cap ? cap * 2 : 16;
			struct forecast_step *ns = realloc(vt->steps, nc * sizeof(*ns));

			if (!ns) {
				free(v);
				return -ENOMEM;
			}
			vt->steps = ns;
			cap = nc;
		}
		st = &vt->steps[vt->nsteps];
		st->ts_ns = it->ts_end_ns;
		forecast_compute(&st->f, &vo, &s, NULL,
				 vt->nsteps ? &vt->steps[vt->nsteps - 1].f : NULL);
		vt->nsteps++;
	}
	free(v);
	return 0;
}

int forecast_trace_build(struct forecast_trace *ft, const struct forecast_opts *o,
			 const struct report *rp, const struct model_snapshot *snap)
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
		if (build_vm(&ft->vm[k], o, rp, snap)) {
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
