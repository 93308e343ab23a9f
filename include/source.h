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

#endif /* IOVATOP_SOURCE_H */
