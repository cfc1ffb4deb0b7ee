/* compat32-user.S - the user-mode half of the compat32 guest: 64-bit user
 * code that drops to 32-bit code (CS FLAT_RING3_CS32) with lretq, computes
 * and touches its stack there, takes a #PF and an int $0x80 from 32-bit
 * code, and comes back with ljmpl to FLAT_RING3_CS64. System call 99 ends
 * user mode. A host without 32-bit user code #GPs the lretq: the kernel
 * half resumes at user_refused. */
#define KERNEL_ONLY 0x400000 /* mapped for the kernel, not for user mode */

	.section .text.user, "ax"
	.balign 4096
	.globl user_entry
user_entry:
	mov $0x0123456789abcdef, %r12	/* survives 32-bit code untouched */
	mov $0xe02b, %eax		/* FLAT_RING3_DS32: 32-bit code's data */
	mov %eax, %ds			/* accesses go through %ds, which a null */
	mov %eax, %es			/* selector would #GP (as Linux's exec does) */
	pushq $0xe023			/* FLAT_RING3_CS32 */
	pushq $user_c32
	.globl user_lret
user_lret:
	lretq
	.code32
	.globl user_c32
user_c32:
	mov $6, %eax
	mov $7, %ecx
	imul %ecx, %eax			/* 42 */
	push %eax			/* the stack, through %esp */
	pop %edx
	inc %edx			/* 43 */
	.globl user_pf32
user_pf32:
	mov KERNEL_ONLY, %ebx		/* #PF from 32-bit code: 6 bytes */
	mov %edx, %eax
	.globl user_int80
user_int80:
	int $0x80			/* to the DPL 3 gate, from 32-bit code */
	ljmpl $0xe033, $user_back	/* FLAT_RING3_CS64 */
	.code64
	.globl user_back
user_back:
	mov %rax, %rdi
	mov $1, %eax
	syscall				/* report what int $0x80 returned */
	.globl user_refused
user_refused:
	mov %r12, %rdi
	mov $2, %eax
	syscall				/* report %r12 */
	mov $99, %eax
	syscall				/* back to the kernel for good */
	ud2
	.balign 4096
	.globl user_end
user_end:

	.section .note.GNU-stack, "", @progbits
