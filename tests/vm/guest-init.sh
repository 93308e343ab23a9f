#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# PID 1 of the iovatop test VM (started by run.sh through init=).
#
# The root file system is the host's, read-only over 9p, so the guest runs
# the host's binaries; everything the guest writes goes to tmpfs or to the
# two writable 9p shares: "ctl" (this run's command, environment and exit
# status) and "results" (what the command leaves for the host).
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export HOME=/root TERM=${TERM:-linux}

# Quietly: each may already be mounted (DEVTMPFS_MOUNT does /dev).
m() { mount "$@" 2>/dev/null; }
m -t proc proc /proc
m -t sysfs sysfs /sys
m -t devtmpfs devtmpfs /dev
mkdir -p /dev/pts /dev/shm
# What udev would add: bash's <(...) needs /dev/fd.
ln -sf /proc/self/fd /dev/fd
ln -sf /proc/self/fd/0 /dev/stdin
ln -sf /proc/self/fd/1 /dev/stdout
ln -sf /proc/self/fd/2 /dev/stderr
m -t devpts devpts /dev/pts
m -t tmpfs tmpfs /dev/shm
# The repository may live under a directory the guest covers with tmpfs
# (a clone in /tmp): keep its host copy visible at the same path.
repo=$(cd "$(dirname "$0")/../.." && pwd)
m -t tmpfs tmpfs /run
for d in /tmp /var/tmp /root; do
	case "$repo/" in
	"$d"/*)
		mkdir -p "/run/iv-host$d"
		mount --bind "$d" "/run/iv-host$d"
		m -t tmpfs tmpfs "$d"
		mkdir -p "$repo"
		mount --bind "/run/iv-host$repo" "$repo"
		;;
	*) m -t tmpfs tmpfs "$d" ;;
	esac
done
m -t debugfs debugfs /sys/kernel/debug
m -t tracefs tracefs /sys/kernel/tracing
m -t bpf bpf /sys/fs/bpf
opts=trans=virtio,version=9p2000.L,msize=262144
mkdir -p /tmp/iv-ctl /tmp/iv-results
if ! mount -t 9p -o "$opts" ctl /tmp/iv-ctl; then
	echo "guest-init: cannot mount the ctl share; poweroff" >/dev/console
	exec /bin/busybox poweroff -f
fi
mount -t 9p -o "$opts" results /tmp/iv-results ||
	echo "guest-init: cannot mount the results share" >/dev/console
hostname iovatop-vm 2>/dev/null

# run.sh wrote the environment (KSERIES, REPO, MODULE, ...) and the command.
set -a
. /tmp/iv-ctl/env
set +a
export KVER=$(uname -r) RESULTS=/tmp/iv-results TMPDIR=/tmp
# make demo asks for a quiet boot: the view is the first thing on screen
[ -n "${QUIET_BOOT:-}" ] ||
	echo "guest-init: $(uname -r) up after $(cut -d' ' -f1 /proc/uptime) s" >/dev/console

rc=0
if [ -n "${IV_MODULE_LOAD:-}" ]; then
	if ! insmod "$MODULE" $IV_MODULE_ARGS; then
		echo "guest-init: insmod $MODULE failed" >/dev/console
		rc=97
	fi
fi

wl_pid=
if [ $rc -eq 0 ] && [ -n "${IV_WORKLOAD_ARGS:-}" ]; then
	# A workload in the background, for commands that watch one (demo,
	# tracer tests, benchmarks). It says when all sessions are running.
	rm -f /tmp/workload.ready
	# shellcheck disable=SC2086
	"$WORKLOAD" $IV_WORKLOAD_ARGS --ready /tmp/workload.ready \
		>/tmp/workload.log 2>&1 &
	wl_pid=$!
	for _ in $(seq 300); do
		[ -e /tmp/workload.ready ] && break
		kill -0 $wl_pid 2>/dev/null || break
		sleep 0.1
	done
	if [ ! -e /tmp/workload.ready ]; then
		echo "guest-init: the workload did not start:" >/dev/console
		cat /tmp/workload.log >/dev/console
		rc=98
	fi
	export WORKLOAD_PID=$wl_pid
fi

if [ $rc -eq 0 ]; then
	if [ -n "${IV_SHELL:-}" ] && [ -s /tmp/iv-ctl/cmd ]; then
		# --shell with a command: it owns the console, keys and all
		# (make demo runs the live view this way).
		setsid -c bash /tmp/iv-ctl/cmd </dev/ttyS0 >/dev/ttyS0 2>&1
		rc=$?
	elif [ -n "${IV_SHELL:-}" ]; then
		echo "guest-init: shell in the guest; 'exit' or Ctrl-D powers off" >/dev/console
		# setsid -c: the shell owns the console, so job control and ^C work.
		setsid -c bash -l </dev/ttyS0 >/dev/ttyS0 2>&1
		rc=$?
	else
		bash /tmp/iv-ctl/cmd </dev/null >/dev/console 2>&1
		rc=$?
	fi
fi

if [ -n "$wl_pid" ]; then
	kill -TERM $wl_pid 2>/dev/null
	wait $wl_pid
	wl_rc=$?
	# The workload's own failures must not go unseen.
	if [ $wl_rc -ne 0 ] && [ $wl_rc -ne 143 ]; then
		echo "guest-init: the background workload failed ($wl_rc):" >/dev/console
		tail -20 /tmp/workload.log >/dev/console
		[ $rc -eq 0 ] && rc=99
	fi
fi
echo "$rc" >/tmp/iv-ctl/rc
sync
umount /tmp/iv-results /tmp/iv-ctl 2>/dev/null
exec /bin/busybox poweroff -f
