/* check_privop.c - the rules of privileged-instruction emulation: Xen's
 * virtual IOPL and I/O bitmap, the ports of a domain without hardware,
 * CR4 as pv_fixup_guest_cr4, memory operands and segments in 64-bit mode
 * (XTF's memop-seg table), and instructions emulated at a fixture's rip. */
#include <check.h>
#include <errno.h>
#include <string.h>

#include "mmu/emulate.h"
#include "fixture.h"
#include "hypercalls/hc.h"
#include "mmu/mmu.h"

enum { R8, R9, R10, R11, R12, R13, R14, R15, RDI, RSI, RBP, RBX, RDX, RAX, RCX, RSP };

static struct vm *vm;
static struct fixture_ops ops;
static uint64_t code_va, data_va; /* in the fixture's slack page, rw */

static uint8_t *at(uint64_t va) { return vm->mem + (va - vm->lay.v_start); }

static void setup(void)
{
	vm = fixture_vm();
	ops.n = 0;
	vm->mmu.emit = fixture_collect, vm->mmu.emit_ctx = &ops;
	code_va = vm->lay.v_end - 4096;
	data_va = code_va + 0x800;
	vm->vcpu.regs = (struct stub_regs){ .rip = code_va, .rsp = data_va + 0x700, .eflags = 0x202 };
	vm->vcpu.user_l4 = vm->vcpu.kernel_l4; /* user mode sees the same tables */
	vm->vcpu.kernel_sp = data_va + 0x600;
}

static void teardown(void) { fixture_free(vm); }

/* Put (bytes) at rip and run them as a #GP (or #UD) of the guest. */
static int run(const void *bytes, size_t n, int undefined_opcode)
{
	vm->vcpu.regs.rip = code_va;
	memcpy(at(code_va), bytes, n);
	return hc_privop(vm, undefined_opcode);
}

/* ---- the virtual IOPL, as XTF's pv-iopl expects -------------------------- */

/* The kernel is CPL 1 (0 with architectural_iopl), user mode CPL 3. */
START_TEST(iopl_by_mode)
{
	static const struct { unsigned iopl; int arch, user, ok; } t[] = {
		{ 0, 0, 0, 0 }, { 0, 0, 1, 0 }, { 1, 0, 0, 1 }, { 1, 0, 1, 0 },
		{ 2, 0, 0, 1 }, { 3, 0, 0, 1 }, { 3, 0, 1, 1 },
		{ 0, 1, 0, 1 }, { 0, 1, 1, 0 }, { 1, 1, 1, 0 }, { 3, 1, 1, 1 },
	};

	for (unsigned i = 0; i < sizeof(t) / sizeof(*t); i++) {
		vm->vcpu.iopl = t[i].iopl;
		vm->vcpu.user_mode = t[i].user;
		vm->vm_assist = t[i].arch ? 1ull << VMASST_TYPE_architectural_iopl : 0;
		ck_assert_msg(hc_iopl_ok(vm) == t[i].ok, "row %u", i);
	}
}
END_TEST

/* cli/sti: allowed by the IOPL they are no-ops (the event mask stays), or
 * the #GP stands; an outb likewise, in both modes. */
START_TEST(cli_and_outb_at_each_iopl)
{
	static const uint8_t cli[] = { 0xfa }, outb[] = { 0xe6, 0x80 };
	struct vcpu_info *vi = hc_vcpu_info(vm);

	vi->evtchn_upcall_mask = 0;
	ck_assert_int_eq(run(cli, 1, 0), 0);
	ck_assert_int_eq(run(outb, 2, 0), 0);
	vm->vcpu.iopl = 1;
	ck_assert_int_eq(run(cli, 1, 0), 1);
	ck_assert_uint_eq(vm->vcpu.regs.rip, code_va + 1);
	ck_assert_uint_eq(vi->evtchn_upcall_mask, 0);
	ck_assert_int_eq(run(outb, 2, 0), 1);
	ck_assert_uint_eq(vm->vcpu.regs.rip, code_va + 2);
	vm->vcpu.user_mode = 1;
	ck_assert_int_eq(run(cli, 1, 0), 0);
	ck_assert_int_eq(run(outb, 2, 0), 0);
	vm->vcpu.iopl = 3;
	ck_assert_int_eq(run(cli, 1, 0), 1);
	ck_assert_int_eq(run(outb, 2, 0), 1);
}
END_TEST

/* PHYSDEVOP_set_iopl and set_iobitmap check their arguments as Xen does. */
START_TEST(physdev_op_arguments)
{
	struct physdev_set_iopl iopl = { 4 };
	struct physdev_set_iobitmap bm = { data_va, 65537, 0 };
	uint64_t a[5] = { PHYSDEVOP_set_iopl, data_va };

	memcpy(at(data_va), &iopl, sizeof(iopl));
	ck_assert_int_eq(hc_physdev_op(vm, a), -XEN_EINVAL);
	iopl.iopl = 3;
	memcpy(at(data_va), &iopl, sizeof(iopl));
	ck_assert_int_eq(hc_physdev_op(vm, a), 0);
	ck_assert_uint_eq(vm->vcpu.iopl, 3);
	a[1] = 0x100000000ull; /* nothing mapped */
	ck_assert_int_eq(hc_physdev_op(vm, a), -XEN_EFAULT);
	a[0] = PHYSDEVOP_set_iobitmap, a[1] = data_va;
	memcpy(at(data_va), &bm, sizeof(bm));
	ck_assert_int_eq(hc_physdev_op(vm, a), -XEN_EINVAL);
	bm.nr_ports = 65536, bm.bitmap = 0xffff800000000000ull; /* Xen's own range */
	memcpy(at(data_va), &bm, sizeof(bm));
	ck_assert_int_eq(hc_physdev_op(vm, a), -XEN_EINVAL);
	bm.bitmap = data_va + 0x100;
	memcpy(at(data_va), &bm, sizeof(bm));
	ck_assert_int_eq(hc_physdev_op(vm, a), 0);
	ck_assert_uint_eq(vm->vcpu.iobmp_limit, 65536);
	a[0] = 2; /* PHYSDEVOP_irq_status_query: no interrupts to ask about */
	ck_assert_int_eq(hc_physdev_op(vm, a), -XEN_ENOSYS);
}
END_TEST

/* The bitmap is read through the kernel's tables in either mode, two bytes
 * at a time (a word access may straddle); unreadable bytes deny. */
START_TEST(io_bitmap_rules)
{
	uint8_t *bm = at(data_va);

	memset(bm, 0xff, 32);
	bm[0x10] = 0; /* ports 0x80-0x87: port p's bit is bit p % 8 of byte p / 8 */
	vm->vcpu.iobmp = data_va;
	vm->vcpu.iobmp_limit = 0x100;
	ck_assert(hc_io_okay(vm, 0x80, 1));
	ck_assert(hc_io_okay(vm, 0x84, 4));
	ck_assert(!hc_io_okay(vm, 0x86, 4));  /* 0x88, 0x89 are denied */
	ck_assert(!hc_io_okay(vm, 0x7f, 1));
	vm->vcpu.user_mode = 1;
	vm->vcpu.user_l4 = vm->vcpu.kernel_l4 + 1; /* another table: still the kernel's view */
	ck_assert(hc_io_okay(vm, 0x80, 1));
	ck_assert_int_eq(vm->vcpu.user_mode, 1);
	vm->vcpu.user_l4 = vm->vcpu.kernel_l4;
	vm->vcpu.iobmp_limit = 0x81;             /* the access must fit under the limit */
	ck_assert(hc_io_okay(vm, 0x80, 1));
	ck_assert(!hc_io_okay(vm, 0x80, 2));
	vm->vcpu.iobmp = 0x100000000ull;          /* unreadable: denied */
	ck_assert(!hc_io_okay(vm, 0x80, 1));
}
END_TEST

/* The ports of a domain with none of the machine's: all ones, writes
 * dropped; the CMOS index and a dword CONFIG_ADDRESS read back. */
START_TEST(ports_of_a_domain_without_hardware)
{
	ck_assert_uint_eq(hc_io_read(vm, 0x80, 1), 0xff);
	ck_assert_uint_eq(hc_io_read(vm, 0x3f8, 2), 0xffff);
	ck_assert_uint_eq(hc_io_read(vm, 0x61, 4), 0xffffffffu);
	hc_io_write(vm, 0x70, 1, 0x8f);
	ck_assert_uint_eq(hc_io_read(vm, 0x70, 1), 0x8f);
	ck_assert_uint_eq(hc_io_read(vm, 0x71, 1), 0xff);
	ck_assert_uint_eq(hc_io_read(vm, 0x70, 2), 0xff8f); /* index, then data */
	hc_io_write(vm, 0xcf8, 4, 0x80000010u);
	ck_assert_uint_eq(hc_io_read(vm, 0xcf8, 4), 0x80000010u);
	ck_assert_uint_eq(hc_io_read(vm, 0xcf8, 1), 0xff);  /* only as a dword */
	hc_io_write(vm, 0xcf8, 2, 0x1234);                  /* dropped */
	ck_assert_uint_eq(hc_io_read(vm, 0xcf8, 4), 0x80000010u);
	ck_assert_uint_eq(hc_io_read(vm, 0xcfc, 4), 0xffffffffu); /* no config space */
}
END_TEST

/* in and string I/O emulated at rip: registers as the hardware leaves them. */
START_TEST(in_and_rep_ins)
{
	static const uint8_t inl_dx[] = { 0xed }, inb_imm[] = { 0xe4, 0x71 };
	static const uint8_t rep_insw[] = { 0xf3, 0x66, 0x6d }, outsb_fs[] = { 0x64, 0x6e };
	struct stub_regs *r = &vm->vcpu.regs;

	vm->vcpu.iopl = 1;
	r->rax = 0x1122334455667788ull, r->rdx = 0xcf8;
	vm->pci_cf8 = 0x80000000u;
	ck_assert_int_eq(run(inl_dx, 1, 0), 1);
	ck_assert_uint_eq(r->rax, 0x80000000u); /* a 32-bit in zero-extends */
	r->rax = 0x1122334455667700ull;
	ck_assert_int_eq(run(inb_imm, 2, 0), 1);
	ck_assert_uint_eq(r->rax, 0x11223344556677ffull);
	memset(at(data_va), 0, 8);
	r->rdi = data_va, r->rcx = 3, r->rdx = 0x60;
	ck_assert_int_eq(run(rep_insw, 3, 0), 1);
	ck_assert_uint_eq(r->rip, code_va + 3);
	ck_assert_uint_eq(r->rdi, data_va + 6);
	ck_assert_uint_eq(r->rcx, 0);
	ck_assert_uint_eq(at(data_va)[5], 0xff);
	ck_assert_uint_eq(at(data_va)[6], 0);
	/* outs through %fs: the base is the guest's FS base */
	vm->vcpu.fs_base = data_va;
	at(data_va + 8)[0] = 0x33;
	r->rsi = 8, r->rdx = 0x70;
	ck_assert_int_eq(run(outsb_fs, 2, 0), 1);
	ck_assert_uint_eq(vm->cmos_idx, 0x33);
	ck_assert_uint_eq(r->rsi, 9);
}
END_TEST

/* Faults on the way: a non-canonical operand is #GP(0) at the instruction,
 * an unmapped one #PF with Xen's error code; what is done stays done. */
START_TEST(string_io_faults)
{
	static const uint8_t rep_outsb[] = { 0xf3, 0x6e }, insb[] = { 0x6c };
	struct stub_regs *r = &vm->vcpu.regs;
	uint64_t *frame;

	vm->vcpu.iopl = 1;
	vm->vcpu.traps[X86_GP] = (struct vcpu_trap){ 0x402000, FLAT_KERNEL_CS64, 0 };
	vm->vcpu.traps[X86_PF] = (struct vcpu_trap){ 0x403000, FLAT_KERNEL_CS64, 0 };
	r->rsi = 0x8000000000000000ull, r->rcx = 2, r->rdx = 0x80;
	ck_assert_int_eq(run(rep_outsb, 2, 0), 1);
	ck_assert_uint_eq(r->rip, 0x402000);
	frame = (uint64_t *)at(r->rsp);
	ck_assert_uint_eq(frame[2], 0);       /* error code */
	ck_assert_uint_eq(frame[3], code_va); /* the instruction itself */
	r->rsp = data_va + 0x700;
	r->rdi = 0x100000fffull, r->rcx = 0;  /* not mapped */
	ck_assert_int_eq(run(insb, 1, 0), 1);
	ck_assert_uint_eq(r->rip, 0x403000);
	ck_assert_uint_eq(((uint64_t *)at(r->rsp))[2], 2); /* W */
	ck_assert_uint_eq(hc_vcpu_info(vm)->cr2, 0x100000fffull);
	/* a rep with a count of 0 does nothing, not even the permission check */
	vm->vcpu.iopl = 0;
	r->rsp = data_va + 0x700, r->rcx = 0;
	ck_assert_int_eq(run(rep_outsb, 2, 0), 1);
	ck_assert_uint_eq(r->rip, code_va + 2);
}
END_TEST

/* ---- memory operands and segments (XTF memop-seg, 64-bit) ---------------- */

/* `movb $0, seg:(reg)` for each segment prefix (0: none) and base. */
static size_t movb_store(uint8_t prefix, int reg, uint8_t *b)
{
	size_t n = 0;
	unsigned num = (unsigned)reg & 7;

	if (prefix)
		b[n++] = prefix;
	if (reg >= 8)
		b[n++] = 0x41; /* REX.B */
	b[n++] = 0xc6;
	if (num == 4) {            /* rsp, r12: a SIB byte */
		b[n++] = 0x04, b[n++] = 0x24;
	} else if (num == 5) {     /* rbp, r13: mod 01, disp8 0 */
		b[n++] = 0x45, b[n++] = 0;
	} else {
		b[n++] = (uint8_t)num;
	}
	b[n++] = 0;                /* the immediate */
	return n;
}

START_TEST(memop_seg_vectors)
{
	/* register numbers in encoding order, and their stub_regs indices */
	static const int idx[16] = { RAX, RCX, RDX, RBX, RSP, RBP, RSI, RDI,
				     R8, R9, R10, R11, R12, R13, R14, R15 };
	static const uint8_t prefixes[] = { 0, 0x26, 0x2e, 0x36, 0x3e, 0x64, 0x65 };
	struct stub_regs r;

	for (unsigned p = 0; p < sizeof(prefixes); p++) {
		for (int reg = 0; reg < 16; reg++) {
			int fsgs = prefixes[p] == 0x64 || prefixes[p] == 0x65;
			int want = !fsgs && (reg == 4 || reg == 5) ? X86_SS : X86_GP;
			struct mmu_memop m;
			uint8_t b[8];
			uint64_t lin;
			unsigned len;
			size_t n = movb_store(prefixes[p], reg, b);

			ck_assert_int_eq(mmu_emul_memop(b, n, &m, &len), 0);
			ck_assert_uint_eq(len, n);
			memset(&r, 0, sizeof(r));
			((uint64_t *)&r)[idx[reg]] = 0x8000000040000000ull;
			ck_assert_msg(mmu_emul_linear(&m, &r, 0, 0, 0, &lin) == want,
				      "prefix %#x reg %d", prefixes[p], reg);
			/* canonical: no fault, and only FS and GS add a base */
			((uint64_t *)&r)[idx[reg]] = 0x1000;
			ck_assert_int_eq(mmu_emul_linear(&m, &r, 0, 0x10000, 0x20000, &lin), 0);
			ck_assert_uint_eq(lin, 0x1000 + (prefixes[p] == 0x64 ? 0x10000 :
							  prefixes[p] == 0x65 ? 0x20000 : 0));
		}
		/* `movabs %al, seg:0x8000000040000000`: #GP whatever the segment */
		uint8_t b[11] = { prefixes[p] }, *q = b + !!prefixes[p];
		uint64_t addr = 0x8000000040000000ull, lin;
		struct mmu_memop m;
		unsigned len;

		q[0] = 0xa2;
		memcpy(q + 1, &addr, 8);
		ck_assert_int_eq(mmu_emul_memop(b, (size_t)(q + 9 - b), &m, &len), 0);
		memset(&r, 0, sizeof(r));
		ck_assert_int_eq(mmu_emul_linear(&m, &r, 0, 0, 0, &lin), X86_GP);
	}
}
END_TEST

/* String operands, rip-relative and 32-bit addresses. */
START_TEST(memop_forms)
{
	static const uint8_t outsb_gs[] = { 0x65, 0x6e }, insb[] = { 0x6c };
	static const uint8_t riprel[] = { 0x8b, 0x05, 0x10, 0, 0, 0 };   /* mov 0x10(%rip), %eax */
	static const uint8_t addr32[] = { 0x67, 0x8b, 0x04, 0x8b };      /* mov (%ebx,%ecx,4), %eax */
	static const uint8_t reg_only[] = { 0x89, 0xc8 };                /* mov %ecx, %eax */
	struct stub_regs r = { .rsi = 0x10, .rdi = 0x20, .rbx = 0xfffffff0, .rcx = 8 };
	struct mmu_memop m;
	uint64_t lin;
	unsigned len;

	ck_assert_int_eq(mmu_emul_memop(outsb_gs, 2, &m, &len), 0);
	ck_assert_int_eq(m.seg, MMU_SEG_GS);
	ck_assert_int_eq(mmu_emul_linear(&m, &r, 0, 0, 0x5000, &lin), 0);
	ck_assert_uint_eq(lin, 0x5010);
	ck_assert_int_eq(mmu_emul_memop(insb, 1, &m, &len), 0);
	ck_assert_int_eq(m.seg, MMU_SEG_ES);
	ck_assert_int_eq(mmu_emul_linear(&m, &r, 0, 0x7000, 0x5000, &lin), 0);
	ck_assert_uint_eq(lin, 0x20);
	ck_assert_int_eq(mmu_emul_memop(riprel, 6, &m, &len), 0);
	ck_assert_int_eq(mmu_emul_linear(&m, &r, 0x401006, 0, 0, &lin), 0);
	ck_assert_uint_eq(lin, 0x401016);
	ck_assert_int_eq(mmu_emul_memop(addr32, 4, &m, &len), 0);
	ck_assert_int_eq(mmu_emul_linear(&m, &r, 0, 0, 0, &lin), 0);
	ck_assert_uint_eq(lin, 0x10); /* 0xfffffff0 + 32, in 32 bits */
	ck_assert_int_eq(mmu_emul_memop(reg_only, 2, &m, &len), -EOPNOTSUPP);
}
END_TEST

/* ---- a stack pointer Linux cannot return to ------------------------------ */

START_TEST(noncanonical_rsp)
{
	static const uint8_t mov_rcx_rsp[] = { 0x48, 0x89, 0xcc }, push_rax[] = { 0x50 };
	static const uint8_t xor_eax[] = { 0x31, 0xc0 }, lea[] = { 0x48, 0x8d, 0x61, 0x08 };
	struct stub_regs *r = &vm->vcpu.regs;
	uint64_t kstack = vm->vcpu.kernel_sp;

	memcpy(at(code_va), mov_rcx_rsp, 3);
	r->rsp = 0x8000000040000000ull, r->rcx = data_va;
	ck_assert_int_eq(hc_noncanonical_rsp(vm), 1);
	ck_assert_uint_eq(r->rsp, data_va);
	ck_assert_uint_eq(r->rip, code_va + 3);
	ck_assert_int_eq(hc_noncanonical_rsp(vm), 0); /* canonical now: not ours */
	memcpy(at(code_va), lea, 4);
	r->rip = code_va, r->rsp = 0x8000000040000000ull;
	ck_assert_int_eq(hc_noncanonical_rsp(vm), 1);
	ck_assert_uint_eq(r->rsp, data_va + 8);
	memcpy(at(code_va), xor_eax, 2);
	r->rip = code_va, r->rsp = 0x8000000040000000ull;
	ck_assert_int_eq(hc_noncanonical_rsp(vm), 0);
	/* a push from user mode: #SS(0) on the kernel's stack */
	memcpy(at(code_va), push_rax, 1);
	vm->vcpu.user_mode = 1;
	vm->vcpu.traps[X86_SS] = (struct vcpu_trap){ 0x404000, FLAT_KERNEL_CS64, 0 };
	ck_assert_int_eq(hc_noncanonical_rsp(vm), 1);
	ck_assert_uint_eq(r->rip, 0x404000);
	ck_assert_uint_eq(r->rsp, kstack - 64);
	ck_assert_uint_eq(((uint64_t *)at(r->rsp))[2], 0);
	ck_assert_uint_eq(((uint64_t *)at(r->rsp))[3], code_va);
	ck_assert_uint_eq(((uint64_t *)at(r->rsp))[6], 0x8000000040000000ull);
}
END_TEST

/* ---- CR4, cpuid, MSRs ------------------------------------------------------- */

START_TEST(cr4_fixup_rules)
{
	uint64_t all = HC_CR4_GUEST_MASK, vis = HC_CR4_PAE | HC_CR4_OSFXSR | HC_CR4_OSXMMEXCPT;

	ck_assert_uint_eq(hc_cr4_fixup(all, vis, 0), vis);
	ck_assert_uint_eq(hc_cr4_fixup(all, vis, ~0ull), vis | all); /* PGE, VMXE, ... dropped */
	ck_assert_uint_eq(hc_cr4_fixup(all & ~HC_CR4_FSGSBASE, vis, HC_CR4_FSGSBASE), vis);
	ck_assert_uint_eq(hc_cr4_fixup(all, vis, HC_CR4_OSXSAVE | HC_CR4_PAE), vis | HC_CR4_OSXSAVE);
	ck_assert_uint_eq(hc_cr4_fixup(all, vis | (1ull << 7), 0), vis); /* PGE is never seen */
	ck_assert_uint_eq(hc_cr4_fixup(all, 0, HC_CR4_PAE), 0);          /* nor set by the guest */
}
END_TEST

/* mov to %cr4 never faults, keeps the guest's bits; user mode gets none. */
START_TEST(cr4_and_msrs_at_rip)
{
	static const uint8_t mov_cr4[] = { 0x0f, 0x22, 0xe0 }; /* mov %rax, %cr4 */
	static const uint8_t read_cr4[] = { 0x0f, 0x20, 0xe0 }; /* mov %cr4, %rax */
	static const uint8_t rdmsr[] = { 0x0f, 0x32 }, wrmsr[] = { 0x0f, 0x30 };
	static const uint8_t clts[] = { 0x0f, 0x06 };
	struct stub_regs *r = &vm->vcpu.regs;

	r->rax = ~0ull;
	ck_assert_int_eq(run(mov_cr4, 3, 0), 1);
	ck_assert_uint_eq(vm->vcpu.cr4 & ~HC_CR4_GUEST_MASK, 0);
	ck_assert_int_eq(run(read_cr4, 3, 0), 1);
	ck_assert_uint_eq(r->rax & HC_CR4_PAE, HC_CR4_PAE);
	ck_assert_uint_eq(r->rax & (1ull << 7), 0); /* PGE */
	r->rax = 0;
	ck_assert_int_eq(run(mov_cr4, 3, 0), 1);
	ck_assert_uint_eq(vm->vcpu.cr4, 0);
	r->rcx = 0xce, r->rax = r->rdx = 7;     /* PLATFORM_INFO: no CPUID faulting */
	ck_assert_int_eq(run(rdmsr, 2, 0), 1);
	ck_assert_uint_eq(r->rax | r->rdx, 0);
	r->rcx = 0x140, r->rax = 1;             /* MISC_FEATURES_ENABLES: reserved bit */
	ck_assert_int_eq(run(wrmsr, 2, 0), 0);
	r->rax = 0;
	ck_assert_int_eq(run(wrmsr, 2, 0), 1);
	vm->vcpu.cr0_ts = 1;
	ck_assert_int_eq(run(clts, 2, 0), 1);
	ck_assert_int_eq(vm->vcpu.cr0_ts, 0);
	vm->vcpu.user_mode = 1;
	ck_assert_int_eq(run(mov_cr4, 3, 0), 0);
	ck_assert_int_eq(run(rdmsr, 2, 0), 0);
	ck_assert_int_eq(run(clts, 2, 0), 0);
}
END_TEST

/* The forced-emulation prefix works in user mode too (Xen's
 * emulate_forced_invalid_op), with OSXSAVE from the guest's own CR4. */
START_TEST(forced_cpuid_in_user_mode)
{
	static const uint8_t fep_cpuid[] = { 0x0f, 0x0b, 'x', 'e', 'n', 0x0f, 0xa2 };
	static const uint8_t fep_nop[] = { 0x0f, 0x0b, 'x', 'e', 'n', 0x90 };
	struct stub_regs *r = &vm->vcpu.regs;

	vm->vcpu.user_mode = 1;
	r->rax = 0x40000000;
	ck_assert_int_eq(run(fep_cpuid, 7, 1), 1);
	ck_assert_uint_eq(r->rip, code_va + 7);
	ck_assert_mem_eq(&r->rbx, "XenV", 4);
	r->rax = 1, r->rcx = 0;
	ck_assert_int_eq(run(fep_cpuid, 7, 1), 1);
	ck_assert_uint_eq(r->rcx & (1u << 27), 0); /* OSXSAVE: the guest's CR4 has it clear */
	ck_assert_uint_ne(r->rcx & (1u << 31), 0); /* a hypervisor */
	ck_assert_int_eq(run(fep_nop, 6, 1), 0);   /* only cpuid: #UD */
}
END_TEST

/* ---- IOPL in frames and iret (architectural_iopl) --------------------------- */

START_TEST(architectural_iopl_frames)
{
	struct stub_regs *r = &vm->vcpu.regs;
	struct iret_context c = { .rip = 0x401500, .cs = 0xe033, .rflags = 0x3202,
				  .rsp = 0x4ff000, .ss = 0xe02b };
	uint64_t a[5] = { 0 };

	vm->vcpu.traps[X86_GP] = (struct vcpu_trap){ 0x402000, FLAT_KERNEL_CS64, 0 };
	vm->vcpu.iopl = 2;
	ck_assert_int_eq(hc_inject(vm, X86_GP, 1, 0, 0), 1);
	ck_assert_uint_eq(((uint64_t *)at(r->rsp))[5] & 0x3000, 0); /* without the assist: 0 */
	vm->vm_assist = 1ull << VMASST_TYPE_architectural_iopl;
	ck_assert_int_eq(hc_inject(vm, X86_GP, 1, 0, 0), 1);
	ck_assert_uint_eq(((uint64_t *)at(r->rsp))[5] & 0x3000, 0x2000);
	memcpy(at(r->rsp), &c, sizeof(c));
	ck_assert_int_eq(hc_iret(vm, a), 0);
	ck_assert_uint_eq(vm->vcpu.iopl, 3);
	ck_assert_uint_eq(r->eflags & 0x3000, 0); /* the real IOPL stays 0 */
}
END_TEST

/* ---- Xen's flat selectors in native returns and segment loads ---------------
 * The host's GDT has no 0xe033/0xe02b: its #GP is emulated as the
 * hardware on Xen's GDT behaves. */

static void frame(uint64_t sp, const uint64_t *slots, unsigned n, unsigned size)
{
	for (unsigned i = 0; i < n; i++)
		memcpy(at(sp + i * size), &slots[i], size);
}

/* iretq: rip, rsp and the flags CPL 3 may change (IF and IOPL stay); the
 * guest stays in its mode (no HYPERVISOR_iret: Xen never sees it), the
 * event mask in the CS slot's upper bits is the hardware's to ignore. */
START_TEST(flat_iretq)
{
	static const uint8_t iretq[] = { 0x48, 0xcf };
	struct stub_regs *r = &vm->vcpu.regs;
	uint64_t sp = r->rsp, f[5] = { code_va + 0x40, 0xe033 | 1ull << 32, 0x30d5,
				       data_va + 0x100, 0xe02b };
	struct vcpu_info *vi = hc_vcpu_info(vm);

	vi->evtchn_upcall_mask = 1;
	frame(sp, f, 5, 8);
	ck_assert_int_eq(run(iretq, 2, 0), 1);
	ck_assert_uint_eq(r->rip, code_va + 0x40);
	ck_assert_uint_eq(r->rsp, data_va + 0x100);
	ck_assert_uint_eq(r->eflags, 0x2d7); /* CF PF AF ZF SF from the frame, IF kept, IOPL 0 */
	ck_assert_int_eq(vm->vcpu.user_mode, 0);
	ck_assert_uint_eq(vi->evtchn_upcall_mask, 1);
	vm->vcpu.user_mode = 1; /* the same from user mode, which it stays in */
	r->rsp = sp;
	ck_assert_int_eq(run(iretq, 2, 0), 1);
	ck_assert_uint_eq(r->rip, code_va + 0x40);
	ck_assert_int_eq(vm->vcpu.user_mode, 1);
}
END_TEST

/* What Xen's GDT refuses stays a #GP, with the error code it would have. */
START_TEST(flat_iretq_refused)
{
	static const uint8_t iretq[] = { 0x48, 0xcf };
	struct stub_regs *r = &vm->vcpu.regs;
	uint64_t sp = r->rsp, f[5] = { code_va + 0x40, 0xe030, 0x202, data_va + 0x100, 0xe02b };

	vm->vcpu.traps[X86_GP] = (struct vcpu_trap){ 0x402000, FLAT_KERNEL_CS64, 0 };
	frame(sp, f, 5, 8);
	ck_assert_int_eq(run(iretq, 2, 0), 0); /* RPL 0 below CPL 3 */
	f[1] = 0xe023; /* 32-bit code on a host without it: the #GP of a missing descriptor */
	frame(sp, f, 5, 8);
	ck_assert_int_eq(run(iretq, 2, 0), 1);
	ck_assert_uint_eq(r->rip, 0x402000);
	ck_assert_uint_eq(((uint64_t *)at(r->rsp))[2], 0xe020); /* the error code */
	ck_assert_uint_eq(((uint64_t *)at(r->rsp))[4] & 0xffff, 0xe030); /* from 64-bit kernel code */
	ck_assert_uint_eq(vm->stats.compat_refused, 1);
	ck_assert(!vcpu_compat(&vm->vcpu));
	r->rsp = sp, f[1] = 0xe033, f[4] = 0;
	frame(sp, f, 5, 8);
	ck_assert_int_eq(run(iretq, 2, 0), 1); /* a null SS at CPL 3: #GP(0) */
	ck_assert_uint_eq(r->rip, 0x402000);
	ck_assert_uint_eq(((uint64_t *)at(r->rsp))[2], 0);
	r->rsp = sp, f[4] = 0xe02b, f[0] = 0x800000000000ull;
	frame(sp, f, 5, 8);
	ck_assert_int_eq(run(iretq, 2, 0), 1); /* a rip that is not canonical: #GP(0) */
	ck_assert_uint_eq(r->rip, 0x402000);
	ck_assert_uint_eq(((uint64_t *)at(r->rsp))[3], code_va); /* at the iretq */
	r->rsp = sp, r->eflags |= 1ull << 14, f[0] = code_va + 0x40;
	frame(sp, f, 5, 8);
	ck_assert_int_eq(run(iretq, 2, 0), 0); /* NT: a task return, #GP(0) in long mode */
}
END_TEST

/* lretq pops rip and cs, lret $n (32-bit slots) releases n more bytes; a
 * near ret is no business of the #GP path. */
START_TEST(flat_far_returns)
{
	static const uint8_t lretq[] = { 0x48, 0xcb }, lret8[] = { 0xca, 0x08, 0x00 }, ret[] = { 0xc3 };
	struct stub_regs *r = &vm->vcpu.regs;
	uint64_t sp = r->rsp, f[2] = { code_va + 0x80, 0xe033 };

	frame(sp, f, 2, 8);
	ck_assert_int_eq(run(lretq, 2, 0), 1);
	ck_assert_uint_eq(r->rip, code_va + 0x80);
	ck_assert_uint_eq(r->rsp, sp + 16);
	r->rsp = sp;
	frame(sp, f, 2, 4);
	ck_assert_int_eq(run(lret8, 3, 0), 1);
	ck_assert_uint_eq(r->rip, code_va + 0x80);
	ck_assert_uint_eq(r->rsp, sp + 8 + 8);
	r->rsp = sp;
	ck_assert_int_eq(run(ret, 1, 0), 0);
	ck_assert_uint_eq(r->rip, code_va);
}
END_TEST

/* Into 32-bit code and out again, on a host with 32-bit user code: lretq
 * to FLAT_RING3_CS32, then (decoded as 32-bit code) mov %ss, ljmpl and
 * lcall to FLAT_RING3_CS64 and an lret back; a rip above 4 GiB is #GP(0). */
START_TEST(flat_compat_transfers)
{
	static const uint8_t lretq[] = { 0x48, 0xcb }, lret[] = { 0xcb },
			     mov_ss[] = { 0x8e, 0x10 } /* mov (%eax), %ss */;
	struct stub_regs *r = &vm->vcpu.regs;
	uint64_t sp = r->rsp, f[2] = { code_va + 0x80, 0xe023 }, sel = 0xe02b;
	uint8_t ljmpl[7] = { 0xea }, lcall[7] = { 0x9a };
	uint32_t c[2];

	vm->host_compat = 1;
	vm->vcpu.user_mode = 1;
	vm->vcpu.traps[X86_GP] = (struct vcpu_trap){ 0x402000, FLAT_KERNEL_CS64, 0 };
	frame(sp, f, 2, 8);
	ck_assert_int_eq(run(lretq, 2, 0), 1);
	ck_assert(vcpu_compat(&vm->vcpu));
	ck_assert_uint_eq(r->cs, FLAT_RING3_CS32);
	ck_assert_uint_eq(r->rip, code_va + 0x80);
	ck_assert_uint_eq(r->rsp, sp + 16);
	ck_assert_uint_eq(vm->stats.compat_entries, 1);
	memcpy(at(data_va), &sel, 2);
	r->rax = data_va;
	ck_assert_int_eq(run(mov_ss, 2, 0), 0); /* not a privop: hc_mov_ss's */
	r->rip = code_va;
	memcpy(at(code_va), mov_ss, 2);
	ck_assert_int_eq(hc_mov_ss(vm), 1);
	ck_assert_uint_eq(r->rip, code_va + 2);
	uint32_t to = (uint32_t)(code_va + 0x100);
	memcpy(ljmpl + 1, &to, 4), ljmpl[5] = 0x33, ljmpl[6] = 0xe0; /* ljmpl $0xe033, $to */
	ck_assert_int_eq(run(ljmpl, 7, 0), 1);
	ck_assert(!vcpu_compat(&vm->vcpu));
	ck_assert_uint_eq(r->rip, code_va + 0x100);
	r->cs = FLAT_RING3_CS32, sp = r->rsp;
	memcpy(lcall + 1, &to, 4), lcall[5] = 0x30, lcall[6] = 0xe0; /* any RPL: the CPL stays 3 */
	ck_assert_int_eq(run(lcall, 7, 0), 1);
	ck_assert_uint_eq(r->cs, FLAT_RING3_CS64);
	ck_assert_uint_eq(r->rsp, sp - 8);
	memcpy(c, at(r->rsp), 8);
	ck_assert_uint_eq(c[0], code_va + 7); /* the return address, then the caller's CS */
	ck_assert_uint_eq(c[1], 0xe023);
	r->cs = FLAT_RING3_CS32; /* lret with 32-bit slots back into 32-bit code */
	ck_assert_int_eq(run(lret, 1, 0), 1);
	ck_assert_uint_eq(r->rip, code_va + 7);
	ck_assert_uint_eq(r->rsp, sp);
	ck_assert(vcpu_compat(&vm->vcpu));
	r->cs = FLAT_RING3_CS64, f[0] = 0x100000000ull;
	frame(sp, f, 2, 8);
	ck_assert_int_eq(run(lretq, 2, 0), 1); /* beyond the 32-bit segment's limit */
	ck_assert_uint_eq(r->rip, 0x402000);
	ck_assert_uint_eq(((uint64_t *)at(r->rsp))[2], 0);
	ck_assert_uint_eq(vm->stats.compat_entries, 1); /* the lret stayed in 32-bit code */
}
END_TEST

/* mov and pop of flat selectors: SS only the ring-3 stack selector, the
 * others any flat one; FS and GS then have base 0 (the descriptor's). */
START_TEST(flat_segment_loads)
{
	static const uint8_t mov_fs[] = { 0x8e, 0xe0 }, mov_ss[] = { 0x8e, 0xd0 },
			     mov_ds[] = { 0x8e, 0xd8 }, pop_gs[] = { 0x0f, 0xa9 };
	struct stub_regs *r = &vm->vcpu.regs;
	uint64_t sp = r->rsp, sel = 0xe02b;

	vm->vcpu.fs_base = 0x1234, vm->vcpu.gs_base_kernel = 0x5678;
	r->rax = 0xe02b;
	ck_assert_int_eq(run(mov_fs, 2, 0), 1);
	ck_assert_uint_eq(r->rip, code_va + 2);
	ck_assert_uint_eq(vm->vcpu.fs_base, 0);
	ck_assert_uint_eq(ops.n, 1);
	ck_assert_uint_eq(ops.op[0].kind, STUB_OP_SET_BASE);
	ck_assert_uint_eq(ops.op[0].addr, 0);
	ck_assert_int_eq(run(mov_ss, 2, 0), 1);
	r->rax = 0xe028; /* RPL 0: fine for a data segment, not for SS at CPL 3 */
	ops.n = 0;
	ck_assert_int_eq(run(mov_ds, 2, 0), 1);
	/* %ds gets the host's flat data descriptor, which 32-bit code needs */
	ck_assert_uint_eq(ops.n, 1);
	ck_assert_uint_eq(ops.op[0].kind, STUB_OP_SET_SEL);
	ck_assert_uint_eq(ops.op[0].prot, STUB_SEL_DS);
	ck_assert_uint_eq(ops.op[0].addr, STUB_USER_DS);
	ck_assert_int_eq(mmu_check_op(vm, &ops.op[0]), 0);
	r->rax = 0xe023; /* a code selector: __USER32_CS only where the host has it */
	vm->host_compat = 0;
	ck_assert_int_eq(run(mov_ds, 2, 0), 1);
	ck_assert_uint_eq(ops.op[1].addr, STUB_USER_CS);
	vm->host_compat = 1;
	ck_assert_int_eq(run(mov_ds, 2, 0), 1);
	ck_assert_uint_eq(ops.op[2].addr, STUB_USER32_CS);
	vm->host_compat = 0;
	ck_assert_int_eq(mmu_check_op(vm, &ops.op[2]), -EINVAL);
	r->rax = 0xe028;
	ck_assert_int_eq(run(mov_ss, 2, 0), 0);
	r->rax = 0;
	ck_assert_int_eq(run(mov_ss, 2, 0), 0); /* a null SS at CPL 3 */
	r->rax = 0x1e02b; /* only the selector's 16 bits count */
	ck_assert_int_eq(run(mov_ss, 2, 0), 1);
	memcpy(at(sp), &sel, 8);
	ck_assert_int_eq(run(pop_gs, 2, 0), 1);
	ck_assert_uint_eq(r->rsp, sp + 8);
	ck_assert_uint_eq(vm->vcpu.gs_base_kernel, 0);
	ck_assert_uint_eq(r->rip, code_va + 2);
}
END_TEST

Suite *privop_suite(void);

Suite *privop_suite(void)
{
	Suite *s = suite_create("privops");
	TCase *tc = tcase_create("privops");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, iopl_by_mode);
	tcase_add_test(tc, cli_and_outb_at_each_iopl);
	tcase_add_test(tc, physdev_op_arguments);
	tcase_add_test(tc, io_bitmap_rules);
	tcase_add_test(tc, ports_of_a_domain_without_hardware);
	tcase_add_test(tc, in_and_rep_ins);
	tcase_add_test(tc, string_io_faults);
	tcase_add_test(tc, memop_seg_vectors);
	tcase_add_test(tc, memop_forms);
	tcase_add_test(tc, noncanonical_rsp);
	tcase_add_test(tc, cr4_fixup_rules);
	tcase_add_test(tc, cr4_and_msrs_at_rip);
	tcase_add_test(tc, forced_cpuid_in_user_mode);
	tcase_add_test(tc, architectural_iopl_frames);
	tcase_add_test(tc, flat_iretq);
	tcase_add_test(tc, flat_iretq_refused);
	tcase_add_test(tc, flat_far_returns);
	tcase_add_test(tc, flat_compat_transfers);
	tcase_add_test(tc, flat_segment_loads);
	suite_add_tcase(s, tc);
	return s;
}
