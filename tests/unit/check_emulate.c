/* check_emulate.c - decoding and emulating page-table stores. */
#include <check.h>
#include <errno.h>
#include <string.h>

#include "mmu/emulate.h"

enum { R8, R9, R10, R11, R12, R13, R14, R15, RDI, RSI, RBP, RBX, RDX, RAX, RCX, RSP };

static const struct decode_case {
	const char *name;
	uint8_t bytes[8];
	unsigned n;
	int ok;
	enum mmu_store_op op;
	unsigned size, len;
	int src, locked;
	uint64_t imm;
} decode_cases[] = {
	{ "mov %rax,(%rdi)", { 0x48, 0x89, 0x07 }, 3, 1, STORE_MOV, 8, 3, RAX, 0, 0 },
	{ "mov %eax,(%rdi)", { 0x89, 0x07 }, 2, 1, STORE_MOV, 4, 2, RAX, 0, 0 },
	{ "mov %r9,8(%rbx)", { 0x4c, 0x89, 0x4b, 0x08 }, 4, 1, STORE_MOV, 8, 4, R9, 0, 0 },
	{ "movq $imm,(%rdi)", { 0x48, 0xc7, 0x07, 0x78, 0x56, 0x34, 0x12 }, 7, 1, STORE_MOV, 8, 7, -1, 0, 0x12345678 },
	{ "movq $-1,(%rdi)", { 0x48, 0xc7, 0x07, 0xff, 0xff, 0xff, 0xff }, 7, 1, STORE_MOV, 8, 7, -1, 0, ~0ull },
	{ "xchg %rax,(%rdi)", { 0x48, 0x87, 0x07 }, 3, 1, STORE_XCHG, 8, 3, RAX, 0, 0 },
	{ "lock cmpxchg %rdx,(%rdi)", { 0xf0, 0x48, 0x0f, 0xb1, 0x17 }, 5, 1, STORE_CMPXCHG, 8, 5, RDX, 1, 0 },
	{ "lock or %rax,(%rdi)", { 0xf0, 0x48, 0x09, 0x07 }, 4, 1, STORE_OR, 8, 4, RAX, 1, 0 },
	{ "and %rcx,(%rdi)", { 0x48, 0x21, 0x0f }, 3, 1, STORE_AND, 8, 3, RCX, 0, 0 },
	{ "lock btsq $3,(%rdi)", { 0xf0, 0x48, 0x0f, 0xba, 0x2f, 0x03 }, 6, 1, STORE_BTS, 8, 6, -1, 1, 3 },
	{ "btrq $0,(%rdi)", { 0x48, 0x0f, 0xba, 0x37, 0x00 }, 5, 1, STORE_BTR, 8, 5, -1, 0, 0 },
	{ "mov %ax,(%rdi): 2 bytes", { 0x66, 0x89, 0x07 }, 3, 0, 0, 0, 0, 0, 0, 0 },
	{ "mov %al,(%rdi): 1 byte", { 0x88, 0x07 }, 2, 0, 0, 0, 0, 0, 0, 0 },
	{ "add %rax,(%rdi)", { 0x48, 0x01, 0x07 }, 3, 0, 0, 0, 0, 0, 0, 0 },
	{ "rep movsq", { 0xf3, 0x48, 0xa5 }, 3, 0, 0, 0, 0, 0, 0, 0 },
	{ "movaps %xmm0,(%rdi)", { 0x0f, 0x29, 0x07 }, 3, 0, 0, 0, 0, 0, 0, 0 },
	{ "mov (%rdi),%rax: a load", { 0x48, 0x8b, 0x07 }, 3, 0, 0, 0, 0, 0, 0, 0 },
	{ "truncated", { 0x48, 0xc7, 0x07, 0x78 }, 4, 0, 0, 0, 0, 0, 0, 0 },
};

START_TEST(decode)
{
	const struct decode_case *c = &decode_cases[_i];
	struct mmu_store st;
	int rc = mmu_emul_decode(c->bytes, c->n, 0x400000, &st);

	ck_assert_msg((rc == 0) == c->ok, "%s: rc %d (%s)", c->name, rc, st.text);
	if (!c->ok) {
		ck_assert_int_eq(rc, -EOPNOTSUPP);
		return;
	}
	ck_assert_int_eq(st.op, c->op);
	ck_assert_uint_eq(st.size, c->size);
	ck_assert_uint_eq(st.len, c->len);
	ck_assert_int_eq(st.src, c->src);
	ck_assert_int_eq(st.locked, c->locked);
	if (c->src < 0)
		ck_assert_uint_eq(st.imm, c->imm);
	ck_assert_uint_gt(strlen(st.text), 3);
}
END_TEST

static int apply(const uint8_t *bytes, unsigned n, uint64_t addr, uint64_t old,
		 struct stub_regs *r, uint64_t *val)
{
	struct mmu_store st;

	ck_assert_int_eq(mmu_emul_decode(bytes, n, 0, &st), 0);
	return mmu_emul_apply(&st, addr, old, r, val);
}

START_TEST(apply_mov_and_halves)
{
	static const uint8_t mov64[] = { 0x48, 0x89, 0x07 }, mov32[] = { 0x89, 0x07 };
	struct stub_regs r = { .rax = 0x1234567890ull };
	uint64_t v;

	ck_assert_int_eq(apply(mov64, 3, 0x1008, 0xdead, &r, &v), 1);
	ck_assert_uint_eq(v, 0x1234567890ull);
	r.rax = 0xaabbccdd11223344ull;
	ck_assert_int_eq(apply(mov32, 2, 0x1004, 0x0000000500000007ull, &r, &v), 1);
	ck_assert_uint_eq(v, 0x1122334400000007ull); /* the high half replaced */
	ck_assert_int_eq(apply(mov32, 2, 0x1000, 0x0000000500000007ull, &r, &v), 1);
	ck_assert_uint_eq(v, 0x0000000511223344ull); /* the low half replaced */
	ck_assert_int_eq(apply(mov64, 3, 0x1004, 0, &r, &v), -EOPNOTSUPP); /* misaligned */
	ck_assert_int_eq(apply(mov32, 2, 0x1002, 0, &r, &v), -EOPNOTSUPP);
}
END_TEST

START_TEST(apply_xchg_and_cmpxchg)
{
	static const uint8_t xchg[] = { 0x48, 0x87, 0x07 }, cmpxchg[] = { 0xf0, 0x48, 0x0f, 0xb1, 0x17 };
	struct stub_regs r = { .rax = 5, .rdx = 9, .eflags = 0x202 };
	uint64_t v;

	ck_assert_int_eq(apply(xchg, 3, 0, 7, &r, &v), 1);
	ck_assert_uint_eq(v, 5);
	ck_assert_uint_eq(r.rax, 7);
	r.rax = 7;
	ck_assert_int_eq(apply(cmpxchg, 5, 0, 7, &r, &v), 1); /* matches: stores rdx */
	ck_assert_uint_eq(v, 9);
	ck_assert(r.eflags & (1u << 6));                     /* ZF */
	r.rax = 8;
	ck_assert_int_eq(apply(cmpxchg, 5, 0, 7, &r, &v), 0); /* differs: no store */
	ck_assert_uint_eq(r.rax, 7);                          /* rax gets what was there */
	ck_assert(!(r.eflags & (1u << 6)));
	ck_assert_uint_eq(r.eflags & 0x200, 0x200);           /* IF untouched */
}
END_TEST

START_TEST(apply_bit_operations)
{
	static const uint8_t or_[] = { 0x48, 0x09, 0x07 }, and_[] = { 0x48, 0x21, 0x0f };
	static const uint8_t bts[] = { 0xf0, 0x48, 0x0f, 0xba, 0x2f, 0x03 };
	static const uint8_t btr[] = { 0x48, 0x0f, 0xba, 0x37, 0x00 };
	struct stub_regs r = { .rax = 0x2, .rcx = ~1ull };
	uint64_t v;

	ck_assert_int_eq(apply(or_, 3, 0, 0x1001, &r, &v), 1);
	ck_assert_uint_eq(v, 0x1003);
	ck_assert_int_eq(apply(and_, 3, 0, 0x1001, &r, &v), 1);
	ck_assert_uint_eq(v, 0x1000);
	ck_assert_int_eq(apply(bts, 6, 0, 0x1, &r, &v), 1);
	ck_assert_uint_eq(v, 0x9);
	ck_assert(!(r.eflags & 1)); /* CF: the bit was clear */
	ck_assert_int_eq(apply(btr, 5, 0, 0x1001, &r, &v), 1);
	ck_assert_uint_eq(v, 0x1000);
	ck_assert(r.eflags & 1);    /* CF: the bit was set */
}
END_TEST

Suite *emulate_suite(void);

Suite *emulate_suite(void)
{
	Suite *s = suite_create("emulate");
	TCase *tc = tcase_create("stores");

	tcase_add_loop_test(tc, decode, 0, (int)(sizeof(decode_cases) / sizeof(*decode_cases)));
	tcase_add_test(tc, apply_mov_and_halves);
	tcase_add_test(tc, apply_xchg_and_cmpxchg);
	tcase_add_test(tc, apply_bit_operations);
	suite_add_tcase(s, tc);
	return s;
}
