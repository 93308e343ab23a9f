// SPDX-License-Identifier: GPL-2.0
/*
 * live_probe.c - what the running kernel offers the live source, asked
 * before anything is loaded (include/live_probe.h): kallsyms, privileges,
 * a fentry test program, and struct iova_bitmap as its BTF describes it.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include "iova_trace.h"
#include "live_probe.h"

const char *const fn_names[FN_MAX] = {
	[FN_ALLOC] = "iova_bitmap_alloc",
	[FN_FOR_EACH] = "iova_bitmap_for_each",
	[FN_SET] = "iova_bitmap_set",
	[FN_FREE] = "iova_bitmap_free",
	[FN_HWPT] = "iommufd_hwpt_get_dirty_bitmap",
	[FN_CB_VFIO] = "vfio_device_log_read_and_clear",
	[FN_CB_IOMMUFD] = "__iommu_read_and_clear_dirty",
};

/*
 * /proc/kallsyms names the functions even without privileges (addresses
 * then read as 0), so it tells precisely what is missing before anything
 * is loaded.
 */
int read_kallsyms(struct ksym *ks)
{
	char line[512], name[256], mod[64];
	unsigned long long addr;
	char type;
	FILE *f;
	int i, n;

	f = fopen("/proc/kallsyms", "re");
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		mod[0] = '\0';
		n = sscanf(line, "%llx %c %255s [%63[^]]]", &addr, &type, name,
			   mod);
		if (n < 3 || (type != 't' && type != 'T'))
			continue;
		for (i = 0; i < FN_MAX; i++) {
			if (ks[i].found || strcmp(name, fn_names[i]))
				continue;
			ks[i].found = true;
			ks[i].addr = addr;
			snprintf(ks[i].module, sizeof(ks[i].module), "%s",
				 n == 4 ? mod : "");
		}
	}
	fclose(f);
	return 0;
}

/* CAP_PERFMON is 38, CAP_BPF 39, CAP_SYS_ADMIN 21 (linux/capability.h). */
bool have_bpf_caps(void)
{
	unsigned long long eff = 0;
	char line[256];
	bool got = false;
	FILE *f;

	if (geteuid() == 0)
		return true;
	f = fopen("/proc/self/status", "re");
	if (!f)
		return false;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "CapEff: %llx", &eff) == 1)
			got = true;
	fclose(f);
	if (!got)
		return false;
	if (eff & (1ULL << 21))
		return true;
	return (eff & (1ULL << 38)) && (eff & (1ULL << 39));
}

/*
 * The BTF that describes the functions of ks: vmlinux's, or its module's
 * (split BTF on top of vmlinux's). NULL when it is missing; free both.
 */
static struct btf *load_btf(const struct ksym *ks, struct btf **vmlinux,
			    struct btf **mod)
{
	*mod = NULL;
	*vmlinux = btf__load_vmlinux_btf();
	if (!*vmlinux || !ks->module[0])
		return *vmlinux;
	*mod = btf__load_module_btf(ks->module, *vmlinux);
	return *mod;
}

/*
 * Can a fentry program attach to this function? Find its BTF (vmlinux or
 * its module's), load a two-instruction tracing program against it and
 * attach it. This is the only reliable test: a kernel may have BTF but no
 * trampolines (no DYNAMIC_FTRACE_WITH_DIRECT_CALLS), or refuse tracing
 * programs altogether (lockdown).
 */
bool fentry_can_attach(const struct ksym *ks, const char *fn, char *why,
		       size_t whylen)
{
	struct btf *vmlinux = NULL, *mod = NULL, *btf;
	int id, prog_fd = -1, link_fd = -1, obj_fd = -1;
	struct bpf_insn insns[] = {
		{ .code = 0xb7, .dst_reg = 0, .imm = 0 },	/* r0 = 0 */
		{ .code = 0x95 },				/* exit */
	};
	LIBBPF_OPTS(bpf_prog_load_opts, opts,
		    .expected_attach_type = BPF_TRACE_FENTRY);
	bool ok = false;

	btf = load_btf(ks, &vmlinux, &mod);
	if (!btf) {
		if (!vmlinux)
			snprintf(why, whylen, "the kernel has no BTF (/sys/kernel/btf/vmlinux)");
		else
			snprintf(why, whylen, "module %s has no BTF", ks->module);
		goto out;
	}
	id = btf__find_by_name_kind(btf, fn, BTF_KIND_FUNC);
	if (id <= 0) {
		snprintf(why, whylen, "%s is not in the %s BTF", fn,
			 ks->module[0] ? ks->module : "vmlinux");
		goto out;
	}
	if (mod) {
		struct bpf_btf_info info;
		uint32_t len, next = 0;

		/* the module's BTF object fd: walk the loaded BTF objects */
		while (!bpf_btf_get_next_id(next, &next)) {
			char name[64] = "";
			int fd = bpf_btf_get_fd_by_id(next);

			if (fd < 0)
				continue;
			memset(&info, 0, sizeof(info));
			info.name = (uintptr_t)name;
			info.name_len = sizeof(name);
			len = sizeof(info);
			if (!bpf_obj_get_info_by_fd(fd, &info, &len) &&
			    !strcmp(name, ks->module)) {
				obj_fd = fd;
				break;
			}
			close(fd);
		}
		if (obj_fd < 0) {
			snprintf(why, whylen, "the BTF object of module %s was not found",
				 ks->module);
			goto out;
		}
		opts.attach_btf_obj_fd = obj_fd;
	}
	opts.attach_btf_id = id;
	prog_fd = bpf_prog_load(BPF_PROG_TYPE_TRACING, "iovatop_probe", "GPL",
				insns, 2, &opts);
	if (prog_fd < 0) {
		snprintf(why, whylen, "a fentry program on %s does not load: %s",
			 fn, strerror(errno));
		goto out;
	}
	link_fd = bpf_raw_tracepoint_open(NULL, prog_fd);
	if (link_fd < 0) {
		snprintf(why, whylen, "a fentry program on %s does not attach: %s",
			 fn, strerror(errno));
		goto out;
	}
	snprintf(why, whylen, "%s has BTF (%s) and a fentry program attaches",
		 fn, ks->module[0] ? ks->module : "vmlinux");
	ok = true;
out:
	if (link_fd >= 0)
		close(link_fd);
	if (prog_fd >= 0)
		close(prog_fd);
	if (obj_fd >= 0)
		close(obj_fd);
	btf__free(mod);
	btf__free(vmlinux);
	return ok;
}

/*
 * A trampoline runs its program with migration disabled but preemption
 * left as the kernel's model has it (__bpf_prog_enter_recur() in
 * kernel/bpf/trampoline.c). Under the full, lazy or RT models a task can
 * be preempted inside iovatop's program, and another task entering the
 * same program on that CPU is then skipped by the kernel (the program's
 * recursion_misses): a set call or a whole report lost, counted but lost.
 * A kprobe handler runs with preemption off, so it is never skipped that
 * way. The model is read from the scheduler's debugfs file (a kernel with
 * PREEMPT_DYNAMIC, e.g. "none voluntary full (lazy)"), else from the
 * boot's preempt= parameter, else from the build string of uname -v.
 */
static int model_preemptible(const char *m)
{
	if (!strcmp(m, "none") || !strcmp(m, "voluntary"))
		return 0;
	if (!strcmp(m, "full") || !strcmp(m, "lazy") || !strcmp(m, "rt"))
		return 1;
	return -1;
}

int trampoline_preemptible(char *why, size_t whylen)
{
	char line[256], model[32];
	struct utsname u;
	const char *p;
	FILE *f;
	int ret;

	f = fopen("/sys/kernel/debug/sched/preempt", "r");
	if (f) {
		p = fgets(line, sizeof(line), f) ? strchr(line, '(') : NULL;
		fclose(f);
		if (p && sscanf(p, "(%31[a-z_])", model) == 1) {
			ret = model_preemptible(model);
			snprintf(why, whylen, "preemption model %s "
				 "(/sys/kernel/debug/sched/preempt)", model);
			if (ret >= 0)
				return ret;
		}
	}
	f = fopen("/proc/cmdline", "r");
	if (f) {
		p = fgets(line, sizeof(line), f) ? strstr(line, "preempt=") : NULL;
		fclose(f);
		if (p && (p == line || p[-1] == ' ') &&
		    sscanf(p, "preempt=%31[a-z]", model) == 1 &&
		    (ret = model_preemptible(model)) >= 0) {
			snprintf(why, whylen, "preemption model %s (preempt= on "
				 "the kernel command line)", model);
			return ret;
		}
	}
	if (uname(&u)) {
		snprintf(why, whylen, "the preemption model is unknown (uname: %s)",
			 strerror(errno));
		return -1;
	}
	if (strstr(u.version, "PREEMPT_RT")) {
		snprintf(why, whylen, "a PREEMPT_RT kernel (uname -v)");
		return 1;
	}
	if (strstr(u.version, "PREEMPT_DYNAMIC")) {
		snprintf(why, whylen, "the preemption model is chosen at boot "
			 "(PREEMPT_DYNAMIC) and /sys/kernel/debug/sched/preempt "
			 "cannot be read");
		return -1;
	}
	for (p = strstr(u.version, "PREEMPT"); p; p = strstr(p + 1, "PREEMPT"))
		if ((p == u.version || p[-1] == ' ') && (!p[7] || p[7] == ' ')) {
			snprintf(why, whylen, "a PREEMPT kernel (uname -v)");
			return 1;
		}
	snprintf(why, whylen, "a kernel built without preemption (uname -v)");
	return 0;
}

/* Size in bytes of what a pointer member points to, 0 if unknown. */
static int member_pointee_size(const struct btf *btf, const struct btf_member *m)
{
	const struct btf_type *t;
	__s64 sz;

	t = btf__type_by_id(btf, m->type);
	while (t && (btf_is_typedef(t) || btf_is_volatile(t) ||
		     btf_is_const(t) || btf_is_restrict(t)))
		t = btf__type_by_id(btf, t->type);
	if (!t || !btf_is_ptr(t))
		return 0;
	sz = btf__resolve_size(btf, t->type);
	return sz > 0 ? (int)sz : 0;
}

/*
 * Which IOVA_LAYOUT_* the kernel's BTF describes (the same test the BPF
 * side makes with bpf_core_field_exists()), and the unit of the bitmap's
 * indexes: what iova_bitmap::bitmap points to, u64 on 6.1.0, u8 since
 * d18411ec3057 (and 6.1.y). The unit also separates the two 6.1 decode
 * rules, which BTF could not otherwise tell apart.
 */
uint32_t btf_layout(const struct ksym *ks, uint32_t *index_bits, bool *strict)
{
	struct btf *vmlinux, *mod = NULL, *btf;
	const struct btf_type *t;
	const struct btf_member *m;
	bool ahead = false, maplen = false, found = false;
	int id, i, psz = 0;

	*index_bits = 8;
	*strict = false;
	btf = load_btf(ks, &vmlinux, &mod);
	if (!btf)
		btf = vmlinux;	/* a module without BTF: vmlinux may have it */
	if (!btf)
		return IOVA_LAYOUT_UNKNOWN;
	id = btf__find_by_name_kind(btf, "iova_bitmap", BTF_KIND_STRUCT);
	if (id > 0) {
		found = true;
		t = btf__type_by_id(btf, id);
		m = btf_members(t);
		for (i = 0; i < btf_vlen(t); i++, m++) {
			const char *name = btf__name_by_offset(btf, m->name_off);

			if (!strcmp(name, "set_ahead_length"))
				ahead = true;
			else if (!strcmp(name, "err"))
				*strict = true;	/* out-of-range calls fail the report */
			else if (!strcmp(name, "bitmap"))
				psz = member_pointee_size(btf, m);
		}
	}
	id = btf__find_by_name_kind(btf, "iova_bitmap_map", BTF_KIND_STRUCT);
	if (id > 0) {
		t = btf__type_by_id(btf, id);
		m = btf_members(t);
		for (i = 0; i < btf_vlen(t); i++, m++)
			if (!strcmp(btf__name_by_offset(btf, m->name_off),
				    "length"))
				maplen = true;
	}
	btf__free(mod);
	btf__free(vmlinux);
	if (psz == 8)
		*index_bits = 64;
	if (ahead)
		return IOVA_LAYOUT_V6_8;
	if (maplen)
		return IOVA_LAYOUT_V6_11;
	return found ? IOVA_LAYOUT_V6_1 : IOVA_LAYOUT_UNKNOWN;
}

/* The decode rule of the running kernel, from its layout (see decode.h). */
enum ibd_rule layout_rule(uint32_t layout, uint32_t index_bits, bool strict)
{
	if (layout == IOVA_LAYOUT_V6_1)
		return index_bits == 64 ? IBD_RULE_V6_1_0 : IBD_RULE_V6_1_Y;
	return strict ? IBD_RULE_STRICT : IBD_RULE_CURRENT;
}
