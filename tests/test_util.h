/* SPDX-License-Identifier: GPL-2.0 */
/*
 * test_util.h - what the tests that check the binary's output share:
 * reading a whole file, counting lines, and comparing text with a golden
 * file in tests/golden/.
 *
 * UPDATE_GOLDEN=1 make check (IOVATOP_UPDATE_GOLDEN=1 works too) rewrites
 * the golden files from this run. When the output differs, the new text is
 * left beside the test binary as NAME.out (it outlives the test's
 * temporary directory), and the failure names the diff to run.
 *
 * Include after <cmocka.h>.
 */
#ifndef IOVATOP_TESTS_TEST_UTIL_H
#define IOVATOP_TESTS_TEST_UTIL_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The whole file, NUL-terminated (binary safe: *len is its size), or NULL. */
static inline char *tu_slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	size_t cap = 0, n = 0, r;

	if (len)
		*len = 0;
	if (!f)
		return NULL;
	do {
		if (n + 4096 + 1 > cap) {
			cap = (n + 4096 + 1) * 2;
			buf = realloc(buf, cap);
			assert_non_null(buf);
		}
		r = fread(buf + n, 1, 4096, f);
		n += r;
	} while (r);
	fclose(f);
	buf[n] = '\0';
	if (len)
		*len = n;
	return buf;
}

/* Newlines in s. */
static inline int tu_lines(const char *s)
{
	int n = 0;

	for (; *s; s++)
		n += *s == '\n';
	return n;
}

/* out = DIR/name, DIR the directory of path ("." when it has none). */
static inline void tu_beside(char *out, size_t len, const char *path,
			     const char *name)
{
	const char *slash = strrchr(path, '/');

	if (slash)
		snprintf(out, len, "%.*s/%s", (int)(slash - path), path, name);
	else
		snprintf(out, len, "./%s", name);
}

/* Compare text with tests/golden/NAME, or rewrite it (see above). */
static inline void tu_golden(const char *name, const char *text)
{
	char path[700], outp[700], exe[512], gname[300];
	ssize_t n;
	char *want;
	FILE *f;

	/* this header's own path: tests/ */
	snprintf(gname, sizeof(gname), "golden/%s", name);
	tu_beside(path, sizeof(path), __FILE__, gname);
	if (getenv("UPDATE_GOLDEN") || getenv("IOVATOP_UPDATE_GOLDEN")) {
		f = fopen(path, "w");
		assert_non_null(f);
		fputs(text, f);
		fclose(f);
		return;
	}
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	exe[n > 0 ? n : 0] = '\0';
	snprintf(gname, sizeof(gname), "%s.out", name);
	tu_beside(outp, sizeof(outp), exe, gname);
	want = tu_slurp(path, NULL);
	if (!want)
		fail_msg("%s is missing; UPDATE_GOLDEN=1 make check creates it", path);
	if (strcmp(want, text)) {
		f = fopen(outp, "w");
		if (f) {
			fputs(text, f);
			fclose(f);
		}
		free(want);
		fail_msg("output differs from %s; see diff -u %s %s", path, path, outp);
	}
	free(want);
	remove(outp);	/* a stale one from an earlier failure */
}

#endif /* IOVATOP_TESTS_TEST_UTIL_H */
