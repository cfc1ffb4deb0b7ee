/*
 * stub_abi.h - the contract between the monitor and the guest-process stub.
 *
 * The stub is a tiny freestanding static image linked into the pvmm hole
 * (the last L4 slot of the lower half, which guests may not use). It owns the
 * guest process: it installs the signal handlers, the syscall-user-dispatch
 * region and the seccomp filter, copies the facts of every trap into the
 * control page below, hands control to the monitor through the transport's
 * doorbell, runs the host-mapping operations the monitor asks for and returns
 * into the guest with rt_sigreturn.
 *
 * The control page is shared memory that the guest can also reach: the
 * monitor copies what it reads from it and trusts none of it.
 * Included by the stub (freestanding) and by the monitor.
 */
#ifndef PVMM_STUB_ABI_H
#define PVMM_STUB_ABI_H

#include <stdint.h>
#include <stddef.h>

/* Lower-half layout. Guest addresses are [GUEST_VA_MIN, HOLE_BASE). */
#define HOLE_BASE 0x00007f8000000000ull /* L4 slot 255 */
#define HOLE_END 0x0000800000000000ull
#define HOLE_L4_SLOT 255u
#define STUB_BASE HOLE_BASE              /* stub text+data, linked here */
#define STUB_REGION 0x200000ull          /* syscall-user-dispatch region */
#define CTRL_ADDR (HOLE_BASE + 0x200000ull)
#define CTRL_SIZE 0x10000ull
/* The vCPU's FPU state on its way between guest processes (pvmm runs one
 * per recently used address space, vmm/spaces.c): one area shared by all
 * of a domain's processes, at the same address in each. The process that
 * hands off writes it (XSAVE's standard format, or what the kernel saved in
 * the signal frame); the one resumed next loads it. The guest can write it
 * too, like the control page: a state it forged is its own. */
#define STUB_FPU_ADDR (CTRL_ADDR + CTRL_SIZE)
#define STUB_FPU_SIZE 0x4000ull
/* After it, in the same shared file: each process's futex word, the one
 * its stub sleeps on while it waits for pvmm (futex transport), indexed by
 * stub_ctrl.space. Whoever answers a sleeping stub bumps the word and
 * wakes it: pvmm, or the process the vCPU leaves (STUB_ACT_HANDOVER), so
 * that the process entered wakes on the CPU the vCPU ran on, not on a CPU
 * pvmm would have to wake first. The guest can write the words: a wake it
 * forges only makes a stub look at its reply word again. */
#define STUB_WAKE_ADDR (STUB_FPU_ADDR + STUB_FPU_SIZE)
#define STUB_WAKE_SIZE 0x1000ull
#define STUB_SPACES 8
struct stub_wake {
	_Alignas(64) uint32_t word;
};

/* The direct hypercall entry (stub.S: stub_fastcall), the first byte of the
 * stub, for the seccomp transport's hypercall page. It behaves as a
 * `syscall` under syscall user dispatch would, without the host's trap:
 * the caller jumps to it with the number in %rax, the arguments where
 * Xen's ABI has them and the address to return to in %rcx; it returns
 * there with the result in %rax, %r11 = %rflags and every other register
 * as it was, or pvmm's answer replaces the whole context (an upcall,
 * HYPERVISOR_iret). The stub reports it as a SIGSYS with si_code
 * STUB_SYS_FASTCALL. Any guest code can jump there, or anywhere in the
 * stub: every value it brings is untrusted (docs/architecture.md, threat
 * model). */
#define STUB_FASTCALL_ENTRY STUB_BASE
#define STUB_SYS_FASTCALL 0x100 /* si_code of a SIGSYS that came that way: no kernel's */

/* File descriptors the stub is started with. After start-up only the guest
 * memory descriptor remains open. */
#define STUB_GUEST_FD 3
#define STUB_CTRL_FD 4
#define STUB_FPU_FD 5

#define STUB_MAGIC 0x70766d6d73747562ull /* "pvmmstub" */

enum stub_event {
	STUB_EV_NONE = 0,
	STUB_EV_READY = 1,    /* start-up done, nothing mapped yet */
	STUB_EV_SIGNAL = 2,   /* a signal from guest code: see trap */
	STUB_EV_OPS_DONE = 3, /* the op batch ran; more requested */
	STUB_EV_PARKED = 4,   /* HANDOVER done: the other process woken, this one waits */
};

enum stub_action {
	STUB_ACT_RESUME = 1, /* run ops, load regs, return into the guest */
	STUB_ACT_MORE = 2,   /* run ops, then hand off again (OPS_DONE) */
	STUB_ACT_EXIT = 3,   /* exit_group(exit_code) */
	STUB_ACT_SAVE_FPU = 4, /* run ops, save the guest's FPU state in the FPU area
				* (fpu_saved = 1), then hand off again (OPS_DONE) */
	STUB_ACT_HANDOVER = 5, /* run ops, wake process `handover` (its word in the
				* wake area), then hand off again (PARKED) and
				* sleep at once: the vCPU runs there now */
};

enum stub_op_kind {
	STUB_OP_MMAP = 1,     /* mmap(addr, len, prot, MAP_SHARED|MAP_FIXED, guest fd, off) */
	STUB_OP_MUNMAP = 2,   /* munmap(addr, len) */
	STUB_OP_MPROTECT = 3, /* mprotect(addr, len, prot) */
	STUB_OP_SET_BASE = 4, /* arch_prctl: prot = STUB_BASE_FS or _GS, addr = base */
	STUB_OP_SET_SEL = 5,  /* load %ds (prot = STUB_SEL_DS) or %es (STUB_SEL_ES) with
			       * addr: 0, STUB_USER_DS, STUB_USER_CS or STUB_USER32_CS */
};

enum stub_base { STUB_BASE_FS = 0, STUB_BASE_GS = 1 };
enum stub_sel { STUB_SEL_DS = 0, STUB_SEL_ES = 1 };

struct stub_op {
	uint32_t kind;   /* stub_op_kind */
	uint32_t prot;   /* PROT_* */
	uint64_t addr;
	uint64_t len;
	uint64_t off;    /* file offset into guest memory */
	int64_t result;  /* OUT from the stub: 0 or -errno */
};

/* The general registers, in the order of the kernel's sigcontext (r8 first,
 * rip and eflags last) so the stub copies them as one block. */
struct stub_regs {
	uint64_t r8, r9, r10, r11, r12, r13, r14, r15;
	uint64_t rdi, rsi, rbp, rbx, rdx, rax, rcx, rsp;
	uint64_t rip, eflags;
	/* The code segment: at the stub's boundary the host's selector
	 * (STUB_USER_CS or STUB_USER32_CS, any other value resumes as
	 * STUB_USER_CS); in pvmm's vCPU Xen's (FLAT_RING3_CS64 or _CS32), which
	 * the front end translates. Not part of the sigcontext block. */
	uint64_t cs;
};
#define STUB_NREGS 18 /* the sigcontext block: r8 .. eflags */
#define STUB_USER_CS 0x33   /* Linux's __USER_CS: 64-bit user code */
#define STUB_USER32_CS 0x23 /* Linux's __USER32_CS: 32-bit (compat mode) user code */
#define STUB_USER_DS 0x2b   /* Linux's __USER_DS: flat data, what 32-bit code needs */

struct stub_trap {
	uint32_t event;      /* stub_event */
	int32_t signo;
	int32_t code;        /* si_code */
	uint32_t syscall_nr; /* SIGSYS: si_syscall */
	uint64_t addr;       /* si_addr */
	uint64_t err;        /* hardware error code from the sigcontext */
	uint64_t trapno;     /* hardware trap number from the sigcontext */
	uint64_t doorbell;   /* READY: address after the doorbell instruction */
	uint32_t syscall_arch; /* SIGSYS: AUDIT_ARCH_* (i386 for int $0x80) */
	uint32_t _pad;
	uint64_t tsc;        /* rdtsc at the signal handler's entry */
};

#define STUB_MAX_OPS 256
#define STUB_MAX_FILTER 1024

struct sock_filter_insn {
	uint16_t code;
	uint8_t jt, jf;
	uint32_t k;
};

/* How the stub hands off (stub_ctrl.transport). */
enum stub_transport {
	STUB_TRANSPORT_PTRACE = 0, /* int3 at the doorbell: a ptrace stop */
	STUB_TRANSPORT_FUTEX = 1,  /* req/resp words in this page, futexes */
};

struct stub_ctrl {
	uint64_t magic;
	uint32_t transport;     /* IN at start-up: stub_transport */
	uint32_t spin;          /* IN: polls of resp before sleeping (futex transport) */
	/* The futex words, each on a cache line of its own with the hint its
	 * writer reads after it: a side polling one does not slow the other's
	 * writes of the trap or the reply. */
	_Alignas(64) uint32_t req; /* futex word: the stub bumps it to hand off */
	uint32_t pvmm_sleeps;   /* pvmm may be asleep on req: the stub wakes it (a hint) */
	_Alignas(64) uint32_t resp; /* futex word: pvmm sets it to req when the reply is ready */
	uint32_t stub_sleeps;   /* the stub may be asleep on resp: pvmm wakes it (a hint) */
	uint32_t parked;        /* IN: the vCPU left for another process: sleep, do not poll */
	uint32_t space;         /* IN at start-up: this process's word in the wake area */
	uint32_t handover;      /* IN with STUB_ACT_HANDOVER: the process to wake */
	_Alignas(64) uint32_t action; /* IN to the stub: stub_action */
	int32_t exit_code;      /* IN: with STUB_ACT_EXIT */
	uint32_t nops;          /* IN: valid entries in ops */
	struct stub_trap trap;  /* OUT from the stub */
	uint64_t tsc_out;       /* OUT: rdtsc as the last handler returned to the guest */
	struct stub_regs regs;  /* OUT at a trap, IN at resume */
	/* The FPU area (STUB_FPU_ADDR), when the domain has several processes:
	 * the stub saves the guest's state there at a trap from user mode
	 * while fpu_user is set, and at a hypercall whose number is fpu_nr
	 * (the ones that change address space most often); fpu_saved says
	 * whether it did at this hand-off. With fpu_load set it loads the
	 * state from there as it resumes the guest, and clears the word. */
	_Alignas(64) uint32_t fpu_user;  /* IN */
	uint32_t fpu_nr;        /* IN: a hypercall number, or ~0u */
	uint32_t fpu_saved;     /* OUT */
	uint32_t fpu_load;      /* IN, cleared by the stub */
	uint64_t fpu_mask;      /* IN at start-up: XSAVE's component mask (0: FXSAVE) */
	uint32_t fpu_size;      /* IN at start-up: bytes of the area in use (<= STUB_FPU_SIZE) */
	struct stub_op ops[STUB_MAX_OPS];
	uint32_t filter_len;    /* IN at start-up: seccomp program */
	uint32_t _pad;
	struct sock_filter_insn filter[STUB_MAX_FILTER];
};
_Static_assert(sizeof(struct stub_regs) == (STUB_NREGS + 1) * 8, "stub_regs");
_Static_assert(sizeof(struct stub_ctrl) <= CTRL_SIZE, "stub_ctrl fits");

/* Exit codes of the stub when its own start-up fails (before the guest). */
enum stub_exit {
	STUB_EXIT_CAPS = 119, /* pvmm's child, before the stub: dropping capabilities */
	STUB_EXIT_CTRL = 120,
	STUB_EXIT_NNP = 121,
	STUB_EXIT_ALTSTACK = 122,
	STUB_EXIT_SIGACTION = 123,
	STUB_EXIT_DISPATCH = 124,
	STUB_EXIT_SECCOMP = 125,
	STUB_EXIT_BADREPLY = 126,
};

#endif
