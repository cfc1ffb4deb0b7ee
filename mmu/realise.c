/* realise.c - turn validated guest tables into host mapping operations. */
#include "mmu/mmu.h"
#include "mmu/ptwr.h"

#include <errno.h>
#include <string.h>
#include <sys/mman.h>

#define PAGE 4096ull
#define L1_SPAN (2ull << 20)

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
	int model;              /* describe the host (mmaps only), do not change it */
	int reprotect;          /* the host maps what the tables say: set protections only */
	const uint64_t *was;    /* rehook: the entries of the L1 of [was_base, +2 MiB) while unhooked */
	uint64_t was_base;
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
			 (kind == STUB_OP_MUNMAP || op->prot == prot) &&
			 (kind != STUB_OP_MMAP || op->off + op->len == off);

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

/* Whether an L1 entry maps a frame: what realisation maps a page for. */
static int maps_frame(const struct vm *vm, uint64_t e)
{
	return (e & PTE_P) && ((e & PTE_ADDR_MASK) >> XEN_PAGE_SHIFT) < vm->nr_frames;
}

/* The pages of [start, end) that L1 entries (t), covering from (base),
 * map, reached with (writable) and (exec). An unhooked L1's range (always
 * one L1's whole span) stays mapped with no access (the TLB flush: any
 * access faults), so that its rehook (r->was: what the host maps there
 * now) only gives back the protection of the pages whose entries still
 * map the same frames, and leaves alone what was and is unmapped. */
static int realise_leaves(const struct vm *vm, struct run *r, const uint64_t *t, uint64_t base,
			  uint64_t start, uint64_t end, int writable, int exec)
{
	const uint64_t *was = r->was && base == r->was_base ? r->was : NULL;
	int hidden = mmu_ptwr_hidden(vm, base), kept = hidden && mmu_ptwr_kept(vm), rc = 0;

	for (uint64_t i = (start - base) / PAGE; start < end && !rc; i++, start += PAGE) {
		uint64_t e = t[i], mfn = (e & PTE_ADDR_MASK) >> XEN_PAGE_SHIFT;
		struct mmu_walk w = { .mfn = mfn, .writable = writable && (e & PTE_RW),
				      .exec = exec && !(e & PTE_NX), .user = 1 };
		uint32_t prot;

		if (!maps_frame(vm, e)) {
			if (!r->reprotect && (!was || maps_frame(vm, was[i])))
				rc = run_add(r, STUB_OP_MUNMAP, start, 0, 0, PAGE);
		} else if (kept) {
			rc = r->model ? run_add(r, STUB_OP_MMAP, start, mfn * PAGE, PROT_NONE, PAGE)
				      : run_add(r, STUB_OP_MPROTECT, start, 0, PROT_NONE, PAGE);
		} else if (hidden) {
			if (!r->model && !r->reprotect)
				rc = run_add(r, STUB_OP_MUNMAP, start, 0, 0, PAGE);
		} else {
			prot = (uint32_t)mmu_page_prot(vm, _gva(start), &w);
			rc = r->reprotect || (was && maps_frame(vm, was[i]) && ((was[i] ^ e) & PTE_ADDR_MASK) == 0)
				     ? run_add(r, STUB_OP_MPROTECT, start, 0, prot, PAGE)
				     : run_add(r, STUB_OP_MMAP, start, mfn * PAGE, prot, PAGE);
		}
	}
	return rc;
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

	if (level == 1) /* an out-of-sync L1 as validated: what the host maps while it is */
		return realise_leaves(vm, r, mmu_ptwr_entries(vm, mfn), base, start, end, writable, exec);
	for (uint64_t i = (start - base) / span; start < end && !rc; i++) {
		uint64_t e = t[i], child = (e & PTE_ADDR_MASK) >> XEN_PAGE_SHIFT;
		uint64_t next = base + (i + 1) * span < end ? base + (i + 1) * span : end;
		int w = writable && (e & PTE_RW), x = exec && !(e & PTE_NX);

		if (!(e & PTE_P) || child >= vm->nr_frames) {
			if (!r->reprotect)
				rc = run_add(r, STUB_OP_MUNMAP, start, 0, 0, next - start);
		} else
			rc = realise_table(vm, r, child, level - 1, base + i * span, start, next, w, x);
		start = next;
	}
	return rc;
}

static int realise_with(const struct vm *vm, struct run *r, mfn_t root, uint64_t start, uint64_t end)
{
	uint64_t l4 = mfn_x(root);
	int rc;

	if (start < vm->min_va) /* no process can map there: loads are emulated */
		start = vm->min_va;
	if (end > HOLE_BASE)
		end = HOLE_BASE;
	if (start >= end)
		return 0;
	if (l4 >= vm->nr_frames)
		rc = run_add(r, STUB_OP_MUNMAP, start, 0, 0, end - start);
	else
		rc = realise_table(vm, r, l4, 4, 0, start, end, 1, 1);
	return rc ? rc : run_flush(r);
}

int mmu_realise(const struct vm *vm, mfn_t root, gva_t from, gva_t to,
		mmu_emit_fn emit, void *ctx)
{
	struct run r = { .vm = vm, .emit = emit, .ctx = ctx };

	return realise_with(vm, &r, root, gva_x(from), gva_x(to));
}

int mmu_realise_model(const struct vm *vm, mfn_t root, gva_t from, gva_t to,
		      mmu_emit_fn emit, void *ctx)
{
	struct run r = { .vm = vm, .emit = emit, .ctx = ctx, .model = 1 };

	return realise_with(vm, &r, root, gva_x(from), gva_x(to));
}

int mmu_reprotect(const struct vm *vm, mfn_t root, gva_t from, gva_t to, mmu_emit_fn emit,
		  void *ctx)
{
	struct run r = { .vm = vm, .emit = emit, .ctx = ctx, .reprotect = 1 };

	return realise_with(vm, &r, root, gva_x(from), gva_x(to));
}

int mmu_realise_l1(const struct vm *vm, mfn_t root, gva_t base, const uint64_t *was,
		   mmu_emit_fn emit, void *ctx)
{
	struct run r = { .vm = vm, .emit = emit, .ctx = ctx, .was = was, .was_base = gva_x(base) };

	return realise_with(vm, &r, root, gva_x(base), gva_x(base) + L1_SPAN);
}
