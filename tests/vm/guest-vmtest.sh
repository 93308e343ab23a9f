#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# What 'make vmtest' runs inside each guest (run.sh --module has loaded
# the test driver): the standard scenarios, then every checks/*.sh.
#
# It counts what it printed and ends by writing "CHECKS OK NOT_OK" to
# $RESULTS/guest-vmtest.done, so the host can tell a guest that got to the
# end from one that did not, and console lines that went missing.
set -u
: "${KVER:?run by tests/vm/vmtest.sh inside the test VM}"
export KVER KSERIES REPO IOVATOP WORKLOAD MODULE RESULTS TMPDIR

nok=0 nfail=0 nchecks=0
say_ok() {
	echo "ok - $KVER $*"
	nok=$((nok + 1))
}
say_not_ok() {
	echo "not ok - $KVER $*"
	nfail=$((nfail + 1))
}

# kernel_has_iommufd
. "$REPO/tests/vm/checks/lib.sh"

echo "# guest $KVER ($KSERIES): running scenarios"
scenarios="vfio-multi vfio-anomaly"
if kernel_has_iommufd; then
	scenarios+=" iommufd-multi"
else
	echo "# no iommufd dirty tracking in $KVER (no /dev/iommu, no iommufd_hwpt_get_dirty_bitmap): iommufd scenarios not run; 10-kernel.sh says so"
fi
TRUTH_DIRS=
for sc in $scenarios; do
	dir=$RESULTS/$sc
	path=vfio
	[ "$sc" = iommufd-multi ] && path=iommufd
	rm -rf "$dir"
	start=$(date +%s.%N)
	"$WORKLOAD" -s "$sc" -o "$dir" >"$RESULTS/$sc.log" 2>&1
	rc=$?
	secs=$(echo "$(date +%s.%N) - $start" | bc)
	# report lines after the header; -1 when there is no truth.tsv at all
	reports=$(($(cat "$dir/truth.tsv" 2>/dev/null | wc -l) - 1))
	if [ $rc -ne 0 ]; then
		say_not_ok "$path $sc: workload failed (exit $rc)"
		sed 's/^/# /' "$RESULTS/$sc.log" | head -20
	elif [ $reports -lt 1 ]; then
		say_not_ok "$path $sc: workload exited 0 but $dir/truth.tsv holds no report"
	else
		say_ok "$path $sc: workload ran $reports reports in ${secs%??????} s"
	fi
	[ -f "$dir/truth.tsv" ] && TRUTH_DIRS+="${TRUTH_DIRS:+ }$dir"
done
export TRUTH_DIRS

# A check passes only by printing its ok lines and failing none: one that
# prints nothing, crashes or is killed counts as a failure even when the
# lines it printed before were all ok.
for check in "$REPO"/tests/vm/checks/*.sh; do
	name=${check##*/}
	[ "$name" = lib.sh ] && continue
	nchecks=$((nchecks + 1))
	echo "== check $name"
	log=$TMPDIR/check.log
	timeout 600 bash "$check" 2>&1 | tee "$log"
	rc=${PIPESTATUS[0]}
	o=$(grep -c '^ok - ' "$log")
	f=$(grep -c '^not ok - ' "$log")
	nok=$((nok + o)) nfail=$((nfail + f))
	if [ "$rc" -eq 124 ]; then
		say_not_ok "check $name: killed after 600 s, after $o ok and $f not ok lines"
	elif [ "$rc" -ne 0 ] && { [ "$rc" -ne 1 ] || [ "$f" -eq 0 ]; }; then
		# finish exits 1 after a not ok; anything else is a crash
		say_not_ok "check $name: exited $rc after $o ok and $f not ok lines"
	elif [ $((o + f)) -eq 0 ]; then
		say_not_ok "check $name: exited $rc without a single ok or not ok line"
	fi
done
echo "guest-vmtest: $nchecks checks ran; $nok ok, $nfail not ok"
echo "$nchecks $nok $nfail" >"$RESULTS/guest-vmtest.done"
# The host counts the lines and reads guest-vmtest.done; the status only
# says the script ran to here.
exit 0
