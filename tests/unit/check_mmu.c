/* check_mmu.c - page walks, the checked accessor and realisation. */
#include <check.h>
#include <errno.h>
#include <string.h>
#include <sys/mman.h>

#include "fixture.h"
#include "mmu/mmu.h"

START_TEST(walk_maps_bootstrap)
{
	struct vm *vm = fixture_vm();
	struct mmu_walk w;

	ck_assert_int_eq(mmu_walk(vm, _mfn(vm->vcpu.kernel_l4), _gva(vm->lay.start_info_va + 8), &w), 0);
	ck_assert_uint_eq(w.mfn, vm->lay.start_info_pfn);
	ck_assert(w.writable && w.exec);
	ck_assert_int_eq(mmu_walk(vm, _mfn(vm->vcpu.kernel_l4), _gva(vm->lay.pt_base_va), &w), 0);
	ck_assert(!w.writable);
	ck_assert_int_eq(mmu_walk(vm, _mfn(vm->vcpu.kernel_l4), _gva(vm->lay.v_end), &w), -EFAULT);
	ck_assert_int_eq(w.level_missing, 2);
	ck_assert_int_eq(mmu_walk(vm, _mfn(vm->vcpu.kernel_l4), _gva(1ull << 39), &w), -EFAULT);
	ck_assert_int_eq(w.level_missing, 4);
	ck_assert_int_eq(mmu_walk(vm, _mfn(vm->vcpu.kernel_l4), _gva(HOLE_BASE), &w), -EFAULT);
	fixture_free(vm);
}
END_TEST

START_TEST(walk_refuses_frames_beyond_memory)
{
	struct vm *vm = fixture_vm();
	struct mmu_walk w;
	uint64_t *l1 = (uint64_t *)(vm->mem + (vm->lay.pt_first_pfn + 3) * 4096);

	l1[0] = ((uint64_t)vm->nr_frames << 12) | PTE_P | PTE_RW; /* va 0x400000 */
	ck_assert_int_eq(mmu_walk(vm, _mfn(vm->vcpu.kernel_l4), _gva(0x400000), &w), -EFAULT);
	ck_assert_int_eq(w.level_missing, 1);
	fixture_free(vm);
}
END_TEST

START_TEST(copy_checks_every_byte)
{
	struct vm *vm = fixture_vm();
	char buf[64];
	uint64_t last = vm->lay.v_end - 8;

	ck_assert_int_eq(mmu_copy_from_guest(vm, buf, vm->lay.start_info_va, 14), 0);
	ck_assert_mem_eq(buf, "xen-3.0-x86_64", 14);
	ck_assert_int_eq(mmu_copy_from_guest(vm, buf, last, 8), 0);
	ck_assert_int_eq(mmu_copy_from_guest(vm, buf, last, 9), -EFAULT); /* one byte over */
	ck_assert_uint_eq(vm->fault.gva, vm->lay.v_end);
	ck_assert_ptr_nonnull(strstr(vm->fault.file, "check_mmu.c"));
	ck_assert_int_eq(mmu_copy_from_guest(vm, buf, 0, 1), -EFAULT);
	ck_assert_int_eq(mmu_copy_from_guest(vm, buf, HOLE_BASE - 4, 8), -EFAULT);
	ck_assert_int_eq(mmu_copy_from_guest(vm, buf, UINT64_MAX - 2, 8), -EFAULT); /* wraps */
	ck_assert_int_eq(mmu_copy_to_guest(vm, vm->lay.pt_base_va, buf, 1), -EFAULT); /* RO */
	ck_assert_int_eq(mmu_copy_from_guest(vm, buf, vm->lay.pt_base_va, 8), 0);
	ck_assert_int_eq(mmu_copy_to_guest(vm, vm->lay.start_info_va + 4000, "abc", 3), 0);
	fixture_free(vm);
}
END_TEST


/* The bootstrap space is five coalesced mmaps: the image, the P2M list
 * with no access (its frames are written on first use), start_info to the
 * tables, the tables read-only, the rest; the gaps are munmapped. */
START_TEST(realise_coalesces_runs)
{
	struct vm *vm = fixture_vm();
	const struct loader_layout *l = &vm->lay;
	struct fixture_ops o = { .n = 0 };
	unsigned maps = 0;

	ck_assert_int_eq(mmu_realise(vm, _mfn(vm->vcpu.kernel_l4), _gva(FIXTURE_MIN_VA), _gva(HOLE_BASE), fixture_collect, &o), 0);
	for (unsigned i = 0; i < o.n; i++) {
		ck_assert_int_eq(mmu_check_op(vm, &o.op[i]), 0);
		maps += o.op[i].kind == STUB_OP_MMAP;
	}
	ck_assert_uint_eq(maps, 5);
	ck_assert_uint_eq(o.n, 7);
	ck_assert_uint_eq(o.op[0].kind, STUB_OP_MUNMAP);
	ck_assert_uint_eq(o.op[0].addr, FIXTURE_MIN_VA);
	ck_assert_uint_eq(o.op[0].len, l->v_start - FIXTURE_MIN_VA);
	ck_assert_uint_eq(o.op[1].addr, l->v_start);
	ck_assert_uint_eq(o.op[1].off, 0);
	ck_assert_uint_eq(o.op[1].prot, PROT_READ | PROT_WRITE | PROT_EXEC);
	ck_assert_uint_eq(o.op[2].addr, l->p2m_va);
	ck_assert_uint_eq(o.op[2].len, FIXTURE_PAGES * 8);
	ck_assert_uint_eq(o.op[2].prot, PROT_NONE);
	ck_assert_uint_eq(o.op[3].addr, l->start_info_va);
	ck_assert_uint_eq(o.op[4].addr, l->pt_base_va);
	ck_assert_uint_eq(o.op[4].len, l->nr_pt_frames * 4096);
	ck_assert_uint_eq(o.op[4].prot, PROT_READ | PROT_EXEC);
	ck_assert_uint_eq(o.op[5].addr + o.op[5].len, l->v_end);
	ck_assert_uint_eq(o.op[6].kind, STUB_OP_MUNMAP);
	ck_assert_uint_eq(o.op[6].addr + o.op[6].len, HOLE_BASE);
	fixture_free(vm);
}
END_TEST

/* ---- the P2M list, written on first use ---------------------------------- */

static const uint64_t *p2m_frame(const struct vm *vm, uint64_t k)
{
	return (const uint64_t *)(vm->mem + (loader_p2m_first_pfn(&vm->lay) + k) * 4096);
}

static uint64_t p2m_va(const struct vm *vm, uint64_t k) { return vm->lay.p2m_va + k * 4096; }

/* mmu_fill_fault at (va), walked first as the trap path does; 0 when
 * nothing maps it. */
static int fill_fault(struct vm *vm, uint64_t va, int write)
{
	struct mmu_walk w;

	if (mmu_walk(vm, _mfn(vm->vcpu.kernel_l4), _gva(va), &w))
		return 0;
	return mmu_fill_fault(vm, _gva(va), &w, write, 0);
}

/* Map frame (mfn) read-only at (va) by update_va_mapping. */
static int map_ro(struct vm *vm, uint64_t va, uint64_t mfn)
{
	return mmu_update_va(vm, _gva(va), (mfn << 12) | PTE_P | PTE_US | PTE_A);
}

/* pvmm's own reads write the frame first, and only that frame; its host
 * mappings are redone at the next sync. */
START_TEST(p2m_written_when_pvmm_reads_it)
{
	struct vm *vm = fixture_vm();
	uint64_t e[4];

	ck_assert_uint_eq(loader_p2m_frames(&vm->lay), FIXTURE_PAGES / 512);
	for (uint64_t k = 0; k < FIXTURE_PAGES / 512; k++) {
		ck_assert(mmu_unfilled(vm, loader_p2m_first_pfn(&vm->lay) + k));
		ck_assert_uint_eq(p2m_frame(vm, k)[1], 0);
	}
	ck_assert_int_eq(mmu_copy_from_guest(vm, e, p2m_va(vm, 2) + 16, sizeof(e)), 0);
	ck_assert_uint_eq(e[0], 2 * 512 + 2);
	ck_assert_uint_eq(e[3], 2 * 512 + 5);
	ck_assert_uint_eq(vm->mmu.count.deferred_fills, 1);
	ck_assert(!mmu_unfilled(vm, loader_p2m_first_pfn(&vm->lay) + 2));
	ck_assert(mmu_unfilled(vm, loader_p2m_first_pfn(&vm->lay) + 3));
	ck_assert_uint_eq(p2m_frame(vm, 3)[1], 0);
	ck_assert(vm->mmu.dirty_all);
	fixture_free(vm);
}
END_TEST

/* The guest's first access faults: the frame is written, just the entry
 * that maps it is marked, and the access may restart. */
START_TEST(p2m_written_on_the_guests_fault)
{
	struct vm *vm = fixture_vm();
	struct mmu_walk w;

	ck_assert_int_eq(mmu_walk(vm, _mfn(vm->vcpu.kernel_l4), _gva(p2m_va(vm, 1)), &w), 0);
	ck_assert_int_eq(fill_fault(vm, p2m_va(vm, 1) + 40, 1), 1);
	ck_assert_uint_eq(p2m_frame(vm, 1)[5], 512 + 5);
	ck_assert_uint_eq(p2m_frame(vm, 1)[511], 1023);
	ck_assert(!vm->mmu.dirty_all);
	ck_assert_uint_eq(vm->mmu.ndirty, 1);
	ck_assert_uint_eq(vm->mmu.dirty[0].mfn, w.table[3]);
	/* written now: another fault there is not about the P2M */
	ck_assert_int_eq(fill_fault(vm, p2m_va(vm, 1), 0), 0);
	ck_assert_int_eq(fill_fault(vm, vm->lay.start_info_va, 0), 0);
	ck_assert_uint_eq(vm->mmu.count.deferred_fills, 1);
	fixture_free(vm);
}
END_TEST

/* A fault the tables forbid stays the guest's, but the frame is written;
 * a frame mapped twice has the whole space redone. */
START_TEST(p2m_fault_the_tables_forbid)
{
	struct vm *vm = fixture_vm();
	uint64_t mfn = loader_p2m_first_pfn(&vm->lay) + 4;

	ck_assert_int_eq(map_ro(vm, p2m_va(vm, 4), mfn), 0);
	ck_assert_int_eq(map_ro(vm, p2m_va(vm, 5), mfn), 0);
	vm->mmu.dirty_all = 0, vm->mmu.ndirty = 0;
	ck_assert_int_eq(fill_fault(vm, p2m_va(vm, 4), 1), 0); /* a write to a RO page */
	ck_assert_uint_eq(p2m_frame(vm, 4)[3], 4 * 512 + 3);
	ck_assert(vm->mmu.dirty_all); /* mapped at two places */
	fixture_free(vm);
}
END_TEST

/* A plain mmu_update store into an unread P2M frame: the frame is written
 * first, so the store survives and the rest reads as the P2M. */
START_TEST(p2m_plain_update_is_kept)
{
	struct vm *vm = fixture_vm();
	uint64_t mfn = loader_p2m_first_pfn(&vm->lay) + 3;

	ck_assert_int_eq(mmu_update_one(vm, mfn << 12 | 5 * 8, 0xabc), 0);
	ck_assert_uint_eq(p2m_frame(vm, 3)[5], 0xabc);
	ck_assert_uint_eq(p2m_frame(vm, 3)[6], 3 * 512 + 6);
	ck_assert(!mmu_unfilled(vm, mfn));
	fixture_free(vm);
}
END_TEST

/* A frame promoted to a page table is validated with its P2M contents, not
 * the zeros it held: an identity P2M page is no valid L1. */
START_TEST(p2m_promotion_validates_the_contents)
{
	struct vm *vm = fixture_vm();
	uint64_t mfn = loader_p2m_first_pfn(&vm->lay) + 1;

	ck_assert_int_eq(map_ro(vm, p2m_va(vm, 1), mfn), 0);
	ck_assert(mmu_unfilled(vm, mfn));
	ck_assert_int_eq(mmu_pin(vm, _mfn(mfn), 1), -XEN_EINVAL);
	ck_assert_uint_eq(vm->mmu.count.deferred_fills, 1);
	ck_assert_ptr_nonnull(strstr(vm_why_text(vm->mmu.why), "forbidden bits"));
	fixture_free(vm);
}
END_TEST

/* A range that starts below vm.mmap_min_addr (as writable page tables
 * realise an L1 hooked at address 0) is cut there: nothing is emitted that
 * the host would refuse. */
START_TEST(realise_starts_at_min_va)
{
	struct vm *vm = fixture_vm();
	struct fixture_ops o = { .n = 0 };

	ck_assert_int_eq(mmu_realise(vm, _mfn(vm->vcpu.kernel_l4), _gva(0), _gva(HOLE_BASE), fixture_collect, &o), 0);
	ck_assert_uint_gt(o.n, 0);
	ck_assert_uint_eq(o.op[0].addr, FIXTURE_MIN_VA);
	for (unsigned i = 0; i < o.n; i++)
		ck_assert_int_eq(mmu_check_op(vm, &o.op[i]), 0);
	o.n = 0;
	ck_assert_int_eq(mmu_realise(vm, _mfn(vm->vcpu.kernel_l4), _gva(0), _gva(FIXTURE_MIN_VA), fixture_collect, &o), 0);
	ck_assert_uint_eq(o.n, 0);
	fixture_free(vm);
}
END_TEST

START_TEST(check_op_bounds)
{
	struct vm vm = { .min_va = 0x10000, .nr_frames = 16 };
	struct stub_op op = { .kind = STUB_OP_MMAP, .addr = 0x10000, .len = 0x1000 };

	ck_assert_int_eq(mmu_check_op(&vm, &op), 0);
	op.addr = HOLE_BASE - 0x1000;
	ck_assert_int_eq(mmu_check_op(&vm, &op), 0);
	op.len = 0x2000;
	ck_assert_int_eq(mmu_check_op(&vm, &op), -EINVAL);
	op.addr = 0x10800, op.len = 0x1000;
	ck_assert_int_eq(mmu_check_op(&vm, &op), -EINVAL);
	op.addr = 0x10000, op.len = 0;
	ck_assert_int_eq(mmu_check_op(&vm, &op), -EINVAL);
	/* below vm.mmap_min_addr, upper half, non-canonical: refused */
	static const uint64_t bad[] = { 0, 0xf000, 0x800000000000ull, 0x8000000000000000ull,
					0xffff800000000000ull, 0xfffffffffffff000ull };
	for (unsigned i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		op.addr = bad[i], op.len = 0x1000;
		ck_assert_int_eq(mmu_check_op(&vm, &op), -EINVAL);
	}
	/* an mmap past the end of the memory file */
	op.addr = 0x10000, op.off = 15 * 0x1000, op.len = 0x1000;
	ck_assert_int_eq(mmu_check_op(&vm, &op), 0);
	op.len = 0x2000;
	ck_assert_int_eq(mmu_check_op(&vm, &op), -EINVAL);
	op.off = 16 * 0x1000, op.len = 0x1000;
	ck_assert_int_eq(mmu_check_op(&vm, &op), -EINVAL);
	/* segment bases: FS or GS, below Linux's TASK_SIZE_MAX */
	op = (struct stub_op){ .kind = STUB_OP_SET_BASE, .prot = STUB_BASE_GS, .addr = 0 };
	ck_assert_int_eq(mmu_check_op(&vm, &op), 0);
	op.addr = VM_BASE_LIMIT - 1;
	ck_assert_int_eq(mmu_check_op(&vm, &op), 0);
	op.addr = VM_BASE_LIMIT;
	ck_assert_int_eq(mmu_check_op(&vm, &op), -EINVAL);
	op.addr = 0xffff800000000000ull;
	ck_assert_int_eq(mmu_check_op(&vm, &op), -EINVAL);
	op.addr = 0, op.prot = 7;
	ck_assert_int_eq(mmu_check_op(&vm, &op), -EINVAL);
}
END_TEST

Suite *mmu_suite(void);

Suite *mmu_suite(void)
{
	Suite *s = suite_create("mmu");
	TCase *tc = tcase_create("walk");

	tcase_add_test(tc, walk_maps_bootstrap);
	tcase_add_test(tc, walk_refuses_frames_beyond_memory);
	tcase_add_test(tc, copy_checks_every_byte);
	tcase_add_test(tc, realise_coalesces_runs);
	tcase_add_test(tc, check_op_bounds);
	tcase_add_test(tc, realise_starts_at_min_va);
	suite_add_tcase(s, tc);
	tc = tcase_create("p2m");
	tcase_add_test(tc, p2m_written_when_pvmm_reads_it);
	tcase_add_test(tc, p2m_written_on_the_guests_fault);
	tcase_add_test(tc, p2m_fault_the_tables_forbid);
	tcase_add_test(tc, p2m_promotion_validates_the_contents);
	tcase_add_test(tc, p2m_plain_update_is_kept);
	suite_add_tcase(s, tc);
	return s;
}
