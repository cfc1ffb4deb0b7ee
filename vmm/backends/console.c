/* console.c - the console backend, xenconsoled's work: the guest's output
 * ring to vm->console, the host's input (vm->input, which the front end
 * fills) into its input ring. Before the guest has used the ring, input is
 * for HYPERVISOR_console_io readers instead (CONSOLEIO_read takes it, and
 * VIRQ_CONSOLE tells them). */
#include "vmm/backends/backend.h"
#include "hypercalls/hc.h"

#include <stdio.h>
#include <string.h>

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

/* Before the guest has used the ring, input is console_io's: its readers
 * hear of new bytes through VIRQ_CONSOLE, once per arrival (as Xen's
 * serial input raises it). */
static int input_for_console_io(struct vm *vm)
{
	if (vm->input.fresh && vm->ev.virq_port[VIRQ_CONSOLE])
		hc_raise(vm, vm->ev.virq_port[VIRQ_CONSOLE]);
	vm->input.fresh = 0;
	return 0;
}

int be_console_input(struct vm *vm)
{
	struct xencons_interface *r = ring(vm);
	uint32_t cons, prod, done = 0;

	if (!vm->input.len)
		return 0;
	if (!vm->ev.console_used)
		return input_for_console_io(vm);
	vm->input.fresh = 0;
	/* the guest's consumer index once; the producer index is the
	 * backend's own, but lives in the guest's page: checked all the same */
	cons = __atomic_load_n(&r->in_cons, __ATOMIC_ACQUIRE);
	prod = __atomic_load_n(&r->in_prod, __ATOMIC_ACQUIRE);
	if (prod - cons > sizeof(r->in))
		return 0; /* indices the guest broke: nothing fits until it mends them */
	for (; done < vm->input.len && prod - cons < sizeof(r->in); done++, prod++)
		r->in[prod % sizeof(r->in)] = vm->input.buf[done];
	if (!done)
		return 0;
	__atomic_store_n(&r->in_prod, prod, __ATOMIC_RELEASE);
	vm_input_taken(vm, done);
	hc_raise(vm, LOADER_CONSOLE_EVTCHN);
	return (int)done;
}

uint32_t be_console_room(const struct vm *vm)
{
	const struct xencons_interface *r = (const struct xencons_interface *)
		(vm->mem + vm->lay.console_pfn * 4096);
	uint32_t cons = __atomic_load_n(&r->in_cons, __ATOMIC_ACQUIRE);
	uint32_t prod = __atomic_load_n(&r->in_prod, __ATOMIC_ACQUIRE);

	return prod - cons > sizeof(r->in) ? 0 : (uint32_t)sizeof(r->in) - (prod - cons);
}

static const struct vm_backend console_backend = { "console", console_out, NULL };

int be_console_init(struct vm *vm)
{
	return hc_bind_backend(vm, LOADER_CONSOLE_EVTCHN, &console_backend, NULL);
}
