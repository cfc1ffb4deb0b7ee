/* mm.c - mmu_update, mmuext_op, update_va_mapping: decode the guest's
 * requests (through the checked accessor) and apply them with mmu/.
 * memory_op is memory.c's. */
#include "hypercalls/hc.h"
#include "mmu/mmu.h"

#include <string.h>

#define PREEMPTED (1u << 31) /* Xen's continuation flag in the count */
#define PAGE 4096ull

static int64_t report_done(struct vm *vm, uint64_t pdone, uint32_t done, int64_t rc)
{
	if (pdone && mmu_copy_to_guest(vm, pdone, &done, sizeof(done)))
		return -XEN_EFAULT;
	return rc;
}

/* The loop both batched hypercalls share: (a[0]) an array of (a[1])
 * requests of (size) bytes, (a[2]) where to report how many succeeded,
 * (a[3]) the domain. Stops at the first failure. */
static int64_t batch(struct vm *vm, const uint64_t a[5], size_t size,
		     int64_t (*one)(struct vm *vm, const void *req))
{
	uint32_t count = (uint32_t)a[1] & ~PREEMPTED, done = 0;
	uint64_t req[sizeof(struct mmuext_op) / 8]; /* the larger request, aligned */
	int64_t rc = 0;

	if ((uint16_t)a[3] != DOMID_SELF)
		return -XEN_ESRCH;
	for (; done < count; done++) {
		if (mmu_copy_from_guest(vm, req, a[0] + (uint64_t)done * size, size)) {
			rc = -XEN_EFAULT;
			break;
		}
		rc = one(vm, req);
		if (rc)
			break;
	}
	return report_done(vm, a[2], done, rc);
}

static int64_t update_one(struct vm *vm, const void *req)
{
	const struct mmu_update *u = req;

	return mmu_update_one(vm, u->ptr, u->val);
}

int64_t hc_mmu_update(struct vm *vm, const uint64_t a[5])
{
	return batch(vm, a, sizeof(struct mmu_update), update_one);
}

/* A vCPU mask argument is read (and must be readable) though there is one vCPU. */
static int64_t read_mask(struct vm *vm, uint64_t gva)
{
	uint64_t mask;

	return mmu_copy_from_guest(vm, &mask, gva, sizeof(mask)) ? -XEN_EFAULT : 0;
}

static int64_t clear_page(struct vm *vm, uint64_t mfn)
{
	int rc = mmu_get_page_and_type(vm, mfn, PGT_WRITABLE);

	if (rc)
		return rc;
	memset(mmu_frame_data(vm, mfn), 0, PAGE);
	mmu_put_page_and_type(vm, mfn);
	return 0;
}

static int64_t copy_page(struct vm *vm, uint64_t dst, uint64_t src)
{
	int rc;

	if (src >= vm->nr_frames || vm->mmu.frames[src].owner != FRAME_OWNED)
		return -XEN_EINVAL;
	rc = mmu_get_page_and_type(vm, dst, PGT_WRITABLE);
	if (rc)
		return rc;
	memmove(mmu_frame_data(vm, dst), mmu_frame_data(vm, src), PAGE);
	mmu_put_page_and_type(vm, dst);
	return 0;
}

static int64_t ext_op(struct vm *vm, const void *req)
{
	const struct mmuext_op *op = req;

	switch (op->cmd) {
	case MMUEXT_PIN_L1_TABLE:
	case MMUEXT_PIN_L2_TABLE:
	case MMUEXT_PIN_L3_TABLE:
	case MMUEXT_PIN_L4_TABLE:
		return mmu_pin(vm, _mfn(op->arg1), op->cmd - MMUEXT_PIN_L1_TABLE + 1);
	case MMUEXT_UNPIN_TABLE:
		return mmu_unpin(vm, _mfn(op->arg1));
	case MMUEXT_NEW_BASEPTR:
		return mmu_new_baseptr(vm, _mfn(op->arg1), 0);
	case MMUEXT_NEW_USER_BASEPTR:
		return mmu_new_baseptr(vm, _mfn(op->arg1), 1);
	case MMUEXT_TLB_FLUSH_MULTI:
	case MMUEXT_INVLPG_MULTI:
		if (read_mask(vm, op->arg2))
			return -XEN_EFAULT;
		/* fall through */
	case MMUEXT_TLB_FLUSH_LOCAL:
	case MMUEXT_TLB_FLUSH_ALL:
	case MMUEXT_INVLPG_LOCAL:
	case MMUEXT_INVLPG_ALL:
		/* host mappings follow every accepted update at once: nothing is stale */
		if (op->cmd == MMUEXT_INVLPG_LOCAL || op->cmd == MMUEXT_INVLPG_MULTI ||
		    op->cmd == MMUEXT_INVLPG_ALL)
			vm->mmu.count.invlpgs++;
		else
			vm->mmu.count.flushes++;
		return 0;
	case MMUEXT_SET_LDT:
		return op->arg2 == 0 ? 0 : -XEN_ENOSYS; /* clearing the LDT is all there is */
	case MMUEXT_CLEAR_PAGE:
		return op->arg1 < vm->nr_frames ? clear_page(vm, op->arg1) : -XEN_EINVAL;
	case MMUEXT_COPY_PAGE:
		return op->arg1 < vm->nr_frames ? copy_page(vm, op->arg1, op->arg2) : -XEN_EINVAL;
	case MMUEXT_FLUSH_CACHE:
	case MMUEXT_FLUSH_CACHE_GLOBAL:
		return -XEN_EPERM; /* needs I/O privilege */
	case MMUEXT_MARK_SUPER:
	case MMUEXT_UNMARK_SUPER:
		return -XEN_EOPNOTSUPP; /* no superpages */
	default:
		return -XEN_ENOSYS;
	}
}

int64_t hc_mmuext_op(struct vm *vm, const uint64_t a[5])
{
	return batch(vm, a, sizeof(struct mmuext_op), ext_op);
}

static int64_t va_flush(struct vm *vm, uint64_t flags)
{
	uint64_t target = flags & ~UVMF_FLUSHTYPE_MASK;

	switch (flags & UVMF_FLUSHTYPE_MASK) {
	case UVMF_NONE:
		return 0;
	case UVMF_TLB_FLUSH:
		vm->mmu.count.flushes++;
		break;
	case UVMF_INVLPG:
		vm->mmu.count.invlpgs++;
		break;
	default:
		return -XEN_EINVAL;
	}
	if (target == UVMF_LOCAL || target == UVMF_ALL)
		return 0;
	return read_mask(vm, target); /* UVMF_MULTI: a pointer to a vCPU mask */
}

int64_t hc_update_va_mapping(struct vm *vm, const uint64_t a[5])
{
	int64_t rc = mmu_update_va(vm, _gva(a[0]), a[1]);

	return rc ? rc : va_flush(vm, a[2]);
}

int64_t hc_update_va_mapping_otherdomain(struct vm *vm, const uint64_t a[5])
{
	if ((uint16_t)a[3] != DOMID_SELF)
		return -XEN_ESRCH;
	return hc_update_va_mapping(vm, a);
}
