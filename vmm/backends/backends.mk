# Device backends (dom0's work): pure code over struct vm, in the library
# the tests link too.
BACKEND_SRCS := vmm/backends/xenstore.c vmm/backends/console.c vmm/backends/xenbus_dev.c vmm/backends/blkback.c vmm/backends/netback.c
LIB_SRCS += $(BACKEND_SRCS)
