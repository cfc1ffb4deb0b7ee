/* pt-attacks: everything Xen refuses, one by one, each with its exact error
 * and the guest still intact afterwards. */
#include "rt.h"

#define SCRATCH 0x40000000ul /* L4 0, L3 1: a hooked L1 of our own */
#define SELF_SLOT 10ul       /* L4 slot for the linear self-map */

static uint64_t *l1, *l2, *data;
static uint64_t l3;

static long map_scratch(unsigned idx, uint64_t val)
{
	return HYPERVISOR_update_va_mapping(SCRATCH + idx * 4096ul, val, UVMF_INVLPG);
}

static void setup(void)
{
	l1 = rt_alloc_page(), l2 = rt_alloc_page(), data = rt_alloc_page();
	l3 = rt_l4_entry(0);
	data[0] = 0x600d;
	l1[0] = pte(virt_to_mfn(data), PTE_DATA);
	l2[0] = pte(virt_to_mfn(l1), PTE_TABLE);
	expect_eq(rt_set_readonly(l1), 0);
	expect_eq(rt_set_readonly(l2), 0);
	expect_eq(rt_pin(2, virt_to_mfn(l2)), 0);
	expect_eq(rt_mmu_update1(pte(l3, 0) + 8, pte(virt_to_mfn(l2), PTE_TABLE)), 0);
	expect_eq(*(volatile uint64_t *)SCRATCH, 0x600d);
}

static void refused(const char *what, long got, long want)
{
	expect_eq(got, want);
	expect_eq(*(volatile uint64_t *)SCRATCH, 0x600d); /* still intact */
	printf("refused: %s (%ld)\n", what, got);
}

static void writable_mappings_of_tables(void)
{
	uint64_t l4 = rt_l4_mfn();

	refused("writable mapping of a pinned L2", map_scratch(1, pte(virt_to_mfn(l2), PTE_DATA)),
		-XEN_EINVAL);
	refused("writable mapping of a hooked L1", map_scratch(1, pte(virt_to_mfn(l1), PTE_DATA)),
		-XEN_EINVAL);
	refused("writable mapping of the L4 in use", map_scratch(1, pte(l4, PTE_DATA)), -XEN_EINVAL);
	expect_eq(map_scratch(1, pte(l4, PTE_RO)), 0); /* read-only is fine */
	expect_eq(*(volatile uint64_t *)(SCRATCH + 4096), ((uint64_t *)rt_si->pt_base)[0]);
	refused("PRESERVE_AD smuggling RW onto a table mapping",
		rt_mmu_update1(pte(virt_to_mfn(l1), 0) + 1 * 8 + MMU_PT_UPDATE_PRESERVE_AD,
			       pte(virt_to_mfn(l2), PTE_DATA)), -XEN_EINVAL);
}

static void linear_maps(void)
{
	uint64_t l4 = rt_l4_mfn(), ptr = pte(l4, 0) + SELF_SLOT * 8;
	uint64_t self_va = SELF_SLOT << 39 | SELF_SLOT << 30 | SELF_SLOT << 21 | SELF_SLOT << 12;

	refused("writable linear L4 self-map (XSA-182)", rt_mmu_update1(ptr, pte(l4, PTE_TABLE)),
		-XEN_EINVAL);
	expect_eq(rt_mmu_update1(ptr, pte(l4, PTE_RO)), 0);
	/* the self-map shows the L4 itself, read-only */
	expect_eq(*(volatile uint64_t *)self_va, ((uint64_t *)rt_si->pt_base)[0]);
	expect_eq(*(volatile uint64_t *)(self_va + SELF_SLOT * 8), pte(l4, PTE_RO));
	refused("RW bit flipped alone on the read-only self-map",
		rt_mmu_update1(ptr, pte(l4, PTE_RO | PTE_RW)), -XEN_EINVAL);
	refused("RW flipped through PRESERVE_AD", rt_mmu_update1(ptr + MMU_PT_UPDATE_PRESERVE_AD,
								 pte(l4, PTE_RO | PTE_RW)), -XEN_EINVAL);
	expect_eq(rt_mmu_update1(ptr, 0), 0);
	expect_eq(rt_probe_read(self_va), -XEN_EFAULT);

	/* a linear L2 entry to another L2, read-only, one level deep */
	uint64_t bl2 = (((uint64_t *)(VIRT_BASE + l3 * 4096))[0] & PTE_ADDR_MASK) >> 12;
	uint64_t l2ptr = pte(virt_to_mfn(l2), 0) + 5 * 8, window = SCRATCH + 5 * (2ul << 20);
	refused("writable linear L2 entry", rt_mmu_update1(l2ptr, pte(bl2, PTE_TABLE)), -XEN_EINVAL);
	expect_eq(rt_mmu_update1(l2ptr, pte(bl2, PTE_RO)), 0);
	/* the window shows the bootstrap's first L1 (entry 2 of its L2): frame 0 first */
	uint64_t first = *(volatile uint64_t *)(window + 2 * 4096);
	expect_eq(first & PTE_ADDR_MASK, 0);
	guest_assert(first & PTE_P);
	refused("a linear entry two levels deep",
		rt_mmu_update1(pte(bl2, 0) + 100 * 8, pte(virt_to_mfn(l2), PTE_RO)), -XEN_EINVAL);
	expect_eq(rt_mmu_update1(l2ptr, 0), 0);
	expect_eq(rt_probe_read(window + 2 * 4096), -XEN_EFAULT);
}

static void wrong_levels(void)
{
	refused("L2 entry pointing at a data frame",
		rt_mmu_update1(pte(virt_to_mfn(l2), 0) + 2 * 8, pte(virt_to_mfn(data), PTE_TABLE)),
		-XEN_EINVAL);
	refused("L2 entry pointing at an L3",
		rt_mmu_update1(pte(virt_to_mfn(l2), 0) + 2 * 8, pte(l3, PTE_TABLE)), -XEN_EINVAL);
	refused("L3 entry pointing at an L1",
		rt_mmu_update1(pte(l3, 0) + 2 * 8, pte(virt_to_mfn(l1), PTE_TABLE)), -XEN_EINVAL);
	refused("L4 entry pointing at an L2",
		rt_mmu_update1(pte(rt_l4_mfn(), 0) + 2 * 8, pte(virt_to_mfn(l2), PTE_TABLE)),
		-XEN_EINVAL);
}

static void bad_frames_and_slots(void)
{
	uint64_t l4ptr = pte(rt_l4_mfn(), 0);

	refused("a frame beyond guest memory", map_scratch(1, pte(rt_si->nr_pages + 4096, PTE_DATA)),
		-XEN_EINVAL);
	refused("a frame far beyond guest memory", map_scratch(1, pte(0xffffffffful, PTE_RO)),
		-XEN_EINVAL);
	refused("the pvmm hole (L4 slot 255)", rt_mmu_update1(l4ptr + 255 * 8, pte(l3, PTE_TABLE)),
		-XEN_EINVAL);
	refused("an upper-half L4 slot", rt_mmu_update1(l4ptr + 300 * 8, pte(l3, PTE_TABLE)),
		-XEN_EINVAL);
	refused("a superpage (PSE in an L2)",
		rt_mmu_update1(pte(virt_to_mfn(l2), 0) + 3 * 8, pte(0, PTE_TABLE | PTE_PSE)),
		-XEN_EINVAL);
	refused("cache-disabled mapping (PCD)", map_scratch(1, pte(virt_to_mfn(data), PTE_DATA | PTE_PCD)),
		-XEN_EINVAL);
	refused("reserved high bits", map_scratch(1, pte(virt_to_mfn(data), PTE_DATA) | (1ul << 55)),
		-XEN_EINVAL);
	refused("a global L3 entry", rt_mmu_update1(pte(l3, 0) + 2 * 8,
						  pte(virt_to_mfn(l2), PTE_TABLE | PTE_G)), -XEN_EINVAL);
	refused("update_va_mapping with no L1", HYPERVISOR_update_va_mapping(0x100000000000ul,
									     pte(virt_to_mfn(data), PTE_RO), 0), -XEN_EINVAL);
	refused("update_va_mapping in the hole", HYPERVISOR_update_va_mapping(0x7f8000000000ul, 0, 0),
		-XEN_EINVAL);
}

static void types_and_pins(void)
{
	uint64_t *page = rt_alloc_page();

	refused("pinning a frame still mapped writable", rt_pin(1, virt_to_mfn(page)), -XEN_EINVAL);
	refused("pinning a pinned table again", rt_pin(2, virt_to_mfn(l2)), -XEN_EINVAL);
	refused("pinning a table as another level", rt_pin(3, virt_to_mfn(l2)), -XEN_EINVAL);
	refused("unpinning an unpinned frame", rt_unpin(virt_to_mfn(page)), -XEN_EINVAL);
	refused("new base pointer that is an L2", rt_new_baseptr(virt_to_mfn(l2)), -XEN_EINVAL);
	/* unpinning a table in use succeeds (the hook keeps it a table) ... */
	expect_eq(rt_unpin(virt_to_mfn(l2)), 0);
	/* ... and it still cannot be mapped writable */
	refused("writable mapping of an unpinned table still hooked",
		map_scratch(1, pte(virt_to_mfn(l2), PTE_DATA)), -XEN_EINVAL);
	expect_eq(rt_pin(2, virt_to_mfn(l2)), 0);
}

static void batches_and_domains(void)
{
	struct mmu_update reqs[3] = {
		{ pte(virt_to_mfn(l1), 0) + 2 * 8, pte(virt_to_mfn(data), PTE_RO) },
		{ pte(virt_to_mfn(l1), 0) + 3 * 8, pte(virt_to_mfn(l2), PTE_DATA) }, /* bad */
		{ pte(virt_to_mfn(l1), 0) + 4 * 8, pte(virt_to_mfn(data), PTE_RO) },
	};
	unsigned done = 99;

	refused("a batch stops at its first bad request",
		HYPERVISOR_mmu_update(reqs, 3, &done, DOMID_SELF), -XEN_EINVAL);
	expect_eq(done, 1);
	expect_eq(*(volatile uint64_t *)(SCRATCH + 2 * 4096), 0x600d); /* the first one landed */
	expect_eq(rt_probe_read(SCRATCH + 4 * 4096), -XEN_EFAULT);     /* the third did not */
	refused("another domain's tables", HYPERVISOR_mmu_update(reqs, 1, &done, 1), -XEN_ESRCH);
	refused("a request array in the hole",
		HYPERVISOR_mmu_update((void *)0x7f8000000000ul, 1, &done, DOMID_SELF), -XEN_EFAULT);
	refused("an unknown mmuext command",
		HYPERVISOR_mmuext_op(&(struct mmuext_op){ .cmd = 99 }, 1, NULL, DOMID_SELF),
		-XEN_ENOSYS);
}

int guest_main(struct start_info *si)
{
	(void)si;
	setup();
	writable_mappings_of_tables();
	linear_maps();
	wrong_levels();
	bad_frames_and_slots();
	types_and_pins();
	batches_and_domains();
	printf("pt-attacks: every attack refused, guest intact\n");
	return 0;
}
