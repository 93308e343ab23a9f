#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# hot_region_agree.sh IOVATOP: the view and report tell one story about
# hot regions (include/hot_region.h). For every shipped trace, a batch
# replay in cumulative mode (0.5 s intervals) ends with each device's hot
# region exactly where report puts its hottest region; in the
# per-interval mode a row without reports in its interval shows none, and
# a row whose reports dirtied pages shows one. The issue's own example,
# the UUID device of the 6.12 demo trace, is checked by its numbers: the
# view once said 0xfa0000+96.0G where report said 6.69 MiB at 0x266d20000.
set -euo pipefail

iovatop=${1:?usage: tests/hot_region_agree.sh IOVATOP}
here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0

for trace in "$here"/data/*.trace; do
	name=$(basename "$trace")
	"$iovatop" report --format json "$trace" >"$tmp/report"
	"$iovatop" replay -b --cumulative --format json "$trace" 0.5 >"$tmp/cumul"
	"$iovatop" replay -b --format json "$trace" 0.5 >"$tmp/interval"
	"$iovatop" replay -b --cumulative "$trace" 0.5 >"$tmp/text"
	python3 - "$tmp/report" "$tmp/cumul" "$tmp/interval" "$tmp/text" "$name" <<'EOF' || fail=1
import json, sys

report_p, cumul_p, iv_p, text_p, name = sys.argv[1:]
errors = []
report = json.load(open(report_p))
want = {}
for d in report["devices"]:
    if d["hot_regions"]:
        r = d["hot_regions"][0]
        want[d["name"]] = (int(r["iova"], 16), int(r["length"], 16))
    else:
        want[d["name"]] = (0, 0)

last = {}
for o in map(json.loads, open(cumul_p)):
    if o["type"] == "interval":
        last = {}
    elif o["type"] == "device":
        last[o["name"]] = (o["hot_iova"], o["hot_length"])
if sorted(last) != sorted(want):
    errors.append("devices differ: view %s, report %s" % (sorted(last), sorted(want)))
for dev, region in sorted(want.items()):
    got = last.get(dev)
    if got != region:
        errors.append("%s: view's hot region %s, report's %s" %
                      (dev, got and "0x%x+0x%x" % got, "0x%x+0x%x" % region))

rows = 0
for o in map(json.loads, open(iv_p)):
    if o["type"] != "device":
        continue
    rows += 1
    if o["reports_per_s"] == 0 and o["hot_length"]:
        errors.append("%s at +%.3fs: no report this interval, yet hot region 0x%x+0x%x"
                      % (o["name"], o["t"], o["hot_iova"], o["hot_length"]))
    if o["reports_per_s"] > 0 and o["dirty_mib_s"] > 0 and not o["hot_length"]:
        errors.append("%s at +%.3fs: dirtied pages this interval, yet no hot region"
                      % (o["name"], o["t"]))
if not rows:
    errors.append("the per-interval replay showed no rows")

uuid = "vfio 83b8f4f2-509f-382f-3c1e-e6bfe0fa1001"
if name == "vm-6.12-demo.trace":
    if want.get(uuid) != (0x266d20000, 0x6b0000):
        errors.append("report's hottest region of %s is %s, not 0x266d20000+6.69 MiB"
                      % (uuid, want.get(uuid)))
    text = [b for b in open(text_p).read().split("\n\n") if b.strip()]
    tail = [l for l in text[-1].splitlines() if uuid in l]
    if not tail or not tail[0].rstrip().endswith("0x266d20000+6.7M"):
        errors.append("the batch view's last %s row is %r, not ending 0x266d20000+6.7M"
                      % (uuid, tail))

for e in errors:
    print("FAIL hot_region_agree %s: %s" % (name, e))
sys.exit(1 if errors else 0)
EOF
done
if [ "$fail" -eq 0 ]; then
	echo "hot_region_agree: the view's hot regions are report's on every trace"
fi
exit "$fail"
