/* update.c - explicit page-table updates: mmu_update requests, pins, base
 * pointers and update_va_mapping, on top of the frame table's rules. */
#include "mmu/mmu.h"
#include "mmu/ptwr.h"

#include <errno.h>
#include <string.h>

#define PAGE 4096ull

/* A plain write through mmu_update to a frame that is not a page table:
 * allowed where the frame could be mapped writable (Xen does the same). */
static int write_plain(struct vm *vm, uint64_t mfn, unsigned idx, uint64_t val)
{
	int rc = mmu_get_page_and_type(vm, mfn, PGT_WRITABLE);

	if (rc)
		return rc;
	((uint64_t *)mmu_frame_data(vm, mfn))[idx] = val; /* a P2M frame is written first */
	mmu_put_page_and_type(vm, mfn);
	return 0;
}

int mmu_update_one(struct vm *vm, uint64_t ptr, uint64_t val)
{
	uint64_t mfn = ptr >> XEN_PAGE_SHIFT;
	unsigned idx = (unsigned)((ptr & (PAGE - 1)) >> 3);

	switch (ptr & 3) {
	case MMU_NORMAL_PT_UPDATE:
	case MMU_PT_UPDATE_PRESERVE_AD:
		if (mfn >= vm->nr_frames)
			return -XEN_EINVAL;
		if (!mmu_is_pagetable(vm, mfn))
			return write_plain(vm, mfn, idx, val);
		return mmu_mod_entry(vm, _mfn(mfn), idx, val, (ptr & 3) == MMU_PT_UPDATE_PRESERVE_AD);
	case MMU_MACHPHYS_UPDATE:
		if (!mmu_ram_owned(vm, mfn))
			return -XEN_EINVAL;
		vm->mmu.m2p[mfn] = val ^ mfn; /* see mmu_m2p() */
		return 0;
	default:
		return -XEN_ENOSYS; /* MMU_PT_UPDATE_NO_TRANSLATE is for HVM guests */
	}
}

int mmu_pin(struct vm *vm, mfn_t table, unsigned level)
{
	uint64_t mfn = mfn_x(table);
	int rc;

	if (mfn >= vm->nr_frames || level < 1 || level > 4 || vm->mmu.frames[mfn].pinned)
		return -XEN_EINVAL;
	rc = mmu_get_page_and_type(vm, mfn, (enum mmu_type)(PGT_L1 + level - 1));
	if (rc)
		return rc;
	vm->mmu.frames[mfn].pinned = 1;
	vm->mmu.count.pins++;
	return 0;
}

int mmu_unpin(struct vm *vm, mfn_t table)
{
	uint64_t mfn = mfn_x(table);

	if (mfn >= vm->nr_frames || !vm->mmu.frames[mfn].pinned)
		return -XEN_EINVAL;
	vm->mmu.frames[mfn].pinned = 0;
	mmu_put_page_and_type(vm, mfn);
	vm->mmu.count.unpins++;
	return 0;
}

int mmu_new_baseptr(struct vm *vm, mfn_t l4, int user)
{
	uint64_t mfn = mfn_x(l4);
	uint64_t *slot = user ? &vm->vcpu.user_l4 : &vm->vcpu.kernel_l4;
	uint64_t old = *slot;
	int had = user ? old != 0 : 1;
	int rc = 0;

	if (user == vm->vcpu.user_mode && mfn != old && mmu_ptwr_leave_space(vm))
		return -XEN_EINVAL; /* the domain was ended */
	if (user && mfn == 0) {
		*slot = 0;
	} else {
		rc = mmu_get_page_and_type(vm, mfn, PGT_L4);
		if (rc)
			return rc;
		*slot = mfn;
	}
	if (had)
		mmu_put_page_and_type(vm, old);
	if (user == vm->vcpu.user_mode)
		mmu_mark_switch(vm, _mfn(old), l4); /* the tables the guest runs on changed */
	vm->mmu.count.base_switches++;
	return 0;
}

int mmu_adopt_bootstrap(struct vm *vm, mfn_t l4)
{
	int rc = mmu_pin(vm, l4, 4);

	if (rc)
		return rc;
	rc = mmu_get_page_and_type(vm, mfn_x(l4), PGT_L4); /* the base pointer's reference */
	if (rc)
		return rc;
	vm->vcpu.kernel_l4 = mfn_x(l4);
	mmu_mark_all(vm);
	return 0;
}

int mmu_update_va(struct vm *vm, gva_t addr, uint64_t val)
{
	uint64_t va = gva_x(addr);
	struct mmu_walk w;

	if (va >= HOLE_BASE)
		return -XEN_EINVAL;
	/* the walk stops at the L1 when only the leaf is missing */
	if (mmu_walk(vm, vcpu_cr3(&vm->vcpu), addr, &w) && w.level_missing != 1)
		return -XEN_EINVAL;
	return mmu_mod_entry(vm, _mfn(w.table[3]), (unsigned)((va >> 12) & 511), val, 0);
}

/* An 8-byte aligned entry of an L1 the domain owns, by machine address. */
static int l1e_by_pte(const struct vm *vm, uint64_t addr, uint64_t *l1, unsigned *idx)
{
	const struct mmu_frame *f;

	*l1 = addr >> XEN_PAGE_SHIFT;
	*idx = (unsigned)((addr & (PAGE - 1)) >> 3);
	if ((addr & 7) || !mmu_owned(vm, *l1))
		return -XEN_EINVAL;
	f = &vm->mmu.frames[*l1];
	return f->type == PGT_L1 && f->type_count ? 0 : -XEN_EINVAL;
}

int mmu_grant_l1e(const struct vm *vm, uint64_t addr, int by_pte, uint64_t *l1, unsigned *idx,
		  uint64_t *old)
{
	struct mmu_walk w;

	if (by_pte) {
		if (l1e_by_pte(vm, addr, l1, idx))
			return -XEN_EINVAL;
	} else {
		if (addr >= HOLE_BASE)
			return -XEN_EINVAL;
		if (mmu_walk(vm, vcpu_cr3(&vm->vcpu), _gva(addr), &w) && w.level_missing != 1)
			return -XEN_EINVAL;
		*l1 = w.table[3];
		*idx = (unsigned)((addr >> XEN_PAGE_SHIFT) & 511);
	}
	*old = ((const uint64_t *)(vm->mem + *l1 * PAGE))[*idx];
	return 0;
}
