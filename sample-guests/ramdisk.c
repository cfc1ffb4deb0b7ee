/* ramdisk: reads the initial ramdisk (start_info mod_start/mod_len) that
 * the toolstack loaded after the kernel, and prints its first line, its
 * length and a checksum of its bytes up to the first NUL. */
#include "rt.h"

int guest_main(struct start_info *si)
{
	const char *mod = (const char *)si->mod_start;
	char first[128];
	uint32_t sum = 0;
	uint64_t n = 0, eol = 0;

	printf("module: mod_start %#lx, mod_len %lu, flags %#x\n", (unsigned long)si->mod_start,
	       (unsigned long)si->mod_len, (unsigned)si->flags);
	guest_assert(si->mod_start && si->mod_len);
	/* a virtual address (SIF_MOD_START_PFN clear), page aligned, mapped */
	guest_assert(!(si->flags & SIF_MOD_START_PFN));
	guest_assert(!(si->mod_start & 4095) && !(si->mod_len & 4095));
	for (; n < si->mod_len && mod[n]; n++)
		if (!eol && mod[n] == '\n')
			eol = n;
	n = eol ? eol : n;
	n = n < sizeof(first) - 1 ? n : sizeof(first) - 1;
	memcpy(first, mod, n);
	first[n] = '\0';
	printf("module first line: '%s'\n", first);
	for (n = 0, sum = 0; n < si->mod_len && mod[n]; n++)
		sum = sum * 31 + (unsigned char)mod[n];
	printf("module: %lu bytes before the first NUL, checksum %08x\n", (unsigned long)n, sum);
	return 0;
}
