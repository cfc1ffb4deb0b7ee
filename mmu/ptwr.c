/* ptwr.c - writable page tables: the mechanisms of the seed, by name.
 *
 *   mmu_ptwr_trap     a store into an L1 through a read-only mapping faulted:
 *                     choose emulate or unhook (the policy, --ptwr)
 *   mmu_ptwr_emulate  decode, validate and commit the one store, step over it
 *   mmu_ptwr_unhook   take the L1 out of sync: its range unmapped, the page
 *                     writable, stores run natively
 *   mmu_ptwr_resync   validate what changed since the snapshot
 *   mmu_ptwr_rehook   map the range again, the L1 read-only
 *
 * The state they change (the two slots) is read through ptwr_state.c. */
#include "mmu/ptwr.h"
#include "mmu/emulate.h"
#include "mmu/mmu.h"
#include "mmu/ptwr_policy.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#define PAGE 4096ull
#define L1_SPAN (2ull << 20)

/* The trace reasons (include/vm.h) of the triggers and fallbacks, in order. */
#define TRIGGER_WHY(t) ((enum vm_why)(VM_WHY_ACCESS + (t)))
#define FALLBACK_WHY(f) ((enum vm_why)(VM_WHY_CODE_IN_RANGE + (f)))
_Static_assert(VM_WHY_ACCESS + PTWR_RESYNC_HYPERCALL == VM_WHY_HYPERCALL &&
	       VM_WHY_ACCESS + PTWR_RESYNC_SLOT == VM_WHY_SLOT &&
	       VM_WHY_ACCESS + PTWR_RESYNC_SHUTDOWN == VM_WHY_SHUTDOWN &&
	       VM_WHY_ACCESS + PTWR_RESYNC_SWITCH == VM_WHY_SPACE_SWITCH,
	       "enum ptwr_trigger and its reasons are in the same order");
_Static_assert(VM_WHY_CODE_IN_RANGE + PTWR_FB_STACK == VM_WHY_STACK_IN_RANGE &&
	       VM_WHY_CODE_IN_RANGE + PTWR_FB_SELF == VM_WHY_SELF_IN_RANGE &&
	       VM_WHY_CODE_IN_RANGE + PTWR_FB_MULTI == VM_WHY_MULTI_HOOKED &&
	       VM_WHY_CODE_IN_RANGE + PTWR_FB_IDLE == VM_WHY_IDLE &&
	       VM_WHY_CODE_IN_RANGE + PTWR_FB_POLICY == VM_WHY_POLICY &&
	       VM_WHY_CODE_IN_RANGE + PTWR_FB_LOW == VM_WHY_BELOW_MMAP_MIN,
	       "enum ptwr_fallback and its reasons are in the same order");

const char *mmu_ptwr_mode_name(enum ptwr_mode mode)
{
	return mode == PTWR_EMULATE ? "emulate" : mode == PTWR_UNHOOK ? "unhook" : "auto";
}

int mmu_ptwr_mode_parse(const char *name, enum ptwr_mode *mode)
{
	for (int m = PTWR_AUTO; m <= PTWR_UNHOOK; m++)
		if (!strcmp(name, mmu_ptwr_mode_name((enum ptwr_mode)m))) {
			*mode = (enum ptwr_mode)m;
			return 0;
		}
	return -1;
}

static void trace(struct vm *vm, const char *what, uint64_t addr, uint64_t mfn, int idx,
		  uint64_t old, uint64_t val, enum vm_why why, const char *insn, uint64_t count)
{
	struct vm_event ev = { .kind = TRACE_PT, .what = what, .addr = addr, .mfn = mfn, .idx = idx,
			       .old = old, .val = val, .why = why, .insn = insn, .count = count };

	if ((vm->trace_mask & TRACE_PT) && vm->trace)
		vm->trace(vm, &ev);
}

/* A writable alias made or taken back: the host maps the page as the
 * tables say (a store through it just faulted; every change to the tables
 * is realised by the end of its trap, and a rehook comes before any change
 * in its own), so only its protection changes: an mprotect, not a new
 * mapping. */
static int reprotect(struct vm *vm, uint64_t page)
{
	return mmu_reprotect(vm, vcpu_cr3(&vm->vcpu), _gva(page), _gva(page + PAGE), vm->mmu.emit,
			     vm->mmu.emit_ctx);
}

/* The emitter's failure (when it ended the domain, its reason stands). */
static int host_error(struct vm *vm)
{
	vm_end_domain(vm, VM_HOST_ERROR, "host mapping operations for writable "
		 "page tables failed");
	return -1;
}

static int crash_entry(struct vm *vm, const char *when, uint64_t mfn, unsigned idx, uint64_t val)
{
	vm->mmu.ptwr.count.refused++;
	vm_end_domain(vm, VM_CRASH, "%s: L1 frame %#llx entry %u = %#llx refused: %s",
		 when, (unsigned long long)mfn, idx, (unsigned long long)val,
		 vm->mmu.why ? vm_why_text(vm->mmu.why) : "invalid entry");
	return -1;
}

/* Per-L1 history for the auto policy. */
static struct ptwr_hist *hist_of(struct vm *vm, uint64_t mfn)
{
	struct ptwr_hist *h = &vm->mmu.ptwr.hist[mfn % PTWR_HISTORY];

	if (h->l1 != mfn)
		mmu_ptwr_hist_init(h, mfn);
	return h;
}

/* ---- resync ---------------------------------------------------------------- */

int mmu_ptwr_rehook(struct vm *vm, const struct ptwr_range *r)
{
	if (r->active) {
		mmu_unmark_dirty(vm, r->l1); /* the whole range is realised here */
		vm->mmu.ptwr.count.rehooks++;
		if (mmu_realise_l1(vm, vcpu_cr3(&vm->vcpu), _gva(r->base), r->was, vm->mmu.emit,
				   vm->mmu.emit_ctx))
			return host_error(vm);
		trace(vm, "rehook", r->base, r->l1, -1, 0, 0, VM_WHY_NONE, NULL, 0);
	}
	for (unsigned i = 0; i < r->naliases; i++)
		if (reprotect(vm, r->alias[i]))
			return host_error(vm);
	return 0;
}

int mmu_ptwr_resync(struct vm *vm, unsigned slot, enum ptwr_trigger why)
{
	struct ptwr_slot *s = &vm->mmu.ptwr.slot[slot];
	uint64_t *cur = mmu_ptwr_l1(vm, s->l1), mfn = s->l1;
	struct ptwr_range r = { .l1 = mfn, .base = s->base, .active = slot == PTWR_SLOT_ACTIVE,
				.naliases = s->naliases, .was = s->kept ? s->snapshot : NULL };
	unsigned changed = 0;
	int bad = -1;
	uint64_t badval = 0;

	for (unsigned i = 0; i < PT_ENTRIES; i++) {
		uint64_t v = cur[i];
		if (v == s->snapshot[i])
			continue;
		cur[i] = s->snapshot[i]; /* the entry the references stand for */
		if (bad >= 0)
			continue;            /* after a bad entry the rest is restored */
		if (mmu_mod_entry(vm, _mfn(mfn), i, v, 0)) {
			bad = (int)i, badval = v;
			trace(vm, "refuse", r.base + i * PAGE, mfn, (int)i, s->snapshot[i], v,
			      vm->mmu.why, NULL, 0);
			continue;
		}
		changed++;
	}
	memcpy(r.alias, s->alias, sizeof(r.alias));
	s->used = 0; /* from here on realisation sees the L1 hooked and read-only */
	vm->mmu.ptwr.count.resyncs[why]++;
	vm->mmu.ptwr.count.resync_entries += changed;
	hist_of(vm, mfn)->last_changed = changed;
	if (vm->mmu.ptwr.mode == PTWR_AUTO)
		mmu_ptwr_auto_batch(&vm->mmu.ptwr.cost, hist_of(vm, mfn), changed);
	trace(vm, "resync", r.active ? r.base : 0, mfn, -1, 0, 0, TRIGGER_WHY(why), NULL, changed);
	if (mmu_ptwr_rehook(vm, &r))
		return -1;
	if (bad >= 0)
		return crash_entry(vm, "resync of an out-of-sync page table", mfn, (unsigned)bad, badval);
	return 0;
}

int mmu_ptwr_resync_all(struct vm *vm, enum ptwr_trigger why)
{
	for (int i = 0; i < 2; i++) {
		if (vm->mmu.ptwr.slot[i].used && mmu_ptwr_resync(vm, (unsigned)i, why))
			return -1;
	}
	return 0;
}

int mmu_ptwr_leave_space(struct vm *vm)
{
	if (vm->mmu.nspaces < 2 || !mmu_ptwr_pending(vm))
		return 0;
	return mmu_ptwr_resync_all(vm, PTWR_RESYNC_SWITCH);
}

int mmu_ptwr_access(struct vm *vm, uint64_t addr)
{
	if (!mmu_ptwr_hidden(vm, addr))
		return 0;
	vm->mmu.ptwr.role = PTWR_ROLE_RESYNC;
	return mmu_ptwr_resync(vm, PTWR_SLOT_ACTIVE, PTWR_RESYNC_FAULT) ? -1 : 1;
}

/* ---- emulation --------------------------------------------------------------- */

int mmu_ptwr_emulate(struct vm *vm, gva_t va, mfn_t l1)
{
	uint64_t addr = gva_x(va), mfn = mfn_x(l1);
	struct stub_regs *regs = &vm->vcpu.regs, after = *regs;
	unsigned idx = (unsigned)((addr & (PAGE - 1)) >> 3);
	uint64_t *tab = mmu_ptwr_l1(vm, mfn), old = tab[idx], val;
	struct mmu_store st;
	uint8_t insn[15];
	size_t n = mmu_fetch_insn(vm, regs->rip, insn);
	int write;

	if (vcpu_compat(&vm->vcpu)) { /* the decoder speaks 64-bit code */
		vm_end_domain(vm, VM_CRASH, "cannot emulate the page-table store at rip %#llx to "
			      "%#llx: it is 32-bit code, and pvmm emulates 64-bit stores only",
			      (unsigned long long)regs->rip, (unsigned long long)addr);
		return -1;
	}
	if (!n || mmu_emul_decode(insn, n, regs->rip, &st) ||
	    (write = mmu_emul_apply(&st, addr, old, &after, &val)) < 0) {
		vm_end_domain(vm, VM_CRASH, "cannot emulate the page-table store at "
			 "rip %#llx (%s) to %#llx: only aligned 4- and 8-byte mov, xchg, cmpxchg, "
			 "or, and, bts, btr are", (unsigned long long)regs->rip,
			 n ? st.text : "unreadable", (unsigned long long)addr);
		return -1;
	}
	if (write && mmu_mod_entry(vm, l1, idx, val, 0)) {
		trace(vm, "refuse", addr, mfn, (int)idx, old, val, vm->mmu.why, st.text, 0);
		return crash_entry(vm, "store to a page table", mfn, idx, val);
	}
	vm->mmu.ptwr.count.emulated++;
	trace(vm, "emulate", addr, mfn, (int)idx, old, write ? val : old, VM_WHY_NONE, st.text, 0);
	after.rip += st.len;
	*regs = after;
	return 1;
}

/* ---- unhooking ------------------------------------------------------------- */

static int count_hooks(void *ctx, uint64_t mfn, unsigned level, uint64_t base)
{
	struct ptwr_hooks *h = ctx;

	if (level == 1 && mfn == h->l1) {
		h->n++;
		h->base = base;
	}
	return h->n > 1; /* two are enough to know */
}

/* Why unhooking (mfn), hooked as (h), cannot work for this store, or -1. */
static int fallback(const struct vm *vm, const struct ptwr_hooks *h, uint64_t addr)
{
	const struct stub_regs *r = &vm->vcpu.regs;

	if (h->n > 1)
		return PTWR_FB_MULTI;
	if (h->n == 0)
		return -1;
	if (r->rip - h->base < L1_SPAN)
		return PTWR_FB_CODE;
	if (r->rsp - h->base < L1_SPAN)
		return PTWR_FB_STACK;
	if (addr - h->base < L1_SPAN)
		return PTWR_FB_SELF;
	return -1;
}

/* The mode's choice for a store to (mfn): emulate (with a reason) or unhook. */
static int choose(struct vm *vm, uint64_t mfn, int *reason)
{
	struct ptwr_hist *h = hist_of(vm, mfn);

	switch (vm->mmu.ptwr.mode) {
	case PTWR_EMULATE:
		return 0;
	case PTWR_UNHOOK:
		if (h->last_changed == 0) {
			*reason = PTWR_FB_IDLE;
			h->last_changed = PT_ENTRIES; /* try again next time */
			return 0;
		}
		return 1;
	default:
		if (mmu_ptwr_auto_choose(&vm->mmu.ptwr.cost, h))
			return 1;
		*reason = PTWR_FB_POLICY;
		return 0;
	}
}

static int add_alias(struct vm *vm, struct ptwr_slot *s, uint64_t addr)
{
	if (s->naliases == PTWR_MAX_ALIASES) /* too many: start over */
		return mmu_ptwr_resync(vm, (unsigned)(s - vm->mmu.ptwr.slot), PTWR_RESYNC_SLOT) ? -1 : 1;
	s->alias[s->naliases++] = addr & ~(PAGE - 1);
	vm->mmu.ptwr.count.aliases++;
	return reprotect(vm, addr & ~(PAGE - 1)) ? host_error(vm) : 1;
}

/* The whole range of an L1 unhooked, unmapped: one munmap, no walk (the
 * part below vm.mmap_min_addr is never mapped). */
static int unmap_range(struct vm *vm, uint64_t base)
{
	uint64_t start = base < vm->min_va ? vm->min_va : base;
	struct stub_op op = { .kind = STUB_OP_MUNMAP, .addr = start, .len = base + L1_SPAN - start };

	if (start >= base + L1_SPAN)
		return 0;
	return mmu_check_op(vm, &op) ? -EINVAL : vm->mmu.emit(vm->mmu.emit_ctx, &op);
}

int mmu_ptwr_unhook(struct vm *vm, gva_t va, mfn_t l1, const struct ptwr_hooks *h)
{
	uint64_t addr = gva_x(va), mfn = mfn_x(l1);
	unsigned which = h->n ? PTWR_SLOT_ACTIVE : PTWR_SLOT_INACTIVE;
	struct ptwr_slot *s = &vm->mmu.ptwr.slot[which];

	if (s->used && mmu_ptwr_resync(vm, which, PTWR_RESYNC_SLOT))
		return -1;
	s->used = 1;
	s->l1 = mfn;
	s->base = h->base;
	/* keep the range mapped (no access) when the last batch changed at most
	 * half of it: its rehook then remaps only what changed; else unmap it,
	 * as the rehook maps nearly all of it anew anyway (or nothing says) */
	s->kept = h->n && hist_of(vm, mfn)->last_changed <= PT_ENTRIES / 2;
	s->naliases = 1;
	s->alias[0] = addr & ~(PAGE - 1);
	memcpy(s->snapshot, mmu_ptwr_l1(vm, mfn), PAGE);
	vm->mmu.ptwr.count.unhooks++;
	vm->mmu.ptwr.role = PTWR_ROLE_UNHOOK;
	trace(vm, "unhook", addr, mfn, -1, 0, 0,
	      h->n ? VM_WHY_ACTIVE : VM_WHY_INACTIVE, NULL, 0);
	if ((s->kept && mmu_realise_l1(vm, vcpu_cr3(&vm->vcpu), _gva(h->base), s->snapshot,
				       vm->mmu.emit, vm->mmu.emit_ctx)) ||
	    (h->n && !s->kept && unmap_range(vm, h->base)) ||
	    reprotect(vm, s->alias[0]))
		return host_error(vm);
	return 1; /* the store restarts natively */
}

int mmu_ptwr_trap(struct vm *vm, gva_t va, mfn_t l1)
{
	uint64_t addr = gva_x(va), mfn = mfn_x(l1);
	struct ptwr_slot *s;
	struct ptwr_hooks h = { mfn, 0, 0 };
	int reason = -1;

	if (!(vm->vm_assist & (1ull << VMASST_TYPE_writable_pagetables)) ||
	    vm->mmu.frames[mfn].type != PGT_L1)
		return 0;
	s = mmu_ptwr_slot_of(vm, mfn);
	if (addr < vm->min_va) { /* no process can map a writable alias there */
		if (s && mmu_ptwr_resync(vm, (unsigned)(s - vm->mmu.ptwr.slot), PTWR_RESYNC_SLOT))
			return -1;
		vm->mmu.ptwr.count.fallbacks[PTWR_FB_LOW]++;
		trace(vm, "fallback", addr, mfn, -1, 0, 0, FALLBACK_WHY(PTWR_FB_LOW), NULL, 0);
		vm->mmu.ptwr.role = PTWR_ROLE_EMULATE;
		return mmu_ptwr_emulate(vm, va, l1);
	}
	if (s)
		return add_alias(vm, s, addr); /* another read-only alias of the same L1 */
	if (choose(vm, mfn, &reason)) {
		mmu_for_each_use(vm, count_hooks, &h);
		reason = fallback(vm, &h, addr);
		if (reason < 0)
			return mmu_ptwr_unhook(vm, va, l1, &h);
	}
	if (reason >= 0) {
		vm->mmu.ptwr.count.fallbacks[reason]++;
		if (reason != PTWR_FB_POLICY)
			trace(vm, "fallback", addr, mfn, -1, 0, 0, FALLBACK_WHY(reason), NULL, 0);
	}
	vm->mmu.ptwr.role = PTWR_ROLE_EMULATE;
	return mmu_ptwr_emulate(vm, va, l1);
}
