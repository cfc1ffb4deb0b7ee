/* check_abi.c - include/xen_abi.h against Xen's public headers: every
 * constant of tests/abi/xen_abi.def has Xen's value, every type Xen's size,
 * every member Xen's offset and size. pvmm's side is evaluated here, Xen's
 * in abi_xen.c; tests/abi/names.sh checks that the list misses no name. */
#include <check.h>
#include <stdio.h>

#include "abi_rows.h"
#include "xen_abi.h"

struct abi_row {
	const char *what;
	long long v;
};

#define C(p, x) { #p " (Xen: " #x ")", (long long)(p) },
#define S(p, x) { "sizeof(" #p ") (Xen: " #x ")", (long long)sizeof(p) },
#define M(p, pm, x, xm)                                                                    \
	{ "offsetof(" #p ", " #pm ") (Xen: " #xm ")", (long long)offsetof(p, pm) },          \
	{ "sizeof(" #p "." #pm ") (Xen: " #xm ")", (long long)sizeof(((p *)0)->pm) },
#define P(p, why)
#define PS(p, why)

static const struct abi_row pvmm_rows[] = {
#include "../abi/xen_abi.def"
};
#define NROWS (sizeof(pvmm_rows) / sizeof(*pvmm_rows))

START_TEST(every_row_matches_xen)
{
	long long xen[NROWS];
	size_t n = abi_xen_rows(xen, NROWS);
	unsigned bad = 0;

	ck_assert_uint_eq(n, NROWS);
	for (size_t i = 0; i < NROWS; i++)
		if (pvmm_rows[i].v != xen[i]) {
			fprintf(stderr, "xen_abi.h differs from Xen: %s: pvmm %lld (%#llx), Xen %lld (%#llx)\n",
				pvmm_rows[i].what, pvmm_rows[i].v, (unsigned long long)pvmm_rows[i].v,
				xen[i], (unsigned long long)xen[i]);
			bad++;
		}
	ck_assert_msg(bad == 0, "%u of %zu rows of tests/abi/xen_abi.def differ from Xen's headers "
		      "(listed on stderr)", bad, (size_t)NROWS);
}
END_TEST

Suite *abi_suite(void);

Suite *abi_suite(void)
{
	Suite *s = suite_create("xen-abi");
	TCase *tc = tcase_create("abi");

	tcase_add_test(tc, every_row_matches_xen);
	suite_add_tcase(s, tc);
	return s;
}
