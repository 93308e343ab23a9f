#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Install the Debian packages a part of iovatop needs.
#
#   scripts/deps.sh build   compiler, libbpf, bpftool, ncurses, zstd, cmocka
#   scripts/deps.sh vm      kernel sources and tools for the test VM, QEMU
#   scripts/deps.sh all     both
#
# Only missing packages are installed. As root it runs apt-get; otherwise it
# prints the exact command to run and fails, so nothing is half-installed.
set -euo pipefail

# tmux drives the curses view in make check (tests/test_view_replay.c)
build_pkgs=(make gcc clang llvm pkg-config libbpf-dev bpftool libelf-dev
	zlib1g-dev libncurses-dev libzstd-dev libcmocka-dev tmux)
vm_pkgs=(linux-source-6.12 linux-source-6.1 build-essential bc bison flex
	libelf-dev libssl-dev dwarves cpio kmod qemu-system-x86 busybox-static
	bpftrace)

case "${1:-all}" in
build) want=("${build_pkgs[@]}") ;;
vm) want=("${vm_pkgs[@]}") ;;
all) want=("${build_pkgs[@]}" "${vm_pkgs[@]}") ;;
*)
	echo "usage: scripts/deps.sh [build|vm|all]" >&2
	exit 2
	;;
esac

missing=()
for p in "${want[@]}"; do
	status=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
	[ "$status" = installed ] || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
	echo "iovatop needs these Debian packages: ${missing[*]}" >&2
	echo "run as root: apt-get update && apt-get install -y ${missing[*]}" >&2
	exit 1
fi
echo "deps: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
# The package lists can be missing or stale on a fresh machine.
apt-get update -qq >&2
apt-get install -y -qq "${missing[@]}" >&2
