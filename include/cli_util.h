/* SPDX-License-Identifier: GPL-2.0 */
/*
 * cli_util.h - small helpers the subcommands share: numbers on the command
 * line, file names in messages, clocks, bitmaps written as the kernel lays
 * them out. Each caller words its own error message.
 */
#ifndef IOVATOP_CLI_UTIL_H
#define IOVATOP_CLI_UTIL_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

/*
 * A whole string that is one finite number in [min, max] (strtod and
 * strtol syntax: leading blanks and a sign are fine, nothing may follow).
 * 0 with *out set, or -1 with *out untouched.
 */
int parse_double(const char *s, double min, double max, double *out);
int parse_long(const char *s, long min, long max, long *out);

/*
 * A u64 in decimal or 0x-hex, nothing else (no octal, no sign, no
 * suffix), followed by anything: 0 with *end past it, -EINVAL if there
 * are no digits, -ERANGE if it does not fit in 64 bits.
 */
int parse_u64(const char *s, uint64_t *out, const char **end);
/*
 * A size in bytes: a number (as parse_u64) and K, M, G or T for powers of
 * 1024, optionally followed by iB (or B alone). 0, or -EINVAL.
 */
int parse_size(const char *s, uint64_t *out);

/*
 * What every message on stderr starts with: "iovatop" for the live view,
 * "iovatop record", "iovatop replay" ... as each command sets it first.
 */
extern const char *cli_name;

/* The last component of a path, or the path when it ends in '/'. */
const char *base_name(const char *path);

/* clock_gettime() of clk in ns. */
uint64_t clock_ns(clockid_t clk);

/*
 * Every command stops the same way: catch_signals() has SIGINT and SIGTERM
 * (and SIGHUP when hangup is set: the interactive views) store their
 * number in stop_signal, which the loops test. No SA_RESTART, so a poll
 * in progress returns at once.
 */
extern volatile sig_atomic_t stop_signal;
void catch_signals(bool hangup);

/* n words little-endian, as a user bitmap is laid out. 0, or -1 (errno). */
int fwrite_le64(FILE *f, const uint64_t *words, size_t n);

#endif /* IOVATOP_CLI_UTIL_H */
