/* grant.c - the grant table a PV guest sets up (version 1). Its frames
 * follow shared_info in the memory file (LOADER_GRANT_FRAMES of them); the
 * guest maps them and writes grant entries as on Xen. No other domain
 * exists, so nothing ever maps or copies through them: the operations that
 * would (map, unmap, copy, transfer, ...) are -ENOSYS. */
#include "hypercalls/hc.h"
#include "mmu/mmu.h"

static int own(uint16_t dom) { return dom == DOMID_SELF || dom == VM_DOMID; }

static int64_t setup_table(struct vm *vm, uint64_t uop)
{
	struct gnttab_setup_table op;

	if (mmu_copy_from_guest(vm, &op, uop, sizeof(op)))
		return -XEN_EFAULT;
	if (!own(op.dom)) {
		op.status = GNTST_bad_domain;
	} else if (op.nr_frames > LOADER_GRANT_FRAMES) {
		op.status = GNTST_general_error;
	} else {
		for (uint32_t i = 0; i < op.nr_frames; i++) {
			uint64_t mfn = mmu_grant_frame(vm, i);
			if (mmu_copy_to_guest(vm, op.frame_list + i * 8ull, &mfn, sizeof(mfn)))
				return -XEN_EFAULT;
		}
		if (op.nr_frames > vm_grant_frames(&vm->grant))
			vm->grant.frames = op.nr_frames; /* a table only grows */
		op.status = GNTST_okay;
	}
	return mmu_copy_to_guest(vm, uop, &op, sizeof(op)) ? -XEN_EFAULT : 0;
}

static int64_t query_size(struct vm *vm, uint64_t uop)
{
	struct gnttab_query_size op;

	if (mmu_copy_from_guest(vm, &op, uop, sizeof(op)))
		return -XEN_EFAULT;
	op.status = own(op.dom) ? GNTST_okay : GNTST_bad_domain;
	op.nr_frames = vm_grant_frames(&vm->grant);
	op.max_nr_frames = LOADER_GRANT_FRAMES;
	return mmu_copy_to_guest(vm, uop, &op, sizeof(op)) ? -XEN_EFAULT : 0;
}

/* Version 1 only; as Xen does, the version in force is written back. */
static int64_t set_version(struct vm *vm, uint64_t uop)
{
	uint32_t version, one = 1;
	int64_t rc;

	if (mmu_copy_from_guest(vm, &version, uop, sizeof(version)))
		return -XEN_EFAULT;
	rc = version == 1 ? 0 : version == 2 ? -XEN_EOPNOTSUPP : -XEN_EINVAL;
	return mmu_copy_to_guest(vm, uop, &one, sizeof(one)) ? -XEN_EFAULT : rc;
}

static int64_t get_version(struct vm *vm, uint64_t uop)
{
	struct gnttab_get_version op;

	if (mmu_copy_from_guest(vm, &op, uop, sizeof(op)))
		return -XEN_EFAULT;
	if (!own(op.dom))
		return -XEN_ESRCH;
	op.version = 1;
	return mmu_copy_to_guest(vm, uop, &op, sizeof(op)) ? -XEN_EFAULT : 0;
}

int64_t hc_grant_table_op(struct vm *vm, const uint64_t a[5])
{
	static const struct { int64_t (*fn)(struct vm *, uint64_t); size_t size; } ops[] = {
		[GNTTABOP_setup_table] = { setup_table, sizeof(struct gnttab_setup_table) },
		[GNTTABOP_query_size] = { query_size, sizeof(struct gnttab_query_size) },
		[GNTTABOP_set_version] = { set_version, sizeof(uint32_t) },
		[GNTTABOP_get_version] = { get_version, sizeof(struct gnttab_get_version) },
	};
	uint64_t cmd = a[0], count = a[2];

	if (cmd >= sizeof(ops) / sizeof(ops[0]) || !ops[cmd].fn)
		return -XEN_ENOSYS;
	if (count > 64)
		return -XEN_EINVAL; /* Xen would continue the call; no guest needs that many */
	if ((cmd == GNTTABOP_set_version || cmd == GNTTABOP_get_version) && count != 1)
		return -XEN_EINVAL; /* as Xen: one version at a time */
	for (uint64_t i = 0; i < count; i++) {
		int64_t rc = ops[cmd].fn(vm, a[1] + i * ops[cmd].size);
		if (rc)
			return rc;
	}
	return 0;
}
