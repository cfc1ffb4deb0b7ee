/* minikernel: a tiny multi-process PV kernel. Three user processes, each
 * with its own page tables, run the same program; they make system calls
 * through the syscall callback, are preempted by a 10 ms periodic timer
 * (VIRQ_TIMER through the event callback) and get their data pages on
 * first touch from a demand-paging #PF handler. The kernel runs with events
 * masked; returning to user mode enables them. */
#include "rt.h"

#define NPROC 3
#define STEPS 4
#define STACK_VA 0x5ff000ul
#define DATA_VA 0x800000ul
#define TICKS_VA 0x5fe000ul /* preemptions so far, read-only to user mode */
#define USER_CS 0xe033ul

struct proc {
	_Alignas(16) uint8_t fpu[512]; /* saved FPU/SSE state (FXSAVE), as a kernel keeps it */
	struct rt_frame frame;  /* saved user context */
	uint64_t l4, data_l1;   /* frames */
	unsigned next_step, faults;
	int done;
};

static struct proc procs[NPROC];
static unsigned cur, preemptions, switches, pages_mapped, timer_port, last_logger = NPROC;
static unsigned interleaved;
static struct shared_info *shared;
static volatile uint64_t *ticks; /* the page every process maps at TICKS_VA */
extern char mk_user_entry[], mk_user_end[];

static uint64_t *table(void)
{
	uint64_t *t = rt_alloc_page();
	return t;
}

static void make_process(unsigned n)
{
	struct proc *p = &procs[n];
	uint64_t *l4 = table(), *l3 = table(), *l2 = table(), *l1 = table(), *dl1 = table();
	uint64_t *stack = rt_alloc_page(), code = (uint64_t)mk_user_entry;

	guest_assert((code >> 21) == (STACK_VA >> 21) && (code >> 21) == (TICKS_VA >> 21));
	guest_assert(code + 4096 <= TICKS_VA);
	l1[(code >> 12) & 511] = pte(virt_to_mfn(mk_user_entry), PTE_RO);
	l1[(TICKS_VA >> 12) & 511] = pte(virt_to_mfn((void *)ticks), PTE_RO);
	l1[(STACK_VA >> 12) & 511] = pte(virt_to_mfn(stack), PTE_DATA);
	l2[(code >> 21) & 511] = pte(virt_to_mfn(l1), PTE_TABLE);
	l2[(DATA_VA >> 21) & 511] = pte(virt_to_mfn(dl1), PTE_TABLE); /* empty: demand paged */
	l3[0] = pte(virt_to_mfn(l2), PTE_TABLE);
	l4[0] = pte(virt_to_mfn(l3), PTE_TABLE);
	uint64_t *tables[] = { l1, dl1, l2, l3, l4 };
	for (unsigned i = 0; i < 5; i++)
		expect_eq(rt_set_readonly(tables[i]), 0);
	expect_eq(rt_pin(4, virt_to_mfn(l4)), 0);
	p->l4 = virt_to_mfn(l4);
	p->data_l1 = virt_to_mfn(dl1);
	memset(&p->frame, 0, sizeof(p->frame));
	p->frame.rip = code;
	p->frame.cs = USER_CS;
	p->frame.rflags = 0x202; /* events on in user mode */
	p->frame.rsp = STACK_VA + 4096;
	p->frame.ss = FLAT_USER_SS64;
	p->frame.rbx = n;
	__asm__ volatile("fxsave64 %0" : "=m"(p->fpu)); /* a valid image to start from */
}

static void load(struct rt_frame *f, unsigned n)
{
	struct mmuext_op op = { .cmd = MMUEXT_NEW_USER_BASEPTR, .arg1 = procs[n].l4 };

	expect_eq(HYPERVISOR_mmuext_op(&op, 1, NULL, DOMID_SELF), 0);
	uint64_t vector = f->vector, error = f->error;
	*f = procs[n].frame;
	f->vector = vector, f->error = error;
	__asm__ volatile("fxrstor64 %0" : : "m"(procs[n].fpu));
	cur = n;
}

/* Round robin to the next live process; finish when none is left. */
static void schedule(struct rt_frame *f, int save)
{
	if (save) { /* the kernel's code leaves the FPU alone: it holds the user's state */
		procs[cur].frame = *f;
		__asm__ volatile("fxsave64 %0" : "=m"(procs[cur].fpu));
	}
	for (unsigned i = 1; i <= NPROC; i++) {
		unsigned n = (cur + i) % NPROC;
		if (!procs[n].done) {
			if (n != cur)
				switches++;
			load(f, n);
			return;
		}
	}
	printf("minikernel: all %d processes done: %u preemptions, %u switches, %u pages "
	       "mapped on demand, logs interleaved %u times\n", NPROC, preemptions, switches,
	       pages_mapped, interleaved);
	guest_assert(preemptions > 0);
	guest_assert(interleaved > 0);
	expect_eq(pages_mapped, NPROC * STEPS);
	rt_finish(0);
}

static void syscall_(struct rt_frame *f)
{
	struct proc *p = &procs[cur];

	uint64_t xmm0;

	switch (f->rax) {
	case 1:
		/* the user's %xmm0 reached the kernel; it goes back changed */
		__asm__ volatile("movq %%xmm0, %0" : "=r"(xmm0));
		expect_eq(xmm0, f->rdi * 256 + f->rsi);
		xmm0 += 0x1000;
		__asm__ volatile("movq %0, %%xmm0" : : "r"(xmm0));
		expect_eq(f->rdi, cur);
		expect_eq(f->rsi, p->next_step); /* each process's steps in order */
		expect_eq(f->rdx, f->rsi);       /* its page holds what it stored */
		p->next_step++;
		if (last_logger != NPROC && last_logger != cur && procs[last_logger].next_step < STEPS)
			interleaved++;
		last_logger = cur;
		printf("P%lu step %lu\n", (unsigned long)f->rdi, (unsigned long)f->rsi);
		f->rax = 0;
		return;
	case 99:
		expect_eq(p->next_step, STEPS);
		p->done = 1;
		printf("P%u exits\n", cur);
		schedule(f, 0);
		return;
	default:
		f->rax = (uint64_t)-XEN_ENOSYS;
	}
}

/* Demand paging: a fresh zeroed frame for a first touch of the data area. */
static void page_fault(struct rt_frame *f)
{
	uint64_t va = shared->vcpu_info[0].cr2;
	struct proc *p = &procs[cur];

	guest_assert((f->cs & 3) == 3);
	guest_assert(!(f->error & X86_PFEC_PRESENT));
	guest_assert(va >= DATA_VA && va < DATA_VA + 4 * 4096);
	uint64_t *page = rt_alloc_page();
	expect_eq(rt_mmu_update1(pte(p->data_l1, 0) + ((va >> 12) & 511) * 8,
				 pte(virt_to_mfn(page), PTE_DATA)), 0);
	p->faults++;
	pages_mapped++;
}

static void hook(struct rt_frame *f)
{
	long port;

	switch (f->vector) {
	case RT_SYSCALL_VECTOR:
		syscall_(f);
		break;
	case X86_PF:
		page_fault(f);
		break;
	case RT_EVENT_VECTOR:
		while ((port = rt_next_event(shared)) >= 0)
			if ((unsigned)port == timer_port && (f->cs & 3) == 3) {
				preemptions++;
				*ticks = preemptions;
				schedule(f, 1);
			}
		break;
	default:
		printf("minikernel: unexpected vector %lu at %#lx\n", (unsigned long)f->vector,
		       (unsigned long)f->rip);
		rt_finish(1);
	}
}

int guest_main(struct start_info *si)
{
	struct evtchn_bind_virq bind = { VIRQ_TIMER, 0, 0 };
	/* 10 ms: more than a preemption costs even under --check-invariants
	 * and the sanitizers (about 1.4 ms there); with a period shorter than
	 * that, every return to user mode would find the next tick pending and
	 * no user instruction would ever run (as on Xen). */
	struct vcpu_set_periodic_timer period = { 10000000 };
	uint64_t *kstack = rt_alloc_page();

	(void)si;
	guest_assert(mk_user_end - mk_user_entry == 4096);
	shared = rt_map_shared_info();
	rt_trap_hook = hook;
	ticks = rt_alloc_page();
	expect_eq(rt_install_traps_masked(), 0);
	expect_eq(HYPERVISOR_stack_switch(FLAT_KERNEL_SS64, (uint64_t)kstack + 4096), 0);
	for (unsigned n = 0; n < NPROC; n++)
		make_process(n);
	expect_eq(HYPERVISOR_event_channel_op(EVTCHNOP_bind_virq, &bind), 0);
	timer_port = bind.port;
	expect_eq(HYPERVISOR_vcpu_op(VCPUOP_set_periodic_timer, 0, &period), 0);
	printf("minikernel: %d processes, timer on port %u\n", NPROC, timer_port);
	/* enter the first process: iret from a frame built like a saved one */
	struct rt_frame *f = (struct rt_frame *)((uint64_t)kstack + 4096 - sizeof(*f) - 64);
	f->vector = f->error = 0;
	load(f, 0);
	__asm__ volatile("mov %0, %%rsp; pop %%r15; pop %%r14; pop %%r13; pop %%r12; pop %%r11;"
			 "pop %%r10; pop %%r9; pop %%r8; pop %%rbp; pop %%rdi; pop %%rsi; pop %%rdx;"
			 "pop %%rcx; pop %%rbx; pop %%rax; add $16, %%rsp; push $0;"
			 "jmp hypercall_page + 23 * 32" :: "r"(f) : "memory");
	__builtin_unreachable();
}
