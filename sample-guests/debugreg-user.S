/* debugreg-user.S - the user-mode half of the debugreg guest. Runs in a
 * user address space that maps only this page and a stack: a single step
 * it sets itself; a store to its stack, where the kernel armed a write
 * breakpoint; loads of Xen's stack selector from dbg_user_ss, where the
 * kernel armed a read-write breakpoint, followed by an instruction (the
 * #DB comes after it) and by a system call (Xen drops that #DB); then
 * system call 99 back to the kernel for good. */

	.section .text.user, "ax"
	.balign 4096
	.globl dbg_user_entry
dbg_user_entry:
	sub $16, %rsp			/* keep off the breakpoint at the stack top */
	pushf
	orq $0x100, (%rsp)
	popf				/* TF: the next instruction ends with #DB */
	add $16, %rsp
	.globl dbg_user_stepped
dbg_user_stepped:
	nop				/* the kernel cleared TF in the frame */
	pushq $7			/* the write breakpoint on the stack top */
	.globl dbg_user_stored
dbg_user_stored:
	popq %rax
	mov dbg_user_ss(%rip), %ss	/* emulated: Linux has no such selector */
	nop
	.globl dbg_user_shadowed
dbg_user_shadowed:
	mov $42, %eax
	mov dbg_user_ss(%rip), %ss
	syscall
	mov $99, %eax
	syscall
	ud2
	.globl dbg_user_ss
dbg_user_ss:
	.word 0xe02b			/* FLAT_RING3_SS64 */
	.balign 4096
	.globl dbg_user_end
dbg_user_end:

	.section .note.GNU-stack, "", @progbits
