/* ptwr-bad: among valid direct stores into an L1, one writes an entry Xen
 * refuses (a writable mapping of the L1 itself). pvmm must refuse it at the
 * store (emulation) or at the resync (out of sync) and crash the domain with
 * the L1 frame, the index, the value and the rule. */
#include "rt.h"

#define WIN 0x40000000ul

int guest_main(struct start_info *si)
{
	uint64_t *l2 = rt_alloc_page(), *data = rt_alloc_page();
	volatile uint64_t *l1 = rt_alloc_page();

	(void)si;
	l2[0] = pte(virt_to_mfn(l1), PTE_TABLE);
	expect_eq(rt_set_readonly(l1), 0);
	expect_eq(rt_set_readonly(l2), 0);
	expect_eq(rt_pin(2, virt_to_mfn(l2)), 0);
	expect_eq(rt_mmu_update1(pte(rt_l4_entry(0), 0) + 8, pte(virt_to_mfn(l2), PTE_TABLE)), 0);
	expect_eq(HYPERVISOR_vm_assist(VMASST_CMD_enable, VMASST_TYPE_writable_pagetables), 0);
	for (unsigned i = 0; i < 12; i++)
		l1[i] = pte(virt_to_mfn(data), PTE_DATA);
	l1[12] = pte(virt_to_mfn(l1), PTE_DATA); /* the bad one */
	for (unsigned i = 13; i < 20; i++)
		l1[i] = pte(virt_to_mfn(data), PTE_DATA);
	printf("ptwr-bad: touching the range\n");
	(void)*(volatile uint64_t *)WIN;
	printf("ptwr-bad: the bad entry was accepted\n");
	return 1;
}
