/* check_ptwr.c - writable page tables without a process: the decisions,
 * the host operations they produce, and resync's validation. */
#include <check.h>
#include <string.h>
#include <sys/mman.h>

#include "fixture.h"
#include "mmu/mmu.h"
#include "mmu/ptwr.h"
#include "mmu/ptwr_policy.h"

#define T (PTE_P | PTE_RW | PTE_US | PTE_A)
#define R (PTE_P | PTE_US | PTE_A)
#define BASE (100ull << 21) /* where the test L1 is hooked */

static struct vm *vm;
static uint64_t l1, page, alias, code;
static struct stub_op ops[64];
static unsigned nops;

static int collect(void *ctx, const struct stub_op *op)
{
	(void)ctx;
	ck_assert_uint_lt(nops, 64);
	ops[nops++] = *op;
	return 0;
}

static uint64_t *tab(uint64_t mfn) { return (uint64_t *)(vm->mem + mfn * 4096); }
static uint64_t va_of(uint64_t pfn) { return vm->lay.v_start + pfn * 4096; }

static void counts_ok(void)
{
	char why[400];
	ck_assert_msg(mmu_check_counts(vm, why, sizeof(why)) == 0, "%s", why);
}

/* Map frame (pfn) of the bootstrap range with (flags) at its usual place. */
static void remap(uint64_t pfn, uint64_t flags)
{
	ck_assert_int_eq(mmu_update_va(vm, _gva(va_of(pfn)), pfn << 12 | flags), 0);
}

/* A slack frame made read-only and hooked as an L1 at BASE, mapping one
 * page; a code page holding `mov %rax,(%rdi)`. */
static void setup(void)
{
	static const uint8_t mov[] = { 0x48, 0x89, 0x07 };

	vm = fixture_vm();
	l1 = vm->lay.first_free_pfn - 2;
	page = vm->lay.first_free_pfn + 5;
	code = vm->lay.first_free_pfn - 3;
	alias = va_of(l1);
	remap(l1, R);
	tab(l1)[0] = page << 12 | T;
	ck_assert_int_eq(mmu_mod_entry(vm, _mfn(vm->lay.pt_first_pfn + 2), 100, l1 << 12 | T, 0), 0);
	memcpy(tab(code), mov, sizeof(mov));
	vm->vcpu.regs.rip = va_of(code);
	vm->vcpu.regs.rsp = vm->lay.stack_top - 64;
	vm->vm_assist = 1ull << VMASST_TYPE_writable_pagetables;
	vm->mmu.emit = collect;
	vm->mmu.dirty_all = 0, vm->mmu.ndirty = 0;
	nops = 0;
}

static void teardown(void)
{
	counts_ok();
	fixture_free(vm);
}

START_TEST(assist_off_is_not_ours)
{
	vm->vm_assist = 0;
	ck_assert_int_eq(mmu_ptwr_trap(vm, _gva(alias), _mfn(l1)), 0);
	vm->vm_assist = 1ull << VMASST_TYPE_writable_pagetables;
	ck_assert_int_eq(mmu_ptwr_trap(vm, _gva(va_of(vm->lay.pt_first_pfn)), _mfn(vm->lay.pt_first_pfn)), 0);
}
END_TEST

START_TEST(emulate_steps_over_the_store)
{
	uint64_t rip = vm->vcpu.regs.rip;

	vm->mmu.ptwr.mode = PTWR_EMULATE;
	vm->vcpu.regs.rax = (page + 1) << 12 | T;
	ck_assert_int_eq(mmu_ptwr_trap(vm, _gva(alias + 5 * 8), _mfn(l1)), 1);
	ck_assert_uint_eq(tab(l1)[5], (page + 1) << 12 | T);
	ck_assert_uint_eq(vm->vcpu.regs.rip, rip + 3);
	ck_assert_uint_eq(vm->mmu.ptwr.count.emulated, 1);
	ck_assert(!mmu_ptwr_pending(vm));
	ck_assert(mmu_sync_pending(vm)); /* the entry's page is realised next */
	/* a refused store crashes the domain and writes nothing */
	vm->vcpu.regs.rip = rip;
	vm->vcpu.regs.rax = l1 << 12 | T;
	ck_assert_int_eq(mmu_ptwr_trap(vm, _gva(alias + 6 * 8), _mfn(l1)), -1);
	ck_assert_int_eq(vm->end, VM_CRASH);
	ck_assert_uint_eq(tab(l1)[6], 0);
	ck_assert_ptr_nonnull(strstr(vm->end_msg, "entry 6"));
	ck_assert_ptr_nonnull(strstr(vm->end_msg, "writable mapping of a page-table frame"));
}
END_TEST

START_TEST(unhook_then_resync_on_access)
{
	vm->mmu.ptwr.mode = PTWR_UNHOOK;
	ck_assert_int_eq(mmu_ptwr_trap(vm, _gva(alias + 8), _mfn(l1)), 1);
	ck_assert(mmu_ptwr_pending(vm));
	ck_assert(mmu_ptwr_hidden(vm, BASE + 4096));
	ck_assert(mmu_ptwr_alias(vm, alias + 100, l1));
	/* nothing says how big the batch is: the range goes; the L1 page,
	 * mapped already, becomes writable */
	ck_assert_uint_eq(nops, 2);
	ck_assert_uint_eq(ops[0].kind, STUB_OP_MUNMAP);
	ck_assert_uint_eq(ops[0].addr, BASE);
	ck_assert_uint_eq(ops[0].len, 2ull << 20);
	ck_assert_uint_eq(ops[1].kind, STUB_OP_MPROTECT);
	ck_assert_uint_eq(ops[1].addr, alias);
	ck_assert_uint_eq(ops[1].len, 4096);
	ck_assert(ops[1].prot & PROT_WRITE);
	counts_ok();
	tab(l1)[1] = (page + 1) << 12 | R, tab(l1)[2] = (page + 2) << 12 | R; /* native stores */
	counts_ok(); /* the references still stand for the snapshot */
	nops = 0;
	ck_assert_int_eq(mmu_ptwr_access(vm, 0x1000000), 0); /* elsewhere: not ours */
	ck_assert_int_eq(mmu_ptwr_access(vm, BASE + 4096), 1);
	ck_assert(!mmu_ptwr_pending(vm));
	ck_assert_uint_eq(vm->mmu.ptwr.count.resync_entries, 2);
	ck_assert_uint_eq(vm->mmu.ptwr.count.resyncs[PTWR_RESYNC_FAULT], 1);
	/* rehooked: mapped anew (page 0 rw, 1-2 ro, the rest unmapped), the
	 * alias read-only again */
	ck_assert_uint_eq(nops, 4);
	ck_assert_uint_eq(ops[0].kind, STUB_OP_MMAP);
	ck_assert(ops[0].prot & PROT_WRITE);
	ck_assert_uint_eq(ops[1].kind, STUB_OP_MMAP);
	ck_assert_uint_eq(ops[1].addr, BASE + 4096);
	ck_assert_uint_eq(ops[1].len, 2 * 4096);
	ck_assert_uint_eq(ops[2].kind, STUB_OP_MUNMAP);
	ck_assert_uint_eq(ops[3].kind, STUB_OP_MPROTECT);
	ck_assert_uint_eq(ops[3].addr, alias);
	ck_assert(!(ops[3].prot & PROT_WRITE));

	/* the last batch was small: the next unhook keeps the range mapped
	 * with no access (pages 0-2 in one run), the holes need nothing */
	nops = 0;
	ck_assert_int_eq(mmu_ptwr_trap(vm, _gva(alias + 8 * 3), _mfn(l1)), 1);
	ck_assert_uint_eq(nops, 2);
	ck_assert_uint_eq(ops[0].kind, STUB_OP_MPROTECT);
	ck_assert_uint_eq(ops[0].addr, BASE);
	ck_assert_uint_eq(ops[0].len, 3 * 4096);
	ck_assert_uint_eq(ops[0].prot, PROT_NONE);
	ck_assert_uint_eq(ops[1].kind, STUB_OP_MPROTECT);
	ck_assert_uint_eq(ops[1].addr, alias);
	counts_ok();
	for (unsigned i = 3; i < 300; i++)
		tab(l1)[i] = (page + i) << 12 | R;
	nops = 0;
	ck_assert_int_eq(mmu_ptwr_access(vm, BASE), 1);
	ck_assert_uint_eq(vm->mmu.ptwr.count.resync_entries, 2 + 297);
	ck_assert_uint_eq(vm->mmu.frames[page + 299].refs, 1);
	/* rehooked: pages 0-2, unchanged, get their protection back (0 rw,
	 * 1-2 ro); 3-299 are mapped read-only; the rest was and stays
	 * unmapped; the alias is read-only again */
	ck_assert_uint_eq(nops, 4);
	ck_assert_uint_eq(ops[0].kind, STUB_OP_MPROTECT);
	ck_assert_uint_eq(ops[0].addr, BASE);
	ck_assert_uint_eq(ops[0].len, 4096);
	ck_assert(ops[0].prot & PROT_WRITE);
	ck_assert_uint_eq(ops[1].kind, STUB_OP_MPROTECT);
	ck_assert_uint_eq(ops[1].addr, BASE + 4096);
	ck_assert_uint_eq(ops[1].len, 2 * 4096);
	ck_assert(!(ops[1].prot & PROT_WRITE));
	ck_assert_uint_eq(ops[2].kind, STUB_OP_MMAP);
	ck_assert_uint_eq(ops[2].addr, BASE + 3 * 4096);
	ck_assert_uint_eq(ops[2].len, 297 * 4096); /* consecutive frames: one run */
	ck_assert(!(ops[2].prot & PROT_WRITE));
	ck_assert_uint_eq(ops[3].kind, STUB_OP_MPROTECT);
	ck_assert_uint_eq(ops[3].addr, alias);
	ck_assert(!(ops[3].prot & PROT_WRITE));
	/* 297 changed: the next unhook unmaps the range again */
	nops = 0;
	ck_assert_int_eq(mmu_ptwr_trap(vm, _gva(alias + 8 * 400), _mfn(l1)), 1);
	ck_assert_uint_eq(ops[0].kind, STUB_OP_MUNMAP);
	ck_assert_int_eq(mmu_ptwr_resync_all(vm, PTWR_RESYNC_HYPERCALL), 0);
}
END_TEST

START_TEST(resync_refuses_and_restores)
{
	vm->mmu.ptwr.mode = PTWR_UNHOOK;
	ck_assert_int_eq(mmu_ptwr_trap(vm, _gva(alias), _mfn(l1)), 1);
	tab(l1)[3] = page << 12 | T;
	tab(l1)[7] = vm->lay.pt_first_pfn << 12 | T; /* a writable mapping of the L4 */
	tab(l1)[9] = page << 12 | T;
	ck_assert_int_eq(mmu_ptwr_resync_all(vm, PTWR_RESYNC_HYPERCALL), -1);
	ck_assert_int_eq(vm->end, VM_CRASH);
	ck_assert_ptr_nonnull(strstr(vm->end_msg, "entry 7"));
	ck_assert_uint_eq(tab(l1)[3], page << 12 | T); /* before the bad one: committed */
	ck_assert_uint_eq(tab(l1)[7], 0);              /* the bad one and the rest: restored */
	ck_assert_uint_eq(tab(l1)[9], 0);
	ck_assert_uint_eq(vm->mmu.ptwr.count.refused, 1);
	ck_assert(!mmu_ptwr_pending(vm));
}
END_TEST

START_TEST(fallbacks_to_emulation)
{
	vm->mmu.ptwr.mode = PTWR_UNHOOK;
	/* code in the range the L1 maps */
	ck_assert_int_eq(mmu_mod_entry(vm, _mfn(l1), 1, code << 12 | R, 0), 0);
	vm->vcpu.regs.rip = BASE + 4096;
	vm->vcpu.regs.rax = 0;
	ck_assert_int_eq(mmu_ptwr_trap(vm, _gva(alias + 2 * 8), _mfn(l1)), 1);
	ck_assert_uint_eq(vm->mmu.ptwr.count.fallbacks[PTWR_FB_CODE], 1);
	ck_assert(!mmu_ptwr_pending(vm));
	/* hooked twice */
	vm->vcpu.regs.rip = va_of(code);
	ck_assert_int_eq(mmu_mod_entry(vm, _mfn(vm->lay.pt_first_pfn + 2), 101, l1 << 12 | T, 0), 0);
	ck_assert_int_eq(mmu_ptwr_trap(vm, _gva(alias + 2 * 8), _mfn(l1)), 1);
	ck_assert_uint_eq(vm->mmu.ptwr.count.fallbacks[PTWR_FB_MULTI], 1);
	ck_assert_int_eq(mmu_mod_entry(vm, _mfn(vm->lay.pt_first_pfn + 2), 101, 0, 0), 0);
	ck_assert_uint_eq(vm->mmu.ptwr.count.unhooks, 0);
}
END_TEST

static void store(unsigned idx)
{
	vm->vcpu.regs.rip = va_of(code);
	vm->vcpu.regs.rax = page << 12 | R;
	ck_assert_int_eq(mmu_ptwr_trap(vm, _gva(alias + idx * 8), _mfn(l1)), 1);
}

/* auto through the trap: a cycle costing four emulated stores, so the
 * fifth store of a streak probes; the probe came mid-batch, so the next
 * store unhooks again to measure a whole batch; a batch of one store is
 * not worth a cycle: back to emulation. */
START_TEST(auto_unhooks_after_a_streak)
{
	vm->mmu.ptwr.mode = PTWR_AUTO;
	vm->mmu.ptwr.cost = (struct ptwr_costs){ .emulate_ns = 10000, .cycle_ns = 40000 };
	for (unsigned i = 0; i < 4; i++)
		store(10 + i);
	ck_assert_uint_eq(vm->mmu.ptwr.count.emulated, 4);
	ck_assert_uint_eq(vm->mmu.ptwr.count.fallbacks[PTWR_FB_POLICY], 4);
	ck_assert_uint_eq(vm->mmu.ptwr.role, PTWR_ROLE_EMULATE);
	store(20);
	ck_assert_uint_eq(vm->mmu.ptwr.count.unhooks, 1);
	ck_assert_uint_eq(vm->mmu.ptwr.role, PTWR_ROLE_UNHOOK);
	ck_assert_int_eq(mmu_ptwr_resync_all(vm, PTWR_RESYNC_HYPERCALL), 0);
	store(21); /* begins a batch: measured whole */
	ck_assert_uint_eq(vm->mmu.ptwr.count.unhooks, 2);
	tab(l1)[21] = page << 12 | R; /* the store, run natively */
	ck_assert_int_eq(mmu_ptwr_resync_all(vm, PTWR_RESYNC_HYPERCALL), 0);
	store(22);
	ck_assert_uint_eq(vm->mmu.ptwr.count.unhooks, 2);
	ck_assert_uint_eq(vm->mmu.ptwr.count.emulated, 5);
}
END_TEST

/* ---- the policy alone: costs fed, no clock ------------------------------- */

static struct ptwr_costs costs(uint64_t emulate, uint64_t cycle)
{
	return (struct ptwr_costs){ .emulate_ns = emulate, .cycle_ns = cycle };
}

/* A history that has measured whole batches of (n) stores. */
static struct ptwr_hist measured(unsigned n)
{
	struct ptwr_hist h;

	mmu_ptwr_hist_init(&h, 7);
	h.measured = 1;
	h.predicted_x16 = n * 16;
	return h;
}

START_TEST(auto_weighs_predicted_stores_against_a_cycle)
{
	struct ptwr_costs cheap = costs(10000, 30000), dear = costs(10000, 50000);
	struct ptwr_hist h = measured(4), g;

	g = h;
	ck_assert_int_eq(mmu_ptwr_auto_choose(&cheap, &g), 1); /* 4 x 10 us > 30 us */
	ck_assert_int_eq(g.whole, 1);                           /* at a batch's start */
	g = h;
	ck_assert_int_eq(mmu_ptwr_auto_choose(&dear, &g), 0);  /* 4 x 10 us < 50 us */
	/* a whole batch measured: the prediction moves halfway to it */
	g = h;
	g.aligned = 1;
	ck_assert_int_eq(mmu_ptwr_auto_choose(&dear, &g), 1);
	mmu_ptwr_auto_batch(&dear, &g, 8);
	ck_assert_uint_eq(g.predicted_x16, 6 * 16);
	ck_assert_int_eq(mmu_ptwr_auto_choose(&dear, &g), 1); /* 60 us > 50 us */
	h = measured(5);
	ck_assert_int_eq(mmu_ptwr_auto_choose(&dear, &h), 0); /* 50 us is not more than 50 us */
}
END_TEST

/* A batch that shrinks is followed down: the prediction halves its
 * distance to what each whole batch measured. */
START_TEST(auto_follows_shrinking_batches)
{
	struct ptwr_costs c = costs(10000, 40000);
	struct ptwr_hist h = measured(512);
	unsigned cycles = 0;

	while (mmu_ptwr_auto_choose(&c, &h)) {
		mmu_ptwr_auto_batch(&c, &h, 1);
		cycles++;
	}
	/* 512, 256.5, 128.8 ... 4.9 stores predicted (x 10 us > 40 us), then 2.9 */
	ck_assert_uint_eq(cycles, 8);
	ck_assert_uint_lt(h.predicted_x16, 4 * 16);
}
END_TEST

/* Emulated, an L1 is probed after stores whose emulation costs as much as
 * a cycle, then after twice, four times ... that many while probes find
 * batches of one store, up to PTWR_PROBE_MAX times, and never sooner
 * again. */
START_TEST(auto_probes_back_off)
{
	struct ptwr_costs c = costs(10000, 40000); /* break-even: 5 stores */
	struct ptwr_hist h;
	unsigned emulated = 0, expect = 5, probes = 0;

	mmu_ptwr_hist_init(&h, 9);
	while (probes < 12) {
		if (!mmu_ptwr_auto_choose(&c, &h)) {
			emulated++;
			continue;
		}
		if (h.whole) { /* the measurement after a probe */
			mmu_ptwr_auto_batch(&c, &h, 1);
			continue;
		}
		ck_assert_uint_eq(emulated + 1, expect);
		mmu_ptwr_auto_batch(&c, &h, 1);
		ck_assert_int_eq(h.aligned, 1); /* a probe mid-batch: measure the next */
		probes++;
		emulated = 0;
		expect = 5 * (h.probe < PTWR_PROBE_MAX ? h.probe * 2 : PTWR_PROBE_MAX);
		if (probes == 1)
			expect = 10;
	}
	ck_assert_uint_eq(h.probe, PTWR_PROBE_MAX);
	/* a probe that finds a batch worth unhooking: unhooked from then on */
	mmu_ptwr_auto_batch(&c, &h, 0); /* (the aligned measurement's own batch) */
	h.aligned = 1;
	ck_assert_int_eq(mmu_ptwr_auto_choose(&c, &h), 1);
	mmu_ptwr_auto_batch(&c, &h, 100);
	ck_assert_uint_eq(h.probe, PTWR_PROBE_MAX); /* the interval never shrinks back */
	ck_assert_int_eq(mmu_ptwr_auto_choose(&c, &h), 1);
	mmu_ptwr_auto_batch(&c, &h, 100);
	/* once a store was emulated, only a probe unhooks (the prediction is
	 * for a batch's first store, and emulated stores may lie anywhere in
	 * one) */
	h.predicted_x16 = 16;
	ck_assert_int_eq(mmu_ptwr_auto_choose(&c, &h), 0);
	h.predicted_x16 = 100 * 16;
	ck_assert_int_eq(mmu_ptwr_auto_choose(&c, &h), 0);
}
END_TEST

/* The model: an emulated store is its stop plus the gap to the next store;
 * a cycle runs from the unhook's fault to the next batch's first; a
 * preemption counts as at most 8x the estimate, anything over 50 ms not at
 * all. */
START_TEST(cost_model_from_samples)
{
	struct ptwr_costs c = { 0 };

	ck_assert_uint_eq(mmu_ptwr_emulate_cost(&c), 10000); /* the seeds */
	ck_assert_uint_eq(mmu_ptwr_cycle_cost(&c), 40000);
	mmu_ptwr_cost_sample(&c, PTWR_ROLE_EMULATE, 4000, 1000, PTWR_ROLE_EMULATE);
	ck_assert_uint_eq(c.emulate_ns, 5000);
	ck_assert_uint_eq(c.fault_ns, 1000);
	mmu_ptwr_cost_sample(&c, PTWR_ROLE_EMULATE, 6000, 1000, PTWR_ROLE_EMULATE);
	ck_assert_uint_eq(c.emulate_ns, 6000); /* the mean of the first samples */
	/* a gap before something else is the guest's own time: not a sample */
	mmu_ptwr_cost_sample(&c, PTWR_ROLE_EMULATE, 4000, 900000, PTWR_ROLE_NONE);
	ck_assert_uint_eq(c.emulate_samples, 2);
	mmu_ptwr_cost_sample(&c, PTWR_ROLE_UNHOOK, 8000, 500, PTWR_ROLE_NONE);
	mmu_ptwr_cost_sample(&c, PTWR_ROLE_NONE, 3000, 700, PTWR_ROLE_RESYNC); /* a timer, say */
	ck_assert_uint_eq(c.cycle_samples, 0); /* open until the next batch begins */
	mmu_ptwr_cost_sample(&c, PTWR_ROLE_RESYNC, 9000, 2000, PTWR_ROLE_UNHOOK);
	ck_assert_uint_eq(c.cycle_ns, 8000 + 500 + 3000 + 700 + 9000 + 2000);
	ck_assert_uint_eq(c.cycle_samples, 1);
	/* a resync followed by something else than a store: a fault stands in */
	mmu_ptwr_cost_sample(&c, PTWR_ROLE_UNHOOK, 8000, 500, PTWR_ROLE_RESYNC);
	mmu_ptwr_cost_sample(&c, PTWR_ROLE_RESYNC, 9000, 700000, PTWR_ROLE_NONE);
	ck_assert_uint_eq(c.cycle_samples, 2);
	ck_assert_uint_eq(c.cycle_ns, (23200 + 8000 + 500 + 9000 + 1000) / 2);
	for (int i = 0; i < 40; i++) /* weighted: it settles */
		mmu_ptwr_cost_sample(&c, PTWR_ROLE_EMULATE, 7000, 1000, PTWR_ROLE_UNHOOK);
	ck_assert_uint_ge(c.emulate_ns, 7850);
	ck_assert_uint_le(c.emulate_ns, 8000);
	mmu_ptwr_cost_sample(&c, PTWR_ROLE_EMULATE, 10000000, 1000, PTWR_ROLE_EMULATE);
	ck_assert_uint_le(c.emulate_ns, 8000 + (8 * 8000 - 8000) / 32 + 1); /* clipped */
	uint64_t before = c.emulate_ns;
	mmu_ptwr_cost_sample(&c, PTWR_ROLE_EMULATE, 60000000, 1000, PTWR_ROLE_EMULATE);
	ck_assert_uint_eq(c.emulate_ns, before); /* dropped */
	/* an estimate saying a store costs more than half a cycle is not used */
	c = costs(30000, 40000);
	ck_assert_uint_eq(mmu_ptwr_emulate_cost(&c), 20000);
}
END_TEST

START_TEST(inactive_l1_needs_no_unhook)
{
	uint64_t l1b = vm->lay.first_free_pfn - 4;

	vm->mmu.ptwr.mode = PTWR_UNHOOK;
	remap(l1b, R);
	ck_assert_int_eq(mmu_pin(vm, _mfn(l1b), 1), 0);
	nops = 0;
	ck_assert_int_eq(mmu_ptwr_trap(vm, _gva(va_of(l1b)), _mfn(l1b)), 1);
	ck_assert(vm->mmu.ptwr.slot[PTWR_SLOT_INACTIVE].used);
	ck_assert(!mmu_ptwr_hidden(vm, BASE));
	ck_assert_uint_eq(nops, 1); /* only the writable alias */
	tab(l1b)[0] = page << 12 | T;
	ck_assert_int_eq(mmu_ptwr_resync_all(vm, PTWR_RESYNC_HYPERCALL), 0);
	ck_assert_uint_eq(vm->mmu.frames[page].type, PGT_WRITABLE);
	ck_assert_int_eq(mmu_unpin(vm, _mfn(l1b)), 0);
}
END_TEST

/* An unhooked L1 written through a second alias below vm.mmap_min_addr
 * (another L1, hooked at address 0, maps it at 0x1000): a writable alias
 * could never be mapped there, so the L1 is resynced and the store
 * emulated, and nothing reaches the host that it would refuse. */
START_TEST(low_alias_is_emulated)
{
	uint64_t l2 = vm->lay.pt_first_pfn + 2, low = vm->lay.first_free_pfn - 4;
	uint64_t val = page << 12 | T;

	remap(low, R);
	tab(low)[1] = l1 << 12 | R;
	ck_assert_int_eq(mmu_mod_entry(vm, _mfn(l2), 0, low << 12 | T, 0), 0);
	vm->mmu.ptwr.mode = PTWR_UNHOOK;
	ck_assert_int_eq(mmu_ptwr_trap(vm, _gva(alias + 8), _mfn(l1)), 1); /* unhooked */
	ck_assert(mmu_ptwr_pending(vm));
	vm->vcpu.regs.rax = val;
	nops = 0;
	ck_assert_int_eq(mmu_ptwr_trap(vm, _gva(0x1000 + 2 * 8), _mfn(l1)), 1);
	ck_assert_int_eq(vm->end, VM_RUNNING);
	ck_assert(!mmu_ptwr_pending(vm));
	ck_assert_uint_eq(tab(l1)[2], val);
	ck_assert_uint_eq(vm->mmu.ptwr.count.fallbacks[PTWR_FB_LOW], 1);
	ck_assert_int_eq(mmu_sync(vm), 0);
	for (unsigned i = 0; i < nops; i++)
		ck_assert_int_eq(mmu_check_op(vm, &ops[i]), 0);
	ck_assert_int_eq(mmu_mod_entry(vm, _mfn(l2), 0, 0, 0), 0);
}
END_TEST

Suite *ptwr_suite(void);

Suite *ptwr_suite(void)
{
	Suite *s = suite_create("ptwr");
	TCase *tc = tcase_create("ptwr");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, assist_off_is_not_ours);
	tcase_add_test(tc, emulate_steps_over_the_store);
	tcase_add_test(tc, unhook_then_resync_on_access);
	tcase_add_test(tc, resync_refuses_and_restores);
	tcase_add_test(tc, fallbacks_to_emulation);
	tcase_add_test(tc, auto_unhooks_after_a_streak);
	tcase_add_test(tc, auto_weighs_predicted_stores_against_a_cycle);
	tcase_add_test(tc, auto_follows_shrinking_batches);
	tcase_add_test(tc, auto_probes_back_off);
	tcase_add_test(tc, cost_model_from_samples);
	tcase_add_test(tc, inactive_l1_needs_no_unhook);
	tcase_add_test(tc, low_alias_is_emulated);
	suite_add_tcase(s, tc);
	return s;
}
