/*
 * spaces.c - one guest process per address space.
 *
 * mmu/space.c decides which space the guest runs in (vm->mmu.space_cur);
 * here each space has its host process, started the first time the space
 * runs. All of them map the same memory file and run the same stub; the
 * vCPU moves between them at a hand-off: its registers are pvmm's anyway
 * (the control page), its FPU state goes through the FPU area they all
 * map (stub_abi.h), and what each process holds of its own (FS and GS
 * bases, %ds and %es, armed breakpoints) is brought in line as it is
 * entered. The running process's fields are struct vmm's own; entering
 * another swaps them with its slot in v->proc.
 */
#include "vmm/vmm.h"
#include "mmu/mmu.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

_Static_assert(MMU_SPACES_MAX <= STUB_SPACES, "a wake word for every guest process");
_Static_assert(STUB_SPACES * sizeof(struct stub_wake) <= STUB_WAKE_SIZE, "the wake words fit their page");

/* The results of the batch the stub ran, as the guest process reports them
 * in a page the guest can write. Every operation was checked
 * (mmu_check_op) before it was emitted, so a failure is the domain's: its
 * address space needs more host mappings than the host gives one process
 * (ENOMEM), or the guest wrote over the control page. The domain is
 * crashed with one line; pvmm's own host calls are what status 5 is for. */
int vmm_ops_check(struct vm *vm)
{
	struct vmm *v = vmm_of(vm);
	for (uint32_t i = 0; i < v->ctrl->nops && i < STUB_MAX_OPS; i++) {
		const struct stub_op *op = &v->ctrl->ops[i];
		if (op->result) {
			vm_end_domain(vm, VM_CRASH, "host mapping failed: op %u at %#llx+%#llx: %s%s", op->kind,
			      (unsigned long long)op->addr, (unsigned long long)op->len,
			      strerror((int)-op->result),
			      op->result == -ENOMEM
				      ? " (the guest's address space needs more host mappings than "
					"vm.max_map_count allows, or the host is out of memory)"
				      : " (pvmm checked this operation before it asked for it: "
					"the guest wrote over the stub's control page, or pvmm's "
					"checks missed a case)");
			return -EIO;
		}
	}
	v->ctrl->nops = 0;
	return 0;
}

/* The stub's hand-off after pvmm asked for one that ends in (event): any
 * other is the guest's forgery (only the guest can hand off mid-way), the
 * end of the process its death. 0 or -EIO (the domain ended). */
static int expect_event(struct vm *vm, int rc, const struct vmm_stop *stop, uint32_t event,
			const char *due)
{
	struct vmm *v = vmm_of(vm);

	if (rc)
		return rc;
	if (stop->kind == STOP_GONE) {
		vmm_proc_describe_end(vm, stop->status, 1);
		return -EIO;
	}
	if (stop->kind != STOP_HANDOFF || v->ctrl->trap.event != event) {
		vm_end_domain(vm, VM_CRASH, "the stub's control page holds event %u where %s was due: "
			      "the guest wrote over it", v->ctrl->trap.event, due);
		return -EIO;
	}
	return 0;
}

int vmm_ops_run(struct vm *vm, uint32_t action)
{
	struct vmm *v = vmm_of(vm);
	struct vmm_stop stop;
	int rc;

	v->ctrl->action = action;
	rc = v->transport->resume(vm, &stop);
	rc = expect_event(vm, rc, &stop, STUB_EV_OPS_DONE, "the end of a batch of host operations");
	return rc ? rc : vmm_ops_check(vm);
}

static void save_running(struct vmm *v, struct vmm_proc *p)
{
	p->pid = v->pid, p->ctrl = v->ctrl, p->ctrlfd = v->ctrlfd;
	p->doorbell = v->doorbell, p->last_req = v->last_req, p->hostdr = v->hostdr;
	memcpy(p->base, v->base, sizeof(p->base));
	memcpy(p->sel, v->sel, sizeof(p->sel));
}

static void load_running(struct vmm *v, const struct vmm_proc *p)
{
	v->pid = p->pid, v->ctrl = p->ctrl, v->ctrlfd = p->ctrlfd;
	v->doorbell = p->doorbell, v->last_req = p->last_req, v->hostdr = p->hostdr;
	memcpy(v->base, p->base, sizeof(v->base));
	memcpy(v->sel, p->sel, sizeof(v->sel));
}

int vmm_spaces_start(struct vm *vm)
{
	struct vmm *v = vmm_of(vm);
	struct vmm_stop stop;
	int rc = v->transport->start(vm, &stop);

	vmm_signals_watch(v->pid);
	if (rc)
		return rc;
	if (stop.kind != STOP_HANDOFF || v->ctrl->trap.event != STUB_EV_READY) {
		if (stop.kind == STOP_GONE)
			vmm_proc_describe_end(vm, stop.status, 0);
		return -EIO;
	}
	v->spaces.processes++;
	v->doorbell = v->ctrl->trap.doorbell;
	v->ctrl->nops = 0;
	/* several spaces: the state goes with the hypercall that leaves
	 * kernel mode most often, and with every trap from user mode */
	v->ctrl->fpu_nr = vm->mmu.nspaces > 1 ? XEN_HC_iret : ~0u;
	memset(v->base, 0, sizeof(v->base));
	memset(v->sel, 0, sizeof(v->sel));
	memset(&v->hostdr, 0, sizeof(v->hostdr));
	return vmm_proc_check_clean(vm);
}

/* Whether the process the vCPU leaves wakes the one entered: on the futex
 * transport, when the process left polls for its reply (it has a CPU of
 * its own) and is awake to be told; without polling it is asleep, and a
 * wake of it to wake the other would cost a second wake. */
static int hands_over(const struct vmm *v)
{
	return v->transport->wait && v->spin;
}

/* The process left hands the guest's FPU state over through the FPU area,
 * unless the area holds it already: saved at its last trap, or never
 * loaded because the process did not run since it was given it. Its
 * pending operations run first (in the same round trip). */
static int leave(struct vm *vm)
{
	struct vmm *v = vmm_of(vm);
	struct stub_ctrl *c = v->ctrl;
	int rc;

	if (c->fpu_load || c->fpu_saved) {
		c->fpu_load = 0;
		rc = c->nops ? vmm_ops_run(vm, STUB_ACT_MORE) : 0;
	} else {
		v->spaces.fpu_fetches++;
		rc = vmm_ops_run(vm, STUB_ACT_SAVE_FPU);
	}
	/* it waits for a reply that comes when it runs again: asleep, its
	 * CPU is free for the process entered; unless it hands the vCPU over
	 * (it wakes that one, then sleeps) */
	if (!hands_over(v))
		__atomic_store_n(&c->parked, 1, __ATOMIC_RELAXED);
	return rc;
}

/* A hand-over not yet made (the process entered was not resumed): the
 * process left waits in its own request, answered when it runs again. */
static void handover_cancel(struct vmm *v)
{
	if (!v->handover.ctrl)
		return;
	__atomic_store_n(&v->handover.ctrl->parked, 1, __ATOMIC_RELAXED);
	v->proc[v->handover.space].parking = 0;
	v->handover.ctrl = NULL;
}

/* The process entered was told to hand over when it was left: its PARKED
 * hand-off (made, or about to be) is what pvmm answers from now on. */
static int reclaim(struct vm *vm)
{
	struct vmm *v = vmm_of(vm);
	struct vmm_stop stop;

	v->proc[v->proc_cur].parking = 0;
	return expect_event(vm, v->transport->wait(vm, &stop), &stop, STUB_EV_PARKED, "the end of a hand-over");
}

/* The process entered holds what every process must agree on. */
static int align(struct vm *vm)
{
	struct vmm *v = vmm_of(vm);
	int rc = 0;

	for (unsigned i = 0; i < 2 && !rc; i++) {
		struct stub_op base = { .kind = STUB_OP_SET_BASE, .prot = i, .addr = v->want_base[i] };
		struct stub_op sel = { .kind = STUB_OP_SET_SEL, .prot = i, .addr = v->want_sel[i] };
		if (v->base[i] != v->want_base[i])
			rc = vm->mmu.emit(vm->mmu.emit_ctx, &base);
		if (!rc && v->sel[i] != v->want_sel[i])
			rc = vm->mmu.emit(vm->mmu.emit_ctx, &sel);
	}
	if (rc)
		return -EIO;
	return vmm_dr_sync(vm) ? -EIO : 0;
}

int vmm_spaces_enter(struct vm *vm)
{
	struct vmm *v = vmm_of(vm);
	unsigned to = vm->mmu.space_cur, from = v->proc_cur;
	int rc;

	if (to == v->proc_cur || vm->end)
		return 0;
	handover_cancel(v);
	rc = leave(vm);
	if (rc)
		return rc;
	save_running(v, &v->proc[from]);
	load_running(v, &v->proc[to]);
	v->proc_cur = to;
	if (hands_over(v)) /* the process left wakes this one, at its first resume */
		v->handover = (struct vmm_handover){ v->proc[from].ctrl, v->proc[from].last_req, from };
	v->proc[from].parking = hands_over(v);
	if (!v->pid) {
		v->ctrl = NULL, v->ctrlfd = -1;
		rc = vmm_spaces_start(vm);
		if (rc) {
			if (!vm->end)
				vm_end_domain(vm, VM_HOST_ERROR, "starting the guest process of another "
					      "address space: %s", vm->end_msg[0] ? vm->end_msg : "failed");
			return -EIO;
		}
	} else {
		vmm_signals_watch(v->pid);
		if (v->proc[to].parking && reclaim(vm))
			return -EIO;
	}
	v->ctrl->fpu_load = 1;
	v->ctrl->parked = 0;
	return align(vm);
}

void vmm_spaces_note_op(struct vm *vm, const struct stub_op *op)
{
	struct vmm *v = vmm_of(vm);

	if (op->kind == STUB_OP_SET_BASE && op->prot < 2)
		v->want_base[op->prot] = v->base[op->prot] = op->addr;
	else if (op->kind == STUB_OP_SET_SEL && op->prot < 2)
		v->want_sel[op->prot] = v->sel[op->prot] = op->addr;
}

void vmm_spaces_kill(struct vm *vm)
{
	struct vmm *v = vmm_of(vm);

	if (v->transport)
		v->transport->kill(vm);
	for (unsigned i = 0; i < MMU_SPACES_MAX; i++) {
		struct vmm_proc *p = &v->proc[i];
		int status;

		if (i == v->proc_cur)
			continue;
		if (p->pid > 0) {
			kill(p->pid, SIGKILL);
			while (waitpid(p->pid, &status, __WALL) < 0 && errno == EINTR)
				;
		}
		if (p->ctrl)
			munmap(p->ctrl, CTRL_SIZE);
		if (p->ctrlfd >= 0 && p->ctrl)
			close(p->ctrlfd);
		memset(p, 0, sizeof(*p));
	}
}
