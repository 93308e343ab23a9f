/* SPDX-License-Identifier: GPL-2.0 */
/*
 * source_live.h - the live source: with what src/live_probe.c finds out
 * about the kernel, load and attach the BPF programs, drain the ring
 * buffer into a sink (src/source_live.c), --verify in src/verify.c.
 *
 * Signals: the live source installs no handler. The caller installs its
 * own for SIGINT and SIGTERM with sigaction() and without SA_RESTART,
 * setting a flag; live_poll() then returns 0 early (the poll is
 * interrupted), the caller sees the flag, drains what is left with one
 * live_poll(l, 0, ...) and calls live_close(), which detaches every
 * program. A process killed without that still leaves nothing attached:
 * the links die with its file descriptors.
 *
 * --verify: the BPF side copies each user bitmap of at most
 * verify_max_bytes (default LIVE_VERIFY_MAX_BYTES) into the ring buffer,
 * once at iova_bitmap_alloc() and once when iova_bitmap_for_each()
 * returns, in the task of the ioctl, so the copy is exactly what the
 * kernel left there. The live source rebuilds the report with the decode
 * library from the same records the sink gets and delivers an
 * IOVA_REC_VERIFY right after each IOVA_REC_REPORT_END: OK, MISMATCH (with
 * the count and the first differing u64 word) or SKIPPED (larger than the
 * limit, a read-back chunk lost or faulted, or the report incomplete).
 * Larger bitmaps are counted, not read: a read-back costs ring-buffer
 * space, two copies of the bitmap per report.
 *
 * Test and benchmark knobs, read from the environment by live_open() for
 * whichever subcommand opens the live source: IOVATOP_RINGBUF_BYTES=N
 * sizes the ring buffer when ringbuf_bytes is 0 (rounded up to a power of
 * two, at least 4096: the VM checks make it overflow on purpose), and
 * IOVATOP_KPROBE=1 sets force_kprobe (the VM checks test the fallback on
 * kernels where fentry works), and IOVATOP_VERIFY_FLIP=1 flips one bit of
 * every --verify rebuild before the comparison, so that a check can prove
 * a mismatch is caught and shown.
 */
#ifndef IOVATOP_SOURCE_LIVE_H
#define IOVATOP_SOURCE_LIVE_H

#include <argp.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "iova_bitmap_decode.h"
#include "source.h"
#include "trace_file.h"

#define LIVE_VERIFY_MAX_BYTES	(1u << 20)	/* 8 Mi bits: 32 GiB at 4 KiB */
#define LIVE_KBITS_BYTES	(64ull << 20)	/* 2 TiB at 4 KiB pages */
#define LIVE_KBITS_MAX_BYTES	(16ull << 30)	/* u32 words of a BPF array */

struct live_opts {
	bool verbose;			/* -v: libbpf messages and probe choices */
	bool verify;			/* --verify: read back user bitmaps */
	uint64_t verify_max_bytes;	/* larger user bitmaps are not read back;
					   0: LIVE_VERIFY_MAX_BYTES */
	uint32_t ringbuf_bytes;		/* 0: the default size */
	bool force_kprobe;		/* test the fallback on a kernel with BTF */
	/*
	 * --kernel-bitmap: bytes of kernel memory for the kernel-side bitmap
	 * (bpf/iova_live.h), used on 6.11 and later; kbits_given false: the
	 * default, LIVE_KBITS_BYTES; 0 ships every call as ranges.
	 */
	uint64_t kbits_bytes;
	bool kbits_given;
};

/*
 * The argp child for these options (src/live_args.c: -v, --verify,
 * --kprobe): a command lists it among its argp's children and passes its
 * struct live_opts as that child's input at ARGP_KEY_INIT.
 */
extern const struct argp live_args_argp;

struct live;

/*
 * Probe, load and attach. On failure returns NULL with one sentence in err
 * that names what is missing and what to do (no iova_bitmap_set in this
 * kernel, not root, no BTF ...).
 */
struct live *live_open(const struct live_opts *opts, char *err, size_t errlen);

/*
 * Wait up to timeout_ms for records and hand each to sink, in order,
 * including IOVA_REC_LOST records made from the drop counters. Returns the
 * number of records delivered, 0 on timeout or signal, or the sink's
 * non-zero return / a negative errno.
 */
int live_poll(struct live *l, int timeout_ms, iova_sink_fn sink, void *ctx);

/*
 * What a session on this source records about itself: the kernel's
 * release and the host's name (uname), probe mode, layout, decode rule,
 * and both clocks now. record stores it in the trace; the live view shows
 * it as replay shows the trace's.
 */
void live_meta(const struct live *l, struct trace_meta *meta);

const char *live_probe_mode(const struct live *l);	/* "fentry" or "kprobe" */
uint32_t live_layout(const struct live *l);		/* IOVA_LAYOUT_* */
enum ibd_rule live_rule(const struct live *l);
uint64_t live_lost(const struct live *l);		/* all drops so far */

/*
 * The ring buffer's size, the bytes waiting in it now (read from its
 * producer and consumer positions) and the most that waited at once
 * since the last call, as the BPF programs saw it when they asked (at
 * each record they submit, but only every fourth batch of set calls, and
 * when a record found no room), or as now, if more. Resets that peak. live_ring_hook() is the same
 * as a view_run ring hook: ctx is the live source.
 */
void live_ring_fill(struct live *l, struct ring_fill *f);
void live_ring_hook(void *ctx, struct ring_fill *f);

/*
 * Detach and free; safe on NULL. Says on stderr how many set calls
 * belonged to reports begun before the probes attached (in no record).
 */
void live_close(struct live *l);

#endif /* IOVATOP_SOURCE_LIVE_H */
