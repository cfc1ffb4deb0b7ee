/* fuzz_hc - hypercalls with arbitrary numbers and arguments (pointers into
 * and around guest memory, and any 64-bit value) and wrmsr of the MSRs pvmm
 * emulates, against a small domain; invariants after each, and every host
 * operation checked as a real host would (fz_host_check).
 *
 * Input: 41-byte entries up to one whose first byte is 0xff; the whole
 * input is also copied to guest frames 48-55 (FZ_DATA), so an entry can
 * point at structures that follow the terminator. An entry: p[0] the
 * hypercall (% 48; 0xf0-0xfe: wrmsr of the MSR p[1] >> 4 selects, value
 * arg(p + 9)); rdi (p[1] >> 4), rsi, rdx, r10, r8 from arg(p + 1), (p + 9),
 * (p + 17), (p + 25); rdi = arg(p + 33) instead when p[0] has bit 7 set. */
#include <stdint.h>

#include "fuzz_common.h"
#include "hypercalls/hc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FZ_DATA_FRAME 48u
#define FZ_DATA_MAX (8u * 4096u)

static uint64_t arg(const uint8_t *p)
{
	uint64_t v;
	memcpy(&v, p, 8);
	/* low bits 01, 10: near the mapped guest range; 00, 11: the value itself */
	return ((v & 3) == 1 || (v & 3) == 2) ? FZ_BASE + (v >> 2) % (80 * 4096) : v;
}

/* wrmsr at frame 41 in guest kernel mode, as the #GP from the guest would
 * reach pvmm. */
static void wrmsr(struct vm *vm, const uint8_t *p)
{
	static const uint32_t msrs[4] = { 0xc0000100u, 0xc0000101u, 0xc0000102u, 0xc0000080u };
	struct stub_regs *r = &vm->vcpu.regs;
	uint64_t v = arg(p + 9);

	r->rcx = msrs[(p[1] >> 4) & 3];
	r->rax = (uint32_t)v, r->rdx = v >> 32;
	r->rip = FZ_BASE + 41 * 4096;
	if (hc_privop(vm, 0) > 0 && r->rip != FZ_BASE + 41 * 4096 + 2)
		abort(); /* emulated: stepped over the two bytes */
	r->rip = FZ_BASE + 40 * 4096;
	hc_sync(vm);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vm *vm = fz_vm();

	memcpy(vm->mem + FZ_DATA_FRAME * 4096ull, data, size < FZ_DATA_MAX ? size : FZ_DATA_MAX);
	hc_time_init(vm);
	for (size_t i = 0; i + 41 <= size && !vm->end && data[i] != 0xff; i += 41) {
		const uint8_t *p = data + i;
		struct stub_regs *r = &vm->vcpu.regs;
		vm->vcpu.regs.rsp = FZ_BASE + 60 * 4096;
		if (p[0] >= 0xf0) {
			wrmsr(vm, p);
		} else {
			r->rax = p[0] % 48;
			if (r->rax == XEN_HC_sched_op && (p[1] >> 4) % 4 == SCHEDOP_block)
				continue; /* blocking needs the front end's wait */
			r->rdi = p[1] >> 4, r->rsi = arg(p + 1), r->rdx = arg(p + 9);
			r->r10 = arg(p + 17), r->r8 = arg(p + 25);
			if (p[0] & 0x80)
				r->rdi = arg(p + 33);
			hc_dispatch(vm);
		}
		fz_no_host_error(vm);
		vm->ev.blocked = 0;
		hc_events_tick(vm);
		if (!mmu_ptwr_pending(vm) && !vm->end)
			fz_check(vm);
	}
	return 0;
}
