// SPDX-License-Identifier: GPL-2.0
/* Placeholder so the binary links while cmd_record is written; replaced by its owner. */
#include <stdio.h>

#include "commands.h"

int cmd_record(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	fprintf(stderr, "iovatop: 'record' is not built yet.\n");
	return EXIT_RUNTIME;
}
