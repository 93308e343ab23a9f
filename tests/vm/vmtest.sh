#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# make vmtest: boot each test kernel once, run the scenarios and every
# tests/vm/checks/*.sh in it, and sum up per kernel and per path.
#
#   tests/vm/vmtest.sh [6.12] [7.2] [6.1]   (default: $VMTEST_KERNELS, or all three)
#
# Every kernel runs every check. Where a kernel differs, the checks decide
# by what it has (its BTF, kallsyms, /dev/iommu, its preemption model),
# never by its version; docs/kernels.md lists what differs on 7.2.
#
# The order puts the kernel most checks were written on first and the
# oldest, which runs the fewest paths, last.
# Ends with one line "N passed, N failed"; exits non-zero on any failure,
# on a guest that timed out, never ran the checks or did not run them all
# (guest-vmtest.sh writes its own count to guest-vmtest.done; it must
# agree with the console), or if nothing ran.
set -uo pipefail
. "$(dirname "$0")/lib.sh"

vers=("$@")
# shellcheck disable=SC2206 # a list of words on purpose
[ ${#vers[@]} -gt 0 ] || vers=(${VMTEST_KERNELS:-6.12 7.2 6.1})
repo=$(cd "$vm_dir/../.." && pwd)
# the real-QEMU scenarios alone take minutes in the emulated guest
timeout=${VMTEST_TIMEOUT:-2400}
[ -x "$repo/iovatop" ] && [ -x "$repo/.output/vm/workload" ] ||
	die "build first: make iovatop .output/vm/workload (make vmtest does)"

# Build everything before the first boot, so a missing kernel is found
# before minutes are spent in a guest.
for v in "${vers[@]}"; do
	"$vm_dir/build-kernel.sh" "$v" >/dev/null || die "no $v kernel"
	"$vm_dir/build-module.sh" "$v" >/dev/null || die "no test driver for $v"
done

# every tests/vm/checks/*.sh but lib.sh runs in each guest
nchecks=0
for c in "$vm_dir"/checks/*.sh; do
	[ "${c##*/}" = lib.sh ] || nchecks=$((nchecks + 1))
done

passed=0 failed=0
summary=()
t0=$(date +%s)
for v in "${vers[@]}"; do
	results=$repo/.output/vm/results/$v
	rm -rf "$results"
	mkdir -p "$results"
	log=$results/console.log
	echo "vmtest: booting $v"
	start=$(date +%s)
	"$vm_dir/run.sh" --module --timeout "$timeout" --results "$results" "$v" \
		-- tests/vm/guest-vmtest.sh >"$log" 2>&1
	rc=$?
	secs=$(($(date +%s) - start))
	kver=$(sed -n 's/^guest-init: \([^ ]*\) up after.*/\1/p' "$log" | head -1)
	kver=${kver:-$v}
	p=$(grep -c '^ok - ' "$log")
	f=$(grep -c '^not ok - ' "$log")
	echo "== $kver (test kernel $v, ${secs} s in the guest) =="
	# What was checked, grouped by path (the word after the version).
	awk '/^(not )?ok - / {
		st = ($1 == "ok") ? "ok" : "FAIL"
		line = $0; sub(/^(not )?ok - [^ ]+ /, "", line)
		path = line; sub(/[ :].*/, "", path)
		n[path]++; if (st == "FAIL") bad[path]++
		printf "  %-4s %s\n", st, line
	}
	/^# / && prev_fail { print "       " $0 }
	{ prev_fail = ($0 ~ /^not ok - / || (prev_fail && /^# /)) }
	END {
		# kernel facts first, then the paths, then whatever else
		split("kernel vfio iommufd decode tracer view", known, " ")
		for (i = 1; i in known; i++) if (known[i] in n) {
			printf "  -- %s: %d checks, %d failed\n", known[i], n[known[i]], bad[known[i]] + 0
			done[known[i]] = 1
		}
		for (p in n) if (!(p in done))
			printf "  -- %s: %d checks, %d failed\n", p, n[p], bad[p] + 0
	}' "$log"
	if [ $rc -ne 0 ]; then
		case $rc in
		124) why="timed out after $timeout s and was killed" ;;
		*) why="ended with status $rc" ;;
		esac
		echo "  FAIL the $v guest $why; console: $log"
		grep -v '^\(not \)\{0,1\}ok - \|^# ' "$log" | tail -15 | sed 's/^/       /'
		f=$((f + 1))
	fi
	if [ $((p + f)) -eq 0 ]; then
		echo "  FAIL no checks ran in the $v guest; console: $log"
		f=1
	elif [ $rc -eq 0 ]; then
		# The guest's own count (guest-vmtest.sh writes it last): every
		# check ran, and no ok or not ok line went missing on the way.
		if ! read -r gchecks gok gfail 2>/dev/null <"$results/guest-vmtest.done"; then
			echo "  FAIL the $v guest never wrote guest-vmtest.done: guest-vmtest.sh did not finish"
			f=$((f + 1))
		else
			fc=$f
			if [ "$gok" != "$p" ] || [ "$gfail" != "$fc" ]; then
				echo "  FAIL the $v guest printed $gok ok and $gfail not ok lines, the console shows $p and $fc"
				[ "$gfail" -gt "$fc" ] 2>/dev/null && f=$gfail
				f=$((f + 1))
			fi
			if [ "$gchecks" != "$nchecks" ]; then
				echo "  FAIL the $v guest ran $gchecks checks, tests/vm/checks has $nchecks"
				f=$((f + 1))
			fi
		fi
	fi
	passed=$((passed + p))
	failed=$((failed + f))
	summary+=("$kver: $p passed, $f failed")
done
echo "vmtest: ${summary[*]/%/;} $(($(date +%s) - t0)) s in all"
for v in 6.12 7.2 6.1; do
	case " ${vers[*]} " in
	*" $v "*) ;;
	*) echo "vmtest: the $v test kernel was NOT booted in this run (tests/vm/vmtest.sh $v runs it)" ;;
	esac
done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
