LOADER_SRCS := guest-loader/elf.c guest-loader/builder.c
LIB_SRCS += $(LOADER_SRCS)
