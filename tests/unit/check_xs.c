/* check_xs.c - pvmm's xenstore through its ring, on a fixture domain. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "fixture.h"
#include "hypercalls/hc.h"
#include "mmu/mmu.h"
#include "vmm/backends/backend.h"
#include "vmm/backends/xenstore.h"

static struct vm *vm;
static char body[XENSTORE_PAYLOAD_MAX + 1];
static uint32_t body_len;

static struct xenstore_domain_interface *ring(void)
{
	return (struct xenstore_domain_interface *)(vm->mem + vm->lay.store_pfn * 4096);
}

static void setup(void)
{
	vm = fixture_vm();
	ck_assert_int_eq(xs_init(vm, "fixture"), 0);
}

static void teardown(void)
{
	xs_free(vm);
	fixture_free(vm);
}

static void put(const void *p, size_t n)
{
	struct xenstore_domain_interface *r = ring();

	for (size_t i = 0; i < n; i++)
		r->req[r->req_prod++ % XENSTORE_RING_SIZE] = ((const char *)p)[i];
}

/* Queue a request of (a) (with its NUL) and (b) (raw; a watch's token is
 * written with its NUL by callz); no notification. */
static int b_nul;
static void queue(uint32_t type, uint32_t tx, const char *a, const char *b)
{
	size_t la = strlen(a) + 1, lb = b ? strlen(b) + (size_t)b_nul : 0;
	struct xsd_sockmsg h = { type, 7, tx, (uint32_t)(la + lb) };

	put(&h, sizeof(h));
	put(a, la);
	put(b, lb);
}

/* Take the next message from the reply ring; its type, payload in body. */
static uint32_t next(void)
{
	struct xenstore_domain_interface *r = ring();
	struct xsd_sockmsg h;
	char *p = (char *)&h;

	ck_assert_uint_ge(r->rsp_prod - r->rsp_cons, sizeof(h));
	for (size_t i = 0; i < sizeof(h); i++)
		p[i] = r->rsp[r->rsp_cons++ % XENSTORE_RING_SIZE];
	ck_assert_uint_le(h.len, XENSTORE_PAYLOAD_MAX);
	for (size_t i = 0; i < h.len; i++)
		body[i] = r->rsp[r->rsp_cons++ % XENSTORE_RING_SIZE];
	body[h.len] = 0, body_len = h.len;
	return h.type;
}

static uint32_t call(uint32_t type, uint32_t tx, const char *a, const char *b)
{
	queue(type, tx, a, b);
	xs_notify(vm);
	return next();
}

static uint32_t callz(uint32_t type, uint32_t tx, const char *a, const char *b)
{
	uint32_t t;

	b_nul = 1;
	t = call(type, tx, a, b);
	b_nul = 0;
	return t;
}

static int empty(void) { return ring()->rsp_cons == ring()->rsp_prod; }

START_TEST(seeded_like_a_pv_domain)
{
	char v[64] = "";

	ck_assert_int_eq(xs_read(vm, "/local/domain/1/domid", v, sizeof(v)), 1);
	ck_assert_str_eq(v, "1");
	ck_assert_int_eq(xs_read(vm, "/local/domain/1/name", v, sizeof(v)), 7);
	ck_assert_uint_eq(call(XS_READ, 0, "memory/target", NULL), XS_READ);
	ck_assert_str_eq(body, "16384"); /* KiB of the fixture's 4096 pages */
	ck_assert_uint_eq(call(XS_READ, 0, "store/port", NULL), XS_READ);
	ck_assert_str_eq(body, "1");
	ck_assert(empty());
}
END_TEST

/* A header split over two notifications, then a request longer than the
 * ring: served when complete, indices kept by pvmm. */
START_TEST(messages_arrive_in_pieces)
{
	struct xsd_sockmsg h = { XS_WRITE, 9, 0, 0 };
	static char big[3001];

	put(&h, 8);
	xs_notify(vm);
	ck_assert(empty());
	ck_assert_uint_eq(ring()->req_cons, 8);
	memset(big, 'v', 3000);
	h.len = (uint32_t)(strlen("data/big") + 1 + 3000);
	put((char *)&h + 8, 8);
	put("data/big", 9);
	for (size_t done = 0; done < 3000; done += 500) {
		put(big + done, 500);
		xs_notify(vm);
	}
	ck_assert_uint_eq(next(), XS_WRITE);
	ck_assert_str_eq(body, "OK");
	ck_assert_int_eq(xs_read(vm, "/local/domain/1/data/big", big, 10), 3000);
	ck_assert_int_eq(vm->end, VM_RUNNING);
}
END_TEST

/* A watch fires for its own path and below, never for a sibling whose
 * name merely starts the same; a removal tells watchers underneath. */
START_TEST(watches_fire_on_their_subtree)
{
	ck_assert_uint_eq(callz(XS_WATCH, 0, "data/a", "t"), XS_WATCH);
	ck_assert_uint_eq(next(), XS_WATCH_EVENT); /* every new watch fires once */
	ck_assert_str_eq(body, "data/a");           /* relative, as it was set */
	ck_assert_uint_eq(callz(XS_WATCH, 0, "/local/domain/1/data/a/deep", "u"), XS_WATCH);
	ck_assert_uint_eq(next(), XS_WATCH_EVENT);
	ck_assert_str_eq(body, "/local/domain/1/data/a/deep");
	ck_assert_uint_eq(call(XS_WRITE, 0, "data/ab", "1"), XS_WRITE);
	ck_assert(empty());                         /* data/ab is not under data/a */
	ck_assert_uint_eq(call(XS_WRITE, 0, "data/a/b", "1"), XS_WRITE);
	ck_assert_uint_eq(next(), XS_WATCH_EVENT);
	ck_assert_str_eq(body, "data/a/b");
	ck_assert_str_eq(body + strlen(body) + 1, "t");
	ck_assert(empty());
	ck_assert_uint_eq(call(XS_RM, 0, "data", NULL), XS_RM);
	ck_assert_uint_eq(next(), XS_WATCH_EVENT);
	ck_assert_str_eq(body, "data/a");
	ck_assert_uint_eq(next(), XS_WATCH_EVENT);
	ck_assert_str_eq(body, "/local/domain/1/data/a/deep");
	ck_assert_uint_eq(call(XS_READ, 0, "data/a/b", NULL), XS_ERROR);
	ck_assert_str_eq(body, "ENOENT");
}
END_TEST

START_TEST(transactions_conflict_and_commit)
{
	uint32_t tx;

	ck_assert_uint_eq(callz(XS_WATCH, 0, "data", "w"), XS_WATCH);
	next();
	ck_assert_uint_eq(call(XS_TRANSACTION_START, 0, "", NULL), XS_TRANSACTION_START);
	tx = (uint32_t)strtoul(body, NULL, 10);
	ck_assert_uint_eq(call(XS_WRITE, tx, "data/in-tx", "1"), XS_WRITE);
	ck_assert(empty()); /* watches wait for the commit */
	ck_assert_uint_eq(call(XS_TRANSACTION_END, tx, "T", NULL), XS_TRANSACTION_END);
	ck_assert_uint_eq(next(), XS_WATCH_EVENT);
	ck_assert_str_eq(body, "data/in-tx");
	ck_assert_uint_eq(call(XS_TRANSACTION_START, 0, "", NULL), XS_TRANSACTION_START);
	tx = (uint32_t)strtoul(body, NULL, 10);
	ck_assert_uint_eq(call(XS_RM, tx, "data/in-tx", NULL), XS_RM);
	ck_assert_uint_eq(call(XS_WRITE, 0, "data/outside", "1"), XS_WRITE);
	next();
	ck_assert_uint_eq(call(XS_TRANSACTION_END, tx, "T", NULL), XS_ERROR);
	ck_assert_str_eq(body, "EAGAIN");
	ck_assert_int_eq(xs_read(vm, "/local/domain/1/data/in-tx", body, 4), 1);
	ck_assert_uint_eq(call(XS_TRANSACTION_END, tx, "T", NULL), XS_ERROR); /* gone */
	ck_assert_str_eq(body, "ENOENT");
	/* two frontends' directories: a change to one does not fail a
	 * transaction on the other (xenstored's per-node generations) */
	ck_assert_uint_eq(call(XS_WRITE, 0, "dev/a/x0", "1"), XS_WRITE);
	ck_assert_uint_eq(call(XS_WRITE, 0, "dev/b/y0", "1"), XS_WRITE);
	ck_assert_uint_eq(call(XS_TRANSACTION_START, 0, "", NULL), XS_TRANSACTION_START);
	tx = (uint32_t)strtoul(body, NULL, 10);
	ck_assert_uint_eq(call(XS_READ, tx, "dev/a/x0", NULL), XS_READ);
	ck_assert_uint_eq(call(XS_WRITE, tx, "dev/a/x", "2"), XS_WRITE);
	ck_assert_uint_eq(call(XS_WRITE, 0, "dev/b/y", "3"), XS_WRITE);
	ck_assert_uint_eq(call(XS_TRANSACTION_END, tx, "T", NULL), XS_TRANSACTION_END);
	ck_assert_int_eq(xs_read(vm, "/local/domain/1/dev/a/x", body, 4), 1);
	ck_assert_int_eq(xs_read(vm, "/local/domain/1/dev/b/y", body, 4), 1);
	/* but a change to a node it read does */
	ck_assert_uint_eq(call(XS_TRANSACTION_START, 0, "", NULL), XS_TRANSACTION_START);
	tx = (uint32_t)strtoul(body, NULL, 10);
	ck_assert_uint_eq(call(XS_READ, tx, "dev/b/y", NULL), XS_READ);
	ck_assert_uint_eq(call(XS_WRITE, tx, "dev/a/x", "4"), XS_WRITE);
	ck_assert_uint_eq(call(XS_WRITE, 0, "dev/b/y", "5"), XS_WRITE);
	ck_assert_uint_eq(call(XS_TRANSACTION_END, tx, "T", NULL), XS_ERROR);
	ck_assert_str_eq(body, "EAGAIN");
}
END_TEST

START_TEST(bad_requests_get_errors)
{
	static const struct { uint32_t type; const char *a, *b, *err; } cases[] = {
		{ XS_READ, "", NULL, "EINVAL" },
		{ XS_READ, "data/", NULL, "EINVAL" },
		{ XS_READ, "/local//domain", NULL, "EINVAL" },
		{ XS_READ, "data/\xff", NULL, "EINVAL" },
		{ XS_WATCH, "data", NULL, "EINVAL" },  /* no token */
		{ XS_WATCH, "data", "t", "EINVAL" },   /* a token without its NUL */
		{ XS_WATCH, "@nothing", "t", "EINVAL" },
		{ XS_RM, "data/none", NULL, "ENOENT" },
		{ XS_GET_DOMAIN_PATH, "x1", NULL, "EINVAL" },
		{ XS_INTRODUCE, "data", NULL, "EACCES" }, /* dom0's, as xenstored answers */
		{ XS_CONTROL, "print", "hello", "EACCES" }, /* Mini-OS's XS_DEBUG */
		{ XS_DIRECTORY_PART, "data", NULL, "ENOSYS" },
		{ 999, "data", NULL, "ENOSYS" },
	};

	for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint32_t t = call(cases[i].type, 0, cases[i].a, cases[i].b);
		ck_assert_msg(t == XS_ERROR && !strcmp(body, cases[i].err),
			      "case %u: type %u '%s', want %s", i, t, body, cases[i].err);
	}
	ck_assert_int_eq(vm->end, VM_RUNNING);
}
END_TEST

/* The tree has a bound: a guest cannot grow pvmm without limit. */
START_TEST(node_count_is_bounded)
{
	char path[32];
	uint32_t t = XS_WRITE;

	for (unsigned i = 0; i < 5000 && t == XS_WRITE; i++) {
		snprintf(path, sizeof(path), "data/n%u", i);
		t = call(XS_WRITE, 0, path, "v");
	}
	ck_assert_uint_eq(t, XS_ERROR);
	ck_assert_str_eq(body, "ENOSPC");
}
END_TEST

/* What xenstored would drop the connection for ends the domain. */
START_TEST(protocol_breaks_end_the_domain)
{
	struct xsd_sockmsg h = { XS_READ, 1, 0, XENSTORE_PAYLOAD_MAX + 1 };

	put(&h, sizeof(h));
	xs_notify(vm);
	ck_assert_int_eq(vm->end, VM_CRASH);
	ck_assert_ptr_nonnull(strstr(vm->end_msg, "xenstore: a message of 4097 bytes"));
	vm->end = VM_RUNNING;
	ring()->rsp_cons = ring()->rsp_prod + 2000; /* the guest's index, inconsistent */
	queue(XS_READ, 0, "domid", NULL);
	xs_notify(vm);
	ck_assert_int_eq(vm->end, VM_CRASH);
	ck_assert_ptr_nonnull(strstr(vm->end_msg, "rsp_cons"));
}
END_TEST

/* The indices pvmm owns come from its own copy, not the shared page. */
START_TEST(guest_cannot_move_pvmms_indices)
{
	ck_assert_uint_eq(call(XS_READ, 0, "domid", NULL), XS_READ);
	ring()->rsp_prod = 12345, ring()->req_cons = 777;
	queue(XS_READ, 0, "name", NULL);
	xs_notify(vm);
	ck_assert_uint_eq(ring()->req_cons, ring()->req_prod);
	ck_assert_uint_eq(ring()->rsp_prod - ring()->rsp_cons, sizeof(struct xsd_sockmsg) + 7);
	ck_assert_uint_eq(next(), XS_READ);
	ck_assert_str_eq(body, "fixture");
}
END_TEST

/* ---- the console backend ---------------------------------------------------- */

static struct xencons_interface *cons(void)
{
	return (struct xencons_interface *)(vm->mem + vm->lay.console_pfn * 4096);
}

static int console_pending(void)
{
	struct shared_info *sh = (struct shared_info *)(vm->mem + vm->lay.shared_info_pfn * 4096);
	int was = !!(sh->evtchn_pending[0] & (1ull << LOADER_CONSOLE_EVTCHN));

	sh->evtchn_pending[0] &= ~(1ull << LOADER_CONSOLE_EVTCHN);
	return was;
}

/* The guest's EVTCHNOP_send on the console's port. */
static void console_send(void)
{
	uint64_t va = vm->lay.v_end - 4096; /* a slack page, rw */
	uint32_t snd = LOADER_CONSOLE_EVTCHN; /* struct evtchn_send */

	ck_assert_int_eq(mmu_copy_to_guest(vm, va, &snd, sizeof(snd)), 0);
	ck_assert_int_eq(hc_event_channel_op(vm, (const uint64_t[5]){ EVTCHNOP_send, va }), 0);
}

/* As xenconsoled: the backend answers only when it consumed or produced
 * something (Mini-OS answers every console event with another send: an
 * event for nothing never ends). */
START_TEST(console_notifies_only_for_work)
{
	struct xencons_interface *r = cons();

	ck_assert_int_eq(be_console_init(vm), 0);
	console_send();
	ck_assert_int_eq(console_pending(), 0);
	ck_assert_int_eq(vm->ev.console_used, 0);
	memcpy(r->out, "hi\n", 3);
	r->out_prod = 3;
	console_send();
	ck_assert_int_eq(console_pending(), 1);
	ck_assert_uint_eq(r->out_cons, 3);
	ck_assert_str_eq(fixture_console(vm), "hi\n");
	console_send(); /* nothing new */
	ck_assert_int_eq(console_pending(), 0);
	memcpy(vm->input.buf, "abc", 3);
	vm->input.len = 2;
	ck_assert_int_eq(be_console_input(vm), 2);
	ck_assert_int_eq(console_pending(), 1);
	ck_assert_uint_eq(r->in_prod, 2);
	ck_assert_int_eq(memcmp(r->in, "ab", 2), 0);
	ck_assert_uint_eq(vm->input.len, 0);
	ck_assert_int_eq(be_console_input(vm), 0); /* nothing to give: no event */
	ck_assert_int_eq(console_pending(), 0);
	vm->input.buf[0] = 'c', vm->input.len = 1;
	r->in_prod = r->in_cons + sizeof(r->in); /* full: nothing taken, no event, kept */
	ck_assert_uint_eq(be_console_room(vm), 0);
	ck_assert_int_eq(be_console_input(vm), 0);
	ck_assert_int_eq(console_pending(), 0);
	ck_assert_uint_eq(vm->input.len, 1);
	r->in_prod = r->in_cons + sizeof(r->in) + 5; /* broken indices: the same */
	ck_assert_uint_eq(be_console_room(vm), 0);
	ck_assert_int_eq(be_console_input(vm), 0);
	ck_assert_int_eq(console_pending(), 0);
	r->in_prod = r->in_cons + sizeof(r->in) - 1; /* room for one: it goes */
	ck_assert_uint_eq(be_console_room(vm), 1);
	ck_assert_int_eq(be_console_input(vm), 1);
	ck_assert_int_eq(console_pending(), 1);
	ck_assert_uint_eq(vm->input.len, 0);
}
END_TEST

Suite *xs_suite(void);

Suite *xs_suite(void)
{
	Suite *s = suite_create("xenstore");
	TCase *tc = tcase_create("ring");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, seeded_like_a_pv_domain);
	tcase_add_test(tc, messages_arrive_in_pieces);
	tcase_add_test(tc, watches_fire_on_their_subtree);
	tcase_add_test(tc, transactions_conflict_and_commit);
	tcase_add_test(tc, bad_requests_get_errors);
	tcase_add_test(tc, node_count_is_bounded);
	tcase_add_test(tc, protocol_breaks_end_the_domain);
	tcase_add_test(tc, guest_cannot_move_pvmms_indices);
	suite_add_tcase(s, tc);
	tc = tcase_create("console");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, console_notifies_only_for_work);
	suite_add_tcase(s, tc);
	return s;
}
