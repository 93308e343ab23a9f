// SPDX-License-Identifier: GPL-2.0
/* Placeholder so the binary links while cmd_decode is written; replaced by its owner. */
#include <stdio.h>

#include "commands.h"

int cmd_decode(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	fprintf(stderr, "iovatop: 'decode' is not built yet.\n");
	return EXIT_RUNTIME;
}
