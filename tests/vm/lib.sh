# SPDX-License-Identifier: GPL-2.0
# Shared by the test-VM scripts: where built kernels are cached.
#
# Kernels take ~12 minutes each to build on two cores, so they live outside
# the repository and survive fresh clones. The key holds the Debian source
# package version, a hash of the config fragments and kernel_recipe, so a
# change to either builds a new kernel instead of reusing a stale one. Bump
# kernel_recipe when build-kernel.sh changes what it builds.

vm_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

if [ -n "${IOVATOP_CACHE:-}" ]; then
	cache_dir=$IOVATOP_CACHE
elif [ -w /var/cache ] || [ -w /var/cache/iovatop ]; then
	cache_dir=/var/cache/iovatop
else
	cache_dir=${XDG_CACHE_HOME:-$HOME/.cache}/iovatop
fi

kernel_recipe=1

die() {
	echo "${0##*/}: $*" >&2
	exit 1
}

# kernel_key VERSION: prints the cache directory name of that kernel.
kernel_key() {
	local ver=$1 pkgver hash
	pkgver=$(dpkg-query -W -f='${Version}' "linux-source-$ver" 2>/dev/null) ||
		die "linux-source-$ver is not installed; run 'make deps' (as root) first."
	hash=$( (echo "recipe $kernel_recipe"
		cat "$vm_dir/kconfig/common.config" "$vm_dir/kconfig/$ver.config") |
		sha256sum | cut -c1-12)
	echo "linux-$ver-$pkgver-$hash"
}

# default_objects VERSION: about how many objects ("  CC " lines of the
# build log) a test kernel compiles, for the progress line of a first build
# (later builds count against what the last one wrote to
# .iovatop-build-objects). 6.12 compiled 1461 with these configs; 7.2 and
# 6.1 use the same fragments and are taken to be near it until measured.
default_objects() {
	case $1 in
	6.12 | 7.2 | 6.1) echo 1461 ;;
	*) echo 0 ;;
	esac
}

kernel_dir() {
	echo "$cache_dir/kernels/$(kernel_key "$1")"
}
