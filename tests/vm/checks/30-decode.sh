#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# iovatop decode, fed the iova_bitmap_set calls of each report, must
# rebuild byte for byte the bitmap the real kernel returned: our index
# math against the kernel's, on every kernel, both paths. Decode runs
# with this kernel's rule and the report's buffer offset, so the anomaly
# scenario's out-of-range calls must come out as the kernel made them
# too: the same tail bits in the last word and the same number of bits
# spilled past the bitmap (truth.tsv's spill_bits).
. "$(dirname "$0")/lib.sh"

if ! "$IOVATOP" decode --help >/dev/null 2>&1; then
	not_ok "decode: 'iovatop decode' does not run ($("$IOVATOP" decode --help 2>&1 | head -1))"
	finish
fi

# The rule by what the kernel's BTF says, never by its version: an err
# member (6.12.118, "iommufd/iova_bitmap: Ensure that iova_bitmap_set()
# handles the full IOVA") is the strict rule, where an out-of-range call
# sets nothing and fails the report with -EPROTO; a window with its own
# length (a84c690e10ae, 6.11) or set_ahead_length (2780025e01e2, 6.8) is
# the current rule; without either it is 6.1's iterator, and 6.1.192 has
# "vfio/iova_bitmap: Fix PAGE_SIZE unaligned bitmaps" (v6.1.y).
members=$(bpftool btf dump file /sys/kernel/btf/vmlinux format raw |
	awk '/^\[[0-9]+\] / { s = "" } /^\[[0-9]+\] STRUCT .iova_bitmap(_map)?. / { s = $3 }
	     s != "" && /^\t/ { print s, $1 }')
if grep -q "'iova_bitmap' 'err'" <<<"$members"; then
	rule=strict
elif grep -q "'iova_bitmap_map' 'length'\|'iova_bitmap' 'set_ahead_length'" <<<"$members"; then
	rule=current
elif grep -q "'iova_bitmap' 'mapped'" <<<"$members"; then
	rule=v6.1.y
else
	not_ok "decode: the kernel's BTF has no struct iova_bitmap to choose the decode rule by"
	finish
fi

for dir in ${TRUTH_DIRS:-}; do
	sc=$(sed -n 's/^scenario=//p' "$dir/info.txt")
	declare -A n=() bad=() first=() eproto=()
	while IFS=$'\t' read -r seq path iova length page_size buf_offset spill ret; do
		n[$path]=$((${n[$path]:-0} + 1))
		out=$TMPDIR/decode.$seq.bin
		if ! "$IOVATOP" decode --iova "$iova" --length "$length" \
			--page-size "$page_size" --buf-offset "$buf_offset" \
			--rule "$rule" --stats "$dir/sets/$seq.txt" >"$out" 2>"$out.err"; then
			bad[$path]=$((${bad[$path]:-0} + 1))
			first[$path]=${first[$path]:-"seq $seq: decode failed: $(grep -v = "$out.err" | head -1)"}
		elif ! cmp -s "$out" "$dir/bitmaps/$seq.bin"; then
			bad[$path]=$((${bad[$path]:-0} + 1))
			first[$path]=${first[$path]:-"seq $seq: $(cmp "$out" "$dir/bitmaps/$seq.bin" 2>&1 | head -1)"}
		elif got=$(sed -n 's/^spill_bits=//p' "$out.err") && [ "$got" != "$spill" ]; then
			bad[$path]=$((${bad[$path]:-0} + 1))
			first[$path]=${first[$path]:-"seq $seq: decode spills ${got:-?} bits past the bitmap, the kernel $spill"}
		elif [ $rule = strict ] &&
		     rej=$(sed -n 's/^rejected=//p' "$out.err") &&
		     { { [ "${rej:-0}" -gt 0 ] && [ "$ret" != -71 ]; } ||
		       { [ "${rej:-0}" -eq 0 ] && [ "$ret" = -71 ]; }; }; then
			# refused calls, and only they, fail the report (-EPROTO)
			bad[$path]=$((${bad[$path]:-0} + 1))
			first[$path]=${first[$path]:-"seq $seq: decode refused ${rej:-?} calls, the report ioctl returned $ret"}
		fi
		[ $rule = strict ] && [ "$ret" = -71 ] && eproto[$path]=$((${eproto[$path]:-0} + 1))
		rm -f "$out" "$out.err"
	done < <(tsv_col "$dir/truth.tsv" seq path iova length page_size buf_offset spill_bits ret)
	for path in "${!n[@]}"; do
		what="the kernel's bitmap"
		[ "$sc" = vfio-anomaly ] && what="the kernel's bitmap and spill"
		[ $rule = strict ] && what+=", and which reports failed with -EPROTO (${eproto[$path]:-0})"
		if [ "${bad[$path]:-0}" -eq 0 ]; then
			ok "$path $sc: iovatop decode --rule $rule of sets/ rebuilds $what in all ${n[$path]} reports"
		else
			not_ok "$path $sc: iovatop decode --rule $rule differs from $what in ${bad[$path]} of ${n[$path]} reports"
			echo "# ${first[$path]}"
		fi
	done
	[ ${#n[@]} -gt 0 ] || not_ok "decode $sc: $dir/truth.tsv has no report to decode"
	unset n bad first eproto
done
[ -n "${TRUTH_DIRS:-}" ] || not_ok "decode: no ground-truth directories to check"
finish
