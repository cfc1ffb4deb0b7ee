/*
 * net.h - --net=user: the guest's network through libslirp, unprivileged.
 *
 * One vif (device 0), served by the netback (vmm/backends/netback.h), whose
 * other side is a libslirp instance in pvmm: the guest's network is
 * 10.0.2.0/24 as in QEMU's user networking, the guest 10.0.2.15 by DHCP,
 * the host 10.0.2.2 (its loopback, 127.0.0.1), the name server 10.0.2.3
 * (it forwards to the host's resolver, which on a machine without an
 * outside network answers nothing). hostfwd=PROTO:[ADDR]:HPORT-[GADDR]:GPORT
 * forwards a host port to the guest, as QEMU spells it.
 *
 * libslirp's sockets and timers are served by the trap loop, never by a
 * thread of their own: each socket is O_ASYNC, so data arriving while the
 * guest runs raises SIGIO, which interrupts the guest (as gdb's Ctrl-C
 * does); after that trap the loop calls vmm_net_service(). While the guest
 * blocks, the loop's ppoll waits for the sockets too (vmm_net_fill,
 * vmm_net_polled), and slirp's timers join the guest's in the host timer
 * (vmm_net_deadline). Errors return -1 with a one-line reason; nothing
 * here exits.
 */
#ifndef PVMM_NET_H
#define PVMM_NET_H

#include <netinet/in.h>
#include <poll.h>
#include <stddef.h>
#include <stdint.h>

#include "vm.h"

#define VMM_NET_MAX_FWD 16

struct vmm_net_fwd {
	int udp;                 /* 0 tcp, 1 udp */
	struct in_addr host;     /* host address to listen on (0: any) */
	unsigned host_port;
	struct in_addr guest;    /* 0: the guest's DHCP address, 10.0.2.15 */
	unsigned guest_port;
};

struct vmm_net_cfg {
	int on;                  /* --net=user given */
	uint8_t mac[6];          /* the guest's MAC address */
	unsigned nfwd;
	struct vmm_net_fwd fwd[VMM_NET_MAX_FWD];
};

/* Parse --net's value ("user[,hostfwd=...][,mac=xx:xx:xx:xx:xx:xx]") into
 * (cfg), which starts with the default MAC 00:16:3e:00:00:01 (Xen's OUI).
 * 0, or -1 with the reason in (why). Pure: binds nothing. */
int vmm_net_parse(const char *spec, struct vmm_net_cfg *cfg, char *why, size_t len);
/* One hostfwd value, "udp::5555-:7" (for --net's parser and xl's vif). */
int vmm_net_parse_fwd(const char *spec, struct vmm_net_fwd *f, char *why, size_t len);

struct vmm_net;

/* Create the network of (cfg) for domain (vm): the slirp instance, its
 * host forwards (a host port that cannot be bound is an error), and the
 * vif's backend in the xenstore. NULL with the reason in (why). */
struct vmm_net *vmm_net_open(struct vm *vm, const struct vmm_net_cfg *cfg, char *why, size_t len);
void vmm_net_close(struct vmm_net *n);

/* After a trap: when a socket signalled (SIGIO), the guest sent something,
 * or a timer of slirp's is due, serve slirp's sockets and timers without
 * waiting. Cheap otherwise. NULL (no network) does nothing. */
void vmm_net_service(struct vmm_net *n);
/* The next deadline of slirp's (CLOCK_MONOTONIC ns), 0 for none. */
uint64_t vmm_net_deadline(const struct vmm_net *n);
/* For the blocked guest's wait: the poll set with (reserve) slots first for
 * the caller's own descriptors, then slirp's; returns the count, the set in
 * *set (owned by n; with n NULL, (own) is used). After the wait,
 * vmm_net_polled(n, err) hands slirp its results. */
int vmm_net_fill(struct vmm_net *n, struct pollfd *own, int reserve, struct pollfd **set);
void vmm_net_polled(struct vmm_net *n, int err);

#endif
