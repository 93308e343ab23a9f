// SPDX-License-Identifier: GPL-2.0
/*
 * view_keys.c - the key table. Each key maps to an action that changes the
 * view state and returns VIEW_R_* flags saying what the caller should do
 * (draw, re-snapshot, quit ...). Actions never draw and need no terminal:
 * tests/test_view_keys.c drives them directly.
 */
#include <curses.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "view.h"

#define KEY_CTRL(c)	((c) & 0x1f)
#define KEY_ESC		27
#define KEY_DEL		127

#define M(mode)		(1u << (mode))
#define M_TABLE		(M(VIEW_LIST) | M(VIEW_DETAIL))
#define M_ALL		(M_TABLE | M(VIEW_HELP) | M(VIEW_FILTER) | M(VIEW_INTERVAL))

typedef unsigned int (*view_action_fn)(struct view_state *s, int key);

struct view_keydef {
	int key;
	unsigned int modes;	/* M(VIEW_*) where the key is bound */
	bool replay_only;	/* step and speed only mean something in replay */
	view_action_fn fn;
	const char *label;	/* footer text, NULL on the aliases */
	const char *help;	/* help screen text, NULL on the aliases */
	const char *foot;	/* footer word, NULL when not in the footer */
};

/* Left to right as the columns appear, for '<' and '>'. */
static const enum model_sort sort_by_column[] = {
	MODEL_SORT_NAME, MODEL_SORT_REPORTS, MODEL_SORT_DIRTY, MODEL_SORT_RATE,
	MODEL_SORT_PCT,
};

/* 's' cycles from the most to the least telling key. */
static const enum model_sort sort_cycle[] = {
	MODEL_SORT_RATE, MODEL_SORT_DIRTY, MODEL_SORT_PCT, MODEL_SORT_REPORTS,
	MODEL_SORT_NAME,
};

#define NSORT	(int)(sizeof(sort_cycle) / sizeof(sort_cycle[0]))

/*
 * Moving the selection by index forgets the name; view_state_sync() takes
 * the name of whatever row the index lands on.
 */
static unsigned int select_to(struct view_state *s, int idx)
{
	if (s->nrows <= 0) {
		s->selected = -1;
		return VIEW_R_DRAW;
	}
	if (idx < 0)
		idx = 0;
	if (idx >= s->nrows)
		idx = s->nrows - 1;
	s->selected = idx;
	s->sel_name[0] = '\0';
	if (s->selected < s->top)
		s->top = s->selected;
	if (s->page > 0 && s->selected >= s->top + s->page)
		s->top = s->selected - s->page + 1;
	return VIEW_R_DRAW;
}

static unsigned int act_quit(struct view_state *s, int key)
{
	(void)s;
	(void)key;
	return VIEW_R_QUIT;
}

static unsigned int act_up(struct view_state *s, int key)
{
	(void)key;
	return select_to(s, s->selected - 1);
}

static unsigned int act_down(struct view_state *s, int key)
{
	(void)key;
	return select_to(s, s->selected < 0 ? 0 : s->selected + 1);
}

static unsigned int act_page_up(struct view_state *s, int key)
{
	(void)key;
	return select_to(s, s->selected - (s->page > 1 ? s->page - 1 : 1));
}

static unsigned int act_page_down(struct view_state *s, int key)
{
	(void)key;
	return select_to(s, s->selected + (s->page > 1 ? s->page - 1 : 1));
}

static unsigned int act_home(struct view_state *s, int key)
{
	(void)key;
	return select_to(s, 0);
}

static unsigned int act_end(struct view_state *s, int key)
{
	(void)key;
	return select_to(s, s->nrows - 1);
}

/*
 * Right scrolls the table's columns right of the device one to the left,
 * so those that did not fit come in; the draw clamps it at the last one.
 */
static unsigned int act_scroll(struct view_state *s, int key)
{
	if (key == KEY_LEFT) {
		if (!s->hscroll)
			return 0;
		s->hscroll--;
	} else {
		s->hscroll++;
	}
	return VIEW_R_DRAW;
}

/* 'c': figures since the start instead of the last interval, and back. */
static unsigned int act_cumulative(struct view_state *s, int key)
{
	(void)key;
	s->cumulative = !s->cumulative;
	return VIEW_R_RESORT | VIEW_R_DRAW | VIEW_R_CLEAR;
}

/* 'g': rows grouped by the process (the VMM) that asks, with its total. */
static unsigned int act_group(struct view_state *s, int key)
{
	(void)key;
	s->group = !s->group;
	return VIEW_R_RESORT | VIEW_R_DRAW | VIEW_R_CLEAR;
}

static unsigned int act_detail(struct view_state *s, int key)
{
	(void)key;
	s->mode = s->mode == VIEW_DETAIL ? VIEW_LIST : VIEW_DETAIL;
	return VIEW_R_DRAW | VIEW_R_CLEAR;
}

static unsigned int act_back(struct view_state *s, int key)
{
	(void)key;
	if (s->mode == VIEW_DETAIL)
		s->mode = VIEW_LIST;
	else if (s->mode == VIEW_HELP)
		s->mode = s->back;
	else
		return 0;
	return VIEW_R_DRAW | VIEW_R_CLEAR;
}

static unsigned int act_sort_cycle(struct view_state *s, int key)
{
	int i;

	(void)key;
	for (i = 0; i < NSORT; i++)
		if (sort_cycle[i] == s->sort)
			break;
	s->sort = sort_cycle[(i + 1) % NSORT];
	return VIEW_R_RESORT | VIEW_R_DRAW;
}

static unsigned int act_sort_column(struct view_state *s, int key)
{
	int n = (int)(sizeof(sort_by_column) / sizeof(sort_by_column[0]));
	int i;

	for (i = 0; i < n; i++)
		if (sort_by_column[i] == s->sort)
			break;
	if (i == n)
		i = 0;
	i += key == '<' ? -1 : 1;
	if (i < 0 || i >= n)
		return 0;	/* already at the edge: nothing changes */
	s->sort = sort_by_column[i];
	return VIEW_R_RESORT | VIEW_R_DRAW;
}

static unsigned int act_reverse(struct view_state *s, int key)
{
	(void)key;
	s->reverse = !s->reverse;
	return VIEW_R_RESORT | VIEW_R_DRAW;
}

static unsigned int act_filter(struct view_state *s, int key)
{
	(void)key;
	memcpy(s->filter_old, s->filter, sizeof(s->filter));
	s->back = s->mode;
	s->mode = VIEW_FILTER;
	return VIEW_R_DRAW;
}

static unsigned int act_pause(struct view_state *s, int key)
{
	(void)key;
	s->paused = !s->paused;
	return VIEW_R_PAUSE | VIEW_R_DRAW;
}

static unsigned int act_help(struct view_state *s, int key)
{
	(void)key;
	if (s->mode == VIEW_HELP) {
		s->mode = s->back;
	} else {
		s->back = s->mode;
		s->mode = VIEW_HELP;
	}
	return VIEW_R_DRAW | VIEW_R_CLEAR;
}

static unsigned int act_redraw(struct view_state *s, int key)
{
	(void)s;
	(void)key;
	return VIEW_R_DRAW | VIEW_R_CLEAR;
}

/* One interval on: pauses the clock so the view stays on that interval. */
static unsigned int act_step(struct view_state *s, int key)
{
	(void)key;
	s->paused = true;
	return VIEW_R_STEP | VIEW_R_PAUSE | VIEW_R_DRAW;
}

static unsigned int act_speed(struct view_state *s, int key)
{
	double v = key == '-' ? s->speed / 2 : s->speed * 2;

	if (v < VIEW_SPEED_MIN || v > VIEW_SPEED_MAX)
		return 0;
	s->speed = v;
	return VIEW_R_SPEED | VIEW_R_DRAW;
}

static unsigned int act_filter_accept(struct view_state *s, int key)
{
	(void)key;
	s->mode = s->back;
	return VIEW_R_DRAW;
}

static unsigned int act_filter_cancel(struct view_state *s, int key)
{
	(void)key;
	memcpy(s->filter, s->filter_old, sizeof(s->filter));
	s->mode = s->back;
	return VIEW_R_RESORT | VIEW_R_DRAW;
}

static unsigned int act_filter_erase(struct view_state *s, int key)
{
	size_t n = strlen(s->filter);

	(void)key;
	if (!n)
		return 0;
	s->filter[n - 1] = '\0';
	return VIEW_R_RESORT | VIEW_R_DRAW;
}

static unsigned int act_filter_kill(struct view_state *s, int key)
{
	(void)key;
	if (!s->filter[0])
		return 0;
	s->filter[0] = '\0';
	return VIEW_R_RESORT | VIEW_R_DRAW;
}

/* 'd': type a new interval, as top's 'd' asks for a new delay. */
static unsigned int act_interval(struct view_state *s, int key)
{
	(void)key;
	s->entry[0] = '\0';
	s->back = s->mode;
	s->mode = VIEW_INTERVAL;
	return VIEW_R_DRAW;
}

static unsigned int act_interval_accept(struct view_state *s, int key)
{
	char *end;
	double v;

	(void)key;
	s->mode = s->back;
	if (!s->entry[0])
		return VIEW_R_DRAW;	/* nothing typed: nothing changes */
	v = strtod(s->entry, &end);
	if (*end || !(v >= VIEW_INTERVAL_MIN && v <= VIEW_INTERVAL_MAX))
		return VIEW_R_DRAW;	/* not an interval: the old one stays */
	s->interval_s = v;
	return VIEW_R_INTERVAL | VIEW_R_DRAW;
}

static unsigned int act_interval_cancel(struct view_state *s, int key)
{
	(void)key;
	s->mode = s->back;
	return VIEW_R_DRAW;
}

static unsigned int act_interval_erase(struct view_state *s, int key)
{
	size_t n = strlen(s->entry);

	(void)key;
	if (!n)
		return 0;
	s->entry[n - 1] = '\0';
	return VIEW_R_DRAW;
}

/* Digits and a point make a number of seconds; other keys are ignored. */
static unsigned int interval_type(struct view_state *s, int key)
{
	size_t n = strlen(s->entry);

	if (!((key >= '0' && key <= '9') || key == '.'))
		return VIEW_R_UNBOUND;
	if (n + 1 >= sizeof(s->entry))
		return 0;
	s->entry[n] = (char)key;
	s->entry[n + 1] = '\0';
	return VIEW_R_DRAW;
}

/* Any other printable character while filtering is part of the filter. */
static unsigned int filter_type(struct view_state *s, int key)
{
	size_t n = strlen(s->filter);

	if (key < 0x20 || key > 0x7e)
		return VIEW_R_UNBOUND;
	if (n + 1 >= sizeof(s->filter))
		return 0;	/* full: the key is swallowed, not misread */
	s->filter[n] = (char)key;
	s->filter[n + 1] = '\0';
	return VIEW_R_RESORT | VIEW_R_DRAW;
}

/*
 * Label and help put an entry on the help screen, a footer word puts it in
 * the footer too (short: the footer must fit 80 columns). Aliases carry
 * none of them.
 */
static const struct view_keydef keys[] = {
	{ 'q', M_TABLE, false, act_quit, "q", "quit", "quit" },
	{ KEY_UP, M_TABLE, false, act_up, "j/k", "select a device (or Up, Down)", "select" },
	{ 'k', M_TABLE, false, act_up, NULL, NULL, NULL },
	{ KEY_DOWN, M_TABLE, false, act_down, NULL, NULL, NULL },
	{ 'j', M_TABLE, false, act_down, NULL, NULL, NULL },
	{ KEY_PPAGE, M_TABLE, false, act_page_up, "PgUp/PgDn", "a page up or down", NULL },
	{ KEY_NPAGE, M_TABLE, false, act_page_down, NULL, NULL, NULL },
	{ KEY_HOME, M_TABLE, false, act_home, "Home/End G", "first or last device", NULL },
	{ KEY_END, M_TABLE, false, act_end, NULL, NULL, NULL },
	{ 'G', M_TABLE, false, act_end, NULL, NULL, NULL },
	{ KEY_RIGHT, M_TABLE, false, act_scroll, "Left/Right", "scroll the columns that do not fit", NULL },
	{ KEY_LEFT, M_TABLE, false, act_scroll, NULL, NULL, NULL },
	{ '\n', M(VIEW_LIST), false, act_detail, "Enter", "detail: heatmap and history", "detail" },
	{ '\r', M(VIEW_LIST), false, act_detail, NULL, NULL, NULL },
	{ KEY_ENTER, M(VIEW_LIST), false, act_detail, NULL, NULL, NULL },
	{ '\n', M(VIEW_DETAIL), false, act_detail, "Enter/Esc", "back to the table", "back" },
	{ '\r', M(VIEW_DETAIL), false, act_detail, NULL, NULL, NULL },
	{ KEY_ENTER, M(VIEW_DETAIL), false, act_detail, NULL, NULL, NULL },
	{ KEY_ESC, M(VIEW_DETAIL) | M(VIEW_HELP), false, act_back, NULL, NULL, NULL },
	{ 's', M_TABLE, false, act_sort_cycle, "s", "next sort key", "sort" },
	{ '<', M_TABLE, false, act_sort_column, "</>", "sort by the column left/right", "column" },
	{ '>', M_TABLE, false, act_sort_column, NULL, NULL, NULL },
	{ 'r', M_TABLE, false, act_reverse, "r", "reverse the sort", "reverse" },
	{ 'd', M_TABLE, false, act_interval, "d", "change the interval (seconds)", "interval" },
	{ 'c', M_TABLE, false, act_cumulative, "c", "totals since the start / this interval", "cumulative" },
	{ 'g', M_TABLE, false, act_group, "g", "group by process (VMM), with its total", "group" },
	{ '/', M_TABLE, false, act_filter, "/", "filter devices by name", "filter" },
	{ 'p', M_TABLE, false, act_pause, "p", "pause / resume", "pause" },
	{ 'n', M_TABLE, true, act_step, "n/Space", "step one interval (pauses)", "step" },
	{ ' ', M_TABLE, true, act_step, NULL, NULL, NULL },
	{ '+', M_TABLE, true, act_speed, "+/-", "replay twice / half as fast", "speed" },
	{ '=', M_TABLE, true, act_speed, NULL, NULL, NULL },
	{ '-', M_TABLE, true, act_speed, NULL, NULL, NULL },
	{ '?', M_TABLE, false, act_help, "?", "help", "help" },
	{ 'h', M_TABLE, false, act_help, NULL, NULL, NULL },
	{ KEY_F(1), M_TABLE, false, act_help, NULL, NULL, NULL },
	{ 'q', M(VIEW_HELP), false, act_help, "q/Esc/?", "leave help", "back" },
	{ '?', M(VIEW_HELP), false, act_help, NULL, NULL, NULL },
	{ KEY_CTRL('l'), M_ALL, false, act_redraw, "^L", "redraw", "redraw" },
	{ KEY_RESIZE, M_ALL, false, act_redraw, NULL, NULL, NULL },
	{ '\n', M(VIEW_FILTER), false, act_filter_accept, "Enter", "keep the filter", "keep" },
	{ '\r', M(VIEW_FILTER), false, act_filter_accept, NULL, NULL, NULL },
	{ KEY_ENTER, M(VIEW_FILTER), false, act_filter_accept, NULL, NULL, NULL },
	{ KEY_ESC, M(VIEW_FILTER), false, act_filter_cancel, "Esc", "drop the change", "cancel" },
	{ KEY_BACKSPACE, M(VIEW_FILTER), false, act_filter_erase, "BS", "erase a character", "erase" },
	{ KEY_DEL, M(VIEW_FILTER), false, act_filter_erase, NULL, NULL, NULL },
	{ KEY_CTRL('h'), M(VIEW_FILTER), false, act_filter_erase, NULL, NULL, NULL },
	{ KEY_CTRL('u'), M(VIEW_FILTER), false, act_filter_kill, "^U", "clear the filter", "clear" },
	{ '\n', M(VIEW_INTERVAL), false, act_interval_accept, "Enter", "set the interval", "set" },
	{ '\r', M(VIEW_INTERVAL), false, act_interval_accept, NULL, NULL, NULL },
	{ KEY_ENTER, M(VIEW_INTERVAL), false, act_interval_accept, NULL, NULL, NULL },
	{ KEY_ESC, M(VIEW_INTERVAL), false, act_interval_cancel, "Esc", "keep the interval", "cancel" },
	{ KEY_BACKSPACE, M(VIEW_INTERVAL), false, act_interval_erase, "BS", "erase a character", "erase" },
	{ KEY_DEL, M(VIEW_INTERVAL), false, act_interval_erase, NULL, NULL, NULL },
	{ KEY_CTRL('h'), M(VIEW_INTERVAL), false, act_interval_erase, NULL, NULL, NULL },
};

#define NKEYS	(sizeof(keys) / sizeof(keys[0]))

static bool bound_here(const struct view_state *s, const struct view_keydef *k)
{
	return (k->modes & M(s->mode)) && (!k->replay_only || s->replay);
}

unsigned int view_key(struct view_state *s, int key)
{
	size_t i;

	for (i = 0; i < NKEYS; i++)
		if (keys[i].key == key && bound_here(s, &keys[i]))
			return keys[i].fn(s, key);
	if (s->mode == VIEW_FILTER)
		return filter_type(s, key);
	if (s->mode == VIEW_INTERVAL)
		return interval_type(s, key);
	return VIEW_R_UNBOUND;
}

/*
 * Which footer entries stay when not all fit: the way out and to help
 * first, then what top users reach for; they are shown in table order.
 */
static const char *const footer_prio[] = {
	"quit", "help", "back", "keep", "set", "cancel", "detail", "filter", "pause",
	"step", "sort", "cumulative", "group", "interval", "speed", "select",
	"erase", "clear", "column", "reverse",
};

#define NPRIO	(sizeof(footer_prio) / sizeof(footer_prio[0]))

static size_t prio_of(const struct view_keydef *k)
{
	size_t i;

	for (i = 0; i < NPRIO; i++)
		if (!strcmp(k->foot, footer_prio[i]))
			return i;
	return NPRIO;
}

size_t view_footer(const struct view_state *s, char *buf, size_t len,
		   int width)
{
	bool take[NKEYS] = { false };
	size_t i, p, off = 0;
	int w, used;

	if (!len)
		return 0;
	buf[0] = '\0';
	if (s->mode == VIEW_FILTER) {
		w = snprintf(buf, len, "filter: %s_  ", s->filter);
		off = w < 0 ? 0 : ((size_t)w >= len ? len - 1 : (size_t)w);
	} else if (s->mode == VIEW_INTERVAL) {
		w = snprintf(buf, len, "interval %gs, new: %s_  ", s->interval_s,
			     s->entry);
		off = w < 0 ? 0 : ((size_t)w >= len ? len - 1 : (size_t)w);
	}
	/* choose whole entries by priority until the width is used */
	used = (int)off;
	for (p = 0; p <= NPRIO; p++) {
		for (i = 0; i < NKEYS; i++) {
			const struct view_keydef *k = &keys[i];

			if (!k->foot || !bound_here(s, k) || prio_of(k) != p)
				continue;
			w = (int)(strlen(k->label) + strlen(k->foot)) + 1 +
				(used ? 2 : 0);
			if (width >= 0 && used + w > width)
				continue;
			take[i] = true;
			used += w;
		}
	}
	for (i = 0; i < NKEYS && off + 1 < len; i++) {
		if (!take[i])
			continue;
		w = snprintf(buf + off, len - off, "%s%s %s",
			     off && buf[off - 1] != ' ' ? "  " : "",
			     keys[i].label, keys[i].foot);
		if (w < 0)
			break;
		off += (size_t)w >= len - off ? len - off - 1 : (size_t)w;
	}
	return off;
}

const char *view_help_line(const struct view_state *s, unsigned int i,
			   char *buf, size_t len)
{
	static const char *const names[] = {
		"list", "detail", "help", "filter", "interval",
	};
	unsigned int n = 0;
	size_t k;
	int m;

	/* Every mode's keys, so the help screen is the full reference. */
	for (m = 0; m < VIEW_NMODES; m++) {
		for (k = 0; k < NKEYS; k++) {
			const struct view_keydef *d = &keys[k];

			if (!d->label || !(d->modes & M(m)) ||
			    (d->replay_only && !s->replay))
				continue;
			/* a key bound in several modes is listed under the first */
			if (d->modes & (M(m) - 1))
				continue;
			if (n++ == i) {
				snprintf(buf, len, "  %-7s %-13s %s", names[m],
					 d->label, d->help);
				return buf;
			}
		}
	}
	return NULL;
}
