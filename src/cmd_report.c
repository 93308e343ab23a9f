// SPDX-License-Identifier: GPL-2.0
/*
 * cmd_report.c - iovatop report: read a trace through the model and
 * summarise it per device, as text, JSON (docs/report-json.md) or CSV.
 *
 * The command only: options, the reader and the model. What a whole-trace
 * summary gathers on top of the model is src/report.c, what it writes
 * src/report_fmt.c.
 */
#include <argp.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli_util.h"
#include "commands.h"
#include "forecast_report.h"
#include "forecast_session.h"
#include "model.h"
#include "heatmap.h"
#include "qmp_record.h"
#include "report.h"
#include "report_chrome_trace.h"
#include "report_fmt.h"
#include "trace_file.h"

static void usage(FILE *f)
{
	fprintf(f,
		"usage: iovatop report [--format text|json|csv|chrome-trace] [--top N]\n"
		"                      [--dump-bitmaps DIR] [--heatmap DIR [--heatmap-format F]]\n"
		"                      [--link-rate RATE [--downtime-limit TIME]] FILE\n"
		"Summarise a trace per device: reports, dirty bytes, dirty rate\n"
		"min/avg/max, dirty pages per iteration and whether they converge,\n"
		"the hottest IOVA regions, anomalies and lost records.\n"
		"\n"
		"  -f, --format FMT       text (default), json (docs/report-json.md), csv,\n"
		"                         chrome-trace (Perfetto, docs/chrome-trace.md)\n"
		"  -n, --top N            hot regions per device (default %d, max %d)\n"
		"  -D, --dump-bitmaps DIR write each rebuilt bitmap to DIR/<report>.bin\n"
		"                         and an index to DIR/index.tsv\n"
		"  -p, --pid PID          only the devices process PID asked for\n"
		"      --comm NAME        only those of processes named NAME (NAME* a prefix)\n"
		"  -V, --version          which iovatop this is\n"
		"  -H, --heatmap DIR      per device an SVG of dirty density over IOVA\n"
		"                         and iterations, DIR/<device>.svg (docs/heatmap.md)\n"
		"      --heatmap-format F svg (default), png (the SVG rendered by librsvg)\n"
		"                         or both\n"
		"      --link-rate RATE   forecast each VM's pre-copy at the end of each\n"
		"                         iteration on this link: 10G is bits/s,\n"
		"                         1.25GB/s bytes/s (docs/forecast.md; text, json)\n"
		"      --downtime-limit TIME  the forecast's downtime limit (default 300ms)\n"
		"                         A trace recorded with --qmp has QEMU's own\n"
		"                         figures: its forecast needs neither option.\n"
		"      --max-bitmap SIZE  memory one rebuilt bitmap may take (default 64M,\n"
		"                         a 2 TiB guest at 4 KiB pages; 128M for 4 TiB)\n"
		"\n"
		"examples:\n"
		"  iovatop report mig.trace\n"
		"  iovatop report --format json mig.trace | jq .hottest\n"
		"  iovatop report --format chrome-trace mig.trace > mig.json  # ui.perfetto.dev\n"
		"  iovatop report --link-rate 10G mig.trace\n",
		REPORT_DEFAULT_TOP, REPORT_MAX_TOP);
}

struct report_args {
	struct forecast_args fc;
	enum fmt fmt;
	long top;
	const char *dump;
	const char *heat;
	unsigned int heat_formats;	/* HEATMAP_SVG | HEATMAP_PNG; 0: SVG */
	const char *file;
	int nargs;
	bool help;
	bool version;
	uint64_t max_bitmap;	/* --max-bitmap, 0 the model's default */
	char filter[64];	/* -p and --comm, as the view's filter terms */
};

enum { OPT_COMM = 0x100, OPT_HEAT_FORMAT, OPT_MAX_BITMAP };

/* One more filter term (include/filter.h); 0, or -1 when it does not fit. */
static int add_term(struct report_args *a, const char *key, const char *val)
{
	size_t n = strlen(a->filter);
	int w = snprintf(a->filter + n, sizeof(a->filter) - n, "%s%s=%s",
			 n ? " " : "", key, val);

	return w < 0 || (size_t)w >= sizeof(a->filter) - n ? -1 : 0;
}

static error_t report_parse(int key, char *arg, struct argp_state *state)
{
	struct report_args *a = state->input;

	switch (key) {
	case 'f':
		if (!strcmp(arg, "text"))
			a->fmt = FMT_TEXT;
		else if (!strcmp(arg, "json"))
			a->fmt = FMT_JSON;
		else if (!strcmp(arg, "csv"))
			a->fmt = FMT_CSV;
		else if (!strcmp(arg, "chrome-trace"))
			a->fmt = FMT_CHROME;
		else
			goto bad;
		return 0;
	case 'n':
		if (parse_long(arg, 0, REPORT_MAX_TOP, &a->top)) {
			argp_error(state, "--top wants a number from 0 to %d",
				   REPORT_MAX_TOP);
			return EINVAL;
		}
		return 0;
	case 'D':
		a->dump = arg;
		return 0;
	case 'p': {
		long pid;

		if (parse_long(arg, 1, 0x7fffffffL, &pid) || add_term(a, "pid", arg)) {
			argp_error(state, "the pid '%s' is not a process id.", arg);
			return EINVAL;
		}
		return 0;
	}
	case OPT_COMM:
		if (!*arg || strlen(arg) >= IOVA_COMM_LEN || strchr(arg, ' ') ||
		    add_term(a, "comm", arg)) {
			argp_error(state, "the process name '%s' is not one (1 to %d characters, no blank).",
				   arg, IOVA_COMM_LEN - 1);
			return EINVAL;
		}
		return 0;
	case 'H':
		a->heat = arg;
		return 0;
	case OPT_HEAT_FORMAT:
		if (heatmap_format_parse(arg, &a->heat_formats)) {
			argp_error(state, "--heatmap-format is svg, png or both, not '%s'.", arg);
			return EINVAL;
		}
		return 0;
	case OPT_MAX_BITMAP:
		if (parse_size(arg, &a->max_bitmap) || a->max_bitmap < MODEL_MIN_MAX_BITMAP ||
		    a->max_bitmap > MODEL_MAX_MAX_BITMAP) {
			argp_error(state, "--max-bitmap wants a size from 1M to 1T, such as 128M for a 4 TiB guest.");
			return EINVAL;
		}
		return 0;
	case 'h':
		a->help = true;
		return 0;
	case 'V':
		a->version = true;
		return 0;
	case ARGP_KEY_ARG:
		if (!a->nargs++)
			a->file = arg;
		return 0;
	case ARGP_KEY_INIT:
		state->child_inputs[0] = &a->fc;
		return 0;
	}
	return ARGP_ERR_UNKNOWN;
bad:
	argp_error(state, "unknown format '%s'; use text, json, csv or chrome-trace", arg);
	return EINVAL;
}

/* Our own --help (ARGP_NO_HELP): the usage text above, as before argp. */
static const struct argp_option report_options[] = {
	{ "format", 'f', "FMT", 0, NULL, 0 },
	{ "top", 'n', "N", 0, NULL, 0 },
	{ "dump-bitmaps", 'D', "DIR", 0, NULL, 0 },
	{ "pid", 'p', "PID", 0, NULL, 0 },
	{ "comm", OPT_COMM, "NAME", 0, NULL, 0 },
	{ "heatmap", 'H', "DIR", 0, NULL, 0 },
	{ "heatmap-format", OPT_HEAT_FORMAT, "F", 0, NULL, 0 },
	{ "max-bitmap", OPT_MAX_BITMAP, "SIZE", 0, NULL, 0 },
	{ "help", 'h', NULL, 0, NULL, 0 },
	{ "version", 'V', NULL, 0, NULL, 0 },	/* ARGP_NO_HELP drops argp's */
	{ "usage", 'h', NULL, OPTION_ALIAS | OPTION_HIDDEN, NULL, 0 },	/* argp's errors name it */
	{ 0 },
};

static const struct argp_child report_children[] = {
	{ &forecast_args_argp, 0, NULL, 0 },
	{ 0 },
};

static const struct argp report_argp = {
	.options = report_options,
	.parser = report_parse,
	.children = report_children,
};

/*
 * The model has one hook of each kind: this hands every report and
 * iteration to the summary and to whichever other outputs were asked for.
 */
struct hooks {
	struct model *m;
	struct qmp_samples qmp;		/* QEMU's samples (record --qmp) */
	struct report *rp;
	struct chrome_trace *ct;	/* --format chrome-trace */
	struct heatmap *hm;		/* --heatmap DIR */
	int err;
};

static void on_report(void *ctx, const struct model_report *r)
{
	struct hooks *h = ctx;

	report_on_report(h->rp, r);
	if (h->ct && !h->err)
		h->err = chrome_trace_report(h->ct, r);
	if (h->hm && !h->err)
		h->err = heatmap_report(h->hm, r);
}

static void on_iteration(void *ctx, const struct model_iteration *it)
{
	struct hooks *h = ctx;

	report_on_iteration(h->rp, it);
	if (h->ct && !h->err)
		h->err = chrome_trace_iteration(h->ct, it);
	if (h->hm && !h->err)
		h->err = heatmap_iteration(h->hm, it);
}

/* Every record to the model; QEMU's samples to the forecast as well. */
static int report_sink(void *ctx, const struct iova_rec_hdr *rec)
{
	struct hooks *h = ctx;
	int err;

	if (rec->type == IOVA_REC_QMP) {
		err = qmp_samples_sink(&h->qmp, rec);
		if (err)
			return err;
	}
	return model_apply(h->m, rec);
}

int cmd_report(int argc, char **argv)
{
	static char name[] = "iovatop report";
	struct report_args a = { .fmt = FMT_TEXT, .top = REPORT_DEFAULT_TOP };
	struct model_anomaly anom[MODEL_ANOM_LOG];
	struct report rp = { 0 };
	struct hooks hk = { .rp = &rp };
	struct model_snapshot snap;
	struct model_opts mo = { 0 };
	struct trace_reader *tr = NULL;
	struct model *m = NULL;
	const char *dump;
	struct out o = { 0 };
	struct forecast_trace fc = { 0 };
	char err[512];
	int ret = EXIT_RUNTIME, rd;

	argp_err_exit_status = EXIT_USAGE;
	argv[0] = name;		/* what usage messages call us */
	cli_name = name;	/* and every other message */
	/* no exit inside argp: the tests run the command in their process */
	if (argp_parse(&report_argp, argc, argv, ARGP_NO_HELP | ARGP_NO_EXIT,
		       NULL, &a))
		return EXIT_USAGE;
	if (a.help) {
		usage(stdout);
		return 0;
	}
	if (a.version) {
		/* the hook is the binary's (src/iovatop.c), not a test's */
		if (argp_program_version_hook)
			argp_program_version_hook(stdout, NULL);
		else
			printf("iovatop\n");
		return 0;
	}
	dump = a.dump;
	if (a.fc.nqmp) {
		fprintf(stderr, "%s: --qmp asks a running QEMU, and report reads a trace; drop --qmp and give --link-rate instead.\n", cli_name);
		return EXIT_USAGE;
	}
	if (a.heat_formats && !a.heat) {
		fprintf(stderr, "%s: --heatmap-format says how to write --heatmap DIR's pictures; give --heatmap DIR too.\n", cli_name);
		return EXIT_USAGE;
	}
	if (a.nargs != 1) {
		fprintf(stderr, "%s: report wants exactly one trace file\n", cli_name);
		usage(stderr);
		return EXIT_USAGE;
	}
	/* an unwritable DIR is told before the trace is read */
	if (a.heat && heatmap_check_dir(a.heat, err, sizeof(err))) {
		fprintf(stderr, "%s: %s\n", cli_name, err);
		return EXIT_RUNTIME;
	}
	tr = trace_open(a.file, err, sizeof(err));
	if (!tr) {
		fprintf(stderr, "%s: %s.\n", cli_name, err);
		return EXIT_RUNTIME;
	}
	mo.rule = (enum ibd_rule)trace_meta(tr)->rule;
	mo.max_bitmap_bytes = a.max_bitmap;
	mo.no_hot = true;	/* src/report.c keeps the whole trace's */
	m = model_new(&mo);
	if (!m) {
		fprintf(stderr, "%s: out of memory.\n", cli_name);
		goto out;
	}
	if (dump && report_dump_open(&rp, dump))
		goto out;
	if (a.heat) {
		hk.hm = heatmap_new();
		if (!hk.hm) {
			fprintf(stderr, "%s: out of memory.\n", cli_name);
			goto out;
		}
	}
	if (a.fmt == FMT_CHROME) {
		hk.ct = chrome_trace_new();
		if (!hk.ct) {
			fprintf(stderr, "%s: out of memory.\n", cli_name);
			goto out;
		}
	}
	model_on_report(m, on_report, &hk);
	model_on_iteration(m, on_iteration, &hk);
	hk.m = m;
	rd = trace_read_all(tr, report_sink, &hk);
	if (rd < 0) {
		if (rd == -ENOMEM)
			fprintf(stderr, "%s: out of memory.\n", cli_name);
		else if (rd == -EINVAL)
			fprintf(stderr, "%s: %s holds a record the model rejects near byte %" PRIu64 ".\n", cli_name,
				a.file, trace_offset(tr));
		else if (rd == -E2BIG)
			fprintf(stderr, "%s: %s names %s; refusing it.\n", cli_name,
				a.file, model_strerror(rd));
		else
			fprintf(stderr, "%s: cannot read %s: %s.\n", cli_name, a.file, strerror(-rd));
		goto out;
	}
	if (trace_state(tr) == TRACE_CORRUPT) {
		fprintf(stderr, "%s: %s.\n", cli_name, trace_status_msg(tr));
		goto out;
	}
	/* only a trace recorded with --qmp knows the bandwidth by itself */
	if (a.fc.given && !a.fc.opts.link_bytes_s && !hk.qmp.n) {
		fprintf(stderr, "%s: %s holds no bandwidth (it was recorded without --qmp): give --link-rate for the forecast.\n",
			cli_name, a.file);
		ret = EXIT_USAGE;
		goto out;
	}
	model_finish(m);
	if (rp.err || hk.err) {
		fprintf(stderr, "%s: %s.\n", cli_name, rp.errmsg[0] ? rp.errmsg : "out of memory");
		goto out;
	}
	if (model_snapshot(m, model_now(m), MODEL_SORT_RATE, false, a.filter, &snap)) {
		fprintf(stderr, "%s: out of memory.\n", cli_name);
		goto out;
	}
	report_sort_rows(&snap);
	report_finish(&rp, (size_t)a.top);
	if (a.fc.given || hk.qmp.n) {
		if (forecast_trace_build(&fc, &a.fc.opts, &rp, &snap, &hk.qmp)) {
			fprintf(stderr, "%s: out of memory for the forecast.\n", cli_name);
			goto out;
		}
		o.fc = &fc;
	}

	o.f = stdout;
	o.file = base_name(a.file);
	o.meta = trace_meta(tr);
	o.tot = trace_read_totals(tr);
	o.state = trace_state(tr);
	o.status = trace_status_msg(tr);
	o.cut_lost = trace_cut_lost(tr);
	o.s = &snap;
	o.rp = &rp;
	o.anom = anom;
	o.nanom = model_anomalies(m, anom, MODEL_ANOM_LOG);
	if (a.fmt == FMT_CHROME) {
		size_t i;

		for (i = 0; i < o.nanom && !hk.err; i++)
			hk.err = chrome_trace_anomaly(hk.ct, &anom[i]);
		if (hk.err) {
			fprintf(stderr, "%s: out of memory.\n", cli_name);
			goto out;
		}
		chrome_trace_write(hk.ct, stdout, o.file, o.tot->first_ts_ns);
	} else {
		report_print(&o, a.fmt);
	}
	if (hk.hm) {
		int n = heatmap_write(hk.hm, a.heat, o.tot->first_ts_ns, a.heat_formats,
				      err, sizeof(err));

		if (n < 0) {
			fprintf(stderr, "%s: %s.\n", cli_name, err);
			goto out;
		}
		fprintf(stderr, "%s: wrote %d heatmap%s to %s.\n", cli_name, n, n == 1 ? "" : "s",
			a.heat);
	}
	if (fflush(stdout) || ferror(stdout)) {
		fprintf(stderr, "%s: cannot write the report: %s.\n", cli_name, strerror(errno));
		goto out;
	}
	/* the reader of a cut trace must hear it even if stdout goes to a file */
	if (o.state == TRACE_TRUNCATED)
		fprintf(stderr, "%s: warning: %s; the report covers the records before the cut.\n", cli_name,
			o.status);
	ret = 0;
out:
	if (rp.index && fclose(rp.index) && !ret) {
		fprintf(stderr, "%s: cannot write %s/index.tsv: %s.\n", cli_name, dump, strerror(errno));
		ret = EXIT_RUNTIME;
	}
	forecast_trace_free(&fc);
	qmp_samples_free(&hk.qmp);
	report_free(&rp);
	chrome_trace_free(hk.ct);
	heatmap_free(hk.hm);
	model_free(m);
	trace_close(tr);
	return ret;
}
