#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The metrics endpoint on a kernel that really tracks dirty pages: a real
# Prometheus (Debian's, in the guest, its own storage in the guest's tmpfs:
# it mmaps files, which the 9p results share refuses) scrapes
# 'iovatop record --openmetrics' and the live view 'iovatop -b --format
# json --openmetrics' every second while the vfio-multi workload runs:
#   - promtool check metrics accepts both expositions, OpenMetrics ends in
#     # EOF;
#   - the recorder's scrapes agree with iovatop report of its own trace at
#     each scrape's source clock, and rate() over a window with it
#     (tests/prom_check.py; records may reach the model up to a second
#     late in the guest, and up to a quarter of the scrapes may time out
#     under emulation: their count is printed);
#   - the live view's last scraped dirty bytes, and its last JSON lines,
#     equal what the workload programmed (devices.tsv: expect_total pages
#     of page_size bytes per device);
#   - the ring buffer's fill: under that load the interval's high-water
#     mark (iovatop_ring_fill_peak_ratio, and "ring" in the JSON lines) is
#     above 0 and at most 1 with the default 8 MiB ring; with a 4 KiB ring
#     (IOVATOP_RINGBUF_BYTES) and every call through it (--kernel-bitmap
#     0) the same workload overflows it, the records
#     lost are counted, and the peak comes near 1: a record that finds no
#     room leaves less than its own size free (at most 432 bytes with its
#     header, a batch of 16 ranges), so the probes see at least 0.89.
. "$(dirname "$0")/lib.sh"

t=${RESULTS:-$TMPDIR}/openmetrics
rm -rf "$t"
mkdir -p "$t"

for tool in prometheus promtool curl python3; do
	if ! command -v $tool >/dev/null; then
		not_ok "openmetrics: $tool is missing in the guest; run scripts/deps.sh build on the host"
		finish
	fi
done

# the guest boots with -net none and its loopback down; everything here
# talks over loopback only
if ! ip link set lo up 2>"$t/lo.err"; then
	not_ok "openmetrics: cannot bring the guest's loopback up: $(head -1 "$t/lo.err")"
	finish
fi

wait_for() {
	local i
	for i in $(seq $(($3 * 10))); do
		grep -q "$2" "$1" 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}
free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
rec_port=$(free_port)
live_port=$(free_port)
tiny_port=$(free_port)
prom_port=$(free_port)
api=http://127.0.0.1:$prom_port
pids=()
cleanup() {
	local p
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
	wait 2>/dev/null
}
trap cleanup EXIT

cat >"$t/prometheus.yml" <<EOF
global:
  scrape_interval: 1s
  scrape_timeout: 1s
scrape_configs:
  - job_name: record
    static_configs:
      - targets: ['127.0.0.1:$rec_port']
  - job_name: live
    static_configs:
      - targets: ['127.0.0.1:$live_port']
  - job_name: tiny
    static_configs:
      - targets: ['127.0.0.1:$tiny_port']
EOF
prometheus --config.file="$t/prometheus.yml" --storage.tsdb.path="$TMPDIR/openmetrics-tsdb" \
	--web.listen-address="127.0.0.1:$prom_port" >"$t/prometheus.log" 2>&1 &
prom=$!
pids+=($prom)
i=0
until curl -sf "$api/-/ready" >/dev/null; do
	if ! kill -0 $prom 2>/dev/null; then
		not_ok "openmetrics: prometheus exited at start: $(grep -m1 -E 'level=error|panic' "$t/prometheus.log")"
		finish
	fi
	i=$((i + 1))
	if [ $i -gt 600 ]; then
		not_ok "openmetrics: prometheus was not ready in 60 s: $(tail -1 "$t/prometheus.log")"
		finish
	fi
	sleep 0.1
done
# the targets tried once (nothing listens yet): the first scrapes of
# iovatop then come a second apart
i=0
until [ "$(curl -sf "$api/api/v1/targets" | grep -o '"health":"down"' | wc -l)" -ge 3 ]; do
	i=$((i + 1))
	if [ $i -gt 600 ]; then
		not_ok "openmetrics: prometheus never tried its targets"
		finish
	fi
	sleep 0.1
done

# The live view is held to the workload's program byte for byte. On a
# kernel that preempts BPF trampolines (preempt=full or lazy) the kernel
# skips an fentry run when another task on the same CPU is inside the
# same program (counted as lost; 50-tracer checks that), and the view
# would rightly come up short; kprobe programs run with preemption off
# and are never skipped that way, so there the live view uses them.
probe=(env)
model=$(preempt_model)
case $model in
full|lazy) probe=(env IOVATOP_KPROBE=1) ;;
esac

"$IOVATOP" record -o "$t/trace" --openmetrics "127.0.0.1:$rec_port" >"$t/record.log" 2>&1 &
rec=$!
"${probe[@]}" "$IOVATOP" -b --format json --openmetrics "127.0.0.1:$live_port" 0.5 \
	>"$t/live.jsonl" 2>"$t/live.err" &
live=$!
pids+=($rec $live)
if ! wait_for "$t/record.log" '^iovatop[a-z ]*: recording to' 60 ||
   ! wait_for "$t/live.jsonl" '"type": "interval"' 60; then
	not_ok "openmetrics: iovatop did not start: $(grep -m1 iovatop: "$t/record.log") $(head -1 "$t/live.err")"
	finish
fi
"$WORKLOAD" -s vfio-multi -o "$t/truth" >"$t/workload.log" 2>&1 ||
	not_ok "openmetrics: the vfio-multi workload failed: $(tail -1 "$t/workload.log")"
sleep 4	# the last intervals, then three scrapes of them

if curl -sf "http://127.0.0.1:$rec_port/metrics" >"$t/record.prom" &&
   promtool check metrics <"$t/record.prom" >"$t/promtool.out" 2>&1; then
	ok "openmetrics: promtool check metrics accepts the recorder's exposition"
else
	not_ok "openmetrics: promtool check metrics: $(head -3 "$t/promtool.out")"
fi
if curl -sf -H 'Accept: application/openmetrics-text; version=1.0.0' \
	"http://127.0.0.1:$live_port/metrics" >"$t/live.om" &&
   [ "$(tail -n 1 "$t/live.om")" = "# EOF" ]; then
	ok "openmetrics: the live view serves OpenMetrics, ending in # EOF"
else
	not_ok "openmetrics: the live view's OpenMetrics exposition: $(tail -n 1 "$t/live.om")"
fi

kill -INT $live
wait $live
lrc=$?
kill -INT $rec
wait $rec
rrc=$?
[ $lrc -eq 0 ] || not_ok "openmetrics: the live view exited $lrc on SIGINT: $(head -1 "$t/live.err")"
[ $rrc -eq 0 ] || not_ok "openmetrics: iovatop record exited $rrc: $(grep -m1 iovatop: "$t/record.log")"

if "$IOVATOP" report --format json "$t/trace" >"$t/report.json" 2>"$t/report.err" &&
   "$IOVATOP" report --format chrome-trace "$t/trace" >"$t/chrome.json" 2>>"$t/report.err"; then
	# emulated and loaded, the guest misses a few one-second scrape
	# timeouts; a quarter of them may fail, and the count is printed
	if "$REPO/tests/prom_check.py" "$api" record "$t/report.json" "$t/chrome.json" 1000000000 25 \
		>"$t/prom_check.out" 2>&1; then
		ok "openmetrics: Prometheus' scrapes of the recorder agree with iovatop report of its trace: $(tail -1 "$t/prom_check.out" | sed 's/^ *//')"
	else
		not_ok "openmetrics: Prometheus and iovatop report disagree: $(tail -1 "$t/prom_check.out")"
		sed 's/^/# /' "$t/prom_check.out"
	fi
else
	not_ok "openmetrics: report on the recording failed: $(head -1 "$t/report.err")"
fi

# the live view against the workload's own program
python3 - "$api" "$t/truth/devices.tsv" "$t/live.jsonl" >"$t/live_check.out" 2>&1 <<'EOF'
import csv, json, sys, urllib.parse, urllib.request

api, devices, jsonl = sys.argv[1:]
want = {}
for d in csv.DictReader(open(devices), delimiter="\t"):
    want["%s %s" % (d["path"], d["device"])] = int(d["expect_total"]) * int(d["page_size"])
url = api + "/api/v1/query?" + urllib.parse.urlencode(
    {"query": 'last_over_time(iovatop_dirty_bytes_total{job="live"}[1h])'})
res = json.load(urllib.request.urlopen(url, timeout=30))["data"]["result"]
prom = {s["metric"]["path"] + " " + s["metric"]["device"]: int(float(s["value"][1])) for s in res}
last = {}
for line in open(jsonl):
    o = json.loads(line)
    if o["type"] == "device":
        last[o["name"]] = o["dirty_bytes"]
bad = [(d, want[d], prom.get(d), last.get(d)) for d in want
       if prom.get(d) != want[d] or last.get(d) != want[d]]
if bad or set(prom) != set(want):
    sys.exit("programmed, scraped, JSON lines: %s; devices %s" % (bad, sorted(prom)))
print("%d devices, %d bytes in all" % (len(want), sum(want.values())))
EOF
if [ $? -eq 0 ]; then
	ok "openmetrics: the live view's last scrape and JSON lines hold what the workload programmed ($(tail -1 "$t/live_check.out"); preempt=$model${probe[1]:+, ${probe[1]}})"
else
	not_ok "openmetrics: the live view against the program: $(tail -1 "$t/live_check.out")"
fi

# The same load into a 4 KiB ring: it must overflow, and say so.
IOVATOP_RINGBUF_BYTES=4096 "$IOVATOP" -b --kernel-bitmap 0 --format json \
	--openmetrics "127.0.0.1:$tiny_port" 0.5 \
	>"$t/tiny.jsonl" 2>"$t/tiny.err" &
tiny=$!
pids+=($tiny)
if wait_for "$t/tiny.jsonl" '"type": "interval"' 60; then
	"$WORKLOAD" -s vfio-multi -o "$t/truth-tiny" >"$t/workload-tiny.log" 2>&1 ||
		not_ok "openmetrics: the vfio-multi workload on the 4 KiB ring failed: $(tail -1 "$t/workload-tiny.log")"
	sleep 3	# the last intervals, and two scrapes of them
	kill -INT $tiny
	wait $tiny
else
	not_ok "openmetrics: iovatop with a 4 KiB ring did not start: $(head -1 "$t/tiny.err")"
fi

# ring_check JOB JSONL SIZE MIN_PEAK WANT_LOST: the ring's figures in the
# JSON lines and in Prometheus, against what they must be (WANT_LOST 1:
# lost records counted in both)
ring_check() {
	python3 - "$api" "$@" <<'EOF'
import json, sys, urllib.parse, urllib.request

api, job, jsonl, size, min_peak, want_lost = sys.argv[1:]
size, min_peak, want_lost = int(size), float(min_peak), want_lost == "1"

def prom(q):
    url = api + "/api/v1/query?" + urllib.parse.urlencode({"query": q})
    res = json.load(urllib.request.urlopen(url, timeout=30))["data"]["result"]
    if len(res) != 1:
        sys.exit("%s: %d series" % (q, len(res)))
    return float(res[0]["value"][1])

bad, peaks, lost, n = [], [], 0, 0
for line in open(jsonl):
    o = json.loads(line)
    if o["type"] != "interval":
        continue
    n += 1
    r = o["ring"]
    if not r or r["size_bytes"] != size or not 0 <= r["fill_ratio"] <= r["peak_ratio"] <= 1:
        bad.append((o["t"], r))
    else:
        peaks.append(r["peak_ratio"])
    lost = o["lost"]
if bad:
    sys.exit("%d of %d intervals with a wrong ring: %s" % (len(bad), n, bad[:3]))
top = max(peaks) if peaks else 0
p_size = prom('max_over_time(iovatop_ring_size_bytes{job="%s"}[1h])' % job)
p_peak = prom('max_over_time(iovatop_ring_fill_peak_ratio{job="%s"}[1h])' % job)
p_low = prom('min_over_time(iovatop_ring_fill_ratio{job="%s"}[1h])' % job)
p_lost = prom('max_over_time(iovatop_lost_records_total{job="%s"}[1h])' % job)
msg = ("%d intervals, JSON peak %.4f, scraped peak %.4f, lost %d (scraped %d) of a %d-byte ring"
       % (n, top, p_peak, lost, p_lost, size))
if (p_size != size or not min_peak <= top <= 1 or not min_peak <= p_peak <= 1 or
        top == 0 or p_low < 0 or (want_lost and not (lost > 0 and p_lost > 0))):
    sys.exit("wrong: " + msg)
print(msg)
EOF
}
if ring_check live "$t/live.jsonl" 8388608 0.000001 0 >"$t/ring_live.out" 2>&1; then
	ok "openmetrics: under load the ring's high-water mark is above 0 and at most 1: $(tail -1 "$t/ring_live.out")"
else
	not_ok "openmetrics: the ring's fill under load: $(tail -1 "$t/ring_live.out")"
fi
if ring_check tiny "$t/tiny.jsonl" 4096 0.89 1 >"$t/ring_tiny.out" 2>&1; then
	ok "openmetrics: a 4 KiB ring overflows, its losses counted, its high-water mark near 1: $(tail -1 "$t/ring_tiny.out")"
else
	not_ok "openmetrics: the 4 KiB ring: $(tail -1 "$t/ring_tiny.out")"
fi
finish
