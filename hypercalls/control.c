/*
 * control.c - the toolstack's hypercalls: sysctl, domctl and platform_op.
 *
 * Xen serves them to the control domain only. To any other domain it still
 * reads the whole structure (an unreadable one is -EFAULT), refuses one
 * whose interface_version is not the one it speaks with -EACCES (how tools
 * and XTF probe that version), and then, XSM's dummy policy finding the
 * domain unprivileged, refuses the operation with -EPERM. pvmm's guest is
 * such a domain: the same answers, in the same order.
 */
#include "hypercalls/hc.h"

#include "mmu/mmu.h"

/* The structures' sizes (Xen's public headers: 8 bytes of command and
 * version, then the union) and the versions this interface speaks. */
struct control_op {
	const char *name;
	size_t size;
	uint32_t version;
};

static const struct control_op sysctl = { "sysctl", 136, XEN_SYSCTL_INTERFACE_VERSION };
static const struct control_op domctl = { "domctl", 144, XEN_DOMCTL_INTERFACE_VERSION };
static const struct control_op platform = { "platform_op", 136, XENPF_INTERFACE_VERSION };

static int64_t refuse(struct vm *vm, uint64_t gva, const struct control_op *op)
{
	uint8_t copy[144];
	uint32_t version;

	if (mmu_copy_from_guest(vm, copy, gva, op->size))
		return -XEN_EFAULT;
	memcpy(&version, copy + 4, sizeof(version)); /* cmd, then interface_version */
	return version != op->version ? -XEN_EACCES : -XEN_EPERM;
}

int64_t hc_sysctl(struct vm *vm, const uint64_t a[5])
{
	return refuse(vm, a[0], &sysctl);
}

int64_t hc_domctl(struct vm *vm, const uint64_t a[5])
{
	return refuse(vm, a[0], &domctl);
}

int64_t hc_platform_op(struct vm *vm, const uint64_t a[5])
{
	return refuse(vm, a[0], &platform);
}
