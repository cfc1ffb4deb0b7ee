/* grant: a domain grants a page to itself, maps it (by address, by PTE,
 * read-only), copies through the grant, checks the data through both
 * mappings, the flags Xen reports in the entry and the references the
 * mapping holds, then unmaps it; the refusals get Xen's status codes; the
 * same with a version 2 table and its status frames. */
#include "rt.h"

#define REF 10      /* the entries this guest grants */
#define REF_RO 11

static volatile struct grant_entry_v1 *v1;
static volatile struct grant_entry_v2 *v2;
static uint16_t domid;

static long gnttab(unsigned cmd, void *op, unsigned count)
{
	return hypercall(XEN_HC_grant_table_op, cmd, op, count);
}

/* The domain's own id: an unbound port for itself reports it (as XTF finds it). */
static uint16_t own_domid(void)
{
	struct evtchn_alloc_unbound un = { DOMID_SELF, DOMID_SELF, 0 };
	struct evtchn_status st = { DOMID_SELF, 0, 0, 0, 0, { { 0 } } };

	expect_eq(HYPERVISOR_event_channel_op(EVTCHNOP_alloc_unbound, &un), 0);
	st.port = un.port;
	expect_eq(HYPERVISOR_event_channel_op(EVTCHNOP_status, &st), 0);
	expect_eq(HYPERVISOR_event_channel_op(EVTCHNOP_close, &un.port), 0);
	return st.u.unbound.dom;
}

/* Set up a table of one frame and map it at a page of ours. */
static void *map_table(void)
{
	uint64_t frame = 0;
	struct gnttab_setup_table st = { DOMID_SELF, 0, 1, 0, { 0 }, (uint64_t)&frame };
	void *va = rt_alloc_page();

	expect_eq(gnttab(GNTTABOP_setup_table, &st, 1), 0);
	expect_eq(st.status, GNTST_okay);
	expect_eq(HYPERVISOR_update_va_mapping((uint64_t)va, pte(frame, PTE_DATA), UVMF_INVLPG), 0);
	return va;
}

static void grant(unsigned ref, const volatile void *page, uint16_t flags)
{
	v1[ref].domid = domid;
	v1[ref].frame = (uint32_t)virt_to_mfn(page);
	v1[ref].flags = flags;
}

static int16_t map(unsigned ref, uint16_t dom, uint32_t flags, uint64_t addr, uint32_t *handle)
{
	struct gnttab_map_grant_ref op = { addr, flags, ref, dom, 99, 0, 0 };

	expect_eq(gnttab(GNTTABOP_map_grant_ref, &op, 1), 0);
	if (!op.status)
		*handle = op.handle;
	return op.status;
}

static int16_t unmap(uint32_t handle, uint64_t host_addr, uint64_t dev_bus_addr)
{
	struct gnttab_unmap_grant_ref op = { host_addr, dev_bus_addr, handle, 99, 0 };

	expect_eq(gnttab(GNTTABOP_unmap_grant_ref, &op, 1), 0);
	return op.status;
}

/* The machine address of the L1 entry that maps (va) (identity P2M). */
static uint64_t l1e_maddr(uint64_t va)
{
	uint64_t t = rt_l4_mfn();

	for (int level = 4; level > 1; level--) {
		const uint64_t *tab = (const uint64_t *)(VIRT_BASE + t * XEN_PAGE_SIZE);
		t = (tab[(va >> (12 + 9 * (level - 1))) & 511] & PTE_ADDR_MASK) >> XEN_PAGE_SHIFT;
	}
	return t * XEN_PAGE_SIZE + ((va >> 12) & 511) * 8;
}

/* Map the granted page writable at another address: one page, two names. */
static void map_by_address(volatile char *page)
{
	volatile char *alias = rt_alloc_page();
	uint32_t h;

	grant(REF, page, GTF_permit_access);
	page[0] = 'x';
	expect_eq(map(REF, domid, GNTMAP_host_map, (uint64_t)alias, &h), GNTST_okay);
	expect_eq(v1[REF].flags, GTF_permit_access | GTF_reading | GTF_writing);
	expect_eq(alias[0], 'x');
	alias[1] = 'y';
	expect_eq(page[1], 'y');
	expect_eq(unmap(h, 0x1234000, 0), GNTST_general_error); /* not where it is mapped */
	expect_eq(unmap(h, (uint64_t)alias, 0), GNTST_okay);
	expect_eq(unmap(h, (uint64_t)alias, 0), GNTST_bad_handle); /* the handle is gone */
	expect_eq(v1[REF].flags, GTF_permit_access);
	expect_eq(rt_probe_read((uint64_t)alias), -XEN_EFAULT); /* and the mapping */
	printf("grant: mapped by address, the data seen through both mappings, unmapped\n");
}

/* A writable grant mapping holds a writable reference: the frame cannot
 * become a page table until it is unmapped. Device mappings hold their own. */
static void references(void)
{
	volatile char *page = rt_alloc_page(), *alias = rt_alloc_page();
	uint64_t mfn = virt_to_mfn(page);
	uint32_t h;
	struct gnttab_map_grant_ref op = { (uint64_t)alias, GNTMAP_host_map | GNTMAP_device_map,
					   REF, domid, 99, 0, 0 };

	expect_eq(rt_set_readonly(page), 0);
	grant(REF, page, GTF_permit_access);
	expect_eq(gnttab(GNTTABOP_map_grant_ref, &op, 1), 0);
	expect_eq(op.status, GNTST_okay);
	expect_eq(op.dev_bus_addr, mfn << XEN_PAGE_SHIFT);
	h = op.handle;
	expect_eq(rt_pin(1, mfn), -XEN_EINVAL);
	expect_eq(unmap(h, (uint64_t)alias, 0), GNTST_okay); /* the host mapping only */
	expect_eq(v1[REF].flags, GTF_permit_access | GTF_reading | GTF_writing);
	expect_eq(rt_pin(1, mfn), -XEN_EINVAL);               /* the device mapping holds it */
	expect_eq(unmap(h, 0, (mfn + 1) << XEN_PAGE_SHIFT), GNTST_general_error);
	expect_eq(unmap(h, 0, mfn << XEN_PAGE_SHIFT), GNTST_okay);
	expect_eq(v1[REF].flags, GTF_permit_access);
	expect_eq(rt_pin(1, mfn), 0);                         /* now it can (a zero page) */
	expect_eq(rt_unpin(mfn), 0);
	expect_eq(rt_set_writable(page), 0);
	printf("grant: host and device mappings hold the frame's references until unmapped\n");
}

/* GNTMAP_contains_pte: the machine address of the L1 entry to write. */
static void map_by_pte(volatile char *page)
{
	volatile char *alias = rt_alloc_page();
	uint64_t ma = l1e_maddr((uint64_t)alias);
	uint32_t h;

	grant(REF, page, GTF_permit_access);
	expect_eq(map(REF, domid, GNTMAP_host_map | GNTMAP_contains_pte, ma - 2, &h),
		  GNTST_general_error); /* misaligned (XSA-227) */
	expect_eq(map(REF, domid, GNTMAP_host_map | GNTMAP_contains_pte, ma, &h), GNTST_okay);
	page[2] = 'z';
	expect_eq(alias[2], 'z');
	expect_eq(unmap(h, (uint64_t)alias, 0), GNTST_general_error); /* it wants the PTE's address */
	expect_eq(unmap(h, ma, 0), GNTST_okay);
	printf("grant: mapped through the address of its PTE\n");
}

static void read_only(volatile char *page)
{
	volatile char *alias = rt_alloc_page();
	uint32_t h;

	grant(REF_RO, page, GTF_permit_access | GTF_readonly);
	expect_eq(map(REF_RO, domid, GNTMAP_host_map, (uint64_t)alias, &h), GNTST_general_error);
	expect_eq(v1[REF_RO].flags, GTF_permit_access | GTF_readonly);
	expect_eq(map(REF_RO, domid, GNTMAP_host_map | GNTMAP_readonly, (uint64_t)alias, &h),
		  GNTST_okay);
	expect_eq(v1[REF_RO].flags, GTF_permit_access | GTF_readonly | GTF_reading);
	expect_eq(alias[0], page[0]);
	expect_eq(rt_probe_read((uint64_t)alias), 0);
	expect_eq(unmap(h, (uint64_t)alias, 0), GNTST_okay);
	expect_eq(v1[REF_RO].flags, GTF_permit_access | GTF_readonly);
	printf("grant: a read-only grant maps read-only only\n");
}

static int16_t copy(uint64_t src, uint16_t sdom, uint16_t soff, uint64_t dst, uint16_t ddom,
		    uint16_t doff, uint16_t len, uint16_t flags)
{
	struct gnttab_copy op = { { src, sdom, soff, 0 }, { dst, ddom, doff, 0 }, len, flags, 99, 0 };

	expect_eq(gnttab(GNTTABOP_copy, &op, 1), 0);
	return op.status;
}

static void copies(volatile char *page)
{
	char *other = rt_alloc_page();
	uint64_t om = virt_to_mfn(other);

	grant(REF, page, GTF_permit_access);
	memcpy((char *)page + 100, "granted bytes", 14);
	expect_eq(copy(REF, domid, 100, om, DOMID_SELF, 8, 14, GNTCOPY_source_gref), GNTST_okay);
	guest_assert(!strcmp(other + 8, "granted bytes"));
	memcpy(other, "back again", 11);
	expect_eq(copy(om, DOMID_SELF, 0, REF, DOMID_SELF, 200, 11, GNTCOPY_dest_gref), GNTST_okay);
	guest_assert(!strcmp((char *)page + 200, "back again"));
	expect_eq(v1[REF].flags, GTF_permit_access); /* in use only while copying */
	expect_eq(copy(REF, domid, 4000, om, DOMID_SELF, 0, 200, GNTCOPY_source_gref),
		  GNTST_bad_copy_arg);
	expect_eq(copy(om, domid, 0, om, DOMID_SELF, 0, 8, 0), GNTST_permission_denied);
	expect_eq(copy(REF_RO, domid, 0, om, DOMID_SELF, 0, 8, GNTCOPY_source_gref), GNTST_okay);
	expect_eq(copy(om, DOMID_SELF, 0, REF_RO, domid, 0, 8, GNTCOPY_dest_gref),
		  GNTST_general_error); /* a read-only grant */
	expect_eq(copy(4096, domid, 0, om, DOMID_SELF, 0, 8, GNTCOPY_source_gref), GNTST_bad_gntref);
	printf("grant: copied from and to the grant\n");
}

static void refusals(volatile char *page)
{
	uint32_t h;

	grant(REF, page, GTF_permit_access);
	expect_eq(map(REF, domid, 0, 0, &h), GNTST_bad_gntref);          /* neither host nor device */
	expect_eq(map(512, domid, GNTMAP_host_map, 0, &h), GNTST_bad_gntref); /* beyond the table */
	expect_eq(map(REF, 7, GNTMAP_host_map, 0, &h), GNTST_bad_domain);
	expect_eq(map(REF, DOMID_SELF, GNTMAP_host_map, 0, &h), GNTST_bad_domain); /* as Xen */
	expect_eq(map(REF, 0, GNTMAP_host_map, 0, &h), GNTST_general_error); /* dom0 grants nothing */
	expect_eq(map(REF + 1, domid, GNTMAP_host_map, 0, &h), GNTST_general_error); /* no grant */
	expect_eq(map(REF, domid, GNTMAP_host_map, 0x7f8000000000ul, &h), GNTST_general_error);
	expect_eq(v1[REF].flags, GTF_permit_access);
	expect_eq(unmap(1u << 20, 0, 0), GNTST_bad_handle); /* beyond any table */
	expect_eq(unmap(500, 0, 0), GNTST_bad_handle);     /* not in use */
	printf("grant: bad references, domains, addresses and handles get Xen's status codes\n");
}

/* Version 2: entries of 16 bytes, GTF_reading/GTF_writing in status frames. */
static void version2(volatile char *page)
{
	struct gnttab_set_version ver = { 2 };
	uint64_t sframe = 0;
	struct gnttab_get_status_frames gs = { 1, DOMID_SELF, 99, (uint64_t)&sframe };
	volatile uint16_t *status = rt_alloc_page();
	volatile char *alias = rt_alloc_page();
	uint32_t h;

	expect_eq(gnttab(GNTTABOP_set_version, &ver, 1), 0);
	expect_eq(gnttab(GNTTABOP_get_status_frames, &gs, 1), 0);
	expect_eq(gs.status, GNTST_okay);
	expect_eq(HYPERVISOR_update_va_mapping((uint64_t)status, pte(sframe, PTE_RO), UVMF_INVLPG), 0);
	v2[REF].domid = domid;
	v2[REF].frame = virt_to_mfn(page);
	v2[REF].flags = GTF_permit_access;
	expect_eq(map(REF, domid, GNTMAP_host_map, (uint64_t)alias, &h), GNTST_okay);
	expect_eq(status[REF], GTF_reading | GTF_writing);
	page[3] = 'v';
	expect_eq(alias[3], 'v');
	ver.version = 1;
	expect_eq(gnttab(GNTTABOP_set_version, &ver, 1), -XEN_EBUSY); /* a grant in use */
	expect_eq(unmap(h, (uint64_t)alias, 0), GNTST_okay);
	expect_eq(status[REF], 0);
	expect_eq(ver.version, 2); /* the version in force is written back */
	ver.version = 1;
	expect_eq(gnttab(GNTTABOP_set_version, &ver, 1), -XEN_EBUSY); /* its status frame is mapped */
	expect_eq(HYPERVISOR_update_va_mapping((uint64_t)status, 0, UVMF_INVLPG), 0);
	ver.version = 1;
	expect_eq(gnttab(GNTTABOP_set_version, &ver, 1), 0);
	expect_eq(HYPERVISOR_update_va_mapping((uint64_t)status, pte(sframe, PTE_RO), UVMF_INVLPG),
		  -XEN_EINVAL); /* the status frame is Xen's again */
	printf("grant: version 2 entries and status frames, and back to version 1\n");
}

int guest_main(struct start_info *si)
{
	volatile char *page = rt_alloc_page();

	(void)si;
	domid = own_domid();
	guest_assert(domid != 0 && domid < DOMID_SELF);
	v1 = map_table();
	v2 = (volatile struct grant_entry_v2 *)v1;
	map_by_address(page);
	references();
	map_by_pte(page);
	read_only(page);
	copies(page);
	refusals(page);
	version2(page);
	return 0;
}
