// SPDX-License-Identifier: GPL-2.0
/*
 * prog_stats.c - per-program cost from the kernel's BPF stats.
 *
 * With run-time stats on (BPF_ENABLE_STATS, what the kernel.bpf_stats_enabled
 * sysctl also switches), the BPF trampoline reads the clock around every run
 * of a program and adds the time to the program's run_time_ns, the run to
 * run_cnt. The figure is the program alone: neither the trampoline around
 * it, nor the ioctl's own work, nor a consumer in user space (iovatop's
 * reader, bpftrace) that the emulator runs in turn with the ioctl. It is
 * read by program id, so iovatop's programs are found from outside it by
 * what they are attached to. (bpf_obj_get_info_by_fd: the libbpf of the
 * build host, 1.1, has no bpf_prog_get_info_by_fd yet.)
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include "prog_stats.h"

static __u32 set_btf_id;

int prog_stats_init(void)
{
	struct btf *btf = btf__load_vmlinux_btf();
	int id;

	if (!btf) {
		fprintf(stderr, "iova_bench: cannot read the kernel's BTF: %s\n",
			strerror(errno));
		return -1;
	}
	id = btf__find_by_name_kind(btf, "iova_bitmap_set", BTF_KIND_FUNC);
	btf__free(btf);
	if (id <= 0) {
		fprintf(stderr, "iova_bench: the kernel's BTF has no iova_bitmap_set\n");
		return -1;
	}
	set_btf_id = id;
	return 0;
}

unsigned int prog_stats_read(struct prog_stat *out, unsigned int max)
{
	__u32 id = 0;
	unsigned int n = 0;

	while (n < max && !bpf_prog_get_next_id(id, &id)) {
		struct bpf_prog_info info;
		__u32 len = sizeof(info);
		int fd = bpf_prog_get_fd_by_id(id);

		if (fd < 0)
			continue;	/* unloaded meanwhile */
		memset(&info, 0, sizeof(info));
		if (!bpf_obj_get_info_by_fd(fd, &info, &len) &&
		    info.type == BPF_PROG_TYPE_TRACING &&
		    info.attach_btf_id == set_btf_id) {
			struct prog_stat *s = &out[n++];

			s->id = info.id;
			memcpy(s->name, info.name, sizeof(s->name));
			s->name[sizeof(s->name) - 1] = '\0';
			s->run_ns = info.run_time_ns;
			s->run_cnt = info.run_cnt;
			s->misses = info.recursion_misses;
			s->xlated_insns = info.xlated_prog_len / sizeof(struct bpf_insn);
			s->jited_bytes = info.jited_prog_len;
			s->jited_insns = -1;
		}
		close(fd);
	}
	return n;
}

int prog_stats_enable(void)
{
	int fd = bpf_enable_stats(BPF_STATS_RUN_TIME);

	if (fd < 0)
		fprintf(stderr, "iova_bench: cannot enable BPF run-time stats: %s\n",
			strerror(errno));
	return fd;
}

/*
 * bpftool counts JITed instructions only when built with a disassembler,
 * which Debian's is not; objdump reads the raw image as well.
 */
int prog_stats_jited_insns(uint32_t id, const char *tmpdir)
{
	struct bpf_prog_info info;
	__u32 len = sizeof(info), jlen;
	char path[256], cmd[512], line[512];
	unsigned char *img;
	int fd, n = -1;
	FILE *f;

	fd = bpf_prog_get_fd_by_id(id);
	if (fd < 0)
		return -1;
	memset(&info, 0, sizeof(info));
	if (bpf_obj_get_info_by_fd(fd, &info, &len) || !info.jited_prog_len)
		goto out;
	jlen = info.jited_prog_len;
	img = malloc(jlen);
	if (!img)
		goto out;
	memset(&info, 0, sizeof(info));
	info.jited_prog_len = jlen;
	info.jited_prog_insns = (uintptr_t)img;
	len = sizeof(info);
	snprintf(path, sizeof(path), "%s/bench-jited-%u.bin", tmpdir, id);
	if (bpf_obj_get_info_by_fd(fd, &info, &len) || !(f = fopen(path, "w"))) {
		free(img);
		goto out;
	}
	fwrite(img, 1, jlen, f);
	fclose(f);
	free(img);
	snprintf(cmd, sizeof(cmd),
		 "objdump -D -w -b binary -m i386:x86-64 %s 2>/dev/null", path);
	f = popen(cmd, "r");
	if (f) {
		int insns = 0;

		/* with -w, one line per instruction: "  addr:\tbytes\tmnemonic" */
		while (fgets(line, sizeof(line), f)) {
			char *tab = strchr(line, '\t');

			insns += line[0] == ' ' && tab && strchr(tab + 1, '\t');
		}
		if (!pclose(f) && insns)
			n = insns;
	}
	unlink(path);
out:
	close(fd);
	return n;
}
