/* segments.c - segment bases (set_segment_base, the FS/GS MSRs' checks)
 * and descriptor tables (set_gdt, update_descriptor). 64-bit PV guests run
 * on flat segments; what is left is where the FS and GS bases point, and
 * which frames hold descriptors. */
#include "hypercalls/hc.h"
#include "mmu/mmu.h"

#include <errno.h>
#include <string.h>

/* A segment base the guest asks for, before it is stored or loaded: 0 when
 * the host can load it; -XEN_EINVAL when it is not canonical (Xen refuses
 * it: #GP for wrmsr, -EINVAL for set_segment_base); a canonical base no
 * Linux process may have (upper half) crashes the domain: -XEN_EPERM. */
int hc_check_base(struct vm *vm, const char *what, uint64_t base)
{
	if (!vm_canonical(base))
		return -XEN_EINVAL;
	if (vm_host_base_ok(base))
		return 0;
	vm_end_domain(vm, VM_CRASH, "the guest set its %s to %#llx (rip %#llx): Xen would accept this canonical "
		 "address, but a Linux process cannot have a segment base at or above %#llx",
		 what, (unsigned long long)base, (unsigned long long)vm->vcpu.regs.rip,
		 VM_BASE_LIMIT);
	return -XEN_EPERM;
}

int hc_load_base(struct vm *vm, unsigned which, uint64_t base)
{
	struct stub_op op = { .kind = STUB_OP_SET_BASE, .prot = which, .addr = base };

	if (mmu_check_op(vm, &op)) { /* hc_check_base() keeps such bases out: pvmm's own error */
		vm_end_domain(vm, VM_HOST_ERROR, "pvmm was about to load segment base "
			 "%#llx, which the host refuses", (unsigned long long)base);
		return -EINVAL;
	}
	return vm->mmu.emit(vm->mmu.emit_ctx, &op);
}

/* Put the host's GS base where the guest's current mode wants it. */
int hc_apply_gs(struct vm *vm)
{
	return hc_load_base(vm, STUB_BASE_GS, vm->vcpu.user_mode ? vm->vcpu.gs_base_user
							     : vm->vcpu.gs_base_kernel);
}

int64_t hc_set_segment_base(struct vm *vm, const uint64_t a[5])
{
	static const char *const names[] = { [SEGBASE_FS] = "FS base",
		[SEGBASE_GS_USER] = "user GS base", [SEGBASE_GS_KERNEL] = "kernel GS base" };
	int rc;

	if (a[0] <= SEGBASE_GS_KERNEL && (rc = hc_check_base(vm, names[a[0]], a[1])))
		return rc; /* as Xen: a base that is not canonical is -EINVAL */
	switch (a[0]) {
	case SEGBASE_FS:
		vm->vcpu.fs_base = a[1];
		return hc_load_base(vm, STUB_BASE_FS, a[1]) ? -XEN_EIO : 0;
	case SEGBASE_GS_USER:
		vm->vcpu.gs_base_user = a[1];
		return 0; /* loaded on the way to user mode */
	case SEGBASE_GS_KERNEL:
		vm->vcpu.gs_base_kernel = a[1];
		return hc_apply_gs(vm) ? -XEN_EIO : 0;
	case SEGBASE_GS_USER_SEL:
		return 0; /* flat selectors only: nothing to load */
	default:
		return -XEN_EINVAL;
	}
}

/* ---- descriptor tables ------------------------------------------------------
 * A Linux process cannot load a GDT, so the guest's tables only need to be
 * right: Xen's checks on every descriptor, and frames typed seg_desc (read
 * only to the guest) while in use. */

#define GDT_MAX_FRAMES 16
#define GDT_MAX_ENTRIES (14 * 512) /* Xen reserves the entries above */

#define DESC_P (1ull << 47)
#define DESC_S (1ull << 44)
#define DESC_DPL(d) (((d) >> 45) & 3)

/* Present descriptors must be code or data segments for ring 3: system
 * descriptors (gates, TSS, LDT) and more privileged DPLs are refused. */
static int descriptor_ok(uint64_t d)
{
	if (!(d & DESC_P))
		return 1;
	return (d & DESC_S) && DESC_DPL(d) == 3;
}

static void put_gdt(struct vm *vm)
{
	for (unsigned i = 0; i < vm->vcpu.gdt_frames; i++)
		mmu_put_page_and_type(vm, vm->vcpu.gdt[i]);
	vm->vcpu.gdt_frames = 0;
}

int64_t hc_set_gdt(struct vm *vm, const uint64_t a[5])
{
	uint64_t frames[GDT_MAX_FRAMES], entries = a[1];
	unsigned n = (unsigned)((entries + 511) / 512), got = 0;
	int64_t rc = 0;

	if (entries > GDT_MAX_ENTRIES)
		return -XEN_EINVAL;
	if (n && mmu_copy_from_guest(vm, frames, a[0], n * sizeof(uint64_t)))
		return -XEN_EFAULT;
	for (; got < n && !rc; got++) {
		const uint64_t *d;

		if (frames[got] >= vm->nr_pages) {
			rc = -XEN_EINVAL;
			break;
		}
		d = (const uint64_t *)mmu_frame_data(vm, frames[got]);
		for (unsigned i = 0; i < 512 && !rc; i++)
			if (!descriptor_ok(d[i]))
				rc = -XEN_EINVAL;
		if (!rc)
			rc = mmu_get_page_and_type(vm, frames[got], PGT_SEG_DESC);
		if (rc)
			break;
	}
	if (rc) { /* drop what this call took */
		while (got--)
			mmu_put_page_and_type(vm, frames[got]);
		return rc;
	}
	put_gdt(vm);
	memcpy(vm->vcpu.gdt, frames, n * sizeof(uint64_t));
	vm->vcpu.gdt_frames = n;
	return 0;
}

int64_t hc_update_descriptor(struct vm *vm, const uint64_t a[5])
{
	uint64_t mfn = a[0] >> XEN_PAGE_SHIFT;
	int rc;

	if (mfn >= vm->nr_pages || (a[0] & 7) || !descriptor_ok(a[1]))
		return -XEN_EINVAL;
	/* a frame in use as a descriptor table, or one that could be mapped writable */
	if (vm->mmu.frames[mfn].type != PGT_SEG_DESC || !vm->mmu.frames[mfn].type_count) {
		if ((rc = mmu_get_page_and_type(vm, mfn, PGT_WRITABLE)))
			return rc;
		mmu_put_page_and_type(vm, mfn);
	}
	memcpy(mmu_frame_data(vm, mfn) + (a[0] & 4095), &a[1], 8);
	return 0;
}
