// SPDX-License-Identifier: GPL-2.0
/*
 * icount_plugin.c - a QEMU TCG plugin (plugin API version 4, QEMU 10) for
 * the overhead bench: it counts the guest instructions each vCPU executes
 * and, each time a vCPU runs one of the marks of icount_mark.h, appends
 * the mark and that vCPU's count to a file:
 *
 *	B|E VCPU COUNT
 *
 * The bench marks the start and the end of each timed report ioctl, so
 * the difference is what the report cost in instructions: the kernel's
 * walk, the trampolines and the BPF programs, and whatever interrupt that
 * vCPU took meanwhile. Unlike the ioctl's time it does not move when the
 * host is busy or the emulator's clock jumps.
 *
 *	qemu-system-x86_64 ... -plugin PATH/icount_plugin.so,out=FILE[,profile=PROF]
 *
 * With profile=PROF it also writes, at each end mark, where that mark's
 * instructions went: "R N" for the Nth marked window (from 0), then a
 * "ADDRESS COUNT" line per block run inside it, ADDRESS the guest's
 * virtual address of the block. bench/vm/icount_profile.c names them.
 *
 * Instructions are counted a translation block at a time, by a callback
 * as a block is entered: a mark's count includes the rest of its block. Both marks sit
 * in the same place of the bench's code, so this is the same handful of
 * instructions on either side and leaves the difference alone; a block
 * cut short by an exception counts the instructions it did not run, which
 * only interrupts and faults inside the ioctl can cause.
 *
 * One vCPU only: QEMU 10.0.2 with single-threaded TCG hands a block's
 * callbacks the index of the vCPU that translated the block, not of the
 * one running it (measured: a loop CPU 0 ran first is counted on vCPU 0
 * when CPU 1 runs it later), so with two vCPUs each count would hold
 * part of the other's work and miss part of its own. (QEMU's inline
 * counters, cheaper than a callback, crashed the 6.12 guest at boot under
 * QEMU 10.0.2: the callback costs about a tenth more boot time.)
 *
 * Debian ships QEMU's plugin loader but not its header (qemu-plugin.h),
 * so the types and functions used here are declared below, from the
 * plugin ABI QEMU documents for version 4. QEMU refuses to load a plugin
 * whose version it does not support, with a message that says so.
 */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "icount_mark.h"

/* --- the part of QEMU's plugin ABI this plugin uses (version 4) --- */
#define PLUGIN_EXPORT __attribute__((visibility("default")))

typedef uint64_t qemu_plugin_id_t;

typedef struct {
	const char *target_name;
	struct {
		int min;
		int cur;
	} version;
	bool system_emulation;
	union {
		struct {
			int smp_vcpus;
			int max_vcpus;
		} system;
	};
} qemu_info_t;

struct qemu_plugin_tb;
struct qemu_plugin_insn;

enum qemu_plugin_cb_flags { QEMU_PLUGIN_CB_NO_REGS };

typedef void (*qemu_plugin_udata_cb_t)(qemu_plugin_id_t id, void *userdata);
typedef void (*qemu_plugin_vcpu_udata_cb_t)(unsigned int vcpu_index, void *userdata);
typedef void (*qemu_plugin_vcpu_tb_trans_cb_t)(qemu_plugin_id_t id,
					       struct qemu_plugin_tb *tb);

void qemu_plugin_register_vcpu_tb_trans_cb(qemu_plugin_id_t id,
					   qemu_plugin_vcpu_tb_trans_cb_t cb);
void qemu_plugin_register_vcpu_tb_exec_cb(struct qemu_plugin_tb *tb,
					  qemu_plugin_vcpu_udata_cb_t cb,
					  enum qemu_plugin_cb_flags flags, void *userdata);
void qemu_plugin_register_vcpu_insn_exec_cb(struct qemu_plugin_insn *insn,
					    qemu_plugin_vcpu_udata_cb_t cb,
					    enum qemu_plugin_cb_flags flags, void *userdata);
size_t qemu_plugin_tb_n_insns(const struct qemu_plugin_tb *tb);
uint64_t qemu_plugin_tb_vaddr(const struct qemu_plugin_tb *tb);
struct qemu_plugin_insn *qemu_plugin_tb_get_insn(const struct qemu_plugin_tb *tb,
						 size_t idx);
size_t qemu_plugin_insn_data(const struct qemu_plugin_insn *insn, void *dest, size_t len);
size_t qemu_plugin_insn_size(const struct qemu_plugin_insn *insn);
void qemu_plugin_register_atexit_cb(qemu_plugin_id_t id, qemu_plugin_udata_cb_t cb,
				    void *userdata);
void qemu_plugin_outs(const char *string);
/* --- end of the ABI --- */

PLUGIN_EXPORT int qemu_plugin_version = 4;

/*
 * Per vCPU: instructions executed. Each vCPU's thread (one for all with
 * single-threaded TCG) writes only its own.
 */
static uint64_t *insns;
static unsigned int nvcpus;
static FILE *out;
static pthread_mutex_t out_lock = PTHREAD_MUTEX_INITIALIZER;
static uint64_t marks;

/* A translated block: its size, and for a profile, its count in a window. */
struct block {
	uint64_t vaddr;
	uint64_t in_window;
	uint32_t n;
	bool listed;
};

/*
 * The profile (one vCPU, so one window at a time): the blocks run since
 * the last begin mark, each listed once.
 */
static FILE *prof;
static bool in_window;
static struct block **touched;
static size_t ntouched, touched_cap;
static uint64_t windows;
static bool prof_failed;

static void profile_block(struct block *b)
{
	b->in_window += b->n;
	if (b->listed)
		return;
	if (ntouched == touched_cap) {
		size_t cap = touched_cap ? 2 * touched_cap : 4096;
		struct block **t = realloc(touched, cap * sizeof(*t));

		if (!t) {
			prof_failed = true;
			return;
		}
		touched = t;
		touched_cap = cap;
	}
	b->listed = true;
	touched[ntouched++] = b;
}

static void profile_flush(void)
{
	size_t i;

	if (fprintf(prof, "R %llu\n", (unsigned long long)windows++) < 0)
		prof_failed = true;
	for (i = 0; i < ntouched; i++) {
		struct block *b = touched[i];

		if (fprintf(prof, "%llx %llu\n", (unsigned long long)b->vaddr,
			    (unsigned long long)b->in_window) < 0)
			prof_failed = true;
		b->in_window = 0;
		b->listed = false;
	}
	ntouched = 0;
}

static void on_mark(unsigned int vcpu, void *udata)
{
	uint64_t n = vcpu < nvcpus ? insns[vcpu] : 0;

	/* multi-threaded TCG runs vCPUs at once: one line at a time */
	pthread_mutex_lock(&out_lock);
	fprintf(out, "%c %u %llu\n", udata ? 'E' : 'B', vcpu, (unsigned long long)n);
	marks++;
	if (prof) {
		/* the end mark's block falls in the window, the begin mark's not: in every report alike */
		if (udata && in_window)
			profile_flush();
		in_window = !udata;
	}
	pthread_mutex_unlock(&out_lock);
}

static void on_block(unsigned int vcpu, void *udata)
{
	struct block *b = udata;

	if (vcpu < nvcpus)
		insns[vcpu] += b->n;
	if (in_window)
		profile_block(b);
}

static bool is_mark(struct qemu_plugin_insn *insn, bool *end)
{
	unsigned char b[ICOUNT_MARK_LEN];
	uint32_t disp;

	if (qemu_plugin_insn_size(insn) != ICOUNT_MARK_LEN ||
	    qemu_plugin_insn_data(insn, b, sizeof(b)) != sizeof(b))
		return false;
	if (b[0] != ICOUNT_MARK_OP0 || b[1] != ICOUNT_MARK_OP1 || b[2] != ICOUNT_MARK_MODRM)
		return false;
	disp = b[3] | b[4] << 8 | b[5] << 16 | (uint32_t)b[6] << 24;
	*end = disp == ICOUNT_MARK_END;
	return disp == ICOUNT_MARK_BEGIN || disp == ICOUNT_MARK_END;
}

static void on_translate(qemu_plugin_id_t id, struct qemu_plugin_tb *tb)
{
	size_t i, n = qemu_plugin_tb_n_insns(tb);
	struct block *b = calloc(1, sizeof(*b));
	bool end;

	(void)id;
	/* a block retranslated gets a new one: blocks are never freed */
	if (!b) {
		fprintf(stderr, "icount_plugin: out of memory\n");
		abort();
	}
	b->vaddr = qemu_plugin_tb_vaddr(tb);
	b->n = n;
	qemu_plugin_register_vcpu_tb_exec_cb(tb, on_block, QEMU_PLUGIN_CB_NO_REGS, b);
	for (i = 0; i < n; i++) {
		struct qemu_plugin_insn *insn = qemu_plugin_tb_get_insn(tb, i);

		if (is_mark(insn, &end))
			qemu_plugin_register_vcpu_insn_exec_cb(insn, on_mark,
							       QEMU_PLUGIN_CB_NO_REGS,
							       end ? (void *)1 : NULL);
	}
}

static void on_exit_(qemu_plugin_id_t id, void *udata)
{
	char msg[128];

	(void)id;
	(void)udata;
	pthread_mutex_lock(&out_lock);
	if (fflush(out) || ferror(out))
		snprintf(msg, sizeof(msg), "icount_plugin: cannot write the counts: %s\n",
			 strerror(errno));
	else if (prof && (prof_failed || fflush(prof) || ferror(prof)))
		snprintf(msg, sizeof(msg), "icount_plugin: the profile is incomplete\n");
	else
		snprintf(msg, sizeof(msg), "icount_plugin: %llu marks counted\n",
			 (unsigned long long)marks);
	pthread_mutex_unlock(&out_lock);
	qemu_plugin_outs(msg);
}

PLUGIN_EXPORT int qemu_plugin_install(qemu_plugin_id_t id, const qemu_info_t *info,
				      int argc, char **argv)
{
	const char *path = NULL, *prof_path = NULL;
	int i;

	for (i = 0; i < argc; i++) {
		if (!strncmp(argv[i], "out=", 4) && argv[i][4]) {
			path = argv[i] + 4;
		} else if (!strncmp(argv[i], "profile=", 8) && argv[i][8]) {
			prof_path = argv[i] + 8;
		} else {
			fprintf(stderr, "icount_plugin: unknown argument '%s' (out=FILE and profile=FILE are known)\n",
				argv[i]);
			return -1;
		}
	}
	if (!path) {
		fprintf(stderr, "icount_plugin: out=FILE is required\n");
		return -1;
	}
	if (strcmp(info->target_name, "x86_64")) {
		fprintf(stderr, "icount_plugin: its marks are x86-64 instructions, not %s ones\n",
			info->target_name);
		return -1;
	}
	if (!info->system_emulation || info->system.max_vcpus <= 0) {
		fprintf(stderr, "icount_plugin: counts vCPUs of a whole system, not a user-mode process\n");
		return -1;
	}
	if (info->system.max_vcpus != 1) {
		fprintf(stderr, "icount_plugin: needs a guest of one vCPU (-smp 1), not %d: QEMU counts a block on the vCPU that translated it\n",
			info->system.max_vcpus);
		return -1;
	}
	nvcpus = info->system.max_vcpus;
	insns = calloc(nvcpus, sizeof(*insns));
	if (!insns) {
		fprintf(stderr, "icount_plugin: out of memory\n");
		return -1;
	}
	out = fopen(path, "w");
	if (!out) {
		fprintf(stderr, "icount_plugin: cannot create %s: %s\n", path, strerror(errno));
		return -1;
	}
	/* whole lines reach the file even if QEMU is killed */
	setvbuf(out, NULL, _IOLBF, 0);
	if (prof_path) {
		prof = fopen(prof_path, "w");
		if (!prof) {
			fprintf(stderr, "icount_plugin: cannot create %s: %s\n", prof_path,
				strerror(errno));
			return -1;
		}
	}
	qemu_plugin_register_vcpu_tb_trans_cb(id, on_translate);
	qemu_plugin_register_atexit_cb(id, on_exit_, NULL);
	return 0;
}
