/*
 * ptwr.h - writable page tables on real host faults (--ptwr).
 *
 * With VMASST_TYPE_writable_pagetables on, a guest store into one of its L1
 * tables through a read-only mapping is a real SIGSEGV on the host. It is
 * either emulated (decode, validate, commit, step: one trap per store) or
 * the L1 is taken out of sync, as Xen once did: its 2 MiB are unmapped on
 * the host (the TLB flush), the L1 page is mapped writable, and stores run
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

/* A write fault at (addr) through a present read-only mapping of L1 frame
 * (mfn). Returns 1 when handled (the guest resumes: the store emulated and
 * stepped over, or to be restarted natively), 0 when writable page tables
 * do not apply (assist off, not an L1), -1 when the domain was crashed. */
int mmu_ptwr_write(struct vm *vm, uint64_t addr, uint64_t mfn);

/* A fault at (addr): when it lies in the range of an unhooked L1, resync it
 * and return 1 (restart the instruction). 0 when not, -1 when the resync
 * crashed the domain. */
int mmu_ptwr_access(struct vm *vm, uint64_t addr);

/* Resync every out-of-sync L1. 0, or -1 when the domain was crashed. */
int mmu_ptwr_resync_all(struct vm *vm, enum ptwr_trigger why);
int mmu_ptwr_pending(const struct vm *vm);

/* The entries the frame table's references stand for: an out-of-sync L1's
 * snapshot, otherwise the table in guest memory. */
const uint64_t *mmu_ptwr_entries(const struct vm *vm, uint64_t mfn);

/* For realisation: whether (va) lies in an unhooked range (not mapped on
 * the host), and whether it is a writable alias of out-of-sync L1 (mfn). */
int mmu_ptwr_hidden(const struct vm *vm, uint64_t va);
int mmu_ptwr_alias(const struct vm *vm, uint64_t va, uint64_t mfn);

#endif
