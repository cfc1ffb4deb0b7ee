/* check_privop.c - the rules of privileged-instruction emulation: memory
 * operands and segments in 64-bit mode (XTF's memop-seg table), and
 * instructions emulated at a fixture's rip. */
#include <check.h>
#include <errno.h>
#include <string.h>

#include "mmu/emulate.h"
#include "fixture.h"
#include "hypercalls/hc.h"
#include "mmu/mmu.h"

enum { R8, R9, R10, R11, R12, R13, R14, R15, RDI, RSI, RBP, RBX, RDX, RAX, RCX, RSP };

static struct vm *vm;
static struct fixture_ops ops;
static uint64_t code_va, data_va; /* in the fixture's slack page, rw */

static uint8_t *at(uint64_t va) { return vm->mem + (va - vm->lay.v_start); }

static void setup(void)
{
	vm = fixture_vm();
	ops.n = 0;
	vm->mmu.emit = fixture_collect, vm->mmu.emit_ctx = &ops;
	code_va = vm->lay.v_end - 4096;
	data_va = code_va + 0x800;
	vm->vcpu.regs = (struct stub_regs){ .rip = code_va, .rsp = data_va + 0x700, .eflags = 0x202 };
	vm->vcpu.user_l4 = vm->vcpu.kernel_l4; /* user mode sees the same tables */
	vm->vcpu.kernel_sp = data_va + 0x600;
}

static void teardown(void) { fixture_free(vm); }

/* ---- memory operands and segments (XTF memop-seg, 64-bit) ---------------- */

/* `movb $0, seg:(reg)` for each segment prefix (0: none) and base. */
static size_t movb_store(uint8_t prefix, int reg, uint8_t *b)
{
	size_t n = 0;
	unsigned num = (unsigned)reg & 7;

	if (prefix)
		b[n++] = prefix;
	if (reg >= 8)
		b[n++] = 0x41; /* REX.B */
	b[n++] = 0xc6;
	if (num == 4) {            /* rsp, r12: a SIB byte */
		b[n++] = 0x04, b[n++] = 0x24;
	} else if (num == 5) {     /* rbp, r13: mod 01, disp8 0 */
		b[n++] = 0x45, b[n++] = 0;
	} else {
		b[n++] = (uint8_t)num;
	}
	b[n++] = 0;                /* the immediate */
	return n;
}

START_TEST(memop_seg_vectors)
{
	/* register numbers in encoding order, and their stub_regs indices */
	static const int idx[16] = { RAX, RCX, RDX, RBX, RSP, RBP, RSI, RDI,
				     R8, R9, R10, R11, R12, R13, R14, R15 };
	static const uint8_t prefixes[] = { 0, 0x26, 0x2e, 0x36, 0x3e, 0x64, 0x65 };
	struct stub_regs r;

	for (unsigned p = 0; p < sizeof(prefixes); p++) {
		for (int reg = 0; reg < 16; reg++) {
			int fsgs = prefixes[p] == 0x64 || prefixes[p] == 0x65;
			int want = !fsgs && (reg == 4 || reg == 5) ? X86_SS : X86_GP;
			struct mmu_memop m;
			uint8_t b[8];
			uint64_t lin;
			unsigned len;
			size_t n = movb_store(prefixes[p], reg, b);

			ck_assert_int_eq(mmu_emul_memop(b, n, &m, &len), 0);
			ck_assert_uint_eq(len, n);
			memset(&r, 0, sizeof(r));
			((uint64_t *)&r)[idx[reg]] = 0x8000000040000000ull;
			ck_assert_msg(mmu_emul_linear(&m, &r, 0, 0, 0, &lin) == want,
				      "prefix %#x reg %d", prefixes[p], reg);
			/* canonical: no fault, and only FS and GS add a base */
			((uint64_t *)&r)[idx[reg]] = 0x1000;
			ck_assert_int_eq(mmu_emul_linear(&m, &r, 0, 0x10000, 0x20000, &lin), 0);
			ck_assert_uint_eq(lin, 0x1000 + (prefixes[p] == 0x64 ? 0x10000 :
							  prefixes[p] == 0x65 ? 0x20000 : 0));
		}
		/* `movabs %al, seg:0x8000000040000000`: #GP whatever the segment */
		uint8_t b[11] = { prefixes[p] }, *q = b + !!prefixes[p];
		uint64_t addr = 0x8000000040000000ull, lin;
		struct mmu_memop m;
		unsigned len;

		q[0] = 0xa2;
		memcpy(q + 1, &addr, 8);
		ck_assert_int_eq(mmu_emul_memop(b, (size_t)(q + 9 - b), &m, &len), 0);
		memset(&r, 0, sizeof(r));
		ck_assert_int_eq(mmu_emul_linear(&m, &r, 0, 0, 0, &lin), X86_GP);
	}
}
END_TEST

/* String operands, rip-relative and 32-bit addresses. */
START_TEST(memop_forms)
{
	static const uint8_t outsb_gs[] = { 0x65, 0x6e }, insb[] = { 0x6c };
	static const uint8_t riprel[] = { 0x8b, 0x05, 0x10, 0, 0, 0 };   /* mov 0x10(%rip), %eax */
	static const uint8_t addr32[] = { 0x67, 0x8b, 0x04, 0x8b };      /* mov (%ebx,%ecx,4), %eax */
	static const uint8_t reg_only[] = { 0x89, 0xc8 };                /* mov %ecx, %eax */
	struct stub_regs r = { .rsi = 0x10, .rdi = 0x20, .rbx = 0xfffffff0, .rcx = 8 };
	struct mmu_memop m;
	uint64_t lin;
	unsigned len;

	ck_assert_int_eq(mmu_emul_memop(outsb_gs, 2, &m, &len), 0);
	ck_assert_int_eq(m.seg, MMU_SEG_GS);
	ck_assert_int_eq(mmu_emul_linear(&m, &r, 0, 0, 0x5000, &lin), 0);
	ck_assert_uint_eq(lin, 0x5010);
	ck_assert_int_eq(mmu_emul_memop(insb, 1, &m, &len), 0);
	ck_assert_int_eq(m.seg, MMU_SEG_ES);
	ck_assert_int_eq(mmu_emul_linear(&m, &r, 0, 0x7000, 0x5000, &lin), 0);
	ck_assert_uint_eq(lin, 0x20);
	ck_assert_int_eq(mmu_emul_memop(riprel, 6, &m, &len), 0);
	ck_assert_int_eq(mmu_emul_linear(&m, &r, 0x401006, 0, 0, &lin), 0);
	ck_assert_uint_eq(lin, 0x401016);
	ck_assert_int_eq(mmu_emul_memop(addr32, 4, &m, &len), 0);
	ck_assert_int_eq(mmu_emul_linear(&m, &r, 0, 0, 0, &lin), 0);
	ck_assert_uint_eq(lin, 0x10); /* 0xfffffff0 + 32, in 32 bits */
	ck_assert_int_eq(mmu_emul_memop(reg_only, 2, &m, &len), -EOPNOTSUPP);
}
END_TEST

/* ---- a stack pointer Linux cannot return to ------------------------------ */

START_TEST(noncanonical_rsp)
{
	static const uint8_t mov_rcx_rsp[] = { 0x48, 0x89, 0xcc }, push_rax[] = { 0x50 };
	static const uint8_t xor_eax[] = { 0x31, 0xc0 }, lea[] = { 0x48, 0x8d, 0x61, 0x08 };
	struct stub_regs *r = &vm->vcpu.regs;
	uint64_t kstack = vm->vcpu.kernel_sp;

	memcpy(at(code_va), mov_rcx_rsp, 3);
	r->rsp = 0x8000000040000000ull, r->rcx = data_va;
	ck_assert_int_eq(hc_noncanonical_rsp(vm), 1);
	ck_assert_uint_eq(r->rsp, data_va);
	ck_assert_uint_eq(r->rip, code_va + 3);
	ck_assert_int_eq(hc_noncanonical_rsp(vm), 0); /* canonical now: not ours */
	memcpy(at(code_va), lea, 4);
	r->rip = code_va, r->rsp = 0x8000000040000000ull;
	ck_assert_int_eq(hc_noncanonical_rsp(vm), 1);
	ck_assert_uint_eq(r->rsp, data_va + 8);
	memcpy(at(code_va), xor_eax, 2);
	r->rip = code_va, r->rsp = 0x8000000040000000ull;
	ck_assert_int_eq(hc_noncanonical_rsp(vm), 0);
	/* a push from user mode: #SS(0) on the kernel's stack */
	memcpy(at(code_va), push_rax, 1);
	vm->vcpu.user_mode = 1;
	vm->vcpu.traps[X86_SS] = (struct vcpu_trap){ 0x404000, FLAT_KERNEL_CS64, 0 };
	ck_assert_int_eq(hc_noncanonical_rsp(vm), 1);
	ck_assert_uint_eq(r->rip, 0x404000);
	ck_assert_uint_eq(r->rsp, kstack - 64);
	ck_assert_uint_eq(((uint64_t *)at(r->rsp))[2], 0);
	ck_assert_uint_eq(((uint64_t *)at(r->rsp))[3], code_va);
	ck_assert_uint_eq(((uint64_t *)at(r->rsp))[6], 0x8000000040000000ull);
}
END_TEST

Suite *privop_suite(void);

Suite *privop_suite(void)
{
	Suite *s = suite_create("privops");
	TCase *tc = tcase_create("privops");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, memop_seg_vectors);
	tcase_add_test(tc, memop_forms);
	tcase_add_test(tc, noncanonical_rsp);
	suite_add_tcase(s, tc);
	return s;
}
