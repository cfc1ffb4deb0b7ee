/* ioport.c - port I/O of a PV guest as Xen emulates it (pv/emul-priv-op.c,
 * physdev.c): the virtual IOPL, the guest's own I/O bitmap, and the ports
 * an unprivileged domain sees. A process cannot run with an IOPL, so every
 * in, out, ins and outs of the guest is a #GP that comes here. */
#include "hypercalls/hc.h"
#include "mmu/emulate.h"
#include "mmu/mmu.h"

#include <string.h>
#include <Zydis/Zydis.h>

#define IOBMP_BYTES 8192u           /* 65536 ports, one bit each */
#define RTC_INDEX 0x70u             /* CMOS index; 0x71 is its data port */
#define PCI_CONF_ADDRESS 0xcf8u
#define PCI_CONF_DATA 0xcfcu
#define EFLAGS_DF (1ull << 10)
#define PFEC_WRITE 2ull
#define MAX_REPS 4096u              /* per trap; the rest on the next (rip stays) */
#define XEN_VIRT_END 0xffff880000000000ull /* the end of Xen's reserved upper half */

int hc_iopl_ok(struct vm *vm)
{
	unsigned cpl = vm->vcpu.user_mode ? 3
		       : vm->vm_assist & (1ull << VMASST_TYPE_architectural_iopl) ? 0 : 1;

	return cpl <= vm->vcpu.iopl;
}

/* Two bytes of the I/O bitmap from the kernel's address space, as Xen reads
 * them (it switches to the kernel's tables in user mode); a byte the guest
 * cannot read there is 0xff: no access. */
static uint16_t bitmap_word(struct vm *vm, uint64_t va)
{
	int user = vm->vcpu.user_mode;
	uint8_t b[2] = { 0xff, 0xff };

	vm->vcpu.user_mode = 0;
	for (unsigned i = 0; i < 2; i++)
		if (mmu_copy_from_guest(vm, &b[i], va + i, 1))
			break;
	vm->vcpu.user_mode = user;
	return (uint16_t)(b[0] | b[1] << 8);
}

int hc_io_okay(struct vm *vm, unsigned port, unsigned bytes)
{
	if (hc_iopl_ok(vm))
		return 1;
	if (port + bytes > vm->vcpu.iobmp_limit)
		return 0;
	uint16_t mask = bitmap_word(vm, vm->vcpu.iobmp + (port >> 3));
	return !(mask & (((1u << bytes) - 1) << (port & 7)));
}

/* The width of a PCI CONFIG_DATA access at (port) of (bytes): as Xen, up
 * to the end of the dword, 3 rounded down to 2. */
static unsigned conf_data_size(unsigned port, unsigned bytes)
{
	unsigned size = 4 - (port & 3);

	size = bytes < size ? bytes : size;
	return size == 3 ? 2 : size;
}

/* Xen's guest_io_read for a domain that holds no ports: the CMOS index and
 * CONFIG_ADDRESS read back, every other byte (the CMOS data, PCI config
 * space, Xen's virtual PIT channel 2 and speaker port too) reads all ones. */
uint32_t hc_io_read(struct vm *vm, unsigned port, unsigned bytes)
{
	uint32_t data = 0;
	unsigned shift = 0;

	while (bytes) {
		unsigned size = 1;
		uint32_t sub = ~0u;

		if (port == RTC_INDEX) {
			sub = vm->cmos_idx;
		} else if (port == PCI_CONF_ADDRESS && bytes == 4) {
			size = 4;
			sub = vm->pci_cf8;
		} else if ((port & 0xfffc) == PCI_CONF_DATA) {
			size = conf_data_size(port, bytes);
		}
		if (size == 4)
			return sub;
		data |= (sub & ((1u << (size * 8)) - 1)) << shift;
		shift += size * 8, port += size, bytes -= size;
	}
	return data;
}

/* Xen's guest_io_write for a domain that holds no ports: only the two
 * latches keep what is written. */
void hc_io_write(struct vm *vm, unsigned port, unsigned bytes, uint32_t data)
{
	while (bytes) {
		unsigned size = 1;

		if (port == RTC_INDEX) {
			vm->cmos_idx = (uint8_t)data;
		} else if (port == PCI_CONF_ADDRESS && bytes == 4) {
			vm->pci_cf8 = data;
			return;
		} else if ((port & 0xfffc) == PCI_CONF_DATA) {
			size = conf_data_size(port, bytes);
		}
		if (size == 4)
			return;
		data >>= size * 8, port += size, bytes -= size;
	}
}

/* ---- PHYSDEVOP_set_iopl, PHYSDEVOP_set_iobitmap -------------------------- */

static int64_t set_iopl(struct vm *vm, uint64_t arg)
{
	struct physdev_set_iopl op;

	if (mmu_copy_from_guest(vm, &op, arg, sizeof(op)))
		return -XEN_EFAULT;
	if (op.iopl > 3)
		return -XEN_EINVAL;
	vm->vcpu.iopl = op.iopl;
	return 0;
}

/* As Xen: the bitmap's address is only checked to be a guest address (it
 * is read at each access), nr_ports at most 65536. */
static int64_t set_iobitmap(struct vm *vm, uint64_t arg)
{
	struct physdev_set_iobitmap op;

	if (mmu_copy_from_guest(vm, &op, arg, sizeof(op)))
		return -XEN_EFAULT;
	if ((op.bitmap >= 0x0000800000000000ull && op.bitmap < XEN_VIRT_END) ||
	    op.nr_ports > IOBMP_BYTES * 8)
		return -XEN_EINVAL;
	vm->vcpu.iobmp = op.bitmap;
	vm->vcpu.iobmp_limit = op.nr_ports;
	return 0;
}

/* The sub-operations a domain without devices uses; the others (interrupts,
 * PCI devices) are -ENOSYS. */
int64_t hc_physdev_op(struct vm *vm, const uint64_t a[5])
{
	switch (a[0]) {
	case PHYSDEVOP_set_iopl: return set_iopl(vm, a[1]);
	case PHYSDEVOP_set_iobitmap: return set_iobitmap(vm, a[1]);
	default: return -XEN_ENOSYS;
	}
}

/* ---- in, out, ins, outs --------------------------------------------------- */

struct io_insn {
	int in;           /* a read from the port */
	int string;       /* ins/outs */
	int rep;
	unsigned bytes;   /* per access */
	unsigned port;
	unsigned len;     /* instruction length */
	uint64_t count_mask; /* the part of rcx (and rsi, rdi) the address size uses */
};

/* The access size of in/out: its accumulator; of ins/outs: the mnemonic. */
static int decode_io(const struct vm *vm, const uint8_t *bytes, size_t n, const struct stub_regs *r,
		     struct io_insn *io)
{
	ZydisDecoder dec;
	ZydisDecodedInstruction insn;
	ZydisDecodedOperand ops[ZYDIS_MAX_OPERAND_COUNT];
	const ZydisDecodedOperand *port, *acc;

	ZydisDecoderInit(&dec, HC_ZYDIS_MODE(vm));
	if (!ZYAN_SUCCESS(ZydisDecoderDecodeFull(&dec, bytes, n, &insn, ops)))
		return -1;
	memset(io, 0, sizeof(*io));
	io->len = insn.length;
	io->rep = !!(insn.attributes & ZYDIS_ATTRIB_HAS_REP);
	io->count_mask = insn.address_width == 32 ? 0xffffffffull : ~0ull;
	io->port = (unsigned)(r->rdx & 0xffff);
	switch (insn.mnemonic) {
	case ZYDIS_MNEMONIC_INSB: case ZYDIS_MNEMONIC_INSW: case ZYDIS_MNEMONIC_INSD:
		io->in = 1;
		/* fall through */
	case ZYDIS_MNEMONIC_OUTSB: case ZYDIS_MNEMONIC_OUTSW: case ZYDIS_MNEMONIC_OUTSD:
		io->string = 1;
		io->bytes = insn.operand_width / 8;
		/* the string forms' operands follow 64-bit mode's rules (emulate.h) */
		return vcpu_compat(&vm->vcpu) ? -1 : 0;
	case ZYDIS_MNEMONIC_IN:
		io->in = 1, acc = &ops[0], port = &ops[1];
		break;
	case ZYDIS_MNEMONIC_OUT:
		acc = &ops[1], port = &ops[0];
		break;
	default:
		return -1;
	}
	io->bytes = acc->size / 8;
	if (port->type == ZYDIS_OPERAND_TYPE_IMMEDIATE)
		io->port = (unsigned)(port->imm.value.u & 0xff);
	return 0;
}

static void in_to_rax(struct stub_regs *r, unsigned bytes, uint32_t v)
{
	if (bytes == 4)
		r->rax = v; /* a 32-bit destination zero-extends */
	else if (bytes == 2)
		r->rax = (r->rax & ~0xffffull) | (v & 0xffff);
	else
		r->rax = (r->rax & ~0xffull) | (v & 0xff);
}

/* A #PF on the way: Xen's error code (W for a store, nothing else) and the
 * first byte that cannot be accessed. */
static int string_fault(struct vm *vm, uint64_t addr, int write)
{
	uint8_t probe;
	uint64_t bad = addr;

	if (!mmu_copy_from_guest(vm, &probe, addr, 1))
		bad = (addr | 4095) + 1; /* the first page is there: the access crosses */
	return hc_exception(vm, X86_PF, write ? PFEC_WRITE : 0, bad);
}

/* The segment bases an operand may name: FS, and the GS of the current mode. */
static void seg_bases(const struct vm *vm, uint64_t *fs, uint64_t *gs)
{
	*fs = vm->vcpu.fs_base;
	*gs = vm->vcpu.user_mode ? vm->vcpu.gs_base_user : vm->vcpu.gs_base_kernel;
}

/* One ins or outs: the memory side at its segment's linear address. */
static int string_once(struct vm *vm, const struct io_insn *io, const struct mmu_memop *m)
{
	struct stub_regs *r = &vm->vcpu.regs;
	uint64_t fs, gs, addr;
	uint32_t data = 0;
	int vec;

	seg_bases(vm, &fs, &gs);
	if ((vec = mmu_emul_linear(m, r, r->rip + io->len, fs, gs, &addr)) != 0)
		return hc_exception(vm, (unsigned)vec, 0, 0);
	if (io->in) {
		data = hc_io_read(vm, io->port, io->bytes);
		if (mmu_copy_to_guest(vm, addr, &data, io->bytes))
			return string_fault(vm, addr, 1);
	} else {
		if (mmu_copy_from_guest(vm, &data, addr, io->bytes))
			return string_fault(vm, addr, 0);
		hc_io_write(vm, io->port, io->bytes, data);
	}
	return 0;
}

/* ins/outs, with rep up to MAX_REPS at a time: rsi or rdi move by the
 * access size (down with DF), rcx counts down; an exception leaves the
 * registers at the access that raised it, as the hardware would. */
static int string_io(struct vm *vm, const struct io_insn *io, const uint8_t *bytes, size_t n)
{
	struct stub_regs *r = &vm->vcpu.regs;
	struct mmu_memop m;
	unsigned len, done = 0;
	uint64_t count_mask = io->count_mask, *idx;
	int rc;

	if (mmu_emul_memop(bytes, n, &m, &len))
		return 0;
	idx = io->in ? &r->rdi : &r->rsi;
	while (!io->rep || (r->rcx & count_mask)) {
		uint64_t step = r->eflags & EFLAGS_DF ? -(uint64_t)io->bytes : io->bytes;

		if (done == MAX_REPS)
			return 1; /* rip stays: the instruction carries on at the next trap */
		if ((rc = string_once(vm, io, &m)) != 0)
			return rc;
		*idx = (*idx + step) & count_mask; /* 32-bit writes zero-extend */
		if (!io->rep)
			break;
		r->rcx = (r->rcx - 1) & count_mask;
		done++;
	}
	r->rip += io->len;
	return 1;
}

int hc_emulate_io(struct vm *vm, const uint8_t *bytes, size_t n)
{
	struct stub_regs *r = &vm->vcpu.regs;
	struct io_insn io;

	if (decode_io(vm, bytes, n, r, &io))
		return 0;
	if (io.string && io.rep && !(r->rcx & io.count_mask)) {
		r->rip += io.len; /* a count of 0: nothing, not even the permission check */
		return 1;
	}
	if (!hc_io_okay(vm, io.port, io.bytes))
		return 0;
	if (io.string)
		return string_io(vm, &io, bytes, n);
	if (io.in)
		in_to_rax(r, io.bytes, hc_io_read(vm, io.port, io.bytes));
	else
		hc_io_write(vm, io.port, io.bytes, (uint32_t)r->rax);
	r->rip += io.len;
	return 1;
}
