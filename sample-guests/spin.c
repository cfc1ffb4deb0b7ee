/* spin: never stops; only --timeout or a signal ends it. */
#include "rt.h"

int guest_main(struct start_info *si)
{
	volatile unsigned long n = 0;

	(void)si;
	printf("spin: looping forever\n");
	for (;;)
		n++;
}
