/*
 * backends - dom0's work, done in pvmm: the devices a PV guest finds
 * through the xenstore and talks to over shared rings and event channels.
 * The xenstore (xenstore.h), the console (here) and split devices
 * (xenbus_dev.h: the xenstore directories and XenbusState handshake every
 * split device shares; blkback below) live here.
 *
 * Every backend has the same shape: pure code over struct vm, bound to its
 * event-channel port with hc_bind_backend() (hypercalls/hc.h) and a struct
 * vm_backend (include/vm.h) whose notify the guest's EVTCHNOP_send calls;
 * it reads the ring the guest shares, checking every index and length the
 * guest controls, serves it, and raises its port (hc_raise) when it
 * produced or consumed something. A split device reaches the frames the
 * guest granted it only through hc_grant_acquire/hc_grant_release
 * (hypercalls/hc.h: domain 0's checked map of a grant). The event-channel code knows no backend
 * by name. Nothing here exits: a guest that breaks a protocol has its
 * domain ended with a reason (vm_end_domain).
 */
#ifndef PVMM_BACKEND_H
#define PVMM_BACKEND_H

#include <stddef.h>
#include <stdint.h>

#include "vm.h"

/* ---- the console (console.c) ---------------------------------------------- */

/* Bind the console backend to LOADER_CONSOLE_EVTCHN: 0 or -XEN_EINVAL. */
int be_console_init(struct vm *vm);
/* Move what the host typed (vm->input) into the guest's input ring, as
 * much as fits, and raise the console's port when the ring took something:
 * how many bytes it took. The guest's indices are read once and checked
 * on pvmm's copy (a ring whose indices the guest broke takes nothing).
 * While the guest has not used the ring, the bytes stay for
 * CONSOLEIO_read and VIRQ_CONSOLE is raised once for new ones (0). Called
 * with the guest stopped (the port's raise writes its shared_info). */
int be_console_input(struct vm *vm);
/* Free bytes in the guest's input ring now (0 when its indices are
 * broken). Only reads the ring: safe while the guest runs. */
uint32_t be_console_room(const struct vm *vm);

/* ---- the block device (blkback.c) -------------------------------------------
 * Linux blkback's work on a file (or a block device), for a 64-bit
 * frontend: a split device of type "vbd" (xenbus_dev.h) numbered by its
 * virtual device (xvda is 51712), whose backend directory says sectors,
 * sector-size 512, info (VDISK_READONLY for a read-only disk), mode r/w,
 * feature-flush-cache 1, feature-barrier 0, and dev (its name, xvda, as
 * libxl writes it); no max-ring-page-order (one
 * ring page; a frontend that asks for more fails to connect), no
 * persistent grants, no indirect descriptors, no discard.
 *
 * Each request is copied from the ring once and checked on pvmm's copy
 * (Xen's XSA-155): READ and WRITE (1 to 11 segments, first_sect <=
 * last_sect <= 7, the sectors within the disk, every segment's grant one
 * the guest gave domain 0, writable for a read into it; a write to a
 * read-only disk refused) are pread/pwrite on the file, FLUSH_DISKCACHE
 * is fdatasync (after its data, when it carries some). Any of those checks
 * failing, or the file failing, is BLKIF_RSP_ERROR for that request alone;
 * WRITE_BARRIER, DISCARD, INDIRECT and unknown operations are
 * BLKIF_RSP_EOPNOTSUPP. Responses are written and rsp_prod moved by
 * pvmm's own indices; the port is raised as rsp_event asks. A req_prod
 * that claims more requests than the ring holds ends the domain with one
 * line (where Linux stops serving the ring). */
#define BE_BLK_MAX VM_MAX_DISKS /* disks per domain: 16 */

/* The virtual device number of (name), as libxl numbers them: xvda 51712
 * ((202 << 8) | (0 << 4)) to xvdp, then Xen's extended form ((1 << 28) |
 * (index << 8)) from xvdq to xvdzz; hda 768 to hdt (two disks a major:
 * 3, 22, 33, ...; Mini-OS's blkfront opens device/vbd/768), sda to sdp
 * ((8 << 8) | (index << 4)); a decimal number as it is; -1 for anything
 * else. */
int be_blk_vdev(const char *name);
/* Its inverse: the name of virtual device (vdev) in buf ("xvda", "hda",
 * "sdb"; a number that is none of those in decimal), as libxl writes the
 * vdev to the backend's "dev" key (PV GRUB names the disk (xen/xvda) after
 * it); 0, or -1 for vdev 0 or a buffer too small. */
int be_blk_vdev_name(unsigned vdev, char *buf, size_t len);

/* Open (path) (read-only when ro) and announce it as virtual device
 * (vdev); call after xs_init. 0, or a negative errno with one line in
 * (why): the file cannot be opened, is not a file or block device, the
 * number is taken, BE_BLK_MAX disks already. */
int be_blk_add(struct vm *vm, const char *path, int ro, unsigned vdev, char *why, size_t len);

struct be_blk_stats {
	uint64_t reads, writes, flushes;       /* requests served */
	uint64_t read_sectors, write_sectors;
	uint64_t errors, unsupported;          /* BLKIF_RSP_ERROR, _EOPNOTSUPP */
};
/* Disk (i)'s counters and its virtual device number; NULL past the last. */
const struct be_blk_stats *be_blk_stats(const struct vm *vm, unsigned i, unsigned *vdev);

/* Close the disks (after xs_free: the store's hooks point to them). */
void be_blk_free(struct vm *vm);

#endif
