/* check_grant.c - grant-table operations on a fixture domain granting to
 * itself: the status codes and errors Xen gives for each refusal, the
 * entry flags while in use, and the frame references mappings hold. */
#include <check.h>
#include <string.h>

#include "fixture.h"
#include "hypercalls/hc.h"
#include "mmu/mmu.h"

#define SELF VM_DOMID

static struct vm *vm;
static uint64_t arg;   /* a scratch page the hypercalls read their arguments from */
static uint64_t data;  /* frames nothing maps: data, data + 1 */
static uint64_t va;    /* a mapped page whose PTE mappings may replace */

static int discard(void *ctx, const struct stub_op *op)
{
	(void)ctx, (void)op;
	return 0;
}

static void counts_ok(void)
{
	char why[400];

	ck_assert_msg(mmu_check_counts(vm, why, sizeof(why)) == 0, "%s", why);
}

static void setup(void)
{
	vm = fixture_vm();
	vm->mmu.emit = discard;
	arg = vm->lay.start_info_va + 2048;
	data = vm->lay.first_free_pfn;
	va = vm->lay.v_end - 4096;
}

static void teardown(void)
{
	counts_ok();
	fixture_free(vm);
}

static void *at(uint64_t gva) { return vm->mem + (gva - vm->lay.v_start); }

static int64_t op(unsigned cmd, const void *req, size_t len, uint32_t count)
{
	struct stub_regs *r = &vm->vcpu.regs;

	memcpy(at(arg), req, len);
	memset(r, 0, sizeof(*r));
	r->rax = XEN_HC_grant_table_op, r->rdi = cmd, r->rsi = arg, r->rdx = count;
	hc_dispatch(vm);
	return (int64_t)r->rax;
}

static struct grant_entry_v1 *e1(uint32_t ref)
{
	return (struct grant_entry_v1 *)mmu_frame_data(vm, mmu_grant_frame(vm, 0)) + ref;
}

static void grant(uint32_t ref, uint64_t frame, uint16_t flags, uint16_t dom)
{
	*e1(ref) = (struct grant_entry_v1){ flags, dom, (uint32_t)frame };
}

/* Map and return the status (the handle in *h when it is okay). */
static int16_t map(uint32_t ref, uint16_t dom, uint32_t flags, uint64_t addr, uint32_t *h)
{
	struct gnttab_map_grant_ref m = { addr, flags, ref, dom, 99, 0, 0 };

	ck_assert_int_eq(op(GNTTABOP_map_grant_ref, &m, sizeof(m), 1), 0);
	memcpy(&m, at(arg), sizeof(m));
	if (h)
		*h = m.handle;
	return m.status;
}

static int16_t unmap(uint32_t h, uint64_t host, uint64_t dev)
{
	struct gnttab_unmap_grant_ref u = { host, dev, h, 99, 0 };

	ck_assert_int_eq(op(GNTTABOP_unmap_grant_ref, &u, sizeof(u), 1), 0);
	return ((struct gnttab_unmap_grant_ref *)at(arg))->status;
}

static uint64_t l1e_of(uint64_t addr)
{
	uint64_t l1, old;
	unsigned idx;

	ck_assert_int_eq(mmu_grant_l1e(vm, addr, 0, &l1, &idx, &old), 0);
	return l1 * 4096 + idx * 8;
}

static uint64_t pte_at(uint64_t addr)
{
	uint64_t l1, old;
	unsigned idx;

	ck_assert_int_eq(mmu_grant_l1e(vm, addr, 0, &l1, &idx, &old), 0);
	return old;
}

START_TEST(map_refusals)
{
	grant(8, data, GTF_permit_access, SELF);
	grant(9, data, GTF_permit_access, 7);                 /* granted to another domain */
	grant(10, data, GTF_permit_access | GTF_readonly, SELF);
	grant(11, vm->nr_frames + 3, GTF_permit_access, SELF); /* no such frame */
	grant(12, mmu_grant_frame(vm, 5), GTF_permit_access, SELF); /* not set up */
	ck_assert_int_eq(map(8, SELF, 0, va, NULL), GNTST_bad_gntref);
	ck_assert_int_eq(map(8, 7, GNTMAP_host_map, va, NULL), GNTST_bad_domain);
	ck_assert_int_eq(map(8, DOMID_SELF, GNTMAP_host_map, va, NULL), GNTST_bad_domain);
	ck_assert_int_eq(map(8, 0, GNTMAP_host_map, va, NULL), GNTST_general_error);
	ck_assert_int_eq(map(600, 0, GNTMAP_host_map, va, NULL), GNTST_bad_gntref);
	ck_assert_int_eq(map(512, SELF, GNTMAP_host_map, va, NULL), GNTST_bad_gntref);
	ck_assert_int_eq(map(7, SELF, GNTMAP_host_map, va, NULL), GNTST_general_error);
	ck_assert_int_eq(map(9, SELF, GNTMAP_host_map, va, NULL), GNTST_general_error);
	ck_assert_int_eq(map(10, SELF, GNTMAP_host_map, va, NULL), GNTST_general_error);
	ck_assert_int_eq(map(11, SELF, GNTMAP_host_map, va, NULL), GNTST_bad_page);
	ck_assert_int_eq(map(12, SELF, GNTMAP_host_map, va, NULL), GNTST_bad_page);
	ck_assert_int_eq(map(8, SELF, GNTMAP_host_map, HOLE_BASE, NULL), GNTST_general_error);
	ck_assert_int_eq(map(8, SELF, GNTMAP_host_map | GNTMAP_contains_pte, va, NULL),
			 GNTST_general_error); /* not an L1's address */
	/* nothing stayed in use */
	ck_assert_uint_eq(e1(8)->flags, GTF_permit_access);
	ck_assert_uint_eq(e1(11)->flags, GTF_permit_access);
	ck_assert_uint_eq(vm->grant.active[8].pin, 0);
	ck_assert_uint_eq(vm->mmu.frames[data].refs, 0);
}
END_TEST

START_TEST(map_sets_flags_and_references)
{
	uint64_t old = pte_at(va);
	uint32_t h, h2;

	grant(8, data, GTF_permit_access, SELF);
	ck_assert_int_eq(map(8, SELF, GNTMAP_host_map, va, &h), GNTST_okay);
	ck_assert_uint_eq(e1(8)->flags, GTF_permit_access | GTF_reading | GTF_writing);
	ck_assert_uint_eq(pte_at(va), (data << 12) | PTE_P | PTE_RW | PTE_A | PTE_D | PTE_NX);
	ck_assert_uint_eq(vm->mmu.frames[data].type, PGT_WRITABLE);
	ck_assert_uint_eq(vm->mmu.frames[data].type_count, 1);
	ck_assert_uint_eq(vm->mmu.frames[old >> 12 & 0xfffffffff].refs, 0); /* the PTE it replaced */
	ck_assert_int_eq(mmu_pin(vm, _mfn(data), 1), -XEN_EINVAL);
	counts_ok();
	/* a read-only device mapping of the same grant: one more reference */
	ck_assert_int_eq(map(8, SELF, GNTMAP_device_map | GNTMAP_readonly, 0, &h2), GNTST_okay);
	ck_assert_uint_ne(h2, h);
	ck_assert_uint_eq(vm->mmu.frames[data].refs, 2);
	counts_ok();
	ck_assert_int_eq(unmap(h, va + 4096, 0), GNTST_general_error); /* not its address */
	ck_assert_int_eq(unmap(h, va, data << 12), GNTST_okay); /* host only: no device map */
	ck_assert_uint_eq(pte_at(va), 0);
	ck_assert_uint_eq(e1(8)->flags, GTF_permit_access | GTF_reading);
	ck_assert_uint_eq(vm->mmu.frames[data].type_count, 0);
	ck_assert_int_eq(unmap(h, va, 0), GNTST_bad_handle);
	ck_assert_int_eq(unmap(h2, 0, (data + 1) << 12), GNTST_general_error);
	ck_assert_int_eq(unmap(h2, 0, 0), GNTST_okay); /* nothing asked, nothing done */
	ck_assert_int_eq(unmap(h2, 0, data << 12), GNTST_okay);
	ck_assert_uint_eq(e1(8)->flags, GTF_permit_access);
	ck_assert_uint_eq(vm->mmu.frames[data].refs, 0);
	ck_assert_int_eq(unmap(VM_GRANT_HANDLES, 0, 0), GNTST_bad_handle);
}
END_TEST

START_TEST(writable_needs_a_writable_frame)
{
	uint32_t h;

	ck_assert_int_eq(mmu_pin(vm, _mfn(data), 1), 0); /* a page table now */
	grant(8, data, GTF_permit_access, SELF);
	ck_assert_int_eq(map(8, SELF, GNTMAP_host_map, va, NULL), GNTST_general_error);
	ck_assert_int_eq(map(8, SELF, GNTMAP_device_map, 0, NULL), GNTST_general_error);
	ck_assert_uint_eq(e1(8)->flags, GTF_permit_access);
	ck_assert_int_eq(map(8, SELF, GNTMAP_host_map | GNTMAP_readonly, va, &h), GNTST_okay);
	ck_assert_uint_eq(e1(8)->flags, GTF_permit_access | GTF_reading);
	ck_assert_int_eq(unmap(h, va, 0), GNTST_okay);
	ck_assert_int_eq(mmu_unpin(vm, _mfn(data)), 0);
}
END_TEST

START_TEST(map_by_pte)
{
	uint64_t l1, old;
	unsigned idx;
	uint32_t h;

	ck_assert_int_eq(mmu_grant_l1e(vm, va, 0, &l1, &idx, &old), 0);
	grant(8, data, GTF_permit_access, SELF);
	ck_assert_int_eq(map(8, SELF, GNTMAP_host_map | GNTMAP_contains_pte, l1 * 4096 + idx * 8 - 2,
			     NULL), GNTST_general_error); /* misaligned: XSA-227 */
	ck_assert_uint_eq(pte_at(va), old);
	ck_assert_int_eq(map(8, SELF, GNTMAP_host_map | GNTMAP_contains_pte | (5u << 16),
			     l1 * 4096 + idx * 8, &h), GNTST_okay);
	ck_assert_uint_eq(pte_at(va), (data << 12) | PTE_P | PTE_RW | PTE_A | PTE_D | PTE_NX |
					      (5u << 9)); /* the guest's available bits */
	ck_assert_int_eq(unmap(h, va, 0), GNTST_general_error);
	ck_assert_int_eq(unmap(h, l1 * 4096 + idx * 8, 0), GNTST_okay);
}
END_TEST

START_TEST(unmap_and_replace)
{
	uint64_t other = va - 4096, moved = pte_at(other);
	struct gnttab_unmap_and_replace u = { va, other, 0, 99, 0 };
	uint32_t h;

	grant(8, data, GTF_permit_access, SELF);
	ck_assert_int_eq(map(8, SELF, GNTMAP_host_map | GNTMAP_contains_pte, l1e_of(va), &h),
			 GNTST_okay);
	u.handle = h, u.host_addr = l1e_of(va);
	ck_assert_int_eq(op(GNTTABOP_unmap_and_replace, &u, sizeof(u), 1), 0);
	ck_assert_int_eq(((struct gnttab_unmap_and_replace *)at(arg))->status, GNTST_general_error);
	ck_assert_uint_eq(pte_at(other), moved); /* no replacing by PTE address: nothing moved */
	ck_assert_int_eq(unmap(h, l1e_of(va), 0), GNTST_okay);
	ck_assert_int_eq(map(8, SELF, GNTMAP_host_map, va, &h), GNTST_okay);
	u.handle = h, u.host_addr = va;
	ck_assert_int_eq(op(GNTTABOP_unmap_and_replace, &u, sizeof(u), 1), 0);
	ck_assert_int_eq(((struct gnttab_unmap_and_replace *)at(arg))->status, GNTST_okay);
	ck_assert_uint_eq(pte_at(va), moved);   /* other's PTE moved to va */
	ck_assert_uint_eq(pte_at(other), 0);
	ck_assert_uint_eq(vm->mmu.frames[data].refs, 0);
	ck_assert_uint_eq(e1(8)->flags, GTF_permit_access);
}
END_TEST

START_TEST(handles_and_pins_run_out)
{
	grant(8, data, GTF_permit_access, SELF);
	for (unsigned i = 0; i < 128; i++)
		ck_assert_int_eq(map(8, SELF, GNTMAP_device_map | GNTMAP_readonly, 0, NULL), GNTST_okay);
	/* a pin count is eight bits: Xen refuses one that would reach its top bit */
	ck_assert_int_eq(map(8, SELF, GNTMAP_device_map | GNTMAP_readonly, 0, NULL),
			 GNTST_general_error);
	ck_assert_uint_eq(vm->mmu.frames[data].refs, 128);
	counts_ok();
	for (uint32_t h = 0; h < 128; h++)
		ck_assert_int_eq(unmap(h, 0, data << 12), GNTST_okay);
	ck_assert_uint_eq(vm->mmu.frames[data].refs, 0);
	ck_assert_uint_eq(e1(8)->flags, GTF_permit_access);
	for (uint32_t i = 0; i < VM_GRANT_HANDLES; i++)
		vm->grant.map[i].flags = GNTMAP_host_map; /* every handle in use */
	ck_assert_int_eq(map(8, SELF, GNTMAP_device_map, 0, NULL), GNTST_no_device_space);
	memset(vm->grant.map, 0, sizeof(vm->grant.map));
}
END_TEST

static int16_t copy(uint64_t src, uint16_t sdom, uint16_t soff, uint64_t dst, uint16_t ddom,
		    uint16_t doff, uint16_t len, uint16_t flags)
{
	struct gnttab_copy c = { { src, sdom, soff, 0 }, { dst, ddom, doff, 0 }, len, flags, 99, 0 };

	ck_assert_int_eq(op(GNTTABOP_copy, &c, sizeof(c), 1), 0);
	return ((struct gnttab_copy *)at(arg))->status;
}

START_TEST(copy_rules)
{
	uint8_t *src = mmu_frame_data(vm, data), *dst = mmu_frame_data(vm, data + 1);

	memcpy(src + 10, "hello", 6);
	grant(8, data, GTF_permit_access, SELF);
	grant(9, data + 1, GTF_permit_access | GTF_readonly, SELF);
	ck_assert_int_eq(copy(8, SELF, 10, data + 1, DOMID_SELF, 20, 6, GNTCOPY_source_gref),
			 GNTST_okay);
	ck_assert_str_eq((char *)dst + 20, "hello");
	ck_assert_uint_eq(e1(8)->flags, GTF_permit_access);
	ck_assert_int_eq(copy(data, DOMID_SELF, 4000, data + 1, DOMID_SELF, 0, 100, 0),
			 GNTST_bad_copy_arg);
	ck_assert_int_eq(copy(data, SELF, 0, data + 1, DOMID_SELF, 0, 8, 0),
			 GNTST_permission_denied); /* frames only for DOMID_SELF */
	ck_assert_int_eq(copy(8, 7, 0, data + 1, DOMID_SELF, 0, 8, GNTCOPY_source_gref),
			 GNTST_bad_domain);
	ck_assert_int_eq(copy(8, 0, 0, data + 1, DOMID_SELF, 0, 8, GNTCOPY_source_gref),
			 GNTST_general_error); /* domain 0 grants nothing */
	ck_assert_int_eq(copy(data, DOMID_SELF, 0, 9, SELF, 0, 8, GNTCOPY_dest_gref),
			 GNTST_general_error); /* a read-only grant */
	ck_assert_uint_eq(e1(9)->flags, GTF_permit_access | GTF_readonly);
	ck_assert_int_eq(copy(vm->nr_frames, DOMID_SELF, 0, data, DOMID_SELF, 0, 8, 0),
			 GNTST_bad_page);
	ck_assert_int_eq(copy(data, DOMID_SELF, 0, vm->lay.pt_first_pfn, DOMID_SELF, 0, 8, 0),
			 GNTST_general_error); /* the destination is a page table */
	ck_assert_int_eq(copy(4096, SELF, 0, data, DOMID_SELF, 0, 8, GNTCOPY_source_gref),
			 GNTST_bad_gntref);
	ck_assert_uint_eq(vm->mmu.frames[data + 1].type_count, 0);
}
END_TEST

static int64_t set_version(uint32_t v, uint32_t *now)
{
	int64_t rc = op(GNTTABOP_set_version, &v, sizeof(v), 1);

	memcpy(now, at(arg), sizeof(*now));
	return rc;
}

START_TEST(versions)
{
	struct grant_entry_v2 *e2 = (struct grant_entry_v2 *)e1(0);
	struct gnttab_get_status_frames gs = { 1, DOMID_SELF, 99, arg + 64 };
	uint32_t now, h;

	ck_assert_int_eq(set_version(3, &now), -XEN_EINVAL);
	ck_assert_uint_eq(now, 1);
	ck_assert_int_eq(op(GNTTABOP_get_status_frames, &gs, sizeof(gs), 1), 0);
	ck_assert_int_eq(((struct gnttab_get_status_frames *)at(arg))->status, GNTST_general_error);
	ck_assert(!mmu_owned(vm, mmu_status_frame(vm, 0)));
	grant(1, 0x1234, GTF_permit_access | GTF_reading, 3);   /* reserved: kept */
	grant(20, data, GTF_permit_access, SELF);              /* not kept */
	ck_assert_int_eq(map(20, SELF, GNTMAP_device_map, 0, &h), GNTST_okay);
	ck_assert_int_eq(set_version(2, &now), -XEN_EBUSY);     /* an entry in use */
	ck_assert_int_eq(unmap(h, 0, data << 12), GNTST_okay);
	ck_assert_int_eq(set_version(2, &now), 0);
	ck_assert_uint_eq(now, 2);
	ck_assert(mmu_owned(vm, mmu_status_frame(vm, 0)));
	ck_assert_uint_eq(e2[1].flags, GTF_permit_access);
	ck_assert_uint_eq(e2[1].domid, 3);
	ck_assert_uint_eq(e2[1].frame, 0x1234);
	ck_assert_uint_eq(*(uint16_t *)(mmu_frame_data(vm, mmu_status_frame(vm, 0)) + 2), GTF_reading);
	ck_assert_uint_eq(e2[20].flags, 0);
	/* v2 only: sub-page grants cannot be mapped, and copies stay in their bytes */
	e2[30] = (struct grant_entry_v2){ GTF_permit_access | GTF_sub_page, SELF, 100 | (50u << 16),
					  data };
	ck_assert_int_eq(map(30, SELF, GNTMAP_host_map, va, NULL), GNTST_general_error);
	ck_assert_int_eq(copy(30, SELF, 100, data + 1, DOMID_SELF, 0, 50, GNTCOPY_source_gref),
			 GNTST_okay);
	ck_assert_int_eq(copy(30, SELF, 99, data + 1, DOMID_SELF, 0, 50, GNTCOPY_source_gref),
			 GNTST_general_error);
	e2[31] = (struct grant_entry_v2){ GTF_transitive, SELF, SELF, 30 };
	ck_assert_int_eq(copy(31, SELF, 0, data + 1, DOMID_SELF, 0, 8, GNTCOPY_source_gref),
			 GNTST_general_error); /* transitive to itself */
	ck_assert_uint_eq(*(uint16_t *)(mmu_frame_data(vm, mmu_status_frame(vm, 0)) + 62), 0);
	ck_assert_int_eq(op(GNTTABOP_get_status_frames, &gs, sizeof(gs), 1), 0);
	ck_assert_int_eq(((struct gnttab_get_status_frames *)at(arg))->status, GNTST_okay);
	ck_assert_uint_eq(*(uint64_t *)at(arg + 64), mmu_status_frame(vm, 0));
	/* back to 1: a status frame still mapped keeps it at 2 */
	ck_assert_int_eq(mmu_get_page(vm, mmu_status_frame(vm, 0)), 0);
	ck_assert_int_eq(set_version(1, &now), -XEN_EBUSY);
	ck_assert_uint_eq(now, 2);
	mmu_put_page(vm, mmu_status_frame(vm, 0));
	e2[2] = (struct grant_entry_v2){ GTF_permit_access, SELF, 0, 1ull << 32 };
	ck_assert_int_eq(set_version(1, &now), -XEN_ERANGE); /* v1 cannot hold it */
	e2[2].frame = data;
	ck_assert_int_eq(set_version(1, &now), 0);
	ck_assert_uint_eq(e1(1)->flags, GTF_permit_access | GTF_reading);
	ck_assert_uint_eq(e1(1)->frame, 0x1234);
	ck_assert_uint_eq(e1(2)->frame, data);
	ck_assert(!mmu_owned(vm, mmu_status_frame(vm, 0)));
}
END_TEST

START_TEST(table_size_and_ownership)
{
	struct gnttab_setup_table st = { DOMID_SELF, 0, 6, 99, { 0 }, arg + 64 };
	struct gnttab_query_size q = { 0, 0, 0, 0, 99, 0 };
	struct gnttab_get_version gv = { 0, 0, 0 };

	ck_assert(mmu_owned(vm, mmu_grant_frame(vm, 0)));
	ck_assert(!mmu_owned(vm, mmu_grant_frame(vm, 5)));
	ck_assert_int_eq(mmu_update_va(vm, _gva(va), (mmu_grant_frame(vm, 5) << 12) | PTE_P), -XEN_EINVAL);
	ck_assert_uint_eq(vm->mmu.why, VM_WHY_NOT_OWNED);
	ck_assert_int_eq(op(GNTTABOP_setup_table, &st, sizeof(st), 2), -XEN_EINVAL);
	ck_assert_int_eq(op(GNTTABOP_setup_table, &st, sizeof(st), 1), 0);
	ck_assert_int_eq(((struct gnttab_setup_table *)at(arg))->status, GNTST_okay);
	ck_assert_uint_eq(*(uint64_t *)at(arg + 64 + 5 * 8), mmu_grant_frame(vm, 5));
	ck_assert(mmu_owned(vm, mmu_grant_frame(vm, 5)));
	ck_assert_int_eq(mmu_update_va(vm, _gva(va), (mmu_grant_frame(vm, 5) << 12) | PTE_P), 0);
	st.dom = 0; /* domain 0 exists, and this domain may not set its table up */
	ck_assert_int_eq(op(GNTTABOP_setup_table, &st, sizeof(st), 1), 0);
	ck_assert_int_eq(((struct gnttab_setup_table *)at(arg))->status, GNTST_permission_denied);
	ck_assert_int_eq(op(GNTTABOP_query_size, &q, sizeof(q), 1), 0);
	ck_assert_int_eq(((struct gnttab_query_size *)at(arg))->status, GNTST_permission_denied);
	ck_assert_int_eq(op(GNTTABOP_get_version, &gv, sizeof(gv), 1), -XEN_EPERM);
	gv.dom = 9;
	ck_assert_int_eq(op(GNTTABOP_get_version, &gv, sizeof(gv), 1), -XEN_ESRCH);
	q.dom = SELF;
	ck_assert_int_eq(op(GNTTABOP_query_size, &q, sizeof(q), 1), 0);
	ck_assert_uint_eq(((struct gnttab_query_size *)at(arg))->nr_frames, 6);
	ck_assert_uint_eq(((struct gnttab_query_size *)at(arg))->max_nr_frames, LOADER_GRANT_FRAMES);
	st.dom = DOMID_SELF, st.frame_list = 0xffff800000001000ull; /* Xen's own range */
	ck_assert_int_eq(op(GNTTABOP_setup_table, &st, sizeof(st), 1), -XEN_EFAULT);
}
END_TEST

START_TEST(swap_and_dispatch)
{
	struct gnttab_swap_grant_ref sw = { 8, 9, 99, 0 };
	struct gnttab_cache_flush cf = { data << 12, 0, 4096, GNTTAB_CACHE_CLEAN };
	uint32_t h;

	grant(8, data, GTF_permit_access, SELF);
	grant(9, data + 1, GTF_permit_access | GTF_readonly, SELF);
	ck_assert_int_eq(op(GNTTABOP_swap_grant_ref, &sw, sizeof(sw), 1), 0);
	ck_assert_uint_eq(e1(8)->frame, data + 1);
	ck_assert_uint_eq(e1(9)->frame, data);
	ck_assert_int_eq(map(8, SELF, GNTMAP_device_map | GNTMAP_readonly, 0, &h), GNTST_okay);
	ck_assert_int_eq(op(GNTTABOP_swap_grant_ref, &sw, sizeof(sw), 1), 0);
	ck_assert_int_eq(((struct gnttab_swap_grant_ref *)at(arg))->status, GNTST_eagain);
	ck_assert_int_eq(unmap(h, 0, (data + 1) << 12), GNTST_okay);
	sw.ref_b = 512;
	ck_assert_int_eq(op(GNTTABOP_swap_grant_ref, &sw, sizeof(sw), 1), 0);
	ck_assert_int_eq(((struct gnttab_swap_grant_ref *)at(arg))->status, GNTST_bad_gntref);
	/* cache flush, as Xen 4.19 on x86 */
	ck_assert_int_eq(op(GNTTABOP_cache_flush, &cf, sizeof(cf), 1), 0);
	cf.op = GNTTAB_CACHE_INVAL;
	ck_assert_int_eq(op(GNTTABOP_cache_flush, &cf, sizeof(cf), 1), -XEN_EOPNOTSUPP);
	cf.op = GNTTAB_CACHE_CLEAN | GNTTAB_CACHE_SOURCE_GREF;
	ck_assert_int_eq(op(GNTTABOP_cache_flush, &cf, sizeof(cf), 1), -XEN_EINVAL);
	cf.op = GNTTAB_CACHE_CLEAN, cf.offset = 8;
	ck_assert_int_eq(op(GNTTABOP_cache_flush, &cf, sizeof(cf), 1), -XEN_EINVAL);
	cf.offset = 0, cf.dev_bus_addr = mmu_grant_frame(vm, 3) << 12;
	ck_assert_int_eq(op(GNTTABOP_cache_flush, &cf, sizeof(cf), 1), -XEN_EPERM);
	cf.dev_bus_addr = vm->nr_frames << 12;
	ck_assert_int_eq(op(GNTTABOP_cache_flush, &cf, sizeof(cf), 1), -XEN_EINVAL);
	cf.length = 0;
	ck_assert_int_eq(op(GNTTABOP_cache_flush | (1u << 12), &cf, sizeof(cf), 1), -XEN_EILSEQ);
	/* the call itself */
	ck_assert_int_eq(op(GNTTABOP_query_size | (1u << 12), &cf, sizeof(cf), 1), -XEN_EINVAL);
	ck_assert_int_eq(op(GNTTABOP_copy, &cf, sizeof(cf), 0x80000000u), -XEN_EINVAL);
	ck_assert_int_eq(op(GNTTABOP_transfer, &cf, sizeof(cf), 1), -XEN_ENOSYS);
	ck_assert_int_eq(op(GNTTABOP_dump_table, &cf, sizeof(cf), 1), -XEN_ENOSYS);
	ck_assert_int_eq(op(13, &cf, sizeof(cf), 1), -XEN_ENOSYS);
}
END_TEST

/* XTF learns its domain id from an unbound port for itself. */
START_TEST(unbound_port_names_its_domain)
{
	struct stub_regs *r = &vm->vcpu.regs;
	struct evtchn_alloc_unbound un = { DOMID_SELF, DOMID_SELF, 0 };
	struct evtchn_status st = { DOMID_SELF, 0, 0, 0, 0, { { 0 } } };

	memcpy(at(arg), &un, sizeof(un));
	memset(r, 0, sizeof(*r));
	r->rax = XEN_HC_event_channel_op, r->rdi = EVTCHNOP_alloc_unbound, r->rsi = arg;
	hc_dispatch(vm);
	ck_assert_int_eq((int64_t)r->rax, 0);
	st.port = ((struct evtchn_alloc_unbound *)at(arg))->port;
	memcpy(at(arg), &st, sizeof(st));
	r->rax = XEN_HC_event_channel_op, r->rdi = EVTCHNOP_status, r->rsi = arg;
	hc_dispatch(vm);
	ck_assert_int_eq((int64_t)r->rax, 0);
	ck_assert_uint_eq(((struct evtchn_status *)at(arg))->u.unbound.dom, SELF);
}
END_TEST

Suite *grant_suite(void);

Suite *grant_suite(void)
{
	Suite *s = suite_create("grant");
	TCase *tc = tcase_create("grant");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, map_refusals);
	tcase_add_test(tc, map_sets_flags_and_references);
	tcase_add_test(tc, writable_needs_a_writable_frame);
	tcase_add_test(tc, map_by_pte);
	tcase_add_test(tc, unmap_and_replace);
	tcase_add_test(tc, handles_and_pins_run_out);
	tcase_add_test(tc, copy_rules);
	tcase_add_test(tc, versions);
	tcase_add_test(tc, table_size_and_ownership);
	tcase_add_test(tc, swap_and_dispatch);
	tcase_add_test(tc, unbound_port_names_its_domain);
	suite_add_tcase(s, tc);
	return s;
}
