/* check_blk.c - the block backend (vmm/backends/blkback.c) driven by a
 * frontend the test plays on a fixture domain: its ring and data pages
 * granted to domain 0, requests written into the ring, EVTCHNOP_send. Good
 * reads, writes and flushes; every hostile request an error response of
 * its own; a read-only disk; a request the guest rewrites while it is
 * being served (XSA-155); a ring index that claims too much. */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fixture.h"
#include "hypercalls/hc.h"
#include "mmu/mmu.h"
#include "vmm/backends/backend.h"
#include "vmm/backends/xenstore.h"

#define SECTORS 64u
#define VDEV 51712u
#define FE "/local/domain/1/device/vbd/51712"
#define BE "/local/domain/0/backend/vbd/1/51712"
#define RING_REF 8u   /* grant refs: the ring, then the data pages */
#define DATA_REF 9u

static struct vm *vm;
static char disk[64];
static uint64_t arg, ring_mfn, data_mfn; /* data pages: data_mfn .. + 3 */
static uint32_t port;

static int discard(void *ctx, const struct stub_op *op)
{
	(void)ctx, (void)op;
	return 0;
}

static void *at(uint64_t gva) { return vm->mem + (gva - vm->lay.v_start); }

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

static struct blkif_sring *sring(void) { return (struct blkif_sring *)mmu_frame_data(vm, ring_mfn); }
static uint8_t *page(unsigned i) { return mmu_frame_data(vm, data_mfn + i); }

static void make_disk(void)
{
	uint8_t s[512];
	int fd;

	snprintf(disk, sizeof(disk), "/tmp/pvmm-check-blk-XXXXXX");
	fd = mkstemp(disk);
	ck_assert_int_ge(fd, 0);
	for (unsigned i = 0; i < SECTORS; i++) {
		memset(s, (int)i, sizeof(s));
		ck_assert_int_eq(write(fd, s, sizeof(s)), (ssize_t)sizeof(s));
	}
	close(fd);
}

static const char *rd(const char *path)
{
	static char v[256];
	long n = xs_read(vm, path, v, sizeof(v) - 1);

	v[n < 0 ? 0 : n] = 0;
	return n < 0 ? "(none)" : v;
}

static void gwrite(const char *path, const char *val)
{
	struct xenstore_domain_interface *r =
		(struct xenstore_domain_interface *)(vm->mem + vm->lay.store_pfn * 4096);
	struct xsd_sockmsg h = { XS_WRITE, 1, 0, (uint32_t)(strlen(path) + 1 + strlen(val)) };
	const char *parts[3] = { (const char *)&h, path, val };
	size_t lens[3] = { sizeof(h), strlen(path) + 1, strlen(val) };

	for (int p = 0; p < 3; p++)
		for (size_t i = 0; i < lens[p]; i++)
			r->req[r->req_prod++ % XENSTORE_RING_SIZE] = parts[p][i];
	xs_notify(vm);
	r->rsp_cons = r->rsp_prod;
}

/* The frontend's handshake: SHARED_RING_INIT, grants, port, keys, state. */
static void connect(void)
{
	struct evtchn_alloc_unbound a = { DOMID_SELF, 0, 0 };
	char v[16];

	memset(sring(), 0, 4096);
	sring()->req_event = sring()->rsp_event = 1;
	*e1(RING_REF) = (struct grant_entry_v1){ GTF_permit_access, 0, (uint32_t)ring_mfn };
	for (unsigned i = 0; i < 4; i++)
		*e1(DATA_REF + i) = (struct grant_entry_v1){ GTF_permit_access, 0, (uint32_t)(data_mfn + i) };
	ck_assert_int_eq(hcall(XEN_HC_event_channel_op, EVTCHNOP_alloc_unbound, &a, sizeof(a)), 0);
	port = ((struct evtchn_alloc_unbound *)at(arg))->port;
	gwrite(FE "/ring-ref", "8");
	snprintf(v, sizeof(v), "%u", port);
	gwrite(FE "/event-channel", v);
	gwrite(FE "/protocol", "x86_64-abi");
	gwrite(FE "/state", "3");
	ck_assert_str_eq(rd(BE "/state"), "4");
}

static void setup_ro(int ro)
{
	char why[256];

	vm = fixture_vm();
	vm->mmu.emit = discard;
	arg = vm->lay.start_info_va + 2048;
	ring_mfn = vm->lay.first_free_pfn;
	data_mfn = ring_mfn + 1;
	make_disk();
	ck_assert_int_eq(xs_init(vm, "fixture"), 0);
	ck_assert_msg(be_blk_add(vm, disk, ro, VDEV, why, sizeof(why)) == 0, "%s", why);
	connect();
}

static void setup(void) { setup_ro(0); }
static void setup_readonly(void) { setup_ro(1); }

static void teardown(void)
{
	char why[400];

	gwrite(FE "/state", "6"); /* the backend lets go of the ring ... */
	if (vm->end == VM_RUNNING) { /* ... unless the domain is over */
		ck_assert_msg(mmu_check_counts(vm, why, sizeof(why)) == 0, "%s", why);
		for (uint32_t r = RING_REF; r < DATA_REF + 4; r++)
			ck_assert_uint_eq(vm->grant.active[r].pin, 0);
	}
	xs_free(vm);
	be_blk_free(vm);
	fixture_free(vm);
	unlink(disk);
}

static int pending(void)
{
	struct shared_info *s = (struct shared_info *)(vm->mem + vm->lay.shared_info_pfn * 4096);
	int p = (int)((s->evtchn_pending[port / 64] >> (port % 64)) & 1);

	s->evtchn_pending[port / 64] &= ~(1ull << (port % 64));
	return p;
}

/* Queue (r) at the frontend's req_prod. */
static void queue(const struct blkif_request *r)
{
	struct blkif_sring *s = sring();

	memcpy(&s->ring[s->req_prod % BLKIF_RING_SIZE].req, r, sizeof(*r));
	s->req_prod++;
}

/* EVTCHNOP_send, then SCHEDOP_block as a frontend waiting for the answer:
 * the backend serves the ring while the guest waits. */
static int64_t kick(void)
{
	int64_t rc = hcall(XEN_HC_event_channel_op, EVTCHNOP_send, &port, sizeof(port));

	if (!rc)
		rc = hcall(XEN_HC_sched_op, SCHEDOP_block, NULL, 0);
	hc_unblock(vm);
	return rc;
}

/* One request, served: its response's status (its id checked). */
static int16_t request(const struct blkif_request *r)
{
	struct blkif_sring *s = sring();
	uint32_t slot = s->rsp_prod;
	struct blkif_response rsp;

	queue(r);
	ck_assert_int_eq(kick(), 0);
	ck_assert_uint_eq(s->rsp_prod, slot + 1);
	memcpy(&rsp, &s->ring[slot % BLKIF_RING_SIZE].rsp, sizeof(rsp));
	ck_assert_uint_eq(rsp.id, r->id);
	ck_assert_uint_eq(rsp.operation, r->operation);
	return rsp.status;
}

static struct blkif_request req(uint8_t op, uint64_t sector, unsigned nseg)
{
	struct blkif_request r = { .operation = op, .nr_segments = (uint8_t)nseg, .handle = VDEV,
				   .id = 0x1234500 + sector, .sector_number = sector };

	for (unsigned i = 0; i < nseg && i < BLKIF_MAX_SEGMENTS_PER_REQUEST; i++)
		r.seg[i] = (struct blkif_request_segment){ DATA_REF + i % 4, 0, 7, { 0, 0 } };
	return r;
}

static void file_sector(unsigned n, uint8_t *buf)
{
	FILE *f = fopen(disk, "rb");

	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(fseek(f, (long)n * 512, SEEK_SET), 0);
	ck_assert_uint_eq(fread(buf, 1, 512, f), 512);
	fclose(f);
}

static int all(const uint8_t *p, size_t n, uint8_t v)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] != v)
			return 0;
	return 1;
}

START_TEST(keys_as_blkback_writes_them)
{
	ck_assert_str_eq(rd(BE "/sectors"), "64");
	ck_assert_str_eq(rd(BE "/sector-size"), "512");
	ck_assert_str_eq(rd(BE "/info"), "0");
	ck_assert_str_eq(rd(BE "/mode"), "w");
	ck_assert_str_eq(rd(BE "/feature-flush-cache"), "1");
	ck_assert_str_eq(rd(BE "/feature-barrier"), "0");
	ck_assert_str_eq(rd(BE "/max-ring-page-order"), "(none)");
	ck_assert_str_eq(rd(FE "/virtual-device"), "51712");
	ck_assert_str_eq(rd(FE "/backend-id"), "0");
	ck_assert_int_eq(be_blk_vdev("xvda"), 51712);
	ck_assert_int_eq(be_blk_vdev("xvdb"), (202 << 8) | (1 << 4));
	ck_assert_int_eq(be_blk_vdev("xvdp"), (202 << 8) | (15 << 4));
	ck_assert_int_eq(be_blk_vdev("xvdq"), (1 << 28) | (16 << 8));
	ck_assert_int_eq(be_blk_vdev("xvdaa"), (1 << 28) | (26 << 8));
	ck_assert_int_eq(be_blk_vdev("xvd"), -1);
	ck_assert_int_eq(be_blk_vdev("hda"), 768);
	ck_assert_int_eq(be_blk_vdev("hdb"), 768 + 64);
	ck_assert_int_eq(be_blk_vdev("hdc"), 22 << 8);
	ck_assert_int_eq(be_blk_vdev("hdt"), (91 << 8) | 64);
	ck_assert_int_eq(be_blk_vdev("hdu"), -1);
	ck_assert_int_eq(be_blk_vdev("sdb"), (8 << 8) | 16);
	ck_assert_int_eq(be_blk_vdev("768"), 768);
	ck_assert_int_eq(be_blk_vdev("0768"), -1);
	ck_assert_int_eq(be_blk_vdev("9999999999"), -1);
	ck_assert_int_eq(be_blk_vdev("xvdA"), -1);
	ck_assert_int_eq(be_blk_vdev("xvdaaa"), -1);
	ck_assert_str_eq(rd(BE "/dev"), "xvda");
	{
		static const char *const names[] = { "xvda", "xvdb", "xvdp", "xvdq", "xvdz", "xvdaa", "xvdzz",
						      "hda", "hdb", "hdc", "hdt", "sda", "sdp", "4242" };
		char name[16];
		for (unsigned i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
			ck_assert_int_eq(be_blk_vdev_name((unsigned)be_blk_vdev(names[i]), name, sizeof(name)), 0);
			ck_assert_str_eq(name, names[i]);
		}
		ck_assert_int_eq(be_blk_vdev_name(51713, name, sizeof(name)), 0); /* a partition: the number */
		ck_assert_str_eq(name, "51713");
		ck_assert_int_eq(be_blk_vdev_name(0, name, sizeof(name)), -1);
		ck_assert_int_eq(be_blk_vdev_name(51712, name, 4), -1);
	}
}
END_TEST

START_TEST(read_write_flush)
{
	struct blkif_request r = req(BLKIF_OP_READ, 3, 2);
	const struct be_blk_stats *st;
	uint8_t buf[512];
	unsigned vdev;

	r.seg[1].first_sect = 2, r.seg[1].last_sect = 3; /* disk sectors 11, 12 */
	ck_assert_int_eq(request(&r), BLKIF_RSP_OKAY);
	ck_assert_int_eq(pending(), 1);
	for (unsigned i = 0; i < 8; i++)
		ck_assert(all(page(0) + i * 512, 512, (uint8_t)(3 + i)));
	ck_assert(all(page(1) + 1024, 512, 11));
	ck_assert(all(page(1) + 1536, 512, 12));
	/* a write of sector 40 from the middle of a page, then read back */
	memset(page(2) + 5 * 512, 0xab, 512);
	r = req(BLKIF_OP_WRITE, 40, 1);
	r.seg[0] = (struct blkif_request_segment){ DATA_REF + 2, 5, 5, { 0, 0 } };
	ck_assert_int_eq(request(&r), BLKIF_RSP_OKAY);
	file_sector(40, buf);
	ck_assert(all(buf, 512, 0xab));
	file_sector(41, buf);
	ck_assert(all(buf, 512, 41));
	r = req(BLKIF_OP_FLUSH_DISKCACHE, 0, 0);
	ck_assert_int_eq(request(&r), BLKIF_RSP_OKAY);
	/* the last sector, exactly */
	r = req(BLKIF_OP_READ, SECTORS - 8, 1);
	ck_assert_int_eq(request(&r), BLKIF_RSP_OKAY);
	ck_assert(all(page(0) + 7 * 512, 512, SECTORS - 1));
	st = be_blk_stats(vm, 0, &vdev);
	ck_assert_uint_eq(vdev, VDEV);
	ck_assert_uint_eq(st->reads, 2);
	ck_assert_uint_eq(st->writes, 1);
	ck_assert_uint_eq(st->flushes, 1);
	ck_assert_uint_eq(st->read_sectors, 18);
	ck_assert_ptr_null(be_blk_stats(vm, 1, &vdev));
	ck_assert_uint_eq(e1(DATA_REF)->flags, GTF_permit_access); /* nothing held after */
}
END_TEST

/* Several requests in one kick, and an event only as rsp_event asks. */
START_TEST(batches_and_rsp_event)
{
	struct blkif_request r = req(BLKIF_OP_READ, 0, 1);

	for (int i = 0; i < 5; i++)
		queue(&r);
	ck_assert_int_eq(hcall(XEN_HC_event_channel_op, EVTCHNOP_send, &port, sizeof(port)), 0);
	ck_assert_uint_eq(sring()->rsp_prod, 0); /* served while the guest waits, not in the send */
	ck_assert_int_eq(kick(), 0);
	ck_assert_uint_eq(sring()->rsp_prod, 5);
	ck_assert_uint_eq(sring()->req_event, 6);
	ck_assert_int_eq(pending(), 1);
	sring()->rsp_event = 100; /* the frontend polls: no event wanted */
	queue(&r);
	ck_assert_int_eq(kick(), 0);
	ck_assert_uint_eq(sring()->rsp_prod, 6);
	ck_assert_int_eq(pending(), 0);
	for (int i = 0; i < 40; i++) /* past the ring's wrap */
		ck_assert_int_eq(request(&r), BLKIF_RSP_OKAY);
}
END_TEST

START_TEST(hostile_requests_get_errors)
{
	struct blkif_request r, w;
	uint8_t buf[512];

	r = req(BLKIF_OP_READ, 0, 1), r.seg[0].gref = VM_GRANT_REFS + 5;
	ck_assert_int_eq(request(&r), BLKIF_RSP_ERROR); /* no such grant */
	r = req(BLKIF_OP_READ, 0, 1), r.seg[0].gref = 200;
	ck_assert_int_eq(request(&r), BLKIF_RSP_ERROR); /* an entry never granted */
	e1(DATA_REF)->domid = VM_DOMID;
	r = req(BLKIF_OP_READ, 0, 1);
	ck_assert_int_eq(request(&r), BLKIF_RSP_ERROR); /* granted to itself, not domain 0 */
	e1(DATA_REF)->domid = 0;
	e1(DATA_REF)->flags |= GTF_readonly;
	ck_assert_int_eq(request(&r), BLKIF_RSP_ERROR); /* a read must write the page */
	w = req(BLKIF_OP_WRITE, 0, 1);
	memset(page(0), 0x77, 4096);
	ck_assert_int_eq(request(&w), BLKIF_RSP_OKAY); /* a write may read it */
	e1(DATA_REF)->flags = GTF_permit_access;
	*e1(DATA_REF + 3) = (struct grant_entry_v1){ GTF_permit_access, 0, (uint32_t)vm->lay.pt_first_pfn };
	r = req(BLKIF_OP_READ, 8, 4);
	ck_assert_int_eq(request(&r), BLKIF_RSP_ERROR); /* a page table is never written */
	*e1(DATA_REF + 3) = (struct grant_entry_v1){ GTF_permit_access, 0, (uint32_t)vm->nr_frames };
	ck_assert_int_eq(request(&r), BLKIF_RSP_ERROR); /* not the domain's frame */
	/* a write whose fourth grant is bad writes nothing at all */
	memset(page(0), 0x5a, 4096);
	w = req(BLKIF_OP_WRITE, 16, 4);
	ck_assert_int_eq(request(&w), BLKIF_RSP_ERROR);
	file_sector(16, buf);
	ck_assert(all(buf, 512, 16));
	*e1(DATA_REF + 3) = (struct grant_entry_v1){ GTF_permit_access, 0, (uint32_t)(data_mfn + 3) };
	r = req(BLKIF_OP_READ, 0, 1), r.seg[0].first_sect = 4, r.seg[0].last_sect = 3;
	ck_assert_int_eq(request(&r), BLKIF_RSP_ERROR);
	r = req(BLKIF_OP_READ, 0, 1), r.seg[0].last_sect = 8;
	ck_assert_int_eq(request(&r), BLKIF_RSP_ERROR);
	r = req(BLKIF_OP_READ, 0, 1), r.seg[0].first_sect = 200, r.seg[0].last_sect = 255;
	ck_assert_int_eq(request(&r), BLKIF_RSP_ERROR);
	r = req(BLKIF_OP_READ, 0, 0);
	ck_assert_int_eq(request(&r), BLKIF_RSP_ERROR);
	r = req(BLKIF_OP_READ, 0, 11), r.nr_segments = 12;
	ck_assert_int_eq(request(&r), BLKIF_RSP_ERROR);
	r.nr_segments = 255;
	ck_assert_int_eq(request(&r), BLKIF_RSP_ERROR);
	r = req(BLKIF_OP_READ, SECTORS - 7, 1); /* one sector past the end */
	ck_assert_int_eq(request(&r), BLKIF_RSP_ERROR);
	r = req(BLKIF_OP_READ, SECTORS, 1);
	ck_assert_int_eq(request(&r), BLKIF_RSP_ERROR);
	r = req(BLKIF_OP_READ, UINT64_MAX - 3, 1); /* sector + count wraps */
	ck_assert_int_eq(request(&r), BLKIF_RSP_ERROR);
	r = req(BLKIF_OP_READ, UINT64_MAX / 512 + 1, 1); /* the byte offset wraps */
	ck_assert_int_eq(request(&r), BLKIF_RSP_ERROR);
	r = req(BLKIF_OP_FLUSH_DISKCACHE, 0, 1), r.seg[0].gref = 999999;
	ck_assert_int_eq(request(&r), BLKIF_RSP_ERROR);
	r = req(BLKIF_OP_WRITE_BARRIER, 0, 1);
	ck_assert_int_eq(request(&r), BLKIF_RSP_EOPNOTSUPP);
	r = req(BLKIF_OP_DISCARD, 0, 0);
	ck_assert_int_eq(request(&r), BLKIF_RSP_EOPNOTSUPP);
	r = req(BLKIF_OP_INDIRECT, 0, 1);
	ck_assert_int_eq(request(&r), BLKIF_RSP_EOPNOTSUPP);
	r = req(99, 0, 1);
	ck_assert_int_eq(request(&r), BLKIF_RSP_EOPNOTSUPP);
	/* still serving */
	r = req(BLKIF_OP_READ, 0, 1);
	ck_assert_int_eq(request(&r), BLKIF_RSP_OKAY);
	ck_assert(all(page(0), 512, 0x77));
	ck_assert_int_eq(vm->end, VM_RUNNING);
	for (uint32_t ref = DATA_REF; ref < DATA_REF + 4; ref++)
		ck_assert_uint_eq(vm->grant.active[ref].pin, 0);
}
END_TEST

START_TEST(readonly_disk_refuses_writes)
{
	struct blkif_request r = req(BLKIF_OP_WRITE, 0, 1);
	uint8_t buf[512];

	ck_assert_str_eq(rd(BE "/info"), "4");
	ck_assert_str_eq(rd(BE "/mode"), "r");
	memset(page(0), 0xee, 4096);
	ck_assert_int_eq(request(&r), BLKIF_RSP_ERROR);
	file_sector(0, buf);
	ck_assert(all(buf, 512, 0));
	r = req(BLKIF_OP_FLUSH_DISKCACHE, 0, 1);
	ck_assert_int_eq(request(&r), BLKIF_RSP_ERROR); /* a flush carrying data writes */
	r = req(BLKIF_OP_FLUSH_DISKCACHE, 0, 0);
	ck_assert_int_eq(request(&r), BLKIF_RSP_OKAY);
	r = req(BLKIF_OP_READ, 2, 1);
	ck_assert_int_eq(request(&r), BLKIF_RSP_OKAY);
	ck_assert(all(page(0), 512, 2));
}
END_TEST

/* XSA-155: the request is copied before it is checked and never read
 * again. A hostile guest grants its own ring page as the target of a read,
 * so that the read itself overwrites the request being served (and the
 * ring's header) with what the disk holds: a request with another id, 11
 * segments of a grant that does not exist, and sectors out of range. The
 * backend serves the request it checked and answers with its id. */
START_TEST(request_copied_before_checks)
{
	struct blkif_request evil = req(BLKIF_OP_WRITE, 1u << 30, 11), r;
	struct blkif_sring head = { .req_prod = 1, .req_event = 1, .rsp_prod = 0, .rsp_event = 1 };
	uint8_t sector[512] = { 0 };
	struct blkif_response rsp;
	FILE *f;

	evil.id = 0xbadbad;
	for (int i = 0; i < 11; i++)
		evil.seg[i] = (struct blkif_request_segment){ 4000000, 0, 7, { 0, 0 } };
	memcpy(sector, &head, sizeof(head));
	memcpy(sector + offsetof(struct blkif_sring, ring), &evil, sizeof(evil));
	f = fopen(disk, "r+b");
	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(fseek(f, 20 * 512, SEEK_SET), 0);
	ck_assert_uint_eq(fwrite(sector, 1, 512, f), 512);
	fclose(f);
	/* slot 0: read sectors 12..20; the last lands on the ring page itself */
	r = req(BLKIF_OP_READ, 12, 2);
	r.id = 0x600d;
	r.seg[1] = (struct blkif_request_segment){ RING_REF, 0, 0, { 0, 0 } };
	queue(&r);
	ck_assert_int_eq(kick(), 0);
	ck_assert_uint_eq(sring()->rsp_prod, 1);
	memcpy(&rsp, &sring()->ring[0].rsp, sizeof(rsp));
	ck_assert_uint_eq(rsp.id, 0x600d);
	ck_assert_int_eq(rsp.status, BLKIF_RSP_OKAY);
	ck_assert_uint_eq(rsp.operation, BLKIF_OP_READ);
	/* the disk's bytes did land in the ring: beyond the response, the
	 * forged request's segments */
	ck_assert_uint_eq(sring()->ring[0].req.seg[10].gref, 4000000);
	ck_assert(all(page(0), 4096, 12) == 0 && all(page(0), 512, 12));
	ck_assert_uint_eq(be_blk_stats(vm, 0, &(unsigned){ 0 })->writes, 0);
	ck_assert_int_eq(vm->end, VM_RUNNING);
}
END_TEST

/* A req_prod more than a ring ahead of the responses: the domain ends
 * with one line naming it (Linux: "Frontend provided bogus ring
 * requests"). */
START_TEST(req_prod_beyond_the_ring_ends_the_domain)
{
	struct blkif_request r = req(BLKIF_OP_READ, 0, 1);

	queue(&r);
	sring()->req_prod += BLKIF_RING_SIZE;
	ck_assert_int_eq(kick(), 0);
	ck_assert_int_eq(vm->end, VM_CRASH);
	ck_assert_msg(strstr(vm->end_msg, "blkback: vbd 51712: the guest's req_prod 33 claims 33"),
		      "%s", vm->end_msg);
	ck_assert_uint_eq(sring()->rsp_prod, 0);
}
END_TEST

START_TEST(files_that_cannot_be_disks)
{
	char why[256];

	ck_assert_int_eq(be_blk_add(vm, "/nonexistent/disk.img", 0, 51728, why, sizeof(why)), -ENOENT);
	ck_assert_str_eq(why, "/nonexistent/disk.img: No such file or directory");
	ck_assert_int_eq(be_blk_add(vm, "/tmp", 0, 51728, why, sizeof(why)), -EISDIR);
	ck_assert_int_eq(be_blk_add(vm, "/dev/null", 1, 51728, why, sizeof(why)), -EINVAL);
	ck_assert_str_eq(why, "/dev/null: not a regular file or a block device");
	ck_assert_int_eq(be_blk_add(vm, disk, 1, VDEV, why, sizeof(why)), -EINVAL);
	ck_assert(strstr(why, "virtual device 51712 is taken"));
	ck_assert_int_eq(vm->ndisks, 1);
}
END_TEST

Suite *blk_suite(void);

Suite *blk_suite(void)
{
	Suite *s = suite_create("blkback");
	TCase *tc = tcase_create("rw");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, keys_as_blkback_writes_them);
	tcase_add_test(tc, read_write_flush);
	tcase_add_test(tc, batches_and_rsp_event);
	tcase_add_test(tc, hostile_requests_get_errors);
	tcase_add_test(tc, request_copied_before_checks);
	tcase_add_test(tc, req_prod_beyond_the_ring_ends_the_domain);
	tcase_add_test(tc, files_that_cannot_be_disks);
	suite_add_tcase(s, tc);
	tc = tcase_create("ro");
	tcase_add_checked_fixture(tc, setup_readonly, teardown);
	tcase_add_test(tc, readonly_disk_refuses_writes);
	suite_add_tcase(s, tc);
	return s;
}
