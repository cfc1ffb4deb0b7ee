/* hcall: the hypercall ABI at its edges: unknown numbers, bad pointers and
 * bad arguments get Xen's error values and never harm the guest. */
#include "rt.h"

/* memory_op: sizes, the M2P window, the one-region memory map. */
static void memory(const struct start_info *si)
{
	struct xen_machphys_mapping mp;
	struct xen_memory_map map = { 4, 0, 0 };
	struct e820_entry e820[4];
	uint16_t self = DOMID_SELF, other = 0;

	map.buffer = (uint64_t)e820;
	expect_eq(hypercall(XEN_HC_memory_op, XENMEM_current_reservation, (uint64_t)&self, 0),
		  si->nr_pages);
	expect_eq(hypercall(XEN_HC_memory_op, XENMEM_maximum_reservation, (uint64_t)&self, 0),
		  si->nr_pages);
	expect_eq(hypercall(XEN_HC_memory_op, XENMEM_current_reservation, (uint64_t)&other, 0),
		  -XEN_ESRCH);
	/* after RAM: shared_info, the 32 frames the grant table may grow to and
	 * its 4 status frames (version 2) */
	expect_eq(hypercall(XEN_HC_memory_op, XENMEM_maximum_ram_page, 0, 0), si->nr_pages + 36);
	expect_eq(hypercall(XEN_HC_memory_op, XENMEM_machphys_mapping, (uint64_t)&mp, 0), 0);
	expect_eq(mp.v_start, XEN_RO_MPT_BASE);
	expect_eq(mp.max_mfn, si->nr_pages + 36);
	/* the M2P says what the P2M says, through the window it announced */
	expect_eq(((const volatile uint64_t *)mp.v_start)[virt_to_mfn(si)], virt_to_mfn(si));
	expect_eq(hypercall(XEN_HC_memory_op, XENMEM_memory_map, (uint64_t)&map, 0), 0);
	expect_eq(map.nr_entries, 1);
	expect_eq(e820[0].addr, 0);
	expect_eq(e820[0].size, si->nr_pages * 4096);
	expect_eq(e820[0].type, E820_RAM);
	expect_eq(hypercall(XEN_HC_memory_op, XENMEM_memory_map, 0x10, 0), -XEN_EFAULT);
	expect_eq(hypercall(XEN_HC_memory_op, XENMEM_machine_memory_map, (uint64_t)&map, 0),
		  -XEN_EPERM);
	/* an unreadable reservation does no extent, and says so (0), as on Xen */
	expect_eq(hypercall(XEN_HC_memory_op, XENMEM_decrease_reservation, 0, 0), 0);
	expect_eq(hypercall(XEN_HC_memory_op, XENMEM_machphys_mfn_list, 0, 0), -XEN_ENOSYS);
	printf("hcall: memory_op reports %lu pages, the M2P window and one RAM region\n",
	       (unsigned long)si->nr_pages);
}

/* The grant table: its size, its frames mapped and written, version 1. */
static void grants(const struct start_info *si)
{
	struct gnttab_query_size q = { DOMID_SELF, 0, 0, 0, 7, 0 };
	struct gnttab_setup_table st = { DOMID_SELF, 0, 4, 9, { 0 }, 0 };
	struct gnttab_get_version gv = { DOMID_SELF, 0, 0 };
	uint64_t frames[4];
	uint32_t version = 2;

	expect_eq(hypercall(XEN_HC_grant_table_op, GNTTABOP_query_size, (uint64_t)&q, 1), 0);
	expect_eq(q.status, GNTST_okay);
	expect_eq(q.nr_frames, 1);
	expect_eq(q.max_nr_frames, 32);
	st.frame_list = (uint64_t)frames;
	expect_eq(hypercall(XEN_HC_grant_table_op, GNTTABOP_setup_table, (uint64_t)&st, 1), 0);
	expect_eq(st.status, GNTST_okay);
	expect_eq(frames[0], si->shared_info / 4096 + 1);
	expect_eq(frames[3], frames[0] + 3);
	for (unsigned i = 0; i < 4; i++) { /* map the table and write an entry in each frame */
		volatile struct grant_entry_v1 *g = rt_alloc_page();
		expect_eq(HYPERVISOR_update_va_mapping((uint64_t)g, pte(frames[i], PTE_DATA),
						       UVMF_INVLPG), 0);
		g[i + 1] = (struct grant_entry_v1){ 1 /* GTF_permit_access */, 0, (uint32_t)i };
		expect_eq(g[i + 1].frame, i);
	}
	expect_eq(hypercall(XEN_HC_grant_table_op, GNTTABOP_query_size, (uint64_t)&q, 1), 0);
	expect_eq(q.nr_frames, 4);
	st.nr_frames = 33;
	expect_eq(hypercall(XEN_HC_grant_table_op, GNTTABOP_setup_table, (uint64_t)&st, 1), 0);
	expect_eq(st.status, GNTST_general_error);
	st.nr_frames = 1, st.dom = 7;
	expect_eq(hypercall(XEN_HC_grant_table_op, GNTTABOP_setup_table, (uint64_t)&st, 1), 0);
	expect_eq(st.status, GNTST_bad_domain);
	st.dom = DOMID_SELF, st.frame_list = 0x10; /* a list it cannot write: as Xen, a status */
	expect_eq(hypercall(XEN_HC_grant_table_op, GNTTABOP_setup_table, (uint64_t)&st, 1), 0);
	expect_eq(st.status, GNTST_bad_virt_addr);
	st.frame_list = 0xffff800000000000ul; /* Xen's own range: the call fails */
	expect_eq(hypercall(XEN_HC_grant_table_op, GNTTABOP_setup_table, (uint64_t)&st, 1),
		  -XEN_EFAULT);
	expect_eq(hypercall(XEN_HC_grant_table_op, GNTTABOP_setup_table, (uint64_t)&st, 2),
		  -XEN_EINVAL);
	expect_eq(hypercall(XEN_HC_grant_table_op, GNTTABOP_set_version, (uint64_t)&version, 1), 0);
	expect_eq(version, 2);
	expect_eq(hypercall(XEN_HC_grant_table_op, GNTTABOP_get_version, (uint64_t)&gv, 1), 0);
	expect_eq(gv.version, 2);
	version = 3;
	expect_eq(hypercall(XEN_HC_grant_table_op, GNTTABOP_set_version, (uint64_t)&version, 1),
		  -XEN_EINVAL);
	expect_eq(version, 2); /* the version in force is written back */
	version = 1;
	expect_eq(hypercall(XEN_HC_grant_table_op, GNTTABOP_set_version, (uint64_t)&version, 1), 0);
	expect_eq(hypercall(XEN_HC_grant_table_op, GNTTABOP_get_version, (uint64_t)&gv, 1), 0);
	expect_eq(gv.version, 1);
	expect_eq(hypercall(XEN_HC_grant_table_op, GNTTABOP_transfer, (uint64_t)&gv, 1),
		  -XEN_ENOSYS);
	expect_eq(hypercall(XEN_HC_grant_table_op, GNTTABOP_dump_table, (uint64_t)&gv, 1),
		  -XEN_ENOSYS);
	printf("hcall: grant table of 4 frames set up, mapped and written; version 1\n");
}

/* vcpu_info moved out of shared_info: events are flagged at the new place,
 * and the frame holding it cannot become a page table. */
static void vcpu_info_moved(void)
{
	volatile struct shared_info *sh = rt_map_shared_info();
	volatile struct vcpu_info *vi = (volatile struct vcpu_info *)((char *)rt_alloc_page() + 64);
	struct vcpu_register_vcpu_info r = { virt_to_mfn(vi), 64, 0 };
	struct evtchn_bind_ipi ipi = { 0, 0 };

	expect_eq(HYPERVISOR_vcpu_op(VCPUOP_register_vcpu_info, 0, &r), 0);
	expect_eq(vi->evtchn_pending_sel, ~0ul);  /* everything marked pending */
	expect_eq(vi->evtchn_upcall_mask, 1);     /* the old contents moved over */
	expect_eq(HYPERVISOR_vcpu_op(VCPUOP_register_vcpu_info, 0, &r), -XEN_EINVAL);
	expect_eq(rt_pin(1, r.mfn), -XEN_EINVAL); /* held writable */
	expect_eq(HYPERVISOR_event_channel_op(EVTCHNOP_bind_ipi, &ipi), 0);
	vi->evtchn_pending_sel = 0, vi->evtchn_upcall_pending = 0;
	sh->vcpu_info[0].evtchn_pending_sel = 0, sh->vcpu_info[0].evtchn_upcall_pending = 0;
	sh->evtchn_mask[0] &= ~(1ul << ipi.port);
	expect_eq(HYPERVISOR_event_channel_op(EVTCHNOP_send, &ipi.port), 0);
	expect_eq(vi->evtchn_upcall_pending, 1);
	expect_eq(vi->evtchn_pending_sel, 1ul << (ipi.port / 64));
	expect_eq(sh->vcpu_info[0].evtchn_upcall_pending, 0);
	printf("hcall: vcpu_info moved to a page of the guest's; events flagged there\n");
}

/* sysctl, domctl, platform_op: the control domain's. A domU gets -EFAULT
 * for a structure it cannot read, -EACCES for another interface version
 * (the probe tools and XTF make), else -EPERM. */
static void control_ops(void)
{
	static const struct { unsigned nr; uint32_t version; } ops[] = {
		{ XEN_HC_sysctl, XEN_SYSCTL_INTERFACE_VERSION },
		{ XEN_HC_domctl, XEN_DOMCTL_INTERFACE_VERSION },
		{ XEN_HC_platform_op, XENPF_INTERFACE_VERSION },
	};
	uint32_t op[64] = { 0 };

	for (unsigned i = 0; i < 3; i++) {
		op[1] = ops[i].version - 1;
		expect_eq(hypercall(ops[i].nr, op, 0, 0), -XEN_EACCES);
		op[1] = ops[i].version;
		expect_eq(hypercall(ops[i].nr, op, 0, 0), -XEN_EPERM);
		expect_eq(hypercall(ops[i].nr, 0x10, 0, 0), -XEN_EFAULT);
	}
	printf("hcall: sysctl, domctl and platform_op refused as to a domU: EACCES, EPERM, EFAULT\n");
}

/* A hypercall made with a `syscall` of the guest's own, as Linux makes
 * them, whatever its hypercall page holds. */
static long raw_syscall_hypercall(unsigned nr, uint64_t a1)
{
	long ret;

	__asm__ volatile("syscall" : "=a"(ret), "+D"(a1) : "a"((uint64_t)nr), "S"(0ul)
			 : "rcx", "r11", "memory");
	return ret;
}

/* The stub's direct hypercall entry (stub_abi.h), reached from code that is
 * not the hypercall page, with a stack pointer that is no address at all
 * and every other register holding a pattern: the hypercall is served, the
 * guest's stack is never used, and only %rax, %rcx (the return address it
 * gave) and %r11 (the flags) change, as after a `syscall`. */
uint64_t hcall_saved_rsp, hcall_in[14], hcall_out[14]; /* the asm below reaches them by name */

static void direct_entry(void)
{
	for (unsigned i = 0; i < 14; i++)
		hcall_in[i] = 0x5a5a000000000000ul + i; /* [13], the stack pointer: not canonical */
	hcall_in[4] = XENVER_version; /* %rdi: the command */
	__asm__ volatile(
		"push %%rbp\n"
		"mov %%rsp, hcall_saved_rsp(%%rip)\n"
		"mov hcall_in+8(%%rip), %%rbx\n"
		"mov hcall_in+16(%%rip), %%rdx\n"
		"mov hcall_in+24(%%rip), %%rsi\n"
		"mov hcall_in+32(%%rip), %%rdi\n"
		"mov hcall_in+40(%%rip), %%rbp\n"
		"mov hcall_in+48(%%rip), %%r8\n"
		"mov hcall_in+56(%%rip), %%r9\n"
		"mov hcall_in+64(%%rip), %%r10\n"
		"mov hcall_in+72(%%rip), %%r12\n"
		"mov hcall_in+80(%%rip), %%r13\n"
		"mov hcall_in+88(%%rip), %%r14\n"
		"mov hcall_in+96(%%rip), %%r15\n"
		"mov hcall_in+104(%%rip), %%rsp\n"
		"mov $17, %%eax\n" /* xen_version */
		"lea 1f(%%rip), %%rcx\n"
		"movabs $0x7f8000000000, %%r11\n"
		"jmp *%%r11\n"
		"1: mov %%rsp, hcall_out+104(%%rip)\n" /* the pattern, if nothing touched it */
		"mov hcall_saved_rsp(%%rip), %%rsp\n"
		"mov %%rax, hcall_out(%%rip)\n"
		"mov %%rbx, hcall_out+8(%%rip)\n"
		"mov %%rdx, hcall_out+16(%%rip)\n"
		"mov %%rsi, hcall_out+24(%%rip)\n"
		"mov %%rdi, hcall_out+32(%%rip)\n"
		"mov %%rbp, hcall_out+40(%%rip)\n"
		"mov %%r8, hcall_out+48(%%rip)\n"
		"mov %%r9, hcall_out+56(%%rip)\n"
		"mov %%r10, hcall_out+64(%%rip)\n"
		"mov %%r12, hcall_out+72(%%rip)\n"
		"mov %%r13, hcall_out+80(%%rip)\n"
		"mov %%r14, hcall_out+88(%%rip)\n"
		"mov %%r15, hcall_out+96(%%rip)\n"
		"pop %%rbp\n"
		::: "rax", "rbx", "rcx", "rdx", "rsi", "rdi", "r8", "r9", "r10", "r11", "r12", "r13",
		    "r14", "r15", "memory", "cc");
	expect_eq(hcall_out[0], (4 << 16) | 19);
	for (unsigned i = 1; i < 14; i++)
		expect_eq(hcall_out[i], hcall_in[i]);
	printf("hcall: the stub's direct entry served code that is not the hypercall page, "
	       "its stack pointer a pattern, and kept every register but rax, rcx and r11\n");
}

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
	memory(si);
	grants(si);
	vcpu_info_moved();
	control_ops();
	expect_eq(raw_syscall_hypercall(XEN_HC_xen_version, XENVER_version), (4 << 16) | 19);
	direct_entry();
	printf("hcall: all edge cases answered as Xen would\n");
	return 0;
}
