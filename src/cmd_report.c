// SPDX-License-Identifier: GPL-2.0
/*
 * cmd_report.c - iovatop report: read a trace through the model and
 * summarise it per device, as text, JSON (docs/report-json.md) or CSV.
 *
 * The model does the per-report work (rebuild, attribution, iterations,
 * trend); this file only gathers what a whole-trace summary needs on top:
 * the iterations of each device for rates, the hot IOVA regions over the
 * whole trace, and optionally the rebuilt bitmaps as files.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "cli_util.h"
#include "commands.h"
#include "model.h"
#include "trace_file.h"
#include "view.h"

#define GRANULE_SHIFT	21	/* hot regions are found in 2 MiB granules */
#define HOT_FRACTION	8	/* granules >= max/8 of the device are hot */
#define DEFAULT_TOP	5
#define MAX_TOP		16	/* hot regions kept per device */

enum fmt { FMT_TEXT, FMT_JSON, FMT_CSV };

struct granule {
	uint64_t key;		/* iova >> GRANULE_SHIFT, +1 so 0 means free */
	uint64_t hits;		/* dirty pages seen in it over all reports */
	uint64_t lo, hi;	/* extent of those pages */
};

struct region {
	uint64_t lo, hi;
	uint64_t hits;
};

struct rdev {
	char name[MODEL_NAME_LEN];
	struct model_iteration *its;
	size_t nits, cap_its;
	struct granule *g;	/* open addressing by key */
	size_t gcap, gn;
	uint64_t hits;		/* all dirty pages of all reports */
	uint64_t dirty_pages;
	struct region top[MAX_TOP];
	size_t ntop;
};

struct report {
	struct rdev *devs;
	size_t ndevs, cap;
	const char *dump_dir;
	FILE *index;
	int err;
	char errmsg[4200];
};

static struct rdev *rdev_of(struct report *rp, const char *name)
{
	size_t i;

	for (i = 0; i < rp->ndevs; i++)
		if (!strcmp(rp->devs[i].name, name))
			return &rp->devs[i];
	return NULL;
}

static struct rdev *rdev_get(struct report *rp, const char *name)
{
	struct rdev *d = rdev_of(rp, name);

	if (d)
		return d;
	if (rp->ndevs == rp->cap) {
		size_t cap = rp->cap ? rp->cap * 2 : 8;

		d = realloc(rp->devs, cap * sizeof(*d));
		if (!d)
			return NULL;
		rp->devs = d;
		rp->cap = cap;
	}
	d = &rp->devs[rp->ndevs++];
	memset(d, 0, sizeof(*d));
	snprintf(d->name, sizeof(d->name), "%s", name);
	return d;
}

static int granule_grow(struct rdev *d)
{
	size_t cap = d->gcap ? d->gcap * 2 : 256, i, j;
	struct granule *g = calloc(cap, sizeof(*g));

	if (!g)
		return -ENOMEM;
	for (i = 0; i < d->gcap; i++) {
		if (!d->g[i].key)
			continue;
		for (j = (d->g[i].key * 0x9e3779b97f4a7c15ull) >> 7 & (cap - 1);
		     g[j].key; j = (j + 1) & (cap - 1))
			;
		g[j] = d->g[i];
	}
	free(d->g);
	d->g = g;
	d->gcap = cap;
	return 0;
}

static struct granule *granule_get(struct rdev *d, uint64_t key)
{
	size_t j;

	key++;
	if ((d->gn + 1) * 2 > d->gcap && granule_grow(d))
		return NULL;
	for (j = (key * 0x9e3779b97f4a7c15ull) >> 7 & (d->gcap - 1);
	     d->g[j].key; j = (j + 1) & (d->gcap - 1))
		if (d->g[j].key == key)
			return &d->g[j];
	d->g[j].key = key;
	d->gn++;
	return &d->g[j];
}

struct run_ctx {
	struct rdev *d;
	uint64_t base, page, end;
	int err;
};

static int region_run(uint64_t first_bit, uint64_t nbits, void *arg)
{
	struct run_ctx *c = arg;
	uint64_t lo = c->base + first_bit * c->page, hi = lo + nbits * c->page;

	if (hi > c->end || hi < lo)
		hi = c->end;
	while (lo < hi) {
		uint64_t key = lo >> GRANULE_SHIFT;
		uint64_t gend = (key + 1) << GRANULE_SHIFT;
		uint64_t e = gend && gend < hi ? gend : hi;
		struct granule *g = granule_get(c->d, key);

		if (!g)
			return c->err = -ENOMEM;
		if (!g->hits || lo < g->lo)
			g->lo = lo;
		if (e > g->hi)
			g->hi = e;
		g->hits += (e - lo + c->page - 1) / c->page;
		lo = e;
	}
	return 0;
}

static const char *path_name(uint32_t path)
{
	switch (path) {
	case IOVA_PATH_VFIO: return "vfio";
	case IOVA_PATH_IOMMUFD: return "iommufd";
	}
	return "unknown";
}

static void tsv_field(FILE *f, const char *s)
{
	/* comm is chosen by the traced process: keep the table a table */
	for (; *s; s++)
		fputc(*s == '\t' || *s == '\n' || *s == '\r' ? ' ' : *s, f);
}

static int dump_bitmap(struct report *rp, const struct model_report *r)
{
	char path[4096], comm[IOVA_COMM_LEN + 1];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%" PRIu64 ".bin", rp->dump_dir,
		 r->report_id);
	f = fopen(path, "wb");
	if (!f)
		goto fail;
	if (fwrite_le64(f, r->bitmap->words, r->bitmap->nwords)) {
		fclose(f);
		goto fail;
	}
	if (fclose(f))
		goto fail;
	memcpy(comm, r->task.comm, IOVA_COMM_LEN);
	comm[IOVA_COMM_LEN] = '\0';
	fprintf(rp->index, "%" PRIu64 "\t%" PRIu64 "\t%s\t", r->report_id,
		r->bitmap_id, path_name(r->path));
	tsv_field(rp->index, r->device);
	fprintf(rp->index, "\t%u\t", r->task.pid);
	tsv_field(rp->index, comm);
	fprintf(rp->index,
		"\t0x%" PRIx64 "\t0x%" PRIx64 "\t%" PRIu64 "\t0x%x\t%" PRIu64
		"\t%" PRIu64 ".bin\n",
		r->iova, r->length, r->page_size, r->flags, r->dirty_pages,
		r->report_id);
	return 0;
fail:
	snprintf(rp->errmsg, sizeof(rp->errmsg), "cannot write %s: %s", path,
		 strerror(errno));
	return -errno;
}

static void on_report(void *ctx, const struct model_report *r)
{
	struct report *rp = ctx;
	struct rdev *d;
	struct run_ctx c;

	if (rp->err)
		return;
	d = rdev_get(rp, r->device);
	if (!d) {
		rp->err = -ENOMEM;
		return;
	}
	d->dirty_pages += r->dirty_pages;
	if (r->bitmap) {
		c = (struct run_ctx){ .d = d, .base = r->iova, .page = r->page_size,
				      .end = r->iova + r->length };
		if (c.end < c.base)
			c.end = UINT64_MAX;
		ibd_for_each_run(r->bitmap, region_run, &c);
		if (c.err)
			rp->err = c.err;
		d->hits += r->dirty_pages;
		if (rp->index && !rp->err)
			rp->err = dump_bitmap(rp, r);
	}
}

static void on_iteration(void *ctx, const struct model_iteration *it)
{
	struct report *rp = ctx;
	struct rdev *d = rdev_get(rp, it->device);

	if (!d) {
		rp->err = -ENOMEM;
		return;
	}
	if (d->nits == d->cap_its) {
		size_t cap = d->cap_its ? d->cap_its * 2 : 16;
		struct model_iteration *p = realloc(d->its, cap * sizeof(*p));

		if (!p) {
			rp->err = -ENOMEM;
			return;
		}
		d->its = p;
		d->cap_its = cap;
	}
	d->its[d->nits] = *it;
	d->its[d->nits].device = NULL;	/* the model's string does not outlive it */
	d->nits++;
}

static int cmp_granule(const void *a, const void *b)
{
	const struct granule *x = a, *y = b;

	return x->key < y->key ? -1 : x->key > y->key;
}

static int cmp_region(const void *a, const void *b)
{
	const struct region *x = a, *y = b;

	if (x->hits != y->hits)
		return x->hits < y->hits ? 1 : -1;
	return x->lo < y->lo ? -1 : x->lo > y->lo;
}

/* Runs of adjacent hot granules, hottest first. */
static void hot_regions(struct rdev *d, size_t top)
{
	struct region r[64];
	size_t i, n = 0, nr = 0;
	uint64_t max = 0;

	if (!d->gn)
		return;
	for (i = 0; i < d->gcap; i++)
		if (d->g[i].key)
			d->g[n++] = d->g[i];
	d->gcap = n;
	qsort(d->g, n, sizeof(*d->g), cmp_granule);
	for (i = 0; i < n; i++)
		if (d->g[i].hits > max)
			max = d->g[i].hits;
	for (i = 0; i < n; i++) {
		const struct granule *g = &d->g[i];

		if (g->hits * HOT_FRACTION < max)
			continue;
		if (nr && i && d->g[i - 1].key + 1 == g->key &&
		    d->g[i - 1].hits * HOT_FRACTION >= max) {
			r[nr - 1].hi = g->hi;
			r[nr - 1].hits += g->hits;
			continue;
		}
		if (nr == sizeof(r) / sizeof(r[0])) {
			qsort(r, nr, sizeof(r[0]), cmp_region);
			nr--;	/* drop the coolest to make room */
		}
		r[nr++] = (struct region){ g->lo, g->hi, g->hits };
	}
	qsort(r, nr, sizeof(r[0]), cmp_region);
	if (top > sizeof(d->top) / sizeof(d->top[0]))
		top = sizeof(d->top) / sizeof(d->top[0]);
	d->ntop = nr < top ? nr : top;
	memcpy(d->top, r, d->ntop * sizeof(r[0]));
}

/* ---- output ----------------------------------------------------------- */

struct rates {
	double min, avg, max;	/* bytes per second, over iterations 1.. */
	size_t n;
};

static struct rates dev_rates(const struct rdev *d)
{
	struct rates r = { 0 };
	uint64_t bytes = 0;
	size_t i;

	for (i = 1; i < d->nits; i++) {
		double v = d->its[i].dirty_bytes_per_s;

		if (!r.n || v < r.min)
			r.min = v;
		if (!r.n || v > r.max)
			r.max = v;
		bytes += d->its[i].dirty_bytes;
		r.n++;
	}
	if (r.n && d->its[d->nits - 1].ts_end_ns > d->its[0].ts_end_ns)
		r.avg = (double)bytes * 1e9 /
			(double)(d->its[d->nits - 1].ts_end_ns - d->its[0].ts_end_ns);
	return r;
}

static const char *trend_name(uint32_t t)
{
	switch (t) {
	case MODEL_TREND_CONVERGING: return "converging";
	case MODEL_TREND_FLAT: return "flat";
	case MODEL_TREND_DIVERGING: return "diverging";
	}
	return "unknown";
}

static const char *codec_name(uint32_t c)
{
	return c == TRACE_CODEC_ZSTD ? "zstd" : "none";
}

static double mib(double bytes)
{
	return bytes / (1024.0 * 1024.0);
}

struct out {
	FILE *f;
	const char *file;
	const struct trace_meta *meta;
	const struct trace_totals *tot;
	enum trace_state state;
	const char *status;
	uint32_t cut_lost;	/* records of the block a cut fell into */
	struct model_snapshot *s;
	struct report *rp;
	struct model_anomaly *anom;
	size_t nanom;
};

static const struct rdev empty_rdev;

/* The part of a device's dirty page hits in hot region k, times scale. */
static double share(const struct rdev *d, size_t k, double scale)
{
	return d->hits ? scale * (double)d->top[k].hits / (double)d->hits : 0;
}

static const struct rdev *row_rdev(const struct out *o, const struct model_row *r)
{
	const struct rdev *d = rdev_of(o->rp, r->name);

	return d ? d : &empty_rdev;
}

static double span_s(const struct trace_totals *t)
{
	return t->last_ts_ns > t->first_ts_ns ?
		       (double)(t->last_ts_ns - t->first_ts_ns) / 1e9 : 0;
}

static const char *state_name(enum trace_state s)
{
	return s == TRACE_OK ? "complete" : s == TRACE_TRUNCATED ? "truncated" :
								  "corrupt";
}

static void print_text(const struct out *o)
{
	const struct trace_totals *t = o->tot;
	FILE *f = o->f;
	char when[64] = "?";
	time_t sec = (time_t)(o->meta->start_realtime_ns / 1000000000ull);
	struct tm tm;
	uint32_t i;
	size_t k;
	int w = 24;

	if (gmtime_r(&sec, &tm))
		strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S UTC", &tm);
	fprintf(f, "iovatop report: %s\n", o->file);
	fprintf(f, "  host %s, kernel %s, probe %s, layout %s, decode rule %s, codec %s\n",
		o->meta->hostname[0] ? o->meta->hostname : "?",
		o->meta->kernel_release[0] ? o->meta->kernel_release : "?",
		o->meta->probe_mode[0] ? o->meta->probe_mode : "?",
		view_layout_name(o->meta->layout), ibd_rule_name(o->meta->rule),
		codec_name(o->meta->codec));
	fprintf(f, "  started %s, %.3f s of records, %" PRIu64 " records, %" PRIu64
		" reports\n", when, span_s(t), t->records, o->s->reports);
	if (o->state != TRACE_OK)
		fprintf(f, "  INCOMPLETE: %s\n", o->status);
	fprintf(f, "  lost records: %" PRIu64 " (ring buffer %" PRIu64
		", coalescing %" PRIu64 ", reader %" PRIu64 "); incomplete reports: %"
		PRIu64 "; anomalies: %" PRIu64 "\n",
		t->lost, t->lost_where[IOVA_LOST_RINGBUF],
		t->lost_where[IOVA_LOST_COALESCE], t->lost_where[IOVA_LOST_READER],
		o->s->incomplete, o->s->anomalies);
	if (!o->s->nrows) {
		fprintf(f, "\nno device reported dirty pages in this trace.\n");
		return;
	}
	{
		const struct model_row *h = &o->s->rows[0];
		const struct rdev *d = row_rdev(o, h);

		fprintf(f, "\nhottest device: %s, %.1f MiB dirty, avg %.2f MiB/s",
			h->name, mib((double)h->dirty_bytes), mib(dev_rates(d).avg));
		if (d->ntop)
			fprintf(f, "; hottest region 0x%" PRIx64 "-0x%" PRIx64
				" (%.1f MiB, %.0f%% of its dirty pages)",
				d->top[0].lo, d->top[0].hi - 1,
				mib((double)(d->top[0].hi - d->top[0].lo)),
				share(d, 0, 100.0));
		fprintf(f, "\n");
	}
	/* as wide as the longest name: mdev UUIDs make long ones */
	for (i = 0; i < o->s->nrows; i++)
		if ((int)strlen(o->s->rows[i].name) > w)
			w = (int)strlen(o->s->rows[i].name);
	fprintf(f, "\n%-*s %-16s %7s %5s %10s %9s %9s %9s %-10s %6s %6s %6s\n",
		w, "DEVICE", "PROCESS", "REPORTS", "ITERS", "DIRTY MiB",
		"MIN MiB/s", "AVG MiB/s", "MAX MiB/s", "TREND", "LOST", "INCOMP",
		"ANOM");
	for (i = 0; i < o->s->nrows; i++) {
		const struct model_row *r = &o->s->rows[i];
		const struct rdev *d = row_rdev(o, r);
		struct rates rt = dev_rates(d);
		char proc[40];

		snprintf(proc, sizeof(proc), "%u/%s", r->pid, r->comm);
		fprintf(f, "%-*s %-16.16s %7" PRIu64 " %5zu %10.1f %9.2f %9.2f %9.2f %-10s %6"
			PRIu64 " %6" PRIu64 " %6" PRIu64 "\n",
			w, r->name, proc, r->reports, d->nits,
			mib((double)r->dirty_bytes), mib(rt.min), mib(rt.avg),
			mib(rt.max), trend_name(r->trend), r->lost, r->incomplete,
			r->anomalies);
	}
	for (i = 0; i < o->s->nrows; i++) {
		const struct model_row *r = &o->s->rows[i];
		const struct rdev *d = row_rdev(o, r);

		fprintf(f, "\n%s (pid %u %s)\n", r->name, r->pid, r->comm);
		fprintf(f, "  tracked 0x%" PRIx64 "-0x%" PRIx64 ", page size %" PRIu64
			", %" PRIu64 " set calls, %" PRIu64 " dirty pages\n",
			r->tracked_iova, r->tracked_iova + r->tracked_length - 1,
			r->page_size, r->set_calls, d->dirty_pages);
		fprintf(f, "  dirty pages per iteration (%s):", trend_name(r->trend));
		for (k = 0; k < d->nits; k++) {
			if (k == 16 && d->nits > 24) {
				fprintf(f, " ... (%zu more)", d->nits - 20);
				k = d->nits - 4;
			}
			fprintf(f, " %" PRIu64 "%s", d->its[k].dirty_pages,
				d->its[k].incomplete ? "?" : "");
		}
		fprintf(f, "%s\n", d->nits ? "" : " none");
		for (k = 0; k < d->ntop; k++)
			fprintf(f, "  hot region %zu: 0x%" PRIx64 "-0x%" PRIx64
				" (%.2f MiB), %" PRIu64 " dirty page hits, %.1f%%\n",
				k + 1, d->top[k].lo, d->top[k].hi - 1,
				mib((double)(d->top[k].hi - d->top[k].lo)),
				d->top[k].hits,
				share(d, k, 100.0));
		if (r->verified)
			fprintf(f, "  verified %" PRIu64 " reports, %" PRIu64
				" mismatched\n", r->verified, r->verify_mismatch);
	}
	if (o->nanom) {
		fprintf(f, "\nanomalies (latest %zu):\n", o->nanom);
		for (k = 0; k < o->nanom; k++) {
			const struct model_anomaly *a = &o->anom[k];

			fprintf(f, "  %.6f s  %-24s %s x%u report %" PRIu64
				" iova 0x%" PRIx64 " length 0x%" PRIx64 "\n",
				a->ts_ns >= t->first_ts_ns ?
					(double)(a->ts_ns - t->first_ts_ns) / 1e9 : 0,
				a->device, model_anomaly_name(a->kind), a->count,
				a->report_id, a->iova, a->length);
		}
	}
}

static void json_str(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			fprintf(f, "\\%c", c);
		else if (c < 0x20 || c >= 0x7f)
			fprintf(f, "\\u%04x", c);	/* comm is bytes, not UTF-8 */
		else
			fputc(c, f);
	}
	fputc('"', f);
}

static void json_num(FILE *f, double v)
{
	fprintf(f, "%.3f", v);
}

static void print_json(const struct out *o)
{
	const struct trace_totals *t = o->tot;
	FILE *f = o->f;
	uint32_t i;
	size_t k;

	fprintf(f, "{\n  \"schema\": \"iovatop-report/1\",\n  \"file\": ");
	json_str(f, o->file);
	fprintf(f, ",\n  \"trace\": {\"format_version\": %u, \"abi_version\": %u, \"kernel_release\": ",
		o->meta->version, o->meta->abi_version);
	json_str(f, o->meta->kernel_release);
	fprintf(f, ", \"hostname\": ");
	json_str(f, o->meta->hostname);
	fprintf(f, ", \"probe_mode\": ");
	json_str(f, o->meta->probe_mode);
	fprintf(f, ", \"layout\": \"%s\", \"rule\": \"%s\", \"codec\": \"%s\", \"start_realtime_ns\": %" PRIu64
		", \"first_ts_ns\": %" PRIu64 ", \"last_ts_ns\": %" PRIu64 ", \"duration_s\": ",
		view_layout_name(o->meta->layout), ibd_rule_name(o->meta->rule),
		codec_name(o->meta->codec), o->meta->start_realtime_ns,
		t->first_ts_ns, t->last_ts_ns);
	json_num(f, span_s(t));
	fprintf(f, ", \"records\": %" PRIu64 ", \"records_lost_in_cut\": %u, \"status\": \"%s\", \"status_message\": ",
		t->records, o->cut_lost, state_name(o->state));
	json_str(f, o->status);
	fprintf(f, "},\n  \"totals\": {\"reports\": %" PRIu64 ", \"incomplete_reports\": %" PRIu64
		", \"not_rebuilt\": %" PRIu64 ", \"anomalies\": %" PRIu64
		", \"lost_records\": %" PRIu64 ", \"lost_by_stage\": {\"ringbuf\": %" PRIu64
		", \"coalesce\": %" PRIu64 ", \"reader\": %" PRIu64 ", \"other\": %" PRIu64 "}},\n",
		o->s->reports, o->s->incomplete, o->s->not_rebuilt, o->s->anomalies,
		t->lost, t->lost_where[IOVA_LOST_RINGBUF], t->lost_where[IOVA_LOST_COALESCE],
		t->lost_where[IOVA_LOST_READER], t->lost_where[0]);
	fprintf(f, "  \"hottest\": ");
	if (o->s->nrows) {
		const struct rdev *d = row_rdev(o, &o->s->rows[0]);

		fprintf(f, "{\"device\": ");
		json_str(f, o->s->rows[0].name);
		if (d->ntop)
			fprintf(f, ", \"region\": {\"iova\": \"0x%" PRIx64 "\", \"length\": \"0x%" PRIx64 "\"}}",
				d->top[0].lo, d->top[0].hi - d->top[0].lo);
		else
			fprintf(f, ", \"region\": null}");
	} else {
		fprintf(f, "null");
	}
	fprintf(f, ",\n  \"devices\": [");
	for (i = 0; i < o->s->nrows; i++) {
		const struct model_row *r = &o->s->rows[i];
		const struct rdev *d = row_rdev(o, r);
		struct rates rt = dev_rates(d);

		fprintf(f, "%s\n    {\"name\": ", i ? "," : "");
		json_str(f, r->name);
		fprintf(f, ", \"path\": \"%s\", \"pid\": %u, \"comm\": ", path_name(r->path), r->pid);
		json_str(f, r->comm);
		fprintf(f, ",\n     \"reports\": %" PRIu64 ", \"incomplete_reports\": %" PRIu64
			", \"set_calls\": %" PRIu64 ", \"dirty_pages\": %" PRIu64
			", \"dirty_bytes\": %" PRIu64 ", \"page_size\": %" PRIu64
			", \"tracked_iova\": \"0x%" PRIx64 "\", \"tracked_length\": \"0x%" PRIx64
			"\", \"lost_records\": %" PRIu64 ", \"anomalies\": %" PRIu64
			", \"verified\": %" PRIu64 ", \"verify_mismatches\": %" PRIu64 ",\n",
			r->reports, r->incomplete, r->set_calls, d->dirty_pages,
			r->dirty_bytes, r->page_size, r->tracked_iova, r->tracked_length,
			r->lost, r->anomalies, r->verified, r->verify_mismatch);
		fprintf(f, "     \"rate_bytes_per_s\": {\"min\": ");
		json_num(f, rt.min);
		fprintf(f, ", \"avg\": ");
		json_num(f, rt.avg);
		fprintf(f, ", \"max\": ");
		json_num(f, rt.max);
		fprintf(f, ", \"iterations\": %zu}, \"trend\": \"%s\",\n     \"iterations\": [",
			rt.n, trend_name(r->trend));
		for (k = 0; k < d->nits; k++) {
			const struct model_iteration *it = &d->its[k];

			fprintf(f, "%s\n       {\"index\": %" PRIu64 ", \"ts_begin_ns\": %" PRIu64
				", \"ts_end_ns\": %" PRIu64 ", \"reports\": %" PRIu64
				", \"incomplete\": %" PRIu64 ", \"dirty_pages\": %" PRIu64
				", \"dirty_bytes\": %" PRIu64 ", \"covered_bytes\": %" PRIu64
				", \"bytes_per_s\": ",
				k ? "," : "", it->index, it->ts_begin_ns, it->ts_end_ns,
				it->reports, it->incomplete, it->dirty_pages,
				it->dirty_bytes, it->covered_bytes);
			json_num(f, it->dirty_bytes_per_s);
			fprintf(f, "}");
		}
		fprintf(f, "%s],\n     \"hot_regions\": [", d->nits ? "\n     " : "");
		for (k = 0; k < d->ntop; k++) {
			fprintf(f, "%s{\"iova\": \"0x%" PRIx64 "\", \"length\": \"0x%" PRIx64
				"\", \"dirty_page_hits\": %" PRIu64 ", \"share\": ",
				k ? ", " : "", d->top[k].lo, d->top[k].hi - d->top[k].lo,
				d->top[k].hits);
			json_num(f, share(d, k, 1));
			fprintf(f, "}");
		}
		fprintf(f, "]}");
	}
	fprintf(f, "%s],\n  \"anomalies\": [", o->s->nrows ? "\n  " : "");
	for (k = 0; k < o->nanom; k++) {
		const struct model_anomaly *a = &o->anom[k];

		fprintf(f, "%s\n    {\"ts_ns\": %" PRIu64 ", \"kind\": %u, \"what\": ",
			k ? "," : "", a->ts_ns, a->kind);
		json_str(f, model_anomaly_name(a->kind));
		fprintf(f, ", \"count\": %u, \"device\": ", a->count);
		json_str(f, a->device);
		fprintf(f, ", \"bitmap_id\": %" PRIu64 ", \"report_id\": %" PRIu64
			", \"iova\": \"0x%" PRIx64 "\", \"length\": \"0x%" PRIx64 "\"}",
			a->bitmap_id, a->report_id, a->iova, a->length);
	}
	fprintf(f, "%s]\n}\n", o->nanom ? "\n  " : "");
}

static void csv_str(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		if (*s == '"')
			fputc('"', f);
		fputc(*s, f);
	}
	fputc('"', f);
}

static void print_csv(const struct out *o)
{
	FILE *f = o->f;
	uint32_t i;

	fprintf(f, "device,path,pid,comm,reports,iterations,dirty_pages,dirty_bytes,"
		"rate_min_bytes_s,rate_avg_bytes_s,rate_max_bytes_s,trend,"
		"last_iteration_dirty_pages,hot_iova,hot_length,hot_share,"
		"lost_records,incomplete_reports,anomalies,trace_status\n");
	for (i = 0; i < o->s->nrows; i++) {
		const struct model_row *r = &o->s->rows[i];
		const struct rdev *d = row_rdev(o, r);
		struct rates rt = dev_rates(d);

		csv_str(f, r->name);
		fprintf(f, ",%s,%u,", path_name(r->path), r->pid);
		csv_str(f, r->comm);
		fprintf(f, ",%" PRIu64 ",%zu,%" PRIu64 ",%" PRIu64 ",%.3f,%.3f,%.3f,%s,%" PRIu64,
			r->reports, d->nits, d->dirty_pages, r->dirty_bytes,
			rt.min, rt.avg, rt.max, trend_name(r->trend),
			d->nits ? d->its[d->nits - 1].dirty_pages : 0);
		if (d->ntop)
			fprintf(f, ",0x%" PRIx64 ",0x%" PRIx64 ",%.3f", d->top[0].lo,
				d->top[0].hi - d->top[0].lo,
				share(d, 0, 1));
		else
			fprintf(f, ",,,");
		fprintf(f, ",%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%s\n", r->lost,
			r->incomplete, r->anomalies, state_name(o->state));
	}
}

/* ---- command ---------------------------------------------------------- */

static void usage(FILE *f)
{
	fprintf(f,
		"usage: iovatop report [--format text|json|csv] [--top N]\n"
		"                      [--dump-bitmaps DIR] FILE\n"
		"Summarise a trace per device: reports, dirty bytes, dirty rate\n"
		"min/avg/max, dirty pages per iteration and whether they converge,\n"
		"the hottest IOVA regions, anomalies and lost records.\n"
		"\n"
		"  -f, --format FMT       text (default), json (docs/report-json.md), csv\n"
		"  -n, --top N            hot regions per device (default %d, max %d)\n"
		"  -D, --dump-bitmaps DIR write each rebuilt bitmap to DIR/<report>.bin\n"
		"                         and an index to DIR/index.tsv\n"
		"\n"
		"examples:\n"
		"  iovatop report mig.trace\n"
		"  iovatop report --format json mig.trace | jq .hottest\n",
		DEFAULT_TOP, MAX_TOP);
}

static int open_dump(struct report *rp, const char *dir)
{
	char path[4096];

	if (mkdir(dir, 0700) && errno != EEXIST) {
		fprintf(stderr, "iovatop: cannot create %s: %s\n", dir, strerror(errno));
		return -1;
	}
	snprintf(path, sizeof(path), "%s/index.tsv", dir);
	rp->index = fopen(path, "w");
	if (!rp->index) {
		fprintf(stderr, "iovatop: cannot create %s: %s\n", path, strerror(errno));
		return -1;
	}
	rp->dump_dir = dir;
	fprintf(rp->index, "report_id\tbitmap_id\tpath\tdevice\tpid\tcomm\tiova\tlength"
		"\tpage_size\tflags\tdirty_pages\tfile\n");
	return 0;
}

int cmd_report(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "format", required_argument, NULL, 'f' },
		{ "top", required_argument, NULL, 'n' },
		{ "dump-bitmaps", required_argument, NULL, 'D' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	struct model_anomaly anom[MODEL_ANOM_LOG];
	struct report rp = { 0 };
	struct model_snapshot snap;
	struct model_opts mo = { 0 };
	struct trace_reader *tr = NULL;
	struct model *m = NULL;
	const char *dump = NULL;
	enum fmt fmt = FMT_TEXT;
	long top = DEFAULT_TOP;
	struct out o = { 0 };
	char err[512];
	int c, ret = EXIT_RUNTIME, rd;
	size_t i;

	optind = 1;
	while ((c = getopt_long(argc, argv, "f:n:D:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'f':
			if (!strcmp(optarg, "text"))
				fmt = FMT_TEXT;
			else if (!strcmp(optarg, "json"))
				fmt = FMT_JSON;
			else if (!strcmp(optarg, "csv"))
				fmt = FMT_CSV;
			else {
				fprintf(stderr, "iovatop: unknown format '%s'; use text, json or csv\n", optarg);
				return EXIT_USAGE;
			}
			break;
		case 'n':
			if (parse_long(optarg, 0, MAX_TOP, &top)) {
				fprintf(stderr, "iovatop: --top wants a number from 0 to %d\n",
					MAX_TOP);
				return EXIT_USAGE;
			}
			break;
		case 'D':
			dump = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (optind != argc - 1) {
		fprintf(stderr, "iovatop: report wants exactly one trace file\n");
		usage(stderr);
		return EXIT_USAGE;
	}
	tr = trace_open(argv[optind], err, sizeof(err));
	if (!tr) {
		fprintf(stderr, "iovatop: %s.\n", err);
		return EXIT_RUNTIME;
	}
	mo.rule = (enum ibd_rule)trace_meta(tr)->rule;
	m = model_new(&mo);
	if (!m) {
		fprintf(stderr, "iovatop: out of memory.\n");
		goto out;
	}
	if (dump && open_dump(&rp, dump))
		goto out;
	model_on_report(m, on_report, &rp);
	model_on_iteration(m, on_iteration, &rp);
	rd = trace_read_all(tr, model_apply, m);
	if (rd < 0) {
		if (rd == -EINVAL)
			fprintf(stderr, "iovatop: %s holds a record the model rejects near byte %" PRIu64 ".\n",
				argv[optind], trace_offset(tr));
		else
			fprintf(stderr, "iovatop: cannot read %s: %s.\n", argv[optind], strerror(-rd));
		goto out;
	}
	if (trace_state(tr) == TRACE_CORRUPT) {
		fprintf(stderr, "iovatop: %s.\n", trace_status_msg(tr));
		goto out;
	}
	model_finish(m);
	if (rp.err) {
		fprintf(stderr, "iovatop: %s.\n", rp.errmsg[0] ? rp.errmsg : "out of memory");
		goto out;
	}
	if (model_snapshot(m, model_now(m), MODEL_SORT_RATE, false, NULL, &snap)) {
		fprintf(stderr, "iovatop: out of memory.\n");
		goto out;
	}
	/* hottest first: by the whole trace's dirty bytes, not the last second */
	{
		struct model_row *rows = snap.rows;
		size_t n = snap.nrows, a, b;

		for (a = 1; a < n; a++)
			for (b = a; b > 0 && (rows[b].dirty_bytes > rows[b - 1].dirty_bytes ||
					      (rows[b].dirty_bytes == rows[b - 1].dirty_bytes &&
					       strcmp(rows[b].name, rows[b - 1].name) < 0)); b--) {
				struct model_row t = rows[b];

				rows[b] = rows[b - 1];
				rows[b - 1] = t;
			}
	}
	for (i = 0; i < rp.ndevs; i++)
		hot_regions(&rp.devs[i], (size_t)top);

	o.f = stdout;
	o.file = base_name(argv[optind]);
	o.meta = trace_meta(tr);
	o.tot = trace_read_totals(tr);
	o.state = trace_state(tr);
	o.status = trace_status_msg(tr);
	o.cut_lost = trace_cut_lost(tr);
	o.s = &snap;
	o.rp = &rp;
	o.anom = anom;
	o.nanom = model_anomalies(m, anom, MODEL_ANOM_LOG);
	if (fmt == FMT_JSON)
		print_json(&o);
	else if (fmt == FMT_CSV)
		print_csv(&o);
	else
		print_text(&o);
	if (fflush(stdout) || ferror(stdout)) {
		fprintf(stderr, "iovatop: cannot write the report: %s.\n", strerror(errno));
		goto out;
	}
	/* the reader of a cut trace must hear it even if stdout goes to a file */
	if (o.state == TRACE_TRUNCATED)
		fprintf(stderr, "iovatop: warning: %s; the report covers the records before the cut.\n",
			o.status);
	ret = 0;
out:
	if (rp.index && fclose(rp.index) && !ret) {
		fprintf(stderr, "iovatop: cannot write %s/index.tsv: %s.\n", dump, strerror(errno));
		ret = EXIT_RUNTIME;
	}
	for (i = 0; i < rp.ndevs; i++) {
		free(rp.devs[i].its);
		free(rp.devs[i].g);
	}
	free(rp.devs);
	model_free(m);
	trace_close(tr);
	return ret;
}
