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

/* Leave the Xen notes in their SHT_NOTE section only (no PT_NOTE). */
void elf_notes_in_section_only(uint8_t *buf);
/* Replace every Xen note with a legacy __xen_guest section holding (info)
 * ("GUEST_OS=linux,XEN_VER=xen-3.0,..."), in place of a debug section: 0,
 * or -1 when the image has none big enough. */
int elf_make_legacy(uint8_t *buf, const char *info);

/* Virtual base 0 and the second PT_LOAD segment at address 0, as a kernel
 * linked at 0: loadable only where page 0 may be mapped (loader_parse with
 * min_va 0). */
void elf_link_at_zero(uint8_t *buf);

extern const struct bad_elf bad_elves[];
extern const unsigned bad_elves_count;

#endif
