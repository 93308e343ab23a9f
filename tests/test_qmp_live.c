// SPDX-License-Identifier: GPL-2.0
/*
 * test_qmp_live.c - the QMP client and the forecast against a real QEMU
 * during real migrations, on the host (TCG, no vfio needed).
 *
 * The guest is a 32-byte boot sector that rewrites 512 KiB of its RAM in
 * a loop, so QEMU measures a real dirty rate. Two scenarios, each a source
 * and a destination QEMU migrating over a unix socket:
 *
 *   cannot     64 MiB, 1 MiB/s cap, 30 ms downtime limit: the 512 KiB the
 *              guest rewrites never fit the ~38 KB threshold. The forecast
 *              must say "cannot" within 3 iterations of QEMU's first dirty
 *              rate, and QEMU must still be migrating when we cancel.
 *   converges  32 MiB of non-zero RAM, 8 MiB/s cap, QEMU's default 300 ms:
 *              the forecast must say "converges" on every sample before
 *              QEMU completes, and never "cannot".
 *
 * Each sample iovatop's client parses is checked against what QEMU itself
 * answered to tests/qmp_read.py on a second QMP socket, right after. QEMU
 * missing is a failure that says how to install it, never a skip.
 */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <setjmp.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "forecast.h"
#include "forecast_session.h"
#include "qmp_client.h"

extern char **environ;

#define QEMU_BIN	"qemu-system-x86_64"

/* cli; cld; xor bx,bx; 1: inc bx; mov dx,0x1000; 2: mov es,dx;
 * xor di,di; mov cx,0x8000; mov ax,bx; rep stosw; add dx,0x1000;
 * cmp dx,0x9000; jb 2b; jmp 1b -- 0x10000..0x8ffff, forever */
static const unsigned char boot_code[] = {
	0xfa, 0xfc, 0x31, 0xdb, 0x43, 0xba, 0x00, 0x10, 0x8e, 0xc2, 0x31, 0xff,
	0xb9, 0x00, 0x80, 0x89, 0xd8, 0xf3, 0xab, 0x81, 0xc2, 0x00, 0x10, 0x81,
	0xfa, 0x00, 0x90, 0x72, 0xeb, 0xeb, 0xe5,
};

struct pair {
	char dir[64];
	char qmp[96], ctl[96], mig[96], sess[96];
	pid_t src, dst;
	pid_t reader;			/* tests/qmp_read.py on ctl */
	FILE *to, *from;		/* its stdin and stdout */
};

/* The pair of the running test; the teardown kills it whatever happened. */
static struct pair cur;
static struct qmp_client *cur_client;
static struct forecast_session *cur_session;

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void write_file(const char *path, const void *buf, size_t len,
		       off_t size)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, buf, len), (ssize_t)len);
	assert_int_equal(ftruncate(fd, size), 0);
	close(fd);
}

static pid_t spawn(char *const argv[], const char *log)
{
	posix_spawn_file_actions_t fa;
	pid_t pid;
	int r;

	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 1, log, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	posix_spawn_file_actions_adddup2(&fa, 1, 2);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	r = posix_spawnp(&pid, argv[0], &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	if (r)
		fail_msg("cannot run %s: %s; install it with scripts/deps.sh vm",
			 argv[0], strerror(r));
	return pid;
}

static void wait_socket(const char *path, pid_t pid, const char *log)
{
	uint64_t end = now_ms() + 20000;
	struct stat st;
	int status;

	while (stat(path, &st) || !S_ISSOCK(st.st_mode)) {
		if (waitpid(pid, &status, WNOHANG) == pid)
			fail_msg("QEMU exited before %s appeared; see %s", path, log);
		if (now_ms() > end)
			fail_msg("no %s after 20 s; see %s", path, log);
		usleep(20000);
	}
}

/* tests/qmp_read.py on the second monitor, kept running: one connection. */
static void start_reader(struct pair *p)
{
	posix_spawn_file_actions_t fa;
	int in[2], out[2], r;
	char *argv[] = { "python3", "tests/qmp_read.py", p->ctl, NULL };

	assert_int_equal(pipe(in), 0);
	assert_int_equal(pipe(out), 0);
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, in[0], 0);
	posix_spawn_file_actions_adddup2(&fa, out[1], 1);
	posix_spawn_file_actions_addclose(&fa, in[1]);
	posix_spawn_file_actions_addclose(&fa, out[0]);
	r = posix_spawnp(&p->reader, argv[0], &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	if (r)
		fail_msg("cannot run python3: %s", strerror(r));
	close(in[0]);
	close(out[1]);
	p->to = fdopen(in[1], "w");
	p->from = fdopen(out[0], "r");
	assert_non_null(p->to);
	assert_non_null(p->from);
}

/*
 * Source and destination. random_mib > 0: that much RAM, filled from a
 * file of random bytes so that the first pass has real pages to send.
 */
static void start_pair(struct pair *p, int mem_mib, bool random_ram)
{
	char mem[16], boot[128], drive[256], file[128], obj[320], log[160];
	char qmp[160], ctl[160], sess[160], inc[160], machine[64];
	char *argv[40];
	int n;

	snprintf(p->dir, sizeof(p->dir), "/tmp/iovatop-live-XXXXXX");
	assert_non_null(mkdtemp(p->dir));
	snprintf(p->qmp, sizeof(p->qmp), "%s/qmp.sock", p->dir);
	snprintf(p->ctl, sizeof(p->ctl), "%s/ctl.sock", p->dir);
	snprintf(p->mig, sizeof(p->mig), "%s/mig.sock", p->dir);
	snprintf(p->sess, sizeof(p->sess), "%s/sess.sock", p->dir);
	snprintf(boot, sizeof(boot), "%s/boot.img", p->dir);
	{
		unsigned char sector[512] = { 0 };

		memcpy(sector, boot_code, sizeof(boot_code));
		sector[510] = 0x55;
		sector[511] = 0xaa;
		/* SeaBIOS cannot read a disk of one sector */
		write_file(boot, sector, sizeof(sector), 1 << 20);
	}
	snprintf(mem, sizeof(mem), "%d", mem_mib);
	snprintf(drive, sizeof(drive), "file=%s,format=raw,if=none,id=d0,snapshot=on", boot);
	snprintf(file, sizeof(file), "%s/mem.img", p->dir);
	if (random_ram) {
		size_t len = (size_t)mem_mib << 20;
		unsigned char *buf = malloc(len);
		uint64_t x = 0x9e3779b97f4a7c15ull;
		size_t i;

		assert_non_null(buf);
		for (i = 0; i < len; i += 8) {
			x ^= x << 13;
			x ^= x >> 7;
			x ^= x << 17;
			memcpy(buf + i, &x, 8);
		}
		write_file(file, buf, len, (off_t)len);
		free(buf);
	}

	for (int side = 0; side < 2; side++) {
		n = 0;
		argv[n++] = QEMU_BIN;
		argv[n++] = "-accel";
		argv[n++] = "tcg";
		argv[n++] = "-machine";
		snprintf(machine, sizeof(machine), "q35%s",
			 random_ram ? ",memory-backend=mem0" : "");
		argv[n++] = machine;
		if (random_ram) {
			/* the destination gets its own RAM, the same block name */
			if (side == 0)
				snprintf(obj, sizeof(obj), "memory-backend-file,id=mem0,size=%dM,mem-path=%s,share=off",
					 mem_mib, file);
			else
				snprintf(obj, sizeof(obj), "memory-backend-ram,id=mem0,size=%dM", mem_mib);
			argv[n++] = "-object";
			argv[n++] = obj;
		}
		argv[n++] = "-m";
		argv[n++] = mem;
		argv[n++] = "-nographic";
		argv[n++] = "-nodefaults";
		argv[n++] = "-display";
		argv[n++] = "none";
		argv[n++] = "-drive";
		argv[n++] = drive;
		argv[n++] = "-device";
		argv[n++] = "ide-hd,drive=d0,bus=ide.0,bootindex=1";
		argv[n++] = "-qmp";
		snprintf(qmp, sizeof(qmp), "unix:%s/%s.sock,server,wait=off", p->dir,
			 side ? "dqmp" : "qmp");
		argv[n++] = qmp;
		if (side == 0) {
			argv[n++] = "-qmp";
			snprintf(ctl, sizeof(ctl), "unix:%s,server,wait=off", p->ctl);
			argv[n++] = ctl;
			argv[n++] = "-qmp";
			snprintf(sess, sizeof(sess), "unix:%s,server,wait=off", p->sess);
			argv[n++] = sess;
		} else {
			argv[n++] = "-incoming";
			snprintf(inc, sizeof(inc), "unix:%s", p->mig);
			argv[n++] = inc;
		}
		argv[n] = NULL;
		snprintf(log, sizeof(log), "%s/%s.log", p->dir, side ? "dst" : "src");
		if (side == 0)
			p->src = spawn(argv, log);
		else
			p->dst = spawn(argv, log);
	}
	snprintf(log, sizeof(log), "%s/src.log", p->dir);
	wait_socket(p->qmp, p->src, log);
	wait_socket(p->ctl, p->src, log);
	wait_socket(p->sess, p->src, log);
	snprintf(log, sizeof(log), "%s/dst.log", p->dir);
	snprintf(qmp, sizeof(qmp), "%s/dqmp.sock", p->dir);
	wait_socket(qmp, p->dst, log);
	wait_socket(p->mig, p->dst, log);
	start_reader(p);
}

static int teardown(void **state)
{
	char cmd[160];

	(void)state;
	qmp_client_close(cur_client);
	cur_client = NULL;
	forecast_session_close(cur_session);
	cur_session = NULL;
	if (cur.to)
		fclose(cur.to);
	if (cur.from)
		fclose(cur.from);
	if (cur.reader > 0)
		waitpid(cur.reader, NULL, 0);
	if (cur.src > 0) {
		kill(cur.src, SIGKILL);
		waitpid(cur.src, NULL, 0);
	}
	if (cur.dst > 0) {
		kill(cur.dst, SIGKILL);
		waitpid(cur.dst, NULL, 0);
	}
	if (cur.dir[0] && strcmp(cur.dir, "/tmp/iovatop-live-XXXXXX")) {
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", cur.dir);
		if (system(cmd))
			return -1;
	}
	memset(&cur, 0, sizeof(cur));
	return 0;
}

/* QEMU's own answer, through tests/qmp_read.py: "key value" lines. */
static void ctl(const struct pair *p, const char *cmd, const char *args,
		char *out, size_t len)
{
	char line[1024];
	size_t n = 0;

	fprintf(p->to, "%s%s%s\n", cmd, args ? " " : "", args ? args : "");
	fflush(p->to);
	out[0] = '\0';
	while (fgets(line, sizeof(line), p->from)) {
		if (!strcmp(line, ".\n"))
			return;
		if (!strncmp(line, "error: ", 7))
			fail_msg("QEMU refused %s: %s", cmd, line + 7);
		n += (size_t)snprintf(out + n, len - n, "%s", line);
		if (n >= len)
			fail_msg("QEMU's answer to %s is longer than %zu bytes", cmd, len);
	}
	fail_msg("tests/qmp_read.py ended before answering %s", cmd);
}

static bool kv(const char *out, const char *key, char *val, size_t len)
{
	size_t kl = strlen(key);
	const char *s = out;

	while (s && *s) {
		if (!strncmp(s, key, kl) && s[kl] == ' ') {
			const char *e = strchr(s + kl + 1, '\n');
			size_t n = e ? (size_t)(e - s - kl - 1) : strlen(s + kl + 1);

			snprintf(val, len, "%.*s", (int)n, s + kl + 1);
			return true;
		}
		s = strchr(s, '\n');
		if (s)
			s++;
	}
	return false;
}

static uint64_t kv_u64(const char *out, const char *key)
{
	char v[64];

	if (!kv(out, key, v, sizeof(v)))
		fail_msg("QEMU's reply has no %s:\n%s", key, out);
	return strtoull(v, NULL, 10);
}

/*
 * Our sample against QEMU's answer read just after it: what cannot change
 * in between is equal, what only grows has not shrunk.
 */
static void check_against_qemu(const struct pair *p, const struct qmp_migrate *m)
{
	char out[8192], status[32];

	ctl(p, "query-migrate", NULL, out, sizeof(out));
	assert_true(kv(out, "status", status, sizeof(status)));
	if (m->have_ram) {
		/*
		 * at switchover QEMU goes from active to device before
		 * completed (migration_switchover_prepare(), migration.c)
		 */
		assert_true(!strcmp(status, "active") || !strcmp(status, "device") ||
			    !strcmp(status, "completed"));
		assert_int_equal(m->ram_total, kv_u64(out, "ram.total"));
		assert_int_equal(m->page_size, kv_u64(out, "ram.page-size"));
		assert_true(m->dirty_sync_count <= kv_u64(out, "ram.dirty-sync-count"));
		assert_true(m->ram_transferred <= kv_u64(out, "ram.transferred"));
		assert_true(m->total_time_ms <= kv_u64(out, "total-time"));
	}
	if (!strcmp(m->status, "completed")) {
		/* nothing moves any more: every figure is QEMU's exactly */
		assert_string_equal(status, "completed");
		assert_int_equal(m->downtime_ms, kv_u64(out, "downtime"));
		assert_int_equal(m->total_time_ms, kv_u64(out, "total-time"));
		assert_int_equal(m->ram_transferred, kv_u64(out, "ram.transferred"));
		assert_int_equal(m->dirty_sync_count, kv_u64(out, "ram.dirty-sync-count"));
	}
	ctl(p, "query-migrate-parameters", NULL, out, sizeof(out));
	assert_int_equal(m->downtime_limit_ms, kv_u64(out, "downtime-limit"));
	assert_int_equal(m->max_bandwidth, kv_u64(out, "max-bandwidth"));
	/* QEMU 8.2 and later */
	if (strstr(out, "avail-switchover-bandwidth "))
		assert_int_equal(m->avail_switchover_bandwidth,
				 kv_u64(out, "avail-switchover-bandwidth"));
}

static struct qmp_client *open_client(const struct pair *p)
{
	struct qmp_client *c;
	char err[256];
	bool usage;

	c = qmp_client_open(p->qmp, 5000, err, sizeof(err), &usage);
	if (!c)
		fail_msg("%s", err);
	cur_client = c;
	/* SO_PEERCRED names the process we started */
	assert_int_equal(qmp_client_pid(c), (uint32_t)p->src);
	return c;
}

static void sample(struct qmp_client *c, struct qmp_migrate *m)
{
	char err[160];

	if (qmp_client_poll_once(c, 5000)) {
		qmp_client_error(c, err, sizeof(err));
		fail_msg("query-migrate: %s", err);
	}
	assert_true(qmp_client_sample(c, m));
}

static void cannot_converge(void **state)
{
	struct model_snapshot none = { 0 };
	struct pair *p = &cur;
	struct qmp_migrate m;
	struct qmp_client *c;
	struct forecast f, prev = { 0 };
	char out[8192], args[320], line[256];
	uint64_t end, first_rate = 0, first_cannot = 0;

	(void)state;
	start_pair(p, 64, false);
	c = open_client(p);
	ctl(p, "migrate-set-parameters",
	    "{\"max-bandwidth\": 1048576, \"downtime-limit\": 30}", out, sizeof(out));
	snprintf(args, sizeof(args), "{\"uri\": \"unix:%s\"}", p->mig);
	ctl(p, "migrate", args, out, sizeof(out));
	/* until 5 iterations past QEMU's first dirty rate: time is the host's */
	end = now_ms() + 120000;
	for (;;) {
		sample(c, &m);
		check_against_qemu(p, &m);
		assert_string_not_equal(m.status, "completed");
		forecast_compute(&f, NULL, &none, &m, &prev);
		prev = f;
		forecast_format_line(line, sizeof(line), &f, 200);
		print_message("cannot: %s  [rate %llu pages/s, expected-downtime %llu ms]\n",
			      line, (unsigned long long)m.dirty_pages_rate,
			      (unsigned long long)m.expected_downtime_ms);
		if (!first_rate && m.dirty_pages_rate)
			first_rate = m.dirty_sync_count;
		if (!first_cannot && f.verdict == FORECAST_CANNOT)
			first_cannot = m.dirty_sync_count;
		if (f.verdict == FORECAST_CANNOT) {
			assert_int_equal(f.bw_src, FORECAST_SRC_QEMU);
			assert_int_equal(f.dl_src, FORECAST_SRC_QEMU);
			assert_true(fabs(f.dl - 0.030) < 1e-9);
			/* 512 KiB in 30 ms: some 17 MB/s */
			assert_true(f.needed_bw > 10e6);
			/* no device here: the guest's own writes */
			assert_true(f.blame_guest);
		}
		if (first_rate && m.dirty_sync_count >= first_rate + 5)
			break;
		if (now_ms() > end)
			fail_msg("QEMU reached only iteration %llu in 120 s",
				 (unsigned long long)m.dirty_sync_count);
		usleep(200000);
	}
	print_message("cannot: first rate at iteration %llu, first 'cannot' at %llu; QEMU at iteration %llu and %s, %llu ms in\n",
		      (unsigned long long)first_rate, (unsigned long long)first_cannot,
		      (unsigned long long)m.dirty_sync_count, m.status,
		      (unsigned long long)m.total_time_ms);
	assert_true(first_cannot > 0);
	assert_true(first_cannot <= first_rate + 3);
	assert_int_equal(f.verdict, FORECAST_CANNOT);
	assert_string_equal(m.status, "active");
	ctl(p, "migrate_cancel", NULL, out, sizeof(out));
}

static void converges(void **state)
{
	struct model_snapshot none = { 0 };
	struct pair *p = &cur;
	struct qmp_migrate m;
	struct qmp_client *c;
	struct forecast f, prev = { 0 };
	char out[8192], args[320], line[256];
	uint64_t end, active = 0, said_converges = 0;

	(void)state;
	start_pair(p, 64, true);
	c = open_client(p);
	/* what the views run: the session, its client polling on a thread */
	{
		struct forecast_args fa = { .qmp = { p->sess }, .nqmp = 1,
					    .given = true };
		int code;

		cur_session = forecast_session_open(&fa, 200000000ull, &code);
		assert_non_null(cur_session);
		assert_int_equal(code, 0);
	}
	ctl(p, "migrate-set-parameters", "{\"max-bandwidth\": 8388608}", out,
	    sizeof(out));
	snprintf(args, sizeof(args), "{\"uri\": \"unix:%s\"}", p->mig);
	ctl(p, "migrate", args, out, sizeof(out));
	end = now_ms() + 120000;
	for (;;) {
		sample(c, &m);
		check_against_qemu(p, &m);
		forecast_compute(&f, NULL, &none, &m, &prev);
		prev = f;
		forecast_format_line(line, sizeof(line), &f, 200);
		print_message("converges: %s\n", line);
		if (!strcmp(m.status, "completed"))
			break;
		if (now_ms() > end)
			fail_msg("QEMU did not complete in 120 s: %s", m.status);
		if (!strcmp(m.status, "active")) {
			active++;
			assert_int_not_equal(f.verdict, FORECAST_CANNOT);
			if (f.verdict == FORECAST_CONVERGES)
				said_converges++;
			assert_true(fabs(f.dl - 0.3) < 1e-9);
		}
		usleep(200000);
	}
	print_message("converges: %llu active samples, 'converges' on %llu; QEMU completed after %llu iterations, %llu ms, downtime %llu ms\n",
		      (unsigned long long)active, (unsigned long long)said_converges,
		      (unsigned long long)m.dirty_sync_count,
		      (unsigned long long)m.total_time_ms,
		      (unsigned long long)m.downtime_ms);
	assert_true(active >= 2);
	assert_int_equal(said_converges, active);
	assert_int_equal(f.verdict, FORECAST_COMPLETED);

	/* the session's thread sees the same end within a few intervals */
	end = now_ms() + 20000;
	for (;;) {
		const struct forecast *sf;

		forecast_session_update(cur_session, &none);
		sf = forecast_session_get(cur_session, 0);
		if (sf && sf->verdict == FORECAST_COMPLETED)
			break;
		if (now_ms() > end)
			fail_msg("the session still says '%s'",
				 forecast_session_line(cur_session));
		usleep(100000);
	}
	print_message("session: %s\n", forecast_session_line(cur_session));
	assert_int_equal(forecast_session_count(cur_session), 1);
	assert_int_equal(forecast_session_get(cur_session, 0)->qemu.pid,
			 (uint32_t)p->src);
	assert_int_equal(forecast_session_get(cur_session, 0)->qemu.downtime_ms,
			 m.downtime_ms);
	assert_non_null(strstr(forecast_session_line(cur_session),
			       "completed iter"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(cannot_converge, teardown),
		cmocka_unit_test_teardown(converges, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
