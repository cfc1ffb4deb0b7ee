/* bad_elf.c - the malformed images (see bad_elf.h). */
#include "bad_elf.h"

#include <elf.h>
#include <string.h>

static Elf64_Ehdr *eh(uint8_t *b) { return (Elf64_Ehdr *)b; }

static Elf64_Phdr *phdr(uint8_t *b, unsigned type, unsigned nth)
{
	Elf64_Ehdr *e = eh(b);
	for (unsigned i = 0; i < e->e_phnum; i++) {
		Elf64_Phdr *p = (Elf64_Phdr *)(b + e->e_phoff + i * sizeof(Elf64_Phdr));
		if (p->p_type == type && nth-- == 0)
			return p;
	}
	return NULL;
}

/* The descriptor of Xen note (type) inside the PT_NOTE segment. */
static uint8_t *xen_note(uint8_t *b, unsigned type, Elf64_Nhdr **hdr)
{
	Elf64_Phdr *p = phdr(b, PT_NOTE, 0);
	size_t off = p->p_offset, end = p->p_offset + p->p_filesz;

	while (off + sizeof(Elf64_Nhdr) <= end) {
		Elf64_Nhdr *n = (Elf64_Nhdr *)(b + off);
		size_t name = off + sizeof(*n), desc = name + ((n->n_namesz + 3) & ~3u);
		if (n->n_type == type && !memcmp(b + name, "Xen", 4)) {
			*hdr = n;
			return b + desc;
		}
		off = desc + ((n->n_descsz + 3) & ~3u);
	}
	return NULL;
}

int elf_retype_xen_note(uint8_t *b, unsigned type, unsigned new_type)
{
	Elf64_Nhdr *n;

	if (!xen_note(b, type, &n))
		return -1;
	n->n_type = new_type;
	return 0;
}

static void empty(uint8_t *b, size_t *len) { (void)b; *len = 0; }
static void bad_magic(uint8_t *b, size_t *len) { (void)len; b[1] = 'X'; }
static void text_file(uint8_t *b, size_t *len) { memcpy(b, "hello\n", 6); *len = 6; }
static void class32(uint8_t *b, size_t *len) { (void)len; b[EI_CLASS] = ELFCLASS32; }
static void big_endian(uint8_t *b, size_t *len) { (void)len; b[EI_DATA] = ELFDATA2MSB; }
static void machine386(uint8_t *b, size_t *len) { (void)len; eh(b)->e_machine = EM_386; }
static void shared_object(uint8_t *b, size_t *len) { (void)len; eh(b)->e_type = ET_DYN; }
static void cut_header(uint8_t *b, size_t *len) { (void)b; *len = 40; }
static void cut_half(uint8_t *b, size_t *len) { (void)b; *len /= 2; }
static void phoff_beyond(uint8_t *b, size_t *len) { eh(b)->e_phoff = *len + 4096; }
static void phnum_huge(uint8_t *b, size_t *len) { (void)len; eh(b)->e_phnum = 0xfff0; }
static Elf64_Shdr *shdr(uint8_t *b, unsigned i)
{
	return (Elf64_Shdr *)(b + eh(b)->e_shoff + i * sizeof(Elf64_Shdr));
}

/* The notes only in the SHT_NOTE section, no PT_NOTE segment. */
void elf_notes_in_section_only(uint8_t *b)
{
	phdr(b, PT_NOTE, 0)->p_type = PT_NULL;
}

static void no_notes(uint8_t *b, size_t *len)
{
	(void)len;
	elf_notes_in_section_only(b);
	for (unsigned i = 0; i < eh(b)->e_shnum; i++)
		if (shdr(b, i)->sh_type == SHT_NOTE)
			shdr(b, i)->sh_type = SHT_PROGBITS;
}

int elf_make_legacy(uint8_t *b, const char *info)
{
	static const char name[] = "__xen_guest";
	const char *names = (const char *)b + shdr(b, eh(b)->e_shstrndx)->sh_offset;
	size_t len = strlen(info) + 1;

	no_notes(b, NULL);
	for (unsigned i = 1; i < eh(b)->e_shnum; i++) {
		Elf64_Shdr *sh = shdr(b, i);
		char *old = (char *)names + sh->sh_name;
		if (sh->sh_type != SHT_PROGBITS || (sh->sh_flags & SHF_ALLOC) ||
		    strlen(old) < sizeof(name) - 1 || sh->sh_size < len)
			continue;
		memcpy(old, name, sizeof(name));
		memcpy(b + sh->sh_offset, info, len);
		sh->sh_size = len;
		return 0;
	}
	return -1;
}
static void note_outside(uint8_t *b, size_t *len) { phdr(b, PT_NOTE, 0)->p_offset = *len + 64; }

static void note_bad_size(uint8_t *b, size_t *len)
{
	Elf64_Nhdr *n;
	(void)len;
	xen_note(b, 1 /* ENTRY */, &n);
	n->n_descsz = 0x7ffffff0;
}

static void note_odd_number(uint8_t *b, size_t *len)
{
	Elf64_Nhdr *n;
	(void)len;
	xen_note(b, 1 /* ENTRY */, &n);
	n->n_descsz = 3; /* fits the segment, but is no 4- or 8-byte number */
}

static void entry_outside(uint8_t *b, size_t *len)
{
	Elf64_Nhdr *n;
	uint64_t v = 0x100000000ull;
	(void)len;
	memcpy(xen_note(b, 1 /* ENTRY */, &n), &v, 8);
}

static void hypercall_page_odd(uint8_t *b, size_t *len)
{
	Elf64_Nhdr *n;
	uint8_t *d = xen_note(b, 2 /* HYPERCALL_PAGE */, &n);
	uint64_t v;
	(void)len;
	memcpy(&v, d, 8);
	v += 8;
	memcpy(d, &v, 8);
}

static void xen_version(uint8_t *b, size_t *len)
{
	Elf64_Nhdr *n;
	(void)len;
	memcpy(xen_note(b, 5 /* XEN_VERSION */, &n), "xen-2.0", 7);
}

static void loader_other(uint8_t *b, size_t *len)
{
	Elf64_Nhdr *n;
	(void)len;
	memcpy(xen_note(b, 8 /* LOADER */, &n), "elfboot", 7);
}

static void filesz_gt_memsz(uint8_t *b, size_t *len)
{
	(void)len;
	Elf64_Phdr *p = phdr(b, PT_LOAD, 0);
	p->p_memsz = p->p_filesz - 1;
}

static void load_beyond_file(uint8_t *b, size_t *len)
{
	Elf64_Phdr *p = phdr(b, PT_LOAD, 0);
	p->p_filesz = p->p_memsz = *len * 4;
}

static void upper_half(uint8_t *b, size_t *len)
{
	(void)len;
	phdr(b, PT_LOAD, 1)->p_paddr = 0xffff800000400000ull;
}

static void in_hole(uint8_t *b, size_t *len)
{
	(void)len;
	phdr(b, PT_LOAD, 1)->p_paddr = 0x7f8000000000ull;
}

/* Not malformed: a kernel linked at 0 (GRUB's x86_64-xen image, Mini-OS)
 * loads where the host lets pvmm map page 0 (as root), and only there. */
void elf_link_at_zero(uint8_t *b)
{
	elf_retype_xen_note(b, 3 /* VIRT_BASE */, 0x7fff); /* virtual base 0 */
	elf_retype_xen_note(b, 4 /* PADDR_OFFSET */, 0x7ffe);
	phdr(b, PT_LOAD, 1)->p_paddr = 0;
}

static void huge_memsz(uint8_t *b, size_t *len)
{
	(void)len;
	phdr(b, PT_LOAD, 1)->p_memsz = 0x7f0000000000ull;
}

static void overlap(uint8_t *b, size_t *len)
{
	(void)len;
	phdr(b, PT_LOAD, 1)->p_paddr = phdr(b, PT_LOAD, 0)->p_paddr + 4096;
}

static void no_loads(uint8_t *b, size_t *len)
{
	Elf64_Phdr *p;
	(void)len;
	while ((p = phdr(b, PT_LOAD, 0)))
		p->p_type = PT_NULL;
}

const struct bad_elf bad_elves[] = {
	{ "empty", empty, "not an ELF file" },
	{ "bad-magic", bad_magic, "not an ELF file" },
	{ "text-file", text_file, "not an ELF file" },
	{ "elf32", class32, "not a 64-bit ELF" },
	{ "big-endian", big_endian, "not x86-64" },
	{ "i386", machine386, "not x86-64" },
	{ "shared-object", shared_object, "not an executable" },
	{ "cut-header", cut_header, "ELF header" },
	{ "cut-half", cut_half, "beyond the end of the file" },
	{ "phoff-beyond", phoff_beyond, "program header" },
	{ "phnum-huge", phnum_huge, "program header" },
	{ "no-notes", no_notes, "no Xen ELF notes" },
	{ "note-outside", note_outside, "outside the file" },
	{ "note-bad-size", note_bad_size, "malformed ELF note" },
	{ "note-odd-number", note_odd_number, "expected 4 or 8" },
	{ "entry-outside", entry_outside, "entry point" },
	{ "hypercall-page-unaligned", hypercall_page_odd, "HYPERCALL_PAGE" },
	{ "xen-version", xen_version, "xen-3.0" },
	{ "loader-other", loader_other, "generic loader" },
	{ "filesz-gt-memsz", filesz_gt_memsz, "file size exceeds memory size" },
	{ "load-beyond-file", load_beyond_file, "beyond the end of the file" },
	{ "upper-half", upper_half, "outside the guest's half" },
	{ "in-hole", in_hole, "outside the guest's half" },
	{ "huge-memsz", huge_memsz, "memory size" },
	{ "overlap", overlap, "overlap" },
	{ "no-loads", no_loads, "no loadable segments" },
};
const unsigned bad_elves_count = sizeof(bad_elves) / sizeof(bad_elves[0]);
