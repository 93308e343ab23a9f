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

#include "text_escape.h"
#include "view.h"

static size_t fitted(int n, size_t len);

struct view_coldef {
	const char *title;
	int min, max;		/* cell width; variable columns fit their cells */
	int soft;		/* a narrow screen cuts cells to this first */
	bool right;		/* numbers are right-aligned */
};

static const struct view_coldef cols[VIEW_NCOLS] = {
	[VIEW_COL_MARK] = { "", 1, 1, 1, false },
	[VIEW_COL_DEVICE] = { "DEVICE", VIEW_NAME_MIN, MODEL_NAME_LEN - 1, 20, false },
	[VIEW_COL_PID] = { "PID", 3, 7, 7, true },
	[VIEW_COL_COMM] = { "COMM", 4, IOVA_COMM_LEN - 1, 8, false },
	[VIEW_COL_REPS] = { "REP/s", 5, 5, 5, true },	/* totals: REPORTS, 7 */
	[VIEW_COL_PAGES] = { "PG/REP", 8, 8, 8, true },
	[VIEW_COL_RATE] = { "DIRTY MiB/s", 11, 11, 11, true },
	[VIEW_COL_PCT] = { "%DIRTY", 6, 6, 6, true },
	[VIEW_COL_TREND] = { "TREND", 10, 10, 10, false },
	[VIEW_COL_HOT] = { "HOT REGION", 10, 24, 24, false },
};

/*
 * The order in which columns give way on a narrow terminal: the hot region
 * is in the header and the detail panel too; the trend, who dirties (pid,
 * comm) and how fast stay longest.
 */
static const enum view_col drop_order[] = {
	VIEW_COL_HOT, VIEW_COL_PCT, VIEW_COL_PAGES, VIEW_COL_REPS,
	VIEW_COL_COMM, VIEW_COL_PID, VIEW_COL_TREND,
};

#define NDROP	(int)(sizeof(drop_order) / sizeof(drop_order[0]))
/* columns right of the device scroll with Right/Left */
#define FIRST_SCROLL	VIEW_COL_PID

static bool utf8_ellipsis;

/*
 * Names, comm, the kernel release and the trace's name come from the trace
 * or the traced process: escaped (include/text_escape.h) before they are
 * measured or cut, so the screen and the batch view show the same safe text.
 */
#define ESC_NAME	TEXT_ESCAPED_SIZE(MODEL_NAME_LEN)
static const char *esc(char *buf, size_t len, const char *s, size_t max)
{
	text_escape(buf, len, s, max);
	return buf;
}

void view_format_utf8(bool on)
{
	utf8_ellipsis = on;
}

/* Display columns of a UTF-8 string: continuation bytes take none. */
static int text_cols(const char *t)
{
	int n = 0;

	for (; *t; t++)
		if (((unsigned char)*t & 0xc0) != 0x80)
			n++;
	return n;
}

static int clampi(int v, int lo, int hi)
{
	return v < lo ? lo : v > hi ? hi : v;
}

static int line_width(const struct view_layout *l)
{
	int c, w = 0;

	for (c = 0; c < VIEW_NCOLS; c++)
		if (l->colmask & (1u << c))
			w += l->width[c] + (w ? 1 : 0);
	return w;
}

/* Shrink column c towards floor by what the line is too wide. */
static void shrink(struct view_layout *l, int c, int floor)
{
	int over = line_width(l) - l->cols;

	if (over > 0 && l->width[c] > floor)
		l->width[c] = l->width[c] - over < floor ? floor :
			l->width[c] - over;
}

/* Grow column c towards want while the line has room. */
static void grow(struct view_layout *l, int c, int want)
{
	int room = l->cols - line_width(l);

	if (room > 0 && want > l->width[c])
		l->width[c] += want - l->width[c] < room ? want - l->width[c] : room;
}

/* The columns right of the device, from the first scrolled off: a window. */
static void fit_window(struct view_layout *l, int skip)
{
	int c;

	l->colmask = (1u << VIEW_COL_MARK) | (1u << VIEW_COL_DEVICE);
	shrink(l, VIEW_COL_DEVICE, 1);
	for (c = FIRST_SCROLL + skip; c < VIEW_NCOLS; c++) {
		l->colmask |= 1u << c;
		if (line_width(l) > l->cols) {
			l->colmask &= ~(1u << c);
			l->more_right = true;
			break;
		}
	}
}

void view_layout(struct view_layout *l, int lines, int ncols,
		 enum view_mode mode, const struct view_fit *fit, int skip)
{
	static const struct view_fit none;
	int rest, i, c, want[VIEW_NCOLS];

	memset(l, 0, sizeof(*l));
	l->lines = lines;
	l->cols = ncols;
	if (lines < VIEW_MIN_LINES || ncols < VIEW_MIN_COLS) {
		l->too_small = true;
		return;
	}
	if (!fit)
		fit = &none;
	l->totals = fit->totals;
	for (c = 0; c < VIEW_NCOLS; c++)
		want[c] = cols[c].min;
	want[VIEW_COL_DEVICE] = clampi(fit->name, cols[VIEW_COL_DEVICE].min,
				       cols[VIEW_COL_DEVICE].max);
	want[VIEW_COL_PID] = clampi(fit->pid, cols[VIEW_COL_PID].min,
				    cols[VIEW_COL_PID].max);
	want[VIEW_COL_COMM] = clampi(fit->comm, cols[VIEW_COL_COMM].min,
				     cols[VIEW_COL_COMM].max);
	want[VIEW_COL_HOT] = clampi(fit->hot, cols[VIEW_COL_HOT].min,
				    cols[VIEW_COL_HOT].max);
	if (fit->totals)
		want[VIEW_COL_REPS] = 7;	/* "REPORTS" */
	memcpy(l->width, want, sizeof(l->width));

	/* every column, cells cut to their soft width, then dropped in order */
	l->colmask = (1u << VIEW_NCOLS) - 1;
	shrink(l, VIEW_COL_DEVICE, cols[VIEW_COL_DEVICE].soft);
	shrink(l, VIEW_COL_COMM, cols[VIEW_COL_COMM].soft);
	for (i = 0; i < NDROP && line_width(l) > ncols; i++)
		l->colmask &= ~(1u << drop_order[i]);
	{
		/* Right scrolls until the last column shows */
		if (l->colmask != (1u << VIEW_NCOLS) - 1) {
			struct view_layout t = *l;

			for (i = 1; FIRST_SCROLL + i < VIEW_NCOLS; i++) {
				t.more_right = false;
				memcpy(t.width, l->width, sizeof(t.width));
				fit_window(&t, i);
				if (!t.more_right)
					break;
			}
			l->max_skip = i;
		}
	}
	l->more_right = false;
	l->skip = clampi(skip, 0, VIEW_NCOLS);
	if (l->skip > l->max_skip)
		l->skip = l->max_skip;
	if (l->skip)
		fit_window(l, l->skip);
	else
		l->more_right = l->colmask != (1u << VIEW_NCOLS) - 1;
	/* what is left over goes back to the names, then to comm */
	grow(l, VIEW_COL_DEVICE, want[VIEW_COL_DEVICE]);
	if (l->colmask & (1u << VIEW_COL_COMM))
		grow(l, VIEW_COL_COMM, want[VIEW_COL_COMM]);
	shrink(l, VIEW_COL_DEVICE, 1);

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

void view_fit_of(const struct model_snapshot *snap, const struct view_state *s,
		 struct view_fit *fit)
{
	char t[48];
	uint32_t i;
	int n;

	memset(fit, 0, sizeof(*fit));
	fit->totals = s && s->cumulative;
	for (i = 0; snap && i < snap->nrows; i++) {
		const struct model_row *r = &snap->rows[i];

		n = (int)text_escape_len(r->name, MODEL_NAME_LEN);
		fit->name = n > fit->name ? n : fit->name;
		n = snprintf(t, sizeof(t), "%u", r->pid);
		fit->pid = n > fit->pid ? n : fit->pid;
		n = (int)text_escape_len(r->comm, IOVA_COMM_LEN);
		fit->comm = n > fit->comm ? n : fit->comm;
		n = (int)view_fmt_region(t, sizeof(t), r->hot_iova, r->hot_length);
		fit->hot = n > fit->hot ? n : fit->hot;
	}
}

int view_header_extra(const struct view_meta *meta)
{
	return !!(meta && meta->forecast) + !!(meta && meta->note && meta->note[0]);
}

void view_layout_add_header(struct view_layout *l)
{
	if (l->too_small || l->rows_h < 2)
		return;
	l->header_h++;
	l->title_y++;
	l->rows_y++;
	l->rows_h--;
}

int view_name_max(const struct model_snapshot *snap)
{
	int m = 0;
	uint32_t i;

	for (i = 0; snap && i < snap->nrows; i++) {
		int n = (int)text_escape_len(snap->rows[i].name, MODEL_NAME_LEN);

		if (n > m)
			m = n;
	}
	return m;
}

size_t view_fmt_middle(char *buf, size_t len, const char *text, int width)
{
	const char *dots = utf8_ellipsis ? "\u2026" : "~";
	int n = (int)strlen(text), head, tail;

	if (!len)
		return 0;
	if (width < 0 || n <= width || width < 3)
		return fitted(snprintf(buf, len, "%.*s", width < 0 ? n : width,
				       text), len);
	/* two fifths before the ellipsis, the rest after it */
	head = (width - 1) * 2 / 5;
	tail = width - 1 - head;
	return fitted(snprintf(buf, len, "%.*s%s%s", head, text, dots,
			       text + n - tail), len);
}

int view_hottest(const struct model_snapshot *snap, bool totals)
{
	int best = -1;
	uint32_t i;

	for (i = 0; snap && i < snap->nrows; i++) {
		const struct model_row *r = &snap->rows[i];
		double v = totals ? (double)r->dirty_bytes : r->dirty_mib_s;

		if (v <= 0)
			continue;
		if (best < 0 || v > (totals ? (double)snap->rows[best].dirty_bytes :
				     snap->rows[best].dirty_mib_s))
			best = (int)i;
	}
	return best;
}

/* The model's names; on screen a device the forecast blames shouts. */
const char *view_trend_name(uint32_t trend)
{
	if (trend == MODEL_TREND_BLOCKS)
		return "BLOCKS";
	if (trend == MODEL_TREND_UNKNOWN || trend > MODEL_TREND_BLOCKS)
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
 * may run on: nothing follows it). Widths count display columns, so an
 * ellipsis of three bytes takes one.
 */
static size_t put_cell(char *buf, size_t len, size_t off, const char *text,
		       int width, bool right, bool last)
{
	int n = text_cols(text), pad = width - n;

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
	while (*text && off + 1 < len) {
		if (((unsigned char)*text & 0xc0) != 0x80 && n-- <= 0)
			break;
		buf[off++] = *text++;
	}
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
				*width = l->width[c];
			return x;
		}
		x += l->width[c] + 1;
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
 * view underlines its column (view_sort_col()). The mark column holds '<'
 * when columns are scrolled off to the left, and a '>' closes the line
 * when some did not fit on the right: Right and Left show them.
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
		if (c == VIEW_COL_MARK && l->skip)
			t = "<";
		/* cumulative: what the cells hold since the start */
		if (l->totals && c == VIEW_COL_REPS)
			t = "REPORTS";
		if (l->totals && c == VIEW_COL_RATE)
			t = "DIRTY MiB";
		if (off)
			off = put_cell(buf, len, off, " ", 1, false, false);
		off = put_cell(buf, len, off, t, l->width[c], cols[c].right,
			       c == last);
	}
	if (l->more_right && (int)off + 2 <= l->cols) {
		while ((int)off < l->cols - 1 && off + 1 < len)
			buf[off++] = ' ';
		off = put_cell(buf, len, off, ">", 1, false, true);
	}
	return off;
}

size_t view_format_row(char *buf, size_t len, const struct view_layout *l,
		       const struct model_row *r, bool hottest)
{
	char cell[ESC_NAME], e[ESC_NAME];
	int last = last_col(l);
	size_t off = 0;
	int c;
	/*
	 * No report this interval: the last report's figures are not its
	 * own. With totals, a device always has its means (or none yet).
	 */
	bool idle = l->totals ? !r->reports : r->reports_per_s <= 0;

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
			view_fmt_middle(cell, sizeof(cell),
					esc(e, sizeof(e), r->name, MODEL_NAME_LEN),
					l->width[c]);
			break;
		case VIEW_COL_PID:
			/* 0: the report ran where the tracer saw no task */
			if (r->pid)
				snprintf(cell, sizeof(cell), "%u", r->pid);
			else
				snprintf(cell, sizeof(cell), "-");
			break;
		case VIEW_COL_COMM:
			/* a process name reads from its start */
			esc(e, sizeof(e), r->comm, IOVA_COMM_LEN);
			if ((int)strlen(e) > l->width[c] && l->width[c] > 1)
				snprintf(cell, sizeof(cell), "%.*s%s", l->width[c] - 1,
					 e, utf8_ellipsis ? "\u2026" : "~");
			else
				snprintf(cell, sizeof(cell), "%s", e[0] ? e : "?");
			break;
		case VIEW_COL_REPS:
			if (l->totals)
				snprintf(cell, sizeof(cell), "%llu",
					 (unsigned long long)r->reports);
			else
				snprintf(cell, sizeof(cell), "%.1f", r->reports_per_s);
			break;
		case VIEW_COL_PAGES:
			if (idle)
				snprintf(cell, sizeof(cell), "-");
			else if (l->totals)
				snprintf(cell, sizeof(cell), "%.0f",
					 (double)r->dirty_pages_total / (double)r->reports);
			else
				snprintf(cell, sizeof(cell), "%llu",
					 (unsigned long long)r->dirty_pages_last);
			break;
		case VIEW_COL_RATE:
			if (l->totals)
				snprintf(cell, sizeof(cell), "%.1f",
					 (double)r->dirty_bytes / (1 << 20));
			else
				snprintf(cell, sizeof(cell), "%.1f", r->dirty_mib_s);
			break;
		case VIEW_COL_PCT:
			if (idle || (l->totals && !r->bitmap_pages_total))
				snprintf(cell, sizeof(cell), "-");
			else if (l->totals)
				snprintf(cell, sizeof(cell), "%.1f", 100.0 *
					 (double)r->dirty_pages_total /
					 (double)r->bitmap_pages_total);
			else
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
		off = put_cell(buf, len, off, cell, l->width[c], cols[c].right,
			       c == last);
	}
	return off;
}

bool view_group_starts(const struct model_snapshot *snap, int idx, int top)
{
	return idx == top || idx <= 0 ||
	       snap->rows[idx].pid != snap->rows[idx - 1].pid;
}

size_t view_format_group(char *buf, size_t len, const struct view_layout *l,
			 const struct model_snapshot *snap, int idx)
{
	struct model_row g;
	int a = idx, b = idx, k, x, w;
	size_t n;

	if (len)
		buf[0] = '\0';
	if (!snap || idx < 0 || idx >= (int)snap->nrows)
		return 0;
	while (a > 0 && snap->rows[a - 1].pid == snap->rows[idx].pid)
		a--;
	while (b + 1 < (int)snap->nrows && snap->rows[b + 1].pid == snap->rows[idx].pid)
		b++;
	memset(&g, 0, sizeof(g));
	snprintf(g.name, sizeof(g.name), "= %d device%s", b - a + 1,
		 b > a ? "s" : "");
	g.pid = snap->rows[idx].pid;
	memcpy(g.comm, snap->rows[idx].comm, sizeof(g.comm));
	for (k = a; k <= b; k++) {
		g.reports_per_s += snap->rows[k].reports_per_s;
		g.dirty_mib_s += snap->rows[k].dirty_mib_s;
		g.reports += snap->rows[k].reports;
		g.dirty_bytes += snap->rows[k].dirty_bytes;
	}
	n = view_format_row(buf, len, l, &g, false);
	/* per-report figures, trend and region belong to devices, not sums */
	for (k = 0; k < VIEW_NCOLS; k++) {
		if (k != VIEW_COL_PAGES && k != VIEW_COL_PCT &&
		    k != VIEW_COL_TREND && k != VIEW_COL_HOT)
			continue;
		x = view_col_x(l, (enum view_col)k, &w);
		while (x >= 0 && w-- > 0 && (size_t)x < n)
			buf[x++] = ' ';
	}
	while (n && buf[n - 1] == ' ')
		buf[--n] = '\0';
	return n;
}

/* Cut a finished line to the screen width, in display columns. */
static size_t cut(char *buf, size_t n, int width)
{
	size_t i;
	int c = 0;

	if (width < 0)
		return n;
	for (i = 0; i < n; i++) {
		if (((unsigned char)buf[i] & 0xc0) != 0x80 && c++ == width) {
			buf[i] = '\0';
			return i;
		}
	}
	return n;
}

/*
 * Fields joined by two spaces, each whole or not at all: one that does not
 * fit in width columns (-1: no limit) is left out and the next is tried,
 * so a narrow screen loses details, never half a word. With prio, fields
 * are chosen lowest prio first and shown in their order.
 */
static size_t join_prio(char *buf, size_t len, int width,
			const char *const *f, const int *prio, int n)
{
	bool take[16] = { false };
	size_t off = strlen(buf);
	int used = text_cols(buf), i, p, w, maxp = 0;
	/* a caller's indent ends in a blank: no separator after it */
	bool sep0 = off && buf[off - 1] != ' ';

	if (n > 16)
		n = 16;
	for (i = 0; i < n; i++)
		if (prio && prio[i] > maxp)
			maxp = prio[i];
	for (p = 0; p <= maxp; p++) {
		for (i = 0; i < n; i++) {
			if ((prio ? prio[i] : 0) != p || !f[i] || !f[i][0])
				continue;
			w = text_cols(f[i]) + (used > text_cols(buf) || sep0 ? 2 : 0);
			if (width >= 0 && used + w > width)
				continue;
			take[i] = true;
			used += w;
		}
	}
	for (i = 0; i < n; i++) {
		bool sep = off && buf[off - 1] != ' ';

		if (!take[i])
			continue;
		off += fitted(snprintf(buf + off, len - off, "%s%s",
				       sep ? "  " : "", f[i]), len - off);
	}
	return off;
}

static size_t join(char *buf, size_t len, int width, const char *const *f,
		   int n)
{
	return join_prio(buf, len, width, f, NULL, n);
}

/* Sum of the shown rows' rates: what the rows beside it add up to. */
static double shown_mib_s(const struct model_snapshot *snap)
{
	double v = 0;
	uint32_t i;

	for (i = 0; i < snap->nrows; i++)
		v += snap->rows[i].dirty_mib_s;
	return v;
}

size_t view_format_header(char *buf, size_t len, int line,
			  const struct view_meta *meta,
			  const struct view_state *s,
			  const struct model_snapshot *snap, int width)
{
	char f[10][ESC_NAME + 16], e[ESC_NAME];
	const char *fp[10];
	int prio[10] = { 0 };
	double t = 0;
	int hot, i, nf = 0;

	if (!len)
		return 0;
	buf[0] = '\0';
	for (i = 0; i < 10; i++) {
		f[i][0] = '\0';
		fp[i] = f[i];
	}
	if (snap && meta && snap->now_ns >= meta->t0_ns)
		t = (double)(snap->now_ns - meta->t0_ns) / 1e9;

	if (line >= VIEW_HEADER_LINES) {
		/* the forecast's line first, then the note's */
		const char *extra[2] = { NULL, NULL };
		int n = 0;

		if (meta && meta->forecast)
			extra[n++] = meta->forecast;
		if (meta && meta->note && meta->note[0])
			extra[n++] = meta->note;
		if (line - VIEW_HEADER_LINES >= n)
			return 0;
		/* they name devices and carry a file's text: escaped */
		return cut(buf, text_escape(buf, len,
					    extra[line - VIEW_HEADER_LINES],
					    SIZE_MAX),
			   width);
	}
	switch (line) {
	case 0: {
		const char *tail[3] = {
			meta && meta->kernel ? meta->kernel : "?",
			meta && meta->probe ? meta->probe : "?",
			meta && meta->layout ? meta->layout : "?",
		};
		char clock[16] = "";

		/* the wall clock of the boundary, to line up with other logs */
		if (snap && meta && meta->wall_offset_ns) {
			int64_t wall = (int64_t)snap->now_ns + meta->wall_offset_ns;
			/* boundaries sit on whole seconds of one clock: round */
			time_t secs = (time_t)((wall + 500000000) / 1000000000);
			struct tm tm;

			if (wall > 0 && localtime_r(&secs, &tm))
				strftime(clock, sizeof(clock), "%H:%M:%S", &tm);
		}
		/* what is going on first: a narrow screen loses the details */
		snprintf(f[nf], sizeof(f[0]), "iovatop");
		prio[nf++] = 0;
		snprintf(f[nf], sizeof(f[0]), "%s", clock);
		prio[nf++] = 3;
		snprintf(f[nf], sizeof(f[0]), "%s%.64s",
			 meta && meta->live ? "live" : "replay ",
			 meta && !meta->live && meta->source ?
				 esc(e, sizeof(e), meta->source, SIZE_MAX) : "");
		prio[nf++] = 4;
		snprintf(f[nf], sizeof(f[0]), "+%.3fs", t);
		prio[nf++] = 1;
		snprintf(f[nf], sizeof(f[0]), "%s", s && s->paused ? "[paused]" : "");
		prio[nf++] = 2;
		snprintf(f[nf], sizeof(f[0]), "%s%s",
			 meta && meta->at_end ? "[end of trace]" : "",
			 meta && meta->trace_incomplete ?
			 (meta->at_end ? "  [trace cut short]" : "[trace cut short]") : "");
		prio[nf++] = 1;
		if (s && s->replay && meta && meta->paced) {
			snprintf(f[nf], sizeof(f[0]), "speed x%g", s->speed);
			prio[nf++] = 5;
		}
		/* live: how full the ring buffer is, and was at its fullest */
		if (meta && meta->ring && meta->ring->size_bytes) {
			snprintf(f[nf], sizeof(f[0]), "ring %.0f%% peak %.0f%%",
				 100 * ring_fill_ratio(meta->ring, meta->ring->now_bytes),
				 100 * ring_fill_ratio(meta->ring, meta->ring->peak_bytes));
			prio[nf++] = 5;
		}
		snprintf(f[nf], sizeof(f[0]), "kernel %.80s",
			 esc(e, sizeof(e), tail[0], MODEL_NAME_LEN));
		prio[nf++] = 6;
		snprintf(f[nf], sizeof(f[0]), "probe %.80s",
			 esc(e, sizeof(e), tail[1], MODEL_NAME_LEN));
		prio[nf++] = 7;
		snprintf(f[nf], sizeof(f[0]), "layout %.80s",
			 esc(e, sizeof(e), tail[2], MODEL_NAME_LEN));
		prio[nf++] = 8;
		return cut(buf, join_prio(buf, len, width, fp, prio, nf), width);
	}
	case 1: {
		bool filtered;
		double shown;
		size_t n;

		if (!snap)
			break;
		filtered = snap->nrows < snap->ndevices;
		shown = shown_mib_s(snap);
		snprintf(f[nf++], sizeof(f[0]), "devices %u (%u shown)",
			 snap->ndevices, snap->nrows);
		/* the rate of the rows below, of all when a filter hides some */
		if (s && s->cumulative) {
			double mib = 0, secs = snap->now_ns > snap->start_ns ?
				(double)(snap->now_ns - snap->start_ns) / 1e9 : 0;
			uint32_t i;

			for (i = 0; i < snap->nrows; i++)
				mib += (double)snap->rows[i].dirty_bytes / (1 << 20);
			snprintf(f[nf++], sizeof(f[0]), "dirty %.1f MiB in %.1fs",
				 mib, secs);
		} else if (filtered)
			snprintf(f[nf++], sizeof(f[0]), "dirty %.1f of %.1f MiB/s",
				 shown, snap->dirty_mib_s);
		else
			snprintf(f[nf++], sizeof(f[0]), "dirty %.1f MiB/s", shown);
		snprintf(f[nf++], sizeof(f[0]), "reports %llu",
			 (unsigned long long)snap->reports);
		snprintf(f[nf++], sizeof(f[0]), "lost %llu",
			 (unsigned long long)snap->lost);
		snprintf(f[nf++], sizeof(f[0]), "anomalies %llu",
			 (unsigned long long)snap->anomalies);
		snprintf(f[nf++], sizeof(f[0]), "incomplete %llu",
			 (unsigned long long)snap->incomplete);
		n = join(buf, len, -1, fp, nf);
		if (width < 0 || (int)n <= width)
			return n;
		/* short: "devices 1/4", and counters at zero say nothing */
		buf[0] = '\0';
		if (filtered)
			snprintf(f[0], sizeof(f[0]), "devices %u/%u", snap->nrows,
				 snap->ndevices);
		else
			snprintf(f[0], sizeof(f[0]), "devices %u", snap->ndevices);
		if (!snap->anomalies)
			f[nf - 2][0] = '\0';
		if (!snap->incomplete)
			f[nf - 1][0] = '\0';
		break;
	}
	case 2: {
		char region[48], name[ESC_NAME];
		double hidden;

		bool totals = s && s->cumulative;

		hot = view_hottest(snap, totals);
		if (hot >= 0) {
			const struct model_row *r = &snap->rows[hot];
			int nw = width < 0 ? -1 : width - 54 < 24 ? 24 : width - 54;

			view_fmt_middle(name, sizeof(name),
					esc(e, sizeof(e), r->name, MODEL_NAME_LEN), nw);
			view_fmt_region(region, sizeof(region), r->hot_iova,
					r->hot_length);
			snprintf(f[nf++], sizeof(f[0]), "hottest %s", name);
			if (totals)
				snprintf(f[nf++], sizeof(f[0]), "%.1f MiB since the start",
					 (double)r->dirty_bytes / (1 << 20));
			else
				snprintf(f[nf++], sizeof(f[0]), "%.1f MiB/s",
					 r->dirty_mib_s);
			snprintf(f[nf++], sizeof(f[0]), "in %s", region);
		} else if (totals) {
			snprintf(f[nf++], sizeof(f[0]), "hottest -");
			snprintf(f[nf++], sizeof(f[0]), "no dirty pages since the start");
		} else if (snap && snap->dirty_mib_s > 0 &&
			   (hidden = snap->dirty_mib_s - shown_mib_s(snap)) > 0) {
			snprintf(f[nf++], sizeof(f[0]), "hottest -");
			snprintf(f[nf++], sizeof(f[0]),
				 "no shown device dirtied pages (the filter hides %.1f MiB/s)",
				 hidden);
		} else {
			snprintf(f[nf++], sizeof(f[0]), "hottest -");
			snprintf(f[nf++], sizeof(f[0]), "no dirty pages this interval");
		}
		if (s) {
			snprintf(f[nf++], sizeof(f[0]), "sort %s%s",
				 view_sort_name(s->sort),
				 s->reverse ? " (reversed)" : "");
			if (s->cumulative)
				snprintf(f[nf++], sizeof(f[0]), "cumulative");
			if (s->group)
				snprintf(f[nf++], sizeof(f[0]), "by process");
			if (s->filter[0])
				snprintf(f[nf++], sizeof(f[0]), "filter \"%.80s\"",
					 esc(e, sizeof(e), s->filter, VIEW_FILTER_LEN));
		}
		break;
	}
	}
	return cut(buf, join(buf, len, width, fp, nf), width);
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
	case 0: {
		char name[ESC_NAME], e[ESC_NAME], f[4][80];
		const char *fp[5] = { name, f[0], f[1], f[2], f[3] };

		/* the name says the path ("vfio ...", "iommufd hwpt ...") */
		view_fmt_middle(name, sizeof(name),
				esc(e, sizeof(e), r->name, MODEL_NAME_LEN),
				width < 0 ? -1 : width / 2 < 12 ? 12 : width / 2);
		if (r->pid)
			snprintf(f[0], sizeof(f[0]), "pid %u %.64s", r->pid,
				 esc(e, sizeof(e), r->comm, IOVA_COMM_LEN));
		else
			snprintf(f[0], sizeof(f[0]), "task unknown");
		view_fmt_region(a, sizeof(a), r->tracked_iova, r->tracked_length);
		snprintf(f[1], sizeof(f[1]), "tracked %s", a);
		view_fmt_bytes(b, sizeof(b), r->page_size);
		snprintf(f[2], sizeof(f[2]), "page %s", b);
		snprintf(f[3], sizeof(f[3]), "trend %s", view_trend_name(r->trend));
		n = join(buf, len, width, fp, 5);
		break;
	}
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
		/* the hot region on the axis of the heat above, in the middle */
		{
			char hot[64];
			int lh = (int)view_fmt_region(b, sizeof(b), r->hot_iova,
						      r->hot_length);

			lh = snprintf(hot, sizeof(hot), "hot region %s", b);
			if (r->hot_length && la + lh + lb + 4 <= w + 2 &&
			    (size_t)n < len) {
				int x = VIEW_DETAIL_LABEL_W + la +
					(w + 2 - la - lb - lh) / 2;

				memcpy(buf + x, hot, (size_t)lh);
			}
		}
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
		char f[4][80];
		const char *fp[4] = { f[0], f[1], f[2], f[3] };

		for (j = 0; j < nh; j++)
			if (r->history[j] > mx)
				mx = r->history[j];
		/* what the sparkline above plots: one cell per iteration */
		snprintf(f[0], sizeof(f[0]), "dirty pages per iteration, last %u:", nh);
		snprintf(f[1], sizeof(f[1]), "max %llu", (unsigned long long)mx);
		snprintf(f[2], sizeof(f[2]), "now %llu", (unsigned long long)last);
		f[3][0] = '\0';	/* the hot region is on the heat's axis */
		n = fitted(snprintf(buf, len, "%*s", VIEW_DETAIL_LABEL_W, ""), len);
		n = join(buf, len, width, fp, 4);
		break;
	}
	case 5: {
		char f[6][64];
		const char *fp[6] = { f[0], f[1], f[2], f[3], f[4], f[5] };

		view_fmt_bytes(a, sizeof(a), r->dirty_bytes);
		snprintf(f[0], sizeof(f[0]), "total reports %llu",
			 (unsigned long long)r->reports);
		snprintf(f[1], sizeof(f[1]), "dirty %s", a);
		snprintf(f[2], sizeof(f[2]), "set calls %llu",
			 (unsigned long long)r->set_calls);
		snprintf(f[3], sizeof(f[3]), "lost %llu", (unsigned long long)r->lost);
		snprintf(f[4], sizeof(f[4]), "anomalies %llu",
			 (unsigned long long)r->anomalies);
		snprintf(f[5], sizeof(f[5]), "incomplete %llu",
			 (unsigned long long)r->incomplete);
		n = join(buf, len, width, fp, 6);
		break;
	}
	}
	return cut(buf, n, width);
}
