#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Compare what iovatop recorded during a QEMU migration with QEMU's own
trace and the test driver's ground truth.

  compare.py MIGDIR REPORT_JSON DUMPDIR

MIGDIR is a directory tests/vm/qemu/migrate.sh wrote; REPORT_JSON is
`iovatop report --format json` of the recording, DUMPDIR its
`--dump-bitmaps` directory. Prints one line per assertion, "OK text" or
"FAIL text" (details follow as "# text"), for tests/vm/checks/70-qemu.sh.

The relations checked, and why they are exact:

- QEMU (hw/vfio/common.c, vfio_get_dirty_bitmap) asks every device of the
  container for a DMA_LOGGING_REPORT of the same (iova, size) into one
  zeroed bitmap, then traces vfio_get_dirty_bitmap with dirty_pages =
  cpu_physical_memory_set_dirty_lebitmap()'s count: the population count
  of every word of that ORed bitmap (include/exec/ram_addr.h). So the k-th
  vfio_get_dirty_bitmap line equals, for each device, its k-th report of
  that (iova, size), and dirty_pages = popcount(OR of those devices'
  rebuilt bitmaps), bit for bit.
- migration_bitmap_sync (migration/ram.c) adds one to dirty-sync-count
  and then syncs every RAM section once; with all devices' logging started
  each sync reaches the devices once per section. iovatop closes a device's
  iteration when a report overlaps one already in it, so its iterations
  per device = the number of syncs = dirty-sync-count.
- The driver logs each report it answered with the pages it set (streams
  do not overlap), so per report and per device the rebuilt dirty pages
  equal the driver's.
"""
import json
import os
import re
import sys

fails = 0


def ok(msg):
    print("OK " + msg)


def fail(msg, details=()):
    global fails
    fails += 1
    print("FAIL " + msg)
    for d in list(details)[:6]:
        print("# " + str(d))


def check(cond, msg, details=()):
    if cond:
        ok(msg)
    else:
        fail(msg, details)
    return cond


def kv(path):
    out = {}
    with open(path) as f:
        for line in f:
            if "=" in line:
                k, v = line.rstrip("\n").split("=", 1)
                out[k] = v
    return out


def tsv(path):
    with open(path) as f:
        rows = [line.rstrip("\n").split("\t") for line in f if line.strip()]
    head = rows[0]
    return [dict(zip(head, r)) for r in rows[1:]]


LINE = re.compile(r"^(\d+)@([\d.]+):(\w+) ?(.*)$")


def qemu_trace(path):
    ev = []
    with open(path) as f:
        for line in f:
            m = LINE.match(line.strip())
            if m:
                ev.append((m.group(3), m.group(4)))
    return ev


def popcount(b):
    return sum(bin(x).count("1") for x in b)


def main(migdir, report_json, dumpdir):
    info = kv(os.path.join(migdir, "info.txt"))
    res = json.load(open(os.path.join(migdir, "result.json")))
    devs = tsv(os.path.join(migdir, "devices.tsv"))
    rep = json.load(open(report_json))
    idx = tsv(os.path.join(dumpdir, "index.tsv"))
    sc = info["scenario"]
    src_pid = int(info["src_pid"])
    src = [d for d in devs if d["role"] == "src"]
    dst = [d for d in devs if d["role"] == "dst"]
    names = ["vfio " + d["device"] for d in src]

    # ---- QEMU's own trace ---------------------------------------------
    ev = qemu_trace(os.path.join(migdir, "qemu-src.trace"))
    syncs = sum(1 for e in ev if e[0] == "migration_bitmap_sync_start")
    lines = []
    for name, args in ev:
        if name != "vfio_get_dirty_bitmap":
            continue
        a = dict(re.findall(r"(\w+)= ?(\S+)", args))
        lines.append((int(a["iova"], 16), int(a["size"], 16),
                      int(a["dirty_pages"])))
    nsync = res["dirty_sync_count"]
    if nsync is not None:
        check(syncs == nsync,
              "%s: QEMU traced %d bitmap syncs, query-migrate says dirty-sync-count %d"
              % (sc, syncs, nsync))
    else:
        # Cancelled: query-migrate no longer reports RAM statistics. The
        # harness saw N syncs and cancelled; one more may have begun
        # between its query and the cancel.
        seen = res.get("syncs_before_cancel", -1)
        check(seen <= syncs <= seen + 1,
              "%s: QEMU traced %d bitmap syncs; dirty-sync-count was %d when the harness cancelled"
              % (sc, syncs, seen))
        nsync = syncs
    check(len(lines) > 0 and len(lines) % max(nsync, 1) == 0,
          "%s: QEMU traced %d vfio_get_dirty_bitmap calls, the same sections in each of %d syncs"
          % (sc, len(lines), nsync))

    # ---- the recording: QEMU's reports, named as QEMU names them -------
    t = rep["trace"]
    tot = rep["totals"]
    check(t["status"] == "complete" and tot["lost_records"] == 0 and
          tot["incomplete_reports"] == 0 and t["records_lost_in_cut"] == 0,
          "%s: recording complete, 0 lost records, 0 incomplete reports (%d records)"
          % (sc, t["records"]),
          ["status %s lost %d incomplete %d" % (t["status"], tot["lost_records"],
                                                tot["incomplete_reports"])])
    rows = {d["name"]: d for d in rep["devices"]}
    qemu_rows = [d for d in rep["devices"] if d["pid"] == src_pid]
    check(sorted(d["name"] for d in qemu_rows) == sorted(names) and
          all(d["comm"] == info["src_comm"] for d in qemu_rows),
          "%s: the devices of pid %d are %s, comm '%s' (QEMU's pid and comm)"
          % (sc, src_pid, " ".join(names), info["src_comm"]),
          ["%s pid %d comm %s" % (d["name"], d["pid"], d["comm"])
           for d in rep["devices"]])
    others = [d["name"] for d in rep["devices"] if d["pid"] != src_pid]
    check(not others, "%s: no reports from any other process (the destination logs nothing)" % sc,
          others)

    per = {}
    for r in idx:
        if int(r["pid"]) == src_pid and r["path"] == "vfio":
            per.setdefault(r["device"], []).append(r)
    for v in per.values():
        v.sort(key=lambda r: int(r["report_id"]))

    # every DMA_LOGGING_REPORT QEMU made, device by device, in order
    for n in names:
        got = [(int(r["iova"], 16), int(r["length"], 16)) for r in per.get(n, [])]
        want = [(l[0], l[1]) for l in lines]
        bad = [i for i in range(min(len(got), len(want))) if got[i] != want[i]]
        check(got == want,
              "%s: %s: %d reports in the trace, one per vfio_get_dirty_bitmap of QEMU (%d), same ranges in order"
              % (sc, n, len(got), len(want)),
              ["report %d: traced 0x%x+0x%x, QEMU 0x%x+0x%x" %
               (i, got[i][0], got[i][1], want[i][0], want[i][1]) for i in bad])

    # the union of the devices' rebuilt bitmaps = QEMU's dirty_pages
    mism = []
    compared = 0
    for k, (iova, size, qpages) in enumerate(lines):
        acc = None
        for n in names:
            rs = per.get(n, [])
            if k >= len(rs):
                acc = None
                break
            with open(os.path.join(dumpdir, rs[k]["file"]), "rb") as f:
                b = f.read()
            acc = bytearray(b) if acc is None else \
                bytearray(x | y for x, y in zip(acc, b))
        if acc is None:
            mism.append("sync call %d: a device has no report" % k)
            continue
        compared += 1
        if popcount(acc) != qpages:
            mism.append("call %d 0x%x+0x%x: union of rebuilt bitmaps %d pages, QEMU dirty_pages %d"
                        % (k, iova, size, popcount(acc), qpages))
    qsum = sum(l[2] for l in lines)
    check(not mism and compared == len(lines),
          "%s: per sync and range, popcount(OR of the devices' rebuilt bitmaps) = QEMU's dirty_pages: %d calls compared, %d mismatches, %d pages in all"
          % (sc, compared, len(mism), qsum), mism)

    # ---- ground truth: the driver's own report log ---------------------
    for d in src:
        n = "vfio " + d["device"]
        path = os.path.join(migdir, "reports-%s.txt" % d["device"].replace(":", "_"))
        with open(path) as f:
            drv = [l.split() for l in f if l.strip()]
        dropped = [l for l in drv if l[0] == "#"]
        drv = [l for l in drv if l[0] != "#"]
        truth = sum(int(l[4]) for l in drv)
        rs = per.get(n, [])
        perrep = [i for i in range(min(len(rs), len(drv)))
                  if int(rs[i]["dirty_pages"]) != int(drv[i][4]) or
                  int(rs[i]["iova"], 16) != int(drv[i][0], 16)]
        row = rows.get(n, {})
        check(not dropped and len(drv) == len(rs) and not perrep and
              row.get("dirty_pages") == truth,
              "%s: %s: %d reports, %d dirty pages rebuilt = the driver's %d reports, %d pages"
              % (sc, n, len(rs), row.get("dirty_pages", -1), len(drv), truth),
              dropped + ["report %d: rebuilt %s pages, driver %s" %
                         (i, rs[i]["dirty_pages"], drv[i][4]) for i in perrep])
        check(row.get("verified", 0) == len(rs) and row.get("verify_mismatches", 1) == 0
              and len(rs) > 0,
              "%s: %s: --verify read back %d of %d bitmaps, %d mismatches"
              % (sc, n, row.get("verified", 0), len(rs), row.get("verify_mismatches", -1)))
        its = row.get("iterations", [])
        check(len(its) == nsync,
              "%s: %s: %d iterations in iovatop = QEMU's syncs (dirty-sync-count) %d"
              % (sc, n, len(its), nsync))

    # ---- the programmed behaviour ---------------------------------------
    st = res.get("status")
    if sc == "stuck":
        check(res.get("status_before_cancel") == "active" and st == "cancelled",
              "%s: QEMU still 'active' after %d syncs, cancelled (%s)"
              % (sc, res.get("syncs_before_cancel", -1), st))
    else:
        check(st == "completed" and res.get("dst_status") == "running",
              "%s: migration %s in %.1f s after %d syncs, destination %s"
              % (sc, st, res["wall_s"], nsync, res.get("dst_status")))
    # per-iteration pages of each device: the programs' page counts
    want_it = {"converging": ([16] * nsync, [24] * nsync),
               "stuck": ([416] * nsync, [128] * nsync)}
    if sc in want_it:
        for d, want in zip(src, want_it[sc]):
            n = "vfio " + d["device"]
            got = [i["dirty_pages"] for i in rows.get(n, {}).get("iterations", [])]
            check(got == want, "%s: %s dirtied %s pages per iteration, as programmed"
                  % (sc, n, " ".join(map(str, got))), ["want %s" % want])
    elif sc == "late":
        for d, hi, lo in zip(src, (416, 128), (16, 24)):
            n = "vfio " + d["device"]
            got = [i["dirty_pages"] for i in rows.get(n, {}).get("iterations", [])]
            check(len(got) >= 3 and got[0] == hi and got[-1] == lo and
                  all(x in (hi, lo) for x in got) and got == sorted(got, reverse=True),
                  "%s: %s dirtied %s pages per iteration: %d, then %d from the switch on"
                  % (sc, n, " ".join(map(str, got)), hi, lo))

    # ---- the device state at the destination -----------------------------
    for s, d in zip(src, dst):
        if sc == "stuck":
            check(d["loaded_from"] == "-" and s["state"] == "running",
                  "%s: cancelled: %s loaded nothing, %s back in 'running'"
                  % (sc, d["device"], s["device"]))
        else:
            check(d["loaded_from"] == s["device"] and d["loaded_token"] == s["token"]
                  and d["state"] == "running",
                  "%s: %s at the destination loaded %s's state (token %s) and runs"
                  % (sc, d["device"], s["device"], s["token"]),
                  ["loaded_from %s token %s state %s" %
                   (d["loaded_from"], d["loaded_token"], d["state"])])
    return 1 if fails else 0


if __name__ == "__main__":
    if len(sys.argv) != 4:
        sys.stderr.write(__doc__)
        sys.exit(2)
    sys.exit(main(*sys.argv[1:]))
