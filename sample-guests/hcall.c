/* hcall: the hypercall ABI at its edges: unknown numbers, bad pointers and
 * bad arguments get Xen's error values and never harm the guest. */
#include "rt.h"

int guest_main(struct start_info *si)
{
	struct xen_feature_info fi = { 0, 0xffffffffu };
	struct xen_platform_parameters pp;
	char caps[XEN_CAPABILITIES_LEN];

	(void)si;
	expect_eq(hypercall(11, 0, 0, 0), -XEN_ENOSYS);     /* a number with no hypercall */
	expect_eq(hypercall(63, 0, 0, 0), -XEN_ENOSYS);
	expect_eq(hypercall5(127, 1, 2, 3, 4, 5), -XEN_ENOSYS); /* beyond the table */
	expect_eq(HYPERVISOR_console_io(CONSOLEIO_write, 16, (const char *)0x10), -XEN_EFAULT);
	expect_eq(HYPERVISOR_console_io(CONSOLEIO_write, 16, (const char *)0x7f8000000000ul),
		  -XEN_EFAULT); /* the pvmm hole */
	expect_eq(HYPERVISOR_console_io(CONSOLEIO_write, 4096, (const char *)0x7f7ffffff800ul),
		  -XEN_EFAULT); /* runs into the hole */
	expect_eq(HYPERVISOR_console_io(CONSOLEIO_write, 1, (const char *)-1ul), -XEN_EFAULT);
	expect_eq(HYPERVISOR_console_io(99, 0, 0), -XEN_ENOSYS);
	expect_eq(HYPERVISOR_vm_assist(VMASST_CMD_enable, 31), -XEN_EINVAL);
	expect_eq(HYPERVISOR_vm_assist(VMASST_CMD_enable, VMASST_TYPE_writable_pagetables), 0);
	expect_eq(HYPERVISOR_xen_version(XENVER_get_features, &fi), 0);
	expect_eq(fi.submap, 0);
	expect_eq(HYPERVISOR_xen_version(XENVER_platform_parameters, &pp), 0);
	expect_eq(pp.virt_start, 0x7f8000000000ul);
	expect_eq(HYPERVISOR_xen_version(XENVER_capabilities, caps), 0);
	guest_assert(!strcmp(caps, "xen-3.0-x86_64"));
	expect_eq(HYPERVISOR_xen_version(XENVER_pagesize, NULL), 4096);
	/* a read-only page (the L4 of the bootstrap tables) cannot receive output */
	expect_eq(HYPERVISOR_xen_version(XENVER_capabilities, (void *)si->pt_base), -XEN_EFAULT);
	expect_eq(HYPERVISOR_sched_op(SCHEDOP_shutdown, (void *)0x10), -XEN_EFAULT);
	expect_eq(HYPERVISOR_sched_op(SCHEDOP_yield, NULL), 0);
	printf("hcall: all edge cases answered as Xen would\n");
	return 0;
}
