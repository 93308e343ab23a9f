#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Build the test vfio driver against a test kernel; prints the .ko path.
#
#   tests/vm/build-module.sh 6.12 [OUTDIR]
#
# Kbuild writes its objects next to the sources, so the sources are copied
# to OUTDIR (default .output/vm/<series>/module) and built there: nothing
# lands in the repository.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

ver=${1:-}
case "$ver" in
6.1 | 6.12 | 7.2) ;;
*) die "usage: build-module.sh 6.1|6.12|7.2 [OUTDIR]" ;;
esac
repo=$(cd "$vm_dir/../.." && pwd)
out=${2:-$repo/.output/vm/$ver/module}
tree=$("$vm_dir/build-kernel.sh" "$ver")

mkdir -p "$out"
# a source the driver no longer has must not stay in the build
for f in "$out"/*.c "$out"/*.h; do
	[ -e "$f" ] && [ ! -e "$vm_dir/module/${f##*/}" ] && rm -f "$f" "${f%.c}.o"
done
srcs=$(cd "$vm_dir/module" && echo *.c *.h Makefile)
for f in $srcs; do
	# only a changed source is copied, so only a change rebuilds
	if ! cmp -s "$vm_dir/module/$f" "$out/$f"; then
		cp "$vm_dir/module/$f" "$out/$f"
	fi
done
# Kbuild takes seconds even with nothing to do; skip it when the module
# is newer than its sources and than the kernel it was built against.
fresh=1
for f in $srcs; do
	[ "$out/iovatop_test.ko" -nt "$out/$f" ] || fresh=
done
for f in "$tree/.iovatop-built"; do
	[ "$out/iovatop_test.ko" -nt "$f" ] || fresh=
done
if [ -n "$fresh" ]; then
	echo "$out/iovatop_test.ko"
	exit 0
fi
log=$out/build.log
if ! make -C "$tree" M="$out" modules >"$log" 2>&1; then
	cat "$log" >&2
	die "building the test driver against $ver failed (log: $log)"
fi
[ -f "$out/iovatop_test.ko" ] || die "the $ver build left no iovatop_test.ko; see $log"
echo "$out/iovatop_test.ko"
