#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# build_progress.sh: the kernel build's progress line
# (tests/vm/build-progress.sh), on a pretend build that writes kbuild's
# "  CC " lines into its log for a few seconds: the count rises to what
# was compiled, against the expected total, with the elapsed time and an
# estimate once a tenth is done, then "linking" past the last object, and
# the count compiled is the last word. No kernel is built.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0
bad() {
	echo "FAIL build_progress: $*"
	fail=1
}

log=$tmp/build.log
err=$tmp/err
: >"$log"
: >"$err"
# Each step waits until the progress line has shown the last one, so a
# slow machine changes the times but not what is seen.
seen() {
	local i
	for i in $(seq 300); do
		grep -q "$1" "$err" && return 0
		sleep 0.2
	done
	bad "never showed '$1'"
	return 1
}
objs() {
	local i
	for i in $(seq "$1" "$2"); do
		printf '  CC      kernel/f%d.o\n  AR      x\n' "$i" >>"$log"
	done
}
(
	seen ': 0 of about 40 objects (0%)'
	objs 1 4
	seen ': 4 of about 40 objects (10%)'
	objs 5 20
	seen ': 20 of about 40 objects (50%)'
	objs 21 40
	printf '  LD      vmlinux.o\n  BTF     .btf.vmlinux.bin.o\n' >>"$log"
	seen 'linking vmlinux and its BTF'
) &
builder=$!
out=$(BUILD_PROGRESS_POLL=0.3 BUILD_PROGRESS_EVERY=0 \
	"$here/vm/build-progress.sh" "$builder" "$log" 40 600 6.12 2>"$err")
wait "$builder" || bad "the pretend build did not see its steps shown"

[ "$out" = 40 ] || bad "it counted '$out' objects, not 40"
# before a tenth is done the last build's time is the guide, after it the rate
grep -q '^build-kernel: 6\.12: 0 of about 40 objects (0%), [0-9]*:[0-9][0-9] elapsed, about [0-9]*:[0-9][0-9] left (the last build took 10:00)$' "$err" ||
	bad "no estimate from the last build's time"
grep -q '^build-kernel: 6\.12: 20 of about 40 objects (50%), [0-9]*:[0-9][0-9] elapsed, about [0-9]*:[0-9][0-9] left$' "$err" ||
	bad "no estimate from the rate so far"
grep -q 'of about 40 objects (99%), .*, linking vmlinux and its BTF' "$err" ||
	bad "past the last object it does not say it is linking"
tail -n 1 "$err" | grep -q '^build-kernel: 6\.12: 40 objects compiled in [0-9]*:[0-9][0-9]$' ||
	bad "the last line is '$(tail -n 1 "$err")'"
# the counts never go down
prev=0
while read -r n; do
	[ "$n" -ge "$prev" ] || bad "the count went from $prev down to $n"
	prev=$n
done < <(sed -n 's/^build-kernel: 6\.12: \([0-9]*\) of about.*/\1/p' "$err")

# a first build: no total to count against, and it says so
: >"$log"
: >"$err"
(printf '  CC      a.o\n' >>"$log"; seen ': 1 objects') &
builder=$!
BUILD_PROGRESS_POLL=0.3 BUILD_PROGRESS_EVERY=0 \
	"$here/vm/build-progress.sh" "$builder" "$log" 0 0 7.2 >/dev/null 2>"$err"
wait "$builder" || bad "the first build's count was never shown"
grep -q '^build-kernel: 7\.2: 1 objects (the first build here: no count to compare), [0-9]*:[0-9][0-9] elapsed$' "$err" ||
	bad "without a total: '$(head -n 1 "$err")'"

if [ $fail -ne 0 ]; then
	sed 's/^/  /' "$err"
	exit 1
fi
echo "PASS build_progress.sh: counts, estimates and the link step of a pretend kernel build"
