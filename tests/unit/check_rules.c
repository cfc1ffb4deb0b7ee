/* check_rules.c - every validation rule, accepted and refused, table-driven.
 * Each case writes one entry of one bootstrap table through mmu_mod_entry,
 * checks the result, checks that the frame table's counts still match the
 * tables, then restores the entry and checks the counts again. */
#include <check.h>
#include <string.h>

#include "fixture.h"
#include "mmu/mmu.h"

enum target { FREE, DATA, T_L1, T_L2, T_L3, T_L4, SELF, BEYOND, SHARED_INFO };

struct rule {
	const char *name;
	unsigned level;   /* which bootstrap table is written: 1..4 */
	unsigned idx;
	enum target target;
	uint64_t flags;
	int want;         /* 0 or -XEN_E* */
};

#define T (PTE_P | PTE_RW | PTE_US | PTE_A)
#define R (PTE_P | PTE_US | PTE_A)
#define E(x) (-XEN_##x)

static const struct rule rules[] = {
	/* L1 entries */
	{ "L1 rw free frame", 1, 300, FREE, T, 0 },
	{ "L1 ro free frame", 1, 300, FREE, R, 0 },
	{ "L1 rw data frame mapped rw elsewhere", 1, 300, DATA, T, 0 },
	{ "L1 rw page table", 1, 300, T_L2, T, E(EINVAL) },
	{ "L1 ro page table", 1, 300, T_L2, R, 0 },
	{ "L1 rw its own frame", 1, 300, SELF, T, E(EINVAL) },
	{ "L1 ro its own frame", 1, 300, SELF, R, 0 },
	{ "L1 frame beyond memory", 1, 300, BEYOND, R, E(EINVAL) },
	{ "L1 rw shared_info", 1, 300, SHARED_INFO, T, 0 },
	{ "L1 PCD", 1, 300, FREE, R | PTE_PCD, E(EINVAL) },
	{ "L1 PWT", 1, 300, FREE, R | PTE_PWT, E(EINVAL) },
	{ "L1 PAT", 1, 300, FREE, R | PTE_PSE, E(EINVAL) },
	{ "L1 bit 52", 1, 300, FREE, R | (1ull << 52), E(EINVAL) },
	{ "L1 bit 62", 1, 300, FREE, R | (1ull << 62), E(EINVAL) },
	{ "L1 global", 1, 300, FREE, R | PTE_G, 0 },
	{ "L1 NX", 1, 300, FREE, T | PTE_NX, 0 },
	{ "L1 available bits", 1, 300, FREE, T | PTE_AVAIL_MASK, 0 },
	{ "L1 not present ignores the rest", 1, 300, BEYOND, PTE_RW | PTE_PCD | (1ull << 60), 0 },
	/* L2 entries */
	{ "L2 free frame becomes an L1", 2, 100, FREE, T, 0 },
	{ "L2 data frame", 2, 100, DATA, T, E(EINVAL) },
	{ "L2 an L1 hooked twice", 2, 100, T_L1, T, 0 },
	{ "L2 an L3", 2, 100, T_L3, T, E(EINVAL) },
	{ "L2 an L4", 2, 100, T_L4, R, E(EINVAL) },
	{ "L2 linear ro to itself", 2, 100, SELF, R, 0 },
	{ "L2 linear rw to itself", 2, 100, SELF, T, E(EINVAL) },
	{ "L2 superpage", 2, 100, FREE, T | PTE_PSE, E(EINVAL) },
	{ "L2 global", 2, 100, FREE, T | PTE_G, E(EINVAL) },
	{ "L2 PCD", 2, 100, FREE, T | PTE_PCD, E(EINVAL) },
	{ "L2 frame beyond memory", 2, 100, BEYOND, T, E(EINVAL) },
	{ "L2 NX", 2, 100, FREE, T | PTE_NX, 0 },
	/* L3 entries */
	{ "L3 free frame becomes an L2", 3, 7, FREE, T, 0 },
	{ "L3 an L2 hooked twice", 3, 7, T_L2, T, 0 },
	{ "L3 an L1", 3, 7, T_L1, T, E(EINVAL) },
	{ "L3 an L4", 3, 7, T_L4, R, E(EINVAL) },
	{ "L3 data frame", 3, 7, DATA, T, E(EINVAL) },
	{ "L3 linear ro to itself", 3, 7, SELF, R, 0 },
	{ "L3 linear rw to itself", 3, 7, SELF, T, E(EINVAL) },
	{ "L3 1 GiB page", 3, 7, FREE, T | PTE_PSE, E(EINVAL) },
	{ "L3 global", 3, 7, FREE, T | PTE_G, E(EINVAL) },
	/* L4 entries */
	{ "L4 the L3 in a second slot", 4, 1, T_L3, T, 0 },
	{ "L4 free frame becomes an L3", 4, 1, FREE, T, 0 },
	{ "L4 an L2", 4, 1, T_L2, T, E(EINVAL) },
	{ "L4 an L1", 4, 1, T_L1, T, E(EINVAL) },
	{ "L4 data frame", 4, 1, DATA, T, E(EINVAL) },
	{ "L4 linear ro self-map", 4, 1, SELF, R, 0 },
	{ "L4 linear rw self-map (XSA-182)", 4, 1, SELF, T, E(EINVAL) },
	{ "L4 last guest slot 254", 4, 254, T_L3, T, 0 },
	{ "L4 the pvmm hole, slot 255", 4, 255, T_L3, T, E(EINVAL) },
	{ "L4 upper half, slot 256", 4, 256, T_L3, T, E(EINVAL) },
	{ "L4 upper half, slot 511", 4, 511, FREE, T, E(EINVAL) },
	{ "L4 hole slot may stay empty", 4, 255, FREE, 0, 0 },
	{ "L4 global", 4, 1, T_L3, T | PTE_G, E(EINVAL) },
	{ "L4 PSE", 4, 1, T_L3, T | PTE_PSE, E(EINVAL) },
	{ "L4 frame beyond memory", 4, 1, BEYOND, T, E(EINVAL) },
};

static uint64_t frame_of(const struct vm *vm, enum target t, uint64_t table)
{
	const struct loader_layout *l = &vm->lay;

	switch (t) {
	case FREE: return l->first_free_pfn + 10;
	case DATA: return l->first_free_pfn - 1; /* last slack page, mapped rw */
	case T_L1: return l->pt_first_pfn + 3;
	case T_L2: return l->pt_first_pfn + 2;
	case T_L3: return l->pt_first_pfn + 1;
	case T_L4: return l->pt_first_pfn;
	case SELF: return table;
	case BEYOND: return vm->nr_frames;
	case SHARED_INFO: return vm->nr_pages;
	}
	return 0;
}

static void assert_counts(const struct vm *vm, const char *when)
{
	char why[400];

	ck_assert_msg(mmu_check_counts(vm, why, sizeof(why)) == 0, "%s: %s", when, why);
}

START_TEST(rule)
{
	const struct rule *r = &rules[_i];
	struct vm *vm = fixture_vm();
	uint64_t table = vm->lay.pt_first_pfn + (4 - r->level); /* L4, L3, L2, first L1 */
	uint64_t *tab = (uint64_t *)(vm->mem + table * 4096);
	uint64_t old = tab[r->idx];
	uint64_t val = (frame_of(vm, r->target, table) << 12) | r->flags;
	int rc = mmu_mod_entry(vm, _mfn(table), r->idx, val, 0);

	ck_assert_msg(rc == r->want, "%s: got %d, want %d", r->name, rc, r->want);
	ck_assert_uint_eq(tab[r->idx], rc ? old : val); /* refused: nothing written */
	assert_counts(vm, r->name);
	ck_assert_int_eq(mmu_mod_entry(vm, _mfn(table), r->idx, old, 0), 0);
	assert_counts(vm, "after restoring");
	fixture_free(vm);
}
END_TEST

Suite *rules_suite(void);

Suite *rules_suite(void)
{
	Suite *s = suite_create("validation-rules");
	TCase *tc = tcase_create("rules");

	tcase_add_loop_test(tc, rule, 0, (int)(sizeof(rules) / sizeof(*rules)));
	suite_add_tcase(s, tc);
	return s;
}
