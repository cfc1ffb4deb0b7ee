/* realise.c - turn validated guest tables into host mapping operations. */
#include "mmu.h"
#include "ptwr.h"

#include <errno.h>
#include <string.h>
#include <sys/mman.h>

#define PAGE 4096ull

int mmu_host_prot(int writable, int exec)
{
	return PROT_READ | (writable ? PROT_WRITE : 0) | (exec ? PROT_EXEC : 0);
}

/* Writable on the host: writable in the tables and no page table, or a
 * page of an out-of-sync L1 being written natively. */
static int host_writable(const struct vm *vm, uint64_t va, const struct mmu_walk *w)
{
	if (!mmu_is_pagetable(vm, w->mfn))
		return w->writable;
	return mmu_ptwr_alias(vm, va, w->mfn);
}

int mmu_page_prot(const struct vm *vm, uint64_t va, const struct mmu_walk *w)
{
	if (mmu_unfilled(vm, w->mfn))
		return PROT_NONE; /* the first access faults and writes it */
	return mmu_host_prot(host_writable(vm, va, w), w->exec);
}

int mmu_check_op(const struct stub_op *op)
{
	if (op->addr >= HOLE_BASE || !op->len || op->len > HOLE_BASE - op->addr ||
	    (op->addr | op->len | op->off) & (PAGE - 1))
		return -EINVAL;
	return 0;
}

/* A run of pages being coalesced into one operation. */
struct run {
	struct stub_op op;
	uint64_t emitted;
	mmu_emit_fn emit;
	void *ctx;
};

static int run_flush(struct run *r)
{
	int rc = 0;

	if (r->op.len && ++r->emitted > MMU_MAX_HOST_MAPPINGS)
		return -XEN_ENOSPC; /* more mappings than any host allows one process */
	if (r->op.len)
		rc = mmu_check_op(&r->op) ? -EINVAL : r->emit(r->ctx, &r->op);
	r->op.len = 0;
	return rc;
}

/* Add (len) bytes at (va) to the run, flushing when they do not continue it. */
static int run_add(struct run *r, uint32_t kind, uint64_t va, uint64_t off, uint32_t prot,
		   uint64_t len)
{
	struct stub_op *op = &r->op;
	int contiguous = op->len && op->kind == kind && op->addr + op->len == va &&
			 (kind != STUB_OP_MMAP || (op->prot == prot && op->off + op->len == off));

	if (!contiguous) {
		int rc = run_flush(r);
		if (rc)
			return rc;
		memset(op, 0, sizeof(*op));
		op->kind = kind, op->addr = va, op->off = off, op->prot = prot;
	}
	op->len += len;
	return 0;
}

/* Size of the region a missing entry at (level) leaves unmapped. */
static uint64_t hole_span(uint64_t va, int level)
{
	uint64_t size = 1ull << (12 + 9 * (level - 1));
	return size - (va & (size - 1));
}

int mmu_realise(const struct vm *vm, uint64_t l4, uint64_t start, uint64_t end,
		mmu_emit_fn emit, void *ctx)
{
	struct run r = { .emit = emit, .ctx = ctx };
	struct mmu_walk w;
	uint64_t va = start;

	while (va < end) {
		uint64_t len = PAGE;
		int rc;

		if (mmu_ptwr_hidden(vm, va)) {
			rc = run_add(&r, STUB_OP_MUNMAP, va, 0, 0, len); /* an unhooked L1's range */
		} else if (mmu_walk(vm, l4, va, &w) == 0) {
			rc = run_add(&r, STUB_OP_MMAP, va, w.mfn * PAGE,
				     (uint32_t)mmu_page_prot(vm, va, &w), len);
		} else {
			len = hole_span(va, w.level_missing);
			if (len > end - va)
				len = end - va;
			rc = run_add(&r, STUB_OP_MUNMAP, va, 0, 0, len);
		}
		if (rc)
			return rc;
		va += len;
	}
	return run_flush(&r);
}
