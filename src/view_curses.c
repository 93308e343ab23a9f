// SPDX-License-Identifier: GPL-2.0
/*
 * view_curses.c - the ncurses screen. It draws a model snapshot and
 * nothing else: the text comes from view_format.c (the same the batch view
 * prints), this file adds only positions and attributes. No allocation
 * and no I/O besides curses output in the draw path; messages raised while
 * curses owns the terminal are queued and printed after endwin().
 */
#include <curses.h>
#include <errno.h>
#include <langinfo.h>
#include <locale.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli_util.h"
#include "view.h"

enum {
	PAIR_HOT = 1,		/* the hottest device */
	PAIR_TITLE,		/* column titles, footer */
	PAIR_BAD,		/* a device that blocks, losses */
	PAIR_HEAT0,		/* heat levels, coolest first */
};

#define HEAT_COLOURS	5
#define LINE_MAX_W	1024

struct view_curses {
	SCREEN *screen;
	FILE *in;
	bool colour;
	bool utf8;
};

/* Messages queued while curses owns the terminal. */
static struct {
	bool active;
	size_t len;
	unsigned int dropped;
	char buf[8192];
} msgq;

void view_msg(const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	if (!msgq.active) {
		vfprintf(stderr, fmt, ap);
		va_end(ap);
		return;
	}
	n = vsnprintf(msgq.buf + msgq.len, sizeof(msgq.buf) - msgq.len, fmt, ap);
	va_end(ap);
	if (n < 0 || msgq.len + (size_t)n >= sizeof(msgq.buf)) {
		msgq.buf[msgq.len] = '\0';	/* keep whole messages only */
		msgq.dropped++;
		return;
	}
	msgq.len += (size_t)n;
}

static void msgq_flush(void)
{
	msgq.active = false;
	if (msgq.len)
		fputs(msgq.buf, stderr);
	if (msgq.dropped)
		fprintf(stderr, "%s: %u more messages did not fit in the queue.\n", cli_name,
			msgq.dropped);
	msgq.len = 0;
	msgq.dropped = 0;
	msgq.buf[0] = '\0';
}

struct view_curses *view_curses_open(FILE *out, FILE *in, const char *term,
				     char *err, size_t errlen)
{
	static struct view_curses vc;	/* one screen per process */
	const char *cs;

	if (vc.screen) {
		snprintf(err, errlen, "the curses view is already open.");
		return NULL;
	}
	/* the locale decides whether block characters can be drawn */
	setlocale(LC_CTYPE, "");
	cs = nl_langinfo(CODESET);
	vc.utf8 = cs && !strcmp(cs, "UTF-8");
	if (!getenv("ESCDELAY"))
		set_escdelay(25);	/* Esc should not wait a second */
	vc.screen = newterm(term, out, in);
	if (!vc.screen) {
		snprintf(err, errlen,
			 "cannot start the screen on terminal type '%s'; set TERM to one terminfo knows (e.g. xterm-256color) or use -b.",
			 term ? term : (getenv("TERM") ? getenv("TERM") : "(unset)"));
		return NULL;
	}
	vc.in = in;
	set_term(vc.screen);
	cbreak();
	noecho();
	nonl();
	keypad(stdscr, TRUE);
	nodelay(stdscr, TRUE);
	curs_set(0);
	/* https://no-color.org: present and not empty turns colour off */
	vc.colour = has_colors() && !(getenv("NO_COLOR") && *getenv("NO_COLOR"));
	view_format_utf8(vc.utf8);
	if (vc.colour) {
		start_color();
		use_default_colors();
		init_pair(PAIR_HOT, COLOR_RED, -1);
		init_pair(PAIR_TITLE, COLOR_BLACK, COLOR_CYAN);
		init_pair(PAIR_BAD, COLOR_RED, -1);
		init_pair(PAIR_HEAT0 + 0, COLOR_BLUE, -1);
		init_pair(PAIR_HEAT0 + 1, COLOR_CYAN, -1);
		init_pair(PAIR_HEAT0 + 2, COLOR_GREEN, -1);
		init_pair(PAIR_HEAT0 + 3, COLOR_YELLOW, -1);
		init_pair(PAIR_HEAT0 + 4, COLOR_RED, -1);
	}
	msgq.active = true;
	return &vc;
}

void view_curses_close(struct view_curses *vc)
{
	if (vc && vc->screen) {
		endwin();
		delscreen(vc->screen);
		vc->screen = NULL;
	}
	msgq_flush();
}

int view_curses_key(struct view_curses *vc)
{
	int ch;

	(void)vc;
	ch = getch();
	return ch == ERR ? -1 : ch;
}

int view_curses_fd(const struct view_curses *vc)
{
	return fileno(vc->in);
}

/*
 * A line the format functions fitted to maxw display columns; an ellipsis
 * takes three bytes and one column, so the byte limit is the string's.
 */
static void put(int y, int x, const char *s, int maxw)
{
	int n = 0, c = 0;

	while (s[n] && (c < maxw || ((unsigned char)s[n] & 0xc0) == 0x80))
		if (((unsigned char)s[n++] & 0xc0) != 0x80)
			c++;
	if (n > 0)
		mvaddnstr(y, x, s, n);
}

/* Colour, or a plain attribute where the terminal has none. */
static attr_t attr_of(const struct view_curses *vc, int pair, attr_t mono)
{
	return vc->colour ? (attr_t)COLOR_PAIR(pair) : mono;
}

static void draw_titles(struct view_curses *vc, const struct view_layout *l,
			const struct view_state *s)
{
	char line[LINE_MAX_W];
	int x, w;

	view_format_titles(line, sizeof(line), l, s);
	attron(attr_of(vc, PAIR_TITLE, A_REVERSE));
	mvhline(l->title_y, 0, ' ', l->cols);
	put(l->title_y, 0, line, l->cols);
	/* the sort column stands out */
	x = view_col_x(l, view_sort_col(s->sort), &w);
	if (x >= 0 && x < l->cols)
		mvchgat(l->title_y, x, w, A_BOLD | A_UNDERLINE,
			vc->colour ? PAIR_TITLE : 0, NULL);
	attroff(attr_of(vc, PAIR_TITLE, A_REVERSE));
}

static void draw_rows(struct view_curses *vc, const struct view_layout *l,
		      const struct view_state *s,
		      const struct model_snapshot *snap)
{
	char line[LINE_MAX_W];
	int hot = view_hottest(snap, s && s->cumulative);
	int i, idx, x, w;
	attr_t bold;

	if (!snap || !snap->nrows) {
		put(l->rows_y, 2, snap && snap->ndevices ?
		    "no device matches the filter" :
		    "no dirty tracking seen yet: no vfio or iommufd report so far",
		    l->cols - 2);
		return;
	}
	for (i = 0, idx = s->top; i < l->rows_h; i++, idx++) {
		const struct model_row *r;
		int y = l->rows_y + i;

		if (idx < 0 || idx >= (int)snap->nrows)
			break;
		if (s->group && view_group_starts(snap, idx, s->top)) {
			/* the process's total line heads its devices */
			view_format_group(line, sizeof(line), l, snap, idx);
			attron(A_BOLD);
			put(y, 0, line, l->cols);
			attroff(A_BOLD);
			if (++i >= l->rows_h)
				break;
			y++;
		}
		r = &snap->rows[idx];
		view_format_row(line, sizeof(line), l, r, idx == hot);
		if (idx == s->selected) {
			attron(A_REVERSE);
			mvhline(y, 0, ' ', l->cols);
		}
		put(y, 0, line, l->cols);
		bold = A_BOLD | (idx == s->selected ? A_REVERSE : 0);
		if (idx == hot) {
			/* the name and the rate of the hottest device, in red */
			x = view_col_x(l, VIEW_COL_DEVICE, &w);
			if (x >= 0 && x < l->cols)
				mvchgat(y, 0, x + w, bold, vc->colour ? PAIR_HOT : 0,
					NULL);
			x = view_col_x(l, VIEW_COL_RATE, &w);
			if (x >= 0 && x < l->cols)
				mvchgat(y, x, w, bold, vc->colour ? PAIR_HOT : 0, NULL);
		}
		if (r->trend == MODEL_TREND_BLOCKS) {
			x = view_col_x(l, VIEW_COL_TREND, &w);
			if (x >= 0 && x < l->cols)
				mvchgat(y, x, w, bold, vc->colour ? PAIR_BAD : 0, NULL);
		}
		if (idx == s->selected)
			attroff(A_REVERSE);
	}
}

/* Block characters for the sparkline when the terminal speaks UTF-8. */
static const char *const blocks[] = {
	"\u2581", "\u2582", "\u2583", "\u2584", "\u2585", "\u2586", "\u2587", "\u2588",
};

#define NBLOCKS		((int)(sizeof(blocks) / sizeof(blocks[0])))
/* where the heatmap and sparkline cells start in their detail lines */
#define CELLS_X		(VIEW_DETAIL_LABEL_W + 1)

static void draw_detail(struct view_curses *vc, const struct view_layout *l,
			const struct view_state *s,
			const struct model_snapshot *snap)
{
	const struct model_row *r = NULL;
	char line[LINE_MAX_W];
	uint8_t lv[LINE_MAX_W];
	int i, k, n, w, y;

	if (!l->detail_h)
		return;
	if (snap && s->selected >= 0 && s->selected < (int)snap->nrows)
		r = &snap->rows[s->selected];
	/*
	 * Line drawing only where the locale is UTF-8: a serial console (make
	 * demo) may not switch character sets, and shows 'qqqq' instead.
	 */
	attron(A_BOLD);
	mvhline(l->detail_y, 0, vc->utf8 ? ACS_HLINE : '-', l->cols);
	attroff(A_BOLD);
	for (i = 0; i < l->detail_h; i++) {
		y = l->detail_y + i;
		view_format_detail(line, sizeof(line), i, r, l->cols);
		if (i == 0) {
			attron(A_BOLD);
			put(y, 1, line, l->cols - 1);
			attroff(A_BOLD);
			continue;
		}
		put(y, 0, line, l->cols);
		if (!r)
			continue;
		/* the cells between "label|" and the closing '|' */
		w = (int)strlen(line) - (CELLS_X + 1);
		if (w <= 0 || w > LINE_MAX_W)
			continue;
		if (i == 1 && vc->colour) {
			/* colour the heat cells by level: blue cool, red hot */
			view_heat_levels(r->heat, MODEL_HEAT_BUCKETS, w, lv,
					 VIEW_HEAT_LEVELS);
			for (k = 0; k < w; k++) {
				if (!lv[k])
					continue;
				mvchgat(y, CELLS_X + k, 1,
					lv[k] >= VIEW_HEAT_LEVELS - 1 ? A_BOLD : 0,
					PAIR_HEAT0 + (lv[k] - 1) * HEAT_COLOURS /
					(VIEW_HEAT_LEVELS - 1), NULL);
			}
		} else if (i == 3 && vc->utf8) {
			n = view_spark_levels(r->history, (int)r->nhistory, w, lv,
					      NBLOCKS);
			for (k = 0; k < n; k++)
				mvaddstr(y, CELLS_X + k, blocks[lv[k]]);
		}
	}
}

static void draw_help(const struct view_layout *l, const struct view_state *s)
{
	char line[256];
	unsigned int i;
	int y = l->rows_y;

	put(l->title_y, 0, "keys (the footer lists those of the current screen)",
	    l->cols);
	for (i = 0; y < l->footer_y; i++, y++) {
		if (!view_help_line(s, i, line, sizeof(line)))
			break;
		put(y, 0, line, l->cols);
	}
}

void view_curses_draw(struct view_curses *vc, struct view_state *s,
		      const struct view_meta *meta,
		      const struct model_snapshot *snap, bool clear)
{
	char line[LINE_MAX_W];
	struct view_layout l;
	struct view_fit fit;
	int lines, cols, i;

	if (!vc || !vc->screen)
		return;
	getmaxyx(stdscr, lines, cols);
	if (clear)
		clearok(curscr, TRUE);
	erase();
	view_fit_of(snap, s, &fit);
	view_layout(&l, lines, cols,
		    s->mode == VIEW_HELP || s->mode == VIEW_FILTER ||
		    s->mode == VIEW_INTERVAL ? s->back :
		    s->mode, &fit, s->hscroll);
	for (i = 0; i < view_header_extra(meta); i++)
		view_layout_add_header(&l);
	if (l.too_small) {
		snprintf(line, sizeof(line), "terminal too small: %dx%d, need %dx%d",
			 cols, lines, VIEW_MIN_COLS, VIEW_MIN_LINES);
		if (lines > 0)
			put(0, 0, line, cols);
		refresh();
		return;
	}
	s->page = l.rows_h;
	if (s->group && snap) {
		/* a total line per process shares the rows' lines */
		uint32_t k, groups = 0;

		for (k = 0; k < snap->nrows; k++)
			groups += view_group_starts(snap, (int)k, 0);
		s->page = l.rows_h - (int)groups > 1 ? l.rows_h - (int)groups : 1;
	}
	s->hscroll = l.skip;	/* Right past the last column stops there */
	view_state_sync(s, snap);

	for (i = 0; i < l.header_h; i++) {
		view_format_header(line, sizeof(line), i, meta, s, snap, cols);
		if (i == 0)
			attron(A_BOLD);
		put(l.header_y + i, 0, line, cols);
		if (i == 0)
			attroff(A_BOLD);
	}
	/* the forecast line, red when the migration cannot converge */
	if (meta && meta->forecast && l.header_h > VIEW_HEADER_FORECAST &&
	    strstr(meta->forecast, "CANNOT"))
		mvchgat(l.header_y + VIEW_HEADER_FORECAST, 0, -1, A_BOLD,
			vc->colour ? PAIR_BAD : 0, NULL);
	if (snap && snap->lost && l.header_h > 1)
		mvchgat(l.header_y + 1, 0, -1, A_BOLD, vc->colour ? PAIR_BAD : 0,
			NULL);
	if (s->mode == VIEW_HELP) {
		draw_help(&l, s);
	} else {
		draw_titles(vc, &l, s);
		draw_rows(vc, &l, s, snap);
		draw_detail(vc, &l, s, snap);
	}
	view_footer(s, line, sizeof(line), cols);
	attron(attr_of(vc, PAIR_TITLE, A_REVERSE));
	mvhline(l.footer_y, 0, ' ', cols);
	put(l.footer_y, 0, line, cols);
	attroff(attr_of(vc, PAIR_TITLE, A_REVERSE));
	refresh();
}
