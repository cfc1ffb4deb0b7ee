/* ptwr_state.c - what is out of sync: the two unhooked-L1 slots, their
 * snapshots, ranges and writable aliases. Queries only; the mechanisms that
 * change them are in ptwr.c. Realisation, the frame table and the checker
 * ask here, below the mechanisms, so that none of them calls back up. */
#include "mmu/ptwr.h"

#define PAGE 4096ull
#define L1_SPAN (2ull << 20)

uint64_t *mmu_ptwr_l1(const struct vm *vm, uint64_t mfn)
{
	return (uint64_t *)(vm->mem + mfn * PAGE);
}

struct ptwr_slot *mmu_ptwr_slot_of(struct vm *vm, uint64_t mfn)
{
	for (int i = 0; i < 2; i++)
		if (vm->mmu.ptwr.slot[i].used && vm->mmu.ptwr.slot[i].l1 == mfn)
			return &vm->mmu.ptwr.slot[i];
	return NULL;
}

const uint64_t *mmu_ptwr_entries(const struct vm *vm, uint64_t mfn)
{
	for (int i = 0; i < 2; i++)
		if (vm->mmu.ptwr.slot[i].used && vm->mmu.ptwr.slot[i].l1 == mfn)
			return vm->mmu.ptwr.slot[i].snapshot;
	return mmu_ptwr_l1(vm, mfn);
}

int mmu_ptwr_pending(const struct vm *vm)
{
	return vm->mmu.ptwr.slot[0].used || vm->mmu.ptwr.slot[1].used;
}

int mmu_ptwr_hidden(const struct vm *vm, uint64_t va)
{
	const struct ptwr_slot *s = &vm->mmu.ptwr.slot[PTWR_SLOT_ACTIVE];

	return s->used && va - s->base < L1_SPAN;
}

int mmu_ptwr_kept(const struct vm *vm)
{
	return vm->mmu.ptwr.slot[PTWR_SLOT_ACTIVE].kept;
}

int mmu_ptwr_alias(const struct vm *vm, uint64_t va, uint64_t mfn)
{
	for (int i = 0; i < 2; i++) {
		const struct ptwr_slot *s = &vm->mmu.ptwr.slot[i];
		for (unsigned j = 0; s->used && s->l1 == mfn && j < s->naliases; j++)
			if (s->alias[j] == (va & ~(PAGE - 1)))
				return 1;
	}
	return 0;
}
