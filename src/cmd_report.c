// SPDX-License-Identifier: GPL-2.0
/*
 * cmd_report.c - iovatop report: read a trace through the model and
 * summarise it per device, as text, JSON (docs/report-json.md) or CSV.
 *
 * The command only: options, the reader and the model. What a whole-trace
 * summary gathers on top of the model is src/report.c, what it writes
 * src/report_fmt.c.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli_util.h"
#include "commands.h"
#include "model.h"
#include "report.h"
#include "report_fmt.h"
#include "trace_file.h"

static void usage(FILE *f)
{
	fprintf(f,
		"usage: iovatop report [--format text|json|csv] [--top N]\n"
		"                      [--dump-bitmaps DIR] FILE\n"
		"Summarise a trace per device: reports, dirty bytes, dirty rate\n"
		"min/avg/max, dirty pages per iteration and whether they converge,\n"
		"the hottest IOVA regions, anomalies and lost records.\n"
		"\n"
		"  -f, --format FMT       text (default), json (docs/report-json.md), csv\n"
		"  -n, --top N            hot regions per device (default %d, max %d)\n"
		"  -D, --dump-bitmaps DIR write each rebuilt bitmap to DIR/<report>.bin\n"
		"                         and an index to DIR/index.tsv\n"
		"\n"
		"examples:\n"
		"  iovatop report mig.trace\n"
		"  iovatop report --format json mig.trace | jq .hottest\n",
		REPORT_DEFAULT_TOP, REPORT_MAX_TOP);
}

int cmd_report(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "format", required_argument, NULL, 'f' },
		{ "top", required_argument, NULL, 'n' },
		{ "dump-bitmaps", required_argument, NULL, 'D' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	struct model_anomaly anom[MODEL_ANOM_LOG];
	struct report rp = { 0 };
	struct model_snapshot snap;
	struct model_opts mo = { 0 };
	struct trace_reader *tr = NULL;
	struct model *m = NULL;
	const char *dump = NULL;
	enum fmt fmt = FMT_TEXT;
	long top = REPORT_DEFAULT_TOP;
	struct out o = { 0 };
	char err[512];
	int c, ret = EXIT_RUNTIME, rd;

	optind = 1;
	while ((c = getopt_long(argc, argv, "f:n:D:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'f':
			if (!strcmp(optarg, "text"))
				fmt = FMT_TEXT;
			else if (!strcmp(optarg, "json"))
				fmt = FMT_JSON;
			else if (!strcmp(optarg, "csv"))
				fmt = FMT_CSV;
			else {
				fprintf(stderr, "iovatop: unknown format '%s'; use text, json or csv\n", optarg);
				return EXIT_USAGE;
			}
			break;
		case 'n':
			if (parse_long(optarg, 0, REPORT_MAX_TOP, &top)) {
				fprintf(stderr, "iovatop: --top wants a number from 0 to %d\n",
					REPORT_MAX_TOP);
				return EXIT_USAGE;
			}
			break;
		case 'D':
			dump = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (optind != argc - 1) {
		fprintf(stderr, "iovatop: report wants exactly one trace file\n");
		usage(stderr);
		return EXIT_USAGE;
	}
	tr = trace_open(argv[optind], err, sizeof(err));
	if (!tr) {
		fprintf(stderr, "iovatop: %s.\n", err);
		return EXIT_RUNTIME;
	}
	mo.rule = (enum ibd_rule)trace_meta(tr)->rule;
	m = model_new(&mo);
	if (!m) {
		fprintf(stderr, "iovatop: out of memory.\n");
		goto out;
	}
	if (dump && report_dump_open(&rp, dump))
		goto out;
	report_hooks(&rp, m);
	rd = trace_read_all(tr, model_apply, m);
	if (rd < 0) {
		if (rd == -EINVAL)
			fprintf(stderr, "iovatop: %s holds a record the model rejects near byte %" PRIu64 ".\n",
				argv[optind], trace_offset(tr));
		else
			fprintf(stderr, "iovatop: cannot read %s: %s.\n", argv[optind], strerror(-rd));
		goto out;
	}
	if (trace_state(tr) == TRACE_CORRUPT) {
		fprintf(stderr, "iovatop: %s.\n", trace_status_msg(tr));
		goto out;
	}
	model_finish(m);
	if (rp.err) {
		fprintf(stderr, "iovatop: %s.\n", rp.errmsg[0] ? rp.errmsg : "out of memory");
		goto out;
	}
	if (model_snapshot(m, model_now(m), MODEL_SORT_RATE, false, NULL, &snap)) {
		fprintf(stderr, "iovatop: out of memory.\n");
		goto out;
	}
	report_sort_rows(&snap);
	report_finish(&rp, (size_t)top);

	o.f = stdout;
	o.file = base_name(argv[optind]);
	o.meta = trace_meta(tr);
	o.tot = trace_read_totals(tr);
	o.state = trace_state(tr);
	o.status = trace_status_msg(tr);
	o.cut_lost = trace_cut_lost(tr);
	o.s = &snap;
	o.rp = &rp;
	o.anom = anom;
	o.nanom = model_anomalies(m, anom, MODEL_ANOM_LOG);
	report_print(&o, fmt);
	if (fflush(stdout) || ferror(stdout)) {
		fprintf(stderr, "iovatop: cannot write the report: %s.\n", strerror(errno));
		goto out;
	}
	/* the reader of a cut trace must hear it even if stdout goes to a file */
	if (o.state == TRACE_TRUNCATED)
		fprintf(stderr, "iovatop: warning: %s; the report covers the records before the cut.\n",
			o.status);
	ret = 0;
out:
	if (rp.index && fclose(rp.index) && !ret) {
		fprintf(stderr, "iovatop: cannot write %s/index.tsv: %s.\n", dump, strerror(errno));
		ret = EXIT_RUNTIME;
	}
	report_free(&rp);
	model_free(m);
	trace_close(tr);
	return ret;
}
