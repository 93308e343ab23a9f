// SPDX-License-Identifier: GPL-2.0
/*
 * test_view_replay.c - the views end to end, through the real binary
 * ($IOVATOP, set by make check):
 *
 *   - batch output of a replayed trace against golden files in
 *     tests/golden/ (UPDATE_GOLDEN=1 rewrites them; tests/test_util.h);
 *   - the forecast in the JSON lines, against its own inputs;
 *   - cut, empty and foreign files: one sentence, the right exit status;
 *   - the live view on this machine: it runs where the kernel has
 *     iova_bitmap_set, and fails with one sentence and exit 1 where not;
 *   - the curses view in tmux (new-session -x 120 -y 40, send-keys,
 *     capture-pane): stepping, keys, resize down to nothing, zero rows,
 *     and the screen showing the same rows as the batch output.
 *
 * The traces are synthetic (tests/synth_trace.h), written with the trace
 * writer when the tests start, and the traces recorded in the test VM
 * that are committed in tests/data/ (a test fails when they are gone).
 */
#define _GNU_SOURCE	/* strcasestr */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "qmp_record.h"
#include "synth_trace.h"
#include "test_util.h"
#include "trace_file.h"

static char tmpdir[] = "/tmp/iovatop-view-XXXXXX";
static char bin[512];
static char tests_dir[512];
static char synth[600], empty[600], cut[600];
static char sock[64];

/* ---- helpers ------------------------------------------------------------ */

struct run {
	int status;		/* exit status, or -1 if it did not exit */
	char *out, *err;
};

/* Run a shell command line, stdout and stderr captured. */
static void run(struct run *r, const char *fmt, ...)
{
	char cmd[2048], full[2600], path[700];
	va_list ap;
	int st;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	snprintf(full, sizeof(full), "(%s) >%s/out 2>%s/err </dev/null", cmd,
		 tmpdir, tmpdir);
	st = system(full);
	r->status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
	snprintf(path, sizeof(path), "%s/out", tmpdir);
	r->out = tu_slurp(path, NULL);
	snprintf(path, sizeof(path), "%s/err", tmpdir);
	r->err = tu_slurp(path, NULL);
	assert_non_null(r->out);
	assert_non_null(r->err);
}

static void run_free(struct run *r)
{
	free(r->out);
	free(r->err);
}

/* ---- setup -------------------------------------------------------------- */

static int setup(void **state)
{
	char err[256];
	const char *env = getenv("IOVATOP");
	char *slash;

	(void)state;
	if (!mkdtemp(tmpdir))
		return -1;
	/* the header's clock is local time: the goldens are in UTC */
	setenv("TZ", "UTC", 1);
	snprintf(bin, sizeof(bin), "%s", env && *env ? env : "./iovatop");
	if (access(bin, X_OK)) {
		fprintf(stderr, "test_view_replay: %s is not executable; run it through make check.\n",
			bin);
		return -1;
	}
	/* tests/ beside this source, whatever the working directory */
	snprintf(tests_dir, sizeof(tests_dir), "%s", __FILE__);
	slash = strrchr(tests_dir, '/');
	if (slash)
		*slash = '\0';
	else
		snprintf(tests_dir, sizeof(tests_dir), ".");

	snprintf(synth, sizeof(synth), "%s/synth.trace", tmpdir);
	snprintf(empty, sizeof(empty), "%s/empty.trace", tmpdir);
	snprintf(cut, sizeof(cut), "%s/cut.trace", tmpdir);
	if (synth_write(synth, 6.0, SYNTH_NDEVS, err, sizeof(err)) ||
	    synth_write(empty, 2.0, 0, err, sizeof(err))) {
		fprintf(stderr, "test_view_replay: %s\n", err);
		return -1;
	}
	/* a private server whose socket goes away with the directory */
	snprintf(sock, sizeof(sock), "%s/tmux", tmpdir);
	return 0;
}

static int teardown(void **state)
{
	char cmd[800];

	(void)state;
	snprintf(cmd, sizeof(cmd), "tmux -S %s kill-server 2>/dev/null; rm -rf %s",
		 sock, tmpdir);
	return system(cmd) == -1;
}

/* ---- batch -------------------------------------------------------------- */

static void line_at(const char *text, const char *p, char *out, size_t len);
static bool find_line(const char *text, const char *from, const char *needle,
		      char *out, size_t len);

static void test_golden_synth(void **unused)
{
	struct run r;

	(void)unused;
	run(&r, "%s replay -b %s", bin, synth);
	assert_int_equal(r.status, 0);
	assert_string_equal(r.err, "");
	/*
	 * one block per second of the 6 s trace; the last ends with its
	 * last record (at 5.91 s), not on the boundary after it
	 */
	assert_non_null(strstr(r.out, "+5.000s  kernel"));
	assert_non_null(strstr(r.out, "+5.910s  [end of trace]"));
	assert_null(strstr(r.out, "+6.000s"));
	tu_golden("replay-synth.txt", r.out);
	run_free(&r);
}

/*
 * Seen again after the first fix: the QEMU trace's records end 32.4 s
 * after its recording started, 12.1 s after the boundary at +20.262s;
 * at interval 30 the end was shown at +50.262s, past the trace, its
 * rates over 30 s for 12 s of records.
 */
static void test_end_of_trace_long_interval(void **unused)
{
	char path[800];
	struct run r;

	(void)unused;
	snprintf(path, sizeof(path), "%s/data/vm-6.12-qemu-late.trace", tests_dir);
	run(&r, "%s replay -b %s 30", bin, path);
	assert_int_equal(r.status, 0);
	assert_non_null(strstr(r.out, "+20.262s  kernel"));
	assert_non_null(strstr(r.out, "+32.373s  [end of trace]"));
	assert_null(strstr(r.out, "+50.262s"));
	run_free(&r);
}

static void test_golden_options(void **unused)
{
	struct run r;

	(void)unused;
	/* name order, vfio only, 2 s intervals, stop after 2 */
	run(&r, "%s replay -b -s name -f vfio %s 2 2", bin, synth);
	assert_int_equal(r.status, 0);
	assert_null(strstr(r.out, "iommufd hwpt"));
	assert_non_null(strstr(r.out, "+4.000s"));
	assert_null(strstr(r.out, "+6.000s"));
	tu_golden("replay-synth-name-vfio.txt", r.out);
	run_free(&r);
}

/*
 * The forecast from a recorded trace: the demo's VMs on a 100 Mbit/s link
 * with QEMU's default 300 ms. vm1's 0000:3b:00.2 rewrites 100 MiB each
 * pass at some 40 MB/s, more than the 12.5 MB/s link: it cannot converge,
 * and its row says BLOCKS.
 */
static void test_golden_forecast(void **unused)
{
	char dir[700];
	struct run r;

	(void)unused;
	snprintf(dir, sizeof(dir), "%s/data", tests_dir);
	run(&r, "%s replay -b --link-rate 100M --downtime-limit 300ms %s/vm-6.12-demo.trace 2",
	    bin, dir);
	assert_int_equal(r.status, 0);
	assert_non_null(strstr(r.out, "bw 12.5 MB/s assumed  limit 300ms assumed"));
	assert_non_null(strstr(r.out, "CANNOT CONVERGE"));
	{
		/* a row of vm1's device that says BLOCKS */
		const char *p = r.out, *e;
		bool found = false;

		while ((p = strstr(p, "vfio 0000:3b:00.2 ")) && !found) {
			e = strchr(p, '\n');
			found = e && memmem(p, (size_t)(e - p), " BLOCKS ", 8);
			p++;
		}
		assert_true(found);
	}
	tu_golden("replay-forecast-demo.txt", r.out);
	run_free(&r);

	/* without the options the header is as it was: three lines */
	run(&r, "%s replay -b %s/vm-6.12-demo.trace 2", bin, dir);
	assert_int_equal(r.status, 0);
	assert_null(strstr(r.out, "forecast"));
	assert_null(strstr(r.out, "BLOCKS"));
	run_free(&r);

	/* replay has no QEMU to ask */
	run(&r, "%s replay -b --qmp /run/x.qmp %s/vm-6.12-demo.trace", bin, dir);
	assert_int_equal(r.status, 2);
	assert_non_null(strstr(r.err, "--qmp asks a running QEMU, and replay reads a trace"));
	run_free(&r);
}

/*
 * A trace as record --qmp writes it: QEMU 4242's two devices report every
 * second (A the same 416 pages each time, B 128), and QEMU's sample after
 * each report says sync N, 40 Mbit/s, 2 MB pending at its last sync,
 * until the last says cancelled. Written out of order as the recorder may
 * (each sample a little after the next report's records). CONTENTS is
 * what its header says it holds (TRACE_CONTENTS_*; 0 for a trace from
 * before the field).
 */
static void write_qmp_trace(const char *path, uint32_t contents)
{
	struct trace_meta meta = { .layout = IOVA_LAYOUT_V6_11, .start_mono_ns = 500000000ull,
				   .contents = contents };
	struct trace_writer_opts o = { .codec = TRACE_CODEC_ZSTD };
	struct trace_writer *w;
	char err[256];
	int i, d;

	strcpy(meta.kernel_release, "6.12.0-test");
	strcpy(meta.probe_mode, "fentry");
	strcpy(meta.hostname, "testvm");
	w = trace_writer_open(path, &meta, &o, err, sizeof(err));
	assert_non_null(w);
	for (i = 0; i < 6; i++) {
		uint64_t ts = 1000000000ull * (uint64_t)(i + 1);
		struct qmp_migrate m = { .ts_ns = ts - 400000000ull, .pid = 4242, .seq = (uint64_t)i + 1,
					 .have_ram = true, .have_params = true,
					 .ram_transferred = 3000000ull * (uint64_t)(i + 1),
					 .ram_remaining = 2000000, .dirty_pages_rate = i ? 500 : 0,
					 .dirty_sync_count = (uint64_t)i + 1, .page_size = 4096,
					 .mbps = 40, .expected_downtime_ms = 400,
					 .downtime_limit_ms = 300, .max_bandwidth = 4194304 };
		struct iova_rec_qmp q;

		for (d = 0; d < 2; d++) {
			uint64_t id = (uint64_t)(i * 2 + d + 1), t = ts + (uint64_t)d * 1000;
			struct iova_rec_alloc a = { .hdr = { IOVA_REC_ALLOC, sizeof(a), 0, t } };
			struct iova_rec_report_begin b = { .hdr = { IOVA_REC_REPORT_BEGIN, sizeof(b), 0, t + 1 } };
			struct iova_rec_range r = { .hdr = { IOVA_REC_RANGE, sizeof(r), 0, t + 2 } };
			struct iova_rec_report_end e = { .hdr = { IOVA_REC_REPORT_END, sizeof(e), 0, t + 3 } };
			struct iova_rec_free f = { .hdr = { IOVA_REC_FREE, sizeof(f), 0, t + 4 } };
			uint64_t pages = d ? 128 : 416;

			a.bitmap_id = id;
			a.iova = 0x100000;
			a.length = 1 << 24;
			a.page_size = 4096;
			a.task.pid = 4242;
			memcpy(a.task.comm, "qemu-system-x86", 15);
			b.bitmap_id = id;
			b.report_id = id;
			b.iova = 0x100000;
			b.length = 1 << 24;
			b.path = IOVA_PATH_VFIO;
			b.callback = IOVA_CB_VFIO;
			snprintf(b.devname, sizeof(b.devname), "0000:3b:00.%d", d + 2);
			b.task = a.task;
			r.bitmap_id = id;
			r.report_id = id;
			r.iova = 0x400000;
			r.length = pages * 4096;
			r.ncalls = pages;
			e.bitmap_id = id;
			e.report_id = id;
			e.set_calls = pages;
			e.ranges = 1;
			f.bitmap_id = id;
			assert_int_equal(trace_writer_add(w, &a.hdr), 0);
			assert_int_equal(trace_writer_add(w, &b.hdr), 0);
			assert_int_equal(trace_writer_add(w, &r.hdr), 0);
			assert_int_equal(trace_writer_add(w, &e.hdr), 0);
			assert_int_equal(trace_writer_add(w, &f.hdr), 0);
		}
		snprintf(m.status, sizeof(m.status), "%s", i == 5 ? "cancelled" : "active");
		qmp_record_fill(&q, &m);
		assert_int_equal(trace_writer_add(w, &q.hdr), 0);
	}
	assert_int_equal(trace_writer_close(w, err, sizeof(err)), 0);
}

/*
 * A trace with QEMU's samples needs no option: replay forecasts on them
 * as the live view did (device A's 1.70 MB each iteration against the
 * 1.5 MB that 40 Mbit/s lets through in 300 ms), and report says the
 * same, ending as QEMU did. The same whether the header says it holds
 * QEMU's samples (as record --qmp writes it now) or says nothing (as
 * traces from before the field): replay then looks for them all the same.
 */
static void check_recorded_qmp(uint32_t contents)
{
	char path[700];
	struct run r;

	snprintf(path, sizeof(path), "%s/qmp-%u.trace", tmpdir, contents);
	write_qmp_trace(path, contents);
	run(&r, "%s replay -b %s 1", bin, path);
	assert_int_equal(r.status, 0);
	/* two iterations of the same 416 pages make a steady set */
	assert_non_null(strstr(r.out, "qemu 4242 active iter 3: CANNOT CONVERGE: vfio 0000:3b:00.2 1.70 MB/iter, needs 7.43 MB/s  bw 5.00 MB/s qemu  limit 300ms qemu"));
	assert_non_null(strstr(r.out, "qemu 4242 cancelled iter 6: no forecast"));
	run_free(&r);

	run(&r, "%s replay --format json %s 1 | tail -1", bin, path);
	assert_int_equal(r.status, 0);
	assert_non_null(strstr(r.out, "\"type\": \"forecast\""));
	assert_non_null(strstr(r.out, "\"verdict\": \"ended\""));
	assert_non_null(strstr(r.out, "\"status\": \"cancelled\""));
	run_free(&r);

	run(&r, "%s report %s", bin, path);
	assert_int_equal(r.status, 0);
	assert_non_null(strstr(r.out, "pid 4242 qemu-system-x86: migration cancelled"));
	assert_non_null(strstr(r.out, "active iter 3: CANNOT CONVERGE: vfio 0000:3b:00.2 1.70 MB/iter"));
	run_free(&r);

	/* --link-rate does not replace QEMU's own figures */
	run(&r, "%s report -f csv --link-rate 10G %s | grep '^4242,' | tail -1", bin, path);
	assert_int_equal(r.status, 0);
	assert_non_null(strstr(r.out, ",ended,"));
	assert_non_null(strstr(r.out, ",1,\"migration cancelled"));
	run_free(&r);
}

static void test_recorded_qmp(void **unused)
{
	(void)unused;
	check_recorded_qmp(TRACE_CONTENTS_DECLARED | TRACE_CONTENTS_QMP);
	check_recorded_qmp(0);
}

static double num(const json_t *o, const char *key)
{
	const json_t *v = json_object_get(o, key);

	assert_true(json_is_number(v));
	return json_number_value(v);
}

/*
 * --format json with a forecast: after each interval's device lines one
 * "forecast" line per VM, at the same t, whose figures hold together: the
 * threshold is bw x dl, each share of the link is the device's rate over
 * bw, the devices' rates add up to device_rate, and the blamed devices are
 * the VM's own. vm1 (pid 83), whose device is programmed constant, is
 * "cannot" from its second iteration on and blames that device, as the
 * text view's BLOCKS says (test_golden_forecast).
 */
static void test_json_forecast(void **unused)
{
	char dir[700], *line, *save = NULL;
	double t = -1, bw = 100e6 / 8, sum, rate;
	unsigned int nint = 0, nfc = 0, ncannot83 = 0;
	struct run r;
	size_t i, j;

	(void)unused;
	snprintf(dir, sizeof(dir), "%s/data", tests_dir);
	run(&r, "%s replay --format json --link-rate 100M --downtime-limit 300ms %s/vm-6.12-demo.trace 2",
	    bin, dir);
	assert_int_equal(r.status, 0);
	for (line = strtok_r(r.out, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		json_t *o = json_loads(line, 0, NULL), *devs, *blame;
		const char *type;

		assert_non_null(o);
		type = json_string_value(json_object_get(o, "type"));
		assert_non_null(type);
		if (!strcmp(type, "interval")) {
			t = num(o, "t");
			nint++;
		} else if (!strcmp(type, "forecast")) {
			nfc++;
			assert_true(num(o, "t") == t);
			assert_true(fabs(num(o, "bw") - bw) < 1e-3);
			assert_string_equal(json_string_value(json_object_get(o, "bw_src")), "assumed");
			assert_true(fabs(num(o, "dl") - 0.3) < 1e-9);
			assert_true(fabs(num(o, "threshold") - bw * 0.3) < 1);
			assert_true(json_is_null(json_object_get(o, "qemu")));
			devs = json_object_get(o, "devices");
			assert_true(json_array_size(devs) > 0);
			sum = 0;
			for (i = 0; i < json_array_size(devs); i++) {
				json_t *d = json_array_get(devs, i);

				rate = num(d, "rate");
				sum += rate;
				assert_true(fabs(num(d, "share_link") * bw - rate) <=
					    1e-5 * rate + 1e-9);
				assert_true(json_is_null(json_object_get(d, "share_qemu")));
			}
			assert_true(fabs(sum - num(o, "device_rate")) <= 1e-5 * sum + 1e-9);
			blame = json_object_get(o, "blame");
			for (i = 0; i < json_array_size(blame); i++) {
				bool mine = false;

				for (j = 0; j < json_array_size(devs); j++)
					mine |= !strcmp(json_string_value(json_array_get(blame, i)),
							json_string_value(json_object_get(
								json_array_get(devs, j), "name")));
				assert_true(mine);
			}
			if (num(o, "pid") == 83 &&
			    !strcmp(json_string_value(json_object_get(o, "verdict")), "cannot")) {
				ncannot83++;
				assert_true(num(o, "iteration") >= 2);
				assert_int_equal(json_array_size(blame), 1);
				assert_string_equal(json_string_value(json_array_get(blame, 0)),
						    "vfio 0000:3b:00.2");
				assert_true(num(o, "needed_bw") > bw);
			}
		}
		json_decref(o);
	}
	assert_true(nint > 5);
	assert_true(nfc >= nint);
	assert_true(ncannot83 > 0);
	run_free(&r);

	/* without a forecast option, no forecast lines */
	run(&r, "%s replay --format json %s/vm-6.12-demo.trace 2", bin, dir);
	assert_int_equal(r.status, 0);
	assert_null(strstr(r.out, "\"forecast\""));
	run_free(&r);
}

static void test_golden_empty(void **unused)
{
	struct run r;

	(void)unused;
	run(&r, "%s replay -b %s", bin, empty);
	assert_int_equal(r.status, 0);
	assert_non_null(strstr(r.out, "devices 0 (0 shown)"));
	tu_golden("replay-empty.txt", r.out);
	run_free(&r);
}

/* -p and --comm are filter terms; -f's syntax is checked */
static void test_pid_comm(void **unused)
{
	char path[800];
	struct run r;

	(void)unused;
	snprintf(path, sizeof(path), "%s/data/vm-6.12-demo.trace", tests_dir);
	run(&r, "%s replay -b -p 87 %s 30", bin, path);
	assert_int_equal(r.status, 0);
	assert_non_null(strstr(r.out, "devices 7 (3 shown)"));
	assert_non_null(strstr(r.out, "\n* iommufd hwpt 6 "));
	assert_null(strstr(r.out, "\n  vfio "));
	run_free(&r);
	/* exact name; a prefix with '*'; -f's terms as well */
	run(&r, "%s replay -b --comm qemu-vm %s 30", bin, path);
	assert_non_null(strstr(r.out, "devices 7 (0 shown)"));
	run_free(&r);
	run(&r, "%s replay -b --comm 'qemu-vm*' -f path=vfio %s 30", bin, path);
	assert_non_null(strstr(r.out, "devices 7 (4 shown)"));
	assert_non_null(strstr(r.out, "filter \"path=vfio comm=qemu-vm*\""));
	run_free(&r);
	/* one sentence naming what is wrong, exit 2 */
	run(&r, "%s replay -b -p 0 %s", bin, path);
	assert_int_equal(r.status, 2);
	assert_non_null(strstr(r.err, "iovatop replay: the pid '0' is not a process id."));
	run_free(&r);
	run(&r, "%s replay -b -f pid=x %s", bin, path);
	assert_int_equal(r.status, 2);
	assert_non_null(strstr(r.err, "'pid=x'"));
	run_free(&r);
	run(&r, "%s -b --comm 'two words'", bin);
	assert_int_equal(r.status, 2);
	run_free(&r);
}

/*
 * One story: at the end of a recording, --cumulative shows for every
 * device the reports and dirty MiB report gives it, and the same hottest.
 */
static void test_cumulative_is_report(void **unused)
{
	char path[800], line[512], name[128], needle[160];
	const char *p, *t;
	struct run rep, view;
	int n = 0;

	(void)unused;
	snprintf(path, sizeof(path), "%s/data/vm-6.12-demo.trace", tests_dir);
	run(&rep, "%s report %s", bin, path);
	assert_int_equal(rep.status, 0);
	run(&view, "%s replay -b --cumulative %s 3600", bin, path);
	assert_int_equal(view.status, 0);
	/* report: "DEVICE PROCESS REPORTS ITERS DIRTY MiB ..." */
	t = strstr(rep.out, "\nDEVICE ");
	assert_non_null(t);
	for (p = strchr(t + 1, '\n') + 1; *p && *p != '\n'; p = strchr(p, '\n') + 1) {
		char dev1[40], dev2[48], proc[40];
		unsigned long reports, iters;
		double mib;
		int k;

		line_at(rep.out, p, line, sizeof(line));
		/* two words of name ("vfio X"; "iommufd hwpt N pid P" has five) */
		k = sscanf(line, "%39s %47s", dev1, dev2);
		assert_int_equal(k, 2);
		if (!strcmp(dev1, "iommufd")) {
			char num[16], by[8], id[16];

			assert_int_equal(sscanf(line, "%*s %*s %15s %7s %15s %39s %lu %lu %lf",
						num, by, id, proc, &reports, &iters,
						&mib), 7);
			snprintf(name, sizeof(name), "iommufd hwpt %s %s %s", num,
				 by, id);
		} else {
			assert_int_equal(sscanf(line, "%*s %*s %39s %lu %lu %lf",
						proc, &reports, &iters, &mib), 4);
			snprintf(name, sizeof(name), "%s %s", dev1, dev2);
		}
		snprintf(needle, sizeof(needle), " %s ", name);
		assert_true(find_line(view.out, strstr(view.out, "  DEVICE"),
				      needle, line, sizeof(line)));
		snprintf(needle, sizeof(needle), " %lu ", reports);
		if (!strstr(line, needle))
			fail_msg("%s: report says %lu reports, the view: %s", name,
				 reports, line);
		snprintf(needle, sizeof(needle), " %.1f ", mib);
		if (!strstr(line, needle))
			fail_msg("%s: report says %.1f MiB, the view: %s", name, mib,
				 line);
		n++;
	}
	assert_int_equal(n, 7);
	/* the same hottest device */
	assert_non_null(strstr(rep.out, "hottest device: vfio 0000:3b:00.2,"));
	assert_non_null(strstr(view.out, "\nhottest vfio 0000:3b:00.2  600.0 MiB since the start"));
	run_free(&rep);
	run_free(&view);
}

/*
 * The command line as bcc users expect it: --version everywhere argp
 * parses, -h for the top level and every command, one prefix per command
 * on every message, -p and --comm in report too.
 */
static void test_cli(void **unused)
{
	static const char *const cmds[] = { "", "replay", "record", "report", "decode" };
	char path[800], want[64];
	struct run r;
	size_t i;

	(void)unused;
	/* report and decode once missed it: every command, both spellings */
	for (i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		run(&r, "%s %s --version", bin, cmds[i]);
		if (r.status != 0 || strncmp(r.out, "iovatop 0.1 (git ", 17) ||
		    !strstr(r.out, "\nlibbpf v"))
			fail_msg("'iovatop %s --version' exited %d: %s%s", cmds[i],
				 r.status, r.out, r.err);
		run_free(&r);
		run(&r, "%s %s -V", bin, cmds[i]);
		if (r.status != 0 || strncmp(r.out, "iovatop 0.1 (git ", 17))
			fail_msg("'iovatop %s -V' exited %d: %s%s", cmds[i],
				 r.status, r.out, r.err);
		run_free(&r);
	}
	for (i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		run(&r, "%s %s -h", bin, cmds[i]);
		if (r.status != 0 || !strcasestr(r.out, "usage: iovatop"))
			fail_msg("'iovatop %s -h' exited %d: %s%s", cmds[i], r.status,
				 r.out, r.err);
		run_free(&r);
	}
	/* the top level lists the commands */
	run(&r, "%s -h", bin);
	assert_non_null(strstr(r.out, "iovatop record -o FILE"));
	assert_non_null(strstr(r.out, "iovatop report FILE"));
	run_free(&r);
	/* usage and runtime errors alike: "iovatop <command>: ", one line */
	for (i = 1; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		const char *args = !strcmp(cmds[i], "decode") ? "-x -i 0 -l 4096 -p 4096" : "";

		snprintf(want, sizeof(want), "iovatop %s: ", cmds[i]);
		/* record needs root and a kernel for this: see the VM checks */
		if (strcmp(cmds[i], "record")) {
			run(&r, "%s %s %s %s/no-such-file", bin, cmds[i], args, tmpdir);
			assert_int_equal(r.status, 1);
			if (strncmp(r.err, want, strlen(want)))
				fail_msg("'iovatop %s' said: %s", cmds[i], r.err);
			assert_int_equal(tu_lines(r.err), 1);
			run_free(&r);
		}
		run(&r, "%s %s --bogus %s", bin, cmds[i], synth);
		assert_int_equal(r.status, 2);
		if (strncmp(r.err, want, strlen(want)))
			fail_msg("'iovatop %s --bogus' said: %s", cmds[i], r.err);
		run_free(&r);
	}
	/* report -p and --comm: the devices of that process only */
	snprintf(path, sizeof(path), "%s/data/vm-6.12-demo.trace", tests_dir);
	run(&r, "%s report -p 87 %s", bin, path);
	assert_int_equal(r.status, 0);
	assert_non_null(strstr(r.out, "hottest device: iommufd hwpt 6 pid 87,"));
	assert_null(strstr(r.out, "\nvfio "));
	run_free(&r);
	run(&r, "%s report --comm qemu-vm1 --format csv %s", bin, path);
	assert_int_equal(r.status, 0);
	assert_non_null(strstr(r.out, "vfio 0000:3b:00.2"));
	assert_null(strstr(r.out, "hwpt"));
	run_free(&r);
	run(&r, "%s report -p zero %s", bin, path);
	assert_int_equal(r.status, 2);
	assert_non_null(strstr(r.err, "iovatop report: the pid 'zero' is not a process id."));
	run_free(&r);
}

/* --speed paces the same intervals as reading flat out */
static void test_paced_same_numbers(void **unused)
{
	struct run fast, paced;

	(void)unused;
	run(&fast, "%s replay -b %s 0.5", bin, synth);
	run(&paced, "%s replay -b --speed 64 %s 0.5", bin, synth);
	assert_int_equal(fast.status, 0);
	assert_int_equal(paced.status, 0);
	assert_int_equal(tu_lines(fast.out), tu_lines(paced.out));
	/* the first line of each block differs only by the speed note */
	{
		char *a = fast.out, *b = paced.out;

		while (*a && *b) {
			char *ea = strchr(a, '\n'), *eb = strchr(b, '\n');

			assert_non_null(ea);
			assert_non_null(eb);
			if (strncmp(a, "iovatop", 7))
				assert_memory_equal(a, b, (size_t)(ea - a + 1));
			a = ea + 1;
			b = eb + 1;
		}
	}
	run_free(&fast);
	run_free(&paced);
}

static void test_cut_trace(void **unused)
{
	char *whole, *out;
	size_t len;
	struct run r;
	FILE *f;

	(void)unused;
	whole = tu_slurp(synth, &len);
	assert_non_null(whole);
	f = fopen(cut, "w");
	assert_non_null(f);
	fwrite(whole, 1, len / 2, f);
	fclose(f);
	free(whole);

	run(&r, "%s replay -b %s", bin, cut);
	/* everything before the cut is shown, and it says it was cut */
	assert_int_equal(r.status, 0);
	assert_non_null(strstr(r.out, "[trace cut short]"));
	assert_non_null(strstr(r.out, "+1.000s"));
	assert_non_null(strstr(r.err, "cut short"));
	assert_int_equal(tu_lines(r.err), 1);
	out = strstr(r.out, "vfio 0000:3b:00.1");
	assert_non_null(out);
	run_free(&r);
}

static void test_bad_files(void **unused)
{
	char path[700];
	struct run r;
	FILE *f;

	(void)unused;
	snprintf(path, sizeof(path), "%s/empty-file", tmpdir);
	f = fopen(path, "w");
	assert_non_null(f);
	fclose(f);
	run(&r, "%s replay -b %s", bin, path);
	assert_int_equal(r.status, 1);
	assert_int_equal(tu_lines(r.err), 1);
	assert_string_equal(r.out, "");
	run_free(&r);

	run(&r, "%s replay -b %s/golden/replay-empty.txt", bin, tests_dir);
	assert_int_equal(r.status, 1);
	assert_int_equal(tu_lines(r.err), 1);
	run_free(&r);

	run(&r, "%s replay -b %s/no-such-file", bin, tmpdir);
	assert_int_equal(r.status, 1);
	assert_non_null(strstr(r.err, "no-such-file"));
	run_free(&r);

	/* usage errors: exit 2 */
	run(&r, "%s replay -b", bin);
	assert_int_equal(r.status, 2);
	run_free(&r);
	run(&r, "%s replay -b --speed 0 %s", bin, synth);
	assert_int_equal(r.status, 2);
	run_free(&r);
	run(&r, "%s replay -b %s 1 0", bin, synth);
	assert_int_equal(r.status, 2);
	run_free(&r);
	run(&r, "%s -b -s hotness", bin);
	assert_int_equal(r.status, 2);
	run_free(&r);
}

static bool kernel_has_iova_bitmap(void)
{
	char line[256];
	bool found = false;
	FILE *f = fopen("/proc/kallsyms", "r");

	if (!f)
		return false;
	while (!found && fgets(line, sizeof(line), f))
		found = strstr(line, " iova_bitmap_set") != NULL;
	fclose(f);
	return found && geteuid() == 0;
}

/* Live mode here: it runs where the kernel allows, else one sentence, exit 1. */
static void test_live_here(void **unused)
{
	struct run r;

	(void)unused;
	run(&r, "%s -b 0.2 2", bin);
	if (kernel_has_iova_bitmap()) {
		assert_int_equal(r.status, 0);
		assert_int_equal(tu_lines(r.out) > 6, true);
		assert_non_null(strstr(r.out, "iovatop  live"));
	} else {
		assert_int_equal(r.status, 1);
		assert_string_equal(r.out, "");
		assert_int_equal(tu_lines(r.err), 1);
		assert_int_equal(strncmp(r.err, "iovatop: ", 9), 0);
	}
	run_free(&r);
}

/* Every trace recorded in the VM and kept in tests/data/ replays cleanly. */
static void test_recorded_traces(void **unused)
{
	char dir[700];
	struct dirent *de;
	struct run r;
	int n = 0;
	DIR *d;

	(void)unused;
	snprintf(dir, sizeof(dir), "%s/data", tests_dir);
	d = opendir(dir);
	if (!d)
		fail_msg("%s is missing: the traces recorded in the test VM live there", dir);
	while ((de = readdir(d))) {
		size_t l = strlen(de->d_name);

		if (l < 7 || strcmp(de->d_name + l - 6, ".trace"))
			continue;
		run(&r, "%s replay -b %s/%s", bin, dir, de->d_name);
		if (r.status != 0)
			fail_msg("replay of %s/%s exited %d: %s", dir, de->d_name,
				 r.status, r.err);
		assert_non_null(strstr(r.out, "[end of trace]"));
		run_free(&r);
		n++;
	}
	closedir(d);
	/* they are committed: none at all means they were lost, not skipped */
	if (!n)
		fail_msg("no .trace file in %s", dir);
	print_message("replayed %d recorded traces from %s\n", n, dir);
}

/* ---- tmux --------------------------------------------------------------- */

static int tmux(const char *fmt, ...)
{
	char args[1024], cmd[1200];
	va_list ap;
	int st;

	va_start(ap, fmt);
	vsnprintf(args, sizeof(args), fmt, ap);
	va_end(ap);
	snprintf(cmd, sizeof(cmd), "tmux -S %s -f /dev/null %s", sock, args);
	st = system(cmd);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static char screen[64 * 1024];

static void capture(void)
{
	char path[700];
	char *s;

	snprintf(path, sizeof(path), "%s/screen", tmpdir);
	assert_int_equal(tmux("capture-pane -p -t view > %s", path), 0);
	s = tu_slurp(path, NULL);
	assert_non_null(s);
	snprintf(screen, sizeof(screen), "%s", s);
	free(s);
}

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000 };

	nanosleep(&ts, NULL);
}

/* Wait until the pane shows needle (present) or stops showing it. */
static bool wait_for(const char *needle, bool present, int timeout_ms)
{
	int waited;

	for (waited = 0; waited <= timeout_ms; waited += 50) {
		capture();
		if ((strstr(screen, needle) != NULL) == present)
			return true;
		sleep_ms(50);
	}
	return false;
}

#define WAIT(needle) \
	do { \
		if (!wait_for(needle, true, 10000)) \
			fail_msg("the screen never showed \"%s\":\n%s", needle, screen); \
	} while (0)
#define WAIT_GONE(needle) \
	do { \
		if (!wait_for(needle, false, 10000)) \
			fail_msg("the screen kept showing \"%s\":\n%s", needle, screen); \
	} while (0)

/*
 * Start the view in a detached 120x40 session. The shell prints the exit
 * status after it, so a test can check how the view ended.
 */
static void start_sized(int cols, int lines, const char *args)
{
	tmux("kill-session -t view 2>/dev/null");
	assert_int_equal(tmux("new-session -d -s view -x %d -y %d "
			      "\"LANG=C.UTF-8 %s %s; echo iovatop-exit=\\$?; sleep 30\"",
			      cols, lines, bin, args), 0);
}

static void start(const char *args)
{
	start_sized(120, 40, args);
}

/* Space-separated tmux key names, each quoted for the shell ("<", "/"). */
static void keys(const char *k)
{
	char args[512];
	size_t n = 0;

	while (*k && n + 8 < sizeof(args)) {
		while (*k == ' ')
			k++;
		if (!*k)
			break;
		args[n++] = ' ';
		args[n++] = '\'';
		while (*k && *k != ' ' && n + 4 < sizeof(args))
			args[n++] = *k++;
		args[n++] = '\'';
	}
	args[n] = '\0';
	assert_int_equal(tmux("send-keys -t view%s", args), 0);
}

static void quit_ok(void)
{
	keys("q");
	WAIT("iovatop-exit=0");
	tmux("kill-session -t view");
}

/* The line of text (which starts at or before p) that holds p, without trailing blanks. */
static void line_at(const char *text, const char *p, char *out, size_t len)
{
	const char *b, *e;

	for (b = p; b > text && b[-1] != '\n'; b--)
		;
	e = strchr(p, '\n');
	if (!e)
		e = p + strlen(p);
	while (e > b && e[-1] == ' ')
		e--;
	snprintf(out, len, "%.*s", (int)(e - b), b);
}

/* A line of text that holds needle, below from (text itself if NULL). */
static bool find_line(const char *text, const char *from, const char *needle,
		      char *out, size_t len)
{
	const char *p = from ? strstr(from, needle) : strstr(text, needle);

	if (!p)
		return false;
	line_at(text, p, out, len);
	return true;
}

/* A device's row in text (below the titles, not the header's hottest line). */
static bool find_row(const char *text, const char *needle, char *out, size_t len)
{
	const char *t = strstr(text, "  DEVICE");

	/* needle is "  NAME ": the mark column may hold '*' */
	return t && find_line(text, t, needle + 1, out, len);
}

/* The row text of a device on the screen. */
static bool screen_line(const char *needle, char *out, size_t len)
{
	return find_line(screen, NULL, needle, out, len);
}

static bool screen_row(const char *needle, char *out, size_t len)
{
	return find_row(screen, needle, out, len);
}

/*
 * Wait until the screen line found by find(needle) reads want: tmux may
 * show the new header before the new rows of the same refresh.
 */
static void wait_line(bool (*find)(const char *, char *, size_t),
		      const char *needle, const char *want)
{
	char got[512] = "";
	int ms;

	for (ms = 0; ms < 10000; ms += 50) {
		capture();
		if (find(needle, got, sizeof(got)) && !strcmp(got, want))
			return;
		sleep_ms(50);
	}
	fail_msg("the screen line with \"%s\" reads\n%s\nnot\n%s\nscreen:\n%s",
		 needle, got, want, screen);
}

/* Where a device's row is: below the titles, not in the header. */
static long row_pos(const char *name)
{
	const char *t = strstr(screen, "  DEVICE"), *p;

	assert_non_null(t);
	p = strstr(t, name);
	assert_non_null(p);
	return p - screen;
}

static void test_tmux_available(void **unused)
{
	(void)unused;
	if (system("tmux -V >/dev/null 2>&1"))
		fail_msg("tmux is not installed; run scripts/deps.sh build (as root)");
}

static void test_tmux_step_same_rows_as_batch(void **unused)
{
	char want[256];
	struct run r;
	const char *block;
	int i;

	(void)unused;
	run(&r, "%s replay -b %s", bin, synth);
	assert_int_equal(r.status, 0);

	{
		char args[700];

		snprintf(args, sizeof(args), "replay --step %s", synth);
		start(args);
	}
	WAIT("[paused]");
	WAIT("no dirty tracking seen yet");
	WAIT("n/Space step");
	keys("n");
	WAIT("+1.000s");
	/* the hottest device comes first and carries the mark */
	WAIT("* vfio 0000:3b:00.1");
	for (i = 0; i < 4; i++)
		keys("n");
	WAIT("+5.000s");
	WAIT("* iommufd hwpt 7");

	/* at 120 columns the screen rows are the batch rows of that interval */
	block = strstr(r.out, "+5.000s");
	assert_non_null(block);
	{
		/* "  NAME ": the row, not the header's hottest line */
		static const char *const names[] = {
			"  iommufd hwpt 7 ", "  vfio 0000:3b:00.1 ",
			"  vfio 0000:3c:00.0 ",
		};

		for (i = 0; i < 3; i++) {
			assert_true(find_row(block, names[i], want, sizeof(want)));
			wait_line(screen_row, names[i], want);
		}
	}
	/* and so is the summary line */
	assert_true(find_line(block, NULL, "devices 3", want, sizeof(want)));
	wait_line(screen_line, "devices 3", want);
	keys("n");
	WAIT("[end of trace]");
	quit_ok();
	run_free(&r);
}

static void test_tmux_keys(void **unused)
{
	char args[700], row[256];

	(void)unused;
	snprintf(args, sizeof(args), "replay --step %s", synth);
	start(args);
	WAIT("[paused]");
	keys("n n n");
	WAIT("+3.000s");

	/* Enter: the detail of the selected device, heatmap and history */
	keys("j Enter");
	WAIT("heat  |");
	WAIT("Enter/Esc back");
	assert_non_null(strstr(screen, "pages |"));
	assert_non_null(strstr(screen, "tracked 0+1G"));	/* hwpt 7 is second */
	keys("Escape");
	WAIT_GONE("heat  |");

	/* filter: only the iommufd device is left */
	keys("/ h w p t");
	WAIT("filter: hwpt_");
	keys("Enter");
	WAIT("devices 3 (1 shown)");
	assert_null(strstr(screen, "vfio 0000:3b:00.1"));
	keys("/ C-u Enter");
	WAIT("devices 3 (3 shown)");

	/* sort: by name, then reversed */
	keys("<");
	WAIT("sort pages");
	keys("s");
	WAIT("sort pct");
	keys("s s");
	WAIT("sort name");
	assert_true(screen_line("iommufd hwpt 7", row, sizeof(row)));
	assert_true(row_pos("iommufd hwpt 7") < row_pos("vfio 0000:3b:00.1"));
	keys("r");
	WAIT("sort name (reversed)");
	assert_true(row_pos("iommufd hwpt 7") > row_pos("vfio 0000:3c:00.0"));

	/* help and back; Ctrl-L; pause toggles */
	keys("?");
	WAIT("keys (the footer");
	keys("q");
	WAIT_GONE("keys (the footer");
	keys("C-l");
	WAIT("DIRTY MiB/s");
	keys("p");
	WAIT_GONE("[paused]");
	keys("p");
	WAIT("[paused]");
	quit_ok();
}

static void test_tmux_resize(void **unused)
{
	char args[700];

	(void)unused;
	snprintf(args, sizeof(args), "replay --step %s", synth);
	start(args);
	WAIT("[paused]");
	keys("n n Enter");
	WAIT("heat  |");

	assert_int_equal(tmux("resize-window -t view -x 40 -y 8"), 0);
	WAIT_GONE("heat  |");		/* no room for the panel */
	WAIT("DEVICE");
	assert_int_equal(tmux("resize-window -t view -x 30 -y 4"), 0);
	WAIT_GONE("hottest");		/* one header line left */
	WAIT("DEVICE");
	assert_int_equal(tmux("resize-window -t view -x 12 -y 3"), 0);
	WAIT("terminal too");
	assert_int_equal(tmux("resize-window -t view -x 1 -y 1"), 0);
	sleep_ms(200);
	/* keys at 1x1: Enter leaves the detail, n steps, nothing breaks */
	keys("j k Enter n");
	assert_int_equal(tmux("resize-window -t view -x 120 -y 40"), 0);
	WAIT("+3.000s");
	WAIT("Enter detail");
	keys("Enter");
	WAIT("heat  |");
	quit_ok();
}

static void test_tmux_zero_rows(void **unused)
{
	char args[700];

	(void)unused;
	snprintf(args, sizeof(args), "replay --step %s", empty);
	start(args);
	WAIT("[paused]");
	keys("n n n");
	WAIT("[end of trace]");
	WAIT("no dirty tracking seen yet");
	keys("j k G g Enter");
	WAIT("no device selected");
	keys("Enter / x Enter s r");
	WAIT("sort pages (reversed)");
	quit_ok();
}

/* The first trace recorded in the VM (tests/data/), or fail: it is committed. */
static void recorded_trace(char *out, size_t len)
{
	char dir[700], best[256] = "";
	struct dirent *de;
	DIR *d;

	snprintf(dir, sizeof(dir), "%s/data", tests_dir);
	d = opendir(dir);
	if (!d)
		fail_msg("%s is missing: the traces recorded in the test VM live there", dir);
	while ((de = readdir(d))) {
		size_t l = strlen(de->d_name);

		if (l > 6 && !strcmp(de->d_name + l - 6, ".trace") &&
		    (!best[0] || strcmp(de->d_name, best) < 0))
			snprintf(best, sizeof(best), "%s", de->d_name);
	}
	closedir(d);
	if (!best[0])
		fail_msg("no .trace file in %s", dir);
	snprintf(out, len, "%s/%s", dir, best);
}

/* The next device row of a batch block, without trailing blanks. */
static const char *next_row(const char *p, char *out, size_t len)
{
	const char *e;

	while (p && *p) {
		e = strchr(p, '\n');
		if (!e)
			return NULL;
		if ((p[0] == '*' || p[0] == ' ') && p[1] == ' ' &&
		    (!strncmp(p + 2, "vfio ", 5) || !strncmp(p + 2, "iommufd ", 8))) {
			snprintf(out, len, "%.*s", (int)(e - p), p);
			return e + 1;
		}
		if (e == p)
			return NULL;	/* the blank line ends the block */
		p = e + 1;
	}
	return NULL;
}

/*
 * A real trace from the VM, stepped in a terminal wide enough for every
 * column: each interval's rows on the screen are the batch rows.
 */
static void test_tmux_recorded_trace(void **unused)
{
	char path[800], args[900], want[512], needle[32];
	const char *block, *p;
	struct run r;
	int step, rows = 0;

	(void)unused;
	recorded_trace(path, sizeof(path));
	run(&r, "%s replay -b %s", bin, path);
	assert_int_equal(r.status, 0);
	snprintf(args, sizeof(args), "replay --step %s", path);
	start_sized(200, 50, args);
	WAIT("[paused]");
	for (step = 1; step <= 4; step++) {
		/* the n-th block of the batch output is the n-th step */
		block = r.out;
		for (int i = 1; i < step && block; i++) {
			block = strstr(block, "\n\n");
			block = block ? block + 2 : NULL;
		}
		assert_non_null(block);
		keys("n");
		/* "+1.930s": the time since start of this block, as on the screen */
		p = strstr(block, "  +");
		assert_non_null(p);
		snprintf(needle, sizeof(needle), "%.*s", (int)strcspn(p + 2, " "), p + 2);
		WAIT(needle);
		p = strchr(block, '\n') + 1;
		while ((p = next_row(p, want, sizeof(want)))) {
			/* the name ends where the path column's gap begins */
			char name[80];
			int nl = (int)(strstr(want + 2, "  ") - (want + 2));

			snprintf(name, sizeof(name), "  %.*s ", nl, want + 2);
			wait_line(screen_row, name, want);
			rows++;
		}
	}
	assert_true(rows >= 4);
	quit_ok();
	run_free(&r);
}

/* Capture until two captures in a row agree: the screen is drawn. */
static void capture_settled(void)
{
	char prev[sizeof(screen)];
	int ms;

	capture();
	for (ms = 0; ms < 5000; ms += 100) {
		memcpy(prev, screen, sizeof(prev));
		sleep_ms(100);
		capture();
		if (!strcmp(prev, screen))
			return;
	}
}

/* The recording with the UUID device: the longest name there is. */
static void demo_trace(char *out, size_t len)
{
	snprintf(out, len, "%s/data/vm-6.12-demo.trace", tests_dir);
	if (access(out, R_OK))
		fail_msg("%s is missing: it is committed with the tests", out);
}

/*
 * The screen at the widths people use, 24 lines high (and 45 at 200):
 * golden screens of the table and, at 80, of the detail panel. At 80 the
 * UUID is cut in the middle and PID, COMM, REP/s and PG/REP stay; wider,
 * the hot region comes in and the names are whole.
 */
static void test_tmux_widths(void **unused)
{
	static const int widths[] = { 80, 100, 132, 200 };
	char path[800], args[900], name[64];
	size_t i;

	(void)unused;
	demo_trace(path, sizeof(path));
	snprintf(args, sizeof(args), "replay --step %s", path);
	for (i = 0; i < sizeof(widths) / sizeof(widths[0]); i++) {
		int w = widths[i], h = w == 200 ? 45 : 24;
		char *p;

		start_sized(w, h, args);
		WAIT("[paused]");
		keys("n n");
		WAIT("+1.930s");
		WAIT("vfio 0000:3b:00.2");
		capture_settled();
		/* no line is wider than the terminal, none is cut mid-word */
		for (p = screen; *p; ) {
			char *e = strchr(p, '\n');
			size_t n = e ? (size_t)(e - p) : strlen(p);
			size_t cols = 0, k;

			for (k = 0; k < n; k++)
				cols += ((unsigned char)p[k] & 0xc0) != 0x80;
			assert_true(cols <= (size_t)w);
			p += n + (e ? 1 : 0);
		}
		assert_null(strstr(screen, "incompl "));
		assert_null(strstr(screen, " pau\n"));
		snprintf(name, sizeof(name), "screen-%dx%d.txt", w, h);
		tu_golden(name, screen);
		if (w == 80) {
			keys("Enter");
			WAIT("heat  |");
			capture_settled();
			assert_null(strstr(screen, "trend DIVER\n"));
			tu_golden("screen-80x24-detail.txt", screen);
		}
		quit_ok();
	}
}

/*
 * At 80 columns the hot region does not fit: Right scrolls the columns
 * right of the device until it shows, Left brings the first ones back.
 */
static void test_tmux_scroll(void **unused)
{
	char path[800], args[900], row[256];

	(void)unused;
	demo_trace(path, sizeof(path));
	snprintf(args, sizeof(args), "replay --step %s", path);
	start_sized(80, 24, args);
	WAIT("[paused]");
	keys("n");
	WAIT("+0.930s");
	WAIT("vfio 0000:3b:00.3");
	/* the titles end in '>': a column is off screen to the right */
	assert_true(screen_line("  DEVICE", row, sizeof(row)));
	assert_int_equal(row[strlen(row) - 1], '>');
	assert_null(strstr(screen, "HOT REGION"));
	assert_non_null(strstr(screen, " PID COMM "));
	keys("Right");
	WAIT("< DEVICE");
	assert_null(strstr(screen, " PID "));
	keys("Right Right Right");
	WAIT("HOT REGION");
	assert_true(screen_line("* vfio 0000:af:00.1 ", row, sizeof(row)));
	assert_non_null(strstr(row, "0x5b0c5000+128M"));
	/* past the last column Right does nothing, Left comes back */
	keys("Right Right Right Right Left Left Left Left Left Left Left");
	WAIT(" PID COMM ");
	WAIT_GONE("< DEVICE");
	quit_ok();
}

/*
 * 'c' at the end of the recording shows each device's totals, and they are
 * report's (one story); 'g' heads each process's devices with their sum.
 */
static void test_tmux_cumulative_group(void **unused)
{
	char path[800], args[900], row[256];
	struct run r;

	(void)unused;
	demo_trace(path, sizeof(path));
	run(&r, "%s report %s", bin, path);
	assert_int_equal(r.status, 0);
	/* report: "vfio 0000:3b:00.2 ... 12 6 600.0": 12 reports, 600.0 MiB */
	assert_true(find_line(r.out, NULL, "vfio 0000:3b:00.2  ", row, sizeof(row)));
	assert_non_null(strstr(row, " 12 "));
	assert_non_null(strstr(row, " 600.0 "));
	run_free(&r);

	snprintf(args, sizeof(args), "replay --step %s 30", path);
	start_sized(80, 24, args);
	WAIT("[paused]");
	keys("n");
	WAIT("[end of trace]");
	keys("c");
	WAIT("REPORTS");
	WAIT("DIRTY MiB ");
	WAIT("dirty 1448.5 MiB in 16.8s");
	assert_true(screen_line("* vfio 0000:3b:00.2", row, sizeof(row)));
	assert_non_null(strstr(row, " 12 "));
	assert_non_null(strstr(row, " 600.0 "));
	assert_non_null(strstr(screen, "600.0 MiB since the start"));
	keys("g");
	WAIT("= 3 devices");
	/* the three hwpts of qemu-vm6: 6 + 7 + 6 reports, 192 + 67 + 1 MiB */
	assert_true(screen_line("= 3 devices", row, sizeof(row)));
	assert_non_null(strstr(row, " 87 qemu-vm6 "));
	assert_non_null(strstr(row, " 19 "));
	assert_non_null(strstr(row, " 260.0"));
	/* and back to the interval */
	keys("c g");
	WAIT_GONE("= 3 devices");
	WAIT("REP/s");
	quit_ok();
}

/* The time since start in the header, "+5.000s" -> 5.0. */
static double screen_time(void)
{
	const char *p = strstr(screen, "  +");

	assert_non_null(p);
	return strtod(p + 3, NULL);
}

/* d: a new interval; the next steps are that long. */
static void test_tmux_interval(void **unused)
{
	char args[700], prev[32];
	double t1, t2;

	(void)unused;
	snprintf(args, sizeof(args), "replay --step %s", synth);
	start_sized(80, 24, args);
	WAIT("[paused]");
	keys("n");
	WAIT("+1.000s");
	keys("d");
	WAIT("interval 1s, new: _");
	keys("2 Enter");
	WAIT_GONE("new: ");
	/* the first boundary is on the 2 s grid of the records' clock */
	keys("n");
	WAIT_GONE("+1.000s");
	capture_settled();
	t1 = screen_time();
	snprintf(prev, sizeof(prev), "+%.3fs", t1);
	keys("n");
	WAIT_GONE(prev);
	capture_settled();
	t2 = screen_time();
	assert_true(t2 - t1 > 1.999 && t2 - t1 < 2.001);
	quit_ok();
}

/* Colour escapes of the pane (capture-pane -e): foreground or background. */
static bool screen_has_colour(void)
{
	char path[700], *s;
	bool c;

	snprintf(path, sizeof(path), "%s/screen-e", tmpdir);
	assert_int_equal(tmux("capture-pane -e -p -t view > %s", path), 0);
	s = tu_slurp(path, NULL);
	assert_non_null(s);
	/* SGR 30-37/40-47 (and 38;/48;): what init_pair() colours become */
	c = strstr(s, "[30m") || strstr(s, "[46m") || strstr(s, ";46m") ||
	    strstr(s, "[36m") || strstr(s, "[31m") || strstr(s, "[38;") ||
	    strstr(s, "[48;");
	free(s);
	return c;
}

/* NO_COLOR (https://no-color.org) and --no-color: attributes, no colour. */
static void test_tmux_no_color(void **unused)
{
	static const char *const how[] = { "", "NO_COLOR=1", "--no-color" };
	char args[1400];
	size_t i;

	(void)unused;
	for (i = 0; i < 3; i++) {
		tmux("kill-session -t view 2>/dev/null");
		snprintf(args, sizeof(args),
			 "new-session -d -s view -x 80 -y 24 \"TERM=xterm-256color LANG=C.UTF-8 %s %s replay --step %s %s; echo iovatop-exit=\\$?; sleep 30\"",
			 i == 1 ? how[1] : "", bin, i == 2 ? how[2] : "", synth);
		assert_int_equal(tmux("%s", args), 0);
		WAIT("[paused]");
		keys("n");
		WAIT("+1.000s");
		capture_settled();
		if (i == 0)
			assert_true(screen_has_colour());	/* the check can see it */
		else if (screen_has_colour())
			fail_msg("%s still shows colour", how[i]);
		quit_ok();
	}
}

/* Atomically, as a workload must: the view never reads half a line. */
static void write_note(const char *path, const char *text)
{
	char tmp[900];
	FILE *f;

	snprintf(tmp, sizeof(tmp), "%s.new", path);
	f = fopen(tmp, "w");
	assert_non_null(f);
	fprintf(f, "%s\n", text);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(rename(tmp, path), 0);
}

/*
 * --note-file: make demo says on screen what its migrations do. At 80x24
 * the line sits under the header, the table keeps its titles, and a new
 * line in the file shows at the next interval.
 */
static void test_tmux_note(void **unused)
{
	char note[800], args[1800], line[256];

	(void)unused;
	snprintf(note, sizeof(note), "%s/demo-note", tmpdir);
	write_note(note, "round 1: converging migration, sync 1");
	snprintf(args, sizeof(args), "replay --step --note-file %s %s", note, synth);
	start_sized(80, 24, args);
	WAIT("[paused]");
	keys("n");
	WAIT("round 1: converging migration, sync 1");
	assert_true(screen_line("round 1: converging", line, sizeof(line)));
	WAIT("DEVICE");
	write_note(note, "round 2: stuck migration\x1b[2J, sync 4 of 5");
	keys("n");
	WAIT("round 2: stuck migration [2J, sync 4 of 5");	/* no escape reaches the terminal */
	WAIT_GONE("round 1:");
	quit_ok();
	unlink(note);
}

static void test_tmux_real_time(void **unused)
{
	char args[700];

	(void)unused;
	/* 6 s of trace at 2x, then 4x: the end within two seconds or so */
	snprintf(args, sizeof(args), "replay --speed 2 %s", synth);
	start(args);
	WAIT("speed x2");
	keys("+");
	WAIT("speed x4");
	WAIT("[end of trace]");
	WAIT("* iommufd hwpt 7");
	quit_ok();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_golden_synth),
		cmocka_unit_test(test_end_of_trace_long_interval),
		cmocka_unit_test(test_golden_options),
		cmocka_unit_test(test_golden_forecast),
		cmocka_unit_test(test_recorded_qmp),
		cmocka_unit_test(test_json_forecast),
		cmocka_unit_test(test_golden_empty),
		cmocka_unit_test(test_pid_comm),
		cmocka_unit_test(test_cli),
		cmocka_unit_test(test_cumulative_is_report),
		cmocka_unit_test(test_paced_same_numbers),
		cmocka_unit_test(test_cut_trace),
		cmocka_unit_test(test_bad_files),
		cmocka_unit_test(test_live_here),
		cmocka_unit_test(test_recorded_traces),
		cmocka_unit_test(test_tmux_available),
		cmocka_unit_test(test_tmux_step_same_rows_as_batch),
		cmocka_unit_test(test_tmux_keys),
		cmocka_unit_test(test_tmux_resize),
		cmocka_unit_test(test_tmux_zero_rows),
		cmocka_unit_test(test_tmux_note),
		cmocka_unit_test(test_tmux_real_time),
		cmocka_unit_test(test_tmux_recorded_trace),
		cmocka_unit_test(test_tmux_widths),
		cmocka_unit_test(test_tmux_scroll),
		cmocka_unit_test(test_tmux_cumulative_group),
		cmocka_unit_test(test_tmux_interval),
		cmocka_unit_test(test_tmux_no_color),
	};

	/* VIEW_TEST=test_tmux_keys runs one test while hunting a failure */
	if (getenv("VIEW_TEST"))
		cmocka_set_test_filter(getenv("VIEW_TEST"));
	return cmocka_run_group_tests(tests, setup, teardown);
}
