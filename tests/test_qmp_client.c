// SPDX-License-Identifier: GPL-2.0
/*
 * test_qmp_client.c - the QMP client against a fake QEMU on a unix socket:
 * a reply parsed field by field, events skipped between replies, the pid
 * from SO_PEERCRED, a socket that speaks something else or nothing
 * refused with a sentence, and a QEMU that stops answering never holding
 * up the caller. tests/test_qmp_live.sh does the same against a real
 * QEMU during a real migration.
 */
#include <errno.h>
#include <pthread.h>
#include <semaphore.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "qmp_client.h"

/* What QEMU 10.0.2 answered to query-migrate during a migration. */
static const char migrate_active[] =
	"{\"expected-downtime\": 300, \"status\": \"active\", "
	"\"setup-time\": 2, \"total-time\": 1530, \"ram\": {\"total\": 285868032, "
	"\"postcopy-requests\": 0, \"dirty-sync-count\": 3, "
	"\"multifd-bytes\": 0, \"pages-per-second\": 4096, "
	"\"downtime-bytes\": 0, \"page-size\": 4096, \"remaining\": 41750528, "
	"\"postcopy-bytes\": 0, \"mbps\": 134.28, \"transferred\": 25165824, "
	"\"dirty-sync-missed-zero-copy\": 0, \"precopy-bytes\": 25165824, "
	"\"duplicate\": 54000, \"dirty-pages-rate\": 120, \"normal-bytes\": 24117248, "
	"\"normal\": 5888}}";

static const char params[] =
	"{\"cpu-throttle-tailslow\": false, \"downtime-limit\": 250, "
	"\"max-bandwidth\": 16777216, \"avail-switchover-bandwidth\": 0, "
	"\"multifd-channels\": 2, \"announce-step\": 100}";

enum fake_mode { FAKE_QMP, FAKE_SSH, FAKE_SILENT, FAKE_STALL };

struct fake {
	enum fake_mode mode;
	char path[108];
	int lfd;
	pthread_t thread;
	sem_t release;		/* FAKE_SILENT / FAKE_STALL: until the test says */
	int queries;		/* query-migrate commands seen */
};

static void say(int fd, const char *s)
{
	size_t off = 0, len = strlen(s);

	while (off < len) {
		ssize_t n = write(fd, s + off, len - off);

		if (n <= 0)
			return;
		off += (size_t)n;
	}
}

/* Read a line; returns its length, 0 at EOF. */
static size_t get_line(int fd, char *buf, size_t len)
{
	size_t n = 0;

	while (n + 1 < len) {
		char ch;

		if (read(fd, &ch, 1) != 1)
			break;
		buf[n++] = ch;
		if (ch == '\n')
			break;
	}
	buf[n] = '\0';
	return n;
}

static long id_of(const char *line)
{
	const char *p = strstr(line, "\"id\":");

	return p ? strtol(p + 5, NULL, 10) : -1;
}

static void *fake_main(void *arg)
{
	struct fake *f = arg;
	char line[512], reply[2048];
	int fd = accept(f->lfd, NULL, NULL);

	if (fd < 0)
		return NULL;
	switch (f->mode) {
	case FAKE_SSH:
		say(fd, "SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n");
		break;
	case FAKE_SILENT:
		sem_wait(&f->release);
		break;
	case FAKE_QMP:
	case FAKE_STALL:
		say(fd, "{\"QMP\": {\"version\": {\"qemu\": {\"micro\": 2, \"minor\": 0, \"major\": 10}, \"package\": \"\"}, \"capabilities\": [\"oob\"]}}\r\n");
		while (get_line(fd, line, sizeof(line))) {
			long id = id_of(line);

			if (strstr(line, "qmp_capabilities")) {
				snprintf(reply, sizeof(reply), "{\"return\": {}, \"id\": %ld}\r\n", id);
			} else if (strstr(line, "query-migrate-parameters")) {
				snprintf(reply, sizeof(reply), "{\"return\": %s, \"id\": %ld}\r\n", params, id);
			} else if (strstr(line, "query-migrate")) {
				__atomic_add_fetch(&f->queries, 1, __ATOMIC_SEQ_CST);
				if (f->mode == FAKE_STALL) {
					sem_wait(&f->release);
					break;
				}
				/* an event first, as QEMU sends them any time */
				say(fd, "{\"timestamp\": {\"seconds\": 1, \"microseconds\": 2}, \"event\": \"MIGRATION_PASS\", \"data\": {\"pass\": 3}}\r\n");
				snprintf(reply, sizeof(reply), "{\"return\": %s, \"id\": %ld}\r\n", migrate_active, id);
			} else {
				snprintf(reply, sizeof(reply), "{\"error\": {\"class\": \"CommandNotFound\", \"desc\": \"no\"}, \"id\": %ld}\r\n", id);
			}
			say(fd, reply);
		}
		break;
	}
	close(fd);
	return NULL;
}

static struct fake *fake_start(enum fake_mode mode)
{
	struct fake *f = calloc(1, sizeof(*f));
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char dir[] = "/tmp/iovatop-qmp-XXXXXX";

	assert_non_null(f);
	assert_non_null(mkdtemp(dir));
	snprintf(f->path, sizeof(f->path), "%s/qmp.sock", dir);
	f->mode = mode;
	sem_init(&f->release, 0, 0);
	f->lfd = socket(AF_UNIX, SOCK_STREAM, 0);
	assert_true(f->lfd >= 0);
	memcpy(sa.sun_path, f->path, strlen(f->path) + 1);
	assert_int_equal(bind(f->lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(f->lfd, 1), 0);
	assert_int_equal(pthread_create(&f->thread, NULL, fake_main, f), 0);
	return f;
}

static void fake_stop(struct fake *f)
{
	char *slash;

	sem_post(&f->release);
	pthread_join(f->thread, NULL);
	close(f->lfd);
	unlink(f->path);
	slash = strrchr(f->path, '/');
	*slash = '\0';
	rmdir(f->path);
	sem_destroy(&f->release);
	free(f);
}

static void parse_reply(void **state)
{
	struct qmp_migrate m = { 0 };

	(void)state;
	assert_int_equal(qmp_parse_migrate(migrate_active, strlen(migrate_active), &m), 0);
	assert_string_equal(m.status, "active");
	assert_true(m.have_ram);
	assert_int_equal(m.total_time_ms, 1530);
	assert_int_equal(m.expected_downtime_ms, 300);
	assert_int_equal(m.setup_time_ms, 2);
	assert_int_equal(m.ram_total, 285868032);
	assert_int_equal(m.ram_remaining, 41750528);
	assert_int_equal(m.ram_transferred, 25165824);
	assert_int_equal(m.dirty_pages_rate, 120);
	assert_int_equal(m.dirty_sync_count, 3);
	assert_int_equal(m.page_size, 4096);
	assert_true(m.mbps > 134.27 && m.mbps < 134.29);
	assert_int_equal(qmp_parse_params(params, strlen(params), &m), 0);
	assert_true(m.have_params);
	assert_int_equal(m.downtime_limit_ms, 250);
	assert_int_equal(m.max_bandwidth, 16777216);
	assert_int_equal(m.avail_switchover_bandwidth, 0);

	/* no migration ever: {} */
	memset(&m, 0, sizeof(m));
	assert_int_equal(qmp_parse_migrate("{}", 2, &m), 0);
	assert_string_equal(m.status, "none");
	assert_false(m.have_ram);
	assert_int_equal(qmp_parse_migrate("[1]", 3, &m), -EINVAL);
	assert_int_equal(qmp_parse_migrate("{\"status\"", 9, &m), -EINVAL);
}

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void against_fake_qemu(void **state)
{
	struct fake *f = fake_start(FAKE_QMP);
	struct qmp_migrate m = { 0 };
	struct qmp_client *c;
	char err[256] = "";
	bool usage = true;
	uint64_t t0, t1;

	(void)state;
	c = qmp_client_open(f->path, 2000, err, sizeof(err), &usage);
	assert_non_null(c);
	assert_false(usage);
	/* the fake runs in this process: SO_PEERCRED says so */
	assert_int_equal(qmp_client_pid(c), (uint32_t)getpid());
	assert_false(qmp_client_sample(c, &m));
	t0 = mono_ns();
	assert_int_equal(qmp_client_poll_once(c, 2000), 0);
	assert_true(qmp_client_sample(c, &m));
	assert_int_equal(m.seq, 1);
	assert_int_equal(m.pid, (uint32_t)getpid());
	assert_string_equal(m.status, "active");
	assert_int_equal(m.ram_remaining, 41750528);
	assert_int_equal(m.dirty_sync_count, 3);
	assert_int_equal(m.downtime_limit_ms, 250);
	assert_int_equal(m.max_bandwidth, 16777216);
	t1 = mono_ns();
	assert_int_equal(qmp_client_poll_once(c, 2000), 0);
	assert_true(qmp_client_sample(c, &m));
	assert_int_equal(m.seq, 2);
	/* as of an instant: the sample then, not the latest */
	assert_false(qmp_client_sample_at(c, t0, &m));
	assert_true(qmp_client_sample_at(c, t1, &m));
	assert_int_equal(m.seq, 1);
	assert_true(m.ts_ns <= t1);
	assert_true(qmp_client_sample_at(c, mono_ns(), &m));
	assert_int_equal(m.seq, 2);
	qmp_client_error(c, err, sizeof(err));
	assert_string_equal(err, "");
	qmp_client_close(c);
	fake_stop(f);
}

static void refuses_other_protocols(void **state)
{
	struct fake *f = fake_start(FAKE_SSH);
	struct qmp_client *c;
	char err[256] = "";
	bool usage = false;

	(void)state;
	c = qmp_client_open(f->path, 2000, err, sizeof(err), &usage);
	assert_null(c);
	assert_true(usage);
	assert_non_null(strstr(err, "is not a QMP socket (its first line is not JSON)"));
	fake_stop(f);

	/* one that accepts and says nothing */
	f = fake_start(FAKE_SILENT);
	c = qmp_client_open(f->path, 200, err, sizeof(err), &usage);
	assert_null(c);
	assert_true(usage);
	assert_non_null(strstr(err, "is not a QMP socket (it sent no greeting within 200 ms)"));
	fake_stop(f);

	/* nobody there */
	c = qmp_client_open("/nonexistent/qmp.sock", 200, err, sizeof(err), &usage);
	assert_null(c);
	assert_false(usage);
	assert_non_null(strstr(err, "cannot connect: No such file or directory"));
}

/*
 * The command line: iovatop --qmp on a socket that speaks SSH says so in
 * one sentence and exits 2, before it goes near the kernel.
 */
static void cli_refuses_non_qmp(void **state)
{
	const char *bin = getenv("IOVATOP");
	struct fake *f = fake_start(FAKE_SSH);
	char cmd[1024], out[2048], want[512];
	size_t n;
	FILE *p;
	int status;

	(void)state;
	if (!bin)
		fail_msg("IOVATOP is not set; run this test through make check");
	snprintf(cmd, sizeof(cmd), "%s -b --qmp %s 1 1 2>&1", bin, f->path);
	p = popen(cmd, "r");
	assert_non_null(p);
	n = fread(out, 1, sizeof(out) - 1, p);
	out[n] = '\0';
	status = pclose(p);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 2);
	snprintf(want, sizeof(want),
		 "iovatop: --qmp %s is not a QMP socket (its first line is not JSON); give the socket of QEMU's -qmp option.\n",
		 f->path);
	assert_string_equal(out, want);
	fake_stop(f);

	/* record --qmp the same, and before it creates its trace */
	f = fake_start(FAKE_SSH);
	snprintf(cmd, sizeof(cmd), "%s record -o %s.trace --qmp %s 2>&1; echo \"exit $?\"; test ! -e %s.trace",
		 bin, f->path, f->path, f->path);
	p = popen(cmd, "r");
	assert_non_null(p);
	n = fread(out, 1, sizeof(out) - 1, p);
	out[n] = '\0';
	status = pclose(p);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);	/* no trace left behind */
	snprintf(want, sizeof(want),
		 "iovatop record: --qmp %s is not a QMP socket (its first line is not JSON); give the socket of QEMU's -qmp option.\nexit 2\n",
		 f->path);
	assert_string_equal(out, want);
	fake_stop(f);
}

static void stalled_qemu_never_blocks(void **state)
{
	struct fake *f = fake_start(FAKE_STALL);
	struct qmp_migrate m;
	struct qmp_client *c;
	char err[256] = "";
	bool usage;
	int i;

	(void)state;
	c = qmp_client_open(f->path, 2000, err, sizeof(err), &usage);
	assert_non_null(c);
	assert_int_equal(qmp_client_start(c, 50, 200), 0);
	/*
	 * The fake holds its reply until the test releases it below, after
	 * these calls return: were they to wait for QEMU, the test would hang
	 * (and run-unit.sh's timeout fail it).
	 */
	while (!__atomic_load_n(&f->queries, __ATOMIC_SEQ_CST))
		usleep(1000);
	for (i = 0; i < 100; i++)
		assert_false(qmp_client_sample(c, &m));
	/* the thread's own timeout says what happened */
	for (i = 0; i < 400; i++) {
		qmp_client_error(c, err, sizeof(err));
		if (err[0])
			break;
		usleep(10000);
	}
	assert_string_equal(err, "QEMU did not answer in time");
	sem_post(&f->release);
	qmp_client_close(c);
	fake_stop(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(parse_reply),
		cmocka_unit_test(against_fake_qemu),
		cmocka_unit_test(refuses_other_protocols),
		cmocka_unit_test(cli_refuses_non_qmp),
		cmocka_unit_test(stalled_qemu_never_blocks),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
