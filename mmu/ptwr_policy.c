/* ptwr_policy.c - auto's choice per L1 and the cost model behind it
 * (contract in ptwr_policy.h, the policy in prose in docs/ptwr.md). */
#include "mmu/ptwr_policy.h"

#include <string.h>

#define SEED_EMULATE_NS 10000u
#define SEED_CYCLE_STORES 4u
#define SAMPLE_MAX_NS 50000000ull /* a stop or gap longer than 50 ms is not a trap's cost */
#define WEIGHT 32u                /* the newest sample's weight: 1/32, after the first 32 */
#define CLIP 8u                   /* a sample counts as at most 8x the estimate */

uint64_t mmu_ptwr_emulate_cost(const struct ptwr_costs *c)
{
	uint64_t e = c->emulate_ns ? c->emulate_ns : SEED_EMULATE_NS;

	/* a cycle holds two faults and more work than one emulated store: an
	 * estimate saying otherwise (a burst of preemptions) must not make
	 * auto unhook batches of one or two stores, where it would never
	 * emulate, so never measure, again */
	return c->cycle_ns && e > c->cycle_ns / 2 ? c->cycle_ns / 2 : e;
}

uint64_t mmu_ptwr_cycle_cost(const struct ptwr_costs *c)
{
	return c->cycle_ns ? c->cycle_ns : SEED_CYCLE_STORES * (c->emulate_ns ? c->emulate_ns : SEED_EMULATE_NS);
}

/* The running mean of the first WEIGHT samples, then an exponentially
 * weighted one; a sample over CLIP times the estimate (before the first,
 * the seed) counts as that: a preemption is not the trap's cost. */
static void weigh(uint64_t *est, uint64_t n, uint64_t v, uint64_t seed)
{
	uint64_t w = n + 1 < WEIGHT ? n + 1 : WEIGHT, ref = n ? *est : seed;

	if (v > ref * CLIP)
		v = ref * CLIP;
	if (!n)
		*est = v;
	else if (v >= *est)
		*est += (v - *est) / w;
	else
		*est -= (*est - v) / w;
}

void mmu_ptwr_cost_sample(struct ptwr_costs *c, enum ptwr_role prev, uint64_t stop_ns,
			  uint64_t gap_ns, enum ptwr_role cur)
{
	int burst = cur == PTWR_ROLE_EMULATE || cur == PTWR_ROLE_UNHOOK;

	if (stop_ns > SAMPLE_MAX_NS || gap_ns > SAMPLE_MAX_NS) {
		c->open = 0;
		return;
	}
	/* between two stores into L1s the guest runs a few instructions: the
	 * gap is the kernel's share of the fault (until emulation has been
	 * seen, the gap between a rehook and the next batch stands in) */
	if (burst && prev == PTWR_ROLE_EMULATE) {
		weigh(&c->fault_ns, c->emulate_samples, gap_ns, SEED_EMULATE_NS);
		weigh(&c->emulate_ns, c->emulate_samples, stop_ns + gap_ns, SEED_EMULATE_NS);
		c->emulate_samples++;
	} else if (burst && prev == PTWR_ROLE_RESYNC && !c->emulate_samples) {
		weigh(&c->fault_ns, c->cycle_samples, gap_ns, SEED_EMULATE_NS);
	}
	/* a cycle: from the unhook's fault to the next batch's first fault,
	 * the native stores and the guest's other work in the batch included,
	 * as an emulated store's gap includes them */
	if (prev == PTWR_ROLE_UNHOOK) {
		c->open = 1;
		c->open_ns = stop_ns + gap_ns;
	} else if (prev == PTWR_ROLE_RESYNC && c->open) {
		weigh(&c->cycle_ns, c->cycle_samples, c->open_ns + stop_ns + (burst ? gap_ns : c->fault_ns),
		      mmu_ptwr_cycle_cost(c));
		c->cycle_samples++;
		c->open = 0;
	} else if (c->open) {
		c->open_ns += stop_ns + gap_ns; /* another trap in the cycle */
	}
}

void mmu_ptwr_hist_init(struct ptwr_hist *h, uint64_t mfn)
{
	memset(h, 0, sizeof(*h));
	h->l1 = mfn;
	h->last_changed = PT_ENTRIES; /* no batch yet: nothing says unhooking is idle */
	h->probe = 1;
}

/* Stores whose emulation costs as much as one cycle (at least 1). */
static uint64_t break_even(const struct ptwr_costs *c)
{
	return mmu_ptwr_cycle_cost(c) / mmu_ptwr_emulate_cost(c) + 1;
}

int mmu_ptwr_auto_choose(const struct ptwr_costs *c, struct ptwr_hist *h)
{
	if (h->aligned) { /* the last cycle ended a batch: this store begins one */
		h->aligned = 0;
		h->whole = 1;
		return 1;
	}
	/* right after a cycle (which ended a batch), at the next batch's first
	 * store: the prediction decides. Further on, a store may lie anywhere
	 * in a batch, and only a probe unhooks: the estimates' noise must not
	 * cut batches in two */
	if (h->measured && !h->streak &&
	    h->predicted_x16 * mmu_ptwr_emulate_cost(c) > 16 * mmu_ptwr_cycle_cost(c)) {
		h->whole = 1;
		return 1;
	}
	if (++h->streak >= break_even(c) * h->probe) { /* probe: the batches may have grown */
		h->whole = 0;
		return 1;
	}
	return 0;
}

void mmu_ptwr_auto_batch(const struct ptwr_costs *c, struct ptwr_hist *h, unsigned changed)
{
	uint64_t worth = (uint64_t)changed * mmu_ptwr_emulate_cost(c);

	if (h->whole) { /* a whole batch: what the next one will be like */
		h->predicted_x16 = h->measured ? (h->predicted_x16 + changed * 16) / 2 : changed * 16;
		h->measured = 1;
		/* the probe interval only grows: near the crossover, where the
		 * estimates' noise flips the choice batch by batch, each flip to
		 * emulation must not be followed by a quick (two-cycle) probe */
		if (worth <= mmu_ptwr_cycle_cost(c) && h->probe < PTWR_PROBE_MAX)
			h->probe *= 2;
	} else {
		/* a probe came in mid-batch: what it found is the rest of a
		 * batch, which says little; it ended one, so the next store
		 * begins one: measure that */
		h->aligned = 1;
	}
	h->streak = 0;
	h->whole = 0;
}
