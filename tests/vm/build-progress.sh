#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# How far a kernel build is, as a build tool would say it, while it runs.
#
#   tests/vm/build-progress.sh PID LOG OBJECTS SECONDS LABEL
#
# Until process PID ends, counts the objects kbuild has compiled so far
# (its "  CC " lines in LOG, modules included) against OBJECTS, what the
# last build of such a tree compiled (0: unknown), and says on stderr how
# many, the time since it started and an estimate of the time left: from
# the rate so far once a tenth is done, from SECONDS (the last build's
# wall time, 0: unknown) before that. On a terminal it is one line
# rewritten every BUILD_PROGRESS_POLL seconds (default 2); otherwise a
# line every BUILD_PROGRESS_EVERY seconds (default 60), so a CI log stays
# short. Past the last object it says that the kernel is being linked
# (vmlinux, then its BTF: a minute or two that compiles nothing).
# It prints the objects compiled on stdout when PID has ended.
set -u

pid=${1:?usage: build-progress.sh PID LOG OBJECTS SECONDS LABEL}
log=${2:?}
total=${3:-0}
guess_s=${4:-0}
label=${5:-build}
poll=${BUILD_PROGRESS_POLL:-2}
every=${BUILD_PROGRESS_EVERY:-60}
tty=0
[ -t 2 ] && tty=1

start=$(date +%s)
last_print=0

mmss() {
	printf '%d:%02d' $(($1 / 60)) $(($1 % 60))
}

count() {
	local n
	n=$(grep -c '^  CC ' "$log" 2>/dev/null) || n=0
	echo "${n:-0}"
}

line() {
	local done=$1 now el left="" what pct
	now=$(date +%s)
	el=$((now - start))
	if [ "$total" -gt 0 ]; then
		pct=$((done * 100 / total))
		[ "$pct" -le 99 ] || pct=99
		what="$done of about $total objects ($pct%)"
		if [ "$done" -ge "$total" ]; then
			if tail -n 3 "$log" 2>/dev/null | grep -q 'BTF\|LD  *vmlinux\|vmlinux.o\|BUILD\|modpost\|MODPOST'; then
				left="linking vmlinux and its BTF"
			else
				left="the last objects"
			fi
		elif [ "$done" -ge $((total / 10)) ] && [ "$done" -gt 0 ]; then
			left="about $(mmss $((el * (total - done) / done))) left"
		elif [ "$guess_s" -gt "$el" ]; then
			left="about $(mmss $((guess_s - el))) left (the last build took $(mmss "$guess_s"))"
		fi
	else
		what="$done objects (the first build here: no count to compare)"
	fi
	printf 'build-kernel: %s: %s, %s elapsed%s' "$label" "$what" "$(mmss $el)" \
		"${left:+, $left}"
}

while kill -0 "$pid" 2>/dev/null; do
	sleep "$poll"
	now=$(date +%s)
	if [ $tty -eq 1 ]; then
		printf '\r%s\033[K' "$(line "$(count)")" >&2
	elif [ $((now - last_print)) -ge "$every" ]; then
		echo "$(line "$(count)")" >&2
		last_print=$now
	fi
done
done=$(count)
[ $tty -eq 0 ] || printf '\r\033[K' >&2
echo "build-kernel: $label: $done objects compiled in $(mmss $(($(date +%s) - start)))" >&2
echo "$done"
