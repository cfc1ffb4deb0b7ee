/* realise.c - turn validated guest tables into host mapping operations. */
#include "mmu/mmu.h"
#include "mmu/ptwr.h"

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

int mmu_page_prot(const struct vm *vm, gva_t addr, const struct mmu_walk *w)
{
	uint64_t va = gva_x(addr);
	if (mmu_unfilled(vm, w->mfn))
		return PROT_NONE; /* the first access faults and writes it */
	return mmu_host_prot(host_writable(vm, va, w), w->exec);
}

int mmu_check_op(const struct vm *vm, const struct stub_op *op)
{
	uint64_t file = vm->nr_frames * PAGE;

	if (op->kind == STUB_OP_SET_BASE)
		return (op->prot == STUB_BASE_FS || op->prot == STUB_BASE_GS) &&
		       vm_host_base_ok(op->addr) ? 0 : -EINVAL;
	if (op->kind == STUB_OP_SET_SEL)
		return (op->prot == STUB_SEL_DS || op->prot == STUB_SEL_ES) &&
		       (op->addr == 0 || op->addr == STUB_USER_DS || op->addr == STUB_USER_CS ||
			(op->addr == STUB_USER32_CS && vm->host_compat)) ? 0 : -EINVAL;
	if (op->kind < STUB_OP_MMAP || op->kind > STUB_OP_MPROTECT)
		return -EINVAL;
	if (op->addr < vm->min_va || op->addr >= HOLE_BASE || !op->len ||
	    op->len > HOLE_BASE - op->addr || (op->addr | op->len | op->off) & (PAGE - 1))
		return -EINVAL;
	if (op->kind == STUB_OP_MMAP && (op->off >= file || op->len > file - op->off))
		return -EINVAL;
	return 0;
}

/* A run of pages being coalesced into one operation. */
struct run {
	const struct vm *vm;
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
		rc = mmu_check_op(r->vm, &r->op) ? -EINVAL : r->emit(r->ctx, &r->op);
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

/* One page at (va) mapping frame (mfn) with the flags its walk gathered. */
static int leaf(const struct vm *vm, struct run *r, uint64_t va, uint64_t mfn, int writable,
		int exec)
{
	struct mmu_walk w = { .mfn = mfn, .writable = writable, .exec = exec, .user = 1 };

	if (mmu_ptwr_hidden(vm, va))
		return run_add(r, STUB_OP_MUNMAP, va, 0, 0, PAGE); /* an unhooked L1's range */
	return run_add(r, STUB_OP_MMAP, va, mfn * PAGE, (uint32_t)mmu_page_prot(vm, _gva(va), &w), PAGE);
}

/* Realise [start, end) below table (mfn), a level-(level) table covering
 * from (base), reached with (writable) and (exec): one pass over each table
 * the range touches, instead of a four-level walk per page. */
static int realise_table(const struct vm *vm, struct run *r, uint64_t mfn, unsigned level,
			 uint64_t base, uint64_t start, uint64_t end, int writable, int exec)
{
	const uint64_t *t = (const uint64_t *)(vm->mem + mfn * PAGE);
	uint64_t span = 1ull << (12 + 9 * (level - 1));
	int rc = 0;

	for (uint64_t i = (start - base) / span; start < end && !rc; i++) {
		uint64_t e = t[i], child = (e & PTE_ADDR_MASK) >> XEN_PAGE_SHIFT;
		uint64_t next = base + (i + 1) * span < end ? base + (i + 1) * span : end;
		int w = writable && (e & PTE_RW), x = exec && !(e & PTE_NX);

		if (!(e & PTE_P) || child >= vm->nr_frames)
			rc = run_add(r, STUB_OP_MUNMAP, start, 0, 0, next - start);
		else if (level == 1)
			rc = leaf(vm, r, start, child, w, x);
		else
			rc = realise_table(vm, r, child, level - 1, base + i * span, start, next, w, x);
		start = next;
	}
	return rc;
}

int mmu_realise(const struct vm *vm, mfn_t root, gva_t from, gva_t to,
		mmu_emit_fn emit, void *ctx)
{
	uint64_t l4 = mfn_x(root), start = gva_x(from), end = gva_x(to);
	struct run r = { .vm = vm, .emit = emit, .ctx = ctx };
	int rc;

	if (start < vm->min_va) /* no process can map there: loads are emulated */
		start = vm->min_va;
	if (end > HOLE_BASE)
		end = HOLE_BASE;
	if (start >= end)
		return 0;
	if (l4 >= vm->nr_frames)
		rc = run_add(&r, STUB_OP_MUNMAP, start, 0, 0, end - start);
	else
		rc = realise_table(vm, &r, l4, 4, 0, start, end, 1, 1);
	return rc ? rc : run_flush(&r);
}
