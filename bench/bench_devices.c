// SPDX-License-Identifier: GPL-2.0
/*
 * bench_devices.c - iovatop report on a trace that names many devices (a
 * crafted file can name tens of thousands): the wall time of the whole
 * command for 1k, 10k and 40k devices of one report each. Device lookup in
 * the model and the report is hashed, so the time grows with the records;
 * a linear lookup made 40k devices take minutes. No baseline to beat but
 * the 1k figure: 40 times the devices should cost about 40 times as much.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench.h"
#include "commands.h"
#include "../tests/synth_devices.h"

static double run_report(const char *path, const char *fmt)
{
	char *argv[] = { "report", "--format", (char *)fmt, (char *)path, NULL };
	int so = dup(1), null = open("/dev/null", O_WRONLY), ret;
	double t;

	fflush(stdout);
	dup2(null, 1);
	t = now_s();
	ret = cmd_report(4, argv);
	t = now_s() - t;
	fflush(stdout);
	dup2(so, 1);
	close(so);
	close(null);
	return ret ? -1 : t;
}

int main(void)
{
	static const uint32_t sizes[] = { 1000, 10000, 40000 };
	char dir[] = "/tmp/iovatop-bench-devices-XXXXXX", path[64], err[256];
	double base = 0;
	unsigned int k;

	if (!mkdtemp(dir)) {
		perror("bench_devices: mkdtemp");
		return 1;
	}
	snprintf(path, sizeof(path), "%s/devices.trace", dir);
	printf("report on a trace of N devices, one report each (wall time):\n");
	for (k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++) {
		double text, csv;
		long size;
		FILE *f;

		if (synth_devices_trace(path, sizes[k], false, err, sizeof(err))) {
			fprintf(stderr, "bench_devices: %s\n", err);
			return 1;
		}
		f = fopen(path, "rb");
		fseek(f, 0, SEEK_END);
		size = ftell(f);
		fclose(f);
		text = run_report(path, "text");
		csv = run_report(path, "csv");
		if (text < 0 || csv < 0) {
			fprintf(stderr, "bench_devices: report failed on %u devices\n", sizes[k]);
			return 1;
		}
		if (!k)
			base = text / sizes[k];
		printf("  %6u devices, %7ld bytes: text %8.3f s, csv %8.3f s (%.1fx the per-device cost of 1k)\n",
		       sizes[k], size, text, csv, base > 0 ? text / sizes[k] / base : 0);
		fflush(stdout);
	}
	unlink(path);
	rmdir(dir);
	return 0;
}
