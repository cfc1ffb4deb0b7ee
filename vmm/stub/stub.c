/*
 * stub.c - the code of the guest process (besides the guest itself).
 *
 * Freestanding, no libc: the process holds nothing but this image in the
 * hole, the control page and the guest's own mappings. See stub_abi.h for
 * the protocol.
 */
#include <stdint.h>
#include "stub_abi.h"

/* Everything is local to the image: RIP-relative, no GOT, at any address. */
#pragma GCC visibility push(hidden)

/* Linux x86-64 facts the stub needs (kernel ABI, not libc's). */
#define NR_close 3
#define NR_mmap 9
#define NR_mprotect 10
#define NR_munmap 11
#define NR_rt_sigaction 13
#define NR_rt_sigprocmask 14
#define SIG_BLOCK 0
#define SIGUSR1 10
#define NR_sigaltstack 131
#define NR_prctl 157
#define NR_exit_group 231
#define NR_seccomp 317
#define NR_arch_prctl 158
#define ARCH_SET_GS 0x1001
#define ARCH_SET_FS 0x1002
#define PROT_RW 3
#define MAP_SHARED_FIXED 0x11
#define SA_SIGINFO 4u
#define SA_ONSTACK 0x08000000u
#define SA_RESTORER 0x04000000u
#define SA_NODEFER 0x40000000u
#define PR_SET_NAME 15
#define PR_SET_NO_NEW_PRIVS 38
#define PR_SET_SYSCALL_USER_DISPATCH 59
#define PR_SYS_DISPATCH_ON 1
#define SECCOMP_SET_MODE_FILTER 1
#define UC_SIGCONTEXT_SS 2
#define UC_STRICT_RESTORE_SS 4
#define USER_SS 0x2b
#define SIGSYS 31
#define SIGTRAP 5
#define SYS_USER_DISPATCH 2 /* si_code of a syscall-user-dispatch SIGSYS */
#define AUDIT_ARCH_X86_64 0xc000003eu
#define X86_EFLAGS_TF 0x100u
#define X86_EFLAGS_RF 0x10000u
#define X86_TRAP_DB 1u
#define STUB_FLAGS 0x202u /* the stub's own %rflags: IF, nothing else */

/* Slots of the sigcontext register block (struct stub_regs order). */
enum { G_R11 = 3, G_RAX = 13, G_RCX = 14, G_RSP = 15, G_RIP = 16, G_EFLAGS = 17 };

struct k_sigaction {
	void *handler;
	unsigned long flags;
	void *restorer;
	uint64_t mask;
};

struct k_stack {
	void *sp;
	int flags;
	uint64_t size;
};

/* struct sigcontext (64-bit) */
struct k_sigcontext {
	uint64_t gregs[STUB_NREGS]; /* r8 .. rip, eflags: struct stub_regs order */
	uint16_t cs, gs, fs, ss;
	uint64_t err, trapno, oldmask, cr2;
	uint64_t fpstate;
	uint64_t reserved[8];
};

struct k_ucontext {
	uint64_t flags;
	uint64_t link;
	struct k_stack stack;
	struct k_sigcontext mc;
	uint64_t sigmask;
};

struct k_siginfo {
	int signo, errno_, code, _pad;
	uint64_t addr;      /* si_addr; si_call_addr for SIGSYS */
	int syscall, arch;  /* SIGSYS only */
	char _rest[96];
};

struct k_sigframe {
	uint64_t pretcode;
	struct k_ucontext uc;
	struct k_siginfo info;
};

_Static_assert(sizeof(struct k_sigcontext) == 256, "sigcontext");
_Static_assert(__builtin_offsetof(struct k_ucontext, mc) == 40, "uc_mcontext");
_Static_assert(__builtin_offsetof(struct k_ucontext, sigmask) == 296, "uc_sigmask");
_Static_assert(sizeof(struct k_siginfo) == 128, "siginfo");
_Static_assert(__builtin_offsetof(struct k_siginfo, syscall) == 24, "si_syscall");

struct sock_fprog_k {
	uint16_t len;
	const struct sock_filter_insn *filter;
};

long stub_syscall(long nr, long a1, long a2, long a3, long a4, long a5, long a6);
void stub_doorbell(void);
extern char stub_doorbell_end[];
void stub_restorer(void);
__attribute__((noreturn)) void stub_sigreturn(struct k_sigframe *frame);
void stub_main(void);
/* stub.S: the direct hypercall entry and its way back (see there) */
void stub_fastcall(void);
extern char stub_fast_commit[], stub_fast_commit_end[], stub_fast_full_end[];
extern char stub_text_end[];
__attribute__((noreturn)) void stub_enter_trap(void);
extern char stub_enter_trap_end[];
extern uint64_t fast_block[STUB_NREGS];
void stub_fast(uint64_t *g);
void stub_fast_interrupted(uint64_t *g);

#define sys(nr, a, b, c, d, e, f) \
	stub_syscall(nr, (long)(a), (long)(b), (long)(c), (long)(d), (long)(e), (long)(f))

static struct stub_ctrl *const ctrl = (struct stub_ctrl *)CTRL_ADDR;
static char altstack[1 << 16] __attribute__((aligned(64)));
static struct k_sigframe entry_frame __attribute__((aligned(64)));
/* The direct entry's state, read by stub.S: an interrupt (SIGUSR1) came
 * while the stub ran on the guest's behalf; the answer needs the kernel's
 * return (a 32-bit code segment, or TF), in the code segment fast_cs. */
uint32_t stub_fast_irq, stub_fast_full;
static uint64_t fast_cs;

/* ILL TRAP BUS FPE USR1 (pvmm's interrupt) SEGV SYS */
static const int trapped_signals[] = { 4, 5, 7, 8, 10, 11, SIGSYS };

__attribute__((noreturn)) static void die(int code)
{
	for (;;)
		sys(NR_exit_group, code, 0, 0, 0, 0, 0);
}

static long run_op(const struct stub_op *op)
{
	switch (op->kind) {
	case STUB_OP_MMAP: {
		long r = sys(NR_mmap, op->addr, op->len, op->prot, MAP_SHARED_FIXED,
			     STUB_GUEST_FD, op->off);
		return r == (long)op->addr ? 0 : (r < 0 ? r : -22);
	}
	case STUB_OP_MUNMAP:
		return sys(NR_munmap, op->addr, op->len, 0, 0, 0, 0);
	case STUB_OP_MPROTECT:
		return sys(NR_mprotect, op->addr, op->len, op->prot, 0, 0, 0);
	case STUB_OP_SET_BASE:
		return sys(NR_arch_prctl, op->prot == STUB_BASE_FS ? ARCH_SET_FS : ARCH_SET_GS,
			   op->addr, 0, 0, 0, 0);
	case STUB_OP_SET_SEL: /* 64-bit sigreturn leaves %ds and %es as they are */
		if (op->addr != 0 && op->addr != STUB_USER_DS && op->addr != STUB_USER_CS &&
		    op->addr != STUB_USER32_CS)
			return -22;
		if (op->addr) { /* the list is the guest's to forge: never fault here */
			uint8_t present;
			uint32_t ar;
			__asm__("lar %2, %0; setz %1" : "=r"(ar), "=q"(present) : "r"((uint32_t)op->addr) : "cc");
			if (!present)
				return -22;
		}
		if (op->prot == STUB_SEL_DS)
			__asm__ volatile("mov %w0, %%ds" :: "r"(op->addr));
		else
			__asm__ volatile("mov %w0, %%es" :: "r"(op->addr));
		return 0;
	default:
		return -22;
	}
}

/* ---- the FPU area (stub_abi.h: STUB_FPU_ADDR) ---------------------------
 * Only when pvmm runs the domain in several processes. The signal frame's
 * fpstate is what the kernel saved of the guest (the handler's own state
 * is not the guest's); on the direct entry the guest's state is still in
 * the registers. Bytes 464-511 of the legacy area are the kernel's own
 * (its software-reserved words, which sigreturn checks): never copied. */
#define FPU_SW_OFF 464u
#define FPU_XSAVE_OFF 512u
#define FP_XSTATE_MAGIC1 0x46505853u

static uint8_t *const fpu_area = (uint8_t *)STUB_FPU_ADDR;
static uint64_t fpu_mask;
static uint32_t fpu_size;

static void copy_bytes(void *dst, const void *src, uint64_t n)
{
	__asm__ volatile("rep movsb" : "+D"(dst), "+S"(src), "+c"(n) : : "memory");
}

/* The bytes of a frame's fpstate both sides hold: the legacy area, then
 * the XSAVE header and components the kernel's frame has room for. */
static uint32_t frame_fpu_bytes(const uint8_t *fp)
{
	const uint32_t *sw = (const uint32_t *)(fp + FPU_SW_OFF);
	uint32_t n = sw[0] == FP_XSTATE_MAGIC1 ? sw[4] : FPU_XSAVE_OFF; /* xstate_size */

	return n < fpu_size ? n : fpu_size;
}

static void fpu_frame_copy(uint8_t *dst, const uint8_t *src, uint32_t n)
{
	copy_bytes(dst, src, FPU_SW_OFF);
	if (n > FPU_XSAVE_OFF)
		copy_bytes(dst + FPU_XSAVE_OFF, src + FPU_XSAVE_OFF, n - FPU_XSAVE_OFF);
}

static void fpu_save_frame(const struct k_ucontext *uc)
{
	const uint8_t *fp = (const uint8_t *)uc->mc.fpstate;

	if (fp && fpu_size) {
		fpu_frame_copy(fpu_area, fp, frame_fpu_bytes(fp));
		ctrl->fpu_saved = 1;
	}
}

static void fpu_load_frame(struct k_ucontext *uc)
{
	uint8_t *fp = (uint8_t *)uc->mc.fpstate;

	ctrl->fpu_load = 0;
	if (fp && fpu_size)
		fpu_frame_copy(fp, fpu_area, frame_fpu_bytes(fp));
}

static void fpu_save_live(void)
{
	if (!fpu_size)
		return;
	if (fpu_mask)
		__asm__ volatile("xsave64 %0" : "+m"(*(uint8_t(*)[STUB_FPU_SIZE])fpu_area)
				 : "a"((uint32_t)fpu_mask), "d"((uint32_t)(fpu_mask >> 32)));
	else
		__asm__ volatile("fxsave64 %0" : "+m"(*(uint8_t(*)[STUB_FPU_SIZE])fpu_area));
	ctrl->fpu_saved = 1;
}

static void fpu_load_live(void)
{
	ctrl->fpu_load = 0;
	if (!fpu_size)
		return;
	if (fpu_mask)
		__asm__ volatile("xrstor64 %0" : : "m"(*(uint8_t(*)[STUB_FPU_SIZE])fpu_area),
				 "a"((uint32_t)fpu_mask), "d"((uint32_t)(fpu_mask >> 32)));
	else
		__asm__ volatile("fxrstor64 %0" : : "m"(*(uint8_t(*)[STUB_FPU_SIZE])fpu_area));
}

#define NR_futex 202
#define FUTEX_WAIT 0
#define FUTEX_WAKE 1

/* The futex transport's hand-off: publish a new request, wake pvmm, then
 * poll for the reply a little (when pvmm runs on another CPU) and sleep.
 * A request is pending while req != resp (a level, not an edge): the stub
 * asks with req = resp + 1 and pvmm answers with resp = req, whatever
 * either word held before, so values the guest wrote into them while it
 * ran cannot make the two sides wait for each other (docs/architecture.md,
 * threat model). */
static volatile uint32_t *wake_word(uint32_t space)
{
	return &((struct stub_wake *)STUB_WAKE_ADDR)[space % STUB_SPACES].word;
}

static void wake(uint32_t space)
{
	volatile uint32_t *w = wake_word(space);

	__atomic_add_fetch(w, 1, __ATOMIC_SEQ_CST);
	sys(NR_futex, w, FUTEX_WAKE, 1, 0, 0, 0);
}

/* (handover: the process the vCPU goes to, woken once this hand-off is
 * published, or -1; then this one sleeps without polling) */
static void futex_handoff(int handover)
{
	volatile uint32_t *req = &ctrl->req, *resp = &ctrl->resp, *w = wake_word(ctrl->space);
	uint32_t seq = __atomic_load_n(resp, __ATOMIC_ACQUIRE) + 1, seen;

	__atomic_store_n(req, seq, __ATOMIC_SEQ_CST);
	if (__atomic_load_n(&ctrl->pvmm_sleeps, __ATOMIC_SEQ_CST))
		sys(NR_futex, req, FUTEX_WAKE, 1, 0, 0, 0);
	/* the process woken may take this CPU at once: what pvmm waits for
	 * from this one (the hand-off) is out before */
	if (handover >= 0)
		wake((uint32_t)handover);
	for (uint32_t i = handover >= 0 ? 0 : ctrl->spin; i && !__atomic_load_n(&ctrl->parked, __ATOMIC_RELAXED); i--) {
		if (__atomic_load_n(resp, __ATOMIC_ACQUIRE) == seq)
			return;
		__builtin_ia32_pause();
	}
	/* announce the sleep, then look again: whoever answers stores resp
	 * before it reads stub_sleeps, so one of the two sees the other; the
	 * wake word is read before resp, so a bump after that read makes the
	 * wait return at once */
	for (;;) {
		__atomic_store_n(&ctrl->stub_sleeps, 1, __ATOMIC_SEQ_CST);
		seen = __atomic_load_n(w, __ATOMIC_SEQ_CST);
		if (__atomic_load_n(resp, __ATOMIC_SEQ_CST) == seq)
			break;
		sys(NR_futex, w, FUTEX_WAIT, seen, 0, 0, 0);
	}
	__atomic_store_n(&ctrl->stub_sleeps, 0, __ATOMIC_RELAXED);
}

static void doorbell(int handover)
{
	if (ctrl->transport == STUB_TRANSPORT_FUTEX)
		futex_handoff(handover);
	else
		stub_doorbell();
}

/* Hand off to the monitor and carry out its replies until it says resume.
 * The guest's FPU state is in (uc)'s frame, or live in the registers
 * (NULL). */
static void serve(const struct k_ucontext *uc)
{
	int handover = -1;

	for (;;) {
		uint32_t n, failed = 0;

		doorbell(handover);
		handover = -1;
		n = ctrl->nops;
		if (n > STUB_MAX_OPS)
			die(STUB_EXIT_BADREPLY);
		for (uint32_t i = 0; i < n; i++) {
			ctrl->ops[i].result = run_op(&ctrl->ops[i]);
			failed |= ctrl->ops[i].result != 0;
		}
		if (ctrl->action == STUB_ACT_EXIT)
			die(ctrl->exit_code);
		if (ctrl->action == STUB_ACT_RESUME && !failed)
			return;
		if (ctrl->action == STUB_ACT_HANDOVER && !failed) {
			ctrl->trap.event = STUB_EV_PARKED;
			handover = (int)(ctrl->handover % STUB_SPACES);
			continue;
		}
		if (ctrl->action == STUB_ACT_SAVE_FPU) {
			if (uc)
				fpu_save_frame(uc);
			else
				fpu_save_live();
		} else if (ctrl->action != STUB_ACT_MORE && ctrl->action != STUB_ACT_RESUME &&
			   ctrl->action != STUB_ACT_HANDOVER) {
			die(STUB_EXIT_BADREPLY);
		}
		ctrl->trap.event = STUB_EV_OPS_DONE;
	}
}

/* A store only when the value changes (of a word pvmm reads next). */
#define PUT(lv, v) do { if ((lv) != (v)) (lv) = (v); } while (0)

/* Into the control page: only the words that change, so that the lines
 * pvmm reads next stay in its cache where the guest's registers did not
 * change (pvmm writes back the same way). */
static void put_regs(uint64_t *dst, const uint64_t *src)
{
	for (int i = 0; i < STUB_NREGS; i++)
		if (dst[i] != src[i])
			dst[i] = src[i];
}

static void copy_regs(uint64_t *dst, const uint64_t *src)
{
	for (int i = 0; i < STUB_NREGS; i++)
		dst[i] = src[i];
}

static inline uint64_t rdtsc(void)
{
	uint32_t lo, hi;

	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return (uint64_t)hi << 32 | lo;
}

/* Hand the trap off and load pvmm's answer into the signal frame (uc). */
static void serve_into(struct k_ucontext *uc)
{
	serve(uc);
	if (ctrl->fpu_load)
		fpu_load_frame(uc);
	copy_regs(uc->mc.gregs, (const uint64_t *)&ctrl->regs);
	/* 32-bit code when pvmm says so, 64-bit code otherwise: nothing else */
	uc->mc.cs = ctrl->regs.cs == STUB_USER32_CS ? STUB_USER32_CS : STUB_USER_CS;
	uc->mc.ss = USER_SS;
	ctrl->tsc_out = rdtsc();
}

/* Report a trap that the stub made itself (no siginfo behind it). */
static void own_trap(int sig, int code, const uint64_t *g)
{
	struct stub_trap *t = &ctrl->trap;

	/* all but the time as put_regs: a repeated hypercall rewrites none */
	t->tsc = rdtsc();
	PUT(t->event, STUB_EV_SIGNAL);
	PUT(t->signo, sig);
	PUT(t->code, code);
	PUT(t->addr, g[G_RIP]);
	PUT(t->syscall_nr, sig == SIGSYS ? (uint32_t)g[G_RAX] : 0);
	PUT(t->syscall_arch, sig == SIGSYS ? AUDIT_ARCH_X86_64 : 0);
	PUT(t->err, 0);
	PUT(t->trapno, 0);
	put_regs((uint64_t *)&ctrl->regs, g);
	PUT(ctrl->regs.cs, STUB_USER_CS);
}

/* Hand the trap in the control page off and take pvmm's answer into the
 * block (g) that stub.S resumes the guest from. What a plain `jmp` after
 * popf cannot resume goes through the kernel: 32-bit code, TF (the step
 * would trap in the stub), RF (popf clears it: an instruction breakpoint
 * would fire again on the instruction its handler returns to). That is
 * stub_fast_full, the int3 at the end of stub.S's commit. */
static void fast_answer(uint64_t *g)
{
	serve(0);
	if (ctrl->fpu_load)
		fpu_load_live();
	copy_regs(g, (const uint64_t *)&ctrl->regs);
	fast_cs = ctrl->regs.cs == STUB_USER32_CS ? STUB_USER32_CS : STUB_USER_CS;
	stub_fast_full = fast_cs != STUB_USER_CS || (g[G_EFLAGS] & (X86_EFLAGS_TF | X86_EFLAGS_RF));
	ctrl->tsc_out = rdtsc();
}

/* stub.S's direct entry, on the stub's stack: (g) holds the guest's
 * registers as `syscall` left them but for r11, which `syscall` sets to
 * the flags. A SIGSYS of the guest's, as the handler would report it. */
void stub_fast(uint64_t *g)
{
	g[G_R11] = g[G_EFLAGS];
	own_trap(SIGSYS, STUB_SYS_FASTCALL, g);
	PUT(ctrl->fpu_saved, 0); /* not saved at this hand-off */
	if ((uint32_t)g[G_RAX] == ctrl->fpu_nr && g[G_RAX] >> 32 == 0)
		fpu_save_live();
	fast_answer(g);
}

/* An interrupt came while the stub served the direct entry: it is the
 * guest's, at the context (g) that pvmm's answer resumes. */
void stub_fast_interrupted(uint64_t *g)
{
	stub_fast_irq = 0;
	own_trap(SIGUSR1, 0, g);
	PUT(ctrl->fpu_saved, 0); /* not saved at this hand-off */
	fast_answer(g);
}

/* Signals that the direct entry's own code takes. 1 when handled. */
static int fast_signal(int sig, struct k_ucontext *uc)
{
	uint64_t *g = uc->mc.gregs, rip = g[G_RIP];

	if (sig == SIGUSR1 && rip >= STUB_BASE && rip < (uint64_t)stub_text_end) {
		/* pvmm's interrupt while the stub runs: the guest takes it once
		 * the stub is done; the commit never passes its test after it */
		stub_fast_irq = 1;
		if (rip >= (uint64_t)stub_fast_commit && rip < (uint64_t)stub_fast_commit_end) {
			g[G_RIP] = (uint64_t)stub_fast_commit;
			g[G_EFLAGS] = STUB_FLAGS;
		}
		return 1;
	}
	if (sig == SIGTRAP && rip == (uint64_t)stub_enter_trap_end) {
		/* the first entry with a state loaded into the registers
		 * (enter_guest): the kernel saved it in this frame */
		copy_regs(g, (const uint64_t *)&ctrl->regs);
		uc->mc.cs = ctrl->regs.cs == STUB_USER32_CS ? STUB_USER32_CS : STUB_USER_CS;
		uc->mc.ss = USER_SS;
		uc->sigmask = 0;
		ctrl->tsc_out = rdtsc();
		return 1;
	}
	if (sig == SIGTRAP && rip == (uint64_t)stub_fast_full_end) {
		/* the kernel's return, with the guest's FPU state the kernel
		 * saved at this trap: it never changed in the stub */
		copy_regs(g, fast_block);
		uc->mc.cs = (uint16_t)fast_cs;
		uc->mc.ss = USER_SS;
		return 1;
	}
	return 0;
}

/* At a trap with a signal frame: save the guest's FPU state when pvmm
 * expects the next resume in another process (user mode, or a hypercall
 * by `syscall` whose number it named). */
static void fpu_trap_save(int sig, const struct k_ucontext *uc)
{
	const uint64_t *g = uc->mc.gregs;

	PUT(ctrl->fpu_saved, 0); /* not saved at this hand-off */
	if (ctrl->fpu_user || (sig == SIGSYS && g[G_RAX] == ctrl->fpu_nr))
		fpu_save_frame(uc);
}

static void handler(int sig, struct k_siginfo *si, struct k_ucontext *uc)
{
	struct stub_trap *t = &ctrl->trap;

	if (fast_signal(sig, uc))
		return;
	if (sig == SIGTRAP && uc->mc.gregs[G_RIP] == (uint64_t)stub_fastcall &&
	    uc->mc.trapno == X86_TRAP_DB) {
		/* the direct entry under TF: the step trapped on its first
		 * instruction, with the guest's registers. The hypercall the
		 * guest made, reported as the kernel would report its syscall. */
		uc->mc.gregs[G_RIP] = uc->mc.gregs[G_RCX];
		uc->mc.gregs[G_R11] = uc->mc.gregs[G_EFLAGS];
		own_trap(SIGSYS, SYS_USER_DISPATCH, uc->mc.gregs);
		fpu_trap_save(SIGSYS, uc);
		serve_into(uc);
		return;
	}
	t->tsc = rdtsc(); /* how long the guest stands still: pvmm's cost model */
	t->event = STUB_EV_SIGNAL;
	t->signo = sig;
	t->code = si->code;
	t->addr = si->addr;
	t->syscall_nr = sig == SIGSYS ? (uint32_t)si->syscall : 0;
	t->syscall_arch = sig == SIGSYS ? (uint32_t)si->arch : 0;
	t->err = uc->mc.err;
	t->trapno = uc->mc.trapno;
	put_regs((uint64_t *)&ctrl->regs, uc->mc.gregs);
	ctrl->regs.cs = uc->mc.cs;
	fpu_trap_save(sig, uc);
	serve_into(uc);
}

static void setup_signals(void)
{
	struct k_stack ss = { altstack, 0, sizeof(altstack) };
	/* Everything is blocked in a handler but SIGTRAP, the ptrace doorbell:
	 * a blocked trap signal would make the kernel reset its handler. */
	struct k_sigaction sa = { (void *)handler,
				  SA_SIGINFO | SA_ONSTACK | SA_RESTORER | SA_NODEFER,
				  (void *)stub_restorer, ~(1ull << (5 - 1)) };

	if (sys(NR_sigaltstack, &ss, 0, 0, 0, 0, 0))
		die(STUB_EXIT_ALTSTACK);
	for (unsigned i = 0; i < sizeof(trapped_signals) / sizeof(*trapped_signals); i++)
		if (sys(NR_rt_sigaction, trapped_signals[i], &sa, 0, 8, 0, 0))
			die(STUB_EXIT_SIGACTION);
}

static void confine(void)
{
	struct sock_fprog_k prog = { (uint16_t)ctrl->filter_len, ctrl->filter };

	if (sys(NR_prctl, PR_SET_SYSCALL_USER_DISPATCH, PR_SYS_DISPATCH_ON, STUB_BASE,
		STUB_REGION, 0, 0))
		die(STUB_EXIT_DISPATCH);
	if (sys(NR_prctl, PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0, 0))
		die(STUB_EXIT_NNP);
	if (!prog.len || prog.len > STUB_MAX_FILTER ||
	    sys(NR_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog, 0, 0, 0))
		die(STUB_EXIT_SECCOMP);
}

/* Enter the guest for the first time through a hand-built signal frame. */
__attribute__((noreturn)) static void enter_guest(void)
{
	struct k_sigframe *f = &entry_frame;

	if (ctrl->fpu_load) {
		/* a state from another process: the frame is the kernel's own,
		 * made at the int3 with the registers just loaded */
		fpu_load_live();
		stub_enter_trap();
	}

	copy_regs(f->uc.mc.gregs, (const uint64_t *)&ctrl->regs);
	f->uc.flags = UC_SIGCONTEXT_SS | UC_STRICT_RESTORE_SS;
	f->uc.stack.sp = altstack;
	f->uc.stack.size = sizeof(altstack);
	f->uc.mc.cs = STUB_USER_CS;
	f->uc.mc.ss = USER_SS;
	f->uc.mc.fpstate = 0; /* the guest starts with the FPU in its init state */
	f->uc.sigmask = 0;
	stub_sigreturn(f);
}

void stub_main(void)
{
	static const char name[16] = "pvmm-guest";

	if (sys(NR_mmap, CTRL_ADDR, CTRL_SIZE, PROT_RW, MAP_SHARED_FIXED, STUB_CTRL_FD, 0) !=
		    (long)CTRL_ADDR ||
	    ctrl->magic != STUB_MAGIC)
		die(STUB_EXIT_CTRL);
	sys(NR_close, STUB_CTRL_FD, 0, 0, 0, 0, 0);
	if (sys(NR_mmap, STUB_FPU_ADDR, STUB_FPU_SIZE + STUB_WAKE_SIZE, PROT_RW, MAP_SHARED_FIXED, STUB_FPU_FD, 0) !=
	    (long)STUB_FPU_ADDR)
		die(STUB_EXIT_CTRL);
	sys(NR_close, STUB_FPU_FD, 0, 0, 0, 0, 0);
	fpu_mask = ctrl->fpu_mask;
	fpu_size = ctrl->fpu_size <= STUB_FPU_SIZE && ctrl->fpu_size >= FPU_XSAVE_OFF ? ctrl->fpu_size : 0;
	/* the kernel may have put the vDSO in the guest's half: clear it all */
	sys(NR_munmap, 0, HOLE_BASE, 0, 0, 0, 0);
	sys(NR_prctl, PR_SET_NAME, name, 0, 0, 0, 0);
	setup_signals();
	/* pvmm's interrupt means nothing before the guest runs: hold it until
	 * the entry frame's empty mask takes effect */
	uint64_t hold = 1ull << (SIGUSR1 - 1);
	if (sys(NR_rt_sigprocmask, SIG_BLOCK, &hold, 0, 8, 0, 0))
		die(STUB_EXIT_SIGACTION);
	confine();
	ctrl->trap.event = STUB_EV_READY;
	ctrl->trap.doorbell = (uint64_t)stub_doorbell_end;
	serve(0);
	enter_guest();
}
