/*
 * ptwr.h - writable page tables on real host faults (--ptwr).
 *
 * With VMASST_TYPE_writable_pagetables on, a guest store into one of its L1
 * tables through a read-only mapping is a real SIGSEGV on the host. It is
 * either emulated (decode, validate, commit, step: one trap per store) or
 * the L1 is taken out of sync, as Xen once did: its 2 MiB lose all access
 * on the host (the TLB flush), the L1 page is mapped writable, and stores run
 * natively until the next access to the range, an MMU hypercall, another
 * L1 needing the slot or the domain's end resyncs it: read-only again,
 * changed entries validated, the range re-established. The policy per mode
 * is in docs/ptwr.md.
 *
 * Pure code over struct vm; host operations go through vm->mmu.emit. A
 * store or resynced entry that breaks a rule crashes the domain (vm->end =
 * VM_CRASH, vm->end_msg names the L1 frame, index, value and rule).
 */
#ifndef PVMM_PTWR_H
#define PVMM_PTWR_H

#include <stdint.h>

#include "vm.h"

const char *mmu_ptwr_mode_name(enum ptwr_mode mode);
int mmu_ptwr_mode_parse(const char *name, enum ptwr_mode *mode);

/* ---- the mechanisms (ptwr.c), in the order a store meets them ------------ */

/* Trap: a write fault at (addr) through a present read-only mapping of L1
 * frame (mfn). With the assist on and (mfn) an L1, the mode (--ptwr) and
 * the L1's history choose between emulating the store and unhooking the L1
 * (or a fallback to emulation, counted and traced with its reason: the
 * faulting code, stack or store lies in the L1's own range, the L1 is
 * hooked twice, the alias is below mmap_min_addr). Returns 1 when handled
 * (the guest resumes: the store emulated and stepped over, or restarted
 * natively), 0 when writable page tables do not apply (assist off, not an
 * L1), -1 when the domain was crashed. */
int mmu_ptwr_trap(struct vm *vm, gva_t addr, mfn_t l1);

/* Emulate: decode the store at the guest's rip (aligned 4- and 8-byte mov,
 * xchg, cmpxchg, or, and, bts, btr), validate the new entry of (mfn) at
 * (addr)'s index with Xen's rules, commit it, step over the instruction.
 * 1, or -1 when it cannot be decoded or is refused (domain crashed). */
int mmu_ptwr_emulate(struct vm *vm, gva_t addr, mfn_t l1);

/* Where an L1 is hooked in the current space (mmu_for_each_use): how many
 * times, and the first address the last one covers. */
struct ptwr_hooks {
	uint64_t l1;
	unsigned n;
	uint64_t base;
};

/* Unhook: take L1 (mfn), hooked as (h), out of sync after a store through
 * (addr): the slot's previous L1 is resynced first; a snapshot of the
 * entries is kept (what the frame table's references stand for, and what
 * realisation maps the range from while it is out of sync); when it is
 * hooked in the current space its 2 MiB lose all access on the host (the
 * TLB flush: an mprotect, the pages stay mapped); the page at (addr)
 * becomes a writable alias. 1 (the store
 * restarts natively), or -1 when host operations failed (domain ended). */
int mmu_ptwr_unhook(struct vm *vm, gva_t addr, mfn_t l1, const struct ptwr_hooks *h);

/* Resync: the L1 in (slot) (PTWR_SLOT_ACTIVE or _INACTIVE) goes back in
 * sync. Every entry that differs from the snapshot is validated and
 * committed through mmu_mod_entry(); after the first refused entry the rest
 * are restored. Then the slot is freed and the L1 rehooked. Triggered (why)
 * by an access to the unhooked range, an MMU hypercall, the slot being
 * needed, or the domain's end. 0, or -1 when an entry was refused or the
 * host failed (domain ended; the message names frame, index and rule). */
int mmu_ptwr_resync(struct vm *vm, unsigned slot, enum ptwr_trigger why);
int mmu_ptwr_resync_all(struct vm *vm, enum ptwr_trigger why);
/* Before the tables the guest runs on change: with several address spaces
 * (mmu/space.c), out-of-sync L1s are resynced (trigger "switch"), since
 * their unhooked state is the running process's alone. 0, or -1 with the
 * domain ended. */
int mmu_ptwr_leave_space(struct vm *vm);

/* What a resync leaves to rehook: the L1, its range, whether that range is
 * in the current space, the entries it had while unhooked (the snapshot)
 * and the writable aliases it had. */
struct ptwr_range {
	uint64_t l1, base;
	int active;
	unsigned naliases;
	uint64_t alias[PTWR_MAX_ALIASES];
	const uint64_t *was;
};

/* Rehook: realise the range of a resynced L1 again (only when it was hooked
 * in the current space: its changed entries' dirty marks are dropped, the
 * whole 2 MiB is redone: the pages whose entries did not change get their
 * protection back, the others are mapped anew: mmu_realise_l1) and
 * every former writable alias, now read-only. 0, or -1 when host
 * operations failed (domain ended). */
int mmu_ptwr_rehook(struct vm *vm, const struct ptwr_range *r);

/* A fault at (addr): when it lies in the range of an unhooked L1, resync it
 * and return 1 (restart the instruction). 0 when not, -1 when the resync
 * crashed the domain. */
int mmu_ptwr_access(struct vm *vm, uint64_t addr);

/* ---- the state they change (ptwr_state.c): queries ---------------------- */

int mmu_ptwr_pending(const struct vm *vm);
/* The slot holding L1 (mfn) out of sync, or NULL. */
struct ptwr_slot *mmu_ptwr_slot_of(struct vm *vm, uint64_t mfn);
/* The entries of L1 (mfn) in guest memory (what the guest writes). */
uint64_t *mmu_ptwr_l1(const struct vm *vm, uint64_t mfn);

/* The entries the frame table's references stand for: an out-of-sync L1's
 * snapshot, otherwise the table in guest memory. */
const uint64_t *mmu_ptwr_entries(const struct vm *vm, uint64_t mfn);

/* For realisation: whether (va) lies in an unhooked range (no access on
 * the host), and whether it is a writable alias of out-of-sync L1 (mfn). */
int mmu_ptwr_hidden(const struct vm *vm, uint64_t va);
/* For realisation of a hidden (va): 1 when the unhooked range is kept
 * mapped with no access (the snapshot's pages), 0 when it is unmapped. */
int mmu_ptwr_kept(const struct vm *vm);
int mmu_ptwr_alias(const struct vm *vm, uint64_t va, uint64_t mfn);

#endif
