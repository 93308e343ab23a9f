#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""prom_check.py: what Prometheus scraped from iovatop against iovatop report.

  prom_check.py API JOB REPORT_JSON CHROME_JSON [LATE_NS [FAILED_PCT]]

API is Prometheus' base URL, JOB the scrape job of one iovatop endpoint,
REPORT_JSON and CHROME_JSON iovatop report --format json and --format
chrome-trace of the records that endpoint saw (its chrome-trace form gives
each report's end). Checks, per device:

  1. every scraped iovatop_dirty_bytes_total equals the bytes of the
     reports that ended before the scrape's source clock
     (iovatop_source_clock_seconds, scraped with it): a snapshot at
     boundary T holds the reports whose END record came before T;
  2. the last sample equals the report's total;
  3. rate(iovatop_dirty_bytes_total[W]) * W at the device's last sample,
     W reaching back exactly to its first sample, equals the report's
     bytes between the two: a window that starts and ends on a sample
     makes Prometheus extrapolate nothing (extrapolatedRate in
     promql/functions.go), so the bound is float rounding, 1e-9 of the
     bytes plus one;
  4. rate() over the whole run, as a dashboard asks, lies between
     v_last - v_first and v_last: it cannot see the bytes dirtied before
     the device's first scrape (v_first) and extrapolates toward the
     range start never below zero.

LATE_NS (default 0) widens 1 and 3 for a live source, whose records may
reach the model up to LATE_NS after the boundary they belong before: a
sample may then lack the reports of its last LATE_NS.

Every scrape after the first that succeeded must succeed too (up == 1),
unless FAILED_PCT allows that share of them to fail: an emulated guest
under load can miss a one-second scrape timeout. How many failed is
printed either way; a failed scrape leaves no sample, so 1 to 4 hold for
the rest.
"""
import json
import sys
import urllib.parse
import urllib.request


def main():
    api, job, report, chrome = sys.argv[1:5]
    late = int(sys.argv[5]) if len(sys.argv) > 5 else 0
    failed_pct = float(sys.argv[6]) if len(sys.argv) > 6 else 0

    def query(q, t=None):
        args = {"query": q}
        if t is not None:
            args["time"] = "%.3f" % t
        url = api + "/api/v1/query?" + urllib.parse.urlencode(args)
        with urllib.request.urlopen(url, timeout=30) as r:
            d = json.load(r)
        if d["status"] != "success":
            sys.exit("query %s: %s" % (q, d))
        return d["data"]["result"]

    def name(m):
        return m["path"] + " " + m["device"]

    want = {d["name"]: d["dirty_bytes"] for d in json.load(open(report))["devices"]}
    ct = json.load(open(chrome))
    tid_dev = {(e["pid"], e["tid"]): e["args"]["name"] for e in ct["traceEvents"]
               if e["ph"] == "M" and e["name"] == "thread_name"}
    ends = {}
    for e in ct["traceEvents"]:
        if e["ph"] == "X" and e.get("cat") == "report":
            ends.setdefault(tid_dev[(e["pid"], e["tid"])], []).append(
                (e["args"]["ts_end_ns"], e["args"]["dirty_bytes"]))

    sel = '{job="%s"}' % job
    raw = {name(s["metric"]): [(float(t), float(v)) for t, v in s["values"]]
           for s in query("iovatop_dirty_bytes_total%s[1h]" % sel)}
    if set(raw) != set(want):
        sys.exit("devices in Prometheus %s, in the report %s" % (sorted(raw), sorted(want)))
    end = max(s[-1][0] for s in raw.values())
    clock = query("iovatop_source_clock_seconds%s[1h]" % sel, end)
    clock = {float(t): round(float(v) * 1e9) for t, v in clock[0]["values"]}
    up = query("up%s[1h]" % sel, end)
    ups = [v for t, v in up[0]["values"]] if up else []
    first = ups.index("1") if "1" in ups else len(ups)
    failed = ups[first:].count("0")
    if not ups or first == len(ups) or failed > failed_pct / 100 * len(ups[first:]):
        sys.exit("%d of %d scrapes failed while iovatop ran (%g %% allowed): %s"
                 % (failed, len(ups[first:]), failed_pct, ups))

    def upto(dev, clock_ns):
        return sum(b for t, b in ends.get(dev, []) if t < clock_ns)

    bad = nsamples = 0
    print("  %-42s %11s %11s | %11s %11s %8s | %11s %11s" % (
        "device", "report B", "last B", "window B", "rate*W B", "err B",
        "rate*R B", "v_first B"))
    for dev in sorted(want):
        samples = raw[dev]
        for t, v in samples:
            nsamples += 1
            if t not in clock or not upto(dev, clock[t] - late) <= v <= upto(dev, clock[t]):
                print("  %s at %.3f: scraped %d, report %s" % (
                    dev, t, v, upto(dev, clock[t]) if t in clock else "no clock"))
                bad += 1
                break
        t_first, v_first = samples[0]
        t_last, v_last = samples[-1]
        if v_last != want[dev]:
            print("  %s: last scraped %d, report total %d" % (dev, v_last, want[dev]))
            bad += 1
        if len(samples) < 2:
            continue
        w_ms = round((t_last - t_first) * 1000)
        exp_hi = upto(dev, clock[t_last]) - upto(dev, clock[t_first] - late)
        exp_lo = upto(dev, clock[t_last] - late) - upto(dev, clock[t_first])
        exp = upto(dev, clock[t_last]) - upto(dev, clock[t_first])
        res = [float(s["value"][1]) for s in
               query("rate(iovatop_dirty_bytes_total%s[%dms])" % (sel, w_ms), t_last)
               if name(s["metric"]) == dev]
        got = res[0] * w_ms / 1000 if res else float("nan")
        tol = 1e-9 * max(exp_hi, 1) + 1
        r = int(t_last - t_first) + 60
        res = [float(s["value"][1]) for s in
               query("rate(iovatop_dirty_bytes_total%s[%ds])" % (sel, r), t_last)
               if name(s["metric"]) == dev]
        whole = res[0] * r if res else float("nan")
        ok = (exp_lo - tol <= got <= exp_hi + tol and
              v_last - v_first - tol <= whole <= v_last + tol)
        print("  %-42s %11d %11d | %11d %11.0f %8.2g | %11.0f %11d %s" % (
            dev, want[dev], v_last, exp, got, got - exp, whole, v_first,
            "ok" if ok else "WRONG"))
        bad += not ok
    if bad:
        sys.exit("%d device(s) disagree with iovatop report" % bad)
    print("  %d scraped samples agree with iovatop report at their source clock%s; "
          "%d of %d scrapes failed"
          % (nsamples, " (records up to %.1f s late allowed)" % (late / 1e9) if late else "",
             failed, len(ups[first:])))


if __name__ == "__main__":
    main()
