/* traps-user.S - the user-mode half of the traps guest. Runs in a user
 * address space that maps only this page and a stack, so it cannot call
 * the hypercall page or touch kernel data; it talks to the kernel with
 * system calls: 42 answers 43, 1 reports %rdi, 99 ends user mode. */
#define KERNEL_ONLY 0x400000 /* mapped for the kernel, not for user mode */

	.section .text.user, "ax"
	.balign 4096
	.globl user_entry
user_entry:
	mov $42, %eax
	syscall				/* bounced to the syscall callback */
	mov %rax, %rdi
	mov $1, %eax
	syscall				/* report what the first one returned */
	movabs $KERNEL_ONLY, %rbx
	.globl user_pf
user_pf:
	mov (%rbx), %rax		/* #PF, user, not present: 3 bytes */
	int3				/* #BP through a DPL 3 gate */
	.globl user_int40
user_int40:
	int $0x40			/* DPL 0 gate: #GP, error (0x40 << 3) | 2 */
	int $0x80			/* DPL 3 gate */
	mov $99, %eax
	syscall				/* back to the kernel for good */
	ud2
	.balign 4096
	.globl user_end
user_end:

	.section .note.GNU-stack, "", @progbits
