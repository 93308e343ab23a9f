/* SPDX-License-Identifier: GPL-2.0 */
/*
 * live_probe.h - what the running kernel offers the live source, asked
 * before anything is loaded: which iova_bitmap_* functions exist and in
 * which module (kallsyms), whether we may trace (capabilities), whether a
 * fentry program attaches, and the layout of struct iova_bitmap its BTF
 * describes (src/live_probe.c). Only src/source_live.c uses it.
 */
#ifndef IOVATOP_LIVE_PROBE_H
#define IOVATOP_LIVE_PROBE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "iova_bitmap_decode.h"

/* The functions the tracer attaches to, and what each is for. */
enum fn_id {
	FN_ALLOC,
	FN_FOR_EACH,
	FN_SET,
	FN_FREE,
	FN_HWPT,		/* iommufd only, 6.7+: names the hwpt */
	FN_CB_VFIO,		/* callbacks: tell the vfio and iommufd paths apart */
	FN_CB_IOMMUFD,
	FN_MAX,
};

extern const char *const fn_names[FN_MAX];

struct ksym {
	uint64_t addr;
	bool found;
	char module[64];	/* "" when built in */
};

/* Fill ks[FN_MAX] from /proc/kallsyms; 0 or a negative errno. */
int read_kallsyms(struct ksym *ks);

/* Root, CAP_SYS_ADMIN, or CAP_BPF with CAP_PERFMON. */
bool have_bpf_caps(void);

/*
 * Whether a fentry program attaches to fn (found as ks); why says what
 * was found either way, in words for -v.
 */
bool fentry_can_attach(const struct ksym *ks, const char *fn, char *why,
		       size_t whylen);

/*
 * Whether a BPF program run from a trampoline (fentry) can be preempted
 * on this kernel: 1 yes, 0 no, -1 cannot tell; why says from what.
 */
int trampoline_preemptible(char *why, size_t whylen);

/*
 * IOVA_LAYOUT_* of the BTF behind ks, the unit of its indexes, and whether
 * iova_bitmap has the err member of kernels that refuse out-of-range calls.
 */
uint32_t btf_layout(const struct ksym *ks, uint32_t *index_bits, bool *strict);

/* The decode rule of the running kernel, from its layout. */
enum ibd_rule layout_rule(uint32_t layout, uint32_t index_bits, bool strict);

#endif /* IOVATOP_LIVE_PROBE_H */
