/* pt-basic: build page tables with hypercalls and watch memory appear and
 * vanish: a new L1/L2 hooked into the bootstrap L3, update_va_mapping,
 * a batched mmu_update, a switch to a new L4 and back, and tables torn down
 * and reused as data. Run under --check-invariants, pvmm compares the host
 * mappings with the tables after every step. */
#include "rt.h"

#define WIN 0x40000000ul          /* L4 0, L3 1: the new L2's gigabyte */
#define FAR 0x8000000000ul        /* L4 1: only in the second address space */

static volatile uint64_t *at(uint64_t va) { return (volatile uint64_t *)va; }

int guest_main(struct start_info *si)
{
	uint64_t *data = rt_alloc_page(), *data2 = rt_alloc_page(), *data3 = rt_alloc_page();
	uint64_t *l1 = rt_alloc_page(), *l2 = rt_alloc_page();
	uint64_t l3 = rt_l4_entry(0);
	struct mmu_update batch[8];
	unsigned done = 0;

	(void)si;
	/* 1. a new L1 and L2, hooked at L3 entry 1 */
	data[0] = 0x1234, data2[0] = 0x5678;
	l1[0] = pte(virt_to_mfn(data), PTE_DATA);
	l1[1] = pte(virt_to_mfn(data2), PTE_RO);
	l2[0] = pte(virt_to_mfn(l1), PTE_TABLE);
	expect_eq(rt_set_readonly(l1), 0);
	expect_eq(rt_set_readonly(l2), 0);
	expect_eq(rt_pin(1, virt_to_mfn(l1)), 0);
	expect_eq(rt_pin(2, virt_to_mfn(l2)), 0);
	expect_eq(rt_probe_read(WIN), -XEN_EFAULT);
	batch[0] = (struct mmu_update){ pte(l3, 0) + 1 * 8, pte(virt_to_mfn(l2), PTE_TABLE) };
	expect_eq(HYPERVISOR_mmu_update(batch, 1, &done, DOMID_SELF), 0);
	expect_eq(done, 1);
	expect_eq(*at(WIN), 0x1234);             /* the memory appeared */
	*at(WIN + 8) = 99;
	expect_eq(data[1], 99);                  /* and it is the same frame */
	expect_eq(*at(WIN + 4096), 0x5678);      /* read-only mapping reads */
	printf("pt-basic: new L1/L2 hooked, memory appeared at %#lx\n", WIN);

	/* 2. update_va_mapping maps and unmaps one page */
	data3[0] = 0xabcd;
	expect_eq(HYPERVISOR_update_va_mapping(WIN + 2 * 4096, pte(virt_to_mfn(data3), PTE_DATA),
					       UVMF_INVLPG), 0);
	expect_eq(*at(WIN + 2 * 4096), 0xabcd);
	expect_eq(HYPERVISOR_update_va_mapping(WIN + 2 * 4096, 0, UVMF_INVLPG | UVMF_ALL), 0);
	expect_eq(rt_probe_read(WIN + 2 * 4096), -XEN_EFAULT);
	printf("pt-basic: update_va_mapping mapped and unmapped a page\n");

	/* 3. a batch of eight entries in one mmu_update */
	for (unsigned i = 0; i < 8; i++)
		batch[i] = (struct mmu_update){ pte(virt_to_mfn(l1), 0) + (8 + i) * 8,
						pte(virt_to_mfn(data) , PTE_RO) };
	expect_eq(HYPERVISOR_mmu_update(batch, 8, &done, DOMID_SELF), 0);
	expect_eq(done, 8);
	for (unsigned i = 0; i < 8; i++)
		expect_eq(*at(WIN + (8 + i) * 4096), 0x1234);
	printf("pt-basic: a batch of 8 updates, all mapped\n");

	/* 4. a second address space: the bootstrap's slots plus L4 slot 1 */
	uint64_t *l4b = rt_alloc_page(), *l3b = rt_alloc_page();
	const uint64_t *l4 = (const uint64_t *)rt_si->pt_base;
	for (unsigned i = 0; i < 255; i++)
		l4b[i] = l4[i];
	l3b[0] = pte(virt_to_mfn(l2), PTE_TABLE);  /* the same L2, hooked twice */
	l4b[1] = pte(virt_to_mfn(l3b), PTE_TABLE);
	expect_eq(rt_set_readonly(l3b), 0);
	expect_eq(rt_set_readonly(l4b), 0);
	expect_eq(rt_pin(3, virt_to_mfn(l3b)), 0);
	expect_eq(rt_pin(4, virt_to_mfn(l4b)), 0);
	expect_eq(rt_new_baseptr(virt_to_mfn(l4b)), 0);
	expect_eq(*at(FAR), 0x1234);
	expect_eq(*at(WIN), 0x1234);
	expect_eq(rt_new_baseptr(rt_l4_mfn()), 0);
	expect_eq(rt_probe_read(FAR), -XEN_EFAULT);
	expect_eq(*at(WIN), 0x1234);
	printf("pt-basic: switched to a new L4 and back\n");

	/* 5. tear down and reuse the tables as data */
	expect_eq(rt_unpin(virt_to_mfn(l4b)), 0);
	expect_eq(rt_unpin(virt_to_mfn(l3b)), 0);
	expect_eq(rt_set_writable(l4b), 0);
	expect_eq(rt_set_writable(l3b), 0);
	expect_eq(rt_mmu_update1(pte(l3, 0) + 1 * 8, 0), 0);
	expect_eq(rt_probe_read(WIN), -XEN_EFAULT);
	expect_eq(rt_set_writable(l1), -XEN_EINVAL); /* still pinned: still a table */
	expect_eq(rt_unpin(virt_to_mfn(l2)), 0);
	expect_eq(rt_unpin(virt_to_mfn(l1)), 0);
	expect_eq(rt_set_writable(l1), 0);
	expect_eq(rt_set_writable(l2), 0);
	l1[0] = 42, l2[0] = 43, l4b[0] = 44;
	expect_eq(l1[0] + l2[0] + l4b[0], 129);
	printf("pt-basic: tables unpinned and reused as data\n");
	return 0;
}
