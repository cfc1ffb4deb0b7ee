/* grant.c - the grant table of a PV domain, as Xen's common/grant_table.c
 * and x86 pv/grant_table.c run it for a domain alone with its own grants.
 *
 * The table's frames follow shared_info in the memory file (mmu_grant_frame,
 * mmu_status_frame); the guest maps them and writes entries. Granted to
 * itself (its own domain id, as Xen: map_grant_ref takes no DOMID_SELF), an
 * entry can be mapped (host and device mappings, a handle each, GTF_reading
 * and GTF_writing set while in use, the frame referenced as Xen references
 * it), copied from and to, swapped and flushed. Versions 1 and 2 (status
 * frames), and the first GNTTAB_NR_RESERVED_ENTRIES kept across a change.
 * Domain 0 exists, as the backend of the console and the store, but grants
 * this domain nothing. Transfer is -ENOSYS. */
#include "hypercalls/hc.h"
#include "mmu/mmu.h"

#include <stddef.h>
#include <string.h>

#define PAGE 4096u
#define CMD_MASK 0xfffu            /* Xen's GNTTABOP_CMD_MASK: the rest continues */
#define V1_PER_FRAME (PAGE / sizeof(struct grant_entry_v1))
#define V2_PER_FRAME (PAGE / sizeof(struct grant_entry_v2))
#define STATUS_PER_FRAME (PAGE / sizeof(uint16_t))
#define DOM0_REFS V1_PER_FRAME     /* domain 0's table: one frame of version 1 */
#define NO_HANDLE UINT32_MAX

/* Xen's active-entry pin counts: eight bits each. */
#define PIN_HSTW 0x1u
#define PIN_HSTR 0x100u
#define PIN_DEVW 0x10000u
#define PIN_DEVR 0x1000000u
#define PIN_W_MASK 0x00ff00ffu     /* writable host or device pins */
#define PIN_OVERFLOW 0x80808080u   /* a count about to overflow */

/* ---- domains ------------------------------------------------------------- */

enum dom { DOM_NONE, DOM_SELF, DOM_ZERO };

/* rcu_lock_domain_by_id: a domain id, not DOMID_SELF. */
static enum dom by_id(uint16_t id)
{
	return id == VM_DOMID ? DOM_SELF : id == 0 ? DOM_ZERO : DOM_NONE;
}

/* rcu_lock_domain_by_any_id: DOMID_SELF too. */
static enum dom by_any_id(uint16_t id)
{
	return id == DOMID_SELF ? DOM_SELF : by_id(id);
}

/* An entry of domain 0's table, which grants this domain nothing. */
static int16_t dom0_ref(uint32_t ref)
{
	return ref < DOM0_REFS ? GNTST_general_error : GNTST_bad_gntref;
}

/* Xen's guest_handle_okay for a 64-bit PV guest: not in Xen's own range. */
static int handle_okay(uint64_t addr)
{
	return addr < 0x0000800000000000ull || addr >= 0xffff880000000000ull;
}

/* ---- the table ------------------------------------------------------------ */

static uint32_t per_frame(const struct vm *vm)
{
	return vm->grant.v2 ? V2_PER_FRAME : V1_PER_FRAME;
}

static uint32_t nr_entries(const struct vm *vm)
{
	return vm_grant_frames(&vm->grant) * per_frame(vm);
}

static uint32_t status_frames_for(uint32_t frames)
{
	return (frames * (uint32_t)V2_PER_FRAME + STATUS_PER_FRAME - 1) / STATUS_PER_FRAME;
}

/* Entry (ref) < nr_entries() in guest memory: a v1 or a v2 entry. */
static uint8_t *entry(struct vm *vm, uint32_t ref)
{
	uint32_t n = per_frame(vm);
	size_t size = vm->grant.v2 ? sizeof(struct grant_entry_v2) : sizeof(struct grant_entry_v1);

	return mmu_frame_data(vm, mmu_grant_frame(vm, ref / n)) + (ref % n) * size;
}

/* The header both versions start with: flags, then the granted domain. */
static uint16_t *entry_flags(struct vm *vm, uint32_t ref)
{
	return (uint16_t *)entry(vm, ref);
}

static uint16_t entry_domid(struct vm *vm, uint32_t ref)
{
	return ((const uint16_t *)entry(vm, ref))[1];
}

/* Where GTF_reading and GTF_writing go: the entry (v1), its status (v2). */
static uint16_t *status_of(struct vm *vm, uint32_t ref)
{
	uint16_t *st;

	if (!vm->grant.v2)
		return entry_flags(vm, ref);
	st = (uint16_t *)mmu_frame_data(vm, mmu_status_frame(vm, ref / STATUS_PER_FRAME));
	return st + ref % STATUS_PER_FRAME;
}

/* The frame a full-page entry grants (v2: transitive entries too, whose
 * gref sits there, as Xen reads it). */
static uint64_t entry_frame(struct vm *vm, uint32_t ref)
{
	if (vm->grant.v2)
		return ((const struct grant_entry_v2 *)entry(vm, ref))->frame;
	return ((const struct grant_entry_v1 *)entry(vm, ref))->frame;
}

static void zero_frames(struct vm *vm, uint64_t (*frame)(const struct vm *, unsigned),
			uint32_t from, uint32_t to)
{
	for (uint32_t i = from; i < to; i++)
		memset(mmu_frame_data(vm, frame(vm, i)), 0, PAGE);
}

/* Xen's gnttab_grow_table: new frames are the domain's and zero. */
static void grow(struct vm *vm, uint32_t frames)
{
	struct vm_grant *g = &vm->grant;

	if (frames > vm_grant_frames(g)) {
		zero_frames(vm, mmu_grant_frame, vm_grant_frames(g), frames);
		g->frames = frames;
	}
	if (g->v2 && status_frames_for(vm_grant_frames(g)) > g->status_frames) {
		zero_frames(vm, mmu_status_frame, g->status_frames,
			    status_frames_for(vm_grant_frames(g)));
		g->status_frames = status_frames_for(vm_grant_frames(g));
	}
}

/* ---- pinning an entry ------------------------------------------------------ */

/* Xen's _set_status: an entry not in use must be a grant to this domain of
 * the right type; writing needs it not read-only. Marks it in use. */
static int16_t set_status_for(struct vm *vm, uint32_t ref, int ro, int mapping, uint16_t grantee)
{
	uint16_t flags = *entry_flags(vm, ref);
	uint16_t type = flags & (GTF_type_mask | (mapping ? GTF_sub_page : 0));
	int ok_type = type == GTF_permit_access || (vm->grant.v2 && type == GTF_transitive);

	if (!vm->grant.active[ref].pin && (!ok_type || entry_domid(vm, ref) != grantee))
		return GNTST_general_error;
	if (!ro && (flags & GTF_readonly))
		return GNTST_general_error;
	*status_of(vm, ref) |= GTF_reading | (ro ? 0 : GTF_writing);
	return GNTST_okay;
}

static int16_t set_status(struct vm *vm, uint32_t ref, int ro, int mapping)
{
	return set_status_for(vm, ref, ro, mapping, VM_DOMID);
}

/* After pins were dropped (or not taken): GTF_writing goes when nothing
 * writes any more (and the use was a writing one), GTF_reading when
 * nothing uses the entry. */
static void clear_status(struct vm *vm, uint32_t ref, int ro)
{
	uint32_t pin = vm->grant.active[ref].pin;
	uint16_t clear = 0;

	if (!ro && !(pin & PIN_W_MASK))
		clear |= GTF_writing;
	if (!pin)
		clear |= GTF_reading;
	*status_of(vm, ref) &= (uint16_t)~clear;
}

/* Pin entry (ref) of this domain for a mapping with (flags): the frame in
 * (*mfn). Xen's map_grant_ref up to the pin. */
static int16_t pin_for_map(struct vm *vm, uint32_t ref, uint32_t flags, uint64_t *mfn)
{
	struct vm_grant_active *act;
	int ro = !!(flags & GNTMAP_readonly);
	int16_t rc;

	if (ref >= nr_entries(vm))
		return GNTST_bad_gntref;
	act = &vm->grant.active[ref];
	if (act->pin & PIN_OVERFLOW)
		return GNTST_general_error;
	if (!act->pin || (!ro && !(act->pin & PIN_W_MASK))) {
		rc = set_status(vm, ref, ro, 1);
		if (rc)
			return rc;
		if (!act->pin) {
			uint64_t frame = entry_frame(vm, ref);
			if (!mmu_owned(vm, frame)) {
				clear_status(vm, ref, ro);
				return GNTST_bad_page;
			}
			*act = (struct vm_grant_active){ 0, (uint32_t)frame, 0, PAGE };
		}
	}
	if (flags & GNTMAP_device_map)
		act->pin += ro ? PIN_DEVR : PIN_DEVW;
	if (flags & GNTMAP_host_map)
		act->pin += ro ? PIN_HSTR : PIN_HSTW;
	*mfn = act->mfn;
	return GNTST_okay;
}

static void unpin_map(struct vm *vm, uint32_t ref, uint32_t flags)
{
	struct vm_grant_active *act = &vm->grant.active[ref];
	int ro = !!(flags & GNTMAP_readonly);

	if (flags & GNTMAP_device_map)
		act->pin -= ro ? PIN_DEVR : PIN_DEVW;
	if (flags & GNTMAP_host_map)
		act->pin -= ro ? PIN_HSTR : PIN_HSTW;
	clear_status(vm, ref, ro);
}

/* ---- map and unmap --------------------------------------------------------- */

/* The PTE of a host mapping (Xen's grant_to_pte_flags): present, accessed,
 * dirty, not executable, writable unless read-only, user with
 * application_map, and the guest's available bits. */
static uint64_t grant_pte(uint32_t flags, uint64_t mfn)
{
	uint64_t pte = (mfn << XEN_PAGE_SHIFT) | PTE_P | PTE_A | PTE_D | PTE_NX;

	if (!(flags & GNTMAP_readonly))
		pte |= PTE_RW;
	if (flags & GNTMAP_application_map)
		pte |= PTE_US;
	return pte | (((uint64_t)(flags >> _GNTMAP_guest_avail0) & 7) << 9);
}

static int host_map(struct vm *vm, uint64_t addr, uint32_t flags, uint64_t mfn)
{
	uint64_t l1, old;
	unsigned idx;

	if (mmu_grant_l1e(vm, addr, !!(flags & GNTMAP_contains_pte), &l1, &idx, &old))
		return -XEN_EINVAL;
	return mmu_mod_entry(vm, _mfn(l1), idx, grant_pte(flags, mfn), 0);
}

/* The references a device mapping holds itself (a host mapping's are its
 * PTE's): a general one, and a writable type one unless read-only. */
static int get_device(struct vm *vm, uint64_t mfn, uint32_t flags)
{
	if (flags & GNTMAP_readonly)
		return mmu_get_page(vm, mfn);
	return mmu_get_page_and_type(vm, mfn, PGT_WRITABLE);
}

static void put_device(struct vm *vm, uint64_t mfn, uint32_t flags)
{
	if (flags & GNTMAP_readonly)
		mmu_put_page(vm, mfn);
	else
		mmu_put_page_and_type(vm, mfn);
}

static uint32_t free_handle(const struct vm *vm)
{
	for (uint32_t i = 0; i < VM_GRANT_HANDLES; i++) {
		uint32_t h = (vm->grant.next_handle + i) % VM_GRANT_HANDLES;
		if (!vm->grant.map[h].flags)
			return h;
	}
	return NO_HANDLE;
}

/* Take the frame's references and make the mappings (flags) asks for. */
static int16_t map_frame(struct vm *vm, const struct gnttab_map_grant_ref *op, uint64_t mfn)
{
	if ((op->flags & GNTMAP_device_map) && get_device(vm, mfn, op->flags))
		return GNTST_general_error;
	if ((op->flags & GNTMAP_host_map) && host_map(vm, op->host_addr, op->flags, mfn)) {
		if (op->flags & GNTMAP_device_map)
			put_device(vm, mfn, op->flags);
		return GNTST_general_error;
	}
	return GNTST_okay;
}

static int16_t map_one(struct vm *vm, struct gnttab_map_grant_ref *op)
{
	enum dom rd = by_id(op->dom);
	uint32_t h;
	uint64_t mfn;
	int16_t rc;

	if (!(op->flags & (GNTMAP_device_map | GNTMAP_host_map)))
		return GNTST_bad_gntref;
	if (rd == DOM_NONE)
		return GNTST_bad_domain;
	h = free_handle(vm);
	if (h == NO_HANDLE)
		return GNTST_no_device_space;
	if (rd == DOM_ZERO)
		return dom0_ref(op->ref);
	rc = pin_for_map(vm, op->ref, op->flags, &mfn);
	if (rc)
		return rc;
	rc = map_frame(vm, op, mfn);
	if (rc) {
		unpin_map(vm, op->ref, op->flags);
		return rc;
	}
	vm->grant.map[h] = (struct vm_grant_map){ op->ref, (uint32_t)mfn, (uint16_t)op->flags };
	vm->grant.next_handle = h + 1;
	op->handle = h;
	op->dev_bus_addr = mfn << XEN_PAGE_SHIFT;
	return GNTST_okay;
}

static int64_t map_grant_ref(struct vm *vm, uint64_t uop)
{
	struct gnttab_map_grant_ref op;

	if (mmu_copy_from_guest(vm, &op, uop, sizeof(op)))
		return -XEN_EFAULT;
	op.status = map_one(vm, &op);
	return mmu_copy_to_guest(vm, uop, &op, sizeof(op)) ? -XEN_EFAULT : 0;
}

/* The host mapping at (addr) must be the grant's: present, frame (mfn),
 * writable exactly when the grant is (Xen's replace_grant_pv_mapping). */
static int grant_pte_matches(uint64_t pte, uint64_t mfn, uint32_t flags)
{
	uint64_t want = grant_pte(flags, mfn);

	return (pte & PTE_ADDR_MASK) == (want & PTE_ADDR_MASK) &&
	       !((pte ^ want) & (PTE_P | PTE_RW));
}

/* unmap_and_replace's new_addr: its PTE is taken out (its references go;
 * the entry it becomes takes them again) and returned in (*pte). */
static int steal_pte(struct vm *vm, uint64_t new_addr, uint64_t *pte)
{
	uint64_t l1;
	unsigned idx;

	if (mmu_grant_l1e(vm, new_addr, 0, &l1, &idx, pte))
		return -XEN_EINVAL;
	return mmu_mod_entry(vm, _mfn(l1), idx, 0, 0);
}

/* Take the host mapping at (addr) down, or replace it with new_addr's PTE.
 * Dropping the PTE drops the host mapping's references. */
static int host_unmap(struct vm *vm, uint64_t addr, uint64_t new_addr, uint64_t mfn,
		      uint32_t flags)
{
	uint64_t l1, old, nl1e = 0;
	unsigned idx;

	if (new_addr && (flags & GNTMAP_contains_pte))
		return -XEN_EINVAL; /* no replacing in this addressing mode */
	if (new_addr && steal_pte(vm, new_addr, &nl1e))
		return -XEN_EINVAL;
	if (mmu_grant_l1e(vm, addr, !!(flags & GNTMAP_contains_pte), &l1, &idx, &old) ||
	    !grant_pte_matches(old, mfn, flags))
		return -XEN_EINVAL; /* as Xen, a stolen PTE is lost then */
	return mmu_mod_entry(vm, _mfn(l1), idx, nl1e, 0);
}

struct unmap {
	uint64_t host_addr, dev_bus_addr, new_addr;
	uint32_t handle;
};

/* Xen's unmap_common and unmap_common_complete. */
static int16_t unmap_one(struct vm *vm, const struct unmap *u)
{
	struct vm_grant_map *m;
	uint32_t done = 0, flags;

	if (u->handle >= VM_GRANT_HANDLES || !vm->grant.map[u->handle].flags)
		return GNTST_bad_handle;
	m = &vm->grant.map[u->handle];
	flags = m->flags;
	if (m->ref >= nr_entries(vm))
		return GNTST_bad_handle; /* the table changed version under it */
	if (u->dev_bus_addr && u->dev_bus_addr != (uint64_t)m->mfn << XEN_PAGE_SHIFT)
		return GNTST_general_error;
	if (u->host_addr && (flags & GNTMAP_host_map)) {
		if (host_unmap(vm, u->host_addr, u->new_addr, m->mfn, flags))
			return GNTST_general_error;
		done |= GNTMAP_host_map;
	}
	if (u->dev_bus_addr && (flags & GNTMAP_device_map)) {
		put_device(vm, m->mfn, flags);
		done |= GNTMAP_device_map;
	}
	m->flags &= (uint16_t)~done;
	if (!(m->flags & (GNTMAP_device_map | GNTMAP_host_map)))
		m->flags = 0;
	if (done)
		unpin_map(vm, m->ref, done | (flags & GNTMAP_readonly));
	return GNTST_okay;
}

static int64_t unmap_status(struct vm *vm, uint64_t at, const struct unmap *u)
{
	int16_t status = unmap_one(vm, u);

	return mmu_copy_to_guest(vm, at, &status, sizeof(status)) ? -XEN_EFAULT : 0;
}

static int64_t unmap_grant_ref(struct vm *vm, uint64_t uop)
{
	struct gnttab_unmap_grant_ref op;

	if (mmu_copy_from_guest(vm, &op, uop, sizeof(op)))
		return -XEN_EFAULT;
	return unmap_status(vm, uop + offsetof(struct gnttab_unmap_grant_ref, status),
			    &(struct unmap){ op.host_addr, op.dev_bus_addr, 0, op.handle });
}

static int64_t unmap_and_replace(struct vm *vm, uint64_t uop)
{
	struct gnttab_unmap_and_replace op;

	if (mmu_copy_from_guest(vm, &op, uop, sizeof(op)))
		return -XEN_EFAULT;
	return unmap_status(vm, uop + offsetof(struct gnttab_unmap_and_replace, status),
			    &(struct unmap){ op.host_addr, 0, op.new_addr, op.handle });
}

/* ---- copy ------------------------------------------------------------------ */

struct copy_buf {
	uint64_t mfn;
	uint16_t start, len;   /* the bytes the grant allows */
	int grant;             /* holds a pin on ref */
	uint32_t ref;
	int ro;
	int typed;             /* holds a writable type reference */
};

/* Xen's acquire_grant_for_copy for a transitive entry (v2): the entry it
 * names is never usable here (itself, domain 0's, or no domain's). */
static int16_t transitive(struct vm *vm, uint32_t ref, int ro)
{
	const struct grant_entry_v2 *e = (const struct grant_entry_v2 *)entry(vm, ref);
	uint32_t pin = vm->grant.active[ref].pin;
	uint16_t td = (uint16_t)e->word;
	int16_t rc = GNTST_okay;

	if (!pin || (!ro && !(pin & PIN_W_MASK)))
		rc = set_status(vm, ref, ro, 0);
	if (rc)
		return rc;
	if (by_id(td) != DOM_ZERO) { /* itself (self-referential) or no domain */
		clear_status(vm, ref, ro);
		return GNTST_general_error;
	}
	rc = dom0_ref((uint32_t)e->frame);
	clear_status(vm, ref, 0); /* Xen's fixup_status_for_copy_pin */
	return rc;
}

/* The frame and bytes a first use of entry (ref) pins. */
static int16_t first_use(struct vm *vm, uint32_t ref, int ro)
{
	struct vm_grant_active *act = &vm->grant.active[ref];
	const struct grant_entry_v2 *e2 = (const struct grant_entry_v2 *)entry(vm, ref);
	uint64_t frame = entry_frame(vm, ref);
	int16_t rc = set_status(vm, ref, ro, 0);
	uint16_t start = 0, len = PAGE;

	if (rc)
		return rc;
	if (vm->grant.v2 && (e2->flags & GTF_sub_page))
		start = (uint16_t)e2->word, len = (uint16_t)(e2->word >> 16);
	if (!mmu_owned(vm, frame)) {
		clear_status(vm, ref, ro);
		return GNTST_bad_page;
	}
	if (!act->pin)
		*act = (struct vm_grant_active){ 0, (uint32_t)frame, start, len };
	return GNTST_okay;
}

/* Xen's acquire_grant_for_copy on this domain's entry (ref). */
static int16_t acquire(struct vm *vm, uint32_t ref, int ro, struct copy_buf *b)
{
	struct vm_grant_active *act;
	int16_t rc = GNTST_okay;

	if (ref >= nr_entries(vm))
		return GNTST_bad_gntref;
	act = &vm->grant.active[ref];
	if (act->pin & PIN_OVERFLOW)
		return GNTST_general_error;
	if (vm->grant.v2 && (*entry_flags(vm, ref) & GTF_type_mask) == GTF_transitive)
		return transitive(vm, ref, ro);
	if (!act->pin || (!ro && !(act->pin & PIN_W_MASK)))
		rc = first_use(vm, ref, ro);
	if (rc)
		return rc;
	act->pin += ro ? PIN_HSTR : PIN_HSTW;
	*b = (struct copy_buf){ act->mfn, act->start, act->len, 1, ref, ro, 0 };
	return GNTST_okay;
}

static void release(struct vm *vm, struct copy_buf *b)
{
	if (b->typed)
		mmu_put_page_and_type(vm, b->mfn);
	if (b->grant) {
		vm->grant.active[b->ref].pin -= b->ro ? PIN_HSTR : PIN_HSTW;
		clear_status(vm, b->ref, b->ro);
	}
	b->typed = b->grant = 0;
}

/* Xen's gnttab_copy_lock_domain: only this domain names frames directly. */
static int16_t copy_domain(const struct gnttab_copy_ptr *p, int gref)
{
	if (p->domid != DOMID_SELF && !gref)
		return GNTST_permission_denied;
	return by_any_id(p->domid) == DOM_NONE ? GNTST_bad_domain : GNTST_okay;
}

/* Xen's gnttab_copy_claim_buf: the source read-only, the destination
 * writable (a writable type reference while copying). */
static int16_t claim(struct vm *vm, const struct gnttab_copy_ptr *p, int gref, int ro,
		     struct copy_buf *b)
{
	int16_t rc;

	*b = (struct copy_buf){ p->u, 0, PAGE, 0, 0, ro, 0 };
	if (gref && by_any_id(p->domid) == DOM_ZERO)
		return dom0_ref((uint32_t)p->u);
	if (gref && (rc = acquire(vm, (uint32_t)p->u, ro, b)))
		return rc;
	if (!gref && !mmu_owned(vm, p->u))
		return GNTST_bad_page;
	if (!ro) {
		if (mmu_get_page_and_type(vm, b->mfn, PGT_WRITABLE)) {
			release(vm, b);
			return GNTST_general_error;
		}
		b->typed = 1;
	}
	return GNTST_okay;
}

static int16_t copy_bytes(struct vm *vm, const struct gnttab_copy *op, const struct copy_buf *src,
			  const struct copy_buf *dst)
{
	if (op->source.offset + op->len > PAGE || op->dest.offset + op->len > PAGE)
		return GNTST_bad_copy_arg;
	if (op->source.offset < src->start || op->source.offset + op->len > src->start + src->len ||
	    op->dest.offset < dst->start || op->dest.offset + op->len > dst->start + dst->len)
		return GNTST_general_error; /* outside a sub-page grant */
	memmove(mmu_frame_data(vm, dst->mfn) + op->dest.offset,
		mmu_frame_data(vm, src->mfn) + op->source.offset, op->len);
	return GNTST_okay;
}

static int16_t copy_one(struct vm *vm, const struct gnttab_copy *op)
{
	int sg = !!(op->flags & GNTCOPY_source_gref), dg = !!(op->flags & GNTCOPY_dest_gref);
	struct copy_buf src, dst;
	int16_t rc;

	if ((rc = copy_domain(&op->source, sg)) || (rc = copy_domain(&op->dest, dg)))
		return rc;
	rc = claim(vm, &op->source, sg, 1, &src);
	if (rc)
		return rc;
	rc = claim(vm, &op->dest, dg, 0, &dst);
	if (!rc) {
		rc = copy_bytes(vm, op, &src, &dst);
		release(vm, &dst);
	}
	release(vm, &src);
	return rc;
}

static int64_t copy(struct vm *vm, uint64_t uop)
{
	struct gnttab_copy op;

	if (mmu_copy_from_guest(vm, &op, uop, sizeof(op)))
		return -XEN_EFAULT;
	op.status = copy_one(vm, &op);
	return mmu_copy_to_guest(vm, uop + offsetof(struct gnttab_copy, status), &op.status,
				 sizeof(op.status)) ? -XEN_EFAULT : 0;
}

/* ---- swap and cache flush --------------------------------------------------- */

static int16_t swap_one(struct vm *vm, uint32_t a, uint32_t b)
{
	size_t size = vm->grant.v2 ? sizeof(struct grant_entry_v2) : sizeof(struct grant_entry_v1);
	uint8_t t[sizeof(struct grant_entry_v2)];
	uint16_t st;

	if (a >= nr_entries(vm) || b >= nr_entries(vm))
		return GNTST_bad_gntref;
	if (a == b)
		return GNTST_okay;
	if (vm->grant.active[a].pin || vm->grant.active[b].pin)
		return GNTST_eagain;
	memcpy(t, entry(vm, a), size);
	memcpy(entry(vm, a), entry(vm, b), size);
	memcpy(entry(vm, b), t, size);
	if (vm->grant.v2) {
		st = *status_of(vm, a);
		*status_of(vm, a) = *status_of(vm, b);
		*status_of(vm, b) = st;
	}
	return GNTST_okay;
}

static int64_t swap_grant_ref(struct vm *vm, uint64_t uop)
{
	struct gnttab_swap_grant_ref op;

	if (mmu_copy_from_guest(vm, &op, uop, sizeof(op)))
		return -XEN_EFAULT;
	op.status = swap_one(vm, op.ref_a, op.ref_b);
	return mmu_copy_to_guest(vm, uop + offsetof(struct gnttab_swap_grant_ref, status),
				 &op.status, sizeof(op.status)) ? -XEN_EFAULT : 0;
}

/* Xen's cache_flush on x86: a frame of this domain's (it owns no other
 * domain's mappings); cleaning is done (caches are coherent), invalidating
 * alone is not supported. (cur) is the continuation's grant ref. */
static int64_t cache_flush_one(struct vm *vm, const struct gnttab_cache_flush *op, uint32_t cur)
{
	uint64_t mfn = op->dev_bus_addr >> XEN_PAGE_SHIFT;

	if (op->offset >= PAGE || op->length > PAGE || op->offset + op->length > PAGE ||
	    (op->op & ~(GNTTAB_CACHE_INVAL | GNTTAB_CACHE_CLEAN)))
		return -XEN_EINVAL;
	if (!op->length || !op->op)
		return cur ? -XEN_EILSEQ : 0;
	if (mfn >= vm->nr_frames)
		return -XEN_EINVAL;
	if (!mmu_owned(vm, mfn))
		return -XEN_EPERM;
	return op->op == GNTTAB_CACHE_INVAL ? -XEN_EOPNOTSUPP : 0;
}

/* ---- set-up, size and versions ---------------------------------------------- */

/* Xen's XSM_TARGET check: this domain may act on itself, not on domain 0. */
static int16_t target(uint16_t dom)
{
	switch (by_any_id(dom)) {
	case DOM_SELF: return GNTST_okay;
	case DOM_ZERO: return GNTST_permission_denied;
	default: return GNTST_bad_domain;
	}
}

/* Write (n) frame numbers to (list); GNTST_bad_virt_addr where it cannot. */
static int16_t frame_list(struct vm *vm, uint64_t list, uint32_t n,
			  uint64_t (*frame)(const struct vm *, unsigned))
{
	int16_t rc = GNTST_okay;

	for (uint32_t i = 0; i < n; i++) {
		uint64_t mfn = frame(vm, i);
		if (mmu_copy_to_guest(vm, list + i * 8ull, &mfn, sizeof(mfn)))
			rc = GNTST_bad_virt_addr;
	}
	return rc;
}

static int64_t setup_table(struct vm *vm, uint64_t uop)
{
	struct gnttab_setup_table op;

	if (mmu_copy_from_guest(vm, &op, uop, sizeof(op)))
		return -XEN_EFAULT;
	if (!handle_okay(op.frame_list))
		return -XEN_EFAULT;
	op.status = target(op.dom);
	if (!op.status && op.nr_frames > LOADER_GRANT_FRAMES) {
		op.status = GNTST_general_error;
	} else if (!op.status) {
		grow(vm, op.nr_frames);
		op.status = frame_list(vm, op.frame_list, op.nr_frames, mmu_grant_frame);
	}
	return mmu_copy_to_guest(vm, uop + offsetof(struct gnttab_setup_table, status), &op.status,
				 sizeof(op.status)) ? -XEN_EFAULT : 0;
}

static int64_t query_size(struct vm *vm, uint64_t uop)
{
	struct gnttab_query_size op;

	if (mmu_copy_from_guest(vm, &op, uop, sizeof(op)))
		return -XEN_EFAULT;
	op.status = target(op.dom);
	if (!op.status) {
		op.nr_frames = vm_grant_frames(&vm->grant);
		op.max_nr_frames = LOADER_GRANT_FRAMES;
	}
	return mmu_copy_to_guest(vm, uop, &op, sizeof(op)) ? -XEN_EFAULT : 0;
}

static int64_t get_status_frames(struct vm *vm, uint64_t uop)
{
	struct gnttab_get_status_frames op;

	if (mmu_copy_from_guest(vm, &op, uop, sizeof(op)))
		return -XEN_EFAULT;
	op.status = target(op.dom);
	if (!op.status && op.nr_frames > vm->grant.status_frames)
		op.status = GNTST_general_error;
	else if (!op.status)
		op.status = frame_list(vm, op.frame_list, op.nr_frames, mmu_status_frame);
	return mmu_copy_to_guest(vm, uop + offsetof(struct gnttab_get_status_frames, status),
				 &op.status, sizeof(op.status)) ? -XEN_EFAULT : 0;
}

static int64_t get_version(struct vm *vm, uint64_t uop)
{
	struct gnttab_get_version op;
	uint32_t version = vm->grant.v2 ? 2 : 1;

	if (mmu_copy_from_guest(vm, &op, uop, sizeof(op)))
		return -XEN_EFAULT;
	switch (by_any_id(op.dom)) {
	case DOM_NONE: return -XEN_ESRCH;
	case DOM_ZERO: return -XEN_EPERM;
	default: break;
	}
	return mmu_copy_to_guest(vm, uop + offsetof(struct gnttab_get_version, version), &version,
				 sizeof(version)) ? -XEN_EFAULT : 0;
}

/* The reserved entries in a version-neutral form (v1's), kept across a
 * change: v2 entries that v1 cannot hold refuse the change (-ERANGE). */
static int save_reserved(struct vm *vm, struct grant_entry_v1 keep[GNTTAB_NR_RESERVED_ENTRIES])
{
	for (uint32_t i = 0; i < GNTTAB_NR_RESERVED_ENTRIES; i++) {
		const struct grant_entry_v2 *e = (const struct grant_entry_v2 *)entry(vm, i);
		if (!vm->grant.v2) {
			memcpy(&keep[i], entry(vm, i), sizeof(keep[i]));
		} else if ((e->flags & GTF_type_mask) == GTF_transitive ||
			   ((e->flags & GTF_type_mask) == GTF_permit_access && (e->frame >> 32))) {
			return -XEN_ERANGE;
		} else if ((e->flags & GTF_type_mask) == GTF_permit_access) {
			keep[i] = (struct grant_entry_v1){ (uint16_t)(e->flags | *status_of(vm, i)),
							   e->domid, (uint32_t)e->frame };
		} else {
			keep[i] = (struct grant_entry_v1){ 0, 0, 0 };
		}
	}
	return 0;
}

static void restore_reserved(struct vm *vm, const struct grant_entry_v1 keep[GNTTAB_NR_RESERVED_ENTRIES])
{
	for (uint32_t i = 0; i < GNTTAB_NR_RESERVED_ENTRIES; i++) {
		struct grant_entry_v2 *e = (struct grant_entry_v2 *)entry(vm, i);
		if (!vm->grant.v2) {
			memcpy(entry(vm, i), &keep[i], sizeof(keep[i]));
			continue;
		}
		*status_of(vm, i) = keep[i].flags & (GTF_reading | GTF_writing);
		e->flags = keep[i].flags & (uint16_t)~(GTF_reading | GTF_writing);
		e->domid = keep[i].domid;
		e->frame = keep[i].frame;
	}
}

/* Status frames go back to Xen only when nothing maps or uses them. */
static int status_frames_busy(const struct vm *vm)
{
	for (uint32_t i = 0; i < vm->grant.status_frames; i++) {
		const struct mmu_frame *f = &vm->mmu.frames[mmu_status_frame(vm, i)];
		if (f->refs || f->type_count)
			return 1;
	}
	return 0;
}

/* Xen's gnttab_set_version from one version to the other. */
static int64_t change_version(struct vm *vm, int v2)
{
	struct grant_entry_v1 keep[GNTTAB_NR_RESERVED_ENTRIES];

	for (uint32_t i = GNTTAB_NR_RESERVED_ENTRIES; i < nr_entries(vm); i++)
		if (vm->grant.active[i].pin)
			return -XEN_EBUSY;
	if (save_reserved(vm, keep))
		return -XEN_ERANGE;
	if (!v2 && status_frames_busy(vm))
		return -XEN_EBUSY;
	zero_frames(vm, mmu_grant_frame, 0, vm_grant_frames(&vm->grant));
	vm->grant.v2 = (uint8_t)v2;
	vm->grant.status_frames = 0;
	grow(vm, 0); /* version 2: its status frames, zero */
	restore_reserved(vm, keep);
	return 0;
}

static int64_t set_version(struct vm *vm, uint64_t uop)
{
	struct gnttab_set_version op;
	int64_t rc = 0;

	if (mmu_copy_from_guest(vm, &op, uop, sizeof(op)))
		return -XEN_EFAULT;
	if (op.version != 1 && op.version != 2)
		rc = -XEN_EINVAL;
	else if ((op.version == 2) != vm->grant.v2)
		rc = change_version(vm, op.version == 2);
	op.version = vm->grant.v2 ? 2 : 1; /* the version in force */
	return mmu_copy_to_guest(vm, uop, &op, sizeof(op)) ? -XEN_EFAULT : rc;
}

/* ---- grants to pvmm's backends ----------------------------------------------- */

/* Domain 0's map_grant_ref of this domain's entry (ref), for a backend:
 * the checks of pin_for_map with domain 0 as the grantee and no
 * transitive entry (mapping one is refused on Xen too), then the frame's
 * references as a device mapping takes them. */
int hc_grant_acquire(struct vm *vm, uint32_t ref, int ro, struct hc_grant *g, uint8_t **page)
{
	struct vm_grant_active *act;
	int16_t rc;

	*g = (struct hc_grant){ ref, 0, ro, 0 };
	*page = NULL;
	if (ref >= nr_entries(vm))
		return GNTST_bad_gntref;
	act = &vm->grant.active[ref];
	if (act->pin & PIN_OVERFLOW)
		return GNTST_general_error;
	if (!act->pin && (*entry_flags(vm, ref) & (GTF_type_mask | GTF_sub_page)) != GTF_permit_access)
		return GNTST_general_error;
	if (!act->pin || (!ro && !(act->pin & PIN_W_MASK))) {
		rc = set_status_for(vm, ref, ro, 1, 0);
		if (rc)
			return rc;
		if (!act->pin) {
			uint64_t frame = entry_frame(vm, ref);
			if (frame >= vm->nr_pages || !mmu_owned(vm, frame)) {
				clear_status(vm, ref, ro);
				return GNTST_bad_page;
			}
			*act = (struct vm_grant_active){ 0, (uint32_t)frame, 0, PAGE };
		}
	}
	if (get_device(vm, act->mfn, ro ? GNTMAP_readonly : 0)) {
		clear_status(vm, ref, ro); /* a page table cannot be written through a grant */
		return GNTST_general_error;
	}
	act->pin += ro ? PIN_DEVR : PIN_DEVW;
	g->mfn = act->mfn;
	g->held = 1;
	*page = mmu_frame_data(vm, act->mfn);
	return GNTST_okay;
}

void hc_grant_release(struct vm *vm, struct hc_grant *g)
{
	if (!g->held)
		return;
	put_device(vm, g->mfn, g->ro ? GNTMAP_readonly : 0);
	vm->grant.active[g->ref].pin -= g->ro ? PIN_DEVR : PIN_DEVW;
	clear_status(vm, g->ref, g->ro);
	g->held = 0;
}

/* ---- the hypercall ------------------------------------------------------------ */

/* Operations on an array of (count) requests, each of (size) bytes. */
typedef int64_t (*one_fn)(struct vm *vm, uint64_t uop);

static int64_t each(struct vm *vm, one_fn fn, size_t size, uint64_t uop, uint32_t count)
{
	if (!handle_okay(uop))
		return -XEN_EFAULT;
	for (uint32_t i = 0; i < count; i++) {
		int64_t rc = fn(vm, uop + (uint64_t)i * size);
		if (rc)
			return rc;
	}
	return 0;
}

static int64_t cache_flush(struct vm *vm, uint64_t uop, uint32_t count, uint32_t cur)
{
	struct gnttab_cache_flush op;

	if (!handle_okay(uop))
		return -XEN_EFAULT;
	for (uint32_t i = 0; i < count; i++, cur = 0) {
		int64_t rc;
		if (mmu_copy_from_guest(vm, &op, uop + (uint64_t)i * sizeof(op), sizeof(op)))
			return -XEN_EFAULT;
		rc = cache_flush_one(vm, &op, cur);
		if (rc)
			return rc;
	}
	return 0;
}

/* Operations on one request; count must be 1 where Xen says so. */
static int64_t single(struct vm *vm, one_fn fn, uint64_t uop, uint32_t count, int needs_one)
{
	if (needs_one && count != 1)
		return -XEN_EINVAL;
	return fn(vm, uop);
}

int64_t hc_grant_table_op(struct vm *vm, const uint64_t a[5])
{
	uint32_t cmd = (uint32_t)a[0] & CMD_MASK, opaque = (uint32_t)a[0] & ~CMD_MASK;
	uint32_t count = (uint32_t)a[2];
	uint64_t uop = a[1];

	if ((int32_t)count < 0)
		return -XEN_EINVAL;
	if (cmd != GNTTABOP_cache_flush && opaque)
		return -XEN_EINVAL;
	switch (cmd) {
	case GNTTABOP_map_grant_ref:
		return each(vm, map_grant_ref, sizeof(struct gnttab_map_grant_ref), uop, count);
	case GNTTABOP_unmap_grant_ref:
		return each(vm, unmap_grant_ref, sizeof(struct gnttab_unmap_grant_ref), uop, count);
	case GNTTABOP_unmap_and_replace:
		return each(vm, unmap_and_replace, sizeof(struct gnttab_unmap_and_replace), uop,
			    count);
	case GNTTABOP_copy:
		return each(vm, copy, sizeof(struct gnttab_copy), uop, count);
	case GNTTABOP_swap_grant_ref:
		return each(vm, swap_grant_ref, sizeof(struct gnttab_swap_grant_ref), uop, count);
	case GNTTABOP_cache_flush:
		return cache_flush(vm, uop, count, opaque);
	case GNTTABOP_setup_table: return single(vm, setup_table, uop, count, 1);
	case GNTTABOP_query_size: return single(vm, query_size, uop, count, 1);
	case GNTTABOP_get_status_frames: return single(vm, get_status_frames, uop, count, 1);
	case GNTTABOP_set_version: return single(vm, set_version, uop, count, 0);
	case GNTTABOP_get_version: return single(vm, get_version, uop, count, 0);
	default:
		return -XEN_ENOSYS; /* dump_table (gone from Xen), transfer, unknown */
	}
}
