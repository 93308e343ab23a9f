// SPDX-License-Identifier: GPL-2.0
/*
 * workload - migration-like dirty-tracking sessions for the iovatop test VM.
 *
 * Drives the kernel's real iova_bitmap code the way a VMM does during live
 * migration: start DMA logging on vfio devices (or dirty tracking on an
 * iommufd hwpt), then run pre-copy iterations, each one reading and
 * clearing the dirty bitmap. The dirty pages come from the iovatop_test
 * driver (vfio) or the iommufd selftest mock domain, both programmed here,
 * so every bitmap the kernel returns can be predicted and is saved, with
 * the iova_bitmap_set() calls behind it, as ground truth (docs/testing.md).
 *
 * One process per vfio device, as with one VMM per guest; the iommufd
 * hwpts share one process and one /dev/iommu, as in a VMM with several
 * assigned devices, except in iommufd-2vmm, where two VMMs each open their
 * own /dev/iommu and so get the same hwpt ids.
 */
#define _GNU_SOURCE	/* sched_setaffinity */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "vm_uapi.h"
#include "module/itp.h"

#define DEBUGFS_DIR	"/sys/kernel/debug/iovatop_test"
#define MOCK_IO_PAGE	2048ull
#define GUARD_BYTES	8192u
#define MAX_STREAMS	ITP_MAX_STREAMS
#define MAX_RANGES	2

enum trend { CONVERGING, STUCK, ANOMALY };
static const char *const trend_names[] = { "converging", "stuck", "anomaly" };

/* A stream of a device's program; region is relative to one of its ranges. */
struct stream_spec {
	unsigned int kind;	/* ITP_* */
	unsigned int mask;	/* ITP_OOR variants */
	unsigned int range;	/* index into the device's ranges */
	uint64_t off, size;	/* region in that range; size 0: to its end */
	uint64_t page;
	uint64_t count0;	/* count at iteration 0 */
	uint64_t run;
	unsigned int decay;	/* percent of the count kept per iteration */
};

struct range {
	uint64_t iova, length;
};

struct vfio_spec {
	const char *name;	/* dev_name() of the test device */
	const char *comm;
	enum trend trend;
	bool hotspot;
	uint64_t page_size;
	unsigned int buf_offset;
	unsigned int nranges;
	struct range ranges[MAX_RANGES];
	unsigned int nstreams;
	struct stream_spec streams[MAX_STREAMS];
	/*
	 * Moving between CPUs: the driver moves the task to the next CPU
	 * after every hop calls of a report (its debugfs 'hop'; 0: never),
	 * and with flip_cpu the session pins itself to CPU (iteration +
	 * device number) before each report.
	 */
	unsigned int hop;
	bool flip_cpu;
};

struct hwpt_spec {
	const char *label;
	enum trend trend;
	bool hotspot;
	uint64_t map_len;
	uint64_t page_size;
	unsigned int buf_offset;
	struct stream_spec stream;	/* over mock IO pages */
	int no_clear_iter;		/* -1: never */
	bool huge;			/* hugetlbfs memory, mapped in huge IO pages */
};

struct scenario {
	const char *name;
	const char *summary;
	unsigned int iterations;
	unsigned int nvfio;
	const struct vfio_spec *vfio;
	unsigned int nhwpt;
	const struct hwpt_spec *hwpt;
	const char *iommufd_comm;
	unsigned int niommufd;		/* processes with those hwpts; 0: one */
};

#define GiB (1ull << 30)
#define MiB (1ull << 20)
#define KiB (1ull << 10)

/*
 * Four devices of one VM at once: a hotspot whose rate never falls (a
 * stuck migration), per-page reporting as mlx5 and pds do, long
 * contiguous runs, and a 96 GiB range whose 3 MiB bitmap 6.1 walks in two
 * windows. User bitmaps start page-aligned, at +0xff1 and at +0x800.
 */
static const struct vfio_spec vfio_multi[] = {
	{ .name = "0000:3b:00.2", .comm = "qemu-vm1", .trend = STUCK,
	  .hotspot = true, .page_size = 4096, .buf_offset = 0,
	  .nranges = 2, .ranges = { { 0, 1 * GiB }, { 4 * GiB, 1 * GiB } },
	  .nstreams = 2, .streams = {
		{ .kind = ITP_RANDOM, .range = 0, .off = 256 * MiB,
		  .size = 256 * MiB, .page = 4096, .count0 = 24576, .run = 1,
		  .decay = 100 },
		{ .kind = ITP_SCATTER, .range = 1, .page = 4096,
		  .count0 = 1024, .run = 1, .decay = 100 } } },
	{ .name = "0000:3b:00.3", .comm = "qemu-vm2", .trend = CONVERGING,
	  .page_size = 4096, .buf_offset = 0,
	  .nranges = 1, .ranges = { { 0, 2 * GiB } },
	  .nstreams = 1, .streams = {
		{ .kind = ITP_SWEEP, .page = 4096, .count0 = 4096, .run = 1,
		  .decay = 50 } } },
	{ .name = "0000:af:00.1", .comm = "qemu-vm3", .trend = CONVERGING,
	  .page_size = 4096, .buf_offset = 0xff1,
	  .nranges = 1, .ranges = { { 0, 4 * GiB } },
	  .nstreams = 1, .streams = {
		{ .kind = ITP_SWEEP, .page = 4096, .count0 = 32768, .run = 512,
		  .decay = 60 } } },
	{ .name = "83b8f4f2-509f-382f-3c1e-e6bfe0fa1001", .comm = "qemu-vm4",
	  .trend = CONVERGING, .page_size = 4096, .buf_offset = 0x800,
	  .nranges = 1, .ranges = { { 0, 96 * GiB } },
	  .nstreams = 1, .streams = {
		{ .kind = ITP_RANDOM, .page = 4096, .count0 = 2048, .run = 16,
		  .decay = 50 } } },
};

/*
 * Calls that cross the end of the report, lie beyond it or start below
 * it, between in-range sweeps: what a buggy driver would do. One range
 * holds a multiple of 64 pages (a crossing bit lands after the bitmap),
 * the other 100 pages (it lands in the last word's unused tail).
 */
static const struct vfio_spec vfio_anomaly[] = {
	{ .name = "0000:af:00.2", .comm = "qemu-vm5", .trend = ANOMALY,
	  .page_size = 4096, .buf_offset = 0,
	  .nranges = 2, .ranges = { { 1 * GiB, 256 * 4096 },
				    { 2 * GiB, 100 * 4096 } },
	  .nstreams = 3, .streams = {
		{ .kind = ITP_SWEEP, .range = 0, .page = 4096, .count0 = 32,
		  .run = 4, .decay = 100 },
		{ .kind = ITP_OOR, .mask = 7, .page = 4096, .count0 = 3,
		  .decay = 100 },
		{ .kind = ITP_SWEEP, .range = 1, .page = 4096, .count0 = 16,
		  .run = 1, .decay = 100 } } },
};

/*
 * Four hwpts of one VMM: a stuck hotspot, the selftests' 640 KiB
 * boundary buffer with 2 KiB bits and a bitmap at a page offset, 128 MiB
 * with 8 KiB bits, a bitmap at +0xff1 and one NO_CLEAR read, and 4 MiB of
 * 2 MiB hugetlbfs pages mapped in huge IO pages, where one dirty mock
 * page makes the IOMMU report its whole block in one iova_bitmap_set()
 * call (512 bits of 2 KiB and more).
 *
 * What the mock reports is the kernel's business, so the workload does
 * not predict the calls: it records them (settrace_*) and checks that
 * they cover every page it dirtied and nothing without one. The first
 * three map CPU page by CPU page (IOMMU_OPTION_HUGE_PAGES 0, as the
 * kernel's own dirty-tracking selftests do), so a dirty 2 KiB mock page
 * shows as itself (6.12's xarray mock) or as its 4 KiB CPU page (the
 * generic page table's contiguous entry, 6.19+); random chunks are as
 * large as a bit or larger.
 */
static const struct hwpt_spec iommufd_multi[] = {
	{ .label = "A", .trend = STUCK, .hotspot = true, .map_len = 64 * MiB,
	  .page_size = 4096, .buf_offset = 0,
	  .stream = { .kind = ITP_RANDOM, .page = MOCK_IO_PAGE, .count0 = 8192,
		      .run = 2, .decay = 100 },
	  .no_clear_iter = -1 },
	{ .label = "B", .trend = CONVERGING, .map_len = 640 * KiB,
	  .page_size = 2048, .buf_offset = 0x800,
	  .stream = { .kind = ITP_SWEEP, .page = MOCK_IO_PAGE, .count0 = 256,
		      .run = 1, .decay = 50 },
	  .no_clear_iter = -1 },
	{ .label = "C", .trend = CONVERGING, .map_len = 128 * MiB,
	  .page_size = 8192, .buf_offset = 0xff1,
	  .stream = { .kind = ITP_RANDOM, .page = MOCK_IO_PAGE, .count0 = 4096,
		      .run = 4, .decay = 50 },
	  .no_clear_iter = 3 },
	{ .label = "D", .trend = STUCK, .map_len = 4 * MiB,
	  .page_size = 2048, .buf_offset = 0, .huge = true,
	  .stream = { .kind = ITP_SWEEP, .page = MOCK_IO_PAGE, .count0 = 1,
		      .run = 1, .decay = 100 },
	  .no_clear_iter = -1 },
};

/*
 * One hwpt that two VMMs both have: each opens /dev/iommu, so each
 * iommufd context numbers its objects from 1 and both hwpts get the same
 * id. Their dirty pages differ (different seeds): mixing the two would
 * show in the totals.
 */
static const struct hwpt_spec iommufd_2vmm[] = {
	{ .label = "A", .trend = CONVERGING, .map_len = 8 * MiB,
	  .page_size = 4096, .buf_offset = 0,
	  .stream = { .kind = ITP_RANDOM, .page = MOCK_IO_PAGE, .count0 = 512,
		      .run = 2, .decay = 50 },
	  .no_clear_iter = -1 },
};

/*
 * Two devices reporting at once, each task moved to the other CPU every
 * few iova_bitmap_set() calls in the middle of its reports, and pinned
 * to alternating CPUs between them: the tracer's per-CPU pending ranges
 * change hands all the time, released by the other device's calls and
 * by both reports' ends (tests/vm/checks/80-race.sh). Per-page calls,
 * as mlx5 and pds make, so nearly every call takes the tracer's hot path.
 */
static const struct vfio_spec vfio_race[] = {
	{ .name = "0000:3b:00.2", .comm = "qemu-race1", .trend = STUCK,
	  .page_size = 4096, .buf_offset = 0,
	  .nranges = 1, .ranges = { { 0, 8 * MiB } },
	  .nstreams = 2, .streams = {
		{ .kind = ITP_SWEEP, .page = 4096, .count0 = 192, .run = 1,
		  .decay = 100 },
		{ .kind = ITP_RANDOM, .page = 4096, .count0 = 64, .run = 2,
		  .decay = 100 } },
	  .hop = 16, .flip_cpu = true },
	{ .name = "0000:3b:00.3", .comm = "qemu-race2", .trend = STUCK,
	  .page_size = 4096, .buf_offset = 0xff1,
	  .nranges = 1, .ranges = { { 0, 8 * MiB } },
	  .nstreams = 2, .streams = {
		{ .kind = ITP_RANDOM, .page = 4096, .count0 = 128, .run = 1,
		  .decay = 100 },
		{ .kind = ITP_SCATTER, .page = 4096, .count0 = 32, .run = 1,
		  .decay = 100 } },
	  .hop = 23, .flip_cpu = true },
};

static const struct scenario scenarios[] = {
	{ "vfio-multi", "four vfio devices at once, one stuck hotspot",
	  8, 4, vfio_multi, 0, NULL, NULL, 0 },
	{ "vfio-anomaly", "a vfio device making out-of-range iova_bitmap_set calls",
	  3, 1, vfio_anomaly, 0, NULL, NULL, 0 },
	{ "iommufd-multi", "four iommufd mock hwpts with dirty tracking, one on huge pages",
	  8, 0, NULL, 4, iommufd_multi, "qemu-vm6", 1 },
	{ "demo", "vfio-multi and iommufd-multi together, repeated until stopped",
	  0, 4, vfio_multi, 4, iommufd_multi, "qemu-vm6", 1 },
	{ "iommufd-2vmm", "two processes, each with its own iommufd and the same hwpt id",
	  4, 0, NULL, 1, iommufd_2vmm, "qemu-vm7", 2 },
	{ "race", "two vfio devices at once, their tasks moved between CPUs within reports",
	  1000, 2, vfio_race, 0, NULL, NULL, 0 },
};

static struct {
	const char *out;
	const struct scenario *sc;
	unsigned int iterations;	/* 0: until SIGINT/SIGTERM */
	unsigned int interval_ms;
	bool iterations_set;
	bool skip_iommufd;
	bool skip_vfio;
	const char *ready;
	bool verbose;
} opt;

static volatile sig_atomic_t stopping;
static uint64_t *shared_seq;	/* MAP_SHARED: one counter for all sessions */
static FILE *truth_part;
static char comm_now[16];

static void wl_warn(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "workload: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static void on_signal(int sig)
{
	(void)sig;
	stopping = 1;
}

static uint64_t div_up(uint64_t a, uint64_t b)
{
	return (a + b - 1) / b;
}

static uint64_t bitmap_bytes(uint64_t length, uint64_t page_size)
{
	return div_up(div_up(length, page_size), 64) * 8;
}

static unsigned int ilog2_u64(uint64_t v)
{
	return 63 - __builtin_clzll(v);
}

static uint64_t popcount(const uint8_t *p, size_t n)
{
	uint64_t c = 0, w;
	size_t i = 0;

	for (; i + 8 <= n; i += 8) {
		memcpy(&w, p + i, 8);
		c += __builtin_popcountll(w);
	}
	for (; i < n; i++)
		c += __builtin_popcount(p[i]);
	return c;
}

/* Count at iteration iter: count0 scaled by decay% per iteration, >= 1. */
static uint64_t count_at(const struct stream_spec *s, unsigned int iter)
{
	uint64_t c = s->count0;
	unsigned int i;

	for (i = 0; i < iter && c; i++)
		c = c * s->decay / 100;
	return c ? c : 1;
}

static uint64_t seed_of(unsigned int dev, unsigned int stream,
			unsigned int iter)
{
	uint64_t x = ((uint64_t)dev << 40) ^ ((uint64_t)stream << 32) ^ iter;

	/* splitmix64 finaliser: neighbouring iterations get unrelated seeds */
	x += 0x9e3779b97f4a7c15ull;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
	return x ^ (x >> 31);
}

/* ---- expected bitmaps, a bit at a time (independent of src/ decode) ---- */

struct expect {
	uint8_t *bits;
	uint64_t iova, length, nbits;
	unsigned int shift;
};

static void expect_set(struct expect *e, uint64_t iova, uint64_t length)
{
	uint64_t first, last, b;

	/* Only what lies inside the report: the in-range semantics. */
	if (!length || iova >= e->iova + e->length || iova + length <= e->iova)
		return;
	if (iova < e->iova) {
		length -= e->iova - iova;
		iova = e->iova;
	}
	if (iova + length > e->iova + e->length)
		length = e->iova + e->length - iova;
	first = (iova - e->iova) >> e->shift;
	last = (iova + length - 1 - e->iova) >> e->shift;
	for (b = first; b <= last && b < e->nbits; b++)
		e->bits[b / 8] |= 1u << (b % 8);
}

static int expect_emit(__u64 iova, __u64 length, void *ctx)
{
	expect_set(ctx, iova, length);
	return 0;
}

/* ---- ground truth ---- */

static int mkdir_p(const char *path)
{
	char buf[PATH_MAX];
	char *p;

	if (snprintf(buf, sizeof(buf), "%s", path) >= (int)sizeof(buf))
		return -ENAMETOOLONG;
	for (p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(buf, 0755) && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	if (mkdir(buf, 0755) && errno != EEXIST)
		return -errno;
	return 0;
}

/*
 * One write() for the whole file: over the guest's 9p share each write is
 * a round trip, and stdio would cut a 3 MiB bitmap into 4 KiB ones.
 */
static int write_file(const char *path, const void *data, size_t len)
{
	const char *p = data;
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);

	if (fd < 0) {
		wl_warn("cannot create %s: %s; is the output directory writable?",
			path, strerror(errno));
		return -1;
	}
	while (len) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			wl_warn("cannot write %s: %s", path,
				n < 0 ? strerror(errno) : "short write");
			close(fd);
			return -1;
		}
		p += n;
		len -= n;
	}
	if (close(fd)) {
		wl_warn("cannot write %s: %s", path, strerror(errno));
		return -1;
	}
	return 0;
}

struct call {
	uint64_t iova, length;
};

struct calls {
	struct call *v;
	size_t n, cap;
	uint64_t dropped;
};

static int calls_push(struct calls *c, uint64_t iova, uint64_t length)
{
	if (c->n == c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 1024;
		struct call *v = realloc(c->v, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		c->v = v;
		c->cap = cap;
	}
	c->v[c->n].iova = iova;
	c->v[c->n].length = length;
	c->n++;
	return 0;
}

struct report {
	unsigned int iter;
	const char *path;
	const char *device;
	uint64_t iova, length, page_size;
	uint32_t flags;
	const uint8_t *buf;
	uint64_t nbytes;
	int ret;
	const struct calls *sets;
	/*
	 * What the bitmap must be; NULL when it cannot be known (anomaly
	 * patterns). vfio: the programmed pattern, and logged the driver's
	 * own calls. iommufd: the kernel's calls as tracefs saw them, and
	 * marked the mock pages dirtied, which the bitmap must hold.
	 */
	const struct expect *expect;
	const struct expect *logged;
	const struct expect *marked;
	const char *calls_wrong;	/* iommufd: why the calls do not fit */
	/* CLOCK_MONOTONIC around the ioctl: the tracer's clock too */
	uint64_t t_begin_ns, t_end_ns;
};

static uint64_t next_seq(void)
{
	return __atomic_add_fetch(shared_seq, 1, __ATOMIC_SEQ_CST);
}

static int failures;

/*
 * Since 6.12.118 ("iommufd/iova_bitmap: Ensure that iova_bitmap_set()
 * handles the full IOVA") the kernel refuses a set call not wholly inside
 * the report and fails the report with -EPROTO: right when, and only
 * when, the driver made such a call.
 */
static bool refused_rightly(const struct report *r)
{
	size_t i;

	if (r->ret != -EPROTO || !r->sets)
		return false;
	for (i = 0; i < r->sets->n; i++) {
		uint64_t io = r->sets->v[i].iova, len = r->sets->v[i].length;

		if (!len || io < r->iova || io - r->iova > r->length - 1 ||
		    len > r->length - (io - r->iova))
			return true;
	}
	return false;
}

/*
 * The dirtied pages (bits of marked) the bitmap misses, when each of them
 * lies just past a run of pages the bitmap holds, within the run's own
 * length: the signature of a contiguous block reported one entry short
 * (record_dirty() of the generic page table in 7.2.13 reports a block of
 * n entries as n - 1, docs/kernels.md; the entry left out is at most as
 * long as what was reported). Returns how many, 0 when none is missing,
 * and UINT64_MAX when a missing page has any other shape: a real loss.
 */
static uint64_t short_tail(const uint8_t *marked, const uint8_t *buf,
			   uint64_t nbytes)
{
	uint64_t b, n = 0, run = 0, reach = 0;

#define BIT(m, i) ((m)[(i) / 8] & (1u << ((i) % 8)))
	for (b = 0; b < nbytes * 8; b++) {
		if (BIT(buf, b)) {
			run++;
			reach = b + 1 + run;	/* the run's end plus its length */
			continue;
		}
		run = 0;
		if (!BIT(marked, b))
			continue;
		if (b >= reach)
			return UINT64_MAX;
		n++;
	}
#undef BIT
	return n;
}

/* Save one report; returns 0, or -1 when the files could not be written. */
static int record(uint64_t seq, const struct report *r)
{
	char path[PATH_MAX], *text;
	uint64_t set_bits, spill, expect_bits = 0, marked_bits = 0;
	uint64_t short_bits = 0;
	const char *match = "-";
	size_t i, len = 0;
	int ret;

	set_bits = r->ret ? 0 : popcount(r->buf, r->nbytes);
	spill = popcount(r->buf + r->nbytes, GUARD_BYTES);
	if (r->expect && !r->ret) {
		const char *why = NULL;

		expect_bits = popcount(r->expect->bits, r->nbytes);
		marked_bits = r->marked ? popcount(r->marked->bits, r->nbytes) :
					  expect_bits;
		if (r->marked)
			short_bits = short_tail(r->marked->bits, r->buf, r->nbytes);
		if (memcmp(r->expect->bits, r->buf, r->nbytes))
			why = r->marked ? "differs from the kernel's own iova_bitmap_set calls" :
					  "differs from the programmed pattern";
		else if (spill)
			why = "has bits past its end";
		else if (r->logged && memcmp(r->expect->bits, r->logged->bits,
					     r->nbytes))
			why = "differs from the calls the test driver logged";
		else if (r->marked && short_bits == UINT64_MAX)
			why = "misses pages dirtied with IOMMU_TEST_OP_DIRTY";
		else if (r->calls_wrong)
			why = r->calls_wrong;
		match = why ? "0" : "1";
		if (why) {
			wl_warn("%s %s report %" PRIu64 ": the kernel's bitmap (%" PRIu64
			      " bits; expected %" PRIu64 ", dirtied %" PRIu64 ") %s",
			      r->path, r->device, seq, set_bits, expect_bits,
			      marked_bits, why);
			failures++;
		}
	}
	if (r->ret && !refused_rightly(r)) {
		wl_warn("%s %s report %" PRIu64 " failed: %s", r->path, r->device,
		      seq, strerror(-r->ret));
		failures++;
	}
	if (opt.verbose)
		fprintf(stderr, "workload: %s %s iter %u seq %" PRIu64 ": %" PRIu64
			" bits, %zu sets\n", r->path, r->device, r->iter, seq,
			set_bits, r->sets ? r->sets->n : 0);
	if (!truth_part)
		return 0;

	snprintf(path, sizeof(path), "%s/bitmaps/%" PRIu64 ".bin", opt.out, seq);
	/* a refused report still holds what its calls in range wrote */
	if (write_file(path, r->buf, r->ret && !refused_rightly(r) ? 0 : r->nbytes))
		return -1;
	text = malloc((r->sets ? r->sets->n : 0) * 40 + 128);
	if (!text)
		return -1;
	if (r->sets && r->sets->dropped)
		len += sprintf(text + len, "# dropped %" PRIu64 "\n", r->sets->dropped);
	for (i = 0; r->sets && i < r->sets->n; i++)
		len += sprintf(text + len, "0x%" PRIx64 " 0x%" PRIx64 "\n",
			       r->sets->v[i].iova, r->sets->v[i].length);
	snprintf(path, sizeof(path), "%s/sets/%" PRIu64 ".txt", opt.out, seq);
	ret = write_file(path, text, len);
	free(text);
	if (ret)
		return -1;
	fprintf(truth_part,
		"%" PRIu64 "\t%u\t%s\t%s\t%d\t%s\t0x%" PRIx64 "\t0x%" PRIx64 "\t%" PRIu64
		"\t0x%" PRIx32 "\t0x%" PRIxPTR "\t%u\t%" PRIu64 "\t%" PRIu64 "\t%zu\t%" PRIu64
		"\t%d\t", seq, r->iter, r->path, r->device, (int)getpid(), comm_now,
		r->iova, r->length, r->page_size, r->flags, (uintptr_t)r->buf,
		(unsigned int)((uintptr_t)r->buf & 4095), r->nbytes, set_bits,
		r->sets ? r->sets->n : 0, spill, r->ret);
	if (r->expect && !r->ret)
		fprintf(truth_part, "%" PRIu64 "\t%s\t%" PRIu64, expect_bits,
			match, marked_bits);
	else
		fprintf(truth_part, "-\t%s\t-", match);
	fprintf(truth_part, "\tbitmaps/%" PRIu64 ".bin\tsets/%" PRIu64 ".txt\t%"
		PRIu64 "\t%" PRIu64 "\t%" PRIu64 "\t%s\n", seq, seq, r->t_begin_ns,
		r->t_end_ns, short_bits == UINT64_MAX ? 0 : short_bits,
		r->marked ? "tracefs" : "driver");
	if (fflush(truth_part)) {
		wl_warn("cannot write the truth file: %s", strerror(errno));
		return -1;
	}
	return 0;
}

static const char truth_header[] =
	"seq\titer\tpath\tdevice\tpid\tcomm\tiova\tlength\tpage_size\tflags\t"
	"uaddr\tbuf_offset\tnbytes\tset_bits\tnsets\tspill_bits\tret\t"
	"expect_bits\texpect_match\tmarked_bits\tbitmap\tsets\tt_begin_ns\t"
	"t_end_ns\tshort_bits\tcalls\n";

/*
 * A bitmap buffer whose bitmap starts at the given offset in a page and is
 * followed by a zeroed guard area, where bits the kernel sets past the end
 * show up instead of corrupting something else.
 */
struct bmbuf {
	uint8_t *map;
	size_t maplen;
	uint8_t *bits;
};

static int bmbuf_alloc(struct bmbuf *b, uint64_t nbytes, unsigned int offset)
{
	b->maplen = (offset + nbytes + GUARD_BYTES + 4095) & ~4095ull;
	b->map = mmap(NULL, b->maplen, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (b->map == MAP_FAILED) {
		wl_warn("cannot allocate a %zu-byte bitmap: %s", b->maplen,
		      strerror(errno));
		return -1;
	}
	b->bits = b->map + offset;
	return 0;
}

static void bmbuf_clear(struct bmbuf *b, uint64_t nbytes)
{
	memset(b->bits, 0, nbytes + GUARD_BYTES);
}

/* ---- vfio sessions ---- */

struct vfio_dev {
	int fd;
	int container;
	int group;
	int iommufd;
	char program_path[PATH_MAX];
	char sets_path[PATH_MAX];
};

static int find_test_device(const char *name, int *group, char *cdev,
			    size_t cdevlen)
{
	char line[256], n[128], c[64];
	FILE *f = fopen(DEBUGFS_DIR "/devices", "r");
	int g, found = 0;

	if (!f) {
		wl_warn("cannot open %s: %s; load the test driver first "
		      "(insmod iovatop_test.ko, see docs/testing.md)",
		      DEBUGFS_DIR "/devices", strerror(errno));
		return -1;
	}
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%127s %d %63s", n, &g, c) == 3 &&
		    !strcmp(n, name)) {
			*group = g;
			snprintf(cdev, cdevlen, "%s", c);
			found = 1;
			break;
		}
	}
	fclose(f);
	if (!found) {
		wl_warn("the test driver has no device %s; load it with ndevs=5 or more",
		      name);
		return -1;
	}
	return 0;
}

static int open_cdev(struct vfio_dev *d, const char *cdev)
{
	char path[PATH_MAX];
	struct vfio_device_bind_iommufd bind = { .argsz = sizeof(bind) };
	struct vfio_device_attach_iommufd_pt attach = { .argsz = sizeof(attach) };
	struct iommu_ioas_alloc ioas = { .size = sizeof(ioas) };

	snprintf(path, sizeof(path), "/dev/vfio/devices/%s", cdev);
	d->fd = open(path, O_RDWR);
	if (d->fd < 0) {
		wl_warn("cannot open %s: %s", path, strerror(errno));
		return -1;
	}
	d->iommufd = open("/dev/iommu", O_RDWR);
	if (d->iommufd < 0) {
		wl_warn("cannot open /dev/iommu: %s; the kernel needs CONFIG_IOMMUFD",
		      strerror(errno));
		return -1;
	}
	bind.iommufd = d->iommufd;
	if (ioctl(d->fd, VFIO_DEVICE_BIND_IOMMUFD, &bind)) {
		wl_warn("VFIO_DEVICE_BIND_IOMMUFD on %s failed: %s", path,
		      strerror(errno));
		return -1;
	}
	/* As a VMM does: the device's DMA goes through an IOAS. */
	if (ioctl(d->iommufd, IOMMU_IOAS_ALLOC, &ioas)) {
		wl_warn("IOMMU_IOAS_ALLOC failed: %s", strerror(errno));
		return -1;
	}
	attach.pt_id = ioas.out_ioas_id;
	if (ioctl(d->fd, VFIO_DEVICE_ATTACH_IOMMUFD_PT, &attach)) {
		wl_warn("VFIO_DEVICE_ATTACH_IOMMUFD_PT on %s failed: %s", path,
		      strerror(errno));
		return -1;
	}
	return 0;
}

static int open_group(struct vfio_dev *d, const char *name, int group)
{
	struct vfio_group_status status = { .argsz = sizeof(status) };
	char path[64];

	d->container = open("/dev/vfio/vfio", O_RDWR);
	if (d->container < 0) {
		wl_warn("cannot open /dev/vfio/vfio: %s; the kernel needs CONFIG_VFIO",
		      strerror(errno));
		return -1;
	}
	if (ioctl(d->container, VFIO_GET_API_VERSION) != VFIO_API_VERSION ||
	    ioctl(d->container, VFIO_CHECK_EXTENSION, VFIO_TYPE1v2_IOMMU) <= 0) {
		wl_warn("the vfio container has no type1v2 IOMMU; the kernel needs "
		      "CONFIG_VFIO_IOMMU_TYPE1");
		return -1;
	}
	snprintf(path, sizeof(path), "/dev/vfio/%d", group);
	d->group = open(path, O_RDWR);
	if (d->group < 0) {
		wl_warn("cannot open %s: %s", path, strerror(errno));
		return -1;
	}
	if (ioctl(d->group, VFIO_GROUP_GET_STATUS, &status) ||
	    !(status.flags & VFIO_GROUP_FLAGS_VIABLE)) {
		wl_warn("vfio group %d is not viable", group);
		return -1;
	}
	if (ioctl(d->group, VFIO_GROUP_SET_CONTAINER, &d->container) ||
	    ioctl(d->container, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU)) {
		wl_warn("cannot attach vfio group %d to a type1 container: %s",
		      group, strerror(errno));
		return -1;
	}
	d->fd = ioctl(d->group, VFIO_GROUP_GET_DEVICE_FD, name);
	if (d->fd < 0) {
		wl_warn("VFIO_GROUP_GET_DEVICE_FD %s failed: %s", name,
		      strerror(errno));
		return -1;
	}
	return 0;
}

static int feature(int fd, uint32_t flags, void *payload, size_t len)
{
	uint8_t buf[sizeof(struct vfio_device_feature) + 64];
	struct vfio_device_feature *f = (void *)buf;

	f->argsz = sizeof(*f) + len;
	f->flags = flags;
	if (len)
		memcpy(buf + sizeof(*f), payload, len);
	return ioctl(fd, VFIO_DEVICE_FEATURE, buf) ? -errno : 0;
}

static int program_device(const struct vfio_dev *d, const struct vfio_spec *s,
			  unsigned int devno, unsigned int iter,
			  const struct range *report, struct itp_stream *out)
{
	char text[1024];
	size_t len = 0;
	unsigned int i;
	int fd, ret = 0;

	for (i = 0; i < s->nstreams; i++) {
		const struct stream_spec *ss = &s->streams[i];
		const struct range *r = &s->ranges[ss->range];
		struct itp_stream *st = &out[i];

		memset(st, 0, sizeof(*st));
		st->kind = ss->kind;
		st->mask = ss->mask;
		st->page = ss->page;
		st->run = ss->run;
		st->count = count_at(ss, iter);
		st->seed = seed_of(devno, i, iter);
		if (ss->kind == ITP_OOR) {
			/* placed around the report being made */
			st->base = report->iova;
			st->size = report->length;
		} else {
			st->base = r->iova + ss->off;
			st->size = ss->size ? ss->size : r->length - ss->off;
		}
		len += snprintf(text + len, sizeof(text) - len,
				"%skind=%s base=0x%llx size=0x%llx page=%llu count=%llu run=%llu seed=%llu mask=%u",
				i ? ";" : "",
				st->kind == ITP_SWEEP ? "sweep" :
				st->kind == ITP_RANDOM ? "random" :
				st->kind == ITP_SCATTER ? "scatter" : "oor",
				(unsigned long long)st->base,
				(unsigned long long)st->size,
				(unsigned long long)st->page,
				(unsigned long long)st->count,
				(unsigned long long)st->run,
				(unsigned long long)st->seed, st->mask);
	}
	fd = open(d->program_path, O_WRONLY);
	if (fd < 0) {
		wl_warn("cannot open %s: %s", d->program_path, strerror(errno));
		return -1;
	}
	if (write(fd, text, len) != (ssize_t)len) {
		wl_warn("the test driver refused program '%s': %s", text,
		      strerror(errno));
		ret = -1;
	}
	close(fd);
	return ret;
}

/* Read (and so drain) the driver's log of iova_bitmap_set calls. */
static int read_sets(const char *path, struct calls *c)
{
	char line[128];
	FILE *f = fopen(path, "r");

	c->n = 0;
	c->dropped = 0;
	if (!f) {
		wl_warn("cannot open %s: %s", path, strerror(errno));
		return -1;
	}
	while (fgets(line, sizeof(line), f)) {
		unsigned long long a, b;

		if (sscanf(line, "# dropped %llu", &a) == 1) {
			c->dropped = a;
			continue;
		}
		if (sscanf(line, "%llx %llx", &a, &b) != 2 ||
		    calls_push(c, a, b)) {
			fclose(f);
			wl_warn("bad line in %s: %s", path, line);
			return -1;
		}
	}
	fclose(f);
	if (c->dropped) {
		wl_warn("the test driver dropped %" PRIu64 " logged calls; load it "
		      "with a larger log_max", c->dropped);
		return -1;
	}
	return 0;
}

static bool keep_going(unsigned int iter)
{
	if (stopping)
		return false;
	return !opt.iterations || iter < opt.iterations;
}

static void pause_between(void)
{
	struct timespec ts = {
		.tv_sec = opt.interval_ms / 1000,
		.tv_nsec = (long)(opt.interval_ms % 1000) * 1000000,
	};

	if (opt.interval_ms)
		nanosleep(&ts, NULL);
}

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* The driver's 'hop' knob of a device (see struct vfio_spec). */
static int set_hop(const char *name, unsigned int hop)
{
	char path[PATH_MAX], text[16];
	int fd, len, ret = 0;

	snprintf(path, sizeof(path), DEBUGFS_DIR "/%s/hop", name);
	len = snprintf(text, sizeof(text), "%u", hop);
	fd = open(path, O_WRONLY);
	if (fd < 0 || write(fd, text, len) != len) {
		wl_warn("cannot set %s to %u: %s; is the test driver current?",
			path, hop, strerror(errno));
		ret = -1;
	}
	if (fd >= 0)
		close(fd);
	return ret;
}

/* Pin the calling process to one online CPU, chosen by n. */
static int pin_cpu(unsigned int n)
{
	long ncpus = sysconf(_SC_NPROCESSORS_ONLN);
	cpu_set_t set;

	if (ncpus < 1)
		ncpus = 1;
	CPU_ZERO(&set);
	CPU_SET(n % ncpus, &set);
	if (sched_setaffinity(0, sizeof(set), &set)) {
		wl_warn("sched_setaffinity to CPU %ld failed: %s", n % ncpus,
			strerror(errno));
		return -1;
	}
	return 0;
}

static int vfio_session(const struct vfio_spec *s, unsigned int devno)
{
	struct vfio_dev d = { .fd = -1, .container = -1, .group = -1,
			      .iommufd = -1 };
	struct vfio_device_feature_dma_logging_range ranges[MAX_RANGES];
	struct vfio_device_feature_dma_logging_control ctl = { 0 };
	struct itp_stream streams[MAX_STREAMS];
	struct bmbuf bufs[MAX_RANGES];
	struct calls sets = { 0 };
	char cdev[64], path[PATH_MAX];
	unsigned int i, iter;
	int group, ret;
	bool oor = false;

	for (i = 0; i < s->nstreams; i++)
		oor |= s->streams[i].kind == ITP_OOR;
	if (find_test_device(s->name, &group, cdev, sizeof(cdev)))
		return 1;
	snprintf(d.program_path, sizeof(d.program_path), DEBUGFS_DIR "/%s/program",
		 s->name);
	snprintf(d.sets_path, sizeof(d.sets_path), DEBUGFS_DIR "/%s/sets", s->name);
	snprintf(path, sizeof(path), "/dev/vfio/devices/%s", cdev);
	/* 6.6+ has the per-device cdev; 6.1 only the group and container. */
	if (access(path, F_OK) == 0)
		ret = open_cdev(&d, cdev);
	else
		ret = open_group(&d, s->name, group);
	if (ret)
		return 1;
	if (read_sets(d.sets_path, &sets))
		return 1;

	for (i = 0; i < s->nranges; i++) {
		ranges[i].iova = s->ranges[i].iova;
		ranges[i].length = s->ranges[i].length;
		if (bmbuf_alloc(&bufs[i], bitmap_bytes(s->ranges[i].length,
						       s->page_size),
				s->buf_offset))
			return 1;
	}
	ctl.page_size = s->page_size;
	ctl.num_ranges = s->nranges;
	ctl.ranges = (uintptr_t)ranges;
	ret = feature(d.fd, VFIO_DEVICE_FEATURE_SET |
		      VFIO_DEVICE_FEATURE_DMA_LOGGING_START, &ctl, sizeof(ctl));
	if (ret) {
		wl_warn("DMA_LOGGING_START on %s failed: %s", s->name, strerror(-ret));
		return 1;
	}
	if (s->hop && set_hop(s->name, s->hop))
		return 1;

	for (iter = 0; keep_going(iter); iter++) {
		/* the demo repeats migrations: the rate decays, then restarts */
		unsigned int piter = opt.iterations ? iter : iter % 8;

		for (i = 0; i < s->nranges && !stopping; i++) {
			const struct range *r = &s->ranges[i];
			uint64_t nbytes = bitmap_bytes(r->length, s->page_size);
			struct vfio_device_feature_dma_logging_report rep = {
				.iova = r->iova, .length = r->length,
				.page_size = s->page_size,
				.bitmap = (uintptr_t)bufs[i].bits,
			};
			struct expect ex = {
				.iova = r->iova, .length = r->length,
				.nbits = div_up(r->length, s->page_size),
				.shift = ilog2_u64(s->page_size),
			};
			struct expect lg = ex;
			struct report rp = {
				.iter = iter, .path = "vfio", .device = s->name,
				.iova = r->iova, .length = r->length,
				.page_size = s->page_size,
				.flags = VFIO_DEVICE_FEATURE_GET |
					 VFIO_DEVICE_FEATURE_DMA_LOGGING_REPORT,
				.buf = bufs[i].bits, .nbytes = nbytes,
				.sets = &sets,
			};
			unsigned int k;
			uint64_t seq;

			if (program_device(&d, s, devno, piter, r, streams))
				return 1;
			if (s->flip_cpu && pin_cpu(iter + devno))
				return 1;
			bmbuf_clear(&bufs[i], nbytes);
			seq = next_seq();
			rp.t_begin_ns = mono_ns();
			rp.ret = feature(d.fd, rp.flags, &rep, sizeof(rep));
			rp.t_end_ns = mono_ns();
			if (read_sets(d.sets_path, &sets))
				return 1;
			if (!oor) {
				ex.bits = calloc(1, nbytes);
				lg.bits = calloc(1, nbytes);
				if (!ex.bits || !lg.bits)
					return 1;
				for (k = 0; k < s->nstreams; k++)
					itp_generate(&streams[k], expect_emit, &ex);
				for (k = 0; k < sets.n; k++)
					expect_set(&lg, sets.v[k].iova,
						   sets.v[k].length);
				rp.expect = &ex;
				rp.logged = &lg;
			}
			ret = record(seq, &rp);
			free(ex.bits);
			free(lg.bits);
			if (ret)
				return 1;
		}
		pause_between();
	}

	ret = feature(d.fd, VFIO_DEVICE_FEATURE_SET |
		      VFIO_DEVICE_FEATURE_DMA_LOGGING_STOP, NULL, 0);
	if (ret) {
		wl_warn("DMA_LOGGING_STOP on %s failed: %s", s->name, strerror(-ret));
		return 1;
	}
	if (s->hop && set_hop(s->name, 0))
		return 1;
	free(sets.v);
	return failures ? 1 : 0;
}

/* ---- the kernel's iova_bitmap_set calls, as tracefs sees them ---- */

/*
 * The iommufd mock decides itself how much one iova_bitmap_set() call
 * covers: one 2 KiB IO page in 6.12's xarray mock, a whole page-table
 * entry or contiguous block on the generic page table (6.19+,
 * drivers/iommu/generic_pt/iommu_pt.h, record_dirty()). So the calls are
 * not predicted; a kprobe event on iova_bitmap_set, in a tracefs instance
 * of this process alone, records them. That is the kernel's ftrace, not
 * iovatop's BPF: the ground truth stays independent of the tool it checks.
 */
struct settrace {
	char dir[192];		/* the instance */
	char event[64];		/* group/name in kprobe_events */
	char tracefs[64];
	bool defined;
};

static int write_str(const char *path, const char *text, int flags)
{
	size_t len = strlen(text);
	int fd = open(path, O_WRONLY | flags);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = write(fd, text, len);
	if (n != (ssize_t)len) {
		int err = n < 0 ? -errno : -EIO;

		close(fd);
		return err;
	}
	return close(fd) ? -errno : 0;
}

static void settrace_close(struct settrace *t)
{
	char path[512], undo[80];

	if (t->dir[0]) {
		snprintf(path, sizeof(path), "%s/tracing_on", t->dir);
		write_str(path, "0", 0);
		rmdir(t->dir);
		t->dir[0] = '\0';
	}
	if (t->defined) {
		snprintf(path, sizeof(path), "%s/kprobe_events", t->tracefs);
		snprintf(undo, sizeof(undo), "-:%s\n", t->event);
		write_str(path, undo, O_APPEND);
		t->defined = false;
	}
}

static int settrace_open(struct settrace *t)
{
	static const char *const roots[] = { "/sys/kernel/tracing",
					     "/sys/kernel/debug/tracing" };
	char path[512], text[160];
	const char *step;
	size_t i;
	int pid = getpid(), ret;

	memset(t, 0, sizeof(*t));
	for (i = 0; i < 2; i++) {
		snprintf(path, sizeof(path), "%s/kprobe_events", roots[i]);
		if (!access(path, W_OK)) {
			snprintf(t->tracefs, sizeof(t->tracefs), "%s", roots[i]);
			break;
		}
	}
	if (!t->tracefs[0]) {
		wl_warn("no writable kprobe_events in /sys/kernel/tracing: the iommufd "
			"ground truth records the kernel's iova_bitmap_set calls with a "
			"kprobe event; mount tracefs, run as root, and use a kernel with "
			"CONFIG_KPROBE_EVENTS");
		return -1;
	}
	snprintf(t->event, sizeof(t->event), "iovatop_wl/set_%d", pid);
	snprintf(text, sizeof(text),
		 "p:%s iova_bitmap_set iova=$arg2:x64 length=$arg3:x64\n", t->event);
	step = "define the kprobe event";
	snprintf(path, sizeof(path), "%s/kprobe_events", t->tracefs);
	ret = write_str(path, text, O_APPEND);
	if (ret)
		goto fail;
	t->defined = true;
	snprintf(t->dir, sizeof(t->dir), "%s/instances/iovatop_wl_%d", t->tracefs,
		 pid);
	step = "create the tracefs instance";
	if (mkdir(t->dir, 0700)) {
		ret = -errno;
		t->dir[0] = '\0';
		goto fail;
	}
	/*
	 * 4 MiB a CPU holds some 80000 calls, more than a report here makes;
	 * the global clock keeps the order when the task changes CPU.
	 */
	{
		static const char *const setup[][2] = {
			{ "buffer_size_kb", "4096" },
			{ "trace_clock", "global" },
			{ "tracing_on", "1" },
		};

		for (i = 0; i < sizeof(setup) / sizeof(setup[0]); i++) {
			snprintf(path, sizeof(path), "%s/%s", t->dir, setup[i][0]);
			step = setup[i][0];
			ret = write_str(path, setup[i][1], O_TRUNC);
			if (ret)
				goto fail;
		}
	}
	snprintf(path, sizeof(path), "%s/events/%s/filter", t->dir, t->event);
	snprintf(text, sizeof(text), "common_pid == %d", pid);
	step = "filter the event on this process";
	ret = write_str(path, text, O_TRUNC);
	if (ret)
		goto fail;
	snprintf(path, sizeof(path), "%s/events/%s/enable", t->dir, t->event);
	step = "enable the event";
	ret = write_str(path, "1", O_TRUNC);
	if (ret)
		goto fail;
	return 0;
fail:
	wl_warn("cannot %s for iova_bitmap_set in %s: %s; the iommufd ground "
		"truth needs CONFIG_KPROBE_EVENTS and tracefs", step, t->tracefs,
		strerror(-ret));
	settrace_close(t);
	return -1;
}

/* Forget what was recorded: the next read holds one report's calls. */
static int settrace_clear(struct settrace *t)
{
	char path[512];
	int fd;

	snprintf(path, sizeof(path), "%s/trace", t->dir);
	fd = open(path, O_WRONLY | O_TRUNC);
	if (fd < 0) {
		wl_warn("cannot clear %s: %s", path, strerror(errno));
		return -1;
	}
	close(fd);
	return 0;
}

/*
 * The calls recorded since the last clear, in order. A buffer that
 * dropped events says so in the header ("entries-in-buffer/entries-
 * written: N/M"); then the truth is incomplete and this fails.
 */
static int settrace_read(struct settrace *t, struct calls *c)
{
	char path[512], line[512];
	unsigned long long in = 0, written = 0;
	bool header = false;
	FILE *f;

	c->n = 0;
	c->dropped = 0;
	snprintf(path, sizeof(path), "%s/trace", t->dir);
	f = fopen(path, "r");
	if (!f) {
		wl_warn("cannot open %s: %s", path, strerror(errno));
		return -1;
	}
	while (fgets(line, sizeof(line), f)) {
		unsigned long long a, b;
		const char *p;

		if (line[0] == '#') {
			if ((p = strstr(line, "entries-written:")) &&
			    sscanf(p, "entries-written: %llu/%llu", &in, &written) == 2)
				header = true;
			continue;
		}
		p = strstr(line, " iova=");
		if (!p || sscanf(p, " iova=%llx length=%llx", &a, &b) != 2)
			continue;
		if (calls_push(c, a, b)) {
			fclose(f);
			return -1;
		}
	}
	fclose(f);
	if (!header || in != written || in != c->n) {
		wl_warn("tracefs recorded %llu iova_bitmap_set calls and kept %llu, "
			"%zu read back%s; the ground truth of this report is incomplete",
			written, in, c->n, header ? "" : " (no header)");
		return -1;
	}
	return 0;
}

/* ---- iommufd session ---- */

struct hwpt {
	const struct hwpt_spec *s;
	uint32_t id;
	char name[32];
	uint8_t *mem;
	uint64_t nmock;		/* mock IO pages mapped */
	uint8_t *marks;		/* IOMMU_TEST_OP_DIRTY input, one bit per mock page */
	uint8_t *pending;	/* dirty in the mock domain, not yet cleared */
	struct bmbuf buf;
	bool huge_flag;		/* the mock device took HUGE_IOVA (6.12) */
};

/*
 * Guest memory in 2 MiB hugetlbfs pages: physically contiguous, so the
 * IOAS maps each in huge IO pages. The pool is grown by what is missing
 * (the test VM boots with none reserved).
 */
static void *huge_alloc(uint64_t len)
{
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB | MAP_POPULATE,
		       -1, 0);
	unsigned long long have = 0;
	char text[32];
	FILE *f;

	if (p != MAP_FAILED)
		return p;
	f = fopen("/proc/sys/vm/nr_hugepages", "r");
	if (!f || fscanf(f, "%llu", &have) != 1) {
		wl_warn("cannot read /proc/sys/vm/nr_hugepages: the huge-page hwpt "
			"needs a kernel with CONFIG_HUGETLBFS");
		if (f)
			fclose(f);
		return MAP_FAILED;
	}
	fclose(f);
	snprintf(text, sizeof(text), "%llu", have + len / (2 * MiB));
	if (write_str("/proc/sys/vm/nr_hugepages", text, O_TRUNC)) {
		wl_warn("cannot grow /proc/sys/vm/nr_hugepages to %s: %s; run as root",
			text, strerror(errno));
		return MAP_FAILED;
	}
	p = mmap(NULL, len, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB | MAP_POPULATE, -1, 0);
	if (p == MAP_FAILED)
		wl_warn("cannot map %" PRIu64 " bytes of 2 MiB huge pages even with "
			"%s reserved: %s", len, text, strerror(errno));
	return p;
}

static int iommufd_setup(int fd, struct hwpt *h)
{
	struct iommu_ioas_alloc ioas = { .size = sizeof(ioas) };
	struct iommu_ioas_alloc ioas2 = { .size = sizeof(ioas2) };
	struct iommu_test_cmd mock = { .size = sizeof(mock),
				       .op = IOMMU_TEST_OP_MOCK_DOMAIN };
	struct iommu_ioas_map map = { .size = sizeof(map) };
	struct iommu_hwpt_alloc alloc = { .size = sizeof(alloc) };
	struct iommu_hwpt_set_dirty_tracking track = { .size = sizeof(track) };
	struct iommu_option small = {
		.size = sizeof(small), .option_id = IOMMU_OPTION_HUGE_PAGES,
		.op = IOMMU_OPTION_OP_SET, .val64 = 0,
	};
	const struct hwpt_spec *s = h->s;

	if (ioctl(fd, IOMMU_IOAS_ALLOC, &ioas)) {
		wl_warn("IOMMU_IOAS_ALLOC failed: %s", strerror(errno));
		return -1;
	}
	/*
	 * A mock device bound to iommufd: what HWPT_ALLOC allocates for. For
	 * huge pages 6.12's mock needs its device flagged HUGE_IOVA (1 MiB IO
	 * pages); a kernel that refuses the flag (7.2: the generic page
	 * table maps any power of two anyway) gets a plain mock device.
	 */
	mock.id = ioas.out_ioas_id;
	if (s->huge) {
		mock.op = IOMMU_TEST_OP_MOCK_DOMAIN_FLAGS;
		mock.mock_domain_flags.dev_flags = MOCK_FLAGS_DEVICE_HUGE_IOVA;
		if (ioctl(fd, IOMMU_TEST_CMD, &mock) == 0)
			h->huge_flag = true;
		else if (errno == EINVAL)
			mock.op = IOMMU_TEST_OP_MOCK_DOMAIN;
	}
	if (!h->huge_flag && ioctl(fd, IOMMU_TEST_CMD, &mock)) {
		wl_warn("IOMMU_TEST_OP_MOCK_DOMAIN failed: %s; the kernel needs "
		      "CONFIG_IOMMUFD_TEST", strerror(errno));
		return -1;
	}
	if (ioctl(fd, IOMMU_IOAS_ALLOC, &ioas2)) {
		wl_warn("IOMMU_IOAS_ALLOC failed: %s", strerror(errno));
		return -1;
	}
	small.object_id = ioas2.out_ioas_id;
	if (!s->huge && ioctl(fd, IOMMU_OPTION, &small)) {
		wl_warn("IOMMU_OPTION HUGE_PAGES=0 failed: %s", strerror(errno));
		return -1;
	}
	if (s->huge)
		h->mem = huge_alloc(s->map_len);
	else
		h->mem = mmap(NULL, s->map_len, PROT_READ | PROT_WRITE,
			      MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	if (h->mem == MAP_FAILED) {
		wl_warn("cannot allocate %" PRIu64 " bytes of guest memory: %s",
		      s->map_len, strerror(errno));
		return -1;
	}
	map.flags = IOMMU_IOAS_MAP_FIXED_IOVA | IOMMU_IOAS_MAP_READABLE |
		    IOMMU_IOAS_MAP_WRITEABLE;
	map.ioas_id = ioas2.out_ioas_id;
	map.user_va = (uintptr_t)h->mem;
	map.length = s->map_len;
	map.iova = MOCK_APERTURE_START;
	if (ioctl(fd, IOMMU_IOAS_MAP, &map)) {
		wl_warn("IOMMU_IOAS_MAP of %" PRIu64 " bytes failed: %s", s->map_len,
		      strerror(errno));
		return -1;
	}
	alloc.flags = IOMMU_HWPT_ALLOC_DIRTY_TRACKING;
	alloc.dev_id = mock.mock_domain.out_idev_id;
	alloc.pt_id = ioas2.out_ioas_id;
	if (ioctl(fd, IOMMU_HWPT_ALLOC, &alloc)) {
		wl_warn("IOMMU_HWPT_ALLOC with dirty tracking failed: %s",
		      strerror(errno));
		return -1;
	}
	h->id = alloc.out_hwpt_id;
	snprintf(h->name, sizeof(h->name), "hwpt%u", h->id);
	track.flags = IOMMU_HWPT_DIRTY_TRACKING_ENABLE;
	track.hwpt_id = h->id;
	if (ioctl(fd, IOMMU_HWPT_SET_DIRTY_TRACKING, &track)) {
		wl_warn("IOMMU_HWPT_SET_DIRTY_TRACKING on %s failed: %s", h->name,
		      strerror(errno));
		return -1;
	}
	h->nmock = s->map_len / MOCK_IO_PAGE;
	h->marks = calloc(1, div_up(h->nmock, 64) * 8);
	h->pending = calloc(1, div_up(h->nmock, 64) * 8);
	if (!h->marks || !h->pending)
		return -1;
	return bmbuf_alloc(&h->buf, bitmap_bytes(s->map_len, s->page_size),
			   s->buf_offset);
}

static int mark_emit(__u64 iova, __u64 length, void *ctx)
{
	struct hwpt *h = ctx;
	uint64_t p;

	for (p = (iova - MOCK_APERTURE_START) / MOCK_IO_PAGE;
	     p < (iova + length - MOCK_APERTURE_START) / MOCK_IO_PAGE &&
	     p < h->nmock; p++)
		h->marks[p / 8] |= 1u << (p % 8);
	return 0;
}

static int iommufd_dirty(int fd, struct hwpt *h, unsigned int devno,
			 unsigned int iter)
{
	const struct hwpt_spec *s = h->s;
	struct itp_stream st = {
		.kind = s->stream.kind, .base = MOCK_APERTURE_START,
		.size = s->map_len, .page = MOCK_IO_PAGE,
		.count = count_at(&s->stream, iter), .run = s->stream.run,
		.seed = seed_of(devno, 0, iter),
	};
	struct iommu_test_cmd cmd = { .size = sizeof(cmd),
				      .op = IOMMU_TEST_OP_DIRTY, .id = h->id };
	uint64_t words = div_up(h->nmock, 64), want, i;

	memset(h->marks, 0, words * 8);
	itp_generate(&st, mark_emit, h);
	want = popcount(h->marks, words * 8);
	cmd.dirty.iova = MOCK_APERTURE_START;
	cmd.dirty.length = s->map_len;
	cmd.dirty.page_size = MOCK_IO_PAGE;
	cmd.dirty.uptr = (uintptr_t)h->marks;
	if (ioctl(fd, IOMMU_TEST_CMD, &cmd)) {
		wl_warn("IOMMU_TEST_OP_DIRTY on %s failed: %s", h->name,
		      strerror(errno));
		return -1;
	}
	if (cmd.dirty.out_nr_dirty != want) {
		wl_warn("the mock domain marked %llu pages of %s dirty, not %" PRIu64,
		      (unsigned long long)cmd.dirty.out_nr_dirty, h->name, want);
		failures++;
	}
	for (i = 0; i < words * 8; i++)
		h->pending[i] |= h->marks[i];
	return 0;
}

/*
 * Each call the kernel made must lie in the mapping, follow the one
 * before it, and cover at least one page this session dirtied: an IOMMU
 * reports whole entries, never a clean one. NULL when they all do.
 */
static const char *calls_wrong(const struct hwpt *h, const struct calls *c)
{
	uint64_t end = MOCK_APERTURE_START + h->s->map_len, prev = 0, p;
	size_t i;

	for (i = 0; i < c->n; i++) {
		uint64_t iova = c->v[i].iova, len = c->v[i].length;
		bool dirty = false;

		if (!len || iova < MOCK_APERTURE_START || iova + len > end)
			return "has a set call outside the mapping";
		if (iova < prev)
			return "has set calls out of IOVA order or overlapping";
		prev = iova + len;
		for (p = (iova - MOCK_APERTURE_START) / MOCK_IO_PAGE;
		     p < div_up(iova + len - MOCK_APERTURE_START, MOCK_IO_PAGE); p++)
			if (h->pending[p / 8] & (1u << (p % 8))) {
				dirty = true;
				break;
			}
		/*
		 * A block reported one entry short (short_tail()) may cover
		 * only its clean entries when the dirty one is the one left
		 * out: then a page within the call's length past its end was
		 * dirtied.
		 */
		for (p = div_up(iova + len - MOCK_APERTURE_START, MOCK_IO_PAGE);
		     !dirty && p < div_up(iova + 2 * len - MOCK_APERTURE_START, MOCK_IO_PAGE) &&
		     p < h->nmock; p++)
			if (h->pending[p / 8] & (1u << (p % 8)))
				dirty = true;
		if (!dirty)
			return "has a set call over pages nobody dirtied";
	}
	return NULL;
}

static int iommufd_report(int fd, struct hwpt *h, struct settrace *st,
			  unsigned int iter, uint32_t flags)
{
	const struct hwpt_spec *s = h->s;
	uint64_t nbytes = bitmap_bytes(s->map_len, s->page_size), p;
	struct iommu_hwpt_get_dirty_bitmap get = {
		.size = sizeof(get), .hwpt_id = h->id, .flags = flags,
		.iova = MOCK_APERTURE_START, .length = s->map_len,
		.page_size = s->page_size, .data = (uintptr_t)h->buf.bits,
	};
	struct expect ex = {
		.iova = MOCK_APERTURE_START, .length = s->map_len,
		.nbits = div_up(s->map_len, s->page_size),
		.shift = ilog2_u64(s->page_size),
	};
	struct expect mk = ex;
	struct calls sets = { 0 };
	struct report rp = {
		.iter = iter, .path = "iommufd", .device = h->name,
		.iova = get.iova, .length = get.length,
		.page_size = s->page_size, .flags = flags, .buf = h->buf.bits,
		.nbytes = nbytes, .sets = &sets, .expect = &ex, .marked = &mk,
	};
	uint64_t seq;
	size_t i;
	int ret = -1;

	ex.bits = calloc(1, nbytes);
	mk.bits = calloc(1, nbytes);
	if (!ex.bits || !mk.bits)
		goto out;
	/* the mock pages dirtied and not yet cleared: the bitmap's floor */
	for (p = 0; p < h->nmock; p++)
		if (h->pending[p / 8] & (1u << (p % 8)))
			expect_set(&mk, MOCK_APERTURE_START + p * MOCK_IO_PAGE,
				   MOCK_IO_PAGE);
	bmbuf_clear(&h->buf, nbytes);
	if (settrace_clear(st))
		goto out;
	seq = next_seq();
	rp.t_begin_ns = mono_ns();
	rp.ret = ioctl(fd, IOMMU_HWPT_GET_DIRTY_BITMAP, &get) ? -errno : 0;
	rp.t_end_ns = mono_ns();
	if (settrace_read(st, &sets))
		goto out;
	for (i = 0; i < sets.n; i++)
		expect_set(&ex, sets.v[i].iova, sets.v[i].length);
	rp.calls_wrong = calls_wrong(h, &sets);
	if (!rp.ret && !(flags & IOMMU_HWPT_GET_DIRTY_BITMAP_NO_CLEAR))
		memset(h->pending, 0, div_up(h->nmock, 64) * 8);
	ret = record(seq, &rp);
out:
	free(ex.bits);
	free(mk.bits);
	free(sets.v);
	return ret;
}

static unsigned int niommufd(const struct scenario *sc)
{
	return sc->nhwpt ? (sc->niommufd ? sc->niommufd : 1) : 0;
}

/* Process vmm of the scenario's iommufd processes (0, 1, ...). */
static int iommufd_session(const struct scenario *sc, unsigned int vmm)
{
	struct settrace st;
	struct hwpt h[8];
	unsigned int i, iter;
	int fd, rc = 1;

	fd = open("/dev/iommu", O_RDWR);
	if (fd < 0) {
		wl_warn("cannot open /dev/iommu: %s; the iommufd path needs a 6.7+ "
		      "kernel with CONFIG_IOMMUFD and CONFIG_IOMMUFD_TEST",
		      strerror(errno));
		return 1;
	}
	for (i = 0; i < sc->nhwpt; i++) {
		memset(&h[i], 0, sizeof(h[i]));
		h[i].s = &sc->hwpt[i];
		if (iommufd_setup(fd, &h[i]))
			return 1;
		if (opt.verbose && sc->hwpt[i].huge)
			fprintf(stderr, "workload: %s on huge pages, mock device %s\n",
				h[i].name, h[i].huge_flag ? "flagged HUGE_IOVA" :
				"without flags (the kernel refused HUGE_IOVA)");
	}
	if (settrace_open(&st))
		return 1;
	if (truth_part) {
		/* The hwpt ids are known only now: devices.tsv needs them. */
		char path[PATH_MAX];
		FILE *f;

		snprintf(path, sizeof(path), "%s/.hwpts.%d", opt.out, (int)getpid());
		f = fopen(path, "w");
		if (!f)
			return 1;
		for (i = 0; i < sc->nhwpt; i++)
			fprintf(f, "%s\t%s\n", sc->hwpt[i].label, h[i].name);
		fclose(f);
	}
	for (iter = 0; keep_going(iter); iter++) {
		unsigned int piter = opt.iterations ? iter : iter % 8;

		for (i = 0; i < sc->nhwpt && !stopping; i++) {
			if (iommufd_dirty(fd, &h[i], 100 + 10 * vmm + i, piter))
				goto out;
			if ((int)iter == h[i].s->no_clear_iter &&
			    iommufd_report(fd, &h[i], &st, iter,
					   IOMMU_HWPT_GET_DIRTY_BITMAP_NO_CLEAR))
				goto out;
			if (iommufd_report(fd, &h[i], &st, iter, 0))
				goto out;
		}
		pause_between();
	}
	rc = failures ? 1 : 0;
out:
	settrace_close(&st);
	close(fd);
	return rc;
}

/* ---- scenario runner ---- */

static void format_stream(char *buf, size_t len, const struct stream_spec *s)
{
	static const char *const kinds[] = { "none", "sweep", "random", "oor",
					     "scatter" };

	snprintf(buf, len, "%s:count=%llu,run=%llu,page=%llu,decay=%u%%%s",
		 kinds[s->kind], (unsigned long long)s->count0,
		 (unsigned long long)s->run, (unsigned long long)s->page,
		 s->decay, s->kind == ITP_OOR ? ",mask" : "");
}

static int start_session(pid_t *pid, const char *comm, int (*fn)(const void *, unsigned int),
			 const void *arg, unsigned int devno)
{
	char path[PATH_MAX];

	fflush(NULL);
	*pid = fork();
	if (*pid < 0) {
		wl_warn("fork failed: %s", strerror(errno));
		return -1;
	}
	if (*pid)
		return 0;
	prctl(PR_SET_NAME, comm);
	snprintf(comm_now, sizeof(comm_now), "%s", comm);
	if (opt.out) {
		snprintf(path, sizeof(path), "%s/.truth.%d", opt.out, (int)getpid());
		truth_part = fopen(path, "w");
		if (!truth_part) {
			wl_warn("cannot create %s: %s", path, strerror(errno));
			_exit(1);
		}
	}
	_exit(fn(arg, devno));
}

static int run_vfio(const void *arg, unsigned int devno)
{
	return vfio_session(arg, devno);
}

static int run_iommufd(const void *arg, unsigned int vmm)
{
	return iommufd_session(arg, vmm);
}

struct line {
	uint64_t seq;
	char *text;
};

static int cmp_line(const void *a, const void *b)
{
	const struct line *x = a, *y = b;

	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* Merge the sessions' truth parts into truth.tsv, in seq order. */
static int merge_truth(void)
{
	struct line *lines = NULL;
	size_t n = 0, cap = 0, i;
	char path[PATH_MAX], buf[1024];
	struct dirent *de;
	DIR *dir = opendir(opt.out);
	FILE *out;

	if (!dir)
		return -1;
	while ((de = readdir(dir))) {
		FILE *f;

		if (strncmp(de->d_name, ".truth.", 7))
			continue;
		snprintf(path, sizeof(path), "%s/%s", opt.out, de->d_name);
		f = fopen(path, "r");
		if (!f)
			continue;
		while (fgets(buf, sizeof(buf), f)) {
			if (n == cap) {
				cap = cap ? cap * 2 : 256;
				lines = realloc(lines, cap * sizeof(*lines));
				if (!lines)
					return -1;
			}
			lines[n].seq = strtoull(buf, NULL, 10);
			lines[n].text = strdup(buf);
			n++;
		}
		fclose(f);
		unlink(path);
	}
	closedir(dir);
	qsort(lines, n, sizeof(*lines), cmp_line);
	snprintf(path, sizeof(path), "%s/truth.tsv", opt.out);
	out = fopen(path, "w");
	if (!out) {
		wl_warn("cannot create %s: %s", path, strerror(errno));
		return -1;
	}
	fputs(truth_header, out);
	for (i = 0; i < n; i++) {
		fputs(lines[i].text, out);
		free(lines[i].text);
	}
	free(lines);
	return fclose(out) ? -1 : 0;
}

static uint64_t expect_total(const struct stream_spec *s, unsigned int nstreams,
			     enum trend trend, uint64_t page_size)
{
	uint64_t t = 0;
	unsigned int i, it;

	if (trend == ANOMALY)
		return 0;
	/*
	 * Every stream dirties whole, distinct bits: a sweep count pages, a
	 * random stream count chunks of run pages.
	 */
	for (it = 0; it < opt.iterations; it++)
		for (i = 0; i < nstreams; i++)
			t += count_at(&s[i], it) *
			     (s[i].kind == ITP_SWEEP ? 1 : s[i].run) *
			     s[i].page / page_size;
	return t;
}

static int write_devices(const struct scenario *sc, pid_t *pids)
{
	char path[PATH_MAX], pat[256], hwpt_names[2][8][32];
	unsigned int i, j, v;
	FILE *f;

	memset(hwpt_names, 0, sizeof(hwpt_names));
	for (v = 0; v < niommufd(sc); v++) {
		char line[128], label[16], name[32];
		FILE *h;

		snprintf(path, sizeof(path), "%s/.hwpts.%d", opt.out,
			 (int)pids[sc->nvfio + v]);
		h = fopen(path, "r");
		if (!h)
			continue;
		while (fgets(line, sizeof(line), h))
			for (j = 0; j < sc->nhwpt; j++)
				if (sscanf(line, "%15s %31s", label, name) == 2 &&
				    !strcmp(label, sc->hwpt[j].label))
					snprintf(hwpt_names[v][j],
						 sizeof(hwpt_names[v][j]), "%s", name);
		fclose(h);
		unlink(path);
	}
	snprintf(path, sizeof(path), "%s/devices.tsv", opt.out);
	f = fopen(path, "w");
	if (!f)
		return -1;
	fprintf(f, "device\tpath\tpid\tcomm\tpattern\ttrend\titerations\tranges\t"
		   "page_size\tbuf_offset\thotspot\texpect_total\tbacking\n");
	for (i = 0; i < sc->nvfio && !opt.skip_vfio; i++) {
		const struct vfio_spec *s = &sc->vfio[i];
		size_t len = 0;

		for (j = 0; j < s->nstreams; j++) {
			len += snprintf(pat + len, sizeof(pat) - len, "%s", j ? "+" : "");
			format_stream(pat + len, sizeof(pat) - len, &s->streams[j]);
			len = strlen(pat);
		}
		fprintf(f, "%s\tvfio\t%d\t%s\t%s\t%s\t%u\t", s->name, (int)pids[i],
			s->comm, pat, trend_names[s->trend], opt.iterations);
		for (j = 0; j < s->nranges; j++)
			fprintf(f, "%s0x%llx+0x%llx", j ? "," : "",
				(unsigned long long)s->ranges[j].iova,
				(unsigned long long)s->ranges[j].length);
		fprintf(f, "\t%llu\t%u\t%d\t%llu\t-\n",
			(unsigned long long)s->page_size, s->buf_offset, s->hotspot,
			(unsigned long long)expect_total(s->streams, s->nstreams,
							 s->trend, s->page_size));
	}
	for (v = 0; v < niommufd(sc) && !opt.skip_iommufd; v++)
	for (i = 0; i < sc->nhwpt; i++) {
		const struct hwpt_spec *s = &sc->hwpt[i];

		format_stream(pat, sizeof(pat), &s->stream);
		fprintf(f, "%s\tiommufd\t%d\t%s\t%s\t%s\t%u\t0x%llx+0x%llx\t%llu\t%u\t%d\t%llu\t%s\n",
			hwpt_names[v][i][0] ? hwpt_names[v][i] : "?",
			(int)pids[sc->nvfio + v],
			sc->iommufd_comm, pat, trend_names[s->trend],
			opt.iterations, (unsigned long long)MOCK_APERTURE_START,
			(unsigned long long)s->map_len,
			(unsigned long long)s->page_size, s->buf_offset, s->hotspot,
			(unsigned long long)expect_total(&s->stream, 1, s->trend,
							 s->page_size),
			s->huge ? "hugetlb" : "pages");
	}
	return fclose(f) ? -1 : 0;
}

static int write_info(int argc, char **argv)
{
	char path[PATH_MAX];
	struct utsname u;
	const char *series;
	FILE *f;
	int i;

	uname(&u);
	snprintf(path, sizeof(path), "%s/info.txt", opt.out);
	f = fopen(path, "w");
	if (!f) {
		wl_warn("cannot create %s: %s", path, strerror(errno));
		return -1;
	}
	/* the series is the release up to its second dot: 6.1, 6.12, 7.2 */
	series = strchr(u.release, '.');
	series = series ? strpbrk(series + 1, ".-+") : NULL;
	fprintf(f, "scenario=%s\nkernel=%s\nseries=%.*s\nstarted=%lld\nvfio=%d\niommufd=%d\ncommand=",
		opt.sc->name, u.release,
		series ? (int)(series - u.release) : (int)strlen(u.release),
		u.release,
		(long long)time(NULL), opt.sc->nvfio && !opt.skip_vfio,
		opt.sc->nhwpt && !opt.skip_iommufd);
	for (i = 0; i < argc; i++)
		fprintf(f, "%s%s", i ? " " : "", argv[i]);
	fputc('\n', f);
	return fclose(f) ? -1 : 0;
}

static void usage(FILE *f)
{
	size_t i;

	fprintf(f,
		"usage: workload [-s SCENARIO] [-o DIR] [-k ITERATIONS] [-i MS] [-r FILE] [-v]\n"
		"Run migration-like dirty-tracking sessions against the iovatop_test\n"
		"vfio driver and the iommufd mock domain, saving the ground truth.\n\n"
		"  -s, --scenario NAME   what to run (default vfio-multi)\n"
		"  -o, --out DIR         write the ground truth to DIR (docs/testing.md)\n"
		"  -k, --iterations N    pre-copy iterations; 0 runs until SIGINT/SIGTERM\n"
		"  -i, --interval MS     pause between iterations (default 0)\n"
		"  -r, --ready FILE      create FILE once every session has started\n"
		"      --no-iommufd      skip the iommufd sessions (kernels before 6.7)\n"
		"      --no-vfio         skip the vfio sessions\n"
		"  -l, --list            list the scenarios\n"
		"  -v, --verbose         one line per report on stderr\n\n"
		"scenarios:\n");
	for (i = 0; i < sizeof(scenarios) / sizeof(scenarios[0]); i++)
		fprintf(f, "  %-14s %s\n", scenarios[i].name, scenarios[i].summary);
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "scenario", required_argument, NULL, 's' },
		{ "out", required_argument, NULL, 'o' },
		{ "iterations", required_argument, NULL, 'k' },
		{ "interval", required_argument, NULL, 'i' },
		{ "ready", required_argument, NULL, 'r' },
		{ "no-iommufd", no_argument, NULL, 'I' },
		{ "no-vfio", no_argument, NULL, 'V' },
		{ "list", no_argument, NULL, 'l' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *scname = "vfio-multi";
	struct sigaction sa;
	bool forwarded = false;
	pid_t pids[9];
	unsigned int i, n = 0;
	char path[PATH_MAX];
	int c, status, rc = 0;
	char *end;
	size_t k;

	while ((c = getopt_long(argc, argv, "s:o:k:i:r:lvh", longopts, NULL)) != -1) {
		switch (c) {
		case 's':
			scname = optarg;
			break;
		case 'o':
			opt.out = optarg;
			break;
		case 'k':
			errno = 0;
			opt.iterations = strtoul(optarg, &end, 10);
			if (errno || *end || opt.iterations > 100000) {
				wl_warn("bad iteration count '%s'; give 0 to 100000", optarg);
				return 2;
			}
			opt.iterations_set = true;
			break;
		case 'i':
			errno = 0;
			opt.interval_ms = strtoul(optarg, &end, 10);
			if (errno || *end || opt.interval_ms > 600000) {
				wl_warn("bad interval '%s'; give milliseconds, 0 to 600000",
				      optarg);
				return 2;
			}
			break;
		case 'r':
			opt.ready = optarg;
			break;
		case 'I':
			opt.skip_iommufd = true;
			break;
		case 'V':
			opt.skip_vfio = true;
			break;
		case 'l':
			for (k = 0; k < sizeof(scenarios) / sizeof(scenarios[0]); k++)
				printf("%s\n", scenarios[k].name);
			return 0;
		case 'v':
			opt.verbose = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc) {
		wl_warn("unexpected argument '%s'; see workload --help", argv[optind]);
		return 2;
	}
	for (k = 0; k < sizeof(scenarios) / sizeof(scenarios[0]); k++)
		if (!strcmp(scenarios[k].name, scname))
			opt.sc = &scenarios[k];
	if (!opt.sc) {
		wl_warn("no scenario '%s'; 'workload --list' shows them", scname);
		return 2;
	}
	if (!opt.iterations_set)
		opt.iterations = opt.sc->iterations;
	if (opt.out) {
		static const char *const sub[] = { "", "/bitmaps", "/sets" };

		for (k = 0; k < 3; k++) {
			snprintf(path, sizeof(path), "%s%s", opt.out, sub[k]);
			if (mkdir_p(path)) {
				wl_warn("cannot create %s: %s", path, strerror(errno));
				return 1;
			}
		}
		if (write_info(argc, argv))
			return 1;
	}
	shared_seq = mmap(NULL, sizeof(*shared_seq), PROT_READ | PROT_WRITE,
			  MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (shared_seq == MAP_FAILED) {
		wl_warn("mmap failed: %s", strerror(errno));
		return 1;
	}
	/* No SA_RESTART: waitpid must return to pass a stop on. */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);

	if (opt.sc->nvfio && !opt.skip_vfio &&
	    access(DEBUGFS_DIR "/devices", R_OK)) {
		wl_warn("cannot read %s: %s; mount debugfs and load the test driver "
			"first (insmod iovatop_test.ko, see docs/testing.md)",
			DEBUGFS_DIR "/devices", strerror(errno));
		return 1;
	}
	memset(pids, 0, sizeof(pids));
	for (i = 0; i < opt.sc->nvfio && !opt.skip_vfio; i++, n++)
		if (start_session(&pids[i], opt.sc->vfio[i].comm, run_vfio,
				  &opt.sc->vfio[i], i))
			rc = 1;
	for (i = 0; i < niommufd(opt.sc) && !opt.skip_iommufd; i++, n++)
		if (start_session(&pids[opt.sc->nvfio + i], opt.sc->iommufd_comm,
				  run_iommufd, opt.sc, i))
			rc = 1;
	if (!n) {
		wl_warn("scenario %s has nothing left to run", opt.sc->name);
		return 2;
	}
	if (opt.ready) {
		FILE *f = fopen(opt.ready, "w");

		if (f)
			fclose(f);
	}
	for (i = 0; i < sizeof(pids) / sizeof(pids[0]); i++) {
		if (!pids[i])
			continue;
		while (waitpid(pids[i], &status, 0) < 0) {
			if (errno != EINTR) {
				rc = 1;
				break;
			}
			/* pass the stop on to every session, once */
			if (stopping && !forwarded) {
				for (k = 0; k < sizeof(pids) / sizeof(pids[0]); k++)
					if (pids[k])
						kill(pids[k], SIGTERM);
				forwarded = true;
			}
		}
		if (!WIFEXITED(status) || WEXITSTATUS(status)) {
			wl_warn("session %u (pid %d) failed", i, (int)pids[i]);
			rc = 1;
		}
	}
	if (opt.out) {
		if (merge_truth() || write_devices(opt.sc, pids)) {
			wl_warn("cannot write the ground truth to %s", opt.out);
			rc = 1;
		}
	}
	return rc;
}
