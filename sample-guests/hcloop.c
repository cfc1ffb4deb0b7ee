/* hcloop: makes N null hypercalls (xen_version(XENVER_version)), N from the
 * command line ("n=NUMBER", default 1000). Used to measure what one
 * hypercall costs: time a run with n=0 and one with a large n. */
#include "rt.h"

static unsigned long parse_n(const char *cmdline)
{
	unsigned long n = 0;
	const char *p = cmdline;

	while (*p && !(p[0] == 'n' && p[1] == '='))
		p++;
	if (!*p)
		return 1000;
	for (p += 2; *p >= '0' && *p <= '9'; p++)
		n = n * 10 + (unsigned long)(*p - '0');
	return n;
}

int guest_main(struct start_info *si)
{
	unsigned long n = parse_n((const char *)si->cmd_line);

	for (unsigned long i = 0; i < n; i++)
		expect_eq(HYPERVISOR_xen_version(XENVER_version, NULL), (4 << 16) | 19);
	printf("hcloop: %lu hypercalls\n", n);
	return 0;
}
