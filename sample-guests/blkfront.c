/* blkfront: a PV block frontend, as a PV kernel's driver talks to the
 * block backend it finds in the xenstore: device/vbd/51712 (xvda), its
 * backend's sectors and info, the XenbusState handshake (ring granted to
 * the backend's domain, a port allocated for it, Initialised, wait for
 * Connected), then requests on the ring, each waited for with
 * SCHEDOP_poll on the port. It reads sector 0 (the e2e test wrote a line
 * there), writes sector 1, flushes and reads it back (with "ro" on the
 * command line: the write must fail instead), then sends what a hostile
 * guest would (a grant that does not exist, a page granted read-only as a
 * read's target, a sector beyond the disk, too many segments, a barrier)
 * and checks each answer, then closes the device (Closing, Closed). */
#include "rt.h"

#define RING XENSTORE_RING_SIZE
#define DEV "device/vbd/51712"
#define REF_RING 8u
#define REF_DATA 9u
#define REF_RO 10u

static volatile struct xenstore_domain_interface *xs;
static uint32_t xs_port, req_id;
static char buf[XENSTORE_PAYLOAD_MAX + 1];
static volatile struct grant_entry_v1 *gt;
static volatile struct blkif_sring *sring;
static struct shared_info *shared;
static uint32_t port;
static uint8_t *data, *ro_page;

static void send(uint32_t p)
{
	expect_eq(HYPERVISOR_event_channel_op(EVTCHNOP_send, &p), 0);
}

/* ---- the xenstore, through its ring (synchronous in pvmm) ---- */

static void put(const void *p, size_t n)
{
	const char *c = p;

	for (; n; n--) {
		guest_assert(xs->req_prod - xs->req_cons < RING);
		xs->req[xs->req_prod % RING] = *c++;
		xs->req_prod++;
	}
}

static void get(void *p, size_t n)
{
	char *c = p;

	for (; n; n--) {
		guest_assert(xs->rsp_cons != xs->rsp_prod);
		*c++ = xs->rsp[xs->rsp_cons % RING];
		xs->rsp_cons++;
	}
}

/* One request; the reply's type, its payload in buf. */
static uint32_t xs_req(uint32_t type, const char *a, const char *b)
{
	size_t la = strlen(a) + 1, lb = b ? strlen(b) : 0;
	struct xsd_sockmsg h = { type, ++req_id, 0, (uint32_t)(la + lb) }, r;

	put(&h, sizeof(h));
	put(a, la);
	put(b, lb);
	send(xs_port);
	do {
		get(&r, sizeof(r));
		guest_assert(r.len <= XENSTORE_PAYLOAD_MAX);
		get(buf, r.len);
		buf[r.len] = 0;
	} while (r.type == XS_WATCH_EVENT);
	return r.type;
}

static const char *xs_read(const char *path)
{
	expect_eq(xs_req(XS_READ, path, NULL), XS_READ);
	return buf;
}

static void xs_write(const char *path, const char *val)
{
	expect_eq(xs_req(XS_WRITE, path, val), XS_WRITE);
}

static unsigned long xs_number(const char *path)
{
	const char *s = xs_read(path);
	unsigned long v = 0;

	for (; *s >= '0' && *s <= '9'; s++)
		v = v * 10 + (unsigned long)(*s - '0');
	return v;
}

/* ---- grants ---- */

static void grant_setup(void)
{
	uint64_t frame = 0;
	struct gnttab_setup_table st = { DOMID_SELF, 0, 1, 0, { 0 }, (uint64_t)&frame };
	void *va = rt_alloc_page();

	expect_eq(hypercall(XEN_HC_grant_table_op, GNTTABOP_setup_table, &st, 1), 0);
	expect_eq(st.status, GNTST_okay);
	expect_eq(HYPERVISOR_update_va_mapping((uint64_t)va, pte(frame, PTE_DATA), UVMF_INVLPG), 0);
	gt = va;
}

static void grant(unsigned ref, const volatile void *page, uint16_t flags)
{
	gt[ref].domid = 0; /* the backend's domain: device/vbd/.../backend-id */
	gt[ref].frame = (uint32_t)virt_to_mfn(page);
	__atomic_thread_fence(__ATOMIC_RELEASE);
	gt[ref].flags = flags;
}

/* ---- the ring ---- */

/* One request of one segment; waits for its response on the port. */
static int16_t blk(uint8_t op, uint8_t nseg, uint64_t sector, uint32_t gref, uint8_t first,
		   uint8_t last)
{
	uint32_t slot = sring->req_prod, p = port;
	volatile struct blkif_request *r = &sring->ring[slot % BLKIF_RING_SIZE].req;
	struct sched_poll poll = { (uint64_t)&p, 1, 0, 0 };
	struct blkif_response rsp;

	r->operation = op, r->nr_segments = nseg, r->handle = 51712, r->id = ++req_id;
	r->sector_number = sector;
	for (unsigned i = 0; i < BLKIF_MAX_SEGMENTS_PER_REQUEST; i++)
		r->seg[i] = (struct blkif_request_segment){ gref, first, last, { 0, 0 } };
	__atomic_thread_fence(__ATOMIC_RELEASE);
	sring->req_prod = slot + 1;
	send(port);
	while (sring->rsp_prod == slot) /* the backend serves while we wait */
		expect_eq(HYPERVISOR_sched_op(SCHEDOP_poll, &poll), 0);
	shared->evtchn_pending[port / 64] &= ~(1ull << (port % 64));
	sring->rsp_event = slot + 2;
	memcpy(&rsp, (const void *)&sring->ring[slot % BLKIF_RING_SIZE].rsp, sizeof(rsp));
	expect_eq(rsp.id, req_id);
	expect_eq(rsp.operation, op);
	return rsp.status;
}

static const char *backend;
static char be_path[128], key[192];

static const char *be(const char *k)
{
	snprintf(key, sizeof(key), "%s/%s", be_path, k);
	return key;
}

static void handshake(void)
{
	struct evtchn_alloc_unbound un = { DOMID_SELF, 0, 0 };
	char v[16];

	backend = xs_read(DEV "/backend");
	snprintf(be_path, sizeof(be_path), "%s", backend);
	expect_eq(xs_number(DEV "/backend-id"), 0);
	expect_eq(xs_number(be(("state"))), XenbusStateInitWait);
	sring = rt_alloc_page();
	sring->req_event = sring->rsp_event = 1; /* SHARED_RING_INIT */
	grant(REF_RING, sring, GTF_permit_access);
	expect_eq(HYPERVISOR_event_channel_op(EVTCHNOP_alloc_unbound, &un), 0);
	port = un.port;
	snprintf(v, sizeof(v), "%u", REF_RING);
	xs_write(DEV "/ring-ref", v);
	snprintf(v, sizeof(v), "%u", port);
	xs_write(DEV "/event-channel", v);
	xs_write(DEV "/protocol", "x86_64-abi");
	xs_write(DEV "/state", "3");
	expect_eq(xs_number(be("state")), XenbusStateConnected);
}

static int all(const uint8_t *p, size_t n, uint8_t v)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] != v)
			return 0;
	return 1;
}

int guest_main(struct start_info *si)
{
	const char *cmd = (const char *)si->cmd_line;
	int ro = !strcmp(cmd, "ro");
	unsigned long sectors;
	char first[64];
	int16_t bad_grant, ro_grant, beyond, too_many, barrier;

	xs = (volatile struct xenstore_domain_interface *)(VIRT_BASE + si->store_mfn * 4096);
	xs_port = si->store_evtchn;
	shared = rt_map_shared_info();
	grant_setup();
	data = rt_alloc_page();
	ro_page = rt_alloc_page();
	grant(REF_DATA, data, GTF_permit_access);
	grant(REF_RO, ro_page, GTF_permit_access | GTF_readonly);

	handshake();
	sectors = xs_number(be("sectors"));
	snprintf(first, sizeof(first), "%s", xs_read(be("mode")));
	printf("blkfront: %s: %lu sectors of %lu bytes, info %lu, mode %s\n", be_path, sectors,
	       xs_number(be("sector-size")), xs_number(be("info")), first);
	printf("blkfront: connected: ring-ref %u, port %u, backend state %lu\n", REF_RING, port,
	       xs_number(be("state")));

	expect_eq(blk(BLKIF_OP_READ, 1, 0, REF_DATA, 0, 0), BLKIF_RSP_OKAY);
	for (int i = 0; i < 63 && data[i] >= ' ' && data[i] < 127; i++)
		first[i] = (char)data[i], first[i + 1] = 0;
	printf("blkfront: sector 0: '%s'\n", first);

	memset(data + 512, 0xc3, 512);
	if (ro) {
		expect_eq(blk(BLKIF_OP_WRITE, 1, 1, REF_DATA, 1, 1), BLKIF_RSP_ERROR);
		printf("blkfront: read-only disk: the write of sector 1 was refused\n");
	} else {
		expect_eq(blk(BLKIF_OP_WRITE, 1, 1, REF_DATA, 1, 1), BLKIF_RSP_OKAY);
		expect_eq(blk(BLKIF_OP_FLUSH_DISKCACHE, 0, 0, 0, 0, 0), BLKIF_RSP_OKAY);
		memset(data, 0, 4096);
		expect_eq(blk(BLKIF_OP_READ, 1, 1, REF_DATA, 3, 3), BLKIF_RSP_OKAY);
		guest_assert(all(data + 3 * 512, 512, 0xc3) && all(data, 3 * 512, 0));
		printf("blkfront: sector 1 written, flushed and read back\n");
	}
	bad_grant = blk(BLKIF_OP_READ, 1, 0, 4000000, 0, 0);
	ro_grant = blk(BLKIF_OP_READ, 1, 0, REF_RO, 0, 0);
	beyond = blk(BLKIF_OP_READ, 1, sectors, REF_DATA, 0, 0);
	too_many = blk(BLKIF_OP_READ, 12, 0, REF_DATA, 0, 0);
	barrier = blk(BLKIF_OP_WRITE_BARRIER, 0, 0, 0, 0, 0);
	printf("blkfront: bad grant %d, read-only grant %d, beyond the disk %d, 12 segments %d, "
	       "barrier %d\n", bad_grant, ro_grant, beyond, too_many, barrier);
	expect_eq(bad_grant, BLKIF_RSP_ERROR);
	expect_eq(ro_grant, BLKIF_RSP_ERROR);
	expect_eq(beyond, BLKIF_RSP_ERROR);
	expect_eq(too_many, BLKIF_RSP_ERROR);
	expect_eq(barrier, BLKIF_RSP_EOPNOTSUPP);
	expect_eq(blk(BLKIF_OP_READ, 1, sectors - 1, REF_DATA, 7, 7), BLKIF_RSP_OKAY);

	xs_write(DEV "/state", "5");
	expect_eq(xs_number(be("state")), XenbusStateClosing);
	xs_write(DEV "/state", "6");
	expect_eq(xs_number(be("state")), XenbusStateClosed);
	expect_eq(gt[REF_RING].flags, GTF_permit_access); /* the backend let go of the ring */
	printf("blkfront: closed: backend state %lu\n", xs_number(be("state")));
	return 0;
}
