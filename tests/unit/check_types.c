/* check_types.c - types and references through promote/demote, pins,
 * base pointers, explicit updates, host sync and the model checker. */
#include <check.h>
#include <errno.h>
#include <string.h>
#include <sys/mman.h>

#include "fixture.h"
#include "mmu/mmu.h"

#define T (PTE_P | PTE_RW | PTE_US | PTE_A)
#define R (PTE_P | PTE_US | PTE_A)

static struct vm *vm;
static uint64_t free0; /* first of the frames nothing maps */

static uint64_t *tab(uint64_t mfn) { return (uint64_t *)(vm->mem + mfn * 4096); }
static const struct mmu_frame *fr(uint64_t mfn) { return &vm->mmu.frames[mfn]; }
static uint64_t l4(void) { return vm->lay.pt_first_pfn; }
static uint64_t l3(void) { return vm->lay.pt_first_pfn + 1; }
static uint64_t l2(void) { return vm->lay.pt_first_pfn + 2; }
static uint64_t l1(void) { return vm->lay.pt_first_pfn + 3; }

static void counts_ok(void)
{
	char why[400];
	ck_assert_msg(mmu_check_counts(vm, why, sizeof(why)) == 0, "%s", why);
}

static void setup(void)
{
	vm = fixture_vm();
	free0 = vm->lay.first_free_pfn;
}

static void teardown(void)
{
	counts_ok();
	fixture_free(vm);
}

START_TEST(bootstrap_is_pinned_and_validated)
{
	ck_assert_uint_eq(fr(l4())->type, PGT_L4);
	ck_assert(fr(l4())->pinned);
	ck_assert_uint_eq(fr(l4())->type_count, 2); /* the pin and the base pointer */
	ck_assert_uint_eq(fr(l3())->type, PGT_L3);
	ck_assert_uint_eq(fr(l2())->type, PGT_L2);
	ck_assert_uint_eq(fr(l1())->type, PGT_L1);
	ck_assert_uint_eq(fr(0)->type, PGT_WRITABLE); /* image text is mapped rw by the builder */
	ck_assert_uint_eq(vm->mmu.count.validations, 5);
}
END_TEST

START_TEST(pin_and_unpin)
{
	ck_assert_int_eq(mmu_pin(vm, _mfn(free0), 1), 0);
	ck_assert_uint_eq(fr(free0)->type, PGT_L1);
	ck_assert_int_eq(mmu_pin(vm, _mfn(free0), 1), -XEN_EINVAL);   /* already pinned */
	ck_assert_int_eq(mmu_unpin(vm, _mfn(free0)), 0);
	ck_assert_uint_eq(fr(free0)->type, PGT_NONE);
	ck_assert_uint_eq(fr(free0)->type_count, 0);
	ck_assert_int_eq(mmu_unpin(vm, _mfn(free0)), -XEN_EINVAL);
	ck_assert_int_eq(mmu_pin(vm, _mfn(free0), 5), -XEN_EINVAL);
	ck_assert_int_eq(mmu_pin(vm, _mfn(vm->nr_frames), 1), -XEN_EINVAL);
}
END_TEST

START_TEST(writable_mappings_block_promotion)
{
	uint64_t f = free0 + 1;

	ck_assert_int_eq(mmu_mod_entry(vm, _mfn(l1()), 400, (f << 12) | T, 0), 0);
	ck_assert_int_eq(mmu_mod_entry(vm, _mfn(l1()), 401, (f << 12) | T, 0), 0);
	ck_assert_uint_eq(fr(f)->type, PGT_WRITABLE);
	ck_assert_uint_eq(fr(f)->type_count, 2);
	ck_assert_int_eq(mmu_pin(vm, _mfn(f), 1), -XEN_EINVAL);
	ck_assert_int_eq(mmu_mod_entry(vm, _mfn(l1()), 400, 0, 0), 0);
	ck_assert_int_eq(mmu_pin(vm, _mfn(f), 1), -XEN_EINVAL);
	ck_assert_int_eq(mmu_mod_entry(vm, _mfn(l1()), 401, (f << 12) | R, 0), 0); /* now read-only */
	ck_assert_int_eq(mmu_pin(vm, _mfn(f), 1), 0);
	ck_assert_int_eq(mmu_mod_entry(vm, _mfn(l1()), 402, (f << 12) | T, 0), -XEN_EINVAL);
	counts_ok();
	ck_assert_int_eq(mmu_unpin(vm, _mfn(f)), 0);
}
END_TEST

/* A table whose promotion fails part-way leaves nothing behind. */
START_TEST(failed_promotion_rolls_back)
{
	uint64_t new_l2 = free0, good_l1 = free0 + 1, bad_l1 = free0 + 2;

	tab(bad_l1)[7] = (free0 + 3) << 12 | R | PTE_PCD; /* forbidden bit */
	tab(new_l2)[0] = good_l1 << 12 | T;
	tab(new_l2)[1] = bad_l1 << 12 | T;
	ck_assert_int_eq(mmu_mod_entry(vm, _mfn(l3()), 9, new_l2 << 12 | T, 0), -XEN_EINVAL);
	ck_assert_uint_eq(fr(new_l2)->type, PGT_NONE);
	ck_assert_uint_eq(fr(good_l1)->type, PGT_NONE);
	ck_assert_uint_eq(fr(good_l1)->type_count, 0);
	ck_assert_uint_eq(fr(bad_l1)->type, PGT_NONE);
	ck_assert_uint_eq(tab(l3())[9], 0);
	counts_ok();
	tab(bad_l1)[7] = 0;
	ck_assert_int_eq(mmu_mod_entry(vm, _mfn(l3()), 9, new_l2 << 12 | T, 0), 0);
	ck_assert_uint_eq(fr(good_l1)->type, PGT_L1);
	ck_assert_uint_eq(fr(bad_l1)->type, PGT_L1);
}
END_TEST

/* Unhooking the last reference demotes the whole subtree. */
START_TEST(demotion_releases_subtree)
{
	uint64_t new_l2 = free0, new_l1 = free0 + 1, page = free0 + 2;

	tab(new_l1)[0] = page << 12 | T;
	tab(new_l2)[0] = new_l1 << 12 | T;
	ck_assert_int_eq(mmu_mod_entry(vm, _mfn(l3()), 9, new_l2 << 12 | T, 0), 0);
	ck_assert_uint_eq(fr(page)->type, PGT_WRITABLE);
	ck_assert_int_eq(mmu_mod_entry(vm, _mfn(l3()), 9, 0, 0), 0);
	ck_assert_uint_eq(fr(new_l2)->type, PGT_NONE);
	ck_assert_uint_eq(fr(new_l1)->type, PGT_NONE);
	ck_assert_uint_eq(fr(page)->type, PGT_NONE);
	ck_assert_uint_eq(fr(page)->refs, 0);
	ck_assert_uint_ge(vm->mmu.count.devalidations, 2);
}
END_TEST

START_TEST(linear_entries_one_level_deep)
{
	uint64_t other_l2 = free0;

	/* an L2 linear entry in the bootstrap L2 to another L2 */
	ck_assert_int_eq(mmu_pin(vm, _mfn(other_l2), 2), 0);
	ck_assert_int_eq(mmu_mod_entry(vm, _mfn(l2()), 50, other_l2 << 12 | R, 0), 0);
	ck_assert_uint_eq(fr(l2())->linear_entries, 1);
	ck_assert_uint_eq(fr(other_l2)->linear_uses, 1);
	/* the target may not hold linear entries itself, nor the holder be a target */
	ck_assert_int_eq(mmu_mod_entry(vm, _mfn(other_l2), 3, l2() << 12 | R, 0), -XEN_EINVAL);
	counts_ok();
	ck_assert_int_eq(mmu_mod_entry(vm, _mfn(l2()), 50, 0, 0), 0);
	ck_assert_uint_eq(fr(other_l2)->linear_uses, 0);
	ck_assert_int_eq(mmu_mod_entry(vm, _mfn(other_l2), 3, l2() << 12 | R, 0), 0);
	ck_assert_int_eq(mmu_mod_entry(vm, _mfn(other_l2), 3, 0, 0), 0);
	ck_assert_int_eq(mmu_unpin(vm, _mfn(other_l2)), 0);
}
END_TEST

START_TEST(base_pointer_switch)
{
	uint64_t new_l4 = free0;

	tab(new_l4)[0] = tab(l4())[0];
	ck_assert_int_eq(mmu_new_baseptr(vm, _mfn(l2()), 0), -XEN_EINVAL);
	ck_assert_int_eq(mmu_new_baseptr(vm, _mfn(new_l4), 0), 0);
	ck_assert_uint_eq(vm->vcpu.kernel_l4, new_l4);
	ck_assert_uint_eq(fr(new_l4)->type, PGT_L4);
	ck_assert(!mmu_sync_pending(vm)); /* the same mappings: nothing to redo */
	ck_assert_uint_eq(fr(l4())->type_count, 1); /* only the pin now */
	ck_assert_int_eq(mmu_new_baseptr(vm, _mfn(l4()), 0), 0);
	ck_assert_uint_eq(fr(new_l4)->type, PGT_NONE); /* nothing holds it any more */
	ck_assert_int_eq(mmu_new_baseptr(vm, _mfn(l4()), 1), 0);
	ck_assert_uint_eq(vm->vcpu.user_l4, l4());
	ck_assert_int_eq(mmu_new_baseptr(vm, _mfn(0), 1), 0);
	ck_assert_uint_eq(vm->vcpu.user_l4, 0);
}
END_TEST

static const struct mmu_dirty *dirty_of(uint64_t mfn)
{
	for (unsigned i = 0; i < vm->mmu.ndirty; i++)
		if (vm->mmu.dirty[i].mfn == mfn)
			return &vm->mmu.dirty[i];
	return NULL;
}

/* A switch redoes only the slots where the two L4s differ, and a slot the
 * old L4 changed since the last sync even when they now agree. */
START_TEST(switch_marks_what_differs)
{
	uint64_t other = free0, l3b = free0 + 1;

	tab(other)[0] = tab(l4())[0];
	tab(other)[1] = l3b << 12 | T; /* an empty L3 in slot 1 */
	ck_assert_int_eq(mmu_pin(vm, _mfn(other), 4), 0);
	vm->mmu.dirty_all = 0, vm->mmu.ndirty = 0; /* as after a sync */
	ck_assert_int_eq(mmu_new_baseptr(vm, _mfn(other), 0), 0);
	ck_assert(!vm->mmu.dirty_all);
	ck_assert_uint_eq(vm->mmu.ndirty, 1);
	ck_assert_ptr_nonnull(dirty_of(other));
	ck_assert_uint_eq(dirty_of(other)->bits[0], 1u << 1);
	vm->mmu.ndirty = 0;
	ck_assert_int_eq(mmu_mod_entry(vm, _mfn(other), 1, 0, 0), 0); /* not synced yet */
	ck_assert_int_eq(mmu_new_baseptr(vm, _mfn(l4()), 0), 0);
	ck_assert_ptr_nonnull(dirty_of(l4()));
	ck_assert_uint_eq(dirty_of(l4())->bits[0], 1u << 1);
	ck_assert_int_eq(mmu_unpin(vm, _mfn(other)), 0);
}
END_TEST

/* The same tables reached with RW cleared higher up: every page differs,
 * and the sync maps all of them read-only. */
START_TEST(switch_follows_inherited_flags)
{
	uint64_t other = free0, l3b = free0 + 1;
	struct fixture_ops o = { .n = 0 };

	tab(l3b)[0] = tab(l3())[0] & ~PTE_RW;
	tab(other)[0] = l3b << 12 | T;
	ck_assert_int_eq(mmu_pin(vm, _mfn(other), 4), 0);
	vm->mmu.dirty_all = 0, vm->mmu.ndirty = 0;
	ck_assert_int_eq(mmu_new_baseptr(vm, _mfn(other), 0), 0);
	ck_assert(mmu_sync_pending(vm));
	vm->mmu.emit = fixture_collect, vm->mmu.emit_ctx = &o;
	ck_assert_int_eq(mmu_sync(vm), 0);
	ck_assert_uint_gt(o.n, 0);
	for (unsigned i = 0; i < o.n; i++)
		ck_assert(!(o.op[i].kind == STUB_OP_MMAP && (o.op[i].prot & PROT_WRITE)));
	ck_assert_int_eq(mmu_new_baseptr(vm, _mfn(l4()), 0), 0);
	ck_assert_int_eq(mmu_unpin(vm, _mfn(other)), 0);
	vm->mmu.emit = NULL;
}
END_TEST

/* With two spaces, switching to a new L4 runs it in a space of its own
 * (realised whole), a change made meanwhile is recorded for the parked
 * space, switching back is a hit that syncs only that change, and a parked
 * space whose L4 is demoted forgets it. */
START_TEST(spaces_keep_what_changed)
{
	uint64_t other = free0, l3b = free0 + 1;

	vm->mmu.nspaces = 2;
	vm->mmu.space[0].l4 = l4(); /* the fixture set the base pointer by hand */
	tab(other)[0] = tab(l4())[0];
	tab(other)[1] = l3b << 12 | T;
	ck_assert_int_eq(mmu_pin(vm, _mfn(other), 4), 0);
	vm->mmu.dirty_all = 0, vm->mmu.ndirty = 0; /* as after a sync */
	ck_assert_int_eq(mmu_new_baseptr(vm, _mfn(other), 0), 0);
	ck_assert_uint_eq(vm->mmu.space_cur, 1);
	ck_assert_uint_eq(vm->mmu.spaces.fresh, 1);
	ck_assert(vm->mmu.dirty_all); /* a process that never ran */
	vm->mmu.dirty_all = 0, vm->mmu.ndirty = 0;
	ck_assert_int_eq(mmu_mod_entry(vm, _mfn(other), 1, 0, 0), 0);
	ck_assert_int_eq(mmu_new_baseptr(vm, _mfn(l4()), 0), 0);
	ck_assert_uint_eq(vm->mmu.space_cur, 0);
	ck_assert_uint_eq(vm->mmu.spaces.hits, 1);
	ck_assert(!vm->mmu.dirty_all);
	ck_assert_uint_eq(vm->mmu.ndirty, 1); /* nothing but the change made while parked */
	ck_assert_ptr_nonnull(dirty_of(other));
	ck_assert_uint_eq(vm->mmu.space[1].l4, other);
	ck_assert_int_eq(mmu_unpin(vm, _mfn(other)), 0); /* demoted */
	ck_assert_uint_eq(vm->mmu.space[1].l4, 0);
	ck_assert(vm->mmu.space[1].pend.all);
	ck_assert_uint_eq(vm->mmu.spaces.forgotten, 1);
	/* back in use: the forgotten space takes it, realised whole; its
	 * process ran before, so it is no fresh one */
	ck_assert_int_eq(mmu_pin(vm, _mfn(other), 4), 0);
	vm->mmu.dirty_all = 0, vm->mmu.ndirty = 0;
	ck_assert_int_eq(mmu_new_baseptr(vm, _mfn(other), 0), 0);
	ck_assert_uint_eq(vm->mmu.space_cur, 1);
	ck_assert(vm->mmu.dirty_all);
	ck_assert_uint_eq(vm->mmu.spaces.fresh, 1);
	ck_assert_uint_eq(vm->mmu.spaces.retargets, 1);
	ck_assert_int_eq(mmu_new_baseptr(vm, _mfn(l4()), 0), 0);
	ck_assert_int_eq(mmu_unpin(vm, _mfn(other)), 0);
	vm->mmu.nspaces = 1;
}
END_TEST

/* Two trees of one aliased table per level would take 255 x 512 x 512
 * comparisons of L1 pairs: the switch gives up early and redoes it all. */
START_TEST(switch_of_aliased_trees_is_bounded)
{
	uint64_t la = free0, lb = free0 + 1, l3a = free0 + 2, l3b = free0 + 3;
	uint64_t l2a = free0 + 4, l2b = free0 + 5, l1a = free0 + 6, l1b = free0 + 7;

	for (unsigned i = 0; i < 512; i++) {
		tab(l1a)[i] = (uint64_t)i % 2 << 12 | R; /* frames 0 and 1, read-only */
		tab(l1b)[i] = (uint64_t)(i + 1) % 2 << 12 | R;
		tab(l2a)[i] = l1a << 12 | T, tab(l2b)[i] = l1b << 12 | T;
		tab(l3a)[i] = l2a << 12 | T, tab(l3b)[i] = l2b << 12 | T;
	}
	for (unsigned i = 0; i < 255; i++)
		tab(la)[i] = l3a << 12 | T, tab(lb)[i] = l3b << 12 | T;
	ck_assert_int_eq(mmu_pin(vm, _mfn(la), 4), 0);
	ck_assert_int_eq(mmu_pin(vm, _mfn(lb), 4), 0);
	vm->mmu.dirty_all = 0, vm->mmu.ndirty = 0;
	mmu_mark_switch(vm, _mfn(la), _mfn(lb));
	ck_assert(vm->mmu.dirty_all);
	ck_assert_int_eq(mmu_unpin(vm, _mfn(la)), 0);
	ck_assert_int_eq(mmu_unpin(vm, _mfn(lb)), 0);
}
END_TEST

START_TEST(update_requests)
{
	uint64_t page = free0;

	ck_assert_int_eq(mmu_mod_entry(vm, _mfn(l1()), 400, page << 12 | T | PTE_D, 0), 0);
	/* PRESERVE_AD keeps A and D of the old entry */
	ck_assert_int_eq(mmu_update_one(vm, (l1() << 12) + 400 * 8 + MMU_PT_UPDATE_PRESERVE_AD,
					page << 12 | PTE_P | PTE_RW), 0);
	ck_assert_uint_eq(tab(l1())[400], page << 12 | PTE_P | PTE_RW | PTE_A | PTE_D);
	/* a plain write to a frame that is no table */
	ck_assert_int_eq(mmu_update_one(vm, ((free0 + 5) << 12) + 16, 0x1122), 0);
	ck_assert_uint_eq(tab(free0 + 5)[2], 0x1122);
	/* which a table's content cannot be reached by */
	ck_assert_int_eq(mmu_update_one(vm, (l1() << 12) + 8 * 401 + 3, 0), -XEN_ENOSYS);
	ck_assert_int_eq(mmu_update_one(vm, (free0 << 12) | MMU_MACHPHYS_UPDATE, 77), 0);
	ck_assert_uint_eq(pfn_x(mmu_m2p(vm, _mfn(free0))), 77);
	ck_assert_uint_eq(pfn_x(mmu_m2p(vm, _mfn(free0 + 1))), free0 + 1);
	ck_assert_int_eq(mmu_update_one(vm, (vm->nr_frames << 12), 0), -XEN_EINVAL);
	ck_assert_int_eq(mmu_update_one(vm, (vm->nr_pages << 12) | MMU_MACHPHYS_UPDATE, 0), -XEN_EINVAL);
	/* update_va_mapping finds the L1 of the current tables */
	ck_assert_int_eq(mmu_update_va(vm, _gva(vm->lay.v_start + 5 * 4096), 0), 0);
	ck_assert_uint_eq(tab(l1())[5], 0);
	ck_assert_int_eq(mmu_update_va(vm, _gva(1ull << 30), 0), -XEN_EINVAL); /* no L1 there */
}
END_TEST


/* A change is realised exactly where the changed table is used. */
START_TEST(sync_realises_changed_ranges)
{
	struct fixture_ops o = { .n = 0 };
	uint64_t page = free0, new_l1 = free0 + 1, at100 = 100ull << 21, at101 = 101ull << 21;

	vm->mmu.emit = fixture_collect, vm->mmu.emit_ctx = &o;
	tab(new_l1)[0] = page << 12 | T;
	ck_assert_int_eq(mmu_mod_entry(vm, _mfn(l2()), 100, new_l1 << 12 | T, 0), 0);
	ck_assert_int_eq(mmu_sync(vm), 0);
	ck_assert_uint_eq(o.n, 2); /* the mapped page, then the rest of the 2 MiB unmapped */
	ck_assert_uint_eq(o.op[0].kind, STUB_OP_MMAP);
	ck_assert_uint_eq(o.op[0].addr, at100);
	ck_assert_uint_eq(o.op[0].len, 4096);
	ck_assert_uint_eq(o.op[0].off, page * 4096);
	ck_assert_uint_eq(o.op[0].prot, PROT_READ | PROT_WRITE | PROT_EXEC);
	ck_assert_uint_eq(o.op[1].kind, STUB_OP_MUNMAP);
	ck_assert_uint_eq(o.op[1].addr + o.op[1].len, at100 + (2ull << 20));
	/* hooked a second time; then one entry changes: both places follow */
	ck_assert_int_eq(mmu_mod_entry(vm, _mfn(l2()), 101, new_l1 << 12 | T, 0), 0);
	ck_assert_int_eq(mmu_sync(vm), 0);
	o.n = 0;
	ck_assert_int_eq(mmu_mod_entry(vm, _mfn(new_l1), 0, page << 12 | R | PTE_NX, 0), 0);
	ck_assert_int_eq(mmu_sync(vm), 0);
	ck_assert_uint_eq(o.n, 2);
	ck_assert_uint_eq(o.op[0].addr, at100);
	ck_assert_uint_eq(o.op[1].addr, at101);
	ck_assert_uint_eq(o.op[0].prot, PROT_READ);
	ck_assert_uint_eq(o.op[1].len, 4096);
	ck_assert_int_eq(mmu_mod_entry(vm, _mfn(l2()), 100, 0, 0), 0);
	ck_assert_int_eq(mmu_mod_entry(vm, _mfn(l2()), 101, 0, 0), 0);
	ck_assert_uint_eq(fr(new_l1)->type, PGT_NONE);
}
END_TEST

START_TEST(sync_realises_linear_maps_read_only)
{
	struct fixture_ops o = { .n = 0 };
	uint64_t slot = 10, va = slot << 39 | slot << 30 | slot << 21 | slot << 12;

	vm->mmu.emit = fixture_collect, vm->mmu.emit_ctx = &o;
	ck_assert_int_eq(mmu_mod_entry(vm, _mfn(l4()), (unsigned)slot, l4() << 12 | R, 0), 0);
	ck_assert_int_eq(mmu_sync(vm), 0);
	for (unsigned i = 0; i < o.n; i++) {
		const struct stub_op *op = &o.op[i];
		ck_assert(!(op->kind == STUB_OP_MMAP && (op->prot & PROT_WRITE)));
		if (op->kind == STUB_OP_MMAP && va >= op->addr && va < op->addr + op->len)
			ck_assert_uint_eq(op->off + (va - op->addr), l4() * 4096);
	}
	ck_assert_uint_gt(o.n, 0);
	ck_assert_int_eq(mmu_mod_entry(vm, _mfn(l4()), (unsigned)slot, 0, 0), 0);
}
END_TEST

/* The model checker accepts the truth and names each kind of lie. */
START_TEST(checker_compares_host_maps)
{
	const struct loader_layout *l = &vm->lay;
	uint64_t pt = l->pt_base_va, pt_end = pt + l->nr_pt_frames * 4096;
	uint64_t p2m = l->p2m_va, p2m_end = p2m + loader_p2m_frames(l) * 4096;
	int rwx = PROT_READ | PROT_WRITE | PROT_EXEC;
	struct mmu_host_map good[] = {
		{ l->v_start, p2m, 0, rwx, 1 },
		{ p2m, p2m_end, p2m - l->v_start, PROT_NONE, 1 }, /* written on first use */
		{ p2m_end, pt, p2m_end - l->v_start, rwx, 1 },
		{ pt, pt_end, (pt - l->v_start), PROT_READ | PROT_EXEC, 1 },
		{ pt_end, l->v_end, pt_end - l->v_start, rwx, 1 },
		{ HOLE_BASE, HOLE_BASE + 4096, 0, PROT_READ | PROT_EXEC, 0 }, /* the stub: ignored */
	};
	struct mmu_host_map bad[6];
	char why[400];

	ck_assert_int_eq(mmu_check_host(vm, good, 6, why, sizeof(why)), 0);
	ck_assert_int_eq(mmu_check_host(vm, good, 4, why, sizeof(why)), -EINVAL);
	ck_assert_ptr_nonnull(strstr(why, "missing on the host"));
	memcpy(bad, good, sizeof(bad));
	bad[3].prot |= PROT_WRITE;
	ck_assert_int_eq(mmu_check_host(vm, bad, 6, why, sizeof(why)), -EINVAL);
	ck_assert_ptr_nonnull(strstr(why, "tables say"));
	memcpy(bad, good, sizeof(bad));
	bad[1].prot = PROT_READ; /* a P2M frame readable before it was written */
	ck_assert_int_eq(mmu_check_host(vm, bad, 6, why, sizeof(why)), -EINVAL);
	ck_assert_ptr_nonnull(strstr(why, "tables say"));
	memcpy(bad, good, sizeof(bad));
	bad[5] = (struct mmu_host_map){ 0x100000, 0x101000, 0, PROT_READ, 0 };
	ck_assert_int_eq(mmu_check_host(vm, bad, 6, why, sizeof(why)), -EINVAL);
	ck_assert_ptr_nonnull(strstr(why, "not guest memory"));
	bad[5] = (struct mmu_host_map){ 1ull << 32, (1ull << 32) + 4096, 0, PROT_READ, 1 };
	ck_assert_int_eq(mmu_check_host(vm, bad, 6, why, sizeof(why)), -EINVAL);
	ck_assert_ptr_nonnull(strstr(why, "not in the tables"));
}
END_TEST

START_TEST(checker_counts_catch_drift)
{
	char why[400];

	vm->mmu.frames[l1()].type_count++;
	ck_assert_int_eq(mmu_check_counts(vm, why, sizeof(why)), -EINVAL);
	ck_assert_ptr_nonnull(strstr(why, "type count"));
	vm->mmu.frames[l1()].type_count--;
}
END_TEST

Suite *types_suite(void);

Suite *types_suite(void)
{
	Suite *s = suite_create("frame-types");
	TCase *tc = tcase_create("types");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, bootstrap_is_pinned_and_validated);
	tcase_add_test(tc, pin_and_unpin);
	tcase_add_test(tc, writable_mappings_block_promotion);
	tcase_add_test(tc, failed_promotion_rolls_back);
	tcase_add_test(tc, demotion_releases_subtree);
	tcase_add_test(tc, linear_entries_one_level_deep);
	tcase_add_test(tc, base_pointer_switch);
	tcase_add_test(tc, switch_marks_what_differs);
	tcase_add_test(tc, switch_follows_inherited_flags);
	tcase_add_test(tc, switch_of_aliased_trees_is_bounded);
	tcase_add_test(tc, update_requests);
	tcase_add_test(tc, spaces_keep_what_changed);
	tcase_add_test(tc, sync_realises_changed_ranges);
	tcase_add_test(tc, sync_realises_linear_maps_read_only);
	tcase_add_test(tc, checker_compares_host_maps);
	tcase_add_test(tc, checker_counts_catch_drift);
	suite_add_tcase(s, tc);
	return s;
}
