/*
 * xen_abi.h - the facts of Xen's public x86-64 PV ABI that pvmm speaks.
 *
 * Written from the published interface (numbers, layouts), not copied from
 * Xen's headers. Self-contained: used by the monitor (hosted C) and by the
 * sample guests (freestanding C), so it needs only <stdint.h>.
 * Every layout that crosses the guest boundary has _Static_asserts on its
 * size and the offsets that matter. Xen's headers are the authority: the
 * unit test tests/unit/check_abi.c compares every name here with Debian's
 * libxen-dev; a new name goes on tests/abi/xen_abi.def (or `make unit`
 * fails), mapped to Xen's or marked as pvmm's own. Hypercall argument fields are marked
 * IN (guest to pvmm) and OUT (pvmm to guest).
 */
#ifndef PVMM_XEN_ABI_H
#define PVMM_XEN_ABI_H

#include <stdint.h>
#include <stddef.h>

/* ---- Hypercall numbers (Xen's __HYPERVISOR_*) ------------------------- */
enum xen_hypercall {
	XEN_HC_set_trap_table = 0,
	XEN_HC_mmu_update = 1,
	XEN_HC_set_gdt = 2,
	XEN_HC_stack_switch = 3,
	XEN_HC_set_callbacks = 4,
	XEN_HC_fpu_taskswitch = 5,
	XEN_HC_sched_op_compat = 6,
	XEN_HC_platform_op = 7,
	XEN_HC_set_debugreg = 8,
	XEN_HC_get_debugreg = 9,
	XEN_HC_update_descriptor = 10,
	XEN_HC_memory_op = 12,
	XEN_HC_multicall = 13,
	XEN_HC_update_va_mapping = 14,
	XEN_HC_set_timer_op = 15,
	XEN_HC_event_channel_op_compat = 16,
	XEN_HC_xen_version = 17,
	XEN_HC_console_io = 18,
	XEN_HC_physdev_op_compat = 19,
	XEN_HC_grant_table_op = 20,
	XEN_HC_vm_assist = 21,
	XEN_HC_update_va_mapping_otherdomain = 22,
	XEN_HC_iret = 23,
	XEN_HC_vcpu_op = 24,
	XEN_HC_set_segment_base = 25,
	XEN_HC_mmuext_op = 26,
	XEN_HC_xsm_op = 27,
	XEN_HC_nmi_op = 28,
	XEN_HC_sched_op = 29,
	XEN_HC_callback_op = 30,
	XEN_HC_xenoprof_op = 31,
	XEN_HC_event_channel_op = 32,
	XEN_HC_physdev_op = 33,
	XEN_HC_hvm_op = 34,
	XEN_HC_sysctl = 35,
	XEN_HC_domctl = 36,
	XEN_HC_kexec_op = 37,
	XEN_HC_tmem_op = 38,
	XEN_HC_argo_op = 39,
	XEN_HC_xenpmu_op = 40,
	XEN_HC_dm_op = 41,
	XEN_HC_hypfs_op = 42,
	XEN_HC_COUNT = 64, /* size of dispatch tables; numbers >= this are -ENOSYS */
};

/* The hypercall page: one 32-byte entry per hypercall number. In 64-bit PV
 * guests the arguments are in rdi, rsi, rdx, r10, r8; the result in rax. */
#define XEN_HYPERCALL_PAGE_ENTRY 32u
#define XEN_HYPERCALL_PAGE_ENTRIES 128u

/* ---- Error numbers returned to guests (Xen's, negated) ---------------- */
#define XEN_EPERM 1
#define XEN_ENOENT 2
#define XEN_ESRCH 3
#define XEN_EIO 5
#define XEN_E2BIG 7
#define XEN_EBADF 9
#define XEN_EAGAIN 11
#define XEN_ENOMEM 12
#define XEN_EACCES 13
#define XEN_EFAULT 14
#define XEN_EBUSY 16
#define XEN_EEXIST 17
#define XEN_ENODEV 19
#define XEN_EINVAL 22
#define XEN_ENOSPC 28
#define XEN_ERANGE 34
#define XEN_ENOSYS 38
#define XEN_ETIME 62
#define XEN_EOVERFLOW 75
#define XEN_EILSEQ 84
#define XEN_EOPNOTSUPP 95

/* ---- Page-table entry bits (x86-64, 4-level) -------------------------- */
#define XEN_PAGE_SHIFT 12
#define XEN_PAGE_SIZE 4096ull
#define PTE_P (1ull << 0)
#define PTE_RW (1ull << 1)
#define PTE_US (1ull << 2)
#define PTE_PWT (1ull << 3)
#define PTE_PCD (1ull << 4)
#define PTE_A (1ull << 5)
#define PTE_D (1ull << 6)
#define PTE_PSE (1ull << 7) /* PAT in an L1 entry */
#define PTE_G (1ull << 8)
#define PTE_AVAIL_MASK (7ull << 9)
#define PTE_NX (1ull << 63)
#define PTE_ADDR_MASK 0x000ffffffffff000ull
#define PT_ENTRIES 512u

/* ---- console_io -------------------------------------------------------- */
#define CONSOLEIO_write 0
#define CONSOLEIO_read 1

/* ---- sched_op ---------------------------------------------------------- */
#define SCHEDOP_yield 0
#define SCHEDOP_block 1
#define SCHEDOP_shutdown 2
#define SCHEDOP_poll 3
#define SCHEDOP_remote_shutdown 4
#define SCHEDOP_shutdown_code 5
#define SCHEDOP_watchdog 6

#define SHUTDOWN_poweroff 0
#define SHUTDOWN_reboot 1
#define SHUTDOWN_suspend 2
#define SHUTDOWN_crash 3
#define SHUTDOWN_watchdog 4

struct sched_shutdown {
	uint32_t reason; /* IN: SHUTDOWN_* */
};
_Static_assert(sizeof(struct sched_shutdown) == 4, "sched_shutdown");

/* ---- sysctl, domctl, platform_op: the control domain's ------------------ */
/* Each structure starts with uint32_t cmd, uint32_t interface_version. */
#define XEN_SYSCTL_INTERFACE_VERSION 0x00000015
#define XEN_DOMCTL_INTERFACE_VERSION 0x00000015
#define XENPF_INTERFACE_VERSION 0x03000001

/* ---- xen_version ------------------------------------------------------- */
#define XENVER_version 0
#define XENVER_extraversion 1
#define XENVER_compile_info 2
#define XENVER_capabilities 3
#define XENVER_changeset 4
#define XENVER_platform_parameters 5
#define XENVER_get_features 6
#define XENVER_pagesize 7
#define XENVER_guest_handle 8
#define XENVER_commandline 9

#define XEN_EXTRAVERSION_LEN 16
#define XEN_CAPABILITIES_LEN 1024
#define XEN_CHANGESET_LEN 64
#define XEN_COMMANDLINE_LEN 1024
#define XEN_GUEST_HANDLE_LEN 16

struct xen_compile_info {
	char compiler[64];    /* OUT */
	char compile_by[16];  /* OUT */
	char compile_domain[32]; /* OUT */
	char compile_date[32];   /* OUT */
};
_Static_assert(sizeof(struct xen_compile_info) == 144, "compile_info");

struct xen_platform_parameters {
	uint64_t virt_start; /* OUT: start of the hypervisor's reserved area */
};

struct xen_feature_info {
	uint32_t submap_idx; /* IN: which 32-bit word of the feature map */
	uint32_t submap;     /* OUT */
};
_Static_assert(sizeof(struct xen_feature_info) == 8, "feature_info");

/* XENFEAT_* bit numbers */
#define XENFEAT_writable_page_tables 0
#define XENFEAT_writable_descriptor_tables 1
#define XENFEAT_auto_translated_physmap 2
#define XENFEAT_supervisor_mode_kernel 3
#define XENFEAT_pae_pgdir_above_4gb 4
#define XENFEAT_mmu_pt_update_preserve_ad 5
#define XENFEAT_highmem_assist 6
#define XENFEAT_gnttab_map_avail_bits 7

/* ---- vm_assist --------------------------------------------------------- */
#define VMASST_CMD_enable 0
#define VMASST_CMD_disable 1
#define VMASST_TYPE_4gb_segments 0
#define VMASST_TYPE_4gb_segments_notify 1
#define VMASST_TYPE_writable_pagetables 2
#define VMASST_TYPE_pae_extended_cr3 3
#define VMASST_TYPE_architectural_iopl 4
#define VMASST_TYPE_runstate_update_flag 5
#define VMASST_TYPE_m2p_strict 32

/* ---- physdev_op (public/physdev.h): the I/O privilege of a PV vCPU ------ */
#define PHYSDEVOP_set_iopl 6
#define PHYSDEVOP_set_iobitmap 7

struct physdev_set_iopl {
	uint32_t iopl; /* IN: 0-3 */
};

struct physdev_set_iobitmap {
	uint64_t bitmap;   /* IN: guest address of the bitmap (a set bit denies the port) */
	uint32_t nr_ports; /* IN: ports it covers, at most 65536 */
	uint32_t _pad;
};
_Static_assert(sizeof(struct physdev_set_iobitmap) == 16, "physdev_set_iobitmap");

/* ---- mmu_update / mmuext_op / update_va_mapping ------------------------ */
#define MMU_NORMAL_PT_UPDATE 0
#define MMU_MACHPHYS_UPDATE 1
#define MMU_PT_UPDATE_PRESERVE_AD 2
#define MMU_PT_UPDATE_NO_TRANSLATE 3

struct mmu_update {
	uint64_t ptr; /* IN: machine address of the entry, low 2 bits = MMU_* */
	uint64_t val; /* IN: new entry */
};
_Static_assert(sizeof(struct mmu_update) == 16, "mmu_update");

#define MMUEXT_PIN_L1_TABLE 0
#define MMUEXT_PIN_L2_TABLE 1
#define MMUEXT_PIN_L3_TABLE 2
#define MMUEXT_PIN_L4_TABLE 3
#define MMUEXT_UNPIN_TABLE 4
#define MMUEXT_NEW_BASEPTR 5
#define MMUEXT_TLB_FLUSH_LOCAL 6
#define MMUEXT_INVLPG_LOCAL 7
#define MMUEXT_TLB_FLUSH_MULTI 8
#define MMUEXT_INVLPG_MULTI 9
#define MMUEXT_TLB_FLUSH_ALL 10
#define MMUEXT_INVLPG_ALL 11
#define MMUEXT_FLUSH_CACHE 12
#define MMUEXT_SET_LDT 13
#define MMUEXT_NEW_USER_BASEPTR 15
#define MMUEXT_CLEAR_PAGE 16
#define MMUEXT_COPY_PAGE 17
#define MMUEXT_FLUSH_CACHE_GLOBAL 18
#define MMUEXT_MARK_SUPER 19
#define MMUEXT_UNMARK_SUPER 20

struct mmuext_op {
	uint32_t cmd;      /* IN: MMUEXT_* */
	uint32_t _pad;
	uint64_t arg1;     /* IN: mfn or linear address */
	uint64_t arg2;     /* IN: nr_ents, vcpumask pointer or src_mfn */
};
_Static_assert(sizeof(struct mmuext_op) == 24, "mmuext_op");
_Static_assert(offsetof(struct mmuext_op, arg1) == 8, "mmuext_op.arg1");

#define UVMF_NONE 0ul
#define UVMF_TLB_FLUSH 1ul
#define UVMF_INVLPG 2ul
#define UVMF_FLUSHTYPE_MASK 3ul
#define UVMF_MULTI 0ul
#define UVMF_LOCAL 0ul
#define UVMF_ALL (1ul << 2)

#define DOMID_SELF 0x7ff0u

/* ---- Traps and callbacks ----------------------------------------------- */
struct trap_info {
	uint8_t vector;    /* IN: exception vector */
	uint8_t flags;     /* IN: bits 0-1 DPL, bit 2 clear event mask */
	uint16_t cs;       /* IN: code selector */
	uint32_t _pad;
	uint64_t address;  /* IN: handler address; 0 ends the table */
};
_Static_assert(sizeof(struct trap_info) == 16, "trap_info");

#define CALLBACKOP_register 0
#define CALLBACKOP_unregister 1
#define CALLBACKTYPE_event 0
#define CALLBACKTYPE_failsafe 1
#define CALLBACKTYPE_syscall 2
#define CALLBACKTYPE_sysenter_deprecated 3 /* 32-bit Xen only: -ENOSYS on x86-64 */
#define CALLBACKTYPE_nmi 4
#define CALLBACKTYPE_sysenter 5
#define CALLBACKTYPE_syscall32 7
#define CALLBACKF_mask_events (1u << 0)

struct callback_register {
	uint16_t type;     /* IN: CALLBACKTYPE_* */
	uint16_t flags;    /* IN: CALLBACKF_* */
	uint32_t _pad;
	uint64_t address;  /* IN */
};
_Static_assert(sizeof(struct callback_register) == 16, "callback_register");

/* HYPERVISOR_iret: what the guest leaves on its stack (rax, r11, rcx pushed
 * by the hypercall page, the rest by the guest). */
struct iret_context {
	uint64_t rax, r11, rcx, flags, rip, cs, rflags, rsp, ss;
};
_Static_assert(sizeof(struct iret_context) == 72, "iret_context");
#define VGCF_in_syscall (1u << 8)

/* set_trap_table flags */
#define TI_DPL_MASK 3u
#define TI_MASK_EVENTS 4u

/* Exception vectors */
enum x86_vector {
	X86_DE = 0, X86_DB = 1, X86_NMI = 2, X86_BP = 3, X86_OF = 4, X86_BR = 5, X86_UD = 6,
	X86_NM = 7, X86_DF = 8, X86_TS = 10, X86_NP = 11, X86_SS = 12, X86_GP = 13,
	X86_PF = 14, X86_MF = 16, X86_AC = 17, X86_MC = 18, X86_XM = 19,
};
#define X86_PFEC_PRESENT 1u
#define X86_PFEC_WRITE 2u
#define X86_PFEC_USER 4u
#define X86_PFEC_FETCH 16u

/* Debug registers (the SDM's). %dr6 reads with its reserved bits set
 * (X86_DR6_DEFAULT); RTM and BLD are set when nothing happened (inverted). */
#define X86_DR6_BP_MASK 0xfu        /* B0-B3: breakpoint n matched */
#define X86_DR6_BLD (1u << 11)      /* bus lock detected (inverted) */
#define X86_DR6_BD (1u << 13)       /* debug register access detected */
#define X86_DR6_BS (1u << 14)       /* single step */
#define X86_DR6_BT (1u << 15)       /* task switch */
#define X86_DR6_RTM (1u << 16)      /* in an RTM region (inverted) */
#define X86_DR6_DEFAULT 0xffff0ff0u /* the value at reset */
#define X86_DR7_LE (1u << 8)
#define X86_DR7_GE (1u << 9)
#define X86_DR7_RTM (1u << 11)
#define X86_DR7_GD (1u << 13)       /* general detect */
#define X86_DR7_DEFAULT 0x400u      /* the value at reset */
#define X86_DR7_ENABLES 0xffu       /* L0 G0 L1 G1 ... */
#define X86_DR7_RW_EXEC 0u          /* R/Wn: instruction, */
#define X86_DR7_RW_WRITE 1u         /* data write, */
#define X86_DR7_RW_IO 2u            /* I/O (with CR4.DE), */
#define X86_DR7_RW_RW 3u            /* data read or write */
#define X86_CR4_DE (1u << 3)        /* debugging extensions */
#define X86_EFLAGS_TF (1u << 8)
#define X86_EFLAGS_RF (1u << 16)

struct multicall_entry {
	uint64_t op;       /* IN: hypercall number */
	int64_t result;    /* OUT */
	uint64_t args[6];  /* IN */
};
_Static_assert(sizeof(struct multicall_entry) == 64, "multicall_entry");

/* Where Xen maps the read-only machine-to-phys table for 64-bit PV guests */
#define XEN_RO_MPT_BASE 0xffff800000000000ull
/* The end of Xen's own range in the upper half (guests may use what is above) */
#define XEN_HYPERVISOR_VIRT_END 0xffff880000000000ull

/* set_segment_base */
#define SEGBASE_FS 0
#define SEGBASE_GS_USER 1
#define SEGBASE_GS_KERNEL 2
#define SEGBASE_GS_USER_SEL 3

/* ---- event channels ---------------------------------------------------- */
#define EVTCHNOP_bind_interdomain 0
#define EVTCHNOP_bind_virq 1
#define EVTCHNOP_bind_pirq 2
#define EVTCHNOP_close 3
#define EVTCHNOP_send 4
#define EVTCHNOP_status 5
#define EVTCHNOP_alloc_unbound 6
#define EVTCHNOP_bind_ipi 7
#define EVTCHNOP_bind_vcpu 8
#define EVTCHNOP_unmask 9
#define EVTCHNOP_reset 10
#define EVTCHNOP_init_control 11
#define EVTCHNOP_expand_array 12
#define EVTCHNOP_set_priority 13

/* Ports of the 2-level ABI: shared_info's 64 words of 64 bits. */
#define EVTCHN_2L_NR_CHANNELS 4096
#define EVTCHN_FIFO_MAX_QUEUES 16

#define EVTCHNSTAT_closed 0
#define EVTCHNSTAT_unbound 1
#define EVTCHNSTAT_interdomain 2
#define EVTCHNSTAT_pirq 3
#define EVTCHNSTAT_virq 4
#define EVTCHNSTAT_ipi 5

#define VIRQ_TIMER 0
#define VIRQ_DEBUG 1
#define VIRQ_CONSOLE 2
#define NR_VIRQS 24

struct evtchn_alloc_unbound {
	uint16_t dom, remote_dom; /* IN */
	uint32_t port;            /* OUT */
};
_Static_assert(sizeof(struct evtchn_alloc_unbound) == 8, "alloc_unbound");

struct evtchn_bind_virq {
	uint32_t virq;  /* IN */
	uint32_t vcpu;  /* IN */
	uint32_t port;  /* OUT */
};
_Static_assert(sizeof(struct evtchn_bind_virq) == 12, "bind_virq");

struct evtchn_bind_ipi {
	uint32_t vcpu;  /* IN */
	uint32_t port;  /* OUT */
};

struct evtchn_status {
	uint16_t dom;     /* IN */
	uint16_t _pad;
	uint32_t port;    /* IN */
	uint32_t status;  /* OUT: EVTCHNSTAT_* */
	uint32_t vcpu;    /* OUT */
	union {
		struct { uint16_t dom; } unbound;
		struct { uint16_t dom; uint16_t _pad; uint32_t port; } interdomain;
		uint32_t pirq;
		uint32_t virq;
	} u;              /* OUT */
};
_Static_assert(sizeof(struct evtchn_status) == 24, "evtchn_status");

/* The FIFO ABI's requests (pvmm checks them and declines: docs/differences.md). */
struct evtchn_init_control {
	uint64_t control_gfn; /* IN: the frame of the control block */
	uint32_t offset;      /* IN: its offset there, 8-byte aligned */
	uint32_t vcpu;        /* IN */
	uint8_t link_bits;    /* OUT */
	uint8_t _pad[7];
};
_Static_assert(sizeof(struct evtchn_init_control) == 24, "evtchn_init_control");

struct evtchn_expand_array {
	uint64_t array_gfn;   /* IN */
};
_Static_assert(sizeof(struct evtchn_expand_array) == 8, "evtchn_expand_array");

struct evtchn_set_priority {
	uint32_t port;        /* IN */
	uint32_t priority;    /* IN */
};
_Static_assert(sizeof(struct evtchn_set_priority) == 8, "evtchn_set_priority");

/* The per-vCPU control block init_control names (its size bounds offset). */
struct evtchn_fifo_control_block {
	uint32_t ready;
	uint32_t _rsvd;
	uint32_t head[EVTCHN_FIFO_MAX_QUEUES];
};
_Static_assert(sizeof(struct evtchn_fifo_control_block) == 72, "evtchn_fifo_control_block");

/* ---- timers and vCPU operations ----------------------------------------- */
#define VCPUOP_is_up 3
#define VCPUOP_get_runstate_info 4
#define VCPUOP_register_runstate_memory_area 5
#define VCPUOP_register_vcpu_info 10

struct vcpu_register_vcpu_info {
	uint64_t mfn;    /* the frame to hold vcpu_info */
	uint32_t offset; /* where in it */
	uint32_t rsvd;
};
#define VCPUOP_set_periodic_timer 6
#define VCPUOP_stop_periodic_timer 7
#define VCPUOP_set_singleshot_timer 8
#define VCPUOP_stop_singleshot_timer 9
#define VCPU_SSHOTTMR_future (1u << 0)

struct vcpu_set_periodic_timer {
	uint64_t period_ns; /* IN */
};

struct vcpu_set_singleshot_timer {
	uint64_t timeout_abs_ns; /* IN: Xen system time */
	uint32_t flags;          /* IN: VCPU_SSHOTTMR_* */
	uint32_t _pad;
};
_Static_assert(sizeof(struct vcpu_set_singleshot_timer) == 16, "singleshot");

struct vcpu_runstate_info {
	int32_t state;           /* OUT: RUNSTATE_* */
	uint32_t _pad;
	uint64_t state_entry_time;
	uint64_t time[4];        /* running, runnable, blocked, offline */
};
_Static_assert(sizeof(struct vcpu_runstate_info) == 48, "runstate_info");
#define RUNSTATE_running 0
#define RUNSTATE_blocked 2

struct sched_poll {
	uint64_t ports;   /* IN: guest pointer to uint32_t ports */
	uint32_t nr_ports;
	uint32_t _pad;
	uint64_t timeout; /* IN: absolute system time, 0 = none */
};
_Static_assert(sizeof(struct sched_poll) == 24, "sched_poll");

/* Flat selectors Xen gives 64-bit PV guests, in Xen's reserved GDT entries
 * 260-262. Data segments of 64-bit code are the NULL selector. */
#define FLAT_RING3_CS32 0xe023
#define FLAT_RING3_CS64 0xe033
#define FLAT_RING3_DS32 0xe02b
#define FLAT_RING3_DS64 0x0000
#define FLAT_RING3_SS64 0xe02b
#define FLAT_KERNEL_CS64 FLAT_RING3_CS64
#define FLAT_KERNEL_DS64 FLAT_RING3_DS64
#define FLAT_KERNEL_SS64 FLAT_RING3_SS64
#define FLAT_USER_CS64 FLAT_RING3_CS64
#define FLAT_USER_DS64 FLAT_RING3_DS64
#define FLAT_USER_SS64 FLAT_RING3_SS64

/* ---- Shared info and vCPU info ----------------------------------------- */
struct vcpu_time_info {
	uint32_t version;
	uint32_t _pad0;
	uint64_t tsc_timestamp;
	uint64_t system_time;
	uint32_t tsc_to_system_mul;
	int8_t tsc_shift;
	uint8_t flags;
	uint8_t _pad1[2];
};
_Static_assert(sizeof(struct vcpu_time_info) == 32, "vcpu_time_info");

struct vcpu_info {
	uint8_t evtchn_upcall_pending;
	uint8_t evtchn_upcall_mask;
	uint8_t _pad[6];
	uint64_t evtchn_pending_sel;
	uint64_t cr2;       /* arch_vcpu_info */
	uint64_t _arch_pad;
	struct vcpu_time_info time;
};
_Static_assert(sizeof(struct vcpu_info) == 64, "vcpu_info");
_Static_assert(offsetof(struct vcpu_info, cr2) == 16, "vcpu_info.cr2");
_Static_assert(offsetof(struct vcpu_info, time) == 32, "vcpu_info.time");

#define XEN_LEGACY_MAX_VCPUS 32

struct shared_info {
	struct vcpu_info vcpu_info[XEN_LEGACY_MAX_VCPUS];
	uint64_t evtchn_pending[64];
	uint64_t evtchn_mask[64];
	uint32_t wc_version;
	uint32_t wc_sec;
	uint32_t wc_nsec;
	uint32_t wc_sec_hi;
	uint64_t max_pfn;                    /* arch_shared_info */
	uint64_t pfn_to_mfn_frame_list_list;
	uint64_t nmi_reason;
	uint64_t p2m_cr3;
	uint64_t p2m_vaddr;
	uint64_t p2m_generation;
};
_Static_assert(offsetof(struct shared_info, evtchn_pending) == 2048, "si.pending");
_Static_assert(offsetof(struct shared_info, evtchn_mask) == 2560, "si.mask");
_Static_assert(offsetof(struct shared_info, wc_version) == 3072, "si.wc");
_Static_assert(offsetof(struct shared_info, max_pfn) == 3088, "si.arch");
_Static_assert(sizeof(struct shared_info) <= 4096, "shared_info fits a page");

/* ---- start_info -------------------------------------------------------- */
#define XEN_START_INFO_MAGIC "xen-3.0-x86_64"
#define SIF_PRIVILEGED (1u << 0)
#define SIF_INITDOMAIN (1u << 1)
#define SIF_MULTIBOOT_MOD (1u << 2)
#define SIF_MOD_START_PFN (1u << 3)
#define SIF_VIRT_P2M_4TOOLS (1u << 4)
#define XEN_CMDLINE_SIZE 1024

struct start_info {
	char magic[32];          /* "xen-<version>-<platform>" */
	uint64_t nr_pages;       /* total pages of the domain */
	uint64_t shared_info;    /* machine address of shared_info */
	uint32_t flags;          /* SIF_* */
	uint32_t _pad0;
	uint64_t store_mfn;      /* machine frame of the xenstore ring */
	uint32_t store_evtchn;
	uint32_t _pad1;
	uint64_t console_mfn;    /* domU console ring frame */
	uint32_t console_evtchn;
	uint32_t _pad2;
	uint64_t pt_base;        /* virtual address of the bootstrap L4 */
	uint64_t nr_pt_frames;   /* number of bootstrap page-table frames */
	uint64_t mfn_list;       /* virtual address of the p2m list */
	uint64_t mod_start;      /* initial ramdisk, or 0 */
	uint64_t mod_len;
	char cmd_line[XEN_CMDLINE_SIZE];
	uint64_t first_p2m_pfn;
	uint64_t nr_p2m_frames;
};
_Static_assert(offsetof(struct start_info, nr_pages) == 32, "si.nr_pages");
_Static_assert(offsetof(struct start_info, flags) == 48, "si.flags");
_Static_assert(offsetof(struct start_info, store_mfn) == 56, "si.store_mfn");
_Static_assert(offsetof(struct start_info, console_mfn) == 72, "si.console");
_Static_assert(offsetof(struct start_info, pt_base) == 88, "si.pt_base");
_Static_assert(offsetof(struct start_info, mfn_list) == 104, "si.mfn_list");
_Static_assert(offsetof(struct start_info, cmd_line) == 128, "si.cmd_line");
_Static_assert(sizeof(struct start_info) == 1168, "start_info");

/* ---- PV console ring --------------------------------------------------- */
struct xencons_interface {
	char in[1024];
	char out[2048];
	uint32_t in_cons, in_prod;
	uint32_t out_cons, out_prod;
};
_Static_assert(sizeof(struct xencons_interface) == 3088, "xencons");

/* ---- grant tables (public/grant_table.h) ----------------------------------- */
#define GNTTABOP_map_grant_ref 0
#define GNTTABOP_unmap_grant_ref 1
#define GNTTABOP_setup_table 2
#define GNTTABOP_dump_table 3
#define GNTTABOP_transfer 4
#define GNTTABOP_copy 5
#define GNTTABOP_query_size 6
#define GNTTABOP_unmap_and_replace 7
#define GNTTABOP_set_version 8
#define GNTTABOP_get_status_frames 9
#define GNTTABOP_get_version 10
#define GNTTABOP_swap_grant_ref 11
#define GNTTABOP_cache_flush 12

#define GNTST_okay 0
#define GNTST_general_error (-1)
#define GNTST_bad_domain (-2)
#define GNTST_bad_gntref (-3)
#define GNTST_bad_handle (-4)
#define GNTST_bad_virt_addr (-5)
#define GNTST_bad_dev_addr (-6)
#define GNTST_no_device_space (-7)
#define GNTST_permission_denied (-8)
#define GNTST_bad_page (-9)
#define GNTST_bad_copy_arg (-10)
#define GNTST_address_too_big (-11)
#define GNTST_eagain (-12)
#define GNTST_no_space (-13)

/* Grant entry flags: the type, then what the granting guest allows and
 * what Xen (here pvmm) reports back while the grant is in use. */
#define GTF_invalid 0u
#define GTF_permit_access 1u
#define GTF_accept_transfer 2u
#define GTF_transitive 3u
#define GTF_type_mask 3u
#define GTF_readonly (1u << 2)
#define GTF_reading (1u << 3)  /* OUT: in use for reading */
#define GTF_writing (1u << 4)  /* OUT: in use for writing */
#define GTF_PWT (1u << 5)
#define GTF_PCD (1u << 6)
#define GTF_PAT (1u << 7)
#define GTF_sub_page (1u << 8)
#define GTF_transfer_committed (1u << 2)
#define GTF_transfer_completed (1u << 3)
#define GNTTAB_NR_RESERVED_ENTRIES 8 /* kept across version changes */

#define GNTMAP_device_map (1u << 0)
#define GNTMAP_host_map (1u << 1)
#define GNTMAP_readonly (1u << 2)
#define GNTMAP_application_map (1u << 3)
#define GNTMAP_contains_pte (1u << 4)
#define _GNTMAP_guest_avail0 16 /* flags bits 16.. go to PTE bits 9-11 */
#define GNTCOPY_source_gref (1u << 0)
#define GNTCOPY_dest_gref (1u << 1)
#define GNTTAB_CACHE_CLEAN (1u << 0)
#define GNTTAB_CACHE_INVAL (1u << 1)
#define GNTTAB_CACHE_SOURCE_GREF (1u << 31)

struct grant_entry_v1 {
	uint16_t flags;      /* GTF_* */
	uint16_t domid;      /* the domain granted access */
	uint32_t frame;      /* the frame granted */
};

/* Xen's union grant_entry_v2 as one struct: (word) is sub_page's page_off
 * and length, or transitive's trans_domid (low half); (frame) is
 * full_page's or sub_page's frame, or (low half) transitive's gref. */
struct grant_entry_v2 {
	uint16_t flags;
	uint16_t domid;
	uint32_t word;
	uint64_t frame;
};
_Static_assert(sizeof(struct grant_entry_v2) == 16, "grant_entry_v2");

struct gnttab_map_grant_ref {
	uint64_t host_addr;     /* IN: linear address, or the PTE's machine address */
	uint32_t flags;         /* IN: GNTMAP_* */
	uint32_t ref;           /* IN */
	uint16_t dom;           /* IN: the granting domain */
	int16_t status;         /* OUT: GNTST_* */
	uint32_t handle;        /* OUT */
	uint64_t dev_bus_addr;  /* OUT */
};
_Static_assert(sizeof(struct gnttab_map_grant_ref) == 32, "gnttab_map_grant_ref");

struct gnttab_unmap_grant_ref {
	uint64_t host_addr;     /* IN: 0 leaves the host mapping */
	uint64_t dev_bus_addr;  /* IN: 0 leaves the device mapping */
	uint32_t handle;        /* IN */
	int16_t status;         /* OUT */
	uint16_t _pad;
};
_Static_assert(sizeof(struct gnttab_unmap_grant_ref) == 24, "gnttab_unmap_grant_ref");

struct gnttab_unmap_and_replace {
	uint64_t host_addr;     /* IN */
	uint64_t new_addr;      /* IN: whose PTE moves to host_addr, or 0 */
	uint32_t handle;        /* IN */
	int16_t status;         /* OUT */
	uint16_t _pad;
};
_Static_assert(sizeof(struct gnttab_unmap_and_replace) == 24, "gnttab_unmap_and_replace");

struct gnttab_setup_table {
	uint16_t dom;        /* IN: DOMID_SELF */
	uint16_t _pad0;
	uint32_t nr_frames;  /* IN: frames the table should have */
	int16_t status;      /* OUT: GNTST_* */
	uint16_t _pad1[3];
	uint64_t frame_list; /* IN: guest pointer; OUT there: the frames */
};
_Static_assert(sizeof(struct gnttab_setup_table) == 24, "gnttab_setup_table");

struct gnttab_copy_ptr {
	uint64_t u;          /* IN: grant ref (low 32 bits) or frame */
	uint16_t domid;      /* IN */
	uint16_t offset;     /* IN */
	uint32_t _pad;
};

struct gnttab_copy {
	struct gnttab_copy_ptr source, dest;
	uint16_t len;        /* IN */
	uint16_t flags;      /* IN: GNTCOPY_* */
	int16_t status;      /* OUT */
	uint16_t _pad;
};
_Static_assert(sizeof(struct gnttab_copy) == 40, "gnttab_copy");

struct gnttab_query_size {
	uint16_t dom;           /* IN */
	uint16_t _pad;
	uint32_t nr_frames;     /* OUT: frames the table has */
	uint32_t max_nr_frames; /* OUT: the most it may have */
	int16_t status;         /* OUT */
	uint16_t _pad1;
};
_Static_assert(sizeof(struct gnttab_query_size) == 16, "gnttab_query_size");

struct gnttab_set_version {
	uint32_t version;       /* IN: 1 or 2; OUT: the version in force */
};

struct gnttab_get_status_frames {
	uint32_t nr_frames;     /* IN */
	uint16_t dom;           /* IN */
	int16_t status;         /* OUT */
	uint64_t frame_list;    /* IN: guest pointer; OUT there: the frames */
};
_Static_assert(sizeof(struct gnttab_get_status_frames) == 16, "gnttab_get_status_frames");

struct gnttab_get_version {
	uint16_t dom;
	uint16_t _pad;
	uint32_t version; /* OUT */
};
_Static_assert(sizeof(struct gnttab_get_version) == 8, "gnttab_get_version");

struct gnttab_swap_grant_ref {
	uint32_t ref_a, ref_b;  /* IN */
	int16_t status;         /* OUT */
	uint16_t _pad;
};
_Static_assert(sizeof(struct gnttab_swap_grant_ref) == 12, "gnttab_swap_grant_ref");

struct gnttab_cache_flush {
	uint64_t dev_bus_addr;  /* IN: the frame's address (or a grant ref) */
	uint16_t offset;        /* IN */
	uint16_t length;        /* IN */
	uint32_t op;            /* IN: GNTTAB_CACHE_* */
};
_Static_assert(sizeof(struct gnttab_cache_flush) == 16, "gnttab_cache_flush");

/* ---- memory_op (public/memory.h) ------------------------------------------ */
#define XENMEM_increase_reservation 0
#define XENMEM_decrease_reservation 1
#define XENMEM_maximum_ram_page 2
#define XENMEM_current_reservation 3
#define XENMEM_maximum_reservation 4
#define XENMEM_machphys_mfn_list 5
#define XENMEM_populate_physmap 6
#define XENMEM_memory_map 9
#define XENMEM_machine_memory_map 10
#define XENMEM_exchange 11
#define XENMEM_machphys_mapping 12
#define XENMEM_CMD_MASK 0x3f /* the rest of the command is a continuation */
#define XENMEM_EXTENT_SHIFT 6 /* ... the extent to start from */

/* mem_flags of a reservation: bits 0-7 address bits, 8-15 the NUMA node + 1 */
#define XENMEMF_populate_on_demand (1u << 16)
#define XENMEMF_exact_node_request (1u << 17)
#define XENMEMF_vnode (1u << 18)

struct xen_memory_reservation {
	uint64_t extent_start; /* IN/OUT: guest pointer to uint64_t frames[] */
	uint64_t nr_extents;   /* IN */
	uint32_t extent_order; /* IN: 2^order frames an extent */
	uint32_t mem_flags;    /* IN: XENMEMF_* */
	uint16_t domid;        /* IN */
	uint16_t _pad[3];
};
_Static_assert(sizeof(struct xen_memory_reservation) == 32, "xen_memory_reservation");

struct xen_memory_exchange {
	struct xen_memory_reservation in;  /* IN: frames given up */
	struct xen_memory_reservation out; /* IN/OUT: guest frames in, machine frames out */
	uint64_t nr_exchanged;             /* IN/OUT: input extents done */
};
_Static_assert(sizeof(struct xen_memory_exchange) == 72, "xen_memory_exchange");

/* Xen's read-only M2P window for 64-bit PV guests (MACH2PHYS_VIRT_*). */
#define XEN_MACH2PHYS_VIRT_END 0xffff804000000000ull

struct xen_machphys_mapping {
	uint64_t v_start, v_end; /* the M2P's virtual range */
	uint64_t max_mfn;        /* the largest machine frame it describes */
};
_Static_assert(sizeof(struct xen_machphys_mapping) == 24, "machphys_mapping");

struct xen_memory_map {
	uint32_t nr_entries; /* IN: room in buffer; OUT: entries written */
	uint32_t _pad;
	uint64_t buffer;     /* guest pointer to struct e820_entry[] */
};
_Static_assert(sizeof(struct xen_memory_map) == 16, "xen_memory_map");

struct e820_entry {
	uint64_t addr, size;
	uint32_t type;       /* E820_RAM = 1 */
} __attribute__((packed));
_Static_assert(sizeof(struct e820_entry) == 20, "e820_entry");
#define E820_RAM 1

/* ---- xenstore (io/xs_wire.h) ---------------------------------------------- */
enum xsd_sockmsg_type {
	XS_CONTROL = 0,
	XS_DIRECTORY = 1,
	XS_READ = 2,
	XS_GET_PERMS = 3,
	XS_WATCH = 4,
	XS_UNWATCH = 5,
	XS_TRANSACTION_START = 6,
	XS_TRANSACTION_END = 7,
	XS_INTRODUCE = 8,
	XS_RELEASE = 9,
	XS_GET_DOMAIN_PATH = 10,
	XS_WRITE = 11,
	XS_MKDIR = 12,
	XS_RM = 13,
	XS_SET_PERMS = 14,
	XS_WATCH_EVENT = 15,
	XS_ERROR = 16,
	XS_IS_DOMAIN_INTRODUCED = 17,
	XS_RESUME = 18,
	XS_SET_TARGET = 19,
	XS_RESET_WATCHES = 21,
	XS_DIRECTORY_PART = 22,
	XS_TYPE_COUNT
};

struct xsd_sockmsg {
	uint32_t type;   /* enum xsd_sockmsg_type */
	uint32_t req_id; /* echoed in the reply */
	uint32_t tx_id;  /* transaction, 0 for none */
	uint32_t len;    /* payload bytes that follow */
};
_Static_assert(sizeof(struct xsd_sockmsg) == 16, "xsd_sockmsg");

#define XENSTORE_PAYLOAD_MAX 4096
#define XENSTORE_ABS_PATH_MAX 3072
#define XENSTORE_REL_PATH_MAX 2048
#define XENSTORE_RING_SIZE 1024
#define XENSTORE_CONNECTED 0

struct xenstore_domain_interface {
	char req[XENSTORE_RING_SIZE]; /* requests to xenstore */
	char rsp[XENSTORE_RING_SIZE]; /* replies and watch events */
	uint32_t req_cons, req_prod;
	uint32_t rsp_cons, rsp_prod;
	uint32_t server_features;
	uint32_t connection;
	uint32_t error;
};
_Static_assert(sizeof(struct xenstore_domain_interface) == 2076, "xenstore ring");

/* ---- the PV network interface (public/io/netif.h) -------------------------
 * Two shared rings of one page each, granted by the frontend: transmit
 * requests name a granted frame, an offset and a size (the first slot of a
 * packet carries the whole packet's size, the others their own); receive
 * requests give a granted frame the backend copies a packet into. */
#define NETTXF_csum_blank (1u << 0)
#define NETTXF_data_validated (1u << 1)
#define NETTXF_more_data (1u << 2)
#define NETTXF_extra_info (1u << 3)
#define NETRXF_data_validated (1u << 0)
#define NETRXF_csum_blank (1u << 1)
#define NETRXF_more_data (1u << 2)
#define NETRXF_extra_info (1u << 3)
#define NETIF_RSP_DROPPED (-2)
#define NETIF_RSP_ERROR (-1)
#define NETIF_RSP_OKAY 0
#define NETIF_RSP_NULL 1
#define XEN_NETIF_EXTRA_TYPE_NONE 0
#define XEN_NETIF_EXTRA_TYPE_GSO 1
#define XEN_NETIF_EXTRA_TYPE_MCAST_ADD 2
#define XEN_NETIF_EXTRA_TYPE_MCAST_DEL 3
#define XEN_NETIF_EXTRA_FLAG_MORE (1u << 0)
#define XEN_NETIF_MAX_TX_SIZE 0xFFFF
#define XEN_NETIF_NR_SLOTS_MIN 18 /* slots of one packet a backend must take */
#define NETIF_RING_SIZE 256       /* entries of the tx and the rx ring (one page each) */

struct netif_tx_request {
	uint32_t gref;    /* the granted frame holding the data */
	uint16_t offset;  /* where in it */
	uint16_t flags;   /* NETTXF_* */
	uint16_t id;      /* echoed in the response */
	uint16_t size;    /* first slot: the packet's size; others: the slot's */
};
_Static_assert(sizeof(struct netif_tx_request) == 12, "netif_tx_request");

struct netif_extra_info {
	uint8_t type;     /* XEN_NETIF_EXTRA_TYPE_* */
	uint8_t flags;    /* XEN_NETIF_EXTRA_FLAG_* */
	uint16_t u[3];    /* gso, mcast, hash: by type (pvmm uses none) */
};
_Static_assert(sizeof(struct netif_extra_info) == 8, "netif_extra_info");

struct netif_tx_response {
	uint16_t id;
	int16_t status;   /* NETIF_RSP_* */
};

struct netif_rx_request {
	uint16_t id;
	uint16_t _pad;
	uint32_t gref;    /* the granted frame to receive into */
};

struct netif_rx_response {
	uint16_t id;
	uint16_t offset;  /* where in the frame the data starts */
	uint16_t flags;   /* NETRXF_* */
	int16_t status;   /* the size received, or NETIF_RSP_* when negative */
};

/* The shared ring's header (public/io/ring.h), then the entries: each
 * a request or a response, the larger of the two. */
struct xen_sring_hdr {
	uint32_t req_prod, req_event, rsp_prod, rsp_event;
	uint8_t _pad[48];
};
_Static_assert(sizeof(struct xen_sring_hdr) == 64, "sring header");

/* (Xen's own ring structs end in ring[1]: their sizes are not compared) */
struct netif_tx_sring {
	struct xen_sring_hdr h;
	union { struct netif_tx_request req; struct netif_tx_response rsp; } ring[NETIF_RING_SIZE];
};
struct netif_rx_sring {
	struct xen_sring_hdr h;
	union { struct netif_rx_request req; struct netif_rx_response rsp; } ring[NETIF_RING_SIZE];
};
_Static_assert(sizeof(struct netif_tx_sring) <= 4096 && sizeof(struct netif_rx_sring) <= 4096,
	       "one page each");

/* ---- ELF notes (name "Xen") --------------------------------------------- */
#define XEN_ELFNOTE_NAME "Xen"
enum xen_elfnote {
	XEN_ELFNOTE_INFO = 0,
	XEN_ELFNOTE_ENTRY = 1,
	XEN_ELFNOTE_HYPERCALL_PAGE = 2,
	XEN_ELFNOTE_VIRT_BASE = 3,
	XEN_ELFNOTE_PADDR_OFFSET = 4,
	XEN_ELFNOTE_XEN_VERSION = 5,
	XEN_ELFNOTE_GUEST_OS = 6,
	XEN_ELFNOTE_GUEST_VERSION = 7,
	XEN_ELFNOTE_LOADER = 8,
	XEN_ELFNOTE_PAE_MODE = 9,
	XEN_ELFNOTE_FEATURES = 10,
	XEN_ELFNOTE_BSD_SYMTAB = 11,
	XEN_ELFNOTE_HV_START_LOW = 12,
	XEN_ELFNOTE_L1_MFN_VALID = 13,
	XEN_ELFNOTE_SUSPEND_CANCEL = 14,
	XEN_ELFNOTE_INIT_P2M = 15,
	XEN_ELFNOTE_MOD_START_PFN = 16,
	XEN_ELFNOTE_SUPPORTED_FEATURES = 17,
	XEN_ELFNOTE_PHYS32_ENTRY = 18,
	XEN_ELFNOTE_MAX = 18,
};

/* ---- split devices (io/xenbus.h) and the block device (io/blkif.h) ------- */
enum xenbus_state {
	XenbusStateUnknown = 0,
	XenbusStateInitialising = 1,
	XenbusStateInitWait = 2,
	XenbusStateInitialised = 3,
	XenbusStateConnected = 4,
	XenbusStateClosing = 5,
	XenbusStateClosed = 6,
	XenbusStateReconfiguring = 7,
	XenbusStateReconfigured = 8,
};

#define BLKIF_OP_READ 0
#define BLKIF_OP_WRITE 1
#define BLKIF_OP_WRITE_BARRIER 2
#define BLKIF_OP_FLUSH_DISKCACHE 3
#define BLKIF_OP_DISCARD 5
#define BLKIF_OP_INDIRECT 6
#define BLKIF_MAX_SEGMENTS_PER_REQUEST 11
#define BLKIF_RSP_EOPNOTSUPP (-2)
#define BLKIF_RSP_ERROR (-1)
#define BLKIF_RSP_OKAY 0
#define VDISK_CDROM 0x1
#define VDISK_REMOVABLE 0x2
#define VDISK_READONLY 0x4

struct blkif_request_segment {
	uint32_t gref;          /* grant_ref_t */
	uint8_t first_sect, last_sect; /* 512-byte sectors of the frame: 0-7 */
	uint8_t _pad[2];
};

struct blkif_request {
	uint8_t operation;      /* BLKIF_OP_* */
	uint8_t nr_segments;
	uint16_t handle;        /* blkif_vdev_t */
	uint32_t _pad;
	uint64_t id;            /* echoed in the response */
	uint64_t sector_number; /* the first 512-byte sector */
	struct blkif_request_segment seg[BLKIF_MAX_SEGMENTS_PER_REQUEST];
};
_Static_assert(sizeof(struct blkif_request) == 112, "blkif_request");

struct blkif_response {
	uint64_t id;
	uint8_t operation;
	uint8_t _pad;
	int16_t status;         /* BLKIF_RSP_* */
	uint32_t _pad2;
};

union blkif_sring_entry {
	struct blkif_request req;
	struct blkif_response rsp;
};

/* The shared ring (io/ring.h's DEFINE_RING_TYPES for blkif) in one page. */
struct blkif_sring {
	uint32_t req_prod, req_event;
	uint32_t rsp_prod, rsp_event;
	uint8_t _pad[48];
	union blkif_sring_entry ring[];
};
_Static_assert(offsetof(struct blkif_sring, ring) == 64, "blkif_sring");
#define BLKIF_RING_SIZE 32      /* entries in one page: a power of two */

#endif
