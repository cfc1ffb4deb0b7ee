/* trace.c - --trace: one line per event, for people. */
#include "vmm.h"
#include "hc.h"

#include <stdio.h>
#include <string.h>

static const struct { const char *name; uint32_t mask; } categories[] = {
	{ "pt", TRACE_PT }, { "hypercall", TRACE_HYPERCALL }, { "fault", TRACE_FAULT },
	{ "event", TRACE_EVENT },
	{ "all", TRACE_PT | TRACE_HYPERCALL | TRACE_FAULT | TRACE_EVENT },
};

int vmm_trace_parse(const char *spec, uint32_t *mask)
{
	char buf[256], *save = NULL;

	if (strlen(spec) >= sizeof(buf))
		return -1;
	strcpy(buf, spec);
	*mask = 0;
	for (char *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		unsigned i;
		for (i = 0; i < sizeof(categories) / sizeof(*categories); i++)
			if (!strcmp(tok, categories[i].name))
				break;
		if (i == sizeof(categories) / sizeof(*categories))
			return -1;
		*mask |= categories[i].mask;
	}
	return *mask ? 0 : -1;
}

/* "0x1234000 P RW US A D NX" */
void vmm_format_pte(uint64_t e, char *buf, size_t len)
{
	static const struct { uint64_t bit; const char *name; } bits[] = {
		{ PTE_P, "P" }, { PTE_RW, "RW" }, { PTE_US, "US" }, { PTE_PWT, "PWT" },
		{ PTE_PCD, "PCD" }, { PTE_A, "A" }, { PTE_D, "D" }, { PTE_PSE, "PSE" },
		{ PTE_G, "G" }, { PTE_NX, "NX" },
	};
	size_t n = (size_t)snprintf(buf, len, "%#llx", (unsigned long long)(e & PTE_ADDR_MASK) >> 12);

	for (unsigned i = 0; i < sizeof(bits) / sizeof(*bits) && n < len; i++)
		if (e & bits[i].bit)
			n += (size_t)snprintf(buf + n, len - n, " %s", bits[i].name);
	if (!(e & PTE_P) && n < len)
		snprintf(buf + n, len - n, " (not present)");
}

static void pt_line(struct vm *vm, const struct vm_event *ev)
{
	FILE *f = vm->trace_out;
	char old[96], val[96];

	fprintf(f, "pt %-8s rip=%#llx addr=%#llx l1=%#llx", ev->what,
		(unsigned long long)vm->vcpu.regs.rip, (unsigned long long)ev->addr,
		(unsigned long long)ev->mfn);
	if (ev->idx >= 0) {
		vmm_format_pte(ev->old, old, sizeof(old));
		vmm_format_pte(ev->val, val, sizeof(val));
		fprintf(f, "[%d] old=[%s] new=[%s]", ev->idx, old, val);
	}
	if (!strcmp(ev->what, "resync"))
		fprintf(f, " changed=%llu", (unsigned long long)ev->count);
	if (ev->why)
		fprintf(f, " why=\"%s\"", ev->why);
	if (ev->insn)
		fprintf(f, " insn=\"%s\"", ev->insn);
	fputc('\n', f);
}

void vmm_trace_event(struct vm *vm, const struct vm_event *ev)
{
	if (ev->kind == TRACE_PT)
		pt_line(vm, ev);
}

void vmm_trace_hypercall(struct vm *vm, const struct stub_regs *in, int64_t result)
{
	const char *name = hc_name((unsigned)(in->rax < XEN_HC_COUNT ? in->rax : XEN_HC_COUNT));

	fprintf(vm->trace_out, "hypercall rip=%#llx %s", (unsigned long long)in->rip,
		name ? name : "unknown");
	if (!name)
		fprintf(vm->trace_out, "#%llu", (unsigned long long)in->rax);
	fprintf(vm->trace_out, "(%#llx, %#llx, %#llx, %#llx, %#llx) = %lld\n",
		(unsigned long long)in->rdi, (unsigned long long)in->rsi,
		(unsigned long long)in->rdx, (unsigned long long)in->r10,
		(unsigned long long)in->r8, (long long)result);
}

void vmm_trace_fault(struct vm *vm, const struct stub_trap *t, uint64_t err, const char *outcome)
{
	fprintf(vm->trace_out, "fault rip=%#llx signal=%d trap=%llu addr=%#llx error=%#llx %s\n",
		(unsigned long long)vm->vcpu.regs.rip, t->signo, (unsigned long long)t->trapno,
		(unsigned long long)t->addr, (unsigned long long)err, outcome);
}
