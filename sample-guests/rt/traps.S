/* traps.S - exception entry points for sample guests.
 *
 * Xen's bounce frame is rcx, r11, [error code], rip, cs, rflags, rsp, ss.
 * Each entry pops rcx and r11, pushes a zero error code where the CPU has
 * none and the vector, saves the registers as struct rt_frame and calls
 * rt_trap(frame); then it returns with HYPERVISOR_iret. */

	.macro TRAP_NOERR vec
	.globl rt_trap_\vec
rt_trap_\vec:
	pop %rcx
	pop %r11
	push $0
	push $\vec
	jmp rt_trap_common
	.endm

	.macro TRAP_ERR vec
	.globl rt_trap_\vec
rt_trap_\vec:
	pop %rcx
	pop %r11
	push $\vec
	jmp rt_trap_common
	.endm

	.text
	TRAP_NOERR 0
	TRAP_NOERR 1
	TRAP_NOERR 3
	TRAP_NOERR 4
	TRAP_NOERR 5
	TRAP_NOERR 6
	TRAP_NOERR 7
	TRAP_ERR 8
	TRAP_ERR 10
	TRAP_ERR 11
	TRAP_ERR 12
	TRAP_ERR 13
	TRAP_ERR 14
	TRAP_NOERR 16
	TRAP_ERR 17
	TRAP_NOERR 19
	TRAP_NOERR 0x40
	TRAP_NOERR 0x80

/* The syscall callback: rcx, r11, rip, cs, rflags, rsp, ss; vector 0x100. */
	.globl rt_syscall_entry
rt_syscall_entry:
	pop %rcx
	pop %r11
	push $0
	push $0x100
	jmp rt_trap_common

/* The event callback (upcall): the same frame, vector 0x101. */
	.globl rt_event_entry
rt_event_entry:
	pop %rcx
	pop %r11
	push $0
	push $0x101
	jmp rt_trap_common

rt_trap_common:
	push %rax
	push %rbx
	push %rcx
	push %rdx
	push %rsi
	push %rdi
	push %rbp
	push %r8
	push %r9
	push %r10
	push %r11
	push %r12
	push %r13
	push %r14
	push %r15
	mov %rsp, %rdi
	mov %rsp, %rbp
	and $-16, %rsp
	call rt_trap
	mov %rbp, %rsp
	pop %r15
	pop %r14
	pop %r13
	pop %r12
	pop %r11
	pop %r10
	pop %r9
	pop %r8
	pop %rbp
	pop %rdi
	pop %rsi
	pop %rdx
	pop %rcx
	pop %rbx
	pop %rax
	add $16, %rsp			/* vector, error code */
	push $0				/* iret flags */
	jmp hypercall_page + 23 * 32	/* HYPERVISOR_iret */

	.section .note.GNU-stack, "", @progbits
