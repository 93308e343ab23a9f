// SPDX-License-Identifier: GPL-2.0
/*
 * bench_tracer.c - attaching, reading and detaching the tracers the VM
 * benchmarks compare, and reading iovatop's rebuilt bitmaps back.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "bench_count.skel.h"
#include "bench_proc.h"
#include "bench_tracer.h"

const char *const bench_tracer_name[BENCH_TRACERS] = {
	"untraced", "bare", "iovatop", "bpftrace", "ranges",
};

void bench_tracer_start(struct bench_tracer *t, enum bench_tracer_kind kind,
			const char *prog, const char *tmp, const char *tag)
{
	memset(t, 0, sizeof(*t));
	t->kind = kind;
	snprintf(t->log, sizeof(t->log), "%s/%s-%s.log", tmp, tag, bench_tracer_name[kind]);
	snprintf(t->out, sizeof(t->out), "%s/%s-bpftrace.out", tmp, tag);
	snprintf(t->trace, sizeof(t->trace), "%s/%s.trace", tmp, tag);
	if (kind == BENCH_BARE) {
		t->bc = bench_count_bpf__open_and_load();
		if (!t->bc || bench_count_bpf__attach(t->bc))
			bench_die("the bare fentry counter does not attach");
	} else if (kind == BENCH_IOVATOP) {
		char *argv[] = { (char *)prog, "record", "-o", t->trace, NULL };

		t->pid = bench_spawn(argv, t->log, "recording to", NULL);
	} else if (kind == BENCH_RANGES) {
		char *argv[] = { (char *)prog, "record", "--kernel-bitmap", "0", "-o",
				 t->trace, NULL };

		t->pid = bench_spawn(argv, t->log, "recording to", NULL);
	} else if (kind == BENCH_BPFTRACE) {
		char *argv[] = { (char *)prog, "-e",
				 "kfunc:iova_bitmap_set { printf(\"%lx %lx\\n\", "
				 "args->iova, args->length); }", NULL };

		t->pid = bench_spawn(argv, t->log, "Attaching", t->out);
		/*
		 * bpftrace says "Attaching" before it attaches; a report
		 * running while the kernel patches iova_bitmap_set() has
		 * crashed the emulated guest (int3 oops), so let it finish.
		 */
		sleep(3);
	}
}

uint64_t bench_tracer_seen(struct bench_tracer *t)
{
	uint64_t vals[256] = { 0 }, sum = 0, n;
	uint32_t zero = 0;
	int i, ncpu;

	if (t->kind == BENCH_BPFTRACE) {
		n = bench_drained_lines(t->out);
		return n ? n - 1 : 0;	/* "Attaching 1 probe..." */
	}
	if (t->kind != BENCH_BARE)
		return 0;
	ncpu = libbpf_num_possible_cpus();
	if (ncpu <= 0 || ncpu > 256 ||
	    bpf_map_lookup_elem(bpf_map__fd(t->bc->maps.calls), &zero, vals))
		bench_die("cannot read the bare counter's map");
	for (i = 0; i < ncpu; i++)
		sum += vals[i];
	return sum;
}

void bench_tracer_stop(struct bench_tracer *t)
{
	if (t->kind == BENCH_BARE) {
		bench_count_bpf__destroy(t->bc);
		t->bc = NULL;
		bench_settle();
	} else if (t->pid) {
		int status;

		usleep(300000);	/* let the reader drain before SIGINT */
		status = bench_stop(t->pid);
		t->pid = 0;
		if (t->kind == BENCH_BPFTRACE)
			unlink(t->out);
		if (!WIFEXITED(status) || WEXITSTATUS(status)) {
			char cmd[512];

			fprintf(stderr, "%s ended with wait status 0x%x; its log:\n",
				bench_tracer_name[t->kind], (unsigned int)status);
			snprintf(cmd, sizeof(cmd), "tail -5 %s >&2", t->log);
			if (system(cmd))
				fprintf(stderr, "(%s unreadable)\n", t->log);
			bench_die("a tracer failed");
		}
	}
}

uint64_t bench_bits_missing(const uint8_t *want, const uint8_t *got, size_t n)
{
	uint64_t c = 0;
	size_t i;

	for (i = 0; i < n; i++)
		c += (uint64_t)__builtin_popcount(want[i] & (uint8_t)~got[i]);
	return c;
}

unsigned int bench_iovatop_bitmaps(const char *iovatop, const char *trace, const char *tmp,
				   size_t nbytes, unsigned int max, bench_bitmap_fn fn,
				   void *ctx)
{
	char dir[256], cmd[1024], line[2048], path[600];
	uint8_t *got = malloc(nbytes);
	unsigned int row = 0;
	FILE *f;

	if (!got)
		bench_die("out of memory");
	snprintf(dir, sizeof(dir), "%s/bench-dump", tmp);
	snprintf(cmd, sizeof(cmd), "rm -rf %s && %s report --dump-bitmaps %s %s >/dev/null",
		 dir, iovatop, dir, trace);
	if (system(cmd))
		bench_die("'iovatop report --dump-bitmaps' failed on the bench's trace");
	snprintf(path, sizeof(path), "%s/index.tsv", dir);
	f = fopen(path, "r");
	if (!f || !fgets(line, sizeof(line), f))	/* header */
		bench_die("iovatop wrote no index.tsv of its bitmaps");
	/* report_id ... flags dirty_pages file ...: in report order */
	while (fgets(line, sizeof(line), f)) {
		char *field[14], *save = NULL, *s = line;
		unsigned int nf = 0;
		FILE *b;

		while (nf < 14 && (field[nf] = strtok_r(s, "\t\n", &save))) {
			nf++;
			s = NULL;
		}
		if (nf < 12)
			bench_die("a line of iovatop's index.tsv has %u fields", nf);
		if (row >= max) {
			row++;
			continue;
		}
		snprintf(path, sizeof(path), "%s/%s", dir, field[11]);
		memset(got, 0, nbytes);
		b = fopen(path, "r");
		if (b) {
			if (fread(got, 1, nbytes, b) != nbytes)
				memset(got, 0, nbytes);
			fclose(b);
		}
		fn(row++, strtoull(field[9], NULL, 16), got, ctx);
	}
	fclose(f);
	free(got);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd))
		fprintf(stderr, "could not remove %s\n", dir);
	return row;
}
