/* stub.S - entry points of the guest-process stub (see stub_abi.h). */
	.section .text.entry, "ax"
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
stub_stack:
	.skip 16384
stub_stack_top:

	.section .note.GNU-stack, "", @progbits
