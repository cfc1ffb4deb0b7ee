/* privops: the privileged instructions a PV kernel executes, each emulated
 * or faulted as Xen does: control registers (CR4 writes keep what the guest
 * may control and never fault), Xen's forced-emulation cpuid with its
 * hypervisor leaves, flat segment loads, hlt, a small MSR set with real
 * FS/GS bases (non-canonical ones refused as Xen refuses them), #GP for
 * lgdt, lidt, invlpg and unknown MSRs; cli, sti and port I/O as the
 * virtual IOPL (PHYSDEVOP_set_iopl, VMASST_TYPE_architectural_iopl) and the
 * I/O bitmap allow, with the answers of a domain that has no ports; #SS
 * for a stack-segment access that is not canonical. */
#include "rt.h"

static volatile unsigned gp_count;
static volatile uint64_t last_vector, last_rflags, last_error, last_cr2;
static volatile unsigned iret_iopl = 4; /* < 4: the handler returns with this IOPL */
uint64_t resume_at; /* where the handler resumes: after the instruction */

#define EFLAGS_IOPL (3ul << 12)

static void hook(struct rt_frame *f)
{
	guest_assert(f->vector == X86_GP || f->vector == X86_SS || f->vector == X86_PF);
	last_vector = f->vector;
	last_error = f->error;
	if (f->vector == X86_PF)
		__asm__ volatile("mov %%cr2, %0" : "=r"(last_cr2));
	last_rflags = f->rflags;
	gp_count++;
	f->rip = resume_at;
	if (iret_iopl < 4) {
		f->rflags = (f->rflags & ~EFLAGS_IOPL) | (uint64_t)iret_iopl << 12;
		iret_iopl = 4;
	}
}

/* Run (insn), which must fault with (vec); the asm records the address
 * after it (whatever the compiler's encoding) for the handler. The operand
 * lists follow as in an asm statement and must clobber r11. */
#define EXPECT_FAULT(vec, insn, ...)                                           \
	do {                                                                   \
		unsigned _before = gp_count;                                   \
		__asm__ volatile("lea 1f(%%rip), %%r11\n\tmov %%r11, resume_at(%%rip)\n\t" \
				 insn "\n1:" __VA_ARGS__);                      \
		expect_eq(gp_count, _before + 1);                              \
		expect_eq(last_vector, vec);                                   \
	} while (0)
#define EXPECT_GP(insn, ...) EXPECT_FAULT(X86_GP, insn, __VA_ARGS__)

static void control_registers(void)
{
	uint64_t cr0, cr3, cr4, cr2;

	__asm__ volatile("mov %%cr0, %0" : "=r"(cr0));
	__asm__ volatile("mov %%cr3, %0" : "=r"(cr3));
	__asm__ volatile("mov %%cr4, %0" : "=r"(cr4));
	__asm__ volatile("mov %%cr2, %0" : "=r"(cr2));
	guest_assert((cr0 & 0x80000001) == 0x80000001); /* PG, PE */
	expect_eq(cr3 >> 12, rt_l4_mfn());
	guest_assert(cr4 & (1 << 5)); /* PAE */
	__asm__ volatile("mov %0, %%cr3" :: "r"(cr3) : "memory"); /* a base switch to itself */
	__asm__ volatile("mov %0, %%cr0" :: "r"(cr0 | 8)); /* TS may change */
	__asm__ volatile("mov %%cr0, %0" : "=r"(cr0));
	guest_assert(cr0 & 8);
	EXPECT_GP("mov %0, %%cr0", :: "r"(cr0 & ~0x80000000ul) : "r11");      /* paging off: refused */
	printf("privops: cr0 %#lx cr3 %#lx cr4 %#lx, writes as Xen allows\n",
	       (unsigned long)(cr0 & ~8ul), (unsigned long)cr3, (unsigned long)cr4);
}

static void cpuid_forced(uint32_t leaf, uint32_t sub, uint32_t r[4])
{
	__asm__ volatile("ud2; .ascii \"xen\"; cpuid"
			 : "=a"(r[0]), "=b"(r[1]), "=c"(r[2]), "=d"(r[3]) : "a"(leaf), "c"(sub));
}

/* As Xen's pv_fixup_guest_cr4: a CR4 write never faults; the bits the
 * guest controls (TSD, DE, FSGSBASE, OSXSAVE) stick when CPUID has their
 * feature, the others (PGE here) keep the hypervisor's value. */
static void cr4_writes(void)
{
	uint64_t cr4, now, fsgsbase = 1ul << 16, osxsave = 1ul << 18, pge = 1ul << 7;
	uint32_t r[4];

	__asm__ volatile("mov %%cr4, %0" : "=r"(cr4));
	guest_assert(!(cr4 & (fsgsbase | osxsave))); /* the guest's own bits start clear */
	__asm__ volatile("mov %0, %%cr4" :: "r"(cr4 ^ pge));
	__asm__ volatile("mov %%cr4, %0" : "=r"(now));
	expect_eq(now, cr4);
	cpuid_forced(7, 0, r);
	__asm__ volatile("mov %0, %%cr4" :: "r"(cr4 | fsgsbase));
	__asm__ volatile("mov %%cr4, %0" : "=r"(now));
	expect_eq(now, cr4 | (r[1] & 1 ? fsgsbase : 0));
	__asm__ volatile("mov %0, %%cr4" :: "r"(cr4));
	__asm__ volatile("mov %%cr4, %0" : "=r"(now));
	expect_eq(now, cr4);
	printf("privops: CR4 writes keep the guest's bits (FSGSBASE %s), drop the rest, never fault\n",
	       r[1] & 1 ? "on and off" : "absent");
}

static void forced_cpuid(void)
{
	uint32_t a, b, c, d;
	char sig[13];

	__asm__ volatile("ud2; .ascii \"xen\"; cpuid" : "=a"(a), "=b"(b), "=c"(c), "=d"(d) : "a"(0x40000000));
	memcpy(sig, &b, 4), memcpy(sig + 4, &c, 4), memcpy(sig + 8, &d, 4);
	sig[12] = 0;
	guest_assert(!strcmp(sig, "XenVMMXenVMM"));
	guest_assert(a >= 0x40000002);
	__asm__ volatile("ud2; .ascii \"xen\"; cpuid" : "=a"(a), "=b"(b), "=c"(c), "=d"(d) : "a"(0x40000001));
	expect_eq(a, (4 << 16) | 19);
	__asm__ volatile("ud2; .ascii \"xen\"; cpuid" : "=a"(a), "=b"(b), "=c"(c), "=d"(d) : "a"(1), "c"(0));
	guest_assert(c & (1u << 31)); /* hypervisor present */
	printf("privops: forced cpuid says %s, Xen 4.19\n", sig);
}

static void segments_and_msrs(void)
{
	static uint64_t fs_area[2] = { 0x1111, 0xf5f5 }, gs_area[2] = { 0x2222, 0x6565 };
	uint32_t lo, hi;
	uint64_t v;

	/* Xen's flat data selector, then the NULL one 64-bit PV kernels use */
	__asm__ volatile("mov %k0, %%ds; mov %k0, %%es" :: "r"((uint64_t)FLAT_RING3_DS32));
	__asm__ volatile("mov %k0, %%ds; mov %k0, %%es" :: "r"((uint64_t)FLAT_KERNEL_DS64));
	EXPECT_GP("mov %k0, %%ds", :: "r"(0x1234ul) : "r11");
	__asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(0xc0000080));
	guest_assert(lo & (1 << 11)); /* NXE */
	/* wrmsr FS_BASE: the real FS base moves */
	__asm__ volatile("wrmsr" :: "c"(0xc0000100), "a"((uint32_t)(uint64_t)fs_area),
			 "d"((uint32_t)((uint64_t)fs_area >> 32)));
	__asm__ volatile("mov %%fs:8, %0" : "=r"(v));
	expect_eq(v, 0xf5f5);
	expect_eq(hypercall(XEN_HC_set_segment_base, SEGBASE_GS_KERNEL, gs_area, 0), 0);
	__asm__ volatile("mov %%gs:8, %0" : "=r"(v));
	expect_eq(v, 0x6565);
	__asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(0xc0000101));
	expect_eq((uint64_t)hi << 32 | lo, (uint64_t)gs_area);
	EXPECT_GP("rdmsr", :: "c"(0x1b) : "rax", "rdx", "r11");      /* APIC base: not for PV */
	/* no CPUID faulting to offer (docs/differences.md): the enable bit is reserved */
	__asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(0xce));  /* PLATFORM_INFO */
	expect_eq((uint64_t)hi << 32 | lo, 0);
	__asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(0x140)); /* MISC_FEATURES_ENABLES */
	expect_eq((uint64_t)hi << 32 | lo, 0);
	__asm__ volatile("wrmsr" :: "c"(0x140), "a"(0), "d"(0));
	EXPECT_GP("wrmsr", :: "c"(0x140), "a"(1), "d"(0) : "r11");
	EXPECT_GP("wrmsr", :: "c"(0x10), "a"(0), "d"(0) : "r11");    /* the TSC */
	__asm__ volatile("hlt");
	printf("privops: flat segment loads, EFER, FS and GS bases, hlt\n");
}

/* XSA-193: a base that is not canonical is refused as on Xen, #GP for wrmsr
 * and -EINVAL for set_segment_base, and the bases stay what they were (an
 * address pvmm passed on used to end pvmm with a host error, status 5).
 * Trap-table entries and callbacks must be canonical too. */
static void noncanonical_bases(void)
{
	static const uint64_t bad[] = { 0x8000000000000000ull, 0x800000000000ull,
					0xffff7ffffffff000ull };
	static const uint32_t msrs[] = { 0xc0000100, 0xc0000101, 0xc0000102 };
	uint64_t before[3];
	uint32_t lo, hi;

	for (unsigned m = 0; m < 3; m++) {
		__asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msrs[m]));
		before[m] = (uint64_t)hi << 32 | lo;
	}
	for (unsigned i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		for (unsigned m = 0; m < 3; m++)
			EXPECT_GP("wrmsr", :: "c"(msrs[m]), "a"((uint32_t)bad[i]),
				  "d"((uint32_t)(bad[i] >> 32)) : "r11");
		for (unsigned which = SEGBASE_FS; which <= SEGBASE_GS_KERNEL; which++)
			expect_eq(hypercall(XEN_HC_set_segment_base, which, bad[i], 0), -XEN_EINVAL);
	}
	for (unsigned m = 0; m < 3; m++) {
		__asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msrs[m]));
		expect_eq((uint64_t)hi << 32 | lo, before[m]);
	}
	struct trap_info t[2] = { { .vector = 3, .cs = 0xe033, .address = bad[0] }, { 0 } };
	struct callback_register cb = { .type = CALLBACKTYPE_event, .address = bad[0] };
	expect_eq(HYPERVISOR_set_trap_table(t), -XEN_EINVAL);
	expect_eq(HYPERVISOR_callback_op(CALLBACKOP_register, &cb), -XEN_EINVAL);
	printf("privops: non-canonical FS, GS and shadow GS bases get #GP and -EINVAL, as on Xen\n");
}

/* With the command line "upper-base": a canonical upper-half base, which
 * Xen accepts and no Linux process can have: pvmm crashes the domain with
 * one line (status 1), not a host error. */
static void upper_half_base(void)
{
	uint64_t base = 0xffff800000001000ull;

	__asm__ volatile("wrmsr" :: "c"(0xc0000100), "a"((uint32_t)base), "d"((uint32_t)(base >> 32)));
	guest_assert(!"pvmm loaded an upper-half FS base");
}

static void faulting(void)
{
	static const uint64_t desc[2];

	EXPECT_GP("cli", :::"r11");
	EXPECT_GP("sti", :::"r11");
	EXPECT_GP("inb $0x70, %%al", ::: "rax", "r11");
	EXPECT_GP("outb %%al, $0x80", :: "a"(0) : "r11");
	EXPECT_GP("lgdt %0", :: "m"(desc) : "r11");
	EXPECT_GP("lidt %0", :: "m"(desc) : "r11");
	EXPECT_GP("invlpg (%0)", :: "r"(0x400000ul) : "memory", "r11");
	printf("privops: cli, sti, in, out, lgdt, lidt, invlpg fault with #GP\n");
}

static long set_iopl(unsigned iopl)
{
	struct physdev_set_iopl op = { iopl };

	return hypercall(XEN_HC_physdev_op, PHYSDEVOP_set_iopl, &op, 0);
}

static uint8_t inb(unsigned port)
{
	uint8_t v;

	__asm__ volatile("inb %w1, %0" : "=a"(v) : "d"(port));
	return v;
}

/* At virtual IOPL 1 (the kernel counts as CPL 1): cli and sti are allowed
 * (and change nothing), ports are a domain's without hardware: all ones,
 * writes dropped, but the CMOS index and PCI CONFIG_ADDRESS read back. */
static void port_io(void)
{
	uint8_t buf[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };
	uint32_t l;
	uint16_t w;

	expect_eq(set_iopl(4), -XEN_EINVAL);
	expect_eq(set_iopl(1), 0);
	__asm__ volatile("cli; sti");
	__asm__ volatile("outb %%al, $0x80" :: "a"(0x55));
	expect_eq(inb(0x71), 0xff);
	__asm__ volatile("outb %%al, $0x70" :: "a"(0x0a));
	expect_eq(inb(0x70), 0x0a);
	__asm__ volatile("outl %0, %w1" :: "a"(0x80001234u), "d"(0xcf8));
	__asm__ volatile("inl %w1, %0" : "=a"(l) : "d"(0xcf8));
	expect_eq(l, 0x80001234u);
	__asm__ volatile("inw %w1, %0" : "=a"(w) : "d"(0xcfc));
	expect_eq(w, 0xffff);
	/* string I/O, with rep: %rdi/%rsi and %rcx move as the hardware's */
	uint64_t di = (uint64_t)buf, cnt = 4;
	__asm__ volatile("rep insb" : "+D"(di), "+c"(cnt) : "d"(0x60) : "memory");
	expect_eq(di, (uint64_t)buf + 4);
	expect_eq(cnt, 0);
	expect_eq(buf[0], 0xff);
	expect_eq(buf[3], 0xff);
	expect_eq(buf[4], 5);
	uint64_t si = 0, n = 2;
	buf[1] = 0x42;
	__asm__ volatile("wrmsr" :: "c"(0xc0000100), "a"((uint32_t)(uint64_t)buf),
			 "d"((uint32_t)((uint64_t)buf >> 32)));
	__asm__ volatile("rep outsb %%fs:(%%rsi), %%dx" : "+S"(si), "+c"(n) : "d"(0x70) : "memory");
	expect_eq(si, 2);
	expect_eq(inb(0x70), 0x42); /* the last byte written, buf[1], through %fs */
	/* a non-canonical string operand: #GP (%ds) */
	EXPECT_GP("outsb", :: "S"(0x8000000000000000ul), "d"(0x80) : "r11");
	expect_eq(set_iopl(0), 0);
	EXPECT_GP("cli", :::"r11");
	printf("privops: at vIOPL 1 cli, sti, in, out, ins and outs run, on ports of a domain "
	       "without hardware\n");
}

/* PHYSDEVOP_set_iobitmap: a clear bit lets the port through at IOPL 0. */
static void io_bitmap(void)
{
	uint8_t *bitmap = rt_alloc_page(); /* 4096 bytes: ports 0-32767 */
	struct physdev_set_iobitmap op = { (uint64_t)bitmap, 32768, 0 };

	memset(bitmap, 0xff, 4096);
	bitmap[0x80 / 8] = (uint8_t)~1u; /* port 0x80 */
	expect_eq(hypercall(XEN_HC_physdev_op, PHYSDEVOP_set_iobitmap, &op, 0), 0);
	__asm__ volatile("outb %%al, $0x80" :: "a"(0));
	EXPECT_GP("outb %%al, $0x81", :: "a"(0) : "r11");
	EXPECT_GP("outw %%ax, $0x80", :: "a"(0) : "r11"); /* 0x81 too */
	op.nr_ports = 0;
	expect_eq(hypercall(XEN_HC_physdev_op, PHYSDEVOP_set_iobitmap, &op, 0), 0);
	EXPECT_GP("outb %%al, $0x80", :: "a"(0) : "r11");
	op.nr_ports = 65537;
	expect_eq(hypercall(XEN_HC_physdev_op, PHYSDEVOP_set_iobitmap, &op, 0), -XEN_EINVAL);
	printf("privops: the I/O bitmap allows port by port\n");
}

/* VMASST_TYPE_architectural_iopl: the kernel counts as CPL 0, exception
 * frames carry the virtual IOPL and iret sets it. */
static void architectural_iopl(void)
{
	expect_eq(HYPERVISOR_vm_assist(VMASST_CMD_enable, VMASST_TYPE_architectural_iopl), 0);
	__asm__ volatile("cli; sti");   /* CPL 0 <= IOPL 0 */
	expect_eq(set_iopl(2), 0);
	iret_iopl = 0;                  /* the handler irets with IOPL 0 */
	EXPECT_GP("rdmsr", :: "c"(0x1b) : "rax", "rdx", "r11");
	expect_eq((last_rflags & EFLAGS_IOPL) >> 12, 2);
	expect_eq(HYPERVISOR_vm_assist(VMASST_CMD_disable, VMASST_TYPE_architectural_iopl), 0);
	EXPECT_GP("cli", :::"r11");     /* CPL 1 > IOPL 0, which the iret set */
	printf("privops: architectural IOPL: frames carry it, iret sets it\n");
}

/* A stack-segment access at an address that is not canonical is #SS(0),
 * which the host reports as SIGBUS (it used to end the guest as a bus
 * error). */
static void stack_segment(void)
{
	unsigned before = gp_count;

	__asm__ volatile("lea 1f(%%rip), %%r11\n\tmov %%r11, resume_at(%%rip)\n\t"
			 "push %%rbp\n\tmov %0, %%rbp\n\tmovb $0, (%%rbp)\n1:\tpop %%rbp"
			 :: "a"(0x8000000040000000ul) : "r11", "memory");
	expect_eq(gp_count, before + 1);
	expect_eq(last_vector, X86_SS);
	EXPECT_GP("movb $0, %%ss:(%0)", :: "a"(0x8000000040000000ul) : "r11", "memory");
	printf("privops: a non-canonical stack-segment access is #SS, an %%ss override of "
	       "another base #GP\n");
}

static uint64_t *low_data, *low_l1; /* a frame mapped at page 0, and its L1 */

/* Loads no Linux process could make: Xen's M2P in the upper half, and a page
 * mapped below the host's mmap_min_addr. */
static void impossible_loads(void)
{
	const volatile uint64_t *m2p = (const uint64_t *)XEN_RO_MPT_BASE;
	uint64_t *data = rt_alloc_page(), *l1 = rt_alloc_page();
	uint64_t l2 = (((const uint64_t *)(VIRT_BASE + rt_l4_entry(0) * 4096))[0] & PTE_ADDR_MASK) >> 12;
	uint64_t v;

	expect_eq(m2p[5], 5);
	expect_eq(rt_mmu_update1(pte(5, 0) | MMU_MACHPHYS_UPDATE, 77), 0);
	expect_eq(m2p[5], 77);
	data[1] = 0xbeef;
	l1[0] = pte(virt_to_mfn(data), PTE_DATA); /* virtual page 0 */
	expect_eq(rt_set_readonly(l1), 0);
	expect_eq(rt_mmu_update1(pte(l2, 0), pte(virt_to_mfn(l1), PTE_TABLE)), 0);
	__asm__ volatile("mov 8(%1), %0" : "=r"(v) : "r"(0ul) : "memory");
	expect_eq(v, 0xbeef);
	printf("privops: loads from the M2P table and from page 0 emulated\n");
	low_data = data, low_l1 = l1;
}

/* Run (insn) on a word of page 0 and on the same word through the frame's
 * ordinary mapping, from (init), with %1 = (src), %2 = %rax = (acc) and %3
 * the word's address: memory, %1, %rax and the flags in (mask) agree. */
#define SAME(mask, insn, init, src, acc)                                       \
	do {                                                                   \
		uint64_t _f[2], _m[2], _s[2], _a[2];                           \
		for (int _i = 0; _i < 2; _i++) {                               \
			uint64_t *_p = _i ? (uint64_t *)16 : &low_data[2];     \
			uint64_t _r = (src), _x = (acc);                       \
			low_data[2] = (init);                                  \
			__asm__ volatile(insn "\n\tpushf\n\tpop %0"            \
					 : "=&r"(_f[_i]), "+r"(_r), "+a"(_x)   \
					 : "r"(_p) : "memory", "cc");          \
			_m[_i] = low_data[2], _s[_i] = _r, _a[_i] = _x;        \
		}                                                              \
		expect_eq(_m[1], _m[0]);                                       \
		expect_eq(_s[1], _s[0]);                                       \
		expect_eq(_a[1], _a[0]);                                       \
		expect_eq(_f[1] & (mask), _f[0] & (mask));                     \
	} while (0)
#define ARITH 0x8d5ul /* CF PF AF ZF SF OF */
#define LOGIC 0x8c5ul /* AF is undefined after a logical operation */

/* Stores, read-modify-write, compare and string instructions through a page
 * mapped below the host's mmap_min_addr (page 0: always below it) give what
 * they give through any other mapping of the frame; the guest's tables still
 * decide: a read-only page 0 is #PF(P|W) for a store, a rep string
 * instruction that runs into an unmapped page stops there with #PF and the
 * registers of the elements done. */
static void low_page_accesses(void)
{
	volatile uint8_t *b = (volatile uint8_t *)low_data;
	uint64_t *buf = rt_alloc_page(), rdi, rcx, l1 = virt_to_mfn(low_l1);
	unsigned before;

	SAME(0, "movb %b1, (%3)", 0x1111111111111111ul, 0x80, 0);
	SAME(0, "movw $0x1234, 2(%3)", 0x1111111111111111ul, 0, 0);
	SAME(0, "movl %k1, (%3)", 0x1111111111111111ul, 0xdeadbeefcafe, 0);
	SAME(0, "movq $-5, (%3)", 0, 0, 0);
	SAME(0, "movq %1, (%3)", 0, 0x123456789abcdef0ul, 0);
	SAME(0, "movzbl 1(%3), %k1", 0x8081828384858687ul, ~0ul, 0);
	SAME(0, "movsbq 1(%3), %1", 0x8081828384858687ul, 0, 0);
	SAME(0, "movswl 2(%3), %k1", 0x8081828384858687ul, ~0ul, 0);
	SAME(0, "movslq 4(%3), %1", 0x8081828384858687ul, 0, 0);
	SAME(0, "movb 3(%3), %b1", 0x8081828384858687ul, ~0ul, 0);
	SAME(0, "movw (%3), %w1", 0x8081828384858687ul, ~0ul, 0);
	SAME(0, "movl (%3), %k1", 0x8081828384858687ul, ~0ul, 0);
	SAME(0, "movb 5(%3), %%ah", 0x8081828384858687ul, 0, ~0ul);
	SAME(ARITH, "lock addl %k1, (%3)", 0x7fffffff, 1, 0);
	SAME(ARITH, "addb $0x88, 1(%3)", 0x7f00, 0, 0);
	SAME(ARITH, "addq (%3), %1", 0xffffffffffffffff, 1, 0);
	SAME(ARITH, "subw %w1, (%3)", 0x10, 0x11, 0);
	SAME(ARITH, "subq $5, (%3)", 3, 0, 0);
	SAME(ARITH, "cmpb $0x80, (%3)", 0x7f, 0, 0);
	SAME(ARITH, "cmpq %1, (%3)", 5, 5, 0);
	SAME(ARITH, "stc\n\tincl (%3)", 0xffffffff, 0, 0);
	SAME(ARITH, "clc\n\tlock decw (%3)", 0x8000, 0, 0);
	SAME(ARITH, "negq (%3)", 0x8000000000000000ul, 0, 0);
	SAME(ARITH, "negb (%3)", 0, 0, 0);
	SAME(0, "notl (%3)", 0x1234, 0, 0);
	SAME(LOGIC, "andq %1, (%3)", 0xff00ff00, 0x0ff00ff0, 0);
	SAME(LOGIC, "orw $0x8000, (%3)", 0x1, 0, 0);
	SAME(LOGIC, "xorb %b1, (%3)", 0x5a, 0x5a, 0);
	SAME(LOGIC, "testl %k1, (%3)", 0x80000000, 0x80000000, 0);
	SAME(0, "xchgq %1, (%3)", 1, 2, 0);
	SAME(0, "xchgw (%3), %w1", 0x1111, 0x2222, 0);
	SAME(ARITH, "lock xaddl %k1, (%3)", 0xfffffffe, 3, 0);
	SAME(ARITH, "lock cmpxchgq %1, (%3)", 7, 9, 7);       /* equal: stored */
	SAME(ARITH, "lock cmpxchgl %k1, (%3)", 7, 9, 0x100000008ul); /* not: eax loaded */
	SAME(ARITH, "cmpxchgb %b1, (%3)", 0x80, 1, 0x7f);
	/* rep stos forwards and backwards, rep movs out of and into page 0 */
	__asm__ volatile("rep stosb" : "=D"(rdi), "=c"(rcx) : "D"(0ul), "c"(4096ul), "a"(0x5a) : "memory");
	for (unsigned i = 0; i < 4096; i += 511)
		expect_eq(b[i], 0x5a);
	expect_eq(rdi, 4096);
	expect_eq(rcx, 0);
	__asm__ volatile("std\n\trep stosq\n\tcld" : "=D"(rdi), "=c"(rcx)
			 : "D"(4088ul), "c"(2ul), "a"(0x0102030405060708ul) : "memory");
	expect_eq(low_data[511], 0x0102030405060708ul);
	expect_eq(low_data[510], 0x0102030405060708ul);
	expect_eq(b[4079], 0x5a);
	expect_eq(rdi, 4072);
	for (unsigned i = 0; i < 512; i++)
		low_data[i] = i * 0x0101010101010101ul;
	__asm__ volatile("rep movsb" : "=D"(rdi), "=S"(rcx) : "D"(buf), "S"(0ul), "c"(4096ul) : "memory");
	for (unsigned i = 0; i < 512; i++)
		expect_eq(buf[i], i * 0x0101010101010101ul);
	buf[3] = 0xfeed;
	__asm__ volatile("rep movsq" : "=D"(rdi), "=S"(rcx) : "D"(0ul), "S"(buf), "c"(512ul) : "memory");
	expect_eq(low_data[3], 0xfeed);
	/* the guest's tables decide: page 1 is not mapped, page 0 read-only */
	before = gp_count;
	__asm__ volatile("lea 1f(%%rip), %%r11\n\tmov %%r11, resume_at(%%rip)\n\t"
			 "rep stosq\n1:" : "=D"(rdi), "=c"(rcx)
			 : "D"(4080ul), "c"(4ul), "a"(0ul) : "r11", "memory");
	expect_eq(gp_count, before + 1);
	expect_eq(last_vector, X86_PF);
	expect_eq(last_cr2, 4096);
	expect_eq(last_error & 7, 2); /* not present, a write, kernel mode */
	expect_eq(rdi, 4096);
	expect_eq(rcx, 2);
	expect_eq(rt_mmu_update1(pte(l1, 0), pte(virt_to_mfn(low_data), PTE_P | PTE_A)), 0);
	EXPECT_FAULT(X86_PF, "movl $1, 32(%0)", :: "r"(0ul) : "r11", "memory");
	expect_eq(last_cr2, 32);
	expect_eq(last_error & 7, 3); /* present, a write */
	SAME(ARITH, "cmpl $1, 8(%3)", 5, 0, 0); /* loads still work */
	expect_eq(rt_mmu_update1(pte(l1, 0), 0), 0);
	printf("privops: stores, read-modify-write, compare and string instructions through page 0 "
	       "as through any mapping; its #PF from the guest's tables\n");
}

/* GDT frames: checked descriptors, read-only while in use. */
static void descriptor_tables(void)
{
	uint64_t *gdt = rt_alloc_page(), frame = virt_to_mfn(gdt);
	uint64_t user_code = 0x00affa000000ffffull;   /* 64-bit code, DPL 3 */
	uint64_t ring0_code = 0x00af9a000000ffffull;  /* DPL 0: refused */
	uint64_t call_gate = 0x0000ec0000000000ull;   /* a system descriptor: refused */

	gdt[1] = user_code;
	expect_eq(hypercall(XEN_HC_set_gdt, &frame, 512, 0), -XEN_EINVAL); /* still writable */
	expect_eq(rt_set_readonly(gdt), 0);
	expect_eq(hypercall(XEN_HC_set_gdt, &frame, 512, 0), 0);
	expect_eq(rt_set_writable(gdt), -XEN_EINVAL); /* in use: it stays read-only */
	expect_eq(hypercall(XEN_HC_update_descriptor, frame * 4096 + 16, user_code, 0), 0);
	expect_eq(gdt[2], user_code);
	expect_eq(hypercall(XEN_HC_update_descriptor, frame * 4096 + 24, ring0_code, 0), -XEN_EINVAL);
	expect_eq(hypercall(XEN_HC_update_descriptor, frame * 4096 + 24, call_gate, 0), -XEN_EINVAL);
	expect_eq(hypercall(XEN_HC_update_descriptor, frame * 4096 + 20, user_code, 0), -XEN_EINVAL);
	expect_eq(hypercall(XEN_HC_set_gdt, &frame, 0, 0), 0); /* an empty GDT frees the frame */
	expect_eq(rt_set_writable(gdt), 0);
	printf("privops: set_gdt and update_descriptor check every descriptor\n");
}

int guest_main(struct start_info *si)
{
	rt_trap_hook = hook;
	expect_eq(rt_install_traps(), 0);
	if (!strcmp((const char *)si->cmd_line, "upper-base"))
		upper_half_base();
	control_registers();
	cr4_writes();
	forced_cpuid();
	segments_and_msrs();
	noncanonical_bases();
	faulting();
	port_io();
	io_bitmap();
	architectural_iopl();
	stack_segment();
	impossible_loads();
	low_page_accesses();
	descriptor_tables();
	return 0;
}
