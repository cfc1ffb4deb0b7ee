/* sched.c - sched_op and its compat form: yield, block, shutdown. */
#include "hypercalls/hc.h"
#include "mmu/mmu.h"

#include <stdio.h>

static const char *const reasons[] = {
	[SHUTDOWN_poweroff] = "poweroff", [SHUTDOWN_reboot] = "reboot",
	[SHUTDOWN_suspend] = "suspend", [SHUTDOWN_crash] = "crash",
	[SHUTDOWN_watchdog] = "watchdog",
};

static int64_t shutdown(struct vm *vm, uint32_t reason)
{
	vm->shutdown_code = (int)reason;
	switch (reason) {
	case SHUTDOWN_poweroff:
		vm_end_domain(vm, VM_POWEROFF, NULL);
		break;
	case SHUTDOWN_reboot:
		vm_end_domain(vm, VM_REBOOT, NULL);
		break;
	case SHUTDOWN_crash:
	case SHUTDOWN_watchdog:
	case SHUTDOWN_suspend:
		vm_end_domain(vm, VM_CRASH, "guest shut down with reason %s%s",
			 reasons[reason],
			 reason == SHUTDOWN_suspend ? " (pvmm cannot suspend a domain)" : "");
		break;
	default:
		return -XEN_EINVAL;
	}
	return 0;
}

static int64_t sched(struct vm *vm, uint64_t cmd, uint64_t arg, int compat)
{
	struct sched_shutdown s;

	switch (cmd) {
	case SCHEDOP_yield:
		hc_backends_work(vm); /* another domain, a backend's, may run */
		return 0;
	case SCHEDOP_block:
		return hc_block(vm);
	case SCHEDOP_poll:
		return hc_poll(vm, arg);
	case SCHEDOP_shutdown:
		if (compat)
			return shutdown(vm, (uint32_t)arg);
		if (mmu_copy_from_guest(vm, &s, arg, sizeof(s)))
			return -XEN_EFAULT;
		return shutdown(vm, s.reason);
	case SCHEDOP_shutdown_code:
		if (mmu_copy_from_guest(vm, &s, arg, sizeof(s)))
			return -XEN_EFAULT;
		vm->shutdown_code = (int)s.reason;
		return 0;
	default:
		return -XEN_ENOSYS;
	}
}

int64_t hc_sched_op(struct vm *vm, const uint64_t a[5])
{
	return sched(vm, a[0], a[1], 0);
}

int64_t hc_sched_op_compat(struct vm *vm, const uint64_t a[5])
{
	return sched(vm, a[0], a[1], 1);
}
