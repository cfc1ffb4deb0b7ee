/* debugreg.c - the vCPU's debug registers by Xen's rules for a PV guest:
 * set_debugreg and get_debugreg, `mov %drN` in the privileged-instruction
 * emulator (x86emul_{read,write}_dr), %dr6 as pv_inject_DB merges it, and
 * the hardware breakpoints the host must arm for %dr7 (vmm/debugregs.c
 * arms them in the guest process). */
#include "hypercalls/hc.h"
#include "mmu/emulate.h"
#include "mmu/mmu.h"

#include <cpuid.h>
#include <stdio.h>
#include <string.h>
#include <Zydis/Zydis.h>

#define DR6_ZEROS 0x00001000u /* %dr6 bits that always read 0 */
#define DR7_ZEROS 0x0000d000u /* %dr7 bits that always read 0 */
#define FEAT_KNOWN 0x80000000u

static uint32_t dr6_of(const struct vcpu_dr *d)
{
	return d->dr6 ? d->dr6 : X86_DR6_DEFAULT;
}

static uint32_t dr7_of(const struct vcpu_dr *d)
{
	return d->dr7 ? d->dr7 : X86_DR7_DEFAULT;
}

static int cr4_de(const struct vm *vm)
{
	return !!(vm->vcpu.cr4 & X86_CR4_DE);
}

/* RTM and bus-lock detection as the guest's CPUID shows them (pvmm passes
 * leaf 7 through), read once. */
static unsigned features(struct vm *vm)
{
	unsigned a, b, c, d, f = FEAT_KNOWN;

	if (vm->vcpu.dr.feat & FEAT_KNOWN)
		return vm->vcpu.dr.feat;
	if (__get_cpuid_max(0, NULL) >= 7) {
		__cpuid_count(7, 0, a, b, c, d);
		f |= (b & (1u << 11) ? HC_DR_RTM : 0) | (c & (1u << 24) ? HC_DR_BLD : 0);
	}
	(void)a, (void)d;
	return vm->vcpu.dr.feat = f;
}

uint32_t hc_dr_adj_dr6(uint32_t dr6, unsigned feat)
{
	uint32_t ones = X86_DR6_DEFAULT;

	/* the bits of newer features read 1 when nothing happened, unless
	 * the CPU has them: then they report */
	if (feat & HC_DR_RTM)
		ones &= ~X86_DR6_RTM;
	if (feat & HC_DR_BLD)
		ones &= ~X86_DR6_BLD;
	return (dr6 | ones) & ~DR6_ZEROS;
}

uint32_t hc_dr_adj_dr7(uint32_t dr7, unsigned feat)
{
	uint32_t zeros = DR7_ZEROS | (feat & HC_DR_RTM ? 0 : X86_DR7_RTM);

	return (dr7 & ~zeros) | X86_DR7_DEFAULT;
}

uint32_t hc_dr_merge_dr6(uint32_t dr6, uint32_t hit, unsigned feat)
{
	/* in positive polarity: the breakpoint bits are replaced, the others
	 * (BS, BD, BT) accumulate until the guest clears them */
	dr6 ^= X86_DR6_DEFAULT;
	dr6 = (dr6 & ~X86_DR6_BP_MASK) | hit;
	return hc_dr_adj_dr6(dr6 ^ X86_DR6_DEFAULT, feat);
}

int hc_dr_addr_ok(uint64_t addr)
{
	if (addr >= HOLE_BASE && addr < HOLE_END)
		return 0; /* pvmm's, as Xen's own range is Xen's */
	return addr < HOLE_END || addr >= XEN_HYPERVISOR_VIRT_END;
}

int hc_dr_read(const struct vm *vm, unsigned reg, uint64_t *value)
{
	const struct vcpu_dr *d = &vm->vcpu.dr;

	switch (reg) {
	case 0: case 1: case 2: case 3:
		*value = d->addr[reg];
		return 0;
	case 4: case 6: /* %dr4 and %dr5 alias %dr6 and %dr7 without CR4.DE */
		if (reg == 4 && cr4_de(vm))
			return -XEN_ENODEV;
		*value = dr6_of(d);
		return 0;
	case 5: case 7:
		if (reg == 5 && cr4_de(vm))
			return -XEN_ENODEV;
		*value = dr7_of(d) | d->dr7_emul;
		return 0;
	default:
		return -XEN_ENODEV;
	}
}

/* %dr7: GD is Xen's; an enabled %dr7 may hold I/O breakpoints only with
 * CR4.DE, and their enables are kept apart (Xen emulates them on port
 * accesses it emulates; pvmm emulates none). A refused value changes
 * nothing. */
static int write_dr7(struct vm *vm, uint64_t value)
{
	struct vcpu_dr *d = &vm->vcpu.dr;
	uint32_t v, io = 0;

	if (value != (uint32_t)value)
		return -XEN_EINVAL;
	v = hc_dr_adj_dr7((uint32_t)value, features(vm));
	if (v & X86_DR7_GD)
		return -XEN_EPERM;
	for (unsigned i = 0; (v & X86_DR7_ENABLES) && i < 4; i++) {
		if (((v >> (16 + 4 * i)) & 3) != X86_DR7_RW_IO)
			continue;
		if (!cr4_de(vm))
			return -XEN_EPERM;
		io |= v & (3u << (2 * i));
	}
	d->dr7_emul = io;
	d->dr7 = v & ~io;
	d->changed = 1;
	return 0;
}

int hc_dr_write(struct vm *vm, unsigned reg, uint64_t value)
{
	struct vcpu_dr *d = &vm->vcpu.dr;

	switch (reg) {
	case 0: case 1: case 2: case 3:
		if (!hc_dr_addr_ok(value))
			return -XEN_EPERM;
		d->addr[reg] = value;
		d->changed = 1;
		return 0;
	case 4: case 6:
		if (reg == 4 && cr4_de(vm))
			return -XEN_ENODEV;
		if (value != (uint32_t)value)
			return -XEN_EINVAL;
		d->dr6 = hc_dr_adj_dr6((uint32_t)value, features(vm));
		return 0;
	case 5: case 7:
		if (reg == 5 && cr4_de(vm))
			return -XEN_ENODEV;
		return write_dr7(vm, value);
	default:
		return -XEN_ENODEV;
	}
}

/* HYPERVISOR_set_debugreg(int reg, unsigned long value) */
int64_t hc_set_debugreg(struct vm *vm, const uint64_t a[5])
{
	return hc_dr_write(vm, (uint32_t)a[0], a[1]);
}

/* HYPERVISOR_get_debugreg(int reg): the value, or -ENODEV */
int64_t hc_get_debugreg(struct vm *vm, const uint64_t a[5])
{
	uint64_t v;
	int rc = hc_dr_read(vm, (uint32_t)a[0], &v);

	return rc ? rc : (int64_t)v;
}

int hc_dr_mov(struct vm *vm, int write, unsigned reg, uint64_t *gpr)
{
	int rc = write ? hc_dr_write(vm, reg, *gpr) : hc_dr_read(vm, reg, gpr);
	char msg[160];

	if (!rc)
		return 1;
	if (rc != -XEN_ENODEV)
		return 0; /* #GP(0) */
	rc = hc_inject(vm, X86_UD, 0, 0, 0);
	if (rc)
		return rc > 0 ? HC_PRIVOP_DELIVERED : -1;
	snprintf(msg, sizeof(msg), "guest mov %s %%dr%u at rip %#llx: invalid opcode (#UD) and no "
		 "handler in its trap table", write ? "to" : "from", reg,
		 (unsigned long long)vm->vcpu.regs.rip);
	vm_end_domain(vm, VM_CRASH, "%s", msg);
	return -1;
}

int hc_dr_inject(struct vm *vm, uint32_t hit)
{
	struct vcpu_dr *d = &vm->vcpu.dr;

	d->dr6 = hc_dr_merge_dr6(dr6_of(d), hit & (X86_DR6_BP_MASK | X86_DR6_BD | X86_DR6_BS |
						  X86_DR6_BT), features(vm));
	/* the frame holds RF as the hardware pushes it for #DB: clear */
	vm->vcpu.regs.eflags &= ~(uint64_t)X86_EFLAGS_RF;
	return hc_inject(vm, X86_DB, 0, 0, 0);
}

/* Bytes a breakpoint of dr7's LEN encoding covers: 1, 2, 8 (10b), 4. */
static uint64_t bp_width(unsigned len)
{
	static const uint64_t width[4] = { 1, 2, 8, 4 };

	return width[len & 3];
}

void hc_dr_host_config(const struct vm *vm, struct vm_hostdr *h)
{
	const struct vcpu_dr *d = &vm->vcpu.dr;
	uint32_t dr7 = dr7_of(d);

	memset(h, 0, sizeof(*h));
	for (unsigned i = 0; i < 4; i++) {
		unsigned rw = (dr7 >> (16 + 4 * i)) & 3, len = (dr7 >> (18 + 4 * i)) & 3;

		if (!(dr7 & (3u << (2 * i))) || rw == X86_DR7_RW_IO || d->addr[i] >= HOLE_BASE)
			continue; /* off, emulated, or where no guest code or data can be */
		if (rw == X86_DR7_RW_EXEC)
			len = 0; /* the SDM wants 1 byte; Linux insists */
		h->addr[i] = d->addr[i] & ~(bp_width(len) - 1); /* the low bits are ignored */
		h->dr7 |= 1u << (2 * i) | rw << (16 + 4 * i) | len << (18 + 4 * i);
	}
}

int hc_dr_watched(const struct vm *vm, uint64_t addr, unsigned size, int write)
{
	struct vm_hostdr h;
	int hit = 0;

	hc_dr_host_config(vm, &h);
	for (unsigned i = 0; i < 4; i++) {
		unsigned rw = (h.dr7 >> (16 + 4 * i)) & 3;
		uint64_t width = bp_width((h.dr7 >> (18 + 4 * i)) & 3);

		if (!(h.dr7 & (1u << (2 * i))) || rw == X86_DR7_RW_EXEC ||
		    (rw == X86_DR7_RW_WRITE && !write))
			continue;
		if (addr < h.addr[i] + width && h.addr[i] < addr + size)
			hit |= 1 << i;
	}
	return hit;
}

/* ---- the mov ss shadow ------------------------------------------------------ */

static uint64_t reg_value(const struct vm *vm, ZydisRegister reg, int *ok)
{
	int ri = mmu_emul_reg_index(reg);

	*ok &= ri >= 0;
	return ri >= 0 ? ((const uint64_t *)&vm->vcpu.regs)[ri] : 0;
}

/* The address a memory operand names: base (or rip), index * scale,
 * displacement, the FS/GS base of an override. 0 when it uses a register
 * pvmm does not model. */
int hc_operand_address(const struct vm *vm, const ZydisDecodedInstruction *in,
		       const ZydisDecodedOperand *op, uint64_t *ea)
{
	const struct vcpu *v = &vm->vcpu;
	uint64_t a = (uint64_t)op->mem.disp.value;
	int ok = 1;

	if (op->mem.base == ZYDIS_REGISTER_RIP)
		a += v->regs.rip + in->length;
	else if (op->mem.base != ZYDIS_REGISTER_NONE)
		a += reg_value(vm, op->mem.base, &ok);
	if (op->mem.index != ZYDIS_REGISTER_NONE)
		a += reg_value(vm, op->mem.index, &ok) * op->mem.scale;
	if (op->mem.segment == ZYDIS_REGISTER_FS)
		a += v->fs_base;
	else if (op->mem.segment == ZYDIS_REGISTER_GS)
		a += v->user_mode ? v->gs_base_user : v->gs_base_kernel;
	*ea = in->address_width == 32 ? (uint32_t)a : a;
	return ok;
}

/* The selector (*sel) and where it was read from (*ea, or ~0 from a register). */
static int mov_ss_source(struct vm *vm, const ZydisDecodedInstruction *in,
			 const ZydisDecodedOperand *src, uint16_t *sel, uint64_t *ea)
{
	int ok = 1;

	*ea = ~0ull;
	if (src->type == ZYDIS_OPERAND_TYPE_REGISTER) {
		*sel = (uint16_t)reg_value(vm, src->reg.value, &ok);
		return ok;
	}
	return src->type == ZYDIS_OPERAND_TYPE_MEMORY && hc_operand_address(vm, in, src, ea) &&
	       !mmu_copy_from_guest(vm, sel, *ea, sizeof(*sel));
}

int hc_mov_ss(struct vm *vm)
{
	ZydisDecoder dec;
	ZydisDecodedInstruction in;
	ZydisDecodedOperand ops[ZYDIS_MAX_OPERAND_COUNT];
	uint8_t bytes[15];
	size_t n = mmu_fetch_insn(vm, vm->vcpu.regs.rip, bytes);
	uint64_t ea;
	uint16_t sel;
	int held;

	ZydisDecoderInit(&dec, HC_ZYDIS_MODE(vm));
	if (!n || !ZYAN_SUCCESS(ZydisDecoderDecodeFull(&dec, bytes, n, &in, ops)) ||
	    in.mnemonic != ZYDIS_MNEMONIC_MOV || ops[0].type != ZYDIS_OPERAND_TYPE_REGISTER ||
	    ops[0].reg.value != ZYDIS_REGISTER_SS || !mov_ss_source(vm, &in, &ops[1], &sel, &ea))
		return 0;
	if (sel != FLAT_RING3_SS64 && (vm->vcpu.user_mode || sel != (FLAT_RING3_SS64 & ~3u)))
		return 0; /* the host's own selectors load natively; others fault as they did */
	vm->vcpu.regs.rip += in.length;
	vm->stats.privops++;
	held = ea == ~0ull ? 0 : hc_dr_watched(vm, ea, sizeof(sel), 0);
	if (held) {
		vm->vcpu.dr.held = (uint32_t)held;
		vm->vcpu.dr.held_tf = !(vm->vcpu.regs.eflags & X86_EFLAGS_TF);
		vm->vcpu.regs.eflags |= X86_EFLAGS_TF;
	}
	return 1;
}

uint32_t hc_dr_shadow_end(struct vm *vm, int stepped, int *pvmm_tf)
{
	struct vcpu_dr *d = &vm->vcpu.dr;
	uint32_t held = d->held;

	*pvmm_tf = d->held_tf;
	if (!held)
		return 0;
	if (d->held_tf)
		vm->vcpu.regs.eflags &= ~(uint64_t)X86_EFLAGS_TF;
	d->held = 0;
	d->held_tf = 0;
	return stepped ? held : 0;
}
