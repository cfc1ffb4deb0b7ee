/*
 * emulate.h - decoding and emulating a guest store into a page-table entry.
 *
 * Pure code (Zydis decodes): no guest memory access; the caller fetches the
 * instruction bytes and applies the result through the MMU's rules.
 * Supported, as Xen's PV page-table write emulation needs: mov (register or
 * immediate), xchg, cmpxchg, or, and, bts, btr, with or without lock, of 4
 * or 8 bytes, naturally aligned.
 *
 * Memory operands and segments: a store or load that faulted with #PF is
 * emulated at the fault's address (cr2), the linear address the hardware
 * computed with the segment base already added, so those paths need no
 * segment logic. An instruction pvmm emulates from a #GP before any memory
 * access (ins/outs) computes its linear addresses itself with
 * mmu_emul_memop() and mmu_emul_linear(): 64-bit mode's rules, where only
 * FS and GS have a base, ES/CS/SS/DS overrides are ignored, and a
 * non-canonical address faults #SS when the operand's segment is SS (a base
 * of %rsp or %rbp without an FS/GS override) and #GP otherwise.
 */
#ifndef PVMM_EMULATE_H
#define PVMM_EMULATE_H

#include <stddef.h>
#include <stdint.h>

#include "stub_abi.h"

enum mmu_store_op { STORE_MOV, STORE_XCHG, STORE_CMPXCHG, STORE_OR, STORE_AND, STORE_BTS,
		    STORE_BTR };

struct mmu_store {
	enum mmu_store_op op;
	unsigned len;       /* instruction length */
	unsigned size;      /* bytes stored: 4 or 8 */
	int src;            /* source register: index into struct stub_regs, or -1 */
	uint64_t imm;       /* immediate source (sign-extended), when src < 0 */
	int locked;
	char text[96];      /* the instruction disassembled, for messages and traces */
};

/* Decode the instruction in (bytes, n) at (rip). Returns 0, or -EOPNOTSUPP
 * (with st->text set when it decoded at all) for anything it cannot
 * emulate as a page-table store. */
int mmu_emul_decode(const uint8_t *bytes, size_t n, uint64_t rip, struct mmu_store *st);

/* Disassemble one instruction of 64-bit code (or of 32-bit code when
 * (compat)) into (buf); returns its length, 0 when the bytes are no
 * instruction. */
unsigned mmu_disassemble(const uint8_t *bytes, size_t n, uint64_t rip, int compat, char *buf,
			 size_t len);

/* The struct stub_regs index (as uint64_t[]) of the 64-bit register that
 * encloses Zydis register (zydis_register), or -1 for other registers. */
int mmu_emul_reg_index(int zydis_register);

/* Apply (st) to the 8-byte entry (old) that contains (addr): computes the
 * new entry, updates the source/accumulator register and the flags in
 * (regs) as the instruction would. Returns 1 when the entry is written, 0
 * when it is not (a failed cmpxchg), -EOPNOTSUPP for a misaligned store. */
int mmu_emul_apply(const struct mmu_store *st, uint64_t addr, uint64_t old,
		   struct stub_regs *regs, uint64_t *val);

/* Whether the instruction in (bytes, n) writes memory through an explicit
 * or implicit operand (push, call, stos, ...): 1, 0, or -EOPNOTSUPP when
 * the bytes are no instruction. */
int mmu_emul_writes(const uint8_t *bytes, size_t n);

/* The effective segment of a memory operand in 64-bit mode. */
enum mmu_seg { MMU_SEG_ES, MMU_SEG_CS, MMU_SEG_SS, MMU_SEG_DS, MMU_SEG_FS, MMU_SEG_GS };
#define MMU_REG_RIP 16 /* base of a rip-relative operand (after struct stub_regs' 16) */

/* One memory operand, decoded: linear = seg base + (base + index * scale +
 * disp), the sum truncated to (addr_bytes), 4 with an address-size
 * override. base and index are struct stub_regs indices, -1 for none. */
struct mmu_memop {
	enum mmu_seg seg;
	int base, index;
	unsigned scale;
	int64_t disp;
	unsigned addr_bytes;
	unsigned size;      /* bytes accessed */
};

/* Decode the instruction in (bytes, n) and its first memory operand,
 * visible or implicit (outs: %ds:(%rsi), ins: %es:(%rdi)), or lea's. Returns 0 and
 * the instruction's length in (len), or -EOPNOTSUPP: no instruction, no
 * memory operand, or a base or index pvmm has no register for. */
int mmu_emul_memop(const uint8_t *bytes, size_t n, struct mmu_memop *m, unsigned *len);

/* The linear address of (m) with registers (regs), (rip_next) the address
 * of the next instruction (for rip-relative operands) and the FS and GS
 * bases in force. Returns 0 with (*linear) set, or the vector of the fault
 * a non-canonical address raises: X86_SS for an SS operand, else X86_GP
 * (both with error code 0). */
int mmu_emul_linear(const struct mmu_memop *m, const struct stub_regs *regs, uint64_t rip_next,
		    uint64_t fs_base, uint64_t gs_base, uint64_t *linear);

#endif
