/* net: a PV network frontend and a minimal IP stack. The guest finds vif 0
 * in the xenstore, grants its two rings and its buffers to domain 0,
 * connects as Linux's netfront does (tx-ring-ref, rx-ring-ref,
 * event-channel, request-rx-copy, state Connected), then gets an address
 * by DHCP, answers ARP, resolves the gateway and, with "peer=PORT" on its
 * command line, sends one UDP datagram to the host (10.0.2.2:PORT) and
 * echoes every datagram that reaches its UDP port 7 until one says "quit",
 * and what any TCP connection to its port 7 sends (one at a time: a
 * minimal responder, no retransmission, which slirp on the other side of
 * a lossless ring does not need).
 * It waits with SCHEDOP_poll on its masked port, as a PV kernel's idle
 * loop without upcalls would. */
#include "rt.h"

#define NRX 16          /* receive buffers posted */
#define RING NETIF_RING_SIZE
#define ECHO_PORT 7

static struct shared_info *shared;
static volatile struct xenstore_domain_interface *xs;
static uint32_t xs_port, vif_port, req_id;
static volatile struct grant_entry_v1 *gnt;
static volatile struct netif_tx_sring *tx;
static volatile struct netif_rx_sring *rx;
static uint32_t tx_prod, tx_cons, rx_prod, rx_cons;
static uint8_t *txbuf, *rxbuf[NRX];
static uint8_t mac[6], gw_mac[6], have_gw;
static uint8_t my_ip[4], gw_ip[4] = { 10, 0, 2, 2 }, server_ip[4];
static const uint8_t bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
static unsigned echoed, received;

/* ---- events ------------------------------------------------------------------ */

static void notify(uint32_t port)
{
	expect_eq(HYPERVISOR_event_channel_op(EVTCHNOP_send, &port), 0);
}

static void mask(uint32_t port)
{
	shared->evtchn_mask[port / 64] |= 1ull << (port % 64);
}

/* Clear what wakes a poll: the port's pending bit and the upcall flags
 * (no upcalls here: every port is masked or unused). */
static void clear_pending(void)
{
	__atomic_and_fetch(&shared->evtchn_pending[vif_port / 64], ~(1ull << (vif_port % 64)),
			   __ATOMIC_SEQ_CST);
	shared->vcpu_info[0].evtchn_upcall_pending = 0;
	shared->vcpu_info[0].evtchn_pending_sel = 0;
}

static void wait_vif(void)
{
	uint32_t p = vif_port;
	struct sched_poll sp = { (uint64_t)&p, 1, 0, 0 };

	expect_eq(HYPERVISOR_sched_op(SCHEDOP_poll, &sp), 0);
}

/* ---- the xenstore: one request at a time, served while we wait ---------- */

static void xs_put(const void *p, size_t n)
{
	const char *c = p;

	for (; n; n--) {
		while (xs->req_prod - xs->req_cons == XENSTORE_RING_SIZE)
			notify(xs_port);
		xs->req[xs->req_prod % XENSTORE_RING_SIZE] = *c++;
		__atomic_add_fetch(&xs->req_prod, 1, __ATOMIC_SEQ_CST);
	}
}

static void xs_get(void *p, size_t n)
{
	char *c = p;

	for (; n; n--) {
		while (xs->rsp_cons == xs->rsp_prod)
			notify(xs_port);
		*c++ = xs->rsp[xs->rsp_cons % XENSTORE_RING_SIZE];
		__atomic_add_fetch(&xs->rsp_cons, 1, __ATOMIC_SEQ_CST);
	}
}

static char xsbuf[XENSTORE_PAYLOAD_MAX + 1];

/* XS_READ or XS_WRITE of (path) [= val]: the reply's type, payload in xsbuf. */
static uint32_t xs_request(uint32_t type, const char *path, const char *val)
{
	size_t lp = strlen(path) + 1, lv = val ? strlen(val) : 0;
	struct xsd_sockmsg h = { type, ++req_id, 0, (uint32_t)(lp + lv) }, r;

	xs_put(&h, sizeof(h));
	xs_put(path, lp);
	xs_put(val, lv);
	notify(xs_port);
	do {
		xs_get(&r, sizeof(r));
		guest_assert(r.len <= XENSTORE_PAYLOAD_MAX);
		xs_get(xsbuf, r.len);
		xsbuf[r.len] = 0;
	} while (r.type == XS_WATCH_EVENT);
	expect_eq(r.req_id, h.req_id);
	return r.type;
}

static const char *xs_read(const char *path)
{
	return xs_request(XS_READ, path, NULL) == XS_READ ? xsbuf : NULL;
}

static void xs_write(const char *path, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void xs_write(const char *path, const char *fmt, ...)
{
	char val[64];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(val, sizeof(val), fmt, ap);
	va_end(ap);
	if (xs_request(XS_WRITE, path, val) != XS_WRITE) {
		printf("net: writing %s: %s\n", path, xsbuf);
		guest_assert(0);
	}
}

/* ---- grants -------------------------------------------------------------------- */

static void map_grant_table(void)
{
	uint64_t frame = 0;
	struct gnttab_setup_table st = { DOMID_SELF, 0, 1, 0, { 0 }, (uint64_t)&frame };
	void *va = rt_alloc_page();

	expect_eq(hypercall(XEN_HC_grant_table_op, GNTTABOP_setup_table, &st, 1), 0);
	expect_eq(st.status, GNTST_okay);
	expect_eq(HYPERVISOR_update_va_mapping((uint64_t)va, pte(frame, PTE_DATA), UVMF_INVLPG), 0);
	gnt = va;
}

/* Grant (page) to domain 0 as entry (ref); returns ref. */
static uint32_t grant(uint32_t ref, const volatile void *page, int ro)
{
	gnt[ref].domid = 0;
	gnt[ref].frame = (uint32_t)virt_to_mfn(page);
	__atomic_store_n(&gnt[ref].flags, GTF_permit_access | (ro ? GTF_readonly : 0), __ATOMIC_RELEASE);
	return ref;
}

/* ---- the vif ------------------------------------------------------------------------ */

static void post_rx(uint16_t id)
{
	volatile struct netif_rx_request *r = &rx->ring[rx_prod % RING].req;
	uint32_t old = rx_prod;

	r->id = id;
	r->gref = GNTTAB_NR_RESERVED_ENTRIES + 2 + id;
	rx_prod++;
	__atomic_store_n(&rx->h.req_prod, rx_prod, __ATOMIC_SEQ_CST);
	if ((uint32_t)(rx_prod - rx->h.req_event) < (uint32_t)(rx_prod - old))
		notify(vif_port); /* RING_PUSH_REQUESTS_AND_CHECK_NOTIFY */
}

static int parse_mac(const char *s)
{
	for (int i = 0; i < 6; i++, s += 3) {
		unsigned v = 0;
		for (int k = 0; k < 2; k++) {
			char c = s[k];
			v = v * 16 + (unsigned)(c >= 'a' ? c - 'a' + 10 : c >= 'A' ? c - 'A' + 10 : c - '0');
		}
		mac[i] = (uint8_t)v;
		if (i < 5 && s[2] != ':')
			return -1;
	}
	return 0;
}

static void connect(void)
{
	struct evtchn_alloc_unbound un = { DOMID_SELF, 0, 0 };
	const char *v;

	if (!(v = xs_read("device/vif/0/backend-id"))) {
		printf("net: no vif 0 in the xenstore (run with --net=user)\n");
		rt_finish(1);
	}
	guest_assert(!strcmp(v, "0"));
	guest_assert((v = xs_read("device/vif/0/mac")) && !parse_mac(v));
	guest_assert((v = xs_read("device/vif/0/backend")) != NULL);
	char be[96], dir[80];
	snprintf(dir, sizeof(dir), "%s", v);
	snprintf(be, sizeof(be), "%s/feature-rx-copy", dir);
	guest_assert((v = xs_read(be)) && !strcmp(v, "1"));

	map_grant_table();
	tx = rt_alloc_page(), rx = rt_alloc_page(), txbuf = rt_alloc_page();
	tx->h.req_event = tx->h.rsp_event = 1; /* SHARED_RING_INIT */
	rx->h.req_event = rx->h.rsp_event = 1;
	grant(GNTTAB_NR_RESERVED_ENTRIES, tx, 0);
	grant(GNTTAB_NR_RESERVED_ENTRIES + 1, rx, 0);
	for (int i = 0; i < NRX; i++)
		grant(GNTTAB_NR_RESERVED_ENTRIES + 2 + i, rxbuf[i] = rt_alloc_page(), 0);
	grant(GNTTAB_NR_RESERVED_ENTRIES + 2 + NRX, txbuf, 1);
	expect_eq(HYPERVISOR_event_channel_op(EVTCHNOP_alloc_unbound, &un), 0);
	vif_port = un.port;
	mask(vif_port);

	xs_write("device/vif/0/tx-ring-ref", "%u", GNTTAB_NR_RESERVED_ENTRIES);
	xs_write("device/vif/0/rx-ring-ref", "%u", GNTTAB_NR_RESERVED_ENTRIES + 1);
	xs_write("device/vif/0/event-channel", "%u", vif_port);
	xs_write("device/vif/0/request-rx-copy", "1");
	xs_write("device/vif/0/state", "%d", XenbusStateConnected);
	snprintf(be, sizeof(be), "%s/state", dir);
	guest_assert((v = xs_read(be)) != NULL);
	if (strcmp(v, "4")) {
		snprintf(be, sizeof(be), "%s/error", dir);
		printf("net: the backend is in state %s, not Connected: %s\n", xsbuf,
		       xs_read(be) ? xsbuf : "(no error)");
		guest_assert(0);
	}
	for (uint16_t i = 0; i < NRX; i++)
		post_rx(i);
	printf("net: vif 0 connected, mac %02x:%02x:%02x:%02x:%02x:%02x\n", mac[0], mac[1], mac[2],
	       mac[3], mac[4], mac[5]);
}

/* Send one frame (its bytes already in txbuf) and take its response. */
static void send(size_t len)
{
	volatile struct netif_tx_request *r = &tx->ring[tx_prod % RING].req;
	uint32_t old = tx_prod;

	r->gref = GNTTAB_NR_RESERVED_ENTRIES + 2 + NRX;
	r->offset = 0;
	r->flags = 0;
	r->id = (uint16_t)tx_prod;
	r->size = (uint16_t)len;
	tx_prod++;
	__atomic_store_n(&tx->h.req_prod, tx_prod, __ATOMIC_SEQ_CST);
	if ((uint32_t)(tx_prod - tx->h.req_event) < (uint32_t)(tx_prod - old))
		notify(vif_port);
	while (tx_cons == __atomic_load_n(&tx->h.rsp_prod, __ATOMIC_ACQUIRE)) {
		tx->h.rsp_event = tx_cons + 1;
		wait_vif();
	}
	volatile struct netif_tx_response *rsp = &tx->ring[tx_cons % RING].rsp;
	expect_eq(rsp->id, (uint16_t)old);
	expect_eq(rsp->status, NETIF_RSP_OKAY);
	tx_cons++;
}

/* ---- the IP stack ------------------------------------------------------------ */

static void put16(uint8_t *p, unsigned v) { p[0] = (uint8_t)(v >> 8), p[1] = (uint8_t)v; }
static unsigned get16(const uint8_t *p) { return (unsigned)p[0] << 8 | p[1]; }

static uint16_t csum(const uint8_t *b, size_t n, uint32_t s)
{
	for (size_t i = 0; i + 1 < n; i += 2)
		s += (uint32_t)b[i] << 8 | b[i + 1];
	if (n & 1)
		s += (uint32_t)b[n - 1] << 8;
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)~s;
}

static size_t eth(uint8_t *f, const uint8_t *dst, unsigned type)
{
	memcpy(f, dst, 6);
	memcpy(f + 6, mac, 6);
	put16(f + 12, type);
	return 14;
}

static void arp_send(unsigned op, const uint8_t *tha, const uint8_t *tpa)
{
	uint8_t *f = txbuf, *a = f + eth(f, op == 1 ? bcast : tha, 0x0806);

	put16(a, 1), put16(a + 2, 0x0800), a[4] = 6, a[5] = 4, put16(a + 6, op);
	memcpy(a + 8, mac, 6), memcpy(a + 14, my_ip, 4);
	memcpy(a + 18, op == 1 ? (const uint8_t *)"\0\0\0\0\0\0" : tha, 6), memcpy(a + 24, tpa, 4);
	send(14 + 28 + 18); /* padded to Ethernet's minimum */
}

/* The transport header and data of the packet being built: after the
 * Ethernet and IPv4 headers in txbuf. */
#define L4 (txbuf + 14 + 20)

/* An IPv4 packet of protocol (proto) whose (n) bytes the caller wrote at
 * L4, with its pseudo-header checksum at L4 + (csum_at). */
static void ip_send(const uint8_t *dmac, const uint8_t *sip, const uint8_t *dip, unsigned proto,
		    size_t n, size_t csum_at)
{
	uint8_t *f = txbuf, *ip = f + eth(f, dmac, 0x0800);
	uint8_t pseudo[12];

	memset(ip, 0, 20);
	ip[0] = 0x45, put16(ip + 2, 20 + n), ip[8] = 64, ip[9] = (uint8_t)proto;
	memcpy(ip + 12, sip, 4), memcpy(ip + 16, dip, 4);
	put16(ip + 10, csum(ip, 20, 0));
	memcpy(pseudo, sip, 4), memcpy(pseudo + 4, dip, 4), pseudo[8] = 0, pseudo[9] = (uint8_t)proto;
	put16(pseudo + 10, n);
	put16(L4 + csum_at, 0);
	uint16_t c = csum(L4, n, (uint16_t)~csum(pseudo, 12, 0));
	put16(L4 + csum_at, c || proto != 17 ? c : 0xffff); /* UDP: 0 means none */
	if (14 + 20 + n < 60)
		memset(L4 + n, 0, 60 - 14 - 20 - n); /* the padding: not the last frame's bytes */
	send(14 + 20 + n < 60 ? 60 : 14 + 20 + n);
}

/* A UDP datagram of (n) bytes at (data) from our (sport) to (dip:dport). */
static void udp_send(const uint8_t *dmac, const uint8_t *sip, const uint8_t *dip, unsigned sport,
		     unsigned dport, const void *data, size_t n)
{
	uint8_t *u = L4;

	put16(u, sport), put16(u + 2, dport), put16(u + 4, 8 + n);
	memcpy(u + 8, data, n);
	ip_send(dmac, sip, dip, 17, 8 + n, 6);
}

/* ---- TCP: one connection at a time to port 7, echoed ------------------------- */

enum { TCP_FIN = 1, TCP_SYN = 2, TCP_RST = 4, TCP_PSH = 8, TCP_ACK = 16 };
enum { TCP_LISTEN, TCP_SYN_RCVD, TCP_OPEN, TCP_LAST_ACK };

static struct {
	int state;
	uint8_t mac[6], ip[4];
	unsigned port;
	uint32_t rcv_nxt, snd_nxt;
} tcp;
static unsigned tcp_bytes, tcp_closed;

static void put32(uint8_t *p, uint32_t v) { put16(p, v >> 16), put16(p + 2, v & 0xffff); }
static uint32_t get32(const uint8_t *p) { return (uint32_t)get16(p) << 16 | get16(p + 2); }

static void tcp_send(unsigned flags, const uint8_t *data, size_t n)
{
	uint8_t *t = L4;
	size_t hl = flags & TCP_SYN ? 24 : 20;

	put16(t, ECHO_PORT), put16(t + 2, tcp.port), put32(t + 4, tcp.snd_nxt), put32(t + 8, tcp.rcv_nxt);
	t[12] = (uint8_t)(hl / 4 << 4), t[13] = (uint8_t)flags;
	put16(t + 14, 8192), put16(t + 18, 0); /* window; no urgent data */
	if (flags & TCP_SYN)
		t[20] = 2, t[21] = 4, put16(t + 22, 1460); /* MSS */
	memcpy(t + hl, data, n);
	ip_send(tcp.mac, my_ip, tcp.ip, 6, hl + n, 16);
	tcp.snd_nxt += (uint32_t)n + !!(flags & (TCP_SYN | TCP_FIN));
}

static void tcp_in(const uint8_t *f, const uint8_t *ip, size_t ihl, size_t len)
{
	const uint8_t *t = ip + ihl;
	size_t hl = len >= ihl + 20 ? (size_t)(t[12] >> 4) * 4 : 0, n;
	unsigned fl;
	uint32_t seq;

	if (hl < 20 || ihl + hl > len || get16(t + 2) != ECHO_PORT || memcmp(ip + 16, my_ip, 4))
		return;
	fl = t[13], seq = get32(t + 4), n = len - ihl - hl;
	if (fl & TCP_RST) {
		tcp.state = TCP_LISTEN;
		return;
	}
	if (fl & TCP_SYN) { /* a new connection (or its SYN again): answer it */
		if (fl & TCP_ACK)
			return;
		memcpy(tcp.mac, f + 6, 6), memcpy(tcp.ip, ip + 12, 4), tcp.port = get16(t);
		tcp.rcv_nxt = seq + 1, tcp.snd_nxt = 0x10000, tcp.state = TCP_SYN_RCVD;
		tcp_send(TCP_SYN | TCP_ACK, NULL, 0);
		return;
	}
	if (tcp.state == TCP_LISTEN || get16(t) != tcp.port || memcmp(ip + 12, tcp.ip, 4))
		return;
	if (tcp.state == TCP_LAST_ACK) {
		if (fl & TCP_ACK && get32(t + 8) == tcp.snd_nxt)
			tcp.state = TCP_LISTEN;
		return;
	}
	if (tcp.state == TCP_SYN_RCVD && fl & TCP_ACK)
		tcp.state = TCP_OPEN;
	if (seq != tcp.rcv_nxt) { /* not the next byte: say which is */
		if (n || fl & TCP_FIN)
			tcp_send(TCP_ACK, NULL, 0);
		return;
	}
	if (n) { /* the echo carries the acknowledgement */
		tcp.rcv_nxt += (uint32_t)n, tcp_bytes += (unsigned)n;
		tcp_send(TCP_ACK | TCP_PSH, t + hl, n);
	}
	if (fl & TCP_FIN) {
		tcp.rcv_nxt++;
		tcp_send(TCP_FIN | TCP_ACK, NULL, 0);
		tcp.state = TCP_LAST_ACK;
		tcp_closed++; /* the host closed, and so do we */
	}
}

/* ---- DHCP ------------------------------------------------------------------------ */

#define DHCP_XID 0x70766d6du /* "pvmm" */

static void dhcp_send(unsigned type)
{
	static uint8_t m[300];
	uint8_t *o = m + 240;
	const uint8_t zero[4] = { 0 }, all[4] = { 255, 255, 255, 255 };

	memset(m, 0, sizeof(m));
	m[0] = 1, m[1] = 1, m[2] = 6;
	m[4] = DHCP_XID >> 24, m[5] = DHCP_XID >> 16 & 255, m[6] = DHCP_XID >> 8 & 255, m[7] = DHCP_XID & 255;
	put16(m + 10, 0x8000); /* broadcast replies: no address yet */
	memcpy(m + 28, mac, 6);
	m[236] = 99, m[237] = 130, m[238] = 83, m[239] = 99;
	*o++ = 53, *o++ = 1, *o++ = (uint8_t)type;
	if (type == 3) { /* REQUEST: the offered address, from that server */
		*o++ = 50, *o++ = 4, memcpy(o, my_ip, 4), o += 4;
		*o++ = 54, *o++ = 4, memcpy(o, server_ip, 4), o += 4;
	}
	*o++ = 55, *o++ = 2, *o++ = 1, *o++ = 3;
	*o++ = 255;
	udp_send(bcast, zero, all, 68, 67, m, (size_t)(o - m));
}

/* A DHCP reply for us: its message type (2 offer, 5 ack), or 0. */
static unsigned dhcp_reply(const uint8_t *m, size_t n)
{
	unsigned type = 0;

	if (n < 240 || m[0] != 2 || get16(m + 4) != DHCP_XID >> 16 || get16(m + 6) != (DHCP_XID & 0xffff) ||
	    memcmp(m + 28, mac, 6))
		return 0;
	for (size_t i = 240; i + 1 < n && m[i] != 255;) {
		if (m[i] == 0) {
			i++;
			continue;
		}
		if (i + 2 + m[i + 1] > n)
			break;
		if (m[i] == 53 && m[i + 1] == 1)
			type = m[i + 2];
		if (m[i] == 54 && m[i + 1] == 4)
			memcpy(server_ip, m + i + 2, 4);
		if (m[i] == 3 && m[i + 1] >= 4)
			memcpy(gw_ip, m + i + 2, 4);
		i += 2u + m[i + 1];
	}
	if (type)
		memcpy(my_ip, m + 16, 4);
	return type;
}

/* ---- receiving ------------------------------------------------------------------ */

static unsigned dhcp_seen;
static int quit;

static void udp_in(const uint8_t *f, const uint8_t *ip, size_t ihl, size_t len)
{
	const uint8_t *u = ip + ihl;
	size_t n;

	if (len < ihl + 8 || get16(u + 4) < 8 || get16(u + 4) > len - ihl)
		return;
	n = get16(u + 4) - 8;
	if (get16(u + 2) == 68) {
		dhcp_seen = dhcp_reply(u + 8, n);
		return;
	}
	if (get16(u + 2) != ECHO_PORT || memcmp(ip + 16, my_ip, 4))
		return;
	received++;
	udp_send(f + 6, my_ip, ip + 12, ECHO_PORT, get16(u), u + 8, n);
	echoed++;
	if (n == 4 && !memcmp(u + 8, "quit", 4))
		quit = 1;
}

static void frame_in(const uint8_t *f, size_t len)
{
	if (len >= 42 && get16(f + 12) == 0x0806) {
		const uint8_t *a = f + 14;
		if (get16(a + 6) == 1 && !memcmp(a + 24, my_ip, 4) && my_ip[0])
			arp_send(2, a + 8, a + 14); /* who has our address: we do */
		if (get16(a + 6) == 2 && !memcmp(a + 14, gw_ip, 4))
			memcpy(gw_mac, a + 8, 6), have_gw = 1;
		return;
	}
	if (len >= 34 && get16(f + 12) == 0x0800 && (f[14] >> 4) == 4 && (f[23] == 17 || f[23] == 6)) {
		size_t ihl = (size_t)(f[14] & 15) * 4, tot = get16(f + 16);
		if (ihl < 20 || tot < ihl || 14 + tot > len)
			return;
		if (f[23] == 17)
			udp_in(f, f + 14, ihl, tot);
		else
			tcp_in(f, f + 14, ihl, tot);
	}
}

/* Take every receive response there is, re-posting each buffer; wait for
 * one when there is none and (block). */
static void poll_rx(int block)
{
	for (;;) {
		clear_pending();
		uint32_t prod = __atomic_load_n(&rx->h.rsp_prod, __ATOMIC_ACQUIRE);
		if (prod != rx_cons) {
			for (; rx_cons != prod; rx_cons++) {
				struct netif_rx_response r = *(volatile struct netif_rx_response *)&rx->ring[rx_cons % RING].rsp;
				guest_assert(r.id < NRX);
				if (r.status > 0 && r.offset + r.status <= 4096)
					frame_in(rxbuf[r.id] + r.offset, (size_t)r.status);
				post_rx(r.id);
			}
			return;
		}
		rx->h.rsp_event = rx_cons + 1; /* RING_FINAL_CHECK_FOR_RESPONSES */
		__atomic_thread_fence(__ATOMIC_SEQ_CST);
		if (__atomic_load_n(&rx->h.rsp_prod, __ATOMIC_ACQUIRE) != rx_cons)
			continue;
		if (!block)
			return;
		wait_vif();
	}
}

static void dhcp(void)
{
	dhcp_send(1); /* DISCOVER */
	while (dhcp_seen != 2)
		poll_rx(1);
	dhcp_send(3); /* REQUEST */
	while (dhcp_seen != 5)
		poll_rx(1);
	printf("net: DHCP gave %u.%u.%u.%u (server %u.%u.%u.%u, router %u.%u.%u.%u)\n", my_ip[0], my_ip[1],
	       my_ip[2], my_ip[3], server_ip[0], server_ip[1], server_ip[2], server_ip[3], gw_ip[0], gw_ip[1],
	       gw_ip[2], gw_ip[3]);
}

static unsigned cmdline_port(const char *key)
{
	const char *c = rt_si->cmd_line;
	size_t k = strlen(key);
	unsigned v = 0;

	for (; *c; c++)
		if (!memcmp(c, key, k) && (c == rt_si->cmd_line || c[-1] == ' ')) {
			for (c += k; *c >= '0' && *c <= '9'; c++)
				v = v * 10 + (unsigned)(*c - '0');
			return v;
		}
	return 0;
}

int guest_main(struct start_info *si)
{
	unsigned peer = cmdline_port("peer=");
	char hello[64];

	shared = rt_map_shared_info();
	xs = (volatile struct xenstore_domain_interface *)(VIRT_BASE + si->store_mfn * 4096);
	xs_port = si->store_evtchn;
	mask(xs_port);
	connect();
	dhcp();
	arp_send(1, NULL, gw_ip);
	while (!have_gw)
		poll_rx(1);
	printf("net: the gateway %u.%u.%u.%u is at %02x:%02x:%02x:%02x:%02x:%02x\n", gw_ip[0], gw_ip[1],
	       gw_ip[2], gw_ip[3], gw_mac[0], gw_mac[1], gw_mac[2], gw_mac[3], gw_mac[4], gw_mac[5]);
	if (!peer)
		return 0;
	int n = snprintf(hello, sizeof(hello), "hello from %u.%u.%u.%u", my_ip[0], my_ip[1], my_ip[2], my_ip[3]);
	udp_send(gw_mac, my_ip, gw_ip, ECHO_PORT, peer, hello, (size_t)n);
	printf("net: sent \"%s\" to %u.%u.%u.%u:%u\n", hello, gw_ip[0], gw_ip[1], gw_ip[2], gw_ip[3], peer);
	while (!quit)
		poll_rx(1);
	printf("net: echoed %u datagrams on UDP port %u, the last one \"quit\"\n", echoed, ECHO_PORT);
	printf("net: echoed %u bytes on TCP port %u, %u connection%s closed by both sides\n", tcp_bytes,
	       ECHO_PORT, tcp_closed, tcp_closed == 1 ? "" : "s");
	return 0;
}
