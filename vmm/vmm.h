/*
 * vmm.h - the front end's internal interfaces: guest memory and process,
 * transports, the trap loop and reporting. Only vmm/ decides to exit.
 * Functions return 0 or -errno and, on error, leave a one-line reason in
 * vm->end_msg.
 */
#ifndef PVMM_VMM_H
#define PVMM_VMM_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "vm.h"

/* The front end's state for one domain, around the domain itself: the
 * guest process and its transport, what --trace prints and where, gdb. No
 * module below vmm/ sees it. */
struct vmm_net;

/* One guest process: what the front end keeps of the host process that
 * realises one address space (mmu/space.c; spaces.c). The running one's
 * fields are struct vmm's own; a parked one's are kept here. */
struct vmm_proc {
	int pid;               /* 0: not started (or gone) */
	struct stub_ctrl *ctrl;
	int ctrlfd;
	uint64_t doorbell;
	uint32_t last_req;     /* futex transport: the request pvmm is answering */
	struct vm_hostdr hostdr; /* the hardware breakpoints armed in it */
	uint64_t base[2];      /* its FS and GS bases (STUB_OP_SET_BASE) */
	uint64_t sel[2];       /* its %ds and %es (STUB_OP_SET_SEL) */
	int parking;           /* told STUB_ACT_HANDOVER: its PARKED hand-off is due */
};

struct vmm {
	struct vm vm;          /* the domain */

	/* the running guest process and its transport */
	int pid;
	struct stub_ctrl *ctrl;
	int ctrlfd;
	uint64_t doorbell;
	uint32_t spin;         /* futex transport: polls before sleeping, each side */
	int guest_cpu;         /* the guest process's own CPU, or -1 (pvmm's affinity) */
	uint32_t last_req;     /* futex transport: the request pvmm is answering */
	struct vm_hostdr hostdr; /* the hardware breakpoints armed in the guest process */
	uint64_t base[2];      /* its FS and GS bases as set */
	uint64_t sel[2];       /* its %ds and %es as loaded */
	int hostdr_probe;      /* the host delivers them: 0 not known yet, 1 yes, -1 no */
	const struct vmm_transport *transport;

	/* the other guest processes, one per address space (spaces.c) */
	struct vmm_proc proc[MMU_SPACES_MAX]; /* proc[proc_cur] is the running one's slot */
	unsigned proc_cur;
	uint64_t want_base[2]; /* the vCPU's FS and GS bases, %ds and %es: what */
	uint64_t want_sel[2];  /* the last operations asked for, in any process */
	int fpufd;             /* the FPU area all processes share (stub_abi.h) */
	struct stub_wake *wake; /* the wake words after it, STUB_SPACES of them */
	/* futex transport: the process the vCPU left, told to wake the one
	 * entered (STUB_ACT_HANDOVER) when that one is first resumed */
	struct vmm_handover {
		struct stub_ctrl *ctrl; /* its control page; NULL: no hand-over due */
		uint32_t last_req;     /* its request, which that answer answers */
		unsigned space;        /* its slot in proc[] */
	} handover;
	uint64_t fpu_mask;     /* XSAVE components it carries (0: FXSAVE) ... */
	uint32_t fpu_size;     /* ... in this many bytes */
	struct vmm_space_counters {
		uint64_t processes;  /* guest processes started */
		uint64_t fpu_fetches; /* a process was asked for the FPU state it had not saved */
	} spaces;

	/* reporting and debugging */
	int check_invariants;  /* --check-invariants */
	uint32_t trace_print;  /* vm_trace_kind bits --trace prints */
	FILE *trace_out;
	int trace_json;        /* --trace-format=json */
	uint64_t trace_rip;    /* --trace=fault: the trap's rip, before emulation steps it ... */
	char trace_insn[96];   /* ... and the text of the instruction there ("" unreadable) */
	struct loader_symtab syms; /* for traces */
	struct vmm_gdb *gdb;   /* --gdb */
	const char *pidfile;   /* --pidfile */

	/* the host's console input (conin.c) */
	struct vmm_conin {
		int fd;            /* stdin, or -1: closed (end of input, a background job) */
		int escape;        /* the byte that leaves (--escape), or -1: none */
		int kicked;        /* the guest was interrupted for input since its last hand-off */
		uint64_t last_ns;  /* when stdin was last read (CLOCK_MONOTONIC) */
	} conin;
	struct vmm_net *net;   /* --net=user, or NULL */
	/* guest code and data below vm.mmap_min_addr (lowexec.h) */
	struct vmm_lowexec *low; /* the instruction emulator, made at first use */
	int low_step;          /* run the instruction at rip in it before resuming */
	int low_trap;          /* the trap being served came from it */
};

/* The struct vmm around domain (vm), keeping its constness. Every struct vm
 * the front end handles lives in a struct vmm. */
#define vmm_of(d) _Generic((d), \
	const struct vm *: (const struct vmm *)(const void *)((const char *)(d) - offsetof(struct vmm, vm)), \
	struct vm *: (struct vmm *)(void *)((char *)(d) - offsetof(struct vmm, vm)))

/* Initialise (v) and its domain: nothing open, no CPU of its own. */
static inline void vmm_init(struct vmm *v)
{
	memset(v, 0, sizeof(*v));
	vm_init(&v->vm);
	v->ctrlfd = v->fpufd = -1;
	v->guest_cpu = -1;
	v->conin.fd = v->conin.escape = -1;
}

/* Exit statuses of the pvmm command (documented in README and --help). */
enum vmm_status {
	VMM_EXIT_POWEROFF = 0,
	VMM_EXIT_CRASH = 1,
	VMM_EXIT_USAGE = 2,
	VMM_EXIT_IMAGE = 3,
	VMM_EXIT_TIMEOUT = 4,
	VMM_EXIT_HOST = 5,
	VMM_EXIT_REBOOT = 6,
	VMM_EXIT_INTERRUPTED = 7,
};

/* file.c: the whole of regular file (path), NUL-terminated (not counted in
 * *len), malloc'd. Larger than (max) bytes: EFBIG, or with (tail) its last
 * (max) bytes. NULL with errno: open's, EINVAL for anything but a regular
 * file, EFBIG, ENOMEM. */
char *vmm_read_file(const char *path, size_t max, int tail, size_t *len);

/* proc.c: guest memory and the confined guest process. */
int vmm_mem_create(struct vm *vm, uint64_t nr_pages);
void vmm_mem_destroy(struct vm *vm);
/* Start the stub in a new process: fds, seccomp program, exec. With
 * (traced) the child asks to be traced first. Returns the pid or -errno. */
int vmm_proc_spawn(struct vm *vm, int traced);
/* The guest process's mappings from /proc/PID/maps (malloc'd array in
 * *out, the caller frees). 0 or -errno. */
struct mmu_host_map;
int vmm_proc_maps(const struct vm *vm, struct mmu_host_map **out, size_t *n);
/* Check that nothing but the hole is mapped in the lower half. */
int vmm_proc_check_clean(struct vm *vm);
/* Describe how the guest process ended, from a wait status. Once the
 * guest has (started), any end of its process is the domain's doing
 * (VM_CRASH); before, an exit is the stub's start-up failing (vm->end is
 * left for the caller: a host error). */
void vmm_proc_describe_end(struct vm *vm, int status, int started);

/* A stop of the guest process as the trap loop sees it. */
struct vmm_stop {
	enum { STOP_HANDOFF, STOP_GONE } kind;
	int status; /* STOP_GONE: the wait status */
};

/* transport.h in one place: how control passes to and from the stub. */
struct vmm_transport {
	const char *name;
	/* Start the guest process and run the stub to its READY hand-off. */
	int (*start)(struct vm *vm, struct vmm_stop *stop);
	/* Let the stub act on the control page, wait for the next hand-off. */
	int (*resume)(struct vm *vm, struct vmm_stop *stop);
	/* Kill the guest process and reap it. Idempotent. */
	void (*kill)(struct vm *vm);
	/* The stub's direct hypercall entry for the hypercall page, or 0: the
	 * page's entries make a `syscall` (stub_abi.h: STUB_FASTCALL_ENTRY). */
	uint64_t fastcall;
	/* Whether the process the vCPU leaves wakes the one entered
	 * (STUB_ACT_HANDOVER), and the wait for the PARKED hand-off it then
	 * makes (NULL without). */
	int (*wait)(struct vm *vm, struct vmm_stop *stop);
};

extern const struct vmm_transport vmm_ptrace_transport;
extern const struct vmm_transport vmm_futex_transport;
const struct vmm_transport *vmm_transport_find(const char *name);

/* debugregs.c: the guest's hardware breakpoints in its process (ptrace of
 * u_debugreg, attaching for the moment with the seccomp transport). Called
 * with the stub waiting in a hand-off. vmm_dr_sync arms what the guest's
 * %dr7 enables when it changed (vm->vcpu.dr.changed): 0, or -errno with
 * vm->end set (a host error). vmm_dr_hit gives the %dr6 bits (positive
 * polarity: B0-B3 of the armed breakpoints, BS) of the #DB behind the
 * SIGTRAP (t). */
int vmm_dr_sync(struct vm *vm);
uint32_t vmm_dr_hit(struct vm *vm, const struct stub_trap *t);

/* conin.c: the host's console input (stdin) for the guest's console.
 * vmm_conin_open takes (fd) as the console's input with (escape) as the
 * byte that leaves a terminal (-1: none; other input has none); a terminal in the foreground is put in raw
 * mode unless there is no escape, and restored at exit (atexit, and
 * pvmm's fatal signals; vmm_conin_restore does it at once). A terminal
 * of a background job is not read. 0 or -errno (the terminal's mode).
 * vmm_conin_parse_escape reads --escape's "^]", "^C", "x" or "none":
 * 0, or -1 when it is none of those. */
int vmm_conin_open(struct vm *vm, int fd, int escape);
int vmm_conin_parse_escape(const char *s, int *escape);
void vmm_conin_restore(void);
/* The fd to read input from now (the guest takes input and there is
 * room for it), or -1. */
int vmm_conin_fd(const struct vm *vm);
/* While the guest runs (in the transports' waits): *fd is stdin when it
 * is to be watched, else -1; returns 1 when bytes are held for room in
 * the ring, to be looked for every tick (20 ms). Then vmm_conin_woke,
 * (readable) when the fd was, interrupts the guest once when input can
 * move, so that its next hand-off moves it. */
int vmm_conin_running(const struct vm *vm, int *fd);
void vmm_conin_woke(struct vm *vm, int readable);
/* At a hand-off, the guest stopped: read stdin when it was seen readable,
 * (now), or 20 ms have passed, and move what is held into the guest's
 * console (be_console_input). The escape key ends the domain through
 * vmm_signals_escape. */
void vmm_conin_pump(struct vm *vm, int now);

/* spaces.c: one guest process per address space (mmu/space.c).
 * vmm_spaces_start starts the running space's process (the first at boot)
 * and runs its stub to READY: 0, or -errno with vm->end_msg (a host
 * error) or vm->end set. vmm_spaces_enter makes the process of the space
 * the guest now runs in (vm->mmu.space_cur) the running one, before any
 * host operation or resume is meant for it: the process left runs its
 * pending operations and gives up the guest's FPU state, the one entered
 * takes it, its segment bases and breakpoints are brought in line, and it
 * is started when it never was. 0, or -EIO with the domain ended.
 * vmm_spaces_kill kills and reaps every guest process. */
int vmm_spaces_start(struct vm *vm);
int vmm_spaces_enter(struct vm *vm);
void vmm_spaces_kill(struct vm *vm);
/* What an operation on its way to the running process changes of the
 * vCPU's state that every process must share (bases, selectors). */
void vmm_spaces_note_op(struct vm *vm, const struct stub_op *op);

/* spaces.c: run the running process's pending host operations, asking
 * the stub for (action) (STUB_ACT_MORE, or STUB_ACT_SAVE_FPU), and wait
 * for its OPS_DONE: 0, or -EIO with the domain ended. vmm_ops_check reads
 * the results of the batch it ran: 0, or -EIO with the domain crashed (a
 * failed operation was checked before it was asked for: the guest's
 * doing). */
int vmm_ops_run(struct vm *vm, uint32_t action);
int vmm_ops_check(struct vm *vm);

/* run.c: boot the built domain and run it until it ends. */
int vmm_run(struct vm *vm, const struct vmm_transport *t);

/* signals.c: SIGINT/SIGTERM/SIGHUP and --timeout kill the guest process
 * (pid) from the signal handler; vmm_signals_ended() says which fired.
 * While the guest watches its xenstore control/shutdown node (the trap
 * loop says so with vmm_signals_watching), the first of those signals
 * only interrupts it and starts (shutdown_grace_s) seconds of grace
 * (0: no grace); vmm_signals_asked() then returns the signal, for the
 * loop to write control/shutdown. A second signal, or the grace period's
 * end, kills the guest; vmm_signals_grace() is then the grace it had. */
int vmm_signals_install(unsigned timeout_s, unsigned shutdown_grace_s);
void vmm_signals_watching(int on);
int vmm_signals_asked(void);
unsigned vmm_signals_grace(void);
void vmm_signals_watch(int pid);
/* Whether SIGIO came since the last call (a watched descriptor is ready). */
int vmm_signals_io(void);
/* Interrupt the guest process at host CLOCK_MONOTONIC (mono_ns); 0 disarms. */
int vmm_timer_arm(uint64_t mono_ns);
enum vm_end vmm_signals_ended(void);
/* The console's escape key: what SIGINT does (a guest that watches
 * control/shutdown is asked to power off, once; otherwise, or the second
 * time, it is stopped), named "the escape key". */
void vmm_signals_escape(void);
/* Whether the signal vmm_signals_name() names was the escape key. */
int vmm_signals_escaped(void);
/* The name of the signal that ended the run ("SIGTERM", ...). */
const char *vmm_signals_name(void);

/* trace.c: --trace=pt,hypercall,fault,event,all (text lines) */
int vmm_trace_parse(const char *spec, uint32_t *mask);
void vmm_trace_event(struct vm *vm, const struct vm_event *ev);
void vmm_trace_hypercall(struct vm *vm, const struct stub_regs *in, int64_t result);
/* At a trap, before anything emulates it: note the rip and the text of the
 * instruction there, which vmm_trace_fault() names (an emulated instruction
 * has been stepped over by then, a delivered exception gone to its handler). */
void vmm_trace_trap(struct vm *vm);
void vmm_trace_fault(struct vm *vm, const struct stub_trap *t, uint64_t err, enum vm_why outcome);
void vmm_trace_upcall(struct vm *vm);
/* One run of the instruction emulator (lowexec.h) from (rip): a (step) or
 * a run, how it ended (enum vmm_lowexec_end's name), the blocks it ran and
 * the nanoseconds it took. */
void vmm_trace_lowexec(struct vm *vm, uint64_t rip, int step, const char *how, uint64_t blocks,
		       uint64_t ns);
void vmm_format_pte(uint64_t e, char *buf, size_t len);

/* suite.c: `pvmm test ...`; (self) is the path of this pvmm binary. */
int vmm_suite_main(int argc, char **argv, const char *self);

/* stats.c */
void vmm_stats_write(const struct vm *vm, FILE *f, double seconds);
const char *vmm_end_name(enum vm_end end);

#endif
