/*
 * guest-loader - parse a Xen PV guest ELF image and build its domain.
 *
 * Pure code: no ptrace, no mmap, no exit. Everything here works on byte
 * buffers the caller owns, so it is unit-tested directly. Functions return 0
 * or a negative errno value and leave a one-line reason, fit for the user, in
 * the caller's (why) buffer of LOADER_WHY bytes.
 */
#ifndef PVMM_LOADER_H
#define PVMM_LOADER_H

#include <stddef.h>
#include <stdint.h>

#define LOADER_WHY 256
/* The event channels the builder puts in start_info, bound to the
 * xenstore and the console backends. */
#define LOADER_STORE_EVTCHN 1u
#define LOADER_CONSOLE_EVTCHN 2u
#define LOADER_MAX_SEGS 16
#define LOADER_STR 64
#define LOADER_MAX_FILE (1ull << 30) /* images above 1 GiB are refused */

struct loader_segment {
	uint64_t vaddr;  /* guest virtual address it is loaded at */
	uint64_t memsz;
	uint64_t filesz;
	uint64_t offset; /* in the file */
	uint32_t flags;  /* PF_R / PF_W / PF_X */
};

struct loader_image {
	const uint8_t *file; /* the caller's buffer, not owned */
	size_t file_size;
	uint64_t virt_base, paddr_offset;
	uint64_t virt_kstart, virt_kend; /* page-aligned extent of the image */
	uint64_t entry;
	uint64_t hypercall_page;          /* virtual address, or 0 when absent */
	uint32_t features_supported;      /* XENFEAT_* bits named in FEATURES */
	uint32_t features_required;       /* those named with '!' */
	char guest_os[LOADER_STR], guest_version[LOADER_STR];
	char xen_version[LOADER_STR], loader[LOADER_STR];
	unsigned nseg;
	struct loader_segment seg[LOADER_MAX_SEGS];
};

/* Parse (file, size) as an x86-64 Xen PV kernel. Guest virtual addresses
 * must lie in [min_va, max_va) (the monitor passes the lowest address the
 * host lets it map: the host's mmap_min_addr, or 0 when it may map page 0;
 * and the start of the pvmm hole). Returns 0, or -ENOEXEC with the reason in
 * (why): a segment below min_va is refused with one line naming the remedy.
 * The image keeps a pointer to (file). */
int loader_parse(const void *file, size_t size, uint64_t min_va,
		 uint64_t max_va, struct loader_image *img, char *why);

/* The bootstrap domain the builder made, in the order Xen's PV builder uses:
 * image, p2m list, start_info, xenstore page, console page, page tables,
 * boot stack; all mapped from v_start to v_end with pfn = (va - v_start) /
 * 4096. Page-table frames are mapped read-only. */
struct loader_layout {
	uint64_t nr_pages;        /* guest RAM pages */
	uint64_t shared_info_pfn; /* the frame after guest RAM (Xen-owned) */
	uint64_t v_start, v_end;
	uint64_t p2m_va;
	uint64_t start_info_va, start_info_pfn;
	uint64_t store_pfn, console_pfn;
	uint64_t pt_first_pfn, nr_pt_frames; /* L4 first, then L3s, L2s, L1s */
	uint64_t pt_base_va;
	uint64_t stack_top;
	uint64_t entry;
	uint64_t first_free_pfn;  /* first frame not used by the bootstrap */
	uint64_t mod_va, mod_len; /* the module (initial ramdisk) after the image, 0 if none */
};

/* Extra frames after guest RAM the memory file must hold: shared_info, then
 * the grant table's shared frames, then its status frames (version 2: one
 * status frame per 8 shared frames). */
#define LOADER_GRANT_FRAMES 32u /* the grant table's frames, after shared_info */
#define LOADER_STATUS_FRAMES (LOADER_GRANT_FRAMES / 8u)
#define LOADER_EXTRA_FRAMES (1u + LOADER_GRANT_FRAMES + LOADER_STATUS_FRAMES)

/* Build the domain for (img) into guest memory (mem), which holds nr_pages
 * frames of RAM plus LOADER_EXTRA_FRAMES, all zero on entry. Everything is
 * written but the P2M list (8 bytes per page: 8 MiB for 4 GiB), whose
 * frames stay zero for loader_fill_p2m(), so that building takes the same
 * time whatever the memory size. Returns 0,
 * -ENOMEM when the bootstrap does not fit in nr_pages, -E2BIG when cmdline
 * is longer than Xen's 1023 characters, -ENOEXEC for an image that cannot
 * be placed. */
int loader_build(const struct loader_image *img, uint8_t *mem,
		 uint64_t nr_pages, const char *cmdline,
		 struct loader_layout *lay, char *why);

/* loader_build() with a module (an initial ramdisk: mod_size bytes at mod,
 * the caller's) placed as Xen's PV builder places it: in the pages right
 * after the image, before the P2M list, and given to the guest as
 * start_info.mod_start = its virtual address (SIF_MOD_START_PFN clear) and
 * mod_len = its size rounded up to whole pages (the segment's extent, as
 * libxenguest reports it). mod may be NULL (no module). Same returns. */
int loader_build_mod(const struct loader_image *img, uint8_t *mem,
		     uint64_t nr_pages, const char *cmdline,
		     const void *mod, size_t mod_size,
		     struct loader_layout *lay, char *why);

/* The P2M list's frames: the first, and how many (nr_pages * 8 rounded up
 * to pages). */
uint64_t loader_p2m_first_pfn(const struct loader_layout *lay);
uint64_t loader_p2m_frames(const struct loader_layout *lay);
/* Write page (page) of the P2M list, 0 <= page < loader_p2m_frames(), into
 * the 4 KiB at (dst): entry i is the machine frame of guest pfn
 * page * 512 + i (pvmm's P2M is the identity), 0 past nr_pages. */
void loader_fill_p2m(const struct loader_layout *lay, uint64_t page, uint8_t *dst);

/* The image's function symbols (STT_FUNC of its SHT_SYMTAB), by address. */
struct loader_symbol {
	uint64_t addr, size;
	char name[48];
};

struct loader_symtab {
	struct loader_symbol *sym; /* owned: loader_symbols_free() */
	size_t n, cap;
};

/* Read the symbols of (file); an image without any gives an empty table.
 * 0, or -ENOMEM. */
int loader_symbols(const void *file, size_t size, struct loader_symtab *t);
/* "function+0xoff" for (addr), or the bare address when no symbol covers it;
 * returns (buf). */
const char *loader_symbolise(const struct loader_symtab *t, uint64_t addr, char *buf, size_t len);
void loader_symbols_free(struct loader_symtab *t);

/* Fill one 4 KiB hypercall page with Xen's 64-bit stubs (entry 0), each
 * a `syscall`, or with stubs that jump to (entry) instead of the `syscall`,
 * %rcx holding the address after it as `syscall` would leave it
 * (stub_abi.h: STUB_FASTCALL_ENTRY). loader_build fills it with the
 * former; the front end may refill it. */
void loader_fill_hypercall_page(uint8_t *page, uint64_t entry);

#endif
