/* SPDX-License-Identifier: GPL-2.0 */
/*
 * qmp_client.h - QEMU's own migration figures, read over its QMP socket.
 *
 * One client per --qmp SOCKET (one per VM). qmp_client_open() connects,
 * reads the greeting and enters command mode within a timeout, and refuses
 * a socket whose peer does not speak QMP. After that a thread of the
 * client's own asks query-migrate and query-migrate-parameters every
 * interval; the UI only copies the latest sample under a mutex
 * (qmp_client_sample()), so a slow or stuck QEMU never blocks a frame.
 *
 * The parsing (qmp_parse_migrate(), qmp_parse_params()) is separate from
 * the I/O so that unit tests can feed it QEMU's replies.
 */
#ifndef IOVATOP_QMP_CLIENT_H
#define IOVATOP_QMP_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define QMP_STATUS_LEN	24
#define QMP_HISTORY	256	/* samples kept for qmp_client_sample_at() */

/*
 * One query-migrate (and the parameters asked with it), in QEMU's units:
 * bytes, pages, milliseconds; mbps is megabits per second. A field QEMU
 * did not send is 0 and its have_* flag false.
 */
struct qmp_migrate {
	uint64_t ts_ns;			/* CLOCK_MONOTONIC when the reply came */
	uint32_t pid;			/* QEMU's pid (SO_PEERCRED) */
	uint64_t seq;			/* samples taken so far, 1 for the first */
	char status[QMP_STATUS_LEN];	/* "none" when no migration ever ran */
	bool have_ram;
	uint64_t total_time_ms;
	uint64_t expected_downtime_ms;
	uint64_t downtime_ms;		/* completed migrations */
	uint64_t setup_time_ms;
	uint64_t ram_transferred;
	uint64_t ram_remaining;
	uint64_t ram_total;
	uint64_t dirty_pages_rate;	/* pages per second */
	uint64_t dirty_sync_count;
	uint64_t page_size;
	double mbps;
	bool have_params;
	uint64_t downtime_limit_ms;
	uint64_t max_bandwidth;		/* bytes per second */
	uint64_t avail_switchover_bandwidth;	/* bytes per second, 0: unset */
};

/*
 * Parse the "return" object of query-migrate / query-migrate-parameters
 * (a JSON text). Return 0, or -EINVAL for text that is not such an object.
 */
int qmp_parse_migrate(const char *json, size_t len, struct qmp_migrate *out);
int qmp_parse_params(const char *json, size_t len, struct qmp_migrate *out);

struct qmp_client;

/*
 * Connect to the unix socket path, check that QEMU greets with QMP and
 * accept qmp_capabilities, all within timeout_ms. On failure NULL, with a
 * sentence in err and *usage true when the socket is not QMP (bad input)
 * rather than unreachable.
 */
struct qmp_client *qmp_client_open(const char *path, int timeout_ms,
				   char *err, size_t errlen, bool *usage);

/*
 * Start the polling thread: query every interval_ms, each exchange bounded
 * by timeout_ms. Returns 0 or a negative errno.
 */
int qmp_client_start(struct qmp_client *c, uint64_t interval_ms, int timeout_ms);

/*
 * Copy the latest sample. Returns true when there is one; false before the
 * first reply. Never blocks on QEMU.
 */
bool qmp_client_sample(struct qmp_client *c, struct qmp_migrate *out);

/*
 * The latest sample taken at or before ts_ns (CLOCK_MONOTONIC), among the
 * last QMP_HISTORY: what QEMU said as of a snapshot's instant, for a view
 * that runs behind (a starved process, a slow terminal), so that QEMU's
 * figures are never joined with device rates seconds older than they are.
 * False when none is that old. Never blocks on QEMU.
 */
bool qmp_client_sample_at(struct qmp_client *c, uint64_t ts_ns,
			  struct qmp_migrate *out);

/*
 * The oldest sample kept whose seq is at least seq: a recorder takes every
 * sample in turn (seq + 1 next), and one that fell out of the history is
 * skipped. False when there is none yet. Never blocks on QEMU.
 */
bool qmp_client_sample_from(struct qmp_client *c, uint64_t seq,
			    struct qmp_migrate *out);

/* The socket path, QEMU's pid, and the last error (empty when fine). */
const char *qmp_client_path(const struct qmp_client *c);
uint32_t qmp_client_pid(const struct qmp_client *c);
void qmp_client_error(struct qmp_client *c, char *buf, size_t len);

/* One exchange now, on the caller's thread (tests, and before start). */
int qmp_client_poll_once(struct qmp_client *c, int timeout_ms);

/* Stop the thread, close the socket, free. NULL is fine. */
void qmp_client_close(struct qmp_client *c);

#endif /* IOVATOP_QMP_CLIENT_H */
