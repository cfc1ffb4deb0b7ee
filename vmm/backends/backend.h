/*
 * backends - dom0's work, done in pvmm: the devices a PV guest finds
 * through the xenstore and talks to over shared rings and event channels.
 * The xenstore (xenstore.h), the console (here) and split devices
 * (xenbus_dev.h: the xenstore directories and XenbusState handshake every
 * split device shares; blkback below) live here.
 *
 * Every backend has the same shape: pure code over struct vm, bound to its
 * event-channel port with hc_bind_backend() (hypercalls/hc.h) and a struct
 * vm_backend (include/vm.h) whose notify the guest's EVTCHNOP_send calls;
 * it reads the ring the guest shares, checking every index and length the
 * guest controls, serves it, and raises its port (hc_raise) when it
 * produced or consumed something. A split device reaches the frames the
 * guest granted it only through hc_grant_acquire/hc_grant_release
 * (hypercalls/hc.h: domain 0's checked map of a grant). The event-channel code knows no backend
 * by name. Nothing here exits: a guest that breaks a protocol has its
 * domain ended with a reason (vm_end_domain).
 */
#ifndef PVMM_BACKEND_H
#define PVMM_BACKEND_H

#include <stddef.h>

#include "vm.h"

/* ---- the console (console.c) ---------------------------------------------- */

/* Bind the console backend to LOADER_CONSOLE_EVTCHN: 0 or -XEN_EINVAL. */
int be_console_init(struct vm *vm);
/* (n) bytes from the host for the guest's console: how many its input ring
 * took (0 while the guest has not used the ring). */
int be_console_input(struct vm *vm, const char *buf, size_t n);

#endif
