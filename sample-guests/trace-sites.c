/* trace-sites: each instruction pvmm emulates (a privileged rdmsr, Xen's
 * forced-emulation cpuid, a load from the M2P table) is named by
 * --trace=fault at its own address and with its own text, not the next
 * instruction's: its .cfg runs it traced and looks for
 * "sym=site_rdmsr+0 insn=rdmsr ... why=privop-emulated". Each site is a
 * global label, so the trace says sym=site_NAME+0 exactly there. */
#include "rt.h"

int guest_main(struct start_info *si)
{
	uint32_t lo, hi, a, b, c, d;
	uint64_t m2p;

	__asm__ volatile(".globl site_rdmsr\nsite_rdmsr: rdmsr" : "=a"(lo), "=d"(hi) : "c"(0xc0000080));
	guest_assert(lo & (1 << 11)); /* EFER.NXE */
	__asm__ volatile(".globl site_cpuid\nsite_cpuid: ud2; .ascii \"xen\"; cpuid"
			 : "=a"(a), "=b"(b), "=c"(c), "=d"(d) : "a"(0x40000000));
	expect_eq(b, 0x566e6558); /* "XenV" */
	__asm__ volatile(".globl site_m2p\nsite_m2p: mov (%1), %0"
			 : "=r"(m2p) : "r"(XEN_RO_MPT_BASE + 8 * virt_to_mfn(si)));
	expect_eq(m2p, virt_to_mfn(si));
	printf("trace-sites: rdmsr, forced cpuid and an M2P load emulated\n");
	return 0;
}
