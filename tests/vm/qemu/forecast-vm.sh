#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The forecast, live, during real QEMU migrations (tests/vm/qemu/migrate.sh:
# two of the test driver's devices as vfio-pci, a 4 MiB/s rate cap and a
# 300 ms downtime limit set over QMP). For each scenario iovatop runs as a
# user would, `iovatop -b --format json --qmp SOCKET`, on a second QMP
# monitor of the source QEMU, from before the migration starts until after
# it ended; tests/vm/qemu/forecast_check.py then holds its forecasts
# against what QEMU itself answered over QMP (every query-migrate the
# harness read) and traced:
#   converging  "converges" before QEMU switches over, never "cannot"
#   stuck       "cannot converge" by QEMU's sync 3, naming the device
#               programmed to outrun the link; QEMU still active at sync 5
#   late        "converges" before QEMU switches over
# and the devices' shares of QEMU's dirty-pages-rate against the part of
# it QEMU's own trace says the devices made. Each scenario ends with a
# "# verdict" line: what QEMU did beside what the forecast said.
. "$(dirname "$0")/../checks/lib.sh"

t=${RESULTS:-$TMPDIR}/forecast
rm -rf "$t"
mkdir -p "$t"
qdir=$REPO/tests/vm/qemu
# the forecast's interval: several per sync pass (a few tenths of a second)
interval=${FORECAST_INTERVAL:-0.25}

if ! command -v qemu-system-x86_64 >/dev/null; then
	not_ok "forecast: no qemu-system-x86_64 in the guest (scripts/deps.sh vm installs it)"
	finish
fi

wait_for() {
	local i
	for i in $(seq $(($2 * 10))); do
		eval "$1" && return 0
		sleep 0.1
	done
	return 1
}

verdicts=()
for sc in ${QEMU_SCENARIOS:-converging stuck late}; do
	d=$t/$sc
	mkdir -p "$d"
	# a unix socket on tmpfs: $RESULTS is a 9p share
	sock=$TMPDIR/forecast-$sc.qmp
	rm -f "$sock"
	"$qdir/migrate.sh" -o "$d/mig" -q "$sock" -g "$d/go" "$sc" >"$d/migrate.log" 2>&1 &
	mig=$!
	if ! wait_for "[ -S '$sock' ] && [ -s '$d/mig/info.txt' ] || ! kill -0 $mig 2>/dev/null" 60 ||
		! kill -0 $mig 2>/dev/null; then
		not_ok "forecast $sc: the harness did not bring QEMU up: $(grep -m1 'migrate.sh' "$d/migrate.log")"
		kill $mig 2>/dev/null
		wait $mig
		continue
	fi
	"$IOVATOP" -b --format json --qmp "$sock" "$interval" >"$d/iovatop.jsonl" 2>"$d/iovatop.err" &
	top=$!
	# attaching under nested emulation on a loaded host takes a while
	if ! wait_for "grep -q '\"type\": \"forecast\"' '$d/iovatop.jsonl' || ! kill -0 $top 2>/dev/null" 120 ||
		! kill -0 $top 2>/dev/null; then
		not_ok "forecast $sc: iovatop --qmp printed no forecast: $(head -1 "$d/iovatop.err")"
		kill -INT $top 2>/dev/null
		touch "$d/go"
		wait $top
		wait $mig
		continue
	fi
	touch "$d/go"
	wait $mig
	mrc=$?
	# one more interval, for QEMU's final status
	sleep 1
	kill -INT $top
	wait $top
	trc=$?
	if [ $mrc -eq 0 ]; then
		ok "forecast $sc: the harness ran the migration as programmed, iovatop watching"
	else
		not_ok "forecast $sc: the harness failed (exit $mrc)"
		sed 's/^/# /' "$d/migrate.log" | head -20
	fi
	[ $trc -eq 0 ] || not_ok "forecast $sc: iovatop exited $trc: $(head -1 "$d/iovatop.err")"
	if [ ! -s "$d/mig/qmp-samples.jsonl" ] || [ ! -f "$d/mig/result.json" ]; then
		not_ok "forecast $sc: the harness left no QMP samples to compare with"
		continue
	fi
	python3 "$qdir/forecast_check.py" "$d/mig" "$d/iovatop.jsonl" >"$d/check.txt" 2>&1
	crc=$?
	while IFS= read -r line; do
		case "$line" in
		"OK "*) ok "forecast ${line#OK }" ;;
		"FAIL "*) not_ok "forecast ${line#FAIL }" ;;
		"VERDICT "*) verdicts+=("${line#VERDICT }") ;;
		*) echo "$line" ;;
		esac
	done <"$d/check.txt"
	if [ $crc -gt 1 ] || ! grep -q '^OK ' "$d/check.txt"; then
		not_ok "forecast $sc: forecast_check.py crashed (exit $crc)"
		grep -v '^OK \|^FAIL \|^# \|^VERDICT ' "$d/check.txt" | sed 's/^/# /' | tail -8
	fi
done
echo "# forecast verdicts ($KVER): scenario | what QEMU did | what the forecast said"
for v in "${verdicts[@]}"; do
	echo "#   ${v//|/ | }"
done
finish
