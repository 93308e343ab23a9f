// SPDX-License-Identifier: GPL-2.0
/*
 * view_json.c - the batch view as JSON lines (-b --format json): per
 * interval one "interval" object, then one "device" object per row of the
 * snapshot, each on its own line, so that jq, a log shipper or a script
 * can follow a live run. docs/batch-json.md is the schema. The figures are
 * the snapshot's, as the text batch view prints them, unrounded. With a
 * forecast (--qmp, --link-rate, --downtime-limit) each interval ends with
 * one "forecast" object per VM: the verdict, its inputs, QEMU's sample and
 * each device's rate and shares, so that a script can set the forecast
 * beside what QEMU itself said.
 */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <time.h>

#include "forecast_session.h"
#include "view.h"

static void json_str(FILE *f, const char *s, size_t max)
{
	size_t i;

	fputc('"', f);
	for (i = 0; i < max && s[i]; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '"' || c == '\\')
			fprintf(f, "\\%c", c);
		else if (c < 0x20 || c >= 0x7f)
			fprintf(f, "\\u%04x", c);	/* comm is bytes, not UTF-8 */
		else
			fputc(c, f);
	}
	fputc('"', f);
}

/* The wall-clock time of a snapshot in ISO 8601 UTC, or "" when unknown. */
size_t view_wall_time(char *buf, size_t len, const struct view_meta *meta,
		      uint64_t now_ns)
{
	int64_t wall = meta ? (int64_t)now_ns + meta->wall_offset_ns : 0;
	time_t secs = (time_t)(wall / 1000000000);
	struct tm tm;
	size_t n;

	buf[0] = '\0';
	if (!meta || !meta->wall_offset_ns || wall <= 0 || !gmtime_r(&secs, &tm))
		return 0;
	n = strftime(buf, len, "%Y-%m-%dT%H:%M:%S", &tm);
	if (n && n + 6 < len)
		n += (size_t)snprintf(buf + n, len - n, ".%03dZ",
				      (int)(wall % 1000000000 / 1000000));
	return n;
}

/* A number, or null where the forecast has none (negative: unknown). */
static void json_num(FILE *f, const char *key, double v, bool known)
{
	if (known && isfinite(v))
		fprintf(f, ", \"%s\": %.6g", key, v);
	else
		fprintf(f, ", \"%s\": null", key);
}

static void json_qemu(FILE *f, const struct qmp_migrate *q)
{
	fprintf(f, ", \"qemu\": {\"seq\": %" PRIu64 ", \"ts_ns\": %" PRIu64
		", \"status\": ", q->seq, q->ts_ns);
	json_str(f, q->status, QMP_STATUS_LEN);
	if (q->have_ram)
		fprintf(f, ", \"dirty_sync_count\": %" PRIu64
			", \"dirty_pages_rate\": %" PRIu64 ", \"page_size\": %" PRIu64
			", \"remaining\": %" PRIu64 ", \"transferred\": %" PRIu64
			", \"mbps\": %.6g", q->dirty_sync_count, q->dirty_pages_rate,
			q->page_size, q->ram_remaining, q->ram_transferred, q->mbps);
	fprintf(f, ", \"expected_downtime_ms\": %" PRIu64 ", \"downtime_ms\": %" PRIu64,
		q->expected_downtime_ms, q->downtime_ms);
	if (q->have_params)
		fprintf(f, ", \"downtime_limit_ms\": %" PRIu64
			", \"max_bandwidth\": %" PRIu64, q->downtime_limit_ms,
			q->max_bandwidth);
	fputc('}', f);
}

static void json_forecast(FILE *f, double t, const struct forecast *fc)
{
	char verdict[512];
	uint32_t i;

	fprintf(f, "{\"type\": \"forecast\", \"t\": %.3f, \"pid\": %u"
		", \"verdict\": \"%s\", \"iteration\": %" PRIu64, t, fc->pid,
		forecast_verdict_key(fc->verdict), fc->iteration);
	if (fc->verdict == FORECAST_CONVERGES)
		fprintf(f, ", \"iters_left\": %u", fc->iters_left);
	else
		fprintf(f, ", \"iters_left\": null");
	json_num(f, "bw", fc->bw, fc->bw_src != FORECAST_SRC_NONE);
	fprintf(f, ", \"bw_src\": \"%s\"", forecast_src_name(fc->bw_src));
	json_num(f, "dl", fc->dl, fc->dl_src != FORECAST_SRC_NONE);
	fprintf(f, ", \"dl_src\": \"%s\"", forecast_src_name(fc->dl_src));
	json_num(f, "threshold", fc->threshold, true);
	json_num(f, "pending", fc->pending, true);
	json_num(f, "dirty_rate", fc->dirty_rate, true);
	json_num(f, "device_rate", fc->device_rate, true);
	json_num(f, "qemu_rate", fc->qemu_rate, fc->qemu_rate >= 0);
	json_num(f, "expected_downtime", fc->expected_downtime,
		 fc->expected_downtime >= 0);
	json_num(f, "rho", fc->rho, fc->verdict == FORECAST_CONVERGES ||
				    fc->verdict == FORECAST_CANNOT);
	json_num(f, "rho_seen", fc->rho_seen, fc->rho_seen >= 0);
	json_num(f, "needed_bw", fc->needed_bw, fc->verdict == FORECAST_CANNOT);
	json_num(f, "set_bytes", fc->set_bytes, true);
	fprintf(f, ", \"blame\": [");
	for (i = 0; i < fc->nblame; i++) {
		if (i)
			fprintf(f, ", ");
		json_str(f, fc->dev[fc->blame[i]].name, MODEL_NAME_LEN);
	}
	fprintf(f, "], \"blame_guest\": %s", fc->blame_guest ? "true" : "false");
	if (fc->have_qemu)
		json_qemu(f, &fc->qemu);
	else
		fprintf(f, ", \"qemu\": null");
	fprintf(f, ", \"devices\": [");
	for (i = 0; i < fc->ndev; i++) {
		const struct forecast_dev *d = &fc->dev[i];

		fprintf(f, "%s{\"name\": ", i ? ", " : "");
		json_str(f, d->name, MODEL_NAME_LEN);
		fprintf(f, ", \"iterations\": %" PRIu64 ", \"dirty_bytes\": %" PRIu64,
			d->iterations, d->dirty_bytes);
		json_num(f, "rate", d->rate, true);
		json_num(f, "share_link", d->share_link, fc->bw > 0);
		json_num(f, "share_qemu", d->share_qemu, d->share_qemu >= 0);
		fprintf(f, ", \"quiet\": %s, \"steady\": %s, \"blamed\": %s}",
			d->quiet ? "true" : "false", d->steady ? "true" : "false",
			d->blamed ? "true" : "false");
	}
	fprintf(f, "], \"others\": %u, \"text\": ", fc->nother);
	forecast_format_verdict(verdict, sizeof(verdict), fc);
	json_str(f, verdict, sizeof(verdict));
	fprintf(f, "}\n");
}

void view_json_print(FILE *f, const struct view_meta *meta,
		     const struct view_state *s, const struct model_snapshot *snap)
{
	double t = meta ? (double)(snap->now_ns - meta->t0_ns) / 1e9 : 0;
	int hot = view_hottest(snap, s && s->cumulative);
	char when[48];
	uint32_t i;

	view_wall_time(when, sizeof(when), meta, snap->now_ns);
	fprintf(f, "{\"type\": \"interval\", \"schema\": \"iovatop-batch/1\", \"source\": ");
	json_str(f, meta && meta->source ? meta->source : "", 256);
	fprintf(f, ", \"live\": %s, \"t\": %.3f, \"now_ns\": %" PRIu64 ", \"time\": ",
		meta && meta->live ? "true" : "false", t, snap->now_ns);
	if (when[0])
		fprintf(f, "\"%s\"", when);
	else
		fprintf(f, "null");
	fprintf(f, ", \"interval_s\": %.6f, \"devices\": %u, \"shown\": %u"
		", \"dirty_mib_s\": %.6f, \"reports\": %" PRIu64 ", \"lost\": %" PRIu64
		", \"anomalies\": %" PRIu64 ", \"incomplete\": %" PRIu64
		", \"records\": %" PRIu64 ", \"open_reports\": %" PRIu64
		", \"not_rebuilt\": %" PRIu64 ", \"hottest\": ",
		snap->interval_s, snap->ndevices, snap->nrows, snap->dirty_mib_s,
		snap->reports, snap->lost, snap->anomalies, snap->incomplete,
		snap->records, snap->open_reports, snap->not_rebuilt);
	if (hot >= 0)
		json_str(f, snap->rows[hot].name, MODEL_NAME_LEN);
	else
		fprintf(f, "null");
	fprintf(f, ", \"sort\": \"%s\", \"reverse\": %s, \"filter\": ",
		s ? view_sort_name(s->sort) : "rate", s && s->reverse ? "true" : "false");
	json_str(f, s ? s->filter : "", VIEW_FILTER_LEN);
	fprintf(f, ", \"at_end\": %s, \"trace_incomplete\": %s, \"ring\": ",
		meta && meta->at_end ? "true" : "false",
		meta && meta->trace_incomplete ? "true" : "false");
	/* live only: a trace has no ring */
	if (meta && meta->ring && meta->ring->size_bytes)
		fprintf(f, "{\"size_bytes\": %" PRIu64 ", \"fill_ratio\": %.6f"
			", \"peak_ratio\": %.6f}}\n", meta->ring->size_bytes,
			ring_fill_ratio(meta->ring, meta->ring->now_bytes),
			ring_fill_ratio(meta->ring, meta->ring->peak_bytes));
	else
		fprintf(f, "null}\n");

	for (i = 0; i < snap->nrows; i++) {
		const struct model_row *r = &snap->rows[i];

		fprintf(f, "{\"type\": \"device\", \"t\": %.3f, \"name\": ", t);
		json_str(f, r->name, MODEL_NAME_LEN);
		fprintf(f, ", \"path\": \"%s\", \"pid\": %u, \"comm\": ",
			model_path_name(r->path), r->pid);
		json_str(f, r->comm, IOVA_COMM_LEN);
		fprintf(f, ", \"hottest\": %s, \"reports_per_s\": %.6f"
			", \"dirty_pages_last\": %" PRIu64 ", \"dirty_mib_s\": %.6f"
			", \"pct_dirty\": %.6f, \"trend\": \"%s\""
			", \"hot_iova\": %" PRIu64 ", \"hot_length\": %" PRIu64
			", \"dirty_pages_iter\": %" PRIu64 ", \"page_size\": %" PRIu64
			", \"tracked_iova\": %" PRIu64 ", \"tracked_length\": %" PRIu64
			", \"reports\": %" PRIu64 ", \"dirty_pages\": %" PRIu64
			", \"dirty_bytes\": %" PRIu64 ", \"set_calls\": %" PRIu64
			", \"iterations\": %" PRIu64 ", \"lost\": %" PRIu64
			", \"anomalies\": %" PRIu64 ", \"incomplete\": %" PRIu64 "}\n",
			(int)i == hot ? "true" : "false", r->reports_per_s,
			r->dirty_pages_last, r->dirty_mib_s, r->pct_dirty,
			model_trend_name(r->trend), r->hot_iova, r->hot_length,
			r->dirty_pages_iter, r->page_size, r->tracked_iova,
			r->tracked_length, r->reports, r->dirty_pages, r->dirty_bytes,
			r->set_calls, r->iterations, r->lost, r->anomalies,
			r->incomplete);
	}
	for (i = 0; meta && i < forecast_session_count(meta->forecasts); i++)
		json_forecast(f, t, forecast_session_get(meta->forecasts, i));
	fflush(f);
}
