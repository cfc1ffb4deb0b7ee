/* gdb.c - the GDB remote stub (see gdb.h). */
#include "vmm/gdb.h"
#include "vmm/vmm.h"
#include "mmu/mmu.h"
#include "mmu/ptwr.h"

#include <errno.h>
#include <fcntl.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#define PKT 4096
#define EFLAGS_TF (1ull << 8)

struct vmm_gdb {
	int lfd, fd;
	int nowait;
	int pending;            /* a connection is waiting (the guest was running) */
	int stepping;
	int set_tf;             /* the step's TF is gdb's (the guest had not set it) ... */
	int step_popf;          /* ... but the stepped popf sets the guest's own */
	int interrupt;          /* Ctrl-C or an event asked for a stop */
	char reason[600];       /* why, told to gdb as console output */
	uint64_t break_unhook;  /* stop when this L1 is unhooked; 0: off */
	int break_refuse;       /* stop when an entry is refused */
	uint32_t trace_mask0;   /* the events collected before any break-* */
	int crash_shown;        /* the stop before a crash was reported */
	char path[108];
};

/* gdb's amd64 'g' layout: 17 8-byte registers, then eflags and the six
 * segment registers at 4 bytes (the FPU and SSE state stay unavailable). */
static const int gdb_order[17] = {
	13, 11, 14, 12, 9, 8, 10, 15, /* rax rbx rcx rdx rsi rdi rbp rsp */
	0, 1, 2, 3, 4, 5, 6, 7,       /* r8 .. r15 */
	16,                           /* rip */
};
#define GDB_EFLAGS 17
#define GDB_NREGS 24

/* A port: decimal digits only, 0 to 65535. */
static int parse_port(const char *s, unsigned *port)
{
	char *end;
	unsigned long v;

	if (*s < '0' || *s > '9')
		return -1;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || *end || v > 65535)
		return -1;
	*port = (unsigned)v;
	return 0;
}

/* "tcp:[HOST]:PORT" or "tcp:PORT" (HOST an IPv4 address or localhost;
 * default 127.0.0.1), or "unix:PATH"; (addr) without the ",nowait". */
static int listen_on(struct vmm_gdb *g, const char *addr, char *why, size_t whysize)
{
	int one = 1;

	if (!strncmp(addr, "tcp:", 4)) {
		struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
		socklen_t len = sizeof(a);
		const char *colon = strrchr(addr + 4, ':'), *port = colon ? colon + 1 : addr + 4;
		char host[64], shown[INET_ADDRSTRLEN];
		unsigned p;

		if (colon) {
			size_t n = (size_t)(colon - (addr + 4));
			if (n >= sizeof(host)) {
				snprintf(why, whysize, "bad host: want an IPv4 address or localhost");
				return -EINVAL;
			}
			memcpy(host, addr + 4, n);
			host[n] = '\0';
			if (n && strcmp(host, "localhost") && inet_pton(AF_INET, host, &a.sin_addr) != 1) {
				snprintf(why, whysize, "bad host '%.40s': want an IPv4 address or localhost",
					 host);
				return -EINVAL;
			}
		}
		if (parse_port(port, &p)) {
			snprintf(why, whysize, "bad port '%.40s': want 0 to 65535", port);
			return -EINVAL;
		}
		a.sin_port = htons((uint16_t)p);
		g->lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (g->lfd < 0 || setsockopt(g->lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
		    bind(g->lfd, (struct sockaddr *)&a, sizeof(a)) || listen(g->lfd, 1) ||
		    getsockname(g->lfd, (struct sockaddr *)&a, &len))
			return -errno;
		inet_ntop(AF_INET, &a.sin_addr, shown, sizeof(shown));
		fprintf(stderr, "pvmm: gdb: listening on tcp:%s:%u%s\n", shown, ntohs(a.sin_port),
			g->nowait ? "" : " (the guest waits for gdb)");
		return 0;
	}
	if (!strncmp(addr, "unix:", 5)) {
		struct sockaddr_un a = { .sun_family = AF_UNIX };
		size_t n = strlen(addr + 5);
		if (!n) {
			snprintf(why, whysize, "no socket path: want unix:PATH");
			return -EINVAL;
		}
		if (n >= sizeof(a.sun_path))
			return -ENAMETOOLONG;
		memcpy(a.sun_path, addr + 5, n);
		g->lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (g->lfd < 0)
			return -errno;
		unlink(a.sun_path);
		if (bind(g->lfd, (struct sockaddr *)&a, sizeof(a)) || listen(g->lfd, 1))
			return -errno;
		memcpy(g->path, a.sun_path, sizeof(g->path)); /* ours to unlink now */
		fprintf(stderr, "pvmm: gdb: listening on unix:%s%s\n", g->path,
			g->nowait ? "" : " (the guest waits for gdb)");
		return 0;
	}
	snprintf(why, whysize, "want tcp:[HOST:]PORT or unix:PATH, then maybe ,nowait");
	return -EINVAL;
}

struct vmm_gdb *vmm_gdb_open(struct vm *vm, const char *spec)
{
	struct vmm_gdb *g = calloc(1, sizeof(*g));
	char addr[256], why[200] = "";
	size_t n = strlen(spec);
	int rc;

	if (!g) {
		snprintf(vm->end_msg, sizeof(vm->end_msg), "--gdb=%s: out of memory", spec);
		return NULL;
	}
	g->lfd = g->fd = -1;
	g->trace_mask0 = vm->trace_mask;
	if (n >= 7 && !strcmp(spec + n - 7, ",nowait")) {
		g->nowait = 1;
		n -= 7;
	}
	snprintf(addr, sizeof(addr), "%.*s", (int)n, spec);
	rc = n < sizeof(addr) ? listen_on(g, addr, why, sizeof(why)) : -ENAMETOOLONG;
	/* a connection while the guest runs or blocks: SIGIO interrupts the
	 * guest (as gdb's Ctrl-C does) and the trap loop accepts it */
	if (!rc && (fcntl(g->lfd, F_SETOWN, getpid()) ||
		    fcntl(g->lfd, F_SETFL, fcntl(g->lfd, F_GETFL) | O_NONBLOCK | O_ASYNC)))
		rc = -errno;
	if (rc) {
		snprintf(vm->end_msg, sizeof(vm->end_msg), "--gdb=%s: %s", spec,
			 rc == -EINVAL && why[0] ? why : strerror(-rc));
		vmm_gdb_close(g);
		return NULL;
	}
	return g;
}

void vmm_gdb_close(struct vmm_gdb *g)
{
	if (!g)
		return;
	if (g->fd >= 0)
		close(g->fd);
	if (g->lfd >= 0)
		close(g->lfd);
	if (g->path[0])
		unlink(g->path);
	free(g);
}

int vmm_gdb_wait_at_boot(const struct vmm_gdb *g)
{
	return !g->nowait;
}

int vmm_gdb_poll_fd(const struct vmm_gdb *g)
{
	return !g ? -1 : g->fd >= 0 ? g->fd : g->lfd;
}

/* ---- packets -------------------------------------------------------------- */

static int getc_fd(struct vmm_gdb *g)
{
	unsigned char c;
	ssize_t n;

	while ((n = read(g->fd, &c, 1)) < 0 && errno == EINTR)
		;
	return n == 1 ? c : -1;
}

static void put_raw(struct vmm_gdb *g, const char *s, size_t n)
{
	while (n) {
		ssize_t w = write(g->fd, s, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return;
		s += w, n -= (size_t)w;
	}
}

static void putpkt(struct vmm_gdb *g, const char *data)
{
	static const char hexd[] = "0123456789abcdef";
	size_t n = strlen(data);
	unsigned sum = 0;
	char tail[3];

	for (size_t i = 0; i < n; i++)
		sum += (unsigned char)data[i];
	tail[0] = '#', tail[1] = hexd[(sum >> 4) & 15], tail[2] = hexd[sum & 15];
	for (int tries = 0; tries < 3 && g->fd >= 0; tries++) {
		put_raw(g, "$", 1);
		put_raw(g, data, n);
		put_raw(g, tail, 3);
		if (getc_fd(g) != '-')
			return;
	}
}

/* One packet into (buf); -1 when gdb went away. */
static int getpkt(struct vmm_gdb *g, char *buf, size_t size)
{
	for (;;) {
		int c;
		size_t n = 0;
		while ((c = getc_fd(g)) != '$')
			if (c < 0)
				return -1;
		while ((c = getc_fd(g)) != '#' && c >= 0)
			if (n + 1 < size)
				buf[n++] = (char)c;
		if (c < 0 || getc_fd(g) < 0 || getc_fd(g) < 0)
			return -1;
		buf[n] = '\0';
		put_raw(g, "+", 1);
		return (int)n;
	}
}

static void tohex(char *out, const uint8_t *p, size_t n)
{
	static const char hexd[] = "0123456789abcdef";

	for (size_t i = 0; i < n; i++)
		out[2 * i] = hexd[p[i] >> 4], out[2 * i + 1] = hexd[p[i] & 15];
	out[2 * n] = '\0';
}

static int nib(char c)
{
	return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10
	       : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

static size_t fromhex(uint8_t *out, const char *s, size_t max)
{
	size_t n = 0;

	while (n < max && nib(s[0]) >= 0 && nib(s[1]) >= 0) {
		out[n++] = (uint8_t)(nib(s[0]) << 4 | nib(s[1]));
		s += 2;
	}
	return n;
}

/* Console output for gdb's user ("O" packets), e.g. monitor replies. */
static void say(struct vmm_gdb *g, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void say(struct vmm_gdb *g, const char *fmt, ...)
{
	char text[1024], pkt[2 * 1024 + 2];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	pkt[0] = 'O';
	tohex(pkt + 1, (const uint8_t *)text, strlen(text));
	putpkt(g, pkt);
}

/* ---- registers and memory ---------------------------------------------------- */

static void read_regs(struct vm *vm, char *out)
{
	const uint64_t *r = (const uint64_t *)&vm->vcpu.regs;
	uint8_t buf[17 * 8 + 7 * 4];
	/* eflags, cs, ss, ds, es, fs, gs: what Xen's builder loads (data
	 * segments are the NULL selector for 64-bit guests); kernel mode's RPL
	 * reads 0, as the guest believes */
	uint32_t seg[7] = { (uint32_t)vm->vcpu.regs.eflags,
			    (vcpu_compat(&vm->vcpu) ? FLAT_RING3_CS32 : FLAT_RING3_CS64) &
				    (vm->vcpu.user_mode ? ~0u : ~3u),
			    FLAT_KERNEL_SS64, FLAT_KERNEL_DS64, FLAT_KERNEL_DS64, 0, 0 };

	for (int i = 0; i < 17; i++)
		memcpy(buf + i * 8, &r[gdb_order[i]], 8);
	memcpy(buf + 17 * 8, seg, sizeof(seg));
	tohex(out, buf, sizeof(buf));
}

static void write_reg(struct vm *vm, int n, uint64_t v)
{
	uint64_t *r = (uint64_t *)&vm->vcpu.regs;

	if (n < 17)
		r[gdb_order[n]] = v;
	else if (n == GDB_EFLAGS)
		vm->vcpu.regs.eflags = (vm->vcpu.regs.eflags & ~0xcd5ull) | (v & 0xcd5ull);
}

static void write_regs(struct vm *vm, const char *hex)
{
	uint8_t buf[17 * 8 + 4];
	size_t n = fromhex(buf, hex, sizeof(buf));
	uint64_t v;

	for (int i = 0; i < 17 && (size_t)(i + 1) * 8 <= n; i++) {
		memcpy(&v, buf + i * 8, 8);
		write_reg(vm, i, v);
	}
	if (n == sizeof(buf)) {
		uint32_t fl;
		memcpy(&fl, buf + 17 * 8, 4);
		write_reg(vm, GDB_EFLAGS, fl);
	}
}

/* Guest virtual memory for gdb: reads as the guest could, writes into any
 * mapped frame but a page table (breakpoints in read-only text work). */
static int mem_access(struct vm *vm, uint64_t va, uint8_t *buf, size_t n, int write)
{
	struct mmu_walk w;

	for (size_t done = 0; done < n;) {
		size_t chunk = 4096 - ((va + done) & 4095);
		if (chunk > n - done)
			chunk = n - done;
		if (mmu_walk(vm, vcpu_cr3(&vm->vcpu), _gva(va + done), &w) || w.mfn >= vm->nr_pages ||
		    (write && (mmu_is_pagetable(vm, w.mfn) ||
			       vm->mmu.frames[w.mfn].type == PGT_SEG_DESC)))
			return -1;
		uint8_t *host = mmu_frame_data(vm, w.mfn) + ((va + done) & 4095);
		if (write)
			memcpy(host, buf + done, chunk);
		else
			memcpy(buf + done, host, chunk);
		done += chunk;
	}
	return 0;
}

/* ---- monitor commands ------------------------------------------------------- */

static void mon_ptwalk(struct vmm_gdb *g, struct vm *vm, uint64_t va)
{
	static const char *const lv[] = { "L4", "L3", "L2", "L1" };
	uint64_t mfn = mfn_x(vcpu_cr3(&vm->vcpu));
	char flags[96];

	say(g, "page walk of %#llx from L4 frame %#llx (%s mode):\n", (unsigned long long)va,
	    (unsigned long long)mfn, vm->vcpu.user_mode ? "user" : "kernel");
	for (int l = 0; l < 4 && va < HOLE_BASE; l++) {
		unsigned idx = (va >> (39 - 9 * l)) & 511;
		const uint64_t *tab = mmu_ptwr_entries(vm, mfn);
		uint64_t e = tab[idx];
		const struct mmu_frame *f = &vm->mmu.frames[mfn];
		vmm_format_pte(e, flags, sizeof(flags));
		say(g, "  %s[%3u] in frame %#llx (%s, type count %u%s): %#llx = %s\n", lv[l], idx,
		    (unsigned long long)mfn, mmu_type_name((enum mmu_type)f->type), f->type_count,
		    f->pinned ? ", pinned" : "", (unsigned long long)e, flags);
		if (!(e & PTE_P))
			return;
		mfn = (e & PTE_ADDR_MASK) >> 12;
		if (mfn >= vm->nr_frames)
			return;
	}
	say(g, "  -> frame %#llx (%s)\n", (unsigned long long)mfn,
	    mmu_type_name((enum mmu_type)vm->mmu.frames[mfn].type));
}

static void mon_unhooked(struct vmm_gdb *g, struct vm *vm)
{
	int any = 0;

	for (int i = 0; i < 2; i++) {
		const struct ptwr_slot *s = &vm->mmu.ptwr.slot[i];
		if (!s->used)
			continue;
		any = 1;
		say(g, "L1 frame %#llx out of sync (%s)%s%llx, %u writable alias(es)\n",
		    (unsigned long long)s->l1, i == PTWR_SLOT_ACTIVE ? "unhooked" : "inactive",
		    i == PTWR_SLOT_ACTIVE ? ", maps from 0x" : "",
		    (unsigned long long)(i == PTWR_SLOT_ACTIVE ? s->base : 0), s->naliases);
	}
	if (!any)
		say(g, "no L1 is out of sync\n");
}

static const char mon_help[] =
	"pvmm monitor commands: ptwalk ADDR, unhooked, frame MFN, stats, trace LIST|off, "
	"break-unhook MFN|off, break-refuse [off], help\n";

/* A number and nothing after it. */
static int mon_number(const char *s, unsigned long long *v)
{
	char *end;

	if (!*s || *s == '-')
		return -1;
	errno = 0;
	*v = strtoull(s, &end, 0);
	return errno || *end ? -1 : 0;
}

/* Replies OK, or an error gdb shows ("Protocol error with Rcmd") after
 * the text that says what was wrong. */
static void monitor(struct vmm_gdb *g, struct vm *vm, const char *hexcmd)
{
	struct vmm *host = vmm_of(vm);
	char cmd[256];
	size_t n = fromhex((uint8_t *)cmd, hexcmd, sizeof(cmd) - 1);
	unsigned long long v = 0;
	int err = 0;

	cmd[n] = '\0';
	if (!strncmp(cmd, "ptwalk ", 7) && !mon_number(cmd + 7, &v)) {
		mon_ptwalk(g, vm, v);
	} else if (!strcmp(cmd, "unhooked")) {
		mon_unhooked(g, vm);
	} else if (!strncmp(cmd, "frame ", 6) && !mon_number(cmd + 6, &v)) {
		if (v < vm->nr_frames) {
			const struct mmu_frame *f = &vm->mmu.frames[v];
			say(g, "frame %#llx: %s, type count %u, references %u%s, linear %u/%u\n", v,
			    mmu_type_name((enum mmu_type)f->type), f->type_count, f->refs,
			    f->pinned ? ", pinned" : "", f->linear_entries, f->linear_uses);
		} else {
			say(g, "frame %#llx: the domain has frames 0 to %#llx\n", v,
			    (unsigned long long)vm->nr_frames - 1);
			err = 1;
		}
	} else if (!strcmp(cmd, "stats")) {
		char *buf = NULL;
		size_t len = 0;
		FILE *f = open_memstream(&buf, &len);
		vmm_stats_write(vm, f, 0);
		fclose(f);
		for (char *line = strtok(buf, "\n"); line; line = strtok(NULL, "\n"))
			say(g, "%s\n", line);
		free(buf);
	} else if (!strncmp(cmd, "trace ", 6)) {
		uint32_t mask = 0;
		if (strcmp(cmd + 6, "off") && vmm_trace_parse(cmd + 6, &mask)) {
			say(g, "trace: want a list of pt, hypercall, fault, event, xenstore, all; or off\n");
			err = 1;
		} else {
			host->trace_print = mask;
			say(g, "trace: %s\n", cmd + 6);
		}
	} else if (!strcmp(cmd, "break-unhook off")) {
		g->break_unhook = 0;
		say(g, "will not stop when an L1 frame is unhooked\n");
	} else if (!strncmp(cmd, "break-unhook ", 13) && !mon_number(cmd + 13, &v) && v) {
		g->break_unhook = v;
		say(g, "will stop when L1 frame %#llx is unhooked\n", v);
	} else if (!strcmp(cmd, "break-refuse") || !strcmp(cmd, "break-refuse on")) {
		g->break_refuse = 1;
		say(g, "will stop when a page-table entry is refused\n");
	} else if (!strcmp(cmd, "break-refuse off")) {
		g->break_refuse = 0;
		say(g, "will not stop when a page-table entry is refused\n");
	} else if (!strcmp(cmd, "help")) {
		say(g, "%s", mon_help);
	} else {
		say(g, "pvmm: unknown monitor command '%s'; %s", cmd, mon_help);
		err = 1;
	}
	/* the events --trace asked for at start, those monitor trace prints,
	 * and page-table events while a break-* waits for one */
	vm->trace_mask = g->trace_mask0 | host->trace_print |
			 (g->break_unhook || g->break_refuse ? TRACE_PT : 0);
	putpkt(g, err ? "E01" : "OK");
}

/* ---- the conversation -------------------------------------------------------- */

static void stop_reply(struct vmm_gdb *g, int signo)
{
	char r[8];

	if (g->reason[0]) {
		say(g, "pvmm: %s\n", g->reason);
		g->reason[0] = '\0';
	}
	snprintf(r, sizeof(r), "S%02x", signo);
	putpkt(g, r);
}

/* Accept gdb's connection: waiting for it at boot, at once when one is
 * pending (the listening socket is non-blocking). */
static int accept_gdb(struct vmm_gdb *g)
{
	struct pollfd p = { g->lfd, POLLIN, 0 };
	int wait = !g->pending;

	g->pending = 0;
	for (;;) {
		g->fd = accept4(g->lfd, NULL, NULL, SOCK_CLOEXEC);
		if (g->fd >= 0)
			break;
		if (!wait || (errno != EAGAIN && errno != EINTR) || vmm_signals_ended())
			return -1;
		if (poll(&p, 1, -1) < 0 && errno != EINTR)
			return -1;
	}
	/* Ctrl-C while the guest runs: SIGIO makes pvmm interrupt the guest */
	fcntl(g->fd, F_SETOWN, getpid());
	fcntl(g->fd, F_SETFL, fcntl(g->fd, F_GETFL) | O_ASYNC);
	return 0;
}

/* gdb's step is over: the TF it set goes, the guest's own stays (a popf
 * replaced gdb's with what the guest wanted, as Linux's ptrace sees it). */
static void end_step(struct vmm_gdb *g, struct vm *vm)
{
	if (g->set_tf && !g->step_popf)
		vm->vcpu.regs.eflags &= ~EFLAGS_TF;
	g->stepping = g->set_tf = g->step_popf = 0;
}

/* Whether the instruction at rip is popf (with operand-size prefixes). */
static int at_popf(struct vm *vm)
{
	uint8_t b[4];
	unsigned i = 0;

	if (mem_access(vm, vm->vcpu.regs.rip, b, sizeof(b), 0))
		return 0;
	while (i < 3 && (b[i] == 0x66 || (b[i] & 0xf0) == 0x40))
		i++;
	return b[i] == 0x9d;
}

static void detach(struct vmm_gdb *g, struct vm *vm)
{
	close(g->fd);
	g->fd = -1;
	end_step(g, vm);
}

/* 1: resume the guest; 0: keep talking. */
static int command(struct vmm_gdb *g, struct vm *vm, char *p)
{
	char out[PKT];
	unsigned long long a = 0, l = 0;
	uint8_t buf[PKT / 2];

	switch (p[0]) {
	case '?': stop_reply(g, 5); return 0;
	case 'g': read_regs(vm, out); putpkt(g, out); return 0;
	case 'G': write_regs(vm, p + 1); putpkt(g, "OK"); return 0;
	case 'p': {
		unsigned n = (unsigned)strtoul(p + 1, NULL, 16);
		if (n >= GDB_NREGS) { putpkt(g, "E45"); return 0; }
		read_regs(vm, out);
		out[n < 17 ? (n + 1) * 16 : 17 * 16 + (n - 16) * 8] = '\0';
		putpkt(g, out + (n < 17 ? n * 16 : 17 * 16 + (n - 17) * 8));
		return 0;
	}
	case 'P': {
		char *eq = strchr(p, '=');
		uint64_t v = 0;
		unsigned n = (unsigned)strtoul(p + 1, NULL, 16);
		if (!eq) { putpkt(g, "E22"); return 0; }
		fromhex((uint8_t *)&v, eq + 1, 8);
		write_reg(vm, (int)n, v);
		putpkt(g, "OK");
		return 0;
	}
	case 'm':
		if (sscanf(p + 1, "%llx,%llx", &a, &l) != 2 || l > sizeof(buf) ||
		    mem_access(vm, a, buf, l, 0)) { putpkt(g, "E14"); return 0; }
		tohex(out, buf, l);
		putpkt(g, out);
		return 0;
	case 'M': {
		char *colon = strchr(p, ':');
		if (!colon || sscanf(p + 1, "%llx,%llx", &a, &l) != 2 || l > sizeof(buf) ||
		    fromhex(buf, colon + 1, l) != l || mem_access(vm, a, buf, l, 1)) {
			putpkt(g, "E14");
			return 0;
		}
		putpkt(g, "OK");
		return 0;
	}
	case 'c': case 'C': /* with a signal: there is no signal to give a guest */
		end_step(g, vm);
		return 1;
	case 's': case 'S':
		if (!g->stepping)
			g->set_tf = !(vm->vcpu.regs.eflags & EFLAGS_TF);
		g->step_popf = g->set_tf && at_popf(vm);
		g->stepping = 1;
		vm->vcpu.regs.eflags |= EFLAGS_TF;
		return 1;
	case 'D': putpkt(g, "OK"); detach(g, vm); return 1;
	case 'k':
		vm_end_domain(vm, VM_CRASH, "killed from gdb");
		detach(g, vm);
		return 1;
	case 'H': case 'T': putpkt(g, "OK"); return 0;
	case 'q':
		if (!strncmp(p, "qSupported", 10)) putpkt(g, "PacketSize=1000");
		else if (!strcmp(p, "qAttached")) putpkt(g, "1");
		else if (!strcmp(p, "qC")) putpkt(g, "QC1");
		else if (!strcmp(p, "qfThreadInfo")) putpkt(g, "m1");
		else if (!strcmp(p, "qsThreadInfo")) putpkt(g, "l");
		else if (!strncmp(p, "qRcmd,", 6)) monitor(g, vm, p + 6);
		else putpkt(g, "");
		return 0;
	default:
		putpkt(g, ""); /* not supported: gdb falls back */
		return 0;
	}
}

void vmm_gdb_stopped(struct vmm_gdb *g, struct vm *vm, int signo)
{
	char pkt[PKT];

	if (g->fd < 0) {
		if (accept_gdb(g))
			return;
	} else {
		stop_reply(g, signo);
	}
	while (g->fd >= 0) {
		if (getpkt(g, pkt, sizeof(pkt)) < 0) {
			detach(g, vm); /* gdb went away: the guest runs on */
			return;
		}
		if (command(g, vm, pkt))
			return;
	}
}

int vmm_gdb_wants_stop(struct vmm_gdb *g, struct vm *vm, const struct stub_trap *t)
{
	struct pollfd p = { g->fd, POLLIN, 0 };
	unsigned char c;

	if (g->fd < 0) { /* gdb connecting to a running guest: stop it, as qemu does */
		p.fd = g->lfd;
		if (vm->end || poll(&p, 1, 0) != 1)
			return 0;
		g->pending = 1;
		g->interrupt = SIGINT;
		return 1;
	}
	if (vm->end == VM_CRASH && !g->crash_shown) { /* show gdb the guest before it dies */
		g->crash_shown = 1;
		if (!g->interrupt) { /* unless a monitor break-* stop already says why */
			snprintf(g->reason, sizeof(g->reason), "the domain is being crashed: %.500s",
				 vm->end_msg);
			g->interrupt = t && t->signo != SIGSYS ? t->signo : SIGABRT;
		}
	}
	if (poll(&p, 1, 0) == 1) { /* Ctrl-C (0x03), or gdb gone */
		if (read(g->fd, &c, 1) != 1) {
			detach(g, vm);
			return 0;
		}
		if (c == 0x03)
			g->interrupt = SIGINT;
	}
	if (t && vmm_gdb_owns(g, t)) {
		g->interrupt = SIGTRAP;
		end_step(g, vm);
	}
	return g->interrupt != 0;
}

int vmm_gdb_owns(const struct vmm_gdb *g, const struct stub_trap *t)
{
	return g && g->fd >= 0 && t->signo == SIGTRAP && (t->trapno != X86_DB || g->stepping);
}

int vmm_gdb_steps(const struct vmm_gdb *g)
{
	return g && g->fd >= 0 && g->stepping && g->set_tf;
}

int vmm_gdb_take_stop(struct vmm_gdb *g)
{
	int s = g->interrupt;

	g->interrupt = 0;
	return s;
}

void vmm_gdb_event(struct vmm_gdb *g, const struct vm_event *ev)
{
	if (!g || g->fd < 0 || ev->kind != TRACE_PT)
		return;
	if (g->break_unhook && !strcmp(ev->what, "unhook") && ev->mfn == g->break_unhook) {
		snprintf(g->reason, sizeof(g->reason), "stopped: L1 frame %#llx was unhooked",
			 (unsigned long long)ev->mfn);
		g->interrupt = SIGTRAP;
	}
	if (g->break_refuse && !strcmp(ev->what, "refuse")) {
		snprintf(g->reason, sizeof(g->reason), "stopped: entry %d of L1 frame %#llx refused: %s",
			 ev->idx, (unsigned long long)ev->mfn, vm_why_text(ev->why));
		g->interrupt = SIGTRAP;
	}
}

void vmm_gdb_ended(struct vmm_gdb *g, struct vm *vm, int status)
{
	char r[8];

	if (g->fd < 0)
		return;
	if (vm->end == VM_POWEROFF || vm->end == VM_CRASH || vm->end == VM_REBOOT)
		snprintf(r, sizeof(r), "W%02x", status & 0xff);
	else
		snprintf(r, sizeof(r), "X%02x", SIGKILL);
	putpkt(g, r);
}
