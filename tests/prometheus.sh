#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# prometheus.sh IOVATOP [TRACE]: a real Prometheus scrapes iovatop.
#
# iovatop replays TRACE (default tests/data/vm-6.12-demo.trace) in real
# time with --openmetrics on loopback while Debian's prometheus scrapes it
# every second into its own temporary storage. Then:
#   - promtool check metrics accepts the Prometheus text exposition, and
#     the OpenMetrics one ends in "# EOF"; with --link-rate the forecast's
#     families are in it: vm1 (pid 83), whose device is programmed
#     constant, cannot converge at 100 Mbit/s and its device blocks;
#   - Prometheus saw the target up and kept every device;
#   - every scraped iovatop_dirty_bytes_total, and rate() over PromQL's
#     HTTP API, agree with iovatop report of the same trace
#     (tests/prom_check.py says how, and what error it allows: float
#     rounding where the window starts and ends on a sample).
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
"$iovatop" replay -b --speed 1 --openmetrics "127.0.0.1:$om_port" --link-rate 100M "$trace" 0.25 \
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
grep -qx 'iovatop_forecast_converges{pid="83"} 0' "$tmp/prom.txt" ||
	fail "no iovatop_forecast_converges{pid=\"83\"} 0 in the exposition: $(grep -m3 forecast_converges "$tmp/prom.txt")"
grep -q '^iovatop_forecast_device_blocks{path="vfio",device="0000:3b:00.2",pid="83",.*} 1$' "$tmp/prom.txt" ||
	fail "vm1's device 0000:3b:00.2 does not block in the exposition: $(grep -m3 forecast_device_blocks "$tmp/prom.txt")"

kill -INT "$iov_pid"
status=0
wait "$iov_pid" || status=$?
iov_pid=
[ $status -eq 0 ] || fail "iovatop replay exited with $status after SIGINT"

"$here/prom_check.py" "$api" iovatop "$tmp/report.json" "$tmp/chrome.json" ||
	fail "Prometheus and iovatop report disagree"
echo "PASS prometheus.sh: $(promtool --version 2>&1 | head -n 1 | cut -d' ' -f1-3) scraped the replay; promtool accepts it; rate() agrees with iovatop report"
