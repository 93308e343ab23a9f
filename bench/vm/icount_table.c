// SPDX-License-Identifier: GPL-2.0
/*
 * icount_table.c - the overhead bench's figures in guest instructions:
 * pairs the marks the QEMU plugin counted (bench/vm/icount_plugin.c, a
 * "B|E VCPU COUNT" line per mark) with the reports the bench labelled
 * (iova_bench --icount-labels, a line per report in the order made), and
 * prints the instructions each tracer adds per iova_bitmap_set() call.
 *
 *	icount_table LABELS COUNTS [LOST]
 *
 * Per round, a tracer's added instructions per call are the median of its
 * timed reports minus the median of the untraced block just before it,
 * over the report's set calls; the table gives the median over rounds and
 * the smallest and largest round, as the ioctl-time table does. "x bare"
 * divides a tracer's figure by the bare counter's.
 *
 * A figure per call also carries what a tracer does once per report
 * (alloc, for_each entry and exit, the ring records and the wakeup of
 * its reader), spread over few calls at 1 % dirty and over many at 100 %.
 * A second table parts the two: per round, the least-squares line
 * through every pattern's (calls, added instructions per report) gives
 * the cost of one more call (its slope) and of one more report (where it
 * meets zero calls). The last lines, for a script: "icount: per call
 * R.RR, per report N" (iovatop's slope over bare's, and iovatop's
 * instructions per report) and "icount: worst ratio R.RR (PATTERN)",
 * iovatop over bare. Given LOST, the set calls the bench found missing
 * from iovatop's rebuilt bitmaps (the guest's "bpf stats:" line), it ends
 * in the overhead bench's line, "overhead: worst ratio R.RR (PATTERN),
 * lost N", with that ratio: the instruction count is the figure to judge
 * by, the BPF stats time the program alone.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_proc.h"
#include "bench_stats.h"

#define MAX_CFG		8
#define MAX_PAT		16
#define MAX_ROUNDS	16
#define MAX_SAMPLES	64

struct samples {
	double v[MAX_SAMPLES];	/* instructions per report */
	unsigned int n;
};

static char cfgs[MAX_CFG][16];
static unsigned int ncfg;
static char pat_name[MAX_PAT][32];
static uint64_t pat_calls[MAX_PAT];
static unsigned int npat, nrounds;
/* [cfg][round][pattern]: the untraced block before cfg's, and cfg's */
static struct samples untraced[MAX_CFG][MAX_ROUNDS][MAX_PAT];
static struct samples traced[MAX_CFG][MAX_ROUNDS][MAX_PAT];

static unsigned int cfg_index(const char *name)
{
	unsigned int i;

	for (i = 0; i < ncfg; i++)
		if (!strcmp(cfgs[i], name))
			return i;
	if (ncfg == MAX_CFG || strlen(name) >= sizeof(cfgs[0]))
		bench_die("more tracers in the labels than it can follow");
	strcpy(cfgs[ncfg], name);
	return ncfg++;
}

static int cfg_find(const char *name)
{
	unsigned int i;

	for (i = 0; i < ncfg; i++)
		if (!strcmp(cfgs[i], name))
			return i;
	return -1;
}

/* a ratio to the bare counter is shown for iovatop's configurations */
static int has_ratio(unsigned int c)
{
	return strcmp(cfgs[c], "bare") && strcmp(cfgs[c], "bpftrace");
}

/* the next mark of the counts file: 0 at its end */
static int next_mark(FILE *f, const char *path, unsigned long *line, char *kind,
		     unsigned int *vcpu, uint64_t *count)
{
	char buf[128];

	if (!fgets(buf, sizeof(buf), f)) {
		if (ferror(f))
			bench_die("cannot read %s: %s", path, strerror(errno));
		return 0;
	}
	++*line;
	if (sscanf(buf, "%c %u %" SCNu64, kind, vcpu, count) != 3 ||
	    (*kind != 'B' && *kind != 'E'))
		bench_die("%s:%lu is not a \"B|E VCPU COUNT\" line", path, *line);
	return 1;
}

static double added_per_call(unsigned int c, unsigned int r, unsigned int k)
{
	const struct samples *t = &traced[c][r][k], *u = &untraced[c][r][k];

	return (bench_median(t->v, t->n) - bench_median(u->v, u->n)) / pat_calls[k];
}

/* c's added instructions per call at k, a figure per round it ran in */
static struct bench_spread added(unsigned int c, unsigned int k)
{
	double per[MAX_ROUNDS];
	unsigned int r, n = 0;

	for (r = 0; r < nrounds; r++)
		if (traced[c][r][k].n && untraced[c][r][k].n)
			per[n++] = added_per_call(c, r, k);
	return bench_spread_of(per, n);
}

/*
 * Per round, the least-squares line through c's patterns: added
 * instructions per report = per_report + per_call * calls. Rounds with
 * fewer than two patterns of different call counts have no line.
 */
static void fit(unsigned int c, struct bench_spread *per_call,
		struct bench_spread *per_report)
{
	double slope[MAX_ROUNDS], icept[MAX_ROUNDS];
	unsigned int r, k, n = 0;

	for (r = 0; r < nrounds; r++) {
		double sx = 0, sy = 0, sxx = 0, sxy = 0, x, y, m = 0, d;

		for (k = 0; k < npat; k++) {
			const struct samples *t = &traced[c][r][k], *u = &untraced[c][r][k];

			if (!t->n || !u->n)
				continue;
			x = (double)pat_calls[k];
			y = bench_median(t->v, t->n) - bench_median(u->v, u->n);
			sx += x;
			sy += y;
			sxx += x * x;
			sxy += x * y;
			m++;
		}
		d = m * sxx - sx * sx;
		if (m < 2 || d <= 0)
			continue;
		slope[n] = (m * sxy - sx * sy) / d;
		icept[n] = (sy - slope[n] * sx) / m;
		n++;
	}
	*per_call = bench_spread_of(slope, n);
	*per_report = bench_spread_of(icept, n);
}

/* Rounds in which configuration c has pattern k counted both ways. */
static unsigned int counted_rounds(unsigned int c, unsigned int k)
{
	unsigned int r, n = 0;

	for (r = 0; r < nrounds; r++)
		n += traced[c][r][k].n && untraced[c][r][k].n;
	return n;
}

int main(int argc, char **argv)
{
	FILE *lf, *cf;
	char line[256], name[32], cfg[16], kind, bk, ek;
	unsigned long lno = 0, cno = 0, moved = 0, reports = 0;
	unsigned int r, k, c, bv, ev;
	uint64_t calls, b, e;
	int bare, iv, worst_k = -1, missing_k = -1;
	struct bench_spread bare_call, bare_rep, iv_call = { 0, 0, 0 }, iv_rep = { 0, 0, 0 };
	double worst = 0;

	const char *lost = NULL;
	char *end;

	if (argc != 3 && argc != 4) {
		fprintf(stderr, "usage: icount_table LABELS COUNTS [LOST]\n");
		return 2;
	}
	if (argc == 4) {
		errno = 0;
		if (!argv[3][0] || (strtoull(argv[3], &end, 10), errno || *end)) {
			fprintf(stderr, "icount_table: LOST is a count of calls, not '%s'\n", argv[3]);
			return 2;
		}
		lost = argv[3];
	}
	lf = fopen(argv[1], "r");
	if (!lf)
		bench_die("cannot open %s: %s", argv[1], strerror(errno));
	cf = fopen(argv[2], "r");
	if (!cf)
		bench_die("cannot open %s: %s", argv[2], strerror(errno));

	while (fgets(line, sizeof(line), lf)) {
		int at;

		lno++;
		if (sscanf(line, "%c %15s %u %u %" SCNu64 " %n", &kind, cfg, &r, &k, &calls,
			   &at) != 5 || !strchr("UTX", kind) || r >= MAX_ROUNDS || k >= MAX_PAT ||
		    !calls)
			bench_die("%s:%lu is not a label line", argv[1], lno);
		snprintf(name, sizeof(name), "%.*s", (int)strcspn(line + at, "\n"), line + at);
		if (!next_mark(cf, argv[2], &cno, &bk, &bv, &b) ||
		    !next_mark(cf, argv[2], &cno, &ek, &ev, &e))
			bench_die("%s ends before report %lu of %s: was the plugin loaded for the whole run?",
				  argv[2], lno, argv[1]);
		if (bk != 'B' || ek != 'E')
			bench_die("%s:%lu: marks out of order (%c then %c)", argv[2],
				  cno - 1, bk, ek);
		reports++;
		if (k >= npat)
			npat = k + 1;
		pat_calls[k] = calls;
		snprintf(pat_name[k], sizeof(pat_name[k]), "%s", name);
		if (kind == 'X')
			continue;
		c = cfg_index(cfg);
		/* marks naming two vCPUs: a count of the wrong guest (see the plugin) */
		if (bv != ev || e < b) {
			moved++;
			continue;
		}
		if (r >= nrounds)
			nrounds = r + 1;
		{
			struct samples *s = kind == 'U' ? &untraced[c][r][k] : &traced[c][r][k];

			if (s->n < MAX_SAMPLES)
				s->v[s->n++] = (double)(e - b);
		}
	}
	if (ferror(lf))
		bench_die("cannot read %s: %s", argv[1], strerror(errno));
	if (next_mark(cf, argv[2], &cno, &bk, &bv, &b))
		bench_die("%s has marks past the %lu reports of %s", argv[2], reports,
			  argv[1]);
	bare = cfg_find("bare");
	iv = cfg_find("iovatop");
	if (bare < 0 || iv < 0 || !npat)
		bench_die("the labels have no timed reports under bare and iovatop");

	printf("guest instructions per set call (QEMU plugin, each report ioctl counted on\n"
	       "its vCPU; per round: median traced - median untraced, over rounds: median\n"
	       "[min,max])\n");
	printf("%-12s | %10s |", "pattern", "untraced");
	for (c = 0; c < ncfg; c++)
		if (has_ratio(c))
			printf(" %-22s %6s |", cfgs[c], "x bare");
		else
			printf(" %-22s |", cfgs[c]);
	printf("\n");
	for (k = 0; k < npat; k++) {
		double base[MAX_ROUNDS * MAX_SAMPLES];
		unsigned int nb = 0, i;
		struct bench_spread sb = added(bare, k);

		for (c = 0; c < ncfg; c++)
			for (r = 0; r < nrounds; r++)
				for (i = 0; i < untraced[c][r][k].n && nb < MAX_ROUNDS * MAX_SAMPLES; i++)
					base[nb++] = untraced[c][r][k].v[i];
		printf("%-12s | %10.1f |", pat_name[k], bench_median(base, nb) / pat_calls[k]);
		for (c = 0; c < ncfg; c++) {
			struct bench_spread s = added(c, k);
			char buf[64], ratio[16] = "-";

			if (!counted_rounds(c, k)) {
				/* a tracer that did not run has no figure, not 0 */
				if ((int)c == iv && missing_k < 0)
					missing_k = k;
				if (has_ratio(c))
					printf(" %-22s %6s |", "-", "-");
				else
					printf(" %-22s |", "-");
				continue;
			}
			snprintf(buf, sizeof(buf), "%.1f [%.1f,%.1f]", s.med, s.min, s.max);
			if (sb.med > 0)
				snprintf(ratio, sizeof(ratio), "%.2f", s.med / sb.med);
			if (has_ratio(c))
				printf(" %-22s %6s |", buf, ratio);
			else
				printf(" %-22s |", buf);
			if ((int)c == iv && sb.med > 0 && (worst_k < 0 || s.med / sb.med > worst)) {
				worst = s.med / sb.med;
				worst_k = k;
			}
		}
		printf("\n");
	}
	printf("reading: the instructions a report's ioctl ran on the guest's one vCPU,\n"
	       "from the first mark to the second: the kernel's walk, the trampolines,\n"
	       "the programs, the wakeup of the consumer (the bench runs these reports\n"
	       "at SCHED_FIFO: its own work is left out) and the interrupts taken. The\n"
	       "guest's clock runs by its instructions (bench/vm/run.sh boots it with\n"
	       "QEMU's -icount), so the ticks a report takes follow what it runs, not\n"
	       "the host's load. %lu reports paired with their marks",
	       reports);
	if (moved)
		printf(", %lu left out (the task moved between vCPUs)", moved);
	printf(".\n");
	if (missing_k >= 0)
		bench_die("iovatop has no counted report at %s: its run did not complete",
			  pat_name[missing_k]);
	if (worst_k < 0)
		bench_die("no pattern has a bare counter above zero instructions");

	printf("\nper call and per report (per round, the least-squares line through the\n"
	       "patterns: added instructions per report = per report + per call x calls;\n"
	       "over rounds: median [min,max])\n");
	printf("%-10s | %-24s %6s | %-30s\n", "tracer", "per call", "x bare", "per report");
	fit(bare, &bare_call, &bare_rep);
	for (c = 0; c < ncfg; c++) {
		struct bench_spread pc, pr;
		char a[64], b2[64], ratio[16] = "-";

		fit(c, &pc, &pr);
		if (!pc.med && !pr.med) {
			printf("%-10s | %-24s %6s | %-30s\n", cfgs[c], "-", "-", "-");
			continue;
		}
		snprintf(a, sizeof(a), "%.1f [%.1f,%.1f]", pc.med, pc.min, pc.max);
		snprintf(b2, sizeof(b2), "%.0f [%.0f,%.0f]", pr.med, pr.min, pr.max);
		if (has_ratio(c) && bare_call.med > 0)
			snprintf(ratio, sizeof(ratio), "%.2f", pc.med / bare_call.med);
		printf("%-10s | %-24s %6s | %-30s\n", cfgs[c], a, ratio, b2);
		if ((int)c == iv) {
			iv_call = pc;
			iv_rep = pr;
		}
	}
	printf("reading: the first table's figure is per call + per report / calls,\n"
	       "so the patterns with few calls (1 %% dirty) show the per-report cost\n"
	       "most. A report's count also holds the timers that fall due in it (the\n"
	       "consumer's poll among them), up to a few thousand instructions from one\n"
	       "report to the next: the per-call slope rests on thousands of calls and\n"
	       "shrugs them off, the per-report figure less so. The line fits a tracer\n"
	       "whose call costs the same in every pattern (bare, iovatop); for ranges,\n"
	       "whose call costs more where pages scatter, it is an average.\n");
	if (bare_call.med <= 0 || !iv_call.med)
		bench_die("no line through the patterns for the bare counter or iovatop");
	printf("icount: per call %.2f, per report %.0f\n", iv_call.med / bare_call.med,
	       iv_rep.med);
	printf("icount: worst ratio %.2f (%s)\n", worst, pat_name[worst_k]);
	if (lost)
		printf("overhead: worst ratio %.2f (%s), lost %s\n", worst, pat_name[worst_k], lost);
	return 0;
}
