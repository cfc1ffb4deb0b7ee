/* check_netback.c - the vif's backend (vmm/backends/netback.c) on a fixture
 * domain whose netfront is played here: its rings and buffers granted to
 * domain 0, its keys written through the xenstore ring, its requests put in
 * the rings and its EVTCHNOP_send made as a hypercall. Packets move both
 * ways; hostile requests (bad grants, impossible sizes, too many slots,
 * indices out of step, a flood) get errors, dropped packets or a stopped
 * vif, and the domain runs on. */
#include <check.h>
#include <stdio.h>
#include <string.h>

#include "fixture.h"
#include "hypercalls/hc.h"
#include "mmu/mmu.h"
#include "vmm/backends/netback.h"
#include "vmm/backends/xenstore.h"

#define FE "/local/domain/1/device/vif/0"
#define BE "/local/domain/0/backend/vif/1/0"
#define TX_REF 9
#define RX_REF 10
#define BUF_REF 11 /* buffers: refs 11.. on frames data+2.. */
#define NBUF 24

static struct vm *vm;
static struct be_net *nb;
static uint64_t arg, data;
static uint32_t port;
static uint8_t got[70000];
static size_t got_len;
static unsigned got_n;

static int discard(void *ctx, const struct stub_op *op)
{
	(void)ctx, (void)op;
	return 0;
}

static void host_tx(void *ctx, const uint8_t *f, size_t len)
{
	(void)ctx;
	memcpy(got, f, len);
	got_len = len;
	got_n++;
}

static void *at(uint64_t gva) { return vm->mem + (gva - vm->lay.v_start); }
static uint8_t *frame(uint64_t pfn) { return mmu_frame_data(vm, pfn); }
static struct netif_tx_sring *txr(void) { return (struct netif_tx_sring *)frame(data); }
static struct netif_rx_sring *rxr(void) { return (struct netif_rx_sring *)frame(data + 1); }
static uint8_t *buf(unsigned i) { return frame(data + 2 + i); }

static int64_t hcall(unsigned nr, uint64_t a0, const void *req, size_t len)
{
	struct stub_regs *r = &vm->vcpu.regs;

	if (len) /* memcpy from NULL is undefined even for no bytes */
		memcpy(at(arg), req, len);
	memset(r, 0, sizeof(*r));
	r->rax = nr, r->rdi = a0, r->rsi = arg, r->rdx = 1;
	hc_dispatch(vm);
	return (int64_t)r->rax;
}

static struct grant_entry_v1 *e1(uint32_t ref)
{
	return (struct grant_entry_v1 *)mmu_frame_data(vm, mmu_grant_frame(vm, 0)) + ref;
}

static void put(const void *p, size_t n)
{
	struct xenstore_domain_interface *r = (void *)(vm->mem + vm->lay.store_pfn * 4096);

	for (size_t i = 0; i < n; i++)
		r->req[r->req_prod++ % XENSTORE_RING_SIZE] = ((const char *)p)[i];
}

static void gwrite(const char *path, const char *val)
{
	struct xenstore_domain_interface *r = (void *)(vm->mem + vm->lay.store_pfn * 4096);
	struct xsd_sockmsg h = { XS_WRITE, 1, 0, (uint32_t)(strlen(path) + 1 + strlen(val)) };

	put(&h, sizeof(h));
	put(path, strlen(path) + 1);
	put(val, strlen(val));
	xs_notify(vm);
	r->rsp_cons = r->rsp_prod;
}

static const char *rd(const char *path)
{
	static char v[256];
	long n = xs_read(vm, path, v, sizeof(v) - 1);

	v[n < 0 ? 0 : n] = 0;
	return n < 0 ? "(none)" : v;
}

/* EVTCHNOP_send, then SCHEDOP_yield: a backend in dom0 runs beside the
 * guest, so pvmm's serves the ring when the guest lets it. */
static void kick(void)
{
	ck_assert_int_eq(hcall(XEN_HC_event_channel_op, EVTCHNOP_send, &port, sizeof(port)), 0);
	ck_assert_int_eq(hcall(XEN_HC_sched_op, SCHEDOP_yield, NULL, 0), 0);
}

static void setup(void)
{
	struct be_net_host host = { host_tx, NULL };
	const uint8_t mac[6] = { 0x00, 0x16, 0x3e, 0x00, 0x00, 0x01 };
	struct evtchn_alloc_unbound a = { DOMID_SELF, 0, 0 };
	char why[200], v[16];

	vm = fixture_vm();
	vm->mmu.emit = discard;
	arg = vm->lay.start_info_va + 2048;
	data = vm->lay.first_free_pfn;
	got_len = got_n = 0;
	ck_assert_int_eq(xs_init(vm, "fixture"), 0);
	nb = be_net_add(vm, 0, mac, &host, why, sizeof(why));
	ck_assert_msg(nb != NULL, "%s", why);
	memset(frame(data), 0, 4096);
	memset(frame(data + 1), 0, 4096);
	txr()->h.req_event = txr()->h.rsp_event = rxr()->h.req_event = rxr()->h.rsp_event = 1;
	*e1(TX_REF) = (struct grant_entry_v1){ GTF_permit_access, 0, (uint32_t)data };
	*e1(RX_REF) = (struct grant_entry_v1){ GTF_permit_access, 0, (uint32_t)data + 1 };
	for (unsigned i = 0; i < NBUF; i++)
		*e1(BUF_REF + i) = (struct grant_entry_v1){ GTF_permit_access, 0, (uint32_t)(data + 2 + i) };
	ck_assert_int_eq(hcall(XEN_HC_event_channel_op, EVTCHNOP_alloc_unbound, &a, sizeof(a)), 0);
	port = ((struct evtchn_alloc_unbound *)at(arg))->port;
	snprintf(v, sizeof(v), "%u", port);
	gwrite(FE "/tx-ring-ref", "9");
	gwrite(FE "/rx-ring-ref", "10");
	gwrite(FE "/event-channel", v);
	gwrite(FE "/request-rx-copy", "1");
	gwrite(FE "/state", "4");
	ck_assert_str_eq(rd(BE "/state"), "4");
}

static void teardown(void)
{
	char why[400];

	ck_assert_int_eq(vm->end, VM_RUNNING); /* whatever the guest did */
	gwrite(FE "/state", "6"); /* grants released */
	ck_assert_msg(mmu_check_counts(vm, why, sizeof(why)) == 0, "%s", why);
	xs_free(vm);
	be_net_free(nb);
	fixture_free(vm);
}

/* A transmit request at the ring's producer index. */
static void txreq(uint32_t gref, uint16_t off, uint16_t flags, uint16_t id, uint16_t size)
{
	struct netif_tx_sring *r = txr();

	r->ring[r->h.req_prod % NETIF_RING_SIZE].req = (struct netif_tx_request){ gref, off, flags, id, size };
	r->h.req_prod++;
}

static int16_t txrsp(uint32_t i) { return txr()->ring[i % NETIF_RING_SIZE].rsp.status; }

static int pending(void)
{
	return (int)(((struct shared_info *)mmu_frame_data(vm, vm->lay.shared_info_pfn))->evtchn_pending[port / 64] >>
		     (port % 64) & 1);
}

START_TEST(announced_as_xens_vif)
{
	ck_assert_str_eq(rd(FE "/mac"), "00:16:3e:00:00:01");
	ck_assert_str_eq(rd(BE "/mac"), "00:16:3e:00:00:01");
	ck_assert_str_eq(rd(FE "/handle"), "0");
	ck_assert_str_eq(rd(BE "/feature-rx-copy"), "1");
	ck_assert_str_eq(rd(BE "/frontend"), FE);
}
END_TEST

START_TEST(packets_both_ways)
{
	struct be_net_stats st;

	for (int i = 0; i < 60; i++)
		buf(0)[100 + i] = (uint8_t)i;
	txreq(BUF_REF, 100, 0, 7, 60);
	kick();
	ck_assert_uint_eq(got_n, 1);
	ck_assert_uint_eq(got_len, 60);
	ck_assert_int_eq(memcmp(got, buf(0) + 100, 60), 0);
	ck_assert_uint_eq(txr()->h.rsp_prod, 1);
	ck_assert_uint_eq(txr()->ring[0].rsp.id, 7);
	ck_assert_int_eq(txrsp(0), NETIF_RSP_OKAY);
	ck_assert_int_eq(pending(), 1);
	/* two slots: the first holds what the second does not */
	memset(buf(1), 'a', 4096), memset(buf(2), 'b', 4096);
	txreq(BUF_REF + 1, 0, NETTXF_more_data, 8, 100);
	txreq(BUF_REF + 2, 4000, 0, 9, 40);
	kick();
	ck_assert_uint_eq(got_n, 2);
	ck_assert_uint_eq(got_len, 100);
	ck_assert(got[59] == 'a' && got[60] == 'b' && got[99] == 'b');
	ck_assert_int_eq(txrsp(1), NETIF_RSP_OKAY);
	ck_assert_int_eq(txrsp(2), NETIF_RSP_OKAY);
	/* receive: queued until the guest posts a buffer */
	uint8_t f[80];
	memset(f, 0x5a, sizeof(f));
	ck_assert_int_eq(be_net_rx(nb, f, sizeof(f)), 1);
	ck_assert_uint_eq(rxr()->h.rsp_prod, 0);
	rxr()->ring[0].req = (struct netif_rx_request){ 3, 0, BUF_REF + 5 };
	rxr()->h.req_prod = 1;
	kick();
	ck_assert_uint_eq(rxr()->h.rsp_prod, 1);
	ck_assert_uint_eq(rxr()->ring[0].rsp.id, 3);
	ck_assert_int_eq(rxr()->ring[0].rsp.status, 80);
	ck_assert_int_eq(memcmp(buf(5), f, 80), 0);
	ck_assert_uint_eq(e1(BUF_REF + 5)->flags, GTF_permit_access); /* released after the copy */
	be_net_stats(nb, &st);
	ck_assert_uint_eq(st.tx_packets, 2);
	ck_assert_uint_eq(st.rx_packets, 1);
}
END_TEST

START_TEST(bad_grants_and_sizes_drop_the_packet)
{
	struct be_net_stats st;

	txreq(999999, 0, 0, 1, 60);                   /* no such grant */
	txreq(BUF_REF, 0, 0, 2, 10);                  /* smaller than an Ethernet header */
	txreq(BUF_REF, 0, NETTXF_more_data, 3, 20);   /* fragments larger than the packet */
	txreq(BUF_REF + 1, 0, 0, 4, 100);
	e1(BUF_REF + 2)->domid = 1;                   /* granted to itself, not domain 0 */
	txreq(BUF_REF + 2, 0, 0, 5, 60);
	txreq(BUF_REF, 0, 0, 6, 60);                  /* and a good one after them */
	kick();
	ck_assert_uint_eq(txr()->h.rsp_prod, 6);
	for (int i = 0; i < 5; i++)
		ck_assert_int_eq(txrsp((uint32_t)i), NETIF_RSP_ERROR);
	ck_assert_int_eq(txrsp(5), NETIF_RSP_OKAY);
	ck_assert_uint_eq(got_n, 1);
	be_net_stats(nb, &st);
	ck_assert_uint_eq(st.tx_dropped, 4);
	ck_assert_int_eq(st.broken, 0);
	/* a receive buffer that is no grant: that frame is lost, the next is not */
	uint8_t f[60] = { 1 };
	rxr()->ring[0].req = (struct netif_rx_request){ 1, 0, 5000 };
	rxr()->ring[1].req = (struct netif_rx_request){ 2, 0, BUF_REF + 3 };
	rxr()->h.req_prod = 2;
	be_net_rx(nb, f, sizeof(f));
	be_net_rx(nb, f, sizeof(f));
	ck_assert_int_eq(rxr()->ring[0].rsp.status, NETIF_RSP_ERROR);
	ck_assert_int_eq(rxr()->ring[1].rsp.status, 60);
	/* nor is a frame larger than a page taken */
	static uint8_t big[5000];
	ck_assert_int_eq(be_net_rx(nb, big, sizeof(big)), 0);
}
END_TEST

START_TEST(slot_limits)
{
	struct be_net_stats st;

	/* 19 data slots: dropped, each slot answered */
	for (int i = 0; i < 19; i++)
		txreq(BUF_REF, 0, i < 18 ? NETTXF_more_data : 0, (uint16_t)i, i ? 10 : 1000);
	kick();
	ck_assert_uint_eq(txr()->h.rsp_prod, 19);
	for (int i = 0; i < 19; i++)
		ck_assert_int_eq(txrsp((uint32_t)i), NETIF_RSP_ERROR);
	ck_assert_uint_eq(got_n, 0);
	/* 18 are a packet */
	for (int i = 0; i < 18; i++)
		txreq(BUF_REF, 0, i < 17 ? NETTXF_more_data : 0, (uint16_t)i, i ? 10 : 1000);
	kick();
	ck_assert_uint_eq(got_n, 1);
	ck_assert_uint_eq(got_len, 1000);
	/* 21: the vif stops, nothing more is served, the domain runs on */
	for (int i = 0; i < 21; i++)
		txreq(BUF_REF, 0, NETTXF_more_data, (uint16_t)i, 10);
	kick();
	be_net_stats(nb, &st);
	ck_assert_int_eq(st.broken, 1);
	ck_assert_uint_eq(txr()->h.rsp_prod, 37);
	ck_assert_int_eq(be_net_rx(nb, (const uint8_t *)"0123456789abcdef", 16), 0);
}
END_TEST

START_TEST(fatal_rings)
{
	struct be_net_stats st;

	txreq(BUF_REF, 4000, 0, 1, 200); /* crossing its page */
	kick();
	be_net_stats(nb, &st);
	ck_assert_int_eq(st.broken, 1);
	ck_assert_uint_eq(got_n, 0);
	ck_assert_uint_eq(txr()->h.rsp_prod, 0);
}
END_TEST

START_TEST(indices_out_of_step)
{
	struct be_net_stats st;

	txr()->h.req_prod = 0x80000000u;
	kick();
	be_net_stats(nb, &st);
	ck_assert_int_eq(st.broken, 1);
	ck_assert_uint_eq(got_n, 0);
}
END_TEST

START_TEST(a_packet_past_the_requests_produced)
{
	struct be_net_stats st;

	txreq(BUF_REF, 0, NETTXF_more_data, 1, 100);
	kick();
	be_net_stats(nb, &st);
	ck_assert_int_eq(st.broken, 1);
}
END_TEST

START_TEST(flood)
{
	struct be_net_stats st;

	for (int round = 0; round < 4; round++) {
		for (int i = 0; i < NETIF_RING_SIZE; i++)
			txreq(BUF_REF + (unsigned)i % NBUF, 0, 0, (uint16_t)i, 60);
		kick();
	}
	be_net_stats(nb, &st);
	ck_assert_uint_eq(st.tx_packets, 4 * NETIF_RING_SIZE);
	ck_assert_uint_eq(txr()->h.rsp_prod, 4 * NETIF_RING_SIZE);
	/* the host floods the guest: queued up to NB_RX_QUEUE, then dropped */
	uint8_t f[60] = { 0 };
	for (int i = 0; i < NB_RX_QUEUE + 10; i++)
		be_net_rx(nb, f, sizeof(f));
	be_net_stats(nb, &st);
	ck_assert_uint_eq(st.rx_dropped, 10);
}
END_TEST

START_TEST(checksum_filled)
{
	uint8_t f[14 + 20 + 8 + 5] = { 0 };
	uint32_t s = 0;

	f[12] = 0x08, f[14] = 0x45, f[17] = 20 + 8 + 5, f[23] = 17;
	f[26] = 10, f[29] = 15, f[30] = 10, f[33] = 2;
	f[34 + 5] = 13, memcpy(f + 42, "hello", 5);
	ck_assert_int_eq(nb_csum_fill(f, sizeof(f)), 0);
	/* the pseudo-header and the datagram with its checksum sum to 0xffff */
	for (int i = 26; i < 34; i += 2)
		s += (uint32_t)f[i] << 8 | f[i + 1];
	s += 17 + 13;
	for (int i = 34; i < 47; i += 2)
		s += (uint32_t)f[i] << 8 | (i + 1 < 47 ? f[i + 1] : 0);
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	ck_assert_uint_eq(s, 0xffff);
	f[12] = 0x86; /* not IPv4 */
	ck_assert_int_eq(nb_csum_fill(f, sizeof(f)), -1);
}
END_TEST

Suite *netback_suite(void);
Suite *netback_suite(void)
{
	Suite *s = suite_create("netback");
	TCase *tc = tcase_create("rings");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, announced_as_xens_vif);
	tcase_add_test(tc, packets_both_ways);
	tcase_add_test(tc, bad_grants_and_sizes_drop_the_packet);
	tcase_add_test(tc, slot_limits);
	tcase_add_test(tc, fatal_rings);
	tcase_add_test(tc, indices_out_of_step);
	tcase_add_test(tc, a_packet_past_the_requests_produced);
	tcase_add_test(tc, flood);
	tcase_add_test(tc, checksum_filled);
	suite_add_tcase(s, tc);
	return s;
}
