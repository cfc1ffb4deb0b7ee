/* head.S - entry point and Xen ELF notes of the sample guests. */
/* note types: xen_abi.h, enum xen_elfnote */

#define ELFNOTE(type, desc...)                 \
	.pushsection .note.Xen, "a", @note;    \
	.balign 4;                             \
	.long 4f - 3f, 6f - 5f, type;          \
3:	.asciz "Xen";                          \
4:	.balign 4;                             \
5:	desc;                                  \
6:	.balign 4;                             \
	.popsection

	ELFNOTE(6, /* GUEST_OS */ .asciz "pvmm-sample")
	ELFNOTE(5, /* XEN_VERSION */ .asciz "xen-3.0")
	ELFNOTE(8, /* LOADER */ .asciz "generic")
	ELFNOTE(3, /* VIRT_BASE */ .quad 0x400000)
	ELFNOTE(4, /* PADDR_OFFSET */ .quad 0x400000)
	ELFNOTE(1, /* ENTRY */ .quad _start)
	ELFNOTE(2, /* HYPERCALL_PAGE */ .quad hypercall_page)
	ELFNOTE(10, /* FEATURES */ .asciz "")

	.section .text.entry, "ax"
	.globl _start
_start:
	/* %rsi = start_info, %rsp = the builder's boot stack (one page) */
	lea rt_stack_top(%rip), %rsp
	mov %rsi, %rdi
	call rt_start
	ud2

	.bss
	.balign 16
	.globl rt_stack
rt_stack:
	.skip 65536
rt_stack_top:

	.section .note.GNU-stack, "", @progbits
