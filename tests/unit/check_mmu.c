/* check_mmu.c - page walks, the checked accessor and realisation. */
#include <check.h>
#include <errno.h>
#include <string.h>
#include <sys/mman.h>

#include "fixture.h"
#include "mmu.h"

START_TEST(walk_maps_bootstrap)
{
	struct vm *vm = fixture_vm();
	struct mmu_walk w;

	ck_assert_int_eq(mmu_walk(vm, vm->vcpu.kernel_l4, vm->lay.start_info_va + 8, &w), 0);
	ck_assert_uint_eq(w.mfn, vm->lay.start_info_pfn);
	ck_assert(w.writable && w.exec);
	ck_assert_int_eq(mmu_walk(vm, vm->vcpu.kernel_l4, vm->lay.pt_base_va, &w), 0);
	ck_assert(!w.writable);
	ck_assert_int_eq(mmu_walk(vm, vm->vcpu.kernel_l4, vm->lay.v_end, &w), -EFAULT);
	ck_assert_int_eq(w.level_missing, 2);
	ck_assert_int_eq(mmu_walk(vm, vm->vcpu.kernel_l4, 1ull << 39, &w), -EFAULT);
	ck_assert_int_eq(w.level_missing, 4);
	ck_assert_int_eq(mmu_walk(vm, vm->vcpu.kernel_l4, HOLE_BASE, &w), -EFAULT);
	fixture_free(vm);
}
END_TEST

START_TEST(walk_refuses_frames_beyond_memory)
{
	struct vm *vm = fixture_vm();
	struct mmu_walk w;
	uint64_t *l1 = (uint64_t *)(vm->mem + (vm->lay.pt_first_pfn + 3) * 4096);

	l1[0] = ((uint64_t)vm->nr_frames << 12) | PTE_P | PTE_RW; /* va 0x400000 */
	ck_assert_int_eq(mmu_walk(vm, vm->vcpu.kernel_l4, 0x400000, &w), -EFAULT);
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


/* The bootstrap space is three coalesced mmaps: data before the tables,
 * the tables read-only, the rest; the gaps are munmapped. */
START_TEST(realise_coalesces_runs)
{
	struct vm *vm = fixture_vm();
	const struct loader_layout *l = &vm->lay;
	struct fixture_ops o = { .n = 0 };
	unsigned maps = 0;

	ck_assert_int_eq(mmu_realise(vm, vm->vcpu.kernel_l4, FIXTURE_MIN_VA, HOLE_BASE, fixture_collect, &o), 0);
	for (unsigned i = 0; i < o.n; i++) {
		ck_assert_int_eq(mmu_check_op(&o.op[i]), 0);
		maps += o.op[i].kind == STUB_OP_MMAP;
	}
	ck_assert_uint_eq(maps, 3);
	ck_assert_uint_eq(o.n, 5);
	ck_assert_uint_eq(o.op[0].kind, STUB_OP_MUNMAP);
	ck_assert_uint_eq(o.op[0].addr, FIXTURE_MIN_VA);
	ck_assert_uint_eq(o.op[0].len, l->v_start - FIXTURE_MIN_VA);
	ck_assert_uint_eq(o.op[1].addr, l->v_start);
	ck_assert_uint_eq(o.op[1].off, 0);
	ck_assert_uint_eq(o.op[1].prot, PROT_READ | PROT_WRITE | PROT_EXEC);
	ck_assert_uint_eq(o.op[2].addr, l->pt_base_va);
	ck_assert_uint_eq(o.op[2].len, l->nr_pt_frames * 4096);
	ck_assert_uint_eq(o.op[2].prot, PROT_READ | PROT_EXEC);
	ck_assert_uint_eq(o.op[3].addr + o.op[3].len, l->v_end);
	ck_assert_uint_eq(o.op[4].kind, STUB_OP_MUNMAP);
	ck_assert_uint_eq(o.op[4].addr + o.op[4].len, HOLE_BASE);
	fixture_free(vm);
}
END_TEST

START_TEST(check_op_bounds)
{
	struct stub_op op = { .kind = STUB_OP_MMAP, .addr = 0x1000, .len = 0x1000 };

	ck_assert_int_eq(mmu_check_op(&op), 0);
	op.addr = HOLE_BASE - 0x1000;
	ck_assert_int_eq(mmu_check_op(&op), 0);
	op.len = 0x2000;
	ck_assert_int_eq(mmu_check_op(&op), -EINVAL);
	op.addr = 0x1800, op.len = 0x1000;
	ck_assert_int_eq(mmu_check_op(&op), -EINVAL);
	op.addr = 0x1000, op.len = 0;
	ck_assert_int_eq(mmu_check_op(&op), -EINVAL);
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
	suite_add_tcase(s, tc);
	return s;
}
