// SPDX-License-Identifier: GPL-2.0
/*
 * test_trace_file.c - the trace file: round trips, a file cut at every
 * byte, every byte flipped, wrong magic and version, file mode.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "trace_file.h"

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
	switch (i % 7) {
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
			uint32_t chunk, bool close_cleanly)
{
	struct trace_writer_opts o = { .codec = codec, .chunk_bytes = chunk };
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
	struct stat st;
	unsigned char *buf;
	FILE *f = fopen(path, "rb");

	assert_non_null(f);
	assert_int_equal(fstat(fileno(f), &st), 0);
	buf = malloc(st.st_size + 1);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, st.st_size, f), (size_t)st.st_size);
	fclose(f);
	*len = st.st_size;
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
	/* lost counts are stored: i % 7 == 4 records carry count i */
	{
		uint64_t lost = 0;

		for (unsigned int i = 4; i < 5000; i += 7)
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

/*
 * Cut the file at every byte: each prefix reads exactly the records of
 * the chunks it holds whole, and says it was cut short.
 */
static void cut_everywhere(uint32_t codec)
{
	uint64_t chunk_end_records[64];	/* records read once chunk i is whole */
	uint64_t chunk_end_off[64];
	size_t len, cut, nchunks = 0, i;
	struct trace_reader *r;
	unsigned char *buf;
	char err[256];

	write_trace(tpath("cut.trace"), 60, codec, 512, true);
	buf = slurp(tpath("cut.trace"), &len);

	/* learn the chunk boundaries from a full read */
	r = trace_open_mem(buf, len, err, sizeof(err));
	assert_non_null(r);
	{
		const struct iova_rec_hdr *h;
		uint64_t n = 0, last_off = trace_offset(r);

		while (trace_next(r, &h) == 1) {
			if (trace_offset(r) != last_off) {
				/* a new chunk was loaded for this record */
				assert_true(nchunks < 64);
				chunk_end_off[nchunks] = trace_offset(r);
				chunk_end_records[nchunks] = 0;
				if (nchunks)
					chunk_end_records[nchunks - 1] = n;
				nchunks++;
				last_off = trace_offset(r);
			}
			n++;
		}
		chunk_end_records[nchunks - 1] = n;
		assert_int_equal(n, 60);
		assert_int_equal(trace_state(r), TRACE_OK);
		trace_close(r);
	}
	assert_true(nchunks >= 5);

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
		for (i = 0; i < nchunks; i++)
			if (chunk_end_off[i] <= cut)
				want = chunk_end_records[i];
		got = read_check(r);
		if (got != want)
			fail_msg("cut at %zu: read %llu records, want %llu", cut,
				 (unsigned long long)got, (unsigned long long)want);
		assert_int_equal(trace_state(r), TRACE_TRUNCATED);
		assert_non_null(strstr(trace_status_msg(r), "cut short"));
		assert_null(trace_end_totals(r));
		trace_close(r);
	}
	free(buf);
}

static void test_cut_every_byte_raw(void **state)
{
	(void)state;
	cut_everywhere(TRACE_CODEC_NONE);
}

static void test_cut_every_byte_zstd(void **state)
{
	(void)state;
	cut_everywhere(TRACE_CODEC_ZSTD);
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
	file[8] = 2;	/* format version 2 */
	assert_null(trace_open_mem(file, len, err, sizeof(err)));
	assert_non_null(strstr(err, "version 2"));
	file[8] = 1;
	file[16] = 9;	/* record ABI 9, checksum fixed up */
	{
		uint32_t c = trace_crc32c(file, 252);

		memcpy(file + 252, &c, 4);
	}
	assert_null(trace_open_mem(file, len, err, sizeof(err)));
	assert_non_null(strstr(err, "ABI version 9"));
	free(file);

	assert_null(trace_open(tpath("missing.trace"), err, sizeof(err)));
	assert_non_null(strstr(err, "No such file"));
	assert_null(trace_open(tmpdir, err, sizeof(err)));
	assert_non_null(strstr(err, "directory"));
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

/* Known answers: the format must stay readable by other CRC-32C code. */
static void test_crc32c(void **state)
{
	unsigned char zeros[32] = { 0 }, big[1000];
	size_t i;

	(void)state;
	assert_int_equal(trace_crc32c("123456789", 9), 0xe3069283);
	assert_int_equal(trace_crc32c(zeros, 32), 0x8a9136aa);
	assert_int_equal(trace_crc32c("", 0), 0);
	/* unaligned starts and odd tails agree with a byte-wise split */
	for (i = 0; i < sizeof(big); i++)
		big[i] = (unsigned char)(i * 7 + 3);
	for (i = 1; i < 16; i++)
		assert_int_not_equal(trace_crc32c(big + i, 999 - i),
				     trace_crc32c(big, 999 - i));
}

static void test_writer_errors(void **state)
{
	struct trace_meta meta = { 0 };
	struct trace_writer *w;
	struct iova_rec_range r = { .hdr = { IOVA_REC_RANGE, 40, 0, 0 } };
	char err[256];

	(void)state;
	/* a full disk: the header cannot be written */
	assert_null(trace_writer_open("/dev/full", &meta, NULL, err, sizeof(err)));
	assert_non_null(strstr(err, "No space left"));

	w = trace_writer_open(tpath("bad.trace"), &meta, NULL, err, sizeof(err));
	assert_non_null(w);
	assert_int_equal(trace_writer_add(w, &r.hdr), -EINVAL);	/* wrong size */
	r.hdr.size = sizeof(r);
	assert_int_equal(trace_writer_add(w, &r.hdr), 0);
	assert_int_equal(trace_writer_totals(w)->records, 1);
	assert_int_equal(trace_writer_close(w, err, sizeof(err)), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_roundtrip_raw),
		cmocka_unit_test(test_roundtrip_zstd),
		cmocka_unit_test(test_empty_trace),
		cmocka_unit_test(test_cut_every_byte_raw),
		cmocka_unit_test(test_cut_every_byte_zstd),
		cmocka_unit_test(test_killed_recorder),
		cmocka_unit_test(test_flip_every_byte_raw),
		cmocka_unit_test(test_flip_every_byte_zstd),
		cmocka_unit_test(test_trailing_garbage),
		cmocka_unit_test(test_bad_headers),
		cmocka_unit_test(test_mode_0600),
		cmocka_unit_test(test_crc32c),
		cmocka_unit_test(test_writer_errors),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
