/* emulate.c - decode (Zydis) and emulate a store into a page-table entry. */
#include "mmu/emulate.h"
#include "vm.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <Zydis/Zydis.h>

#define FLAG_CF (1ull << 0)
#define FLAG_PF (1ull << 2)
#define FLAG_AF (1ull << 4)
#define FLAG_ZF (1ull << 6)
#define FLAG_SF (1ull << 7)
#define FLAG_OF (1ull << 11)
#define ARITH_FLAGS (FLAG_CF | FLAG_PF | FLAG_AF | FLAG_ZF | FLAG_SF | FLAG_OF)

/* struct stub_regs index of a general register, or -1. */
int mmu_emul_reg_index(int zydis_register)
{
	ZydisRegister r = (ZydisRegister)zydis_register;
	static const struct { ZydisRegister reg; int idx; } map[] = {
		{ ZYDIS_REGISTER_R8, 0 }, { ZYDIS_REGISTER_R9, 1 }, { ZYDIS_REGISTER_R10, 2 },
		{ ZYDIS_REGISTER_R11, 3 }, { ZYDIS_REGISTER_R12, 4 }, { ZYDIS_REGISTER_R13, 5 },
		{ ZYDIS_REGISTER_R14, 6 }, { ZYDIS_REGISTER_R15, 7 }, { ZYDIS_REGISTER_RDI, 8 },
		{ ZYDIS_REGISTER_RSI, 9 }, { ZYDIS_REGISTER_RBP, 10 }, { ZYDIS_REGISTER_RBX, 11 },
		{ ZYDIS_REGISTER_RDX, 12 }, { ZYDIS_REGISTER_RAX, 13 }, { ZYDIS_REGISTER_RCX, 14 },
		{ ZYDIS_REGISTER_RSP, 15 },
	};
	ZydisRegister big = ZydisRegisterGetLargestEnclosing(ZYDIS_MACHINE_MODE_LONG_64, r);

	for (unsigned i = 0; i < sizeof(map) / sizeof(*map); i++)
		if (map[i].reg == big)
			return map[i].idx;
	return -1;
}

static int decode_mode(const uint8_t *bytes, size_t n, int compat, ZydisDecodedInstruction *insn,
		       ZydisDecodedOperand ops[ZYDIS_MAX_OPERAND_COUNT])
{
	ZydisDecoder dec;

	if (compat)
		ZydisDecoderInit(&dec, ZYDIS_MACHINE_MODE_LONG_COMPAT_32, ZYDIS_STACK_WIDTH_32);
	else
		ZydisDecoderInit(&dec, ZYDIS_MACHINE_MODE_LONG_64, ZYDIS_STACK_WIDTH_64);
	return ZYAN_SUCCESS(ZydisDecoderDecodeFull(&dec, bytes, n, insn, ops)) ? 0 : -1;
}

static int decode(const uint8_t *bytes, size_t n, ZydisDecodedInstruction *insn,
		  ZydisDecodedOperand ops[ZYDIS_MAX_OPERAND_COUNT])
{
	return decode_mode(bytes, n, 0, insn, ops);
}

unsigned mmu_disassemble(const uint8_t *bytes, size_t n, uint64_t rip, int compat, char *buf,
			 size_t len)
{
	ZydisDecodedInstruction insn;
	ZydisDecodedOperand ops[ZYDIS_MAX_OPERAND_COUNT];
	ZydisFormatter fmt;

	if (decode_mode(bytes, n, compat, &insn, ops)) {
		snprintf(buf, len, "(bad)");
		return 0;
	}
	ZydisFormatterInit(&fmt, ZYDIS_FORMATTER_STYLE_ATT);
	if (!ZYAN_SUCCESS(ZydisFormatterFormatInstruction(&fmt, &insn, ops, insn.operand_count_visible,
							  buf, len, rip, NULL)))
		snprintf(buf, len, "(unformattable)");
	return insn.length;
}

static int store_op(ZydisMnemonic m, enum mmu_store_op *op)
{
	switch (m) {
	case ZYDIS_MNEMONIC_MOV: *op = STORE_MOV; return 0;
	case ZYDIS_MNEMONIC_XCHG: *op = STORE_XCHG; return 0;
	case ZYDIS_MNEMONIC_CMPXCHG: *op = STORE_CMPXCHG; return 0;
	case ZYDIS_MNEMONIC_OR: *op = STORE_OR; return 0;
	case ZYDIS_MNEMONIC_AND: *op = STORE_AND; return 0;
	case ZYDIS_MNEMONIC_BTS: *op = STORE_BTS; return 0;
	case ZYDIS_MNEMONIC_BTR: *op = STORE_BTR; return 0;
	default: return -1;
	}
}

int mmu_emul_decode(const uint8_t *bytes, size_t n, uint64_t rip, struct mmu_store *st)
{
	ZydisDecodedInstruction insn;
	ZydisDecodedOperand ops[ZYDIS_MAX_OPERAND_COUNT];
	const ZydisDecodedOperand *dst, *src;

	memset(st, 0, sizeof(*st));
	st->len = mmu_disassemble(bytes, n, rip, 0, st->text, sizeof(st->text));
	if (!st->len || decode(bytes, n, &insn, ops) || store_op(insn.mnemonic, &st->op) ||
	    insn.operand_count_visible != 2)
		return -EOPNOTSUPP;
	dst = &ops[0], src = &ops[1];
	if (insn.mnemonic == ZYDIS_MNEMONIC_XCHG && dst->type != ZYDIS_OPERAND_TYPE_MEMORY)
		dst = &ops[1], src = &ops[0]; /* xchg reg, mem */
	if (dst->type != ZYDIS_OPERAND_TYPE_MEMORY || (dst->size != 32 && dst->size != 64))
		return -EOPNOTSUPP;
	st->size = dst->size / 8;
	st->locked = !!(insn.attributes & ZYDIS_ATTRIB_HAS_LOCK);
	st->src = -1;
	if (src->type == ZYDIS_OPERAND_TYPE_REGISTER) {
		st->src = mmu_emul_reg_index(src->reg.value);
		if (st->src < 0)
			return -EOPNOTSUPP;
	} else if (src->type == ZYDIS_OPERAND_TYPE_IMMEDIATE) {
		st->imm = (uint64_t)src->imm.value.s;
	} else {
		return -EOPNOTSUPP;
	}
	if ((st->op == STORE_XCHG || st->op == STORE_CMPXCHG) && st->src < 0)
		return -EOPNOTSUPP;
	return 0;
}

static uint64_t mask_of(unsigned size) { return size == 8 ? ~0ull : 0xffffffffull; }

static int parity(uint64_t v)
{
	return !(__builtin_popcountll(v & 0xff) & 1);
}

/* Flags of a logical result (or, and): CF = OF = 0. */
static uint64_t logic_flags(uint64_t res, unsigned size)
{
	uint64_t f = 0;

	if (!(res & mask_of(size)))
		f |= FLAG_ZF;
	if (res >> (size * 8 - 1) & 1)
		f |= FLAG_SF;
	if (parity(res))
		f |= FLAG_PF;
	return f;
}

/* Flags of a - b (cmpxchg compares the accumulator with memory). */
static uint64_t sub_flags(uint64_t a, uint64_t b, unsigned size)
{
	uint64_t m = mask_of(size), r = (a - b) & m, sign = 1ull << (size * 8 - 1), f;

	a &= m, b &= m;
	f = logic_flags(r, size);
	if (a < b)
		f |= FLAG_CF;
	if (((a ^ b) & (a ^ r)) & sign)
		f |= FLAG_OF;
	if (((a ^ b ^ r) >> 4) & 1)
		f |= FLAG_AF;
	return f;
}

static void set_flags(struct stub_regs *regs, uint64_t flags, uint64_t which)
{
	regs->eflags = (regs->eflags & ~which) | (flags & which);
}

/* Write a register as an instruction of (size) would: 32-bit writes zero
 * the upper half. */
static void set_reg(uint64_t *r, int idx, uint64_t v, unsigned size)
{
	r[idx] = v & mask_of(size);
}

int mmu_emul_apply(const struct mmu_store *st, uint64_t addr, uint64_t old,
		   struct stub_regs *regs, uint64_t *val)
{
	uint64_t *r = (uint64_t *)regs;
	unsigned shift = (unsigned)(addr & 7) * 8;
	uint64_t m = mask_of(st->size), cur = (old >> shift) & m;
	uint64_t src = (st->src >= 0 ? r[st->src] : st->imm) & m, res = cur;
	int write = 1;

	if (addr & (st->size - 1))
		return -EOPNOTSUPP;
	switch (st->op) {
	case STORE_MOV:
		res = src;
		break;
	case STORE_XCHG:
		res = src;
		set_reg(r, st->src, cur, st->size);
		break;
	case STORE_CMPXCHG:
		set_flags(regs, sub_flags(r[13], cur, st->size), ARITH_FLAGS);
		if ((r[13] & m) == cur) {
			res = src;
		} else {
			set_reg(r, 13, cur, st->size); /* rax gets the value found */
			write = 0;
		}
		break;
	case STORE_OR:
	case STORE_AND:
		res = st->op == STORE_OR ? cur | src : cur & src;
		set_flags(regs, logic_flags(res, st->size), ARITH_FLAGS);
		break;
	case STORE_BTS:
	case STORE_BTR: {
		unsigned bit = (unsigned)(src % (st->size * 8));
		if (st->src >= 0 && src >= st->size * 8)
			return -EOPNOTSUPP; /* a bit string beyond the entry */
		set_flags(regs, (cur >> bit) & 1 ? FLAG_CF : 0, FLAG_CF);
		res = st->op == STORE_BTS ? cur | (1ull << bit) : cur & ~(1ull << bit);
		break;
	}
	}
	*val = (old & ~(m << shift)) | ((res & m) << shift);
	return write;
}

static int seg_of(ZydisRegister r, enum mmu_seg *seg)
{
	switch (r) {
	case ZYDIS_REGISTER_ES: *seg = MMU_SEG_ES; return 0;
	case ZYDIS_REGISTER_CS: *seg = MMU_SEG_CS; return 0;
	case ZYDIS_REGISTER_SS: *seg = MMU_SEG_SS; return 0;
	case ZYDIS_REGISTER_DS: *seg = MMU_SEG_DS; return 0;
	case ZYDIS_REGISTER_FS: *seg = MMU_SEG_FS; return 0;
	case ZYDIS_REGISTER_GS: *seg = MMU_SEG_GS; return 0;
	default: return -1;
	}
}

/* A base or index register: its stub_regs index, MMU_REG_RIP, or -1 for
 * none; -2 for one pvmm cannot read. */
static int addr_reg(ZydisRegister r)
{
	if (r == ZYDIS_REGISTER_NONE)
		return -1;
	if (r == ZYDIS_REGISTER_RIP || r == ZYDIS_REGISTER_EIP)
		return MMU_REG_RIP;
	int idx = mmu_emul_reg_index(r);
	return idx < 0 ? -2 : idx;
}

int mmu_emul_memop(const uint8_t *bytes, size_t n, struct mmu_memop *m, unsigned *len)
{
	ZydisDecodedInstruction insn;
	ZydisDecodedOperand ops[ZYDIS_MAX_OPERAND_COUNT];

	memset(m, 0, sizeof(*m));
	if (decode(bytes, n, &insn, ops))
		return -EOPNOTSUPP;
	for (unsigned i = 0; i < insn.operand_count; i++) {
		const ZydisDecodedOperand *op = &ops[i];

		if (op->type != ZYDIS_OPERAND_TYPE_MEMORY ||
		    (op->mem.type != ZYDIS_MEMOP_TYPE_MEM && op->mem.type != ZYDIS_MEMOP_TYPE_AGEN))
			continue;
		/* Zydis applies 64-bit mode's rule: only FS and GS overrides count */
		if (seg_of(op->mem.segment, &m->seg))
			return -EOPNOTSUPP;
		m->base = addr_reg(op->mem.base);
		m->index = addr_reg(op->mem.index);
		if (m->base == -2 || m->index == -2 || m->index == MMU_REG_RIP)
			return -EOPNOTSUPP;
		m->scale = op->mem.scale ? op->mem.scale : 1;
		m->disp = op->mem.disp.value;
		m->addr_bytes = insn.address_width == 32 ? 4 : 8;
		m->size = op->size / 8;
		*len = insn.length;
		return 0;
	}
	return -EOPNOTSUPP;
}

int mmu_emul_linear(const struct mmu_memop *m, const struct stub_regs *regs, uint64_t rip_next,
		    uint64_t fs_base, uint64_t gs_base, uint64_t *linear)
{
	const uint64_t *r = (const uint64_t *)regs;
	uint64_t ea = (uint64_t)m->disp, base;

	if (m->base == MMU_REG_RIP)
		ea += rip_next;
	else if (m->base >= 0)
		ea += r[m->base];
	if (m->index >= 0)
		ea += r[m->index] * m->scale;
	if (m->addr_bytes == 4)
		ea &= 0xffffffffull;
	base = m->seg == MMU_SEG_FS ? fs_base : m->seg == MMU_SEG_GS ? gs_base : 0;
	*linear = base + ea;
	if (vm_canonical(*linear))
		return 0;
	return m->seg == MMU_SEG_SS ? X86_SS : X86_GP;
}

int mmu_emul_writes(const uint8_t *bytes, size_t n)
{
	ZydisDecodedInstruction insn;
	ZydisDecodedOperand ops[ZYDIS_MAX_OPERAND_COUNT];

	if (decode(bytes, n, &insn, ops))
		return -EOPNOTSUPP;
	for (unsigned i = 0; i < insn.operand_count; i++)
		if (ops[i].type == ZYDIS_OPERAND_TYPE_MEMORY && ops[i].mem.type == ZYDIS_MEMOP_TYPE_MEM &&
		    (ops[i].actions & ZYDIS_OPERAND_ACTION_MASK_WRITE))
			return 1;
	return 0;
}
