// SPDX-License-Identifier: GPL-2.0
/*
 * test_report.c - iovatop report on a synthetic migration: golden text,
 * JSON and CSV; a cut trace still reports; bad files get one sentence and
 * exit 1; --dump-bitmaps writes what the kernel would have.
 *
 * UPDATE_GOLDEN=1 rewrites tests/golden/report*.* from this run
 * (tests/test_util.h).
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
#include <jansson.h>

#include "commands.h"
#include "trace_file.h"
#include "test_util.h"

#define MS	1000000ull
#define MiB	(1ull << 20)
#define T0	5000000000000ull	/* the records' clock */

static char tmpdir[] = "/tmp/iovatop-test-report-XXXXXX";
static char data_dir[512];

static const char *tpath(const char *name)
{
	static char p[4][256];
	static int k;

	k = (k + 1) % 4;
	snprintf(p[k], sizeof(p[k]), "%s/%s", tmpdir, name);
	return p[k];
}

/* ---- the synthetic migration ------------------------------------------ */

static struct trace_writer *W;
static uint64_t next_id = 100;

static void add(void *rec)
{
	assert_int_equal(trace_writer_add(W, rec), 0);
}

static void task(struct iova_rec_task *t, uint32_t pid, const char *comm)
{
	t->pid = pid;
	t->tid = pid + 1;
	snprintf(t->comm, sizeof(t->comm), "%s", comm);
}

/*
 * One ioctl: alloc, begin, `pages` dirty pages as ranges of 4 pages
 * spread over [hot, hot + hot_len), `bg` single pages spread over the
 * whole range, end, free.
 */
static void ioctl_report(uint64_t ts, const char *devname, uint32_t hwpt,
			 uint64_t iova, uint64_t len, uint64_t page,
			 uint64_t hot, uint64_t hot_len, uint64_t pages,
			 uint64_t bg, bool lose, bool anomaly)
{
	struct iova_rec_alloc a = { .hdr = { IOVA_REC_ALLOC, sizeof(a), 0, ts } };
	struct iova_rec_report_begin b = {
		.hdr = { IOVA_REC_REPORT_BEGIN, sizeof(b), 1, ts + 1000 } };
	struct iova_rec_range r = { .hdr = { IOVA_REC_RANGE, sizeof(r), 1, 0 } };
	struct iova_rec_report_end e = {
		.hdr = { IOVA_REC_REPORT_END, sizeof(e), 1, 0 } };
	struct iova_rec_free f = { .hdr = { IOVA_REC_FREE, sizeof(f), 0, 0 } };
	uint64_t bid = next_id++, rid = next_id++, i, n = 0, step;

	a.bitmap_id = bid;
	a.iova = iova;
	a.length = len;
	a.page_size = page;
	a.user_addr = 0x7f1234560000ull;
	a.layout = IOVA_LAYOUT_V6_11;
	task(&a.task, devname ? 2001 : 3001, devname ? "qemu-vm1" : "qemu-vm2");
	add(&a);
	b.bitmap_id = bid;
	b.report_id = rid;
	b.iova = iova;
	b.length = len;
	b.path = devname ? IOVA_PATH_VFIO : IOVA_PATH_IOMMUFD;
	b.hwpt_id = hwpt;
	if (devname)
		snprintf(b.devname, sizeof(b.devname), "%s", devname);
	b.task = a.task;
	add(&b);
	r.bitmap_id = bid;
	r.report_id = rid;
	step = pages / 4 ? hot_len / (pages / 4) : hot_len;
	step -= step % page;
	for (i = 0; i < pages / 4; i++) {
		r.hdr.ts_ns = ts + 2000 + i;
		r.iova = hot + i * step;
		r.length = 4 * page;
		r.ncalls = 4;
		add(&r);
		n++;
	}
	for (i = 0; i < bg; i++) {
		r.hdr.ts_ns = ts + 900000;
		r.iova = iova + (len / bg) * i + page * 3;
		r.length = page;
		r.ncalls = 1;
		add(&r);
		n++;
	}
	if (anomaly) {
		struct iova_rec_anomaly an = {
			.hdr = { IOVA_REC_ANOMALY, sizeof(an), 1, ts + 900001 },
			.bitmap_id = bid, .report_id = rid, .iova = iova + len,
			.length = page, .kind = IOVA_ANOM_BEYOND_END,
		};
		add(&an);
	}
	if (lose) {
		struct iova_rec_lost l = {
			.hdr = { IOVA_REC_LOST, sizeof(l), 1, ts + 900002 },
			.count = 3, .where = IOVA_LOST_RINGBUF,
		};
		add(&l);
	}
	e.hdr.ts_ns = ts + 1000000;
	e.bitmap_id = bid;
	e.report_id = rid;
	e.duration_ns = 999000;
	e.set_calls = n;
	e.ranges = n + (lose ? 3 : 0);
	e.lost = lose ? 3 : 0;
	e.anomalies = anomaly;
	add(&e);
	f.hdr.ts_ns = ts + 1001000;
	f.bitmap_id = bid;
	add(&f);
}

/*
 * Twelve seconds of pre-copy:
 *   vfio 0000:3b:00.1   hot 4 MiB at 0x140400000, 1000 pages shrinking 15 %
 *                       per pass, one report a second (shrinking)
 *   iommufd hwpt 7      2 KiB pages, 300 -> growing 10 % per pass
 *                       every 2 s (growing)
 *   vfio 0000:3c:00.0   two ranges read one after the other, flat; one
 *                       report loses records, one has an anomaly
 */
static void write_synthetic(const char *path, bool clean)
{
	struct trace_meta meta = {
		.layout = IOVA_LAYOUT_V6_11, .rule = 0,
		.start_realtime_ns = 1795000000000000000ull, .start_mono_ns = T0,
	};
	char err[256];
	double hot = 1000, grow = 300;
	int s;

	strcpy(meta.kernel_release, "6.12.117-iovatop");
	strcpy(meta.probe_mode, "fentry");
	strcpy(meta.hostname, "testvm");
	W = trace_writer_open(path, &meta, NULL, err, sizeof(err));
	assert_non_null(W);
	next_id = 100;
	for (s = 0; s < 12; s++) {
		uint64_t t = T0 + (uint64_t)s * 1000 * MS;

		ioctl_report(t + 10 * MS, "0000:3b:00.1", 0, 0x100000000ull,
			     2048 * MiB, 4096, 0x140400000ull, 4 * MiB,
			     (uint64_t)hot / 4 * 4, 16, false, false);
		hot *= 0.85;
		if (s % 2 == 0) {
			ioctl_report(t + 200 * MS, NULL, 7, 0x8000000, 256 * MiB,
				     2048, 0x9000000, 2 * MiB,
				     (uint64_t)grow / 4 * 4, 8, false, false);
			grow *= 1.1;
		}
		ioctl_report(t + 400 * MS, "0000:3c:00.0", 0, 0x40000000,
			     512 * MiB, 4096, 0x48000000, 8 * MiB, 200, 4,
			     s == 5, false);
		ioctl_report(t + 450 * MS, "0000:3c:00.0", 0, 0x80000000,
			     512 * MiB, 4096, 0x90000000, 1 * MiB, 60, 4, false,
			     s == 7);
	}
	if (clean)
		assert_int_equal(trace_writer_close(W, err, sizeof(err)), 0);
	else
		trace_writer_abandon(W);
}

static int setup(void **state)
{
	const char *f = __FILE__, *slash = strrchr(f, '/');

	(void)state;
	if (!mkdtemp(tmpdir))
		return -1;
	snprintf(data_dir, sizeof(data_dir), "%.*sdata",
		 slash ? (int)(slash - f + 1) : 0, f);
	return 0;
}

static int teardown(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf %s", tmpdir);
	return system(cmd);
}

/* ---- running the command ---------------------------------------------- */

/* Run `iovatop report ARGS`; stdout and stderr go to files. */
static int run(char **out, char **errout, ...)
{
	char *argv[16] = { "report" };
	int argc = 1, ret, o, e, so, se;
	va_list ap;

	va_start(ap, errout);
	while ((argv[argc] = va_arg(ap, char *)))
		argc++;
	va_end(ap);
	fflush(stdout);
	fflush(stderr);
	so = dup(1);
	se = dup(2);
	o = open(tpath("stdout"), O_CREAT | O_TRUNC | O_WRONLY, 0600);
	e = open(tpath("stderr"), O_CREAT | O_TRUNC | O_WRONLY, 0600);
	assert_true(so >= 0 && se >= 0 && o >= 0 && e >= 0);
	dup2(o, 1);
	dup2(e, 2);
	ret = cmd_report(argc, argv);
	fflush(stdout);
	fflush(stderr);
	dup2(so, 1);
	dup2(se, 2);
	close(o);
	close(e);
	close(so);
	close(se);
	*out = tu_slurp(tpath("stdout"), NULL);
	*errout = tu_slurp(tpath("stderr"), NULL);
	return ret;
}

/* ---- tests ------------------------------------------------------------ */

static void test_golden(void **state)
{
	char *out, *err;

	(void)state;
	write_synthetic(tpath("synthetic.trace"), true);
	assert_int_equal(run(&out, &err, tpath("synthetic.trace"), NULL), 0);
	assert_string_equal(err, "");
	/* the hottest device and its hot spot are named up front */
	assert_non_null(strstr(out, "hottest device: vfio 0000:3b:00.1"));
	assert_non_null(strstr(out, "hottest region 0x140400000-0x1407"));
	tu_golden("report.txt", out);
	free(out);
	free(err);

	assert_int_equal(run(&out, &err, "--format", "json",
			     tpath("synthetic.trace"), NULL), 0);
	assert_non_null(strstr(out, "\"schema\": \"iovatop-report/2\""));
	assert_non_null(strstr(out, "\"trend\": \"growing\""));
	tu_golden("report.json", out);
	free(out);
	free(err);

	assert_int_equal(run(&out, &err, "-f", "csv", tpath("synthetic.trace"),
			     NULL), 0);
	assert_int_equal(tu_lines(out), 4);
	tu_golden("report.csv", out);
	free(out);
	free(err);
}

/* The CSV row that starts with start holds ",word," (in its trend column). */
static void csv_row_has(const char *csv, const char *start, const char *word)
{
	const char *row = strstr(csv, start), *end, *w;

	if (!row)
		fail_msg("no CSV row starts with %s:\n%s", start, csv);
	end = strchr(row, '\n');
	w = strstr(row, word);
	if (!w || (end && w > end))
		fail_msg("the row %.*s is not %s", end ? (int)(end - row) : (int)strlen(row),
			 row, word);
}

static void test_trends(void **state)
{
	char *out, *err;

	(void)state;
	write_synthetic(tpath("synthetic.trace"), true);
	assert_int_equal(run(&out, &err, "-f", "csv", tpath("synthetic.trace"),
			     NULL), 0);
	/* each device's own row carries its trend */
	csv_row_has(out, "\"vfio 0000:3b:00.1\",vfio,2001,\"qemu-vm1\",12,12,",
		    ",shrinking,");
	csv_row_has(out, "\"iommufd hwpt 7 pid 3001\",iommufd,3001,", ",growing,");
	/* the two-range device: 24 reports, 12 iterations */
	csv_row_has(out, "\"vfio 0000:3c:00.0\",vfio,2001,\"qemu-vm1\",24,12,",
		    ",flat,");
	free(out);
	free(err);
}

static void test_truncated(void **state)
{
	char *out, *err, *buf;
	size_t len;
	FILE *f;

	(void)state;
	write_synthetic(tpath("full.trace"), true);
	buf = tu_slurp(tpath("full.trace"), &len);
	f = fopen(tpath("cut.trace"), "w");
	fwrite(buf, 1, len * 2 / 3, f);
	fclose(f);
	free(buf);
	assert_int_equal(run(&out, &err, tpath("cut.trace"), NULL), 0);
	assert_non_null(strstr(out, "INCOMPLETE: "));
	assert_non_null(strstr(out, "cut.trace was cut short"));
	assert_non_null(strstr(out, "hottest device:"));
	assert_non_null(strstr(err, "was cut short"));
	assert_int_equal(tu_lines(err), 1);
	free(out);
	free(err);
	assert_int_equal(run(&out, &err, "-f", "json", tpath("cut.trace"), NULL), 0);
	assert_non_null(strstr(out, "\"status\": \"truncated\""));
	free(out);
	free(err);

	/* killed recorder: no end marker, but all blocks whole */
	write_synthetic(tpath("killed.trace"), false);
	assert_int_equal(run(&out, &err, tpath("killed.trace"), NULL), 0);
	assert_non_null(strstr(out, "no end marker"));
	free(out);
	free(err);
}

static void expect_failure(const char *file, const char *words)
{
	char *out, *err;

	assert_int_equal(run(&out, &err, file, NULL), EXIT_RUNTIME);
	assert_string_equal(out, "");
	if (!strstr(err, words))
		fail_msg("stderr '%s' lacks '%s'", err, words);
	assert_int_equal(tu_lines(err), 1);	/* one sentence */
	free(out);
	free(err);
}

static void test_bad_files(void **state)
{
	char *buf;
	size_t len;
	FILE *f;

	(void)state;
	f = fopen(tpath("empty"), "w");
	fclose(f);
	expect_failure(tpath("empty"), "is empty");
	f = fopen(tpath("text"), "w");
	fputs("root:x:0:0:root:/root:/bin/bash\n", f);
	fclose(f);
	expect_failure(tpath("text"), "not an iovatop trace");
	expect_failure(tpath("missing"), "No such file");
	expect_failure(tmpdir, "directory");

	write_synthetic(tpath("v.trace"), true);
	buf = tu_slurp(tpath("v.trace"), &len);
	/* only the header: cut inside it */
	f = fopen(tpath("hdr.trace"), "w");
	fwrite(buf, 1, 100, f);
	fclose(f);
	expect_failure(tpath("hdr.trace"), "inside its header");
	/* a flipped byte in the middle */
	buf[len / 2] ^= 1;
	f = fopen(tpath("flip.trace"), "w");
	fwrite(buf, 1, len, f);
	fclose(f);
	expect_failure(tpath("flip.trace"), "corrupted");
	buf[len / 2] ^= 1;
	/* a future format */
	buf[8] = 7;
	f = fopen(tpath("v7.trace"), "w");
	fwrite(buf, 1, len, f);
	fclose(f);
	expect_failure(tpath("v7.trace"), "version 7");
	free(buf);
}

static void test_usage(void **state)
{
	char *out, *err;

	(void)state;
	assert_int_equal(run(&out, &err, NULL), EXIT_USAGE);
	free(out);
	free(err);
	assert_int_equal(run(&out, &err, "-f", "xml", "x", NULL), EXIT_USAGE);
	assert_non_null(strstr(err, "unknown format"));
	free(out);
	free(err);
	assert_int_equal(run(&out, &err, "--help", NULL), 0);
	assert_non_null(strstr(out, "usage: iovatop report"));
	assert_non_null(strstr(out, "--max-bitmap SIZE"));
	free(out);
	free(err);
	/* below 1M, past 1T, or not a size: one sentence, exit 2 */
	assert_int_equal(run(&out, &err, "--max-bitmap", "12", "x", NULL), EXIT_USAGE);
	assert_non_null(strstr(err, "--max-bitmap wants a size from 1M to 1T"));
	free(out);
	free(err);
	assert_int_equal(run(&out, &err, "--max-bitmap", "2T", "x", NULL), EXIT_USAGE);
	free(out);
	free(err);
	assert_int_equal(run(&out, &err, "--max-bitmap", "64Q", "x", NULL), EXIT_USAGE);
	free(out);
	free(err);
}

/*
 * iovatop record checks its output before attaching: a wrong path is told
 * first, and a recording that cannot start (this host has no traceable
 * iova_bitmap_set(), or is not root) leaves an existing trace untouched
 * and no new file behind.
 */
static void test_record_output(void **state)
{
	const char *bin = getenv("IOVATOP");
	char cmd[1200], *out;
	int rc;

	(void)state;
	if (!bin)
		fail_msg("IOVATOP is not set: run the tests with make check");
	snprintf(cmd, sizeof(cmd), "%s record -o %s/no/such/dir.trace 2>%s",
		 bin, tmpdir, tpath("rec.err"));
	rc = system(cmd);
	assert_true(WIFEXITED(rc) && WEXITSTATUS(rc) == EXIT_RUNTIME);
	out = tu_slurp(tpath("rec.err"), NULL);
	if (!strstr(out, "cannot create") || !strstr(out, "No such file"))
		fail_msg("record with a bad path said: %s", out);
	assert_int_equal(tu_lines(out), 1);
	free(out);

	write_synthetic(tpath("keep.trace"), true);
	{
		size_t before, after;
		char *a = tu_slurp(tpath("keep.trace"), &before), *b;

		snprintf(cmd, sizeof(cmd), "%s record -o %s -d 1 2>%s", bin,
			 tpath("keep.trace"), tpath("rec.err"));
		rc = system(cmd);
		b = tu_slurp(tpath("keep.trace"), &after);
		if (WIFEXITED(rc) && WEXITSTATUS(rc) == 0) {
			/* a host that can trace: it recorded, as it should */
			free(a);
			free(b);
			return;
		}
		assert_true(WIFEXITED(rc) && WEXITSTATUS(rc) == EXIT_RUNTIME);
		assert_int_equal(before, after);
		assert_memory_equal(a, b, before);
		free(a);
		free(b);
	}
	snprintf(cmd, sizeof(cmd), "%s record -o %s -d 1 2>%s", bin,
		 tpath("new.trace"), tpath("rec.err"));
	rc = system(cmd);
	assert_true(WIFEXITED(rc) && WEXITSTATUS(rc) == EXIT_RUNTIME);
	assert_int_equal(access(tpath("new.trace"), F_OK), -1);
}

static void test_dump_bitmaps(void **state)
{
	char *out, *err, *index, *line, *bin;
	char dir[300], bpath[400];
	uint64_t rid = 0, iova, length, page, dirty, words, n = 0, set = 0;
	size_t len, k;

	(void)state;
	write_synthetic(tpath("d.trace"), true);
	snprintf(dir, sizeof(dir), "%s", tpath("dump"));
	assert_int_equal(run(&out, &err, "--dump-bitmaps", dir, tpath("d.trace"),
			     NULL), 0);
	free(out);
	free(err);
	snprintf(bpath, sizeof(bpath), "%s/index.tsv", dir);
	index = tu_slurp(bpath, NULL);
	assert_non_null(index);
	{
		const char *hdr = "report_id\tbitmap_id\tpath\tdevice\tpid\tcomm\t"
				  "iova\tlength\tpage_size\tflags\tdirty_pages\tfile\t"
				  "ts_begin_ns\tts_end_ns\n";

		assert_true(!strncmp(index, hdr, strlen(hdr)));
	}
	/* 12 + 6 + 24 reports, all rebuilt */
	assert_int_equal(tu_lines(index), 1 + 42);
	/* check every file's size and its popcount against dirty_pages */
	for (line = strchr(index, '\n') + 1; *line; line = strchr(line, '\n') + 1) {
		char dev[64], comm[32], path[16], file[64];
		unsigned int pid, flags;
		uint64_t bid, t0, t1;

		assert_int_equal(sscanf(line, "%lu\t%lu\t%15[^\t]\t%63[^\t]\t%u\t%31[^\t]\t%lx\t%lx\t%lu\t%x\t%lu\t%63s\t%lu\t%lu",
					&rid, &bid, path, dev, &pid, comm, &iova,
					&length, &page, &flags, &dirty, file, &t0,
					&t1), 14);
		/* the report's own clock: it begins, then ends */
		assert_true(t0 > 0 && t1 >= t0);
		snprintf(bpath, sizeof(bpath), "%s/%s", dir, file);
		bin = tu_slurp(bpath, &len);
		assert_non_null(bin);
		words = ((length + page - 1) / page + 63) / 64;
		assert_int_equal(len, words * 8);
		for (set = 0, k = 0; k < len; k++)
			set += (uint64_t)__builtin_popcount((unsigned char)bin[k]);
		assert_int_equal(set, dirty);
		if (n == 0) {
			/* the first report: 1000 pages from 0x140400000, 16 more */
			assert_string_equal(dev, "vfio 0000:3b:00.1");
			assert_string_equal(comm, "qemu-vm1");
			assert_int_equal(dirty, 1000 + 16);
			k = (0x140400000ull - 0x100000000ull) / 4096 / 8;
			assert_int_equal((unsigned char)bin[k - 1], 0);
			assert_int_equal((unsigned char)bin[k], 0xff);
			assert_int_equal((unsigned char)bin[k + 124], 0xff);
			assert_int_equal((unsigned char)bin[k + 125], 0);
		}
		free(bin);
		n++;
	}
	assert_int_equal(n, 42);
	free(index);
}

/*
 * A trace recorded in the test VM (tests/data/README.md): the report
 * names the hotspot the workload programmed, and every device's dirty
 * pages are what the workload says it dirtied.
 */
static void vm_trace(const char *name, int ndevices)
{
	char trace[600], tsv[600], gname[128], *out, *err, *truth, *line;
	int checked = 0;

	snprintf(trace, sizeof(trace), "%s/%s.trace", data_dir, name);
	snprintf(tsv, sizeof(tsv), "%s/%s.devices.tsv", data_dir, name);
	assert_int_equal(run(&out, &err, trace, NULL), 0);
	assert_string_equal(err, "");
	/* stream 0 of 0000:3b:00.2: 256 MiB at +256 MiB, never converging */
	assert_non_null(strstr(out, "hottest device: vfio 0000:3b:00.2"));
	assert_non_null(strstr(out, "hottest region 0x10000000-0x1fffffff"));
	assert_non_null(strstr(out, "lost records: 0 "));
	assert_non_null(strstr(out, "incomplete reports: 0;"));
	snprintf(gname, sizeof(gname), "report-%s.txt", name);
	tu_golden(gname, out);
	free(out);
	free(err);

	assert_int_equal(run(&out, &err, "-f", "csv", trace, NULL), 0);
	truth = tu_slurp(tsv, NULL);
	assert_non_null(truth);
	for (line = strchr(truth, '\n') + 1; *line; line = strchr(line, '\n') + 1) {
		char dev[64], path[16], dname[96], want[160], *row;
		unsigned long long expect, reports, iters, dirty;
		unsigned int pid;
		int i;
		const char *p = line;

		assert_int_equal(sscanf(line, "%63[^\t]\t%15[^\t]\t%u", dev, path,
					&pid), 3);
		/* expect_total is the last column */
		for (i = 0; i < 11; i++)
			p = strchr(p, '\t') + 1;
		expect = strtoull(p, NULL, 10);
		if (!strcmp(path, "vfio"))
			snprintf(dname, sizeof(dname), "vfio %s", dev);
		else
			/* an ABI 1 trace: the hwpt's context is its process */
			snprintf(dname, sizeof(dname), "iommufd hwpt %s pid %u",
				 dev + 4, pid);
		snprintf(want, sizeof(want), "\"%s\",%s,", dname, path);
		row = strstr(out, want);
		if (!row)
			fail_msg("no row for %s", dname);
		assert_int_equal(sscanf(strchr(row + strlen(want), ',') + 1,
					"%*[^,],%llu,%llu,%llu", &reports, &iters,
					&dirty), 3);
		if (iters == 6) {
			/* one report per range and iteration (two ranges: 12) */
			assert_true(reports == 6 || reports == 12);
			assert_int_equal(dirty, expect);
		} else {
			/* hwpt18 peeks once with NO_CLEAR: one more report */
			assert_int_equal(reports, 7);
			assert_int_equal(iters, 7);
			assert_true(dirty > expect);
		}
		checked++;
	}
	assert_int_equal(checked, ndevices);
	free(truth);
	free(out);
	free(err);
}

/* 6.12: vfio and iommufd, 6.11+ layout, dynamic pinning */
static void test_vm_trace_6_12(void **state)
{
	(void)state;
	vm_trace("vm-6.12-demo", 7);
}

/* 6.1.192: the windowed iterator (a 96 GiB range walks two windows) */
static void test_vm_trace_6_1(void **state)
{
	(void)state;
	vm_trace("vm-6.1-multi", 4);
}

/*
 * A real QEMU 10 migration in the test VM (tests/data/README.md): two
 * vfio-pci devices of the test driver, four dirty syncs, the rates
 * dropping at sync 2 ("late"). Its info.txt says QEMU ran 4 syncs; every
 * device must show 4 iterations with the programmed pages, QEMU's pid and
 * comm, and every bitmap --verify read back matching.
 */
static void test_vm_trace_qemu(void **state)
{
	char trace[600], *out, *err;

	(void)state;
	snprintf(trace, sizeof(trace), "%s/vm-6.12-qemu-late.trace", data_dir);
	assert_int_equal(run(&out, &err, trace, NULL), 0);
	assert_string_equal(err, "");
	assert_non_null(strstr(out, "lost records: 0 "));
	assert_non_null(strstr(out, "incomplete reports: 0;"));
	assert_non_null(strstr(out, "hottest device: vfio 0000:3b:00.2"));
	assert_non_null(strstr(out, "vfio 0000:3b:00.2 (pid 303 qemu-system-x86)"));
	assert_non_null(strstr(out, "vfio 0000:3b:00.3 (pid 303 qemu-system-x86)"));
	assert_non_null(strstr(out, "dirty pages per iteration (shrinking): 416 416 16 16\n"));
	assert_non_null(strstr(out, "dirty pages per iteration (shrinking): 128 128 24 24\n"));
	assert_non_null(strstr(out, "verified 24 reports, 0 mismatched"));
	tu_golden("report-vm-6.12-qemu-late.txt", out);
	free(out);
	free(err);
}

/*
 * The forecast per iteration over the demo trace on a 100 Mbit/s link:
 * vm1's 0000:3b:00.2 (programmed constant, some 30-50 MB/s) cannot, from
 * its second iteration on (the first has no rate); vm4's halving device
 * ends converging. Text against a golden file, JSON parsed back.
 */
static void test_forecast(void **state)
{
	char trace[700], *out, *err;
	json_t *j, *vms, *vm = NULL, *its;
	size_t i, n;

	(void)state;
	snprintf(trace, sizeof(trace), "%s/vm-6.12-demo.trace", data_dir);
	assert_int_equal(run(&out, &err, "--link-rate", "100M", trace, NULL), 0);
	/* vm1's device dirties the same 105 MB each iteration: a set */
	assert_non_null(strstr(out, "pid 83 qemu-vm1: cannot converge at 12.5 MB/s: vfio 0000:3b:00.2 rewrites 105 MB each iteration"));
	assert_non_null(strstr(out, "pid 83 iter 2: CANNOT CONVERGE: vfio 0000:3b:00.2"));
	assert_non_null(strstr(out, "pid 86 qemu-vm4: converges in about 1 more iteration"));
	tu_golden("report-forecast-demo.txt", out);
	free(out);
	free(err);

	assert_int_equal(run(&out, &err, "-f", "json", "--link-rate", "100M",
			     "--downtime-limit", "300ms", trace, NULL), 0);
	j = json_loads(out, 0, NULL);
	assert_non_null(j);
	vms = json_object_get(json_object_get(j, "forecast"), "vms");
	assert_true(json_is_array(vms));
	n = json_array_size(vms);
	assert_true(n >= 5);
	for (i = 0; i < n; i++) {
		vm = json_array_get(vms, i);
		if (json_integer_value(json_object_get(vm, "pid")) == 83)
			break;
	}
	assert_true(i < n);
	assert_string_equal(json_string_value(json_object_get(vm, "verdict")), "cannot");
	its = json_object_get(vm, "iterations");
	assert_int_equal(json_array_size(its), 6);
	assert_string_equal(json_string_value(json_object_get(json_array_get(its, 1), "verdict")),
			    "cannot");
	assert_string_equal(json_string_value(json_array_get(json_object_get(json_array_get(its, 1), "blamed"), 0)),
			    "vfio 0000:3b:00.2");
	assert_true(json_real_value(json_object_get(json_object_get(j, "forecast"),
						    "link_bytes_per_s")) == 12.5e6);
	json_decref(j);
	free(out);
	free(err);

	/* what a trace cannot give, or a format that has no place for it */
	assert_int_equal(run(&out, &err, "--qmp", "/run/x.qmp", trace, NULL), EXIT_USAGE);
	assert_non_null(strstr(err, "report reads a trace; drop --qmp"));
	free(out);
	free(err);
	assert_int_equal(run(&out, &err, "--downtime-limit", "1s", trace, NULL), EXIT_USAGE);
	assert_non_null(strstr(err, "recorded without --qmp): give --link-rate for the forecast"));
	free(out);
	free(err);

	/*
	 * CSV: the devices' table, an empty line, the forecast's table with
	 * the same steps and verdicts as the JSON above
	 */
	assert_int_equal(run(&out, &err, "-f", "csv", "--link-rate", "100M", trace, NULL), 0);
	{
		const char *t = strstr(out, "\n\npid,comm,t_s,iteration,verdict,iterations_left,");
		const char *l;
		unsigned int rows = 0, last83 = 0;

		assert_non_null(t);
		assert_non_null(strstr(out, "device,path,pid,comm,"));
		for (l = strchr(t + 2, '\n'); l && l[1]; l = strchr(l + 1, '\n')) {
			if (!strncmp(l + 1, "83,", 3)) {
				rows++;
				if (strstr(l + 1, ",1,\"cannot converge at 12.5 MB/s: vfio 0000:3b:00.2 rewrites") &&
				    strchr(l + 1, '\n') > strstr(l + 1, ",1,\"cannot"))
					last83++;
			}
		}
		assert_int_equal(rows, 6);
		assert_int_equal(last83, 1);
		assert_non_null(strstr(t, "83,\"qemu-vm1\",5.439,2,cannot,,12500000.000,assumed,0.300000,"));
	}
	tu_golden("report-forecast-demo.csv", out);
	free(out);
	free(err);

	/*
	 * A real QEMU migration recorded with --qmp (70-qemu.sh's stuck, in
	 * the test VM): no option needed. Device A rewrites 416 pages a
	 * sync, B 128; QEMU measured up to 5.2 MB/s at 300 ms: A alone is
	 * over the threshold from the second iteration on, B alone is not;
	 * the harness cancelled it at sync 5.
	 */
	snprintf(trace, sizeof(trace), "%s/vm-6.12-qemu-stuck-qmp.trace", data_dir);
	assert_int_equal(run(&out, &err, trace, NULL), 0);
	assert_non_null(strstr(out, "pid 383 qemu-system-x86: migration cancelled"));
	assert_non_null(strstr(out, "qemu 383 active iter 2: CANNOT CONVERGE: vfio 0000:3b:00.2 1.70 MB/iter, needs 7.43 MB/s  bw 5.20 MB/s qemu  limit 300ms qemu"));
	assert_null(strstr(out, "CANNOT CONVERGE: vfio 0000:3b:00.3"));
	assert_null(strstr(out, "active iter 3: converges"));
	tu_golden("report-forecast-qemu-stuck.txt", out);
	free(out);
	free(err);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_forecast),
		cmocka_unit_test(test_golden),
		cmocka_unit_test(test_trends),
		cmocka_unit_test(test_truncated),
		cmocka_unit_test(test_bad_files),
		cmocka_unit_test(test_usage),
		cmocka_unit_test(test_dump_bitmaps),
		cmocka_unit_test(test_record_output),
		cmocka_unit_test(test_vm_trace_6_12),
		cmocka_unit_test(test_vm_trace_6_1),
		cmocka_unit_test(test_vm_trace_qemu),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
