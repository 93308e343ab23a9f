#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The tracer's per-CPU pending ranges under contention. The race scenario
# runs two vfio devices at once, their reporting tasks moved to the other
# CPU every few iova_bitmap_set() calls in the middle of each report (the
# test driver's 'hop') and pinned to alternating CPUs between reports, for
# thousands of rounds, while 'iovatop record' traces them. A pending range
# then changes hands all the time: released by the other device's calls on
# that CPU, by its own report's end on another CPU, or both at once. Every
# report must come back rebuilt exactly as the ioctl returned it, or be
# marked incomplete; a report rebuilt wrong and not marked fails the check,
# and so does one missing from the trace while no loss was counted.
#
# Reports are paired with the workload's by time: the trace's report begins
# inside the workload's ioctl, on the same CLOCK_MONOTONIC.
#
#   RACE_ITERATIONS=N   rounds per device (default: the scenario's, 1000)
#   RACE_RECORDER=PATH  record with another iovatop build (to show what an
#                       older tracer does); the report is always this tree's
#   RACE_KPROBE=1       record with the kprobe programs instead
. "$(dirname "$0")/lib.sh"

recorder=${RACE_RECORDER:-$IOVATOP}
mode=fentry
[ "${RACE_KPROBE:-}" = 1 ] && mode=kprobe
devs="0000:3b:00.2 0000:3b:00.3"

# the preemption model in force: "full" when booted with preempt=full
preempt=$(sed -n 's/.*(\([a-z]*\)).*/\1/p' /sys/kernel/debug/sched/preempt 2>/dev/null)
preempt=${preempt:-unknown}

hops() {
	local d n=0 h
	for d in $devs; do
		h=$(sed -n 's/^hops //p' "/sys/kernel/debug/iovatop_test/$d/state")
		n=$((n + ${h:-0}))
	done
	echo "$n"
}

# race NAME ITERATIONS [VAR=VALUE...]: the race scenario under iovatop
# record with those variables; sets rounds exact incomplete inc_exact
# silent missing first lost stages hopped secs, and leaves $TMPDIR/race-NAME.
race() {
	local name=$1 iters=$2 t=$TMPDIR/race-$1 rec rc hops0 start
	shift 2
	rm -rf "$t"
	mkdir -p "$t"
	hops0=$(hops)
	env ${RACE_KPROBE:+IOVATOP_KPROBE=1} "$@" "$recorder" record -o "$t/trace" \
		>"$t/record.log" 2>&1 &
	rec=$!
	for _ in $(seq 300); do
		grep -q '^iovatop record: recording to' "$t/record.log" && break
		kill -0 "$rec" 2>/dev/null || break
		sleep 0.1
	done
	if ! grep -q '^iovatop record: recording to' "$t/record.log"; then
		not_ok "tracer race $name: iovatop record did not start: $(head -3 "$t/record.log")"
		kill -INT "$rec" 2>/dev/null
		wait "$rec"
		return 1
	fi
	start=$(date +%s)
	if ! "$WORKLOAD" -s race -k "$iters" -o "$t/truth" >"$t/workload.log" 2>&1; then
		# the kernel's own bitmaps off the programmed pattern: not the tracer
		not_ok "tracer race $name: the race workload failed: $(grep -m1 workload: "$t/workload.log")"
	fi
	secs=$(($(date +%s) - start))
	kill -INT "$rec"
	wait "$rec"
	rc=$?
	hopped=$(($(hops) - hops0))
	if [ $rc -ne 0 ]; then
		not_ok "tracer race $name: iovatop record exited $rc: $(grep -m1 'iovatop' "$t/record.log")"
		return 1
	fi
	if ! "$IOVATOP" report --format json --dump-bitmaps "$t/dump" "$t/trace" \
		>"$t/report.json" 2>"$t/report.err"; then
		not_ok "tracer race $name: iovatop report failed: $(head -1 "$t/report.err")"
		return 1
	fi
	grep -v 'recording to' "$t/record.log" | sed "s/^/# $name record: /" | head -5

	(cd "$t/dump" && md5sum -- *.bin) >"$t/dump.md5" 2>/dev/null
	(cd "$t/truth" && md5sum -- bitmaps/*.bin) >"$t/truth.md5"
	{ head -1 "$t/truth/truth.tsv"; tail -n +2 "$t/truth/truth.tsv" | sort -n; } >"$t/truth.sorted"
	read -r rounds exact incomplete inc_exact silent missing first < <(awk -F'\t' '
		FILENAME ~ /dump.md5$/ { split($0, a, "  "); dsum[a[2]] = a[1]; next }
		FILENAME ~ /truth.md5$/ { split($0, a, "  "); tsum[a[2]] = a[1]; next }
		FNR == 1 { delete c; for (i = 1; i <= NF; i++) c[$i] = i; next }
		FILENAME ~ /index.tsv$/ {
			k = $(c["device"]); n = ++nt[k]
			tb[k, n] = $(c["ts_begin_ns"]) + 0
			tf[k, n] = $(c["file"]); tfl[k, n] = $(c["flags"])
			next
		}
		{
			k = "vfio " $(c["device"]); rounds++
			# 50 us either side: the two clock reads are not one instant
			t0 = $(c["t_begin_ns"]) - 50000; t1 = $(c["t_end_ns"]) + 50000
			p = ptr[k] + 1
			while (p <= nt[k] && tb[k, p] < t0) p++
			if (p > nt[k] || tb[k, p] > t1) {
				missing++
				if (first == "") first = "seq " $(c["seq"]) " (" k "): not in the trace"
				ptr[k] = p - 1
				next
			}
			ptr[k] = p
			same = (tf[k, p] in dsum) && dsum[tf[k, p]] == tsum[$(c["bitmap"])]
			# IOVA_REPORT_INCOMPLETE is bit 0: the last hex digit is odd
			f = tolower(tfl[k, p])
			inc = (index("0123456789abcdef", substr(f, length(f), 1)) - 1) % 2
			if (same) exact++
			if (inc) { incomplete++; if (same) inc_exact++ }
			if (!same && !inc) {
				silent++
				if (first == "") first = "seq " $(c["seq"]) " (" k "): rebuilt as " tf[k, p] ", differs, not marked"
			}
		}
		END { printf "%d %d %d %d %d %d %s\n", rounds, exact, incomplete, inc_exact, silent, missing, first == "" ? "-" : first }
		' "$t/dump.md5" "$t/truth.md5" "$t/dump/index.tsv" "$t/truth.sorted")
	lost=$(jq '.totals.lost_records' "$t/report.json")
	stages=$(jq -r '.totals.lost_by_stage | "ring buffer \(.ringbuf), skipped by the kernel \(.skipped), map full \(.map_full)"' "$t/report.json")
	echo "# race $name ($mode, preempt=$preempt, ${secs} s, $hopped moves, recorder $recorder): rounds $rounds, exact $exact, marked incomplete $incomplete ($inc_exact of them exact), wrong and unmarked $silent, missing $missing; lost records $lost ($stages)"
	if [ "$rounds" -ne $((iters * 2)) ]; then
		not_ok "tracer race $name: the workload made $rounds reports, not $((iters * 2))"
		return 1
	fi
	return 0
}

# verdict NAME: none wrong and unmarked, none missing without a loss
verdict() {
	if [ "$silent" -eq 0 ] && { [ "$missing" -eq 0 ] || [ "$lost" -gt 0 ]; }; then
		ok "tracer race $mode $1: of $rounds reports $exact rebuilt exactly, $incomplete marked incomplete ($inc_exact of those exact), $missing missing with $lost losses counted; none wrong and unmarked"
	else
		not_ok "tracer race $mode $1: $silent of $rounds reports rebuilt wrong and not marked incomplete, $missing missing with $lost losses counted"
		echo "# first: $first"
	fi
}

if race contended "${RACE_ITERATIONS:-1000}"; then
	if [ "$hopped" -gt 0 ]; then
		ok "tracer race: the reporting tasks were moved between CPUs $hopped times within reports ($secs s, preempt=$preempt)"
	else
		not_ok "tracer race: the test driver moved no task between CPUs; the race was not run"
	fi
	verdict contended
fi

finish
