/*
 * ptrace.c - the ptrace transport.
 *
 * The guest process is traced from its exec. A signal from guest code is a
 * signal-delivery stop: it is passed on to the stub's handler, which copies
 * the trap into the control page and rings the doorbell, an int3 at a known
 * address in the stub: that SIGTRAP stop is the hand-off. The monitor then
 * replies through the control page and continues the process with the
 * SIGTRAP suppressed. Guest `syscall`s reach the stub as SIGSYS through
 * syscall user dispatch, so no system call of the guest ever runs on the
 * host, while the stub's own (mmap, rt_sigreturn) run normally.
 */
#include "vmm/vmm.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/user.h>
#include <sys/wait.h>

/* Raw wrappers return -errno; the checked ones name the request. */
static long __ptrace_cont(int pid, int sig)
{
	return ptrace(PTRACE_CONT, pid, NULL, (void *)(long)sig) ? -errno : 0;
}

static int ptrace_cont(struct vm *vm, int sig)
{
	struct vmm *v = vmm_of(vm);
	long rc = __ptrace_cont(v->pid, sig);

	if (rc)
		snprintf(vm->end_msg, sizeof(vm->end_msg), "PTRACE_CONT of guest process %d: %s",
			 v->pid, strerror((int)-rc));
	return (int)rc;
}

static int __ptrace_rip(int pid, uint64_t *rip)
{
	errno = 0;
	long v = ptrace(PTRACE_PEEKUSER, pid, (void *)offsetof(struct user_regs_struct, rip), NULL);
	if (errno)
		return -errno;
	*rip = (uint64_t)v;
	return 0;
}

static int is_stop_signal(int sig)
{
	return sig == SIGSTOP || sig == SIGTSTP || sig == SIGTTIN || sig == SIGTTOU;
}

static void on_sigchld(int sig)
{
	(void)sig; /* only interrupts the wait for console input */
}

/* SIGCHLD, blocked but for the wait for console input, ends that wait
 * when the guest process stops or ends. */
static int catch_sigchld(struct vm *vm)
{
	struct sigaction sa;
	sigset_t chld;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_sigchld;
	sigemptyset(&chld);
	sigaddset(&chld, SIGCHLD);
	if (sigprocmask(SIG_BLOCK, &chld, NULL) || sigaction(SIGCHLD, &sa, NULL)) {
		snprintf(vm->end_msg, sizeof(vm->end_msg), "SIGCHLD handler: %s", strerror(errno));
		return -errno;
	}
	return 0;
}

/* The guest process runs and its console may want input (the guest may
 * poll its ring without a hypercall): wait for its next stop, or for
 * stdin, or a tick while input is held for room in the ring. Returns
 * waitpid's result. */
static int wait_console(struct vm *vm, int *status)
{
	struct vmm *v = vmm_of(vm);
	int fd, held = vmm_conin_running(vm, &fd);
	struct pollfd p = { fd, POLLIN, 0 };
	const struct timespec tick = { 0, 20000000 };
	sigset_t mask;
	int r;

	if (fd < 0 && !held)
		return waitpid(v->pid, status, __WALL);
	r = waitpid(v->pid, status, __WALL | WNOHANG);
	if (r)
		return r;
	sigprocmask(SIG_SETMASK, NULL, &mask);
	sigdelset(&mask, SIGCHLD);
	r = ppoll(&p, 1, held ? &tick : NULL, &mask); /* a stop's SIGCHLD: EINTR */
	vmm_conin_woke(vm, r > 0 && p.revents);
	errno = EINTR;
	return -1;
}

/* Wait until the stub hands off or the process is gone, passing signals of
 * guest code on to the stub. */
static int wait_handoff(struct vm *vm, struct vmm_stop *stop)
{
	struct vmm *v = vmm_of(vm);
	for (;;) {
		int status, sig, rc;
		uint64_t rip;

		if (wait_console(vm, &status) < 0) {
			if (errno == EINTR)
				continue; /* the signal handler already killed the guest */
			snprintf(vm->end_msg, sizeof(vm->end_msg), "waitpid: %s", strerror(errno));
			return -errno;
		}
		if (!WIFSTOPPED(status)) {
			stop->kind = STOP_GONE;
			stop->status = status;
			v->pid = 0;
			return 0;
		}
		sig = WSTOPSIG(status);
		if (sig == SIGTRAP && __ptrace_rip(v->pid, &rip) == 0 &&
		    (rip == v->doorbell || !v->doorbell)) {
			stop->kind = STOP_HANDOFF;
			vm->stats.handoffs++;
			return 0;
		}
		rc = ptrace_cont(vm, is_stop_signal(sig) ? 0 : sig);
		if (rc)
			return rc;
	}
}

static int pt_start(struct vm *vm, struct vmm_stop *stop)
{
	struct vmm *v = vmm_of(vm);
	int status, rc = vmm_proc_spawn(vm, 1);

	if (rc < 0 || (rc = catch_sigchld(vm)) != 0)
		return rc;
	/* the first stop is the SIGTRAP of the exec */
	if (waitpid(v->pid, &status, __WALL) < 0 || !WIFSTOPPED(status)) {
		vmm_proc_describe_end(vm, status, 0);
		v->pid = 0;
		return -ECHILD;
	}
	if (ptrace(PTRACE_SETOPTIONS, v->pid, NULL, (void *)(long)PTRACE_O_EXITKILL)) {
		snprintf(vm->end_msg, sizeof(vm->end_msg), "PTRACE_SETOPTIONS: %s", strerror(errno));
		return -errno;
	}
	v->doorbell = 0; /* learnt from the READY hand-off, before any guest code */
	rc = ptrace_cont(vm, 0);
	return rc ? rc : wait_handoff(vm, stop);
}

static int pt_resume(struct vm *vm, struct vmm_stop *stop)
{
	int rc = ptrace_cont(vm, 0);

	return rc ? rc : wait_handoff(vm, stop);
}

static void pt_kill(struct vm *vm)
{
	struct vmm *v = vmm_of(vm);
	int status;

	if (v->pid <= 0)
		return;
	kill(v->pid, SIGKILL);
	while (waitpid(v->pid, &status, __WALL) < 0 && errno == EINTR)
		;
	v->pid = 0;
}

const struct vmm_transport vmm_ptrace_transport = {
	.name = "ptrace",
	.start = pt_start,
	.resume = pt_resume,
	.kill = pt_kill,
};
