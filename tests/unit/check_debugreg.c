/* check_debugreg.c - the debug registers by Xen's rules (set_debugreg,
 * x86emul_read_dr, pv_inject_DB), what the host arms for them, and the
 * mov ss shadow pvmm emulates. */
#include <check.h>
#include <string.h>

#include "fixture.h"
#include "hypercalls/hc.h"
#include "mmu/mmu.h"

#define NO_FEAT 0u
#define DR7_RW(n, rw) ((uint64_t)(rw) << (16 + 4 * (n)))
#define DR7_LEN(n, len) ((uint64_t)(len) << (18 + 4 * (n)))
#define DR7_L(n) (1ull << (2 * (n)))
#define DR7_G(n) (2ull << (2 * (n)))

static struct vm *vm;
static struct fixture_ops ops;
static uint64_t stack_va;

static uint64_t *at(uint64_t va) { return (uint64_t *)(vm->mem + (va - vm->lay.v_start)); }

static void setup(void)
{
	vm = fixture_vm();
	ops.n = 0;
	vm->mmu.emit = fixture_collect, vm->mmu.emit_ctx = &ops;
	stack_va = vm->lay.v_end - 4096 + 0x808; /* a slack page, rw */
	vm->vcpu.regs = (struct stub_regs){ .rip = 0x401000, .rsp = stack_va, .eflags = 0x202 };
}

static void teardown(void) { fixture_free(vm); }

static uint64_t rd(unsigned reg)
{
	uint64_t v = 0xdead;

	ck_assert_int_eq(hc_dr_read(vm, reg, &v), 0);
	return v;
}

/* Xen's x86_adj_dr6_rsvd/x86_adj_dr7_rsvd: bit 12 of %dr6 and bits 12, 14,
 * 15 of %dr7 read 0, the other reserved bits of %dr6 and bit 10 of %dr7
 * read 1; RTM and BLD report only where the CPU has them. */
START_TEST(reserved_bits)
{
	ck_assert_uint_eq(hc_dr_adj_dr6(0, NO_FEAT), X86_DR6_DEFAULT);
	ck_assert_uint_eq(hc_dr_adj_dr6(0xffffffff, NO_FEAT), 0xffffefff);
	ck_assert_uint_eq(hc_dr_adj_dr6(0, HC_DR_RTM), X86_DR6_DEFAULT & ~X86_DR6_RTM);
	ck_assert_uint_eq(hc_dr_adj_dr6(0, HC_DR_BLD), X86_DR6_DEFAULT & ~X86_DR6_BLD);
	ck_assert_uint_eq(hc_dr_adj_dr7(0, NO_FEAT), X86_DR7_DEFAULT);
	ck_assert_uint_eq(hc_dr_adj_dr7(0xffffffff, NO_FEAT), 0xffff27ff);
	ck_assert_uint_eq(hc_dr_adj_dr7(X86_DR7_RTM, HC_DR_RTM), X86_DR7_RTM | X86_DR7_DEFAULT);
}
END_TEST

/* pv_inject_DB: the breakpoint bits are replaced, BS/BD/BT accumulate. */
START_TEST(dr6_merge)
{
	uint32_t dr6 = hc_dr_merge_dr6(X86_DR6_DEFAULT, X86_DR6_BS | 1, NO_FEAT);

	ck_assert_uint_eq(dr6, X86_DR6_DEFAULT | X86_DR6_BS | 1);
	dr6 = hc_dr_merge_dr6(dr6, 4, NO_FEAT);
	ck_assert_uint_eq(dr6, X86_DR6_DEFAULT | X86_DR6_BS | 4);
	ck_assert_uint_eq(hc_dr_merge_dr6(dr6, 0, NO_FEAT), X86_DR6_DEFAULT | X86_DR6_BS);
	/* an inverted bit the CPU has: set in positive polarity, clear in %dr6 */
	ck_assert_uint_eq(hc_dr_merge_dr6(X86_DR6_DEFAULT & ~X86_DR6_RTM, 0, HC_DR_RTM),
			  X86_DR6_DEFAULT & ~X86_DR6_RTM);
}
END_TEST

/* Xen's breakpoint_addr_ok (lower half, or above Xen's range), less the
 * pvmm hole. */
START_TEST(breakpoint_addresses)
{
	ck_assert(hc_dr_addr_ok(0));
	ck_assert(hc_dr_addr_ok(HOLE_BASE - 1));
	ck_assert(!hc_dr_addr_ok(HOLE_BASE));
	ck_assert(!hc_dr_addr_ok(HOLE_END - 1));
	ck_assert(!hc_dr_addr_ok(HOLE_END));                     /* not canonical */
	ck_assert(!hc_dr_addr_ok(0xffff800000000000ull));        /* Xen's */
	ck_assert(!hc_dr_addr_ok(XEN_HYPERVISOR_VIRT_END - 1));
	ck_assert(hc_dr_addr_ok(XEN_HYPERVISOR_VIRT_END));
	ck_assert(hc_dr_addr_ok(~0ull));
}
END_TEST

START_TEST(reset_values_and_aliases)
{
	for (unsigned i = 0; i < 4; i++)
		ck_assert_uint_eq(rd(i), 0);
	ck_assert_uint_eq(rd(6), X86_DR6_DEFAULT);
	ck_assert_uint_eq(rd(7), X86_DR7_DEFAULT);
	ck_assert_uint_eq(rd(4), X86_DR6_DEFAULT); /* without CR4.DE */
	ck_assert_uint_eq(rd(5), X86_DR7_DEFAULT);
	ck_assert_int_eq(hc_dr_write(vm, 5, DR7_L(1)), 0);
	ck_assert_uint_eq(rd(7), DR7_L(1) | X86_DR7_DEFAULT);
	vm->vcpu.cr4 = X86_CR4_DE;
	uint64_t v;
	ck_assert_int_eq(hc_dr_read(vm, 4, &v), -XEN_ENODEV);
	ck_assert_int_eq(hc_dr_read(vm, 5, &v), -XEN_ENODEV);
	ck_assert_int_eq(hc_dr_write(vm, 4, 0), -XEN_ENODEV);
	ck_assert_int_eq(hc_dr_write(vm, 5, 0), -XEN_ENODEV);
	ck_assert_int_eq(hc_dr_read(vm, 8, &v), -XEN_ENODEV);
	ck_assert_int_eq(hc_dr_write(vm, 8, 0), -XEN_ENODEV);
}
END_TEST

/* A refused write changes nothing. */
START_TEST(refusals)
{
	ck_assert_int_eq(hc_dr_write(vm, 0, 0x1000), 0);
	ck_assert_int_eq(hc_dr_write(vm, 0, HOLE_BASE), -XEN_EPERM);
	ck_assert_uint_eq(rd(0), 0x1000);
	ck_assert_int_eq(hc_dr_write(vm, 7, DR7_L(0)), 0);
	ck_assert_int_eq(hc_dr_write(vm, 7, X86_DR7_GD), -XEN_EPERM);
	ck_assert_int_eq(hc_dr_write(vm, 7, 1ull << 32), -XEN_EINVAL);
	ck_assert_int_eq(hc_dr_write(vm, 6, 1ull << 32), -XEN_EINVAL);
	ck_assert_int_eq(hc_dr_write(vm, 7, DR7_L(2) | DR7_RW(2, X86_DR7_RW_IO)), -XEN_EPERM);
	ck_assert_uint_eq(rd(7), DR7_L(0) | X86_DR7_DEFAULT);
	ck_assert_uint_eq(rd(6), X86_DR6_DEFAULT);
	/* an I/O type in a disabled %dr7 is no I/O breakpoint: accepted */
	ck_assert_int_eq(hc_dr_write(vm, 7, DR7_RW(2, X86_DR7_RW_IO)), 0);
	ck_assert_uint_eq(rd(7), DR7_RW(2, X86_DR7_RW_IO) | X86_DR7_DEFAULT);
}
END_TEST

/* With CR4.DE the enables of I/O breakpoints are kept apart and read back;
 * a later refusal (CR4.DE clear again) leaves them as they were. */
START_TEST(io_breakpoints)
{
	uint64_t io0 = DR7_G(0) | DR7_RW(0, X86_DR7_RW_IO) | DR7_LEN(0, 3) | X86_DR7_GE |
		       X86_DR7_DEFAULT;
	uint64_t io1 = DR7_G(1) | DR7_RW(1, X86_DR7_RW_IO) | DR7_LEN(1, 3) | X86_DR7_DEFAULT;
	struct vm_hostdr h;

	vm->vcpu.cr4 = X86_CR4_DE;
	ck_assert_int_eq(hc_dr_write(vm, 7, io0), 0);
	ck_assert_uint_eq(rd(7), io0);
	ck_assert_uint_eq(vm->vcpu.dr.dr7_emul, DR7_G(0));
	hc_dr_host_config(vm, &h);
	ck_assert_uint_eq(h.dr7, 0); /* never armed on the host */
	ck_assert_int_eq(hc_dr_write(vm, 7, io1), 0);
	ck_assert_uint_eq(rd(7), io1); /* nothing of io0 left */
	ck_assert_int_eq(hc_dr_write(vm, 7, io0), 0);
	vm->vcpu.cr4 = 0;
	ck_assert_int_eq(hc_dr_write(vm, 7, io0), -XEN_EPERM);
	ck_assert_uint_eq(rd(7), io0);
}
END_TEST

START_TEST(hypercalls)
{
	uint64_t set[5] = { 1ull << 32 | 2, 0x5000 }, get[5] = { 2 };

	ck_assert_int_eq(hc_set_debugreg(vm, set), 0); /* reg is an int: bits above 31 go */
	ck_assert_int_eq(hc_get_debugreg(vm, get), 0x5000);
	get[0] = 8;
	ck_assert_int_eq(hc_get_debugreg(vm, get), -XEN_ENODEV);
	set[0] = 7, set[1] = 1ull << 32;
	ck_assert_int_eq(hc_set_debugreg(vm, set), -XEN_EINVAL);
}
END_TEST

/* Enabled breakpoints below the hole, aligned to their length; instruction
 * breakpoints 1 byte long; G enables as L; I/O, disabled and upper-half
 * ones left out. */
START_TEST(host_config)
{
	struct vm_hostdr h;

	ck_assert_int_eq(hc_dr_write(vm, 0, 0x401003), 0);
	ck_assert_int_eq(hc_dr_write(vm, 1, 0x402007), 0);
	ck_assert_int_eq(hc_dr_write(vm, 2, XEN_HYPERVISOR_VIRT_END), 0);
	ck_assert_int_eq(hc_dr_write(vm, 3, 0x403000), 0);
	ck_assert_int_eq(hc_dr_write(vm, 7, DR7_G(0) | DR7_LEN(0, 3) | DR7_L(1) |
				     DR7_RW(1, X86_DR7_RW_RW) | DR7_LEN(1, 2) | DR7_L(2) |
				     DR7_RW(3, X86_DR7_RW_WRITE)), 0);
	ck_assert(vm->vcpu.dr.changed);
	hc_dr_host_config(vm, &h);
	ck_assert_uint_eq(h.addr[0], 0x401003);
	ck_assert_uint_eq(h.addr[1], 0x402000);
	ck_assert_uint_eq(h.addr[2], 0);
	ck_assert_uint_eq(h.addr[3], 0);
	ck_assert_uint_eq(h.dr7, DR7_L(0) | DR7_L(1) | DR7_RW(1, X86_DR7_RW_RW) | DR7_LEN(1, 2));
	/* what an access matches: read-write, not the instruction breakpoint */
	ck_assert_int_eq(hc_dr_watched(vm, 0x402006, 2, 0), 2);
	ck_assert_int_eq(hc_dr_watched(vm, 0x401fff, 2, 1), 2);
	ck_assert_int_eq(hc_dr_watched(vm, 0x402008, 2, 0), 0);
	ck_assert_int_eq(hc_dr_watched(vm, 0x401003, 1, 0), 0);
	ck_assert_int_eq(hc_dr_write(vm, 7, DR7_L(3) | DR7_RW(3, X86_DR7_RW_WRITE)), 0);
	ck_assert_int_eq(hc_dr_watched(vm, 0x403000, 1, 0), 0); /* a write breakpoint: reads pass */
	ck_assert_int_eq(hc_dr_watched(vm, 0x403000, 1, 1), 8);
}
END_TEST

/* #DB: %dr6 merged, RF cleared in the frame, through the trap table. */
START_TEST(debug_exception)
{
	uint64_t sp = (stack_va & ~0xfull) - 56; /* rcx r11 rip cs rflags rsp ss */

	ck_assert_int_eq(hc_dr_inject(vm, X86_DR6_BS), 0); /* no handler */
	vm->vcpu.dr.dr6 = 0;
	vm->vcpu.traps[X86_DB] = (struct vcpu_trap){ 0x402000, FLAT_KERNEL_CS64, 0 };
	vm->vcpu.regs.eflags = 0x202 | X86_EFLAGS_RF | X86_EFLAGS_TF;
	ck_assert_int_eq(hc_dr_inject(vm, 2 | X86_DR6_BS), 1);
	ck_assert_uint_eq(vm->vcpu.regs.rip, 0x402000);
	ck_assert_uint_eq(at(sp)[2], 0x401000);                       /* no error code */
	ck_assert_uint_eq(at(sp)[4], 0x202 | X86_EFLAGS_TF);          /* RF cleared */
	ck_assert_uint_eq(vm->vcpu.regs.eflags & X86_EFLAGS_TF, 0);   /* the handler runs without */
	ck_assert_uint_eq(rd(6), X86_DR6_DEFAULT | X86_DR6_BS | 2);
}
END_TEST

/* mov %drN: #GP(0) for a refused value (0), #UD for a register that is not
 * there, through the trap table, or the domain crashed without a handler. */
START_TEST(mov_emulation)
{
	uint64_t gpr = HOLE_BASE;

	ck_assert_int_eq(hc_dr_mov(vm, 1, 0, &gpr), 0);
	gpr = 0x1234;
	ck_assert_int_eq(hc_dr_mov(vm, 1, 0, &gpr), 1);
	gpr = 0;
	ck_assert_int_eq(hc_dr_mov(vm, 0, 0, &gpr), 1);
	ck_assert_uint_eq(gpr, 0x1234);
	vm->vcpu.cr4 = X86_CR4_DE;
	vm->vcpu.traps[X86_UD] = (struct vcpu_trap){ 0x403000, FLAT_KERNEL_CS64, 0 };
	ck_assert_int_eq(hc_dr_mov(vm, 0, 4, &gpr), HC_PRIVOP_DELIVERED);
	ck_assert_uint_eq(vm->vcpu.regs.rip, 0x403000);
	vm->vcpu.traps[X86_UD].address = 0;
	ck_assert_int_eq(hc_dr_mov(vm, 1, 5, &gpr), -1);
	ck_assert_int_eq(vm->end, VM_CRASH);
}
END_TEST

/* What the trap after an emulated mov %ss does with the #DB it held. */
START_TEST(shadow_end)
{
	int tf;

	ck_assert_uint_eq(hc_dr_shadow_end(vm, 1, &tf), 0);
	ck_assert_int_eq(tf, 0);
	vm->vcpu.dr.held = 2, vm->vcpu.dr.held_tf = 1;
	vm->vcpu.regs.eflags |= X86_EFLAGS_TF;
	ck_assert_uint_eq(hc_dr_shadow_end(vm, 1, &tf), 2); /* the step: due */
	ck_assert_int_eq(tf, 1);
	ck_assert_uint_eq(vm->vcpu.regs.eflags & X86_EFLAGS_TF, 0);
	vm->vcpu.dr.held = 2, vm->vcpu.dr.held_tf = 0;
	vm->vcpu.regs.eflags |= X86_EFLAGS_TF;
	ck_assert_uint_eq(hc_dr_shadow_end(vm, 0, &tf), 0); /* a system call: dropped */
	ck_assert_uint_eq(vm->vcpu.regs.eflags & X86_EFLAGS_TF, X86_EFLAGS_TF); /* the guest's */
	ck_assert_uint_eq(vm->vcpu.dr.held, 0);
}
END_TEST

Suite *debugreg_suite(void)
{
	Suite *s = suite_create("debugreg");
	TCase *tc = tcase_create("debugreg");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, reserved_bits);
	tcase_add_test(tc, dr6_merge);
	tcase_add_test(tc, breakpoint_addresses);
	tcase_add_test(tc, reset_values_and_aliases);
	tcase_add_test(tc, refusals);
	tcase_add_test(tc, io_breakpoints);
	tcase_add_test(tc, hypercalls);
	tcase_add_test(tc, host_config);
	tcase_add_test(tc, debug_exception);
	tcase_add_test(tc, mov_emulation);
	tcase_add_test(tc, shadow_end);
	suite_add_tcase(s, tc);
	return s;
}
