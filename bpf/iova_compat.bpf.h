/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * iova_compat.bpf.h - every layout difference of struct iova_bitmap that
 * iova_trace.bpf.c has to know about, in one place.
 *
 * vmlinux.h is generated from the 6.12 test kernel. Older layouts are
 * described by "___flavour" structs: libbpf strips the suffix and matches
 * the fields by name against the running kernel's BTF, so
 * bpf_core_field_exists() says, at load time, which layout this is. No
 * kernel version number is ever compared.
 *
 * The layouts (mainline commits; stable trees carry backports):
 *
 * IOVA_LAYOUT_V6_1 - 58ccf0190d19 ("vfio: Add an IOVA bitmap support"),
 *   v6.1. for_each walks windows of at most 512 pinned user pages and calls
 *   back once per window; iova_bitmap_set() silently drops bits beyond the
 *   pinned pages. The user pointer was "u64 __user *bitmap" until
 *   d18411ec3057 ("iommufd/iova_bitmap: Switch iova_bitmap::bitmap to an u8
 *   array"), v6.8, which 6.1.y also has (6.1.192 reads "u8 __user
 *   *bitmap"). The pointer's type is the unit of mapped_base_index and
 *   mapped_total_index (u64 words before, bytes after), and BTF cannot say
 *   which a pointer points to when both are spelled through typedefs, so
 *   the unit is worked out from mapped_total_index at run time
 *   (compat_index_bits()), not from the layout.
 *
 * IOVA_LAYOUT_V6_8 - 2780025e01e2 ("iommufd/iova_bitmap: Handle recording
 *   beyond the mapped pages"), v6.8 to v6.10: a set call running past the
 *   pinned pages stores the rest in iova_bitmap::set_ahead_length, and
 *   iova_bitmap_advance() replays it through iova_bitmap_set() itself. Such
 *   a replay must not be counted as a second call (see is_set_ahead() in
 *   iova_trace.bpf.c). Not tested on a running kernel: Debian has sources
 *   of 6.1, 6.12 and 7.2 only (docs/kernels.md).
 *
 * IOVA_LAYOUT_V6_11 - a84c690e10ae ("iommufd/iova_bitmap: Cache mapped
 *   length in iova_bitmap_map struct"), 7a7bba16244a ("iommufd/iova_bitmap:
 *   Dynamic pinning on iova_bitmap_set()") and 53e6b65693b6
 *   ("iommufd/iova_bitmap: Remove iterator logic"), v6.11: the mapped
 *   window has its own length, for_each calls back once for the whole
 *   range, and iova_bitmap_set() moves and pins the window itself, so the
 *   window is read after the call that moved it. set_ahead_length is gone.
 *   7.2 has the same layout (7.2.13's iova_bitmap.c differs from 6.12's
 *   only in kzalloc_obj() and the string export namespace).
 */
#ifndef IOVA_COMPAT_BPF_H
#define IOVA_COMPAT_BPF_H

#include "vmlinux.h"
#include <bpf/bpf_core_read.h>

#include "iova_trace.h"

/* v6.8 .. v6.10, 2780025e01e2 */
struct iova_bitmap___v6_8 {
	unsigned long set_ahead_length;
} __attribute__((preserve_access_index));

/* v6.11+, a84c690e10ae */
struct iova_bitmap_map___v6_11 {
	unsigned long length;
} __attribute__((preserve_access_index));

static __always_inline bool compat_has_set_ahead(void)
{
	return bpf_core_field_exists(struct iova_bitmap___v6_8, set_ahead_length);
}

static __always_inline bool compat_has_mapped_length(void)
{
	return bpf_core_field_exists(struct iova_bitmap_map___v6_11, length);
}

/* IOVA_LAYOUT_* of the running kernel; resolved when the program loads. */
static __always_inline __u32 compat_layout(void)
{
	if (compat_has_set_ahead())
		return IOVA_LAYOUT_V6_8;
	if (compat_has_mapped_length())
		return IOVA_LAYOUT_V6_11;
	return IOVA_LAYOUT_V6_1;
}

/*
 * The 6.1 .. 6.10 kernels do not store the window length; they compute it
 * in iova_bitmap_mapped_length(). This mirrors that function: the u64
 * words left to the end of the bitmap, capped by what the pinned pages
 * hold, turned into IOVA bytes and capped at the end of the bitmap.
 */
static __always_inline __u64 compat_calc_mapped_length(__u64 bm_iova,
						       __u64 bm_length,
						       __u64 pgshift,
						       __u64 index_bits,
						       __u64 base_index,
						       __u64 total_index,
						       __u64 win_iova,
						       __u64 npages, __u64 pgoff,
						       __u32 kpage_shift)
{
	__u64 bytes = (npages << (kpage_shift & 63)) - pgoff;
	__u64 units = total_index - base_index;
	__u64 cap = index_bits == 64 ? (bytes + 7) / 8 : bytes;
	__u64 max_iova = bm_iova + bm_length - 1;
	__u64 remaining;

	if (units > cap)
		units = cap;
	remaining = (units * index_bits) << (pgshift & 63);
	if (win_iova + remaining - 1 > max_iova)
		remaining -= (win_iova + remaining - 1) - max_iova;
	return remaining;
}

/*
 * Bits per unit of mapped_base_index: 64 while the user pointer was a u64
 * pointer, 8 since d18411ec3057. alloc sets mapped_total_index to
 * offset_to_index(length - 1) + 1, and offset_to_index divides by the
 * unit's bits; when both units give the same total the bitmap fits one
 * window and the unit does not matter, 8 is returned.
 */
static __always_inline __u64 compat_index_bits(__u64 length, __u64 pgshift,
					       __u64 total_index)
{
	__u64 bits = ((length - 1) >> (pgshift & 63));

	if (total_index == bits / 8 + 1)
		return 8;
	if (total_index == bits / 64 + 1)
		return 64;
	return 8;
}

/*
 * iova_bitmap::mapped.length where it exists (6.11+), computed before;
 * kpage_shift is the kernel's PAGE_SHIFT, the unit npages counts in.
 */
static __always_inline __u64 compat_mapped_length(struct iova_bitmap *b,
						  __u64 index_bits,
						  __u32 kpage_shift)
{
	struct iova_bitmap_map___v6_11 *m = (void *)&b->mapped;

	if (compat_has_mapped_length())
		return BPF_CORE_READ(m, length);
	return compat_calc_mapped_length(BPF_CORE_READ(b, iova),
					 BPF_CORE_READ(b, length),
					 BPF_CORE_READ(b, mapped.pgshift),
					 index_bits,
					 BPF_CORE_READ(b, mapped_base_index),
					 BPF_CORE_READ(b, mapped_total_index),
					 BPF_CORE_READ(b, mapped.iova),
					 BPF_CORE_READ(b, mapped.npages),
					 BPF_CORE_READ(b, mapped.pgoff),
					 kpage_shift);
}

/*
 * The hwpt attribution probe, iommufd_hwpt_get_dirty_bitmap(struct
 * iommufd_ucmd *ucmd): ucmd->cmd is the copied-in struct
 * iommu_hwpt_get_dirty_bitmap, whose hwpt_id names the hwpt. Both came
 * with IOMMU_HWPT_GET_DIRTY_BITMAP in v6.7 (drivers/iommu/iommufd/
 * hw_pagetable.c) and read the same up to 7.2, where iommufd_ucmd grew a
 * new_obj member after cmd (7.2's drivers/iommu/iommufd/iommufd_private.h;
 * CO-RE finds cmd wherever it is). A kernel without either field reads 0,
 * which the model shows as "hwpt ?": the report is still traced. Whether
 * the function is there at all is decided in user space, from kallsyms.
 */
static __always_inline __u64 compat_ucmd_hwpt(struct iommufd_ucmd *ucmd,
					       const bool btf)
{
	struct iommu_hwpt_get_dirty_bitmap *cmd;

	if (!bpf_core_field_exists(ucmd->cmd) ||
	    !bpf_core_field_exists(struct iommu_hwpt_get_dirty_bitmap, hwpt_id))
		return 0;
	/* a fentry program loads ucmd's fields itself; cmd is a void * */
	cmd = btf ? ucmd->cmd : BPF_CORE_READ(ucmd, cmd);
	return BPF_CORE_READ(cmd, hwpt_id);
}

/*
 * The iommufd context the ioctl came in on: ucmd->ictx, there since
 * iommufd was merged (v6.2, drivers/iommu/iommufd/iommufd_private.h). Its
 * address only ever serves as a map key in the kernel (see
 * ictx_number() in iova_trace.bpf.c); 0 when the field is not there.
 */
static __always_inline __u64 compat_ucmd_ictx(struct iommufd_ucmd *ucmd,
					       const bool btf)
{
	if (!bpf_core_field_exists(ucmd->ictx))
		return 0;
	return btf ? (__u64)ucmd->ictx : (__u64)BPF_CORE_READ(ucmd, ictx);
}

#endif /* IOVA_COMPAT_BPF_H */
