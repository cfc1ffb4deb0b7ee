/* fault: touches an unmapped address; pvmm reports the page fault it took
 * (with the hardware error code) and crashes the domain. */
#include "rt.h"

int guest_main(struct start_info *si)
{
	volatile uint64_t *p = (volatile uint64_t *)0x40000000ul; /* never mapped */

	(void)si;
	printf("fault: writing to %p\n", (void *)p);
	*p = 1;
	printf("fault: the write did not fault\n");
	return 1;
}
