/* check_loader.c - the ELF/notes parser and the domain builder. */
#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "bad_elf.h"
#include "fixture.h"
#include "guest-loader/loader.h"

static struct loader_image img;
static char why[LOADER_WHY];

static int parse_buf(const uint8_t *buf, size_t len)
{
	return loader_parse(buf, len, FIXTURE_MIN_VA, HOLE_BASE, &img, why);
}

START_TEST(good_image_parses)
{
	size_t len;
	uint8_t *buf = fixture_read(FIXTURE_GUEST, &len);

	ck_assert_int_eq(parse_buf(buf, len), 0);
	ck_assert_uint_eq(img.virt_base, 0x400000);
	ck_assert_uint_eq(img.virt_kstart, 0x400000);
	ck_assert_uint_eq(img.entry, 0x400000);
	ck_assert_uint_ne(img.hypercall_page, 0);
	ck_assert_uint_eq(img.hypercall_page % 4096, 0);
	ck_assert_uint_eq(img.nseg, 2);
	ck_assert_str_eq(img.guest_os, "pvmm-sample");
	ck_assert_str_eq(img.xen_version, "xen-3.0");
	ck_assert_str_eq(img.loader, "generic");
	free(buf);
}
END_TEST

/* Every malformed variant is refused with its own reason. */
START_TEST(malformed_image_refused)
{
	const struct bad_elf *b = &bad_elves[_i];
	size_t len;
	uint8_t *buf = fixture_read(FIXTURE_GUEST, &len);

	b->mutate(buf, &len);
	ck_assert_msg(parse_buf(buf, len) == -ENOEXEC, "%s was accepted", b->name);
	ck_assert_msg(strstr(why, b->expect), "%s: reason '%s' lacks '%s'", b->name, why, b->expect);
	ck_assert_msg(!strchr(why, '\n'), "%s: reason is not one line", b->name);
	free(buf);
}
END_TEST

START_TEST(features_note_parsed)
{
	/* FEATURES is parsed into supported and required ('!') sets */
	size_t len;
	uint8_t *buf = fixture_read(FIXTURE_GUEST, &len);

	ck_assert_int_eq(parse_buf(buf, len), 0);
	ck_assert_uint_eq(img.features_supported, 0);
	ck_assert_uint_eq(img.features_required, 0);
	free(buf);
}
END_TEST

/* Xen's libelf: an image without a VIRT_BASE note has virtual base 0, even
 * when nothing can be mapped there (XTF's images, linked at 1 MiB). */
START_TEST(no_virt_base_means_zero)
{
	size_t len;
	uint8_t *buf = fixture_read(FIXTURE_GUEST, &len);

	ck_assert_int_eq(elf_retype_xen_note(buf, XEN_ELFNOTE_VIRT_BASE, 0x7fff), 0);
	ck_assert_int_eq(elf_retype_xen_note(buf, XEN_ELFNOTE_PADDR_OFFSET, 0x7ffe), 0);
	ck_assert_msg(parse_buf(buf, len) == 0, "refused: %s", why);
	ck_assert_uint_eq(img.virt_base, 0);
	ck_assert_uint_eq(img.virt_kstart, 0x400000);
	ck_assert_uint_eq(img.entry, 0x400000);
	free(buf);
}
END_TEST

/* A kernel linked at 0 (Mini-OS, GRUB): refused, with one line naming the
 * remedy, where the host does not let pvmm map page 0 (unprivileged, min_va
 * the host's mmap_min_addr); loaded from 0 where it does (min_va 0). */
START_TEST(linked_at_zero)
{
	size_t len;
	uint8_t *buf = fixture_read(FIXTURE_GUEST, &len);

	elf_link_at_zero(buf);
	ck_assert_int_eq(parse_buf(buf, len), -ENOEXEC);
	ck_assert_msg(strstr(why, "starts below 0x10000") && strstr(why, "run pvmm as root") &&
		      strstr(why, "lower vm.mmap_min_addr") && !strchr(why, '\n'), "reason: %s", why);
	ck_assert_int_eq(loader_parse(buf, len, 0, HOLE_BASE, &img, why), 0);
	ck_assert_uint_eq(img.virt_kstart, 0);
	ck_assert_uint_eq(img.seg[1].vaddr, 0);
	free(buf);
}
END_TEST

/* Xen's libelf: without a PT_NOTE segment, the notes of SHT_NOTE sections. */
START_TEST(notes_from_sections)
{
	size_t len;
	uint8_t *buf = fixture_read(FIXTURE_GUEST, &len);
	uint64_t hypercall_page;

	ck_assert_msg(parse_buf(buf, len) == 0, "refused: %s", why);
	hypercall_page = img.hypercall_page; /* as its PT_NOTE segment says */
	elf_notes_in_section_only(buf);
	ck_assert_msg(parse_buf(buf, len) == 0, "refused: %s", why);
	ck_assert_uint_eq(img.virt_base, 0x400000);
	ck_assert_str_eq(img.xen_version, "xen-3.0");
	ck_assert_uint_ne(hypercall_page, 0);
	ck_assert_uint_eq(img.hypercall_page, hypercall_page);
	free(buf);
}
END_TEST

/* ... and without notes at all, the legacy __xen_guest string: numbers in C
 * notation, HYPERCALL_PAGE a page number from VIRT_BASE, ELF_PADDR_OFFSET
 * VIRT_BASE when absent; and its identity checked as the notes' is. */
START_TEST(legacy_xen_guest_section)
{
	size_t len;
	uint8_t *buf = fixture_read(FIXTURE_GUEST, &len);

	ck_assert_int_eq(elf_make_legacy(buf, "GUEST_OS=linux,XEN_VER=xen-3.0,VIRT_BASE=0x0,"
				       "HYPERCALL_PAGE=0x401,LOADER=generic,FEATURES=!writable_page_tables"), 0);
	ck_assert_msg(parse_buf(buf, len) == 0, "refused: %s", why);
	ck_assert_str_eq(img.guest_os, "linux");
	ck_assert_uint_eq(img.virt_base, 0);
	ck_assert_uint_eq(img.paddr_offset, 0);
	ck_assert_uint_eq(img.hypercall_page, 0x401000);
	ck_assert_uint_eq(img.features_required, 1u << XENFEAT_writable_page_tables);
	free(buf);

	buf = fixture_read(FIXTURE_GUEST, &len);
	ck_assert_int_eq(elf_make_legacy(buf, "GUEST_OS=linux,XEN_VER=xen-3.0,VIRT_BASE=0x400000,"
				       "HYPERCALL_PAGE=1"), 0);
	ck_assert_msg(parse_buf(buf, len) == 0, "refused: %s", why);
	ck_assert_uint_eq(img.paddr_offset, 0x400000); /* the legacy default */
	ck_assert_uint_eq(img.hypercall_page, 0x401000);
	ck_assert_uint_eq(img.virt_kstart, 0x400000); /* virt_base - paddr_offset = 0 */
	free(buf);

	buf = fixture_read(FIXTURE_GUEST, &len);
	ck_assert_int_eq(elf_make_legacy(buf, "GUEST_OS=Plan9,XEN_VER=xen-3.0"), 0);
	ck_assert_int_ne(parse_buf(buf, len), 0);
	ck_assert_ptr_nonnull(strstr(why, "generic loader"));
	free(buf);
}
END_TEST

static uint64_t *frame(struct vm *vm, uint64_t pfn) { return (uint64_t *)(vm->mem + pfn * 4096); }

START_TEST(builder_start_info)
{
	struct vm *vm = fixture_vm();
	const struct loader_layout *l = &vm->lay;
	struct start_info *si = (struct start_info *)frame(vm, l->start_info_pfn);

	ck_assert_str_eq(si->magic, "xen-3.0-x86_64");
	ck_assert_uint_eq(si->nr_pages, FIXTURE_PAGES);
	ck_assert_uint_eq(si->shared_info, (uint64_t)FIXTURE_PAGES << 12);
	ck_assert_uint_eq(si->pt_base, l->pt_base_va);
	ck_assert_uint_eq(si->nr_pt_frames, l->nr_pt_frames);
	ck_assert_uint_eq(si->mfn_list, l->p2m_va);
	ck_assert_uint_eq(si->store_mfn, l->store_pfn);
	ck_assert_uint_eq(si->console_mfn, l->console_pfn);
	ck_assert_str_eq((char *)si->cmd_line, "fixture");
	/* order: image, p2m, start_info, store, console, tables, stack */
	ck_assert_uint_ge(l->p2m_va, vm->img.virt_kend);
	ck_assert_uint_gt(l->start_info_va, l->p2m_va);
	ck_assert_uint_gt(l->store_pfn, l->start_info_pfn);
	ck_assert_uint_gt(l->console_pfn, l->store_pfn);
	ck_assert_uint_gt(l->pt_first_pfn, l->console_pfn);
	ck_assert_uint_eq(l->stack_top, l->pt_base_va + (l->nr_pt_frames + 1) * 4096);
	ck_assert_uint_eq(l->v_end % (4 << 20), 0);
	ck_assert_uint_ge(l->v_end - l->stack_top, 512 << 10);
	/* the P2M list is left zero for loader_fill_p2m() */
	ck_assert_uint_eq(loader_p2m_first_pfn(l), (l->p2m_va - l->v_start) / 4096);
	ck_assert_uint_eq(loader_p2m_frames(l), FIXTURE_PAGES * 8 / 4096);
	for (uint64_t i = 0; i < FIXTURE_PAGES; i++)
		ck_assert_uint_eq(((uint64_t *)(vm->mem + (l->p2m_va - l->v_start)))[i], 0);
	fixture_free(vm);
}
END_TEST

/* Each P2M page holds the identity for its 512 pfns, zero past nr_pages. */
START_TEST(builder_p2m_pages)
{
	struct loader_layout l = { .nr_pages = 1000, .v_start = 0x400000, .p2m_va = 0x403000 };
	uint64_t page[512];

	ck_assert_uint_eq(loader_p2m_frames(&l), 2);
	ck_assert_uint_eq(loader_p2m_first_pfn(&l), 3);
	memset(page, 0xff, sizeof(page));
	loader_fill_p2m(&l, 0, (uint8_t *)page);
	for (unsigned i = 0; i < 512; i++)
		ck_assert_uint_eq(page[i], i);
	loader_fill_p2m(&l, 1, (uint8_t *)page);
	ck_assert_uint_eq(page[0], 512);
	ck_assert_uint_eq(page[999 - 512], 999);
	ck_assert_uint_eq(page[1000 - 512], 0);
	ck_assert_uint_eq(page[511], 0);
}
END_TEST

/* Walk the bootstrap tables by hand: every page of [v_start, v_end) maps its
 * frame, page-table frames read-only, nothing else writable-protected. */
START_TEST(builder_page_tables)
{
	struct vm *vm = fixture_vm();
	const struct loader_layout *l = &vm->lay;
	uint64_t tables = 0;

	for (uint64_t va = l->v_start; va < l->v_end; va += 4096) {
		uint64_t pfn = (va - l->v_start) >> 12, mfn = l->pt_first_pfn, e = 0;
		for (int level = 3; level >= 0; level--) {
			e = frame(vm, mfn)[(va >> (12 + 9 * level)) & 511];
			ck_assert(e & PTE_P);
			mfn = (e & PTE_ADDR_MASK) >> 12;
			ck_assert_uint_ge(mfn, l->pt_first_pfn * (level > 0));
		}
		ck_assert_uint_eq(mfn, pfn);
		int is_pt = pfn >= l->pt_first_pfn && pfn < l->pt_first_pfn + l->nr_pt_frames;
		ck_assert_int_eq(!!(e & PTE_RW), !is_pt);
		tables += is_pt;
	}
	ck_assert_uint_eq(tables, l->nr_pt_frames);
	ck_assert_uint_eq(l->nr_pt_frames, 5); /* L4, L3, L2, two L1s for 4 MiB */
	fixture_free(vm);
}
END_TEST

START_TEST(builder_hypercall_page)
{
	struct vm *vm = fixture_vm();
	const uint8_t *hp = vm->mem + (vm->img.hypercall_page - vm->lay.v_start);
	/* entry 18: push %rcx; push %r11; mov $18,%eax; syscall; pop %r11; pop %rcx; ret */
	static const uint8_t console_io[] = { 0x51, 0x41, 0x53, 0xb8, 18, 0, 0, 0,
					      0x0f, 0x05, 0x41, 0x5b, 0x59, 0xc3 };

	ck_assert_mem_eq(hp + 18 * 32, console_io, sizeof(console_io));
	ck_assert_uint_eq(hp[23 * 32 + 3], 0x50); /* iret pushes %rax as well */
	ck_assert_uint_eq(hp[23 * 32 + 5], 23);
	fixture_free(vm);
}
END_TEST

/* The seccomp transport's page: each entry jumps to the stub with the
 * address after the jump in %rcx, as `syscall` would leave it there. */
START_TEST(hypercall_page_direct)
{
	static uint8_t page[4096];
	const uint64_t entry = 0x7f8000000000ull;
	static const uint8_t console_io[] = {
		0x51, 0x41, 0x53, 0xb8, 18, 0, 0, 0,        /* push %rcx; push %r11; mov $18,%eax */
		0x48, 0x8d, 0x0d, 13, 0, 0, 0,              /* lea 1f(%rip),%rcx */
		0x49, 0xbb, 0, 0, 0, 0, 0x80, 0x7f, 0, 0,   /* movabs $entry,%r11 */
		0x41, 0xff, 0xe3,                           /* jmp *%r11 */
		0x41, 0x5b, 0x59, 0xc3 };                   /* 1: pop %r11; pop %rcx; ret */
	static const uint8_t iret[] = { 0x51, 0x41, 0x53, 0x50, 0xb8, 23, 0, 0, 0 };

	_Static_assert(sizeof(console_io) == 32, "a whole slot");
	loader_fill_hypercall_page(page, entry);
	ck_assert_mem_eq(page + 18 * 32, console_io, sizeof(console_io));
	ck_assert_mem_eq(page + 23 * 32, iret, sizeof(iret));
	ck_assert_uint_eq(page[23 * 32 + 9 + 3], 13); /* %rcx still points past the jump */
	ck_assert_uint_eq(page[23 * 32 + 29], 0xcc);  /* iret has no epilogue */
	loader_fill_hypercall_page(page, 0);
	ck_assert_uint_eq(page[18 * 32 + 8], 0x0f); /* the syscall again */
	ck_assert_uint_eq(page[18 * 32 + 9], 0x05);
}
END_TEST

START_TEST(builder_refuses_small_memory)
{
	size_t len;
	uint8_t *buf = fixture_read(FIXTURE_GUEST, &len);
	uint8_t *mem = calloc(256 + 1, 4096);
	struct loader_layout lay;

	ck_assert_int_eq(parse_buf(buf, len), 0);
	ck_assert_int_eq(loader_build(&img, mem, 256, "", &lay, why), -ENOMEM);
	ck_assert_ptr_nonnull(strstr(why, "needs at least"));
	free(mem);
	free(buf);
}
END_TEST

START_TEST(builder_refuses_long_cmdline)
{
	size_t len;
	uint8_t *buf = fixture_read(FIXTURE_GUEST, &len);
	uint8_t *mem = calloc(FIXTURE_PAGES + 1, 4096);
	char cmdline[1025];
	struct loader_layout lay;

	memset(cmdline, 'x', 1024);
	cmdline[1024] = '\0';
	ck_assert_int_eq(parse_buf(buf, len), 0);
	ck_assert_int_eq(loader_build(&img, mem, FIXTURE_PAGES, cmdline, &lay, why), -E2BIG);
	cmdline[1023] = '\0';
	ck_assert_int_eq(loader_build(&img, mem, FIXTURE_PAGES, cmdline, &lay, why), 0);
	free(mem);
	free(buf);
}
END_TEST

/* The module goes right after the image, before the P2M list, and
 * start_info gives its virtual address and whole pages, as libxenguest. */
START_TEST(builder_module_after_the_image)
{
	size_t len;
	uint8_t *buf = fixture_read(FIXTURE_GUEST, &len);
	uint8_t *mem = calloc(FIXTURE_PAGES + 1, 4096);
	static char mod[4097] = "initrd bytes"; /* one byte into a second page */
	struct loader_layout lay, plain;
	struct start_info *si;

	ck_assert_int_eq(parse_buf(buf, len), 0);
	ck_assert_int_eq(loader_build(&img, mem, FIXTURE_PAGES, "", &plain, why), 0);
	memset(mem, 0, (FIXTURE_PAGES + 1) * 4096ull);
	ck_assert_int_eq(loader_build_mod(&img, mem, FIXTURE_PAGES, "", mod, sizeof(mod), &lay, why), 0);
	ck_assert_uint_eq(lay.mod_va, img.virt_kend);
	ck_assert_uint_eq(lay.mod_len, 8192);
	ck_assert_uint_eq(lay.p2m_va, plain.p2m_va + 8192);
	si = (struct start_info *)(mem + lay.start_info_pfn * 4096);
	ck_assert_uint_eq(si->mod_start, img.virt_kend);
	ck_assert_uint_eq(si->mod_len, 8192);
	ck_assert_uint_eq(si->flags & SIF_MOD_START_PFN, 0);
	ck_assert_str_eq((char *)mem + (lay.mod_va - lay.v_start), mod);
	ck_assert_uint_eq(plain.mod_va | plain.mod_len, 0);
	free(mem);
	free(buf);
}
END_TEST

START_TEST(symbols_name_addresses)
{
	size_t len;
	uint8_t *buf = fixture_read(FIXTURE_GUEST, &len);
	struct loader_symtab t;
	char s[96];

	ck_assert_int_eq(loader_symbols(buf, len, &t), 0);
	ck_assert_uint_gt(t.n, 10);
	ck_assert_str_eq(loader_symbolise(&t, 0x400000, s, sizeof(s)), "_start+0"); /* the entry */
	for (size_t i = 0; i < t.n; i++)
		if (!strcmp(t.sym[i].name, "guest_main")) {
			ck_assert_str_eq(loader_symbolise(&t, t.sym[i].addr + 5, s, sizeof(s)),
					 "guest_main+0x5");
		}
	ck_assert_str_eq(loader_symbolise(&t, 0x10, s, sizeof(s)), "0x10");
	loader_symbols_free(&t);
	free(buf);
}
END_TEST

Suite *loader_suite(void);

Suite *loader_suite(void)
{
	Suite *s = suite_create("loader");
	TCase *tc = tcase_create("parse");

	tcase_add_test(tc, good_image_parses);
	tcase_add_loop_test(tc, malformed_image_refused, 0, (int)bad_elves_count);
	tcase_add_test(tc, features_note_parsed);
	tcase_add_test(tc, no_virt_base_means_zero);
	tcase_add_test(tc, linked_at_zero);
	tcase_add_test(tc, notes_from_sections);
	tcase_add_test(tc, legacy_xen_guest_section);
	tcase_add_test(tc, symbols_name_addresses);
	suite_add_tcase(s, tc);
	tc = tcase_create("build");
	tcase_add_test(tc, builder_start_info);
	tcase_add_test(tc, builder_page_tables);
	tcase_add_test(tc, builder_p2m_pages);
	tcase_add_test(tc, builder_hypercall_page);
	tcase_add_test(tc, hypercall_page_direct);
	tcase_add_test(tc, builder_refuses_small_memory);
	tcase_add_test(tc, builder_refuses_long_cmdline);
	tcase_add_test(tc, builder_module_after_the_image);
	suite_add_tcase(s, tc);
	return s;
}
