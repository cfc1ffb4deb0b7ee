/* netback.c - the vif's backend: the guest's tx and rx rings against the
 * host's frames (netback.h). */
#include "vmm/backends/netback.h"
#include "vmm/backends/xenbus_dev.h"
#include "hypercalls/hc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ETH_HLEN 14
#define PAGE 4096u
#define RING_MASK (NETIF_RING_SIZE - 1)
#define MAX_PASSES 4 /* ring passes per notification: a guest refilling as pvmm reads is cut short */

struct rx_frame {
	uint16_t len;
	uint8_t data[PAGE];
};

struct be_net {
	struct xb_dev dev;
	struct vm *vm;
	struct be_net_host host;
	uint8_t mac[6];
	/* while connected */
	struct hc_grant tx_g, rx_g;
	volatile struct netif_tx_sring *tx;
	volatile struct netif_rx_sring *rx;
	uint32_t tx_cons, tx_rsp;   /* pvmm's own indices: never read back from the ring */
	uint32_t rx_cons, rx_rsp;
	int broken;
	/* frames waiting for the guest's receive requests */
	struct rx_frame *q;
	unsigned q_head, q_len;
	uint8_t frame[NB_FRAME_MAX];
	struct be_net_stats st;
};

/* ---- transmit: parsing ------------------------------------------------------ */

static struct netif_tx_request slot(const volatile struct netif_tx_sring *ring, uint32_t idx)
{
	struct netif_tx_request r;

	memcpy(&r, (const void *)&ring->ring[idx & RING_MASK].req, sizeof(r)); /* the one read */
	return r;
}

static void verdict(struct nb_tx_pkt *p, enum nb_verdict v, const char *why)
{
	if (p->verdict == NB_TX_OK || v == NB_TX_FATAL) {
		p->verdict = v;
		p->why = why;
	}
}

/* The extra-info slots after the first request: each answered NULL. */
static uint32_t parse_extras(const volatile struct netif_tx_sring *ring, uint32_t cons, uint32_t avail,
			     struct nb_tx_pkt *p)
{
	uint32_t i = 1;
	struct netif_extra_info x;

	do {
		if (i >= avail) {
			verdict(p, NB_TX_FATAL, "an extra-info slot past the requests produced");
			return i;
		}
		if (i > NB_MAX_EXTRAS) {
			verdict(p, NB_TX_FATAL, "more extra-info slots than there are types");
			return i;
		}
		memcpy(&x, (const void *)&ring->ring[(cons + i) & RING_MASK], sizeof(x)); /* the one read */
		if (x.type == XEN_NETIF_EXTRA_TYPE_NONE || x.type > XEN_NETIF_EXTRA_TYPE_MCAST_DEL) {
			verdict(p, NB_TX_FATAL, "an unknown extra-info type");
			return i;
		}
		if (x.type == XEN_NETIF_EXTRA_TYPE_GSO)
			verdict(p, NB_TX_DROP, "GSO, which this backend does not offer");
		/* an extra slot's response: NULL, under the packet's id */
		p->id[p->slots] = p->id[0];
		p->status[p->slots++] = NETIF_RSP_NULL;
		i++;
	} while (x.flags & XEN_NETIF_EXTRA_FLAG_MORE);
	return i;
}

void nb_tx_parse(const volatile struct netif_tx_sring *ring, uint32_t cons, uint32_t avail,
		 struct nb_tx_pkt *p)
{
	struct netif_tx_request first = slot(ring, cons), r = first;
	uint32_t i = 1, left = first.size, more;

	memset(p, 0, sizeof(*p));
	p->len = first.size;
	p->flags = first.flags;
	p->id[0] = first.id;
	p->status[0] = NETIF_RSP_OKAY;
	p->slots = 1;
	p->frag[0] = (struct nb_frag){ first.gref, first.offset, 0 };
	p->nfrags = 1;
	if (first.flags & NETTXF_extra_info)
		i = parse_extras(ring, cons, avail, p);
	if (p->verdict == NB_TX_FATAL)
		return;
	/* the fragments that follow, as Linux's xenvif_count_requests takes them */
	for (unsigned extra = 0; r.flags & NETTXF_more_data; extra++) {
		if (i >= avail) {
			verdict(p, NB_TX_FATAL, "a packet that runs past the requests produced");
			return;
		}
		if (extra + 1 >= NB_FATAL_SLOTS) {
			verdict(p, NB_TX_FATAL, "a packet of more than 20 slots");
			return;
		}
		if (extra + 1 >= NB_MAX_SLOTS)
			verdict(p, NB_TX_DROP, "a packet of more than 18 slots");
		r = slot(ring, cons + i++);
		p->id[p->slots] = r.id;
		p->status[p->slots++] = NETIF_RSP_OKAY;
		if ((uint32_t)r.offset + r.size > PAGE) {
			verdict(p, NB_TX_FATAL, "a fragment crossing its page");
			return;
		}
		if (r.size > left) /* a frame of 64 KiB or more wrapped the first size */
			verdict(p, NB_TX_DROP, "fragments larger than the packet's size");
		more = r.size <= left ? r.size : left;
		left -= more;
		if (p->nfrags < NB_MAX_SLOTS)
			p->frag[p->nfrags++] = (struct nb_frag){ r.gref, r.offset, r.size };
	}
	/* the first slot holds what the others do not */
	p->frag[0].size = (uint16_t)left;
	if ((uint32_t)first.offset + left > PAGE) {
		verdict(p, NB_TX_FATAL, "a fragment crossing its page");
		return;
	}
	if (first.size < ETH_HLEN)
		verdict(p, NB_TX_DROP, "a packet smaller than an Ethernet header");
	if (p->verdict == NB_TX_DROP)
		for (unsigned k = 0; k < p->slots; k++)
			if (p->status[k] != NETIF_RSP_NULL)
				p->status[k] = NETIF_RSP_ERROR;
}

/* ---- checksums ---------------------------------------------------------------- */

static uint32_t sum16(const uint8_t *b, size_t n, uint32_t s)
{
	for (size_t i = 0; i + 1 < n; i += 2)
		s += (uint32_t)b[i] << 8 | b[i + 1];
	if (n & 1)
		s += (uint32_t)b[n - 1] << 8;
	return s;
}

static uint16_t fold(uint32_t s)
{
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)~s;
}

int nb_csum_fill(uint8_t *f, size_t len)
{
	size_t ihl, tot, l4;
	unsigned proto, at;
	uint32_t s;

	if (len < ETH_HLEN + 20 || f[12] != 0x08 || f[13] != 0x00 || (f[14] >> 4) != 4)
		return -1;
	ihl = (size_t)(f[14] & 15) * 4;
	tot = (size_t)f[16] << 8 | f[17];
	proto = f[23];
	if (ihl < 20 || tot < ihl || ETH_HLEN + tot > len || (f[20] & 0x3f) || f[21])
		return -1; /* not a whole, unfragmented IPv4 packet */
	l4 = tot - ihl;
	at = proto == 6 ? 16 : proto == 17 ? 6 : 0;
	if (!at || l4 < at + 2u)
		return -1;
	uint8_t *seg = f + ETH_HLEN + ihl;
	seg[at] = seg[at + 1] = 0;
	s = sum16(f + ETH_HLEN + 12, 8, 0) + proto + (uint32_t)l4; /* the pseudo-header */
	uint16_t c = fold(sum16(seg, l4, s));
	if (proto == 17 && !c)
		c = 0xffff;
	seg[at] = (uint8_t)(c >> 8), seg[at + 1] = (uint8_t)c;
	return 0;
}

/* ---- transmit: serving ------------------------------------------------------ */

/* The vif stops: the guest broke the protocol (Linux's xenvif_fatal_tx_err). */
static void fatal(struct be_net *nb, const char *why)
{
	if (nb->broken)
		return;
	nb->broken = nb->st.broken = 1;
	fprintf(stderr, "pvmm: vif %u: %s: the vif stops (the domain runs on)\n", nb->dev.devid, why);
}

/* Copy the packet's fragments out of their grants into nb->frame. */
static int gather(struct be_net *nb, const struct nb_tx_pkt *p)
{
	uint32_t at = 0;

	for (unsigned k = 0; k < p->nfrags; k++) {
		const struct nb_frag *fr = &p->frag[k];
		struct hc_grant g;
		uint8_t *page;
		if (at + fr->size > NB_FRAME_MAX)
			return -1;
		if (hc_grant_acquire(nb->vm, fr->gref, 1, &g, &page) != GNTST_okay)
			return -1;
		memcpy(nb->frame + at, page + fr->offset, fr->size); /* offset + size <= PAGE: parsed */
		hc_grant_release(nb->vm, &g);
		at += fr->size;
	}
	return at == p->len ? 0 : -1;
}

static void tx_respond(struct be_net *nb, uint16_t id, int16_t status)
{
	volatile struct netif_tx_response *r = &nb->tx->ring[nb->tx_rsp & RING_MASK].rsp;

	r->id = id;
	r->status = status;
	nb->tx_rsp++;
}

/* Publish responses up to (rsp), having been at (old): whether the guest
 * asked to be told (RING_PUSH_RESPONSES_AND_CHECK_NOTIFY). */
static int push(volatile struct xen_sring_hdr *h, uint32_t old, uint32_t rsp)
{
	__atomic_store_n(&h->rsp_prod, rsp, __ATOMIC_SEQ_CST);
	uint32_t ev = __atomic_load_n(&h->rsp_event, __ATOMIC_SEQ_CST);
	return (uint32_t)(rsp - ev) < (uint32_t)(rsp - old);
}

static void tx_one(struct be_net *nb, const struct nb_tx_pkt *p)
{
	int16_t st[NB_PKT_SLOTS];

	memcpy(st, p->status, sizeof(st));
	if (p->verdict == NB_TX_OK && gather(nb, p)) {
		for (unsigned k = 0; k < p->slots; k++)
			if (st[k] == NETIF_RSP_OKAY)
				st[k] = NETIF_RSP_ERROR; /* a bad grant: the packet is dropped */
	} else if (p->verdict == NB_TX_OK) {
		if (p->flags & NETTXF_csum_blank)
			nb_csum_fill(nb->frame, p->len);
		nb->st.tx_packets++;
		nb->st.tx_bytes += p->len;
		nb->host.tx(nb->host.ctx, nb->frame, p->len);
	}
	if (st[0] == NETIF_RSP_ERROR)
		nb->st.tx_dropped++;
	for (unsigned k = 0; k < p->slots; k++)
		tx_respond(nb, p->id[k], st[k]);
}

/* One pass over the requests produced; whether it did anything. */
static int tx_pass(struct be_net *nb)
{
	uint32_t prod = __atomic_load_n(&nb->tx->h.req_prod, __ATOMIC_ACQUIRE), old = nb->tx_rsp;
	struct nb_tx_pkt p;

	if (prod - nb->tx_cons > NETIF_RING_SIZE) {
		fatal(nb, "transmit requests more than a ring ahead of the responses");
		return 0;
	}
	if (prod == nb->tx_cons)
		return 0;
	while (nb->tx_cons != prod && !nb->broken) {
		nb_tx_parse(nb->tx, nb->tx_cons, prod - nb->tx_cons, &p);
		if (p.verdict == NB_TX_FATAL) {
			fatal(nb, p.why);
			break;
		}
		tx_one(nb, &p);
		nb->tx_cons += p.slots;
	}
	if (push(&nb->tx->h, old, nb->tx_rsp))
		xb_dev_raise(&nb->dev);
	return 1;
}

/* ---- receive -------------------------------------------------------------------- */

/* Copy the oldest queued frame into the guest's next receive request. */
static void rx_one(struct be_net *nb)
{
	struct netif_rx_request req;
	struct rx_frame *f = &nb->q[nb->q_head];
	volatile struct netif_rx_response *r;
	struct hc_grant g;
	uint8_t *page;
	int16_t status = (int16_t)f->len;

	memcpy(&req, (const void *)&nb->rx->ring[nb->rx_cons & RING_MASK].req, sizeof(req));
	nb->rx_cons++;
	if (hc_grant_acquire(nb->vm, req.gref, 0, &g, &page) == GNTST_okay) {
		memcpy(page, f->data, f->len);
		hc_grant_release(nb->vm, &g);
		nb->st.rx_packets++;
		nb->st.rx_bytes += f->len;
	} else {
		status = NETIF_RSP_ERROR; /* a grant the guest spoilt: this frame is lost */
		nb->st.rx_errors++;
	}
	r = &nb->rx->ring[nb->rx_rsp & RING_MASK].rsp;
	r->id = req.id;
	r->offset = 0;
	r->flags = 0;
	r->status = status;
	nb->rx_rsp++;
	nb->q_head = (nb->q_head + 1) % NB_RX_QUEUE;
	nb->q_len--;
}

static void rx_flush(struct be_net *nb)
{
	uint32_t prod, old = nb->rx_rsp;

	if (!nb->rx || nb->broken || !nb->q_len)
		return;
	prod = __atomic_load_n(&nb->rx->h.req_prod, __ATOMIC_ACQUIRE);
	if (prod - nb->rx_cons > NETIF_RING_SIZE) {
		fatal(nb, "receive requests more than a ring ahead of the responses");
		return;
	}
	while (nb->q_len && nb->rx_cons != prod)
		rx_one(nb);
	if (nb->rx_rsp != old && push(&nb->rx->h, old, nb->rx_rsp))
		xb_dev_raise(&nb->dev);
}

int be_net_rx(struct be_net *nb, const uint8_t *frame, size_t len)
{
	struct rx_frame *f;

	if (!nb || !nb->dev.connected || nb->broken || len > PAGE || len < ETH_HLEN ||
	    nb->q_len == NB_RX_QUEUE) {
		if (nb)
			nb->st.rx_dropped++;
		return 0;
	}
	f = &nb->q[(nb->q_head + nb->q_len++) % NB_RX_QUEUE];
	memcpy(f->data, frame, len);
	f->len = (uint16_t)len;
	rx_flush(nb);
	return 1;
}

/* ---- the device ------------------------------------------------------------------ */

static void nb_notify(struct xb_dev *d)
{
	struct be_net *nb = d->priv;

	for (int i = 0; i < MAX_PASSES && !nb->broken; i++) {
		int more = tx_pass(nb);
		/* RING_FINAL_CHECK_FOR_REQUESTS: ask for an event at the next request */
		__atomic_store_n(&nb->tx->h.req_event, nb->tx_cons + 1, __ATOMIC_SEQ_CST);
		if (!more && __atomic_load_n(&nb->tx->h.req_prod, __ATOMIC_SEQ_CST) == nb->tx_cons)
			break;
	}
	rx_flush(nb);
	if (!nb->broken)
		__atomic_store_n(&nb->rx->h.req_event, nb->rx_cons + 1, __ATOMIC_SEQ_CST);
}

static int ring(struct be_net *nb, const char *key, struct hc_grant *g, uint8_t **page,
		char *why, size_t len)
{
	uint64_t ref;

	if (xb_dev_read_uint(&nb->dev, key, UINT32_MAX, &ref)) {
		snprintf(why, len, "reading %s: missing or not a number", key);
		return -1;
	}
	if (hc_grant_acquire(nb->vm, (uint32_t)ref, 0, g, page) != GNTST_okay) {
		snprintf(why, len, "mapping %s %u: not a writable grant to domain 0", key, (unsigned)ref);
		return -1;
	}
	return 0;
}

static void nb_disconnect(struct xb_dev *d)
{
	struct be_net *nb = d->priv;

	hc_grant_release(nb->vm, &nb->tx_g);
	hc_grant_release(nb->vm, &nb->rx_g);
	nb->tx = NULL, nb->rx = NULL;
	nb->q_len = 0;
}

static int nb_connect(struct xb_dev *d, char *why, size_t len)
{
	struct be_net *nb = d->priv;
	uint8_t *tx, *rx;
	uint64_t copy;

	if (xb_dev_read_uint(d, "request-rx-copy", 1, &copy) || !copy) {
		snprintf(why, len, "request-rx-copy: the frontend must receive by copy (1)");
		return -1;
	}
	if (ring(nb, "tx-ring-ref", &nb->tx_g, &tx, why, len))
		return -1;
	if (ring(nb, "rx-ring-ref", &nb->rx_g, &rx, why, len)) {
		hc_grant_release(nb->vm, &nb->tx_g);
		return -1;
	}
	nb->tx = (volatile struct netif_tx_sring *)tx;
	nb->rx = (volatile struct netif_rx_sring *)rx;
	/* a fresh ring (netfront's SHARED_RING_INIT) starts at 0 */
	nb->tx_cons = nb->tx_rsp = nb->rx_cons = nb->rx_rsp = 0;
	nb->broken = 0;
	return 0;
}

static const struct xb_dev_ops vif_ops = { "vif", nb_connect, nb_notify, nb_disconnect };

struct be_net *be_net_add(struct vm *vm, unsigned devid, const uint8_t mac[6],
			  const struct be_net_host *host, char *why, size_t len)
{
	struct be_net *nb = calloc(1, sizeof(*nb));
	char m[18];
	int rc;

	if (nb)
		nb->q = calloc(NB_RX_QUEUE, sizeof(*nb->q));
	if (!nb || !nb->q) {
		be_net_free(nb);
		snprintf(why, len, "vif %u: out of memory", devid);
		return NULL;
	}
	nb->vm = vm;
	nb->host = *host;
	memcpy(nb->mac, mac, 6);
	snprintf(m, sizeof(m), "%02x:%02x:%02x:%02x:%02x:%02x", mac[0], mac[1], mac[2], mac[3], mac[4],
		 mac[5]);
	rc = xb_dev_add(vm, &nb->dev, &vif_ops, devid, nb);
	for (int fe = 0; fe < 2 && !rc; fe++)
		if ((rc = xb_dev_write(&nb->dev, fe, "mac", "%s", m)) == 0)
			rc = xb_dev_write(&nb->dev, fe, "handle", "%u", devid);
	if (!rc)
		rc = xb_dev_write(&nb->dev, 0, "feature-rx-copy", "1");
	if (!rc)
		rc = xb_dev_write(&nb->dev, 0, "feature-rx-flip", "0");
	if (!rc)
		rc = xb_dev_write(&nb->dev, 0, "feature-sg", "1");
	if (!rc)
		rc = xb_dev_start(&nb->dev);
	if (rc) {
		snprintf(why, len, "vif %u: the xenstore refused its directories (%d)", devid, rc);
		be_net_free(nb);
		return NULL;
	}
	return nb;
}

void be_net_free(struct be_net *nb)
{
	if (!nb)
		return;
	free(nb->q);
	free(nb);
}

void be_net_stats(const struct be_net *nb, struct be_net_stats *out)
{
	*out = nb->st;
}
