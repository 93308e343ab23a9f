// SPDX-License-Identifier: GPL-2.0
/*
 * view_json.c - the batch view as JSON lines (-b --format json): per
 * interval one "interval" object, then one "device" object per row of the
 * snapshot, each on its own line, so that jq, a log shipper or a script
 * can follow a live run. docs/batch-json.md is the schema. The figures are
 * the snapshot's, as the text batch view prints them, unrounded.
 */
#include <inttypes.h>
#include <stdio.h>
#include <time.h>

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
	fprintf(f, ", \"at_end\": %s, \"trace_incomplete\": %s}\n",
		meta && meta->at_end ? "true" : "false",
		meta && meta->trace_incomplete ? "true" : "false");

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
	fflush(f);
}
