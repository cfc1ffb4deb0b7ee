/* frame.c - the frame table: types, counts, validation of page tables. */
#include "mmu/mmu.h"
#include "mmu/ptwr.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define PAGE 4096ull
#define HI_BITS (0x7ffull << 52) /* bits 52-62: available-high / protection keys */
#define L1_FORBIDDEN (PTE_PWT | PTE_PCD | PTE_PSE | HI_BITS)
#define LN_FORBIDDEN (PTE_PWT | PTE_PCD | PTE_PSE | PTE_G | HI_BITS)

static uint64_t *table_of(const struct vm *vm, uint64_t mfn)
{
	return (uint64_t *)(vm->mem + mfn * PAGE);
}

static uint64_t entry_mfn(uint64_t e) { return (e & PTE_ADDR_MASK) >> XEN_PAGE_SHIFT; }
static enum mmu_type level_type(unsigned level) { return (enum mmu_type)(PGT_L1 + level - 1); }
static int is_pt_type(unsigned type) { return type >= PGT_L1 && type <= PGT_L4; }

const char *mmu_type_name(enum mmu_type type)
{
	static const char *const names[PGT_TYPES] = {
		[PGT_NONE] = "none", [PGT_WRITABLE] = "writable", [PGT_L1] = "L1",
		[PGT_L2] = "L2", [PGT_L3] = "L3", [PGT_L4] = "L4", [PGT_SEG_DESC] = "seg_desc",
	};
	return (unsigned)type < PGT_TYPES ? names[type] : "?";
}

int mmu_is_pagetable(const struct vm *vm, uint64_t mfn)
{
	const struct mmu_frame *f;

	if (mfn >= vm->nr_frames)
		return 0;
	f = &vm->mmu.frames[mfn];
	return f->type_count && is_pt_type(f->type);
}

int mmu_init(struct vm *vm)
{
	vm->mmu.frames = calloc(vm->nr_frames, sizeof(*vm->mmu.frames));
	vm->mmu.m2p = calloc(vm->nr_frames, sizeof(*vm->mmu.m2p));
	if (!vm->mmu.frames || !vm->mmu.m2p) {
		mmu_free(vm);
		return -XEN_ENOMEM;
	}
	mmu_space_init(&vm->mmu, vm->mmu.nspaces);
	return 0; /* m2p holds value ^ mfn: untouched (zero) pages mean the identity */
}

pfn_t mmu_m2p(const struct vm *vm, mfn_t m)
{
	return _pfn(vm->mmu.m2p[mfn_x(m)] ^ mfn_x(m));
}

void mmu_free(struct vm *vm)
{
	free(vm->mmu.frames);
	free(vm->mmu.m2p);
	free(vm->mmu.deferred.unfilled);
	vm->mmu.frames = NULL;
	vm->mmu.m2p = NULL;
	memset(&vm->mmu.deferred, 0, sizeof(vm->mmu.deferred));
}

static int validate_table(struct vm *vm, uint64_t mfn, unsigned level);
static void devalidate_table(struct vm *vm, uint64_t mfn, unsigned level);

/* Xen's get_page_type: a new type only at count 0; tables are validated
 * when they become tables. */
static int refuse(struct vm *vm, enum vm_why why)
{
	vm->mmu.why = why;
	return -XEN_EINVAL;
}

static enum vm_why conflict(enum mmu_type want, enum mmu_type have)
{
	if (want == PGT_WRITABLE)
		return VM_WHY_WRITABLE_PT_MAPPING;
	if (have == PGT_WRITABLE)
		return VM_WHY_MAPPED_WRITABLE;
	return VM_WHY_OTHER_LEVEL;
}

static int get_type(struct vm *vm, uint64_t mfn, enum mmu_type type)
{
	struct mmu_frame *f = &vm->mmu.frames[mfn];
	int rc;

	if (f->type_count) {
		if (f->type != type)
			return refuse(vm, conflict(type, (enum mmu_type)f->type));
		if (f->type_count == UINT32_MAX)
			return refuse(vm, VM_WHY_TYPE_OVERFLOW);
		f->type_count++;
		return 0;
	}
	f->type = (uint8_t)type;
	f->type_count = 1;
	if (!is_pt_type(type))
		return 0;
	rc = validate_table(vm, mfn, (unsigned)(type - PGT_L1 + 1));
	if (rc) {
		f->type = PGT_NONE;
		f->type_count = 0;
	}
	return rc;
}

static void put_type(struct vm *vm, uint64_t mfn)
{
	struct mmu_frame *f = &vm->mmu.frames[mfn];

	if (--f->type_count)
		return;
	if (is_pt_type(f->type))
		devalidate_table(vm, mfn, (unsigned)(f->type - PGT_L1 + 1));
	f->type = PGT_NONE;
}

uint64_t mmu_grant_frame(const struct vm *vm, unsigned i)
{
	return vm->nr_pages + 1 + i; /* after RAM and shared_info */
}

uint64_t mmu_status_frame(const struct vm *vm, unsigned i)
{
	return mmu_grant_frame(vm, LOADER_GRANT_FRAMES + i);
}

int mmu_owned(const struct vm *vm, uint64_t mfn)
{
	uint64_t first = mmu_grant_frame(vm, 0);

	if (mfn >= vm->nr_frames || vm->mmu.frames[mfn].owner != FRAME_OWNED)
		return 0; /* beyond memory, or given back (balloon.c) */
	if (mfn < first)
		return 1; /* RAM and shared_info */
	if (mfn - first < LOADER_GRANT_FRAMES)
		return mfn - first < vm_grant_frames(&vm->grant);
	return mfn - first - LOADER_GRANT_FRAMES < vm->grant.status_frames;
}

int mmu_get_page(struct vm *vm, uint64_t mfn)
{
	if (!mmu_owned(vm, mfn))
		return -XEN_EINVAL;
	vm->mmu.frames[mfn].refs++;
	return 0;
}

void mmu_put_page(struct vm *vm, uint64_t mfn)
{
	vm->mmu.frames[mfn].refs--;
}

int mmu_get_page_and_type(struct vm *vm, uint64_t mfn, enum mmu_type type)
{
	int rc;

	if (mfn >= vm->nr_frames)
		return -XEN_EINVAL;
	if (vm->mmu.frames[mfn].owner != FRAME_OWNED)
		return refuse(vm, VM_WHY_GIVEN_BACK);
	if (!mmu_owned(vm, mfn))
		return -XEN_EINVAL;
	rc = get_type(vm, mfn, type);
	if (!rc)
		vm->mmu.frames[mfn].refs++;
	return rc;
}

void mmu_put_page_and_type(struct vm *vm, uint64_t mfn)
{
	vm->mmu.frames[mfn].refs--;
	put_type(vm, mfn);
	mmu_put_dying(vm, mfn);
}

/* A linear entry of table (t) at (level) pointing at (e)'s frame. */
static int get_linear(struct vm *vm, uint64_t t, unsigned level, uint64_t e)
{
	uint64_t u = entry_mfn(e);
	struct mmu_frame *ft = &vm->mmu.frames[t], *fu = &vm->mmu.frames[u];

	if (fu->type != level_type(level) || !fu->type_count)
		return refuse(vm, level == 2 ? VM_WHY_L2_TARGET
			      : level == 3 ? VM_WHY_L3_TARGET
					   : VM_WHY_L4_TARGET);
	if (e & PTE_RW)
		return refuse(vm, VM_WHY_LINEAR_WRITABLE);
	if (u == t)
		return 0;           /* a self map takes no reference */
	if (ft->linear_uses || fu->linear_entries)
		return refuse(vm, VM_WHY_LINEAR_DEPTH);
	if (fu->type_count == UINT32_MAX)
		return refuse(vm, VM_WHY_TYPE_OVERFLOW);
	fu->type_count++;
	fu->refs++;
	ft->linear_entries++;
	fu->linear_uses++;
	return 0;
}

static int flags_ok(unsigned level, unsigned idx, uint64_t e)
{
	(void)idx;
	return !(e & (level == 1 ? L1_FORBIDDEN : LN_FORBIDDEN));
}

/* Take what entry (e), at (idx) of table (t) of (level), needs. */
static int get_entry(struct vm *vm, uint64_t t, unsigned level, unsigned idx, uint64_t e)
{
	uint64_t mfn = entry_mfn(e);
	int rc;

	if (!(e & PTE_P))
		return 0;
	if (level == 4 && idx >= HOLE_L4_SLOT)
		return refuse(vm, VM_WHY_HOLE_SLOT);
	if (!flags_ok(level, idx, e))
		return refuse(vm, level == 1 ? VM_WHY_L1_FORBIDDEN_BITS
			      : VM_WHY_FORBIDDEN_BITS);
	if (mfn >= vm->nr_frames)
		return refuse(vm, VM_WHY_BEYOND_MEMORY);
	if (vm->mmu.frames[mfn].owner != FRAME_OWNED)
		return refuse(vm, VM_WHY_GIVEN_BACK);
	if (!mmu_owned(vm, mfn))
		return refuse(vm, VM_WHY_NOT_OWNED);
	if (level == 1) {
		if (e & PTE_RW)
			return mmu_get_page_and_type(vm, mfn, PGT_WRITABLE);
		vm->mmu.frames[mfn].refs++;
		return 0;
	}
	rc = mmu_get_page_and_type(vm, mfn, level_type(level - 1));
	if (rc == -XEN_EINVAL)
		rc = get_linear(vm, t, level, e);
	return rc;
}

static void put_entry(struct vm *vm, uint64_t t, unsigned level, uint64_t e)
{
	uint64_t mfn = entry_mfn(e);
	struct mmu_frame *fu;

	if (!(e & PTE_P))
		return;
	fu = &vm->mmu.frames[mfn];
	if (level == 1 && !(e & PTE_RW)) {
		fu->refs--;
		mmu_put_dying(vm, mfn);
		return;
	}
	if (level > 1 && mfn == t)
		return; /* self map */
	if (level > 1 && fu->type == level_type(level)) {
		vm->mmu.frames[t].linear_entries--;
		fu->linear_uses--;
	}
	mmu_put_page_and_type(vm, mfn);
}

static int validate_table(struct vm *vm, uint64_t mfn, unsigned level)
{
	const uint64_t *tab = (const uint64_t *)mmu_frame_data(vm, mfn);
	int rc = 0;
	unsigned i;

	for (i = 0; i < PT_ENTRIES && !rc; i++)
		rc = get_entry(vm, mfn, level, i, tab[i]);
	if (!rc) {
		vm->mmu.count.validations++;
		return 0;
	}
	for (unsigned j = 0; j + 1 < i; j++) /* undo what entries 0..i-2 took */
		put_entry(vm, mfn, level, tab[j]);
	return rc;
}

static void devalidate_table(struct vm *vm, uint64_t mfn, unsigned level)
{
	/* the references stand for the snapshot of an out-of-sync L1 */
	const uint64_t *tab = mmu_ptwr_entries(vm, mfn);

	for (unsigned i = 0; i < PT_ENTRIES; i++)
		put_entry(vm, mfn, level, tab[i]);
	vm->mmu.count.devalidations++;
	if (level == 4)
		mmu_space_forget(vm, mfn); /* its contents may now change unrecorded */
}

int mmu_mod_entry(struct vm *vm, mfn_t table, unsigned idx, uint64_t val, int preserve_ad)
{
	uint64_t mfn = mfn_x(table);
	const struct mmu_frame *f;
	uint64_t *tab, old;
	unsigned level;
	int rc;

	if (!mmu_is_pagetable(vm, mfn) || idx >= PT_ENTRIES)
		return -XEN_EINVAL;
	f = &vm->mmu.frames[mfn];
	tab = table_of(vm, mfn);
	old = tab[idx];
	level = (unsigned)(f->type - PGT_L1 + 1);
	if (preserve_ad)
		val |= old & (PTE_A | PTE_D);
	rc = get_entry(vm, mfn, level, idx, val);
	if (rc) {
		vm->mmu.count.updates_refused++;
		return rc;
	}
	tab[idx] = val;
	put_entry(vm, mfn, level, old);
	vm->mmu.count.updates++;
	if (old != val)
		mmu_mark_dirty(vm, _mfn(mfn), idx);
	return 0;
}
