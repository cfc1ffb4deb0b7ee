/*
 * netback - the PV network device's backend, as Linux's xen-netback serves
 * a vif: one device, announced through the xenstore as Xen's toolstack
 * does (xenbus_dev.h: backend/vif/DOMID/DEVID, device/vif/DEVID, mac and
 * handle in both, feature-rx-copy 1, feature-sg 1), connected when the
 * frontend gives tx-ring-ref, rx-ring-ref, event-channel and
 * request-rx-copy 1 (receive by copy is the one mode: a frontend that asks
 * for page flipping is refused at connect, as Linux's netback refuses it).
 *
 * Transmit: each packet's slots (its first request, extra-info slots, the
 * fragments chained by NETTXF_more_data) are read once from the shared
 * ring into pvmm's copy, checked there, then copied out of the grants the
 * guest gives into one frame for the host (be_net_host.tx). As Linux's
 * netback: a packet of more than XEN_NETIF_NR_SLOTS_MIN (18) slots, a
 * fragment larger than what is left of the packet, a packet smaller than
 * an Ethernet header, an unknown extra, or a bad grant is dropped (each of
 * its slots answered NETIF_RSP_ERROR); what only a broken frontend can do
 * (indices more than a ring apart, a packet of more than 20 data slots,
 * one that does not end before the requests do, a fragment crossing its
 * page, an unknown extra type, more extras than there are types) is
 * fatal to the vif: one line on stderr, the vif stops serving, the domain
 * runs on. A packet with NETTXF_csum_blank gets its TCP or UDP checksum
 * filled in (the offload Linux's netfront assumes).
 *
 * Receive: frames from the host (be_net_rx) are copied into the granted
 * pages of the guest's receive requests, one slot each (the host's frames
 * are at most an MTU); without a posted request they wait in a queue of
 * NB_RX_QUEUE frames, beyond which the newest is dropped and counted.
 *
 * Requests are served when the guest signals the port; the port is raised
 * as the ring's event indices ask. Nothing here exits.
 */
#ifndef PVMM_NETBACK_H
#define PVMM_NETBACK_H

#include <stddef.h>
#include <stdint.h>

#include "vm.h"

#define NB_MAX_SLOTS XEN_NETIF_NR_SLOTS_MIN /* Linux's XEN_NETBK_LEGACY_SLOTS_MAX */
#define NB_FATAL_SLOTS 20                   /* Linux's fatal_skb_slots default */
#define NB_MAX_EXTRAS 3                     /* extra-info types: GSO, MCAST_ADD, MCAST_DEL */
#define NB_PKT_SLOTS (1 + NB_MAX_EXTRAS + NB_FATAL_SLOTS)
#define NB_RX_QUEUE 256
#define NB_FRAME_MAX 65535u                 /* XEN_NETIF_MAX_TX_SIZE */

/* The host's side: where the guest's frames go. */
struct be_net_host {
	void (*tx)(void *ctx, const uint8_t *frame, size_t len);
	void *ctx;
};

struct be_net;

/* Announce vif (devid) with (mac) in the xenstore and serve it. NULL (with
 * the reason in why) when out of memory or the store refuses. */
struct be_net *be_net_add(struct vm *vm, unsigned devid, const uint8_t mac[6],
			  const struct be_net_host *host, char *why, size_t len);
void be_net_free(struct be_net *nb);

/* A frame from the host for the guest: 1 delivered or queued, 0 dropped
 * (no connected frontend, too large, the queue full). */
int be_net_rx(struct be_net *nb, const uint8_t *frame, size_t len);

/* Counters, for --stats and the tests. */
struct be_net_stats {
	uint64_t tx_packets, tx_bytes, tx_dropped, rx_packets, rx_bytes, rx_dropped, rx_errors;
	int broken; /* a fatal error stopped the vif */
};
void be_net_stats(const struct be_net *nb, struct be_net_stats *out);

/* ---- the transmit parser, pure, for the tests and the fuzzer -------------- */

enum nb_verdict { NB_TX_OK, NB_TX_DROP, NB_TX_FATAL, NB_TX_WAIT };

struct nb_frag {
	uint32_t gref;
	uint16_t offset, size;
};

struct nb_tx_pkt {
	enum nb_verdict verdict;
	unsigned slots;                     /* ring slots the packet takes */
	uint16_t id[NB_PKT_SLOTS];          /* their ids, in ring order, to answer */
	int16_t status[NB_PKT_SLOTS];       /* NETIF_RSP_OKAY / NULL / ERROR each (if not fatal) */
	unsigned nfrags;
	struct nb_frag frag[NB_MAX_SLOTS];  /* the data, in order */
	uint32_t len;                       /* the packet's size (the first slot's) */
	uint16_t flags;                     /* the first slot's NETTXF_* */
	const char *why;                    /* DROP, FATAL: what was wrong */
};

/* Parse the packet whose first request is at ring index (cons), with
 * (avail) requests produced from there (at most NETIF_RING_SIZE): each
 * slot is read once from (ring) (the guest's, which may change meanwhile)
 * and only pvmm's copy is used. NB_TX_WAIT never happens: a packet that
 * runs past the requests produced is fatal, as in Linux's netback. */
void nb_tx_parse(const volatile struct netif_tx_sring *ring, uint32_t cons, uint32_t avail,
		 struct nb_tx_pkt *p);

/* Fill in the TCP or UDP checksum of the IPv4 frame (f, len) that the
 * guest left blank (NETTXF_csum_blank): 0, or -1 when it is no such frame
 * (it goes out as it is). */
int nb_csum_fill(uint8_t *f, size_t len);

#endif
