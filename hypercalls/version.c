/* version.c - xen_version and vm_assist. */
#include "hypercalls/hc.h"
#include "mmu/mmu.h"

#include <string.h>

#ifndef PVMM_VERSION
#define PVMM_VERSION "dev"
#endif

static int64_t put_string(struct vm *vm, uint64_t gva, const char *s, size_t size)
{
	char buf[XEN_CAPABILITIES_LEN];

	memset(buf, 0, size);
	strncpy(buf, s, size - 1);
	return mmu_copy_to_guest(vm, gva, buf, size) ? -XEN_EFAULT : 0;
}

uint32_t hc_features(unsigned idx)
{
	(void)idx;
	return 0; /* no optional XENFEAT_* is implemented yet */
}

static int64_t get_features(struct vm *vm, uint64_t gva)
{
	struct xen_feature_info fi;

	if (mmu_copy_from_guest(vm, &fi, gva, sizeof(fi)))
		return -XEN_EFAULT;
	fi.submap = hc_features(fi.submap_idx);
	return mmu_copy_to_guest(vm, gva, &fi, sizeof(fi)) ? -XEN_EFAULT : 0;
}

static int64_t compile_info(struct vm *vm, uint64_t gva)
{
	struct xen_compile_info ci;

	memset(&ci, 0, sizeof(ci));
	strcpy(ci.compiler, "pvmm");
	strcpy(ci.compile_by, "pvmm");
	strcpy(ci.compile_domain, "pvmm");
	strcpy(ci.compile_date, __DATE__);
	return mmu_copy_to_guest(vm, gva, &ci, sizeof(ci)) ? -XEN_EFAULT : 0;
}

int64_t hc_xen_version(struct vm *vm, const uint64_t a[5])
{
	struct xen_platform_parameters pp = { HOLE_BASE };
	static const uint8_t handle[XEN_GUEST_HANDLE_LEN];

	switch (a[0]) {
	case XENVER_version:
		return (PVMM_XEN_MAJOR << 16) | PVMM_XEN_MINOR;
	case XENVER_extraversion:
		return put_string(vm, a[1], ".0-pvmm", XEN_EXTRAVERSION_LEN);
	case XENVER_compile_info:
		return compile_info(vm, a[1]);
	case XENVER_capabilities:
		return put_string(vm, a[1], "xen-3.0-x86_64", XEN_CAPABILITIES_LEN);
	case XENVER_changeset:
		return put_string(vm, a[1], "pvmm " PVMM_VERSION, XEN_CHANGESET_LEN);
	case XENVER_platform_parameters:
		return mmu_copy_to_guest(vm, a[1], &pp, sizeof(pp)) ? -XEN_EFAULT : 0;
	case XENVER_get_features:
		return get_features(vm, a[1]);
	case XENVER_pagesize:
		return 4096;
	case XENVER_guest_handle:
		return mmu_copy_to_guest(vm, a[1], handle, sizeof(handle)) ? -XEN_EFAULT : 0;
	case XENVER_commandline:
		return put_string(vm, a[1], "", XEN_COMMANDLINE_LEN);
	default:
		return -XEN_ENOSYS;
	}
}

/* The assists Xen accepts from a 64-bit PV guest. */
#define VMASST_VALID ((1ull << VMASST_TYPE_4gb_segments) | \
		      (1ull << VMASST_TYPE_4gb_segments_notify) | \
		      (1ull << VMASST_TYPE_writable_pagetables) | \
		      (1ull << VMASST_TYPE_pae_extended_cr3) | \
		      (1ull << VMASST_TYPE_architectural_iopl) | \
		      (1ull << VMASST_TYPE_runstate_update_flag) | \
		      (1ull << VMASST_TYPE_m2p_strict))

int64_t hc_vm_assist(struct vm *vm, const uint64_t a[5])
{
	if (a[1] >= 64 || !(VMASST_VALID & (1ull << a[1])))
		return -XEN_EINVAL;
	switch (a[0]) {
	case VMASST_CMD_enable:
		vm->vm_assist |= 1ull << a[1];
		return 0;
	case VMASST_CMD_disable:
		vm->vm_assist &= ~(1ull << a[1]);
		return 0;
	default:
		return -XEN_ENOSYS;
	}
}
