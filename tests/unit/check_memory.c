/* check_memory.c - memory_op's reservation and exchange on a fixture domain:
 * Xen's argument checks, the frames given back and handed out again, and
 * the domain never growing past its maximum. */
#include <check.h>
#include <errno.h>
#include <stddef.h>
#include <string.h>

#include "fixture.h"
#include "hypercalls/hc.h"
#include "mmu/mmu.h"

static int64_t call(struct vm *vm, uint64_t nr, uint64_t a1, uint64_t a2)
{
	struct stub_regs *r = &vm->vcpu.regs;

	memset(r, 0, sizeof(*r));
	r->rax = nr, r->rdi = a1, r->rsi = a2;
	hc_dispatch(vm);
	return (int64_t)r->rax;
}

/* Scratch guest memory: the second half of start_info's page. */
static uint64_t scratch(const struct vm *vm) { return vm->lay.start_info_va + 2048; }
static void *host(struct vm *vm, uint64_t va) { return vm->mem + (va - vm->lay.v_start); }

/* The request at scratch, its frame list 256 bytes further. */
static uint64_t reservation(struct vm *vm, uint64_t nr, uint32_t order, uint32_t flags,
			    const uint64_t *frames)
{
	struct xen_memory_reservation r = { scratch(vm) + 256, nr, order, flags, DOMID_SELF, { 0 } };

	memcpy(host(vm, scratch(vm)), &r, sizeof(r));
	if (frames)
		memcpy(host(vm, r.extent_start), frames, nr * 8);
	return scratch(vm);
}

static uint64_t list_entry(struct vm *vm, unsigned i)
{
	uint64_t v;

	memcpy(&v, host(vm, scratch(vm) + 256 + i * 8), 8);
	return v;
}

/* The frame table's own check (--check-invariants) agrees. */
static void counts_ok(const struct vm *vm)
{
	char why[300];

	if (mmu_check_counts(vm, why, sizeof(why)))
		ck_abort_msg("%s", why);
}

static int64_t current(struct vm *vm)
{
	uint16_t self = DOMID_SELF;

	memcpy(host(vm, scratch(vm) + 1024), &self, 2);
	return call(vm, XEN_HC_memory_op, XENMEM_current_reservation, scratch(vm) + 1024);
}

START_TEST(balloon_out_and_in)
{
	struct vm *vm = fixture_vm();
	uint64_t f = vm->lay.first_free_pfn, frames[2] = { f, f + 1 }, gpfns[2] = { f + 1, f };
	uint64_t arg;

	memset(vm->mem + f * 4096, 0xaa, 4096);
	arg = reservation(vm, 2, 0, 0, frames);
	ck_assert_int_eq(call(vm, XEN_HC_memory_op, XENMEM_decrease_reservation, arg), 2);
	ck_assert_int_eq(current(vm), FIXTURE_PAGES - 2);
	ck_assert(!mmu_ram_owned(vm, f) && !mmu_ram_owned(vm, f + 1));
	/* a frame given back cannot be mapped, nor given back again */
	ck_assert_int_eq(mmu_get_page_and_type(vm, f, PGT_WRITABLE), -XEN_EINVAL);
	ck_assert_int_eq(vm->mmu.why, VM_WHY_GIVEN_BACK);
	arg = reservation(vm, 1, 0, 0, frames);
	ck_assert_int_eq(call(vm, XEN_HC_memory_op, XENMEM_decrease_reservation, arg), 0);
	/* populate prefers the frame that was the guest frame's, and scrubs it */
	arg = reservation(vm, 2, 0, 0, gpfns);
	ck_assert_int_eq(call(vm, XEN_HC_memory_op, XENMEM_populate_physmap, arg), 2);
	ck_assert_uint_eq(list_entry(vm, 0), f + 1);
	ck_assert_uint_eq(list_entry(vm, 1), f);
	ck_assert_uint_eq(pfn_x(mmu_m2p(vm, _mfn(f))), f);
	ck_assert_uint_eq(vm->mem[f * 4096], 0);
	ck_assert_int_eq(current(vm), FIXTURE_PAGES);
	/* at its maximum the domain gets nothing more */
	arg = reservation(vm, 1, 0, 0, NULL);
	ck_assert_int_eq(call(vm, XEN_HC_memory_op, XENMEM_increase_reservation, arg), 0);
	arg = reservation(vm, 1, 0, 0, gpfns);
	ck_assert_int_eq(call(vm, XEN_HC_memory_op, XENMEM_populate_physmap, arg), 0);
	counts_ok(vm);
	fixture_free(vm);
}
END_TEST

START_TEST(extents_and_continuations)
{
	struct vm *vm = fixture_vm();
	uint64_t f = (vm->lay.first_free_pfn + 511) & ~511ull, frames[2] = { f, f + 512 };
	uint64_t arg = reservation(vm, 2, 9, 0, frames);

	/* a continuation starts at its extent: only the second one goes */
	ck_assert_int_eq(call(vm, XEN_HC_memory_op,
			      XENMEM_decrease_reservation | (1 << XENMEM_EXTENT_SHIFT), arg), 2);
	ck_assert(mmu_ram_owned(vm, f) && !mmu_ram_owned(vm, f + 512) && !mmu_ram_owned(vm, f + 1023));
	ck_assert_int_eq(current(vm), FIXTURE_PAGES - 512);
	arg = reservation(vm, 2, 10, 0, frames); /* beyond a domU's max order */
	ck_assert_int_eq(call(vm, XEN_HC_memory_op, XENMEM_decrease_reservation, arg), 0);
	arg = reservation(vm, 1, 9, 0, NULL);
	ck_assert_int_eq(call(vm, XEN_HC_memory_op, XENMEM_increase_reservation, arg), 1);
	ck_assert_int_eq(current(vm), FIXTURE_PAGES);
	fixture_free(vm);
}
END_TEST

/* XSA-231: a NUMA node in mem_flags is a hint a domU may give (ignored),
 * insisting on one is refused; too few address bits likewise. */
START_TEST(memflags_as_xen)
{
	struct vm *vm = fixture_vm();
	uint64_t f = vm->lay.first_free_pfn, arg;

	arg = reservation(vm, 1, 0, 0, &f);
	ck_assert_int_eq(call(vm, XEN_HC_memory_op, XENMEM_decrease_reservation, arg), 1);
	arg = reservation(vm, 1, 0, XENMEMF_exact_node_request | (0x42 << 8), NULL);
	ck_assert_int_eq(call(vm, XEN_HC_memory_op, XENMEM_increase_reservation, arg), 0);
	arg = reservation(vm, 1, 0, 12, NULL);
	ck_assert_int_eq(call(vm, XEN_HC_memory_op, XENMEM_increase_reservation, arg), 0);
	arg = reservation(vm, 1, 0, XENMEMF_populate_on_demand, &f);
	ck_assert_int_eq(call(vm, XEN_HC_memory_op, XENMEM_populate_physmap, arg), 0);
	arg = reservation(vm, 1, 0, 0xff00, NULL);
	ck_assert_int_eq(call(vm, XEN_HC_memory_op, XENMEM_increase_reservation, arg), 1);
	ck_assert(mmu_ram_owned(vm, f));
	fixture_free(vm);
}
END_TEST

/* A frame still mapped goes back when its last reference does (as on Xen). */
START_TEST(referenced_frame_waits)
{
	struct vm *vm = fixture_vm();
	uint64_t mfn = 0, arg = reservation(vm, 1, 0, 0, &mfn); /* the image's first page */
	struct fixture_ops ops = { .n = 0 };

	vm->mmu.emit = fixture_collect, vm->mmu.emit_ctx = &ops; /* the unmapping's sync */

	ck_assert_int_eq(call(vm, XEN_HC_memory_op, XENMEM_decrease_reservation, arg), 1);
	ck_assert(!mmu_ram_owned(vm, mfn));
	ck_assert_int_eq(current(vm), FIXTURE_PAGES); /* the domain's until unmapped */
	ck_assert_int_eq(mmu_update_va(vm, _gva(vm->lay.v_start), 0), 0);
	ck_assert_int_eq(current(vm), FIXTURE_PAGES - 1);
	ck_assert_int_eq(vm->mmu.frames[mfn].owner, FRAME_FREE);
	counts_ok(vm);
	fixture_free(vm);
}
END_TEST

static uint64_t exchange(struct vm *vm, uint64_t nr_in, uint32_t in_order, uint64_t nr_out,
			 uint32_t out_order, uint64_t done, const uint64_t *in, const uint64_t *out)
{
	struct xen_memory_exchange x = {
		{ scratch(vm) + 256, nr_in, in_order, 0, DOMID_SELF, { 0 } },
		{ scratch(vm) + 512, nr_out, out_order, 0, DOMID_SELF, { 0 } },
		done,
	};

	memcpy(host(vm, scratch(vm)), &x, sizeof(x));
	memcpy(host(vm, x.in.extent_start), in, nr_in * 8);
	memcpy(host(vm, x.out.extent_start), out, nr_out * 8);
	return scratch(vm);
}

static uint64_t exchanged(struct vm *vm)
{
	uint64_t v;

	memcpy(&v, host(vm, scratch(vm) + offsetof(struct xen_memory_exchange, nr_exchanged)), 8);
	return v;
}

START_TEST(exchange_checks_as_xen)
{
	struct vm *vm = fixture_vm();
	uint64_t f = vm->lay.first_free_pfn, in[2] = { f, f + 1 }, out[2] = { 7, 8 }, arg;
	struct xen_memory_exchange *x;

	arg = exchange(vm, 1, 10, 1, 10, 0, in, out);
	ck_assert_int_eq(call(vm, XEN_HC_memory_op, XENMEM_exchange, arg), -XEN_EPERM);
	arg = exchange(vm, 2, 0, 1, 0, 0, in, out);
	ck_assert_int_eq(call(vm, XEN_HC_memory_op, XENMEM_exchange, arg), -XEN_EINVAL);
	arg = exchange(vm, 1, 0, 1, 0, 2, in, out);
	ck_assert_int_eq(call(vm, XEN_HC_memory_op, XENMEM_exchange, arg), -XEN_EINVAL);
	arg = exchange(vm, 1, 0, 1, 0, 1, in, out);
	ck_assert_int_eq(call(vm, XEN_HC_memory_op, XENMEM_exchange, arg), 0);
	ck_assert_int_eq(call(vm, XEN_HC_memory_op,
			      XENMEM_exchange | (1 << XENMEM_EXTENT_SHIFT), arg), -XEN_EINVAL);
	/* XSA-212: the lists are checked from the progress field on, the
	 * output's too, and the field is written back */
	arg = exchange(vm, 2, 0, 2, 0, 1, in, out);
	x = host(vm, arg);
	x->out.extent_start = HOLE_BASE - 8;
	ck_assert_int_eq(call(vm, XEN_HC_memory_op, XENMEM_exchange, arg), -XEN_EFAULT);
	ck_assert_uint_eq(exchanged(vm), 1);
	arg = exchange(vm, 1, 0, 1, 0, 0, in, out);
	x = host(vm, arg);
	x->out.mem_flags = XENMEMF_exact_node_request | (1 << 8);
	ck_assert_int_eq(call(vm, XEN_HC_memory_op, XENMEM_exchange, arg), -XEN_EINVAL);
	x->out.mem_flags = 0;
	x->in.domid = x->out.domid = 5;
	ck_assert_int_eq(call(vm, XEN_HC_memory_op, XENMEM_exchange, arg), -XEN_ESRCH);
	fixture_free(vm);
}
END_TEST

START_TEST(exchange_moves_frames)
{
	struct vm *vm = fixture_vm();
	uint64_t f = (vm->lay.first_free_pfn + 1) & ~1ull, in[2] = { f, f + 1 }, out[1] = { 0x777 };
	uint64_t mapped = vm->lay.start_info_pfn, arg;

	/* two frames for one extent of order 1: the pair itself is the run */
	memset(vm->mem + f * 4096, 0x55, 4096);
	arg = exchange(vm, 2, 0, 1, 1, 0, in, out);
	ck_assert_int_eq(call(vm, XEN_HC_memory_op, XENMEM_exchange, arg), 0);
	ck_assert_uint_eq(exchanged(vm), 2);
	ck_assert_uint_eq(list_entry(vm, 32), f); /* out list: scratch + 512 */
	ck_assert_uint_eq(pfn_x(mmu_m2p(vm, _mfn(f + 1))), 0x778);
	ck_assert_uint_eq(vm->mem[f * 4096], 0);
	ck_assert(mmu_ram_owned(vm, f) && mmu_ram_owned(vm, f + 1));
	ck_assert_int_eq(current(vm), FIXTURE_PAGES);
	/* a frame something references is not taken: the chunk is undone */
	in[1] = mapped;
	arg = exchange(vm, 2, 0, 2, 0, 0, in, (uint64_t[]){ 1, 2 });
	ck_assert_int_eq(call(vm, XEN_HC_memory_op, XENMEM_exchange, arg), -XEN_EINVAL);
	ck_assert_uint_eq(exchanged(vm), 1); /* the first chunk moved */
	ck_assert(mmu_ram_owned(vm, mapped));
	ck_assert_int_eq(current(vm), FIXTURE_PAGES);
	counts_ok(vm);
	vm->mmu.given_back++; /* and it sees a count that is wrong */
	ck_assert_int_eq(mmu_check_counts(vm, (char[300]){ 0 }, 300), -EINVAL);
	fixture_free(vm);
}
END_TEST

Suite *memory_suite(void);

Suite *memory_suite(void)
{
	Suite *s = suite_create("memory_op");
	TCase *tc = tcase_create("reservation");

	tcase_add_test(tc, balloon_out_and_in);
	tcase_add_test(tc, extents_and_continuations);
	tcase_add_test(tc, memflags_as_xen);
	tcase_add_test(tc, referenced_frame_waits);
	tcase_add_test(tc, exchange_checks_as_xen);
	tcase_add_test(tc, exchange_moves_frames);
	suite_add_tcase(s, tc);
	return s;
}
