/* traps: every exception a guest can take, in kernel and in user mode,
 * delivered through the trap table with the vector, error code, cr2 and
 * frame Xen gives, and returned from with HYPERVISOR_iret; user system
 * calls bounced to the syscall callback; int $n through gates with and
 * without the DPL to use them. */
#include "rt.h"

#define KERNEL_CS 0xe030ul
#define USER_CS 0xe033ul
#define EFLAGS_TF (1ul << 8)

struct seen {
	uint64_t vector, error, rip, cs, cr2, rflags;
};

static struct seen log[32];
static unsigned nlog;
static unsigned skip;              /* bytes to step over on return */
static struct shared_info *shared;
static uint64_t report_value, kstack_top;
extern char user_entry[], user_end[], user_pf[], user_int40[];

static void kernel_resume(void);

static void hook(struct rt_frame *f)
{
	struct seen *s = &log[nlog < 32 ? nlog++ : 31];

	*s = (struct seen){ f->vector, f->error, f->rip, f->cs & 0xffff,
			    shared ? shared->vcpu_info[0].cr2 : 0, f->rflags };
	if (f->vector == RT_SYSCALL_VECTOR) {
		if (f->rax == 42)
			f->rax = 43;
		else if (f->rax == 1)
			report_value = f->rdi;
		else if (f->rax == 99) { /* leave user mode: iret into the kernel */
			f->rip = (uint64_t)kernel_resume;
			f->cs = KERNEL_CS;
			f->rsp = kstack_top - 8;
			f->rflags = 0x202;
		}
		return;
	}
	if ((f->cs & 3) == 3) { /* user mode: the lengths are known from traps-user.S */
		f->rip += f->vector == X86_PF ? 3 : f->vector == X86_GP ? 2 : 0;
	} else if (f->vector == X86_PF && (f->error & X86_PFEC_FETCH)) {
		f->rip = *(uint64_t *)f->rsp; /* the jump came from a pushed return address: ret */
		f->rsp += 8;
	} else {
		f->rip += skip;
	}
	f->rflags &= ~EFLAGS_TF;
	skip = 0;
}

static struct seen *expect_trap(uint64_t vector, uint64_t error, uint64_t cs)
{
	guest_assert(nlog > 0);
	struct seen *s = &log[nlog - 1];
	expect_eq(s->vector, vector);
	expect_eq(s->error, error);
	expect_eq(s->cs, cs);
	return s;
}

static void kernel_mode(void)
{
	volatile uint64_t *ro = rt_alloc_page();
	uint8_t *nx = rt_alloc_page();
	struct seen *s;

	skip = 2;
	__asm__ volatile("xor %%ecx, %%ecx; div %%ecx" ::: "rax", "rcx", "rdx", "cc");
	expect_trap(X86_DE, 0, KERNEL_CS);
	skip = 2;
	__asm__ volatile("ud2");
	expect_trap(X86_UD, 0, KERNEL_CS);
	__asm__ volatile("int3");
	expect_trap(X86_BP, 0, KERNEL_CS);
	skip = 2;
	__asm__ volatile("inb $0x80, %%al" ::: "rax");
	expect_trap(X86_GP, 0, KERNEL_CS);
	printf("traps: #DE #UD #BP #GP in kernel mode\n");

	skip = 3;
	__asm__ volatile("mov (%%rax), %%rax" :: "a"(0x50000000ul) : "memory");
	s = expect_trap(X86_PF, 0, KERNEL_CS);
	expect_eq(s->cr2, 0x50000000);
	expect_eq(rt_set_readonly(ro), 0);
	skip = 3;
	__asm__ volatile("mov %%rcx, (%%rax)" :: "a"(ro), "c"(1) : "memory");
	s = expect_trap(X86_PF, X86_PFEC_PRESENT | X86_PFEC_WRITE, KERNEL_CS);
	expect_eq(s->cr2, (uint64_t)ro);
	nx[0] = 0xc3; /* ret */
	expect_eq(HYPERVISOR_update_va_mapping((uint64_t)nx, pte(virt_to_mfn(nx), PTE_DATA | PTE_NX),
					       UVMF_INVLPG), 0);
	skip = 0;
	unsigned before = nlog;
	__asm__ volatile("lea 1f(%%rip), %%rcx; push %%rcx; jmp *%%rax; 1:"
			 :: "a"(nx) : "rcx", "memory");
	expect_eq(nlog, before + 1);
	s = expect_trap(X86_PF, X86_PFEC_PRESENT | X86_PFEC_FETCH, KERNEL_CS);
	expect_eq(s->cr2, (uint64_t)nx);
	expect_eq(s->rip, (uint64_t)nx);
	printf("traps: #PF not-present, write-protect and no-execute, with cr2\n");

	__asm__ volatile("pushf; orq $0x100, (%%rsp); popf; nop; nop" ::: "memory", "cc");
	expect_trap(X86_DB, 0, KERNEL_CS);
	__asm__ volatile("int $0x80" ::: "memory");
	expect_trap(0x80, 0, KERNEL_CS);
	__asm__ volatile("int $0x40" ::: "memory");
	expect_trap(0x40, 0, KERNEL_CS);
	printf("traps: single step, int $0x80 and int $0x40 in kernel mode\n");
}

/* A user address space that maps only the user code page and a stack. */
static void enter_user(void)
{
	uint64_t *ustack = rt_alloc_page();
	uint64_t code = (uint64_t)user_entry;

	guest_assert(user_end - user_entry == 4096);
	kstack_top = rt_user_space(user_entry, ustack);
	nlog = 0;
	/* iret into user mode: flags, rip, cs, rflags, rsp, ss */
	__asm__ volatile("push %[ss]; push %[sp]; push $0x202; push %[cs]; push %[ip]; push $0;"
			 "jmp hypercall_page + 23 * 32"
			 :: [ss] "r"(0xe02bul), [sp] "r"((uint64_t)ustack + 4096), [cs] "r"(USER_CS),
			    [ip] "r"(code) : "memory");
	__builtin_unreachable();
}

/* The user part ended with system call 99; we are back in kernel mode on
 * the stack_switch stack. */
static void kernel_resume(void)
{
	expect_eq(nlog, 7);
	expect_trap(RT_SYSCALL_VECTOR, 0, USER_CS);
	expect_eq(log[0].vector, RT_SYSCALL_VECTOR);
	expect_eq(report_value, 43); /* what the first system call returned */
	expect_eq(log[2].vector, X86_PF);
	expect_eq(log[2].error, X86_PFEC_USER); /* user, read, not present */
	expect_eq(log[2].cr2, 0x400000);
	expect_eq(log[2].rip, (uint64_t)user_pf);
	expect_eq(log[2].cs, USER_CS);
	expect_eq(log[3].vector, X86_BP);
	expect_eq(log[4].vector, X86_GP);
	expect_eq(log[4].error, (0x40 << 3) | 2);
	expect_eq(log[4].rip, (uint64_t)user_int40);
	expect_eq(log[5].vector, 0x80);
	expect_eq(log[5].cs, USER_CS);
	printf("traps: user mode: system calls bounced, #PF with the user bit, #BP, "
	       "#GP for a DPL 0 gate, int $0x80\n");
	rt_finish(0);
}

int guest_main(struct start_info *si)
{
	(void)si;
	shared = rt_map_shared_info();
	rt_trap_hook = hook;
	expect_eq(rt_install_traps(), 0);
	kernel_mode();
	enter_user();
	return 1;
}
