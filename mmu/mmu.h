/*
 * mmu - the PV MMU: the frame table and Xen's page-table validation rules,
 * explicit page-table updates, walks, the one checked guest-memory
 * accessor, and realising guest address spaces as host mappings.
 *
 * Pure code over struct vm's memory and frame table: no ptrace, no mmap, no
 * exit. Host mapping changes are produced as struct stub_op values through
 * vm->mmu.emit and carried out by the caller (the stub, in the guest
 * process). Errors are negative Xen errno values.
 *
 * The rules (Xen's, written down in docs/mmu.md):
 *  - A frame has one type at a time (enum mmu_type) and changes it only when
 *    its type count is zero. Promoting a frame to a page-table type validates
 *    every entry, taking the references they need; when the type count drops
 *    to zero the table is demoted and those references are dropped.
 *  - A present L1 entry with RW takes a writable-type reference on its
 *    frame, so it fails while the frame is a page table (and a frame mapped
 *    writable cannot become one). Without RW it takes a general reference.
 *  - L2/L3/L4 entries take a type reference on a table of the next level
 *    down, validating it if needed; or they are linear: read-only, pointing
 *    at a table of their own level, one level deep (a table that holds
 *    linear entries cannot be the target of one, and the reverse), or at
 *    their own table.
 *  - Forbidden bits: PWT, PCD, PAT/PSE and bits 52-62 in every entry; G in
 *    L2-L4 (no superpages, no global tables). Frames beyond the memory file
 *    are refused. L4 slots 255 (the pvmm hole) and up cannot be present.
 *  - An update validates the new entry, writes it, then drops the old one.
 */
#ifndef PVMM_MMU_H
#define PVMM_MMU_H

#include <stddef.h>
#include <stdint.h>

#include "vm.h"

/* ---- frame table (frame.c) ---------------------------------------------- */

/* Allocate the frame table and M2P for vm->nr_frames; 0 or -ENOMEM. */
int mmu_init(struct vm *vm);
void mmu_free(struct vm *vm);
/* The guest's machine-to-phys view of (mfn): identity until MACHPHYS_UPDATE. */
pfn_t mmu_m2p(const struct vm *vm, mfn_t mfn);

/* Pin the domain builder's L4 and make it the base: the same code as
 * MMUEXT_PIN_L4_TABLE and MMUEXT_NEW_BASEPTR. 0 or -errno. */
int mmu_adopt_bootstrap(struct vm *vm, mfn_t l4);

/* The frames of the grant table (vm->grant): shared frame (i) and status
 * frame (i), after shared_info. */
uint64_t mmu_grant_frame(const struct vm *vm, unsigned i);
uint64_t mmu_status_frame(const struct vm *vm, unsigned i);
/* True when the domain owns frame (mfn), as Xen's page owner says: guest
 * RAM, shared_info, the grant table's shared frames up to its size and, at
 * version 2, its status frames. A frame it does not own cannot be mapped,
 * typed or referenced (refusal VM_WHY_NOT_OWNED). */
int mmu_owned(const struct vm *vm, uint64_t mfn);

/* Take / drop a type reference (and a general one) on (mfn); -EINVAL for a
 * frame the domain does not own or a type the frame cannot take. */
int mmu_get_page_and_type(struct vm *vm, uint64_t mfn, enum mmu_type type);
void mmu_put_page_and_type(struct vm *vm, uint64_t mfn);
/* Take / drop a general reference alone (a read-only grant device mapping). */
int mmu_get_page(struct vm *vm, uint64_t mfn);
void mmu_put_page(struct vm *vm, uint64_t mfn);

/* True when (mfn) is currently a page table (L1-L4, type count > 0). */
int mmu_is_pagetable(const struct vm *vm, uint64_t mfn);
const char *mmu_type_name(enum mmu_type type);

/* ---- frames written on first use (fill.c) -------------------------------- */

/* The P2M list, 8 bytes per guest page (8 MiB for 4 GiB), is not written at
 * boot: each of its frames is written (loader_fill_p2m) when first used, so
 * boot time does not grow with memory. Until then the frame is realised
 * with no access at all; the guest's first access faults into
 * mmu_fill_fault(), and every access pvmm itself makes to frame contents
 * goes through mmu_frame_data(). After a frame is written, every host
 * mapping of it is brought into line at the next mmu_sync().
 *
 * Defer the P2M frames of vm->lay: 0 or -XEN_ENOMEM. */
int mmu_defer_p2m(struct vm *vm);
/* True while (mfn) is deferred and not written yet. */
int mmu_unfilled(const struct vm *vm, uint64_t mfn);
/* (mfn) is not to be written on first use any more: its contents went. */
void mmu_forget_deferred(struct vm *vm, uint64_t mfn);
/* The contents of frame (mfn) < vm->nr_frames in pvmm's mapping, written
 * first when it was deferred. */
uint8_t *mmu_frame_data(struct vm *vm, uint64_t mfn);
/* Write (mfn) now if it is deferred and not written yet, after a guest
 * access through entry (idx) of L1 (l1) (idx < 0: pvmm's own, no entry),
 * and mark its mappings for mmu_sync(). 1 when it was written, else 0. */
int mmu_fill_frame(struct vm *vm, uint64_t mfn, uint64_t l1, int idx);

/* ---- frames given back and taken again (balloon.c) ------------------------
 * memory_op takes RAM frames from the domain (decrease_reservation,
 * exchange) and hands them out again (populate_physmap,
 * increase_reservation, exchange). pvmm has no other memory to hand out, so
 * the domain never grows past its maximum (vm->nr_pages). A frame that is
 * not the domain's (enum mmu_owner) cannot be referenced: entries, pins,
 * base pointers and types refuse it (-EINVAL, why "given-back"); its
 * memory goes back to the host, and it reads as zeros when handed out.
 * vm->mmu.given_back counts the frames out of the domain's reservation. */

/* True when (mfn) is a RAM frame the domain owns (not given back). */
int mmu_ram_owned(const struct vm *vm, uint64_t mfn);
/* decrease_reservation: the domain gives (mfn) back. A frame still
 * referenced (an entry, a type, a pin), or (held) by pvmm itself (a ring
 * it serves), is freed when the last reference goes, as on Xen; until then
 * it counts in the reservation. 0, or -EINVAL when the domain does not own
 * it. */
int mmu_give_back(struct vm *vm, uint64_t mfn, int held);
/* A reference to (mfn) went: free it if it was given back and that was
 * the last (frame.c calls this). */
void mmu_put_dying(struct vm *vm, uint64_t mfn);
/* exchange: take (mfn) from the domain as Xen's steal_page does, only an
 * owned frame that nothing references. 0 or -EINVAL. Its contents stay:
 * mmu_unsteal() undoes it, mmu_free_stolen() frees it. */
int mmu_steal(struct vm *vm, uint64_t mfn);
void mmu_unsteal(struct vm *vm, uint64_t mfn);
void mmu_free_stolen(struct vm *vm, uint64_t mfn);
/* The first frame of a naturally aligned run of 2^(order) free frames (or,
 * with (or_stolen), stolen ones too) below frame (limit): (hint) when it
 * starts one, else the lowest. UINT64_MAX when there is none. */
uint64_t mmu_find_free(const struct vm *vm, unsigned order, uint64_t limit, uint64_t hint,
		       int or_stolen);
/* Reserve a frame mmu_find_free() chose, so that it is not chosen twice;
 * returns its state for mmu_unclaim(), which puts it back. */
uint8_t mmu_claim(struct vm *vm, uint64_t mfn);
void mmu_unclaim(struct vm *vm, uint64_t mfn, uint8_t was);
/* Free frame (mfn) becomes the domain's, guest frame (gpfn) in the M2P. */
void mmu_assign(struct vm *vm, uint64_t mfn, uint64_t gpfn);

/* ---- explicit updates (update.c) ----------------------------------------- */

/* Validate (val) as entry (idx) of table (mfn), write it, drop the old entry.
 * With (preserve_ad) the old entry's A and D bits are kept. */
int mmu_mod_entry(struct vm *vm, mfn_t table, unsigned idx, uint64_t val, int preserve_ad);

/* One mmu_update request: (ptr) with its MMU_* command in the low bits. */
int mmu_update_one(struct vm *vm, uint64_t ptr, uint64_t val);

int mmu_pin(struct vm *vm, mfn_t table, unsigned level);
int mmu_unpin(struct vm *vm, mfn_t table);
/* Switch the kernel (user == 0) or user base pointer; user mfn 0 clears. */
int mmu_new_baseptr(struct vm *vm, mfn_t l4, int user);
/* The entry of the current tables that maps (va): update_va_mapping. */
int mmu_update_va(struct vm *vm, gva_t va, uint64_t val);
/* The L1 entry a grant mapping writes (Xen's create_grant_pv_mapping):
 * with (by_pte), (addr) is the machine address of the entry, 8-byte
 * aligned, in an L1 table the domain owns; otherwise the linear address
 * whose L1 entry the current tables lead to (L4-L2 present). Returns 0 with
 * the table, index and entry in (*l1, *idx, *old), or -EINVAL. The caller
 * changes the entry with mmu_mod_entry(): a grant's host mapping holds the
 * references an ordinary entry would (as on Xen, where they are the
 * grant's). */
int mmu_grant_l1e(const struct vm *vm, uint64_t addr, int by_pte, uint64_t *l1, unsigned *idx,
		  uint64_t *old);

/* ---- walks and the checked accessor (walk.c) ------------------------------ */

struct mmu_walk {
	uint64_t mfn;        /* frame the address maps to */
	int writable;        /* RW at every level */
	int user;            /* US at every level */
	int exec;            /* no NX at any level */
	uint64_t table[4];   /* L4, L3, L2, L1 frames walked */
	uint64_t entry[4];   /* L4, L3, L2, L1 entries seen (0 after a miss) */
	int level_missing;   /* 4..1: level whose entry was absent; 0 when mapped */
};

/* Translate (va) through the tables rooted at frame (l4). Returns 0 and fills
 * (w), or -EFAULT when an entry is absent, points beyond guest memory, or va
 * is not a guest address; (w->level_missing) says where it stopped. */
int mmu_walk(const struct vm *vm, mfn_t l4, gva_t va, struct mmu_walk *w);

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
/* Xen's guest_handle_okay, made before a loop over a guest array: (count)
 * elements of (size) bytes from (gva) lie in the guest half, without
 * overflow or wrap (0, else -EFAULT, recorded as the accessor records it).
 * Whether they are mapped is the accessor's business, element by element. */
int mmu_guest_array_ok_at(struct vm *vm, uint64_t gva, uint64_t count, uint64_t size,
			  const char *file, int line);
#define mmu_guest_array_ok(vm, gva, count, size) \
	mmu_guest_array_ok_at(vm, gva, count, size, __FILE__, __LINE__)

/* The instruction at (rip): as many of its at most 15 bytes as the guest can
 * read there; returns how many (0: none). */
size_t mmu_fetch_insn(struct vm *vm, uint64_t rip, uint8_t buf[15]);

/* ---- the page-fault decision (trap.c) ------------------------------------- */

/* x86 page-fault error code bits */
#define MMU_PFEC_PRESENT 1ull
#define MMU_PFEC_WRITE 2ull
#define MMU_PFEC_USER 4ull
#define MMU_PFEC_FETCH 16ull

/* A host page fault in guest code. */
struct mmu_fault {
	uint64_t addr;     /* in: the faulting address */
	uint64_t hw_err;   /* in: the host's error code (its tables, not the guest's) */
	int user;          /* in: the guest was in user mode */
	uint64_t err;      /* out: the error code the guest's own tables give */
	uint64_t mfn;      /* out: the frame the address maps to (when present) */
	enum vm_why why;   /* out: what was done, for the trace (VM_WHY_NONE: nothing) */
};

enum mmu_trap {
	MMU_TRAP_DONE,        /* handled: the guest resumes (restart or step) */
	MMU_TRAP_GUEST,       /* the guest's own #PF, error code (err) */
	MMU_TRAP_TABLE_STORE, /* a store into a page table that writable page
			       * tables did not take: the guest's #PF if it
			       * has a handler, else the domain's end */
	MMU_TRAP_ENDED,       /* the domain was ended (vm->end, vm->end_msg) */
};

/* The MMU's part of a page fault, in Xen's order: an access to the range of
 * an unhooked L1 resyncs it (mmu_ptwr_access); a load from where no host
 * mapping can show the guest's (Xen's read-only M2P, pages below the
 * host's mmap_min_addr) goes to vm->mmu.emulate_load (VM_WHY_LOW_EXEC when
 * the front end's instruction emulator takes the instruction); a frame not written
 * yet is written (mmu_fill_fault); a store into an L1 goes to writable page
 * tables (mmu_ptwr_trap). */
enum mmu_trap mmu_trap(struct vm *vm, struct mmu_fault *f);

/* A host fault at (va), which the current tables map as walked in (w) (the
 * caller's walk, which succeeded). When it maps a frame not written yet,
 * the frame is written and its mappings marked for mmu_sync(); returns 1
 * when the tables allow the access (write, fetch: it restarts after the
 * sync), 0 when they do not (the guest's own #PF) or the fault is not
 * about such a frame. */
int mmu_fill_fault(struct vm *vm, gva_t va, const struct mmu_walk *w, int write, int fetch);

/* ---- realisation (realise.c, sync.c) -------------------------------------- */

/* Host protection (PROT_*) for a leaf reached with walk flags. */
int mmu_host_prot(int writable, int exec);
/* The host protection mmu_realise() gives page (va), walked as (w): none for
 * a frame not written yet, never writable for a page table but an
 * out-of-sync L1's alias. */
int mmu_page_prot(const struct vm *vm, gva_t va, const struct mmu_walk *w);

/* 0 when the host will carry out (op) for a reason of the guest's: a
 * mapping operation is page-aligned, not empty, lies wholly in
 * [vm->min_va, HOLE_BASE) and an mmap stays inside the memory file; a
 * SET_BASE names FS or GS and a base a Linux process may have
 * (vm_host_base_ok). Else -EINVAL. Every operation pvmm emits passes it. */
int mmu_check_op(const struct vm *vm, const struct stub_op *op);

/* Emit the operations that make the host mappings of [start, end) equal what
 * the tables rooted at (l4) say: coalesced mmaps of present runs (never
 * writable for a page-table frame), munmaps of the gaps, and for the range
 * of an unhooked L1 (its snapshot's pages) an mprotect to no access. start and end are
 * page-aligned guest addresses; the range is cut to [vm->min_va, HOLE_BASE). Returns the emitter's error, or -ENOSPC when
 * the range needs more than MMU_MAX_HOST_MAPPINGS operations (an address
 * space no host could map: Linux's vm.max_map_count is 65530 by default). */
#define MMU_MAX_HOST_MAPPINGS 65536u
int mmu_realise(const struct vm *vm, mfn_t l4, gva_t start, gva_t end,
		mmu_emit_fn emit, void *ctx);
/* The same walk describing the host it leads to, for the checker: mmaps
 * only, an unhooked L1's range as its pages mapped with no access. */
int mmu_realise_model(const struct vm *vm, mfn_t l4, gva_t start, gva_t end,
		      mmu_emit_fn emit, void *ctx);
/* Realise [start, end) where the host maps exactly what the tables say,
 * but for protections (a page whose protection the caller changed: a
 * writable alias of an L1 out of sync, made or taken back): an mprotect of
 * each mapped run, nothing for the unmapped ones. */
int mmu_reprotect(const struct vm *vm, mfn_t l4, gva_t start, gva_t end, mmu_emit_fn emit,
		  void *ctx);
/* Realise the 2 MiB from (base), which an L1 covers, knowing what the host
 * maps there now: the pages (was) maps (with any protection; an unhooked
 * L1's range keeps its pages mapped with no access) and nothing else.
 * Where an entry still maps the frame (was) maps, only the protection is
 * set (an mprotect: no new mapping, no fault to fill it again); where both
 * map nothing, nothing is emitted. Unhook and rehook (ptwr.c). */
int mmu_realise_l1(const struct vm *vm, mfn_t l4, gva_t base, const uint64_t *was,
		   mmu_emit_fn emit, void *ctx);

/* ---- the record of changed entries (dirty.c) ------------------------------ */

/* Note that entry (idx) of table (mfn) changed / that everything did. */
void mmu_mark_dirty(struct vm *vm, mfn_t table, unsigned idx);
void mmu_mark_all(struct vm *vm);
/* Note that the guest now runs on L4 (to) instead of (from): marks the
 * entries of the (to) tree that realise differently from the (from) tree
 * (everything when either is 0). */
void mmu_mark_switch(struct vm *vm, mfn_t from, mfn_t to);
int mmu_sync_pending(const struct vm *vm);
/* Forget the changes recorded for table (mfn) (their range was realised). */
void mmu_unmark_dirty(struct vm *vm, uint64_t mfn);
/* The changes recorded for table (mfn), or NULL; whether entry (i) is one. */
struct mmu_dirty *mmu_dirty_find(const struct mmu_state *m, uint64_t mfn);
int mmu_dirty_test(const struct mmu_dirty *d, unsigned i);

/* ---- address spaces (space.c) --------------------------------------------
 * One host process per recently used L4 (the front end's), each with its
 * own record of changed entries; see space.c for why that is exact. */

/* Use (n) spaces (1: one process for all tables, re-realised at every
 * switch), none of them used yet. */
void mmu_space_init(struct mmu_state *m, unsigned n);
/* Add entry (idx) of table (mfn) to the record of (*n) tables at (set),
 * which holds MMU_DIRTY_MAX: 0, or -1 when a new table does not fit. */
int mmu_dirty_add(struct mmu_dirty *set, unsigned *n, uint64_t mfn, unsigned idx);
/* Record entry (idx) of table (mfn) / everything in the parked spaces. */
void mmu_space_mark(struct mmu_state *m, uint64_t mfn, unsigned idx);
void mmu_space_mark_all(struct mmu_state *m);
/* The guest moves from L4 (from) to (to): with several spaces, the running
 * space becomes the one that realises (to), else a free one, else the
 * least recently run, and its record becomes the running one. Returns the
 * L4 that space realises (0: nothing, or (from) when the space stayed):
 * mmu_mark_switch() marks the difference from it. */
uint64_t mmu_space_enter(struct vm *vm, uint64_t from, uint64_t to);
/* L4 (l4) stopped being a page table: a parked space that realised it
 * knows nothing any more. */
void mmu_space_forget(struct vm *vm, uint64_t l4);

/* ---- bringing the host in line (sync.c) ----------------------------------- */

/* Call (fn) for every place a table is used in the current address space:
 * the table's frame, the level it is used at (4..1) and the first address
 * it covers there. A table hooked twice is reported twice; linear entries
 * report tables at the levels they make them appear at. Stops at the first
 * non-zero return and returns it. */
typedef int (*mmu_use_fn)(void *ctx, uint64_t mfn, unsigned level, uint64_t base);
int mmu_for_each_use(const struct vm *vm, mmu_use_fn fn, void *ctx);

/* Bring the host mappings of every address the changed entries control in
 * the current address space into line, through vm->mmu.emit. 0 or -errno
 * (the emitter's failure). */
int mmu_sync(struct vm *vm);

/* ---- the model checker (check.c) ----------------------------------------- */

/* One host mapping as the host reports it (/proc/PID/maps). */
struct mmu_host_map {
	uint64_t start, end;
	uint64_t off;        /* file offset */
	int prot;            /* PROT_* */
	int guest_mem;       /* a mapping of the guest memory file */
};

/* Check that (maps), the guest process's real mappings below the hole, are
 * exactly what the current tables say, and that no page-table frame is
 * writable there. Returns 0, or -EINVAL with the first difference in (why). */
int mmu_check_host(const struct vm *vm, const struct mmu_host_map *maps, size_t n,
		   char *why, size_t whylen);

/* Check the frame table's own consistency: every type count and reference
 * recomputed from the tables, pins, base pointers, GDT frames, the grant
 * table's device mappings and the registered vcpu_info frame equals the
 * recorded one, and no table names a frame given back. 0, or -EINVAL with
 * the first mismatch in (why). */
int mmu_check_counts(const struct vm *vm, char *why, size_t whylen);

#endif
