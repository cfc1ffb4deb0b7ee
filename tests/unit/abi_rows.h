/* abi_rows.h - the one function between abi_xen.c (Xen's headers) and
 * check_abi.c (pvmm's): Xen's value of each row of tests/abi/xen_abi.def,
 * in order. Returns the number of rows; writes at most max of them. */
#ifndef PVMM_ABI_ROWS_H
#define PVMM_ABI_ROWS_H
#include <stddef.h>

size_t abi_xen_rows(long long *out, size_t max);

#endif
