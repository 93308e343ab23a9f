// SPDX-License-Identifier: GPL-2.0
/*
 * test_view.c - layout, formatting and scaling of the views, without a
 * terminal: every screen size from 0x0 up, zero rows, long names, and the
 * heatmap and sparkline arithmetic.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "view.h"

static struct model_row rows[3];

/* A layout for names of name_max characters, nothing scrolled. */
static void layout_n(struct view_layout *l, int lines, int cols,
		     enum view_mode mode, int name_max)
{
	/* the other cells as wide as snap3()'s */
	struct view_fit fit = { .name = name_max, .pid = 4, .comm = 15, .hot = 16 };

	view_layout(l, lines, cols, mode, &fit, 0);
}

static void snap3(struct model_snapshot *snap)
{
	memset(snap, 0, sizeof(*snap));
	memset(rows, 0, sizeof(rows));
	snprintf(rows[0].name, MODEL_NAME_LEN, "vfio 0000:3b:00.1");
	rows[0].path = IOVA_PATH_VFIO;
	rows[0].pid = 4242;
	snprintf(rows[0].comm, IOVA_COMM_LEN, "qemu-system-x86");
	rows[0].reports_per_s = 10;
	rows[0].dirty_mib_s = 512.25;
	rows[0].dirty_pages_last = 13107;
	rows[0].pct_dirty = 1.25;
	rows[0].trend = MODEL_TREND_CONVERGING;
	rows[0].hot_iova = 0x140000000ull;
	rows[0].hot_length = 256ull << 20;
	rows[0].tracked_iova = 0x100000000ull;
	rows[0].tracked_length = 4ull << 30;
	rows[0].page_size = 4096;
	rows[0].heat[20] = 1000;
	rows[0].heat[21] = 10;
	rows[0].nhistory = 3;
	rows[0].history[0] = 100;
	rows[0].history[1] = 50;
	rows[0].history[2] = 0;

	snprintf(rows[1].name, MODEL_NAME_LEN, "iommufd hwpt 7");
	rows[1].path = IOVA_PATH_IOMMUFD;
	rows[1].dirty_mib_s = 900;	/* hottest, though not first */
	rows[1].trend = MODEL_TREND_DIVERGING;

	/* an mdev: a UUID name, the longest kind there is */
	snprintf(rows[2].name, MODEL_NAME_LEN,
		 "vfio 83b8f4f2-509f-382f-3c1e-e6bfe0fa1001");
	rows[2].path = IOVA_PATH_VFIO;

	snap->rows = rows;
	snap->nrows = snap->ndevices = 3;
	snap->now_ns = 3500000000ull;
	snap->dirty_mib_s = 1412.25;
	snap->reports = 77;
	snap->lost = 3;
	snap->anomalies = 1;
	snap->incomplete = 2;
}

static void test_too_small(void **unused)
{
	struct view_layout l;
	int lines, cols;

	(void)unused;
	for (lines = 0; lines < VIEW_MIN_LINES; lines++)
		for (cols = 0; cols < 300; cols += 7) {
			layout_n(&l, lines, cols, VIEW_DETAIL, 20);
			assert_true(l.too_small);
		}
	layout_n(&l, 100, VIEW_MIN_COLS - 1, VIEW_LIST, 20);
	assert_true(l.too_small);
	layout_n(&l, -5, -5, VIEW_LIST, 0);
	assert_true(l.too_small);
}

/* At every size the table fits its width and every area lies on screen. */
static void test_layout_every_size(void **unused)
{
	struct view_layout l;
	int lines, cols, m, name;

	(void)unused;
	for (m = VIEW_LIST; m <= VIEW_DETAIL; m++)
		for (lines = VIEW_MIN_LINES; lines < 70; lines++)
			for (cols = VIEW_MIN_COLS; cols < 260; cols++)
				for (name = 0; name < MODEL_NAME_LEN + 10; name += 13) {
					int x, w, c, last = -1;

					layout_n(&l, lines, cols, m, name);
					assert_false(l.too_small);
					assert_true(l.rows_h >= 1);
					assert_true(l.header_h >= 1);
					assert_int_equal(l.title_y, l.header_h);
					assert_true(l.rows_y + l.rows_h + l.detail_h <= l.footer_y);
					assert_int_equal(l.footer_y, lines - 1);
					if (l.detail_h)
						assert_int_equal(l.detail_y, l.rows_y + l.rows_h);
					/* the device and its rate are always there */
					assert_true(view_col_x(&l, VIEW_COL_DEVICE, &w) >= 0);
					assert_true(w >= 1);
					assert_true(view_col_x(&l, VIEW_COL_RATE, NULL) >= 0);
					for (c = 0; c < VIEW_NCOLS; c++) {
						x = view_col_x(&l, c, &w);
						if (x < 0)
							continue;
						assert_true(x > last);
						assert_true(x + w <= cols);
						last = x;
					}
				}
}

static void test_layout_choices(void **unused)
{
	struct view_layout l;
	int w;

	(void)unused;
	/* 120 columns hold every column for a PCI name */
	layout_n(&l, 40, 120, VIEW_LIST, 17);
	assert_int_equal(l.colmask, (1u << VIEW_NCOLS) - 1);
	assert_int_equal(l.rows_h, 40 - 1 - VIEW_HEADER_LINES - 1);
	assert_int_equal(l.detail_h, 0);
	/*
	 * 80 columns: who dirties (pid, comm), how often and how much stay;
	 * the hot region (in the header and the detail) goes first
	 */
	layout_n(&l, 24, 80, VIEW_LIST, 17);
	assert_true(view_col_x(&l, VIEW_COL_PID, NULL) >= 0);
	assert_true(view_col_x(&l, VIEW_COL_COMM, NULL) >= 0);
	assert_true(view_col_x(&l, VIEW_COL_REPS, NULL) >= 0);
	assert_true(view_col_x(&l, VIEW_COL_PAGES, NULL) >= 0);
	assert_true(view_col_x(&l, VIEW_COL_TREND, NULL) >= 0);
	assert_int_equal(view_col_x(&l, VIEW_COL_HOT, NULL), -1);
	assert_true(l.more_right);
	assert_true(l.max_skip > 0);
	/* a UUID name is cut to 20 and keeps the same columns */
	layout_n(&l, 24, 80, VIEW_LIST, 41);
	assert_true(view_col_x(&l, VIEW_COL_PID, NULL) >= 0);
	view_col_x(&l, VIEW_COL_DEVICE, &w);
	assert_true(w >= 20 && w < 41);
	/* a UUID name is shortened before columns are dropped */
	layout_n(&l, 24, 100, VIEW_LIST, 41);
	assert_int_equal(l.colmask, (1u << VIEW_NCOLS) - 1);
	view_col_x(&l, VIEW_COL_DEVICE, &w);
	assert_true(w >= 20 && w <= 41);
	/* and shown whole when there is room */
	layout_n(&l, 24, 132, VIEW_LIST, 41);
	assert_int_equal(l.colmask, (1u << VIEW_NCOLS) - 1);
	view_col_x(&l, VIEW_COL_DEVICE, &w);
	assert_int_equal(w, 41);
	assert_false(l.more_right);
	assert_int_equal(l.max_skip, 0);
	/* detail: its lines, the table keeps the rest */
	layout_n(&l, 24, 80, VIEW_DETAIL, 17);
	assert_int_equal(l.detail_h, VIEW_DETAIL_LINES);
	assert_int_equal(l.rows_h, 24 - 1 - VIEW_HEADER_LINES - 1 - VIEW_DETAIL_LINES);
	/* too short for the panel: rows first */
	layout_n(&l, 8, 80, VIEW_DETAIL, 17);
	assert_int_equal(l.header_h, VIEW_HEADER_LINES);
	assert_int_equal(l.detail_h, 0);
	assert_int_equal(l.rows_h, 3);
	layout_n(&l, 9, 80, VIEW_DETAIL, 17);
	assert_int_equal(l.detail_h, 3);
	assert_int_equal(l.rows_h, 1);
	/* the smallest screen: one header line, titles, one row, footer */
	layout_n(&l, VIEW_MIN_LINES, VIEW_MIN_COLS, VIEW_DETAIL, 17);
	assert_false(l.too_small);
	assert_int_equal(l.header_h, 1);
	assert_int_equal(l.title_y, 1);
	assert_int_equal(l.rows_h, 1);
	assert_int_equal(l.detail_h, 0);
}

static void test_rows_fit(void **unused)
{
	struct model_snapshot snap;
	struct view_layout l;
	char line[1024];
	int cols, i;

	(void)unused;
	snap3(&snap);
	for (cols = VIEW_MIN_COLS; cols < 200; cols++) {
		layout_n(&l, 30, cols, VIEW_LIST, view_name_max(&snap));
		view_format_titles(line, sizeof(line), &l, NULL);
		assert_true(strlen(line) <= (size_t)cols + 20);
		for (i = 0; i < 3; i++) {
			view_format_row(line, sizeof(line), &l, &rows[i], i == 1);
			/* every cell but the last (the region) is cut to its column */
			assert_true(strlen(line) <= (size_t)cols + 20);
			assert_int_equal(line[0], i == 1 ? '*' : ' ');
		}
		for (i = 0; i < VIEW_HEADER_LINES; i++)
			assert_true(view_format_header(line, sizeof(line), i, NULL,
						       NULL, &snap, cols) <= (size_t)cols);
	}
	/* a short buffer is cut and terminated */
	layout_n(&l, 30, 200, VIEW_LIST, 17);
	assert_true(view_format_row(line, 10, &l, &rows[0], false) < 10);
	assert_int_equal(strlen(line), 9);
}

static void test_row_text(void **unused)
{
	struct model_snapshot snap;
	struct view_layout l;
	char line[512];
	int x, w;

	(void)unused;
	snap3(&snap);
	layout_n(&l, 40, 200, VIEW_LIST, 17);
	view_format_row(line, sizeof(line), &l, &rows[0], false);
	x = view_col_x(&l, VIEW_COL_RATE, &w);
	assert_int_equal(strncmp(line + x, "      512.2", (size_t)w), 0);
	assert_non_null(strstr(line, "vfio 0000:3b:00.1 "));
	assert_non_null(strstr(line, " 4242 qemu-system-x86 "));
	/* the path is the name's first word: no PATH column says it again */
	assert_null(strstr(line + 3, " vfio "));
	assert_non_null(strstr(line, " shrinking  "));
	assert_non_null(strstr(line, "0x140000000+256M"));
	assert_non_null(strstr(line, " 13107 "));
	view_format_titles(line, sizeof(line), &l, NULL);
	assert_non_null(strstr(line, "DIRTY MiB/s"));
	assert_non_null(strstr(line, "%DIRTY"));
	assert_non_null(strstr(line, "REP/s"));
	assert_non_null(strstr(line, "HOT REGION"));
	/* the numbers sit under their titles */
	x = view_col_x(&l, VIEW_COL_PCT, &w);
	assert_int_equal(strncmp(line + x, "%DIRTY", 6), 0);
}

static void test_hottest(void **unused)
{
	struct model_snapshot snap;

	(void)unused;
	snap3(&snap);
	assert_int_equal(view_hottest(&snap, false), 1);
	rows[1].dirty_mib_s = 0;
	assert_int_equal(view_hottest(&snap, false), 0);
	rows[0].dirty_mib_s = 0;
	assert_int_equal(view_hottest(&snap, false), -1);
	snap.nrows = 0;
	assert_int_equal(view_hottest(&snap, false), -1);
	assert_int_equal(view_hottest(NULL, false), -1);
	assert_int_equal(view_name_max(NULL), 0);
}

static void test_header(void **unused)
{
	struct view_meta meta = {
		.source = "t.trace", .kernel = "6.12.117", .probe = "fentry",
		.layout = "6.11", .t0_ns = 1000000000ull,
	};
	struct model_snapshot snap;
	struct view_state s;
	char line[512];

	(void)unused;
	view_state_init(&s);
	snap3(&snap);
	view_format_header(line, sizeof(line), 0, &meta, &s, &snap, 500);
	assert_string_equal(line,
		"iovatop  replay t.trace  +2.500s  kernel 6.12.117  probe fentry  layout 6.11");
	meta.live = true;
	s.paused = true;
	view_format_header(line, sizeof(line), 0, &meta, &s, &snap, 500);
	assert_non_null(strstr(line, "iovatop  live  +2.500s  [paused]  kernel"));
	assert_non_null(strstr(line, "[paused]"));
	view_format_header(line, sizeof(line), 1, &meta, &s, &snap, 500);
	assert_string_equal(line,
		"devices 3 (3 shown)  dirty 1412.2 MiB/s  reports 77  lost 3  anomalies 1  incomplete 2");
	strcpy(s.filter, "hwpt");
	view_format_header(line, sizeof(line), 2, &meta, &s, &snap, 500);
	assert_non_null(strstr(line, "hottest iommufd hwpt 7  900.0 MiB/s"));
	assert_non_null(strstr(line, "filter \"hwpt\""));
	/* the wall clock of the boundary, when the source knows it */
	meta.wall_offset_ns = (int64_t)86400 * 1000000000 + 3600ll * 1000000000;
	setenv("TZ", "UTC", 1);
	tzset();
	view_format_header(line, sizeof(line), 0, &meta, &s, &snap, 500);
	/* 01:00:03.5, rounded: boundaries sit on whole seconds */
	assert_int_equal(strncmp(line, "iovatop  01:00:04  live  +2.500s", 32), 0);
	/* cut to the width */
	assert_int_equal(view_format_header(line, sizeof(line), 1, &meta, &s,
					    &snap, 12), 9);
	assert_string_equal(line, "devices 3");
	/* nothing yet */
	view_format_header(line, sizeof(line), 1, &meta, &s, NULL, 500);
	assert_string_equal(line, "");
	view_format_header(line, sizeof(line), 2, &meta, &s, NULL, 500);
	assert_non_null(strstr(line, "hottest -"));
	assert_int_equal(view_format_header(line, 0, 0, &meta, &s, NULL, 500), 0);
}

static void test_middle_ellipsis(void **unused)
{
	char b[96];

	(void)unused;
	view_format_utf8(false);
	view_fmt_middle(b, sizeof(b), "vfio 83b8f4f2-509f-382f-3c1e-e6bfe0fa1001", 20);
	/* the start says the path, the end the UUID's last group */
	assert_string_equal(b, "vfio 83~e6bfe0fa1001");
	view_fmt_middle(b, sizeof(b), "vfio 0000:3b:00.2", 12);
	assert_string_equal(b, "vfio~3b:00.2");		/* the function stays */
	view_fmt_middle(b, sizeof(b), "vfio 0000:3b:00.2", 17);
	assert_string_equal(b, "vfio 0000:3b:00.2");	/* fits: whole */
	view_fmt_middle(b, sizeof(b), "vfio 0000:3b:00.2", 2);
	assert_string_equal(b, "vf");
	view_format_utf8(true);
	view_fmt_middle(b, sizeof(b), "vfio 0000:3b:00.2", 12);
	assert_string_equal(b, "vfio\u20263b:00.2");
	view_format_utf8(false);
	assert_int_equal(view_fmt_middle(b, 0, "x", 5), 0);
}

/* Each "  "-separated field of part is a whole field of full. */
static void assert_whole_fields(const char *part, const char *full)
{
	char padded[1100], ent[600];
	const char *p, *e;

	snprintf(padded, sizeof(padded), "  %s  ", full);
	for (p = part; *p; p = *e ? e + 2 : e) {
		while (*p == ' ')
			p++;
		e = strstr(p, "  ");
		if (!e)
			e = p + strlen(p);
		if (e == p)
			break;
		snprintf(ent, sizeof(ent), "  %.*s  ", (int)(e - p), p);
		if (!strstr(padded, ent))
			fail_msg("'%.*s' is not a whole field of '%s'", (int)(e - p),
				 p, full);
	}
}

/* Header and detail lines lose whole fields at any width, never half. */
static void test_whole_fields(void **unused)
{
	struct view_meta meta = {
		.source = "vm-6.12-demo.trace", .kernel = "6.12.117",
		.probe = "fentry", .layout = "6.11", .t0_ns = 1000000000ull,
		.at_end = true,
	};
	struct model_snapshot snap;
	struct view_state s;
	char full[512], line[512];
	int w, k;
	static const int detail_lines[] = { 0, 4, 5 };

	(void)unused;
	view_state_init(&s);
	s.paused = true;
	snap3(&snap);
	view_format_header(full, sizeof(full), 0, &meta, &s, &snap, -1);
	for (w = VIEW_MIN_COLS; w <= 200; w++) {
		assert_true(view_format_header(line, sizeof(line), 0, &meta, &s,
					       &snap, w) <= (size_t)w);
		assert_whole_fields(line, full);
		/* what is going on comes first: the time and the state */
		if (w >= 60)
			assert_non_null(strstr(line, "[end of trace]"));
	}
	for (k = 0; k < 3; k++) {
		view_format_detail(full, sizeof(full), detail_lines[k], &rows[0], -1);
		for (w = VIEW_MIN_COLS; w <= 200; w++) {
			const char *rest;

			view_format_detail(line, sizeof(line), detail_lines[k],
					   &rows[0], w);
			assert_true(strlen(line) <= (size_t)w);
			/* the title's name may be cut in the middle, no more */
			rest = k == 0 ? strstr(line, "  ") : line;
			assert_whole_fields(rest ? rest : "", full);
		}
	}
	/* the title names the device once: the path is its first word */
	view_format_detail(line, sizeof(line), 0, &rows[0], 80);
	assert_string_equal(line,
		"vfio 0000:3b:00.1  pid 4242 qemu-system-x86  tracked 0x100000000+4G  page 4 KiB");
	/* the history line says what the sparkline plots */
	view_format_detail(line, sizeof(line), 4, &rows[0], 80);
	assert_non_null(strstr(line, "dirty pages per iteration, last 3:"));
	assert_null(strstr(line, "per report"));
}

/* Numbers of an interval without a report are not the last report's. */
static void test_idle_row(void **unused)
{
	struct model_snapshot snap;
	struct view_layout l;
	char line[512];
	int x, w;

	(void)unused;
	snap3(&snap);
	layout_n(&l, 40, 200, VIEW_LIST, 41);
	rows[0].reports_per_s = 0;
	rows[0].dirty_mib_s = 0;
	view_format_row(line, sizeof(line), &l, &rows[0], false);
	x = view_col_x(&l, VIEW_COL_PAGES, &w);
	assert_int_equal(strncmp(line + x, "       -", (size_t)w), 0);
	x = view_col_x(&l, VIEW_COL_PCT, &w);
	assert_int_equal(strncmp(line + x, "     -", (size_t)w), 0);
	/* a task the tracer did not see: '-' and '?', not 0 and nothing */
	rows[1].pid = 0;
	rows[1].comm[0] = '\0';
	view_format_row(line, sizeof(line), &l, &rows[1], false);
	x = view_col_x(&l, VIEW_COL_PID, &w);
	assert_int_equal(line[x + w - 1], '-');
	x = view_col_x(&l, VIEW_COL_COMM, &w);
	assert_int_equal(line[x], '?');
}

/* With a filter the header's rate is the rows', and says of what. */
static void test_filtered_rate(void **unused)
{
	struct view_meta meta = { .source = "t" };
	struct model_snapshot snap;
	struct view_state s;
	char line[512];

	(void)unused;
	view_state_init(&s);
	snap3(&snap);
	/* the filter left only the UUID device, which dirtied nothing */
	snap.rows = &rows[2];
	snap.nrows = 1;
	strcpy(s.filter, "83b8");
	view_format_header(line, sizeof(line), 1, &meta, &s, &snap, 200);
	assert_non_null(strstr(line, "dirty 0.0 of 1412.2 MiB/s"));
	view_format_header(line, sizeof(line), 2, &meta, &s, &snap, 200);
	assert_non_null(strstr(line,
		"hottest -  no shown device dirtied pages (the filter hides 1412.2 MiB/s)"));
	/* nothing hidden: no dirty pages at all */
	snap.dirty_mib_s = 0;
	view_format_header(line, sizeof(line), 2, &meta, &s, &snap, 200);
	assert_non_null(strstr(line, "hottest -  no dirty pages this interval"));
}

static void test_bytes_region(void **unused)
{
	char b[48];

	(void)unused;
	view_fmt_bytes(b, sizeof(b), 0);
	assert_string_equal(b, "0 B");
	view_fmt_bytes(b, sizeof(b), 4096);
	assert_string_equal(b, "4 KiB");
	view_fmt_bytes(b, sizeof(b), 3ull << 19);
	assert_string_equal(b, "1.5 MiB");
	view_fmt_bytes(b, sizeof(b), UINT64_MAX);
	assert_string_equal(b, "16 EiB");
	view_fmt_region(b, sizeof(b), 0x140000000ull, 256ull << 20);
	assert_string_equal(b, "0x140000000+256M");
	view_fmt_region(b, sizeof(b), 0, 1ull << 30);
	assert_string_equal(b, "0+1G");
	view_fmt_region(b, sizeof(b), 0x1000, 6144);
	assert_string_equal(b, "0x1000+6K");
	view_fmt_region(b, sizeof(b), 0x1000, 5000);
	assert_string_equal(b, "0x1000+4.9K");
	view_fmt_region(b, sizeof(b), 0x1000, 0);
	assert_string_equal(b, "-");
	view_fmt_region(b, 6, 0x140000000ull, 1);
	assert_string_equal(b, "0x140");
}

static void test_heat_levels(void **unused)
{
	uint32_t heat[MODEL_HEAT_BUCKETS] = { 0 };
	uint8_t out[300];
	int i, n;

	(void)unused;
	view_heat_levels(heat, MODEL_HEAT_BUCKETS, 50, out, 10);
	for (i = 0; i < 50; i++)
		assert_int_equal(out[i], 0);

	/* one hot bucket stays visible however narrow the map */
	heat[37] = 5;
	for (n = 1; n < 300; n++) {
		int top = 0;

		view_heat_levels(heat, MODEL_HEAT_BUCKETS, n, out, 10);
		for (i = 0; i < n; i++) {
			assert_true(out[i] < 10);
			if (out[i] == 9)
				top++;
			else
				assert_int_equal(out[i], 0);
		}
		assert_true(top >= 1);
		assert_true(top <= n / MODEL_HEAT_BUCKETS + 1);
	}
	/* one cell per bucket: the positions map one to one */
	heat[3] = 1;
	view_heat_levels(heat, MODEL_HEAT_BUCKETS, MODEL_HEAT_BUCKETS, out, 10);
	assert_int_equal(out[37], 9);
	assert_int_equal(out[3], 2);	/* 1 + 1 * 8 / 5 */
	assert_int_equal(out[4], 0);
	/* the top level is only for the maximum */
	heat[3] = 4;
	view_heat_levels(heat, MODEL_HEAT_BUCKETS, MODEL_HEAT_BUCKETS, out, 10);
	assert_int_equal(out[3], 7);
	heat[3] = UINT32_MAX;
	heat[37] = UINT32_MAX - 1;
	view_heat_levels(heat, MODEL_HEAT_BUCKETS, MODEL_HEAT_BUCKETS, out, 10);
	assert_int_equal(out[3], 9);
	assert_int_equal(out[37], 8);
	view_heat_levels(heat, MODEL_HEAT_BUCKETS, 0, out, 10);
	view_heat_levels(heat, 0, 10, out, 10);
	assert_int_equal(out[0], 0);
}

static void test_spark_levels(void **unused)
{
	uint64_t h[MODEL_HISTORY];
	uint8_t out[100];
	int i, k;

	(void)unused;
	for (i = 0; i < MODEL_HISTORY; i++)
		h[i] = (uint64_t)i;
	/* fewer values than cells: one cell each, from the left */
	k = view_spark_levels(h, 5, 20, out, 8);
	assert_int_equal(k, 5);
	assert_int_equal(out[0], 0);
	assert_int_equal(out[4], 7);
	/* more values than cells: the newest ones */
	k = view_spark_levels(h, MODEL_HISTORY, 10, out, 8);
	assert_int_equal(k, 10);
	assert_int_equal(out[9], 7);
	assert_true(out[0] >= 6);	/* 50 of 59 */
	/* all zero: flat at the bottom, no division by zero */
	memset(h, 0, sizeof(h));
	k = view_spark_levels(h, 7, 20, out, 8);
	for (i = 0; i < k; i++)
		assert_int_equal(out[i], 0);
	assert_int_equal(view_spark_levels(h, 0, 20, out, 8), 0);
	assert_int_equal(view_spark_levels(h, 5, 0, out, 8), 0);
}

static void test_detail(void **unused)
{
	struct model_snapshot snap;
	char line[600];
	int width, i;

	(void)unused;
	snap3(&snap);
	view_format_detail(line, sizeof(line), 0, NULL, 80);
	assert_string_equal(line, "no device selected");
	view_format_detail(line, sizeof(line), 0, &rows[0], 200);
	assert_non_null(strstr(line, "tracked 0x100000000+4G"));
	assert_non_null(strstr(line, "page 4 KiB"));
	view_format_detail(line, sizeof(line), 1, &rows[0], 6 + 2 + 64);
	/* bucket 20 of 64 is the peak, 21 faint */
	assert_int_equal(strncmp(line, "heat  |", 7), 0);
	assert_int_equal(line[7 + 20], '@');
	assert_int_equal(line[7 + 21], '.');
	assert_int_equal(line[7 + 19], ' ');
	assert_int_equal(line[7 + 64], '|');
	view_format_detail(line, sizeof(line), 3, &rows[0], 6 + 2 + 10);
	assert_string_equal(line, "pages |#=_       |");
	view_format_detail(line, sizeof(line), 2, &rows[0], 60);
	assert_int_equal(strlen(line), 60);
	assert_non_null(strstr(line, "0x100000000"));
	assert_non_null(strstr(line, "0x200000000"));
	/* every line at every width stays in its width and its buffer */
	for (width = 0; width < 300; width++)
		for (i = 0; i < VIEW_DETAIL_LINES + 1; i++) {
			size_t n = view_format_detail(line, sizeof(line), i,
						      &rows[0], width);

			assert_int_equal(n, strlen(line));
			assert_true(n <= (size_t)width);
		}
}

static void put_file(const char *path, const char *text, size_t n)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	assert_int_equal(fwrite(text, 1, n, f), n);
	assert_int_equal(fclose(f), 0);
}

/* --note-file: the last line that says something, made safe to draw. */
static void test_note_read(void **unused)
{
	char path[] = "/tmp/iovatop-note-XXXXXX", buf[VIEW_NOTE_LEN], small[8];
	int fd = mkstemp(path);
	static const char long_utf8[] = "abcd\xc3\xa9\xc3\xa9";	/* abcdéé */

	(void)unused;
	assert_true(fd >= 0);
	close(fd);
	put_file(path, "", 0);
	assert_int_equal(view_note_read(path, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "");
	put_file(path, "first\n  round 2: stuck, sync 3  \n\n \n", 36);
	assert_int_equal(view_note_read(path, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "round 2: stuck, sync 3");
	/* no escape sequence or tab reaches the terminal; no newline ends it */
	put_file(path, "a\x1b[2Jb\tc", 8);
	assert_int_equal(view_note_read(path, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "a [2Jb c");
	/* cut short, never inside a UTF-8 character */
	put_file(path, long_utf8, sizeof(long_utf8) - 1);
	assert_int_equal(view_note_read(path, small, 7), 0);
	assert_string_equal(small, "abcd\xc3\xa9");
	assert_int_equal(view_note_read(path, small, 6), 0);
	assert_string_equal(small, "abcd");
	unlink(path);
	/* no file yet: no note, and no error (the writer starts later) */
	assert_int_equal(view_note_read(path, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "");
	/* a directory cannot be read: an error, and no note */
	assert_true(view_note_read("/", buf, sizeof(buf)) < 0);
	assert_string_equal(buf, "");
}

/* Lines past the three: the forecast's first, then the note's. */
static void test_header_extra_lines(void **unused)
{
	struct view_meta meta = { .source = "t", .note = "round 1: converging" };
	struct model_snapshot snap;
	struct view_state s;
	char line[256], *out = NULL;
	size_t len = 0;
	FILE *f;

	(void)unused;
	view_state_init(&s);
	snap3(&snap);
	assert_int_equal(view_header_extra(&meta), 1);
	view_format_header(line, sizeof(line), VIEW_HEADER_LINES, &meta, &s, &snap, 80);
	assert_string_equal(line, "round 1: converging");
	meta.forecast = "forecast: converges";
	assert_int_equal(view_header_extra(&meta), 2);
	view_format_header(line, sizeof(line), VIEW_HEADER_LINES, &meta, &s, &snap, 80);
	assert_string_equal(line, "forecast: converges");
	view_format_header(line, sizeof(line), VIEW_HEADER_LINES + 1, &meta, &s, &snap, 12);
	assert_string_equal(line, "round 1: con");	/* cut to the width */
	meta.note = "";
	assert_int_equal(view_header_extra(&meta), 1);
	assert_int_equal(view_format_header(line, sizeof(line), VIEW_HEADER_LINES + 1,
					    &meta, &s, &snap, 80), 0);
	/* the batch view prints it under the header, above the titles */
	meta.forecast = NULL;
	meta.note = "round 1: converging";
	f = open_memstream(&out, &len);
	assert_non_null(f);
	view_batch_print(f, &meta, &s, &snap);
	fclose(f);
	assert_non_null(strstr(out, "\nround 1: converging\n  DEVICE"));
	free(out);
}

/*
 * Live, the header says how full the ring buffer is and was at its
 * fullest, and the JSON header carries its size and both ratios; replay
 * has no ring: nothing in the header, null in the JSON.
 */
static void test_ring_fill(void **unused)
{
	struct ring_fill rf = { .size_bytes = 8 << 20, .now_bytes = 1 << 20,
				.peak_bytes = 6 << 20 };
	struct view_meta meta = { .source = "live", .kernel = "6.12.117",
				  .probe = "fentry", .layout = "6.11", .live = true,
				  .t0_ns = 1000000000ull, .ring = &rf };
	struct model_snapshot snap;
	struct view_state s;
	char line[512], *out = NULL;
	size_t len = 0;
	FILE *f;

	(void)unused;
	view_state_init(&s);
	snap3(&snap);
	view_format_header(line, sizeof(line), 0, &meta, &s, &snap, 500);
	assert_string_equal(line,
		"iovatop  live  +2.500s  ring 12% peak 75%  kernel 6.12.117  probe fentry  layout 6.11");
	/* narrow: the source details go first, the ring after them */
	view_format_header(line, sizeof(line), 0, &meta, &s, &snap, 41);
	assert_string_equal(line, "iovatop  live  +2.500s  ring 12% peak 75%");
	view_format_header(line, sizeof(line), 0, &meta, &s, &snap, 30);
	assert_null(strstr(line, "ring"));

	f = open_memstream(&out, &len);
	assert_non_null(f);
	view_json_print(f, &meta, &s, &snap);
	meta.ring = NULL;
	meta.live = false;
	view_json_print(f, &meta, &s, &snap);
	fclose(f);
	assert_non_null(strstr(out, ", \"ring\": {\"size_bytes\": 8388608, \"fill_ratio\": 0.125000, \"peak_ratio\": 0.750000}}\n"));
	assert_non_null(strstr(out, ", \"ring\": null}\n"));
	free(out);
	view_format_header(line, sizeof(line), 0, &meta, &s, &snap, 500);
	assert_null(strstr(line, "ring"));
}

static void test_batch_zero_rows(void **unused)
{
	struct view_meta meta = { .source = "empty.trace", .kernel = "k",
				  .probe = "p", .layout = "6.11" };
	struct model_snapshot snap = { 0 };
	struct view_state s;
	char *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);

	(void)unused;
	assert_non_null(f);
	view_state_init(&s);
	view_batch_print(f, &meta, &s, &snap);
	fclose(f);
	assert_non_null(strstr(out, "devices 0 (0 shown)"));
	assert_non_null(strstr(out, "hottest -"));
	assert_non_null(strstr(out, "  DEVICE"));
	assert_null(strstr(out, "heat"));
	free(out);
}

static void test_batch_rows(void **unused)
{
	struct view_meta meta = { .source = "t", .kernel = "k", .probe = "p",
				  .layout = "6.11" };
	struct model_snapshot snap;
	struct view_state s;
	char *out = NULL, *p;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);

	(void)unused;
	assert_non_null(f);
	snap3(&snap);
	view_state_init(&s);
	view_batch_print(f, &meta, &s, &snap);
	fclose(f);
	/* batch never cuts: the whole UUID is there, and no trailing blanks */
	assert_non_null(strstr(out, "vfio 83b8f4f2-509f-382f-3c1e-e6bfe0fa1001 "));
	assert_non_null(strstr(out, "\n* iommufd hwpt 7 "));
	assert_null(strstr(out, " \n"));
	/* the heat line is the hottest device's (all zero here: blank) */
	p = strstr(out, "heat  |");
	assert_non_null(p);
	assert_int_equal(strncmp(p + 7 + MODEL_HEAT_BUCKETS, "|\n", 2), 0);
	free(out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_too_small),
		cmocka_unit_test(test_layout_every_size),
		cmocka_unit_test(test_layout_choices),
		cmocka_unit_test(test_rows_fit),
		cmocka_unit_test(test_row_text),
		cmocka_unit_test(test_hottest),
		cmocka_unit_test(test_header),
		cmocka_unit_test(test_ring_fill),
		cmocka_unit_test(test_bytes_region),
		cmocka_unit_test(test_middle_ellipsis),
		cmocka_unit_test(test_whole_fields),
		cmocka_unit_test(test_idle_row),
		cmocka_unit_test(test_filtered_rate),
		cmocka_unit_test(test_heat_levels),
		cmocka_unit_test(test_spark_levels),
		cmocka_unit_test(test_detail),
		cmocka_unit_test(test_note_read),
		cmocka_unit_test(test_header_extra_lines),
		cmocka_unit_test(test_batch_zero_rows),
		cmocka_unit_test(test_batch_rows),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
