/* SPDX-License-Identifier: GPL-2.0 */
/*
 * source.h - where records come from: the live BPF ring buffer
 * (src/source_live.c) or a trace file (src/trace_file.c). Both hand each
 * record, in order, to the same sink, so live, record and replay share
 * everything downstream (the model and the views).
 */
#ifndef IOVATOP_SOURCE_H
#define IOVATOP_SOURCE_H

#include <stddef.h>
#include <stdint.h>
#include "iova_trace.h"

/*
 * Called once per record. rec points at a whole record of rec->size bytes,
 * valid only during the call. A non-zero return stops the source and is
 * passed back to its caller.
 */
typedef int (*iova_sink_fn)(void *ctx, const struct iova_rec_hdr *rec);

/*
 * How full the live source's ring buffer is, the tool's own health: taken
 * at each snapshot of a live session (live_ring_fill()). A trace file has
 * no ring: size_bytes 0, and the outputs leave the figures out.
 */
struct ring_fill {
	uint64_t size_bytes;	/* the ring's size; 0: no ring */
	uint64_t now_bytes;	/* waiting to be read when it was taken */
	uint64_t peak_bytes;	/* most waiting at once since the one before */
};

/* Fill is 0 to 1 of the size; 0 without a ring. */
static inline double ring_fill_ratio(const struct ring_fill *f, uint64_t bytes)
{
	return f && f->size_bytes ? (double)bytes / (double)f->size_bytes : 0;
}

#endif /* IOVATOP_SOURCE_H */
