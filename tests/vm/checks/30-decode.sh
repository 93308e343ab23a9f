#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# iovatop decode, fed the iova_bitmap_set calls of each report, must
# rebuild byte for byte the bitmap the real kernel returned: our index
# math against the kernel's, on every kernel, both paths.
. "$(dirname "$0")/lib.sh"

if ! "$IOVATOP" decode --help >/dev/null 2>&1; then
	not_ok "decode: 'iovatop decode' does not run ($("$IOVATOP" decode --help 2>&1 | head -1))"
	finish
fi

# same_bits A B NBITS: the first NBITS bits of files A and B are equal.
same_bits() {
	local a=$1 b=$2 nbits=$3 full=$(($3 / 8)) rest=$(($3 % 8)) x y
	cmp -s -n "$full" "$a" "$b" || return 1
	[ "$rest" -eq 0 ] && return 0
	x=$(od -An -tu1 -j "$full" -N1 "$a")
	y=$(od -An -tu1 -j "$full" -N1 "$b")
	[ $((x & ((1 << rest) - 1))) -eq $((y & ((1 << rest) - 1))) ]
}

for dir in ${TRUTH_DIRS:-}; do
	sc=$(sed -n 's/^scenario=//p' "$dir/info.txt")
	declare -A n=() bad=() first=()
	while IFS=$'\t' read -r seq path iova length page_size nbytes; do
		n[$path]=$((${n[$path]:-0} + 1))
		out=$TMPDIR/decode.$seq.bin
		if ! "$IOVATOP" decode --iova "$iova" --length "$length" \
			--page-size "$page_size" "$dir/sets/$seq.txt" >"$out" 2>"$out.err"; then
			bad[$path]=$((${bad[$path]:-0} + 1))
			first[$path]=${first[$path]:-"seq $seq: decode failed: $(head -1 "$out.err")"}
		elif [ "$sc" = vfio-anomaly ]; then
			# Out-of-range calls: the kernel's spill past the
			# bitmap's bits is its own; the bits inside must agree.
			nbits=$(( (length + page_size - 1) / page_size ))
			if ! same_bits "$out" "$dir/bitmaps/$seq.bin" "$nbits"; then
				bad[$path]=$((${bad[$path]:-0} + 1))
				first[$path]=${first[$path]:-"seq $seq: the first $nbits bits differ"}
			fi
		elif ! cmp -s "$out" "$dir/bitmaps/$seq.bin"; then
			bad[$path]=$((${bad[$path]:-0} + 1))
			first[$path]=${first[$path]:-"seq $seq: $(cmp "$out" "$dir/bitmaps/$seq.bin" 2>&1 | head -1)"}
		fi
		rm -f "$out" "$out.err"
	done < <(tsv_col "$dir/truth.tsv" seq path iova length page_size nbytes)
	for path in "${!n[@]}"; do
		what="the kernel's bitmap"
		[ "$sc" = vfio-anomaly ] && what="the kernel's in-range bits"
		if [ "${bad[$path]:-0}" -eq 0 ]; then
			ok "$path $sc: iovatop decode of sets/ rebuilds $what in all ${n[$path]} reports"
		else
			not_ok "$path $sc: iovatop decode differs from $what in ${bad[$path]} of ${n[$path]} reports"
			echo "# ${first[$path]}"
		fi
	done
	unset n bad first
done
[ -n "${TRUTH_DIRS:-}" ] || not_ok "decode: no ground-truth directories to check"
finish
