// SPDX-License-Identifier: GPL-2.0
/*
 * cmd_decode.c - iovatop decode: apply a list of iova_bitmap_set() calls to
 * a zeroed user bitmap the way a given kernel does and write the bitmap.
 *
 * It is the decode library with a command line, so that a test in the VM
 * (or a driver developer) can hold the bytes a real ioctl returned next to
 * our arithmetic: `cmp` of the two must be silent.
 */
#include <argp.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli_util.h"
#include "commands.h"
#include "iova_bitmap_decode.h"

/* Per-call anomaly lines printed before only the summary counts them. */
#define MAX_ANOMALY_LINES	10

struct decode_env {
	uint64_t iova, length, page_size, buf_offset, kpage_size;
	int have_iova, have_length, have_page_size;
	enum ibd_rule rule;
	int hex;
	int stats;
	const char *file;
};

enum { OPT_HELP = 'h' };

static const struct argp_option decode_options[] = {
	{ "iova", 'i', "BASE", 0, "Base IOVA of the bitmap (iova_bitmap_alloc's iova)", 0 },
	{ "length", 'l', "LEN", 0, "IOVA bytes the bitmap covers", 0 },
	{ "page-size", 'p', "PS", 0, "IOVA bytes per bit, a power of two", 0 },
	{ "rule", 'r', "RULE", 0, "Whose iova_bitmap_set() to run: current (6.11 and "
	  "later, 6.12 code; the default), v6.1.y (6.1.y after b058ea3ab5af, 6.1.192 "
	  "code), v6.1 (6.1.0 as merged: max(1, len >> shift) bits), strict (6.12.118 "
	  "code: a call not wholly inside the bitmap sets nothing and fails the report)", 0 },
	{ "buf-offset", 'o', "OFF", 0, "Offset of the user bitmap within its kernel "
	  "page (default 0); it moves the kernel's windows and what odd calls write", 0 },
	{ "kernel-page-size", 'k', "KPS", 0, "The kernel's PAGE_SIZE (default 4096; "
	  "arm64 may have 16384 or 65536): the unit it pins the bitmap in", 0 },
	{ "hex", 'x', NULL, 0, "Print one 16-digit hex word a line instead of bytes", 0 },
	{ "stats", 's', NULL, 0, "Print counters to stderr as key=value lines", 0 },
	{ NULL, OPT_HELP, NULL, OPTION_HIDDEN, NULL, 0 },	/* -h, as every command */
	{ 0 },
};

static const char decode_doc[] =
	"Apply iova_bitmap_set() calls to a zeroed user bitmap exactly as the "
	"kernel does and write the bitmap to stdout: ceil(ceil(LEN / PS) / 64) "
	"u64 words, little-endian, as the report ioctl leaves them. FILE (default: "
	"stdin, or -) holds one call a line, 'IOVA LENGTH', each decimal or "
	"0x-hex; blank lines and text after '#' are ignored. Calls outside "
	"[BASE, BASE + LEN) are applied as the kernel applies them (it may write "
	"nothing, or bits past the bitmap) and reported on stderr with their "
	"count.\v"
	"Exit status: 0 bitmap written, 1 malformed input or I/O error (or a call "
	"the kernel never returns from), 2 bad options.\n"
	"\n"
	"EXAMPLES:\n"
	"    printf '0x1000 0x2000\\n' | iovatop decode -i 0 -l 0x100000 -p 4096 -x\n"
	"    iovatop decode --iova 0x1000000 --length 0x8000000 --page-size 2048 \\\n"
	"        --buf-offset 0xff1 sets/7.txt | cmp - bitmaps/7.bin";

static int parse_opt_u64(struct argp_state *state, const char *name,
			 const char *arg, uint64_t *out)
{
	const char *end;
	int err = parse_u64(arg, out, &end);

	if (!err && !*end)
		return 0;
	if (err == -ERANGE)
		argp_error(state, "%s '%s' does not fit in 64 bits.", name, arg);
	else
		argp_error(state, "%s '%s' is not a number; use decimal or 0x-hex.",
			   name, arg);
	return EINVAL;
}

static error_t decode_parse(int key, char *arg, struct argp_state *state)
{
	struct decode_env *env = state->input;
	int rule;

	switch (key) {
	case 'i':
		env->have_iova = 1;
		return parse_opt_u64(state, "--iova", arg, &env->iova);
	case 'l':
		env->have_length = 1;
		return parse_opt_u64(state, "--length", arg, &env->length);
	case 'p':
		env->have_page_size = 1;
		return parse_opt_u64(state, "--page-size", arg, &env->page_size);
	case 'r':
		rule = ibd_rule_parse(arg);
		if (rule < 0) {
			argp_error(state, "unknown rule '%s'; use current, strict, v6.1.y or v6.1.",
				   arg);
			return EINVAL;
		}
		env->rule = (enum ibd_rule)rule;
		return 0;
	case 'o':
		if (parse_opt_u64(state, "--buf-offset", arg, &env->buf_offset))
			return EINVAL;
		return 0;
	case 'k':
		if (parse_opt_u64(state, "--kernel-page-size", arg, &env->kpage_size))
			return EINVAL;
		if (!ibd_kpage_size_ok(env->kpage_size)) {
			argp_error(state, "--kernel-page-size %s is not a kernel page "
				   "size; use a power of two from %u to %u (4096, "
				   "16384 or 65536).", arg, IBD_KPAGE_SIZE_MIN,
				   IBD_KPAGE_SIZE_MAX);
			return EINVAL;
		}
		return 0;
	case 'x':
		env->hex = 1;
		return 0;
	case 's':
		env->stats = 1;
		return 0;
	case OPT_HELP:
		argp_state_help(state, stdout, ARGP_HELP_STD_HELP);
		return 0;
	case ARGP_KEY_ARG:
		if (env->file) {
			argp_error(state, "one input file at most, got '%s' too.", arg);
			return EINVAL;
		}
		env->file = arg;
		return 0;
	case ARGP_KEY_END:
		if (!env->have_iova || !env->have_length || !env->have_page_size) {
			argp_error(state, "--iova, --length and --page-size are all required.");
			return EINVAL;
		}
		/* checked here: -o may come before -k */
		if (env->buf_offset >= env->kpage_size) {
			argp_error(state, "--buf-offset 0x%" PRIx64 " is not an offset "
				   "within a kernel page of %" PRIu64 " bytes (0..%" PRIu64 ").",
				   env->buf_offset, env->kpage_size, env->kpage_size - 1);
			return EINVAL;
		}
		return 0;
	}
	return ARGP_ERR_UNKNOWN;
}

static const struct argp decode_argp = {
	.options = decode_options,
	.parser = decode_parse,
	.args_doc = "-i BASE -l LEN -p PS [FILE]",
	.doc = decode_doc,
};

/* What the options mean together, once argp has read them. */
static int check_args(const struct decode_env *env)
{
	if (!env->page_size || (env->page_size & (env->page_size - 1))) {
		fprintf(stderr, "%s: page size %" PRIu64 " is not a "
			"power of two; the kernel takes its log2 with __ffs().\n",
			cli_name, env->page_size);
		return EXIT_USAGE;
	}
	if (env->rule == IBD_RULE_V6_1_0 && env->page_size > (1ULL << 30)) {
		fprintf(stderr, "%s: 6.1.0 computes 1 << pgshift in an "
			"int, undefined for page size %" PRIu64 "; use at most "
			"1 GiB with --rule=v6.1.\n", cli_name, env->page_size);
		return EXIT_USAGE;
	}
	if (!env->length) {
		fprintf(stderr, "%s: the length is zero; a bitmap "
			"covers at least one byte of IOVA.\n", cli_name);
		return EXIT_USAGE;
	}
	if (env->length - 1 > UINT64_MAX - env->iova) {
		fprintf(stderr, "%s: IOVA 0x%" PRIx64 " + length 0x%"
			PRIx64 " runs past 2^64; the last byte must be at most "
			"0xffffffffffffffff.\n", cli_name, env->iova, env->length);
		return EXIT_USAGE;
	}
	if (!env->hex && isatty(STDOUT_FILENO)) {
		fprintf(stderr, "%s: not writing a binary bitmap to a "
			"terminal; redirect stdout or use --hex.\n", cli_name);
		return EXIT_USAGE;
	}
	return 0;
}

/* Parse "IOVA LENGTH [# comment]"; 1 for a call, 0 for nothing, -1 bad. */
static int parse_line(char *line, uint64_t *iova, uint64_t *length,
		      const char **why)
{
	const char *p = line, *end;
	int err;

	while (*p == ' ' || *p == '\t')
		p++;
	if (!*p || *p == '#' || *p == '\n' || *p == '\r')
		return 0;
	err = parse_u64(p, iova, &end);
	if (err) {
		*why = err == -ERANGE ? "the IOVA does not fit in 64 bits" :
			"the IOVA is not a decimal or 0x-hex number";
		return -1;
	}
	if (*end != ' ' && *end != '\t') {
		*why = *end && *end != '\n' && *end != '\r' && *end != '#' ?
			"the IOVA is not a decimal or 0x-hex number" :
			"the LENGTH is missing";
		return -1;
	}
	p = end;
	while (*p == ' ' || *p == '\t')
		p++;
	err = parse_u64(p, length, &end);
	if (err) {
		*why = err == -ERANGE ? "the LENGTH does not fit in 64 bits" :
			*p && *p != '\n' && *p != '\r' && *p != '#' ?
			"the LENGTH is not a decimal or 0x-hex number" :
			"the LENGTH is missing";
		return -1;
	}
	p = end;
	while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')
		p++;
	if (*p && *p != '#') {
		*why = "there is more than 'IOVA LENGTH' on it";
		return -1;
	}
	return 1;
}

static void report_call(const struct ibd *d, unsigned long lineno,
			uint64_t iova, uint64_t length, enum ibd_anomaly kind,
			uint64_t spill, uint64_t under, uint64_t wild)
{
	fprintf(stderr, "iovatop decode: line %lu: iova_bitmap_set(0x%" PRIx64
		", 0x%" PRIx64 ") %s (bitmap [0x%" PRIx64 ", 0x%" PRIx64 "])",
		lineno, iova, length, ibd_anomaly_name(kind), d->iova,
		d->iova + d->length - 1);
	if (spill)
		fprintf(stderr, "; the kernel sets %" PRIu64 " more bit%s after "
			"the bitmap", spill, spill == 1 ? "" : "s");
	if (under)
		fprintf(stderr, "; the kernel sets %" PRIu64 " more bit%s before "
			"the bitmap", under, under == 1 ? "" : "s");
	if (wild)
		fprintf(stderr, "; %" PRIu64 " bit%s go%s through no pinned page "
			"(6.1.0 has no bounds check)", wild, wild == 1 ? "" : "s",
			wild == 1 ? "es" : "");
	fprintf(stderr, ".\n");
}

static void report_summary(const struct ibd *d, const uint64_t *kinds)
{
	static const char *const what[] = {
		[IBD_BELOW_BASE] = "below the base",
		[IBD_BEYOND_END] = "past the end",
		[IBD_CROSSES_END] = "crossing the end",
		[IBD_ZERO_LENGTH] = "of zero length",
		[IBD_WRAPS] = "wrapping past 2^64",
	};
	const char *sep = ": ";
	int k;

	if (d->anomalies) {
		fprintf(stderr, "iovatop decode: %" PRIu64 " of %" PRIu64
			" calls were outside the bitmap", d->anomalies,
			d->set_calls);
		for (k = IBD_BELOW_BASE; k <= IBD_WRAPS; k++) {
			if (!kinds[k])
				continue;
			fprintf(stderr, "%s%" PRIu64 " %s", sep, kinds[k], what[k]);
			sep = ", ";
		}
		fprintf(stderr, ".\n");
	}
	if (d->spill_bits || d->under_bits)
		fprintf(stderr, "iovatop decode: outside the bitmap the kernel "
			"sets %" PRIu64 " bits after it and %" PRIu64 " before it "
			"(not in the output).\n", d->spill_bits, d->under_bits);
	if (d->wild_bits)
		fprintf(stderr, "iovatop decode: %" PRIu64 " bit writes go "
			"through no pinned page of the bitmap (not in the "
			"output).\n", d->wild_bits);
	if (d->lost_bits)
		fprintf(stderr, "iovatop decode: the kernel left %" PRIu64
			" bits of in-range calls unset (calls crossing a "
			"pinned window).\n", d->lost_bits);
}

static void print_stats(const struct ibd *d)
{
	uint64_t all = ibd_count_range(d, 0, d->nbits);
	uint64_t words_bits = 0;
	size_t i;

	for (i = 0; i < d->nwords; i++)
		words_bits += (uint64_t)__builtin_popcountll(d->words[i]);
	fprintf(stderr, "rule=%s\ncalls=%" PRIu64 "\nanomalies=%" PRIu64
		"\nset_bits=%" PRIu64 "\ntail_bits=%" PRIu64 "\nspill_bits=%"
		PRIu64 "\nunder_bits=%" PRIu64 "\nwild_bits=%" PRIu64
		"\nlost_bits=%" PRIu64 "\nhangs=%" PRIu64 "\nwords=%zu\nrejected=%" PRIu64 "\n",
		ibd_rule_name(d->rule), d->set_calls, d->anomalies, words_bits,
		words_bits - all, d->spill_bits, d->under_bits, d->wild_bits,
		d->lost_bits, d->hangs, d->nwords, d->rejected);
}

static int write_bitmap(const struct ibd *d, int hex)
{
	size_t i;

	if (hex) {
		for (i = 0; i < d->nwords; i++)
			if (printf("%016" PRIx64 "\n", d->words[i]) < 0)
				goto err;
	} else if (fwrite_le64(stdout, d->words, d->nwords)) {
		goto err;
	}
	if (fflush(stdout) == 0)
		return 0;
err:
	fprintf(stderr, "iovatop decode: cannot write the bitmap to stdout: "
		"%s.\n", strerror(errno));
	return EXIT_RUNTIME;
}

/* Every run that applied its calls ends so, a hung one included. */
static int finish(const struct ibd *d, const uint64_t *kinds,
		  const struct decode_env *env)
{
	report_summary(d, kinds);
	if (env->stats)
		print_stats(d);
	return write_bitmap(d, env->hex);
}

int cmd_decode(int argc, char **argv)
{
	static char name[] = "iovatop decode";
	struct decode_env env = { .rule = IBD_RULE_CURRENT,
				  .kpage_size = IBD_KPAGE_SIZE_DEFAULT };
	uint64_t kinds[IBD_WRAPS + 1] = { 0 };
	unsigned long lineno = 0, shown = 0;
	char *line = NULL;
	size_t cap = 0;
	FILE *in = stdin;
	struct ibd d;
	int ret, err;

	argp_err_exit_status = EXIT_USAGE;
	argv[0] = name;		/* what usage messages call us */
	cli_name = name;	/* and every other message */
	if (argp_parse(&decode_argp, argc, argv, 0, NULL, &env))
		return EXIT_USAGE;
	ret = check_args(&env);
	if (ret)
		return ret;
	err = ibd_init_kpage(&d, env.iova, env.length, env.page_size, env.rule,
			     env.kpage_size);
	if (err) {
		fprintf(stderr, "iovatop decode: cannot allocate a bitmap of %"
			PRIu64 " bits: %s.\n",
			((env.length - 1) >> __builtin_ctzll(env.page_size)) + 1,
			strerror(-err));
		return EXIT_RUNTIME;
	}
	ibd_set_user_addr(&d, env.buf_offset);
	if (env.file && strcmp(env.file, "-")) {
		in = fopen(env.file, "r");
		if (!in) {
			fprintf(stderr, "iovatop decode: cannot open %s: %s.\n",
				env.file, strerror(errno));
			ret = EXIT_RUNTIME;
			goto out;
		}
	}
	errno = 0;
	while (getline(&line, &cap, in) > 0) {
		uint64_t iova, length, spill, under, wild, hangs;
		enum ibd_anomaly kind;
		const char *why = NULL;
		int r;

		lineno++;
		r = parse_line(line, &iova, &length, &why);
		if (r < 0) {
			fprintf(stderr, "iovatop decode: line %lu: %s; expected "
				"'IOVA LENGTH', both decimal or 0x-hex.\n",
				lineno, why);
			ret = EXIT_RUNTIME;
			goto out;
		}
		if (!r)
			continue;
		spill = d.spill_bits;
		under = d.under_bits;
		wild = d.wild_bits;
		hangs = d.hangs;
		kind = ibd_set(&d, iova, length);
		kinds[kind]++;
		if (d.hangs != hangs) {
			fprintf(stderr, "iovatop decode: line %lu: the kernel never "
				"returns from iova_bitmap_set(0x%" PRIx64 ", 0x%"
				PRIx64 "): it keeps looping in iova_bitmap_set(); "
				"the output is what it wrote until then and "
				"later lines are not applied.\n", lineno, iova,
				length);
			finish(&d, kinds, &env);
			ret = EXIT_RUNTIME;
			goto out;
		}
		if (kind != IBD_OK || d.wild_bits != wild) {
			if (shown++ < MAX_ANOMALY_LINES)
				report_call(&d, lineno, iova, length, kind,
					    d.spill_bits - spill,
					    d.under_bits - under,
					    d.wild_bits - wild);
		}
	}
	if (ferror(in)) {
		fprintf(stderr, "iovatop decode: cannot read %s: %s.\n",
			in == stdin ? "stdin" : env.file, strerror(errno));
		ret = EXIT_RUNTIME;
		goto out;
	}
	if (shown > MAX_ANOMALY_LINES)
		fprintf(stderr, "iovatop decode: (%lu more odd calls not shown)\n",
			shown - MAX_ANOMALY_LINES);
	ret = finish(&d, kinds, &env);
out:
	free(line);
	if (in && in != stdin)
		fclose(in);
	ibd_free(&d);
	return ret;
}
