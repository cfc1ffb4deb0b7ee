/* bench: timings measured inside the guest with rdtsc, printed as
 * "bench NAME N CYCLES_X100" lines (cycles per operation, times 100) for
 * tests/bench/run.sh to turn into nanoseconds and ratios.
 *   - hypercall: a null hypercall (xen_version)
 *   - update_va_mapping: one entry changed
 *   - mmu_update_512: a 512-entry mmu_update batch (per batch)
 *   - page_fault: a #PF the guest handles itself (fault, handler, iret)
 *   - first_touch: demand paging; a #PF on an unmapped page whose handler
 *     maps a fresh frame there (update_va_mapping), then the retry
 *   - user_syscall: a system call from the guest's user mode, through the
 *     syscall callback and HYPERVISOR_iret back to user (bench-user.S)
 *   - process_switch: the same system call, whose handler switches to the
 *     other of two user processes (each its own tables and stack page; the
 *     code page shared) with MMUEXT_NEW_USER_BASEPTR before the iret:
 *     per switch, after each process ran once
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
static uint64_t *win_l2; /* the L2 of WIN: l1 in slot 0, first_touch's in 1 */
static uint64_t frames; /* first of 1024 consecutive free frames */

static void setup(void)
{
	uint64_t *l2 = win_l2 = rt_alloc_page();

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

/* Demand paging in a second 2 MiB window, whose L1 starts empty: each
 * first touch faults, the handler maps the next fresh frame at cr2. */
#define WIN2 (WIN + (2ul << 20))
static struct shared_info *shared;
static unsigned touched;

static void touch_hook(struct rt_frame *f)
{
	uint64_t va = shared->vcpu_info[0].cr2 & ~0xffful;

	if (f->vector != X86_PF || va < WIN2 || va >= WIN2 + (2ul << 20))
		guest_assert(!"an unexpected trap while touching fresh pages");
	expect_eq(HYPERVISOR_update_va_mapping(va, pte(frames + 512 + touched++ % 512, PTE_DATA), 0), 0);
}

static void first_touch(void)
{
	uint64_t *l1b = rt_alloc_page(), cycles = 0;
	unsigned rounds = 4;

	expect_eq(rt_set_readonly(l1b), 0);
	expect_eq(rt_pin(1, virt_to_mfn(l1b)), 0);
	expect_eq(rt_mmu_update1(pte(virt_to_mfn(win_l2), 0) + 8, pte(virt_to_mfn(l1b), PTE_TABLE)), 0);
	shared = rt_map_shared_info();
	rt_trap_hook = touch_hook;
	for (unsigned r = 0; r < rounds; r++) {
		uint64_t t0 = rdtsc();

		for (unsigned i = 0; i < 512; i++)
			(void)*(volatile uint64_t *)(WIN2 + 4096ul * i);
		cycles += rdtsc() - t0;
		for (unsigned i = 0; i < 512; i++) /* unmap again, untimed */
			expect_eq(HYPERVISOR_update_va_mapping(WIN2 + 4096ul * i, 0, UVMF_INVLPG), 0);
	}
	report("first_touch", 1, cycles, 512ul * rounds);
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

/* User mode last: its system call 99 starts the process switches, whose
 * end goes to user_done(), which finishes. */
extern char bench_user_entry[], bench_user_end[], bench_switch_entry[];
static uint64_t kstack_top, ustack_va;

#define SWITCH_WARM 16   /* both processes ran: every space visited */
#define SWITCHES 2000

static struct {
	uint64_t l4[2];  /* the two processes' tables */
	unsigned n;      /* switches so far */
	uint64_t t0;
} sw;

static __attribute__((noreturn)) void user_done(void)
{
	rt_finish(0);
}

static void set_user_l4(uint64_t mfn)
{
	struct mmuext_op op = { .cmd = MMUEXT_NEW_USER_BASEPTR, .arg1 = mfn };

	expect_eq(HYPERVISOR_mmuext_op(&op, 1, NULL, DOMID_SELF), 0);
}

/* System call 99 of user_syscalls: two processes, the first entered. */
static void start_switches(struct rt_frame *f)
{
	for (unsigned i = 0; i < 2; i++)
		sw.l4[i] = rt_user_l4(bench_user_entry, ustack_va, rt_alloc_page());
	set_user_l4(sw.l4[0]);
	f->rip = (uint64_t)bench_switch_entry;
	f->rsp = ustack_va + 4096;
}

/* System call 2: the other process next */
static void switch_process(struct rt_frame *f)
{
	if (++sw.n == SWITCH_WARM)
		sw.t0 = rdtsc();
	if (sw.n == SWITCH_WARM + SWITCHES) {
		report("process_switch", 1, rdtsc() - sw.t0, SWITCHES);
		f->rip = (uint64_t)user_done;
		f->cs = FLAT_KERNEL_CS64 & ~3; /* RPL 0: back to kernel mode, as Xen's frames say */
		f->rsp = kstack_top - 8;
		f->rflags = 0x202;
		return;
	}
	set_user_l4(sw.l4[sw.n & 1]);
}

static void syscall_hook(struct rt_frame *f)
{
	if (f->vector != RT_SYSCALL_VECTOR)
		guest_assert(!"an unexpected trap in user mode");
	if (f->rax == 99) {
		report("user_syscall", 1, f->rdi, f->rsi);
		start_switches(f);
	} else if (f->rax == 2) {
		switch_process(f);
	}
}

static __attribute__((noreturn)) void user_syscalls(void)
{
	uint64_t *ustack = rt_alloc_page();

	guest_assert(bench_user_end - bench_user_entry == 4096);
	ustack_va = (uint64_t)ustack;
	kstack_top = rt_user_space(bench_user_entry, ustack);
	rt_trap_hook = syscall_hook;
	/* iret into user mode: flags, rip, cs, rflags, rsp, ss */
	__asm__ volatile("push %[ss]; push %[sp]; push $0x202; push %[cs]; push %[ip]; push $0;"
			 "jmp hypercall_page + 23 * 32"
			 :: [ss] "r"((uint64_t)FLAT_USER_SS64), [sp] "r"((uint64_t)ustack + 4096),
			    [cs] "r"((uint64_t)FLAT_USER_CS64), [ip] "r"((uint64_t)bench_user_entry)
			 : "memory");
	__builtin_unreachable();
}

int guest_main(struct start_info *si)
{
	(void)si;
	setup();
	hypercalls();
	page_faults();
	first_touch();
	expect_eq(HYPERVISOR_vm_assist(VMASST_CMD_enable, VMASST_TYPE_writable_pagetables), 0);
	for (unsigned n = 1; n <= 512; n *= 2)
		rewrite(n, 4096 / n < 16 ? 16 : 4096 / n);
	user_syscalls();
}
