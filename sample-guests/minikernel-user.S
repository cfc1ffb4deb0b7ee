/* minikernel-user.S - the user program every process of the minikernel
 * runs, in its own address space. %rbx holds the process number. Each step
 * stores into a demand-paged data page (first touch faults), logs itself
 * with a system call and then waits until the timer has preempted it (the
 * kernel counts preemptions in a page every process maps read-only), so
 * every run preempts and interleaves the processes whatever the CPU's speed.
 * Its log call also checks the FPU state crosses kernel entry and exit as
 * on one CPU, whichever host process pvmm runs each side in: %xmm0 holds
 * process * 256 + step into the kernel, which adds 0x1000 to it (and
 * keeps each process's state across preemption, as a kernel does). */
#define DATA 0x800000
#define TICKS 0x5fe000
#define STEPS 4

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
	mov %rbx, %rax
	shl $8, %rax
	add %r12, %rax
	movq %rax, %xmm0		/* process * 256 + step */
	mov $1, %eax
	syscall				/* log(process, step, value) */
	movq %xmm0, %rax
	sub $0x1000, %rax
	mov %rbx, %rcx
	shl $8, %rcx
	add %r12, %rcx
	cmp %rcx, %rax
	jne 3f				/* the kernel's %xmm0 did not come back */
	mov TICKS, %rcx
2:	pause
	cmp TICKS, %rcx			/* until a preemption bumped it */
	je 2b
	inc %r12
	cmp $STEPS, %r12
	jb 1b
	mov $99, %eax
	syscall				/* exit */
3:	ud2
	.balign 4096
	.globl mk_user_end
mk_user_end:

	.section .note.GNU-stack, "", @progbits
