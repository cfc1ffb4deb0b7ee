# make fuzz: libFuzzer harnesses (clang) for the ELF loader, the MMU, the netback's tx parser,
# hypercall decoding, the xenstore ring and the xl configuration reader, with ASan and UBSan; FUZZ_SECONDS per harness
# (default 60). make fuzz-smoke (part of make check): 8000 inputs each from
# a fixed seed, so that a smoke run is the same on every machine.
FUZZ_CC := clang
FUZZ_BUILD := build/fuzz
FUZZ_FLAGS := -std=c11 -D_GNU_SOURCE -g -O1 $(INCLUDES) -Itests/fuzz \
	-fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=all -MMD -MP
FUZZ_LIB_OBJS := $(LIB_SRCS:%.c=$(FUZZ_BUILD)/%.o)
FUZZERS := elf mmu hc xs xlcfg netback
FUZZ_SECONDS ?= 60

$(FUZZ_BUILD)/%.o: %.c | deps
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_FLAGS) -c $< -o $@

$(FUZZ_BUILD)/fuzz_%: tests/fuzz/fuzz_%.c tests/fuzz/fuzz_common.h $(FUZZ_LIB_OBJS)
	$(FUZZ_CC) $(FUZZ_FLAGS) -fsanitize=fuzzer -o $@ $< $(FUZZ_LIB_OBJS) $(HOST_LIBS)

# the configuration reader lives in vmm/, outside the library (which it
# needs for the names of disks, blkback's)
$(FUZZ_BUILD)/fuzz_xlcfg: tests/fuzz/fuzz_xlcfg.c $(FUZZ_BUILD)/vmm/xlcfg.o $(FUZZ_BUILD)/vmm/file.o $(FUZZ_LIB_OBJS)
	$(FUZZ_CC) $(FUZZ_FLAGS) -fsanitize=fuzzer -o $@ $< $(FUZZ_BUILD)/vmm/xlcfg.o $(FUZZ_BUILD)/vmm/file.o $(FUZZ_LIB_OBJS) $(HOST_LIBS)

.PHONY: fuzz fuzz-smoke fuzz-bin
fuzz-bin: $(FUZZERS:%=$(FUZZ_BUILD)/fuzz_%) guests $(BUILD)/tests/mkbad

# seeds: the committed ones, plus the sample guests and the malformed images
# (the smoke run starts from those alone, never from a corpus a longer run grew)
fuzz fuzz-smoke: fuzz-bin
	@$(if $(filter fuzz-smoke,$@),rm -rf $(FUZZ_BUILD)/corpus-*;)
	@for f in $(FUZZERS); do mkdir -p $(FUZZ_BUILD)/corpus-$$f; \
		cp tests/fuzz/corpus/$$f/* $(FUZZ_BUILD)/corpus-$$f/ 2>/dev/null || true; done
	@cp $(BUILD)/guests/*.elf $(FUZZ_BUILD)/corpus-elf/
	@cp sample-guests/*.cfg $(FUZZ_BUILD)/corpus-xlcfg/
	@$(BUILD)/tests/mkbad $(BUILD)/guests/hello.elf $(FUZZ_BUILD)/corpus-elf
	@rm -f $(FUZZ_BUILD)/corpus-elf/*.expect
	@set -e; for f in $(FUZZERS); do \
		limit=$(if $(filter fuzz-smoke,$@),"-seed=1 -runs=8000","-max_total_time=$(FUZZ_SECONDS)"); \
		echo "# fuzz_$$f $$limit"; \
		if ! (cd $(FUZZ_BUILD) && ./fuzz_$$f $$limit -print_final_stats=1 \
			corpus-$$f >fuzz_$$f.log 2>&1); then \
			grep -E 'ERROR|SUMMARY|abort' $(FUZZ_BUILD)/fuzz_$$f.log | head -5; \
			echo "fuzz_$$f found a crash: $(FUZZ_BUILD)/fuzz_$$f.log and crash-* there"; exit 1; fi; \
		grep -E '^stat::(number_of_executed_units|new_units_added)' $(FUZZ_BUILD)/fuzz_$$f.log; \
	done
