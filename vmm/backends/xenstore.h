/*
 * xenstore - pvmm's own xenstore, for the one domain it runs.
 *
 * The guest reaches it as on Xen: the ring in its xenstore page
 * (start_info.store_mfn) and the event channel start_info.store_evtchn.
 * The store holds what Xen's toolstack writes for a PV domain under
 * /local/domain/DOMID (domid, name, memory/target, console/..., device/,
 * control/) and serves reads, writes, mkdir, rm, directory listings,
 * domain paths, watches (fired once when set, then on every change at or
 * below their path) and transactions (a copy of the tree, committed unless
 * the tree changed meanwhile: EAGAIN, as xenstored says on a conflict).
 * Permissions are accepted and not enforced, except that domain 0's part
 * (/local/domain/0: the backends' directories) is read-only to the guest
 * (EACCES), as the toolstack's permissions make it.
 *
 * Everything the guest puts in the page is checked here: the ring indices
 * it owns, message lengths, paths and terminators. Protocol errors get
 * Xen's XS_ERROR replies ("ENOENT", "EINVAL", ...); what would make
 * xenstored drop the connection (inconsistent indices, a message longer
 * than XENSTORE_PAYLOAD_MAX, replies the guest never reads) ends the domain
 * with a one-line reason (vm_end_domain, VM_CRASH). Nothing here exits.
 */
#ifndef PVMM_XENSTORE_H
#define PVMM_XENSTORE_H

#include <stddef.h>

#include "vm.h"

#define XS_DOMID VM_DOMID          /* the guest's domain id, as the store reports it */
#define XS_PORT LOADER_STORE_EVTCHN /* its event channel: start_info.store_evtchn */

/* Create the store for (vm), seeded from vm->lay and the domain (name), and
 * bind it to XS_PORT (a backend, see backend.h). 0 or -XEN_ENOMEM. */
int xs_init(struct vm *vm, const char *name);
void xs_free(struct vm *vm);

/* The guest signalled its xenstore event channel: hand it pending replies,
 * serve every complete request in the ring, and raise the channel when
 * anything moved. */
void xs_notify(struct vm *vm);

/* Ask the guest to shut down as Xen's toolstack does: write (reason)
 * ("poweroff", "reboot") to control/shutdown, which fires the guest's
 * watch. vm->shutdown_watched says whether one is set. */
void xs_request_shutdown(struct vm *vm, const char *reason);

/* ---- pvmm's side of the store: what dom0's toolstack and backends do ----- */

/* Write (val) at (path) (absolute, or relative to the guest's home) as
 * domain 0 would: parents made, the guest's watches fired (their events
 * reach the ring now, or at the end of the request being served).
 * 0 or -XEN_EINVAL (a bad path), -XEN_ENOSPC, -XEN_ENOMEM. */
int xs_write(struct vm *vm, const char *path, const char *val);

/* pvmm's own watch on (path) and everything below it: fn(vm, ctx) runs
 * once after each guest request (or xs_write) that changed something
 * there, never in the middle of one; it may read and write the store.
 * Not fired when set. 0, -XEN_EINVAL, -XEN_ENOSPC (XS_MAX_HOOKS, 32) or
 * -XEN_ENOMEM. Hooks live as long as the store. */
typedef void (*xs_hook_fn)(struct vm *vm, void *ctx);
int xs_hook(struct vm *vm, const char *path, xs_hook_fn fn, void *ctx);

/* The value at absolute (path), for tests and tools: its length, or -1
 * when there is no such node. At most (len) bytes are copied. */
long xs_read(const struct vm *vm, const char *path, char *buf, size_t len);

#endif
