#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# make demo: the live view on dirty-page tracking that is really happening.
#
#   scripts/demo.sh [IOVATOP OPTIONS]
#
# Where this kernel has iova_bitmap_set() and we are root, it runs the live
# view right here. Anywhere else it boots the 6.12 test VM (tests/vm/) with
# the test vfio driver, and inside it real QEMU live migrations: a source
# QEMU with two of the driver's devices assigned as vfio-pci migrates to a
# destination QEMU over a unix socket capped at 4 MiB/s, once converging,
# once not (cancelled after 5 dirty syncs), in a loop
# (tests/vm/qemu/demo-loop.sh). The live view runs inside the guest, in this
# terminal (the serial console is the terminal: TERM and the window size
# are passed on). 'q' quits and powers the guest off. Without a terminal it
# prints 40 batch intervals of 2 s instead.
#
# The first run builds the test kernel (12 to 15 minutes on two idle
# cores, with a progress line) and the test driver; later runs show the
# first screen in about 30 s on an idle machine.
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
ver=6.12

# In the guest (run.sh runs this script again there): size the console,
# and again whenever the host's terminal changes size (run.sh writes it to
# the ctl share): setting it signals the view (SIGWINCH), which redraws.
if [ "${1:-}" = --guest ]; then
	shift
	if [ -n "${DEMO_ROWS:-}" ] && [ -n "${DEMO_COLS:-}" ]; then
		stty rows "$DEMO_ROWS" cols "$DEMO_COLS" 2>/dev/null || true
	fi
	if [ -t 0 ]; then
		view=$$
		(
			last=
			while kill -0 "$view" 2>/dev/null; do
				size=$(cat /tmp/iv-ctl/winsize 2>/dev/null || true)
				if [ -n "$size" ] && [ "$size" != "$last" ]; then
					# shellcheck disable=SC2086
					set -- $size
					stty rows "$1" cols "$2" 2>/dev/null || true
					last=$size
				fi
				sleep 0.3
			done
		) <&0 &	# the console: a background job would get /dev/null
	fi
	"$repo/tests/vm/qemu/demo-loop.sh" "$TMPDIR/demo" </dev/null >/dev/null 2>&1 &
	cat >&2 <<-EOT
	demo: $(qemu-system-x86_64 --version | head -1), in the test VM:
	demo:   source QEMU, devices vfio 0000:3b:00.2 and 0000:3b:00.3 (vfio-pci,
	demo:   the test driver's), migrating to a destination QEMU over a unix
	demo:   socket at 4 MiB/s, downtime limit 300 ms; first a migration that
	demo:   converges, then one whose devices dirty 2 MiB per sync (cancelled
	demo:   after 5 syncs), again and again. Logs: $TMPDIR/demo/loop.log
	EOT
	sleep 3
	# the loop says what it is doing on the line under the view's header
	exec "$IOVATOP" --note-file "$TMPDIR/demo/status" "$@"
fi

if grep -q ' iova_bitmap_set' /proc/kallsyms 2>/dev/null && [ "$(id -u)" -eq 0 ]; then
	echo "demo: this kernel has iova_bitmap_set(): the live view, here" >&2
	exec "$repo/iovatop" "$@"
fi

why="this kernel has no iova_bitmap_set()"
[ "$(id -u)" -eq 0 ] || why="not root"
echo "demo: $why; booting the $ver test VM with real QEMU migrations instead" >&2
# guest-init.sh keeps a tree under /tmp, /var/tmp or /root visible through
# the tmpfs it mounts there, but not one under /run, which it needs itself.
case "$repo/" in
/run/*)
	echo "demo: the test VM cannot see $repo (it mounts its own tmpfs over /run); clone the repository elsewhere and run make demo there" >&2
	exit 1
	;;
esac
"$repo/scripts/deps.sh" vm
. "$repo/tests/vm/lib.sh"
if [ ! -f "$(kernel_dir "$ver")/.iovatop-built" ]; then
	echo "demo: first run: building the $ver test kernel (12 to 15 minutes on two idle cores; it says how far it is) ..." >&2
fi

if [ -t 0 ] && [ -t 1 ]; then
	read -r rows cols < <(stty size 2>/dev/null || echo "24 80")
	echo "demo: ${cols}x${rows}, TERM=${TERM:-linux}; q quits and powers the guest off (Ctrl-A X kills QEMU)" >&2
	export IV_GUEST_TERM=${TERM:-linux} IV_GUEST_DEMO_ROWS=$rows IV_GUEST_DEMO_COLS=$cols \
		IV_GUEST_QUIET_BOOT=1
	# the guest has the host's locales: block characters where UTF-8 works here
	[ -z "${LANG:-}" ] || export IV_GUEST_LANG=$LANG
	[ -z "${LC_ALL:-}" ] || export IV_GUEST_LC_ALL=$LC_ALL
	exec "$repo/tests/vm/run.sh" --shell --module "$ver" -- \
		"$repo/scripts/demo.sh" --guest "$@"
fi
# No terminal to draw on: the batch view, 40 intervals of 2 s (one
# converging migration and one that is not, on an idle machine).
[ $# -gt 0 ] || set -- -b 2 40
exec "$repo/tests/vm/run.sh" --timeout 240 --module "$ver" -- \
	"$repo/scripts/demo.sh" --guest "$@"
