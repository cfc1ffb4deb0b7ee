/* console.c - the guest's two consoles: console_io, Xen's log, and the
 * output of the PV console ring (the console backend,
 * vmm/backends/console.c, serves the ring itself).
 *
 * On Xen, what a domain writes with console_io goes to the hypervisor's log
 * (`xl dmesg`), and its console ring to its console (`xl console`). pvmm's
 * standard output is the console: the ring, and console_io as long as the
 * guest has not used the ring, so that a guest with console_io alone is
 * seen. Guests that write every line both ways (XTF, Mini-OS) are seen
 * once: when the ring's first output repeats the lines console_io just
 * showed, they are not shown again, and console_io is not shown after it.
 * With --hvlog all of console_io goes there, and the console has the ring
 * only. */
#include "hypercalls/hc.h"
#include "mmu/mmu.h"

#include <errno.h>
#include <string.h>

#define CHUNK 4096

/* Remember console_io text shown on the console: its last bytes. */
static void echo_add(struct vm *vm, const char *buf, size_t n)
{
	size_t room = sizeof(vm->echo.text);

	if (n >= room) {
		buf += n - room, n = room;
		vm->echo.len = 0;
	} else if (vm->echo.len + n > room) {
		size_t drop = vm->echo.len + n - room;
		memmove(vm->echo.text, vm->echo.text + drop, vm->echo.len - drop);
		vm->echo.len -= (uint32_t)drop;
	}
	memcpy(vm->echo.text + vm->echo.len, buf, n);
	vm->echo.len += (uint32_t)n;
}

/* Whether buf[0, end) is what the echo ends with, from a line's start on;
 * a '\r' on either side does not count (rings often get CRLF). */
static int echo_ends_with(const struct vm *vm, const char *buf, size_t end)
{
	const char *e = vm->echo.text;
	size_t i = end, j = vm->echo.len;

	for (; i > 0; i--) {
		if (buf[i - 1] == '\r')
			continue;
		while (j > 0 && e[j - 1] == '\r')
			j--;
		if (j == 0 || e[j - 1] != buf[i - 1])
			return 0;
		j--;
	}
	while (j > 0 && e[j - 1] == '\r')
		j--;
	return j == 0 || e[j - 1] == '\n';
}

/* How many bytes at the start of the ring's output (buf, n) repeat, whole
 * lines, what console_io showed last. */
static size_t repeated(const struct vm *vm, const char *buf, size_t n)
{
	size_t best = 0;

	for (size_t end = 1; end <= n; end++)
		if ((buf[end - 1] == '\n' || end == n) && echo_ends_with(vm, buf, end))
			best = end;
	return best;
}

void hc_console_ring_out(struct vm *vm, const char *buf, size_t n)
{
	size_t skip = 0;

	if (!vm->ev.console_used && !vm->hvlog && vm->echo.len)
		skip = repeated(vm, buf, n);
	vm->echo.len = 0;
	vm->ev.console_used = 1; /* from now on the ring is the console */
	fwrite(buf + skip, 1, n - skip, vm->console);
	fflush(vm->console);
}

/* console_io's text: Xen's log, on the console while the ring is unused. */
static void log_out(struct vm *vm, const char *buf, size_t n)
{
	if (vm->hvlog) {
		fwrite(buf, 1, n, vm->hvlog);
	} else if (!vm->ev.console_used) {
		fwrite(buf, 1, n, vm->console);
		echo_add(vm, buf, n);
	}
}

static int64_t console_write(struct vm *vm, uint64_t count, uint64_t buf)
{
	char tmp[CHUNK];

	while (count) {
		size_t n = count < CHUNK ? count : CHUNK;
		if (mmu_copy_from_guest(vm, tmp, buf, n))
			return -XEN_EFAULT;
		log_out(vm, tmp, n);
		vm->stats.console_bytes += n;
		buf += n, count -= n;
	}
	fflush(vm->hvlog ? vm->hvlog : vm->console);
	return 0;
}

/* Non-blocking, as Xen's: what the host typed and the front end queued
 * (vm->input), possibly nothing. Once the guest uses the ring, its input
 * goes there (the console backend) and none is left here. */
static int64_t console_read(struct vm *vm, uint64_t count, uint64_t buf)
{
	uint32_t n = count < vm->input.len ? (uint32_t)count : vm->input.len;

	if (!n)
		return 0;
	if (mmu_copy_to_guest(vm, buf, vm->input.buf, n))
		return -XEN_EFAULT;
	vm_input_taken(vm, n);
	return n;
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
