# SPDX-License-Identifier: GPL-2.0
# Sourced by the checks in tests/vm/checks/: TAP-like lines the host counts.
#
#   ok "vfio: what held"          prints "ok - $KVER vfio: what held"
#   not_ok "vfio: what did not"   prints "not ok - ...", remembers the failure
#   check "vfio: what" CMD...     ok or not_ok by CMD's exit status
#   finish                        exit 1 if anything failed
#
# Name the path (vfio, iommufd, kernel, tracer, ...) first in every line.
: "${KVER:?checks run in the test VM, started by tests/vm/vmtest.sh}"
check_failed=0

ok() { echo "ok - $KVER $*"; }
not_ok() {
	echo "not ok - $KVER $*"
	check_failed=1
}
check() {
	local what=$1
	shift
	if "$@"; then ok "$what"; else not_ok "$what"; fi
}
finish() { exit $check_failed; }

# kernel_has_iommufd: this kernel has iommufd dirty tracking, by what it
# has (the GET_DIRTY_BITMAP handler, or /dev/iommu), never by its version:
# then every iommufd scenario and check must run, and fail if it cannot.
kernel_has_iommufd() {
	[ -e /dev/iommu ] ||
		awk '$3 == "iommufd_hwpt_get_dirty_bitmap" { f = 1 } END { exit !f }' \
			/proc/kallsyms
}

# kernel_refuses_oor: iova_bitmap_set() refuses calls not wholly inside
# the bitmap and fails the report with -EPROTO (struct iova_bitmap has
# err: 6.12.118, "iommufd/iova_bitmap: Ensure that iova_bitmap_set()
# handles the full IOVA"), by the kernel's BTF.
kernel_refuses_oor() {
	bpftool btf dump file /sys/kernel/btf/vmlinux format raw 2>/dev/null |
		awk '/^\[[0-9]+\] / { s = "" } /^\[[0-9]+\] STRUCT .iova_bitmap. / { s = 1 }
		     s && /^\t.err. / { f = 1 } END { exit !f }'
}

# kernel_bits_any_window: the bits of an iova_bitmap_set() call do not
# depend on the window pinned at the time (struct iova_bitmap_map has
# length: 6.11 on), by the kernel's BTF; there iovatop keeps calls in its
# kernel-side bitmap.
kernel_bits_any_window() {
	bpftool btf dump file /sys/kernel/btf/vmlinux format raw 2>/dev/null |
		awk '/^\[[0-9]+\] / { s = "" } /^\[[0-9]+\] STRUCT .iova_bitmap_map. / { s = 1 }
		     s && /^\t.length. / { f = 1 } END { exit !f }'
}

# preempt_model: the preemption model in force (none, voluntary, full,
# lazy), from the scheduler's debugfs file, else "unknown".
preempt_model() {
	local m
	m=$(sed -n 's/.*(\([a-z]*\)).*/\1/p' /sys/kernel/debug/sched/preempt 2>/dev/null)
	echo "${m:-unknown}"
}

# truth_dir SCENARIO: its ground-truth directory from $TRUTH_DIRS, or nothing.
truth_dir() {
	local d
	for d in ${TRUTH_DIRS:-}; do
		[ "$(sed -n 's/^scenario=//p' "$d/info.txt" 2>/dev/null)" = "$1" ] &&
			echo "$d" && return 0
	done
	return 1
}

# tsv_col FILE NAME...: prints the named columns of a TSV with a header.
tsv_col() {
	local f=$1
	shift
	awk -F'\t' -v want="$*" '
		NR == 1 { n = split(want, w, " ")
			  for (i = 1; i <= NF; i++) idx[$i] = i
			  for (j = 1; j <= n; j++) if (!(w[j] in idx)) {
				  print "tsv_col: no column " w[j] > "/dev/stderr"; exit 1 }
			  next }
		{ line = ""
		  for (j = 1; j <= n; j++) line = line (j > 1 ? "\t" : "") $(idx[w[j]])
		  print line }' "$f"
}
