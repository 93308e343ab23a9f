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
if [ "$KSERIES" = 6.12 ]; then
	check "iommufd: /dev/iommu exists" test -c /dev/iommu
	check "iommufd: the selftest mock is built in (IOMMUFD_TEST)" \
		has_word 3 iommufd_test /proc/kallsyms
fi
finish
