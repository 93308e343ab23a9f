#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# heatmap.sh IOVATOP: report --heatmap DIR --heatmap-format both on the
# shipped traces; each SVG rendered by a real renderer (rsvg-convert), and
# each PNG iovatop wrote itself (librsvg, src/heatmap_png.c), read back
# pixel by pixel, both alike:
#   - the cells of every column sum to that iteration's dirty bytes in
#     iovatop report --format json (the model's figure), exactly;
#   - at the centre of every cell the rendered pixel is the colour its
#     density calls for (docs/heatmap.md gives the scale, recomputed here),
#     and every cell without dirty pages is white;
#   - where the workload programmed its stuck hotspot (tests/vm/workload.c:
#     0000:3b:00.2 writes 24576 random pages a pass in the 256 MiB at
#     0x10000000, and 1024 scattered ones in its second range), every
#     column is darkest inside that region and lighter everywhere else;
#   - the PNG has the SVG's size, and --heatmap-format png writes no SVG;
#   - an unwritable DIR is one sentence and exit 1, with PNG too, and a
#     format that is none one sentence and exit 2.
set -euo pipefail

iovatop=${1:?usage: tests/heatmap.sh IOVATOP}
here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

if ! command -v rsvg-convert >/dev/null; then
	echo "FAIL heatmap.sh: rsvg-convert is missing; run scripts/deps.sh build."
	exit 1
fi

for trace in "$here"/data/*.trace; do
	name=$(basename "$trace" .trace)
	out="$tmp/$name"
	"$iovatop" report --heatmap "$out" --heatmap-format both "$trace" >/dev/null 2>"$tmp/err" ||
		{ echo "FAIL heatmap.sh: report --heatmap failed on $name: $(cat "$tmp/err")"; exit 1; }
	"$iovatop" report --format json "$trace" >"$out/report.json"
	for svg in "$out"/*.svg; do
		[ -s "${svg%.svg}.png" ] ||
			{ echo "FAIL heatmap.sh: --heatmap-format both wrote no ${svg%.svg}.png"; exit 1; }
		rsvg-convert -o "${svg%.svg}.rsvg.png" "$svg" ||
			{ echo "FAIL heatmap.sh: rsvg-convert cannot render $svg"; exit 1; }
	done
	# The hotspot is the workload's program; a QEMU migration's devices
	# (info.txt names the QEMU) were programmed elsewhere.
	hotspot=1
	grep -q '^qemu=' "${trace%.trace}.info.txt" 2>/dev/null && hotspot=0
	python3 - "$out" "$name" "$hotspot" <<'EOF' || exit 1
import glob, json, math, os, re, struct, sys, zlib

out, name, hotspot = sys.argv[1:]
errors = []

def read_png(path):
    data = open(path, "rb").read()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", path
    pos, idat = 8, b""
    while pos < len(data):
        n, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + n]
        if kind == b"IHDR":
            w, h, depth, ctype, _, _, interlace = struct.unpack(">IIBBBBB", body)
            assert depth == 8 and ctype in (2, 6) and not interlace, (depth, ctype)
        elif kind == b"IDAT":
            idat += body
        pos += 12 + n
    bpp = 4 if ctype == 6 else 3
    raw = zlib.decompress(idat)
    stride = w * bpp
    rows, prev = [], bytearray(stride)
    for y in range(h):
        f = raw[y * (stride + 1)]
        line = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):
            a = line[i - bpp] if i >= bpp else 0
            b = prev[i]
            c = prev[i - bpp] if i >= bpp else 0
            if f == 1: line[i] = (line[i] + a) & 255
            elif f == 2: line[i] = (line[i] + b) & 255
            elif f == 3: line[i] = (line[i] + (a + b) // 2) & 255
            elif f == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        rows.append(line)
        prev = line
    px = lambda x, y: tuple(rows[y][x * bpp:x * bpp + 3])
    px.size = (w, h)
    return px

# docs/heatmap.md: log10 density from -4 (palest) to 0 (darkest), 5 stops
STOPS = [(255, 255, 204), (254, 204, 92), (253, 141, 60), (227, 26, 28), (128, 0, 38)]
def colour(density):
    v = min(max((math.log10(density) + 4) / 4, 0), 1)
    f = v * (len(STOPS) - 1)
    i = min(int(f), len(STOPS) - 2)
    f -= i
    return tuple(int(math.floor(STOPS[i][k] + (STOPS[i + 1][k] - STOPS[i][k]) * f + 0.5))
                 for k in range(3))

def close(a, b, tol=2):
    return all(abs(x - y) <= tol for x, y in zip(a, b))

report = {d["name"]: d for d in json.load(open(os.path.join(out, "report.json")))["devices"]}
pictures = 0
for tsv in sorted(glob.glob(os.path.join(out, "*.tsv"))):
    meta, cells = {}, {}
    for line in open(tsv):
        parts = line.rstrip("\n").split("\t")
        if line.startswith("#"):
            meta[parts[0][2:]] = parts[1:]
        elif parts[0] != "column":
            c, it, t, row, iova, b, col = parts
            cells[(int(c), int(row))] = (int(b), col)
    dev = meta["device"][0]
    geo = dict(kv.split() for kv in meta["geometry"])
    x0, y0, cw, rh = (int(geo[k]) for k in ("x0", "y0", "cell_w", "row_h"))
    nrows, ncols = int(geo["rows"]), int(geo["cols"])
    iova = dict(kv.split() for kv in meta["iova"])
    lo, row_bytes = int(iova["lo"], 16), int(iova["row_bytes"], 16)
    its = report[dev]["iterations"]
    if ncols != len(its):
        errors.append("%s: %d columns, %d iterations" % (dev, ncols, len(its)))
        continue
    for c, it in enumerate(its):
        s = sum(b for (cc, r), (b, _) in cells.items() if cc == c)
        if s != it["dirty_bytes"]:
            errors.append("%s column %d: cells sum to %d, iteration has %d dirty bytes"
                          % (dev, c, s, it["dirty_bytes"]))
    svg = open(tsv[:-4] + ".svg").read()
    size = tuple(int(v) for v in
                 re.search(r'<svg [^>]*width="(\d+)" height="(\d+)"', svg).groups())
    # iovatop's own PNG, and rsvg-convert's of the SVG: the same pixels
    for png in ("png", "rsvg.png"):
        px = read_png(tsv[:-4] + "." + png)
        if px.size != size:
            errors.append("%s %s: %dx%d, the SVG is %dx%d" % ((dev, png) + px.size + size))
            continue
        lum = {}
        for c in range(ncols):
            for r in range(nrows):
                x = x0 + c * cw + cw // 2
                y = y0 + (nrows - 1 - r) * rh + rh // 2
                got = px(x, y)
                lum[(c, r)] = sum(got)
                if (c, r) in cells:
                    b, col = cells[(c, r)]
                    want = colour(b / row_bytes)
                    if "#%02x%02x%02x" % want != col or not close(got, want):
                        errors.append("%s %s cell (%d, %d): pixel %s, TSV %s, scale %s"
                                      % (dev, png, c, r, got, col, want))
                elif got != (255, 255, 255):
                    errors.append("%s %s cell (%d, %d) has no dirty pages but pixel %s" % (dev, png, c, r, got))
        if hotspot == "1" and dev == "vfio 0000:3b:00.2":
            hot_lo, hot_hi = 0x10000000, 0x20000000
            inside = [r for r in range(nrows) if lo + r * row_bytes >= hot_lo and
                      lo + (r + 1) * row_bytes <= hot_hi]
            outside = [r for r in range(nrows) if lo + (r + 1) * row_bytes <= hot_lo or
                       lo + r * row_bytes >= hot_hi]
            for c in range(ncols):
                darkest_out = min(lum[(c, r)] for r in outside)
                lightest_in = max(lum[(c, r)] for r in inside)
                if not lightest_in < darkest_out:
                    errors.append("%s %s column %d: the hot region is not the darkest (in %d, out %d)"
                                  % (dev, png, c, lightest_in, darkest_out))
    pictures += 1
if pictures != len([d for d in report.values() if d["iterations"]]):
    errors.append("%d pictures for %d devices with iterations" % (pictures, len(report)))
if errors:
    print("FAIL heatmap.sh %s:\n  " % name + "\n  ".join(errors[:10]))
    sys.exit(1)
print("  %s: %d pictures, iovatop's PNG and rsvg-convert's: column sums, every cell's pixel and the hot region agree" %
      (name, pictures))
EOF
done

# --heatmap-format png: each PNG and its TSV, no SVG
"$iovatop" report --heatmap "$tmp/pngonly" --heatmap-format png "$here/data/vm-6.12-demo.trace" \
	>/dev/null 2>"$tmp/err" ||
	{ echo "FAIL heatmap.sh: --heatmap-format png failed: $(cat "$tmp/err")"; exit 1; }
npng=$(find "$tmp/pngonly" -name '*.png' | wc -l)
if [ -n "$(find "$tmp/pngonly" -name '*.svg')" ] || [ "$npng" -eq 0 ] ||
   [ "$npng" -ne "$(find "$tmp/pngonly" -name '*.tsv' | wc -l)" ]; then
	echo "FAIL heatmap.sh: --heatmap-format png wrote: $(ls "$tmp/pngonly")"
	exit 1
fi
# a format that is none, and one without --heatmap: a sentence, exit 2
status=0
"$iovatop" report --heatmap "$tmp/gif" --heatmap-format gif "$here/data/vm-6.12-demo.trace" \
	>/dev/null 2>"$tmp/err" || status=$?
if [ $status -ne 2 ] || ! grep -q "heatmap-format is svg, png or both, not 'gif'" "$tmp/err"; then
	echo "FAIL heatmap.sh: --heatmap-format gif gave status $status and: $(cat "$tmp/err")"
	exit 1
fi
status=0
"$iovatop" report --heatmap-format png "$here/data/vm-6.12-demo.trace" >/dev/null 2>"$tmp/err" || status=$?
if [ $status -ne 2 ] || [ "$(wc -l <"$tmp/err")" -ne 1 ]; then
	echo "FAIL heatmap.sh: --heatmap-format without --heatmap gave status $status and: $(cat "$tmp/err")"
	exit 1
fi

mkdir -p "$tmp/ro"
chmod 0500 "$tmp/ro"
status=0
"$iovatop" report --heatmap "$tmp/ro/x" "$here/data/vm-6.12-demo.trace" >/dev/null 2>"$tmp/err" || status=$?
if [ "$(id -u)" -ne 0 ] && { [ $status -ne 1 ] || [ "$(wc -l <"$tmp/err")" -ne 1 ]; }; then
	echo "FAIL heatmap.sh: an unwritable DIR gave status $status and: $(cat "$tmp/err")"
	exit 1
fi
# root writes anywhere: a DIR under a regular file is unwritable for all
: >"$tmp/file"
for fmt in svg png; do
	status=0
	"$iovatop" report --heatmap "$tmp/file/x" --heatmap-format $fmt "$here/data/vm-6.12-demo.trace" \
		>/dev/null 2>"$tmp/err" || status=$?
	if [ $status -ne 1 ] || [ "$(wc -l <"$tmp/err")" -ne 1 ]; then
		echo "FAIL heatmap.sh: an unwritable DIR ($fmt) gave status $status and: $(cat "$tmp/err")"
		exit 1
	fi
done
# An existing DIR with a symlink planted under one of the picture's names
# (the report runs as root): the link is not followed, its target stays.
mkdir "$tmp/planted"
echo precious >"$tmp/victim"
ln -s "$tmp/victim" "$tmp/planted/iommufd_hwpt_12_pid_87.svg"
status=0
"$iovatop" report --heatmap "$tmp/planted" "$here/data/vm-6.12-demo.trace" >/dev/null 2>"$tmp/err" || status=$?
if [ $status -eq 0 ] || [ "$(cat "$tmp/victim")" != precious ]; then
	echo "FAIL heatmap.sh: a planted symlink was followed (status $status, victim now: $(head -c 40 "$tmp/victim"))"
	exit 1
fi
rm "$tmp/planted/iommufd_hwpt_12_pid_87.svg"
ln -s "$tmp/victim" "$tmp/planted/iommufd_hwpt_12_pid_87.png"
status=0
"$iovatop" report --heatmap "$tmp/planted" --heatmap-format png "$here/data/vm-6.12-demo.trace" \
	>/dev/null 2>"$tmp/err" || status=$?
if [ $status -ne 1 ] || [ "$(cat "$tmp/victim")" != precious ] || ! grep -q "symbolic link" "$tmp/err"; then
	echo "FAIL heatmap.sh: a symlink planted under a PNG's name was followed (status $status: $(cat "$tmp/err"))"
	exit 1
fi
echo "PASS heatmap.sh"
