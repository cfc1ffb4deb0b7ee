/* debugreg: the debug registers as Xen gives them to a PV guest. Read and
 * written with set_debugreg/get_debugreg and with `mov %drN`: reset
 * values, addresses and bits Xen refuses, reserved bits, %dr4/%dr5 with
 * and without CR4.DE, I/O breakpoints. Single steps (TF) in kernel mode,
 * over an instruction the hypervisor emulates and in user mode, each a #DB
 * with BS in %dr6. Hardware breakpoints (instruction, write, read-write,
 * in kernel and user mode), each a #DB with its B0-B3 in %dr6, where the
 * host delivers them (pvmm says when it does not; debugreg.cfg accepts
 * either). */
#include "rt.h"

#define HOLE_BASE 0x00007f8000000000ull /* pvmm's own range: refused as Xen refuses its own */
#define KERNEL_CS 0xe030ul
#define USER_CS 0xe033ul
#define TF X86_EFLAGS_TF
#define RF X86_EFLAGS_RF
#define DR6_KNOWN (X86_DR6_BP_MASK | X86_DR6_BS) /* the bits the checks look at */
#define DR7_RW(n, rw) ((uint64_t)(rw) << (16 + 4 * (n)))
#define DR7_LEN(n, len) ((uint64_t)(len) << (18 + 4 * (n))) /* 0: 1, 1: 2, 3: 4, 2: 8 bytes */
#define DR7_L(n) (1ull << (2 * (n)))
#define DR7_G(n) (2ull << (2 * (n)))

#define write_dr(n, v) __asm__ volatile("mov %0, %%dr" #n :: "a"((uint64_t)(v)) : "memory")
#define read_dr(n) ({ uint64_t _v; __asm__ volatile("mov %%dr" #n ", %0" : "=a"(_v)); _v; })

static inline long set_dr(unsigned reg, uint64_t v)
{
	return hypercall(XEN_HC_set_debugreg, reg, v, 0);
}

static inline long get_dr(unsigned reg)
{
	return hypercall(XEN_HC_get_debugreg, reg, 0, 0);
}

struct seen {
	uint64_t vector, error, rip, cs, dr6, rflags;
};

static struct seen log[32];
static unsigned nlog;
static unsigned skip; /* #GP/#UD: bytes to step over */
static uint64_t kstack_top;
static volatile uint64_t watched[2] __attribute__((aligned(16)));
static volatile unsigned calls;
static int hw; /* the host delivers hardware breakpoints */
extern char dbg_user_entry[], dbg_user_stepped[], dbg_user_stored[], dbg_user_shadowed[];
extern char dbg_user_ss[], dbg_user_end[];
extern char step_after[], emul_after[], shadow_after[], shadow_stepped[];
static volatile uint16_t flat_ss = FLAT_RING3_SS64;

static void kernel_resume(void);

static void hook(struct rt_frame *f)
{
	struct seen *s = &log[nlog < 32 ? nlog++ : 31];

	*s = (struct seen){ f->vector, f->error, f->rip, f->cs & 0xffff,
			    (uint64_t)get_dr(6) ^ X86_DR6_DEFAULT, f->rflags };
	if (f->vector == RT_SYSCALL_VECTOR && f->rax == 99) { /* leave user mode for good */
		f->rip = (uint64_t)kernel_resume;
		f->cs = KERNEL_CS;
		f->rsp = kstack_top - 8;
		f->rflags = 0x202;
	} else if (f->vector == X86_DB) {
		f->rflags &= ~TF;
		f->rflags |= RF; /* over an instruction breakpoint, once */
	} else {
		f->rip += skip;
	}
	skip = 0;
}

/* The last trap, and that it is the (n)th. */
static struct seen *last(unsigned n, uint64_t vector)
{
	expect_eq(nlog, n);
	expect_eq(log[n - 1].vector, vector);
	return &log[n - 1];
}

static void reset_values(void)
{
	for (unsigned i = 0; i < 4; i++)
		expect_eq(get_dr(i), 0);
	expect_eq(get_dr(6) & ~(X86_DR6_RTM | X86_DR6_BLD), X86_DR6_DEFAULT & ~(X86_DR6_RTM | X86_DR6_BLD));
	expect_eq(get_dr(7), X86_DR7_DEFAULT);
	expect_eq(read_dr(7), X86_DR7_DEFAULT);
	expect_eq(read_dr(5), X86_DR7_DEFAULT); /* %dr5 is %dr7 without CR4.DE */
	expect_eq(read_dr(4), (uint64_t)get_dr(6));
}

/* What Xen refuses, and what it fixes up. */
static void refusals(void)
{
	expect_eq(set_dr(0, HOLE_BASE), -XEN_EPERM);               /* pvmm's hole */
	expect_eq(set_dr(1, 0x0000800000000000ull), -XEN_EPERM);   /* not canonical */
	expect_eq(set_dr(2, XEN_RO_MPT_BASE), -XEN_EPERM);         /* Xen's range */
	expect_eq(set_dr(3, XEN_HYPERVISOR_VIRT_END), 0);          /* above it: the guest's */
	expect_eq(get_dr(3), (long)XEN_HYPERVISOR_VIRT_END);
	expect_eq(set_dr(0, HOLE_BASE - 1), 0);
	expect_eq(set_dr(0, 0), 0);
	expect_eq(set_dr(3, 0), 0);
	expect_eq(set_dr(7, X86_DR7_GD | X86_DR7_DEFAULT), -XEN_EPERM);
	expect_eq(set_dr(7, 1ull << 32), -XEN_EINVAL);
	expect_eq(set_dr(6, 1ull << 32), -XEN_EINVAL);
	expect_eq(set_dr(8, 0), -XEN_ENODEV);
	expect_eq(get_dr(8), -XEN_ENODEV);
	expect_eq(set_dr(7, 0xd000), 0); /* bits that read 0, and bit 10 that reads 1 */
	expect_eq(get_dr(7), X86_DR7_DEFAULT);
	expect_eq(set_dr(6, 0), 0);
	expect_eq(get_dr(6) & ~(X86_DR6_RTM | X86_DR6_BLD), X86_DR6_DEFAULT & ~(X86_DR6_RTM | X86_DR6_BLD));
	/* an enabled I/O breakpoint needs CR4.DE; a disabled one is kept */
	expect_eq(set_dr(7, DR7_L(0) | DR7_RW(0, X86_DR7_RW_IO)), -XEN_EPERM);
	expect_eq(get_dr(7), X86_DR7_DEFAULT);
	expect_eq(set_dr(7, DR7_RW(0, X86_DR7_RW_IO)), 0);
	expect_eq(get_dr(7), X86_DR7_DEFAULT | DR7_RW(0, X86_DR7_RW_IO));
	expect_eq(set_dr(7, 0), 0);
	/* the same through the emulator: #GP(0) */
	skip = 3;
	write_dr(1, HOLE_BASE);
	last(1, X86_GP);
	expect_eq(log[0].error, 0);
	expect_eq(get_dr(1), 0);
	skip = 3;
	write_dr(7, X86_DR7_GD);
	last(2, X86_GP);
}

static void write_cr4(uint64_t v)
{
	__asm__ volatile("mov %0, %%cr4" :: "r"(v) : "memory");
}

static uint64_t read_cr4(void)
{
	uint64_t v;

	__asm__ volatile("mov %%cr4, %0" : "=r"(v));
	return v;
}

/* CR4.DE: %dr4 and %dr5 are #UD, I/O breakpoints can be enabled. */
static void debug_extensions(void)
{
	uint64_t cr4 = read_cr4(), io = DR7_G(3) | DR7_RW(3, X86_DR7_RW_IO) | DR7_LEN(3, 3);

	guest_assert(!(cr4 & X86_CR4_DE));
	write_cr4(cr4 | X86_CR4_DE);
	expect_eq(read_cr4(), cr4 | X86_CR4_DE);
	skip = 3;
	(void)read_dr(4);
	last(3, X86_UD);
	skip = 3;
	write_dr(5, 0);
	last(4, X86_UD);
	expect_eq(set_dr(4, 0), -XEN_ENODEV);
	write_dr(7, io | X86_DR7_DEFAULT);
	expect_eq(read_dr(7), io | X86_DR7_DEFAULT); /* kept apart, read back whole */
	write_cr4(cr4);
	expect_eq(set_dr(7, io), -XEN_EPERM); /* refused without CR4.DE ... */
	expect_eq(read_dr(7), io | X86_DR7_DEFAULT); /* ... and the old value stays */
	write_dr(7, 0);
	expect_eq(read_dr(7), X86_DR7_DEFAULT);
	printf("debugreg: registers as on Xen: reset values, refusals, reserved bits, "
	       "%%dr4/%%dr5, I/O breakpoints\n");
}

__attribute__((noinline)) static void step_kernel(void)
{
	__asm__ volatile("pushf; orq $0x100, (%%rsp); popf; nop\n"
			 ".globl step_after\nstep_after: nop" ::: "memory", "cc");
}

/* TF: one instruction, and an instruction pvmm emulates (mov from %cr0),
 * each a #DB after it with BS; BS stays in %dr6 until cleared. */
static void single_steps(void)
{
	struct seen *s;

	step_kernel();
	s = last(5, X86_DB);
	expect_eq(s->rip, (uint64_t)step_after);
	expect_eq(s->cs, KERNEL_CS);
	expect_eq(s->dr6 & DR6_KNOWN, X86_DR6_BS);
	expect_eq(s->rflags & TF, TF); /* the frame holds the TF that stepped */
	__asm__ volatile("pushf; orq $0x100, (%%rsp); popf; mov %%cr0, %%rax\n"
			 ".globl emul_after\nemul_after: nop" ::: "rax", "memory", "cc");
	s = last(6, X86_DB);
	expect_eq(s->rip, (uint64_t)emul_after);
	expect_eq(s->dr6 & DR6_KNOWN, X86_DR6_BS);
	expect_eq(set_dr(6, X86_DR6_DEFAULT), 0);
	expect_eq(((uint64_t)get_dr(6) ^ X86_DR6_DEFAULT) & DR6_KNOWN, 0);
}

__attribute__((noinline)) static void bp_target(void)
{
	calls++;
	__asm__ volatile("" ::: "memory");
}

/* `mov mem, %ss` with Xen's stack selector is emulated (a Linux process
 * has no such selector): a read-write breakpoint on the selector holds its
 * #DB until the next instruction has run, as the mov ss shadow does; with
 * the guest's own TF set, the one #DB says BS too. */
static void shadow(void)
{
	struct seen *s;
	unsigned n = nlog;

	write_dr(3, &flat_ss);
	write_dr(7, DR7_L(3) | DR7_RW(3, X86_DR7_RW_RW) | DR7_LEN(3, 1));
	__asm__ volatile("mov %0, %%ss; nop\n.globl shadow_after\nshadow_after: nop" :: "m"(flat_ss));
	s = last(n + 1, X86_DB);
	expect_eq(s->rip, (uint64_t)shadow_after);
	expect_eq(s->dr6 & DR6_KNOWN, 8);
	expect_eq(s->rflags & TF, 0); /* the step was pvmm's */
	__asm__ volatile("pushf; orq $0x100, (%%rsp); popf; mov %0, %%ss; nop\n"
			 ".globl shadow_stepped\nshadow_stepped: nop" :: "m"(flat_ss) : "memory", "cc");
	s = last(n + 2, X86_DB);
	expect_eq(s->rip, (uint64_t)shadow_stepped);
	expect_eq(s->dr6 & DR6_KNOWN, 8 | X86_DR6_BS);
	__asm__ volatile("mov %0, %%ss; nop" :: "r"((uint64_t)FLAT_RING3_SS64)); /* no memory */
	expect_eq(nlog, n + 2);
	/* the shadowed instruction raises an exception (int3): the #DB would
	 * come in the handler's first instruction, in Xen's own context, where
	 * Xen drops it (XSA-260), and a sticky BD in %dr6 changes nothing
	 * (XSA-265): the guest sees its #BP alone and its %dr6 as it wrote it */
	expect_eq(set_dr(6, X86_DR6_DEFAULT | X86_DR6_BD), 0);
	__asm__ volatile("mov %0, %%ss; int3" :: "m"(flat_ss));
	s = last(n + 3, X86_BP);
	expect_eq(s->dr6 & (DR6_KNOWN | X86_DR6_BD), X86_DR6_BD);
	expect_eq(s->rflags & TF, 0);
	expect_eq((uint64_t)get_dr(6) ^ X86_DR6_DEFAULT, X86_DR6_BD);
	__asm__ volatile("nop; nop");
	expect_eq(nlog, n + 3);
	write_dr(7, 0);
	expect_eq(set_dr(6, X86_DR6_DEFAULT), 0);
}

/* An instruction breakpoint (a fault: rip at it, RF to go on), a 4-byte
 * write breakpoint and an 8-byte read-write one at a misaligned address
 * (the low bits are ignored), each a trap after the access with its Bn
 * alone in %dr6. */
static void breakpoints(void)
{
	unsigned n = nlog;

	write_dr(0, bp_target);
	write_dr(1, &watched[0]);
	write_dr(2, (uint64_t)&watched[1] + 3);
	write_dr(7, DR7_L(0) | DR7_L(1) | DR7_RW(1, X86_DR7_RW_WRITE) | DR7_LEN(1, 3) | DR7_G(2) |
			    DR7_RW(2, X86_DR7_RW_RW) | DR7_LEN(2, 2) | X86_DR7_GE);
	bp_target();
	watched[0] = 5;
	(void)watched[0]; /* a read: not for a write breakpoint */
	(void)watched[1];
	write_dr(7, 0);
	watched[0] = 6;
	bp_target();
	expect_eq(calls, 2);
	hw = nlog > n;
	if (!hw) {
		printf("debugreg: hardware breakpoints did not fire (see pvmm's message)\n");
		return;
	}
	expect_eq(nlog, n + 3);
	expect_eq(log[n].vector, X86_DB);
	expect_eq(log[n].rip, (uint64_t)bp_target);
	expect_eq(log[n].dr6 & DR6_KNOWN, 1);
	expect_eq(log[n].rflags & RF, 0);
	expect_eq(log[n + 1].vector, X86_DB);
	expect_eq(log[n + 1].dr6 & DR6_KNOWN, 2);
	expect_eq(log[n + 2].vector, X86_DB);
	expect_eq(log[n + 2].dr6 & DR6_KNOWN, 4);
}

/* A user address space that maps only the user code page and a stack. */
static void enter_user(void)
{
	uint64_t *ustack = rt_alloc_page();
	uint64_t code = (uint64_t)dbg_user_entry, top = (uint64_t)ustack + 4096;

	guest_assert(dbg_user_end - dbg_user_entry == 4096);
	kstack_top = rt_user_space(dbg_user_entry, ustack);
	/* the user's first push: an 8-byte write breakpoint; its stack selector */
	write_dr(0, top - 8);
	write_dr(1, dbg_user_ss);
	write_dr(7, DR7_L(0) | DR7_RW(0, X86_DR7_RW_WRITE) | DR7_LEN(0, 2) | DR7_L(1) |
			    DR7_RW(1, X86_DR7_RW_RW) | DR7_LEN(1, 1));
	nlog = 0;
	/* iret into user mode: flags, rip, cs, rflags, rsp, ss */
	__asm__ volatile("push %[ss]; push %[sp]; push $0x202; push %[cs]; push %[ip]; push $0;"
			 "jmp hypercall_page + 23 * 32"
			 :: [ss] "r"(0xe02bul), [sp] "r"(top), [cs] "r"(USER_CS), [ip] "r"(code)
			 : "memory");
	__builtin_unreachable();
}

/* Back from user mode (system call 99) on the stack_switch stack. */
static void kernel_resume(void)
{
	unsigned i = 0;

	write_dr(7, 0);
	expect_eq(nlog, hw ? 5 : 4);
	expect_eq(log[i].vector, X86_DB);
	expect_eq(log[i].cs, USER_CS);
	expect_eq(log[i].rip, (uint64_t)dbg_user_stepped);
	expect_eq(log[i++].dr6 & X86_DR6_BS, X86_DR6_BS);
	if (hw) {
		expect_eq(log[i].vector, X86_DB);
		expect_eq(log[i].cs, USER_CS);
		expect_eq(log[i].rip, (uint64_t)dbg_user_stored);
		expect_eq(log[i++].dr6 & X86_DR6_BP_MASK, 1);
	}
	expect_eq(log[i].vector, X86_DB); /* after the instruction the mov ss shadowed */
	expect_eq(log[i].rip, (uint64_t)dbg_user_shadowed);
	expect_eq(log[i++].dr6 & X86_DR6_BP_MASK, 2);
	expect_eq(log[i].vector, RT_SYSCALL_VECTOR); /* a system call ends the shadow: no #DB */
	expect_eq(log[i++].rflags & TF, 0);
	expect_eq(log[i].vector, RT_SYSCALL_VECTOR);
	printf("debugreg: single steps in kernel mode, over an emulated instruction and in "
	       "user mode: #DB with BS in %%dr6\n");
	printf("debugreg: mov %%ss with Xen's selector, a breakpoint on it: #DB after the next "
	       "instruction, none across a system call\n");
	if (hw)
		printf("debugreg: hardware breakpoints: instruction, write, read-write and user "
		       "mode, each #DB with its dr6\n");
	rt_finish(0);
}

int guest_main(struct start_info *si)
{
	(void)si;
	rt_trap_hook = hook;
	expect_eq(rt_install_traps(), 0);
	reset_values();
	refusals();
	debug_extensions();
	single_steps();
	shadow();
	breakpoints();
	enter_user();
	return 1;
}
