/*
 * mmu - walking guest page tables, the one checked guest-memory accessor,
 * and realising guest address spaces as host mappings.
 *
 * Pure code over struct vm's memory: no ptrace, no mmap, no exit. Host
 * mapping changes are produced as struct stub_op values through a callback
 * and carried out by the caller (the stub, in the guest process).
 */
#ifndef PVMM_MMU_H
#define PVMM_MMU_H

#include <stddef.h>
#include <stdint.h>

#include "vm.h"

/* Effective permissions of a walk. */
struct mmu_walk {
	uint64_t mfn;        /* frame the address maps to */
	int writable;        /* RW at every level */
	int user;            /* US at every level */
	int exec;            /* no NX at any level */
	uint64_t entry[4];   /* L4, L3, L2, L1 entries seen (0 after a miss) */
	int level_missing;   /* 4..1: level whose entry was absent; 0 when mapped */
};

/* Translate (va) through the tables rooted at frame (l4). Returns 0 and fills
 * (w), or -EFAULT when an entry is absent, points beyond guest memory, or va
 * is not a guest address; (w->level_missing) says where it stopped. */
int mmu_walk(const struct vm *vm, uint64_t l4, uint64_t va, struct mmu_walk *w);

/* The checked accessor every hypercall argument goes through: copy (len)
 * bytes between pvmm and guest virtual address (gva) in the current address
 * space, refusing (-EFAULT) any byte the guest could not itself read (or,
 * for copy_to, write), and any range that wraps or leaves the guest half.
 * Callers pass __FILE__/__LINE__ through the macros below; a refusal is
 * recorded in vm->fault (address and source location) for the message. */
int mmu_copy_from_guest_at(struct vm *vm, void *dst, uint64_t gva, size_t len,
			   const char *file, int line);
int mmu_copy_to_guest_at(struct vm *vm, uint64_t gva, const void *src, size_t len,
			 const char *file, int line);
#define mmu_copy_from_guest(vm, dst, gva, len) \
	mmu_copy_from_guest_at(vm, dst, gva, len, __FILE__, __LINE__)
#define mmu_copy_to_guest(vm, gva, src, len) \
	mmu_copy_to_guest_at(vm, gva, src, len, __FILE__, __LINE__)

/* Host protection (PROT_*) for a leaf reached with walk flags. */
int mmu_host_prot(int writable, int exec);

/* Receives the host operations that realise a range. Returns 0 or -errno. */
typedef int (*mmu_emit_fn)(void *ctx, const struct stub_op *op);

/* Emit the operations that make the host mappings of [start, end) equal what
 * the tables rooted at (l4) say: coalesced mmaps of present runs, munmaps of
 * the gaps. start and end are page-aligned guest addresses. */
int mmu_realise(const struct vm *vm, uint64_t l4, uint64_t start, uint64_t end,
		mmu_emit_fn emit, void *ctx);

/* 0 when (op) is page-aligned and lies wholly in the guest half, else
 * -EINVAL. Every operation mmu_realise() emits passes it. */
int mmu_check_op(const struct stub_op *op);

#endif
