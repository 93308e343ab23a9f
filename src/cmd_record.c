// SPDX-License-Identifier: GPL-2.0
/*
 * cmd_record.c - iovatop record: drain the live source into a trace file
 * (docs/trace-format.md) until the duration is up or SIGINT/SIGTERM.
 *
 * The writer gets every record the live source delivers, LOST records
 * included. Blocks are written every 64 KiB and at least once a second, so
 * a recorder killed with SIGKILL loses at most the last second.
 *
 * With --qmp SOCKET each of QEMU's query-migrate answers goes into the
 * trace too, as an IOVA_REC_QMP record (src/qmp_record.c), so that replay
 * and report forecast on QEMU's own figures as the live view does. A
 * client thread asks QEMU; the loop here only copies what it got.
 */
#include <argp.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli_util.h"
#include "commands.h"
#include "export_openmetrics.h"
#include "forecast_session.h"
#include "model.h"
#include "qmp_client.h"
#include "qmp_record.h"
#include "source_live.h"
#include "trace_file.h"
#include "view.h"

#define POLL_MS		100
#define FLUSH_NS	1000000000ull
#define PROGRESS_NS	1000000000ull
/* with --openmetrics: a snapshot a second, each a little after its boundary */
#define OM_INTERVAL_NS	1000000000ull
#define OM_GRACE_NS	(100 * 1000000ull)
/* QEMU gets this long to greet, and then to answer each query */
#define QMP_TIMEOUT_MS	2000
#define QMP_INTERVAL_S	0.25	/* several samples in a sync pass */

struct record_args {
	const char *out;
	double duration;
	struct trace_writer_opts wo;
	struct live_opts live;
	struct om_args om;
	const char *qmp[FORECAST_MAX_VMS];
	int nqmp;
	double qmp_interval;
};

enum { OPT_NO_COMPRESS = 0x100, OPT_BLOCK_BYTES, OPT_QMP, OPT_QMP_INTERVAL };

static const struct argp_option record_options[] = {
	{ "output", 'o', "FILE", 0, "The trace to write (replaced if it exists)", 0 },
	{ "duration", 'd', "SECS", 0, "Stop after SECS seconds (default: until a signal)", 0 },
	{ "no-compress", OPT_NO_COMPRESS, NULL, 0, "Store blocks uncompressed (zstd by default)", 0 },
	{ "block-bytes", OPT_BLOCK_BYTES, "N", 0, "Records per block, in raw bytes (default 4096): a file cut short reads up to its last whole block; 1 puts every record in its own block", 0 },
	{ "qmp", OPT_QMP, "SOCKET", 0, "Record this QEMU's query-migrate answers too, for the forecast of replay and report (repeat: one per VM)", 0 },
	{ "qmp-interval", OPT_QMP_INTERVAL, "SECS", 0, "Ask QEMU every SECS seconds (default 0.25)", 0 },
	{ NULL, 'h', NULL, OPTION_HIDDEN, NULL, 0 },	/* -h, as before argp */
	{ 0 },
};

static error_t record_parse(int key, char *arg, struct argp_state *state)
{
	struct record_args *a = state->input;
	long block_bytes;

	switch (key) {
	case ARGP_KEY_INIT:
		state->child_inputs[0] = &a->live;
		state->child_inputs[1] = &a->om;
		return 0;
	case 'h':
		argp_state_help(state, stdout, ARGP_HELP_STD_HELP);
		return 0;
	case 'o':
		a->out = arg;
		return 0;
	case 'd':
		if (parse_double(arg, 0, 1e7, &a->duration) || !(a->duration > 0))
			argp_error(state, "-d wants a positive number of seconds");
		return 0;
	case OPT_NO_COMPRESS:
		a->wo.codec = TRACE_CODEC_NONE;
		return 0;
	case OPT_BLOCK_BYTES:
		if (parse_long(arg, 1, TRACE_CHUNK_MAX_RAW, &block_bytes))
			argp_error(state, "--block-bytes wants 1 to %u",
				   TRACE_CHUNK_MAX_RAW);
		a->wo.block_bytes = (uint32_t)block_bytes;
		return 0;
	case OPT_QMP:
		if (a->nqmp == FORECAST_MAX_VMS)
			argp_error(state, "more than %d --qmp sockets; record fewer VMs at a time.",
				   FORECAST_MAX_VMS);
		a->qmp[a->nqmp++] = arg;
		return 0;
	case OPT_QMP_INTERVAL:
		if (parse_double(arg, 0.01, 3600, &a->qmp_interval))
			argp_error(state, "--qmp-interval wants 0.01 to 3600 seconds");
		return 0;
	case ARGP_KEY_ARG:
		argp_error(state, "record wants -o FILE and no other arguments");
		return 0;
	case ARGP_KEY_END:
		if (!a->out)
			argp_error(state, "record wants -o FILE and no other arguments");
		return 0;
	}
	return ARGP_ERR_UNKNOWN;
}

static const char record_doc[] =
	"Record the iova_bitmap dirty-tracking records of this kernel to FILE "
	"(mode 0600) until SECONDS have passed or Ctrl-C. Progress goes to "
	"stderr. 'iovatop report FILE' and 'iovatop replay FILE' read it.\v"
	"EXAMPLES:\n"
	"    iovatop record -o mig.trace -d 60\n"
	"    iovatop record -o mig.trace & ... ; kill -INT %1\n"
	"    iovatop record -o mig.trace --openmetrics :9877  # Prometheus meanwhile\n"
	"    iovatop record -o mig.trace --qmp /run/vm1.qmp  # QEMU's figures too";

static const struct argp_child record_children[] = {
	{ &live_args_argp, 0, NULL, 0 },
	{ &om_args_argp, 0, NULL, 0 },
	{ 0 },
};

static const struct argp record_argp = {
	.options = record_options,
	.parser = record_parse,
	.args_doc = "-o FILE",
	.doc = record_doc,
	.children = record_children,
};

/*
 * Where each record goes: the trace, and with --openmetrics the model
 * behind the endpoint too. The trace comes first and its errors stop the
 * recording; a record the model rejects is the model's to count.
 */
struct rec_sink {
	struct trace_writer *w;
	struct view_run *vr;
	struct qmp_client *qmp[FORECAST_MAX_VMS];
	uint64_t qmp_next[FORECAST_MAX_VMS];	/* the next sample's seq */
	int nqmp;
	uint64_t qmp_written;
};

static int rec_sink(void *ctx, const struct iova_rec_hdr *rec)
{
	struct rec_sink *s = ctx;
	int err = trace_writer_add(s->w, rec);

	if (!err && s->vr)
		view_run_record(s->vr, rec);
	return err;
}

/* QEMU's samples since the last call, each as a record. */
static int rec_qmp(struct rec_sink *s)
{
	struct iova_rec_qmp r;
	struct qmp_migrate m;
	int i, err;

	for (i = 0; i < s->nqmp; i++)
		while (qmp_client_sample_from(s->qmp[i], s->qmp_next[i], &m)) {
			qmp_record_fill(&r, &m);
			err = rec_sink(s, &r.hdr);
			if (err)
				return err;
			s->qmp_next[i] = m.seq + 1;
			s->qmp_written++;
		}
	return 0;
}

/* QEMU's sockets, before the probes: a wrong one is refused at once. */
static int open_qmp(struct rec_sink *s, const struct record_args *a)
{
	char err[512];
	bool usage;
	int i;

	for (i = 0; i < a->nqmp; i++) {
		s->qmp[i] = qmp_client_open(a->qmp[i], QMP_TIMEOUT_MS, err,
					    sizeof(err), &usage);
		if (!s->qmp[i]) {
			fprintf(stderr, "%s: %s\n", cli_name, err);
			return usage ? EXIT_USAGE : EXIT_RUNTIME;
		}
		s->nqmp++;
		s->qmp_next[i] = 1;
	}
	return 0;
}

static void close_qmp(struct rec_sink *s)
{
	int i;

	for (i = 0; i < s->nqmp; i++)
		qmp_client_close(s->qmp[i]);
	s->nqmp = 0;
}

static void progress(const struct trace_totals *t, double secs, bool tty,
		     bool final)
{
	fprintf(stderr, "%srecording: %.0f s, %" PRIu64 " records, %.1f MiB, %" PRIu64
		" lost%s", tty ? "\r" : "", secs, t->records,
		(double)t->raw_bytes / (1 << 20), t->lost,
		tty && !final ? "   " : "\n");
}

/*
 * Can FILE be written? Asked before attaching, so that a wrong path is
 * told at once and not after the probes are loaded, and without
 * truncating: a recording that cannot start leaves an old trace alone.
 * Only a regular file will do: a FIFO would hang the open (O_NONBLOCK
 * keeps it from blocking) and a device would be written over. *created
 * says whether FILE is new (and to be removed if we give up).
 */
static int check_output(const char *out, bool *created)
{
	struct stat st;
	int fd;

	*created = false;
	fd = open(out, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd >= 0)
		*created = true;
	else if (errno == EEXIST)
		fd = open(out, O_WRONLY | O_NONBLOCK | O_NOFOLLOW | O_CLOEXEC);
	/* ENXIO: a FIFO nobody reads */
	if ((fd < 0 && errno == ENXIO) ||
	    (fd >= 0 && !fstat(fd, &st) && !S_ISREG(st.st_mode))) {
		fprintf(stderr, "%s: %s is not a regular file; a trace is written to a regular file only.\n",
			cli_name, out);
		if (fd >= 0)
			close(fd);
		return -1;
	}
	if (fd < 0) {
		fprintf(stderr, "%s: cannot create %s: %s.\n", cli_name, out,
			strerror(errno));
		return -1;
	}
	close(fd);
	return 0;
}

int cmd_record(int argc, char **argv)
{
	static char name[] = "iovatop record";
	struct record_args a = { .wo = { .codec = TRACE_CODEC_ZSTD } };
	struct trace_writer *w = NULL;
	struct trace_meta meta;
	struct live *l = NULL;
	struct om_server *srv = NULL;
	struct model *m = NULL;
	struct view_run vr;
	struct rec_sink sink = { 0 };
	const char *out;
	uint64_t t0, last_flush, last_progress, now, deadline = 0;
	bool tty = isatty(STDERR_FILENO);
	char err[512];
	int ret = EXIT_RUNTIME, n;
	bool created;

	argp_err_exit_status = EXIT_USAGE;
	argv[0] = name;		/* what usage messages call us */
	cli_name = name;	/* and every other message */
	if (argp_parse(&record_argp, argc, argv, 0, NULL, &a))
		return EXIT_USAGE;
	out = a.out;

	/* handlers first: a Ctrl-C while attaching must still close cleanly */
	catch_signals(false);

	n = open_qmp(&sink, &a);
	if (n) {
		close_qmp(&sink);
		return n;
	}
	if (check_output(out, &created)) {
		close_qmp(&sink);
		return EXIT_RUNTIME;
	}
	if (a.om.listen) {
		/* before the probes: a port in use must not cost an attach */
		struct om_meta om = { .source = "record" };

		srv = om_server_start(a.om.listen, &om, err, sizeof(err));
		if (!srv) {
			fprintf(stderr, "%s: %s\n", cli_name, err);
			if (created)
				unlink(out);
			close_qmp(&sink);
			return EXIT_RUNTIME;
		}
	}
	l = live_open(&a.live, err, sizeof(err));
	if (!l) {
		fprintf(stderr, "%s: %s\n", cli_name, err);
		if (created)
			unlink(out);
		om_server_stop(srv);
		close_qmp(&sink);
		return EXIT_RUNTIME;
	}
	live_meta(l, &meta);
	/* a replay of a trace without QEMU's samples need not look for them */
	meta.contents = TRACE_CONTENTS_DECLARED | (sink.nqmp ? TRACE_CONTENTS_QMP : 0);
	t0 = meta.start_mono_ns;
	w = trace_writer_open(out, &meta, &a.wo, err, sizeof(err));
	if (!w) {
		fprintf(stderr, "%s: %s.\n", cli_name, err);
		goto out;
	}
	sink.w = w;
	for (n = 0; n < sink.nqmp; n++) {
		/* the first answer now, so that the trace starts with QEMU's state */
		qmp_client_poll_once(sink.qmp[n], QMP_TIMEOUT_MS);
		if (qmp_client_start(sink.qmp[n], (uint64_t)((a.qmp_interval > 0 ?
				     a.qmp_interval : QMP_INTERVAL_S) * 1e3),
				     QMP_TIMEOUT_MS)) {
			fprintf(stderr, "%s: cannot start the QMP thread for %s.\n", cli_name,
				a.qmp[n]);
			goto out;
		}
	}
	if (srv) {
		struct model_opts mo = { .rule = (enum ibd_rule)meta.rule };
		struct om_meta om = { .source = "record", .kernel = meta.kernel_release,
				      .probe = meta.probe_mode,
				      .layout = view_layout_name(meta.layout),
				      .ring = &vr.ring };

		m = model_new(&mo);
		if (!m) {
			fprintf(stderr, "%s: out of memory for the model.\n", cli_name);
			goto out;
		}
		om_server_set_meta(srv, &om);
		view_run_init(&vr, m, OM_INTERVAL_NS, 0);
		vr.snap_fn = om_snap_hook;
		vr.snap_ctx = srv;
		vr.ring_fn = live_ring_hook;
		vr.ring_ctx = l;
		view_run_start(&vr, t0);
		sink.vr = &vr;
	}
	if (a.duration > 0)
		deadline = t0 + (uint64_t)(a.duration * 1e9);
	last_flush = last_progress = t0;
	fprintf(stderr, "%s: recording to %s (probe %s); Ctrl-C stops.\n", cli_name, out,
		live_probe_mode(l));

	while (!stop_signal) {
		n = live_poll(l, POLL_MS, rec_sink, &sink);
		if (n < 0 && n != -EINTR) {
			if (*trace_writer_error(w))
				fprintf(stderr, "\n%s: %s.\n", cli_name, trace_writer_error(w));
			else
				fprintf(stderr, "\n%s: reading the ring buffer failed: %s.\n", cli_name,
					strerror(-n));
			goto out;
		}
		if (rec_qmp(&sink)) {
			fprintf(stderr, "\n%s: %s.\n", cli_name, trace_writer_error(w));
			goto out;
		}
		now = clock_ns(CLOCK_MONOTONIC);
		if (sink.vr && now > OM_GRACE_NS)
			view_run_clock(sink.vr, now - OM_GRACE_NS);
		if (now - last_flush >= FLUSH_NS) {
			if (trace_writer_flush(w)) {
				fprintf(stderr, "\n%s: %s.\n", cli_name, trace_writer_error(w));
				goto out;
			}
			last_flush = now;
		}
		if (now - last_progress >= PROGRESS_NS) {
			progress(trace_writer_totals(w), (double)(now - t0) / 1e9, tty,
				 false);
			last_progress = now;
		}
		if (deadline && now >= deadline)
			break;
	}
	/* drain what is already in the ring, and QEMU's last, before closing */
	while (live_poll(l, 0, rec_sink, &sink) > 0)
		;
	if (rec_qmp(&sink)) {
		fprintf(stderr, "%s: %s.\n", cli_name, trace_writer_error(w));
		goto out;
	}
	progress(trace_writer_totals(w),
		 (double)(clock_ns(CLOCK_MONOTONIC) - t0) / 1e9, tty, true);
	{
		struct trace_totals t = *trace_writer_totals(w);
		int cerr = trace_writer_close(w, err, sizeof(err));

		w = NULL;
		if (cerr) {
			fprintf(stderr, "%s: %s.\n", cli_name, err);
			goto out;
		}
		if (sink.nqmp)
			fprintf(stderr, "%s: %" PRIu64 " of the records are QEMU's query-migrate answers.\n",
				cli_name, sink.qmp_written);
		fprintf(stderr, "%s: wrote %" PRIu64 " records (%" PRIu64 " lost) in %"
			PRIu64 " blocks to %s%s.\n", cli_name, t.records, t.lost, t.chunks, out,
			stop_signal ? stop_signal == SIGINT ? ", stopped by SIGINT" :
				", stopped by SIGTERM" : "");
	}
	ret = 0;
out:
	if (w)
		trace_writer_abandon(w);
	close_qmp(&sink);
	live_close(l);
	om_server_stop(srv);
	model_free(m);
	return ret;
}
