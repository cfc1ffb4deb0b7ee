/* lowexec: code and data below the host's vm.mmap_min_addr, where no
 * process may map, as in a kernel linked at 0 (Mini-OS, GRUB). The guest
 * maps a page at virtual address 0, copies a routine there and calls it:
 * pvmm runs it in its instruction emulator (vmm/lowexec.h). The routine
 * makes a hypercall (syscall), reads CR3 (a privileged instruction Xen
 * emulates), stores below mmap_min_addr and into high memory, and takes a
 * #PF that the guest's own handler (native code) resumes back into page 0;
 * one of its instructions (rep stosb) first touches 80 pages.
 * Native code then loads and stores page 0 (one instruction at a time in
 * the emulator). Run with --low-exec=emulate, so that it is emulated as
 * root too; --stats must show the runs. */
#include "rt.h"

struct low_args {
	uint64_t len, buf;       /* in: what the routine writes with console_io */
	uint64_t written, cr3;   /* out: console_io's result, CR3 as read */
	uint64_t unmapped;       /* in: an address the guest does not map */
	uint64_t fill, fill_len; /* in: memory the routine fills with 0x5a */
};

#define FILL_PAGES 80 /* more pages than one instruction may fault on */
static uint8_t fill_buf[FILL_PAGES * 4096] __attribute__((aligned(4096)));

/* The routine, copied to page 0: position-independent but for its data
 * at 0x800 (absolute, below mmap_min_addr). rdi: struct low_args. */
__asm__(".pushsection .rodata\n"
	"low_start:\n"
	"	push %rbx\n"
	"	mov %rdi, %rbx\n"
	"	mov $18, %eax\n"            /* __HYPERVISOR_console_io */
	"	xor %edi, %edi\n"           /* CONSOLEIO_write */
	"	mov 0(%rbx), %rsi\n"
	"	mov 8(%rbx), %rdx\n"
	"	syscall\n"
	"	mov %rax, 16(%rbx)\n"
	"	mov %cr3, %rax\n"
	"	mov %rax, 24(%rbx)\n"
	"	incq 0x800\n"
	"	mov 40(%rbx), %rdi\n"      /* one rep stosb across FILL_PAGES pages */
	"	mov 48(%rbx), %rcx\n"
	"	mov $0x5a, %eax\n"
	"	rep stosb\n"
	"	mov 32(%rbx), %rax\n"
	"	mov (%rax), %rax\n"         /* #PF: the handler resumes at low_resume */
	"low_resume:\n"
	"	pop %rbx\n"
	"	ret\n"
	"low_end:\n"
	".popsection\n");
extern const uint8_t low_start[], low_resume[], low_end[];

static volatile uint64_t pf_vector = ~0ul, pf_error, pf_rip;

static void hook(struct rt_frame *f)
{
	guest_assert(f->vector == X86_PF);
	pf_vector = f->vector;
	pf_error = f->error;
	pf_rip = f->rip;
	f->rip = (uint64_t)(low_resume - low_start); /* back into page 0 */
}

/* Map (page) at virtual address 0 through a new L1 in the first 2 MiB. */
static void map_page0(void *page)
{
	uint64_t *l1 = rt_alloc_page();
	uint64_t l2 = (((const uint64_t *)(VIRT_BASE + rt_l4_entry(0) * 4096))[0] & PTE_ADDR_MASK) >> 12;

	l1[0] = pte(virt_to_mfn(page), PTE_DATA);
	expect_eq(rt_set_readonly(l1), 0);
	expect_eq(rt_mmu_update1(pte(l2, 0), pte(virt_to_mfn(l1), PTE_TABLE)), 0);
}

int guest_main(struct start_info *si)
{
	static const char msg[] = "lowexec: hello from page 0\n";
	uint8_t *page = rt_alloc_page();
	uint64_t low_va = 0x800; /* not a constant the compiler can see through */
	volatile uint64_t *low_data, *high_data = (uint64_t *)(page + 0x800);
	struct low_args a = { sizeof(msg) - 1, (uint64_t)msg, 0, 0, 0x7f0000000000ul,
			      (uint64_t)fill_buf, sizeof(fill_buf) };
	uint64_t v;

	(void)si;
	__asm__("" : "+r"(low_va));
	low_data = (volatile uint64_t *)low_va;
	rt_trap_hook = hook;
	expect_eq(rt_install_traps(), 0);
	memcpy(page, low_start, (size_t)(low_end - low_start));
	map_page0(page);
	((void (*)(struct low_args *))0)(&a);
	expect_eq(a.written, 0); /* Xen's CONSOLEIO_write */
	expect_eq(a.cr3, rt_l4_mfn() << 12);
	expect_eq(pf_vector, X86_PF);
	expect_eq(pf_error, 0); /* a read of a page not present, in kernel mode */
	expect_eq(pf_rip, (uint64_t)(low_resume - low_start) - 3);
	expect_eq(*high_data, 1);
	for (size_t i = 0; i < sizeof(fill_buf); i += 4095)
		expect_eq(fill_buf[i], 0x5a);
	printf("lowexec: page 0 ran: a hypercall, CR3 read, a store below mmap_min_addr, a #PF "
	       "delivered and resumed\n");
	printf("lowexec: one rep stosb from page 0 filled %lu pages\n", (unsigned long)FILL_PAGES);
	__asm__ volatile("incq (%1)\n\tmov (%1), %0" : "=r"(v) : "r"(low_data) : "memory");
	expect_eq(v, 2);
	expect_eq(*high_data, 2);
	*high_data = 41;
	expect_eq(*low_data, 41);
	printf("lowexec: native loads and stores below mmap_min_addr emulated\n");
	return 0;
}
