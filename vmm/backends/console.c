/* console.c - the console backend, xenconsoled's work: the guest's output
 * ring to vm->console, host input into its input ring. Before the guest
 * has used the ring, input wakes HYPERVISOR_console_io readers instead
 * (their VIRQ_CONSOLE). */
#include "vmm/backends/backend.h"
#include "hypercalls/hc.h"

#include <stdio.h>

static struct xencons_interface *ring(struct vm *vm)
{
	return (struct xencons_interface *)(vm->mem + vm->lay.console_pfn * 4096);
}

static void console_out(struct vm *vm, void *ctx)
{
	struct xencons_interface *r = ring(vm);
	uint32_t cons = r->out_cons, prod = r->out_prod;
	char buf[sizeof(r->out)];
	size_t n = 0;

	(void)ctx;

	if (prod - cons > sizeof(r->out))
		cons = prod - sizeof(r->out); /* a guest that overran its ring */
	for (; cons != prod; cons++)
		buf[n++] = r->out[cons % sizeof(r->out)];
	hc_console_ring_out(vm, buf, n);
	vm->stats.console_bytes += prod - r->out_cons;
	r->out_cons = prod;
	hc_raise(vm, LOADER_CONSOLE_EVTCHN); /* the backend says: space again */
}

int be_console_input(struct vm *vm, const char *buf, size_t n)
{
	struct xencons_interface *r = ring(vm);
	size_t done = 0;

	if (!vm->ev.console_used) {
		if (vm->ev.virq_port[VIRQ_CONSOLE])
			hc_raise(vm, vm->ev.virq_port[VIRQ_CONSOLE]); /* console_io readers */
		return 0;
	}
	for (; done < n && r->in_prod - r->in_cons < sizeof(r->in); done++, r->in_prod++)
		r->in[r->in_prod % sizeof(r->in)] = buf[done];
	hc_raise(vm, LOADER_CONSOLE_EVTCHN);
	return (int)done;
}

static const struct vm_backend console_backend = { "console", console_out };

int be_console_init(struct vm *vm)
{
	return hc_bind_backend(vm, LOADER_CONSOLE_EVTCHN, &console_backend, NULL);
}
