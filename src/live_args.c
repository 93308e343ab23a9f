// SPDX-License-Identifier: GPL-2.0
/*
 * live_args.c - the options of the live source, shared by every command
 * that opens it (the live view and record): an argp child that fills a
 * struct live_opts (include/source_live.h).
 */
#include <argp.h>

#include "cli_util.h"
#include "source_live.h"

enum { OPT_VERIFY = 0x200, OPT_KPROBE, OPT_KBITS };

static error_t parse(int key, char *arg, struct argp_state *state)
{
	struct live_opts *o = state->input;

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
	case OPT_KBITS:
		if (parse_size(arg, &o->kbits_bytes) ||
		    o->kbits_bytes > LIVE_KBITS_MAX_BYTES)
			argp_error(state, "--kernel-bitmap takes a size from 0 to 16G "
				   "(K, M, G suffixes), not '%s'", arg);
		o->kbits_given = true;
		return 0;
	}
	return ARGP_ERR_UNKNOWN;
}

static const struct argp_option options[] = {
	{ "verbose", 'v', NULL, 0, "Print libbpf messages and the probe choice", 0 },
	{ "verify", OPT_VERIFY, NULL, 0, "Read each user bitmap back and compare it with the rebuild", 0 },
	{ "kprobe", OPT_KPROBE, NULL, 0, "Attach kprobes even where fentry works (tests the fallback)", 0 },
	{ "kernel-bitmap", OPT_KBITS, "SIZE", 0, "Kernel memory where set calls leave their bits (6.11 on; default 64M, a 2 TiB guest at 4 KiB pages; 0: every call goes through the ring buffer as ranges)", 0 },
	{ 0 },
};

const struct argp live_args_argp = {
	.options = options,
	.parser = parse,
};
