// SPDX-License-Identifier: GPL-2.0
/*
 * live_args.c - the options of the live source, shared by every command
 * that opens it (the live view and record): an argp child that fills a
 * struct live_opts (include/source_live.h).
 */
#include <argp.h>

#include "source_live.h"

enum { OPT_VERIFY = 0x200, OPT_KPROBE };

static error_t parse(int key, char *arg, struct argp_state *state)
{
	struct live_opts *o = state->input;

	(void)arg;
	switch (key) {
	case 'v':
		o->verbose = true;
		return 0;
	case OPT_VERIFY:
		o->verify = true;
		return 0;
	case OPT_KPROBE:
		o->force_kprobe = true;
		return 0;
	}
	return ARGP_ERR_UNKNOWN;
}

static const struct argp_option options[] = {
	{ "verbose", 'v', NULL, 0, "Print libbpf messages and the probe choice", 0 },
	{ "verify", OPT_VERIFY, NULL, 0, "Read each user bitmap back and compare it with the rebuild", 0 },
	{ "kprobe", OPT_KPROBE, NULL, 0, "Attach kprobes even where fentry works (tests the fallback)", 0 },
	{ 0 },
};

const struct argp live_args_argp = {
	.options = options,
	.parser = parse,
};
