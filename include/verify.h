/* SPDX-License-Identifier: GPL-2.0 */
/*
 * verify.h - --verify for the live source (src/verify.c). The live source
 * rebuilds each report itself, with the decode library and from the very
 * records the sink gets, and compares the rebuild with the user bitmap the
 * BPF side read back in the ioctl's task. The kernel ORs into whatever the
 * buffer held, so the buffer's contents at iova_bitmap_alloc() are read
 * too and ORed into the rebuild. What the sink gets: include/source_live.h.
 */
#ifndef IOVATOP_VERIFY_H
#define IOVATOP_VERIFY_H

#include <stdbool.h>
#include <stdint.h>

#include "iova_bitmap_decode.h"
#include "iova_trace.h"
#include "../bpf/iova_live.h"

#define VERIFY_BITMAPS		64

struct vbitmap {
	bool used;
	bool rebuild_ok;	/* ibd_init() took the geometry */
	bool before_ok;		/* every byte of "before" arrived */
	bool after_ok;
	uint64_t bitmap_id;
	uint64_t report_id;	/* report in progress, 0 when none */
	uint64_t nbytes;	/* bytes of the user bitmap */
	uint64_t before_got;
	uint64_t after_got;
	uint8_t *before;
	uint8_t *after;
	struct ibd d;
};

struct verify {
	uint64_t max;		/* bytes; 0 when --verify is off */
	bool flip;		/* IOVATOP_VERIFY_FLIP=1, see source_live.h */
	enum ibd_rule rule;	/* of the running kernel */
	struct vbitmap vb[VERIFY_BITMAPS];
};

/* Feed a record the sink gets (ALLOC, REPORT_BEGIN, RANGE, FREE). */
void verify_record(struct verify *vf, const struct iova_rec_hdr *h);

/* Keep a chunk of a user bitmap the BPF side read back. */
void verify_ubits(struct verify *vf, const struct iova_live_ubits *u);

/*
 * The VERIFY record of a report that just ended, in out; false when the
 * report's bitmap is not followed (then there is nothing to deliver).
 */
bool verify_end(struct verify *vf, const struct iova_rec_report_end *e,
		struct iova_rec_verify *out);

/* Free every rebuild. */
void verify_free(struct verify *vf);

#endif /* IOVATOP_VERIFY_H */
