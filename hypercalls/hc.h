/*
 * hypercalls - Xen hypercall dispatch for a 64-bit PV guest.
 *
 * hc_dispatch() takes the hypercall in the vCPU's registers (number in rax,
 * arguments in rdi, rsi, rdx, r10, r8), runs it and writes the result, a
 * value or a negative Xen errno, to rax. Unknown numbers are -ENOSYS. Guest
 * pointers are only ever read or written through mmu_copy_*_guest. After a
 * hypercall that changed page tables, the host-mapping operations that
 * bring the guest process in line are emitted through vm->mmu.emit before
 * hc_dispatch returns. A hypercall that ends the domain sets vm->end (a
 * failed host sync sets VM_HOST_ERROR); nothing here exits.
 */
#ifndef PVMM_HC_H
#define PVMM_HC_H

#include <stddef.h>
#include <stdint.h>

#include "vm.h"

#define PVMM_XEN_MAJOR 4
#define PVMM_XEN_MINOR 19

void hc_dispatch(struct vm *vm);

/* The XENFEAT_* bits pvmm implements, word (idx) of the feature map. */
uint32_t hc_features(unsigned idx);

/* Name of hypercall (nr), or NULL when pvmm does not know it. */
const char *hc_name(unsigned nr);

/* One handler: five arguments in, result out. */
typedef int64_t (*hc_fn)(struct vm *vm, const uint64_t a[5]);

/* Bring the host mappings in line with the tables (mmu_sync); a failure
 * ends the domain: an address space no process could map is the guest's
 * doing (VM_CRASH), anything else a host error. */
void hc_sync(struct vm *vm);

/* Handlers: console.c, sched.c, version.c, mm.c, traps.c, privops.c,
 * events.c, grant.c (the xenstore is reached through events.c). */
int64_t hc_console_io(struct vm *vm, const uint64_t a[5]);
int64_t hc_sched_op(struct vm *vm, const uint64_t a[5]);
int64_t hc_sched_op_compat(struct vm *vm, const uint64_t a[5]);
int64_t hc_xen_version(struct vm *vm, const uint64_t a[5]);
int64_t hc_vm_assist(struct vm *vm, const uint64_t a[5]);
int64_t hc_mmu_update(struct vm *vm, const uint64_t a[5]);
int64_t hc_mmuext_op(struct vm *vm, const uint64_t a[5]);
int64_t hc_memory_op(struct vm *vm, const uint64_t a[5]);
int64_t hc_grant_table_op(struct vm *vm, const uint64_t a[5]);
int64_t hc_update_va_mapping(struct vm *vm, const uint64_t a[5]);
int64_t hc_update_va_mapping_otherdomain(struct vm *vm, const uint64_t a[5]);
int64_t hc_set_trap_table(struct vm *vm, const uint64_t a[5]);
int64_t hc_stack_switch(struct vm *vm, const uint64_t a[5]);
int64_t hc_set_callbacks(struct vm *vm, const uint64_t a[5]);
int64_t hc_callback_op(struct vm *vm, const uint64_t a[5]);
int64_t hc_fpu_taskswitch(struct vm *vm, const uint64_t a[5]);
int64_t hc_iret(struct vm *vm, const uint64_t a[5]);
int64_t hc_multicall(struct vm *vm, const uint64_t a[5]);
int64_t hc_set_segment_base(struct vm *vm, const uint64_t a[5]);
int64_t hc_set_gdt(struct vm *vm, const uint64_t a[5]);
int64_t hc_update_descriptor(struct vm *vm, const uint64_t a[5]);
int64_t hc_event_channel_op(struct vm *vm, const uint64_t a[5]);
int64_t hc_set_timer_op(struct vm *vm, const uint64_t a[5]);
int64_t hc_vcpu_op(struct vm *vm, const uint64_t a[5]);
int64_t hc_physdev_op(struct vm *vm, const uint64_t a[5]);

/* ---- grants to pvmm's backends (grant.c) -----------------------------------
 * A backend (domain 0) uses a page the guest granted it as Xen's
 * map_grant_ref from domain 0 would map it: entry (ref) must be within the
 * table, a full-page GTF_permit_access grant to domain 0, not GTF_readonly
 * unless (ro); its frame the domain's RAM. While held, the entry shows
 * GTF_reading (and GTF_writing unless ro) and the frame keeps a reference,
 * a writable type reference unless ro (a page table, a GDT page is never
 * writable through a grant). Returns GNTST_okay with the frame's bytes in
 * (*page), or a GNTST_* error with nothing held. Release every grant held,
 * once; releasing one not held does nothing. */
struct hc_grant {
	uint32_t ref;
	uint64_t mfn;
	int ro;
	int held;
};
int hc_grant_acquire(struct vm *vm, uint32_t ref, int ro, struct hc_grant *g, uint8_t **page);
void hc_grant_release(struct vm *vm, struct hc_grant *g);

/* ---- events and time (events.c) --------------------------------------------
 * Xen system time is nanoseconds since boot; vcpu_info's time fields and the
 * wall clock in shared_info are kept for the guest's pvclock. */
void hc_time_init(struct vm *vm);          /* at boot: measure the TSC, fill the time */
uint64_t hc_now(const struct vm *vm);      /* system time now */
void hc_raise(struct vm *vm, uint32_t port);
/* Bind (port) to backend (be) (vmm/backends/): the guest's EVTCHNOP_send
 * on it calls be->notify(vm, ctx); EVTCHNOP_status calls it interdomain.
 * 0, or -XEN_EINVAL when the port is taken or out of range. */
int hc_bind_backend(struct vm *vm, uint32_t port, const struct vm_backend *be, void *ctx);
/* The port may be pvmm's own (free: the console's, the store's) or one the
 * guest allocated unbound for domain 0 (a frontend's event-channel key).
 * hc_unbind_backend undoes a binding of (be, ctx) still in place: the
 * guest's end is unbound again. A guest that closes a backend's port ends
 * the binding itself. */
void hc_unbind_backend(struct vm *vm, uint32_t port, const struct vm_backend *be, void *ctx);
/* A backend has work for later (its vm_backend.work). */
void hc_backend_kick(struct vm *vm);
/* Run the work backends asked for: SCHEDOP_block, SCHEDOP_poll and
 * SCHEDOP_yield do, before they look for events; the front end does when
 * it interrupted the guest (its timer). As a dom0 backend runs while the
 * frontend's vCPU waits or is preempted: a guest that never waits, yields
 * or takes a timer interrupt is never served. */
void hc_backends_work(struct vm *vm);
/* Fire due timers; returns the next deadline (system time) or 0 for none. */
uint64_t hc_events_tick(struct vm *vm);
int hc_event_pending(struct vm *vm);       /* evtchn_upcall_pending */
int hc_upcall_due(struct vm *vm);          /* pending, unmasked, with a callback */
/* Send the pending upcall to the event callback: 1 sent, -1 crashed. */
int hc_upcall(struct vm *vm);
/* What the guest's console ring output (buf, n): on vm->console, less the
 * lines console_io showed just before when it is the ring's first output;
 * the guest uses its ring from then on (console.c: how the two consoles
 * are shown). */
void hc_console_ring_out(struct vm *vm, const char *buf, size_t n);
/* SCHEDOP_block / SCHEDOP_poll: set vm->ev.blocked for the front end to wait. */
int64_t hc_block(struct vm *vm);
/* The vCPU's vcpu_info: in shared_info, or where VCPUOP_register_vcpu_info
 * put it. */
struct vcpu_info *hc_vcpu_info(struct vm *vm);
/* The vCPU leaves SCHEDOP_block/poll: account the time, refresh its
 * runstate area. */
void hc_unblock(struct vm *vm);
int64_t hc_poll(struct vm *vm, uint64_t arg);

/* A #GP (or, with undefined_opcode, a #UD) of the guest: emulate the
 * instruction at rip as Xen's pv_emulate_privileged_op and
 * pv_emulate_invalid_op do. In both modes: cli/sti when the virtual IOPL
 * allows them (a no-op, as on Xen), port I/O (in, out, ins, outs, rep) the
 * IOPL or the guest's I/O bitmap allows, flat segment loads (mov, pop),
 * iret and far returns through Xen's flat selectors (hc_flat_return), cpuid behind
 * Xen's forced-emulation prefix. In kernel mode also: control registers
 * (CR4 as hc_cr4_fixup), clts, wbinvd, hlt, a small MSR set. Returns 1
 * when done (stepped over, or an exception the emulation raised was
 * delivered), 0 when the fault is to be delivered as it was, -1 when the
 * domain was crashed. */
int hc_privop(struct vm *vm, int undefined_opcode);

/* A #GP(0) with the guest's %rsp not canonical: Linux could not resume the
 * guest there (the instruction at rip never ran); Xen can. A mov or lea
 * that loads %rsp is emulated, a stack access raises #SS(0), as it would
 * have: 1, or -1 crashed; 0 for any other instruction (the #GP stands). */
int hc_noncanonical_rsp(struct vm *vm);

/* The CR4 a PV guest sees after writing (val), as Xen's pv_fixup_guest_cr4:
 * the bits it controls (TSD, DE, FSGSBASE, OSXSAVE) as written, each only
 * when (features) has it (HC_CR4_* below, from the CPUID pvmm reports),
 * and the bits it may only look at (PAE, MCE, OSFXSR, OSXMMEXCPT) from
 * (visible); everything else is dropped. Never a fault. */
#define HC_CR4_TSD (1ull << 2)
#define HC_CR4_DE (1ull << 3)
#define HC_CR4_PAE (1ull << 5)
#define HC_CR4_MCE (1ull << 6)
#define HC_CR4_OSFXSR (1ull << 9)
#define HC_CR4_OSXMMEXCPT (1ull << 10)
#define HC_CR4_FSGSBASE (1ull << 16)
#define HC_CR4_OSXSAVE (1ull << 18)
#define HC_CR4_GUEST_MASK (HC_CR4_TSD | HC_CR4_DE | HC_CR4_FSGSBASE | HC_CR4_OSXSAVE)
#define HC_CR4_VISIBLE_MASK (HC_CR4_PAE | HC_CR4_MCE | HC_CR4_OSFXSR | HC_CR4_OSXMMEXCPT)
uint64_t hc_cr4_fixup(uint64_t features, uint64_t visible, uint64_t val);

/* ---- port I/O (ioport.c) ---------------------------------------------------
 * What Xen lets a PV vCPU do with I/O ports. pvmm's domain has no ports of
 * the machine (an unprivileged domU): what the IOPL or the bitmap allows is
 * emulated with Xen's answers for such a domain (reads all ones, writes
 * dropped, the CMOS index and PCI CONFIG_ADDRESS latched). */

/* The virtual IOPL allows the current mode: the guest kernel counts as
 * CPL 1 (CPL 0 with VMASST_TYPE_architectural_iopl), user mode as CPL 3. */
int hc_iopl_ok(struct vm *vm);
/* Xen's guest_io_okay: the IOPL allows (bytes) at (port), or the guest's
 * I/O bitmap (read through the kernel's tables; a byte it cannot read
 * denies) has their bits clear. */
int hc_io_okay(struct vm *vm, unsigned port, unsigned bytes);
/* An access of (bytes) (1, 2 or 4) to (port) the guest is allowed. */
uint32_t hc_io_read(struct vm *vm, unsigned port, unsigned bytes);
void hc_io_write(struct vm *vm, unsigned port, unsigned bytes, uint32_t data);
/* in, out, ins, outs (with rep) at rip, (bytes, n) its bytes: 1 done (or an
 * exception raised on the way delivered), 0 not such an instruction or not
 * allowed (#GP), -1 crashed. */
int hc_emulate_io(struct vm *vm, const uint8_t *bytes, size_t n);
/* A fault at (addr) that no Linux process could avoid: a load from Xen's
 * read-only M2P table (upper half) or from a page the guest mapped below
 * the host's mmap_min_addr. Emulate `mov mem, reg` (4 or 8 bytes) and step
 * over it: 1, or 0 when it is not such a load. */
int hc_emulate_load(struct vm *vm, uint64_t addr);
/* Load the host GS base of the guest's current mode (after a switch). */
int hc_apply_gs(struct vm *vm);
/* A segment base the guest asks for, (what) naming it for the message: 0
 * when the host can load it; -XEN_EINVAL when it is not canonical (Xen
 * refuses it); a canonical base no Linux process may have (upper half)
 * crashes the domain: -XEN_EPERM. */
int hc_check_base(struct vm *vm, const char *what, uint64_t base);
/* Load (base) as the host's FS or GS base (STUB_BASE_FS/_GS): 0 or the
 * emitter's error. */
int hc_load_base(struct vm *vm, unsigned which, uint64_t base);

/* ---- debug registers (debugreg.c) -------------------------------------------
 * %dr0-3, %dr6 and %dr7 of the vCPU by Xen's rules (set_debugreg): an
 * address the guest may not use (non-canonical, Xen's range, pvmm's hole),
 * GD, or an I/O breakpoint without CR4.DE is -XEN_EPERM; bits above 31 of
 * %dr6/%dr7 are -XEN_EINVAL; a register that does not exist, or %dr4/%dr5
 * with CR4.DE, is -XEN_ENODEV. A refused write changes nothing. Reserved
 * bits read back as Xen fixes them. Writes of %dr0-3/%dr7 set
 * vm->vcpu.dr.changed for the front end to re-arm the host. */
int hc_dr_write(struct vm *vm, unsigned reg, uint64_t value);
int hc_dr_read(const struct vm *vm, unsigned reg, uint64_t *value);
/* control.c: sysctl, domctl and platform_op, the control domain's: -EFAULT,
 * -EACCES for another interface version, else -EPERM, as Xen answers a domU */
int64_t hc_sysctl(struct vm *vm, const uint64_t a[5]);
int64_t hc_domctl(struct vm *vm, const uint64_t a[5]);
int64_t hc_platform_op(struct vm *vm, const uint64_t a[5]);
int64_t hc_set_debugreg(struct vm *vm, const uint64_t a[5]);
int64_t hc_get_debugreg(struct vm *vm, const uint64_t a[5]);
/* `mov %drN` emulated in kernel mode, to (write) or from *gpr: 1 done, 0
 * for #GP(0), HC_PRIVOP_DELIVERED when #UD went to the guest, -1 crashed. */
#define HC_PRIVOP_DELIVERED 2
int hc_dr_mov(struct vm *vm, int write, unsigned reg, uint64_t *gpr);
/* A #DB for the guest: (hit) holds %dr6 bits in positive polarity (B0-B3,
 * BS), merged into its %dr6 as Xen's pv_inject_DB does (breakpoint bits
 * replaced, the others accumulated); RF is cleared in the frame. Returns
 * as hc_inject. */
int hc_dr_inject(struct vm *vm, uint32_t hit);
/* The breakpoints the host must arm for the guest's %dr7: enabled, not
 * I/O, at an address below the hole; addresses aligned to their length,
 * instruction breakpoints 1 byte long. */
void hc_dr_host_config(const struct vm *vm, struct vm_hostdr *h);
/* The breakpoints (bit n for %drn) that an access of (size) bytes at
 * (addr), a write when (write), matches among those armed. */
int hc_dr_watched(const struct vm *vm, uint64_t addr, unsigned size, int write);
/* A #GP from `mov <reg|mem>, %ss` with Xen's flat stack selector, which a
 * Linux process cannot load (FLAT_RING3_SS64; its RPL 0 form in kernel
 * mode): emulated as a load that changes nothing, rip stepped over. A
 * read-write breakpoint its memory operand matches holds a #DB back until
 * the next instruction has run, as the hardware's mov ss shadow does: pvmm
 * single-steps that instruction (vm->vcpu.dr.held, hc_dr_shadow_end).
 * 1 emulated, 0 not such an instruction. */
int hc_mov_ss(struct vm *vm);
/* The trap after an emulated mov %ss: when (stepped), the single step that
 * ends the next instruction, the held bits are due and returned; any other
 * trap (a hypercall or system call, which Xen runs in its own context
 * where it drops such a #DB, or a fault) discards them. The TF pvmm set is
 * taken back either way; *pvmm_tf says whether it was pvmm's. */
uint32_t hc_dr_shadow_end(struct vm *vm, int stepped, int *pvmm_tf);
/* Pure rules, for the tests: (feat) holds HC_DR_RTM, HC_DR_BLD. */
#define HC_DR_RTM 1u
#define HC_DR_BLD 2u
uint32_t hc_dr_adj_dr6(uint32_t dr6, unsigned feat);
uint32_t hc_dr_adj_dr7(uint32_t dr7, unsigned feat);
uint32_t hc_dr_merge_dr6(uint32_t dr6, uint32_t hit, unsigned feat);
int hc_dr_addr_ok(uint64_t addr);

/* ---- exceptions and modes (traps.c) ----------------------------------------
 * Each returns 1 when the guest was sent to a handler, 0 when it has none
 * for the vector (the caller decides), -1 when the domain was crashed (a
 * frame that cannot be written, no callback). */

/* Deliver exception (vector) through the trap table, with an error code
 * when (has_err); (cr2) goes to vcpu_info for #PF. From user mode the guest
 * is switched to kernel mode and its stack_switch stack. */
int hc_inject(struct vm *vm, unsigned vector, int has_err, uint64_t err, uint64_t cr2);
/* An exception an emulated instruction raises, with error code (err)
 * (cr2 for #PF): 1 delivered, -1 crashed (no handler, or no frame). */
int hc_exception(struct vm *vm, unsigned vector, uint64_t err, uint64_t cr2);
/* `int $vector` (an instruction of insn_len bytes): through the gate when its
 * DPL allows, else #GP with the gate's selector error code. */
int hc_software_interrupt(struct vm *vm, unsigned vector, unsigned insn_len);
/* A `syscall` in guest user mode: to the syscall callback in kernel mode. */
int hc_bounce_syscall(struct vm *vm);
/* A 32-bit system call the host took by its fast path (SIGSYS with the
 * i386 audit arch that no `int $0x80` made), which loses the address it
 * came from: on an Intel-like host a `sysenter` (either mode), delivered
 * as Xen's sysenter entry does (the sysenter callback with rip 0, CS 3 and
 * rsp 0 in the frame; #GP(0) without one); on an AMD-like host a `syscall`
 * in 32-bit code, whose return address Linux does not keep: the domain is
 * crashed saying so. 1 delivered, -1 crashed. */
int hc_fast_syscall32(struct vm *vm);
/* A native iret (iret 1) or far return (iret 0; lret $imm releases imm
 * more bytes) with (opsize)-byte slots (4 or 8) at rip, which the host
 * faulted because its GDT lacks Xen's flat selectors: done as on Xen, a
 * return at the same privilege (CS FLAT_RING3_CS64 or, into 32-bit code,
 * FLAT_RING3_CS32; for iret SS FLAT_RING3_SS64) that leaves the guest in
 * its kernel or user mode; iret loads rip, rsp and the flags CPL 3 may
 * change (not IF, IOPL). rip and regs.cs are set: 1 done (or a #GP it
 * raises delivered: a rip the new code cannot have, or FLAT_RING3_CS32 on a
 * host without 32-bit user code, vm->host_compat clear), 0 not such a
 * frame (the #GP stands), -1 crashed. */
int hc_flat_return(struct vm *vm, int iret, unsigned opsize, unsigned imm);
/* A far jmp (call 0) or far call (call 1, an instruction of len bytes,
 * pushing (opsize)-byte slots) to (sel):(rip), faulted because the host has
 * no such selector: to Xen's flat code selectors (any RPL: the CPL stays
 * 3) as on Xen, switching between 64-bit and 32-bit code. Returns as
 * hc_flat_return. */
int hc_flat_far(struct vm *vm, int call, uint64_t sel, uint64_t rip, unsigned opsize, unsigned len);

/* The Zydis decoder arguments for the code the vCPU runs:
 * ZydisDecoderInit(&dec, HC_ZYDIS_MODE(vm)). */
#define HC_ZYDIS_MODE(vm)                                                                       \
	(vcpu_compat(&(vm)->vcpu) ? ZYDIS_MACHINE_MODE_LONG_COMPAT_32 : ZYDIS_MACHINE_MODE_LONG_64), \
	(vcpu_compat(&(vm)->vcpu) ? ZYDIS_STACK_WIDTH_32 : ZYDIS_STACK_WIDTH_64)
/* The address of memory operand (op) of instruction (in) (debugreg.c):
 * 1, or 0 when a register it names is not one pvmm has. */
struct ZydisDecodedInstruction_;
struct ZydisDecodedOperand_;
int hc_operand_address(const struct vm *vm, const struct ZydisDecodedInstruction_ *in,
		       const struct ZydisDecodedOperand_ *op, uint64_t *ea);
/* Switch between guest kernel mode (0) and user mode (1): the L4 changes. */
int hc_set_mode(struct vm *vm, int user);

#endif
