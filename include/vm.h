/*
 * vm.h - the state of one virtual machine and its vCPU.
 *
 * One struct vm per guest: the domain (memory, frame table, vCPU, events,
 * time, the xenstore), passed explicitly to every module. The front end
 * keeps its own state (the guest process, the transport, tracing, gdb) in
 * struct vmm (vmm/vmm.h), around it. Modules read and change the fields their own header says
 * they own; nothing here is global.
 */
#ifndef PVMM_VM_H
#define PVMM_VM_H

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "guest-loader/loader.h"
#include "stub_abi.h"
#include "xen_abi.h"

/* ---- guest addresses -------------------------------------------------------
 * The limits every guest-supplied address meets before it can become a
 * host operation. Xen's rule is canonical (bits 63-47 all equal); the host
 * adds its own: guest mappings live in [vm.min_va, HOLE_BASE) (realise.c),
 * and a segment base must be below Linux's TASK_SIZE_MAX, or arch_prctl
 * refuses it with EPERM. */
#define VM_BASE_LIMIT 0x00007ffffffff000ull /* Linux's TASK_SIZE_MAX (4-level paging) */

/* True when (va) is canonical for 48-bit virtual addresses. */
static inline int vm_canonical(uint64_t va)
{
	return va < 0x0000800000000000ull || va >= 0xffff800000000000ull;
}

/* True when a Linux process can have (base) as its FS or GS base. */
static inline int vm_host_base_ok(uint64_t base)
{
	return base < VM_BASE_LIMIT;
}

/* ---- typed addresses -------------------------------------------------------
 * Where frames and addresses cross module boundaries they have distinct
 * types, as in Xen (mfn_t), so that passing one for another, or swapping
 * two adjacent ones, does not compile: a machine frame (an index into the
 * memory file and the frame table), a guest-physical frame (what the
 * guest's P2M and M2P speak of), a guest virtual address. _mfn() makes one,
 * mfn_x() reads it. */
typedef struct { uint64_t m; } mfn_t;
typedef struct { uint64_t p; } pfn_t;
typedef struct { uint64_t v; } gva_t;
static inline mfn_t _mfn(uint64_t m) { return (mfn_t){ m }; }
static inline uint64_t mfn_x(mfn_t m) { return m.m; }
static inline pfn_t _pfn(uint64_t p) { return (pfn_t){ p }; }
static inline uint64_t pfn_x(pfn_t p) { return p.p; }
static inline gva_t _gva(uint64_t v) { return (gva_t){ v }; }
static inline uint64_t gva_x(gva_t v) { return v.v; }

/* Counters reported by --stats. */
enum vm_trap_kind {
	TRAP_HYPERCALL,
	TRAP_PAGE_FAULT,
	TRAP_GP_FAULT,
	TRAP_INVALID_OP,
	TRAP_BREAKPOINT,
	TRAP_MATH,
	TRAP_BUS,
	TRAP_INTERRUPT, /* pvmm interrupted the guest (timer) */
	TRAP_OTHER,
	TRAP_KINDS
};

struct vm_stats {
	uint64_t traps[TRAP_KINDS];
	uint64_t trap_ns[TRAP_KINDS];  /* time pvmm spent handling them */
	uint64_t hypercalls[XEN_HC_COUNT];
	uint64_t hypercalls_unknown;
	uint64_t hypercalls_fast;  /* those that came through the stub's direct entry */
	uint64_t map_ops[8];       /* indexed by stub_op_kind */
	uint64_t map_pages;        /* pages covered by mmap ops */
	uint64_t handoffs;         /* stub <-> monitor round trips */
	uint64_t console_bytes;
	uint64_t invariant_checks; /* --check-invariants comparisons made */
	uint64_t exceptions;       /* delivered to the guest's handlers */
	uint64_t guest_syscalls;   /* user-mode system calls bounced to the kernel */
	uint64_t privops;          /* privileged instructions emulated */
	uint64_t halts;
	uint64_t emulated_loads;   /* M2P and below-mmap_min_addr loads */
	uint64_t compat_entries;   /* switches into 32-bit code (CS FLAT_RING3_CS32) */
	uint64_t compat_refused;   /* ... that a host without 32-bit user code refused (#GP) */
	/* guest code and data below vm.mmap_min_addr in the instruction
	 * emulator (vmm/lowexec.h) */
	uint64_t lowexec_runs;     /* runs of low code */
	uint64_t lowexec_steps;    /* native instructions that touched low memory */
	uint64_t lowexec_blocks;   /* basic blocks of low code executed */
	uint64_t lowexec_ns;       /* time spent in the emulator */
	uint64_t lowexec_fills;    /* pages entered in its shadow page table */
	uint64_t lowexec_resets;   /* shadow page table started over */
	uint64_t lowexec_flushes;  /* translated low code thrown away (it changed) */
};

/* Frame types (Xen's PGT_*). A frame changes type only at type count 0. */
enum mmu_type {
	PGT_NONE = 0,
	PGT_WRITABLE,
	PGT_L1,
	PGT_L2,
	PGT_L3,
	PGT_L4,
	PGT_SEG_DESC, /* GDT/LDT pages */
	PGT_TYPES
};

/* Whose a RAM frame is (mmu/balloon.c): the domain's, or given back. */
enum mmu_owner {
	FRAME_OWNED = 0,         /* the domain's */
	FRAME_STOLEN,            /* being exchanged: not the domain's, contents kept */
	FRAME_FREE,              /* given back: populate can hand it out again */
	FRAME_CLAIMED,           /* chosen for an exchange's new extent */
	FRAME_DYING,             /* given back while referenced: free when the last reference goes */
};

struct mmu_frame {
	uint8_t type;            /* enum mmu_type */
	uint8_t pinned;
	uint8_t owner;           /* enum mmu_owner */
	uint16_t linear_entries; /* linear entries this table holds */
	uint32_t linear_uses;    /* linear entries elsewhere pointing at it */
	uint32_t type_count;     /* references that need the type */
	uint32_t refs;           /* general references: entries, pins, bases */
};

/* Page-table entries changed since the host mappings were last synced. */
#define MMU_DIRTY_MAX 64
struct mmu_dirty {
	uint64_t mfn;
	uint64_t bits[8];        /* one per entry index */
};

struct mmu_counters {
	uint64_t updates, updates_refused;
	uint64_t pins, unpins, base_switches, flushes, invlpgs;
	uint64_t validations;    /* tables promoted (all entries validated) */
	uint64_t devalidations;  /* tables demoted (all references dropped) */
	uint64_t syncs, sync_ranges;
	uint64_t deferred_fills; /* P2M frames written on first use */
	uint64_t space_switches; /* the running space changed (mmu/space.c) */
};

/* Frames whose contents pvmm writes on first use: the P2M list (fill.c). */
struct mmu_deferred {
	uint64_t first, count;   /* the range of frames */
	uint64_t *unfilled;      /* count bits, set while not yet written */
	uint64_t left;           /* bits still set */
};

/* Address spaces (mmu/space.c): pvmm realises each recently used
 * top-level table in a host process of its own, so that a switch back to
 * it is a hand-off, not a remap. A space's record of what changed since it
 * last ran; the running space's is struct mmu_state's dirty set itself. */
#define MMU_SPACES_MAX 8
struct mmu_dirtyset {
	struct mmu_dirty dirty[MMU_DIRTY_MAX];
	unsigned ndirty;
	int all;                 /* realise everything (never ran, or too much changed) */
};

struct mmu_space {
	uint64_t l4;             /* the top-level table it realises; 0: none (free) */
	uint64_t used;           /* when it last ran (mmu_state.space_clock) */
	struct mmu_dirtyset pend; /* parked: what changed since it last ran */
};

struct mmu_space_counters {
	uint64_t switches;       /* the guest moved to another space */
	uint64_t hits;           /* ... one that realised the table already */
	uint64_t fresh;          /* ... one never used before (a new process) */
	uint64_t retargets;      /* ... the least recently used (or a forgotten one), for another table */
	uint64_t forgotten;      /* parked spaces whose table stopped being one */
};

/* Receives the host operations the MMU wants; 0 or -errno. */
typedef int (*mmu_emit_fn)(void *ctx, const struct stub_op *op);

/* Writable page tables (--ptwr). */
enum ptwr_mode { PTWR_AUTO = 0, PTWR_EMULATE, PTWR_UNHOOK };

enum ptwr_trigger {          /* why an out-of-sync L1 was resynced */
	PTWR_RESYNC_FAULT,       /* an access to the range it maps */
	PTWR_RESYNC_HYPERCALL,   /* a hypercall (MMU state must be exact) */
	PTWR_RESYNC_SLOT,        /* another L1 needed its slot */
	PTWR_RESYNC_SHUTDOWN,
	PTWR_RESYNC_SWITCH,      /* the guest moves to another host process */
	PTWR_TRIGGERS
};

enum ptwr_fallback {         /* why a write was emulated in unhook mode */
	PTWR_FB_CODE,            /* the L1 maps the faulting instruction */
	PTWR_FB_STACK,           /* ... or the stack in use */
	PTWR_FB_SELF,            /* ... or the page being written */
	PTWR_FB_MULTI,           /* hooked in more than one place */
	PTWR_FB_IDLE,            /* the last batch changed (almost) nothing */
	PTWR_FB_POLICY,          /* auto mode chose emulation */
	PTWR_FB_LOW,             /* written through a page below vm.mmap_min_addr */
	PTWR_FALLBACKS
};

#define PTWR_SLOT_ACTIVE 0   /* hooked into the current tables */
#define PTWR_SLOT_INACTIVE 1 /* not reachable from them */
#define PTWR_MAX_ALIASES 8
#define PTWR_HISTORY 16

struct ptwr_slot {
	int used;
	uint64_t l1;              /* the out-of-sync L1 frame */
	uint64_t base;            /* active: first address of the 2 MiB it maps */
	int kept;                 /* active: the range stays mapped, with no access (else unmapped) */
	unsigned naliases;
	uint64_t alias[PTWR_MAX_ALIASES]; /* guest pages mapping l1 writable on the host */
	uint64_t snapshot[PT_ENTRIES];
};

struct ptwr_counters {
	uint64_t emulated, unhooks, rehooks, resyncs[PTWR_TRIGGERS];
	uint64_t fallbacks[PTWR_FALLBACKS];
	uint64_t resync_entries;  /* entries validated at resync */
	uint64_t refused;         /* stores / resynced entries refused */
	uint64_t aliases;         /* further writable aliases of an unhooked L1 */
};

struct ptwr_hist {            /* per-L1 history for the policy (mmu/ptwr_policy.c) */
	uint64_t l1;
	unsigned last_changed;    /* entries the last resync found changed */
	unsigned streak;          /* auto: emulated stores since the last cycle */
	unsigned probe;           /* auto: break-evens of emulation before a probe (1 .. PTWR_PROBE_MAX) */
	unsigned predicted_x16;   /* auto: stores the next batch is predicted to make, x16 */
	int measured;             /* auto: predicted_x16 comes from a measured batch */
	int whole;                /* auto: the cycle in progress began a batch */
	int aligned;              /* auto: unhook at the next store, to measure a whole batch */
};

/* What the trap being handled did, for the cost model. */
enum ptwr_role { PTWR_ROLE_NONE, PTWR_ROLE_EMULATE, PTWR_ROLE_UNHOOK, PTWR_ROLE_RESYNC };

/* auto's cost model: what one emulated store and one unhook/resync/rehook
 * cycle cost on this transport, measured as the guest runs (vmm/run.c
 * feeds the stub's timestamps to mmu_ptwr_cost_sample), in ns,
 * exponentially weighted; 0 until measured. */
struct ptwr_costs {
	uint64_t emulate_ns;      /* fault to resumed, for one emulated store */
	uint64_t cycle_ns;        /* unhook's fault to the next batch's first fault */
	uint64_t fault_ns;        /* the gap between two stores: the fault's kernel share */
	uint64_t emulate_samples, cycle_samples;
	uint64_t open_ns;         /* the cycle not yet closed, so far */
	int open;
};

struct ptwr_state {
	enum ptwr_mode mode;
	enum ptwr_role role;      /* what the trap being handled did */
	struct ptwr_slot slot[2];
	struct ptwr_hist hist[PTWR_HISTORY]; /* direct mapped by frame */
	struct ptwr_costs cost;
	struct ptwr_counters count;
};

/* Why something happened: every reason a trace event, a refusal or a
 * gdb stop gives, as a stable short code (for tools: --trace's why=,
 * docs/trace.md lists them) and its prose (for people: reason=). The one
 * table of them; VM_WHY_NONE is no reason. */
#define VM_WHY_TABLE(X) \
	X(NONE, "", "") \
	/* refusals: the rule an entry or a new type broke (mmu/frame.c) */ \
	X(WRITABLE_PT_MAPPING, "writable-pt-mapping", "a writable mapping of a page-table frame") \
	X(MAPPED_WRITABLE, "mapped-writable", "the frame is mapped writable: it cannot become a page table") \
	X(OTHER_LEVEL, "other-level", "the frame is a page table of another level") \
	X(TYPE_OVERFLOW, "type-overflow", "type count overflow") \
	X(L2_TARGET, "l2-target", "an L2 entry must point to an L1 (or be linear)") \
	X(L3_TARGET, "l3-target", "an L3 entry must point to an L2 (or be linear)") \
	X(L4_TARGET, "l4-target", "an L4 entry must point to an L3 (or be linear)") \
	X(LINEAR_WRITABLE, "linear-writable", "a linear page-table entry must be read-only") \
	X(LINEAR_DEPTH, "linear-depth", "linear page tables go one level deep only") \
	X(HOLE_SLOT, "hole-slot", "L4 slots 255-511 are the pvmm hole and the upper half") \
	X(L1_FORBIDDEN_BITS, "l1-forbidden-bits", "forbidden bits (PWT, PCD, PAT or 52-62)") \
	X(FORBIDDEN_BITS, "forbidden-bits", "forbidden bits (PWT, PCD, PSE, G or 52-62)") \
	X(BEYOND_MEMORY, "beyond-memory", "the frame is beyond guest memory") \
	X(GIVEN_BACK, "given-back", "the frame is not the domain's: it was given back (decrease_reservation, exchange)") \
	X(NOT_OWNED, "not-owned", "the frame is not the domain's (a grant-table frame not set up)") \
	/* unhook: where the L1 is (mmu/ptwr.c) */ \
	X(ACTIVE, "active", "the L1 is hooked into the current tables") \
	X(INACTIVE, "inactive", "the L1 is not reachable from the current tables") \
	/* resync triggers (enum ptwr_trigger, same order) */ \
	X(ACCESS, "access", "access to the unhooked range") \
	X(HYPERCALL, "hypercall", "a hypercall (MMU state must be exact)") \
	X(SLOT, "slot", "another L1 needed the slot") \
	X(SHUTDOWN, "shutdown", "shutdown") \
	X(SPACE_SWITCH, "switch", "the guest moves to another host process (address space)") \
	/* fallbacks to emulation in unhook and auto mode (enum ptwr_fallback, same order) */ \
	X(CODE_IN_RANGE, "code-in-range", "the L1 maps the faulting instruction") \
	X(STACK_IN_RANGE, "stack-in-range", "the L1 maps the stack in use") \
	X(SELF_IN_RANGE, "self-in-range", "the L1 maps the page being written") \
	X(MULTI_HOOKED, "multi-hooked", "the L1 is hooked in more than one place") \
	X(IDLE, "idle", "the last batch changed too little") \
	X(POLICY, "policy", "auto mode predicts that emulating the batch costs less than a cycle") \
	X(BELOW_MMAP_MIN, "below-mmap-min", "the page being written is below vm.mmap_min_addr") \
	/* fault outcomes: what pvmm did with a host fault (vmm/run.c) */ \
	X(DELIVERED, "delivered", "delivered to the guest") \
	X(NO_HANDLER, "no-handler", "no handler") \
	X(INT_DELIVERED, "int-delivered", "software interrupt delivered") \
	X(PT_WRITE_HANDLED, "pt-write-handled", "page-table write handled") \
	X(PT_WRITE_REFUSED, "pt-write-refused", "page-table write refused") \
	X(RESYNC, "resync", "resync of an unhooked L1") \
	X(RESYNC_REFUSED, "resync-refused", "resync refused") \
	X(LOAD_EMULATED, "load-emulated", "load emulated (M2P or below mmap_min_addr)") \
	X(LOW_EXEC, "low-exec", "run in the instruction emulator (code or data below mmap_min_addr)") \
	X(P2M_FILL, "p2m-fill", "P2M frame written on first use") \
	X(PRIVOP_EMULATED, "privop-emulated", "privileged instruction emulated") \
	X(CRASHED, "crashed", "crashed") \
	X(FORCED_EMULATION, "forced-emulation", "forced emulation (cpuid)") \
	X(NONCANONICAL_RSP, "noncanonical-rsp", "emulated: the host cannot resume a non-canonical %rsp")

enum vm_why {
#define VM_WHY_ENUM(e, code, text) VM_WHY_##e,
	VM_WHY_TABLE(VM_WHY_ENUM)
#undef VM_WHY_ENUM
	VM_WHYS
};

/* The stable code ("writable-pt-mapping"), "" for VM_WHY_NONE. */
static inline const char *vm_why_code(enum vm_why w)
{
#define VM_WHY_CODE(e, code, text) code,
	static const char *const codes[] = { VM_WHY_TABLE(VM_WHY_CODE) };
#undef VM_WHY_CODE
	return (unsigned)w < VM_WHYS ? codes[w] : "";
}

/* The prose ("a writable mapping of a page-table frame"). */
static inline const char *vm_why_text(enum vm_why w)
{
#define VM_WHY_TEXT(e, code, text) text,
	static const char *const texts[] = { VM_WHY_TABLE(VM_WHY_TEXT) };
#undef VM_WHY_TEXT
	return (unsigned)w < VM_WHYS ? texts[w] : "";
}

/* Trace events (--trace) that libraries report; formatting is vmm's. */
enum vm_trace_kind { TRACE_PT = 1u << 0, TRACE_HYPERCALL = 1u << 1, TRACE_FAULT = 1u << 2,
		     TRACE_EVENT = 1u << 3, TRACE_XENSTORE = 1u << 4, TRACE_BLK = 1u << 5 };

struct vm_event {
	unsigned kind;           /* one vm_trace_kind */
	const char *what;        /* "emulate", "unhook", "resync", "refuse", ... */
	uint64_t addr;           /* guest address involved */
	uint64_t mfn;            /* the table frame */
	int idx;                 /* entry index, or -1 */
	uint64_t old, val;       /* entry before and after */
	enum vm_why why;         /* reason: trigger, fallback, broken rule, or none */
	const char *insn;        /* disassembly of the instruction, or NULL */
	uint64_t count;          /* e.g. entries changed */
	const char *path;        /* xenstore: the node, or NULL */
	const char *reply;       /* xenstore: the reply, or NULL */
	uint32_t tx;             /* xenstore: the transaction */
	int error;               /* xenstore: the reply is an error; blk: the status */
	uint32_t dev;            /* blk: the virtual device */
	uint64_t sector;         /* blk: the request's first sector */
};

struct vm;
struct xs_store; /* vmm/backends/xenstore.c */
struct be_blk;   /* vmm/backends/blkback.c */
#define VM_MAX_DISKS 16
typedef void (*vm_trace_fn)(struct vm *vm, const struct vm_event *ev);

struct mmu_state {
	struct mmu_frame *frames;   /* nr_frames entries */
	uint64_t *m2p;              /* machine-to-phys view, stored as value ^ mfn */
	struct mmu_dirty dirty[MMU_DIRTY_MAX];
	unsigned ndirty;
	int dirty_all;              /* resync the whole address space */
	mmu_emit_fn emit;           /* where host operations go */
	void *emit_ctx;
	/* Emulates a load at (addr) that no host mapping can serve (the front
	 * end supplies the instruction emulator): 1 when done, 2 when the
	 * instruction will run in the front end's instruction emulator before
	 * the guest resumes (code or data below vm.mmap_min_addr), else 0. */
	int (*emulate_load)(struct vm *vm, uint64_t addr);
	uint64_t gen;               /* bumped at every recorded change (dirty.c) */
	struct mmu_counters count;
	enum vm_why why;            /* the rule the last refused entry broke */
	struct ptwr_state ptwr;
	unsigned nspaces;           /* spaces to use, 1 .. MMU_SPACES_MAX (0: 1) */
	unsigned space_cur;         /* the one the guest runs in */
	uint64_t space_clock;
	struct mmu_space space[MMU_SPACES_MAX];
	struct mmu_space_counters spaces;
	struct mmu_deferred deferred;
	uint64_t given_back;        /* RAM frames out of the reservation (balloon.c) */
};

/* A trap-table entry (set_trap_table). */
struct vcpu_trap {
	uint64_t address;          /* handler, 0 when none */
	uint16_t cs;
	uint8_t flags;             /* bits 0-1 DPL, bit 2: mask events on entry */
};

/* The debug registers of the vCPU as Xen keeps them for a PV guest
 * (hypercalls/debugreg.c). 0 in dr6 or dr7 stands for the reset value
 * (X86_DR6_DEFAULT, X86_DR7_DEFAULT), so a zeroed vCPU is a reset one. */
struct vcpu_dr {
	uint64_t addr[4];          /* %dr0-3 */
	uint32_t dr6;              /* reserved bits as Xen fixes them */
	uint32_t dr7;              /* without the enables of I/O breakpoints ... */
	uint32_t dr7_emul;         /* ... which are kept here: never armed on the host */
	int changed;               /* dr0-3 or dr7 written since the host was armed */
	uint32_t feat;             /* the CPU features %dr6/%dr7 depend on, read once */
	uint32_t held;             /* #DB bits an emulated mov %ss holds until the next
				    * instruction has run (the mov ss shadow) ... */
	int held_tf;               /* ... for which pvmm set TF */
};

/* Hardware breakpoints as armed in the guest process (u_debugreg): the
 * enabled, armable breakpoints of the guest's %dr7 (hc_dr_host_config). */
struct vm_hostdr {
	uint64_t addr[4];
	uint32_t dr7;              /* L0-L3 and R/W, LEN fields only */
};

enum vcpu_callback { CB_EVENT, CB_FAILSAFE, CB_SYSCALL, CB_SYSCALL32, CB_SYSENTER, CB_NMI,
		     CB_COUNT };

struct vcpu {
	struct stub_regs regs;     /* guest registers at the current trap */
	uint64_t kernel_l4;        /* NEW_BASEPTR: the kernel's L4 frame */
	uint64_t user_l4;          /* NEW_USER_BASEPTR, 0 when unset */
	int user_mode;             /* the guest runs in its user mode (user_l4) */
	uint64_t kernel_ss, kernel_sp; /* stack_switch: the stack for user->kernel */
	struct vcpu_trap traps[256];
	uint64_t callbacks[CB_COUNT];
	uint8_t callback_flags[CB_COUNT];
	uint64_t fs_base, gs_base_kernel, gs_base_user;
	uint64_t gdt[16];          /* set_gdt frames, typed seg_desc */
	unsigned gdt_frames;
	int cr0_ts;                /* CR0.TS as the guest set it */
	uint64_t cr4;              /* the CR4 bits the guest controls (hc_cr4_fixup) */
	unsigned iopl;             /* virtual IOPL, 0-3 (PHYSDEVOP_set_iopl, or iret
				    * with VMASST_TYPE_architectural_iopl) */
	uint64_t iobmp;            /* PHYSDEVOP_set_iobitmap: the bitmap's address ... */
	uint32_t iobmp_limit;      /* ... and the ports it covers (0: none) */
	struct vcpu_dr dr;
};

/* The vCPU runs 32-bit code (compat mode): regs.cs is FLAT_RING3_CS32.
 * Any other value, 0 included, is 64-bit code (FLAT_RING3_CS64). */
static inline int vcpu_compat(const struct vcpu *v)
{
	return v->regs.cs == FLAT_RING3_CS32;
}

/* The L4 the guest runs on now: the kernel's, or the user's in user mode. */
#define vcpu_cr3(v) _mfn((v)->user_mode ? (v)->user_l4 : (v)->kernel_l4)

/* Event channels, timers and time (hypercalls/events.c). */
#define VM_EVTCHNS 1024
enum vm_evtchn_state { EVT_FREE = 0, EVT_UNBOUND, EVT_VIRQ, EVT_IPI, EVT_BACKEND };

/* The domain's id, as the xenstore and grant/memory ops know it. */
#define VM_DOMID 1u

/* A device backend's end of an interdomain channel (vmm/backends/): the
 * event-channel code knows a backend only by this. A guest's
 * EVTCHNOP_send on its port calls (notify); the backend raises the port
 * (hc_raise) when it produced or consumed something. A backend that works
 * as a dom0 driver does, while the guest runs on, has (work): its notify
 * only asks for it (hc_backend_kick), and hc_backends_work calls it when
 * the guest waits or yields or pvmm interrupts it. NULL: all in notify. */
struct vm_backend {
	const char *name;
	void (*notify)(struct vm *vm, void *ctx);
	void (*work)(struct vm *vm, void *ctx);
};
#define VM_MAX_BACKENDS 40 /* console, store, and split devices */

struct vm_events {
	uint8_t state[VM_EVTCHNS];     /* enum vm_evtchn_state */
	uint8_t virq[VM_EVTCHNS];
	uint16_t remote[VM_EVTCHNS];   /* EVT_UNBOUND: the domain that may bind it */
	uint32_t virq_port[NR_VIRQS];  /* 0: unbound */
	uint64_t tsc_hz;
	uint64_t boot_ns;              /* host CLOCK_MONOTONIC at boot */
	uint64_t timer;                /* next single-shot deadline, system time; 0 none */
	uint64_t period, next_period;  /* periodic timer */
	int blocked;                   /* SCHEDOP_block/poll: wait for an event */
	int console_used;              /* the guest uses the PV console ring */
	struct {                       /* ports bound to a backend (EVT_BACKEND) */
		uint32_t port;
		const struct vm_backend *be;
		void *ctx;
	} backend[VM_MAX_BACKENDS];
	unsigned nbackends;
	int backend_work;              /* hc_backend_kick: some backend has work */
	uint64_t block_until;          /* SCHEDOP_poll timeout, 0 none */
	uint32_t poll_port[128];       /* SCHEDOP_poll: the ports that wake it ... */
	uint32_t npoll;                /* ... 0 for SCHEDOP_block */
	uint64_t armed;                /* host CLOCK_MONOTONIC deadline the host timer is set for */
	uint64_t sent, upcalls, timer_fires, blocks;
	uint64_t runstate_va;          /* VCPUOP_register_runstate_memory_area, 0 none */
	int vcpu_info_moved;           /* VCPUOP_register_vcpu_info: at ... */
	uint32_t vcpu_info_offset;     /* ... this offset ... */
	uint64_t vcpu_info_mfn;        /* ... of this frame, not in shared_info */
	uint64_t blocked_ns;           /* system time spent blocked so far */
	uint64_t state_entry;          /* system time the vCPU last blocked or woke */
};

/* The grant table (hypercalls/grant.c). Its frames follow shared_info in
 * the memory file: LOADER_GRANT_FRAMES shared frames, then
 * LOADER_STATUS_FRAMES status frames (version 2). All zero is the table a
 * domain starts with: version 1, one shared frame, nothing pinned. */
#define VM_GRANT_REFS (LOADER_GRANT_FRAMES * 512u) /* entries of the largest table (v1) */
#define VM_GRANT_HANDLES 1024u                    /* mappings at once (maptrack entries) */

struct vm_grant_active {       /* an entry in use (Xen's active entry) */
	uint32_t pin;              /* GNTPIN_* counts: host/device, writable/read-only */
	uint32_t mfn;              /* the frame it was pinned with */
	uint16_t start, len;       /* the bytes it grants (sub-page grants, v2) */
};

struct vm_grant_map {          /* one mapping of a grant (Xen's maptrack entry) */
	uint32_t ref;
	uint32_t mfn;              /* the frame it maps */
	uint16_t flags;            /* GNTMAP_* it still holds; 0: the handle is free */
};

struct vm_grant {
	uint32_t frames;           /* shared frames the table has grown to; 0: one */
	uint32_t status_frames;    /* status frames (version 2 only) */
	uint8_t v2;                /* version 2 (set_version) */
	uint32_t next_handle;      /* where the search for a free handle starts */
	struct vm_grant_active active[VM_GRANT_REFS];
	struct vm_grant_map map[VM_GRANT_HANDLES];
};

/* The table's size in frames (at least one). */
static inline uint32_t vm_grant_frames(const struct vm_grant *g)
{
	return g->frames ? g->frames : 1;
}

/* Why the guest stopped. */
enum vm_end {
	VM_RUNNING = 0,
	VM_POWEROFF,
	VM_REBOOT,
	VM_CRASH,      /* the guest asked, or pvmm crashed the domain */
	VM_TIMEOUT,
	VM_INTERRUPTED,
	VM_HOST_ERROR, /* pvmm or the host failed, not the guest */
};

struct vm {
	/* guest memory: RAM frames then LOADER_EXTRA_FRAMES */
	int memfd;
	uint8_t *mem;
	uint64_t nr_pages;   /* RAM frames the guest owns */
	uint64_t nr_frames;  /* all frames in the memory file */
	uint64_t min_va;     /* lowest address the host lets us map */

	struct loader_image img;
	struct loader_layout lay;
	struct vcpu vcpu;
	struct vm_stats stats;
	struct vm_events ev;
	struct mmu_state mmu;
	uint32_t trace_mask;  /* vm_trace_kind bits the libraries report */
	vm_trace_fn trace;    /* where they go (the front end's) */

	uint64_t vm_assist;  /* VMASST_TYPE_* bits enabled by the guest */
	int host_compat;     /* the host runs 32-bit user code (the front end sets it) */
	struct xs_store *xs; /* the guest's xenstore (xs_init), or NULL */
	struct be_blk *disks[VM_MAX_DISKS]; /* its PV disks (vmm/backends/blkback.c) */
	unsigned ndisks;
	int shutdown_watched; /* a xenstore watch covers control/shutdown */
	int shutdown_sent;    /* pvmm wrote control/shutdown */
	uint32_t pci_cf8;    /* port 0xcf8 (PCI CONFIG_ADDRESS) as the guest wrote it */
	uint8_t cmos_idx;    /* port 0x70 (the CMOS index) as the guest wrote it */
	/* The guest's two consoles (hypercalls/console.c): the PV console ring
	 * is its console, as under `xl console`; console_io is Xen's log, as
	 * in `xl dmesg` */
	FILE *console;       /* the ring, and console_io until the guest uses the ring */
	FILE *hvlog;         /* --hvlog: all of console_io (console then has the ring only) */
	struct {             /* console_io text shown on console, which the ring's */
		char text[4096]; /* first output may repeat (guests that write both) */
		uint32_t len;
	} echo;
	struct vm_grant grant; /* the grant table (hypercalls/grant.c) */
	struct {             /* console input from the host the guest has not
			      * taken yet: the front end appends, the console
			      * backend moves it into the ring, CONSOLEIO_read
			      * takes it while the guest has not used the ring */
		char buf[4096];
		uint32_t len;
		int fresh;       /* bytes came since VIRQ_CONSOLE was last raised */
	} input;

	struct {               /* last refusal of the checked guest accessor */
		uint64_t gva;
		const char *file;
		int line;
	} fault;

	enum vm_end end;
	int shutdown_code;   /* SHUTDOWN_* the guest asked for */
	char end_msg[512];   /* one line for the user when the end is not clean */
};

/* Initialise (vm) before anything else touches it: all zero, no files. */
static inline void vm_init(struct vm *vm)
{
	memset(vm, 0, sizeof(*vm));
	vm->memfd = -1;
}

/* The guest took the first (n) bytes of the host's console input. */
static inline void vm_input_taken(struct vm *vm, uint32_t n)
{
	if (n > vm->input.len)
		n = vm->input.len;
	memmove(vm->input.buf, vm->input.buf + n, vm->input.len - n);
	vm->input.len -= n;
}

/* End the domain: the one way vm->end is set. (how) says how, and (fmt),
 * printf-style, the one line the user gets (NULL: none, or what a failed
 * host call already left in vm->end_msg). The
 * first end stands and later ones change nothing, except a stop the user
 * asked for (VM_TIMEOUT, VM_INTERRUPTED), which replaces whatever stopping
 * the guest's process caused. */
__attribute__((format(printf, 3, 4)))
static inline void vm_end_domain(struct vm *vm, enum vm_end how, const char *fmt, ...)
{
	va_list ap;

	if (vm->end && how != VM_TIMEOUT && how != VM_INTERRUPTED)
		return;
	vm->end = how;
	if (!fmt)
		return; /* a message already there (a host call's error) stays */
	va_start(ap, fmt);
	vsnprintf(vm->end_msg, sizeof(vm->end_msg), fmt, ap);
	va_end(ap);
}

#endif
