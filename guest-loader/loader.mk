LOADER_SRCS := guest-loader/elf.c guest-loader/builder.c guest-loader/symbols.c
LIB_SRCS += $(LOADER_SRCS)
