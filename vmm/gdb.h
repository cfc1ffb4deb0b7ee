/*
 * gdb.h - a GDB remote-protocol stub for the guest (--gdb).
 *
 * gdb itself is the debugger; pvmm speaks its protocol over TCP (127.0.0.1
 * unless told another address) or a Unix socket: registers, guest virtual memory through the guest's
 * current page tables (software breakpoints can be written into read-only
 * guest text; page-table frames are never written), continue, single step,
 * Ctrl-C, detach and kill, and `monitor` commands for the MMU. The guest
 * stops at boot (unless ",nowait"), when gdb connects later, at an int3 while gdb is attached, after
 * a step, on Ctrl-C, and on the page-table events `monitor break-*` asks
 * for. Errors are returned; vmm/ decides.
 */
#ifndef PVMM_GDB_H
#define PVMM_GDB_H

#include "vm.h"

struct vmm_gdb;

/* Parse "tcp:[HOST:]PORT[,nowait]" or "unix:PATH[,nowait]" strictly and
 * start listening (HOST: an IPv4 address or localhost; 127.0.0.1 when
 * none); prints where to stderr. NULL with vm->end_msg set on failure.
 * gdb may connect at any time: a running or blocked guest stops for it. */
struct vmm_gdb *vmm_gdb_open(struct vm *vm, const char *spec);
void vmm_gdb_close(struct vmm_gdb *g);

/* Whether the guest should stop for gdb now, given the trap just handled
 * (NULL when none). Consumes a pending Ctrl-C or event stop. */
int vmm_gdb_wants_stop(struct vmm_gdb *g, struct vm *vm, const struct stub_trap *t);

/* Talk to gdb with the guest stopped (waiting for it to connect first when
 * it has not); returns when gdb continues, steps or detaches. Sets vm->end
 * on `kill`. */
void vmm_gdb_stopped(struct vmm_gdb *g, struct vm *vm, int signo);

/* The guest ended: tell gdb (exit status or signal). */
void vmm_gdb_ended(struct vmm_gdb *g, struct vm *vm, int status);

/* Whether the trap (t) is gdb's: an int3 while gdb is attached, or a #DB
 * while it steps the guest. An int3 is then not delivered to the guest;
 * what else a #DB says (a breakpoint the guest armed, its own TF) still is. */
int vmm_gdb_owns(const struct vmm_gdb *g, const struct stub_trap *t);
/* Whether the guest's TF is gdb's now (gdb steps a guest that had not set
 * it): a single step is then gdb's alone. */
int vmm_gdb_steps(const struct vmm_gdb *g);
/* The signal to report for the stop vmm_gdb_wants_stop() found; clears it. */
int vmm_gdb_take_stop(struct vmm_gdb *g);

/* A page-table event happened; stops the guest when gdb asked to. */
void vmm_gdb_event(struct vmm_gdb *g, const struct vm_event *ev);

/* Whether gdb is waiting at boot. */
int vmm_gdb_wait_at_boot(const struct vmm_gdb *g);

/* The descriptor to poll while the guest is blocked (-1: none): gdb's
 * connection (a Ctrl-C), or the listening socket (gdb connecting).
 * Readable: vmm_gdb_wants_stop() says to stop. */
int vmm_gdb_poll_fd(const struct vmm_gdb *g);

#endif
