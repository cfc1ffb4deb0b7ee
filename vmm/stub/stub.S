/* stub.S - entry points of the guest-process stub (see stub_abi.h). */
	.section .text.entry, "ax"

/* The direct hypercall entry, at STUB_FASTCALL_ENTRY (the linker script
 * checks): the guest arrives as a `syscall` would leave it, %rcx = where to
 * return, with its own %rsp and %rflags. TF set would have trapped here
 * already (the handler takes that as a SIGSYS, stub.c). The guest's
 * registers go onto a stack of the stub's own, in sigcontext order (r8
 * first, rip and eflags last), the guest's stack is never touched, and
 * stub_fast (stub.c) hands off with them; it returns here when the answer
 * can be resumed without the kernel (else it returns through a signal
 * frame itself). */
	.globl stub_fastcall
	.type stub_fastcall, @function
stub_fastcall:
	mov %rsp, fast_rsp(%rip)
	lea fast_block_end(%rip), %rsp
	pushfq			/* eflags */
	push %rcx		/* rip: the address to return to */
	push fast_rsp(%rip)	/* rsp */
	push %rcx
	push %rax
	push %rdx
	push %rbx
	push %rbp
	push %rsi
	push %rdi
	push %r15
	push %r14
	push %r13
	push %r12
	push %r11
	push %r10
	push %r9
	push %r8
	push $0x202		/* the stub's own flags: no AC, DF or TF */
	popfq
	mov %rsp, %rdi
	call stub_fast
/* Resume the guest from the block at fast_block. A signal anywhere from
 * here to stub_fast_commit_end restarts at stub_fast_commit (the handler
 * rewinds to it; the block is only read), so the pending-interrupt test is
 * never passed by an interrupt that came after it. */
	.globl stub_fast_commit, stub_fast_commit_end
stub_fast_commit:
	lea fast_block(%rip), %rsp
	cmpl $0, stub_fast_irq(%rip)
	jne 1f
	cmpl $0, stub_fast_full(%rip)
	jne 2f
	pop %r8
	pop %r9
	pop %r10
	pop %r11
	pop %r12
	pop %r13
	pop %r14
	pop %r15
	pop %rdi
	pop %rsi
	pop %rbp
	pop %rbx
	pop %rdx
	pop %rax
	pop %rcx
	push 8(%rsp)		/* rip */
	pop fast_rip(%rip)
	push (%rsp)		/* rsp */
	pop fast_rsp(%rip)
	lea 16(%rsp), %rsp
	popfq			/* the guest's flags: stub_fast made sure TF is clear */
	mov fast_rsp(%rip), %rsp
	jmp *fast_rip(%rip)
/* The kernel's return (stub_fast_full): the handler loads the block into
 * the frame of this trap. */
2:	int3
	.globl stub_fast_full_end
stub_fast_full_end:
stub_fast_commit_end:
	ud2
1:	lea fast_block(%rip), %rdi
	call stub_fast_interrupted
	jmp stub_fast_commit

	.globl _start
_start:
	lea stub_stack_top(%rip), %rsp
	and $-16, %rsp
	call stub_main
	ud2

/* The ptrace transport's doorbell: int3 stops the process for the monitor,
 * which recognises the stop by the address after it. */
	.text
	.globl stub_doorbell
	.type stub_doorbell, @function
stub_doorbell:
	int3
	.globl stub_doorbell_end
stub_doorbell_end:
	ret

/* The first entry into the guest when its FPU state was loaded into the
 * registers: the handler builds the frame (stub.c, fast_signal). */
	.globl stub_enter_trap, stub_enter_trap_end
	.type stub_enter_trap, @function
stub_enter_trap:
	int3
stub_enter_trap_end:
	ud2

/* sa_restorer of every handler. */
	.globl stub_restorer
	.type stub_restorer, @function
stub_restorer:
	mov $15, %eax	/* rt_sigreturn */
	syscall
	ud2

/* stub_sigreturn(frame): return into the guest through a frame built by hand;
 * (frame) points at the pretcode slot of an rt_sigframe. */
	.globl stub_sigreturn
	.type stub_sigreturn, @function
stub_sigreturn:
	lea 8(%rdi), %rsp
	mov $15, %eax
	syscall
	ud2

/* long stub_syscall(nr, a1, a2, a3, a4, a5, a6) */
	.globl stub_syscall
	.type stub_syscall, @function
stub_syscall:
	mov %rdi, %rax
	mov %rsi, %rdi
	mov %rdx, %rsi
	mov %rcx, %rdx
	mov %r8, %r10
	mov %r9, %r8
	mov 8(%rsp), %r9
	syscall
	ret

	.bss
	.balign 64
fast_rsp:
	.skip 8
fast_rip:
	.skip 8
	.balign 64
fast_stack:
	.skip 8192
	.globl fast_block
fast_block:		/* the guest's registers: struct stub_regs' first 18 words */
	.skip 18 * 8
fast_block_end:
	.skip 8
	.balign 64
stub_stack:
	.skip 16384
stub_stack_top:

	.section .note.GNU-stack, "", @progbits
