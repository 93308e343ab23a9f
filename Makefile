# SPDX-License-Identifier: GPL-2.0
#
# iovatop build. Generated files go to .output/ (never committed); V=1 shows
# the commands. Missing Debian packages are installed by scripts/deps.sh.
#
#   make            ./iovatop
#   make check      unit tests, a real Prometheus scraping a replay and
#                   headless chromium loading the timeline
#                   (SANITIZE=1: ASan + UBSan build)
#   make vmtest     tests in the QEMU test VM (builds the kernels once)
#   make test       check + vmtest: what CI runs
#   make bench      benchmarks, side by side with the alternatives
#   make demo       live view (here, or in the test VM with a workload)
#   make fuzz       libFuzzer on the trace reader
#   make install    PREFIX=/usr/local DESTDIR=

OUTPUT ?= .output
ifeq ($(SANITIZE),1)
OUTPUT := .output/sanitize
SAN_FLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
endif

CC ?= gcc
CLANG ?= clang
BPFTOOL ?= bpftool
PREFIX ?= /usr/local
ARCH := $(shell uname -m | sed 's/x86_64/x86/;s/aarch64/arm64/')

CFLAGS ?= -g -O2
CFLAGS += -std=gnu11 -Wall -Wextra -Werror -Iinclude -I$(OUTPUT) $(SAN_FLAGS)
LDFLAGS += $(SAN_FLAGS)
LDLIBS := -lbpf -lelf -lz -lzstd -lncursesw -lmicrohttpd -ljansson -lpthread -lm
TEST_LDLIBS := $(LDLIBS) -lcmocka
# librsvg (and cairo, glib) for report --heatmap-format png: asked of
# pkg-config when used, so after scripts/deps.sh has installed it
RSVG_CFLAGS = $(shell pkg-config --cflags librsvg-2.0 cairo)
RSVG_LIBS = $(shell pkg-config --libs librsvg-2.0 cairo)
BPF_CFLAGS := -g -O2 -target bpf -D__TARGET_ARCH_$(ARCH) -I. -Iinclude -Ibpf \
	-Wall -Werror

ifeq ($(V),1)
Q :=
msg :=
else
Q := @
msg = @printf '  %-8s %s\n' "$(1)" "$(2)";
endif

BPF_SRCS := $(wildcard bpf/*.bpf.c)
BPF_OBJS := $(patsubst bpf/%.bpf.c,$(OUTPUT)/%.bpf.o,$(BPF_SRCS))
SKELS := $(patsubst bpf/%.bpf.c,$(OUTPUT)/%.skel.h,$(BPF_SRCS))
SRCS := $(wildcard src/*.c)
LIB_OBJS := $(patsubst src/%.c,$(OUTPUT)/%.o,$(filter-out src/iovatop.c,$(SRCS)))
TESTS := $(patsubst tests/%.c,$(OUTPUT)/tests/%,$(wildcard tests/test_*.c))
BENCHES := $(patsubst bench/%.c,$(OUTPUT)/bench/%,$(wildcard bench/bench_*.c))
DEPS_STAMP := .output/.deps-build

.PHONY: all deps check test kmath vmtest bench demo fuzz install clean
.DELETE_ON_ERROR:
# Skeletons and BPF objects are intermediates; keep them so that a second
# make does not regenerate them and rebuild every object.
.SECONDARY:

# The sanitizer build keeps its binary in its own output directory so that
# it never replaces the plain ./iovatop.
BIN := $(if $(SAN_FLAGS),$(OUTPUT)/iovatop,iovatop)

all: $(BIN)

$(DEPS_STAMP): scripts/deps.sh
	$(Q)scripts/deps.sh build
	$(Q)mkdir -p $(@D) && touch $@

deps:
	$(Q)scripts/deps.sh all

$(OUTPUT) $(OUTPUT)/tests $(OUTPUT)/bench:
	$(Q)mkdir -p $@

$(OUTPUT)/%.bpf.o: bpf/%.bpf.c vmlinux.h include/iova_trace.h $(wildcard bpf/*.h) \
		| $(OUTPUT) $(DEPS_STAMP)
	$(call msg,BPF,$@)
	$(Q)$(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(OUTPUT)/%.skel.h: $(OUTPUT)/%.bpf.o
	$(call msg,GEN-SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< > $@

$(OUTPUT)/%.o: src/%.c $(wildcard include/*.h) $(SKELS) | $(OUTPUT) $(DEPS_STAMP)
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) -c $< -o $@

# --version: the release, what git describes (or "unknown" outside a
# clone), rewritten only when it changes so nothing rebuilds for nothing
VERSION := 0.1
$(OUTPUT)/version.h: FORCE | $(OUTPUT)
	$(Q)d=$$(git describe --always --dirty 2>/dev/null || echo unknown); \
	printf '#define IOVATOP_VERSION "%s"\n#define IOVATOP_GIT "%s"\n' \
		'$(VERSION)' "$$d" >$@.tmp; \
	if cmp -s $@.tmp $@; then rm -f $@.tmp; else mv -f $@.tmp $@; fi
$(OUTPUT)/iovatop.o: $(OUTPUT)/version.h
.PHONY: FORCE

$(OUTPUT)/heatmap_png.o: CFLAGS += $(RSVG_CFLAGS)

$(BIN): $(OUTPUT)/iovatop.o $(LIB_OBJS)
	$(call msg,BINARY,$@)
	$(Q)$(CC) $(LDFLAGS) $^ $(LDLIBS) $(RSVG_LIBS) -o $@

$(OUTPUT)/tests/%: tests/%.c $(LIB_OBJS) $(wildcard tests/*.h) | $(OUTPUT)/tests
	$(call msg,TEST,$@)
	$(Q)$(CC) $(CFLAGS) -Itests $(LDFLAGS) $< $(LIB_OBJS) $(TEST_LDLIBS) $(RSVG_LIBS) -o $@

$(OUTPUT)/bench/%: bench/%.c bench/bench.h $(LIB_OBJS) | $(OUTPUT)/bench
	$(call msg,BENCH,$@)
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS) $< $(LIB_OBJS) $(LDLIBS) $(RSVG_LIBS) -o $@

# The unit suite: every tests/test_*.c is a cmocka program; run-unit.sh
# sums their results into one "N passed, N failed" line.
check: $(TESTS) $(BIN)
	$(Q)IOVATOP=$(abspath $(BIN)) tests/run-unit.sh $(TESTS)
	$(Q)tests/batch_formats.sh $(abspath $(BIN))
	$(Q)tests/hot_region_agree.sh $(abspath $(BIN))
	$(Q)tests/build_progress.sh
	$(Q)tests/chrome_trace.sh $(abspath $(BIN))
	$(Q)tests/chrome_trace_chromium.sh $(abspath $(BIN))
	$(Q)tests/heatmap.sh $(abspath $(BIN))
	$(Q)tests/prometheus.sh $(abspath $(BIN))

# The test VM's workload runs in the guest, which sees the host's root, so
# it is an ordinary host binary.
VM_WORKLOAD := .output/vm/workload
$(VM_WORKLOAD): tests/vm/workload.c tests/vm/vm_uapi.h tests/vm/module/itp.h \
		| $(DEPS_STAMP)
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) -Itests/vm $< -o $@

vmtest: iovatop $(VM_WORKLOAD)
	$(Q)scripts/deps.sh vm
	$(Q)tests/vm/vmtest.sh

# The decoder against the kernel's own iova_bitmap.c (6.12 and 6.1.192),
# compiled in user space from the test kernels' sources: random calls, odd
# ones included, must leave identical bytes.
kmath:
	$(Q)scripts/deps.sh vm
	$(Q)tests/kmath/run.sh 200 12345

# The unit suite starts real QEMUs (tests/test_qmp_live.c), and QEMU comes
# with the VM's packages: install everything before the first test.
test:
	$(Q)scripts/deps.sh all
	$(Q)$(MAKE) --no-print-directory check kmath vmtest

# The tracing-overhead benchmark runs in the 6.12 test VM (bench/vm/).
VM_BENCH := .output/vm/iova_bench
VM_BENCH_SRCS := bench/vm/iova_bench.c bench/vm/dirty_pattern.c bench/vm/prog_stats.c \
	bench/vm/mock_domain.c bench/vm/bench_proc.c bench/vm/bench_tracer.c \
	bench/vm/bench_stats.c
$(VM_BENCH): $(VM_BENCH_SRCS) $(wildcard bench/vm/*.h) tests/vm/vm_uapi.h \
		$(OUTPUT)/bench_count.skel.h | $(DEPS_STAMP)
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) -Itests/vm $(VM_BENCH_SRCS) -lbpf -lelf -lz -o $@

VM_RATE := .output/vm/iova_rate
VM_RATE_SRCS := bench/vm/iova_rate.c bench/vm/dirty_pattern.c bench/vm/mock_domain.c \
	bench/vm/bench_proc.c bench/vm/bench_tracer.c
$(VM_RATE): $(VM_RATE_SRCS) $(wildcard bench/vm/*.h) tests/vm/vm_uapi.h \
		$(OUTPUT)/bench_count.skel.h | $(DEPS_STAMP)
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) -Itests/vm $(VM_RATE_SRCS) -pthread -lbpf -lelf -lz -o $@

# The same overhead bench in guest instructions: a QEMU TCG plugin that
# counts them between the bench's marks, and the host tool that tabulates.
VM_ICOUNT_PLUGIN := .output/vm/icount_plugin.so
$(VM_ICOUNT_PLUGIN): bench/vm/icount_plugin.c bench/vm/icount_mark.h | $(DEPS_STAMP)
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(filter-out $(SAN_FLAGS),$(CFLAGS)) -fPIC -shared -fvisibility=hidden \
		-Ibench/vm $< -pthread -o $@

VM_ICOUNT_TABLE := .output/vm/icount_table
VM_ICOUNT_TABLE_SRCS := bench/vm/icount_table.c bench/vm/bench_stats.c bench/vm/bench_proc.c
$(VM_ICOUNT_TABLE): $(VM_ICOUNT_TABLE_SRCS) $(wildcard bench/vm/*.h) | $(DEPS_STAMP)
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) -Ibench/vm $(VM_ICOUNT_TABLE_SRCS) -o $@

# where a tracer's added instructions go, by symbol (PROFILE=1 bench/vm/run.sh)
VM_ICOUNT_PROFILE := .output/vm/icount_profile
VM_ICOUNT_PROFILE_SRCS := bench/vm/icount_profile.c bench/vm/bench_proc.c
$(VM_ICOUNT_PROFILE): $(VM_ICOUNT_PROFILE_SRCS) $(wildcard bench/vm/*.h) | $(DEPS_STAMP)
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) -Ibench/vm $(VM_ICOUNT_PROFILE_SRCS) -o $@

bench: $(BENCHES) iovatop $(VM_BENCH) $(VM_RATE) $(VM_ICOUNT_PLUGIN) $(VM_ICOUNT_TABLE)
	$(Q)for b in $(BENCHES); do $$b || exit 1; done
	$(Q)bench/vm/run.sh

# libFuzzer (Debian clang) on the trace reader, the model behind it and
# the outputs that print the trace's strings (report text/JSON/CSV, batch
# views) for FUZZ_SECONDS. Seeds stay in fuzz/corpus (small, committed);
# what the run finds goes to .output/fuzz/corpus, crashes to
# .output/fuzz/artifacts.
FUZZ_SECONDS ?= 60
FUZZ_CC ?= clang
FUZZ_SRCS := src/trace_file.c src/model.c src/hot_region.c src/filter.c src/iova_bitmap_decode.c \
	src/name_index.c src/text_escape.c src/report.c src/report_fmt.c \
	src/view_batch.c src/view_csv.c src/view_json.c src/view_format.c \
	src/view_state.c src/forecast_report.c src/forecast.c src/cli_util.c \
	src/qmp_record.c src/forecast_session.c src/qmp_client.c
FUZZ_BIN := .output/fuzz/fuzz_trace
$(FUZZ_BIN): fuzz/fuzz_trace.c $(FUZZ_SRCS) $(wildcard include/*.h) | $(DEPS_STAMP)
	$(call msg,FUZZ-CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(FUZZ_CC) -g -O1 -std=gnu11 -Wall -Werror -Iinclude \
		-DFUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION \
		-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
		fuzz/fuzz_trace.c $(FUZZ_SRCS) -lz -lzstd -ljansson -lpthread -lm -o $@

fuzz: $(FUZZ_BIN)
	$(Q)mkdir -p .output/fuzz/corpus .output/fuzz/artifacts
	$(Q)$(FUZZ_BIN) -max_total_time=$(FUZZ_SECONDS) -dict=fuzz/trace.dict \
		-max_len=65536 -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
		-artifact_prefix=.output/fuzz/artifacts/ .output/fuzz/corpus fuzz/corpus

# The live view on a real migration: here when this kernel can be traced,
# else inside the 6.12 test VM with the demo workload (scripts/demo.sh).
demo: iovatop
	$(Q)scripts/demo.sh

# The binary needs root, so it goes to sbin; the man page to section 8.
MANDIR ?= $(PREFIX)/share/man
install: iovatop
	$(call msg,INSTALL,$(DESTDIR)$(PREFIX)/sbin/iovatop)
	$(Q)install -d $(DESTDIR)$(PREFIX)/sbin $(DESTDIR)$(MANDIR)/man8
	$(Q)install -m 0755 iovatop $(DESTDIR)$(PREFIX)/sbin/iovatop
	$(Q)install -m 0644 docs/iovatop.8 $(DESTDIR)$(MANDIR)/man8/iovatop.8

clean:
	$(call msg,CLEAN)
	$(Q)rm -rf .output iovatop
