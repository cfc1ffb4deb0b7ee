/* sync.c - keep the host mappings in line with changed page-table entries.
 *
 * Changes are recorded (dirty.c) as (table frame, entry index) pairs. At sync time one
 * walk of the current tables finds every place each changed table is used
 * (a table may be hooked at several places, and linear entries make tables
 * appear at other levels) and realises the addresses its changed entries
 * control there. */
#include "mmu/mmu.h"

#include <string.h>

#define PAGE 4096ull

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
	return mmu_realise(vm, vcpu_cr3(&vm->vcpu), _gva(start), _gva(end), vm->mmu.emit, vm->mmu.emit_ctx);
}

/* Realise the runs of changed entries of (d) used as a level-(level) table
 * that starts at (base). */
static void realise_dirty(struct sync *s, const struct mmu_dirty *d, unsigned level, uint64_t base)
{
	for (unsigned i = 0; i < PT_ENTRIES && !s->rc; i++) {
		unsigned j = i;
		if (!mmu_dirty_test(d, i))
			continue;
		while (j + 1 < PT_ENTRIES && mmu_dirty_test(d, j + 1))
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
	return visit(vm, mfn_x(vcpu_cr3(&vm->vcpu)), 4, 0, fn, ctx);
}

static int sync_use(void *ctx, uint64_t mfn, unsigned level, uint64_t base)
{
	struct sync *s = ctx;
	const struct mmu_dirty *d = mmu_dirty_find(&s->vm->mmu, mfn);

	if (d)
		realise_dirty(s, d, level, base);
	return s->rc;
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
