#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# run-unit.sh BIN...: run each cmocka test binary, sum their results.
#
# Each binary's own summary lines ("[==========] N test(s) run.",
# "[  PASSED  ] N test(s).", "[  FAILED  ] N test(s), listed below:",
# "[  SKIPPED ] N test(s).") are parsed. A binary that crashes, is killed,
# times out (UNIT_TIMEOUT seconds, default 600), exits non-zero without a
# failed test, prints no summary or one that does not add up counts as
# failed too; so do skipped
# tests, because a test that cannot run here must say so by failing. The
# output of a binary that did not pass is shown in full. The last line is
# exactly "N passed, N failed"; the exit status is non-zero if anything
# failed or nothing ran.
set -u

timeout_s=${UNIT_TIMEOUT:-600}
total_pass=0
total_fail=0

if [ $# -eq 0 ]; then
	echo "run-unit: no test binaries given." >&2
	echo "0 passed, 0 failed"
	exit 1
fi

for bin in "$@"; do
	name=$(basename "$bin")
	if [ ! -x "$bin" ]; then
		echo "FAIL $name: not an executable file; was it built?"
		total_fail=$((total_fail + 1))
		continue
	fi
	out=$(timeout --kill-after=10 "$timeout_s" "$bin" 2>&1)
	status=$?

	# the last summary of each kind wins, should a binary run two groups
	sum_line() {
		printf '%s\n' "$out" | sed -n "s/^\[  *$1  *\] \([0-9][0-9]*\) test.*/\1/p" |
			awk '{ s += $1 } END { print s + 0 }'
	}
	run=$(printf '%s\n' "$out" | sed -n 's/^\[=*\] \([0-9][0-9]*\) test(s) run\./\1/p' |
		awk '{ s += $1 } END { print s + 0 }')
	have_summary=$(printf '%s\n' "$out" | grep -c '^\[=*\] [0-9][0-9]* test(s) run\.')
	pass=$(sum_line PASSED)
	fail=$(sum_line FAILED)
	skip=$(sum_line SKIPPED)
	ok_lines=$(printf '%s\n' "$out" | grep -c '^\[ *OK *\]')
	why=""

	if [ "$have_summary" -eq 0 ]; then
		# cmocka exits with its failure count, so only a missing
		# summary tells a crash from many failures
		case $status in
		0) why="printed no cmocka summary" ;;
		124 | 137) why="timed out after ${timeout_s}s" ;;
		12[5-7]) why="could not be run (status $status)" ;;
		*) if [ "$status" -gt 128 ]; then
			why="died of signal $((status - 128))"
		   else
			why="exited with status $status before its summary"
		   fi ;;
		esac
		# what finished before the end counts; the end is one failure
		pass=$ok_lines
		fail=1
	elif [ "$status" -ne 0 ] && [ "$fail" -eq 0 ]; then
		why="exited with status $status although no test failed"
		fail=1
	elif [ $((pass + fail + skip)) -ne "$run" ]; then
		# every test that ran passed, failed or was skipped
		why="ran $run tests but $pass passed, $fail failed, $skip skipped"
		fail=$((fail + 1))
	fi
	if [ "$skip" -gt 0 ]; then
		why="${why:+$why; }$skip test(s) skipped"
		fail=$((fail + skip))
	fi
	if [ "$run" -eq 0 ] && [ -z "$why" ]; then
		why="ran no tests"
		fail=$((fail + 1))
	fi

	if [ "$fail" -eq 0 ]; then
		echo "PASS $name: $pass passed"
	else
		printf '%s\n' "$out" | grep -v '^\[ \(RUN  *\|  *OK\) \]' |
			sed "s/^/  $name| /"
		echo "FAIL $name: $pass passed, $fail failed${why:+ ($why)}"
	fi
	total_pass=$((total_pass + pass))
	total_fail=$((total_fail + fail))
done

echo "$total_pass passed, $total_fail failed"
[ "$total_fail" -eq 0 ] && [ "$total_pass" -gt 0 ]
