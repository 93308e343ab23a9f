// SPDX-License-Identifier: GPL-2.0
/*
 * test_trace_file.c - the trace file: round trips, a file cut at every
 * byte, every byte flipped, wrong magic and version, file mode, and the
 * version 1 traces recorded in the test VM.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>
#include <zstd.h>

#include "qmp_record.h"
#include "trace_file.h"
#include "test_util.h"

static char tmpdir[] = "/tmp/iovatop-test-trace-XXXXXX";

static int setup(void **state)
{
	(void)state;
	return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf %s", tmpdir);
	return system(cmd);
}

static const char *tpath(const char *name)
{
	static char p[256];

	snprintf(p, sizeof(p), "%s/%s", tmpdir, name);
	return p;
}

/* A mix of every record type, deterministic. */
static size_t make_record(unsigned int i, unsigned char *buf)
{
	uint64_t ts = 1000 + i * 10;

	memset(buf, 0, IOVA_REC_MAX_SIZE);
	switch (i % 8) {
	case 0: {
		struct iova_rec_alloc *a = (void *)buf;

		a->hdr = (struct iova_rec_hdr){ IOVA_REC_ALLOC, sizeof(*a), i % 2, ts };
		a->bitmap_id = i;
		a->iova = 0x100000;
		a->length = 1 << 24;
		a->page_size = 4096;
		memcpy(a->task.comm, "qemu", 4);
		return sizeof(*a);
	}
	case 1: {
		struct iova_rec_report_begin *b = (void *)buf;

		b->hdr = (struct iova_rec_hdr){ IOVA_REC_REPORT_BEGIN, sizeof(*b), 0, ts };
		b->bitmap_id = i - 1;
		b->report_id = i;
		b->path = IOVA_PATH_VFIO;
		snprintf(b->devname, sizeof(b->devname), "0000:00:%02x.0", i % 32);
		return sizeof(*b);
	}
	case 2:
	case 3: {
		struct iova_rec_range *r = (void *)buf;

		r->hdr = (struct iova_rec_hdr){ IOVA_REC_RANGE, sizeof(*r), 1, ts };
		r->bitmap_id = i;
		r->iova = 0x100000 + (uint64_t)i * 4096;
		r->length = 4096 * (i % 5 + 1);
		r->ncalls = i % 3 + 1;
		return sizeof(*r);
	}
	case 4: {
		struct iova_rec_lost *l = (void *)buf;

		l->hdr = (struct iova_rec_hdr){ IOVA_REC_LOST, sizeof(*l), 0, ts };
		l->count = i;
		l->where = IOVA_LOST_RINGBUF + i % 3;
		return sizeof(*l);
	}
	case 7: {
		/* QEMU's sample (record --qmp), status NUL-padded */
		struct iova_rec_qmp *q = (void *)buf;

		q->hdr = (struct iova_rec_hdr){ IOVA_REC_QMP, sizeof(*q), 0, ts };
		q->pid = 4242;
		q->flags = IOVA_QMP_HAVE_RAM | IOVA_QMP_HAVE_PARAMS;
		memcpy(q->status, "active", 6);
		q->seq = i / 8 + 1;
		q->ram_transferred = (uint64_t)i << 20;
		q->ram_remaining = 1u << 21;
		q->dirty_sync_count = i / 80 + 1;
		q->bits_per_s = 33554432;
		q->downtime_limit_ms = 300;
		q->page_size = 4096;
		return sizeof(*q);
	}
	case 5: {
		struct iova_rec_report_end *e = (void *)buf;

		e->hdr = (struct iova_rec_hdr){ IOVA_REC_REPORT_END, sizeof(*e), 0, ts };
		e->report_id = i;
		return sizeof(*e);
	}
	default: {
		struct iova_rec_free *f = (void *)buf;

		f->hdr = (struct iova_rec_hdr){ IOVA_REC_FREE, sizeof(*f), 0, ts };
		f->bitmap_id = i;
		return sizeof(*f);
	}
	}
}

static void write_trace(const char *path, unsigned int nrec, uint32_t codec,
			uint32_t block, bool close_cleanly)
{
	struct trace_writer_opts o = { .codec = codec, .block_bytes = block,
				       .zframe_bytes = block ? 4 * block : 0 };
	struct trace_meta meta = { .layout = IOVA_LAYOUT_V6_11, .rule = 0,
				   .start_realtime_ns = 1700000000000000000ull,
				   .start_mono_ns = 900 };
	unsigned char rec[IOVA_REC_MAX_SIZE];
	struct trace_writer *w;
	char err[256];
	unsigned int i;

	strcpy(meta.kernel_release, "6.12.0-test");
	strcpy(meta.probe_mode, "fentry");
	strcpy(meta.hostname, "testhost");
	w = trace_writer_open(path, &meta, &o, err, sizeof(err));
	assert_non_null(w);
	for (i = 0; i < nrec; i++) {
		make_record(i, rec);
		assert_int_equal(trace_writer_add(w, (void *)rec), 0);
	}
	if (close_cleanly)
		assert_int_equal(trace_writer_close(w, err, sizeof(err)), 0);
	else {
		assert_int_equal(trace_writer_flush(w), 0);
		trace_writer_abandon(w);
	}
}

static unsigned char *slurp(const char *path, size_t *len)
{
	unsigned char *buf = (unsigned char *)tu_slurp(path, len);

	if (!buf)
		fail_msg("cannot read %s", path);
	return buf;
}

/* Read everything; check each record against make_record(). */
static uint64_t read_check(struct trace_reader *r)
{
	unsigned char want[IOVA_REC_MAX_SIZE];
	const struct iova_rec_hdr *h;
	uint64_t n = 0;
	size_t sz;
	int ret;

	while ((ret = trace_next(r, &h)) == 1) {
		sz = make_record((unsigned int)n, want);
		assert_int_equal(h->size, sz);
		assert_memory_equal(h, want, sz);
		n++;
	}
	assert_int_equal(ret, 0);
	return n;
}

static void roundtrip(uint32_t codec)
{
	const struct trace_meta *m;
	struct trace_reader *r;
	char err[256];

	write_trace(tpath("rt.trace"), 5000, codec, 0, true);
	r = trace_open(tpath("rt.trace"), err, sizeof(err));
	assert_non_null(r);
	m = trace_meta(r);
	assert_int_equal(m->version, TRACE_VERSION);
	assert_int_equal(m->abi_version, IOVA_TRACE_ABI_VERSION);
	assert_int_equal(m->layout, IOVA_LAYOUT_V6_11);
	assert_int_equal(m->codec, codec);
	assert_string_equal(m->kernel_release, "6.12.0-test");
	assert_string_equal(m->probe_mode, "fentry");
	assert_string_equal(m->hostname, "testhost");
	assert_true(m->start_realtime_ns == 1700000000000000000ull);
	assert_int_equal(read_check(r), 5000);
	assert_int_equal(trace_state(r), TRACE_OK);
	assert_string_equal(trace_status_msg(r), "");
	assert_non_null(trace_end_totals(r));
	assert_int_equal(trace_end_totals(r)->records, 5000);
	/* lost counts are stored: i % 8 == 4 records carry count i */
	{
		uint64_t lost = 0;

		for (unsigned int i = 4; i < 5000; i += 8)
			lost += i;
		assert_true(trace_end_totals(r)->lost == lost);
		assert_true(trace_read_totals(r)->lost == lost);
	}
	trace_close(r);
}

static void test_roundtrip_raw(void **state)
{
	(void)state;
	roundtrip(TRACE_CODEC_NONE);
}

static void test_roundtrip_zstd(void **state)
{
	(void)state;
	roundtrip(TRACE_CODEC_ZSTD);
}

static void test_empty_trace(void **state)
{
	struct trace_reader *r;
	const struct iova_rec_hdr *h;
	char err[256];

	(void)state;
	write_trace(tpath("empty.trace"), 0, TRACE_CODEC_ZSTD, 0, true);
	r = trace_open(tpath("empty.trace"), err, sizeof(err));
	assert_non_null(r);
	assert_int_equal(trace_next(r, &h), 0);
	assert_int_equal(trace_state(r), TRACE_OK);
	trace_close(r);
}

/* Where each block ends and how many records precede that end. */
struct blocks {
	size_t n;
	uint64_t end_off[4096];
	uint64_t end_records[4096];
};

static void learn_blocks(const unsigned char *buf, size_t len, uint64_t nrec,
			 struct blocks *b)
{
	const struct iova_rec_hdr *h;
	struct trace_reader *r;
	uint64_t n = 0, last_off;
	char err[256];

	r = trace_open_mem(buf, len, err, sizeof(err));
	assert_non_null(r);
	b->n = 0;
	last_off = trace_offset(r);
	while (trace_next(r, &h) == 1) {
		if (trace_offset(r) != last_off) {
			/* a new block was loaded for this record */
			assert_true(b->n < 4096);
			if (b->n)
				b->end_records[b->n - 1] = n;
			b->end_off[b->n++] = trace_offset(r);
			last_off = trace_offset(r);
		}
		n++;
	}
	if (b->n)
		b->end_records[b->n - 1] = n;
	assert_int_equal(n, nrec);
	assert_int_equal(trace_state(r), TRACE_OK);
	assert_int_equal(trace_read_totals(r)->chunks, b->n);
	trace_close(r);
}

/*
 * Cut the file at every byte: each prefix reads exactly the records of
 * the blocks it holds whole, says it was cut short, and never loses more
 * than the records of the one block the cut falls into.
 */
static void cut_everywhere(uint32_t codec, unsigned int nrec, uint32_t block)
{
	static struct blocks b;
	size_t len, cut, i, per_block = 0;
	struct trace_reader *r;
	unsigned char *buf;
	char err[256];

	write_trace(tpath("cut.trace"), nrec, codec, block, true);
	buf = slurp(tpath("cut.trace"), &len);
	learn_blocks(buf, len, nrec, &b);
	assert_true(b.n >= 5);
	for (i = 0; i < b.n; i++) {
		size_t k = b.end_records[i] - (i ? b.end_records[i - 1] : 0);

		if (k > per_block)
			per_block = k;
	}
	/* a block holds at most block bytes, and at least one record */
	assert_true(per_block <= (block < 24 ? 1 : block / 24));

	for (cut = 0; cut < len; cut++) {
		uint64_t want = 0, got;

		r = trace_open_mem(buf, cut, err, sizeof(err));
		if (cut < TRACE_HEADER_SIZE) {
			assert_null(r);
			assert_non_null(strstr(err, cut ? "cut short inside its header" :
							   "is empty"));
			continue;
		}
		assert_non_null(r);
		for (i = 0; i < b.n; i++)
			if (b.end_off[i] <= cut)
				want = b.end_records[i];
		got = read_check(r);
		if (got != want)
			fail_msg("cut at %zu: read %llu records, want %llu", cut,
				 (unsigned long long)got, (unsigned long long)want);
		assert_int_equal(trace_state(r), TRACE_TRUNCATED);
		assert_non_null(strstr(trace_status_msg(r), "cut short"));
		assert_null(trace_end_totals(r));
		/* a cut inside a payload counts that block's records as lost */
		{
			uint64_t lost = 0, start = TRACE_HEADER_SIZE;

			for (i = 0; i < b.n; i++) {
				if (cut >= start + TRACE_CHUNK_HDR_SIZE &&
				    cut < b.end_off[i])
					lost = b.end_records[i] -
					       (i ? b.end_records[i - 1] : 0);
				start = b.end_off[i];
			}
			if (trace_cut_lost(r) != lost)
				fail_msg("cut at %zu: %u records said lost, want %llu",
					 cut, trace_cut_lost(r),
					 (unsigned long long)lost);
			if (lost && !strstr(trace_status_msg(r), "of that block"))
				fail_msg("cut at %zu: '%s' does not say what was lost",
					 cut, trace_status_msg(r));
		}
		trace_close(r);
	}
	free(buf);
}

static void test_cut_every_byte_raw(void **state)
{
	(void)state;
	cut_everywhere(TRACE_CODEC_NONE, 60, 512);
}

static void test_cut_every_byte_zstd(void **state)
{
	(void)state;
	cut_everywhere(TRACE_CODEC_ZSTD, 60, 512);
}

/*
 * One record per block (record --block-bytes 1): a cut loses no complete
 * record. Uncompressed, a record's bytes end where its block does, so the
 * expectation is computed from the record sizes alone, not learned.
 */
static void test_cut_every_byte_per_record(void **state)
{
	unsigned char rec[IOVA_REC_MAX_SIZE];
	size_t len, cut, i, nrec = 40;
	uint64_t end[40], off = TRACE_HEADER_SIZE;
	struct trace_reader *r;
	unsigned char *buf;
	char err[256];

	(void)state;
	for (i = 0; i < nrec; i++) {
		off += TRACE_CHUNK_HDR_SIZE + make_record((unsigned int)i, rec);
		end[i] = off;
	}
	write_trace(tpath("rec.trace"), nrec, TRACE_CODEC_NONE, 1, true);
	buf = slurp(tpath("rec.trace"), &len);
	assert_int_equal(len, off + TRACE_CHUNK_HDR_SIZE + 96);
	for (cut = TRACE_HEADER_SIZE; cut < len; cut++) {
		uint64_t want = 0;

		while (want < nrec && end[want] <= cut)
			want++;
		r = trace_open_mem(buf, cut, err, sizeof(err));
		assert_non_null(r);
		if (read_check(r) != want)
			fail_msg("cut at %zu: want %llu records", cut,
				 (unsigned long long)want);
		assert_int_equal(trace_state(r), TRACE_TRUNCATED);
		trace_close(r);
	}
	free(buf);

	/* compressed, one flush per record: still one block per record */
	cut_everywhere(TRACE_CODEC_ZSTD, 40, 1);
}

/*
 * The default blocks on a longer trace: the zstd stream runs across
 * blocks, several zstd frames follow each other, and a cut anywhere loses
 * at most one block of about 4 KiB of records.
 */
static void test_cut_default_blocks(void **state)
{
	static struct blocks b;
	unsigned char *buf;
	size_t len, step, cut, i;
	char err[256];

	(void)state;
	write_trace(tpath("long.trace"), 20000, TRACE_CODEC_ZSTD, 0, true);
	buf = slurp(tpath("long.trace"), &len);
	learn_blocks(buf, len, 20000, &b);
	/* 20000 records of 24..128 bytes: about 300 blocks, 20 zstd frames */
	assert_true(b.n > 200);
	for (i = 1; i < b.n; i++)
		assert_true(b.end_records[i] - b.end_records[i - 1] <=
			    TRACE_BLOCK_DEFAULT / 24);
	step = len / 1999;
	for (cut = TRACE_HEADER_SIZE; cut < len; cut += step) {
		struct trace_reader *r = trace_open_mem(buf, cut, err, sizeof(err));
		uint64_t want = 0;

		assert_non_null(r);
		for (i = 0; i < b.n && b.end_off[i] <= cut; i++)
			want = b.end_records[i];
		assert_int_equal(read_check(r), want);
		assert_int_equal(trace_state(r), TRACE_TRUNCATED);
		trace_close(r);
	}
	free(buf);
}

/* Abandoned (the recorder killed) after a flush: whole chunks, no end. */
static void test_killed_recorder(void **state)
{
	struct trace_reader *r;
	char err[256];

	(void)state;
	write_trace(tpath("killed.trace"), 1000, TRACE_CODEC_ZSTD, 4096, false);
	r = trace_open(tpath("killed.trace"), err, sizeof(err));
	assert_non_null(r);
	assert_int_equal(read_check(r), 1000);
	assert_int_equal(trace_state(r), TRACE_TRUNCATED);
	assert_non_null(strstr(trace_status_msg(r), "no end marker"));
	trace_close(r);
}

/* Flip each byte in turn: the header is refused, anything else is corrupt. */
static void flip_everywhere(uint32_t codec)
{
	size_t len, i;
	unsigned char *buf;
	struct trace_reader *r;
	char err[256];

	write_trace(tpath("flip.trace"), 30, codec, 512, true);
	buf = slurp(tpath("flip.trace"), &len);
	for (i = 0; i < len; i++) {
		buf[i] ^= 0x5a;
		r = trace_open_mem(buf, len, err, sizeof(err));
		if (i < TRACE_HEADER_SIZE) {
			/* the magic, the version or the checksum speaks */
			assert_null(r);
		} else {
			const struct iova_rec_hdr *h;

			assert_non_null(r);
			while (trace_next(r, &h) == 1)
				;
			if (trace_state(r) != TRACE_CORRUPT)
				fail_msg("flip at %zu went unnoticed (state %d)", i,
					 trace_state(r));
			assert_non_null(strstr(trace_status_msg(r), "corrupted"));
			trace_close(r);
		}
		buf[i] ^= 0x5a;
	}
	free(buf);
}

static void test_flip_every_byte_raw(void **state)
{
	(void)state;
	flip_everywhere(TRACE_CODEC_NONE);
}

static void test_flip_every_byte_zstd(void **state)
{
	(void)state;
	flip_everywhere(TRACE_CODEC_ZSTD);
}

static void test_trailing_garbage(void **state)
{
	size_t len;
	unsigned char *buf;
	struct trace_reader *r;
	const struct iova_rec_hdr *h;
	char err[256];

	(void)state;
	write_trace(tpath("tail.trace"), 10, TRACE_CODEC_NONE, 0, true);
	buf = slurp(tpath("tail.trace"), &len);
	buf = realloc(buf, len + 1);
	buf[len] = 0;
	r = trace_open_mem(buf, len + 1, err, sizeof(err));
	assert_non_null(r);
	while (trace_next(r, &h) == 1)
		;
	assert_int_equal(trace_state(r), TRACE_CORRUPT);
	assert_non_null(strstr(trace_status_msg(r), "after its end marker"));
	trace_close(r);
	free(buf);
}

static void test_bad_headers(void **state)
{
	unsigned char buf[TRACE_HEADER_SIZE + 64];
	unsigned char *file;
	size_t len;
	char err[256];

	(void)state;
	assert_null(trace_open_mem("", 0, err, sizeof(err)));
	assert_non_null(strstr(err, "is empty"));

	memset(buf, 'x', sizeof(buf));
	assert_null(trace_open_mem(buf, sizeof(buf), err, sizeof(err)));
	assert_non_null(strstr(err, "not an iovatop trace"));

	/* an ELF binary, say */
	assert_null(trace_open_mem("\177ELF\2\1\1", 7, err, sizeof(err)));
	assert_non_null(strstr(err, "not an iovatop trace"));

	write_trace(tpath("ver.trace"), 3, TRACE_CODEC_NONE, 0, true);
	file = slurp(tpath("ver.trace"), &len);
	file[8] = TRACE_VERSION + 1;	/* a format from the future */
	assert_null(trace_open_mem(file, len, err, sizeof(err)));
	assert_non_null(strstr(err, "version 4, this iovatop reads versions 1 to 3"));
	file[8] = 0;
	assert_null(trace_open_mem(file, len, err, sizeof(err)));
	assert_non_null(strstr(err, "version 0"));
	file[8] = TRACE_VERSION;
	file[16] = 9;	/* record ABI 9, checksum fixed up */
	{
		uint32_t c = trace_crc32c(file, 252);

		memcpy(file + 252, &c, 4);
	}
	assert_null(trace_open_mem(file, len, err, sizeof(err)));
	assert_non_null(strstr(err, "ABI version 9"));
	file[16] = IOVA_TRACE_ABI_VERSION;
	file[24] = 4;	/* a decode rule from the future, checksum fixed up */
	{
		uint32_t c = trace_crc32c(file, 252);

		memcpy(file + 252, &c, 4);
	}
	assert_null(trace_open_mem(file, len, err, sizeof(err)));
	assert_non_null(strstr(err, "decode rule 4"));
	free(file);

	assert_null(trace_open(tpath("missing.trace"), err, sizeof(err)));
	assert_non_null(strstr(err, "No such file"));
	assert_null(trace_open(tmpdir, err, sizeof(err)));
	assert_non_null(strstr(err, "directory"));
}

/*
 * Format 3 added QEMU's samples (IOVA_REC_QMP); no writer of an older
 * version ever wrote one, so a version 2 header over them is a damaged
 * file: corrupt, not read as version 2 with unknown records.
 */
static void test_qmp_needs_version3(void **state)
{
	const struct iova_rec_hdr *h;
	struct trace_reader *r;
	unsigned char *file;
	size_t len;
	char err[256];
	uint32_t c;
	int n = 0;

	(void)state;
	/* records 0..7: the QMP sample is the eighth, in the first block */
	write_trace(tpath("v2qmp.trace"), 8, TRACE_CODEC_NONE, 0, true);
	file = slurp(tpath("v2qmp.trace"), &len);
	r = trace_open_mem(file, len, err, sizeof(err));
	assert_non_null(r);
	assert_int_equal(trace_meta(r)->version, 3);
	assert_int_equal(read_check(r), 8);
	assert_int_equal(trace_state(r), TRACE_OK);
	trace_close(r);

	file[8] = 2;
	c = trace_crc32c(file, 252);
	memcpy(file + 252, &c, 4);
	r = trace_open_mem(file, len, err, sizeof(err));
	assert_non_null(r);
	while (trace_next(r, &h) == 1)
		n++;
	assert_int_equal(n, 0);
	assert_int_equal(trace_state(r), TRACE_CORRUPT);
	assert_non_null(strstr(trace_status_msg(r), "record 7 of block 0"));
	trace_close(r);
	free(file);
}

/* A version 2 trace recorded in the test VM still reads whole. */
static void test_version2_trace(void **state)
{
	char dir[512], path[700], err[256];
	const struct iova_rec_hdr *h;
	struct trace_reader *r;
	uint64_t n = 0, qmp = 0;

	(void)state;
	snprintf(dir, sizeof(dir), "%s", __FILE__);
	*strrchr(dir, '/') = '\0';
	snprintf(path, sizeof(path), "%s/data/vm-6.12-qemu-late.trace", dir);
	r = trace_open(path, err, sizeof(err));
	if (!r)
		fail_msg("%s", err);
	assert_int_equal(trace_meta(r)->version, 2);
	while (trace_next(r, &h) == 1) {
		n++;
		qmp += h->type == IOVA_REC_QMP;
	}
	assert_int_equal(trace_state(r), TRACE_OK);
	assert_int_equal(n, 996);
	assert_int_equal(qmp, 0);
	assert_true(trace_end_totals(r)->records == n);
	trace_close(r);
}

/* A version 3 trace recorded in the test VM with --qmp reads whole. */
static void test_version3_qmp_trace(void **state)
{
	char dir[512], path[700], err[256];
	const struct iova_rec_hdr *h;
	struct trace_reader *r;
	uint64_t n = 0, qmp = 0;

	(void)state;
	snprintf(dir, sizeof(dir), "%s", __FILE__);
	*strrchr(dir, '/') = '\0';
	snprintf(path, sizeof(path), "%s/data/vm-6.12-qemu-stuck-qmp.trace", dir);
	r = trace_open(path, err, sizeof(err));
	if (!r)
		fail_msg("%s", err);
	assert_int_equal(trace_meta(r)->version, 3);
	while (trace_next(r, &h) == 1) {
		n++;
		if (h->type == IOVA_REC_QMP) {
			const struct iova_rec_qmp *q = (const void *)h;

			qmp++;
			assert_int_equal(q->pid, 383);
			assert_int_equal(q->seq, qmp);	/* none missed */
		}
	}
	assert_int_equal(trace_state(r), TRACE_OK);
	assert_int_equal(n, 2979);
	assert_int_equal(qmp, 429);
	trace_close(r);
}

/*
 * A sample as a record and back; a status that fills its field with no
 * NUL (a hostile trace) comes back terminated; samples found by time.
 */
static void test_qmp_record(void **state)
{
	struct qmp_migrate m = { .ts_ns = 5000, .pid = 77, .seq = 3,
				 .status = "active", .have_ram = true,
				 .have_params = true, .ram_transferred = 1234567,
				 .ram_remaining = 65536, .dirty_pages_rate = 321,
				 .dirty_sync_count = 4, .page_size = 4096,
				 .mbps = 33.554432, .downtime_limit_ms = 300,
				 .max_bandwidth = 4194304,
				 .avail_switchover_bandwidth = 0,
				 .expected_downtime_ms = 1ull << 40,
				 .downtime_ms = 0 };
	struct qmp_samples smp = { 0 };
	struct iova_rec_qmp r;
	struct qmp_migrate b;
	unsigned int i;
	uint32_t pids[4];

	(void)state;
	qmp_record_fill(&r, &m);
	assert_int_equal(r.hdr.type, IOVA_REC_QMP);
	assert_int_equal(r.hdr.size, sizeof(r));
	assert_int_equal(r.expected_downtime_ms, UINT32_MAX);	/* saturates */
	qmp_record_read(&b, &r);
	assert_string_equal(b.status, "active");
	assert_true(b.mbps == m.mbps);
	assert_true(b.ram_transferred == m.ram_transferred);
	assert_true(b.dirty_sync_count == 4 && b.page_size == 4096 &&
		    b.have_ram && b.have_params && b.pid == 77 && b.seq == 3);
	memset(r.status, 'x', sizeof(r.status));
	qmp_record_read(&b, &r);
	assert_int_equal(strlen(b.status), QMP_STATUS_LEN - 1);

	/* two QEMUs, written a little out of order */
	for (i = 0; i < 6; i++) {
		m.ts_ns = 1000 * (i ^ 1);
		m.pid = 10 + i % 2;
		m.seq = i;
		assert_int_equal(qmp_samples_add(&smp, &m), 0);
	}
	for (i = 1; i < smp.n; i++)
		assert_true(smp.v[i - 1].ts_ns <= smp.v[i].ts_ns);
	assert_int_equal(qmp_samples_pids(&smp, pids, 4), 2);
	assert_null(qmp_samples_at(&smp, 10, 999));
	assert_int_equal(qmp_samples_at(&smp, 10, 1500)->ts_ns, 1000);
	assert_int_equal(qmp_samples_at(&smp, 11, 1500)->ts_ns, 0);
	assert_int_equal(qmp_samples_at(&smp, 11, 99999)->ts_ns, 4000);
	assert_int_equal(qmp_samples_last(&smp, 10)->ts_ns, 5000);
	assert_int_equal(qmp_samples_first(&smp, 10)->ts_ns, 1000);
	assert_null(qmp_samples_at(&smp, 12, 99999));
	qmp_samples_free(&smp);
}

/*
 * The header's contents field: read back as written, bits it does not
 * know dropped, 0 in a trace from before it (which may then hold QEMU's
 * samples); a writer that said "no QMP records" refuses one and writes
 * the rest.
 */
static void test_contents(void **state)
{
	static const uint32_t said[] = { 0, TRACE_CONTENTS_DECLARED,
					 TRACE_CONTENTS_DECLARED | TRACE_CONTENTS_QMP,
					 TRACE_CONTENTS_QMP | 0x80 };
	static const uint32_t got[] = { 0, TRACE_CONTENTS_DECLARED,
					TRACE_CONTENTS_DECLARED | TRACE_CONTENTS_QMP,
					TRACE_CONTENTS_QMP };
	static const bool qmp_ok[] = { true, false, true, true };
	struct qmp_migrate m = { .ts_ns = 5000, .pid = 77, .status = "active" };
	struct trace_meta meta = { .layout = IOVA_LAYOUT_V6_11 };
	struct iova_rec_qmp q;
	unsigned char rec[IOVA_REC_MAX_SIZE];
	struct trace_reader *r;
	struct trace_writer *w;
	char err[256], path[700];
	unsigned int i;

	(void)state;
	qmp_record_fill(&q, &m);
	make_record(0, rec);
	for (i = 0; i < sizeof(said) / sizeof(said[0]); i++) {
		snprintf(path, sizeof(path), "%s", tpath("contents.trace"));
		unlink(path);
		meta.contents = said[i];
		w = trace_writer_open(path, &meta, NULL, err, sizeof(err));
		assert_non_null(w);
		assert_int_equal(trace_writer_add(w, (void *)rec), 0);
		assert_int_equal(trace_writer_add(w, &q.hdr), qmp_ok[i] ? 0 : -EINVAL);
		if (!qmp_ok[i])
			assert_non_null(strstr(trace_writer_error(w), "says it holds none"));
		/* refused, and nothing else spoilt: the next record goes in */
		assert_int_equal(trace_writer_add(w, (void *)rec), 0);
		assert_int_equal(trace_writer_totals(w)->records, qmp_ok[i] ? 3 : 2);
		assert_int_equal(trace_writer_close(w, err, sizeof(err)), 0);
		r = trace_open(path, err, sizeof(err));
		assert_non_null(r);
		assert_int_equal(trace_meta(r)->contents, got[i]);
		assert_int_equal(trace_may_hold_qmp(trace_meta(r)), qmp_ok[i]);
		trace_close(r);
	}
}

static void test_mode_0600(void **state)
{
	struct trace_meta meta = { 0 };
	struct trace_writer *w;
	struct stat st;
	char err[256];
	mode_t old;
	int fd;

	(void)state;
	/* a permissive umask and an existing world-readable file */
	fd = open(tpath("mode.trace"), O_CREAT | O_WRONLY, 0644);
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(chmod(tpath("mode.trace"), 0644), 0);
	old = umask(0);
	w = trace_writer_open(tpath("mode.trace"), &meta, NULL, err, sizeof(err));
	umask(old);
	assert_non_null(w);
	assert_int_equal(stat(tpath("mode.trace"), &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	assert_int_equal(trace_writer_close(w, err, sizeof(err)), 0);

	/* a symlink planted at the path is not followed */
	{
		char target[256];

		snprintf(target, sizeof(target), "%s", tpath("mode.trace"));
		assert_int_equal(symlink(target, tpath("link.trace")), 0);
	}
	assert_null(trace_writer_open(tpath("link.trace"), &meta, NULL, err,
				      sizeof(err)));
	assert_non_null(strstr(err, "cannot create"));
}

/* CRC-32C bit by bit (reflected, polynomial 0x82f63b78): nothing clever. */
static uint32_t crc32c_bitwise(const unsigned char *p, size_t n)
{
	uint32_t c = ~0u;
	int k;

	while (n--) {
		c ^= *p++;
		for (k = 0; k < 8; k++)
			c = (c >> 1) ^ (0x82f63b78u & (0u - (c & 1)));
	}
	return ~c;
}

/* Known answers: the format must stay readable by other CRC-32C code. */
static void test_crc32c(void **state)
{
	unsigned char zeros[32] = { 0 }, big[1000];
	size_t i, n;

	(void)state;
	assert_int_equal(trace_crc32c("123456789", 9), 0xe3069283);
	assert_int_equal(trace_crc32c(zeros, 32), 0x8a9136aa);
	assert_int_equal(trace_crc32c("", 0), 0);
	assert_int_equal(crc32c_bitwise((const unsigned char *)"123456789", 9),
			 0xe3069283);
	/* every unaligned start and odd tail agrees with the bitwise CRC */
	for (i = 0; i < sizeof(big); i++)
		big[i] = (unsigned char)(i * 7 + 3);
	for (i = 0; i < 16; i++)
		for (n = 0; n + i <= sizeof(big); n += n < 80 ? 1 : 37)
			if (trace_crc32c(big + i, n) != crc32c_bitwise(big + i, n))
				fail_msg("crc32c of %zu bytes at +%zu: %#x, bitwise %#x",
					 n, i, trace_crc32c(big + i, n),
					 crc32c_bitwise(big + i, n));
}

static void test_writer_errors(void **state)
{
	struct trace_meta meta = { 0 };
	struct trace_writer *w;
	struct iova_rec_range r = { .hdr = { IOVA_REC_RANGE, 40, 0, 0 } };
	char err[256];

	(void)state;
	/* a device is no place for a trace: refused before a byte is written */
	assert_null(trace_writer_open("/dev/full", &meta, NULL, err, sizeof(err)));
	assert_non_null(strstr(err, "not a regular file"));

	/* a file that cannot grow, like one on a full disk: no header */
	{
		struct rlimit old, none;
		void (*was)(int) = signal(SIGXFSZ, SIG_IGN);

		assert_int_equal(getrlimit(RLIMIT_FSIZE, &old), 0);
		none = old;
		none.rlim_cur = 0;
		assert_int_equal(setrlimit(RLIMIT_FSIZE, &none), 0);
		w = trace_writer_open(tpath("full.trace"), &meta, NULL, err, sizeof(err));
		assert_int_equal(setrlimit(RLIMIT_FSIZE, &old), 0);
		signal(SIGXFSZ, was);
		assert_null(w);
		assert_non_null(strstr(err, "File too large"));
	}

	w = trace_writer_open(tpath("bad.trace"), &meta, NULL, err, sizeof(err));
	assert_non_null(w);
	assert_int_equal(trace_writer_add(w, &r.hdr), -EINVAL);	/* wrong size */
	r.hdr.size = sizeof(r);
	assert_int_equal(trace_writer_add(w, &r.hdr), 0);
	assert_int_equal(trace_writer_totals(w)->records, 1);
	assert_int_equal(trace_writer_close(w, err, sizeof(err)), 0);
}

/* Rewrite the frame of the block at off with another codec, CRC fixed. */
static void set_codec(unsigned char *buf, size_t off, uint16_t codec)
{
	uint32_t c;

	buf[off + 6] = codec & 0xff;
	buf[off + 7] = codec >> 8;
	c = trace_crc32c(buf + off, 28);
	memcpy(buf + off + 28, &c, 4);
}

/* A block that says it continues a zstd frame nobody opened is corrupt. */
static void test_stream_order(void **state)
{
	struct trace_reader *r;
	unsigned char *buf;
	size_t len;
	char err[256];

	(void)state;
	write_trace(tpath("order.trace"), 60, TRACE_CODEC_ZSTD, 512, true);
	buf = slurp(tpath("order.trace"), &len);
	assert_int_equal(buf[TRACE_HEADER_SIZE + 6], TRACE_CODEC_ZSTD_OPEN);
	set_codec(buf, TRACE_HEADER_SIZE, TRACE_CODEC_ZSTD_MORE);
	r = trace_open_mem(buf, len, err, sizeof(err));
	assert_non_null(r);
	assert_int_equal(read_check(r), 0);
	assert_int_equal(trace_state(r), TRACE_CORRUPT);
	assert_non_null(strstr(trace_status_msg(r), "does not decompress"));
	trace_close(r);
	/* version 1 knew no streams: the same codec there is refused */
	set_codec(buf, TRACE_HEADER_SIZE, TRACE_CODEC_ZSTD_OPEN);
	buf[8] = 1;
	{
		uint32_t c = trace_crc32c(buf, 252);

		memcpy(buf + 252, &c, 4);
	}
	r = trace_open_mem(buf, len, err, sizeof(err));
	assert_non_null(r);
	assert_int_equal(read_check(r), 0);
	assert_non_null(strstr(trace_status_msg(r), "impossible frame"));
	trace_close(r);
	free(buf);
}

static int rec_cmp_sink(void *ctx, const struct iova_rec_hdr *h)
{
	struct trace_writer *w = ctx;

	return trace_writer_add(w, h);
}

/*
 * The traces recorded in the test VM (tests/data/) are format version 1:
 * they still read whole, and written again as version 2 they give back the
 * same records byte for byte.
 */
static void test_version1_traces(void **state)
{
	const char *names[] = { "vm-6.12-demo.trace", "vm-6.1-multi.trace" };
	char dir[512], path[700], err[256];
	unsigned int i;

	(void)state;
	snprintf(dir, sizeof(dir), "%s", __FILE__);
	*strrchr(dir, '/') = '\0';
	for (i = 0; i < 2; i++) {
		struct trace_reader *r1, *r2;
		struct trace_writer *w;
		const struct iova_rec_hdr *a, *b;
		struct trace_meta m;
		size_t len1, len2;
		uint64_t n = 0;

		snprintf(path, sizeof(path), "%s/data/%s", dir, names[i]);
		r1 = trace_open(path, err, sizeof(err));
		if (!r1)
			fail_msg("%s", err);
		assert_int_equal(trace_meta(r1)->version, 1);
		m = *trace_meta(r1);
		w = trace_writer_open(tpath("v2.trace"), &m, NULL, err, sizeof(err));
		assert_non_null(w);
		assert_int_equal(trace_read_all(r1, rec_cmp_sink, w), 0);
		assert_int_equal(trace_state(r1), TRACE_OK);
		assert_int_equal(trace_writer_close(w, err, sizeof(err)), 0);
		trace_close(r1);

		r1 = trace_open(path, err, sizeof(err));
		r2 = trace_open(tpath("v2.trace"), err, sizeof(err));
		assert_non_null(r1);
		assert_non_null(r2);
		assert_int_equal(trace_meta(r2)->version, TRACE_VERSION);
		assert_string_equal(trace_meta(r2)->kernel_release,
				    trace_meta(r1)->kernel_release);
		while (trace_next(r1, &a) == 1) {
			assert_int_equal(trace_next(r2, &b), 1);
			assert_int_equal(a->size, b->size);
			assert_memory_equal(a, b, a->size);
			n++;
		}
		assert_int_equal(trace_next(r2, &b), 0);
		assert_int_equal(trace_state(r2), TRACE_OK);
		assert_true(n > 10000);
		assert_true(trace_end_totals(r2)->lost == trace_end_totals(r1)->lost);
		trace_close(r1);
		trace_close(r2);

		/* what the smaller blocks cost in size, for the record */
		free(slurp(path, &len1));
		free(slurp(tpath("v2.trace"), &len2));
		print_message("%s: %llu records, version 1 %zu bytes, version 2 %zu bytes (%.2fx)\n",
			      names[i], (unsigned long long)n, len1, len2,
			      (double)len2 / (double)len1);
	}
}

/*
 * Their records are ABI version 1, read as this ABI: ALLOC with the 4 KiB
 * kernel pages a version 1 tracer assumed, and no callback address left
 * in REPORT_BEGIN or ANOMALY (version 1 stored the kernel address there):
 * which callback it was comes from the report's path.
 */
static void test_abi1_records_upgraded(void **state)
{
	const char *names[] = { "vm-6.12-demo.trace", "vm-6.1-multi.trace" };
	char dir[512], path[700], err[256];
	unsigned int i;

	(void)state;
	snprintf(dir, sizeof(dir), "%s", __FILE__);
	*strrchr(dir, '/') = '\0';
	for (i = 0; i < 2; i++) {
		uint64_t allocs = 0, begins = 0, anomalies = 0;
		const struct iova_rec_hdr *h;
		struct trace_reader *r;

		snprintf(path, sizeof(path), "%s/data/%s", dir, names[i]);
		r = trace_open(path, err, sizeof(err));
		if (!r)
			fail_msg("%s", err);
		assert_int_equal(trace_meta(r)->abi_version, 1);
		while (trace_next(r, &h) == 1) {
			const uint64_t *w = (const void *)h;
			size_t k;

			assert_int_equal(h->size, iova_rec_size(h->type));
			if (h->type == IOVA_REC_ALLOC) {
				const struct iova_rec_alloc *a = (const void *)h;

				assert_int_equal(a->kpage_shift, 12);
				assert_int_equal(a->reserved, 0);
				allocs++;
			} else if (h->type == IOVA_REC_REPORT_BEGIN) {
				const struct iova_rec_report_begin *b = (const void *)h;

				assert_int_equal(b->callback,
						 b->path == IOVA_PATH_VFIO ? IOVA_CB_VFIO :
						 IOVA_CB_IOMMUFD);
				assert_int_equal(b->ictx_id, 0);
				/* nothing that looks like a kernel address */
				for (k = 0; k < sizeof(*b) / 8; k++)
					if (w[k] >= 0xffff800000000000ull)
						fail_msg("%s: report %llu holds 0x%llx",
							 names[i],
							 (unsigned long long)b->report_id,
							 (unsigned long long)w[k]);
				begins++;
			} else if (h->type == IOVA_REC_ANOMALY) {
				const struct iova_rec_anomaly *an = (const void *)h;

				assert_int_equal(an->callback, IOVA_CB_UNKNOWN);
				assert_int_equal(an->reserved0, 0);
				anomalies++;
			}
		}
		assert_int_equal(trace_state(r), TRACE_OK);
		assert_true(allocs > 0 && begins >= allocs);
		print_message("%s: %llu allocs, %llu report begins, %llu anomalies "
			      "read as ABI %d\n", names[i],
			      (unsigned long long)allocs, (unsigned long long)begins,
			      (unsigned long long)anomalies, IOVA_TRACE_ABI_VERSION);
		trace_close(r);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_roundtrip_raw),
		cmocka_unit_test(test_roundtrip_zstd),
		cmocka_unit_test(test_empty_trace),
		cmocka_unit_test(test_cut_every_byte_raw),
		cmocka_unit_test(test_cut_every_byte_zstd),
		cmocka_unit_test(test_cut_every_byte_per_record),
		cmocka_unit_test(test_cut_default_blocks),
		cmocka_unit_test(test_stream_order),
		cmocka_unit_test(test_version1_traces),
		cmocka_unit_test(test_abi1_records_upgraded),
		cmocka_unit_test(test_killed_recorder),
		cmocka_unit_test(test_flip_every_byte_raw),
		cmocka_unit_test(test_flip_every_byte_zstd),
		cmocka_unit_test(test_trailing_garbage),
		cmocka_unit_test(test_qmp_needs_version3),
		cmocka_unit_test(test_version2_trace),
		cmocka_unit_test(test_version3_qmp_trace),
		cmocka_unit_test(test_qmp_record),
		cmocka_unit_test(test_contents),
		cmocka_unit_test(test_bad_headers),
		cmocka_unit_test(test_mode_0600),
		cmocka_unit_test(test_crc32c),
		cmocka_unit_test(test_writer_errors),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
