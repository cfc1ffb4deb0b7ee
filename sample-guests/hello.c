/* hello: boots, greets through the console hypercall, powers off. */
#include "rt.h"

int guest_main(struct start_info *si)
{
	char extra[XEN_EXTRAVERSION_LEN];
	long ver = HYPERVISOR_xen_version(XENVER_version, NULL);

	HYPERVISOR_xen_version(XENVER_extraversion, extra);
	printf("Hello from a PV guest on Xen %ld.%ld%s!\n", ver >> 16, ver & 0xffff, extra);
	printf("start_info: magic %s, %lu pages, cmdline '%s'\n", si->magic,
	       (unsigned long)si->nr_pages, (const char *)si->cmd_line);
	guest_assert(!memcmp(si->magic, "xen-3.0-x86_64", 14));
	return 0;
}
