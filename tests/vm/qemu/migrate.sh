#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# A real QEMU live migration with the test driver's devices assigned, inside
# the test VM (the test driver loaded: tests/vm/run.sh --module).
#
#   tests/vm/qemu/migrate.sh [-o DIR] [-q SOCKET] [-g FILE] converging|stuck|late
#
# Starts a destination QEMU (-incoming unix:) with two of the driver's
# devices and a source QEMU with two others, each as
# -device vfio-pci,sysfsdev=/sys/bus/platform/devices/NAME at the same guest
# PCI addresses, programs the source devices' DMA logging, and migrates
# over QMP (qmp.py) with a low bandwidth cap: nested emulation moves about
# 20 MB/s at best, so only a cap below that makes dirty pages matter.
# The guest is firmware only (SeaBIOS, no disk), its 16 MiB of RAM filled
# with non-zero bytes so that every page costs its 4 KiB on the wire.
#
# Scenarios (ground truth: the programs below, the driver's own report log):
#   converging  device A dirties 16 pages a sync, B 24, 8 of them A's too:
#               32 pages (128 KiB), far below what the 4 MiB/s link
#               carries in the 300 ms downtime; QEMU completes
#   stuck       A 416, B 128, 32 shared: 512 pages (2 MiB) a sync, more
#               than the link can carry in the downtime (1.2 MiB at
#               most): QEMU keeps iterating; the harness checks it is
#               still 'active' after STUCK_SYNCS syncs and cancels
#   late        as stuck until sync LATE_SYNC, then both devices drop to the
#               converging programs; QEMU completes
# With MIGRATE_STATUS=FILE, FILE keeps one line on what the migration is
# doing, MIGRATE_LABEL first (make demo shows it under the live view).
#
# DIR (default $RESULTS/qemu-SCENARIO) gets:
#   info.txt        key=value: scenario, qemu version, pids, comms, devices
#   devices.tsv     role, device, token, program(s), state afterwards
#   result.json     what qmp.py saw: status, dirty-sync-count, times, steps
#   reports-NAME.txt the driver's log of DMA logging reports, per device:
#                   "0xIOVA 0xLENGTH PAGE_SIZE CALLS PAGES"
#   migration-NAME.txt the driver's migration state per device afterwards
#   qemu-src.trace, qemu-dst.trace   QEMU's own trace (-msg timestamp=on)
#   qemu-src.log, qemu-dst.log       QEMU's stderr
#   qmp-samples.jsonl every query-migrate the harness read, one JSON object
#                   a line with its CLOCK_MONOTONIC time (t_ns)
#
# -q SOCKET gives the source QEMU a second QMP monitor there, for an
# observer (iovatop --qmp): a QMP socket serves one client at a time and
# the harness holds the first. -g FILE waits (up to 180 s) until FILE
# exists before starting the migration, so that the observer can connect
# first; the harness writes info.txt before it waits.
#
# Exit: 0 when the scenario went as programmed (converging, late: completed,
# destination running; stuck: active before the cancel, then cancelled),
# 1 when not, 2 on bad usage.
set -u
here=$(cd "$(dirname "$0")" && pwd)
dbg=/sys/kernel/debug/iovatop_test

out= watch_qmp= go_file=
while [ $# -gt 0 ]; do
	case "$1" in
	-o) out=$2; shift 2 ;;
	-q) watch_qmp=$2; shift 2 ;;
	-g) go_file=$2; shift 2 ;;
	-h | --help) sed -n '3,49p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	-*) echo "migrate.sh: unknown option $1; see --help" >&2; exit 2 ;;
	*) break ;;
	esac
done
scenario=${1:-}
case "$scenario" in
converging | stuck | late) ;;
*) echo "migrate.sh: which scenario? converging, stuck or late" >&2; exit 2 ;;
esac
out=${out:-${RESULTS:-/tmp}/qemu-$scenario}
qemu=${QEMU:-qemu-system-x86_64}
SRC_DEVS=${SRC_DEVS:-"0000:3b:00.2 0000:3b:00.3"}
DST_DEVS=${DST_DEVS:-"0000:af:00.1 0000:af:00.2"}
BANDWIDTH=${BANDWIDTH:-4194304}		# bytes/s: 4 MiB/s
DOWNTIME=${DOWNTIME:-300}		# ms
STUCK_SYNCS=${STUCK_SYNCS:-5}
LATE_SYNC=${LATE_SYNC:-2}
TIMEOUT=${TIMEOUT:-90}
RAM_MB=16

die() { echo "migrate.sh: $*" >&2; exit 1; }
[ -d "$dbg" ] || die "the test driver is not loaded ($dbg missing); run in the test VM with --module"
command -v "$qemu" >/dev/null || die "no $qemu; scripts/deps.sh vm installs it"
for d in $SRC_DEVS $DST_DEVS; do
	[ -d "$dbg/$d" ] || die "the test driver has no device $d"
done

# The programs (tests/vm/module/itp.h). Device A: 'random' pages in
# [4 MiB, 10 MiB) plus a sweep from 0xa10000; device B: a sweep from
# 0xa00000, over A's sweep: QEMU ORs both into one bitmap, so the union
# is A's sweep less than the sum. All inside the guest's main RAM section
# [1 MiB, 16 MiB).
prog_a() { echo "kind=random base=0x400000 size=0x600000 page=4096 count=$1 run=1 seed=7;kind=sweep base=0xa10000 size=0x20000 page=4096 count=$2 run=1 seed=0"; }
prog_b() { echo "kind=sweep base=0xa00000 size=0x400000 page=4096 count=$1 run=8 seed=0"; }
set -- $SRC_DEVS
dev_a=$1 dev_b=$2
case "$scenario" in
converging) pa=$(prog_a 8 8) pb=$(prog_b 24) ;;
stuck | late) pa=$(prog_a 384 32) pb=$(prog_b 128) ;;
esac
# What a person watching is told (MIGRATE_STATUS, make demo): the pages
# each device dirties a sync and their union against what the downtime
# lets through (bandwidth x downtime limit).
budget=$(awk -v b="$BANDWIDTH" -v d="$DOWNTIME" 'BEGIN { printf "%.1f", b * d / 1000 / 1048576 }')
case "$scenario" in
converging) what="${dev_a#0000:} dirties 16 pages a sync, ${dev_b#0000:} 24, 8 of them shared: 128 KiB, under the $budget MiB the downtime lets through" ;;
stuck) what="${dev_a#0000:} dirties 416 pages a sync, ${dev_b#0000:} 128, 32 shared: 2 MiB, over the $budget MiB the downtime lets through" ;;
late) what="as stuck (2 MiB a sync) until sync $LATE_SYNC, then 128 KiB: under the $budget MiB the downtime lets through" ;;
esac
# late: what the devices drop to at sync LATE_SYNC
la=$(prog_a 8 8) lb=$(prog_b 24)

rm -rf "$out"
mkdir -p "$out" || die "cannot create $out"
work=$(mktemp -d "${TMPDIR:-/tmp}/itest-mig.XXXXXX")
ram=/dev/shm/itest-ram.$$
src_pid= dst_pid=
cleanup() {
	local p
	for p in $src_pid $dst_pid; do
		kill "$p" 2>/dev/null
	done
	for p in $src_pid $dst_pid; do
		wait "$p" 2>/dev/null
	done
	rm -rf "$work" "$ram"
	for d in $SRC_DEVS; do
		echo none >"$dbg/$d/program" 2>/dev/null
	done
}
trap cleanup EXIT
trap 'exit 1' TERM INT

# Start from empty logs: what is read afterwards is this migration's.
for d in $SRC_DEVS $DST_DEVS; do
	cat "$dbg/$d/reports" "$dbg/$d/sets" >/dev/null
done
echo "$pa" >"$dbg/$dev_a/program" || die "programming $dev_a failed"
echo "$pb" >"$dbg/$dev_b/program" || die "programming $dev_b failed"

# Non-zero RAM: zero pages cost QEMU a few bytes, and the point is pages
# that cost their size.
python3 -c 'import sys; open(sys.argv[1], "wb").write(b"iovatop!" * (int(sys.argv[2]) << 17))' \
	"$ram" $RAM_MB || die "cannot fill $ram"

# QEMU's -trace takes one pattern; a list goes in an events file.
printf '%s\n' vfio_get_dirty_bitmap vfio_device_dirty_tracking_start \
	vfio_device_dirty_tracking_update vfio_migration_set_state vfio_save_setup \
	vfio_save_iterate vfio_save_complete_precopy vfio_load_state_device_data \
	vfio_state_pending_exact migration_bitmap_sync_start \
	migration_bitmap_sync_end >"$work/events"
common=(-accel tcg -machine "q35,memory-backend=ram0" -m ${RAM_MB}M -smp 1
	-nodefaults -display none -serial none -monitor none -msg timestamp=on)
devargs() {
	local role=$1 slot=16 d
	shift
	for d in "$@"; do
		printf -- '-device\0vfio-pci,sysfsdev=/sys/bus/platform/devices/%s,addr=0x%x,id=itest%x\0' \
			"$d" $slot $slot
		slot=$((slot + 1))
	done
}

mapfile -d '' dst_devargs < <(devargs dst $DST_DEVS)
mapfile -d '' src_devargs < <(devargs src $SRC_DEVS)
watch_args=()
[ -n "$watch_qmp" ] && watch_args=(-qmp unix:"$watch_qmp",server=on,wait=off)
"$qemu" "${common[@]}" -name itest-dst \
	-object memory-backend-ram,id=ram0,size=${RAM_MB}M \
	"${dst_devargs[@]}" \
	-qmp unix:"$work/dst.qmp",server=on,wait=off \
	-incoming unix:"$work/mig.sock" \
	-trace "events=$work/events,file=$out/qemu-dst.trace" \
	>"$out/qemu-dst.log" 2>&1 &
dst_pid=$!
"$qemu" "${common[@]}" -name itest-src \
	-object memory-backend-file,id=ram0,size=${RAM_MB}M,mem-path="$ram",share=on \
	"${src_devargs[@]}" \
	-qmp unix:"$work/src.qmp",server=on,wait=off "${watch_args[@]}" \
	-trace "events=$work/events,file=$out/qemu-src.trace" \
	>"$out/qemu-src.log" 2>&1 &
src_pid=$!

qemu_died() {
	echo "migrate.sh: $1 QEMU exited before it answered QMP:" >&2
	sed 's/^/  /' "$out/qemu-$1.log" >&2
	exit 1
}
python3 "$here/qmp.py" wait "$work/dst.qmp" 30 2>/dev/null || qemu_died dst
python3 "$here/qmp.py" wait "$work/src.qmp" 30 2>/dev/null || qemu_died src

{
	echo "scenario=$scenario"
	echo "qemu=$("$qemu" --version | head -1)"
	echo "src_pid=$src_pid"
	echo "src_comm=$(cat /proc/$src_pid/comm)"
	echo "dst_pid=$dst_pid"
	echo "dst_comm=$(cat /proc/$dst_pid/comm)"
	echo "src_devices=$SRC_DEVS"
	echo "dst_devices=$DST_DEVS"
	echo "ram_mb=$RAM_MB"
	echo "bandwidth=$BANDWIDTH"
	echo "downtime_limit=$DOWNTIME"
	echo "late_sync=$LATE_SYNC"
	echo "kernel=$(uname -r)"
} >"$out/info.txt"

if [ -n "$go_file" ]; then
	for _ in $(seq 1800); do
		[ -e "$go_file" ] && break
		sleep 0.1
	done
	[ -e "$go_file" ] || die "no $go_file after 180 s: the observer did not start"
fi

margs=(--bandwidth "$BANDWIDTH" --downtime "$DOWNTIME" --timeout "$TIMEOUT"
	--log "$out/qmp-samples.jsonl")
[ -z "${MIGRATE_STATUS:-}" ] ||
	margs+=(--status "$MIGRATE_STATUS" --label "${MIGRATE_LABEL:-$scenario}" --detail "$what")
case "$scenario" in
stuck) margs+=(--cancel-after "$STUCK_SYNCS") ;;
late) margs+=(--switch "$LATE_SYNC:$dbg/$dev_a/program=$la"
	--switch "$LATE_SYNC:$dbg/$dev_b/program=$lb") ;;
esac
start=$(date +%s.%N)
python3 "$here/qmp.py" migrate "$work/src.qmp" "$work/dst.qmp" \
	"unix:$work/mig.sock" "${margs[@]}" >"$out/result.json" 2>"$out/qmp.err"
qrc=$?
echo "wall_s=$(echo "$(date +%s.%N) - $start" | bc)" >>"$out/info.txt"

# Afterwards: the driver's logs and migration state, then both QEMUs quit.
for d in $SRC_DEVS $DST_DEVS; do
	f=${d//:/_}
	cat "$dbg/$d/reports" >"$out/reports-$f.txt"
	cat "$dbg/$d/migration" >"$out/migration-$f.txt"
done
{
	printf 'role\tdevice\ttoken\tprogram\tlate_program\tstate\tloaded_from\tloaded_token\n'
	for d in $SRC_DEVS $DST_DEVS; do
		role=dst prog=- late=-
		case " $SRC_DEVS " in *" $d "*) role=src ;; esac
		[ "$d" = "$dev_a" ] && prog=$pa late=$la
		[ "$d" = "$dev_b" ] && prog=$pb late=$lb
		[ "$scenario" = late ] || late=-
		m=$out/migration-${d//:/_}.txt
		printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$role" "$d" \
			"$(awk '$1 == "token" { print $2 }' "$m")" "$prog" "$late" \
			"$(awk '$1 == "state" { print $2 }' "$m")" \
			"$(awk '$1 == "loaded_from" { print $2 }' "$m")" \
			"$(awk '$1 == "loaded_token" { print $2 }' "$m")"
	done
} >"$out/devices.tsv"
for s in src dst; do
	python3 "$here/qmp.py" cmd "$work/$s.qmp" quit >/dev/null 2>&1
done
for p in $src_pid $dst_pid; do
	wait "$p" 2>/dev/null
done
src_pid= dst_pid=

if [ $qrc -ne 0 ]; then
	echo "migrate.sh: the QMP client failed: $(cat "$out/qmp.err")" >&2
	exit 1
fi
status=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["status"])' "$out/result.json")
dst=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["dst_status"])' "$out/result.json")
case "$scenario" in
stuck)
	before=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1])).get("status_before_cancel", "-"))' "$out/result.json")
	[ "$before" = active ] && [ "$status" = cancelled ] && exit 0
	echo "migrate.sh: stuck: status before the cancel '$before', after '$status' (want active, cancelled)" >&2
	;;
*)
	[ "$status" = completed ] && [ "$dst" = running ] && exit 0
	echo "migrate.sh: $scenario: migration '$status', destination '$dst' (want completed, running)" >&2
	;;
esac
exit 1
