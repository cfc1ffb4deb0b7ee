/* uml_init - the peer's side of make bench: booted as User-Mode Linux's
 * init (hostfs root), it times what the bench guest times in pvmm, with
 * rdtsc like the guest, and prints "bench NAME 1 CYCLES_X100" lines:
 *   - uml_getpid: a system call round trip from UML's user mode (getpid)
 *   - uml_first_touch: a minor fault, the first touch of a fresh page
 * then powers UML off. Linked statically: UML's init has no loader. */
#include <stdint.h>
#include <stdio.h>
#include <sys/mman.h>
#include <sys/reboot.h>
#include <sys/syscall.h>
#include <unistd.h>

static inline uint64_t rdtsc(void)
{
	uint32_t lo, hi;
	__asm__ volatile("lfence; rdtsc" : "=a"(lo), "=d"(hi));
	return (uint64_t)hi << 32 | lo;
}

static void report(const char *name, uint64_t cycles, uint64_t ops)
{
	printf("bench %s 1 %lu\n", name, (unsigned long)(cycles * 100 / ops));
}

int main(void)
{
	unsigned n = 2000, pages = 2048;
	char *p = mmap(NULL, pages * 4096ul, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	uint64_t t0;

	syscall(SYS_getpid); /* warm up */
	t0 = rdtsc();
	for (unsigned i = 0; i < n; i++)
		syscall(SYS_getpid);
	report("uml_getpid", rdtsc() - t0, n);
	if (p != MAP_FAILED) {
		t0 = rdtsc();
		for (unsigned i = 0; i < pages; i++)
			p[i * 4096ul] = 1;
		report("uml_first_touch", rdtsc() - t0, pages);
	}
	fflush(stdout);
	if (getpid() == 1)
		reboot(RB_POWER_OFF);
	return 0;
}
