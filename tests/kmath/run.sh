#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# tests/kmath/run.sh [TRIALS] [SEED]: run the decode library against the
# kernel's own iova_bitmap.c, compiled in user space (see kmath.c).
#
# Needs the kernel sources the test VM builds from: by default the cached
# test-kernel trees (tests/vm/build-kernel.sh builds them when missing, from
# Debian's linux-source-6.12, linux-source-7.2 and linux-source-6.1), or
# extracted source directories linux-source-VER under $KSRC. The 6.1.0 rule
# is checked too when V5_FILE names the v5 patch's iova_bitmap.c. Each
# kernel runs the three call mixes, built for 4, 16 and 64 KiB kernel pages
# (KMATH_PAGE_SHIFTS, default "12 14 16"); the exit status is non-zero on any
# mismatch or when any kernel's source was not found.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
ksrc=${KSRC:-}
trials=${1:-200}
seed=${2:-12345}
out=$repo/.output/kmath
mkdir -p "$out"

targets=()
if [ -n "$ksrc" ]; then
	t612=$ksrc/linux-source-6.12
	t72=$ksrc/linux-source-7.2
	t61=$ksrc/linux-source-6.1
else
	t612=$("$repo/tests/vm/build-kernel.sh" 6.12)
	t72=$("$repo/tests/vm/build-kernel.sh" 7.2)
	t61=$("$repo/tests/vm/build-kernel.sh" 6.1)
fi
f612=$t612/drivers/iommu/iommufd/iova_bitmap.c
f72=$t72/drivers/iommu/iommufd/iova_bitmap.c
f61=$t61/drivers/vfio/iova_bitmap.c
fail=0
# A kernel whose iova_bitmap_set() refuses calls not wholly inside the
# bitmap (iova_bitmap::err, -EPROTO; 6.12.118) is held to the strict rule,
# and whether it failed the report to the decoder's count of refusals.
rule_of() {
	if grep -q 'bitmap->err = -EPROTO' "$1" 2>/dev/null; then
		echo "IBD_RULE_STRICT|-DKERR"
	else
		echo "IBD_RULE_CURRENT|"
	fi
}
[ -f "$f612" ] && targets+=("6.12|$f612|$(rule_of "$f612")")
[ -f "$f72" ] && targets+=("7.2|$f72|$(rule_of "$f72")")
[ -f "$f61" ] && targets+=("6.1.y|$f61|IBD_RULE_V6_1_Y|-DITER")
[ -n "${V5_FILE:-}" ] && targets+=("6.1.0|$V5_FILE|IBD_RULE_V6_1_0|-DITER")
if [ ${#targets[@]} -eq 0 ]; then
	echo "kmath: no iova_bitmap.c in $t612, $t72 or $t61; run tests/vm/build-kernel.sh 6.12 (or set KSRC)." >&2
	exit 1
fi
# every kernel, always: one missing fails the run (the others still run)
for f in "$f612" "$f72" "$f61"; do
	if [ ! -f "$f" ]; then
		echo "kmath: $f is missing; that kernel's rule was not checked." >&2
		fail=1
	fi
done

# The kernel's PAGE_SHIFT: 12 as on x86-64, then 14 and 16 as on arm64
# kernels built with 16 or 64 KiB pages. The larger pages get a quarter of
# the trials: they share all the code but the page arithmetic.
shifts=${KMATH_PAGE_SHIFTS:-12 14 16}
for t in "${targets[@]}"; do
	IFS='|' read -r name file rule iter <<<"$t"
	for shift in $shifts; do
		bin=$out/kmath-$name-$shift
		n=$trials
		[ "$shift" -ne 12 ] && n=$(( trials / 4 > 0 ? trials / 4 : 1 ))
		# shellcheck disable=SC2086
		gcc -O2 -g -std=gnu11 -w -I"$here/include" -I"$here" -I"$repo/include" \
			$iter -DKFILE="\"$file\"" -DRULE="$rule" -DNAME="\"$name\"" \
			-DKMATH_PAGE_SHIFT="$shift" \
			"$here/kmath.c" "$repo/src/iova_bitmap_decode.c" -o "$bin"
		for mode in 0 1 2; do
			"$bin" "$n" "$mode" "$seed" || fail=1
		done
	done
done
exit $fail
