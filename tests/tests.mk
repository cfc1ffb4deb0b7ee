# Unit tests (Check) and end-to-end tests of real guests.
TEST_LIB_SRCS := tests/lib/bad_elf.c tests/lib/fixture.c
UNIT_SRCS := tests/unit/main.c tests/unit/check_loader.c tests/unit/check_mmu.c tests/unit/check_hc.c \
	tests/unit/check_rules.c tests/unit/check_types.c tests/unit/check_emulate.c tests/unit/check_ptwr.c \
	tests/unit/check_traps.c tests/unit/check_xs.c tests/unit/check_abi.c tests/unit/abi_xen.c \
	tests/unit/check_xlcfg.c tests/unit/check_memory.c tests/unit/check_privop.c tests/unit/check_grant.c tests/unit/check_debugreg.c tests/unit/check_netback.c \
	tests/unit/check_xbdev.c tests/unit/check_blk.c
# The unit tests read the hello guest of their own build directory (build/
# or build/sanitize/), which `unit` builds first.
TEST_CFLAGS := $(HOST_CFLAGS) -Itests/lib -DFIXTURE_GUEST='"$(BUILD)/guests/hello.elf"' \
	$(shell pkg-config --cflags check 2>/dev/null)
CHECK_LIBS := $(shell pkg-config --libs check 2>/dev/null || echo -lcheck)
# Xen's side of the ABI comparison: Xen's public headers at their latest
# interface (without a version they give the legacy one).
$(BUILD)/tests/unit/abi_xen.o: TEST_CFLAGS += -D__XEN_INTERFACE_VERSION__=__XEN_LATEST_INTERFACE_VERSION__

$(BUILD)/tests/%.o: tests/%.c | deps
	@mkdir -p $(@D)
	$(CC) $(TEST_CFLAGS) -c $< -o $@

$(BUILD)/tests/unit-tests: $(UNIT_SRCS:tests/%.c=$(BUILD)/tests/%.o) \
		$(TEST_LIB_SRCS:tests/%.c=$(BUILD)/tests/%.o) $(BUILD)/vmm/xlcfg.o $(BUILD)/vmm/file.o $(BUILD)/libpvmm.a
	$(CC) $(HOST_LDFLAGS) -o $@ $^ $(HOST_LIBS) $(CHECK_LIBS)

$(BUILD)/tests/mkbad: $(BUILD)/tests/lib/mkbad.o $(BUILD)/tests/lib/bad_elf.o $(BUILD)/tests/lib/fixture.o $(BUILD)/libpvmm.a
	$(CC) $(HOST_LDFLAGS) -o $@ $^ $(HOST_LIBS)

# the host's side of the net guest's exchange (e2e case net, make bench)
$(BUILD)/tests/netpeer: $(BUILD)/tests/lib/netpeer.o
	$(CC) $(HOST_LDFLAGS) -o $@ $^

$(BUILD)/tests/primitives: tests/bench/primitives.c | deps
	@mkdir -p $(@D)
	$(CC) -O2 -Wall -Wextra -o $@ $< -lseccomp

# the peer's init for make bench (User-Mode Linux boots it; static: no loader)
$(BUILD)/tests/uml_init: tests/bench/uml_init.c | deps
	@mkdir -p $(@D)
	$(CC) -O2 -Wall -Wextra -static -o $@ $<

.PHONY: tests bench
tests: $(BUILD)/tests/unit-tests $(BUILD)/tests/mkbad $(BUILD)/tests/primitives $(BUILD)/tests/netpeer

bench: deps
	@$(MAKE) --no-print-directory all $(BUILD)/tests/primitives $(BUILD)/tests/uml_init $(BUILD)/tests/netpeer
	G_BENCH=$(BUILD)/guests/bench.elf G_HELLO=$(BUILD)/guests/hello.elf UML_INIT=$(BUILD)/tests/uml_init \
		G_NET=$(BUILD)/guests/net.elf tests/bench/run.sh

unit: $(BUILD)/tests/unit-tests guests
	tests/abi/names.sh include/xen_abi.h tests/abi/xen_abi.def
	$(BUILD)/tests/unit-tests

# The whole end-to-end suite runs once per transport, each in a PID
# namespace of its own where the host allows one (root): the checks that no
# guest process is left then see only this run's processes, whatever else
# runs on the machine, and whatever a run leaves dies with it.
# Run as root, each suite runs itself again as user nobody; the sanitizer
# build skips that second run (what the uid changes is checked by the plain
# build, what the sanitizers look for does not depend on it), which keeps
# make check under 15 minutes on two CPUs.
# make e2e CASE=ptwr runs one case (CASE=ptwr,p2m or CASE="ptwr p2m" more),
# make e2e SKIP=gdb all but that one; tests/e2e/run.sh --list names them.
E2E_NS = $$(unshare --pid --fork --mount-proc true 2>/dev/null && echo unshare --pid --fork --mount-proc)
E2E_ENV = BUILD_DIR=$(BUILD) E2E_UNPRIVILEGED=$(if $(SANITIZE),0,1) E2E_CASE='$(CASE)' E2E_SKIP='$(SKIP)'
e2e: $(BUILD)/pvmm guests $(BUILD)/tests/mkbad $(BUILD)/tests/netpeer
	$(E2E_ENV) PVMM_TRANSPORT=seccomp $(E2E_NS) tests/e2e/run.sh
	$(E2E_ENV) PVMM_TRANSPORT=ptrace $(E2E_NS) tests/e2e/run.sh
