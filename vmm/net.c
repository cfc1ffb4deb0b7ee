/* net.c - --net=user: the vif's host side, a libslirp instance served by
 * the trap loop (net.h). */
#include "vmm/net.h"
#include "vmm/vmm.h"
#include "vmm/backends/netback.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <slirp/libslirp.h>

#define NET_MAX_TIMERS 8
#define NET_GUEST_ERRORS 5 /* guest errors slirp reports that are shown */

struct net_timer {
	int used;
	SlirpTimerId id;
	SlirpTimerCb cb;  /* timer_new's callback (older libslirp), or NULL */
	void *cb_opaque;
	int64_t expire_ms; /* -1: not armed */
};

struct vmm_net {
	struct vm *vm;
	Slirp *slirp;
	struct be_net *nb;
	int kick;              /* the guest sent, or slirp asked: serve at the next trap */
	uint64_t due;          /* slirp's next deadline (mono ns), 0: none */
	struct pollfd *pfd;    /* the poll set: the caller's, then slirp's */
	int npfd, cap, reserve;
	struct net_timer timer[NET_MAX_TIMERS];
	unsigned guest_errors;
};

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* ---- parsing ------------------------------------------------------------- */

static int bad(char *why, size_t len, const char *fmt, const char *arg)
{
	snprintf(why, len, fmt, arg);
	return -1;
}

static int parse_port(const char *s, size_t n, unsigned *port)
{
	unsigned v = 0;

	if (!n || n > 5)
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (unsigned)(s[i] - '0');
	}
	if (!v || v > 65535)
		return -1;
	*port = v;
	return 0;
}

/* "[ADDR]:PORT" of (n) bytes at (s). */
static int parse_addr_port(const char *s, size_t n, struct in_addr *a, unsigned *port)
{
	const char *colon = memchr(s, ':', n);
	char addr[32];

	if (!colon || (size_t)(colon - s) >= sizeof(addr))
		return -1;
	a->s_addr = 0;
	if (colon > s) {
		snprintf(addr, sizeof(addr), "%.*s", (int)(colon - s), s);
		if (inet_pton(AF_INET, addr, a) != 1)
			return -1;
	}
	return parse_port(colon + 1, n - (size_t)(colon + 1 - s), port);
}

int vmm_net_parse_fwd(const char *spec, struct vmm_net_fwd *f, char *why, size_t len)
{
	const char *p = spec, *dash;

	memset(f, 0, sizeof(*f));
	if (!strncmp(p, "tcp:", 4))
		p += 4;
	else if (!strncmp(p, "udp:", 4))
		p += 4, f->udp = 1;
	else if (*p != ':')
		return bad(why, len, "hostfwd '%s': want [tcp|udp]:[HOSTADDR]:HOSTPORT-[GUESTADDR]:GUESTPORT",
			   spec);
	else
		p++; /* QEMU's default protocol: tcp */
	dash = strchr(p, '-');
	if (!dash || parse_addr_port(p, (size_t)(dash - p), &f->host, &f->host_port) ||
	    parse_addr_port(dash + 1, strlen(dash + 1), &f->guest, &f->guest_port))
		return bad(why, len, "hostfwd '%s': want [tcp|udp]:[HOSTADDR]:HOSTPORT-[GUESTADDR]:GUESTPORT "
			   "with ports 1 to 65535", spec);
	return 0;
}

static int parse_mac(const char *s, uint8_t mac[6])
{
	unsigned v[6];
	char end;

	if (sscanf(s, "%2x:%2x:%2x:%2x:%2x:%2x%c", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5], &end) != 6 ||
	    strlen(s) != 17)
		return -1;
	for (int i = 0; i < 6; i++)
		mac[i] = (uint8_t)v[i];
	return mac[0] & 1 ? -1 : 0; /* a multicast address is no interface's */
}

int vmm_net_parse(const char *spec, struct vmm_net_cfg *cfg, char *why, size_t len)
{
	static const uint8_t mac0[6] = { 0x00, 0x16, 0x3e, 0x00, 0x00, 0x01 };
	char buf[1024], *save = NULL, *item;

	memset(cfg, 0, sizeof(*cfg));
	memcpy(cfg->mac, mac0, sizeof(mac0));
	if (strlen(spec) >= sizeof(buf))
		return bad(why, len, "--net '%.40s...': too long", spec);
	strcpy(buf, spec);
	item = strtok_r(buf, ",", &save);
	if (!item || strcmp(item, "user"))
		return bad(why, len, "--net '%s': want user[,hostfwd=...][,mac=...] (user networking is "
			   "the one kind)", spec);
	while ((item = strtok_r(NULL, ",", &save)) != NULL) {
		if (!strncmp(item, "hostfwd=", 8)) {
			if (cfg->nfwd == VMM_NET_MAX_FWD)
				return bad(why, len, "--net: more than %s host forwards", "16");
			if (vmm_net_parse_fwd(item + 8, &cfg->fwd[cfg->nfwd], why, len))
				return -1;
			cfg->nfwd++;
		} else if (!strncmp(item, "mac=", 4)) {
			if (parse_mac(item + 4, cfg->mac))
				return bad(why, len, "--net: bad mac '%s': want six hex bytes xx:xx:xx:xx:xx:xx, "
					   "not multicast", item + 4);
		} else {
			return bad(why, len, "--net: unknown option '%s' (known: hostfwd, mac)", item);
		}
	}
	cfg->on = 1;
	return 0;
}

/* ---- slirp's callbacks ------------------------------------------------------ */

static ssize_t send_packet(const void *buf, size_t len, void *opaque)
{
	struct vmm_net *n = opaque;

	be_net_rx(n->nb, buf, len); /* queued for the guest, or dropped: as a NIC would */
	return (ssize_t)len;
}

static void guest_error(const char *msg, void *opaque)
{
	struct vmm_net *n = opaque;

	if (n->guest_errors++ < NET_GUEST_ERRORS)
		fprintf(stderr, "pvmm: net: the guest's packet: %s\n", msg);
}

static int64_t clock_get_ns(void *opaque)
{
	(void)opaque;
	return (int64_t)mono_ns();
}

static struct net_timer *timer_alloc(struct vmm_net *n)
{
	for (unsigned i = 0; i < NET_MAX_TIMERS; i++)
		if (!n->timer[i].used) {
			memset(&n->timer[i], 0, sizeof(n->timer[i]));
			n->timer[i].used = 1;
			n->timer[i].expire_ms = -1;
			return &n->timer[i];
		}
	return NULL; /* slirp makes one (IPv6 router advertisements), never more */
}

static void *timer_new_opaque(SlirpTimerId id, void *cb_opaque, void *opaque)
{
	struct net_timer *t = timer_alloc(opaque);

	if (t)
		t->id = id, t->cb_opaque = cb_opaque;
	return t;
}

static void *timer_new(SlirpTimerCb cb, void *cb_opaque, void *opaque)
{
	struct net_timer *t = timer_alloc(opaque);

	if (t)
		t->cb = cb, t->cb_opaque = cb_opaque;
	return t;
}

static void timer_free(void *timer, void *opaque)
{
	(void)opaque;
	if (timer)
		((struct net_timer *)timer)->used = 0;
}

static void timer_mod(void *timer, int64_t expire_ms, void *opaque)
{
	struct vmm_net *n = opaque;

	if (timer) {
		((struct net_timer *)timer)->expire_ms = expire_ms;
		n->kick = 1; /* the deadline is recomputed at the next service */
	}
}

/* Every socket of slirp's raises SIGIO when something arrives, so that the
 * trap loop hears of it while the guest runs. */
static void make_async(int fd)
{
	int fl = fcntl(fd, F_GETFL);

	if (fl >= 0 && !(fl & O_ASYNC)) {
		fcntl(fd, F_SETOWN, getpid());
		fcntl(fd, F_SETFL, fl | O_ASYNC);
	}
}

static void register_poll_fd(int fd, void *opaque)
{
	(void)opaque;
	make_async(fd);
}

static void unregister_poll_fd(int fd, void *opaque)
{
	(void)fd, (void)opaque;
}

static void notify(void *opaque)
{
	((struct vmm_net *)opaque)->kick = 1;
}

static const SlirpCb callbacks = {
	.send_packet = send_packet,
	.guest_error = guest_error,
	.clock_get_ns = clock_get_ns,
	.timer_new = timer_new,
	.timer_free = timer_free,
	.timer_mod = timer_mod,
	.register_poll_fd = register_poll_fd,
	.unregister_poll_fd = unregister_poll_fd,
	.notify = notify,
	.timer_new_opaque = timer_new_opaque,
};

/* ---- the poll set ------------------------------------------------------------ */

static int add_poll(int fd, int events, void *opaque)
{
	struct vmm_net *n = opaque;
	short ev = 0;

	if (n->npfd == n->cap) {
		int cap = n->cap ? n->cap * 2 : 32;
		struct pollfd *p = realloc(n->pfd, (size_t)cap * sizeof(*p));
		if (!p)
			return -1; /* not polled this time; slirp asks again next time */
		n->pfd = p, n->cap = cap;
	}
	make_async(fd);
	if (events & SLIRP_POLL_IN)
		ev |= POLLIN;
	if (events & SLIRP_POLL_OUT)
		ev |= POLLOUT;
	if (events & SLIRP_POLL_PRI)
		ev |= POLLPRI;
	n->pfd[n->npfd] = (struct pollfd){ fd, ev, 0 };
	return n->npfd++;
}

static int get_revents(int idx, void *opaque)
{
	struct vmm_net *n = opaque;
	short r;
	int ev = 0;

	if (idx < n->reserve || idx >= n->npfd)
		return 0;
	r = n->pfd[idx].revents;
	if (r & POLLIN)
		ev |= SLIRP_POLL_IN;
	if (r & POLLOUT)
		ev |= SLIRP_POLL_OUT;
	if (r & POLLPRI)
		ev |= SLIRP_POLL_PRI;
	if (r & POLLERR)
		ev |= SLIRP_POLL_ERR;
	if (r & POLLHUP)
		ev |= SLIRP_POLL_HUP;
	return ev;
}

/* Fire slirp's timers that are due; the earliest left, in ms, or -1. */
static int64_t run_timers(struct vmm_net *n)
{
	int64_t now = (int64_t)(mono_ns() / 1000000u), next = -1;

	for (unsigned i = 0; i < NET_MAX_TIMERS; i++) {
		struct net_timer *t = &n->timer[i];
		if (!t->used || t->expire_ms < 0)
			continue;
		if (t->expire_ms <= now) {
			t->expire_ms = -1;
			if (t->cb)
				t->cb(t->cb_opaque);
			else
				slirp_handle_timer(n->slirp, t->id, t->cb_opaque);
		}
		if (t->used && t->expire_ms >= 0 && (next < 0 || t->expire_ms < next))
			next = t->expire_ms;
	}
	return next;
}

int vmm_net_fill(struct vmm_net *n, struct pollfd *own, int reserve, struct pollfd **set)
{
	uint32_t timeout = UINT32_MAX;
	int64_t tmr;

	if (!n) {
		*set = own;
		return reserve;
	}
	n->npfd = 0, n->reserve = 0;
	for (int i = 0; i < reserve; i++)
		if (add_poll(-1, 0, n) < 0)
			return *set = own, reserve;
	for (int i = 0; i < reserve; i++)
		n->pfd[i] = own[i];
	n->reserve = reserve;
	slirp_pollfds_fill(n->slirp, &timeout, add_poll, n);
	tmr = run_timers(n);
	n->due = timeout == UINT32_MAX ? 0 : mono_ns() + (uint64_t)timeout * 1000000u;
	if (tmr >= 0 && (!n->due || (uint64_t)tmr * 1000000u < n->due))
		n->due = (uint64_t)tmr * 1000000u;
	*set = n->pfd;
	return n->npfd;
}

void vmm_net_polled(struct vmm_net *n, int err)
{
	if (!n)
		return;
	slirp_pollfds_poll(n->slirp, err, get_revents, n);
	n->kick = 0;
}

uint64_t vmm_net_deadline(const struct vmm_net *n)
{
	return n ? n->due : 0;
}

void vmm_net_service(struct vmm_net *n)
{
	struct pollfd *set;
	int np, rc;

	if (!n)
		return;
	if (!vmm_signals_io() && !n->kick && !(n->due && mono_ns() >= n->due))
		return;
	np = vmm_net_fill(n, NULL, 0, &set);
	rc = poll(set, (nfds_t)np, 0);
	vmm_net_polled(n, rc < 0);
	run_timers(n);
}

/* ---- the instance ----------------------------------------------------------- */

/* A frame the guest sent: into slirp, which may answer at once (ARP, DHCP)
 * through send_packet, or write to a host socket; its sockets are looked
 * at before the guest runs again. */
static void net_tx(void *ctx, const uint8_t *frame, size_t len)
{
	struct vmm_net *n = ctx;

	slirp_input(n->slirp, frame, (int)len);
	n->kick = 1;
}

static int add_forwards(struct vmm_net *n, const struct vmm_net_cfg *cfg, char *why, size_t len)
{
	for (unsigned i = 0; i < cfg->nfwd; i++) {
		const struct vmm_net_fwd *f = &cfg->fwd[i];
		struct in_addr guest = f->guest;
		if (!guest.s_addr)
			inet_pton(AF_INET, "10.0.2.15", &guest);
		if (slirp_add_hostfwd(n->slirp, f->udp, f->host, (int)f->host_port, guest,
				      (int)f->guest_port) < 0) {
			snprintf(why, len, "--net: hostfwd %s port %u: cannot listen there (%s)",
				 f->udp ? "udp" : "tcp", f->host_port, strerror(errno ? errno : EADDRINUSE));
			return -1;
		}
	}
	return 0;
}

struct vmm_net *vmm_net_open(struct vm *vm, const struct vmm_net_cfg *cfg, char *why, size_t len)
{
	struct vmm_net *n = calloc(1, sizeof(*n));
	SlirpConfig sc = { .version = 4, .in_enabled = true };
	struct be_net_host host;

	if (!n) {
		snprintf(why, len, "--net: out of memory");
		return NULL;
	}
	n->vm = vm;
	inet_pton(AF_INET, "10.0.2.0", &sc.vnetwork);
	inet_pton(AF_INET, "255.255.255.0", &sc.vnetmask);
	inet_pton(AF_INET, "10.0.2.2", &sc.vhost);
	inet_pton(AF_INET, "10.0.2.15", &sc.vdhcp_start);
	inet_pton(AF_INET, "10.0.2.3", &sc.vnameserver);
	sc.vhostname = "pvmm";
	n->slirp = slirp_new(&sc, &callbacks, n);
	if (!n->slirp) {
		snprintf(why, len, "--net: libslirp would not start");
		free(n);
		return NULL;
	}
	host = (struct be_net_host){ .tx = net_tx, .ctx = n };
	if (add_forwards(n, cfg, why, len) ||
	    !(n->nb = be_net_add(vm, 0, cfg->mac, &host, why, len))) {
		vmm_net_close(n);
		return NULL;
	}
	return n;
}

void vmm_net_close(struct vmm_net *n)
{
	if (!n)
		return;
	if (n->slirp)
		slirp_cleanup(n->slirp);
	be_net_free(n->nb);
	free(n->pfd);
	free(n);
}
