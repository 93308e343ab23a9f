// SPDX-License-Identifier: GPL-2.0
/*
 * forecast_session.c - the forecast over a session: --link-rate,
 * --downtime-limit and --qmp, a QMP client per VM, and each VM's forecast
 * after every snapshot (include/forecast_session.h).
 */
#include <argp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli_util.h"
#include "forecast_session.h"
#include "qmp_client.h"
#include "qmp_record.h"

/* A QEMU gets this long to greet, and then to answer each query. */
#define QMP_TIMEOUT_MS	2000

enum { OPT_LINK_RATE = 0x300, OPT_DOWNTIME_LIMIT, OPT_QMP };

static error_t parse(int key, char *arg, struct argp_state *state)
{
	struct forecast_args *a = state->input;

	switch (key) {
	case OPT_LINK_RATE:
		if (forecast_parse_rate(arg, &a->opts.link_bytes_s) ||
		    a->opts.link_bytes_s <= 0)
			argp_error(state, "--link-rate '%s' is not a rate; write it like 10G (bits/s), 1.25GB/s or 800MiB/s.",
				   arg);
		a->given = true;
		return 0;
	case OPT_DOWNTIME_LIMIT:
		if (forecast_parse_duration(arg, &a->opts.downtime_limit_s) ||
		    a->opts.downtime_limit_s <= 0)
			argp_error(state, "--downtime-limit '%s' is not a duration; write it like 300ms or 0.5s.",
				   arg);
		a->given = true;
		return 0;
	case OPT_QMP:
		if (a->nqmp == FORECAST_MAX_VMS)
			argp_error(state, "more than %d --qmp sockets; watch fewer VMs at a time.",
				   FORECAST_MAX_VMS);
		a->qmp[a->nqmp++] = arg;
		a->given = true;
		return 0;
	}
	return ARGP_ERR_UNKNOWN;
}

static const struct argp_option options[] = {
	{ NULL, 0, NULL, 0, "Forecast (docs/forecast.md):", 10 },
	{ "link-rate", OPT_LINK_RATE, "RATE", 0, "Assume this migration bandwidth: 10G is bits/s, 1.25GB/s bytes/s", 10 },
	{ "downtime-limit", OPT_DOWNTIME_LIMIT, "TIME", 0, "Assume this downtime limit (default QEMU's 300ms)", 10 },
	{ "qmp", OPT_QMP, "SOCKET", 0, "Ask this QEMU's QMP socket for its own figures (repeat: one per VM)", 10 },
	{ 0 },
};

const struct argp forecast_args_argp = {
	.options = options,
	.parser = parse,
};

struct vm {
	struct qmp_client *qmp;		/* NULL: the rows of pid */
	const struct qmp_samples *rec;	/* replay: QEMU pid's recorded samples */
	uint32_t pid;
	bool have_prev;
	struct forecast prev;
};

struct forecast_session {
	struct forecast_opts opts;
	unsigned int nvm, nqmp;
	struct vm vm[FORECAST_MAX_VMS];
	struct forecast fc[FORECAST_MAX_VMS];
	unsigned int nfc;
	char line[FORECAST_LINE_LEN];
};

struct forecast_session *forecast_session_open(const struct forecast_args *a,
					       uint64_t interval_ns,
					       int *exit_code)
{
	struct forecast_session *s;
	char err[512];
	bool usage;
	int i;

	*exit_code = 0;
	if (!a->given)
		return NULL;
	s = calloc(1, sizeof(*s));
	if (!s) {
		fprintf(stderr, "%s: out of memory for the forecast.\n", cli_name);
		*exit_code = 1;
		return NULL;
	}
	s->opts = a->opts;
	for (i = 0; i < a->nqmp; i++) {
		struct qmp_client *c = qmp_client_open(a->qmp[i], QMP_TIMEOUT_MS,
						       err, sizeof(err), &usage);

		if (!c) {
			fprintf(stderr, "%s: %s\n", cli_name, err);
			*exit_code = usage ? 2 : 1;
			goto fail;
		}
		s->vm[s->nvm].qmp = c;
		s->vm[s->nvm++].pid = qmp_client_pid(c);
		s->nqmp++;
		/* the first answer before the first frame, if QEMU is quick */
		qmp_client_poll_once(c, QMP_TIMEOUT_MS);
		if (qmp_client_start(c, interval_ns / 1000000, QMP_TIMEOUT_MS)) {
			fprintf(stderr, "%s: cannot start the QMP thread for %s.\n", cli_name,
				a->qmp[i]);
			*exit_code = 1;
			goto fail;
		}
	}
	return s;
fail:
	forecast_session_close(s);
	return NULL;
}

struct forecast_session *forecast_session_replay(const struct forecast_args *a,
						 const struct qmp_samples *smp,
						 int *exit_code)
{
	struct forecast_session *s;
	uint32_t pids[FORECAST_MAX_VMS];
	unsigned int n, i;

	n = smp ? qmp_samples_pids(smp, pids, FORECAST_MAX_VMS) : 0;
	if (!n)
		return forecast_session_open(a, 0, exit_code);
	*exit_code = 0;
	s = calloc(1, sizeof(*s));
	if (!s) {
		fprintf(stderr, "%s: out of memory for the forecast.\n", cli_name);
		*exit_code = 1;
		return NULL;
	}
	s->opts = a->opts;
	for (i = 0; i < n; i++) {
		s->vm[i].rec = smp;
		s->vm[i].pid = pids[i];
	}
	s->nvm = s->nqmp = n;
	return s;
}

static int rank(enum forecast_verdict v)
{
	switch (v) {
	case FORECAST_CANNOT: return 4;
	case FORECAST_CONVERGES: return 3;
	case FORECAST_UNKNOWN: return 2;
	case FORECAST_ENDED: return 1;
	default: return 0;
	}
}

/*
 * Without QMP each process the rows name is a VM of its own: its slot is
 * found by pid (so its previous forecast follows it), the oldest reused.
 */
static void vms_from_rows(struct forecast_session *s,
			  const struct model_snapshot *snap)
{
	uint32_t i, j;

	for (i = 0; snap && i < snap->nrows; i++) {
		uint32_t pid = snap->rows[i].pid;

		for (j = 0; j < s->nvm && s->vm[j].pid != pid; j++)
			;
		if (j < s->nvm)
			continue;
		if (s->nvm == FORECAST_MAX_VMS) {
			memmove(&s->vm[0], &s->vm[1], sizeof(s->vm[0]) * (s->nvm - 1));
			s->nvm--;
		}
		memset(&s->vm[s->nvm], 0, sizeof(s->vm[0]));
		s->vm[s->nvm++].pid = pid;
	}
}

static bool pid_in(const struct model_snapshot *snap, uint32_t pid)
{
	uint32_t i;

	for (i = 0; snap && i < snap->nrows; i++)
		if (snap->rows[i].pid == pid)
			return true;
	return false;
}

void forecast_session_update(struct forecast_session *s,
			     struct model_snapshot *snap)
{
	unsigned int i, worst = 0, nvm = 0;
	size_t n = 0;

	if (!s)
		return;
	s->nfc = 0;
	s->line[0] = '\0';
	if (!s->nqmp)
		vms_from_rows(s, snap);
	for (i = 0; i < s->nvm; i++) {
		struct vm *vm = &s->vm[i];
		struct forecast *f = &s->fc[s->nfc];
		struct forecast_opts o = s->opts;
		struct qmp_migrate q;

		/* a process no longer in the table has nothing to forecast */
		if (!vm->qmp && !vm->rec && !pid_in(snap, vm->pid))
			continue;
		nvm++;
		o.pid = vm->pid;

		/*
		 * QEMU as of the snapshot's instant: a view that fell behind
		 * (the records' clock lags the wall) must not join today's
		 * QEMU with the devices of seconds ago
		 */
		if (vm->rec) {
			/* as live: at the snapshot's instant, else the first */
			const struct qmp_migrate *r =
				qmp_samples_at(vm->rec, vm->pid,
					       snap ? snap->now_ns : UINT64_MAX);

			q = r ? *r : *qmp_samples_first(vm->rec, vm->pid);
		} else if (vm->qmp &&
		    !qmp_client_sample_at(vm->qmp, snap ? snap->now_ns : UINT64_MAX, &q) &&
		    !qmp_client_sample(vm->qmp, &q)) {
			char err[160];

			/* no answer yet: say why, forecast nothing for it */
			qmp_client_error(vm->qmp, err, sizeof(err));
			snprintf(s->line, sizeof(s->line), "qmp %s: %s",
				 qmp_client_path(vm->qmp),
				 err[0] ? err : "no answer yet");
			continue;
		}
		forecast_compute(f, &o, snap, vm->qmp || vm->rec ? &q : NULL,
				 vm->have_prev ? &vm->prev : NULL);
		vm->prev = *f;
		vm->have_prev = true;
		if (!s->nfc || rank(f->verdict) > rank(s->fc[worst].verdict))
			worst = s->nfc;
		s->nfc++;
	}
	forecast_session_mark(s, snap);
	if (!s->nfc)
		return;
	n = forecast_format_line(s->line, sizeof(s->line), &s->fc[worst], -1);
	if (nvm > 1 && n + 1 < sizeof(s->line))
		n += (size_t)snprintf(s->line + n, sizeof(s->line) - n,
				      "  [worst of %u VMs]", nvm);
	if (n >= sizeof(s->line))
		n = sizeof(s->line) - 1;
	/* a QEMU that went away or stopped answering: its figures are old */
	for (i = 0; i < s->nvm; i++) {
		char err[160];

		if (!s->vm[i].qmp)
			continue;
		qmp_client_error(s->vm[i].qmp, err, sizeof(err));
		if (err[0] && n + 1 < sizeof(s->line)) {
			snprintf(s->line + n, sizeof(s->line) - n, "  [qmp %u: %s]",
				 s->vm[i].pid, err);
			break;
		}
	}
}

void forecast_session_mark(const struct forecast_session *s,
			   struct model_snapshot *snap)
{
	unsigned int i;

	if (!s || !snap)
		return;
	for (i = 0; i < s->nfc; i++)
		forecast_mark_rows(&s->fc[i], snap);
}

const char *forecast_session_line(const struct forecast_session *s)
{
	return s ? s->line : NULL;
}

unsigned int forecast_session_count(const struct forecast_session *s)
{
	return s ? s->nfc : 0;
}

const struct forecast *forecast_session_get(const struct forecast_session *s,
					    unsigned int i)
{
	return s && i < s->nfc ? &s->fc[i] : NULL;
}

void forecast_session_close(struct forecast_session *s)
{
	unsigned int i;

	if (!s)
		return;
	for (i = 0; i < FORECAST_MAX_VMS; i++)
		qmp_client_close(s->vm[i].qmp);
	free(s);
}
