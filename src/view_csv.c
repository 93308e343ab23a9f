// SPDX-License-Identifier: GPL-2.0
/*
 * view_csv.c - the batch view as CSV (-b --format csv): a line of column
 * names first, then per interval one line per row of the snapshot, its
 * interval's time in the first columns (docs/batch-json.md lists them).
 * The same figures as the JSON lines' device objects, for spreadsheets.
 */
#include <inttypes.h>
#include <stdio.h>

#include "text_escape.h"
#include "view.h"

void view_csv_print(FILE *f, const struct view_meta *meta,
		    const struct model_snapshot *snap, bool titles)
{
	double t = meta ? (double)(snap->now_ns - meta->t0_ns) / 1e9 : 0;
	int hot = view_hottest(snap, false);
	char when[48];
	uint32_t i;

	if (titles)
		fprintf(f, "t,now_ns,time,device,path,pid,comm,hottest,reports_per_s,"
			"dirty_pages_last,dirty_mib_s,pct_dirty,trend,hot_iova,hot_length,"
			"dirty_pages_iter,page_size,tracked_iova,tracked_length,reports,"
			"dirty_pages,dirty_bytes,set_calls,iterations,lost,anomalies,"
			"incomplete\n");
	view_wall_time(when, sizeof(when), meta, snap->now_ns);
	for (i = 0; i < snap->nrows; i++) {
		const struct model_row *r = &snap->rows[i];

		fprintf(f, "%.3f,%" PRIu64 ",%s,", t, snap->now_ns, when);
		text_escape_csv(f, r->name, MODEL_NAME_LEN);
		fprintf(f, ",%s,%u,", model_path_name(r->path), r->pid);
		text_escape_csv(f, r->comm, IOVA_COMM_LEN);
		fprintf(f, ",%d,%.6f,%" PRIu64 ",%.6f,%.6f,%s,0x%" PRIx64 ",0x%" PRIx64
			",%" PRIu64 ",%" PRIu64 ",0x%" PRIx64 ",0x%" PRIx64 ",%" PRIu64
			",%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%" PRIu64
			",%" PRIu64 ",%" PRIu64 "\n",
			(int)i == hot, r->reports_per_s, r->dirty_pages_last,
			r->dirty_mib_s, r->pct_dirty, model_trend_name(r->trend),
			r->hot_iova, r->hot_length, r->dirty_pages_iter, r->page_size,
			r->tracked_iova, r->tracked_length, r->reports, r->dirty_pages,
			r->dirty_bytes, r->set_calls, r->iterations, r->lost,
			r->anomalies, r->incomplete);
	}
	fflush(f);
}
