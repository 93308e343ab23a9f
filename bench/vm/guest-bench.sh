#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# In the 6.12 test VM (bench/vm/run.sh boots it): the benchmarks named,
# one after the other. Each gets its own options:
#
#   guest-bench.sh [overhead ARGS... --] [rate ARGS... --]
set -uo pipefail
dir=$(cd "$(dirname "$0")/../.." && pwd)/.output/vm
rc=0
while [ $# -gt 0 ]; do
	what=$1
	shift
	args=()
	while [ $# -gt 0 ] && [ "$1" != -- ]; do
		# a path in the results share, which only the guest knows
		args+=("${1//@RESULTS@/$RESULTS}")
		shift
	done
	[ $# -gt 0 ] && shift	# the --
	case $what in
	overhead) "$dir/iova_bench" "${args[@]}" || rc=1 ;;
	rate) "$dir/iova_rate" "${args[@]}" || rc=1 ;;
	*) echo "guest-bench.sh: no benchmark '$what'" >&2; exit 2 ;;
	esac
	echo
done
exit $rc
