/*
 * emulate.h - decoding and emulating a guest store into a page-table entry.
 *
 * Pure code (Zydis decodes): no guest memory access; the caller fetches the
 * instruction bytes and applies the result through the MMU's rules.
 * Supported, as Xen's PV page-table write emulation needs: mov (register or
 * immediate), xchg, cmpxchg, or, and, bts, btr, with or without lock, of 4
 * or 8 bytes, naturally aligned.
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

/* Disassemble one instruction into (buf); returns its length, 0 when the
 * bytes are no instruction. */
unsigned mmu_disassemble(const uint8_t *bytes, size_t n, uint64_t rip, char *buf, size_t len);

/* The struct stub_regs index (as uint64_t[]) of the 64-bit register that
 * encloses Zydis register (zydis_register), or -1 for other registers. */
int mmu_emul_reg_index(int zydis_register);

/* Apply (st) to the 8-byte entry (old) that contains (addr): computes the
 * new entry, updates the source/accumulator register and the flags in
 * (regs) as the instruction would. Returns 1 when the entry is written, 0
 * when it is not (a failed cmpxchg), -EOPNOTSUPP for a misaligned store. */
int mmu_emul_apply(const struct mmu_store *st, uint64_t addr, uint64_t old,
		   struct stub_regs *regs, uint64_t *val);

#endif
