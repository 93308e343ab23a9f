#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# batch_formats.sh IOVATOP: replay -b --format json and --format csv show
# the same numbers as the text batch view of the same replay (the shipped
# traces, 0.5 s intervals): per interval the header's devices, dirty MiB/s,
# reports, lost, anomalies and incomplete; per row the device, pid,
# comm, REP/s, PG/REP, DIRTY MiB/s, %DIRTY, trend and hot region's start,
# each compared at the precision the text prints. Every JSON line must
# parse and carry the fields docs/batch-json.md lists.
set -euo pipefail

iovatop=${1:?usage: tests/batch_formats.sh IOVATOP}
here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

for trace in "$here"/data/*.trace; do
	name=$(basename "$trace")
	"$iovatop" replay -b "$trace" 0.5 >"$tmp/text"
	"$iovatop" replay -b --format json "$trace" 0.5 >"$tmp/json"
	"$iovatop" replay --format csv "$trace" 0.5 >"$tmp/csv"
	python3 - "$tmp/text" "$tmp/json" "$tmp/csv" "$name" <<'EOF' || exit 1
import csv, json, re, sys

text_p, json_p, csv_p, name = sys.argv[1:]
errors = []

# the text batch view: blocks separated by a blank line
blocks = []
for block in open(text_p).read().split("\n\n"):
    lines = block.strip("\n").split("\n")
    if not lines or not lines[0].startswith("iovatop"):
        continue
    m = re.search(r"\+([0-9.]+)s", lines[0])
    h = re.match(r"devices (\d+) \((\d+) shown\)  dirty ([0-9.]+) MiB/s  reports (\d+)  "
                 r"lost (\d+)  anomalies (\d+)  incomplete (\d+)", lines[1])
    rows = []
    # the table starts after its column header: a forecast (a trace with
    # QEMU's samples) or a note adds header lines above it
    start = next((i + 1 for i, ln in enumerate(lines) if ln.lstrip().startswith("DEVICE ")), 4)
    for ln in lines[start:]:
        r = re.match(r"^([* ]) (.*?) +(\d+|-) (\S+) +([0-9.]+) +(\d+|-) +"
                     r"([0-9.]+) +([0-9.]+|-) (\S+) +(\S+)$", ln)
        if r:
            rows.append(r.groups())
        elif not ln.startswith(("heat", "      ")):
            errors.append("unparsed text row: %r" % ln)
    blocks.append((m.group(1), h.groups(), rows))

objs = [json.loads(l) for l in open(json_p)]
intervals = []
for o in objs:
    if o["type"] == "interval":
        intervals.append((o, []))
    elif o["type"] == "device":
        intervals[-1][1].append(o)
    elif o["type"] == "forecast":
        pass	# its own checks: tests/test_view_replay.c
    else:
        errors.append("unknown object type %r" % o["type"])
csv_rows = list(csv.DictReader(open(csv_p)))

if len(blocks) != len(intervals):
    errors.append("%d text blocks, %d JSON intervals" % (len(blocks), len(intervals)))
trend = {"-": "unknown", "converging": "converging", "flat": "flat", "DIVERGING": "diverging",
         "BLOCKS": "blocks"}
ci = 0
for (t, head, rows), (iv, devs) in zip(blocks, intervals):
    want = (str(iv["devices"]), str(iv["shown"]), "%.1f" % iv["dirty_mib_s"],
            str(iv["reports"]), str(iv["lost"]), str(iv["anomalies"]), str(iv["incomplete"]))
    if "%.3f" % iv["t"] != t or head != want:
        errors.append("+%s: text header %s, JSON %s" % (t, head, want))
    if len(rows) != len(devs):
        errors.append("+%s: %d text rows, %d JSON devices" % (t, len(rows), len(devs)))
    for row, d in zip(rows, devs):
        mark, dev, pid, comm, reps, pages, rate, pct, tr, hot = row
        # "-": the text view shows no figure there (no report this interval)
        # a device whose process went unseen: pid "-" and comm "?"
        got = (mark == "*", dev, 0 if pid == "-" else int(pid),
               "" if (pid, comm) == ("-", "?") else comm.strip(), reps,
               pages if pages == "-" else int(pages), rate, pct,
               trend.get(tr, tr), hot.split("+")[0])
        exp = (d["hottest"], d["name"], d["pid"], d["comm"],
               "%.1f" % d["reports_per_s"], "-" if pages == "-" else d["dirty_pages_last"],
               "%.1f" % d["dirty_mib_s"], "-" if pct == "-" else "%.1f" % d["pct_dirty"],
               d["trend"], "-" if not d["hot_length"] else hex(d["hot_iova"]))
        if got != exp:
            errors.append("+%s: text %s\n    JSON %s" % (t, got, exp))
        # the CSV row of the same device and interval holds the JSON's figures
        c = csv_rows[ci] if ci < len(csv_rows) else None
        ci += 1
        if (not c or c["device"] != d["name"] or float(c["t"]) != d["t"] or
                float(c["dirty_mib_s"]) != round(d["dirty_mib_s"], 6) or
                int(c["dirty_bytes"]) != d["dirty_bytes"] or
                int(c["hot_iova"], 16) != d["hot_iova"] or c["trend"] != d["trend"] or
                int(c["hottest"]) != d["hottest"]):
            errors.append("+%s: CSV %s\n    JSON %s" % (t, c, d))
if ci != len(csv_rows):
    errors.append("%d CSV rows, %d JSON devices" % (len(csv_rows), ci))
if errors:
    print("FAIL batch_formats.sh %s:\n  " % name + "\n  ".join(errors[:10]))
    sys.exit(1)
print("  %s: %d intervals, %d rows: text, JSON lines and CSV agree" % (name, len(blocks), ci))
EOF
done
echo "PASS batch_formats.sh"
