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

/* One pass over the output ring, as xenconsoled makes: the guest's indices
 * read once, and a notification only when something was consumed (Mini-OS
 * answers every console event by reading its input ring and notifying
 * again: an event for nothing would never end). */
static void console_out(struct vm *vm, void *ctx)
{
	struct xencons_interface *r = ring(vm);
	uint32_t cons = __atomic_load_n(&r->out_cons, __ATOMIC_ACQUIRE);
	uint32_t prod = __atomic_load_n(&r->out_prod, __ATOMIC_ACQUIRE), from = cons;
	char buf[sizeof(r->out)];
	size_t n = 0;

	(void)ctx;
	if (prod == cons)
		return;
	if (prod - cons > sizeof(r->out))
		cons = prod - sizeof(r->out); /* a guest that overran its ring */
	for (; cons != prod; cons++)
		buf[n++] = r->out[cons % sizeof(r->out)];
	hc_console_ring_out(vm, buf, n);
	vm->stats.console_bytes += prod - from;
	__atomic_store_n(&r->out_cons, prod, __ATOMIC_RELEASE);
	hc_raise(vm, LOADER_CONSOLE_EVTCHN); /* the backend says: space again */
}

int be_console_input(struct vm *vm, const char *buf, size_t n)
{
	struct xencons_interface *r = ring(vm);
	uint32_t cons, prod;
	size_t done = 0;

	if (!vm->ev.console_used) {
		if (vm->ev.virq_port[VIRQ_CONSOLE])
			hc_raise(vm, vm->ev.virq_port[VIRQ_CONSOLE]); /* console_io readers */
		return 0;
	}
	cons = __atomic_load_n(&r->in_cons, __ATOMIC_ACQUIRE);
	prod = __atomic_load_n(&r->in_prod, __ATOMIC_ACQUIRE);
	if (prod - cons > sizeof(r->in))
		return 0; /* indices the guest broke: nothing fits until it mends them */
	for (; done < n && prod - cons < sizeof(r->in); done++, prod++)
		r->in[prod % sizeof(r->in)] = buf[done];
	if (!done)
		return 0;
	__atomic_store_n(&r->in_prod, prod, __ATOMIC_RELEASE);
	hc_raise(vm, LOADER_CONSOLE_EVTCHN);
	return (int)done;
}

static const struct vm_backend console_backend = { "console", console_out };

int be_console_init(struct vm *vm)
{
	return hc_bind_backend(vm, LOADER_CONSOLE_EVTCHN, &console_backend, NULL);
}
