/*
 * debugregs.c - the guest's hardware breakpoints, armed in its process.
 *
 * The breakpoints the guest enables in %dr7 (hypercalls/debugreg.c keeps
 * its registers by Xen's rules) become the guest process's own debug
 * registers, written with ptrace (PTRACE_POKEUSER of u_debugreg): Linux
 * keeps them per thread, as perf breakpoints of user space only, so they
 * fire on guest code and data and never in pvmm. A hit is a SIGTRAP to the
 * stub like any fault (si_code TRAP_HWBKPT, or TRAP_TRACE with a single
 * step); which breakpoint matched is the thread's %dr6 as ptrace reads it
 * (u_debugreg[6]).
 *
 * With the ptrace transport the process is in its hand-off stop whenever
 * pvmm looks. With the seccomp transport, which has no tracer, pvmm
 * attaches for the moment it writes or reads them (PTRACE_SEIZE and
 * PTRACE_INTERRUPT while the stub waits in its hand-off, then
 * PTRACE_DETACH): Linux keeps the breakpoints after the detach, and the
 * stub never knows. Why not perf_event_open(PERF_TYPE_BREAKPOINT) in the
 * stub: the seccomp filter would have to allow perf_event_open, ioctl and
 * fcntl to a guest that can subvert the stub (a wide kernel interface), and
 * Debian's perf_event_paranoid=3 and container runtimes' seccomp profiles
 * refuse perf_event_open to unprivileged processes, where ptrace between
 * a process and its child is what pvmm needs anyway.
 *
 * Some hosts accept the registers but never fire them (virtual machines
 * that do not pass debug registers through): the first time the guest
 * enables a breakpoint pvmm checks, on a child of its own, that an armed
 * instruction breakpoint fires, and says once on stderr when it does not.
 */
#include "vmm/vmm.h"
#include "hypercalls/hc.h"

#include <errno.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <unistd.h>

#define TRAP_TRACE_CODE 2 /* si_code of a single-step SIGTRAP */

/* Raw wrappers: 0 or -errno. */
static int __poke_dr(pid_t pid, unsigned n, uint64_t v)
{
	return ptrace(PTRACE_POKEUSER, pid, (void *)offsetof(struct user, u_debugreg[n]),
		      (void *)v) ? -errno : 0;
}

static int __peek_dr(pid_t pid, unsigned n, uint64_t *v)
{
	long r;

	errno = 0;
	r = ptrace(PTRACE_PEEKUSER, pid, (void *)offsetof(struct user, u_debugreg[n]), NULL);
	if (errno)
		return -errno;
	*v = (uint64_t)r;
	return 0;
}

static pid_t waitpid_retry(pid_t pid, int *status)
{
	pid_t r;

	while ((r = waitpid(pid, status, __WALL)) < 0 && errno == EINTR)
		;
	return r;
}

/* Disarm everything, place the addresses, then enable: Linux checks each
 * address against the length %dr7 gives it at the moment. */
static int arm(pid_t pid, void *arg)
{
	const struct vm_hostdr *h = arg;
	int rc = __poke_dr(pid, 7, 0);

	for (unsigned i = 0; i < 4 && !rc; i++)
		if (h->dr7 & (3u << (2 * i)))
			rc = __poke_dr(pid, i, h->addr[i]);
	if (!rc && h->dr7)
		rc = __poke_dr(pid, 7, h->dr7);
	return rc;
}

static int read_dr6(pid_t pid, void *arg)
{
	return __peek_dr(pid, 6, arg);
}

/* Attach to the guest process waiting in its hand-off (seccomp transport)
 * and stop it; a signal it stopped for instead is kept in (*sig) for the
 * detach to deliver. */
static int seize(struct vm *vm, int *sig)
{
	struct vmm *v = vmm_of(vm);
	int status, rc = 0;

	if (ptrace(PTRACE_SEIZE, v->pid, NULL, NULL))
		return -errno;
	if (ptrace(PTRACE_INTERRUPT, v->pid, NULL, NULL))
		rc = -errno;
	else if (waitpid_retry(v->pid, &status) < 0)
		rc = -errno;
	else if (!WIFSTOPPED(status)) {
		vmm_proc_describe_end(vm, status, 1);
		v->pid = 0;
		return -ESRCH;
	} else if (status >> 16 != PTRACE_EVENT_STOP) {
		*sig = WSTOPSIG(status);
	}
	if (rc)
		ptrace(PTRACE_DETACH, v->pid, NULL, NULL);
	return rc;
}

/* Run (fn) on the guest process stopped in its hand-off. */
static int stopped(struct vm *vm, int (*fn)(pid_t, void *), void *arg)
{
	struct vmm *v = vmm_of(vm);
	int sig = 0, rc;

	if (v->ctrl->transport == STUB_TRANSPORT_PTRACE)
		return fn(v->pid, arg);
	rc = seize(vm, &sig);
	if (rc)
		return rc;
	rc = fn(v->pid, arg);
	if (ptrace(PTRACE_DETACH, v->pid, NULL, (void *)(long)sig) && !rc)
		rc = -errno;
	return rc;
}

/* An instruction of pvmm's for the probe to break on. */
__attribute__((noinline)) static void probe_target(void)
{
	__asm__ volatile("" ::: "memory");
}

/* Whether an instruction breakpoint armed through ptrace fires on this
 * host: 1; -1 when the child ran through it; 0 when it could not be told
 * (ptrace refused: arming the guest's will say so). */
static int probe(void)
{
	struct vm_hostdr h = { .addr = { (uint64_t)(uintptr_t)probe_target }, .dr7 = 1 };
	int status = 0, verdict = 0;
	pid_t pid = fork(), w;

	if (pid == 0) {
		if (!ptrace(PTRACE_TRACEME, 0, NULL, NULL) && !raise(SIGSTOP))
			probe_target();
		_exit(0);
	}
	if (pid < 0)
		return 0;
	w = waitpid_retry(pid, &status);
	if (w == pid && WIFSTOPPED(status) && !arm(pid, &h) && !ptrace(PTRACE_CONT, pid, NULL, NULL)) {
		w = waitpid_retry(pid, &status);
		verdict = w == pid && WIFSTOPPED(status) && WSTOPSIG(status) == SIGTRAP ? 1 : -1;
	}
	if (w == pid && !WIFSTOPPED(status))
		return verdict; /* it exited: reaped */
	kill(pid, SIGKILL);
	while (waitpid_retry(pid, &status) == pid && !WIFEXITED(status) && !WIFSIGNALED(status))
		;
	return verdict;
}

static void check_host(struct vm *vm)
{
	struct vmm *v = vmm_of(vm);
	if (v->hostdr_probe)
		return;
	v->hostdr_probe = probe();
	if (!v->hostdr_probe)
		v->hostdr_probe = 1; /* not known: say nothing */
	else if (v->hostdr_probe < 0)
		fprintf(stderr, "pvmm: this host does not deliver hardware breakpoints (a virtual "
			"machine that does not pass debug registers through?): the guest's %%dr7 "
			"breakpoints are armed but will not fire\n");
}

int vmm_dr_sync(struct vm *vm)
{
	struct vmm *v = vmm_of(vm);
	struct vm_hostdr want;
	int rc;

	vm->vcpu.dr.changed = 0;
	hc_dr_host_config(vm, &want);
	if (!memcmp(&want, &v->hostdr, sizeof(want)))
		return 0;
	if (want.dr7)
		check_host(vm);
	rc = stopped(vm, arm, &want);
	if (rc && !vm->end) {
		vm_end_domain(vm, VM_HOST_ERROR, "cannot arm the guest's hardware "
			 "breakpoints in its process (ptrace of u_debugreg): %s", strerror(-rc));
	}
	if (!rc)
		v->hostdr = want;
	return rc;
}

uint32_t vmm_dr_hit(struct vm *vm, const struct stub_trap *t)
{
	uint32_t hit = t->code == TRAP_TRACE_CODE ? X86_DR6_BS : 0, armed = 0;
	uint64_t dr6 = X86_DR6_DEFAULT;
	int rc;

	for (unsigned i = 0; i < 4; i++)
		armed |= vmm_of(vm)->hostdr.dr7 & (3u << (2 * i)) ? 1u << i : 0;
	if (!armed)
		return hit; /* no breakpoint: a single step, or icebp */
	rc = stopped(vm, read_dr6, &dr6);
	if (rc && !vm->end) {
		vm_end_domain(vm, VM_HOST_ERROR, "cannot read the guest process's %%dr6 "
			 "(ptrace of u_debugreg): %s", strerror(-rc));
	}
	/* Linux reports it with the reserved bits set, as the CPU does */
	return (uint32_t)(dr6 ^ X86_DR6_DEFAULT) & (armed | X86_DR6_BS);
}
