#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Each scenario's ground truth is whole and matches what the workload
# programmed: files, sizes, per-report bitmaps, per-device totals, the
# converging or stuck trend, and the hotspot. vfio: the test driver makes
# the programmed calls, so bitmaps equal the program. iommufd: the IOMMU
# decides how much one call covers (a 2 KiB mock page on 6.12, a whole
# page-table entry or contiguous block on the generic page table), so the
# bitmap must equal the calls the kernel made (recorded by tracefs), hold
# every page dirtied, and no call may cover only clean pages.
. "$(dirname "$0")/lib.sh"

# mawk has no strtonum: 0x-hex columns are read with this.
awk_hex='
function hex(s,   v, i) {
	s = tolower(s)
	if (s !~ /^0x/)
		return s + 0
	v = 0
	for (i = 3; i <= length(s); i++)
		v = v * 16 + index("0123456789abcdef", substr(s, i, 1)) - 1
	return v
}'

# shape DIR [OK_RET]: one line per problem with the files and columns;
# OK_RET is a failed ioctl's return that is right there (-71, -EPROTO,
# from a kernel that refuses out-of-range calls: 30-decode checks that
# each such report made one).
shape() {
	local dir=$1
	awk -F'\t' -v dir="$dir" -v ok_ret="${2:-0}" "$awk_hex"'
		NR == 1 { for (i = 1; i <= NF; i++) c[$i] = i; next }
		{
			n++
			len = hex($c["length"]); ps = $c["page_size"]
			want = int((int((len + ps - 1) / ps) + 63) / 64) * 8
			if ($c["nbytes"] != want)
				print "seq " $1 ": nbytes " $c["nbytes"] " but the formula gives " want
			if ($c["ret"] != 0 && $c["ret"] != ok_ret)
				print "seq " $1 ": the ioctl failed (" $c["ret"] ")"
			if ($c["bitmap"] != "bitmaps/" $1 ".bin" || $c["sets"] != "sets/" $1 ".txt")
				print "seq " $1 ": bitmap/sets columns do not name its files"
			if ($1 != n)
				print "seq " $1 ": expected seq " n
			print $1, $c["nbytes"], $c["nsets"] > dir "/.shape"
		}
		END { if (!n) print "no reports at all" }' "$dir/truth.tsv"
	while read -r seq nbytes nsets; do
		size=$(stat -c %s "$dir/bitmaps/$seq.bin" 2>/dev/null || echo missing)
		[ "$size" = "$nbytes" ] ||
			echo "seq $seq: bitmaps/$seq.bin has $size bytes, not $nbytes"
		lines=$(grep -vc '^#' "$dir/sets/$seq.txt" 2>/dev/null || true)
		[ "$lines" = "$nsets" ] ||
			echo "seq $seq: sets/$seq.txt has ${lines:-no} lines, not $nsets"
	done <"$dir/.shape"
	rm -f "$dir/.shape"
}

# per_device DIR: per device, from the reports that clear (flags without
# NO_CLEAR): "device path trend hotspot backing expect_total total reports
# short per-iter...", short being the dirtied pages the kernel reported one
# entry short (workload.c short_tail(), docs/kernels.md)
per_device() {
	local dir=$1
	awk -F'\t' "$awk_hex"'
		FNR == 1 { for (i = 1; i <= NF; i++) c[FILENAME, $i] = i; next }
		FILENAME ~ /devices.tsv$/ {
			d = $c[FILENAME, "device"]; order[++nd] = d
			path[d] = $c[FILENAME, "path"]; trend[d] = $c[FILENAME, "trend"]
			hot[d] = $c[FILENAME, "hotspot"]; expt[d] = $c[FILENAME, "expect_total"]
			back[d] = ((FILENAME, "backing") in c) ? $c[FILENAME, "backing"] : "-"
			next
		}
		{
			if ($c[FILENAME, "path"] == "iommufd" && hex($c[FILENAME, "flags"]) % 2 == 1)
				next
			d = $c[FILENAME, "device"]; it = $c[FILENAME, "iter"] + 0
			bits[d, it] += $c[FILENAME, "set_bits"]; total[d] += $c[FILENAME, "set_bits"]
			if ((FILENAME, "short_bits") in c) short[d] += $c[FILENAME, "short_bits"]
			reports[d]++
			if (it + 1 > iters[d]) iters[d] = it + 1
		}
		END {
			for (k = 1; k <= nd; k++) {
				d = order[k]
				line = d " " path[d] " " trend[d] " " hot[d] " " back[d] " " expt[d] " " total[d] + 0 " " reports[d] + 0 " " short[d] + 0
				for (it = 0; it < iters[d]; it++) line = line " " bits[d, it] + 0
				print line
			}
		}' "$dir/devices.tsv" "$dir/truth.tsv"
}

trend_ok() { # trend bits...
	local trend=$1
	shift
	awk -v trend="$trend" 'BEGIN {
		n = ARGC - 1
		if (n < 3) exit 1
		for (i = 1; i <= n; i++) b[i] = ARGV[i] + 0
		if (trend == "stuck") {
			for (i = 2; i <= n; i++) if (b[i] != b[1]) exit 1
			exit !(b[1] > 0)
		}
		if (trend == "converging") {
			for (i = 2; i <= n; i++) if (b[i] > b[i - 1]) exit 1
			exit !(b[n] * 2 <= b[1] && b[1] > 0)
		}
		exit 1 }' "$@"
}

# huge_calls DIR HWPT SCENARIO: on 2 MiB hugetlbfs memory, every call the
# kernel made for that hwpt covers a whole huge IO page: 1 MiB or more,
# 512 mock pages of 2 KiB (6.12's HUGE_IOVA mock: 1 MiB; the generic page
# table: the 2 MiB page or a larger contiguous block).
huge_calls() {
	local dir=$1 dev=$2 sc=$3 files
	files=$(tsv_col "$dir/truth.tsv" device sets | awk -v d="$dev" -v dir="$dir" '$1 == d { print dir "/" $2 }')
	# shellcheck disable=SC2086
	out=$(cat $files | awk "$awk_hex"'
		/^#/ { next }
		{ l = hex($2); n++; if (!min || l < min) min = l; if (l > max) max = l }
		END { printf "%d %d %d\n", n, min, max }')
	read -r n min max <<<"$out"
	check "iommufd $sc: $dev on huge pages: each of its $n set calls covers >= 512 mock pages (calls of $((min >> 10)) to $((max >> 10)) KiB)" \
		test "$n" -gt 0 -a "$min" -ge $((512 * 2048))
}

for dir in ${TRUTH_DIRS:-}; do
	sc=$(sed -n 's/^scenario=//p' "$dir/info.txt")
	paths=$(tsv_col "$dir/truth.tsv" path | sort -u | tr '\n' ' ')
	label="${paths% } $sc"
	ok_ret=0
	[ "$sc" = vfio-anomaly ] && kernel_refuses_oor && ok_ret=-71
	problems=$(shape "$dir" "$ok_ret")
	if [ -z "$problems" ]; then
		ok "$label: truth.tsv, bitmaps/ and sets/ agree ($(($(wc -l <"$dir/truth.tsv") - 1)) reports, sizes = ceil(ceil(length/page_size)/64)*8)"
	else
		not_ok "$label: ground truth is inconsistent"
		echo "$problems" | head -5 | sed 's/^/# /'
	fi

	if [ "$sc" = vfio-anomaly ]; then
		out=$(tsv_col "$dir/truth.tsv" spill_bits set_bits nsets ret |
			awk '{ s += $1; b += $2; n += $3; e += ($4 == -71) } END { print s, b, n, e }')
		read -r spill bits nsets eproto <<<"$out"
		if kernel_refuses_oor; then
			# 6.12.118: refused whole, nothing written, the report fails
			check "$label: out-of-range calls left no bit past the bitmaps' ends and failed $eproto reports with -EPROTO ($nsets calls, $bits bits inside; the kernel refuses them)" \
				test "$spill" -eq 0 -a "$eproto" -gt 0
		else
			check "$label: out-of-range calls left $spill bits past the bitmaps' ends ($nsets calls, $bits bits inside)" \
				test "$spill" -gt 0
		fi
		continue
	fi

	bad=$(tsv_col "$dir/truth.tsv" seq expect_match set_bits expect_bits |
		awk '$2 != 1 || $3 != $4 { print "seq " $1 ": match " $2 ", " $3 " bits, expected " $4 }')
	case ${paths% } in
	vfio) what="every bitmap is exactly the programmed pattern (and the driver's call log agrees)" ;;
	*) what="every bitmap is exactly what the kernel's own iova_bitmap_set calls (tracefs) make, holds every page dirtied, and no call covers clean pages only" ;;
	esac
	if [ -z "$bad" ]; then
		ok "$label: $what"
	else
		not_ok "$label: bitmaps differ from the ground truth"
		echo "$bad" | head -5 | sed 's/^/# /'
		grep -h 'workload:' "$RESULTS/$sc.log" 2>/dev/null | head -3 | sed 's/^/# /'
	fi

	ndev=0
	hot_total=0 hot_dev= max_other=0
	while read -r dev path trend hot backing expect total reports short bits; do
		ndev=$((ndev + 1))
		if [ "$path" = iommufd ] && [ "$short" -gt 0 ]; then
			# A kernel defect, named: each page missing sits right
			# after one the kernel reported (record_dirty() of the
			# generic page table, docs/kernels.md); any other gap
			# fails the workload itself.
			check "$path $sc: $dev total $total set bits over $reports reports + $short dirtied pages the kernel reported one entry short (KERNEL DEFECT, docs/kernels.md) >= $expect dirtied" \
				test $((total + short)) -ge "$expect" -a "$total" -gt 0
		elif [ "$path" = iommufd ]; then
			# the pages dirtied are a floor: an entry or block reports whole
			check "$path $sc: $dev total $total set bits over $reports reports >= $expect dirtied (the IOMMU reports whole entries)" \
				test "$total" -ge "$expect" -a "$total" -gt 0
		else
			check "$path $sc: $dev total $total set bits over $reports reports = programmed $expect" \
				test "$total" -eq "$expect"
		fi
		# shellcheck disable=SC2086
		check "$path $sc: $dev is $trend (set bits per iteration: $bits)" \
			trend_ok "$trend" $bits
		[ "$backing" = hugetlb ] && huge_calls "$dir" "$dev" "$sc"
		if [ "$hot" = 1 ]; then
			hot_dev=$dev hot_total=$total
		elif [ "$total" -gt "$max_other" ]; then
			max_other=$total
		fi
	done < <(per_device "$dir")
	check "$label: $ndev devices at once (>= 3)" test "$ndev" -ge 3
	check "$label: hotspot ${hot_dev:-none} dirtied most ($hot_total bits, next $max_other)" \
		test -n "$hot_dev" -a "$hot_total" -gt "$max_other"
	npid=$(tsv_col "$dir/truth.tsv" pid | sort -u | wc -l)
	if [ "${paths% }" = vfio ]; then
		check "$label: one process per device ($npid pids)" test "$npid" -eq "$ndev"
	fi
done
[ -n "${TRUTH_DIRS:-}" ] || not_ok "truth: no ground-truth directories to check"
finish
