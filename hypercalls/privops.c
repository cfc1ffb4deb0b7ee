/* privops.c - the privileged instructions a PV guest still executes. In the guest process they fault (#GP, or #UD for Xen's
 * forced-emulation prefix); pvmm emulates what Xen emulates, in the mode
 * Xen emulates it in, and leaves the rest to be delivered as the fault it
 * was. Port I/O is ioport.c's, segment bases and descriptors segments.c's. */
#include "hypercalls/hc.h"
#include "mmu/emulate.h"
#include "mmu/mmu.h"

#include <cpuid.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <Zydis/Zydis.h>

#define CR0_PE (1ull << 0)
#define CR0_MP (1ull << 1)
#define CR0_ET (1ull << 4)
#define CR0_NE (1ull << 5)
#define CR0_WP (1ull << 16)
#define CR0_AM (1ull << 18)
#define CR0_PG (1ull << 31)
#define CR0_TS (1ull << 3)
#define GUEST_CR0 (CR0_PE | CR0_MP | CR0_ET | CR0_NE | CR0_WP | CR0_AM | CR0_PG)
#define EFER_VALUE ((1ull << 0) | (1ull << 8) | (1ull << 10) | (1ull << 11)) /* SCE LME LMA NXE */
#define MSR_EFER 0xc0000080u
#define MSR_FS_BASE 0xc0000100u
#define MSR_GS_BASE 0xc0000101u
#define MSR_SHADOW_GS_BASE 0xc0000102u
#define MSR_TSC 0x10u
#define MSR_INTEL_PLATFORM_INFO 0xceu
#define MSR_INTEL_MISC_FEATURES_ENABLES 0x140u
#define CPUID1_ECX_XSAVE (1u << 26)
#define CPUID1_ECX_OSXSAVE (1u << 27)
#define MSR_DEBUGCTL 0x1d9u
#define XEN_CPUID_BASE 0x40000000u

static const uint8_t forced_prefix[] = { 0x0f, 0x0b, 'x', 'e', 'n', 0x0f, 0xa2 };

/* ---- CR4 ------------------------------------------------------------------ */

uint64_t hc_cr4_fixup(uint64_t features, uint64_t visible, uint64_t val)
{
	return (val & HC_CR4_GUEST_MASK & features) | (visible & HC_CR4_VISIBLE_MASK);
}

/* The CR4 bits the guest may set: those whose feature the CPUID pvmm
 * reports (the host's) has, as Xen's policy decides them. */
static uint64_t cr4_features(void)
{
	uint32_t a, b, c, d, max;
	uint64_t f = 0;

	__cpuid(0, max, b, c, d);
	__cpuid(1, a, b, c, d);
	f |= (d & (1u << 4) ? HC_CR4_TSD : 0) | (d & (1u << 2) ? HC_CR4_DE : 0) |
	     (c & CPUID1_ECX_XSAVE ? HC_CR4_OSXSAVE : 0);
	if (max >= 7) {
		__cpuid_count(7, 0, a, b, c, d);
		f |= b & 1 ? HC_CR4_FSGSBASE : 0;
	}
	return f;
}

/* The bits the guest sees from the hypervisor's own settings: PAE, OSFXSR
 * and OSXMMEXCPT, which a 64-bit Linux process runs with, and MCE where
 * the CPU has machine checks (Xen enables them). */
static uint64_t cr4_visible(void)
{
	uint32_t a, b, c, d;

	__cpuid(1, a, b, c, d);
	return HC_CR4_PAE | HC_CR4_OSFXSR | HC_CR4_OSXMMEXCPT | (d & (1u << 7) ? HC_CR4_MCE : 0);
}

static uint64_t guest_cr4(const struct vm *vm)
{
	return hc_cr4_fixup(cr4_features(), cr4_visible(), vm->vcpu.cr4);
}

/* ---- cpuid ------------------------------------------------------------------ */

/* CPUID.1:ECX.OSXSAVE as Xen reports it to a PV guest: the guest's own
 * CR4.OSXSAVE, or, in the kernel's forced-emulation view, the hypervisor's
 * (which the PV ABI has leaked since 2010 and Linux relies on). */
static uint32_t osxsave(const struct vm *vm, uint32_t ecx)
{
	int on = (vm->vcpu.cr4 & HC_CR4_OSXSAVE) ||
		 (!vm->vcpu.user_mode && (ecx & CPUID1_ECX_XSAVE) && (ecx & CPUID1_ECX_OSXSAVE));

	return (ecx & ~CPUID1_ECX_OSXSAVE) | (on ? CPUID1_ECX_OSXSAVE : 0);
}

static void cpuid(struct vm *vm)
{
	struct stub_regs *r = &vm->vcpu.regs;
	uint32_t leaf = (uint32_t)r->rax, sub = (uint32_t)r->rcx, a = 0, b = 0, c = 0, d = 0;

	if (leaf == XEN_CPUID_BASE) {
		a = XEN_CPUID_BASE + 2;
		memcpy(&b, "XenV", 4), memcpy(&c, "MMXe", 4), memcpy(&d, "nVMM", 4);
	} else if (leaf == XEN_CPUID_BASE + 1) {
		a = (PVMM_XEN_MAJOR << 16) | PVMM_XEN_MINOR;
	} else if (leaf == XEN_CPUID_BASE + 2) {
		a = 1; /* hypercall pages */
		b = XEN_CPUID_BASE; /* the MSR that would place one */
	} else if (leaf < XEN_CPUID_BASE || leaf >= XEN_CPUID_BASE + 0x100) {
		__cpuid_count(leaf, sub, a, b, c, d);
		if (leaf == 1)
			c = osxsave(vm, c | 1u << 31); /* running on a hypervisor */
		if (leaf == 0x80000001u)
			c &= ~(1u << 26); /* no DBEXT: breakpoint address masks cannot be armed */
	}
	r->rax = a, r->rbx = b, r->rcx = c, r->rdx = d;
}

static int rdmsr(struct vm *vm)
{
	struct stub_regs *r = &vm->vcpu.regs;
	uint64_t v;

	switch ((uint32_t)r->rcx) {
	case MSR_EFER: v = EFER_VALUE; break;
	case MSR_FS_BASE: v = vm->vcpu.fs_base; break;
	case MSR_GS_BASE: v = vm->vcpu.gs_base_kernel; break;
	case MSR_SHADOW_GS_BASE: v = vm->vcpu.gs_base_user; break;
	case MSR_TSC: v = __builtin_ia32_rdtsc(); break;
	/* no CPUID faulting to offer: a process cannot make `cpuid` fault
	 * (docs/differences.md), so the bit Xen takes from the host is clear */
	case MSR_INTEL_PLATFORM_INFO: v = 0; break;
	case MSR_INTEL_MISC_FEATURES_ENABLES: v = 0; break;
	case MSR_DEBUGCTL: v = 0; break; /* no LBR, BTF or bus-lock detection for the guest */
	default: return 0;
	}
	r->rax = (uint32_t)v, r->rdx = v >> 32;
	return 1;
}

/* wrmsr of a base: a base that is not canonical is #GP(0), as on Xen
 * (XSA-193); 1 to go on, 0 for #GP, -1 when the domain was crashed. */
static int wrmsr_base(struct vm *vm, uint32_t msr, uint64_t v)
{
	int rc = hc_check_base(vm, msr == MSR_FS_BASE ? "FS base" : msr == MSR_GS_BASE ? "GS base"
							  : "shadow GS base", v);

	return !rc ? 1 : rc == -XEN_EINVAL ? 0 : -1;
}

static int wrmsr(struct vm *vm)
{
	struct stub_regs *r = &vm->vcpu.regs;
	uint64_t v = (uint32_t)r->rax | r->rdx << 32;
	uint32_t msr = (uint32_t)r->rcx;
	int ok;

	if ((msr == MSR_FS_BASE || msr == MSR_GS_BASE || msr == MSR_SHADOW_GS_BASE) &&
	    (ok = wrmsr_base(vm, msr, v)) <= 0)
		return ok;
	switch (msr) {
	case MSR_EFER:
		return v == EFER_VALUE;
	case MSR_FS_BASE:
		vm->vcpu.fs_base = v;
		return hc_load_base(vm, STUB_BASE_FS, v) ? -1 : 1;
	case MSR_GS_BASE:
		vm->vcpu.gs_base_kernel = v;
		return hc_apply_gs(vm) ? -1 : 1;
	case MSR_SHADOW_GS_BASE:
		vm->vcpu.gs_base_user = v;
		return 1;
	case MSR_INTEL_MISC_FEATURES_ENABLES:
		return v == 0; /* the CPUID faulting bit is reserved without the feature: #GP */
	default:
		return 0;
	}
}

static uint64_t read_cr(struct vm *vm, ZydisRegister cr)
{
	switch (cr) {
	case ZYDIS_REGISTER_CR0: return GUEST_CR0 | (vm->vcpu.cr0_ts ? CR0_TS : 0);
	case ZYDIS_REGISTER_CR2:
		return hc_vcpu_info(vm)->cr2;
	case ZYDIS_REGISTER_CR3: return vm->vcpu.kernel_l4 << 12;
	case ZYDIS_REGISTER_CR4: return guest_cr4(vm);
	default: return 0;
	}
}

/* 1 done, 0 not allowed (#GP), -1 crashed. */
static int write_cr(struct vm *vm, ZydisRegister cr, uint64_t v)
{
	switch (cr) {
	case ZYDIS_REGISTER_CR0:
		if ((v & ~CR0_TS) != GUEST_CR0)
			return 0; /* only TS may change */
		vm->vcpu.cr0_ts = !!(v & CR0_TS);
		return 1;
	case ZYDIS_REGISTER_CR3:
		return mmu_new_baseptr(vm, _mfn(v >> 12), 0) ? 0 : 1;
	case ZYDIS_REGISTER_CR4: /* never a fault: Xen keeps what the guest may have */
		vm->vcpu.cr4 = hc_cr4_fixup(cr4_features(), 0, v);
		return 1;
	default:
		return 0;
	}
}

/* The NULL selector (FLAT_*_DS64) and Xen's flat GDT entries, at RPL 3 or
 * with the RPL the guest kernel believes it has (0). */
static int is_flat_selector(uint64_t sel)
{
	static const uint16_t flat[] = { FLAT_RING3_CS32, FLAT_RING3_DS32, FLAT_RING3_CS64 };

	sel &= 0xffff;
	if (sel == FLAT_RING3_DS64)
		return 1;
	for (unsigned i = 0; i < sizeof(flat) / sizeof(*flat); i++)
		if (sel == flat[i] || sel == (flat[i] & ~3u))
			return 1;
	return 0;
}

static int is_dr(const ZydisDecodedOperand *op)
{
	return op->type == ZYDIS_OPERAND_TYPE_REGISTER &&
	       ZydisRegisterGetClass(op->reg.value) == ZYDIS_REGCLASS_DEBUG;
}

/* mov %drN, %reg or mov %reg, %drN: debugreg.c */
static int mov_dr(struct vm *vm, const ZydisDecodedOperand *dst, const ZydisDecodedOperand *src)
{
	const ZydisDecodedOperand *dr = is_dr(dst) ? dst : src, *gpr = is_dr(dst) ? src : dst;
	int ri = mmu_emul_reg_index(gpr->reg.value);

	if (gpr->type != ZYDIS_OPERAND_TYPE_REGISTER || ri < 0)
		return 0;
	return hc_dr_mov(vm, dr == dst, (unsigned)(dr->reg.value - ZYDIS_REGISTER_DR0),
			 (uint64_t *)&vm->vcpu.regs + ri);
}

/* The host's descriptor for a flat selector: what 32-bit code addresses
 * its data through (64-bit code ignores %ds and %es). A host without 32-bit
 * code has no __USER32_CS to load (and no code that would use it there). */
static uint64_t host_selector(const struct vm *vm, uint64_t sel)
{
	switch (sel & ~3ul) {
	case FLAT_RING3_DS32 & ~3ul:
		return STUB_USER_DS;
	case FLAT_RING3_CS32 & ~3ul:
		return vm->host_compat ? STUB_USER32_CS : STUB_USER_CS;
	case FLAT_RING3_CS64 & ~3ul:
		return STUB_USER_CS;
	default:
		return 0; /* the NULL selector */
	}
}

/* A segment load the host refused and Xen's GDT allows: SS takes only the
 * flat stack selector at RPL 3 (the CPL); the others any flat selector.
 * DS and ES get the host's flat descriptor of the same kind, FS and GS the
 * descriptor's base, 0 (the base of the mode the guest is in). 1 done, 0
 * the #GP stands, -1 crashed. */
static int flat_segment_load(struct vm *vm, ZydisRegister seg, uint64_t sel)
{
	sel &= 0xffff;
	if (seg == ZYDIS_REGISTER_SS ? sel != FLAT_RING3_SS64 : !is_flat_selector(sel))
		return 0;
	if (seg == ZYDIS_REGISTER_DS || seg == ZYDIS_REGISTER_ES) {
		struct stub_op op = { .kind = STUB_OP_SET_SEL, .addr = host_selector(vm, sel),
				      .prot = seg == ZYDIS_REGISTER_DS ? STUB_SEL_DS : STUB_SEL_ES };
		return vm->mmu.emit(vm->mmu.emit_ctx, &op) ? -1 : 1;
	}
	if (seg == ZYDIS_REGISTER_FS && sel) {
		vm->vcpu.fs_base = 0;
		return hc_load_base(vm, STUB_BASE_FS, 0) ? -1 : 1;
	}
	if (seg == ZYDIS_REGISTER_GS && sel) {
		*(vm->vcpu.user_mode ? &vm->vcpu.gs_base_user : &vm->vcpu.gs_base_kernel) = 0;
		return hc_apply_gs(vm) ? -1 : 1;
	}
	return 1;
}

/* pop of a flat selector: %fs and %gs in 64-bit code, any segment register
 * in 32-bit code, which addresses its stack through %esp. */
static int pop_segment(struct vm *vm, const ZydisDecodedInstruction *insn,
		       const ZydisDecodedOperand *dst)
{
	int compat = vcpu_compat(&vm->vcpu);
	uint64_t sel = 0, sp = compat ? (uint32_t)vm->vcpu.regs.rsp : vm->vcpu.regs.rsp;
	unsigned size = insn->operand_width / 8;
	int rc;

	if (dst->type != ZYDIS_OPERAND_TYPE_REGISTER ||
	    ZydisRegisterGetClass(dst->reg.value) != ZYDIS_REGCLASS_SEGMENT ||
	    mmu_copy_from_guest(vm, &sel, sp, size) ||
	    (rc = flat_segment_load(vm, dst->reg.value, sel)) <= 0)
		return 0;
	vm->vcpu.regs.rsp = compat ? (uint32_t)(sp + size) : sp + size;
	return rc;
}

/* iret and far ret whose frames hold Xen's flat selectors (traps.c); rip
 * is theirs to set, so nothing is stepped over. */
static int flat_transfer(struct vm *vm, const ZydisDecodedInstruction *insn,
			 const ZydisDecodedOperand *ops, unsigned *len)
{
	int iret = insn->mnemonic != ZYDIS_MNEMONIC_RET;
	unsigned imm = !iret && insn->operand_count && ops[0].type == ZYDIS_OPERAND_TYPE_IMMEDIATE
		       ? (unsigned)(ops[0].imm.value.u & 0xffff) : 0;

	if (!iret && insn->meta.branch_type != ZYDIS_BRANCH_TYPE_FAR)
		return 0;
	*len = 0;
	return hc_flat_return(vm, iret, insn->operand_width / 8, imm);
}

/* ljmp and lcall to Xen's flat code selectors (traps.c): the direct
 * ptr16:32 of 32-bit code, or a far pointer in memory (offset, then
 * selector). rip is theirs to set. */
static int flat_far(struct vm *vm, const ZydisDecodedInstruction *insn,
		    const ZydisDecodedOperand *ops, unsigned *len)
{
	unsigned opsize = insn->operand_width / 8;
	uint8_t ptr[10];
	uint64_t ea, off = 0;
	uint16_t sel;

	if (insn->meta.branch_type != ZYDIS_BRANCH_TYPE_FAR || (opsize != 4 && opsize != 8))
		return 0; /* near, or a 16-bit far pointer */
	if (ops[0].type == ZYDIS_OPERAND_TYPE_POINTER) {
		sel = ops[0].ptr.segment, off = ops[0].ptr.offset;
	} else if (ops[0].type == ZYDIS_OPERAND_TYPE_MEMORY &&
		   hc_operand_address(vm, insn, &ops[0], &ea) &&
		   !mmu_copy_from_guest(vm, ptr, ea, opsize + 2)) {
		memcpy(&off, ptr, opsize), memcpy(&sel, ptr + opsize, 2);
	} else {
		return 0;
	}
	*len = 0;
	return hc_flat_far(vm, insn->mnemonic == ZYDIS_MNEMONIC_CALL, sel, off, opsize, insn->length);
}

static int mov(struct vm *vm, const ZydisDecodedOperand *dst, const ZydisDecodedOperand *src)
{
	uint64_t *r = (uint64_t *)&vm->vcpu.regs;
	int ri;

	if (dst->type != ZYDIS_OPERAND_TYPE_REGISTER)
		return 0;
	if (vm->vcpu.user_mode) /* only the flat selectors, which are Xen's GDT's */
		goto segment;
	if (is_dr(dst) || is_dr(src))
		return mov_dr(vm, dst, src);
	if (ZydisRegisterGetClass(dst->reg.value) == ZYDIS_REGCLASS_CONTROL) {
		if (src->type != ZYDIS_OPERAND_TYPE_REGISTER || (ri = mmu_emul_reg_index(src->reg.value)) < 0)
			return 0;
		return write_cr(vm, dst->reg.value, r[ri]);
	}
	if (src->type == ZYDIS_OPERAND_TYPE_REGISTER &&
	    ZydisRegisterGetClass(src->reg.value) == ZYDIS_REGCLASS_CONTROL) {
		if ((ri = mmu_emul_reg_index(dst->reg.value)) < 0)
			return 0;
		r[ri] = read_cr(vm, src->reg.value);
		return 1;
	}
segment:
	if (ZydisRegisterGetClass(dst->reg.value) == ZYDIS_REGCLASS_SEGMENT &&
	    src->type == ZYDIS_OPERAND_TYPE_REGISTER && (ri = mmu_emul_reg_index(src->reg.value)) >= 0)
		return flat_segment_load(vm, dst->reg.value, r[ri]);
	return 0;
}

static int privileged(struct vm *vm, const uint8_t *bytes, size_t n, unsigned *len)
{
	ZydisDecoder dec;
	ZydisDecodedInstruction insn;
	ZydisDecodedOperand ops[ZYDIS_MAX_OPERAND_COUNT];

	ZydisDecoderInit(&dec, HC_ZYDIS_MODE(vm));
	if (!ZYAN_SUCCESS(ZydisDecoderDecodeFull(&dec, bytes, n, &insn, ops)))
		return 0;
	*len = insn.length;
	switch (insn.mnemonic) {
	case ZYDIS_MNEMONIC_CLI:
	case ZYDIS_MNEMONIC_STI:
		/* as Xen: allowed by the virtual IOPL, and then a no-op (the event
		 * mask is the guest's to set in vcpu_info) */
		return hc_iopl_ok(vm);
	case ZYDIS_MNEMONIC_MOV: return mov(vm, &ops[0], &ops[1]);
	case ZYDIS_MNEMONIC_POP: return pop_segment(vm, &insn, &ops[0]);
	case ZYDIS_MNEMONIC_IRET:
	case ZYDIS_MNEMONIC_IRETD:
	case ZYDIS_MNEMONIC_IRETQ:
	case ZYDIS_MNEMONIC_RET: return flat_transfer(vm, &insn, ops, len);
	case ZYDIS_MNEMONIC_JMP:
	case ZYDIS_MNEMONIC_CALL: return flat_far(vm, &insn, ops, len);
	default:
		break;
	}
	if (vm->vcpu.user_mode)
		return 0; /* the rest needs CPL 0: the #GP stands */
	switch (insn.mnemonic) {
	case ZYDIS_MNEMONIC_HLT: vm->stats.halts++; return 1; /* as SCHEDOP_block */
	case ZYDIS_MNEMONIC_RDMSR: return rdmsr(vm);
	case ZYDIS_MNEMONIC_WRMSR: return wrmsr(vm);
	case ZYDIS_MNEMONIC_CLTS: vm->vcpu.cr0_ts = 0; return 1;
	case ZYDIS_MNEMONIC_WBINVD: return 1; /* ignored for a domain without devices */
	default: return 0;
	}
}

/* ---- a stack pointer the host cannot resume --------------------------------
 * Linux cannot return to a process whose %rsp is not canonical: the return
 * faults #GP(0) at the next instruction, which never ran. Xen resumes such
 * a guest (an XTF test leaves %rsp non-canonical and restores it with a
 * mov). The instructions that put %rsp back are emulated, a stack access
 * is the #SS(0) it would raise; anything else is 0 (the #GP stands). */

/* The instruction accesses the stack segment at an address that is not
 * canonical: through %rsp (push, pop, call, ret, (%rsp)), or through
 * another base whose address is not canonical either. */
static int bad_stack_access(const ZydisDecodedInstruction *insn, const ZydisDecodedOperand *ops,
			    const struct stub_regs *r)
{
	const uint64_t *g = (const uint64_t *)r;

	for (unsigned i = 0; i < insn->operand_count; i++) {
		const ZydisDecodedOperand *o = &ops[i];
		int b, x;

		if (o->type != ZYDIS_OPERAND_TYPE_MEMORY || o->mem.type != ZYDIS_MEMOP_TYPE_MEM ||
		    o->mem.segment != ZYDIS_REGISTER_SS)
			continue;
		if (o->mem.base == ZYDIS_REGISTER_RSP)
			return 1;
		b = mmu_emul_reg_index(o->mem.base), x = mmu_emul_reg_index(o->mem.index);
		if (!vm_canonical((b >= 0 ? g[b] : 0) + (x >= 0 ? g[x] * o->mem.scale : 0) +
				  (uint64_t)o->mem.disp.value))
			return 1;
	}
	return 0;
}

/* mov %reg/$imm to %rsp, or lea to %rsp: the new %rsp in (v). */
static int rsp_load(const uint8_t *bytes, size_t n, const ZydisDecodedInstruction *insn,
		    const ZydisDecodedOperand *ops, const struct stub_regs *r, uint64_t *v)
{
	const uint64_t *g = (const uint64_t *)r;
	struct mmu_memop m;
	unsigned len;
	int ri;

	if (ops[0].type != ZYDIS_OPERAND_TYPE_REGISTER || ops[0].reg.value != ZYDIS_REGISTER_RSP)
		return 0;
	if (insn->mnemonic == ZYDIS_MNEMONIC_LEA) {
		if (mmu_emul_memop(bytes, n, &m, &len))
			return 0;
		m.seg = MMU_SEG_DS; /* an address, no access: no segment base, no fault */
		mmu_emul_linear(&m, r, r->rip + insn->length, 0, 0, v);
		return 1;
	}
	if (insn->mnemonic != ZYDIS_MNEMONIC_MOV)
		return 0;
	if (ops[1].type == ZYDIS_OPERAND_TYPE_IMMEDIATE) {
		*v = (uint64_t)ops[1].imm.value.s;
		return 1;
	}
	if (ops[1].type != ZYDIS_OPERAND_TYPE_REGISTER ||
	    ZydisRegisterGetWidth(ZYDIS_MACHINE_MODE_LONG_64, ops[1].reg.value) != 64 ||
	    (ri = mmu_emul_reg_index(ops[1].reg.value)) < 0)
		return 0;
	*v = g[ri];
	return 1;
}

int hc_noncanonical_rsp(struct vm *vm)
{
	ZydisDecoder dec;
	ZydisDecodedInstruction insn;
	ZydisDecodedOperand ops[ZYDIS_MAX_OPERAND_COUNT];
	struct stub_regs *r = &vm->vcpu.regs;
	uint8_t bytes[15];
	size_t n;
	uint64_t v;

	if (vcpu_compat(&vm->vcpu) || vm_canonical(r->rsp) || !(n = mmu_fetch_insn(vm, r->rip, bytes)))
		return 0; /* 32-bit code uses %esp */
	ZydisDecoderInit(&dec, ZYDIS_MACHINE_MODE_LONG_64, ZYDIS_STACK_WIDTH_64);
	if (!ZYAN_SUCCESS(ZydisDecoderDecodeFull(&dec, bytes, n, &insn, ops)))
		return 0;
	if (rsp_load(bytes, n, &insn, ops, r, &v)) {
		r->rsp = v;
		r->rip += insn.length;
		vm->stats.privops++;
		return 1;
	}
	return bad_stack_access(&insn, ops, r) ? hc_exception(vm, X86_SS, 0, 0) : 0;
}

/* The value a load of (size) bytes at (addr) reads, from the M2P or
 * through the guest's tables; 0 when it cannot be had. */
static int load_value(struct vm *vm, uint64_t addr, unsigned size, uint64_t *v)
{
	*v = 0;
	if (addr >= XEN_RO_MPT_BASE) {
		uint64_t idx = (addr - XEN_RO_MPT_BASE) / 8;
		if (idx >= vm->nr_frames || (addr & (size - 1)))
			return 0;
		*v = pfn_x(mmu_m2p(vm, _mfn(idx))) >> ((addr & 7) * 8);
		if (size == 4)
			*v &= 0xffffffffull;
		return 1;
	}
	return mmu_copy_from_guest(vm, v, addr, size) == 0;
}

int hc_emulate_load(struct vm *vm, uint64_t addr)
{
	ZydisDecoder dec;
	ZydisDecodedInstruction insn;
	ZydisDecodedOperand ops[ZYDIS_MAX_OPERAND_COUNT];
	uint8_t bytes[15];
	size_t n = mmu_fetch_insn(vm, vm->vcpu.regs.rip, bytes);
	uint64_t v;
	int ri;

	ZydisDecoderInit(&dec, ZYDIS_MACHINE_MODE_LONG_64, ZYDIS_STACK_WIDTH_64);
	if (!n || vcpu_compat(&vm->vcpu) || /* the M2P is above 4 GiB; low pages: 64-bit code only */
	    !ZYAN_SUCCESS(ZydisDecoderDecodeFull(&dec, bytes, n, &insn, ops)) ||
	    insn.mnemonic != ZYDIS_MNEMONIC_MOV || ops[0].type != ZYDIS_OPERAND_TYPE_REGISTER ||
	    ops[1].type != ZYDIS_OPERAND_TYPE_MEMORY || (ops[1].size != 32 && ops[1].size != 64) ||
	    (ri = mmu_emul_reg_index(ops[0].reg.value)) < 0 ||
	    !load_value(vm, addr, ops[1].size / 8, &v))
		return 0;
	((uint64_t *)&vm->vcpu.regs)[ri] = v; /* a 32-bit load zero-extends too */
	vm->vcpu.regs.rip += insn.length;
	vm->stats.emulated_loads++;
	return 1;
}

int hc_privop(struct vm *vm, int undefined_opcode)
{
	uint8_t bytes[15];
	size_t n;
	unsigned len = 0;
	int rc;

	if (!(n = mmu_fetch_insn(vm, vm->vcpu.regs.rip, bytes)))
		return 0;
	if (undefined_opcode) { /* in both modes, as Xen's emulate_forced_invalid_op */
		if (n < sizeof(forced_prefix) || memcmp(bytes, forced_prefix, sizeof(forced_prefix)))
			return 0;
		cpuid(vm);
		len = sizeof(forced_prefix);
		rc = 1;
	} else if ((rc = hc_emulate_io(vm, bytes, n)) != 0) {
		if (rc > 0)
			vm->stats.privops++;
		return rc; /* it moved rip itself */
	} else {
		rc = privileged(vm, bytes, n, &len);
	}
	if (rc == HC_PRIVOP_DELIVERED)
		return 1; /* the emulation raised an exception: the guest is at its handler */
	if (rc > 0) {
		vm->vcpu.regs.rip += len;
		vm->stats.privops++;
	}
	return rc;
}
