/* compat32: a 64-bit PV guest's user mode runs 32-bit code, as on Xen:
 * lretq to FLAT_RING3_CS32, arithmetic and stack accesses there, a #PF and
 * an int $0x80 from it delivered to the 64-bit kernel with CS
 * FLAT_RING3_CS32 in the frame, HYPERVISOR_iret back into it, and ljmpl to
 * FLAT_RING3_CS64. On a host without 32-bit user code pvmm gives the lretq
 * the #GP a missing descriptor raises, and the guest says it skipped. */
#include "rt.h"

#define KERNEL_CS 0xe030ul
#define USER_CS 0xe033ul
#define USER_CS32 0xe023ul

struct seen {
	uint64_t vector, error, rip, cs, cr2, rax;
};

static struct seen log[16];
static unsigned nlog;
static struct shared_info *shared;
static uint64_t report[3], kstack_top;
static int refused;
extern char user_entry[], user_end[], user_lret[], user_pf32[], user_int80[], user_refused[];

static void kernel_resume(void);

static void hook(struct rt_frame *f)
{
	struct seen *s = &log[nlog < 16 ? nlog++ : 15];

	*s = (struct seen){ f->vector, f->error, f->rip, f->cs & 0xffff,
			    shared ? shared->vcpu_info[0].cr2 : 0, f->rax };
	if (f->vector == RT_SYSCALL_VECTOR) {
		if (f->rax < 3)
			report[f->rax] = f->rdi;
		if (f->rax == 99) { /* leave user mode: iret into the kernel */
			f->rip = (uint64_t)kernel_resume;
			f->cs = KERNEL_CS;
			f->rsp = kstack_top - 8;
			f->rflags = 0x202;
		}
		return;
	}
	if (f->vector == X86_GP && f->rip == (uint64_t)user_lret && f->error == (USER_CS32 & ~3)) {
		refused = 1; /* the lretq: no 32-bit code on this host */
		f->rip = (uint64_t)user_refused;
		f->rsp += 16;
	} else if (f->vector == X86_PF) {
		f->rip += 6; /* back into 32-bit code: the frame's CS says where */
	} else if (f->vector == 0x80) {
		f->rax += 100;
	} else { /* returning would take the same fault again */
		printf("compat32: unexpected vector %lu, error %#lx at %#lx\n", (unsigned long)f->vector,
		       (unsigned long)f->error, (unsigned long)f->rip);
		guest_assert(!"a trap compat32 does not make");
	}
}

/* A user address space that maps only the user code page and a stack,
 * both below 4 GiB, where 32-bit code can reach them. */
static void enter_user(void)
{
	uint64_t *ustack = rt_alloc_page();
	uint64_t code = (uint64_t)user_entry;

	guest_assert(user_end - user_entry == 4096);
	guest_assert((uint64_t)ustack + 4096 <= 0x100000000ul);
	kstack_top = rt_user_space(user_entry, ustack);
	nlog = 0;
	/* iret into user mode: flags, rip, cs, rflags, rsp, ss */
	__asm__ volatile("push %[ss]; push %[sp]; push $0x202; push %[cs]; push %[ip]; push $0;"
			 "jmp hypercall_page + 23 * 32"
			 :: [ss] "r"(0xe02bul), [sp] "r"((uint64_t)ustack + 4096), [cs] "r"(USER_CS),
			    [ip] "r"(code) : "memory");
	__builtin_unreachable();
}

static void kernel_resume(void)
{
	expect_eq(report[2], 0x0123456789abcdef); /* %r12 across it all */
	if (refused) {
		expect_eq(nlog, 3); /* the #GP, the report, 99 */
		expect_eq(log[0].cs, USER_CS);
		printf("compat32: SKIP: this host runs no 32-bit user code (#GP %#lx at the lretq)\n",
		       (unsigned long)log[0].error);
		rt_finish(0);
	}
	expect_eq(nlog, 5); /* #PF, int $0x80, two reports, 99 */
	expect_eq(log[0].vector, X86_PF);
	expect_eq(log[0].cs, USER_CS32);
	expect_eq(log[0].rip, (uint64_t)user_pf32);
	expect_eq(log[0].error, X86_PFEC_USER);
	expect_eq(log[0].cr2, 0x400000);
	expect_eq(log[1].vector, 0x80);
	expect_eq(log[1].cs, USER_CS32);
	expect_eq(log[1].rip, (uint64_t)user_int80 + 2);
	expect_eq(log[1].rax, 43);
	expect_eq(report[1], 143); /* 6 * 7 + 1 in 32-bit code, + 100 by the kernel */
	expect_eq(log[2].cs, USER_CS); /* the ljmpl took it back to 64-bit code */
	printf("compat32: 32-bit user code: computed, #PF and int $0x80 with CS 0xe023 in the frame, "
	       "back to 64-bit code\n");
	rt_finish(0);
}

int guest_main(struct start_info *si)
{
	(void)si;
	shared = rt_map_shared_info();
	rt_trap_hook = hook;
	expect_eq(rt_install_traps(), 0);
	enter_user();
	return 1;
}
