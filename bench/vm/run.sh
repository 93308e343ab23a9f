#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# The tracing benchmarks of iovatop, in one boot of the 6.12 test VM:
# the overhead per call (bench/vm/iova_bench.c) and the highest call rate
# with nothing lost (bench/vm/iova_rate.c). 'make bench' runs it.
#
#   bench/vm/run.sh                    ROUNDS=3 REPS=3 STAT_REPS=3 RATE_SECS=10
#   ROUNDS=1 REPS=1 STAT_REPS=1 bench/vm/run.sh     a quick look
#   NO_BPFTRACE=1 bench/vm/run.sh      without the bpftrace columns
#   ONLY=overhead|rate bench/vm/run.sh one of the two
#
# Each ends in one line for a script to read: "overhead: worst ratio R.RR
# (PATTERN), lost N" (the BPF-stats ratio of iovatop to the bare counter,
# worst pattern; set calls missing from iovatop's rebuilt bitmaps), and
# "rate: iovatop lost N of M calls, W of R bitmaps wrong (U of them
# unmarked), at best X M calls/s (PATTERN)".
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)

make --no-print-directory -s -C "$repo" iovatop .output/vm/iova_bench .output/vm/iova_rate
common=(--iovatop "$repo/iovatop")
if [ -n "${NO_BPFTRACE:-}" ]; then
	:
elif bt=$(command -v bpftrace); then
	common+=(--bpftrace "$bt")
else
	echo "bench/vm/run.sh: bpftrace is not installed ('scripts/deps.sh vm'); its columns stay empty" >&2
fi
what=()
case ${ONLY:-} in
''|overhead) what+=(overhead "${common[@]}" --rounds "${ROUNDS:-3}" --reps "${REPS:-3}"
	--stat-reps "${STAT_REPS:-3}" --) ;;&
''|rate) what+=(rate "${common[@]}" --seconds "${RATE_SECS:-10}" --) ;;
overhead) ;;
*) echo "bench/vm/run.sh: ONLY is overhead or rate, not '$ONLY'" >&2; exit 2 ;;
esac
echo "bench/vm: booting the 6.12 test VM (software emulation: timings are relative)" >&2
exec "$repo/tests/vm/run.sh" --timeout "${TIMEOUT:-5400}" 6.12 -- \
	"$repo/bench/vm/guest-bench.sh" "${what[@]}"
