/* SPDX-License-Identifier: GPL-2.0 */
/*
 * export_openmetrics.h - the model's snapshots for Prometheus: an HTTP
 * endpoint (libmicrohttpd) serving /metrics in the OpenMetrics 1.0 text
 * format or the Prometheus 0.0.4 text format, whichever the scraper's
 * Accept header prefers (docs/openmetrics.md lists every metric).
 *
 * The loop that owns the model publishes each snapshot with
 * om_server_publish(); the text is rendered there, once per interval, and
 * the server's own thread only copies the latest text under a lock, so a
 * scrape, however slow the scraper, never waits for the model and the
 * view never waits for a scrape.
 */
#ifndef IOVATOP_EXPORT_OPENMETRICS_H
#define IOVATOP_EXPORT_OPENMETRICS_H

#include <argp.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "model.h"
#include "source.h"

struct forecast_session;

#define OM_DEFAULT_PORT		9877
/* A device silent for this long stops being exported (bounded cardinality). */
#define OM_EXPIRE_S		300.0
/* At most this many devices are exported, hottest first. */
#define OM_MAX_DEVICES		1024

#define OM_CONTENT_TYPE_OPENMETRICS \
	"application/openmetrics-text; version=1.0.0; charset=utf-8"
#define OM_CONTENT_TYPE_PROMETHEUS "text/plain; version=0.0.4; charset=utf-8"

/* What the exposition says about where the figures come from. */
struct om_meta {
	const char *source;	/* "live", "record" or "replay" */
	const char *kernel;	/* release of the traced kernel */
	const char *probe;	/* "fentry", "kprobe" */
	const char *layout;	/* iova_bitmap layout name */
	double expire_s;	/* 0: OM_EXPIRE_S */
	/* each VM's forecast after the snapshot; NULL: none asked */
	const struct forecast_session *forecasts;
	/*
	 * The live source's ring buffer at the snapshot, read at every
	 * publish (the loop fills it before); NULL or size 0: none, and
	 * iovatop_ring_* are left out (replay has no ring).
	 */
	const struct ring_fill *ring;
};

/*
 * Write the exposition of one snapshot to f: OpenMetrics (ending in
 * "# EOF") when openmetrics, else the Prometheus text format. Devices
 * whose last report is more than expire_s before snap->now_ns are left
 * out, and so is every device past OM_MAX_DEVICES (snapshot order).
 * With meta->forecasts, each VM's forecast follows (iovatop_forecast_*);
 * with meta->ring, the ring buffer's size and fill (iovatop_ring_*).
 * Returns the number of devices written.
 */
unsigned int om_write(FILE *f, const struct om_meta *meta,
		      const struct model_snapshot *snap, bool openmetrics);

/*
 * Whether an HTTP Accept header asks for OpenMetrics before the
 * Prometheus text format (q values count; absent or equal, OpenMetrics
 * wins only if it is named at all).
 */
bool om_accepts_openmetrics(const char *accept);

/*
 * "ADDR:PORT", "[ADDR6]:PORT", ":PORT" or "PORT": an empty or missing
 * address is the loopback, 127.0.0.1. 0 with host and port filled, or -1
 * with a sentence in err.
 */
int om_parse_listen(const char *spec, char *host, size_t hostlen,
		    char *port, size_t portlen, char *err, size_t errlen);

struct om_server;

/*
 * Listen on spec and serve /metrics from a thread of libmicrohttpd's.
 * Until the first publish a scrape gets the tool's own health only.
 * NULL with one sentence in err (a port in use, a bad address).
 */
struct om_server *om_server_start(const char *spec, const struct om_meta *meta,
				  char *err, size_t errlen);
/* Render snap for the next scrapes. */
void om_server_publish(struct om_server *s, const struct model_snapshot *snap);
/* The same as a view_run snapshot hook: ctx is the server. */
void om_snap_hook(void *ctx, const struct model_snapshot *snap);
/* What later exposition says about the source (strings must outlive s). */
void om_server_set_meta(struct om_server *s, const struct om_meta *meta);
/* The address it listens on, "127.0.0.1:9877". */
const char *om_server_addr(const struct om_server *s);
/* Scrapes answered so far. */
uint64_t om_server_scrapes(struct om_server *s);
/* Stop serving and free. NULL is fine. */
void om_server_stop(struct om_server *s);

/*
 * The --openmetrics option, an argp child the live view, record and
 * replay share: its input is a struct om_args.
 */
struct om_args {
	const char *listen;	/* NULL: no endpoint */
};
extern const struct argp om_args_argp;

#endif /* IOVATOP_EXPORT_OPENMETRICS_H */
