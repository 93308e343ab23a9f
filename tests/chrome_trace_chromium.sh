#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# chrome_trace_chromium.sh IOVATOP: a real trace viewer loads what
# report --format chrome-trace writes. Debian's chromium, headless, opens
# its own DevTools front end (devtools://devtools/bundled/) and hands each
# shipped trace's timeline to the trace engine of the Performance panel
# (models/trace/trace.js, the code behind "Load profile"), then reads back
# what it imported:
#   - a process for every VMM and a thread for every device, named as the
#     file's metadata names them, and every device of report --format json
#     among them;
#   - per thread as many slices as the file has X events on that track
#     (an event the format does not close, a B without its E, is counted
#     by the viewer and not by the file), and as many top-level slices as
#     the file has X events nested in no other (each iteration holds its
#     reports);
#   - the trace's bounds are the first event's ts and the last one's end,
#     in microseconds, as the file has them.
# chrome://tracing, the old trace viewer, is no help: Debian's chromium
# 156 lists it among the internal debugging pages, and once those are
# enabled it fails to load (net::ERR_FAILED).
#
# The browser is driven over --remote-debugging-pipe (no port, no
# websocket) and killed at the end; --no-sandbox because make check may
# run as root, and the only page it loads is its own.
set -euo pipefail

iovatop=${1:?usage: tests/chrome_trace_chromium.sh IOVATOP}
here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

if ! command -v chromium >/dev/null; then
	echo "FAIL chrome_trace_chromium.sh: chromium is missing; run scripts/deps.sh build."
	exit 1
fi

for trace in "$here"/data/*.trace; do
	name=$(basename "$trace" .trace)
	"$iovatop" report --format chrome-trace "$trace" >"$tmp/$name.json" ||
		{ echo "FAIL chrome_trace_chromium.sh: report --format chrome-trace failed on $name"; exit 1; }
	"$iovatop" report --format json "$trace" >"$tmp/$name.report.json"
done

# Debian's interpreter: what deps.sh installs is what the test may use
timeout 300 /usr/bin/python3 - "$tmp" <<'EOF'
import fcntl, glob, json, os, subprocess, sys, time

tmp = sys.argv[1]

# What the viewer must find, from the file itself.
def expect(ct, report):
    ev = json.load(open(ct))["traceEvents"]
    procs = {e["pid"]: e["args"]["name"] for e in ev
             if e["ph"] == "M" and e["name"] == "process_name"}
    threads = {(e["pid"], e["tid"]): e["args"]["name"] for e in ev
               if e["ph"] == "M" and e["name"] == "thread_name"}
    slices, roots = {}, {}
    for key in threads:
        xs = sorted((e["ts"], -e["dur"], e["ts"] + e["dur"]) for e in ev
                    if e["ph"] == "X" and (e["pid"], e["tid"]) == key)
        slices[key] = len(xs)
        n, end = 0, None
        for ts, _, e in xs:
            if end is None or ts >= end:
                n, end = n + 1, e
        roots[key] = n
    timed = [e for e in ev if "ts" in e and e["ph"] != "M"]
    bounds = (min(e["ts"] for e in timed), max(e["ts"] + e.get("dur", 0) for e in timed))
    devices = [d["name"] for d in json.load(open(report))["devices"]]
    return procs, threads, slices, roots, bounds, devices

PARSE = r"""
(async () => {
  const T = await import('devtools://devtools/bundled/models/trace/trace.js');
  const m = T.TraceModel.Model.createWithAllHandlers();
  await m.parse(JSON.parse(%s).traceEvents, {isFreshRecording: false, metadata: {}});
  const d = m.parsedTrace(0).data;
  const out = {bounds: [d.Meta.traceBounds.min, d.Meta.traceBounds.max],
               procs: [...d.Meta.processNames].map(([p, e]) => [p, e.args.name]),
               threads: []};
  for (const [pid, p] of d.Renderer.processes)
    for (const [tid, t] of p.threads)
      out.threads.push([pid, tid, t.name, t.entries.length, t.tree ? t.tree.roots.size : -1]);
  return JSON.stringify(out);
})()
"""

prof = os.path.join(tmp, "profile")
# chromium reads commands from fd 3 and answers on fd 4; its ends of the
# pipes are kept above those numbers (close-on-exec) until the child
# puts them there
def high(fd):
    h = fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, 100)
    os.close(fd)
    return h
to_chr_r, to_chr_w = (high(fd) for fd in os.pipe())
from_chr_r, from_chr_w = (high(fd) for fd in os.pipe())
def child_fds():
    os.dup2(to_chr_r, 3)
    os.dup2(from_chr_w, 4)
chrome = subprocess.Popen(
    ["chromium", "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
     "--user-data-dir=" + prof, "--remote-debugging-pipe", "about:blank"],
    stdin=subprocess.DEVNULL, stdout=open(os.path.join(tmp, "chromium.log"), "w"),
    stderr=subprocess.STDOUT, preexec_fn=child_fds, close_fds=False)
os.close(to_chr_r)
os.close(from_chr_w)
out = os.fdopen(to_chr_w, "wb")
inp = os.fdopen(from_chr_r, "rb")
buf, seq = b"", 0

def call(method, session=None, **params):
    global buf, seq
    seq += 1
    msg = {"id": seq, "method": method, "params": params}
    if session:
        msg["sessionId"] = session
    out.write(json.dumps(msg).encode() + b"\0")
    out.flush()
    while True:
        while b"\0" not in buf:
            chunk = inp.read1(1 << 16)
            if not chunk:
                sys.exit("chromium closed its pipe: " + open(os.path.join(tmp, "chromium.log")).read()[-300:])
            buf += chunk
        line, buf = buf.split(b"\0", 1)
        m = json.loads(line)
        if m.get("id") == seq:
            if "error" in m:
                sys.exit("%s: %s" % (method, m["error"]))
            return m["result"]

errors, total = [], 0
try:
    target = call("Target.createTarget", url="devtools://devtools/bundled/devtools_app.html")["targetId"]
    session = call("Target.attachToTarget", targetId=target, flatten=True)["sessionId"]
    def evaluate(expr):
        r = call("Runtime.evaluate", session, expression=expr, returnByValue=True, awaitPromise=True)
        if "exceptionDetails" in r:
            sys.exit("the page threw: %s" % r["exceptionDetails"].get("exception", {}).get("description", r))
        return r["result"].get("value")
    for i in range(300):
        if evaluate("document.readyState") == "complete":
            break
        time.sleep(0.1)
    for ct in sorted(glob.glob(os.path.join(tmp, "*.json"))):
        if ct.endswith(".report.json"):
            continue
        name = os.path.basename(ct)[:-5]
        procs, threads, slices, roots, bounds, devices = expect(ct, ct[:-5] + ".report.json")
        got = json.loads(evaluate(PARSE % json.dumps(open(ct).read())))
        gprocs = {p: n for p, n in got["procs"]}
        for pid, n in procs.items():
            if gprocs.get(pid) != n:
                errors.append("%s: process %d is %r in the viewer, %r in the file" % (name, pid, gprocs.get(pid), n))
        gthreads = {(p, t): (n, e, r) for p, t, n, e, r in got["threads"]}
        for key, n in threads.items():
            g = gthreads.get(key)
            if g != (n, slices[key], roots[key]):
                errors.append("%s: thread %s is %s in the viewer; the file has %r, %d slices, %d top-level"
                              % (name, key, g, n, slices[key], roots[key]))
        missing = set(devices) - {n for n, _, _ in gthreads.values()}
        if missing:
            errors.append("%s: devices without a track in the viewer: %s" % (name, sorted(missing)))
        if any(abs(a - b) > 1e-3 for a, b in zip(got["bounds"], bounds)):
            errors.append("%s: the viewer's bounds %s, the file's %s µs" % (name, got["bounds"], bounds))
        n = sum(slices.values())
        total += n
        print("  %s: %d processes, %d device tracks, %d slices (%d top-level) imported"
              % (name, len(procs), len(threads), n, sum(roots.values())))
    call("Browser.close")
finally:
    try:
        chrome.wait(timeout=10)
    except subprocess.TimeoutExpired:
        chrome.kill()
        chrome.wait()
if errors:
    print("FAIL chrome_trace_chromium.sh:\n  " + "\n  ".join(errors[:10]))
    sys.exit(1)
if not total:
    sys.exit("FAIL chrome_trace_chromium.sh: no slice imported at all")
EOF
echo "PASS chrome_trace_chromium.sh"
