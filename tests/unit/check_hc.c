/* check_hc.c - the hypercall table and handlers, on a fixture domain. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fixture.h"
#include "hypercalls/hc.h"
#include "mmu/mmu.h"

static int64_t call(struct vm *vm, uint64_t nr, uint64_t a1, uint64_t a2, uint64_t a3)
{
	struct stub_regs *r = &vm->vcpu.regs;

	memset(r, 0, sizeof(*r));
	r->rax = nr, r->rdi = a1, r->rsi = a2, r->rdx = a3;
	hc_dispatch(vm);
	return (int64_t)r->rax;
}

static const uint64_t unknown_numbers[] = { 11, 40, 42, 63, 64, 1000, UINT64_MAX };

START_TEST(unknown_is_enosys)
{
	struct vm *vm = fixture_vm();

	ck_assert_int_eq(call(vm, unknown_numbers[_i], 1, 2, 3), -XEN_ENOSYS);
	ck_assert_int_eq(vm->end, VM_RUNNING);
	fixture_free(vm);
}
END_TEST

START_TEST(names_cover_the_abi)
{
	ck_assert_str_eq(hc_name(XEN_HC_mmu_update), "mmu_update");
	ck_assert_str_eq(hc_name(XEN_HC_console_io), "console_io");
	ck_assert_ptr_null(hc_name(11));
	ck_assert_ptr_null(hc_name(XEN_HC_COUNT));
}
END_TEST

START_TEST(console_write_reads_guest_memory)
{
	struct vm *vm = fixture_vm();
	uint64_t magic = vm->lay.start_info_va;

	ck_assert_int_eq(call(vm, XEN_HC_console_io, CONSOLEIO_write, 14, magic), 0);
	ck_assert_str_eq(fixture_console(vm), "xen-3.0-x86_64");
	ck_assert_int_eq(call(vm, XEN_HC_console_io, CONSOLEIO_write, 8, vm->lay.v_end - 4),
			 -XEN_EFAULT);
	ck_assert_int_eq(call(vm, XEN_HC_console_io, CONSOLEIO_write, 1ull << 40, magic),
			 -XEN_EFAULT);
	ck_assert_uint_eq(vm->stats.hypercalls[XEN_HC_console_io], 3);
	fixture_free(vm);
}
END_TEST

START_TEST(shutdown_reasons)
{
	static const struct { uint32_t reason; enum vm_end end; } cases[] = {
		{ SHUTDOWN_poweroff, VM_POWEROFF }, { SHUTDOWN_reboot, VM_REBOOT },
		{ SHUTDOWN_crash, VM_CRASH }, { SHUTDOWN_watchdog, VM_CRASH },
		{ SHUTDOWN_suspend, VM_CRASH },
	};
	struct vm *vm = fixture_vm();
	uint64_t arg = vm->lay.start_info_va + 2048; /* scratch in start_info's page */

	for (unsigned i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
		vm->end = VM_RUNNING;
		memcpy(vm->mem + (arg - vm->lay.v_start), &cases[i].reason, 4);
		ck_assert_int_eq(call(vm, XEN_HC_sched_op, SCHEDOP_shutdown, arg, 0), 0);
		ck_assert_int_eq(vm->end, cases[i].end);
	}
	vm->end = VM_RUNNING;
	memcpy(vm->mem + (arg - vm->lay.v_start), &(uint32_t){ 99 }, 4);
	ck_assert_int_eq(call(vm, XEN_HC_sched_op, SCHEDOP_shutdown, arg, 0), -XEN_EINVAL);
	ck_assert_int_eq(call(vm, XEN_HC_sched_op, SCHEDOP_shutdown, 0x10, 0), -XEN_EFAULT);
	ck_assert_int_eq(vm->end, VM_RUNNING);
	ck_assert_int_eq(call(vm, XEN_HC_sched_op_compat, SCHEDOP_shutdown, SHUTDOWN_poweroff, 0), 0);
	ck_assert_int_eq(vm->end, VM_POWEROFF);
	fixture_free(vm);
}
END_TEST

START_TEST(version_and_assist)
{
	struct vm *vm = fixture_vm();
	uint64_t buf = vm->lay.start_info_va + 2048;

	ck_assert_int_eq(call(vm, XEN_HC_xen_version, XENVER_version, 0, 0),
			 (PVMM_XEN_MAJOR << 16) | PVMM_XEN_MINOR);
	ck_assert_int_eq(call(vm, XEN_HC_xen_version, XENVER_capabilities, buf, 0), 0);
	ck_assert_str_eq((char *)vm->mem + (buf - vm->lay.v_start), "xen-3.0-x86_64");
	ck_assert_int_eq(call(vm, XEN_HC_xen_version, XENVER_capabilities, vm->lay.pt_base_va, 0),
			 -XEN_EFAULT);
	ck_assert_int_eq(call(vm, XEN_HC_xen_version, 99, 0, 0), -XEN_ENOSYS);
	ck_assert_int_eq(call(vm, XEN_HC_vm_assist, VMASST_CMD_enable,
			      VMASST_TYPE_writable_pagetables, 0), 0);
	ck_assert(vm->vm_assist & (1u << VMASST_TYPE_writable_pagetables));
	ck_assert_int_eq(call(vm, XEN_HC_vm_assist, VMASST_CMD_enable, 31, 0), -XEN_EINVAL);
	ck_assert_int_eq(call(vm, XEN_HC_vm_assist, VMASST_CMD_enable, 1000, 0), -XEN_EINVAL);
	ck_assert_int_eq(call(vm, XEN_HC_vm_assist, VMASST_CMD_disable,
			      VMASST_TYPE_writable_pagetables, 0), 0);
	ck_assert(!(vm->vm_assist & (1u << VMASST_TYPE_writable_pagetables)));
	fixture_free(vm);
}
END_TEST

/* The FIFO ABI: Xen's checks in Xen's order, then declined (the guest keeps
 * the 2-level ABI); the other FIFO operations as Xen's before a switch. */
START_TEST(fifo_checked_then_declined)
{
	struct vm *vm = fixture_vm();
	uint64_t arg = vm->lay.start_info_va + 2048;
	struct evtchn_init_control *c = (void *)(vm->mem + (arg - vm->lay.v_start));
	uint64_t free_frame = vm->lay.first_free_pfn;

	*c = (struct evtchn_init_control){ free_frame, 0, 1, 0, { 0 } };
	ck_assert_int_eq(call(vm, XEN_HC_event_channel_op, EVTCHNOP_init_control, arg, 0), -XEN_ENOENT);
	*c = (struct evtchn_init_control){ free_frame, 4096 - 64, 0, 0, { 0 } };
	ck_assert_int_eq(call(vm, XEN_HC_event_channel_op, EVTCHNOP_init_control, arg, 0), -XEN_EINVAL);
	c->offset = 4;
	ck_assert_int_eq(call(vm, XEN_HC_event_channel_op, EVTCHNOP_init_control, arg, 0), -XEN_EINVAL);
	c->offset = 8;
	c->control_gfn = (uint64_t)-2; /* XSA-188 */
	ck_assert_int_eq(call(vm, XEN_HC_event_channel_op, EVTCHNOP_init_control, arg, 0), -XEN_EINVAL);
	c->control_gfn = vm->lay.pt_first_pfn; /* a page table cannot be written */
	ck_assert_int_eq(call(vm, XEN_HC_event_channel_op, EVTCHNOP_init_control, arg, 0), -XEN_EINVAL);
	c->control_gfn = free_frame;
	ck_assert_int_eq(call(vm, XEN_HC_event_channel_op, EVTCHNOP_init_control, arg, 0),
			 -XEN_EOPNOTSUPP);
	ck_assert_uint_eq(vm->mmu.frames[free_frame].type_count, 0); /* nothing kept */
	ck_assert_uint_eq(vm->mmu.frames[free_frame].refs, 0);
	ck_assert_int_eq(call(vm, XEN_HC_event_channel_op, EVTCHNOP_init_control, 0x10, 0), -XEN_EFAULT);
	ck_assert_int_eq(call(vm, XEN_HC_event_channel_op, EVTCHNOP_expand_array, arg, 0),
			 -XEN_EOPNOTSUPP);
	*(uint32_t *)c = 5000; /* set_priority: port, priority */
	ck_assert_int_eq(call(vm, XEN_HC_event_channel_op, EVTCHNOP_set_priority, arg, 0), -XEN_EINVAL);
	*(uint32_t *)c = 5;
	ck_assert_int_eq(call(vm, XEN_HC_event_channel_op, EVTCHNOP_set_priority, arg, 0), -XEN_ENOSYS);
	fixture_free(vm);
}
END_TEST

/* SCHEDOP_poll takes any port of the 2-level ABI (XSA-221's loop), bound or not. */
START_TEST(poll_takes_the_abi_ports)
{
	struct vm *vm = fixture_vm();
	uint64_t arg = vm->lay.start_info_va + 2048;
	struct sched_poll *p = (void *)(vm->mem + (arg - vm->lay.v_start));
	uint32_t *port = (void *)(p + 1);

	*p = (struct sched_poll){ arg + sizeof(*p), 1, 0, 1 };
	*port = EVTCHN_2L_NR_CHANNELS - 1;
	ck_assert_int_eq(call(vm, XEN_HC_sched_op, SCHEDOP_poll, arg, 0), 0);
	ck_assert(vm->ev.blocked);
	vm->ev.blocked = 0;
	*port = EVTCHN_2L_NR_CHANNELS;
	ck_assert_int_eq(call(vm, XEN_HC_sched_op, SCHEDOP_poll, arg, 0), -XEN_EINVAL);
	ck_assert(!vm->ev.blocked);
	fixture_free(vm);
}
END_TEST

static void console_io(struct vm *vm, const char *text)
{
	uint64_t va = vm->lay.start_info_va + 2048;

	strcpy((char *)vm->mem + (va - vm->lay.v_start), text);
	ck_assert_int_eq(call(vm, XEN_HC_console_io, CONSOLEIO_write, strlen(text), va), 0);
}

/* One console, as on Xen: the ring; console_io until the ring is used, and
 * what the ring's first output repeats of it shown once. */
START_TEST(console_shows_each_line_once)
{
	struct vm *vm = fixture_vm();

	console_io(vm, "early\n");
	console_io(vm, "both\n");
	hc_console_ring_out(vm, "both\r\n", 6); /* XTF's order: console_io, then the ring */
	console_io(vm, "later\n");               /* Xen's log only, from now on */
	hc_console_ring_out(vm, "later\r\n", 7);
	ck_assert_str_eq(fixture_console(vm), "early\nboth\nlater\r\n");
	fixture_free(vm);

	vm = fixture_vm(); /* Mini-OS: early lines also queued in the ring, sent at once */
	console_io(vm, "one\n");
	console_io(vm, "two\n");
	hc_console_ring_out(vm, "one\r\ntwo\r\nthree\r\n", 17);
	ck_assert_str_eq(fixture_console(vm), "one\ntwo\nthree\r\n");
	fixture_free(vm);

	vm = fixture_vm(); /* a ring that repeats nothing, or only part of a line */
	console_io(vm, "abc\n");
	hc_console_ring_out(vm, "bc\n", 3);
	ck_assert_str_eq(fixture_console(vm), "abc\nbc\n");
	fixture_free(vm);
}
END_TEST

/* --hvlog: all of console_io there, the console has the ring only. */
START_TEST(console_hvlog_takes_console_io)
{
	struct vm *vm = fixture_vm();
	char *log = NULL;
	size_t len = 0;

	vm->hvlog = open_memstream(&log, &len);
	console_io(vm, "hv\n");
	hc_console_ring_out(vm, "hv\n", 3);
	console_io(vm, "again\n");
	fflush(vm->hvlog);
	ck_assert_str_eq(log, "hv\nagain\n");
	ck_assert_str_eq(fixture_console(vm), "hv\n");
	fclose(vm->hvlog);
	free(log);
	fixture_free(vm);
}
END_TEST

/* The frame VCPUOP_register_vcpu_info keeps a reference to is counted by
 * --check-invariants like every other reference. */
START_TEST(vcpu_info_reference_counted)
{
	struct vm *vm = fixture_vm();
	uint64_t arg = vm->lay.start_info_va + 2048;
	struct vcpu_register_vcpu_info *r = (void *)(vm->mem + (arg - vm->lay.v_start));
	char why[300] = "";

	memset(r, 0, sizeof(*r));
	r->mfn = vm->lay.first_free_pfn;
	ck_assert_int_eq(call(vm, XEN_HC_vcpu_op, VCPUOP_register_vcpu_info, 0, arg), 0);
	ck_assert_msg(mmu_check_counts(vm, why, sizeof(why)) == 0, "%s", why);
	fixture_free(vm);
}
END_TEST

Suite *hc_suite(void);

Suite *hc_suite(void)
{
	Suite *s = suite_create("hypercalls");
	TCase *tc = tcase_create("dispatch");

	tcase_add_loop_test(tc, unknown_is_enosys, 0,
			    (int)(sizeof(unknown_numbers) / sizeof(*unknown_numbers)));
	tcase_add_test(tc, names_cover_the_abi);
	tcase_add_test(tc, console_write_reads_guest_memory);
	tcase_add_test(tc, shutdown_reasons);
	tcase_add_test(tc, version_and_assist);
	tcase_add_test(tc, fifo_checked_then_declined);
	tcase_add_test(tc, poll_takes_the_abi_ports);
	tcase_add_test(tc, console_shows_each_line_once);
	tcase_add_test(tc, console_hvlog_takes_console_io);
	tcase_add_test(tc, vcpu_info_reference_counted);
	suite_add_tcase(s, tc);
	return s;
}
