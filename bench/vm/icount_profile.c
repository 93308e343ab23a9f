// SPDX-License-Identifier: GPL-2.0
/*
 * icount_profile.c - where a tracer's added instructions go, by kernel
 * symbol: reads the profile icount_plugin wrote (profile=FILE, a window
 * per marked report), the bench's labels (iova_bench --icount-labels) and
 * the kernel's symbols under each tracer (iova_bench --kallsyms DIR), and
 * prints, for one pattern, each symbol's mean instructions in the counted
 * reports under the tracer (T), in the untraced ones of the block before
 * it (U), and the difference, largest first.
 *
 *	icount_profile LABELS PROFILE KALLSYMS_DIR PATTERN [TRACER]
 *
 * TRACER is a name of the labels (iovatop by default, bare, ranges...).
 * Addresses below the kernel's are the bench's own code, "[user]".
 * `PROFILE=1 ONLY=overhead bench/vm/run.sh` writes the three inputs.
 */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_proc.h"

struct sym {
	uint64_t addr;
	unsigned int name;	/* index into names */
};

struct symtab {
	char file[64];
	struct sym *s;
	size_t n;
};

/* every symbol name seen, with its sums over the reports kept */
struct name {
	char *s;
	double t, u;
};

static struct name *names;
static size_t nnames, names_cap;
static struct symtab tabs[32];
static unsigned int ntabs;

#define HBITS 18
static unsigned int htab[1u << HBITS];	/* name index + 1, 0 free */

static unsigned int name_index(const char *s)
{
	uint32_t h = 2166136261u;
	const char *p;
	unsigned int i;

	for (p = s; *p; p++)
		h = (h ^ (unsigned char)*p) * 16777619u;
	for (i = h & ((1u << HBITS) - 1);; i = (i + 1) & ((1u << HBITS) - 1)) {
		if (!htab[i])
			break;
		if (!strcmp(names[htab[i] - 1].s, s))
			return htab[i] - 1;
	}
	if (nnames + 1 >= (1u << HBITS) / 2)
		bench_die("more symbol names than the profile can hold");
	if (nnames == names_cap) {
		names_cap = names_cap ? 2 * names_cap : 65536;
		names = realloc(names, names_cap * sizeof(*names));
		if (!names)
			bench_die("out of memory");
	}
	names[nnames].s = strdup(s);
	if (!names[nnames].s)
		bench_die("out of memory");
	names[nnames].t = names[nnames].u = 0;
	htab[i] = nnames + 1;
	return nnames++;
}

static int by_addr(const void *a, const void *b)
{
	const struct sym *x = a, *y = b;

	return x->addr < y->addr ? -1 : x->addr > y->addr;
}

static const struct symtab *symtab(const char *dir, const char *cfg, unsigned int round)
{
	char file[64], path[PATH_MAX], line[512], name[256], type;
	struct symtab *t;
	unsigned long long a;
	size_t cap = 0;
	unsigned int i;
	FILE *f;

	snprintf(file, sizeof(file), "kallsyms.%s.%u", cfg, round);
	for (i = 0; i < ntabs; i++)
		if (!strcmp(tabs[i].file, file))
			return &tabs[i];
	if (ntabs == sizeof(tabs) / sizeof(tabs[0]))
		bench_die("more tracer starts than the profile can follow");
	t = &tabs[ntabs++];
	memcpy(t->file, file, sizeof(file));
	snprintf(path, sizeof(path), "%s/%s", dir, t->file);
	f = fopen(path, "r");
	if (!f)
		bench_die("cannot open %s: %s", path, strerror(errno));
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%llx %c %255s", &a, &type, name) != 3 || !a)
			continue;
		if (t->n == cap) {
			cap = cap ? 2 * cap : 65536;
			t->s = realloc(t->s, cap * sizeof(*t->s));
			if (!t->s)
				bench_die("out of memory");
		}
		t->s[t->n].addr = a;
		t->s[t->n++].name = name_index(name);
	}
	fclose(f);
	if (!t->n)
		bench_die("%s holds no symbol addresses (read as root?)", path);
	qsort(t->s, t->n, sizeof(*t->s), by_addr);
	return t;
}

static unsigned int resolve(const struct symtab *t, uint64_t addr)
{
	size_t lo = 0, hi = t->n;

	if (addr < t->s[0].addr)
		return name_index(addr >> 63 ? "[kernel, before the first symbol]" : "[user]");
	while (hi - lo > 1) {
		size_t mid = (lo + hi) / 2;

		if (t->s[mid].addr <= addr)
			lo = mid;
		else
			hi = mid;
	}
	return t->s[lo].name;
}

struct label {
	char kind;
	char cfg[16];
	unsigned int round;
	char pat[32];
};

static int by_diff(const void *a, const void *b)
{
	const struct name *x = a, *y = b;
	double dx = x->t - x->u, dy = y->t - y->u;

	return dx < dy ? 1 : dx > dy ? -1 : 0;
}

int main(int argc, char **argv)
{
	const char *tracer = argc > 5 ? argv[5] : "iovatop";
	struct label *labels = NULL;
	size_t nlabels = 0, cap = 0, i;
	unsigned long nt = 0, nu = 0, lno = 0;
	char line[256];
	const struct symtab *tab = NULL;
	int keep = 0;
	char kind = 0;
	double tt = 0, tu = 0;
	FILE *f;

	if (argc != 5 && argc != 6) {
		fprintf(stderr, "usage: icount_profile LABELS PROFILE KALLSYMS_DIR PATTERN [TRACER]\n");
		return 2;
	}
	f = fopen(argv[1], "r");
	if (!f)
		bench_die("cannot open %s: %s", argv[1], strerror(errno));
	while (fgets(line, sizeof(line), f)) {
		struct label l;
		unsigned int k;
		uint64_t calls;

		/* the pattern's name is the rest of the line: "contig 1%" */
		if (sscanf(line, "%c %15s %u %u %" SCNu64 " %31[^\n]", &l.kind, l.cfg, &l.round,
			   &k, &calls, l.pat) != 6)
			bench_die("%s:%zu is not a label line", argv[1], nlabels + 1);
		if (nlabels == cap) {
			cap = cap ? 2 * cap : 1024;
			labels = realloc(labels, cap * sizeof(*labels));
			if (!labels)
				bench_die("out of memory");
		}
		labels[nlabels++] = l;
	}
	fclose(f);

	f = fopen(argv[2], "r");
	if (!f)
		bench_die("cannot open %s: %s", argv[2], strerror(errno));
	while (fgets(line, sizeof(line), f)) {
		unsigned long long a, n, w;

		lno++;
		if (sscanf(line, "R %llu", &w) == 1) {
			const struct label *l;

			if (w >= nlabels)
				bench_die("%s:%lu: window %llu has no label", argv[2], lno, w);
			l = &labels[w];
			keep = !strcmp(l->cfg, tracer) && !strcmp(l->pat, argv[4]) &&
			       (l->kind == 'T' || l->kind == 'U');
			if (!keep)
				continue;
			kind = l->kind;
			/* an untraced report runs no tracer's code: any table names it */
			tab = symtab(argv[3], tracer, l->round);
			if (kind == 'T')
				nt++;
			else
				nu++;
			continue;
		}
		if (sscanf(line, "%llx %llu", &a, &n) != 2)
			bench_die("%s:%lu is not an \"ADDRESS COUNT\" line", argv[2], lno);
		if (!keep)
			continue;
		i = resolve(tab, a);
		if (kind == 'T') {
			names[i].t += n;
			tt += n;
		} else {
			names[i].u += n;
			tu += n;
		}
	}
	fclose(f);
	if (!nt || !nu)
		bench_die("no counted report of %s under %s with an untraced one before it",
			  argv[4], tracer);
	for (i = 0; i < nnames; i++) {
		names[i].t /= nt;
		names[i].u /= nu;
	}
	qsort(names, nnames, sizeof(*names), by_diff);
	printf("%s, %s: mean instructions per report, %lu counted under it (T), %lu untraced (U)\n",
	       argv[4], tracer, nt, nu);
	printf("%12s %12s %10s  %s\n", "T", "U", "T - U", "symbol");
	for (i = 0; i < nnames; i++) {
		double d = names[i].t - names[i].u;

		if (d >= 50 || d <= -50)
			printf("%12.0f %12.0f %10.0f  %s\n", names[i].t, names[i].u, d, names[i].s);
	}
	printf("%12.0f %12.0f %10.0f  all\n", tt / nt, tu / nu, tt / nt - tu / nu);
	return 0;
}
