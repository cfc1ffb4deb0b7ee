/* abi_xen.c - Xen's side of tests/abi/xen_abi.def, from Xen's own public
 * headers (Debian's libxen-dev). This file must not include xen_abi.h: the
 * two define the same names. check_abi.c compares the rows. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <xen/xen.h>
#include <xen/platform.h>
#include <xen/errno.h>
#include <xen/version.h>
#include <xen/features.h>
#include <xen/sched.h>
#include <xen/callback.h>
#include <xen/event_channel.h>
#include <xen/vcpu.h>
#include <xen/memory.h>
#include <xen/grant_table.h>
#include <xen/physdev.h>
#include <xen/elfnote.h>
#include <xen/io/console.h>
#include <xen/io/ring.h>
#include <xen/io/xs_wire.h>
#include <xen/io/xenbus.h>
#include <xen/io/blkif.h>
#include <xen/io/netif.h>

#include "abi_rows.h"

#if !defined(__XEN_INTERFACE_VERSION__) || __XEN_INTERFACE_VERSION__ != __XEN_LATEST_INTERFACE_VERSION__
#error "compile with -D__XEN_INTERFACE_VERSION__=__XEN_LATEST_INTERFACE_VERSION__"
#endif

#define C(p, x) (long long)(x),
#define S(p, x) (long long)sizeof(x),
#define M(p, pm, x, xm) (long long)offsetof(x, xm), (long long)sizeof(((x *)0)->xm),
#define P(p, why)
#define PS(p, why)

size_t abi_xen_rows(long long *out, size_t max)
{
	const long long rows[] = {
#include "../abi/xen_abi.def"
	};
	size_t n = sizeof(rows) / sizeof(*rows);

	memcpy(out, rows, (n < max ? n : max) * sizeof(*rows));
	return n;
}
