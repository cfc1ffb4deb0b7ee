/*
 * bad_elf.h - malformed variants of a good guest image, shared by the unit
 * tests (which call the parser on them) and mkbad (which writes them out for
 * the end-to-end tests). Each mutation edits a copy of the good image and
 * names the words the refusal must contain.
 */
#ifndef PVMM_TEST_BAD_ELF_H
#define PVMM_TEST_BAD_ELF_H

#include <stddef.h>
#include <stdint.h>

struct bad_elf {
	const char *name;
	/* Edit (buf) of (*len) bytes (capacity len + 4096) in place. */
	void (*mutate)(uint8_t *buf, size_t *len);
	const char *expect; /* substring of the loader's reason */
};

/* Give the Xen note of (type) another type (a loader ignores unknown
 * ones): 0, or -1 when the image has no such note. */
int elf_retype_xen_note(uint8_t *buf, unsigned type, unsigned new_type);

extern const struct bad_elf bad_elves[];
extern const unsigned bad_elves_count;

#endif
