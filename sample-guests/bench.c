/* bench: timings measured inside the guest with rdtsc, printed as
 * "bench NAME N CYCLES_X100" lines (cycles per operation, times 100) for
 * tests/bench/run.sh to turn into nanoseconds and ratios.
 *   - hypercall: a null hypercall (xen_version)
 *   - update_va_mapping: one entry changed
 *   - mmu_update_512: a 512-entry mmu_update batch (per batch)
 *   - page_fault: a #PF the guest handles itself (fault, handler, iret)
 *   - l1_rewrite N: N entries of one hooked L1 rewritten by direct stores,
 *     then the range touched (the resync point), per entry; N = 1 .. 512 */
#include "rt.h"

#define WIN 0x40000000ul

static inline uint64_t rdtsc(void)
{
	uint32_t lo, hi;
	__asm__ volatile("lfence; rdtsc" : "=a"(lo), "=d"(hi));
	return (uint64_t)hi << 32 | lo;
}

static void report(const char *name, unsigned n, uint64_t cycles, uint64_t ops)
{
	printf("bench %s %u %lu\n", name, n, (unsigned long)(cycles * 100 / ops));
}

static volatile uint64_t *l1;
static uint64_t frames; /* first of 1024 consecutive free frames */

static void setup(void)
{
	uint64_t *l2 = rt_alloc_page();

	l1 = rt_alloc_page();
	frames = rt_si->nr_pages - 2048;
	for (unsigned i = 0; i < 512; i++)
		l1[i] = pte(frames + i, PTE_DATA);
	l2[0] = pte(virt_to_mfn(l1), PTE_TABLE);
	expect_eq(rt_set_readonly(l1), 0);
	expect_eq(rt_set_readonly(l2), 0);
	expect_eq(rt_pin(2, virt_to_mfn(l2)), 0);
	expect_eq(rt_mmu_update1(pte(rt_l4_entry(0), 0) + 8, pte(virt_to_mfn(l2), PTE_TABLE)), 0);
}

static void hypercalls(void)
{
	struct mmu_update batch[512];
	unsigned done, n = 2000;
	uint64_t t0 = rdtsc();

	for (unsigned i = 0; i < n; i++)
		HYPERVISOR_xen_version(XENVER_version, NULL);
	report("hypercall", 1, rdtsc() - t0, n);
	t0 = rdtsc();
	for (unsigned i = 0; i < n; i++)
		HYPERVISOR_update_va_mapping(WIN + 4096 * 7, pte(frames + 512 + (i & 1), PTE_DATA),
					     UVMF_INVLPG);
	report("update_va_mapping", 1, rdtsc() - t0, n);
	n = 50;
	t0 = rdtsc();
	for (unsigned r = 0; r < n; r++) {
		for (unsigned i = 0; i < 512; i++)
			batch[i] = (struct mmu_update){ pte(virt_to_mfn(l1), 0) + i * 8,
							pte(frames + 512 * (r & 1) + i, PTE_DATA) };
		expect_eq(HYPERVISOR_mmu_update(batch, 512, &done, DOMID_SELF), 0);
	}
	report("mmu_update_512", 512, rdtsc() - t0, n);
}

static void pf_hook(struct rt_frame *f)
{
	f->rip += 3; /* mov (%rax), %rax */
}

static void page_faults(void)
{
	unsigned n = 2000;
	uint64_t t0;

	rt_trap_hook = pf_hook;
	expect_eq(rt_install_traps(), 0);
	t0 = rdtsc();
	for (unsigned i = 0; i < n; i++)
		__asm__ volatile("mov (%%rax), %%rax" :: "a"(0x50000000ul) : "memory");
	report("page_fault", 1, rdtsc() - t0, n);
}

static void rewrite(unsigned n, unsigned cycles)
{
	uint64_t t0 = 0;

	for (unsigned c = 0; c <= cycles; c++) { /* cycle 0 warms up */
		if (c == 1)
			t0 = rdtsc();
		for (unsigned i = 0; i < n; i++)
			l1[i] = pte(frames + 512 * (c & 1) + i, PTE_DATA);
		(void)*(volatile uint64_t *)(WIN + 4096 * 511); /* touch the range */
	}
	report("l1_rewrite", n, rdtsc() - t0, (uint64_t)n * cycles);
}

int guest_main(struct start_info *si)
{
	(void)si;
	setup();
	hypercalls();
	page_faults();
	expect_eq(HYPERVISOR_vm_assist(VMASST_CMD_enable, VMASST_TYPE_writable_pagetables), 0);
	for (unsigned n = 1; n <= 512; n *= 2)
		rewrite(n, 4096 / n < 16 ? 16 : 4096 / n);
	return 0;
}
