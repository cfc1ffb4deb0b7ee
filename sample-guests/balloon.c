/* balloon: give memory back and take it again as Linux's balloon driver does
 * (unmap, decrease_reservation, later populate_physmap and map again),
 * exchange two frames for one contiguous extent as Linux's
 * xen_create_contiguous_region does, and see that a frame given back cannot
 * be mapped, comes back scrubbed, that a frame still mapped goes only when
 * its last mapping does, and that the domain never grows past its maximum.
 * Then the FIFO event ABI: declined, the guest keeps the 2-level one. */
#include "rt.h"

#define INVALID_P2M (~0ul)

static long memory_op(unsigned cmd, void *arg)
{
	return hypercall(XEN_HC_memory_op, cmd, arg, 0);
}

static long reservation(unsigned cmd, uint64_t *frames, uint64_t nr, unsigned order)
{
	struct xen_memory_reservation r = {
		.extent_start = (uint64_t)frames, .nr_extents = nr, .extent_order = order,
		.domid = DOMID_SELF,
	};

	return memory_op(cmd, &r);
}

static long pages(unsigned cmd)
{
	uint16_t self = DOMID_SELF;

	return memory_op(cmd, &self);
}

static uint64_t m2p(uint64_t mfn)
{
	return ((const volatile uint64_t *)XEN_RO_MPT_BASE)[mfn];
}

/* Unmap page (p) and give its frame back, as the balloon driver does. */
static void balloon_out(volatile uint64_t *p2m, void *p)
{
	uint64_t mfn = virt_to_mfn(p), pfn = mfn;

	expect_eq(HYPERVISOR_update_va_mapping((uint64_t)p, 0, UVMF_INVLPG), 0);
	p2m[pfn] = INVALID_P2M;
	expect_eq(reservation(XENMEM_decrease_reservation, &mfn, 1, 0), 1);
}

/* Populate guest frame (pfn) again and map it at (p): its machine frame. */
static uint64_t balloon_in(volatile uint64_t *p2m, void *p, uint64_t pfn)
{
	uint64_t frame = pfn;

	expect_eq(reservation(XENMEM_populate_physmap, &frame, 1, 0), 1);
	p2m[pfn] = frame;
	expect_eq(m2p(frame), pfn);
	expect_eq(HYPERVISOR_update_va_mapping((uint64_t)p, pte(frame, PTE_DATA), UVMF_INVLPG), 0);
	return frame;
}

static void out_and_in(struct start_info *si, volatile uint64_t *p2m)
{
	uint8_t *p = rt_alloc_page();
	uint64_t mfn = virt_to_mfn(p), extra = 0;

	memset(p, 0xa5, XEN_PAGE_SIZE);
	balloon_out(p2m, p);
	expect_eq(pages(XENMEM_current_reservation), si->nr_pages - 1);
	expect_eq(pages(XENMEM_maximum_reservation), si->nr_pages);
	/* a frame given back is nobody's: it cannot be mapped */
	expect_eq(HYPERVISOR_update_va_mapping((uint64_t)p, pte(mfn, PTE_DATA), 0), -XEN_EINVAL);
	expect_eq(m2p(mfn), INVALID_P2M);
	expect_eq(balloon_in(p2m, p, mfn), mfn); /* the same frame, preferred */
	expect_eq(p[0] | p[XEN_PAGE_SIZE - 1], 0); /* scrubbed */
	expect_eq(pages(XENMEM_current_reservation), si->nr_pages);
	/* at its maximum the domain gets no more */
	expect_eq(reservation(XENMEM_increase_reservation, &extra, 1, 0), 0);
	printf("balloon: a page given back, refused, populated again scrubbed\n");
}

/* A frame given back while still mapped is the domain's until unmapped. */
static void still_mapped(struct start_info *si, volatile uint64_t *p2m)
{
	uint8_t *p = rt_alloc_page();
	uint64_t mfn = virt_to_mfn(p);

	p[0] = 1;
	expect_eq(reservation(XENMEM_decrease_reservation, &mfn, 1, 0), 1);
	expect_eq(p[0], 1);
	expect_eq(pages(XENMEM_current_reservation), si->nr_pages);
	expect_eq(HYPERVISOR_update_va_mapping((uint64_t)p, 0, UVMF_INVLPG), 0);
	expect_eq(pages(XENMEM_current_reservation), si->nr_pages - 1);
	p2m[mfn] = INVALID_P2M;
	balloon_in(p2m, p, mfn);
	printf("balloon: a page given back while mapped went when it was unmapped\n");
}

/* Two frames for one extent of order 1, as xen_create_contiguous_region. */
static void exchange(volatile uint64_t *p2m)
{
	uint8_t *a = rt_alloc_page(), *b;
	uint64_t in[2], out[1];
	struct xen_memory_exchange x = {
		.in = { (uint64_t)in, 2, 0, 0, DOMID_SELF, { 0 } },
		.out = { (uint64_t)out, 1, 1, 0, DOMID_SELF, { 0 } },
	};

	if (virt_to_mfn(a) & 1)
		a = rt_alloc_page(); /* an even frame first */
	b = rt_alloc_page();
	guest_assert(b == a + XEN_PAGE_SIZE);
	in[0] = virt_to_mfn(a), in[1] = virt_to_mfn(b), out[0] = in[0];
	a[0] = b[0] = 7;
	for (int i = 0; i < 2; i++) {
		expect_eq(HYPERVISOR_update_va_mapping((uint64_t)(i ? b : a), 0, UVMF_INVLPG), 0);
		p2m[in[i]] = INVALID_P2M;
	}
	expect_eq(memory_op(XENMEM_exchange, &x), 0);
	expect_eq(x.nr_exchanged, 2);
	guest_assert(out[0] % 2 == 0);
	for (uint64_t i = 0; i < 2; i++) {
		p2m[in[0] + i] = out[0] + i;
		expect_eq(m2p(out[0] + i), in[0] + i);
		expect_eq(HYPERVISOR_update_va_mapping((uint64_t)(a + i * XEN_PAGE_SIZE),
						       pte(out[0] + i, PTE_DATA), UVMF_INVLPG), 0);
	}
	expect_eq(a[0] | b[0], 0);
	/* XSA-212: an output list outside the guest's half is refused, and the
	 * progress field comes back as it went */
	x.nr_exchanged = 0, x.out.extent_start = 0x7ffffffff000ul;
	expect_eq(memory_op(XENMEM_exchange, &x), -XEN_EFAULT);
	expect_eq(x.nr_exchanged, 0);
	printf("balloon: two frames exchanged for an extent of order 1 at frame %#lx\n",
	       (unsigned long)out[0]);
}

/* The FIFO ABI is declined: init_control fails, the guest keeps 2-level. */
static void fifo_declined(void)
{
	void *page = rt_alloc_page();
	struct evtchn_init_control c = { virt_to_mfn(page), 0, 0, 0, { 0 } };
	struct evtchn_expand_array e = { virt_to_mfn(page) };

	expect_eq(HYPERVISOR_event_channel_op(EVTCHNOP_init_control, &c), -XEN_EOPNOTSUPP);
	c.control_gfn = ~1ul;
	expect_eq(HYPERVISOR_event_channel_op(EVTCHNOP_init_control, &c), -XEN_EINVAL);
	expect_eq(HYPERVISOR_event_channel_op(EVTCHNOP_expand_array, &e), -XEN_EOPNOTSUPP);
	printf("balloon: the FIFO event ABI is declined; 2-level events it is\n");
}

int guest_main(struct start_info *si)
{
	volatile uint64_t *p2m = (volatile uint64_t *)si->mfn_list;

	out_and_in(si, p2m);
	still_mapped(si, p2m);
	exchange(p2m);
	fifo_declined();
	return 0;
}
