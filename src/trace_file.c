// SPDX-License-Identifier: GPL-2.0
/*
 * trace_file.c - write and read iovatop trace files (docs/trace-format.md).
 *
 * The records go into blocks of about 4 KiB, each behind a 32-byte frame
 * with its length, sequence number and CRC32s. With zstd, the blocks of
 * 64 KiB of records form one zstd frame, flushed at every block end, so a
 * block is decodable as soon as it and those before it are in the file.
 * A file cut anywhere therefore reads every record up to its last whole
 * block, and the reader tells the cut from corruption; a clean close
 * appends an end block whose totals the reader checks against what it read.
 * Version 1 files (one zstd frame per 64 KiB chunk) are still read.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <zstd.h>

#include "iova_bitmap_decode.h"
#include "le.h"
#include "trace_file.h"

#define END_PAYLOAD_SIZE	(12 * 8)
#define HDR_CONTENTS_OFF	194	/* TRACE_CONTENTS_*, in what was reserved */
#define HDR_CRC_OFF		252

_Static_assert(sizeof(TRACE_MAGIC) - 1 == 8, "magic is 8 bytes");

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

#ifdef FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION
/* let the fuzzer past the checksums into what they protect */
#define crc_ok(stored, computed) ((void)(stored), (void)(computed), true)
#else
#define crc_ok(stored, computed) ((stored) == (computed))
#endif

/*
 * Checks a record's frame: known types have their exact size in abi. A
 * QMP sample in a file of a version before it existed was never written
 * by any iovatop: the file is damaged, not old.
 */
static bool rec_ok(const struct iova_rec_hdr *h, size_t room, unsigned int abi,
		   unsigned int version)
{
	unsigned int want;

	if (room < sizeof(*h) || h->size < sizeof(*h) || h->size > room ||
	    h->size % 8 || h->size > IOVA_REC_MAX_SIZE)
		return false;
	if (h->type == IOVA_REC_QMP && version < TRACE_VERSION_QMP)
		return false;
	want = iova_rec_size_abi(h->type, abi);
	return !want || want == h->size;
}

static void totals_count(struct trace_totals *t, const struct iova_rec_hdr *h)
{
	/*
	 * Records made up in user space by older recorders (LOST, a lost
	 * END) carry no time: they must not make the span 0.
	 */
	if (h->ts_ns && !t->first_ts_ns)
		t->first_ts_ns = h->ts_ns;
	if (h->ts_ns)
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

	le_put64(p, t->records);
	le_put64(p + 8, t->chunks);
	le_put64(p + 16, t->raw_bytes);
	le_put64(p + 24, t->file_bytes);
	le_put64(p + 32, t->lost);
	for (i = 0; i < TRACE_LOST_WHERE_MAX; i++)
		le_put64(p + 40 + 8 * i, t->lost_where[i]);
	le_put64(p + 72, t->first_ts_ns);
	le_put64(p + 80, t->last_ts_ns);
	le_put64(p + 88, t->end_realtime_ns);
}

static void totals_get(struct trace_totals *t, const unsigned char *p)
{
	unsigned int i;

	t->records = le_get64(p);
	t->chunks = le_get64(p + 8);
	t->raw_bytes = le_get64(p + 16);
	t->file_bytes = le_get64(p + 24);
	t->lost = le_get64(p + 32);
	for (i = 0; i < TRACE_LOST_WHERE_MAX; i++)
		t->lost_where[i] = le_get64(p + 40 + 8 * i);
	t->first_ts_ns = le_get64(p + 72);
	t->last_ts_ns = le_get64(p + 80);
	t->end_realtime_ns = le_get64(p + 88);
}

static void chunk_hdr(unsigned char *p, uint16_t kind, uint16_t codec,
		      uint32_t stored, uint32_t raw, uint32_t nrec, uint32_t seq,
		      uint32_t payload_crc)
{
	le_put32(p, TRACE_CHUNK_MAGIC);
	p[4] = kind;
	p[5] = kind >> 8;
	p[6] = codec;
	p[7] = codec >> 8;
	le_put32(p + 8, stored);
	le_put32(p + 12, raw);
	le_put32(p + 16, nrec);
	le_put32(p + 20, seq);
	le_put32(p + 24, payload_crc);
	le_put32(p + 28, trace_crc32c(p, 28));
}

/* ---- writer ----------------------------------------------------------- */

/*
 * Records go into a block of at most block_bytes raw bytes. With zstd the
 * blocks of one zstd frame are one stream, flushed at every block end, so
 * each block decodes once the ones before it have, and the stream's window
 * spans the frame: small blocks keep most of the ratio of big ones. Blocks
 * gather in out[] and go to the file in writes of TRACE_WRITE_BYTES, and
 * at least once a second through trace_writer_flush().
 */
struct trace_writer {
	int fd;
	char *path;
	uint32_t codec;
	int level;
	uint32_t block_bytes, zframe_bytes;
	unsigned char *buf;		/* raw records of the open block */
	uint32_t used, nrec;
	unsigned char *out;		/* finished blocks not yet written */
	size_t outlen, outcap;
	ZSTD_CCtx *zc;
	bool zopen;			/* a zstd frame runs on into the next block */
	uint64_t zraw;			/* raw bytes in that frame so far */
	uint32_t seq;
	uint32_t contents;		/* TRACE_CONTENTS_* of its header */
	uint64_t offset;		/* file bytes written, a block boundary */
	struct trace_totals totals;
	int err;
	char errmsg[256];
};

static int write_all(int fd, const unsigned char *p, size_t n)
{
	ssize_t w;

	while (n > 0) {
		w = write(fd, p, n);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

static int writer_fail(struct trace_writer *w, int err, const char *what)
{
	w->err = err;
	snprintf(w->errmsg, sizeof(w->errmsg),
		 "cannot write %s to %s: %s%s", what, w->path, strerror(-err),
		 err == -ENOSPC ? "; free some space, the trace is readable up to the last block written" : "");
	/* leave the file ending on a block boundary: it reads as cut short */
	if (ftruncate(w->fd, (off_t)w->offset) < 0) {
		/* nothing better to do: the reader copes with a partial tail */
	}
	return err;
}

/* Write out the finished blocks. */
static int write_out(struct trace_writer *w, const char *what)
{
	int ret;

	if (!w->outlen)
		return 0;
	ret = write_all(w->fd, w->out, w->outlen);
	if (ret)
		return writer_fail(w, ret, what);
	w->offset += w->outlen;
	w->outlen = 0;
	return 0;
}

/* Make *buf hold at least want bytes. */
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

static int out_room(struct trace_writer *w, size_t need)
{
	if (w->outcap - w->outlen >= need)
		return 0;
	if (grow(&w->out, &w->outcap, w->outlen + need + TRACE_WRITE_BYTES)) {
		w->err = -ENOMEM;
		snprintf(w->errmsg, sizeof(w->errmsg),
			 "out of memory buffering the trace for %s", w->path);
		return -ENOMEM;
	}
	return 0;
}

/* Append a frame and its payload, already at out + outlen + frame, to out. */
static void put_block(struct trace_writer *w, uint16_t kind, uint16_t codec,
		      uint32_t stored, uint32_t raw, uint32_t nrec)
{
	unsigned char *h = w->out + w->outlen;

	chunk_hdr(h, kind, codec, stored, raw, nrec, w->seq,
		  trace_crc32c(h + TRACE_CHUNK_HDR_SIZE, stored));
	w->seq++;
	w->outlen += TRACE_CHUNK_HDR_SIZE + stored;
}

/* Compress the open block onto the zstd stream; returns bytes, or 0. */
static size_t zstd_block(struct trace_writer *w, unsigned char *dst,
			 size_t cap, bool end_frame)
{
	ZSTD_inBuffer in = { w->buf, w->used, 0 };
	ZSTD_outBuffer out = { dst, cap, 0 };
	size_t left;

	if (!w->zopen &&
	    (ZSTD_isError(ZSTD_CCtx_reset(w->zc, ZSTD_reset_session_only)) ||
	     ZSTD_isError(ZSTD_CCtx_setParameter(w->zc, ZSTD_c_compressionLevel,
						 w->level))))
		return 0;
	do {
		left = ZSTD_compressStream2(w->zc, &out, &in, end_frame ?
					    ZSTD_e_end : ZSTD_e_flush);
		if (ZSTD_isError(left))
			return 0;
	} while (left && out.pos < out.size);
	return left ? 0 : out.pos;
}

/* Finish the open block into out[]. */
static int close_block(struct trace_writer *w, bool end_frame)
{
	size_t bound = ZSTD_compressBound(w->used) + 64, z;
	uint16_t codec = TRACE_CODEC_NONE;
	unsigned char *payload;
	int ret;

	if (!w->nrec)
		return 0;
	ret = out_room(w, TRACE_CHUNK_HDR_SIZE + bound);
	if (ret)
		return ret;
	payload = w->out + w->outlen + TRACE_CHUNK_HDR_SIZE;
	if (w->codec == TRACE_CODEC_ZSTD) {
		if (w->zraw + w->used >= w->zframe_bytes)
			end_frame = true;
		z = zstd_block(w, payload, bound, end_frame);
		if (!z) {
			w->err = -EIO;
			snprintf(w->errmsg, sizeof(w->errmsg),
				 "zstd failed to compress a block for %s", w->path);
			return w->err;
		}
		codec = w->zopen ? TRACE_CODEC_ZSTD_MORE : TRACE_CODEC_ZSTD_OPEN;
		w->zopen = !end_frame;
		w->zraw = end_frame ? 0 : w->zraw + w->used;
	} else {
		memcpy(payload, w->buf, w->used);
		z = w->used;
	}
	put_block(w, TRACE_CHUNK_DATA, codec, (uint32_t)z, w->used, w->nrec);
	w->totals.chunks++;
	w->used = w->nrec = 0;
	return w->outlen >= TRACE_WRITE_BYTES ? write_out(w, "a block") : 0;
}

int trace_writer_flush(struct trace_writer *w)
{
	int ret;

	if (w->err)
		return w->err;
	ret = close_block(w, false);
	return ret ? ret : write_out(w, "a block");
}

int trace_writer_add(void *ctx, const struct iova_rec_hdr *rec)
{
	struct trace_writer *w = ctx;
	int ret;

	if (w->err)
		return w->err;
	if (!rec_ok(rec, rec->size, IOVA_TRACE_ABI_VERSION, TRACE_VERSION)) {
		snprintf(w->errmsg, sizeof(w->errmsg),
			 "record of type %u has a bad size %u; not written",
			 rec->type, rec->size);
		return -EINVAL;
	}
	if (rec->type == IOVA_REC_QMP && (w->contents & TRACE_CONTENTS_DECLARED) &&
	    !(w->contents & TRACE_CONTENTS_QMP)) {
		snprintf(w->errmsg, sizeof(w->errmsg),
			 "a QMP record in a trace whose header says it holds none; not written");
		return -EINVAL;
	}
	if (w->nrec && w->used + rec->size > w->block_bytes) {
		ret = close_block(w, false);
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
	free(w->out);
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
	struct stat st;
	int ret;

	if (!w) {
		snprintf(err, errlen, "out of memory opening %s", path);
		return NULL;
	}
	w->fd = -1;
	w->path = strdup(path);
	w->codec = opts ? opts->codec : TRACE_CODEC_ZSTD;
	w->level = opts && opts->zstd_level ? opts->zstd_level : 1;
	w->block_bytes = opts && opts->block_bytes ? opts->block_bytes :
						    TRACE_BLOCK_DEFAULT;
	if (w->block_bytes > TRACE_CHUNK_MAX_RAW)
		w->block_bytes = TRACE_CHUNK_MAX_RAW;
	w->zframe_bytes = opts && opts->zframe_bytes ? opts->zframe_bytes :
						      TRACE_ZFRAME_DEFAULT;
	/* a block holds at least one record, whatever block_bytes says */
	w->buf = malloc(w->block_bytes > IOVA_REC_MAX_SIZE ?
			w->block_bytes : IOVA_REC_MAX_SIZE);
	if (w->codec == TRACE_CODEC_ZSTD) {
		w->zc = ZSTD_createCCtx();
	} else if (w->codec != TRACE_CODEC_NONE) {
		snprintf(err, errlen, "unknown trace codec %u", w->codec);
		goto fail;
	}
	if (!w->path || !w->buf || (w->codec && !w->zc) ||
	    out_room(w, TRACE_WRITE_BYTES)) {
		snprintf(err, errlen, "out of memory opening %s", path);
		goto fail;
	}
	/*
	 * traces show which processes did what: only the owner reads them.
	 * Regular files only: O_NONBLOCK keeps a FIFO from hanging the open
	 * (ENXIO without a reader), fstat() refuses it and devices before
	 * anything is written or chmod'ed.
	 */
	w->fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC |
			   O_NONBLOCK, 0600);
	if ((w->fd < 0 && errno == ENXIO) ||
	    (w->fd >= 0 && !fstat(w->fd, &st) && !S_ISREG(st.st_mode))) {
		snprintf(err, errlen, "%s is not a regular file; a trace is written to a regular file only",
			 path);
		goto fail;
	}
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
	le_put32(h + 8, TRACE_VERSION);
	le_put32(h + 12, TRACE_HEADER_SIZE);
	le_put32(h + 16, IOVA_TRACE_ABI_VERSION);
	le_put32(h + 20, meta->layout);
	le_put32(h + 24, meta->rule);
	le_put32(h + 28, w->codec);
	le_put64(h + 32, meta->start_realtime_ns);
	le_put64(h + 40, meta->start_mono_ns);
	memcpy(h + 48, meta->kernel_release, TRACE_KREL_LEN - 1);
	memcpy(h + 113, meta->probe_mode, TRACE_PROBE_LEN - 1);
	memcpy(h + 129, meta->hostname, TRACE_HOST_LEN - 1);
	w->contents = meta->contents & TRACE_CONTENTS_KNOWN;
	le_put32(h + HDR_CONTENTS_OFF, w->contents);
	le_put32(h + HDR_CRC_OFF, trace_crc32c(h, HDR_CRC_OFF));
	ret = write_all(w->fd, h, sizeof(h));
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
	struct timespec ts;
	int ret = w->err;

	/* the last block ends its zstd frame: the stream is whole */
	if (!ret)
		ret = close_block(w, true);
	if (!ret)
		ret = out_room(w, TRACE_CHUNK_HDR_SIZE + END_PAYLOAD_SIZE);
	if (!ret) {
		clock_gettime(CLOCK_REALTIME, &ts);
		w->totals.end_realtime_ns = (uint64_t)ts.tv_sec * 1000000000ull +
					    (uint64_t)ts.tv_nsec;
		w->totals.file_bytes = w->offset + w->outlen +
				       TRACE_CHUNK_HDR_SIZE + END_PAYLOAD_SIZE;
		totals_put(w->out + w->outlen + TRACE_CHUNK_HDR_SIZE, &w->totals);
		put_block(w, TRACE_CHUNK_END, TRACE_CODEC_NONE, END_PAYLOAD_SIZE,
			  END_PAYLOAD_SIZE, 0);
		ret = write_out(w, "the end marker");
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
	uint64_t offset;		/* next block */
	struct trace_meta meta;
	unsigned char *ibuf;		/* file bytes from ibuf_off on */
	uint64_t ibuf_off;
	size_t ibuf_len, ibuf_cap;
	const unsigned char *cur;	/* block records: in ibuf, mem or raw */
	unsigned char *raw;		/* decompressed records */
	size_t cap_raw;
	uint32_t pos, len;		/* within raw */
	uint32_t seq;
	ZSTD_DCtx *zd;
	bool zopen;			/* a zstd stream frame runs on */
	uint32_t cut_lost;		/* records of a block the cut fell into */
	bool done;
	enum trace_state state;
	char msg[256];
	struct trace_totals totals;
	struct trace_totals end;
	bool have_end;
	/* a version 1 record converted to this ABI (upgrade_v1()) */
	union {
		struct iova_rec_hdr hdr;
		unsigned char b[IOVA_REC_MAX_SIZE];
		uint64_t align;
	} conv;
};

/* Read up to n bytes of the file at off; how many (short at EOF), or -errno. */
static ssize_t in_read(struct trace_reader *r, uint64_t off, void *dst, size_t n)
{
	size_t got = 0;
	ssize_t k;

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

/*
 * Point *p at n bytes of the file at off, reading ahead so that a run of
 * small blocks costs one read per TRACE_READ_AHEAD bytes, not two each.
 * Returns how many bytes are there (short at EOF) or -errno; *p stays valid
 * until the next call.
 */
#define TRACE_READ_AHEAD	(256u << 10)
static ssize_t in_get(struct trace_reader *r, uint64_t off, size_t n,
		      const unsigned char **p)
{
	ssize_t k;

	if (r->fd < 0) {
		*p = r->mem + (off < r->mem_len ? off : r->mem_len);
		if (off >= r->mem_len)
			return 0;
		return (ssize_t)(n < r->mem_len - off ? n : r->mem_len - off);
	}
	if (off < r->ibuf_off || off + n > r->ibuf_off + r->ibuf_len) {
		if (grow(&r->ibuf, &r->ibuf_cap,
			 n > TRACE_READ_AHEAD ? n : TRACE_READ_AHEAD))
			return -ENOMEM;
		k = in_read(r, off, r->ibuf, r->ibuf_cap);
		if (k < 0) {
			r->ibuf_len = 0;
			return k;
		}
		r->ibuf_off = off;
		r->ibuf_len = (size_t)k;
	}
	*p = r->ibuf + (off - r->ibuf_off);
	if (off - r->ibuf_off >= r->ibuf_len)
		return 0;
	return (ssize_t)(n < r->ibuf_len - (off - r->ibuf_off) ?
			 n : r->ibuf_len - (off - r->ibuf_off));
}

static void cstr(char *dst, const unsigned char *src, size_t n)
{
	memcpy(dst, src, n - 1);
	dst[n - 1] = '\0';
}

static int parse_header(struct trace_reader *r, char *err, size_t errlen)
{
	const unsigned char *h;
	ssize_t n = in_get(r, 0, TRACE_HEADER_SIZE, &h);
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
		v = le_get32(h + 8);
		if (v < TRACE_VERSION_MIN || v > TRACE_VERSION) {
			snprintf(err, errlen,
				 "%s is trace format version %u, this iovatop reads versions %u to %u; use the iovatop that recorded it",
				 r->name, v, TRACE_VERSION_MIN, TRACE_VERSION);
			return -1;
		}
		r->meta.version = v;
	}
	if (n < TRACE_HEADER_SIZE) {
		snprintf(err, errlen,
			 "%s was cut short inside its header (%zd of %d bytes): it holds no records",
			 r->name, n, TRACE_HEADER_SIZE);
		return -1;
	}
	if (le_get32(h + 12) != TRACE_HEADER_SIZE ||
	    !crc_ok(le_get32(h + HDR_CRC_OFF), trace_crc32c(h, HDR_CRC_OFF))) {
		snprintf(err, errlen,
			 "%s has a corrupted header (checksum mismatch): it cannot be read",
			 r->name);
		return -1;
	}
	v = le_get32(h + 16);
	if (v < IOVA_TRACE_ABI_VERSION_MIN || v > IOVA_TRACE_ABI_VERSION) {
		snprintf(err, errlen,
			 "%s holds records of ABI version %u, this iovatop reads versions %u to %u; use the iovatop that recorded it",
			 r->name, v, IOVA_TRACE_ABI_VERSION_MIN,
			 IOVA_TRACE_ABI_VERSION);
		return -1;
	}
	v = le_get32(h + 24);
	if (v > IBD_RULE_STRICT) {
		/* every reader needs the rule: refuse here, not in each command */
		snprintf(err, errlen,
			 "%s names decode rule %u, which this iovatop does not know; use a newer iovatop",
			 r->name, v);
		return -1;
	}
	r->meta.rule = v;
	r->meta.abi_version = le_get32(h + 16);
	r->meta.layout = le_get32(h + 20);
	r->meta.codec = le_get32(h + 28);
	r->meta.start_realtime_ns = le_get64(h + 32);
	r->meta.start_mono_ns = le_get64(h + 40);
	cstr(r->meta.kernel_release, h + 48, TRACE_KREL_LEN);
	cstr(r->meta.probe_mode, h + 113, TRACE_PROBE_LEN);
	cstr(r->meta.hostname, h + 129, TRACE_HOST_LEN);
	r->meta.contents = le_get32(h + HDR_CONTENTS_OFF) & TRACE_CONTENTS_KNOWN;
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

static int cut(struct trace_reader *r, const char *where)
{
	return stop(r, TRACE_TRUNCATED,
		    "was cut short %s at byte %llu, after %llu complete records in %u blocks; it has no end marker (the recorder was killed or the disk was full)",
		    where, (unsigned long long)r->offset,
		    (unsigned long long)r->totals.records, r->seq);
}

/*
 * Cut inside a block's payload: its frame checked out, so how many records
 * went with the cut is known and said, not hidden.
 */
static int cut_payload(struct trace_reader *r, uint32_t nrec, uint64_t have,
		       uint32_t stored)
{
	r->cut_lost = nrec;
	return stop(r, TRACE_TRUNCATED,
		    "was cut short inside block %u at byte %llu (%llu of its %u bytes there), after %llu complete records; the %u record%s of that block %s lost; it has no end marker (the recorder was killed or the disk was full)",
		    r->seq, (unsigned long long)r->offset,
		    (unsigned long long)have, stored,
		    (unsigned long long)r->totals.records, nrec,
		    nrec == 1 ? "" : "s", nrec == 1 ? "is" : "are");
}

static int end_chunk(struct trace_reader *r, const unsigned char *p,
		     uint32_t stored)
{
	const unsigned char *b;
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
	n = in_get(r, r->offset, 1, &b);
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

/*
 * Decode a zstd stream block: the frame it continues (or opens) must give
 * exactly raw bytes from exactly these stored bytes.
 */
static bool zstd_stream_block(struct trace_reader *r, uint32_t codec,
			      const unsigned char *p, uint32_t stored,
			      uint32_t raw)
{
	ZSTD_inBuffer in = { p, stored, 0 };
	ZSTD_outBuffer out = { r->raw, raw, 0 };
	size_t left = 1;

	if (codec == TRACE_CODEC_ZSTD_OPEN) {
		if (ZSTD_isError(ZSTD_DCtx_reset(r->zd, ZSTD_reset_session_only)))
			return false;
		r->zopen = true;
	} else if (!r->zopen) {
		return false;	/* continues a frame that was not open */
	}
	while (in.pos < in.size || out.pos < out.size) {
		size_t ipos = in.pos, opos = out.pos;

		left = ZSTD_decompressStream(r->zd, &out, &in);
		if (ZSTD_isError(left))
			return false;
		if (!left || (in.pos == ipos && out.pos == opos))
			break;
	}
	/* the frame ended inside this block: the next one must open another */
	if (!left)
		r->zopen = false;
	return in.pos == in.size && out.pos == raw;
}

/* Load the next block into raw; 1 when records are ready, 0 at the end. */
static int load_chunk(struct trace_reader *r)
{
	const unsigned char *h, *p;
	uint32_t kind, codec, stored, raw, nrec, seq, pos, cnt, pcrc;
	uint32_t max_codec = r->meta.version >= 2 ? TRACE_CODEC_ZSTD_MORE :
						     TRACE_CODEC_ZSTD;
	ssize_t n;
	size_t z;
	bool ok;

	n = in_get(r, r->offset, TRACE_CHUNK_HDR_SIZE, &h);
	if (n < 0)
		return (int)n;
	if (n == 0)
		return cut(r, "between blocks");
	if ((size_t)n < TRACE_CHUNK_HDR_SIZE)
		return cut(r, "inside a block frame");
	if (le_get32(h) != TRACE_CHUNK_MAGIC ||
	    !crc_ok(le_get32(h + 28), trace_crc32c(h, 28)))
		return stop(r, TRACE_CORRUPT,
			    "is corrupted: the block frame at byte %llu does not check out (after %llu good records)",
			    (unsigned long long)r->offset,
			    (unsigned long long)r->totals.records);
	kind = h[4] | h[5] << 8;
	codec = h[6] | h[7] << 8;
	stored = le_get32(h + 8);
	raw = le_get32(h + 12);
	nrec = le_get32(h + 16);
	seq = le_get32(h + 20);
	pcrc = le_get32(h + 24);
	if (seq != r->seq)
		return stop(r, TRACE_CORRUPT,
			    "is corrupted: block %u at byte %llu is out of sequence (expected %u)",
			    seq, (unsigned long long)r->offset, r->seq);
	if (raw > TRACE_CHUNK_MAX_RAW ||
	    stored > ZSTD_compressBound(TRACE_CHUNK_MAX_RAW) + 64 ||
	    (codec == TRACE_CODEC_NONE && stored != raw) ||
	    codec > max_codec ||
	    (kind != TRACE_CHUNK_DATA && kind != TRACE_CHUNK_END) ||
	    (kind == TRACE_CHUNK_END && codec != TRACE_CODEC_NONE))
		return stop(r, TRACE_CORRUPT,
			    "is corrupted: block %u at byte %llu has an impossible frame",
			    seq, (unsigned long long)r->offset);
	/* h is not valid past this read */
	n = in_get(r, r->offset + TRACE_CHUNK_HDR_SIZE, stored, &p);
	if (n < 0)
		return (int)n;
	if ((size_t)n < stored)
		return kind == TRACE_CHUNK_DATA ? cut_payload(r, nrec, n, stored) :
						  cut(r, "inside its end marker");
	if (!crc_ok(pcrc, trace_crc32c(p, stored)))
		return stop(r, TRACE_CORRUPT,
			    "is corrupted: block %u at byte %llu fails its checksum (after %llu good records)",
			    seq, (unsigned long long)r->offset,
			    (unsigned long long)r->totals.records);
	r->seq++;
	if (kind == TRACE_CHUNK_END)
		return end_chunk(r, p, stored);

	/* only the zstd stream codecs carry a frame on into the next block */
	if (codec != TRACE_CODEC_ZSTD_OPEN && codec != TRACE_CODEC_ZSTD_MORE)
		r->zopen = false;
	if (codec == TRACE_CODEC_NONE && (uintptr_t)p % 8 == 0) {
		/* stored as is: hand the records out where they lie */
		r->cur = p;
	} else {
		if (grow(&r->raw, &r->cap_raw, raw ? raw : 1))
			return -ENOMEM;
		r->cur = r->raw;
		if (codec == TRACE_CODEC_NONE) {
			/* records after a compressed block may lie unaligned */
			memcpy(r->raw, p, raw);
			ok = true;
		} else if (codec == TRACE_CODEC_ZSTD) {
			z = ZSTD_decompressDCtx(r->zd, r->raw, raw, p, stored);
			ok = !ZSTD_isError(z) && z == raw;
		} else {
			ok = zstd_stream_block(r, codec, p, stored, raw);
		}
		if (!ok)
			return stop(r, TRACE_CORRUPT,
				    "is corrupted: block %u at byte %llu does not decompress",
				    seq, (unsigned long long)r->offset);
	}
	/* every record must frame before any of them is handed out */
	for (pos = 0, cnt = 0; pos < raw; cnt++) {
		const struct iova_rec_hdr *rec = (const void *)(r->cur + pos);

		if (!rec_ok(rec, raw - pos, r->meta.abi_version, r->meta.version))
			return stop(r, TRACE_CORRUPT,
				    "is corrupted: record %u of block %u (byte %llu) is malformed",
				    cnt, seq, (unsigned long long)r->offset);
		pos += rec->size;
	}
	if (cnt != nrec || !nrec)
		return stop(r, TRACE_CORRUPT,
			    "is corrupted: block %u at byte %llu holds %u records, its frame says %u",
			    seq, (unsigned long long)r->offset, cnt, nrec);
	r->offset += TRACE_CHUNK_HDR_SIZE + stored;
	r->totals.chunks++;
	r->pos = 0;
	r->len = raw;
	return 1;
}

/*
 * Records of ABI version 1 as this ABI has them (include/iova_trace.h):
 * ALLOC gains kpage_shift, 12, the only page size a version 1 tracer
 * assumed; the callback's kernel address in REPORT_BEGIN and ANOMALY is
 * dropped here, so that nothing downstream can print it, and becomes what
 * the report's path says it was. Other records are the same.
 */
static const struct iova_rec_hdr *upgrade_v1(struct trace_reader *r,
					     const struct iova_rec_hdr *h)
{
	switch (h->type) {
	case IOVA_REC_ALLOC: {
		struct iova_rec_alloc *a = (void *)r->conv.b;

		memset(a, 0, sizeof(*a));
		memcpy(a, h, IOVA_REC_ALLOC_V1_SIZE);
		a->hdr.size = sizeof(*a);
		a->kpage_shift = IOVA_KPAGE_SHIFT_V1;
		return &a->hdr;
	}
	case IOVA_REC_REPORT_BEGIN: {
		struct iova_rec_report_begin *b = (void *)r->conv.b;

		memcpy(b, h, sizeof(*b));
		b->callback = b->path == IOVA_PATH_VFIO ? IOVA_CB_VFIO :
			      b->path == IOVA_PATH_IOMMUFD ? IOVA_CB_IOMMUFD :
			      IOVA_CB_UNKNOWN;
		b->ictx_id = 0;
		return &b->hdr;
	}
	case IOVA_REC_ANOMALY: {
		struct iova_rec_anomaly *an = (void *)r->conv.b;

		memcpy(an, h, sizeof(*an));
		an->callback = IOVA_CB_UNKNOWN;
		an->reserved0 = 0;
		return &an->hdr;
	}
	}
	return h;
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
	h = (const void *)(r->cur + r->pos);
	r->pos += h->size;
	/* the totals are the file's: the end block counted what it holds */
	totals_count(&r->totals, h);
	if (r->meta.abi_version == 1)
		h = upgrade_v1(r, h);
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

uint32_t trace_cut_lost(const struct trace_reader *r)
{
	return r->cut_lost;
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
	free(r->ibuf);
	free(r->raw);
	free(r->name);
	free(r);
}
