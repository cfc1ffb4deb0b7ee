/*
 * fuzz_common.h - a small domain built by hand for the fuzz harnesses (no
 * files, no processes): 512 frames, bootstrap tables L4 (frame 1), L3 (2),
 * L2 (3), L1 (4) mapping frames 0-63 at 0x400000 (frames 1-4 read-only;
 * frame 40 holds a page-table store, 41 a wrmsr),
 * adopted through the MMU's own code, and a four-frame P2M list (frames
 * 8-11, as for 2048 pages) written on first use. Host operations are
 * checked and carried out on a simulated address space, not run; after
 * every step that space must be exactly what the tables say
 * (mmu_check_host, as --check-invariants does with /proc/PID/maps).
 */
#ifndef PVMM_FUZZ_COMMON_H
#define PVMM_FUZZ_COMMON_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "mmu/mmu.h"
#include "mmu/ptwr.h"

#define FZ_PAGES 512u
#define FZ_BASE 0x400000ull

/* The guest process's address space as the emitted operations leave it:
 * sorted, non-overlapping runs, as the host would report them. */
static struct fz_host {
	struct mmu_host_map *m, *tmp;
	size_t n, cap;
} fz_host;

static void fz_host_push(struct mmu_host_map *out, size_t *n, uint64_t start, uint64_t end,
			 const struct mmu_host_map *from, int prot)
{
	if (start < end)
		out[(*n)++] = (struct mmu_host_map){ start, end, from->off + (start - from->start),
						     prot, 1 };
}

/* Carry out (op) on the simulated space: cut [a, b) out of every run it
 * overlaps (keeping the cut parts with the new prot for an mprotect), then
 * put a new run there for an mmap. */
static void fz_host_apply(const struct stub_op *op)
{
	struct fz_host *h = &fz_host;
	uint64_t a = op->addr, b = op->addr + op->len;
	size_t n = 0, at;

	if (h->cap < h->n * 2 + 3) {
		h->cap = h->n * 2 + 64;
		h->m = realloc(h->m, h->cap * sizeof(*h->m));
		h->tmp = realloc(h->tmp, h->cap * sizeof(*h->tmp));
		if (!h->m || !h->tmp)
			abort();
	}
	if (op->kind == STUB_OP_MPROTECT) { /* the host refuses it (ENOMEM) over a hole */
		uint64_t covered = a;
		for (size_t i = 0; i < h->n && covered < b; i++)
			if (h->m[i].start <= covered && h->m[i].end > covered)
				covered = h->m[i].end;
		if (covered < b) {
			fprintf(stderr, "fuzz invariant: mprotect at %#llx+%#llx over a page not mapped "
				"(%#llx)\n", (unsigned long long)a, (unsigned long long)op->len,
				(unsigned long long)covered);
			abort();
		}
	}
	for (size_t i = 0; i < h->n; i++) {
		const struct mmu_host_map *r = &h->m[i];
		uint64_t lo = r->start > a ? r->start : a, hi = r->end < b ? r->end : b;

		if (lo >= hi) { /* no overlap */
			h->tmp[n++] = *r;
			continue;
		}
		fz_host_push(h->tmp, &n, r->start, lo, r, r->prot);
		if (op->kind == STUB_OP_MPROTECT)
			fz_host_push(h->tmp, &n, lo, hi, r, (int)op->prot);
		fz_host_push(h->tmp, &n, hi, r->end, r, r->prot);
	}
	if (op->kind == STUB_OP_MMAP) {
		for (at = 0; at < n && h->tmp[at].start < a; at++)
			;
		memmove(&h->tmp[at + 1], &h->tmp[at], (n - at) * sizeof(*h->tmp));
		h->tmp[at] = (struct mmu_host_map){ a, b, op->off, (int)op->prot, 1 };
		n++;
	}
	struct mmu_host_map *t = h->m;
	h->m = h->tmp, h->tmp = t, h->n = n;
}

/* What a real Linux host would refuse, written down here on its own (not
 * mmu_check_op, which it checks): a guest that could make pvmm emit such an
 * operation would end pvmm with a host error (status 5). */
#define FZ_MMAP_MIN 0x10000ull          /* vm.mmap_min_addr, as fz_vm's min_va */
#define FZ_TASK_SIZE_MAX 0x7ffffffff000ull /* arch_prctl: EPERM at or above */

static void fz_refused(const struct stub_op *op, const char *why)
{
	fprintf(stderr, "fuzz invariant: the host would refuse op %u at %#llx+%#llx off %#llx "
		"prot %u: %s\n", op->kind, (unsigned long long)op->addr, (unsigned long long)op->len,
		(unsigned long long)op->off, op->prot, why);
	abort();
}

static void fz_host_check(const struct vm *vm, const struct stub_op *op)
{
	if (op->kind == STUB_OP_SET_BASE) {
		if (op->prot != STUB_BASE_FS && op->prot != STUB_BASE_GS)
			fz_refused(op, "neither FS nor GS");
		if (op->addr >= FZ_TASK_SIZE_MAX)
			fz_refused(op, "arch_prctl refuses a base at or above TASK_SIZE_MAX");
		return;
	}
	if (op->kind == STUB_OP_SET_SEL) { /* Linux's user descriptors, 0x23 where it has one */
		if (op->prot != STUB_SEL_DS && op->prot != STUB_SEL_ES)
			fz_refused(op, "neither DS nor ES");
		if (op->addr != 0 && op->addr != STUB_USER_DS && op->addr != STUB_USER_CS &&
		    (op->addr != STUB_USER32_CS || !vm->host_compat))
			fz_refused(op, "a selector the host's GDT does not hold for user code");
		return;
	}
	if (op->kind != STUB_OP_MMAP && op->kind != STUB_OP_MUNMAP && op->kind != STUB_OP_MPROTECT)
		fz_refused(op, "unknown operation");
	if (!op->len || ((op->addr | op->len | op->off) & 4095))
		fz_refused(op, "empty or unaligned");
	if (op->addr < FZ_MMAP_MIN)
		fz_refused(op, "below vm.mmap_min_addr");
	if (op->addr >= HOLE_BASE || op->len > HOLE_BASE - op->addr)
		fz_refused(op, "in the pvmm hole, the upper half or not canonical");
	if (op->kind == STUB_OP_MMAP && (op->off >= vm->nr_frames * 4096ull ||
					 op->len > vm->nr_frames * 4096ull - op->off))
		fz_refused(op, "beyond the end of the memory file");
}

/* Every host operation must be one the host carries out; no page table may
 * ever become writable on the host except an out-of-sync L1's alias. */
static int fz_emit(void *ctx, const struct stub_op *op)
{
	const struct vm *vm = ctx;

	fz_host_check(vm, op);
	if (op->kind == STUB_OP_SET_BASE || op->kind == STUB_OP_SET_SEL)
		return 0;
	fz_host_apply(op);
	if (op->kind == STUB_OP_MMAP && (op->prot & PROT_WRITE))
		for (uint64_t off = 0; off < op->len; off += 4096)
			if (mmu_is_pagetable(vm, (op->off + off) / 4096) &&
			    !mmu_ptwr_alias(vm, op->addr + off, (op->off + off) / 4096))
				abort();
	for (size_t i = 0; op->kind == STUB_OP_MPROTECT && (op->prot & PROT_WRITE) && i < fz_host.n; i++) {
		const struct mmu_host_map *m = &fz_host.m[i]; /* what an mprotect made writable */
		for (uint64_t va = m->start; va < m->end; va += 4096)
			if (va - op->addr < op->len && mmu_is_pagetable(vm, (m->off + va - m->start) / 4096) &&
			    !mmu_ptwr_alias(vm, va, (m->off + va - m->start) / 4096))
				abort();
	}
	if (op->kind == STUB_OP_MMAP && op->prot != PROT_NONE) /* nothing reads unwritten frames */
		for (uint64_t off = 0; off < op->len; off += 4096)
			if (mmu_unfilled(vm, (op->off + off) / 4096))
				abort();
	return 0;
}

/* No guest action may end the domain with a host error (status 5). */
static void fz_no_host_error(const struct vm *vm)
{
	if (vm->end == VM_HOST_ERROR) {
		fprintf(stderr, "fuzz invariant: a host error: %s\n", vm->end_msg);
		abort();
	}
}

static struct vm *fz_vm(void)
{
	static struct vm vm;
	static uint8_t *mem;
	static FILE *devnull;

	if (!mem)
		mem = malloc((FZ_PAGES + LOADER_EXTRA_FRAMES) * 4096ull);
	if (vm.mmu.frames)
		mmu_free(&vm);
	vm_init(&vm);
	fz_host.n = 0; /* a new process: nothing mapped */
	memset(mem, 0, (FZ_PAGES + LOADER_EXTRA_FRAMES) * 4096ull);
	vm.mem = mem;
	vm.nr_pages = FZ_PAGES;
	vm.nr_frames = FZ_PAGES + LOADER_EXTRA_FRAMES; /* shared_info, the grant table */
	vm.min_va = 0x10000;
	vm.lay.shared_info_pfn = FZ_PAGES;
	vm.lay.v_start = FZ_BASE;
	vm.lay.p2m_va = FZ_BASE + 8 * 4096;
	vm.lay.nr_pages = 4 * 512; /* only sizes the P2M list */
	if (!devnull)
		devnull = fopen("/dev/null", "w");
	vm.console = devnull;
	uint64_t *t = (uint64_t *)mem;
	t[1 * 512 + 0] = 2 << 12 | PTE_P | PTE_RW | PTE_US | PTE_A;
	t[2 * 512 + 0] = 3 << 12 | PTE_P | PTE_RW | PTE_US | PTE_A;
	t[3 * 512 + 2] = 4 << 12 | PTE_P | PTE_RW | PTE_US | PTE_A;
	for (uint64_t i = 0; i < 64; i++)
		t[4 * 512 + i] = i << 12 | PTE_P | PTE_US | PTE_A | (i >= 1 && i <= 4 ? 0 : PTE_RW);
	if (mmu_init(&vm) || mmu_defer_p2m(&vm) || mmu_adopt_bootstrap(&vm, _mfn(1)))
		abort();
	vm.mmu.emit = fz_emit;
	vm.mmu.emit_ctx = &vm;
	mem[40 * 4096] = 0x48, mem[40 * 4096 + 1] = 0x89, mem[40 * 4096 + 2] = 0x07; /* mov %rax,(%rdi) */
	mem[41 * 4096] = 0x0f, mem[41 * 4096 + 1] = 0x30; /* wrmsr */
	vm.vcpu.regs.rsp = FZ_BASE + 60 * 4096;
	vm.vcpu.regs.rip = FZ_BASE + 40 * 4096;
	return &vm;
}

/* The realisation as it was first written, page by page with a full walk
 * each, kept as the reference the table-by-table mmu_realise must equal:
 * the guest half's mappings, coalesced as the host would show them.
 * SIZE_MAX when the tables map more than 2^20 pages (too slow to walk). */
static size_t fz_reference(const struct vm *vm, struct mmu_host_map **out)
{
	static struct mmu_host_map *m;
	static size_t cap;
	size_t n = 0, pages = 0;
	struct mmu_walk w;

	for (uint64_t va = vm->min_va, len; va < HOLE_BASE; va += len) {
		if (++pages > (1u << 20))
			return SIZE_MAX;
		struct mmu_host_map page = { va, va + 4096, 0, 0, 1 };
		len = 4096;
		if (mmu_ptwr_hidden(vm, va)) { /* mapped with no access: the validated entry's frame */
			const struct ptwr_slot *s = &vm->mmu.ptwr.slot[PTWR_SLOT_ACTIVE];
			uint64_t e = s->snapshot[(va - s->base) / 4096], f = (e & PTE_ADDR_MASK) >> 12;
			if (!(e & PTE_P) || f >= vm->nr_frames || !s->kept)
				continue; /* (or the whole range unmapped) */
			w.mfn = f;
		} else if (mmu_walk(vm, vcpu_cr3(&vm->vcpu), _gva(va), &w)) {
			len = (1ull << (12 + 9 * (w.level_missing - 1))) -
			      (va & ((1ull << (12 + 9 * (w.level_missing - 1))) - 1));
			continue;
		}
		page.off = w.mfn * 4096;
		page.prot = mmu_ptwr_hidden(vm, va) ? PROT_NONE : mmu_page_prot(vm, _gva(va), &w);
		if (n && m[n - 1].end == va && m[n - 1].prot == page.prot &&
		    m[n - 1].off + (m[n - 1].end - m[n - 1].start) == page.off) {
			m[n - 1].end = page.end;
			continue;
		}
		if (n == cap && !(m = realloc(m, (cap = cap * 2 + 64) * sizeof(*m))))
			abort();
		m[n++] = page;
	}
	*out = m;
	return n;
}

static void fz_check(struct vm *vm)
{
	char why[400] = "";
	int rc;

	if (getenv("FZ_DEBUG") && mmu_check_counts(vm, why, sizeof(why)))
		fprintf(stderr, "before sync: %s\n", why);
	rc = mmu_sync(vm);

	if (rc) {
		fprintf(stderr, "fuzz invariant: mmu_sync failed: %d\n", rc);
		abort();
	}
	if (mmu_check_counts(vm, why, sizeof(why))) {
		fprintf(stderr, "fuzz invariant: %s\n", why);
		abort();
	}
	/* what the operations made is what the tables say */
	if (mmu_check_host(vm, fz_host.m, fz_host.n, why, sizeof(why))) {
		fprintf(stderr, "fuzz invariant: host mappings: %s\n", why);
		abort();
	}
	/* and what the tables say is what a walk of every page says */
	struct mmu_host_map *ref;
	size_t nref = fz_reference(vm, &ref);
	if (nref != SIZE_MAX && mmu_check_host(vm, ref, nref, why, sizeof(why))) {
		fprintf(stderr, "fuzz invariant: realise differs from the page walk: %s\n", why);
		abort();
	}
}

#endif
