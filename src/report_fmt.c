// SPDX-License-Identifier: GPL-2.0
/*
 * report_fmt.c - what iovatop report writes: the per-device summary as
 * text, JSON (docs/report-json.md) or CSV, and --dump-bitmaps.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "cli_util.h"
#include "forecast_report.h"
#include "report_fmt.h"
#include "view.h"

static void tsv_field(FILE *f, const char *s)
{
	/* comm is chosen by the traced process: keep the table a table */
	for (; *s; s++)
		fputc(*s == '\t' || *s == '\n' || *s == '\r' ? ' ' : *s, f);
}

int report_dump_bitmap(struct report *rp, const struct model_report *r)
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
		r->bitmap_id, model_path_name(r->path));
	tsv_field(rp->index, r->device);
	fprintf(rp->index, "\t%u\t", r->task.pid);
	tsv_field(rp->index, comm);
	fprintf(rp->index,
		"\t0x%" PRIx64 "\t0x%" PRIx64 "\t%" PRIu64 "\t0x%x\t%" PRIu64
		"\t%" PRIu64 ".bin\t%" PRIu64 "\t%" PRIu64 "\n",
		r->iova, r->length, r->page_size, r->flags, r->dirty_pages,
		r->report_id, r->ts_begin_ns, r->ts_end_ns);
	return 0;
fail:
	snprintf(rp->errmsg, sizeof(rp->errmsg), "cannot write %s: %s", path,
		 strerror(errno));
	return -errno;
}

static const char *codec_name(uint32_t c)
{
	return c == TRACE_CODEC_ZSTD ? "zstd" : "none";
}

static double mib(double bytes)
{
	return bytes / (1024.0 * 1024.0);
}

static const struct rdev *row_rdev(const struct out *o, const struct model_row *r)
{
	return report_dev(o->rp, r->name);
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
		", skipped by the kernel %" PRIu64 ", bitmaps map full %" PRIu64
		"); incomplete reports: %" PRIu64 "; anomalies: %" PRIu64 "\n",
		t->lost, t->lost_where[IOVA_LOST_RINGBUF],
		t->lost_where[IOVA_LOST_SKIPPED], t->lost_where[IOVA_LOST_MAP_FULL],
		o->s->incomplete, o->s->anomalies);
	if (!o->s->nrows) {
		fprintf(f, "\nno device reported dirty pages in this trace.\n");
		return;
	}
	{
		const struct model_row *h = &o->s->rows[0];
		const struct rdev *d = row_rdev(o, h);

		fprintf(f, "\nhottest device: %s, %.1f MiB dirty, avg %.2f MiB/s",
			h->name, mib((double)h->dirty_bytes), mib(report_rates(d).avg));
		if (d->ntop)
			fprintf(f, "; hottest region 0x%" PRIx64 "-0x%" PRIx64
				" (%.1f MiB, %.0f%% of its dirty pages)",
				d->top[0].lo, d->top[0].hi - 1,
				mib((double)(d->top[0].hi - d->top[0].lo)),
				report_share(d, 0, 100.0));
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
		struct rates rt = report_rates(d);
		char proc[40];

		snprintf(proc, sizeof(proc), "%u/%s", r->pid, r->comm);
		fprintf(f, "%-*s %-16.16s %7" PRIu64 " %5zu %10.1f %9.2f %9.2f %9.2f %-10s %6"
			PRIu64 " %6" PRIu64 " %6" PRIu64 "\n",
			w, r->name, proc, r->reports, d->nits,
			mib((double)r->dirty_bytes), mib(rt.min), mib(rt.avg),
			mib(rt.max), model_trend_name(r->trend), r->lost, r->incomplete,
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
		fprintf(f, "  dirty pages per iteration (%s):", model_trend_name(r->trend));
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
				report_share(d, k, 100.0));
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
	if (o->fc)
		forecast_trace_text(f, o->fc, t->first_ts_ns);
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

	fprintf(f, "{\n  \"schema\": \"iovatop-report/2\",\n  \"file\": ");
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
		", \"skipped\": %" PRIu64 ", \"map_full\": %" PRIu64 ", \"other\": %" PRIu64 "}},\n",
		o->s->reports, o->s->incomplete, o->s->not_rebuilt, o->s->anomalies,
		t->lost, t->lost_where[IOVA_LOST_RINGBUF], t->lost_where[IOVA_LOST_SKIPPED],
		t->lost_where[IOVA_LOST_MAP_FULL], t->lost_where[0]);
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
		struct rates rt = report_rates(d);

		fprintf(f, "%s\n    {\"name\": ", i ? "," : "");
		json_str(f, r->name);
		fprintf(f, ", \"path\": \"%s\", \"pid\": %u, \"comm\": ", model_path_name(r->path), r->pid);
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
			rt.n, model_trend_name(r->trend));
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
			json_num(f, report_share(d, k, 1));
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
	fprintf(f, "%s]", o->nanom ? "\n  " : "");
	if (o->fc) {
		fprintf(f, ",\n  \"forecast\": ");
		forecast_trace_json(f, o->fc, o->tot->first_ts_ns);
	}
	fprintf(f, "\n}\n");
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
		struct rates rt = report_rates(d);

		csv_str(f, r->name);
		fprintf(f, ",%s,%u,", model_path_name(r->path), r->pid);
		csv_str(f, r->comm);
		fprintf(f, ",%" PRIu64 ",%zu,%" PRIu64 ",%" PRIu64 ",%.3f,%.3f,%.3f,%s,%" PRIu64,
			r->reports, d->nits, d->dirty_pages, r->dirty_bytes,
			rt.min, rt.avg, rt.max, model_trend_name(r->trend),
			d->nits ? d->its[d->nits - 1].dirty_pages : 0);
		if (d->ntop)
			fprintf(f, ",0x%" PRIx64 ",0x%" PRIx64 ",%.3f", d->top[0].lo,
				d->top[0].hi - d->top[0].lo,
				report_share(d, 0, 1));
		else
			fprintf(f, ",,,");
		fprintf(f, ",%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%s\n", r->lost,
			r->incomplete, r->anomalies, state_name(o->state));
	}
}

/* ---- command ---------------------------------------------------------- */

void report_print(const struct out *o, enum fmt fmt)
{
	if (fmt == FMT_JSON)
		print_json(o);
	else if (fmt == FMT_CSV)
		print_csv(o);
	else
		print_text(o);
}

int report_dump_open(struct report *rp, const char *dir)
{
	char path[4096];

	if (mkdir(dir, 0700) && errno != EEXIST) {
		fprintf(stderr, "%s: cannot create %s: %s\n", cli_name, dir, strerror(errno));
		return -1;
	}
	snprintf(path, sizeof(path), "%s/index.tsv", dir);
	rp->index = fopen(path, "w");
	if (!rp->index) {
		fprintf(stderr, "%s: cannot create %s: %s\n", cli_name, path, strerror(errno));
		return -1;
	}
	rp->dump_dir = dir;
	fprintf(rp->index, "report_id\tbitmap_id\tpath\tdevice\tpid\tcomm\tiova\tlength"
		"\tpage_size\tflags\tdirty_pages\tfile\tts_begin_ns\tts_end_ns\n");
	return 0;
}
