#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The guest kernel has what iovatop traces and what the tests drive.
. "$(dirname "$0")/lib.sh"

# has_word FIELD WORD FILE: a line whose FIELD-th field is exactly WORD
# (grep -w would also take iova_bitmap_set.cold or iova_bitmap_set.isra.0)
has_word() {
	awk -v n="$1" -v w="$2" '$n == w { found = 1 } END { exit !found }' "$3"
}
# struct_in_btf NAME: the kernel's BTF defines struct NAME (a bare grep of
# the BTF blob would also match the function names' strings)
struct_in_btf() {
	bpftool btf dump file /sys/kernel/btf/vmlinux format raw |
		grep -q "STRUCT '$1' size="
}

for fn in iova_bitmap_alloc iova_bitmap_for_each iova_bitmap_set iova_bitmap_free; do
	check "kernel: $fn is in /proc/kallsyms" \
		has_word 3 "$fn" /proc/kallsyms
done
check "kernel: iova_bitmap_set can be traced (available_filter_functions)" \
	has_word 1 iova_bitmap_set /sys/kernel/tracing/available_filter_functions
check "kernel: BTF at /sys/kernel/btf/vmlinux" test -s /sys/kernel/btf/vmlinux
check "kernel: BTF describes struct iova_bitmap (bpftool btf dump)" \
	struct_in_btf iova_bitmap
check "kernel: bpffs mounted at /sys/fs/bpf" \
	grep -q ' /sys/fs/bpf bpf ' /proc/mounts

ndev=$(grep -c . /sys/kernel/debug/iovatop_test/devices 2>/dev/null)
check "vfio: test driver loaded with ${ndev:-0} devices (>= 3)" \
	test "${ndev:-0}" -ge 3
check "vfio: test driver has BTF for its module" \
	test -s /sys/kernel/btf/iovatop_test
if [ -e /dev/vfio/devices ]; then
	check "vfio: each test device has a vfio cdev" \
		test "$(ls /dev/vfio/devices | wc -l)" -ge "${ndev:-1}"
else
	check "vfio: each test device has a vfio group" \
		test "$(ls /dev/vfio | grep -c '^[0-9]')" -ge "${ndev:-1}"
fi
# iommufd by what the kernel has, never by its version: 6.7+ built with
# IOMMUFD has the GET_DIRTY_BITMAP handler and /dev/iommu, and then every
# iommufd check must pass; a kernel without either says so in a line.
if kernel_has_iommufd; then
	check "iommufd: /dev/iommu exists" test -c /dev/iommu
	check "iommufd: the selftest mock is built in (IOMMUFD_TEST)" \
		has_word 3 iommufd_test /proc/kallsyms
	check "iommufd: the hwpt attribution probe's iommufd_hwpt_get_dirty_bitmap can be traced" \
		has_word 1 iommufd_hwpt_get_dirty_bitmap \
		/sys/kernel/tracing/available_filter_functions
	# the mock's dirty reader: an xarray walk up to 6.18, the generic
	# page table's AMDv1 "mock" format from 6.19
	mock=
	for fn in mock_domain_read_and_clear_dirty pt_iommu_amdv1_mock_read_and_clear_dirty; do
		has_word 3 "$fn" /proc/kallsyms && mock=$fn
	done
	check "iommufd: the mock domain reads dirty bits (${mock:-neither mock_domain_read_and_clear_dirty nor pt_iommu_amdv1_mock_read_and_clear_dirty in kallsyms})" \
		test -n "$mock"
	check "iommufd: kprobe events can be defined (the workload records the kernel's iova_bitmap_set calls with one)" \
		test -w /sys/kernel/tracing/kprobe_events
	check "iommufd: hugetlbfs is in the kernel (the huge-page hwpt)" \
		grep -qw hugetlbfs /proc/filesystems
else
	ok "iommufd: not in this kernel (no /dev/iommu, no iommufd_hwpt_get_dirty_bitmap in kallsyms): its scenarios and checks do not run here"
fi
finish
