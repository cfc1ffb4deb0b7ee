/* check_xbdev.c - a split device's xenstore directories and XenbusState
 * handshake (vmm/backends/xenbus_dev.c) with a test device type, and the
 * grant access backends get (hc_grant_acquire), on a fixture domain whose
 * frontend is played through its xenstore ring and hypercalls. */
#include <check.h>
#include <stdio.h>
#include <string.h>

#include "fixture.h"
#include "hypercalls/hc.h"
#include "mmu/mmu.h"
#include "vmm/backends/xenbus_dev.h"
#include "vmm/backends/xenstore.h"

static struct vm *vm;
static struct xb_dev dev;
static uint64_t arg;   /* a scratch page hypercalls read their arguments from */
static uint64_t data;  /* a frame nothing maps: the test device's ring */
static int notified, connected, disconnected;
static struct hc_grant ring_grant;

static int discard(void *ctx, const struct stub_op *op)
{
	(void)ctx, (void)op;
	return 0;
}

static int t_connect(struct xb_dev *d, char *why, size_t len)
{
	uint64_t ref;
	uint8_t *page;
	int16_t st;

	if (xb_dev_read_uint(d, "ring-ref", UINT32_MAX, &ref)) {
		snprintf(why, len, "reading ring-ref");
		return -1;
	}
	if ((st = hc_grant_acquire(d->vm, (uint32_t)ref, 0, &ring_grant, &page))) {
		snprintf(why, len, "mapping ring-ref %u: grant status %d", (unsigned)ref, st);
		return -1;
	}
	connected++;
	return 0;
}

static void t_notify(struct xb_dev *d) { (void)d, notified++; }

static void t_disconnect(struct xb_dev *d)
{
	hc_grant_release(d->vm, &ring_grant);
	disconnected++;
}

static const struct xb_dev_ops test_ops = { "vtest", t_connect, t_notify, t_disconnect };

static void setup(void)
{
	vm = fixture_vm();
	vm->mmu.emit = discard;
	arg = vm->lay.start_info_va + 2048;
	data = vm->lay.first_free_pfn;
	notified = connected = disconnected = 0;
	ck_assert_int_eq(xs_init(vm, "fixture"), 0);
	ck_assert_int_eq(xb_dev_add(vm, &dev, &test_ops, 5, NULL), 0);
	ck_assert_int_eq(xb_dev_write(&dev, 0, "feature-test", "1"), 0);
	ck_assert_int_eq(xb_dev_start(&dev), 0);
}

static void teardown(void)
{
	char why[400];

	ck_assert_msg(mmu_check_counts(vm, why, sizeof(why)) == 0, "%s", why);
	xs_free(vm);
	fixture_free(vm);
}

static void *at(uint64_t gva) { return vm->mem + (gva - vm->lay.v_start); }

static int64_t hcall(unsigned nr, uint64_t a0, const void *req, size_t len)
{
	struct stub_regs *r = &vm->vcpu.regs;

	memcpy(at(arg), req, len);
	memset(r, 0, sizeof(*r));
	r->rax = nr, r->rdi = a0, r->rsi = arg, r->rdx = 1;
	hc_dispatch(vm);
	return (int64_t)r->rax;
}

static uint32_t alloc_unbound(uint16_t remote)
{
	struct evtchn_alloc_unbound a = { DOMID_SELF, remote, 0 };

	ck_assert_int_eq(hcall(XEN_HC_event_channel_op, EVTCHNOP_alloc_unbound, &a, sizeof(a)), 0);
	return ((struct evtchn_alloc_unbound *)at(arg))->port;
}

static uint32_t port_status(uint32_t port)
{
	struct evtchn_status s = { .dom = DOMID_SELF, .port = port };

	ck_assert_int_eq(hcall(XEN_HC_event_channel_op, EVTCHNOP_status, &s, sizeof(s)), 0);
	return ((struct evtchn_status *)at(arg))->status;
}

static int64_t send(uint32_t port)
{
	return hcall(XEN_HC_event_channel_op, EVTCHNOP_send, &port, sizeof(port));
}

static struct grant_entry_v1 *e1(uint32_t ref)
{
	return (struct grant_entry_v1 *)mmu_frame_data(vm, mmu_grant_frame(vm, 0)) + ref;
}

/* ---- the guest's xenstore requests, through its ring ---------------------- */

static struct xenstore_domain_interface *ring(void)
{
	return (struct xenstore_domain_interface *)(vm->mem + vm->lay.store_pfn * 4096);
}

static void put(const void *p, size_t n)
{
	struct xenstore_domain_interface *r = ring();

	for (size_t i = 0; i < n; i++)
		r->req[r->req_prod++ % XENSTORE_RING_SIZE] = ((const char *)p)[i];
}

/* A guest XS_WRITE of (val) at (path); the type of the reply (replies and
 * watch events are drained). */
static uint32_t gwrite(const char *path, const char *val)
{
	struct xenstore_domain_interface *r = ring();
	struct xsd_sockmsg h = { XS_WRITE, 1, 0, (uint32_t)(strlen(path) + 1 + strlen(val)) };
	uint32_t type;

	put(&h, sizeof(h));
	put(path, strlen(path) + 1);
	put(val, strlen(val));
	xs_notify(vm);
	ck_assert_uint_ge(r->rsp_prod - r->rsp_cons, sizeof(h));
	memcpy(&type, &r->rsp[r->rsp_cons % XENSTORE_RING_SIZE], sizeof(type));
	r->rsp_cons = r->rsp_prod;
	return type;
}

static const char *rd(const char *path)
{
	static char v[256];
	long n = xs_read(vm, path, v, sizeof(v) - 1);

	v[n < 0 ? 0 : n] = 0;
	return n < 0 ? "(none)" : v;
}

#define FE "/local/domain/1/device/vtest/5"
#define BE "/local/domain/0/backend/vtest/1/5"

/* The frontend's side of a connect: ring granted to domain 0, a port
 * allocated unbound for it, the keys, then (state). */
static uint32_t frontend_connects(const char *state)
{
	uint32_t port = alloc_unbound(0);
	char v[16];

	e1(9)->flags = 0;
	*e1(9) = (struct grant_entry_v1){ GTF_permit_access, 0, (uint32_t)data };
	ck_assert_uint_eq(gwrite(FE "/ring-ref", "9"), XS_WRITE);
	snprintf(v, sizeof(v), "%u", port);
	ck_assert_uint_eq(gwrite(FE "/event-channel", v), XS_WRITE);
	ck_assert_uint_eq(gwrite(FE "/state", state), XS_WRITE);
	return port;
}

START_TEST(directories_as_the_toolstack_writes_them)
{
	ck_assert_str_eq(rd(BE "/frontend"), FE);
	ck_assert_str_eq(rd(BE "/frontend-id"), "1");
	ck_assert_str_eq(rd(BE "/online"), "1");
	ck_assert_str_eq(rd(BE "/state"), "2");
	ck_assert_str_eq(rd(BE "/feature-test"), "1");
	ck_assert_str_eq(rd(FE "/backend"), BE);
	ck_assert_str_eq(rd(FE "/backend-id"), "0");
	ck_assert_str_eq(rd(FE "/state"), "1");
	/* domain 0's directory is read-only to the guest */
	ck_assert_uint_eq(gwrite(BE "/state", "4"), XS_ERROR);
	ck_assert_str_eq(rd(BE "/state"), "2");
}
END_TEST

START_TEST(handshake_connect_close_reconnect)
{
	uint32_t port = frontend_connects("3");

	ck_assert_str_eq(rd(BE "/state"), "4");
	ck_assert_int_eq(connected, 1);
	ck_assert_uint_eq(port_status(port), EVTCHNSTAT_interdomain);
	ck_assert_uint_eq(e1(9)->flags, GTF_permit_access | GTF_reading | GTF_writing);
	ck_assert_int_eq(notified, 0); /* due once at connect: requests queued before it */
	hc_backends_work(vm);
	ck_assert_int_eq(notified, 1);
	ck_assert_int_eq(send(port), 0);
	ck_assert_int_eq(notified, 1); /* a send asks; the backend works while the guest waits */
	hc_backends_work(vm);
	ck_assert_int_eq(notified, 2);
	hc_backends_work(vm);
	ck_assert_int_eq(notified, 2);
	ck_assert_uint_eq(gwrite(FE "/state", "4"), XS_WRITE); /* Connected: nothing new */
	ck_assert_int_eq(connected, 1);
	ck_assert_uint_eq(gwrite(FE "/state", "5"), XS_WRITE);
	ck_assert_str_eq(rd(BE "/state"), "5");
	ck_assert_int_eq(disconnected, 1);
	ck_assert_uint_eq(e1(9)->flags, GTF_permit_access); /* released */
	ck_assert_uint_eq(port_status(port), EVTCHNSTAT_unbound);
	ck_assert_int_eq(send(port), 0);
	hc_backends_work(vm);
	ck_assert_int_eq(notified, 2);
	ck_assert_uint_eq(gwrite(FE "/state", "6"), XS_WRITE);
	ck_assert_str_eq(rd(BE "/state"), "6");
	ck_assert_uint_eq(gwrite(FE "/state", "1"), XS_WRITE);
	ck_assert_str_eq(rd(BE "/state"), "2");
	ck_assert_uint_eq(gwrite(FE "/state", "4"), XS_WRITE); /* Mini-OS goes Connected */
	ck_assert_str_eq(rd(BE "/state"), "4");
	ck_assert_int_eq(connected, 2);
	ck_assert_int_eq(dev.connects, 2);
	ck_assert_uint_eq(gwrite(FE "/state", "6"), XS_WRITE);
	ck_assert_int_eq(disconnected, 2);
}
END_TEST

/* A guest that closes the port under a connected device, or removes its
 * directory: the binding goes, the device disconnects. */
START_TEST(frontend_vanishing)
{
	uint32_t port = frontend_connects("4");
	struct xsd_sockmsg h = { XS_RM, 1, 0, sizeof(FE) };

	ck_assert_int_eq(hcall(XEN_HC_event_channel_op, EVTCHNOP_close, &port, sizeof(port)), 0);
	ck_assert_uint_eq(port_status(port), EVTCHNSTAT_closed);
	put(&h, sizeof(h));
	put(FE, sizeof(FE));
	xs_notify(vm);
	ck_assert_str_eq(rd(BE "/state"), "6");
	ck_assert_int_eq(disconnected, 1);
	ck_assert_uint_eq(e1(9)->flags, GTF_permit_access);
	ck_assert_int_eq(vm->end, VM_RUNNING);
}
END_TEST

START_TEST(bad_frontends_fail_the_device_only)
{
	uint32_t port;

	ck_assert_uint_eq(gwrite(FE "/event-channel", "0x5"), XS_WRITE);
	ck_assert_uint_eq(gwrite(FE "/state", "3"), XS_WRITE);
	ck_assert_str_eq(rd(BE "/state"), "5");
	ck_assert(strstr(rd(BE "/error"), "event-channel"));
	ck_assert_uint_eq(gwrite(FE "/state", "6"), XS_WRITE);
	ck_assert_uint_eq(gwrite(FE "/state", "1"), XS_WRITE);
	ck_assert_str_eq(rd(BE "/state"), "2");
	/* a ring granted to itself, not to domain 0 */
	port = frontend_connects("1");
	e1(9)->domid = VM_DOMID;
	ck_assert_uint_eq(gwrite(FE "/state", "3"), XS_WRITE);
	ck_assert_str_eq(rd(BE "/state"), "5");
	ck_assert(strstr(rd(BE "/error"), "ring-ref 9"));
	ck_assert_uint_eq(e1(9)->flags, GTF_permit_access);
	ck_assert_uint_eq(gwrite(FE "/state", "6"), XS_WRITE);
	ck_assert_uint_eq(gwrite(FE "/state", "1"), XS_WRITE);
	/* a port allocated for itself: the grant is given back */
	e1(9)->domid = 0;
	ck_assert_int_eq(hcall(XEN_HC_event_channel_op, EVTCHNOP_close, &port, sizeof(port)), 0);
	port = alloc_unbound(DOMID_SELF);
	char v[16];
	snprintf(v, sizeof(v), "%u", port);
	ck_assert_uint_eq(gwrite(FE "/event-channel", v), XS_WRITE);
	ck_assert_uint_eq(gwrite(FE "/state", "3"), XS_WRITE);
	ck_assert_str_eq(rd(BE "/state"), "5");
	ck_assert(strstr(rd(BE "/error"), "event channel"));
	ck_assert_uint_eq(e1(9)->flags, GTF_permit_access);
	ck_assert_uint_eq(port_status(port), EVTCHNSTAT_unbound);
	ck_assert_int_eq(connected, 1);
	ck_assert_int_eq(disconnected, 1);
	ck_assert_int_eq(vm->end, VM_RUNNING);
}
END_TEST

START_TEST(states_are_parsed_strictly)
{
	ck_assert_int_eq(xb_dev_parse_state("4", 1), XenbusStateConnected);
	ck_assert_int_eq(xb_dev_parse_state("04", 2), XenbusStateConnected);
	ck_assert_int_eq(xb_dev_parse_state("9", 1), XenbusStateUnknown);
	ck_assert_int_eq(xb_dev_parse_state("-1", 2), XenbusStateUnknown);
	ck_assert_int_eq(xb_dev_parse_state("4 ", 2), XenbusStateUnknown);
	ck_assert_int_eq(xb_dev_parse_state("", 0), XenbusStateUnknown);
	ck_assert_int_eq(xb_dev_parse_state("x", -1), XenbusStateUnknown);
	ck_assert_int_eq(xb_dev_parse_state("99999999999999999999999", 23), XenbusStateUnknown);
}
END_TEST

/* hc_grant_acquire: what domain 0's map would refuse, it refuses. */
START_TEST(grant_acquire_checks)
{
	struct hc_grant g, g2;
	uint8_t *p;

	*e1(3) = (struct grant_entry_v1){ GTF_permit_access, 0, (uint32_t)data };
	ck_assert_int_eq(hc_grant_acquire(vm, 3, 0, &g, &p), GNTST_okay);
	ck_assert_ptr_eq(p, mmu_frame_data(vm, data));
	ck_assert_int_eq(hc_grant_acquire(vm, 3, 1, &g2, &p), GNTST_okay); /* twice */
	hc_grant_release(vm, &g);
	ck_assert_uint_eq(e1(3)->flags, GTF_permit_access | GTF_reading);
	hc_grant_release(vm, &g2);
	hc_grant_release(vm, &g2); /* not held: nothing */
	ck_assert_uint_eq(e1(3)->flags, GTF_permit_access);
	ck_assert_int_eq(hc_grant_acquire(vm, VM_GRANT_REFS, 1, &g, &p), GNTST_bad_gntref);
	ck_assert_ptr_null(p);
	e1(3)->flags = GTF_permit_access | GTF_readonly;
	ck_assert_int_eq(hc_grant_acquire(vm, 3, 0, &g, &p), GNTST_general_error);
	ck_assert_int_eq(hc_grant_acquire(vm, 3, 1, &g, &p), GNTST_okay);
	hc_grant_release(vm, &g);
	e1(3)->flags = GTF_accept_transfer;
	ck_assert_int_eq(hc_grant_acquire(vm, 3, 1, &g, &p), GNTST_general_error);
	*e1(3) = (struct grant_entry_v1){ GTF_permit_access, 0, (uint32_t)vm->nr_pages };
	ck_assert_int_eq(hc_grant_acquire(vm, 3, 1, &g, &p), GNTST_bad_page);
	ck_assert_uint_eq(e1(3)->flags, GTF_permit_access);
	/* a page table is never writable through a grant; readable it is */
	*e1(3) = (struct grant_entry_v1){ GTF_permit_access, 0, (uint32_t)vm->lay.pt_first_pfn };
	ck_assert_int_eq(hc_grant_acquire(vm, 3, 0, &g, &p), GNTST_general_error);
	ck_assert_uint_eq(e1(3)->flags, GTF_permit_access);
	ck_assert_int_eq(hc_grant_acquire(vm, 3, 1, &g, &p), GNTST_okay);
	hc_grant_release(vm, &g);
	ck_assert_uint_eq(vm->grant.active[3].pin, 0);
}
END_TEST

Suite *xbdev_suite(void);

Suite *xbdev_suite(void)
{
	Suite *s = suite_create("xenbus_dev");
	TCase *tc = tcase_create("handshake");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, directories_as_the_toolstack_writes_them);
	tcase_add_test(tc, handshake_connect_close_reconnect);
	tcase_add_test(tc, frontend_vanishing);
	tcase_add_test(tc, bad_frontends_fail_the_device_only);
	tcase_add_test(tc, states_are_parsed_strictly);
	tcase_add_test(tc, grant_acquire_checks);
	suite_add_tcase(s, tc);
	return s;
}
