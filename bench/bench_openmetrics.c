// SPDX-License-Identifier: GPL-2.0
/*
 * bench_openmetrics.c - what --openmetrics costs: each interval the loop
 * renders the snapshot into both text formats (om_server_publish), and
 * each scrape the server's thread copies the text out over HTTP.
 *
 * One simulated second is one publish and one scrape, Prometheus' usual
 * interval being no shorter. The scrapes come from a child process over
 * loopback, so this process's CPU time (the loop and the server's thread,
 * CLOCK_PROCESS_CPUTIME_ID) is the endpoint's cost alone. Printed per
 * second as a share of a core, for 16 devices (a busy host) and for 1024
 * (the cap on exported devices), beside the target: under 1 % of a core.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench.h"
#include "export_openmetrics.h"

#define ROUNDS		2000
#define TARGET_PCT	1.0

static int free_port(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t len = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM, 0), port;

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)) ||
	    getsockname(fd, (struct sockaddr *)&a, &len))
		exit(1);
	port = ntohs(a.sin_port);
	close(fd);
	return port;
}

/* The child: a GET each time the parent writes a byte to the pipe. */
static void scraper(int port, int go, int done)
{
	static char buf[1 << 20];
	char c;

	while (read(go, &c, 1) == 1) {
		struct sockaddr_in a = { .sin_family = AF_INET,
					 .sin_port = htons((uint16_t)port) };
		static const char req[] = "GET /metrics HTTP/1.1\r\nHost: x\r\n"
			"Accept: application/openmetrics-text;version=1.0.0,text/plain;q=0.5\r\n"
			"Connection: close\r\n\r\n";
		int fd = socket(AF_INET, SOCK_STREAM, 0);
		ssize_t n;

		a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof(a)) ||
		    write(fd, req, sizeof(req) - 1) < 0)
			_exit(1);
		while ((n = read(fd, buf, sizeof(buf))) > 0)
			;
		close(fd);
		if (write(done, "x", 1) != 1)
			_exit(1);
	}
	_exit(0);
}

static int run(unsigned int ndev)
{
	static struct model_row rows[OM_MAX_DEVICES];
	struct om_meta meta = { .source = "bench", .kernel = "6.12", .probe = "fentry",
				.layout = "6.11" };
	struct model_snapshot snap = { .rows = rows, .nrows = ndev };
	struct om_server *s;
	char spec[32], err[256], c;
	int go[2], done[2], port = free_port(), i;
	double c0, c1, c2, pub = 0, scrape = 0;
	pid_t child;

	for (i = 0; i < (int)ndev; i++) {
		struct model_row *r = &rows[i];

		memset(r, 0, sizeof(*r));
		snprintf(r->name, sizeof(r->name), "vfio 0000:%02x:%02x.%d", i >> 5, i & 31, i & 7);
		r->path = IOVA_PATH_VFIO;
		r->pid = 1000 + (uint32_t)i;
		snprintf(r->comm, sizeof(r->comm), "qemu-vm%d", i);
		r->reports = 1;
	}
	snprintf(spec, sizeof(spec), "127.0.0.1:%d", port);
	s = om_server_start(spec, &meta, err, sizeof(err));
	if (!s || pipe(go) || pipe(done)) {
		fprintf(stderr, "bench_openmetrics: %s\n", s ? "pipe failed" : err);
		return 1;
	}
	child = fork();
	if (child == 0) {
		close(go[1]);
		close(done[0]);
		scraper(port, go[0], done[1]);
	}
	close(go[0]);
	close(done[1]);
	for (i = 0; i < ROUNDS; i++) {
		unsigned int k;

		/* a second's worth of change: every counter moves */
		snap.now_ns += 1000000000ull;
		for (k = 0; k < ndev; k++) {
			rows[k].reports += 3;
			rows[k].dirty_bytes += 123456789;
			rows[k].dirty_pages += 30141;
			rows[k].set_calls += 1000;
			rows[k].last_ts_ns = snap.now_ns;
		}
		c0 = cpu_s();
		om_server_publish(s, &snap);
		c1 = cpu_s();
		if (write(go[1], "x", 1) != 1 || read(done[0], &c, 1) != 1) {
			fprintf(stderr, "bench_openmetrics: the scraper died\n");
			return 1;
		}
		c2 = cpu_s();
		pub += c1 - c0;
		scrape += c2 - c1;
	}
	close(go[1]);
	waitpid(child, NULL, 0);
	printf("  %4u devices: publish %7.1f us, scrape %7.1f us per second: %.3f %% of a core (target < %.0f %%)%s\n",
	       ndev, pub / ROUNDS * 1e6, scrape / ROUNDS * 1e6,
	       (pub + scrape) / ROUNDS * 100, TARGET_PCT,
	       (pub + scrape) / ROUNDS * 100 < TARGET_PCT ? "" : "  OVER");
	om_server_stop(s);
	return 0;
}

int main(void)
{
	signal(SIGPIPE, SIG_IGN);
	printf("bench_openmetrics: the endpoint's CPU per second, one snapshot and one scrape a second\n");
	return run(16) || run(OM_MAX_DEVICES);
}
