// SPDX-License-Identifier: GPL-2.0
/*
 * cli_util.c - helpers the subcommands share (include/cli_util.h).
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cli_util.h"
#include "le.h"

const char *cli_name = "iovatop";

int parse_double(const char *s, double min, double max, double *out)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || *end || !isfinite(v) || v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

int parse_long(const char *s, long min, long max, long *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

/*
 * A u64 in decimal or 0x-hex, nothing else (no octal, no sign, no
 * suffix). Returns 0 and sets *end past it, -EINVAL if there are no
 * digits, -ERANGE if it does not fit in 64 bits.
 */
int parse_u64(const char *s, uint64_t *out, const char **end)
{
	unsigned int base = 10, digit;
	const char *p = s;
	uint64_t v = 0;
	int any = 0;

	if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X')) {
		base = 16;
		p += 2;
	}
	for (;; p++, any = 1) {
		if (*p >= '0' && *p <= '9')
			digit = (unsigned int)(*p - '0');
		else if (base == 16 && *p >= 'a' && *p <= 'f')
			digit = (unsigned int)(*p - 'a' + 10);
		else if (base == 16 && *p >= 'A' && *p <= 'F')
			digit = (unsigned int)(*p - 'A' + 10);
		else
			break;
		if (v > (UINT64_MAX - digit) / base) {
			*end = p;
			return -ERANGE;
		}
		v = v * base + digit;
	}
	*end = p;
	if (!any)
		return -EINVAL;
	*out = v;
	return 0;
}

int parse_size(const char *s, uint64_t *out)
{
	uint64_t v, mul = 1;
	const char *p;

	if (parse_u64(s, &v, &p))
		return -EINVAL;
	switch (*p) {
	case 'k': case 'K': mul = 1ull << 10; break;
	case 'm': case 'M': mul = 1ull << 20; break;
	case 'g': case 'G': mul = 1ull << 30; break;
	case 't': case 'T': mul = 1ull << 40; break;
	}
	if (mul > 1)
		p++;
	if (mul > 1 && !strcmp(p, "iB"))
		p += 2;
	else if (!strcmp(p, "B"))
		p++;
	if (*p || v > UINT64_MAX / mul)
		return -EINVAL;
	*out = v * mul;
	return 0;
}

const char *base_name(const char *path)
{
	const char *s = strrchr(path, '/');

	return s && s[1] ? s + 1 : path;
}

uint64_t clock_ns(clockid_t clk)
{
	struct timespec ts;

	clock_gettime(clk, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

volatile sig_atomic_t stop_signal;

static void on_signal(int sig)
{
	stop_signal = sig;
}

void catch_signals(bool hangup)
{
	struct sigaction sa = { .sa_handler = on_signal };

	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	if (hangup)
		sigaction(SIGHUP, &sa, NULL);
}

int fwrite_le64(FILE *f, const uint64_t *words, size_t n)
{
	unsigned char buf[8192];
	size_t i, k, c;

	for (i = 0; i < n; i += c) {
		c = n - i < sizeof(buf) / 8 ? n - i : sizeof(buf) / 8;
		for (k = 0; k < c; k++)
			le_put64(buf + 8 * k, words[i + k]);
		if (fwrite(buf, 8, c, f) != c)
			return -1;
	}
	return 0;
}
