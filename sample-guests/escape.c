/* escape: what a hostile guest would try, one attempt per run, chosen by
 * the command line (attempt=NAME, file=PATH). Every attempt must end the
 * guest without harming pvmm or the host; if an attempt returns, this guest
 * reports FAILURE (the host let it through).
 *   open execve socket fork ptrace kill mmapfd mprotect: real host system
 *       calls, made by jumping into the stub's own `syscall; ret`
 *   exit: exit_group(0) through the stub (allowed: the stub may exit), as
 *       if the guest had powered off
 *   scribble: overwrite pvmm's control page, then trap
 *   race: forge hand-offs (bump the request word, wake pvmm through the
 *       stub's futex) while rewriting the page pvmm is reading, then trap
 *   beyond: map the guest memory file past its end, and touch it
 *   stubjump: jump into the middle of the stub with garbage registers
 *   maps: an address space that needs more host mappings than allowed
 *   churn: never stop, switching between two address spaces that differ
 *       by 4,096 separate host mappings (pvmm is almost always mapping) */
#include "rt.h"

static const char *arg(const char *cmdline, const char *key, char *buf, unsigned len)
{
	unsigned n = (unsigned)strlen(key);

	for (const char *p = cmdline; *p; p++)
		if (!memcmp(p, key, n) && p[n] == '=' && (p == cmdline || p[-1] == ' ')) {
			unsigned i = 0;
			for (p += n + 1; *p && *p != ' ' && i + 1 < len; p++)
				buf[i++] = *p;
			buf[i] = 0;
			return buf;
		}
	return NULL;
}

/* The stub's `syscall; ret`: found by reading its text, as an attacker would. */
static uint64_t find_syscall_ret(void)
{
	const volatile uint8_t *p = (const uint8_t *)0x7f8000000000ul;

	for (unsigned i = 0; i < 0x4000; i++)
		if (p[i] == 0x0f && p[i + 1] == 0x05 && p[i + 2] == 0xc3)
			return (uint64_t)&p[i];
	return 0;
}

static long host(uint64_t gadget, long nr, long a1, long a2, long a3, long a4, long a5, long a6)
{
	register long r10 __asm__("r10") = a4;
	register long r8 __asm__("r8") = a5;
	register long r9 __asm__("r9") = a6;
	long ret;

	__asm__ volatile("call *%[g]" : "=a"(ret) : [g] "r"(gadget), "a"(nr), "D"(a1), "S"(a2),
			 "d"(a3), "r"(r10), "r"(r8), "r"(r9) : "rcx", "r11", "memory");
	return ret;
}

static void maps(void)
{
	uint64_t *l1 = rt_alloc_page(), *l2 = rt_alloc_page(), *data = rt_alloc_page();

	for (unsigned i = 0; i < 512; i += 2) /* every other page: a mapping each */
		l1[i] = pte(virt_to_mfn(data), PTE_RO);
	for (unsigned i = 0; i < 300; i++)    /* the same L1 hooked 300 times */
		l2[i] = pte(virt_to_mfn(l1), PTE_TABLE);
	expect_eq(rt_set_readonly(l1), 0);
	expect_eq(rt_set_readonly(l2), 0);
	expect_eq(rt_pin(2, virt_to_mfn(l2)), 0);
	printf("escape: hooking 300 x 256 separate pages\n");
	rt_mmu_update1(pte(rt_l4_entry(0), 0) + 8, pte(virt_to_mfn(l2), PTE_TABLE));
}

static void churn(void)
{
	uint64_t *l1 = rt_alloc_page(), *l2 = rt_alloc_page(), *l3 = rt_alloc_page();
	uint64_t *l4 = rt_alloc_page(), *data = rt_alloc_page();
	const uint64_t *boot = (const uint64_t *)rt_si->pt_base;

	for (unsigned i = 0; i < 512; i += 2)
		l1[i] = pte(virt_to_mfn(data), PTE_RO);
	for (unsigned i = 0; i < 16; i++)
		l2[i] = pte(virt_to_mfn(l1), PTE_TABLE);
	l3[0] = pte(virt_to_mfn(l2), PTE_TABLE);
	for (unsigned i = 0; i < 255; i++)
		l4[i] = boot[i];
	l4[1] = pte(virt_to_mfn(l3), PTE_TABLE);
	expect_eq(rt_set_readonly(l1), 0);
	expect_eq(rt_set_readonly(l2), 0);
	expect_eq(rt_set_readonly(l3), 0);
	expect_eq(rt_set_readonly(l4), 0);
	expect_eq(rt_pin(4, virt_to_mfn(l4)), 0);
	printf("escape: churning\n");
	for (;;) {
		expect_eq(rt_new_baseptr(virt_to_mfn(l4)), 0);
		expect_eq(rt_new_baseptr(rt_l4_mfn()), 0);
	}
}

#define CTRL 0x7f8000200000ul   /* the control page, as the stub's text reveals */
#define CTRL_REQ (CTRL + 16)    /* its request futex word */

/* 20,000 forged hand-offs, each after rewriting everything past the futex
 * words with noise; survives if pvmm answers a real trap afterwards. */
static long race(uint64_t g)
{
	volatile uint32_t *req = (volatile uint32_t *)CTRL_REQ;
	volatile uint64_t *page = (volatile uint64_t *)CTRL;
	uint64_t x = 88172645463325252ull;

	for (unsigned i = 0; i < 20000; i++) {
		for (unsigned j = 3; j < 64; j++) {
			x ^= x << 13, x ^= x >> 7, x ^= x << 17;
			page[j] = x;
		}
		++*req;
		host(g, 202 /* futex */, CTRL_REQ, 1 /* FUTEX_WAKE */, 1, 0, 0, 0);
	}
	return HYPERVISOR_xen_version(XENVER_version, NULL);
}

/* A mapping of the memory file 1 GiB past its end: allowed by the filter
 * (it is the guest memory descriptor), but there is nothing to reach. */
static long beyond(uint64_t g)
{
	uint64_t at = 0x100000000000ul;
	long r = host(g, 9 /* mmap */, (long)at, 4096, 3, 0x11 /* SHARED|FIXED */, 3,
		      (long)(rt_si->nr_pages * 4096 + (1ul << 30)));

	printf("escape: mmap past the end returned %#lx\n", r);
	return *(volatile long *)at;
}

int guest_main(struct start_info *si)
{
	char what[32], file[256];
	const char *cmd = (const char *)si->cmd_line;
	uint64_t g;
	long r = 0;

	if (!arg(cmd, "attempt", what, sizeof(what)))
		return printf("escape: say attempt=NAME\n"), 1;
	if (!arg(cmd, "file", file, sizeof(file)))
		strcpy(file, "/tmp/pvmm-escape");
	g = find_syscall_ret();
	guest_assert(g);
	printf("escape: trying %s\n", what);
	if (!strcmp(what, "open"))
		r = host(g, 2, (long)file, 0101 /* O_WRONLY|O_CREAT */, 0644, 0, 0, 0);
	else if (!strcmp(what, "execve"))
		r = host(g, 59, (long)"/bin/sh", 0, 0, 0, 0, 0);
	else if (!strcmp(what, "socket"))
		r = host(g, 41, 2, 1, 0, 0, 0, 0);
	else if (!strcmp(what, "fork"))
		r = host(g, 57, 0, 0, 0, 0, 0, 0);
	else if (!strcmp(what, "ptrace"))
		r = host(g, 101, 16 /* PTRACE_ATTACH */, 1, 0, 0, 0, 0);
	else if (!strcmp(what, "kill"))
		r = host(g, 62, -1, 9, 0, 0, 0, 0);
	else if (!strcmp(what, "mmapfd"))  /* another descriptor than guest memory */
		r = host(g, 9, 0x10000000, 4096, 3, 0x11, 0, 0);
	else if (!strcmp(what, "exit"))     /* allowed: the stub may exit */
		r = host(g, 231, 0, 0, 0, 0, 0, 0);
	else if (!strcmp(what, "mprotect")) /* make the stub writable */
		r = host(g, 10, 0x7f8000000000l, 4096, 7, 0, 0, 0);
	else if (!strcmp(what, "scribble")) {
		memset((void *)0x7f8000200000ul, 0x41, 0x10000);
		r = HYPERVISOR_xen_version(XENVER_version, NULL);
	} else if (!strcmp(what, "stubjump"))
		__asm__ volatile("xor %%esp, %%esp; jmp *%0" :: "r"(0x7f8000000100ul));
	else if (!strcmp(what, "maps"))
		maps();
	else if (!strcmp(what, "churn"))
		churn();
	else if (!strcmp(what, "race")) {
		r = race(g);
		printf("escape: race: pvmm still answers (%ld)\n", r);
		return 0;
	} else if (!strcmp(what, "beyond"))
		r = beyond(g);
	else
		return printf("escape: unknown attempt %s\n", what), 1;
	printf("escape: %s returned %ld: the host let it through\n", what, r);
	return 1;
}
