#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Who a report belongs to, and what the records say about the kernel:
#   - iommufd-2vmm: two VMMs, each with its own /dev/iommu and so the same
#     hwpt id, are two devices in 'iovatop report', each with its own
#     process, iommufd context, reports and dirty pages as the workload
#     saw them (one device with both would have mixed the two);
#   - in the records of that run and of vfio-anomaly, read from the file's
#     bytes (tests/trace_records.py, not iovatop's reader): every
#     REPORT_BEGIN names its callback by what it is (iommufd's or vfio's),
#     every ANOMALY its report's, none holds a kernel address, and every
#     ALLOC carries this kernel's page size.
. "$(dirname "$0")/lib.sh"

# The two VMMs report at once, and their pages are held to the workload's
# count exactly. On a kernel that preempts BPF trampolines (preempt=full
# or lazy) the kernel skips an fentry run when another task on the same
# CPU is inside the same program (counted as lost; 50-tracer checks
# that); kprobe programs run with preemption off and are never skipped
# that way, so there the recorder uses them.
probe=(env)
model=$(preempt_model)
case $model in
full|lazy) probe=(env IOVATOP_KPROBE=1) ;;
esac

# recorded NAME SCENARIO: SCENARIO's workload under 'iovatop record
# --no-compress'; leaves $TMPDIR/ident-NAME/{trace,truth,records.tsv,report.json}.
recorded() {
	local name=$1 sc=$2 t=$TMPDIR/ident-$1 rec rc
	rm -rf "$t"
	mkdir -p "$t"
	"${probe[@]}" "$IOVATOP" record -o "$t/trace" --no-compress >"$t/record.log" 2>&1 &
	rec=$!
	for _ in $(seq 300); do
		grep -q '^iovatop record: recording to' "$t/record.log" && break
		kill -0 "$rec" 2>/dev/null || break
		sleep 0.1
	done
	if ! grep -q '^iovatop record: recording to' "$t/record.log"; then
		not_ok "ident $name: iovatop record did not start: $(grep -m1 'iovatop record:' "$t/record.log")"
		kill -INT "$rec" 2>/dev/null
		wait "$rec"
		return 1
	fi
	if ! "$WORKLOAD" -s "$sc" -o "$t/truth" >"$t/workload.log" 2>&1; then
		not_ok "ident $name: the $sc workload failed: $(grep -m1 workload: "$t/workload.log")"
		kill -INT "$rec"
		wait "$rec"
		return 1
	fi
	kill -INT "$rec"
	wait "$rec"
	rc=$?
	if [ $rc -ne 0 ]; then
		not_ok "ident $name: iovatop record exited $rc: $(grep -m1 'iovatop record:' "$t/record.log")"
		return 1
	fi
	if ! python3 "$REPO/tests/trace_records.py" "$t/trace" >"$t/records.tsv" 2>"$t/records.err"; then
		not_ok "ident $name: $(cat "$t/records.err")"
		return 1
	fi
	if ! "$IOVATOP" report --format json "$t/trace" >"$t/report.json" 2>"$t/report.err"; then
		not_ok "ident $name: iovatop report failed: $(head -1 "$t/report.err")"
		return 1
	fi
	return 0
}

# records_say NAME PATH CALLBACK: what every record of the run says (see
# the top); prints the first problem, nothing when there is none.
records_say() {
	local t=$TMPDIR/ident-$1
	awk -F'\t' -v path="$2" -v cb="$3" -v kshift="$(getconf PAGESIZE | awk '{ print log($1) / log(2) }')" '
		$1 == "alloc" { n_alloc++
			if ($3 != kshift) { print "bitmap " $2 ": ALLOC says kernel page shift " $3 ", this kernel has " kshift; exit } }
		$1 == "begin" { n_begin++
			if ($5 != path) { print "report " $2 ": path " $5 ", not " path; exit }
			if ($3 != cb) { print "report " $2 ": callback " $3 ", not " cb; exit }
			if (path == 2 && $4 == 0) { print "report " $2 ": no iommufd context"; exit }
			if (length($8) == 18 && substr($8, 1, 6) == "0xffff") { print "report " $2 ": holds " $8, "a kernel address"; exit } }
		$1 == "anomaly" { n_anom++
			if ($3 != cb || $4 != 0) { print "anomaly of report " $2 ": callback " $3 " and " $4 ", not " cb " and 0"; exit } }
		END { if (!n_alloc || !n_begin) print "no ALLOC or REPORT_BEGIN records (" n_alloc + 0 ", " n_begin + 0 ")" }' \
		"$t/records.tsv"
}

if recorded vfio vfio-anomaly; then
	why=$(records_say vfio 1 1)
	n=$(grep -c '^anomaly' "$TMPDIR/ident-vfio/records.tsv")
	[ "$n" -gt 0 ] || why=${why:-"no ANOMALY records: the scenario makes out-of-range calls"}
	check "ident vfio vfio-anomaly: every REPORT_BEGIN and all $n ANOMALY records name vfio's callback, no kernel address, ALLOCs say this kernel's page size${why:+: $why}" \
		[ -z "$why" ]
fi

if ! kernel_has_iommufd; then
	ok "ident iommufd: not in this kernel (10-kernel.sh says why): iommufd-2vmm not run"
	finish
fi

if recorded 2vmm iommufd-2vmm; then
	t=$TMPDIR/ident-2vmm
	why=$(records_say 2vmm 2 2)
	check "ident iommufd iommufd-2vmm: every REPORT_BEGIN names iommufd's callback and a context, no kernel address, ALLOCs say this kernel's page size${why:+: $why}" \
		[ -z "$why" ]
	# per process, from the workload's own files: the hwpt and the truth
	why=$(python3 - "$t/truth/devices.tsv" "$t/truth/truth.tsv" "$t/report.json" 2>&1 <<'EOF'
import csv, json, re, sys
devs = list(csv.DictReader(open(sys.argv[1]), delimiter="\t"))
truth = list(csv.DictReader(open(sys.argv[2]), delimiter="\t"))
rep = json.load(open(sys.argv[3]))
pids = {int(d["pid"]) for d in devs}
hwpts = {d["device"] for d in devs}
if len(devs) != 2 or len(pids) != 2 or len(hwpts) != 1:
    sys.exit(f"the workload did not run one hwpt id in two processes: {devs}")
hwpt = hwpts.pop().removeprefix("hwpt")
got = [d for d in rep["devices"] if d["path"] == "iommufd"]
if len(got) != 2:
    sys.exit(f"{len(got)} iommufd devices in the report, not 2: {[d['name'] for d in got]}")
ctxs = set()
for d in got:
    m = re.fullmatch(r"iommufd hwpt (\d+) ctx (\d+)", d["name"])
    if not m or m.group(1) != hwpt:
        sys.exit(f"device {d['name']!r} is not 'iommufd hwpt {hwpt} ctx N'")
    ctxs.add(m.group(2))
    rows = [r for r in truth if int(r["pid"]) == d["pid"]]
    want = sum(int(r["set_bits"]) for r in rows)
    if not rows or d["reports"] != len(rows) or d["dirty_pages"] != want:
        sys.exit(f"{d['name']} (pid {d['pid']}): {d['reports']} reports, "
                 f"{d['dirty_pages']} dirty pages; the workload's pid made "
                 f"{len(rows)} reports of {want} pages")
if len(ctxs) != 2 or {d["pid"] for d in got} != pids:
    sys.exit(f"the two devices do not have two contexts and the two pids: {[(d['name'], d['pid']) for d in got]}")
print(f"hwpt {hwpt} of pids {' and '.join(str(p) for p in sorted(pids))}")
EOF
)
	rc=$?
	if [ $rc -eq 0 ]; then
		ok "ident iommufd iommufd-2vmm: $why: two devices, each with its process's reports and dirty pages (preempt=$model${probe[1]:+, ${probe[1]}})"
	else
		not_ok "ident iommufd iommufd-2vmm: ${why:-the comparison failed}"
	fi
fi
finish
