/* builder.c - the PV domain builder: image, start-of-day pages, bootstrap
 * page tables, boot stack. Follows the layout of Xen's own PV builder. */
#include "guest-loader/loader.h"
#include "xen_abi.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#define PAGE 4096ull
#define SLACK (512ull << 10)  /* Xen leaves 512 KiB mapped past the stack */
#define ALIGN_END (4ull << 20) /* and rounds the mapping to 4 MiB */

static uint64_t round_up(uint64_t v, uint64_t a) { return (v + a - 1) & ~(a - 1); }

/* Tables needed at one level to cover [s, e) when each entry spans 2^shift. */
static uint64_t tables_for(uint64_t s, uint64_t e, unsigned shift)
{
	return ((e - 1) >> shift) - (s >> shift) + 1;
}

static uint64_t pt_frames_for(uint64_t s, uint64_t e)
{
	return 1 + tables_for(s, e, 39) + tables_for(s, e, 30) + tables_for(s, e, 21);
}

static void lay_out(const struct loader_image *img, uint64_t nr_pages, uint64_t mod_size,
		    struct loader_layout *lay)
{
	uint64_t cur = img->virt_kend, nr_pt = 1, pt_va, need;

	lay->nr_pages = nr_pages;
	lay->shared_info_pfn = nr_pages;
	lay->v_start = img->virt_base;
	if (mod_size) { /* the ramdisk segment comes right after the kernel's */
		lay->mod_va = cur;
		lay->mod_len = round_up(mod_size, PAGE);
		cur += lay->mod_len;
	}
	lay->p2m_va = cur;
	cur += round_up(nr_pages * 8, PAGE);
	lay->start_info_va = cur;
	cur += PAGE;
	lay->store_pfn = (cur - lay->v_start) / PAGE;
	cur += PAGE;
	lay->console_pfn = (cur - lay->v_start) / PAGE;
	cur += PAGE;
	pt_va = cur;
	for (;;) {
		lay->v_end = round_up(pt_va + (nr_pt + 1) * PAGE + SLACK, ALIGN_END);
		need = pt_frames_for(lay->v_start, lay->v_end);
		if (need <= nr_pt)
			break;
		nr_pt = need;
	}
	lay->start_info_pfn = (lay->start_info_va - lay->v_start) / PAGE;
	lay->pt_base_va = pt_va;
	lay->pt_first_pfn = (pt_va - lay->v_start) / PAGE;
	lay->nr_pt_frames = nr_pt;
	lay->stack_top = pt_va + (nr_pt + 1) * PAGE;
	lay->entry = img->entry;
	lay->first_free_pfn = (lay->v_end - lay->v_start) / PAGE;
}

static uint64_t *frame(uint8_t *mem, uint64_t pfn) { return (uint64_t *)(mem + pfn * PAGE); }

/* Allocates the bootstrap tables from the page-table area and links every
 * page of [v_start, v_end) to its frame. */
struct pt_builder {
	uint8_t *mem;
	const struct loader_layout *lay;
	uint64_t next; /* next free page-table frame */
};

#define PT_TABLE_FLAGS (PTE_P | PTE_RW | PTE_US | PTE_A)
#define PT_LEAF_FLAGS (PTE_P | PTE_RW | PTE_US | PTE_A | PTE_D)

static uint64_t child_table(struct pt_builder *b, uint64_t *table, unsigned idx)
{
	if (!(table[idx] & PTE_P))
		table[idx] = (b->next++ << XEN_PAGE_SHIFT) | PT_TABLE_FLAGS;
	return (table[idx] & PTE_ADDR_MASK) >> XEN_PAGE_SHIFT;
}

static int is_pt_frame(const struct loader_layout *lay, uint64_t pfn)
{
	return pfn >= lay->pt_first_pfn && pfn < lay->pt_first_pfn + lay->nr_pt_frames;
}

static void build_tables(uint8_t *mem, const struct loader_layout *lay)
{
	struct pt_builder b = { mem, lay, lay->pt_first_pfn + 1 };
	uint64_t *l4 = frame(mem, lay->pt_first_pfn);

	for (uint64_t va = lay->v_start; va < lay->v_end; va += PAGE) {
		uint64_t pfn = (va - lay->v_start) / PAGE;
		uint64_t *l3 = frame(mem, child_table(&b, l4, (va >> 39) & 511));
		uint64_t *l2 = frame(mem, child_table(&b, l3, (va >> 30) & 511));
		uint64_t *l1 = frame(mem, child_table(&b, l2, (va >> 21) & 511));
		uint64_t flags = PT_LEAF_FLAGS & ~(is_pt_frame(lay, pfn) ? PTE_RW : 0);

		l1[(va >> 12) & 511] = (pfn << XEN_PAGE_SHIFT) | flags;
	}
}

static void load_segments(const struct loader_image *img, uint8_t *mem, uint64_t v_start)
{
	for (unsigned i = 0; i < img->nseg; i++) {
		const struct loader_segment *s = &img->seg[i];
		memcpy(mem + (s->vaddr - v_start), img->file + s->offset, s->filesz);
		/* the rest of memsz is already zero */
	}
}

/* Xen's entry: push %rcx; push %r11; mov $nr,%eax; syscall; pop %r11; pop
 * %rcx; ret. iret does not return: it pushes %rax too and has no epilogue. */
static void fill_syscall_entry(uint8_t *p, uint32_t nr)
{
	static const uint8_t pre[] = { 0x51, 0x41, 0x53, 0xb8 };
	static const uint8_t iret[] = { 0x51, 0x41, 0x53, 0x50, 0xb8 };
	static const uint8_t post[] = { 0x0f, 0x05, 0x41, 0x5b, 0x59, 0xc3 };

	if (nr == XEN_HC_iret) {
		memcpy(p, iret, sizeof(iret));
		memcpy(p + 5, &nr, 4);
		p[9] = 0x0f, p[10] = 0x05;
		return;
	}
	memcpy(p, pre, sizeof(pre));
	memcpy(p + 4, &nr, 4);
	memcpy(p + 8, post, sizeof(post));
}

/* The same with a jump to (entry) for the `syscall`, the return address in
 * %rcx as `syscall` leaves it: push %rcx; push %r11; mov $nr,%eax; lea
 * 1f(%rip),%rcx; movabs $entry,%r11; jmp *%r11; 1: pop %r11; pop %rcx; ret
 * (32 bytes, the whole slot). iret: push %rax after %r11, nothing after
 * the jump. */
static void fill_direct_entry(uint8_t *p, uint32_t nr, uint64_t entry)
{
	static const uint8_t lea[] = { 0x48, 0x8d, 0x0d, 13, 0, 0, 0 }; /* lea 13(%rip),%rcx */
	static const uint8_t jmp[] = { 0x41, 0xff, 0xe3 };               /* jmp *%r11 */
	static const uint8_t post[] = { 0x41, 0x5b, 0x59, 0xc3 };
	size_t at = 0;

	p[at++] = 0x51, p[at++] = 0x41, p[at++] = 0x53;
	if (nr == XEN_HC_iret)
		p[at++] = 0x50;
	p[at++] = 0xb8;
	memcpy(p + at, &nr, 4), at += 4;
	memcpy(p + at, lea, sizeof(lea)), at += sizeof(lea);
	p[at++] = 0x49, p[at++] = 0xbb; /* movabs $entry,%r11 */
	memcpy(p + at, &entry, 8), at += 8;
	memcpy(p + at, jmp, sizeof(jmp)), at += sizeof(jmp);
	if (nr != XEN_HC_iret)
		memcpy(p + at, post, sizeof(post));
}

void loader_fill_hypercall_page(uint8_t *page, uint64_t entry)
{
	_Static_assert(XEN_HYPERCALL_PAGE_ENTRY == 32, "a direct entry takes 32 bytes");
	memset(page, 0xcc, PAGE); /* int3 between the stubs */
	for (uint32_t i = 0; i < XEN_HYPERCALL_PAGE_ENTRIES; i++) {
		uint8_t *p = page + i * XEN_HYPERCALL_PAGE_ENTRY;

		if (entry)
			fill_direct_entry(p, i, entry);
		else
			fill_syscall_entry(p, i);
	}
}

static void fill_start_info(const struct loader_layout *lay, uint8_t *mem, const char *cmdline)
{
	struct start_info *si = (struct start_info *)frame(mem, lay->start_info_pfn);

	snprintf(si->magic, sizeof(si->magic), "%s", XEN_START_INFO_MAGIC);
	si->nr_pages = lay->nr_pages;
	si->shared_info = lay->shared_info_pfn << XEN_PAGE_SHIFT;
	si->flags = 0;
	si->store_mfn = lay->store_pfn;
	si->store_evtchn = LOADER_STORE_EVTCHN;
	si->console_mfn = lay->console_pfn;
	si->console_evtchn = LOADER_CONSOLE_EVTCHN;
	si->pt_base = lay->pt_base_va;
	si->nr_pt_frames = lay->nr_pt_frames;
	si->mfn_list = lay->p2m_va;
	si->mod_start = lay->mod_va; /* virtual: SIF_MOD_START_PFN is not set */
	si->mod_len = lay->mod_len;
	snprintf((char *)si->cmd_line, sizeof(si->cmd_line), "%s", cmdline ? cmdline : "");
}

int loader_build(const struct loader_image *img, uint8_t *mem, uint64_t nr_pages,
		 const char *cmdline, struct loader_layout *lay, char *why)
{
	return loader_build_mod(img, mem, nr_pages, cmdline, NULL, 0, lay, why);
}

int loader_build_mod(const struct loader_image *img, uint8_t *mem, uint64_t nr_pages,
		     const char *cmdline, const void *mod, size_t mod_size,
		     struct loader_layout *lay, char *why)
{
	if (cmdline && strlen(cmdline) >= XEN_CMDLINE_SIZE) {
		snprintf(why, LOADER_WHY, "command line is %zu characters, Xen allows %d",
			 strlen(cmdline), XEN_CMDLINE_SIZE - 1);
		return -E2BIG;
	}
	memset(lay, 0, sizeof(*lay));
	lay_out(img, nr_pages, mod ? mod_size : 0, lay);
	if (lay->first_free_pfn > nr_pages) {
		snprintf(why, LOADER_WHY, "guest needs at least %llu KiB of memory for its "
			 "image%s and bootstrap, --memory gives %llu KiB",
			 (unsigned long long)(lay->first_free_pfn * 4), lay->mod_len ? ", ramdisk" : "",
			 (unsigned long long)(nr_pages * 4));
		return -ENOMEM;
	}
	load_segments(img, mem, lay->v_start);
	if (lay->mod_len) /* the rest of its last page is already zero */
		memcpy(mem + (lay->mod_va - lay->v_start), mod, mod_size);
	if (img->hypercall_page)
		loader_fill_hypercall_page(mem + (img->hypercall_page - lay->v_start), 0);
	/* the P2M list is left to loader_fill_p2m(): the monitor writes it
	 * page by page on first use */
	fill_start_info(lay, mem, cmdline);
	build_tables(mem, lay);
	return 0;
}

uint64_t loader_p2m_first_pfn(const struct loader_layout *lay)
{
	return (lay->p2m_va - lay->v_start) / PAGE;
}

uint64_t loader_p2m_frames(const struct loader_layout *lay)
{
	return round_up(lay->nr_pages * 8, PAGE) / PAGE;
}

void loader_fill_p2m(const struct loader_layout *lay, uint64_t page, uint8_t *dst)
{
	uint64_t *e = (uint64_t *)dst, first = page * (PAGE / 8);

	for (uint64_t i = 0; i < PAGE / 8; i++) /* pvmm's P2M is the identity */
		e[i] = first + i < lay->nr_pages ? first + i : 0;
}
