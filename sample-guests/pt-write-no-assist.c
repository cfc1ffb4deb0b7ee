/* pt-write-no-assist: without the writable-pagetables assist, a store into
 * a page-table page is a real host fault on its read-only mapping, and
 * pvmm crashes the domain naming the frame and its type. */
#include "rt.h"

int guest_main(struct start_info *si)
{
	volatile uint64_t *l4 = (volatile uint64_t *)si->pt_base;

	printf("pt-write-no-assist: storing into the L4 at %p\n", (void *)l4);
	l4[100] = 0;
	printf("pt-write-no-assist: the store went through\n");
	return 1;
}
