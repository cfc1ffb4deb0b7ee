/*
 * futex.c - the seccomp transport: no ptrace after start-up.
 *
 * Guest system calls reach the stub as SIGSYS (syscall user dispatch),
 * hypercalls through the hypercall page by a direct call into the stub
 * (stub_abi.h: STUB_FASTCALL_ENTRY), faults as the signals they are; the
 * stub publishes each trap in the control page, sets its `req` word to
 * `resp` + 1 and wakes pvmm with a futex if pvmm said it sleeps; pvmm
 * answers, sets `resp` = `req` and, if the stub said it sleeps, bumps and
 * wakes the stub's word in the wake area (stub_abi.h: STUB_WAKE_ADDR).
 * With several guest processes the first answer to the process the vCPU
 * enters is the process it left's to wake (STUB_ACT_HANDOVER, hand_over
 * below; vmm/spaces.c says when, docs/architecture.md why). Each side
 * polls the other's word for a while before sleeping when they run on
 * different CPUs (the poll budget is --spin, 0 when pinned to one CPU,
 * where polling only burns the slice). pvmm's wait times out every 20 ms
 * to notice a guest process that died, and console input for a guest that
 * runs without handing off (and a signal to pvmm interrupts it).
 */
#include "vmm/vmm.h"

#include <errno.h>
#include <linux/futex.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static long futex(volatile uint32_t *word, int op, uint32_t val, const struct timespec *ts)
{
	return syscall(SYS_futex, word, op, val, ts, NULL, 0);
}

static int gone(struct vm *vm, struct vmm_stop *stop)
{
	struct vmm *v = vmm_of(vm);
	int status;
	pid_t r = waitpid(v->pid, &status, WNOHANG);

	if (r != v->pid)
		return 0;
	stop->kind = STOP_GONE;
	stop->status = status;
	v->pid = 0;
	return 1;
}

/* Each tick of a wait while the guest runs: input for its console (the
 * guest may poll its ring without a hypercall) interrupts it. */
static void console_tick(struct vm *vm)
{
	int fd, held = vmm_conin_running(vm, &fd);
	struct pollfd p = { fd, POLLIN, 0 };

	if (fd >= 0 || held)
		vmm_conin_woke(vm, fd >= 0 && poll(&p, 1, 0) == 1);
}

/* Wake the stub of process (space) (stub_abi.h: the wake area). */
static void wake(struct vmm *v, unsigned space)
{
	volatile uint32_t *w = &v->wake[space % STUB_SPACES].word;

	__atomic_add_fetch(w, 1, __ATOMIC_SEQ_CST);
	futex(w, FUTEX_WAKE, 1, NULL);
}

/* Answer request (req) of the stub at (c), process (space). */
static void answer(struct vmm *v, struct stub_ctrl *c, uint32_t req, unsigned space)
{
	__atomic_store_n(&c->resp, req, __ATOMIC_SEQ_CST);
	if (__atomic_load_n(&c->stub_sleeps, __ATOMIC_SEQ_CST))
		wake(v, space);
}

/* A request is pending while req != resp. pvmm waits for that level, never
 * for a particular value of req: the guest can write both words while it
 * runs, and a wait for one value is a wait the guest can make endless.
 * Whatever the words hold, when the stub asks (req = resp + 1, then it
 * sleeps until resp == req) either the request is pending here or resp
 * already answers it; nothing else writes the words while the stub waits,
 * because the guest runs on the stub's thread. */
static int wait_handoff(struct vm *vm, struct vmm_stop *stop)
{
	struct vmm *v = vmm_of(vm);
	volatile uint32_t *req = &v->ctrl->req, *resp = &v->ctrl->resp;
	const struct timespec tick = { 0, 20000000 };
	uint32_t seen;
	int waited = 0;

	for (;;) {
		for (uint32_t i = v->spin;
		     i && __atomic_load_n(req, __ATOMIC_ACQUIRE) == __atomic_load_n(resp, __ATOMIC_ACQUIRE);
		     i--)
			__builtin_ia32_pause();
		seen = __atomic_load_n(req, __ATOMIC_ACQUIRE);
		if (seen != __atomic_load_n(resp, __ATOMIC_ACQUIRE))
			break;
		/* a wait that ended with nothing to serve: the tick, or a
		 * signal; the guest process may have ended meanwhile */
		if (waited && gone(vm, stop))
			return 0;
		if (waited)
			console_tick(vm);
		/* a stub asleep with its answer given was not woken by the
		 * process that handed the vCPU over (it ended, or the guest
		 * wrote over the words): wake it */
		if (waited && __atomic_load_n(&v->ctrl->stub_sleeps, __ATOMIC_SEQ_CST) &&
		    __atomic_load_n(resp, __ATOMIC_SEQ_CST) == v->last_req)
			wake(v, v->proc_cur);
		/* announce the sleep, then look again (the stub stores req
		 * before it reads pvmm_sleeps); the guest can clear the word
		 * while it runs, which only leaves its hand-off to the tick */
		__atomic_store_n(&v->ctrl->pvmm_sleeps, 1, __ATOMIC_SEQ_CST);
		seen = __atomic_load_n(req, __ATOMIC_SEQ_CST);
		if (seen != __atomic_load_n(resp, __ATOMIC_SEQ_CST))
			break;
		futex(req, FUTEX_WAIT, seen, &tick); /* woken, timed out or interrupted */
		waited = 1;
	}
	if (__atomic_load_n(&v->ctrl->pvmm_sleeps, __ATOMIC_RELAXED)) /* a store only when it changes: */
		__atomic_store_n(&v->ctrl->pvmm_sleeps, 0, __ATOMIC_RELAXED); /* the stub's req line */
	v->last_req = seen;
	stop->kind = STOP_HANDOFF;
	vm->stats.handoffs++;
	return 0;
}

static int fx_start(struct vm *vm, struct vmm_stop *stop)
{
	int rc;

	rc = vmm_proc_spawn(vm, 0);
	if (rc < 0)
		return rc;
	return wait_handoff(vm, stop);
}

/* The first resume of a process the vCPU entered: the process it left
 * (which waits, awake, on the CPU the vCPU ran on) wakes it there, and
 * pvmm answers that one's request with STUB_ACT_HANDOVER. */
static void hand_over(struct vmm *v)
{
	struct stub_ctrl *from = v->handover.ctrl;

	v->handover.ctrl = NULL;
	__atomic_store_n(&v->ctrl->resp, v->last_req, __ATOMIC_SEQ_CST);
	from->nops = 0;
	from->handover = v->proc_cur;
	from->action = STUB_ACT_HANDOVER;
	answer(v, from, v->handover.last_req, v->handover.space);
}

static int fx_resume(struct vm *vm, struct vmm_stop *stop)
{
	struct vmm *v = vmm_of(vm);

	if (v->handover.ctrl)
		hand_over(v);
	else
		answer(v, v->ctrl, v->last_req, v->proc_cur);
	return wait_handoff(vm, stop);
}

static void fx_kill(struct vm *vm)
{
	struct vmm *v = vmm_of(vm);
	int status;

	if (v->pid <= 0)
		return;
	kill(v->pid, SIGKILL);
	while (waitpid(v->pid, &status, 0) < 0 && errno == EINTR)
		;
	v->pid = 0;
}

const struct vmm_transport vmm_futex_transport = {
	.name = "seccomp",
	.start = fx_start,
	.resume = fx_resume,
	.kill = fx_kill,
	.fastcall = STUB_FASTCALL_ENTRY,
	.wait = wait_handoff,
};
