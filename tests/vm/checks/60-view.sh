#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The views against a kernel that really tracks dirty pages:
#   - the live view in batch mode and 'iovatop record' run side by side
#     through a workload; the replay of the recording prints, interval by
#     interval (matched by the wall clock of each boundary), the same
#     summary, device rows and heat as the live view printed;
#   - the curses live view in tmux (120x40) during a workload: the hottest
#     device is marked, the detail panel opens, the filter works, q quits 0.
. "$(dirname "$0")/lib.sh"

# kept where the host can read them after the run
t=${RESULTS:-$TMPDIR}/view
rm -rf "$t"
mkdir -p "$t"

# wait_for FILE PATTERN SECONDS: grep until it matches.
wait_for() {
	local i
	for i in $(seq $(($3 * 10))); do
		grep -q "$2" "$1" 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}

# ---- live batch == replay of the same records ------------------------------

# Three tracers run at once here, each with programs of its own. On a
# kernel that preempts BPF trampolines (preempt=full or lazy) the kernel
# skips fentry runs of each one independently (counted; 50-tracer checks
# that), so the live view and the recording would lose different calls
# and could not agree interval by interval. Kprobe programs run with
# preemption off and are never skipped that way: there, all three use
# them, and the comparison stays exact. A kprobe run is still skipped,
# for all three at once, while a task preempted inside a BPF syscall
# holds the CPU's bpf_prog_active (seen once on 7.2: one run). Each
# process then marks the reports it sees running when it polls the
# count, at its own time, so only the "incomplete" figure may differ;
# when the recording counted such runs it is left out of the comparison
# and everything else must still match.
probe=(env)
model=$(preempt_model)
case $model in
full|lazy) probe=(env IOVATOP_KPROBE=1) ;;
esac

"${probe[@]}" "$IOVATOP" record -o "$t/trace" >"$t/record.log" 2>&1 &
rec=$!
if ! wait_for "$t/record.log" '^iovatop record: recording to' 30; then
	not_ok "view: iovatop record did not start: $(grep -m1 'iovatop record:' "$t/record.log")"
	kill -INT $rec 2>/dev/null
	finish
fi
# a second recorder, one record per block, to be killed with SIGKILL;
# uncompressed, so that it keeps up under emulation
"${probe[@]}" "$IOVATOP" record --no-compress --block-bytes 1 -o "$t/killed.trace" >"$t/killed.log" 2>&1 &
krec=$!
wait_for "$t/killed.log" '^iovatop record: recording to' 30 ||
	not_ok "view: the second recorder did not start: $(grep -m1 'iovatop record:' "$t/killed.log")"
"${probe[@]}" "$IOVATOP" -b 1 >"$t/live.txt" 2>"$t/live.err" &
live=$!
# the first block means the live view is attached: records start after it
if ! wait_for "$t/live.txt" '^iovatop ' 30; then
	not_ok "view: the live view printed nothing: $(head -1 "$t/live.err")"
	kill -INT $live $rec 2>/dev/null
	finish
fi
"$WORKLOAD" -s vfio-multi -o "$t/truth" >"$t/workload.log" 2>&1 ||
	not_ok "view: the vfio-multi workload failed: $(tail -1 "$t/workload.log")"
sleep 2.5	# the live view prints the interval of the last reports
kill -KILL $krec
wait $krec 2>/dev/null
kill -INT $live
wait $live
lrc=$?
kill -INT $rec
wait $rec
rrc=$?
[ $lrc -eq 0 ] || not_ok "view: the live view exited $lrc on SIGINT: $(head -1 "$t/live.err")"
[ $rrc -eq 0 ] || not_ok "view: iovatop record exited $rrc: $(grep -m1 'iovatop record:' "$t/record.log")"
if ! "$IOVATOP" replay -b "$t/trace" >"$t/replay.txt" 2>"$t/replay.err"; then
	not_ok "view: replay of the recording failed: $(head -1 "$t/replay.err")"
	finish
fi

# ---- report on the recording names what the workload made hottest ---------
#
# devices.tsv marks the hotspot device and its ranges; the workload dirties
# it mostly in its first range (vfio_multi[] in tests/vm/workload.c). The
# report must put that device first and its hottest region in that range.
if "$IOVATOP" report --format json "$t/trace" >"$t/report.json" 2>"$t/report.err"; then
	want=$(tsv_col "$t/truth/devices.tsv" hotspot device | awk -F'\t' '$1 == 1 { print $2; exit }')
	got=$(sed -n 's/.*"hottest": {"device": "\([^"]*\)".*/\1/p' "$t/report.json")
	if [ -n "$want" ] && [ "$got" = "vfio $want" ]; then
		ok "view: report on the recording names the programmed hotspot ($got)"
	else
		not_ok "view: report names '$got' hottest, the workload made 'vfio $want' hottest"
	fi
	hot_iova=$(sed -n 's/.*"hottest": {"device": "[^"]*", "region": {"iova": "\(0x[0-9a-f]*\)".*/\1/p' "$t/report.json")
	range=$(tsv_col "$t/truth/devices.tsv" hotspot ranges |
		awk -F'\t' '$1 == 1 { split($2, r, ","); print r[1]; exit }')
	lo=$((${range%%+*}))
	hi=$((lo + ${range##*+}))
	if [ -n "$hot_iova" ] && [ $((hot_iova)) -ge $lo ] && [ $((hot_iova)) -lt $hi ]; then
		ok "view: report's hottest region $hot_iova lies in the hotspot's range $range"
	else
		not_ok "view: report's hottest region '$hot_iova' is outside the hotspot's range $range"
	fi
else
	not_ok "view: report on the recording failed: $(head -1 "$t/report.err")"
fi

# ---- traces cut short ------------------------------------------------------

# jfield FILE KEY: the first number after "KEY": in a JSON report
jfield() { grep -o "\"$2\": [0-9]*" "$1" | head -1 | grep -o '[0-9]*$'; }

if "$IOVATOP" report --format json "$t/killed.trace" >"$t/killed.json" 2>"$t/killed.err" &&
   grep -q '"status": "truncated"' "$t/killed.json"; then
	kr=$(jfield "$t/killed.json" reports)
	cr=$(jfield "$t/report.json" reports)
	if [ -n "$kr" ] && [ "$kr" = "$cr" ] && [ "$kr" -gt 0 ]; then
		ok "view: a recorder killed with SIGKILL left a trace with all $kr reports of the clean recording, marked cut short"
	else
		not_ok "view: the SIGKILLed recording reports '$kr' reports, the clean one '$cr'"
	fi
else
	not_ok "view: report on the SIGKILLed recording: $(head -1 "$t/killed.err") $(grep -o '"status": "[a-z]*"' "$t/killed.json")"
fi

# The clean recording cut at 40 places, then just before and inside its
# end block (32-byte frame + 96 bytes): the records read never decrease
# with the cut, and a cut loses at most one block of records.
full=$(jfield "$t/report.json" records)
size=$(stat -c %s "$t/trace")
endb=$((size - 128))
prev=0 bad="" lost1=""
maxrec=$((4096 / 24))	# a 4 KiB block of the smallest records
for i in $(seq 0 39) end; do
	if [ "$i" = end ]; then
		cuts="$((endb - 1)) $endb $((size - 1))"
	else
		cuts=$((256 + (endb - 256) * i / 40))
	fi
	for c in $cuts; do
		head -c "$c" "$t/trace" >"$t/cut.trace"
		if ! "$IOVATOP" report --format json "$t/cut.trace" >"$t/cut.json" 2>"$t/cut.err"; then
			bad="cut at $c: report failed: $(head -1 "$t/cut.err")"
			break 2
		fi
		n=$(jfield "$t/cut.json" records)
		grep -q '"status": "truncated"' "$t/cut.json" || { bad="cut at $c: not marked cut short"; break 2; }
		[ "$n" -ge "$prev" ] || { bad="cut at $c: $n records, fewer than $prev at a shorter cut"; break 2; }
		prev=$n
		if [ "$c" -ge "$endb" ] && [ "$n" != "$full" ]; then
			bad="cut at $c (only the end marker missing): $n of $full records"
			break 2
		fi
		if [ "$c" = $((endb - 1)) ]; then
			# one byte short of the end block: the last data block is cut,
			# and the report says how many records went with it
			lost1=$((full - n))
			said=$(jfield "$t/cut.json" records_lost_in_cut)
			if [ "$lost1" -gt $maxrec ] || [ "$said" != "$lost1" ]; then
				bad="cut at $c (one byte into the last block): lost $lost1 records, said $said, a block holds at most $maxrec"
				break 2
			fi
		fi
	done
done
if [ -z "$bad" ]; then
	ok "view: the recording cut at 43 places reads up to its last whole block ($full records whole; one byte short, the $lost1 records of the last block lost and counted)"
else
	not_ok "view: $bad"
fi

# Blocks in order, each with the wall clock of its boundary; the first
# header line differs by design ("live" against "replay FILE", the time
# since start). The two processes convert the same boundary to wall-clock
# time each with its own clock reading, which may round to neighbouring
# seconds: so pair the sequences at the shift (keys within a second) where
# they agree best, then every pair must be identical. The live view's first
# interval started with the live view, not with the recording, and the
# replay's last ends with the recording's last record: both skipped.
skipped=$(grep -o '"skipped": [0-9]*' "$t/report.json" | grep -o '[0-9]*$')
mask=0
[ "${skipped:-0}" -gt 0 ] && mask=1
awk -v mask="$mask" '
	function secs(k,  a) { split(k, a, ":"); return a[1] * 3600 + a[2] * 60 + a[3] }
	FNR == 1 { f++ }
	# the replay ends its last interval with its last record, off the grid
	/^iovatop  [0-9][0-9]:[0-9][0-9]:[0-9][0-9]  .*\[end of trace\]/ { open = 0; next }
	/^iovatop  [0-9][0-9]:[0-9][0-9]:[0-9][0-9]  / { n[f]++; key[f, n[f]] = secs($2); open = 1; next }
	/^$/ { open = 0; next }
	open && mask { sub(/  incomplete [0-9]+/, "  incomplete -") }
	open { blk[f, n[f]] = blk[f, n[f]] $0 "\n" }
	END {
		best = -1
		for (k = -n[2]; k <= n[1]; k++) {
			pairs = 0; eq = 0; fit = 1
			for (i = 2; i <= n[1]; i++) {
				j = i + k
				if (j < 1 || j > n[2]) continue
				d = key[1, i] - key[2, j]
				if (d < -1 || d > 1) { fit = 0; break }
				pairs++
				if (blk[1, i] == blk[2, j]) eq++
			}
			if (fit && pairs && eq > best) { best = eq; bk = k; bp = pairs }
		}
		if (best < 0) { print "0 0 0 -"; exit }
		busy = 0; bad = "-"
		for (i = 2; i <= n[1]; i++) {
			j = i + bk
			if (j < 1 || j > n[2]) continue
			if (blk[1, i] ~ /\n[* ] (vfio|iommufd) /) busy++
			if (bad == "-" && blk[1, i] != blk[2, j]) bad = i " " j
		}
		printf "%d %d %d %s\n", bp, busy, best, bad
	}' "$t/live.txt" "$t/replay.txt" >"$t/cmp"
read -r common busy same bad <"$t/cmp"
if [ "$busy" -ge 2 ] && [ "$common" -eq "$same" ]; then
	ok "view: replay of the recording shows the numbers the live view showed ($same intervals, $busy with devices; preempt=$model, ${probe[1]:-fentry or as chosen}$([ $mask = 1 ] && echo "; $skipped runs the kernel skipped, the incomplete count left out"))"
else
	not_ok "view: replay matches the live view in $same of $common intervals ($busy with devices)"
	if [ "$bad" != - ]; then
		read -r li ri <<<"$bad"
		echo "# first difference: live interval $li, replay interval $ri; live, then replay:"
		awk -v want="$li" '/^iovatop  [0-9]/ { n++ } n == want' "$t/live.txt" | sed 's/^/# /' | head -14
		awk -v want="$ri" '/^iovatop  [0-9]/ { n++ } n == want' "$t/replay.txt" | sed 's/^/# /' | head -14
	fi
fi
check "view: the live view names the hottest device of vfio-multi (0000:3b:00.2 or the UUID device)" \
	grep -Eq '^hottest vfio (0000:3b:00.2|83b8f4f2-509f-382f-3c1e-e6bfe0fa1001) ' "$t/live.txt"

# ---- the curses view in tmux, live ------------------------------------------

if ! command -v tmux >/dev/null; then
	not_ok "view: tmux is missing in the guest (scripts/deps.sh build installs it on the host)"
	finish
fi
sock=iovatop-vm-$$
tm() { tmux -L "$sock" -f /dev/null "$@"; }
screen() { tm capture-pane -p -t view; }
# wait_screen TEXT SECONDS
wait_screen() {
	local i
	for i in $(seq $(($2 * 10))); do
		screen | grep -qF -- "$1" && return 0
		sleep 0.1
	done
	return 1
}

"$WORKLOAD" -s demo -i 100 >"$t/demo.log" 2>&1 &
wl=$!
tm new-session -d -s view -x 120 -y 40 \
	"TERM=screen $IOVATOP; echo iovatop-exit=\$?; sleep 30"
if wait_screen '* vfio ' 30 || wait_screen '* iommufd ' 5; then
	ok "view: the curses live view shows devices and marks the hottest"
else
	not_ok "view: the curses live view never marked a hottest device"
	screen | sed 's/^/# /' | head -12
fi
tm send-keys -t view j Enter
check "view: Enter opens the detail panel with its heatmap" wait_screen 'heat  |' 10
tm send-keys -t view Escape / 0 0 0 0 : 3 b Enter
# only_bus_3b: the rows listed are devices on bus 3b, and there is one
# (tmux may show the header's filter before the rows of the same refresh)
only_bus_3b() {
	local rows
	rows=$(screen | grep -E '^[* ] (vfio|iommufd) ')
	grep -q '^[* ] vfio 0000:3b:' <<<"$rows" &&
		! grep -qv '^[* ] vfio 0000:3b:' <<<"$rows"
}
filtered=
if wait_screen 'filter "0000:3b"' 10; then
	for _ in $(seq 100); do
		only_bus_3b && filtered=1 && break
		sleep 0.1
	done
fi
if [ -n "$filtered" ]; then
	ok "view: the filter leaves the devices on bus 3b, and only them"
else
	not_ok "view: the filter \"0000:3b\" did not leave just the devices on bus 3b"
	screen | sed 's/^/# /' | head -12
fi
tm send-keys -t view q
check "view: q quits the curses view with status 0" wait_screen 'iovatop-exit=0' 10
tm kill-server 2>/dev/null
kill -TERM $wl 2>/dev/null
wait $wl 2>/dev/null
finish
