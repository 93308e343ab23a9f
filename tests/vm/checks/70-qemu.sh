#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# A real QEMU live migration of a guest with two of the test driver's
# devices assigned as vfio-pci (tests/vm/qemu/migrate.sh), with iovatop
# recording (--verify) during each scenario: converging, stuck (cancelled
# while still active), late (the rates drop mid-migration). For each,
# tests/vm/qemu/compare.py holds the recording against QEMU's own trace
# (every DMA_LOGGING_REPORT, the union of the devices' bitmaps = QEMU's
# dirty_pages per sync and range, iterations = dirty-sync-count), against
# the driver's log of what it set, and checks that the destination runs
# with the source devices' state.
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

for sc in ${QEMU_SCENARIOS:-converging stuck late}; do
	d=$t/$sc
	mkdir -p "$d"
	"$IOVATOP" record --verify -o "$d/trace" >"$d/record.log" 2>&1 &
	rec=$!
	if ! wait_for "$d/record.log" '^iovatop record: recording to' 30; then
		not_ok "qemu $sc: iovatop record did not start: $(grep -m1 'iovatop record:' "$d/record.log")"
		kill -INT $rec 2>/dev/null
		wait $rec
		continue
	fi
	start=$(date +%s.%N)
	MIGRATE_STATUS=$d/status MIGRATE_LABEL=$sc \
		"$qdir/migrate.sh" -o "$d/mig" "$sc" >"$d/migrate.log" 2>&1
	mrc=$?
	secs=$(echo "$(date +%s.%N) - $start" | bc)
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
done
finish
