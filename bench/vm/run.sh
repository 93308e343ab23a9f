#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# The tracing-overhead benchmark of iovatop, in one boot of the 6.12 test
# VM (bench/vm/iova_bench.c says what it measures). 'make bench' runs it.
#
#   bench/vm/run.sh                    ROUNDS=3 REPS=3 STAT_REPS=3
#   ROUNDS=1 REPS=1 STAT_REPS=1 bench/vm/run.sh     a quick look
#   NO_BPFTRACE=1 bench/vm/run.sh      without the bpftrace column
#
# The last line is "overhead: worst ratio R.RR (PATTERN), lost N" (the
# BPF-stats ratio of iovatop to the bare counter, worst pattern; set calls
# missing from iovatop's rebuilt bitmaps) for a script to read.
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)

make --no-print-directory -s -C "$repo" iovatop .output/vm/iova_bench
args=(--iovatop "$repo/iovatop" --rounds "${ROUNDS:-3}" --reps "${REPS:-3}"
	--stat-reps "${STAT_REPS:-3}")
if [ -n "${NO_BPFTRACE:-}" ]; then
	:
elif bt=$(command -v bpftrace); then
	args+=(--bpftrace "$bt")
else
	echo "bench/vm/run.sh: bpftrace is not installed ('scripts/deps.sh vm'); its column stays empty" >&2
fi
echo "bench/vm: booting the 6.12 test VM (software emulation: timings are relative)" >&2
exec "$repo/tests/vm/run.sh" --timeout "${TIMEOUT:-5400}" 6.12 -- \
	"$repo/.output/vm/iova_bench" "${args[@]}"
