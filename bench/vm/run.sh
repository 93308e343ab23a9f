#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# The tracing benchmarks of iovatop, each in a boot of the 6.12 test VM:
# the overhead per call (bench/vm/iova_bench.c, one vCPU) and the highest
# call rate with nothing lost (bench/vm/iova_rate.c, two). 'make bench'
# runs it.
#
#   bench/vm/run.sh                    ROUNDS=3 REPS=3 STAT_REPS=3 RATE_SECS=10
#   ROUNDS=1 REPS=1 STAT_REPS=1 bench/vm/run.sh     a quick look
#   NO_BPFTRACE=1 bench/vm/run.sh      without the bpftrace columns
#   ONLY=overhead|rate bench/vm/run.sh one of the two
#   NO_ICOUNT=1 bench/vm/run.sh        without the QEMU instruction counter
#   PROFILE=1 ONLY=overhead bench/vm/run.sh
#                                      and where the counted instructions go,
#                                      by symbol, per pattern (icount_profile)
#
# The overhead bench's reports are counted in guest instructions by a TCG
# plugin of ours (bench/vm/icount_plugin.c; QEMU 10, plugin API 4): that
# table comes after the VM has stopped, and ends in "icount: per call
# R.RR, per report N" (iovatop's cost of one more call over the bare
# counter's, and of one more report, from a line through the patterns),
# "icount: worst ratio R.RR (PATTERN)" and the line for a script to read,
# "overhead: worst ratio R.RR (PATTERN), lost N": iovatop's added
# instructions per call over the bare counter's in its worst pattern, and
# the set calls missing from iovatop's rebuilt bitmaps (the guest's own
# last line, "bpf stats: ...", gives the BPF-stats ratio with the same
# count; without the plugin the overhead line takes that ratio, and says
# so). The rate bench ends in "rate: iovatop lost N of M calls, W of R
# bitmaps wrong (U of them unmarked), at best X M calls/s (PATTERN)".
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
out=$repo/.output/vm

make --no-print-directory -s -C "$repo" iovatop .output/vm/iova_bench .output/vm/iova_rate \
	.output/vm/icount_plugin.so .output/vm/icount_table ${PROFILE:+.output/vm/icount_profile}
common=(--iovatop "$repo/iovatop")
if [ -n "${NO_BPFTRACE:-}" ]; then
	:
elif bt=$(command -v bpftrace); then
	common+=(--bpftrace "$bt")
else
	echo "bench/vm/run.sh: bpftrace is not installed ('scripts/deps.sh vm'); its columns stay empty" >&2
fi

results=$out/bench-results
rm -rf "$results"
mkdir -p "$results"
vm=()
icount=
case ${ONLY:-} in ''|overhead)
	if [ -n "${NO_ICOUNT:-}" ]; then
		:
	# a QEMU that cannot load the plugin says why in one line
	elif why=$(echo quit | qemu-system-x86_64 -M none -display none -monitor stdio \
			-plugin "$out/icount_plugin.so,out=/dev/null" 2>&1 >/dev/null) &&
	     [ -z "$why" ]; then
		icount=1
		# The guest's clock by its instructions (2^0 ns each), not the
		# host's: the ticks and timers a report takes then depend on
		# what it runs, not on how fast the host emulated it.
		vm+=(--icount "${ICOUNT_SPEC:-shift=0,sleep=off}")
		vm+=(--plugin "$out/icount_plugin.so,out=$results/icount-counts${PROFILE:+,profile=$results/icount-profile}")
	else
		echo "bench/vm/run.sh: no instruction count: ${why:-QEMU did not load the plugin}" >&2
	fi
esac
overhead=() rate=()
case ${ONLY:-} in
''|overhead|rate) ;;
*) echo "bench/vm/run.sh: ONLY is overhead or rate, not '$ONLY'" >&2; exit 2 ;;
esac
case ${ONLY:-} in ''|overhead)
	overhead=(overhead "${common[@]}" --rounds "${ROUNDS:-3}" --reps "${REPS:-3}"
		--stat-reps "${STAT_REPS:-3}" ${icount:+--icount-labels @RESULTS@/icount-labels}
		${icount:+${PROFILE:+--kallsyms @RESULTS@}} --)
esac
case ${ONLY:-} in ''|rate)
	rate=(rate "${common[@]}" --seconds "${RATE_SECS:-10}" --)
esac
rc=0
# The overhead bench in a guest of one vCPU: QEMU names a block's vCPU
# by the one that translated it, so per-vCPU counts need one vCPU (and
# see "The consumer" in iova_bench.c). The rate bench wants every vCPU.
if [ ${#overhead[@]} -gt 0 ]; then
	echo "bench/vm: booting the 6.12 test VM, one vCPU (software emulation: timings are relative)" >&2
	# pipefail: the VM's status unless tee fails
	"$repo/tests/vm/run.sh" --timeout "${TIMEOUT:-5400}" --results "$results" --smp 1 \
		${vm[@]+"${vm[@]}"} 6.12 -- "$repo/bench/vm/guest-bench.sh" "${overhead[@]}" |
		tee "$results/overhead.out" || rc=$?
fi
if [ ${#rate[@]} -gt 0 ]; then
	echo "bench/vm: booting the 6.12 test VM, two vCPUs (software emulation: timings are relative)" >&2
	"$repo/tests/vm/run.sh" --timeout "${TIMEOUT:-5400}" --results "$results" \
		6.12 -- "$repo/bench/vm/guest-bench.sh" "${rate[@]}" || rc=$?
fi
if [ ${#overhead[@]} -gt 0 ]; then
	# the guest's last overhead line: "bpf stats: worst ratio R.RR (PATTERN), lost N"
	stats=$(sed -n 's/^bpf stats: \(worst ratio .*, lost [0-9]*\)\r*$/\1/p' \
		"$results/overhead.out" | tail -n 1)
	if [ -z "$stats" ]; then
		echo "bench/vm/run.sh: the overhead bench did not finish (no \"bpf stats:\" line)" >&2
		rc=1
	elif [ -n "$icount" ]; then
		echo
		"$out/icount_table" "$results/icount-labels" "$results/icount-counts" \
			"${stats##*, lost }" || rc=1
		if [ -n "${PROFILE:-}" ]; then
			awk '$1 == "T" && $2 == "iovatop" { $1 = $2 = $3 = $4 = $5 = ""; print substr($0, 6) }' \
				"$results/icount-labels" | sort -u |
			while IFS= read -r p; do
				echo
				"$out/icount_profile" "$results/icount-labels" \
					"$results/icount-profile" "$results" "$p" || exit 1
			done || rc=1
		fi
	else
		echo "bench/vm/run.sh: no instruction count, so the overhead line is the BPF stats'" >&2
		echo "overhead: $stats"
	fi
fi
exit $rc
