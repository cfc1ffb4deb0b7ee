/* xenbus_dev.c - a split device's directories and the XenbusState
 * handshake, for any backend in pvmm (xenbus_dev.h). */
#include "vmm/backends/xenbus_dev.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "hypercalls/hc.h"
#include "vmm/backends/xenstore.h"

/* The guest signalled: the device works later, as a backend in dom0
 * would (hc_backends_work). */
static void port_notified(struct vm *vm, void *ctx)
{
	struct xb_dev *d = ctx;

	d->kicked = 1;
	hc_backend_kick(vm);
}

static void port_work(struct vm *vm, void *ctx)
{
	struct xb_dev *d = ctx;

	(void)vm;
	if (d->kicked && d->connected) {
		d->kicked = 0;
		d->ops->notify(d);
	}
}

/* One vm_backend for every device: the device is the port's ctx. */
static const struct vm_backend xb_backend = { "xenbus", port_notified, port_work };

static int write_at(struct vm *vm, const char *dir, const char *key, const char *val)
{
	char path[XENSTORE_ABS_PATH_MAX + 1];

	if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, key) >= sizeof(path))
		return -XEN_EINVAL;
	return xs_write(vm, path, val);
}

int xb_dev_write(struct xb_dev *d, int fe, const char *key, const char *fmt, ...)
{
	char val[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(val, sizeof(val), fmt, ap);
	va_end(ap);
	return write_at(d->vm, fe ? d->fe : d->be, key, val);
}

static int set_state(struct xb_dev *d, enum xenbus_state st)
{
	d->state = st;
	return xb_dev_write(d, 0, "state", "%d", (int)st);
}

long xb_dev_read(struct xb_dev *d, const char *key, char *buf, size_t len)
{
	char path[XENSTORE_ABS_PATH_MAX + 1];
	long n;

	if (!len || (size_t)snprintf(path, sizeof(path), "%s/%s", d->fe, key) >= sizeof(path))
		return -1;
	n = xs_read(d->vm, path, buf, len - 1);
	if (n < 0 || (size_t)n > len - 1)
		return -1;
	buf[n] = 0;
	return n;
}

/* Decimal digits only, at most (max): what a key the guest wrote must be. */
static int parse_uint(const char *s, long n, uint64_t max, uint64_t *out)
{
	uint64_t v = 0;

	if (n <= 0 || n > 20)
		return -1;
	for (long i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		uint64_t digit = (uint64_t)(s[i] - '0');
		if (digit > max || v > (max - digit) / 10)
			return -1;
		v = v * 10 + digit;
	}
	*out = v;
	return 0;
}

int xb_dev_read_uint(struct xb_dev *d, const char *key, uint64_t max, uint64_t *out)
{
	char buf[32];
	long n = xb_dev_read(d, key, buf, sizeof(buf));

	return n < 0 ? -1 : parse_uint(buf, n, max, out);
}

enum xenbus_state xb_dev_parse_state(const char *val, long len)
{
	uint64_t v;

	if (len < 0 || parse_uint(val, len, XenbusStateReconfigured, &v))
		return XenbusStateUnknown;
	return (enum xenbus_state)v;
}

void xb_dev_raise(struct xb_dev *d)
{
	if (d->connected && d->port)
		hc_raise(d->vm, d->port);
}

static void disconnect(struct xb_dev *d)
{
	if (!d->connected)
		return;
	d->ops->disconnect(d);
	hc_unbind_backend(d->vm, d->port, &xb_backend, d);
	d->port = 0;
	d->connected = 0;
}

/* xenbus_dev_fatal: the reason in the backend's error key, then Closing. */
static void fail(struct xb_dev *d, const char *why)
{
	xb_dev_write(d, 0, "error", "%s", why);
	set_state(d, XenbusStateClosing);
}

static void connect(struct xb_dev *d)
{
	char why[160] = "";
	uint64_t port;

	if (xb_dev_read_uint(d, "event-channel", VM_EVTCHNS - 1, &port) || !port) {
		fail(d, "reading event-channel: missing, not a number, or not a port");
		return;
	}
	if (d->ops->connect(d, why, sizeof(why))) {
		fail(d, why);
		return;
	}
	if (hc_bind_backend(d->vm, (uint32_t)port, &xb_backend, d)) {
		d->ops->disconnect(d);
		snprintf(why, sizeof(why), "binding event channel %u: not allocated unbound for domain 0",
			 (unsigned)port);
		fail(d, why);
		return;
	}
	d->port = (uint32_t)port;
	d->connected = 1;
	d->connects++;
	set_state(d, XenbusStateConnected);
	port_notified(d->vm, d); /* requests queued before the bind are served too */
}

/* The frontend's directory changed: follow its state (frontend_changed). */
static void frontend_changed(struct vm *vm, void *ctx)
{
	struct xb_dev *d = ctx;
	char val[16];
	long n = xb_dev_read(d, "state", val, sizeof(val));
	enum xenbus_state fe = xb_dev_parse_state(val, n);

	(void)vm;
	switch (fe) {
	case XenbusStateInitialising:
		if (d->state == XenbusStateClosed)
			set_state(d, XenbusStateInitWait); /* a frontend reconnecting */
		break;
	case XenbusStateInitialised:
	case XenbusStateConnected:
		if (d->state == XenbusStateInitWait)
			connect(d);
		break;
	case XenbusStateClosing:
		disconnect(d);
		if (d->state != XenbusStateClosing && d->state != XenbusStateClosed)
			set_state(d, XenbusStateClosing);
		break;
	case XenbusStateInitWait:
	case XenbusStateReconfiguring:
	case XenbusStateReconfigured:
		break; /* not a frontend's states: nothing to do */
	default: /* Closed, Unknown */
		disconnect(d);
		if (d->state != XenbusStateClosed)
			set_state(d, XenbusStateClosed);
		break;
	}
}

int xb_dev_add(struct vm *vm, struct xb_dev *d, const struct xb_dev_ops *ops, unsigned devid,
	       void *priv)
{
	int rc;

	memset(d, 0, sizeof(*d));
	d->vm = vm, d->ops = ops, d->priv = priv, d->devid = devid;
	snprintf(d->fe, sizeof(d->fe), "/local/domain/%u/device/%s/%u", VM_DOMID, ops->type, devid);
	snprintf(d->be, sizeof(d->be), "/local/domain/0/backend/%s/%u/%u", ops->type, VM_DOMID,
		 devid);
	if ((rc = xb_dev_write(d, 0, "frontend", "%s", d->fe)) ||
	    (rc = xb_dev_write(d, 0, "frontend-id", "%u", VM_DOMID)) ||
	    (rc = xb_dev_write(d, 0, "online", "1")) ||
	    (rc = set_state(d, XenbusStateInitialising)) ||
	    (rc = xb_dev_write(d, 1, "backend", "%s", d->be)) ||
	    (rc = xb_dev_write(d, 1, "backend-id", "0")) ||
	    (rc = xb_dev_write(d, 1, "state", "%d", XenbusStateInitialising)))
		return rc;
	return xs_hook(vm, d->fe, frontend_changed, d);
}

int xb_dev_start(struct xb_dev *d)
{
	return set_state(d, XenbusStateInitWait);
}
