// SPDX-License-Identifier: GPL-2.0
/*
 * test_view_keys.c - the key table without a terminal: every action is a
 * state change plus reaction flags, so it is checked directly.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <curses.h>
#include <string.h>

#include "view.h"

static struct model_row rows[5];

static void fake_snap(struct model_snapshot *snap, unsigned int n,
		      const char *const *names)
{
	unsigned int i;

	memset(snap, 0, sizeof(*snap));
	memset(rows, 0, sizeof(rows));
	for (i = 0; i < n; i++)
		snprintf(rows[i].name, sizeof(rows[i].name), "%s", names[i]);
	snap->rows = rows;
	snap->nrows = n;
	snap->ndevices = n;
}

static const char *const five[] = { "a", "b", "c", "d", "e" };

static void test_quit_and_unbound(void **unused)
{
	struct view_state s;

	(void)unused;
	view_state_init(&s);
	assert_int_equal(view_key(&s, 'q'), VIEW_R_QUIT);
	s.mode = VIEW_DETAIL;
	assert_int_equal(view_key(&s, 'q'), VIEW_R_QUIT);
	s.mode = VIEW_LIST;
	assert_int_equal(view_key(&s, 'Z'), VIEW_R_UNBOUND);
	assert_int_equal(view_key(&s, -1), VIEW_R_UNBOUND);
	assert_int_equal(view_key(&s, KEY_MAX + 100), VIEW_R_UNBOUND);
}

static void test_zero_rows_select(void **unused)
{
	struct model_snapshot snap;
	struct view_state s;
	int keys[] = { 'j', 'k', KEY_UP, KEY_DOWN, KEY_NPAGE, KEY_PPAGE,
		       KEY_HOME, KEY_END, 'G' };
	size_t i;

	(void)unused;
	view_state_init(&s);
	fake_snap(&snap, 0, five);
	view_state_sync(&s, &snap);
	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		assert_true(view_key(&s, keys[i]) & VIEW_R_DRAW);
		assert_int_equal(s.selected, -1);
		assert_int_equal(s.top, 0);
	}
	/* a NULL snapshot (nothing seen yet) is the same as zero rows */
	view_state_sync(&s, NULL);
	assert_int_equal(s.selected, -1);
	assert_int_equal(view_key(&s, '\n'), VIEW_R_DRAW | VIEW_R_CLEAR);
	assert_int_equal(s.mode, VIEW_DETAIL);
}

static void test_select_and_scroll(void **unused)
{
	struct model_snapshot snap;
	struct view_state s;

	(void)unused;
	view_state_init(&s);
	s.page = 2;
	fake_snap(&snap, 5, five);
	view_state_sync(&s, &snap);
	assert_int_equal(s.selected, 0);
	assert_string_equal(s.sel_name, "a");

	view_key(&s, 'j');
	view_key(&s, 'j');
	view_state_sync(&s, &snap);
	assert_int_equal(s.selected, 2);
	assert_int_equal(s.top, 1);	/* scrolled so row 2 is on screen */
	assert_string_equal(s.sel_name, "c");

	view_key(&s, KEY_END);
	view_state_sync(&s, &snap);
	assert_int_equal(s.selected, 4);
	assert_int_equal(s.top, 3);
	view_key(&s, 'j');		/* past the end: stays */
	assert_int_equal(s.selected, 4);

	view_key(&s, KEY_PPAGE);
	assert_int_equal(s.selected, 3);
	view_key(&s, KEY_HOME);
	view_state_sync(&s, &snap);
	assert_int_equal(s.selected, 0);
	assert_int_equal(s.top, 0);
	view_key(&s, 'k');		/* before the start: stays */
	assert_int_equal(s.selected, 0);
	view_key(&s, KEY_NPAGE);
	assert_int_equal(s.selected, 1);
}

static void test_selection_follows_device(void **unused)
{
	static const char *const reordered[] = { "d", "c", "b", "a", "e" };
	static const char *const fewer[] = { "a", "b" };
	struct model_snapshot snap;
	struct view_state s;

	(void)unused;
	view_state_init(&s);
	s.page = 10;
	fake_snap(&snap, 5, five);
	view_state_sync(&s, &snap);
	view_key(&s, 'j');
	view_state_sync(&s, &snap);
	assert_string_equal(s.sel_name, "b");

	/* a re-sort moves the device: the selection goes with it */
	fake_snap(&snap, 5, reordered);
	view_state_sync(&s, &snap);
	assert_int_equal(s.selected, 2);
	assert_string_equal(s.sel_name, "b");

	/* the device is gone: the index is clamped to what is left */
	s.selected = 4;
	s.sel_name[0] = '\0';
	view_state_sync(&s, &snap);
	assert_string_equal(s.sel_name, "e");
	fake_snap(&snap, 2, fewer);
	view_state_sync(&s, &snap);
	assert_int_equal(s.selected, 1);
	assert_string_equal(s.sel_name, "b");

	/* filtered to nothing, then back: the name is remembered */
	fake_snap(&snap, 0, five);
	view_state_sync(&s, &snap);
	assert_int_equal(s.selected, -1);
	fake_snap(&snap, 5, reordered);
	view_state_sync(&s, &snap);
	assert_string_equal(s.sel_name, "b");
	assert_int_equal(s.selected, 2);
}

static void test_sort_keys(void **unused)
{
	struct view_state s;
	enum model_sort seen[MODEL_SORT_MAX + 1];
	int i;

	(void)unused;
	view_state_init(&s);
	assert_int_equal(s.sort, MODEL_SORT_RATE);
	for (i = 0; i < MODEL_SORT_MAX; i++) {
		assert_int_equal(view_key(&s, 's'), VIEW_R_RESORT | VIEW_R_DRAW);
		seen[i] = s.sort;
	}
	/* s visits every key once and comes back to the hottest-first default */
	assert_int_equal(seen[MODEL_SORT_MAX - 1], MODEL_SORT_RATE);
	for (i = 0; i < MODEL_SORT_MAX - 1; i++)
		assert_int_not_equal(seen[i], MODEL_SORT_RATE);

	/* < and > walk the columns as they appear on screen */
	s.sort = MODEL_SORT_RATE;
	view_key(&s, '>');
	assert_int_equal(s.sort, MODEL_SORT_PCT);
	assert_int_equal(view_key(&s, '>'), 0);	/* rightmost: no change */
	view_key(&s, '<');
	view_key(&s, '<');
	assert_int_equal(s.sort, MODEL_SORT_DIRTY);
	view_key(&s, '<');
	view_key(&s, '<');
	assert_int_equal(s.sort, MODEL_SORT_NAME);
	assert_int_equal(view_key(&s, '<'), 0);

	assert_false(s.reverse);
	assert_int_equal(view_key(&s, 'r'), VIEW_R_RESORT | VIEW_R_DRAW);
	assert_true(s.reverse);
}

static void test_sort_names(void **unused)
{
	enum model_sort k;
	int i;

	(void)unused;
	for (i = 0; i < MODEL_SORT_MAX; i++) {
		assert_int_equal(view_sort_parse(view_sort_name(i), &k), 0);
		assert_int_equal(k, i);
	}
	assert_int_equal(view_sort_parse("hotness", &k), -1);
	assert_string_equal(view_sort_name(MODEL_SORT_MAX), "?");
}

static void type(struct view_state *s, const char *text)
{
	while (*text)
		view_key(s, *text++);
}

static void test_filter(void **unused)
{
	struct view_state s;
	int i;

	(void)unused;
	view_state_init(&s);
	assert_int_equal(view_key(&s, '/'), VIEW_R_DRAW);
	assert_int_equal(s.mode, VIEW_FILTER);
	/* letters that are keys elsewhere are text while filtering */
	assert_int_equal(view_key(&s, 'q'), VIEW_R_RESORT | VIEW_R_DRAW);
	type(&s, "3b");
	assert_string_equal(s.filter, "q3b");
	view_key(&s, KEY_BACKSPACE);
	view_key(&s, 127);
	view_key(&s, 8);
	assert_string_equal(s.filter, "");
	assert_int_equal(view_key(&s, KEY_BACKSPACE), 0);	/* nothing to erase */
	type(&s, "3b");
	assert_int_equal(view_key(&s, '\r'), VIEW_R_DRAW);
	assert_int_equal(s.mode, VIEW_LIST);
	assert_string_equal(s.filter, "3b");

	/* Esc drops what was typed since '/' */
	view_key(&s, '/');
	type(&s, "xyz");
	assert_string_equal(s.filter, "3bxyz");
	assert_true(view_key(&s, 27) & VIEW_R_RESORT);
	assert_string_equal(s.filter, "3b");
	assert_int_equal(s.mode, VIEW_LIST);

	/* a full filter swallows keys, never overruns */
	view_key(&s, '/');
	for (i = 0; i < 100; i++)
		view_key(&s, 'x');
	assert_int_equal(strlen(s.filter), VIEW_FILTER_LEN - 1);
	assert_int_equal(view_key(&s, KEY_F(5)), VIEW_R_UNBOUND);
	assert_true(view_key(&s, 'U' & 0x1f) & VIEW_R_RESORT);
	assert_string_equal(s.filter, "");
	view_key(&s, '\n');

	/* filter from the detail screen goes back to it */
	s.mode = VIEW_DETAIL;
	view_key(&s, '/');
	view_key(&s, '\n');
	assert_int_equal(s.mode, VIEW_DETAIL);
}

static void test_modes(void **unused)
{
	struct view_state s;

	(void)unused;
	view_state_init(&s);
	view_key(&s, KEY_ENTER);
	assert_int_equal(s.mode, VIEW_DETAIL);
	view_key(&s, '?');
	assert_int_equal(s.mode, VIEW_HELP);
	/* q leaves help instead of quitting from under the reader */
	assert_int_equal(view_key(&s, 'q'), VIEW_R_DRAW | VIEW_R_CLEAR);
	assert_int_equal(s.mode, VIEW_DETAIL);
	view_key(&s, 27);
	assert_int_equal(s.mode, VIEW_LIST);
	view_key(&s, 'h');
	assert_int_equal(s.mode, VIEW_HELP);
	view_key(&s, 27);
	assert_int_equal(s.mode, VIEW_LIST);
	assert_int_equal(view_key(&s, 'L' & 0x1f), VIEW_R_DRAW | VIEW_R_CLEAR);
	assert_int_equal(view_key(&s, KEY_RESIZE), VIEW_R_DRAW | VIEW_R_CLEAR);
	s.mode = VIEW_FILTER;
	assert_int_equal(view_key(&s, KEY_RESIZE), VIEW_R_DRAW | VIEW_R_CLEAR);
}

static void test_pause_step_speed(void **unused)
{
	struct view_state s;
	int i;

	(void)unused;
	view_state_init(&s);
	assert_int_equal(view_key(&s, 'p'), VIEW_R_PAUSE | VIEW_R_DRAW);
	assert_true(s.paused);
	view_key(&s, 'p');
	assert_false(s.paused);
	/* step and speed belong to replay only */
	assert_int_equal(view_key(&s, 'n'), VIEW_R_UNBOUND);
	assert_int_equal(view_key(&s, '+'), VIEW_R_UNBOUND);

	s.replay = true;
	assert_true(view_key(&s, 'n') & VIEW_R_STEP);
	assert_true(s.paused);
	assert_true(view_key(&s, ' ') & VIEW_R_STEP);
	assert_int_equal(view_key(&s, '+'), VIEW_R_SPEED | VIEW_R_DRAW);
	assert_true(s.speed == 2.0);
	view_key(&s, '-');
	view_key(&s, '-');
	assert_true(s.speed == 0.5);
	for (i = 0; i < 40; i++)
		view_key(&s, '+');
	assert_true(s.speed <= 4096.0 && s.speed >= 2048.0);
	assert_int_equal(view_key(&s, '+'), 0);
	for (i = 0; i < 40; i++)
		view_key(&s, '-');
	assert_true(s.speed > 0 && s.speed <= 1.0 / 32);
}

/* Right and Left: the columns right of the device scroll; the draw clamps. */
static void test_scroll_columns(void **unused)
{
	struct view_state s;

	(void)unused;
	view_state_init(&s);
	assert_int_equal(s.hscroll, 0);
	assert_int_equal(view_key(&s, KEY_LEFT), 0);	/* at the edge */
	assert_int_equal(view_key(&s, KEY_RIGHT), VIEW_R_DRAW);
	assert_int_equal(view_key(&s, KEY_RIGHT), VIEW_R_DRAW);
	assert_int_equal(s.hscroll, 2);
	assert_int_equal(view_key(&s, KEY_LEFT), VIEW_R_DRAW);
	assert_int_equal(s.hscroll, 1);
	s.mode = VIEW_DETAIL;
	assert_int_equal(view_key(&s, KEY_RIGHT), VIEW_R_DRAW);
	assert_int_equal(s.hscroll, 2);
	/* in the filter prompt they are not the table's */
	s.mode = VIEW_FILTER;
	view_key(&s, KEY_RIGHT);
	assert_int_equal(s.hscroll, 2);
}

/* c: totals since the start; g: grouped by process. Both re-snapshot. */
static void test_cumulative_group(void **unused)
{
	struct view_state s;
	unsigned int f;

	(void)unused;
	view_state_init(&s);
	f = view_key(&s, 'c');
	assert_true(s.cumulative);
	assert_true(f & VIEW_R_RESORT);
	assert_true(f & VIEW_R_DRAW);
	view_key(&s, 'c');
	assert_false(s.cumulative);
	f = view_key(&s, 'g');
	assert_true(s.group);
	assert_true(f & VIEW_R_RESORT);
	/* g no longer jumps to the top: Home does */
	s.selected = 3;
	s.nrows = 5;
	view_key(&s, 'g');
	assert_false(s.group);
	assert_int_equal(s.selected, 3);
	view_key(&s, KEY_HOME);
	assert_int_equal(s.selected, 0);
	/* typed into a filter, they are letters */
	view_key(&s, '/');
	view_key(&s, 'c');
	view_key(&s, 'g');
	assert_string_equal(s.filter, "cg");
	assert_false(s.cumulative);
	assert_false(s.group);
}

/* d: a new interval typed in seconds, as top's d; Esc or nonsense keeps it. */
static void test_interval(void **unused)
{
	struct view_state s;
	char buf[256];

	(void)unused;
	view_state_init(&s);
	assert_int_equal(view_key(&s, 'd'), VIEW_R_DRAW);
	assert_int_equal(s.mode, VIEW_INTERVAL);
	view_footer(&s, buf, sizeof(buf), 80);
	assert_int_equal(strncmp(buf, "interval 1s, new: _", 19), 0);
	view_key(&s, '2');
	view_key(&s, 'x');		/* not part of a number: ignored */
	view_key(&s, '.');
	view_key(&s, '5');
	assert_string_equal(s.entry, "2.5");
	view_key(&s, KEY_BACKSPACE);
	view_key(&s, '7');
	assert_int_equal(view_key(&s, '\n'), VIEW_R_INTERVAL | VIEW_R_DRAW);
	assert_true(s.interval_s > 2.69 && s.interval_s < 2.71);
	assert_int_equal(s.mode, VIEW_LIST);
	/* out of range, empty, or cancelled: the interval stays */
	view_key(&s, 'd');
	view_key(&s, '0');
	assert_int_equal(view_key(&s, '\n'), VIEW_R_DRAW);
	assert_true(s.interval_s > 2.69 && s.interval_s < 2.71);
	view_key(&s, 'd');
	assert_int_equal(view_key(&s, '\r'), VIEW_R_DRAW);
	view_key(&s, 'd');
	view_key(&s, '9');
	assert_int_equal(view_key(&s, 27), VIEW_R_DRAW);
	assert_true(s.interval_s > 2.69 && s.interval_s < 2.71);
	assert_int_equal(s.mode, VIEW_LIST);
	/* from the detail it goes back to the detail */
	s.mode = VIEW_DETAIL;
	view_key(&s, 'd');
	view_key(&s, '1');
	view_key(&s, KEY_ENTER);
	assert_int_equal(s.mode, VIEW_DETAIL);
	assert_true(s.interval_s == 1.0);
}

static void test_footer(void **unused)
{
	struct view_state s;
	char buf[256], full[256];
	size_t n;

	(void)unused;
	view_state_init(&s);
	n = view_footer(&s, buf, sizeof(buf), -1);
	assert_int_equal(n, strlen(buf));
	assert_non_null(strstr(buf, "q quit"));
	assert_non_null(strstr(buf, "Enter detail"));
	assert_non_null(strstr(buf, "/ filter"));
	assert_non_null(strstr(buf, "p pause"));
	assert_non_null(strstr(buf, "? help"));
	assert_null(strstr(buf, "step"));
	/* at 80 columns: whole entries only, quit first and help kept */
	s.replay = true;
	/* "  " around every entry of the full footer */
	full[0] = full[1] = ' ';
	n = view_footer(&s, full + 2, sizeof(full) - 4, -1);
	strcpy(full + 2 + n, "  ");
	for (int w = 14; w <= 200; w++) {
		char *p, *e, ent[300];

		n = view_footer(&s, buf, sizeof(buf), w);
		assert_true((int)n <= w);
		assert_non_null(strstr(buf, "? help"));
		assert_int_equal(strncmp(buf, "q quit", 6), 0);
		/* no entry cut: each is one of the full footer's, whole */
		for (p = buf; *p; p = *e ? e + 2 : e) {
			e = strstr(p, "  ");
			if (!e)
				e = p + strlen(p);
			snprintf(ent, sizeof(ent), "  %.*s  ", (int)(e - p), p);
			assert_non_null(strstr(full, ent));
		}
	}
	n = view_footer(&s, buf, sizeof(buf), 80);
	assert_string_equal(buf,
		"q quit  Enter detail  s sort  g group  / filter  p pause  n/Space step  ? help");
	s.replay = false;

	s.replay = true;
	view_footer(&s, buf, sizeof(buf), -1);
	assert_non_null(strstr(buf, "n/Space step"));
	assert_non_null(strstr(buf, "+/- speed"));

	s.mode = VIEW_DETAIL;
	view_footer(&s, buf, sizeof(buf), -1);
	assert_non_null(strstr(buf, "Enter/Esc back"));

	s.mode = VIEW_FILTER;
	strcpy(s.filter, "3b");
	view_footer(&s, buf, sizeof(buf), -1);
	assert_int_equal(strncmp(buf, "filter: 3b_", 11), 0);
	assert_non_null(strstr(buf, "Esc cancel"));

	/* a tiny buffer is cut, NUL-terminated */
	s.mode = VIEW_LIST;
	n = view_footer(&s, buf, 8, -1);
	assert_true(n < 8);
	assert_int_equal(strlen(buf), n);
	assert_int_equal(view_footer(&s, buf, 0, -1), 0);
}

static void test_help(void **unused)
{
	struct view_state s;
	char buf[128];
	unsigned int i;
	bool quit = false, filter = false;

	(void)unused;
	view_state_init(&s);
	for (i = 0; view_help_line(&s, i, buf, sizeof(buf)); i++) {
		if (strstr(buf, "quit"))
			quit = true;
		if (strstr(buf, "keep the filter"))
			filter = true;
	}
	assert_true(i >= 15);
	assert_true(quit && filter);
	assert_null(view_help_line(&s, i + 1, buf, sizeof(buf)));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_quit_and_unbound),
		cmocka_unit_test(test_zero_rows_select),
		cmocka_unit_test(test_select_and_scroll),
		cmocka_unit_test(test_selection_follows_device),
		cmocka_unit_test(test_sort_keys),
		cmocka_unit_test(test_sort_names),
		cmocka_unit_test(test_filter),
		cmocka_unit_test(test_modes),
		cmocka_unit_test(test_pause_step_speed),
		cmocka_unit_test(test_scroll_columns),
		cmocka_unit_test(test_cumulative_group),
		cmocka_unit_test(test_interval),
		cmocka_unit_test(test_footer),
		cmocka_unit_test(test_help),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
