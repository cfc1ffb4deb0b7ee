/* console.c - console_io: the guest's debug console. */
#include "hypercalls/hc.h"
#include "mmu/mmu.h"

#include <errno.h>
#include <poll.h>
#include <unistd.h>

#define CHUNK 4096

static int64_t console_write(struct vm *vm, uint64_t count, uint64_t buf)
{
	char tmp[CHUNK];

	while (count) {
		size_t n = count < CHUNK ? count : CHUNK;
		if (mmu_copy_from_guest(vm, tmp, buf, n))
			return -XEN_EFAULT;
		fwrite(tmp, 1, n, vm->console);
		vm->stats.console_bytes += n;
		buf += n, count -= n;
	}
	fflush(vm->console);
	return 0;
}

/* Non-blocking, as Xen's: returns what is available now, possibly 0. */
static int64_t console_read(struct vm *vm, uint64_t count, uint64_t buf)
{
	char tmp[CHUNK];
	struct pollfd p = { vm->console_in, POLLIN, 0 };
	ssize_t got;

	if (vm->console_in < 0 || !count || poll(&p, 1, 0) != 1)
		return 0;
	got = read(vm->console_in, tmp, count < CHUNK ? count : CHUNK);
	if (got <= 0)
		return 0;
	if (mmu_copy_to_guest(vm, buf, tmp, (size_t)got))
		return -XEN_EFAULT;
	return got;
}

int64_t hc_console_io(struct vm *vm, const uint64_t a[5])
{
	switch (a[0]) {
	case CONSOLEIO_write:
		return console_write(vm, a[1], a[2]);
	case CONSOLEIO_read:
		return console_read(vm, a[1], a[2]);
	default:
		return -XEN_ENOSYS;
	}
}
