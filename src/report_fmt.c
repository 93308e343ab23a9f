// SPDX-License-Identifier: GPL-2.0
/*
 * report_fmt.c - what iovatop report writes: the per-device summary as
 * text, JSON (docs/report-json.md) or CSV, and --dump-bitmaps.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli_util.h"
#include "forecast_report.h"
#include "report_fmt.h"
#include "text_escape.h"
#include "view.h"

/*
 * A name from the trace, escaped for text output (include/text_escape.h):
 * a crafted trace or a VMM's thread name must not drive the terminal.
 */
#define ESC_NAME	TEXT_ESCAPED_SIZE(MODEL_NAME_LEN)
static const char *esc(char *buf, size_t len, const char *s, size_t max)
{
	text_escape(buf, len, s, max);
	return buf;
}

/*
 * A new file in the dump directory, 0600, never through a symlink nor over
 * a file already there: the bitmaps say what a VM's devices wrote.
 */
static FILE *dump_create(struct report *rp, const char *name)
{
	int fd = openat(rp->dump_fd, name, O_WRONLY | O_CREAT | O_EXCL |
			O_NOFOLLOW | O_CLOEXEC, 0600);
	FILE *f;

	if (fd < 0)
		return NULL;
	f = fdopen(fd, "w");
	if (!f)
		close(fd);
	return f;
}

int report_dump_bitmap(struct report *rp, const struct model_report *r)
{
	char name[32], path[4096], comm[IOVA_COMM_LEN + 1];
	FILE *f;

	snprintf(name, sizeof(name), "%" PRIu64 ".bin", r->report_id);
	snprintf(path, sizeof(path), "%s/%s", rp->dump_dir, name);
	f = dump_create(rp, name);
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
	/* tabs and newlines escaped too: the table stays a table */
	text_escape_fputs(rp->index, r->device, MODEL_NAME_LEN);
	fprintf(rp->index, "\t%u\t", r->task.pid);
	text_escape_fputs(rp->index, comm, IOVA_COMM_LEN);
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
	char e1[4096], e2[ESC_NAME], e3[ESC_NAME];
	char note[512];
	uint32_t i;
	size_t k;
	int w = 24;

	if (gmtime_r(&sec, &tm))
		strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S UTC", &tm);
	fprintf(f, "iovatop report: %s\n", esc(e1, sizeof(e1), o->file, SIZE_MAX));
	fprintf(f, "  host %s, kernel %s, probe %s, layout %s, decode rule %s, codec %s\n",
		o->meta->hostname[0] ?
			esc(e1, sizeof(e1), o->meta->hostname, sizeof(o->meta->hostname)) : "?",
		o->meta->kernel_release[0] ?
			esc(e2, sizeof(e2), o->meta->kernel_release,
			    sizeof(o->meta->kernel_release)) : "?",
		o->meta->probe_mode[0] ?
			esc(e3, sizeof(e3), o->meta->probe_mode,
			    sizeof(o->meta->probe_mode)) : "?",
		view_layout_name(o->meta->layout), ibd_rule_name(o->meta->rule),
		codec_name(o->meta->codec));
	fprintf(f, "  started %s, %.3f s of records, %" PRIu64 " records, %" PRIu64
		" reports\n", when, span_s(t), t->records, o->s->reports);
	if (o->state != TRACE_OK)
		fprintf(f, "  INCOMPLETE: %s\n", esc(e1, sizeof(e1), o->status, SIZE_MAX));
	fprintf(f, "  lost records: %" PRIu64 " (ring buffer %" PRIu64
		", skipped by the kernel %" PRIu64 ", bitmaps map full %" PRIu64
		"); incomplete reports: %" PRIu64 "; anomalies: %" PRIu64 "\n",
		t->lost, t->lost_where[IOVA_LOST_RINGBUF],
		t->lost_where[IOVA_LOST_SKIPPED], t->lost_where[IOVA_LOST_MAP_FULL],
		o->s->incomplete, o->s->anomalies);
	if (model_too_large_note(o->s, note, sizeof(note)))
		fprintf(f, "  %s\n", note);
	if (!o->s->nrows) {
		fprintf(f, "\nno device reported dirty pages in this trace.\n");
		return;
	}
	{
		const struct model_row *h = &o->s->rows[0];
		const struct rdev *d = row_rdev(o, h);

		fprintf(f, "\nhottest device: %s, %.1f MiB dirty, avg %.2f MiB/s",
			esc(e2, sizeof(e2), h->name, MODEL_NAME_LEN), mib((double)h->dirty_bytes), mib(report_rates(d).avg));
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
		if ((int)text_escape_len(o->s->rows[i].name, MODEL_NAME_LEN) > w)
			w = (int)text_escape_len(o->s->rows[i].name, MODEL_NAME_LEN);
	fprintf(f, "\n%-*s %-16s %7s %5s %10s %9s %9s %9s %-10s %6s %6s %6s\n",
		w, "DEVICE", "PROCESS", "REPORTS", "ITERS", "DIRTY MiB",
		"MIN MiB/s", "AVG MiB/s", "MAX MiB/s", "TREND", "LOST", "INCOMP",
		"ANOM");
	for (i = 0; i < o->s->nrows; i++) {
		const struct model_row *r = &o->s->rows[i];
		const struct rdev *d = row_rdev(o, r);
		struct rates rt = report_rates(d);
		char proc[40];

		snprintf(proc, sizeof(proc), "%u/%.24s", r->pid,
			 esc(e3, sizeof(e3), r->comm, IOVA_COMM_LEN));
		fprintf(f, "%-*s %-16.16s %7" PRIu64 " %5zu %10.1f %9.2f %9.2f %9.2f %-10s %6"
			PRIu64 " %6" PRIu64 " %6" PRIu64 "\n",
			w, esc(e2, sizeof(e2), r->name, MODEL_NAME_LEN), proc, r->reports, d->nits,
			mib((double)r->dirty_bytes), mib(rt.min), mib(rt.avg),
			mib(rt.max), model_trend_name(r->trend), r->lost, r->incomplete,
			r->anomalies);
	}
	for (i = 0; i < o->s->nrows; i++) {
		const struct model_row *r = &o->s->rows[i];
		const struct rdev *d = row_rdev(o, r);

		fprintf(f, "\n%s (pid %u %s)\n", esc(e2, sizeof(e2), r->name, MODEL_NAME_LEN),
			r->pid, esc(e3, sizeof(e3), r->comm, IOVA_COMM_LEN));
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
		if (r->verified || r->verify_skipped)
			fprintf(f, "  verified %" PRIu64 " reports, %" PRIu64
				" mismatched", r->verified, r->verify_mismatch);
		if (r->verify_skipped)
			fprintf(f, "; %" PRIu64 " not read back, not verified",
				r->verify_skipped);
		if (r->verified || r->verify_skipped)
			fputc('\n', f);
	}
	if (o->nanom) {
		fprintf(f, "\nanomalies (latest %zu):\n", o->nanom);
		for (k = 0; k < o->nanom; k++) {
			const struct model_anomaly *a = &o->anom[k];

			fprintf(f, "  %.6f s  %-24s %s x%u report %" PRIu64
				" iova 0x%" PRIx64 " length 0x%" PRIx64 "\n",
				a->ts_ns >= t->first_ts_ns ?
					(double)(a->ts_ns - t->first_ts_ns) / 1e9 : 0,
				esc(e2, sizeof(e2), a->device, MODEL_NAME_LEN),
				model_anomaly_name(a->kind), a->count,
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
			", \"verified\": %" PRIu64 ", \"verify_mismatches\": %" PRIu64
			", \"verify_skipped\": %" PRIu64 ",\n",
			r->reports, r->incomplete, r->set_calls, d->dirty_pages,
			r->dirty_bytes, r->page_size, r->tracked_iova, r->tracked_length,
			r->lost, r->anomalies, r->verified, r->verify_mismatch,
			r->verify_skipped);
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

		text_escape_csv(f, r->name, MODEL_NAME_LEN);
		fprintf(f, ",%s,%u,", model_path_name(r->path), r->pid);
		text_escape_csv(f, r->comm, IOVA_COMM_LEN);
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
	/* the forecast's own table, after an empty line */
	if (o->fc) {
		fputc('\n', f);
		forecast_trace_csv(f, o->fc, o->tot->first_ts_ns);
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

/*
 * The directory is made here, 0700, and must not exist: an existing one
 * (or a symlink planted in its place) could be anyone's. Files are then
 * created relative to the directory opened here, so a rename of the path
 * meanwhile does not redirect them.
 */
int report_dump_open(struct report *rp, const char *dir)
{
	char path[4096];
	FILE *f;

	if (mkdir(dir, 0700)) {
		if (errno == EEXIST)
			fprintf(stderr, "%s: %s already exists; --dump-bitmaps creates its directory itself, so name a new one.\n",
				cli_name, dir);
		else
			fprintf(stderr, "%s: cannot create %s: %s.\n", cli_name, dir,
				strerror(errno));
		return -1;
	}
	rp->dump_fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (rp->dump_fd < 0) {
		fprintf(stderr, "%s: cannot open %s: %s.\n", cli_name, dir, strerror(errno));
		return -1;
	}
	rp->dump_dir = dir;
	snprintf(path, sizeof(path), "%s/index.tsv", dir);
	f = dump_create(rp, "index.tsv");
	if (!f) {
		fprintf(stderr, "%s: cannot create %s: %s.\n", cli_name, path, strerror(errno));
		return -1;
	}
	rp->index = f;
	fprintf(rp->index, "report_id\tbitmap_id\tpath\tdevice\tpid\tcomm\tiova\tlength"
		"\tpage_size\tflags\tdirty_pages\tfile\tts_begin_ns\tts_end_ns\n");
	return 0;
}
