// SPDX-License-Identifier: GPL-2.0
/*
 * trace_file.c - write and read iovatop trace files (docs/trace-format.md).
 *
 * The records go into chunks of about 64 KiB, each behind a 32-byte frame
 * with its length, sequence number and CRC32s, optionally zstd-compressed.
 * A chunk is written with one write, so a recorder that dies leaves whole
 * chunks and at most one partial one, which the reader recognises as the
 * cut, not as corruption; a clean close appends an end chunk whose totals
 * the reader checks against what it read.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>
#include <zstd.h>

#include "trace_file.h"

#define END_PAYLOAD_SIZE	(12 * 8)
#define HDR_CRC_OFF		252

_Static_assert(sizeof(TRACE_MAGIC) - 1 == 8, "magic is 8 bytes");

/* ---- little-endian fields -------------------------------------------- */

static void put32(unsigned char *p, uint32_t v)
{
	p[0] = v;
	p[1] = v >> 8;
	p[2] = v >> 16;
	p[3] = v >> 24;
}

static void put64(unsigned char *p, uint64_t v)
{
	put32(p, (uint32_t)v);
	put32(p + 4, (uint32_t)(v >> 32));
}

static uint32_t get32(const unsigned char *p)
{
	return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t get64(const unsigned char *p)
{
	return get32(p) | (uint64_t)get32(p + 4) << 32;
}

/*
 * CRC-32C (Castagnoli), as iSCSI, ext4 and btrfs use it: x86-64 computes it
 * with one instruction per 8 bytes (SSE4.2), several times faster than the
 * zlib CRC-32, which would cost the replay path a third of its time.
 */
static uint32_t crc32c_table[256];

static uint32_t crc32c_sw(uint32_t c, const unsigned char *p, size_t n)
{
	while (n--)
		c = crc32c_table[(c ^ *p++) & 0xff] ^ (c >> 8);
	return c;
}

#if defined(__x86_64__)
__attribute__((target("sse4.2")))
static uint32_t crc32c_hw(uint32_t c, const unsigned char *p, size_t n)
{
	uint64_t c64 = c, v;

	for (; n >= 8; n -= 8, p += 8) {
		memcpy(&v, p, 8);
		c64 = __builtin_ia32_crc32di(c64, v);
	}
	c = (uint32_t)c64;
	while (n--)
		c = __builtin_ia32_crc32qi(c, *p++);
	return c;
}
#endif

static uint32_t (*crc32c_fn)(uint32_t, const unsigned char *, size_t);

static void crc32c_init(void)
{
	uint32_t i, j, c;

	for (i = 0; i < 256; i++) {
		for (c = i, j = 0; j < 8; j++)
			c = c & 1 ? (c >> 1) ^ 0x82f63b78u : c >> 1;
		crc32c_table[i] = c;
	}
	crc32c_fn = crc32c_sw;
#if defined(__x86_64__)
	__builtin_cpu_init();
	if (__builtin_cpu_supports("sse4.2"))
		crc32c_fn = crc32c_hw;
#endif
}

uint32_t trace_crc32c(const void *p, size_t n)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;

	pthread_once(&once, crc32c_init);
	return ~crc32c_fn(~0u, p, n);
}

static uint32_t crc(const void *p, size_t n)
{
	return trace_crc32c(p, n);
}

#ifdef FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION
/* let the fuzzer past the checksums into what they protect */
#define crc_ok(stored, computed) ((void)(stored), (void)(computed), true)
#else
#define crc_ok(stored, computed) ((stored) == (computed))
#endif

/* Checks a record's frame: known types have their exact size. */
static bool rec_ok(const struct iova_rec_hdr *h, size_t room)
{
	unsigned int want;

	if (room < sizeof(*h) || h->size < sizeof(*h) || h->size > room ||
	    h->size % 8 || h->size > IOVA_REC_MAX_SIZE)
		return false;
	want = iova_rec_size(h->type);
	return !want || want == h->size;
}

static void totals_count(struct trace_totals *t, const struct iova_rec_hdr *h)
{
	if (!t->records)
		t->first_ts_ns = h->ts_ns;
	t->last_ts_ns = h->ts_ns;
	t->records++;
	t->raw_bytes += h->size;
	if (h->type == IOVA_REC_LOST) {
		const struct iova_rec_lost *l = (const void *)h;

		t->lost += l->count;
		t->lost_where[l->where < TRACE_LOST_WHERE_MAX ? l->where : 0] +=
			l->count;
	}
}

static void totals_put(unsigned char *p, const struct trace_totals *t)
{
	unsigned int i;

	put64(p, t->records);
	put64(p + 8, t->chunks);
	put64(p + 16, t->raw_bytes);
	put64(p + 24, t->file_bytes);
	put64(p + 32, t->lost);
	for (i = 0; i < TRACE_LOST_WHERE_MAX; i++)
		put64(p + 40 + 8 * i, t->lost_where[i]);
	put64(p + 72, t->first_ts_ns);
	put64(p + 80, t->last_ts_ns);
	put64(p + 88, t->end_realtime_ns);
}

static void totals_get(struct trace_totals *t, const unsigned char *p)
{
	unsigned int i;

	t->records = get64(p);
	t->chunks = get64(p + 8);
	t->raw_bytes = get64(p + 16);
	t->file_bytes = get64(p + 24);
	t->lost = get64(p + 32);
	for (i = 0; i < TRACE_LOST_WHERE_MAX; i++)
		t->lost_where[i] = get64(p + 40 + 8 * i);
	t->first_ts_ns = get64(p + 72);
	t->last_ts_ns = get64(p + 80);
	t->end_realtime_ns = get64(p + 88);
}

static void chunk_hdr(unsigned char *p, uint16_t kind, uint16_t codec,
		      uint32_t stored, uint32_t raw, uint32_t nrec, uint32_t seq,
		      uint32_t payload_crc)
{
	put32(p, TRACE_CHUNK_MAGIC);
	p[4] = kind;
	p[5] = kind >> 8;
	p[6] = codec;
	p[7] = codec >> 8;
	put32(p + 8, stored);
	put32(p + 12, raw);
	put32(p + 16, nrec);
	put32(p + 20, seq);
	put32(p + 24, payload_crc);
	put32(p + 28, crc(p, 28));
}

/* ---- writer ----------------------------------------------------------- */

struct trace_writer {
	int fd;
	char *path;
	uint32_t codec;
	int level;
	uint32_t chunk_bytes;
	unsigned char *buf;		/* raw records of the open chunk */
	uint32_t used, nrec;
	unsigned char *zbuf;
	size_t zcap;
	ZSTD_CCtx *zc;
	uint32_t seq;
	uint64_t offset;		/* end of the last complete chunk */
	struct trace_totals totals;
	int err;
	char errmsg[256];
};

static int write_all(int fd, struct iovec *iov, int n)
{
	ssize_t w;

	while (n > 0) {
		w = writev(fd, iov, n);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		while (n > 0 && (size_t)w >= iov->iov_len) {
			w -= iov->iov_len;
			iov++;
			n--;
		}
		if (n > 0) {
			iov->iov_base = (char *)iov->iov_base + w;
			iov->iov_len -= w;
		}
	}
	return 0;
}

static int writer_fail(struct trace_writer *w, int err, const char *what)
{
	w->err = err;
	snprintf(w->errmsg, sizeof(w->errmsg),
		 "cannot write %s to %s: %s%s", what, w->path, strerror(-err),
		 err == -ENOSPC ? "; free some space, the trace is readable up to the last full chunk" : "");
	/* leave the file ending on a chunk boundary: it reads as cut short */
	if (ftruncate(w->fd, (off_t)w->offset) < 0) {
		/* nothing better to do: the reader copes with a partial tail */
	}
	return err;
}

static int write_chunk(struct trace_writer *w, uint16_t kind, uint16_t codec,
		       const void *payload, uint32_t stored, uint32_t raw,
		       uint32_t nrec)
{
	unsigned char h[TRACE_CHUNK_HDR_SIZE];
	struct iovec iov[2];
	int ret;

	chunk_hdr(h, kind, codec, stored, raw, nrec, w->seq, crc(payload, stored));
	iov[0] = (struct iovec){ h, sizeof(h) };
	iov[1] = (struct iovec){ (void *)payload, stored };
	ret = write_all(w->fd, iov, 2);
	if (ret)
		return writer_fail(w, ret, kind == TRACE_CHUNK_END ?
				   "the end marker" : "a chunk");
	w->seq++;
	w->offset += sizeof(h) + stored;
	return 0;
}

int trace_writer_flush(struct trace_writer *w)
{
	const void *payload = w->buf;
	uint32_t stored = w->used;
	uint16_t codec = TRACE_CODEC_NONE;
	size_t z;
	int ret;

	if (w->err)
		return w->err;
	if (!w->nrec)
		return 0;
	if (w->codec == TRACE_CODEC_ZSTD) {
		z = ZSTD_compressCCtx(w->zc, w->zbuf, w->zcap, w->buf, w->used,
				      w->level);
		/* incompressible chunks are stored as they are */
		if (!ZSTD_isError(z) && z < w->used) {
			payload = w->zbuf;
			stored = (uint32_t)z;
			codec = TRACE_CODEC_ZSTD;
		}
	}
	ret = write_chunk(w, TRACE_CHUNK_DATA, codec, payload, stored, w->used,
			  w->nrec);
	if (ret)
		return ret;
	w->totals.chunks++;
	w->used = w->nrec = 0;
	return 0;
}

int trace_writer_add(void *ctx, const struct iova_rec_hdr *rec)
{
	struct trace_writer *w = ctx;
	int ret;

	if (w->err)
		return w->err;
	if (!rec_ok(rec, rec->size)) {
		snprintf(w->errmsg, sizeof(w->errmsg),
			 "record of type %u has a bad size %u; not written",
			 rec->type, rec->size);
		return -EINVAL;
	}
	if (w->used + rec->size > w->chunk_bytes) {
		ret = trace_writer_flush(w);
		if (ret)
			return ret;
	}
	memcpy(w->buf + w->used, rec, rec->size);
	w->used += rec->size;
	w->nrec++;
	totals_count(&w->totals, rec);
	return 0;
}

const struct trace_totals *trace_writer_totals(const struct trace_writer *w)
{
	return &w->totals;
}

const char *trace_writer_error(const struct trace_writer *w)
{
	return w->errmsg;
}

static void writer_free(struct trace_writer *w)
{
	if (w->fd >= 0)
		close(w->fd);
	ZSTD_freeCCtx(w->zc);
	free(w->buf);
	free(w->zbuf);
	free(w->path);
	free(w);
}

struct trace_writer *trace_writer_open(const char *path,
				       const struct trace_meta *meta,
				       const struct trace_writer_opts *opts,
				       char *err, size_t errlen)
{
	unsigned char h[TRACE_HEADER_SIZE] = { 0 };
	struct trace_writer *w = calloc(1, sizeof(*w));
	struct iovec iov;
	int ret;

	if (!w) {
		snprintf(err, errlen, "out of memory opening %s", path);
		return NULL;
	}
	w->fd = -1;
	w->path = strdup(path);
	w->codec = opts ? opts->codec : TRACE_CODEC_ZSTD;
	w->level = opts && opts->zstd_level ? opts->zstd_level : 1;
	w->chunk_bytes = opts && opts->chunk_bytes ? opts->chunk_bytes :
						    TRACE_CHUNK_DEFAULT;
	if (w->chunk_bytes < IOVA_REC_MAX_SIZE)
		w->chunk_bytes = IOVA_REC_MAX_SIZE;
	if (w->chunk_bytes > TRACE_CHUNK_MAX_RAW)
		w->chunk_bytes = TRACE_CHUNK_MAX_RAW;
	w->buf = malloc(w->chunk_bytes);
	if (w->codec == TRACE_CODEC_ZSTD) {
		w->zcap = ZSTD_compressBound(w->chunk_bytes);
		w->zbuf = malloc(w->zcap);
		w->zc = ZSTD_createCCtx();
	} else if (w->codec != TRACE_CODEC_NONE) {
		snprintf(err, errlen, "unknown trace codec %u", w->codec);
		goto fail;
	}
	if (!w->path || !w->buf || (w->codec && (!w->zbuf || !w->zc))) {
		snprintf(err, errlen, "out of memory opening %s", path);
		goto fail;
	}
	/* traces show which processes did what: only the owner reads them */
	w->fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC,
		     0600);
	if (w->fd < 0) {
		snprintf(err, errlen, "cannot create %s: %s", path,
			 strerror(errno));
		goto fail;
	}
	if (fchmod(w->fd, 0600)) {
		snprintf(err, errlen, "cannot make %s private (mode 0600): %s",
			 path, strerror(errno));
		goto fail;
	}

	memcpy(h, TRACE_MAGIC, 8);
	put32(h + 8, TRACE_VERSION);
	put32(h + 12, TRACE_HEADER_SIZE);
	put32(h + 16, IOVA_TRACE_ABI_VERSION);
	put32(h + 20, meta->layout);
	put32(h + 24, meta->rule);
	put32(h + 28, w->codec);
	put64(h + 32, meta->start_realtime_ns);
	put64(h + 40, meta->start_mono_ns);
	memcpy(h + 48, meta->kernel_release, TRACE_KREL_LEN - 1);
	memcpy(h + 113, meta->probe_mode, TRACE_PROBE_LEN - 1);
	memcpy(h + 129, meta->hostname, TRACE_HOST_LEN - 1);
	put32(h + HDR_CRC_OFF, crc(h, HDR_CRC_OFF));
	iov = (struct iovec){ h, sizeof(h) };
	ret = write_all(w->fd, &iov, 1);
	if (ret) {
		snprintf(err, errlen, "cannot write the header of %s: %s", path,
			 strerror(-ret));
		goto fail;
	}
	w->offset = sizeof(h);
	return w;
fail:
	writer_free(w);
	return NULL;
}

int trace_writer_close(struct trace_writer *w, char *err, size_t errlen)
{
	unsigned char p[END_PAYLOAD_SIZE];
	struct timespec ts;
	int ret;

	ret = trace_writer_flush(w);
	if (!ret) {
		clock_gettime(CLOCK_REALTIME, &ts);
		w->totals.end_realtime_ns = (uint64_t)ts.tv_sec * 1000000000ull +
					    (uint64_t)ts.tv_nsec;
		w->totals.file_bytes = w->offset + TRACE_CHUNK_HDR_SIZE +
				       END_PAYLOAD_SIZE;
		totals_put(p, &w->totals);
		ret = write_chunk(w, TRACE_CHUNK_END, TRACE_CODEC_NONE, p,
				  sizeof(p), sizeof(p), 0);
	}
	if (!ret && fsync(w->fd))
		ret = writer_fail(w, -errno, "the trace");
	if (!ret && close(w->fd)) {
		w->fd = -1;
		ret = writer_fail(w, -errno, "the trace");
	}
	if (!ret)
		w->fd = -1;
	if (ret)
		snprintf(err, errlen, "%s", w->errmsg);
	writer_free(w);
	return ret;
}

void trace_writer_abandon(struct trace_writer *w)
{
	writer_free(w);
}

/* ---- reader ----------------------------------------------------------- */

struct trace_reader {
	int fd;				/* -1 for a buffer */
	const unsigned char *mem;
	size_t mem_len;
	char *name;
	uint64_t offset;		/* next chunk */
	struct trace_meta meta;
	unsigned char *stored;		/* chunk as read */
	unsigned char *raw;		/* its records */
	size_t cap_stored, cap_raw;
	uint32_t pos, len;		/* within raw */
	uint32_t seq;
	ZSTD_DCtx *zd;
	bool done;
	enum trace_state state;
	char msg[256];
	struct trace_totals totals;
	struct trace_totals end;
	bool have_end;
};

/* Read up to n bytes at offset; returns how many (short at EOF) or -errno. */
static ssize_t in_read(struct trace_reader *r, uint64_t off, void *dst, size_t n)
{
	size_t got = 0;
	ssize_t k;

	if (r->fd < 0) {
		if (off >= r->mem_len)
			return 0;
		if (n > r->mem_len - off)
			n = r->mem_len - off;
		memcpy(dst, r->mem + off, n);
		return (ssize_t)n;
	}
	while (got < n) {
		k = pread(r->fd, (char *)dst + got, n - got, (off_t)(off + got));
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0)
			return -errno;
		if (!k)
			break;
		got += (size_t)k;
	}
	return (ssize_t)got;
}

static void cstr(char *dst, const unsigned char *src, size_t n)
{
	memcpy(dst, src, n - 1);
	dst[n - 1] = '\0';
}

static int parse_header(struct trace_reader *r, char *err, size_t errlen)
{
	unsigned char h[TRACE_HEADER_SIZE];
	ssize_t n = in_read(r, 0, h, sizeof(h));
	uint32_t v;

	if (n < 0) {
		snprintf(err, errlen, "cannot read %s: %s", r->name,
			 strerror((int)-n));
		return -1;
	}
	if (n == 0) {
		snprintf(err, errlen, "%s is empty: it holds no trace", r->name);
		return -1;
	}
	if (memcmp(h, TRACE_MAGIC, n < 8 ? (size_t)n : 8)) {
		snprintf(err, errlen,
			 "%s is not an iovatop trace (it does not start with the trace magic); record one with 'iovatop record -o FILE'",
			 r->name);
		return -1;
	}
	if (n >= 12) {
		v = get32(h + 8);
		if (v != TRACE_VERSION) {
			snprintf(err, errlen,
				 "%s is trace format version %u, this iovatop reads version %u; use the iovatop that recorded it",
				 r->name, v, TRACE_VERSION);
			return -1;
		}
	}
	if ((size_t)n < sizeof(h)) {
		snprintf(err, errlen,
			 "%s was cut short inside its header (%zd of %d bytes): it holds no records",
			 r->name, n, TRACE_HEADER_SIZE);
		return -1;
	}
	if (get32(h + 12) != TRACE_HEADER_SIZE ||
	    !crc_ok(get32(h + HDR_CRC_OFF), crc(h, HDR_CRC_OFF))) {
		snprintf(err, errlen,
			 "%s has a corrupted header (checksum mismatch): it cannot be read",
			 r->name);
		return -1;
	}
	v = get32(h + 16);
	if (v != IOVA_TRACE_ABI_VERSION) {
		snprintf(err, errlen,
			 "%s holds records of ABI version %u, this iovatop reads version %u; use the iovatop that recorded it",
			 r->name, v, IOVA_TRACE_ABI_VERSION);
		return -1;
	}
	r->meta.version = TRACE_VERSION;
	r->meta.abi_version = v;
	r->meta.layout = get32(h + 20);
	r->meta.rule = get32(h + 24);
	r->meta.codec = get32(h + 28);
	r->meta.start_realtime_ns = get64(h + 32);
	r->meta.start_mono_ns = get64(h + 40);
	cstr(r->meta.kernel_release, h + 48, TRACE_KREL_LEN);
	cstr(r->meta.probe_mode, h + 113, TRACE_PROBE_LEN);
	cstr(r->meta.hostname, h + 129, TRACE_HOST_LEN);
	r->offset = TRACE_HEADER_SIZE;
	return 0;
}

static struct trace_reader *reader_new(const char *name)
{
	struct trace_reader *r = calloc(1, sizeof(*r));

	if (!r)
		return NULL;
	r->fd = -1;
	r->name = strdup(name);
	r->zd = ZSTD_createDCtx();
	if (!r->name || !r->zd) {
		trace_close(r);
		return NULL;
	}
	return r;
}

struct trace_reader *trace_open(const char *path, char *err, size_t errlen)
{
	struct trace_reader *r = reader_new(path);
	struct stat st;

	if (!r) {
		snprintf(err, errlen, "out of memory opening %s", path);
		return NULL;
	}
	r->fd = open(path, O_RDONLY | O_CLOEXEC);
	if (r->fd < 0) {
		snprintf(err, errlen, "cannot open %s: %s", path, strerror(errno));
		goto fail;
	}
	if (fstat(r->fd, &st) == 0 && S_ISDIR(st.st_mode)) {
		snprintf(err, errlen, "%s is a directory, not a trace file", path);
		goto fail;
	}
	if (parse_header(r, err, errlen))
		goto fail;
	return r;
fail:
	trace_close(r);
	return NULL;
}

struct trace_reader *trace_open_mem(const void *buf, size_t len, char *err,
				    size_t errlen)
{
	struct trace_reader *r = reader_new("the trace");

	if (!r) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	r->mem = buf;
	r->mem_len = len;
	if (parse_header(r, err, errlen)) {
		trace_close(r);
		return NULL;
	}
	return r;
}

const struct trace_meta *trace_meta(const struct trace_reader *r)
{
	return &r->meta;
}

static int stop(struct trace_reader *r, enum trace_state s, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int stop(struct trace_reader *r, enum trace_state s, const char *fmt, ...)
{
	va_list ap;
	int n;

	r->done = true;
	r->state = s;
	n = snprintf(r->msg, sizeof(r->msg), "%s ", r->name);
	va_start(ap, fmt);
	vsnprintf(r->msg + n, sizeof(r->msg) - n, fmt, ap);
	va_end(ap);
	return 0;
}

static int grow(unsigned char **buf, size_t *cap, size_t want)
{
	unsigned char *p;

	if (*cap >= want)
		return 0;
	p = realloc(*buf, want);
	if (!p)
		return -ENOMEM;
	*buf = p;
	*cap = want;
	return 0;
}

static int cut(struct trace_reader *r, const char *where)
{
	return stop(r, TRACE_TRUNCATED,
		    "was cut short %s at byte %llu, after %llu complete records in %u chunks; it has no end marker (the recorder was killed or the disk was full)",
		    where, (unsigned long long)r->offset,
		    (unsigned long long)r->totals.records, r->seq);
}

static int end_chunk(struct trace_reader *r, const unsigned char *p,
		     uint32_t stored)
{
	unsigned char b;
	ssize_t n;

	if (stored != END_PAYLOAD_SIZE)
		return stop(r, TRACE_CORRUPT,
			    "is corrupted: its end marker at byte %llu has a bad size",
			    (unsigned long long)r->offset);
	totals_get(&r->end, p);
	r->offset += TRACE_CHUNK_HDR_SIZE + stored;
	if (r->end.records != r->totals.records ||
	    r->end.chunks != r->totals.chunks || r->end.lost != r->totals.lost ||
	    r->end.raw_bytes != r->totals.raw_bytes)
		return stop(r, TRACE_CORRUPT,
			    "is corrupted: its end marker counts %llu records, %llu were read",
			    (unsigned long long)r->end.records,
			    (unsigned long long)r->totals.records);
	n = in_read(r, r->offset, &b, 1);
	if (n != 0)
		return stop(r, TRACE_CORRUPT,
			    "is corrupted: it has bytes after its end marker at byte %llu",
			    (unsigned long long)r->offset);
	r->have_end = true;
	r->totals.file_bytes = r->offset;
	r->done = true;
	r->state = TRACE_OK;
	return 0;
}

/* Load the next chunk into raw; 1 when records are ready, 0 at the end. */
static int load_chunk(struct trace_reader *r)
{
	unsigned char h[TRACE_CHUNK_HDR_SIZE];
	uint32_t kind, codec, stored, raw, nrec, seq, pos, cnt;
	ssize_t n;
	size_t z;

	n = in_read(r, r->offset, h, sizeof(h));
	if (n < 0)
		return (int)n;
	if (n == 0)
		return cut(r, "between chunks");
	if ((size_t)n < sizeof(h))
		return cut(r, "inside a chunk header");
	if (get32(h) != TRACE_CHUNK_MAGIC || !crc_ok(get32(h + 28), crc(h, 28)))
		return stop(r, TRACE_CORRUPT,
			    "is corrupted: the chunk header at byte %llu does not check out (after %llu good records)",
			    (unsigned long long)r->offset,
			    (unsigned long long)r->totals.records);
	kind = h[4] | h[5] << 8;
	codec = h[6] | h[7] << 8;
	stored = get32(h + 8);
	raw = get32(h + 12);
	nrec = get32(h + 16);
	seq = get32(h + 20);
	if (seq != r->seq)
		return stop(r, TRACE_CORRUPT,
			    "is corrupted: chunk %u at byte %llu is out of sequence (expected %u)",
			    seq, (unsigned long long)r->offset, r->seq);
	if (raw > TRACE_CHUNK_MAX_RAW || stored > ZSTD_compressBound(TRACE_CHUNK_MAX_RAW) ||
	    (codec == TRACE_CODEC_NONE && stored != raw) ||
	    codec > TRACE_CODEC_ZSTD ||
	    (kind != TRACE_CHUNK_DATA && kind != TRACE_CHUNK_END))
		return stop(r, TRACE_CORRUPT,
			    "is corrupted: chunk %u at byte %llu has an impossible frame",
			    seq, (unsigned long long)r->offset);
	if (grow(&r->stored, &r->cap_stored, stored ? stored : 1))
		return -ENOMEM;
	n = in_read(r, r->offset + sizeof(h), r->stored, stored);
	if (n < 0)
		return (int)n;
	if ((size_t)n < stored)
		return cut(r, "inside a chunk");
	if (!crc_ok(get32(h + 24), crc(r->stored, stored)))
		return stop(r, TRACE_CORRUPT,
			    "is corrupted: chunk %u at byte %llu fails its checksum (after %llu good records)",
			    seq, (unsigned long long)r->offset,
			    (unsigned long long)r->totals.records);
	r->seq++;
	if (kind == TRACE_CHUNK_END)
		return end_chunk(r, r->stored, stored);

	if (codec == TRACE_CODEC_ZSTD) {
		if (grow(&r->raw, &r->cap_raw, raw ? raw : 1))
			return -ENOMEM;
		z = ZSTD_decompressDCtx(r->zd, r->raw, raw, r->stored, stored);
		if (ZSTD_isError(z) || z != raw)
			return stop(r, TRACE_CORRUPT,
				    "is corrupted: chunk %u at byte %llu does not decompress",
				    seq, (unsigned long long)r->offset);
	} else {
		/* stored as is: swap the buffers instead of copying */
		unsigned char *t = r->raw;
		size_t c = r->cap_raw;

		r->raw = r->stored;
		r->cap_raw = r->cap_stored;
		r->stored = t;
		r->cap_stored = c;
	}
	/* every record must frame before any of them is handed out */
	for (pos = 0, cnt = 0; pos < raw; cnt++) {
		const struct iova_rec_hdr *rec = (const void *)(r->raw + pos);

		if (!rec_ok(rec, raw - pos))
			return stop(r, TRACE_CORRUPT,
				    "is corrupted: record %u of chunk %u (byte %llu) is malformed",
				    cnt, seq, (unsigned long long)r->offset);
		pos += rec->size;
	}
	if (cnt != nrec || !nrec)
		return stop(r, TRACE_CORRUPT,
			    "is corrupted: chunk %u at byte %llu holds %u records, its frame says %u",
			    seq, (unsigned long long)r->offset, cnt, nrec);
	r->offset += sizeof(h) + stored;
	r->totals.chunks++;
	r->pos = 0;
	r->len = raw;
	return 1;
}

int trace_next(struct trace_reader *r, const struct iova_rec_hdr **rec)
{
	const struct iova_rec_hdr *h;
	int ret;

	while (r->pos >= r->len) {
		if (r->done)
			return 0;
		ret = load_chunk(r);
		if (ret <= 0)
			return ret;
	}
	h = (const void *)(r->raw + r->pos);
	r->pos += h->size;
	totals_count(&r->totals, h);
	*rec = h;
	return 1;
}

int trace_read_all(struct trace_reader *r, iova_sink_fn sink, void *ctx)
{
	const struct iova_rec_hdr *rec;
	int ret;

	while ((ret = trace_next(r, &rec)) == 1) {
		ret = sink(ctx, rec);
		if (ret)
			return ret;
	}
	return ret;
}

enum trace_state trace_state(const struct trace_reader *r)
{
	return r->state;
}

const char *trace_status_msg(const struct trace_reader *r)
{
	return r->state == TRACE_OK ? "" : r->msg;
}

const struct trace_totals *trace_read_totals(const struct trace_reader *r)
{
	return &r->totals;
}

const struct trace_totals *trace_end_totals(const struct trace_reader *r)
{
	return r->have_end ? &r->end : NULL;
}

uint64_t trace_offset(const struct trace_reader *r)
{
	return r->offset;
}

void trace_close(struct trace_reader *r)
{
	if (!r)
		return;
	if (r->fd >= 0)
		close(r->fd);
	ZSTD_freeDCtx(r->zd);
	free(r->stored);
	free(r->raw);
	free(r->name);
	free(r);
}
