/* SPDX-License-Identifier: GPL-2.0 */
/*
 * commands.h - the subcommands src/iovatop.c dispatches to. Each takes the
 * arguments after its name (argv[0] is the subcommand) and returns the
 * process exit status: 0 success, 1 runtime error, 2 usage error.
 */
#ifndef IOVATOP_COMMANDS_H
#define IOVATOP_COMMANDS_H

#define EXIT_RUNTIME	1
#define EXIT_USAGE	2

int cmd_top(int argc, char **argv);	/* live view: iovatop [interval] [count] */
int cmd_record(int argc, char **argv);	/* iovatop record -o FILE */
int cmd_replay(int argc, char **argv);	/* iovatop replay FILE */
int cmd_report(int argc, char **argv);	/* iovatop report FILE */
int cmd_decode(int argc, char **argv);	/* iovatop decode --iova ... */

#endif /* IOVATOP_COMMANDS_H */
