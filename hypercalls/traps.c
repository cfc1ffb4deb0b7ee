/* traps.c - the guest's exceptions and modes: trap table, bounce frames,
 * iret, stack_switch, callbacks, kernel/user switches. */
#include "hypercalls/hc.h"
#include "mmu/mmu.h"
#include "mmu/ptwr.h"

#include <cpuid.h>
#include <stdio.h>
#include <string.h>

#define EFLAGS_TF (1ull << 8)
#define EFLAGS_IF (1ull << 9)
#define EFLAGS_NT (1ull << 14)
#define EFLAGS_RF (1ull << 16)
#define EFLAGS_VM (1ull << 17)
#define EFLAGS_IOPL (3ull << 12)
/* what an iret at CPL 3 may change: not IF, IOPL, VM, VIF, VIP */
#define EFLAGS_IRET_CPL3 (0x1ull | 0x4 | 0x10 | 0x40 | 0x80 | EFLAGS_TF | 0x400 | 0x800 | \
			  EFLAGS_NT | EFLAGS_RF | (1ull << 18) | (1ull << 21))
#define COMPAT_RIP_MAX 0xffffffffull /* 32-bit code: the flat segment's limit */

/* Crash the domain (an earlier end, such as the emitter's failure, stands). */
static int crash(struct vm *vm, const char *msg)
{
	vm_end_domain(vm, VM_CRASH, "%s", msg);
	return -1;
}

int hc_set_mode(struct vm *vm, int user)
{
	mfn_t from = vcpu_cr3(&vm->vcpu);

	if (user == vm->vcpu.user_mode)
		return 0;
	if (user && !vm->vcpu.user_l4)
		return crash(vm, "the guest returned to user mode without a user page table "
			     "(MMUEXT_NEW_USER_BASEPTR)");
	if (mmu_ptwr_leave_space(vm))
		return -1;
	vm->vcpu.user_mode = user;
	mmu_mark_switch(vm, from, vcpu_cr3(&vm->vcpu)); /* another address space */
	if (hc_apply_gs(vm))
		return crash(vm, "could not switch the GS base");
	return 0;
}

/* The virtual IOPL as EFLAGS bits, in the frames the guest sees only with
 * VMASST_TYPE_architectural_iopl (as Xen's bounce frames). */
static uint64_t iopl_bits(const struct vm *vm)
{
	if (!(vm->vm_assist & (1ull << VMASST_TYPE_architectural_iopl)))
		return 0;
	return (uint64_t)vm->vcpu.iopl << 12;
}

/* The CS a frame shows for the vCPU's code: Xen's flat selector of its
 * mode (FLAT_RING3_CS64, or FLAT_RING3_CS32 in 32-bit code), with RPL 0 in
 * kernel mode, as Xen's create_bounce_frame marks kernel context. */
static uint64_t frame_cs(const struct vm *vm, int user)
{
	uint64_t cs = vcpu_compat(&vm->vcpu) ? FLAT_RING3_CS32 : FLAT_RING3_CS64;

	return user ? cs : cs & ~3ull;
}

/* Push Xen's x86-64 bounce frame and enter (handler) in kernel mode:
 * rcx, r11, [error code], rip, cs (upcall mask in bits 32-39), rflags, rsp, ss.
 * (cs) is the code selector at RPL 3 the frame shows (RPL 0 from kernel mode). */
static int bounce_cs(struct vm *vm, uint64_t handler, int has_err, uint64_t err, int mask,
		     uint64_t cs)
{
	struct stub_regs *r = &vm->vcpu.regs;
	struct vcpu_info *vi = hc_vcpu_info(vm);
	int was_user = vm->vcpu.user_mode;
	uint64_t frame[8], sp, n = 0;
	char msg[160];

	frame[n++] = r->rcx;
	frame[n++] = r->r11;
	if (has_err)
		frame[n++] = err;
	frame[n++] = r->rip;
	frame[n++] = (was_user ? cs : cs & ~3ull) | (uint64_t)vi->evtchn_upcall_mask << 32;
	frame[n++] = (r->eflags & ~(EFLAGS_IF | EFLAGS_IOPL)) | (vi->evtchn_upcall_mask ? 0 : EFLAGS_IF) |
		     iopl_bits(vm);
	frame[n++] = r->rsp;
	frame[n++] = FLAT_KERNEL_SS64;
	if (hc_set_mode(vm, 0))
		return -1;
	sp = ((was_user ? vm->vcpu.kernel_sp : r->rsp) & ~0xfull) - n * 8;
	if (mmu_copy_to_guest(vm, sp, frame, n * 8)) {
		snprintf(msg, sizeof(msg), "cannot write the exception frame at %#llx (%s stack): "
			 "the domain is crashed, as Xen's failsafe does", (unsigned long long)sp,
			 was_user ? "kernel" : "current");
		return crash(vm, msg);
	}
	r->rsp = sp;
	r->rip = handler;
	r->cs = FLAT_RING3_CS64; /* the guest kernel's entry points are 64-bit code */
	r->eflags &= ~(EFLAGS_TF | EFLAGS_NT | EFLAGS_RF | EFLAGS_VM);
	if (mask)
		vi->evtchn_upcall_mask = 1;
	return 0;
}

static int bounce(struct vm *vm, uint64_t handler, int has_err, uint64_t err, int mask)
{
	return bounce_cs(vm, handler, has_err, err, mask, frame_cs(vm, 1));
}

int hc_inject(struct vm *vm, unsigned vector, int has_err, uint64_t err, uint64_t cr2)
{
	const struct vcpu_trap *t = &vm->vcpu.traps[vector & 255];

	if (!t->address)
		return 0;
	if (vector == X86_PF)
		hc_vcpu_info(vm)->cr2 = cr2;
	vm->stats.exceptions++;
	return bounce(vm, t->address, has_err, err, !!(t->flags & TI_MASK_EVENTS)) ? -1 : 1;
}

int hc_exception(struct vm *vm, unsigned vector, uint64_t err, uint64_t cr2)
{
	uint64_t rip = vm->vcpu.regs.rip;
	int user = vm->vcpu.user_mode, rc = hc_inject(vm, vector, 1, err, cr2);
	char msg[200];

	if (rc)
		return rc;
	snprintf(msg, sizeof(msg), "guest took exception %u (error code %#llx) in an emulated "
		 "instruction at rip %#llx in %s mode and has no handler in its trap table", vector,
		 (unsigned long long)err, (unsigned long long)rip, user ? "user" : "kernel");
	return crash(vm, msg);
}

int hc_upcall(struct vm *vm)
{
	vm->ev.upcalls++;
	return bounce(vm, vm->vcpu.callbacks[CB_EVENT], 0, 0, 1) ? -1 : 1;
}

int hc_software_interrupt(struct vm *vm, unsigned vector, unsigned insn_len)
{
	const struct vcpu_trap *t = &vm->vcpu.traps[vector & 255];
	unsigned dpl = t->flags & TI_DPL_MASK;

	/* a gate the current mode may not use is #GP with the gate's selector code */
	if (!t->address || (vm->vcpu.user_mode && dpl < 3))
		return hc_inject(vm, X86_GP, 1, (uint64_t)(vector << 3) | 2, 0);
	vm->vcpu.regs.rip += insn_len;
	vm->stats.exceptions++;
	return bounce(vm, t->address, 0, 0, !!(t->flags & TI_MASK_EVENTS)) ? -1 : 1;
}

int hc_bounce_syscall(struct vm *vm)
{
	uint64_t cb = vm->vcpu.callbacks[CB_SYSCALL];

	if (!cb)
		return crash(vm, "the guest made a system call from user mode with no syscall "
			     "callback registered");
	vm->stats.guest_syscalls++;
	return bounce(vm, cb, 0, 0, vm->vcpu.callback_flags[CB_SYSCALL] & CALLBACKF_mask_events);
}

/* The host's CPU takes `sysenter` in 64-bit mode and in 32-bit code, and
 * faults `syscall` in 32-bit code (Intel's rule, Centaur's and Zhaoxin's
 * too); AMD's and Hygon's do the opposite. */
static int host_sysenter(void)
{
	uint32_t a, b, c, d;

	__cpuid(0, a, b, c, d);
	return b == 0x756e6547u /* "Genu"ineIntel */ || b == 0x746e6543u /* "Cent"aurHauls */ ||
	       b == 0x68532020u /* "  Sh"anghai */;
}

int hc_fast_syscall32(struct vm *vm)
{
	struct stub_regs *r = &vm->vcpu.regs;
	uint64_t cb = vm->vcpu.callbacks[CB_SYSENTER];

	if (!host_sysenter())
		return crash(vm, "the guest made a `syscall` in 32-bit code: Linux takes it by its fast "
			     "path, which does not keep the address it came from, so pvmm cannot give "
			     "the syscall32 callback the frame Xen gives (docs/differences.md)");
	/* Xen's sysenter entry: the instruction leaves no return address, the
	 * frame has a null rip and rsp and the null ring-3 CS */
	r->rip = 0, r->rsp = 0;
	vm->stats.guest_syscalls++;
	if (!cb)
		cb = vm->vcpu.traps[X86_GP].address;
	if (!cb)
		return crash(vm, "the guest made a `sysenter` with no sysenter callback and no #GP "
			     "handler");
	if (!vm->vcpu.callbacks[CB_SYSENTER])
		return bounce_cs(vm, cb, 1, 0, !!(vm->vcpu.traps[X86_GP].flags & TI_MASK_EVENTS), 3) ? -1 : 1;
	return bounce_cs(vm, cb, 0, 0, vm->vcpu.callback_flags[CB_SYSENTER] & CALLBACKF_mask_events,
			 3) ? -1 : 1;
}

/* ---- hypercalls --------------------------------------------------------- */

int64_t hc_set_trap_table(struct vm *vm, const uint64_t a[5])
{
	struct trap_info ti;

	if (!a[0]) { /* NULL clears the table */
		memset(vm->vcpu.traps, 0, sizeof(vm->vcpu.traps));
		return 0;
	}
	for (unsigned i = 0; i < 256; i++) {
		if (mmu_copy_from_guest(vm, &ti, a[0] + i * sizeof(ti), sizeof(ti)))
			return -XEN_EFAULT;
		if (!ti.address)
			break;
		if (!vm_canonical(ti.address))
			return -XEN_EINVAL; /* as Xen; the entries before it stay */
		vm->vcpu.traps[ti.vector] = (struct vcpu_trap){ ti.address, ti.cs, ti.flags };
	}
	return 0;
}

int64_t hc_stack_switch(struct vm *vm, const uint64_t a[5])
{
	vm->vcpu.kernel_ss = a[0];
	vm->vcpu.kernel_sp = a[1];
	return 0;
}

/* As Xen's do_set_callbacks: each address is registered on its own, one
 * that is not canonical is not, and the result is 0 all the same. */
int64_t hc_set_callbacks(struct vm *vm, const uint64_t a[5])
{
	static const enum vcpu_callback which[3] = { CB_EVENT, CB_FAILSAFE, CB_SYSCALL };

	for (int i = 0; i < 3; i++)
		if (vm_canonical(a[i]))
			vm->vcpu.callbacks[which[i]] = a[i];
	return 0;
}

/* As Xen's pv/callback.c: registering needs a canonical address (-EINVAL);
 * a type Xen does not know on x86-64 (3, 6, > 7) is -ENOSYS; only the NMI
 * callback can be unregistered (the others are -EINVAL). */
int64_t hc_callback_op(struct vm *vm, const uint64_t a[5])
{
	static const int types[] = {
		[CALLBACKTYPE_event] = CB_EVENT, [CALLBACKTYPE_failsafe] = CB_FAILSAFE,
		[CALLBACKTYPE_syscall] = CB_SYSCALL, [CALLBACKTYPE_sysenter_deprecated] = -1,
		[CALLBACKTYPE_nmi] = CB_NMI, [CALLBACKTYPE_sysenter] = CB_SYSENTER, [6] = -1,
		[CALLBACKTYPE_syscall32] = CB_SYSCALL32,
	};
	struct callback_register cb;
	int reg = a[0] == CALLBACKOP_register, which;

	if (!reg && a[0] != CALLBACKOP_unregister)
		return -XEN_ENOSYS;
	/* struct callback_unregister is { uint16_t type, _unused; } */
	if (mmu_copy_from_guest(vm, &cb, a[1], reg ? sizeof(cb) : 4))
		return -XEN_EFAULT;
	if (reg && !vm_canonical(cb.address))
		return -XEN_EINVAL;
	if (cb.type >= sizeof(types) / sizeof(*types) || (which = types[cb.type]) < 0)
		return -XEN_ENOSYS;
	if (!reg) {
		if (which != CB_NMI)
			return -XEN_EINVAL;
		vm->vcpu.callbacks[which] = 0;
		vm->vcpu.callback_flags[which] = 0;
		return 0;
	}
	vm->vcpu.callbacks[which] = cb.address;
	vm->vcpu.callback_flags[which] = (uint8_t)cb.flags;
	return 0;
}

int64_t hc_fpu_taskswitch(struct vm *vm, const uint64_t a[5])
{
	(void)vm, (void)a;
	return 0; /* the FPU state always travels with the guest process */
}

/* HYPERVISOR_iret: the frame is on the guest stack; nothing returns to the
 * caller, so the result is the restored rax. */
int64_t hc_iret(struct vm *vm, const uint64_t a[5])
{
	struct stub_regs *r = &vm->vcpu.regs;
	struct iret_context c;

	(void)a;
	if (mmu_copy_from_guest(vm, &c, r->rsp, sizeof(c))) {
		crash(vm, "HYPERVISOR_iret with an unreadable frame on the stack");
		return (int64_t)r->rax;
	}
	c.cs &= 0xffff; /* above it: the saved upcall mask of the frame Xen built */
	if ((c.cs | 3) == FLAT_RING3_CS32 && !vm->host_compat) {
		vm->stats.compat_refused++;
		crash(vm, "HYPERVISOR_iret to 32-bit code (CS FLAT_RING3_CS32), which this host "
		      "cannot run: its kernel has no 32-bit user code segment");
		return (int64_t)r->rax;
	}
	if ((c.cs | 3) == FLAT_RING3_CS32 && c.rip > COMPAT_RIP_MAX) {
		crash(vm, "HYPERVISOR_iret to 32-bit code at a rip above 4 GiB: the return "
		      "faults, and the domain is crashed as Xen's failsafe does");
		return (int64_t)r->rax;
	}
	if (!(c.flags & VGCF_in_syscall)) {
		r->rcx = c.rcx;
		r->r11 = c.r11;
	}
	r->rip = c.rip;
	r->rsp = c.rsp;
	if ((c.cs | 3) == FLAT_RING3_CS32)
		vm->stats.compat_entries += !vcpu_compat(&vm->vcpu);
	r->cs = (c.cs | 3) == FLAT_RING3_CS32 ? FLAT_RING3_CS32 : FLAT_RING3_CS64;
	if (vm->vm_assist & (1ull << VMASST_TYPE_architectural_iopl))
		vm->vcpu.iopl = (unsigned)((c.rflags & EFLAGS_IOPL) >> 12);
	r->eflags = (c.rflags & ~(EFLAGS_IOPL | EFLAGS_VM)) | EFLAGS_IF;
	hc_vcpu_info(vm)->evtchn_upcall_mask = !(c.rflags & EFLAGS_IF);
	hc_set_mode(vm, (c.cs & 3) == 3); /* a failure has crashed the domain */
	return (int64_t)c.rax;
}

/* ---- native returns through Xen's flat selectors ----------------------------
 * On Xen a 64-bit PV guest runs at CPL 3 on Xen's GDT, whose flat ring-3
 * entries (FLAT_RING3_CS64, FLAT_RING3_SS64, ...) a guest kernel puts in
 * the frames of its own iret and lret; Linux's GDT has no such entries,
 * so the host faults #GP(selector). What the hardware does on Xen is a
 * return to the same privilege: Xen never sees it, so the guest stays in
 * the mode it is in (HYPERVISOR_iret is the way between kernel and user). */

static uint64_t slot_at(const uint8_t *raw, unsigned i, unsigned opsize)
{
	uint64_t v = 0;

	memcpy(&v, raw + i * opsize, opsize); /* little-endian, zero-extended */
	return v;
}

/* The stack pointer as an address: 32-bit code uses %esp. */
static uint64_t stack_address(const struct vm *vm, uint64_t sp)
{
	return vcpu_compat(&vm->vcpu) ? (uint32_t)sp : sp;
}

/* Whether (rip) can be entered with code selector (cs), checked before
 * the instruction changes anything: 0 yes; otherwise the #GP the hardware
 * raises was delivered (1) or crashed the domain (-1). A host without 32-bit
 * user code refuses FLAT_RING3_CS32 with the #GP a missing descriptor gives. */
static int code_check(struct vm *vm, uint64_t cs, uint64_t rip)
{
	if (cs == FLAT_RING3_CS32 && !vm->host_compat) {
		vm->stats.compat_refused++;
		return hc_exception(vm, X86_GP, cs & ~3ull, 0);
	}
	if (cs == FLAT_RING3_CS32 ? rip > COMPAT_RIP_MAX : !vm_canonical(rip))
		return hc_exception(vm, X86_GP, 0, 0);
	return 0;
}

static void code_load(struct vm *vm, uint64_t cs, uint64_t rip)
{
	if (cs == FLAT_RING3_CS32 && !vcpu_compat(&vm->vcpu))
		vm->stats.compat_entries++;
	vm->vcpu.regs.cs = cs;
	vm->vcpu.regs.rip = rip;
}

int hc_flat_return(struct vm *vm, int iret, unsigned opsize, unsigned imm)
{
	struct stub_regs *r = &vm->vcpu.regs;
	unsigned n = iret ? 5 : 2;
	uint8_t raw[5 * 8];
	uint64_t rip, ss, cs;
	int rc;

	if ((opsize != 4 && opsize != 8) || (iret && (r->eflags & EFLAGS_NT)))
		return 0; /* a 16-bit frame, or a task return (#GP(0) in long mode) */
	if (mmu_copy_from_guest(vm, raw, stack_address(vm, r->rsp), n * opsize))
		return 0; /* the hardware read it before the #GP: pvmm's view differs */
	cs = slot_at(raw, 1, opsize) & 0xffff;
	if (cs != FLAT_RING3_CS64 && cs != FLAT_RING3_CS32)
		return 0; /* a return to RPL 0 and the rest: the #GP stands */
	rip = slot_at(raw, 0, opsize);
	if (iret) {
		ss = slot_at(raw, 4, opsize) & 0xffff;
		if (ss != FLAT_RING3_SS64) /* the null SS and anything else at RPL 3 */
			return hc_exception(vm, X86_GP, ss & ~3ull, 0);
	}
	if ((rc = code_check(vm, cs, rip)) != 0)
		return rc;
	code_load(vm, cs, rip);
	if (iret) {
		r->eflags = (slot_at(raw, 2, opsize) & EFLAGS_IRET_CPL3) |
			    (r->eflags & ~EFLAGS_IRET_CPL3) | 2;
		r->rsp = slot_at(raw, 3, opsize);
	} else {
		r->rsp += n * opsize + imm;
	}
	return 1;
}

int hc_flat_far(struct vm *vm, int call, uint64_t sel, uint64_t rip, unsigned opsize, unsigned len)
{
	struct stub_regs *r = &vm->vcpu.regs;
	uint64_t cs = (sel & 0xffff) | 3, sp = r->rsp - 2 * opsize, ret[2];
	int rc;

	if ((cs != FLAT_RING3_CS64 && cs != FLAT_RING3_CS32) || (opsize != 4 && opsize != 8))
		return 0;
	if (opsize == 4)
		rip = (uint32_t)rip;
	if ((rc = code_check(vm, cs, rip)) != 0)
		return rc;
	if (call) { /* the return address, then the caller's CS above it */
		uint8_t raw[16];
		ret[0] = r->rip + len, ret[1] = frame_cs(vm, 1);
		memcpy(raw, &ret[0], opsize), memcpy(raw + opsize, &ret[1], opsize);
		if (mmu_copy_to_guest(vm, stack_address(vm, sp), raw, 2 * opsize))
			return hc_exception(vm, X86_PF, X86_PFEC_WRITE | (vm->vcpu.user_mode ? X86_PFEC_USER : 0),
					    stack_address(vm, sp));
		r->rsp = sp;
	}
	code_load(vm, cs, rip);
	return 1;
}
