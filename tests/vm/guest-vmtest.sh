#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# What 'make vmtest' runs inside each guest (run.sh --module has loaded
# the test driver): the standard scenarios, then every checks/*.sh.
set -u
: "${KVER:?run by tests/vm/vmtest.sh inside the test VM}"
export KVER KSERIES REPO IOVATOP WORKLOAD MODULE RESULTS TMPDIR

echo "# guest $KVER ($KSERIES): running scenarios"
scenarios="vfio-multi vfio-anomaly"
[ "$KSERIES" = 6.1 ] || scenarios+=" iommufd-multi"
TRUTH_DIRS=
for sc in $scenarios; do
	dir=$RESULTS/$sc
	path=vfio
	[ "$sc" = iommufd-multi ] && path=iommufd
	rm -rf "$dir"
	start=$(date +%s.%N)
	if "$WORKLOAD" -s "$sc" -o "$dir" >"$RESULTS/$sc.log" 2>&1; then
		secs=$(echo "$(date +%s.%N) - $start" | bc)
		ok_line="ok - $KVER $path $sc: workload ran $(($(wc -l <"$dir/truth.tsv") - 1)) reports in ${secs%??????} s"
		echo "$ok_line"
	else
		echo "not ok - $KVER $path $sc: workload failed (exit $?)"
		sed 's/^/# /' "$RESULTS/$sc.log" | head -20
	fi
	[ -f "$dir/truth.tsv" ] && TRUTH_DIRS+="${TRUTH_DIRS:+ }$dir"
done
export TRUTH_DIRS

for check in "$REPO"/tests/vm/checks/*.sh; do
	name=${check##*/}
	[ "$name" = lib.sh ] && continue
	echo "== check $name"
	log=$TMPDIR/check.log
	timeout 600 bash "$check" 2>&1 | tee "$log"
	rc=${PIPESTATUS[0]}
	if [ "$rc" -ne 0 ] && ! grep -q '^not ok - ' "$log"; then
		echo "not ok - $KVER check $name: exited $rc without saying what failed"
	fi
done
# The host counts the lines; the status only says the script ran to here.
exit 0
