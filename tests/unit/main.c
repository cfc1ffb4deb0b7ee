/* main.c - runs every unit suite; exit status 0 only when all pass. */
#include <check.h>
#include <stdlib.h>

Suite *loader_suite(void);
Suite *mmu_suite(void);
Suite *hc_suite(void);
Suite *rules_suite(void);
Suite *types_suite(void);
Suite *emulate_suite(void);
Suite *ptwr_suite(void);
Suite *xs_suite(void);
Suite *traps_suite(void);
Suite *abi_suite(void);
Suite *xlcfg_suite(void);
Suite *memory_suite(void);
Suite *privop_suite(void);
Suite *grant_suite(void);
Suite *debugreg_suite(void);
Suite *xbdev_suite(void);
Suite *blk_suite(void);
Suite *netback_suite(void);

int main(void)
{
	SRunner *sr = srunner_create(loader_suite());
	int failed;

	srunner_add_suite(sr, mmu_suite());
	srunner_add_suite(sr, hc_suite());
	srunner_add_suite(sr, rules_suite());
	srunner_add_suite(sr, types_suite());
	srunner_add_suite(sr, emulate_suite());
	srunner_add_suite(sr, ptwr_suite());
	srunner_add_suite(sr, xs_suite());
	srunner_add_suite(sr, traps_suite());
	srunner_add_suite(sr, abi_suite());
	srunner_add_suite(sr, xlcfg_suite());
	srunner_add_suite(sr, memory_suite());
	srunner_add_suite(sr, privop_suite());
	srunner_add_suite(sr, grant_suite());
	srunner_add_suite(sr, debugreg_suite());
	srunner_add_suite(sr, xbdev_suite());
	srunner_add_suite(sr, blk_suite());
	srunner_add_suite(sr, netback_suite());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
