# SPDX-License-Identifier: GPL-2.0
#
# handoff: the two commands of README.md are `make demo` and `make check`.
# Everything else is a step they depend on.
#
#   make deps      install the toolchain and test tools (idempotent, fast when done)
#   make kernel    build the patched 6.12 test kernel (cached under $(HANDOFF_CACHE))
#   make module    build drivers/net/handoff/handoff.ko against it (clippy, warnings are errors)
#   make tools     build the handoff CLI (tools/handoff), which the VM tests use
#   make man       render the man page tools/handoff/handoff.8 (committed) from Documentation/
#   make host-test cargo tests, clippy and rustfmt of the host crates, then make fuzz
#   make fuzz      run every cargo-fuzz target of the protocol crate, FUZZ_SECONDS=10 each (scripts/fuzz.sh)
#   make vm-test   KUnit and the kselftests in a virtme-ng VM
#   make check     host-test + vm-test
#   make demo      boot the VM, build the topology, show handoff at work
#   make bench     benchmark in the VM: direct vs. local injection vs. handoff (BENCH_N=1000 connections each),
#                  then what idle namespaces cost with the module (scripts/bench_idle.sh)
#   KERNEL=debug   with kernel, module, vm-test, check, demo, bench: the debug test kernel, cached beside
#                  the normal one (kernel/debug.config on top of kernel/handoff.config: KASAN, kmemleak,
#                  PROVE_RCU, debug objects, UBSAN); vm-test also fails on kmemleak reports. CI: normal.

HANDOFF_CACHE ?= /var/cache/handoff
export HANDOFF_CACHE
# The test kernel's flavour and its tree (scripts/env.sh says the same).
KERNEL ?= normal
ifeq ($(filter normal debug,$(KERNEL)),)
$(error KERNEL=$(KERNEL): the test kernel is normal or debug)
endif
export KERNEL
KDIR ?= $(HANDOFF_CACHE)/linux-6.12$(if $(filter debug,$(KERNEL)),-debug)
export KDIR

SHELL := /bin/bash
TOP := $(CURDIR)
HOST_CRATES := drivers/net/handoff/proto tools/handoff
# Lines of the kernel's make that the build needs; see scripts/env.sh.
KMAKE = source scripts/env.sh && flock $(KDIR).lock \
	make -C $(KDIR) "$${KMAKE_VARS[@]}"

.PHONY: all deps kernel module tools man host-test fuzz vm-test check demo bench clean kunit selftests help

all: module

help:
	@sed -n 's/^#   //p' Makefile

deps:
	@bash scripts/deps.sh

kernel: deps
	@flock $(KDIR).lock bash scripts/kernel.sh

# The tests' module has the test-only netlink command (HANDOFF_DEBUG=0 leaves it out).
HANDOFF_DEBUG ?= 1
# kbuild builds in place (M=): objects from the other flavour's tree are
# removed first. The tree last built against is kept in .handoff-kdir.cmd (a
# name .gitignore and kbuild's clean already cover); no record means the
# normal tree, the only one before flavours existed.
MODULE_KDIR := $(TOP)/.handoff-kdir.cmd
module: kernel
	@last=$$(cat $(MODULE_KDIR) 2>/dev/null || echo $(HANDOFF_CACHE)/linux-6.12); \
	if [ "$$last" != "$(KDIR)" ]; then \
	  echo "module: last built against $$last, cleaning for $(KDIR)"; \
	  $(KMAKE) M=$(TOP) clean || exit 1; \
	fi; \
	echo "$(KDIR)" > $(MODULE_KDIR)
	@$(KMAKE) M=$(TOP) CLIPPY=1 KRUSTFLAGS=-Dwarnings KCFLAGS=-Werror HANDOFF_DEBUG=$(HANDOFF_DEBUG) modules
	@ls -l drivers/net/handoff/handoff.ko

tools: deps man
	@cd tools/handoff && cargo build -q

# Debian's docutils, no date or generator line: the same source gives the same page.
RST2MAN = /usr/bin/rst2man --no-datestamp --no-generator --halt=warning
MAN_PAGE = tools/handoff/handoff.8
man: $(MAN_PAGE)
$(MAN_PAGE): Documentation/handoff.8.rst | deps
	@$(RST2MAN) $< > $@.tmp && mv $@.tmp $@ && echo "man: rendered $@"

host-test: deps
	@rustfmt --edition 2021 --check $$(find rust -name '*.rs') drivers/net/handoff/*.rs >/dev/null || \
	  { echo "kernel-side Rust is not rustfmt-clean: rustfmt --edition 2021 FILES" >&2; exit 1; }
	@$(RST2MAN) Documentation/handoff.8.rst | cmp -s - $(MAN_PAGE) || \
	  { echo "$(MAN_PAGE) is not the rendering of Documentation/handoff.8.rst: run make man" >&2; exit 1; }
	@set -e; for c in $(HOST_CRATES); do \
	  [ -f $$c/Cargo.toml ] || continue; \
	  echo "== cargo test: $$c"; \
	  (cd $$c && cargo fmt --check && cargo clippy -q --all-targets -- -D warnings && cargo test -q); \
	done
	@bash scripts/fuzz.sh

# Bounded: about FUZZ_SECONDS per target plus one build; a crash fails it.
fuzz: deps
	@bash scripts/fuzz.sh

vm-test: module tools
	@bash scripts/vm.sh --test

check: host-test vm-test

demo: module tools
	@bash scripts/vm.sh --demo

# Not a test: prints latency and rate of the three paths and their ratios (scripts/bench.sh).
BENCH_N ?= 1000
bench: module tools
	@bash scripts/vm.sh --exec "BENCH_N=$(BENCH_N) bash $(TOP)/scripts/bench.sh && bash $(TOP)/scripts/bench_idle.sh"

clean:
	@-[ -d $(KDIR) ] && $(KMAKE) M=$(TOP) clean
	@for c in $(HOST_CRATES); do [ -f $$c/Cargo.toml ] && (cd $$c && cargo clean); done; true
