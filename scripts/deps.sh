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

# tmux drives the curses view in make check (tests/test_view_replay.c);
# libmicrohttpd serves --openmetrics; prometheus (with promtool) scrapes it
# and rsvg-convert renders the heatmaps in make check (tests/*.sh); librsvg
# (with cairo) renders them to PNG for report --heatmap-format png;
# headless chromium loads report's timelines in its DevTools trace engine
# in make check (tests/chrome_trace_chromium.sh); jansson parses QMP
# (src/qmp_client.c); python3 reads QEMU's answers back in
# tests/test_qmp_live.c, which also needs the QEMU of "vm"
build_pkgs=(make gcc clang llvm pkg-config libbpf-dev bpftool libelf-dev
	zlib1g-dev libncurses-dev libzstd-dev libcmocka-dev tmux
	libmicrohttpd-dev prometheus librsvg2-bin librsvg2-dev libcairo2-dev
	chromium libjansson-dev python3)
vm_pkgs=(linux-source-6.12 linux-source-6.1 build-essential bc bison flex
	libelf-dev libssl-dev dwarves cpio kmod qemu-system-x86 busybox-static
	bpftrace python3)
# Packages from other suites, each named exactly: "package suite
# minimum-version". linux-source-7.2 exists only in unstable; QEMU 10 (vfio
# migration v2 with PRE_COPY, DMA logging, iommufd) is in bookworm-backports
# while bookworm has 7.2.
extra_pkgs=("linux-source-7.2 unstable 7.2"
	"qemu-system-x86 bookworm-backports 1:10.0")

case "${1:-all}" in
build) want=("${build_pkgs[@]}") extra=() ;;
vm) want=("${vm_pkgs[@]}") extra=("${extra_pkgs[@]}") ;;
all) want=("${build_pkgs[@]}" "${vm_pkgs[@]}") extra=("${extra_pkgs[@]}") ;;
*)
	echo "usage: scripts/deps.sh [build|vm|all]" >&2
	exit 2
	;;
esac

installed() {
	[ "$(dpkg-query -W -f='${db:Status-Status}' "$1" 2>/dev/null)" = installed ]
}

missing=()
for p in "${want[@]}"; do
	installed "$p" || missing+=("$p")
done
# name suite: the extra packages that are missing or older than wanted
missing_extra=()
for e in "${extra[@]}"; do
	read -r p suite minver <<<"$e"
	if ! installed "$p" ||
		dpkg --compare-versions "$(dpkg-query -W -f='${Version}' "$p")" lt "$minver"; then
		missing_extra+=("$p $suite")
		# the extra suite's version replaces the base one, if any
		missing=("${missing[@]/#$p/}")
	fi
done
# drop the entries emptied above
want=()
for p in "${missing[@]}"; do [ -n "$p" ] && want+=("$p"); done
missing=("${want[@]}")
# librsvg2-dev needs libwebp-dev (through libtiff-dev) of exactly the
# installed libwebp7's version. QEMU 10 from bookworm-backports brings that
# suite's libwebp7, and then only that suite's libwebp-dev fits: ask for it
# from there by name, in the same apt-get run.
if [[ " ${missing[*]} " == *" librsvg2-dev "* ]] && installed libwebp7 &&
	dpkg-query -W -f='${Version}' libwebp7 | grep -q '~bpo12'; then
	missing+=("libwebp-dev/bookworm-backports")
fi
[ ${#missing[@]} -eq 0 ] && [ ${#missing_extra[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
	echo "iovatop needs these Debian packages: ${missing[*]} ${missing_extra[*]%% *}" >&2
	echo "run this script as root to install them: sudo $0 ${1:-all}" >&2
	exit 1
fi
export DEBIAN_FRONTEND=noninteractive

if [ ${#missing_extra[@]} -gt 0 ]; then
	# The two suites are added with a pin that keeps them out of every
	# upgrade: backports is NotAutomatic already (priority 100), and
	# unstable gets priority 1, so only a package asked for by name with
	# -t comes from it and nothing installed is ever replaced from it.
	cat >/etc/apt/sources.list.d/iovatop-extra-suites.sources <<-'EOF'
	Types: deb
	URIs: http://deb.debian.org/debian
	Suites: bookworm-backports unstable
	Components: main
	Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
	EOF
	cat >/etc/apt/preferences.d/iovatop-extra-suites <<-'EOF'
	Package: *
	Pin: release a=unstable
	Pin-Priority: 1

	Package: *
	Pin: release a=bookworm-backports
	Pin-Priority: 100
	EOF
fi
echo "deps: installing ${missing[*]} ${missing_extra[*]%% *}" >&2
# The package lists can be missing or stale on a fresh machine.
apt-get -o DPkg::Lock::Timeout=600 update -qq >&2
[ ${#missing[@]} -eq 0 ] || apt-get -o DPkg::Lock::Timeout=600 install -y -qq "${missing[@]}" >&2
for e in "${missing_extra[@]}"; do
	read -r p suite <<<"$e"
	if [ "$suite" = unstable ]; then
		# the only version there is, so no -t: its dependencies and
		# recommendations then come from bookworm, never from unstable
		apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends "$p" >&2
	else
		apt-get -o DPkg::Lock::Timeout=600 install -y -qq -t "$suite" "$p" >&2
	fi
done
