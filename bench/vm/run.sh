#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# The tracing-overhead benchmark of iovatop, in one boot of the 6.12 test
# VM (bench/vm/iova_bench.c says what it measures). 'make bench' runs it.
#
#   bench/vm/run.sh            ROUNDS=2 REPS=4 by default
#   ROUNDS=3 REPS=5 bench/vm/run.sh
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)

make --no-print-directory -s -C "$repo" iovatop .output/vm/iova_bench
args=(--iovatop "$repo/iovatop" --rounds "${ROUNDS:-2}" --reps "${REPS:-4}")
if bt=$(command -v bpftrace); then
	args+=(--bpftrace "$bt")
else
	echo "bench/vm/run.sh: bpftrace is not installed ('scripts/deps.sh vm'); its column stays empty" >&2
fi
echo "bench/vm: booting the 6.12 test VM (software emulation: timings are relative)" >&2
exec "$repo/tests/vm/run.sh" --timeout 1200 6.12 -- "$repo/.output/vm/iova_bench" "${args[@]}"
