/* SPDX-License-Identifier: GPL-2.0 */
/*
 * trace_file.h - the iovatop trace file: a versioned header, then the
 * records of iova_trace.h in small framed blocks (docs/trace-format.md).
 *
 * Each block carries its length and CRC32s and can be decoded once the
 * blocks before it are; zstd compresses a run of blocks as one stream, so
 * small blocks cost little ratio. A file cut short (the recorder killed, a
 * full disk) reads up to its last complete block, one record if the writer
 * is told so, and is reported as incomplete; a clean close appends an end
 * block with totals.
 * The reader is a source like the live ring buffer: it hands each record to
 * an iova_sink_fn, or one at a time to a caller that paces them (replay).
 */
#ifndef IOVATOP_TRACE_FILE_H
#define IOVATOP_TRACE_FILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "source.h"

#define TRACE_MAGIC		"IOVATRC\n"	/* 8 bytes, at offset 0 */
#define TRACE_VERSION		3	/* what the writer writes */
#define TRACE_VERSION_QMP	3	/* first to hold IOVA_REC_QMP records */
#define TRACE_VERSION_MIN	1	/* oldest the reader reads */
#define TRACE_HEADER_SIZE	256
#define TRACE_CHUNK_HDR_SIZE	32	/* the frame in front of every block */
#define TRACE_CHUNK_MAGIC	0x4b4e4843u	/* "CHNK" little-endian */
#define TRACE_CHUNK_MAX_RAW	(1u << 20)	/* largest block payload, raw */
#define TRACE_BLOCK_DEFAULT	(4u << 10)	/* raw bytes the writer puts in a block */
#define TRACE_ZFRAME_DEFAULT	(64u << 10)	/* raw bytes per zstd frame */
#define TRACE_WRITE_BYTES	(64u << 10)	/* the writer writes in these */

#define TRACE_CHUNK_DATA	1	/* records */
#define TRACE_CHUNK_END		2	/* struct trace_end: clean close */

/* Block codecs, as in the frame; in the header, the writer's choice. */
#define TRACE_CODEC_NONE	0
#define TRACE_CODEC_ZSTD	1	/* one whole zstd frame (all of version 1) */
#define TRACE_CODEC_ZSTD_OPEN	2	/* v2: starts a zstd frame, up to a flush */
#define TRACE_CODEC_ZSTD_MORE	3	/* v2: continues the previous block's frame */

#define TRACE_KREL_LEN		65	/* utsname.release */
#define TRACE_PROBE_LEN		16
#define TRACE_HOST_LEN		65

/* What the file says about where and how it was recorded. */
struct trace_meta {
	uint32_t version;		/* TRACE_VERSION of the file */
	uint32_t abi_version;		/* IOVA_TRACE_ABI_VERSION of its records */
	uint32_t layout;		/* IOVA_LAYOUT_* of the traced kernel */
	uint32_t rule;			/* enum ibd_rule to decode with */
	uint32_t codec;			/* TRACE_CODEC_* the writer used */
	char kernel_release[TRACE_KREL_LEN];
	char probe_mode[TRACE_PROBE_LEN];	/* "fentry", "kprobe", "synthetic" */
	char hostname[TRACE_HOST_LEN];
	uint64_t start_realtime_ns;	/* CLOCK_REALTIME when recording began */
	uint64_t start_mono_ns;		/* CLOCK_MONOTONIC, the records' clock */
	uint32_t contents;		/* TRACE_CONTENTS_*: what it may hold */
};

/*
 * What the writer says of the records a trace may hold (header offset
 * 194), so that a reader can leave out a pass that would look for them:
 * replay reads a trace twice when QEMU's samples may be in it. 0 says
 * nothing: every trace written before the field, and any writer that
 * leaves it. Bits beyond these are read as 0.
 */
#define TRACE_CONTENTS_DECLARED	(1u << 0)	/* the bits below are meant */
#define TRACE_CONTENTS_QMP	(1u << 1)	/* IOVA_REC_QMP (record --qmp) */
#define TRACE_CONTENTS_KNOWN	(TRACE_CONTENTS_DECLARED | TRACE_CONTENTS_QMP)

/* Whether a trace may hold IOVA_REC_QMP records: not when it says not. */
static inline bool trace_may_hold_qmp(const struct trace_meta *m)
{
	return !(m->contents & TRACE_CONTENTS_DECLARED) ||
	       (m->contents & TRACE_CONTENTS_QMP);
}

/* Totals the writer stores in the end block; the reader recounts them. */
#define TRACE_LOST_WHERE_MAX	4	/* index IOVA_LOST_* (0 unused) */
struct trace_totals {
	uint64_t records;
	uint64_t chunks;		/* data blocks */
	uint64_t raw_bytes;		/* record bytes before compression */
	uint64_t file_bytes;		/* file size, header and end included */
	uint64_t lost;			/* sum of IOVA_REC_LOST counts */
	uint64_t lost_where[TRACE_LOST_WHERE_MAX];
	uint64_t first_ts_ns;		/* of the first and last record */
	uint64_t last_ts_ns;
	uint64_t end_realtime_ns;	/* writer only: when it closed */
};

/* ---- writer -------------------------------------------------------- */

struct trace_writer;

struct trace_writer_opts {
	uint32_t codec;			/* TRACE_CODEC_NONE or _ZSTD */
	int zstd_level;			/* 0: the default (1) */
	/*
	 * Raw record bytes per block, 0: TRACE_BLOCK_DEFAULT. A block holds
	 * at least one record, so 1 makes every record its own block: a cut
	 * then loses no complete record, at the price of ratio and speed.
	 */
	uint32_t block_bytes;
	uint32_t zframe_bytes;		/* 0: TRACE_ZFRAME_DEFAULT */
};

/*
 * Create path (mode 0600, refusing to follow a symlink, truncating an
 * existing file) and write the header. meta->version/abi_version are filled
 * in. NULL with one sentence in err on failure.
 */
struct trace_writer *trace_writer_open(const char *path,
				       const struct trace_meta *meta,
				       const struct trace_writer_opts *opts,
				       char *err, size_t errlen);
/*
 * Append one record (an iova_sink_fn with ctx = the writer). Returns 0, or
 * a negative errno when the record is malformed or a write failed; the
 * reason is kept for trace_writer_error().
 */
int trace_writer_add(void *w, const struct iova_rec_hdr *rec);
/* Close the open block and write out every block so far (a no-op if none). */
int trace_writer_flush(struct trace_writer *w);
const struct trace_totals *trace_writer_totals(const struct trace_writer *w);
const char *trace_writer_error(const struct trace_writer *w);
/*
 * Flush, write the end block, fsync and close. Returns 0, or a negative
 * errno with the reason in err. Frees w either way.
 */
int trace_writer_close(struct trace_writer *w, char *err, size_t errlen);
/* Close without the end block: the file reads as cut short. Tests use it. */
void trace_writer_abandon(struct trace_writer *w);

/* ---- reader -------------------------------------------------------- */

struct trace_reader;

enum trace_state {
	TRACE_OK = 0,		/* reading, or read to a valid end block */
	TRACE_TRUNCATED,	/* ended before the end block: cut short */
	TRACE_CORRUPT,		/* a checksum or a frame did not match */
};

/*
 * Open a trace and check its header. NULL with one sentence in err for an
 * empty, non-trace, wrong-version or cut-in-the-header file.
 */
struct trace_reader *trace_open(const char *path, char *err, size_t errlen);
/* The same over a buffer that must outlive the reader (fuzzing, tests). */
struct trace_reader *trace_open_mem(const void *buf, size_t len, char *err,
				    size_t errlen);
const struct trace_meta *trace_meta(const struct trace_reader *r);

/*
 * Next record: 1 with *rec set (valid until the next call), 0 at the end
 * of the trace (trace_state() says whether it ended cleanly, was cut short
 * or hit a corrupted block), or a negative errno for an I/O error.
 */
int trace_next(struct trace_reader *r, const struct iova_rec_hdr **rec);

/*
 * Hand every remaining record to sink. Returns 0 at the end of the trace,
 * the sink's non-zero return, or a negative errno.
 */
int trace_read_all(struct trace_reader *r, iova_sink_fn sink, void *ctx);

enum trace_state trace_state(const struct trace_reader *r);
/*
 * One sentence on how the trace ended when it did not end cleanly ("cut
 * short at byte 4242 ..."), "" otherwise.
 */
const char *trace_status_msg(const struct trace_reader *r);
/* Totals counted while reading. */
const struct trace_totals *trace_read_totals(const struct trace_reader *r);
/* The end block's totals, NULL until a valid end block was read. */
const struct trace_totals *trace_end_totals(const struct trace_reader *r);
/* The checksum of the format: CRC-32C (Castagnoli), init and final ~0. */
uint32_t trace_crc32c(const void *p, size_t n);

/*
 * Records lost with a cut: those of the block the file was cut inside, as
 * its frame counts them; 0 if the cut fell between blocks or in a frame.
 */
uint32_t trace_cut_lost(const struct trace_reader *r);
/* Byte offset of the next block to read. */
uint64_t trace_offset(const struct trace_reader *r);
void trace_close(struct trace_reader *r);

#endif /* IOVATOP_TRACE_FILE_H */
