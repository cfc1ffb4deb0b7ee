# pvmm - one non-recursive Makefile; each folder adds its part in a .mk file.
#   make run     build everything (installing missing build packages) and boot hello
#   make check   build and run every test (then again with ASan and UBSan)
#   make deps    install missing build packages (apt-get)

CC ?= cc
BUILD := build
VERSION := $(shell git describe --always --dirty 2>/dev/null || echo dev)

WARN := -Wall -Wextra -Wshadow -Wpointer-arith -Wwrite-strings
INCLUDES := -I. -Iinclude
HOST_CFLAGS := -std=c11 -D_GNU_SOURCE -O2 -g $(WARN) $(INCLUDES) -DPVMM_VERSION='"$(VERSION)"' -MMD -MP $(EXTRA_CFLAGS)
HOST_LDFLAGS := $(EXTRA_LDFLAGS)
# make check SANITIZE=address,undefined: the monitor and the unit tests with
# sanitizers, in a build directory of their own (guests and the stub stay
# freestanding).
ifneq ($(SANITIZE),)
BUILD := build/sanitize
HOST_CFLAGS += -fsanitize=$(SANITIZE) -fno-omit-frame-pointer -fno-sanitize-recover=all
HOST_LDFLAGS += -fsanitize=$(SANITIZE)
endif
HOST_LIBS := -lseccomp -lelf -lZydis -lunicorn
# --net=user: libslirp (pvmm's network, the monitor only; not in libpvmm.a)
NET_LIBS := -lslirp

# Freestanding code (sample guests and the guest-process stub): no libc, no
# host headers, no SSE, no red zone.
CC_INCLUDE := $(shell $(CC) -print-file-name=include)
FREESTANDING := -std=c11 -O2 -g $(WARN) -ffreestanding -nostdinc -isystem $(CC_INCLUDE) \
	-fno-stack-protector -mno-red-zone -mno-sse -mno-sse2 -mno-mmx -mno-avx \
	-fno-asynchronous-unwind-tables -fcf-protection=none -fno-builtin -MMD -MP
GUEST_CFLAGS := $(FREESTANDING) -fno-pic -fno-pie -Iinclude -Isample-guests/rt
GUEST_LDFLAGS := -nostdlib -static -Wl,--build-id=none -Wl,-z,noexecstack
STUB_CFLAGS := $(FREESTANDING) -fpie -fvisibility=hidden -Iinclude

BUILD_PACKAGES := libseccomp-dev libelf-dev check libzydis-dev libxen-dev libslirp-dev libunicorn-dev pkg-config gdb clang libclang-rt-dev \
	grub-xen-bin grub-common e2fsprogs

comma := ,
hash := \#
.PHONY: all run check deps clean unit e2e bench install uninstall fuzz fuzz-smoke xtf minios grub structure
all: $(BUILD)/pvmm guests

include guest-loader/loader.mk
include mmu/mmu.mk
include hypercalls/hypercalls.mk
include vmm/backends/backends.mk
include vmm/vmm.mk
include sample-guests/guests.mk
include tests/tests.mk
include tests/fuzz/fuzz.mk

run: deps
	@$(MAKE) --no-print-directory all
	$(BUILD)/pvmm $(BUILD)/guests/hello.elf

# Each stage of make check says how long it took (the whole must stay
# under 15 minutes on 2 CPUs).
stage = t0=$$(date +%s); $(MAKE) --no-print-directory $(1) || exit $$?; \
	echo "$(hash) make check: $(strip $(1)) took $$(( $$(date +%s) - t0 )) s"

check: deps
	@$(call stage, all tests)
	@$(call stage, structure unit e2e)
ifeq ($(SANITIZE),)
	@$(call stage, xtf)
	@$(call stage, minios)
	@$(call stage, grub)
	@$(call stage, fuzz-smoke)
	@echo "# the same again with AddressSanitizer and UBSan (build/sanitize)"
	@$(call stage, SANITIZE=address$(comma)undefined all tests)
	@$(call stage, SANITIZE=address$(comma)undefined unit e2e)
endif

# Includes point down the layers and no two files need each other
# (docs/architecture.md, "Layers").
structure: $(BUILD)/pvmm
	tests/structure/check.sh $(BUILD)

# The Xen Test Framework's 64-bit PV tests, each outcome compared with
# tests/xtf/expected.txt (tests/xtf/run.sh). XTF_SRC=DIR names another copy;
# without one it says so and succeeds. Built once in build/xtf, then
# incrementally; not run again under the sanitizers.
XTF_SRC ?= ../shared/third_party/xtf
xtf: $(BUILD)/pvmm
	BUILD_DIR=$(BUILD) XTF_SRC=$(XTF_SRC) tests/xtf/run.sh

# Mini-OS, a real PV kernel linked at address 0, with its test app
# (tests/minios/run.sh): built once in build/mini-os, then incrementally;
# booted on both transports where pvmm may map page 0 (as root), its
# one-line refusal checked where it may not (and as user nobody). Without
# a copy at MINIOS_SRC, or a build tool, it says so and succeeds.
MINIOS_SRC ?= ../shared/third_party/mini-os
MINIOS_CONFIG ?= ../shared/third_party/configs/mini-os-test.cfg
minios: $(BUILD)/pvmm
	BUILD_DIR=$(BUILD) MINIOS_SRC=$(MINIOS_SRC) MINIOS_CONFIG=$(MINIOS_CONFIG) tests/minios/run.sh

# Debian's PV GRUB (grub-xen-bin), another real PV kernel linked at 0
# (tests/grub/run.sh): grub-mkimage builds build/grub/grub.elf with a
# memdisk, mke2fs -d two ext2 disks (one with sample guests); where pvmm may
# map page 0 it boots on both transports and takes commands typed on its
# console (echo, ls and cat of the disks, xen_ls, halt), and its linux
# command boots sample guests from the disk; its one-line refusal is
# checked where it may not. Without GRUB's tools it says so and succeeds.
grub: $(BUILD)/pvmm $(BUILD)/guests/hello.elf $(BUILD)/guests/events.elf $(BUILD)/guests/crash.elf
	BUILD_DIR=$(BUILD) tests/grub/run.sh

# Installs what the build needs when a probe compile shows it missing.
# (<xen/xen.h> is libxen-dev's: Xen's public headers, which the ABI unit
# test compares include/xen_abi.h with; linux-libc-dev's /usr/include/xen
# has other files; <slirp/libslirp.h> is libslirp-dev's, for --net=user.)
deps:
	@if printf '#include <seccomp.h>\n#include <gelf.h>\n#include <check.h>\n#include <Zydis/Zydis.h>\n#include <unicorn/unicorn.h>\n#include <stdint.h>\n#include <xen/xen.h>\n#include <slirp/libslirp.h>\nint main(void){return 0;}\n' \
		| $(CC) -D__XEN_INTERFACE_VERSION__=__XEN_LATEST_INTERFACE_VERSION__ -x c - -o /dev/null -lseccomp -lelf -lcheck -lZydis -lunicorn -lslirp 2>/dev/null \
		&& command -v pkg-config >/dev/null && command -v gdb >/dev/null \
		&& command -v grub-mkimage >/dev/null && [ -e /usr/lib/grub/x86_64-xen/kernel.img ] \
		&& { command -v mke2fs >/dev/null || [ -x /usr/sbin/mke2fs ] || [ -x /sbin/mke2fs ]; } \
		&& printf 'int LLVMFuzzerTestOneInput(const char *d, long n){return 0;}\n' \
		| clang -fsanitize=fuzzer -x c - -o /dev/null 2>/dev/null; then :; \
	elif command -v apt-get >/dev/null; then \
		sudo=; [ "$$(id -u)" = 0 ] || sudo=sudo; \
		echo "pvmm: installing build packages: $(BUILD_PACKAGES)"; \
		export DEBIAN_FRONTEND=noninteractive; \
		$$sudo apt-get install -y -q --no-install-recommends $(BUILD_PACKAGES) >/dev/null 2>&1 || \
		{ $$sudo apt-get update -q && $$sudo apt-get install -y -q --no-install-recommends $(BUILD_PACKAGES); }; \
	else \
		echo "pvmm: missing build packages and no apt-get; install: $(BUILD_PACKAGES)" >&2; exit 1; \
	fi

PREFIX ?= /usr/local
install: all
	install -D -m 755 $(BUILD)/pvmm $(DESTDIR)$(PREFIX)/bin/pvmm
	install -d $(DESTDIR)$(PREFIX)/share/pvmm/guests
	install -m 644 $(GUESTS:%=$(BUILD)/guests/%.elf) $(GUEST_CFGS:sample-guests/%=$(BUILD)/guests/%) \
		$(BUILD)/guests/ramdisk.txt $(BUILD)/guests/blkfront.img $(DESTDIR)$(PREFIX)/share/pvmm/guests/
	install -D -m 644 docs/pvmm.1 $(DESTDIR)$(PREFIX)/share/man/man1/pvmm.1

uninstall:
	rm -f $(DESTDIR)$(PREFIX)/bin/pvmm $(DESTDIR)$(PREFIX)/share/man/man1/pvmm.1
	rm -rf $(DESTDIR)$(PREFIX)/share/pvmm

clean:
	rm -rf $(BUILD)

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
