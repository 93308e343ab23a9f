// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * bench_count.bpf.c - the floor of any fentry tracer of iova_bitmap_set():
 * a program that only counts the calls in a per-CPU array. The VM
 * benchmark (bench/vm/) sets iovatop's added time per call against it.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

char LICENSE[] SEC("license") = "Dual BSD/GPL";

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} calls SEC(".maps");

SEC("fentry/iova_bitmap_set")
int BPF_PROG(count_set)
{
	__u32 zero = 0;
	__u64 *c = bpf_map_lookup_elem(&calls, &zero);

	if (c)
		*c += 1;
	return 0;
}
