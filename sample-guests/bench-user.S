/* bench-user.S - the user-mode half of the bench guest: BENCH_SYSCALLS
 * system calls (each one: syscall -> the guest kernel's syscall callback ->
 * HYPERVISOR_iret back here), timed with rdtsc; then system call 99 hands
 * the cycles (%rdi) to the kernel and leaves user mode. */
#define BENCH_SYSCALLS 2000

	.section .text.user, "ax"
	.balign 4096
	.globl bench_user_entry
bench_user_entry:
	mov $1, %eax			/* warm up: the first one maps the path */
	syscall
	lfence
	rdtsc
	shl $32, %rdx
	or %rax, %rdx
	mov %rdx, %r13
	mov $BENCH_SYSCALLS, %r12d
1:	mov $1, %eax
	syscall
	dec %r12d
	jnz 1b
	lfence
	rdtsc
	shl $32, %rdx
	or %rax, %rdx
	sub %r13, %rdx
	mov %rdx, %rdi
	mov $BENCH_SYSCALLS, %esi
	mov $99, %eax
	syscall				/* back to the kernel for good */
	ud2

/* Two processes run this, each in its own address space: every system
 * call 2 makes the kernel switch to the other one (bench.c). */
	.globl bench_switch_entry
bench_switch_entry:
1:	mov $2, %eax
	syscall
	jmp 1b
	.balign 4096
	.globl bench_user_end
bench_user_end:

	.section .note.GNU-stack, "", @progbits
