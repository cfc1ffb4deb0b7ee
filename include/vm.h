/*
 * vm.h - the state of one virtual machine and its vCPU.
 *
 * One struct vm per guest, owned by the front end (vmm/), passed explicitly
 * to every module. Modules read and change the fields their own header says
 * they own; nothing here is global.
 */
#ifndef PVMM_VM_H
#define PVMM_VM_H

#include <stdint.h>
#include <stdio.h>

#include "loader.h"
#include "stub_abi.h"
#include "xen_abi.h"

/* Counters reported by --stats. */
enum vm_trap_kind {
	TRAP_HYPERCALL,
	TRAP_PAGE_FAULT,
	TRAP_GP_FAULT,
	TRAP_INVALID_OP,
	TRAP_BREAKPOINT,
	TRAP_MATH,
	TRAP_BUS,
	TRAP_OTHER,
	TRAP_KINDS
};

struct vm_stats {
	uint64_t traps[TRAP_KINDS];
	uint64_t hypercalls[XEN_HC_COUNT];
	uint64_t hypercalls_unknown;
	uint64_t map_ops[4];       /* indexed by stub_op_kind */
	uint64_t map_pages;        /* pages covered by mmap ops */
	uint64_t handoffs;         /* stub <-> monitor round trips */
	uint64_t console_bytes;
	uint64_t invariant_checks; /* --check-invariants comparisons made */
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

struct mmu_frame {
	uint8_t type;            /* enum mmu_type */
	uint8_t pinned;
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
};

/* Receives the host operations the MMU wants; 0 or -errno. */
typedef int (*mmu_emit_fn)(void *ctx, const struct stub_op *op);

struct mmu_state {
	struct mmu_frame *frames;   /* nr_frames entries */
	uint64_t *m2p;              /* machine-to-phys view (MACHPHYS_UPDATE) */
	struct mmu_dirty dirty[MMU_DIRTY_MAX];
	unsigned ndirty;
	int dirty_all;              /* resync the whole address space */
	mmu_emit_fn emit;           /* where host operations go */
	void *emit_ctx;
	struct mmu_counters count;
};

struct vcpu {
	struct stub_regs regs;     /* guest registers at the current trap */
	uint64_t kernel_l4;        /* frame of the active (kernel) L4 */
	uint64_t user_l4;          /* NEW_USER_BASEPTR, 0 when unset */
};

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
	struct mmu_state mmu;
	int check_invariants; /* --check-invariants */

	uint64_t vm_assist;  /* VMASST_TYPE_* bits enabled by the guest */
	FILE *console;       /* where CONSOLEIO_write goes */
	int console_in;      /* fd CONSOLEIO_read reads, or -1 */

	struct {               /* last refusal of the checked guest accessor */
		uint64_t gva;
		const char *file;
		int line;
	} fault;

	enum vm_end end;
	int shutdown_code;   /* SHUTDOWN_* the guest asked for */
	char end_msg[512];   /* one line for the user when the end is not clean */

	/* the guest process and its transport */
	int pid;
	struct stub_ctrl *ctrl;
	int ctrlfd;
	uint64_t doorbell;
};

#endif
