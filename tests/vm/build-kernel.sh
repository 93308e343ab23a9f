#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Build (or find in the cache) a test kernel from Debian's linux-source-VER.
#
#   tests/vm/build-kernel.sh 6.12      prints the built tree's directory
#
# The tree is kept whole: the test module is built against it and vmlinux.h
# is generated from its vmlinux.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

ver=${1:-}
case "$ver" in
6.1 | 6.12 | 7.2) ;;
*) die "usage: build-kernel.sh 6.1|6.12|7.2" ;;
esac

tarball=/usr/src/linux-source-$ver.tar.xz
[ -f "$tarball" ] || die "$tarball is missing; run 'make deps' (as root) to install linux-source-$ver."
dir=$(kernel_dir "$ver")
if [ -f "$dir/.iovatop-built" ]; then
	echo "$dir"
	exit 0
fi

mkdir -p "$cache_dir/kernels"
# Two 'make vmtest' runs at once must not build the same tree twice.
exec 9>"$dir.lock"
flock 9
if [ -f "$dir/.iovatop-built" ]; then
	echo "$dir"
	exit 0
fi

# What the last build of this version (else of any) compiled and took:
# the yardstick of the progress line. Neither is known on a fresh machine.
objects=0 seconds=0
for f in "$cache_dir"/kernels/linux-"$ver"-*/.iovatop-build-objects \
	 "$cache_dir"/kernels/linux-*/.iovatop-build-objects; do
	[ -f "$f" ] || continue
	objects=$(cat "$f")
	seconds=$(cat "${f%objects}seconds" 2>/dev/null || echo 0)
	break
done
[ "$objects" -gt 0 ] 2>/dev/null || objects=$(default_objects "$ver")
[ "$seconds" -gt 0 ] 2>/dev/null || seconds=0

start=$(date +%s)
echo "build-kernel: building $ver into $dir (about 12 to 15 minutes on 2 cores; cached afterwards)" >&2
echo "build-kernel: $ver: unpacking $tarball ..." >&2
rm -rf "$dir"
mkdir -p "$dir"
tar -xf "$tarball" -C "$dir" --strip-components=1
log=$dir/iovatop-build.log
jobs=$(($(nproc) + 1))
frags=("$vm_dir/kconfig/common.config" "$vm_dir/kconfig/$ver.config")

echo "build-kernel: $ver: configuring ($(($(date +%s) - start)) s so far) ..." >&2
if ! (
	cd "$dir"
	make tinyconfig
	scripts/kconfig/merge_config.sh -m .config "${frags[@]}"
	make olddefconfig
) >"$log" 2>&1; then
	tail -20 "$log" >&2
	die "configuring $ver failed; full log in $log"
fi

# merge_config only warns when Kconfig drops an option (an unmet dependency),
# and a silently missing IOMMUFD_DRIVER turns iova_bitmap_* into inline stubs.
missing=0
while IFS= read -r line; do
	case "$line" in
	CONFIG_*=*)
		grep -qx "$line" "$dir/.config" || {
			echo "build-kernel: $ver: $line did not stay set after olddefconfig" >&2
			missing=1
		}
		;;
	"# CONFIG_"*" is not set")
		opt=${line#\# }
		opt=${opt%% *}
		if grep -q "^$opt=" "$dir/.config"; then
			echo "build-kernel: $ver: $opt is set but must not be" >&2
			missing=1
		fi
		;;
	esac
done < <(cat "${frags[@]}")
[ $missing -eq 0 ] || die "the $ver config lost required options (see above)"

(cd "$dir" && exec make -j"$jobs" bzImage modules) >>"$log" 2>&1 &
make_pid=$!
built=$("$vm_dir/build-progress.sh" "$make_pid" "$log" "$objects" "$seconds" "$ver")
if ! wait "$make_pid"; then
	tail -30 "$log" >&2
	die "building $ver failed; full log in $log"
fi
[ -f "$dir/arch/x86/boot/bzImage" ] && [ -f "$dir/vmlinux" ] ||
	die "building $ver left no bzImage or vmlinux; see $log"
end=$(date +%s)
echo "$((end - start))" >"$dir/.iovatop-build-seconds"
echo "$built" >"$dir/.iovatop-build-objects"
touch "$dir/.iovatop-built"
echo "build-kernel: $ver built in $((end - start)) s" >&2
echo "$dir"
