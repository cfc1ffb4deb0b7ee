/*
 * lowexec.h - running guest code below the host's vm.mmap_min_addr in an
 * instruction emulator (Unicorn, QEMU's TCG as a library).
 *
 * No process may map pages below vm.mmap_min_addr without CAP_SYS_RAWIO,
 * so a kernel linked at 0 (Mini-OS, GRUB's x86_64-xen) cannot run its
 * lowest pages natively when pvmm runs unprivileged. The trap loop hands
 * such code to this module: it runs from the guest's rip until control
 * leaves [0, vm->min_va), then native execution resumes with the register
 * state. A native instruction that reads or writes below vm->min_va is run
 * here too, alone (a step).
 *
 * The emulated CPU sees guest memory as the guest process does: through a
 * shadow page table built from the guest's own tables (mmu_walk) with the
 * protections the host mappings have (mmu_page_prot), pointing into the
 * memory file pvmm maps, plus the pages below vm->min_va. It runs in ring 3
 * with IOPL 0 and an empty GDT and IDT, as guest code does in its process,
 * so privileged instructions, I/O, segment loads and every exception stop
 * it as they fault natively: each such event comes back as the struct
 * stub_trap the stub would have reported for the same event natively
 * (SIGSEGV with the #PF address and error code, SIGSYS for a syscall and
 * int $0x80, SIGILL, SIGFPE, SIGTRAP, SIGBUS), and the trap loop serves it
 * exactly as a native one: hypercalls, Xen's privileged-instruction
 * emulation, writable page tables, and delivery through the guest's trap
 * table.
 *
 * Not carried between native and emulated code: x87/SSE registers (the
 * emulator has its own), TF single-stepping and hardware breakpoints; no
 * NX in the emulated CPU (Unicorn 2.0's), so the module checks that the
 * low pages it runs are executable. Guest-controlled state never stops
 * pvmm: what the emulator cannot do ends the domain with one line.
 */
#ifndef PVMM_LOWEXEC_H
#define PVMM_LOWEXEC_H

#include <stdint.h>

#include "vm.h"

struct vmm_lowexec;

/* True when the guest's rip lies below vm->min_va: the next run of guest
 * code must be emulated. */
static inline int vmm_lowexec_due(const struct vm *vm)
{
	return vm->vcpu.regs.rip < vm->min_va;
}

/* How a run ended. */
enum vmm_lowexec_end {
	LOWEXEC_LEFT,   /* control left [0, vm->min_va): resume natively */
	LOWEXEC_SLICE,  /* a slice of work done: serve events, then go on */
	LOWEXEC_STEP,   /* the one instruction of a step ran */
	LOWEXEC_TRAP,   /* an event for the trap loop: (t) holds it */
	LOWEXEC_ENDED,  /* the domain was ended (vm->end, vm->end_msg) */
};

/* Run the guest from vm->vcpu.regs (in, and out) in the emulator: from a
 * rip below vm->min_va until control leaves that range, a trap, or a slice
 * (about a million blocks) ends; with (step), the one instruction at rip
 * (a native instruction that touched memory below vm->min_va). The engine
 * is made at the first call and kept in (*lx). Counters go to vm->stats
 * (lowexec_*). Returns how the run ended; LOWEXEC_TRAP fills (t) as the
 * stub fills it (event STUB_EV_SIGNAL). */
enum vmm_lowexec_end vmm_lowexec_run(struct vmm_lowexec **lx, struct vm *vm, int step,
				     struct stub_trap *t);

/* Free the engine (NULL is fine). */
void vmm_lowexec_free(struct vmm_lowexec *lx);

#endif
