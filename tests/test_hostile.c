// SPDX-License-Identifier: GPL-2.0
/*
 * test_hostile.c - hostile inputs and outputs, through the real binary
 * ($IOVATOP, set by make check):
 *
 *   - names, comm, hostname and kernel release with terminal escapes (ESC,
 *     CSI, OSC, BEL, tabs, newlines) come out of every text output escaped
 *     (include/text_escape.h), JSON escaped its own way;
 *   (a trace naming 40k devices, or too many: tests/test_devices.c);
 *   - a trace that ends in a LOST record without a time still spans its
 *     records;
 *   - replay -b to a full disk exits 1 with one sentence;
 *   - report --dump-bitmaps makes its own 0700 directory and 0600 files,
 *     and refuses an existing directory or a symlink;
 *   - record -o refuses a FIFO (without hanging) and a device.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "model.h"
#include "text_escape.h"
#include "trace_file.h"
#include "test_util.h"

static char tmpdir[] = "/tmp/iovatop-test-hostile-XXXXXX";
static const char *bin;

static const char *tpath(const char *name)
{
	static char p[4][300];
	static int k;

	k = (k + 1) % 4;
	snprintf(p[k], sizeof(p[k]), "%s/%s", tmpdir, name);
	return p[k];
}

/* Run a shell command line; stdout to OUT, stderr to ERR; its exit status. */
static int sh(const char *fmt, ...)
{
	char cmd[2048], full[2400];
	va_list ap;
	int rc;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	snprintf(full, sizeof(full), "%s >%s 2>%s", cmd, tpath("out"), tpath("err"));
	rc = system(full);
	if (!WIFEXITED(rc))
		fail_msg("%s: did not exit (status 0x%x)", cmd, rc);
	return WEXITSTATUS(rc);
}

static char *slurp_out(void) { return tu_slurp(tpath("out"), NULL); }
static char *slurp_err(void) { return tu_slurp(tpath("err"), NULL); }

/* Nothing a terminal acts on: printable ASCII, newlines and (TSV) tabs. */
static void assert_plain(const char *what, const char *s, size_t n, bool tabs)
{
	size_t i;

	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if ((c >= 0x20 && c < 0x7f) || c == '\n' || (tabs && c == '\t'))
			continue;
		fail_msg("%s holds byte 0x%02x at %zu: %.*s", what, c, i,
			 (int)(n - i < 40 ? n - i : 40), s + i);
	}
}

static void assert_plain_file(const char *what, const char *path, bool tabs)
{
	size_t n;
	char *s = tu_slurp(path, &n);

	if (!s)
		fail_msg("%s: %s is missing", what, path);
	assert_plain(what, s, n, tabs);
	free(s);
}

/* ---- the hostile trace -------------------------------------------------- */

#define EVIL_DEV	"\x1b[2J\x1b[H\x9b" "31m\tx\ny\"z\\"
#define EVIL_COMM	"\x1b]0;pwn\x07\r"
#define EVIL_HOST	"\x1b]0;owned title\x07host"
#define EVIL_KREL	"6.12\x1b[2J\x1b[3J"

static void add(struct trace_writer *w, void *rec)
{
	assert_int_equal(trace_writer_add(w, rec), 0);
}

/* Three iterations of one device whose every string is hostile. */
static void write_hostile(const char *path, bool end_in_loss)
{
	struct trace_meta meta = { .layout = IOVA_LAYOUT_V6_11 };
	struct trace_writer *w;
	uint64_t ts = 5000000000ull;
	char err[256];
	int k;

	snprintf(meta.kernel_release, sizeof(meta.kernel_release), "%s", EVIL_KREL);
	snprintf(meta.hostname, sizeof(meta.hostname), "%s", EVIL_HOST);
	snprintf(meta.probe_mode, sizeof(meta.probe_mode), "fentry\x1b[5m");
	w = trace_writer_open(path, &meta, NULL, err, sizeof(err));
	if (!w)
		fail_msg("%s", err);
	for (k = 0; k < 3; k++, ts += 1000000000ull) {
		struct iova_rec_alloc a = { .hdr = { IOVA_REC_ALLOC, sizeof(a), 0, ts } };
		struct iova_rec_report_begin b = {
			.hdr = { IOVA_REC_REPORT_BEGIN, sizeof(b), 0, ts + 10 } };
		struct iova_rec_range r = { .hdr = { IOVA_REC_RANGE, sizeof(r), 0, ts + 20 } };
		struct iova_rec_report_end e = {
			.hdr = { IOVA_REC_REPORT_END, sizeof(e), 0, ts + 30 } };
		struct iova_rec_free f = { .hdr = { IOVA_REC_FREE, sizeof(f), 0, ts + 40 } };

		a.bitmap_id = b.bitmap_id = r.bitmap_id = e.bitmap_id = f.bitmap_id = k + 1;
		b.report_id = r.report_id = e.report_id = k + 100;
		a.iova = b.iova = 0x100000000ull;
		a.length = b.length = 64ull << 20;
		a.page_size = 4096;
		a.task.pid = b.task.pid = 4242;
		memcpy(a.task.comm, EVIL_COMM, sizeof(EVIL_COMM));
		memcpy(b.task.comm, EVIL_COMM, sizeof(EVIL_COMM));
		b.path = IOVA_PATH_VFIO;
		memcpy(b.devname, EVIL_DEV, sizeof(EVIL_DEV));
		r.iova = 0x100000000ull + (uint64_t)k * 0x10000;
		r.length = 0x4000;
		r.ncalls = 4;
		e.set_calls = 4;
		e.ranges = 1;
		add(w, &a);
		add(w, &b);
		add(w, &r);
		add(w, &e);
		add(w, &f);
	}
	if (end_in_loss) {
		/* as recorders before the fix wrote it: no time */
		struct iova_rec_lost l = { .hdr = { IOVA_REC_LOST, sizeof(l), 0, 0 },
					   .count = 5, .where = IOVA_LOST_RINGBUF };

		add(w, &l);
	}
	if (trace_writer_close(w, err, sizeof(err)))
		fail_msg("%s", err);
}

/* ---- tests ------------------------------------------------------------ */

static void test_escape_function(void **state)
{
	char buf[64];

	(void)state;
	assert_int_equal(text_escape(buf, sizeof(buf), "vfio 0000:3b:00.2", 64), 17);
	assert_string_equal(buf, "vfio 0000:3b:00.2");
	text_escape(buf, sizeof(buf), "a\x1b[2J\x9b\\\t\n\x7f", 64);
	assert_string_equal(buf, "a\\x1b[2J\\x9b\\\\\\x09\\x0a\\x7f");
	assert_int_equal(text_escape_len("a\x1b[2J\x9b\\\t\n\x7f", 64), strlen(buf));
	/* max bounds the input; an escape that does not fit is left out whole */
	text_escape(buf, sizeof(buf), "abcdef", 3);
	assert_string_equal(buf, "abc");
	assert_int_equal(text_escape(buf, 4, "ab\x1b", 64), 2);
	assert_string_equal(buf, "ab");
	assert_int_equal(text_escape(buf, 0, "x", 64), 0);
}

static void test_report_escaped(void **state)
{
	static const char *fmts[] = { "text", "csv", "json", "chrome-trace" };
	char *out;
	size_t i;

	(void)state;
	write_hostile(tpath("evil.trace"), false);
	for (i = 0; i < sizeof(fmts) / sizeof(fmts[0]); i++) {
		assert_int_equal(sh("%s report --format %s %s", bin, fmts[i],
				    tpath("evil.trace")), 0);
		assert_plain_file(fmts[i], tpath("out"), false);
	}
	assert_int_equal(sh("%s report %s", bin, tpath("evil.trace")), 0);
	out = slurp_out();
	/* escaped, not dropped: what the bytes were can be read */
	if (!strstr(out, "vfio \\x1b[2J\\x1b[H\\x9b31m\\x09x\\x0ay\"z\\\\") ||
	    !strstr(out, "\\x1b]0;pwn\\x07\\x0d") ||
	    !strstr(out, "host \\x1b]0;owned title\\x07host") ||
	    !strstr(out, "kernel 6.12\\x1b[2J\\x1b[3J"))
		fail_msg("the text report does not show the escapes: %s", out);
	free(out);
	/* the JSON keeps the bytes, escaped its own way */
	assert_int_equal(sh("%s report --format json %s", bin, tpath("evil.trace")), 0);
	out = slurp_out();
	if (!strstr(out, "\\u001b[2J"))
		fail_msg("the JSON report lost the name: %s", out);
	free(out);
}

static void test_outputs_escaped(void **state)
{
	static const char *views[] = { "-b", "--format csv", "--format json" };
	char dir[300];
	size_t i;

	(void)state;
	write_hostile(tpath("evil2.trace"), false);
	for (i = 0; i < sizeof(views) / sizeof(views[0]); i++) {
		assert_int_equal(sh("%s replay %s %s 1", bin, views[i],
				    tpath("evil2.trace")), 0);
		assert_plain_file(views[i], tpath("out"), false);
	}
	snprintf(dir, sizeof(dir), "%s", tpath("heat"));
	assert_int_equal(sh("%s report --heatmap %s %s", bin, dir,
			    tpath("evil2.trace")), 0);
	assert_int_equal(sh("cat %s/*.tsv %s/*.svg", dir, dir), 0);
	assert_plain_file("heatmap files", tpath("out"), true);
	snprintf(dir, sizeof(dir), "%s", tpath("dump-evil"));
	assert_int_equal(sh("%s report --dump-bitmaps %s %s", bin, dir,
			    tpath("evil2.trace")), 0);
	snprintf(dir, sizeof(dir), "%s/index.tsv", tpath("dump-evil"));
	assert_plain_file("index.tsv", dir, true);
	{
		char *idx = tu_slurp(dir, NULL);

		/* 1 header + 3 reports: a newline in a name makes no line */
		assert_int_equal(tu_lines(idx), 4);
		free(idx);
	}
}

/* Finding: a trace that ends in a loss reported 0.000 s and duration 0. */
static void test_lost_without_time(void **state)
{
	char *out;

	(void)state;
	write_hostile(tpath("lost.trace"), true);
	assert_int_equal(sh("%s report %s", bin, tpath("lost.trace")), 0);
	out = slurp_out();
	if (!strstr(out, "2.000 s of records") || !strstr(out, "lost records: 5"))
		fail_msg("a trace ending in a loss: %s", out);
	free(out);
}

static void test_replay_write_error(void **state)
{
	static const char *views[] = { "-b", "--format csv", "--format json" };
	size_t i;
	char *e;

	(void)state;
	if (access("/dev/full", W_OK))
		fail_msg("/dev/full is needed to test a full disk: %s", strerror(errno));
	write_hostile(tpath("full.trace"), false);
	for (i = 0; i < sizeof(views) / sizeof(views[0]); i++) {
		char cmd[700], full[900];
		int rc;

		snprintf(cmd, sizeof(cmd), "%s replay %s %s 1", bin, views[i],
			 tpath("full.trace"));
		snprintf(full, sizeof(full), "%s >/dev/full 2>%s", cmd, tpath("err"));
		rc = system(full);
		assert_true(WIFEXITED(rc));
		if (WEXITSTATUS(rc) != 1)
			fail_msg("%s >/dev/full exited %d", cmd, WEXITSTATUS(rc));
		e = slurp_err();
		if (tu_lines(e) != 1 || !strstr(e, "cannot write"))
			fail_msg("%s >/dev/full said: %s", cmd, e);
		free(e);
	}
}

static void test_dump_dir(void **state)
{
	struct stat st;
	char dir[300], file[400], *e;

	(void)state;
	write_hostile(tpath("dump.trace"), false);
	snprintf(dir, sizeof(dir), "%s", tpath("dump-new"));
	assert_int_equal(sh("%s report --dump-bitmaps %s %s", bin, dir,
			    tpath("dump.trace")), 0);
	assert_int_equal(lstat(dir, &st), 0);
	assert_true(S_ISDIR(st.st_mode));
	assert_int_equal(st.st_mode & 07777, 0700);
	snprintf(file, sizeof(file), "%s/index.tsv", dir);
	assert_int_equal(stat(file, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	snprintf(file, sizeof(file), "%s/100.bin", dir);
	assert_int_equal(stat(file, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);

	/* the same directory again: it exists now */
	assert_int_equal(sh("%s report --dump-bitmaps %s %s", bin, dir,
			    tpath("dump.trace")), 1);
	e = slurp_err();
	if (tu_lines(e) != 1 || !strstr(e, "already exists"))
		fail_msg("--dump-bitmaps into an existing directory said: %s", e);
	free(e);

	/* a symlink planted where the directory would go */
	assert_int_equal(mkdir(tpath("victim"), 0755), 0);
	assert_int_equal(symlink(tpath("victim"), tpath("dump-link")), 0);
	assert_int_equal(sh("%s report --dump-bitmaps %s %s", bin,
			    tpath("dump-link"), tpath("dump.trace")), 1);
	snprintf(file, sizeof(file), "%s/index.tsv", tpath("victim"));
	assert_int_equal(access(file, F_OK), -1);
}

static void test_record_not_regular(void **state)
{
	char *e;

	(void)state;
	assert_int_equal(mkfifo(tpath("fifo"), 0600), 0);
	/* the open must not block: timeout would exit 124 */
	assert_int_equal(sh("timeout 20 %s record -o %s -d 1", bin, tpath("fifo")), 1);
	e = slurp_err();
	if (tu_lines(e) != 1 || !strstr(e, "not a regular file"))
		fail_msg("record -o FIFO said: %s", e);
	free(e);
	assert_int_equal(sh("timeout 20 %s record -o /dev/null -d 1", bin), 1);
	e = slurp_err();
	if (tu_lines(e) != 1 || !strstr(e, "not a regular file"))
		fail_msg("record -o /dev/null said: %s", e);
	free(e);
}

/* The writer itself refuses them too: record checks, then opens. */
static void test_writer_not_regular(void **state)
{
	struct trace_meta meta = { .layout = IOVA_LAYOUT_V6_11 };
	char err[256];

	(void)state;
	assert_int_equal(mkfifo(tpath("fifo2"), 0600), 0);
	assert_null(trace_writer_open(tpath("fifo2"), &meta, NULL, err, sizeof(err)));
	if (!strstr(err, "not a regular file"))
		fail_msg("the writer on a FIFO said: %s", err);
	assert_null(trace_writer_open("/dev/null", &meta, NULL, err, sizeof(err)));
	if (!strstr(err, "not a regular file"))
		fail_msg("the writer on /dev/null said: %s", err);
}

static int setup(void **state)
{
	(void)state;
	bin = getenv("IOVATOP");
	if (!bin || !mkdtemp(tmpdir))
		return -1;
	return 0;
}

static int teardown(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf %s", tmpdir);
	return system(cmd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_escape_function),
		cmocka_unit_test(test_report_escaped),
		cmocka_unit_test(test_outputs_escaped),
		cmocka_unit_test(test_lost_without_time),
		cmocka_unit_test(test_replay_write_error),
		cmocka_unit_test(test_dump_dir),
		cmocka_unit_test(test_record_not_regular),
		cmocka_unit_test(test_writer_not_regular),
	};

	if (!getenv("IOVATOP")) {
		fprintf(stderr, "test_hostile: IOVATOP is not set: run the tests with make check\n");
		return 1;
	}
	return cmocka_run_group_tests(tests, setup, teardown);
}
