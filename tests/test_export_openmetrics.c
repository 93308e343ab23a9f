// SPDX-License-Identifier: GPL-2.0
/*
 * test_export_openmetrics.c - the /metrics exposition from a snapshot made
 * by hand: names and types in both text formats, label escaping of hostile
 * comm bytes, the expiry and the cap that bound cardinality, content
 * negotiation, the listen address, and the server itself on loopback
 * (status, Content-Type by Accept, a port in use), and the forecast's
 * gauges against a case computed by hand. promtool and a real Prometheus
 * check the same text in tests/prometheus.sh.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "export_openmetrics.h"
#include "forecast_session.h"

#define S	1000000000ull

static struct model_row rows[OM_MAX_DEVICES + 8];

static void row(struct model_row *r, const char *name, uint32_t path,
		uint32_t pid, const char *comm, uint64_t bytes, uint64_t last_ts)
{
	memset(r, 0, sizeof(*r));
	snprintf(r->name, sizeof(r->name), "%s", name);
	r->path = path;
	r->pid = pid;
	memcpy(r->comm, comm, strlen(comm) < IOVA_COMM_LEN ? strlen(comm) + 1 :
							     IOVA_COMM_LEN);
	r->dirty_bytes = bytes;
	r->dirty_pages = bytes / 4096;
	r->page_size = 4096;
	r->reports = 3;
	r->last_ts_ns = last_ts;
}

static char *render_fc(const struct model_snapshot *snap, bool om, unsigned int *ndev,
		       const struct forecast_session *fs)
{
	struct om_meta meta = { .source = "replay", .kernel = "6.12.117",
				.probe = "fentry", .layout = "6.11", .forecasts = fs };
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	unsigned int n;

	assert_non_null(f);
	n = om_write(f, &meta, snap, om);
	assert_int_equal(fclose(f), 0);
	if (ndev)
		*ndev = n;
	return buf;
}

static char *render(const struct model_snapshot *snap, bool om, unsigned int *ndev)
{
	return render_fc(snap, om, ndev, NULL);
}

static void test_names_and_types(void **state)
{
	struct model_snapshot snap = { .now_ns = 100 * S, .rows = rows, .nrows = 2,
				       .records = 1234, .lost = 5 };
	char *om, *prom;

	(void)state;
	row(&rows[0], "vfio 0000:3b:00.2", IOVA_PATH_VFIO, 83, "qemu-vm1",
	    629145600, 99 * S);
	row(&rows[1], "iommufd hwpt 6", IOVA_PATH_IOMMUFD, 87, "qemu-vm6",
	    201326592, 98 * S);
	om = render(&snap, true, NULL);
	prom = render(&snap, false, NULL);

	/* OpenMetrics: the family without _total, a unit line, # EOF last */
	assert_non_null(strstr(om, "# TYPE iovatop_dirty_bytes counter\n"
				   "# UNIT iovatop_dirty_bytes bytes\n"));
	assert_non_null(strstr(om, "\niovatop_dirty_bytes_total{path=\"vfio\",device=\"0000:3b:00.2\",pid=\"83\",comm=\"qemu-vm1\"} 629145600\n"));
	assert_non_null(strstr(om, "\niovatop_dirty_bytes_total{path=\"iommufd\",device=\"hwpt 6\",pid=\"87\",comm=\"qemu-vm6\"} 201326592\n"));
	assert_non_null(strstr(om, "# TYPE iovatop_source info\n"));
	assert_non_null(strstr(om, "\niovatop_lost_records_total 5\n"));
	assert_non_null(strstr(om, "\niovatop_records_total 1234\n"));
	assert_int_equal(strcmp(om + strlen(om) - 6, "# EOF\n"), 0);

	/* Prometheus text: the family as its samples, no unit, no EOF */
	assert_non_null(strstr(prom, "# TYPE iovatop_dirty_bytes_total counter\n"));
	assert_null(strstr(prom, "# UNIT"));
	assert_null(strstr(prom, "# EOF"));
	assert_non_null(strstr(prom, "# TYPE iovatop_source_info gauge\n"));
	assert_non_null(strstr(prom, "\niovatop_dirty_pages_total{path=\"vfio\",device=\"0000:3b:00.2\",pid=\"83\",comm=\"qemu-vm1\"} 153600\n"));
	free(om);
	free(prom);
}

/* A device that finished iterations: its last one's bytes and rate. */
static void iter(struct model_row *r, uint64_t iters, uint64_t bytes, double rate,
		 uint64_t end_ns)
{
	r->iterations = iters;
	r->dirty_bytes_iter = bytes;
	r->dirty_pages_iter = bytes / 4096;
	r->iter_bytes_per_s = rate;
	r->iter_end_ns = end_ns;
}

/*
 * --link-rate 1MB/s, QEMU's default 300 ms: the threshold is 300000 bytes.
 * VM 83: A dirtied 800000 bytes at 900000 B/s, B 200000 at 200000 B/s:
 * pending 1000000, 1100000 B/s against 1000000: it cannot converge. The
 * blame takes A (0.9 MB/s); then 0.2 MB/s is left, below the 960.7 KB/s
 * (1 MB/s x (0.3 / 1)^(1/30)) that would shrink pending to the threshold
 * in 30 passes, so B is not named. VM 84: 100000 bytes pending, below the
 * threshold: it converges now. No QEMU: no QEMU rate, no QEMU share.
 */
static void test_forecast(void **state)
{
	struct model_snapshot snap = { .now_ns = 100 * S, .rows = rows, .nrows = 3 };
	struct forecast_args a = { .opts = { .link_bytes_s = 1e6 }, .given = true };
	struct forecast_session *fs;
	char *om, *prom;
	int code;

	(void)state;
	row(&rows[0], "vfio 0000:3b:00.2", IOVA_PATH_VFIO, 83, "qemu-vm1", 1 << 20, 99 * S);
	iter(&rows[0], 3, 800000, 900000, 99 * S);
	row(&rows[1], "vfio 0000:3b:00.3", IOVA_PATH_VFIO, 83, "qemu-vm1", 1 << 20, 99 * S);
	iter(&rows[1], 3, 200000, 200000, 99 * S);
	row(&rows[2], "vfio 0000:af:00.1", IOVA_PATH_VFIO, 84, "qemu-vm2", 1 << 20, 99 * S);
	iter(&rows[2], 5, 100000, 50000, 99 * S);
	fs = forecast_session_open(&a, S, &code);
	assert_non_null(fs);
	forecast_session_update(fs, &snap);
	assert_int_equal(forecast_session_count(fs), 2);
	om = render_fc(&snap, true, NULL, fs);
	prom = render_fc(&snap, false, NULL, fs);

#define DEV(d, p, c) "{path=\"vfio\",device=\"" d "\",pid=\"" p "\",comm=\"" c "\"}"
	assert_non_null(strstr(om, "# TYPE iovatop_forecast_converges gauge\n"));
	assert_non_null(strstr(om, "\niovatop_forecast_converges{pid=\"83\"} 0\n"));
	assert_non_null(strstr(om, "\niovatop_forecast_converges{pid=\"84\"} 1\n"));
	assert_non_null(strstr(om, "\niovatop_forecast_iteration{pid=\"83\"} 3\n"));
	assert_non_null(strstr(om, "\niovatop_forecast_iterations_left{pid=\"84\"} 0\n"));
	assert_null(strstr(om, "\niovatop_forecast_iterations_left{pid=\"83\"}"));
	assert_non_null(strstr(om, "\niovatop_forecast_bandwidth_bytes_per_second{pid=\"83\"} 1000000\n"));
	assert_non_null(strstr(om, "# UNIT iovatop_forecast_downtime_limit_seconds seconds\n"));
	assert_non_null(strstr(om, "\niovatop_forecast_downtime_limit_seconds{pid=\"83\"} 0.3\n"));
	assert_non_null(strstr(om, "\niovatop_forecast_threshold_bytes{pid=\"83\"} 300000\n"));
	assert_non_null(strstr(om, "\niovatop_forecast_pending_bytes{pid=\"83\"} 1000000\n"));
	assert_non_null(strstr(om, "\niovatop_forecast_pending_bytes{pid=\"84\"} 100000\n"));
	assert_non_null(strstr(om, "\niovatop_forecast_dirty_bytes_per_second{pid=\"83\"} 1100000\n"));
	assert_null(strstr(om, "\niovatop_forecast_qemu_dirty_bytes_per_second{"));
	assert_non_null(strstr(om, "\niovatop_forecast_needed_bandwidth_bytes_per_second{pid=\"83\"} "));
	assert_null(strstr(om, "\niovatop_forecast_needed_bandwidth_bytes_per_second{pid=\"84\"}"));
	assert_non_null(strstr(om, "\niovatop_forecast_device_dirty_bytes_per_second"
				   DEV("0000:3b:00.2", "83", "qemu-vm1") " 900000\n"));
	assert_non_null(strstr(om, "# UNIT iovatop_forecast_device_link_share_ratio ratio\n"));
	assert_non_null(strstr(om, "\niovatop_forecast_device_link_share_ratio"
				   DEV("0000:3b:00.2", "83", "qemu-vm1") " 0.9\n"));
	assert_non_null(strstr(om, "\niovatop_forecast_device_link_share_ratio"
				   DEV("0000:3b:00.3", "83", "qemu-vm1") " 0.2\n"));
	assert_non_null(strstr(om, "\niovatop_forecast_device_link_share_ratio"
				   DEV("0000:af:00.1", "84", "qemu-vm2") " 0.05\n"));
	assert_null(strstr(om, "\niovatop_forecast_device_qemu_share_ratio{"));
	assert_non_null(strstr(om, "\niovatop_forecast_device_blocks"
				   DEV("0000:3b:00.2", "83", "qemu-vm1") " 1\n"));
	assert_non_null(strstr(om, "\niovatop_forecast_device_blocks"
				   DEV("0000:3b:00.3", "83", "qemu-vm1") " 0\n"));
	assert_non_null(strstr(om, "\niovatop_forecast_device_blocks"
				   DEV("0000:af:00.1", "84", "qemu-vm2") " 0\n"));
	assert_int_equal(strcmp(om + strlen(om) - 6, "# EOF\n"), 0);
	/* the same samples in the Prometheus text, no unit lines */
	assert_non_null(strstr(prom, "\niovatop_forecast_converges{pid=\"83\"} 0\n"));
	assert_non_null(strstr(prom, "\niovatop_forecast_device_blocks"
				     DEV("0000:3b:00.2", "83", "qemu-vm1") " 1\n"));
	assert_null(strstr(prom, "# UNIT"));
#undef DEV
	free(om);
	free(prom);

	/* without a forecast, no forecast families at all */
	om = render(&snap, true, NULL);
	assert_null(strstr(om, "iovatop_forecast_"));
	free(om);
	forecast_session_close(fs);
}

static void test_label_escaping(void **state)
{
	struct model_snapshot snap = { .now_ns = 10 * S, .rows = rows, .nrows = 1 };
	char *prom;

	(void)state;
	/* comm is whatever the VMM calls itself: quotes, a backslash, a
	 * newline, a tab and bytes that are not UTF-8 */
	row(&rows[0], "vfio 0000:00:01.0", IOVA_PATH_VFIO, 1, "a\"b\\c\nd\te\xff", 4096,
	    10 * S);
	prom = render(&snap, false, NULL);
	assert_non_null(strstr(prom, "comm=\"a\\\"b\\\\c\\nd?e?\"} 4096\n"));
	free(prom);
}

static void test_expiry_and_unreported(void **state)
{
	struct model_snapshot snap = { .now_ns = 1000 * S, .rows = rows, .nrows = 3 };
	unsigned int n;
	char *prom;

	(void)state;
	row(&rows[0], "vfio 0000:00:01.0", IOVA_PATH_VFIO, 1, "fresh", 4096,
	    (uint64_t)(1000 - OM_EXPIRE_S) * S);
	row(&rows[1], "vfio 0000:00:02.0", IOVA_PATH_VFIO, 2, "gone", 4096,
	    (uint64_t)(1000 - OM_EXPIRE_S) * S - 1);
	row(&rows[2], "iommufd hwpt 9", IOVA_PATH_IOMMUFD, 0, "", 0, 999 * S);
	rows[2].reports = 0;	/* seen, nothing finished: no pid yet */
	prom = render(&snap, false, &n);
	assert_int_equal(n, 1);
	assert_non_null(strstr(prom, "comm=\"fresh\""));
	assert_null(strstr(prom, "comm=\"gone\""));
	assert_null(strstr(prom, "hwpt 9"));
	assert_non_null(strstr(prom, "\niovatop_devices 1\n"));
	assert_non_null(strstr(prom, "\niovatop_devices_not_exported 2\n"));
	free(prom);
}

static void test_cap(void **state)
{
	struct model_snapshot snap = { .now_ns = 10 * S, .rows = rows,
				       .nrows = OM_MAX_DEVICES + 8 };
	char name[64], *prom, *p;
	unsigned int i, n, samples = 0;

	(void)state;
	for (i = 0; i < snap.nrows; i++) {
		snprintf(name, sizeof(name), "iommufd hwpt %u", i);
		row(&rows[i], name, IOVA_PATH_IOMMUFD, 7, "q", 4096, 10 * S);
	}
	prom = render(&snap, false, &n);
	assert_int_equal(n, OM_MAX_DEVICES);
	for (p = prom; (p = strstr(p, "\niovatop_dirty_bytes_total{")); p++)
		samples++;
	assert_int_equal(samples, OM_MAX_DEVICES);
	/* the snapshot's order decides: the first ones stay */
	assert_non_null(strstr(prom, "device=\"hwpt 0\""));
	assert_null(strstr(prom, "device=\"hwpt 1024\""));
	free(prom);
}

static void test_negotiation(void **state)
{
	(void)state;
	/* what Prometheus 2.42 sends */
	assert_true(om_accepts_openmetrics(
		"application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1"));
	assert_false(om_accepts_openmetrics(NULL));
	assert_false(om_accepts_openmetrics("*/*"));
	assert_false(om_accepts_openmetrics("text/plain"));
	assert_false(om_accepts_openmetrics("text/plain, application/openmetrics-text"));
	assert_false(om_accepts_openmetrics("application/openmetrics-text;q=0.4, text/plain;q=0.5"));
	assert_true(om_accepts_openmetrics("application/openmetrics-text"));
	assert_true(om_accepts_openmetrics("text/plain;q=0.2, application/openmetrics-text; version=1.0.0"));
	assert_false(om_accepts_openmetrics("application/openmetrics-text;q=0"));
}

static void test_listen_spec(void **state)
{
	char host[96], port[8], err[256];

	(void)state;
	assert_int_equal(om_parse_listen("9877", host, sizeof(host), port,
					 sizeof(port), err, sizeof(err)), 0);
	assert_string_equal(host, "127.0.0.1");
	assert_string_equal(port, "9877");
	assert_int_equal(om_parse_listen(":80", host, sizeof(host), port,
					 sizeof(port), err, sizeof(err)), 0);
	assert_string_equal(host, "127.0.0.1");
	assert_int_equal(om_parse_listen("0.0.0.0:9100", host, sizeof(host), port,
					 sizeof(port), err, sizeof(err)), 0);
	assert_string_equal(host, "0.0.0.0");
	assert_int_equal(om_parse_listen("[::1]:9100", host, sizeof(host), port,
					 sizeof(port), err, sizeof(err)), 0);
	assert_string_equal(host, "::1");
	assert_int_equal(om_parse_listen("::1:9100", host, sizeof(host), port,
					 sizeof(port), err, sizeof(err)), -1);
	assert_int_equal(om_parse_listen("host:", host, sizeof(host), port,
					 sizeof(port), err, sizeof(err)), -1);
	assert_int_equal(om_parse_listen("host:65536", host, sizeof(host), port,
					 sizeof(port), err, sizeof(err)), -1);
	assert_int_equal(om_parse_listen("[::1", host, sizeof(host), port,
					 sizeof(port), err, sizeof(err)), -1);
	assert_non_null(strstr(err, "["));
}

/* A port nothing listens on right now. */
static int free_port(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t len = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM, 0), port;

	assert_true(fd >= 0);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &len), 0);
	port = ntohs(a.sin_port);
	close(fd);
	return port;
}

/* One HTTP/1.0 request; the whole answer, headers and body. */
static char *get(int port, const char *path, const char *accept)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	static char buf[1 << 16];
	char req[512];
	size_t n = 0;
	ssize_t r;
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	assert_true(fd >= 0);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(connect(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	snprintf(req, sizeof(req), "GET %s HTTP/1.0\r\n%s%s%sHost: localhost\r\n\r\n",
		 path, accept ? "Accept: " : "", accept ? accept : "", accept ? "\r\n" : "");
	assert_int_equal(write(fd, req, strlen(req)), (ssize_t)strlen(req));
	while ((r = read(fd, buf + n, sizeof(buf) - 1 - n)) > 0)
		n += (size_t)r;
	close(fd);
	buf[n] = '\0';
	return buf;
}

static void test_server(void **state)
{
	struct om_meta meta = { .source = "replay" };
	struct model_snapshot snap = { .now_ns = 10 * S, .rows = rows, .nrows = 1 };
	struct om_server *s, *s2;
	char spec[32], err[256], *ans;
	int port = free_port();

	(void)state;
	snprintf(spec, sizeof(spec), "127.0.0.1:%d", port);
	s = om_server_start(spec, &meta, err, sizeof(err));
	assert_non_null(s);
	assert_string_equal(om_server_addr(s), spec);

	/* before the first snapshot: the tool's own figures, no device */
	ans = get(port, "/metrics", NULL);
	assert_non_null(strstr(ans, " 200 OK\r\n"));
	assert_non_null(strstr(ans, "iovatop_devices 0\n"));

	row(&rows[0], "vfio 0000:3b:00.2", IOVA_PATH_VFIO, 83, "qemu-vm1", 8192, 9 * S);
	om_server_publish(s, &snap);
	ans = get(port, "/metrics", NULL);
	assert_non_null(strstr(ans, "Content-Type: " OM_CONTENT_TYPE_PROMETHEUS));
	assert_non_null(strstr(ans, "iovatop_dirty_bytes_total{path=\"vfio\",device=\"0000:3b:00.2\",pid=\"83\",comm=\"qemu-vm1\"} 8192\n"));
	assert_null(strstr(ans, "# EOF"));
	ans = get(port, "/metrics", "application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5");
	assert_non_null(strstr(ans, "Content-Type: " OM_CONTENT_TYPE_OPENMETRICS));
	assert_non_null(strstr(ans, "\n# EOF\n"));
	ans = get(port, "/", NULL);
	assert_non_null(strstr(ans, " 404 Not Found\r\n"));
	assert_int_equal(om_server_scrapes(s), 3);

	/* the same port again: one sentence that says so */
	s2 = om_server_start(spec, &meta, err, sizeof(err));
	assert_null(s2);
	assert_non_null(strstr(err, "is in use by another program"));
	om_server_stop(s);
}

/*
 * Scrapers that connect and then say nothing, as many as the server takes:
 * the loop's publish must still go through (it never waits for the
 * server's thread but for a copy under its lock), and a scrape after they
 * go works. alarm() turns a hang into a failure.
 */
static void test_idle_scrapers(void **state)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	struct om_meta meta = { .source = "replay" };
	struct model_snapshot snap = { .now_ns = 10 * S, .rows = rows, .nrows = 1 };
	int fds[16], port = free_port(), i;
	struct om_server *s;
	char spec[32], err[256];

	(void)state;
	snprintf(spec, sizeof(spec), "127.0.0.1:%d", port);
	s = om_server_start(spec, &meta, err, sizeof(err));
	assert_non_null(s);
	a.sin_port = htons((uint16_t)port);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	for (i = 0; i < 16; i++) {
		fds[i] = socket(AF_INET, SOCK_STREAM, 0);
		assert_true(fds[i] >= 0);
		assert_int_equal(connect(fds[i], (struct sockaddr *)&a, sizeof(a)), 0);
		/* half a request line, then nothing */
		assert_int_equal(write(fds[i], "GET /met", 8), 8);
	}
	alarm(20);
	for (i = 0; i < 100; i++) {
		row(&rows[0], "vfio 0000:3b:00.2", IOVA_PATH_VFIO, 83, "qemu-vm1",
		    4096 * (uint64_t)(i + 1), 9 * S);
		om_server_publish(s, &snap);
	}
	for (i = 0; i < 16; i++)
		close(fds[i]);
	assert_non_null(strstr(get(port, "/metrics", NULL), "comm=\"qemu-vm1\"} 409600\n"));
	alarm(0);
	om_server_stop(s);
}

/*
 * The live source's ring: its size and fill as gauges in base units, the
 * peak apart from the fill now; nothing at all without a ring (replay),
 * and the figures of each publish, not of the start.
 */
static void test_ring(void **state)
{
	struct ring_fill rf = { .size_bytes = 4 << 20, .now_bytes = 1 << 20,
				.peak_bytes = 3 << 20 };
	struct om_meta meta = { .source = "live", .ring = &rf };
	struct model_snapshot snap = { .now_ns = 10 * S };
	char *om, *prom, spec[32], err[256], *ans;
	struct om_server *s;
	int port;
	char *buf = NULL;
	size_t len = 0;
	FILE *f;

	(void)state;
	f = open_memstream(&buf, &len);
	assert_non_null(f);
	om_write(f, &meta, &snap, true);
	assert_int_equal(fclose(f), 0);
	om = buf;
	buf = NULL;
	f = open_memstream(&buf, &len);
	assert_non_null(f);
	om_write(f, &meta, &snap, false);
	assert_int_equal(fclose(f), 0);
	prom = buf;
	assert_non_null(strstr(om, "# TYPE iovatop_ring_size_bytes gauge\n"
				   "# UNIT iovatop_ring_size_bytes bytes\n"
				   "iovatop_ring_size_bytes 4194304\n"));
	assert_non_null(strstr(om, "# TYPE iovatop_ring_fill_ratio gauge\n"
				   "# UNIT iovatop_ring_fill_ratio ratio\n"
				   "iovatop_ring_fill_ratio 0.25\n"));
	assert_non_null(strstr(om, "# TYPE iovatop_ring_fill_peak_ratio gauge\n"
				   "# UNIT iovatop_ring_fill_peak_ratio ratio\n"
				   "iovatop_ring_fill_peak_ratio 0.75\n"));
	assert_non_null(strstr(prom, "# TYPE iovatop_ring_fill_peak_ratio gauge\n"
				     "iovatop_ring_fill_peak_ratio 0.75\n"));
	assert_null(strstr(prom, "# UNIT"));
	free(om);
	free(prom);

	/* replay: no ring, no iovatop_ring_* (absent, never NaN or 0) */
	om = render(&snap, true, NULL);
	assert_null(strstr(om, "iovatop_ring"));
	free(om);
	rf.size_bytes = 0;
	buf = NULL;
	f = open_memstream(&buf, &len);
	assert_non_null(f);
	om_write(f, &meta, &snap, true);
	assert_int_equal(fclose(f), 0);
	assert_null(strstr(buf, "iovatop_ring"));
	free(buf);

	/* the server reads the ring at each publish */
	rf = (struct ring_fill){ .size_bytes = 4096, .now_bytes = 0, .peak_bytes = 0 };
	port = free_port();
	snprintf(spec, sizeof(spec), "127.0.0.1:%d", port);
	s = om_server_start(spec, &meta, err, sizeof(err));
	assert_non_null(s);
	om_server_publish(s, &snap);
	ans = get(port, "/metrics", NULL);
	assert_non_null(strstr(ans, "\niovatop_ring_fill_peak_ratio 0\n"));
	rf.now_bytes = 1024;
	rf.peak_bytes = 4096;
	om_server_publish(s, &snap);
	ans = get(port, "/metrics", NULL);
	assert_non_null(strstr(ans, "\niovatop_ring_fill_ratio 0.25\n"));
	assert_non_null(strstr(ans, "\niovatop_ring_fill_peak_ratio 1\n"));
	assert_non_null(strstr(ans, "\niovatop_ring_size_bytes 4096\n"));
	om_server_stop(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_names_and_types),
		cmocka_unit_test(test_forecast),
		cmocka_unit_test(test_label_escaping),
		cmocka_unit_test(test_expiry_and_unreported),
		cmocka_unit_test(test_cap),
		cmocka_unit_test(test_negotiation),
		cmocka_unit_test(test_listen_spec),
		cmocka_unit_test(test_server),
		cmocka_unit_test(test_idle_scrapers),
		cmocka_unit_test(test_ring),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
