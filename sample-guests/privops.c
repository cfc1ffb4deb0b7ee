/* privops: the privileged instructions a PV kernel executes, each emulated
 * or faulted as Xen does: control registers, Xen's forced-emulation cpuid
 * with its hypervisor leaves, flat segment loads, hlt, a small MSR set with
 * real FS/GS bases (non-canonical ones refused as Xen refuses them), and
 * #GP for cli, sti, in, out, lgdt, lidt, invlpg and unknown MSRs. */
#include "rt.h"

static volatile unsigned gp_count;
uint64_t resume_at; /* where the #GP handler resumes: after the instruction */

static void hook(struct rt_frame *f)
{
	expect_eq(f->vector, X86_GP);
	gp_count++;
	f->rip = resume_at;
}

/* Run (insn), which must fault with #GP; the asm records the address after
 * it (whatever the compiler's encoding) for the handler. The operand lists
 * follow as in an asm statement and must clobber r11. */
#define EXPECT_GP(insn, ...)                                                   \
	do {                                                                   \
		unsigned _before = gp_count;                                   \
		__asm__ volatile("lea 1f(%%rip), %%r11\n\tmov %%r11, resume_at(%%rip)\n\t" \
				 insn "\n1:" __VA_ARGS__);                      \
		expect_eq(gp_count, _before + 1);                              \
	} while (0)

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
	__asm__ volatile("mov %0, %%cr4" :: "r"(cr4 ^ (1ul << 7)));          /* PGE: dropped */
	__asm__ volatile("mov %%cr4, %0" : "=r"(cr2));
	expect_eq(cr2, cr4);
	EXPECT_GP("mov %0, %%cr0", :: "r"(cr0 & ~0x80000000ul) : "r11");      /* paging off: refused */
	printf("privops: cr0 %#lx cr3 %#lx cr4 %#lx, writes as Xen allows\n",
	       (unsigned long)(cr0 & ~8ul), (unsigned long)cr3, (unsigned long)cr4);
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
	forced_cpuid();
	segments_and_msrs();
	noncanonical_bases();
	faulting();
	impossible_loads();
	descriptor_tables();
	return 0;
}
