// SPDX-License-Identifier: GPL-2.0
/*
 * qmp_client.c - QEMU's migration figures over its QMP socket.
 *
 * The protocol (QEMU's docs/interop/qmp-spec.rst): on connect QEMU sends
 * one greeting line {"QMP": {...}}; the client answers qmp_capabilities and
 * may then execute commands, each reply a line {"return": ...} or
 * {"error": ...} carrying the command's "id"; asynchronous {"event": ...}
 * lines may come in between and are skipped. Every wait is a poll() with a
 * deadline, and the periodic queries run on a thread of their own, so the
 * caller's loop only ever takes a mutex to copy the latest sample.
 */
#define _GNU_SOURCE	/* struct ucred */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <poll.h>
#include <stdarg.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "qmp_client.h"

#define LINE_MAX_BYTES	(1u << 20)	/* a reply longer than this is refused */

struct qmp_client {
	int fd;
	char path[108];
	uint32_t pid;
	char *buf;			/* bytes read, not yet a whole line */
	size_t nbuf, cap;
	uint64_t next_id;
	pthread_t thread;
	bool running;
	pthread_mutex_t lock;		/* guards what follows */
	pthread_cond_t wake;
	bool stop;
	bool have;
	struct qmp_migrate sample;
	/* the samples before it, oldest overwritten: for qmp_client_sample_at() */
	struct qmp_migrate hist[QMP_HISTORY];
	unsigned int nhist, hist_next;
	char err[160];
	uint64_t interval_ms;
	int timeout_ms;
};

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* ---- parsing ---------------------------------------------------------- */

static uint64_t get_u64(json_t *o, const char *key, bool *have)
{
	json_t *v = json_object_get(o, key);

	if (json_is_integer(v)) {
		if (have)
			*have = true;
		return json_integer_value(v) < 0 ? 0 :
		       (uint64_t)json_integer_value(v);
	}
	if (json_is_real(v)) {
		if (have)
			*have = true;
		return json_real_value(v) < 0 ? 0 : (uint64_t)json_real_value(v);
	}
	return 0;
}

static int fill_migrate(json_t *r, struct qmp_migrate *m)
{
	json_t *ram, *st;

	if (!json_is_object(r))
		return -EINVAL;
	st = json_object_get(r, "status");
	/* query-migrate answers {} when no migration ever ran */
	snprintf(m->status, sizeof(m->status), "%s",
		 json_is_string(st) ? json_string_value(st) : "none");
	m->total_time_ms = get_u64(r, "total-time", NULL);
	m->expected_downtime_ms = get_u64(r, "expected-downtime", NULL);
	m->downtime_ms = get_u64(r, "downtime", NULL);
	m->setup_time_ms = get_u64(r, "setup-time", NULL);
	ram = json_object_get(r, "ram");
	m->have_ram = json_is_object(ram);
	if (m->have_ram) {
		json_t *mbps = json_object_get(ram, "mbps");

		m->ram_transferred = get_u64(ram, "transferred", NULL);
		m->ram_remaining = get_u64(ram, "remaining", NULL);
		m->ram_total = get_u64(ram, "total", NULL);
		m->dirty_pages_rate = get_u64(ram, "dirty-pages-rate", NULL);
		m->dirty_sync_count = get_u64(ram, "dirty-sync-count", NULL);
		m->page_size = get_u64(ram, "page-size", NULL);
		m->mbps = json_is_number(mbps) ? json_number_value(mbps) : 0;
	}
	return 0;
}

static int fill_params(json_t *r, struct qmp_migrate *m)
{
	bool have = false;

	if (!json_is_object(r))
		return -EINVAL;
	m->downtime_limit_ms = get_u64(r, "downtime-limit", &have);
	m->max_bandwidth = get_u64(r, "max-bandwidth", NULL);
	m->avail_switchover_bandwidth =
		get_u64(r, "avail-switchover-bandwidth", NULL);
	m->have_params = have;
	return 0;
}

static int parse_with(const char *json, size_t len, struct qmp_migrate *out,
		      int (*fill)(json_t *, struct qmp_migrate *))
{
	json_t *r = json_loadb(json, len, 0, NULL);
	int ret;

	if (!r)
		return -EINVAL;
	ret = fill(r, out);
	json_decref(r);
	return ret;
}

int qmp_parse_migrate(const char *json, size_t len, struct qmp_migrate *out)
{
	return parse_with(json, len, out, fill_migrate);
}

int qmp_parse_params(const char *json, size_t len, struct qmp_migrate *out)
{
	return parse_with(json, len, out, fill_params);
}

/* ---- lines on the socket ---------------------------------------------- */

/*
 * The next line as a JSON value, waiting until deadline_ns. Returns 0,
 * -ETIMEDOUT, -EPIPE when the peer closed, -EPROTO for a line that is not
 * JSON or too long, or another negative errno.
 */
static int read_json(struct qmp_client *c, uint64_t deadline_ns, json_t **out)
{
	for (;;) {
		char *nl = c->nbuf ? memchr(c->buf, '\n', c->nbuf) : NULL;
		struct pollfd p = { .fd = c->fd, .events = POLLIN };
		uint64_t now;
		ssize_t n;
		int r;

		if (nl) {
			size_t l = (size_t)(nl - c->buf) + 1;

			*out = json_loadb(c->buf, l, 0, NULL);
			memmove(c->buf, c->buf + l, c->nbuf - l);
			c->nbuf -= l;
			return *out ? 0 : -EPROTO;
		}
		if (c->nbuf >= LINE_MAX_BYTES)
			return -EPROTO;
		if (c->cap - c->nbuf < 4096) {
			size_t cap = c->cap ? c->cap * 2 : 16384;
			char *b = realloc(c->buf, cap);

			if (!b)
				return -ENOMEM;
			c->buf = b;
			c->cap = cap;
		}
		now = mono_ns();
		if (now >= deadline_ns)
			return -ETIMEDOUT;
		r = poll(&p, 1, (int)((deadline_ns - now + 999999) / 1000000));
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -errno;
		if (r == 0)
			return -ETIMEDOUT;
		n = recv(c->fd, c->buf + c->nbuf, c->cap - c->nbuf, MSG_DONTWAIT);
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return -EPIPE;
		c->nbuf += (size_t)n;
	}
}

static int send_all(struct qmp_client *c, const char *s, uint64_t deadline_ns)
{
	size_t len = strlen(s), off = 0;

	while (off < len) {
		struct pollfd p = { .fd = c->fd, .events = POLLOUT };
		uint64_t now = mono_ns();
		ssize_t n;
		int r;

		if (now >= deadline_ns)
			return -ETIMEDOUT;
		r = poll(&p, 1, (int)((deadline_ns - now + 999999) / 1000000));
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return r ? -errno : -ETIMEDOUT;
		n = send(c->fd, s + off, len - off, MSG_DONTWAIT | MSG_NOSIGNAL);
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			continue;
		if (n < 0)
			return errno == ECONNRESET ? -EPIPE : -errno;
		off += (size_t)n;
	}
	return 0;
}

/*
 * Execute cmd and wait for the reply with its id; events and late replies
 * to earlier commands are skipped. *ret gets a reference to "return".
 */
static int execute(struct qmp_client *c, const char *cmd, int timeout_ms,
		   json_t **ret, char *err, size_t errlen)
{
	uint64_t deadline = mono_ns() + (uint64_t)timeout_ms * 1000000ull;
	uint64_t id = ++c->next_id;
	char line[160];
	int r;

	snprintf(line, sizeof(line), "{\"execute\": \"%s\", \"id\": %llu}\n",
		 cmd, (unsigned long long)id);
	r = send_all(c, line, deadline);
	if (r)
		return r;
	for (;;) {
		json_t *v = NULL, *jid, *rv, *e;

		r = read_json(c, deadline, &v);
		if (r)
			return r;
		jid = json_object_get(v, "id");
		if (!json_is_integer(jid) || (uint64_t)json_integer_value(jid) != id) {
			json_decref(v);
			continue;
		}
		rv = json_object_get(v, "return");
		if (rv) {
			*ret = json_incref(rv);
			json_decref(v);
			return 0;
		}
		e = json_object_get(json_object_get(v, "error"), "desc");
		snprintf(err, errlen, "QEMU refused %s: %s", cmd,
			 json_is_string(e) ? json_string_value(e) : "no reason given");
		json_decref(v);
		return -EREMOTEIO;
	}
}

/* ---- open ------------------------------------------------------------- */

static void set_err(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void set_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (!err || !errlen)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

struct qmp_client *qmp_client_open(const char *path, int timeout_ms,
				   char *err, size_t errlen, bool *usage)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct ucred cred;
	socklen_t cl = sizeof(cred);
	struct qmp_client *c;
	json_t *v = NULL, *ret = NULL;
	char why[120] = "";
	int r;

	*usage = false;
	if (strlen(path) >= sizeof(sa.sun_path)) {
		set_err(err, errlen, "--qmp %s: the path is longer than a unix socket allows; use a shorter one.", path);
		*usage = true;
		return NULL;
	}
	c = calloc(1, sizeof(*c));
	if (!c) {
		set_err(err, errlen, "--qmp %s: out of memory.", path);
		return NULL;
	}
	c->fd = -1;
	snprintf(c->path, sizeof(c->path), "%s", path);
	pthread_mutex_init(&c->lock, NULL);
	{
		pthread_condattr_t ca;

		pthread_condattr_init(&ca);
		pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
		pthread_cond_init(&c->wake, &ca);
		pthread_condattr_destroy(&ca);
	}
	memcpy(sa.sun_path, path, strlen(path));
	c->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (c->fd < 0 || connect(c->fd, (struct sockaddr *)&sa, sizeof(sa))) {
		set_err(err, errlen, "--qmp %s: cannot connect: %s; is QEMU running with -qmp unix:%s,server,wait=off?",
			path, strerror(errno), path);
		goto fail;
	}
	if (!getsockopt(c->fd, SOL_SOCKET, SO_PEERCRED, &cred, &cl))
		c->pid = (uint32_t)cred.pid;

	r = read_json(c, mono_ns() + (uint64_t)timeout_ms * 1000000ull, &v);
	if (r == -ETIMEDOUT)
		snprintf(why, sizeof(why), "it sent no greeting within %d ms", timeout_ms);
	else if (r == -EPIPE)
		snprintf(why, sizeof(why), "it closed the connection without a greeting");
	else if (r)
		snprintf(why, sizeof(why), "its first line is not JSON");
	else if (!json_is_object(json_object_get(v, "QMP")))
		snprintf(why, sizeof(why), "its greeting has no \"QMP\" object");
	json_decref(v);
	if (why[0]) {
		set_err(err, errlen, "--qmp %s is not a QMP socket (%s); give the socket of QEMU's -qmp option.",
			path, why);
		*usage = true;
		goto fail;
	}
	r = execute(c, "qmp_capabilities", timeout_ms, &ret, why, sizeof(why));
	json_decref(ret);
	if (r) {
		set_err(err, errlen, "--qmp %s is not a QMP socket (qmp_capabilities: %s); give the socket of QEMU's -qmp option.",
			path, r == -EREMOTEIO ? why : strerror(-r));
		*usage = true;
		goto fail;
	}
	return c;
fail:
	qmp_client_close(c);
	return NULL;
}

/* ---- polling ---------------------------------------------------------- */

int qmp_client_poll_once(struct qmp_client *c, int timeout_ms)
{
	struct qmp_migrate m = { 0 };
	json_t *ret = NULL;
	char err[sizeof(c->err)] = "";
	int r;

	r = execute(c, "query-migrate", timeout_ms, &ret, err, sizeof(err));
	/* the status is as of this answer, not of the parameters' after it */
	m.ts_ns = mono_ns();
	if (!r) {
		r = fill_migrate(ret, &m);
		json_decref(ret);
		ret = NULL;
	}
	if (!r) {
		r = execute(c, "query-migrate-parameters", timeout_ms, &ret, err,
			    sizeof(err));
		if (!r)
			r = fill_params(ret, &m);
		json_decref(ret);
	}
	pthread_mutex_lock(&c->lock);
	if (!r) {
		m.pid = c->pid;
		m.seq = c->sample.seq + 1;
		c->sample = m;
		c->have = true;
		c->hist[c->hist_next] = m;
		c->hist_next = (c->hist_next + 1) % QMP_HISTORY;
		if (c->nhist < QMP_HISTORY)
			c->nhist++;
		c->err[0] = '\0';
	} else if (r == -EREMOTEIO) {
		snprintf(c->err, sizeof(c->err), "%s", err);
	} else {
		snprintf(c->err, sizeof(c->err), "%s",
			 r == -EPIPE ? "QEMU closed the QMP connection" :
			 r == -ETIMEDOUT ? "QEMU did not answer in time" :
			 r == -EPROTO ? "QEMU sent a line that is not JSON" :
			 strerror(-r));
	}
	pthread_mutex_unlock(&c->lock);
	return r;
}

static void *poll_thread(void *arg)
{
	struct qmp_client *c = arg;
	uint64_t next = mono_ns();
	struct timespec ts;
	int r;

	for (;;) {
		r = qmp_client_poll_once(c, c->timeout_ms);
		pthread_mutex_lock(&c->lock);
		/* a closed socket stays closed: keep the last sample */
		if (r == -EPIPE || r == -ECONNRESET)
			c->stop = true;
		next += c->interval_ms * 1000000ull;
		if (next < mono_ns())
			next = mono_ns();
		ts.tv_sec = (time_t)(next / 1000000000ull);
		ts.tv_nsec = (long)(next % 1000000000ull);
		while (!c->stop &&
		       pthread_cond_timedwait(&c->wake, &c->lock, &ts) != ETIMEDOUT)
			;
		if (c->stop) {
			pthread_mutex_unlock(&c->lock);
			return NULL;
		}
		pthread_mutex_unlock(&c->lock);
	}
}

int qmp_client_start(struct qmp_client *c, uint64_t interval_ms, int timeout_ms)
{
	int r;

	c->interval_ms = interval_ms ? interval_ms : 1000;
	c->timeout_ms = timeout_ms;
	r = pthread_create(&c->thread, NULL, poll_thread, c);
	if (r)
		return -r;
	c->running = true;
	return 0;
}

bool qmp_client_sample(struct qmp_client *c, struct qmp_migrate *out)
{
	bool have;

	pthread_mutex_lock(&c->lock);
	have = c->have;
	if (have)
		*out = c->sample;
	pthread_mutex_unlock(&c->lock);
	return have;
}

bool qmp_client_sample_at(struct qmp_client *c, uint64_t ts_ns,
			  struct qmp_migrate *out)
{
	const struct qmp_migrate *best = NULL;
	unsigned int i;

	pthread_mutex_lock(&c->lock);
	for (i = 0; i < c->nhist; i++) {
		const struct qmp_migrate *h = &c->hist[i];

		if (h->ts_ns <= ts_ns && (!best || h->ts_ns > best->ts_ns))
			best = h;
	}
	if (best)
		*out = *best;
	pthread_mutex_unlock(&c->lock);
	return best != NULL;
}

bool qmp_client_sample_from(struct qmp_client *c, uint64_t seq,
			    struct qmp_migrate *out)
{
	const struct qmp_migrate *best = NULL;
	unsigned int i;

	pthread_mutex_lock(&c->lock);
	for (i = 0; i < c->nhist; i++) {
		const struct qmp_migrate *h = &c->hist[i];

		if (h->seq >= seq && (!best || h->seq < best->seq))
			best = h;
	}
	if (best)
		*out = *best;
	pthread_mutex_unlock(&c->lock);
	return best != NULL;
}

const char *qmp_client_path(const struct qmp_client *c)
{
	return c->path;
}

uint32_t qmp_client_pid(const struct qmp_client *c)
{
	return c->pid;
}

void qmp_client_error(struct qmp_client *c, char *buf, size_t len)
{
	pthread_mutex_lock(&c->lock);
	snprintf(buf, len, "%s", c->err);
	pthread_mutex_unlock(&c->lock);
}

void qmp_client_close(struct qmp_client *c)
{
	if (!c)
		return;
	if (c->running) {
		pthread_mutex_lock(&c->lock);
		c->stop = true;
		pthread_cond_signal(&c->wake);
		pthread_mutex_unlock(&c->lock);
		/* a query in flight ends within its timeout */
		pthread_join(c->thread, NULL);
	}
	if (c->fd >= 0)
		close(c->fd);
	pthread_cond_destroy(&c->wake);
	pthread_mutex_destroy(&c->lock);
	free(c->buf);
	free(c);
}
