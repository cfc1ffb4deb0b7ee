/* check_traps.c - bounce frames, iret and events on a fixture domain. */
#include <check.h>
#include <string.h>

#include "fixture.h"
#include "hypercalls/hc.h"
#include "mmu/mmu.h"

static struct vm *vm;
static struct fixture_ops ops;
static uint64_t stack_va;

static uint64_t *at(uint64_t va) { return (uint64_t *)(vm->mem + (va - vm->lay.v_start)); }
static struct shared_info *shinfo(void)
{
	return (struct shared_info *)(vm->mem + vm->lay.shared_info_pfn * 4096);
}

static void setup(void)
{
	vm = fixture_vm();
	ops.n = 0;
	vm->mmu.emit = fixture_collect, vm->mmu.emit_ctx = &ops;
	stack_va = vm->lay.v_end - 4096 + 0x808; /* a slack page, rw */
	vm->vcpu.regs = (struct stub_regs){ .rip = 0x401000, .rsp = stack_va, .rcx = 0xc1,
					    .r11 = 0x11, .eflags = 0x202 };
}

static void teardown(void) { fixture_free(vm); }

START_TEST(kernel_mode_page_fault_frame)
{
	uint64_t sp = (stack_va & ~0xfull) - 64, *f = at(sp);

	vm->vcpu.traps[X86_PF] = (struct vcpu_trap){ 0x402000, FLAT_KERNEL_CS64, TI_MASK_EVENTS };
	ck_assert_int_eq(hc_inject(vm, X86_PF, 1, 0x6, 0x12345000), 1);
	ck_assert_uint_eq(vm->vcpu.regs.rip, 0x402000);
	ck_assert_uint_eq(vm->vcpu.regs.rsp, sp);
	ck_assert_uint_eq(f[0], 0xc1);            /* rcx */
	ck_assert_uint_eq(f[1], 0x11);            /* r11 */
	ck_assert_uint_eq(f[2], 0x6);             /* error code */
	ck_assert_uint_eq(f[3], 0x401000);        /* rip */
	ck_assert_uint_eq(f[4], 0xe030);          /* kernel cs: RPL 0 to the guest, mask 0 */
	ck_assert_uint_eq(f[5], 0x202);           /* IF: events were on */
	ck_assert_uint_eq(f[6], stack_va);
	ck_assert_uint_eq(f[7], FLAT_KERNEL_SS64);
	ck_assert_uint_eq(shinfo()->vcpu_info[0].cr2, 0x12345000);
	ck_assert_uint_eq(shinfo()->vcpu_info[0].evtchn_upcall_mask, 1); /* the gate masks */
}
END_TEST

START_TEST(user_mode_switches_stack_and_mode)
{
	uint64_t kstack = vm->lay.v_end - 2 * 4096 + 4096;

	vm->vcpu.user_l4 = vm->vcpu.kernel_l4;
	vm->vcpu.user_mode = 1;
	vm->vcpu.kernel_sp = kstack;
	shinfo()->vcpu_info[0].evtchn_upcall_mask = 1;
	vm->vcpu.traps[X86_BP] = (struct vcpu_trap){ 0x403000, FLAT_KERNEL_CS64, 3 };
	ck_assert_int_eq(hc_inject(vm, X86_BP, 0, 0, 0), 1);
	ck_assert_int_eq(vm->vcpu.user_mode, 0);
	ck_assert_uint_eq(vm->vcpu.regs.rsp, kstack - 56);
	ck_assert_uint_eq(at(kstack - 56)[3], 0xe033 | (1ull << 32)); /* user cs, mask in bit 32 */
	ck_assert_uint_eq(at(kstack - 56)[4] & 0x200, 0);             /* IF off: events masked */
	ck_assert(!mmu_sync_pending(vm)); /* the same L4 in both modes: nothing to redo */
}
END_TEST

START_TEST(no_handler_and_bad_stack)
{
	ck_assert_int_eq(hc_inject(vm, X86_GP, 1, 0, 0), 0);
	ck_assert_int_eq(vm->end, VM_RUNNING);
	vm->vcpu.traps[X86_GP] = (struct vcpu_trap){ 0x402000, FLAT_KERNEL_CS64, 0 };
	vm->vcpu.regs.rsp = 0x100000000ull; /* nothing mapped there */
	ck_assert_int_eq(hc_inject(vm, X86_GP, 1, 0, 0), -1);
	ck_assert_int_eq(vm->end, VM_CRASH);
	ck_assert_ptr_nonnull(strstr(vm->end_msg, "cannot write the exception frame"));
}
END_TEST

START_TEST(software_interrupt_gates)
{
	vm->vcpu.traps[0x80] = (struct vcpu_trap){ 0x404000, FLAT_KERNEL_CS64, 3 };
	vm->vcpu.traps[0x40] = (struct vcpu_trap){ 0x405000, FLAT_KERNEL_CS64, 0 };
	vm->vcpu.traps[X86_GP] = (struct vcpu_trap){ 0x406000, FLAT_KERNEL_CS64, 0 };
	vm->vcpu.user_l4 = vm->vcpu.kernel_l4;
	vm->vcpu.kernel_sp = vm->lay.v_end - 4096;
	vm->vcpu.user_mode = 1;
	ck_assert_int_eq(hc_software_interrupt(vm, 0x40, 2), 1); /* DPL 0 from user: #GP */
	ck_assert_uint_eq(vm->vcpu.regs.rip, 0x406000);
	ck_assert_uint_eq(at(vm->vcpu.regs.rsp)[2], (0x40 << 3) | 2);
	ck_assert_uint_eq(at(vm->vcpu.regs.rsp)[3], 0x401000);     /* not stepped over */
	vm->vcpu.regs.rip = 0x401000;
	ck_assert_int_eq(hc_software_interrupt(vm, 0x80, 2), 1); /* kernel mode now: allowed */
	ck_assert_uint_eq(vm->vcpu.regs.rip, 0x404000);
	ck_assert_uint_eq(at(vm->vcpu.regs.rsp)[2], 0x401002);     /* stepped over */
}
END_TEST

START_TEST(iret_restores_and_switches)
{
	struct iret_context c = { .rax = 7, .r11 = 0x246, .rcx = 0x999, .flags = 0,
				  .rip = 0x401500, .cs = 0xe033, .rflags = 0x202,
				  .rsp = 0x4ff000, .ss = 0xe02b };
	uint64_t a[5] = { 0 };

	memcpy(at(stack_va), &c, sizeof(c));
	vm->vcpu.user_l4 = vm->vcpu.kernel_l4;
	ck_assert_int_eq(hc_iret(vm, a), 7);
	ck_assert_uint_eq(vm->vcpu.regs.rip, 0x401500);
	ck_assert_uint_eq(vm->vcpu.regs.rcx, 0x999);
	ck_assert_int_eq(vm->vcpu.user_mode, 1);
	ck_assert_uint_eq(shinfo()->vcpu_info[0].evtchn_upcall_mask, 0);
	/* in_syscall: rcx and r11 are not restored */
	c.flags = VGCF_in_syscall, c.rcx = 1, c.cs = 0xe030;
	vm->vcpu.regs.rsp = stack_va;
	memcpy(at(stack_va), &c, sizeof(c));
	ck_assert_int_eq(hc_iret(vm, a), 7);
	ck_assert_uint_eq(vm->vcpu.regs.rcx, 0x999);
	ck_assert_int_eq(vm->vcpu.user_mode, 0);
	/* the CS slot's upper half carries the saved upcall mask of the frame
	 * Xen built (XTF returns it as it was): only the selector counts */
	c.flags = 0, c.cs = 0x10000e023;
	vm->host_compat = 1;
	vm->vcpu.regs.rsp = stack_va;
	memcpy(at(stack_va), &c, sizeof(c));
	ck_assert_int_eq(hc_iret(vm, a), 7);
	ck_assert_uint_eq(vm->vcpu.regs.cs, FLAT_RING3_CS32);
	ck_assert_int_eq(vm->vcpu.user_mode, 1);
}
END_TEST

/* An iret in a multicall ends it (Xen's fix for XSA-213): the guest may be
 * in user mode now; nothing after the iret runs; the multicall returns
 * what the iret restored. */
START_TEST(multicall_ends_at_iret)
{
	struct iret_context c = { .rax = 0xdead, .rip = 0x401500, .cs = 0xe033, .rflags = 0x202,
				  .rsp = 0x4ff000, .ss = 0xe02b };
	uint64_t list = stack_va + 0x200, a[5] = { list, 2 };
	struct multicall_entry e[2] = { { .op = XEN_HC_iret, .result = 0x55 },
					{ .op = XEN_HC_xen_version, .result = 0x55 } };

	memcpy(at(stack_va), &c, sizeof(c));
	memcpy(at(list), e, sizeof(e));
	vm->vcpu.user_l4 = vm->vcpu.kernel_l4;
	ck_assert_int_eq(hc_multicall(vm, a), 0xdead);
	ck_assert_int_eq(vm->vcpu.user_mode, 1);
	ck_assert_uint_eq(vm->vcpu.regs.rip, 0x401500);
	memcpy(e, at(list), sizeof(e));
	ck_assert_int_eq(e[0].result, 0xdead);
	ck_assert_int_eq(e[1].result, 0x55); /* never run */
	e[0].op = XEN_HC_multicall;         /* no nesting */
	memcpy(at(list), e, sizeof(e));
	a[1] = 1;
	vm->vcpu.user_mode = 0;
	ck_assert_int_eq(hc_multicall(vm, a), 0);
	ck_assert_int_eq(((struct multicall_entry *)at(list))->result, -XEN_EINVAL);
}
END_TEST

/* callback_op as Xen's pv/callback.c: type numbers from callback.h, -ENOSYS
 * for a type x86-64 Xen does not know, -EINVAL for a non-canonical address
 * and for unregistering anything but the NMI callback. */
START_TEST(callback_op_types_and_errors)
{
	uint64_t va = stack_va + 0x100;
	struct callback_register *cb = (struct callback_register *)at(va);
	const uint64_t reg[5] = { CALLBACKOP_register, va }, unreg[5] = { CALLBACKOP_unregister, va };

	*cb = (struct callback_register){ CALLBACKTYPE_sysenter, CALLBACKF_mask_events, 0, 0x401234 };
	ck_assert_int_eq(hc_callback_op(vm, reg), 0);
	ck_assert_uint_eq(vm->vcpu.callbacks[CB_SYSENTER], 0x401234);
	ck_assert_uint_eq(vm->vcpu.callback_flags[CB_SYSENTER], CALLBACKF_mask_events);
	cb->type = CALLBACKTYPE_syscall32, cb->address = 0x401300;
	ck_assert_int_eq(hc_callback_op(vm, reg), 0);
	ck_assert_uint_eq(vm->vcpu.callbacks[CB_SYSCALL32], 0x401300);
	for (unsigned t = 0; t < 12; t++) {
		int known = t <= 2 || t == 4 || t == 5 || t == 7;

		cb->type = (uint16_t)t;
		ck_assert_int_eq(hc_callback_op(vm, reg), known ? 0 : -XEN_ENOSYS);
		ck_assert_int_eq(hc_callback_op(vm, unreg), !known ? -XEN_ENOSYS
					: t == CALLBACKTYPE_nmi ? 0 : -XEN_EINVAL);
	}
	ck_assert_uint_eq(vm->vcpu.callbacks[CB_NMI], 0);
	ck_assert_uint_eq(vm->vcpu.callbacks[CB_SYSENTER], 0x401300);
	cb->type = CALLBACKTYPE_event, cb->address = 0x0000800000000000ull;
	ck_assert_int_eq(hc_callback_op(vm, reg), -XEN_EINVAL);
	cb->type = 99;
	ck_assert_int_eq(hc_callback_op(vm, reg), -XEN_EINVAL); /* the address is checked first */
	cb->address = 0xffff800000001000ull;
	ck_assert_int_eq(hc_callback_op(vm, reg), -XEN_ENOSYS);
	ck_assert_int_eq(hc_callback_op(vm, (const uint64_t[5]){ 2, va }), -XEN_ENOSYS);
	ck_assert_int_eq(hc_callback_op(vm, (const uint64_t[5]){ CALLBACKOP_register, 8 }), -XEN_EFAULT);
}
END_TEST

START_TEST(events_masking_and_timer)
{
	struct shared_info *s = shinfo();
	uint64_t a[5] = { 0 };

	hc_time_init(vm);
	ck_assert_uint_eq(s->vcpu_info[0].evtchn_upcall_mask, 1);
	ck_assert_uint_gt(s->vcpu_info[0].time.tsc_to_system_mul, 0);
	s->evtchn_mask[0] = 1ull << 5;
	hc_raise(vm, 5);
	ck_assert_uint_eq(s->evtchn_pending[0], 1ull << 5);
	ck_assert_uint_eq(s->vcpu_info[0].evtchn_upcall_pending, 0); /* masked */
	hc_raise(vm, 70);
	ck_assert_uint_eq(s->vcpu_info[0].evtchn_pending_sel, 2);    /* word 1 */
	ck_assert_uint_eq(s->vcpu_info[0].evtchn_upcall_pending, 1);
	ck_assert_int_eq(hc_upcall_due(vm), 0); /* masked, and no callback */
	/* a timer in the past fires at the next tick, on the bound VIRQ's port */
	vm->ev.virq_port[VIRQ_TIMER] = 9;
	a[0] = 1;
	hc_set_timer_op(vm, a);
	ck_assert_uint_eq(hc_events_tick(vm), 0);
	ck_assert(s->evtchn_pending[0] & (1ull << 9));
	ck_assert_uint_eq(vm->ev.timer_fires, 1);
	a[0] = hc_now(vm) + 1000000000ull;
	hc_set_timer_op(vm, a);
	ck_assert_uint_eq(hc_events_tick(vm), a[0]); /* the next deadline */
}
END_TEST

Suite *traps_suite(void);

Suite *traps_suite(void)
{
	Suite *s = suite_create("traps-events");
	TCase *tc = tcase_create("traps");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, kernel_mode_page_fault_frame);
	tcase_add_test(tc, user_mode_switches_stack_and_mode);
	tcase_add_test(tc, no_handler_and_bad_stack);
	tcase_add_test(tc, software_interrupt_gates);
	tcase_add_test(tc, iret_restores_and_switches);
	tcase_add_test(tc, multicall_ends_at_iret);
	tcase_add_test(tc, callback_op_types_and_errors);
	tcase_add_test(tc, events_masking_and_timer);
	suite_add_tcase(s, tc);
	return s;
}
