/* balloon.c - RAM frames the domain gives back and takes again.
 *
 * memory_op's decrease_reservation and exchange take frames from the
 * domain; populate_physmap, increase_reservation and exchange hand frames
 * out. pvmm has no memory but the domain's own, so what it hands out is
 * what the guest gave back: the domain never grows past its maximum. A
 * frame that is not the domain's cannot be referenced (frame.c refuses it)
 * and its memory goes back to the host. */
#include "mmu/mmu.h"

#include <string.h>
#include <sys/mman.h>

#define PAGE 4096ull
#define INVALID_M2P UINT64_MAX /* the M2P entry of a frame the domain does not own */

int mmu_ram_owned(const struct vm *vm, uint64_t mfn)
{
	return mfn < vm->nr_pages && vm->mmu.frames[mfn].owner == FRAME_OWNED;
}

static int referenced(const struct mmu_frame *f)
{
	return f->refs || f->type_count || f->pinned;
}

/* The frame's memory goes back to the host: it reads as zeros from now on
 * (Xen scrubs what it frees). Memory that is not a shared mapping (the
 * unit tests') is cleared instead. A deferred P2M frame is not written
 * later over what the frame holds by then. */
static void scrub(struct vm *vm, uint64_t mfn)
{
	uint8_t *p = vm->mem + mfn * PAGE;

	mmu_forget_deferred(vm, mfn);
	if (madvise(p, PAGE, MADV_REMOVE))
		memset(p, 0, PAGE);
}

/* (mfn), owned, stolen or dying and unreferenced, joins the free frames. */
static void make_free(struct vm *vm, uint64_t mfn)
{
	struct mmu_frame *f = &vm->mmu.frames[mfn];

	if (f->owner == FRAME_OWNED || f->owner == FRAME_DYING)
		vm->mmu.given_back++;
	f->owner = FRAME_FREE;
	vm->mmu.m2p[mfn] = INVALID_M2P ^ mfn; /* see mmu_m2p() */
	scrub(vm, mfn);
}

int mmu_give_back(struct vm *vm, uint64_t mfn, int held)
{
	if (!mmu_ram_owned(vm, mfn))
		return -XEN_EINVAL;
	if (held || referenced(&vm->mmu.frames[mfn]))
		vm->mmu.frames[mfn].owner = FRAME_DYING;
	else
		make_free(vm, mfn);
	return 0;
}

void mmu_put_dying(struct vm *vm, uint64_t mfn)
{
	const struct mmu_frame *f = &vm->mmu.frames[mfn];

	if (f->owner == FRAME_DYING && !referenced(f))
		make_free(vm, mfn);
}

int mmu_steal(struct vm *vm, uint64_t mfn)
{
	if (!mmu_ram_owned(vm, mfn) || referenced(&vm->mmu.frames[mfn]))
		return -XEN_EINVAL; /* as Xen's steal_page: the allocation's reference only */
	vm->mmu.frames[mfn].owner = FRAME_STOLEN;
	vm->mmu.given_back++;
	return 0;
}

void mmu_unsteal(struct vm *vm, uint64_t mfn)
{
	vm->mmu.frames[mfn].owner = FRAME_OWNED;
	vm->mmu.given_back--;
}

void mmu_free_stolen(struct vm *vm, uint64_t mfn)
{
	make_free(vm, mfn);
}

static int run_free(const struct vm *vm, uint64_t first, uint64_t n, int or_stolen)
{
	for (uint64_t m = first; m < first + n; m++) {
		uint8_t o = vm->mmu.frames[m].owner;
		if (o != FRAME_FREE && !(or_stolen && o == FRAME_STOLEN))
			return 0;
	}
	return 1;
}

uint64_t mmu_find_free(const struct vm *vm, unsigned order, uint64_t limit, uint64_t hint,
		       int or_stolen)
{
	uint64_t n = 1ull << order, end = limit < vm->nr_pages ? limit : vm->nr_pages;

	if (order >= 64 || vm->mmu.given_back < n || end < n)
		return UINT64_MAX;
	if (hint % n == 0 && hint <= end - n && run_free(vm, hint, n, or_stolen))
		return hint;
	for (uint64_t m = 0; m <= end - n; m += n)
		if (run_free(vm, m, n, or_stolen))
			return m;
	return UINT64_MAX;
}

uint8_t mmu_claim(struct vm *vm, uint64_t mfn)
{
	uint8_t was = vm->mmu.frames[mfn].owner;

	vm->mmu.frames[mfn].owner = FRAME_CLAIMED;
	return was;
}

void mmu_unclaim(struct vm *vm, uint64_t mfn, uint8_t was)
{
	vm->mmu.frames[mfn].owner = was;
}

void mmu_assign(struct vm *vm, uint64_t mfn, uint64_t gpfn)
{
	vm->mmu.frames[mfn].owner = FRAME_OWNED;
	vm->mmu.given_back--;
	vm->mmu.m2p[mfn] = gpfn ^ mfn;
}
