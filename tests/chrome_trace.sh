#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# chrome_trace.sh IOVATOP: report --format chrome-trace against the rules of
# the Trace Event format and against report --format json of the same
# traces (tests/data/*.trace):
#   - one JSON object with a traceEvents array; only M, X, C and i events,
#     each with a numeric ts (microseconds) and pid/tid;
#   - per track the events go forward in time, X events nest (an iteration
#     encloses its reports, nothing overlaps half-way);
#   - every device of the report has a named thread; its report events sum
#     to its reports and dirty bytes, its iteration events match the
#     report's iterations to the nanosecond (so ts really is in µs from the
#     first record), its "dirty MiB" counter ends at its dirty bytes and
#     the integral of its "dirty MiB/s" counter is the bytes of iterations
#     1.. (the first one's start is not traced).
set -euo pipefail

iovatop=${1:?usage: tests/chrome_trace.sh IOVATOP}
here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

for trace in "$here"/data/*.trace; do
	name=$(basename "$trace")
	"$iovatop" report --format chrome-trace "$trace" >"$tmp/ct.json" ||
		{ echo "FAIL chrome_trace.sh: report --format chrome-trace failed on $name"; exit 1; }
	"$iovatop" report --format json "$trace" >"$tmp/report.json"
	python3 - "$tmp/ct.json" "$tmp/report.json" "$name" <<'EOF' || exit 1
import collections, json, sys

ct_path, rep_path, name = sys.argv[1:]
errors = []
def bad(msg):
    errors.append(msg)

ct = json.load(open(ct_path))
rep = json.load(open(rep_path))
ev = ct["traceEvents"]
t0 = ct["otherData"]["t0_ns"]
if t0 != rep["trace"]["first_ts_ns"]:
    bad("t0_ns %d is not the first record %d" % (t0, rep["trace"]["first_ts_ns"]))

threads = {}
tracks = collections.defaultdict(list)
counters = collections.defaultdict(list)
for e in ev:
    ph = e.get("ph")
    if ph not in ("M", "X", "C", "i"):
        bad("unexpected phase %r" % ph)
        continue
    if not isinstance(e.get("pid"), int) or not isinstance(e.get("tid"), int):
        bad("event without integer pid/tid: %s" % e)
        continue
    if ph == "M":
        if e["name"] == "thread_name":
            threads[e["args"]["name"]] = (e["pid"], e["tid"])
        continue
    if not isinstance(e.get("ts"), (int, float)) or e["ts"] < 0:
        bad("bad ts: %s" % e)
        continue
    if ph == "X":
        if not isinstance(e.get("dur"), (int, float)) or e["dur"] < 0:
            bad("X without a duration: %s" % e)
        tracks[(e["pid"], e["tid"])].append(e)
    elif ph == "i":
        tracks[(e["pid"], e["tid"])].append(e)
    else:
        counters[(e["pid"], e["name"])].append(e)

def ns(us):
    return round(us * 1000)

for key, es in tracks.items():
    last = -1
    stack = []
    for e in es:
        if e["ts"] < last:
            bad("track %s goes back in time at %s" % (key, e["name"]))
        last = e["ts"]
        if e["ph"] != "X":
            continue
        b, end = ns(e["ts"]), ns(e["ts"] + e["dur"])
        while stack and stack[-1] <= b:
            stack.pop()
        if stack and end > stack[-1]:
            bad("track %s: %s overlaps its parent" % (key, e["name"]))
        stack.append(end)
for key, es in counters.items():
    if [e["ts"] for e in es] != sorted(e["ts"] for e in es):
        bad("counter %s goes back in time" % (key,))

for d in rep["devices"]:
    dev = d["name"]
    if dev not in threads:
        bad("%s has no thread" % dev)
        continue
    pid, tid = threads[dev]
    xs = tracks[(pid, tid)]
    reps = [e for e in xs if e.get("cat") == "report"]
    its = [e for e in xs if e.get("cat") == "iteration"]
    if len(reps) != d["reports"]:
        bad("%s: %d report events, report says %d" % (dev, len(reps), d["reports"]))
    s = sum(e["args"]["dirty_bytes"] for e in reps)
    if s != d["dirty_bytes"]:
        bad("%s: report events sum to %d dirty bytes, report says %d" % (dev, s, d["dirty_bytes"]))
    want_its = [(i["ts_begin_ns"], i["ts_end_ns"], i["dirty_bytes"]) for i in d["iterations"]]
    got_its = [(t0 + ns(e["ts"]), t0 + ns(e["ts"] + e["dur"]), e["args"]["dirty_bytes"]) for e in its]
    if got_its != want_its:
        bad("%s: iterations %s, report says %s" % (dev, got_its[:3], want_its[:3]))
    total = counters[(pid, dev + " dirty MiB")]
    if not total or abs(total[-1]["args"]["dirty MiB"] * 2**20 - d["dirty_bytes"]) > 2:
        bad("%s: the dirty MiB counter ends at %s, report says %d bytes" %
            (dev, total[-1]["args"] if total else None, d["dirty_bytes"]))
    rate = counters[(pid, dev + " dirty MiB/s")]
    area = sum(a["args"]["dirty MiB/s"] * 2**20 * (b["ts"] - a["ts"]) / 1e6
               for a, b in zip(rate, rate[1:]))
    want = sum(i["dirty_bytes"] for i in d["iterations"][1:])
    if abs(area - want) > 1e-6 * max(want, 1) + 16:
        bad("%s: dirty MiB/s integrates to %.0f bytes, iterations 1.. hold %d" % (dev, area, want))

if errors:
    print("FAIL chrome_trace.sh %s:\n  " % name + "\n  ".join(errors[:20]))
    sys.exit(1)
print("  %s: %d events, %d devices, nesting, order and sums agree with the report" %
      (name, len(ev), len(rep["devices"])))
EOF
done
echo "PASS chrome_trace.sh"
