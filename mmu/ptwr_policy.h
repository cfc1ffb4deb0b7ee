/*
 * ptwr_policy.h - auto's choice between emulating a store into an L1 and
 * unhooking the L1 (--ptwr=auto), and the cost model it weighs.
 *
 * The costs are measured as the guest runs: vmm/run.c hands over, for each
 * trap, how long the guest stood still for it (the stub's timestamps, from
 * its signal handler's entry to its exit) and the gap before the next one,
 * with what the trap did (enum ptwr_role, set by ptwr.c). From them come
 * what one emulated store costs (its stop and the gap to the next store:
 * the fault and the guest's work in between) and what one
 * unhook/resync/rehook cycle costs (from the unhook's fault to the next
 * batch's first: both stops, both faults, the native stores and the
 * guest's work of the batch), exponentially weighted per VM, so that the
 * guest's own work weighs the same on both sides. The timestamps lie in a page the
 * guest can write: samples out of range are dropped, and a forged one can
 * only make this guest's own choice worse.
 *
 * The choice per L1 needs no clock: it weighs the predicted stores of the
 * next batch times the cost of emulating one against the cost of a cycle,
 * with a batch measured by an unhook that begins it (what the resync finds
 * changed). Emulated L1s are probed again after stores whose emulation cost
 * a few cycles, the interval doubling while probes find nothing worth
 * unhooking. Pure functions over the structures given: the unit tests feed
 * them costs, not timings.
 */
#ifndef PVMM_PTWR_POLICY_H
#define PVMM_PTWR_POLICY_H

#include <stdint.h>

#include "vm.h"

#define PTWR_PROBE_MAX 64 /* at most this many break-evens of emulation between probes */

/* The costs the choice uses: the measured ones, or, before the first
 * measurement, a seed (an emulated store 10 us, a cycle four of them). */
uint64_t mmu_ptwr_emulate_cost(const struct ptwr_costs *c);
uint64_t mmu_ptwr_cycle_cost(const struct ptwr_costs *c);

/* Feed the model: the previous trap did (prev) and held the guest for
 * (stop_ns); (gap_ns) passed until the current trap, which did (cur). */
void mmu_ptwr_cost_sample(struct ptwr_costs *c, enum ptwr_role prev, uint64_t stop_ns,
			  uint64_t gap_ns, enum ptwr_role cur);

/* A fresh history for L1 (mfn). */
void mmu_ptwr_hist_init(struct ptwr_hist *h, uint64_t mfn);

/* A store to the L1 of (h) faulted and unhooking is possible: 1 to unhook,
 * 0 to emulate. Counts the store in the history. */
int mmu_ptwr_auto_choose(const struct ptwr_costs *c, struct ptwr_hist *h);

/* The cycle of the L1 of (h) ended: its resync found (changed) entries
 * changed. */
void mmu_ptwr_auto_batch(const struct ptwr_costs *c, struct ptwr_hist *h, unsigned changed);

#endif
