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
#   - the last scraped iovatop_dirty_bytes_total of each device equals
#     iovatop report's dirty_bytes exactly (a counter loses nothing);
#   - rate(iovatop_dirty_bytes_total[R]) * R at the last scrape (PromQL
#     over the HTTP API) agrees with the report within the sampling error
#     computed below from the raw samples, for every device.
#
# The sampling error: rate() and increase() see only what changed between
# the first and the last sample in the range. Queried at the last sample's
# own timestamp, nothing is extrapolated at the end; at the start
# Prometheus extrapolates toward the range start but never below zero
# (durationToZero in promql/functions.go extrapolatedRate), so
#     v_last - v_first  <=  rate * R  <=  v_last,
# where v_first is the counter at the device's first scrape: the bytes it
# dirtied before Prometheus first saw it, at most one scrape interval (and
# one replay interval) of its reports. With v_last equal to the report's
# total, the error is at most v_first, and the script prints both.
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
"$iovatop" report --format json "$trace" >"$tmp/report.json" ||
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

python3 - "$api" "$tmp/report.json" <<'EOF'
import json, sys, urllib.parse, urllib.request

api, report = sys.argv[1], sys.argv[2]

def query(q, t=None):
    args = {"query": q}
    if t is not None:
        args["time"] = repr(t)
    url = api + "/api/v1/query?" + urllib.parse.urlencode(args)
    with urllib.request.urlopen(url, timeout=10) as r:
        d = json.load(r)
    if d["status"] != "success":
        sys.exit("FAIL prometheus.sh: query %s: %s" % (q, d))
    return d["data"]["result"]

def name(m):
    return m["path"] + " " + m["device"]

want = {d["name"]: d["dirty_bytes"] for d in json.load(open(report))["devices"]}
raw = {name(s["metric"]): [(float(t), float(v)) for t, v in s["values"]]
       for s in query("iovatop_dirty_bytes_total[10m]")}
if set(raw) != set(want):
    sys.exit("FAIL prometheus.sh: devices in Prometheus %s, in the report %s"
             % (sorted(raw), sorted(want)))
# every scrape while iovatop ran succeeded (it is gone now)
end = max(s[-1][0] for s in raw.values())
up = query('up{job="iovatop"}[10m]', end)
ups = [v for t, v in up[0]["values"]] if up else []
first = ups.index("1") if "1" in ups else len(ups)
if not ups or "0" in ups[first:]:
    sys.exit("FAIL prometheus.sh: a scrape failed while iovatop ran: %s" % ups)

bad = 0
print("  %-44s %12s %12s %12s %9s %9s" % ("device", "report B", "last B",
      "rate*R B", "error B", "bound B"))
for dev in sorted(want):
    samples = raw[dev]
    t_last, v_last = samples[-1]
    t_first, v_first = samples[0]
    # the range reaches back past the device's first sample
    r = int(t_last - t_first) + 60
    res = query("rate(iovatop_dirty_bytes_total[%ds])" % r, t_last)
    est = [float(s["value"][1]) * r for s in res if name(s["metric"]) == dev]
    if len(samples) < 2:
        est = [0.0]	# rate() needs two samples: all of it came at once
    if not est:
        print("  %s: no rate at %.3f" % (dev, t_last))
        bad += 1
        continue
    err = want[dev] - est[0]
    # the bound, and a part in a million for float arithmetic
    ok = v_last == want[dev] and -1e-6 * want[dev] - 1 <= err <= v_first + 1e-6 * want[dev] + 1
    print("  %-44s %12d %12d %12.0f %9.0f %9.0f %s" % (dev, want[dev], v_last,
          est[0], err, v_first, "ok" if ok else "WRONG"))
    bad += not ok
if bad:
    sys.exit("FAIL prometheus.sh: %d device(s) disagree with iovatop report" % bad)
EOF
echo "PASS prometheus.sh: $(promtool --version 2>&1 | head -n 1 | cut -d' ' -f1-3) scraped the replay; promtool accepts it; rate() agrees with iovatop report"
