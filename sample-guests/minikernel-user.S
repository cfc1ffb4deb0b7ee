/* minikernel-user.S - the user program every process of the minikernel
 * runs, in its own address space. %rbx holds the process number. Each step
 * stores into a demand-paged data page (first touch faults), logs itself
 * with a system call and burns time so the timer preempts it. */
#define DATA 0x800000
#define STEPS 4
#define SPIN 3000000

	.section .text.user, "ax"
	.balign 4096
	.globl mk_user_entry
mk_user_entry:
	xor %r12, %r12
1:	mov %r12, %rcx
	and $3, %rcx
	shl $12, %rcx
	add $DATA, %rcx
	mov %r12, (%rcx)		/* demand paging */
	mov $1, %eax
	mov %rbx, %rdi
	mov %r12, %rsi
	mov (%rcx), %rdx		/* what the page holds now */
	syscall				/* log(process, step, value) */
	mov $SPIN, %rcx
2:	dec %rcx
	jnz 2b
	inc %r12
	cmp $STEPS, %r12
	jb 1b
	mov $99, %eax
	syscall				/* exit */
	ud2
	.balign 4096
	.globl mk_user_end
mk_user_end:

	.section .note.GNU-stack, "", @progbits
