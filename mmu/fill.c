/* fill.c - frames written on first use: the P2M list.
 *
 * A 4 GiB guest's P2M list is 2,048 frames; writing them at boot costs more
 * than the rest of the boot together (each is a fresh shmem page to
 * allocate, clear and fill, and to free again at exit). They are written
 * when something first needs them instead: the guest, through a host
 * mapping realised with no access, or pvmm, through mmu_frame_data(). */
#include "mmu/mmu.h"

#include <stdlib.h>
#include <string.h>

#define PAGE 4096ull

static int deferred(const struct mmu_deferred *d, uint64_t mfn)
{
	return mfn - d->first < d->count;
}

int mmu_unfilled(const struct vm *vm, uint64_t mfn)
{
	const struct mmu_deferred *d = &vm->mmu.deferred;
	uint64_t i = mfn - d->first;

	return d->left && deferred(d, mfn) && (d->unfilled[i / 64] >> (i % 64)) & 1;
}

int mmu_defer_p2m(struct vm *vm)
{
	struct mmu_deferred *d = &vm->mmu.deferred;
	uint64_t n = loader_p2m_frames(&vm->lay), words = (n + 63) / 64;

	free(d->unfilled);
	d->unfilled = malloc(words * sizeof(uint64_t));
	if (!d->unfilled)
		return -XEN_ENOMEM;
	memset(d->unfilled, 0xff, words * sizeof(uint64_t));
	if (n % 64)
		d->unfilled[words - 1] = (1ull << (n % 64)) - 1;
	d->first = loader_p2m_first_pfn(&vm->lay);
	d->count = d->left = n;
	return 0;
}

void mmu_forget_deferred(struct vm *vm, uint64_t mfn)
{
	struct mmu_deferred *d = &vm->mmu.deferred;
	uint64_t i = mfn - d->first;

	if (!mmu_unfilled(vm, mfn))
		return;
	d->unfilled[i / 64] &= ~(1ull << (i % 64));
	d->left--;
}

static void write_frame(struct vm *vm, uint64_t mfn)
{
	struct mmu_deferred *d = &vm->mmu.deferred;
	uint64_t i = mfn - d->first;

	loader_fill_p2m(&vm->lay, i, vm->mem + mfn * PAGE);
	d->unfilled[i / 64] &= ~(1ull << (i % 64));
	d->left--;
	vm->mmu.count.deferred_fills++;
}

/* Write deferred frame (mfn) and have its host mappings brought into line.
 * A guest fault through entry (idx) of L1 (l1): just that entry when it is
 * the frame's only reference; when the frame is mapped elsewhere too, the
 * rest of the P2M is written now, so that a guest mapping its P2M twice
 * redoes its whole address space once, not once a frame. pvmm's own access
 * (idx < 0) knows no entry: the whole space, if anything maps the frame. */
static void fill(struct vm *vm, uint64_t mfn, uint64_t l1, int idx)
{
	struct mmu_deferred *d = &vm->mmu.deferred;
	uint32_t refs = vm->mmu.frames[mfn].refs;

	write_frame(vm, mfn);
	if (idx >= 0 && refs == 1) {
		mmu_mark_dirty(vm, _mfn(l1), (unsigned)idx);
		return;
	}
	if (idx >= 0)
		for (uint64_t f = d->first; d->left && f < d->first + d->count; f++)
			if (mmu_unfilled(vm, f))
				write_frame(vm, f);
	if (refs)
		mmu_mark_all(vm);
}

uint8_t *mmu_frame_data(struct vm *vm, uint64_t mfn)
{
	if (mmu_unfilled(vm, mfn))
		fill(vm, mfn, 0, -1);
	return vm->mem + mfn * PAGE;
}

int mmu_fill_frame(struct vm *vm, uint64_t mfn, uint64_t l1, int idx)
{
	if (!mmu_unfilled(vm, mfn))
		return 0;
	fill(vm, mfn, l1, idx);
	return 1;
}
