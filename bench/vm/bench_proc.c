// SPDX-License-Identifier: GPL-2.0
/*
 * bench_proc.c - starting, stopping and reading the tracers the VM
 * benchmarks run beside the ioctls they time.
 */
#define _GNU_SOURCE	/* program_invocation_short_name */
#include <dirent.h>
#include <errno.h>
#include <sched.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bench_proc.h"

void bench_die(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", program_invocation_short_name);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n");
	exit(1);
}

pid_t bench_spawn(char *const argv[], const char *log, const char *ready, const char *out)
{
	char buf[4096];
	pid_t pid;
	int i, lf, of;
	FILE *f;

	/*
	 * The last run's log says READY too: gone before the fork, or it
	 * could be read before the child truncates it, and the bench would
	 * start timing while the tracer still attaches.
	 */
	unlink(log);
	if (out)
		unlink(out);
	pid = fork();
	if (pid < 0)
		bench_die("fork failed: %s", strerror(errno));
	if (!pid) {
		lf = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		of = out ? open(out, O_WRONLY | O_CREAT | O_TRUNC, 0600) : lf;
		if (lf < 0 || of < 0)
			_exit(127);
		dup2(of, 1);
		dup2(lf, 2);
		execvp(argv[0], argv);
		_exit(127);
	}
	for (i = 0; i < 1200; i++) {
		f = fopen(out ? out : log, "r");
		if (f) {
			size_t n = fread(buf, 1, sizeof(buf) - 1, f);

			buf[n] = '\0';
			fclose(f);
			if (strstr(buf, ready))
				return pid;
		}
		if (waitpid(pid, NULL, WNOHANG) == pid)
			break;
		usleep(50000);
	}
	bench_die("%s did not start; see its log %s", argv[0], log);
}

void bench_settle(void)
{
	sleep(1);
}

#define STOP_WAIT_S	60

int bench_stop(pid_t pid)
{
	int status = 0, i;
	pid_t r = 0;

	kill(pid, SIGINT);
	/*
	 * A tracer that does not end would hold the bench, silent, until the
	 * VM's timeout (90 minutes): it is killed after a minute, and said so.
	 */
	for (i = 0; i < STOP_WAIT_S * 10 && !(r = waitpid(pid, &status, WNOHANG)); i++)
		usleep(100000);
	if (!r) {
		fprintf(stderr, "bench: pid %d did not end within %d s of SIGINT; killing it\n",
			(int)pid, STOP_WAIT_S);
		kill(pid, SIGKILL);
		r = waitpid(pid, &status, 0);
	}
	if (r != pid)
		status = -1;
	bench_settle();
	return status;
}

uint64_t bench_count_lines(const char *path)
{
	uint64_t n = 0;
	char buf[65536];
	size_t r, i;
	FILE *f = fopen(path, "r");

	if (!f)
		return 0;
	while ((r = fread(buf, 1, sizeof(buf), f)) > 0)
		for (i = 0; i < r; i++)
			n += buf[i] == '\n';
	fclose(f);
	return n;
}

uint64_t bench_drained_lines(const char *path)
{
	uint64_t n = bench_count_lines(path), m;

	for (;;) {
		usleep(300000);
		m = bench_count_lines(path);
		if (m == n)
			return n;
		n = m;
	}
}

uint64_t bench_cpu_ticks(pid_t pid)
{
	unsigned long long ut = 0, st = 0;
	char path[64], buf[1024], *p;
	size_t n;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	f = fopen(path, "r");
	if (!f)
		return 0;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	p = strrchr(buf, ')');	/* comm may hold spaces */
	if (!p || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu",
			 &ut, &st) != 2)
		return 0;
	return ut + st;
}

/* Call fn on every thread of pid: iovatop's reader need not be its first. */
static void each_thread(pid_t pid, void (*fn)(pid_t tid, void *arg), void *arg)
{
	char path[64];
	struct dirent *d;
	DIR *dir;

	snprintf(path, sizeof(path), "/proc/%d/task", (int)pid);
	dir = opendir(path);
	if (!dir)
		bench_die("cannot list the threads of %d: %s", (int)pid, strerror(errno));
	while ((d = readdir(dir))) {
		pid_t tid = atoi(d->d_name);

		if (tid > 0)
			fn(tid, arg);
	}
	closedir(dir);
}

#define RT_RUNTIME "/proc/sys/kernel/sched_rt_runtime_us"
static char rt_runtime_old[32];

static void rt_write(const char *v)
{
	FILE *f = fopen(RT_RUNTIME, "w");

	if (!f || fputs(v, f) < 0 || fclose(f))
		bench_die("cannot write %s to %s: %s", v, RT_RUNTIME, strerror(errno));
}

static void rt_restore(void)
{
	if (rt_runtime_old[0])
		rt_write(rt_runtime_old);
}

void bench_rt_unthrottle(void)
{
	FILE *f = fopen(RT_RUNTIME, "r");

	if (!f || !fgets(rt_runtime_old, sizeof(rt_runtime_old), f))
		bench_die("cannot read %s: %s", RT_RUNTIME, strerror(errno));
	fclose(f);
	rt_write("-1");
	atexit(rt_restore);
}

static void count_running(pid_t tid, void *arg)
{
	char path[96], buf[512], *p;
	size_t n;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/task/%d/stat", (int)tid, (int)tid);
	f = fopen(path, "r");
	if (!f)
		return;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	p = strrchr(buf, ')');	/* comm may hold spaces */
	if (p && p[1] == ' ' && p[2] != 'S' && p[2] != 'I')
		++*(unsigned int *)arg;
}

/*
 * Keep the CPU busy for ms, yielding: a runnable reader of the normal
 * class gets its share, and the CPU never idles. An idle CPU stops its
 * tick and leaves the work that comes due meanwhile (timers, RCU) for
 * the first ticks after it, which then fell inside the next counted
 * report: 20 000 to 30 000 instructions in two reports of three.
 */
static void busy_ms(unsigned int ms)
{
	struct timespec t0, t;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	do {
		sched_yield();
		clock_gettime(CLOCK_MONOTONIC, &t);
	} while ((t.tv_sec - t0.tv_sec) * 1000 + (t.tv_nsec - t0.tv_nsec) / 1000000 < ms);
}

bool bench_caught_up(pid_t pid)
{
	unsigned int i, quiet = 0;

	/*
	 * First past one poll of 'iovatop record' (100 ms): the reader is
	 * woken only when the ring or its kernel-side bitmap fills, and
	 * otherwise takes a report's records when its poll times out.
	 */
	busy_ms(150);
	for (i = 0; pid && i < 500 && quiet < 2; i++) {
		unsigned int running = 0;

		busy_ms(10);
		each_thread(pid, count_running, &running);
		quiet = running ? 0 : quiet + 1;
	}
	return !pid || quiet >= 2;
}

uint64_t bench_iovatop_lost(const char *log)
{
	unsigned long long recs, lost;
	uint64_t sum = 0;
	char line[512];
	FILE *f = fopen(log, "r");

	while (f && fgets(line, sizeof(line), f)) {
		char *w = strstr(line, "wrote ");

		if (w && sscanf(w, "wrote %llu records (%llu lost)", &recs, &lost) == 2)
			sum += lost;
	}
	if (f)
		fclose(f);
	return sum;
}
