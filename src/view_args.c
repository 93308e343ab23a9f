// SPDX-License-Identifier: GPL-2.0
/*
 * view_args.c - the options live mode and replay share, so that both read
 * "-b -s pct 2 10" the same way: an argp child with its own options.
 */
#include <argp.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli_util.h"
#include "filter.h"
#include "view.h"

#define INTERVAL_MIN_S	VIEW_INTERVAL_MIN
#define INTERVAL_MAX_S	VIEW_INTERVAL_MAX

void view_args_init(struct view_args *a, bool want_file)
{
	memset(a, 0, sizeof(*a));
	a->want_file = want_file;
	a->interval_ns = 1000000000ull;
	a->sort = MODEL_SORT_RATE;
}

enum { OPT_NO_COLOR = 0x200, OPT_COMM, OPT_CUMULATIVE, OPT_GROUP, OPT_FORMAT,
       OPT_NOTE_FILE, OPT_MAX_BITMAP };

static error_t parse(int key, char *arg, struct argp_state *state)
{
	struct view_args *a = state->input;
	char err[200];

	switch (key) {
	case 'h':
		/* -h as in bcc's tools: the whole command's help */
		argp_state_help(state, stdout, ARGP_HELP_STD_HELP);
		return 0;
	case 'b':
		a->batch = true;
		return 0;
	case 's':
		if (view_sort_parse(arg, &a->sort))
			argp_error(state, "unknown sort key '%s'; use rate, pages, pct, reports or name.",
				   arg);
		return 0;
	case 'r':
		a->reverse = true;
		return 0;
	case OPT_CUMULATIVE:
		a->cumulative = true;
		return 0;
	case OPT_GROUP:
		a->group = true;
		return 0;
	case OPT_NOTE_FILE:
		a->note_file = arg;
		return 0;
	case OPT_MAX_BITMAP:
		if (parse_size(arg, &a->max_bitmap) || a->max_bitmap < MODEL_MIN_MAX_BITMAP ||
		    a->max_bitmap > MODEL_MAX_MAX_BITMAP)
			argp_error(state, "--max-bitmap wants a size from 1M to 1T, such as 128M for a 4 TiB guest.");
		return 0;
	case OPT_NO_COLOR:
		/* the same switch as the environment's (https://no-color.org) */
		setenv("NO_COLOR", "1", 1);
		return 0;
	case 'p': {
		long pid;

		if (parse_long(arg, 1, 0x7fffffffL, &pid))
			argp_error(state, "the pid '%s' is not a process id.", arg);
		a->pid = (uint32_t)pid;
		return 0;
	}
	case OPT_COMM:
		if (!*arg || strlen(arg) >= IOVA_COMM_LEN || strchr(arg, ' '))
			argp_error(state, "the process name '%s' is not one (1 to %d characters, no blank).",
				   arg, IOVA_COMM_LEN - 1);
		a->comm = arg;
		return 0;
	case OPT_FORMAT:
		if (!strcmp(arg, "text"))
			a->format = VIEW_FMT_TEXT;
		else if (!strcmp(arg, "json"))
			a->format = VIEW_FMT_JSON;
		else if (!strcmp(arg, "csv"))
			a->format = VIEW_FMT_CSV;
		else
			argp_error(state, "unknown format '%s'; use text, json or csv.", arg);
		return 0;
	case 'f':
		if (strlen(arg) >= VIEW_FILTER_LEN)
			argp_error(state, "the filter is longer than %d characters.",
				   VIEW_FILTER_LEN - 1);
		if (filter_check(arg, err, sizeof(err)))
			argp_error(state, "%s", err);
		a->filter = arg;
		return 0;
	case ARGP_KEY_ARG: {
		int i = a->nargs++ - (a->want_file ? 1 : 0);
		double secs;

		if (i < 0) {
			a->file = arg;
		} else if (i == 0) {
			if (parse_double(arg, INTERVAL_MIN_S, INTERVAL_MAX_S, &secs))
				argp_error(state, "the interval '%s' is not a number of seconds between %g and %g.",
					   arg, INTERVAL_MIN_S, INTERVAL_MAX_S);
			else
				a->interval_ns = (uint64_t)llround(secs * 1e9);
		} else if (i == 1) {
			if (parse_long(arg, 1, LONG_MAX, &a->count))
				argp_error(state, "the count '%s' is not a positive whole number.",
					   arg);
		} else {
			argp_error(state, "too many arguments ('%s').", arg);
		}
		return 0;
	}
	case ARGP_KEY_END:
		if (a->want_file && !a->file)
			argp_error(state, "name the trace file to replay.");
		/* -p and --comm are filter terms beside -f's */
		if (a->pid || a->comm) {
			int n = snprintf(a->filter_buf, sizeof(a->filter_buf), "%s",
					 a->filter ? a->filter : "");

			if (a->pid)
				n += snprintf(a->filter_buf + n, sizeof(a->filter_buf) - (size_t)n,
					      "%spid=%u", n ? " " : "", a->pid);
			if (a->comm)
				n += snprintf(a->filter_buf + n, sizeof(a->filter_buf) - (size_t)n,
					      "%scomm=%s", n ? " " : "", a->comm);
			if (n >= VIEW_FILTER_LEN)
				argp_error(state, "-f, -p and --comm together are longer than %d characters.",
					   VIEW_FILTER_LEN - 1);
			a->filter = a->filter_buf;
		}
		return 0;
	}
	return ARGP_ERR_UNKNOWN;
}

static const struct argp_option options[] = {
	{ "batch", 'b', NULL, 0, "Plain text every interval, like top -b (the default when stdout is not a terminal)", 0 },
	{ "sort", 's', "KEY", 0, "Sort by rate (default), pages, pct, reports or name", 0 },
	{ "reverse", 'r', NULL, 0, "Reverse the sort", 0 },
	{ "filter", 'f', "TERMS", 0, "Show only the devices TERMS select: a word the name starts with (3b finds 0000:3b:00.2, not 83b8...), dev=SUBSTRING, pid=N, comm=NAME (comm=qemu* for a prefix), path=vfio|iommufd; all must match", 0 },
	{ "pid", 'p', "PID", 0, "Show only the devices process PID asked for (the filter term pid=PID)", 0 },
	{ "comm", OPT_COMM, "NAME", 0, "Show only the devices of processes named NAME, exactly; NAME* for a prefix (comm=NAME)", 0 },
	{ "cumulative", OPT_CUMULATIVE, NULL, 0, "Totals since the start instead of the interval's figures (the key c)", 0 },
	{ "group", OPT_GROUP, NULL, 0, "Devices grouped by their process, with its total (the key g)", 0 },
	{ NULL, 'h', NULL, OPTION_HIDDEN, NULL, 0 },	/* -h, like --help */
	{ "no-color", OPT_NO_COLOR, NULL, 0, "No colour, as the environment variable NO_COLOR asks too", 0 },
	{ "format", OPT_FORMAT, "FMT", 0, "With -b: text (default), json (JSON lines) or csv; json and csv imply -b", 0 },
	{ "max-bitmap", OPT_MAX_BITMAP, "SIZE", 0, "Memory one rebuilt bitmap may take (default 64M: a 2 TiB guest at 4 KiB pages; 128M for 4 TiB); larger reports are counted but not rebuilt", 0 },
	{ "note-file", OPT_NOTE_FILE, "FILE", 0, "Show the last line of FILE under the header, read again every interval: what a workload or a person says is going on (make demo's migrations do)", 0 },
	{ 0 },
};

const struct argp view_args_argp = {
	.options = options,
	.parser = parse,
};

bool view_args_batch(const struct view_args *a)
{
	return a->batch || a->format != VIEW_FMT_TEXT || !isatty(STDOUT_FILENO);
}

void view_args_apply(const struct view_args *a, struct view_state *s)
{
	s->sort = a->sort;
	s->reverse = a->reverse;
	s->cumulative = a->cumulative;
	s->group = a->group;
	if (a->filter)
		snprintf(s->filter, sizeof(s->filter), "%s", a->filter);
}
