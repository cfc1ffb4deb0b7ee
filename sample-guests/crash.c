/* crash: a guest assertion fails; the domain is crashed with file:line. */
#include "rt.h"

int guest_main(struct start_info *si)
{
	printf("crash: about to fail an assertion\n");
	guest_assert(si->nr_pages == 0);
	return 0;
}
