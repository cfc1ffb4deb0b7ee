/* space.c - which host process realises which top-level table.
 *
 * With vm->mmu.nspaces > 1 the front end runs the guest in one host process
 * per recently used L4 (vmm/spaces.c), all mapping the same memory file.
 * Space (i) is process (i). The running space's record of changed entries
 * is struct mmu_state's dirty set; a parked space keeps its own (pend),
 * which every change is recorded in as well, so that the host mappings of
 * a space are its table's realisation as of when it last ran plus exactly
 * the entries in its record. Entering it again syncs only those: a
 * kernel/user switch or a return to a recently run process costs a
 * hand-off, not a remap.
 *
 * The argument that this is exact is the one mmu_mark_switch() already
 * makes for one process: every change to a page table goes through
 * mmu_mark_dirty(), and a table stops being one only when nothing refers to
 * it any more, which an entry change (recorded) or a table's demotion
 * causes. A parked space's own L4 can be demoted without any recorded
 * change (unpinned while no base pointer holds it): mmu_space_forget()
 * then drops what the space knew. Out-of-sync L1s are resynced before the
 * running space changes (mmu_ptwr_leave_space): their unhooked state is
 * the running process's alone. */
#include "mmu/mmu.h"

#include <string.h>

static unsigned nspaces(const struct mmu_state *m)
{
	return m->nspaces < 1 ? 1 : m->nspaces > MMU_SPACES_MAX ? MMU_SPACES_MAX : m->nspaces;
}

void mmu_space_init(struct mmu_state *m, unsigned n)
{
	m->nspaces = n;
	m->space_cur = 0;
	for (unsigned i = 0; i < MMU_SPACES_MAX; i++) {
		memset(&m->space[i], 0, sizeof(m->space[i]));
		m->space[i].pend.all = 1; /* a process that never ran maps nothing */
	}
}

int mmu_dirty_add(struct mmu_dirty *set, unsigned *n, uint64_t mfn, unsigned idx)
{
	struct mmu_dirty *e = NULL;

	for (unsigned i = 0; i < *n && !e; i++)
		if (set[i].mfn == mfn)
			e = &set[i];
	if (!e) {
		if (*n == MMU_DIRTY_MAX)
			return -1;
		e = &set[(*n)++];
		memset(e, 0, sizeof(*e));
		e->mfn = mfn;
	}
	e->bits[idx / 64] |= 1ull << (idx % 64);
	return 0;
}

static void pend_mark(struct mmu_dirtyset *d, uint64_t mfn, unsigned idx)
{
	if (!d->all && mmu_dirty_add(d->dirty, &d->ndirty, mfn, idx))
		d->all = 1, d->ndirty = 0;
}

void mmu_space_mark(struct mmu_state *m, uint64_t mfn, unsigned idx)
{
	for (unsigned i = 1; i < nspaces(m); i++)
		pend_mark(&m->space[(m->space_cur + i) % nspaces(m)].pend, mfn, idx);
}

void mmu_space_mark_all(struct mmu_state *m)
{
	for (unsigned i = 0; i < nspaces(m); i++) {
		m->space[i].pend.all = 1;
		m->space[i].pend.ndirty = 0;
	}
}

/* The running space's record moves to (i).pend, or back. */
static void park(struct mmu_state *m, unsigned i)
{
	struct mmu_dirtyset *d = &m->space[i].pend;

	d->ndirty = m->ndirty;
	d->all = m->dirty_all;
	memcpy(d->dirty, m->dirty, m->ndirty * sizeof(*m->dirty));
}

static void unpark(struct mmu_state *m, unsigned i)
{
	const struct mmu_dirtyset *d = &m->space[i].pend;

	m->ndirty = d->ndirty;
	m->dirty_all = d->all;
	memcpy(m->dirty, d->dirty, d->ndirty * sizeof(*d->dirty));
}

/* The space to run table (l4) in, other than the running one: the one that
 * realises it, else a free one, else the least recently run. */
static unsigned pick(const struct mmu_state *m, uint64_t l4)
{
	unsigned best = UINT32_MAX, n = nspaces(m);

	for (unsigned i = 0; i < n; i++)
		if (i != m->space_cur && m->space[i].l4 == l4)
			return i;
	for (unsigned i = 0; i < n; i++)
		if (i != m->space_cur && !m->space[i].l4)
			return i;
	for (unsigned i = 0; i < n; i++)
		if (i != m->space_cur && (best == UINT32_MAX || m->space[i].used < m->space[best].used))
			best = i;
	return best;
}

uint64_t mmu_space_enter(struct vm *vm, uint64_t from, uint64_t to)
{
	struct mmu_state *m = &vm->mmu;
	unsigned b;
	uint64_t was;
	int first;

	m->space[m->space_cur].used = ++m->space_clock;
	if (nspaces(m) < 2 || !m->space[m->space_cur].l4 || !to)
		return from; /* the first table, or one process for all */
	b = pick(m, to);
	was = m->space[b].l4;
	first = !m->space[b].used; /* never ran: its process starts now */
	park(m, m->space_cur);
	unpark(m, b);
	m->space_cur = b;
	m->space[b].used = ++m->space_clock;
	m->count.space_switches++;
	m->spaces.switches++;
	if (was == to)
		m->spaces.hits++;
	else if (first)
		m->spaces.fresh++;
	else
		m->spaces.retargets++;
	return was;
}

void mmu_space_forget(struct vm *vm, uint64_t l4)
{
	struct mmu_state *m = &vm->mmu;

	for (unsigned i = 0; i < nspaces(m); i++) {
		if (i == m->space_cur || m->space[i].l4 != l4)
			continue;
		m->space[i].l4 = 0;
		m->space[i].pend.all = 1;
		m->space[i].pend.ndirty = 0;
		m->spaces.forgotten++;
	}
}
