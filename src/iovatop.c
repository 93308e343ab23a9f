// SPDX-License-Identifier: GPL-2.0
/*
 * iovatop - watch the kernel's iova_bitmap dirty tracking per device.
 *
 * This file only picks the subcommand; each lives in its own cmd_*.c.
 */
#include <argp.h>
#include <bpf/libbpf.h>
#include <stdio.h>
#include <string.h>

#include "commands.h"
#include "version.h"

/* --version (and -V) of every command that parses with argp */
static void print_version(FILE *f, struct argp_state *state)
{
	(void)state;
	fprintf(f, "iovatop %s (git %s)\nlibbpf %s\n", IOVATOP_VERSION,
		IOVATOP_GIT, libbpf_version_string());
}

void (*argp_program_version_hook)(FILE *, struct argp_state *) = print_version;

static const struct {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *summary;
} subcommands[] = {
	{ "record", cmd_record, "record a trace to a file" },
	{ "replay", cmd_replay, "show a recorded trace in the live view" },
	{ "report", cmd_report, "summarise a trace per device (text, json, csv)" },
	{ "decode", cmd_decode, "apply iova_bitmap_set calls, print the bitmap" },
};

static void usage(FILE *f)
{
	size_t i;

	fprintf(f, "usage: iovatop [OPTIONS] [INTERVAL [COUNT]]   live view\n");
	for (i = 0; i < sizeof(subcommands) / sizeof(subcommands[0]); i++)
		fprintf(f, "       iovatop %-8s ...    %s\n", subcommands[i].name,
			subcommands[i].summary);
	fprintf(f, "'iovatop -h' and 'iovatop SUBCOMMAND -h' say more; 'iovatop --version' which this is.\n");
}

int main(int argc, char **argv)
{
	size_t i;

	if (argc > 1) {
		for (i = 0; i < sizeof(subcommands) / sizeof(subcommands[0]); i++)
			if (!strcmp(argv[1], subcommands[i].name))
				return subcommands[i].fn(argc - 1, argv + 1);
		if (!strcmp(argv[1], "help")) {
			usage(stdout);
			return 0;
		}
		if (!strcmp(argv[1], "--version") || !strcmp(argv[1], "-V")) {
			print_version(stdout, NULL);
			return 0;
		}
	}
	/* No subcommand: the live view takes every argument itself. */
	return cmd_top(argc, argv);
}
