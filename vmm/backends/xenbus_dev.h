/*
 * xenbus_dev - one split device's xenstore directories and its XenbusState
 * handshake, as Xen's toolstack (libxl) writes them and a Linux backend
 * driver (drivers/xen/xenbus/xenbus_probe_backend.c, blkback's and
 * netback's frontend_changed) follows them, for any device type.
 *
 * xb_dev_add, at domain build, writes
 *   /local/domain/0/backend/TYPE/DOMID/DEVID/  frontend, frontend-id, online 1,
 *                                               state Initialising
 *   /local/domain/DOMID/device/TYPE/DEVID/     backend, backend-id 0,
 *                                               state Initialising
 * The device then writes its own keys (xb_dev_write) and xb_dev_start says
 * InitWait. A hook on the frontend's directory (xs_hook) follows the
 * frontend's state, after every guest request that changed it:
 *   Initialised or Connected, the backend not Connected: the frontend's
 *     event-channel is read, ops->connect reads its ring keys and acquires
 *     their grants (hc_grant_acquire), the port is bound (hc_bind_backend:
 *     one the guest allocated unbound for domain 0), the backend Connected;
 *   Closing: ops->disconnect (grants released), the port unbound, Closing;
 *   Closed or Unknown (also: the directory removed, a state that is no
 *     number): as Closing, then Closed;
 *   Initialising after Closed: InitWait again (a frontend reconnecting).
 * A connect that fails (a ring-ref that is no grant to domain 0, a port
 * not allocated for it, a bad key) writes the reason to the backend's
 * "error" key and says Closing, as xenbus_dev_fatal does: the guest's
 * device fails, the domain runs on. What the guest writes is read with
 * checks (xb_dev_read_uint); the backend's own state lives here, never
 * read back from the store (domain 0's directory is read-only to the
 * guest anyway).
 *
 * While Connected, the guest's EVTCHNOP_send on the port asks for
 * ops->notify, which runs when hc_backends_work says (the guest waits,
 * yields or was interrupted), as a backend in dom0 runs beside the guest;
 * it also runs once after connecting. xb_dev_raise signals the guest.
 * Nothing here exits.
 */
#ifndef PVMM_XENBUS_DEV_H
#define PVMM_XENBUS_DEV_H

#include <stddef.h>
#include <stdint.h>

#include "vm.h"

struct xb_dev;

struct xb_dev_ops {
	const char *type; /* "vbd", "vif", ...: the directories' TYPE */
	/* The frontend is ready: read its keys, acquire its rings. 0, or -1
	 * with a one-line reason in (why) (nothing left held). */
	int (*connect)(struct xb_dev *d, char *why, size_t len);
	/* The guest signalled the port (while Connected). */
	void (*notify)(struct xb_dev *d);
	/* Release what connect acquired (only called after a connect that
	 * succeeded). */
	void (*disconnect)(struct xb_dev *d);
};

struct xb_dev {
	struct vm *vm;
	const struct xb_dev_ops *ops;
	void *priv;              /* the device's own state */
	unsigned devid;
	char fe[96];             /* /local/domain/DOMID/device/TYPE/DEVID */
	char be[96];             /* /local/domain/0/backend/TYPE/DOMID/DEVID */
	enum xenbus_state state; /* the backend's, as last written */
	uint32_t port;           /* bound while Connected, else 0 */
	int connected;           /* ops->connect succeeded, no disconnect since */
	int kicked;              /* signalled: ops->notify is due */
	uint64_t connects;       /* how many times it connected */
};

/* Write the directories of device (devid) of (ops->type) and watch the
 * frontend's; (d) must stay where it is for the store's life. 0 or a
 * negative Xen errno (the store's). */
int xb_dev_add(struct vm *vm, struct xb_dev *d, const struct xb_dev_ops *ops, unsigned devid,
	       void *priv);
/* A key of the device: (fe) 1 the frontend's directory, 0 the backend's. */
int xb_dev_write(struct xb_dev *d, int fe, const char *key, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
/* The device's keys are written: the backend says InitWait. */
int xb_dev_start(struct xb_dev *d);

/* The frontend's (key) as a decimal number of at most (max), in *out
 * (no sign, no spaces, no other base): 0, or -1 when missing or malformed. */
int xb_dev_read_uint(struct xb_dev *d, const char *key, uint64_t max, uint64_t *out);
/* The frontend's (key), NUL-terminated: its length, or -1 (missing, or
 * longer than len - 1). */
long xb_dev_read(struct xb_dev *d, const char *key, char *buf, size_t len);

/* Signal the frontend's port (while Connected). */
void xb_dev_raise(struct xb_dev *d);

/* The parsing of a frontend's state value, for the tests: the
 * XenbusState, XenbusStateUnknown for anything that is not one. */
enum xenbus_state xb_dev_parse_state(const char *val, long len);

#endif
