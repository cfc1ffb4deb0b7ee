/* xenstore: a small xenbus client, the way a PV kernel talks to the store
 * through the ring in its xenstore page: reads of what the toolstack wrote,
 * writes, directories, watches, transactions (committed, aborted and in
 * conflict), errors, and a value larger than the ring in both directions.
 * With "attack=NAME" on the command line it breaks the protocol instead
 * (indices, length, flood): pvmm must end it with one line. With
 * "wait=shutdown" it waits for the toolstack's control/shutdown and powers
 * off when asked; "wait=ignore" watches the node and never acts. */
#include "rt.h"

#define RING XENSTORE_RING_SIZE

static volatile struct xenstore_domain_interface *xs;
static uint32_t port, req_id, served;
static char event[8][96];
static unsigned nevents;
static char buf[XENSTORE_PAYLOAD_MAX + 1];
static uint32_t buf_len;

static void notify(void)
{
	uint32_t p = port;

	expect_eq(HYPERVISOR_event_channel_op(EVTCHNOP_send, &p), 0);
}

/* Put (n) bytes into the request ring, letting the store drain it when full. */
static void put(const void *p, size_t n)
{
	const char *c = p;

	while (n) {
		if (xs->req_prod - xs->req_cons == RING) {
			notify();
			guest_assert(xs->req_prod - xs->req_cons < RING);
			continue;
		}
		xs->req[xs->req_prod % RING] = *c++;
		xs->req_prod++, n--;
	}
}

/* Take (n) bytes from the reply ring, asking for more when it runs dry. */
static void get(void *p, size_t n)
{
	char *c = p;

	while (n) {
		if (xs->rsp_cons == xs->rsp_prod) {
			notify();
			guest_assert(xs->rsp_cons != xs->rsp_prod);
			continue;
		}
		*c++ = xs->rsp[xs->rsp_cons % RING];
		xs->rsp_cons++, n--;
	}
}

/* Read one message into buf; a watch event is filed as "path|token". */
static struct xsd_sockmsg next(void)
{
	struct xsd_sockmsg m;

	get(&m, sizeof(m));
	guest_assert(m.len <= XENSTORE_PAYLOAD_MAX);
	get(buf, m.len);
	buf[m.len] = 0, buf_len = m.len;
	if (m.type == XS_WATCH_EVENT && nevents < 8)
		snprintf(event[nevents++], sizeof(event[0]), "%s|%s", buf, buf + strlen(buf) + 1);
	return m;
}

/* One request of (a) then (b) (each with its NUL when (nul)); the reply's
 * type, its payload in buf. */
static uint32_t request(uint32_t type, uint32_t tx, const char *a, const char *b, int nul_b)
{
	size_t la = strlen(a) + 1, lb = b ? strlen(b) + (size_t)nul_b : 0;
	struct xsd_sockmsg h = { type, ++req_id, tx, (uint32_t)(la + lb) }, r;

	put(&h, sizeof(h));
	put(a, la);
	put(b, lb);
	notify();
	while ((r = next()).type == XS_WATCH_EVENT)
		;
	expect_eq(r.req_id, h.req_id);
	served++;
	return r.type;
}

static const char *read_tx(uint32_t tx, const char *path)
{
	return request(XS_READ, tx, path, NULL, 0) == XS_READ ? buf : NULL;
}

static void expect_value(uint32_t tx, const char *path, const char *want)
{
	const char *got = read_tx(tx, path);

	if (!got || strcmp(got, want)) {
		printf("read %s: got %s, want %s\n", path, got ? got : buf, want);
		guest_assert(0);
	}
}

static void expect_error(uint32_t type, uint32_t tx, const char *a, const char *b, const char *err)
{
	uint32_t t = request(type, tx, a, b, 1);

	if (t != XS_ERROR || strcmp(buf, err)) {
		printf("request %u %s: got type %u '%s', want %s\n", type, a, t, buf, err);
		guest_assert(0);
	}
}

static void ok(uint32_t type, uint32_t tx, const char *a, const char *b, int nul_b)
{
	expect_eq(request(type, tx, a, b, nul_b), type);
	guest_assert(!strcmp(buf, "OK"));
}

/* Collect the watch events the store has sent so far. */
static void drain(void)
{
	notify();
	while (xs->rsp_cons != xs->rsp_prod)
		next();
}

static int had_event(const char *e)
{
	for (unsigned i = 0; i < nevents; i++)
		if (!strcmp(event[i], e))
			return 1;
	return 0;
}

static uint32_t tx_start(void)
{
	uint32_t id = 0;

	expect_eq(request(XS_TRANSACTION_START, 0, "", NULL, 0), XS_TRANSACTION_START);
	for (const char *p = buf; *p; p++)
		id = id * 10 + (uint32_t)(*p - '0');
	guest_assert(id != 0);
	return id;
}

static const char *find(const char *hay, const char *needle)
{
	size_t n = strlen(needle);

	for (; *hay; hay++)
		if (!memcmp(hay, needle, n))
			return hay;
	return NULL;
}

static void attack(const char *how)
{
	struct xsd_sockmsg h = { XS_READ, 1, 0, 6 }; /* "domid" */

	printf("xenstore: attack %s\n", how);
	if (!strcmp(how, "indices")) {
		xs->req_prod = xs->req_cons + 5000;
	} else if (!strcmp(how, "length")) {
		h.len = 100000;
		put(&h, sizeof(h));
	} else { /* flood: requests whose replies are never read */
		for (unsigned i = 0; i < 100000; i++) {
			put(&h, sizeof(h));
			put("domid", 6);
			notify();
		}
	}
	notify();
	printf("xenstore: attack %s was not stopped\n", how);
}

/* Watch control/shutdown as a PV kernel does; sleep on the store's port
 * until pvmm writes it (a SIGTERM to pvmm), or spin if (ignore). */
static void wait_shutdown(int ignore)
{
	volatile struct shared_info *sh = rt_map_shared_info();
	uint32_t ports[1] = { port };
	const char *v;

	ok(XS_WATCH, 0, "control/shutdown", "ctl", 1);
	drain(); /* the watch's first event */
	printf("xenstore: waiting for control/shutdown\n");
	while (ignore)
		__asm__ volatile("pause");
	for (;;) {
		struct sched_poll p = { (uint64_t)ports, 1, 0,
					sh->vcpu_info[0].time.system_time + 1000000000ul };
		expect_eq(HYPERVISOR_sched_op(SCHEDOP_poll, &p), 0);
		sh->evtchn_pending[0] &= ~(1ul << port);
		nevents = 0;
		drain();
		if (had_event("control/shutdown|ctl") && (v = read_tx(0, "control/shutdown")) && *v)
			break;
	}
	printf("xenstore: asked to %s\n", v);
}

int guest_main(struct start_info *si)
{
	static char big[3001];
	char want[32];
	const char *a = find((const char *)si->cmd_line, "attack=");
	uint32_t tx;

	xs = (volatile struct xenstore_domain_interface *)(VIRT_BASE + si->store_mfn * 4096);
	port = si->store_evtchn;
	if (a) {
		attack(a + 7);
		return 1;
	}
	if ((a = find((const char *)si->cmd_line, "wait="))) {
		wait_shutdown(!memcmp(a + 5, "ignore", 6));
		return 0;
	}

	/* what the toolstack wrote */
	expect_value(0, "domid", "1");
	expect_value(0, "name", "xenstore");
	snprintf(want, sizeof(want), "%lu", (unsigned long)si->nr_pages * 4);
	expect_value(0, "memory/target", want);
	expect_eq(request(XS_GET_DOMAIN_PATH, 0, "1", NULL, 0), XS_GET_DOMAIN_PATH);
	guest_assert(!strcmp(buf, "/local/domain/1"));
	snprintf(want, sizeof(want), "%s", read_tx(0, "domid"));
	printf("xenstore: domain %s, /local/domain/1/name = %s\n", want,
	       read_tx(0, "/local/domain/1/name"));

	/* writes, directories */
	ok(XS_WRITE, 0, "data/greeting", "hello", 0);
	expect_value(0, "/local/domain/1/data/greeting", "hello");
	ok(XS_MKDIR, 0, "data/dir", NULL, 0);
	expect_eq(request(XS_DIRECTORY, 0, "data", NULL, 0), XS_DIRECTORY);
	expect_eq(buf_len, 13);
	guest_assert(!memcmp(buf, "dir\0greeting\0", 13));
	printf("xenstore: wrote data/greeting, data lists dir and greeting\n");

	/* watches */
	ok(XS_WATCH, 0, "data", "w1", 1);
	drain();
	guest_assert(had_event("data|w1")); /* every new watch fires once */
	ok(XS_WRITE, 0, "data/x", "1", 0);
	drain();
	guest_assert(had_event("data/x|w1"));
	nevents = 0;
	ok(XS_RM, 0, "data/x", NULL, 0);
	drain();
	guest_assert(had_event("data/x|w1"));
	ok(XS_UNWATCH, 0, "data", "w1", 1);
	nevents = 0;
	ok(XS_WRITE, 0, "data/y", "2", 0);
	drain();
	expect_eq(nevents, 0);
	printf("xenstore: a watch fired when set, on a write and on a removal, then not after unwatch\n");

	/* errors */
	expect_error(XS_READ, 0, "data/nothing", NULL, "ENOENT");
	expect_error(XS_WRITE, 0, "data//twice", "v", "EINVAL");
	expect_error(XS_WRITE, 0, "data/sp ace", "v", "EINVAL");
	expect_error(XS_UNWATCH, 0, "data", "nobody", "ENOENT");
	expect_error(XS_READ, 999, "domid", NULL, "ENOENT");
	expect_error(XS_RM, 0, "/", NULL, "EINVAL");
	printf("xenstore: bad paths, unknown nodes, watches and transactions refused\n");

	/* transactions: commit, abort, conflict */
	tx = tx_start();
	ok(XS_WRITE, tx, "data/t", "1", 0);
	expect_error(XS_READ, 0, "data/t", NULL, "ENOENT");
	expect_value(tx, "data/t", "1");
	ok(XS_TRANSACTION_END, tx, "T", NULL, 0);
	expect_value(0, "data/t", "1");
	tx = tx_start();
	ok(XS_WRITE, tx, "data/a", "1", 0);
	ok(XS_TRANSACTION_END, tx, "F", NULL, 0);
	expect_error(XS_READ, 0, "data/a", NULL, "ENOENT");
	tx = tx_start();
	ok(XS_WRITE, 0, "data/c", "1", 0);
	ok(XS_WRITE, tx, "data/c2", "1", 0);
	expect_error(XS_TRANSACTION_END, tx, "T", NULL, "EAGAIN");
	expect_error(XS_READ, 0, "data/c2", NULL, "ENOENT");
	printf("xenstore: a transaction committed, one aborted, one refused with EAGAIN\n");

	/* larger than the ring, both ways */
	memset(big, 'x', sizeof(big) - 1);
	ok(XS_WRITE, 0, "data/big", big, 0);
	expect_value(0, "data/big", big);
	printf("xenstore: a 3000-byte value written and read through the 1024-byte rings\n");
	printf("xenstore: %u requests served\n", served);
	return 0;
}
