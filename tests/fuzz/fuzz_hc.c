/* fuzz_hc - hypercalls with arbitrary numbers and arguments (pointers into
 * and around guest memory) against a small domain; invariants after each. */
#include <stdint.h>

#include "fuzz_common.h"
#include "hc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint64_t arg(const uint8_t *p)
{
	uint64_t v;
	memcpy(&v, p, 8);
	/* mostly addresses near the mapped guest range, sometimes anything */
	return (v & 3) ? FZ_BASE + (v >> 2) % (80 * 4096) : v;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vm *vm = fz_vm();

	hc_time_init(vm);
	for (size_t i = 0; i + 41 <= size && !vm->end; i += 41) {
		const uint8_t *p = data + i;
		struct stub_regs *r = &vm->vcpu.regs;
		r->rax = p[0] % 48;
		if (r->rax == XEN_HC_sched_op && p[1] % 4 == SCHEDOP_block)
			continue; /* blocking needs the front end's wait */
		r->rdi = p[1] % 16, r->rsi = arg(p + 1), r->rdx = arg(p + 9);
		r->r10 = arg(p + 17), r->r8 = arg(p + 25);
		if (p[33] & 1)
			r->rdi = arg(p + 33);
		vm->vcpu.regs.rsp = FZ_BASE + 60 * 4096;
		hc_dispatch(vm);
		vm->ev.blocked = 0;
		hc_events_tick(vm);
		if (!mmu_ptwr_pending(vm) && !vm->end)
			fz_check(vm);
	}
	return 0;
}
