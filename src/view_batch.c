// SPDX-License-Identifier: GPL-2.0
/*
 * view_batch.c - the batch view: one block of plain text per interval, like
 * top -b, for pipes, logs and golden-file tests. Every column is shown and
 * the device column is as wide as the longest name, so nothing is cut.
 */
#include <stdio.h>
#include <string.h>

#include "text_escape.h"
#include "view.h"

#define BATCH_WIDTH	4096	/* no terminal: lines are as long as they need */
#define BATCH_HEAT_W	(MODEL_HEAT_BUCKETS + 8)	/* one cell per bucket */

static void put_line(FILE *f, char *line, size_t n)
{
	while (n && line[n - 1] == ' ')
		n--;
	line[n] = '\0';
	fprintf(f, "%s\n", line);
}

void view_batch_print(FILE *f, const struct view_meta *meta,
		      const struct view_state *s,
		      const struct model_snapshot *snap)
{
	char line[1024];
	struct view_layout l;
	struct view_fit fit;
	int hot = view_hottest(snap, s && s->cumulative);
	uint32_t i;
	int k;

	view_fit_of(snap, s, &fit);
	view_layout(&l, 1024, BATCH_WIDTH, VIEW_LIST, &fit, 0);
	for (k = 0; k < VIEW_HEADER_LINES; k++)
		put_line(f, line, view_format_header(line, sizeof(line), k, meta,
						     s, snap, BATCH_WIDTH));
	for (k = 0; k < view_header_extra(meta); k++)
		put_line(f, line, view_format_header(line, sizeof(line),
						     VIEW_HEADER_LINES + k, meta,
						     s, snap, BATCH_WIDTH));
	/* why devices show no hot region and no trend, when that is why */
	if (snap && model_too_large_note(snap, line, sizeof(line)))
		fprintf(f, "%s\n", line);
	put_line(f, line, view_format_titles(line, sizeof(line), &l, s));
	for (i = 0; snap && i < snap->nrows; i++) {
		if (s && s->group && view_group_starts(snap, (int)i, 0))
			put_line(f, line, view_format_group(line, sizeof(line), &l,
							    snap, (int)i));
		put_line(f, line, view_format_row(line, sizeof(line), &l,
						  &snap->rows[i], (int)i == hot));
	}
	if (hot >= 0) {
		const struct model_row *r = &snap->rows[hot];
		char range[48];

		/* where the hottest device dirties, over its tracked range */
		view_fmt_region(range, sizeof(range), r->tracked_iova,
				r->tracked_length);
		fprintf(f, "heat of the hottest, ");
		text_escape_fputs(f, r->name, MODEL_NAME_LEN);
		fprintf(f, ", over its tracked %s:\n", range);
		for (k = 1; k <= 2; k++)
			put_line(f, line, view_format_detail(line, sizeof(line), k,
							     &snap->rows[hot],
							     BATCH_HEAT_W));
	}
	fputc('\n', f);
	fflush(f);
}
