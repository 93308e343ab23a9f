#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
#
# trace_records.py FILE: the identity fields of the records of an
# uncompressed trace (iovatop record --no-compress), read from the bytes
# without iovatop's own reader, one tab-separated line per record:
#
#   alloc   BITMAP_ID  KPAGE_SHIFT  PID
#   begin   REPORT_ID  CALLBACK  ICTX_ID  PATH  HWPT_ID  PID  MAX_WORD
#   anomaly REPORT_ID  CALLBACK  RESERVED0  KIND  MAX_WORD
#
# MAX_WORD is the largest aligned 64-bit word of the record past its
# header, in hex: a kernel address (0xffff8...) in a record shows there.
# Offsets are those of include/iova_trace.h, ABI version 2
# (docs/trace-format.md). Exit 1 with a sentence for anything else.
import struct
import sys

HEADER_SIZE = 256
FRAME_SIZE = 32
CHUNK_MAGIC = 0x4B4E4843
REC_ALLOC, REC_BEGIN, REC_ANOMALY = 1, 2, 8


def fail(msg):
    print(f"trace_records.py: {msg}", file=sys.stderr)
    sys.exit(1)


def max_word(rec):
    return max(struct.unpack_from("<Q", rec, o)[0] for o in range(16, len(rec), 8))


def main():
    if len(sys.argv) != 2:
        fail("usage: trace_records.py FILE")
    data = open(sys.argv[1], "rb").read()
    if data[:8] != b"IOVATRC\n":
        fail(f"{sys.argv[1]} is not an iovatop trace")
    abi = struct.unpack_from("<I", data, 16)[0]
    if abi != 2:
        fail(f"{sys.argv[1]} holds records of ABI version {abi}; this reads 2")
    off = HEADER_SIZE
    while off + FRAME_SIZE <= len(data):
        magic, kind, codec, stored, raw, nrec = struct.unpack_from("<IHHIII", data, off)
        if magic != CHUNK_MAGIC:
            fail(f"no block frame at byte {off}")
        off += FRAME_SIZE
        if kind == 2:
            break
        if codec != 0:
            fail("a compressed block: record with --no-compress")
        payload = data[off:off + stored]
        off += stored
        pos = 0
        for _ in range(nrec):
            rtype, size = struct.unpack_from("<HH", payload, pos)
            rec = payload[pos:pos + size]
            pos += size
            if rtype == REC_ALLOC:
                bid, = struct.unpack_from("<Q", rec, 16)
                pid, = struct.unpack_from("<I", rec, 64)
                kshift, = struct.unpack_from("<I", rec, 88)
                print(f"alloc\t{bid}\t{kshift}\t{pid}")
            elif rtype == REC_BEGIN:
                rid, cb, ictx, path, hwpt = struct.unpack_from("<QIIII", rec, 24)
                pid, = struct.unpack_from("<I", rec, 104)
                print(f"begin\t{rid}\t{cb}\t{ictx}\t{path}\t{hwpt}\t{pid}\t{max_word(rec):#x}")
            elif rtype == REC_ANOMALY:
                rid, = struct.unpack_from("<Q", rec, 24)
                cb, res0, kind_ = struct.unpack_from("<III", rec, 48)
                print(f"anomaly\t{rid}\t{cb}\t{res0}\t{kind_}\t{max_word(rec):#x}")


main()
