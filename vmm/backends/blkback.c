/* blkback.c - the PV block device backend, Linux blkback's work on a file:
 * a split device of type "vbd" (xenbus_dev.h) whose ring the guest shares
 * and whose requests read, write and flush the file (backend.h). */
#include "vmm/backends/backend.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hypercalls/hc.h"
#include "vmm/backends/xenbus_dev.h"

#define SECTOR 512u
#define SECTORS_PER_PAGE 8u
#define MAX_ROUNDS 64 /* passes over the ring in one notification */

struct be_blk {
	struct xb_dev dev;
	struct vm *vm;
	int fd;
	int ro;
	uint64_t sectors;
	struct be_blk_stats stats;
	/* while connected */
	struct hc_grant ring_grant;
	struct blkif_sring *sring;
	uint32_t req_cons;      /* pvmm's own indices: never read back from the ring */
	uint32_t rsp_prod_pvt;  /* responses written ... */
	uint32_t rsp_pushed;    /* ... and made visible (rsp_prod) */
};

/* ---- virtual device numbers ------------------------------------------------- */

/* hd[a-t]: two disks on each IDE major, as libxl numbers them */
static const int ide_major[10] = { 3, 22, 33, 34, 56, 57, 88, 89, 90, 91 };

int be_blk_vdev(const char *name)
{
	size_t n = strlen(name);
	int idx;

	if (n && strspn(name, "0123456789") == n && n <= 9)
		return name[0] == '0' ? -1 : atoi(name) > 0 ? atoi(name) : -1; /* a number as it is */
	if (n == 3 && !strncmp(name, "hd", 2) && name[2] >= 'a' && name[2] <= 't')
		return (ide_major[(name[2] - 'a') / 2] << 8) | (((name[2] - 'a') % 2) << 6);
	if (n == 3 && !strncmp(name, "sd", 2) && name[2] >= 'a' && name[2] <= 'p')
		return (8 << 8) | ((name[2] - 'a') << 4);
	if ((n != 4 && n != 5) || strncmp(name, "xvd", 3))
		return -1;
	for (size_t i = 3; i < n; i++)
		if (name[i] < 'a' || name[i] > 'z')
			return -1;
	idx = n == 4 ? name[3] - 'a' : (name[3] - 'a' + 1) * 26 + (name[4] - 'a'); /* xvdaa follows xvdz */
	if (idx < 16)
		return (202 << 8) | (idx << 4);
	return (1 << 28) | (idx << 8); /* Xen's extended form, xvdq on */
}

/* The name be_blk_vdev takes for (vdev): xvdX, hdX or sdX; "" when it is
 * none of them. */
static void vdev_name(unsigned vdev, char *buf, size_t len)
{
	unsigned major = vdev >> 8, minor = vdev & 255, idx;

	buf[0] = 0;
	if (major == 202 && !(minor & 15))
		snprintf(buf, len, "xvd%c", 'a' + (minor >> 4));
	else if ((vdev >> 28) == 1 && !minor && (idx = (vdev >> 8) & 0xfffff) < 27 * 26)
		snprintf(buf, len, idx < 26 ? "xvd%c" : "xvd%c%c", idx < 26 ? 'a' + idx : 'a' + idx / 26 - 1,
			 'a' + idx % 26);
	else if (major == 8 && !(minor & 15))
		snprintf(buf, len, "sd%c", 'a' + (minor >> 4));
	else if (minor == 0 || minor == 64)
		for (unsigned i = 0; i < sizeof(ide_major) / sizeof(ide_major[0]); i++)
			if (major == (unsigned)ide_major[i])
				snprintf(buf, len, "hd%c", 'a' + i * 2 + (minor == 64));
}

int be_blk_vdev_name(unsigned vdev, char *buf, size_t len)
{
	char name[16];

	if (!vdev)
		return -1;
	vdev_name(vdev, name, sizeof(name));
	if (!name[0])
		snprintf(name, sizeof(name), "%u", vdev); /* a number, as libxl writes one given so */
	if (strlen(name) >= len)
		return -1;
	strcpy(buf, name);
	return 0;
}

/* ---- I/O on the file ---------------------------------------------------------- */

static int io_full(int fd, int write, uint8_t *buf, size_t len, uint64_t off)
{
	while (len) {
		ssize_t n = write ? pwrite(fd, buf, len, (off_t)off) : pread(fd, buf, len, (off_t)off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1; /* an error, or the file shrank under the guest */
		buf += n, len -= (size_t)n, off += (uint64_t)n;
	}
	return 0;
}

/* ---- requests ---------------------------------------------------------------- */

/* Read or write (r)'s segments: every check on pvmm's copy (r) first, every
 * grant acquired before the first byte moves, all released after. */
static int16_t rw(struct be_blk *b, const struct blkif_request *r, int write)
{
	struct hc_grant g[BLKIF_MAX_SEGMENTS_PER_REQUEST];
	uint8_t *page[BLKIF_MAX_SEGMENTS_PER_REQUEST];
	unsigned n = r->nr_segments, held = 0;
	uint64_t total = 0, off;
	int16_t st = BLKIF_RSP_OKAY;

	if (n == 0 || n > BLKIF_MAX_SEGMENTS_PER_REQUEST || (write && b->ro))
		return BLKIF_RSP_ERROR;
	for (unsigned i = 0; i < n; i++) {
		if (r->seg[i].first_sect > r->seg[i].last_sect ||
		    r->seg[i].last_sect >= SECTORS_PER_PAGE)
			return BLKIF_RSP_ERROR;
		total += r->seg[i].last_sect - r->seg[i].first_sect + 1u;
	}
	if (r->sector_number > b->sectors || total > b->sectors - r->sector_number)
		return BLKIF_RSP_ERROR;
	/* a write reads the guest's pages; a read writes them */
	for (; held < n; held++)
		if (hc_grant_acquire(b->vm, r->seg[held].gref, write, &g[held], &page[held])) {
			st = BLKIF_RSP_ERROR;
			break;
		}
	off = r->sector_number * SECTOR;
	for (unsigned i = 0; st == BLKIF_RSP_OKAY && i < n; i++) {
		size_t len = (r->seg[i].last_sect - r->seg[i].first_sect + 1u) * SECTOR;
		if (io_full(b->fd, write, page[i] + r->seg[i].first_sect * SECTOR, len, off))
			st = BLKIF_RSP_ERROR;
		off += len;
	}
	while (held)
		hc_grant_release(b->vm, &g[--held]);
	if (st == BLKIF_RSP_OKAY) {
		*(write ? &b->stats.write_sectors : &b->stats.read_sectors) += total;
		(*(write ? &b->stats.writes : &b->stats.reads))++;
	}
	return st;
}

static int16_t flush(struct be_blk *b)
{
	while (fdatasync(b->fd))
		if (errno != EINTR)
			return errno == EINVAL || errno == EROFS ? BLKIF_RSP_OKAY : BLKIF_RSP_ERROR;
	b->stats.flushes++;
	return BLKIF_RSP_OKAY;
}

static int16_t serve(struct be_blk *b, const struct blkif_request *r)
{
	int16_t st;

	switch (r->operation) {
	case BLKIF_OP_READ:
		return rw(b, r, 0);
	case BLKIF_OP_WRITE:
		return rw(b, r, 1);
	case BLKIF_OP_FLUSH_DISKCACHE: /* with data, as Linux's preflush write: the data, then the flush */
		st = r->nr_segments ? rw(b, r, 1) : BLKIF_RSP_OKAY;
		return st == BLKIF_RSP_OKAY ? flush(b) : st;
	default: /* barriers, discard, indirect, anything else: not offered */
		b->stats.unsupported++;
		return BLKIF_RSP_EOPNOTSUPP;
	}
}

/* --trace=blk: the request just served, its sectors as its segments say
 * (those that make sense; a refused request may have none) and its status. */
static void trace_request(struct be_blk *b, const struct blkif_request *r, int16_t st)
{
	static const char *const ops[] = { "read", "write", "barrier", "flush", "reserved", "discard", "indirect" };
	struct vm_event ev = { .kind = TRACE_BLK, .idx = -1, .dev = b->dev.devid,
			       .sector = r->sector_number, .error = st };

	if (!(b->vm->trace_mask & TRACE_BLK) || !b->vm->trace)
		return;
	ev.what = r->operation < sizeof(ops) / sizeof(*ops) ? ops[r->operation] : "unknown";
	for (unsigned i = 0; r->operation != BLKIF_OP_INDIRECT && i < r->nr_segments &&
			     i < BLKIF_MAX_SEGMENTS_PER_REQUEST; i++)
		if (r->seg[i].first_sect <= r->seg[i].last_sect && r->seg[i].last_sect < SECTORS_PER_PAGE)
			ev.count += r->seg[i].last_sect - r->seg[i].first_sect + 1u;
	b->vm->trace(b->vm, &ev);
}

/* ---- the ring ------------------------------------------------------------------ */

/* The request at (slot) into pvmm's own copy, once (XSA-155): every check
 * and use after this is on the copy, whatever the guest writes meanwhile. */
static void fetch(struct blkif_request *dst, const union blkif_sring_entry *slot)
{
	memcpy(dst, &slot->req, sizeof(*dst));
	__asm__ volatile("" ::: "memory"); /* no later read of the slot stands in for the copy */
}

static void respond(struct be_blk *b, const struct blkif_request *r, int16_t st)
{
	struct blkif_response rsp = { .id = r->id, .operation = r->operation, .status = st };

	if (st != BLKIF_RSP_OKAY)
		b->stats.errors += st == BLKIF_RSP_ERROR;
	memcpy(&b->sring->ring[b->rsp_prod_pvt % BLKIF_RING_SIZE].rsp, &rsp, sizeof(rsp));
	b->rsp_prod_pvt++;
}

/* Make the responses visible; whether the guest asked to be told
 * (RING_PUSH_RESPONSES_AND_CHECK_NOTIFY, rsp_event read once). */
static int push(struct be_blk *b)
{
	uint32_t old = b->rsp_pushed, now = b->rsp_prod_pvt, event;

	if (old == now)
		return 0;
	__atomic_store_n(&b->sring->rsp_prod, now, __ATOMIC_RELEASE);
	b->rsp_pushed = now;
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	event = __atomic_load_n(&b->sring->rsp_event, __ATOMIC_RELAXED);
	return (uint32_t)(now - event) < (uint32_t)(now - old);
}

/* One pass: the requests req_prod (read once) says are there. 1 when the
 * final check finds more, 0 when done, -1 when the domain was ended. */
static int pass(struct be_blk *b)
{
	uint32_t rp = __atomic_load_n(&b->sring->req_prod, __ATOMIC_ACQUIRE);
	struct blkif_request r;

	if (rp - b->rsp_prod_pvt > BLKIF_RING_SIZE) { /* Linux: "Frontend provided bogus ring requests" */
		vm_end_domain(b->vm, VM_CRASH,
			      "blkback: vbd %u: the guest's req_prod %u claims %u requests; the ring holds %u",
			      b->dev.devid, rp, rp - b->rsp_prod_pvt, BLKIF_RING_SIZE);
		return -1;
	}
	while (b->req_cons != rp) {
		int16_t st;

		fetch(&r, &b->sring->ring[b->req_cons % BLKIF_RING_SIZE]);
		b->req_cons++;
		st = serve(b, &r);
		trace_request(b, &r, st);
		respond(b, &r, st);
	}
	/* RING_FINAL_CHECK_FOR_REQUESTS: ask for an event at the next request */
	__atomic_store_n(&b->sring->req_event, b->req_cons + 1, __ATOMIC_RELAXED);
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	return __atomic_load_n(&b->sring->req_prod, __ATOMIC_ACQUIRE) != b->req_cons;
}

static void blk_notify(struct xb_dev *d)
{
	struct be_blk *b = d->priv;
	int more = 1, tell = 0;

	for (int round = 0; more > 0 && round < MAX_ROUNDS; round++) {
		more = pass(b);
		tell |= push(b);
	}
	if (tell && !b->vm->end)
		xb_dev_raise(d);
}

/* ---- the handshake ----------------------------------------------------------- */

static int blk_connect(struct xb_dev *d, char *why, size_t len)
{
	struct be_blk *b = d->priv;
	char proto[32];
	uint64_t ref, order;
	uint8_t *page;
	int16_t st;

	if (!xb_dev_read_uint(d, "ring-page-order", 16, &order) && order) {
		snprintf(why, len, "ring-page-order %u: pvmm's blkback takes one ring page", (unsigned)order);
		return -1;
	}
	if (xb_dev_read(d, "protocol", proto, sizeof(proto)) >= 0 && strcmp(proto, "x86_64-abi")) {
		snprintf(why, len, "protocol '%s': pvmm's blkback speaks x86_64-abi", proto);
		return -1;
	}
	if (xb_dev_read_uint(d, "ring-ref", UINT32_MAX, &ref)) {
		snprintf(why, len, "reading ring-ref: missing or not a number");
		return -1;
	}
	if ((st = hc_grant_acquire(b->vm, (uint32_t)ref, 0, &b->ring_grant, &page))) {
		snprintf(why, len, "mapping ring-ref %u: grant status %d", (unsigned)ref, st);
		return -1;
	}
	b->sring = (struct blkif_sring *)page;
	b->req_cons = b->rsp_prod_pvt = b->rsp_pushed = 0; /* BACK_RING_INIT */
	return 0;
}

static void blk_disconnect(struct xb_dev *d)
{
	struct be_blk *b = d->priv;

	hc_grant_release(b->vm, &b->ring_grant);
	b->sring = NULL;
}

static const struct xb_dev_ops blk_ops = { "vbd", blk_connect, blk_notify, blk_disconnect };

/* ---- disks ----------------------------------------------------------------------- */

static int announce(struct be_blk *b, unsigned vdev)
{
	struct xb_dev *d = &b->dev;
	char name[16] = "";
	int rc;

	be_blk_vdev_name(vdev, name, sizeof(name));
	if ((rc = xb_dev_add(b->vm, d, &blk_ops, vdev, b)) ||
	    (name[0] && (rc = xb_dev_write(d, 0, "dev", "%s", name))) ||
	    (rc = xb_dev_write(d, 1, "virtual-device", "%u", vdev)) ||
	    (rc = xb_dev_write(d, 1, "device-type", "disk")) ||
	    (rc = xb_dev_write(d, 0, "sectors", "%llu", (unsigned long long)b->sectors)) ||
	    (rc = xb_dev_write(d, 0, "sector-size", "%u", SECTOR)) ||
	    (rc = xb_dev_write(d, 0, "physical-sector-size", "%u", SECTOR)) ||
	    (rc = xb_dev_write(d, 0, "info", "%u", b->ro ? VDISK_READONLY : 0u)) ||
	    (rc = xb_dev_write(d, 0, "mode", "%s", b->ro ? "r" : "w")) ||
	    (rc = xb_dev_write(d, 0, "device-type", "disk")) ||
	    (rc = xb_dev_write(d, 0, "removable", "0")) ||
	    (rc = xb_dev_write(d, 0, "feature-flush-cache", "1")) ||
	    (rc = xb_dev_write(d, 0, "feature-barrier", "0")))
		return rc;
	return xb_dev_start(d);
}

int be_blk_add(struct vm *vm, const char *path, int ro, unsigned vdev, char *why, size_t len)
{
	struct be_blk *b;
	struct stat st;
	off_t size = 0;
	int fd, rc;

	if (vm->ndisks == BE_BLK_MAX) {
		snprintf(why, len, "%s: more than %d disks", path, BE_BLK_MAX);
		return -EINVAL;
	}
	for (unsigned i = 0; i < vm->ndisks; i++)
		if (vm->disks[i]->dev.devid == vdev) {
			snprintf(why, len, "%s: virtual device %u is taken by another disk", path, vdev);
			return -EINVAL;
		}
	fd = open(path, (ro ? O_RDONLY : O_RDWR) | O_CLOEXEC);
	if (fd < 0)
		rc = -errno;
	else if (fstat(fd, &st) || (!S_ISREG(st.st_mode) && !S_ISBLK(st.st_mode)))
		rc = -EINVAL;
	else if ((size = lseek(fd, 0, SEEK_END)) < 0)
		rc = -errno;
	else
		rc = 0;
	if (rc) {
		snprintf(why, len, "%s: %s", path,
			 rc == -EINVAL ? "not a regular file or a block device" : strerror(-rc));
		if (fd >= 0)
			close(fd);
		return rc;
	}
	if (!(b = calloc(1, sizeof(*b)))) {
		close(fd);
		snprintf(why, len, "%s: out of memory", path);
		return -ENOMEM;
	}
	*b = (struct be_blk){ .vm = vm, .fd = fd, .ro = ro, .sectors = (uint64_t)size / SECTOR };
	vm->disks[vm->ndisks++] = b;
	if ((rc = announce(b, vdev))) {
		snprintf(why, len, "%s: cannot announce it in the xenstore (%d)", path, rc);
		return -ENOMEM;
	}
	return 0;
}

const struct be_blk_stats *be_blk_stats(const struct vm *vm, unsigned i, unsigned *vdev)
{
	if (i >= vm->ndisks)
		return NULL;
	*vdev = vm->disks[i]->dev.devid;
	return &vm->disks[i]->stats;
}

void be_blk_free(struct vm *vm)
{
	for (unsigned i = 0; i < vm->ndisks; i++) {
		close(vm->disks[i]->fd);
		free(vm->disks[i]);
	}
	vm->ndisks = 0;
}
