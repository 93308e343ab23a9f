// SPDX-License-Identifier: GPL-2.0
/*
 * view_format.c - layout and text of the views. The batch view prints
 * these strings and the curses view draws them, then adds attributes on
 * top, so both show the same numbers in the same columns. Everything here
 * writes into caller buffers: no allocation, no I/O.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "view.h"

struct view_coldef {
	const char *title;
	int width;		/* DEVICE: the minimum, grown by the layout */
	bool right;		/* numbers are right-aligned */
};

static const struct view_coldef cols[VIEW_NCOLS] = {
	[VIEW_COL_MARK] = { "", 1, false },
	[VIEW_COL_DEVICE] = { "DEVICE", VIEW_NAME_MIN, false },
	[VIEW_COL_PATH] = { "PATH", 7, false },
	[VIEW_COL_PID] = { "PID", 7, true },
	[VIEW_COL_COMM] = { "COMM", IOVA_COMM_LEN - 1, false },
	[VIEW_COL_REPS] = { "REP/s", 7, true },
	[VIEW_COL_PAGES] = { "PG/REP", 9, true },
	[VIEW_COL_RATE] = { "DIRTY MiB/s", 11, true },
	[VIEW_COL_PCT] = { "%DIRTY", 6, true },
	[VIEW_COL_TREND] = { "TREND", 10, false },
	[VIEW_COL_HOT] = { "HOT REGION", 20, false },
};

/* The order in which columns give way on a narrow terminal. */
static const enum view_col drop_order[] = {
	VIEW_COL_PID, VIEW_COL_COMM, VIEW_COL_PATH, VIEW_COL_PAGES,
	VIEW_COL_REPS, VIEW_COL_HOT, VIEW_COL_TREND, VIEW_COL_PCT,
};

/* A device column wider than this is shrunk before any column is dropped. */
#define NAME_SOFT_MAX	24

static int col_width(const struct view_layout *l, int c)
{
	return c == VIEW_COL_DEVICE ? l->name_w : cols[c].width;
}

static int line_width(const struct view_layout *l)
{
	int c, w = 0;

	for (c = 0; c < VIEW_NCOLS; c++)
		if (l->colmask & (1u << c))
			w += col_width(l, c) + (w ? 1 : 0);
	return w;
}

void view_layout(struct view_layout *l, int lines, int ncols,
		 enum view_mode mode, int name_max)
{
	size_t i;
	int rest;

	memset(l, 0, sizeof(*l));
	l->lines = lines;
	l->cols = ncols;
	if (lines < VIEW_MIN_LINES || ncols < VIEW_MIN_COLS) {
		l->too_small = true;
		return;
	}

	l->colmask = (1u << VIEW_NCOLS) - 1;
	l->name_w = name_max;
	if (l->name_w < VIEW_NAME_MIN)
		l->name_w = VIEW_NAME_MIN;
	if (l->name_w > MODEL_NAME_LEN - 1)
		l->name_w = MODEL_NAME_LEN - 1;
	if (line_width(l) > ncols && l->name_w > NAME_SOFT_MAX) {
		l->name_w -= line_width(l) - ncols;
		if (l->name_w < NAME_SOFT_MAX)
			l->name_w = NAME_SOFT_MAX;
	}
	for (i = 0; i < sizeof(drop_order) / sizeof(drop_order[0]); i++) {
		if (line_width(l) <= ncols)
			break;
		l->colmask &= ~(1u << drop_order[i]);
	}
	if (line_width(l) > ncols)
		l->name_w -= line_width(l) - ncols;
	if (l->name_w < 1)
		l->name_w = 1;

	/* the header gives way before the table does on a short terminal */
	l->header_y = 0;
	l->header_h = lines - 3 < VIEW_HEADER_LINES ? lines - 3 : VIEW_HEADER_LINES;
	l->title_y = l->header_y + l->header_h;
	l->rows_y = l->title_y + 1;
	l->footer_y = lines - 1;
	rest = l->footer_y - l->rows_y;	/* lines for rows and detail */
	if (mode == VIEW_DETAIL && rest >= 4) {
		/* the detail panel gets its lines, the table keeps at least one row */
		l->detail_h = rest - 1 < VIEW_DETAIL_LINES ? rest - 1 :
			VIEW_DETAIL_LINES;
		l->detail_y = l->footer_y - l->detail_h;
	}
	l->rows_h = rest - l->detail_h;
}

int view_name_max(const struct model_snapshot *snap)
{
	int m = 0;
	uint32_t i;

	for (i = 0; snap && i < snap->nrows; i++) {
		int n = (int)strnlen(snap->rows[i].name, MODEL_NAME_LEN);

		if (n > m)
			m = n;
	}
	return m;
}

int view_hottest(const struct model_snapshot *snap)
{
	int best = -1;
	uint32_t i;

	for (i = 0; snap && i < snap->nrows; i++) {
		if (snap->rows[i].dirty_mib_s <= 0)
			continue;
		if (best < 0 || snap->rows[i].dirty_mib_s > snap->rows[best].dirty_mib_s)
			best = (int)i;
	}
	return best;
}

/* The model's names; on screen a diverging device shouts, unknowns are short. */
const char *view_trend_name(uint32_t trend)
{
	if (trend == MODEL_TREND_DIVERGING)
		return "DIVERGING";
	if (trend == MODEL_TREND_UNKNOWN || trend > MODEL_TREND_DIVERGING)
		return "-";
	return model_trend_name(trend);
}

const char *view_path_name(uint32_t path)
{
	if (path != IOVA_PATH_VFIO && path != IOVA_PATH_IOMMUFD)
		return "?";
	return model_path_name(path);
}

const char *view_layout_name(uint32_t layout)
{
	switch (layout) {
	case IOVA_LAYOUT_V6_1: return "6.1";
	case IOVA_LAYOUT_V6_8: return "6.8";
	case IOVA_LAYOUT_V6_11: return "6.11";
	}
	return "unknown";
}

/* Clamp an snprintf result to what the buffer holds. */
static size_t fitted(int n, size_t len)
{
	if (n < 0 || !len)
		return 0;
	return (size_t)n >= len ? len - 1 : (size_t)n;
}

size_t view_fmt_bytes(char *buf, size_t len, uint64_t bytes)
{
	static const char *const unit[] = { "B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB" };
	double v = (double)bytes;
	int u = 0;

	while (v >= 1024 && u < 6) {
		v /= 1024;
		u++;
	}
	if (u == 0 || v >= 100 || v == (double)(uint64_t)v)
		return fitted(snprintf(buf, len, "%.0f %s", v, unit[u]), len);
	return fitted(snprintf(buf, len, "%.1f %s", v, unit[u]), len);
}

/* Compact region text: hex start, '+', a length with a one-letter unit. */
size_t view_fmt_region(char *buf, size_t len, uint64_t iova, uint64_t length)
{
	static const char unit[] = "BKMGTPE";
	double v = (double)length;
	int u = 0;

	if (!length)
		return fitted(snprintf(buf, len, "-"), len);
	while (v >= 1024 && u < 6) {
		v /= 1024;
		u++;
	}
	if (v == (double)(uint64_t)v || v >= 100)
		return fitted(snprintf(buf, len, "%#llx+%.0f%c",
				       (unsigned long long)iova, v, unit[u]), len);
	return fitted(snprintf(buf, len, "%#llx+%.1f%c",
			       (unsigned long long)iova, v, unit[u]), len);
}

/*
 * Put text into a column: padded to width, cut if longer (the last column
 * may run on: nothing follows it).
 */
static size_t put_cell(char *buf, size_t len, size_t off, const char *text,
		       int width, bool right, bool last)
{
	int n = (int)strlen(text);
	int pad = width - n;

	if (off + 1 >= len)
		return off;
	if (n > width && !last)
		n = width;
	if (pad < 0)
		pad = 0;
	if (right) {
		while (pad-- > 0 && off + 1 < len)
			buf[off++] = ' ';
		pad = 0;
	}
	while (n-- > 0 && off + 1 < len)
		buf[off++] = *text++;
	if (!last)
		while (pad-- > 0 && off + 1 < len)
			buf[off++] = ' ';
	buf[off] = '\0';
	return off;
}

static int last_col(const struct view_layout *l)
{
	int c;

	for (c = VIEW_NCOLS - 1; c > 0; c--)
		if (l->colmask & (1u << c))
			return c;
	return 0;
}

int view_col_x(const struct view_layout *l, enum view_col want, int *width)
{
	int c, x = 0;

	for (c = 0; c < VIEW_NCOLS; c++) {
		if (!(l->colmask & (1u << c)))
			continue;
		if (c == (int)want) {
			if (width)
				*width = col_width(l, c);
			return x;
		}
		x += col_width(l, c) + 1;
	}
	return -1;
}

enum view_col view_sort_col(enum model_sort sort)
{
	switch (sort) {
	case MODEL_SORT_RATE: return VIEW_COL_RATE;
	case MODEL_SORT_DIRTY: return VIEW_COL_PAGES;
	case MODEL_SORT_PCT: return VIEW_COL_PCT;
	case MODEL_SORT_REPORTS: return VIEW_COL_REPS;
	case MODEL_SORT_NAME: return VIEW_COL_DEVICE;
	default: return VIEW_COL_RATE;
	}
}

/*
 * The titles are plain text; the header names the sort key and the curses
 * view underlines its column (view_sort_col()).
 */
size_t view_format_titles(char *buf, size_t len, const struct view_layout *l,
			  const struct view_state *s)
{
	int last = last_col(l);
	size_t off = 0;
	int c;

	(void)s;
	if (len)
		buf[0] = '\0';
	for (c = 0; c < VIEW_NCOLS; c++) {
		const char *t = cols[c].title;

		if (!(l->colmask & (1u << c)))
			continue;
		if (off)
			off = put_cell(buf, len, off, " ", 1, false, false);
		off = put_cell(buf, len, off, t, col_width(l, c), cols[c].right,
			       c == last);
	}
	return off;
}

size_t view_format_row(char *buf, size_t len, const struct view_layout *l,
		       const struct model_row *r, bool hottest)
{
	char cell[64];
	int last = last_col(l);
	size_t off = 0;
	int c;

	if (len)
		buf[0] = '\0';
	for (c = 0; c < VIEW_NCOLS; c++) {
		if (!(l->colmask & (1u << c)))
			continue;
		switch (c) {
		case VIEW_COL_MARK:
			snprintf(cell, sizeof(cell), "%s", hottest ? "*" : " ");
			break;
		case VIEW_COL_DEVICE:
			snprintf(cell, sizeof(cell), "%.*s", MODEL_NAME_LEN, r->name);
			break;
		case VIEW_COL_PATH:
			snprintf(cell, sizeof(cell), "%s", view_path_name(r->path));
			break;
		case VIEW_COL_PID:
			snprintf(cell, sizeof(cell), "%u", r->pid);
			break;
		case VIEW_COL_COMM:
			snprintf(cell, sizeof(cell), "%.*s", IOVA_COMM_LEN, r->comm);
			break;
		case VIEW_COL_REPS:
			snprintf(cell, sizeof(cell), "%.1f", r->reports_per_s);
			break;
		case VIEW_COL_PAGES:
			snprintf(cell, sizeof(cell), "%llu",
				 (unsigned long long)r->dirty_pages_last);
			break;
		case VIEW_COL_RATE:
			snprintf(cell, sizeof(cell), "%.1f", r->dirty_mib_s);
			break;
		case VIEW_COL_PCT:
			snprintf(cell, sizeof(cell), "%.1f", r->pct_dirty);
			break;
		case VIEW_COL_TREND:
			snprintf(cell, sizeof(cell), "%s", view_trend_name(r->trend));
			break;
		case VIEW_COL_HOT:
			view_fmt_region(cell, sizeof(cell), r->hot_iova, r->hot_length);
			break;
		}
		if (off)
			off = put_cell(buf, len, off, " ", 1, false, false);
		off = put_cell(buf, len, off, cell, col_width(l, c), cols[c].right,
			       c == last);
	}
	return off;
}

/* Cut a finished line to the screen width. */
static size_t cut(char *buf, size_t n, int width)
{
	if (width >= 0 && n > (size_t)width) {
		n = (size_t)width;
		buf[n] = '\0';
	}
	return n;
}

size_t view_format_header(char *buf, size_t len, int line,
			  const struct view_meta *meta,
			  const struct view_state *s,
			  const struct model_snapshot *snap, int width)
{
	char clock[16], speed[32] = "";
	double t = 0;
	size_t n = 0;
	int hot;

	if (!len)
		return 0;
	buf[0] = '\0';
	if (snap && meta && snap->now_ns >= meta->t0_ns)
		t = (double)(snap->now_ns - meta->t0_ns) / 1e9;

	switch (line) {
	case 0:
		/* the wall clock of the boundary, to line up with other logs */
		if (snap && meta && meta->wall_offset_ns) {
			int64_t wall = (int64_t)snap->now_ns + meta->wall_offset_ns;
			/* boundaries sit on whole seconds of one clock: round */
			time_t secs = (time_t)((wall + 500000000) / 1000000000);
			struct tm tm;

			if (wall > 0 && localtime_r(&secs, &tm))
				n = strftime(clock, sizeof(clock), "%H:%M:%S  ", &tm);
		}
		clock[n] = '\0';
		/* what is going on first: a narrow screen cuts the details */
		if (s && s->replay && meta && meta->paced)
			snprintf(speed, sizeof(speed), "  speed x%g", s->speed);
		n = fitted(snprintf(buf, len,
			"iovatop  %s%s%s  +%.3fs%s%s%s%s  kernel %s  probe %s  layout %s",
			clock, meta && meta->live ? "live" : "replay ",
			meta && !meta->live ? meta->source : "", t, speed,
			s && s->paused ? "  [paused]" : "",
			meta && meta->at_end ? "  [end of trace]" : "",
			meta && meta->trace_incomplete ? "  [trace cut short]" : "",
			meta && meta->kernel ? meta->kernel : "?",
			meta && meta->probe ? meta->probe : "?",
			meta && meta->layout ? meta->layout : "?"),
			len);
		break;
	case 1:
		if (!snap)
			break;
		n = fitted(snprintf(buf, len,
			"devices %u (%u shown)  dirty %.1f MiB/s  reports %llu  "
			"lost %llu  anomalies %llu  incomplete %llu",
			snap->ndevices, snap->nrows, snap->dirty_mib_s,
			(unsigned long long)snap->reports,
			(unsigned long long)snap->lost,
			(unsigned long long)snap->anomalies,
			(unsigned long long)snap->incomplete), len);
		break;
	case 2: {
		char region[48];

		hot = view_hottest(snap);
		if (hot >= 0) {
			const struct model_row *r = &snap->rows[hot];

			view_fmt_region(region, sizeof(region), r->hot_iova,
					r->hot_length);
			n = fitted(snprintf(buf, len,
				"hottest %s  %.1f MiB/s  in %s", r->name,
				r->dirty_mib_s, region), len);
		} else {
			n = fitted(snprintf(buf, len, "hottest -  no dirty pages this interval"),
				   len);
		}
		if (s && n + 1 < len)
			n += fitted(snprintf(buf + n, len - n, "  sort %s%s%s%s%s",
					     view_sort_name(s->sort),
					     s->reverse ? " (reversed)" : "",
					     s->filter[0] ? "  filter \"" : "",
					     s->filter, s->filter[0] ? "\"" : ""),
				    len - n);
		break;
	}
	}
	return cut(buf, n, width);
}

void view_heat_levels(const uint32_t *heat, int nbuckets, int width,
		      uint8_t *out, int nlevels)
{
	uint32_t max = 0;
	int i, c;

	if (width <= 0)
		return;
	for (i = 0; i < nbuckets; i++)
		if (heat[i] > max)
			max = heat[i];
	for (c = 0; c < width; c++) {
		int b0, b1;
		uint32_t v = 0;

		if (nbuckets <= 0 || !max || nlevels < 2) {
			out[c] = 0;
			continue;
		}
		b0 = (int)((int64_t)c * nbuckets / width);
		b1 = (int)(((int64_t)c + 1) * nbuckets / width);
		if (b1 <= b0)
			b1 = b0 + 1;
		for (i = b0; i < b1 && i < nbuckets; i++)
			if (heat[i] > v)
				v = heat[i];
		if (!v)
			out[c] = 0;
		else if (v == max)
			out[c] = (uint8_t)(nlevels - 1);
		else
			out[c] = (uint8_t)(1 + (uint64_t)v * (uint64_t)(nlevels - 2) / max);
		if (out[c] >= nlevels - 1 && v != max)
			out[c] = (uint8_t)(nlevels - 2);
	}
}

int view_spark_levels(const uint64_t *hist, int n, int width, uint8_t *out,
		      int nlevels)
{
	uint64_t max = 0;
	int k, i, first;

	if (width <= 0 || n <= 0 || nlevels < 1)
		return 0;
	k = n < width ? n : width;
	first = n - k;
	for (i = first; i < n; i++)
		if (hist[i] > max)
			max = hist[i];
	for (i = 0; i < k; i++) {
		uint64_t v = hist[first + i];

		if (!max)
			out[i] = 0;
		else
			out[i] = (uint8_t)((double)v * (nlevels - 1) / (double)max + 0.5);
	}
	return k;
}

/* ASCII ramps: readable in any terminal, in tmux captures and in files. */
static const char heat_ramp[] = " .:-=+*#%@";
static const char spark_ramp[] = "_.-~=+*#";

#define SPARK_LEVELS	((int)sizeof(spark_ramp) - 1)
#define DETAIL_MAX_W	512

/* the curses view colours the heat cells by these levels */
_Static_assert(sizeof(heat_ramp) - 1 == VIEW_HEAT_LEVELS, "heat ramp");

size_t view_format_detail(char *buf, size_t len, int line,
			  const struct model_row *r, int width)
{
	uint8_t lv[DETAIL_MAX_W];
	char a[48], b[48];
	size_t n = 0;
	int w = width - VIEW_DETAIL_LABEL_W - 2, i, k;

	if (!len)
		return 0;
	buf[0] = '\0';
	if (w > DETAIL_MAX_W)
		w = DETAIL_MAX_W;
	if (!r) {
		if (line == 0)
			n = fitted(snprintf(buf, len, "no device selected"), len);
		return cut(buf, n, width);
	}
	switch (line) {
	case 0:
		view_fmt_region(a, sizeof(a), r->tracked_iova, r->tracked_length);
		view_fmt_bytes(b, sizeof(b), r->page_size);
		n = fitted(snprintf(buf, len,
			"%s  %s  pid %u %.*s  tracked %s  page %s  trend %s",
			r->name, view_path_name(r->path), r->pid, IOVA_COMM_LEN,
			r->comm, a, b, view_trend_name(r->trend)), len);
		break;
	case 1:
		if (w < 1 || (size_t)w + VIEW_DETAIL_LABEL_W + 3 > len)
			break;
		view_heat_levels(r->heat, MODEL_HEAT_BUCKETS, w, lv,
				 VIEW_HEAT_LEVELS);
		n = fitted(snprintf(buf, len, "%-*s|", VIEW_DETAIL_LABEL_W,
				    "heat"), len);
		for (i = 0; i < w; i++)
			buf[n++] = heat_ramp[lv[i]];
		buf[n++] = '|';
		buf[n] = '\0';
		break;
	case 2: {
		int la, lb;

		if (w < 1)
			break;
		la = snprintf(a, sizeof(a), "%#llx", (unsigned long long)r->tracked_iova);
		lb = snprintf(b, sizeof(b), "%#llx",
			      (unsigned long long)(r->tracked_iova + r->tracked_length));
		if (la + lb + 1 > w + 2) {
			n = fitted(snprintf(buf, len, "%*s%s",
					    VIEW_DETAIL_LABEL_W, "", a), len);
			break;
		}
		n = fitted(snprintf(buf, len, "%*s%s%*s", VIEW_DETAIL_LABEL_W,
				    "", a, w + 2 - la, b), len);
		break;
	}
	case 3:
		if (w < 1 || (size_t)w + VIEW_DETAIL_LABEL_W + 3 > len)
			break;
		k = view_spark_levels(r->history, (int)r->nhistory, w, lv,
				      SPARK_LEVELS);
		n = fitted(snprintf(buf, len, "%-*s|", VIEW_DETAIL_LABEL_W,
				    "pages"), len);
		for (i = 0; i < k; i++)
			buf[n++] = spark_ramp[lv[i]];
		for (; i < w; i++)
			buf[n++] = ' ';
		buf[n++] = '|';
		buf[n] = '\0';
		break;
	case 4: {
		uint32_t j, nh = r->nhistory < MODEL_HISTORY ? r->nhistory :
			MODEL_HISTORY;
		uint64_t mx = 0, last = nh ? r->history[nh - 1] : 0;

		for (j = 0; j < nh; j++)
			if (r->history[j] > mx)
				mx = r->history[j];
		view_fmt_region(a, sizeof(a), r->hot_iova, r->hot_length);
		n = fitted(snprintf(buf, len,
			"%-*sdirty pages per report, last %u: max %llu, now %llu;  hottest %s",
			VIEW_DETAIL_LABEL_W, "", nh, (unsigned long long)mx,
			(unsigned long long)last, a), len);
		break;
	}
	case 5:
		view_fmt_bytes(a, sizeof(a), r->dirty_bytes);
		n = fitted(snprintf(buf, len,
			"total reports %llu  dirty %s  set calls %llu  lost %llu  "
			"anomalies %llu  incomplete %llu",
			(unsigned long long)r->reports, a,
			(unsigned long long)r->set_calls,
			(unsigned long long)r->lost,
			(unsigned long long)r->anomalies,
			(unsigned long long)r->incomplete), len);
		break;
	}
	return cut(buf, n, width);
}
