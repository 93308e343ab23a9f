#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# make demo's migrations (scripts/demo.sh runs this in the test VM, in the
# background of the live view): a converging migration, then one that does
# not converge and is cancelled, again and again until killed. Each
# migration's files go to DIR/converging and DIR/stuck (migrate.sh), the
# loop's own log to DIR/loop.log, and one line on what is going on right
# now to DIR/status (the live view's --note-file).
#
#   tests/vm/qemu/demo-loop.sh DIR
set -u
here=$(cd "$(dirname "$0")" && pwd)
dir=${1:?usage: demo-loop.sh DIR}
mkdir -p "$dir"
child=
trap '[ -n "$child" ] && kill -TERM $child 2>/dev/null; wait; exit 0' TERM INT
status() {
	printf '%s\n' "$*" >"$dir/status.new" && mv -f "$dir/status.new" "$dir/status"
}
n=0
while :; do
	n=$((n + 1))
	for sc in converging stuck; do
		echo "$(date +%T) round $n: $sc" >>"$dir/loop.log"
		status "round $n $sc: starting a source and a destination QEMU"
		MIGRATE_STATUS=$dir/status MIGRATE_LABEL="round $n $sc" \
			"$here/migrate.sh" -o "$dir/$sc" "$sc" >>"$dir/loop.log" 2>&1 &
		child=$!
		wait $child
		echo "$(date +%T) round $n: $sc exit $?" >>"$dir/loop.log"
		child=
	done
done
