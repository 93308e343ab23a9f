// SPDX-License-Identifier: GPL-2.0
/*
 * report_chrome_trace.c - report --format chrome-trace: the Trace Event
 * JSON of docs/chrome-trace.md, which Perfetto and chrome://tracing load.
 *
 * Events are kept as they come (reports end in END order, an iteration is
 * told after its last report) and written at the end sorted per track, so
 * that an iteration precedes the reports it encloses and every track reads
 * forward in time, as the format's importers want.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "name_index.h"
#include "report_chrome_trace.h"
#include "view.h"

enum ev_kind {
	EV_ITERATION,	/* sorted before a report that begins at the same ts */
	EV_REPORT,
	EV_ANOMALY,
};

struct ev {
	uint64_t ts, dur;	/* ns; ts since t0 once written */
	uint32_t dev;
	uint8_t kind;
	union {
		struct {
			uint64_t report_id, bitmap_id, iova, length, page_size;
			uint64_t dirty_pages, set_calls, ranges, lost, anomalies;
			int32_t ret;
			uint32_t flags;
		} r;
		struct {
			uint64_t index, reports, incomplete, dirty_pages;
			uint64_t dirty_bytes, covered_bytes;
			double bytes_per_s;
		} it;
		struct {
			uint32_t kind, count;
			uint64_t report_id, iova, length;
		} a;
	};
};

struct ct_dev {
	char name[MODEL_NAME_LEN];
	uint32_t pid;
	char comm[IOVA_COMM_LEN];
	uint32_t path;
};

struct chrome_trace {
	uint64_t t0;
	struct ev *ev;
	size_t nev, cap;
	struct ct_dev *dev;
	size_t ndev, devcap;
	struct name_index index;	/* name -> index in dev */
};

struct chrome_trace *chrome_trace_new(void)
{
	return calloc(1, sizeof(struct chrome_trace));
}

void chrome_trace_free(struct chrome_trace *ct)
{
	if (!ct)
		return;
	free(ct->ev);
	free(ct->dev);
	name_index_free(&ct->index);
	free(ct);
}

static const char *ct_name_of(const void *ctx, uint32_t i)
{
	return ((const struct chrome_trace *)ctx)->dev[i].name;
}

/*
 * The device's index (hashed: a crafted trace names any number); a new
 * device takes the pid and comm of its first report.
 */
static long dev_index(struct chrome_trace *ct, const char *name,
		      const struct iova_rec_task *task, uint32_t path)
{
	int64_t i = name_index_find(&ct->index, name, ct_name_of, ct);

	if (i >= 0)
		return (long)i;
	if (!task)
		return -1;	/* an iteration or anomaly of a device never reported */
	if (ct->ndev == ct->devcap) {
		size_t cap = ct->devcap ? ct->devcap * 2 : 16;
		struct ct_dev *d = realloc(ct->dev, cap * sizeof(*d));

		if (!d)
			return -ENOMEM;
		ct->dev = d;
		ct->devcap = cap;
	}
	memset(&ct->dev[ct->ndev], 0, sizeof(ct->dev[0]));
	snprintf(ct->dev[ct->ndev].name, MODEL_NAME_LEN, "%s", name);
	ct->dev[ct->ndev].pid = task->pid;
	memcpy(ct->dev[ct->ndev].comm, task->comm, IOVA_COMM_LEN);
	ct->dev[ct->ndev].comm[IOVA_COMM_LEN - 1] = '\0';
	ct->dev[ct->ndev].path = path;
	if (name_index_add(&ct->index, ct->dev[ct->ndev].name, (uint32_t)ct->ndev))
		return -ENOMEM;
	return (long)ct->ndev++;
}

static struct ev *ev_add(struct chrome_trace *ct)
{
	if (ct->nev == ct->cap) {
		size_t cap = ct->cap ? ct->cap * 2 : 256;
		struct ev *e = realloc(ct->ev, cap * sizeof(*e));

		if (!e)
			return NULL;
		ct->ev = e;
		ct->cap = cap;
	}
	memset(&ct->ev[ct->nev], 0, sizeof(ct->ev[0]));
	return &ct->ev[ct->nev++];
}

int chrome_trace_report(struct chrome_trace *ct, const struct model_report *r)
{
	long d = dev_index(ct, r->device, &r->task, r->path);
	struct ev *e;

	if (d < 0)
		return (int)d;
	e = ev_add(ct);
	if (!e)
		return -ENOMEM;
	e->kind = EV_REPORT;
	e->dev = (uint32_t)d;
	e->ts = r->ts_begin_ns;
	e->dur = r->ts_end_ns > r->ts_begin_ns ? r->ts_end_ns - r->ts_begin_ns : 0;
	e->r.report_id = r->report_id;
	e->r.bitmap_id = r->bitmap_id;
	e->r.iova = r->iova;
	e->r.length = r->length;
	e->r.page_size = r->page_size;
	e->r.dirty_pages = r->dirty_pages;
	e->r.set_calls = r->set_calls;
	e->r.ranges = r->ranges;
	e->r.lost = r->lost;
	e->r.anomalies = r->anomalies;
	e->r.ret = r->ret;
	e->r.flags = r->flags;
	return 0;
}

int chrome_trace_iteration(struct chrome_trace *ct, const struct model_iteration *it)
{
	long d = dev_index(ct, it->device, NULL, 0);
	struct ev *e;

	if (d < 0)
		return d == -ENOMEM ? -ENOMEM : 0;
	e = ev_add(ct);
	if (!e)
		return -ENOMEM;
	e->kind = EV_ITERATION;
	e->dev = (uint32_t)d;
	e->ts = it->ts_begin_ns;
	e->dur = it->ts_end_ns > it->ts_begin_ns ? it->ts_end_ns - it->ts_begin_ns : 0;
	e->it.index = it->index;
	e->it.reports = it->reports;
	e->it.incomplete = it->incomplete;
	e->it.dirty_pages = it->dirty_pages;
	e->it.dirty_bytes = it->dirty_bytes;
	e->it.covered_bytes = it->covered_bytes;
	e->it.bytes_per_s = it->dirty_bytes_per_s;
	return 0;
}

int chrome_trace_anomaly(struct chrome_trace *ct, const struct model_anomaly *a)
{
	long d = dev_index(ct, a->device, NULL, 0);
	struct ev *e;

	if (d < 0)
		return d == -ENOMEM ? -ENOMEM : 0;
	e = ev_add(ct);
	if (!e)
		return -ENOMEM;
	e->kind = EV_ANOMALY;
	e->dev = (uint32_t)d;
	e->ts = a->ts_ns;
	e->a.kind = a->kind;
	e->a.count = a->count;
	e->a.report_id = a->report_id;
	e->a.iova = a->iova;
	e->a.length = a->length;
	return 0;
}

/* ---- writing ------------------------------------------------------------ */

static void json_str(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			fprintf(f, "\\%c", c);
		else if (c < 0x20 || c >= 0x7f)
			fprintf(f, "\\u%04x", c);	/* comm is bytes, not UTF-8 */
		else
			fputc(c, f);
	}
	fputc('"', f);
}

/* Microseconds with the nanoseconds kept: 1234.567 */
static void json_us(FILE *f, uint64_t ns)
{
	fprintf(f, "%" PRIu64 ".%03" PRIu64, ns / 1000, ns % 1000);
}

static const struct chrome_trace *sort_ct;

static int ev_cmp(const void *pa, const void *pb)
{
	const struct ev *a = pa, *b = pb;
	const struct ct_dev *da = &sort_ct->dev[a->dev], *db = &sort_ct->dev[b->dev];

	if (da->pid != db->pid)
		return da->pid < db->pid ? -1 : 1;
	if (a->dev != b->dev)
		return a->dev < b->dev ? -1 : 1;
	if (a->ts != b->ts)
		return a->ts < b->ts ? -1 : 1;
	/* the enclosing event first: longer, then iteration before report */
	if (a->dur != b->dur)
		return a->dur > b->dur ? -1 : 1;
	return (int)a->kind - (int)b->kind;
}

/* pid and tid of a device's track: its VMM, and the device's own number. */
static void track(FILE *f, const struct chrome_trace *ct, uint32_t dev)
{
	fprintf(f, "\"pid\": %u, \"tid\": %u", ct->dev[dev].pid, dev + 1);
}

static void counter(FILE *f, const struct chrome_trace *ct, uint32_t dev,
		    const char *what, uint64_t ts, double value)
{
	fprintf(f, ",\n{\"ph\": \"C\", \"name\": ");
	{
		char name[MODEL_NAME_LEN + 32];

		snprintf(name, sizeof(name), "%s %s", ct->dev[dev].name, what);
		json_str(f, name);
	}
	fprintf(f, ", \"ts\": ");
	json_us(f, ts);
	fprintf(f, ", ");
	track(f, ct, dev);
	fprintf(f, ", \"args\": {\"%s\": %.6f}}", what, value);
}

static void write_event(FILE *f, const struct chrome_trace *ct, const struct ev *e)
{
	switch (e->kind) {
	case EV_REPORT:
		fprintf(f, ",\n{\"ph\": \"X\", \"cat\": \"report\", \"name\": \"report %" PRIu64
			"\", \"ts\": ", e->r.report_id);
		json_us(f, e->ts);
		fprintf(f, ", \"dur\": ");
		json_us(f, e->dur);
		fprintf(f, ", ");
		track(f, ct, e->dev);
		fprintf(f, ", \"args\": {\"report_id\": %" PRIu64 ", \"bitmap_id\": %" PRIu64
			", \"iova\": \"0x%" PRIx64 "\", \"length\": \"0x%" PRIx64
			"\", \"page_size\": %" PRIu64 ", \"dirty_pages\": %" PRIu64
			", \"dirty_bytes\": %" PRIu64 ", \"set_calls\": %" PRIu64
			", \"ranges\": %" PRIu64 ", \"lost\": %" PRIu64
			", \"anomalies\": %" PRIu64 ", \"ret\": %d, \"incomplete\": %s"
			", \"ts_end_ns\": %" PRIu64 "}}",
			e->r.report_id, e->r.bitmap_id, e->r.iova, e->r.length,
			e->r.page_size, e->r.dirty_pages,
			e->r.dirty_pages * e->r.page_size, e->r.set_calls, e->r.ranges,
			e->r.lost, e->r.anomalies, e->r.ret,
			e->r.flags & IOVA_REPORT_INCOMPLETE ? "true" : "false",
			ct->t0 + e->ts + e->dur);
		break;
	case EV_ITERATION:
		fprintf(f, ",\n{\"ph\": \"X\", \"cat\": \"iteration\", \"name\": \"iteration %" PRIu64
			"\", \"ts\": ", e->it.index);
		json_us(f, e->ts);
		fprintf(f, ", \"dur\": ");
		json_us(f, e->dur);
		fprintf(f, ", ");
		track(f, ct, e->dev);
		fprintf(f, ", \"args\": {\"index\": %" PRIu64 ", \"reports\": %" PRIu64
			", \"incomplete\": %" PRIu64 ", \"dirty_pages\": %" PRIu64
			", \"dirty_bytes\": %" PRIu64 ", \"covered_bytes\": %" PRIu64
			", \"dirty_bytes_per_s\": %.3f}}",
			e->it.index, e->it.reports, e->it.incomplete, e->it.dirty_pages,
			e->it.dirty_bytes, e->it.covered_bytes, e->it.bytes_per_s);
		break;
	case EV_ANOMALY:
		fprintf(f, ",\n{\"ph\": \"i\", \"s\": \"t\", \"cat\": \"anomaly\", \"name\": ");
		json_str(f, model_anomaly_name(e->a.kind));
		fprintf(f, ", \"ts\": ");
		json_us(f, e->ts);
		fprintf(f, ", ");
		track(f, ct, e->dev);
		fprintf(f, ", \"args\": {\"kind\": %u, \"count\": %u, \"report_id\": %" PRIu64
			", \"iova\": \"0x%" PRIx64 "\", \"length\": \"0x%" PRIx64 "\"}}",
			e->a.kind, e->a.count, e->a.report_id, e->a.iova, e->a.length);
		break;
	}
}

/*
 * The two counters of one device, from its sorted events. The rate of
 * iteration k covers the time since iteration k-1 ended, so its sample
 * sits there and holds until the next; the first iteration's start is
 * not traced and it has none. The running total steps at each report's
 * end.
 */
static void write_counters(FILE *f, const struct chrome_trace *ct,
			   const struct ev *e, size_t n)
{
	uint64_t prev_end = 0, last_end = 0, total = 0;
	bool have_prev = false;
	size_t i;

	for (i = 0; i < n; i++) {
		if (e[i].kind != EV_ITERATION)
			continue;
		if (have_prev)
			counter(f, ct, e[i].dev, "dirty MiB/s", prev_end,
				e[i].it.bytes_per_s / (1024.0 * 1024.0));
		prev_end = last_end = e[i].ts + e[i].dur;
		have_prev = true;
	}
	if (have_prev)
		counter(f, ct, e[0].dev, "dirty MiB/s", last_end, 0);
	/*
	 * Reports are sorted by begin; the total must step forward in time,
	 * so it goes by end (the same order unless reports overlap).
	 */
	{
		uint64_t *ends = NULL, *bytes = NULL;
		size_t m = 0, k;

		for (i = 0; i < n; i++)
			m += e[i].kind == EV_REPORT;
		ends = calloc(m ? m : 1, sizeof(*ends));
		bytes = calloc(m ? m : 1, sizeof(*bytes));
		if (!ends || !bytes) {
			free(ends);
			free(bytes);
			return;
		}
		for (i = 0, k = 0; i < n; i++) {
			if (e[i].kind != EV_REPORT)
				continue;
			size_t p = k++;

			/* insertion by end: almost always in order already */

			while (p && ends[p - 1] > e[i].ts + e[i].dur) {
				ends[p] = ends[p - 1];
				bytes[p] = bytes[p - 1];
				p--;
			}
			ends[p] = e[i].ts + e[i].dur;
			bytes[p] = e[i].r.dirty_pages * e[i].r.page_size;
		}
		for (k = 0; k < m; k++) {
			total += bytes[k];
			counter(f, ct, e[0].dev, "dirty MiB", ends[k],
				(double)total / (1024.0 * 1024.0));
		}
		free(ends);
		free(bytes);
	}
}

int chrome_trace_write(struct chrome_trace *ct, FILE *f, const char *source,
		       uint64_t t0_ns)
{
	size_t i, j;

	ct->t0 = t0_ns;
	for (i = 0; i < ct->nev; i++)
		ct->ev[i].ts = ct->ev[i].ts > t0_ns ? ct->ev[i].ts - t0_ns : 0;

	sort_ct = ct;
	qsort(ct->ev, ct->nev, sizeof(*ct->ev), ev_cmp);
	sort_ct = NULL;

	fprintf(f, "{\"displayTimeUnit\": \"ms\", \"otherData\": {\"tool\": \"iovatop\", \"source\": ");
	json_str(f, source ? source : "");
	fprintf(f, ", \"t0_ns\": %" PRIu64 "},\n\"traceEvents\": [\n", ct->t0);
	/* the first element has no comma before it: a metadata event of the tool */
	fprintf(f, "{\"ph\": \"M\", \"name\": \"process_name\", \"pid\": 0, \"tid\": 0, \"args\": {\"name\": \"iovatop\"}}");
	for (i = 0; i < ct->ndev; i++) {
		const struct ct_dev *d = &ct->dev[i];
		char pname[IOVA_COMM_LEN + 32];
		bool first = true;

		for (j = 0; j < i; j++)
			if (ct->dev[j].pid == d->pid)
				first = false;
		if (first) {
			snprintf(pname, sizeof(pname), "%s (pid %u)", d->comm, d->pid);
			fprintf(f, ",\n{\"ph\": \"M\", \"name\": \"process_name\", \"pid\": %u, \"tid\": 0, \"args\": {\"name\": ",
				d->pid);
			json_str(f, pname);
			fprintf(f, "}}");
		}
		fprintf(f, ",\n{\"ph\": \"M\", \"name\": \"thread_name\", ");
		track(f, ct, (uint32_t)i);
		fprintf(f, ", \"args\": {\"name\": ");
		json_str(f, d->name);
		fprintf(f, "}}");
		fprintf(f, ",\n{\"ph\": \"M\", \"name\": \"thread_sort_index\", ");
		track(f, ct, (uint32_t)i);
		fprintf(f, ", \"args\": {\"sort_index\": %zu}}", i);
	}
	for (i = 0; i < ct->nev; i = j) {
		for (j = i; j < ct->nev && ct->ev[j].dev == ct->ev[i].dev; j++)
			write_event(f, ct, &ct->ev[j]);
		write_counters(f, ct, &ct->ev[i], j - i);
	}
	fprintf(f, "\n]}\n");
	return ferror(f) ? -1 : 0;
}
