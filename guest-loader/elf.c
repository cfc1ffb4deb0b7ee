/* elf.c - parse and check a Xen PV guest ELF image with libelf. */
#include "guest-loader/loader.h"
#include "xen_abi.h"

#include <errno.h>
#include <gelf.h>
#include <libelf.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define UNSET UINT64_MAX
#define PAGE 4096ull

static int refuse(char *why, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, LOADER_WHY, fmt, ap);
	va_end(ap);
	return -ENOEXEC;
}

static uint64_t note_number(const uint8_t *desc, size_t len, int *ok)
{
	uint64_t v = 0;

	*ok = (len == 4 || len == 8);
	if (len == 4) {
		uint32_t v32;
		memcpy(&v32, desc, 4);
		v = v32;
	} else if (len == 8) {
		memcpy(&v, desc, 8);
	}
	return v;
}

static void note_string(char *dst, const uint8_t *desc, size_t len)
{
	size_t n = len < LOADER_STR - 1 ? len : LOADER_STR - 1;

	memcpy(dst, desc, n);
	dst[n] = '\0';
}

/* Feature names of the FEATURES note, indexed by XENFEAT_* number. */
static const char *const feature_names[] = {
	[XENFEAT_writable_page_tables] = "writable_page_tables",
	[XENFEAT_writable_descriptor_tables] = "writable_descriptor_tables",
	[XENFEAT_auto_translated_physmap] = "auto_translated_physmap",
	[XENFEAT_supervisor_mode_kernel] = "supervisor_mode_kernel",
	[XENFEAT_pae_pgdir_above_4gb] = "pae_pgdir_above_4gb",
	[XENFEAT_mmu_pt_update_preserve_ad] = "mmu_pt_update_preserve_ad",
	[XENFEAT_highmem_assist] = "highmem_assist",
	[XENFEAT_gnttab_map_avail_bits] = "gnttab_map_avail_bits",
	[8] = "hvm_callback_vector",
	[9] = "hvm_safe_pvclock",
	[10] = "hvm_pirqs",
	[11] = "dom0",
};

/* Parse "a|!b|c": unknown names are ignored, as Xen does. */
static void parse_features(struct loader_image *img, const char *s)
{
	while (*s) {
		size_t len = strcspn(s, "|");
		int required = (*s == '!');
		const char *name = s + required;
		size_t nlen = len - required;

		for (unsigned i = 0; i < sizeof(feature_names) / sizeof(*feature_names); i++) {
			if (feature_names[i] && strlen(feature_names[i]) == nlen &&
			    !strncmp(feature_names[i], name, nlen)) {
				img->features_supported |= 1u << i;
				if (required)
					img->features_required |= 1u << i;
			}
		}
		s += len + (s[len] == '|');
	}
}

struct raw_notes {
	uint64_t num[XEN_ELFNOTE_MAX + 1];
	unsigned seen;  /* Xen notes read */
	int legacy;     /* read from a __xen_guest string instead */
};

static int take_note(struct loader_image *img, struct raw_notes *rn,
		     GElf_Nhdr *nh, const uint8_t *desc, char *why)
{
	int ok = 1;
	char feat[LOADER_STR * 4];

	rn->seen++;
	switch (nh->n_type) {
	case XEN_ELFNOTE_ENTRY:
	case XEN_ELFNOTE_HYPERCALL_PAGE:
	case XEN_ELFNOTE_VIRT_BASE:
	case XEN_ELFNOTE_PADDR_OFFSET:
	case XEN_ELFNOTE_INIT_P2M:
		rn->num[nh->n_type] = note_number(desc, nh->n_descsz, &ok);
		break;
	case XEN_ELFNOTE_GUEST_OS:
		note_string(img->guest_os, desc, nh->n_descsz);
		break;
	case XEN_ELFNOTE_GUEST_VERSION:
		note_string(img->guest_version, desc, nh->n_descsz);
		break;
	case XEN_ELFNOTE_XEN_VERSION:
		note_string(img->xen_version, desc, nh->n_descsz);
		break;
	case XEN_ELFNOTE_LOADER:
		note_string(img->loader, desc, nh->n_descsz);
		break;
	case XEN_ELFNOTE_FEATURES: {
		size_t n = nh->n_descsz < sizeof(feat) - 1 ? nh->n_descsz : sizeof(feat) - 1;
		memcpy(feat, desc, n);
		feat[n] = '\0';
		parse_features(img, feat);
		break;
	}
	default:
		break; /* other notes carry nothing pvmm uses */
	}
	if (!ok)
		return refuse(why, "Xen ELF note %u has a %u-byte value (expected 4 or 8)",
			      nh->n_type, nh->n_descsz);
	return 0;
}

/* The notes in [offset, offset + size) of the file, a PT_NOTE segment or
 * a SHT_NOTE section (what). */
static int scan_notes(Elf *elf, uint64_t offset, uint64_t size, const char *what,
		      struct loader_image *img, struct raw_notes *rn, char *why)
{
	Elf_Data *d = elf_getdata_rawchunk(elf, (int64_t)offset, size, ELF_T_NHDR);
	size_t off = 0, name_off, desc_off;
	GElf_Nhdr nh;

	if (!d)
		return refuse(why, "%s at offset %#llx is outside the file or misaligned", what,
			      (unsigned long long)offset);
	while (off < d->d_size) {
		size_t next = gelf_getnote(d, off, &nh, &name_off, &desc_off);
		if (next == 0)
			return refuse(why, "malformed ELF note at offset %#llx",
				      (unsigned long long)(offset + off));
		if (nh.n_namesz == 4 && !memcmp((char *)d->d_buf + name_off, "Xen", 4)) {
			int rc = take_note(img, rn, &nh, (uint8_t *)d->d_buf + desc_off, why);
			if (rc)
				return rc;
		}
		off = next;
	}
	return 0;
}

static int check_header(Elf *elf, GElf_Ehdr *eh, char *why)
{
	const char *ident = elf_getident(elf, NULL);

	if (elf_kind(elf) != ELF_K_ELF || !ident)
		return refuse(why, "not an ELF file");
	if (ident[EI_CLASS] != ELFCLASS64)
		return refuse(why, "not a 64-bit ELF file (pvmm runs x86-64 PV guests)");
	if (!gelf_getehdr(elf, eh))
		return refuse(why, "truncated or corrupt ELF header: %s", elf_errmsg(-1));
	if (ident[EI_DATA] != ELFDATA2LSB || eh->e_machine != EM_X86_64)
		return refuse(why, "ELF machine %u is not x86-64", eh->e_machine);
	if (eh->e_type != ET_EXEC)
		return refuse(why, "not a Xen PV kernel: ELF type %u%s is not an executable "
			      "(ET_EXEC)", eh->e_type,
			      eh->e_type == ET_DYN ? " (ET_DYN, a PIE program or shared library)" : "");
	return 0;
}

/* The section table is not needed to load, but a file that promises one it
 * does not hold is truncated or corrupt, and the symbols live there. */
static int check_sections(const GElf_Ehdr *eh, size_t size, char *why)
{
	uint64_t table = (uint64_t)eh->e_shnum * eh->e_shentsize;

	if (eh->e_shoff && (eh->e_shoff > size || table > size - eh->e_shoff))
		return refuse(why, "section header table lies beyond the end of the file (truncated?)");
	return 0;
}

static int take_load(const GElf_Phdr *ph, size_t fsize, struct loader_image *img, char *why)
{
	struct loader_segment *s;

	if (img->nseg == LOADER_MAX_SEGS)
		return refuse(why, "more than %d PT_LOAD segments", LOADER_MAX_SEGS);
	if (ph->p_filesz > ph->p_memsz)
		return refuse(why, "PT_LOAD at %#llx: file size exceeds memory size",
			      (unsigned long long)ph->p_vaddr);
	if (ph->p_offset > fsize || ph->p_filesz > fsize - ph->p_offset)
		return refuse(why, "PT_LOAD at %#llx extends beyond the end of the file (truncated?)",
			      (unsigned long long)ph->p_vaddr);
	if (ph->p_memsz > LOADER_MAX_FILE * 64)
		return refuse(why, "PT_LOAD at %#llx: memory size %#llx is absurd",
			      (unsigned long long)ph->p_vaddr, (unsigned long long)ph->p_memsz);
	s = &img->seg[img->nseg++];
	s->vaddr = ph->p_paddr; /* relocated by virt_offset once notes are read */
	s->memsz = ph->p_memsz;
	s->filesz = ph->p_filesz;
	s->offset = ph->p_offset;
	s->flags = ph->p_flags;
	return 0;
}

static int read_phdrs(Elf *elf, size_t fsize, struct loader_image *img,
		      struct raw_notes *rn, char *why)
{
	size_t n;
	GElf_Phdr ph;

	if (elf_getphdrnum(elf, &n) != 0 || n == 0)
		return refuse(why, "no program headers");
	for (size_t i = 0; i < n; i++) {
		int rc = 0;
		if (!gelf_getphdr(elf, (int)i, &ph))
			return refuse(why, "program header %zu lies outside the file", i);
		if (ph.p_type == PT_LOAD && ph.p_memsz)
			rc = take_load(&ph, fsize, img, why);
		else if (ph.p_type == PT_NOTE && ph.p_offset) /* 0: an old binutils bug, skipped as Xen does */
			rc = scan_notes(elf, ph.p_offset, ph.p_filesz, "PT_NOTE segment", img, rn, why);
		if (rc)
			return rc;
	}
	if (!img->nseg)
		return refuse(why, "no loadable segments");
	return 0;
}

/* Without Xen notes in a PT_NOTE segment, Xen's libelf reads those of every
 * SHT_NOTE section. */
static int read_note_sections(Elf *elf, struct loader_image *img, struct raw_notes *rn, char *why)
{
	Elf_Scn *scn = NULL;
	GElf_Shdr sh;

	while ((scn = elf_nextscn(elf, scn)) != NULL) {
		if (!gelf_getshdr(scn, &sh))
			return refuse(why, "section header %zu is corrupt", elf_ndxscn(scn));
		if (sh.sh_type == SHT_NOTE && sh.sh_size) {
			int rc = scan_notes(elf, sh.sh_offset, sh.sh_size, "SHT_NOTE section", img, rn, why);
			if (rc)
				return rc;
		}
	}
	return 0;
}

/* One NAME=VALUE of a legacy __xen_guest string, as Xen's libelf reads it:
 * numbers in C notation, HYPERCALL_PAGE a page number. */
static void take_legacy(struct loader_image *img, struct raw_notes *rn, const char *name,
			const char *value)
{
	static const struct { const char *name; unsigned note; } numbers[] = {
		{ "VIRT_BASE", XEN_ELFNOTE_VIRT_BASE }, { "VIRT_ENTRY", XEN_ELFNOTE_ENTRY },
		{ "ELF_PADDR_OFFSET", XEN_ELFNOTE_PADDR_OFFSET },
		{ "HYPERCALL_PAGE", XEN_ELFNOTE_HYPERCALL_PAGE },
	};
	static const struct { const char *name; size_t off; } strings[] = {
		{ "LOADER", offsetof(struct loader_image, loader) },
		{ "GUEST_OS", offsetof(struct loader_image, guest_os) },
		{ "GUEST_VER", offsetof(struct loader_image, guest_version) },
		{ "XEN_VER", offsetof(struct loader_image, xen_version) },
	};

	for (unsigned i = 0; i < sizeof(numbers) / sizeof(*numbers); i++)
		if (!strcmp(name, numbers[i].name))
			rn->num[numbers[i].note] = strtoull(value, NULL, 0);
	for (unsigned i = 0; i < sizeof(strings) / sizeof(*strings); i++)
		if (!strcmp(name, strings[i].name))
			note_string((char *)img + strings[i].off, (const uint8_t *)value, strlen(value));
	if (!strcmp(name, "FEATURES"))
		parse_features(img, value);
}

/* The legacy __xen_guest section: "GUEST_OS=linux,XEN_VER=xen-3.0,...",
 * read when there are no Xen notes at all. */
static int read_xen_guest(Elf *elf, struct loader_image *img, struct raw_notes *rn, char *why)
{
	char text[1024], *save = NULL;
	Elf_Scn *scn = NULL;
	size_t shstrndx;
	GElf_Shdr sh;

	if (elf_getshdrstrndx(elf, &shstrndx))
		return 0; /* no section names: no such section */
	while ((scn = elf_nextscn(elf, scn)) != NULL) {
		const char *name;
		if (!gelf_getshdr(scn, &sh) || !(name = elf_strptr(elf, shstrndx, sh.sh_name)) ||
		    strcmp(name, "__xen_guest") || sh.sh_type == SHT_NOBITS)
			continue;
		if (sh.sh_offset > img->file_size || sh.sh_size > img->file_size - sh.sh_offset)
			return refuse(why, "__xen_guest section lies beyond the end of the file");
		size_t n = sh.sh_size < sizeof(text) - 1 ? sh.sh_size : sizeof(text) - 1;
		memcpy(text, img->file + sh.sh_offset, n);
		text[n] = '\0';
		rn->legacy = 1;
		for (char *kv = strtok_r(text, ",", &save); kv; kv = strtok_r(NULL, ",", &save)) {
			char *eq = strchr(kv, '=');
			if (eq)
				*eq = '\0';
			take_legacy(img, rn, kv, eq ? eq + 1 : "");
		}
		/* the legacy HYPERCALL_PAGE is a page number from VIRT_BASE */
		uint64_t *hc = &rn->num[XEN_ELFNOTE_HYPERCALL_PAGE];
		if (*hc != UNSET && rn->num[XEN_ELFNOTE_VIRT_BASE] != UNSET)
			*hc = (*hc << 12) + rn->num[XEN_ELFNOTE_VIRT_BASE];
		else if (*hc != UNSET)
			*hc <<= 12;
		return 0;
	}
	return 0;
}

/* Xen's checks of the guest's declared identity. */
static int check_identity(const struct loader_image *img, char *why)
{
	if (strncmp(img->loader, "generic", 7) && strncmp(img->guest_os, "linux", 5))
		return refuse(why, "Xen only loads images for the generic loader or Linux "
			      "(LOADER '%s', GUEST_OS '%s')", img->loader, img->guest_os);
	if (strncmp(img->xen_version, "xen-3.0", 7))
		return refuse(why, "XEN_VERSION note is '%s', Xen loads only 'xen-3.0' images",
			      img->xen_version);
	return 0;
}

static int segments_overlap(const struct loader_image *img, unsigned *a, unsigned *b)
{
	for (unsigned i = 0; i < img->nseg; i++)
		for (unsigned j = i + 1; j < img->nseg; j++) {
			const struct loader_segment *x = &img->seg[i], *y = &img->seg[j];
			if (x->vaddr < y->vaddr + y->memsz && y->vaddr < x->vaddr + x->memsz) {
				*a = i, *b = j;
				return 1;
			}
		}
	return 0;
}

/* Relocate segments by Xen's rules and check them against the guest half. */
static int place(struct loader_image *img, struct raw_notes *rn, uint64_t e_entry,
		 uint64_t min_va, uint64_t max_va, char *why)
{
	uint64_t pstart = UINT64_MAX, pend = 0, off;
	unsigned a, b;

	if (rn->num[XEN_ELFNOTE_PADDR_OFFSET] != UNSET && rn->num[XEN_ELFNOTE_VIRT_BASE] == UNSET)
		return refuse(why, "PADDR_OFFSET note without VIRT_BASE");
	img->virt_base = rn->num[XEN_ELFNOTE_VIRT_BASE] == UNSET ? 0 : rn->num[XEN_ELFNOTE_VIRT_BASE];
	/* unset, it is 0 with notes and VIRT_BASE with a legacy string */
	img->paddr_offset = rn->num[XEN_ELFNOTE_PADDR_OFFSET] != UNSET
			    ? rn->num[XEN_ELFNOTE_PADDR_OFFSET] : rn->legacy ? img->virt_base : 0;
	off = img->virt_base - img->paddr_offset;
	for (unsigned i = 0; i < img->nseg; i++) {
		struct loader_segment *s = &img->seg[i];
		if (s->vaddr + s->memsz < s->vaddr)
			return refuse(why, "PT_LOAD segment wraps around the address space");
		pstart = s->vaddr < pstart ? s->vaddr : pstart;
		pend = s->vaddr + s->memsz > pend ? s->vaddr + s->memsz : pend;
		s->vaddr += off;
		if (s->vaddr < min_va)
			return refuse(why, "segment [%#llx, %#llx) starts below %#llx, the lowest "
				      "address this host lets pvmm map (vm.mmap_min_addr): run pvmm "
				      "as root (the guest process keeps CAP_SYS_RAWIO) or lower "
				      "vm.mmap_min_addr (sysctl vm.mmap_min_addr=0)",
				      (unsigned long long)s->vaddr,
				      (unsigned long long)(s->vaddr + s->memsz),
				      (unsigned long long)min_va);
		if (s->vaddr >= max_va || s->memsz > max_va - s->vaddr)
			return refuse(why, "segment [%#llx, %#llx) is outside the guest's half "
				      "[%#llx, %#llx): upper-half and pvmm-hole addresses cannot be used",
				      (unsigned long long)s->vaddr,
				      (unsigned long long)(s->vaddr + s->memsz),
				      (unsigned long long)min_va, (unsigned long long)max_va);
	}
	if (segments_overlap(img, &a, &b))
		return refuse(why, "PT_LOAD segments %u and %u overlap", a, b);
	img->virt_kstart = (pstart + off) & ~(PAGE - 1);
	img->virt_kend = (pend + off + PAGE - 1) & ~(PAGE - 1);
	img->entry = rn->num[XEN_ELFNOTE_ENTRY] == UNSET ? e_entry : rn->num[XEN_ELFNOTE_ENTRY];
	img->hypercall_page = rn->num[XEN_ELFNOTE_HYPERCALL_PAGE] == UNSET ? 0
			      : rn->num[XEN_ELFNOTE_HYPERCALL_PAGE];
	if (img->virt_base > img->virt_kstart)
		return refuse(why, "VIRT_BASE %#llx is above the image's start %#llx",
			      (unsigned long long)img->virt_base,
			      (unsigned long long)img->virt_kstart);
	if (img->entry < img->virt_kstart || img->entry >= img->virt_kend)
		return refuse(why, "entry point %#llx is outside the image [%#llx, %#llx)",
			      (unsigned long long)img->entry, (unsigned long long)img->virt_kstart,
			      (unsigned long long)img->virt_kend);
	if (img->hypercall_page && (img->hypercall_page & (PAGE - 1) ||
				    img->hypercall_page < img->virt_kstart ||
				    img->hypercall_page >= img->virt_kend))
		return refuse(why, "HYPERCALL_PAGE %#llx is not a page inside the image",
			      (unsigned long long)img->hypercall_page);
	return 0;
}

int loader_parse(const void *file, size_t size, uint64_t min_va, uint64_t max_va,
		 struct loader_image *img, char *why)
{
	struct raw_notes rn;
	GElf_Ehdr eh;
	Elf *elf;
	int rc;

	memset(img, 0, sizeof(*img));
	memset(&rn, 0xff, sizeof(rn.num));
	rn.seen = 0;
	rn.legacy = 0;
	img->file = file;
	img->file_size = size;
	if (size > LOADER_MAX_FILE)
		return refuse(why, "image is larger than 1 GiB");
	if (size < EI_NIDENT || memcmp(file, ELFMAG, SELFMAG))
		return refuse(why, "not an ELF file (bad magic)");
	if (size < sizeof(Elf64_Ehdr))
		return refuse(why, "truncated ELF header (%zu bytes)", size);
	elf_version(EV_CURRENT);
	elf = elf_memory((char *)file, size);
	if (!elf)
		return refuse(why, "libelf cannot read the image: %s", elf_errmsg(-1));
	rc = check_header(elf, &eh, why);
	if (!rc)
		rc = check_sections(&eh, size, why);
	if (!rc)
		rc = read_phdrs(elf, size, img, &rn, why);
	if (!rc && !rn.seen)
		rc = read_note_sections(elf, img, &rn, why);
	if (!rc && !rn.seen)
		rc = read_xen_guest(elf, img, &rn, why);
	if (!rc && !rn.seen && !rn.legacy)
		rc = refuse(why, "not a Xen PV kernel: no Xen ELF notes (in a PT_NOTE segment or a "
			    "SHT_NOTE section) and no __xen_guest section");
	if (!rc)
		rc = check_identity(img, why);
	if (!rc)
		rc = place(img, &rn, eh.e_entry, min_va, max_va, why);
	elf_end(elf);
	return rc;
}
