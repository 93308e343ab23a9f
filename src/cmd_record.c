// SPDX-License-Identifier: GPL-2.0
/*
 * cmd_record.c - iovatop record: drain the live source into a trace file
 * (docs/trace-format.md) until the duration is up or SIGINT/SIGTERM.
 *
 * The writer gets every record the live source delivers, LOST records
 * included. Blocks are written every 64 KiB and at least once a second, so
 * a recorder killed with SIGKILL loses at most the last second.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli_util.h"
#include "commands.h"
#include "source_live.h"
#include "trace_file.h"

#define POLL_MS		100
#define FLUSH_NS	1000000000ull
#define PROGRESS_NS	1000000000ull

static void usage(FILE *f)
{
	fprintf(f,
		"usage: iovatop record -o FILE [-d SECONDS] [--no-compress] [--block-bytes N]\n"
		"                      [--verify] [-v]\n"
		"Record the iova_bitmap dirty-tracking records of this kernel to FILE\n"
		"(mode 0600) until SECONDS have passed or Ctrl-C. Progress goes to\n"
		"stderr. 'iovatop report FILE' and 'iovatop replay FILE' read it.\n"
		"\n"
		"  -o, --output FILE     the trace to write (replaced if it exists)\n"
		"  -d, --duration SECS   stop after SECS seconds (default: until a signal)\n"
		"      --no-compress     store blocks uncompressed (zstd by default)\n"
		"      --block-bytes N   records per block, in raw bytes (default 4096):\n"
		"                        a file cut short reads up to its last whole\n"
		"                        block; 1 puts every record in its own block\n"
		"      --verify          read user bitmaps back and compare (root)\n"
		"  -v, --verbose         libbpf messages and probe choices\n"
		"\n"
		"examples:\n"
		"  iovatop record -o mig.trace -d 60\n"
		"  iovatop record -o mig.trace & ... ; kill -INT %%1\n");
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
 * *created says whether FILE is new (and to be removed if we give up).
 */
static int check_output(const char *out, bool *created)
{
	int fd;

	*created = false;
	fd = open(out, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd >= 0)
		*created = true;
	else if (errno == EEXIST)
		fd = open(out, O_WRONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		fprintf(stderr, "iovatop: cannot create %s: %s.\n", out,
			strerror(errno));
		return -1;
	}
	close(fd);
	return 0;
}

int cmd_record(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "output", required_argument, NULL, 'o' },
		{ "duration", required_argument, NULL, 'd' },
		{ "no-compress", no_argument, NULL, 'N' },
		{ "block-bytes", required_argument, NULL, 'B' },
		{ "verify", no_argument, NULL, 'V' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	struct trace_writer_opts wo = { .codec = TRACE_CODEC_ZSTD };
	struct live_opts lo = { 0 };
	struct trace_writer *w = NULL;
	struct trace_meta meta;
	struct live *l = NULL;
	const char *out = NULL;
	double duration = 0;
	uint64_t t0, last_flush, last_progress, now, deadline = 0;
	bool tty = isatty(STDERR_FILENO);
	char err[512];
	int c, ret = EXIT_RUNTIME, n;
	long block_bytes;
	bool created;

	optind = 1;
	while ((c = getopt_long(argc, argv, "o:d:vh", longopts, NULL)) != -1) {
		switch (c) {
		case 'o':
			out = optarg;
			break;
		case 'd':
			if (parse_double(optarg, 0, 1e7, &duration) ||
			    !(duration > 0)) {
				fprintf(stderr, "iovatop: -d wants a positive number of seconds\n");
				return EXIT_USAGE;
			}
			break;
		case 'N':
			wo.codec = TRACE_CODEC_NONE;
			break;
		case 'B':
			if (parse_long(optarg, 1, TRACE_CHUNK_MAX_RAW, &block_bytes)) {
				fprintf(stderr, "iovatop: --block-bytes wants 1 to %u\n",
					TRACE_CHUNK_MAX_RAW);
				return EXIT_USAGE;
			}
			wo.block_bytes = (uint32_t)block_bytes;
			break;
		case 'V':
			lo.verify = true;
			break;
		case 'v':
			lo.verbose = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (!out || optind != argc) {
		fprintf(stderr, "iovatop: record wants -o FILE and no other arguments\n");
		usage(stderr);
		return EXIT_USAGE;
	}

	/* handlers first: a Ctrl-C while attaching must still close cleanly */
	catch_signals(false);

	if (check_output(out, &created))
		return EXIT_RUNTIME;
	l = live_open(&lo, err, sizeof(err));
	if (!l) {
		fprintf(stderr, "iovatop: %s\n", err);
		if (created)
			unlink(out);
		return EXIT_RUNTIME;
	}
	live_meta(l, &meta);
	t0 = meta.start_mono_ns;
	w = trace_writer_open(out, &meta, &wo, err, sizeof(err));
	if (!w) {
		fprintf(stderr, "iovatop: %s.\n", err);
		goto out;
	}
	if (duration > 0)
		deadline = t0 + (uint64_t)(duration * 1e9);
	last_flush = last_progress = t0;
	fprintf(stderr, "iovatop: recording to %s (probe %s); Ctrl-C stops.\n", out,
		live_probe_mode(l));

	while (!stop_signal) {
		n = live_poll(l, POLL_MS, trace_writer_add, w);
		if (n < 0 && n != -EINTR) {
			if (*trace_writer_error(w))
				fprintf(stderr, "\niovatop: %s.\n", trace_writer_error(w));
			else
				fprintf(stderr, "\niovatop: reading the ring buffer failed: %s.\n",
					strerror(-n));
			goto out;
		}
		now = clock_ns(CLOCK_MONOTONIC);
		if (now - last_flush >= FLUSH_NS) {
			if (trace_writer_flush(w)) {
				fprintf(stderr, "\niovatop: %s.\n", trace_writer_error(w));
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
	/* drain what is already in the ring before closing */
	while (live_poll(l, 0, trace_writer_add, w) > 0)
		;
	progress(trace_writer_totals(w),
		 (double)(clock_ns(CLOCK_MONOTONIC) - t0) / 1e9, tty, true);
	{
		struct trace_totals t = *trace_writer_totals(w);
		int cerr = trace_writer_close(w, err, sizeof(err));

		w = NULL;
		if (cerr) {
			fprintf(stderr, "iovatop: %s.\n", err);
			goto out;
		}
		fprintf(stderr, "iovatop: wrote %" PRIu64 " records (%" PRIu64 " lost) in %"
			PRIu64 " blocks to %s%s.\n", t.records, t.lost, t.chunks, out,
			stop_signal ? stop_signal == SIGINT ? ", stopped by SIGINT" :
				", stopped by SIGTERM" : "");
	}
	ret = 0;
out:
	if (w)
		trace_writer_abandon(w);
	live_close(l);
	return ret;
}
