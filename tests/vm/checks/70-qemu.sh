#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# A real QEMU live migration of a guest with two of the test driver's
# devices assigned as vfio-pci (tests/vm/qemu/migrate.sh), with iovatop
# recording (--verify, and --qmp on a second QMP monitor of the source
# QEMU, so that QEMU's own figures are in the trace) during each scenario:
# converging, stuck (cancelled while still active), late (the rates drop
# mid-migration). For each, tests/vm/qemu/compare.py holds the recording
# against QEMU's own trace (every DMA_LOGGING_REPORT, the union of the
# devices' bitmaps = QEMU's dirty_pages per sync and range, iterations =
# dirty-sync-count), against the driver's log of what it set, and checks
# that the destination runs with the source devices' state. Then the
# forecast (docs/forecast.md): replay -b --format json of the trace, on
# QEMU's recorded samples, held by tests/vm/qemu/forecast_check.py against
# what QEMU did (every query-migrate the harness read, QEMU's trace):
# "converges" before the switchover on converging and late, "cannot
# converge" naming the programmed device by sync 3 on stuck and no flip
# after, the devices' shares of QEMU's dirty-pages-rate; and report's
# verdict as replay's. The closing table: each scenario, what QEMU did,
# what the forecast said.
. "$(dirname "$0")/lib.sh"

t=${RESULTS:-$TMPDIR}/qemu
rm -rf "$t"
mkdir -p "$t"
qdir=$REPO/tests/vm/qemu

if ! command -v qemu-system-x86_64 >/dev/null; then
	not_ok "qemu: no qemu-system-x86_64 in the guest (scripts/deps.sh vm installs it)"
	finish
fi
ok "qemu: $(qemu-system-x86_64 --version | head -1)"

wait_for() {
	local i
	for i in $(seq $(($3 * 10))); do
		grep -q "$2" "$1" 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}

# until CMD succeeds, for up to S seconds
wait_until() {
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
	# QEMU first, waiting for the go: the recorder needs its QMP socket
	# (on tmpfs: $RESULTS is a 9p share)
	sock=$TMPDIR/qemu-$sc.qmp
	rm -f "$sock"
	start=$(date +%s.%N)
	MIGRATE_STATUS=$d/status MIGRATE_LABEL=$sc \
		"$qdir/migrate.sh" -o "$d/mig" -q "$sock" -g "$d/go" "$sc" >"$d/migrate.log" 2>&1 &
	mig=$!
	if ! wait_until "[ -S '$sock' ] && [ -s '$d/mig/info.txt' ] || ! kill -0 $mig 2>/dev/null" 60 ||
		! kill -0 $mig 2>/dev/null; then
		not_ok "qemu $sc: the harness did not bring QEMU up: $(grep -m1 'migrate.sh' "$d/migrate.log")"
		kill $mig 2>/dev/null
		wait $mig
		continue
	fi
	"$IOVATOP" record --verify --qmp "$sock" --qmp-interval 0.1 -o "$d/trace" \
		>"$d/record.log" 2>&1 &
	rec=$!
	if ! wait_for "$d/record.log" '^iovatop record: recording to' 120; then
		not_ok "qemu $sc: iovatop record did not start: $(grep -m1 'iovatop record:' "$d/record.log")"
		kill -INT $rec 2>/dev/null
		wait $rec
		kill $mig 2>/dev/null
		wait $mig
		continue
	fi
	touch "$d/go"
	wait $mig
	mrc=$?
	secs=$(echo "$(date +%s.%N) - $start" | bc)
	# QEMU's last answers (completed, cancelled) are in the trace
	sleep 0.3
	kill -INT $rec
	wait $rec
	rrc=$?
	if [ $mrc -eq 0 ]; then
		ok "qemu $sc: the harness ran the migration as programmed in ${secs%??????} s"
	else
		not_ok "qemu $sc: the harness failed (exit $mrc) after ${secs%??????} s"
		sed 's/^/# /' "$d/migrate.log" | head -20
	fi
	[ $rrc -eq 0 ] || not_ok "qemu $sc: iovatop record exited $rrc: $(grep -m1 'iovatop record:' "$d/record.log")"
	# make demo's line under the view: how it ended, at QEMU's own sync count
	status=$(cat "$d/status" 2>/dev/null)
	n=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["last_seen_syncs"])' "$d/mig/result.json" 2>/dev/null)
	case $sc in
	stuck) want="stuck: cancelled at sync $n of 5 after " ;;
	*) want="$sc: completed after $n syncs in " ;;
	esac
	if [ -n "$n" ] && [ "${status#"$want"}" != "$status" ] &&
	   case $status in *"; "*"MiB the downtime lets through") true ;; *) false ;; esac; then
		ok "qemu $sc: the status line says how it ended: $status"
	else
		not_ok "qemu $sc: the status line is '$status', not '$want...; ... the downtime lets through'"
	fi
	if [ ! -f "$d/mig/result.json" ]; then
		not_ok "qemu $sc: no migration result to compare with"
		continue
	fi
	if ! "$IOVATOP" report --format json --dump-bitmaps "$d/bitmaps" "$d/trace" \
		>"$d/report.json" 2>"$d/report.err"; then
		not_ok "qemu $sc: iovatop report failed: $(head -1 "$d/report.err")"
		continue
	fi
	python3 "$qdir/compare.py" "$d/mig" "$d/report.json" "$d/bitmaps" >"$d/compare.txt" 2>&1
	crc=$?
	while IFS= read -r line; do
		case "$line" in
		"OK "*) ok "qemu ${line#OK }" ;;
		"FAIL "*) not_ok "qemu ${line#FAIL }" ;;
		*) echo "$line" ;;
		esac
	done <"$d/compare.txt"
	if [ $crc -gt 1 ] || ! grep -q '^OK ' "$d/compare.txt"; then
		not_ok "qemu $sc: compare.py crashed (exit $crc)"
		grep -v '^OK \|^FAIL \|^# ' "$d/compare.txt" | sed 's/^/# /' | tail -8
	fi

	# the forecast, on QEMU's samples the trace holds
	fstart=$(date +%s.%N)
	if [ ! -s "$d/mig/qmp-samples.jsonl" ]; then
		not_ok "forecast $sc: the harness left no QMP samples to compare with"
		continue
	fi
	if ! "$IOVATOP" replay -b --format json "$d/trace" 0.1 >"$d/forecast.jsonl" 2>"$d/replay.err"; then
		not_ok "forecast $sc: iovatop replay failed: $(head -1 "$d/replay.err")"
		continue
	fi
	python3 "$qdir/forecast_check.py" "$d/mig" "$d/forecast.jsonl" "$d/report.json" \
		>"$d/forecast.txt" 2>&1
	crc=$?
	while IFS= read -r line; do
		case "$line" in
		"OK "*) ok "forecast ${line#OK }" ;;
		"FAIL "*) not_ok "forecast ${line#FAIL }" ;;
		"VERDICT "*) verdicts+=("${line#VERDICT }") ;;
		*) echo "$line" ;;
		esac
	done <"$d/forecast.txt"
	if [ $crc -gt 1 ] || ! grep -q '^OK ' "$d/forecast.txt"; then
		not_ok "forecast $sc: forecast_check.py crashed (exit $crc)"
		grep -v '^OK \|^FAIL \|^# \|^VERDICT ' "$d/forecast.txt" | sed 's/^/# /' | tail -8
	fi
	echo "# forecast $sc: replay and check took $(echo "$(date +%s.%N) - $fstart" | bc | cut -c1-5) s"
done
echo "# forecast verdicts ($KVER): scenario | what QEMU did | what the forecast said"
for v in "${verdicts[@]}"; do
	echo "#   ${v//|/ | }"
done
finish
