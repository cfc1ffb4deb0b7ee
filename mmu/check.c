/* check.c - the model checker: the host's real mappings against the tables,
 * and the frame table's counts against the entries that make them. */
#include "mmu/mmu.h"
#include "mmu/ptwr.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#define PAGE 4096ull

struct maplist {
	struct mmu_host_map *m;
	size_t n, cap;
};

static int push(struct maplist *l, const struct mmu_host_map *m)
{
	if (l->n && l->m[l->n - 1].end == m->start && l->m[l->n - 1].prot == m->prot &&
	    l->m[l->n - 1].off + (l->m[l->n - 1].end - l->m[l->n - 1].start) == m->off) {
		l->m[l->n - 1].end = m->end; /* adjacent and contiguous: one run */
		return 0;
	}
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 64;
		struct mmu_host_map *p = realloc(l->m, cap * sizeof(*p));
		if (!p)
			return -ENOMEM;
		l->m = p, l->cap = cap;
	}
	l->m[l->n++] = *m;
	return 0;
}

static int collect(void *ctx, const struct stub_op *op)
{
	struct mmu_host_map m = { op->addr, op->addr + op->len, op->off, (int)op->prot, 1 };

	return op->kind == STUB_OP_MMAP ? push(ctx, &m) : 0;
}

static void describe(char *why, size_t len, const char *what, const struct mmu_host_map *m)
{
	if (m)
		snprintf(why, len, "%s: [%#llx, %#llx) offset %#llx prot %c%c%c", what,
			 (unsigned long long)m->start, (unsigned long long)m->end,
			 (unsigned long long)m->off, m->prot & PROT_READ ? 'r' : '-',
			 m->prot & PROT_WRITE ? 'w' : '-', m->prot & PROT_EXEC ? 'x' : '-');
	else
		snprintf(why, len, "%s", what);
}

static int same(const struct mmu_host_map *a, const struct mmu_host_map *b)
{
	return a->start == b->start && a->end == b->end && a->off == b->off && a->prot == b->prot;
}

static int compare(const struct maplist *want, const struct maplist *have, char *why, size_t len)
{
	size_t i;

	for (i = 0; i < want->n && i < have->n; i++) {
		if (!same(&want->m[i], &have->m[i])) {
			char w[160];
			describe(w, sizeof(w), "tables say", &want->m[i]);
			describe(why, len, w, &have->m[i]);
			strncat(why, " on the host", len - strlen(why) - 1);
			return -EINVAL;
		}
	}
	if (i < want->n)
		describe(why, len, "missing on the host", &want->m[i]);
	else if (i < have->n)
		describe(why, len, "mapped on the host but not in the tables", &have->m[i]);
	return i < want->n || i < have->n ? -EINVAL : 0;
}

static int writable_table(const struct vm *vm, const struct maplist *have, char *why, size_t len)
{
	for (size_t i = 0; i < have->n; i++) {
		const struct mmu_host_map *m = &have->m[i];
		if (!(m->prot & PROT_WRITE))
			continue;
		for (uint64_t off = m->off; off < m->off + (m->end - m->start); off += PAGE) {
			uint64_t va = m->start + off - m->off;
			if (mmu_is_pagetable(vm, off / PAGE) && !mmu_ptwr_alias(vm, va, off / PAGE)) {
				snprintf(why, len, "page-table frame %#llx (%s) is writable on the host at %#llx",
					 (unsigned long long)(off / PAGE),
					 mmu_type_name(vm->mmu.frames[off / PAGE].type),
					 (unsigned long long)(m->start + off - m->off));
				return -EINVAL;
			}
		}
	}
	return 0;
}

int mmu_check_host(const struct vm *vm, const struct mmu_host_map *maps, size_t n,
		   char *why, size_t whylen)
{
	struct maplist want = { 0 }, have = { 0 };
	int rc = mmu_realise_model(vm, vcpu_cr3(&vm->vcpu), _gva(vm->min_va), _gva(HOLE_BASE), collect, &want);

	for (size_t i = 0; !rc && i < n; i++) {
		if (maps[i].start >= HOLE_BASE)
			continue;
		if (!maps[i].guest_mem) {
			describe(why, whylen, "a host mapping that is not guest memory", &maps[i]);
			rc = -EINVAL;
			break;
		}
		rc = push(&have, &maps[i]);
	}
	if (!rc)
		rc = compare(&want, &have, why, whylen);
	if (!rc)
		rc = writable_table(vm, &have, why, whylen);
	free(want.m);
	free(have.m);
	return rc;
}

/* ---- counts ---------------------------------------------------------------- */

struct expect {
	uint32_t type_count, refs;
	uint16_t linear_entries;
	uint32_t linear_uses;
};

static void count_entry(const struct vm *vm, struct expect *x, uint64_t t, unsigned level, uint64_t e)
{
	uint64_t u = (e & PTE_ADDR_MASK) >> XEN_PAGE_SHIFT;

	if (!(e & PTE_P) || u >= vm->nr_frames)
		return;
	if (level == 1) {
		x[u].refs++;
		x[u].type_count += !!(e & PTE_RW);
		return;
	}
	if (u == t)
		return;
	x[u].refs++;
	x[u].type_count++;
	if (vm->mmu.frames[u].type == PGT_L1 + level - 1) {
		x[t].linear_entries++;
		x[u].linear_uses++;
	}
}

/* Frames given back (balloon.c): nothing the tables hold names one, and
 * vm->mmu.given_back counts them (a dying frame still counts as the
 * domain's). */
static int check_given_back(const struct vm *vm, const struct expect *x, char *why, size_t whylen)
{
	uint64_t out = 0;

	for (uint64_t m = 0; m < vm->nr_pages; m++) {
		uint8_t o = vm->mmu.frames[m].owner;
		if (o == FRAME_OWNED || o == FRAME_DYING)
			continue;
		out++;
		if (x[m].refs) {
			snprintf(why, whylen, "frame %#llx was given back but the tables hold %u "
				 "references to it", (unsigned long long)m, x[m].refs);
			return -EINVAL;
		}
	}
	if (out != vm->mmu.given_back) {
		snprintf(why, whylen, "%llu frames are out of the reservation, the count says %llu",
			 (unsigned long long)out, (unsigned long long)vm->mmu.given_back);
		return -EINVAL;
	}
	return 0;
}

int mmu_check_counts(const struct vm *vm, char *why, size_t whylen)
{
	struct expect *x = calloc(vm->nr_frames, sizeof(*x));
	int rc = 0;

	if (!x)
		return -ENOMEM;
	for (uint64_t t = 0; t < vm->nr_frames; t++) {
		const struct mmu_frame *f = &vm->mmu.frames[t];
		if (f->pinned)
			x[t].refs++, x[t].type_count++;
		if (!mmu_is_pagetable(vm, t))
			continue;
		const uint64_t *tab = mmu_ptwr_entries(vm, t); /* as validated */
		for (unsigned i = 0; i < PT_ENTRIES; i++)
			count_entry(vm, x, t, (unsigned)(f->type - PGT_L1 + 1), tab[i]);
	}
	x[vm->vcpu.kernel_l4].refs++, x[vm->vcpu.kernel_l4].type_count++;
	for (unsigned i = 0; i < vm->vcpu.gdt_frames; i++)
		x[vm->vcpu.gdt[i]].refs++, x[vm->vcpu.gdt[i]].type_count++;
	if (vm->vcpu.user_l4)
		x[vm->vcpu.user_l4].refs++, x[vm->vcpu.user_l4].type_count++;
	for (unsigned h = 0; h < VM_GRANT_HANDLES; h++) { /* grant device mappings */
		const struct vm_grant_map *g = &vm->grant.map[h];
		if (g->flags & GNTMAP_device_map)
			x[g->mfn].refs++, x[g->mfn].type_count += !(g->flags & GNTMAP_readonly);
	}
	if (vm->ev.vcpu_info_moved) /* VCPUOP_register_vcpu_info's writable reference */
		x[vm->ev.vcpu_info_mfn].refs++, x[vm->ev.vcpu_info_mfn].type_count++;
	for (uint64_t m = 0; !rc && m < vm->nr_frames; m++) {
		const struct mmu_frame *f = &vm->mmu.frames[m];
		if (f->type_count != x[m].type_count || f->refs != x[m].refs ||
		    f->linear_entries != x[m].linear_entries || f->linear_uses != x[m].linear_uses ||
		    (!f->type_count && f->type != PGT_NONE)) {
			snprintf(why, whylen, "frame %#llx (%s): type count %u refs %u linear %u/%u, "
				 "the tables say %u refs %u linear %u/%u", (unsigned long long)m,
				 mmu_type_name(f->type), f->type_count, f->refs, f->linear_entries,
				 f->linear_uses, x[m].type_count, x[m].refs, x[m].linear_entries,
				 x[m].linear_uses);
			rc = -EINVAL;
		}
	}
	if (!rc)
		rc = check_given_back(vm, x, why, whylen);
	free(x);
	return rc;
}
