/* dirty.c - the record of changed page-table entries: (table frame, entry
 * index) pairs, or "everything", kept until mmu_sync() realises them. Pure
 * bookkeeping over the tables in guest memory: nothing here maps. */
#include "mmu/mmu.h"

#include <string.h>

#define PAGE 4096ull

/* Everything, in the running space only. */
static void mark_all_here(struct vm *vm)
{
	vm->mmu.gen++;
	vm->mmu.dirty_all = 1;
	vm->mmu.ndirty = 0;
}

struct mmu_dirty *mmu_dirty_find(const struct mmu_state *m, uint64_t mfn)
{
	for (unsigned i = 0; i < m->ndirty; i++)
		if (m->dirty[i].mfn == mfn)
			return (struct mmu_dirty *)&m->dirty[i];
	return NULL;
}

void mmu_mark_dirty(struct vm *vm, mfn_t table, unsigned idx)
{
	uint64_t mfn = mfn_x(table);
	struct mmu_state *m = &vm->mmu;

	m->gen++;
	mmu_space_mark(m, mfn, idx); /* the parked spaces' records */
	if (!m->dirty_all && mmu_dirty_add(m->dirty, &m->ndirty, mfn, idx))
		mark_all_here(vm);
}

void mmu_mark_all(struct vm *vm)
{
	mmu_space_mark_all(&vm->mmu);
	mark_all_here(vm);
}

int mmu_dirty_test(const struct mmu_dirty *d, unsigned i)
{
	return (int)((d->bits[i / 64] >> (i % 64)) & 1);
}

/* What a walk carries down that realise uses: RW while every level has it,
 * NX once any level has it. */
static uint64_t walk_flags(uint64_t flags, uint64_t e)
{
	return (flags & (e | ~PTE_RW)) | (e & PTE_NX);
}
#define WALK_START PTE_RW

static uint64_t child_of(const struct vm *vm, uint64_t e)
{
	uint64_t mfn = (e & PTE_ADDR_MASK) >> XEN_PAGE_SHIFT;

	return (e & PTE_P) && mfn < vm->nr_frames ? mfn : UINT64_MAX;
}

/* Table pairs one switch may compare before it gives up and redoes the
 * whole space: tables hooked many times over would otherwise make the
 * comparison explode (255 x 512 x 512 pairs for one aliased L3/L2/L1). */
#define SWITCH_DIFF_BUDGET 4096u

/* Mark the entries of (to) that realise differently from (from) at the same
 * place: a walk below equal entries reached with equal flags sees the same
 * frames, so only differing entries are followed down (both present: the
 * difference may be further down) or marked (anything else). An entry of
 * (from) changed since the last sync is marked too: the host still shows
 * it as it was. */
static void diff_tables(struct vm *vm, uint64_t from, uint64_t to, unsigned level,
			uint64_t flags_from, uint64_t flags_to, unsigned *budget)
{
	const uint64_t *a = (const uint64_t *)(vm->mem + from * PAGE);
	const uint64_t *b = (const uint64_t *)(vm->mem + to * PAGE);
	const struct mmu_dirty *d = mmu_dirty_find(&vm->mmu, from);
	unsigned top = level == 4 ? HOLE_L4_SLOT : PT_ENTRIES;

	if (!*budget) {
		mark_all_here(vm);
		return;
	}
	--*budget;
	for (unsigned i = 0; i < top && !vm->mmu.dirty_all; i++) {
		uint64_t ca = child_of(vm, a[i]), cb = child_of(vm, b[i]);
		int changed = d && mmu_dirty_test(d, i);

		if (!changed && a[i] == b[i] && flags_from == flags_to)
			continue;
		if (!changed && level > 1 && ca != UINT64_MAX && cb != UINT64_MAX)
			diff_tables(vm, ca, cb, level - 1, walk_flags(flags_from, a[i]),
				    walk_flags(flags_to, b[i]), budget);
		else
			mmu_mark_dirty(vm, _mfn(to), i);
	}
}

void mmu_mark_switch(struct vm *vm, mfn_t from_l4, mfn_t to_l4)
{
	uint64_t from = mfn_x(from_l4), to = mfn_x(to_l4);
	unsigned budget = SWITCH_DIFF_BUDGET;

	if (from == to)
		return;
	/* with several spaces, another may realise (to) already, or another
	 * table: the difference is from what the space runs on realises */
	from = mmu_space_enter(vm, from, to);
	vm->mmu.space[vm->mmu.space_cur].l4 = to;
	if (from == to || vm->mmu.dirty_all)
		return;
	if (!from || !to || from >= vm->nr_frames || to >= vm->nr_frames) {
		mark_all_here(vm);
		return;
	}
	diff_tables(vm, from, to, 4, WALK_START, WALK_START, &budget);
}

int mmu_sync_pending(const struct vm *vm)
{
	return vm->mmu.dirty_all || vm->mmu.ndirty;
}

void mmu_unmark_dirty(struct vm *vm, uint64_t mfn)
{
	struct mmu_state *m = &vm->mmu;
	struct mmu_dirty *d = mmu_dirty_find(m, mfn);

	if (d)
		*d = m->dirty[--m->ndirty];
}
