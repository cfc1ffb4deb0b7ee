/* user.c - a user address space for the sample guests that enter their own
 * user mode (traps, debugreg, bench). Linked only into those guests, so the
 * others' layouts do not move. */
#include "rt.h"

uint64_t rt_user_l4(const void *code_page, uint64_t data_va, void *data)
{
	uint64_t *l4 = rt_alloc_page(), *l3 = rt_alloc_page(), *l2 = rt_alloc_page();
	uint64_t *l1 = rt_alloc_page();
	uint64_t code = (uint64_t)code_page;
	uint64_t *tables[] = { l1, l2, l3, l4 };

	guest_assert((code >> 21) == (data_va >> 21)); /* one L1 covers both */
	l1[(code >> 12) & 511] = pte(virt_to_mfn(code_page), PTE_RO);
	l1[(data_va >> 12) & 511] = pte(virt_to_mfn(data), PTE_DATA);
	l2[(code >> 21) & 511] = pte(virt_to_mfn(l1), PTE_TABLE);
	l3[(code >> 30) & 511] = pte(virt_to_mfn(l2), PTE_TABLE);
	l4[(code >> 39) & 511] = pte(virt_to_mfn(l3), PTE_TABLE);
	for (unsigned i = 0; i < 4; i++)
		expect_eq(rt_set_readonly(tables[i]), 0);
	expect_eq(rt_pin(4, virt_to_mfn(l4)), 0);
	return virt_to_mfn(l4);
}

uint64_t rt_user_space(const void *code_page, void *ustack)
{
	struct mmuext_op op = { .cmd = MMUEXT_NEW_USER_BASEPTR,
				.arg1 = rt_user_l4(code_page, (uint64_t)ustack, ustack) };
	uint64_t top = (uint64_t)rt_alloc_page() + 4096; /* the kernel stack, after the tables */

	expect_eq(HYPERVISOR_mmuext_op(&op, 1, NULL, DOMID_SELF), 0);
	expect_eq(HYPERVISOR_stack_switch(FLAT_KERNEL_SS64, top), 0);
	return top;
}
