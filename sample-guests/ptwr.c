/* ptwr: writable page tables. Stores straight into L1 tables through their
 * read-only mappings: whole-table fills, changes and clears, sparse single
 * writes, writes to the L1 that maps this guest's own code and stack, and
 * writes to an L1 not hooked anywhere; after each phase the memory must be
 * mapped exactly as written. The output is the same in every --ptwr mode. */
#include "rt.h"

#define WIN 0x40000000ul         /* L4 0, L3 1, L2 0: our L1's 2 MiB */
#define WIN2 (WIN + (2ul << 20)) /* L2 1: the second L1 once hooked */
#define NDATA 8

static volatile uint64_t *data[NDATA];
static volatile uint64_t *l1, *l1b;

static uint64_t word(uint64_t va) { return *(volatile uint64_t *)va; }
static uint64_t page(unsigned i) { return WIN + i * 4096ul; }

/* Whether the guest's tables let pvmm write at (va): RW mapped. */
static long probe_write(uint64_t va)
{
	return HYPERVISOR_xen_version(XENVER_get_features, (void *)va);
}

static void setup(void)
{
	uint64_t *l2 = rt_alloc_page();

	for (unsigned k = 0; k < NDATA; k++) {
		data[k] = rt_alloc_page();
		data[k][0] = 0xda7a0000 + k;
	}
	l1 = rt_alloc_page();
	l1b = rt_alloc_page();
	l2[0] = pte(virt_to_mfn(l1), PTE_TABLE);
	expect_eq(rt_set_readonly(l1), 0);
	expect_eq(rt_set_readonly(l1b), 0);
	expect_eq(rt_set_readonly(l2), 0);
	expect_eq(rt_pin(2, virt_to_mfn(l2)), 0);
	expect_eq(rt_pin(1, virt_to_mfn(l1b)), 0);
	expect_eq(rt_mmu_update1(pte(rt_l4_entry(0), 0) + 1 * 8, pte(virt_to_mfn(l2), PTE_TABLE)), 0);
	expect_eq(HYPERVISOR_vm_assist(VMASST_CMD_enable, VMASST_TYPE_writable_pagetables), 0);
}

static void fill_change_clear(void)
{
	for (unsigned i = 0; i < 512; i++)
		l1[i] = pte(virt_to_mfn(data[i % NDATA]), PTE_DATA);
	for (unsigned i = 0; i < 512; i++)
		expect_eq(word(page(i)), 0xda7a0000 + i % NDATA);
	printf("ptwr: filled a whole L1 by direct stores\n");

	for (unsigned i = 0; i < 512; i += 2)
		l1[i] = pte(virt_to_mfn(data[(i + 1) % NDATA]), PTE_RO);
	for (unsigned i = 0; i < 512; i++)
		expect_eq(word(page(i)), 0xda7a0000 + (i + (i % 2 == 0)) % NDATA);
	expect_eq(probe_write(page(10)), -XEN_EFAULT);   /* now read-only */
	expect_eq(probe_write(page(11)), 0);              /* still writable */
	*(volatile uint64_t *)(page(13) + 8) = 77;        /* a native store through it */
	expect_eq(data[13 % NDATA][1], 77);
	printf("ptwr: changed every other entry to read-only\n");

	for (unsigned i = 0; i < 512; i++)
		l1[i] = 0;
	for (unsigned i = 0; i < 512; i += 37)
		expect_eq(rt_probe_read(page(i)), -XEN_EFAULT);
	printf("ptwr: cleared the L1\n");
}

static void sparse(void)
{
	l1[7] = pte(virt_to_mfn(data[3]), PTE_DATA);
	expect_eq(word(page(7)), 0xda7a0003);
	l1[300] = pte(virt_to_mfn(data[4]), PTE_RO);
	expect_eq(word(page(300)), 0xda7a0004);
	expect_eq(word(page(7)), 0xda7a0003);
	/* a 32-bit half-store and a locked read-modify-write */
	((volatile uint32_t *)l1)[2 * 7] = (uint32_t)pte(virt_to_mfn(data[5]), PTE_DATA);
	expect_eq(word(page(7)), 0xda7a0005);
	__atomic_and_fetch(&l1[300], ~PTE_P, __ATOMIC_SEQ_CST);
	expect_eq(rt_probe_read(page(300)), -XEN_EFAULT);
	uint64_t expected = 0, desired = pte(virt_to_mfn(data[6]), PTE_RO);
	guest_assert(__atomic_compare_exchange_n(&l1[9], &expected, desired, 0,
						 __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST));
	expect_eq(word(page(9)), 0xda7a0006);
	printf("ptwr: sparse single writes, a half-entry store and locked updates\n");
}

/* The bootstrap's first L1 maps this guest's code and stack. */
static void own_code_and_stack(void)
{
	volatile uint64_t *boot_l1 = (volatile uint64_t *)(rt_si->pt_base + 3 * 4096);
	uint64_t va = VIRT_BASE + 511 * 4096ul, saved = boot_l1[511];

	boot_l1[511] = pte(virt_to_mfn(data[2]), PTE_DATA);
	expect_eq(word(va), 0xda7a0002);
	boot_l1[511] = saved;
	expect_eq(word(va) == 0xda7a0002, 0);
	printf("ptwr: wrote the L1 that maps its own code and stack\n");
}

static void inactive(void)
{
	for (unsigned i = 0; i < 16; i++)
		l1b[i] = pte(virt_to_mfn(data[i % NDATA]), PTE_DATA);
	l1b[20] = pte(virt_to_mfn(data[7]), PTE_RO);
	uint64_t l2 = (((const uint64_t *)(VIRT_BASE + rt_l4_entry(0) * 4096))[1] & PTE_ADDR_MASK) >> 12;
	expect_eq(rt_mmu_update1(pte(l2, 0) + 1 * 8, pte(virt_to_mfn(l1b), PTE_TABLE)), 0);
	for (unsigned i = 0; i < 16; i++)
		expect_eq(word(WIN2 + i * 4096ul), 0xda7a0000 + i % NDATA);
	expect_eq(word(WIN2 + 20 * 4096ul), 0xda7a0007);
	expect_eq(rt_probe_read(WIN2 + 16 * 4096ul), -XEN_EFAULT);
	printf("ptwr: wrote an L1 hooked nowhere, then hooked it\n");
}

int guest_main(struct start_info *si)
{
	(void)si;
	setup();
	fill_change_clear();
	sparse();
	own_code_and_stack();
	inactive();
	return 0;
}
