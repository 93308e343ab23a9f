#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# prometheus.sh IOVATOP [TRACE]: a real Prometheus scrapes iovatop.
#
# iovatop replays TRACE (default tests/data/vm-6.12-demo.trace) in real
# time with --openmetrics on loopback while Debian's prometheus scrapes it
# every second into its own temporary storage. Then:
#   - promtool check metrics accepts the Prometheus text exposition, and
#     the OpenMetrics one ends in "# EOF";
#   - Prometheus saw the target up and kept every device;
#   - every scraped iovatop_dirty_bytes_total sample equals the bytes of
#     the reports iovatop report (its chrome-trace form gives each
#     report's end) finished before the source clock of that scrape
#     (iovatop_source_clock_seconds, scraped with it), and the last one
#     equals the report's total;
#   - rate(iovatop_dirty_bytes_total[W]) * W over PromQL's HTTP API, W
#     from the device's first to its last sample, equals the report's
#     bytes in that window: W starts and ends on a sample, so Prometheus
#     extrapolates nothing (extrapolatedRate in promql/functions.go) and
#     the error bound is float rounding, 1e-9 of the bytes plus one;
#   - rate() over the whole run at the last sample, the dashboard's query,
#     lies between v_last - v_first and v_last: it cannot see the bytes a
#     device dirtied before its first scrape (v_first, its first reports),
#     and extrapolates toward the range start never below zero. The
#     script prints those numbers per device.
#
# Everything it starts it stops; the whole run is bounded (TIMEOUT_S).
set -euo pipefail

iovatop=${1:?usage: tests/prometheus.sh IOVATOP [TRACE]}
here=$(cd "$(dirname "$0")" && pwd)
trace=${2:-$here/data/vm-6.12-demo.trace}
TIMEOUT_S=${TIMEOUT_S:-120}
SCRAPE_S=1

for tool in prometheus promtool curl python3; do
	if ! command -v $tool >/dev/null; then
		echo "FAIL prometheus.sh: $tool is missing; run scripts/deps.sh build." >&2
		exit 1
	fi
done

tmp=$(mktemp -d)
iov_pid=
prom_pid=
cleanup() {
	[ -n "$iov_pid" ] && kill "$iov_pid" 2>/dev/null && wait "$iov_pid" 2>/dev/null
	[ -n "$prom_pid" ] && kill "$prom_pid" 2>/dev/null && wait "$prom_pid" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT

fail() {
	echo "FAIL prometheus.sh: $*"
	for f in iovatop.err prometheus.log; do
		[ -s "$tmp/$f" ] && tail -n 20 "$tmp/$f" | sed "s/^/  $f| /"
	done
	exit 1
}

free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
om_port=$(free_port)
prom_port=$(free_port)
deadline=$((SECONDS + TIMEOUT_S))

# what the report says, to compare with
"$iovatop" report --format json "$trace" >"$tmp/report.json" &&
	"$iovatop" report --format chrome-trace "$trace" >"$tmp/chrome.json" ||
	fail "iovatop report failed on $trace"

cat >"$tmp/prometheus.yml" <<EOF
global:
  scrape_interval: ${SCRAPE_S}s
  scrape_timeout: ${SCRAPE_S}s
scrape_configs:
  - job_name: iovatop
    static_configs:
      - targets: ['127.0.0.1:$om_port']
EOF
prometheus --config.file="$tmp/prometheus.yml" --storage.tsdb.path="$tmp/data" \
	--web.listen-address="127.0.0.1:$prom_port" --storage.tsdb.retention.time=1h \
	>"$tmp/prometheus.log" 2>&1 &
prom_pid=$!
api=http://127.0.0.1:$prom_port
until curl -sf "$api/-/ready" >/dev/null; do
	kill -0 "$prom_pid" 2>/dev/null || fail "prometheus exited at start"
	[ $SECONDS -lt $deadline ] || fail "prometheus was not ready in time"
	sleep 0.2
done

# Prometheus applies its targets a few seconds after it starts: the replay
# starts once the first scrape has been tried (and failed: nothing listens)
until curl -sf "$api/api/v1/targets" | grep -q '"health":"down"'; do
	[ $SECONDS -lt $deadline ] || fail "prometheus never tried to scrape"
	sleep 0.2
done

# quarter-second intervals: the exposition lags the trace by at most that
"$iovatop" replay -b --speed 1 --openmetrics "127.0.0.1:$om_port" "$trace" 0.25 \
	>"$tmp/batch.txt" 2>"$tmp/iovatop.err" &
iov_pid=$!
until grep -q "the trace has ended" "$tmp/iovatop.err"; do
	kill -0 "$iov_pid" 2>/dev/null || fail "iovatop replay exited before the end of the trace"
	[ $SECONDS -lt $deadline ] || fail "the replay did not end in time"
	sleep 0.5
done
# three more scrapes of the final figures
sleep $((3 * SCRAPE_S))

curl -sf "http://127.0.0.1:$om_port/metrics" >"$tmp/prom.txt" ||
	fail "GET /metrics failed"
promtool check metrics <"$tmp/prom.txt" >"$tmp/promtool.out" 2>&1 ||
	fail "promtool check metrics rejected the exposition: $(cat "$tmp/promtool.out")"
curl -sf -H 'Accept: application/openmetrics-text; version=1.0.0' \
	"http://127.0.0.1:$om_port/metrics" >"$tmp/om.txt" || fail "GET /metrics (OpenMetrics) failed"
[ "$(tail -n 1 "$tmp/om.txt")" = "# EOF" ] || fail "the OpenMetrics exposition does not end in # EOF"

kill -INT "$iov_pid"
status=0
wait "$iov_pid" || status=$?
iov_pid=
[ $status -eq 0 ] || fail "iovatop replay exited with $status after SIGINT"

python3 - "$api" "$tmp/report.json" "$tmp/chrome.json" <<'EOF'
import json, sys, urllib.parse, urllib.request

api, report, chrome = sys.argv[1:]

def query(q, t=None):
    args = {"query": q}
    if t is not None:
        args["time"] = "%.3f" % t
    url = api + "/api/v1/query?" + urllib.parse.urlencode(args)
    with urllib.request.urlopen(url, timeout=10) as r:
        d = json.load(r)
    if d["status"] != "success":
        sys.exit("FAIL prometheus.sh: query %s: %s" % (q, d))
    return d["data"]["result"]

def name(m):
    return m["path"] + " " + m["device"]

want = {d["name"]: d["dirty_bytes"] for d in json.load(open(report))["devices"]}
# each report's end and bytes, from iovatop report (its chrome-trace form)
ct = json.load(open(chrome))
tid_dev = {(e["pid"], e["tid"]): e["args"]["name"] for e in ct["traceEvents"]
           if e["ph"] == "M" and e["name"] == "thread_name"}
ends = {}
for e in ct["traceEvents"]:
    if e["ph"] == "X" and e.get("cat") == "report":
        ends.setdefault(tid_dev[(e["pid"], e["tid"])], []).append(
            (e["args"]["ts_end_ns"], e["args"]["dirty_bytes"]))

raw = {name(s["metric"]): [(float(t), float(v)) for t, v in s["values"]]
       for s in query("iovatop_dirty_bytes_total[10m]")}
if set(raw) != set(want):
    sys.exit("FAIL prometheus.sh: devices in Prometheus %s, in the report %s"
             % (sorted(raw), sorted(want)))
end = max(s[-1][0] for s in raw.values())
clock = query("iovatop_source_clock_seconds[10m]", end)
clock = {float(t): round(float(v) * 1e9) for t, v in clock[0]["values"]}
# every scrape while iovatop ran succeeded (it is gone now)
up = query('up{job="iovatop"}[10m]', end)
ups = [v for t, v in up[0]["values"]] if up else []
first = ups.index("1") if "1" in ups else len(ups)
if not ups or "0" in ups[first:]:
    sys.exit("FAIL prometheus.sh: a scrape failed while iovatop ran: %s" % ups)

def report_bytes(dev, clock_ns):
    # a snapshot at boundary T holds the reports that ended before T
    return sum(b for t, b in ends[dev] if t < clock_ns)

bad = 0
nsamples = 0
print("  %-42s %11s %11s | %11s %11s %8s | %11s %11s" % ("device", "report B",
      "last B", "window B", "rate*W B", "err B", "rate*R B", "v_first B"))
for dev in sorted(want):
    samples = raw[dev]
    # 1. every scrape: the counter is the report's bytes up to that instant
    for t, v in samples:
        nsamples += 1
        if t not in clock or v != report_bytes(dev, clock[t]):
            print("  %s at %.3f: scraped %d, report %s" % (dev, t, v,
                  report_bytes(dev, clock[t]) if t in clock else "no clock"))
            bad += 1
            break
    t_first, v_first = samples[0]
    t_last, v_last = samples[-1]
    if v_last != want[dev]:
        print("  %s: last scraped %d, report total %d" % (dev, v_last, want[dev]))
        bad += 1
    if len(samples) < 2:
        continue
    # 2. rate() over the window from the first to the last sample: no
    # extrapolation at either end, so rate * W is the report's bytes in it
    w_ms = round((t_last - t_first) * 1000)
    exp = report_bytes(dev, clock[t_last]) - report_bytes(dev, clock[t_first])
    res = [float(s["value"][1]) for s in
           query("rate(iovatop_dirty_bytes_total[%dms])" % w_ms, t_last)
           if name(s["metric"]) == dev]
    got = res[0] * w_ms / 1000 if res else float("nan")
    err = got - exp
    tol = 1e-9 * max(exp, 1) + 1
    # 3. rate() over the whole run, the way a dashboard asks: it cannot
    # see what came before the device's first scrape, v_first
    r = int(t_last - t_first) + 60
    res = [float(s["value"][1]) for s in
           query("rate(iovatop_dirty_bytes_total[%ds])" % r, t_last)
           if name(s["metric"]) == dev]
    whole = res[0] * r if res else float("nan")
    ok = abs(err) <= tol and v_last - v_first - tol <= whole <= v_last + tol
    print("  %-42s %11d %11d | %11d %11.0f %8.2g | %11.0f %11d %s" % (dev, want[dev],
          v_last, exp, got, err, whole, v_first, "ok" if ok else "WRONG"))
    bad += not ok
if bad:
    sys.exit("FAIL prometheus.sh: %d device(s) disagree with iovatop report" % bad)
print("  %d scraped samples equal iovatop report's bytes at their source clock" % nsamples)
EOF
echo "PASS prometheus.sh: $(promtool --version 2>&1 | head -n 1 | cut -d' ' -f1-3) scraped the replay; promtool accepts it; rate() agrees with iovatop report"
