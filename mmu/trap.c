/* trap.c - what a host page fault in guest code is, in the order Xen's
 * fault path asks (fixup_page_fault, then ptwr_do_page_fault): an access
 * to an unhooked L1's range, a load from a place no host mapping shows, a
 * frame not written yet, a store into a page table; else the guest's own
 * #PF, with the error code its own tables give. */
#include "mmu/mmu.h"
#include "mmu/ptwr.h"

#include <sys/mman.h>

int mmu_fill_fault(struct vm *vm, gva_t addr, const struct mmu_walk *w, int write, int fetch)
{
	uint64_t va = gva_x(addr);
	int need = PROT_READ | (write ? PROT_WRITE : 0) | (fetch ? PROT_EXEC : 0);

	if (!mmu_fill_frame(vm, w->mfn, w->table[3], (int)((va >> 12) & 511)))
		return 0;
	/* the access restarts unless the guest's tables forbid it: then it is
	 * the guest's #PF, and the frame was written all the same */
	return (mmu_page_prot(vm, addr, w) & need) == need;
}

/* Where no host mapping can show the guest's: Xen's read-only M2P in the
 * upper half, and pages below the host's mmap_min_addr. */
static int host_unmappable(const struct vm *vm, uint64_t addr)
{
	return addr >= XEN_RO_MPT_BASE || addr < vm->min_va;
}

/* The hardware error code describes the host's page tables, whose entries
 * Linux fills lazily: a write to a read-only page never touched reads as
 * "not present". The guest's view comes from its own tables: present when
 * its walk succeeds; write and instruction fetch from the hardware. */
static uint64_t guest_error_code(const struct vm *vm, const struct mmu_fault *f,
				 struct mmu_walk *w)
{
	uint64_t err = f->hw_err & (MMU_PFEC_WRITE | MMU_PFEC_FETCH);

	if (mmu_walk(vm, vcpu_cr3(&vm->vcpu), _gva(f->addr), w) == 0)
		err |= MMU_PFEC_PRESENT;
	return err | (f->user ? MMU_PFEC_USER : 0);
}

static enum mmu_trap done(struct mmu_fault *f, enum vm_why why, int ok)
{
	f->why = why;
	return ok ? MMU_TRAP_DONE : MMU_TRAP_ENDED;
}

enum mmu_trap mmu_trap(struct vm *vm, struct mmu_fault *f)
{
	const uint64_t pw = MMU_PFEC_PRESENT | MMU_PFEC_WRITE;
	struct mmu_walk w = { 0 };
	int rc = mmu_ptwr_access(vm, f->addr);

	f->err = f->hw_err;
	f->mfn = 0;
	f->why = VM_WHY_NONE;
	if (rc)
		return done(f, rc > 0 ? VM_WHY_RESYNC : VM_WHY_RESYNC_REFUSED, rc > 0);
	if (host_unmappable(vm, f->addr) && vm->mmu.emulate_load &&
	    (rc = vm->mmu.emulate_load(vm, f->addr)) != 0)
		return done(f, rc == 2 ? VM_WHY_LOW_EXEC : VM_WHY_LOAD_EMULATED, 1);
	f->err = guest_error_code(vm, f, &w);
	f->mfn = w.mfn;
	if ((f->err & MMU_PFEC_PRESENT) &&
	    mmu_fill_fault(vm, _gva(f->addr), &w, !!(f->err & MMU_PFEC_WRITE), !!(f->err & MMU_PFEC_FETCH))) {
		f->err = f->hw_err;
		return done(f, VM_WHY_P2M_FILL, 1);
	}
	if ((f->err & pw) != pw || !mmu_is_pagetable(vm, w.mfn))
		return vm->end ? MMU_TRAP_ENDED : MMU_TRAP_GUEST;
	rc = mmu_ptwr_trap(vm, _gva(f->addr), _mfn(w.mfn));
	if (rc)
		return done(f, rc > 0 ? VM_WHY_PT_WRITE_HANDLED : VM_WHY_PT_WRITE_REFUSED, rc > 0);
	return vm->end ? MMU_TRAP_ENDED : MMU_TRAP_TABLE_STORE;
}
