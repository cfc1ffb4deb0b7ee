# One sample guest per property; each is build/guests/NAME.elf.
GUESTS := hello crash spin fault hcall hcloop pt-basic pt-attacks pt-write-no-assist ptwr ptwr-bad bench traps privops minikernel events escape p2m xenstore ramdisk balloon trace-sites grant debugreg compat32 blkfront net lowexec
GUEST_RT_OBJS := $(BUILD)/guests/rt/head.o $(BUILD)/guests/rt/rt.o $(BUILD)/guests/rt/traps.o

$(BUILD)/guests/%.o: sample-guests/%.S
	@mkdir -p $(@D)
	$(CC) $(GUEST_CFLAGS) -c $< -o $@
$(BUILD)/guests/%.o: sample-guests/%.c
	@mkdir -p $(@D)
	$(CC) $(GUEST_CFLAGS) -c $< -o $@
$(BUILD)/guests/%.elf: $(BUILD)/guests/%.o $(GUEST_RT_OBJS) sample-guests/rt/guest.ld
	$(CC) $(GUEST_LDFLAGS) -T sample-guests/rt/guest.ld -o $@ $(filter %.o,$^)

# guests made of more than one file
$(BUILD)/guests/traps.elf: $(BUILD)/guests/traps-user.o $(BUILD)/guests/rt/user.o
$(BUILD)/guests/minikernel.elf: $(BUILD)/guests/minikernel-user.o
$(BUILD)/guests/debugreg.elf: $(BUILD)/guests/debugreg-user.o $(BUILD)/guests/rt/user.o
$(BUILD)/guests/bench.elf: $(BUILD)/guests/bench-user.o $(BUILD)/guests/rt/user.o
$(BUILD)/guests/compat32.elf: $(BUILD)/guests/compat32-user.o $(BUILD)/guests/rt/user.o

# how `pvmm test` runs each guest and what it must show (docs/suite.md);
# variants/NAME~VARIANT.cfg: the end-to-end tests' other runs of a guest
# (not installed)
GUEST_CFGS := $(wildcard sample-guests/*.cfg)
GUEST_VARIANTS := $(wildcard sample-guests/variants/*.cfg)
$(BUILD)/guests/%.cfg: sample-guests/%.cfg
	@mkdir -p $(@D)
	cp $< $@

.PHONY: guests
guests: $(GUESTS:%=$(BUILD)/guests/%.elf) $(GUEST_CFGS:sample-guests/%=$(BUILD)/guests/%) \
	$(GUEST_VARIANTS:sample-guests/%=$(BUILD)/guests/%) $(BUILD)/guests/ramdisk.txt $(BUILD)/guests/blkfront.img
# the file ramdisk.cfg loads as the ramdisk guest's initial ramdisk
# the read-only disk blkfront.cfg gives the blkfront guest: 128 sectors
$(BUILD)/guests/blkfront.img: sample-guests/blkfront-disk.txt
	@mkdir -p $(@D)
	cp $< $@ && truncate -s 64K $@
$(BUILD)/guests/ramdisk.txt: sample-guests/ramdisk.txt
	@mkdir -p $(@D)
	cp $< $@
.SECONDARY:
