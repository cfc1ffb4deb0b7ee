/* fuzz_elf - the ELF/notes parser, the domain builder and the symbol reader
 * on arbitrary images. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "guest-loader/loader.h"

#define PAGES 2048u

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t *mem;
	struct loader_image img;
	struct loader_layout lay;
	struct loader_symtab syms;
	char why[LOADER_WHY];

	if (!mem)
		mem = malloc((PAGES + LOADER_EXTRA_FRAMES) * 4096ull);
	if (loader_parse(data, size, 0x10000, 0x7f8000000000ull, &img, why)) {
		if (!why[0] || strchr(why, '\n'))
			abort(); /* a refusal is one line */
		return 0;
	}
	memset(mem, 0, (PAGES + LOADER_EXTRA_FRAMES) * 4096ull);
	if (!loader_build(&img, mem, PAGES, "fuzz", &lay, why) &&
	    (lay.v_end <= lay.v_start || lay.first_free_pfn > PAGES))
		abort();
	if (!loader_symbols(data, size, &syms)) {
		char s[96];
		loader_symbolise(&syms, img.entry, s, sizeof(s));
		loader_symbols_free(&syms);
	}
	return 0;
}
