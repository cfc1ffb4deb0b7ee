/* sync.c - keep the host mappings in line with changed page-table entries.
 *
 * Changes are recorded as (table frame, entry index) pairs. At sync time one
 * walk of the current tables finds every place each changed table is used
 * (a table may be hooked at several places, and linear entries make tables
 * appear at other levels) and realises the addresses its changed entries
 * control there. */
#include "mmu/mmu.h"

#include <string.h>

#define PAGE 4096ull

static struct mmu_dirty *find_dirty(struct mmu_state *m, uint64_t mfn)
{
	for (unsigned i = 0; i < m->ndirty; i++)
		if (m->dirty[i].mfn == mfn)
			return &m->dirty[i];
	return NULL;
}

void mmu_mark_dirty(struct vm *vm, uint64_t mfn, unsigned idx)
{
	struct mmu_state *m = &vm->mmu;
	struct mmu_dirty *d;

	if (m->dirty_all)
		return;
	d = find_dirty(m, mfn);
	if (!d) {
		if (m->ndirty == MMU_DIRTY_MAX) {
			mmu_mark_all(vm);
			return;
		}
		d = &m->dirty[m->ndirty++];
		memset(d, 0, sizeof(*d));
		d->mfn = mfn;
	}
	d->bits[idx / 64] |= 1ull << (idx % 64);
}

void mmu_mark_all(struct vm *vm)
{
	vm->mmu.dirty_all = 1;
	vm->mmu.ndirty = 0;
}

static int dirty_bit(const struct mmu_dirty *d, unsigned i)
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
	const struct mmu_dirty *d = find_dirty(&vm->mmu, from);
	unsigned top = level == 4 ? HOLE_L4_SLOT : PT_ENTRIES;

	if (!*budget) {
		mmu_mark_all(vm);
		return;
	}
	--*budget;
	for (unsigned i = 0; i < top && !vm->mmu.dirty_all; i++) {
		uint64_t ca = child_of(vm, a[i]), cb = child_of(vm, b[i]);
		int changed = d && dirty_bit(d, i);

		if (!changed && a[i] == b[i] && flags_from == flags_to)
			continue;
		if (!changed && level > 1 && ca != UINT64_MAX && cb != UINT64_MAX)
			diff_tables(vm, ca, cb, level - 1, walk_flags(flags_from, a[i]),
				    walk_flags(flags_to, b[i]), budget);
		else
			mmu_mark_dirty(vm, to, i);
	}
}

void mmu_mark_switch(struct vm *vm, uint64_t from, uint64_t to)
{
	unsigned budget = SWITCH_DIFF_BUDGET;

	if (from == to || vm->mmu.dirty_all)
		return;
	if (!from || !to || from >= vm->nr_frames || to >= vm->nr_frames) {
		mmu_mark_all(vm);
		return;
	}
	diff_tables(vm, from, to, 4, WALK_START, WALK_START, &budget);
}

int mmu_sync_pending(const struct vm *vm)
{
	return vm->mmu.dirty_all || vm->mmu.ndirty;
}

static uint64_t span(unsigned level) { return 1ull << (12 + 9 * (level - 1)); }

struct sync {
	struct vm *vm;
	int rc;
};

static int realise(struct sync *s, uint64_t start, uint64_t end)
{
	struct vm *vm = s->vm;

	if (start < vm->min_va)
		start = vm->min_va;
	if (end > HOLE_BASE)
		end = HOLE_BASE;
	if (start >= end)
		return 0;
	vm->mmu.count.sync_ranges++;
	return mmu_realise(vm, vcpu_cr3(&vm->vcpu), start, end, vm->mmu.emit, vm->mmu.emit_ctx);
}

/* Realise the runs of changed entries of (d) used as a level-(level) table
 * that starts at (base). */
static void realise_dirty(struct sync *s, const struct mmu_dirty *d, unsigned level, uint64_t base)
{
	for (unsigned i = 0; i < PT_ENTRIES && !s->rc; i++) {
		unsigned j = i;
		if (!dirty_bit(d, i))
			continue;
		while (j + 1 < PT_ENTRIES && dirty_bit(d, j + 1))
			j++;
		s->rc = realise(s, base + i * span(level), base + (j + 1) * span(level));
		i = j;
	}
}

static int visit(const struct vm *vm, uint64_t mfn, unsigned level, uint64_t base,
		 mmu_use_fn fn, void *ctx)
{
	const uint64_t *tab = (const uint64_t *)(vm->mem + mfn * PAGE);
	unsigned top = level == 4 ? HOLE_L4_SLOT : PT_ENTRIES;
	int rc = fn(ctx, mfn, level, base);

	if (level == 1)
		return rc;
	for (unsigned i = 0; i < top && !rc; i++) {
		uint64_t e = tab[i], child = (e & PTE_ADDR_MASK) >> XEN_PAGE_SHIFT;
		if ((e & PTE_P) && child < vm->nr_frames)
			rc = visit(vm, child, level - 1, base + i * span(level), fn, ctx);
	}
	return rc;
}

int mmu_for_each_use(const struct vm *vm, mmu_use_fn fn, void *ctx)
{
	return visit(vm, vcpu_cr3(&vm->vcpu), 4, 0, fn, ctx);
}

static int sync_use(void *ctx, uint64_t mfn, unsigned level, uint64_t base)
{
	struct sync *s = ctx;
	const struct mmu_dirty *d = find_dirty(&s->vm->mmu, mfn);

	if (d)
		realise_dirty(s, d, level, base);
	return s->rc;
}

void mmu_unmark_dirty(struct vm *vm, uint64_t mfn)
{
	struct mmu_state *m = &vm->mmu;
	struct mmu_dirty *d = find_dirty(m, mfn);

	if (d)
		*d = m->dirty[--m->ndirty];
}

int mmu_sync(struct vm *vm)
{
	struct sync s = { vm, 0 };

	if (!mmu_sync_pending(vm))
		return 0;
	vm->mmu.count.syncs++;
	if (vm->mmu.dirty_all)
		s.rc = realise(&s, vm->min_va, HOLE_BASE);
	else
		mmu_for_each_use(vm, sync_use, &s);
	vm->mmu.dirty_all = 0;
	vm->mmu.ndirty = 0;
	return s.rc;
}
