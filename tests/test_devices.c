// SPDX-License-Identifier: GPL-2.0
/*
 * test_devices.c - a trace naming 40k devices reports, through the real
 * binary ($IOVATOP, set by make check), in linear time (the timing is in
 * bench/bench_devices.c, not here); one naming more devices than the model
 * keeps (MODEL_MAX_DEVICES) is refused by report and replay with one
 * sentence. Its own program: under a loaded machine the two large traces
 * take a while, and each test program has its own time limit.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "model.h"
#include "synth_devices.h"
#include "test_util.h"

static char tmpdir[] = "/tmp/iovatop-test-devices-XXXXXX";
static const char *bin;

static const char *tpath(const char *name)
{
	static char p[4][300];
	static int k;

	k = (k + 1) % 4;
	snprintf(p[k], sizeof(p[k]), "%s/%s", tmpdir, name);
	return p[k];
}

/* Run a shell command line; stdout to OUT, stderr to ERR; its exit status. */
static int sh(const char *fmt, ...)
{
	char cmd[2048], full[2400];
	va_list ap;
	int rc;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	snprintf(full, sizeof(full), "%s >%s 2>%s", cmd, tpath("out"), tpath("err"));
	rc = system(full);
	if (!WIFEXITED(rc))
		fail_msg("%s: did not exit (status 0x%x)", cmd, rc);
	return WEXITSTATUS(rc);
}

static char *slurp_out(void) { return tu_slurp(tpath("out"), NULL); }
static char *slurp_err(void) { return tu_slurp(tpath("err"), NULL); }

static void test_many_devices(void **state)
{
	char err[256], *out, *e;

	(void)state;
	/* far more than any host, and still read in seconds */
	if (synth_devices_trace(tpath("40k.trace"), 40000, false, err, sizeof(err)))
		fail_msg("%s", err);
	assert_int_equal(sh("%s report --format csv %s", bin, tpath("40k.trace")), 0);
	out = slurp_out();
	assert_int_equal(tu_lines(out), 1 + 40000);
	free(out);
	unlink(tpath("40k.trace"));

	/* a REPORT_BEGIN names a device: that is all it takes */
	if (synth_devices_trace(tpath("too-many.trace"), MODEL_MAX_DEVICES + 1,
				true, err, sizeof(err)))
		fail_msg("%s", err);
	assert_int_equal(sh("%s report %s", bin, tpath("too-many.trace")), 1);
	e = slurp_err();
	if (tu_lines(e) != 1 || !strstr(e, "more than 65536 devices"))
		fail_msg("report on too many devices said: %s", e);
	free(e);
	assert_int_equal(sh("%s replay -b %s", bin, tpath("too-many.trace")), 1);
	e = slurp_err();
	if (tu_lines(e) != 1 || !strstr(e, "more than 65536 devices"))
		fail_msg("replay on too many devices said: %s", e);
	free(e);
	unlink(tpath("too-many.trace"));
}

static int setup(void **state)
{
	(void)state;
	bin = getenv("IOVATOP");
	if (!bin || !mkdtemp(tmpdir))
		return -1;
	return 0;
}

static int teardown(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf %s", tmpdir);
	return system(cmd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_many_devices),
	};

	if (!getenv("IOVATOP")) {
		fprintf(stderr, "test_devices: IOVATOP is not set: run the tests with make check\n");
		return 1;
	}
	return cmocka_run_group_tests(tests, setup, teardown);
}
