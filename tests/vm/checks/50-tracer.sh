#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The tracer against the ground truth. Each scenario runs again under
# 'iovatop record --verify'; then, per path:
#   - every report the workload made was traced and its bitmap, rebuilt by
#     'iovatop report --dump-bitmaps' from the records alone, equals byte
#     for byte what the ioctl returned (unaligned user buffers included);
#   - per-device set calls and dirty pages equal the ground truth;
#   - nothing was lost, no report is incomplete, and --verify (the user
#     bitmap read back in the ioctl's task) found no mismatch;
#     on a kernel that preempts BPF trampolines (preempt=full or lazy:
#     7.2 has nothing else on x86) the kernel may skip fentry runs, and
#     then only those: each one counted as "skipped by the kernel", the
#     reports it touched marked incomplete, every unmarked one exact;
#   - the anomalies counted are exactly the out-of-range calls made.
# One scenario runs again with the kprobe fallback forced, one with a bit
# of every rebuild flipped (--verify must catch it), and one with a 4 KiB
# ring buffer that must overflow: records are lost, counted, and every
# report whose rebuild is wrong is marked incomplete.
. "$(dirname "$0")/lib.sh"

scenarios="vfio-multi vfio-anomaly"
# A trampoline runs its program with migration off but preemption on
# (__bpf_prog_enter_recur(), kernel/bpf/trampoline.c): a task preempted
# inside iovatop's program keeps the kernel from running it for another
# task on that CPU, and the kernel counts the run as a recursion miss.
# Only a preemptible kernel can do that, and only to fentry programs.
model=$(preempt_model)
case $model in
full|lazy) trampolines_preemptible=1 ;;
*) trampolines_preemptible=0 ;;
esac
# the busiest scenario of this kernel, for the kprobe and overflow runs
busy=vfio-multi
if kernel_has_iommufd; then
	scenarios+=" iommufd-multi"
	busy=iommufd-multi
fi

# traced NAME SCENARIO [VAR=VALUE...]: run SCENARIO's workload while
# iovatop records (with --verify unless $NO_VERIFY is set, and with
# $RECORD_ARGS, if set); leaves
# $TMPDIR/tracer-NAME/{trace,truth,dump,report.json}.
traced() {
	local name=$1 sc=$2 t=$TMPDIR/tracer-$1 rec rc
	shift 2
	rm -rf "$t"
	mkdir -p "$t"
	env "$@" "$IOVATOP" record -o "$t/trace" ${NO_VERIFY:---verify} ${RECORD_ARGS:-} \
		>"$t/record.log" 2>&1 &
	rec=$!
	for _ in $(seq 300); do
		grep -q '^iovatop record: recording to' "$t/record.log" && break
		kill -0 "$rec" 2>/dev/null || break
		sleep 0.1
	done
	if ! grep -q '^iovatop record: recording to' "$t/record.log"; then
		not_ok "tracer $name: iovatop record did not start: $(grep -m1 'iovatop record:' "$t/record.log")"
		kill -INT "$rec" 2>/dev/null
		wait "$rec"
		return 1
	fi
	# A workload that fails (a bitmap off its ground truth, say) is a
	# failure of its own; what iovatop saw is still compared with the
	# truth it wrote, so one failure does not hide the tracer's results.
	if ! timeout 300 "$WORKLOAD" -s "$sc" -o "$t/truth" >"$t/workload.log" 2>&1; then
		not_ok "tracer $name: the $sc workload failed: $(grep -m1 workload: "$t/workload.log")"
		if [ ! -s "$t/truth/truth.tsv" ]; then
			kill -INT "$rec"
			wait "$rec"
			return 1
		fi
	fi
	kill -INT "$rec"
	# a recorder that does not stop is a failure of its own, not a hang
	for _ in $(seq 600); do
		kill -0 "$rec" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$rec" 2>/dev/null; then
		not_ok "tracer $name: iovatop record did not stop within 60 s of SIGINT: $(tail -1 "$t/record.log")"
		kill -KILL "$rec"
		wait "$rec"
		return 1
	fi
	wait "$rec"
	rc=$?
	if [ $rc -ne 0 ]; then
		not_ok "tracer $name: iovatop record exited $rc: $(grep -m1 'iovatop record:' "$t/record.log")"
		return 1
	fi
	if ! "$IOVATOP" report --format json --dump-bitmaps "$t/dump" "$t/trace" \
		>"$t/report.json" 2>"$t/report.err"; then
		not_ok "tracer $name: iovatop report failed: $(head -1 "$t/report.err")"
		return 1
	fi
	# Pair each ground-truth report with the rebuilt one of its device
	# that began inside the workload's ioctl (the same CLOCK_MONOTONIC,
	# 50 us either side): a report lost whole to a full ring must not
	# shift the pairs of the reports after it.
	# (truth.tsv lines may interleave: sort them by seq, header first)
	{ head -1 "$t/truth/truth.tsv"; tail -n +2 "$t/truth/truth.tsv" | sort -n; } >"$t/truth.sorted"
	awk -F'\t' '
		function hex(s,  i, v) { v = 0; s = tolower(s); sub(/^0x/, "", s)
			for (i = 1; i <= length(s); i++) v = v * 16 + index("0123456789abcdef", substr(s, i, 1)) - 1
			return v }
		FNR == 1 { for (i = 1; i <= NF; i++) c[$i] = i; next }
		FILENAME ~ /index.tsv$/ {
			# one process, one iommufd context: "iommufd hwpt N ctx C"
			k = $(c["device"]); sub(/ ctx [0-9]+$/, "", k); n = ++seen[k]
			got[k, n] = $(c["file"]) "\t" $(c["flags"])
			tb[k, n] = $(c["ts_begin_ns"]) + 0
			next
		}
		{
			dev = $(c["device"])
			k = ($(c["path"]) == "iommufd") ? "iommufd hwpt " substr(dev, 5) : "vfio " dev
			t0 = $(c["t_begin_ns"]) - 50000; t1 = $(c["t_end_ns"]) + 50000
			n = ptr[k] + 1
			while (n <= seen[k] && tb[k, n] < t0) n++
			if (n > seen[k] || tb[k, n] > t1) {
				ptr[k] = n - 1
				n = 0
			} else {
				ptr[k] = n
			}
			nbits = int((hex($(c["length"])) + $(c["page_size"]) - 1) / $(c["page_size"]))
			r = ((k, n) in got) ? got[k, n] : "-\t0x0"
			ns = $(c["nsets"])
			print $(c["seq"]) "\t" $(c["path"]) "\t" k "\t" $(c["bitmap"]) "\t" r \
				"\t" $(c["buf_offset"]) "\t" nbits "\t" ns "\t" $(c["set_bits"])
		}' "$t/dump/index.tsv" "$t/truth.sorted" >"$t/pairs.tsv"
	return 0
}

# same_bits A B NBITS: the first NBITS bits of files A and B are equal.
same_bits() {
	local a=$1 b=$2 full=$(($3 / 8)) rest=$(($3 % 8)) x y
	cmp -s -n "$full" "$a" "$b" || return 1
	[ "$rest" -eq 0 ] && return 0
	x=$(od -An -tu1 -j "$full" -N1 "$a")
	y=$(od -An -tu1 -j "$full" -N1 "$b")
	[ $((x & ((1 << rest) - 1))) -eq $((y & ((1 << rest) - 1))) ]
}

# out_of_range DIR SEQ IOVA LENGTH: set calls of that report outside the bitmap
out_of_range() {
	awk -v base="$3" -v len="$4" '
		function hex(s,  i, v, d) { v = 0; s = tolower(s); sub(/^0x/, "", s)
			for (i = 1; i <= length(s); i++) { d = index("0123456789abcdef", substr(s, i, 1)) - 1; v = v * 16 + d }
			return v }
		BEGIN { b = hex(base); e = b + hex(len) }
		/^#/ { next }
		{ i = hex($1); l = hex($2); if (l == 0 || i < b || i + l > e) n++ }
		END { print n + 0 }' "$1/sets/$2.txt"
}

# verify_run NAME SCENARIO LABEL: the checks of a clean run, per path.
verify_run() {
	local name=$1 sc=$2 label=$3 t=$TMPDIR/tracer-$1 path
	local -A n=() bad=() unal=() first=() excused=() touched=()
	# runs the kernel skipped: excusable only with fentry on a kernel
	# that preempts trampolines; any other loss fails below
	local kskipped may_skip=0
	kskipped=$(jq '.totals.lost_by_stage.skipped' "$t/report.json")
	[ "$label" = fentry ] && [ "$trampolines_preemptible" = 1 ] &&
		[ "$kskipped" -gt 0 ] && may_skip=1
	while IFS=$'\t' read -r seq p dev truthbin file flags off nbits nsets setbits; do
		n[$p]=$((${n[$p]:-0} + 1))
		[ "$off" != 0 ] && unal[$p]=$((${unal[$p]:-0} + 1))
		if [ "$file" = - ]; then
			# a report the kernel skipped the first run of is
			# not in the trace at all; the skip was counted
			if [ $may_skip = 1 ]; then
				excused[$p]=$((${excused[$p]:-0} + 1))
				touched[$dev]=1
				continue
			fi
			bad[$p]=$((${bad[$p]:-0} + 1))
			first[$p]=${first[$p]:-"seq $seq ($dev): not in the trace"}
			continue
		fi
		# IOVA_REPORT_INCOMPLETE is bit 0 of the flags
		if [ $may_skip = 1 ] && [ $((flags & 1)) = 1 ]; then
			touched[$dev]=1
			excused[$p]=$((${excused[$p]:-0} + 1))
			continue
		fi
		if [ "$sc" = vfio-anomaly ]; then
			# the kernel's own tail past nbits is checked by 30-decode
			same_bits "$t/dump/$file" "$t/truth/$truthbin" "$nbits" && continue
		else
			cmp -s "$t/dump/$file" "$t/truth/$truthbin" && continue
		fi
		bad[$p]=$((${bad[$p]:-0} + 1))
		first[$p]=${first[$p]:-"seq $seq ($dev): $(cmp "$t/dump/$file" "$t/truth/$truthbin" 2>&1 | head -1)"}
	done <"$t/pairs.tsv"
	for path in "${!n[@]}"; do
		if [ "${bad[$path]:-0}" -eq 0 ] && [ "${excused[$path]:-0}" -gt 0 ]; then
			ok "tracer $label $path $sc: all $((${n[$path]} - ${excused[$path]})) unmarked reports of ${n[$path]} rebuilt byte for byte as the ioctl returned them (${unal[$path]:-0} with unaligned buffers); ${excused[$path]} marked incomplete or missing after the kernel skipped $kskipped runs (preempt=$model)"
		elif [ "${bad[$path]:-0}" -eq 0 ]; then
			ok "tracer $label $path $sc: all ${n[$path]} reports rebuilt byte for byte as the ioctl returned them (${unal[$path]:-0} with unaligned buffers)"
		else
			not_ok "tracer $label $path $sc: ${bad[$path]} of ${n[$path]} rebuilt reports differ from what the ioctl returned"
			echo "# ${first[$path]}"
		fi
	done
	[ ${#n[@]} -gt 0 ] || not_ok "tracer $label $sc: the workload made no reports"

	# per device: set calls and dirty pages against the ground truth
	local want got
	want=$(awk -F'\t' '{ c[$3] += $9; d[$3] += $10 }
		END { for (k in c) print k "\t" c[k] "\t" d[k] }' \
		"$t/pairs.tsv" | sort)
	# (one iommufd context: its hwpts are named as in pairs.tsv without it)
	got=$(jq -r '.devices[] | "\(.name | sub(" ctx [0-9]+$"; ""))\t\(.set_calls)\t\(.dirty_pages)"' \
		"$t/report.json" | sort)
	if [ "$sc" = vfio-anomaly ]; then
		# the kernel's tail bits count in set_bits; compare calls only
		want=$(cut -f1,2 <<<"$want")
		got=$(cut -f1,2 <<<"$got")
	fi
	# devices a skipped run touched are left out, and said so; so are
	# the set calls of reports whose begin the kernel skipped, which
	# the model can only name by the task that asked ("unknown pid N")
	local skipdevs=0 d
	if [ ${#touched[@]} -gt 0 ]; then
		for d in "${!touched[@]}"; do
			want=$(awk -F'\t' -v d="$d" '$1 != d' <<<"$want")
			got=$(awk -F'\t' -v d="$d" '$1 != d' <<<"$got")
			skipdevs=$((skipdevs + 1))
		done
	fi
	if [ $may_skip = 1 ]; then
		skipdevs=$((skipdevs + $(grep -c '^unknown pid ' <<<"$got")))
		got=$(grep -v '^unknown pid ' <<<"$got")
	fi
	if [ -z "$want" ] && [ -z "$got" ] && [ $may_skip = 1 ]; then
		ok "tracer $label $sc: per-device totals not comparable: the kernel's $kskipped skipped runs touched all $skipdevs devices (their unmarked reports were compared byte for byte above)"
	elif [ "$want" = "$got" ] && [ -n "$want" ]; then
		ok "tracer $label $sc: per-device set calls and dirty pages equal the ground truth ($(wc -l <<<"$want") devices; $skipdevs left out for runs the kernel skipped)"
	else
		not_ok "tracer $label $sc: per-device totals differ from the ground truth"
		diff <(echo "$want") <(echo "$got") | sed 's/^/# /' | head -8
	fi

	local lost incomplete verified mism reports
	lost=$(jq '.totals.lost_records' "$t/report.json")
	incomplete=$(jq '.totals.incomplete_reports' "$t/report.json")
	reports=$(jq '.totals.reports' "$t/report.json")
	if [ "$lost" = 0 ] && [ "$incomplete" = 0 ]; then
		ok "tracer $label $sc: zero lost records, no incomplete report ($reports reports)"
	elif [ $may_skip = 1 ] && [ "$lost" = "$kskipped" ]; then
		ok "tracer $label $sc: the only losses are $kskipped runs the kernel skipped (preempt=$model), counted, $incomplete of $reports reports marked incomplete; nothing lost in the ring buffer"
	else
		not_ok "tracer $label $sc: $lost lost records ($(jq -r '.totals.lost_by_stage | "ring buffer \(.ringbuf), skipped by the kernel \(.skipped), map full \(.map_full)"' "$t/report.json")), $incomplete incomplete reports at the default rate"
	fi
	# --verify reads back user bitmaps up to 1 MiB (LIVE_VERIFY_MAX_BYTES):
	# the larger ones are skipped, counted apart, and never "verified"
	local skipped big
	verified=$(jq '[.devices[].verified] | add' "$t/report.json")
	skipped=$(jq '[.devices[].verify_skipped] | add' "$t/report.json")
	mism=$(jq '[.devices[].verify_mismatches] | add' "$t/report.json")
	big=$(awk -F'\t' 'NR > 1 && $13 > 1048576' "$t/truth/truth.tsv" | wc -l)
	# a rebuild short of a skipped run is marked and may not match
	# (--verify does not read back a report it knows is incomplete)
	if [ $may_skip = 1 ] && [ "$mism" -le "$incomplete" ] &&
	   [ "$verified" -ge $((reports - big - incomplete)) ] &&
	   [ "$skipped" -le $((big + incomplete)) ]; then
		ok "tracer $label $sc: --verify read back $verified user bitmaps up to 1 MiB, $mism mismatched; $skipped skipped, no more than the $big larger ones and the $incomplete marked incomplete"
	elif [ "$verified" = $((reports - big)) ] && [ "$skipped" = "$big" ] &&
	   [ "$mism" = 0 ]; then
		ok "tracer $label $sc: --verify read back all $verified user bitmaps up to 1 MiB, no mismatch; the $big larger ones counted as skipped"
	else
		not_ok "tracer $label $sc: --verify checked $verified of $reports reports ($big larger than 1 MiB), skipped $skipped, $mism mismatched"
	fi

	local oor=0 seq iova length anom
	while IFS=$'\t' read -r seq iova length; do
		oor=$((oor + $(out_of_range "$t/truth" "$seq" "$iova" "$length")))
	done < <(tsv_col "$t/truth/truth.tsv" seq iova length)
	anom=$(jq '.totals.anomalies' "$t/report.json")
	if [ "$anom" = "$oor" ]; then
		ok "tracer $label $sc: $anom anomalies counted, one per out-of-range set call made"
	elif [ $may_skip = 1 ] && [ "$anom" -lt "$oor" ]; then
		ok "tracer $label $sc: $anom anomalies counted of $oor out-of-range set calls made; the kernel skipped $kskipped runs (counted)"
	else
		not_ok "tracer $label $sc: $anom anomalies counted but the workload made $oor out-of-range calls"
	fi
}

# Without privileges: one sentence that says root is needed, exit 1.
if ! command -v setpriv >/dev/null; then
	not_ok "tracer: setpriv (util-linux) is missing, so record was not run unprivileged"
else
	out=$(setpriv --reuid=65534 --regid=65534 --clear-groups \
		"$IOVATOP" record -o "$TMPDIR/nobody.trace" 2>&1)
	rc=$?
	if [ $rc -eq 1 ] && grep -q 'needs root (CAP_BPF and CAP_PERFMON)' <<<"$out"; then
		ok "tracer: as an unprivileged user record exits 1 saying it needs root"
	else
		not_ok "tracer: as an unprivileged user record exited $rc: $out"
	fi
fi

# The default probe mode (iovatop -v says which and why).
for sc in $scenarios; do
	if traced "$sc" "$sc"; then
		mode=$(sed -n 's/.*(probe \([a-z]*\)).*/\1/p' "$TMPDIR/tracer-$sc/record.log" | head -1)
		verify_run "$sc" "$sc" "${mode:-unknown}"
	fi
done

# The fallback, on a kernel where fentry works: same results with kprobes.
if traced "kprobe-$busy" "$busy" IOVATOP_KPROBE=1; then
	if grep -q 'probe kprobe' "$TMPDIR/tracer-kprobe-$busy/record.log"; then
		ok "tracer kprobe $busy: IOVATOP_KPROBE=1 recorded with kprobes"
	else
		not_ok "tracer kprobe $busy: IOVATOP_KPROBE=1 did not switch to kprobes: $(grep -m1 'recording to' "$TMPDIR/tracer-kprobe-$busy/record.log")"
	fi
	verify_run "kprobe-$busy" "$busy" kprobe
fi

# --verify must be able to fail: with one bit of every rebuild flipped on
# purpose (IOVATOP_VERIFY_FLIP=1), every report read back is a mismatch.
if traced verify-flip vfio-anomaly IOVATOP_VERIFY_FLIP=1; then
	t=$TMPDIR/tracer-verify-flip
	reports=$(jq '.totals.reports' "$t/report.json")
	mism=$(jq '[.devices[].verify_mismatches] | add' "$t/report.json")
	if [ "$reports" -gt 0 ] && [ "$mism" = "$reports" ]; then
		ok "tracer verify: with a bit of each rebuild flipped on purpose, --verify flags all $mism reports"
	else
		not_ok "tracer verify: with a bit of each rebuild flipped on purpose, --verify flagged $mism of $reports reports"
	fi
fi

# untimed TRACE: the types of the records of an uncompressed trace (record
# --no-compress, docs/trace-format.md) whose time is 0, as "TYPE:COUNT ..."
# or "none", then the number of LOST records.
untimed() {
	python3 - "$1" <<'EOF'
import struct, sys
d = open(sys.argv[1], "rb").read()
off, zero, lost = 256, {}, 0
while off + 32 <= len(d):
    magic, kind, codec, stored, raw, nrec = struct.unpack_from("<IHHIII", d, off)
    off += 32
    if magic != 0x4b4e4843 or kind != 1:
        break
    if codec != 0:
        sys.exit("block at %d is compressed (codec %d)" % (off - 32, codec))
    p, end = off, off + stored
    while p + 16 <= end:
        typ, size, cpu, ts = struct.unpack_from("<HHIQ", d, p)
        if size < 16:
            break
        lost += typ == 7
        if ts == 0:
            zero[typ] = zero.get(typ, 0) + 1
        p += size
    off = end
print(" ".join("%d:%d" % kv for kv in sorted(zero.items())) or "none", lost)
EOF
}

# Overflow: a 4 KiB ring buffer (64 records) against thousands of ranges per
# report, every call shipped through it (--kernel-bitmap 0). Losses must be
# counted and never leave a wrong bitmap unmarked, and the records user
# space makes up for them (LOST, a lost END) carry a time: the trace is
# stored uncompressed to look at every record's.
name=overflow-$busy
if RECORD_ARGS="--no-compress --kernel-bitmap 0" traced "$name" "$busy" IOVATOP_RINGBUF_BYTES=4096; then
	t=$TMPDIR/tracer-$name
	lost=$(jq '.totals.lost_records' "$t/report.json")
	incomplete=$(jq '.totals.incomplete_reports' "$t/report.json")
	if [ "$lost" -gt 0 ] && [ "$incomplete" -gt 0 ]; then
		ok "tracer overflow $busy: a 4 KiB ring buffer lost $lost records, counted, $incomplete reports marked incomplete"
	else
		not_ok "tracer overflow $busy: a 4 KiB ring buffer should overflow, but lost=$lost incomplete=$incomplete"
	fi
	silent=0 wrong=0 total=0 missing=0
	while IFS=$'\t' read -r seq p dev truthbin file flags rest; do
		total=$((total + 1))
		if [ "$file" = - ]; then
			missing=$((missing + 1))
			continue
		fi
		cmp -s "$t/dump/$file" "$t/truth/$truthbin" && continue
		wrong=$((wrong + 1))
		[ $((flags & 1)) -eq 0 ] && silent=$((silent + 1))
	done <"$t/pairs.tsv"
	if [ "$total" -eq 0 ]; then
		not_ok "tracer overflow $busy: no report of the workload to compare"
	elif [ "$silent" -eq 0 ]; then
		ok "tracer overflow $busy: of $total reports $wrong rebuilt short and $missing missing, every short one marked incomplete"
	else
		not_ok "tracer overflow $busy: $silent of $wrong short rebuilds are not marked incomplete"
	fi
	read -r zero nlost < <(untimed "$t/trace" 2>&1)
	if [ "$zero" = none ] && [ "${nlost:-0}" -gt 0 ]; then
		ok "tracer overflow $busy: all $nlost LOST records and every made-up END carry a time"
	else
		not_ok "tracer overflow $busy: records without a time (type:count) $zero, LOST records ${nlost:-?}"
	fi
fi

# The same load and the same 4 KiB ring with the kernel-side bitmap (the
# default; 6.11 on): in-range calls only set bits in kernel memory, the
# ring carries a few records a report, and nothing may be lost: every
# rebuilt bitmap is its ground truth. Without --verify, whose read-backs
# of the user bitmaps (256 bytes a record) would fill 4 KiB themselves.
# Kprobes where the kernel may skip a preempted fentry program: those
# runs are lost however the calls travel (checked above).
if kernel_bits_any_window; then
	name=kbits-$busy
	kp=0
	[ "$trampolines_preemptible" = 1 ] && kp=1
	if NO_VERIFY=" " RECORD_ARGS=-v traced "$name" "$busy" IOVATOP_RINGBUF_BYTES=4096 \
		IOVATOP_KPROBE=$kp; then
		t=$TMPDIR/tracer-$name
		lost=$(jq '.totals.lost_records' "$t/report.json")
		incomplete=$(jq '.totals.incomplete_reports' "$t/report.json")
		total=0 exact=0
		while IFS=$'\t' read -r seq p dev truthbin file flags rest; do
			total=$((total + 1))
			[ "$file" != - ] && cmp -s "$t/dump/$file" "$t/truth/$truthbin" &&
				exact=$((exact + 1))
		done <"$t/pairs.tsv"
		noroom=$(sed -n 's/.*, \([0-9]*\) reports without room in the kernel-side bitmap.*/\1/p' \
			"$t/record.log")
		if [ "$lost" = 0 ] && [ "$incomplete" = 0 ] && [ "$total" -gt 0 ] &&
		   [ "$exact" -eq "$total" ] && [ "${noroom:-x}" = 0 ]; then
			ok "tracer kbits $busy: a 4 KiB ring with the kernel-side bitmap lost nothing: $exact of $total bitmaps exact"
		else
			not_ok "tracer kbits $busy: a 4 KiB ring with the kernel-side bitmap: lost=$lost incomplete=$incomplete exact $exact of $total, reports without room ${noroom:-?}"
		fi
	fi
fi
finish
