/* walk.c - page walks and the checked guest-memory accessor. */
#include "mmu/mmu.h"

#include <errno.h>
#include <string.h>
#include <sys/mman.h>

#define PAGE 4096ull

static const uint64_t *table(const struct vm *vm, uint64_t mfn)
{
	return (const uint64_t *)(vm->mem + mfn * PAGE);
}

int mmu_walk(const struct vm *vm, mfn_t l4, gva_t addr, struct mmu_walk *w)
{
	uint64_t mfn = mfn_x(l4), va = gva_x(addr);

	memset(w, 0, sizeof(*w));
	w->writable = w->user = w->exec = 1;
	if (va >= HOLE_BASE || mfn >= vm->nr_frames) {
		w->level_missing = 4;
		return -EFAULT;
	}
	for (int level = 4; level >= 1; level--) {
		unsigned idx = (va >> (12 + 9 * (level - 1))) & 511;
		uint64_t e = table(vm, mfn)[idx];

		w->table[4 - level] = mfn;
		w->entry[4 - level] = e;
		mfn = (e & PTE_ADDR_MASK) >> XEN_PAGE_SHIFT;
		if (!(e & PTE_P) || mfn >= vm->nr_frames) {
			w->level_missing = level;
			return -EFAULT;
		}
		w->writable &= !!(e & PTE_RW);
		w->user &= !!(e & PTE_US);
		w->exec &= !(e & PTE_NX);
	}
	w->mfn = mfn;
	return 0;
}

static int refuse(struct vm *vm, uint64_t gva, const char *file, int line)
{
	vm->fault.gva = gva;
	vm->fault.file = file;
	vm->fault.line = line;
	return -EFAULT;
}

/* [gva, gva + len) is in the guest's half (and does not wrap). */
static int in_guest_half(uint64_t gva, uint64_t len)
{
	return gva < HOLE_BASE && len <= HOLE_BASE - gva;
}

int mmu_guest_array_ok_at(struct vm *vm, uint64_t gva, uint64_t count, uint64_t size,
			  const char *file, int line)
{
	if (!size || count > UINT64_MAX / size || !in_guest_half(gva, count * size))
		return refuse(vm, gva, file, line);
	return 0;
}

/* Copies page by page; (to_guest) selects the direction and the RW check. */
static int copy_guest(struct vm *vm, uint64_t gva, void *buf, size_t len, int to_guest,
		      const char *file, int line)
{
	uint8_t *p = buf;
	struct mmu_walk w;

	if (!in_guest_half(gva, len))
		return refuse(vm, gva, file, line);
	while (len) {
		size_t in_page = PAGE - (gva & (PAGE - 1));
		size_t n = len < in_page ? len : in_page;
		uint8_t *host;

		if (mmu_walk(vm, vcpu_cr3(&vm->vcpu), _gva(gva), &w) || (to_guest && !w.writable))
			return refuse(vm, gva, file, line);
		host = mmu_frame_data(vm, w.mfn) + (gva & (PAGE - 1));
		if (to_guest)
			memcpy(host, p, n);
		else
			memcpy(p, host, n);
		gva += n, p += n, len -= n;
	}
	return 0;
}

int mmu_copy_from_guest_at(struct vm *vm, void *dst, uint64_t gva, size_t len,
			   const char *file, int line)
{
	return copy_guest(vm, gva, dst, len, 0, file, line);
}

size_t mmu_fetch_insn(struct vm *vm, uint64_t rip, uint8_t buf[15])
{
	for (size_t n = 15; n; n--)
		if (!mmu_copy_from_guest(vm, buf, rip, n))
			return n;
	return 0;
}

int mmu_copy_to_guest_at(struct vm *vm, uint64_t gva, const void *src, size_t len,
			 const char *file, int line)
{
	return copy_guest(vm, gva, (void *)src, len, 1, file, line);
}
