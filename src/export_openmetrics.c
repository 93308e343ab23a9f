// SPDX-License-Identifier: GPL-2.0
/*
 * export_openmetrics.c - /metrics for Prometheus (docs/openmetrics.md).
 *
 * Names follow the Prometheus naming practices and OpenMetrics 1.0: one
 * iovatop_ prefix, base units in the name (bytes, seconds), counters end in
 * _total, identity in labels (path, device, pid, comm) and never values.
 * The same families come out in both text formats; they differ only where
 * the formats do (the counter family name, # UNIT, info, # EOF).
 *
 * The HTTP side is libmicrohttpd with its own polling thread. The socket is
 * bound here, not by the library, so that a port in use or an address that
 * is not ours gets a sentence of its own.
 */
#include <argp.h>
#include <errno.h>
#include <inttypes.h>
#include <microhttpd.h>
#include <netdb.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "export_openmetrics.h"
#include "forecast_session.h"

#define OM_CONN_LIMIT		16
#define OM_CONN_TIMEOUT_S	10

/* ---- the exposition ---------------------------------------------------- */

enum om_type { OM_COUNTER, OM_GAUGE, OM_INFO };

struct om_family {
	const char *name;	/* without _total or _info */
	enum om_type type;
	const char *unit;	/* the name's unit suffix, or NULL */
	const char *help;
};

static void family_head(FILE *f, const struct om_family *fam, bool om)
{
	const char *suffix = "";

	/*
	 * OpenMetrics names the family without _total and gives the unit a
	 * line; the Prometheus format names it as its samples are named.
	 */
	if (!om && fam->type == OM_COUNTER)
		suffix = "_total";
	if (!om && fam->type == OM_INFO)
		suffix = "_info";
	fprintf(f, "# HELP %s%s %s\n", fam->name, suffix, fam->help);
	fprintf(f, "# TYPE %s%s %s\n", fam->name, suffix,
		fam->type == OM_COUNTER ? "counter" :
		fam->type == OM_INFO && om ? "info" : "gauge");
	if (om && fam->unit)
		fprintf(f, "# UNIT %s %s\n", fam->name, fam->unit);
}

static const char *sample_suffix(const struct om_family *fam)
{
	return fam->type == OM_COUNTER ? "_total" :
	       fam->type == OM_INFO ? "_info" : "";
}

/*
 * A label value into out (NUL-terminated, returns its length): both
 * formats escape backslash, double quote and newline. comm and device
 * names are bytes chosen by whoever runs the VMM, and the formats want
 * UTF-8, so any other control byte and anything outside printable ASCII
 * becomes '?'.
 */
static size_t label_value(char *out, const char *s, size_t max)
{
	size_t i, n = 0;

	out[n++] = '"';
	for (i = 0; i < max && s[i]; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '\\' || c == '"') {
			out[n++] = '\\';
			out[n++] = (char)c;
		} else if (c == '\n') {
			out[n++] = '\\';
			out[n++] = 'n';
		} else {
			out[n++] = c < 0x20 || c >= 0x7f ? '?' : (char)c;
		}
	}
	out[n++] = '"';
	out[n] = '\0';
	return n;
}

/* Room for the labels of one device: every byte escaped at worst. */
#define OM_LABELS_LEN	(2 * (MODEL_NAME_LEN + IOVA_COMM_LEN + 32) + 64)

/* The device label: the model's name without its path, "0000:3b:00.2". */
static const char *device_label(const struct model_row *r)
{
	const char *p = model_path_name(r->path);
	size_t n = strlen(p);

	if (!strncmp(r->name, p, n) && r->name[n] == ' ')
		return r->name + n + 1;
	return r->name;
}

/* {path="vfio",device="0000:3b:00.2",pid="83",comm="qemu-vm1"} */
static void device_labels(char *out, const struct model_row *r)
{
	size_t n = 0;

	n += (size_t)sprintf(out + n, "{path=");
	n += label_value(out + n, model_path_name(r->path), 32);
	n += (size_t)sprintf(out + n, ",device=");
	n += label_value(out + n, device_label(r), MODEL_NAME_LEN);
	n += (size_t)sprintf(out + n, ",pid=\"%u\",comm=", r->pid);
	n += label_value(out + n, r->comm, IOVA_COMM_LEN);
	out[n++] = '}';
	out[n] = '\0';
}

/* Per device: one family, every exported device's sample of it. */
enum dev_metric {
	DM_DIRTY_BYTES,
	DM_DIRTY_PAGES,
	DM_REPORTS,
	DM_INCOMPLETE,
	DM_SET_CALLS,
	DM_ANOMALIES,
	DM_ITERATIONS,
	DM_LOST,
	DM_ITER_PAGES,
	DM_DIRTY_RATIO,
	DM_TRACKED,
	DM_PAGE_SIZE,
	DM_TREND,
	DM_N,
};

static const struct om_family dev_families[DM_N] = {
	[DM_DIRTY_BYTES] = { "iovatop_dirty_bytes", OM_COUNTER, "bytes",
		"Bytes reported dirty: set bits of each report's bitmap times its page size." },
	[DM_DIRTY_PAGES] = { "iovatop_dirty_pages", OM_COUNTER, NULL,
		"Pages reported dirty: set bits of each report's bitmap." },
	[DM_REPORTS] = { "iovatop_reports", OM_COUNTER, NULL,
		"Dirty-log reports (one read of the device's dirty bitmap each)." },
	[DM_INCOMPLETE] = { "iovatop_incomplete_reports", OM_COUNTER, NULL,
		"Reports that failed, lost records or never saw their end." },
	[DM_SET_CALLS] = { "iovatop_set_calls", OM_COUNTER, NULL,
		"iova_bitmap_set calls of the device's reports." },
	[DM_ANOMALIES] = { "iovatop_anomalies", OM_COUNTER, NULL,
		"Anomalies seen in the device's reports (iovatop report lists them)." },
	[DM_ITERATIONS] = { "iovatop_iterations", OM_COUNTER, NULL,
		"Finished pre-copy iterations: runs of reports that read the whole dirty log once." },
	[DM_LOST] = { "iovatop_device_lost_records", OM_COUNTER, NULL,
		"Records lost inside the device's reports." },
	[DM_ITER_PAGES] = { "iovatop_last_iteration_dirty_pages", OM_GAUGE, NULL,
		"Dirty pages of the device's last finished iteration." },
	[DM_DIRTY_RATIO] = { "iovatop_last_report_dirty_ratio", OM_GAUGE, "ratio",
		"Part of the last report's range that was dirty, 0 to 1." },
	[DM_TRACKED] = { "iovatop_tracked_bytes", OM_GAUGE, "bytes",
		"IOVA bytes the device's reports have spanned." },
	[DM_PAGE_SIZE] = { "iovatop_page_size_bytes", OM_GAUGE, "bytes",
		"Page size of the device's dirty bitmap." },
	[DM_TREND] = { "iovatop_trend", OM_GAUGE, NULL,
		"Dirty pages per iteration: 0 unknown, 1 shrinking, 2 flat, 3 growing; 4 when a forecast says it blocks the migration." },
};

static void dev_value(FILE *f, enum dev_metric k, const struct model_row *r)
{
	switch (k) {
	case DM_DIRTY_BYTES: fprintf(f, "%" PRIu64, r->dirty_bytes); break;
	case DM_DIRTY_PAGES: fprintf(f, "%" PRIu64, r->dirty_pages); break;
	case DM_REPORTS: fprintf(f, "%" PRIu64, r->reports); break;
	case DM_INCOMPLETE: fprintf(f, "%" PRIu64, r->incomplete); break;
	case DM_SET_CALLS: fprintf(f, "%" PRIu64, r->set_calls); break;
	case DM_ANOMALIES: fprintf(f, "%" PRIu64, r->anomalies); break;
	case DM_ITERATIONS: fprintf(f, "%" PRIu64, r->iterations); break;
	case DM_LOST: fprintf(f, "%" PRIu64, r->lost); break;
	case DM_ITER_PAGES: fprintf(f, "%" PRIu64, r->dirty_pages_iter); break;
	case DM_DIRTY_RATIO: fprintf(f, "%.6g", r->pct_dirty / 100.0); break;
	case DM_TRACKED: fprintf(f, "%" PRIu64, r->tracked_length); break;
	case DM_PAGE_SIZE: fprintf(f, "%" PRIu64, r->page_size); break;
	case DM_TREND: fprintf(f, "%u", r->trend); break;
	case DM_N: break;
	}
}

static bool exported(const struct model_snapshot *snap, const struct model_row *r,
		     double expire_s)
{
	uint64_t expire_ns = (uint64_t)(expire_s * 1e9);

	/* a device with no finished report yet has no figures (nor its pid) */
	return r->reports && r->last_ts_ns + expire_ns >= snap->now_ns;
}

static void global(FILE *f, bool om, const char *name, enum om_type type,
		   const char *unit, const char *help, const char *fmt, ...)
	__attribute__((format(printf, 7, 8)));

static void global(FILE *f, bool om, const char *name, enum om_type type,
		   const char *unit, const char *help, const char *fmt, ...)
{
	struct om_family fam = { name, type, unit, help };
	va_list ap;

	family_head(f, &fam, om);
	fprintf(f, "%s%s ", name, sample_suffix(&fam));
	va_start(ap, fmt);
	vfprintf(f, fmt, ap);
	va_end(ap);
	fputc('\n', f);
}

/*
 * The forecast (src/forecast.c), per VM and per device of the VM: the
 * verdict as a gauge to alert on (iovatop_forecast_converges == 0), the
 * figures it came from in base units, and each device's part. A VM is
 * labelled by its process, as the devices are; a device carries the same
 * labels as its iovatop_dirty_bytes, so that the two join.
 */
enum fc_metric {
	FM_CONVERGES,
	FM_ITERATION,
	FM_ITERS_LEFT,
	FM_BW,
	FM_DL,
	FM_THRESHOLD,
	FM_PENDING,
	FM_DIRTY_RATE,
	FM_QEMU_RATE,
	FM_NEEDED_BW,
	FM_N,
};

static const struct om_family fc_families[FM_N] = {
	[FM_CONVERGES] = { "iovatop_forecast_converges", OM_GAUGE, NULL,
		"1 when pre-copy converges (or completed), 0 when it cannot at this bandwidth; absent when there is nothing to forecast from." },
	[FM_ITERATION] = { "iovatop_forecast_iteration", OM_GAUGE, NULL,
		"The migration's iteration: QEMU's dirty-sync-count, or the devices' most iterations." },
	[FM_ITERS_LEFT] = { "iovatop_forecast_iterations_left", OM_GAUGE, NULL,
		"When it converges: iterations until the pending bytes fit the threshold, 0 now." },
	[FM_BW] = { "iovatop_forecast_bandwidth_bytes_per_second", OM_GAUGE, NULL,
		"The bandwidth the forecast assumes: QEMU's, or --link-rate." },
	[FM_DL] = { "iovatop_forecast_downtime_limit_seconds", OM_GAUGE, "seconds",
		"The downtime limit the forecast assumes: QEMU's, --downtime-limit or QEMU's default." },
	[FM_THRESHOLD] = { "iovatop_forecast_threshold_bytes", OM_GAUGE, "bytes",
		"Bandwidth times downtime limit: QEMU switches over once the pending bytes are below it." },
	[FM_PENDING] = { "iovatop_forecast_pending_bytes", OM_GAUGE, "bytes",
		"Bytes left to send: QEMU's at its last sync, or the devices' last iteration." },
	[FM_DIRTY_RATE] = { "iovatop_forecast_dirty_bytes_per_second", OM_GAUGE, NULL,
		"Bytes per second the link must carry: the devices' sum, or QEMU's dirty rate when larger." },
	[FM_QEMU_RATE] = { "iovatop_forecast_qemu_dirty_bytes_per_second", OM_GAUGE, NULL,
		"QEMU's own dirty-pages-rate times its page size (with --qmp)." },
	[FM_NEEDED_BW] = { "iovatop_forecast_needed_bandwidth_bytes_per_second", OM_GAUGE, NULL,
		"When it cannot converge: a bandwidth that would do." },
};

enum fd_metric {
	FD_RATE,
	FD_SHARE_LINK,
	FD_SHARE_QEMU,
	FD_BLOCKS,
	FD_N,
};

static const struct om_family fd_families[FD_N] = {
	[FD_RATE] = { "iovatop_forecast_device_dirty_bytes_per_second", OM_GAUGE, NULL,
		"The device's dirty rate over its last iteration, 0 when it has not finished one lately." },
	[FD_SHARE_LINK] = { "iovatop_forecast_device_link_share_ratio", OM_GAUGE, "ratio",
		"The device's dirty rate over the forecast's bandwidth." },
	[FD_SHARE_QEMU] = { "iovatop_forecast_device_qemu_share_ratio", OM_GAUGE, "ratio",
		"The device's dirty rate over QEMU's dirty rate (with --qmp and once QEMU measured one)." },
	[FD_BLOCKS] = { "iovatop_forecast_device_blocks", OM_GAUGE, NULL,
		"1 on the devices a 'cannot converge' names, else 0." },
};

static bool fc_value(const struct forecast *fc, enum fc_metric k, double *v)
{
	bool live = fc->verdict == FORECAST_CONVERGES || fc->verdict == FORECAST_CANNOT;

	switch (k) {
	case FM_CONVERGES:
		*v = fc->verdict != FORECAST_CANNOT;
		return live || fc->verdict == FORECAST_COMPLETED;
	case FM_ITERATION: *v = (double)fc->iteration; return true;
	case FM_ITERS_LEFT:
		*v = fc->iters_left;
		return fc->verdict == FORECAST_CONVERGES;
	case FM_BW: *v = fc->bw; return fc->bw_src != FORECAST_SRC_NONE;
	case FM_DL: *v = fc->dl; return fc->dl_src != FORECAST_SRC_NONE;
	case FM_THRESHOLD: *v = fc->threshold; return fc->bw_src != FORECAST_SRC_NONE;
	case FM_PENDING: *v = fc->pending; return live;
	case FM_DIRTY_RATE: *v = fc->dirty_rate; return live;
	case FM_QEMU_RATE: *v = fc->qemu_rate; return fc->qemu_rate >= 0;
	case FM_NEEDED_BW: *v = fc->needed_bw; return fc->verdict == FORECAST_CANNOT;
	case FM_N: break;
	}
	return false;
}

static bool fd_value(const struct forecast *fc, const struct forecast_dev *d,
		     enum fd_metric k, double *v)
{
	switch (k) {
	case FD_RATE: *v = d->rate; return true;
	case FD_SHARE_LINK: *v = d->share_link; return fc->bw > 0;
	case FD_SHARE_QEMU: *v = d->share_qemu; return d->share_qemu >= 0;
	case FD_BLOCKS: *v = d->blamed; return true;
	case FD_N: break;
	}
	return false;
}

static const struct model_row *row_of(const struct model_snapshot *snap,
				      const struct forecast_dev *d)
{
	uint32_t i;

	for (i = 0; i < snap->nrows; i++)
		if (snap->rows[i].pid == d->pid &&
		    !strncmp(snap->rows[i].name, d->name, MODEL_NAME_LEN))
			return &snap->rows[i];
	return NULL;
}

static void forecast_write(FILE *f, bool om, const struct forecast_session *fs,
			   const struct model_snapshot *snap, double expire_s)
{
	unsigned int n = forecast_session_count(fs), v, k;
	char labels[OM_LABELS_LEN];
	uint32_t i;
	double x;

	if (!fs)
		return;
	for (k = 0; k < FM_N; k++) {
		family_head(f, &fc_families[k], om);
		for (v = 0; v < n; v++) {
			const struct forecast *fc = forecast_session_get(fs, v);

			if (fc_value(fc, k, &x))
				fprintf(f, "%s{pid=\"%u\"} %.9g\n", fc_families[k].name,
					fc->pid, x);
		}
	}
	for (k = 0; k < FD_N; k++) {
		family_head(f, &fd_families[k], om);
		for (v = 0; v < n; v++) {
			const struct forecast *fc = forecast_session_get(fs, v);

			for (i = 0; i < fc->ndev; i++) {
				const struct model_row *r = row_of(snap, &fc->dev[i]);

				/* exported as its other families are, or not at all */
				if (!r || !exported(snap, r, expire_s) ||
				    !fd_value(fc, &fc->dev[i], k, &x))
					continue;
				device_labels(labels, r);
				fprintf(f, "%s%s %.9g\n", fd_families[k].name, labels, x);
			}
		}
	}
}

unsigned int om_write(FILE *f, const struct om_meta *meta,
		      const struct model_snapshot *snap, bool om)
{
	static const struct model_snapshot none;
	double expire_s = meta && meta->expire_s > 0 ? meta->expire_s : OM_EXPIRE_S;
	const struct model_row **rows = NULL;
	char (*labels)[OM_LABELS_LEN] = NULL;
	unsigned int k, n, ndev = 0;
	uint32_t i;
	char lv[4][OM_LABELS_LEN / 2];

	if (!snap)
		snap = &none;
	if (snap->nrows) {
		n = snap->nrows < OM_MAX_DEVICES ? snap->nrows : OM_MAX_DEVICES;
		rows = calloc(n, sizeof(*rows));
		labels = calloc(n, sizeof(*labels));
	}
	/* each device's labels once, not once per family */
	for (i = 0; rows && labels && i < snap->nrows && ndev < OM_MAX_DEVICES; i++) {
		if (!exported(snap, &snap->rows[i], expire_s))
			continue;
		rows[ndev] = &snap->rows[i];
		device_labels(labels[ndev], rows[ndev]);
		ndev++;
	}
	for (k = 0; k < DM_N; k++) {
		family_head(f, &dev_families[k], om);
		for (n = 0; n < ndev; n++) {
			fputs(dev_families[k].name, f);
			fputs(sample_suffix(&dev_families[k]), f);
			fputs(labels[n], f);
			fputc(' ', f);
			dev_value(f, k, rows[n]);
			fputc('\n', f);
		}
	}
	free(rows);
	free(labels);
	if (meta)
		forecast_write(f, om, meta->forecasts, snap, expire_s);

	global(f, om, "iovatop_records", OM_COUNTER, NULL,
	       "Records the model has applied (rate() gives records per second).",
	       "%" PRIu64, snap->records);
	global(f, om, "iovatop_lost_records", OM_COUNTER, NULL,
	       "Records lost on the way (ring buffer, runs the kernel skipped, bitmaps map full), device known or not.",
	       "%" PRIu64, snap->lost);
	global(f, om, "iovatop_reports_not_rebuilt", OM_COUNTER, NULL,
	       "Reports counted but not rebuilt (too large, or without their geometry).",
	       "%" PRIu64, snap->not_rebuilt);
	global(f, om, "iovatop_open_reports", OM_GAUGE, NULL,
	       "Reports begun and not yet ended.", "%" PRIu64, snap->open_reports);
	global(f, om, "iovatop_devices", OM_GAUGE, NULL,
	       "Devices exported now.", "%u", ndev);
	global(f, om, "iovatop_devices_not_exported", OM_GAUGE, NULL,
	       "Devices known but not exported: silent longer than the expiry, or past the cap.",
	       "%u", snap->nrows - ndev);
	global(f, om, "iovatop_device_expiry_seconds", OM_GAUGE, "seconds",
	       "How long a silent device stays exported.", "%g", expire_s);
	global(f, om, "iovatop_source_clock_seconds", OM_GAUGE, "seconds",
	       "The source's clock (CLOCK_MONOTONIC of the traced host) at the last snapshot.",
	       "%.9f", (double)snap->now_ns / 1e9);
	if (meta && meta->ring && meta->ring->size_bytes) {
		const struct ring_fill *rf = meta->ring;

		global(f, om, "iovatop_ring_size_bytes", OM_GAUGE, "bytes",
		       "Size of the ring buffer the probes write records into.",
		       "%" PRIu64, rf->size_bytes);
		global(f, om, "iovatop_ring_fill_ratio", OM_GAUGE, "ratio",
		       "Part of the ring buffer waiting to be read at the snapshot, 0 to 1.",
		       "%.6g", ring_fill_ratio(rf, rf->now_bytes));
		global(f, om, "iovatop_ring_fill_peak_ratio", OM_GAUGE, "ratio",
		       "Most of the ring buffer waiting at once since the snapshot before, 0 to 1; near 1, records are being lost.",
		       "%.6g", ring_fill_ratio(rf, rf->peak_bytes));
	}
	{
		struct om_family fam = { "iovatop_source", OM_INFO, NULL,
			"Where the figures come from." };

		family_head(f, &fam, om);
		label_value(lv[0], meta && meta->source ? meta->source : "", 64);
		label_value(lv[1], meta && meta->kernel ? meta->kernel : "", 64);
		label_value(lv[2], meta && meta->probe ? meta->probe : "", 64);
		label_value(lv[3], meta && meta->layout ? meta->layout : "", 64);
		fprintf(f, "iovatop_source_info{source=%s,kernel=%s,probe=%s,layout=%s} 1\n",
			lv[0], lv[1], lv[2], lv[3]);
	}
	if (om)
		fprintf(f, "# EOF\n");
	return ndev;
}

/* ---- content negotiation ------------------------------------------------ */

/* q of the media range [s, e) if it names type (or is a wildcard), else -1. */
static double range_q(const char *s, const char *e, const char *type,
		      double *wild)
{
	const char *semi = memchr(s, ';', (size_t)(e - s)), *p;
	const char *tend = semi ? semi : e;
	double q = 1.0;
	size_t n;

	while (s < tend && (*s == ' ' || *s == '\t'))
		s++;
	while (tend > s && (tend[-1] == ' ' || tend[-1] == '\t'))
		tend--;
	for (p = semi; p && p < e; p = memchr(p + 1, ';', (size_t)(e - p - 1))) {
		const char *v = p + 1;

		while (v < e && *v == ' ')
			v++;
		if (e - v > 2 && !strncasecmp(v, "q=", 2))
			q = strtod(v + 2, NULL);
	}
	n = (size_t)(tend - s);
	if ((n == 3 && !strncmp(s, "*/*", 3)) ||
	    (n == 6 && !strncmp(s, "text/*", 6))) {
		if (q > *wild)
			*wild = q;
		return -1;
	}
	if (n == strlen(type) && !strncasecmp(s, type, n))
		return q;
	return -1;
}

static double accept_q(const char *accept, const char *type, double *wild)
{
	const char *s = accept, *e;
	double best = -1, q;

	while (*s) {
		e = strchr(s, ',');
		if (!e)
			e = s + strlen(s);
		q = range_q(s, e, type, wild);
		if (q > best)
			best = q;
		s = *e ? e + 1 : e;
	}
	return best;
}

bool om_accepts_openmetrics(const char *accept)
{
	double wild = -1, om, text;

	if (!accept)
		return false;
	om = accept_q(accept, "application/openmetrics-text", &wild);
	text = accept_q(accept, "text/plain", &wild);
	if (text < 0)
		text = wild;
	return om > 0 && om > text;
}

/* ---- the address -------------------------------------------------------- */

int om_parse_listen(const char *spec, char *host, size_t hostlen, char *port,
		    size_t portlen, char *err, size_t errlen)
{
	const char *colon, *h = "", *p = spec;
	size_t hl = 0;
	char *end;
	long n;

	if (spec[0] == '[') {
		const char *close = strchr(spec, ']');

		if (!close || (close[1] && close[1] != ':')) {
			snprintf(err, errlen, "the address '%s' has an unclosed '['; write an IPv6 address as [::1]:%d.",
				 spec, OM_DEFAULT_PORT);
			return -1;
		}
		h = spec + 1;
		hl = (size_t)(close - h);
		p = close[1] ? close + 2 : "";
	} else if ((colon = strrchr(spec, ':'))) {
		if (strchr(spec, ':') != colon) {
			snprintf(err, errlen, "the address '%s' looks like IPv6; put it in brackets, as in [::1]:%d.",
				 spec, OM_DEFAULT_PORT);
			return -1;
		}
		h = spec;
		hl = (size_t)(colon - spec);
		p = colon + 1;
	}
	n = strtol(p, &end, 10);
	if (!*p || *end || n < 1 || n > 65535) {
		snprintf(err, errlen, "'%s' has no port from 1 to 65535; write ADDR:PORT, e.g. 127.0.0.1:%d.",
			 spec, OM_DEFAULT_PORT);
		return -1;
	}
	if (!hl) {
		h = "127.0.0.1";	/* loopback unless asked otherwise */
		hl = strlen(h);
	}
	if (hl >= hostlen) {
		snprintf(err, errlen, "the address in '%s' is too long.", spec);
		return -1;
	}
	memcpy(host, h, hl);
	host[hl] = '\0';
	snprintf(port, portlen, "%ld", n);
	return 0;
}

/* ---- the server --------------------------------------------------------- */

struct om_text {
	char *om, *prom;
	size_t om_len, prom_len;
};

struct om_server {
	struct MHD_Daemon *d;
	int fd;
	struct om_meta meta;
	char addr[128];
	pthread_mutex_t lock;	/* guards text and scrapes, nothing slow inside */
	struct om_text text;
	uint64_t scrapes;
};

/*
 * One format into a buffer of its own. glibc's open_memstream grows its
 * buffer a little at a time and costs ten times the writing on a thousand
 * devices; a buffer sized from the last exposition, doubled on overflow,
 * does not.
 */
static int render_one(const struct om_meta *meta, const struct model_snapshot *snap,
		      bool om, size_t hint, char **out, size_t *len)
{
	size_t cap = hint > 4096 ? hint + hint / 4 : 8192;

	for (;;) {
		char *buf = malloc(cap);
		FILE *f;
		long n;

		if (!buf)
			return -ENOMEM;
		f = fmemopen(buf, cap, "w");
		if (!f) {
			free(buf);
			return -ENOMEM;
		}
		setvbuf(f, NULL, _IOFBF, 65536);
		om_write(f, meta, snap, om);
		fflush(f);
		n = ftell(f);
		if (!ferror(f) && n >= 0 && (size_t)n + 1 < cap) {
			fclose(f);
			*out = buf;
			*len = (size_t)n;
			return 0;
		}
		fclose(f);
		free(buf);
		cap *= 2;
	}
}

static int render(const struct om_meta *meta, const struct model_snapshot *snap,
		  struct om_text *t, const struct om_text *last)
{
	struct om_text n = { 0 };

	if (render_one(meta, snap, true, last ? last->om_len : 0, &n.om, &n.om_len))
		return -ENOMEM;
	if (render_one(meta, snap, false, last ? last->prom_len : 0, &n.prom, &n.prom_len)) {
		free(n.om);
		return -ENOMEM;
	}
	*t = n;
	return 0;
}

static enum MHD_Result answer(void *cls, struct MHD_Connection *c,
			      const char *url, const char *method,
			      const char *version, const char *upload,
			      size_t *upload_len, void **con_cls)
{
	static const char not_found[] = "iovatop serves /metrics only.\n";
	static const char bad_method[] = "only GET and HEAD are served.\n";
	struct om_server *s = cls;
	struct MHD_Response *resp;
	const char *accept;
	enum MHD_Result ret;
	bool om;

	(void)version;
	(void)upload;
	(void)upload_len;
	(void)con_cls;
	if (strcmp(method, MHD_HTTP_METHOD_GET) && strcmp(method, MHD_HTTP_METHOD_HEAD)) {
		resp = MHD_create_response_from_buffer(sizeof(bad_method) - 1,
						       (void *)bad_method,
						       MHD_RESPMEM_PERSISTENT);
		if (!resp)
			return MHD_NO;
		MHD_add_response_header(resp, "Allow", "GET, HEAD");
		ret = MHD_queue_response(c, MHD_HTTP_METHOD_NOT_ALLOWED, resp);
		MHD_destroy_response(resp);
		return ret;
	}
	if (strcmp(url, "/metrics")) {
		resp = MHD_create_response_from_buffer(sizeof(not_found) - 1,
						       (void *)not_found,
						       MHD_RESPMEM_PERSISTENT);
		if (!resp)
			return MHD_NO;
		ret = MHD_queue_response(c, MHD_HTTP_NOT_FOUND, resp);
		MHD_destroy_response(resp);
		return ret;
	}
	accept = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Accept");
	om = om_accepts_openmetrics(accept);
	pthread_mutex_lock(&s->lock);
	if (om)
		resp = MHD_create_response_from_buffer(s->text.om_len, s->text.om,
						       MHD_RESPMEM_MUST_COPY);
	else
		resp = MHD_create_response_from_buffer(s->text.prom_len, s->text.prom,
						       MHD_RESPMEM_MUST_COPY);
	s->scrapes++;
	pthread_mutex_unlock(&s->lock);
	if (!resp)
		return MHD_NO;
	MHD_add_response_header(resp, "Content-Type", om ? OM_CONTENT_TYPE_OPENMETRICS :
							   OM_CONTENT_TYPE_PROMETHEUS);
	MHD_add_response_header(resp, "Vary", "Accept");
	ret = MHD_queue_response(c, MHD_HTTP_OK, resp);
	MHD_destroy_response(resp);
	return ret;
}

static int listen_on(struct om_server *s, const char *spec, char *err,
		     size_t errlen)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM,
				  .ai_flags = AI_PASSIVE | AI_NUMERICSERV };
	struct addrinfo *ai = NULL;
	char host[96], port[8];
	int one = 1, rc;

	if (om_parse_listen(spec, host, sizeof(host), port, sizeof(port), err, errlen))
		return -1;
	rc = getaddrinfo(host, port, &hints, &ai);
	if (rc) {
		snprintf(err, errlen, "cannot listen on '%s': the address '%s' is not known here (%s); give a local IP address, e.g. 127.0.0.1:%s.",
			 spec, host, gai_strerror(rc), port);
		return -1;
	}
	s->fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
	if (s->fd < 0) {
		snprintf(err, errlen, "cannot open a socket for %s: %s.", spec, strerror(errno));
		goto fail;
	}
	setsockopt(s->fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(s->fd, ai->ai_addr, ai->ai_addrlen)) {
		if (errno == EADDRINUSE)
			snprintf(err, errlen, "port %s on %s is in use by another program; pick a free one with --openmetrics ADDR:PORT.",
				 port, host);
		else if (errno == EADDRNOTAVAIL)
			snprintf(err, errlen, "%s is not an address of this machine; --openmetrics wants a local address, e.g. 127.0.0.1:%s.",
				 host, port);
		else if (errno == EACCES)
			snprintf(err, errlen, "port %s on %s needs privileges; pick one above 1023.",
				 port, host);
		else
			snprintf(err, errlen, "cannot listen on %s:%s: %s.", host, port,
				 strerror(errno));
		goto fail;
	}
	if (listen(s->fd, OM_CONN_LIMIT)) {
		snprintf(err, errlen, "cannot listen on %s:%s: %s.", host, port,
			 strerror(errno));
		goto fail;
	}
	snprintf(s->addr, sizeof(s->addr), ai->ai_family == AF_INET6 ? "[%s]:%s" : "%s:%s",
		 host, port);
	freeaddrinfo(ai);
	return 0;
fail:
	freeaddrinfo(ai);
	if (s->fd >= 0)
		close(s->fd);
	s->fd = -1;
	return -1;
}

struct om_server *om_server_start(const char *spec, const struct om_meta *meta,
				  char *err, size_t errlen)
{
	struct om_server *s = calloc(1, sizeof(*s));
	sigset_t block, old;

	if (!s) {
		snprintf(err, errlen, "out of memory for the metrics endpoint.");
		return NULL;
	}
	s->fd = -1;
	if (meta)
		s->meta = *meta;
	pthread_mutex_init(&s->lock, NULL);
	if (render(&s->meta, NULL, &s->text, NULL)) {
		snprintf(err, errlen, "out of memory for the metrics endpoint.");
		goto fail;
	}
	if (listen_on(s, spec, err, errlen))
		goto fail;
	/*
	 * The server's thread must not take the signals that stop the tool:
	 * the main loop polls stop_signal and would not wake for them.
	 */
	sigemptyset(&block);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGHUP);
	sigaddset(&block, SIGPIPE);
	pthread_sigmask(SIG_BLOCK, &block, &old);
	s->d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_POLL,
				0, NULL, NULL, answer, s,
				MHD_OPTION_LISTEN_SOCKET, s->fd,
				MHD_OPTION_CONNECTION_LIMIT, (unsigned int)OM_CONN_LIMIT,
				MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)OM_CONN_TIMEOUT_S,
				MHD_OPTION_END);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (!s->d) {
		snprintf(err, errlen, "cannot start the HTTP server on %s (libmicrohttpd refused).",
			 s->addr);
		goto fail;
	}
	return s;
fail:
	if (s->fd >= 0)
		close(s->fd);
	free(s->text.om);
	free(s->text.prom);
	pthread_mutex_destroy(&s->lock);
	free(s);
	return NULL;
}

void om_server_publish(struct om_server *s, const struct model_snapshot *snap)
{
	struct om_text t, old;

	/* the text's length is only read by this thread, no lock needed */
	if (!s || render(&s->meta, snap, &t, &s->text))
		return;	/* out of memory: the scrapers keep the last figures */
	pthread_mutex_lock(&s->lock);
	old = s->text;
	s->text = t;
	pthread_mutex_unlock(&s->lock);
	free(old.om);
	free(old.prom);
}

void om_snap_hook(void *ctx, const struct model_snapshot *snap)
{
	om_server_publish(ctx, snap);
}

void om_server_set_meta(struct om_server *s, const struct om_meta *meta)
{
	/* publish reads it, and publish runs in the caller's thread */
	s->meta = *meta;
}

const char *om_server_addr(const struct om_server *s)
{
	return s->addr;
}

uint64_t om_server_scrapes(struct om_server *s)
{
	uint64_t n;

	pthread_mutex_lock(&s->lock);
	n = s->scrapes;
	pthread_mutex_unlock(&s->lock);
	return n;
}

void om_server_stop(struct om_server *s)
{
	if (!s)
		return;
	MHD_stop_daemon(s->d);
	if (s->fd >= 0)
		close(s->fd);
	free(s->text.om);
	free(s->text.prom);
	pthread_mutex_destroy(&s->lock);
	free(s);
}

/* ---- the option --------------------------------------------------------- */

enum { OPT_OPENMETRICS = 0x300 };

static const struct argp_option om_options[] = {
	{ "openmetrics", OPT_OPENMETRICS, "ADDR:PORT", 0,
	  "Serve /metrics for Prometheus on ADDR:PORT (ADDR defaults to 127.0.0.1; 0.0.0.0 listens on every address)", 0 },
	{ 0 },
};

static error_t om_parse(int key, char *arg, struct argp_state *state)
{
	struct om_args *a = state->input;

	switch (key) {
	case OPT_OPENMETRICS:
		/* checked when the server starts: a bad address exits 1 there */
		a->listen = arg;
		return 0;
	}
	return ARGP_ERR_UNKNOWN;
}

const struct argp om_args_argp = {
	.options = om_options,
	.parser = om_parse,
};
