/* memory.c - memory_op: the domain's sizes, the M2P window and the memory
 * map, and its reservation: frames given back (decrease_reservation), taken
 * (populate_physmap, increase_reservation: Linux's balloon driver) and
 * exchanged, with Xen's argument checks (xen/common/memory.c) in Xen's
 * order, over the frame pool of mmu/balloon.c. One domain, which starts
 * with all of its memory: only frames it gave back can be handed out. */
#include "hypercalls/hc.h"
#include "mmu/mmu.h"

#include <stddef.h>
#include <string.h>

#define PAGE 4096ull
#define MAX_ORDER 9            /* Xen's memop-max-order for a domU: 2 MiB extents */
#define NO_LIMIT UINT64_MAX
#define NO_GPFN UINT64_MAX     /* increase_reservation's frames: in no P2M slot yet */
#define NO_FRAME UINT64_MAX
#define CHUNK_MAX (1u << MAX_ORDER) /* frames an exchange moves at once, at most */

static int own(uint16_t dom) { return dom == DOMID_SELF || dom == VM_DOMID; }

/* ---- flags ----------------------------------------------------------------- */

/* Address bits (mem_flags bits 0-7) as the first frame not allowed. */
static uint64_t bits_limit(unsigned bits)
{
	if (!bits || bits >= 64 + 12)
		return NO_LIMIT;
	return bits <= 12 ? 0 : 1ull << (bits - 12);
}

/* Xen's propagate_node, for a domain that is neither the hardware nor the
 * control domain: a NUMA node (bits 8-15, node + 1) is a hint it may give
 * and pvmm ignores, but insisting on one is refused. */
static int node_ok(uint32_t flags)
{
	unsigned node = ((flags >> 8) - 1) & 0xff; /* 0xff: none given */

	return node == 0xff || !(flags & XENMEMF_exact_node_request);
}

/* The smallest order of pages that covers (pages): Xen's get_order_from_pages. */
static unsigned order_of(uint64_t pages)
{
	unsigned o = 0;

	while (o < 63 && (1ull << o) < pages)
		o++;
	return o;
}

/* Xen's construct_memop_from_reservation: address bits that matter on this
 * "host" (its frames are the domain's) limit the frames handed out, and
 * must leave room for one page; no vNUMA, so a virtual node means nothing. */
static int reservation_flags(const struct vm *vm, uint32_t flags, uint64_t *limit)
{
	unsigned bits = flags & 0xff;

	*limit = NO_LIMIT;
	if (bits && bits < order_of(vm->nr_frames) + 12) {
		if (bits <= 12)
			return -XEN_EINVAL;
		*limit = bits_limit(bits);
	}
	if (flags & XENMEMF_vnode)
		return 0;
	return node_ok(flags) ? 0 : -XEN_EINVAL;
}

/* ---- increase, populate, decrease ------------------------------------------- */

/* One reservation request (Xen's memop_args). */
struct memop {
	uint64_t list;   /* guest array of frame numbers (increase: 0 for none) */
	uint64_t nr;     /* extents */
	unsigned order;  /* 2^order frames an extent */
	uint64_t limit;  /* frames handed out lie below this one */
	uint64_t done;   /* extents done so far: the result */
};

static uint64_t slot(const struct memop *m, uint64_t i) { return m->list + i * 8; }

/* The list from the first extent left to the last lies in the guest half. */
static int list_ok(struct vm *vm, const struct memop *m)
{
	return !mmu_guest_array_ok(vm, slot(m, m->done), m->nr - m->done, 8);
}

static void assign_run(struct vm *vm, uint64_t mfn, unsigned order, uint64_t gpfn)
{
	for (uint64_t j = 0; j < 1ull << order; j++)
		mmu_assign(vm, mfn + j, gpfn == NO_GPFN ? NO_GPFN : gpfn + j);
}

/* New frames anywhere, reported in the list when there is one. */
static void increase(struct vm *vm, struct memop *m)
{
	uint64_t mfn;

	if ((m->list && !list_ok(vm, m)) || m->order > MAX_ORDER)
		return;
	for (; m->done < m->nr; m->done++) {
		mfn = mmu_find_free(vm, m->order, m->limit, 0, 0);
		if (mfn == NO_FRAME)
			return; /* the domain is at its maximum */
		assign_run(vm, mfn, m->order, NO_GPFN);
		if (m->list && mmu_copy_to_guest(vm, slot(m, m->done), &mfn, 8))
			return;
	}
}

/* New frames for the guest frames in the list, whose machine frames go
 * back in it. The frame that was the guest frame's is preferred, so that
 * a guest that balloons out and in again keeps mfn == pfn. */
static void populate(struct vm *vm, struct memop *m, int on_demand)
{
	uint64_t gpfn, mfn;

	if (!list_ok(vm, m) || on_demand || m->order > MAX_ORDER)
		return; /* populate-on-demand: not for oneself, Xen says */
	for (; m->done < m->nr; m->done++) {
		if (mmu_copy_from_guest(vm, &gpfn, slot(m, m->done), 8))
			return;
		mfn = mmu_find_free(vm, m->order, m->limit, gpfn, 0);
		if (mfn == NO_FRAME)
			return;
		assign_run(vm, mfn, m->order, gpfn);
		if (mmu_copy_to_guest(vm, slot(m, m->done), &mfn, 8))
			return;
	}
}

/* The rings pvmm serves as the backend hold their frames, as xenconsoled
 * and xenstored hold theirs on Xen. */
static int held(const struct vm *vm, uint64_t mfn)
{
	return mfn == vm->lay.console_pfn || mfn == vm->lay.store_pfn;
}

/* The frames in the list go back, frame by frame: one the domain does not
 * own stops the request where it is (Xen's guest_remove_page). */
static void decrease(struct vm *vm, struct memop *m)
{
	uint64_t gmfn;

	if (!list_ok(vm, m) || m->order > MAX_ORDER)
		return;
	for (; m->done < m->nr; m->done++) {
		if (mmu_copy_from_guest(vm, &gmfn, slot(m, m->done), 8))
			return;
		for (uint64_t j = 0; j < 1ull << m->order; j++)
			if (mmu_give_back(vm, gmfn + j, held(vm, gmfn + j)))
				return;
	}
}

/* Returns the extents done, as Xen does: a request it refuses does none. */
static int64_t reservation(struct vm *vm, unsigned op, uint64_t start, uint64_t arg)
{
	struct xen_memory_reservation r;
	struct memop m = { .done = start };

	if (mmu_copy_from_guest(vm, &r, arg, sizeof(r)) ||
	    r.nr_extents > (UINT32_MAX >> XENMEM_EXTENT_SHIFT) || start >= r.nr_extents ||
	    !own(r.domid) || reservation_flags(vm, r.mem_flags, &m.limit))
		return (int64_t)start;
	m.list = r.extent_start;
	m.nr = r.nr_extents;
	m.order = r.extent_order;
	if (op == XENMEM_increase_reservation)
		increase(vm, &m);
	else if (op == XENMEM_decrease_reservation)
		decrease(vm, &m);
	else
		populate(vm, &m, !!(r.mem_flags & XENMEMF_populate_on_demand));
	return (int64_t)m.done;
}

/* ---- exchange ------------------------------------------------------------------ */

/* An exchange under way: the request, and the frames of the chunk in hand. */
struct exchange {
	struct xen_memory_exchange x;
	unsigned in_chunk, out_chunk;  /* input / output extents a chunk */
	uint64_t limit;                /* the output's address bits */
	uint64_t stolen[CHUNK_MAX];    /* input frames taken so far */
	unsigned nstolen;
	uint64_t claimed[CHUNK_MAX];   /* output frames chosen so far ... */
	uint8_t was[CHUNK_MAX];        /* ... and their state before */
	unsigned nclaimed;
};

/* Xen's checks before any frame moves, in its order: extent orders
 * (-EPERM), the sizes (-EINVAL), the lists from the progress field on
 * (-EFAULT), the output's node (-EINVAL), the domain. 1: nothing left. */
static int64_t exchange_checks(struct vm *vm, struct exchange *e)
{
	const struct xen_memory_exchange *x = &e->x;
	uint64_t done = x->nr_exchanged, out_first;

	if (x->in.extent_order > MAX_ORDER || x->out.extent_order > MAX_ORDER)
		return -XEN_EPERM;
	if (done > x->in.nr_extents || x->in.domid != x->out.domid ||
	    (UINT64_MAX >> x->in.extent_order) < x->in.nr_extents ||
	    (UINT64_MAX >> x->out.extent_order) < x->out.nr_extents ||
	    x->in.nr_extents << x->in.extent_order != x->out.nr_extents << x->out.extent_order)
		return -XEN_EINVAL;
	if (done == x->in.nr_extents)
		return 1;
	if (mmu_guest_array_ok(vm, x->in.extent_start + done * 8, x->in.nr_extents - done, 8))
		return -XEN_EFAULT;
	e->in_chunk = x->in.extent_order <= x->out.extent_order
			      ? x->out.extent_order - x->in.extent_order : 0;
	e->out_chunk = x->in.extent_order > x->out.extent_order
			       ? x->in.extent_order - x->out.extent_order : 0;
	out_first = e->in_chunk ? done >> e->in_chunk : done << e->out_chunk;
	if (mmu_guest_array_ok(vm, x->out.extent_start + out_first * 8,
			       x->out.nr_extents - out_first, 8))
		return -XEN_EFAULT;
	if (!node_ok(x->out.mem_flags))
		return -XEN_EINVAL;
	if (!own(x->in.domid))
		return x->in.domid == 0 ? -XEN_EPERM : -XEN_ESRCH; /* dom0 exists, but is not ours */
	e->limit = bits_limit(x->out.mem_flags & 0xff);
	return 0;
}

/* Take the input frames of chunk (i) from the domain. */
static int64_t steal_chunk(struct vm *vm, struct exchange *e, uint64_t i)
{
	const struct xen_memory_reservation *in = &e->x.in;
	uint64_t gmfn;

	for (uint64_t j = 0; j < 1ull << e->in_chunk; j++) {
		if (mmu_copy_from_guest(vm, &gmfn, in->extent_start + ((i << e->in_chunk) + j) * 8, 8))
			return -XEN_EFAULT;
		for (uint64_t k = 0; k < 1ull << in->extent_order; k++) {
			if (held(vm, gmfn + k) || mmu_steal(vm, gmfn + k))
				return -XEN_EINVAL;
			e->stolen[e->nstolen++] = gmfn + k;
		}
	}
	return 0;
}

/* Choose the output frames of chunk (i): free ones, or the chunk's own
 * input (Xen takes them from its heap, and frees the input after). The
 * guest frame each extent is for is the preferred machine frame. */
static int64_t claim_chunk(struct vm *vm, struct exchange *e, uint64_t i)
{
	const struct xen_memory_reservation *out = &e->x.out;
	uint64_t gpfn, mfn;

	for (uint64_t j = 0; j < 1ull << e->out_chunk; j++) {
		if (mmu_copy_from_guest(vm, &gpfn, out->extent_start + ((i << e->out_chunk) + j) * 8, 8))
			gpfn = 0; /* only a preference: Xen reads it after allocating */
		mfn = mmu_find_free(vm, out->extent_order, e->limit, gpfn, 1);
		if (mfn == NO_FRAME)
			return -XEN_ENOMEM;
		for (uint64_t k = 0; k < 1ull << out->extent_order; k++) {
			e->claimed[e->nclaimed] = mfn + k;
			e->was[e->nclaimed++] = mmu_claim(vm, mfn + k);
		}
	}
	return 0;
}

static void unclaim_all(struct vm *vm, struct exchange *e)
{
	while (e->nclaimed--)
		mmu_unclaim(vm, e->claimed[e->nclaimed], e->was[e->nclaimed]);
	e->nclaimed = 0;
}

/* The chunk cannot fail any more: the input frames are freed, the claimed
 * frames become the domain's, at the guest frames the output list names,
 * and their machine frames go back into it. A list the guest cannot
 * access now is -EFAULT, the frames moved all the same (as on Xen). */
static int64_t commit_chunk(struct vm *vm, struct exchange *e, uint64_t i)
{
	const struct xen_memory_reservation *out = &e->x.out;
	uint64_t n = 1ull << out->extent_order, gpfn, mfn, at;
	unsigned claimed = e->nclaimed;
	int64_t rc = 0;

	unclaim_all(vm, e); /* the claimed frames are free or stolen again ... */
	for (unsigned s = 0; s < e->nstolen; s++)
		mmu_free_stolen(vm, e->stolen[s]); /* ... and now all free */
	for (uint64_t j = 0; j * n < claimed; j++) {
		at = out->extent_start + ((i << e->out_chunk) + j) * 8;
		mfn = e->claimed[j * n];
		if (mmu_copy_from_guest(vm, &gpfn, at, 8)) {
			assign_run(vm, mfn, out->extent_order, NO_GPFN);
			rc = -XEN_EFAULT;
			continue;
		}
		assign_run(vm, mfn, out->extent_order, gpfn);
		if (mmu_copy_to_guest(vm, at, &mfn, 8))
			rc = -XEN_EFAULT;
	}
	return rc;
}

static int64_t exchange_chunk(struct vm *vm, struct exchange *e, uint64_t i)
{
	int64_t rc;

	e->nstolen = e->nclaimed = 0;
	rc = steal_chunk(vm, e, i);
	if (!rc)
		rc = claim_chunk(vm, e, i);
	if (!rc)
		return commit_chunk(vm, e, i);
	unclaim_all(vm, e);
	while (e->nstolen--)
		mmu_unsteal(vm, e->stolen[e->nstolen]);
	return rc;
}

/* Chunk after chunk from the progress field on; a chunk that fails is
 * undone and the field says how many input extents the others moved. */
static int64_t exchange_chunks(struct vm *vm, struct exchange *e)
{
	uint64_t end = e->x.in.nr_extents >> e->in_chunk;
	int64_t rc;

	for (uint64_t i = e->x.nr_exchanged >> e->in_chunk; i < end; i++) {
		rc = exchange_chunk(vm, e, i);
		if (rc) {
			e->x.nr_exchanged = i << e->in_chunk;
			return rc;
		}
	}
	e->x.nr_exchanged = e->x.in.nr_extents;
	return 0;
}

/* XENMEM_exchange: input extents for output extents of another order (or
 * address width), chunk by chunk; nr_exchanged says how many input extents
 * are done, going in (to continue) and coming out, also after a refusal. */
static int64_t exchange(struct vm *vm, uint64_t arg)
{
	struct exchange e;
	int64_t rc;

	memset(&e, 0, sizeof(e));
	if (mmu_copy_from_guest(vm, &e.x, arg, sizeof(e.x)))
		return -XEN_EFAULT;
	rc = exchange_checks(vm, &e);
	if (rc == 1)
		return 0;
	if (!rc)
		rc = exchange_chunks(vm, &e);
	if (mmu_copy_to_guest(vm, arg + offsetof(struct xen_memory_exchange, nr_exchanged),
			      &e.x.nr_exchanged, 8))
		rc = -XEN_EFAULT;
	return rc;
}

/* ---- memory_op ----------------------------------------------------------------- */

static int64_t reservation_size(struct vm *vm, unsigned op, uint64_t arg)
{
	uint16_t dom;

	if (mmu_copy_from_guest(vm, &dom, arg, sizeof(dom)))
		return -XEN_EFAULT;
	if (!own(dom))
		return -XEN_ESRCH;
	return (int64_t)(op == XENMEM_maximum_reservation ? vm->nr_pages
							  : vm->nr_pages - vm->mmu.given_back);
}

/* The memory map a toolstack gives a PV guest: one RAM region. */
static int64_t memory_map(struct vm *vm, uint64_t arg)
{
	struct xen_memory_map map;
	struct e820_entry ram = { 0, vm->nr_pages * PAGE, E820_RAM };

	if (mmu_copy_from_guest(vm, &map, arg, sizeof(map)))
		return -XEN_EFAULT;
	map.nr_entries = map.nr_entries ? 1 : 0; /* as many as fit, of the one */
	if (map.nr_entries && mmu_copy_to_guest(vm, map.buffer, &ram, sizeof(ram)))
		return -XEN_EFAULT;
	return mmu_copy_to_guest(vm, arg, &map, sizeof(map)) ? -XEN_EFAULT : 0;
}

/* The command's low bits are the operation, the rest the extent to start
 * from (Xen's continuation), which only the reservation operations take. */
int64_t hc_memory_op(struct vm *vm, const uint64_t a[5])
{
	unsigned op = (unsigned)(a[0] & XENMEM_CMD_MASK);
	uint64_t start = a[0] >> XENMEM_EXTENT_SHIFT;

	switch (op) {
	case XENMEM_increase_reservation:
	case XENMEM_decrease_reservation:
	case XENMEM_populate_physmap:
		return reservation(vm, op, start, a[1]);
	case XENMEM_exchange:
		return start ? -XEN_EINVAL : exchange(vm, a[1]);
	case XENMEM_maximum_ram_page:
		return start ? -XEN_EINVAL : (int64_t)(vm->nr_frames - 1);
	case XENMEM_current_reservation:
	case XENMEM_maximum_reservation:
		return start ? -XEN_EINVAL : reservation_size(vm, op, a[1]);
	case XENMEM_machphys_mapping: {
		struct xen_machphys_mapping m = { XEN_RO_MPT_BASE, XEN_MACH2PHYS_VIRT_END,
						  vm->nr_frames - 1 };
		return mmu_copy_to_guest(vm, a[1], &m, sizeof(m)) ? -XEN_EFAULT : 0;
	}
	case XENMEM_memory_map:
		return memory_map(vm, a[1]);
	case XENMEM_machine_memory_map:
		return -XEN_EPERM; /* the host's map is dom0's business */
	default:
		return -XEN_ENOSYS;
	}
}
