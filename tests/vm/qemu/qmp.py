#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""A small QMP client for the migration harness (tests/vm/qemu/migrate.sh).

  qmp.py wait SOCKET [TIMEOUT]          until QEMU answers on SOCKET
  qmp.py cmd SOCKET COMMAND [JSON]      run one command, print its return
  qmp.py migrate SRC DST URI [options]  run one migration, print a JSON result

migrate sets max-bandwidth and downtime-limit on the source, starts the
migration to URI (the destination was started with -incoming URI), and polls
query-migrate every --poll seconds until it is completed or failed, or until
--timeout. With --cancel-after N it cancels once dirty-sync-count reaches N,
after checking that the migration is still active (a migration that does not
converge). With --switch N:FILE=TEXT ... it writes TEXT to FILE once
dirty-sync-count reaches N (a device's program, to drop its rate mid-
migration). The result names every step it took with the sync count it saw.
With --status FILE it keeps one line in FILE saying where the migration is
(--label first, --detail last): make demo shows it under the live view.
With --log FILE every query-migrate answer goes to FILE as a JSON line,
with "t_ns", the CLOCK_MONOTONIC time it arrived (the clock iovatop's
QMP client stamps its samples with).
"""
import json
import os
import socket
import sys
import time


class QMPError(Exception):
    pass


class QMP:
    def __init__(self, path, timeout=10.0):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(timeout)
        self.sock.connect(path)
        self.buf = b""
        greeting = self._read()
        if "QMP" not in greeting:
            raise QMPError("no QMP greeting on %s: %r" % (path, greeting))
        self.execute("qmp_capabilities")

    def _read(self):
        while b"\n" not in self.buf:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise QMPError("QEMU closed the QMP socket")
            self.buf += chunk
        line, self.buf = self.buf.split(b"\n", 1)
        return json.loads(line)

    def execute(self, cmd, args=None):
        msg = {"execute": cmd}
        if args:
            msg["arguments"] = args
        self.sock.sendall(json.dumps(msg).encode() + b"\n")
        while True:
            resp = self._read()
            if "event" in resp:
                continue  # the harness polls; events are not needed
            if "error" in resp:
                raise QMPError("%s: %s" % (cmd, resp["error"].get("desc", resp)))
            return resp.get("return")

    def close(self):
        self.sock.close()


def connect_retry(path, timeout):
    end = time.monotonic() + timeout
    while True:
        try:
            return QMP(path)
        except (OSError, QMPError):
            if time.monotonic() > end:
                raise
            time.sleep(0.05)


def syncs(info, last=0):
    """dirty-sync-count; a cancelled or failed migration reports no RAM
    statistics (fill_source_migration_info), so then the last one seen."""
    return info.get("ram", {}).get("dirty-sync-count", last)


def migrate(argv):
    import argparse

    p = argparse.ArgumentParser(prog="qmp.py migrate")
    p.add_argument("src")
    p.add_argument("dst")
    p.add_argument("uri")
    p.add_argument("--bandwidth", type=int, required=True, help="bytes/s")
    p.add_argument("--downtime", type=int, required=True, help="ms")
    p.add_argument("--timeout", type=float, default=120.0)
    p.add_argument("--poll", type=float, default=0.05)
    p.add_argument("--cancel-after", type=int, default=0)
    p.add_argument("--switch", action="append", default=[])
    p.add_argument("--status", help="keep a one-line account of the migration "
                   "in this file (replaced atomically: iovatop --note-file)")
    p.add_argument("--label", default="migration",
                   help="the status line's first words")
    p.add_argument("--detail", default="", help="the status line's last words")
    p.add_argument("--log")
    a = p.parse_args(argv)
    log = open(a.log, "w") if a.log else None

    def query():
        r = src.execute("query-migrate")
        if log:
            log.write(json.dumps(dict(r, t_ns=time.monotonic_ns())) + "\n")
            log.flush()
        return r

    switches = []
    for s in a.switch:
        n, rest = s.split(":", 1)
        path, text = rest.split("=", 1)
        switches.append([int(n), path, text, False])

    src = connect_retry(a.src, 30)
    dst = connect_retry(a.dst, 30)
    src.execute("migrate-set-parameters",
                {"max-bandwidth": a.bandwidth, "downtime-limit": a.downtime})
    res = {"uri": a.uri, "bandwidth": a.bandwidth, "downtime_limit": a.downtime,
           "steps": []}
    t0 = time.monotonic()
    src.execute("migrate", {"uri": a.uri})
    res["steps"].append({"t": 0.0, "step": "migrate"})
    info = {}
    n = 0
    last_line = None

    def status_line(st, n, now, final=False):
        """One line for a person watching: where it is, what it costs."""
        nonlocal last_line
        if not a.status:
            return
        of = " of %d" % a.cancel_after if a.cancel_after else ""
        sent = info.get("ram", {}).get("transferred")
        if final and st == "completed":
            where = "completed after %d syncs in %.1f s" % (n, now)
        elif final:
            where = "%s at sync %d%s after %.1f s" % (st, n, of, now)
        else:
            where = "%s, sync %d%s, %.0f s" % (st, n, of, now)
        if sent is not None:
            where += ", %.1f MiB sent" % (sent / 1048576.0)
        line = "%s: %s%s" % (a.label, where, "; " + a.detail if a.detail else "")
        if line == last_line:
            return
        tmp = a.status + ".new"
        with open(tmp, "w") as f:
            f.write(line + "\n")
        os.replace(tmp, a.status)
        last_line = line

    while True:
        info = query()
        st = info.get("status", "?")
        n = syncs(info, n)
        now = time.monotonic() - t0
        status_line(st, n, int(now))
        for sw in switches:
            if not sw[3] and n >= sw[0]:
                with open(sw[1], "w") as f:
                    f.write(sw[2])
                sw[3] = True
                res["steps"].append({"t": round(now, 3), "step": "switch",
                                     "file": sw[1], "text": sw[2], "syncs": n})
        if st in ("completed", "failed", "cancelled"):
            break
        if a.cancel_after and n >= a.cancel_after:
            res["status_before_cancel"] = st
            res["syncs_before_cancel"] = n
            src.execute("migrate_cancel")
            res["steps"].append({"t": round(now, 3), "step": "cancel",
                                 "status": st, "syncs": n})
            # cancelling ends in 'cancelled'; give it the usual poll loop
            while True:
                info = query()
                if info.get("status") in ("cancelled", "failed", "completed"):
                    break
                if time.monotonic() - t0 > a.timeout:
                    break
                time.sleep(a.poll)
            break
        if now > a.timeout:
            res["timeout"] = True
            src.execute("migrate_cancel")
            info = query()
            break
        time.sleep(a.poll)
    res["wall_s"] = round(time.monotonic() - t0, 3)
    res["status"] = info.get("status")
    status_line(res["status"] or "?", n, res["wall_s"], final=True)
    # null when the last answer had no RAM statistics (cancelled, failed)
    res["dirty_sync_count"] = info.get("ram", {}).get("dirty-sync-count")
    res["last_seen_syncs"] = syncs(info, n)
    for k in ("total-time", "downtime", "setup-time", "expected-downtime"):
        if k in info:
            res[k.replace("-", "_")] = info[k]
    ram = info.get("ram", {})
    for k in ("transferred", "dirty-pages-rate", "mbps", "normal", "duplicate",
              "precopy-bytes", "downtime-bytes"):
        if k in ram:
            res["ram_" + k.replace("-", "_")] = ram[k]
    if "error-desc" in info:
        res["error"] = info["error-desc"]
    res["src_status"] = src.execute("query-status").get("status")
    # the destination may take a moment to start after 'completed'
    end = time.monotonic() + 10
    while True:
        try:
            dst_status = dst.execute("query-status").get("status")
        except (OSError, QMPError):
            # a destination whose incoming migration was cancelled exits
            dst_status = "exited"
            break
        if res["status"] != "completed" or dst_status == "running" or \
                time.monotonic() > end:
            break
        time.sleep(0.05)
    res["dst_status"] = dst_status
    src.close()
    try:
        dst.close()
    except OSError:
        pass
    print(json.dumps(res, indent=1, sort_keys=True))
    return 0


def main(argv):
    if len(argv) >= 2 and argv[0] == "wait":
        q = connect_retry(argv[1], float(argv[2]) if len(argv) > 2 else 30)
        q.close()
        return 0
    if len(argv) >= 3 and argv[0] == "cmd":
        q = connect_retry(argv[1], 10)
        args = json.loads(argv[3]) if len(argv) > 3 else None
        print(json.dumps(q.execute(argv[2], args)))
        q.close()
        return 0
    if len(argv) >= 1 and argv[0] == "migrate":
        return migrate(argv[1:])
    sys.stderr.write(__doc__)
    return 2


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1:]))
    except QMPError as e:
        sys.stderr.write("qmp.py: %s\n" % e)
        sys.exit(1)
