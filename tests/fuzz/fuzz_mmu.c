/* fuzz_mmu - sequences of page-table updates, pins, base switches,
 * update_va_mapping and writable-page-table stores against a small domain,
 * with the frame table's counts, the host operations and the host address
 * space they leave checked after every step. */
#include <stdint.h>

#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint64_t word(const uint8_t *p)
{
	uint64_t v;
	memcpy(&v, p, 8);
	return v;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vm *vm = fz_vm();

	for (size_t i = 0; i + 12 <= size; i += 12) {
		const uint8_t *p = data + i;
		uint64_t frame = p[1] % (FZ_PAGES + 3); /* includes frames beyond memory */
		unsigned idx = (unsigned)(p[2] | p[3] << 8) % 512;
		/* an entry: a plausible frame and the flag bits from the input */
		uint64_t val = (word(p + 4) & ~PTE_ADDR_MASK) | (uint64_t)(p[5] % (FZ_PAGES + 3)) << 12;

		/* as the hypercall layer does: MMU state is exact before any update */
		if (p[0] % 8 != 6 && p[0] % 8 != 7 && mmu_ptwr_pending(vm)) {
			mmu_ptwr_resync_all(vm, PTWR_RESYNC_HYPERCALL);
			fz_no_host_error(vm);
			vm->end = VM_RUNNING;
		}
		switch (p[0] % 8) {
		case 0: mmu_mod_entry(vm, _mfn(frame), idx, val, p[3] & 1); break;
		case 1: mmu_pin(vm, _mfn(frame), 1 + p[2] % 4); break;
		case 2: mmu_unpin(vm, _mfn(frame)); break;
		case 3: mmu_new_baseptr(vm, _mfn(frame), p[2] & 1); break;
		case 4: mmu_update_va(vm, _gva(FZ_BASE + (word(p + 4) % (8u << 20))), val); break;
		case 5: mmu_update_one(vm, frame << 12 | idx << 3 | (p[3] & 3), val); break;
		case 6: /* a store into a page table, as the writable assist sees it */
			vm->vm_assist = 1ull << VMASST_TYPE_writable_pagetables;
			vm->mmu.ptwr.mode = (enum ptwr_mode)(p[2] % 3);
			if (frame < 64 && vm->mmu.frames[frame].type == PGT_L1) {
				vm->vcpu.regs.rax = val; /* the store at rip is mov %rax,(%rdi) */
				if (mmu_ptwr_trap(vm, _gva(FZ_BASE + frame * 4096 + idx * 8), _mfn(frame)) > 0 &&
				    (vm->mmu.ptwr.slot[0].l1 == frame || vm->mmu.ptwr.slot[1].l1 == frame) &&
				    mmu_ptwr_pending(vm)) /* out of sync: the store runs natively */
					((uint64_t *)(vm->mem + frame * 4096))[idx] = val;
				vm->vcpu.regs.rip = FZ_BASE + 40 * 4096;
				fz_no_host_error(vm);
				vm->end = VM_RUNNING;
			}
			break;
		default: /* then a fault or a read by pvmm, maybe of a P2M frame */
			mmu_ptwr_resync_all(vm, PTWR_RESYNC_HYPERCALL);
			fz_no_host_error(vm);
			vm->end = VM_RUNNING;
			if (p[2] & 1) {
				struct mmu_walk w;
				uint64_t va = FZ_BASE + word(p + 4) % (8u << 20);
				if (!mmu_walk(vm, vcpu_cr3(&vm->vcpu), _gva(va), &w))
					mmu_fill_fault(vm, _gva(va), &w, p[3] & 1, p[3] & 2);
			} else {
				uint8_t buf[16];
				mmu_copy_from_guest(vm, buf, FZ_BASE + word(p + 4) % (8u << 20), p[3] % 17);
			}
			break;
		}
		if (getenv("FZ_DEBUG")) {
			char why[400] = "";
			int rc = mmu_ptwr_pending(vm) ? 0 : mmu_check_counts(vm, why, sizeof(why));
			fprintf(stderr, "op %u frame %#llx idx %u val %#llx -> %s %s\n", p[0] % 8,
				(unsigned long long)frame, idx, (unsigned long long)val, rc ? "BAD" : "ok", why);
		}
		if (!mmu_ptwr_pending(vm))
			fz_check(vm);
	}
	mmu_ptwr_resync_all(vm, PTWR_RESYNC_SHUTDOWN);
	fz_no_host_error(vm);
	fz_check(vm);
	return 0;
}
