// SPDX-License-Identifier: GPL-2.0
/*
 * view_state.c - the view state that is not key handling: its initial
 * values, the names of the sort keys, and keeping the selection on the
 * same device as the rows of a new snapshot move.
 */
#include <string.h>

#include "view.h"

static const char *const sort_names[MODEL_SORT_MAX] = {
	[MODEL_SORT_RATE] = "rate",
	[MODEL_SORT_DIRTY] = "pages",
	[MODEL_SORT_PCT] = "pct",
	[MODEL_SORT_REPORTS] = "reports",
	[MODEL_SORT_NAME] = "name",
};

const char *view_sort_name(enum model_sort sort)
{
	if ((unsigned int)sort >= MODEL_SORT_MAX)
		return "?";
	return sort_names[sort];
}

int view_sort_parse(const char *name, enum model_sort *out)
{
	int i;

	for (i = 0; i < MODEL_SORT_MAX; i++) {
		if (!strcmp(name, sort_names[i])) {
			*out = (enum model_sort)i;
			return 0;
		}
	}
	return -1;
}

void view_state_init(struct view_state *s)
{
	memset(s, 0, sizeof(*s));
	s->mode = VIEW_LIST;
	s->back = VIEW_LIST;
	s->sort = MODEL_SORT_RATE;
	s->speed = 1.0;
	s->interval_s = 1.0;
	s->selected = -1;
	s->page = 1;
}

void view_state_sync(struct view_state *s, const struct model_snapshot *snap)
{
	int n = snap ? (int)snap->nrows : 0;
	int i;

	s->nrows = n;
	if (n == 0) {
		/* keep sel_name: the device comes back when the filter widens */
		s->selected = -1;
		s->top = 0;
		return;
	}
	if (s->sel_name[0]) {
		for (i = 0; i < n; i++) {
			if (!strcmp(snap->rows[i].name, s->sel_name)) {
				s->selected = i;
				break;
			}
		}
	}
	if (s->selected < 0)
		s->selected = 0;
	if (s->selected >= n)
		s->selected = n - 1;
	memcpy(s->sel_name, snap->rows[s->selected].name, sizeof(s->sel_name));
	s->sel_name[sizeof(s->sel_name) - 1] = '\0';

	if (s->page < 1)
		s->page = 1;
	if (s->selected < s->top)
		s->top = s->selected;
	if (s->selected >= s->top + s->page)
		s->top = s->selected - s->page + 1;
	if (s->top > n - s->page)
		s->top = n - s->page;
	if (s->top < 0)
		s->top = 0;
}
