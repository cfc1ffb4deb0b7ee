/* dispatch.c - the bounds-checked hypercall table. */
#include "hypercalls/hc.h"

#include <errno.h>
#include <stdio.h>

#include "mmu/mmu.h"
#include "mmu/ptwr.h"

static const hc_fn handlers[XEN_HC_COUNT] = {
	[XEN_HC_set_trap_table] = hc_set_trap_table,
	[XEN_HC_mmu_update] = hc_mmu_update,
	[XEN_HC_stack_switch] = hc_stack_switch,
	[XEN_HC_set_callbacks] = hc_set_callbacks,
	[XEN_HC_fpu_taskswitch] = hc_fpu_taskswitch,
	[XEN_HC_multicall] = hc_multicall,
	[XEN_HC_iret] = hc_iret,
	[XEN_HC_callback_op] = hc_callback_op,
	[XEN_HC_set_segment_base] = hc_set_segment_base,
	[XEN_HC_set_gdt] = hc_set_gdt,
	[XEN_HC_update_descriptor] = hc_update_descriptor,
	[XEN_HC_event_channel_op] = hc_event_channel_op,
	[XEN_HC_set_timer_op] = hc_set_timer_op,
	[XEN_HC_vcpu_op] = hc_vcpu_op,
	[XEN_HC_sched_op_compat] = hc_sched_op_compat,
	[XEN_HC_update_va_mapping] = hc_update_va_mapping,
	[XEN_HC_update_va_mapping_otherdomain] = hc_update_va_mapping_otherdomain,
	[XEN_HC_mmuext_op] = hc_mmuext_op,
	[XEN_HC_memory_op] = hc_memory_op,
	[XEN_HC_grant_table_op] = hc_grant_table_op,
	[XEN_HC_xen_version] = hc_xen_version,
	[XEN_HC_console_io] = hc_console_io,
	[XEN_HC_vm_assist] = hc_vm_assist,
	[XEN_HC_sched_op] = hc_sched_op,
	[XEN_HC_physdev_op] = hc_physdev_op,
	[XEN_HC_set_debugreg] = hc_set_debugreg,
	[XEN_HC_get_debugreg] = hc_get_debugreg,
	[XEN_HC_sysctl] = hc_sysctl,
	[XEN_HC_domctl] = hc_domctl,
	[XEN_HC_platform_op] = hc_platform_op,
};

static const char *const names[XEN_HC_COUNT] = {
	[XEN_HC_set_trap_table] = "set_trap_table",
	[XEN_HC_mmu_update] = "mmu_update",
	[XEN_HC_set_gdt] = "set_gdt",
	[XEN_HC_stack_switch] = "stack_switch",
	[XEN_HC_set_callbacks] = "set_callbacks",
	[XEN_HC_fpu_taskswitch] = "fpu_taskswitch",
	[XEN_HC_sched_op_compat] = "sched_op_compat",
	[XEN_HC_platform_op] = "platform_op",
	[XEN_HC_set_debugreg] = "set_debugreg",
	[XEN_HC_get_debugreg] = "get_debugreg",
	[XEN_HC_update_descriptor] = "update_descriptor",
	[XEN_HC_memory_op] = "memory_op",
	[XEN_HC_multicall] = "multicall",
	[XEN_HC_update_va_mapping] = "update_va_mapping",
	[XEN_HC_set_timer_op] = "set_timer_op",
	[XEN_HC_event_channel_op_compat] = "event_channel_op_compat",
	[XEN_HC_xen_version] = "xen_version",
	[XEN_HC_console_io] = "console_io",
	[XEN_HC_physdev_op_compat] = "physdev_op_compat",
	[XEN_HC_grant_table_op] = "grant_table_op",
	[XEN_HC_vm_assist] = "vm_assist",
	[XEN_HC_update_va_mapping_otherdomain] = "update_va_mapping_otherdomain",
	[XEN_HC_iret] = "iret",
	[XEN_HC_vcpu_op] = "vcpu_op",
	[XEN_HC_set_segment_base] = "set_segment_base",
	[XEN_HC_mmuext_op] = "mmuext_op",
	[XEN_HC_xsm_op] = "xsm_op",
	[XEN_HC_nmi_op] = "nmi_op",
	[XEN_HC_sched_op] = "sched_op",
	[XEN_HC_callback_op] = "callback_op",
	[XEN_HC_xenoprof_op] = "xenoprof_op",
	[XEN_HC_event_channel_op] = "event_channel_op",
	[XEN_HC_physdev_op] = "physdev_op",
	[XEN_HC_hvm_op] = "hvm_op",
	[XEN_HC_sysctl] = "sysctl",
	[XEN_HC_domctl] = "domctl",
	[XEN_HC_kexec_op] = "kexec_op",
	[XEN_HC_tmem_op] = "tmem_op",
	[XEN_HC_argo_op] = "argo_op",
	[XEN_HC_xenpmu_op] = "xenpmu_op",
	[XEN_HC_dm_op] = "dm_op",
	[XEN_HC_hypfs_op] = "hypfs_op",
};

const char *hc_name(unsigned nr)
{
	return nr < XEN_HC_COUNT ? names[nr] : NULL;
}

void hc_sync(struct vm *vm)
{
	int rc = mmu_sync(vm);

	if (rc) {
		/* an address space no process could map is the guest's doing */
		vm_end_domain(vm, rc == -XEN_ENOSPC ? VM_CRASH : VM_HOST_ERROR, "%s",
			 rc == -XEN_ENOSPC ? "the guest's address space needs more host mappings "
					     "than a process may have (vm.max_map_count)"
					   : "host mapping operations could not be queued");
	}
}

static int64_t call_one(struct vm *vm, uint64_t nr, const uint64_t args[5])
{
	if (nr >= XEN_HC_COUNT || !handlers[nr]) {
		if (nr < XEN_HC_COUNT)
			vm->stats.hypercalls[nr]++;
		else
			vm->stats.hypercalls_unknown++;
		return -XEN_ENOSYS;
	}
	vm->stats.hypercalls[nr]++;
	return handlers[nr](vm, args);
}

/* HYPERVISOR_multicall: each entry as its own hypercall, results written
 * back; a nested multicall is -EINVAL. An iret ends the multicall, as
 * Xen's fix for XSA-213 does: the guest may be in user mode now, so
 * nothing after it runs; its result is written back if the tables the
 * guest now runs on allow it, and is the multicall's (the rax the iret
 * restored). */
int64_t hc_multicall(struct vm *vm, const uint64_t a[5])
{
	for (uint64_t i = 0; i < (uint32_t)a[1] && !vm->end; i++) {
		uint64_t at = a[0] + i * sizeof(struct multicall_entry);
		struct multicall_entry e;
		int failed;
		if (mmu_copy_from_guest(vm, &e, at, sizeof(e)))
			return -XEN_EFAULT;
		e.result = e.op == XEN_HC_multicall ? -XEN_EINVAL : call_one(vm, e.op, e.args);
		hc_sync(vm);
		failed = mmu_copy_to_guest(vm, at + offsetof(struct multicall_entry, result), &e.result,
					   sizeof(e.result));
		if (e.op == XEN_HC_iret)
			return e.result;
		if (failed)
			return -XEN_EFAULT;
	}
	return 0;
}

void hc_dispatch(struct vm *vm)
{
	struct stub_regs *r = &vm->vcpu.regs;
	const uint64_t args[5] = { r->rdi, r->rsi, r->rdx, r->r10, r->r8 };
	uint64_t nr = r->rax;

	/* out-of-sync page tables are made exact before any hypercall looks */
	if (nr < XEN_HC_COUNT && handlers[nr] && mmu_ptwr_pending(vm) &&
	    mmu_ptwr_resync_all(vm, (nr == XEN_HC_sched_op || nr == XEN_HC_sched_op_compat) &&
					    args[0] == SCHEDOP_shutdown ? PTWR_RESYNC_SHUTDOWN
									: PTWR_RESYNC_HYPERCALL))
		return;
	r->rax = (uint64_t)call_one(vm, nr, args);
	hc_sync(vm);
}
