#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
#
# qmp_read.py SOCKET [COMMAND [ARGUMENTS-JSON]]: run a QMP command on a
# QEMU monitor socket and print its "return" flattened, one "key value"
# line per scalar ("ram.total 67641344", "status active"). Without a
# command it reads "COMMAND [ARGUMENTS-JSON]" lines from stdin and answers
# each, then a line "."; an error is a line "error: ...". The tests use it
# to drive QEMU and to read QEMU's own figures independently of iovatop's
# client (src/qmp_client.c). Exit 1 with QEMU's error on stderr.
import json
import socket
import sys


def flatten(prefix, v, out):
    if isinstance(v, dict):
        for k, x in v.items():
            flatten(f"{prefix}.{k}" if prefix else k, x, out)
    elif isinstance(v, list):
        out.append((prefix, json.dumps(v)))
    elif isinstance(v, bool):
        out.append((prefix, "true" if v else "false"))
    else:
        out.append((prefix, v))


class Monitor:
    def __init__(self, path):
        s = socket.socket(socket.AF_UNIX)
        s.settimeout(30)
        s.connect(path)
        self.f = s.makefile("rwb")
        json.loads(self.f.readline())
        self.run("qmp_capabilities", None)

    def run(self, name, args):
        cmd = {"execute": name}
        if args is not None:
            cmd["arguments"] = args
        self.f.write((json.dumps(cmd) + "\n").encode())
        self.f.flush()
        while True:
            r = json.loads(self.f.readline())
            if "error" in r:
                raise RuntimeError(f"{name}: {r['error'].get('desc')}")
            if "return" in r:
                out = []
                flatten("", r["return"], out)
                return out


def main():
    if len(sys.argv) < 2:
        print("usage: qmp_read.py SOCKET [COMMAND [ARGUMENTS-JSON]]", file=sys.stderr)
        return 2
    m = Monitor(sys.argv[1])
    if len(sys.argv) > 2:
        try:
            out = m.run(sys.argv[2], json.loads(sys.argv[3]) if len(sys.argv) > 3 else None)
        except RuntimeError as e:
            print(f"qmp_read: {e}", file=sys.stderr)
            return 1
        for k, v in out:
            print(k, v)
        return 0
    for line in sys.stdin:
        name, _, args = line.strip().partition(" ")
        try:
            for k, v in m.run(name, json.loads(args) if args else None):
                print(k, v)
        except RuntimeError as e:
            print(f"error: {e}")
        print(".", flush=True)
    return 0


sys.exit(main())
