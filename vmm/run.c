/* run.c - the trap loop: boot the domain, then serve the stub's hand-offs. */
#include "vmm/vmm.h"
#include "hypercalls/hc.h"
#include "vmm/backends/xenstore.h"
#include "mmu/mmu.h"
#include "mmu/ptwr.h"
#include "mmu/ptwr_policy.h"
#include "vmm/gdb.h"
#include "vmm/net.h"
#include "vmm/lowexec.h"

#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <time.h>
#include <sys/mman.h>
#include <unistd.h>

#define PAGE 4096ull
#define SYS_USER_DISPATCH_CODE 2 /* si_code of a syscall-user-dispatch SIGSYS */
#define AUDIT_ARCH_I386_VALUE 0x40000003u

/* Append one host-mapping operation to the reply, running a full batch
 * first (the stub reports back with OPS_DONE). */
struct op_sink {
	struct vm *vm;
	const struct vmm_transport *t;
};

static int flush_batch(struct op_sink *s)
{
	int rc = vmm_spaces_enter(s->vm);

	return rc ? rc : vmm_ops_run(s->vm, STUB_ACT_MORE);
}

static int emit_op(void *ctx, const struct stub_op *op)
{
	struct op_sink *s = ctx;
	struct stub_ctrl *c;
	int rc = vmm_spaces_enter(s->vm); /* the operation is for the space the guest runs in */

	if (rc)
		return rc;
	c = vmm_of(s->vm)->ctrl;
	if (c->nops == STUB_MAX_OPS) {
		rc = vmm_ops_run(s->vm, STUB_ACT_MORE);
		if (rc)
			return rc;
	}
	vmm_spaces_note_op(s->vm, op);
	c->ops[c->nops++] = *op;
	s->vm->stats.map_ops[op->kind]++;
	if (op->kind == STUB_OP_MMAP)
		s->vm->stats.map_pages += op->len / PAGE;
	return 0;
}

/* The control page's words are written only where they change: a word
 * pvmm rewrote with the value it held would move its cache line to pvmm's
 * CPU and back to the stub's, which reads it next (a null hypercall
 * changes %rax alone). */
static void put32(volatile uint32_t *w, uint32_t val)
{
	if (*w != val)
		*w = val;
}

static void put_resume(struct stub_ctrl *c, const struct vm *vm)
{
	struct stub_regs r = vm->vcpu.regs;
	const uint64_t *src = (const uint64_t *)&r;
	uint64_t *dst = (uint64_t *)&c->regs;

	r.cs = vcpu_compat(&vm->vcpu) ? STUB_USER32_CS : STUB_USER_CS;
	for (size_t i = 0; i < sizeof(r) / sizeof(uint64_t); i++)
		if (dst[i] != src[i])
			dst[i] = src[i];
	put32(&c->fpu_user, vm->mmu.nspaces > 1 && vm->vcpu.user_mode);
	put32(&c->action, STUB_ACT_RESUME);
}

static uint64_t mono_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static enum vm_trap_kind trap_kind(const struct stub_trap *t)
{
	switch (t->signo) {
	case SIGSYS: return TRAP_HYPERCALL;
	case SIGSEGV: return t->trapno == 14 ? TRAP_PAGE_FAULT : TRAP_GP_FAULT;
	case SIGILL: return TRAP_INVALID_OP;
	case SIGTRAP: return TRAP_BREAKPOINT;
	case SIGFPE: return TRAP_MATH;
	case SIGBUS: return TRAP_BUS;
	case SIGUSR1: return TRAP_INTERRUPT;
	default: return TRAP_OTHER;
	}
}

static void fault_trace(struct vm *vm, const struct stub_trap *t, uint64_t err, enum vm_why what)
{
	if (vmm_of(vm)->trace_print & TRACE_FAULT)
		vmm_trace_fault(vm, t, err, what);
}

/* A store into a page table that writable page tables did not take (and
 * the guest has no #PF handler): crash the domain saying why. */
static void page_table_write(struct vm *vm, const struct stub_trap *t, uint64_t err, uint64_t mfn)
{
	int assist = !!(vm->vm_assist & (1ull << VMASST_TYPE_writable_pagetables));

	fault_trace(vm, t, err, VM_WHY_PT_WRITE_REFUSED);
	vm_end_domain(vm, VM_CRASH, "guest wrote to its %s page-table frame %#llx through %#llx at rip %#llx: "
	      "page-table pages are read-only%s", mmu_type_name(vm->mmu.frames[mfn].type),
	      (unsigned long long)mfn, (unsigned long long)t->addr,
	      (unsigned long long)vm->vcpu.regs.rip,
	      assist ? " (writable page tables cover L1 tables only)"
		     : " (enable VMASST_TYPE_writable_pagetables to write them directly)");
}

/* Deliver (vector) to the guest's handler; without one the domain is
 * crashed with (what) described. */
static void deliver(struct vm *vm, const struct stub_trap *t, unsigned vector, int has_err,
		    uint64_t err, const char *what)
{
	uint64_t rip = vm->vcpu.regs.rip;
	int user = vm->vcpu.user_mode;

	fault_trace(vm, t, err, vm->vcpu.traps[vector].address ? VM_WHY_DELIVERED
							       : VM_WHY_NO_HANDLER);
	if (hc_inject(vm, vector, has_err, err, t->addr))
		return;
	vm_end_domain(vm, VM_CRASH, "guest %s at rip %#llx in %s mode (vector %u, error code %#llx) and no handler "
	      "in its trap table", what, (unsigned long long)rip, user ? "user" : "kernel", vector,
	      (unsigned long long)err);
}

/* A #DB with (hit) in %dr6 (positive polarity) for the guest. */
static void debug_exception(struct vm *vm, const struct stub_trap *t, uint32_t hit)
{
	uint64_t rip = vm->vcpu.regs.rip;
	int user = vm->vcpu.user_mode, rc;

	fault_trace(vm, t, 0, vm->vcpu.traps[X86_DB].address ? VM_WHY_DELIVERED : VM_WHY_NO_HANDLER);
	rc = hc_dr_inject(vm, hit);
	if (!rc)
		vm_end_domain(vm, VM_CRASH, "guest debug exception (#DB, dr6 bits %#x) at rip %#llx in %s mode and no "
		      "handler in its trap table", hit, (unsigned long long)rip, user ? "user" : "kernel");
}

/* pvmm carried out a guest instruction (emulated it and stepped over it):
 * with the guest's TF set that is the end of a single step, and the guest
 * gets its #DB, as Xen's pv_emul_instruction_done gives it. */
static void emulated(struct vm *vm, const struct stub_trap *t)
{
	if (!vm->end && (vm->vcpu.regs.eflags & X86_EFLAGS_TF) && !vmm_gdb_steps(vmm_of(vm)->gdb))
		debug_exception(vm, t, X86_DR6_BS);
}

/* SIGTRAP: an int3 (#BP), or a #DB: a single step, a hardware breakpoint
 * the guest armed, icebp, the end of a mov ss shadow pvmm stepped (held:
 * the breakpoints the emulated mov %ss matched; pvmm_tf: the step was
 * pvmm's). gdb's int3s and the steps gdb asked for are gdb's; what the
 * guest caused itself goes to the guest, with %dr6 saying what hit. */
static void debug_trap(struct vm *vm, const struct stub_trap *t, uint32_t held, int pvmm_tf)
{
	uint32_t hit;

	if (t->trapno != X86_DB) {
		if (!vmm_gdb_owns(vmm_of(vm)->gdb, t))
			deliver(vm, t, X86_BP, 0, 0, "breakpoint (#BP)");
		return;
	}
	hit = vmm_dr_hit(vm, t);
	if (pvmm_tf || vmm_gdb_steps(vmm_of(vm)->gdb))
		hit &= ~X86_DR6_BS; /* pvmm's or gdb's own single step */
	hit |= held;
	if (vm->end || (!hit && (pvmm_tf || vmm_gdb_owns(vmm_of(vm)->gdb, t))))
		return;
	debug_exception(vm, t, hit);
}

static void page_fault(struct vm *vm, const struct stub_trap *t)
{
	struct mmu_fault f = { .addr = t->addr, .hw_err = t->err, .user = vm->vcpu.user_mode };
	char what[160];

	switch (mmu_trap(vm, &f)) {
	case MMU_TRAP_DONE:
	case MMU_TRAP_ENDED:
		if (f.why != VM_WHY_NONE)
			fault_trace(vm, t, f.err, f.why);
		if (f.why == VM_WHY_LOAD_EMULATED)
			emulated(vm, t);
		return;
	case MMU_TRAP_TABLE_STORE:
		if (!vm->vcpu.traps[X86_PF].address) {
			page_table_write(vm, t, f.err, f.mfn);
			return;
		}
		break;
	case MMU_TRAP_GUEST:
		break;
	}
	snprintf(what, sizeof(what), "page fault at %#llx: %s of a %s page",
		 (unsigned long long)t->addr,
		 f.err & MMU_PFEC_FETCH ? "instruction fetch" : f.err & MMU_PFEC_WRITE ? "write" : "read",
		 f.err & MMU_PFEC_PRESENT ? "protected" : "not-present");
	deliver(vm, t, X86_PF, 1, f.err, what);
}

/* SIGSEGV other than #PF: #GP (or `int $n` through a gate the guest may not
 * use, which the host reports as #GP with the vector in the error code).
 * (#SS and #NP come as SIGBUS: handle_trap.) */
static void protection_fault(struct vm *vm, const struct stub_trap *t)
{
	int rc;

	if (t->trapno == X86_GP && !t->err && (rc = hc_noncanonical_rsp(vm)) != 0) {
		fault_trace(vm, t, t->err, rc > 0 ? VM_WHY_NONCANONICAL_RSP : VM_WHY_CRASHED);
		return;
	}
	if (t->trapno == X86_GP && (t->err & 3) != 2 && hc_mov_ss(vm)) {
		/* no single step ends here: the shadow holds it to the next instruction */
		fault_trace(vm, t, t->err, VM_WHY_PRIVOP_EMULATED);
		return;
	}
	if (t->trapno == X86_GP && (t->err & 3) != 2 && (rc = hc_privop(vm, 0)) != 0) {
		fault_trace(vm, t, t->err, rc > 0 ? VM_WHY_PRIVOP_EMULATED : VM_WHY_CRASHED);
		if (rc > 0)
			emulated(vm, t);
		return;
	}
	if (t->trapno == X86_GP && (t->err & 3) == 2) {
		rc = hc_software_interrupt(vm, (unsigned)(t->err >> 3), 2);
		fault_trace(vm, t, t->err, rc > 0 ? VM_WHY_INT_DELIVERED : VM_WHY_NO_HANDLER);
		if (!rc)
			vm_end_domain(vm, VM_CRASH, "guest int $%#llx at rip %#llx with no usable gate",
			      (unsigned long long)(t->err >> 3), (unsigned long long)vm->vcpu.regs.rip);
		return;
	}
	deliver(vm, t, t->trapno == X86_SS || t->trapno == X86_NP ? (unsigned)t->trapno : X86_GP,
		1, t->err, "general protection fault (#GP)");
}

/* The SIGSYS of a 32-bit system call left rip right after an `int $0x80`
 * (Linux's fast paths, sysenter and syscall in 32-bit code, leave it at a
 * landing pad of their own instead). */
static int after_int80(struct vm *vm)
{
	uint8_t b[2];

	return vm->vcpu.regs.rip >= 2 && !mmu_copy_from_guest(vm, b, vm->vcpu.regs.rip - 2, 2) &&
	       b[0] == 0xcd && b[1] == 0x80;
}

static void guest_syscall(struct vm *vm, const struct stub_trap *t)
{
	struct stub_regs in = vm->vcpu.regs;

	/* the stub's direct entry (stub_abi.h: STUB_FASTCALL_ENTRY) stands for
	 * a 64-bit `syscall`, whichever code jumped to it */
	int direct = t->code == STUB_SYS_FASTCALL && t->syscall_arch != AUDIT_ARCH_I386_VALUE;

	if (t->code != SYS_USER_DISPATCH_CODE && !direct) {
		vm_end_domain(vm, VM_CRASH, "unexpected SIGSYS (code %d) at rip %#llx", t->code,
		      (unsigned long long)vm->vcpu.regs.rip);
		return;
	}
	/* a 32-bit system call (Linux's ia32 entries; it never ran on the host:
	 * syscall user dispatch stopped it): an int $0x80, already stepped
	 * over, or one of the fast paths, which leave rip elsewhere */
	if (t->syscall_arch == AUDIT_ARCH_I386_VALUE && after_int80(vm)) {
		vm->vcpu.regs.rip -= 2; /* a #GP for a gate it may not use points at the int */
		if (!hc_software_interrupt(vm, 0x80, 2))
			vm_end_domain(vm, VM_CRASH, "guest int $0x80 at rip %#llx with no gate",
				      (unsigned long long)in.rip - 2);
		return;
	}
	if (t->syscall_arch == AUDIT_ARCH_I386_VALUE) {
		hc_fast_syscall32(vm);
		return;
	}
	if (vm->vcpu.user_mode) { /* a system call of the guest's own user space */
		hc_bounce_syscall(vm);
		return;
	}
	vm->stats.hypercalls_fast += direct;
	hc_dispatch(vm);
	if (vmm_of(vm)->trace_print & TRACE_HYPERCALL)
		vmm_trace_hypercall(vm, &in, (int64_t)vm->vcpu.regs.rax);
}

/* The first switch into 32-bit code that the host could not run: say so
 * once (the guest got the #GP a missing descriptor gives, or was crashed
 * by a HYPERVISOR_iret into it). */
static void compat_refused(void)
{
	fprintf(stderr, "pvmm: the guest switched to 32-bit code (CS FLAT_RING3_CS32), which this "
		"host cannot run: its kernel offers no 32-bit user code segment (ia32 emulation "
		"off, or a hypervisor without it): pvmm gives the guest the #GP a missing descriptor raises (docs/differences.md)\n");
}

/* vm->mmu.emulate_load: a fault no host mapping can serve. Below
 * vm.mmap_min_addr (a native instruction reading or writing there, or a
 * jump there) the instruction emulator takes over before the guest resumes
 * (2), unless the fault came from it: then the guest's tables refuse the
 * access, and only a load pvmm emulates itself (an unfilled frame) is not
 * the guest's #PF. Xen's M2P in the upper half: emulated here. */
static int emulate_unmappable(struct vm *vm, uint64_t addr)
{
	struct vmm *v = vmm_of(vm);
	uint64_t rip = vm->vcpu.regs.rip;

	if (v->low_trap)
		return addr - rip < 15 ? 0 : hc_emulate_load(vm, addr); /* not a fetch */
	if (addr >= vm->min_va && rip >= vm->min_va)
		return hc_emulate_load(vm, addr);
	v->low_step = rip >= vm->min_va;
	return 2;
}

/* Run guest code in the instruction emulator (lowexec.h) instead of its
 * process; (*trap) gets the trap it ran into (event STUB_EV_NONE: none). */
static void run_emulated(struct vm *vm, struct stub_trap *trap)
{
	static const char *const ends[] = { "left", "slice", "step", "trap", "ended" };
	struct vmm *v = vmm_of(vm);
	uint64_t rip = vm->vcpu.regs.rip, blocks = vm->stats.lowexec_blocks, ns = vm->stats.lowexec_ns;
	int step = v->low_step;
	enum vmm_lowexec_end end;

	v->low_step = 0;
	memset(trap, 0, sizeof(*trap));
	end = vmm_lowexec_run(&v->low, vm, step, trap);
	if (v->trace_print & TRACE_FAULT)
		vmm_trace_lowexec(vm, rip, step, ends[end], vm->stats.lowexec_blocks - blocks,
				  vm->stats.lowexec_ns - ns);
}

/* Serve one trap of guest code. */
static void handle_trap(struct vm *vm, const struct stub_trap *t)
{
	static const char *const names[TRAP_KINDS] = {
		[TRAP_GP_FAULT] = "general protection fault (#GP)",
		[TRAP_INVALID_OP] = "invalid opcode (#UD)",
		[TRAP_BREAKPOINT] = "breakpoint or debug trap",
		[TRAP_MATH] = "arithmetic exception (#DE/#MF)",
		[TRAP_BUS] = "bus error",
		[TRAP_INTERRUPT] = "interrupt",
		[TRAP_OTHER] = "unexpected signal",
	};
	enum vm_trap_kind kind = trap_kind(t);
	int stepped = kind == TRAP_BREAKPOINT && t->trapno == X86_DB, pvmm_tf;
	/* any trap ends a mov ss shadow pvmm emulated; only its step keeps the #DB */
	uint32_t held = hc_dr_shadow_end(vm, stepped, &pvmm_tf);

	vm->stats.traps[kind]++;
	if ((vmm_of(vm)->trace_print & TRACE_FAULT) && kind != TRAP_HYPERCALL && kind != TRAP_INTERRUPT)
		vmm_trace_trap(vm);
	if (vm->vcpu.regs.rip >= HOLE_END) {
		vm_end_domain(vm, VM_CRASH, "signal %d at rip %#llx: the guest went to an address outside the lower "
		      "half, where a process has no code", t->signo,
		      (unsigned long long)vm->vcpu.regs.rip);
		return;
	}
	if (vm->vcpu.regs.rip >= HOLE_BASE) {
		vm_end_domain(vm, VM_CRASH, "signal %d inside the pvmm stub at rip %#llx (the guest jumped into the hole?)",
		      t->signo, (unsigned long long)vm->vcpu.regs.rip);
		return;
	}
	switch (kind) {
	case TRAP_HYPERCALL:
		guest_syscall(vm, t);
		break;
	case TRAP_PAGE_FAULT:
		page_fault(vm, t);
		break;
	case TRAP_GP_FAULT:
		protection_fault(vm, t);
		break;
	case TRAP_INVALID_OP:
		if (hc_privop(vm, 1) > 0) {
			fault_trace(vm, t, 0, VM_WHY_FORCED_EMULATION);
			emulated(vm, t);
		} else if (!vm->end)
			deliver(vm, t, X86_UD, 0, 0, names[kind]);
		break;
	case TRAP_BREAKPOINT:
		debug_trap(vm, t, held, pvmm_tf);
		break;
	case TRAP_MATH:
		deliver(vm, t, t->trapno == X86_MF || t->trapno == X86_XM ? (unsigned)t->trapno : X86_DE,
			0, 0, names[kind]);
		break;
	case TRAP_INTERRUPT:
		hc_backends_work(vm); /* dom0's backends ran meanwhile */
		break; /* the events are looked at after every trap */
	case TRAP_BUS: /* Linux sends #SS and #NP as SIGBUS too, with no address */
		if (t->trapno == X86_AC)
			deliver(vm, t, X86_AC, 1, 0, names[kind]);
		else if (t->trapno == X86_SS || t->trapno == X86_NP)
			deliver(vm, t, (unsigned)t->trapno, 1, t->err, t->trapno == X86_SS ?
				"stack-segment fault (#SS)" : "segment-not-present fault (#NP)");
		else
			vm_end_domain(vm, VM_CRASH, "bus error at %#llx (rip %#llx)", (unsigned long long)t->addr,
			      (unsigned long long)vm->vcpu.regs.rip);
		break;
	default:
		vm_end_domain(vm, VM_CRASH, "guest %s %d at rip %#llx", names[kind], t->signo,
		      (unsigned long long)vm->vcpu.regs.rip);
		break;
	}
}

static void set_boot_regs(struct vm *vm)
{
	struct stub_regs *r = &vm->vcpu.regs;

	memset(r, 0, sizeof(*r));
	r->cs = FLAT_RING3_CS64;
	r->rip = vm->lay.entry;
	r->rsp = vm->lay.stack_top;
	r->rsi = vm->lay.start_info_va;
	r->eflags = 0x202;
}

/* --check-invariants: run the pending operations, then compare the guest
 * process's real mappings and the frame table's counts with the tables. */
static int check_invariants(struct vm *vm, struct op_sink *sink)
{
	struct mmu_host_map *maps = NULL;
	size_t n = 0;
	char why[400];
	int rc;

	if (!vmm_of(vm)->check_invariants)
		return 0;
	rc = flush_batch(sink);
	if (!rc)
		rc = vmm_proc_maps(vm, &maps, &n);
	if (rc)
		return rc;
	vm->stats.invariant_checks++;
	rc = mmu_check_host(vm, maps, n, why, sizeof(why));
	if (!rc)
		rc = mmu_check_counts(vm, why, sizeof(why));
	free(maps);
	if (rc) {
		vm_end_domain(vm, VM_HOST_ERROR, "invariant violated: %s", why);
	}
	return rc;
}

/* Map the bootstrap address space and let the guest start. */
static int boot(struct vm *vm, const struct vmm_transport *t, struct op_sink *sink)
{
	struct vmm *v = vmm_of(vm);
	int rc;

	v->transport = t;
	rc = vmm_spaces_start(vm);
	if (rc)
		return rc;
	if (v->pidfile) {
		FILE *f = fopen(v->pidfile, "w");
		if (!f || fprintf(f, "%d\n", v->pid) < 0 || fclose(f)) {
			snprintf(vm->end_msg, sizeof(vm->end_msg), "--pidfile %s: %s", v->pidfile,
				 strerror(errno));
			return -EIO;
		}
	}
	set_boot_regs(vm);
	hc_time_init(vm);
	vm->mmu.emit = emit_op;
	vm->mmu.emit_ctx = sink;
	vm->mmu.emulate_load = emulate_unmappable;
	rc = mmu_sync(vm); /* the bootstrap address space */
	if (!rc)
		rc = check_invariants(vm, sink);
	if (!rc && v->gdb && vmm_gdb_wait_at_boot(v->gdb))
		vmm_gdb_stopped(v->gdb, vm, SIGTRAP); /* like qemu -s -S */
	return rc;
}

/* How long a wait for system time (next) and host deadline (mono) lasts:
 * the earlier of the two, in ns; UINT64_MAX for neither. */
static uint64_t wait_ns(struct vm *vm, uint64_t next, uint64_t mono)
{
	uint64_t now = hc_now(vm), w = UINT64_MAX, m = mono_now();

	if (next)
		w = next <= now ? 0 : next - now;
	if (mono && (mono <= m ? 0 : mono - m) < w)
		w = mono <= m ? 0 : mono - m;
	return w;
}

/* Wait while the guest is blocked: until its next deadline, console input,
 * gdb (connecting, or a Ctrl-C) or the network (a packet, a timer of
 * slirp's). A guest blocked with nothing that could ever wake it is
 * crashed. Returns 1 when gdb has something to say. */
static int wait_blocked(struct vm *vm, uint64_t next)
{
	struct vmm_net *net = vmm_of(vm)->net;
	int input = vmm_conin_fd(vm);
	struct pollfd own[2] = { { input, POLLIN, 0 }, { vmm_gdb_poll_fd(vmm_of(vm)->gdb), POLLIN, 0 } };
	struct pollfd *p;

	if (!next && input < 0 && !net) {
		vm_end_domain(vm, VM_CRASH, "the guest blocked with no timer armed and no console to wait for: "
		      "nothing could ever wake it");
		return 0;
	}
	int np = vmm_net_fill(net, own, 2, &p);
	uint64_t wait = wait_ns(vm, next, vmm_net_deadline(net));
	struct timespec ts = { (time_t)(wait / 1000000000u), (long)(wait % 1000000000u) };
	sigset_t stop, old;
	int rc;

	/* a SIGINT/TERM/HUP between the caller's checks and the wait must
	 * interrupt the wait, not go unnoticed until it ends */
	sigemptyset(&stop);
	sigaddset(&stop, SIGINT), sigaddset(&stop, SIGTERM), sigaddset(&stop, SIGHUP);
	sigprocmask(SIG_BLOCK, &stop, &old);
	if ((vmm_signals_asked() && !vm->shutdown_sent) || vmm_signals_ended()) {
		sigprocmask(SIG_SETMASK, &old, NULL);
		return 0;
	}
	rc = ppoll(p, (nfds_t)np, wait != UINT64_MAX ? &ts : NULL, &old);
	sigprocmask(SIG_SETMASK, &old, NULL);
	vmm_net_polled(net, rc < 0);
	if (rc > 0 && p[0].revents)
		vmm_conin_pump(vm, 1); /* read it; at its end, stop waiting for it */
	return rc > 0 && p[1].revents != 0;
}

/* A signal asked the guest to shut down: tell it through control/shutdown,
 * once, as Xen's toolstack would. */
static void shutdown_request(struct vm *vm)
{
	if (!vmm_signals_asked() || vm->shutdown_sent || vm->end)
		return;
	vm->shutdown_sent = 1;
	xs_request_shutdown(vm, "poweroff");
	if (!vm->end)
		fprintf(stderr, "pvmm: %s: asked the guest to power off (control/shutdown = poweroff)\n",
			vmm_signals_name());
}

/* After every trap: fire due timers, wait while blocked, send the pending
 * upcall, and arm the host timer for the next deadline. */
static void events(struct vm *vm)
{
	struct vmm *v = vmm_of(vm);
	uint64_t next, mono;

	vmm_net_service(v->net); /* packets for the guest raise its port */
	next = hc_events_tick(vm);

	vmm_conin_pump(vm, 0);
	vmm_signals_watching(vm->shutdown_watched);
	for (;;) {
		shutdown_request(vm);
		if (!vm->ev.blocked || vm->end || vmm_signals_ended())
			break;
		if (hc_event_pending(vm) || (vm->ev.block_until && hc_now(vm) >= vm->ev.block_until)) {
			hc_unblock(vm);
			break;
		}
		/* gdb stops a blocked guest where it blocked; it stays blocked */
		if (wait_blocked(vm, next) && vmm_gdb_wants_stop(v->gdb, vm, NULL))
			vmm_gdb_stopped(v->gdb, vm, vmm_gdb_take_stop(v->gdb));
		next = hc_events_tick(vm);
	}
	if (!vm->end && hc_upcall_due(vm) && hc_upcall(vm) > 0 && (v->trace_print & TRACE_EVENT))
		vmm_trace_upcall(vm);
	/* the host timer interrupts the guest for its own timer and slirp's */
	mono = next ? vm->ev.boot_ns + next : 0;
	if (vmm_net_deadline(v->net) && (!mono || vmm_net_deadline(v->net) < mono))
		mono = vmm_net_deadline(v->net);
	if (mono != vm->ev.armed) {
		vm->ev.armed = mono;
		if (vmm_timer_arm(mono)) {
			vm_end_domain(vm, VM_HOST_ERROR, "cannot arm the guest's timer");
		}
	}
}

/* The last trap the stub timed: when it entered its handler, and what
 * writable page tables did with it. */
struct trap_clock {
	int valid;
	uint64_t tsc_in;
	enum ptwr_role role;
};

static uint64_t tsc_ns(const struct vm *vm, uint64_t ticks)
{
	uint64_t hz = vm->ev.tsc_hz;

	return hz ? ticks / hz * 1000000000u + ticks % hz * 1000000000u / hz : 0;
}

/* Feed writable page tables' cost model with how long the guest stood
 * still for the previous trap (the stub's handler entry to its return) and
 * ran before this one (tsc_in), which was (role). The stub's timestamps
 * are in a page the guest can write: nonsense is dropped. */
static void cost_sample(struct vm *vm, struct trap_clock *c, uint64_t tsc_in, uint64_t tsc_out,
			enum ptwr_role role)
{
	if (c->valid && tsc_out >= c->tsc_in && tsc_in >= tsc_out)
		mmu_ptwr_cost_sample(&vm->mmu.ptwr.cost, c->role, tsc_ns(vm, tsc_out - c->tsc_in),
				     tsc_ns(vm, tsc_in - tsc_out), role);
	c->valid = 1;
	c->tsc_in = tsc_in;
	c->role = role;
}

static int serve(struct vm *vm, const struct vmm_transport *t, struct op_sink *sink)
{
	struct vmm *v = vmm_of(vm);
	struct vmm_stop stop;
	struct stub_trap trap;
	struct trap_clock clock = { 0 };
	uint64_t tsc_out = 0;

	for (;;) {
		struct mmu_counters before = vm->mmu.count;
		int rc;

		int low = vmm_lowexec_due(vm) || v->low_step;
		uint64_t t0;

		if (low) {
			run_emulated(vm, &trap);
			if (vmm_signals_ended())
				return 0;
			t0 = mono_now();
		} else {
			if (vmm_spaces_enter(vm))
				return vm->end ? 0 : -EIO;
			put_resume(v->ctrl, vm);
			rc = t->resume(vm, &stop);
			if (rc)
				return rc;
			if (stop.kind == STOP_GONE) {
				vmm_proc_describe_end(vm, stop.status, 1);
				return -EIO;
			}
			t0 = mono_now();
			trap = v->ctrl->trap; /* one copy of what the stub wrote */
			tsc_out = v->ctrl->tsc_out;
			vm->vcpu.regs = v->ctrl->regs;
			vm->vcpu.regs.cs = vm->vcpu.regs.cs == STUB_USER32_CS ? FLAT_RING3_CS32 : FLAT_RING3_CS64;
			/* The stub reports a failed batch before it returns to the guest
			 * (OPS_DONE); after the guest ran, the page is the guest's to
			 * scribble on, so results are not read then. */
			if (trap.event == STUB_EV_OPS_DONE && vmm_ops_check(vm))
				return -EIO;
			put32(&v->ctrl->nops, 0);
		}
		if (trap.event == STUB_EV_SIGNAL) {
			uint64_t refused = vm->stats.compat_refused;

			v->low_trap = low;
			vm->mmu.ptwr.role = PTWR_ROLE_NONE;
			handle_trap(vm, &trap);
			v->low_trap = 0;
			if (low)
				clock.valid = 0;
			else
				cost_sample(vm, &clock, trap.tsc, tsc_out, vm->mmu.ptwr.role);
			if (!refused && vm->stats.compat_refused)
				compat_refused();
		} else if (!low) {
			vm_end_domain(vm, VM_CRASH, "the stub's control page holds an unknown event %u: the guest "
			      "wrote over it", trap.event);
		}
		if (!vm->end)
			events(vm);
		/* a refusal that crashes the domain still stops for gdb first */
		if (v->gdb && (!vm->end || vm->end == VM_CRASH) &&
		    vmm_gdb_wants_stop(v->gdb, vm, trap.event == STUB_EV_SIGNAL ? &trap : NULL))
			vmm_gdb_stopped(v->gdb, vm, vmm_gdb_take_stop(v->gdb));
		if (!vm->end)
			hc_sync(vm);
		if (!vm->end && vm->vcpu.dr.changed)
			vmm_dr_sync(vm); /* a failure is a host error: vm->end */
		if (vm->end)
			return 0;
		if ((v->ctrl->nops || memcmp(&before, &vm->mmu.count, sizeof(before))) &&
		    check_invariants(vm, sink))
			return -EIO;
		if (trap.event == STUB_EV_SIGNAL)
			vm->stats.trap_ns[trap_kind(&trap)] += mono_now() - t0;
	}
}

int vmm_run(struct vm *vm, const struct vmm_transport *t)
{
	struct op_sink sink = { vm, t };
	int rc = boot(vm, t, &sink);

	if (!rc)
		rc = serve(vm, t, &sink);
	vmm_spaces_kill(vm);
	vmm_lowexec_free(vmm_of(vm)->low);
	vmm_of(vm)->low = NULL;
	if (vmm_signals_ended() == VM_TIMEOUT)
		vm_end_domain(vm, VM_TIMEOUT, "timeout: the guest was stopped after --timeout seconds");
	else if (vmm_signals_ended() && vmm_signals_grace())
		vm_end_domain(vm, VM_INTERRUPTED, "interrupted: the guest did not shut down within "
			      "%u s of %s (control/shutdown = poweroff) and was stopped",
			      vmm_signals_grace(), vmm_signals_name());
	else if (vmm_signals_ended())
		vm_end_domain(vm, VM_INTERRUPTED, "interrupted: the guest was stopped by %s%s",
			      vmm_signals_name(), vmm_signals_escaped() ? "" : " to pvmm");
	else if (rc)
		vm_end_domain(vm, VM_HOST_ERROR, NULL);
	return rc;
}
