/* SPDX-License-Identifier: GPL-2.0 */
/*
 * bench_proc.h - the tracers the VM benchmarks start and stop (iovatop,
 * bpftrace) and what they leave: their output, their CPU time, the
 * records iovatop says it lost.
 */
#ifndef BENCH_PROC_H
#define BENCH_PROC_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

/* Print "PROGRAM: " FMT's message and exit 1. */
void bench_die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

/*
 * Start ARGV with stderr to LOG and stdout to OUT (or LOG too); wait until
 * OUT (or LOG) holds READY. Dies when it does not come within a minute.
 */
pid_t bench_spawn(char *const argv[], const char *log, const char *ready, const char *out);

/*
 * SIGINT to PID, wait for it (SIGKILL after 60 s, said on stderr), then
 * bench_settle(); its wait status.
 */
int bench_stop(pid_t pid);

/*
 * The kernel drops a BPF link from a workqueue, so the detach (patching
 * iova_bitmap_set() back) can still run after the process is gone; a
 * report racing with it has crashed the emulated guest (int3 oops).
 */
void bench_settle(void);

uint64_t bench_count_lines(const char *path);

/* A growing output's line count once it stops growing. */
uint64_t bench_drained_lines(const char *path);

/* utime + stime of a process, all its threads, in clock ticks. */
uint64_t bench_cpu_ticks(pid_t pid);

/*
 * Turn the kernel's real-time throttling off (sched_rt_runtime_us -1)
 * until the bench exits, or die saying why.
 */
void bench_rt_unthrottle(void);

/*
 * Wait past one poll of the reader, then until every thread of PID
 * sleeps (its reader has caught up with the ring), at most 5 s more;
 * false when it did not. PID 0: only the first wait. The bench keeps
 * the CPU busy meanwhile, yielding to the reader.
 */
bool bench_caught_up(pid_t pid);

/* The records 'iovatop record' said it lost ("wrote N records (M lost)") in LOG. */
uint64_t bench_iovatop_lost(const char *log);

#endif
