// SPDX-License-Identifier: GPL-2.0
/*
 * iova_bench - what tracing iova_bitmap_set() costs the report ioctl, in
 * the test VM (bench/vm/run.sh boots it; 'make bench' runs that).
 *
 * A 1 GiB iommufd mock domain (the selftest driver: one iova_bitmap_set()
 * per dirty 2 KiB mock page, reported at a 2 KiB page size, so one call
 * per bit) is dirtied at 1, 10, 50 and 100 % and read with
 * IOMMU_HWPT_GET_DIRTY_BITMAP, timed with CLOCK_MONOTONIC (best of the
 * repetitions), under four
 * configurations interleaved in rounds within one boot:
 *
 *   untraced   nothing attached (measured between every traced one)
 *   bare       a fentry program that only counts calls (bpf/bench_count)
 *   iovatop    'iovatop record' to a file in tmpfs
 *   bpftrace   kfunc:iova_bitmap_set printing one line per call
 *
 * Dirty pages are every (100 / pct)-th mock page: apart from 100 %, no two
 * calls are contiguous, the worst case for iovatop's in-kernel merging.
 * Each traced configuration is (re)started per dirty level so that its
 * lost events can be told apart; "+ns/call" is the best traced ioctl
 * minus the best untraced ioctl of the same round and level, over the
 * calls of one report, averaged over the rounds.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "vm_uapi.h"
#include "bench_count.skel.h"

#define MOCK_PAGE	2048ull
#define DOMAIN_BYTES	(1ull << 30)
#define CHUNK_BYTES	(2ull << 20)	/* one buffer mapped 512 times */
#define NPAGES		(DOMAIN_BYTES / MOCK_PAGE)
#define MAX_REPS	32
#define WARMUP		2

enum cfg { CFG_UNTRACED, CFG_BARE, CFG_IOVATOP, CFG_BPFTRACE, CFG_MAX };

static const unsigned int pcts[] = { 1, 10, 50, 100 };
#define NPCT (sizeof(pcts) / sizeof(pcts[0]))

static struct {
	const char *iovatop;
	const char *bpftrace;
	unsigned int rounds;
	unsigned int reps;
	const char *tmp;
} opt = { .rounds = 2, .reps = 4, .tmp = "/tmp" };

struct cell {
	double ns[16][MAX_REPS];	/* per round */
	unsigned int n[16];
	uint64_t lost;
	uint64_t events;		/* seen by the tracer */
	uint64_t expected;		/* set calls made while it ran */
	bool lost_known;
};

static struct cell cells[CFG_MAX][NPCT];
static int fd;
static uint32_t hwpt;
static uint8_t *marks, *bitmap;

static void die(const char *fmt, const char *arg)
{
	fprintf(stderr, "iova_bench: ");
	fprintf(stderr, fmt, arg);
	fprintf(stderr, "\n");
	exit(1);
}

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static void setup_domain(void)
{
	struct iommu_ioas_alloc ioas = { .size = sizeof(ioas) };
	struct iommu_ioas_alloc ioas2 = { .size = sizeof(ioas2) };
	struct iommu_test_cmd mock = { .size = sizeof(mock),
				       .op = IOMMU_TEST_OP_MOCK_DOMAIN };
	struct iommu_hwpt_alloc alloc = { .size = sizeof(alloc) };
	struct iommu_hwpt_set_dirty_tracking track = { .size = sizeof(track) };
	uint64_t off;
	void *mem;

	fd = open("/dev/iommu", O_RDWR | O_CLOEXEC);
	if (fd < 0)
		die("cannot open /dev/iommu: %s", strerror(errno));
	if (ioctl(fd, IOMMU_IOAS_ALLOC, &ioas))
		die("IOMMU_IOAS_ALLOC failed: %s", strerror(errno));
	mock.id = ioas.out_ioas_id;
	if (ioctl(fd, IOMMU_TEST_CMD, &mock))
		die("IOMMU_TEST_OP_MOCK_DOMAIN failed: %s (CONFIG_IOMMUFD_TEST?)",
		    strerror(errno));
	if (ioctl(fd, IOMMU_IOAS_ALLOC, &ioas2))
		die("IOMMU_IOAS_ALLOC failed: %s", strerror(errno));
	mem = mmap(NULL, CHUNK_BYTES, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	if (mem == MAP_FAILED)
		die("cannot map the domain's memory: %s", strerror(errno));
	/* 1 GiB of IOVA from 2 MiB of memory: the same pages 512 times */
	for (off = 0; off < DOMAIN_BYTES; off += CHUNK_BYTES) {
		struct iommu_ioas_map map = {
			.size = sizeof(map),
			.flags = IOMMU_IOAS_MAP_FIXED_IOVA |
				 IOMMU_IOAS_MAP_READABLE | IOMMU_IOAS_MAP_WRITEABLE,
			.ioas_id = ioas2.out_ioas_id,
			.user_va = (uintptr_t)mem, .length = CHUNK_BYTES,
			.iova = MOCK_APERTURE_START + off,
		};

		if (ioctl(fd, IOMMU_IOAS_MAP, &map))
			die("IOMMU_IOAS_MAP failed: %s", strerror(errno));
	}
	alloc.flags = IOMMU_HWPT_ALLOC_DIRTY_TRACKING;
	alloc.dev_id = mock.mock_domain.out_idev_id;
	alloc.pt_id = ioas2.out_ioas_id;
	if (ioctl(fd, IOMMU_HWPT_ALLOC, &alloc))
		die("IOMMU_HWPT_ALLOC failed: %s", strerror(errno));
	hwpt = alloc.out_hwpt_id;
	track.flags = IOMMU_HWPT_DIRTY_TRACKING_ENABLE;
	track.hwpt_id = hwpt;
	if (ioctl(fd, IOMMU_HWPT_SET_DIRTY_TRACKING, &track))
		die("IOMMU_HWPT_SET_DIRTY_TRACKING failed: %s", strerror(errno));
	marks = calloc(1, NPAGES / 8);
	bitmap = calloc(1, NPAGES / 8);
	if (!marks || !bitmap)
		die("out of memory%s", "");
}

static uint64_t calls_at(unsigned int pct)
{
	uint64_t step = 100 / pct;

	return (NPAGES + step - 1) / step;
}

/* Dirty every (100 / pct)-th page, then time one report. */
static double one_report(unsigned int pct)
{
	struct iommu_test_cmd cmd = { .size = sizeof(cmd), .op = IOMMU_TEST_OP_DIRTY,
				      .id = hwpt };
	struct iommu_hwpt_get_dirty_bitmap get = {
		.size = sizeof(get), .hwpt_id = hwpt,
		.iova = MOCK_APERTURE_START, .length = DOMAIN_BYTES,
		.page_size = MOCK_PAGE, .data = (uintptr_t)bitmap,
	};
	uint64_t p, step = 100 / pct;
	double t0, t1;

	memset(marks, 0, NPAGES / 8);
	for (p = 0; p < NPAGES; p += step)
		marks[p / 8] |= 1u << (p % 8);
	cmd.dirty.iova = MOCK_APERTURE_START;
	cmd.dirty.length = DOMAIN_BYTES;
	cmd.dirty.page_size = MOCK_PAGE;
	cmd.dirty.uptr = (uintptr_t)marks;
	if (ioctl(fd, IOMMU_TEST_CMD, &cmd))
		die("IOMMU_TEST_OP_DIRTY failed: %s", strerror(errno));
	if (cmd.dirty.out_nr_dirty != calls_at(pct)) {
		fprintf(stderr, "iova_bench: the mock domain marked %llu pages dirty, not %" PRIu64 "\n",
			(unsigned long long)cmd.dirty.out_nr_dirty, calls_at(pct));
		exit(1);
	}
	memset(bitmap, 0, NPAGES / 8);
	t0 = now_ns();
	if (ioctl(fd, IOMMU_HWPT_GET_DIRTY_BITMAP, &get))
		die("IOMMU_HWPT_GET_DIRTY_BITMAP failed: %s", strerror(errno));
	t1 = now_ns();
	return t1 - t0;
}

/* Start PROG with stdout and stderr to LOG; wait until LOG has READY. */
static pid_t spawn(char *const argv[], const char *log, const char *ready,
		   const char *out)
{
	char buf[4096];
	pid_t pid;
	int i, lf, of;
	FILE *f;

	pid = fork();
	if (pid < 0)
		die("fork failed: %s", strerror(errno));
	if (!pid) {
		lf = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		of = out ? open(out, O_WRONLY | O_CREAT | O_TRUNC, 0600) : lf;
		if (lf < 0 || of < 0)
			_exit(127);
		dup2(of, 1);
		dup2(lf, 2);
		execvp(argv[0], argv);
		_exit(127);
	}
	for (i = 0; i < 600; i++) {
		f = fopen(out ? out : log, "r");
		if (f) {
			size_t n = fread(buf, 1, sizeof(buf) - 1, f);

			buf[n] = '\0';
			fclose(f);
			if (strstr(buf, ready))
				return pid;
		}
		if (waitpid(pid, NULL, WNOHANG) == pid)
			break;
		usleep(50000);
	}
	die("%s did not start; see its log in the guest's tmp", argv[0]);
	return -1;
}

/*
 * The kernel drops a BPF link from a workqueue, so the detach (patching
 * iova_bitmap_set() back) can still be running after the process is gone;
 * a report racing with it has crashed the emulated guest (int3 oops).
 */
static void settle(void)
{
	sleep(1);
}

static void stop(pid_t pid)
{
	int status;

	kill(pid, SIGINT);
	waitpid(pid, &status, 0);
	settle();
}

static uint64_t count_lines(const char *path)
{
	uint64_t n = 0;
	char buf[65536];
	size_t r, i;
	FILE *f = fopen(path, "r");

	if (!f)
		return 0;
	while ((r = fread(buf, 1, sizeof(buf), f)) > 0)
		for (i = 0; i < r; i++)
			n += buf[i] == '\n';
	fclose(f);
	return n;
}

static void measure(enum cfg c, unsigned int k, unsigned int round)
{
	struct cell *cl = &cells[c][k];
	unsigned int r;

	/*
	 * Attaching or detaching patches kernel text, and QEMU's emulation
	 * then translates the code it runs again: two untimed reports first.
	 */
	for (r = 0; r < WARMUP; r++) {
		one_report(pcts[k]);
		cl->expected += calls_at(pcts[k]);
	}
	for (r = 0; r < opt.reps; r++) {
		cl->ns[round][cl->n[round]++] = one_report(pcts[k]);
		cl->expected += calls_at(pcts[k]);
	}
}

static void run_cfg(enum cfg c, unsigned int round)
{
	char log[256], out[256], trace[256];
	struct bench_count_bpf *bc;
	unsigned int k;
	pid_t pid;

	for (k = 0; k < NPCT; k++) {
		struct cell *cl = &cells[c][k];

		switch (c) {
		case CFG_UNTRACED:
			measure(c, k, round);
			break;
		case CFG_BARE: {
			uint64_t vals[256] = { 0 }, sum = 0;
			uint32_t zero = 0;
			int i, ncpu = libbpf_num_possible_cpus();

			bc = bench_count_bpf__open_and_load();
			if (!bc || bench_count_bpf__attach(bc))
				die("the bare fentry counter does not attach%s", "");
			measure(c, k, round);
			if (ncpu > 0 && ncpu <= 256 &&
			    !bpf_map_lookup_elem(bpf_map__fd(bc->maps.calls), &zero, vals))
				for (i = 0; i < ncpu; i++)
					sum += vals[i];
			cl->events += sum;
			cl->lost_known = true;
			bench_count_bpf__destroy(bc);
			settle();
			break;
		}
		case CFG_IOVATOP: {
			char *argv[] = { (char *)opt.iovatop, "record", "-o", trace, NULL };
			char line[512];
			unsigned long long recs, lost;
			FILE *f;

			snprintf(trace, sizeof(trace), "%s/bench.trace", opt.tmp);
			snprintf(log, sizeof(log), "%s/bench-iovatop.log", opt.tmp);
			pid = spawn(argv, log, "recording to", NULL);
			measure(c, k, round);
			usleep(300000);	/* let it drain before SIGINT */
			stop(pid);
			f = fopen(log, "r");
			while (f && fgets(line, sizeof(line), f)) {
				char *w = strstr(line, "wrote ");

				if (w && sscanf(w, "wrote %llu records (%llu lost)", &recs,
						&lost) == 2) {
					cl->lost += lost;
					cl->events += recs;
					cl->lost_known = true;
				}
			}
			if (f)
				fclose(f);
			unlink(trace);
			break;
		}
		case CFG_BPFTRACE: {
			char *argv[] = { (char *)opt.bpftrace, "-e",
					 "kfunc:iova_bitmap_set { printf(\"%lx %lx\\n\", "
					 "args->iova, args->length); }", NULL };
			uint64_t lines, before = cl->expected;

			snprintf(log, sizeof(log), "%s/bench-bpftrace.log", opt.tmp);
			snprintf(out, sizeof(out), "%s/bench-bpftrace.out", opt.tmp);
			pid = spawn(argv, log, "Attaching", out);
			/*
			 * bpftrace says "Attaching" before it attaches; a report
			 * running while the kernel patches iova_bitmap_set()
			 * has crashed the emulated guest (int3 oops), so let
			 * it finish first.
			 */
			sleep(3);
			measure(c, k, round);
			usleep(300000);
			stop(pid);
			lines = count_lines(out);
			lines = lines ? lines - 1 : 0;	/* "Attaching 1 probe..." */
			cl->events += lines;
			cl->lost += cl->expected - before > lines ?
				    cl->expected - before - lines : 0;
			cl->lost_known = true;
			unlink(out);
			break;
		}
		default:
			break;
		}
	}
}

static int cmp_d(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/*
 * The fastest of the repetitions: under emulation, and with whatever else
 * the host runs, noise only ever adds time, and the fixed part of the
 * ioctl (the mock domain walks all 512 Ki pages) dwarfs the calls at 1 %.
 */
static double best(const double *v, unsigned int n)
{
	double t[MAX_REPS];

	memcpy(t, v, n * sizeof(*v));
	qsort(t, n, sizeof(*t), cmp_d);
	return t[0];
}

/* Added ns per set call of cfg at level k: per round, then averaged. */
static double added_ns(enum cfg c, unsigned int k)
{
	double sum = 0;
	unsigned int r;

	for (r = 0; r < opt.rounds; r++)
		sum += best(cells[c][k].ns[r], cells[c][k].n[r]) -
		       best(cells[CFG_UNTRACED][k].ns[r], cells[CFG_UNTRACED][k].n[r]);
	return sum / opt.rounds / calls_at(pcts[k]);
}

static double med_all(enum cfg c, unsigned int k)
{
	double sum = 0;
	unsigned int r;

	for (r = 0; r < opt.rounds; r++)
		sum += best(cells[c][k].ns[r], cells[c][k].n[r]);
	return sum / opt.rounds;
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: iova_bench --iovatop PATH [--bpftrace PATH] [-r ROUNDS] [-n REPS]\n"
		"Time IOMMU_HWPT_GET_DIRTY_BITMAP on a 1 GiB iommufd mock domain,\n"
		"untraced and under a bare fentry counter, iovatop and bpftrace.\n");
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "iovatop", required_argument, NULL, 'i' },
		{ "bpftrace", required_argument, NULL, 'b' },
		{ "rounds", required_argument, NULL, 'r' },
		{ "reps", required_argument, NULL, 'n' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	enum cfg order[] = { CFG_UNTRACED, CFG_BARE, CFG_UNTRACED, CFG_IOVATOP,
			     CFG_UNTRACED, CFG_BPFTRACE };
	unsigned int k, r, i, c;
	double best_rate = 0;
	unsigned int best_pct = 0;

	while ((c = getopt_long(argc, argv, "i:b:r:n:h", longopts, NULL)) != (unsigned int)-1) {
		switch (c) {
		case 'i': opt.iovatop = optarg; break;
		case 'b': opt.bpftrace = optarg; break;
		case 'r': opt.rounds = atoi(optarg); break;
		case 'n': opt.reps = atoi(optarg); break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (!opt.iovatop || !opt.rounds || opt.rounds > 16 || !opt.reps ||
	    opt.reps > MAX_REPS / 3) {	/* untraced runs thrice a round */
		usage(stderr);
		return 2;
	}
	setup_domain();
	one_report(100);	/* warm up: first pins, page faults */

	for (r = 0; r < opt.rounds; r++) {
		for (i = 0; i < sizeof(order) / sizeof(order[0]); i++) {
			if (order[i] == CFG_BPFTRACE && !opt.bpftrace)
				continue;
			run_cfg(order[i], r);
		}
		fprintf(stderr, "iova_bench: round %u of %u done\n", r + 1, opt.rounds);
	}

	printf("iova_bitmap_set() tracing overhead: IOMMU_HWPT_GET_DIRTY_BITMAP on a 1 GiB\n"
	       "iommufd mock domain, 2 KiB pages (one set call per dirty page, every\n"
	       "(100/pct)-th page dirty), best of %u reports, mean of %u interleaved rounds\n\n",
	       opt.reps, opt.rounds);
	printf("%5s %8s %10s %8s | %9s %6s | %9s %6s %8s | %9s %9s\n", "dirty",
	       "calls", "untraced", "ns/call", "bare", "lost", "iovatop", "lost",
	       "x bare", "bpftrace", "lost");
	printf("%5s %8s %10s %8s | %9s %6s | %9s %6s %8s | %9s %9s\n", "%", "/report",
	       "ms", "", "+ns/call", "", "+ns/call", "", "", "+ns/call", "");
	for (k = 0; k < NPCT; k++) {
		double base = med_all(CFG_UNTRACED, k), bare = added_ns(CFG_BARE, k);
		double iv = added_ns(CFG_IOVATOP, k);
		double rate;

		printf("%5u %8" PRIu64 " %10.2f %8.1f | %9.1f %6" PRIu64 " | %9.1f %6" PRIu64
		       " %8.2f |", pcts[k], calls_at(pcts[k]), base / 1e6,
		       base / calls_at(pcts[k]), bare,
		       cells[CFG_BARE][k].expected > cells[CFG_BARE][k].events ?
		       cells[CFG_BARE][k].expected - cells[CFG_BARE][k].events : 0,
		       iv, cells[CFG_IOVATOP][k].lost, bare > 0 ? iv / bare : 0);
		if (opt.bpftrace)
			printf(" %9.1f %9" PRIu64 "\n", added_ns(CFG_BPFTRACE, k),
			       cells[CFG_BPFTRACE][k].lost);
		else
			printf(" %9s %9s\n", "-", "-");
		rate = calls_at(pcts[k]) / (med_all(CFG_IOVATOP, k) / 1e9);
		if (!cells[CFG_IOVATOP][k].lost && cells[CFG_IOVATOP][k].lost_known &&
		    rate > best_rate) {
			best_rate = rate;
			best_pct = pcts[k];
		}
	}
	if (best_rate > 0)
		printf("\nhighest set-call rate iovatop traced with zero loss: %.2f M calls/s "
		       "(%u %% dirty, %" PRIu64 " calls per report)\n", best_rate / 1e6,
		       best_pct, calls_at(best_pct));
	else
		printf("\niovatop lost records at every dirty level measured\n");
	printf("lost: bare = calls made - calls counted; iovatop = records dropped in the\n"
	       "kernel (ring buffer full); bpftrace = calls made - lines printed\n");
	return 0;
}
