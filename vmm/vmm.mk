# The library of pure code (loader, mmu, hypercalls) shared with the tests.
LIB_OBJS = $(LIB_SRCS:%.c=$(BUILD)/%.o)
VMM_SRCS := vmm/main.c vmm/proc.c vmm/ptrace.c vmm/run.c vmm/signals.c vmm/stats.c vmm/trace.c vmm/gdb.c vmm/futex.c vmm/conin.c vmm/debugregs.c vmm/suite.c vmm/xlcfg.c vmm/net.c vmm/lowexec.c vmm/file.c vmm/spaces.c
VMM_OBJS := $(VMM_SRCS:%.c=$(BUILD)/%.o) $(BUILD)/vmm/stub_image.o

$(BUILD)/%.o: %.c | deps
	@mkdir -p $(@D)
	$(CC) $(HOST_CFLAGS) -c $< -o $@

$(BUILD)/libpvmm.a: $(LIB_OBJS)
	$(AR) rcs $@ $^

$(BUILD)/pvmm: $(VMM_OBJS) $(BUILD)/libpvmm.a
	$(CC) $(HOST_LDFLAGS) -o $@ $^ $(HOST_LIBS) $(NET_LIBS)

# The stub: a freestanding static image linked into the hole, embedded in pvmm.
STUB_OBJS := $(BUILD)/stub/stub.o $(BUILD)/stub/entry.o
$(BUILD)/stub/stub.o: vmm/stub/stub.c
	@mkdir -p $(@D)
	$(CC) $(STUB_CFLAGS) -c $< -o $@
$(BUILD)/stub/entry.o: vmm/stub/stub.S
	@mkdir -p $(@D)
	$(CC) $(STUB_CFLAGS) -c $< -o $@
$(BUILD)/stub/pvmm-stub.elf: $(STUB_OBJS) vmm/stub/stub.ld
	$(CC) -nostdlib -static -Wl,--build-id=none -Wl,-z,noexecstack \
		-T vmm/stub/stub.ld -o $@ $(STUB_OBJS)
$(BUILD)/vmm/stub_image.o: vmm/stub_image.S $(BUILD)/stub/pvmm-stub.elf
	@mkdir -p $(@D)
	$(CC) -c -DSTUB_IMAGE='"$(BUILD)/stub/pvmm-stub.elf"' $< -o $@
