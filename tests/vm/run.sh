#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Boot a test kernel under QEMU, run one command in it, return its status.
#
#   tests/vm/run.sh [OPTIONS] 6.12|7.2|6.1 -- COMMAND [ARGS...]
#   tests/vm/run.sh --shell 6.12
#
#   --shell            an interactive shell in the guest instead of a command;
#                      with a command, the command gets the console (keys too)
#   --timeout S        kill QEMU after S seconds (default 300; none with --shell)
#   --module [ARGS]    load the test vfio driver first (ARGS: module params,
#                      e.g. "ndevs=5"); builds it if needed
#   --workload ARGS    also start the workload in the background with ARGS
#                      (e.g. "-s demo -i 200"); implies --module
#   --results DIR      host directory the guest sees as $RESULTS (writable;
#                      default .output/vm/results/SERIES)
#   --mem MB, --smp N  guest size (default 2048, 2)
#   --append ARGS      more kernel command line (e.g. "preempt=full": the
#                      test kernels have PREEMPT_DYNAMIC)
#   --plugin SPEC      load a TCG plugin, QEMU's "-plugin SPEC" (the bench's
#                      instruction counter: FILE.so,out=COUNTS)
#   --icount SPEC      QEMU's "-icount SPEC": the guest's clock runs by the
#                      instructions executed, not by the host's (the bench:
#                      shift=0,sleep=off)
#
# The guest's root is the host's, read-only over 9p, so COMMAND can be any
# host program, the repository's binaries included. Guest output goes to
# stdout. Exit status: COMMAND's; 124 when the timeout killed QEMU; 1 when
# the guest never ran it.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

usage() {
	sed -n '3,29p' "$0" | sed 's/^# \{0,1\}//'
	exit 0
}

shell=
timeout=300
module=
module_args=
workload_args=
results=
mem=2048
smp=2
extra_append=
plugin=()
icount=()
while [ $# -gt 0 ]; do
	case "$1" in
	--shell) shell=1 ;;
	--timeout)
		timeout=${2:-}
		[[ $timeout =~ ^[0-9]+$ ]] || { echo "run.sh: --timeout needs seconds" >&2; exit 2; }
		shift
		;;
	--module)
		module=1
		if [ $# -gt 1 ] && [[ $2 == *=* ]]; then
			module_args=$2
			shift
		fi
		;;
	--workload)
		[ $# -gt 1 ] || { echo "run.sh: --workload needs its arguments" >&2; exit 2; }
		module=1
		workload_args=$2
		shift
		;;
	--results)
		results=${2:-}
		[ -n "$results" ] || { echo "run.sh: --results needs a directory" >&2; exit 2; }
		shift
		;;
	--mem) mem=${2:-}; shift ;;
	--append)
		[ $# -gt 1 ] || { echo "run.sh: --append needs kernel parameters" >&2; exit 2; }
		extra_append+=" $2"
		shift
		;;
	--smp) smp=${2:-}; shift ;;
	--plugin)
		[ $# -gt 1 ] || { echo "run.sh: --plugin needs FILE.so[,ARG=VALUE...]" >&2; exit 2; }
		plugin=(-plugin "$2")
		shift ;;
	--icount)
		[ $# -gt 1 ] || { echo "run.sh: --icount needs QEMU's icount options (shift=N,...)" >&2; exit 2; }
		icount=(-icount "$2")
		shift
		;;
	-h | --help) usage ;;
	--) shift; break ;;
	6.1 | 6.12 | 7.2) ver=$1 ;;
	*) echo "run.sh: unknown argument '$1'; see run.sh --help" >&2; exit 2 ;;
	esac
	shift
done
[ -n "${ver:-}" ] || { echo "run.sh: which kernel? give 6.12, 7.2 or 6.1" >&2; exit 2; }
if [ -z "$shell" ] && [ $# -eq 0 ]; then
	echo "run.sh: nothing to run; give '-- COMMAND' or --shell" >&2
	exit 2
fi
command -v qemu-system-x86_64 >/dev/null ||
	die "qemu-system-x86_64 is missing; run 'scripts/deps.sh vm' as root."

repo=$(cd "$vm_dir/../.." && pwd)
tree=$("$vm_dir/build-kernel.sh" "$ver")
ko=$repo/.output/vm/$ver/module/iovatop_test.ko
if [ -n "$module" ] || [ -n "$workload_args" ]; then
	"$vm_dir/build-module.sh" "$ver" >/dev/null
	make --no-print-directory -s -C "$repo" .output/vm/workload iovatop >&2 ||
		die "building the workload failed"
fi

mkdir -p "$repo/.output/vm"
ctl=$(mktemp -d "$repo/.output/vm/run.XXXXXX")
trap 'rm -rf "$ctl"' EXIT
results=${results:-$repo/.output/vm/results/$ver}
mkdir -p "$results"
results=$(cd "$results" && pwd)

q() { printf '%q' "$1"; }
{
	echo "KSERIES=$(q "$ver")"
	echo "REPO=$(q "$repo")"
	echo "IOVATOP=$(q "$repo/iovatop")"
	echo "WORKLOAD=$(q "$repo/.output/vm/workload")"
	echo "MODULE=$(q "$ko")"
	echo "IV_MODULE_LOAD=$(q "$module")"
	echo "IV_MODULE_ARGS=$(q "$module_args")"
	echo "IV_WORKLOAD_ARGS=$(q "$workload_args")"
	echo "IV_SHELL=$(q "$shell")"
	# Pass through what the caller exported for the guest.
	for v in ${!IV_GUEST_@}; do
		echo "${v#IV_GUEST_}=$(q "${!v}")"
	done
} >"$ctl/env"
if [ $# -gt 0 ]; then
	{
		printf 'cd %q || exit 1\n' "$repo"
		printf '%q ' "$@"
		echo
	} >"$ctl/cmd"
fi

root_opts=trans=virtio,version=9p2000.L,msize=262144,cache=loose
append="console=ttyS0 root=hostroot rootfstype=9p rootflags=$root_opts ro"
append+=" init=$vm_dir/guest-init.sh panic=-1 quiet loglevel=4"
# On a starved host the emulated timer may not tick within the kernel's
# IO-APIC check ("IO-APIC + timer doesn't work!", a panic at boot, seen
# at nice 19 beside a CI run); the timer works, the check's window is
# what a busy host misses.
append+=" no_timer_check"
append+=$extra_append
# Multi-threaded TCG is faster, but its vCPUs can run a stale translation of
# kernel text that ftrace is patching at that moment (an int3 oops in
# iova_bitmap_set was seen about once in ten boots that attached during a
# workload); single-threaded TCG runs one vCPU at a time and cannot.
# IOVATOP_TCG=multi trades that for speed.
tcg=${IOVATOP_TCG:-single}
qemu=(qemu-system-x86_64 -machine q35 -accel "tcg,thread=$tcg" -cpu max
	-m "$mem" -smp "$smp" -nographic -no-reboot -net none
	-kernel "$tree/arch/x86/boot/bzImage" -append "$append"
	-virtfs local,path=/,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap
	-virtfs "local,path=$ctl,mount_tag=ctl,security_model=none"
	-virtfs "local,path=$results,mount_tag=results,security_model=none"
	${plugin[@]+"${plugin[@]}"} ${icount[@]+"${icount[@]}"})

start=$(date +%s.%N)
if [ -n "$shell" ] && [ -t 0 ]; then
	echo "run.sh: booting $ver; Ctrl-A X quits QEMU, 'exit' powers off" >&2
	# The serial console has no window size: the terminal's goes to the
	# guest through the ctl share, now and on every resize (demo.sh
	# --guest sets the console's from it, which signals the view).
	winsize() { stty size >"$ctl/winsize.new" 2>/dev/null && mv -f "$ctl/winsize.new" "$ctl/winsize"; }
	winsize || true
	trap 'winsize || true' WINCH
	# SeaBIOS writes its banner to the serial console when there is no
	# VGA, and switches the terminal's line wrapping off: give it a VGA
	# nobody sees (what -nographic is, but for that)
	shown=()
	for a in "${qemu[@]}"; do
		if [ "$a" = -nographic ]; then
			shown+=(-display none -serial mon:stdio)
		else
			shown+=("$a")
		fi
	done
	# in the background so that the trap runs while QEMU does; the
	# terminal stays its stdin
	"${shown[@]}" <&0 &
	qpid=$!
	while kill -0 "$qpid" 2>/dev/null; do
		wait "$qpid" || true
	done
	trap - WINCH
	qrc=0
elif [ -n "$shell" ]; then
	echo "run.sh: booting $ver; Ctrl-A X quits QEMU, 'exit' powers off" >&2
	"${qemu[@]}" || true
	qrc=0
else
	set +e
	# The serial console ends lines with CR LF; firmware and boot noise
	# before init is held back, and shown (on stderr) only if init never
	# started. guest-init's own lines go to stderr: stdout is COMMAND's.
	timeout --kill-after=5 "$timeout" "${qemu[@]}" </dev/null |
		tr -d '\r' | awk -v verbose="${IV_VERBOSE:-}" '
		!up && /guest-init: / { up = 1; if (!verbose) { sub(/.*guest-init: /, "guest-init: "); print >"/dev/stderr"; fflush(); next } }
		!up { held = held $0 "\n"; if (verbose) { print >"/dev/stderr"; fflush() }; next }
		/^reboot: Power down$/ { next }
		/^guest-init: / { print >"/dev/stderr"; fflush(); next }
		{ print; fflush() }
		END { if (!up && !verbose) printf "%s", held >"/dev/stderr" }'
	qrc=${PIPESTATUS[0]}
	set -e
	if [ "$qrc" -eq 124 ] || [ "$qrc" -eq 137 ]; then
		echo "run.sh: the $ver guest did not finish within $timeout s; QEMU was killed" >&2
		exit 124
	fi
fi
end=$(date +%s.%N)
if [ ! -f "$ctl/rc" ]; then
	echo "run.sh: the $ver guest stopped without running the command (QEMU exit $qrc); see the console output above" >&2
	exit 1
fi
rc=$(cat "$ctl/rc")
[ -n "${IV_VERBOSE:-}" ] && printf 'run.sh: %s guest ran for %.1f s, command exit %s\n' \
	"$ver" "$(echo "$end - $start" | bc)" "$rc" >&2
exit "$rc"
